/* Text extraction: plain text and HTML to a title, a body text and the
 * page's metadata (meta.h finds it).
 *
 * Output strings are always valid UTF-8, malloc'd and owned by the px_doc;
 * px_doc_free releases them. On error the doc is left empty. This is the
 * density-based extractor; charsets come later behind the same two
 * functions. */
#ifndef PX_EXTRACT_H
#define PX_EXTRACT_H

#include <stddef.h>

/* "YYYY-MM-DD", or "YYYY-MM-DDTHH:MM:SS" plus "+HH:MM"/"-HH:MM" when the
 * source gave a time (and an offset): 25 bytes and the NUL at most. */
#define PX_DATE_LEN 32

/* A date and where it was found. Never the fetch time; never after now
 * plus a day, never before 1990. */
typedef struct px_date {
    char value[PX_DATE_LEN]; /* "" when no date was found */
    /* "json-ld", "meta", "time", "url" or "text"; static, NULL when none */
    const char *source;
} px_date;

typedef struct px_doc {
    char *title;
    size_t title_len;
    char *text; /* paragraphs separated by "\n" */
    size_t text_len;
    /* Why text is empty when the page is not an article ("no_article_text"),
     * else NULL. A static string: not owned, not freed. */
    const char *reason;
    /* Metadata (meta.h): NULL, 0 or an empty date when the page has none. */
    char **authors; /* person names, deduplicated, in page order */
    size_t n_authors;
    px_date published;
    px_date modified;
    char *canonical_url; /* absolute http(s) */
    char *lang;          /* BCP 47-like: "en", "en-US" */
    char *site_name;
    char *description;
} px_doc;

/* First non-blank line is the title; the rest, from the next non-blank
 * line on, is the text, kept byte for byte (so offsets into it match the
 * source file after the title). Invalid UTF-8 bytes become U+FFFD. A
 * dateline and a byline near the top, and author notes at the end, fill
 * published and authors (px_meta_plain) without changing title or text.
 * 0 or NL_ENOMEM. */
int px_plain(const char *buf, size_t len, px_doc *doc, char *errbuf, size_t errlen);

/* Parses HTML with libxml2 (no network, recovery on, no depth limit),
 * finds the article's content (the densest container of paragraphs, with
 * link density and class/id hints) and keeps its headings, paragraphs,
 * lists and block quotes in reading order, one paragraph a line; navigation,
 * menus, comments, share and related-link boxes, banners and captions are
 * dropped. A page that is not an article gets an empty text and doc->reason.
 * The metadata comes from the same tree (px_meta_html); the title is the
 * best of og:title, JSON-LD headline, <title> and <h1>.
 * libxml2 allocates from a per-thread arena for the duration of the call
 * (xmlarena.h): it swaps libxml2's process-wide allocation hooks (see there
 * for what that means for other threads and for callers with hooks of
 * their own) and calls xmlInitParser itself.
 * 0, NL_EINVAL (nothing parseable), NL_ETOOBIG or NL_ENOMEM. */
int px_html(const char *buf, size_t len, const char *url, px_doc *doc, char *errbuf, size_t errlen);

/* px_html for a body already converted to UTF-8 (px_to_utf8 in charset.h):
 * libxml2 is told the bytes are UTF-8 and ignores any <meta charset> or
 * http-equiv in them, which describe the bytes before conversion. Same
 * contract as px_html otherwise. */
int px_html_utf8(const char *buf, size_t len, const char *url, px_doc *doc, char *errbuf,
                 size_t errlen);

void px_doc_free(px_doc *doc);

/* 1 (the default): px_html_utf8 removes script and style contents (JSON-LD
 * kept) before the parse where the markup around them is simple enough to
 * be sure of libxml2's reading (extract.c, "a lighter parse"); the px_doc
 * is the same either way. 0 turns that off: for tests that compare. */
extern int px_strip_raw;

#endif
