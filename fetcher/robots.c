/* robots.txt parsing and matching (RFC 9309); the rules are in robots.h. */
#include "robots.h"

#include "nl_buf.h"
#include "nl_err.h"
#include "url.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { MODE_RULES, MODE_ALLOW_ALL, MODE_DISALLOW_ALL };

struct rule {
    char *pat; /* percent-normalised */
    size_t len;
    int allow;
};

struct group {
    char **agents; /* product tokens as written, or "*" */
    size_t n_agents;
    struct rule *rules;
    size_t n_rules;
    int64_t delay_ms; /* -1: none */
};

struct fx_robots {
    int mode;
    struct group *groups;
    size_t n_groups;
    char **sitemaps;
    size_t n_sitemaps;
    int truncated;
};

#define DAY_MS (86400 * 1000LL)

void fx_robots_free(fx_robots *r)
{
    if (r == NULL) {
        return;
    }
    for (size_t g = 0; g < r->n_groups; g++) {
        for (size_t i = 0; i < r->groups[g].n_agents; i++) {
            free(r->groups[g].agents[i]);
        }
        for (size_t i = 0; i < r->groups[g].n_rules; i++) {
            free(r->groups[g].rules[i].pat);
        }
        free(r->groups[g].agents);
        free(r->groups[g].rules);
    }
    for (size_t i = 0; i < r->n_sitemaps; i++) {
        free(r->sitemaps[i]);
    }
    free(r->groups);
    free(r->sitemaps);
    free(r);
}

void fx_robots_product_token(const char *user_agent, char *out, size_t size)
{
    size_t n = 0;

    if (size == 0) {
        return;
    }
    while (
        user_agent != NULL && n + 1 < size &&
        (isalpha((unsigned char)user_agent[n]) || user_agent[n] == '_' || user_agent[n] == '-')) {
        out[n] = user_agent[n];
        n++;
    }
    out[n] = '\0';
}

/* Grows *arr (of elem-size items, *n used) by one; the new item is zeroed
 * and returned, or NULL (the array unchanged) when memory runs out. */
static void *push(void **arr, size_t *n, size_t elem)
{
    char *p = realloc(*arr, (*n + 1) * elem);
    if (p == NULL) {
        return NULL;
    }
    *arr = p;
    memset(p + *n * elem, 0, elem);
    return p + (*n)++ * elem;
}

static char *strndup_or_null(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p != NULL) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

/* Crawl-delay "10", "0.5", "2.5 s": milliseconds, or -1 if not a number. */
static int64_t parse_delay(const char *v, size_t n)
{
    int64_t ms = 0, scale = 1000;
    size_t i = 0;

    if (n == 0 || !isdigit((unsigned char)v[0])) {
        return -1;
    }
    for (; i < n && isdigit((unsigned char)v[i]); i++) {
        ms = ms * 10 + (v[i] - '0') * 1000;
        if (ms > DAY_MS) {
            return DAY_MS;
        }
    }
    if (i < n && v[i] == '.') {
        for (i++; i < n && isdigit((unsigned char)v[i]) && scale > 1; i++) {
            scale /= 10;
            ms += (v[i] - '0') * scale;
        }
    }
    return ms;
}

static int key_is(const char *k, size_t n, const char *want)
{
    return strlen(want) == n && strncasecmp(k, want, n) == 0;
}

struct parser {
    fx_robots *r;
    struct group *cur; /* the group rules go to, NULL before any user-agent */
    int in_agents;     /* the last group line was a user-agent line */
};

static int on_line(struct parser *ps, const char *k, size_t kn, const char *v, size_t vn)
{
    fx_robots *r = ps->r;

    if (key_is(k, kn, "user-agent")) {
        char tok[128];
        char **slot;
        if (vn > 0 && v[0] == '*') {
            strcpy(tok, "*");
        } else {
            size_t n = 0;
            while (n < vn && n + 1 < sizeof(tok) &&
                   (isalpha((unsigned char)v[n]) || v[n] == '_' || v[n] == '-')) {
                tok[n] = v[n];
                n++;
            }
            tok[n] = '\0';
        }
        if (tok[0] == '\0') {
            return 0;
        }
        if (!ps->in_agents || ps->cur == NULL) {
            ps->cur = push((void **)&r->groups, &r->n_groups, sizeof(*r->groups));
            if (ps->cur == NULL) {
                return NL_ENOMEM;
            }
            ps->cur->delay_ms = -1;
            ps->in_agents = 1;
        }
        slot = push((void **)&ps->cur->agents, &ps->cur->n_agents, sizeof(char *));
        if (slot == NULL) {
            return NL_ENOMEM;
        }
        *slot = strdup(tok);
        if (*slot == NULL) {
            ps->cur->n_agents--;
            return NL_ENOMEM;
        }
        return 0;
    }
    if (key_is(k, kn, "allow") || key_is(k, kn, "disallow")) {
        struct rule *rule;
        nl_buf b;
        int rc;
        if (ps->cur == NULL) {
            return 0; /* a rule outside any group */
        }
        ps->in_agents = 0;
        if (vn == 0) {
            return 0;
        }
        nl_buf_init(&b, 3 * FX_ROBOTS_MAX);
        rc = fx_url_pct_norm(&b, v, vn, 1);
        if (rc != 0) {
            return rc;
        }
        rule = push((void **)&ps->cur->rules, &ps->cur->n_rules, sizeof(*rule));
        if (rule == NULL) {
            nl_buf_free(&b);
            return NL_ENOMEM;
        }
        rule->allow = kn == 5;
        rule->pat = nl_buf_steal(&b, &rule->len);
        return 0;
    }
    if (key_is(k, kn, "crawl-delay")) {
        int64_t ms = parse_delay(v, vn);
        if (ps->cur != NULL) {
            ps->in_agents = 0;
            if (ms >= 0) {
                ps->cur->delay_ms = ms;
            }
        }
        return 0;
    }
    if (key_is(k, kn, "sitemap") && vn > 0) {
        char **slot = push((void **)&r->sitemaps, &r->n_sitemaps, sizeof(char *));
        if (slot == NULL) {
            return NL_ENOMEM;
        }
        *slot = strndup_or_null(v, vn);
        if (*slot == NULL) {
            r->n_sitemaps--;
            return NL_ENOMEM;
        }
    }
    return 0; /* other keys: ignored, and they do not end a group */
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

int fx_robots_parse(const char *body, size_t len, fx_robots **out, char *errbuf, size_t errlen)
{
    struct parser ps = {0};
    size_t i = 0;
    int rc = 0;

    *out = NULL;
    ps.r = calloc(1, sizeof(*ps.r));
    if (ps.r == NULL) {
        return nl_errf(errbuf, errlen, NL_ENOMEM, "robots.txt: out of memory");
    }
    ps.r->mode = MODE_RULES;
    if (len > FX_ROBOTS_MAX) {
        /* the RFC's limit; a line cut by it is dropped */
        len = FX_ROBOTS_MAX;
        while (len > 0 && body[len - 1] != '\n' && body[len - 1] != '\r') {
            len--;
        }
        ps.r->truncated = 1;
    }
    if (len >= 3 && memcmp(body, "\xef\xbb\xbf", 3) == 0) {
        i = 3;
    }
    while (i < len && rc == 0) {
        size_t end = i, k0, k1, v0, v1;
        while (end < len && body[end] != '\n' && body[end] != '\r' && body[end] != '\0') {
            end++;
        }
        /* the line is body[i..end); strip the comment, split at ':' */
        v1 = i;
        while (v1 < end && body[v1] != '#') {
            v1++;
        }
        k0 = i;
        while (k0 < v1 && is_blank(body[k0])) {
            k0++;
        }
        k1 = k0;
        while (k1 < v1 && body[k1] != ':') {
            k1++;
        }
        if (k1 < v1) {
            v0 = k1 + 1;
            while (k1 > k0 && is_blank(body[k1 - 1])) {
                k1--;
            }
            while (v0 < v1 && is_blank(body[v0])) {
                v0++;
            }
            while (v1 > v0 && is_blank(body[v1 - 1])) {
                v1--;
            }
            rc = on_line(&ps, body + k0, k1 - k0, body + v0, v1 - v0);
        }
        i = end + 1;
    }
    if (rc != 0) {
        fx_robots_free(ps.r);
        return nl_errf(errbuf, errlen, NL_ENOMEM, "robots.txt: out of memory");
    }
    *out = ps.r;
    return 0;
}

int fx_robots_for_status(int http_status, fx_robots **out, char *errbuf, size_t errlen)
{
    *out = NULL;
    if (http_status >= 200 && http_status < 300) {
        return nl_errf(errbuf, errlen, NL_EINVAL, "robots.txt: status %d has a body to parse",
                       http_status);
    }
    *out = calloc(1, sizeof(**out));
    if (*out == NULL) {
        return nl_errf(errbuf, errlen, NL_ENOMEM, "robots.txt: out of memory");
    }
    /* 4xx: unavailable, so unrestricted (RFC 9309 2.3.1.3), except 429,
     * which says to back off and is treated as unreachable (like Google);
     * 3xx here means redirects past the limit, also "unavailable". */
    if ((http_status >= 400 && http_status < 500 && http_status != 429) ||
        (http_status >= 300 && http_status < 400)) {
        (*out)->mode = MODE_ALLOW_ALL;
    } else {
        (*out)->mode = MODE_DISALLOW_ALL;
    }
    return 0;
}

/* Whether pattern p[0..pn) matches path s: '*' any run, a final '$' the
 * end; otherwise a prefix match. Greedy with one backtrack point, so
 * O(pn * |s|) at worst and linear in practice. */
static int pattern_match(const char *p, size_t pn, const char *s)
{
    int anchored = pn > 0 && p[pn - 1] == '$';
    size_t i = 0, j = 0, star_i = SIZE_MAX, star_j = 0;

    if (anchored) {
        pn--;
    }
    for (;;) {
        if (i == pn && (!anchored || s[j] == '\0')) {
            return 1;
        }
        if (i < pn && p[i] == '*') {
            star_i = i++;
            star_j = j;
        } else if (i < pn && s[j] != '\0' && p[i] == s[j]) {
            i++;
            j++;
        } else if (star_i != SIZE_MAX && s[star_j] != '\0') {
            i = star_i + 1;
            j = ++star_j;
        } else {
            return 0;
        }
    }
}

/* The groups that apply to user_agent, at most max of them, into out: the
 * groups naming its product token, else the "*" groups. */
static size_t applicable(const fx_robots *r, const char *user_agent, const struct group **out,
                         size_t max)
{
    char tok[128];
    size_t n = 0;

    fx_robots_product_token(user_agent, tok, sizeof(tok));
    for (int pass = 0; pass < 2 && n == 0; pass++) {
        for (size_t g = 0; g < r->n_groups && n < max; g++) {
            int hit = 0;
            for (size_t a = 0; a < r->groups[g].n_agents && !hit; a++) {
                const char *agent = r->groups[g].agents[a];
                hit = pass == 0 ? tok[0] != '\0' && strcasecmp(agent, tok) == 0
                                : strcmp(agent, "*") == 0;
            }
            if (hit) {
                out[n++] = &r->groups[g];
            }
        }
    }
    return n;
}

#define MAX_GROUPS 64

int fx_robots_allowed(const fx_robots *r, const char *user_agent, const char *path_and_query)
{
    const struct group *groups[MAX_GROUPS];
    size_t ng, best_len = 0;
    int allowed = 1, found = 0;
    nl_buf b;

    if (r->mode != MODE_RULES) {
        return r->mode == MODE_ALLOW_ALL;
    }
    if (path_and_query == NULL || path_and_query[0] == '\0') {
        path_and_query = "/";
    }
    nl_buf_init(&b, 3 * FX_URL_MAX);
    if (fx_url_pct_norm(&b, path_and_query, strlen(path_and_query), 1) != 0) {
        return 0; /* no memory or an absurd path: do not fetch */
    }
    if (strcmp(b.ptr, "/robots.txt") == 0) {
        nl_buf_free(&b);
        return 1;
    }
    ng = applicable(r, user_agent, groups, MAX_GROUPS);
    for (size_t g = 0; g < ng; g++) {
        for (size_t i = 0; i < groups[g]->n_rules; i++) {
            const struct rule *rule = &groups[g]->rules[i];
            if (found && (rule->len < best_len || (rule->len == best_len && !rule->allow))) {
                continue;
            }
            if (pattern_match(rule->pat, rule->len, b.ptr)) {
                found = 1;
                best_len = rule->len;
                allowed = rule->allow;
            }
        }
    }
    nl_buf_free(&b);
    return allowed;
}

int fx_robots_allowed_url(const fx_robots *r, const char *user_agent, const char *url)
{
    const char *p = strstr(url, "://");
    char *path;
    size_t n;
    int ok;

    if (p == NULL) {
        return 0;
    }
    p += 3;
    p += strcspn(p, "/?#");
    n = strcspn(p, "#");
    if (n == 0 || p[0] == '?') {
        /* "http://host" or "http://host?q": the path is "/" */
        path = malloc(n + 2);
        if (path == NULL) {
            return 0;
        }
        path[0] = '/';
        memcpy(path + 1, p, n);
        path[n + 1] = '\0';
    } else {
        path = strndup_or_null(p, n);
        if (path == NULL) {
            return 0;
        }
    }
    ok = fx_robots_allowed(r, user_agent, path);
    free(path);
    return ok;
}

int64_t fx_robots_crawl_delay_ms(const fx_robots *r, const char *user_agent)
{
    const struct group *groups[MAX_GROUPS];
    size_t ng = applicable(r, user_agent, groups, MAX_GROUPS);
    int64_t ms = -1;

    /* merged groups: the longest delay any of them asks for */
    for (size_t g = 0; g < ng; g++) {
        if (groups[g]->delay_ms > ms) {
            ms = groups[g]->delay_ms;
        }
    }
    return ms;
}

size_t fx_robots_n_sitemaps(const fx_robots *r)
{
    return r->n_sitemaps;
}

const char *fx_robots_sitemap(const fx_robots *r, size_t i)
{
    return i < r->n_sitemaps ? r->sitemaps[i] : NULL;
}

int fx_robots_truncated(const fx_robots *r)
{
    return r->truncated;
}

int fx_robots_url(const char *site_url, char **out, char *errbuf, size_t errlen)
{
    return fx_url_resolve(site_url, "/robots.txt", out, errbuf, errlen);
}
