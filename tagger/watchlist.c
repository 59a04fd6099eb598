/* Loading and validating a watchlist file; the tagging is in tag.c. */
#include "watchlist.h"

#include "jsonw.h"
#include "matcher.h"
#include "nl_err.h"
#include "wl_internal.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kinds[] = {"person", "state", "organisation", "place", NULL};

/* The matcher's patterns as they are collected, with a hash table from a
 * name's matching key (see name_key) to its pattern, so that a name given
 * twice is one pattern and a name claimed by two actors is an error. */
struct loader {
    watchlist *wl;
    mt_pattern *pats;
    char **keys; /* matching key of each pattern */
    size_t n, cap;
    size_t *slots; /* open addressing: pattern index + 1, 0 empty */
    size_t n_slots;
    size_t cues_cap;
    char *err;
    size_t errlen;
};

static int bad(struct loader *ld, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int bad(struct loader *ld, const char *fmt, ...)
{
    va_list ap;
    if (ld->err != NULL && ld->errlen > 0) {
        va_start(ap, fmt);
        vsnprintf(ld->err, ld->errlen, fmt, ap);
        va_end(ap);
    }
    return NL_EINVAL;
}

static int oom(struct loader *ld)
{
    return nl_errf(ld->err, ld->errlen, NL_ENOMEM, "out of memory");
}

void wl_free(watchlist *wl)
{
    if (wl == NULL) {
        return;
    }
    for (size_t i = 0; i < wl->n_actors; i++) {
        free(wl->actors[i].id);
        free(wl->actors[i].kind);
        free(wl->actors[i].json_head);
    }
    for (size_t i = 0; i < wl->n_events; i++) {
        free(wl->events[i].id);
        free(wl->events[i].actors);
        free(wl->events[i].json_head);
    }
    for (size_t i = 0; i < wl->n_surnames; i++) {
        free(wl->surnames[i].persons);
    }
    for (size_t i = 0; i < wl->n_cues; i++) {
        free(wl->cues[i].events);
        free(wl->cues[i].roles);
    }
    free(wl->actors);
    free(wl->events);
    free(wl->surnames);
    free(wl->cues);
    for (size_t i = 0; i < wl->n_names; i++) {
        free((char *)wl->patterns[i].text);
    }
    free(wl->patterns);
    free(wl->names);
    mt_free(wl->matcher);
    free(wl->version);
    free(wl->version_json);
    free(wl);
}

const char *wl_version(const watchlist *wl)
{
    return wl->version;
}

size_t wl_n_patterns(const watchlist *wl)
{
    return wl->n_names;
}

const char *wl_pattern(const watchlist *wl, size_t i, size_t *len, unsigned *group)
{
    if (i >= wl->n_names) {
        return NULL;
    }
    *len = wl->patterns[i].len;
    *group = wl->patterns[i].group;
    return wl->patterns[i].text;
}

int32_t wl_parse_date(const char *s, size_t len)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, m, d;

    if (s == NULL || len < 10) {
        return -1;
    }
    for (int i = 0; i < 10; i++) {
        if (i == 4 || i == 7 ? s[i] != '-' : !isdigit((unsigned char)s[i])) {
            return -1;
        }
    }
    y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    m = (s[5] - '0') * 10 + (s[6] - '0');
    d = (s[8] - '0') * 10 + (s[9] - '0');
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1] ||
        (m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))) {
        return -1;
    }
    return y * 10000 + m * 100 + d;
}

static int valid_slug(const char *s)
{
    if (*s == '\0' || *s == '-') {
        return 0;
    }
    for (; *s != '\0'; s++) {
        if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '-')) {
            return 0;
        }
    }
    return 1;
}

/* A name must have something to match and must not start or end with a
 * separator (it would never be a whole word). */
static int valid_name(const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;
    return n > 0 && !isspace((unsigned char)s[0]) && !isspace((unsigned char)s[n - 1]) &&
           s[0] != '-';
}

static int all_caps(const char *s)
{
    int letters = 0;
    for (; *s != '\0'; s++) {
        if (islower((unsigned char)*s)) {
            return 0;
        }
        letters += isupper((unsigned char)*s) != 0;
    }
    return letters > 0;
}

/* The key two spellings of one name share for the matcher: separators as
 * one space, curly apostrophes straight, ASCII lower case unless the name
 * is all capitals (then matched as written, so "US" and "us" differ). */
static char *name_key(const char *s)
{
    size_t n = strlen(s);
    char *k = malloc(n + 2);
    size_t j = 0;
    int caps = all_caps(s);

    if (k == NULL) {
        return NULL;
    }
    k[j++] = caps ? 'C' : 'c';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ' || c == '-' || c == '\t' || c == '\n') {
            k[j++] = ' ';
        } else if (c == 0xc2 && (unsigned char)s[i + 1] == 0xa0) {
            k[j++] = ' ';
            i += 1;
        } else if (c == 0xe2 && (unsigned char)s[i + 1] == 0x80 &&
                   ((unsigned char)s[i + 2] == 0x90 || (unsigned char)s[i + 2] == 0x91)) {
            k[j++] = ' ';
            i += 2;
        } else if (c == 0xe2 && (unsigned char)s[i + 1] == 0x80 &&
                   (unsigned char)s[i + 2] == 0x99) {
            k[j++] = '\'';
            i += 2;
        } else {
            k[j++] = caps ? (char)c : (char)tolower(c);
        }
    }
    k[j] = '\0';
    return k;
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s != '\0'; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    }
    return h;
}

/* The pattern index of key in group, or WL_NONE. */
static size_t find_key(const struct loader *ld, const char *key, unsigned group)
{
    if (ld->n_slots == 0) {
        return WL_NONE;
    }
    for (size_t i = hash_str(key) & (ld->n_slots - 1);; i = (i + 1) & (ld->n_slots - 1)) {
        size_t p = ld->slots[i];
        if (p == 0) {
            return WL_NONE;
        }
        if (ld->pats[p - 1].group == group && strcmp(ld->keys[p - 1], key) == 0) {
            return p - 1;
        }
    }
}

static int rehash(struct loader *ld, size_t n_slots)
{
    size_t *slots = calloc(n_slots, sizeof(*slots));
    if (slots == NULL) {
        return NL_ENOMEM;
    }
    for (size_t p = 0; p < ld->n; p++) {
        size_t i = hash_str(ld->keys[p]) & (n_slots - 1);
        while (slots[i] != 0) {
            i = (i + 1) & (n_slots - 1);
        }
        slots[i] = p + 1;
    }
    free(ld->slots);
    ld->slots = slots;
    ld->n_slots = n_slots;
    return 0;
}

/* Adds the pattern text (copied) of the given type and group, or finds the
 * pattern with its key; *idx is its index. */
static int add_pattern(struct loader *ld, const char *text, unsigned group, unsigned type,
                       size_t ref, size_t *idx)
{
    watchlist *wl = ld->wl;
    char *key = name_key(text);
    size_t p;

    if (key == NULL) {
        return NL_ENOMEM;
    }
    p = find_key(ld, key, group);
    if (p != WL_NONE) {
        free(key);
        *idx = p;
        return 0;
    }
    if (ld->n == ld->cap) {
        size_t cap = ld->cap ? ld->cap * 2 : 256;
        mt_pattern *pats = realloc(ld->pats, cap * sizeof(*pats));
        char **keys = pats != NULL ? realloc(ld->keys, cap * sizeof(*keys)) : NULL;
        struct wl_name *names = keys != NULL ? realloc(wl->names, cap * sizeof(*names)) : NULL;
        if (pats != NULL) {
            ld->pats = pats;
        }
        if (keys != NULL) {
            ld->keys = keys;
        }
        if (names == NULL) {
            free(key);
            return NL_ENOMEM;
        }
        wl->names = names;
        ld->cap = cap;
    }
    ld->pats[ld->n].text = strdup(text);
    if (ld->pats[ld->n].text == NULL) {
        free(key);
        return NL_ENOMEM;
    }
    ld->pats[ld->n].len = strlen(text);
    ld->pats[ld->n].group = group;
    ld->keys[ld->n] = key;
    wl->names[ld->n] = (struct wl_name){type, ref};
    *idx = ld->n++;
    wl->n_names = ld->n;
    if (ld->n * 2 > ld->n_slots) {
        return rehash(ld, ld->n_slots ? ld->n_slots * 4 : 1024);
    }
    for (size_t i = hash_str(key) & (ld->n_slots - 1);; i = (i + 1) & (ld->n_slots - 1)) {
        if (ld->slots[i] == 0) {
            ld->slots[i] = *idx + 1;
            return 0;
        }
    }
}

static const char *name_owner(const watchlist *wl, const struct wl_name *nm)
{
    switch (nm->type) {
    case WL_ACTOR_NAME:
        return wl->actors[nm->ref].id;
    case WL_IGNORE_NAME:
        return "the ignore list";
    default:
        return "a surname";
    }
}

/* A name of actor i: one pattern; the same name twice for one actor is
 * harmless (curly and straight apostrophe spellings, say), for two owners
 * an error. */
static int add_actor_name(struct loader *ld, size_t i, const char *text, const char *where)
{
    size_t idx;
    struct wl_name *nm;

    if (add_pattern(ld, text, 0, WL_ACTOR_NAME, i, &idx) != 0) {
        return oom(ld);
    }
    nm = &ld->wl->names[idx];
    if (nm->type != WL_ACTOR_NAME || nm->ref != i) {
        return bad(ld, "%s: \"%s\" is already a name of %s", where, text, name_owner(ld->wl, nm));
    }
    return 0;
}

static char *json_fragment(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A JSON fragment with the given layout (its strings already escaped). */
static char *json_fragment(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&s, fmt, ap);
    va_end(ap);
    return n < 0 ? NULL : s;
}

/* s as a JSON string literal, malloc'd. */
static char *json_quote(const char *s)
{
    jw w = {0};
    jw_str(&w, s, strlen(s));
    jw_end(&w);
    if (w.oom) {
        free(w.p);
        return NULL;
    }
    return w.p;
}

static int load_wikidata(struct loader *ld, size_t i, const char *id, json_t *v, const char **out)
{
    const char *q = json_string_value(v);
    size_t n;

    *out = NULL;
    if (v == NULL) {
        return 0;
    }
    n = q != NULL ? strlen(q) : 0;
    if (n < 2 || n > 11 || q[0] != 'Q' || q[1] == '0' || strspn(q + 1, "0123456789") != n - 1) {
        return bad(ld, "actors[%zu] (%s).wikidata: must be a Wikidata item id like \"Q159\"", i,
                   id);
    }
    *out = q;
    return 0;
}

/* "roles": [{"alias", "from"?, "to"?}]: a title that names the actor only
 * between the dates ("Prime Minister of Cambodia"). */
static int load_roles(struct loader *ld, size_t i, const char *id, json_t *roles)
{
    watchlist *wl = ld->wl;
    size_t k;
    json_t *r;

    if (roles != NULL && !json_is_array(roles)) {
        return bad(ld, "actors[%zu] (%s).roles: must be an array", i, id);
    }
    json_array_foreach(roles, k, r)
    {
        const char *alias = json_string_value(json_object_get(r, "alias"));
        json_t *from = json_object_get(r, "from"), *to = json_object_get(r, "to"), *v;
        int32_t df =
            from != NULL ? wl_parse_date(json_string_value(from), json_string_length(from)) : 0;
        int32_t dt =
            to != NULL ? wl_parse_date(json_string_value(to), json_string_length(to)) : 99991231;
        size_t idx;
        struct wl_cue *cue;
        struct wl_role *roles_new;
        const char *key;

        if (!json_is_object(r) || !valid_name(alias)) {
            return bad(ld, "actors[%zu] (%s).roles[%zu].alias: must be a non-empty name", i, id, k);
        }
        json_object_foreach(r, key, v)
        {
            if (strcmp(key, "alias") != 0 && strcmp(key, "from") != 0 && strcmp(key, "to") != 0) {
                return bad(ld, "actors[%zu] (%s).roles[%zu].%s: unknown field", i, id, k, key);
            }
        }
        if (df < 0 || (from != NULL && json_string_length(from) != 10)) {
            return bad(ld, "actors[%zu] (%s).roles[%zu].from: must be a date YYYY-MM-DD", i, id, k);
        }
        if (dt < 0 || (to != NULL && json_string_length(to) != 10)) {
            return bad(ld, "actors[%zu] (%s).roles[%zu].to: must be a date YYYY-MM-DD", i, id, k);
        }
        if (dt <= df) {
            return bad(ld, "actors[%zu] (%s).roles[%zu].to: must be after from", i, id, k);
        }
        if (add_pattern(ld, alias, 1, WL_CUE, wl->n_cues, &idx) != 0) {
            return oom(ld);
        }
        if (wl->names[idx].ref == wl->n_cues) {
            if (wl->n_cues == ld->cues_cap) {
                size_t cap = ld->cues_cap ? ld->cues_cap * 2 : 64;
                struct wl_cue *c = realloc(wl->cues, cap * sizeof(*c));
                if (c == NULL) {
                    return oom(ld);
                }
                wl->cues = c;
                ld->cues_cap = cap;
            }
            wl->cues[wl->n_cues++] = (struct wl_cue){0};
        }
        cue = &wl->cues[wl->names[idx].ref];
        roles_new = realloc(cue->roles, (cue->n_roles + 1) * sizeof(*roles_new));
        if (roles_new == NULL) {
            return oom(ld);
        }
        cue->roles = roles_new;
        cue->roles[cue->n_roles++] = (struct wl_role){i, df, dt};
    }
    return 0;
}

/* An unknown field is a typo until proven otherwise: "alises" would drop
 * every alias without a word. Fields starting with "_" and "note" are
 * comments. */
static int check_fields(struct loader *ld, json_t *obj, const char *const *known, const char *what,
                        size_t i, const char *id)
{
    const char *key;
    json_t *v;

    json_object_foreach(obj, key, v)
    {
        int ok = key[0] == '_' || strcmp(key, "note") == 0;
        for (int j = 0; known[j] != NULL && !ok; j++) {
            ok = strcmp(key, known[j]) == 0;
        }
        if (!ok) {
            return bad(ld, "%s[%zu] (%s).%s: unknown field", what, i, id, key);
        }
    }
    return 0;
}

static int load_actor(struct loader *ld, size_t i, json_t *a, const char **surname)
{
    static const char *const fields[] = {"id",      "kind",     "name",  "aliases",
                                         "surname", "wikidata", "roles", NULL};
    watchlist *wl = ld->wl;
    const char *id = json_string_value(json_object_get(a, "id"));
    const char *kind = json_string_value(json_object_get(a, "kind"));
    const char *name = json_string_value(json_object_get(a, "name"));
    json_t *aliases = json_object_get(a, "aliases");
    json_t *sn = json_object_get(a, "surname");
    const char *wikidata;
    char *qid = NULL, *qkind = NULL, *qname = NULL, *qwd = NULL;
    char where[160];
    json_t *al;
    size_t k;
    int ok = 0, rc;

    if (!json_is_object(a)) {
        return bad(ld, "actors[%zu]: must be an object", i);
    }
    if (id == NULL || !valid_slug(id)) {
        return bad(ld, "actors[%zu].id: must be a slug of a-z, 0-9 and -", i);
    }
    for (int j = 0; kinds[j] != NULL; j++) {
        ok |= kind != NULL && strcmp(kind, kinds[j]) == 0;
    }
    if (!ok) {
        return bad(ld, "actors[%zu] (%s).kind: must be person, state, organisation or place", i,
                   id);
    }
    if (!valid_name(name)) {
        return bad(ld, "actors[%zu] (%s).name: must be a non-empty name", i, id);
    }
    for (size_t j = 0; j < i; j++) {
        if (strcmp(wl->actors[j].id, id) == 0) {
            return bad(ld, "actors[%zu].id: \"%s\" is already used", i, id);
        }
    }
    rc = check_fields(ld, a, fields, "actors", i, id);
    if (rc == 0) {
        rc = load_wikidata(ld, i, id, json_object_get(a, "wikidata"), &wikidata);
    }
    if (rc != 0) {
        return rc;
    }
    wl->actors[i].id = strdup(id);
    wl->actors[i].id_len = strlen(id);
    wl->actors[i].kind = strdup(kind);
    wl->actors[i].person = strcmp(kind, "person") == 0;
    wl->actors[i].surname = WL_NONE;
    wl->n_actors = i + 1;
    qid = json_quote(id);
    qkind = json_quote(kind);
    qname = json_quote(name);
    qwd = wikidata != NULL ? json_quote(wikidata) : NULL;
    if (qid != NULL && qkind != NULL && qname != NULL && (wikidata == NULL || qwd != NULL)) {
        wl->actors[i].json_head =
            json_fragment("{\"id\":%s,\"kind\":%s,\"name\":%s%s%s,\"count\":", qid, qkind, qname,
                          qwd != NULL ? ",\"wikidata\":" : "", qwd != NULL ? qwd : "");
    }
    free(qid);
    free(qkind);
    free(qname);
    free(qwd);
    if (wl->actors[i].id == NULL || wl->actors[i].kind == NULL || wl->actors[i].json_head == NULL) {
        return oom(ld);
    }
    wl->actors[i].json_head_len = strlen(wl->actors[i].json_head);
    snprintf(where, sizeof(where), "actors[%zu] (%s).name", i, id);
    rc = add_actor_name(ld, i, name, where);
    if (rc != 0) {
        return rc;
    }
    *surname = NULL;
    if (sn != NULL) {
        if (!valid_name(json_string_value(sn)) || !wl->actors[i].person) {
            return bad(ld, "actors[%zu] (%s).surname: must be a non-empty name, for a person", i,
                       id);
        }
        *surname = json_string_value(sn);
    }
    if (aliases != NULL && !json_is_array(aliases)) {
        return bad(ld, "actors[%zu] (%s).aliases: must be an array", i, id);
    }
    json_array_foreach(aliases, k, al)
    {
        snprintf(where, sizeof(where), "actors[%zu] (%s).aliases[%zu]", i, id, k);
        if (!valid_name(json_string_value(al))) {
            return bad(ld, "%s: must be a non-empty name, no space at either end", where);
        }
        rc = add_actor_name(ld, i, json_string_value(al), where);
        if (rc != 0) {
            return rc;
        }
    }
    return load_roles(ld, i, id, json_object_get(a, "roles"));
}

static int load_ignore(struct loader *ld, json_t *ignore)
{
    size_t k, idx;
    json_t *v;

    if (ignore != NULL && !json_is_array(ignore)) {
        return bad(ld, "ignore: must be an array of names");
    }
    json_array_foreach(ignore, k, v)
    {
        if (!valid_name(json_string_value(v))) {
            return bad(ld, "ignore[%zu]: must be a non-empty name", k);
        }
        if (add_pattern(ld, json_string_value(v), 0, WL_IGNORE_NAME, 0, &idx) != 0) {
            return oom(ld);
        }
        if (ld->wl->names[idx].type != WL_IGNORE_NAME) {
            return bad(ld, "ignore[%zu]: \"%s\" is a name of %s", k, json_string_value(v),
                       name_owner(ld->wl, &ld->wl->names[idx]));
        }
    }
    return 0;
}

/* Surnames: one pattern per distinct surname, and the persons who share
 * it, after every actor is known. */
static int load_surnames(struct loader *ld, const char **surnames)
{
    watchlist *wl = ld->wl;

    wl->surnames = calloc(wl->n_actors, sizeof(*wl->surnames));
    if (wl->surnames == NULL) {
        return oom(ld);
    }
    for (size_t i = 0; i < wl->n_actors; i++) {
        size_t idx;
        struct wl_surname *s;
        size_t *persons;

        if (surnames[i] == NULL) {
            continue;
        }
        if (add_pattern(ld, surnames[i], 0, WL_SURNAME, wl->n_surnames, &idx) != 0) {
            return oom(ld);
        }
        if (wl->names[idx].type != WL_SURNAME) {
            return bad(ld, "actors[%zu] (%s).surname: \"%s\" is already a name of %s", i,
                       wl->actors[i].id, surnames[i], name_owner(wl, &wl->names[idx]));
        }
        if (wl->names[idx].ref == wl->n_surnames) {
            wl->n_surnames++;
        }
        s = &wl->surnames[wl->names[idx].ref];
        persons = realloc(s->persons, (s->n + 1) * sizeof(*persons));
        if (persons == NULL) {
            return oom(ld);
        }
        s->persons = persons;
        s->persons[s->n++] = i;
        wl->actors[i].surname = wl->names[idx].ref;
    }
    return 0;
}

static size_t find_actor(const watchlist *wl, const char *id)
{
    for (size_t i = 0; id != NULL && i < wl->n_actors; i++) {
        if (strcmp(wl->actors[i].id, id) == 0) {
            return i;
        }
    }
    return WL_NONE;
}

/* A one-word lower-case trigger also matches its regular inflections:
 * invade -> invades, invaded, invading; supply -> supplies, supplied;
 * ban -> bans, banned, banning. Irregular forms (met, invasion) are
 * listed in the watchlist. Writes up to 6 forms into out; returns the
 * count. */
static size_t inflections(const char *w, char out[6][80])
{
    size_t n = strlen(w), k = 0;
    const char *vowels = "aeiou";

    if (n < 3 || n > 60 || strspn(w, "abcdefghijklmnopqrstuvwxyz") != n) {
        return 0;
    }
    char last = w[n - 1], prev = w[n - 2];
    if (last == 'e') {
        snprintf(out[k++], 80, "%ss", w);
        snprintf(out[k++], 80, "%sd", w);
        snprintf(out[k++], 80, "%.*sing", (int)(n - 1), w);
    } else if (last == 'y' && strchr(vowels, prev) == NULL) {
        snprintf(out[k++], 80, "%.*sies", (int)(n - 1), w);
        snprintf(out[k++], 80, "%.*sied", (int)(n - 1), w);
        snprintf(out[k++], 80, "%sing", w);
    } else {
        int sib = last == 's' || last == 'x' || last == 'z' ||
                  (last == 'h' && (prev == 'c' || prev == 's'));
        snprintf(out[k++], 80, sib ? "%ses" : "%ss", w);
        snprintf(out[k++], 80, "%sed", w);
        snprintf(out[k++], 80, "%sing", w);
        /* consonant-vowel-consonant: ban -> banned, banning */
        if (strchr(vowels, last) == NULL && strchr("wxy", last) == NULL &&
            strchr(vowels, prev) != NULL && strchr(vowels, w[n - 3]) == NULL) {
            snprintf(out[k++], 80, "%s%ced", w, last);
            snprintf(out[k++], 80, "%s%cing", w, last);
        }
    }
    return k;
}

static int link_trigger(struct loader *ld, size_t e, const char *text)
{
    watchlist *wl = ld->wl;
    struct wl_cue *cue;
    size_t idx, *events;

    if (add_pattern(ld, text, 1, WL_CUE, wl->n_cues, &idx) != 0) {
        return NL_ENOMEM;
    }
    if (wl->names[idx].ref == wl->n_cues) {
        if (wl->n_cues == ld->cues_cap) {
            size_t cap = ld->cues_cap ? ld->cues_cap * 2 : 64;
            struct wl_cue *c = realloc(wl->cues, cap * sizeof(*c));
            if (c == NULL) {
                return NL_ENOMEM;
            }
            wl->cues = c;
            ld->cues_cap = cap;
        }
        wl->cues[wl->n_cues++] = (struct wl_cue){0};
    }
    cue = &wl->cues[wl->names[idx].ref];
    if (cue->n_events > 0 && cue->events[cue->n_events - 1] == e) {
        return 0; /* listed twice, or also an inflection of another trigger */
    }
    events = realloc(cue->events, (cue->n_events + 1) * sizeof(*events));
    if (events == NULL) {
        return NL_ENOMEM;
    }
    cue->events = events;
    cue->events[cue->n_events++] = e;
    return 0;
}

static int event_dates(struct loader *ld, size_t i, const char *id, json_t *ev, struct wl_event *e,
                       char **json)
{
    json_t *date = json_object_get(ev, "date"), *from = json_object_get(ev, "from");
    json_t *to = json_object_get(ev, "to");
    int32_t df, dt;

    if ((date == NULL) == (from == NULL) || (date != NULL && to != NULL)) {
        return bad(ld, "events[%zu] (%s): needs \"date\", or \"from\" with an optional \"to\"", i,
                   id);
    }
    if (date != NULL) {
        from = date;
    }
    df = json_string_length(from) == 10
             ? wl_parse_date(json_string_value(from), json_string_length(from))
             : -1;
    dt = to == NULL ? (date != NULL ? df : 99991231)
         : json_string_length(to) == 10
             ? wl_parse_date(json_string_value(to), json_string_length(to))
             : -1;
    if (df < 0 || dt < 0) {
        return bad(ld, "events[%zu] (%s).%s: must be a date YYYY-MM-DD", i, id,
                   df < 0 ? (date != NULL ? "date" : "from") : "to");
    }
    if (dt < df) {
        return bad(ld, "events[%zu] (%s).to: is before from", i, id);
    }
    e->from = df;
    e->to = dt;
    if (date != NULL) {
        *json = json_fragment(",\"date\":\"%s\"", json_string_value(date));
    } else if (to != NULL) {
        *json = json_fragment(",\"from\":\"%s\",\"to\":\"%s\"", json_string_value(from),
                              json_string_value(to));
    } else {
        *json = json_fragment(",\"from\":\"%s\"", json_string_value(from));
    }
    return *json == NULL ? oom(ld) : 0;
}

/* "requires": the event's actors that must be among those its scope
 * mentions ("putin-kim-jong-il-summit-2000" needs Kim Jong Il, not any
 * two of its actors). */
static int load_required(struct loader *ld, size_t i, const char *id, struct wl_event *e,
                         json_t *req)
{
    size_t k, n = 0;
    json_t *v;

    if (req != NULL && !json_is_array(req)) {
        return bad(ld, "events[%zu] (%s).requires: must be an array of the event's actor ids", i,
                   id);
    }
    json_array_foreach(req, k, v)
    {
        size_t a = find_actor(ld->wl, json_string_value(v)), j;
        for (j = 0; j < e->n_actors && e->actors[j] != a; j++) {
        }
        if (a == WL_NONE || j == e->n_actors) {
            return bad(ld, "events[%zu] (%s).requires[%zu]: must be one of the event's actors", i,
                       id, k);
        }
        if (!(e->required & (1ULL << j))) {
            e->required |= 1ULL << j;
            n++;
        }
    }
    if (n > e->min_actors) {
        e->min_actors = n;
    }
    return 0;
}

static int load_event(struct loader *ld, size_t i, json_t *ev)
{
    static const char *const fields[] = {"id",       "label",    "date",   "from",
                                         "to",       "scope",    "actors", "min_actors",
                                         "requires", "triggers", "place",  NULL};
    watchlist *wl = ld->wl;
    struct wl_event *e = &wl->events[i];
    const char *id = json_string_value(json_object_get(ev, "id"));
    const char *label = json_string_value(json_object_get(ev, "label"));
    const char *scope = json_string_value(json_object_get(ev, "scope"));
    json_t *triggers = json_object_get(ev, "triggers"), *actors = json_object_get(ev, "actors");
    json_t *place = json_object_get(ev, "place"), *min = json_object_get(ev, "min_actors");
    char *dates = NULL, *qid = NULL, *qlabel = NULL;
    json_t *v;
    size_t k;
    int rc;

    if (!json_is_object(ev)) {
        return bad(ld, "events[%zu]: must be an object", i);
    }
    if (id == NULL || !valid_slug(id)) {
        return bad(ld, "events[%zu].id: must be a slug of a-z, 0-9 and -", i);
    }
    for (size_t j = 0; j < i; j++) {
        if (strcmp(wl->events[j].id, id) == 0) {
            return bad(ld, "events[%zu].id: \"%s\" is already used", i, id);
        }
    }
    if (find_actor(wl, id) != WL_NONE) {
        return bad(ld, "events[%zu].id: \"%s\" is also an actor id (they share the tag topics)", i,
                   id);
    }
    e->id = strdup(id);
    wl->n_events = i + 1;
    if (e->id == NULL) {
        return oom(ld);
    }
    rc = check_fields(ld, ev, fields, "events", i, id);
    if (rc != 0) {
        return rc;
    }
    if (label == NULL || label[0] == '\0') {
        return bad(ld, "events[%zu] (%s).label: must be a non-empty string", i, id);
    }
    if (scope == NULL || (strcmp(scope, "sentence") != 0 && strcmp(scope, "paragraph") != 0)) {
        return bad(ld, "events[%zu] (%s).scope: must be \"sentence\" or \"paragraph\"", i, id);
    }
    e->paragraph = strcmp(scope, "paragraph") == 0;
    if (place != NULL && find_actor(wl, json_string_value(place)) == WL_NONE) {
        return bad(ld, "events[%zu] (%s).place: must be the id of an actor", i, id);
    }
    if (!json_is_array(actors) || json_array_size(actors) == 0 || json_array_size(actors) > 64) {
        return bad(ld, "events[%zu] (%s).actors: must be an array of 1 to 64 actor ids", i, id);
    }
    e->actors = calloc(json_array_size(actors), sizeof(*e->actors));
    if (e->actors == NULL) {
        return oom(ld);
    }
    json_array_foreach(actors, k, v)
    {
        size_t a = find_actor(wl, json_string_value(v));
        if (a == WL_NONE) {
            return bad(ld, "events[%zu] (%s).actors[%zu]: \"%s\" is not an actor id", i, id, k,
                       json_string_value(v) != NULL ? json_string_value(v) : "(not a string)");
        }
        for (size_t j = 0; j < e->n_actors; j++) {
            if (e->actors[j] == a) {
                return bad(ld, "events[%zu] (%s).actors[%zu]: \"%s\" is listed twice", i, id, k,
                           json_string_value(v));
            }
        }
        e->actors[e->n_actors++] = a;
    }
    e->min_actors = e->n_actors < 2 ? e->n_actors : 2;
    if (min != NULL) {
        if (!json_is_integer(min) || json_integer_value(min) < 1 ||
            json_integer_value(min) > (json_int_t)e->n_actors) {
            return bad(ld, "events[%zu] (%s).min_actors: must be an integer from 1 to %zu", i, id,
                       e->n_actors);
        }
        e->min_actors = (size_t)json_integer_value(min);
    }
    rc = load_required(ld, i, id, e, json_object_get(ev, "requires"));
    if (rc != 0) {
        return rc;
    }
    if (!json_is_array(triggers) || json_array_size(triggers) == 0) {
        return bad(ld, "events[%zu] (%s).triggers: must be a non-empty array of phrases", i, id);
    }
    json_array_foreach(triggers, k, v)
    {
        char forms[6][80];
        size_t nf;
        if (!valid_name(json_string_value(v))) {
            return bad(ld, "events[%zu] (%s).triggers[%zu]: must be a non-empty phrase", i, id, k);
        }
        if (link_trigger(ld, i, json_string_value(v)) != 0) {
            return oom(ld);
        }
        nf = inflections(json_string_value(v), forms);
        for (size_t f = 0; f < nf; f++) {
            if (link_trigger(ld, i, forms[f]) != 0) {
                return oom(ld);
            }
        }
    }
    rc = event_dates(ld, i, id, ev, e, &dates);
    if (rc == 0) {
        qid = json_quote(id);
        qlabel = json_quote(label);
        e->json_head =
            qid != NULL && qlabel != NULL
                ? json_fragment("{\"id\":%s,\"label\":%s%s,\"count\":", qid, qlabel, dates)
                : NULL;
        rc = e->json_head == NULL ? oom(ld) : 0;
        e->json_head_len = e->json_head != NULL ? strlen(e->json_head) : 0;
    }
    free(dates);
    free(qid);
    free(qlabel);
    return rc;
}

static int check_top_level(struct loader *ld, json_t *root)
{
    static const char *const known[] = {"version", "actors", "ignore", "events", NULL};
    const char *key;
    json_t *v;

    json_object_foreach(root, key, v)
    {
        int ok = key[0] == '_'; /* "_comment" and the like */
        for (int j = 0; known[j] != NULL; j++) {
            ok |= strcmp(key, known[j]) == 0;
        }
        if (!ok) {
            return bad(ld, "%s: unknown field", key);
        }
    }
    if (json_object_get(root, "events") != NULL &&
        !json_is_array(json_object_get(root, "events"))) {
        return bad(ld, "events: must be an array");
    }
    return 0;
}

static int load_all(struct loader *ld, json_t *root)
{
    watchlist *wl = ld->wl;
    json_t *actors = json_object_get(root, "actors");
    json_t *events = json_object_get(root, "events");
    const char **surnames = calloc(json_array_size(actors), sizeof(*surnames));
    char *qv;
    int rc = check_top_level(ld, root);

    wl->actors = calloc(json_array_size(actors), sizeof(*wl->actors));
    wl->events = calloc(json_array_size(events) + 1, sizeof(*wl->events));
    qv = json_quote(wl->version);
    wl->version_json = qv != NULL ? json_fragment(",\"watchlist_version\":%s}", qv) : NULL;
    wl->version_json_len = wl->version_json != NULL ? strlen(wl->version_json) : 0;
    free(qv);
    if (surnames == NULL || wl->actors == NULL || wl->events == NULL || wl->version_json == NULL) {
        free(surnames);
        return oom(ld);
    }
    for (size_t i = 0; i < json_array_size(actors) && rc == 0; i++) {
        rc = load_actor(ld, i, json_array_get(actors, i), &surnames[i]);
    }
    if (rc == 0) {
        rc = load_ignore(ld, json_object_get(root, "ignore"));
    }
    if (rc == 0) {
        rc = load_surnames(ld, surnames);
    }
    for (size_t i = 0; i < json_array_size(events) && rc == 0; i++) {
        rc = load_event(ld, i, json_array_get(events, i));
    }
    if (rc == 0) {
        rc = mt_compile(ld->pats, ld->n, &wl->matcher, ld->err, ld->errlen);
    }
    free(surnames);
    return rc;
}

int wl_load(const char *path, watchlist **out, char *errbuf, size_t errlen)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    struct loader ld = {0};
    const char *version;
    int rc = 0;

    *out = NULL;
    if (root == NULL) {
        /* jansson reports a file it cannot open with line -1 */
        if (jerr.line < 0) {
            return nl_errf(errbuf, errlen, NL_EIO, "watchlist %s: %s", path, jerr.text);
        }
        return nl_errf(errbuf, errlen, NL_EINVAL, "watchlist %s: line %d: %s", path, jerr.line,
                       jerr.text);
    }
    version = json_string_value(json_object_get(root, "version"));
    if (version == NULL || version[0] == '\0' || !json_is_array(json_object_get(root, "actors")) ||
        json_array_size(json_object_get(root, "actors")) == 0) {
        rc = nl_errf(errbuf, errlen, NL_EINVAL,
                     "watchlist %s: needs a string \"version\" and a non-empty \"actors\" array",
                     path);
        goto out;
    }
    ld.wl = calloc(1, sizeof(*ld.wl));
    ld.err = errbuf;
    ld.errlen = errlen;
    if (ld.wl != NULL) {
        ld.wl->version = strdup(version);
    }
    if (ld.wl == NULL || ld.wl->version == NULL) {
        rc = nl_errf(errbuf, errlen, NL_ENOMEM, "watchlist %s: out of memory", path);
        goto out;
    }
    rc = load_all(&ld, root);
    if (rc == NL_EINVAL && errbuf != NULL && errlen > 0) {
        /* prefix the file name to the entry-level message */
        char tmp[512];
        snprintf(tmp, sizeof(tmp), "watchlist %s: %s", path, errbuf);
        snprintf(errbuf, errlen, "%s", tmp);
    } else if (rc == NL_ENOMEM) {
        nl_errf(errbuf, errlen, rc, "watchlist %s: out of memory", path);
    }
out:
    for (size_t p = 0; p < ld.n; p++) {
        free(ld.keys[p]);
    }
    /* the pattern texts go with the watchlist (wl_free releases them) */
    if (ld.wl != NULL) {
        ld.wl->patterns = ld.pats;
    } else {
        free(ld.pats);
    }
    free(ld.keys);
    free(ld.slots);
    json_decref(root);
    if (rc != 0) {
        wl_free(ld.wl);
        return rc;
    }
    *out = ld.wl;
    return 0;
}
