/* newsline-fetcher: newsline.fetch -> newsline.raw.
 * Fetches each requested URL with the engine (robots.txt, per-host delays,
 * retries, address guard) and emits the page as a raw record; a URL that
 * cannot be fetched becomes a dead letter with the reason. A URL already
 * in the seen-set of its fetch-topic partition is skipped; one is recorded
 * there once its raw record is acknowledged (seen.h, the stage hooks), and
 * in consumer mode also on the seen-set's changelog topic, whose
 * acknowledgement the fetch record's offset waits for; an assigned
 * partition's seen-set is restored from the changelog before its records
 * are read (seenlog.h), so it follows the partition to another fetcher.
 * In consumer and stdin modes records are processed asynchronously: each
 * becomes a request in the engine at once and completes when its transfer
 * ends, so up to fetcher.max_pending records are fetched concurrently
 * (within the engine's per-host limits and delays).
 * With fetcher.sources set, a poller thread feeds the fetch topic
 * (discover.h).
 * `--url URL` fetches one URL, prints its raw record and exits; `--once`
 * polls every source once and fetches what is new (discover.h). */
#include "discover.h"
#include "engine.h"
#include "nl_err.h"
#include "nl_log.h"
#include "nl_metrics.h"
#include "nl_record.h"
#include "nl_stage.h"
#include "nl_text.h"
#include "seen.h"
#include "seenlog.h"
#include "url.h"

#include <curl/curl.h>
#include <libxml/parser.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fetcher {
    const nl_config *cfg;
    fx_engine *eng;
    int async;     /* consumer and stdin modes: each request's user is its nl_async token */
    uintptr_t seq; /* --url: the request whose result we wait for */
    int got;
    json_t *raw;
    const char *code;
    char reason[256];
    fx_seen **seen; /* by fetch-topic partition, while assigned */
    size_t n_seen;
    int seen_failed; /* a seen-set append failed: the next sync fails */
    size_t n_skipped;
    nl_series *m_skipped; /* newsline_fetcher_seen_skips_total, or NULL */
    fx_seenlog *log;      /* consumer mode: the seen-set changelog */
    int64_t ckpt_ms;      /* when checkpoints were last appended to the files */
    int flush_failing;    /* the changelog's last flush said "not yet" */
};

/* How often the seen-set files get a checkpoint (the changelog offset they
 * cover) while busy; also on revoke and shutdown. A restart on the same
 * host reads the changelog from the last one. */
#define CKPT_INTERVAL_MS 30000

/* ---- the seen-set, one per assigned partition ------------------------- */

static int on_assigned(void *ctx, const char *topic, int32_t partition)
{
    struct fetcher *f = ctx;
    char name[32], path[4096], errbuf[512];

    (void)topic;
    if (partition < 0) {
        return -1;
    }
    if ((size_t)partition >= f->n_seen) {
        size_t n = (size_t)partition + 1;
        fx_seen **v = realloc(f->seen, n * sizeof(*v));
        if (v == NULL) {
            return -1;
        }
        memset(v + f->n_seen, 0, (n - f->n_seen) * sizeof(*v));
        f->seen = v;
        f->n_seen = n;
    }
    if (f->seen[partition] != NULL) {
        return 0;
    }
    /* Named by the partition number only: nothing from a response. */
    snprintf(name, sizeof(name), "seen.%d", (int)partition);
    if (fx_state_path(f->cfg, name, path, sizeof(path), errbuf, sizeof(errbuf)) != 0 ||
        fx_seen_open(path, &f->seen[partition], errbuf, sizeof(errbuf)) != 0) {
        nl_error("seen_open_failed", "partition=%d reason=%s", (int)partition, nl_log_q(errbuf));
        return -1;
    }
    if (f->log != NULL) {
        int rc = fx_seenlog_restore(f->log, partition, f->seen[partition], errbuf, sizeof(errbuf));
        if (rc != 0) {
            fx_seen_close(f->seen[partition]);
            f->seen[partition] = NULL;
            if (rc == NL_ETRANSIENT && nl_stop) {
                /* Stopping anyway: its records are not fetched (fetch_record). */
                nl_warn("seen_restore_stopped", "partition=%d reason=%s", (int)partition,
                        nl_log_q(errbuf));
                return 0;
            }
            nl_error("seen_restore_failed", "partition=%d reason=%s", (int)partition,
                     nl_log_q(errbuf));
            return -1;
        }
    }
    nl_info("seen_loaded", "partition=%d urls=%zu file=%s", (int)partition,
            fx_seen_count(f->seen[partition]), nl_log_q(path));
    return 0;
}

/* Appends to partition p's file the changelog offset it covers, if that
 * can be said now (seenlog.h, fx_seenlog_covered). Not synced. */
static void checkpoint(struct fetcher *f, int32_t p)
{
    char errbuf[512];
    int64_t at = f->log != NULL ? fx_seenlog_covered(f->log, p) : -1;

    if (at >= 0 && fx_seen_set_checkpoint(f->seen[p], at, errbuf, sizeof(errbuf)) != 0) {
        /* the file is a cache: without the checkpoint a restart reads more */
        nl_warn("seen_checkpoint_failed", "partition=%d reason=%s", (int)p, nl_log_q(errbuf));
    }
}

/* Checkpoints, syncs and closes partition p's seen-set. */
static void close_part(struct fetcher *f, int32_t p)
{
    if (f->seen[p] == NULL) {
        return;
    }
    checkpoint(f, p);
    if (f->log != NULL) {
        fx_seenlog_release(f->log, p);
    }
    fx_seen_close(f->seen[p]);
    f->seen[p] = NULL;
}

static void on_revoked(void *ctx, const char *topic, int32_t partition)
{
    struct fetcher *f = ctx;

    (void)topic;
    if (partition >= 0 && (size_t)partition < f->n_seen) {
        close_part(f, partition);
    }
}

static void on_acked(void *ctx, const char *topic, int32_t partition, int64_t offset, uint64_t tag)
{
    struct fetcher *f = ctx;
    char errbuf[512];
    int rc;

    (void)topic;
    (void)offset;
    if (partition < 0 || (size_t)partition >= f->n_seen || f->seen[partition] == NULL) {
        return;
    }
    rc = fx_seen_add(f->seen[partition], tag, errbuf, sizeof(errbuf));
    if (rc < 0) {
        nl_error("seen_write_failed", "partition=%d reason=%s", (int)partition, nl_log_q(errbuf));
        f->seen_failed = 1;
        return;
    }
    /* A URL already in the set is on the changelog already (or queued). */
    if (rc == 1 && f->log != NULL &&
        fx_seenlog_append(f->log, partition, tag, errbuf, sizeof(errbuf)) != 0) {
        nl_error("seen_changelog_failed", "partition=%d reason=%s", (int)partition,
                 nl_log_q(errbuf));
        f->seen_failed = 1;
    }
}

/* The runner's sync hook: the changelog acknowledged, the files synced;
 * only then are the fetch topic's offsets stored. */
static int on_sync(void *ctx)
{
    struct fetcher *f = ctx;
    char errbuf[512];
    int64_t now = nl_now_ms();

    if (f->seen_failed) {
        return -1;
    }
    if (f->log != NULL) {
        int rc = fx_seenlog_flush(f->log, errbuf, sizeof(errbuf));
        if (rc == NL_ETRANSIENT) {
            if (!f->flush_failing) {
                nl_warn("seen_changelog_waiting", "reason=%s", nl_log_q(errbuf));
            }
            f->flush_failing = 1;
            return NL_ETRANSIENT; /* retried with back-off, offsets held */
        }
        if (rc != 0) {
            nl_error("seen_changelog_failed", "reason=%s", nl_log_q(errbuf));
            return -1;
        }
        f->flush_failing = 0;
        if (now - f->ckpt_ms >= CKPT_INTERVAL_MS) {
            f->ckpt_ms = now;
            for (size_t i = 0; i < f->n_seen; i++) {
                if (f->seen[i] != NULL) {
                    checkpoint(f, (int32_t)i);
                }
            }
        }
    }
    for (size_t i = 0; i < f->n_seen; i++) {
        if (f->seen[i] != NULL && fx_seen_sync(f->seen[i], errbuf, sizeof(errbuf)) != 0) {
            nl_error("seen_sync_failed", "partition=%zu reason=%s", i, nl_log_q(errbuf));
            return -1;
        }
    }
    return f->seen_failed ? -1 : 0;
}

static void seen_close_all(struct fetcher *f)
{
    for (size_t i = 0; i < f->n_seen; i++) {
        close_part(f, (int32_t)i);
    }
    free(f->seen);
    f->seen = NULL;
    f->n_seen = 0;
}

/* Completes a deferred fetch record with its result: the raw record, or a
 * dead letter with the reason; "cancelled" (stopping) is "not done". */
static void complete(struct fetcher *f, nl_async *tok, const fx_result *res)
{
    nl_emitter *em = nl_async_emitter(tok);
    json_t *raw;
    int rc;

    if (res->code != NULL) {
        rc = strcmp(res->code, "cancelled") == 0 ? NL_ETRANSIENT : NL_EINVAL;
        nl_async_done(tok, rc, res->code, res->reason);
        return;
    }
    raw = fx_result_record(res);
    if (raw == NULL) {
        nl_async_done(tok, NL_ENOMEM, "no_memory", "out of memory building the raw record");
        return;
    }
    rc = nl_emit(em, f->cfg->topic_raw, raw);
    if (rc == 0) {
        /* seen once the raw record is acknowledged; res->url is the
         * normalised URL the request was made for */
        nl_emit_tag(em, fx_seen_hash(res->url));
    }
    nl_async_done(tok, rc, rc == NL_ETOOBIG ? "body_too_large" : NULL,
                  rc == NL_ETOOBIG ? "raw record exceeds max_record_bytes" : NULL);
}

static void on_result(void *ctx, const fx_result *res)
{
    struct fetcher *f = ctx;

    if (f->async) {
        complete(f, res->user, res);
        return;
    }
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

/* fx_engine_cancel's match: a request of the partition *ctx (every request
 * of the consumer-mode engine is a deferred record). */
static int of_partition(void *ctx, void *user)
{
    return nl_async_input(user)->partition == *(const int32_t *)ctx;
}

/* The runner's revoking hook: the records of the partition that have not
 * started are given back now ("cancelled", taken as not done), so the
 * runner waits only for transfers in flight, and none of them is fetched
 * here after its partition went to another fetcher (which reads them
 * again: it would be a second request for the same URL). */
static void on_revoking(void *ctx, const char *topic, int32_t partition)
{
    struct fetcher *f = ctx;
    size_t n = fx_engine_cancel(f->eng, of_partition, &partition);

    (void)topic;
    if (n > 0) {
        nl_info("revoke_given_back", "partition=%d records=%zu", (int)partition, n);
    }
}

/* The runner's poll: runs the transfers; once stopping, gives back what
 * has not started (fx_engine_drain) and finishes what has. */
static void fetch_poll(void *ctx, int timeout_ms)
{
    struct fetcher *f = ctx;

    if (nl_stop) {
        fx_engine_drain(f->eng);
    }
    fx_engine_poll(f->eng, timeout_ms);
}

static int fetch_record(void *ctx, const nl_input *in, json_t *rec, nl_emitter *em,
                        const char **code, char *errbuf, size_t errlen)
{
    struct fetcher *f = ctx;
    const char *url = nl_record_str(rec, "url");
    char *norm = NULL;
    uint64_t hash = 0;
    int rc;

    if (f->log != NULL && (in->partition < 0 || (size_t)in->partition >= f->n_seen ||
                           f->seen[in->partition] == NULL)) {
        /* its seen-set was not restored (SIGTERM came first): not now */
        *code = "seen_not_restored";
        return nl_errf(errbuf, errlen, NL_ETRANSIENT, "partition %d: seen-set not restored",
                       (int)in->partition);
    }
    if (url != NULL && fx_url_normalize(url, &norm, NULL, 0) == 0) {
        hash = fx_seen_hash(norm);
        if (in->partition >= 0 && (size_t)in->partition < f->n_seen &&
            f->seen[in->partition] != NULL && fx_seen_has(f->seen[in->partition], hash)) {
            f->n_skipped++;
            nl_series_inc(f->m_skipped);
            nl_info("already_seen", "url=%s partition=%d offset=%lld skipped=%zu", nl_log_q(norm),
                    (int)in->partition, (long long)in->offset, f->n_skipped);
            free(norm);
            return 0;
        }
    }
    free(norm);
    if (f->async) {
        fx_request req = {.url = url != NULL ? url : "", .kind = FX_KIND_ARTICLE, .delay_ms = -1};
        nl_async *tok = nl_emit_defer(em);
        if (tok == NULL) {
            return NL_ENOMEM;
        }
        req.user = tok;
        /* A URL that does not normalise completes during this call. */
        if (fx_engine_add(f->eng, &req) != 0) {
            return NL_ENOMEM;
        }
        return NL_EPENDING;
    }
    rc = fetch_one(f, url);
    if (rc != 0) {
        *code = f->code != NULL ? f->code : "fetch_failed";
        nl_errf(errbuf, errlen, rc, "%s", f->reason[0] ? f->reason : "stopped");
        return rc;
    }
    rc = nl_emit(em, f->cfg->topic_raw, f->raw);
    f->raw = NULL;
    if (rc == 0 && hash != 0) {
        nl_emit_tag(em, hash); /* seen once the raw record is acknowledged */
    }
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

/* metrics.listen set: the daemon's endpoint (nl_daemon_serve, which the
 * stage runner then shares: its stage metrics and /healthz) started before
 * the poller, whose engine feeds the registry too (fx_discover_start), and
 * fed by the main engine and the seen-set skips. 0 with *m NULL when it is
 * empty; NL_EXIT_USAGE with one line naming the key when the address is
 * bad or in use. */
static int metrics_start(const nl_config *cfg, struct fetcher *f, nl_metrics **m)
{
    int rc = nl_daemon_serve(cfg, "newsline-fetcher");

    *m = nl_daemon_metrics();
    if (rc != 0 || *m == NULL) {
        return rc;
    }
    fx_engine_set_metrics(f->eng, *m);
    f->m_skipped = nl_metric_series(
        nl_metrics_counter(*m, "newsline_fetcher_seen_skips_total",
                           "Fetch records skipped because their URL was in the seen-set", 0, NULL,
                           1),
        NULL);
    return 0;
}

/* 1 if --brokers is on the command line (--once then produces to Kafka;
 * NEWSLINE_BROKERS alone does not switch it from stdout). */
static int brokers_given(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--brokers") == 0 || strncmp(argv[i], "--brokers=", 10) == 0) {
            return 1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    nl_config cfg;
    struct fetcher f = {.cfg = &cfg};
    const char *url = NULL;
    const char *once = NULL;
    char errbuf[256];
    int stdin_mode;
    const nl_daemon_opt opts[] = {
        {"url", "URL", "fetch URL once, print its raw record (or dead letter) and exit", &url},
        {"once", NULL,
         "poll every source of fetcher.sources once, fetch the new articles, print their raw "
         "records as NDJSON (with --brokers: produce them to topics.raw) and exit",
         &once},
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
    xmlInitParser();
    if (once != NULL) {
        if (url != NULL || stdin_mode) {
            fprintf(stderr, "newsline-fetcher: --once goes with neither --url nor --stdin\n");
            rc = NL_EXIT_USAGE;
        } else {
            rc = fx_run_once(&cfg, brokers_given(argc, argv));
        }
        goto out;
    }
    f.eng = fx_engine_new(&cfg, on_result, &f, errbuf, sizeof(errbuf));
    if (f.eng == NULL) {
        fprintf(stderr, "newsline-fetcher: %s\n", errbuf);
        rc = strncmp(errbuf, "fetcher.", 8) == 0 ? NL_EXIT_USAGE : NL_EXIT_SOFTWARE;
    } else if (url != NULL) {
        rc = fetch_url(&f, url);
    } else if (stdin_mode) {
        nl_stage st = {"fetcher", NL_SCHEMA_FETCH, cfg.topic_fetch, fetch_record, &f};
        nl_stage_hooks hooks = {.poll = fetch_poll, .max_pending = (size_t)cfg.fetcher_max_pending};
        f.async = 1;
        rc = nl_stage_run_stdin_hooks(&cfg, &st, &hooks, stdin, stdout);
    } else {
        /* Many records in flight: each is a request in the engine and
         * completes when its transfer ends (nl_stage.h, asynchronous). */
        nl_stage st = {"fetcher", NL_SCHEMA_FETCH, cfg.topic_fetch, fetch_record, &f};
        nl_stage_hooks hooks = {on_assigned,
                                on_revoked,
                                on_acked,
                                on_sync,
                                cfg.fetcher_seen_sync_ms,
                                fetch_poll,
                                (size_t)cfg.fetcher_max_pending,
                                on_revoking};
        fx_discover *disc = NULL;
        nl_metrics *m = NULL;
        f.async = 1;
        f.ckpt_ms = nl_now_ms();
        rc = metrics_start(&cfg, &f, &m);
        if (rc != 0) {
            goto out; /* the reason is printed: one line */
        }
        rc = fx_seenlog_open(&cfg, &f.log);
        if (rc == 0) {
            rc = fx_discover_start(&cfg, m, &disc);
        }
        if (rc == 0) {
            rc = nl_stage_run_kafka_hooks(&cfg, &st, &hooks);
            fx_discover_stop(disc);
        }
        nl_info("seen_summary", "skipped_already_seen=%zu changelog_corrupt=%llu", f.n_skipped,
                (unsigned long long)(f.log != NULL ? fx_seenlog_corrupt(f.log) : 0));
        seen_close_all(&f);
        fx_seenlog_close(f.log);
        /* the engines feeding m are gone (disc) or idle (f.eng, freed below
         * but no longer counting once the server is down) */
        fx_engine_set_metrics(f.eng, NULL);
        nl_daemon_serve_stop();
    }
out:
    json_decref(f.raw);
    fx_engine_free(f.eng);
    curl_global_cleanup();
    nl_config_free(&cfg);
    return rc;
}
