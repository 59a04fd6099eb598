/* Unit tests for fetcher/url.h: normalisation (each table row is one
 * check), resolution of relative references against a base, tracking
 * parameters, ids, and hostile input (userinfo, huge URLs, control
 * characters, IPv6 hosts, other schemes). */
#include "nl_err.h"
#include "nl_text.h"
#include "url.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char errbuf[256];

struct norm_case {
    const char *in;
    const char *want; /* NULL: refused */
    int err;          /* the error when refused */
};

static const struct norm_case norm_cases[] = {
    /* scheme and host case, default ports, fragments, empty path */
    {"HTTP://Example.COM/Path", "http://example.com/Path", 0},
    {"HTTPS://EXAMPLE.com", "https://example.com/", 0},
    {"http://example.com", "http://example.com/", 0},
    {"http://example.com:80/a", "http://example.com/a", 0},
    {"https://example.com:443/a", "https://example.com/a", 0},
    {"https://example.com:0443/a", "https://example.com/a", 0},
    {"http://example.com:443/a", "http://example.com:443/a", 0},
    {"https://example.com:80/a", "https://example.com:80/a", 0},
    {"http://example.com:8080/a", "http://example.com:8080/a", 0},
    {"http://example.com:/a", "http://example.com/a", 0},
    {"http://example.com/a#frag", "http://example.com/a", 0},
    {"http://example.com/a?x=1#frag", "http://example.com/a?x=1", 0},
    {"http://example.com#", "http://example.com/", 0},
    {"http://example.com.:80/", "http://example.com./", 0},
    /* dot segments */
    {"http://example.com/a/./b/../c", "http://example.com/a/c", 0},
    {"http://example.com/a/b/..", "http://example.com/a/", 0},
    {"http://example.com/a/b/.", "http://example.com/a/b/", 0},
    {"http://example.com/../../x", "http://example.com/x", 0},
    {"http://example.com/a/%2E%2E/b", "http://example.com/b", 0},
    {"http://example.com/a/%2e/b", "http://example.com/a/b", 0},
    {"http://example.com/a//b", "http://example.com/a//b", 0},
    {"http://example.com/..a/b.", "http://example.com/..a/b.", 0},
    /* percent-encoding */
    {"http://example.com/%7euser", "http://example.com/~user", 0},
    {"http://example.com/%41%62%2d%5F", "http://example.com/Ab-_", 0},
    {"http://example.com/a%2fb", "http://example.com/a%2Fb", 0},
    {"http://example.com/%c3%a4", "http://example.com/%C3%A4", 0},
    {"http://example.com/\xc3\xa4", "http://example.com/%C3%A4", 0},
    {"http://example.com/a b", "http://example.com/a%20b", 0},
    {"http://example.com/100%", "http://example.com/100%25", 0},
    {"http://example.com/%zz", "http://example.com/%25zz", 0},
    {"http://example.com/%4", "http://example.com/%254", 0},
    {"http://example.com/a\"b<c>", "http://example.com/a%22b%3Cc%3E", 0},
    {"http://example.com/a\\b", "http://example.com/a%5Cb", 0},
    {"http://example.com/a;b=c,d!$'()*+", "http://example.com/a;b=c,d!$'()*+", 0},
    {"http://example.com/?q=%e2%82%ac&r=a+b", "http://example.com/?q=%E2%82%AC&r=a+b", 0},
    {"http://example.com/?q=a%26b%3Dc", "http://example.com/?q=a%26b%3Dc", 0},
    {"http://example.com/?q=\xc3\xa4 c", "http://example.com/?q=%C3%A4%20c", 0},
    {"http://example.com/?u=http://x/?y", "http://example.com/?u=http://x/?y", 0},
    /* tracking parameters */
    {"http://example.com/a?utm_source=x&utm_medium=y", "http://example.com/a", 0},
    {"http://example.com/a?id=5&utm_source=x&page=2", "http://example.com/a?id=5&page=2", 0},
    {"http://example.com/a?fbclid=1&gclid=2&dclid=3&msclkid=4", "http://example.com/a", 0},
    {"http://example.com/a?mc_cid=1&mc_eid=2&_ga=3&yclid=4&igshid=5&ref_src=6",
     "http://example.com/a", 0},
    {"http://example.com/a?UTM_Source=x&b=1", "http://example.com/a?b=1", 0},
    {"http://example.com/a?utm%5Fsource=x&b=1", "http://example.com/a?b=1", 0},
    {"http://example.com/a?utm_=x", "http://example.com/a?utm_=x", 0},
    {"http://example.com/a?utm=x", "http://example.com/a?utm=x", 0},
    {"http://example.com/a?fbclidx=1", "http://example.com/a?fbclidx=1", 0},
    {"http://example.com/a?x=utm_source", "http://example.com/a?x=utm_source", 0},
    {"http://example.com/a?fbclid", "http://example.com/a", 0},
    {"http://example.com/a?b=2&a=1", "http://example.com/a?b=2&a=1", 0},
    {"http://example.com/a?a=1&&b=2&", "http://example.com/a?a=1&b=2", 0},
    {"http://example.com/a?", "http://example.com/a", 0},
    {"http://example.com/a?&", "http://example.com/a", 0},
    {"http://example.com/a?=x", "http://example.com/a?=x", 0},
    /* hosts */
    {"http://B\xc3\x9c"
     "CHER.de/",
     "http://xn--bcher-kva.de/", 0},
    {"http://b\xc3\xbc"
     "cher.de/",
     "http://xn--bcher-kva.de/", 0},
    {"http://xn--bcher-kva.de/", "http://xn--bcher-kva.de/", 0},
    {"http://XN--BCHER-KVA.de/", "http://xn--bcher-kva.de/", 0},
    {"http://[2001:DB8:0:0::1]/", "http://[2001:db8::1]/", 0},
    {"http://[::FFFF:127.0.0.1]:8080/", "http://[::ffff:127.0.0.1]:8080/", 0},
    {"http://[::1]:80/", "http://[::1]/", 0},
    {"http://0x7f.1/", "http://127.0.0.1/", 0},
    {"http://127.0.0.1:80/", "http://127.0.0.1/", 0},
    /* userinfo is dropped */
    {"http://user:pw@example.com/a", "http://example.com/a", 0},
    {"http://user@example.com/a", "http://example.com/a", 0},
    {"http://good.com@evil.com/", "http://evil.com/", 0},
    {"http://@example.com/", "http://example.com/", 0},
    /* whitespace around */
    {"  http://example.com/a \n", "http://example.com/a", 0},
    {"\thttp://example.com/\r\n", "http://example.com/", 0},
    /* refused */
    {"", NULL, NL_EINVAL},
    {"   ", NULL, NL_EINVAL},
    {"example.com/a", NULL, NL_EINVAL},
    {"/relative/path", NULL, NL_EINVAL},
    {"javascript:alert(1)", NULL, NL_EINVAL},
    {"JavaScript://example.com/%0aalert(1)", NULL, NL_EINVAL},
    {"data:text/html,<script>alert(1)</script>", NULL, NL_EINVAL},
    {"data:text/html;base64,PHNjcmlwdD4=", NULL, NL_EINVAL},
    {"ftp://example.com/file", NULL, NL_EINVAL},
    {"file:///etc/passwd", NULL, NL_EINVAL},
    {"file://localhost/etc/passwd", NULL, NL_EINVAL},
    {"gopher://example.com/", NULL, NL_EINVAL},
    {"mailto:a@example.com", NULL, NL_EINVAL},
    {"ws://example.com/", NULL, NL_EINVAL},
    {"http:example.com", NULL, NL_EINVAL},
    {"http://", NULL, NL_EINVAL},
    {"http://:80/", NULL, NL_EINVAL},
    {"http://exa mple.com/", NULL, NL_EINVAL},
    {"http://example.com\x01/", NULL, NL_EINVAL},
    {"http://example.com/a\x7f", NULL, NL_EINVAL},
    {"http://example.com/a\nb", NULL, NL_EINVAL},
    {"http://example.com/a\rb", NULL, NL_EINVAL},
    {"http://example.com/a\tb", NULL, NL_EINVAL},
    {"http://example.com:99999/", NULL, NL_EINVAL},
    {"http://example.com:-1/", NULL, NL_EINVAL},
    {"http://example.com:8o/", NULL, NL_EINVAL},
    {"http://[::1/", NULL, NL_EINVAL},
    {"http://[fe80::1%25eth0]/", NULL, NL_EINVAL},
    {"http://[zz::1]/", NULL, NL_EINVAL},
    {"http://xn--zz.com/", "http://xn--zz.com/", 0},
    /* DNS limits: labels of 63, names of 253 */
    {"http://"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     ".com/",
     "http://"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     ".com/",
     0},
    {"http://"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     ".com/",
     NULL, NL_EINVAL},
};

START_TEST(test_normalize_table)
{
    const struct norm_case *c = &norm_cases[_i];
    char *out = NULL;
    int rc = fx_url_normalize(c->in, &out, errbuf, sizeof(errbuf));

    if (c->want == NULL) {
        ck_assert_msg(rc == c->err, "%s: want error %d, got %d (%s)", c->in, c->err, rc,
                      out != NULL ? out : errbuf);
        ck_assert_ptr_null(out);
    } else {
        ck_assert_msg(rc == 0, "%s: error %d: %s", c->in, rc, errbuf);
        ck_assert_str_eq(out, c->want);
    }
    free(out);
}
END_TEST

/* The canonical form of a canonical URL is itself. */
START_TEST(test_normalize_idempotent)
{
    const struct norm_case *c = &norm_cases[_i];
    char *once = NULL, *twice = NULL;

    if (c->want == NULL) {
        return;
    }
    ck_assert_int_eq(fx_url_normalize(c->in, &once, errbuf, sizeof(errbuf)), 0);
    ck_assert_msg(fx_url_normalize(once, &twice, errbuf, sizeof(errbuf)) == 0, "%s: %s", once,
                  errbuf);
    ck_assert_str_eq(twice, once);
    free(once);
    free(twice);
}
END_TEST

struct resolve_case {
    const char *base;
    const char *ref;
    const char *want;
};

/* RFC 3986 5.4.1 (fragments dropped), plus feed-style references. */
static const struct resolve_case resolve_cases[] = {
    {"http://a/b/c/d;p?q", "g", "http://a/b/c/g"},
    {"http://a/b/c/d;p?q", "./g", "http://a/b/c/g"},
    {"http://a/b/c/d;p?q", "g/", "http://a/b/c/g/"},
    {"http://a/b/c/d;p?q", "/g", "http://a/g"},
    {"http://a/b/c/d;p?q", "//g", "http://g/"},
    {"http://a/b/c/d;p?q", "?y", "http://a/b/c/d;p?y"},
    {"http://a/b/c/d;p?q", "g?y", "http://a/b/c/g?y"},
    {"http://a/b/c/d;p?q", "#s", "http://a/b/c/d;p?q"},
    {"http://a/b/c/d;p?q", "g#s", "http://a/b/c/g"},
    {"http://a/b/c/d;p?q", ";x", "http://a/b/c/;x"},
    {"http://a/b/c/d;p?q", "", "http://a/b/c/d;p?q"},
    {"http://a/b/c/d;p?q", ".", "http://a/b/c/"},
    {"http://a/b/c/d;p?q", "./", "http://a/b/c/"},
    {"http://a/b/c/d;p?q", "..", "http://a/b/"},
    {"http://a/b/c/d;p?q", "../g", "http://a/b/g"},
    {"http://a/b/c/d;p?q", "../..", "http://a/"},
    {"http://a/b/c/d;p?q", "../../g", "http://a/g"},
    {"http://a/b/c/d;p?q", "../../../g", "http://a/g"},
    {"http://a/b/c/d;p?q", "/./g", "http://a/g"},
    {"http://a/b/c/d;p?q", "/../g", "http://a/g"},
    {"http://a/b/c/d;p?q", "g.", "http://a/b/c/g."},
    {"http://a/b/c/d;p?q", "..g", "http://a/b/c/..g"},
    {"http://a/b/c/d;p?q", "./g/.", "http://a/b/c/g/"},
    {"http://a/b/c/d;p?q", "g;x=1/../y", "http://a/b/c/y"},
    {"https://news.example.com/feed.xml", "/2024/05/story.html?utm_source=rss",
     "https://news.example.com/2024/05/story.html"},
    {"https://news.example.com/feed.xml", "HTTP://Other.example.org:80/x#top",
     "http://other.example.org/x"},
    {"https://news.example.com/feed.xml", "  story one.html ",
     "https://news.example.com/story%20one.html"},
    {"https://news.example.com/a/", "\xc3\xa4.html", "https://news.example.com/a/%C3%A4.html"},
};

START_TEST(test_resolve_table)
{
    const struct resolve_case *c = &resolve_cases[_i];
    char *out = NULL;
    int rc = fx_url_resolve(c->base, c->ref, &out, errbuf, sizeof(errbuf));

    ck_assert_msg(rc == 0, "%s + %s: error %d: %s", c->base, c->ref, rc, errbuf);
    ck_assert_msg(strcmp(out, c->want) == 0, "%s + %s: got %s, want %s", c->base, c->ref, out,
                  c->want);
    free(out);
}
END_TEST

START_TEST(test_resolve_refuses_other_schemes)
{
    static const char *const refs[] = {
        "javascript:alert(1)", "JAVASCRIPT:void(0)", "data:,hello", "mailto:x@y.z",
        "ftp://example.com/",  "file:///etc/passwd", "tel:+123",    "about:blank",
    };
    for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
        char *out = NULL;
        int rc =
            fx_url_resolve("https://news.example.com/a/b", refs[i], &out, errbuf, sizeof(errbuf));
        ck_assert_msg(rc == NL_EINVAL, "%s: got %d %s", refs[i], rc, out != NULL ? out : "");
        ck_assert_ptr_null(out);
    }
}
END_TEST

START_TEST(test_resolve_bad_base)
{
    char *out = NULL;
    ck_assert_int_eq(fx_url_resolve("not a url", "/x", &out, errbuf, sizeof(errbuf)), NL_EINVAL);
    ck_assert_ptr_null(out);
    ck_assert_int_eq(fx_url_resolve("ftp://example.com/", "/x", &out, errbuf, sizeof(errbuf)),
                     NL_EINVAL);
    ck_assert_int_eq(fx_url_resolve("http://example.com/", "a\x01", &out, errbuf, sizeof(errbuf)),
                     NL_EINVAL);
    ck_assert_int_eq(fx_url_resolve(NULL, "/x", &out, errbuf, sizeof(errbuf)), NL_EINVAL);
    ck_assert_ptr_null(out);
}
END_TEST

START_TEST(test_huge_urls)
{
    size_t n = FX_URL_MAX + 100;
    char *url = malloc(n + 1), *out = NULL;

    ck_assert_ptr_nonnull(url);
    memcpy(url, "http://example.com/", 19);
    memset(url + 19, 'a', n - 19);
    url[n] = '\0';
    ck_assert_int_eq(fx_url_normalize(url, &out, errbuf, sizeof(errbuf)), NL_ETOOBIG);
    ck_assert_ptr_null(out);
    ck_assert_ptr_nonnull(strstr(errbuf, "8192"));

    /* under the cap as given, over it once encoded */
    memset(url + 19, ' ', FX_URL_MAX - 100);
    url[19 + FX_URL_MAX - 100] = 'x';
    url[20 + FX_URL_MAX - 100] = '\0';
    ck_assert_int_eq(fx_url_normalize(url, &out, errbuf, sizeof(errbuf)), NL_ETOOBIG);
    ck_assert_ptr_null(out);

    /* just under: fine */
    memset(url + 19, 'b', 4000);
    url[19 + 4000] = '\0';
    ck_assert_int_eq(fx_url_normalize(url, &out, errbuf, sizeof(errbuf)), 0);
    ck_assert_uint_eq(strlen(out), 19 + 4000);
    free(out);

    /* a huge host */
    memcpy(url, "http://", 7);
    memset(url + 7, 'h', 8000);
    memcpy(url + 8007, ".com/", 6);
    ck_assert_int_ne(fx_url_normalize(url, &out, errbuf, sizeof(errbuf)), 0);
    ck_assert_ptr_null(out);
    free(url);
}
END_TEST

START_TEST(test_errbuf_optional)
{
    char *out = NULL;
    ck_assert_int_eq(fx_url_normalize("javascript:x", &out, NULL, 0), NL_EINVAL);
    ck_assert_int_eq(fx_url_normalize("http://example.com/", &out, NULL, 0), 0);
    free(out);
}
END_TEST

START_TEST(test_error_messages)
{
    char *out = NULL;
    ck_assert_int_eq(fx_url_normalize("ftp://example.com/", &out, errbuf, sizeof(errbuf)),
                     NL_EINVAL);
    ck_assert_str_eq(errbuf, "scheme \"ftp\" is not http or https");
    ck_assert_int_eq(fx_url_normalize("http://x/\x02", &out, errbuf, sizeof(errbuf)), NL_EINVAL);
    ck_assert_str_eq(errbuf, "control character 0x02 in URL");
}
END_TEST

START_TEST(test_id)
{
    char id[17], want[17];
    char *out = NULL;

    ck_assert_int_eq(
        fx_url_normalize("HTTP://Example.com:80/a?utm_source=x#f", &out, errbuf, sizeof(errbuf)),
        0);
    fx_url_id(out, id);
    nl_id_from_string("http://example.com/a", 20, want);
    ck_assert_str_eq(id, want);
    ck_assert(nl_id_valid(id));
    /* FNV-1a 64 of the empty string is the offset basis */
    fx_url_id("", id);
    ck_assert_str_eq(id, "cbf29ce484222325");
    /* FNV-1a 64 of "a" */
    fx_url_id("a", id);
    ck_assert_str_eq(id, "af63dc4c8601ec8c");
    free(out);
}
END_TEST

START_TEST(test_same_article_same_id)
{
    static const char *const spellings[] = {
        "https://news.example.com/world/story-1",
        "HTTPS://NEWS.EXAMPLE.COM:443/world/story-1",
        "https://news.example.com/world/./story-1#comments",
        "https://news.example.com/world/x/../story-1?utm_source=rss&utm_campaign=feed",
        "https://news.example.com/world/%73tory-1?fbclid=abc",
        "https://user@news.example.com/world/story-1",
    };
    char first[17], id[17];

    for (size_t i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++) {
        char *out = NULL;
        ck_assert_msg(fx_url_normalize(spellings[i], &out, errbuf, sizeof(errbuf)) == 0, "%s",
                      errbuf);
        fx_url_id(out, i == 0 ? first : id);
        if (i > 0) {
            ck_assert_msg(strcmp(id, first) == 0, "%s -> %s", spellings[i], out);
        }
        free(out);
    }
}
END_TEST

START_TEST(test_is_tracking)
{
    ck_assert(fx_url_is_tracking("utm_source", 10));
    ck_assert(fx_url_is_tracking("utm_anything", 12));
    ck_assert(fx_url_is_tracking("GCLID", 5));
    ck_assert(fx_url_is_tracking("_ga", 3));
    ck_assert(!fx_url_is_tracking("utm_", 4));
    ck_assert(!fx_url_is_tracking("_gax", 4));
    ck_assert(!fx_url_is_tracking("id", 2));
    ck_assert(!fx_url_is_tracking("", 0));
    /* only the first len bytes count */
    ck_assert(fx_url_is_tracking("fbclid=123", 6));
}
END_TEST

START_TEST(test_host)
{
    char host[64];
    ck_assert_int_eq(fx_url_host("https://example.com:8080/a", host, sizeof(host)), 0);
    ck_assert_str_eq(host, "example.com");
    ck_assert_int_eq(fx_url_host("http://[::1]:80/", host, sizeof(host)), 0);
    ck_assert_str_eq(host, "[::1]");
    ck_assert_int_eq(fx_url_host("http://example.com/", host, 5), NL_ETOOBIG);
    ck_assert_int_eq(fx_url_host("example.com", host, sizeof(host)), NL_EINVAL);
}
END_TEST

static Suite *url_suite(void)
{
    Suite *s = suite_create("url");
    TCase *tc = tcase_create("normalize");

    tcase_add_loop_test(tc, test_normalize_table, 0, sizeof(norm_cases) / sizeof(norm_cases[0]));
    tcase_add_loop_test(tc, test_normalize_idempotent, 0,
                        sizeof(norm_cases) / sizeof(norm_cases[0]));
    tcase_add_test(tc, test_huge_urls);
    tcase_add_test(tc, test_errbuf_optional);
    tcase_add_test(tc, test_error_messages);
    suite_add_tcase(s, tc);

    tc = tcase_create("resolve");
    tcase_add_loop_test(tc, test_resolve_table, 0,
                        sizeof(resolve_cases) / sizeof(resolve_cases[0]));
    tcase_add_test(tc, test_resolve_refuses_other_schemes);
    tcase_add_test(tc, test_resolve_bad_base);
    suite_add_tcase(s, tc);

    tc = tcase_create("ids");
    tcase_add_test(tc, test_id);
    tcase_add_test(tc, test_same_article_same_id);
    tcase_add_test(tc, test_is_tracking);
    tcase_add_test(tc, test_host);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(url_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
