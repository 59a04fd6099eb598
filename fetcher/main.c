/* newsline-fetcher: newsline.fetch -> newsline.raw.
 * Fetches each requested URL and emits the page as a raw record; a URL
 * that cannot be fetched becomes a dead letter with the reason. */
#include "fetch.h"
#include "nl_err.h"
#include "nl_log.h"
#include "nl_record.h"
#include "nl_stage.h"

#include <curl/curl.h>
#include <stdlib.h>

struct fetcher {
    const nl_config *cfg;
    fx_fetcher *fx;
};

static int fetch_record(void *ctx, const nl_input *in, json_t *rec, nl_emitter *em,
                        const char **code, char *errbuf, size_t errlen)
{
    struct fetcher *f = ctx;
    json_t *raw = NULL;
    int rc;

    (void)in;
    rc = fx_fetch(f->fx, nl_record_str(rec, "url"), &raw, code, errbuf, errlen);
    if (rc != 0) {
        return rc;
    }
    nl_info("fetched", "id=%s url=%s", nl_record_str(raw, "id"),
            nl_log_q(nl_record_str(raw, "url")));
    rc = nl_emit(em, f->cfg->topic_raw, raw);
    if (rc == NL_ETOOBIG) {
        *code = "body_too_large";
        nl_errf(errbuf, errlen, rc, "raw record exceeds max_record_bytes");
    }
    return rc;
}

int main(int argc, char **argv)
{
    nl_config cfg;
    struct fetcher f = {&cfg, NULL};
    int stdin_mode;
    int rc = nl_daemon_init(argc, argv, "newsline-fetcher",
                            "Fetches the URLs requested on newsline.fetch ({\"schema\": "
                            "\"newsline.fetch/1\", \"url\": ...}) into raw records "
                            "(newsline.raw).",
                            &cfg, &stdin_mode, NULL);
    if (rc != 0) {
        nl_config_free(&cfg);
        return rc < 0 ? 0 : rc;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    f.fx = fx_new(&cfg);
    if (f.fx == NULL) {
        fprintf(stderr, "newsline-fetcher: cannot initialise libcurl\n");
        rc = NL_EXIT_SOFTWARE;
    } else {
        nl_stage st = {"fetcher", NL_SCHEMA_FETCH, cfg.topic_fetch, fetch_record, &f};
        rc = stdin_mode ? nl_stage_run_stdin(&cfg, &st, stdin, stdout)
                        : nl_stage_run_kafka(&cfg, &st);
    }
    fx_free(f.fx);
    curl_global_cleanup();
    nl_config_free(&cfg);
    return rc;
}
