/* Wiring the poller (poller.h) to its two outlets.
 *
 * fx_run_once: `newsline-fetcher --once`. Polls every source of
 * fetcher.sources once and fetches each new article directly through the
 * same engine (no fetch topic): each raw record is printed as NDJSON on
 * stdout, or with produce set, sent to topics.raw and acknowledged. A URL
 * is recorded in the local seen-set (<fetcher.state_dir>/seen.local) once
 * its record is out (flushed to stdout, or acknowledged by the broker);
 * URLs already there are skipped. The sources state is saved at the end.
 *
 * fx_discover_*: the daemon's poller, on a thread of its own with its own
 * engine and producer: each new article URL becomes a newsline.fetch/1
 * record on topics.fetch keyed by the URL, so the fetchers of the consumer
 * group share the fetching and one URL always goes to the same partition
 * (and seen-set). A URL whose delivery fails is forgotten by its source
 * and offered again at the next poll. The state is saved after each round
 * of polls, once its records are flushed. */
#ifndef FX_DISCOVER_H
#define FX_DISCOVER_H

#include "nl_config.h"
#include "nl_metrics.h"

#include <stddef.h>

/* Makes fetcher.state_dir (and its parents) if missing and writes
 * <state_dir>/<name> into out[size]. 0, or NL_EIO / NL_ETOOBIG with the
 * reason in errbuf. */
int fx_state_path(const nl_config *cfg, const char *name, char *out, size_t size, char *errbuf,
                  size_t errlen);

/* Returns a process exit code: 0 if at least one source was polled
 * without error (or there are none), 1 if every source failed, 2 for a bad
 * sources file, 69 brokers unreachable, 70 a fatal error, 75 stopped. */
int fx_run_once(const nl_config *cfg, int produce);

typedef struct fx_discover fx_discover;

/* Loads fetcher.sources and starts the poller thread, its engine and
 * poller feeding the registry m (NULL: no metrics; engine.h and poller.h
 * list the series). *out is NULL (and 0 returned) when fetcher.sources is
 * empty. Else 0, or an exit code (2 bad sources file, 69, 70) with the
 * reason printed. */
int fx_discover_start(const nl_config *cfg, nl_metrics *m, fx_discover **out);

/* Stops the thread (it flushes and saves first; nl_stop asks it too) and
 * frees everything. */
void fx_discover_stop(fx_discover *d);

#endif
