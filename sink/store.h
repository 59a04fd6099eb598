/* The corpus store: documents as NNN_<id>.txt beside the seeds, each with
 * a NNN_<id>.json sidecar of metadata, tags and provenance.
 *
 * Writes are atomic, durable and batched: st_stage writes a record's files
 * to temp files (no fsync) and keeps its index rows; st_sync makes the
 * whole batch durable at once: one syncfs of the corpus filesystem, the
 * renames into place in write order, one directory fsync, then the index
 * rows in one transaction; only then is each record's report handed to the
 * durable callback. Until then nothing of the batch is visible under its
 * final name, and a crash leaves each record's old state or its new one
 * (temp files are removed by st_open). Reads within a batch see it: a
 * record staged twice, or a new version of a staged one, is judged against
 * the staged files. st_put is st_stage then st_sync (one record durable on
 * return).
 *
 * Stores are idempotent by id and content: storing the same record twice
 * leaves one copy and, if nothing changed, does not touch the files. A
 * version is identified by the content hash (FNV-1a 64) of title "\n\n"
 * text: a record whose content is new for its id is stored as the next
 * version, NNN_<id>.v<k>.txt and NNN_<id>.v<k>.json (k = 2, 3, ...; the
 * first version keeps the plain names), and the older versions stay; a
 * record with the content of a stored version rewrites only that
 * version's sidecar, and only if the record (tags, metadata) changed. A
 * document that already has a text file and came from a replay (a seed,
 * or any file the user replayed) keeps its text file byte for byte; only
 * the sidecar is (re)written. The store owns its memory; st_close releases
 * it (and deletes the temp files of a batch not synced); an attached
 * index is borrowed. */
#ifndef ST_STORE_H
#define ST_STORE_H

#include "index.h"

#include <jansson.h>
#include <stddef.h>

typedef struct nl_store nl_store;

/* Opens (creating if needed) the corpus directory and indexes the
 * documents in it. 0 or NL_EIO/NL_ENOMEM with the reason in errbuf. */
int st_open(const char *dir, nl_store **out, char *errbuf, size_t errlen);
void st_close(nl_store *st);

/* Keeps ix (borrowed, may be NULL) current from now on: every version
 * stored is indexed after its files are durable, a batch at a time. */
void st_set_index(nl_store *st, nl_index *ix);

/* Stages a newsline.tagged/1 record into the current batch; trace
 * (borrowed, may be NULL) is written into the sidecar as the per-stage
 * first-seen times. On success returns 0 and a newsline.stored/1 report
 * in *report (new reference): file, sidecar, version, and status "stored"
 * (a new document, or a first sidecar), "new_version", "updated" (a new
 * sidecar for a stored version) or "unchanged". Nothing is durable or
 * visible before st_sync. A full batch (ST_BATCH_MAX records) is synced
 * first, and a sync left half done by an error is finished first. On a
 * disk error returns NL_ETRANSIENT: the record is not in the batch, no
 * temp file of it is left, the batch is as it was, and the call can be
 * repeated; or an error of st_sync. */
int st_stage(nl_store *st, const json_t *rec, const json_t *trace, json_t **report, char *errbuf,
             size_t errlen);

/* Makes the batch durable (see above), indexes it, calls the durable
 * callback for each record's report in order, and starts a new batch.
 * 0 (also with an empty batch); NL_ETRANSIENT (a rename or the index
 * failed: what was done stays done, the batch stays, and the next st_sync
 * or st_stage carries on from there); NL_EFATAL (the filesystem flush or
 * the directory fsync failed: the written data cannot be trusted, so the
 * caller must exit without acknowledging the batch); NL_ENOMEM. */
int st_sync(nl_store *st, char *errbuf, size_t errlen);

/* st_stage, then st_sync: on 0 the record is durable and indexed. On an
 * error *report is NULL; a record staged before the sync failed stays in
 * the batch. */
int st_put(nl_store *st, const json_t *rec, const json_t *trace, json_t **report, char *errbuf,
           size_t errlen);

/* Records in the current batch. */
size_t st_pending(const nl_store *st);

/* Called by st_sync with each record's report (borrowed) once the record
 * is durable and indexed. fn may be NULL. */
typedef void (*st_durable_fn)(void *arg, const json_t *report);
void st_on_durable(nl_store *st, st_durable_fn fn, void *arg);

/* Number of documents indexed. */
size_t st_count(const nl_store *st);

#endif
