/* Unit tests for fetcher/engine.h. The pure parts: back-off with jitter,
 * Retry-After parsing, retry classification, CIDR allowlists and the
 * public-address check. The engine itself against a small HTTP server on a
 * thread (127.0.0.1, port 0): redirects followed hop by hop (count, final
 * URL, the bound, robots.txt on the target, schemes, a redirect's body not
 * counted), and one transfer for a URL requested while queued or in
 * flight. */
#include "engine.h"
#include "nl_config.h"
#include "nl_err.h"

#include <arpa/inet.h>
#include <check.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

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

/* ---- The engine against a loopback server ---- */

#define MAX_HITS 64

static struct {
    int fd;
    int port;
    pthread_t th;
    volatile int stop;
    pthread_mutex_t mu;
    char paths[MAX_HITS][128]; /* the requests seen, in order */
    int n;
} srv;

/* Answers one request on c (Connection: close). */
static void serve_one(int c)
{
    char req[4096], path[128] = "", resp[8192], location[256] = "";
    const char *body = "";
    size_t len = 0;
    int status = 200, delay_ms = 0;
    ssize_t r;
    static char big[5000];

    while (len < sizeof(req) - 1 && (r = recv(c, req + len, sizeof(req) - 1 - len, 0)) > 0) {
        len += (size_t)r;
        req[len] = '\0';
        if (strstr(req, "\r\n\r\n") != NULL) {
            break;
        }
    }
    req[len] = '\0';
    if (sscanf(req, "GET %127s ", path) != 1) {
        return;
    }
    pthread_mutex_lock(&srv.mu);
    if (srv.n < MAX_HITS) {
        snprintf(srv.paths[srv.n++], sizeof(srv.paths[0]), "%s", path);
    }
    pthread_mutex_unlock(&srv.mu);
    if (strcmp(path, "/robots.txt") == 0) {
        body = "User-agent: *\nDisallow: /private/\n";
    } else if (strcmp(path, "/ok") == 0 || strncmp(path, "/private/", 9) == 0) {
        body = "<p>fine</p>";
    } else if (strcmp(path, "/slow") == 0) {
        body = "<p>slow</p>";
        delay_ms = 300;
    } else if (strncmp(path, "/hop/", 5) == 0) {
        int n = atoi(path + 5);
        status = 302;
        if (n > 1) {
            snprintf(location, sizeof(location), "/hop/%d", n - 1);
        } else {
            snprintf(location, sizeof(location), "http://127.0.0.1:%d/ok", srv.port);
        }
    } else if (strcmp(path, "/loop") == 0) {
        status = 301;
        snprintf(location, sizeof(location), "/loop");
    } else if (strcmp(path, "/to-private") == 0) {
        status = 307;
        snprintf(location, sizeof(location), "private/x"); /* relative to / */
    } else if (strcmp(path, "/to-ftp") == 0) {
        status = 302;
        snprintf(location, sizeof(location), "ftp://127.0.0.1/x");
    } else if (strcmp(path, "/big-redirect") == 0) {
        /* a body past the engine's cap on the redirect itself */
        memset(big, 'x', sizeof(big) - 1);
        body = big;
        status = 302;
        snprintf(location, sizeof(location), "/ok");
    } else {
        status = 404;
    }
    if (delay_ms > 0) {
        usleep((useconds_t)delay_ms * 1000);
    }
    len = (size_t)snprintf(resp, sizeof(resp),
                           "HTTP/1.1 %d X\r\nContent-Type: text/html\r\nContent-Length: %zu\r\n"
                           "Connection: close\r\n%s%s%s\r\n%s",
                           status, strlen(body), location[0] ? "Location: " : "", location,
                           location[0] ? "\r\n" : "", body);
    if (body == big) {
        /* no Content-Length: the body runs to the close (libcurl's
         * CURLOPT_MAXFILESIZE would refuse a declared one, as it did when
         * it followed redirects itself) */
        len =
            (size_t)snprintf(resp, sizeof(resp),
                             "HTTP/1.1 302 X\r\nLocation: /ok\r\nConnection: close\r\n\r\n%s", big);
    }
    (void)!send(c, resp, len < sizeof(resp) ? len : sizeof(resp) - 1, MSG_NOSIGNAL);
}

static void *serve(void *arg)
{
    (void)arg;
    while (!srv.stop) {
        struct pollfd pfd = {srv.fd, POLLIN, 0};
        struct timeval tv = {5, 0};
        int c;
        if (poll(&pfd, 1, 100) <= 0) {
            continue;
        }
        c = accept(srv.fd, NULL, NULL);
        if (c < 0) {
            continue;
        }
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        serve_one(c);
        close(c);
    }
    return NULL;
}

static int hits(const char *path)
{
    int n = 0;
    pthread_mutex_lock(&srv.mu);
    for (int i = 0; i < srv.n; i++) {
        n += strcmp(srv.paths[i], path) == 0;
    }
    pthread_mutex_unlock(&srv.mu);
    return n;
}

/* Results as the done callback saw them. */
#define MAX_RESULTS 16
static struct {
    uintptr_t user;
    char url[256], final_url[256], code[32], reason[512];
    long status;
    int redirects, joined, not_modified;
    size_t body_len;
} got[MAX_RESULTS];
static int n_got;

static void on_done(void *ctx, const fx_result *res)
{
    (void)ctx;
    ck_assert_int_lt(n_got, MAX_RESULTS);
    got[n_got].user = (uintptr_t)res->user;
    snprintf(got[n_got].url, sizeof(got[0].url), "%s", res->url);
    snprintf(got[n_got].final_url, sizeof(got[0].final_url), "%s", res->final_url);
    snprintf(got[n_got].code, sizeof(got[0].code), "%s", res->code != NULL ? res->code : "");
    snprintf(got[n_got].reason, sizeof(got[0].reason), "%s", res->reason);
    got[n_got].status = res->status;
    got[n_got].redirects = res->redirects;
    got[n_got].joined = res->joined;
    got[n_got].not_modified = res->not_modified;
    got[n_got].body_len = res->body_len;
    n_got++;
}

static nl_config cfg;
static fx_engine *eng;
static char base[64];

static void live_setup(void)
{
    struct sockaddr_in sin;
    socklen_t sl = sizeof(sin);
    char errbuf[256];

    memset(&srv, 0, sizeof(srv));
    pthread_mutex_init(&srv.mu, NULL);
    srv.fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(srv.fd, 0);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sin.sin_port = 0;
    ck_assert_int_eq(bind(srv.fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    ck_assert_int_eq(listen(srv.fd, 16), 0);
    ck_assert_int_eq(getsockname(srv.fd, (struct sockaddr *)&sin, &sl), 0);
    srv.port = ntohs(sin.sin_port);
    snprintf(base, sizeof(base), "http://127.0.0.1:%d", srv.port);
    ck_assert_int_eq(pthread_create(&srv.th, NULL, serve, NULL), 0);

    n_got = 0;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    ck_assert_int_eq(nl_config_init(&cfg), 0);
    ck_assert_int_eq(
        nl_config_set(&cfg, "fetcher.allow_private", "127.0.0.0/8", errbuf, sizeof(errbuf)), 0);
    ck_assert_int_eq(nl_config_set(&cfg, "fetcher.min_delay_ms", "0", errbuf, sizeof(errbuf)), 0);
    ck_assert_int_eq(nl_config_set(&cfg, "fetcher.max_redirects", "3", errbuf, sizeof(errbuf)), 0);
    ck_assert_int_eq(nl_config_set(&cfg, "fetcher.max_body_bytes", "1024", errbuf, sizeof(errbuf)),
                     0);
    ck_assert_int_eq(nl_config_set(&cfg, "fetcher.timeout_ms", "10000", errbuf, sizeof(errbuf)), 0);
    eng = fx_engine_new(&cfg, on_done, NULL, errbuf, sizeof(errbuf));
    ck_assert_msg(eng != NULL, "%s", errbuf);
}

static void live_teardown(void)
{
    fx_engine_free(eng);
    eng = NULL;
    nl_config_free(&cfg);
    curl_global_cleanup();
    srv.stop = 1;
    pthread_join(srv.th, NULL);
    close(srv.fd);
}

/* Adds path on the server (or an absolute URL) with user u. */
static void add(const char *path, uintptr_t u, const char *etag)
{
    char url[256];
    fx_request req = {.url = url, .kind = FX_KIND_ARTICLE, .delay_ms = -1, .etag = etag};
    snprintf(url, sizeof(url), "%s%s", path[0] == '/' ? base : "", path);
    req.user = (void *)u;
    ck_assert_int_eq(fx_engine_add(eng, &req), 0);
}

static void run_all(void)
{
    ck_assert_int_eq(fx_engine_run(eng, 20000), 0);
}

START_TEST(test_redirect_chain)
{
    char want[128];
    add("/hop/3", 1, NULL);
    run_all();
    ck_assert_int_eq(n_got, 1);
    ck_assert_str_eq(got[0].code, "");
    ck_assert_int_eq(got[0].status, 200);
    ck_assert_int_eq(got[0].redirects, 3);
    snprintf(want, sizeof(want), "%s/hop/3", base);
    ck_assert_str_eq(got[0].url, want);
    snprintf(want, sizeof(want), "%s/ok", base);
    ck_assert_str_eq(got[0].final_url, want);
    /* each hop requested once, robots.txt once for the host */
    ck_assert_int_eq(hits("/hop/3") + hits("/hop/2") + hits("/hop/1") + hits("/ok"), 4);
    ck_assert_int_eq(hits("/robots.txt"), 1);
}
END_TEST

START_TEST(test_redirect_bound)
{
    add("/loop", 1, NULL);
    run_all();
    ck_assert_int_eq(n_got, 1);
    ck_assert_str_eq(got[0].code, "too_many_redirects");
    ck_assert_int_eq(got[0].status, 301);
    /* max_redirects 3: the first request and 3 redirects followed */
    ck_assert_int_eq(hits("/loop"), 4);
}
END_TEST

START_TEST(test_redirect_robots)
{
    char want[128];
    add("/to-private", 1, NULL);
    run_all();
    ck_assert_int_eq(n_got, 1);
    ck_assert_str_eq(got[0].code, "robots_disallowed");
    snprintf(want, sizeof(want), "redirect 1 to %s/private/x", base);
    ck_assert_msg(strstr(got[0].reason, want) != NULL, "%s", got[0].reason);
    ck_assert_int_eq(hits("/to-private"), 1);
    ck_assert_int_eq(hits("/private/x"), 0);
}
END_TEST

START_TEST(test_redirect_scheme)
{
    add("/to-ftp", 1, NULL);
    run_all();
    ck_assert_int_eq(n_got, 1);
    ck_assert_str_eq(got[0].code, "bad_redirect");
}
END_TEST

START_TEST(test_redirect_body_skipped)
{
    /* the redirect's own 5000-byte body is past the 1024-byte cap */
    add("/big-redirect", 1, NULL);
    run_all();
    ck_assert_int_eq(n_got, 1);
    ck_assert_str_eq(got[0].code, "");
    ck_assert_int_eq(got[0].redirects, 1);
    ck_assert_uint_eq(got[0].body_len, strlen("<p>fine</p>"));
}
END_TEST

START_TEST(test_same_url_one_transfer)
{
    int seen[5] = {0};

    add("/slow", 1, NULL);
    add("/slow", 2, NULL);
    add("/slow#frag", 3, NULL); /* normalises to the same URL */
    add("/slow", 4, "\"v1\"");  /* other validators: a transfer of its own */
    ck_assert_uint_eq(fx_engine_pending(eng), 4);
    run_all();
    ck_assert_int_eq(n_got, 4);
    ck_assert_int_eq(hits("/slow"), 2);
    for (int i = 0; i < n_got; i++) {
        ck_assert_str_eq(got[i].code, "");
        ck_assert_uint_lt(got[i].user, 5);
        seen[got[i].user]++;
    }
    ck_assert(seen[1] == 1 && seen[2] == 1 && seen[3] == 1 && seen[4] == 1);
    /* 1 first, then the requests that joined it, in order */
    for (int i = 0; i < n_got; i++) {
        if (got[i].user == 1) {
            ck_assert(!got[i].joined && i + 2 < n_got);
            ck_assert(got[i + 1].user == 2 && got[i + 1].joined);
            ck_assert(got[i + 2].user == 3 && got[i + 2].joined);
        }
    }
    /* once delivered, the URL is fetched again */
    add("/slow", 5, NULL);
    run_all();
    ck_assert_int_eq(n_got, 5);
    ck_assert(!got[4].joined);
    ck_assert_int_eq(hits("/slow"), 3);
}
END_TEST

START_TEST(test_same_url_drained)
{
    add("/slow", 1, NULL);
    add("/slow", 2, NULL);
    fx_engine_drain(eng);
    ck_assert_int_eq(n_got, 2);
    ck_assert_str_eq(got[0].code, "cancelled");
    ck_assert_str_eq(got[1].code, "cancelled");
    ck_assert(got[1].joined);
    ck_assert_uint_eq(fx_engine_pending(eng), 0);
}
END_TEST

/* fx_engine_cancel's match in test_cancel_by_user: the odd users. */
static int odd_user(void *ctx, void *user)
{
    (void)ctx;
    return (uintptr_t)user % 2 == 1;
}

START_TEST(test_cancel_by_user)
{
    int cancelled[4] = {0};

    add("/ok", 1, NULL);
    add("/slow", 2, NULL);
    add("/hop/1", 3, NULL);
    add("/slow", 4, NULL); /* joins 2's transfer */
    /* nothing has started: the odd users' requests are given back now */
    ck_assert_uint_eq(fx_engine_cancel(eng, odd_user, NULL), 2);
    ck_assert_int_eq(n_got, 2);
    for (int i = 0; i < n_got; i++) {
        ck_assert_str_eq(got[i].code, "cancelled");
        ck_assert(got[i].user == 1 || got[i].user == 3);
        cancelled[got[i].user]++;
    }
    ck_assert(cancelled[1] == 1 && cancelled[3] == 1);
    ck_assert_uint_eq(fx_engine_pending(eng), 2);
    /* the others keep their place and are fetched; the given-back ones
     * never reach the server */
    run_all();
    ck_assert_int_eq(n_got, 4);
    ck_assert(got[2].user == 2 && got[3].user == 4 && got[3].joined);
    ck_assert_str_eq(got[2].code, "");
    ck_assert_str_eq(got[3].code, "");
    ck_assert_int_eq(hits("/slow"), 1);
    ck_assert_int_eq(hits("/ok"), 0);
    ck_assert_int_eq(hits("/hop/1"), 0);
    ck_assert_uint_eq(fx_engine_cancel(eng, odd_user, NULL), 0);
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

    tc = tcase_create("live");
    tcase_add_checked_fixture(tc, live_setup, live_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_redirect_chain);
    tcase_add_test(tc, test_redirect_bound);
    tcase_add_test(tc, test_redirect_robots);
    tcase_add_test(tc, test_redirect_scheme);
    tcase_add_test(tc, test_redirect_body_skipped);
    tcase_add_test(tc, test_same_url_one_transfer);
    tcase_add_test(tc, test_cancel_by_user);
    tcase_add_test(tc, test_same_url_drained);
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
