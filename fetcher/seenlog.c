/* The seen-set changelog on Kafka (seenlog.h). */
#include "seenlog.h"

#include "nl_err.h"
#include "nl_kafka.h"
#include "nl_log.h"
#include "nl_stage.h"
#include "nl_text.h"

#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* How long one flush waits before it reports "not yet": the runner calls
 * the sync hook again after a back-off, and meanwhile its own loop (and
 * the fetch engine) must not stall for long. */
#define FLUSH_WAIT_MS 2000
/* Corrupt records warned about one by one in a restore; the rest counted. */
#define CORRUPT_WARN_MAX 5

/* What is known of one partition's appends since its restore. */
struct part {
    unsigned epoch;    /* bumped on release: older reports are ignored */
    int owned;         /* restored and not released */
    int64_t base;      /* every record before it is in the local file */
    int64_t max_acked; /* the highest offset of our acknowledged appends, or -1 */
    uint64_t n_acked;  /* our acknowledged appends since base */
    uint64_t n_out;    /* appends not yet acknowledged */
    int broken;        /* an append's offset did not follow: base stays until restore */
};

/* A failed append, produced again by the next flush. */
struct redo {
    int32_t p;
    uint64_t h;
    struct redo *next;
};

struct fx_seenlog {
    const nl_config *cfg;
    rd_kafka_t *producer;
    rd_kafka_t *reader; /* assign() only, never joins a group */
    int32_t n_parts;
    struct part *parts;
    struct redo *redo;
    uint64_t n_corrupt;
    int fatal;
};

/* ---- record format ----------------------------------------------------- */

void fx_seenlog_key(uint64_t h, char key[17])
{
    snprintf(key, 17, "%016llx", (unsigned long long)h);
}

char *fx_seenlog_value(uint64_t h, int32_t p, size_t *len)
{
    char key[17], at[32];
    json_t *v;
    char *s;

    fx_seenlog_key(h, key);
    nl_format_time_ms(nl_now_ms(), at);
    v = json_pack("{s:s, s:s, s:i, s:s}", "schema", FX_SCHEMA_SEEN, "id", key, "partition", (int)p,
                  "at", at);
    s = v != NULL ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    if (s != NULL) {
        *len = strlen(s);
    }
    return s;
}

static int hex_key(const void *key, size_t keylen, uint64_t *h)
{
    const char *k = key;
    uint64_t v = 0;

    if (key == NULL || keylen != 16) {
        return -1;
    }
    for (size_t i = 0; i < 16; i++) {
        char c = k[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0) {
            return -1;
        }
        v = (v << 4) | (uint64_t)d;
    }
    *h = v;
    return 0;
}

int fx_seenlog_parse(const void *key, size_t keylen, const void *val, size_t vallen, uint64_t *h,
                     char *errbuf, size_t errlen)
{
    json_t *v;
    const char *schema, *id;
    int rc = 0;

    if (hex_key(key, keylen, h) != 0) {
        return nl_errf(errbuf, errlen, NL_EINVAL, "key is not 16 hex digits");
    }
    if (val == NULL) {
        return 1;
    }
    v = json_loadb(val, vallen, 0, NULL);
    if (v == NULL || !json_is_object(v)) {
        rc = nl_errf(errbuf, errlen, NL_EINVAL, "value is not a JSON object");
        goto out;
    }
    schema = json_string_value(json_object_get(v, "schema"));
    id = json_string_value(json_object_get(v, "id"));
    if (schema == NULL || strcmp(schema, FX_SCHEMA_SEEN) != 0) {
        rc = nl_errf(errbuf, errlen, NL_EINVAL, "schema is not " FX_SCHEMA_SEEN);
    } else if (id == NULL || strlen(id) != 16 || memcmp(id, key, 16) != 0) {
        rc = nl_errf(errbuf, errlen, NL_EINVAL, "id does not match the key");
    }
out:
    json_decref(v);
    return rc;
}

/* ---- clients ------------------------------------------------------------ */

static void reader_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    int lvl = level <= 4 ? NL_LOG_WARN : level <= 6 ? NL_LOG_INFO : NL_LOG_DEBUG;
    nl_log(lvl, "librdkafka", "client=%s facility=%s msg=%s", rd_kafka_name(rk), fac,
           nl_log_q(buf));
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    fx_seenlog *l = opaque;
    struct part *pt;
    unsigned epoch = (unsigned)(uintptr_t)rkm->_private;
    uint64_t h;

    (void)rk;
    if (rkm->partition < 0 || rkm->partition >= l->n_parts) {
        return;
    }
    pt = &l->parts[rkm->partition];
    if (epoch != pt->epoch) {
        return; /* from before a release: the partition's new owner restores */
    }
    pt->n_out--;
    if (rkm->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        pt->n_acked++;
        if (rkm->offset > pt->max_acked) {
            pt->max_acked = rkm->offset;
        }
        return;
    }
    nl_warn("seen_changelog_delivery_failed", "partition=%d error=%s status=%d",
            (int)rkm->partition, rd_kafka_err2name(rkm->err), (int)rd_kafka_message_status(rkm));
    if (rkm->err == RD_KAFKA_RESP_ERR__FATAL) {
        l->fatal = 1;
        return;
    }
    /* Possibly written after all: the copy produced again then leaves a
     * gap in our offsets, which only stops the checkpoint moving. */
    pt->broken = 1;
    struct redo *rd = malloc(sizeof(*rd));
    if (rd == NULL || hex_key(rkm->key, rkm->key_len, &h) != 0) {
        free(rd);
        l->fatal = 1;
        return;
    }
    rd->p = rkm->partition;
    rd->h = h;
    rd->next = l->redo;
    l->redo = rd;
}

static rd_kafka_t *reader_new(const nl_config *cfg, char *errbuf, size_t errlen)
{
    char group[256], rkerr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_t *rk;
    const char *kv[][2] = {
        {"bootstrap.servers", cfg->brokers},
        {"client.id", "newsline-fetcher-seen-restore"},
        {"group.id", group}, /* assign() wants one; it is never joined */
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"enable.partition.eof", "true"},
        {"auto.offset.reset", "earliest"},
        {"fetch.wait.max.ms", "100"},
    };

    snprintf(group, sizeof(group), "%sfetcher-seen-restore", cfg->group_prefix);
    for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++) {
        if (rd_kafka_conf_set(conf, kv[i][0], kv[i][1], rkerr, sizeof(rkerr)) != RD_KAFKA_CONF_OK) {
            nl_errf(errbuf, errlen, NL_EINVAL, "%s: %s", kv[i][0], rkerr);
            goto fail;
        }
    }
    if (nl_kafka_apply_user(conf, cfg, NL_CLIENT_CONSUMER, errbuf, errlen) != 0) {
        goto fail;
    }
    /* What the restore depends on; a passthrough may not undo it. */
    if (rd_kafka_conf_set(conf, "enable.partition.eof", "true", rkerr, sizeof(rkerr)) !=
            RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", rkerr, sizeof(rkerr)) !=
            RD_KAFKA_CONF_OK) {
        nl_errf(errbuf, errlen, NL_EINVAL, "%s", rkerr);
        goto fail;
    }
    rd_kafka_conf_set_log_cb(conf, reader_log_cb);
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, rkerr, sizeof(rkerr));
    if (rk == NULL) {
        nl_errf(errbuf, errlen, NL_EINVAL, "cannot create the changelog reader: %s", rkerr);
        goto fail;
    }
    rd_kafka_poll_set_consumer(rk);
    return rk;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

/* ---- start-up: the two topics ------------------------------------------ */

/* Partition count of topic in md (0 if absent or in error), and the
 * replication of its first partition in *repl. */
static int topic_parts(const struct rd_kafka_metadata *md, const char *topic, int *repl)
{
    for (int i = 0; i < md->topic_cnt; i++) {
        const rd_kafka_metadata_topic_t *t = &md->topics[i];
        if (strcmp(t->topic, topic) == 0) {
            if (t->err != RD_KAFKA_RESP_ERR_NO_ERROR || t->partition_cnt == 0) {
                return 0;
            }
            if (repl != NULL) {
                *repl = t->partitions[0].replica_cnt > 0 ? t->partitions[0].replica_cnt : 1;
            }
            return t->partition_cnt;
        }
    }
    return 0;
}

/* Fetches metadata of every topic (no topic is auto-created by asking this
 * way) and reads the two counts. 0, or NL_ETRANSIENT. */
static int counts(rd_kafka_t *rk, const nl_config *cfg, int *n_fetch, int *repl, int *n_seen)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, NULL, &md, (int)cfg->connect_timeout_ms);

    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return NL_ETRANSIENT;
    }
    *n_fetch = topic_parts(md, cfg->topic_fetch, repl);
    *n_seen = topic_parts(md, cfg->topic_fetch_seen, NULL);
    rd_kafka_metadata_destroy(md);
    return 0;
}

/* Creates the changelog: compacted, n partitions. 0 (also when it exists
 * already: another fetcher was quicker), or -1 with the reason. */
static int create_changelog(rd_kafka_t *rk, const nl_config *cfg, int n, int repl, char *errbuf,
                            size_t errlen)
{
    rd_kafka_NewTopic_t *nt;
    rd_kafka_queue_t *q;
    rd_kafka_event_t *ev;
    int rc = -1;

    nt = rd_kafka_NewTopic_new(cfg->topic_fetch_seen, n, repl, errbuf, errlen);
    if (nt == NULL) {
        return -1;
    }
    if (rd_kafka_NewTopic_set_config(nt, "cleanup.policy", "compact") != 0 ||
        rd_kafka_NewTopic_set_config(nt, "compression.type", "zstd") != 0) {
        snprintf(errbuf, errlen, "cannot set the topic's config");
        rd_kafka_NewTopic_destroy(nt);
        return -1;
    }
    q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
    ev = rd_kafka_queue_poll(q, (int)cfg->connect_timeout_ms + 10000);
    if (ev == NULL) {
        snprintf(errbuf, errlen, "CreateTopics timed out");
    } else if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(errbuf, errlen, "%s", rd_kafka_event_error_string(ev));
    } else {
        size_t cnt;
        const rd_kafka_topic_result_t **res =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &cnt);
        rd_kafka_resp_err_t err =
            cnt == 1 ? rd_kafka_topic_result_error(res[0]) : RD_KAFKA_RESP_ERR__FAIL;
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
            rc = 0;
        } else {
            snprintf(errbuf, errlen, "%s",
                     cnt == 1 ? rd_kafka_topic_result_error_string(res[0]) : "no result");
        }
    }
    if (ev != NULL) {
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
    return rc;
}

/* The start-up check (seenlog.h): 0 or an exit code, the reason printed. */
static int check_topics(fx_seenlog *l)
{
    const nl_config *cfg = l->cfg;
    char errbuf[512];
    int n_fetch = 0, n_seen = 0, repl = 1;
    int64_t deadline;

    if (counts(l->producer, cfg, &n_fetch, &repl, &n_seen) != 0) {
        fprintf(stderr, "newsline-fetcher: cannot read topic metadata from %s\n", cfg->brokers);
        return NL_EXIT_UNAVAILABLE;
    }
    /* A topic created a moment ago (newsline topics just before the
     * fetcher starts) may not be in every broker's metadata yet. */
    deadline = nl_now_ms() + cfg->connect_timeout_ms;
    while (n_fetch == 0 && nl_now_ms() < deadline && !nl_stop) {
        usleep(200 * 1000);
        counts(l->producer, cfg, &n_fetch, &repl, &n_seen);
    }
    if (n_fetch == 0) {
        fprintf(stderr,
                "newsline-fetcher: topics.fetch %s does not exist (waited connect_timeout_ms): "
                "create the topics first (newsline topics)\n",
                cfg->topic_fetch);
        return NL_EXIT_USAGE;
    }
    if (n_seen == 0) {
        nl_info("seen_changelog_create", "topic=%s partitions=%d replication=%d",
                cfg->topic_fetch_seen, n_fetch, repl);
        if (create_changelog(l->producer, cfg, n_fetch, repl, errbuf, sizeof(errbuf)) != 0) {
            fprintf(stderr,
                    "newsline-fetcher: topics.fetch_seen %s does not exist and cannot be "
                    "created: %s (create it with newsline topics, or with cleanup.policy=compact "
                    "and %d partitions)\n",
                    cfg->topic_fetch_seen, errbuf, n_fetch);
            return NL_EXIT_USAGE;
        }
        /* The new topic shows in the metadata a moment later. */
        deadline = nl_now_ms() + cfg->connect_timeout_ms;
        while (n_seen == 0 && nl_now_ms() < deadline && !nl_stop) {
            usleep(200 * 1000);
            counts(l->producer, cfg, &n_fetch, &repl, &n_seen);
        }
        if (n_seen == 0) {
            fprintf(stderr,
                    "newsline-fetcher: topics.fetch_seen %s: created, but not in the "
                    "metadata within connect_timeout_ms\n",
                    cfg->topic_fetch_seen);
            return NL_EXIT_UNAVAILABLE;
        }
    }
    if (n_seen != n_fetch) {
        fprintf(stderr,
                "newsline-fetcher: topics.fetch_seen %s has %d partitions but topics.fetch %s "
                "has %d: they must match (changelog partition p holds the seen-set of fetch "
                "partition p); recreate %s with %d partitions (it is rebuilt as URLs are "
                "fetched)\n",
                cfg->topic_fetch_seen, n_seen, cfg->topic_fetch, n_fetch, cfg->topic_fetch_seen,
                n_fetch);
        return NL_EXIT_USAGE;
    }
    l->n_parts = n_fetch;
    return 0;
}

int fx_seenlog_open(const nl_config *cfg, fx_seenlog **out)
{
    fx_seenlog *l = calloc(1, sizeof(*l));
    char errbuf[512];
    int rc;

    *out = NULL;
    if (l == NULL) {
        fprintf(stderr, "newsline-fetcher: out of memory\n");
        return NL_EXIT_SOFTWARE;
    }
    l->cfg = cfg;
    l->producer =
        nl_kafka_producer_new(cfg, "newsline-fetcher-seen", on_delivery, l, errbuf, sizeof(errbuf));
    if (l->producer == NULL) {
        fprintf(stderr, "newsline-fetcher: %s\n", errbuf);
        rc = NL_EXIT_USAGE;
        goto fail;
    }
    if (nl_kafka_wait_brokers(l->producer, cfg, errbuf, sizeof(errbuf)) != 0) {
        fprintf(stderr, "newsline-fetcher: %s\n", errbuf);
        rc = NL_EXIT_UNAVAILABLE;
        goto fail;
    }
    rc = check_topics(l);
    if (rc != 0) {
        goto fail;
    }
    l->parts = calloc((size_t)l->n_parts, sizeof(*l->parts));
    l->reader = l->parts != NULL ? reader_new(cfg, errbuf, sizeof(errbuf)) : NULL;
    if (l->reader == NULL) {
        fprintf(stderr, "newsline-fetcher: %s\n", l->parts != NULL ? errbuf : "out of memory");
        rc = l->parts != NULL ? NL_EXIT_USAGE : NL_EXIT_SOFTWARE;
        goto fail;
    }
    nl_info("seen_changelog", "topic=%s partitions=%d", cfg->topic_fetch_seen, (int)l->n_parts);
    *out = l;
    return 0;
fail:
    fx_seenlog_close(l);
    return rc;
}

void fx_seenlog_close(fx_seenlog *l)
{
    if (l == NULL) {
        return;
    }
    if (l->producer != NULL) {
        rd_kafka_flush(l->producer, (int)l->cfg->drain_timeout_ms);
        if (rd_kafka_outq_len(l->producer) > 0) {
            nl_warn("seen_changelog_unflushed", "outstanding=%d", rd_kafka_outq_len(l->producer));
        }
        rd_kafka_destroy(l->producer);
    }
    if (l->reader != NULL) {
        rd_kafka_destroy_flags(l->reader, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    }
    while (l->redo != NULL) {
        struct redo *rd = l->redo;
        l->redo = rd->next;
        free(rd);
    }
    free(l->parts);
    free(l);
}

int32_t fx_seenlog_partitions(const fx_seenlog *l)
{
    return l->n_parts;
}

uint64_t fx_seenlog_corrupt(const fx_seenlog *l)
{
    return l->n_corrupt;
}

/* ---- restore ------------------------------------------------------------ */

struct restore_stats {
    uint64_t records, added, corrupt, tombstones;
};

/* One changelog record into s. 0, or NL_EIO / NL_ENOMEM. */
static int restore_one(fx_seenlog *l, int32_t p, fx_seen *s, const rd_kafka_message_t *rkm,
                       struct restore_stats *st, char *errbuf, size_t errlen)
{
    char why[128];
    uint64_t h;
    int rc = fx_seenlog_parse(rkm->key, rkm->key_len, rkm->payload, rkm->len, &h, why, sizeof(why));

    st->records++;
    if (rc == 1) {
        st->tombstones++;
        return 0;
    }
    if (rc != 0) {
        st->corrupt++;
        l->n_corrupt++;
        nl_log(st->corrupt <= CORRUPT_WARN_MAX ? NL_LOG_WARN : NL_LOG_DEBUG, "seen_corrupt_record",
               "topic=%s partition=%d offset=%lld reason=%s note=\"skipped\"",
               l->cfg->topic_fetch_seen, (int)p, (long long)rkm->offset, nl_log_q(why));
        return 0;
    }
    rc = fx_seen_add(s, h, errbuf, errlen);
    if (rc < 0) {
        return rc;
    }
    st->added += (uint64_t)rc;
    return 0;
}

int fx_seenlog_restore(fx_seenlog *l, int32_t p, fx_seen *s, char *errbuf, size_t errlen)
{
    const char *topic = l->cfg->topic_fetch_seen;
    int64_t start_ms = nl_now_ms();
    int64_t deadline = start_ms + l->cfg->fetcher_seen_restore_timeout_ms;
    int64_t lo = 0, hi = 0, ckpt = fx_seen_checkpoint(s), from;
    struct restore_stats st = {0, 0, 0, 0};
    const char *origin = "checkpoint";
    rd_kafka_resp_err_t err;
    int rc = 0, done;

    if (p < 0 || p >= l->n_parts) {
        return nl_errf(errbuf, errlen, NL_EINVAL,
                       "fetch partition %d has no changelog partition (%s has %d): the fetch "
                       "topic grew; grow %s to match",
                       (int)p, topic, (int)l->n_parts, topic);
    }
    /* The end now: what is written after it is ours (we own p from now). */
    for (;;) {
        err = rd_kafka_query_watermark_offsets(l->reader, topic, p, &lo, &hi, 5000);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            break;
        }
        if (nl_stop || nl_now_ms() >= deadline) {
            return nl_errf(errbuf, errlen, NL_ETRANSIENT, "%s [%d]: cannot read its offsets: %s",
                           topic, (int)p, rd_kafka_err2str(err));
        }
        usleep(500 * 1000);
    }
    if (ckpt < 0) {
        origin = "beginning";
        from = lo;
    } else if (ckpt > hi) {
        nl_warn("seen_checkpoint_ahead",
                "topic=%s partition=%d checkpoint=%lld end=%lld note=\"changelog recreated? read "
                "from the beginning\"",
                topic, (int)p, (long long)ckpt, (long long)hi);
        origin = "beginning";
        from = lo;
    } else {
        from = ckpt < lo ? lo : ckpt;
    }
    done = from >= hi;
    if (!done) {
        rd_kafka_topic_partition_list_t *tpl = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(tpl, topic, p)->offset = from;
        err = rd_kafka_assign(l->reader, tpl);
        rd_kafka_topic_partition_list_destroy(tpl);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            return nl_errf(errbuf, errlen, NL_ETRANSIENT, "%s [%d]: assign: %s", topic, (int)p,
                           rd_kafka_err2str(err));
        }
    }
    while (!done && rc == 0) {
        rd_kafka_message_t *rkm;
        if (nl_stop || nl_now_ms() >= deadline) {
            rc = nl_errf(errbuf, errlen, NL_ETRANSIENT,
                         "%s [%d]: restore %s after %lld ms at %llu records (from %lld to %lld)",
                         topic, (int)p, nl_stop ? "stopped" : "timed out",
                         (long long)(nl_now_ms() - start_ms), (unsigned long long)st.records,
                         (long long)from, (long long)hi);
            break;
        }
        rkm = rd_kafka_consumer_poll(l->reader, 200);
        if (rkm == NULL) {
            continue;
        }
        if (rkm->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            done = rkm->offset >= hi;
        } else if (rkm->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            /* librdkafka retries fetch errors itself */
            nl_warn("seen_restore_error", "topic=%s partition=%d error=%s", topic, (int)p,
                    rd_kafka_err2name(rkm->err));
        } else if (rkm->partition == p && rkm->offset < hi) {
            rc = restore_one(l, p, s, rkm, &st, errbuf, errlen);
            done = rkm->offset + 1 >= hi;
        } else if (rkm->partition == p) {
            done = 1;
        }
        rd_kafka_message_destroy(rkm);
    }
    if (from < hi) {
        rd_kafka_assign(l->reader, NULL);
    }
    if (rc != 0) {
        return rc;
    }
    /* The file now holds every record before hi. */
    rc = fx_seen_set_checkpoint(s, hi, errbuf, errlen);
    if (rc == 0) {
        rc = fx_seen_sync(s, errbuf, errlen);
    }
    if (rc != 0) {
        return rc;
    }
    struct part *pt = &l->parts[p];
    pt->epoch++;
    pt->owned = 1;
    pt->base = hi;
    pt->max_acked = -1;
    pt->n_acked = 0;
    pt->n_out = 0;
    pt->broken = 0;
    nl_info("seen_restored",
            "topic=%s partition=%d from=%s from_offset=%lld end=%lld records=%llu added=%llu "
            "corrupt=%llu tombstones=%llu urls=%zu ms=%lld",
            topic, (int)p, origin, (long long)from, (long long)hi, (unsigned long long)st.records,
            (unsigned long long)st.added, (unsigned long long)st.corrupt,
            (unsigned long long)st.tombstones, fx_seen_count(s),
            (long long)(nl_now_ms() - start_ms));
    return 0;
}

/* ---- appends ------------------------------------------------------------ */

static int produce(fx_seenlog *l, int32_t p, uint64_t h, char *errbuf, size_t errlen)
{
    char key[17];
    size_t len = 0;
    char *val = fx_seenlog_value(h, p, &len);
    rd_kafka_resp_err_t err;

    if (val == NULL) {
        return nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
    }
    fx_seenlog_key(h, key);
    for (;;) {
        err = rd_kafka_producev(
            l->producer, RD_KAFKA_V_TOPIC(l->cfg->topic_fetch_seen), RD_KAFKA_V_PARTITION(p),
            RD_KAFKA_V_KEY(key, 16), RD_KAFKA_V_VALUE(val, len),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE),
            RD_KAFKA_V_OPAQUE((void *)(uintptr_t)l->parts[p].epoch), RD_KAFKA_V_END);
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            break;
        }
        rd_kafka_poll(l->producer, 100); /* back-pressure: never drop */
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        free(val);
        return nl_errf(errbuf, errlen, NL_EFATAL, "%s [%d]: produce: %s", l->cfg->topic_fetch_seen,
                       (int)p, rd_kafka_err2str(err));
    }
    l->parts[p].n_out++;
    return 0;
}

int fx_seenlog_append(fx_seenlog *l, int32_t p, uint64_t h, char *errbuf, size_t errlen)
{
    if (p < 0 || p >= l->n_parts || !l->parts[p].owned) {
        return nl_errf(errbuf, errlen, NL_EFATAL, "changelog partition %d is not restored", (int)p);
    }
    return produce(l, p, h, errbuf, errlen);
}

int fx_seenlog_flush(fx_seenlog *l, char *errbuf, size_t errlen)
{
    int rc;

    /* Failed appends of partitions still ours, produced again. */
    while (l->redo != NULL && !l->fatal) {
        struct redo *rd = l->redo;
        l->redo = rd->next;
        rc = l->parts[rd->p].owned ? produce(l, rd->p, rd->h, errbuf, errlen) : 0;
        free(rd);
        if (rc != 0) {
            return rc;
        }
    }
    rd_kafka_flush(l->producer, FLUSH_WAIT_MS);
    if (l->fatal || nl_kafka_fatal_seen()) {
        return nl_errf(errbuf, errlen, NL_EFATAL, "%s: fatal producer error",
                       l->cfg->topic_fetch_seen);
    }
    if (rd_kafka_outq_len(l->producer) > 0 || l->redo != NULL) {
        return nl_errf(errbuf, errlen, NL_ETRANSIENT,
                       "%s: %d changelog records not acknowledged yet%s", l->cfg->topic_fetch_seen,
                       rd_kafka_outq_len(l->producer), l->redo != NULL ? " (some failed)" : "");
    }
    return 0;
}

int64_t fx_seenlog_covered(const fx_seenlog *l, int32_t p)
{
    const struct part *pt;

    if (p < 0 || p >= l->n_parts) {
        return -1;
    }
    pt = &l->parts[p];
    if (!pt->owned || pt->n_out > 0 || pt->broken) {
        return -1;
    }
    if (pt->n_acked == 0) {
        return pt->base;
    }
    /* Contiguous: every offset from base to max_acked is one of ours. */
    if (pt->max_acked >= pt->base && (uint64_t)(pt->max_acked + 1 - pt->base) == pt->n_acked) {
        return pt->max_acked + 1;
    }
    return -1;
}

void fx_seenlog_release(fx_seenlog *l, int32_t p)
{
    if (p >= 0 && p < l->n_parts) {
        l->parts[p].epoch++;
        l->parts[p].owned = 0;
        l->parts[p].n_out = 0;
    }
}
