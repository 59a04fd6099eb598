/* Unit tests for fetcher/sources.h: a full sources file, defaults and their
 * inheritance, every validation error naming its entry and field, allow
 * and deny patterns, loading from a file, and the adaptive poll interval. */
#include "nl_err.h"
#include "sources.h"
#include "testutil.h"

#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char errbuf[512];
static fx_sources *srcs;

static void teardown(void)
{
    fx_sources_free(srcs);
    srcs = NULL;
}

static int parse(const char *json)
{
    fx_sources_free(srcs);
    srcs = NULL;
    errbuf[0] = '\0';
    return fx_sources_parse(json, strlen(json), "test.json", &srcs, errbuf, sizeof(errbuf));
}

static const char full[] =
    "{\"_comment\": \"what newsline polls\",\n"
    " \"defaults\": {\"user_agent\": \"newsline-test/1\", \"delay_ms\": 2000,\n"
    "              \"poll_interval_s\": 600, \"min_poll_interval_s\": 120,\n"
    "              \"max_poll_interval_s\": 7200},\n"
    " \"sources\": [\n"
    "  {\"name\": \"example-rss\", \"kind\": \"rss\",\n"
    "   \"url\": \"HTTPS://News.Example.com/feed.xml?utm_source=x\"},\n"
    "  {\"name\": \"blog\", \"kind\": \"atom\", \"url\": \"https://blog.example.org/atom\",\n"
    "   \"poll_interval_s\": 3600, \"user_agent\": \"special/2\", \"delay_ms\": 0,\n"
    "   \"allow\": [\"^https://blog\\\\.example\\\\.org/posts/\"],\n"
    "   \"deny\": [\"/tag/\", \"\\\\.pdf$\"]},\n"
    "  {\"name\": \"news-sitemap\", \"kind\": \"sitemap\",\n"
    "   \"url\": \"https://news.example.com/sitemap-news.xml\", \"min_poll_interval_s\": 60,\n"
    "   \"max_poll_interval_s\": 300},\n"
    "  {\"name\": \"list\", \"kind\": \"urls\",\n"
    "   \"urls\": [\"https://a.example.com/1\", \"http://b.example.com:80/2#x\"]},\n"
    "  {\"name\": \"site\", \"kind\": \"robots\", \"url\": \"https://www.example.net/some/page\"}\n"
    " ]}\n";

START_TEST(test_full_file)
{
    const fx_source *s;

    ck_assert_msg(parse(full) == 0, "%s", errbuf);
    ck_assert_uint_eq(srcs->n, 5);

    s = &srcs->sources[0];
    ck_assert_str_eq(s->name, "example-rss");
    ck_assert_int_eq(s->kind, FX_SRC_RSS);
    ck_assert_str_eq(fx_source_kind_name(s->kind), "rss");
    ck_assert_uint_eq(s->n_urls, 1);
    ck_assert_str_eq(s->urls[0], "https://news.example.com/feed.xml");
    ck_assert_int_eq(s->poll_interval_s, 600);
    ck_assert_int_eq(s->min_interval_s, 120);
    ck_assert_int_eq(s->max_interval_s, 7200);
    ck_assert_str_eq(s->user_agent, "newsline-test/1");
    ck_assert_int_eq(s->delay_ms, 2000);
    ck_assert_uint_eq(s->n_allow, 0);
    ck_assert_uint_eq(s->n_deny, 0);

    s = &srcs->sources[1];
    ck_assert_int_eq(s->kind, FX_SRC_ATOM);
    ck_assert_int_eq(s->poll_interval_s, 3600);
    ck_assert_str_eq(s->user_agent, "special/2");
    ck_assert_int_eq(s->delay_ms, 0);
    ck_assert_uint_eq(s->n_allow, 1);
    ck_assert_uint_eq(s->n_deny, 2);

    s = &srcs->sources[2];
    ck_assert_int_eq(s->kind, FX_SRC_SITEMAP);
    ck_assert_int_eq(s->min_interval_s, 60);
    ck_assert_int_eq(s->max_interval_s, 300);
    ck_assert_int_eq(s->poll_interval_s, 300); /* the default 600, clamped into its bounds */

    s = &srcs->sources[3];
    ck_assert_int_eq(s->kind, FX_SRC_URLS);
    ck_assert_uint_eq(s->n_urls, 2);
    ck_assert_str_eq(s->urls[0], "https://a.example.com/1");
    ck_assert_str_eq(s->urls[1], "http://b.example.com/2");

    s = &srcs->sources[4];
    ck_assert_int_eq(s->kind, FX_SRC_ROBOTS);
    ck_assert_str_eq(fx_source_kind_name(s->kind), "robots");
    ck_assert_str_eq(s->urls[0], "https://www.example.net/robots.txt");
}
END_TEST

START_TEST(test_builtin_defaults)
{
    ck_assert_msg(parse("{\"sources\": [{\"name\": \"a\", \"kind\": \"rss\", "
                        "\"url\": \"http://example.com/rss\"}]}") == 0,
                  "%s", errbuf);
    ck_assert_int_eq(srcs->sources[0].poll_interval_s, FX_POLL_DEFAULT_S);
    ck_assert_int_eq(srcs->sources[0].min_interval_s, FX_POLL_MIN_DEFAULT_S);
    ck_assert_int_eq(srcs->sources[0].max_interval_s, FX_POLL_MAX_DEFAULT_S);
    ck_assert_int_eq(srcs->sources[0].delay_ms, FX_DELAY_DEFAULT_MS);
    ck_assert_ptr_null(srcs->sources[0].user_agent);
}
END_TEST

START_TEST(test_allow_deny)
{
    const fx_source *s;

    ck_assert_msg(parse(full) == 0, "%s", errbuf);
    s = &srcs->sources[1];
    ck_assert(fx_source_url_allowed(s, "https://blog.example.org/posts/one"));
    ck_assert(!fx_source_url_allowed(s, "https://blog.example.org/about"));
    ck_assert(!fx_source_url_allowed(s, "https://blog.example.org/posts/tag/x"));
    ck_assert(!fx_source_url_allowed(s, "https://blog.example.org/posts/paper.pdf"));
    ck_assert(fx_source_url_allowed(s, "https://blog.example.org/posts/paper.pdf?v=2"));
    ck_assert(!fx_source_url_allowed(s, "https://evil.example/https://blog.example.org/posts/"));
    s = &srcs->sources[0];
    ck_assert(fx_source_url_allowed(s, "https://anything.example/"));
}
END_TEST

struct error_case {
    const char *json;
    const char *want; /* a substring of the message */
};

#define SRC(fields) "{\"sources\": [{\"name\": \"s\", " fields "}]}"
#define RSS(fields) SRC("\"kind\": \"rss\", \"url\": \"http://example.com/\", " fields)

static const struct error_case error_cases[] = {
    {"", "sources test.json: line 1: "},
    {"{\"sources\": [}", "sources test.json: line 1: "},
    {"[]", "(top level): must be an object"},
    {"{}", "(top level).sources: must be a non-empty array"},
    {"{\"sources\": []}", "(top level).sources: must be a non-empty array"},
    {"{\"sources\": {}}", "(top level).sources: must be a non-empty array"},
    {"{\"sources\": [1], \"extra\": 1}", "(top level).extra: unknown field"},
    {"{\"sources\": [1], \"sources\": [2]}", "duplicate"},
    {"{\"sources\": [1]}", "sources[0]: must be an object"},
    {"{\"sources\": [{}]}", "sources[0].name: must be a string"},
    {"{\"sources\": [{\"name\": \"\"}]}", "sources[0].name: must be a string"},
    {"{\"sources\": [{\"name\": 5}]}", "sources[0].name: must be a string"},
    {SRC("\"kind\": \"rss\", \"url\": \"http://a.com/\"},{\"name\": \"s\""),
     "sources[1].name: \"s\" is already used by sources[0]"},
    {SRC("\"kind\": \"podcast\", \"url\": \"http://a.com/\""),
     "sources[0] (s).kind: must be rss, atom, sitemap, urls or robots"},
    {SRC("\"url\": \"http://a.com/\""), "sources[0] (s).kind: must be"},
    {SRC("\"kind\": \"rss\""), "sources[0] (s).url: must be a URL"},
    {SRC("\"kind\": \"rss\", \"url\": 5"), "sources[0] (s).url: must be a URL"},
    {SRC("\"kind\": \"rss\", \"url\": \"ftp://a.com/\""),
     "sources[0] (s).url: scheme \"ftp\" is not http or https"},
    {SRC("\"kind\": \"atom\", \"url\": \"javascript:alert(1)\""), "sources[0] (s).url: "},
    {SRC("\"kind\": \"rss\", \"urls\": [\"http://a.com/\"]"),
     "sources[0] (s).urls: only kind urls takes a list"},
    {SRC("\"kind\": \"urls\", \"url\": \"http://a.com/\""),
     "sources[0] (s).url: kind urls takes \"urls\""},
    {SRC("\"kind\": \"urls\""), "sources[0] (s).urls: must be an array of 1 to"},
    {SRC("\"kind\": \"urls\", \"urls\": []"), "sources[0] (s).urls: must be an array of 1 to"},
    {SRC("\"kind\": \"urls\", \"urls\": [\"http://a.com/\", 3]"),
     "sources[0] (s).urls[1]: must be a URL"},
    {SRC("\"kind\": \"urls\", \"urls\": [\"http://a.com/\", \"file:///etc/passwd\"]"),
     "sources[0] (s).urls[1]: scheme \"file\""},
    {RSS("\"colour\": 1"), "sources[0] (s).colour: unknown field"},
    {RSS("\"poll_interval_s\": 1"), "sources[0] (s).poll_interval_s: must be an integer from 10"},
    {RSS("\"poll_interval_s\": \"60\""), "sources[0] (s).poll_interval_s: must be an integer"},
    {RSS("\"poll_interval_s\": 60.5"), "sources[0] (s).poll_interval_s: must be an integer"},
    {RSS("\"poll_interval_s\": 99999999"), "sources[0] (s).poll_interval_s: must be an integer"},
    {RSS("\"poll_interval_s\": 30"),
     "sources[0] (s).poll_interval_s: must be within min_poll_interval_s"},
    {RSS("\"min_poll_interval_s\": 600, \"max_poll_interval_s\": 300"),
     "sources[0] (s).min_poll_interval_s: is over max_poll_interval_s (300)"},
    {RSS("\"delay_ms\": -1"), "sources[0] (s).delay_ms: must be an integer from 0 to 600000"},
    {RSS("\"delay_ms\": true"), "sources[0] (s).delay_ms: must be an integer"},
    {RSS("\"user_agent\": \"\""), "sources[0] (s).user_agent: must be a string of 1 to 256"},
    {RSS("\"user_agent\": \"a\\nb\""), "sources[0] (s).user_agent: must be printable ASCII"},
    {RSS("\"user_agent\": \"caf\\u00e9\""), "sources[0] (s).user_agent: must be printable ASCII"},
    {RSS("\"allow\": \"x\""), "sources[0] (s).allow: must be an array of regular expressions"},
    {RSS("\"allow\": [\"ok\", \"(\"]"), "sources[0] (s).allow[1]: bad regex: "},
    {RSS("\"deny\": [\"[z-a]\"]"), "sources[0] (s).deny[0]: bad regex: "},
    {RSS("\"deny\": [\"\"]"), "sources[0] (s).deny[0]: must be a regular expression"},
    {RSS("\"deny\": [7]"), "sources[0] (s).deny[0]: must be a regular expression"},
    {"{\"defaults\": [], \"sources\": [1]}", "defaults: must be an object"},
    {"{\"defaults\": {\"kind\": \"rss\"}, \"sources\": [1]}", "defaults.kind: unknown field"},
    {"{\"defaults\": {\"delay_ms\": 9999999}, \"sources\": [1]}",
     "defaults.delay_ms: must be an integer"},
    {"{\"defaults\": {\"poll_interval_s\": 100000}, \"sources\": [1]}",
     "defaults.poll_interval_s: must be within"},
};

START_TEST(test_errors_table)
{
    const struct error_case *c = &error_cases[_i];
    int rc = parse(c->json);

    ck_assert_msg(rc == NL_EINVAL, "%s: rc %d", c->json, rc);
    ck_assert_ptr_null(srcs);
    ck_assert_msg(strstr(errbuf, c->want) != NULL, "%s:\n  got  \"%s\"\n  want \"%s\"", c->json,
                  errbuf, c->want);
    ck_assert_msg(strncmp(errbuf, "sources test.json: ", 19) == 0, "%s", errbuf);
}
END_TEST

START_TEST(test_load_file)
{
    char dir[PATH_MAX], path[PATH_MAX + 32];
    FILE *f;

    tu_make_basedir(dir, sizeof(dir), "sources");
    snprintf(path, sizeof(path), "%s/sources.json", dir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(full, f);
    fclose(f);
    ck_assert_msg(fx_sources_load(path, &srcs, errbuf, sizeof(errbuf)) == 0, "%s", errbuf);
    ck_assert_uint_eq(srcs->n, 5);
    teardown();

    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("{\"sources\": [\n{\"name\": \"x\", \"kind\": \"rss\", \"url\": \"gopher://x/\"}]}", f);
    fclose(f);
    ck_assert_int_eq(fx_sources_load(path, &srcs, errbuf, sizeof(errbuf)), NL_EINVAL);
    ck_assert_msg(strstr(errbuf, "sources.json: sources[0] (x).url: ") != NULL, "%s", errbuf);
    ck_assert_ptr_null(srcs);
    unlink(path);

    ck_assert_int_eq(fx_sources_load(path, &srcs, errbuf, sizeof(errbuf)), NL_EIO);
    ck_assert_ptr_null(srcs);
    tu_remove_tree(dir);
}
END_TEST

START_TEST(test_errbuf_optional)
{
    ck_assert_int_eq(fx_sources_parse("{}", 2, "x", &srcs, NULL, 0), NL_EINVAL);
    ck_assert_ptr_null(srcs);
}
END_TEST

/* ---- the poll interval -------------------------------------------------------- */

START_TEST(test_poll_next_rule)
{
    /* new items: halve toward min */
    ck_assert_int_eq(fx_poll_next(600, 3, 60, 3600), 300);
    ck_assert_int_eq(fx_poll_next(100, 1, 60, 3600), 60);
    ck_assert_int_eq(fx_poll_next(60, 50, 60, 3600), 60);
    /* nothing new: 1.5x toward max */
    ck_assert_int_eq(fx_poll_next(600, 0, 60, 3600), 900);
    ck_assert_int_eq(fx_poll_next(3000, 0, 60, 3600), 3600);
    ck_assert_int_eq(fx_poll_next(3600, 0, 60, 3600), 3600);
    ck_assert_int_eq(fx_poll_next(1, 0, 1, 10), 2);
    /* out-of-bounds input is clamped first */
    ck_assert_int_eq(fx_poll_next(5, 0, 60, 3600), 90);
    ck_assert_int_eq(fx_poll_next(99999, 1, 60, 3600), 1800);
    /* inverted bounds: max is raised to min */
    ck_assert_int_eq(fx_poll_next(600, 0, 100, 50), 100);
    /* no overflow near the top */
    ck_assert_int_eq(fx_poll_next(INT64_MAX - 1, 0, 1, INT64_MAX), INT64_MAX);
}
END_TEST

START_TEST(test_poll_interval_history)
{
    static const uint64_t busy[] = {5, 4, 7, 3, 9, 2};
    static const uint64_t quiet[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    static const uint64_t mixed[] = {0, 0, 1, 0};
    uint64_t many[200];

    ck_assert_int_eq(fx_poll_interval(900, NULL, 0, 60, 86400), 900);
    ck_assert_int_eq(fx_poll_interval(30, NULL, 0, 60, 86400), 60);
    ck_assert_int_eq(fx_poll_interval(900, busy, 6, 60, 86400), 60);
    /* 900 -> 1350 -> 2025 -> 3037 -> 4555 -> 6832 -> 10248 -> 15372 -> 23058 -> 34587 ->
     * 51880 -> 77820 -> 86400 */
    ck_assert_int_eq(fx_poll_interval(900, quiet, 12, 60, 86400), 86400);
    ck_assert_int_eq(fx_poll_interval(900, quiet, 3, 60, 86400), 3037);
    /* 900 -> 1350 -> 2025 -> 1012 -> 1518 */
    ck_assert_int_eq(fx_poll_interval(900, mixed, 4, 60, 86400), 1518);
    /* always within bounds */
    for (size_t i = 0; i < 200; i++) {
        many[i] = (i * 7919) % 3 == 0;
    }
    for (size_t n = 0; n <= 200; n++) {
        int64_t v = fx_poll_interval(900, many, n, 120, 7200);
        ck_assert_int_ge(v, 120);
        ck_assert_int_le(v, 7200);
    }
}
END_TEST

static Suite *sources_suite(void)
{
    Suite *s = suite_create("sources");
    TCase *tc = tcase_create("load");

    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, test_full_file);
    tcase_add_test(tc, test_builtin_defaults);
    tcase_add_test(tc, test_allow_deny);
    tcase_add_loop_test(tc, test_errors_table, 0, sizeof(error_cases) / sizeof(error_cases[0]));
    tcase_add_test(tc, test_load_file);
    tcase_add_test(tc, test_errbuf_optional);
    suite_add_tcase(s, tc);

    tc = tcase_create("poll");
    tcase_add_test(tc, test_poll_next_rule);
    tcase_add_test(tc, test_poll_interval_history);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(sources_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
