/* Internals shared by the two runners (nl_stage.c, nl_kafka.c). */
#ifndef NL_STAGE_INT_H
#define NL_STAGE_INT_H

#include "nl_stage.h"

struct nl_emit_out {
    const char *topic; /* borrowed from config or the stage, or topic_own; NULL = report */
    char *topic_own;   /* a fan-out copy's topic name, owned */
    char *payload;     /* malloc'd serialised record */
    size_t len;
    char key[17];
    int copy; /* a fan-out copy of the previous record */
};

struct nl_async_set;

struct nl_emitter {
    struct nl_emit_out *out;
    char dlq_code[64]; /* the reason code of the dead letter it holds, if any */
    size_t n, cap;
    size_t max_bytes;
    uint64_t tag; /* nl_emit_tag, valid when has_tag */
    int has_tag;
    /* Set by the runner around a process call of an asynchronous stage. */
    struct nl_async_set *aset; /* NULL: nl_emit_defer refuses */
    const nl_input *cur;       /* the input being processed */
    nl_async *deferred;        /* what nl_emit_defer returned during this call */
};

/* A deferred record: a copy of its input, and its outputs once completed. */
struct nl_async {
    struct nl_async *prev, *next; /* in the set's pending list, or its done list */
    struct nl_async_set *set;
    nl_input in; /* payload and topic point into the copies below */
    char *payload;
    char *topic;
    void *hdrs; /* rd_kafka_headers_t * copy, or NULL */
    nl_emitter em;
    int64_t seen_ms; /* when it was consumed */
    int done;        /* nl_async_done was called */
    int abandoned;   /* the runner gave up on it (revoke, shutdown): drop its answer */
    int rc;
    char code[64];
    char reason[512];
};

/* The runner's deferred records: pending ones (unordered), then completed
 * ones in completion order until the runner takes them. */
typedef struct nl_async_set {
    nl_async *pending;
    nl_async *done_head, *done_tail;
    size_t n_pending, n_done;
    size_t max_bytes;
} nl_async_set;

void nl_async_set_init(nl_async_set *set, size_t max_bytes);
/* Frees every token, pending or completed (the runner is going away). */
void nl_async_set_free(nl_async_set *set);
/* Records deferred and not yet taken back by the runner. */
size_t nl_async_outstanding(const nl_async_set *set);
/* The oldest completed token, unlinked (the caller frees it), or NULL. */
nl_async *nl_async_take(nl_async_set *set);
void nl_async_free(nl_async *tok);
/* Turns a completed token's answer into the runner's: returns its rc; on
 * NL_EINVAL/NL_ETOOBIG tok->em then holds exactly one dead letter. */
int nl_async_finish(const nl_config *cfg, const nl_stage *st, nl_async *tok);

void nl_emit_init(nl_emitter *em, size_t max_bytes);
/* Frees every queued payload and empties the list (keeps capacity). */
void nl_emit_clear(nl_emitter *em);
void nl_emit_free(nl_emitter *em);

/* Runs st->process on one input: parse and check the schema, call the
 * stage. Returns what process returned; on NL_EINVAL/NL_ETOOBIG the
 * emitter holds exactly one dead-letter record for cfg->topic_dlq; on
 * NL_EPENDING em->deferred is the token (in em->aset, which must be set). */
int nl_stage_process_one(const nl_config *cfg, const nl_stage *st, const nl_input *in,
                         nl_emitter *em);

/* The Kafka runner's health, as /healthz reports it (nl_stage.c). The
 * runner's thread writes it, the HTTP thread reads it: atomics. */
enum nl_health_state {
    NL_HEALTH_STARTING,
    NL_HEALTH_RUNNING,
    NL_HEALTH_PAUSED, /* consuming nothing until the sync hook succeeds */
    NL_HEALTH_STOPPING,
};
/* Resets the health to "starting" with no fatal reason (a runner starts). */
void nl_health_reset(void);
void nl_health_set(enum nl_health_state state);
/* The poll loop ran now. */
void nl_health_beat(void);
/* A fatal error: /healthz says "fatal: <reason>" from now on. The first
 * reason stays; any thread may call it. */
void nl_health_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
