/* The poller's outlets: --once (fetch at once) and the daemon's thread
 * (the fetch topic). See discover.h. */
#include "discover.h"

#include "engine.h"
#include "nl_err.h"
#include "nl_kafka.h"
#include "nl_log.h"
#include "nl_record.h"
#include "nl_stage.h"
#include "nl_text.h"
#include "poller.h"
#include "seen.h"
#include "sources.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define STATE_FILE "sources-state.json"
#define FLUSH_TIMEOUT_MS 30000

int fx_state_path(const nl_config *cfg, const char *name, char *out, size_t size, char *errbuf,
                  size_t errlen)
{
    char dir[4096];
    size_t len;

    len = (size_t)snprintf(dir, sizeof(dir), "%s", cfg->fetcher_state_dir);
    if (len >= sizeof(dir) || (size_t)snprintf(out, size, "%s/%s", dir, name) >= size) {
        return nl_errf(errbuf, errlen, NL_ETOOBIG, "fetcher.state_dir: path too long");
    }
    /* mkdir -p */
    for (char *p = dir + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
                return nl_errf(errbuf, errlen, NL_EIO, "fetcher.state_dir: %s: %s", dir,
                               strerror(errno));
            }
            *p = c;
            if (c == '\0') {
                break;
            }
        }
    }
    return 0;
}

static int load_sources(const nl_config *cfg, fx_sources **srcs)
{
    char errbuf[512];
    if (fx_sources_load(cfg->fetcher_sources, srcs, errbuf, sizeof(errbuf)) != 0) {
        fprintf(stderr, "newsline-fetcher: fetcher.sources: %s\n", errbuf);
        return NL_EXIT_USAGE;
    }
    return 0;
}

/* ---- --once ----------------------------------------------------------- */

struct once {
    const nl_config *cfg;
    fx_engine *eng;
    fx_poller *poller;
    fx_seen *seen;
    rd_kafka_t *producer; /* or NULL: stdout */
    fx_hset queued;       /* fetched in this run already (found by two sources) */
    int fatal;
    size_t n_queued, n_out, n_failed, n_skipped;
};

/* The `user` of an article request, and the opaque of its message. (The
 * producer's own opaque stays NULL: nl_kafka's error callback reads it as
 * the stage runner's.) */
struct article {
    struct once *o;
    uint64_t hash;
};

static void once_seen(struct once *o, uint64_t hash)
{
    char errbuf[256];
    if (fx_seen_add(o->seen, hash, errbuf, sizeof(errbuf)) < 0) {
        nl_error("seen_write_failed", "reason=%s", nl_log_q(errbuf));
        o->fatal = NL_EXIT_SOFTWARE;
    }
}

static void once_dr(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    struct article *a = rkm->_private;
    struct once *o = a->o;

    (void)rk;
    (void)opaque;
    if (rkm->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        nl_warn("delivery_failed", "topic=%s error=%s", rd_kafka_topic_name(rkm->rkt),
                rd_kafka_err2name(rkm->err));
        o->n_failed++;
    } else {
        o->n_out++;
        once_seen(o, a->hash);
    }
    free(a);
}

static void once_article(struct once *o, const fx_result *res)
{
    struct article *a = res->user;
    json_t *rec;
    char *s;
    size_t len;

    if (res->code != NULL) {
        o->n_failed++; /* the engine has logged why */
        free(a);
        return;
    }
    rec = fx_result_record(res);
    s = rec != NULL ? nl_record_dump(rec, &len) : NULL;
    json_decref(rec);
    if (s == NULL) {
        nl_error("no_memory", "where=raw_record url=%s", nl_log_q(res->url));
        o->fatal = NL_EXIT_SOFTWARE;
        free(a);
        return;
    }
    if (o->producer != NULL) {
        rd_kafka_resp_err_t err = nl_kafka_produce(o->producer, o->cfg->topic_raw, res->id,
                                                   strlen(res->id), s, len, NULL, a);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            nl_error("produce_failed", "topic=%s error=%s", o->cfg->topic_raw,
                     rd_kafka_err2name(err));
            free(s);
            free(a);
            o->fatal = NL_EXIT_SOFTWARE;
        }
        return; /* seen when acknowledged (once_dr) */
    }
    /* Out on stdout first, seen after: a crash in between fetches the page
     * again, it never loses it. */
    if (fwrite(s, 1, len, stdout) != len || fputc('\n', stdout) == EOF || fflush(stdout) != 0) {
        nl_error("write_failed", "where=stdout reason=%s", nl_log_q(strerror(errno)));
        o->fatal = NL_EXIT_SOFTWARE;
    } else {
        o->n_out++;
        once_seen(o, a->hash);
    }
    free(s);
    free(a);
}

static void once_result(void *ctx, const fx_result *res)
{
    struct once *o = ctx;
    if (res->kind == FX_KIND_ARTICLE) {
        once_article(o, res);
    } else {
        fx_poller_on_result(o->poller, res);
    }
}

static int once_emit(void *ctx, size_t i, const fx_source *src, const char *url, uint64_t hash)
{
    struct once *o = ctx;
    struct article *a;
    fx_request req = {.url = url,
                      .kind = FX_KIND_ARTICLE,
                      .source = src->name,
                      .user_agent = src->user_agent,
                      .delay_ms = src->delay_ms};

    (void)i;
    if (fx_seen_has(o->seen, hash) || fx_hset_has(&o->queued, hash)) {
        o->n_skipped++;
        nl_debug("already_seen", "source=%s url=%s", nl_log_q(src->name), nl_log_q(url));
        return 0;
    }
    if (fx_hset_add(&o->queued, hash) < 0) {
        return NL_ENOMEM;
    }
    a = malloc(sizeof(*a));
    if (a == NULL) {
        return NL_ENOMEM;
    }
    a->o = o;
    a->hash = hash;
    req.user = a;
    if (fx_engine_add(o->eng, &req) != 0) {
        free(a);
        return NL_ENOMEM;
    }
    o->n_queued++;
    return 0;
}

int fx_run_once(const nl_config *cfg, int produce)
{
    struct once o = {.cfg = cfg};
    fx_sources *srcs = NULL;
    char path[4096], state[4096], errbuf[512];
    size_t polls = 0, failed = 0;
    int rc;

    if (cfg->fetcher_sources[0] == '\0') {
        fprintf(stderr, "newsline-fetcher: --once needs fetcher.sources (a sources file)\n");
        return NL_EXIT_USAGE;
    }
    rc = load_sources(cfg, &srcs);
    if (rc != 0) {
        return rc;
    }
    if (fx_state_path(cfg, "seen.local", path, sizeof(path), errbuf, sizeof(errbuf)) != 0 ||
        fx_state_path(cfg, STATE_FILE, state, sizeof(state), errbuf, sizeof(errbuf)) != 0 ||
        fx_seen_open(path, &o.seen, errbuf, sizeof(errbuf)) != 0) {
        fprintf(stderr, "newsline-fetcher: %s\n", errbuf);
        rc = NL_EXIT_SOFTWARE;
        goto out;
    }
    o.eng = fx_engine_new(cfg, once_result, &o, errbuf, sizeof(errbuf));
    if (o.eng == NULL) {
        fprintf(stderr, "newsline-fetcher: %s\n", errbuf);
        rc = strncmp(errbuf, "fetcher.", 8) == 0 ? NL_EXIT_USAGE : NL_EXIT_SOFTWARE;
        goto out;
    }
    if (produce) {
        o.producer =
            nl_kafka_producer_new(cfg, "newsline-fetcher", once_dr, NULL, errbuf, sizeof(errbuf));
        if (o.producer == NULL) {
            fprintf(stderr, "newsline-fetcher: %s\n", errbuf);
            rc = NL_EXIT_USAGE;
            goto out;
        }
        if (nl_kafka_wait_brokers(o.producer, cfg, errbuf, sizeof(errbuf)) != 0) {
            fprintf(stderr, "newsline-fetcher: %s\n", errbuf);
            rc = NL_EXIT_UNAVAILABLE;
            goto out;
        }
    }
    o.poller = fx_poller_new(cfg, srcs, o.eng, state, once_emit, &o);
    if (o.poller == NULL) {
        fprintf(stderr, "newsline-fetcher: out of memory\n");
        rc = NL_EXIT_SOFTWARE;
        goto out;
    }
    nl_info("started", "mode=once sources=%zu seen=%zu state_dir=%s", srcs->n,
            fx_seen_count(o.seen), nl_log_q(cfg->fetcher_state_dir));
    fx_poller_start_due(o.poller, nl_now_ms(), 1);
    while (!nl_stop && o.fatal == 0 && fx_engine_pending(o.eng) > 0) {
        fx_engine_run(o.eng, 1000);
        if (o.producer != NULL) {
            rd_kafka_poll(o.producer, 0);
        }
    }
    if (o.producer != NULL && rd_kafka_flush(o.producer, FLUSH_TIMEOUT_MS) != 0) {
        nl_error("flush_timeout", "outstanding=%d", rd_kafka_outq_len(o.producer));
        o.fatal = NL_EXIT_TEMPFAIL;
    }
    if (fx_seen_sync(o.seen, errbuf, sizeof(errbuf)) != 0) {
        nl_error("seen_sync_failed", "reason=%s", nl_log_q(errbuf));
        o.fatal = NL_EXIT_SOFTWARE;
    }
    if (fx_poller_save(o.poller, errbuf, sizeof(errbuf)) != 0) {
        nl_error("state_save_failed", "reason=%s", nl_log_q(errbuf));
    }
    fx_poller_counts(o.poller, &polls, &failed);
    rc = o.fatal ? o.fatal : nl_stop ? NL_EXIT_TEMPFAIL : (polls > 0 && failed == polls) ? 1 : 0;
    nl_info("once_done",
            "sources=%zu sources_failed=%zu articles_new=%zu written=%zu fetch_failed=%zu "
            "skipped_seen=%zu seen=%zu exit=%d",
            polls, failed, o.n_queued, o.n_out, o.n_failed, o.n_skipped, fx_seen_count(o.seen), rc);
out:
    fx_poller_free(o.poller);
    fx_engine_free(o.eng);
    if (o.producer != NULL) {
        rd_kafka_destroy(o.producer);
    }
    fx_seen_close(o.seen);
    fx_hset_free(&o.queued);
    fx_sources_free(srcs);
    return rc;
}

/* ---- the daemon's poller thread --------------------------------------- */

struct fx_discover {
    const nl_config *cfg;
    fx_sources *srcs;
    fx_engine *eng;
    fx_poller *poller;
    rd_kafka_t *producer;
    pthread_t thread;
    int started;
    atomic_int stop;
    size_t n_emitted, n_lost;
};

static void disc_result(void *ctx, const fx_result *res)
{
    struct fx_discover *d = ctx;
    fx_poller_on_result(d->poller, res); /* this engine fetches no articles */
}

/* The opaque of a fetch-topic message (see struct article on why). */
struct emitted {
    struct fx_discover *d;
    size_t i;
};

static void disc_dr(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    struct emitted *em = rkm->_private;
    struct fx_discover *d = em->d;
    size_t i = em->i;
    char url[8200];
    size_t n = rkm->key_len < sizeof(url) - 1 ? rkm->key_len : sizeof(url) - 1;

    (void)rk;
    (void)opaque;
    free(em);
    if (rkm->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        return;
    }
    memcpy(url, rkm->key, n);
    url[n] = '\0';
    d->n_lost++;
    nl_warn("delivery_failed", "topic=%s error=%s url=%s note=\"offered again at the next poll\"",
            rd_kafka_topic_name(rkm->rkt), rd_kafka_err2name(rkm->err), nl_log_q(url));
    fx_poller_forget(d->poller, i, fx_seen_hash(url));
}

static int disc_emit(void *ctx, size_t i, const fx_source *src, const char *url, uint64_t hash)
{
    struct fx_discover *d = ctx;
    json_t *rec =
        json_pack("{s:s, s:s, s:s}", "schema", NL_SCHEMA_FETCH, "url", url, "source", src->name);
    char *s = rec != NULL ? nl_record_dump(rec, NULL) : NULL;
    struct emitted *em = malloc(sizeof(*em));
    rd_kafka_resp_err_t err;

    (void)hash;
    json_decref(rec);
    if (s == NULL || em == NULL) {
        free(s);
        free(em);
        return NL_ENOMEM;
    }
    em->d = d;
    em->i = i;
    err = nl_kafka_produce(d->producer, d->cfg->topic_fetch, url, strlen(url), s, strlen(s), NULL,
                           em);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        free(s);
        free(em);
        nl_warn("produce_failed", "topic=%s error=%s", d->cfg->topic_fetch, rd_kafka_err2name(err));
        return NL_ETRANSIENT;
    }
    d->n_emitted++;
    return 0;
}

static void disc_save(struct fx_discover *d)
{
    char errbuf[512];
    /* Known URLs are saved only once their records are acknowledged (or
     * forgotten again by disc_dr). */
    if (rd_kafka_flush(d->producer, FLUSH_TIMEOUT_MS) != 0) {
        nl_warn("flush_timeout", "outstanding=%d note=\"state not saved\"",
                rd_kafka_outq_len(d->producer));
        return;
    }
    if (fx_poller_save(d->poller, errbuf, sizeof(errbuf)) != 0) {
        nl_error("state_save_failed", "reason=%s", nl_log_q(errbuf));
    }
}

static void *disc_main(void *arg)
{
    struct fx_discover *d = arg;
    int was_busy = 0;

    while (!nl_stop && !atomic_load(&d->stop)) {
        int64_t now = nl_now_ms();
        int busy;

        fx_poller_start_due(d->poller, now, 0);
        if (fx_engine_pending(d->eng) > 0) {
            fx_engine_run(d->eng, 200);
        } else {
            int64_t wait = fx_poller_next_due_ms(d->poller) - nl_now_ms();
            struct timespec ts = {0, 200 * 1000000L};
            if (wait < 200) {
                ts.tv_nsec = (wait > 0 ? wait : 1) * 1000000L;
            }
            nanosleep(&ts, NULL);
        }
        rd_kafka_poll(d->producer, 0);
        busy = fx_poller_busy(d->poller);
        if (was_busy && !busy) {
            disc_save(d);
        }
        was_busy = busy;
    }
    disc_save(d);
    nl_info("poller_stopped", "urls_emitted=%zu deliveries_failed=%zu", d->n_emitted, d->n_lost);
    return NULL;
}

static void disc_free(struct fx_discover *d)
{
    fx_poller_free(d->poller);
    fx_engine_free(d->eng);
    if (d->producer != NULL) {
        rd_kafka_destroy(d->producer);
    }
    fx_sources_free(d->srcs);
    free(d);
}

int fx_discover_start(const nl_config *cfg, nl_metrics *m, fx_discover **out)
{
    struct fx_discover *d;
    char state[4096], errbuf[512];
    int rc;

    *out = NULL;
    if (cfg->fetcher_sources[0] == '\0') {
        return 0;
    }
    d = calloc(1, sizeof(*d));
    if (d == NULL) {
        return NL_EXIT_SOFTWARE;
    }
    d->cfg = cfg;
    rc = load_sources(cfg, &d->srcs);
    if (rc != 0) {
        free(d);
        return rc;
    }
    if (fx_state_path(cfg, STATE_FILE, state, sizeof(state), errbuf, sizeof(errbuf)) != 0) {
        fprintf(stderr, "newsline-fetcher: %s\n", errbuf);
        rc = NL_EXIT_SOFTWARE;
        goto fail;
    }
    d->eng = fx_engine_new(cfg, disc_result, d, errbuf, sizeof(errbuf));
    d->producer = d->eng != NULL ? nl_kafka_producer_new(cfg, "newsline-fetcher-poller", disc_dr,
                                                         NULL, errbuf, sizeof(errbuf))
                                 : NULL;
    if (d->producer == NULL) {
        fprintf(stderr, "newsline-fetcher: %s\n", errbuf);
        rc = NL_EXIT_USAGE;
        goto fail;
    }
    fx_engine_set_metrics(d->eng, m);
    d->poller = fx_poller_new(cfg, d->srcs, d->eng, state, disc_emit, d);
    if (d->poller != NULL) {
        fx_poller_set_metrics(d->poller, m);
    }
    if (d->poller == NULL || pthread_create(&d->thread, NULL, disc_main, d) != 0) {
        fprintf(stderr, "newsline-fetcher: cannot start the poller\n");
        rc = NL_EXIT_SOFTWARE;
        goto fail;
    }
    d->started = 1;
    nl_info("poller_started", "sources=%zu topic=%s", d->srcs->n, cfg->topic_fetch);
    *out = d;
    return 0;
fail:
    disc_free(d);
    return rc;
}

void fx_discover_stop(fx_discover *d)
{
    if (d == NULL) {
        return;
    }
    atomic_store(&d->stop, 1);
    if (d->started) {
        pthread_join(d->thread, NULL);
    }
    disc_free(d);
}
