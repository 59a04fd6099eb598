/* The delivery rule lives here, in one place:
 *
 *   poll a record -> track its offset -> process -> produce its outputs (or
 *   its dead letter) -> when every output's delivery report succeeds, mark
 *   the offset done -> store the highest contiguous done offset + 1.
 *
 * A failed delivery never moves the offset: it is produced again (up to
 * PRODUCE_ATTEMPTS times, then the daemon exits 75 and the record is
 * re-read after restart). A fatal producer error exits 70 after a flush.
 * On revoke the runner waits (bounded) for outstanding reports, stores,
 * commits, then lets the partitions go.
 *
 * A stage with state of its own per partition (nl_stage_hooks) hears of
 * assignments, revocations and acknowledged records; if it has a sync hook,
 * done offsets are stored only after a sync made its state durable, in
 * batches: an offset is never stored for work that is not yet durable. */
#include "nl_kafka.h"

#include "nl_err.h"
#include "nl_log.h"
#include "nl_metrics.h"
#include "nl_offsets.h"
#include "nl_stage_int.h"
#include "nl_text.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PRODUCE_ATTEMPTS 5

struct runner;

/* One consumed record awaiting the acknowledgement of its outputs. */
struct pending {
    struct runner *r;
    char *topic;
    int32_t partition;
    int64_t offset;
    int remaining;
    unsigned epoch; /* assignment epoch it was consumed in */
    int has_tag;    /* nl_emit_tag was called: hand tag to hooks->acked */
    uint64_t tag;
};

/* A delivery that failed and will be produced again. */
struct retry {
    char *topic;
    char *key;
    char *payload;
    size_t len;
    rd_kafka_headers_t *hdrs;
    struct pending *p;
    int attempts;
    struct retry *next;
};

struct runner {
    const nl_config *cfg;
    const nl_stage *st;
    const nl_stage_hooks *hk; /* or NULL */
    rd_kafka_t *consumer;
    rd_kafka_t *producer;
    nl_offsets *ot;
    unsigned epoch;
    struct retry *retries;
    int fatal; /* exit code to leave with, 0 if none */
    size_t n_in, n_out, n_dead, n_redelivered;
    int unsynced;         /* offsets done since the last sync hook call */
    int64_t last_sync_ms; /* when it last ran */
    /* The sync hook said NL_ETRANSIENT (disk full...): nothing is consumed
     * until it succeeds; it is called again at sync_retry_ms. */
    int64_t sync_failing_since; /* 0: not failing */
    int64_t sync_retry_ms;
    int64_t sync_backoff_ms;
    nl_async_set aset;                       /* deferred records of an asynchronous stage */
    void (*poll)(void *ctx, int timeout_ms); /* its poll hook, or NULL */
    int stopping;                            /* the main loop has ended: revokes wait for nothing */
    size_t n_abandoned;
    /* Partitions being revoked: a deferred record of theirs completed
     * "not done" was given back by the stage (hooks->revoking). */
    const rd_kafka_topic_partition_list_t *revoking;
    /* Stage metrics in nl_daemon_metrics(); NULL (no-op) when it is off. */
    nl_series *m_in, *m_out, *m_pending, *m_in_flight, *m_assigned;
    nl_metric *m_dead; /* {stage, code} */
};

static int tok_in(const nl_async *tok, const rd_kafka_topic_partition_list_t *parts);

static size_t async_wait(struct runner *r, const rd_kafka_topic_partition_list_t *parts,
                         int64_t deadline);

/* Back-off of a transient failure (process or sync): 500 ms doubling up
 * to 10 s; given up (exit 75, restart me) after four drain timeouts,
 * before librdkafka's max.poll.interval.ms (5 min) would drop the
 * consumer from its group. */
#define RETRY_FIRST_MS 500
#define RETRY_MAX_MS 10000

static int64_t next_backoff(int64_t prev)
{
    return prev <= 0 ? RETRY_FIRST_MS : prev * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : prev * 2;
}

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    /* librdkafka logs broker connection failures at LOG_ERR, yet it retries
     * them itself; what is fatal arrives through error_cb. So nothing here is
     * louder than a warning. */
    int lvl = level <= 4 ? NL_LOG_WARN : level <= 6 ? NL_LOG_INFO : NL_LOG_DEBUG;
    nl_log(lvl, "librdkafka", "client=%s facility=%s msg=%s", rd_kafka_name(rk), fac,
           nl_log_q(buf));
}

/* The stage runner whose clients carry it as their opaque. Other clients
 * (the CLI's, the fetcher's poller) carry opaques of their own types, so
 * error_cb must not take every opaque for a runner. */
static struct runner *active_runner;
/* Set by error_cb on a fatal error of any client: nl_kafka_fatal_seen(). */
static volatile int fatal_seen;

int nl_kafka_fatal_seen(void)
{
    return fatal_seen;
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct runner *r = opaque != NULL && opaque == (void *)active_runner ? active_runner : NULL;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        fatal_seen = 1;
        char fatal[512];
        rd_kafka_resp_err_t ferr = rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
        nl_error("kafka_fatal", "client=%s error=%s reason=%s", rd_kafka_name(rk),
                 rd_kafka_err2name(ferr), nl_log_q(fatal));
        nl_health_fatal("kafka %s: %s", rd_kafka_err2name(ferr), fatal);
        if (r != NULL) {
            r->fatal = 70;
        }
        return;
    }
    if (err == RD_KAFKA_RESP_ERR__TRANSPORT) {
        return; /* log_cb has already said it, and librdkafka reconnects */
    }
    /* All-brokers-down and friends: librdkafka retries by itself. */
    nl_warn("kafka_error", "client=%s error=%s reason=%s", rd_kafka_name(rk),
            rd_kafka_err2name((rd_kafka_resp_err_t)err), nl_log_q(reason));
}

static int conf_set(rd_kafka_conf_t *conf, const char *k, const char *v, char *errbuf,
                    size_t errlen)
{
    char rkerr[256];
    if (rd_kafka_conf_set(conf, k, v, rkerr, sizeof(rkerr)) != RD_KAFKA_CONF_OK) {
        return nl_errf(errbuf, errlen, NL_EINVAL, "%s: %s", k, rkerr);
    }
    return 0;
}

/* Newsline defaults first, then the user's kafka.* keys, which win. */
static rd_kafka_conf_t *base_conf(const nl_config *cfg, const char *client_id, void *opaque,
                                  char *errbuf, size_t errlen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();

    if (conf_set(conf, "bootstrap.servers", cfg->brokers, errbuf, errlen) != 0 ||
        conf_set(conf, "client.id", client_id, errbuf, errlen) != 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_log_cb(conf, log_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    rd_kafka_conf_set_opaque(conf, opaque);
    return conf;
}

int nl_kafka_apply_user(rd_kafka_conf_t *conf, const nl_config *cfg, enum nl_client client,
                        char *errbuf, size_t errlen)
{
    for (size_t i = 0; i < cfg->kafka_n; i++) {
        char rkerr[256];
        const char *prop = nl_config_kafka_prop(&cfg->kafka[i], client);
        if (prop == NULL) {
            continue;
        }
        if (rd_kafka_conf_set(conf, prop, cfg->kafka[i].value, rkerr, sizeof(rkerr)) !=
            RD_KAFKA_CONF_OK) {
            return nl_errf(errbuf, errlen, NL_EINVAL, "kafka.%s: %s", cfg->kafka[i].key, rkerr);
        }
    }
    return 0;
}

rd_kafka_t *nl_kafka_producer_new(const nl_config *cfg, const char *client_id,
                                  void (*dr_cb)(rd_kafka_t *, const rd_kafka_message_t *, void *),
                                  void *opaque, char *errbuf, size_t errlen)
{
    char num[32];
    char rkerr[512];
    rd_kafka_conf_t *conf = base_conf(cfg, client_id, opaque, errbuf, errlen);
    rd_kafka_t *rk;

    if (conf == NULL) {
        return NULL;
    }
    /* Room for the largest record plus headers and batch overhead. */
    snprintf(num, sizeof(num), "%lld", (long long)cfg->max_record_bytes + 1048576);
    if (conf_set(conf, "enable.idempotence", "true", errbuf, errlen) != 0 ||
        conf_set(conf, "acks", "all", errbuf, errlen) != 0 ||
        conf_set(conf, "message.max.bytes", num, errbuf, errlen) != 0 ||
        conf_set(conf, "linger.ms", "5", errbuf, errlen) != 0) {
        goto fail;
    }
    snprintf(num, sizeof(num), "%lld", (long long)cfg->message_timeout_ms);
    if (conf_set(conf, "message.timeout.ms", num, errbuf, errlen) != 0) {
        goto fail;
    }
    if (conf_set(conf, "compression.type", "zstd", errbuf, errlen) != 0 &&
        conf_set(conf, "compression.type", "lz4", errbuf, errlen) != 0) {
        goto fail;
    }
    if (nl_kafka_apply_user(conf, cfg, NL_CLIENT_PRODUCER, errbuf, errlen) != 0) {
        goto fail;
    }
    if (dr_cb != NULL) {
        rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    }
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, rkerr, sizeof(rkerr));
    if (rk == NULL) {
        nl_errf(errbuf, errlen, NL_EINVAL, "cannot create producer: %s", rkerr);
        goto fail;
    }
    return rk;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

int nl_kafka_wait_brokers(rd_kafka_t *rk, const nl_config *cfg, char *errbuf, size_t errlen)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, NULL, &md, (int)cfg->connect_timeout_ms);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return nl_errf(errbuf, errlen, NL_ETRANSIENT,
                       "cannot reach Kafka brokers %s within %lld ms: %s", cfg->brokers,
                       (long long)cfg->connect_timeout_ms, rd_kafka_err2str(err));
    }
    rd_kafka_metadata_destroy(md);
    return 0;
}

rd_kafka_resp_err_t nl_kafka_produce(rd_kafka_t *rk, const char *topic, const char *key,
                                     size_t keylen, char *payload, size_t len,
                                     rd_kafka_headers_t *hdrs, void *opaque)
{
    for (;;) {
        rd_kafka_resp_err_t err;
        if (hdrs != NULL) {
            err = rd_kafka_producev(
                rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, keylen),
                RD_KAFKA_V_VALUE(payload, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE),
                RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
        } else {
            err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, keylen),
                                    RD_KAFKA_V_VALUE(payload, len),
                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE),
                                    RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
        }
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            return err;
        }
        /* Back-pressure: serve delivery reports until there is room. */
        rd_kafka_poll(rk, 100);
    }
}

/* ---- offsets ------------------------------------------------------------ */

static void store_offset(struct runner *r, const char *topic, int32_t partition)
{
    int64_t next = nl_offsets_committable(r->ot, topic, partition);
    rd_kafka_topic_partition_list_t *tpl;
    rd_kafka_resp_err_t err;

    if (next < 0) {
        return;
    }
    tpl = rd_kafka_topic_partition_list_new(1);
    /* librdkafka 2.0 stores exactly what it is given: the next offset. */
    rd_kafka_topic_partition_list_add(tpl, topic, partition)->offset = next;
    err = rd_kafka_offsets_store(r->consumer, tpl);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        err = tpl->elems[0].err;
    }
    if (err == RD_KAFKA_RESP_ERR__STATE) {
        /* The partition was revoked meanwhile: its new owner re-reads. */
        nl_debug("offset_store_skipped", "topic=%s partition=%d", topic, (int)partition);
    } else if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        nl_warn("offset_store_failed", "topic=%s partition=%d error=%s", topic, (int)partition,
                rd_kafka_err2name(err));
    }
    rd_kafka_topic_partition_list_destroy(tpl);
}

static void store_all_cb(void *arg, const char *topic, int32_t partition, int64_t next)
{
    (void)next;
    store_offset(arg, topic, partition);
}

/* Runs the stage's sync hook, then stores every done offset. 0, or -1 if
 * the sync failed: nothing stored, and either r->fatal is set or (the
 * hook returned NL_ETRANSIENT) the sync is retried after a back-off. */
static int sync_and_store(struct runner *r)
{
    const nl_stage_hooks *hk = r->hk;

    if (hk != NULL && hk->sync != NULL) {
        int64_t now = nl_now_ms();
        int rc;
        r->last_sync_ms = now;
        if (!r->unsynced) {
            return 0;
        }
        rc = hk->sync(r->st->ctx);
        if (rc == NL_ETRANSIENT) {
            /* The stage logged why; one line here per episode, not per try. */
            if (r->sync_failing_since == 0) {
                r->sync_failing_since = now;
                nl_warn("sync_retry",
                        "stage=%s note=\"offsets held, consuming paused, retrying "
                        "with back-off\"",
                        r->st->name);
            }
            r->sync_backoff_ms = next_backoff(r->sync_backoff_ms);
            r->sync_retry_ms = now + r->sync_backoff_ms;
            if (now - r->sync_failing_since > r->cfg->drain_timeout_ms * 4) {
                nl_error("sync_gave_up", "stage=%s failing_ms=%lld note=\"offsets not stored\"",
                         r->st->name, (long long)(now - r->sync_failing_since));
                r->fatal = 75;
            }
            return -1;
        }
        if (rc != 0) {
            nl_error("sync_failed", "stage=%s note=\"offsets not stored\"", r->st->name);
            r->fatal = 70;
            return -1;
        }
        if (r->sync_failing_since != 0) {
            nl_info("sync_resumed", "stage=%s failing_ms=%lld", r->st->name,
                    (long long)(now - r->sync_failing_since));
        }
        r->sync_failing_since = 0;
        r->sync_backoff_ms = 0;
        r->unsynced = 0;
    }
    nl_offsets_foreach(r->ot, store_all_cb, r);
    return 0;
}

static void pending_done(struct pending *p)
{
    struct runner *r = p->r;
    const nl_stage_hooks *hk = r->hk;

    if (p->epoch == r->epoch) {
        if (p->has_tag && hk != NULL && hk->acked != NULL) {
            hk->acked(r->st->ctx, p->topic, p->partition, p->offset, p->tag);
        }
        if (nl_offsets_done(r->ot, p->topic, p->partition, p->offset) == 1) {
            if (hk != NULL && hk->sync != NULL) {
                r->unsynced = 1; /* stored by the next sync_and_store */
            } else {
                store_offset(r, p->topic, p->partition);
            }
        }
    }
    free(p->topic);
    free(p);
}

static char *dupn(const void *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    struct runner *r = opaque;
    struct pending *p = rkm->_private;
    struct retry *rt;
    rd_kafka_headers_t *hdrs = NULL;

    (void)rk;
    if (rkm->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        r->n_out++;
        if (r->m_out != NULL && strcmp(rd_kafka_topic_name(rkm->rkt), r->cfg->topic_dlq) != 0) {
            nl_series_inc(r->m_out);
        }
        if (--p->remaining == 0) {
            pending_done(p);
        }
        return;
    }
    nl_warn("delivery_failed", "topic=%s error=%s status=%d", rd_kafka_topic_name(rkm->rkt),
            rd_kafka_err2name(rkm->err), (int)rd_kafka_message_status(rkm));
    if (rkm->err == RD_KAFKA_RESP_ERR__FATAL) {
        r->fatal = 70;
    }
    /* Keep a copy to produce again from the main loop; the offset stays
     * where it is until that copy is acknowledged. */
    rt = calloc(1, sizeof(*rt));
    if (rt == NULL) {
        r->fatal = 70;
        return;
    }
    if (rd_kafka_message_headers(rkm, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR && hdrs != NULL) {
        rt->hdrs = rd_kafka_headers_copy(hdrs);
    }
    rt->topic = strdup(rd_kafka_topic_name(rkm->rkt));
    rt->key = dupn(rkm->key ? rkm->key : "", rkm->key_len);
    rt->payload = dupn(rkm->payload ? rkm->payload : "", rkm->len);
    rt->len = rkm->len;
    rt->p = p;
    rt->next = r->retries;
    r->retries = rt;
    if (rt->topic == NULL || rt->key == NULL || rt->payload == NULL) {
        r->fatal = 70;
    }
}

static void produce_retries(struct runner *r)
{
    while (r->retries != NULL && r->fatal == 0) {
        struct retry *rt = r->retries;
        rd_kafka_resp_err_t err;

        if (++rt->attempts > PRODUCE_ATTEMPTS) {
            nl_error("delivery_gave_up", "topic=%s attempts=%d", rt->topic, PRODUCE_ATTEMPTS);
            r->fatal = 75;
            return;
        }
        r->n_redelivered++;
        err = nl_kafka_produce(r->producer, rt->topic, rt->key, strlen(rt->key), rt->payload,
                               rt->len, rt->hdrs, rt->p);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            nl_error("produce_failed", "topic=%s error=%s", rt->topic, rd_kafka_err2name(err));
            r->fatal = 70;
            return;
        }
        r->retries = rt->next;
        free(rt->topic);
        free(rt->key);
        free(rt);
    }
}

static void free_retries(struct runner *r)
{
    while (r->retries != NULL) {
        struct retry *rt = r->retries;
        r->retries = rt->next;
        free(rt->topic);
        free(rt->key);
        free(rt->payload);
        if (rt->hdrs != NULL) {
            rd_kafka_headers_destroy(rt->hdrs);
        }
        free(rt->p->topic);
        free(rt->p);
        free(rt);
    }
}

/* Waits (bounded) for every outstanding delivery report. 0 if drained. */
static int drain(struct runner *r, int timeout_ms)
{
    int64_t deadline = nl_now_ms() + timeout_ms;
    do {
        produce_retries(r);
        rd_kafka_flush(r->producer, 100);
    } while ((rd_kafka_outq_len(r->producer) > 0 || r->retries != NULL) && r->fatal == 0 &&
             nl_now_ms() < deadline);
    /* a sync failing transiently is tried again until the deadline */
    while (sync_and_store(r) != 0 && r->fatal == 0 && nl_now_ms() < deadline) {
        while (nl_now_ms() < r->sync_retry_ms && nl_now_ms() < deadline) {
            rd_kafka_poll(r->producer, 100);
        }
    }
    return rd_kafka_outq_len(r->producer) == 0 && r->retries == NULL && r->sync_failing_since == 0
               ? 0
               : -1;
}

/* Commits the stored offsets and waits at most timeout_ms for the answer:
 * with the brokers down a synchronous commit would block for minutes. An
 * offset that is not committed only means re-reading, which the sink
 * absorbs. */
static void commit_bounded(rd_kafka_t *rk, int timeout_ms, const char *on)
{
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_resp_err_t err = rd_kafka_commit_queue(rk, NULL, q, NULL, NULL);

    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms);
        if (ev == NULL) {
            err = RD_KAFKA_RESP_ERR__TIMED_OUT;
        } else {
            err = rd_kafka_event_error(ev);
            rd_kafka_event_destroy(ev);
        }
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
        nl_warn("commit_failed", "on=%s error=%s", on, rd_kafka_err2name(err));
    }
    rd_kafka_queue_destroy(q);
}

static int short_timeout(const nl_config *cfg)
{
    return cfg->drain_timeout_ms < 10000 ? (int)cfg->drain_timeout_ms : 10000;
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    struct runner *r = opaque;
    int cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    rd_kafka_error_t *error = NULL;
    rd_kafka_resp_err_t aerr = RD_KAFKA_RESP_ERR_NO_ERROR;
    const nl_stage_hooks *hk = r->hk;

    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        for (int i = 0; i < parts->cnt; i++) {
            nl_offsets_forget(r->ot, parts->elems[i].topic, parts->elems[i].partition);
            if (hk != NULL && hk->assigned != NULL &&
                hk->assigned(r->st->ctx, parts->elems[i].topic, parts->elems[i].partition) != 0) {
                nl_error("assign_hook_failed", "topic=%s partition=%d", parts->elems[i].topic,
                         (int)parts->elems[i].partition);
                r->fatal = 70;
            }
        }
        nl_series_add(r->m_assigned, (uint64_t)parts->cnt);
        nl_info("assigned", "partitions=%d protocol=%s", parts->cnt,
                cooperative ? "cooperative" : "eager");
        if (cooperative) {
            error = rd_kafka_incremental_assign(rk, parts);
        } else {
            aerr = rd_kafka_assign(rk, parts);
        }
    } else {
        int lost = rd_kafka_assignment_lost(rk);
        if (r->poll != NULL) {
            /* Deferred records of these partitions: finished in a bounded
             * time, or abandoned (never stored: the next owner reads them). */
            int64_t deadline = r->stopping || lost ? 0 : nl_now_ms() + short_timeout(r->cfg);
            size_t n;
            r->revoking = parts;
            for (int i = 0; hk != NULL && hk->revoking != NULL && i < parts->cnt; i++) {
                hk->revoking(r->st->ctx, parts->elems[i].topic, parts->elems[i].partition);
            }
            n = async_wait(r, parts, deadline);
            r->revoking = NULL;
            if (n > 0) {
                nl_warn("revoke_abandoned", "records=%zu note=\"offsets not stored\"", n);
            }
        }
        if (drain(r, (int)r->cfg->drain_timeout_ms) != 0) {
            nl_warn("revoke_drain_timeout", "outstanding=%d", rd_kafka_outq_len(r->producer));
        }
        if (!lost) {
            commit_bounded(rk, short_timeout(r->cfg), "revoke");
        }
        for (int i = 0; i < parts->cnt; i++) {
            nl_offsets_forget(r->ot, parts->elems[i].topic, parts->elems[i].partition);
            if (hk != NULL && hk->revoked != NULL) {
                hk->revoked(r->st->ctx, parts->elems[i].topic, parts->elems[i].partition);
            }
        }
        /* Late reports of the old assignment must not mark new offsets. */
        r->epoch++;
        nl_series_sub(r->m_assigned, (uint64_t)parts->cnt);
        nl_info("revoked", "partitions=%d lost=%d", parts->cnt, lost);
        if (cooperative) {
            error = rd_kafka_incremental_unassign(rk, parts);
        } else {
            aerr = rd_kafka_assign(rk, NULL);
        }
    }
    if (error != NULL) {
        nl_error("assign_failed", "error=%s", nl_log_q(rd_kafka_error_string(error)));
        rd_kafka_error_destroy(error);
        r->fatal = 70;
    } else if (aerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
        nl_error("assign_failed", "error=%s", rd_kafka_err2name(aerr));
        r->fatal = 70;
    }
}

static rd_kafka_t *consumer_new(struct runner *r, char *errbuf, size_t errlen)
{
    char group[256];
    char client[128];
    char rkerr[512];
    rd_kafka_conf_t *conf;
    rd_kafka_t *rk;

    snprintf(client, sizeof(client), "newsline-%s", r->st->name);
    snprintf(group, sizeof(group), "%s%s", r->cfg->group_prefix, r->st->name);
    conf = base_conf(r->cfg, client, r, errbuf, errlen);
    if (conf == NULL) {
        return NULL;
    }
    if (conf_set(conf, "group.id", group, errbuf, errlen) != 0 ||
        conf_set(conf, "enable.auto.commit", "true", errbuf, errlen) != 0 ||
        conf_set(conf, "enable.auto.offset.store", "false", errbuf, errlen) != 0 ||
        conf_set(conf, "auto.offset.reset", "earliest", errbuf, errlen) != 0 ||
        /* librdkafka's 500 ms default: the mock cluster holds an empty
         * fetch that long, ~0.5 s a hop (bench/README.md); 100 ms costs ten
         * idle fetches a second */
        conf_set(conf, "fetch.wait.max.ms", "100", errbuf, errlen) != 0 ||
        nl_kafka_apply_user(conf, r->cfg, NL_CLIENT_CONSUMER, errbuf, errlen) != 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    /* The delivery rule depends on these two; a passthrough may not undo them. */
    if (conf_set(conf, "enable.auto.offset.store", "false", errbuf, errlen) != 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, rkerr, sizeof(rkerr));
    if (rk == NULL) {
        rd_kafka_conf_destroy(conf);
        nl_errf(errbuf, errlen, NL_EINVAL, "cannot create consumer: %s", rkerr);
        return NULL;
    }
    rd_kafka_poll_set_consumer(rk);
    return rk;
}

/* Leaves the group, waiting at most the short timeout; 1 if the consumer
 * closed. The close queue is served with the event API, not with
 * callbacks: records fetched but not yet handed out arrive on it too, and
 * serving those through callbacks trips an assertion in librdkafka. So a
 * rebalance arrives as an event and goes to on_rebalance by hand, and
 * fetched records are dropped unprocessed (their offsets were never
 * stored: the next owner reads them). */
static int close_consumer(struct runner *r)
{
    rd_kafka_queue_t *q = rd_kafka_queue_new(r->consumer);
    int64_t deadline = nl_now_ms() + short_timeout(r->cfg);
    rd_kafka_error_t *error = rd_kafka_consumer_close_queue(r->consumer, q);
    int closed;

    if (error != NULL) {
        nl_warn("close_failed", "error=%s", nl_log_q(rd_kafka_error_string(error)));
        rd_kafka_error_destroy(error);
    } else {
        while (!rd_kafka_consumer_closed(r->consumer) && nl_now_ms() < deadline) {
            rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 100);
            if (ev == NULL) {
                continue;
            }
            if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_REBALANCE) {
                on_rebalance(r->consumer, rd_kafka_event_error(ev),
                             rd_kafka_event_topic_partition_list(ev), r);
            }
            rd_kafka_event_destroy(ev);
        }
    }
    closed = rd_kafka_consumer_closed(r->consumer);
    if (!closed) {
        nl_warn("close_timeout", "note=\"group left without a clean goodbye\"");
    }
    rd_kafka_queue_destroy(q);
    return closed;
}

/* Output headers: the input's, with this stage's schema, name and first-seen
 * time replacing earlier values. */
static rd_kafka_headers_t *out_headers(const rd_kafka_headers_t *in, const char *stage,
                                       const char *payload, size_t len, int64_t seen_ms)
{
    rd_kafka_headers_t *h = in != NULL ? rd_kafka_headers_copy(in) : rd_kafka_headers_new(8);
    char name[64];
    char ts[32];
    const char *schema = NULL;
    size_t slen = 0;
    const char *p = memmem(payload, len < 64 ? len : 64, "\"schema\":\"", 10);

    if (p != NULL) {
        schema = p + 10;
        const char *q = memchr(schema, '"', (size_t)(payload + len - schema));
        slen = q != NULL ? (size_t)(q - schema) : 0;
    }
    rd_kafka_header_remove(h, "nl-schema");
    rd_kafka_header_remove(h, "nl-stage");
    if (slen > 0) {
        rd_kafka_header_add(h, "nl-schema", -1, schema, (ssize_t)slen);
    }
    rd_kafka_header_add(h, "nl-stage", -1, stage, -1);
    snprintf(name, sizeof(name), "nl-t-%s", stage);
    snprintf(ts, sizeof(ts), "%lld", (long long)seen_ms);
    rd_kafka_header_remove(h, name);
    rd_kafka_header_add(h, name, -1, ts, -1);
    return h;
}

static void dlq_headers(rd_kafka_headers_t *h, const nl_input *in, const char *payload, size_t len)
{
    json_t *rec = json_loadb(payload, len, 0, NULL);
    char num[32];

    if (rec == NULL) {
        return;
    }
    rd_kafka_header_add(h, "nl-reason-code", -1,
                        json_string_value(json_object_get(rec, "reason_code")), -1);
    rd_kafka_header_add(h, "nl-origin-topic", -1, in->topic, -1);
    snprintf(num, sizeof(num), "%d", (int)in->partition);
    rd_kafka_header_add(h, "nl-origin-partition", -1, num, -1);
    snprintf(num, sizeof(num), "%lld", (long long)in->offset);
    rd_kafka_header_add(h, "nl-origin-offset", -1, num, -1);
    json_decref(rec);
}

/* Runs the stage on one input, retrying transient failures (disk full, ...)
 * with back-off for up to four drain timeouts while serving delivery
 * reports. Returns what the stage returned last. */
static int process_with_retry(struct runner *r, const nl_input *in, nl_emitter *em)
{
    int64_t start = nl_now_ms(), backoff = 0;
    int rc;
    for (int attempt = 1;; attempt++) {
        int64_t until;
        rc = nl_stage_process_one(r->cfg, r->st, in, em);
        if (rc != NL_ETRANSIENT || nl_stop || nl_now_ms() - start > r->cfg->drain_timeout_ms * 4) {
            if (attempt > 1 && rc == 0) {
                nl_info("process_resumed", "topic=%s partition=%d offset=%lld attempts=%d",
                        in->topic, (int)in->partition, (long long)in->offset, attempt);
            }
            return rc;
        }
        /* the stage logged why; one line here, not one per attempt */
        nl_log(attempt == 1 ? NL_LOG_WARN : NL_LOG_DEBUG, "process_retry",
               "topic=%s partition=%d offset=%lld attempt=%d", in->topic, (int)in->partition,
               (long long)in->offset, attempt);
        backoff = next_backoff(backoff);
        until = nl_now_ms() + backoff;
        while (!nl_stop && nl_now_ms() < until) {
            rd_kafka_poll(r->producer, 100);
        }
    }
}

/* Produces every queued output of one input, all tied to p. Returns 0, or
 * -1 after a synchronous produce failure (r->fatal is set). */
static int produce_outputs(struct runner *r, struct pending *p, const nl_input *in, nl_emitter *em,
                           int dead_letter, int64_t seen)
{
    for (size_t i = 0; i < em->n; i++) {
        struct nl_emit_out *o = &em->out[i];
        rd_kafka_headers_t *h;
        rd_kafka_resp_err_t err;

        if (o->topic == NULL) {
            continue; /* a report: stdin mode prints it, Kafka mode has no topic for it */
        }
        h = out_headers(in->hdrs, r->st->name, o->payload, o->len, seen);
        if (dead_letter) {
            dlq_headers(h, in, o->payload, o->len);
        }
        p->remaining++;
        err = nl_kafka_produce(r->producer, o->topic, o->key, strlen(o->key), o->payload, o->len, h,
                               p);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            rd_kafka_headers_destroy(h);
            p->remaining--;
            nl_error("produce_failed", "topic=%s error=%s", o->topic, rd_kafka_err2name(err));
            r->fatal = 70;
            return -1;
        }
        o->payload = NULL; /* owned by librdkafka now */
    }
    return 0;
}

/* Produces what processing one input gave (rc: 0, or a dead letter in em
 * for NL_EINVAL/NL_ETOOBIG, or an error that stops the runner); its offset
 * is marked done when the last output is acknowledged. */
static void finish_record(struct runner *r, const nl_input *in, nl_emitter *em, int rc,
                          int64_t seen)
{
    struct pending *p;

    if (rc == NL_ETRANSIENT) {
        nl_error("process_gave_up", "topic=%s partition=%d offset=%lld", in->topic,
                 (int)in->partition, (long long)in->offset);
        r->fatal = 75;
        return;
    }
    if (rc != 0 && rc != NL_EINVAL && rc != NL_ETOOBIG) {
        nl_error("process_failed", "topic=%s partition=%d offset=%lld error=%s", in->topic,
                 (int)in->partition, (long long)in->offset, nl_err_code(rc));
        r->fatal = 70;
        return;
    }
    if (rc != 0) {
        const char *v[2] = {r->st->name, em->dlq_code[0] != '\0' ? em->dlq_code : "unknown"};
        r->n_dead++;
        if (r->m_dead != NULL) {
            nl_series_inc(nl_metric_series(r->m_dead, v));
        }
    }
    p = calloc(1, sizeof(*p));
    if (p != NULL) {
        p->topic = strdup(in->topic);
    }
    if (p == NULL || p->topic == NULL) {
        free(p);
        r->fatal = 70;
        return;
    }
    p->r = r;
    p->partition = in->partition;
    p->offset = in->offset;
    p->epoch = r->epoch;
    p->has_tag = rc == 0 && em->has_tag;
    p->tag = em->tag;
    p->remaining = 1; /* held until every output is queued */
    if (produce_outputs(r, p, in, em, rc != 0, seen) != 0) {
        return; /* p stays unreleased: its offset must never be stored */
    }
    if (--p->remaining == 0) {
        pending_done(p);
    }
}

/* Processes one consumed message; an asynchronous stage may defer it
 * (finished by handle_completions). */
static void handle_message(struct runner *r, rd_kafka_message_t *rkm, nl_emitter *em)
{
    const char *topic = rd_kafka_topic_name(rkm->rkt);
    rd_kafka_headers_t *in_hdrs = NULL;
    int64_t seen = nl_now_ms();
    nl_input in;
    int rc;

    r->n_in++;
    nl_series_inc(r->m_in);
    if (nl_offsets_track(r->ot, topic, rkm->partition, rkm->offset) != 0) {
        /* A re-delivered offset (after a seek): already tracked. */
        nl_warn("offset_not_tracked", "topic=%s partition=%d offset=%lld", topic,
                (int)rkm->partition, (long long)rkm->offset);
        return;
    }
    rd_kafka_message_headers(rkm, &in_hdrs);
    in.payload = rkm->payload ? rkm->payload : "";
    in.len = rkm->len;
    in.topic = topic;
    in.partition = rkm->partition;
    in.offset = rkm->offset;
    in.hdrs = in_hdrs;

    rc = process_with_retry(r, &in, em);
    if (rc == NL_EPENDING) {
        return; /* its offset stays in flight until the token completes */
    }
    finish_record(r, &in, em, rc, seen);
}

/* Produces the outputs of every completed deferred record. A record the
 * runner abandoned (revoke), or that completed "not done" while stopping,
 * is dropped: its offset is never marked done, so it is read again. */
static void handle_completions(struct runner *r)
{
    nl_async *tok;

    while (r->fatal == 0 && (tok = nl_async_take(&r->aset)) != NULL) {
        if (tok->abandoned || (tok->rc == NL_ETRANSIENT &&
                               (nl_stop || (r->revoking != NULL && tok_in(tok, r->revoking))))) {
            r->n_abandoned++;
            nl_debug("abandoned", "topic=%s partition=%d offset=%lld", tok->in.topic,
                     (int)tok->in.partition, (long long)tok->in.offset);
        } else {
            int rc = nl_async_finish(r->cfg, r->st, tok);
            finish_record(r, &tok->in, &tok->em, rc, tok->seen_ms);
        }
        nl_async_free(tok);
    }
}

/* One round of an asynchronous stage: its poll, then its completions, then
 * the producer's delivery reports. */
static void async_round(struct runner *r, int timeout_ms)
{
    nl_health_beat(); /* revokes and the shutdown wait in rounds too */
    if (r->aset.n_pending > 0) {
        r->poll(r->st->ctx, timeout_ms);
    }
    handle_completions(r);
    produce_retries(r);
    rd_kafka_poll(r->producer, 0);
}

/* 1 if tok's partition is in parts (NULL: every partition). */
static int tok_in(const nl_async *tok, const rd_kafka_topic_partition_list_t *parts)
{
    if (parts == NULL) {
        return 1;
    }
    for (int i = 0; i < parts->cnt; i++) {
        if (parts->elems[i].partition == tok->in.partition &&
            strcmp(parts->elems[i].topic, tok->in.topic) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Deferred records of parts (NULL: all) not yet abandoned. */
static size_t async_count(const struct runner *r, const rd_kafka_topic_partition_list_t *parts)
{
    size_t n = 0;
    for (const nl_async *t = r->aset.pending; t != NULL; t = t->next) {
        n += !t->abandoned && tok_in(t, parts);
    }
    for (const nl_async *t = r->aset.done_head; t != NULL; t = t->next) {
        n += !t->abandoned && tok_in(t, parts);
    }
    return n;
}

/* Waits until no record of parts (NULL: all) is deferred, or until
 * deadline; then abandons those still pending. Returns how many were. */
static size_t async_wait(struct runner *r, const rd_kafka_topic_partition_list_t *parts,
                         int64_t deadline)
{
    size_t n = 0;

    while (r->fatal == 0 && async_count(r, parts) > 0 && nl_now_ms() < deadline) {
        async_round(r, 50);
    }
    for (nl_async *t = r->aset.pending; t != NULL; t = t->next) {
        if (!t->abandoned && tok_in(t, parts)) {
            t->abandoned = 1;
            n++;
        }
    }
    for (nl_async *t = r->aset.done_head; t != NULL; t = t->next) {
        if (!t->abandoned && tok_in(t, parts)) {
            t->abandoned = 1;
            n++;
        }
    }
    return n;
}

/* Makes the pipeline topics known to the producer now, so their metadata
 * is fetched at start: otherwise the first record to each output topic
 * waited 0.7-1 s for it (bench/README.md, low-load latency). */
static void warm_topics(struct runner *r)
{
    const char *names[] = {r->cfg->topic_fetch, r->cfg->topic_raw, r->cfg->topic_parsed,
                           r->cfg->topic_tagged, r->cfg->topic_dlq};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(r->producer, names[i], NULL);
        if (rkt != NULL) {
            rd_kafka_topic_destroy(rkt); /* the client keeps the topic known */
        }
    }
}

/* Declares the stage metrics in the daemon's registry (nothing when
 * metrics are off). A series refused (no memory) stays NULL: not counted. */
static void stage_metrics(struct runner *r)
{
    nl_metrics *m = nl_daemon_metrics();
    static const char *const l_stage[] = {"stage"};
    static const char *const l_dead[] = {"stage", "code"};
    const char *v[1] = {r->st->name};

    if (m == NULL) {
        return;
    }
    r->m_in = nl_metric_series(nl_metrics_counter(m, "newsline_stage_records_in_total",
                                                  "Records consumed from the stage's input topic",
                                                  1, l_stage, 4),
                               v);
    r->m_out = nl_metric_series(
        nl_metrics_counter(m, "newsline_stage_records_out_total",
                           "Output records produced and acknowledged by the broker (fan-out "
                           "copies included, dead letters not)",
                           1, l_stage, 4),
        v);
    r->m_dead = nl_metrics_counter(m, "newsline_stage_dead_letters_total",
                                   "Input records dead-lettered (acknowledged or not yet), by "
                                   "reason code",
                                   2, l_dead, 256);
    r->m_pending = nl_metric_series(
        nl_metrics_gauge(m, "newsline_stage_records_pending",
                         "Records an asynchronous stage has deferred and not yet answered", 1,
                         l_stage, 4),
        v);
    r->m_in_flight = nl_metric_series(
        nl_metrics_gauge(m, "newsline_stage_records_in_flight",
                         "Records consumed whose offsets are not yet done (processing or "
                         "awaiting acknowledgement of their outputs)",
                         1, l_stage, 4),
        v);
    r->m_assigned = nl_metric_series(
        nl_metrics_gauge(m, "newsline_stage_assigned_partitions",
                         "Partitions of the input topic assigned to this consumer", 1, l_stage, 4),
        v);
}

int nl_stage_run_kafka(const nl_config *cfg, const nl_stage *st)
{
    return nl_stage_run_kafka_hooks(cfg, st, NULL);
}

int nl_stage_run_kafka_hooks(const nl_config *cfg, const nl_stage *st, const nl_stage_hooks *hooks)
{
    struct runner r;
    char errbuf[512];
    char client[128];
    nl_emitter em;
    rd_kafka_topic_partition_list_t *sub = NULL;
    rd_kafka_resp_err_t err;
    int exit_code = NL_EXIT_OK;
    int closed = 0;
    size_t max_pending = hooks != NULL && hooks->max_pending > 0 ? hooks->max_pending : 1;
    /* metrics.listen: the endpoint is ours unless the daemon started it */
    int own_endpoint = nl_daemon_metrics() == NULL;

    memset(&r, 0, sizeof(r));
    r.cfg = cfg;
    r.st = st;
    r.hk = hooks;
    active_runner = &r;
    nl_emit_init(&em, (size_t)cfg->max_record_bytes);
    nl_async_set_init(&r.aset, (size_t)cfg->max_record_bytes);
    r.poll = hooks != NULL ? hooks->poll : NULL;
    if (r.poll != NULL) {
        em.aset = &r.aset;
    }
    snprintf(client, sizeof(client), "newsline-%s", st->name);
    nl_health_reset();
    exit_code = nl_daemon_serve(cfg, client);
    if (exit_code != 0) {
        goto out; /* one line printed; no Kafka client yet */
    }
    stage_metrics(&r);
    r.ot = nl_offsets_new();
    r.producer =
        r.ot ? nl_kafka_producer_new(cfg, client, on_delivery, &r, errbuf, sizeof(errbuf)) : NULL;
    if (r.producer == NULL) {
        fprintf(stderr, "newsline-%s: %s\n", st->name, r.ot ? errbuf : "out of memory");
        exit_code = NL_EXIT_USAGE;
        goto out;
    }
    if (nl_kafka_wait_brokers(r.producer, cfg, errbuf, sizeof(errbuf)) != 0) {
        fprintf(stderr, "newsline-%s: %s\n", st->name, errbuf);
        exit_code = NL_EXIT_UNAVAILABLE;
        goto out;
    }
    warm_topics(&r);
    r.consumer = consumer_new(&r, errbuf, sizeof(errbuf));
    if (r.consumer == NULL) {
        fprintf(stderr, "newsline-%s: %s\n", st->name, errbuf);
        exit_code = NL_EXIT_USAGE;
        goto out;
    }
    sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, st->in_topic, RD_KAFKA_PARTITION_UA);
    err = rd_kafka_subscribe(r.consumer, sub);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "newsline-%s: cannot subscribe to %s: %s\n", st->name, st->in_topic,
                rd_kafka_err2str(err));
        exit_code = NL_EXIT_SOFTWARE;
        goto out;
    }
    nl_info("started", "mode=kafka stage=%s brokers=%s topic=%s group=%s%s", st->name, cfg->brokers,
            st->in_topic, cfg->group_prefix, st->name);

    nl_health_beat();
    while (!nl_stop && r.fatal == 0) {
        rd_kafka_message_t *rkm;
        size_t deferred = nl_async_outstanding(&r.aset);

        nl_health_beat();
        nl_health_set(r.sync_failing_since != 0 ? NL_HEALTH_PAUSED : NL_HEALTH_RUNNING);
        nl_series_set(r.m_pending, (double)deferred);
        nl_series_set(r.m_in_flight, (double)nl_offsets_in_flight(r.ot));

        produce_retries(&r);
        rd_kafka_poll(r.producer, 0);
        if (r.sync_failing_since != 0) {
            /* consume nothing more until what was done is durable */
            if (nl_now_ms() >= r.sync_retry_ms) {
                sync_and_store(&r);
            } else {
                rd_kafka_poll(r.producer, 100);
            }
            continue;
        }
        if (r.unsynced && nl_now_ms() - r.last_sync_ms >= hooks->sync_interval_ms) {
            sync_and_store(&r);
        }
        if (deferred > 0) {
            async_round(&r, 0);
            deferred = nl_async_outstanding(&r.aset);
        }
        /* Back-pressure: records awaiting acknowledgement, or deferred. */
        if (nl_offsets_in_flight(r.ot) >= (size_t)cfg->max_in_flight ||
            (r.poll != NULL && deferred >= max_pending)) {
            if (deferred > 0) {
                async_round(&r, 50);
            } else {
                rd_kafka_poll(r.producer, 50);
            }
            continue;
        }
        rkm = rd_kafka_consumer_poll(r.consumer, deferred > 0 ? 0 : 100);
        if (rkm == NULL) {
            if (deferred > 0) {
                async_round(&r, 50);
            }
            continue;
        }
        if (rkm->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (rkm->err == RD_KAFKA_RESP_ERR__FATAL) {
                r.fatal = 70;
            } else if (rkm->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                nl_warn("consume_error", "error=%s reason=%s", rd_kafka_err2name(rkm->err),
                        nl_log_q(rd_kafka_message_errstr(rkm)));
            }
        } else {
            handle_message(&r, rkm, &em);
        }
        rd_kafka_message_destroy(rkm);
    }

    /* Shutdown: finish the deferred records (the stage finishes what it
     * started and gives back the rest), drain, store, commit, leave. */
    r.stopping = 1;
    nl_health_set(NL_HEALTH_STOPPING);
    if (r.fatal != 0) {
        nl_health_fatal("exit %d (see the log)", r.fatal);
    }
    int64_t deadline = nl_now_ms() + cfg->drain_timeout_ms;
    if (r.poll != NULL && r.fatal == 0) {
        size_t n = async_wait(&r, NULL, deadline);
        if (n > 0) {
            nl_error("drain_timeout", "stage=%s pending=%zu note=\"offsets not stored\"", st->name,
                     n);
            r.fatal = 75;
        }
    }
    int64_t left = deadline - nl_now_ms();
    if (drain(&r, left > 1000 ? (int)left : 1000) != 0) {
        nl_error("drain_timeout", "outstanding=%d", rd_kafka_outq_len(r.producer));
        if (r.fatal == 0) {
            r.fatal = 75;
        }
    }
    commit_bounded(r.consumer, short_timeout(cfg), "shutdown");
    closed = close_consumer(&r);
    exit_code = r.fatal;
    nl_info("stopped",
            "stage=%s records_in=%zu records_out=%zu dead_letters=%zu redelivered=%zu "
            "abandoned=%zu exit=%d",
            st->name, r.n_in, r.n_out, r.n_dead, r.n_redelivered, r.n_abandoned, exit_code);
out:
    if (sub != NULL) {
        rd_kafka_topic_partition_list_destroy(sub);
    }
    if (r.consumer != NULL) {
        /* A consumer that could not leave its group in time is let go
         * without another (unbounded) attempt. */
        rd_kafka_destroy_flags(r.consumer, closed ? 0 : RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    }
    if (r.producer != NULL) {
        rd_kafka_destroy(r.producer);
    }
    active_runner = NULL; /* its clients are gone: no callback can see r now */
    free_retries(&r);
    nl_async_set_free(&r.aset); /* abandoned: the stage must not complete them now */
    nl_offsets_free(r.ot);
    nl_emit_free(&em);
    nl_health_set(NL_HEALTH_STOPPING);
    if (own_endpoint) {
        nl_daemon_serve_stop();
    }
    return exit_code;
}
