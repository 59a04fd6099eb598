/* Unit tests for the pure parts of fetcher/engine.h: back-off with jitter,
 * Retry-After parsing, retry classification, CIDR allowlists and the
 * public-address check. */
#include "engine.h"
#include "nl_err.h"

#include <arpa/inet.h>
#include <check.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

static struct sockaddr_storage ss;

/* A sockaddr for a literal IPv4 or IPv6 address. */
static const struct sockaddr *sa(const char *ip)
{
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, ip, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
    } else {
        ck_assert_msg(inet_pton(AF_INET6, ip, &v6->sin6_addr) == 1, "%s", ip);
        v6->sin6_family = AF_INET6;
    }
    return (const struct sockaddr *)&ss;
}

START_TEST(test_backoff_bounds)
{
    uint64_t rng = 42;
    /* attempt n: step min(max, base * 2^(n-1)), drawn from [step/2, step] */
    for (int round = 0; round < 1000; round++) {
        int64_t step = 1000;
        for (int attempt = 1; attempt <= 10; attempt++) {
            int64_t d = fx_backoff_ms(attempt, 1000, 60000, &rng);
            int64_t s = step < 60000 ? step : 60000;
            ck_assert_msg(d >= s / 2 && d <= s, "attempt %d: %lld not in [%lld, %lld]", attempt,
                          (long long)d, (long long)(s / 2), (long long)s);
            step *= 2;
        }
    }
    ck_assert_int_eq(fx_backoff_ms(3, 0, 60000, &rng), 0);
    ck_assert_int_eq(fx_backoff_ms(5, 1000, 0, &rng), 0);
    /* huge attempt numbers do not overflow */
    ck_assert(fx_backoff_ms(1000, 1000, 60000, &rng) <= 60000);
    ck_assert(fx_backoff_ms(0, 1000, 60000, &rng) <= 1000);
}
END_TEST

START_TEST(test_backoff_jitter_spreads)
{
    uint64_t rng = 7;
    int64_t lo = INT64_MAX, hi = 0;
    for (int i = 0; i < 1000; i++) {
        int64_t d = fx_backoff_ms(4, 1000, 60000, &rng);
        lo = d < lo ? d : lo;
        hi = d > hi ? d : hi;
    }
    /* step 8000: values over most of [4000, 8000], not one value */
    ck_assert(lo < 4500 && hi > 7500);
}
END_TEST

START_TEST(test_retry_after_seconds)
{
    int64_t ms;
    ck_assert_int_eq(fx_retry_after_ms("120", 0, &ms), 0);
    ck_assert_int_eq(ms, 120000);
    ck_assert_int_eq(fx_retry_after_ms(" 0 ", 0, &ms), 0);
    ck_assert_int_eq(ms, 0);
    ck_assert_int_eq(fx_retry_after_ms("2\r", 0, &ms), 0);
    ck_assert_int_eq(ms, 2000);
    /* saturates instead of overflowing */
    ck_assert_int_eq(fx_retry_after_ms("99999999999999999999999", 0, &ms), 0);
    ck_assert(ms > 0);
    ck_assert_int_eq(fx_retry_after_ms("-5", 0, &ms), NL_EINVAL);
    ck_assert_int_eq(fx_retry_after_ms("1.5", 0, &ms), NL_EINVAL);
    ck_assert_int_eq(fx_retry_after_ms("12abc", 0, &ms), NL_EINVAL);
    ck_assert_int_eq(fx_retry_after_ms("", 0, &ms), NL_EINVAL);
    ck_assert_int_eq(fx_retry_after_ms(NULL, 0, &ms), NL_EINVAL);
}
END_TEST

START_TEST(test_retry_after_date)
{
    int64_t ms;
    /* 1994-11-06T08:49:37Z = 784111777 (RFC 9110's example) */
    const int64_t t = 784111777;
    ck_assert_int_eq(fx_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", t - 30, &ms), 0);
    ck_assert_int_eq(ms, 30000);
    /* the obsolete forms RFC 9110 says to accept */
    ck_assert_int_eq(fx_retry_after_ms("Sunday, 06-Nov-94 08:49:37 GMT", t - 5, &ms), 0);
    ck_assert_int_eq(ms, 5000);
    ck_assert_int_eq(fx_retry_after_ms("Sun Nov  6 08:49:37 1994", t - 1, &ms), 0);
    ck_assert_int_eq(ms, 1000);
    /* a date in the past: no wait */
    ck_assert_int_eq(fx_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", t + 100, &ms), 0);
    ck_assert_int_eq(ms, 0);
    ck_assert_int_eq(fx_retry_after_ms("tomorrow", t, &ms), NL_EINVAL);
}
END_TEST

START_TEST(test_retryable)
{
    ck_assert(fx_retryable(CURLE_OK, 429));
    ck_assert(fx_retryable(CURLE_OK, 500));
    ck_assert(fx_retryable(CURLE_OK, 503));
    ck_assert(!fx_retryable(CURLE_OK, 200));
    ck_assert(!fx_retryable(CURLE_OK, 404));
    ck_assert(!fx_retryable(CURLE_OK, 403));
    ck_assert(!fx_retryable(CURLE_OK, 410));
    ck_assert(fx_retryable(CURLE_COULDNT_CONNECT, 0));
    ck_assert(fx_retryable(CURLE_OPERATION_TIMEDOUT, 0));
    ck_assert(fx_retryable(CURLE_RECV_ERROR, 0));
    ck_assert(fx_retryable(CURLE_PARTIAL_FILE, 200));
    ck_assert(!fx_retryable(CURLE_WRITE_ERROR, 200)); /* our own body cap */
    ck_assert(!fx_retryable(CURLE_TOO_MANY_REDIRECTS, 302));
    ck_assert(!fx_retryable(CURLE_PEER_FAILED_VERIFICATION, 0));
    ck_assert(!fx_retryable(CURLE_UNSUPPORTED_PROTOCOL, 0));
}
END_TEST

START_TEST(test_cidrs_parse)
{
    fx_cidrs c;
    char errbuf[256];

    ck_assert_int_eq(fx_cidrs_parse("", &c, errbuf, sizeof(errbuf)), 0);
    ck_assert_uint_eq(c.n, 0);
    ck_assert(!fx_cidrs_match(&c, sa("127.0.0.1")));
    fx_cidrs_free(&c);

    ck_assert_int_eq(
        fx_cidrs_parse(" 127.0.0.0/8, ::1 10.1.2.3,fd00::/8 ", &c, errbuf, sizeof(errbuf)), 0);
    ck_assert_uint_eq(c.n, 4);
    ck_assert_int_eq(c.v[1].prefix, 128);
    ck_assert_int_eq(c.v[2].prefix, 32);
    fx_cidrs_free(&c);

    const char *bad[] = {"10.0.0.0/33", "::/129",      "10.0.0.0/", "10.0.0/8",
                         "example.org", "10.0.0.0/8x", "1.2.3.4/-1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(fx_cidrs_parse(bad[i], &c, errbuf, sizeof(errbuf)) == NL_EINVAL, "%s",
                      bad[i]);
        ck_assert_uint_eq(c.n, 0);
        ck_assert_ptr_null(c.v);
    }
}
END_TEST

START_TEST(test_cidrs_match)
{
    fx_cidrs c;
    ck_assert_int_eq(
        fx_cidrs_parse("127.0.0.0/8,10.20.0.0/14,::1/128,fd12:3456::/32,0.0.0.0/0x", &c, NULL, 0),
        NL_EINVAL);
    ck_assert_int_eq(fx_cidrs_parse("127.0.0.0/8,10.20.0.0/14,::1/128,fd12:3456::/32", &c, NULL, 0),
                     0);
    ck_assert(fx_cidrs_match(&c, sa("127.0.0.1")));
    ck_assert(fx_cidrs_match(&c, sa("127.255.255.254")));
    ck_assert(!fx_cidrs_match(&c, sa("128.0.0.1")));
    ck_assert(fx_cidrs_match(&c, sa("10.20.0.1")));
    ck_assert(fx_cidrs_match(&c, sa("10.23.255.255")));
    ck_assert(!fx_cidrs_match(&c, sa("10.24.0.0")));
    ck_assert(!fx_cidrs_match(&c, sa("10.19.255.255")));
    ck_assert(fx_cidrs_match(&c, sa("::1")));
    ck_assert(!fx_cidrs_match(&c, sa("::2")));
    ck_assert(fx_cidrs_match(&c, sa("fd12:3456:ffff::1")));
    ck_assert(!fx_cidrs_match(&c, sa("fd12:3457::1")));
    /* an IPv4-mapped address matches the IPv4 block */
    ck_assert(fx_cidrs_match(&c, sa("::ffff:127.0.0.1")));
    ck_assert(!fx_cidrs_match(&c, sa("::ffff:8.8.8.8")));
    fx_cidrs_free(&c);

    ck_assert_int_eq(fx_cidrs_parse("0.0.0.0/0", &c, NULL, 0), 0);
    ck_assert(fx_cidrs_match(&c, sa("203.0.113.9")));
    ck_assert(!fx_cidrs_match(&c, sa("::1"))); /* a v4 block never matches v6 */
    fx_cidrs_free(&c);
}
END_TEST

START_TEST(test_addr_public)
{
    const char *priv[] = {
        "0.0.0.0",
        "10.0.0.1",
        "100.64.0.1",
        "127.0.0.1",
        "127.1.2.3",
        "169.254.169.254",
        "172.16.0.1",
        "172.31.255.255",
        "192.0.0.8",
        "192.0.2.1",
        "192.168.1.1",
        "198.18.0.1",
        "198.51.100.7",
        "203.0.113.7",
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
        "::",
        "::1",
        "::ffff:10.0.0.1",
        "::ffff:127.0.0.1",
        "64:ff9b::a00:1",
        "2002:a00:1::1",
        "fc00::1",
        "fd00::1",
        "fe80::1",
        "fec0::1",
        "ff02::1",
        "2001:db8::1",
        "2001::1",
        "100::1",
    };
    const char *pub[] = {
        "8.8.8.8",         "1.1.1.1",           "172.15.255.255", "172.32.0.1",
        "100.63.255.255",  "100.128.0.1",       "192.169.0.1",    "93.184.216.34",
        "2606:4700::1111", "2a00:1450:4001::1", "::ffff:8.8.8.8", "64:ff9b::808:808",
        "2002:808:808::1",
    };
    for (size_t i = 0; i < sizeof(priv) / sizeof(priv[0]); i++) {
        ck_assert_msg(!fx_addr_public(sa(priv[i])), "%s counted as public", priv[i]);
    }
    for (size_t i = 0; i < sizeof(pub) / sizeof(pub[0]); i++) {
        ck_assert_msg(fx_addr_public(sa(pub[i])), "%s counted as private", pub[i]);
    }
}
END_TEST

static Suite *engine_suite(void)
{
    Suite *s = suite_create("engine");
    TCase *tc = tcase_create("pure");
    tcase_add_test(tc, test_backoff_bounds);
    tcase_add_test(tc, test_backoff_jitter_spreads);
    tcase_add_test(tc, test_retry_after_seconds);
    tcase_add_test(tc, test_retry_after_date);
    tcase_add_test(tc, test_retryable);
    tcase_add_test(tc, test_cidrs_parse);
    tcase_add_test(tc, test_cidrs_match);
    tcase_add_test(tc, test_addr_public);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(engine_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
