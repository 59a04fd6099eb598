/* The sources file (what the fetcher polls) and the adaptive poll interval.
 *
 * A sources file is a JSON object (format in the README, "Sources
 * (fetcher)"): {"sources": [{"name", "kind", "url" | "urls",
 * "poll_interval_s", "min_poll_interval_s", "max_poll_interval_s",
 * "user_agent", "delay_ms", "allow", "deny"}], "defaults": {...}}. Every
 * entry is validated on load, and the first error names the entry and the
 * field: "sources F: sources[2] (bbc).deny[0]: bad regex: ...". Unknown
 * fields are errors; fields starting with '_' are comments. URLs are
 * normalised with url.h; allow/deny are POSIX extended regular
 * expressions, matched against the normalised URL.
 *
 * Ownership: fx_sources_load and fx_sources_parse return a new fx_sources
 * in *out that the caller frees with fx_sources_free; everything in it
 * belongs to it and is read-only (it may be shared between threads).
 * Errors: NL_EINVAL with the reason in errbuf, NL_EIO (the file cannot be
 * read), NL_ENOMEM; *out is NULL then. */
#ifndef FX_SOURCES_H
#define FX_SOURCES_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    FX_SRC_RSS,
    FX_SRC_ATOM,
    FX_SRC_SITEMAP,
    FX_SRC_URLS,   /* a plain list of article URLs */
    FX_SRC_ROBOTS, /* the sitemaps announced in the site's robots.txt */
} fx_source_kind;

/* Built-in defaults and bounds (seconds, milliseconds). */
#define FX_POLL_DEFAULT_S 900
#define FX_POLL_MIN_DEFAULT_S 60
#define FX_POLL_MAX_DEFAULT_S 86400
#define FX_POLL_FLOOR_S 10
#define FX_POLL_CEILING_S (7 * 86400)
#define FX_DELAY_DEFAULT_MS 1000
#define FX_DELAY_MAX_MS 600000

typedef struct fx_source {
    char *name;
    fx_source_kind kind;
    char **urls; /* normalised; for robots, the site's robots.txt URL */
    size_t n_urls;
    int64_t poll_interval_s; /* the first interval */
    int64_t min_interval_s, max_interval_s;
    char *user_agent; /* NULL: the fetcher's own */
    int64_t delay_ms; /* between two requests to the source's host */
    regex_t *allow;   /* none: every URL */
    size_t n_allow;
    regex_t *deny;
    size_t n_deny;
} fx_source;

typedef struct fx_sources {
    fx_source *sources;
    size_t n;
} fx_sources;

int fx_sources_load(const char *path, fx_sources **out, char *errbuf, size_t errlen);
/* The same from memory; label names the text in errors. */
int fx_sources_parse(const char *json, size_t len, const char *label, fx_sources **out,
                     char *errbuf, size_t errlen);
void fx_sources_free(fx_sources *s);

/* "rss", "atom", "sitemap", "urls", "robots". */
const char *fx_source_kind_name(fx_source_kind kind);

/* 1 if the source may fetch url: no deny pattern matches it, and an allow
 * pattern does if there are any. Else 0. */
int fx_source_url_allowed(const fx_source *src, const char *url);

/* The adaptive poll interval. After a poll that found new items the
 * interval halves, after an empty poll it grows by half (1.5x, at least
 * one second); the result is always within [min_s, max_s] (the interval
 * is clamped into the bounds first). A busy source converges on min_s
 * within a few polls, a quiet one backs off to max_s geometrically. */
int64_t fx_poll_next(int64_t interval_s, uint64_t new_items, int64_t min_s, int64_t max_s);

/* fx_poll_next applied over a history of new-item counts (oldest first)
 * from start_s: the interval a source with that history polls at next. */
int64_t fx_poll_interval(int64_t start_s, const uint64_t *new_items, size_t n, int64_t min_s,
                         int64_t max_s);

#endif
