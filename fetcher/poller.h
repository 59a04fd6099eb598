/* The poller: polls the sources of a sources file (sources.h) through the
 * engine and hands each new article URL to a callback.
 *
 * A poll of a source: rss/atom/sitemap fetch the source's URL with a
 * conditional GET (the ETag, Last-Modified and body hash of the last
 * response, per document); robots fetches the site's robots.txt and then
 * every sitemap it announces; a sitemap index leads to its sitemaps (up to
 * FX_POLL_MAX_DEPTH levels); urls needs no fetch. Each document is parsed
 * with feeds.h; each article URL (already normalised) that passes the
 * source's allow/deny patterns and is not yet known to the source is new:
 * it is remembered (the source's known set, at most FX_KNOWN_MAX hashes,
 * the oldest half dropped past that) and given to the emit callback.
 *
 * A document that cannot be fetched or parsed is logged once, as a warning
 * with the reason ("source_broken"), and counts against the source's
 * health; other sources go on. When a poll ends the next interval is
 * fx_poll_next(interval, new items, bounds), and a source that has
 * produced nothing new for fetcher.stale_warn_s gets a "source_stale"
 * warning (again at most once per that period).
 *
 * State (per source: interval, next poll, validators, known hashes,
 * health) is kept in memory and saved with fx_poller_save as one JSON file,
 * written atomically; a missing or unreadable state file is a fresh start.
 *
 * Ownership: the poller borrows cfg, srcs and the engine (they must outlive
 * it). Its requests carry kinds FX_KIND_FEED, FX_KIND_SITEMAP and
 * FX_KIND_ROBOTS and a `user` of its own: the engine's done callback hands
 * results of those kinds to fx_poller_on_result. Single-threaded. */
#ifndef FX_POLLER_H
#define FX_POLLER_H

#include "engine.h"
#include "sources.h"

#include <stddef.h>
#include <stdint.h>

#define FX_POLL_MAX_DEPTH 3
#define FX_KNOWN_MAX 200000

/* A new article URL (normalised) of source src (index i); hash is
 * fx_seen_hash(url). Returns 0 if taken, or nonzero if the URL could not
 * be handed on (the poller then forgets it, so a later poll offers it
 * again). */
typedef int (*fx_poller_emit_fn)(void *ctx, size_t i, const fx_source *src, const char *url,
                                 uint64_t hash);

typedef struct fx_poller fx_poller;

/* A poller over srcs; state_path (or NULL: nothing persisted) is loaded
 * if it exists. NULL on allocation failure. */
fx_poller *fx_poller_new(const nl_config *cfg, const fx_sources *srcs, fx_engine *eng,
                         const char *state_path, fx_poller_emit_fn emit, void *ctx);
void fx_poller_free(fx_poller *p);

/* Starts a poll of every source that is due at now_ms (all of them if
 * force), unless one is already running for it. Returns how many started. */
size_t fx_poller_start_due(fx_poller *p, int64_t now_ms, int force);

/* A result of one of the poller's requests. */
void fx_poller_on_result(fx_poller *p, const fx_result *res);

/* 1 while a poll is running (requests outstanding), else 0. */
int fx_poller_busy(const fx_poller *p);

/* When the next source is due (ms since the epoch), INT64_MAX if none. */
int64_t fx_poller_next_due_ms(const fx_poller *p);

/* The source forgets url (its delivery failed), so it is new again. */
void fx_poller_forget(fx_poller *p, size_t i, uint64_t hash);

/* Polls finished so far, and how many of them failed (the source's own
 * document could not be fetched or parsed). */
void fx_poller_counts(const fx_poller *p, size_t *polls, size_t *failed);

/* Feeds the registry m (nl_metrics.h) from now on, one series per source
 * of the file (label source; its value capped and escaped by the registry):
 *   newsline_fetcher_source_last_success_timestamp_seconds  gauge (0: never)
 *   newsline_fetcher_source_consecutive_failures            gauge
 *   newsline_fetcher_source_polls_total{result="ok"|"failed"} counter
 *   newsline_fetcher_source_items_new_total                  counter
 *   newsline_fetcher_source_last_error_info{code}            gauge, 1
 * The first two start from the loaded state; last_error_info appears at
 * the first error seen by this process and keeps one series per source
 * (its code replaced when another error comes). Call it from the poller's
 * thread (or before it starts); m must outlive the poller. */
struct nl_metrics;
void fx_poller_set_metrics(fx_poller *p, struct nl_metrics *m);

/* Writes the state file (temp file, fsync, rename, directory fsync). 0, or
 * NL_EIO / NL_ENOMEM with the reason in errbuf. */
int fx_poller_save(fx_poller *p, char *errbuf, size_t errlen);

#endif
