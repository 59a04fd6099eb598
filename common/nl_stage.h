/* A pipeline stage: what a daemon plugs into the common runner.
 *
 * The runner owns the life cycle (Kafka or stdin mode), the delivery rule,
 * dead letters and signals; a stage only says how to turn one input record
 * into zero or more output records. Its process function:
 *   - gets the input record already parsed and checked against in_schema
 *     (a record that fails that check is dead-lettered by the runner);
 *   - emits outputs with nl_emit(), which consumes the record it is given;
 *   - returns 0, or an error class: NL_EINVAL / NL_ETOOBIG dead-letter the
 *     input with *code and errbuf as the reason (outputs emitted so far are
 *     discarded); NL_ETRANSIENT retries the same input later; NL_EFATAL or
 *     NL_ENOMEM stop the daemon (exit 70) without committing the input. */
#ifndef NL_STAGE_H
#define NL_STAGE_H

#include "nl_config.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes shared by every daemon (sysexits.h meanings). */
enum {
    NL_EXIT_OK = 0,
    NL_EXIT_FAIL = 1,
    NL_EXIT_USAGE = 2,        /* bad flag or config: nothing was started */
    NL_EXIT_UNAVAILABLE = 69, /* brokers unreachable at start */
    NL_EXIT_SOFTWARE = 70,    /* fatal error: restart me, nothing was lost */
    NL_EXIT_TEMPFAIL = 75,    /* could not drain in time: restart me */
};

typedef struct nl_input {
    const char *payload;
    size_t len;
    const char *topic; /* "stdin" in stdin mode */
    int32_t partition; /* -1 in stdin mode */
    int64_t offset;    /* line number in stdin mode */
    const void *hdrs;  /* rd_kafka_headers_t *, or NULL */
} nl_input;

/* Copies the value of header `name` (NUL-terminated) into buf; returns buf,
 * or NULL if the input has no such header. */
const char *nl_input_header(const nl_input *in, const char *name, char *buf, size_t buflen);

typedef struct nl_emitter nl_emitter;

/* Queues rec (consumed, even on failure) for topic. topic NULL marks a
 * report: printed in stdin mode, not produced in Kafka mode. The Kafka key
 * is rec's "id". 0, NL_ENOMEM, or NL_ETOOBIG when the serialised record
 * passes max_record_bytes. */
int nl_emit(nl_emitter *em, const char *topic, json_t *rec);

/* nl_emit of rec with one more top-level member, field, whose value is the
 * JSON text json (len bytes, trusted to be one valid JSON value: the caller
 * wrote it) spliced into the serialised record without parsing it. rec must
 * not have field already. Consumes rec; same returns as nl_emit. */
int nl_emit_with(nl_emitter *em, const char *topic, json_t *rec, const char *field,
                 const char *json, size_t len);

/* Queues another copy of the last emitted record for topic (a fan-out
 * topic; the name is copied); stdin mode prints each record once, so copies
 * are skipped there. 0, NL_EINVAL (nothing emitted yet) or NL_ENOMEM. */
int nl_emit_copy(nl_emitter *em, const char *topic);

typedef int (*nl_process_fn)(void *ctx, const nl_input *in, json_t *rec, nl_emitter *em,
                             const char **code, char *errbuf, size_t errlen);

/* Tags the record being processed with a value handed back to the acked
 * hook once all its outputs are acknowledged (the fetcher: the URL's hash,
 * to record it as seen). Dropped if the record is dead-lettered. */
void nl_emit_tag(nl_emitter *em, uint64_t tag);

/* Optional hooks for a stage that keeps state per input partition (the
 * fetcher's seen-set), given to nl_stage_run_kafka_hooks; any of them may be NULL. All run on
 * the runner's thread. */
typedef struct nl_stage_hooks {
    /* A partition of in_topic was assigned: called before any of its
     * records is processed. 0, or nonzero to stop the daemon (exit 70). */
    int (*assigned)(void *ctx, const char *topic, int32_t partition);
    /* The partition is going away: called after its outstanding outputs
     * were waited for and its offsets synced, stored and committed (or the
     * assignment was lost). No acked call for it follows. */
    void (*revoked)(void *ctx, const char *topic, int32_t partition);
    /* Every output of a record that called nl_emit_tag was acknowledged. */
    void (*acked)(void *ctx, const char *topic, int32_t partition, int64_t offset, uint64_t tag);
    /* Makes what acked recorded durable. With a sync hook, done offsets are
     * stored only after it returned 0: in batches, every sync_interval_ms,
     * and before the commits on revoke and shutdown. NL_ETRANSIENT (disk
     * full...) stores nothing and pauses consuming: the hook is called
     * again after a back-off (500 ms doubling to 10 s) until it returns 0;
     * failing for longer than four drain timeouts exits 75. Any other
     * nonzero stops the daemon (exit 70) without storing them. */
    int (*sync)(void *ctx);
    int64_t sync_interval_ms;
} nl_stage_hooks;

typedef struct nl_stage {
    const char *name;      /* "parser": consumer group suffix, dead-letter "stage" */
    const char *in_schema; /* schema every input must have, e.g. NL_SCHEMA_RAW */
    const char *in_topic;  /* input topic (Kafka mode) */
    nl_process_fn process;
    void *ctx;
} nl_stage;

/* Runs the stage as a consumer-group member until SIGTERM/SIGINT or a
 * fatal error. Returns a process exit code (NL_EXIT_*). */
int nl_stage_run_kafka(const nl_config *cfg, const nl_stage *st);

/* The same with a stage's hooks (may be NULL: nl_stage_run_kafka). */
int nl_stage_run_kafka_hooks(const nl_config *cfg, const nl_stage *st, const nl_stage_hooks *hooks);

/* Runs the stage as an NDJSON filter from in to out until EOF or SIGTERM.
 * Dead letters are written to out as newsline.dlq/1 records, and dead
 * letters read from in are passed through unchanged. Returns an exit code. */
int nl_stage_run_stdin(const nl_config *cfg, const nl_stage *st, FILE *in, FILE *out);

/* Builds a newsline.dlq/1 record for a payload a stage could not use. */
json_t *nl_dlq_record(const char *stage, const char *reason_code, const char *reason,
                      const nl_input *in);

/* Common daemon start-up: parses the shared flags (--config, --set, --brokers,
 * --stdin, --log-level, --help, --version), loads config file, environment
 * and flags in that order, checks kafka.* keys, and sets up logging and
 * signal handlers. On a usage or config error it prints one line and
 * returns NL_EXIT_USAGE; after --help/--version it returns -1 (exit 0).
 * Otherwise 0, with *stdin_mode set. If argi is NULL any positional
 * argument is an error; otherwise parsing stops at the first one (a
 * subcommand) and *argi is its index (argc if none). */
int nl_daemon_init(int argc, char **argv, const char *prog, const char *summary, nl_config *cfg,
                   int *stdin_mode, int *argi);

/* A daemon's own flag: --name ARG sets *value to ARG; a flag whose arg is
 * NULL takes no argument and sets *value to "1". */
typedef struct nl_daemon_opt {
    const char *name; /* without the dashes */
    const char *arg;  /* "FILE", or NULL for a flag without argument */
    const char *help;
    const char **value; /* receives optarg (borrowed from argv) */
} nl_daemon_opt;

/* nl_daemon_init with the daemon's own flags (at most 8), terminated by an
 * entry with a NULL name; they are listed in --help. */
int nl_daemon_init_opts(int argc, char **argv, const char *prog, const char *summary,
                        nl_config *cfg, int *stdin_mode, int *argi, const nl_daemon_opt *extra);

/* Set by SIGTERM/SIGINT once nl_daemon_init (or nl_signals_install) ran. */
extern volatile int nl_stop;
/* Set by SIGHUP; a stage that can reload its data clears it when it does. */
extern volatile int nl_reload;
void nl_signals_install(void);

#endif
