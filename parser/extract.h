/* Text extraction: plain text and HTML to a title and a body text.
 *
 * Output strings are always valid UTF-8, malloc'd and owned by the px_doc;
 * px_doc_free releases them. On error the doc is left empty. This is the
 * walking-skeleton extractor: boilerplate removal by element name only.
 * The full extractor (charsets, metadata, density-based boilerplate
 * removal) plugs in behind the same two functions. */
#ifndef PX_EXTRACT_H
#define PX_EXTRACT_H

#include <stddef.h>

typedef struct px_doc {
    char *title;
    size_t title_len;
    char *text; /* paragraphs separated by "\n" */
    size_t text_len;
} px_doc;

/* First non-blank line is the title; the rest, from the next non-blank
 * line on, is the text, kept byte for byte (so offsets into it match the
 * source file after the title). Invalid UTF-8 bytes become U+FFFD.
 * 0 or NL_ENOMEM. */
int px_plain(const char *buf, size_t len, px_doc *doc, char *errbuf, size_t errlen);

/* Parses HTML with libxml2 (no network, recovery on) and keeps the text of
 * block elements in reading order, dropping scripts, styles, navigation,
 * headers, footers, asides and forms. 0, NL_EINVAL (nothing parseable) or
 * NL_ENOMEM. */
int px_html(const char *buf, size_t len, const char *url, px_doc *doc, char *errbuf, size_t errlen);

void px_doc_free(px_doc *doc);

#endif
