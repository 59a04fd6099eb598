/* Loading and validating the sources file; the poll interval rule. */
#include "sources.h"

#include "nl_err.h"
#include "robots.h"
#include "url.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[] = {"rss", "atom", "sitemap", "urls", "robots", NULL};

#define MAX_NAME 128
#define MAX_USER_AGENT 256
#define MAX_PATTERN 1024
#define MAX_URLS 100000

struct loader {
    char *err;
    size_t errlen;
    const char *where; /* "sources[2] (bbc)" or "defaults" */
};

static int bad(struct loader *ld, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "<where>.<field>: <reason>" */
static int bad(struct loader *ld, const char *field, const char *fmt, ...)
{
    char reason[200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    return nl_errf(ld->err, ld->errlen, NL_EINVAL, "%s%s%s: %s", ld->where, field[0] ? "." : "",
                   field, reason);
}

static int oom(struct loader *ld)
{
    return nl_errf(ld->err, ld->errlen, NL_ENOMEM, "out of memory");
}

const char *fx_source_kind_name(fx_source_kind kind)
{
    return kind <= FX_SRC_ROBOTS ? kind_names[kind] : "unknown";
}

void fx_sources_free(fx_sources *s)
{
    if (s == NULL) {
        return;
    }
    for (size_t i = 0; i < s->n; i++) {
        fx_source *src = &s->sources[i];
        free(src->name);
        for (size_t k = 0; k < src->n_urls; k++) {
            free(src->urls[k]);
        }
        free(src->urls);
        free(src->user_agent);
        for (size_t k = 0; k < src->n_allow; k++) {
            regfree(&src->allow[k]);
        }
        for (size_t k = 0; k < src->n_deny; k++) {
            regfree(&src->deny[k]);
        }
        free(src->allow);
        free(src->deny);
    }
    free(s->sources);
    free(s);
}

static int check_fields(struct loader *ld, json_t *obj, const char *const *known)
{
    const char *key;
    json_t *v;

    json_object_foreach(obj, key, v)
    {
        int ok = key[0] == '_';
        for (size_t j = 0; known[j] != NULL && !ok; j++) {
            ok = strcmp(key, known[j]) == 0;
        }
        if (!ok) {
            return bad(ld, key, "unknown field");
        }
    }
    return 0;
}

/* An optional integer field within [lo, hi] into *out (untouched if
 * absent). */
static int get_int(struct loader *ld, json_t *obj, const char *field, int64_t lo, int64_t hi,
                   int64_t *out)
{
    json_t *v = json_object_get(obj, field);

    if (v == NULL) {
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        return bad(ld, field, "must be an integer from %lld to %lld", (long long)lo, (long long)hi);
    }
    *out = json_integer_value(v);
    return 0;
}

/* An optional user agent (printable ASCII) into *out (replacing it). */
static int get_user_agent(struct loader *ld, json_t *obj, char **out)
{
    json_t *v = json_object_get(obj, "user_agent");
    const char *s = json_string_value(v);
    char *copy;

    if (v == NULL) {
        return 0;
    }
    if (s == NULL || s[0] == '\0' || strlen(s) > MAX_USER_AGENT) {
        return bad(ld, "user_agent", "must be a string of 1 to %d characters", MAX_USER_AGENT);
    }
    for (const char *p = s; *p != '\0'; p++) {
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f) {
            return bad(ld, "user_agent", "must be printable ASCII");
        }
    }
    copy = strdup(s);
    if (copy == NULL) {
        return oom(ld);
    }
    free(*out);
    *out = copy;
    return 0;
}

struct settings {
    int64_t poll, min, max, delay_ms;
    char *user_agent;
};

/* The settings obj gives, over those in st. A poll interval inherited
 * from the defaults is clamped into the entry's own bounds; one given
 * outside them is an error. */
static int get_settings(struct loader *ld, json_t *obj, struct settings *st)
{
    int given = json_object_get(obj, "poll_interval_s") != NULL;
    int rc = get_int(ld, obj, "poll_interval_s", FX_POLL_FLOOR_S, FX_POLL_CEILING_S, &st->poll);
    if (rc == 0) {
        rc = get_int(ld, obj, "min_poll_interval_s", FX_POLL_FLOOR_S, FX_POLL_CEILING_S, &st->min);
    }
    if (rc == 0) {
        rc = get_int(ld, obj, "max_poll_interval_s", FX_POLL_FLOOR_S, FX_POLL_CEILING_S, &st->max);
    }
    if (rc == 0) {
        rc = get_int(ld, obj, "delay_ms", 0, FX_DELAY_MAX_MS, &st->delay_ms);
    }
    if (rc == 0) {
        rc = get_user_agent(ld, obj, &st->user_agent);
    }
    if (rc == 0 && st->min > st->max) {
        rc = bad(ld, "min_poll_interval_s", "is over max_poll_interval_s (%lld)",
                 (long long)st->max);
    }
    if (rc == 0 && !given) {
        st->poll = st->poll < st->min ? st->min : st->poll > st->max ? st->max : st->poll;
    }
    if (rc == 0 && (st->poll < st->min || st->poll > st->max)) {
        rc = bad(ld, "poll_interval_s",
                 "must be within min_poll_interval_s and "
                 "max_poll_interval_s (%lld to %lld)",
                 (long long)st->min, (long long)st->max);
    }
    return rc;
}

/* "allow" or "deny": an array of regular expressions. */
static int get_patterns(struct loader *ld, json_t *obj, const char *field, regex_t **out, size_t *n)
{
    json_t *arr = json_object_get(obj, field), *v;
    char where[64];
    size_t k;

    if (arr == NULL) {
        return 0;
    }
    if (!json_is_array(arr)) {
        return bad(ld, field, "must be an array of regular expressions");
    }
    *out = calloc(json_array_size(arr) + 1, sizeof(**out));
    if (*out == NULL) {
        return oom(ld);
    }
    json_array_foreach(arr, k, v)
    {
        const char *pat = json_string_value(v);
        int rc;
        snprintf(where, sizeof(where), "%s[%zu]", field, k);
        if (pat == NULL || pat[0] == '\0' || strlen(pat) > MAX_PATTERN) {
            return bad(ld, where, "must be a regular expression of 1 to %d characters",
                       MAX_PATTERN);
        }
        rc = regcomp(&(*out)[*n], pat, REG_EXTENDED | REG_NOSUB);
        if (rc != 0) {
            char msg[128];
            regerror(rc, &(*out)[*n], msg, sizeof(msg));
            regfree(&(*out)[*n]);
            return rc == REG_ESPACE ? oom(ld) : bad(ld, where, "bad regex: %s", msg);
        }
        (*n)++;
    }
    return 0;
}

static int add_url(struct loader *ld, fx_source *src, const char *field, const char *url)
{
    char *norm = NULL, reason[200];
    int rc = fx_url_normalize(url, &norm, reason, sizeof(reason));

    if (rc == NL_ENOMEM) {
        return oom(ld);
    }
    if (rc != 0) {
        return bad(ld, field, "%s", reason);
    }
    if (src->kind == FX_SRC_ROBOTS) {
        char *robots = NULL;
        rc = fx_robots_url(norm, &robots, reason, sizeof(reason));
        free(norm);
        if (rc != 0) {
            return rc == NL_ENOMEM ? oom(ld) : bad(ld, field, "%s", reason);
        }
        norm = robots;
    }
    src->urls[src->n_urls++] = norm;
    return 0;
}

static int load_urls(struct loader *ld, fx_source *src, json_t *obj)
{
    json_t *url = json_object_get(obj, "url"), *urls = json_object_get(obj, "urls"), *v;
    char field[32];
    size_t k;

    if (src->kind == FX_SRC_URLS) {
        if (url != NULL) {
            return bad(ld, "url", "kind urls takes \"urls\": [...]");
        }
        if (!json_is_array(urls) || json_array_size(urls) == 0 ||
            json_array_size(urls) > MAX_URLS) {
            return bad(ld, "urls", "must be an array of 1 to %d URLs", MAX_URLS);
        }
    } else {
        if (urls != NULL) {
            return bad(ld, "urls", "only kind urls takes a list; use \"url\"");
        }
        if (!json_is_string(url)) {
            return bad(ld, "url", "must be a URL");
        }
    }
    src->urls = calloc(url != NULL ? 1 : json_array_size(urls), sizeof(*src->urls));
    if (src->urls == NULL) {
        return oom(ld);
    }
    if (url != NULL) {
        return add_url(ld, src, "url", json_string_value(url));
    }
    json_array_foreach(urls, k, v)
    {
        int rc;
        snprintf(field, sizeof(field), "urls[%zu]", k);
        if (!json_is_string(v)) {
            return bad(ld, field, "must be a URL");
        }
        rc = add_url(ld, src, field, json_string_value(v));
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

static int load_source(struct loader *ld, fx_sources *s, size_t i, json_t *obj,
                       const struct settings *defaults)
{
    static const char *const fields[] = {"name",
                                         "kind",
                                         "url",
                                         "urls",
                                         "poll_interval_s",
                                         "min_poll_interval_s",
                                         "max_poll_interval_s",
                                         "user_agent",
                                         "delay_ms",
                                         "allow",
                                         "deny",
                                         NULL};
    fx_source *src = &s->sources[i];
    const char *name = json_string_value(json_object_get(obj, "name"));
    const char *kind = json_string_value(json_object_get(obj, "kind"));
    struct settings st = *defaults;
    char where[MAX_NAME + 32];
    int rc, found = 0;

    snprintf(where, sizeof(where), "sources[%zu]", i);
    ld->where = where;
    if (!json_is_object(obj)) {
        return bad(ld, "", "must be an object");
    }
    if (name == NULL || name[0] == '\0' || strlen(name) > MAX_NAME) {
        return bad(ld, "name", "must be a string of 1 to %d characters", MAX_NAME);
    }
    for (size_t j = 0; j < i; j++) {
        if (strcmp(s->sources[j].name, name) == 0) {
            return bad(ld, "name", "\"%s\" is already used by sources[%zu]", name, j);
        }
    }
    src->name = strdup(name);
    s->n = i + 1;
    if (src->name == NULL) {
        return oom(ld);
    }
    snprintf(where, sizeof(where), "sources[%zu] (%s)", i, name);
    rc = check_fields(ld, obj, fields);
    if (rc != 0) {
        return rc;
    }
    for (int k = 0; kind != NULL && kind_names[k] != NULL; k++) {
        if (strcmp(kind, kind_names[k]) == 0) {
            src->kind = (fx_source_kind)k;
            found = 1;
        }
    }
    if (!found) {
        return bad(ld, "kind", "must be rss, atom, sitemap, urls or robots");
    }
    rc = load_urls(ld, src, obj);
    if (rc == 0) {
        st.user_agent = NULL; /* the default's copy is made below */
        rc = get_settings(ld, obj, &st);
    }
    if (rc == 0 && st.user_agent == NULL && defaults->user_agent != NULL) {
        st.user_agent = strdup(defaults->user_agent);
        rc = st.user_agent == NULL ? oom(ld) : 0;
    }
    src->user_agent = st.user_agent;
    src->poll_interval_s = st.poll;
    src->min_interval_s = st.min;
    src->max_interval_s = st.max;
    src->delay_ms = st.delay_ms;
    if (rc == 0) {
        rc = get_patterns(ld, obj, "allow", &src->allow, &src->n_allow);
    }
    if (rc == 0) {
        rc = get_patterns(ld, obj, "deny", &src->deny, &src->n_deny);
    }
    return rc;
}

static int load_all(struct loader *ld, json_t *root, fx_sources *s)
{
    static const char *const top[] = {"sources", "defaults", NULL};
    static const char *const dfields[] = {"poll_interval_s",
                                          "min_poll_interval_s",
                                          "max_poll_interval_s",
                                          "user_agent",
                                          "delay_ms",
                                          NULL};
    json_t *list = json_object_get(root, "sources");
    json_t *dflt = json_object_get(root, "defaults");
    struct settings defaults = {FX_POLL_DEFAULT_S, FX_POLL_MIN_DEFAULT_S, FX_POLL_MAX_DEFAULT_S,
                                FX_DELAY_DEFAULT_MS, NULL};
    int rc;

    ld->where = "(top level)";
    if (!json_is_object(root)) {
        return bad(ld, "", "must be an object");
    }
    rc = check_fields(ld, root, top);
    if (rc != 0) {
        return rc;
    }
    if (!json_is_array(list) || json_array_size(list) == 0) {
        return bad(ld, "sources", "must be a non-empty array");
    }
    if (dflt != NULL) {
        ld->where = "defaults";
        if (!json_is_object(dflt)) {
            return bad(ld, "", "must be an object");
        }
        rc = check_fields(ld, dflt, dfields);
        if (rc == 0) {
            rc = get_settings(ld, dflt, &defaults);
        }
    }
    s->sources = calloc(json_array_size(list), sizeof(*s->sources));
    if (rc == 0 && s->sources == NULL) {
        rc = oom(ld);
    }
    for (size_t i = 0; rc == 0 && i < json_array_size(list); i++) {
        rc = load_source(ld, s, i, json_array_get(list, i), &defaults);
    }
    free(defaults.user_agent);
    return rc;
}

/* Loads root (a reference is taken over) into *out. */
static int load_root(json_t *root, const char *label, fx_sources **out, char *errbuf, size_t errlen)
{
    struct loader ld = {errbuf, errlen, ""};
    fx_sources *s = calloc(1, sizeof(*s));
    int rc;

    if (s == NULL) {
        json_decref(root);
        return nl_errf(errbuf, errlen, NL_ENOMEM, "sources %s: out of memory", label);
    }
    rc = load_all(&ld, root, s);
    json_decref(root);
    if (rc != 0) {
        if (errbuf != NULL && errlen > 0) {
            char tmp[512];
            snprintf(tmp, sizeof(tmp), "sources %s: %s", label, errbuf);
            snprintf(errbuf, errlen, "%s", tmp);
        }
        fx_sources_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

int fx_sources_parse(const char *json, size_t len, const char *label, fx_sources **out,
                     char *errbuf, size_t errlen)
{
    json_error_t jerr;
    json_t *root;

    *out = NULL;
    root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        return nl_errf(errbuf, errlen, NL_EINVAL, "sources %s: line %d: %s", label, jerr.line,
                       jerr.text);
    }
    return load_root(root, label, out, errbuf, errlen);
}

int fx_sources_load(const char *path, fx_sources **out, char *errbuf, size_t errlen)
{
    json_error_t jerr;
    json_t *root;

    *out = NULL;
    root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL && jerr.line < 0) {
        /* jansson reports a file it cannot open with line -1 */
        return nl_errf(errbuf, errlen, NL_EIO, "sources %s: %s", path, jerr.text);
    }
    if (root == NULL) {
        return nl_errf(errbuf, errlen, NL_EINVAL, "sources %s: line %d: %s", path, jerr.line,
                       jerr.text);
    }
    return load_root(root, path, out, errbuf, errlen);
}

int fx_source_url_allowed(const fx_source *src, const char *url)
{
    int allowed = src->n_allow == 0;

    for (size_t k = 0; k < src->n_deny; k++) {
        if (regexec(&src->deny[k], url, 0, NULL, 0) == 0) {
            return 0;
        }
    }
    for (size_t k = 0; k < src->n_allow && !allowed; k++) {
        allowed = regexec(&src->allow[k], url, 0, NULL, 0) == 0;
    }
    return allowed;
}

int64_t fx_poll_next(int64_t interval_s, uint64_t new_items, int64_t min_s, int64_t max_s)
{
    if (max_s < min_s) {
        max_s = min_s;
    }
    if (interval_s < min_s) {
        interval_s = min_s;
    }
    if (interval_s > max_s) {
        interval_s = max_s;
    }
    if (new_items > 0) {
        interval_s /= 2;
        return interval_s < min_s ? min_s : interval_s;
    }
    if (interval_s > max_s - (interval_s / 2 > 0 ? interval_s / 2 : 1)) {
        return max_s;
    }
    return interval_s + (interval_s / 2 > 0 ? interval_s / 2 : 1);
}

int64_t fx_poll_interval(int64_t start_s, const uint64_t *new_items, size_t n, int64_t min_s,
                         int64_t max_s)
{
    int64_t interval_s = start_s < min_s ? min_s : start_s > max_s ? max_s : start_s;
    for (size_t i = 0; i < n; i++) {
        interval_s = fx_poll_next(interval_s, new_items[i], min_s, max_s);
    }
    return interval_s;
}
