/* One configuration for every newsline daemon.
 *
 * Sources, later ones winning: built-in defaults < the JSON config file <
 * environment (NEWSLINE_<KEY>, dots as underscores, e.g. NEWSLINE_BROKERS,
 * NEWSLINE_SINK_CORPUS_DIR) < command-line flags (--set key=value and the
 * shortcuts each daemon documents). The file is a JSON object; nested
 * objects are flattened to dotted keys, so {"sink": {"corpus_dir": "x"}} and
 * {"sink.corpus_dir": "x"} are the same. Keys under "kafka." pass straight
 * through to librdkafka and are checked by it at load time: "kafka.<prop>"
 * goes to every client, "kafka.producer.<prop>" to producers only and
 * "kafka.consumer.<prop>" to consumers only.
 *
 * An unknown key or a bad value is an error naming the key: the daemon
 * prints it and exits 2 before it connects to anything.
 *
 * Ownership: nl_config owns every string in it; nl_config_free releases
 * them. On error a loader leaves the config valid (possibly with the keys
 * before the bad one applied); the caller is expected to exit. */
#ifndef NL_CONFIG_H
#define NL_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct nl_kv {
    char *key; /* without the "kafka." prefix; may start "producer." or "consumer." */
    char *value;
} nl_kv;

typedef struct nl_config {
    char *brokers;
    char *group_prefix;
    char *log_level;
    char *topic_fetch;
    char *topic_raw;
    char *topic_parsed;
    char *topic_tagged;
    char *topic_dlq;
    char *topic_fetch_seen;
    int64_t max_record_bytes;
    int64_t parser_max_page_bytes;
    int64_t max_in_flight;
    int64_t connect_timeout_ms;
    int64_t drain_timeout_ms;
    int64_t message_timeout_ms;
    char *fetcher_user_agent;
    int64_t fetcher_timeout_ms;
    int64_t fetcher_max_redirects;
    int64_t fetcher_connect_timeout_ms;
    int64_t fetcher_low_speed_bytes;
    int64_t fetcher_low_speed_time_s;
    int64_t fetcher_max_body_bytes;
    int64_t fetcher_max_in_flight;
    int64_t fetcher_max_pending;
    int64_t fetcher_per_host;
    int64_t fetcher_min_delay_ms;
    int64_t fetcher_max_attempts;
    int64_t fetcher_backoff_base_ms;
    int64_t fetcher_backoff_max_ms;
    int64_t fetcher_max_retry_after_ms;
    int64_t fetcher_robots; /* boolean */
    int64_t fetcher_robots_ttl_s;
    int64_t fetcher_max_crawl_delay_ms;
    char *fetcher_allow_private; /* CIDR list, may be empty */
    char *fetcher_ca_file;       /* path, may be empty: the system's CAs */
    char *fetcher_sources;       /* path, may be empty */
    char *fetcher_state_dir;
    int64_t fetcher_stale_warn_s;
    int64_t fetcher_seen_sync_ms;
    int64_t fetcher_seen_restore_timeout_ms;
    int64_t debug_process_delay_ms;
    int64_t tagger_tag_topics; /* boolean */
    char *tagger_tag_topic_prefix;
    char *tagger_watchlist;
    char *sink_corpus_dir;
    int64_t sink_sync_ms;
    char *metrics_listen; /* host:port, may be empty: no metrics endpoint */

    nl_kv *kafka; /* kafka.* passthrough, in the order given */
    size_t kafka_n;
} nl_config;

/* Fills cfg with the defaults. 0 or NL_ENOMEM. */
int nl_config_init(nl_config *cfg);
void nl_config_free(nl_config *cfg);

/* Sets one key from its string form (as from the environment or --set).
 * 0, or NL_EINVAL with "key: reason" in errbuf. */
int nl_config_set(nl_config *cfg, const char *key, const char *value, char *errbuf, size_t errlen);

/* Applies a JSON config file. 0, NL_EIO (missing, unreadable) or NL_EINVAL
 * (malformed, unknown key, bad value), with the reason in errbuf. */
int nl_config_load_file(nl_config *cfg, const char *path, char *errbuf, size_t errlen);

/* Applies NEWSLINE_* environment variables that name known keys. */
int nl_config_load_env(nl_config *cfg, char *errbuf, size_t errlen);

enum nl_client { NL_CLIENT_PRODUCER, NL_CLIENT_CONSUMER };

/* The librdkafka property a kafka.* entry sets on a client of the given
 * kind, or NULL if the entry is for the other kind. */
const char *nl_config_kafka_prop(const nl_kv *kv, enum nl_client client);

/* Checks every kafka.* key and value against librdkafka. 0 or NL_EINVAL
 * with "kafka.<key>: reason" in errbuf. */
int nl_config_check_kafka(const nl_config *cfg, char *errbuf, size_t errlen);

/* Prints the table of keys, defaults and help (for --help and the docs). */
void nl_config_print_keys(FILE *out);

/* Prints the effective configuration as JSON (for `newsline config`). */
void nl_config_print(const nl_config *cfg, FILE *out);

#endif
