/* nl_metrics: the registry, its text rendering (escaping, caps), counters
 * from two threads, and the HTTP endpoint on 127.0.0.1 port 0. */
#include "nl_err.h"
#include "nl_metrics.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static nl_metrics *m;
static char errbuf[256];

static void setup(void)
{
    m = nl_metrics_new();
    ck_assert_ptr_nonnull(m);
}

static void teardown(void)
{
    nl_metrics_free(m);
    m = NULL;
}

/* The rendered page (the caller frees it). */
static char *render(void)
{
    nl_buf b;
    size_t len;

    nl_buf_init(&b, NL_METRICS_RENDER_MAX);
    ck_assert_int_eq(nl_metrics_render(m, &b), 0);
    return nl_buf_steal(&b, &len);
}

START_TEST(test_render)
{
    static const char *const l2[] = {"source", "code"};
    nl_metric *c = nl_metrics_counter(m, "x_total", "Things.", 0, NULL, 1);
    nl_metric *g = nl_metrics_gauge(m, "x_ts_seconds", "When.", 2, l2, 10);
    const char *v[2] = {"bbc", "ok"};
    nl_series *sc = nl_metric_series(c, NULL);
    nl_series *sg = nl_metric_series(g, v);
    char *page;

    ck_assert_ptr_nonnull(sc);
    ck_assert_ptr_nonnull(sg);
    nl_series_add(sc, 41);
    nl_series_inc(sc);
    nl_series_set(sg, 1764624332.123);
    page = render();
    ck_assert_str_eq(page, "# HELP x_total Things.\n"
                           "# TYPE x_total counter\n"
                           "x_total 42\n"
                           "# HELP x_ts_seconds When.\n"
                           "# TYPE x_ts_seconds gauge\n"
                           "x_ts_seconds{source=\"bbc\",code=\"ok\"} 1764624332.123\n");
    free(page);

    /* the same labels: the same series; a set on a counter is ignored */
    ck_assert_ptr_eq(nl_metric_series(g, v), sg);
    nl_series_set(sc, 7);
    ck_assert(nl_series_value(sc) == 42);
    nl_series_set(sg, 1.0 / 0.0);
    page = render();
    ck_assert_ptr_nonnull(strstr(page, "} +Inf\n"));
    free(page);
    nl_series_set(sg, 0.0 / 0.0);
    page = render();
    ck_assert_ptr_nonnull(strstr(page, "} NaN\n"));
    free(page);

    /* NULL handles do nothing */
    nl_series_inc(NULL);
    nl_series_set(NULL, 1);
    ck_assert_ptr_null(nl_metric_series(NULL, v));
}
END_TEST

START_TEST(test_declare)
{
    static const char *const l1[] = {"source"};
    static const char *const bad[] = {"__reserved"};
    static const char *const dash[] = {"a-b"};
    static const char *const many[9] = {"a", "b", "c", "d", "e", "f", "g", "h", "i"};
    nl_metric *f = nl_metrics_counter(m, "a_total", "A.", 1, l1, 10);

    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_eq(nl_metrics_counter(m, "a_total", "again", 1, l1, 10), f);
    ck_assert_ptr_null(nl_metrics_gauge(m, "a_total", "A.", 1, l1, 10));    /* other type */
    ck_assert_ptr_null(nl_metrics_counter(m, "a_total", "A.", 0, NULL, 1)); /* other labels */
    ck_assert_ptr_null(nl_metrics_counter(m, "9bad", "", 0, NULL, 1));
    ck_assert_ptr_null(nl_metrics_counter(m, "bad name", "", 0, NULL, 1));
    ck_assert_ptr_null(nl_metrics_counter(m, "", "", 0, NULL, 1));
    ck_assert_ptr_null(nl_metrics_counter(m, "b", "", 1, bad, 1));
    ck_assert_ptr_null(nl_metrics_counter(m, "b", "", 1, dash, 1));
    ck_assert_ptr_null(nl_metrics_counter(m, "b", "", 9, many, 1));
    ck_assert_ptr_nonnull(nl_metrics_counter(m, "ns:b", "", 8, many, 1));
}
END_TEST

START_TEST(test_escaping)
{
    static const char *const l1[] = {"source"};
    nl_metric *f = nl_metrics_gauge(m, "h", "Help with \\ and\nnewline \"kept\".", 1, l1, 100);
    char longv[10000], cjk[400], *page;
    const char *v;
    nl_series *s;

    v = "a\"b\\c\nd";
    nl_series_set(nl_metric_series(f, &v), 1);
    v = "Zürich 東京 🦀";
    nl_series_set(nl_metric_series(f, &v), 2);
    v = "bad\xff\xc3(utf8\xed\xa0\x80";
    nl_series_set(nl_metric_series(f, &v), 3);
    v = "ctl\r\t\x01\x7f.";
    nl_series_set(nl_metric_series(f, &v), 4);
    memset(longv, 'x', sizeof(longv) - 1);
    longv[sizeof(longv) - 1] = '\0';
    v = longv;
    s = nl_metric_series(f, &v);
    nl_series_set(s, 5);
    /* the cut falls on a character boundary: 42 three-byte characters */
    cjk[0] = '\0';
    for (int k = 0; k < 100; k++) {
        strcat(cjk, "東");
    }
    v = cjk;
    nl_series_set(nl_metric_series(f, &v), 6);
    /* a value differing only past the cut is the same series */
    longv[5000] = 'y';
    v = longv;
    ck_assert_ptr_eq(nl_metric_series(f, &v), s);

    page = render();
    ck_assert_ptr_nonnull(strstr(page, "# HELP h Help with \\\\ and\\nnewline \"kept\".\n"));
    ck_assert_ptr_nonnull(strstr(page, "h{source=\"a\\\"b\\\\c\\nd\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(page, "h{source=\"Zürich 東京 🦀\"} 2\n"));
    ck_assert_ptr_nonnull(strstr(page, "h{source=\"bad\xef\xbf\xbd\xef\xbf\xbd(utf8\xef\xbf\xbd"
                                       "\xef\xbf\xbd\xef\xbf\xbd\"} 3\n"));
    ck_assert_ptr_nonnull(
        strstr(page, "h{source=\"ctl\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd.\"} 4\n"));
    {
        char want[200] = "h{source=\"";
        memset(want + strlen(want), 'x', NL_METRICS_LABEL_MAX);
        want[10 + NL_METRICS_LABEL_MAX] = '\0';
        strcat(want, "\"} 5\n");
        ck_assert_ptr_nonnull(strstr(page, want));
    }
    {
        char want[300] = "h{source=\"";
        for (int k = 0; k < NL_METRICS_LABEL_MAX / 3; k++) {
            strcat(want, "東");
        }
        strcat(want, "\"} 6\n");
        ck_assert_ptr_nonnull(strstr(page, want));
    }
    /* every line is a comment or name{...} value: no raw newline leaked */
    for (char *line = strtok(page, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        ck_assert_msg(line[0] == '#' || strncmp(line, "h{source=\"", 10) == 0, "line: %s", line);
    }
    free(page);
}
END_TEST

START_TEST(test_series_cap)
{
    static const char *const l1[] = {"source"};
    nl_metric *f = nl_metrics_counter(m, "c_total", "", 1, l1, 3);
    const char *v[1];
    char name[32];

    for (int k = 0; k < 3; k++) {
        snprintf(name, sizeof(name), "s%d", k);
        v[0] = name;
        ck_assert_ptr_nonnull(nl_metric_series(f, v));
    }
    for (int k = 3; k < 1000; k++) {
        snprintf(name, sizeof(name), "s%d", k);
        v[0] = name;
        ck_assert_ptr_null(nl_metric_series(f, v));
    }
    v[0] = "s1"; /* existing ones are still found */
    ck_assert_ptr_nonnull(nl_metric_series(f, v));
    ck_assert_int_eq(nl_metric_remove(f, v), 1);
    ck_assert_int_eq(nl_metric_remove(f, v), 0);
    v[0] = "new";
    ck_assert_ptr_nonnull(nl_metric_series(f, v));
    v[0] = "other";
    ck_assert_ptr_null(nl_metric_series(f, v));
    {
        char *page = render();
        ck_assert_ptr_nonnull(strstr(page, "c_total{source=\"s0\"} 0\nc_total{source=\"s2\"} 0\n"
                                           "c_total{source=\"new\"} 0\n"));
        ck_assert_ptr_null(strstr(page, "s1"));
        free(page);
    }
}
END_TEST

#define PER_THREAD 500000

struct worker {
    nl_metric *c, *g;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    const char *v = "shared";
    nl_series *c = nl_metric_series(w->c, &v);
    nl_series *g = nl_metric_series(w->g, NULL);

    for (int k = 0; k < PER_THREAD; k++) {
        nl_series_inc(c);
        nl_series_inc(g);
        nl_series_sub(g, 1);
        nl_series_inc(g);
    }
    return NULL;
}

/* Two threads on one counter and one gauge, each finding the series
 * itself (created by whichever comes first), while a third renders. */
START_TEST(test_threads)
{
    static const char *const l1[] = {"source"};
    struct worker w = {nl_metrics_counter(m, "t_total", "", 1, l1, 1),
                       nl_metrics_gauge(m, "t_gauge", "", 0, NULL, 1)};
    pthread_t a, b;
    const char *v = "shared";
    char *page;

    ck_assert_int_eq(pthread_create(&a, NULL, work, &w), 0);
    ck_assert_int_eq(pthread_create(&b, NULL, work, &w), 0);
    for (int k = 0; k < 50; k++) {
        free(render());
    }
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    ck_assert(nl_series_value(nl_metric_series(w.c, &v)) == 2.0 * PER_THREAD);
    ck_assert(nl_series_value(nl_metric_series(w.g, NULL)) == 2.0 * PER_THREAD);
    page = render();
    ck_assert_ptr_nonnull(strstr(page, "t_total{source=\"shared\"} 1000000\n"));
    ck_assert_ptr_nonnull(strstr(page, "t_gauge 1000000\n"));
    free(page);
}
END_TEST

START_TEST(test_render_cap)
{
    static const char *const l1[] = {"source"};
    nl_metric *f = nl_metrics_counter(m, "big_total", "", 1, l1, 100);
    char name[64];
    nl_buf b;

    for (int k = 0; k < 100; k++) {
        const char *v = name;
        snprintf(name, sizeof(name), "source-%d", k);
        nl_series_inc(nl_metric_series(f, &v));
    }
    nl_buf_init(&b, 256);
    ck_assert_int_eq(nl_metrics_render(m, &b), NL_ETOOBIG);
    ck_assert_uint_eq(b.len, 0);
    nl_buf_free(&b);
}
END_TEST

START_TEST(test_check_listen)
{
    ck_assert_int_eq(nl_metrics_check_listen("", errbuf, sizeof(errbuf)), 0);
    ck_assert_int_eq(nl_metrics_check_listen("127.0.0.1:9464", errbuf, sizeof(errbuf)), 0);
    ck_assert_int_eq(nl_metrics_check_listen("localhost:0", errbuf, sizeof(errbuf)), 0);
    ck_assert_int_eq(nl_metrics_check_listen("[::1]:9464", errbuf, sizeof(errbuf)), 0);
    ck_assert_int_eq(nl_metrics_check_listen("9464", errbuf, sizeof(errbuf)), NL_EINVAL);
    ck_assert_int_eq(nl_metrics_check_listen(":9464", errbuf, sizeof(errbuf)), NL_EINVAL);
    ck_assert_int_eq(nl_metrics_check_listen("127.0.0.1:", errbuf, sizeof(errbuf)), NL_EINVAL);
    ck_assert_int_eq(nl_metrics_check_listen("127.0.0.1:65536", errbuf, sizeof(errbuf)), NL_EINVAL);
    ck_assert_int_eq(nl_metrics_check_listen("127.0.0.1:-1", errbuf, sizeof(errbuf)), NL_EINVAL);
    ck_assert_int_eq(nl_metrics_check_listen("127.0.0.1:80x", errbuf, sizeof(errbuf)), NL_EINVAL);
    ck_assert_int_eq(nl_metrics_check_listen("::1:80", errbuf, sizeof(errbuf)), NL_EINVAL);
    ck_assert_int_eq(nl_metrics_check_listen("[::1]80", errbuf, sizeof(errbuf)), NL_EINVAL);
}
END_TEST

/* One HTTP/1.0 request to 127.0.0.1:port; the response into resp. */
static void http(int port, const char *req, char *resp, size_t size)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    size_t got = 0;
    ssize_t n;

    ck_assert_int_ge(fd, 0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
    while (got < size - 1 && (n = read(fd, resp + got, size - 1 - got)) > 0) {
        got += (size_t)n;
    }
    resp[got] = '\0';
    close(fd);
}

/* A health check whose answer the test sets. */
static int test_healthy;
static int test_health(void *arg, char *reason, size_t len)
{
    ck_assert_ptr_eq(arg, &test_healthy);
    if (!test_healthy) {
        snprintf(reason, len, "stopping");
    }
    return test_healthy;
}

START_TEST(test_serve_health)
{
    nl_metrics_server *srv = NULL;
    char resp[8192];
    int port;

    ck_assert_int_eq(nl_metrics_serve(m, "127.0.0.1:0", &srv, errbuf, sizeof(errbuf)), 0);
    port = nl_metrics_server_port(srv);

    /* no health check set: /healthz is not there */
    http(port, "GET /healthz HTTP/1.0\r\n\r\n", resp, sizeof(resp));
    ck_assert_ptr_nonnull(strstr(resp, " 404 "));

    /* set while serving */
    test_healthy = 1;
    nl_metrics_set_health(m, test_health, &test_healthy);
    http(port, "GET /healthz HTTP/1.0\r\n\r\n", resp, sizeof(resp));
    ck_assert_msg(strncmp(resp + 9, "200", 3) == 0, "%s", resp);
    ck_assert_ptr_nonnull(strstr(resp, "\r\n\r\nok\n"));
    ck_assert_int_eq(resp[strlen(resp) - 1], '\n');
    http(port, "HEAD /healthz HTTP/1.0\r\n\r\n", resp, sizeof(resp));
    ck_assert_msg(strncmp(resp + 9, "200", 3) == 0, "%s", resp);
    ck_assert_ptr_null(strstr(resp, "\r\n\r\nok"));

    test_healthy = 0;
    http(port, "GET /healthz HTTP/1.0\r\n\r\n", resp, sizeof(resp));
    ck_assert_msg(strncmp(resp + 9, "503", 3) == 0, "%s", resp);
    ck_assert_ptr_nonnull(strstr(resp, "\r\n\r\nstopping\n"));
    http(port, "HEAD /healthz HTTP/1.0\r\n\r\n", resp, sizeof(resp));
    ck_assert_msg(strncmp(resp + 9, "503", 3) == 0, "%s", resp);
    http(port, "POST /healthz HTTP/1.0\r\nContent-Length: 0\r\n\r\n", resp, sizeof(resp));
    ck_assert_ptr_nonnull(strstr(resp, " 405 "));
    http(port, "GET /healthz/x HTTP/1.0\r\n\r\n", resp, sizeof(resp));
    ck_assert_ptr_nonnull(strstr(resp, " 404 "));

    /* removed again */
    nl_metrics_set_health(m, NULL, NULL);
    http(port, "GET /healthz HTTP/1.0\r\n\r\n", resp, sizeof(resp));
    ck_assert_ptr_nonnull(strstr(resp, " 404 "));
    nl_metrics_set_health(NULL, test_health, NULL); /* no registry: nothing */
    nl_metrics_server_stop(srv);
}
END_TEST

START_TEST(test_serve)
{
    nl_metrics_server *srv = NULL, *second = NULL;
    char resp[8192], addr[64];
    int port;

    nl_series_add(nl_metric_series(nl_metrics_counter(m, "served_total", "S.", 0, NULL, 1), NULL),
                  3);
    ck_assert_int_eq(nl_metrics_serve(m, "127.0.0.1:0", &srv, errbuf, sizeof(errbuf)), 0);
    port = nl_metrics_server_port(srv);
    ck_assert_int_gt(port, 0);

    http(port, "GET /metrics HTTP/1.0\r\n\r\n", resp, sizeof(resp));
    ck_assert_msg(strncmp(resp, "HTTP/1.0 200", 12) == 0 || strncmp(resp, "HTTP/1.1 200", 12) == 0,
                  "%s", resp);
    ck_assert_ptr_nonnull(strstr(resp, "text/plain; version=0.0.4"));
    ck_assert_ptr_nonnull(strstr(resp, "\r\n\r\n# HELP served_total S.\n"));
    ck_assert_ptr_nonnull(strstr(resp, "\nserved_total 3\n"));

    http(port, "GET /other HTTP/1.0\r\n\r\n", resp, sizeof(resp));
    ck_assert_ptr_nonnull(strstr(resp, " 404 "));
    http(port, "GET /metrics/x HTTP/1.0\r\n\r\n", resp, sizeof(resp));
    ck_assert_ptr_nonnull(strstr(resp, " 404 "));
    http(port, "POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n", resp, sizeof(resp));
    ck_assert_ptr_nonnull(strstr(resp, " 405 "));
    ck_assert_ptr_nonnull(strstr(resp, "Allow: GET, HEAD"));
    http(port, "HEAD /metrics HTTP/1.0\r\n\r\n", resp, sizeof(resp));
    ck_assert_ptr_nonnull(strstr(resp, " 200 "));
    ck_assert_ptr_null(strstr(resp, "served_total 3"));

    /* the port in use: an error naming the address */
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
    ck_assert_int_eq(nl_metrics_serve(m, addr, &second, errbuf, sizeof(errbuf)), NL_EINVAL);
    ck_assert_ptr_null(second);
    ck_assert_ptr_nonnull(strstr(errbuf, addr));
    ck_assert_ptr_nonnull(strstr(errbuf, "in use"));
    ck_assert_int_eq(nl_metrics_serve(m, "nohost.invalid:0", &second, errbuf, sizeof(errbuf)),
                     NL_EINVAL);
    ck_assert_int_eq(nl_metrics_serve(m, "bad", &second, errbuf, sizeof(errbuf)), NL_EINVAL);

    nl_metrics_server_stop(srv);
    nl_metrics_server_stop(NULL);
    /* stopped: the port is closed */
    {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ck_assert_int_ne(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        close(fd);
    }
}
END_TEST

int main(void)
{
    Suite *su = suite_create("metrics");
    TCase *tc = tcase_create("metrics");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_render);
    tcase_add_test(tc, test_declare);
    tcase_add_test(tc, test_escaping);
    tcase_add_test(tc, test_series_cap);
    tcase_add_test(tc, test_threads);
    tcase_add_test(tc, test_render_cap);
    tcase_add_test(tc, test_check_listen);
    tcase_add_test(tc, test_serve);
    tcase_add_test(tc, test_serve_health);
    suite_add_tcase(su, tc);
    sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
