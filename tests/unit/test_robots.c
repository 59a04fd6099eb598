/* Unit tests for fetcher/robots.h: RFC 9309's examples (groups, merging,
 * longest match, percent-encoding, special characters), Google's
 * documented pattern examples, Crawl-delay, Sitemap lines, garbage, the
 * size cap and the status rules. */
#include "nl_err.h"
#include "robots.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char errbuf[256];
static fx_robots *rb;

static void teardown(void)
{
    fx_robots_free(rb);
    rb = NULL;
}

static void parse(const char *text)
{
    fx_robots_free(rb);
    rb = NULL;
    ck_assert_msg(fx_robots_parse(text, strlen(text), &rb, errbuf, sizeof(errbuf)) == 0, "%s",
                  errbuf);
}

#define ck_allowed(ua, path) ck_assert_msg(fx_robots_allowed(rb, ua, path), "%s %s", ua, path)
#define ck_disallowed(ua, path) ck_assert_msg(!fx_robots_allowed(rb, ua, path), "%s %s", ua, path)

/* RFC 9309 5.1 */
static const char rfc_simple[] = "User-Agent: *\n"
                                 "Disallow: *.gif$\n"
                                 "Disallow: /example/\n"
                                 "Allow: /publications/\n"
                                 "\n"
                                 "User-Agent: foobot\n"
                                 "Disallow:/\n"
                                 "Allow:/example/page.html\n"
                                 "Allow:/example/allowed.gif\n"
                                 "\n"
                                 "User-Agent: barbot\n"
                                 "User-Agent: bazbot\n"
                                 "Disallow: /example/page.html\n"
                                 "\n"
                                 "User-Agent: quxbot\n"
                                 "\n"
                                 "EOF\n";

START_TEST(test_rfc_simple_example)
{
    parse(rfc_simple);
    ck_allowed("foobot", "/example/page.html");
    ck_allowed("foobot", "/example/allowed.gif");
    ck_disallowed("foobot", "/example/other.html");
    ck_disallowed("foobot", "/");
    ck_disallowed("barbot", "/example/page.html");
    ck_disallowed("bazbot", "/example/page.html");
    ck_allowed("barbot", "/example/other.html");
    ck_allowed("barbot", "/picture.gif");
    ck_allowed("quxbot", "/example/page.html");
    ck_allowed("quxbot", "/picture.gif");
    ck_disallowed("otherbot", "/picture.gif");
    ck_allowed("otherbot", "/picture.gif?x");
    ck_disallowed("otherbot", "/example/");
    ck_disallowed("otherbot", "/example/page.html");
    ck_allowed("otherbot", "/publications/");
    ck_allowed("otherbot", "/example");
}
END_TEST

/* RFC 9309 5.2 */
START_TEST(test_rfc_longest_match)
{
    parse("User-Agent: foobot\n"
          "Allow: /example/page/\n"
          "Disallow: /example/page/disallowed.gif\n");
    ck_allowed("foobot", "/example/page/");
    ck_allowed("foobot", "/example/page/other.gif");
    ck_disallowed("foobot", "/example/page/disallowed.gif");
    ck_allowed("foobot", "/example/");
}
END_TEST

START_TEST(test_allow_wins_tie)
{
    parse("user-agent: a\ndisallow: /page\nallow: /page\n");
    ck_allowed("a", "/page");
    parse("user-agent: a\nallow: /page\ndisallow: /page\n");
    ck_allowed("a", "/page");
    /* equal length, different patterns: allow still wins */
    parse("user-agent: a\ndisallow: /*.htm\nallow: /page*\n");
    ck_allowed("a", "/page.htm");
}
END_TEST

/* RFC 9309 2.2.2: octets outside ASCII and percent-encoded octets. */
START_TEST(test_rfc_percent_encoding)
{
    parse("User-agent: *\n"
          "Disallow: /foo/bar?baz=quz\n"
          "Disallow: /a/\xe3\x83\x84\n"
          "Disallow: /b/%E3%83%84\n"
          "Disallow: /c/%62%61%7A\n"
          "Disallow: /d/%e3%83%84\n");
    ck_disallowed("x", "/foo/bar?baz=quz");
    ck_allowed("x", "/foo/bar?baz=qux");
    ck_disallowed("x", "/a/%E3%83%84");
    ck_disallowed("x", "/a/\xe3\x83\x84");
    ck_disallowed("x", "/b/%E3%83%84");
    ck_disallowed("x", "/b/%e3%83%84");
    ck_disallowed("x", "/c/%62%61%7A");
    ck_disallowed("x", "/c/baz");
    ck_disallowed("x", "/d/%E3%83%84");
    ck_allowed("x", "/c/bar");
}
END_TEST

/* RFC 9309 2.2.3 and Google's documented examples. */
START_TEST(test_special_characters)
{
    parse("User-agent: *\nDisallow: /this/path/exactly$\nDisallow: /this/*/path\n");
    ck_disallowed("x", "/this/path/exactly");
    ck_allowed("x", "/this/path/exactly/not");
    ck_allowed("x", "/this/path/exactly?q");
    ck_disallowed("x", "/this/is/the/path");
    ck_disallowed("x", "/this//path");
    ck_allowed("x", "/this/path");

    parse("User-agent: *\nDisallow: /fish*\n");
    ck_disallowed("x", "/fish");
    ck_disallowed("x", "/fish.html");
    ck_disallowed("x", "/fishheads/yummy.html");
    ck_allowed("x", "/Fish.asp");
    ck_allowed("x", "/catfish");

    parse("User-agent: *\nDisallow: /*.php$\n");
    ck_disallowed("x", "/filename.php");
    ck_disallowed("x", "/folder/filename.php");
    ck_allowed("x", "/filename.php?parameters");
    ck_allowed("x", "/filename.php5");
    ck_allowed("x", "/windows.PHP");

    parse("User-agent: *\nDisallow: /fish*.php\n");
    ck_disallowed("x", "/fish.php");
    ck_disallowed("x", "/fishheads/catfish.php?parameters");
    ck_allowed("x", "/Fish.PHP");

    parse("User-agent: *\nDisallow: /\nAllow: /$\n");
    ck_allowed("x", "/");
    ck_disallowed("x", "/page");

    parse("User-agent: *\nDisallow: /a$b\n");
    ck_disallowed("x", "/a$b");
    ck_allowed("x", "/a");

    parse("User-agent: *\nDisallow: *\n");
    ck_disallowed("x", "/anything");

    parse("User-agent: *\nDisallow: /**x**$\n");
    ck_disallowed("x", "/aaaxbbb");
    ck_allowed("x", "/aaa");
}
END_TEST

START_TEST(test_pathological_pattern_is_fast)
{
    char text[4096], path[2048];
    size_t n = (size_t)snprintf(text, sizeof(text), "User-agent: *\nDisallow: /");
    for (int i = 0; i < 500; i++) {
        n += (size_t)snprintf(text + n, sizeof(text) - n, "*a");
    }
    snprintf(text + n, sizeof(text) - n, "b$\n");
    parse(text);
    path[0] = '/';
    memset(path + 1, 'a', sizeof(path) - 2);
    path[sizeof(path) - 1] = '\0';
    ck_allowed("x", path); /* must return, not hang */
}
END_TEST

START_TEST(test_user_agent_matching)
{
    parse("User-agent: NewsLine/1.0\nDisallow: /private\n\n"
          "User-agent: *\nDisallow: /\n");
    ck_disallowed("newsline/0.1 (+https://example.com/bot)", "/private/x");
    ck_allowed("newsline/0.1 (+https://example.com/bot)", "/public");
    ck_allowed("NEWSLINE", "/public");
    ck_disallowed("newslinebot", "/public");
    ck_disallowed("news", "/public");
    ck_disallowed("", "/public");
    ck_assert(!fx_robots_allowed(rb, NULL, "/public"));
}
END_TEST

START_TEST(test_groups_merged)
{
    parse("User-agent: a\nDisallow: /x\n\n"
          "User-agent: b\nDisallow: /y\n\n"
          "User-agent: a\nDisallow: /z\nCrawl-delay: 3\n");
    ck_disallowed("a", "/x");
    ck_disallowed("a", "/z");
    ck_allowed("a", "/y");
    ck_disallowed("b", "/y");
    ck_allowed("b", "/x");
    ck_assert_int_eq(fx_robots_crawl_delay_ms(rb, "a"), 3000);
    ck_assert_int_eq(fx_robots_crawl_delay_ms(rb, "b"), -1);
}
END_TEST

START_TEST(test_no_groups_allows_all)
{
    parse("");
    ck_allowed("x", "/");
    parse("# only a comment\n");
    ck_allowed("x", "/a");
    /* rules before any user-agent line are ignored */
    parse("Disallow: /\n");
    ck_allowed("x", "/a");
    /* a group for someone else only */
    parse("User-agent: other\nDisallow: /\n");
    ck_allowed("x", "/a");
    ck_disallowed("other", "/a");
}
END_TEST

START_TEST(test_empty_disallow)
{
    parse("User-agent: *\nDisallow:\n");
    ck_allowed("x", "/anything");
    parse("User-agent: *\nDisallow: \nDisallow: /b\n");
    ck_allowed("x", "/a");
    ck_disallowed("x", "/b");
}
END_TEST

START_TEST(test_robots_txt_always_allowed)
{
    parse("User-agent: *\nDisallow: /\n");
    ck_allowed("x", "/robots.txt");
    ck_disallowed("x", "/robots.txt.bak");
    ck_disallowed("x", "/");
    ck_disallowed("x", "");
}
END_TEST

START_TEST(test_syntax_tolerance)
{
    parse("\xef\xbb\xbfUSER-AGENT : *   # everyone\r\n"
          "  disallow\t:\t/a   # comment\r"
          "this line is garbage\n"
          "Disallow /nocolon\n"
          "Unknown-Key: whatever\n"
          ":\n"
          "\x01\x02\xff\xfe: junk\n"
          "DISALLOW: /b\n"
          "Allow: /a/ok#not part of the path\n");
    ck_disallowed("x", "/a");
    ck_disallowed("x", "/b");
    ck_allowed("x", "/nocolon");
    ck_allowed("x", "/a/ok");
}
END_TEST

START_TEST(test_garbage_input)
{
    /* binary noise, an HTML page, NUL bytes: parsed, nothing enforced */
    static const char noise[] = "\x00\xff\x10<html><body>Disallow: /</body></html>\x00\n:::\n";
    ck_assert_int_eq(fx_robots_parse(noise, sizeof(noise) - 1, &rb, errbuf, sizeof(errbuf)), 0);
    ck_allowed("x", "/");
    teardown();

    static const char nul[] = "User-agent: *\nDisallow: /a\x00/b\n";
    ck_assert_int_eq(fx_robots_parse(nul, sizeof(nul) - 1, &rb, errbuf, sizeof(errbuf)), 0);
    ck_disallowed("x", "/a");
    ck_allowed("x", "/b");
}
END_TEST

START_TEST(test_crawl_delay)
{
    parse("User-agent: *\nCrawl-delay: 0.5\n\nUser-agent: slow\nCrawl-delay: 10\n");
    ck_assert_int_eq(fx_robots_crawl_delay_ms(rb, "x"), 500);
    ck_assert_int_eq(fx_robots_crawl_delay_ms(rb, "slow"), 10000);
    parse("User-agent: *\nCrawl-delay: soon\n");
    ck_assert_int_eq(fx_robots_crawl_delay_ms(rb, "x"), -1);
    parse("User-agent: *\nCrawl-delay: -5\n");
    ck_assert_int_eq(fx_robots_crawl_delay_ms(rb, "x"), -1);
    parse("User-agent: *\nCrawl-delay: 99999999999999999999999\n");
    ck_assert_int_eq(fx_robots_crawl_delay_ms(rb, "x"), 86400 * 1000LL);
    parse("User-agent: *\nCrawl-delay: 2.25s\n");
    ck_assert_int_eq(fx_robots_crawl_delay_ms(rb, "x"), 2250);
}
END_TEST

START_TEST(test_sitemaps)
{
    parse("Sitemap: https://example.com/sitemap.xml\n"
          "User-agent: *\n"
          "Disallow: /x\n"
          "sitemap:   https://example.com/news-sitemap.xml  # news\n"
          "Disallow: /y\n"
          "Sitemap:\n");
    ck_assert_uint_eq(fx_robots_n_sitemaps(rb), 2);
    ck_assert_str_eq(fx_robots_sitemap(rb, 0), "https://example.com/sitemap.xml");
    ck_assert_str_eq(fx_robots_sitemap(rb, 1), "https://example.com/news-sitemap.xml");
    ck_assert_ptr_null(fx_robots_sitemap(rb, 2));
    /* a Sitemap line does not end the group */
    ck_disallowed("x", "/y");
}
END_TEST

START_TEST(test_size_cap)
{
    size_t n = FX_ROBOTS_MAX + 4096, len;
    char *big = malloc(n);
    const char head[] = "User-agent: *\nDisallow: /early\n";

    ck_assert_ptr_nonnull(big);
    memcpy(big, head, sizeof(head) - 1);
    len = sizeof(head) - 1;
    while (len + 20 < FX_ROBOTS_MAX - 20) {
        memcpy(big + len, "# padding padding\n", 18);
        len += 18;
    }
    /* a rule straddling the cap, and one past it */
    memcpy(big + len, "Disallow: /straddle-xxxxxxxxxxxxxxxxxxxxxxxx\n", 46);
    len += 46;
    memcpy(big + len, "Disallow: /late\n", 16);
    len += 16;
    ck_assert_uint_gt(len, FX_ROBOTS_MAX);
    ck_assert_int_eq(fx_robots_parse(big, len, &rb, errbuf, sizeof(errbuf)), 0);
    ck_assert(fx_robots_truncated(rb));
    ck_disallowed("x", "/early");
    ck_allowed("x", "/late");
    ck_allowed("x", "/straddle");
    free(big);
}
END_TEST

START_TEST(test_status_rules)
{
    static const struct {
        int status, allow;
    } cases[] = {{404, 1}, {403, 1}, {401, 1}, {410, 1}, {429, 0}, {500, 0},
                 {503, 0}, {0, 0},   {301, 1}, {100, 0}, {-1, 0},  {700, 0}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ck_assert_int_eq(fx_robots_for_status(cases[i].status, &rb, errbuf, sizeof(errbuf)), 0);
        ck_assert_msg(fx_robots_allowed(rb, "x", "/a") == cases[i].allow, "status %d",
                      cases[i].status);
        ck_assert_int_eq(fx_robots_allowed(rb, "x", "/robots.txt"), cases[i].allow);
        ck_assert_int_eq(fx_robots_crawl_delay_ms(rb, "x"), -1);
        ck_assert_uint_eq(fx_robots_n_sitemaps(rb), 0);
        teardown();
    }
    ck_assert_int_eq(fx_robots_for_status(200, &rb, errbuf, sizeof(errbuf)), NL_EINVAL);
    ck_assert_ptr_null(rb);
}
END_TEST

START_TEST(test_allowed_url)
{
    parse("User-agent: *\nDisallow: /private\nDisallow: /*?session=\nDisallow: /$\n");
    ck_assert(!fx_robots_allowed_url(rb, "x", "https://example.com/private/a"));
    ck_assert(fx_robots_allowed_url(rb, "x", "https://example.com/public#private"));
    ck_assert(!fx_robots_allowed_url(rb, "x", "https://example.com/a?session=1"));
    ck_assert(!fx_robots_allowed_url(rb, "x", "https://example.com"));
    ck_assert(!fx_robots_allowed_url(rb, "x", "https://example.com/"));
    ck_assert(fx_robots_allowed_url(rb, "x", "https://example.com?q"));
    ck_assert(!fx_robots_allowed_url(rb, "x", "not a url"));
}
END_TEST

START_TEST(test_product_token_and_url)
{
    char tok[16], *url = NULL;

    fx_robots_product_token("newsline/0.1 (+https://x)", tok, sizeof(tok));
    ck_assert_str_eq(tok, "newsline");
    fx_robots_product_token("Mozilla/5.0", tok, sizeof(tok));
    ck_assert_str_eq(tok, "Mozilla");
    fx_robots_product_token("a-very-long_product-token-indeed", tok, sizeof(tok));
    ck_assert_str_eq(tok, "a-very-long_pro");
    fx_robots_product_token("/1.0", tok, sizeof(tok));
    ck_assert_str_eq(tok, "");

    ck_assert_int_eq(fx_robots_url("HTTPS://Example.com:443/a/b?c#d", &url, errbuf, sizeof(errbuf)),
                     0);
    ck_assert_str_eq(url, "https://example.com/robots.txt");
    free(url);
    ck_assert_int_eq(fx_robots_url("ftp://example.com/", &url, errbuf, sizeof(errbuf)), NL_EINVAL);
}
END_TEST

static Suite *robots_suite(void)
{
    Suite *s = suite_create("robots");
    TCase *tc = tcase_create("rfc9309");

    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, test_rfc_simple_example);
    tcase_add_test(tc, test_rfc_longest_match);
    tcase_add_test(tc, test_allow_wins_tie);
    tcase_add_test(tc, test_rfc_percent_encoding);
    tcase_add_test(tc, test_special_characters);
    tcase_add_test(tc, test_pathological_pattern_is_fast);
    tcase_add_test(tc, test_user_agent_matching);
    tcase_add_test(tc, test_groups_merged);
    tcase_add_test(tc, test_no_groups_allows_all);
    tcase_add_test(tc, test_empty_disallow);
    tcase_add_test(tc, test_robots_txt_always_allowed);
    suite_add_tcase(s, tc);

    tc = tcase_create("parsing");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, test_syntax_tolerance);
    tcase_add_test(tc, test_garbage_input);
    tcase_add_test(tc, test_crawl_delay);
    tcase_add_test(tc, test_sitemaps);
    tcase_add_test(tc, test_size_cap);
    tcase_add_test(tc, test_status_rules);
    tcase_add_test(tc, test_allowed_url);
    tcase_add_test(tc, test_product_token_and_url);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(robots_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
