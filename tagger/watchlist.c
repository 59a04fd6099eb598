#include "watchlist.h"

#include "matcher.h"
#include "nl_err.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct actor {
    char *id;
    char *kind;
    char *name;
    char *surname; /* NULL, or the family name a bare mention may use */
};

/* A name the matcher looks for: an alias of one actor, or a surname shared
 * by the persons of a surname group (actor is then NO_ACTOR). */
#define NO_ACTOR ((size_t)-1)
/* An "ignore" name: matched so that it shadows the names inside it
 * ("Washington Times" is not Washington), then dropped. */
#define IGNORED ((size_t)-2)
struct alias {
    char *text;
    size_t len;
    size_t actor;
    size_t surname; /* index into surnames, for a surname alias */
};

struct watchlist {
    char *version;
    struct actor *actors;
    size_t n_actors;
    struct alias *aliases;
    size_t n_aliases;
    mt_matcher *matcher;
};

struct match {
    size_t start, end;
    size_t actor;
    int field; /* 0 title, 1 text */
};

static const char *const kinds[] = {"person", "state", "organisation", "place", NULL};

void wl_free(watchlist *wl)
{
    if (wl == NULL) {
        return;
    }
    for (size_t i = 0; i < wl->n_actors; i++) {
        free(wl->actors[i].id);
        free(wl->actors[i].kind);
        free(wl->actors[i].name);
        free(wl->actors[i].surname);
    }
    for (size_t i = 0; i < wl->n_aliases; i++) {
        free(wl->aliases[i].text);
    }
    free(wl->actors);
    free(wl->aliases);
    mt_free(wl->matcher);
    free(wl->version);
    free(wl);
}

const char *wl_version(const watchlist *wl)
{
    return wl->version;
}

static int valid_slug(const char *s)
{
    if (*s == '\0') {
        return 0;
    }
    for (; *s != '\0'; s++) {
        if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '-')) {
            return 0;
        }
    }
    return 1;
}

static int add_alias(watchlist *wl, size_t actor, const char *text, size_t *cap)
{
    struct alias *a;

    if (wl->n_aliases == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        a = realloc(wl->aliases, ncap * sizeof(*a));
        if (a == NULL) {
            return NL_ENOMEM;
        }
        wl->aliases = a;
        *cap = ncap;
    }
    a = &wl->aliases[wl->n_aliases];
    a->text = strdup(text);
    if (a->text == NULL) {
        return NL_ENOMEM;
    }
    a->len = strlen(text);
    a->actor = actor;
    a->surname = 0;
    wl->n_aliases++;
    return 0;
}

static int load_ignore(watchlist *wl, json_t *ignore, size_t *alias_cap, char *errbuf,
                       size_t errlen)
{
    size_t k;
    json_t *v;

    if (ignore != NULL && !json_is_array(ignore)) {
        return nl_errf(errbuf, errlen, NL_EINVAL, "ignore: must be an array of names");
    }
    json_array_foreach(ignore, k, v)
    {
        const char *s = json_string_value(v);
        if (s == NULL || s[0] == '\0' || isspace((unsigned char)s[0])) {
            return nl_errf(errbuf, errlen, NL_EINVAL, "ignore[%zu]: must be a non-empty name", k);
        }
        if (add_alias(wl, IGNORED, s, alias_cap) != 0) {
            return nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
        }
    }
    return 0;
}

/* One pattern per alias, and one per distinct surname (a surname alias,
 * resolved to a person after matching). */
static int build_matcher(watchlist *wl, size_t *alias_cap, char *errbuf, size_t errlen)
{
    mt_pattern *pats;
    int rc;

    for (size_t i = 0; i < wl->n_actors; i++) {
        const char *sn = wl->actors[i].surname;
        int seen = 0;
        if (sn == NULL) {
            continue;
        }
        for (size_t k = 0; k < wl->n_aliases; k++) {
            seen |= wl->aliases[k].actor == NO_ACTOR && strcmp(wl->aliases[k].text, sn) == 0;
        }
        if (!seen) {
            if (add_alias(wl, NO_ACTOR, sn, alias_cap) != 0) {
                return nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
            }
        }
    }
    pats = malloc(wl->n_aliases * sizeof(*pats));
    if (pats == NULL) {
        return nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
    }
    for (size_t k = 0; k < wl->n_aliases; k++) {
        pats[k].text = wl->aliases[k].text;
        pats[k].len = wl->aliases[k].len;
        pats[k].group = 0;
    }
    rc = mt_compile(pats, wl->n_aliases, &wl->matcher, errbuf, errlen);
    free(pats);
    return rc;
}

static int load_actor(watchlist *wl, size_t i, json_t *a, size_t *alias_cap, char *errbuf,
                      size_t errlen)
{
    const char *id = json_string_value(json_object_get(a, "id"));
    const char *kind = json_string_value(json_object_get(a, "kind"));
    const char *name = json_string_value(json_object_get(a, "name"));
    json_t *aliases = json_object_get(a, "aliases");
    json_t *surname = json_object_get(a, "surname");
    json_t *al;
    size_t k;
    int ok = 0;

    if (!json_is_object(a)) {
        return nl_errf(errbuf, errlen, NL_EINVAL, "actors[%zu]: must be an object", i);
    }
    if (id == NULL || !valid_slug(id)) {
        return nl_errf(errbuf, errlen, NL_EINVAL,
                       "actors[%zu].id: must be a slug of a-z, 0-9 and -", i);
    }
    for (int j = 0; kinds[j] != NULL; j++) {
        ok |= kind != NULL && strcmp(kind, kinds[j]) == 0;
    }
    if (!ok) {
        return nl_errf(errbuf, errlen, NL_EINVAL,
                       "actors[%zu] (%s).kind: must be person, state, organisation or place", i,
                       id);
    }
    if (name == NULL || name[0] == '\0') {
        return nl_errf(errbuf, errlen, NL_EINVAL, "actors[%zu] (%s).name: missing", i, id);
    }
    for (size_t j = 0; j < i; j++) {
        if (strcmp(wl->actors[j].id, id) == 0) {
            return nl_errf(errbuf, errlen, NL_EINVAL, "actors[%zu].id: \"%s\" is already used", i,
                           id);
        }
    }
    wl->actors[i].id = strdup(id);
    wl->actors[i].kind = strdup(kind);
    wl->actors[i].name = strdup(name);
    wl->n_actors = i + 1;
    if (wl->actors[i].id == NULL || wl->actors[i].kind == NULL || wl->actors[i].name == NULL) {
        return NL_ENOMEM;
    }
    if (add_alias(wl, i, name, alias_cap) != 0) {
        return NL_ENOMEM;
    }
    if (surname != NULL) {
        const char *sn = json_string_value(surname);
        if (sn == NULL || sn[0] == '\0' || isspace((unsigned char)sn[0]) ||
            strcmp(kind, "person") != 0) {
            return nl_errf(errbuf, errlen, NL_EINVAL,
                           "actors[%zu] (%s).surname: must be a non-empty string, for a person", i,
                           id);
        }
        wl->actors[i].surname = strdup(sn);
        if (wl->actors[i].surname == NULL) {
            return NL_ENOMEM;
        }
    }
    if (aliases != NULL && !json_is_array(aliases)) {
        return nl_errf(errbuf, errlen, NL_EINVAL, "actors[%zu] (%s).aliases: must be an array", i,
                       id);
    }
    json_array_foreach(aliases, k, al)
    {
        const char *s = json_string_value(al);
        if (s == NULL || s[0] == '\0' || isspace((unsigned char)s[0])) {
            return nl_errf(errbuf, errlen, NL_EINVAL,
                           "actors[%zu] (%s).aliases[%zu]: must be a non-empty string not "
                           "starting with a space",
                           i, id, k);
        }
        if (add_alias(wl, i, s, alias_cap) != 0) {
            return NL_ENOMEM;
        }
    }
    return 0;
}

int wl_load(const char *path, watchlist **out, char *errbuf, size_t errlen)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    json_t *actors;
    watchlist *wl = NULL;
    size_t alias_cap = 0;
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
    actors = json_object_get(root, "actors");
    if (version == NULL || !json_is_array(actors) || json_array_size(actors) == 0) {
        rc = nl_errf(errbuf, errlen, NL_EINVAL,
                     "watchlist %s: needs a string \"version\" and a non-empty \"actors\" array",
                     path);
        goto out;
    }
    wl = calloc(1, sizeof(*wl));
    if (wl != NULL) {
        wl->version = strdup(version);
        wl->actors = calloc(json_array_size(actors), sizeof(struct actor));
    }
    if (wl == NULL || wl->version == NULL || wl->actors == NULL) {
        rc = NL_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < json_array_size(actors) && rc == 0; i++) {
        rc = load_actor(wl, i, json_array_get(actors, i), &alias_cap, errbuf, errlen);
    }
    if (rc == 0) {
        rc = load_ignore(wl, json_object_get(root, "ignore"), &alias_cap, errbuf, errlen);
    }
    if (rc == 0) {
        rc = build_matcher(wl, &alias_cap, errbuf, errlen);
    }
    if (rc == NL_EINVAL && errbuf != NULL && errlen > 0) {
        /* prefix the file name to the entry-level message */
        char tmp[512];
        snprintf(tmp, sizeof(tmp), "watchlist %s: %s", path, errbuf);
        snprintf(errbuf, errlen, "%s", tmp);
    } else if (rc == NL_ENOMEM) {
        nl_errf(errbuf, errlen, rc, "watchlist %s: out of memory", path);
    }
out:
    json_decref(root);
    if (rc != 0) {
        wl_free(wl);
        return rc;
    }
    *out = wl;
    return 0;
}

static int push_match(struct match **m, size_t *n, size_t *cap, struct match x)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 32;
        struct match *nm = realloc(*m, ncap * sizeof(*nm));
        if (nm == NULL) {
            return NL_ENOMEM;
        }
        *m = nm;
        *cap = ncap;
    }
    (*m)[(*n)++] = x;
    return 0;
}

/* A bare surname names the person of that surname named in full before it
 * in the document; with none named, the only tracked person of that
 * surname; with two or more named, nobody (ambiguous). NO_ACTOR if nobody. */
static size_t resolve_surname(const watchlist *wl, const char *surname, const int *named)
{
    size_t named_hit = NO_ACTOR, only = NO_ACTOR;
    int n_named = 0, n_all = 0;

    for (size_t i = 0; i < wl->n_actors; i++) {
        if (wl->actors[i].surname == NULL || strcmp(wl->actors[i].surname, surname) != 0) {
            continue;
        }
        n_all++;
        only = i;
        if (named[i]) {
            n_named++;
            named_hit = i;
        }
    }
    if (n_named == 1) {
        return named_hit;
    }
    return n_named == 0 && n_all == 1 ? only : NO_ACTOR;
}

/* Matches of one field, appended in order; named[] tracks the persons named
 * in full so far (title first, then text: one document). */
static int find_matches(const watchlist *wl, const char *s, size_t len, int field, struct match **m,
                        size_t *n, size_t *cap, int *named)
{
    const mt_hit *hits;
    size_t nh;
    int rc = mt_scan(wl->matcher, s, len, &hits, &nh);

    for (size_t i = 0; i < nh && rc == 0; i++) {
        const struct alias *a = &wl->aliases[hits[i].pattern];
        size_t actor = a->actor;
        if (actor == IGNORED) {
            continue;
        }
        if (actor == NO_ACTOR) {
            actor = resolve_surname(wl, a->text, named);
            if (actor == NO_ACTOR) {
                continue;
            }
        } else {
            named[actor] = 1;
        }
        rc = push_match(m, n, cap, (struct match){hits[i].start, hits[i].end, actor, field});
    }
    return rc;
}

json_t *wl_tag(const watchlist *wl, const char *title, size_t title_len, const char *text,
               size_t text_len)
{
    struct match *m = NULL;
    size_t n = 0, cap = 0;
    json_t *tags = NULL;
    json_t *actors = NULL;
    json_t **by_actor = NULL;
    int *named = NULL;

    named = calloc(wl->n_actors, sizeof(*named));
    if (named == NULL || find_matches(wl, title, title_len, 0, &m, &n, &cap, named) != 0 ||
        find_matches(wl, text, text_len, 1, &m, &n, &cap, named) != 0) {
        goto fail;
    }
    by_actor = calloc(wl->n_actors, sizeof(*by_actor));
    actors = json_array();
    if (by_actor == NULL || actors == NULL) {
        goto fail;
    }
    /* Actors in order of first mention, mentions in document order. */
    for (size_t i = 0; i < n; i++) {
        const char *src = m[i].field == 0 ? title : text;
        json_t *a = by_actor[m[i].actor];
        json_t *mention;
        json_t *mentions;
        if (a == NULL) {
            const struct actor *ac = &wl->actors[m[i].actor];
            a = json_pack("{s:s, s:s, s:s, s:i, s:[]}", "id", ac->id, "kind", ac->kind, "name",
                          ac->name, "count", 0, "mentions");
            if (a == NULL || json_array_append_new(actors, a) != 0) {
                goto fail;
            }
            by_actor[m[i].actor] = a;
        }
        if (json_object_set_new(
                a, "count", json_integer(json_integer_value(json_object_get(a, "count")) + 1)) !=
            0) {
            goto fail;
        }
        mentions = json_object_get(a, "mentions");
        if (json_array_size(mentions) >= WL_MAX_MENTIONS) {
            /* count stays exact; the list stops growing (a page repeating a
             * name 50,000 times must not become a record of megabytes) */
            if (json_object_set_new(a, "mentions_truncated", json_true()) != 0) {
                goto fail;
            }
            continue;
        }
        mention = json_pack("{s:s, s:I, s:I, s:s%}", "field", m[i].field == 0 ? "title" : "text",
                            "start", (json_int_t)m[i].start, "end", (json_int_t)m[i].end, "surface",
                            src + m[i].start, m[i].end - m[i].start);
        if (mention == NULL || json_array_append_new(mentions, mention) != 0) {
            goto fail;
        }
    }
    tags = json_pack("{s:o, s:s}", "actors", actors, "watchlist_version", wl->version);
    actors = NULL;
fail:
    json_decref(actors);
    free(by_actor);
    free(named);
    free(m);
    return tags;
}
