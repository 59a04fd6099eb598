#include "engine.h"

#include "nl_buf.h"
#include "nl_err.h"
#include "nl_log.h"
#include "nl_metrics.h"
#include "nl_record.h"
#include "nl_stage.h"
#include "nl_text.h"
#include "robots.h"
#include "url.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#define HOST_BUCKETS 4096
/* The index of requests queued or in flight, by normalised URL. */
#define URL_BUCKETS 4096
/* A robots.txt that could not be fetched (5xx, unreachable) is retried
 * after this long at most, whatever fetcher.robots_ttl_s says. */
#define ROBOTS_FAIL_TTL_MS (5 * 60 * 1000)
/* Longest wait in one curl_multi_poll, so nl_stop is seen promptly. */
#define POLL_MAX_MS 200

enum { ROBOTS_NONE, ROBOTS_FETCHING, ROBOTS_READY };

typedef struct host host;

/* A request for a URL already queued or in flight: answered with that
 * transfer's result (fx_engine_add). */
typedef struct joiner {
    struct joiner *next;
    void *user;
    fx_kind kind;
    char *source, *prev_hash;
} joiner;

typedef struct xfer {
    struct xfer *next;          /* in its host's queue, or the retry list */
    struct xfer *aprev, *anext; /* in the engine's in-flight list */
    struct xfer *next_url;      /* in the engine's URL index */
    fx_engine *eng;
    host *host;    /* of url: the host of the current hop */
    char *req_url; /* normalised, as requested; NULL until normalised, and for robots.txt */
    char *url;     /* the current hop: req_url, or where the last redirect led */
    int redirects; /* redirects followed so far */
    int indexed;   /* in the URL index */
    joiner *joiners;
    fx_kind kind;
    char *source, *user_agent, *etag, *last_modified, *prev_hash;
    int64_t delay_ms;
    void *user;
    int is_robots;      /* the engine's own robots.txt fetch for host */
    int attempts;       /* of the current hop */
    int64_t not_before; /* monotonic ms */

    /* The current attempt. */
    CURL *easy;
    struct curl_slist *hdrs;
    nl_buf body;
    size_t cap;
    int too_big;
    int refused; /* the address guard refused a socket */
    char refused_addr[INET6_ADDRSTRLEN];
    char *curl_err; /* libcurl's detail of a failure (CURL_ERROR_SIZE, from the first start) */
} xfer;

struct host {
    host *next_all;    /* engine's list of hosts */
    host *next_bucket; /* hash chain */
    char *key;         /* "http://example.org:8080" */
    char *robots_url;
    int in_flight;
    int64_t next_start; /* monotonic ms */
    int robots_state;
    fx_robots *robots;
    int64_t robots_expires; /* monotonic ms */
    long robots_status;
    char robots_refused[INET6_ADDRSTRLEN]; /* the guard refused robots.txt's address */
    char robots_tls[CURL_ERROR_SIZE];      /* robots.txt's TLS verification failure */
    int64_t crawl_delay_ms;
    xfer *qhead, *qtail;
};

/* The fixed values of newsline_fetcher_fetches_total's code label (an
 * http_status failure is "http_<status>" instead, 100..599, else
 * "http_other"): the engine's failure codes (engine.h), "ok" and
 * "not_modified"; "other" for a code not listed here. */
static const char *const metric_codes[] = {
    "ok",
    "not_modified",
    "bad_url",
    "robots_disallowed",
    "private_address",
    "too_many_redirects",
    "bad_redirect",
    "body_too_large",
    "timeout",
    "tls_verify_failed",
    "fetch_failed",
    "cancelled",
    "other",
};
#define N_METRIC_CODES (sizeof(metric_codes) / sizeof(metric_codes[0]))

/* Per-source health: logged after each result of the source. */
typedef struct health {
    struct health *next;
    char *source;
    int64_t last_success_ms; /* wall clock, 0 if never */
    int64_t consecutive_failures;
    char last_error[128];
} health;

struct fx_engine {
    const nl_config *cfg;
    fx_done_fn done;
    void *ctx;
    CURLM *multi;
    CURL **pool; /* idle easy handles for reuse */
    size_t n_pool;
    host *buckets[HOST_BUCKETS];
    host *hosts;
    xfer *urls[URL_BUCKETS]; /* requests queued, waiting or in flight, by req_url */
    xfer *retries;           /* waiting for not_before, unordered */
    xfer *active;            /* in flight */
    health *health;
    fx_cidrs allow;
    size_t queued, in_flight, n_retries;
    size_t n_joined; /* requests answered with another request's transfer */
    size_t max_body;
    uint64_t rng;
    size_t n_delivered; /* results handed to done so far */
    int draining;       /* fx_engine_drain: start nothing more, retry nothing */
    /* fx_engine_set_metrics: NULL when off (every update is then a no-op) */
    nl_metric *m_fetches;                  /* {kind, code} */
    nl_series *m_fetch[4][N_METRIC_CODES]; /* its series for the fixed codes, made on first use */
    nl_series *m_in_flight;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *fx_kind_name(fx_kind kind)
{
    switch (kind) {
    case FX_KIND_ARTICLE:
        return "article";
    case FX_KIND_FEED:
        return "feed";
    case FX_KIND_SITEMAP:
        return "sitemap";
    case FX_KIND_ROBOTS:
        return "robots";
    }
    return "article";
}

/* ---- Pure parts ---- */

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s != 0 ? *s : 0x9e3779b97f4a7c15ull;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

int64_t fx_backoff_ms(int attempt, int64_t base_ms, int64_t max_ms, uint64_t *rng)
{
    int64_t d = base_ms;
    if (attempt < 1) {
        attempt = 1;
    }
    for (int i = 1; i < attempt && d < max_ms; i++) {
        d *= 2;
    }
    if (d > max_ms) {
        d = max_ms;
    }
    if (d <= 0) {
        return 0;
    }
    /* "Equal jitter": never less than half the step, so retries still back
     * off, and spread enough that many clients do not retry in step. */
    return d / 2 + (int64_t)(xorshift(rng) % (uint64_t)(d - d / 2 + 1));
}

int fx_retry_after_ms(const char *value, int64_t now_s, int64_t *out_ms)
{
    const char *p = value;
    size_t n;

    *out_ms = 0;
    if (value == NULL) {
        return NL_EINVAL;
    }
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    n = strlen(p);
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r')) {
        n--;
    }
    if (n == 0) {
        return NL_EINVAL;
    }
    if (isdigit((unsigned char)p[0])) {
        int64_t s = 0;
        for (size_t i = 0; i < n; i++) {
            if (!isdigit((unsigned char)p[i])) {
                return NL_EINVAL;
            }
            if (s < 100000000) { /* saturate past ~3 years */
                s = s * 10 + (p[i] - '0');
            }
        }
        *out_ms = s * 1000;
        return 0;
    }
    {
        char buf[64];
        time_t t;
        if (n >= sizeof(buf)) {
            return NL_EINVAL;
        }
        memcpy(buf, p, n);
        buf[n] = '\0';
        /* HTTP-date requires a day name and "GMT"; curl_getdate also takes
         * the obsolete RFC 850 and asctime forms, as RFC 9110 asks. */
        if (!isalpha((unsigned char)buf[0])) {
            return NL_EINVAL;
        }
        t = curl_getdate(buf, NULL);
        if (t == (time_t)-1) {
            return NL_EINVAL;
        }
        *out_ms = (int64_t)t > now_s ? ((int64_t)t - now_s) * 1000 : 0;
        return 0;
    }
}

int fx_retryable(int curl_code, long status)
{
    switch ((CURLcode)curl_code) {
    case CURLE_OK:
        return status == 429 || (status >= 500 && status <= 599);
    case CURLE_COULDNT_RESOLVE_HOST: /* often transient: resolver hiccups */
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return 1;
    default:
        return 0;
    }
}

void fx_cidrs_free(fx_cidrs *c)
{
    free(c->v);
    c->v = NULL;
    c->n = 0;
}

int fx_cidrs_parse(const char *s, fx_cidrs *out, char *errbuf, size_t errlen)
{
    out->v = NULL;
    out->n = 0;
    while (s != NULL && *s != '\0') {
        char tok[80], *slash;
        size_t n = 0;
        fx_cidr c;
        int maxp;
        fx_cidr *v;

        while (*s == ',' || isspace((unsigned char)*s)) {
            s++;
        }
        if (*s == '\0') {
            break;
        }
        while (s[n] != '\0' && s[n] != ',' && !isspace((unsigned char)s[n])) {
            n++;
        }
        if (n >= sizeof(tok)) {
            fx_cidrs_free(out);
            return nl_errf(errbuf, errlen, NL_EINVAL, "\"%.40s...\" is not a CIDR block", s);
        }
        memcpy(tok, s, n);
        tok[n] = '\0';
        s += n;
        memset(&c, 0, sizeof(c));
        slash = strchr(tok, '/');
        if (slash != NULL) {
            *slash = '\0';
        }
        if (inet_pton(AF_INET, tok, c.addr) == 1) {
            c.family = AF_INET;
            maxp = 32;
        } else if (inet_pton(AF_INET6, tok, c.addr) == 1) {
            c.family = AF_INET6;
            maxp = 128;
        } else {
            fx_cidrs_free(out);
            return nl_errf(errbuf, errlen, NL_EINVAL, "\"%s\" is not an IP address", tok);
        }
        c.prefix = maxp;
        if (slash != NULL) {
            char *end;
            long p;
            errno = 0;
            p = strtol(slash + 1, &end, 10);
            if (slash[1] == '\0' || *end != '\0' || errno != 0 || p < 0 || p > maxp) {
                fx_cidrs_free(out);
                return nl_errf(errbuf, errlen, NL_EINVAL, "\"%s/%s\": bad prefix length", tok,
                               slash + 1);
            }
            c.prefix = (int)p;
        }
        v = realloc(out->v, (out->n + 1) * sizeof(*v));
        if (v == NULL) {
            fx_cidrs_free(out);
            return nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
        }
        out->v = v;
        out->v[out->n++] = c;
    }
    return 0;
}

static int prefix_eq(const unsigned char *a, const unsigned char *b, int bits)
{
    int full = bits / 8, rest = bits % 8;
    if (memcmp(a, b, (size_t)full) != 0) {
        return 0;
    }
    if (rest == 0) {
        return 1;
    }
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (a[full] & mask) == (b[full] & mask);
}

/* The address bytes of sa (4 or 16) and its family; 0 if neither. */
static int sa_bytes(const struct sockaddr *sa, unsigned char out[16])
{
    if (sa->sa_family == AF_INET) {
        memcpy(out, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
        return AF_INET;
    }
    if (sa->sa_family == AF_INET6) {
        memcpy(out, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
        return AF_INET6;
    }
    return 0;
}

int fx_cidrs_match(const fx_cidrs *c, const struct sockaddr *sa)
{
    unsigned char a[16], v4[4];
    int fam = sa_bytes(sa, a);
    int mapped = 0;

    /* ::ffff:a.b.c.d is the IPv4 address for an IPv4 block. */
    if (fam == AF_INET6 && memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
        memcpy(v4, a + 12, 4);
        mapped = 1;
    }
    for (size_t i = 0; i < c->n; i++) {
        if (c->v[i].family == fam && prefix_eq(a, c->v[i].addr, c->v[i].prefix)) {
            return 1;
        }
        if (mapped && c->v[i].family == AF_INET && prefix_eq(v4, c->v[i].addr, c->v[i].prefix)) {
            return 1;
        }
    }
    return 0;
}

static int v4_public(const unsigned char *a)
{
    static const struct {
        unsigned char net[4];
        int bits;
    } bad[] = {
        {{0, 0, 0, 0}, 8},      {{10, 0, 0, 0}, 8},     {{100, 64, 0, 0}, 10},
        {{127, 0, 0, 0}, 8},    {{169, 254, 0, 0}, 16}, {{172, 16, 0, 0}, 12},
        {{192, 0, 0, 0}, 24},   {{192, 0, 2, 0}, 24},   {{192, 88, 99, 0}, 24},
        {{192, 168, 0, 0}, 16}, {{198, 18, 0, 0}, 15},  {{198, 51, 100, 0}, 24},
        {{203, 0, 113, 0}, 24}, {{224, 0, 0, 0}, 4},    {{240, 0, 0, 0}, 4},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (prefix_eq(a, bad[i].net, bad[i].bits)) {
            return 0;
        }
    }
    return 1;
}

int fx_addr_public(const struct sockaddr *sa)
{
    unsigned char a[16];
    int fam = sa_bytes(sa, a);
    static const struct {
        unsigned char net[16];
        int bits;
    } bad6[] = {
        {{0}, 96},                      /* ::/96: unspecified, loopback, IPv4-compatible */
        {{0x01, 0x00}, 64},             /* 100::/64 discard */
        {{0x20, 0x01, 0x00, 0x00}, 23}, /* 2001::/23 IETF (Teredo, ORCHID...) */
        {{0x20, 0x01, 0x0d, 0xb8}, 32}, /* documentation */
        {{0xfc}, 7},                    /* unique local */
        {{0xfe, 0x80}, 10},             /* link-local */
        {{0xfe, 0xc0}, 10},             /* site-local (deprecated) */
        {{0xff}, 8},                    /* multicast */
    };

    if (fam == AF_INET) {
        return v4_public(a);
    }
    if (fam != AF_INET6) {
        return 0;
    }
    /* ::ffff:0:0/96 mapped and 64:ff9b::/96 NAT64: the IPv4 address inside. */
    if (memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0 ||
        memcmp(a, "\x00\x64\xff\x9b\0\0\0\0\0\0\0\0", 12) == 0) {
        return v4_public(a + 12);
    }
    /* 2002::/16 6to4: the IPv4 address in bits 16..47. */
    if (a[0] == 0x20 && a[1] == 0x02) {
        return v4_public(a + 2);
    }
    for (size_t i = 0; i < sizeof(bad6) / sizeof(bad6[0]); i++) {
        if (prefix_eq(a, bad6[i].net, bad6[i].bits)) {
            return 0;
        }
    }
    return 1;
}

/* ---- Hosts ---- */

static size_t host_hash(const char *s)
{
    return (size_t)(nl_hash64(s, strlen(s)) % HOST_BUCKETS);
}

/* The host of a normalised URL: its robots.txt URL minus "/robots.txt"
 * is its origin; the robots URL is kept for the fetch. */
static host *host_get(fx_engine *e, const char *url)
{
    char *robots = NULL, *key;
    size_t n, b;
    host *h;

    if (fx_robots_url(url, &robots, NULL, 0) != 0) {
        return NULL;
    }
    n = strlen(robots);
    if (n < 11 || strcmp(robots + n - 11, "/robots.txt") != 0) {
        free(robots);
        return NULL;
    }
    key = strndup(robots, n - 11);
    if (key == NULL) {
        free(robots);
        return NULL;
    }
    b = host_hash(key);
    for (h = e->buckets[b]; h != NULL; h = h->next_bucket) {
        if (strcmp(h->key, key) == 0) {
            free(key);
            free(robots);
            return h;
        }
    }
    h = calloc(1, sizeof(*h));
    if (h == NULL) {
        free(key);
        free(robots);
        return NULL;
    }
    h->key = key;
    h->robots_url = robots;
    h->next_bucket = e->buckets[b];
    e->buckets[b] = h;
    h->next_all = e->hosts;
    e->hosts = h;
    return h;
}

static void host_push_back(host *h, xfer *x)
{
    x->next = NULL;
    if (h->qtail != NULL) {
        h->qtail->next = x;
    } else {
        h->qhead = x;
    }
    h->qtail = x;
}

/* In front of the queue, but behind a robots.txt fetch waiting there: the
 * requests behind that fetch wait for it (start_ready), so it must stay
 * first or the host would stall. */
static void host_push_front(host *h, xfer *x)
{
    if (h->qhead != NULL && h->qhead->is_robots) {
        x->next = h->qhead->next;
        h->qhead->next = x;
        if (h->qtail == h->qhead) {
            h->qtail = x;
        }
        return;
    }
    x->next = h->qhead;
    h->qhead = x;
    if (h->qtail == NULL) {
        h->qtail = x;
    }
}

static xfer *host_pop(host *h)
{
    xfer *x = h->qhead;
    if (x != NULL) {
        h->qhead = x->next;
        if (h->qhead == NULL) {
            h->qtail = NULL;
        }
        x->next = NULL;
    }
    return x;
}

/* ---- Transfers ---- */

static void joiners_free(joiner *j)
{
    while (j != NULL) {
        joiner *next = j->next;
        free(j->source);
        free(j->prev_hash);
        free(j);
        j = next;
    }
}

static void xfer_free(xfer *x)
{
    if (x == NULL) {
        return;
    }
    joiners_free(x->joiners);
    free(x->req_url);
    free(x->url);
    free(x->source);
    free(x->user_agent);
    free(x->etag);
    free(x->last_modified);
    free(x->prev_hash);
    curl_slist_free_all(x->hdrs);
    nl_buf_free(&x->body);
    free(x->curl_err);
    free(x);
}

/* Gives x's easy handle back to the pool (or frees it). */
static void easy_release(fx_engine *e, xfer *x)
{
    if (x->easy == NULL) {
        return;
    }
    curl_easy_reset(x->easy);
    if (e->n_pool < (size_t)e->cfg->fetcher_max_in_flight) {
        e->pool[e->n_pool++] = x->easy;
    } else {
        curl_easy_cleanup(x->easy);
    }
    x->easy = NULL;
}

/* ---- The URL index: one transfer per URL queued or in flight ---- */

static size_t url_bucket(const char *url)
{
    return (size_t)(nl_hash64(url, strlen(url)) % URL_BUCKETS);
}

static int str_eq(const char *a, const char *b)
{
    return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

/* The request queued, waiting or in flight for the normalised url that
 * req can share: the same User-Agent and validators (they can change the
 * answer). NULL if none. */
static xfer *url_find(fx_engine *e, const char *url, const fx_request *req)
{
    for (xfer *x = e->urls[url_bucket(url)]; x != NULL; x = x->next_url) {
        if (strcmp(x->req_url, url) == 0 && str_eq(x->user_agent, req->user_agent) &&
            str_eq(x->etag, req->etag) && str_eq(x->last_modified, req->last_modified)) {
            return x;
        }
    }
    return NULL;
}

static void url_index(fx_engine *e, xfer *x)
{
    size_t b = url_bucket(x->req_url);
    x->next_url = e->urls[b];
    e->urls[b] = x;
    x->indexed = 1;
}

static void url_unindex(fx_engine *e, xfer *x)
{
    xfer **pp;
    if (!x->indexed) {
        return;
    }
    for (pp = &e->urls[url_bucket(x->req_url)]; *pp != NULL; pp = &(*pp)->next_url) {
        if (*pp == x) {
            *pp = x->next_url;
            break;
        }
    }
    x->next_url = NULL;
    x->indexed = 0;
}

static const char *user_agent(const fx_engine *e, const xfer *x)
{
    return x->user_agent != NULL ? x->user_agent : e->cfg->fetcher_user_agent;
}

static health *health_get(fx_engine *e, const char *source)
{
    health *hl;
    for (hl = e->health; hl != NULL; hl = hl->next) {
        if (strcmp(hl->source, source) == 0) {
            return hl;
        }
    }
    hl = calloc(1, sizeof(*hl));
    if (hl == NULL) {
        return NULL;
    }
    hl->source = strdup(source);
    if (hl->source == NULL) {
        free(hl);
        return NULL;
    }
    hl->next = e->health;
    e->health = hl;
    return hl;
}

static void health_update(fx_engine *e, const fx_result *r)
{
    health *hl;
    char last[32] = "never";

    if (r->source == NULL) {
        return;
    }
    hl = health_get(e, r->source);
    if (hl == NULL) {
        return;
    }
    if (r->code == NULL) {
        hl->last_success_ms = r->fetched_at_ms;
        hl->consecutive_failures = 0;
    } else {
        hl->consecutive_failures++;
        snprintf(hl->last_error, sizeof(hl->last_error), "%s: %s", r->code, r->reason);
    }
    if (hl->last_success_ms > 0) {
        nl_format_time_ms(hl->last_success_ms, last);
    }
    nl_log(hl->consecutive_failures > 0 ? NL_LOG_WARN : NL_LOG_DEBUG, "source_health",
           "source=%s last_success=%s consecutive_failures=%lld last_error=%s", nl_log_q(r->source),
           last, (long long)hl->consecutive_failures, nl_log_q(hl->last_error));
}

/* newsline_fetcher_fetches_total{kind, code} += 1 for a request that
 * ended (those joined to its transfer are not counted again). A fixed
 * code's series is looked up once and kept; an http_<status> one is
 * looked up each time (the registry's lock; failures only). */
static void count_fetch(fx_engine *e, const fx_result *r)
{
    const char *code = r->code == NULL ? (r->not_modified ? "not_modified" : "ok") : r->code;
    char http[16];
    size_t c;

    if (e->m_fetches == NULL) {
        return;
    }
    if (strcmp(code, "http_status") == 0) {
        const char *v[2] = {fx_kind_name(r->kind), http};
        if (r->status >= 100 && r->status <= 599) {
            snprintf(http, sizeof(http), "http_%ld", r->status);
        } else {
            snprintf(http, sizeof(http), "http_other");
        }
        nl_series_inc(nl_metric_series(e->m_fetches, v));
        return;
    }
    for (c = 0; c < N_METRIC_CODES - 1 && strcmp(metric_codes[c], code) != 0; c++) {
    }
    if (e->m_fetch[r->kind][c] == NULL) {
        const char *v[2] = {fx_kind_name(r->kind), metric_codes[c]};
        e->m_fetch[r->kind][c] = nl_metric_series(e->m_fetches, v);
    }
    nl_series_inc(e->m_fetch[r->kind][c]);
}

void fx_engine_set_metrics(fx_engine *e, nl_metrics *m)
{
    static const char *const labels[] = {"kind", "code"};

    memset(e->m_fetch, 0, sizeof(e->m_fetch));
    /* kinds x (fixed codes + 500 statuses + http_other): bounded */
    e->m_fetches = nl_metrics_counter(
        m, "newsline_fetcher_fetches_total",
        "Requests the fetch engine ended, by kind (article, feed, sitemap, robots) and result "
        "code (ok, not_modified, http_<status>, or the failure code)",
        2, labels, 4 * (N_METRIC_CODES + 501));
    e->m_in_flight = nl_metric_series(
        nl_metrics_gauge(m, "newsline_fetcher_transfers_in_flight",
                         "HTTP transfers in flight now (all of the process's engines)", 0, NULL, 1),
        NULL);
}

/* The HTTP version of easy's last response, as the raw record has it. */
static const char *http_version(CURL *easy)
{
    long v = 0;
    curl_easy_getinfo(easy, CURLINFO_HTTP_VERSION, &v);
    switch (v) {
    case CURL_HTTP_VERSION_1_0:
        return "1.0";
    case CURL_HTTP_VERSION_1_1:
        return "1.1";
    case CURL_HTTP_VERSION_2_0:
        return "2";
    case CURL_HTTP_VERSION_3:
        return "3";
    default:
        return NULL;
    }
}

/* Hands a finished request, and the requests that joined it, to the
 * caller and frees it. */
static void deliver(fx_engine *e, xfer *x, long status, const char *code, const char *reason)
{
    fx_result r;
    char *ct = NULL;
    struct curl_header *hv;
    joiner *joiners = x->joiners;

    /* From now on a request for this URL starts a transfer of its own, also
     * one made by the done callback. */
    url_unindex(e, x);
    x->joiners = NULL;
    memset(&r, 0, sizeof(r));
    r.url = x->req_url != NULL ? x->req_url : x->url;
    r.final_url = x->url; /* every hop is normalised (follow_redirect) */
    r.kind = x->kind;
    r.source = x->source;
    r.user = x->user;
    r.status = status;
    r.attempts = x->attempts;
    r.redirects = x->redirects;
    r.fetched_at_ms = nl_now_ms();
    r.code = code;
    r.reason = reason != NULL ? reason : "";
    r.body = "";
    if (x->easy != NULL) {
        curl_easy_getinfo(x->easy, CURLINFO_CONTENT_TYPE, &ct);
        r.content_type = ct;
        r.http_version = status > 0 ? http_version(x->easy) : NULL;
        if (curl_easy_header(x->easy, "ETag", 0, CURLH_HEADER, -1, &hv) == CURLHE_OK) {
            r.etag = hv->value;
        }
        /* Two headers at once: curl_easy_header's struct is reused, so
         * copy the first. */
        if (r.etag != NULL) {
            r.etag = strdup(r.etag);
        }
        if (curl_easy_header(x->easy, "Last-Modified", 0, CURLH_HEADER, -1, &hv) == CURLHE_OK) {
            r.last_modified = hv->value;
        }
    }
    if (code == NULL) {
        r.body = x->body.ptr != NULL ? x->body.ptr : "";
        r.body_len = x->body.len;
        /* XXH3-64, not the FNV-1a of record ids: FNV-1a's multiply per byte
         * was a third of the engine's CPU time on 10 KB pages at 1,000 in
         * flight (bench/README.md, fetch). */
        snprintf(r.body_hash, sizeof(r.body_hash), "%016llx",
                 (unsigned long long)XXH3_64bits(r.body, r.body_len));
        r.not_modified =
            status == 304 || (x->prev_hash != NULL && strcmp(x->prev_hash, r.body_hash) == 0);
        if (status == 304) {
            r.body_hash[0] = '\0';
        }
    }
    fx_url_id(r.final_url, r.id);
    if (code == NULL) {
        nl_info("fetched", "id=%s url=%s status=%ld http=%s bytes=%zu attempts=%d redirects=%d%s",
                r.id, nl_log_q(r.url), status, r.http_version != NULL ? r.http_version : "-",
                r.body_len, r.attempts, r.redirects, r.not_modified ? " not_modified=1" : "");
    } else {
        nl_warn("fetch_failed", "url=%s code=%s reason=%s attempts=%d redirects=%d",
                nl_log_q(r.url), code, nl_log_q(r.reason), r.attempts, r.redirects);
    }
    health_update(e, &r);
    count_fetch(e, &r);
    e->n_delivered++;
    e->done(e->ctx, &r);
    /* The same answer for each request that joined this transfer, as its
     * own: its user, kind, source, and not_modified against its hash. */
    while (joiners != NULL) {
        joiner *j = joiners;
        joiners = j->next;
        j->next = NULL;
        r.user = j->user;
        r.kind = j->kind;
        r.source = j->source;
        r.joined = 1;
        if (code == NULL && status != 304) {
            r.not_modified = j->prev_hash != NULL && strcmp(j->prev_hash, r.body_hash) == 0;
        }
        e->n_joined--;
        health_update(e, &r);
        e->n_delivered++;
        e->done(e->ctx, &r);
        joiners_free(j);
    }
    free((char *)r.etag);
    easy_release(e, x);
    xfer_free(x);
}

/* 1 for a response the engine follows when it has a Location: a 3xx but
 * 304 (Not Modified), as libcurl did. */
static int is_redirect(long status)
{
    return status >= 300 && status <= 399 && status != 304;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    xfer *x = userdata;
    size_t n = size * nmemb;
    long status = 0;

    /* A redirect's body is never used: skip it (the total timeout bounds
     * it), as libcurl does when it follows. */
    if (!x->is_robots && curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK &&
        is_redirect(status)) {
        return n;
    }
    if (n > x->cap - x->body.len) {
        /* robots.txt past its cap: keep the head (RFC 9309 allows parsing
         * the first 500 KiB) and stop downloading. */
        if (x->is_robots) {
            nl_buf_append(&x->body, ptr, x->cap - x->body.len);
        }
        x->too_big = 1;
        return 0; /* CURLE_WRITE_ERROR */
    }
    if (nl_buf_append(&x->body, ptr, n) != 0) {
        x->too_big = 1;
        return 0;
    }
    return n;
}

static curl_socket_t on_open_socket(void *clientp, curlsocktype purpose,
                                    struct curl_sockaddr *address)
{
    xfer *x = clientp;
    const struct sockaddr *sa = &address->addr;

    if (purpose == CURLSOCKTYPE_IPCXN && !fx_addr_public(sa) &&
        !fx_cidrs_match(&x->eng->allow, sa)) {
        const void *src =
            sa->sa_family == AF_INET6
                ? (const void *)&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr
                : (const void *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
        x->refused = 1;
        if (inet_ntop(sa->sa_family, src, x->refused_addr, sizeof(x->refused_addr)) == NULL) {
            snprintf(x->refused_addr, sizeof(x->refused_addr), "?");
        }
        return CURL_SOCKET_BAD;
    }
    return socket(address->family, address->socktype, address->protocol);
}

/* Sets up and adds one attempt of x. 0, or NL_ENOMEM. */
static int xfer_start(fx_engine *e, xfer *x)
{
    const nl_config *cfg = e->cfg;
    CURL *c;

    if (x->easy == NULL) {
        x->easy = e->n_pool > 0 ? e->pool[--e->n_pool] : curl_easy_init();
        if (x->easy == NULL) {
            return NL_ENOMEM;
        }
    }
    c = x->easy;
    nl_buf_free(&x->body);
    nl_buf_init(&x->body, x->cap);
    x->too_big = 0;
    x->refused = 0;
    if (x->curl_err == NULL && (x->curl_err = malloc(CURL_ERROR_SIZE)) == NULL) {
        return NL_ENOMEM;
    }
    x->curl_err[0] = '\0';
    curl_slist_free_all(x->hdrs);
    x->hdrs = NULL;
    if (x->etag != NULL || x->last_modified != NULL) {
        char line[1100];
        struct curl_slist *l;
        if (x->etag != NULL) {
            snprintf(line, sizeof(line), "If-None-Match: %s", x->etag);
            l = curl_slist_append(x->hdrs, line);
            if (l == NULL) {
                return NL_ENOMEM;
            }
            x->hdrs = l;
        }
        if (x->last_modified != NULL) {
            snprintf(line, sizeof(line), "If-Modified-Since: %s", x->last_modified);
            l = curl_slist_append(x->hdrs, line);
            if (l == NULL) {
                return NL_ENOMEM;
            }
            x->hdrs = l;
        }
    }
    curl_easy_setopt(c, CURLOPT_URL, x->url);
    curl_easy_setopt(c, CURLOPT_PRIVATE, x);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    /* The engine follows a page's redirects itself (follow_redirect), each
     * hop queued for its host: robots.txt and the host's delays apply to
     * it. robots.txt's own redirects libcurl follows (RFC 9309 2.3.1.2). */
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, x->is_robots ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, (long)cfg->fetcher_max_redirects);
    curl_easy_setopt(c, CURLOPT_USERAGENT, user_agent(e, x));
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, ""); /* every encoding curl decodes */
    curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(c, CURLOPT_PIPEWAIT, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)cfg->fetcher_timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)cfg->fetcher_connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, (long)cfg->fetcher_low_speed_bytes);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)cfg->fetcher_low_speed_time_s);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    /* Stops early when Content-Length says too much; on_body is what
     * enforces the cap (curl 7.88 ignores this for unknown sizes). */
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->cap);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, x);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (cfg->fetcher_ca_file[0] != '\0') {
        /* Only these CAs: Debian's libcurl also looks in /etc/ssl/certs. */
        curl_easy_setopt(c, CURLOPT_CAINFO, cfg->fetcher_ca_file);
        curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
    }
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, x->curl_err);
    if (x->hdrs != NULL) {
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, x->hdrs);
    }
    if (curl_multi_add_handle(e->multi, c) != CURLM_OK) {
        return NL_ENOMEM;
    }
    x->attempts++;
    x->aprev = NULL;
    x->anext = e->active;
    if (e->active != NULL) {
        e->active->aprev = x;
    }
    e->active = x;
    x->host->in_flight++;
    e->in_flight++;
    nl_series_inc(e->m_in_flight);
    return 0;
}

static xfer *robots_xfer(fx_engine *e, host *h)
{
    xfer *x = calloc(1, sizeof(*x));
    if (x == NULL) {
        return NULL;
    }
    x->eng = e;
    x->host = h;
    x->url = strdup(h->robots_url);
    if (x->url == NULL) {
        free(x);
        return NULL;
    }
    x->kind = FX_KIND_ROBOTS;
    x->is_robots = 1;
    x->delay_ms = -1;
    x->cap = FX_ROBOTS_MAX;
    return x;
}

int fx_engine_add(fx_engine *e, const fx_request *req)
{
    char errbuf[256];
    char *norm = NULL;
    xfer *primary;
    xfer *x = calloc(1, sizeof(*x));

    if (x == NULL) {
        return NL_ENOMEM;
    }
    x->eng = e;
    x->kind = req->kind;
    x->user = req->user;
    x->delay_ms = req->delay_ms;
    x->cap = e->max_body;
    x->url = req->url != NULL ? strdup(req->url) : strdup("");
    if (x->url == NULL || (req->source != NULL && (x->source = strdup(req->source)) == NULL) ||
        (req->user_agent != NULL && (x->user_agent = strdup(req->user_agent)) == NULL) ||
        (req->etag != NULL && (x->etag = strdup(req->etag)) == NULL) ||
        (req->last_modified != NULL && (x->last_modified = strdup(req->last_modified)) == NULL) ||
        (req->body_hash != NULL && (x->prev_hash = strdup(req->body_hash)) == NULL)) {
        xfer_free(x);
        return NL_ENOMEM;
    }
    if (fx_url_normalize(x->url, &norm, errbuf, sizeof(errbuf)) != 0) {
        deliver(e, x, 0, "bad_url", errbuf);
        return 0;
    }
    if (e->draining) {
        /* nothing starts any more: it would wait for ever */
        free(norm);
        deliver(e, x, 0, "cancelled", "stopping: never started");
        return 0;
    }
    primary = url_find(e, norm, req);
    if (primary != NULL) {
        /* Already queued or in flight: no second transfer; this request
         * gets that one's result (deliver). */
        joiner *j = calloc(1, sizeof(*j)), **jp;
        if (j == NULL) {
            free(norm);
            xfer_free(x);
            return NL_ENOMEM;
        }
        j->user = x->user;
        j->kind = x->kind;
        j->source = x->source;
        j->prev_hash = x->prev_hash;
        x->source = NULL;
        x->prev_hash = NULL;
        jp = &primary->joiners;
        while (*jp != NULL) {
            jp = &(*jp)->next; /* answered in the order they came */
        }
        *jp = j;
        e->n_joined++;
        nl_info("fetch_joined", "url=%s", nl_log_q(norm));
        free(norm);
        xfer_free(x);
        return 0;
    }
    x->req_url = strdup(norm);
    if (x->req_url == NULL) {
        free(norm);
        xfer_free(x);
        return NL_ENOMEM;
    }
    free(x->url);
    x->url = norm;
    x->host = host_get(e, x->url);
    if (x->host == NULL) {
        xfer_free(x);
        return NL_ENOMEM;
    }
    url_index(e, x);
    host_push_back(x->host, x);
    e->queued++;
    return 0;
}

size_t fx_engine_pending(const fx_engine *e)
{
    return e->queued + e->n_retries + e->in_flight + e->n_joined;
}

/* Starts what may start now; *wake gets the earliest time something
 * blocked by a delay may start. */
static void start_ready(fx_engine *e, int64_t now, int64_t *wake)
{
    const nl_config *cfg = e->cfg;

    for (host *h = e->hosts; h != NULL; h = h->next_all) {
        while (h->qhead != NULL && e->in_flight < (size_t)cfg->fetcher_max_in_flight &&
               h->in_flight < cfg->fetcher_per_host) {
            xfer *x = h->qhead;
            int64_t d;

            if (!x->is_robots && cfg->fetcher_robots && x->kind != FX_KIND_ROBOTS) {
                if (h->robots_state == ROBOTS_FETCHING) {
                    break;
                }
                if (h->robots_state == ROBOTS_NONE || now >= h->robots_expires) {
                    xfer *r = robots_xfer(e, h);
                    if (r == NULL) {
                        break; /* out of memory: try again next round */
                    }
                    host_push_front(h, r);
                    e->queued++;
                    h->robots_state = ROBOTS_FETCHING;
                    continue;
                }
                if (!fx_robots_allowed_url(h->robots, user_agent(e, x), x->url)) {
                    char reason[CURL_ERROR_SIZE + 400], hop[340] = "";
                    host_pop(h);
                    e->queued--;
                    if (x->redirects > 0) {
                        /* the URL is normalised: ASCII, safe in a record */
                        snprintf(hop, sizeof(hop), "redirect %d to %.300s: ", x->redirects, x->url);
                    }
                    if (h->robots_refused[0] != '\0') {
                        snprintf(reason, sizeof(reason),
                                 "%saddress %s is not public and not in fetcher.allow_private", hop,
                                 h->robots_refused);
                        deliver(e, x, 0, "private_address", reason);
                        continue;
                    }
                    if (h->robots_tls[0] != '\0') {
                        snprintf(reason, sizeof(reason), "TLS certificate verification failed: %s",
                                 h->robots_tls);
                        deliver(e, x, 0, "tls_verify_failed", reason);
                        continue;
                    }
                    if (h->robots_status >= 200 && h->robots_status < 300) {
                        snprintf(reason, sizeof(reason), "%sdisallowed by robots.txt", hop);
                    } else {
                        snprintf(reason, sizeof(reason),
                                 "%srobots.txt unavailable (HTTP %ld): everything disallowed", hop,
                                 h->robots_status);
                    }
                    deliver(e, x, 0, "robots_disallowed", reason);
                    continue;
                }
            }
            if (now < h->next_start) {
                if (h->next_start < *wake) {
                    *wake = h->next_start;
                }
                break;
            }
            host_pop(h);
            e->queued--;
            if (xfer_start(e, x) != 0) {
                deliver(e, x, 0, "fetch_failed", "out of memory starting the transfer");
                continue;
            }
            d = x->delay_ms >= 0 ? x->delay_ms : cfg->fetcher_min_delay_ms;
            if (x->is_robots) {
                d = 0; /* robots.txt does not count against the site's delay */
            }
            if (h->crawl_delay_ms > d) {
                d = h->crawl_delay_ms;
            }
            h->next_start = now + d;
        }
    }
}

/* Moves retries whose time has come to the front of their host's queue. */
static void promote_retries(fx_engine *e, int64_t now, int64_t *wake)
{
    xfer **pp = &e->retries;
    while (*pp != NULL) {
        xfer *x = *pp;
        if (x->not_before <= now) {
            *pp = x->next;
            e->n_retries--;
            host_push_front(x->host, x);
            e->queued++;
        } else {
            if (x->not_before < *wake) {
                *wake = x->not_before;
            }
            pp = &x->next;
        }
    }
}

static void robots_done(fx_engine *e, xfer *x, CURLcode cc, long status)
{
    host *h = x->host;
    fx_robots *r = NULL;
    char errbuf[256];
    int64_t ttl = e->cfg->fetcher_robots_ttl_s * 1000;
    int64_t cd;

    if (cc == CURLE_TOO_MANY_REDIRECTS && status == 0) {
        status = 310;
    }
    if ((cc == CURLE_OK || (x->too_big && x->body.len > 0)) && status >= 200 && status < 300) {
        if (fx_robots_parse(x->body.ptr != NULL ? x->body.ptr : "", x->body.len, &r, errbuf,
                            sizeof(errbuf)) != 0) {
            r = NULL;
        }
    } else {
        long st = cc == CURLE_OK || cc == CURLE_TOO_MANY_REDIRECTS ? status : 0;
        if (st >= 200 && st < 300) {
            st = 0; /* a 2xx whose body failed: unreachable */
        }
        if (fx_robots_for_status((int)st, &r, errbuf, sizeof(errbuf)) != 0) {
            r = NULL;
        }
        if (st == 0 || st >= 500 || st == 429) {
            ttl = ttl < ROBOTS_FAIL_TTL_MS ? ttl : ROBOTS_FAIL_TTL_MS;
        }
        status = st;
    }
    if (r == NULL) {
        /* Out of memory: treat as unreachable and try again soon. */
        fx_robots_for_status(0, &r, NULL, 0);
        ttl = 1000;
    }
    fx_robots_free(h->robots);
    h->robots = r;
    snprintf(h->robots_refused, sizeof(h->robots_refused), "%s",
             cc != CURLE_OK && x->refused ? x->refused_addr : "");
    /* The host's pages would fail the same way: say so, not "robots.txt
     * unavailable". */
    snprintf(h->robots_tls, sizeof(h->robots_tls), "%s",
             cc != CURLE_PEER_FAILED_VERIFICATION ? ""
             : x->curl_err[0] != '\0'             ? x->curl_err
                                                  : curl_easy_strerror(cc));
    h->robots_status = status;
    h->robots_state = ROBOTS_READY;
    h->robots_expires = mono_ms() + ttl;
    cd = r != NULL ? fx_robots_crawl_delay_ms(r, e->cfg->fetcher_user_agent) : -1;
    if (cd > e->cfg->fetcher_max_crawl_delay_ms) {
        cd = e->cfg->fetcher_max_crawl_delay_ms;
    }
    h->crawl_delay_ms = cd > 0 ? cd : 0;
    nl_info("robots", "host=%s status=%ld crawl_delay_ms=%lld", nl_log_q(h->key), status,
            (long long)h->crawl_delay_ms);
    easy_release(e, x);
    xfer_free(x);
}

/* A redirect response to x (status, Location header value): queues the
 * next hop for its host, behind that host's robots.txt and delays like any
 * request; or delivers x as failed (too many redirects, a target that is
 * not an http(s) URL, stopping). */
static void follow_redirect(fx_engine *e, xfer *x, long status, const char *location)
{
    char errbuf[256], reason[400];
    char *next = NULL;
    host *h;
    int rc;

    if (x->redirects >= e->cfg->fetcher_max_redirects) {
        snprintf(reason, sizeof(reason), "more than %lld redirects",
                 (long long)e->cfg->fetcher_max_redirects);
        deliver(e, x, status, "too_many_redirects", reason);
        return;
    }
    rc = fx_url_resolve(x->url, location, &next, errbuf, sizeof(errbuf));
    if (rc == NL_ENOMEM) {
        deliver(e, x, status, "fetch_failed", "out of memory following a redirect");
        return;
    }
    if (rc != 0) {
        /* errbuf may quote the header (the scheme): keep it printable ASCII */
        for (char *p = errbuf; *p != '\0'; p++) {
            if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e) {
                *p = '?';
            }
        }
        snprintf(reason, sizeof(reason),
                 "redirect to a scheme other than http or https, or to a bad URL: %s", errbuf);
        deliver(e, x, status, "bad_redirect", reason);
        return;
    }
    if (e->draining) {
        free(next);
        deliver(e, x, status, "cancelled", "stopping: redirect not followed");
        return;
    }
    h = host_get(e, next);
    if (h == NULL) {
        free(next);
        deliver(e, x, status, "fetch_failed", "out of memory following a redirect");
        return;
    }
    nl_info("fetch_redirect", "url=%s status=%ld to=%s redirects=%d", nl_log_q(x->url), status,
            nl_log_q(next), x->redirects + 1);
    easy_release(e, x);
    free(x->url);
    x->url = next;
    x->host = h;
    x->redirects++;
    x->attempts = 0; /* retries count per hop */
    /* Ahead of the host's other requests, as a retry is: it started already. */
    host_push_front(h, x);
    e->queued++;
}

/* Decides what a finished attempt means: deliver, follow a redirect, or
 * retry later. */
static void finished(fx_engine *e, xfer *x, CURLcode cc)
{
    const nl_config *cfg = e->cfg;
    long status = 0;
    char reason[300];
    int64_t now = mono_ms();
    struct curl_header *hv;

    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_multi_remove_handle(e->multi, x->easy);
    if (x->aprev != NULL) {
        x->aprev->anext = x->anext;
    } else {
        e->active = x->anext;
    }
    if (x->anext != NULL) {
        x->anext->aprev = x->aprev;
    }
    x->host->in_flight--;
    e->in_flight--;
    nl_series_sub(e->m_in_flight, 1);
    if (x->is_robots) {
        robots_done(e, x, cc, status);
        return;
    }
    if (x->too_big || cc == CURLE_FILESIZE_EXCEEDED) {
        snprintf(reason, sizeof(reason), "body exceeds %zu bytes (decoded)", x->cap);
        deliver(e, x, status, "body_too_large", reason);
        return;
    }
    if (cc != CURLE_OK && x->refused) {
        snprintf(reason, sizeof(reason),
                 "address %s is not public and not in fetcher.allow_private", x->refused_addr);
        deliver(e, x, status, "private_address", reason);
        return;
    }
    if (cc == CURLE_TOO_MANY_REDIRECTS) {
        snprintf(reason, sizeof(reason), "more than %lld redirects",
                 (long long)cfg->fetcher_max_redirects);
        deliver(e, x, status, "too_many_redirects", reason);
        return;
    }
    if (cc == CURLE_UNSUPPORTED_PROTOCOL) {
        deliver(e, x, status, "bad_redirect", "redirect to a scheme other than http or https");
        return;
    }
    if (cc == CURLE_PEER_FAILED_VERIFICATION) {
        /* Never retried, never fetched without verification. */
        snprintf(reason, sizeof(reason), "TLS certificate verification failed: %s",
                 x->curl_err[0] != '\0' ? x->curl_err : curl_easy_strerror(cc));
        deliver(e, x, status, "tls_verify_failed", reason);
        return;
    }
    if (cc == CURLE_OK && is_redirect(status) &&
        curl_easy_header(x->easy, "Location", 0, CURLH_HEADER, -1, &hv) == CURLHE_OK) {
        follow_redirect(e, x, status, hv->value);
        return;
    }
    if (cc == CURLE_OK && ((status >= 200 && status < 300) ||
                           (status == 304 && (x->etag != NULL || x->last_modified != NULL)))) {
        deliver(e, x, status, NULL, NULL);
        return;
    }
    if (fx_retryable(cc, status) && x->attempts < cfg->fetcher_max_attempts && e->draining) {
        /* Worth another attempt, but we are stopping: not a final failure. */
        deliver(e, x, status, "cancelled", "stopping: not retried");
        return;
    }
    if (fx_retryable(cc, status) && x->attempts < cfg->fetcher_max_attempts && !nl_stop) {
        int64_t wait = -1;
        if (cc == CURLE_OK &&
            curl_easy_header(x->easy, "Retry-After", 0, CURLH_HEADER, -1, &hv) == CURLHE_OK &&
            fx_retry_after_ms(hv->value, (int64_t)time(NULL), &wait) == 0) {
            if (wait > cfg->fetcher_max_retry_after_ms) {
                snprintf(
                    reason, sizeof(reason),
                    "HTTP status %ld with Retry-After %lld s (over fetcher.max_retry_after_ms)",
                    status, (long long)(wait / 1000));
                deliver(e, x, status, "http_status", reason);
                return;
            }
            /* The server asked the whole host to wait. */
            if (x->host->next_start < now + wait) {
                x->host->next_start = now + wait;
            }
        } else {
            wait = fx_backoff_ms(x->attempts, cfg->fetcher_backoff_base_ms,
                                 cfg->fetcher_backoff_max_ms, &e->rng);
        }
        nl_info("fetch_retry", "url=%s attempt=%d status=%ld error=%s wait_ms=%lld",
                nl_log_q(x->url), x->attempts, status, nl_log_q(curl_easy_strerror(cc)),
                (long long)wait);
        curl_easy_reset(x->easy);
        x->not_before = now + wait;
        x->next = e->retries;
        e->retries = x;
        e->n_retries++;
        return;
    }
    if (cc == CURLE_OK) {
        snprintf(reason, sizeof(reason), "HTTP status %ld after %d attempt(s)", status,
                 x->attempts);
        deliver(e, x, status, "http_status", reason);
    } else {
        snprintf(reason, sizeof(reason), "%s after %d attempt(s)", curl_easy_strerror(cc),
                 x->attempts);
        deliver(e, x, status, cc == CURLE_OPERATION_TIMEDOUT ? "timeout" : "fetch_failed", reason);
    }
}

/* The transfer loop. honour_stop: return as soon as nl_stop is set (else
 * run on: a draining engine finishes its transfers). until_done: return
 * once a result was delivered. At least one round when !honour_stop. */
static size_t run(fx_engine *e, int64_t timeout_ms, int honour_stop, int until_done)
{
    int64_t deadline = timeout_ms >= 0 ? mono_ms() + timeout_ms : INT64_MAX;
    size_t delivered = e->n_delivered;
    int first = !honour_stop;

    while (fx_engine_pending(e) > 0 && !(honour_stop && nl_stop)) {
        int64_t now = mono_ms(), wake = INT64_MAX;
        int running = 0, left;
        CURLMsg *msg;
        long wait;

        if (now >= deadline && !first) {
            break;
        }
        first = 0;
        promote_retries(e, now, &wake);
        if (!e->draining) {
            start_ready(e, now, &wake);
        }
        curl_multi_perform(e->multi, &running);
        while ((msg = curl_multi_info_read(e->multi, &left)) != NULL) {
            if (msg->msg == CURLMSG_DONE) {
                xfer *x = NULL;
                CURL *easy = msg->easy_handle;
                CURLcode cc = msg->data.result;
                curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
                finished(e, x, cc);
            }
        }
        if (fx_engine_pending(e) == 0 || (until_done && e->n_delivered != delivered)) {
            break;
        }
        now = mono_ms();
        /* Something finished: new work may start at once. */
        if (e->queued > 0 && e->in_flight < (size_t)e->cfg->fetcher_max_in_flight &&
            wake == INT64_MAX && !e->draining) {
            wake = now + (running > 0 ? POLL_MAX_MS : 0);
        }
        wait = wake == INT64_MAX ? POLL_MAX_MS : (long)(wake - now);
        if (wait > POLL_MAX_MS) {
            wait = POLL_MAX_MS;
        }
        if (deadline - now < wait) {
            wait = (long)(deadline - now);
        }
        if (wait > 0 && running > 0) {
            curl_multi_poll(e->multi, NULL, 0, (int)wait, NULL);
        } else if (wait > 0) {
            usleep((useconds_t)wait * 1000);
        }
    }
    return fx_engine_pending(e);
}

size_t fx_engine_run(fx_engine *e, int64_t timeout_ms)
{
    return run(e, timeout_ms, 1, 0);
}

size_t fx_engine_poll(fx_engine *e, int64_t timeout_ms)
{
    return run(e, timeout_ms, 0, 1);
}

void fx_engine_drain(fx_engine *e)
{
    xfer *cancel = NULL;

    if (e->draining) {
        return;
    }
    e->draining = 1;
    /* Collect first, deliver after: done may call fx_engine_add. */
    for (host *h = e->hosts; h != NULL; h = h->next_all) {
        xfer *x;
        while ((x = host_pop(h)) != NULL) {
            e->queued--;
            if (x->is_robots) {
                h->robots_state = ROBOTS_NONE;
                xfer_free(x);
                continue;
            }
            x->next = cancel;
            cancel = x;
        }
    }
    while (e->retries != NULL) {
        xfer *x = e->retries;
        e->retries = x->next;
        e->n_retries--;
        if (x->easy != NULL) {
            curl_easy_cleanup(x->easy);
            x->easy = NULL;
        }
        x->next = cancel;
        cancel = x;
    }
    while (cancel != NULL) {
        xfer *x = cancel;
        cancel = x->next;
        x->next = NULL;
        deliver(e, x, 0, "cancelled", "stopping: never started");
    }
}

size_t fx_engine_cancel(fx_engine *e, int (*match)(void *ctx, void *user), void *ctx)
{
    xfer *cancel = NULL;
    size_t n = 0;

    /* Collect first, deliver after: done may call fx_engine_add. */
    for (host *h = e->hosts; h != NULL; h = h->next_all) {
        xfer *keep = NULL, *keep_tail = NULL, *x;
        while ((x = host_pop(h)) != NULL) {
            if (!x->is_robots && match(ctx, x->user)) {
                e->queued--;
                x->next = cancel;
                cancel = x;
            } else if (keep_tail != NULL) {
                keep_tail->next = x;
                keep_tail = x;
            } else {
                keep = keep_tail = x;
            }
        }
        h->qhead = keep;
        h->qtail = keep_tail;
    }
    for (xfer **pp = &e->retries; *pp != NULL;) {
        xfer *x = *pp;
        if (x->is_robots || !match(ctx, x->user)) {
            pp = &x->next;
            continue;
        }
        *pp = x->next;
        e->n_retries--;
        if (x->easy != NULL) {
            curl_easy_cleanup(x->easy);
            x->easy = NULL;
        }
        x->next = cancel;
        cancel = x;
    }
    while (cancel != NULL) {
        xfer *x = cancel;
        cancel = x->next;
        x->next = NULL;
        deliver(e, x, 0, "cancelled", "given back: never started");
        n++;
    }
    return n;
}

fx_engine *fx_engine_new(const nl_config *cfg, fx_done_fn done, void *ctx, char *errbuf,
                         size_t errlen)
{
    fx_engine *e = calloc(1, sizeof(*e));
    char why[200];

    if (e == NULL) {
        nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
        return NULL;
    }
    e->cfg = cfg;
    e->done = done;
    e->ctx = ctx;
    e->rng = (uint64_t)nl_now_ms() * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
    e->max_body = (size_t)cfg->fetcher_max_body_bytes;
    if ((size_t)cfg->max_record_bytes < e->max_body) {
        e->max_body = (size_t)cfg->max_record_bytes;
    }
    if (fx_cidrs_parse(cfg->fetcher_allow_private, &e->allow, why, sizeof(why)) != 0) {
        nl_errf(errbuf, errlen, NL_EINVAL, "fetcher.allow_private: %s", why);
        free(e);
        return NULL;
    }
    if (cfg->fetcher_ca_file[0] != '\0' && access(cfg->fetcher_ca_file, R_OK) != 0) {
        nl_errf(errbuf, errlen, NL_EINVAL, "fetcher.ca_file: cannot read %s: %s",
                cfg->fetcher_ca_file, strerror(errno));
        fx_cidrs_free(&e->allow);
        free(e);
        return NULL;
    }
    e->pool = calloc((size_t)cfg->fetcher_max_in_flight, sizeof(*e->pool));
    e->multi = curl_multi_init();
    if (e->pool == NULL || e->multi == NULL) {
        nl_errf(errbuf, errlen, NL_ENOMEM, "cannot initialise libcurl");
        fx_engine_free(e);
        return NULL;
    }
    /* Keep enough idle connections to reuse them across the in-flight set. */
    curl_multi_setopt(e->multi, CURLMOPT_MAXCONNECTS, (long)cfg->fetcher_max_in_flight);
    curl_multi_setopt(e->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    return e;
}

void fx_engine_free(fx_engine *e)
{
    if (e == NULL) {
        return;
    }
    for (host *h = e->hosts, *next; h != NULL; h = next) {
        next = h->next_all;
        for (xfer *x = h->qhead, *xn; x != NULL; x = xn) {
            xn = x->next;
            xfer_free(x);
        }
        fx_robots_free(h->robots);
        free(h->key);
        free(h->robots_url);
        free(h);
    }
    for (xfer *x = e->retries, *xn; x != NULL; x = xn) {
        xn = x->next;
        if (x->easy != NULL) {
            curl_easy_cleanup(x->easy);
        }
        xfer_free(x);
    }
    /* Transfers still in flight (nl_stop, timeout): abandoned. */
    for (xfer *x = e->active, *xn; x != NULL; x = xn) {
        xn = x->anext;
        curl_multi_remove_handle(e->multi, x->easy);
        curl_easy_cleanup(x->easy);
        xfer_free(x);
    }
    for (health *hl = e->health, *hn; hl != NULL; hl = hn) {
        hn = hl->next;
        free(hl->source);
        free(hl);
    }
    for (size_t i = 0; i < e->n_pool; i++) {
        curl_easy_cleanup(e->pool[i]);
    }
    free(e->pool);
    curl_multi_cleanup(e->multi);
    fx_cidrs_free(&e->allow);
    free(e);
}

json_t *fx_result_record(const fx_result *res)
{
    char now[32];
    json_t *rec = nl_record_new(NL_SCHEMA_RAW, res->id);
    const char *ct = res->content_type != NULL ? res->content_type : "application/octet-stream";
    int rc;

    if (rec == NULL) {
        return NULL;
    }
    nl_format_time_ms(res->fetched_at_ms, now);
    rc = nl_record_set_str(rec, "source", "fetch");
    rc = rc ? rc : nl_record_set_str(rec, "url", res->url);
    rc = rc ? rc : nl_record_set_str(rec, "final_url", res->final_url);
    rc = rc ? rc : nl_record_set_new(rec, "http_status", json_integer(res->status));
    if (rc == 0 && res->http_version != NULL) {
        rc = nl_record_set_str(rec, "http_version", res->http_version);
    }
    rc = rc ? rc : nl_record_set_str(rec, "fetched_at", now);
    rc = rc ? rc : nl_record_set_str(rec, "kind", fx_kind_name(res->kind));
    if (rc == 0 && res->source != NULL) {
        rc = nl_record_set_str(rec, "source_name", res->source);
    }
    /* Header values come from the server: sanitise, never drop silently. */
    const char *hdr_name[] = {"content_type", "etag", "last_modified"};
    const char *hdr_val[] = {ct, res->etag, res->last_modified};
    for (size_t i = 0; rc == 0 && i < 3; i++) {
        size_t n;
        char *clean;
        if (hdr_val[i] == NULL) {
            continue;
        }
        clean = nl_utf8_sanitize(hdr_val[i], strlen(hdr_val[i]), 1024, &n);
        rc = clean != NULL ? nl_record_set_strn(rec, hdr_name[i], clean, n) : NL_ENOMEM;
        free(clean);
    }
    if (rc == 0 && res->body_hash[0] != '\0') {
        rc = nl_record_set_str(rec, "body_hash", res->body_hash);
    }
    if (rc == 0) {
        if (nl_utf8_valid(res->body, res->body_len)) {
            rc = nl_record_set_strn(rec, "body", res->body, res->body_len);
        } else {
            /* Another charset, or binary: keep the bytes exactly. */
            char *enc = nl_base64_encode((const unsigned char *)res->body, res->body_len, NULL);
            rc = enc != NULL ? nl_record_set_new(rec, "body_base64", json_string(enc)) : NL_ENOMEM;
            free(enc);
        }
    }
    if (rc != 0) {
        json_decref(rec);
        return NULL;
    }
    return rec;
}
