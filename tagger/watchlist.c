#include "watchlist.h"

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
};

struct alias {
    char *text;
    size_t len;
    int exact_case;
    size_t actor;
};

struct watchlist {
    char *version;
    struct actor *actors;
    size_t n_actors;
    struct alias *aliases;
    size_t n_aliases;
    /* aliases grouped by lower-cased first byte: by_byte[c] .. by_byte[c+1] */
    size_t *order;
    size_t by_byte[257];
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
    }
    for (size_t i = 0; i < wl->n_aliases; i++) {
        free(wl->aliases[i].text);
    }
    free(wl->actors);
    free(wl->aliases);
    free(wl->order);
    free(wl->version);
    free(wl);
}

const char *wl_version(const watchlist *wl)
{
    return wl->version;
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
    if (wl->n_aliases == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        struct alias *a = realloc(wl->aliases, ncap * sizeof(*a));
        if (a == NULL) {
            return NL_ENOMEM;
        }
        wl->aliases = a;
        *cap = ncap;
    }
    struct alias *a = &wl->aliases[wl->n_aliases];
    a->text = strdup(text);
    if (a->text == NULL) {
        return NL_ENOMEM;
    }
    a->len = strlen(text);
    a->exact_case = all_caps(text);
    a->actor = actor;
    wl->n_aliases++;
    return 0;
}

static int cmp_first_byte(const void *pa, const void *pb, void *arg)
{
    const watchlist *wl = arg;
    const struct alias *a = &wl->aliases[*(const size_t *)pa];
    const struct alias *b = &wl->aliases[*(const size_t *)pb];
    int ca = tolower((unsigned char)a->text[0]);
    int cb = tolower((unsigned char)b->text[0]);
    return ca - cb;
}

static int build_index(watchlist *wl)
{
    wl->order = malloc((wl->n_aliases + 1) * sizeof(size_t));
    if (wl->order == NULL) {
        return NL_ENOMEM;
    }
    for (size_t i = 0; i < wl->n_aliases; i++) {
        wl->order[i] = i;
    }
    qsort_r(wl->order, wl->n_aliases, sizeof(size_t), cmp_first_byte, wl);
    size_t k = 0;
    for (int c = 0; c < 256; c++) {
        wl->by_byte[c] = k;
        while (k < wl->n_aliases &&
               tolower((unsigned char)wl->aliases[wl->order[k]].text[0]) == c) {
            k++;
        }
    }
    wl->by_byte[256] = k;
    return 0;
}

static int load_actor(watchlist *wl, size_t i, json_t *a, size_t *alias_cap, char *errbuf,
                      size_t errlen)
{
    const char *id = json_string_value(json_object_get(a, "id"));
    const char *kind = json_string_value(json_object_get(a, "kind"));
    const char *name = json_string_value(json_object_get(a, "name"));
    json_t *aliases = json_object_get(a, "aliases");
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
        rc = build_index(wl);
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

/* Decodes the code point starting at s (valid UTF-8 assumed). */
static uint32_t cp_at(const unsigned char *s, const unsigned char *end)
{
    if (s[0] < 0x80 || s + 1 >= end) {
        return s[0];
    }
    if (s[0] < 0xe0) {
        return (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
    }
    if (s[0] < 0xf0 || s + 3 >= end) {
        return s + 2 < end
                   ? (uint32_t)(s[0] & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f)
                   : 0xfffd;
    }
    return (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3f) << 12 |
           (uint32_t)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
}

/* Letters and digits continue a word; punctuation, spaces and symbols
 * (ASCII, Latin-1 punctuation, General Punctuation, CJK punctuation) end it. */
static int is_word_cp(uint32_t cp)
{
    if (cp < 0x80) {
        return isalnum((int)cp);
    }
    /* C1 controls and Latin-1 punctuation and symbols, but for the
     * letters among them (ª µ º) */
    if ((cp >= 0x80 && cp <= 0xbf && cp != 0xaa && cp != 0xb5 && cp != 0xba) || cp == 0xd7 ||
        cp == 0xf7) {
        return 0;
    }
    if ((cp >= 0x2000 && cp <= 0x206f) || (cp >= 0x3000 && cp <= 0x303f) || cp == 0xfeff) {
        return 0;
    }
    return 1;
}

static int boundary_before(const unsigned char *text, size_t pos)
{
    size_t p = pos;
    if (pos == 0) {
        return 1;
    }
    do {
        p--;
    } while (p > 0 && (text[p] & 0xc0) == 0x80);
    return !is_word_cp(cp_at(text + p, text + pos));
}

static int boundary_after(const unsigned char *text, size_t pos, size_t len)
{
    return pos >= len || !is_word_cp(cp_at(text + pos, text + len));
}

static int match_at(const struct alias *a, const char *s, size_t avail)
{
    if (a->len > avail) {
        return 0;
    }
    if (a->exact_case) {
        return memcmp(a->text, s, a->len) == 0;
    }
    return strncasecmp(a->text, s, a->len) == 0;
}

static int find_matches(const watchlist *wl, const char *s, size_t len, int field, struct match **m,
                        size_t *n, size_t *cap)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;

    while (i < len) {
        int c = tolower(u[i]);
        size_t best_len = 0, best_actor = 0;
        if (boundary_before(u, i)) {
            for (size_t k = wl->by_byte[c]; k < wl->by_byte[c + 1]; k++) {
                const struct alias *a = &wl->aliases[wl->order[k]];
                if (a->len > best_len && match_at(a, s + i, len - i) &&
                    boundary_after(u, i + a->len, len)) {
                    best_len = a->len;
                    best_actor = a->actor;
                }
            }
        }
        if (best_len == 0) {
            i++;
            continue;
        }
        if (*n == *cap) {
            size_t ncap = *cap ? *cap * 2 : 32;
            struct match *nm = realloc(*m, ncap * sizeof(*nm));
            if (nm == NULL) {
                return NL_ENOMEM;
            }
            *m = nm;
            *cap = ncap;
        }
        (*m)[*n] = (struct match){i, i + best_len, best_actor, field};
        (*n)++;
        i += best_len; /* leftmost-longest: no overlapping match */
    }
    return 0;
}

json_t *wl_tag(const watchlist *wl, const char *title, size_t title_len, const char *text,
               size_t text_len)
{
    struct match *m = NULL;
    size_t n = 0, cap = 0;
    json_t *tags = NULL;
    json_t *actors = NULL;
    json_t **by_actor = NULL;

    if (find_matches(wl, title, title_len, 0, &m, &n, &cap) != 0 ||
        find_matches(wl, text, text_len, 1, &m, &n, &cap) != 0) {
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
    free(m);
    return tags;
}
