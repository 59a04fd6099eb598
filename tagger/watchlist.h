/* The watchlist and the tagger built on it.
 *
 * A watchlist file is a JSON object (format in the README, "Watchlist"):
 * {"version", "actors": [{id, kind, name, aliases, surname, wikidata,
 * roles: [{alias, from, to}]}], "ignore": [names], "events": [{id, label,
 * date | from [to], triggers, actors, scope, place, min_actors}]}.
 * wl_load validates every entry and names the entry and field of the first
 * error.
 *
 * Tagging finds, in a document's title and text:
 *   - actor mentions (names, aliases, a bare surname after a full name,
 *     a role alias in force on the document's date), with byte offsets;
 *   - events: a trigger (or a regular inflection of a one-word trigger)
 *     with enough of the event's actors in the same sentence or paragraph,
 *     unless the trigger's sentence names only years outside the event's;
 *   - relations: pairs of actors mentioned in the same sentence.
 *
 * Ownership: wl_load returns a watchlist the caller frees with wl_free.
 * A wl_tags holds one result and the scratch space behind it; it is reused
 * across documents (and watchlists) and freed with wl_tags_free. Not
 * thread-safe: the matcher inside a watchlist keeps its scan state, so a
 * watchlist and a wl_tags belong to one thread. */
#ifndef WL_WATCHLIST_H
#define WL_WATCHLIST_H

#include <jansson.h>
#include <stddef.h>

typedef struct watchlist watchlist;
typedef struct wl_tags wl_tags;

/* 0, NL_EIO or NL_EINVAL with "watchlist F: actors[3] (id).aliases[1]:
 * reason" in errbuf, or NL_ENOMEM. */
int wl_load(const char *path, watchlist **out, char *errbuf, size_t errlen);
void wl_free(watchlist *wl);
const char *wl_version(const watchlist *wl);

/* The patterns the watchlist's matcher looks for, one per distinct name
 * (group 0: names, aliases, ignore names, surnames; group 1: triggers with
 * their inflections, role aliases): for benchmarks and diagnostics. NULL
 * past the end. */
size_t wl_n_patterns(const watchlist *wl);
const char *wl_pattern(const watchlist *wl, size_t i, size_t *len, unsigned *group);

/* At most this many mentions are listed per actor and record, and this
 * many evidence sentences per event or relation; "count" is always exact
 * and "mentions_truncated" / "evidence_truncated" / "sentences_truncated":
 * true marks a cut list (a page repeating a name 50,000 times must not
 * become a record of megabytes). */
#define WL_MAX_MENTIONS 1000
#define WL_MAX_EVIDENCE 100

typedef struct wl_doc {
    const char *title; /* valid UTF-8, title_len bytes (NUL not needed) */
    size_t title_len;
    const char *text;
    size_t text_len;
    const char *date; /* the document's date, "YYYY-MM-DD..." (role aliases), or NULL */
} wl_doc;

wl_tags *wl_tags_new(void);
void wl_tags_free(wl_tags *t);

/* Tags doc into t (its previous result is replaced). 0, NL_ENOMEM, or
 * NL_ETOOBIG for a field over 4 GiB; on error t holds no result. */
int wl_tag(const watchlist *wl, const wl_doc *doc, wl_tags *t);

/* The result as a JSON object, NUL-terminated, owned by t: {"actors": [{id,
 * kind, name, wikidata?, count, mentions: [{field, start, end, surface,
 * role?}]}], "events": [{id, label, date | from [to], count, evidence:
 * [{field, start, end, text}]}], "relations": [{actors: [a, b], count,
 * sentences: [{field, start, end}]}], "watchlist_version"}. Offsets are
 * bytes into the field named; actors in order of first mention. */
const char *wl_tags_json(const wl_tags *t, size_t *len);

/* Actor mentions in the result (listed or not). */
size_t wl_tags_n_mentions(const wl_tags *t);

/* The ids the result carries (actors, then events), for per-tag topics. */
size_t wl_tags_n_ids(const wl_tags *t);
const char *wl_tags_id(const wl_tags *t, size_t i);

/* wl_tag + wl_tags_json parsed: a new reference, or NULL on failure. For
 * tests and one-off tools; a daemon keeps one wl_tags instead. */
json_t *wl_tag_json(const watchlist *wl, const wl_doc *doc);

#endif
