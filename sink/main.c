/* newsline-sink: newsline.tagged -> corpus/ (files beside the seeds).
 * A record's offset is stored only after its files are durable. */
#include "nl_err.h"
#include "nl_log.h"
#include "nl_record.h"
#include "nl_text.h"
#include "nl_stage.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>

/* Stages whose first-seen time the sidecar records, in pipeline order. */
static const char *const trace_stages[] = {"replay", "fetcher", "parser", "tagger", NULL};

static int store_record(void *ctx, const nl_input *in, json_t *rec, nl_emitter *em,
                        const char **code, char *errbuf, size_t errlen)
{
    nl_store *st = ctx;
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
    rc = st_put(st, rec, json_object_size(trace) > 1 ? trace : NULL, &report, errbuf, errlen);
    json_decref(trace);
    if (rc != 0) {
        nl_warn("store_failed", "id=%s error=%s reason=%s", nl_record_str(rec, "id"),
                nl_err_code(rc), nl_log_q(errbuf));
        return rc;
    }
    nl_info("stored", "id=%s file=%s status=%s", nl_record_str(report, "id"),
            nl_record_str(report, "file"), nl_record_str(report, "status"));
    return nl_emit(em, NULL, report);
}

int main(int argc, char **argv)
{
    nl_config cfg;
    nl_store *st = NULL;
    nl_index *ix = NULL;
    char errbuf[512];
    int stdin_mode;
    int rc = nl_daemon_init(argc, argv, "newsline-sink",
                            "Stores tagged documents (newsline.tagged) in the corpus directory "
                            "as NNN_<id>.txt with a .json sidecar.",
                            &cfg, &stdin_mode, NULL);
    if (rc != 0) {
        nl_config_free(&cfg);
        return rc < 0 ? 0 : rc;
    }
    if (st_open(cfg.sink_corpus_dir, &st, errbuf, sizeof(errbuf)) != 0) {
        fprintf(stderr, "newsline-sink: %s\n", errbuf);
        nl_config_free(&cfg);
        return NL_EXIT_FAIL;
    }
    /* The index is derived from the files: missing, corrupt or out of step,
     * it is rebuilt here, before any record is taken. */
    if (ix_open(cfg.sink_corpus_dir, IX_OPEN_REPAIR, &ix, errbuf, sizeof(errbuf)) != 0) {
        fprintf(stderr, "newsline-sink: %s\n", errbuf);
        st_close(st);
        nl_config_free(&cfg);
        return NL_EXIT_FAIL;
    }
    st_set_index(st, ix);
    nl_info("corpus_opened", "dir=%s documents=%zu indexed_versions=%ld",
            nl_log_q(cfg.sink_corpus_dir), st_count(st), ix_count(ix));
    nl_stage stage = {"sink", NL_SCHEMA_TAGGED, cfg.topic_tagged, store_record, st};
    rc = stdin_mode ? nl_stage_run_stdin(&cfg, &stage, stdin, stdout)
                    : nl_stage_run_kafka(&cfg, &stage);
    st_close(st);
    ix_close(ix);
    nl_config_free(&cfg);
    return rc;
}
