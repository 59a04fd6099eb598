/* bench-fetch: fetches every URL of a file (one a line) with the fetch
 * engine, politeness off (no robots.txt, no delay, IN_FLIGHT per host), and
 * prints pages, failures, seconds and pages/s. Peak memory is measured from
 * outside (bench/fetch.sh runs it under /usr/bin/time -v).
 *   bench-fetch URLS [IN_FLIGHT]   (default 1000) */
#include "engine.h"
#include "nl_config.h"
#include "nl_log.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct counts {
    size_t ok, failed, bytes;
    const char *first_error;
};

static void on_result(void *ctx, const fx_result *res)
{
    struct counts *n = ctx;
    if (res->code == NULL) {
        n->ok++;
        n->bytes += res->body_len;
    } else {
        n->failed++;
        if (n->first_error == NULL) {
            n->first_error = res->code;
        }
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    nl_config cfg;
    struct counts n = {0};
    char errbuf[256], line[4096];
    const char *in_flight = argc > 2 ? argv[2] : "1000";
    const char *set[][2] = {
        {"fetcher.robots", "false"},          {"fetcher.min_delay_ms", "0"},
        {"fetcher.max_in_flight", in_flight}, {"fetcher.per_host", in_flight},
        {"fetcher.max_attempts", "1"},        {"fetcher.allow_private", "127.0.0.0/8,::1"},
    };
    size_t urls = 0;
    fx_engine *e;
    FILE *f;
    double t0, t;

    if (argc < 2) {
        fprintf(stderr, "usage: bench-fetch URLS [IN_FLIGHT]\n");
        return 2;
    }
    nl_log_level = NL_LOG_WARN + 1; /* errors only: no line per page */
    if (nl_config_init(&cfg) != 0) {
        return 1;
    }
    for (size_t i = 0; i < sizeof(set) / sizeof(set[0]); i++) {
        if (nl_config_set(&cfg, set[i][0], set[i][1], errbuf, sizeof(errbuf)) != 0) {
            fprintf(stderr, "bench-fetch: %s\n", errbuf);
            return 2;
        }
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    e = fx_engine_new(&cfg, on_result, &n, errbuf, sizeof(errbuf));
    f = fopen(argv[1], "r");
    if (e == NULL || f == NULL) {
        fprintf(stderr, "bench-fetch: %s\n", e == NULL ? errbuf : "cannot open the URL list");
        return 1;
    }
    t0 = now_s();
    while (fgets(line, sizeof(line), f) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] != '\0') {
            fx_request req = {.url = line, .kind = FX_KIND_ARTICLE, .delay_ms = -1};
            if (fx_engine_add(e, &req) != 0) {
                return 1;
            }
            urls++;
        }
    }
    fclose(f);
    fx_engine_run(e, -1);
    t = now_s() - t0;
    printf("urls=%zu ok=%zu failed=%zu bytes=%zu seconds=%.3f pages_per_s=%.0f%s%s\n", urls, n.ok,
           n.failed, n.bytes, t, (double)n.ok / t, n.first_error ? " first_error=" : "",
           n.first_error ? n.first_error : "");
    fx_engine_free(e);
    curl_global_cleanup();
    nl_config_free(&cfg);
    return n.failed == 0 ? 0 : 1;
}
