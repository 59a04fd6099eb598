/* The watchlist and the matcher behind the tagger.
 *
 * A watchlist file is a JSON object {"version", "actors": [{"id", "kind",
 * "name", "aliases": [...]}]}. Aliases match whole words; an alias written
 * all in capitals (US, UN, DPRK) matches only in capitals, any other alias
 * matches ASCII-case-insensitively. Overlapping matches resolve
 * leftmost-longest, so "UN Security Council" is not also "UN".
 *
 * This is the walking-skeleton matcher (a first-byte index and memcmp);
 * the Hyperscan matcher, events and relations replace it behind wl_tag().
 * Ownership: wl_load returns a watchlist the caller frees with wl_free;
 * wl_tag returns a new JSON reference. */
#ifndef WL_WATCHLIST_H
#define WL_WATCHLIST_H

#include <jansson.h>
#include <stddef.h>

typedef struct watchlist watchlist;

/* 0, NL_EIO or NL_EINVAL with "actors[3].aliases[1]: reason" in errbuf. */
int wl_load(const char *path, watchlist **out, char *errbuf, size_t errlen);
void wl_free(watchlist *wl);
const char *wl_version(const watchlist *wl);

/* At most this many mentions are listed per actor and record; "count" is
 * always exact and "mentions_truncated": true marks a cut list. */
#define WL_MAX_MENTIONS 1000

/* Tags title and text: returns {"actors": [{id, kind, name, count,
 * mentions: [{field, start, end, surface}]}], "watchlist_version"} with
 * byte offsets into the field named; NULL on allocation failure. */
json_t *wl_tag(const watchlist *wl, const char *title, size_t title_len, const char *text,
               size_t text_len);

#endif
