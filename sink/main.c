/* newsline-sink: newsline.tagged -> corpus/ (files beside the seeds).
 *
 * Kafka mode: each record's files are written to temp files as it comes
 * (st_stage); every sink.sync_ms the sync hook makes the batch durable at
 * once (st_sync) and only then does the runner store the batch's offsets.
 * Stdin mode has no offsets to hold back: each record is made durable
 * before its report is printed (st_put), as before batching.
 *
 * A disk error (full, read-only, file too large) stores nothing for what
 * was not written: the record (or the sync) fails with NL_ETRANSIENT and
 * the runner retries it with back-off; one error line says why when it
 * starts and one info line when it is over. */
#include "nl_err.h"
#include "nl_log.h"
#include "nl_record.h"
#include "nl_stage.h"
#include "nl_text.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>

struct sink {
    nl_store *st;
    int stdin_mode;
    int64_t failing_since; /* 0: the last write or sync succeeded */
    unsigned long failures;
};

/* Stages whose first-seen time the sidecar records, in pipeline order. */
static const char *const trace_stages[] = {"replay", "fetcher", "parser", "tagger", NULL};

/* One error line when the store starts failing, then quiet until it works
 * again (the runner retries with back-off meanwhile). */
static void store_failed(struct sink *sk, const char *id, int rc, const char *reason)
{
    sk->failures++;
    if (sk->failing_since != 0 && rc == NL_ETRANSIENT) {
        nl_debug("store_retry_failed", "id=%s reason=%s", id != NULL ? id : "-", nl_log_q(reason));
        return;
    }
    if (rc == NL_ETRANSIENT) {
        sk->failing_since = nl_now_ms();
    }
    nl_error("store_failed", "id=%s error=%s reason=%s note=%s", id != NULL ? id : "-",
             nl_err_code(rc), nl_log_q(reason),
             rc == NL_ETRANSIENT ? "\"no offset stored for it; retrying with back-off\""
                                 : "\"exiting; nothing acknowledged past what is durable\"");
}

static void store_ok(struct sink *sk)
{
    if (sk->failing_since != 0) {
        nl_info("store_resumed", "failed_ms=%lld failures=%lu",
                (long long)(nl_now_ms() - sk->failing_since), sk->failures);
        sk->failing_since = 0;
        sk->failures = 0;
    }
}

/* A record is durable: say so (the e2e tests count these lines). */
static void on_durable(void *arg, const json_t *report)
{
    (void)arg;
    nl_info("stored", "id=%s file=%s status=%s", nl_record_str(report, "id"),
            nl_record_str(report, "file"), nl_record_str(report, "status"));
}

static int store_record(void *ctx, const nl_input *in, json_t *rec, nl_emitter *em,
                        const char **code, char *errbuf, size_t errlen)
{
    struct sink *sk = ctx;
    json_t *trace = json_object();
    json_t *report = NULL;
    char name[32], val[32];
    int rc;

    (void)code;
    if (trace == NULL) {
        return NL_ENOMEM;
    }
    for (int i = 0; trace_stages[i] != NULL; i++) {
        snprintf(name, sizeof(name), "nl-t-%s", trace_stages[i]);
        if (nl_input_header(in, name, val, sizeof(val)) != NULL) {
            json_object_set_new(trace, trace_stages[i], json_integer(strtoll(val, NULL, 10)));
        }
    }
    json_object_set_new(trace, "sink", json_integer(nl_now_ms()));
    rc = sk->stdin_mode ? st_put(sk->st, rec, json_object_size(trace) > 1 ? trace : NULL, &report,
                                 errbuf, errlen)
                        : st_stage(sk->st, rec, json_object_size(trace) > 1 ? trace : NULL, &report,
                                   errbuf, errlen);
    json_decref(trace);
    if (rc != 0) {
        store_failed(sk, nl_record_str(rec, "id"), rc, errbuf);
        return rc == NL_ETRANSIENT || rc == NL_ENOMEM ? rc : NL_EFATAL;
    }
    store_ok(sk);
    return nl_emit(em, NULL, report);
}

/* The runner's sync hook: the batch durable, then its offsets stored. */
static int sync_batch(void *ctx)
{
    struct sink *sk = ctx;
    char errbuf[512];
    int rc = st_sync(sk->st, errbuf, sizeof(errbuf));

    if (rc != 0) {
        store_failed(sk, NULL, rc, errbuf);
        return rc == NL_ETRANSIENT ? NL_ETRANSIENT : -1;
    }
    store_ok(sk);
    return 0;
}

int main(int argc, char **argv)
{
    nl_config cfg;
    struct sink sk = {0};
    nl_index *ix = NULL;
    char errbuf[512];
    int rc = nl_daemon_init(argc, argv, "newsline-sink",
                            "Stores tagged documents (newsline.tagged) in the corpus directory "
                            "as NNN_<id>.txt with a .json sidecar.",
                            &cfg, &sk.stdin_mode, NULL);
    if (rc != 0) {
        nl_config_free(&cfg);
        return rc < 0 ? 0 : rc;
    }
    if (st_open(cfg.sink_corpus_dir, &sk.st, errbuf, sizeof(errbuf)) != 0) {
        fprintf(stderr, "newsline-sink: %s\n", errbuf);
        nl_config_free(&cfg);
        return NL_EXIT_FAIL;
    }
    /* The index is derived from the files: missing, corrupt or out of step,
     * it is rebuilt here, before any record is taken. */
    if (ix_open(cfg.sink_corpus_dir, IX_OPEN_REPAIR, &ix, errbuf, sizeof(errbuf)) != 0) {
        fprintf(stderr, "newsline-sink: %s\n", errbuf);
        st_close(sk.st);
        nl_config_free(&cfg);
        return NL_EXIT_FAIL;
    }
    st_set_index(sk.st, ix);
    st_on_durable(sk.st, on_durable, NULL);
    nl_info("corpus_opened", "dir=%s documents=%zu indexed_versions=%ld sync_ms=%lld",
            nl_log_q(cfg.sink_corpus_dir), st_count(sk.st), ix_count(ix),
            (long long)cfg.sink_sync_ms);
    nl_stage stage = {"sink", NL_SCHEMA_TAGGED, cfg.topic_tagged, store_record, &sk};
    nl_stage_hooks hooks = {.sync = sync_batch, .sync_interval_ms = cfg.sink_sync_ms};
    rc = sk.stdin_mode ? nl_stage_run_stdin(&cfg, &stage, stdin, stdout)
                       : nl_stage_run_kafka_hooks(&cfg, &stage, &hooks);
    st_close(sk.st); /* a batch not synced is dropped: its offsets were not stored */
    ix_close(ix);
    nl_config_free(&cfg);
    return rc;
}
