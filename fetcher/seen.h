/* The seen-set: which article URLs were already fetched, kept on disk so a
 * restart does not fetch them again.
 *
 * A seen-set is one append-only file of fixed-size records, one per URL:
 * 16 bytes, the 64-bit hash of the normalised URL (fx_seen_hash, the
 * record id as a number) and a check word derived from it, both
 * little-endian. The whole file is loaded into an in-memory hash set when
 * it is opened. A short or garbled tail (a crash mid-append, a zero-filled
 * block after a power cut) fails the check: the file is truncated at the
 * first bad record, with a warning, and what came before is kept.
 *
 * The file may also hold checkpoint records (the same size, another check
 * word): the offset of the seen-set's changelog (topics.fetch_seen) up to
 * which every changelog record is in the file before the checkpoint. The
 * last one read wins; a file without one has checkpoint -1.
 *
 * fx_seen_add appends with write(2) but does not sync; fx_seen_sync
 * (fdatasync) makes every record added so far durable. Callers sync in
 * batches, and only then treat the additions as done (the fetcher stores a
 * consumer offset only after the sync that covers it).
 *
 * Ownership: fx_seen_open returns a new fx_seen that the caller closes with
 * fx_seen_close (which syncs). Not thread-safe: one owner at a time.
 * Errors: NL_EIO with the reason in errbuf, NL_ENOMEM. */
#ifndef FX_SEEN_H
#define FX_SEEN_H

#include <stddef.h>
#include <stdint.h>

/* ---- An in-memory set of 64-bit hashes (open addressing). ---- */

typedef struct fx_hset {
    uint64_t *slots; /* 0 marks an empty slot; the hash 0 is stored as 1 */
    size_t cap;      /* a power of two, or 0 */
    size_t n;
} fx_hset;

/* 1 if h is in the set, else 0. */
int fx_hset_has(const fx_hset *s, uint64_t h);
/* 1 if h was added, 0 if it was there already, NL_ENOMEM (set unchanged). */
int fx_hset_add(fx_hset *s, uint64_t h);
void fx_hset_clear(fx_hset *s);
void fx_hset_free(fx_hset *s);

/* ---- The persistent seen-set. ---- */

typedef struct fx_seen fx_seen;

/* The hash of a normalised URL: its record id (fx_url_id) as a number. */
uint64_t fx_seen_hash(const char *normalized_url);

/* Opens (creating it if needed) the seen-set file at path and loads it.
 * A corrupt tail is truncated (nl_warn "seen_truncated" says how many bytes). */
int fx_seen_open(const char *path, fx_seen **out, char *errbuf, size_t errlen);

/* 1 if h was seen, else 0. */
int fx_seen_has(const fx_seen *s, uint64_t h);

/* Records h as seen: 1 if new (appended, not yet synced), 0 if already
 * there, NL_ENOMEM or NL_EIO (the set and file are unchanged then; a short
 * write is cut off again). */
int fx_seen_add(fx_seen *s, uint64_t h, char *errbuf, size_t errlen);

/* The last checkpoint in the file (a changelog offset), or -1 if none. */
int64_t fx_seen_checkpoint(const fx_seen *s);

/* Appends a checkpoint record for offset (>= 0; nothing if it is the
 * current one), not synced: fx_seen_sync makes it durable together with
 * the records before it. 0, NL_EINVAL, or NL_EIO (file and checkpoint
 * unchanged). */
int fx_seen_set_checkpoint(fx_seen *s, int64_t offset, char *errbuf, size_t errlen);

/* Makes every record added so far durable. 0 or NL_EIO. */
int fx_seen_sync(fx_seen *s, char *errbuf, size_t errlen);

/* URLs in the set. */
size_t fx_seen_count(const fx_seen *s);

/* Syncs, closes and frees (NULL is fine). 0, or NL_EIO if the final sync
 * failed (the set is freed anyway). */
int fx_seen_close(fx_seen *s);

#endif
