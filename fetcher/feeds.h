/* Feeds and sitemaps: RSS 2.0 (and 0.9x, and RSS 1.0 RDF), Atom 1.0, XML
 * sitemaps (<urlset>, with Google News <news:news>) and sitemap indexes,
 * parsed with libxml2 into a list of entries.
 *
 * The parser is hardened for hostile documents: no network
 * (XML_PARSE_NONET), no DTD loading, no entity substitution, no
 * XML_PARSE_HUGE (libxml2's own depth and text limits stay on), a size cap
 * (FX_FEED_MAX_BYTES) and an entry cap (FX_FEED_MAX_ENTRIES, the sitemap
 * protocol's 50,000; more are dropped and counted). A document that
 * declares entities is refused outright (feeds have no use for them; this
 * makes billion-laughs and external-entity documents harmless), and entity
 * references are never expanded when text is read.
 *
 * Each entry's URL is resolved against the document's base (the feed's URL,
 * and xml:base where given) and normalised with url.h; an entry without a
 * usable http(s) URL is skipped and counted in n_skipped. Titles are the
 * element's text with whitespace collapsed (markup in Atom "html" titles
 * is left as text). Dates are ISO 8601 in UTC ("2024-05-01T12:00:00Z"),
 * or "2024-05-01" when only a date is given, or NULL when missing or
 * unparseable.
 *
 * Ownership: fx_feed_parse returns a new fx_feed in *out that the caller
 * frees with fx_feed_free; the entries and their strings belong to it.
 * Errors: NL_EINVAL with the reason in errbuf ("not XML: line 3: ...",
 * "not a feed or sitemap: root <html>", "entity declarations are not
 * allowed"), NL_ETOOBIG over FX_FEED_MAX_BYTES, NL_ENOMEM. Thread-safe as
 * libxml2 is (xmlInitParser() once from the main thread first). */
#ifndef FX_FEEDS_H
#define FX_FEEDS_H

#include <stddef.h>

#define FX_FEED_MAX_BYTES (50 * 1024 * 1024)
#define FX_FEED_MAX_ENTRIES 50000
/* Longest title kept (bytes; longer ones are cut on a UTF-8 boundary). */
#define FX_FEED_MAX_TITLE 2048
/* Room for an ISO 8601 date as written here, with its NUL. */
#define FX_DATE_LEN 21

typedef enum {
    FX_FEED_RSS,          /* <rss>, and RSS 1.0 <rdf:RDF> */
    FX_FEED_ATOM,         /* <feed> */
    FX_FEED_SITEMAP,      /* <urlset> */
    FX_FEED_SITEMAPINDEX, /* <sitemapindex> */
} fx_feed_kind;

typedef enum {
    FX_ENTRY_ARTICLE, /* a page to fetch */
    FX_ENTRY_SITEMAP, /* another sitemap (from a sitemap index) */
} fx_entry_kind;

typedef struct fx_entry {
    char *url;   /* normalised, never NULL */
    char *title; /* or NULL */
    char *date;  /* ISO 8601, or NULL */
    fx_entry_kind kind;
} fx_entry;

typedef struct fx_feed {
    fx_feed_kind kind;
    fx_entry *entries;
    size_t n_entries;
    size_t n_skipped; /* entries without a usable URL */
    size_t n_dropped; /* entries past FX_FEED_MAX_ENTRIES */
} fx_feed;

/* Parses body[0..len). feed_url (the URL the document was fetched from,
 * after redirects) is the base for relative links; NULL allows only
 * absolute ones. */
int fx_feed_parse(const char *body, size_t len, const char *feed_url, fx_feed **out, char *errbuf,
                  size_t errlen);
void fx_feed_free(fx_feed *feed);

/* "rss", "atom", "sitemap", "sitemapindex". */
const char *fx_feed_kind_name(fx_feed_kind kind);

/* An RFC 822/2822 date ("Sat, 07 Sep 2002 00:00:01 GMT", "7 Sep 02 10:00
 * +0200", zone names GMT/UT/UTC/Z/EST/EDT/CST/CDT/MST/MDT/PST/PDT; a missing
 * or military zone is UTC) into out as ISO 8601 UTC. 0 or NL_EINVAL. */
int fx_date_rfc822(const char *s, char out[FX_DATE_LEN]);

/* An RFC 3339 / W3C datetime ("2024-05-01T12:00:00.5+02:00",
 * "2024-05-01T12:00Z", "2024-05-01") into out: UTC with seconds, or the
 * date alone when no time is given. 0 or NL_EINVAL. */
int fx_date_rfc3339(const char *s, char out[FX_DATE_LEN]);

#endif
