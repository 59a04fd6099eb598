/* The corpus store: documents as NNN_<id>.txt beside the seeds, each with
 * a NNN_<id>.json sidecar of metadata, tags and provenance.
 *
 * Writes are atomic and durable (temp file, fsync, rename, directory
 * fsync) and idempotent by id and content: storing the same record twice
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
 * it; an attached index is borrowed. */
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
 * stored is indexed after its files are durable. */
void st_set_index(nl_store *st, nl_index *ix);

/* Stores a newsline.tagged/1 record; trace (borrowed, may be NULL) is
 * written into the sidecar as the per-stage first-seen times. On success
 * returns 0 and a newsline.stored/1 report in *report (new reference):
 * file, sidecar, version, and status "stored" (a new document, or a first
 * sidecar), "new_version", "updated" (a new sidecar for a stored
 * version) or "unchanged". On a disk or index error returns NL_ETRANSIENT:
 * nothing half-written is visible and the call can be repeated (the
 * repeat indexes what the failed call stored). */
int st_put(nl_store *st, const json_t *rec, const json_t *trace, json_t **report, char *errbuf,
           size_t errlen);

/* Number of documents indexed. */
size_t st_count(const nl_store *st);

#endif
