/* The corpus store: documents as NNN_<id>.txt beside the seeds, each with
 * a NNN_<id>.json sidecar of metadata and tags.
 *
 * Writes are atomic and durable (temp file, fsync, rename, directory
 * fsync) and idempotent by id: storing the same record twice leaves one
 * copy and, if nothing changed, does not touch the files. A document that
 * already has a text file and came from a replay (a seed, or any file the
 * user replayed) keeps its text file byte for byte; only the sidecar is
 * (re)written. The store owns its memory; st_close releases it. */
#ifndef ST_STORE_H
#define ST_STORE_H

#include <jansson.h>
#include <stddef.h>

typedef struct nl_store nl_store;

/* Opens (creating if needed) the corpus directory and indexes the
 * documents in it. 0 or NL_EIO/NL_ENOMEM with the reason in errbuf. */
int st_open(const char *dir, nl_store **out, char *errbuf, size_t errlen);
void st_close(nl_store *st);

/* Stores a newsline.tagged/1 record; trace (borrowed, may be NULL) is
 * written into the sidecar as the per-stage first-seen times. On success
 * returns 0 and a newsline.stored/1 report in *report (new reference). On
 * a disk error returns NL_ETRANSIENT: nothing half-written is visible and
 * the call can be repeated. */
int st_put(nl_store *st, const json_t *rec, const json_t *trace, json_t **report, char *errbuf,
           size_t errlen);

/* Number of documents indexed. */
size_t st_count(const nl_store *st);

#endif
