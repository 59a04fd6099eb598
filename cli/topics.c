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
#include <regex.h>
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
    /* The last is the fetcher's seen-set changelog: compacted, and with the
     * fetch topic's partition count (fetcher/seenlog.h). */
    const char *topics[] = {cfg->topic_fetch,  cfg->topic_raw, cfg->topic_parsed,
                            cfg->topic_tagged, cfg->topic_dlq, cfg->topic_fetch_seen};
    const size_t nt = sizeof(topics) / sizeof(topics[0]);
    long partitions = 6, replication = 1;
    char errbuf[512], maxbytes[32];
    rd_kafka_t *rk;
    rd_kafka_NewTopic_t *nts[sizeof(topics) / sizeof(topics[0])] = {NULL};
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
        if (topics[i] == cfg->topic_fetch_seen) {
            rd_kafka_NewTopic_set_config(nts[i], "cleanup.policy", "compact");
        }
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

/* Where a tail starts reading each partition it is given: the beginning,
 * or (following tags) the first record stamped at or after the moment the
 * tail started, so a partition assigned late (a tag topic created after
 * the tail began) loses nothing produced since. */
struct tail_pos {
    int from_beginning;
    int64_t since_ms;
    int filter; /* set when a position could not be found: skip older records */
};

static void tail_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    struct tail_pos *pos = opaque;
    int coop = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    rd_kafka_error_t *error = NULL;

    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
        int64_t deadline = nl_now_ms() + 10000;
        int failed;
        /* A tag topic the tagger has just created may have no leader for a
         * moment: ask again, for a bounded time. */
        do {
            failed = 0;
            for (int i = 0; i < parts->cnt; i++) {
                parts->elems[i].offset =
                    pos->from_beginning ? RD_KAFKA_OFFSET_BEGINNING : pos->since_ms;
                parts->elems[i].err = RD_KAFKA_RESP_ERR_NO_ERROR;
            }
            if (pos->from_beginning) {
                break;
            }
            /* offset -1 (END) where nothing is that recent */
            e = rd_kafka_offsets_for_times(rk, parts, 5000);
            for (int i = 0; i < parts->cnt; i++) {
                failed |= e != RD_KAFKA_RESP_ERR_NO_ERROR || parts->elems[i].err != 0;
            }
            if (failed) {
                usleep(200 * 1000);
            }
        } while (failed && nl_now_ms() < deadline && !nl_stop);
        if (failed) {
            /* read from the beginning and drop what is older than the start */
            for (int i = 0; i < parts->cnt; i++) {
                if (e != RD_KAFKA_RESP_ERR_NO_ERROR || parts->elems[i].err != 0) {
                    parts->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
                }
            }
            pos->filter = 1;
            nl_warn("tail_position", "error=%s fallback=beginning_filtered_by_time",
                    nl_log_q(rd_kafka_err2str(e != 0 ? e : parts->elems[0].err)));
        }
        if (!pos->from_beginning) {
            /* "Nothing that recent" comes back as the end (-1), and the end
             * is resolved only when fetching starts: a record produced in
             * between would be skipped. Such a partition is read from the
             * beginning instead, with the records older than the start
             * dropped as they come (the same rule as above). */
            for (int i = 0; i < parts->cnt; i++) {
                if (parts->elems[i].offset == RD_KAFKA_OFFSET_END) {
                    parts->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
                    pos->filter = 1;
                }
            }
        }
        nl_info("tail_assigned", "partitions=%d from=%s", parts->cnt,
                pos->from_beginning ? "beginning" : "start_time");
        if (coop) {
            error = rd_kafka_incremental_assign(rk, parts);
        } else {
            rd_kafka_assign(rk, parts);
        }
    } else if (coop) {
        error = rd_kafka_incremental_unassign(rk, parts);
    } else {
        rd_kafka_assign(rk, NULL);
    }
    if (error != NULL) {
        nl_warn("tail_assign", "error=%s", nl_log_q(rd_kafka_error_string(error)));
        rd_kafka_error_destroy(error);
    }
}

/* 1 if s is an actor or event id: a slug of a-z, 0-9 and '-'. */
static int tag_id_valid(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n <= 200 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

/* s with every regex metacharacter escaped, in buf; -1 if it does not fit. */
static int regex_quote(const char *s, char *buf, size_t len)
{
    size_t o = 0;
    for (; *s != '\0'; s++) {
        if (strchr(".^$*+?()[]{}|\\", *s) != NULL) {
            if (o + 1 >= len) {
                return -1;
            }
            buf[o++] = '\\';
        }
        if (o + 1 >= len) {
            return -1;
        }
        buf[o++] = *s;
    }
    buf[o] = '\0';
    return 0;
}

/* Warns (does not fail: another tagger may run another watchlist) when a
 * tag is in neither the actors nor the events of the local watchlist. */
static void tag_check_watchlist(const nl_config *cfg, const char *id)
{
    json_t *wl = json_load_file(cfg->tagger_watchlist, 0, NULL);
    const char *lists[2] = {"actors", "events"};
    size_t i;
    json_t *e;

    if (wl == NULL) {
        return;
    }
    for (int k = 0; k < 2; k++) {
        json_array_foreach(json_object_get(wl, lists[k]), i, e)
        {
            const char *v = json_string_value(json_object_get(e, "id"));
            if (v != NULL && strcmp(v, id) == 0) {
                json_decref(wl);
                return;
            }
        }
    }
    json_decref(wl);
    fprintf(stderr,
            "newsline tail: warning: --tag %s is not an actor or event of %s; waiting for "
            "its topic anyway\n",
            id, cfg->tagger_watchlist);
}

/* One record as a line a person reads: date, id, tag, title. Control
 * characters from the record (terminal escapes in a hostile title) become
 * spaces. */
static void print_brief(const rd_kafka_message_t *rkm, const char *prefix)
{
    const char *topic = rd_kafka_topic_name(rkm->rkt);
    size_t plen = strlen(prefix);
    const char *tag = strncmp(topic, prefix, plen) == 0 ? topic + plen : topic;
    json_t *rec = json_loadb(rkm->payload ? rkm->payload : "", rkm->len, 0, NULL);
    const char *id = json_string_value(json_object_get(rec, "id"));
    const char *date =
        json_string_value(json_object_get(json_object_get(rec, "published"), "value"));
    const char *title = json_string_value(json_object_get(rec, "title"));
    char line[160];
    size_t n = 0;

    if (rec == NULL) {
        printf("%-10s  %-16s  %s  (not JSON: %zu bytes at partition %d offset %lld)\n", "-", "-",
               tag, rkm->len, (int)rkm->partition, (long long)rkm->offset);
        fflush(stdout);
        return;
    }
    for (const char *p = title != NULL ? title : ""; *p != '\0' && n < sizeof(line) - 4; p++) {
        line[n++] = (unsigned char)*p < 0x20 || *p == 0x7f ? ' ' : *p;
    }
    /* do not end inside a UTF-8 sequence */
    while (n > 0 && title[n] != '\0' && ((unsigned char)title[n] & 0xC0) == 0x80) {
        n--;
    }
    line[n] = '\0';
    printf("%-10.10s  %-16.16s  %s  %s%s\n", date != NULL ? date : "undated", id ? id : "-", tag,
           line, title != NULL && title[n] != '\0' ? "..." : "");
    fflush(stdout);
    json_decref(rec);
}

#define TAIL_USAGE                                                                                 \
    "newsline tail: usage: tail [--count N] [--idle-ms MS] [--meta | --brief] [--group G]\n"       \
    "    [--from-beginning] [--tag ID]... [--tag-regex RE] [TOPIC...]\n"

int cli_tail(const nl_config *cfg, int argc, char **argv)
{
    static const struct option opts[] = {{"count", required_argument, NULL, 'n'},
                                         {"idle-ms", required_argument, NULL, 'i'},
                                         {"meta", no_argument, NULL, 'm'},
                                         {"brief", no_argument, NULL, 'b'},
                                         {"group", required_argument, NULL, 'g'},
                                         {"tag", required_argument, NULL, 't'},
                                         {"tag-regex", required_argument, NULL, 'r'},
                                         {"from-beginning", no_argument, NULL, 'B'},
                                         {NULL, 0, NULL, 0}};
    long count = -1, idle_ms = -1;
    int meta = 0, brief = 0, c;
    const char *group = NULL;
    const char *tags[64];
    const char *tag_regex = NULL;
    int ntags = 0;
    struct tail_pos pos = {0, 0, 0};
    char errbuf[512], rkerr[512], gbuf[64], prefix_re[512], topic[512];
    rd_kafka_conf_t *conf;
    rd_kafka_topic_partition_list_t *sub;
    rd_kafka_t *rk;
    long seen = 0;
    int64_t last = nl_now_ms();
    int64_t unknown_warned = 0;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        if ((c == 'n' && parse_long(optarg, 1, 1L << 40, &count) != 0) ||
            (c == 'i' && parse_long(optarg, 1, 1L << 40, &idle_ms) != 0)) {
            fprintf(stderr, "newsline tail: --%s %s: must be a positive number\n",
                    c == 'n' ? "count" : "idle-ms", optarg);
            return NL_EXIT_USAGE;
        }
        switch (c) {
        case 'm':
            meta = 1;
            break;
        case 'b':
            brief = 1;
            break;
        case 'g':
            group = optarg;
            break;
        case 'B':
            pos.from_beginning = 1;
            break;
        case 't':
            if (!tag_id_valid(optarg)) {
                fprintf(stderr, "newsline tail: --tag %s: not an actor or event id (a-z, 0-9, -)\n",
                        optarg);
                return NL_EXIT_USAGE;
            }
            if (ntags == (int)(sizeof(tags) / sizeof(tags[0]))) {
                fprintf(stderr, "newsline tail: at most 64 --tag (use --tag-regex)\n");
                return NL_EXIT_USAGE;
            }
            tags[ntags++] = optarg;
            break;
        case 'r': {
            regex_t re;
            int e = regcomp(&re, optarg, REG_EXTENDED | REG_NOSUB);
            if (e != 0) {
                regerror(e, &re, errbuf, sizeof(errbuf));
                fprintf(stderr, "newsline tail: --tag-regex %s: bad regex: %s\n", optarg, errbuf);
                return NL_EXIT_USAGE;
            }
            regfree(&re);
            if (tag_regex != NULL) {
                fprintf(stderr, "newsline tail: --tag-regex given twice (use one RE with |)\n");
                return NL_EXIT_USAGE;
            }
            tag_regex = optarg;
            break;
        }
        case 'n':
        case 'i':
            break;
        default:
            fprintf(stderr, "newsline tail: bad option \"%s\"\n" TAIL_USAGE, argv[optind - 1]);
            return NL_EXIT_USAGE;
        }
    }
    if (meta && brief) {
        fprintf(stderr, "newsline tail: --meta and --brief exclude each other\n");
        return NL_EXIT_USAGE;
    }
    if (optind >= argc && ntags == 0 && tag_regex == NULL) {
        fprintf(stderr, "newsline tail: no topic, --tag or --tag-regex given\n" TAIL_USAGE);
        return NL_EXIT_USAGE;
    }
    if (regex_quote(cfg->tagger_tag_topic_prefix, prefix_re, sizeof(prefix_re)) != 0 ||
        (tag_regex != NULL && strlen(prefix_re) + strlen(tag_regex) + 8 > sizeof(topic))) {
        fprintf(stderr, "newsline tail: tag topic name or regex too long\n");
        return NL_EXIT_USAGE;
    }
    for (int i = 0; i < ntags; i++) {
        tag_check_watchlist(cfg, tags[i]);
    }
    /* A throw-away group that never commits: nothing is left behind. */
    if (group == NULL) {
        snprintf(gbuf, sizeof(gbuf), "newsline-tail-%ld-%lld", (long)getpid(),
                 (long long)nl_now_ms());
        group = gbuf;
    }
    conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", cfg->brokers, rkerr, sizeof(rkerr)) ||
        rd_kafka_conf_set(conf, "group.id", group, rkerr, sizeof(rkerr)) ||
        rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", rkerr, sizeof(rkerr)) ||
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", rkerr, sizeof(rkerr)) ||
        /* tag topics appear as the tagger meets new actors: look often */
        ((ntags > 0 || tag_regex != NULL) &&
         rd_kafka_conf_set(conf, "topic.metadata.refresh.interval.ms", "5000", rkerr,
                           sizeof(rkerr)))) {
        fprintf(stderr, "newsline tail: %s\n", rkerr);
        rd_kafka_conf_destroy(conf);
        return NL_EXIT_USAGE;
    }
    if (nl_kafka_apply_user(conf, cfg, NL_CLIENT_CONSUMER, errbuf, sizeof(errbuf)) != 0) {
        fprintf(stderr, "newsline tail: %s\n", errbuf);
        rd_kafka_conf_destroy(conf);
        return NL_EXIT_USAGE;
    }
    /* Following tags starts at the end (records from now on), unless
     * --from-beginning; plain topics are read from the beginning. */
    if (ntags > 0 || tag_regex != NULL || pos.from_beginning) {
        if (ntags == 0 && tag_regex == NULL) {
            pos.from_beginning = 1;
        }
        pos.since_ms = nl_now_ms();
        rd_kafka_conf_set_rebalance_cb(conf, tail_rebalance);
        rd_kafka_conf_set_opaque(conf, &pos);
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
    sub = rd_kafka_topic_partition_list_new(argc - optind + ntags + 1);
    for (int i = optind; i < argc; i++) {
        rd_kafka_topic_partition_list_add(sub, argv[i], RD_KAFKA_PARTITION_UA);
    }
    for (int i = 0; i < ntags + (tag_regex != NULL); i++) {
        /* a leading ^ makes it a pattern for librdkafka; RE matches the whole id */
        int n = i < ntags
                    ? snprintf(topic, sizeof(topic), "%s%s", cfg->tagger_tag_topic_prefix, tags[i])
                    : snprintf(topic, sizeof(topic), "^%s(%s)$", prefix_re, tag_regex);
        if (n < 0 || (size_t)n >= sizeof(topic)) {
            fprintf(stderr, "newsline tail: %s: topic name too long\n",
                    i < ntags ? tags[i] : tag_regex);
            rd_kafka_topic_partition_list_destroy(sub);
            rd_kafka_destroy(rk);
            return NL_EXIT_USAGE;
        }
        rd_kafka_topic_partition_list_add(sub, topic, RD_KAFKA_PARTITION_UA);
    }
    {
        rd_kafka_resp_err_t e = rd_kafka_subscribe(rk, sub);
        rd_kafka_topic_partition_list_destroy(sub);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "newsline tail: subscribe: %s\n", rd_kafka_err2str(e));
            rd_kafka_destroy(rk);
            return NL_EXIT_USAGE;
        }
    }
    while (!nl_stop && (count < 0 || seen < count)) {
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(rk, 100);
        if (rkm == NULL) {
            if (idle_ms > 0 && nl_now_ms() - last > idle_ms) {
                break;
            }
            continue;
        }
        if (rkm->err == RD_KAFKA_RESP_ERR_NO_ERROR && pos.filter &&
            rd_kafka_message_timestamp(rkm, NULL) < pos.since_ms) {
            /* older than the start: skipped (see tail_rebalance) */
        } else if (rkm->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (brief) {
                print_brief(rkm, cfg->tagger_tag_topic_prefix);
            } else {
                print_message(rkm, meta);
            }
            seen++;
            last = nl_now_ms();
        } else if (rkm->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
                   rkm->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC) {
            /* a tag topic exists once the tagger first sends to it: wait */
            if (nl_now_ms() - unknown_warned > 60000) {
                nl_info("tail_waiting", "reason=%s", nl_log_q(rd_kafka_message_errstr(rkm)));
                unknown_warned = nl_now_ms();
            }
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
    struct cli_tally tally = {0, 0, 0};

    if (argc != 2) {
        fprintf(stderr, "newsline produce: usage: produce TOPIC < lines\n");
        return NL_EXIT_USAGE;
    }
    rk =
        nl_kafka_producer_new(cfg, "newsline-cli", cli_on_delivery, &tally, errbuf, sizeof(errbuf));
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
    /* A message the broker refuses (a keyless one on a compacted topic, say)
     * is reported here, not by the flush. */
    if (tally.failed > 0 || tally.acked != (size_t)sent) {
        rc = NL_EXIT_FAIL;
    }
    fprintf(stderr, "produced %ld message(s) to %s: %zu acknowledged, %zu failed\n", sent, argv[1],
            tally.acked, tally.failed);
    rd_kafka_destroy(rk);
    return rc;
}
