/* Offset bookkeeping for the delivery rule: an input offset may be
 * committed only when it and every offset before it in its partition are
 * done (their output, or dead letter, acknowledged by the broker).
 *
 * Offsets are tracked in consumption order per (topic, partition); done
 * marks may arrive in any order. The tracker owns its memory and knows
 * nothing of Kafka, so it is unit-tested alone. */
#ifndef NL_OFFSETS_H
#define NL_OFFSETS_H

#include <stddef.h>
#include <stdint.h>

typedef struct nl_offsets nl_offsets;

nl_offsets *nl_offsets_new(void);
void nl_offsets_free(nl_offsets *ot);

/* Records that `offset` was consumed and is now in flight. Offsets of one
 * partition must increase; a smaller or equal one returns NL_EINVAL (a
 * rewind: call nl_offsets_forget first). 0, NL_EINVAL or NL_ENOMEM; on
 * error the tracker is unaltered. */
int nl_offsets_track(nl_offsets *ot, const char *topic, int32_t partition, int64_t offset);

/* Marks a tracked offset done. Returns 1 if the partition's committable
 * position moved forward, 0 if not, NL_EINVAL if the offset is not tracked
 * (for example its partition was forgotten after a revoke). */
int nl_offsets_done(nl_offsets *ot, const char *topic, int32_t partition, int64_t offset);

/* The offset to commit for the partition: one past the highest offset
 * below which everything is done; -1 if nothing is done yet. */
int64_t nl_offsets_committable(const nl_offsets *ot, const char *topic, int32_t partition);

/* Drops all state of a partition (on revoke or lost assignment). */
void nl_offsets_forget(nl_offsets *ot, const char *topic, int32_t partition);

/* Offsets tracked and not yet done, over all partitions. */
size_t nl_offsets_in_flight(const nl_offsets *ot);

/* Calls fn for every partition with a committable offset. */
void nl_offsets_foreach(const nl_offsets *ot,
                        void (*fn)(void *arg, const char *topic, int32_t partition, int64_t next),
                        void *arg);

#endif
