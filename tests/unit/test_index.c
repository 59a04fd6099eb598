/* Unit tests for the corpus index (sink/index.h): what the store puts in
 * it, the queries (actors, event, dates, source, full text, counts),
 * versions, query checks, and rebuilding from the files when the index is
 * missing, corrupt, emptied or out of step. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "testutil.h"
#include "index.h"
#include "nl_err.h"
#include "nl_record.h"
#include "store.h"

#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char basedir[PATH_MAX];
static char tmpdir[PATH_MAX];
static char corpus[PATH_MAX];
static char ixpath[PATH_MAX];
static nl_store *st;
static nl_index *ix;
static char errbuf[512];

#define ID_A "0123456789abcdef"
#define ID_B "fedcba9876543210"
#define ID_C "00000000000000a1"

static void base_setup(void)
{
    tu_make_basedir(basedir, sizeof(basedir), "index");
}

static void base_teardown(void)
{
    tu_remove_tree(basedir);
}

static void open_all(int mode)
{
    ck_assert_msg(st_open(corpus, &st, errbuf, sizeof(errbuf)) == 0, "%s", errbuf);
    ck_assert_msg(ix_open(corpus, mode, &ix, errbuf, sizeof(errbuf)) == 0, "%s", errbuf);
    st_set_index(st, ix);
}

static void close_all(void)
{
    st_close(st);
    ix_close(ix);
    st = NULL;
    ix = NULL;
}

static void setup(void)
{
    tu_make_subdir(tmpdir, sizeof(tmpdir), basedir);
    int n;

    n = snprintf(corpus, sizeof(corpus), "%s/corpus", tmpdir);
    ck_assert(n > 0 && (size_t)n < sizeof(corpus));
    n = snprintf(ixpath, sizeof(ixpath), "%s/" IX_FILE, corpus);
    ck_assert(n > 0 && (size_t)n < sizeof(ixpath));
    errbuf[0] = '\0';
    open_all(IX_OPEN_REPAIR);
}

static void teardown(void)
{
    close_all();
    tu_remove_tree(tmpdir);
}

/* A tagged record: actors given as "id:count" strings, events as ids. */
static json_t *make_rec(const char *id, const char *source, const char *date, const char *title,
                        const char *text, const char *const *actors, const char *event)
{
    json_t *acts = json_array(), *evs = json_array(), *rels = json_array();
    json_t *rec;

    for (size_t i = 0; actors != NULL && actors[i] != NULL; i++) {
        char aid[64];
        int count = 1;
        const char *colon = strchr(actors[i], ':');
        snprintf(aid, sizeof(aid), "%.*s",
                 colon != NULL ? (int)(colon - actors[i]) : (int)strlen(actors[i]), actors[i]);
        if (colon != NULL) {
            count = atoi(colon + 1);
        }
        json_array_append_new(acts, json_pack("{s:s, s:s, s:s, s:i}", "id", aid, "kind", "person",
                                              "name", aid, "count", count));
        if (i > 0) {
            json_array_append_new(
                rels, json_pack("{s:[s, s], s:i}", "actors",
                                json_string_value(json_object_get(json_array_get(acts, 0), "id")),
                                aid, "count", 1));
        }
    }
    if (event != NULL) {
        json_array_append_new(
            evs, json_pack("{s:s, s:s, s:i}", "id", event, "label", event, "count", 2));
    }
    rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:o, s:o, s:o, s:s}}", "schema",
                    NL_SCHEMA_TAGGED, "id", id, "source", source, "content_type", "text/plain",
                    "title", title, "text", text, "tags", "actors", acts, "events", evs,
                    "relations", rels, "watchlist_version", "test-1");
    ck_assert_ptr_nonnull(rec);
    if (date != NULL) {
        ck_assert_int_eq(
            json_object_set_new(rec, "published",
                                json_pack("{s:s, s:s}", "value", date, "source", "meta")),
            0);
    }
    return rec;
}

static void put(json_t *rec, const char *status)
{
    json_t *report = NULL;
    int rc = st_put(st, rec, NULL, &report, errbuf, sizeof(errbuf));
    ck_assert_msg(rc == 0, "st_put: %d %s", rc, errbuf);
    ck_assert_str_eq(nl_record_str(report, "status"), status);
    json_decref(report);
    json_decref(rec);
}

/* Three documents:
 *   A 2024-03-01 kim-jong-un, hun-manet; "sanctions"; event treaty; fetch
 *   B 2023-12-01 kim-jong-un; replay
 *   C undated    hun-manet; "sanctions"; fetch */
static void put_three(void)
{
    static const char *const a[] = {"kim-jong-un:3", "hun-manet:2", NULL};
    static const char *const b[] = {"kim-jong-un:1", NULL};
    static const char *const c[] = {"hun-manet:5", NULL};
    put(make_rec(ID_A, "fetch", "2024-03-01T09:30:00+07:00", "Kim and Hun Manet",
                 "New sanctions were discussed.", a, "treaty"),
        "stored");
    put(make_rec(ID_B, "replay", "2023-12-01", "Kim alone", "Nothing about money.", b, NULL),
        "stored");
    put(make_rec(ID_C, "fetch", NULL, "Hun Manet", "More sanctions, undated.", c, NULL), "stored");
}

/* Collects the "id" (search) or "actor@date=mentions" (count) of each row. */
static int collect(const json_t *row, void *arg)
{
    char *buf = arg;
    char item[128];
    if (json_object_get(row, "mentions") != NULL) {
        const char *d = nl_record_str(row, "date");
        snprintf(item, sizeof(item), "%s@%s=%lld", nl_record_str(row, "actor"),
                 d != NULL ? d : "undated",
                 (long long)json_integer_value(json_object_get(row, "mentions")));
    } else {
        snprintf(item, sizeof(item), "%s/%lld", nl_record_str(row, "id"),
                 (long long)json_integer_value(json_object_get(row, "version")));
    }
    if (buf[0] != '\0') {
        strcat(buf, " ");
    }
    strcat(buf, item);
    return 0;
}

static const char *search(const ix_query *q)
{
    static char buf[2048];
    buf[0] = '\0';
    ck_assert_int_eq(ix_check(ix, q, NULL, NULL, errbuf, sizeof(errbuf)), 0);
    ck_assert_msg(ix_search(ix, q, collect, buf, errbuf, sizeof(errbuf)) == 0, "%s", errbuf);
    return buf;
}

static const char *count(const ix_query *q)
{
    static char buf[2048];
    buf[0] = '\0';
    ck_assert_msg(ix_count_mentions(ix, q, collect, buf, errbuf, sizeof(errbuf)) == 0, "%s",
                  errbuf);
    return buf;
}

START_TEST(test_search)
{
    ix_query q;

    put_three();
    ck_assert_int_eq(ix_count(ix), 3);
    memset(&q, 0, sizeof(q));
    /* everything, newest first, undated last */
    ck_assert_str_eq(search(&q), ID_A "/1 " ID_B "/1 " ID_C "/1");
    q.actors[0] = "kim-jong-un";
    q.nactors = 1;
    ck_assert_str_eq(search(&q), ID_A "/1 " ID_B "/1");
    q.actors[1] = "hun-manet";
    q.nactors = 2;
    ck_assert_str_eq(search(&q), ID_A "/1");
    q.nactors = 1;
    q.since = "2024-01-01";
    ck_assert_str_eq(search(&q), ID_A "/1");
    q.since = NULL;
    q.until = "2023-12-31";
    ck_assert_str_eq(search(&q), ID_B "/1");
    q.until = "2023-12-01"; /* inclusive */
    ck_assert_str_eq(search(&q), ID_B "/1");
    q.until = NULL;
    /* both actors, since, and full text: the example */
    q.actors[1] = "hun-manet";
    q.nactors = 2;
    q.since = "2024-01-01";
    q.text = "sanctions";
    ck_assert_str_eq(search(&q), ID_A "/1");
    memset(&q, 0, sizeof(q));
    q.text = "sanctions";
    ck_assert_str_eq(search(&q), ID_A "/1 " ID_C "/1");
    q.text = "sanction*";
    ck_assert_str_eq(search(&q), ID_A "/1 " ID_C "/1");
    q.text = "title:manet";
    ck_assert_str_eq(search(&q), ID_A "/1 " ID_C "/1");
    q.text = "sanctions NOT undated";
    ck_assert_str_eq(search(&q), ID_A "/1");
    memset(&q, 0, sizeof(q));
    q.source = "fetch";
    ck_assert_str_eq(search(&q), ID_A "/1 " ID_C "/1");
    q.source = "replay";
    ck_assert_str_eq(search(&q), ID_B "/1");
    q.source = NULL;
    q.event = "treaty";
    ck_assert_str_eq(search(&q), ID_A "/1");
    q.event = NULL;
    q.limit = 2;
    ck_assert_str_eq(search(&q), ID_A "/1 " ID_B "/1");
    /* an undated document matches no date range */
    q.limit = 0;
    q.actors[0] = "hun-manet";
    q.nactors = 1;
    q.until = "2030-01-01";
    ck_assert_str_eq(search(&q), ID_A "/1");
}
END_TEST

static int stop_row(const json_t *row, void *arg)
{
    (void)row;
    (void)arg;
    return 7;
}

static int keep_row(const json_t *row, void *arg)
{
    return json_array_append((json_t *)arg, (json_t *)row);
}

START_TEST(test_search_row_fields)
{
    ix_query q;
    json_t *rows = json_array(), *row, *actors;

    put_three();
    memset(&q, 0, sizeof(q));
    q.actors[0] = "kim-jong-un";
    q.nactors = 1;
    q.since = "2024-01-01";
    ck_assert_int_eq(ix_search(ix, &q, keep_row, rows, errbuf, sizeof(errbuf)), 0);
    ck_assert_uint_eq(json_array_size(rows), 1);
    row = json_array_get(rows, 0);
    ck_assert_str_eq(nl_record_str(row, "id"), ID_A);
    ck_assert_str_eq(nl_record_str(row, "file"), "000_" ID_A ".txt");
    ck_assert_str_eq(nl_record_str(row, "date"), "2024-03-01");
    ck_assert_str_eq(nl_record_str(row, "published"), "2024-03-01T09:30:00+07:00");
    ck_assert_str_eq(nl_record_str(row, "source"), "fetch");
    ck_assert_str_eq(nl_record_str(row, "title"), "Kim and Hun Manet");
    actors = json_object_get(row, "actors");
    ck_assert_uint_eq(json_array_size(actors), 2);
    ck_assert_str_eq(nl_record_str(json_array_get(actors, 0), "id"), "kim-jong-un");
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(actors, 0), "count")), 3);
    json_decref(rows);
    /* a stopping callback's value comes back */
    ck_assert_int_eq(ix_search(ix, &q, stop_row, NULL, errbuf, sizeof(errbuf)), 7);
}
END_TEST

START_TEST(test_count)
{
    ix_query q;

    put_three();
    memset(&q, 0, sizeof(q));
    ck_assert_str_eq(count(&q), "kim-jong-un@2023-12-01=1 hun-manet@2024-03-01=2 "
                                "kim-jong-un@2024-03-01=3 hun-manet@undated=5");
    q.actors[0] = "kim-jong-un";
    q.nactors = 1;
    ck_assert_str_eq(count(&q), "kim-jong-un@2023-12-01=1 kim-jong-un@2024-03-01=3");
    q.since = "2024-01-01";
    ck_assert_str_eq(count(&q), "kim-jong-un@2024-03-01=3");
    q.since = NULL;
    q.actors[1] = "hun-manet";
    q.nactors = 2;
    ck_assert_str_eq(count(&q), "hun-manet@2024-03-01=2 kim-jong-un@2024-03-01=3");
}
END_TEST

START_TEST(test_versions)
{
    static const char *const a2[] = {"hun-manet:1", NULL};
    ix_query q;

    put_three();
    /* a corrected article no longer names Kim: the query sees the latest */
    put(make_rec(ID_A, "fetch", "2024-03-02", "Hun Manet corrected", "No sanctions after all.", a2,
                 NULL),
        "new_version");
    ck_assert_int_eq(ix_count(ix), 4);
    memset(&q, 0, sizeof(q));
    q.actors[0] = "kim-jong-un";
    q.nactors = 1;
    ck_assert_str_eq(search(&q), ID_B "/1");
    q.actors[0] = "hun-manet";
    ck_assert_str_eq(search(&q), ID_A "/2 " ID_C "/1");
    /* the first version delivered again changes nothing, in the files or
     * in the index: the latest stays version 2 */
    {
        static const char *const a[] = {"kim-jong-un:3", "hun-manet:2", NULL};
        put(make_rec(ID_A, "fetch", "2024-03-01T09:30:00+07:00", "Kim and Hun Manet",
                     "New sanctions were discussed.", a, "treaty"),
            "unchanged");
    }
    ck_assert_str_eq(search(&q), ID_A "/2 " ID_C "/1");
    /* new tags for version 2 replace its mentions */
    {
        static const char *const a3[] = {"hun-manet:1", "kim-jong-un:1", NULL};
        put(make_rec(ID_A, "fetch", "2024-03-02", "Hun Manet corrected", "No sanctions after all.",
                     a3, NULL),
            "updated");
    }
    q.actors[0] = "kim-jong-un";
    ck_assert_str_eq(search(&q), ID_A "/2 " ID_B "/1");
    ck_assert_int_eq(ix_count(ix), 4);
}
END_TEST

START_TEST(test_check)
{
    ix_query q;
    json_t *also = json_pack("[s]", "vladimir-putin");

    put_three();
    memset(&q, 0, sizeof(q));
    q.actors[0] = "kim-jong-un";
    q.nactors = 1;
    ck_assert_int_eq(ix_check(ix, &q, NULL, NULL, errbuf, sizeof(errbuf)), 0);
    q.actors[0] = "vladimir-putin";
    ck_assert_int_eq(ix_check(ix, &q, NULL, NULL, errbuf, sizeof(errbuf)), NL_EINVAL);
    ck_assert_ptr_nonnull(strstr(errbuf, "vladimir-putin"));
    /* known to the watchlist, mentioned by no document yet */
    ck_assert_int_eq(ix_check(ix, &q, also, NULL, errbuf, sizeof(errbuf)), 0);
    q.nactors = 0;
    q.event = "no-such-event";
    ck_assert_int_eq(ix_check(ix, &q, NULL, NULL, errbuf, sizeof(errbuf)), NL_EINVAL);
    q.event = "treaty";
    ck_assert_int_eq(ix_check(ix, &q, NULL, NULL, errbuf, sizeof(errbuf)), 0);
    q.since = "2024-13-01";
    ck_assert_int_eq(ix_check(ix, &q, NULL, NULL, errbuf, sizeof(errbuf)), NL_EINVAL);
    ck_assert_ptr_nonnull(strstr(errbuf, "--since"));
    q.since = "2024-06-01";
    q.until = "2024-05-01";
    ck_assert_int_eq(ix_check(ix, &q, NULL, NULL, errbuf, sizeof(errbuf)), NL_EINVAL);
    q.until = NULL;
    q.text = "\"unterminated";
    ck_assert_int_eq(ix_check(ix, &q, NULL, NULL, errbuf, sizeof(errbuf)), NL_EINVAL);
    ck_assert_ptr_nonnull(strstr(errbuf, "--text"));
    q.text = "sanctions AND (kim OR hun)";
    ck_assert_int_eq(ix_check(ix, &q, NULL, NULL, errbuf, sizeof(errbuf)), 0);
    json_decref(also);
}
END_TEST

START_TEST(test_valid_date)
{
    ck_assert(ix_valid_date("2024-01-01"));
    ck_assert(ix_valid_date("2024-02-29"));
    ck_assert(ix_valid_date("2000-02-29"));
    ck_assert(!ix_valid_date("1900-02-29"));
    ck_assert(!ix_valid_date("2023-02-29"));
    ck_assert(!ix_valid_date("2024-04-31"));
    ck_assert(!ix_valid_date("2024-00-10"));
    ck_assert(!ix_valid_date("2024-1-01"));
    ck_assert(!ix_valid_date("2024-01-01T00:00"));
    ck_assert(!ix_valid_date("yesterday"));
    ck_assert(!ix_valid_date(""));
    ck_assert(!ix_valid_date(NULL));
}
END_TEST

static void assert_three_found(void)
{
    ix_query q;
    memset(&q, 0, sizeof(q));
    ck_assert_int_eq(ix_count(ix), 3);
    q.actors[0] = "kim-jong-un";
    q.actors[1] = "hun-manet";
    q.nactors = 2;
    q.text = "sanctions";
    ck_assert_str_eq(search(&q), ID_A "/1");
}

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

START_TEST(test_rebuild_missing)
{
    struct stat sb;
    put_three();
    close_all();
    ck_assert_int_eq(unlink(ixpath), 0);
    open_all(IX_OPEN_REPAIR);
    ck_assert_int_eq(stat(ixpath, &sb), 0);
    assert_three_found();
}
END_TEST

START_TEST(test_rebuild_garbage)
{
    static const char garbage[] = "this is not a database, it is garbage\n\x01\x02\x03";
    char big[8192];
    put_three();
    close_all();
    write_file(ixpath, garbage, sizeof(garbage));
    open_all(IX_OPEN_QUERY); /* a query rebuilds a corrupt index too */
    assert_three_found();
    close_all();
    /* a valid header, then garbage */
    {
        FILE *f = fopen(ixpath, "r+");
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(fseek(f, 100, SEEK_SET), 0);
        memset(big, 0xA5, sizeof(big));
        ck_assert_uint_eq(fwrite(big, 1, sizeof(big), f), sizeof(big));
        ck_assert_int_eq(fclose(f), 0);
    }
    open_all(IX_OPEN_REPAIR);
    assert_three_found();
}
END_TEST

START_TEST(test_rebuild_truncated)
{
    put_three();
    close_all();
    ck_assert_int_eq(truncate(ixpath, 0), 0);
    open_all(IX_OPEN_REPAIR);
    assert_three_found();
    close_all();
    ck_assert_int_eq(truncate(ixpath, 5000), 0);
    open_all(IX_OPEN_REPAIR);
    assert_three_found();
}
END_TEST

START_TEST(test_out_of_step)
{
    static const char *const d[] = {"kim-jong-un:1", NULL};
    put_three();
    /* a version stored while the index was not kept (as after a crash
     * between the files and the index) */
    st_set_index(st, NULL);
    put(make_rec("1111111111111111", "fetch", "2024-05-05", "D", "Fourth.", d, NULL), "stored");
    close_all();
    open_all(IX_OPEN_QUERY); /* a query only warns */
    ck_assert_int_eq(ix_count(ix), 3);
    close_all();
    open_all(IX_OPEN_REPAIR); /* the sink rebuilds */
    ck_assert_int_eq(ix_count(ix), 4);
}
END_TEST

START_TEST(test_catch_up_on_redelivery)
{
    static const char *const d[] = {"kim-jong-un:1", NULL};
    ix_query q;
    put_three();
    st_set_index(st, NULL);
    put(make_rec("1111111111111111", "fetch", "2024-05-05", "D", "Fourth.", d, NULL), "stored");
    st_set_index(st, ix);
    ck_assert_int_eq(ix_count(ix), 3);
    /* the record comes again (its offset was not stored): files unchanged,
     * the index catches up */
    put(make_rec("1111111111111111", "fetch", "2024-05-05", "D", "Fourth.", d, NULL), "unchanged");
    ck_assert_int_eq(ix_count(ix), 4);
    memset(&q, 0, sizeof(q));
    q.text = "fourth";
    ck_assert_str_eq(search(&q), "1111111111111111/1");
}
END_TEST

START_TEST(test_reindex_keeps_answers)
{
    size_t n = 0;
    put_three();
    ck_assert_int_eq(ix_rebuild(ix, &n, errbuf, sizeof(errbuf)), 0);
    ck_assert_uint_eq(n, 3);
    assert_three_found();
    /* a sidecar that is not JSON is skipped, and does not make the index
     * look out of step at the next start */
    {
        char p[PATH_MAX];
        int n = snprintf(p, sizeof(p), "%s/007_" ID_C ".v2.json", corpus);
        ck_assert(n > 0 && (size_t)n < sizeof(p));
        write_file(p, "{not json", 9);
    }
    ck_assert_int_eq(ix_rebuild(ix, &n, errbuf, sizeof(errbuf)), 0);
    ck_assert_uint_eq(n, 3);
    close_all();
    open_all(IX_OPEN_REPAIR);
    assert_three_found();
}
END_TEST

START_TEST(test_batch_indexed_at_sync)
{
    /* a batch's versions reach the index with its sync, in one go; a
     * version updated twice in the batch is indexed as it was last */
    static const char *const a[] = {"kim-jong-un:3", NULL};
    static const char *const b[] = {"hun-manet:1", NULL};
    json_t *report = NULL;
    json_t *recs[4] = {
        make_rec(ID_A, "fetch", "2024-03-01", "A", "first text", a, NULL),
        make_rec(ID_B, "fetch", "2024-03-02", "B", "second text", b, NULL),
        make_rec(ID_A, "fetch", "2024-03-01", "A", "first text, corrected", a, NULL),
        make_rec(ID_A, "fetch", "2024-03-01", "A", "first text, corrected", b, NULL),
    };

    for (int i = 0; i < 4; i++) {
        ck_assert_msg(st_stage(st, recs[i], NULL, &report, errbuf, sizeof(errbuf)) == 0, "%s",
                      errbuf);
        json_decref(report);
        json_decref(recs[i]);
    }
    ck_assert_int_eq(ix_count(ix), 0);
    ck_assert_msg(st_sync(st, errbuf, sizeof(errbuf)) == 0, "%s", errbuf);
    ck_assert_int_eq(ix_count(ix), 3);
    /* A's latest version (2) mentions hun-manet only now */
    {
        ix_query q;
        memset(&q, 0, sizeof(q));
        q.actors[0] = "hun-manet";
        q.nactors = 1;
        ck_assert_str_eq(search(&q), ID_B "/1 " ID_A "/2");
        q.actors[0] = "kim-jong-un";
        ck_assert_str_eq(search(&q), "");
    }
    close_all();
    open_all(IX_OPEN_REPAIR); /* in step with the files: no rebuild needed */
    ck_assert_int_eq(ix_count(ix), 3);
}
END_TEST

static Suite *index_suite(void)
{
    Suite *s = suite_create("index");
    TCase *tc = tcase_create("index");

    tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_search);
    tcase_add_test(tc, test_batch_indexed_at_sync);
    tcase_add_test(tc, test_search_row_fields);
    tcase_add_test(tc, test_count);
    tcase_add_test(tc, test_versions);
    tcase_add_test(tc, test_check);
    tcase_add_test(tc, test_valid_date);
    tcase_add_test(tc, test_rebuild_missing);
    tcase_add_test(tc, test_rebuild_garbage);
    tcase_add_test(tc, test_rebuild_truncated);
    tcase_add_test(tc, test_out_of_step);
    tcase_add_test(tc, test_catch_up_on_redelivery);
    tcase_add_test(tc, test_reindex_keeps_answers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(index_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
