/* newsline topics / tail / produce: the Kafka-side tools an operator and
 * the tests need, with no other Kafka client installed. */
#include "cli.h"
#include "nl_buf.h"
#include "nl_err.h"
#include "nl_kafka.h"
#include "nl_log.h"
#include "nl_stage.h"
#include "nl_text.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || v < lo || v > hi) {
        return -1;
    }
    *out = v;
    return 0;
}

int cli_topics(const nl_config *cfg, int argc, char **argv)
{
    static const struct option opts[] = {{"partitions", required_argument, NULL, 'p'},
                                         {"replication", required_argument, NULL, 'r'},
                                         {NULL, 0, NULL, 0}};
    const char *topics[] = {cfg->topic_fetch, cfg->topic_raw, cfg->topic_parsed, cfg->topic_tagged,
                            cfg->topic_dlq};
    const size_t nt = sizeof(topics) / sizeof(topics[0]);
    long partitions = 6, replication = 1;
    char errbuf[512], maxbytes[32];
    rd_kafka_t *rk;
    rd_kafka_NewTopic_t *nts[5];
    rd_kafka_queue_t *q;
    rd_kafka_event_t *ev;
    int c, rc = NL_EXIT_OK;

    optind = 0;
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        if ((c == 'p' && parse_long(optarg, 1, 10000, &partitions) != 0) ||
            (c == 'r' && parse_long(optarg, 1, 100, &replication) != 0) || c == '?') {
            fprintf(stderr, "newsline topics: usage: topics [--partitions 1..10000] "
                            "[--replication 1..100]\n");
            return NL_EXIT_USAGE;
        }
    }
    rk = nl_kafka_producer_new(cfg, "newsline-cli", NULL, NULL, errbuf, sizeof(errbuf));
    if (rk == NULL || nl_kafka_wait_brokers(rk, cfg, errbuf, sizeof(errbuf)) != 0) {
        fprintf(stderr, "newsline topics: %s\n", errbuf);
        if (rk != NULL) {
            rd_kafka_destroy(rk);
        }
        return NL_EXIT_UNAVAILABLE;
    }
    /* Room for a multi-megabyte page plus its record and headers. */
    snprintf(maxbytes, sizeof(maxbytes), "%lld", (long long)cfg->max_record_bytes + 1048576);
    for (size_t i = 0; i < nt; i++) {
        nts[i] = rd_kafka_NewTopic_new(topics[i], (int)partitions, (int)replication, errbuf,
                                       sizeof(errbuf));
        if (nts[i] == NULL) {
            fprintf(stderr, "newsline topics: %s: %s\n", topics[i], errbuf);
            rc = NL_EXIT_USAGE;
            break;
        }
        rd_kafka_NewTopic_set_config(nts[i], "max.message.bytes", maxbytes);
        rd_kafka_NewTopic_set_config(nts[i], "compression.type", "zstd");
    }
    if (rc == NL_EXIT_OK) {
        q = rd_kafka_queue_new(rk);
        rd_kafka_CreateTopics(rk, nts, nt, NULL, q);
        ev = rd_kafka_queue_poll(q, (int)cfg->connect_timeout_ms + 10000);
        if (ev == NULL || rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "newsline topics: CreateTopics failed: %s\n",
                    ev != NULL ? rd_kafka_event_error_string(ev) : "timed out");
            rc = NL_EXIT_FAIL;
        } else {
            size_t n;
            const rd_kafka_topic_result_t **res =
                rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
            for (size_t i = 0; i < n; i++) {
                rd_kafka_resp_err_t err = rd_kafka_topic_result_error(res[i]);
                if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                    printf("created %s (%ld partitions)\n", rd_kafka_topic_result_name(res[i]),
                           partitions);
                } else if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
                    printf("exists  %s\n", rd_kafka_topic_result_name(res[i]));
                } else {
                    fprintf(stderr, "newsline topics: %s: %s\n", rd_kafka_topic_result_name(res[i]),
                            rd_kafka_topic_result_error_string(res[i]));
                    rc = NL_EXIT_FAIL;
                }
            }
        }
        if (ev != NULL) {
            rd_kafka_event_destroy(ev);
        }
        rd_kafka_queue_destroy(q);
    }
    for (size_t i = 0; i < nt && nts[i] != NULL; i++) {
        rd_kafka_NewTopic_destroy(nts[i]);
    }
    rd_kafka_destroy(rk);
    return rc;
}

/* One consumed message as a JSON line: the record itself when it is JSON,
 * with Kafka coordinates and headers alongside when --meta is given. */
static void print_message(const rd_kafka_message_t *rkm, int meta)
{
    json_t *value = json_loadb(rkm->payload ? rkm->payload : "", rkm->len, 0, NULL);
    json_t *out;

    if (value == NULL) {
        size_t n;
        char *s = nl_utf8_sanitize(rkm->payload ? rkm->payload : "", rkm->len, 1 << 20, &n);
        value = s != NULL ? json_stringn(s, n) : json_null();
        free(s);
    }
    if (!meta) {
        out = value;
    } else {
        rd_kafka_headers_t *hdrs = NULL;
        json_t *h = json_object();
        const char *name;
        const void *val;
        size_t size;
        if (rd_kafka_message_headers(rkm, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            for (size_t i = 0;
                 rd_kafka_header_get_all(hdrs, i, &name, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
                 i++) {
                char *s = nl_utf8_sanitize(val ? val : "", size, 4096, &size);
                if (s != NULL) {
                    json_object_set_new(h, name, json_stringn(s, size));
                }
                free(s);
            }
        }
        out = json_pack("{s:s, s:i, s:I, s:o, s:o}", "topic", rd_kafka_topic_name(rkm->rkt),
                        "partition", (int)rkm->partition, "offset", (json_int_t)rkm->offset,
                        "headers", h, "value", value);
    }
    if (out != NULL) {
        char *s = json_dumps(out, JSON_COMPACT);
        if (s != NULL) {
            puts(s);
        }
        free(s);
        json_decref(out);
    }
    fflush(stdout);
}

int cli_tail(const nl_config *cfg, int argc, char **argv)
{
    static const struct option opts[] = {{"count", required_argument, NULL, 'n'},
                                         {"idle-ms", required_argument, NULL, 'i'},
                                         {"meta", no_argument, NULL, 'm'},
                                         {"group", required_argument, NULL, 'g'},
                                         {NULL, 0, NULL, 0}};
    long count = -1, idle_ms = -1;
    int meta = 0, c;
    const char *group = NULL;
    char errbuf[512], rkerr[512], gbuf[64];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_topic_partition_list_t *sub;
    rd_kafka_t *rk;
    long seen = 0;
    int64_t last = nl_now_ms();

    optind = 0;
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        if ((c == 'n' && parse_long(optarg, 1, 1L << 40, &count) != 0) ||
            (c == 'i' && parse_long(optarg, 1, 1L << 40, &idle_ms) != 0) || c == '?') {
            fprintf(stderr, "newsline tail: usage: tail [--count N] [--idle-ms MS] [--meta] "
                            "[--group G] TOPIC...\n");
            rd_kafka_conf_destroy(conf);
            return NL_EXIT_USAGE;
        }
        if (c == 'm') {
            meta = 1;
        } else if (c == 'g') {
            group = optarg;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "newsline tail: no topic given\n");
        rd_kafka_conf_destroy(conf);
        return NL_EXIT_USAGE;
    }
    /* A throw-away group reads every partition from the beginning. */
    if (group == NULL) {
        snprintf(gbuf, sizeof(gbuf), "newsline-tail-%ld-%lld", (long)getpid(),
                 (long long)nl_now_ms());
        group = gbuf;
    }
    if (rd_kafka_conf_set(conf, "bootstrap.servers", cfg->brokers, rkerr, sizeof(rkerr)) ||
        rd_kafka_conf_set(conf, "group.id", group, rkerr, sizeof(rkerr)) ||
        rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", rkerr, sizeof(rkerr)) ||
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", rkerr, sizeof(rkerr))) {
        fprintf(stderr, "newsline tail: %s\n", rkerr);
        rd_kafka_conf_destroy(conf);
        return NL_EXIT_USAGE;
    }
    if (nl_kafka_apply_user(conf, cfg, NL_CLIENT_CONSUMER, errbuf, sizeof(errbuf)) != 0) {
        fprintf(stderr, "newsline tail: %s\n", errbuf);
        rd_kafka_conf_destroy(conf);
        return NL_EXIT_USAGE;
    }
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, rkerr, sizeof(rkerr));
    if (rk == NULL) {
        fprintf(stderr, "newsline tail: %s\n", rkerr);
        rd_kafka_conf_destroy(conf);
        return NL_EXIT_SOFTWARE;
    }
    if (nl_kafka_wait_brokers(rk, cfg, errbuf, sizeof(errbuf)) != 0) {
        fprintf(stderr, "newsline tail: %s\n", errbuf);
        rd_kafka_destroy(rk);
        return NL_EXIT_UNAVAILABLE;
    }
    rd_kafka_poll_set_consumer(rk);
    sub = rd_kafka_topic_partition_list_new(argc - optind);
    for (int i = optind; i < argc; i++) {
        rd_kafka_topic_partition_list_add(sub, argv[i], RD_KAFKA_PARTITION_UA);
    }
    rd_kafka_subscribe(rk, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    while (!nl_stop && (count < 0 || seen < count)) {
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(rk, 100);
        if (rkm == NULL) {
            if (idle_ms > 0 && nl_now_ms() - last > idle_ms) {
                break;
            }
            continue;
        }
        if (rkm->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            print_message(rkm, meta);
            seen++;
            last = nl_now_ms();
        } else if (rkm->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            nl_warn("consume_error", "error=%s", nl_log_q(rd_kafka_message_errstr(rkm)));
        }
        rd_kafka_message_destroy(rkm);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return count < 0 || seen >= count ? NL_EXIT_OK : NL_EXIT_FAIL;
}

int cli_produce(const nl_config *cfg, int argc, char **argv)
{
    char errbuf[512];
    rd_kafka_t *rk;
    char *buf = NULL;
    size_t cap = 0;
    ssize_t n;
    long sent = 0;
    int rc = NL_EXIT_OK;

    if (argc != 2) {
        fprintf(stderr, "newsline produce: usage: produce TOPIC < lines\n");
        return NL_EXIT_USAGE;
    }
    rk = nl_kafka_producer_new(cfg, "newsline-cli", NULL, NULL, errbuf, sizeof(errbuf));
    if (rk == NULL || nl_kafka_wait_brokers(rk, cfg, errbuf, sizeof(errbuf)) != 0) {
        fprintf(stderr, "newsline produce: %s\n", errbuf);
        if (rk != NULL) {
            rd_kafka_destroy(rk);
        }
        return NL_EXIT_UNAVAILABLE;
    }
    /* Lines go out byte for byte (this is how tests inject poison). */
    while ((n = getline(&buf, &cap, stdin)) > 0) {
        char *copy;
        if (buf[n - 1] == '\n') {
            n--;
        }
        if ((size_t)n > (size_t)cfg->max_record_bytes) {
            fprintf(stderr, "newsline produce: line %ld over max_record_bytes, skipped\n",
                    sent + 1);
            rc = NL_EXIT_FAIL;
            continue;
        }
        copy = malloc((size_t)n + 1);
        if (copy == NULL) {
            rc = NL_EXIT_SOFTWARE;
            break;
        }
        memcpy(copy, buf, (size_t)n);
        if (nl_kafka_produce(rk, argv[1], NULL, 0, copy, (size_t)n, NULL, NULL) !=
            RD_KAFKA_RESP_ERR_NO_ERROR) {
            free(copy);
            rc = NL_EXIT_FAIL;
            break;
        }
        sent++;
    }
    free(buf);
    if (rd_kafka_flush(rk, (int)cfg->message_timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "newsline produce: %d message(s) not acknowledged\n",
                rd_kafka_outq_len(rk));
        rc = NL_EXIT_FAIL;
    }
    fprintf(stderr, "produced %ld message(s) to %s\n", sent, argv[1]);
    rd_kafka_destroy(rk);
    return rc;
}
