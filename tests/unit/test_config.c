/* Unit tests for nl_config.h (defaults, JSON file, environment, --set,
 * kafka.* passthrough, errors) and for nl_daemon_init's flag handling. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* environ, mkdtemp, nftw, open_memstream */
#endif

#include "testutil.h"
#include "nl_config.h"
#include "nl_err.h"
#include "nl_log.h"
#include "nl_stage.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

/* ---- fixtures --------------------------------------------------------------- */

#define MAX_TMP_FILES 32

/* One directory for the whole run, made and removed by the parent process
 * (an unchecked fixture), so a test that fails in its forked child leaves
 * nothing behind; each test works in its own subdirectory of it. */
static char basedir[PATH_MAX];
static char tmpdir[PATH_MAX];
static char tmp_files[MAX_TMP_FILES][PATH_MAX];
static int tmp_is_dir[MAX_TMP_FILES];
static size_t tmp_n;

static nl_config cfg;
static int cfg_live;
static char errbuf[512];

/* Unsets every NEWSLINE_* variable, so neither the caller's environment nor
 * an earlier test leaks into a test. */
static void clear_newsline_env(void)
{
    for (;;) {
        char name[256];
        int found = 0;
        for (char **e = environ; *e != NULL; e++) {
            if (strncmp(*e, "NEWSLINE_", 9) == 0) {
                const char *eq = strchr(*e, '=');
                size_t n = eq != NULL ? (size_t)(eq - *e) : strlen(*e);
                if (n >= sizeof(name)) {
                    n = sizeof(name) - 1;
                }
                memcpy(name, *e, n);
                name[n] = '\0';
                found = 1;
                break;
            }
        }
        if (!found) {
            break;
        }
        ck_assert_int_eq(unsetenv(name), 0);
    }
}

static void base_setup(void)
{
    tu_make_basedir(basedir, sizeof(basedir), "config");
}

static void base_teardown(void)
{
    tu_remove_tree(basedir);
}

static void tmp_setup(void)
{
    tu_make_subdir(tmpdir, sizeof(tmpdir), basedir);
    tmp_n = 0;
}

static void tmp_teardown(void)
{
    while (tmp_n > 0) {
        tmp_n--;
        if (tmp_is_dir[tmp_n]) {
            rmdir(tmp_files[tmp_n]);
        } else {
            unlink(tmp_files[tmp_n]);
        }
    }
    rmdir(tmpdir);
}

/* A path inside the test's temporary directory (removed at teardown). */
static const char *tmp_path(const char *name, int is_dir)
{
    int n;

    ck_assert_uint_lt(tmp_n, MAX_TMP_FILES);
    n = snprintf(tmp_files[tmp_n], PATH_MAX, "%s/%s", tmpdir, name);
    ck_assert(n > 0 && n < PATH_MAX);
    tmp_is_dir[tmp_n] = is_dir;
    return tmp_files[tmp_n++];
}

static const char *write_file(const char *name, const char *content)
{
    const char *path = tmp_path(name, 0);
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    ck_assert_uint_eq(fwrite(content, 1, strlen(content), f), strlen(content));
    ck_assert_int_eq(fclose(f), 0);
    return path;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf;
    long n;

    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    ck_assert_int_ge(n, 0);
    rewind(f);
    buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void config_setup(void)
{
    clear_newsline_env();
    tmp_setup();
    ck_assert_int_eq(nl_config_init(&cfg), 0);
    cfg_live = 1;
    errbuf[0] = '\0';
}

static void config_teardown(void)
{
    if (cfg_live) {
        nl_config_free(&cfg);
        cfg_live = 0;
    }
    clear_newsline_env();
    tmp_teardown();
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t a = strlen(s);
    size_t b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

#define ck_assert_errbuf_has(needle)                                                               \
    ck_assert_msg(strstr(errbuf, (needle)) != NULL, "errbuf \"%s\" lacks \"%s\"", errbuf, (needle))

static void assert_kafka(const nl_config *c, size_t i, const char *key, const char *value)
{
    ck_assert_uint_lt(i, c->kafka_n);
    ck_assert_str_eq(c->kafka[i].key, key);
    ck_assert_str_eq(c->kafka[i].value, value);
}

/* ---- defaults ----------------------------------------------------------------- */

START_TEST(test_defaults)
{
    ck_assert_str_eq(cfg.brokers, "127.0.0.1:9092");
    ck_assert_str_eq(cfg.group_prefix, "newsline-");
    ck_assert_str_eq(cfg.log_level, "info");
    ck_assert_str_eq(cfg.topic_fetch, "newsline.fetch");
    ck_assert_str_eq(cfg.topic_raw, "newsline.raw");
    ck_assert_str_eq(cfg.topic_parsed, "newsline.parsed");
    ck_assert_str_eq(cfg.topic_tagged, "newsline.tagged");
    ck_assert_str_eq(cfg.topic_dlq, "newsline.dlq");
    ck_assert_int_eq(cfg.max_record_bytes, 8388608);
    ck_assert_int_eq(cfg.max_in_flight, 1000);
    ck_assert_int_eq(cfg.connect_timeout_ms, 10000);
    ck_assert_int_eq(cfg.drain_timeout_ms, 30000);
    ck_assert_int_eq(cfg.message_timeout_ms, 300000);
    ck_assert_ptr_nonnull(strstr(cfg.fetcher_user_agent, "newsline/" NL_VERSION));
    ck_assert_int_eq(cfg.fetcher_timeout_ms, 30000);
    ck_assert_int_eq(cfg.fetcher_max_redirects, 5);
    ck_assert(has_suffix(cfg.tagger_watchlist, "/tagger/watchlist.json"));
    ck_assert(has_suffix(cfg.sink_corpus_dir, "/corpus"));
#ifdef NL_DATADIR
    ck_assert_str_eq(cfg.tagger_watchlist, NL_DATADIR "/tagger/watchlist.json");
    ck_assert_str_eq(cfg.sink_corpus_dir, NL_DATADIR "/corpus");
#endif
    ck_assert_uint_eq(cfg.kafka_n, 0);
}
END_TEST

START_TEST(test_free_twice_and_reinit)
{
    ck_assert_int_eq(nl_config_set(&cfg, "kafka.acks", "all", NULL, 0), 0);
    nl_config_free(&cfg);
    ck_assert_ptr_null(cfg.brokers);
    ck_assert_uint_eq(cfg.kafka_n, 0);
    nl_config_free(&cfg);
    ck_assert_int_eq(nl_config_init(&cfg), 0);
    ck_assert_str_eq(cfg.brokers, "127.0.0.1:9092");
}
END_TEST

/* ---- nl_config_set ---------------------------------------------------------- */

START_TEST(test_set_values)
{
    ck_assert_int_eq(nl_config_set(&cfg, "brokers", "k1:9092,k2:9092", errbuf, sizeof(errbuf)), 0);
    ck_assert_str_eq(cfg.brokers, "k1:9092,k2:9092");
    ck_assert_int_eq(nl_config_set(&cfg, "topics.raw", "x.raw", errbuf, sizeof(errbuf)), 0);
    ck_assert_str_eq(cfg.topic_raw, "x.raw");
    ck_assert_int_eq(nl_config_set(&cfg, "sink.corpus_dir", "/srv/c", errbuf, sizeof(errbuf)), 0);
    ck_assert_str_eq(cfg.sink_corpus_dir, "/srv/c");
    ck_assert_int_eq(nl_config_set(&cfg, "max_in_flight", "42", errbuf, sizeof(errbuf)), 0);
    ck_assert_int_eq(cfg.max_in_flight, 42);
    ck_assert_int_eq(nl_config_set(&cfg, "fetcher.max_redirects", "0", errbuf, sizeof(errbuf)), 0);
    ck_assert_int_eq(cfg.fetcher_max_redirects, 0);
    for (int i = 0; i < 4; i++) {
        static const char *const levels[] = {"debug", "info", "warn", "error"};
        ck_assert_int_eq(nl_config_set(&cfg, "log_level", levels[i], errbuf, sizeof(errbuf)), 0);
        ck_assert_str_eq(cfg.log_level, levels[i]);
    }
    /* the value is copied */
    {
        char v[16];
        strcpy(v, "copied");
        ck_assert_int_eq(nl_config_set(&cfg, "group_prefix", v, NULL, 0), 0);
        strcpy(v, "changed");
        ck_assert_str_eq(cfg.group_prefix, "copied");
    }
}
END_TEST

START_TEST(test_set_integer_bounds)
{
    static const struct {
        const char *key;
        const char *lo, *hi, *below, *above;
    } cases[] = {
        {"max_record_bytes", "1024", "1073741824", "1023", "1073741825"},
        {"max_in_flight", "1", "1000000", "0", "1000001"},
        {"connect_timeout_ms", "100", "600000", "99", "600001"},
        {"drain_timeout_ms", "0", "600000", "-1", "600001"},
        {"message_timeout_ms", "1000", "2147483647", "999", "2147483648"},
        {"fetcher.timeout_ms", "100", "600000", "99", "600001"},
        {"fetcher.max_redirects", "0", "50", "-1", "51"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *key = cases[i].key;
        ck_assert_int_eq(nl_config_set(&cfg, key, cases[i].lo, errbuf, sizeof(errbuf)), 0);
        ck_assert_int_eq(nl_config_set(&cfg, key, cases[i].hi, errbuf, sizeof(errbuf)), 0);
        /* out of range: NL_EINVAL naming the key, and the value unchanged */
        errbuf[0] = '\0';
        ck_assert_int_eq(nl_config_set(&cfg, key, cases[i].below, errbuf, sizeof(errbuf)),
                         NL_EINVAL);
        ck_assert_msg(strncmp(errbuf, key, strlen(key)) == 0, "errbuf \"%s\" for %s", errbuf, key);
        ck_assert_errbuf_has(cases[i].below);
        errbuf[0] = '\0';
        ck_assert_int_eq(nl_config_set(&cfg, key, cases[i].above, errbuf, sizeof(errbuf)),
                         NL_EINVAL);
        ck_assert_msg(strncmp(errbuf, key, strlen(key)) == 0, "errbuf \"%s\" for %s", errbuf, key);
    }
    ck_assert_int_eq(cfg.max_in_flight, 1000000);
    ck_assert_int_eq(cfg.message_timeout_ms, 2147483647);
    ck_assert_int_eq(cfg.fetcher_max_redirects, 50);
}
END_TEST

START_TEST(test_set_not_integer)
{
    static const char *const bad[] = {
        "", "abc", "12abc", "1.5", "0x10", "1e3", "5 ", "99999999999999999999", "-",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        errbuf[0] = '\0';
        ck_assert_int_eq(nl_config_set(&cfg, "max_in_flight", bad[i], errbuf, sizeof(errbuf)),
                         NL_EINVAL);
        ck_assert_msg(strncmp(errbuf, "max_in_flight:", 14) == 0, "\"%s\": errbuf \"%s\"", bad[i],
                      errbuf);
        ck_assert_int_eq(cfg.max_in_flight, 1000);
    }
}
END_TEST

START_TEST(test_set_errors)
{
    /* unknown keys, including near misses */
    static const char *const unknown[] = {"no_such_key",       "topics", "Brokers", "sink",
                                          "sink.corpus_dir.x", "kafka",  ""};
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        errbuf[0] = '\0';
        ck_assert_int_eq(nl_config_set(&cfg, unknown[i], "x", errbuf, sizeof(errbuf)), NL_EINVAL);
        ck_assert_msg(strncmp(errbuf, unknown[i], strlen(unknown[i])) == 0 &&
                          strstr(errbuf, "unknown") != NULL,
                      "key \"%s\": errbuf \"%s\"", unknown[i], errbuf);
    }
    /* empty strings */
    ck_assert_int_eq(nl_config_set(&cfg, "brokers", "", errbuf, sizeof(errbuf)), NL_EINVAL);
    ck_assert_errbuf_has("brokers");
    ck_assert_str_eq(cfg.brokers, "127.0.0.1:9092");
    ck_assert_int_eq(nl_config_set(&cfg, "topics.dlq", "", errbuf, sizeof(errbuf)), NL_EINVAL);
    ck_assert_errbuf_has("topics.dlq");
    ck_assert_str_eq(cfg.topic_dlq, "newsline.dlq");
    /* log levels */
    static const char *const levels[] = {"verbose", "INFO", "", "warning", "info "};
    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
        errbuf[0] = '\0';
        ck_assert_int_eq(nl_config_set(&cfg, "log_level", levels[i], errbuf, sizeof(errbuf)),
                         NL_EINVAL);
        ck_assert_errbuf_has("log_level");
        ck_assert_str_eq(cfg.log_level, "info");
    }
    /* an empty librdkafka property name */
    ck_assert_int_eq(nl_config_set(&cfg, "kafka.", "1", errbuf, sizeof(errbuf)), NL_EINVAL);
    ck_assert_errbuf_has("kafka.");
    ck_assert_uint_eq(cfg.kafka_n, 0);
    /* a NULL errbuf is fine */
    ck_assert_int_eq(nl_config_set(&cfg, "nope", "x", NULL, 0), NL_EINVAL);
}
END_TEST

START_TEST(test_kafka_passthrough_set)
{
    ck_assert_int_eq(nl_config_set(&cfg, "kafka.acks", "all", errbuf, sizeof(errbuf)), 0);
    ck_assert_int_eq(nl_config_set(&cfg, "kafka.linger.ms", "5", errbuf, sizeof(errbuf)), 0);
    ck_assert_int_eq(nl_config_set(&cfg, "kafka.client.rack", "r1", errbuf, sizeof(errbuf)), 0);
    ck_assert_uint_eq(cfg.kafka_n, 3);
    assert_kafka(&cfg, 0, "acks", "all");
    assert_kafka(&cfg, 1, "linger.ms", "5");
    assert_kafka(&cfg, 2, "client.rack", "r1");
    /* overriding keeps the position */
    ck_assert_int_eq(nl_config_set(&cfg, "kafka.linger.ms", "50", errbuf, sizeof(errbuf)), 0);
    ck_assert_uint_eq(cfg.kafka_n, 3);
    assert_kafka(&cfg, 1, "linger.ms", "50");
    /* values are not checked here, and may be empty */
    ck_assert_int_eq(nl_config_set(&cfg, "kafka.acks", "maybe", errbuf, sizeof(errbuf)), 0);
    ck_assert_int_eq(nl_config_set(&cfg, "kafka.sasl.username", "", errbuf, sizeof(errbuf)), 0);
    ck_assert_uint_eq(cfg.kafka_n, 4);
    assert_kafka(&cfg, 0, "acks", "maybe");
    assert_kafka(&cfg, 3, "sasl.username", "");
}
END_TEST

START_TEST(test_kafka_client_scopes)
{
    ck_assert_int_eq(nl_config_set(&cfg, "kafka.linger.ms", "5", errbuf, sizeof(errbuf)), 0);
    ck_assert_int_eq(
        nl_config_set(&cfg, "kafka.consumer.session.timeout.ms", "6000", errbuf, sizeof(errbuf)),
        0);
    ck_assert_int_eq(
        nl_config_set(&cfg, "kafka.producer.batch.size", "1000", errbuf, sizeof(errbuf)), 0);
    ck_assert_uint_eq(cfg.kafka_n, 3);
    /* plain kafka.* goes to both kinds of client */
    ck_assert_str_eq(nl_config_kafka_prop(&cfg.kafka[0], NL_CLIENT_PRODUCER), "linger.ms");
    ck_assert_str_eq(nl_config_kafka_prop(&cfg.kafka[0], NL_CLIENT_CONSUMER), "linger.ms");
    /* scoped ones to one kind only, with the scope stripped */
    ck_assert_ptr_null(nl_config_kafka_prop(&cfg.kafka[1], NL_CLIENT_PRODUCER));
    ck_assert_str_eq(nl_config_kafka_prop(&cfg.kafka[1], NL_CLIENT_CONSUMER), "session.timeout.ms");
    ck_assert_str_eq(nl_config_kafka_prop(&cfg.kafka[2], NL_CLIENT_PRODUCER), "batch.size");
    ck_assert_ptr_null(nl_config_kafka_prop(&cfg.kafka[2], NL_CLIENT_CONSUMER));
    ck_assert_int_eq(nl_config_check_kafka(&cfg, errbuf, sizeof(errbuf)), 0);
    /* scoped properties are checked like the others */
    ck_assert_int_eq(nl_config_set(&cfg, "kafka.consumer.bogus", "1", errbuf, sizeof(errbuf)), 0);
    ck_assert_int_eq(nl_config_check_kafka(&cfg, errbuf, sizeof(errbuf)), NL_EINVAL);
    ck_assert_ptr_nonnull(strstr(errbuf, "kafka.consumer.bogus"));
}
END_TEST

/* ---- file --------------------------------------------------------------------- */

START_TEST(test_file_nested)
{
    const char *path =
        write_file("nested.json", "{\n"
                                  "  \"brokers\": \"b1:9092,b2:9092\",\n"
                                  "  \"group_prefix\": \"test-\",\n"
                                  "  \"log_level\": \"debug\",\n"
                                  "  \"topics\": {\"raw\": \"t.raw\", \"parsed\": \"t.parsed\"},\n"
                                  "  \"sink\": {\"corpus_dir\": \"/data/corpus\"},\n"
                                  "  \"fetcher\": {\"timeout_ms\": 1234, \"max_redirects\": 0,\n"
                                  "              \"user_agent\": \"ua/1 (x)\"},\n"
                                  "  \"max_in_flight\": 7,\n"
                                  "  \"drain_timeout_ms\": 0,\n"
                                  "  \"kafka\": {\n"
                                  "    \"acks\": \"all\",\n"
                                  "    \"linger.ms\": 7,\n"
                                  "    \"enable.idempotence\": true,\n"
                                  "    \"socket\": {\"keepalive\": {\"enable\": false}},\n"
                                  "    \"client.id\": \"x\"\n"
                                  "  }\n"
                                  "}\n");

    ck_assert_msg(nl_config_load_file(&cfg, path, errbuf, sizeof(errbuf)) == 0, "%s", errbuf);
    ck_assert_str_eq(cfg.brokers, "b1:9092,b2:9092");
    ck_assert_str_eq(cfg.group_prefix, "test-");
    ck_assert_str_eq(cfg.log_level, "debug");
    ck_assert_str_eq(cfg.topic_raw, "t.raw");
    ck_assert_str_eq(cfg.topic_parsed, "t.parsed");
    ck_assert_str_eq(cfg.sink_corpus_dir, "/data/corpus");
    ck_assert_int_eq(cfg.fetcher_timeout_ms, 1234);
    ck_assert_int_eq(cfg.fetcher_max_redirects, 0);
    ck_assert_str_eq(cfg.fetcher_user_agent, "ua/1 (x)");
    ck_assert_int_eq(cfg.max_in_flight, 7);
    ck_assert_int_eq(cfg.drain_timeout_ms, 0);
    /* untouched keys keep their defaults */
    ck_assert_str_eq(cfg.topic_fetch, "newsline.fetch");
    ck_assert_str_eq(cfg.topic_dlq, "newsline.dlq");
    ck_assert_int_eq(cfg.connect_timeout_ms, 10000);
    /* kafka.*: flattened, in file order, integers and booleans as text */
    ck_assert_uint_eq(cfg.kafka_n, 5);
    assert_kafka(&cfg, 0, "acks", "all");
    assert_kafka(&cfg, 1, "linger.ms", "7");
    assert_kafka(&cfg, 2, "enable.idempotence", "true");
    assert_kafka(&cfg, 3, "socket.keepalive.enable", "false");
    assert_kafka(&cfg, 4, "client.id", "x");
    /* and librdkafka takes them all */
    ck_assert_msg(nl_config_check_kafka(&cfg, errbuf, sizeof(errbuf)) == 0, "%s", errbuf);
}
END_TEST

START_TEST(test_file_flat_dotted)
{
    const char *path = write_file("flat.json", "{\"sink.corpus_dir\": \"/flat\",\n"
                                               " \"topics.dlq\": \"d\",\n"
                                               " \"fetcher.max_redirects\": \"3\",\n"
                                               " \"fetcher.timeout_ms\": 200,\n"
                                               " \"kafka.client.rack\": \"r1\",\n"
                                               " \"kafka.linger.ms\": 9}\n");

    ck_assert_msg(nl_config_load_file(&cfg, path, errbuf, sizeof(errbuf)) == 0, "%s", errbuf);
    ck_assert_str_eq(cfg.sink_corpus_dir, "/flat");
    ck_assert_str_eq(cfg.topic_dlq, "d");
    ck_assert_int_eq(cfg.fetcher_max_redirects, 3);
    ck_assert_int_eq(cfg.fetcher_timeout_ms, 200);
    ck_assert_uint_eq(cfg.kafka_n, 2);
    assert_kafka(&cfg, 0, "client.rack", "r1");
    assert_kafka(&cfg, 1, "linger.ms", "9");
}
END_TEST

static char *print_config(const nl_config *c)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    nl_config_print(c, f);
    ck_assert_int_eq(fclose(f), 0);
    return buf;
}

START_TEST(test_file_nested_equals_flat)
{
    const char *nested = write_file("n.json", "{\"sink\": {\"corpus_dir\": \"/x\"},"
                                              " \"topics\": {\"raw\": \"r\", \"dlq\": \"q\"},"
                                              " \"kafka\": {\"linger\": {\"ms\": 5}}}");
    const char *flat = write_file("f.json", "{\"sink.corpus_dir\": \"/x\", \"topics.raw\": \"r\","
                                            " \"topics.dlq\": \"q\", \"kafka.linger.ms\": \"5\"}");
    nl_config other;
    char *a;
    char *b;

    ck_assert_int_eq(nl_config_init(&other), 0);
    ck_assert_msg(nl_config_load_file(&cfg, nested, errbuf, sizeof(errbuf)) == 0, "%s", errbuf);
    ck_assert_msg(nl_config_load_file(&other, flat, errbuf, sizeof(errbuf)) == 0, "%s", errbuf);
    a = print_config(&cfg);
    b = print_config(&other);
    ck_assert_str_eq(a, b);
    ck_assert_ptr_nonnull(strstr(a, "\"/x\""));
    free(a);
    free(b);
    nl_config_free(&other);
}
END_TEST

START_TEST(test_file_empty_object)
{
    const char *path = write_file("empty.json", "{}");
    const char *path2 = write_file("empty2.json", "{\"sink\": {}, \"kafka\": {}}");
    char *before = print_config(&cfg);
    char *after;

    ck_assert_int_eq(nl_config_load_file(&cfg, path, errbuf, sizeof(errbuf)), 0);
    ck_assert_int_eq(nl_config_load_file(&cfg, path2, errbuf, sizeof(errbuf)), 0);
    after = print_config(&cfg);
    ck_assert_str_eq(before, after);
    free(before);
    free(after);
}
END_TEST

START_TEST(test_file_kafka_order_and_override)
{
    const char *first = write_file("k1.json", "{\"kafka\": {\"acks\": \"1\", \"linger.ms\": 1,"
                                              " \"batch.size\": 1000}}");
    const char *second = write_file("k2.json", "{\"kafka.linger.ms\": 2, \"kafka\": {\"acks\":"
                                               " \"all\", \"client.rack\": \"z\"}}");

    ck_assert_int_eq(nl_config_load_file(&cfg, first, errbuf, sizeof(errbuf)), 0);
    ck_assert_uint_eq(cfg.kafka_n, 3);
    assert_kafka(&cfg, 0, "acks", "1");
    assert_kafka(&cfg, 1, "linger.ms", "1");
    assert_kafka(&cfg, 2, "batch.size", "1000");
    /* a later file overrides in place and appends new keys */
    ck_assert_int_eq(nl_config_load_file(&cfg, second, errbuf, sizeof(errbuf)), 0);
    ck_assert_uint_eq(cfg.kafka_n, 4);
    assert_kafka(&cfg, 0, "acks", "all");
    assert_kafka(&cfg, 1, "linger.ms", "2");
    assert_kafka(&cfg, 2, "batch.size", "1000");
    assert_kafka(&cfg, 3, "client.rack", "z");
    /* and so does --set */
    ck_assert_int_eq(nl_config_set(&cfg, "kafka.batch.size", "2000", errbuf, sizeof(errbuf)), 0);
    ck_assert_uint_eq(cfg.kafka_n, 4);
    assert_kafka(&cfg, 2, "batch.size", "2000");
    ck_assert_msg(nl_config_check_kafka(&cfg, errbuf, sizeof(errbuf)) == 0, "%s", errbuf);
}
END_TEST

/* Each case: file content, then up to two substrings the reason must hold. */
struct bad_file {
    const char *content;
    const char *needle1;
    const char *needle2;
};

static void assert_file_rejected(const struct bad_file *bf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char name[32];
        const char *path;
        int rc;
        snprintf(name, sizeof(name), "bad%zu.json", i);
        path = write_file(name, bf[i].content);
        errbuf[0] = '\0';
        rc = nl_config_load_file(&cfg, path, errbuf, sizeof(errbuf));
        ck_assert_msg(rc == NL_EINVAL, "case %zu (%s): rc %d, errbuf \"%s\"", i, bf[i].content, rc,
                      errbuf);
        ck_assert_msg(bf[i].needle1 == NULL || strstr(errbuf, bf[i].needle1) != NULL,
                      "case %zu: errbuf \"%s\" lacks \"%s\"", i, errbuf, bf[i].needle1);
        ck_assert_msg(bf[i].needle2 == NULL || strstr(errbuf, bf[i].needle2) != NULL,
                      "case %zu: errbuf \"%s\" lacks \"%s\"", i, errbuf, bf[i].needle2);
    }
}

START_TEST(test_file_bad_values)
{
    static const struct bad_file cases[] = {
        {"{\"brokers\": \"x:1\", \"nope\": 1}", "nope", "unknown"},
        {"{\"sink\": {\"dir\": \"x\"}}", "sink.dir", "unknown"},
        {"{\"kafka\": \"acks=all\"}", "kafka", "unknown"},
        {"{\"max_in_flight\": 0}", "max_in_flight", "outside"},
        {"{\"max_in_flight\": 1000001}", "max_in_flight", "1000001"},
        {"{\"fetcher\": {\"timeout_ms\": 99}}", "fetcher.timeout_ms", "99"},
        {"{\"max_record_bytes\": 1073741825}", "max_record_bytes", NULL},
        {"{\"drain_timeout_ms\": -5}", "drain_timeout_ms", NULL},
        {"{\"max_in_flight\": \"many\"}", "max_in_flight", "many"},
        {"{\"max_in_flight\": 1.5}", "max_in_flight", NULL},
        {"{\"connect_timeout_ms\": true}", "connect_timeout_ms", NULL},
        {"{\"brokers\": \"\"}", "brokers", "empty"},
        {"{\"topics\": {\"dlq\": \"\"}}", "topics.dlq", "empty"},
        {"{\"log_level\": \"loud\"}", "log_level", "loud"},
        {"{\"log_level\": \"DEBUG\"}", "log_level", NULL},
        {"{\"brokers\": [\"a:1\", \"b:2\"]}", "brokers", NULL},
        {"{\"kafka\": {\"acks\": [\"all\"]}}", "kafka.acks", NULL},
        {"{\"group_prefix\": null}", "group_prefix", NULL},
        {"{\"kafka\": {\"\": \"x\"}}", "kafka.", NULL},
    };
    assert_file_rejected(cases, sizeof(cases) / sizeof(cases[0]));
}
END_TEST

START_TEST(test_file_malformed)
{
    static const struct bad_file cases[] = {
        {"{\n  \"brokers\": \"x:1\",\n  oops\n}\n", "line 3", "column"},
        {"{\"brokers\": \"x:1\"", "line 1", "column"},
        {"{\"brokers\": \"x:1\",}", "line", "column"},
        {"", "line", NULL},
        {"{} {}", "line", NULL},
        {"{\"brokers\": \"\xff\"}", "line", NULL},
        /* duplicates are refused, naming the key and where it is */
        {"{\n  \"brokers\": \"a:1\",\n  \"brokers\": \"b:2\"\n}\n", "brokers", "line 3"},
        {"{\"sink\": {\"corpus_dir\": \"a\", \"corpus_dir\": \"b\"}}", "corpus_dir", "duplicate"},
    };
    assert_file_rejected(cases, sizeof(cases) / sizeof(cases[0]));
}
END_TEST

START_TEST(test_file_not_object)
{
    static const struct bad_file cases[] = {
        {"[1, 2]", "object", NULL},  {"[{\"brokers\": \"x:1\"}]", "object", NULL},
        {"\"brokers\"", NULL, NULL}, {"42", NULL, NULL},
        {"null", NULL, NULL},
    };
    assert_file_rejected(cases, sizeof(cases) / sizeof(cases[0]));
    ck_assert_str_eq(cfg.brokers, "127.0.0.1:9092");
}
END_TEST

START_TEST(test_file_key_too_long)
{
    char content[700];
    char key[400];

    memset(key, 'k', sizeof(key) - 1);
    key[sizeof(key) - 1] = '\0';
    snprintf(content, sizeof(content), "{\"sink\": {\"%s\": 1}}", key);
    write_file("long.json", content);
    errbuf[0] = '\0';
    ck_assert_int_eq(nl_config_load_file(&cfg, tmp_files[tmp_n - 1], errbuf, sizeof(errbuf)),
                     NL_EINVAL);
    ck_assert_errbuf_has("sink.kkkk");
}
END_TEST

START_TEST(test_file_missing)
{
    const char *path = tmp_path("does-not-exist.json", 0);
    ck_assert_int_eq(nl_config_load_file(&cfg, path, errbuf, sizeof(errbuf)), NL_EIO);
    ck_assert_errbuf_has(path);
    ck_assert_int_eq(nl_config_load_file(&cfg, "/nonexistent-dir/x.json", NULL, 0), NL_EIO);
    ck_assert_str_eq(cfg.brokers, "127.0.0.1:9092");
}
END_TEST

START_TEST(test_file_is_directory)
{
    /* A directory opens but cannot be read: an I/O error (NL_EIO), not a
     * JSON syntax error. */
    const char *path = tmp_path("adir", 1);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    errbuf[0] = '\0';
    ck_assert_msg(nl_config_load_file(&cfg, path, errbuf, sizeof(errbuf)) == NL_EIO,
                  "directory as config: errbuf \"%s\"", errbuf);
    ck_assert_errbuf_has(path);
}
END_TEST

START_TEST(test_file_error_keeps_config_valid)
{
    /* the keys before the bad one may be applied; the config stays usable */
    const char *path = write_file("partial.json", "{\"brokers\": \"p:1\", \"kafka.acks\": \"all\","
                                                  " \"max_in_flight\": 0, \"topics.raw\": \"r\"}");
    ck_assert_int_eq(nl_config_load_file(&cfg, path, errbuf, sizeof(errbuf)), NL_EINVAL);
    ck_assert_errbuf_has("max_in_flight");
    ck_assert_int_eq(cfg.max_in_flight, 1000);
    ck_assert_ptr_nonnull(cfg.brokers);
    ck_assert_ptr_nonnull(cfg.topic_raw);
    ck_assert_int_eq(nl_config_set(&cfg, "brokers", "ok:1", errbuf, sizeof(errbuf)), 0);
}
END_TEST

/* ---- environment and precedence ------------------------------------------------ */

START_TEST(test_env)
{
    ck_assert_int_eq(setenv("NEWSLINE_BROKERS", "env:9092", 1), 0);
    ck_assert_int_eq(setenv("NEWSLINE_SINK_CORPUS_DIR", "/env/corpus", 1), 0);
    ck_assert_int_eq(setenv("NEWSLINE_MAX_IN_FLIGHT", "9", 1), 0);
    ck_assert_int_eq(setenv("NEWSLINE_TOPICS_RAW", "env.raw", 1), 0);
    ck_assert_int_eq(setenv("NEWSLINE_FETCHER_USER_AGENT", "env-agent", 1), 0);
    ck_assert_int_eq(setenv("NEWSLINE_LOG_LEVEL", "warn", 1), 0);
    /* not keys: ignored */
    ck_assert_int_eq(setenv("NEWSLINE_NO_SUCH_KEY", "1", 1), 0);
    ck_assert_int_eq(setenv("NEWSLINE_CONFIG", "/nonexistent.json", 1), 0);
    ck_assert_msg(nl_config_load_env(&cfg, errbuf, sizeof(errbuf)) == 0, "%s", errbuf);
    ck_assert_str_eq(cfg.brokers, "env:9092");
    ck_assert_str_eq(cfg.sink_corpus_dir, "/env/corpus");
    ck_assert_int_eq(cfg.max_in_flight, 9);
    ck_assert_str_eq(cfg.topic_raw, "env.raw");
    ck_assert_str_eq(cfg.fetcher_user_agent, "env-agent");
    ck_assert_str_eq(cfg.log_level, "warn");
    ck_assert_str_eq(cfg.topic_parsed, "newsline.parsed");
    ck_assert_int_eq(unsetenv("NEWSLINE_BROKERS"), 0);
    ck_assert_int_eq(unsetenv("NEWSLINE_SINK_CORPUS_DIR"), 0);
    ck_assert_int_eq(unsetenv("NEWSLINE_MAX_IN_FLIGHT"), 0);
    ck_assert_int_eq(unsetenv("NEWSLINE_TOPICS_RAW"), 0);
    ck_assert_int_eq(unsetenv("NEWSLINE_FETCHER_USER_AGENT"), 0);
    ck_assert_int_eq(unsetenv("NEWSLINE_LOG_LEVEL"), 0);
    ck_assert_int_eq(unsetenv("NEWSLINE_NO_SUCH_KEY"), 0);
    ck_assert_int_eq(unsetenv("NEWSLINE_CONFIG"), 0);
}
END_TEST

START_TEST(test_env_errors)
{
    static const struct {
        const char *var, *value, *key;
    } cases[] = {
        {"NEWSLINE_MAX_IN_FLIGHT", "abc", "max_in_flight"},
        {"NEWSLINE_MAX_IN_FLIGHT", "0", "max_in_flight"},
        {"NEWSLINE_LOG_LEVEL", "verbose", "log_level"},
        {"NEWSLINE_BROKERS", "", "brokers"},
        {"NEWSLINE_FETCHER_MAX_REDIRECTS", "51", "fetcher.max_redirects"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ck_assert_int_eq(setenv(cases[i].var, cases[i].value, 1), 0);
        errbuf[0] = '\0';
        ck_assert_int_eq(nl_config_load_env(&cfg, errbuf, sizeof(errbuf)), NL_EINVAL);
        /* the reason names the key and the variable it came from */
        ck_assert_errbuf_has(cases[i].key);
        ck_assert_errbuf_has(cases[i].var);
        ck_assert_int_eq(unsetenv(cases[i].var), 0);
    }
    ck_assert_int_eq(cfg.max_in_flight, 1000);
    ck_assert_str_eq(cfg.brokers, "127.0.0.1:9092");
}
END_TEST

START_TEST(test_precedence)
{
    const char *path = write_file("prec.json", "{\"brokers\": \"file:1\","
                                               " \"sink\": {\"corpus_dir\": \"/file\"},"
                                               " \"max_in_flight\": 5,"
                                               " \"topics.raw\": \"file.raw\"}");

    /* defaults */
    ck_assert_str_eq(cfg.brokers, "127.0.0.1:9092");
    /* < file */
    ck_assert_int_eq(nl_config_load_file(&cfg, path, errbuf, sizeof(errbuf)), 0);
    ck_assert_str_eq(cfg.brokers, "file:1");
    ck_assert_str_eq(cfg.sink_corpus_dir, "/file");
    ck_assert_int_eq(cfg.max_in_flight, 5);
    /* < environment */
    ck_assert_int_eq(setenv("NEWSLINE_BROKERS", "env:2", 1), 0);
    ck_assert_int_eq(setenv("NEWSLINE_SINK_CORPUS_DIR", "/env", 1), 0);
    ck_assert_int_eq(nl_config_load_env(&cfg, errbuf, sizeof(errbuf)), 0);
    ck_assert_str_eq(cfg.brokers, "env:2");
    ck_assert_str_eq(cfg.sink_corpus_dir, "/env");
    ck_assert_int_eq(cfg.max_in_flight, 5);          /* file, not in env */
    ck_assert_str_eq(cfg.topic_raw, "file.raw");     /* file, not in env */
    ck_assert_str_eq(cfg.topic_dlq, "newsline.dlq"); /* default */
    /* < nl_config_set */
    ck_assert_int_eq(nl_config_set(&cfg, "brokers", "set:3", errbuf, sizeof(errbuf)), 0);
    ck_assert_str_eq(cfg.brokers, "set:3");
    ck_assert_str_eq(cfg.sink_corpus_dir, "/env");
    ck_assert_int_eq(unsetenv("NEWSLINE_BROKERS"), 0);
    ck_assert_int_eq(unsetenv("NEWSLINE_SINK_CORPUS_DIR"), 0);
}
END_TEST

/* ---- librdkafka check ----------------------------------------------------------- */

START_TEST(test_check_kafka)
{
    ck_assert_int_eq(nl_config_check_kafka(&cfg, errbuf, sizeof(errbuf)), 0);
    ck_assert_int_eq(nl_config_set(&cfg, "kafka.acks", "all", NULL, 0), 0);
    ck_assert_int_eq(nl_config_set(&cfg, "kafka.linger.ms", "5", NULL, 0), 0);
    ck_assert_int_eq(nl_config_set(&cfg, "kafka.enable.idempotence", "true", NULL, 0), 0);
    ck_assert_int_eq(nl_config_set(&cfg, "kafka.client.rack", "r1", NULL, 0), 0);
    ck_assert_msg(nl_config_check_kafka(&cfg, errbuf, sizeof(errbuf)) == 0, "%s", errbuf);

    ck_assert_int_eq(nl_config_set(&cfg, "kafka.acks", "maybe", NULL, 0), 0);
    errbuf[0] = '\0';
    ck_assert_int_eq(nl_config_check_kafka(&cfg, errbuf, sizeof(errbuf)), NL_EINVAL);
    ck_assert_msg(strncmp(errbuf, "kafka.acks:", 11) == 0, "errbuf \"%s\"", errbuf);
    ck_assert_int_eq(nl_config_set(&cfg, "kafka.acks", "all", NULL, 0), 0);

    ck_assert_int_eq(nl_config_set(&cfg, "kafka.no.such.property", "1", NULL, 0), 0);
    errbuf[0] = '\0';
    ck_assert_int_eq(nl_config_check_kafka(&cfg, errbuf, sizeof(errbuf)), NL_EINVAL);
    ck_assert_msg(strncmp(errbuf, "kafka.no.such.property:", 23) == 0, "errbuf \"%s\"", errbuf);
    ck_assert_int_eq(nl_config_check_kafka(&cfg, NULL, 0), NL_EINVAL);
}
END_TEST

START_TEST(test_check_kafka_first_bad_named)
{
    ck_assert_int_eq(nl_config_set(&cfg, "kafka.linger.ms", "soon", NULL, 0), 0);
    ck_assert_int_eq(nl_config_set(&cfg, "kafka.acks", "maybe", NULL, 0), 0);
    ck_assert_int_eq(nl_config_check_kafka(&cfg, errbuf, sizeof(errbuf)), NL_EINVAL);
    ck_assert_msg(strncmp(errbuf, "kafka.linger.ms:", 16) == 0, "errbuf \"%s\"", errbuf);
}
END_TEST

START_TEST(test_check_kafka_from_file)
{
    const char *path = write_file("kbad.json", "{\"kafka\": {\"acks\": \"maybe\"}}");
    /* loading passes the value through; the check catches it */
    ck_assert_int_eq(nl_config_load_file(&cfg, path, errbuf, sizeof(errbuf)), 0);
    ck_assert_int_eq(nl_config_check_kafka(&cfg, errbuf, sizeof(errbuf)), NL_EINVAL);
    ck_assert_errbuf_has("kafka.acks");
}
END_TEST

/* ---- printing --------------------------------------------------------------------- */

START_TEST(test_print)
{
    char *out;
    json_t *root;
    json_error_t jerr;

    ck_assert_int_eq(nl_config_set(&cfg, "kafka.acks", "all", NULL, 0), 0);
    ck_assert_int_eq(nl_config_set(&cfg, "topics.raw", "p.raw", NULL, 0), 0);
    out = print_config(&cfg);
    root = json_loads(out, 0, &jerr);
    ck_assert_msg(root != NULL, "not JSON: %s: %s", jerr.text, out);
    ck_assert_str_eq(json_string_value(json_object_get(root, "brokers")), "127.0.0.1:9092");
    ck_assert_str_eq(json_string_value(json_object_get(root, "topics.raw")), "p.raw");
    ck_assert_int_eq(json_integer_value(json_object_get(root, "max_in_flight")), 1000);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(root, "kafka"), "acks")),
                     "all");
    json_decref(root);
    free(out);
}
END_TEST

START_TEST(test_print_keys)
{
    static const char *const keys[] = {
        "brokers",
        "group_prefix",
        "log_level",
        "topics.fetch",
        "topics.raw",
        "topics.parsed",
        "topics.tagged",
        "topics.dlq",
        "max_record_bytes",
        "max_in_flight",
        "connect_timeout_ms",
        "drain_timeout_ms",
        "message_timeout_ms",
        "fetcher.user_agent",
        "fetcher.timeout_ms",
        "fetcher.max_redirects",
        "tagger.watchlist",
        "sink.corpus_dir",
        "kafka.<property>",
    };
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    ck_assert_ptr_nonnull(f);
    nl_config_print_keys(f);
    ck_assert_int_eq(fclose(f), 0);
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        ck_assert_msg(strstr(buf, keys[i]) != NULL, "key %s not listed", keys[i]);
    }
    free(buf);
}
END_TEST

/* ---- nl_daemon_init ----------------------------------------------------------------- */

static nl_config dcfg;
static int dcfg_live;
static char *daemon_out;
static char *daemon_err;

static void daemon_setup(void)
{
    clear_newsline_env();
    tmp_setup();
    dcfg_live = 0;
    daemon_out = NULL;
    daemon_err = NULL;
    nl_stop = 0;
}

static void daemon_teardown(void)
{
    if (dcfg_live) {
        nl_config_free(&dcfg);
        dcfg_live = 0;
    }
    free(daemon_out);
    free(daemon_err);
    daemon_out = NULL;
    daemon_err = NULL;
    clear_newsline_env();
    tmp_teardown();
    nl_log_level = NL_LOG_INFO;
    nl_stop = 0;
}

struct redirect {
    FILE *stream;
    int saved;
    const char *path;
};

static void redirect_start(struct redirect *r, FILE *stream, const char *path)
{
    int fd;

    r->stream = stream;
    r->path = path;
    fflush(stream);
    r->saved = dup(fileno(stream));
    ck_assert_int_ge(r->saved, 0);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_ge(dup2(fd, fileno(stream)), 0);
    close(fd);
}

static char *redirect_stop(struct redirect *r)
{
    fflush(r->stream);
    ck_assert_int_ge(dup2(r->saved, fileno(r->stream)), 0);
    close(r->saved);
    return read_file(r->path);
}

/* Runs nl_daemon_init on {"newsline-test", args..., NULL}. The output it
 * printed is left in daemon_out and daemon_err. */
static int run_init(const char *const *args, int nargs, int *stdin_mode, int *argi)
{
    char *argv[32];
    char *owned[32];
    struct redirect out;
    struct redirect err;
    int argc = nargs + 1;
    int rc;

    ck_assert_int_lt(argc, 32);
    argv[0] = owned[0] = strdup("newsline-test");
    for (int i = 0; i < nargs; i++) {
        /* writable copies: --set edits its argument in place (and restores it) */
        argv[i + 1] = owned[i + 1] = strdup(args[i]);
        ck_assert_ptr_nonnull(argv[i + 1]);
    }
    argv[argc] = NULL;
    free(daemon_out);
    free(daemon_err);
    /* Leave optind where the previous call left it: nl_daemon_init must
     * reset getopt itself, or a second call in one process (CK_FORK=no, or
     * a CLI that re-parses) would skip flags. */
    redirect_start(&out, stdout, tmp_path("stdout.txt", 0));
    redirect_start(&err, stderr, tmp_path("stderr.txt", 0));
    rc = nl_daemon_init(argc, argv, "newsline-test", "unit test of the daemon start-up", &dcfg,
                        stdin_mode, argi);
    daemon_err = redirect_stop(&err);
    daemon_out = redirect_stop(&out);
    tmp_n -= 2; /* the two capture files are reused, not listed twice */
    unlink(tmp_files[tmp_n]);
    unlink(tmp_files[tmp_n + 1]);
    if (rc != NL_EXIT_SOFTWARE) {
        dcfg_live = 1;
    }
    /* argv strings are unchanged (getopt may have permuted the array) */
    for (int i = 0; i < nargs; i++) {
        ck_assert_str_eq(owned[i + 1], args[i]);
    }
    for (int i = 0; i < argc; i++) {
        free(owned[i]);
    }
    return rc;
}

#define RUN_INIT(mode, ...)                                                                        \
    run_init((const char *const[]){__VA_ARGS__},                                                   \
             (int)(sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)), (mode),     \
             NULL)

static void assert_usage_error(int rc, const char *needle)
{
    ck_assert_msg(rc == NL_EXIT_USAGE, "rc %d, stderr \"%s\"", rc, daemon_err);
    ck_assert_msg(strstr(daemon_err, needle) != NULL, "stderr \"%s\" lacks \"%s\"", daemon_err,
                  needle);
}

START_TEST(test_daemon_defaults)
{
    int stdin_mode = -1;
    ck_assert_int_eq(run_init(NULL, 0, &stdin_mode, NULL), 0);
    ck_assert_int_eq(stdin_mode, 0);
    ck_assert_str_eq(dcfg.brokers, "127.0.0.1:9092");
    ck_assert_int_eq(nl_log_level, NL_LOG_INFO);
    ck_assert_str_eq(daemon_err, "");
}
END_TEST

START_TEST(test_daemon_set_overrides_env)
{
    int stdin_mode = -1;
    ck_assert_int_eq(setenv("NEWSLINE_BROKERS", "env:1", 1), 0);
    ck_assert_int_eq(setenv("NEWSLINE_SINK_CORPUS_DIR", "/env", 1), 0);
    ck_assert_int_eq(RUN_INIT(&stdin_mode, "--set", "brokers=flag:2", "--stdin"), 0);
    ck_assert_str_eq(dcfg.brokers, "flag:2");
    ck_assert_str_eq(dcfg.sink_corpus_dir, "/env");
    ck_assert_int_eq(stdin_mode, 1);
    ck_assert_int_eq(unsetenv("NEWSLINE_BROKERS"), 0);
    ck_assert_int_eq(unsetenv("NEWSLINE_SINK_CORPUS_DIR"), 0);
}
END_TEST

START_TEST(test_daemon_full_precedence)
{
    int stdin_mode = -1;
    const char *path = write_file("d.json", "{\"brokers\": \"file:1\", \"max_in_flight\": 5,"
                                            " \"sink\": {\"corpus_dir\": \"/file\"},"
                                            " \"topics\": {\"raw\": \"file.raw\"},"
                                            " \"kafka\": {\"linger.ms\": 3}}");
    char setarg[64];

    ck_assert_int_eq(setenv("NEWSLINE_BROKERS", "env:2", 1), 0);
    ck_assert_int_eq(setenv("NEWSLINE_SINK_CORPUS_DIR", "/env", 1), 0);
    ck_assert_int_eq(setenv("NEWSLINE_MAX_IN_FLIGHT", "6", 1), 0);
    snprintf(setarg, sizeof(setarg), "max_in_flight=%d", 7);
    /* the flags' order on the command line does not matter: --config is read
     * first, --set last; of two flags for one key the last wins */
    ck_assert_int_eq(RUN_INIT(&stdin_mode, "--set", setarg, "--brokers", "flag:3", "--config", path,
                              "--set", "kafka.linger.ms=4", "--log-level", "debug"),
                     0);
    ck_assert_str_eq(dcfg.brokers, "flag:3");
    ck_assert_int_eq(dcfg.max_in_flight, 7);
    ck_assert_str_eq(dcfg.sink_corpus_dir, "/env");
    ck_assert_str_eq(dcfg.topic_raw, "file.raw");
    ck_assert_uint_eq(dcfg.kafka_n, 1);
    assert_kafka(&dcfg, 0, "linger.ms", "4");
    ck_assert_str_eq(dcfg.log_level, "debug");
    ck_assert_int_eq(nl_log_level, NL_LOG_DEBUG);
    ck_assert_int_eq(stdin_mode, 0);
    ck_assert_int_eq(unsetenv("NEWSLINE_BROKERS"), 0);
    ck_assert_int_eq(unsetenv("NEWSLINE_SINK_CORPUS_DIR"), 0);
    ck_assert_int_eq(unsetenv("NEWSLINE_MAX_IN_FLIGHT"), 0);
}
END_TEST

START_TEST(test_daemon_last_flag_wins)
{
    int stdin_mode;
    ck_assert_int_eq(RUN_INIT(&stdin_mode, "--brokers", "a:1", "--set", "brokers=b:2"), 0);
    ck_assert_str_eq(dcfg.brokers, "b:2");
    nl_config_free(&dcfg);
    dcfg_live = 0;
    ck_assert_int_eq(RUN_INIT(&stdin_mode, "--set", "brokers=b:2", "--brokers=a:1"), 0);
    ck_assert_str_eq(dcfg.brokers, "a:1");
}
END_TEST

START_TEST(test_daemon_config_from_env)
{
    int stdin_mode;
    const char *envfile = write_file("env.json", "{\"topics\": {\"dlq\": \"from.env.file\"}}");
    const char *argfile = write_file("arg.json", "{\"topics\": {\"dlq\": \"from.arg.file\"}}");

    ck_assert_int_eq(setenv("NEWSLINE_CONFIG", envfile, 1), 0);
    ck_assert_int_eq(RUN_INIT(&stdin_mode, "--stdin"), 0);
    ck_assert_str_eq(dcfg.topic_dlq, "from.env.file");
    nl_config_free(&dcfg);
    dcfg_live = 0;
    /* --config wins over NEWSLINE_CONFIG */
    ck_assert_int_eq(RUN_INIT(&stdin_mode, "--config", argfile), 0);
    ck_assert_str_eq(dcfg.topic_dlq, "from.arg.file");
    nl_config_free(&dcfg);
    dcfg_live = 0;
    /* an empty NEWSLINE_CONFIG means no file */
    ck_assert_int_eq(setenv("NEWSLINE_CONFIG", "", 1), 0);
    ck_assert_int_eq(RUN_INIT(&stdin_mode, "--stdin"), 0);
    ck_assert_str_eq(dcfg.topic_dlq, "newsline.dlq");
    ck_assert_int_eq(unsetenv("NEWSLINE_CONFIG"), 0);
}
END_TEST

START_TEST(test_daemon_signals)
{
    int stdin_mode;
    ck_assert_int_eq(RUN_INIT(&stdin_mode, "--log-level", "error"), 0);
    ck_assert_int_eq(nl_log_level, NL_LOG_ERROR);
    ck_assert_int_eq(nl_stop, 0);
    ck_assert_int_eq(raise(SIGTERM), 0);
    ck_assert_int_eq(nl_stop, 1);
    nl_stop = 0;
    ck_assert_int_eq(raise(SIGINT), 0);
    ck_assert_int_eq(nl_stop, 1);
    nl_stop = 0;
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
}
END_TEST

START_TEST(test_daemon_unknown_flag)
{
    int stdin_mode;
    assert_usage_error(RUN_INIT(&stdin_mode, "--nope"), "--nope");
    nl_config_free(&dcfg);
    dcfg_live = 0;
    assert_usage_error(RUN_INIT(&stdin_mode, "--stdin", "-x"), "-x");
    nl_config_free(&dcfg);
    dcfg_live = 0;
    /* a flag missing its argument */
    assert_usage_error(RUN_INIT(&stdin_mode, "--config"), "--config");
    nl_config_free(&dcfg);
    dcfg_live = 0;
    /* a stray argument */
    assert_usage_error(RUN_INIT(&stdin_mode, "--stdin", "extra"), "extra");
}
END_TEST

START_TEST(test_daemon_config_missing)
{
    int stdin_mode;
    const char *path = tmp_path("missing.json", 0);
    assert_usage_error(RUN_INIT(&stdin_mode, "--config", path), path);
    nl_config_free(&dcfg);
    dcfg_live = 0;
    ck_assert_int_eq(setenv("NEWSLINE_CONFIG", path, 1), 0);
    assert_usage_error(RUN_INIT(&stdin_mode, "--stdin"), path);
    ck_assert_int_eq(unsetenv("NEWSLINE_CONFIG"), 0);
}
END_TEST

START_TEST(test_daemon_config_invalid)
{
    int stdin_mode;
    const char *path = write_file("bad.json", "{\"max_in_flight\": 0}");
    assert_usage_error(RUN_INIT(&stdin_mode, "--config", path), "max_in_flight");
}
END_TEST

START_TEST(test_daemon_bad_set)
{
    static const struct {
        const char *arg;
        const char *needle;
    } cases[] = {
        {"brokers", "brokers"},               /* no '=' */
        {"nope=1", "nope"},                   /* unknown key */
        {"max_in_flight=0", "max_in_flight"}, /* out of range */
        {"max_in_flight=x", "max_in_flight"}, /* not an integer */
        {"brokers=", "brokers"},              /* empty */
        {"log_level=loud", "log_level"},      /* bad level */
        {"kafka.acks=maybe", "kafka.acks"},   /* caught by librdkafka */
        {"kafka.no.such.property=1", "kafka.no.such.property"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int stdin_mode;
        assert_usage_error(RUN_INIT(&stdin_mode, "--set", cases[i].arg), cases[i].needle);
        nl_config_free(&dcfg);
        dcfg_live = 0;
    }
    {
        int stdin_mode;
        assert_usage_error(RUN_INIT(&stdin_mode, "--log-level", "loud"), "log_level");
        nl_config_free(&dcfg);
        dcfg_live = 0;
        assert_usage_error(RUN_INIT(&stdin_mode, "--brokers", ""), "brokers");
    }
}
END_TEST

START_TEST(test_daemon_bad_env)
{
    int stdin_mode;
    ck_assert_int_eq(setenv("NEWSLINE_MAX_IN_FLIGHT", "lots", 1), 0);
    assert_usage_error(RUN_INIT(&stdin_mode, "--stdin"), "NEWSLINE_MAX_IN_FLIGHT");
    ck_assert_int_eq(unsetenv("NEWSLINE_MAX_IN_FLIGHT"), 0);
}
END_TEST

START_TEST(test_daemon_subcommand)
{
    /* With argi, parsing stops at the first positional argument. */
    static const char *const with_sub[] = {"--brokers", "s:1", "replay", "--stdin", "x"};
    static const char *const no_sub[] = {"--stdin", "--brokers", "s:2"};
    int stdin_mode = -1;
    int argi = -1;

    ck_assert_int_eq(run_init(with_sub, 5, &stdin_mode, &argi), 0);
    ck_assert_int_eq(argi, 3);
    ck_assert_str_eq(dcfg.brokers, "s:1");
    ck_assert_int_eq(stdin_mode, 0); /* the subcommand's own --stdin is not ours */
    nl_config_free(&dcfg);
    dcfg_live = 0;
    argi = -1;
    ck_assert_int_eq(run_init(no_sub, 3, &stdin_mode, &argi), 0);
    ck_assert_int_eq(argi, 4);
    ck_assert_int_eq(stdin_mode, 1);
    ck_assert_str_eq(dcfg.brokers, "s:2");
    nl_config_free(&dcfg);
    dcfg_live = 0;
    /* without argi a positional argument is an error, wherever it is */
    assert_usage_error(run_init(with_sub, 5, &stdin_mode, NULL), "replay");
}
END_TEST

START_TEST(test_daemon_help_version)
{
    int stdin_mode;
    ck_assert_int_eq(RUN_INIT(&stdin_mode, "--help"), -1);
    ck_assert_ptr_nonnull(strstr(daemon_out, "Usage: newsline-test"));
    ck_assert_ptr_nonnull(strstr(daemon_out, "sink.corpus_dir"));
    nl_config_free(&dcfg);
    dcfg_live = 0;
    ck_assert_int_eq(RUN_INIT(&stdin_mode, "--version"), -1);
    ck_assert_str_eq(daemon_out, "newsline-test " NL_VERSION "\n");
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc;

    tc = tcase_create("config");
    tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
    tcase_add_checked_fixture(tc, config_setup, config_teardown);
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_kafka_client_scopes);
    tcase_add_test(tc, test_free_twice_and_reinit);
    tcase_add_test(tc, test_set_values);
    tcase_add_test(tc, test_set_integer_bounds);
    tcase_add_test(tc, test_set_not_integer);
    tcase_add_test(tc, test_set_errors);
    tcase_add_test(tc, test_kafka_passthrough_set);
    tcase_add_test(tc, test_file_nested);
    tcase_add_test(tc, test_file_flat_dotted);
    tcase_add_test(tc, test_file_nested_equals_flat);
    tcase_add_test(tc, test_file_empty_object);
    tcase_add_test(tc, test_file_kafka_order_and_override);
    tcase_add_test(tc, test_file_bad_values);
    tcase_add_test(tc, test_file_malformed);
    tcase_add_test(tc, test_file_not_object);
    tcase_add_test(tc, test_file_key_too_long);
    tcase_add_test(tc, test_file_missing);
    tcase_add_test(tc, test_file_is_directory);
    tcase_add_test(tc, test_file_error_keeps_config_valid);
    tcase_add_test(tc, test_env);
    tcase_add_test(tc, test_env_errors);
    tcase_add_test(tc, test_precedence);
    tcase_add_test(tc, test_check_kafka);
    tcase_add_test(tc, test_check_kafka_first_bad_named);
    tcase_add_test(tc, test_check_kafka_from_file);
    tcase_add_test(tc, test_print);
    tcase_add_test(tc, test_print_keys);
    suite_add_tcase(s, tc);

    tc = tcase_create("daemon_init");
    tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
    tcase_add_checked_fixture(tc, daemon_setup, daemon_teardown);
    tcase_add_test(tc, test_daemon_defaults);
    tcase_add_test(tc, test_daemon_set_overrides_env);
    tcase_add_test(tc, test_daemon_full_precedence);
    tcase_add_test(tc, test_daemon_last_flag_wins);
    tcase_add_test(tc, test_daemon_config_from_env);
    tcase_add_test(tc, test_daemon_signals);
    tcase_add_test(tc, test_daemon_unknown_flag);
    tcase_add_test(tc, test_daemon_config_missing);
    tcase_add_test(tc, test_daemon_config_invalid);
    tcase_add_test(tc, test_daemon_bad_set);
    tcase_add_test(tc, test_daemon_bad_env);
    tcase_add_test(tc, test_daemon_subcommand);
    tcase_add_test(tc, test_daemon_help_version);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(config_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
