/* newsline-fetcher: newsline.fetch -> newsline.raw.
 * Fetches each requested URL with the engine (robots.txt, per-host delays,
 * retries, address guard) and emits the page as a raw record; a URL that
 * cannot be fetched becomes a dead letter with the reason.
 * `--url URL` fetches one URL, prints its raw record and exits. */
#include "engine.h"
#include "nl_err.h"
#include "nl_log.h"
#include "nl_record.h"
#include "nl_stage.h"

#include <curl/curl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fetcher {
    const nl_config *cfg;
    fx_engine *eng;
    uintptr_t seq; /* the request whose result we wait for */
    int got;
    json_t *raw;
    const char *code;
    char reason[256];
};

static void on_result(void *ctx, const fx_result *res)
{
    struct fetcher *f = ctx;

    if ((uintptr_t)res->user != f->seq) {
        return; /* left over from a request given up on (nl_stop) */
    }
    f->got = 1;
    if (res->code != NULL) {
        f->code = res->code;
        snprintf(f->reason, sizeof(f->reason), "%s", res->reason);
        return;
    }
    f->raw = fx_result_record(res);
    if (f->raw == NULL) {
        f->code = "no_memory";
        snprintf(f->reason, sizeof(f->reason), "out of memory building the raw record");
    }
}

/* Fetches one URL through the engine: 0 with f->raw, or NL_EINVAL with
 * f->code and f->reason, or NL_ETRANSIENT when stopped first. */
static int fetch_one(struct fetcher *f, const char *url)
{
    fx_request req = {.url = url != NULL ? url : "", .kind = FX_KIND_ARTICLE, .delay_ms = -1};

    f->seq++;
    f->got = 0;
    f->raw = NULL;
    f->code = NULL;
    f->reason[0] = '\0';
    req.user = (void *)f->seq;
    if (fx_engine_add(f->eng, &req) != 0) {
        return NL_ENOMEM;
    }
    while (!f->got && !nl_stop && fx_engine_pending(f->eng) > 0) {
        fx_engine_run(f->eng, 1000);
    }
    if (!f->got) {
        return NL_ETRANSIENT;
    }
    if (f->raw == NULL) {
        return strcmp(f->code, "no_memory") == 0 ? NL_ENOMEM : NL_EINVAL;
    }
    return 0;
}

static int fetch_record(void *ctx, const nl_input *in, json_t *rec, nl_emitter *em,
                        const char **code, char *errbuf, size_t errlen)
{
    struct fetcher *f = ctx;
    int rc;

    (void)in;
    rc = fetch_one(f, nl_record_str(rec, "url"));
    if (rc != 0) {
        *code = f->code != NULL ? f->code : "fetch_failed";
        nl_errf(errbuf, errlen, rc, "%s", f->reason[0] ? f->reason : "stopped");
        return rc;
    }
    rc = nl_emit(em, f->cfg->topic_raw, f->raw);
    f->raw = NULL;
    if (rc == NL_ETOOBIG) {
        *code = "body_too_large";
        nl_errf(errbuf, errlen, rc, "raw record exceeds max_record_bytes");
    }
    return rc;
}

/* --url: the raw record on stdout, or the dead letter on stdout and the
 * reason on stderr with exit 1. */
static int fetch_url(struct fetcher *f, const char *url)
{
    int rc = fetch_one(f, url);
    json_t *out = f->raw;

    f->raw = NULL;
    if (rc != 0) {
        json_t *req = json_pack("{s:s, s:s}", "schema", NL_SCHEMA_FETCH, "url", url);
        char *payload = req != NULL ? nl_record_dump(req, NULL) : NULL;
        nl_input in = {payload, payload != NULL ? strlen(payload) : 0, "cli", -1, 0, NULL};
        const char *code = f->code != NULL ? f->code : "fetch_failed";
        fprintf(stderr, "newsline-fetcher: %s: %s: %s\n", url, code,
                f->reason[0] ? f->reason : "stopped");
        out = payload != NULL ? nl_dlq_record("fetcher", code, f->reason, &in) : NULL;
        free(payload);
        json_decref(req);
    }
    if (out != NULL) {
        char *s = nl_record_dump(out, NULL);
        if (s != NULL) {
            printf("%s\n", s);
            free(s);
        }
        json_decref(out);
    }
    fflush(stdout);
    return rc == 0 ? NL_EXIT_OK : NL_EXIT_FAIL;
}

int main(int argc, char **argv)
{
    nl_config cfg;
    struct fetcher f = {.cfg = &cfg};
    const char *url = NULL;
    char errbuf[256];
    int stdin_mode;
    const nl_daemon_opt opts[] = {
        {"url", "URL", "fetch URL once, print its raw record (or dead letter) and exit", &url},
        {NULL, NULL, NULL, NULL},
    };
    int rc = nl_daemon_init_opts(argc, argv, "newsline-fetcher",
                                 "Fetches the URLs requested on newsline.fetch ({\"schema\": "
                                 "\"newsline.fetch/1\", \"url\": ...}) into raw records "
                                 "(newsline.raw).",
                                 &cfg, &stdin_mode, NULL, opts);
    if (rc != 0) {
        nl_config_free(&cfg);
        return rc < 0 ? 0 : rc;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    f.eng = fx_engine_new(&cfg, on_result, &f, errbuf, sizeof(errbuf));
    if (f.eng == NULL) {
        fprintf(stderr, "newsline-fetcher: %s\n", errbuf);
        rc = strncmp(errbuf, "fetcher.", 8) == 0 ? NL_EXIT_USAGE : NL_EXIT_SOFTWARE;
    } else if (url != NULL) {
        rc = fetch_url(&f, url);
    } else {
        nl_stage st = {"fetcher", NL_SCHEMA_FETCH, cfg.topic_fetch, fetch_record, &f};
        rc = stdin_mode ? nl_stage_run_stdin(&cfg, &st, stdin, stdout)
                        : nl_stage_run_kafka(&cfg, &st);
    }
    json_decref(f.raw);
    fx_engine_free(f.eng);
    curl_global_cleanup();
    nl_config_free(&cfg);
    return rc;
}
