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

struct nl_emitter {
    struct nl_emit_out *out;
    size_t n, cap;
    size_t max_bytes;
    uint64_t tag; /* nl_emit_tag, valid when has_tag */
    int has_tag;
};

void nl_emit_init(nl_emitter *em, size_t max_bytes);
/* Frees every queued payload and empties the list (keeps capacity). */
void nl_emit_clear(nl_emitter *em);
void nl_emit_free(nl_emitter *em);

/* Runs st->process on one input: parse and check the schema, call the
 * stage. Returns what process returned; on NL_EINVAL/NL_ETOOBIG the
 * emitter holds exactly one dead-letter record for cfg->topic_dlq. */
int nl_stage_process_one(const nl_config *cfg, const nl_stage *st, const nl_input *in,
                         nl_emitter *em);

#endif
