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
#include "nl_metrics.h"

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
 * fetcher's seen-set) or answers asynchronously, given to
 * nl_stage_run_kafka_hooks (or nl_stage_run_stdin_hooks); any of them may
 * be NULL. All run on the runner's thread. */
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
    /* An asynchronous stage (above): drives its deferred records. Kafka and
     * stdin modes. NULL: process never returns NL_EPENDING. */
    void (*poll)(void *ctx, int timeout_ms);
    size_t max_pending; /* records deferred at once; 0 means 1 */
    /* A partition of in_topic is about to be revoked, before the runner
     * waits for its deferred records: an asynchronous stage completes those
     * it has not started with NL_ETRANSIENT, which the runner takes as
     * given back (not done, offset not stored, read again by the next
     * owner), so the wait covers only work in progress and nothing of the
     * partition is started after it is gone. */
    void (*revoking)(void *ctx, const char *topic, int32_t partition);
} nl_stage_hooks;

/* ---- Asynchronous stages ------------------------------------------------
 *
 * A stage whose work waits on something else (the fetcher: HTTP transfers)
 * may answer later, so that many records are in progress at once on the
 * runner's one thread. Its process function calls nl_emit_defer(em), keeps
 * the token, emits nothing into em, and returns NL_EPENDING. Later (during
 * a call of its poll function, or even before process returns) it
 * completes the token: it emits the outputs into nl_async_emitter(tok) and
 * calls nl_async_done(tok, rc, code, reason), rc being what process would
 * have returned. The runner then produces them (or the dead letter) under
 * the same delivery rule as a synchronous answer: the input offset is done
 * only once they are acknowledged, and offsets are stored contiguously, so
 * records that complete out of order are committed in order.
 *
 * The stage gives its poll function and bound in its nl_stage_hooks. The
 * runner keeps at most max_pending records pending and stops consuming
 * (reading stdin) while it is full. It calls poll(ctx,
 * timeout_ms) whenever records are pending; poll drives the work and
 * returns after at most timeout_ms (about; 0: do what is ready now).
 * poll sees nl_stop: once it is set, the stage should finish what it has
 * started and complete what it has not started with NL_ETRANSIENT
 * ("not done"), which leaves the offset unstored, so the record is read
 * again after the restart. On SIGTERM the runner waits for pending records
 * for at most drain_timeout_ms; on a revoke, for those of the revoked
 * partitions for at most min(drain_timeout_ms, 10 s). Records still
 * pending then are abandoned: their offsets are never stored, what they
 * complete with later is dropped (no output, no acked hook).
 *
 * In stdin mode records complete in any order, so outputs may be printed
 * in another order than their inputs were read.
 *
 * Ownership: a token belongs to the runner; the stage holds it from
 * NL_EPENDING until nl_async_done and must not touch it after. When the
 * runner returns, every token it handed out is freed: the stage drops its
 * references then without completing them. */
typedef struct nl_async nl_async;

/* Defers the answer for the record being processed: a token to complete
 * later. NULL if the stage is not asynchronous (no poll hook) or out of
 * memory (process then returns NL_ENOMEM). Call at most once per record. */
nl_async *nl_emit_defer(nl_emitter *em);

/* The input of a deferred record (its topic, partition, offset), valid
 * until nl_async_done. */
const nl_input *nl_async_input(const nl_async *tok);

/* The emitter a deferred record's outputs go to (nl_emit, nl_emit_with,
 * nl_emit_copy, nl_emit_tag), valid until nl_async_done. */
nl_emitter *nl_async_emitter(nl_async *tok);

/* Completes the token: rc 0 (the outputs emitted), NL_EINVAL/NL_ETOOBIG
 * (dead letter with code and reason, outputs discarded), NL_ETRANSIENT
 * (not done: the offset is not stored; a stopping runner abandons the
 * record, a running one exits 75), anything else exits 70. code and reason
 * are copied; either may be NULL. */
void nl_async_done(nl_async *tok, int rc, const char *code, const char *reason);

typedef struct nl_stage {
    const char *name;      /* "parser": consumer group suffix, dead-letter "stage" */
    const char *in_schema; /* schema every input must have, e.g. NL_SCHEMA_RAW */
    const char *in_topic;  /* input topic (Kafka mode) */
    nl_process_fn process;
    void *ctx;
} nl_stage;

/* ---- The daemon's HTTP endpoint (metrics.listen) ----------------------
 *
 * With metrics.listen set, a daemon in Kafka mode serves GET/HEAD /metrics
 * (one registry per process, nl_daemon_metrics) and /healthz (the Kafka
 * runner's health: 200 "ok" while it consumes normally, else 503 and a
 * reason: "starting", "stopping", "paused: ...", "stalled: ...",
 * "fatal: ..."). The Kafka runner starts the endpoint itself, first thing
 * (before any Kafka client), adds its stage metrics to the registry
 * (newsline_stage_*, labelled by stage) and stops it when it returns. A
 * daemon that registers metrics of its own before the runner starts (the
 * fetcher) calls nl_daemon_serve first and nl_daemon_serve_stop after the
 * runner; the runner then uses that endpoint and leaves it running.
 * Main thread only. */

/* The runner's poll loop must have run within this bound for /healthz to
 * say ok ("stalled" otherwise): a record's processing or a revoke's drain
 * taking longer is reported, not hidden. */
#define NL_HEALTH_STALL_MS 10000

/* Starts the endpoint on cfg->metrics_listen. 0 when it is empty, already
 * started, or now listening (logged: event=metrics_listening ... port=N,
 * the port actually bound). NL_EXIT_USAGE (bad value, address in use) or
 * NL_EXIT_SOFTWARE (no memory) with one line "prog: metrics.listen: ..."
 * on stderr; nothing is started then. */
int nl_daemon_serve(const nl_config *cfg, const char *prog);

/* The registry served, or NULL when the endpoint is not started. */
nl_metrics *nl_daemon_metrics(void);

/* Stops the server and frees the registry: every handle into it is
 * invalid after. Nothing if not started. */
void nl_daemon_serve_stop(void);

/* Runs the stage as a consumer-group member until SIGTERM/SIGINT or a
 * fatal error. Returns a process exit code (NL_EXIT_*). */
int nl_stage_run_kafka(const nl_config *cfg, const nl_stage *st);

/* The same with a stage's hooks (may be NULL: nl_stage_run_kafka). */
int nl_stage_run_kafka_hooks(const nl_config *cfg, const nl_stage *st, const nl_stage_hooks *hooks);

/* Runs the stage as an NDJSON filter from in to out until EOF or SIGTERM.
 * Dead letters are written to out as newsline.dlq/1 records, and dead
 * letters read from in are passed through unchanged. Returns an exit code. */
int nl_stage_run_stdin(const nl_config *cfg, const nl_stage *st, FILE *in, FILE *out);

/* The same with a stage's hooks (may be NULL): only poll and max_pending
 * apply in stdin mode. */
int nl_stage_run_stdin_hooks(const nl_config *cfg, const nl_stage *st, const nl_stage_hooks *hooks,
                             FILE *in, FILE *out);

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
