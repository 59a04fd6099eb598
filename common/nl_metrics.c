/* Metrics registry, text exposition and HTTP endpoint (nl_metrics.h). */
#include "nl_metrics.h"

#include "nl_err.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum kind { K_COUNTER, K_GAUGE };

struct nl_series {
    nl_series *next;
    nl_metric *family;
    char **values;      /* sanitised, one per label name */
    _Atomic uint64_t v; /* a counter's count, or a gauge's double (its bits) */
};

struct nl_metric {
    nl_metric *next;
    nl_metrics *reg;
    enum kind kind;
    char *name;
    char *help;
    char *labels[NL_METRICS_MAX_LABELS];
    size_t n_labels;
    size_t max_series, n_series;
    nl_series *head, *tail;
};

struct nl_metrics {
    pthread_mutex_t mu;
    nl_metric *head, *tail;
    nl_health_fn health; /* under mu */
    void *health_arg;
};

/* ---- the registry ------------------------------------------------------ */

nl_metrics *nl_metrics_new(void)
{
    nl_metrics *m = calloc(1, sizeof(*m));

    if (m != NULL && pthread_mutex_init(&m->mu, NULL) != 0) {
        free(m);
        m = NULL;
    }
    return m;
}

static void series_free(nl_series *s)
{
    if (s == NULL) {
        return;
    }
    for (size_t k = 0; s->values != NULL && k < s->family->n_labels; k++) {
        free(s->values[k]);
    }
    free(s->values);
    free(s);
}

static void family_free(nl_metric *f)
{
    nl_series *s = f->head;

    while (s != NULL) {
        nl_series *next = s->next;
        series_free(s);
        s = next;
    }
    for (size_t k = 0; k < f->n_labels; k++) {
        free(f->labels[k]);
    }
    free(f->name);
    free(f->help);
    free(f);
}

void nl_metrics_free(nl_metrics *m)
{
    nl_metric *f;

    if (m == NULL) {
        return;
    }
    f = m->head;
    while (f != NULL) {
        nl_metric *next = f->next;
        family_free(f);
        f = next;
    }
    pthread_mutex_destroy(&m->mu);
    free(m);
}

/* [a-zA-Z_:][a-zA-Z0-9_:]* for metric names; labels the same without ':'
 * and not starting "__" (reserved). */
static int valid_name(const char *s, int label)
{
    if (s == NULL || s[0] == '\0' || (s[0] >= '0' && s[0] <= '9')) {
        return 0;
    }
    if (label && s[0] == '_' && s[1] == '_') {
        return 0;
    }
    for (const char *p = s; *p != '\0'; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || (c == ':' && !label))) {
            return 0;
        }
    }
    return 1;
}

static nl_metric *declare(nl_metrics *m, enum kind kind, const char *name, const char *help,
                          size_t n_labels, const char *const *labels, size_t max_series)
{
    nl_metric *f;

    if (m == NULL || !valid_name(name, 0) || n_labels > NL_METRICS_MAX_LABELS ||
        (n_labels > 0 && labels == NULL)) {
        return NULL;
    }
    for (size_t k = 0; k < n_labels; k++) {
        if (!valid_name(labels[k], 1)) {
            return NULL;
        }
    }
    pthread_mutex_lock(&m->mu);
    for (f = m->head; f != NULL; f = f->next) {
        if (strcmp(f->name, name) == 0) {
            int same = f->kind == kind && f->n_labels == n_labels;
            for (size_t k = 0; same && k < n_labels; k++) {
                same = strcmp(f->labels[k], labels[k]) == 0;
            }
            pthread_mutex_unlock(&m->mu);
            return same ? f : NULL;
        }
    }
    f = calloc(1, sizeof(*f));
    if (f == NULL) {
        goto out;
    }
    f->reg = m;
    f->kind = kind;
    f->max_series = max_series;
    f->name = strdup(name);
    f->help = strdup(help != NULL ? help : "");
    if (f->name == NULL || f->help == NULL) {
        family_free(f);
        f = NULL;
        goto out;
    }
    for (size_t k = 0; k < n_labels; k++) {
        f->labels[k] = strdup(labels[k]);
        if (f->labels[k] == NULL) {
            family_free(f);
            f = NULL;
            goto out;
        }
        f->n_labels++;
    }
    if (m->tail != NULL) {
        m->tail->next = f;
    } else {
        m->head = f;
    }
    m->tail = f;
out:
    pthread_mutex_unlock(&m->mu);
    return f;
}

nl_metric *nl_metrics_counter(nl_metrics *m, const char *name, const char *help, size_t n_labels,
                              const char *const *labels, size_t max_series)
{
    return declare(m, K_COUNTER, name, help, n_labels, labels, max_series);
}

nl_metric *nl_metrics_gauge(nl_metrics *m, const char *name, const char *help, size_t n_labels,
                            const char *const *labels, size_t max_series)
{
    return declare(m, K_GAUGE, name, help, n_labels, labels, max_series);
}

/* The length of the valid UTF-8 character at s (n bytes left), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    uint32_t cp;
    size_t len;

    if (s[0] < 0x80) {
        return 1;
    }
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        len = 2;
        cp = s[0] & 0x1f;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        len = 3;
        cp = s[0] & 0x0f;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        len = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (n < len) {
        return 0;
    }
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xc0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[k] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }
    return len;
}

/* A label value as kept: at most NL_METRICS_LABEL_MAX bytes, valid UTF-8,
 * no control characters but newline (each bad byte becomes U+FFFD).
 * Writes into out[NL_METRICS_LABEL_MAX + 1]. */
static void sanitise(const char *in, char *out)
{
    const unsigned char *s = (const unsigned char *)(in != NULL ? in : "");
    size_t n = strlen((const char *)s), o = 0;

    while (n > 0) {
        size_t len = utf8_len(s, n);
        const char *src = (const char *)s;
        size_t w = len;
        if (len == 0 || (len == 1 && ((s[0] < 0x20 && s[0] != '\n') || s[0] == 0x7f))) {
            src = "\xef\xbf\xbd";
            w = 3;
            len = 1;
        }
        if (o + w > NL_METRICS_LABEL_MAX) {
            break;
        }
        memcpy(out + o, src, w);
        o += w;
        s += len;
        n -= len;
    }
    out[o] = '\0';
}

/* Under the mutex: the series with these (sanitised) values, or NULL. */
static nl_series *find(nl_metric *f, char clean[][NL_METRICS_LABEL_MAX + 1], nl_series **prev)
{
    nl_series *p = NULL;

    for (nl_series *s = f->head; s != NULL; p = s, s = s->next) {
        size_t k = 0;
        while (k < f->n_labels && strcmp(s->values[k], clean[k]) == 0) {
            k++;
        }
        if (k == f->n_labels) {
            if (prev != NULL) {
                *prev = p;
            }
            return s;
        }
    }
    return NULL;
}

nl_series *nl_metric_series(nl_metric *f, const char *const *values)
{
    char clean[NL_METRICS_MAX_LABELS][NL_METRICS_LABEL_MAX + 1];
    nl_series *s;

    if (f == NULL || (f->n_labels > 0 && values == NULL)) {
        return NULL;
    }
    for (size_t k = 0; k < f->n_labels; k++) {
        sanitise(values[k], clean[k]);
    }
    pthread_mutex_lock(&f->reg->mu);
    s = find(f, clean, NULL);
    if (s != NULL || f->n_series >= f->max_series) {
        goto out;
    }
    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        goto out;
    }
    s->family = f;
    s->values = calloc(f->n_labels + 1, sizeof(*s->values));
    if (s->values == NULL) {
        series_free(s);
        s = NULL;
        goto out;
    }
    for (size_t k = 0; k < f->n_labels; k++) {
        s->values[k] = strdup(clean[k]);
        if (s->values[k] == NULL) {
            series_free(s);
            s = NULL;
            goto out;
        }
    }
    atomic_init(&s->v, 0); /* 0 is also the bits of 0.0 */
    if (f->tail != NULL) {
        f->tail->next = s;
    } else {
        f->head = s;
    }
    f->tail = s;
    f->n_series++;
out:
    pthread_mutex_unlock(&f->reg->mu);
    return s;
}

int nl_metric_remove(nl_metric *f, const char *const *values)
{
    char clean[NL_METRICS_MAX_LABELS][NL_METRICS_LABEL_MAX + 1];
    nl_series *s, *prev = NULL;

    if (f == NULL || (f->n_labels > 0 && values == NULL)) {
        return 0;
    }
    for (size_t k = 0; k < f->n_labels; k++) {
        sanitise(values[k], clean[k]);
    }
    pthread_mutex_lock(&f->reg->mu);
    s = find(f, clean, &prev);
    if (s != NULL) {
        if (prev != NULL) {
            prev->next = s->next;
        } else {
            f->head = s->next;
        }
        if (f->tail == s) {
            f->tail = prev;
        }
        f->n_series--;
    }
    pthread_mutex_unlock(&f->reg->mu);
    series_free(s);
    return s != NULL;
}

/* ---- values ------------------------------------------------------------ */

static uint64_t bits_of(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof(b));
    return b;
}

static double double_of(uint64_t b)
{
    double v;
    memcpy(&v, &b, sizeof(v));
    return v;
}

static void gauge_add(nl_series *s, double d)
{
    uint64_t old = atomic_load_explicit(&s->v, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(&s->v, &old, bits_of(double_of(old) + d),
                                                  memory_order_relaxed, memory_order_relaxed)) {
    }
}

void nl_series_add(nl_series *s, uint64_t n)
{
    if (s == NULL) {
        return;
    }
    if (s->family->kind == K_COUNTER) {
        atomic_fetch_add_explicit(&s->v, n, memory_order_relaxed);
    } else {
        gauge_add(s, (double)n);
    }
}

void nl_series_inc(nl_series *s)
{
    nl_series_add(s, 1);
}

void nl_series_sub(nl_series *s, uint64_t n)
{
    if (s != NULL && s->family->kind == K_GAUGE) {
        gauge_add(s, -(double)n);
    }
}

void nl_series_set(nl_series *s, double v)
{
    if (s != NULL && s->family->kind == K_GAUGE) {
        atomic_store_explicit(&s->v, bits_of(v), memory_order_relaxed);
    }
}

double nl_series_value(const nl_series *s)
{
    uint64_t v;

    if (s == NULL) {
        return 0;
    }
    v = atomic_load_explicit(&((nl_series *)s)->v, memory_order_relaxed);
    return s->family->kind == K_COUNTER ? (double)v : double_of(v);
}

/* ---- rendering ----------------------------------------------------------- */

/* Appends s with backslash and newline escaped, and double quote too if
 * quote (label values; HELP text escapes only the first two). */
static int append_escaped(nl_buf *out, const char *s, int quote)
{
    const char *run = s;
    int rc = 0;

    for (const char *p = s; *p != '\0' && rc == 0; p++) {
        const char *esc = NULL;
        if (*p == '\\') {
            esc = "\\\\";
        } else if (*p == '\n') {
            esc = "\\n";
        } else if (*p == '"' && quote) {
            esc = "\\\"";
        }
        if (esc != NULL) {
            rc = nl_buf_append(out, run, (size_t)(p - run));
            if (rc == 0) {
                rc = nl_buf_append(out, esc, 2);
            }
            run = p + 1;
        }
    }
    if (rc == 0) {
        rc = nl_buf_append(out, run, strlen(run));
    }
    return rc;
}

/* A value as the format writes it: Go's ParseFloat reads it back. The
 * shortest of %.15g and %.17g that round-trips. */
static int append_value(nl_buf *out, double v)
{
    char num[40];

    if (isnan(v)) {
        return nl_buf_append(out, "NaN", 3);
    }
    if (isinf(v)) {
        return v > 0 ? nl_buf_append(out, "+Inf", 4) : nl_buf_append(out, "-Inf", 4);
    }
    snprintf(num, sizeof(num), "%.15g", v);
    if (strtod(num, NULL) != v) {
        snprintf(num, sizeof(num), "%.17g", v);
    }
    return nl_buf_append(out, num, strlen(num));
}

static int render_series(nl_buf *out, const nl_metric *f, nl_series *s)
{
    uint64_t v = atomic_load_explicit(&s->v, memory_order_relaxed);
    int rc = nl_buf_append(out, f->name, strlen(f->name));

    for (size_t k = 0; k < f->n_labels && rc == 0; k++) {
        rc = nl_buf_appendf(out, "%s%s=\"", k == 0 ? "{" : ",", f->labels[k]);
        if (rc == 0) {
            rc = append_escaped(out, s->values[k], 1);
        }
        if (rc == 0) {
            rc = nl_buf_append(out, "\"", 1);
        }
    }
    if (rc == 0 && f->n_labels > 0) {
        rc = nl_buf_append(out, "}", 1);
    }
    if (rc == 0) {
        if (f->kind == K_COUNTER) {
            rc = nl_buf_appendf(out, " %llu", (unsigned long long)v);
        } else {
            rc = nl_buf_append(out, " ", 1);
            if (rc == 0) {
                rc = append_value(out, double_of(v));
            }
        }
    }
    if (rc == 0) {
        rc = nl_buf_append(out, "\n", 1);
    }
    return rc;
}

int nl_metrics_render(nl_metrics *m, nl_buf *out)
{
    int rc = 0;

    pthread_mutex_lock(&m->mu);
    for (const nl_metric *f = m->head; f != NULL && rc == 0; f = f->next) {
        rc = nl_buf_appendf(out, "# HELP %s ", f->name);
        if (rc == 0) {
            rc = append_escaped(out, f->help, 0);
        }
        if (rc == 0) {
            rc = nl_buf_appendf(out, "\n# TYPE %s %s\n", f->name,
                                f->kind == K_COUNTER ? "counter" : "gauge");
        }
        for (nl_series *s = f->head; s != NULL && rc == 0; s = s->next) {
            rc = render_series(out, f, s);
        }
    }
    pthread_mutex_unlock(&m->mu);
    if (rc != 0) {
        nl_buf_free(out);
    }
    return rc;
}

/* ---- the HTTP endpoint ------------------------------------------------ */

void nl_metrics_set_health(nl_metrics *m, nl_health_fn fn, void *arg)
{
    if (m == NULL) {
        return;
    }
    pthread_mutex_lock(&m->mu);
    m->health = fn;
    m->health_arg = arg;
    pthread_mutex_unlock(&m->mu);
}

struct nl_metrics_server {
    nl_metrics *m;
    struct MHD_Daemon *mhd;
    int port;
};

/* Splits "host:port" / "[v6]:port" into host[NI_MAXHOST] and port. */
static int split_listen(const char *listen, char *host, long *port, char *errbuf, size_t errlen)
{
    const char *colon, *h = listen;
    size_t hlen;
    char *end;

    if (listen[0] == '[') {
        const char *close = strchr(listen, ']');
        if (close == NULL || close[1] != ':') {
            return nl_errf(errbuf, errlen, NL_EINVAL, "\"%s\" is not [ipv6]:port", listen);
        }
        h = listen + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(listen, ':');
        if (colon == NULL) {
            return nl_errf(errbuf, errlen, NL_EINVAL, "\"%s\" is not host:port", listen);
        }
        hlen = (size_t)(colon - listen);
        if (memchr(listen, ':', hlen) != NULL) {
            return nl_errf(errbuf, errlen, NL_EINVAL,
                           "\"%s\": an IPv6 address goes in brackets, [addr]:port", listen);
        }
    }
    if (hlen == 0 || hlen >= NI_MAXHOST) {
        return nl_errf(errbuf, errlen, NL_EINVAL, "\"%s\": no host (127.0.0.1:9464 is typical)",
                       listen);
    }
    errno = 0;
    *port = strtol(colon + 1, &end, 10);
    if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || errno != 0 || *port > 65535) {
        return nl_errf(errbuf, errlen, NL_EINVAL, "\"%s\": port must be 0..65535", listen);
    }
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    return 0;
}

int nl_metrics_check_listen(const char *listen, char *errbuf, size_t errlen)
{
    char host[NI_MAXHOST];
    long port;

    if (listen == NULL || listen[0] == '\0') {
        return 0;
    }
    return split_listen(listen, host, &port, errbuf, errlen);
}

static enum MHD_Result respond(struct MHD_Connection *conn, unsigned code, const char *text)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret;

    if (r == NULL) {
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    if (code == MHD_HTTP_METHOD_NOT_ALLOWED) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    }
    ret = MHD_queue_response(conn, code, r);
    MHD_destroy_response(r);
    return ret;
}

/* GET/HEAD /healthz: the registry's health check, 404 if it has none. */
static enum MHD_Result health(nl_metrics *m, struct MHD_Connection *conn)
{
    char reason[256] = "";
    struct MHD_Response *r;
    enum MHD_Result ret;
    nl_health_fn fn;
    void *arg;
    size_t len;
    int ok;

    pthread_mutex_lock(&m->mu);
    fn = m->health;
    arg = m->health_arg;
    pthread_mutex_unlock(&m->mu);
    if (fn == NULL) {
        return respond(conn, MHD_HTTP_NOT_FOUND, "not found: no health check here\n");
    }
    ok = fn(arg, reason, sizeof(reason) - 1);
    if (ok) {
        return respond(conn, MHD_HTTP_OK, "ok\n");
    }
    reason[sizeof(reason) - 2] = '\0';
    if (reason[0] == '\0') {
        snprintf(reason, sizeof(reason), "unhealthy");
    }
    len = strlen(reason);
    reason[len++] = '\n';
    r = MHD_create_response_from_buffer(len, reason, MHD_RESPMEM_MUST_COPY);
    if (r == NULL) {
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    ret = MHD_queue_response(conn, MHD_HTTP_SERVICE_UNAVAILABLE, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    nl_metrics_server *srv = cls;
    struct MHD_Response *r;
    enum MHD_Result ret;
    nl_buf page;
    size_t len;
    char *body;

    (void)version;
    (void)upload_data;
    (void)upload_data_size;
    (void)con_cls;
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
        return respond(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
    }
    if (strcmp(url, "/healthz") == 0) {
        return health(srv->m, conn);
    }
    if (strcmp(url, "/metrics") != 0) {
        return respond(conn, MHD_HTTP_NOT_FOUND, "not found: try /metrics\n");
    }
    nl_buf_init(&page, NL_METRICS_RENDER_MAX);
    if (nl_metrics_render(srv->m, &page) != 0) {
        return respond(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot render the metrics\n");
    }
    body = nl_buf_steal(&page, &len);
    r = MHD_create_response_from_buffer(len, body != NULL ? body : "",
                                        body != NULL ? MHD_RESPMEM_MUST_FREE
                                                     : MHD_RESPMEM_PERSISTENT);
    if (r == NULL) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            "text/plain; version=0.0.4; charset=utf-8");
    ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

/* A listening socket on host:port, or -1 with the reason in errbuf. */
static int bind_listen(const char *where, int *family, char *errbuf, size_t errlen)
{
    char host[NI_MAXHOST], portstr[8];
    struct addrinfo hints = {0}, *ai = NULL;
    long port = 0;
    int fd = -1, one = 1, gai;

    if (split_listen(where, host, &port, errbuf, errlen) != 0) {
        return -1;
    }
    snprintf(portstr, sizeof(portstr), "%ld", port);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
    gai = getaddrinfo(host, portstr, &hints, &ai);
    if (gai != 0) {
        nl_errf(errbuf, errlen, NL_EINVAL, "%s: %s", where, gai_strerror(gai));
        return -1;
    }
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        nl_errf(errbuf, errlen, NL_EINVAL, "%s: socket: %s", where, strerror(errno));
        goto out;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 16) != 0) {
        nl_errf(errbuf, errlen, NL_EINVAL, "%s: %s", where, strerror(errno));
        close(fd);
        fd = -1;
        goto out;
    }
    *family = ai->ai_family;
out:
    freeaddrinfo(ai);
    return fd;
}

int nl_metrics_serve(nl_metrics *m, const char *listen, nl_metrics_server **out, char *errbuf,
                     size_t errlen)
{
    nl_metrics_server *srv;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    sigset_t all, old;
    int fd, family = AF_INET;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;

    *out = NULL;
    srv = calloc(1, sizeof(*srv));
    if (srv == NULL) {
        return nl_errf(errbuf, errlen, NL_ENOMEM, "%s: out of memory", listen);
    }
    srv->m = m;
    fd = bind_listen(listen, &family, errbuf, errlen);
    if (fd < 0) {
        free(srv);
        return NL_EINVAL;
    }
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        srv->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                   : ((struct sockaddr_in *)&ss)->sin_port);
    }
    if (family == AF_INET6) {
        flags |= MHD_USE_IPv6;
    }
    /* The server's thread takes no signals: the daemon's handlers run on
     * its own threads, as before metrics. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    srv->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_LISTEN_SOCKET,
                                (MHD_socket)fd, MHD_OPTION_CONNECTION_LIMIT, (unsigned)32,
                                MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_END);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (srv->mhd == NULL) {
        close(fd);
        free(srv);
        return nl_errf(errbuf, errlen, NL_EINVAL, "%s: libmicrohttpd could not start", listen);
    }
    *out = srv;
    return 0;
}

int nl_metrics_server_port(const nl_metrics_server *srv)
{
    return srv != NULL ? srv->port : 0;
}

void nl_metrics_server_stop(nl_metrics_server *srv)
{
    if (srv == NULL) {
        return;
    }
    MHD_stop_daemon(srv->mhd); /* closes the listening socket too */
    free(srv);
}
