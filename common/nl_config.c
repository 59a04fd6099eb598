#include "nl_config.h"

#include "nl_err.h"
#include "nl_metrics.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef NL_DATADIR
#define NL_DATADIR "."
#endif

/* CFG_STR0 is a string that may be empty (an empty list, no file). */
/* CFG_LISTEN is host:port or empty (nl_metrics_check_listen). */
enum cfg_type { CFG_STR, CFG_STR0, CFG_INT, CFG_BOOL, CFG_LOGLEVEL, CFG_LISTEN };

/* The one table that drives parsing, the environment, --help and the docs. */
static const struct cfg_entry {
    const char *name;
    enum cfg_type type;
    const char *def;
    int64_t min, max;
    size_t off;
    const char *help;
} cfg_table[] = {
#define S(name, def, field, help)                                                                  \
    {                                                                                              \
        name, CFG_STR, def, 0, 0, offsetof(nl_config, field), help                                 \
    }
#define I(name, def, lo, hi, field, help)                                                          \
    {                                                                                              \
        name, CFG_INT, def, lo, hi, offsetof(nl_config, field), help                               \
    }
    S("brokers", "127.0.0.1:9092", brokers, "Kafka bootstrap servers, host:port[,host:port]"),
    S("group_prefix", "newsline-", group_prefix, "consumer group of a stage = prefix + stage name"),
    {"log_level", CFG_LOGLEVEL, "info", 0, 0, offsetof(nl_config, log_level),
     "debug, info, warn or error"},
    S("topics.fetch", "newsline.fetch", topic_fetch, "URLs to fetch (fetcher input)"),
    S("topics.raw", "newsline.raw", topic_raw, "fetched pages and replayed documents"),
    S("topics.parsed", "newsline.parsed", topic_parsed, "parsed documents"),
    S("topics.tagged", "newsline.tagged", topic_tagged, "tagged documents (sink input)"),
    S("topics.dlq", "newsline.dlq", topic_dlq, "dead letters from every stage"),
    S("topics.fetch_seen", "newsline.fetch.seen", topic_fetch_seen,
      "the fetcher's seen-set changelog: compacted, keyed by URL id, partition p holding the "
      "seen-set of topics.fetch partition p (same partition count; created if missing)"),
    I("max_record_bytes", "8388608", 1024, 1073741824, max_record_bytes,
      "largest record a stage accepts or produces (keep 1 MiB under the topics' "
      "max.message.bytes)"),
    I("max_in_flight", "1000", 1, 1000000, max_in_flight,
      "records awaiting broker acknowledgement before a stage stops consuming"),
    I("connect_timeout_ms", "10000", 100, 600000, connect_timeout_ms,
      "how long a daemon waits for the brokers at start before it gives up"),
    I("drain_timeout_ms", "30000", 0, 600000, drain_timeout_ms,
      "how long SIGTERM waits for in-flight records"),
    I("message_timeout_ms", "300000", 1000, 2147483647, message_timeout_ms,
      "librdkafka message.timeout.ms for every producer"),
    S("fetcher.user_agent", "newsline/" NL_VERSION " (+https://example.invalid/newsline)",
      fetcher_user_agent, "User-Agent header sent by the fetcher"),
    I("fetcher.timeout_ms", "30000", 100, 600000, fetcher_timeout_ms, "total time for one fetch"),
    I("fetcher.max_redirects", "5", 0, 50, fetcher_max_redirects, "redirects followed per fetch"),
    I("fetcher.connect_timeout_ms", "10000", 100, 600000, fetcher_connect_timeout_ms,
      "time to connect (DNS, TCP, TLS) for one fetch"),
    I("fetcher.low_speed_bytes", "100", 1, 1073741824, fetcher_low_speed_bytes,
      "a transfer slower than this many bytes/s for fetcher.low_speed_time_s is aborted"),
    I("fetcher.low_speed_time_s", "30", 1, 3600, fetcher_low_speed_time_s,
      "see fetcher.low_speed_bytes (slow-loris and stalled servers)"),
    I("fetcher.max_body_bytes", "8388608", 1024, 1073741824, fetcher_max_body_bytes,
      "largest decoded body kept (also capped by max_record_bytes); larger ones are aborted"),
    I("fetcher.max_in_flight", "1000", 1, 100000, fetcher_max_in_flight,
      "transfers in flight at once over all hosts"),
    I("fetcher.max_pending", "1000", 1, 100000, fetcher_max_pending,
      "fetch records the fetcher holds at once (queued for their host or in flight); when "
      "full it stops consuming"),
    I("fetcher.per_host", "2", 1, 100000, fetcher_per_host, "transfers in flight at once per host"),
    I("fetcher.min_delay_ms", "1000", 0, 600000, fetcher_min_delay_ms,
      "least time between two requests to one host (a longer robots.txt Crawl-delay wins)"),
    I("fetcher.max_attempts", "3", 1, 20, fetcher_max_attempts,
      "attempts per URL for 429, 5xx and connection errors (other 4xx are not retried)"),
    I("fetcher.backoff_base_ms", "1000", 0, 600000, fetcher_backoff_base_ms,
      "first retry delay; doubles per attempt, with jitter"),
    I("fetcher.backoff_max_ms", "60000", 0, 3600000, fetcher_backoff_max_ms,
      "longest retry delay from back-off"),
    I("fetcher.max_retry_after_ms", "600000", 0, 86400000, fetcher_max_retry_after_ms,
      "a longer Retry-After ends the fetch as failed instead of waiting"),
    {"fetcher.robots", CFG_BOOL, "true", 0, 1, offsetof(nl_config, fetcher_robots),
     "fetch and obey robots.txt (false only for benchmarks and your own sites)"},
    I("fetcher.robots_ttl_s", "86400", 1, 2592000, fetcher_robots_ttl_s,
      "how long a host's robots.txt is cached"),
    I("fetcher.max_crawl_delay_ms", "60000", 0, 86400000, fetcher_max_crawl_delay_ms,
      "cap on a robots.txt Crawl-delay"),
    {"fetcher.allow_private", CFG_STR0, "", 0, 0, offsetof(nl_config, fetcher_allow_private),
     "CIDRs the fetcher may connect to although not public (\"127.0.0.0/8,::1/128\"); "
     "empty: only public addresses"},
    {"fetcher.ca_file", CFG_STR0, "", 0, 0, offsetof(nl_config, fetcher_ca_file),
     "PEM file of the CA certificates https servers are verified against, instead of the "
     "system's (/etc/ssl/certs); empty: the system's"},
    {"fetcher.sources", CFG_STR0, "", 0, 0, offsetof(nl_config, fetcher_sources),
     "sources file (JSON) the fetcher polls (daemon and --once); empty: none"},
    S("fetcher.state_dir", "fetcher-state", fetcher_state_dir,
      "where the fetcher keeps its seen-sets (seen.<partition>: a local cache of "
      "topics.fetch_seen; seen.local) and sources state (sources-state.json); relative to the "
      "working directory; one per fetcher instance, need not be shared"),
    I("fetcher.stale_warn_s", "172800", 0, 31536000, fetcher_stale_warn_s,
      "warn when a source has produced nothing new for this long (0: never)"),
    I("fetcher.seen_sync_ms", "1000", 10, 60000, fetcher_seen_sync_ms,
      "how often the seen-set is fsync'd and its changelog flushed (and the fetch topic's "
      "offsets stored after both)"),
    I("fetcher.seen_restore_timeout_ms", "240000", 1000, 3600000, fetcher_seen_restore_timeout_ms,
      "how long restoring one partition's seen-set from topics.fetch_seen may take before the "
      "fetcher gives up (exit 70); it runs during the rebalance, so keep it under "
      "kafka.consumer.max.poll.interval.ms (300000)"),
    I("debug.process_delay_ms", "0", 0, 60000, debug_process_delay_ms,
      "for fault tests only: sleep this long before processing each record"),
    I("parser.max_page_bytes", "8388608", 1024, 1073741824, parser_max_page_bytes,
      "largest page body the parser reads; a bigger one is dead-lettered as too_big"),
    {"tagger.tag_topics", CFG_BOOL, "true", 0, 1, offsetof(nl_config, tagger_tag_topics),
     "also send each tagged record to <prefix><actor or event id>"},
    S("tagger.tag_topic_prefix", "newsline.tag.", tagger_tag_topic_prefix,
      "prefix of the per-tag topics"),
    S("tagger.watchlist", NL_DATADIR "/tagger/watchlist.json", tagger_watchlist,
      "watchlist file (JSON) of actors the tagger finds"),
    S("sink.corpus_dir", NL_DATADIR "/corpus", sink_corpus_dir,
      "directory the sink stores documents in, beside the seeds"),
    I("sink.sync_ms", "100", 0, 60000, sink_sync_ms,
      "how often the sink makes its batch of written records durable (one filesystem flush, "
      "renames, one directory fsync, one index transaction) and stores their offsets"),
    {"metrics.listen", CFG_LISTEN, "", 0, 0, offsetof(nl_config, metrics_listen),
     "host:port the Prometheus metrics are served on (GET /metrics), 127.0.0.1:9464 is typical; "
     "port 0 takes a free port (logged); empty: no endpoint, no port opened. Served by "
     "newsline-fetcher in consumer mode"},
#undef S
#undef I
};

#define CFG_N (sizeof(cfg_table) / sizeof(cfg_table[0]))

static const struct cfg_entry *cfg_find(const char *key)
{
    for (size_t i = 0; i < CFG_N; i++) {
        if (strcmp(cfg_table[i].name, key) == 0) {
            return &cfg_table[i];
        }
    }
    return NULL;
}

static int set_entry(nl_config *cfg, const struct cfg_entry *e, const char *value, char *errbuf,
                     size_t errlen)
{
    char *p = (char *)cfg + e->off;

    switch (e->type) {
    case CFG_LOGLEVEL:
        if (strcmp(value, "debug") != 0 && strcmp(value, "info") != 0 &&
            strcmp(value, "warn") != 0 && strcmp(value, "error") != 0) {
            return nl_errf(errbuf, errlen, NL_EINVAL,
                           "%s: \"%s\" is not one of debug, info, warn, error", e->name, value);
        }
        /* fall through */
    case CFG_LISTEN:
        if (e->type == CFG_LISTEN) {
            char why[200];
            if (nl_metrics_check_listen(value, why, sizeof(why)) != 0) {
                return nl_errf(errbuf, errlen, NL_EINVAL, "%s: %s", e->name, why);
            }
        }
        /* fall through */
    case CFG_STR0:
    case CFG_STR: {
        char *dup = strdup(value);
        if (dup == NULL) {
            return nl_errf(errbuf, errlen, NL_ENOMEM, "%s: out of memory", e->name);
        }
        if (e->type == CFG_STR && dup[0] == '\0') {
            free(dup);
            return nl_errf(errbuf, errlen, NL_EINVAL, "%s: must not be empty", e->name);
        }
        free(*(char **)p);
        *(char **)p = dup;
        return 0;
    }
    case CFG_BOOL:
        if (strcmp(value, "true") == 0 || strcmp(value, "1") == 0) {
            *(int64_t *)p = 1;
        } else if (strcmp(value, "false") == 0 || strcmp(value, "0") == 0) {
            *(int64_t *)p = 0;
        } else {
            return nl_errf(errbuf, errlen, NL_EINVAL, "%s: \"%s\" is not true or false", e->name,
                           value);
        }
        return 0;
    case CFG_INT: {
        char *end;
        long long v;
        errno = 0;
        v = strtoll(value, &end, 10);
        if (errno != 0 || end == value || *end != '\0') {
            return nl_errf(errbuf, errlen, NL_EINVAL, "%s: \"%s\" is not an integer", e->name,
                           value);
        }
        if (v < e->min || v > e->max) {
            return nl_errf(errbuf, errlen, NL_EINVAL, "%s: %lld is outside %lld..%lld", e->name, v,
                           (long long)e->min, (long long)e->max);
        }
        *(int64_t *)p = v;
        return 0;
    }
    }
    return NL_EINVAL;
}

static int set_kafka(nl_config *cfg, const char *key, const char *value, char *errbuf,
                     size_t errlen)
{
    nl_kv *kv;

    if (key[0] == '\0') {
        return nl_errf(errbuf, errlen, NL_EINVAL, "kafka.: empty librdkafka property name");
    }
    for (size_t i = 0; i < cfg->kafka_n; i++) {
        if (strcmp(cfg->kafka[i].key, key) == 0) {
            char *dup = strdup(value);
            if (dup == NULL) {
                return nl_errf(errbuf, errlen, NL_ENOMEM, "kafka.%s: out of memory", key);
            }
            free(cfg->kafka[i].value);
            cfg->kafka[i].value = dup;
            return 0;
        }
    }
    kv = realloc(cfg->kafka, (cfg->kafka_n + 1) * sizeof(*kv));
    if (kv == NULL) {
        return nl_errf(errbuf, errlen, NL_ENOMEM, "kafka.%s: out of memory", key);
    }
    cfg->kafka = kv;
    kv[cfg->kafka_n].key = strdup(key);
    kv[cfg->kafka_n].value = strdup(value);
    if (kv[cfg->kafka_n].key == NULL || kv[cfg->kafka_n].value == NULL) {
        free(kv[cfg->kafka_n].key);
        free(kv[cfg->kafka_n].value);
        return nl_errf(errbuf, errlen, NL_ENOMEM, "kafka.%s: out of memory", key);
    }
    cfg->kafka_n++;
    return 0;
}

int nl_config_set(nl_config *cfg, const char *key, const char *value, char *errbuf, size_t errlen)
{
    const struct cfg_entry *e;

    if (strncmp(key, "kafka.", 6) == 0) {
        return set_kafka(cfg, key + 6, value, errbuf, errlen);
    }
    e = cfg_find(key);
    if (e == NULL) {
        return nl_errf(errbuf, errlen, NL_EINVAL, "%s: unknown configuration key", key);
    }
    return set_entry(cfg, e, value, errbuf, errlen);
}

int nl_config_init(nl_config *cfg)
{
    char errbuf[256];

    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < CFG_N; i++) {
        int rc = set_entry(cfg, &cfg_table[i], cfg_table[i].def, errbuf, sizeof(errbuf));
        if (rc != 0) {
            nl_config_free(cfg);
            return rc;
        }
    }
    return 0;
}

void nl_config_free(nl_config *cfg)
{
    for (size_t i = 0; i < CFG_N; i++) {
        if (cfg_table[i].type != CFG_INT && cfg_table[i].type != CFG_BOOL) {
            char **p = (char **)((char *)cfg + cfg_table[i].off);
            free(*p);
            *p = NULL;
        }
    }
    for (size_t i = 0; i < cfg->kafka_n; i++) {
        free(cfg->kafka[i].key);
        free(cfg->kafka[i].value);
    }
    free(cfg->kafka);
    cfg->kafka = NULL;
    cfg->kafka_n = 0;
}

/* Applies one JSON value under a dotted key, recursing into objects. */
static int load_value(nl_config *cfg, const char *key, json_t *v, char *errbuf, size_t errlen)
{
    char num[32];
    const char *s;

    if (json_is_object(v)) {
        const char *k;
        json_t *sub;
        json_object_foreach(v, k, sub)
        {
            char full[256];
            int rc;
            if ((size_t)snprintf(full, sizeof(full), "%s%s%s", key, key[0] ? "." : "", k) >=
                sizeof(full)) {
                return nl_errf(errbuf, errlen, NL_EINVAL, "%.64s...: key too long", full);
            }
            rc = load_value(cfg, full, sub, errbuf, errlen);
            if (rc != 0) {
                return rc;
            }
        }
        return 0;
    }
    if (json_is_string(v)) {
        s = json_string_value(v);
    } else if (json_is_integer(v)) {
        snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        s = num;
    } else if (json_is_boolean(v)) {
        s = json_is_true(v) ? "true" : "false";
    } else {
        return nl_errf(errbuf, errlen, NL_EINVAL,
                       "%s: value must be a string, an integer or a boolean", key);
    }
    return nl_config_set(cfg, key, s, errbuf, errlen);
}

int nl_config_load_file(nl_config *cfg, const char *path, char *errbuf, size_t errlen)
{
    json_error_t jerr;
    json_t *root;
    int rc;
    FILE *f = fopen(path, "r");

    struct stat sb;

    if (f == NULL) {
        return nl_errf(errbuf, errlen, NL_EIO, "config %s: %s", path, strerror(errno));
    }
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return nl_errf(errbuf, errlen, NL_EIO, "config %s: not a regular file", path);
    }
    root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
    fclose(f);
    if (root == NULL) {
        return nl_errf(errbuf, errlen, NL_EINVAL, "config %s: line %d column %d: %s", path,
                       jerr.line, jerr.column, jerr.text);
    }
    if (!json_is_object(root)) {
        json_decref(root);
        return nl_errf(errbuf, errlen, NL_EINVAL, "config %s: top level must be a JSON object",
                       path);
    }
    rc = load_value(cfg, "", root, errbuf, errlen);
    json_decref(root);
    return rc;
}

int nl_config_load_env(nl_config *cfg, char *errbuf, size_t errlen)
{
    for (size_t i = 0; i < CFG_N; i++) {
        char env[128] = "NEWSLINE_";
        size_t o = strlen(env);
        const char *v;
        for (const char *p = cfg_table[i].name; *p != '\0' && o < sizeof(env) - 1; p++) {
            env[o++] = *p == '.' ? '_' : (char)toupper((unsigned char)*p);
        }
        env[o] = '\0';
        v = getenv(env);
        if (v != NULL) {
            int rc = set_entry(cfg, &cfg_table[i], v, errbuf, errlen);
            if (rc != 0 && errbuf != NULL && errlen > 0) {
                char tmp[256];
                snprintf(tmp, sizeof(tmp), "%s (from environment %s)", errbuf, env);
                snprintf(errbuf, errlen, "%s", tmp);
            }
            if (rc != 0) {
                return rc;
            }
        }
    }
    return 0;
}

const char *nl_config_kafka_prop(const nl_kv *kv, enum nl_client client)
{
    if (strncmp(kv->key, "producer.", 9) == 0) {
        return client == NL_CLIENT_PRODUCER ? kv->key + 9 : NULL;
    }
    if (strncmp(kv->key, "consumer.", 9) == 0) {
        return client == NL_CLIENT_CONSUMER ? kv->key + 9 : NULL;
    }
    return kv->key;
}

int nl_config_check_kafka(const nl_config *cfg, char *errbuf, size_t errlen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char rkerr[256];
    int rc = 0;

    for (size_t i = 0; i < cfg->kafka_n; i++) {
        const char *prop = nl_config_kafka_prop(&cfg->kafka[i], NL_CLIENT_PRODUCER);
        if (prop == NULL) {
            prop = nl_config_kafka_prop(&cfg->kafka[i], NL_CLIENT_CONSUMER);
        }
        if (prop[0] == '\0') {
            rc = nl_errf(errbuf, errlen, NL_EINVAL, "kafka.%s: empty librdkafka property name",
                         cfg->kafka[i].key);
            break;
        }
        if (rd_kafka_conf_set(conf, prop, cfg->kafka[i].value, rkerr, sizeof(rkerr)) !=
            RD_KAFKA_CONF_OK) {
            rc = nl_errf(errbuf, errlen, NL_EINVAL, "kafka.%s: %s", cfg->kafka[i].key, rkerr);
            break;
        }
    }
    rd_kafka_conf_destroy(conf);
    return rc;
}

void nl_config_print_keys(FILE *out)
{
    for (size_t i = 0; i < CFG_N; i++) {
        fprintf(out, "  %-22s %s (default: %s)\n", cfg_table[i].name, cfg_table[i].help,
                cfg_table[i].def);
    }
    fprintf(out, "  %-22s passed to librdkafka as <property>\n", "kafka.<property>");
}

void nl_config_print(const nl_config *cfg, FILE *out)
{
    json_t *o = json_object();
    json_t *k = json_object();

    for (size_t i = 0; i < CFG_N; i++) {
        const char *p = (const char *)cfg + cfg_table[i].off;
        if (cfg_table[i].type == CFG_BOOL) {
            json_object_set_new(o, cfg_table[i].name, json_boolean(*(const int64_t *)p));
        } else if (cfg_table[i].type == CFG_INT) {
            json_object_set_new(o, cfg_table[i].name, json_integer(*(const int64_t *)p));
        } else {
            json_object_set_new(o, cfg_table[i].name, json_string(*(char *const *)p));
        }
    }
    for (size_t i = 0; i < cfg->kafka_n; i++) {
        json_object_set_new(k, cfg->kafka[i].key, json_string(cfg->kafka[i].value));
    }
    json_object_set_new(o, "kafka", k);
    json_dumpf(o, out, JSON_INDENT(2) | JSON_SORT_KEYS);
    fputc('\n', out);
    json_decref(o);
}
