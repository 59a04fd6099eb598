#include "nl_offsets.h"

#include "nl_err.h"

#include <stdlib.h>
#include <string.h>

struct entry {
    int64_t offset;
    int done;
};

/* A deque of in-flight offsets, oldest at head; done entries at the head
 * are popped and advance `next`. */
struct part {
    char *topic;
    int32_t partition;
    struct entry *e;
    size_t head, tail, cap;
    int64_t next; /* committable position, -1 if none */
    int64_t last; /* last tracked offset, -1 if none */
};

struct nl_offsets {
    struct part *parts;
    size_t n, cap;
    size_t in_flight;
};

nl_offsets *nl_offsets_new(void)
{
    return calloc(1, sizeof(nl_offsets));
}

void nl_offsets_free(nl_offsets *ot)
{
    if (ot == NULL) {
        return;
    }
    for (size_t i = 0; i < ot->n; i++) {
        free(ot->parts[i].topic);
        free(ot->parts[i].e);
    }
    free(ot->parts);
    free(ot);
}

static struct part *find(const nl_offsets *ot, const char *topic, int32_t partition)
{
    for (size_t i = 0; i < ot->n; i++) {
        if (ot->parts[i].partition == partition && strcmp(ot->parts[i].topic, topic) == 0) {
            return &ot->parts[i];
        }
    }
    return NULL;
}

static struct part *find_or_add(nl_offsets *ot, const char *topic, int32_t partition)
{
    struct part *p = find(ot, topic, partition);
    if (p != NULL) {
        return p;
    }
    if (ot->n == ot->cap) {
        size_t cap = ot->cap ? ot->cap * 2 : 8;
        struct part *np = realloc(ot->parts, cap * sizeof(*np));
        if (np == NULL) {
            return NULL;
        }
        ot->parts = np;
        ot->cap = cap;
    }
    p = &ot->parts[ot->n];
    memset(p, 0, sizeof(*p));
    p->topic = strdup(topic);
    if (p->topic == NULL) {
        return NULL;
    }
    p->partition = partition;
    p->next = -1;
    p->last = -1;
    ot->n++;
    return p;
}

int nl_offsets_track(nl_offsets *ot, const char *topic, int32_t partition, int64_t offset)
{
    struct part *p = find_or_add(ot, topic, partition);

    if (p == NULL) {
        return NL_ENOMEM;
    }
    if (offset < 0 || offset <= p->last) {
        return NL_EINVAL;
    }
    if (p->tail == p->cap) {
        if (p->head > 0) {
            /* Slide live entries to the front before growing. */
            memmove(p->e, p->e + p->head, (p->tail - p->head) * sizeof(*p->e));
            p->tail -= p->head;
            p->head = 0;
        }
        if (p->tail == p->cap) {
            size_t cap = p->cap ? p->cap * 2 : 64;
            struct entry *ne = realloc(p->e, cap * sizeof(*ne));
            if (ne == NULL) {
                return NL_ENOMEM;
            }
            p->e = ne;
            p->cap = cap;
        }
    }
    p->e[p->tail].offset = offset;
    p->e[p->tail].done = 0;
    p->tail++;
    p->last = offset;
    ot->in_flight++;
    return 0;
}

int nl_offsets_done(nl_offsets *ot, const char *topic, int32_t partition, int64_t offset)
{
    struct part *p = find(ot, topic, partition);
    size_t lo, hi;
    int moved = 0;

    if (p == NULL) {
        return NL_EINVAL;
    }
    /* Offsets increase along the deque: binary search. */
    lo = p->head;
    hi = p->tail;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->e[mid].offset < offset) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (lo == p->tail || p->e[lo].offset != offset || p->e[lo].done) {
        return NL_EINVAL;
    }
    p->e[lo].done = 1;
    ot->in_flight--;
    while (p->head < p->tail && p->e[p->head].done) {
        p->next = p->e[p->head].offset + 1;
        p->head++;
        moved = 1;
    }
    if (p->head == p->tail) {
        p->head = p->tail = 0;
    }
    return moved;
}

int64_t nl_offsets_committable(const nl_offsets *ot, const char *topic, int32_t partition)
{
    const struct part *p = find(ot, topic, partition);
    return p == NULL ? -1 : p->next;
}

void nl_offsets_forget(nl_offsets *ot, const char *topic, int32_t partition)
{
    struct part *p = find(ot, topic, partition);
    size_t i;

    if (p == NULL) {
        return;
    }
    for (i = p->head; i < p->tail; i++) {
        if (!p->e[i].done) {
            ot->in_flight--;
        }
    }
    free(p->topic);
    free(p->e);
    i = (size_t)(p - ot->parts);
    ot->parts[i] = ot->parts[ot->n - 1];
    ot->n--;
}

size_t nl_offsets_in_flight(const nl_offsets *ot)
{
    return ot->in_flight;
}

void nl_offsets_foreach(const nl_offsets *ot,
                        void (*fn)(void *arg, const char *topic, int32_t partition, int64_t next),
                        void *arg)
{
    for (size_t i = 0; i < ot->n; i++) {
        if (ot->parts[i].next >= 0) {
            fn(arg, ot->parts[i].topic, ot->parts[i].partition, ot->parts[i].next);
        }
    }
}
