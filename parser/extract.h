/* Text extraction: plain text and HTML to a title and a body text.
 *
 * Output strings are always valid UTF-8, malloc'd and owned by the px_doc;
 * px_doc_free releases them. On error the doc is left empty. This is the
 * density-based extractor; charsets and metadata come later behind the
 * same two functions. */
#ifndef PX_EXTRACT_H
#define PX_EXTRACT_H

#include <stddef.h>

typedef struct px_doc {
    char *title;
    size_t title_len;
    char *text; /* paragraphs separated by "\n" */
    size_t text_len;
    /* Why text is empty when the page is not an article ("no_article_text"),
     * else NULL. A static string: not owned, not freed. */
    const char *reason;
} px_doc;

/* First non-blank line is the title; the rest, from the next non-blank
 * line on, is the text, kept byte for byte (so offsets into it match the
 * source file after the title). Invalid UTF-8 bytes become U+FFFD.
 * 0 or NL_ENOMEM. */
int px_plain(const char *buf, size_t len, px_doc *doc, char *errbuf, size_t errlen);

/* Parses HTML with libxml2 (no network, recovery on, no depth limit),
 * finds the article's content (the densest container of paragraphs, with
 * link density and class/id hints) and keeps its headings, paragraphs,
 * lists and block quotes in reading order, one paragraph a line; navigation,
 * menus, comments, share and related-link boxes, banners and captions are
 * dropped. A page that is not an article gets an empty text and doc->reason.
 * 0, NL_EINVAL (nothing parseable), NL_ETOOBIG or NL_ENOMEM. */
int px_html(const char *buf, size_t len, const char *url, px_doc *doc, char *errbuf, size_t errlen);

/* px_html for a body already converted to UTF-8 (px_to_utf8 in charset.h):
 * libxml2 is told the bytes are UTF-8 and ignores any <meta charset> or
 * http-equiv in them, which describe the bytes before conversion. Same
 * contract as px_html otherwise. */
int px_html_utf8(const char *buf, size_t len, const char *url, px_doc *doc, char *errbuf,
                 size_t errlen);

void px_doc_free(px_doc *doc);

#endif
