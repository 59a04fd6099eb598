/* The corpus index: SQLite (WAL, FTS5) beside the files, in
 * <corpus>/.nl-index.db. It is derived from the sidecars and text files,
 * which stay the truth: ix_rebuild makes it again from them, and ix_open
 * does so by itself when it finds the index missing, unreadable, corrupt
 * or out of step with the files.
 *
 * One row per stored version (documents), with the actors it mentions
 * (mentions), its events (events), its actor pairs (relations, the pair in
 * byte order) and its title and text (fts, contentless FTS5). Queries see
 * the latest version of each document. Dates are the published day
 * ("YYYY-MM-DD", from published.value); an undated document matches no
 * date range.
 *
 * Ownership: the index owns its SQLite handle; JSON passed in is
 * borrowed; rows handed to callbacks are borrowed for the call. */
#ifndef ST_INDEX_H
#define ST_INDEX_H

#include <jansson.h>
#include <stddef.h>

#define IX_FILE ".nl-index.db"
#define IX_MAX_ACTORS 16

typedef struct nl_index nl_index;

enum {
    IX_OPEN_REPAIR = 0, /* rebuild when missing, corrupt or out of step (the sink) */
    IX_OPEN_QUERY = 1,  /* rebuild when missing or corrupt; only warn when out of step,
                           which a running sink may be for a moment */
};

/* Opens (creating or rebuilding as needed, see above) the index of the
 * corpus directory dir; each rebuild is logged (event=index_rebuilt with
 * its reason). 0, or NL_EIO / NL_ENOMEM with the reason in errbuf. */
int ix_open(const char *dir, int mode, nl_index **out, char *errbuf, size_t errlen);
void ix_close(nl_index *ix);

/* Rebuilds the whole index from the files in one transaction; *nversions
 * (may be NULL) gets the number of versions indexed. On error the old
 * index stays as it was. */
int ix_rebuild(nl_index *ix, size_t *nversions, char *errbuf, size_t errlen);

/* Indexes one stored version from its sidecar (newsline.stored/1 as the
 * store writes it) and text, replacing what the index had for it, in one
 * transaction. 0, or NL_ETRANSIENT (retry) / NL_EINVAL (not a sidecar). */
int ix_put(nl_index *ix, const json_t *sidecar, const char *text, size_t text_len, char *errbuf,
           size_t errlen);

/* One version to index: its sidecar and text (borrowed). */
typedef struct ix_item {
    const json_t *sidecar;
    const char *text;
    size_t text_len;
} ix_item;

/* ix_put of n versions, in order, in one transaction (a later item of the
 * same version replaces an earlier one). On error nothing of the batch is
 * in the index: 0, or NL_ETRANSIENT / NL_EINVAL as ix_put. */
int ix_put_batch(nl_index *ix, const ix_item *items, size_t n, char *errbuf, size_t errlen);

/* 1 if the index holds this sidecar's version as stored at its stored_at. */
int ix_has(nl_index *ix, const json_t *sidecar);

/* Versions indexed, or -1 on error. */
long ix_count(nl_index *ix);

typedef struct ix_query {
    const char *actors[IX_MAX_ACTORS]; /* every one must be mentioned */
    size_t nactors;
    const char *event;  /* NULL: any */
    const char *since;  /* YYYY-MM-DD, inclusive; NULL: open */
    const char *until;  /* YYYY-MM-DD, inclusive; NULL: open */
    const char *source; /* the record's source ("fetch", "replay"); NULL: any */
    const char *text;   /* an FTS5 query over title and text; NULL: none */
    long limit;         /* rows at most; 0: all */
} ix_query;

/* 1 if s is a calendar date YYYY-MM-DD. */
int ix_valid_date(const char *s);

/* Checks a query before it runs: actor and event ids known to the index
 * (or listed in also_actors / also_events, arrays of id strings, borrowed,
 * may be NULL), valid dates, since <= until, a valid FTS5 query. 0, or
 * NL_EINVAL with one line naming the argument in errbuf. */
int ix_check(nl_index *ix, const ix_query *q, const json_t *also_actors, const json_t *also_events,
             char *errbuf, size_t errlen);

/* Called once per result row; a non-zero return stops the query and is
 * returned. */
typedef int (*ix_row_fn)(const json_t *row, void *arg);

/* The documents matching every condition of q (their latest versions),
 * newest published first, undated last: rows {"id", "version", "file",
 * "date" (or null), "published" (or null), "source", "title", "actors":
 * [{"id", "count"}] (most mentioned first)}. 0, or NL_EINVAL / NL_EIO. */
int ix_search(nl_index *ix, const ix_query *q, ix_row_fn fn, void *arg, char *errbuf,
              size_t errlen);

/* Mentions per actor per day over the documents matching q (only q's
 * actors if it names any, every actor otherwise), by day then actor:
 * rows {"date" (or null), "actor", "mentions", "documents"}. */
int ix_count_mentions(nl_index *ix, const ix_query *q, ix_row_fn fn, void *arg, char *errbuf,
                      size_t errlen);

/* Sentences per actor pair over the documents matching q (the pair in
 * byte order; with q's actors, only pairs that include one of them), most
 * sentences first: rows {"a", "b", "count" (sentences), "documents"}.
 * Read-only. 0, or NL_EINVAL / NL_EIO. */
int ix_count_relations(nl_index *ix, const ix_query *q, ix_row_fn fn, void *arg, char *errbuf,
                       size_t errlen);

/* Every actor the index has seen, by id: rows {"id", "name" (or null),
 * "kind" (or null)}. Read-only. 0, or NL_EIO. */
int ix_actors(nl_index *ix, ix_row_fn fn, void *arg, char *errbuf, size_t errlen);

#endif
