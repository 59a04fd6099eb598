/* Unit tests for nl_offsets.h: the per-partition bookkeeping behind the
 * delivery rule (commit an offset only when it and everything before it in
 * its partition is done). */
#include "nl_err.h"
#include "nl_offsets.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static nl_offsets *ot;

static void setup(void)
{
    ot = nl_offsets_new();
    ck_assert_ptr_nonnull(ot);
}

static void teardown(void)
{
    nl_offsets_free(ot);
    ot = NULL;
}

/* A small deterministic PRNG (xorshift64*), so the randomized tests do the
 * same thing on every libc. */
static uint64_t rng_state;

static void rng_seed(uint64_t seed)
{
    rng_state = seed != 0 ? seed : 0x9e3779b97f4a7c15ULL;
}

static uint64_t rng_next(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dULL;
}

static size_t rng_below(size_t n)
{
    return (size_t)(rng_next() % n);
}

/* ---- basics ------------------------------------------------------------- */

START_TEST(test_new_is_empty)
{
    ck_assert_int_eq(nl_offsets_in_flight(ot), 0);
    ck_assert_int_eq(nl_offsets_committable(ot, "t", 0), -1);
    ck_assert_int_eq(nl_offsets_done(ot, "t", 0, 0), NL_EINVAL);
}
END_TEST

START_TEST(test_free_null)
{
    nl_offsets_free(NULL);
}
END_TEST

START_TEST(test_committable_minus_one_before_done)
{
    ck_assert_int_eq(nl_offsets_track(ot, "t", 0, 10), 0);
    ck_assert_int_eq(nl_offsets_track(ot, "t", 0, 11), 0);
    ck_assert_int_eq(nl_offsets_committable(ot, "t", 0), -1);
    ck_assert_int_eq(nl_offsets_in_flight(ot), 2);
}
END_TEST

START_TEST(test_in_order_done_advances)
{
    for (int64_t o = 0; o < 5; o++) {
        ck_assert_int_eq(nl_offsets_track(ot, "t", 0, o), 0);
    }
    ck_assert_int_eq(nl_offsets_in_flight(ot), 5);
    for (int64_t o = 0; o < 5; o++) {
        ck_assert_int_eq(nl_offsets_done(ot, "t", 0, o), 1);
        ck_assert_int_eq(nl_offsets_committable(ot, "t", 0), o + 1);
        ck_assert_int_eq(nl_offsets_in_flight(ot), (size_t)(4 - o));
    }
}
END_TEST

START_TEST(test_first_offset_not_zero)
{
    ck_assert_int_eq(nl_offsets_track(ot, "t", 3, 1000), 0);
    ck_assert_int_eq(nl_offsets_done(ot, "t", 3, 1000), 1);
    ck_assert_int_eq(nl_offsets_committable(ot, "t", 3), 1001);
}
END_TEST

START_TEST(test_out_of_order_holds_back)
{
    for (int64_t o = 0; o < 4; o++) {
        ck_assert_int_eq(nl_offsets_track(ot, "t", 0, o), 0);
    }
    /* 1, 2 and 3 done before 0: nothing may be committed. */
    ck_assert_int_eq(nl_offsets_done(ot, "t", 0, 2), 0);
    ck_assert_int_eq(nl_offsets_committable(ot, "t", 0), -1);
    ck_assert_int_eq(nl_offsets_done(ot, "t", 0, 1), 0);
    ck_assert_int_eq(nl_offsets_done(ot, "t", 0, 3), 0);
    ck_assert_int_eq(nl_offsets_committable(ot, "t", 0), -1);
    ck_assert_int_eq(nl_offsets_in_flight(ot), 1);
    /* The gap fills: everything becomes committable at once. */
    ck_assert_int_eq(nl_offsets_done(ot, "t", 0, 0), 1);
    ck_assert_int_eq(nl_offsets_committable(ot, "t", 0), 4);
    ck_assert_int_eq(nl_offsets_in_flight(ot), 0);
}
END_TEST

START_TEST(test_gap_in_the_middle)
{
    for (int64_t o = 0; o < 6; o++) {
        ck_assert_int_eq(nl_offsets_track(ot, "t", 0, o), 0);
    }
    ck_assert_int_eq(nl_offsets_done(ot, "t", 0, 0), 1);
    ck_assert_int_eq(nl_offsets_done(ot, "t", 0, 1), 1);
    ck_assert_int_eq(nl_offsets_done(ot, "t", 0, 3), 0);
    ck_assert_int_eq(nl_offsets_done(ot, "t", 0, 5), 0);
    ck_assert_int_eq(nl_offsets_committable(ot, "t", 0), 2);
    ck_assert_int_eq(nl_offsets_done(ot, "t", 0, 2), 1);
    ck_assert_int_eq(nl_offsets_committable(ot, "t", 0), 4);
    ck_assert_int_eq(nl_offsets_done(ot, "t", 0, 4), 1);
    ck_assert_int_eq(nl_offsets_committable(ot, "t", 0), 6);
}
END_TEST

START_TEST(test_sparse_offsets)
{
    /* Compacted topics and transaction markers leave holes in offsets: the
     * committable position is one past the last done offset, not a count. */
    ck_assert_int_eq(nl_offsets_track(ot, "t", 0, 5), 0);
    ck_assert_int_eq(nl_offsets_track(ot, "t", 0, 9), 0);
    ck_assert_int_eq(nl_offsets_track(ot, "t", 0, 20), 0);
    ck_assert_int_eq(nl_offsets_done(ot, "t", 0, 9), 0);
    ck_assert_int_eq(nl_offsets_committable(ot, "t", 0), -1);
    ck_assert_int_eq(nl_offsets_done(ot, "t", 0, 5), 1);
    ck_assert_int_eq(nl_offsets_committable(ot, "t", 0), 10);
    /* Offsets in the holes were never tracked. */
    ck_assert_int_eq(nl_offsets_done(ot, "t", 0, 15), NL_EINVAL);
    ck_assert_int_eq(nl_offsets_done(ot, "t", 0, 20), 1);
    ck_assert_int_eq(nl_offsets_committable(ot, "t", 0), 21);
}
END_TEST

START_TEST(test_track_must_increase)
{
    ck_assert_int_eq(nl_offsets_track(ot, "t", 0, 10), 0);
    ck_assert_int_eq(nl_offsets_track(ot, "t", 0, 10), NL_EINVAL);
    ck_assert_int_eq(nl_offsets_track(ot, "t", 0, 9), NL_EINVAL);
    ck_assert_int_eq(nl_offsets_track(ot, "t", 0, 0), NL_EINVAL);
    ck_assert_int_eq(nl_offsets_track(ot, "t", 0, -1), NL_EINVAL);
    /* The failed calls left the tracker as it was. */
    ck_assert_int_eq(nl_offsets_in_flight(ot), 1);
    ck_assert_int_eq(nl_offsets_done(ot, "t", 0, 9), NL_EINVAL);
    ck_assert_int_eq(nl_offsets_done(ot, "t", 0, 10), 1);
    ck_assert_int_eq(nl_offsets_committable(ot, "t", 0), 11);
    /* Still increasing after the deque emptied. */
    ck_assert_int_eq(nl_offsets_track(ot, "t", 0, 10), NL_EINVAL);
    ck_assert_int_eq(nl_offsets_track(ot, "t", 0, 11), 0);
}
END_TEST

START_TEST(test_track_negative_on_new_partition)
{
    ck_assert_int_eq(nl_offsets_track(ot, "t", 7, -1), NL_EINVAL);
    ck_assert_int_eq(nl_offsets_in_flight(ot), 0);
    ck_assert_int_eq(nl_offsets_committable(ot, "t", 7), -1);
    ck_assert_int_eq(nl_offsets_track(ot, "t", 7, 0), 0);
    ck_assert_int_eq(nl_offsets_done(ot, "t", 7, 0), 1);
    ck_assert_int_eq(nl_offsets_committable(ot, "t", 7), 1);
}
END_TEST

START_TEST(test_done_untracked)
{
    ck_assert_int_eq(nl_offsets_track(ot, "t", 0, 5), 0);
    ck_assert_int_eq(nl_offsets_track(ot, "t", 0, 7), 0);
    /* below, between and above the tracked offsets */
    ck_assert_int_eq(nl_offsets_done(ot, "t", 0, 4), NL_EINVAL);
    ck_assert_int_eq(nl_offsets_done(ot, "t", 0, 6), NL_EINVAL);
    ck_assert_int_eq(nl_offsets_done(ot, "t", 0, 8), NL_EINVAL);
    /* another partition, another topic */
    ck_assert_int_eq(nl_offsets_done(ot, "t", 1, 5), NL_EINVAL);
    ck_assert_int_eq(nl_offsets_done(ot, "u", 0, 5), NL_EINVAL);
    ck_assert_int_eq(nl_offsets_in_flight(ot), 2);
    ck_assert_int_eq(nl_offsets_committable(ot, "t", 0), -1);
}
END_TEST

START_TEST(test_double_done)
{
    ck_assert_int_eq(nl_offsets_track(ot, "t", 0, 0), 0);
    ck_assert_int_eq(nl_offsets_track(ot, "t", 0, 1), 0);
    ck_assert_int_eq(nl_offsets_track(ot, "t", 0, 2), 0);
    /* done twice while still held back by a gap */
    ck_assert_int_eq(nl_offsets_done(ot, "t", 0, 1), 0);
    ck_assert_int_eq(nl_offsets_done(ot, "t", 0, 1), NL_EINVAL);
    ck_assert_int_eq(nl_offsets_in_flight(ot), 2);
    /* done twice after it was popped off the head */
    ck_assert_int_eq(nl_offsets_done(ot, "t", 0, 0), 1);
    ck_assert_int_eq(nl_offsets_done(ot, "t", 0, 0), NL_EINVAL);
    ck_assert_int_eq(nl_offsets_done(ot, "t", 0, 1), NL_EINVAL);
    ck_assert_int_eq(nl_offsets_in_flight(ot), 1);
    ck_assert_int_eq(nl_offsets_committable(ot, "t", 0), 2);
    /* done twice after the deque emptied */
    ck_assert_int_eq(nl_offsets_done(ot, "t", 0, 2), 1);
    ck_assert_int_eq(nl_offsets_done(ot, "t", 0, 2), NL_EINVAL);
    ck_assert_int_eq(nl_offsets_in_flight(ot), 0);
    ck_assert_int_eq(nl_offsets_committable(ot, "t", 0), 3);
}
END_TEST

START_TEST(test_partitions_independent)
{
    ck_assert_int_eq(nl_offsets_track(ot, "t", 0, 0), 0);
    ck_assert_int_eq(nl_offsets_track(ot, "t", 1, 0), 0);
    ck_assert_int_eq(nl_offsets_track(ot, "t", 0, 1), 0);
    ck_assert_int_eq(nl_offsets_track(ot, "t", 1, 1), 0);
    /* the same offset numbers are fine in another partition */
    ck_assert_int_eq(nl_offsets_done(ot, "t", 1, 0), 1);
    ck_assert_int_eq(nl_offsets_committable(ot, "t", 1), 1);
    ck_assert_int_eq(nl_offsets_committable(ot, "t", 0), -1);
    ck_assert_int_eq(nl_offsets_done(ot, "t", 0, 1), 0);
    ck_assert_int_eq(nl_offsets_committable(ot, "t", 0), -1);
    ck_assert_int_eq(nl_offsets_done(ot, "t", 1, 1), 1);
    ck_assert_int_eq(nl_offsets_committable(ot, "t", 1), 2);
    ck_assert_int_eq(nl_offsets_committable(ot, "t", 0), -1);
    ck_assert_int_eq(nl_offsets_done(ot, "t", 0, 0), 1);
    ck_assert_int_eq(nl_offsets_committable(ot, "t", 0), 2);
    ck_assert_int_eq(nl_offsets_in_flight(ot), 0);
}
END_TEST

START_TEST(test_topics_independent)
{
    ck_assert_int_eq(nl_offsets_track(ot, "newsline.raw", 0, 100), 0);
    ck_assert_int_eq(nl_offsets_track(ot, "newsline.parsed", 0, 5), 0);
    /* a smaller offset is fine on another topic with the same partition */
    ck_assert_int_eq(nl_offsets_track(ot, "newsline.parsed", 0, 6), 0);
    ck_assert_int_eq(nl_offsets_done(ot, "newsline.parsed", 0, 100), NL_EINVAL);
    ck_assert_int_eq(nl_offsets_done(ot, "newsline.raw", 0, 5), NL_EINVAL);
    ck_assert_int_eq(nl_offsets_done(ot, "newsline.parsed", 0, 5), 1);
    ck_assert_int_eq(nl_offsets_committable(ot, "newsline.parsed", 0), 6);
    ck_assert_int_eq(nl_offsets_committable(ot, "newsline.raw", 0), -1);
    ck_assert_int_eq(nl_offsets_done(ot, "newsline.raw", 0, 100), 1);
    ck_assert_int_eq(nl_offsets_committable(ot, "newsline.raw", 0), 101);
    ck_assert_int_eq(nl_offsets_committable(ot, "newsline.parsed", 0), 6);
    /* a topic name that is a prefix of another is another topic */
    ck_assert_int_eq(nl_offsets_committable(ot, "newsline", 0), -1);
    ck_assert_int_eq(nl_offsets_in_flight(ot), 1);
}
END_TEST

START_TEST(test_topic_name_copied)
{
    char topic[16];

    strcpy(topic, "abc");
    ck_assert_int_eq(nl_offsets_track(ot, topic, 0, 1), 0);
    strcpy(topic, "xyz");
    ck_assert_int_eq(nl_offsets_done(ot, "abc", 0, 1), 1);
    ck_assert_int_eq(nl_offsets_committable(ot, "abc", 0), 2);
    ck_assert_int_eq(nl_offsets_committable(ot, "xyz", 0), -1);
}
END_TEST

START_TEST(test_forget)
{
    for (int64_t o = 0; o < 5; o++) {
        ck_assert_int_eq(nl_offsets_track(ot, "t", 0, o), 0);
        ck_assert_int_eq(nl_offsets_track(ot, "t", 1, o), 0);
    }
    ck_assert_int_eq(nl_offsets_done(ot, "t", 0, 0), 1);
    ck_assert_int_eq(nl_offsets_done(ot, "t", 0, 3), 0);
    ck_assert_int_eq(nl_offsets_in_flight(ot), 8);

    nl_offsets_forget(ot, "t", 0);
    /* only partition 0's three undone offsets leave the count */
    ck_assert_int_eq(nl_offsets_in_flight(ot), 5);
    ck_assert_int_eq(nl_offsets_committable(ot, "t", 0), -1);
    ck_assert_int_eq(nl_offsets_done(ot, "t", 0, 1), NL_EINVAL);
    ck_assert_int_eq(nl_offsets_in_flight(ot), 5);

    /* partition 1 is untouched */
    ck_assert_int_eq(nl_offsets_done(ot, "t", 1, 0), 1);
    ck_assert_int_eq(nl_offsets_committable(ot, "t", 1), 1);

    /* after a forget the partition may start again from anywhere */
    ck_assert_int_eq(nl_offsets_track(ot, "t", 0, 2), 0);
    ck_assert_int_eq(nl_offsets_done(ot, "t", 0, 2), 1);
    ck_assert_int_eq(nl_offsets_committable(ot, "t", 0), 3);

    /* forgetting an unknown partition is harmless */
    nl_offsets_forget(ot, "t", 42);
    nl_offsets_forget(ot, "nope", 0);
    ck_assert_int_eq(nl_offsets_in_flight(ot), 4);

    nl_offsets_forget(ot, "t", 1);
    nl_offsets_forget(ot, "t", 0);
    ck_assert_int_eq(nl_offsets_in_flight(ot), 0);
}
END_TEST

START_TEST(test_forget_many_partitions)
{
    /* More partitions than the initial table, forgotten in an order that
     * moves entries around inside it. */
    for (int32_t p = 0; p < 20; p++) {
        for (int64_t o = 0; o <= p; o++) {
            ck_assert_int_eq(nl_offsets_track(ot, "t", p, o), 0);
        }
        ck_assert_int_eq(nl_offsets_done(ot, "t", p, 0), 1);
    }
    ck_assert_int_eq(nl_offsets_in_flight(ot), 190);
    for (int32_t p = 0; p < 20; p += 2) {
        nl_offsets_forget(ot, "t", p);
    }
    size_t expect = 0;
    for (int32_t p = 0; p < 20; p++) {
        if (p % 2 == 0) {
            ck_assert_int_eq(nl_offsets_committable(ot, "t", p), -1);
        } else {
            ck_assert_int_eq(nl_offsets_committable(ot, "t", p), 1);
            expect += (size_t)p;
        }
    }
    ck_assert_int_eq(nl_offsets_in_flight(ot), expect);
    for (int32_t p = 1; p < 20; p += 2) {
        for (int64_t o = p; o >= 1; o--) {
            ck_assert_int_eq(nl_offsets_done(ot, "t", p, o), o == 1 ? 1 : 0);
        }
        ck_assert_int_eq(nl_offsets_committable(ot, "t", p), p + 1);
    }
    ck_assert_int_eq(nl_offsets_in_flight(ot), 0);
}
END_TEST

/* ---- foreach ------------------------------------------------------------ */

struct visit {
    char topic[32];
    int32_t partition;
    int64_t next;
};

struct visits {
    struct visit v[16];
    size_t n;
};

static void collect(void *arg, const char *topic, int32_t partition, int64_t next)
{
    struct visits *vs = arg;
    ck_assert_uint_lt(vs->n, 16);
    snprintf(vs->v[vs->n].topic, sizeof(vs->v[vs->n].topic), "%s", topic);
    vs->v[vs->n].partition = partition;
    vs->v[vs->n].next = next;
    vs->n++;
}

static int64_t visited(const struct visits *vs, const char *topic, int32_t partition)
{
    int64_t next = -2;
    int seen = 0;
    for (size_t i = 0; i < vs->n; i++) {
        if (strcmp(vs->v[i].topic, topic) == 0 && vs->v[i].partition == partition) {
            next = vs->v[i].next;
            seen++;
        }
    }
    ck_assert_int_le(seen, 1);
    return next;
}

START_TEST(test_foreach)
{
    struct visits vs;

    memset(&vs, 0, sizeof(vs));
    nl_offsets_foreach(ot, collect, &vs);
    ck_assert_uint_eq(vs.n, 0);

    ck_assert_int_eq(nl_offsets_track(ot, "a", 0, 0), 0);
    ck_assert_int_eq(nl_offsets_track(ot, "a", 0, 1), 0);
    ck_assert_int_eq(nl_offsets_track(ot, "a", 1, 0), 0);
    ck_assert_int_eq(nl_offsets_track(ot, "b", 0, 10), 0);
    ck_assert_int_eq(nl_offsets_track(ot, "b", 0, 11), 0);
    ck_assert_int_eq(nl_offsets_track(ot, "c", 2, 7), 0);

    /* nothing done: nothing visited */
    nl_offsets_foreach(ot, collect, &vs);
    ck_assert_uint_eq(vs.n, 0);

    ck_assert_int_eq(nl_offsets_done(ot, "a", 0, 0), 1);
    ck_assert_int_eq(nl_offsets_done(ot, "b", 0, 11), 0); /* held back */
    ck_assert_int_eq(nl_offsets_done(ot, "c", 2, 7), 1);  /* fully drained */
    nl_offsets_foreach(ot, collect, &vs);
    ck_assert_uint_eq(vs.n, 2);
    ck_assert_int_eq(visited(&vs, "a", 0), 1);
    ck_assert_int_eq(visited(&vs, "c", 2), 8);
    ck_assert_int_eq(visited(&vs, "a", 1), -2);
    ck_assert_int_eq(visited(&vs, "b", 0), -2);

    ck_assert_int_eq(nl_offsets_done(ot, "b", 0, 10), 1);
    nl_offsets_forget(ot, "a", 0);
    memset(&vs, 0, sizeof(vs));
    nl_offsets_foreach(ot, collect, &vs);
    ck_assert_uint_eq(vs.n, 2);
    ck_assert_int_eq(visited(&vs, "b", 0), 12);
    ck_assert_int_eq(visited(&vs, "c", 2), 8);
    ck_assert_int_eq(visited(&vs, "a", 0), -2);
}
END_TEST

/* ---- randomized against a reference model ------------------------------- */

#define RND_PARTS 4
#define RND_TOTAL 10000

struct ref_part {
    int64_t *offs; /* tracked offsets in order */
    unsigned char *done;
    size_t n;
    size_t prefix; /* length of the longest done prefix */
};

struct pick {
    int32_t part;
    size_t idx;
};

static int64_t ref_committable(const struct ref_part *rp)
{
    return rp->prefix == 0 ? -1 : rp->offs[rp->prefix - 1] + 1;
}

START_TEST(test_randomized_against_model)
{
    struct ref_part ref[RND_PARTS];
    struct pick *order = malloc(RND_TOTAL * sizeof(*order));
    int64_t next_off[RND_PARTS];
    size_t in_flight = 0;

    ck_assert_ptr_nonnull(order);
    rng_seed(20261123);
    for (int p = 0; p < RND_PARTS; p++) {
        ref[p].offs = malloc(RND_TOTAL * sizeof(int64_t));
        ref[p].done = calloc(RND_TOTAL, 1);
        ck_assert_ptr_nonnull(ref[p].offs);
        ck_assert_ptr_nonnull(ref[p].done);
        ref[p].n = 0;
        ref[p].prefix = 0;
        next_off[p] = (int64_t)rng_below(1000);
    }

    /* Track 10,000 offsets spread over the partitions, with occasional
     * holes in the offset sequence. */
    for (size_t i = 0; i < RND_TOTAL; i++) {
        int32_t p = (int32_t)rng_below(RND_PARTS);
        int64_t off = next_off[p];
        next_off[p] += rng_below(8) == 0 ? 1 + (int64_t)rng_below(5) : 1;
        ck_assert_int_eq(nl_offsets_track(ot, "topic", p, off), 0);
        order[i].part = p;
        order[i].idx = ref[p].n;
        ref[p].offs[ref[p].n++] = off;
        in_flight++;
    }
    ck_assert_uint_eq(nl_offsets_in_flight(ot), in_flight);

    /* Fisher-Yates shuffle of the done order. */
    for (size_t i = RND_TOTAL - 1; i > 0; i--) {
        size_t j = rng_below(i + 1);
        struct pick tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
    }

    for (size_t i = 0; i < RND_TOTAL; i++) {
        struct ref_part *rp = &ref[order[i].part];
        int64_t before = ref_committable(rp);
        int rc;

        rc = nl_offsets_done(ot, "topic", order[i].part, rp->offs[order[i].idx]);
        rp->done[order[i].idx] = 1;
        while (rp->prefix < rp->n && rp->done[rp->prefix]) {
            rp->prefix++;
        }
        in_flight--;
        ck_assert_msg(rc == (ref_committable(rp) != before ? 1 : 0),
                      "step %zu: done(p=%d, off=%lld) returned %d", i, (int)order[i].part,
                      (long long)rp->offs[order[i].idx], rc);
        for (int p = 0; p < RND_PARTS; p++) {
            int64_t got = nl_offsets_committable(ot, "topic", p);
            ck_assert_msg(got == ref_committable(&ref[p]),
                          "step %zu: partition %d committable %lld, model says %lld", i, p,
                          (long long)got, (long long)ref_committable(&ref[p]));
        }
        ck_assert_uint_eq(nl_offsets_in_flight(ot), in_flight);
    }
    for (int p = 0; p < RND_PARTS; p++) {
        ck_assert_uint_eq(ref[p].prefix, ref[p].n);
        if (ref[p].n > 0) {
            ck_assert_int_eq(nl_offsets_committable(ot, "topic", p), ref[p].offs[ref[p].n - 1] + 1);
        }
        free(ref[p].offs);
        free(ref[p].done);
    }
    ck_assert_uint_eq(nl_offsets_in_flight(ot), 0);
    free(order);
}
END_TEST

/* Interleaves track and done at random (a consumer that keeps a bounded
 * window in flight), which exercises the deque's compaction and growth
 * paths while offsets are live at both ends. */
START_TEST(test_randomized_interleaved)
{
    enum { STEPS = 40000, MAXLIVE = 300 };
    struct ref_part ref[RND_PARTS];
    int64_t next_off[RND_PARTS];
    size_t in_flight = 0;

    rng_seed(42);
    for (int p = 0; p < RND_PARTS; p++) {
        ref[p].offs = malloc(STEPS * sizeof(int64_t));
        ref[p].done = calloc(STEPS, 1);
        ck_assert_ptr_nonnull(ref[p].offs);
        ck_assert_ptr_nonnull(ref[p].done);
        ref[p].n = 0;
        ref[p].prefix = 0;
        next_off[p] = 0;
    }
    for (size_t step = 0; step < STEPS; step++) {
        int32_t p = (int32_t)rng_below(RND_PARTS);
        struct ref_part *rp = &ref[p];
        size_t live = rp->n - rp->prefix;
        /* Track more often than done while the window is small. */
        int track = live == 0 || (live < MAXLIVE && rng_below(100) < 55);

        if (track) {
            int64_t off = next_off[p];
            next_off[p] += 1 + (rng_below(16) == 0 ? 3 : 0);
            ck_assert_int_eq(nl_offsets_track(ot, "x", p, off), 0);
            rp->offs[rp->n++] = off;
            in_flight++;
        } else {
            /* Done a random not-yet-done entry of the live window, biased
             * towards the oldest ones. */
            size_t k;
            size_t tries = 0;
            int64_t before = ref_committable(rp);
            int rc;
            do {
                size_t span = rng_below(4) == 0 ? live : (live < 8 ? live : 8);
                k = rp->prefix + rng_below(span);
                tries++;
            } while (rp->done[k] && tries < 64);
            if (rp->done[k]) {
                k = rp->prefix; /* the head is never done */
            }
            rc = nl_offsets_done(ot, "x", p, rp->offs[k]);
            rp->done[k] = 1;
            while (rp->prefix < rp->n && rp->done[rp->prefix]) {
                rp->prefix++;
            }
            in_flight--;
            ck_assert_int_eq(rc, ref_committable(rp) != before ? 1 : 0);
            /* a second done of the same offset is refused */
            ck_assert_int_eq(nl_offsets_done(ot, "x", p, rp->offs[k]), NL_EINVAL);
        }
        ck_assert_int_eq(nl_offsets_committable(ot, "x", p), ref_committable(rp));
        ck_assert_uint_eq(nl_offsets_in_flight(ot), in_flight);
    }
    for (int p = 0; p < RND_PARTS; p++) {
        free(ref[p].offs);
        free(ref[p].done);
    }
}
END_TEST

/* ---- deque growth and compaction ---------------------------------------- */

START_TEST(test_growth_many_in_flight)
{
    /* 100,000 in flight in one partition forces repeated growth. */
    const int64_t n = 100000;
    for (int64_t o = 0; o < n; o++) {
        ck_assert_int_eq(nl_offsets_track(ot, "t", 0, o), 0);
    }
    ck_assert_uint_eq(nl_offsets_in_flight(ot), (size_t)n);
    /* done from the back: nothing moves until the very last */
    for (int64_t o = n - 1; o >= 1; o--) {
        ck_assert_int_eq(nl_offsets_done(ot, "t", 0, o), 0);
    }
    ck_assert_int_eq(nl_offsets_committable(ot, "t", 0), -1);
    ck_assert_int_eq(nl_offsets_done(ot, "t", 0, 0), 1);
    ck_assert_int_eq(nl_offsets_committable(ot, "t", 0), n);
    ck_assert_uint_eq(nl_offsets_in_flight(ot), 0);
}
END_TEST

START_TEST(test_sliding_window_compaction)
{
    /* A constant window of live entries whose head keeps moving: the tail
     * reaches the end of the array while the head is past its start, so
     * the tracker must slide entries down rather than grow forever. */
    const int window = 50;
    int64_t next = 0;
    int64_t oldest = 0;

    for (int i = 0; i < window; i++) {
        ck_assert_int_eq(nl_offsets_track(ot, "t", 0, next++), 0);
    }
    for (int cycle = 0; cycle < 20000; cycle++) {
        ck_assert_int_eq(nl_offsets_track(ot, "t", 0, next++), 0);
        ck_assert_int_eq(nl_offsets_done(ot, "t", 0, oldest), 1);
        oldest++;
        ck_assert_int_eq(nl_offsets_committable(ot, "t", 0), oldest);
        ck_assert_uint_eq(nl_offsets_in_flight(ot), (size_t)window);
    }
    /* Out-of-order inside the window, across compactions. */
    for (int cycle = 0; cycle < 5000; cycle++) {
        ck_assert_int_eq(nl_offsets_track(ot, "t", 0, next++), 0);
        ck_assert_int_eq(nl_offsets_track(ot, "t", 0, next++), 0);
        ck_assert_int_eq(nl_offsets_done(ot, "t", 0, oldest + 1), 0);
        ck_assert_int_eq(nl_offsets_done(ot, "t", 0, oldest), 1);
        oldest += 2;
        ck_assert_int_eq(nl_offsets_committable(ot, "t", 0), oldest);
        ck_assert_uint_eq(nl_offsets_in_flight(ot), (size_t)window);
    }
    for (; oldest < next; oldest++) {
        ck_assert_int_eq(nl_offsets_done(ot, "t", 0, oldest), 1);
    }
    ck_assert_int_eq(nl_offsets_committable(ot, "t", 0), next);
    ck_assert_uint_eq(nl_offsets_in_flight(ot), 0);
}
END_TEST

START_TEST(test_batches_drain_and_refill)
{
    /* Fill a batch, drain it completely (the deque empties and resets),
     * many times over, with a growing batch size. */
    int64_t next = 0;
    for (int cycle = 0; cycle < 500; cycle++) {
        int batch = 1 + cycle % 200;
        int64_t first = next;
        for (int i = 0; i < batch; i++) {
            ck_assert_int_eq(nl_offsets_track(ot, "t", 5, next++), 0);
        }
        /* done in reverse, so only the last call moves the position */
        for (int64_t o = next - 1; o > first; o--) {
            ck_assert_int_eq(nl_offsets_done(ot, "t", 5, o), 0);
        }
        ck_assert_int_eq(nl_offsets_done(ot, "t", 5, first), 1);
        ck_assert_int_eq(nl_offsets_committable(ot, "t", 5), next);
        ck_assert_uint_eq(nl_offsets_in_flight(ot), 0);
    }
}
END_TEST

static Suite *offsets_suite(void)
{
    Suite *s = suite_create("offsets");
    TCase *tc = tcase_create("basics");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_new_is_empty);
    tcase_add_test(tc, test_free_null);
    tcase_add_test(tc, test_committable_minus_one_before_done);
    tcase_add_test(tc, test_in_order_done_advances);
    tcase_add_test(tc, test_first_offset_not_zero);
    tcase_add_test(tc, test_out_of_order_holds_back);
    tcase_add_test(tc, test_gap_in_the_middle);
    tcase_add_test(tc, test_sparse_offsets);
    tcase_add_test(tc, test_track_must_increase);
    tcase_add_test(tc, test_track_negative_on_new_partition);
    tcase_add_test(tc, test_done_untracked);
    tcase_add_test(tc, test_double_done);
    tcase_add_test(tc, test_partitions_independent);
    tcase_add_test(tc, test_topics_independent);
    tcase_add_test(tc, test_topic_name_copied);
    tcase_add_test(tc, test_forget);
    tcase_add_test(tc, test_forget_many_partitions);
    tcase_add_test(tc, test_foreach);
    suite_add_tcase(s, tc);

    tc = tcase_create("stress");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_randomized_against_model);
    tcase_add_test(tc, test_randomized_interleaved);
    tcase_add_test(tc, test_growth_many_in_flight);
    tcase_add_test(tc, test_sliding_window_compaction);
    tcase_add_test(tc, test_batches_drain_and_refill);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(offsets_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
