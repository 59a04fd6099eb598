/* robots.txt per RFC 9309: parsing, matching, Crawl-delay and Sitemap.
 *
 * Parsing: lines end in LF, CR or CRLF; '#' starts a comment; a line is
 * "key: value" with the key case-insensitive (user-agent, allow, disallow,
 * crawl-delay, sitemap); anything else is ignored. Consecutive user-agent
 * lines open one group whose rules follow; rules before any user-agent
 * line are ignored. Only the first FX_ROBOTS_MAX bytes are parsed (the
 * RFC's 500 KiB floor); the rest is ignored, as the RFC allows.
 *
 * Matching: the groups whose user-agent matches the crawler's product
 * token (case-insensitive; "newsline" for "newsline/0.1 (+https://...)")
 * are merged; if none, the "*" groups; if none, everything is allowed.
 * Among the rules matching the path (path and query of the URL), the one
 * with the longest pattern wins; Allow wins a tie. '*' matches any run of
 * characters, a final '$' anchors the end. Patterns and paths are compared
 * after the same percent-encoding normalisation as url.h (upper-case hex,
 * unreserved characters decoded, non-ASCII encoded). "/robots.txt" is
 * always allowed. An empty Disallow or Allow is no rule.
 *
 * Ownership: fx_robots_parse and fx_robots_for_status return a new
 * fx_robots in *out that the caller frees with fx_robots_free; strings
 * returned by the accessors belong to it. The object is read-only after
 * creation and may be shared between threads. Errors: NL_ENOMEM (errbuf
 * says so), NL_EINVAL for a 2xx status passed to fx_robots_for_status. */
#ifndef FX_ROBOTS_H
#define FX_ROBOTS_H

#include <stddef.h>
#include <stdint.h>

#define FX_ROBOTS_MAX (500 * 1024)

typedef struct fx_robots fx_robots;

/* Parses body[0..len) (not NUL-terminated; NUL bytes end a line). */
int fx_robots_parse(const char *body, size_t len, fx_robots **out, char *errbuf, size_t errlen);

/* What a robots.txt fetch that did not return a body to parse means:
 * 4xx (and redirects past the limit, 3xx): allow all; 5xx, or status 0
 * for unreachable (DNS, connection, timeout): disallow all, until a
 * later fetch succeeds. A 2xx status is NL_EINVAL: parse the body. */
int fx_robots_for_status(int http_status, fx_robots **out, char *errbuf, size_t errlen);

void fx_robots_free(fx_robots *r);

/* 1 if the crawler with this user agent may fetch path_and_query (a path
 * starting with '/', with the query if any; "" means "/"), else 0. */
int fx_robots_allowed(const fx_robots *r, const char *user_agent, const char *path_and_query);

/* The same for a full URL (its path and query are matched); 0 for a URL
 * without a path. */
int fx_robots_allowed_url(const fx_robots *r, const char *user_agent, const char *url);

/* The Crawl-delay of the group that applies to user_agent, in
 * milliseconds, or -1 if none is given. Fractions are kept ("0.5" is
 * 500); values over a day are capped at a day. */
int64_t fx_robots_crawl_delay_ms(const fx_robots *r, const char *user_agent);

/* The Sitemap lines (global, in file order, as written). */
size_t fx_robots_n_sitemaps(const fx_robots *r);
const char *fx_robots_sitemap(const fx_robots *r, size_t i);

/* 1 if the body was longer than FX_ROBOTS_MAX and its tail ignored. */
int fx_robots_truncated(const fx_robots *r);

/* The product token of a user agent ("newsline" for "newsline/0.1
 * (+https://x)"): the leading run of letters, '_' and '-', copied into
 * out[size] (cut to fit). */
void fx_robots_product_token(const char *user_agent, char *out, size_t size);

/* The robots.txt URL of the site of an http(s) URL, normalised (new
 * string in *out). Errors as fx_url_resolve. */
int fx_robots_url(const char *site_url, char **out, char *errbuf, size_t errlen);

#endif
