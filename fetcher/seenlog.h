/* The seen-set's changelog: a compacted Kafka topic (topics.fetch_seen)
 * that lets the seen-set follow the fetch topic's partitions from one
 * fetcher to another with no shared storage.
 *
 * Partition p of the changelog holds the seen-set of partition p of
 * topics.fetch (explicit partition, not the partitioner: both topics must
 * have the same partition count, checked at start). A record is keyed by
 * the URL's id (16 hex digits, the record id of its raw record) and its
 * value is {"schema": "newsline.seen/1", "id": <the key>, "partition": p,
 * "at": <time>}; compaction keeps one record per URL.
 *
 * The fetcher appends a URL once its raw record is acknowledged, and
 * before the fetch record's offset is stored it waits for the changelog's
 * acknowledgement (fx_seenlog_flush, from the stage's sync hook): an offset
 * is stored only once everything the record caused is durable in Kafka.
 * When partition p is assigned, fx_seenlog_restore reads changelog
 * partition p into the local seen-set file (seen.h), from the checkpoint
 * that file records or from the beginning (a new host), before any record
 * of p is consumed. The local file is a cache: a restart on the same host
 * reads only the changelog's tail.
 *
 * Ownership: fx_seenlog_open returns a new fx_seenlog (its own producer and
 * a consumer that is never in a group) which fx_seenlog_close frees. Not
 * thread-safe: the stage runner's thread only.
 * Errors: an int class (nl_err.h) with the reason in errbuf. */
#ifndef FX_SEENLOG_H
#define FX_SEENLOG_H

#include "nl_config.h"
#include "seen.h"

#include <stddef.h>
#include <stdint.h>

#define FX_SCHEMA_SEEN "newsline.seen/1"

typedef struct fx_seenlog fx_seenlog;

/* Checks topics.fetch_seen against topics.fetch, creating it (compacted,
 * with the fetch topic's partition count and replication) when missing,
 * and makes the clients; a fetch topic not in the metadata yet is waited
 * for up to connect_timeout_ms (it may have been created a moment ago).
 * 0 with *out, or a process exit code with one line
 * on stderr: NL_EXIT_USAGE (a topic missing that cannot be created, the
 * partition counts differ, a bad kafka.* key), NL_EXIT_UNAVAILABLE (no
 * brokers within connect_timeout_ms). */
int fx_seenlog_open(const nl_config *cfg, fx_seenlog **out);

/* Flushes what is outstanding (bounded by drain_timeout_ms), frees (NULL is
 * fine). */
void fx_seenlog_close(fx_seenlog *l);

/* Partitions of the changelog (= of the fetch topic at start). */
int32_t fx_seenlog_partitions(const fx_seenlog *l);

/* Reads changelog partition p into s: from s's checkpoint, or from the
 * beginning without one (or when the checkpoint is past the changelog's
 * end: the topic was recreated), up to the partition's end when the call
 * began; then appends that end as s's checkpoint and syncs s. Corrupt
 * records are skipped with a warning and counted. Gives up after
 * fetcher.seen_restore_timeout_ms, or at once when nl_stop is set.
 * 0, NL_ETRANSIENT (brokers, timeout, stopped), NL_EIO or NL_ENOMEM (s
 * then holds what was read). */
int fx_seenlog_restore(fx_seenlog *l, int32_t p, fx_seen *s, char *errbuf, size_t errlen);

/* Queues the changelog record of URL hash h for partition p (not waited
 * for: see fx_seenlog_flush). 0, or NL_EFATAL / NL_ENOMEM. */
int fx_seenlog_append(fx_seenlog *l, int32_t p, uint64_t h, char *errbuf, size_t errlen);

/* Waits (at most a few seconds) until every record appended so far is
 * acknowledged, producing a failed one again. 0 when all are;
 * NL_ETRANSIENT when some are not yet (brokers down: call again later);
 * NL_EFATAL after a fatal producer error. */
int fx_seenlog_flush(fx_seenlog *l, char *errbuf, size_t errlen);

/* The changelog offset up to which partition p is wholly in the local
 * file: its end at restore, moved on by this fetcher's own acknowledged
 * appends as long as they are contiguous (no other writer in between) and
 * none is outstanding; -1 when that cannot be said now. */
int64_t fx_seenlog_covered(const fx_seenlog *l, int32_t p);

/* Partition p is no longer ours: late acknowledgements of its records are
 * ignored, failed ones not produced again. */
void fx_seenlog_release(fx_seenlog *l, int32_t p);

/* Corrupt records skipped by every restore so far. */
uint64_t fx_seenlog_corrupt(const fx_seenlog *l);

/* ---- The record format (pure; unit-tested). ---- */

/* The key (16 lowercase hex digits and a NUL) of hash h. */
void fx_seenlog_key(uint64_t h, char key[17]);

/* The value of h's record for partition p, malloc'd (*len bytes, NUL
 * after), or NULL without memory. */
char *fx_seenlog_value(uint64_t h, int32_t p, size_t *len);

/* Reads a changelog record: 0 with *h, 1 for a tombstone (NULL value: the
 * seen-set has no removal, so it is skipped), or NL_EINVAL with the reason
 * in errbuf (key not 16 hex digits, value not JSON, wrong schema, id not
 * the key). */
int fx_seenlog_parse(const void *key, size_t keylen, const void *val, size_t vallen, uint64_t *h,
                     char *errbuf, size_t errlen);

#endif
