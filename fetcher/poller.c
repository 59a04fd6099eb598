/* The poller (poller.h): sources -> documents -> new article URLs. */
#include "poller.h"

#include "feeds.h"
#include "nl_err.h"
#include "nl_log.h"
#include "nl_metrics.h"
#include "nl_text.h"
#include "robots.h"
#include "seen.h"
#include "url.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STATE_SCHEMA "newsline.fetcher-state/1"

/* Validators of one document of a source (its feed, or one of its sitemaps). */
struct doc {
    char *url;
    char *etag;
    char *last_modified;
    char hash[17];
    int is_index; /* a sitemap index: always read, for its sitemaps' sake */
};

struct src_state {
    const fx_source *src;
    int64_t interval_s;
    int64_t next_ms;
    int64_t last_new_ms; /* last poll with new items (or when watching began) */
    int64_t last_ok_ms;
    int64_t stale_warned_ms;
    int64_t failures; /* consecutive failed polls */
    char last_error[256];
    char last_code[32]; /* its code (a label value): the engine's, or the poller's own */
    struct doc *docs;
    size_t n_docs;
    uint64_t *known; /* insertion order, for dropping the oldest */
    size_t n_known, cap_known;
    fx_hset known_set;
    /* the running poll */
    int polling;
    int outstanding;
    int failed;
    uint64_t new_items;
    size_t n_articles, n_filtered;
    /* fx_poller_set_metrics: this source's series, or NULL */
    nl_series *m_last_ok, *m_failures, *m_polls_ok, *m_polls_failed, *m_new, *m_error;
    char m_code[32]; /* the code m_error is labelled with */
};

/* The `user` of each of the poller's requests. */
struct preq {
    size_t i;
    int depth;
};

struct fx_poller {
    const nl_config *cfg;
    const fx_sources *srcs;
    fx_engine *eng;
    char *state_path;
    fx_poller_emit_fn emit;
    void *ctx;
    struct src_state *st;
    size_t n_polls, n_failed;
    nl_metric *m_error_info; /* newsline_fetcher_source_last_error_info, or NULL */
};

/* ---- known set ---------------------------------------------------------- */

static void known_rebuild(struct src_state *s)
{
    fx_hset_clear(&s->known_set);
    for (size_t k = 0; k < s->n_known; k++) {
        fx_hset_add(&s->known_set, s->known[k]); /* never grows: capacity is there */
    }
}

/* 0 or NL_ENOMEM (nothing changed). */
static int known_add(struct src_state *s, uint64_t h)
{
    if (s->n_known == FX_KNOWN_MAX) {
        size_t half = FX_KNOWN_MAX / 2;
        memmove(s->known, s->known + half, (s->n_known - half) * sizeof(*s->known));
        s->n_known -= half;
        known_rebuild(s);
    }
    if (s->n_known == s->cap_known) {
        size_t cap = s->cap_known ? s->cap_known * 2 : 256;
        uint64_t *k = realloc(s->known, cap * sizeof(*k));
        if (k == NULL) {
            return NL_ENOMEM;
        }
        s->known = k;
        s->cap_known = cap;
    }
    if (fx_hset_add(&s->known_set, h) < 0) {
        return NL_ENOMEM;
    }
    s->known[s->n_known++] = h;
    return 0;
}

/* ---- documents ------------------------------------------------------------ */

static void doc_clear(struct doc *d)
{
    free(d->etag);
    free(d->last_modified);
    d->etag = NULL;
    d->last_modified = NULL;
    d->hash[0] = '\0';
}

/* The validators of url, created empty if new; NULL on allocation failure. */
static struct doc *doc_get(struct src_state *s, const char *url)
{
    struct doc *d;

    for (size_t k = 0; k < s->n_docs; k++) {
        if (strcmp(s->docs[k].url, url) == 0) {
            return &s->docs[k];
        }
    }
    d = realloc(s->docs, (s->n_docs + 1) * sizeof(*d));
    if (d == NULL) {
        return NULL;
    }
    s->docs = d;
    d = &s->docs[s->n_docs];
    memset(d, 0, sizeof(*d));
    d->url = strdup(url);
    if (d->url == NULL) {
        return NULL;
    }
    s->n_docs++;
    return d;
}

static void set_str(char **dst, const char *v)
{
    char *c;
    if (v == NULL) {
        return;
    }
    c = strdup(v);
    if (c != NULL) {
        free(*dst);
        *dst = c;
    }
}

/* ---- a poll ----------------------------------------------------------- */

static void fail(fx_poller *p, size_t i, int depth, const char *url, const char *code,
                 const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* One warning per broken document, with the reason; the source's own
 * document failing fails the poll, a sitemap under it only is noted. code
 * is short and from a fixed set (the engine's failure codes, http_<status>
 * and the poller's own): it labels the source's last_error_info metric. */
static void fail(fx_poller *p, size_t i, int depth, const char *url, const char *code,
                 const char *fmt, ...)
{
    struct src_state *s = &p->st[i];
    va_list ap;

    snprintf(s->last_code, sizeof(s->last_code), "%s", code);
    va_start(ap, fmt);
    vsnprintf(s->last_error, sizeof(s->last_error), fmt, ap);
    va_end(ap);
    if (depth == 0) {
        s->failed = 1;
    }
    nl_warn("source_broken", "source=%s kind=%s url=%s depth=%d reason=%s", nl_log_q(s->src->name),
            fx_source_kind_name(s->src->kind), nl_log_q(url), depth, nl_log_q(s->last_error));
}

static void request(fx_poller *p, size_t i, const char *url, fx_kind kind, int depth)
{
    struct src_state *s = &p->st[i];
    struct doc *d = doc_get(s, url);
    struct preq *q = malloc(sizeof(*q));
    fx_request req = {.url = url,
                      .kind = kind,
                      .source = s->src->name,
                      .user_agent = s->src->user_agent,
                      .delay_ms = s->src->delay_ms};

    if (d == NULL || q == NULL) {
        free(q);
        fail(p, i, depth, url, "no_memory", "out of memory");
        return;
    }
    q->i = i;
    q->depth = depth;
    /* An unchanged robots.txt or sitemap index still leads to sitemaps
     * that may have changed: those are always read in full. */
    if (kind != FX_KIND_ROBOTS && !d->is_index) {
        req.etag = d->etag;
        req.last_modified = d->last_modified;
        req.body_hash = d->hash[0] ? d->hash : NULL;
    }
    req.user = q;
    s->outstanding++;
    if (fx_engine_add(p->eng, &req) != 0) {
        s->outstanding--;
        free(q);
        fail(p, i, depth, url, "no_memory", "out of memory");
    }
}

/* The source's series after a poll (or at start, from the state): one
 * registry lookup only when the last error's code changed. */
static void metrics_polled(fx_poller *p, struct src_state *s)
{
    nl_series_set(s->m_last_ok, s->last_ok_ms > 0 ? (double)s->last_ok_ms / 1000.0 : 0);
    nl_series_set(s->m_failures, (double)s->failures);
    if (p->m_error_info != NULL && s->last_code[0] != '\0' &&
        strcmp(s->last_code, s->m_code) != 0) {
        const char *old[2] = {s->src->name, s->m_code};
        const char *now[2] = {s->src->name, s->last_code};
        if (s->m_error != NULL) {
            nl_metric_remove(p->m_error_info, old);
        }
        s->m_error = nl_metric_series(p->m_error_info, now);
        nl_series_set(s->m_error, 1);
        snprintf(s->m_code, sizeof(s->m_code), "%s", s->last_code);
    }
}

static void finish(fx_poller *p, size_t i)
{
    struct src_state *s = &p->st[i];
    const fx_source *src = s->src;
    int64_t now = nl_now_ms();
    int64_t stale_ms = p->cfg->fetcher_stale_warn_s * 1000;

    p->n_polls++;
    nl_series_inc(s->failed ? s->m_polls_failed : s->m_polls_ok);
    nl_series_add(s->m_new, s->new_items);
    if (s->failed) {
        p->n_failed++;
        s->failures++;
    } else {
        s->failures = 0;
        s->last_ok_ms = now;
        if (s->new_items > 0) {
            s->last_new_ms = now;
        }
    }
    metrics_polled(p, s);
    s->interval_s = fx_poll_next(s->interval_s, s->failed ? 0 : s->new_items, src->min_interval_s,
                                 src->max_interval_s);
    s->next_ms = now + s->interval_s * 1000;
    s->polling = 0;
    nl_log(s->failed ? NL_LOG_WARN : NL_LOG_INFO, "source_polled",
           "source=%s kind=%s ok=%d new=%" PRIu64 " articles=%zu filtered=%zu "
           "consecutive_failures=%lld next_poll_s=%lld%s%s",
           nl_log_q(src->name), fx_source_kind_name(src->kind), !s->failed, s->new_items,
           s->n_articles, s->n_filtered, (long long)s->failures, (long long)s->interval_s,
           s->failed ? " last_error=" : "", s->failed ? nl_log_q(s->last_error) : "");
    if (stale_ms > 0 && now - s->last_new_ms >= stale_ms && now - s->stale_warned_ms >= stale_ms) {
        char since[32];
        nl_format_time_ms(s->last_new_ms, since);
        nl_warn("source_stale", "source=%s nothing_new_since=%s silent_s=%lld", nl_log_q(src->name),
                since, (long long)((now - s->last_new_ms) / 1000));
        s->stale_warned_ms = now;
    }
}

/* An article URL (normalised) found by source i. */
static void consider(fx_poller *p, size_t i, const char *url)
{
    struct src_state *s = &p->st[i];
    uint64_t h;

    s->n_articles++;
    if (!fx_source_url_allowed(s->src, url)) {
        s->n_filtered++;
        return;
    }
    h = fx_seen_hash(url);
    if (fx_hset_has(&s->known_set, h)) {
        return;
    }
    if (known_add(s, h) != 0) {
        nl_error("no_memory", "where=poller source=%s", nl_log_q(s->src->name));
        return;
    }
    s->new_items++;
    if (p->emit(p->ctx, i, s->src, url, h) != 0) {
        fx_poller_forget(p, i, h);
    }
}

static void start(fx_poller *p, size_t i)
{
    struct src_state *s = &p->st[i];
    const fx_source *src = s->src;

    s->polling = 1;
    s->failed = 0;
    s->new_items = 0;
    s->n_articles = 0;
    s->n_filtered = 0;
    s->outstanding = 1; /* held until every request is queued */
    switch (src->kind) {
    case FX_SRC_URLS:
        for (size_t k = 0; k < src->n_urls; k++) {
            consider(p, i, src->urls[k]);
        }
        break;
    case FX_SRC_ROBOTS:
        request(p, i, src->urls[0], FX_KIND_ROBOTS, 0);
        break;
    case FX_SRC_SITEMAP:
        request(p, i, src->urls[0], FX_KIND_SITEMAP, 0);
        break;
    default:
        request(p, i, src->urls[0], FX_KIND_FEED, 0);
        break;
    }
    if (--s->outstanding == 0) {
        finish(p, i);
    }
}

/* Both return 0, or -1 if the document was broken (reported). */
static int on_robots(fx_poller *p, size_t i, int depth, const fx_result *res)
{
    fx_robots *rb = NULL;
    char errbuf[256];
    size_t n;

    if (fx_robots_parse(res->body, res->body_len, &rb, errbuf, sizeof(errbuf)) != 0) {
        fail(p, i, depth, res->url, "robots_invalid", "robots.txt: %s", errbuf);
        return -1;
    }
    n = fx_robots_n_sitemaps(rb);
    if (n == 0) {
        fail(p, i, depth, res->url, "no_sitemap", "robots.txt announces no sitemap");
    }
    for (size_t k = 0; k < n; k++) {
        char *url = NULL;
        if (fx_url_resolve(res->final_url, fx_robots_sitemap(rb, k), &url, errbuf,
                           sizeof(errbuf)) != 0) {
            fail(p, i, depth + 1, res->url, "bad_url", "robots.txt Sitemap line %zu: %s", k + 1,
                 errbuf);
            continue;
        }
        request(p, i, url, FX_KIND_SITEMAP, depth + 1);
        free(url);
    }
    fx_robots_free(rb);
    return n == 0 ? -1 : 0;
}

static int on_feed(fx_poller *p, size_t i, int depth, const fx_result *res, struct doc *d)
{
    fx_feed *feed = NULL;
    char errbuf[256];

    if (fx_feed_parse(res->body, res->body_len, res->final_url, &feed, errbuf, sizeof(errbuf)) !=
        0) {
        fail(p, i, depth, res->url, "parse_failed", "%s", errbuf);
        return -1;
    }
    if (d != NULL) {
        d->is_index = feed->kind == FX_FEED_SITEMAPINDEX;
    }
    nl_debug("document_parsed", "source=%s url=%s type=%s entries=%zu skipped=%zu",
             nl_log_q(p->st[i].src->name), nl_log_q(res->url), fx_feed_kind_name(feed->kind),
             feed->n_entries, feed->n_skipped);
    for (size_t k = 0; k < feed->n_entries; k++) {
        const fx_entry *en = &feed->entries[k];
        if (en->kind == FX_ENTRY_SITEMAP) {
            if (depth + 1 > FX_POLL_MAX_DEPTH) {
                fail(p, i, depth + 1, en->url, "too_deep", "sitemap index nested deeper than %d",
                     FX_POLL_MAX_DEPTH);
                continue;
            }
            request(p, i, en->url, FX_KIND_SITEMAP, depth + 1);
        } else {
            consider(p, i, en->url);
        }
    }
    fx_feed_free(feed);
    return 0;
}

void fx_poller_on_result(fx_poller *p, const fx_result *res)
{
    struct preq *q = res->user;
    size_t i = q->i;
    int depth = q->depth;
    struct src_state *s = &p->st[i];

    free(q);
    if (res->code != NULL) {
        char code[32];
        if (strcmp(res->code, "http_status") == 0 && res->status >= 100 && res->status <= 599) {
            snprintf(code, sizeof(code), "http_%ld", res->status);
        } else {
            snprintf(code, sizeof(code), "%s", res->code);
        }
        fail(p, i, depth, res->url, code, "%s: %s", res->code, res->reason);
    } else {
        struct doc *d = doc_get(s, res->url);
        if (d != NULL) {
            set_str(&d->etag, res->etag);
            set_str(&d->last_modified, res->last_modified);
            if (res->body_hash[0] != '\0') {
                memcpy(d->hash, res->body_hash, sizeof(d->hash));
            }
        }
        if (res->not_modified) {
            nl_debug("document_unchanged", "source=%s url=%s", nl_log_q(s->src->name),
                     nl_log_q(res->url));
        } else if ((res->kind == FX_KIND_ROBOTS ? on_robots(p, i, depth, res)
                                                : on_feed(p, i, depth, res, d)) != 0 &&
                   d != NULL) {
            /* Not "unchanged" next time: a broken document stays broken
             * until it is read and parses. */
            doc_clear(d);
        }
    }
    if (--s->outstanding == 0) {
        finish(p, i);
    }
}

/* ---- state file ---------------------------------------------------------- */

static int64_t get_int(json_t *o, const char *k, int64_t def)
{
    json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : def;
}

static void load_one(struct src_state *s, json_t *o)
{
    const fx_source *src = s->src;
    json_t *docs = json_object_get(o, "docs");
    const char *known = json_string_value(json_object_get(o, "known"));
    const char *err = json_string_value(json_object_get(o, "last_error"));
    size_t k;
    json_t *d;

    s->interval_s = get_int(o, "interval_s", s->interval_s);
    if (s->interval_s < src->min_interval_s) {
        s->interval_s = src->min_interval_s;
    }
    if (s->interval_s > src->max_interval_s) {
        s->interval_s = src->max_interval_s;
    }
    s->next_ms = get_int(o, "next_poll_ms", 0);
    s->last_new_ms = get_int(o, "last_new_ms", s->last_new_ms);
    s->last_ok_ms = get_int(o, "last_ok_ms", 0);
    s->stale_warned_ms = get_int(o, "stale_warned_ms", 0);
    s->failures = get_int(o, "failures", 0);
    if (err != NULL) {
        snprintf(s->last_error, sizeof(s->last_error), "%s", err);
    }
    json_array_foreach(docs, k, d)
    {
        const char *url = json_string_value(json_object_get(d, "url"));
        const char *hash = json_string_value(json_object_get(d, "body_hash"));
        struct doc *dc = url != NULL ? doc_get(s, url) : NULL;
        if (dc == NULL) {
            continue;
        }
        set_str(&dc->etag, json_string_value(json_object_get(d, "etag")));
        set_str(&dc->last_modified, json_string_value(json_object_get(d, "last_modified")));
        if (hash != NULL && nl_id_valid(hash)) {
            memcpy(dc->hash, hash, sizeof(dc->hash));
        }
        dc->is_index = json_is_true(json_object_get(d, "index"));
    }
    for (size_t n = known != NULL ? strlen(known) / 16 : 0, j = 0; j < n; j++) {
        char hex[17];
        memcpy(hex, known + 16 * j, 16);
        hex[16] = '\0';
        if (!nl_id_valid(hex) || known_add(s, strtoull(hex, NULL, 16)) != 0) {
            break;
        }
    }
}

static void load_state(fx_poller *p)
{
    json_error_t jerr;
    json_t *root, *srcs;
    const char *schema;

    if (p->state_path == NULL || access(p->state_path, F_OK) != 0) {
        return;
    }
    root = json_load_file(p->state_path, 0, &jerr);
    srcs = json_object_get(root, "sources");
    schema = json_string_value(json_object_get(root, "schema"));
    if (root == NULL || !json_is_object(srcs) || schema == NULL ||
        strcmp(schema, STATE_SCHEMA) != 0) {
        nl_warn("state_unreadable", "file=%s reason=%s note=\"starting afresh\"",
                nl_log_q(p->state_path), nl_log_q(root == NULL ? jerr.text : "not a state file"));
        json_decref(root);
        return;
    }
    for (size_t i = 0; i < p->srcs->n; i++) {
        json_t *o = json_object_get(srcs, p->srcs->sources[i].name);
        if (json_is_object(o)) {
            load_one(&p->st[i], o);
        }
    }
    json_decref(root);
}

fx_poller *fx_poller_new(const nl_config *cfg, const fx_sources *srcs, fx_engine *eng,
                         const char *state_path, fx_poller_emit_fn emit, void *ctx)
{
    fx_poller *p = calloc(1, sizeof(*p));
    int64_t now = nl_now_ms();

    if (p == NULL) {
        return NULL;
    }
    p->cfg = cfg;
    p->srcs = srcs;
    p->eng = eng;
    p->emit = emit;
    p->ctx = ctx;
    p->st = calloc(srcs->n ? srcs->n : 1, sizeof(*p->st));
    if (p->st == NULL || (state_path != NULL && (p->state_path = strdup(state_path)) == NULL)) {
        fx_poller_free(p);
        return NULL;
    }
    for (size_t i = 0; i < srcs->n; i++) {
        p->st[i].src = &srcs->sources[i];
        p->st[i].interval_s = srcs->sources[i].poll_interval_s;
        p->st[i].last_new_ms = now;
    }
    load_state(p);
    return p;
}

void fx_poller_free(fx_poller *p)
{
    if (p == NULL) {
        return;
    }
    for (size_t i = 0; p->st != NULL && i < p->srcs->n; i++) {
        struct src_state *s = &p->st[i];
        for (size_t k = 0; k < s->n_docs; k++) {
            doc_clear(&s->docs[k]);
            free(s->docs[k].url);
        }
        free(s->docs);
        free(s->known);
        fx_hset_free(&s->known_set);
    }
    free(p->st);
    free(p->state_path);
    free(p);
}

size_t fx_poller_start_due(fx_poller *p, int64_t now_ms, int force)
{
    size_t n = 0;
    for (size_t i = 0; i < p->srcs->n; i++) {
        if (!p->st[i].polling && (force || p->st[i].next_ms <= now_ms)) {
            n++;
            start(p, i);
        }
    }
    return n;
}

int fx_poller_busy(const fx_poller *p)
{
    for (size_t i = 0; i < p->srcs->n; i++) {
        if (p->st[i].polling) {
            return 1;
        }
    }
    return 0;
}

int64_t fx_poller_next_due_ms(const fx_poller *p)
{
    int64_t next = INT64_MAX;
    for (size_t i = 0; i < p->srcs->n; i++) {
        if (!p->st[i].polling && p->st[i].next_ms < next) {
            next = p->st[i].next_ms;
        }
    }
    return next;
}

void fx_poller_forget(fx_poller *p, size_t i, uint64_t hash)
{
    struct src_state *s = &p->st[i];
    size_t w = 0;

    for (size_t k = 0; k < s->n_known; k++) {
        if (s->known[k] != hash) {
            s->known[w++] = s->known[k];
        }
    }
    s->n_known = w;
    known_rebuild(s);
    /* Unchanged documents are not parsed again: drop the validators so the
     * next poll reads them and offers the URL again. */
    for (size_t k = 0; k < s->n_docs; k++) {
        doc_clear(&s->docs[k]);
    }
}

void fx_poller_counts(const fx_poller *p, size_t *polls, size_t *failed)
{
    *polls = p->n_polls;
    *failed = p->n_failed;
}

static int obj_set(json_t *o, const char *k, json_t *v)
{
    /* json_object_set_new fails on a NULL value (invalid UTF-8 in a
     * header): such a validator is simply not kept. */
    return v != NULL ? json_object_set_new(o, k, v) : 0;
}

static json_t *dump_one(const struct src_state *s)
{
    json_t *o = json_object();
    json_t *docs = json_array();
    char *known = malloc(s->n_known * 16 + 1);
    int rc;

    if (o == NULL || docs == NULL || known == NULL) {
        goto fail;
    }
    for (size_t k = 0; k < s->n_known; k++) {
        snprintf(known + 16 * k, 17, "%016" PRIx64, s->known[k]);
    }
    known[16 * s->n_known] = '\0';
    for (size_t k = 0; k < s->n_docs; k++) {
        const struct doc *d = &s->docs[k];
        json_t *jd = json_object();
        if (jd == NULL || json_array_append_new(docs, jd) != 0) {
            goto fail;
        }
        obj_set(jd, "url", json_string(d->url));
        if (d->etag != NULL) {
            obj_set(jd, "etag", json_string(d->etag));
        }
        if (d->last_modified != NULL) {
            obj_set(jd, "last_modified", json_string(d->last_modified));
        }
        if (d->hash[0] != '\0') {
            obj_set(jd, "body_hash", json_string(d->hash));
        }
        if (d->is_index) {
            obj_set(jd, "index", json_true());
        }
    }
    rc = obj_set(o, "interval_s", json_integer(s->interval_s));
    rc |= obj_set(o, "next_poll_ms", json_integer(s->next_ms));
    rc |= obj_set(o, "last_new_ms", json_integer(s->last_new_ms));
    rc |= obj_set(o, "last_ok_ms", json_integer(s->last_ok_ms));
    rc |= obj_set(o, "stale_warned_ms", json_integer(s->stale_warned_ms));
    rc |= obj_set(o, "failures", json_integer(s->failures));
    if (s->last_error[0] != '\0') {
        obj_set(o, "last_error", json_string(s->last_error));
    }
    rc |= obj_set(o, "known", json_string(known));
    rc |= json_object_set_new(o, "docs", docs);
    docs = NULL;
    free(known);
    if (rc != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
fail:
    json_decref(o);
    json_decref(docs);
    free(known);
    return NULL;
}

int fx_poller_save(fx_poller *p, char *errbuf, size_t errlen)
{
    json_t *root = json_pack("{s:s}", "schema", STATE_SCHEMA);
    json_t *srcs = json_object();
    char tmp[4096], dir[4096];
    char *text = NULL;
    int fd = -1, rc = NL_ENOMEM;
    size_t len;

    if (p->state_path == NULL) {
        json_decref(root);
        json_decref(srcs);
        return 0;
    }
    if (root == NULL || srcs == NULL || json_object_set(root, "sources", srcs) != 0) {
        nl_errf(errbuf, errlen, rc, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < p->srcs->n; i++) {
        json_t *o = dump_one(&p->st[i]);
        if (o == NULL || json_object_set_new(srcs, p->st[i].src->name, o) != 0) {
            nl_errf(errbuf, errlen, rc, "out of memory");
            goto out;
        }
    }
    text = json_dumps(root, JSON_COMPACT);
    if (text == NULL) {
        nl_errf(errbuf, errlen, rc, "out of memory");
        goto out;
    }
    len = strlen(text);
    snprintf(tmp, sizeof(tmp), "%s.tmp", p->state_path);
    snprintf(dir, sizeof(dir), "%s", p->state_path);
    rc = NL_EIO;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) != 0) {
        nl_errf(errbuf, errlen, rc, "%s: %s", tmp, strerror(errno));
        goto out;
    }
    close(fd);
    fd = -1;
    if (rename(tmp, p->state_path) != 0) {
        nl_errf(errbuf, errlen, rc, "%s: rename: %s", p->state_path, strerror(errno));
        goto out;
    }
    fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
    }
    rc = 0;
out:
    if (fd >= 0) {
        close(fd);
    }
    free(text);
    json_decref(srcs);
    json_decref(root);
    return rc;
}

void fx_poller_set_metrics(fx_poller *p, nl_metrics *m)
{
    static const char *const src_l[] = {"source", "result"};
    static const char *const err_l[] = {"source", "code"};
    /* one series per source of the file (two for polls): the file is the
     * bound on the label values */
    size_t n = p->srcs->n;
    nl_metric *last_ok = nl_metrics_gauge(
        m, "newsline_fetcher_source_last_success_timestamp_seconds",
        "When the source was last polled without error (Unix time; 0: never)", 1, src_l, n);
    nl_metric *failures = nl_metrics_gauge(
        m, "newsline_fetcher_source_consecutive_failures",
        "Polls of the source that failed in a row (0 after a good poll)", 1, src_l, n);
    nl_metric *polls =
        nl_metrics_counter(m, "newsline_fetcher_source_polls_total",
                           "Polls of the source finished, by result (ok, failed)", 2, src_l, 2 * n);
    nl_metric *items = nl_metrics_counter(
        m, "newsline_fetcher_source_items_new_total",
        "New article URLs the source's polls found (allowed by its patterns, not known before)", 1,
        src_l, n);

    p->m_error_info = nl_metrics_gauge(
        m, "newsline_fetcher_source_last_error_info",
        "Always 1; code is the source's last error (an engine failure code, http_<status>, "
        "parse_failed, robots_invalid, no_sitemap, bad_url, too_deep, no_memory) since start",
        2, err_l, n);
    for (size_t i = 0; i < n; i++) {
        struct src_state *s = &p->st[i];
        const char *v_ok[2] = {s->src->name, "ok"};
        const char *v_failed[2] = {s->src->name, "failed"};
        s->m_last_ok = nl_metric_series(last_ok, v_ok);
        s->m_failures = nl_metric_series(failures, v_ok);
        s->m_polls_ok = nl_metric_series(polls, v_ok);
        s->m_polls_failed = nl_metric_series(polls, v_failed);
        s->m_new = nl_metric_series(items, v_ok);
        s->m_error = NULL;
        s->m_code[0] = '\0';
        metrics_polled(p, s);
    }
}
