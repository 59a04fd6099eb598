/* Page metadata: title, authors, published and modified dates, canonical
 * URL, language, site name and description.
 *
 * Ownership: the functions read the tree or text they are given and never
 * keep a pointer into it; what they find is malloc'd into the px_doc, which
 * owns it (px_doc_free). On NL_ENOMEM the metadata fields found so far stay
 * in the doc (px_doc_free still releases them); nothing else is changed.
 *
 * Dates: JSON-LD, then meta tags, then <time>, then the URL, then the text
 * near the headline, each source only when the ones before it gave nothing
 * (why in meta.c). A date after now plus one day (clock skew, time zones)
 * or before 1990 is dropped as impossible or implausible for a news page,
 * and the next source is tried. The fetch time is never used. */
#ifndef PX_META_H
#define PX_META_H

#include "extract.h"

#include <libxml/tree.h>
#include <stddef.h>
#include <time.h>

/* Fills the doc's metadata from a parsed HTML tree. url (may be NULL) is
 * the page's address, for URL dates and relative canonical links; content
 * (may be NULL) the article's root as px_html chose it, which makes a
 * <time> inside it count more. doc->title is replaced when a better title
 * is found. now is the clock the dates are checked against (time(NULL) in
 * the daemon). 0 or NL_ENOMEM. */
int px_meta_html(xmlDoc *hd, const char *url, xmlNode *content, time_t now, px_doc *doc);

/* Fills published and authors of a plain-text doc from its title line and
 * text: a dateline ("21 June 2024, NIICE Commentary 9282") as the title or
 * the first text line, a byline ("By Jane Doe", "Rekha J") right after it,
 * and author notes ("Jane Doe is a research fellow at ...") among the last
 * lines. 0 or NL_ENOMEM. */
int px_meta_plain(px_doc *doc, time_t now);

/* A machine-written date (ISO 8601, "2024-06-21 10:00:00", RFC 2822, or a
 * written one like "June 21, 2024") as out: "YYYY-MM-DD" or
 * "YYYY-MM-DDTHH:MM:SS[+HH:MM]" ("Z" becomes "+00:00"). 0, or -1 if s is
 * not a date, or one after now + 1 day or before 1990 (out is then ""). */
int px_date_parse(const char *s, size_t n, time_t now, char out[PX_DATE_LEN]);

/* The first written date in s[0..n) ("21 June 2024", "June 21, 2024",
 * "Jun. 21st, 2024", "2024-06-21") that passes the same checks, as
 * "YYYY-MM-DD". 0 and *at its offset, or -1. */
int px_date_find(const char *s, size_t n, time_t now, char out[PX_DATE_LEN], size_t *at);

/* A date in a URL's path: /2024/06/21/, /2024-06-21, /20240621/ (a year
 * and month alone is not a date). 0 or -1. */
int px_date_url(const char *url, time_t now, char out[PX_DATE_LEN]);

#endif
