/* Unit tests for the watchlist and its matcher (tagger/watchlist.h):
 * loading errors, whole-word matching next to punctuation and multibyte
 * text, case rules, leftmost-longest resolution, byte offsets, the order
 * of actors, the cap on listed mentions and the shipped watchlist. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mkdtemp, nftw */
#endif

#include "testutil.h"
#include "jsonw.h"
#include "nl_err.h"
#include "watchlist.h"

#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- fixtures --------------------------------------------------------------- */

#define MAX_TMP_FILES 32

/* One directory for the whole run, made and removed by the parent process
 * (an unchecked fixture), so a test that fails in its forked child leaves
 * nothing behind; each test works in its own subdirectory of it. */
static char basedir[PATH_MAX];
static char tmpdir[PATH_MAX];
static char tmp_files[MAX_TMP_FILES][PATH_MAX];
static size_t tmp_n;

static watchlist *wl;
static json_t *tags;
static char errbuf[512];

static void base_setup(void)
{
    tu_make_basedir(basedir, sizeof(basedir), "watchlist");
}

static void base_teardown(void)
{
    tu_remove_tree(basedir);
}

static void wl_setup(void)
{
    tu_make_subdir(tmpdir, sizeof(tmpdir), basedir);
    tmp_n = 0;
    wl = NULL;
    tags = NULL;
    errbuf[0] = '\0';
}

static void wl_teardown(void)
{
    json_decref(tags);
    tags = NULL;
    wl_free(wl);
    wl = NULL;
    while (tmp_n > 0) {
        unlink(tmp_files[--tmp_n]);
    }
    rmdir(tmpdir);
}

/* Writes content to a file in the test's temporary directory (removed at
 * teardown) and returns its path. */
static const char *write_file(const char *name, const char *content)
{
    const char *path;
    FILE *f;
    int n;

    ck_assert_uint_lt(tmp_n, MAX_TMP_FILES);
    n = snprintf(tmp_files[tmp_n], PATH_MAX, "%s/%s", tmpdir, name);
    ck_assert(n > 0 && n < PATH_MAX);
    path = tmp_files[tmp_n++];
    f = fopen(path, "w");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    ck_assert_uint_eq(fwrite(content, 1, strlen(content), f), strlen(content));
    ck_assert_int_eq(fclose(f), 0);
    return path;
}

#define ck_assert_errbuf_has(needle)                                                               \
    ck_assert_msg(strstr(errbuf, (needle)) != NULL, "errbuf \"%s\" lacks \"%s\"", errbuf, (needle))

/* A small watchlist shaped like the shipped one, plus a "Korea" alias on an
 * actor of its own to show leftmost-longest across actors. */
static const char small_watchlist[] =
    "{\"version\": \"test-1\", \"actors\": [\n"
    " {\"id\": \"russia\", \"kind\": \"state\", \"name\": \"Russia\",\n"
    "  \"aliases\": [\"Russian Federation\", \"Russian\", \"Kremlin\"]},\n"
    " {\"id\": \"north-korea\", \"kind\": \"state\", \"name\": \"North Korea\",\n"
    "  \"aliases\": [\"DPRK\", \"Pyongyang\"]},\n"
    " {\"id\": \"korean-peninsula\", \"kind\": \"place\", \"name\": \"Korean Peninsula\",\n"
    "  \"aliases\": [\"Korea\"]},\n"
    " {\"id\": \"united-states\", \"kind\": \"state\", \"name\": \"United States\",\n"
    "  \"aliases\": [\"US\", \"U.S.\", \"Washington\"]},\n"
    " {\"id\": \"united-nations\", \"kind\": \"organisation\", \"name\": \"United Nations\",\n"
    "  \"aliases\": [\"UN\"]},\n"
    " {\"id\": \"un-security-council\", \"kind\": \"organisation\",\n"
    "  \"name\": \"UN Security Council\", \"aliases\": [\"Security Council\", \"UNSC\"]},\n"
    " {\"id\": \"vladimir-putin\", \"kind\": \"person\", \"name\": \"Vladimir Putin\",\n"
    "  \"aliases\": [\"Putin\"]},\n"
    " {\"id\": \"kim-jong-un\", \"kind\": \"person\", \"name\": \"Kim Jong Un\",\n"
    "  \"aliases\": [\"Kim Jong-un\"]},\n"
    " {\"id\": \"hun-sen\", \"kind\": \"person\", \"name\": \"Hun Sen\"}\n"
    "]}\n";

static void load_small(void)
{
    const char *path = write_file("small.json", small_watchlist);
    ck_assert_msg(wl_load(path, &wl, errbuf, sizeof(errbuf)) == 0, "%s", errbuf);
    ck_assert_ptr_nonnull(wl);
}

/* Asserts that span {field, start, end[, text]} lies in its field and, if
 * it has a text, that the text is exactly the bytes it spans. */
static void assert_valid_span(const json_t *sp, const char *title, size_t title_len,
                              const char *text, size_t text_len)
{
    const char *field = json_string_value(json_object_get(sp, "field"));
    json_int_t start = json_integer_value(json_object_get(sp, "start"));
    json_int_t end = json_integer_value(json_object_get(sp, "end"));
    const json_t *str = json_object_get(sp, "text");
    int is_title;

    ck_assert_ptr_nonnull(field);
    ck_assert(strcmp(field, "title") == 0 || strcmp(field, "text") == 0);
    is_title = strcmp(field, "title") == 0;
    ck_assert_int_ge(start, 0);
    ck_assert_int_gt(end, start);
    ck_assert_int_le(end, (json_int_t)(is_title ? title_len : text_len));
    if (str != NULL) {
        ck_assert_uint_eq(json_string_length(str), (size_t)(end - start));
        ck_assert(memcmp(json_string_value(str), (is_title ? title : text) + start,
                         (size_t)(end - start)) == 0);
    }
}

/* Events and relations: every span valid, counts agree with the lists,
 * evidence sentences in document order. */
static void assert_valid_events(const json_t *t, const char *title, size_t title_len,
                                const char *text, size_t text_len)
{
    json_t *e, *sp;
    size_t i, k;

    ck_assert(json_is_array(json_object_get(t, "events")));
    ck_assert(json_is_array(json_object_get(t, "relations")));
    json_array_foreach(json_object_get(t, "events"), i, e)
    {
        json_t *ev = json_object_get(e, "evidence");
        ck_assert_ptr_nonnull(json_string_value(json_object_get(e, "id")));
        ck_assert_ptr_nonnull(json_string_value(json_object_get(e, "label")));
        ck_assert_int_eq(json_integer_value(json_object_get(e, "count")),
                         (json_int_t)json_array_size(ev));
        ck_assert_uint_gt(json_array_size(ev), 0);
        json_array_foreach(ev, k, sp)
        {
            ck_assert_ptr_nonnull(json_object_get(sp, "text"));
            assert_valid_span(sp, title, title_len, text, text_len);
        }
    }
    json_array_foreach(json_object_get(t, "relations"), i, e)
    {
        json_t *pair = json_object_get(e, "actors");
        json_t *sents = json_object_get(e, "sentences");
        ck_assert_uint_eq(json_array_size(pair), 2);
        ck_assert_str_ne(json_string_value(json_array_get(pair, 0)),
                         json_string_value(json_array_get(pair, 1)));
        ck_assert_int_eq(json_integer_value(json_object_get(e, "count")),
                         (json_int_t)json_array_size(sents));
        json_array_foreach(sents, k, sp)
        {
            assert_valid_span(sp, title, title_len, text, text_len);
        }
    }
}

/* Checks the invariants every result must hold: each mention's field,
 * offsets and surface agree with the input, mentions are in document order
 * (title first), count is the number of mentions unless the list is marked
 * truncated, and no actor appears twice. */
static void assert_valid_tags(const json_t *t, const char *title, size_t title_len,
                              const char *text, size_t text_len)
{
    json_t *actors = json_object_get(t, "actors");
    json_t *a;
    size_t i;

    ck_assert_ptr_nonnull(t);
    ck_assert(json_is_array(actors));
    ck_assert_str_eq(json_string_value(json_object_get(t, "watchlist_version")), wl_version(wl));
    json_array_foreach(actors, i, a)
    {
        json_t *mentions = json_object_get(a, "mentions");
        json_t *m;
        size_t k;
        int prev_field = -1;
        json_int_t prev_end = 0;
        json_int_t count = json_integer_value(json_object_get(a, "count"));

        ck_assert_ptr_nonnull(json_string_value(json_object_get(a, "id")));
        ck_assert_ptr_nonnull(json_string_value(json_object_get(a, "kind")));
        ck_assert_ptr_nonnull(json_string_value(json_object_get(a, "name")));
        for (size_t j = 0; j < i; j++) {
            ck_assert_str_ne(json_string_value(json_object_get(json_array_get(actors, j), "id")),
                             json_string_value(json_object_get(a, "id")));
        }
        ck_assert(json_is_array(mentions));
        ck_assert_uint_gt(json_array_size(mentions), 0);
        if (json_is_true(json_object_get(a, "mentions_truncated"))) {
            ck_assert_uint_eq(json_array_size(mentions), WL_MAX_MENTIONS);
            ck_assert_int_gt(count, WL_MAX_MENTIONS);
        } else {
            ck_assert_ptr_null(json_object_get(a, "mentions_truncated"));
            ck_assert_int_eq(count, (json_int_t)json_array_size(mentions));
        }
        json_array_foreach(mentions, k, m)
        {
            const char *field = json_string_value(json_object_get(m, "field"));
            const char *surface = json_string_value(json_object_get(m, "surface"));
            json_int_t start = json_integer_value(json_object_get(m, "start"));
            json_int_t end = json_integer_value(json_object_get(m, "end"));
            int is_title;
            const char *src;
            size_t src_len;

            ck_assert_ptr_nonnull(field);
            ck_assert_ptr_nonnull(surface);
            ck_assert(strcmp(field, "title") == 0 || strcmp(field, "text") == 0);
            is_title = strcmp(field, "title") == 0;
            src = is_title ? title : text;
            src_len = is_title ? title_len : text_len;
            ck_assert_int_ge(start, 0);
            ck_assert_int_gt(end, start);
            ck_assert_int_le(end, (json_int_t)src_len);
            ck_assert_uint_eq(json_string_length(json_object_get(m, "surface")),
                              (size_t)(end - start));
            ck_assert_msg(memcmp(src + start, surface, (size_t)(end - start)) == 0,
                          "%s[%lld, %lld) is not \"%s\"", field, (long long)start, (long long)end,
                          surface);
            /* document order: all title mentions, then the text's */
            if (prev_field == (is_title ? 0 : 1)) {
                ck_assert_int_ge(start, prev_end);
            } else {
                ck_assert_int_lt(prev_field, is_title ? 0 : 1);
            }
            prev_field = is_title ? 0 : 1;
            prev_end = end;
        }
    }
}

/* Tags title and text (plain C strings), checks the result's invariants
 * and keeps it in `tags` (freed at teardown). */
static json_t *tag_dated(const char *title, const char *text, const char *date)
{
    json_decref(tags);
    tags = wl_tag_json(wl, &(wl_doc){title, strlen(title), text, strlen(text), date});
    ck_assert_ptr_nonnull(tags);
    assert_valid_tags(tags, title, strlen(title), text, strlen(text));
    assert_valid_events(tags, title, strlen(title), text, strlen(text));
    return tags;
}

static json_t *tag2(const char *title, const char *text)
{
    return tag_dated(title, text, NULL);
}

static json_t *tag(const char *text)
{
    return tag2("", text);
}

static size_t n_actors(const json_t *t)
{
    return json_array_size(json_object_get(t, "actors"));
}

static json_t *find_actor(const json_t *t, const char *id)
{
    json_t *a;
    size_t i;
    json_array_foreach(json_object_get(t, "actors"), i, a)
    {
        if (strcmp(json_string_value(json_object_get(a, "id")), id) == 0) {
            return a;
        }
    }
    return NULL;
}

static json_int_t actor_count(const json_t *t, const char *id)
{
    json_t *a = find_actor(t, id);
    return a != NULL ? json_integer_value(json_object_get(a, "count")) : 0;
}

static const char *actor_id(const json_t *t, size_t i)
{
    return json_string_value(
        json_object_get(json_array_get(json_object_get(t, "actors"), i), "id"));
}

/* Asserts mention k of actor id is field[start, end) with that surface. */
static void assert_mention(const json_t *t, const char *id, size_t k, const char *field,
                           json_int_t start, const char *surface)
{
    json_t *a = find_actor(t, id);
    json_t *m;

    ck_assert_msg(a != NULL, "no actor %s", id);
    m = json_array_get(json_object_get(a, "mentions"), k);
    ck_assert_msg(m != NULL, "actor %s has no mention %zu", id, k);
    ck_assert_str_eq(json_string_value(json_object_get(m, "field")), field);
    ck_assert_int_eq(json_integer_value(json_object_get(m, "start")), start);
    ck_assert_int_eq(json_integer_value(json_object_get(m, "end")),
                     start + (json_int_t)strlen(surface));
    ck_assert_str_eq(json_string_value(json_object_get(m, "surface")), surface);
}

/* Asserts text yields exactly one mention, of id, at start with surface. */
static void assert_only(const char *text, const char *id, json_int_t start, const char *surface)
{
    json_t *t = tag(text);
    ck_assert_msg(n_actors(t) == 1, "\"%s\": %zu actors", text, n_actors(t));
    ck_assert_msg(actor_count(t, id) == 1, "\"%s\": %s count %lld", text, id,
                  (long long)actor_count(t, id));
    assert_mention(t, id, 0, "text", start, surface);
}

static void assert_none(const char *text)
{
    json_t *t = tag(text);
    ck_assert_msg(n_actors(t) == 0, "\"%s\": %zu actors, first %s", text, n_actors(t),
                  actor_id(t, 0));
}

/* ---- loading ------------------------------------------------------------------ */

START_TEST(test_json_numbers)
{
    /* the tagger's own integer writer, at every change in the number of
     * digits and around the fast path's limit of 10^8 */
    char got[32], want[32];
    uint64_t v = 1;
    for (int k = 0; k <= 19; k++, v *= 10) {
        uint64_t around[] = {v - 1, v, v + 1, 2 * v - 1, 9 * v};
        for (size_t i = 0; i < sizeof(around) / sizeof(around[0]); i++) {
            char *end = jw_put_uint(got, around[i]);
            *end = '\0';
            snprintf(want, sizeof(want), "%llu", (unsigned long long)around[i]);
            ck_assert_str_eq(got, want);
        }
    }
    *jw_put_uint(got, UINT64_MAX) = '\0';
    ck_assert_str_eq(got, "18446744073709551615");
}
END_TEST

START_TEST(test_load_ok)
{
    load_small();
    ck_assert_str_eq(wl_version(wl), "test-1");
    /* no mentions: empty actor, event and relation lists, and the version */
    tag2("", "");
    ck_assert_uint_eq(n_actors(tags), 0);
    ck_assert_str_eq(json_string_value(json_object_get(tags, "watchlist_version")), "test-1");
    ck_assert_uint_eq(json_array_size(json_object_get(tags, "events")), 0);
    ck_assert_uint_eq(json_array_size(json_object_get(tags, "relations")), 0);
    ck_assert(json_is_array(json_object_get(tags, "events")));
    ck_assert(json_is_array(json_object_get(tags, "relations")));
    ck_assert_uint_eq(json_object_size(tags), 4);
    tag2("Nothing here", "Nor here, nothing at all.");
    ck_assert_uint_eq(n_actors(tags), 0);
}
END_TEST

START_TEST(test_load_minimal_actor)
{
    /* aliases are optional, and may be an empty array */
    const char *path = write_file("min.json", "{\"version\": \"v\", \"actors\": ["
                                              "{\"id\": \"a-1\", \"kind\": \"place\","
                                              " \"name\": \"Phnom Penh\"},"
                                              "{\"id\": \"b2\", \"kind\": \"person\","
                                              " \"name\": \"Hun Sen\", \"aliases\": []}]}");
    ck_assert_msg(wl_load(path, &wl, errbuf, sizeof(errbuf)) == 0, "%s", errbuf);
    tag("Hun Sen left Phnom Penh.");
    ck_assert_uint_eq(n_actors(tags), 2);
    ck_assert_str_eq(actor_id(tags, 0), "b2");
    ck_assert_str_eq(actor_id(tags, 1), "a-1");
    ck_assert_str_eq(json_string_value(json_object_get(find_actor(tags, "a-1"), "kind")), "place");
    ck_assert_str_eq(json_string_value(json_object_get(find_actor(tags, "b2"), "name")), "Hun Sen");
}
END_TEST

/* Each case: file content, then up to two substrings the reason must hold. */
struct bad_file {
    const char *content;
    const char *needle1;
    const char *needle2;
};

static void assert_rejected(const struct bad_file *bf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char name[32];
        const char *path;
        int rc;

        snprintf(name, sizeof(name), "bad%zu.json", i);
        path = write_file(name, bf[i].content);
        errbuf[0] = '\0';
        wl = (watchlist *)1; /* must be reset to NULL */
        rc = wl_load(path, &wl, errbuf, sizeof(errbuf));
        ck_assert_msg(rc == NL_EINVAL, "case %zu (%s): rc %d, errbuf \"%s\"", i, bf[i].content, rc,
                      errbuf);
        ck_assert_ptr_null(wl);
        ck_assert_msg(strstr(errbuf, path) != NULL, "case %zu: errbuf \"%s\" lacks the path", i,
                      errbuf);
        ck_assert_msg(bf[i].needle1 == NULL || strstr(errbuf, bf[i].needle1) != NULL,
                      "case %zu: errbuf \"%s\" lacks \"%s\"", i, errbuf, bf[i].needle1);
        ck_assert_msg(bf[i].needle2 == NULL || strstr(errbuf, bf[i].needle2) != NULL,
                      "case %zu: errbuf \"%s\" lacks \"%s\"", i, errbuf, bf[i].needle2);
    }
}

#define RU "{\"id\": \"russia\", \"kind\": \"state\", \"name\": \"Russia\"}"

START_TEST(test_load_bad_top_level)
{
    static const struct bad_file cases[] = {
        {"{\"actors\": [" RU "]}", "\"version\"", NULL},
        {"{\"version\": 3, \"actors\": [" RU "]}", "\"version\"", NULL},
        {"{\"version\": null, \"actors\": [" RU "]}", "\"version\"", NULL},
        {"{\"version\": \"v\", \"actors\": []}", "\"actors\"", "non-empty"},
        {"{\"version\": \"v\"}", "\"actors\"", NULL},
        {"{\"version\": \"v\", \"actors\": {\"russia\": " RU "}}", "\"actors\"", NULL},
        {"[" RU "]", "\"version\"", NULL},
    };
    assert_rejected(cases, sizeof(cases) / sizeof(cases[0]));
}
END_TEST

START_TEST(test_load_bad_id)
{
    static const struct bad_file cases[] = {
        {"{\"version\": \"v\", \"actors\": [" RU ", {\"id\": \"North-Korea\", \"kind\": \"state\","
         " \"name\": \"North Korea\"}]}",
         "actors[1].id", "slug"},
        {"{\"version\": \"v\", \"actors\": [{\"id\": \"north korea\", \"kind\": \"state\","
         " \"name\": \"North Korea\"}]}",
         "actors[0].id", "slug"},
        {"{\"version\": \"v\", \"actors\": [{\"id\": \"north_korea\", \"kind\": \"state\","
         " \"name\": \"North Korea\"}]}",
         "actors[0].id", NULL},
        {"{\"version\": \"v\", \"actors\": [{\"id\": \"\", \"kind\": \"state\","
         " \"name\": \"North Korea\"}]}",
         "actors[0].id", NULL},
        {"{\"version\": \"v\", \"actors\": [{\"id\": \"korea\\u00e9\", \"kind\": \"state\","
         " \"name\": \"North Korea\"}]}",
         "actors[0].id", NULL},
        {"{\"version\": \"v\", \"actors\": [{\"kind\": \"state\", \"name\": \"North Korea\"}]}",
         "actors[0].id", NULL},
        {"{\"version\": \"v\", \"actors\": [{\"id\": 7, \"kind\": \"state\","
         " \"name\": \"North Korea\"}]}",
         "actors[0].id", NULL},
    };
    assert_rejected(cases, sizeof(cases) / sizeof(cases[0]));
}
END_TEST

START_TEST(test_load_bad_kind)
{
    static const struct bad_file cases[] = {
        {"{\"version\": \"v\", \"actors\": [" RU ", {\"id\": \"nk\", \"kind\": \"country\","
         " \"name\": \"North Korea\"}]}",
         "actors[1] (nk).kind", "person, state, organisation or place"},
        {"{\"version\": \"v\", \"actors\": [{\"id\": \"nk\", \"name\": \"North Korea\"}]}",
         "actors[0] (nk).kind", NULL},
        {"{\"version\": \"v\", \"actors\": [{\"id\": \"nk\", \"kind\": \"State\","
         " \"name\": \"North Korea\"}]}",
         "actors[0] (nk).kind", NULL},
        {"{\"version\": \"v\", \"actors\": [{\"id\": \"nk\", \"kind\": [\"state\"],"
         " \"name\": \"North Korea\"}]}",
         "actors[0] (nk).kind", NULL},
    };
    assert_rejected(cases, sizeof(cases) / sizeof(cases[0]));
}
END_TEST

START_TEST(test_load_bad_name)
{
    static const struct bad_file cases[] = {
        {"{\"version\": \"v\", \"actors\": [" RU ", {\"id\": \"nk\", \"kind\": \"state\"}]}",
         "actors[1] (nk).name", "non-empty name"},
        {"{\"version\": \"v\", \"actors\": [{\"id\": \"nk\", \"kind\": \"state\","
         " \"name\": \"\"}]}",
         "actors[0] (nk).name", NULL},
        {"{\"version\": \"v\", \"actors\": [{\"id\": \"nk\", \"kind\": \"state\","
         " \"name\": 1}]}",
         "actors[0] (nk).name", NULL},
    };
    assert_rejected(cases, sizeof(cases) / sizeof(cases[0]));
}
END_TEST

START_TEST(test_load_duplicate_id)
{
    static const struct bad_file cases[] = {
        {"{\"version\": \"v\", \"actors\": [" RU ", {\"id\": \"nk\", \"kind\": \"state\","
         " \"name\": \"North Korea\"}, {\"id\": \"russia\", \"kind\": \"person\","
         " \"name\": \"Russia Again\"}]}",
         "actors[2].id", "\"russia\" is already used"},
        /* a duplicate key in one entry is a JSON error */
        {"{\"version\": \"v\", \"actors\": [{\"id\": \"nk\", \"id\": \"nk2\", \"kind\": \"state\","
         " \"name\": \"North Korea\"}]}",
         "line 1", "duplicate"},
    };
    assert_rejected(cases, sizeof(cases) / sizeof(cases[0]));
}
END_TEST

START_TEST(test_load_not_an_object)
{
    static const struct bad_file cases[] = {
        {"{\"version\": \"v\", \"actors\": [" RU ", \"nk\"]}", "actors[1]", "object"},
        {"{\"version\": \"v\", \"actors\": [[\"nk\"]]}", "actors[0]", "object"},
    };
    assert_rejected(cases, sizeof(cases) / sizeof(cases[0]));
}
END_TEST

#define NK_WITH(aliases)                                                                           \
    "{\"version\": \"v\", \"actors\": [" RU ", {\"id\": \"nk\", \"kind\": \"state\","              \
    " \"name\": \"North Korea\", \"aliases\": " aliases "}]}"

START_TEST(test_load_bad_aliases)
{
    static const struct bad_file cases[] = {
        {NK_WITH("[\"DPRK\", 7]"), "actors[1] (nk).aliases[1]", "non-empty name"},
        {NK_WITH("[\"DPRK\", \"Pyongyang\", null]"), "actors[1] (nk).aliases[2]", NULL},
        {NK_WITH("[[\"DPRK\"]]"), "actors[1] (nk).aliases[0]", NULL},
        {NK_WITH("[\"DPRK\", \"\"]"), "actors[1] (nk).aliases[1]", "non-empty"},
        {NK_WITH("[\" DPRK\"]"), "actors[1] (nk).aliases[0]", "space"},
        {NK_WITH("[\"DPRK\", \"\\tPyongyang\"]"), "actors[1] (nk).aliases[1]", "space"},
        {NK_WITH("[\"DPRK\", \"\\nPyongyang\"]"), "actors[1] (nk).aliases[1]", NULL},
        {NK_WITH("\"DPRK\""), "actors[1] (nk).aliases", "array"},
        {NK_WITH("{\"0\": \"DPRK\"}"), "actors[1] (nk).aliases", "array"},
        {NK_WITH("null"), "actors[1] (nk).aliases", "array"},
    };
    assert_rejected(cases, sizeof(cases) / sizeof(cases[0]));
}
END_TEST

START_TEST(test_load_malformed_json)
{
    static const struct bad_file cases[] = {
        {"{\"version\": \"v\",\n \"actors\": [\n" RU ",\n]}", "line 4", NULL},
        {"{\"version\": \"v\", \"actors\": [" RU "]", "line 1", NULL},
        {"", NULL, NULL},
        {"not json", "line 1", NULL},
        {"{\"version\": \"v\", \"actors\": [" RU "]} trailing", NULL, NULL},
    };
    assert_rejected(cases, sizeof(cases) / sizeof(cases[0]));
}
END_TEST

START_TEST(test_load_malformed_json_stale_errno)
{
    /* The class must not depend on what errno held before the call: a
     * syntax error is NL_EINVAL even right after an unrelated ENOENT (for
     * instance a failed load of a missing file). */
    const char *path = write_file("bad.json", "{\"version\": \"v\", \"actors\": [,]}");
    int rc;

    errno = ENOENT;
    rc = wl_load(path, &wl, errbuf, sizeof(errbuf));
    ck_assert_msg(rc == NL_EINVAL, "rc %d (%s), errbuf \"%s\"", rc, nl_err_code(rc), errbuf);
    ck_assert_ptr_null(wl);
    ck_assert_errbuf_has("line 1");
}
END_TEST

START_TEST(test_load_missing_file)
{
    char path[PATH_MAX];
    int n;
    int rc;

    n = snprintf(path, sizeof(path), "%s/no-such-watchlist.json", tmpdir);
    ck_assert(n > 0 && (size_t)n < sizeof(path));
    wl = (watchlist *)1;
    rc = wl_load(path, &wl, errbuf, sizeof(errbuf));
    ck_assert_int_eq(rc, NL_EIO);
    ck_assert_ptr_null(wl);
    ck_assert_errbuf_has(path);
    /* and a missing directory on the way */
    n = snprintf(path, sizeof(path), "%s/no-such-dir/watchlist.json", tmpdir);
    ck_assert(n > 0 && (size_t)n < sizeof(path));
    errbuf[0] = '\0';
    ck_assert_int_eq(wl_load(path, &wl, errbuf, sizeof(errbuf)), NL_EIO);
    ck_assert_errbuf_has(path);
}
END_TEST

START_TEST(test_load_error_small_errbuf)
{
    /* a short errbuf is truncated, never overrun */
    const char *path = write_file("bad.json", NK_WITH("[\"DPRK\", 7]"));
    char small[16];

    memset(small, 'x', sizeof(small));
    ck_assert_int_eq(wl_load(path, &wl, small, 8), NL_EINVAL);
    ck_assert_uint_eq(strlen(small), 7);
    ck_assert_int_eq(small[8], 'x');
    ck_assert_int_eq(wl_load(path, &wl, NULL, 0), NL_EINVAL);
    ck_assert_ptr_null(wl);
}
END_TEST

/* ---- whole words ---------------------------------------------------------------- */

START_TEST(test_whole_words_only)
{
    load_small();
    assert_none("Prussia was a kingdom.");
    assert_none("Putinism is an ideology.");
    assert_none("Russias");
    assert_none("Kremlinology");
    assert_none("BRussia");
    assert_none("Russia2");
    assert_none("2Russia");
    /* "Russian" is the alias, not "Russia" followed by an n */
    assert_only("A Russian ship", "russia", 2, "Russian");
    /* "Russians" is neither */
    assert_none("Russians");
    /* "Korean" is not "Korea" */
    assert_none("Korean food");
    assert_only("Kim Jong Un", "kim-jong-un", 0, "Kim Jong Un");
    assert_only("Kim Jong-un", "kim-jong-un", 0, "Kim Jong-un");
    assert_none("Kim Jong");
}
END_TEST

START_TEST(test_punctuation_and_quotes)
{
    load_small();
    assert_only("Russia\xe2\x80\x99s war", "russia", 0, "Russia");              /* U+2019 */
    assert_only("Russia's war", "russia", 0, "Russia");                         /* ASCII ' */
    assert_only("sanctions (Russia) hit", "russia", 11, "Russia");              /* parentheses */
    assert_only("\xe2\x80\x9cPutin\xe2\x80\x9d", "vladimir-putin", 3, "Putin"); /* “Putin” */
    assert_only("\xe2\x80\x98Putin\xe2\x80\x99", "vladimir-putin", 3, "Putin"); /* ‘Putin’ */
    assert_only("\xc2\xabPutin\xc2\xbb", "vladimir-putin", 2, "Putin");         /* «Putin» */
    assert_only("Putin\xe2\x80\x94"
                "and",
                "vladimir-putin", 0, "Putin");                                  /* em dash */
    assert_only("Putin\xe2\x80\xa6", "vladimir-putin", 0, "Putin");             /* ellipsis */
    assert_only("\xe3\x80\x8cPutin\xe3\x80\x8d", "vladimir-putin", 3, "Putin"); /* 「Putin」 */
    assert_only("Putin, Sen.", "vladimir-putin", 0, "Putin");
    assert_only("\"Putin\"", "vladimir-putin", 1, "Putin");
    assert_only("Putin.", "vladimir-putin", 0, "Putin");
    assert_only("Putin", "vladimir-putin", 0, "Putin");
    assert_only("-Putin-", "vladimir-putin", 1, "Putin");
    assert_only("\tPutin\n", "vladimir-putin", 1, "Putin");
    assert_only("the U.S. and", "united-states", 4, "U.S.");
    assert_only("the U.S.", "united-states", 4, "U.S.");

    /* "Russia-North Korea": both, the hyphen ends the first word */
    tag("the Russia-North Korea alliance");
    ck_assert_uint_eq(n_actors(tags), 2);
    ck_assert_str_eq(actor_id(tags, 0), "russia");
    ck_assert_str_eq(actor_id(tags, 1), "north-korea");
    assert_mention(tags, "russia", 0, "text", 4, "Russia");
    assert_mention(tags, "north-korea", 0, "text", 11, "North Korea");
    ck_assert_ptr_null(find_actor(tags, "korean-peninsula"));

    /* at the very start and the very end of the text */
    tag("Russia talks to Putin");
    ck_assert_uint_eq(n_actors(tags), 2);
    assert_mention(tags, "russia", 0, "text", 0, "Russia");
    assert_mention(tags, "vladimir-putin", 0, "text", 16, "Putin");
    /* and of the title */
    tag2("Putin and Russia", "");
    ck_assert_uint_eq(n_actors(tags), 2);
    assert_mention(tags, "vladimir-putin", 0, "title", 0, "Putin");
    assert_mention(tags, "russia", 0, "title", 10, "Russia");
}
END_TEST

START_TEST(test_word_continuation_non_ascii)
{
    load_small();
    /* a letter outside ASCII continues the word, before or after */
    assert_none("Russia\xc3\xa9");        /* Russiaé */
    assert_none("\xc3\xa9Russia");        /* éRussia */
    assert_none("Russia\xd0\xb6 and");    /* Cyrillic zhe */
    assert_none("Putin\xe6\x97\xa5");     /* CJK ideograph */
    assert_none("\xf0\x9d\x90\x80Putin"); /* U+1D400, 4 bytes */
    assert_none("Putin\xf0\x9d\x90\x80"); /* at the very end */
    assert_none("Putin\xcc\x81 said");    /* combining acute accent */
    assert_none("the Kremlin\xc3\x9f");   /* Kremlinß */
    assert_none("\xc3\xb1Putin\xc3\xb1"); /* ñPutiñ */
    /* A no-break space (U+00A0) is a space, not a letter: it separates
     * words as an ASCII space does ("President\u00a0Putin"). */
    assert_only("President\xc2\xa0Putin", "vladimir-putin", 11, "Putin");
    assert_only("Putin\xc2\xa0said", "vladimir-putin", 0, "Putin");
    assert_only("Putin\xe2\x80\xaf", "vladimir-putin", 0, "Putin"); /* narrow no-break space */
    assert_only("\xe3\x80\x80Putin", "vladimir-putin", 3, "Putin"); /* ideographic space */
}
END_TEST

/* ---- case ----------------------------------------------------------------------- */

START_TEST(test_case_insensitive_names)
{
    load_small();
    assert_only("RUSSIA", "russia", 0, "RUSSIA");
    assert_only("russia", "russia", 0, "russia");
    assert_only("rUsSiA!", "russia", 0, "rUsSiA");
    assert_only("THE KREMLIN", "russia", 4, "KREMLIN");
    assert_only("kim jong-UN", "kim-jong-un", 0, "kim jong-UN");
    assert_only("putin", "vladimir-putin", 0, "putin");
    assert_only("VLADIMIR PUTIN", "vladimir-putin", 0, "VLADIMIR PUTIN");
}
END_TEST

START_TEST(test_all_caps_alias_exact_case)
{
    load_small();
    assert_only("US troops", "united-states", 0, "US");
    assert_only("the UN said", "united-nations", 4, "UN");
    assert_only("DPRK", "north-korea", 0, "DPRK");
    assert_only("the U.S.", "united-states", 4, "U.S.");
    /* "us", "Us" and "uS" are not the United States, nor "un" the UN */
    assert_none("let us go");
    assert_none("Us and them");
    assert_none("uS");
    assert_none("un peu");
    assert_none("Un jour");
    assert_none("dprk");
    assert_none("the u.s.");
    assert_none("unsc");
    /* a capitalised non-capital alias still matches in any case */
    assert_only("washington", "united-states", 0, "washington");
    /* and the names: "United States" is not all capitals */
    assert_only("UNITED STATES", "united-states", 0, "UNITED STATES");

    tag("Us, us, US, uS and US.");
    ck_assert_uint_eq(n_actors(tags), 1);
    ck_assert_int_eq(actor_count(tags, "united-states"), 2);
    assert_mention(tags, "united-states", 0, "text", 8, "US");
    assert_mention(tags, "united-states", 1, "text", 19, "US");
}
END_TEST

/* ---- leftmost-longest ------------------------------------------------------------ */

START_TEST(test_leftmost_longest)
{
    load_small();
    /* the council, not also the UN */
    assert_only("UN Security Council", "un-security-council", 0, "UN Security Council");
    assert_only("the UN Security Council met", "un-security-council", 4, "UN Security Council");
    /* "Security Council" is the council's own alias, inside the name */
    assert_only("the Security Council met", "un-security-council", 4, "Security Council");
    /* a longer alias of the same actor wins over a shorter one */
    assert_only("the Russian Federation", "russia", 4, "Russian Federation");
    /* "North Korea", not "Korea" of another actor */
    assert_only("North Korea", "north-korea", 0, "North Korea");
    assert_only("in North Korea.", "north-korea", 3, "North Korea");
    /* where the long one does not fit, the short one matches */
    assert_only("UN Security", "united-nations", 0, "UN");
    assert_only("South Korea", "korean-peninsula", 6, "Korea");
    /* and neither when the word goes on */
    assert_none("North Koreans");
}
END_TEST

START_TEST(test_leftmost_longest_mixed)
{
    load_small();
    tag("The UN and the UN Security Council; North Korea and Korea; the UN.");
    ck_assert_uint_eq(n_actors(tags), 4);
    ck_assert_str_eq(actor_id(tags, 0), "united-nations");
    ck_assert_str_eq(actor_id(tags, 1), "un-security-council");
    ck_assert_str_eq(actor_id(tags, 2), "north-korea");
    ck_assert_str_eq(actor_id(tags, 3), "korean-peninsula");
    ck_assert_int_eq(actor_count(tags, "united-nations"), 2);
    ck_assert_int_eq(actor_count(tags, "un-security-council"), 1);
    ck_assert_int_eq(actor_count(tags, "north-korea"), 1);
    ck_assert_int_eq(actor_count(tags, "korean-peninsula"), 1);
    assert_mention(tags, "united-nations", 0, "text", 4, "UN");
    assert_mention(tags, "un-security-council", 0, "text", 15, "UN Security Council");
    assert_mention(tags, "north-korea", 0, "text", 36, "North Korea");
    assert_mention(tags, "korean-peninsula", 0, "text", 52, "Korea");
    assert_mention(tags, "united-nations", 1, "text", 63, "UN");
}
END_TEST

/* ---- offsets ---------------------------------------------------------------------- */

START_TEST(test_offsets_utf8)
{
    /* multibyte characters of every length before and between matches */
    static const char text[] = "\xd0\x9f\xd1\x80\xd0\xb5\xd0\xb7\xd0\xb8\xd0\xb4\xd0\xb5\xd0\xbd"
                               "\xd1\x82 \xe2\x80\x9cPutin\xe2\x80\x9d \xe2\x80\x94 "
                               "\xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x87\xb7\xf0\x9f\x87\xba "
                               "Russia\xe2\x80\x99s Kremlin, caf\xc3\xa9 \xc3\xa0 Pyongyang "
                               "(North Korea).";
    static const char title[] = "\xc3\x89"
                                "dition sp\xc3\xa9"
                                "ciale : Kim Jong Un \xc3\xa0 Moscou";
    const char *expect[][2] = {
        {"vladimir-putin", "Putin"},  {"russia", "Russia"},           {"russia", "Kremlin"},
        {"north-korea", "Pyongyang"}, {"north-korea", "North Korea"},
    };
    size_t seen[5] = {0};

    load_small();
    tag2(title, text); /* checks every slice against its surface */
    ck_assert_uint_eq(n_actors(tags), 4);
    ck_assert_str_eq(actor_id(tags, 0), "kim-jong-un");
    assert_mention(tags, "kim-jong-un", 0, "title", (json_int_t)(strstr(title, "Kim") - title),
                   "Kim Jong Un");
    for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
        const char *p = strstr(text, expect[i][1]);
        json_t *a = find_actor(tags, expect[i][0]);
        json_t *m;
        size_t k;
        int found = 0;
        ck_assert_ptr_nonnull(p);
        ck_assert_ptr_nonnull(a);
        json_array_foreach(json_object_get(a, "mentions"), k, m)
        {
            if (json_integer_value(json_object_get(m, "start")) == p - text) {
                ck_assert_str_eq(json_string_value(json_object_get(m, "surface")), expect[i][1]);
                ck_assert_str_eq(json_string_value(json_object_get(m, "field")), "text");
                found = 1;
                seen[i]++;
            }
        }
        ck_assert_msg(found, "no mention of %s at %td", expect[i][1], p - text);
    }
    ck_assert_int_eq(actor_count(tags, "russia"), 2);
    ck_assert_int_eq(actor_count(tags, "north-korea"), 2);
    ck_assert_int_eq(actor_count(tags, "vladimir-putin"), 1);
}
END_TEST

START_TEST(test_offsets_lengths_not_nul_terminated)
{
    /* The lengths bound the fields: a name cut by the end of a field is
     * not matched, bytes past it are not read, and a NUL inside is data. */
    static const char buf[] = "Putin Russia";
    static const char with_nul[] = "x\0Putin";

    load_small();
    json_decref(tags);
    tags = wl_tag_json(wl, &(wl_doc){buf, 3, buf, 9, NULL}); /* title "Put", text "Putin Rus" */
    ck_assert_ptr_nonnull(tags);
    assert_valid_tags(tags, buf, 3, buf, 9);
    ck_assert_uint_eq(n_actors(tags), 1);
    ck_assert_int_eq(actor_count(tags, "vladimir-putin"), 1);
    assert_mention(tags, "vladimir-putin", 0, "text", 0, "Putin");
    json_decref(tags);
    tags = wl_tag_json(
        wl, &(wl_doc){with_nul, sizeof(with_nul) - 1, with_nul, sizeof(with_nul) - 1, NULL});
    ck_assert_ptr_nonnull(tags);
    assert_valid_tags(tags, with_nul, sizeof(with_nul) - 1, with_nul, sizeof(with_nul) - 1);
    ck_assert_int_eq(actor_count(tags, "vladimir-putin"), 2);
    assert_mention(tags, "vladimir-putin", 0, "title", 2, "Putin");
    assert_mention(tags, "vladimir-putin", 1, "text", 2, "Putin");
}
END_TEST

START_TEST(test_title_mentions)
{
    load_small();
    tag2("Putin meets Kim Jong Un", "Russia and North Korea. Putin spoke.");
    ck_assert_uint_eq(n_actors(tags), 4);
    /* actors in order of first mention, the title before the text */
    ck_assert_str_eq(actor_id(tags, 0), "vladimir-putin");
    ck_assert_str_eq(actor_id(tags, 1), "kim-jong-un");
    ck_assert_str_eq(actor_id(tags, 2), "russia");
    ck_assert_str_eq(actor_id(tags, 3), "north-korea");
    ck_assert_int_eq(actor_count(tags, "vladimir-putin"), 2);
    assert_mention(tags, "vladimir-putin", 0, "title", 0, "Putin");
    assert_mention(tags, "vladimir-putin", 1, "text", 24, "Putin");
    assert_mention(tags, "kim-jong-un", 0, "title", 12, "Kim Jong Un");
    assert_mention(tags, "russia", 0, "text", 0, "Russia");
    assert_mention(tags, "north-korea", 0, "text", 11, "North Korea");
}
END_TEST

/* ---- order, counts, the mention cap ---------------------------------------------------- */

START_TEST(test_order_and_counts)
{
    json_t *a;

    load_small();
    tag("Hun Sen met Putin. Russia, Putin, RUSSIA and russia; Hun Sen again. DPRK.");
    ck_assert_uint_eq(n_actors(tags), 4);
    ck_assert_str_eq(actor_id(tags, 0), "hun-sen");
    ck_assert_str_eq(actor_id(tags, 1), "vladimir-putin");
    ck_assert_str_eq(actor_id(tags, 2), "russia");
    ck_assert_str_eq(actor_id(tags, 3), "north-korea");
    ck_assert_int_eq(actor_count(tags, "hun-sen"), 2);
    ck_assert_int_eq(actor_count(tags, "vladimir-putin"), 2);
    ck_assert_int_eq(actor_count(tags, "russia"), 3);
    ck_assert_int_eq(actor_count(tags, "north-korea"), 1);
    assert_mention(tags, "russia", 0, "text", 19, "Russia");
    assert_mention(tags, "russia", 1, "text", 34, "RUSSIA");
    assert_mention(tags, "russia", 2, "text", 45, "russia");
    a = find_actor(tags, "north-korea");
    ck_assert_str_eq(json_string_value(json_object_get(a, "kind")), "state");
    ck_assert_str_eq(json_string_value(json_object_get(a, "name")), "North Korea");
    ck_assert_uint_eq(json_object_size(a), 5); /* id, kind, name, count, mentions */
}
END_TEST

/* n copies of "Russia " (7 bytes each); the caller frees it. */
static char *repeat_russia(size_t n)
{
    char *s = malloc(n * 7 + 1);
    ck_assert_ptr_nonnull(s);
    for (size_t i = 0; i < n; i++) {
        memcpy(s + i * 7, "Russia ", 7);
    }
    s[n * 7] = '\0';
    return s;
}

START_TEST(test_mentions_truncated)
{
    char *text = repeat_russia(1500);
    json_t *a;
    json_t *mentions;

    load_small();
    tag2("Putin", text);
    ck_assert_uint_eq(n_actors(tags), 2);
    a = find_actor(tags, "russia");
    mentions = json_object_get(a, "mentions");
    ck_assert_int_eq(json_integer_value(json_object_get(a, "count")), 1500);
    ck_assert_uint_eq(json_array_size(mentions), WL_MAX_MENTIONS);
    ck_assert_uint_eq(WL_MAX_MENTIONS, 1000);
    ck_assert(json_is_true(json_object_get(a, "mentions_truncated")));
    /* the first 1000, in order */
    for (size_t i = 0; i < WL_MAX_MENTIONS; i++) {
        json_t *m = json_array_get(mentions, i);
        ck_assert_int_eq(json_integer_value(json_object_get(m, "start")), (json_int_t)(i * 7));
    }
    /* the other actor is not affected */
    a = find_actor(tags, "vladimir-putin");
    ck_assert_int_eq(json_integer_value(json_object_get(a, "count")), 1);
    ck_assert_ptr_null(json_object_get(a, "mentions_truncated"));
    free(text);
}
END_TEST

START_TEST(test_mentions_at_the_cap)
{
    char *text = repeat_russia(WL_MAX_MENTIONS);
    json_t *a;

    load_small();
    /* exactly the cap: all listed, not marked */
    tag(text);
    a = find_actor(tags, "russia");
    ck_assert_int_eq(json_integer_value(json_object_get(a, "count")), WL_MAX_MENTIONS);
    ck_assert_uint_eq(json_array_size(json_object_get(a, "mentions")), WL_MAX_MENTIONS);
    ck_assert_ptr_null(json_object_get(a, "mentions_truncated"));
    /* one more, in the title: the title's comes first, the text's last is cut */
    tag2("Russia", text);
    a = find_actor(tags, "russia");
    ck_assert_int_eq(json_integer_value(json_object_get(a, "count")), WL_MAX_MENTIONS + 1);
    ck_assert_uint_eq(json_array_size(json_object_get(a, "mentions")), WL_MAX_MENTIONS);
    ck_assert(json_is_true(json_object_get(a, "mentions_truncated")));
    assert_mention(tags, "russia", 0, "title", 0, "Russia");
    assert_mention(tags, "russia", WL_MAX_MENTIONS - 1, "text", (WL_MAX_MENTIONS - 2) * 7,
                   "Russia");
    free(text);
}
END_TEST

/* ---- the shipped watchlist ---------------------------------------------------------- */

static void load_shipped(void)
{
    ck_assert_msg(wl_load(NL_DATADIR "/tagger/watchlist.json", &wl, errbuf, sizeof(errbuf)) == 0,
                  "%s", errbuf);
    ck_assert_ptr_nonnull(wl);
    ck_assert_str_ne(wl_version(wl), "");
}

START_TEST(test_shipped_kims)
{
    /* Kim Yong-nam is tracked as himself: none of the four Kims is another */
    static const char text[] = "Kim Jong Un met Kim Jong-il's heirs; Kim Il-sung's portrait hung "
                               "as Kim Yong-nam watched.";

    load_shipped();
    tag(text);
    ck_assert_uint_eq(n_actors(tags), 4);
    ck_assert_str_eq(actor_id(tags, 0), "kim-jong-un");
    ck_assert_str_eq(actor_id(tags, 1), "kim-jong-il");
    ck_assert_str_eq(actor_id(tags, 2), "kim-il-sung");
    ck_assert_str_eq(actor_id(tags, 3), "kim-yong-nam");
    ck_assert_int_eq(actor_count(tags, "kim-jong-un"), 1);
    ck_assert_int_eq(actor_count(tags, "kim-jong-il"), 1);
    ck_assert_int_eq(actor_count(tags, "kim-il-sung"), 1);
    ck_assert_int_eq(actor_count(tags, "kim-yong-nam"), 1);
    assert_mention(tags, "kim-jong-un", 0, "text", 0, "Kim Jong Un");
    assert_mention(tags, "kim-jong-il", 0, "text", 16, "Kim Jong-il");
    assert_mention(tags, "kim-il-sung", 0, "text", 37, "Kim Il-sung");
    assert_mention(tags, "kim-yong-nam", 0, "text", (json_int_t)(strstr(text, "Kim Yong") - text),
                   "Kim Yong-nam");
    /* with several Kims named, a bare Kim is nobody */
    tag("Kim Jong Un met Kim Il-sung. Kim spoke.");
    ck_assert_int_eq(actor_count(tags, "kim-jong-un"), 1);
    ck_assert_int_eq(actor_count(tags, "kim-il-sung"), 1);
}
END_TEST

START_TEST(test_shipped_ignore)
{
    /* names of untracked bodies shadow the tracked names inside them */
    load_shipped();
    tag("The Washington Times quoted East China Normal University on Washington.");
    ck_assert_uint_eq(n_actors(tags), 1);
    ck_assert_int_eq(actor_count(tags, "united-states"), 1);
    assert_mention(tags, "united-states", 0, "text", 60, "Washington");
}
END_TEST

START_TEST(test_shipped_examples)
{
    load_shipped();
    assert_only("UN Security Council", "un-security-council", 0, "UN Security Council");
    assert_only("Russia\xe2\x80\x99s", "russia", 0, "Russia");
    assert_none("Prussia and Putinism");
    assert_none("let us go");
    tag("the Russia-North Korea alliance");
    ck_assert_uint_eq(n_actors(tags), 2);
    ck_assert_str_eq(actor_id(tags, 0), "russia");
    ck_assert_str_eq(actor_id(tags, 1), "north-korea");
    /* the curly-apostrophe spelling is an alias of its own */
    assert_only("the Democratic People\xe2\x80\x99s Republic of Korea", "north-korea", 4,
                "Democratic People\xe2\x80\x99s Republic of Korea");
}
END_TEST

/* ---- spelling variants and surnames -------------------------------------------- */

START_TEST(test_spelling_variants)
{
    load_small();
    /* "Kim Jong Un" in the watchlist: every separator variant is the same name */
    assert_only("met Kim Jong-Un today", "kim-jong-un", 4, "Kim Jong-Un");
    assert_only("met Kim Jong Un today", "kim-jong-un", 4, "Kim Jong Un");
    assert_only("met Kim\xc2\xa0Jong\xe2\x80\x91un today", "kim-jong-un", 4,
                "Kim\xc2\xa0Jong\xe2\x80\x91un");
    assert_only("met Kim Jong\nUn today", "kim-jong-un", 4, "Kim Jong\nUn");
    assert_only("met Kim\r\nJong Un today", "kim-jong-un", 4, "Kim\r\nJong Un");
    assert_only("North\xe2\x80\x90Korea said", "north-korea", 0, "North\xe2\x80\x90Korea");
    /* but not two separators, nor none */
    assert_none("met Kim  Jong Un today");
    assert_none("met KimJongUn today");
}
END_TEST

START_TEST(test_apostrophe_variants)
{
    const char *path = write_file(
        "apos.json", "{\"version\": \"t\", \"actors\": [\n"
                     " {\"id\": \"north-korea\", \"kind\": \"state\", \"name\": \"North Korea\",\n"
                     "  \"aliases\": [\"Democratic People's Republic of Korea\"]}]}\n");
    ck_assert_msg(wl_load(path, &wl, errbuf, sizeof(errbuf)) == 0, "%s", errbuf);
    assert_only("the Democratic People's Republic of Korea", "north-korea", 4,
                "Democratic People's Republic of Korea");
    assert_only("the Democratic People\xe2\x80\x99s Republic of Korea", "north-korea", 4,
                "Democratic People\xe2\x80\x99s Republic of Korea");
}
END_TEST

static const char kims_watchlist[] =
    "{\"version\": \"t\", \"actors\": [\n"
    " {\"id\": \"kim-jong-un\", \"kind\": \"person\", \"name\": \"Kim Jong Un\", "
    "\"surname\": \"Kim\"},\n"
    " {\"id\": \"kim-il-sung\", \"kind\": \"person\", \"name\": \"Kim Il Sung\", "
    "\"surname\": \"Kim\"},\n"
    " {\"id\": \"vladimir-putin\", \"kind\": \"person\", \"name\": \"Vladimir Putin\", "
    "\"surname\": \"Putin\"}]}\n";

START_TEST(test_surname_after_full_name)
{
    const char *path = write_file("kims.json", kims_watchlist);
    json_t *t;
    ck_assert_msg(wl_load(path, &wl, errbuf, sizeof(errbuf)) == 0, "%s", errbuf);

    /* a bare surname refers to the one person of that name named before it */
    t = tag("Kim Jong Un spoke. Later Kim left.");
    ck_assert_int_eq(actor_count(t, "kim-jong-un"), 2);
    assert_mention(t, "kim-jong-un", 1, "text", 25, "Kim");
    /* with two tracked Kims named before, a bare Kim is nobody */
    t = tag("Kim Il Sung and Kim Jong Un. Kim said.");
    ck_assert_int_eq(actor_count(t, "kim-jong-un"), 1);
    ck_assert_int_eq(actor_count(t, "kim-il-sung"), 1);
    /* with no Kim named, two tracked Kims: nobody */
    t = tag("Kim said so.");
    ck_assert_uint_eq(n_actors(t), 0);
    /* the only tracked Putin: a bare Putin is him, named or not */
    assert_only("Putin said so.", "vladimir-putin", 0, "Putin");
    /* the title is part of the document: a full name there counts */
    t = tag2("Kim Jong Un visits", "Kim arrived.");
    ck_assert_int_eq(actor_count(t, "kim-jong-un"), 2);
    assert_mention(t, "kim-jong-un", 1, "text", 0, "Kim");
    /* a surname alone is not a word inside another name */
    t = tag("Kim Jong Un met Kimberly.");
    ck_assert_int_eq(actor_count(t, "kim-jong-un"), 1);
}
END_TEST

START_TEST(test_surname_only_for_persons)
{
    const char *path =
        write_file("badsn.json", "{\"version\": \"t\", \"actors\": [{\"id\": \"x\", \"kind\": "
                                 "\"state\", \"name\": \"X\", \"surname\": \"Y\"}]}\n");
    ck_assert_int_eq(wl_load(path, &wl, errbuf, sizeof(errbuf)), NL_EINVAL);
    ck_assert_errbuf_has("actors[0] (x).surname");
}
END_TEST

/* ---- events, relations, roles -------------------------------------------------- */

static const char events_watchlist[] =
    "{\"version\": \"ev-1\", \"actors\": [\n"
    " {\"id\": \"russia\", \"kind\": \"state\", \"name\": \"Russia\", \"wikidata\": \"Q159\",\n"
    "  \"aliases\": [\"Russian\", \"Moscow\"]},\n"
    " {\"id\": \"ukraine\", \"kind\": \"state\", \"name\": \"Ukraine\", \"aliases\": [\"Kyiv\"]},\n"
    " {\"id\": \"north-korea\", \"kind\": \"state\", \"name\": \"North Korea\",\n"
    "  \"aliases\": [\"Pyongyang\"]},\n"
    " {\"id\": \"kim-jong-il\", \"kind\": \"person\", \"name\": \"Kim Jong Il\"},\n"
    " {\"id\": \"vladimir-putin\", \"kind\": \"person\", \"name\": \"Vladimir Putin\",\n"
    "  \"aliases\": [\"Putin\"], \"roles\": [\n"
    "   {\"alias\": \"Russian President\", \"from\": \"2012-05-07\"},\n"
    "   {\"alias\": \"Russian Prime Minister\", \"from\": \"2008-05-08\", \"to\": "
    "\"2012-05-07\"}]},\n"
    " {\"id\": \"dmitry-medvedev\", \"kind\": \"person\", \"name\": \"Dmitry Medvedev\",\n"
    "  \"roles\": [{\"alias\": \"Russian President\", \"from\": \"2008-05-07\",\n"
    "              \"to\": \"2012-05-07\"},\n"
    "             {\"alias\": \"Russian Prime Minister\", \"from\": \"2019-01-01\",\n"
    "              \"to\": \"2021-01-01\"}]},\n"
    " {\"id\": \"mikhail-mishustin\", \"kind\": \"person\", \"name\": \"Mikhail Mishustin\",\n"
    "  \"roles\": [{\"alias\": \"Russian Prime Minister\", \"from\": \"2020-01-16\"}]}],\n"
    " \"events\": [\n"
    " {\"id\": \"invasion\", \"label\": \"Invasion of Ukraine\", \"date\": \"2022-02-24\",\n"
    "  \"triggers\": [\"invade\", \"invasion\", \"war in Ukraine\"],\n"
    "  \"actors\": [\"russia\", \"ukraine\"], \"scope\": \"sentence\"},\n"
    " {\"id\": \"treaty-2024\", \"label\": \"Treaty\", \"date\": \"2024-06-19\",\n"
    "  \"triggers\": [\"treaty\", \"sign\"], \"actors\": [\"russia\", \"north-korea\"],\n"
    "  \"scope\": \"paragraph\"},\n"
    " {\"id\": \"summit-2000\", \"label\": \"Summit\", \"from\": \"2000-07-19\",\n"
    "  \"to\": \"2000-07-20\", \"triggers\": [\"summit\"],\n"
    "  \"actors\": [\"vladimir-putin\", \"kim-jong-il\", \"north-korea\"],\n"
    "  \"requires\": [\"kim-jong-il\"], \"scope\": \"sentence\"},\n"
    " {\"id\": \"sanctions\", \"label\": \"Sanctions\", \"from\": \"2006-10-14\",\n"
    "  \"triggers\": [\"sanction\"], \"actors\": [\"north-korea\"], \"scope\": \"sentence\"},\n"
    " {\"id\": \"visit-2019\", \"label\": \"Visit\", \"date\": \"2019-04-25\",\n"
    "  \"triggers\": [\"visit\", \"Vladivostok\"], \"actors\": [\"russia\", \"north-korea\"],\n"
    "  \"scope\": \"sentence\"},\n"
    " {\"id\": \"visit-2024\", \"label\": \"Visit\", \"date\": \"2024-06-19\",\n"
    "  \"triggers\": [\"visit\"], \"actors\": [\"russia\", \"north-korea\"],\n"
    "  \"scope\": \"sentence\"}]}\n";

static void load_events(void)
{
    const char *path = write_file("events.json", events_watchlist);
    ck_assert_msg(wl_load(path, &wl, errbuf, sizeof(errbuf)) == 0, "%s", errbuf);
}

static json_t *find_event(const json_t *t, const char *id)
{
    json_t *e;
    size_t i;
    json_array_foreach(json_object_get(t, "events"), i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "id")), id) == 0) {
            return e;
        }
    }
    return NULL;
}

static json_int_t event_count(const json_t *t, const char *id)
{
    json_t *e = find_event(t, id);
    return e != NULL ? json_integer_value(json_object_get(e, "count")) : 0;
}

/* Asserts evidence k of event id is the sentence of text starting at sentence. */
static void assert_evidence(const json_t *t, const char *text, const char *id, size_t k,
                            const char *sentence)
{
    json_t *e = find_event(t, id);
    json_t *ev;
    const char *at = strstr(text, sentence);

    ck_assert_msg(e != NULL, "no event %s", id);
    ck_assert_ptr_nonnull(at);
    ev = json_array_get(json_object_get(e, "evidence"), k);
    ck_assert_msg(ev != NULL, "event %s has no evidence %zu", id, k);
    ck_assert_str_eq(json_string_value(json_object_get(ev, "text")), sentence);
    ck_assert_int_eq(json_integer_value(json_object_get(ev, "start")), at - text);
}

START_TEST(test_event_trigger_inflections)
{
    static const char *const fire[] = {
        "Russia invaded Ukraine.",          "Russia invades Ukraine.",
        "Russia is invading Ukraine.",      "Russia will invade Ukraine.",
        "The Russian invasion of Ukraine.", "Russia INVADED Ukraine.",
    };
    load_events();
    for (size_t i = 0; i < sizeof(fire) / sizeof(fire[0]); i++) {
        json_t *t = tag(fire[i]);
        ck_assert_msg(event_count(t, "invasion") == 1, "\"%s\"", fire[i]);
        assert_evidence(t, fire[i], "invasion", 0, fire[i]);
    }
    /* not an inflection, not a whole word */
    ck_assert_int_eq(event_count(tag("Russia is an invader of Ukraine."), "invasion"), 0);
    ck_assert_int_eq(event_count(tag("Russia reinvaded Ukraine."), "invasion"), 0);
    /* -y -> -ies, -ied; consonant doubling is tried too */
    ck_assert_int_eq(event_count(tag("Moscow and Pyongyang's treaties."), "treaty-2024"), 1);
    ck_assert_int_eq(event_count(tag("Moscow and Pyongyang signed."), "treaty-2024"), 1);
    ck_assert_int_eq(event_count(tag("North Korea is sanctioned."), "sanctions"), 1);
}
END_TEST

START_TEST(test_event_trigger_does_not_hide_names)
{
    const char *text = "The war in Ukraine was started by Russia.";
    json_t *t;
    load_events();
    t = tag(text);
    ck_assert_int_eq(event_count(t, "invasion"), 1);
    assert_mention(t, "ukraine", 0, "text", 11, "Ukraine");
    assert_mention(t, "russia", 0, "text", 34, "Russia");
}
END_TEST

START_TEST(test_event_scope)
{
    const char *para = "Moscow spoke first. Later Pyongyang signed a treaty. Then lunch.";
    json_t *t;
    load_events();
    /* sentence scope: trigger and both actors in one sentence */
    ck_assert_int_eq(event_count(tag("Russia invaded. Ukraine resisted."), "invasion"), 0);
    ck_assert_int_eq(event_count(tag("Russia invaded Kyiv. Ukraine resisted."), "invasion"), 1);
    /* paragraph scope: anywhere in the line; the evidence is the trigger's
     * sentence, once however many triggers it holds */
    t = tag(para);
    ck_assert_int_eq(event_count(t, "treaty-2024"), 1);
    assert_evidence(t, para, "treaty-2024", 0, "Later Pyongyang signed a treaty.");
    /* a new line is a new paragraph */
    ck_assert_int_eq(
        event_count(tag("Moscow spoke first.\nPyongyang signed a treaty."), "treaty-2024"), 0);
    /* two sentences with triggers: two pieces of evidence, in order */
    t = tag("Russia invaded Ukraine. Then the Russian invasion of Ukraine went on.");
    ck_assert_int_eq(event_count(t, "invasion"), 2);
    /* the title is a sentence of its own */
    t = tag2("Russia invades Ukraine", "Nothing else.");
    ck_assert_int_eq(event_count(t, "invasion"), 1);
    ck_assert_str_eq(
        json_string_value(json_object_get(
            json_array_get(json_object_get(find_event(t, "invasion"), "evidence"), 0), "field")),
        "title");
}
END_TEST

START_TEST(test_event_self_dated_sentence)
{
    load_events();
    /* the 1961 treaty is not the 2024 one */
    ck_assert_int_eq(
        event_count(tag("In 1961 Moscow and Pyongyang signed a treaty."), "treaty-2024"), 0);
    ck_assert_int_eq(
        event_count(tag("In June 2024 Moscow and Pyongyang signed a treaty."), "treaty-2024"), 1);
    /* one year in range is enough; a decade covers its years */
    ck_assert_int_eq(
        event_count(tag("The 1961 and 2024 treaties of Moscow and Pyongyang."), "treaty-2024"), 1);
    ck_assert_int_eq(
        event_count(tag("In the 2020s Moscow and Pyongyang signed a treaty."), "treaty-2024"), 1);
    /* numbers that are not years do not date a sentence */
    ck_assert_int_eq(
        event_count(tag("Moscow and Pyongyang signed a treaty on 6,700 items."), "treaty-2024"), 1);
    ck_assert_int_eq(
        event_count(tag("Moscow and Pyongyang signed a treaty on 12345 items."), "treaty-2024"), 1);
    /* an open-ended event covers every year from its start */
    ck_assert_int_eq(event_count(tag("In 2017 North Korea was sanctioned."), "sanctions"), 1);
    ck_assert_int_eq(event_count(tag("In 1990 North Korea was sanctioned."), "sanctions"), 0);
}
END_TEST

START_TEST(test_event_shared_trigger)
{
    const char *anchored = "Moscow and Pyongyang met in Vladivostok. Later Moscow and Pyongyang "
                           "planned a visit.";
    json_t *t;
    load_events();
    /* a trigger two events share, with nothing else to go by: both */
    t = tag("Moscow and Pyongyang planned a visit.");
    ck_assert_int_eq(event_count(t, "visit-2019"), 1);
    ck_assert_int_eq(event_count(t, "visit-2024"), 1);
    /* a trigger only one of them has anchors it in the document: the
     * shared one goes to it alone */
    t = tag(anchored);
    ck_assert_int_eq(event_count(t, "visit-2019"), 2);
    ck_assert_int_eq(event_count(t, "visit-2024"), 0);
    assert_evidence(t, anchored, "visit-2019", 1, "Later Moscow and Pyongyang planned a visit.");
    /* so does a sentence that names a year of only one of them; anchored
     * as often, both keep the shared trigger */
    t = tag("Moscow and Pyongyang met in Vladivostok. In 2024 Moscow and Pyongyang agreed a "
            "visit. Moscow and Pyongyang praised the visit.");
    ck_assert_int_eq(event_count(t, "visit-2019"), 2);
    ck_assert_int_eq(event_count(t, "visit-2024"), 2);
    /* a sentence dated within an event keeps it, however the others fare */
    t = tag("Moscow and Pyongyang met in Vladivostok. Moscow and Pyongyang held a visit. "
            "The 2019 and 2024 visits of Moscow to Pyongyang.");
    ck_assert_int_eq(event_count(t, "visit-2019"), 3);
    ck_assert_int_eq(event_count(t, "visit-2024"), 1);
}
END_TEST

START_TEST(test_event_required_actor)
{
    load_events();
    /* two of the summit's actors, but not the one it requires */
    ck_assert_int_eq(event_count(tag("Putin held a summit in Pyongyang."), "summit-2000"), 0);
    ck_assert_int_eq(event_count(tag("Putin and Kim Jong Il held a summit."), "summit-2000"), 1);
}
END_TEST

START_TEST(test_relations)
{
    const char *text = "Russia and Ukraine talked. Moscow, Kyiv and Pyongyang met; Russia again. "
                       "Nothing here.";
    json_t *t, *rels, *r;
    load_events();
    t = tag(text);
    rels = json_object_get(t, "relations");
    ck_assert_uint_eq(json_array_size(rels), 3);
    /* pairs in order of first co-occurrence, each actor pair once, the
     * actor mentioned first first; a sentence counts once per pair */
    r = json_array_get(rels, 0);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(r, "actors"), 0)), "russia");
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(r, "actors"), 1)), "ukraine");
    ck_assert_int_eq(json_integer_value(json_object_get(r, "count")), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(
                         json_array_get(json_object_get(r, "sentences"), 1), "start")),
                     strstr(text, "Moscow") - text);
    ck_assert_int_eq(json_integer_value(json_object_get(
                         json_array_get(json_object_get(r, "sentences"), 1), "end")),
                     strstr(text, " Nothing") - text);
    r = json_array_get(rels, 1);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(r, "actors"), 1)),
                     "north-korea");
    ck_assert_int_eq(json_integer_value(json_object_get(r, "count")), 1);
    /* one actor alone, however often: no relation */
    t = tag("Russia, Moscow and the Russian people.");
    ck_assert_uint_eq(json_array_size(json_object_get(t, "relations")), 0);
    /* abbreviations and initials do not end a sentence */
    t = tag("Russia met Dr. Smith and the U.S. envoy in Ukraine.");
    ck_assert_uint_eq(json_array_size(json_object_get(t, "relations")), 1);
}
END_TEST

START_TEST(test_role_aliases)
{
    const char *text = "The Russian President spoke.";
    json_t *t;
    load_events();
    /* in office on the document's date: a mention of the person (and the
     * demonym inside it still names the state) */
    t = tag_dated("", text, "2024-06-01");
    ck_assert_int_eq(actor_count(t, "vladimir-putin"), 1);
    assert_mention(t, "vladimir-putin", 0, "text", 4, "Russian President");
    ck_assert(json_is_true(json_object_get(
        json_array_get(json_object_get(find_actor(t, "vladimir-putin"), "mentions"), 0), "role")));
    ck_assert_int_eq(actor_count(t, "russia"), 1);
    /* another date, another holder; the end date is exclusive */
    t = tag_dated("", text, "2010-01-01T12:00:00Z");
    ck_assert_int_eq(actor_count(t, "dmitry-medvedev"), 1);
    ck_assert_int_eq(actor_count(t, "vladimir-putin"), 0);
    t = tag_dated("", text, "2012-05-07");
    ck_assert_int_eq(actor_count(t, "vladimir-putin"), 1);
    ck_assert_int_eq(actor_count(t, "dmitry-medvedev"), 0);
    /* no date, a bad date, or before anyone held it: nobody */
    ck_assert_int_eq(actor_count(tag_dated("", text, NULL), "vladimir-putin"), 0);
    ck_assert_int_eq(actor_count(tag_dated("", text, "yesterday"), "vladimir-putin"), 0);
    ck_assert_int_eq(actor_count(tag_dated("", text, "2024-02-30"), "vladimir-putin"), 0);
    ck_assert_uint_eq(n_actors(tag_dated("", "The Russian Prime Minister.", "2001-01-01")), 1);
    /* two holders on one date: ambiguous, nobody */
    t = tag_dated("", "The Russian Prime Minister.", "2020-06-01");
    ck_assert_int_eq(actor_count(t, "mikhail-mishustin") + actor_count(t, "dmitry-medvedev"), 0);
    t = tag_dated("", "The Russian Prime Minister.", "2021-06-01");
    ck_assert_int_eq(actor_count(t, "mikhail-mishustin"), 1);
    /* a title before the name is not a second mention */
    t = tag_dated("", "Russian President Vladimir Putin spoke.", "2024-06-01");
    ck_assert_int_eq(actor_count(t, "vladimir-putin"), 1);
    assert_mention(t, "vladimir-putin", 0, "text", 18, "Vladimir Putin");
    t = tag_dated("", "Russian President Putin spoke.", "2024-06-01");
    ck_assert_int_eq(actor_count(t, "vladimir-putin"), 1);
}
END_TEST

START_TEST(test_output_ids_and_reuse)
{
    const char *kims = "{\"version\": \"k\", \"actors\": [\n"
                       " {\"id\": \"kim-jong-un\", \"kind\": \"person\", \"name\": \"Kim Jong Un\","
                       " \"surname\": \"Kim\"},\n"
                       " {\"id\": \"kim-il-sung\", \"kind\": \"person\", \"name\": \"Kim Il Sung\","
                       " \"surname\": \"Kim\"}]}\n";
    const char *doc1 = "Russia invaded Ukraine.";
    watchlist *kwl;
    wl_tags *t = wl_tags_new();
    const char *json;
    size_t len;
    json_t *parsed;

    ck_assert_ptr_nonnull(t);
    load_events();
    /* nothing before the first wl_tag */
    ck_assert_ptr_null(wl_tags_json(t, &len));
    ck_assert_uint_eq(wl_tags_n_ids(t), 0);
    ck_assert_int_eq(wl_tag(wl, &(wl_doc){"", 0, doc1, strlen(doc1), NULL}, t), 0);
    ck_assert_uint_eq(wl_tags_n_ids(t), 3);
    ck_assert_str_eq(wl_tags_id(t, 0), "russia");
    ck_assert_str_eq(wl_tags_id(t, 1), "ukraine");
    ck_assert_str_eq(wl_tags_id(t, 2), "invasion");
    ck_assert_ptr_null(wl_tags_id(t, 3));
    ck_assert_uint_eq(wl_tags_n_mentions(t), 2);
    json = wl_tags_json(t, &len);
    ck_assert_uint_eq(strlen(json), len);
    parsed = json_loadb(json, len, 0, NULL);
    ck_assert_ptr_nonnull(parsed);
    ck_assert_str_eq(json_string_value(json_object_get(find_actor(parsed, "russia"), "wikidata")),
                     "Q159");
    json_decref(parsed);

    /* the same wl_tags with another watchlist: nothing of the last
     * document (a named Kim) carries over */
    ck_assert_int_eq(wl_load(write_file("kims.json", kims), &kwl, errbuf, sizeof(errbuf)), 0);
    ck_assert_int_eq(wl_tag(kwl, &(wl_doc){"", 0, "Kim Jong Un.", 12, NULL}, t), 0);
    ck_assert_uint_eq(wl_tags_n_mentions(t), 1);
    ck_assert_int_eq(wl_tag(kwl, &(wl_doc){"", 0, "Kim said.", 9, NULL}, t), 0);
    ck_assert_uint_eq(wl_tags_n_mentions(t), 0);
    ck_assert_uint_eq(wl_tags_n_ids(t), 0);
    /* and back, with the bigger one */
    ck_assert_int_eq(wl_tag(wl, &(wl_doc){"", 0, doc1, strlen(doc1), NULL}, t), 0);
    ck_assert_uint_eq(wl_tags_n_ids(t), 3);
    wl_free(kwl);
    wl_tags_free(t);
}
END_TEST

START_TEST(test_output_escapes)
{
    /* quotes, backslashes and control characters in evidence come back
     * exactly (the JSON is written by hand, not by jansson) */
    const char *text = "Russia \"invaded\"\t\\ Ukraine\x01 today.";
    json_t *t;
    load_events();
    t = tag(text);
    assert_evidence(t, text, "invasion", 0, text);
}
END_TEST

#define EV_WL(events)                                                                              \
    "{\"version\": \"v\", \"actors\": [" RU ", {\"id\": \"nk\", \"kind\": \"state\","              \
    " \"name\": \"North Korea\"}], \"events\": [" events "]}"
#define EV(extra)                                                                                  \
    "{\"id\": \"e1\", \"label\": \"E\", \"scope\": \"sentence\", \"triggers\": [\"treaty\"],"      \
    " \"actors\": [\"russia\", \"nk\"]" extra "}"

START_TEST(test_load_bad_events)
{
    static const struct bad_file cases[] = {
        {EV_WL(EV("")), "events[0] (e1)", "\"date\""},
        {EV_WL(EV(", \"date\": \"2024-13-01\"")), "events[0] (e1).date", "YYYY-MM-DD"},
        {EV_WL(EV(", \"date\": \"2024-06-19\", \"from\": \"2024-06-19\"")), "events[0] (e1)", NULL},
        {EV_WL(EV(", \"from\": \"2024-06-19\", \"to\": \"2024-06-18\"")), "events[0] (e1).to",
         "before"},
        {EV_WL(EV(", \"from\": \"2024-06-19\", \"to\": \"soon\"")), "events[0] (e1).to", NULL},
        {EV_WL(EV(", \"date\": \"2024-06-19\", \"place\": \"mars\"")), "events[0] (e1).place",
         NULL},
        {EV_WL(EV(", \"date\": \"2024-06-19\", \"min_actors\": 3")), "events[0] (e1).min_actors",
         "1 to 2"},
        {EV_WL(EV(", \"date\": \"2024-06-19\", \"requires\": [\"ukraine\"]")),
         "events[0] (e1).requires[0]", NULL},
        {EV_WL(EV(", \"date\": \"2024-06-19\", \"actor\": [\"russia\"]")), "events[0] (e1).actor",
         "unknown field"},
        {EV_WL("{\"id\": \"e1\", \"label\": \"E\", \"scope\": \"sentence\", \"date\": "
               "\"2024-06-19\", \"triggers\": [\"treaty\"], \"actors\": [\"russia\", \"ukr\"]}"),
         "events[0] (e1).actors[1]", "\"ukr\" is not an actor id"},
        {EV_WL("{\"id\": \"e1\", \"label\": \"E\", \"scope\": \"clause\", \"date\": "
               "\"2024-06-19\", \"triggers\": [\"treaty\"], \"actors\": [\"russia\"]}"),
         "events[0] (e1).scope", NULL},
        {EV_WL("{\"id\": \"e1\", \"label\": \"E\", \"scope\": \"sentence\", \"date\": "
               "\"2024-06-19\", \"triggers\": [], \"actors\": [\"russia\"]}"),
         "events[0] (e1).triggers", NULL},
        {EV_WL("{\"id\": \"e1\", \"label\": \"E\", \"scope\": \"sentence\", \"date\": "
               "\"2024-06-19\", \"triggers\": [\" treaty\"], \"actors\": [\"russia\"]}"),
         "events[0] (e1).triggers[0]", NULL},
        {EV_WL("{\"id\": \"russia\", \"label\": \"E\", \"scope\": \"sentence\", \"date\": "
               "\"2024-06-19\", \"triggers\": [\"treaty\"], \"actors\": [\"russia\"]}"),
         "events[0].id", "also an actor id"},
        {EV_WL(EV(", \"date\": \"2024-06-19\"") ", " EV(", \"date\": \"2024-06-19\"")),
         "events[1].id", "already used"},
        {"{\"version\": \"v\", \"actors\": [" RU "], \"events\": {}}", "events", "array"},
        {"{\"version\": \"v\", \"actors\": [" RU "], \"actor\": []}", "actor", "unknown field"},
    };
    assert_rejected(cases, sizeof(cases) / sizeof(cases[0]));
}
END_TEST

#define RU_WITH(extra)                                                                             \
    "{\"version\": \"v\", \"actors\": [{\"id\": \"russia\", \"kind\": \"state\", \"name\":"        \
    " \"Russia\"" extra "}, {\"id\": \"putin\", \"kind\": \"person\", \"name\": \"Putin\"}]}"

START_TEST(test_load_bad_actor_fields)
{
    static const struct bad_file cases[] = {
        {RU_WITH(", \"wikidata\": \"159\""), "actors[0] (russia).wikidata", "Q159"},
        {RU_WITH(", \"wikidata\": \"Q0159\""), "actors[0] (russia).wikidata", NULL},
        {RU_WITH(", \"wikidata\": 159"), "actors[0] (russia).wikidata", NULL},
        {RU_WITH(", \"alises\": [\"Moscow\"]"), "actors[0] (russia).alises", "unknown field"},
        {RU_WITH(", \"roles\": [{\"alias\": \"Kremlin\", \"from\": \"2024\"}]"),
         "actors[0] (russia).roles[0].from", NULL},
        {RU_WITH(", \"roles\": [{\"alias\": \"Kremlin\", \"from\": \"2024-01-01\", \"to\": "
                 "\"2023-01-01\"}]"),
         "actors[0] (russia).roles[0].to", "after"},
        {RU_WITH(", \"roles\": [{\"from\": \"2024-01-01\"}]"), "actors[0] (russia).roles[0].alias",
         NULL},
        {RU_WITH(", \"roles\": [{\"alias\": \"Kremlin\", \"until\": \"2024-01-01\"}]"),
         "actors[0] (russia).roles[0].until", "unknown field"},
        /* one name, two owners */
        {RU_WITH(", \"aliases\": [\"Putin\"]"), "actors[1] (putin).name",
         "already a name of russia"},
        {RU_WITH(", \"aliases\": [\"PUTIN\", \"putin\"]"), "actors[1] (putin).name", NULL},
        {"{\"version\": \"v\", \"actors\": [" RU "], \"ignore\": [\"russia\"]}", "ignore[0]",
         "name of russia"},
    };
    assert_rejected(cases, sizeof(cases) / sizeof(cases[0]));
}
END_TEST

START_TEST(test_load_same_name_twice_for_one_actor)
{
    /* spellings that match the same text are one pattern, not an error */
    const char *path = write_file(
        "twice.json", "{\"version\": \"v\", \"actors\": [{\"id\": \"nk\", \"kind\": \"state\","
                      " \"name\": \"North Korea\", \"aliases\": [\"North-Korea\", \"north korea\","
                      " \"People's Korea\", \"People\u2019s Korea\"]}]}");
    ck_assert_msg(wl_load(path, &wl, errbuf, sizeof(errbuf)) == 0, "%s", errbuf);
    ck_assert_int_eq(actor_count(tag("North Korea, North-Korea, People\u2019s Korea"), "nk"), 3);
}
END_TEST

static Suite *watchlist_suite(void)
{
    Suite *s = suite_create("watchlist");
    TCase *tc;

    tc = tcase_create("load");
    tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
    tcase_add_checked_fixture(tc, wl_setup, wl_teardown);
    tcase_add_test(tc, test_load_ok);
    tcase_add_test(tc, test_load_minimal_actor);
    tcase_add_test(tc, test_load_bad_top_level);
    tcase_add_test(tc, test_load_bad_id);
    tcase_add_test(tc, test_load_bad_kind);
    tcase_add_test(tc, test_load_bad_name);
    tcase_add_test(tc, test_load_duplicate_id);
    tcase_add_test(tc, test_load_not_an_object);
    tcase_add_test(tc, test_load_bad_aliases);
    tcase_add_test(tc, test_load_malformed_json);
    tcase_add_test(tc, test_load_malformed_json_stale_errno);
    tcase_add_test(tc, test_load_missing_file);
    tcase_add_test(tc, test_load_error_small_errbuf);
    suite_add_tcase(s, tc);

    tc = tcase_create("match");
    tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
    tcase_add_checked_fixture(tc, wl_setup, wl_teardown);
    tcase_add_test(tc, test_whole_words_only);
    tcase_add_test(tc, test_punctuation_and_quotes);
    tcase_add_test(tc, test_word_continuation_non_ascii);
    tcase_add_test(tc, test_case_insensitive_names);
    tcase_add_test(tc, test_all_caps_alias_exact_case);
    tcase_add_test(tc, test_leftmost_longest);
    tcase_add_test(tc, test_leftmost_longest_mixed);
    tcase_add_test(tc, test_offsets_utf8);
    tcase_add_test(tc, test_offsets_lengths_not_nul_terminated);
    tcase_add_test(tc, test_title_mentions);
    tcase_add_test(tc, test_order_and_counts);
    tcase_add_test(tc, test_mentions_truncated);
    tcase_add_test(tc, test_mentions_at_the_cap);
    tcase_add_test(tc, test_shipped_kims);
    tcase_add_test(tc, test_shipped_examples);
    tcase_add_test(tc, test_shipped_ignore);
    tcase_add_test(tc, test_spelling_variants);
    tcase_add_test(tc, test_apostrophe_variants);
    tcase_add_test(tc, test_surname_after_full_name);
    tcase_add_test(tc, test_surname_only_for_persons);
    suite_add_tcase(s, tc);

    tc = tcase_create("events");
    tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
    tcase_add_checked_fixture(tc, wl_setup, wl_teardown);
    tcase_add_test(tc, test_event_trigger_inflections);
    tcase_add_test(tc, test_event_trigger_does_not_hide_names);
    tcase_add_test(tc, test_event_scope);
    tcase_add_test(tc, test_event_self_dated_sentence);
    tcase_add_test(tc, test_event_required_actor);
    tcase_add_test(tc, test_event_shared_trigger);
    tcase_add_test(tc, test_relations);
    tcase_add_test(tc, test_role_aliases);
    tcase_add_test(tc, test_output_ids_and_reuse);
    tcase_add_test(tc, test_output_escapes);
    tcase_add_test(tc, test_load_bad_events);
    tcase_add_test(tc, test_load_bad_actor_fields);
    tcase_add_test(tc, test_load_same_name_twice_for_one_actor);
    tcase_add_test(tc, test_json_numbers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(watchlist_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
