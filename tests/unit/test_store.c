/* Unit tests for the corpus store (sink/store.h): opening and indexing a
 * corpus directory, storing new, unchanged, updated and replayed records,
 * reopening, and disk errors (a file-size limit making writes fail). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mkdtemp, nftw */
#endif

#include "testutil.h"
#include "nl_err.h"
#include "nl_record.h"
#include "nl_text.h"
#include "store.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- fixtures --------------------------------------------------------------- */

/* One directory for the whole run, made and removed by the parent process
 * (an unchecked fixture), so a test that fails in its forked child leaves
 * nothing behind; each test works in its own subdirectory of it, with the
 * corpus in "corpus" below that (not created: st_open makes it). */
static char basedir[PATH_MAX];
static char tmpdir[PATH_MAX];
static char corpus[PATH_MAX];

static nl_store *st;
static json_t *report;
static char errbuf[512];

#define SEED_ID "7fe72223c5b1d421"
#define SEED_TXT NL_DATADIR "/corpus/000_" SEED_ID ".txt"

#define ID_A "0123456789abcdef"
#define ID_B "fedcba9876543210"
#define ID_C "00000000000000a1"

static void base_setup(void)
{
    tu_make_basedir(basedir, sizeof(basedir), "store");
}

static void base_teardown(void)
{
    tu_remove_tree(basedir);
}

static void store_setup(void)
{
    int n;

    tu_make_subdir(tmpdir, sizeof(tmpdir), basedir);
    n = snprintf(corpus, sizeof(corpus), "%s/corpus", tmpdir);
    ck_assert(n > 0 && (size_t)n < sizeof(corpus));
    st = NULL;
    report = NULL;
    errbuf[0] = '\0';
}

static void store_teardown(void)
{
    json_decref(report);
    report = NULL;
    st_close(st);
    st = NULL;
    tu_remove_tree(tmpdir);
}

#define ck_assert_errbuf_has(needle)                                                               \
    ck_assert_msg(strstr(errbuf, (needle)) != NULL, "errbuf \"%s\" lacks \"%s\"", errbuf, (needle))

/* ---- helpers ------------------------------------------------------------------- */

/* The path of name in the corpus directory, in one of two static buffers
 * used in turn: valid until the second call after this one. */
static const char *cpath(const char *name)
{
    static char path[2][PATH_MAX];
    static int which;
    int n;

    which ^= 1;
    n = snprintf(path[which], PATH_MAX, "%s/%s", corpus, name);
    ck_assert(n > 0 && n < PATH_MAX);
    return path[which];
}

static void make_corpus_dir(void)
{
    ck_assert_msg(mkdir(corpus, 0755) == 0, "mkdir %s: %s", corpus, strerror(errno));
}

static void write_bytes(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

static void write_corpus_file(const char *name, const char *content)
{
    write_bytes(cpath(name), content, strlen(content));
}

/* The whole file (NUL-terminated, NUL not counted in *len). */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "r");
    char *buf;
    long n;

    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    ck_assert_int_ge(n, 0);
    rewind(f);
    buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    if (len != NULL) {
        *len = (size_t)n;
    }
    return buf;
}

static int exists(const char *name)
{
    struct stat sb;
    return lstat(cpath(name), &sb) == 0;
}

/* Number of entries of the corpus directory whose name starts with prefix
 * ("" for all but . and ..). */
static size_t count_entries(const char *prefix)
{
    DIR *d = opendir(corpus);
    struct dirent *de;
    size_t n = 0;

    ck_assert_msg(d != NULL, "%s: %s", corpus, strerror(errno));
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) {
            continue;
        }
        n += strncmp(de->d_name, prefix, strlen(prefix)) == 0;
    }
    closedir(d);
    return n;
}

/* Number of entries whose name contains the id. */
static size_t count_with_id(const char *id)
{
    DIR *d = opendir(corpus);
    struct dirent *de;
    size_t n = 0;

    ck_assert_ptr_nonnull(d);
    while ((de = readdir(d)) != NULL) {
        n += strstr(de->d_name, id) != NULL;
    }
    closedir(d);
    return n;
}

static void open_store(void)
{
    ck_assert_msg(st_open(corpus, &st, errbuf, sizeof(errbuf)) == 0, "%s", errbuf);
    ck_assert_ptr_nonnull(st);
}

static void reopen_store(void)
{
    st_close(st);
    st = NULL;
    open_store();
}

/* A newsline.tagged/1 record, as the tagger makes it. */
static json_t *make_rec(const char *id, const char *source, const char *title, const char *text)
{
    json_t *rec =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:[{s:s, s:s, s:s, s:i}], s:s}}", "schema",
                  NL_SCHEMA_TAGGED, "id", id, "source", source, "content_type", "text/html",
                  "title", title, "text", text, "tags", "actors", "id", "russia", "kind", "state",
                  "name", "Russia", "count", 1, "watchlist_version", "test-1");
    ck_assert_ptr_nonnull(rec);
    return rec;
}

/* The file names of version ver of seq/id. */
static void names_v(long seq, const char *id, long ver, char *txt, char *side, size_t len)
{
    if (ver <= 1) {
        snprintf(txt, len, "%03ld_%s.txt", seq, id);
        snprintf(side, len, "%03ld_%s.json", seq, id);
    } else {
        snprintf(txt, len, "%03ld_%s.v%ld.txt", seq, id, ver);
        snprintf(side, len, "%03ld_%s.v%ld.json", seq, id, ver);
    }
}

/* st_put that must succeed with status, on the files of version ver of
 * NNN_<id>; returns the report (kept in `report`, freed at teardown). */
static json_t *put_ok_v(const json_t *rec, const json_t *trace, const char *status, long seq,
                        long ver)
{
    const char *id = nl_record_str(rec, "id");
    char txt[64], side[64];
    int rc;

    json_decref(report);
    report = NULL;
    errbuf[0] = '\0';
    rc = st_put(st, rec, trace, &report, errbuf, sizeof(errbuf));
    ck_assert_msg(rc == 0, "st_put %s: rc %d, %s", id, rc, errbuf);
    ck_assert_ptr_nonnull(report);
    names_v(seq, id, ver, txt, side, sizeof(txt));
    ck_assert_str_eq(nl_record_str(report, "schema"), NL_SCHEMA_STORED);
    ck_assert_str_eq(nl_record_str(report, "id"), id);
    ck_assert_str_eq(nl_record_str(report, "status"), status);
    ck_assert_int_eq(json_integer_value(json_object_get(report, "version")), ver);
    ck_assert_str_eq(nl_record_str(report, "file"), txt);
    ck_assert_str_eq(nl_record_str(report, "sidecar"), side);
    ck_assert(exists(txt));
    ck_assert(exists(side));
    ck_assert_uint_eq(count_entries(".nl-tmp."), 0);
    return report;
}

static json_t *put_ok(const json_t *rec, const json_t *trace, const char *status, long seq)
{
    return put_ok_v(rec, trace, status, seq, 1);
}

static json_t *load_sidecar_v(long seq, const char *id, long ver)
{
    char name[64], txt[64];
    json_error_t jerr;
    json_t *j;

    names_v(seq, id, ver, txt, name, sizeof(name));
    j = json_load_file(cpath(name), 0, &jerr);
    ck_assert_msg(j != NULL, "%s: %s", name, jerr.text);
    return j;
}

static json_t *load_sidecar(long seq, const char *id)
{
    return load_sidecar_v(seq, id, 1);
}

/* Checks the text file of version ver is title "\n\n" text "\n" and its
 * sidecar matches rec. */
static void assert_stored_v(long seq, const json_t *rec, const json_t *trace, long ver)
{
    const char *id = nl_record_str(rec, "id");
    const char *title = nl_record_str(rec, "title");
    const char *text = nl_record_str(rec, "text");
    char name[64], sname[64], hash[17];
    char *body, *side_s;
    size_t len, side_len;
    json_t *side, *want;

    names_v(seq, id, ver, name, sname, sizeof(name));
    body = slurp(cpath(name), &len);
    ck_assert_uint_eq(len, strlen(title) + 2 + strlen(text) + 1);
    ck_assert_int_eq(memcmp(body, title, strlen(title)), 0);
    ck_assert_int_eq(memcmp(body + strlen(title), "\n\n", 2), 0);
    ck_assert_int_eq(memcmp(body + strlen(title) + 2, text, strlen(text)), 0);
    ck_assert_int_eq(body[len - 1], '\n');
    /* the content hash: FNV-1a 64 of title "\n\n" text */
    snprintf(hash, sizeof(hash), "%016llx", (unsigned long long)nl_hash64(body, len - 1));
    free(body);

    side_s = slurp(cpath(sname), &side_len);
    ck_assert_uint_gt(side_len, 0);
    ck_assert_int_eq(side_s[side_len - 1], '\n');
    free(side_s);
    side = load_sidecar_v(seq, id, ver);
    ck_assert_str_eq(nl_record_str(side, "schema"), NL_SCHEMA_STORED);
    ck_assert_str_eq(nl_record_str(side, "id"), id);
    ck_assert_str_eq(nl_record_str(side, "file"), name);
    ck_assert_int_eq(json_integer_value(json_object_get(side, "version")), ver);
    ck_assert_str_eq(nl_record_str(side, "content_hash"), hash);
    ck_assert_uint_ge(json_array_size(json_object_get(side, "versions")), (size_t)ver);
    ck_assert_str_eq(
        json_string_value(json_array_get(json_object_get(side, "versions"), (size_t)ver - 1)),
        name);
    /* provenance: where it came from and what made it */
    {
        json_t *prov = json_object_get(side, "provenance");
        ck_assert_ptr_nonnull(prov);
        ck_assert_str_eq(nl_record_str(prov, "source"), nl_record_str(rec, "source"));
        ck_assert_str_eq(nl_record_str(prov, "watchlist_version"),
                         nl_record_str(json_object_get(rec, "tags"), "watchlist_version"));
        ck_assert_str_eq(nl_record_str(prov, "parser_version"),
                         nl_record_str(rec, "parser_version") != NULL
                             ? nl_record_str(rec, "parser_version")
                             : NL_VERSION);
        if (nl_record_str(rec, "fetched_at") != NULL) {
            ck_assert_str_eq(nl_record_str(prov, "fetched_at"), nl_record_str(rec, "fetched_at"));
        }
    }
    ck_assert_int_eq(json_integer_value(json_object_get(side, "text_offset")),
                     (json_int_t)strlen(title) + 2);
    ck_assert_int_eq(json_integer_value(json_object_get(side, "text_bytes")),
                     (json_int_t)strlen(text));
    ck_assert_ptr_nonnull(nl_record_str(side, "stored_at"));
    if (trace == NULL) {
        ck_assert(json_is_null(json_object_get(side, "trace")));
    } else {
        ck_assert(json_equal(json_object_get(side, "trace"), (json_t *)trace));
    }
    /* the record, all but its text */
    ck_assert_ptr_null(json_object_get(json_object_get(side, "record"), "text"));
    want = json_deep_copy(rec);
    ck_assert_ptr_nonnull(want);
    ck_assert_int_eq(json_object_del(want, "text"), 0);
    ck_assert(json_equal(json_object_get(side, "record"), want));
    json_decref(want);
    json_decref(side);
}

static void assert_stored(long seq, const json_t *rec, const json_t *trace)
{
    assert_stored_v(seq, rec, trace, 1);
}

struct file_id {
    struct stat sb;
    char *bytes;
    size_t len;
};

/* Sets a file's times to a fixed point in the past, so a rewrite shows. */
static void age_file(const char *name)
{
    struct timespec ts[2] = {{1000000000, 123456789}, {1000000000, 123456789}};
    ck_assert_int_eq(utimensat(AT_FDCWD, cpath(name), ts, 0), 0);
}

static void snap(const char *name, struct file_id *f)
{
    ck_assert_int_eq(stat(cpath(name), &f->sb), 0);
    f->bytes = slurp(cpath(name), &f->len);
}

/* Asserts the file is the same inode, bytes and mtime as at snap(). */
static void assert_untouched(const char *name, struct file_id *f)
{
    struct stat sb;
    size_t len;
    char *bytes;

    ck_assert_int_eq(stat(cpath(name), &sb), 0);
    ck_assert_msg(sb.st_ino == f->sb.st_ino, "%s was replaced", name);
    ck_assert_int_eq(sb.st_mtim.tv_sec, f->sb.st_mtim.tv_sec);
    ck_assert_int_eq(sb.st_mtim.tv_nsec, f->sb.st_mtim.tv_nsec);
    bytes = slurp(cpath(name), &len);
    ck_assert_uint_eq(len, f->len);
    ck_assert_int_eq(memcmp(bytes, f->bytes, len), 0);
    free(bytes);
    free(f->bytes);
    f->bytes = NULL;
}

/* ---- st_open ------------------------------------------------------------------- */

START_TEST(test_open_creates_dir)
{
    struct stat sb;

    ck_assert_int_ne(stat(corpus, &sb), 0);
    open_store();
    ck_assert_int_eq(stat(corpus, &sb), 0);
    ck_assert(S_ISDIR(sb.st_mode));
    ck_assert_uint_eq(st_count(st), 0);
    ck_assert_uint_eq(count_entries(""), 0);
    /* an existing empty directory is fine too */
    reopen_store();
    ck_assert_uint_eq(st_count(st), 0);
}
END_TEST

START_TEST(test_open_errors)
{
    char path[PATH_MAX];
    nl_store *other = (nl_store *)1;
    int n;

    /* a missing parent: not created recursively */
    n = snprintf(path, sizeof(path), "%s/no/such/corpus", tmpdir);
    ck_assert(n > 0 && (size_t)n < sizeof(path));
    ck_assert_int_eq(st_open(path, &other, errbuf, sizeof(errbuf)), NL_EIO);
    ck_assert_ptr_null(other);
    ck_assert_errbuf_has(path);
    /* a regular file where the directory should be */
    n = snprintf(path, sizeof(path), "%s/a-file", tmpdir);
    ck_assert(n > 0 && (size_t)n < sizeof(path));
    write_bytes(path, "x", 1);
    errbuf[0] = '\0';
    other = (nl_store *)1;
    ck_assert_int_eq(st_open(path, &other, errbuf, sizeof(errbuf)), NL_EIO);
    ck_assert_ptr_null(other);
    ck_assert_errbuf_has(path);
    st_close(NULL);
}
END_TEST

START_TEST(test_open_indexes_existing)
{
    static const char *const ignored[] = {
        "README.md",
        "notes.txt",
        "900_0123456789abcde.txt",   /* 15 hex digits */
        "901_0123456789abcdef0.txt", /* 17 */
        "902_0123456789ABCDEF.txt",  /* upper case */
        "903_0123456789abcdeg.txt",  /* not hex */
        "904_0123456789abcdef.txt.bak",
        "905_0123456789abcdef.TXT",
        "906_0123456789abcdef.md",
        "907_0123456789abcdef",
        "908-0123456789abcdef.txt",
        "x909_0123456789abcdef.txt",
        "-910_0123456789abcdef.txt",
        "+911_0123456789abcdef.txt",
        "_0123456789abcdef.txt",
        "912_0123456789abcdef.json~",
        ".913_0123456789abcdef.txt",
        "0x914_0123456789abcdef.txt",
        "915_0123456789abcdef.v1.txt", /* version 1 has the plain name */
        "916_0123456789abcdef.v02.txt",
        "917_0123456789abcdef.v.txt",
        "918_0123456789abcdef.vx.json",
        "919_0123456789abcdef.v2.md",
        "920_0123456789abcdef.v2",
    };
    static const char *const stale[] = {
        ".nl-tmp.4242.000_" ID_A ".txt",
        ".nl-tmp.4242.000_" ID_A ".json",
        ".nl-tmp.x",
    };
    json_t *rec;

    make_corpus_dir();
    write_corpus_file("000_" ID_A ".txt", "A\n\na\n");
    write_corpus_file("000_" ID_A ".json", "{}\n");
    write_corpus_file("001_" ID_B ".txt", "B\n\nb\n"); /* a seed: no sidecar yet */
    write_corpus_file("005_" ID_C ".json", "{}\n");    /* a sidecar alone */
    for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++) {
        write_corpus_file(ignored[i], "ignored\n");
    }
    for (size_t i = 0; i < sizeof(stale) / sizeof(stale[0]); i++) {
        write_corpus_file(stale[i], "half");
    }
    ck_assert_int_eq(mkdir(cpath("subdir"), 0755), 0);

    open_store();
    ck_assert_uint_eq(st_count(st), 3);
    /* the stale temporary files are gone, everything else is left alone */
    ck_assert_uint_eq(count_entries(".nl-tmp."), 0);
    for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++) {
        ck_assert_msg(exists(ignored[i]), "%s was removed", ignored[i]);
    }
    ck_assert(exists("subdir"));
    ck_assert(exists("000_" ID_A ".txt"));
    ck_assert(exists("001_" ID_B ".txt"));
    ck_assert(exists("005_" ID_C ".json"));

    /* a new document is numbered after the highest indexed NNN (5), not
     * after the ignored 9xx names */
    rec = make_rec("1111111111111111", "fetch", "New", "A new document.");
    put_ok(rec, NULL, "stored", 6);
    ck_assert_uint_eq(st_count(st), 4);
    json_decref(rec);
    rec = make_rec("2222222222222222", "fetch", "Newer", "Another.");
    put_ok(rec, NULL, "stored", 7);
    ck_assert_uint_eq(st_count(st), 5);
    json_decref(rec);
    /* a known id keeps its number */
    rec = make_rec(ID_B, "fetch", "B", "b");
    put_ok(rec, NULL, "stored", 1);
    ck_assert_uint_eq(st_count(st), 5);
    json_decref(rec);
    rec = make_rec(ID_C, "fetch", "C", "c");
    put_ok(rec, NULL, "updated", 5);
    json_decref(rec);
}
END_TEST

START_TEST(test_open_ignores_space_padded_names)
{
    /* strtol skips leading white space; " 42_<id>.txt" is not NNN_<id>.txt */
    make_corpus_dir();
    write_corpus_file("003_" ID_A ".txt", "A\n\na\n");
    write_corpus_file(" 42_" ID_B ".txt", "B\n\nb\n");
    write_corpus_file("\t77_" ID_C ".json", "{}\n");
    open_store();
    ck_assert_uint_eq(st_count(st), 1);
    {
        json_t *rec = make_rec("1111111111111111", "fetch", "New", "A new document.");
        put_ok(rec, NULL, "stored", 4);
        json_decref(rec);
    }
}
END_TEST

START_TEST(test_open_numbering_past_999)
{
    json_t *rec;

    make_corpus_dir();
    write_corpus_file("999_" ID_A ".txt", "A\n\na\n");
    write_corpus_file("1234_" ID_B ".txt", "B\n\nb\n");
    write_corpus_file("7_" ID_C ".txt", "C\n\nc\n"); /* fewer than three digits */
    open_store();
    ck_assert_uint_eq(st_count(st), 3);
    rec = make_rec("1111111111111111", "fetch", "New", "A new document.");
    put_ok(rec, NULL, "stored", 1235);
    ck_assert(exists("1235_1111111111111111.txt"));
    json_decref(rec);
}
END_TEST

START_TEST(test_open_many)
{
    /* enough ids to grow the index several times, half of them sharing
     * their low bits (so they collide in the table) */
    enum { N = 3000 };
    char name[64];
    json_t *rec;

    make_corpus_dir();
    for (long i = 0; i < N; i++) {
        uint64_t id =
            i % 2 == 0 ? (uint64_t)(i + 1) * 0x9e3779b97f4a7c15ULL : (uint64_t)(i + 1) << 40;
        int fd;
        snprintf(name, sizeof(name), "%03ld_%016llx.txt", i, (unsigned long long)id);
        fd = open(cpath(name), O_WRONLY | O_CREAT | O_EXCL, 0644);
        ck_assert_int_ge(fd, 0);
        close(fd);
    }
    open_store();
    ck_assert_uint_eq(st_count(st), N);
    /* an indexed id keeps its number; a new one comes after the last */
    snprintf(name, sizeof(name), "%016llx", (unsigned long long)((uint64_t)(1233 + 1) << 40));
    rec = make_rec(name, "fetch", "T", "t");
    /* its empty text file is another content: the text becomes version 2 */
    put_ok_v(rec, NULL, "new_version", 1233, 2);
    ck_assert_uint_eq(st_count(st), N);
    json_decref(rec);
    rec = make_rec("1111111111111111", "fetch", "New", "A new document.");
    put_ok(rec, NULL, "stored", N);
    ck_assert_uint_eq(st_count(st), N + 1);
    json_decref(rec);
}
END_TEST

/* ---- st_put --------------------------------------------------------------------- */

START_TEST(test_put_new)
{
    /* a title with multibyte characters: text_offset counts bytes */
    const char *title = "Russia\xe2\x80\x99s \xe2\x80\x9cnew\xe2\x80\x9d alliance";
    const char *text = "Paragraph one.\n\nParagraph two, caf\xc3\xa9.";
    json_t *rec = make_rec(ID_A, "fetch", title, text);

    open_store();
    put_ok(rec, NULL, "stored", 0);
    ck_assert_uint_eq(json_object_size(report), 6);
    assert_stored(0, rec, NULL);
    ck_assert_uint_eq(st_count(st), 1);
    ck_assert_uint_eq(count_entries(""), 2);
    /* the caller's record is not altered */
    ck_assert_str_eq(nl_record_str(rec, "text"), text);
    json_decref(rec);

    /* the next new document takes the next number */
    rec = make_rec(ID_B, "fetch", "Second", "Two.");
    put_ok(rec, NULL, "stored", 1);
    assert_stored(1, rec, NULL);
    ck_assert_uint_eq(st_count(st), 2);
    ck_assert_uint_eq(count_entries(""), 4);
    json_decref(rec);
}
END_TEST

START_TEST(test_put_trace)
{
    json_t *rec = make_rec(ID_A, "fetch", "Title", "Text.");
    json_t *trace = json_pack("{s:s, s:s}", "fetcher", "2026-11-23T18:46:01.000Z", "parser",
                              "2026-11-23T18:46:02.000Z");

    ck_assert_ptr_nonnull(trace);
    open_store();
    put_ok(rec, trace, "stored", 0);
    assert_stored(0, rec, trace);
    json_decref(trace);
    json_decref(rec);
}
END_TEST

START_TEST(test_put_empty_title_and_text)
{
    json_t *rec = make_rec(ID_A, "fetch", "", "");

    open_store();
    put_ok(rec, NULL, "stored", 0);
    assert_stored(0, rec, NULL);
    put_ok(rec, NULL, "unchanged", 0);
    json_decref(rec);
}
END_TEST

START_TEST(test_put_unchanged)
{
    json_t *rec = make_rec(ID_A, "fetch", "Title", "The text.");
    json_t *copy;
    json_t *trace = json_pack("{s:s}", "tagger", "2026-11-23T18:46:03.000Z");
    struct file_id txt, side;

    open_store();
    put_ok(rec, NULL, "stored", 0);
    age_file("000_" ID_A ".txt");
    age_file("000_" ID_A ".json");
    snap("000_" ID_A ".txt", &txt);
    snap("000_" ID_A ".json", &side);

    /* the same record, as an equal copy */
    copy = json_deep_copy(rec);
    put_ok(copy, NULL, "unchanged", 0);
    ck_assert_uint_eq(json_object_size(report), 6);
    /* a different trace alone changes nothing either */
    put_ok(copy, trace, "unchanged", 0);
    assert_untouched("000_" ID_A ".txt", &txt);
    assert_untouched("000_" ID_A ".json", &side);
    ck_assert_uint_eq(st_count(st), 1);
    ck_assert_uint_eq(count_entries(""), 2);
    json_decref(copy);
    json_decref(trace);
    json_decref(rec);
}
END_TEST

START_TEST(test_put_updated)
{
    json_t *rec = make_rec(ID_A, "fetch", "Title", "The text.");
    json_t *rec2 = make_rec(ID_B, "fetch", "Other", "Other text.");
    json_t *changed, *retagged;
    struct file_id txt, v1txt, v1side;

    open_store();
    put_ok(rec, NULL, "stored", 0);
    put_ok(rec2, NULL, "stored", 1);
    age_file("000_" ID_A ".txt");
    age_file("000_" ID_A ".json");
    snap("000_" ID_A ".txt", &v1txt);
    snap("000_" ID_A ".json", &v1side);

    /* new text and title: a second version beside the first, same number */
    changed = make_rec(ID_A, "fetch", "A longer title", "The text, corrected.");
    put_ok_v(changed, NULL, "new_version", 0, 2);
    assert_stored_v(0, changed, NULL, 2);
    assert_untouched("000_" ID_A ".txt", &v1txt);
    assert_untouched("000_" ID_A ".json", &v1side);
    assert_stored(0, rec, NULL);
    ck_assert_uint_eq(st_count(st), 2);
    ck_assert_uint_eq(count_entries(""), 6);

    /* new tags only: the text file stays, the sidecar changes */
    age_file("000_" ID_A ".v2.txt");
    snap("000_" ID_A ".v2.txt", &txt);
    retagged = make_rec(ID_A, "fetch", "A longer title", "The text, corrected.");
    ck_assert_int_eq(json_object_set_new(json_object_get(retagged, "tags"), "watchlist_version",
                                         json_string("test-2")),
                     0);
    put_ok_v(retagged, NULL, "updated", 0, 2);
    assert_untouched("000_" ID_A ".v2.txt", &txt);
    assert_stored_v(0, retagged, NULL, 2);
    /* and the same again is unchanged */
    put_ok_v(retagged, NULL, "unchanged", 0, 2);

    /* the first version delivered again (a replay of the topic): it is
     * recognised by its content, nothing changes, no third version */
    snap("000_" ID_A ".txt", &v1txt);
    snap("000_" ID_A ".json", &v1side);
    put_ok_v(rec, NULL, "unchanged", 0, 1);
    assert_untouched("000_" ID_A ".txt", &v1txt);
    assert_untouched("000_" ID_A ".json", &v1side);
    ck_assert(!exists("000_" ID_A ".v3.txt"));
    /* a third content is version 3; the sidecar lists all three */
    json_decref(changed);
    changed = make_rec(ID_A, "fetch", "Third", "Third text.");
    put_ok_v(changed, NULL, "new_version", 0, 3);
    assert_stored_v(0, changed, NULL, 3);
    ck_assert_uint_eq(count_entries(""), 8);
    ck_assert_uint_eq(st_count(st), 2);
    json_decref(changed);
    json_decref(retagged);

    /* the other document was not touched */
    assert_stored(1, rec2, NULL);
    json_decref(rec2);
    json_decref(rec);
}
END_TEST

START_TEST(test_put_versions_reopen)
{
    json_t *v1 = make_rec(ID_A, "fetch", "Title", "One.");
    json_t *v2 = make_rec(ID_A, "fetch", "Title", "Two.");
    json_t *v3 = make_rec(ID_A, "fetch", "Title", "Three.");
    json_t *other = make_rec(ID_B, "fetch", "B", "b");

    open_store();
    put_ok(v1, NULL, "stored", 0);
    put_ok_v(v2, NULL, "new_version", 0, 2);
    /* reopened, the store knows both versions by their files */
    reopen_store();
    ck_assert_uint_eq(st_count(st), 1);
    put_ok_v(v2, NULL, "unchanged", 0, 2);
    put_ok_v(v1, NULL, "unchanged", 0, 1);
    put_ok_v(v3, NULL, "new_version", 0, 3);
    put_ok(other, NULL, "stored", 1);

    /* a crash after the text file of version 4 but before its sidecar:
     * the redelivered record finds the text file and completes it */
    json_decref(v1);
    v1 = make_rec(ID_A, "fetch", "Title", "Four.");
    write_corpus_file("000_" ID_A ".v4.txt", "Title\n\nFour.\n");
    reopen_store();
    put_ok_v(v1, NULL, "stored", 0, 4);
    assert_stored_v(0, v1, NULL, 4);
    put_ok_v(v1, NULL, "unchanged", 0, 4);
    ck_assert_uint_eq(count_entries(""), 10);
    json_decref(v1);
    json_decref(v2);
    json_decref(v3);
    json_decref(other);
}
END_TEST

START_TEST(test_put_provenance)
{
    json_t *rec = make_rec(ID_A, "fetch", "Title", "Text.");
    json_t *trace = json_pack("{s:I}", "replay", (json_int_t)1700000000123LL);
    json_t *side, *prov;

    ck_assert_int_eq(json_object_set_new(rec, "fetched_at", json_string("2026-11-23T18:46:01Z")),
                     0);
    ck_assert_int_eq(json_object_set_new(rec, "parser_version", json_string("9.9.9")), 0);
    open_store();
    put_ok(rec, NULL, "stored", 0);
    assert_stored(0, rec, NULL);
    /* a replayed record was not fetched: the time it entered the pipeline */
    json_decref(rec);
    rec = make_rec(ID_B, "replay", "Title", "Text.");
    put_ok(rec, trace, "stored", 1);
    side = load_sidecar(1, ID_B);
    prov = json_object_get(side, "provenance");
    ck_assert_str_eq(nl_record_str(prov, "source"), "replay");
    ck_assert_str_eq(nl_record_str(prov, "parser_version"), NL_VERSION);
    ck_assert_str_eq(nl_record_str(prov, "watchlist_version"), "test-1");
    ck_assert_str_eq(nl_record_str(prov, "fetched_at"), "2023-11-14T22:13:20.123Z");
    json_decref(side);
    json_decref(trace);
    json_decref(rec);
}
END_TEST

/* Reads the seed and splits it into its first line (the title) and what
 * follows the blank line after it (the text). */
static char *read_seed(size_t *len, char **title, size_t *title_len)
{
    char *seed = slurp(SEED_TXT, len);
    char *nl = memchr(seed, '\n', *len);

    ck_assert_ptr_nonnull(nl);
    ck_assert_int_eq(nl[1], '\n');
    *title_len = (size_t)(nl - seed);
    *title = strndup(seed, *title_len);
    ck_assert_ptr_nonnull(*title);
    return seed;
}

static json_t *make_seed_rec(const char *seed, size_t len, const char *title, size_t title_len)
{
    json_t *rec = make_rec(SEED_ID, "replay", title, "");
    ck_assert_int_eq(
        json_object_set_new(rec, "text", json_stringn(seed + title_len + 2, len - title_len - 2)),
        0);
    ck_assert_uint_eq(json_string_length(json_object_get(rec, "text")), len - title_len - 2);
    return rec;
}

START_TEST(test_put_replay_keeps_seed)
{
    size_t len, title_len;
    char *title;
    char *seed = read_seed(&len, &title, &title_len);
    json_t *rec = make_seed_rec(seed, len, title, title_len);
    json_t *side;
    struct file_id txt;
    size_t got_len;
    char *got;
    json_int_t off, bytes;

    make_corpus_dir();
    write_bytes(cpath("000_" SEED_ID ".txt"), seed, len);
    age_file("000_" SEED_ID ".txt");
    snap("000_" SEED_ID ".txt", &txt);
    open_store();
    ck_assert_uint_eq(st_count(st), 1);

    put_ok(rec, NULL, "stored", 0);
    /* the seed, byte for byte, not even rewritten */
    assert_untouched("000_" SEED_ID ".txt", &txt);
    side = load_sidecar(0, SEED_ID);
    off = json_integer_value(json_object_get(side, "text_offset"));
    bytes = json_integer_value(json_object_get(side, "text_bytes"));
    ck_assert_int_eq(off, (json_int_t)title_len + 2);
    ck_assert_int_eq(bytes, (json_int_t)(len - title_len - 2));
    ck_assert_str_eq(nl_record_str(side, "file"), "000_" SEED_ID ".txt");
    ck_assert_ptr_null(json_object_get(json_object_get(side, "record"), "text"));
    ck_assert_str_eq(nl_record_str(json_object_get(side, "record"), "source"), "replay");
    got = slurp(cpath("000_" SEED_ID ".txt"), &got_len);
    ck_assert_uint_eq(got_len, len);
    ck_assert_int_eq(memcmp(got + off, nl_record_str(rec, "text"), (size_t)bytes), 0);
    free(got);
    json_decref(side);
    ck_assert_uint_eq(count_entries(""), 2);

    /* again: unchanged */
    snap("000_" SEED_ID ".txt", &txt);
    put_ok(rec, NULL, "unchanged", 0);
    assert_untouched("000_" SEED_ID ".txt", &txt);

    /* a replay with other tags and title: the text file still stays */
    json_object_set_new(rec, "title", json_string("Another title"));
    snap("000_" SEED_ID ".txt", &txt);
    put_ok(rec, NULL, "updated", 0);
    assert_untouched("000_" SEED_ID ".txt", &txt);
    side = load_sidecar(0, SEED_ID);
    ck_assert_int_eq(json_integer_value(json_object_get(side, "text_offset")),
                     (json_int_t)title_len + 2);
    ck_assert_str_eq(nl_record_str(json_object_get(side, "record"), "title"), "Another title");
    json_decref(side);
    ck_assert_uint_eq(st_count(st), 1);

    json_decref(rec);
    free(title);
    free(seed);
}
END_TEST

START_TEST(test_put_replay_new_document)
{
    /* a replay of a document the corpus does not have is written out */
    json_t *rec = make_rec(ID_A, "replay", "Title", "Replayed text.");

    open_store();
    put_ok(rec, NULL, "stored", 0);
    assert_stored(0, rec, NULL);
    json_decref(rec);
}
END_TEST

START_TEST(test_reopen)
{
    json_t *a = make_rec(ID_A, "fetch", "A", "Text a.");
    json_t *b = make_rec(ID_B, "fetch", "B", "Text b.");
    json_t *c = make_rec(ID_C, "fetch", "C", "Text c.");
    struct file_id txt, side;

    open_store();
    put_ok(a, NULL, "stored", 0);
    put_ok(b, NULL, "stored", 1);
    reopen_store();
    ck_assert_uint_eq(st_count(st), 2);
    age_file("000_" ID_A ".txt");
    age_file("000_" ID_A ".json");
    snap("000_" ID_A ".txt", &txt);
    snap("000_" ID_A ".json", &side);
    put_ok(a, NULL, "unchanged", 0);
    assert_untouched("000_" ID_A ".txt", &txt);
    assert_untouched("000_" ID_A ".json", &side);
    put_ok(c, NULL, "stored", 2);
    json_object_set_new(b, "text", json_string("Text b, revised."));
    put_ok_v(b, NULL, "new_version", 1, 2);
    assert_stored_v(1, b, NULL, 2);
    reopen_store();
    ck_assert_uint_eq(st_count(st), 3);
    put_ok(c, NULL, "unchanged", 2);
    put_ok_v(b, NULL, "unchanged", 1, 2);
    ck_assert_uint_eq(count_entries(""), 8);
    json_decref(a);
    json_decref(b);
    json_decref(c);
}
END_TEST

/* ---- disk errors -------------------------------------------------------------- */

/* Runs st_put under a file-size limit of limit bytes (SIGXFSZ ignored, so
 * writes past it fail with EFBIG). Tests run as root, where a read-only
 * directory would not stop a write. The limit is lifted before returning,
 * so Check's own writes are not affected; tests run in a forked child. */
static int put_limited(const json_t *rec, rlim_t limit)
{
    struct rlimit saved, rl;
    int set_rc, restore_rc;
    int rc;

    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &saved), 0);
    ck_assert(signal(SIGXFSZ, SIG_IGN) != SIG_ERR);
    rl = saved;
    rl.rlim_cur = limit;
    json_decref(report);
    report = NULL;
    errbuf[0] = '\0';
    /* No ck_assert in between: every passing check writes to Check's
     * message file, which the limit would cut. */
    set_rc = setrlimit(RLIMIT_FSIZE, &rl);
    rc = st_put(st, rec, NULL, &report, errbuf, sizeof(errbuf));
    restore_rc = setrlimit(RLIMIT_FSIZE, &saved);
    ck_assert_int_eq(set_rc, 0);
    ck_assert_int_eq(restore_rc, 0);
    return rc;
}

START_TEST(test_disk_error_text_file)
{
    char text[400];
    json_t *rec;
    int rc;

    memset(text, 'x', sizeof(text) - 1);
    text[sizeof(text) - 1] = '\0';
    rec = make_rec(ID_A, "fetch", "Title", text);
    open_store();
    rc = put_limited(rec, 64);
    ck_assert_msg(rc == NL_ETRANSIENT, "rc %d, %s", rc, errbuf);
    ck_assert_ptr_null(report);
    ck_assert_errbuf_has(strerror(EFBIG));
    /* nothing visible, nothing left behind */
    ck_assert_uint_eq(count_entries(""), 0);
    ck_assert_uint_eq(st_count(st), 0);
    /* and it can be repeated: the same number, as if nothing happened */
    put_ok(rec, NULL, "stored", 0);
    assert_stored(0, rec, NULL);
    ck_assert_uint_eq(st_count(st), 1);
    ck_assert_uint_eq(count_entries(""), 2);
    json_decref(rec);
}
END_TEST

START_TEST(test_disk_error_update_keeps_old)
{
    char text[400];
    json_t *rec = make_rec(ID_A, "fetch", "Title", "Short.");
    json_t *bigger;
    struct file_id txt, side;
    int rc;

    open_store();
    put_ok(rec, NULL, "stored", 0);
    age_file("000_" ID_A ".txt");
    age_file("000_" ID_A ".json");
    snap("000_" ID_A ".txt", &txt);
    snap("000_" ID_A ".json", &side);
    memset(text, 'y', sizeof(text) - 1);
    text[sizeof(text) - 1] = '\0';
    bigger = make_rec(ID_A, "fetch", "Title", text);
    rc = put_limited(bigger, 64);
    ck_assert_msg(rc == NL_ETRANSIENT, "rc %d, %s", rc, errbuf);
    ck_assert_ptr_null(report);
    /* the old version is intact */
    assert_untouched("000_" ID_A ".txt", &txt);
    assert_untouched("000_" ID_A ".json", &side);
    ck_assert_uint_eq(count_entries(""), 2);
    put_ok_v(bigger, NULL, "new_version", 0, 2);
    assert_stored_v(0, bigger, NULL, 2);
    assert_stored(0, rec, NULL);
    json_decref(bigger);
    json_decref(rec);
}
END_TEST

START_TEST(test_disk_error_sidecar)
{
    /* The text file fits under the limit, the sidecar does not: the
     * document must not be left half-written (a text file without its
     * sidecar, under a number the next document would then reuse). */
    json_t *rec = make_rec(ID_A, "fetch", "Title", "Short text.");
    json_t *next = make_rec(ID_B, "fetch", "Next", "Next text.");
    int rc;

    open_store();
    rc = put_limited(rec, 200); /* the text file is 19 bytes, the sidecar far more */
    ck_assert_msg(rc == NL_ETRANSIENT, "rc %d, %s", rc, errbuf);
    ck_assert_ptr_null(report);
    ck_assert_errbuf_has(".json");
    ck_assert_uint_eq(count_entries(".nl-tmp."), 0);
    ck_assert_uint_eq(st_count(st), 0);
    ck_assert_msg(count_with_id(ID_A) == 0, "%zu file(s) of %s left visible (000_%s.txt: %s)",
                  count_with_id(ID_A), ID_A, ID_A, exists("000_" ID_A ".txt") ? "yes" : "no");
    /* the next document stored meanwhile, then the retry */
    put_ok(next, NULL, "stored", 0);
    put_ok(rec, NULL, "stored", 1);
    ck_assert_uint_eq(count_entries(""), 4);
    json_decref(next);
    json_decref(rec);
}
END_TEST

/* ---- batches (st_stage, st_sync) ------------------------------------------------ */

/* st_stage that must succeed with status; returns the report's version. */
static long stage_ok(const json_t *rec, const char *status)
{
    json_t *rep = NULL;
    long ver;
    int rc;

    errbuf[0] = '\0';
    rc = st_stage(st, rec, NULL, &rep, errbuf, sizeof(errbuf));
    ck_assert_msg(rc == 0, "st_stage %s: rc %d, %s", nl_record_str(rec, "id"), rc, errbuf);
    ck_assert_ptr_nonnull(rep);
    ck_assert_str_eq(nl_record_str(rep, "status"), status);
    ver = (long)json_integer_value(json_object_get(rep, "version"));
    json_decref(rep);
    return ver;
}

static void sync_ok(void)
{
    errbuf[0] = '\0';
    ck_assert_msg(st_sync(st, errbuf, sizeof(errbuf)) == 0, "st_sync: %s", errbuf);
    ck_assert_uint_eq(st_pending(st), 0);
    ck_assert_uint_eq(count_entries(".nl-tmp."), 0);
}

/* The durable callback's reports, in order, as "id:status" lines. */
static char durable_log[4096];

static void log_durable(void *arg, const json_t *rep)
{
    size_t n = strlen(durable_log);
    (void)arg;
    snprintf(durable_log + n, sizeof(durable_log) - n, "%.4s:%s;", nl_record_str(rep, "id"),
             nl_record_str(rep, "status"));
}

START_TEST(test_batch_visible_after_sync)
{
    json_t *a = make_rec(ID_A, "fetch", "Title A", "Text A.");
    json_t *b = make_rec(ID_B, "fetch", "Title B", "Text B.");

    open_store();
    durable_log[0] = '\0';
    st_on_durable(st, log_durable, NULL);
    stage_ok(a, "stored");
    stage_ok(b, "stored");
    ck_assert_uint_eq(st_pending(st), 2);
    /* written, not visible, nothing reported durable */
    ck_assert(!exists("000_" ID_A ".txt") && !exists("000_" ID_A ".json"));
    ck_assert(!exists("001_" ID_B ".txt") && !exists("001_" ID_B ".json"));
    ck_assert_uint_eq(count_entries(".nl-tmp."), 4);
    ck_assert_str_eq(durable_log, "");
    sync_ok();
    ck_assert_str_eq(durable_log, "0123:stored;fedc:stored;");
    assert_stored(0, a, NULL);
    assert_stored(1, b, NULL);
    /* an empty batch syncs to nothing */
    sync_ok();
    ck_assert_str_eq(durable_log, "0123:stored;fedc:stored;");
    json_decref(a);
    json_decref(b);
}
END_TEST

START_TEST(test_batch_reads_see_batch)
{
    /* the same record twice, then a new version of it, then an update of
     * that version's sidecar, all in one batch */
    json_t *a = make_rec(ID_A, "fetch", "Title A", "Text A.");
    json_t *a2 = make_rec(ID_A, "fetch", "Title A", "Text A, corrected.");
    json_t *a2t = make_rec(ID_A, "fetch", "Title A", "Text A, corrected.");
    json_t *side;

    json_object_set_new(a2t, "lang", json_string("en"));
    open_store();
    durable_log[0] = '\0';
    st_on_durable(st, log_durable, NULL);
    ck_assert_int_eq(stage_ok(a, "stored"), 1);
    ck_assert_int_eq(stage_ok(a, "unchanged"), 1);
    ck_assert_int_eq(stage_ok(a2, "new_version"), 2);
    ck_assert_int_eq(stage_ok(a2t, "updated"), 2);
    ck_assert_int_eq(stage_ok(a2t, "unchanged"), 2);
    ck_assert_int_eq(stage_ok(a, "unchanged"), 1);
    /* the superseded sidecar's temp file is gone: 2 texts, 2 sidecars */
    ck_assert_uint_eq(count_entries(".nl-tmp."), 4);
    sync_ok();
    ck_assert_str_eq(durable_log, "0123:stored;0123:unchanged;0123:new_version;0123:updated;"
                                  "0123:unchanged;0123:unchanged;");
    assert_stored(0, a, NULL);
    assert_stored_v(0, a2t, NULL, 2);
    side = load_sidecar_v(0, ID_A, 2);
    ck_assert_str_eq(nl_record_str(json_object_get(side, "record"), "lang"), "en");
    ck_assert_uint_eq(json_array_size(json_object_get(side, "versions")), 2);
    json_decref(side);
    ck_assert_uint_eq(count_entries(""), 4);
    /* and after a reopen, the same again is unchanged */
    reopen_store();
    put_ok_v(a2t, NULL, "unchanged", 0, 2);
    json_decref(a);
    json_decref(a2);
    json_decref(a2t);
}
END_TEST

START_TEST(test_batch_close_discards)
{
    /* A batch never synced (the daemon died, or exited with its offsets
     * not stored) leaves nothing: its records come again. */
    json_t *a = make_rec(ID_A, "fetch", "Title A", "Text A.");
    json_t *b = make_rec(ID_B, "fetch", "Title B", "Text B.");

    open_store();
    put_ok(a, NULL, "stored", 0);
    stage_ok(b, "stored");
    ck_assert_uint_eq(count_entries(".nl-tmp."), 2);
    st_close(st);
    st = NULL;
    ck_assert_uint_eq(count_entries(""), 2);
    open_store();
    ck_assert_uint_eq(st_count(st), 1);
    put_ok(a, NULL, "unchanged", 0);
    put_ok(b, NULL, "stored", 1);
    json_decref(a);
    json_decref(b);
}
END_TEST

START_TEST(test_batch_crash_leaves_temp_files)
{
    /* A writer killed before its sync: temp files only, removed at the
     * next open; the re-delivered records are stored once. */
    json_t *a = make_rec(ID_A, "fetch", "Title A", "Text A.");
    json_t *b = make_rec(ID_B, "fetch", "Title B", "Text B.");
    pid_t pid;
    int status;

    open_store();
    put_ok(a, NULL, "stored", 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        json_t *rep = NULL;
        json_t *a2 = make_rec(ID_A, "fetch", "Title A", "Text A, corrected.");
        int rc = st_stage(st, b, NULL, &rep, errbuf, sizeof(errbuf));
        json_decref(rep);
        rc = rc ? rc : st_stage(st, a2, NULL, &rep, errbuf, sizeof(errbuf));
        _exit(rc == 0 ? 0 : 1); /* no st_close: as if killed */
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ck_assert_uint_eq(count_entries(".nl-tmp."), 4);
    ck_assert_uint_eq(count_entries(""), 6);
    reopen_store();
    ck_assert_uint_eq(count_entries(".nl-tmp."), 0);
    ck_assert_uint_eq(count_entries(""), 2);
    put_ok(b, NULL, "stored", 1);
    put_ok(a, NULL, "unchanged", 0);
    json_decref(a);
    json_decref(b);
}
END_TEST

START_TEST(test_batch_disk_error_keeps_batch)
{
    /* A record that cannot be written leaves the batch as it was: the
     * records before it become durable, it is not there, and its retry
     * is stored in the next batch. */
    char text[400];
    json_t *a = make_rec(ID_A, "fetch", "Title A", "Text A.");
    json_t *b;
    struct rlimit saved, rl;
    json_t *rep = NULL;
    int rc, set_rc, restore_rc;

    memset(text, 'x', sizeof(text) - 1);
    text[sizeof(text) - 1] = '\0';
    b = make_rec(ID_B, "fetch", "Title B", text);
    open_store();
    stage_ok(a, "stored");
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &saved), 0);
    ck_assert(signal(SIGXFSZ, SIG_IGN) != SIG_ERR);
    rl = saved;
    rl.rlim_cur = 64;
    set_rc = setrlimit(RLIMIT_FSIZE, &rl);
    rc = st_stage(st, b, NULL, &rep, errbuf, sizeof(errbuf));
    restore_rc = setrlimit(RLIMIT_FSIZE, &saved);
    ck_assert_int_eq(set_rc, 0);
    ck_assert_int_eq(restore_rc, 0);
    ck_assert_msg(rc == NL_ETRANSIENT, "rc %d, %s", rc, errbuf);
    ck_assert_ptr_null(rep);
    ck_assert_errbuf_has(strerror(EFBIG));
    ck_assert_uint_eq(st_pending(st), 1);
    ck_assert_uint_eq(count_entries(".nl-tmp."), 2);
    sync_ok();
    assert_stored(0, a, NULL);
    ck_assert_uint_eq(count_with_id(ID_B), 0);
    stage_ok(b, "stored");
    sync_ok();
    assert_stored(1, b, NULL);
    ck_assert_uint_eq(count_entries(""), 4);
    json_decref(a);
    json_decref(b);
}
END_TEST

START_TEST(test_batch_full_syncs_itself)
{
    /* more records than a batch holds: the store syncs on its own, and
     * every record is reported durable once */
    char id[17];
    size_t n = 1100;

    open_store();
    durable_log[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        json_t *r;
        snprintf(id, sizeof(id), "%016zx", i + 1);
        r = make_rec(id, "fetch", "T", "x");
        stage_ok(r, "stored");
        json_decref(r);
    }
    ck_assert_uint_lt(st_pending(st), n);
    ck_assert_uint_eq(count_entries("") - count_entries(".nl-tmp."), 2 * (n - st_pending(st)));
    sync_ok();
    ck_assert_uint_eq(count_entries(""), 2 * n);
}
END_TEST

static Suite *store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *tc;

    tc = tcase_create("open");
    tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
    tcase_add_checked_fixture(tc, store_setup, store_teardown);
    tcase_add_test(tc, test_open_creates_dir);
    tcase_add_test(tc, test_open_errors);
    tcase_add_test(tc, test_open_indexes_existing);
    tcase_add_test(tc, test_open_ignores_space_padded_names);
    tcase_add_test(tc, test_open_numbering_past_999);
    tcase_add_test(tc, test_open_many);
    suite_add_tcase(s, tc);

    tc = tcase_create("put");
    tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
    tcase_add_checked_fixture(tc, store_setup, store_teardown);
    tcase_add_test(tc, test_put_new);
    tcase_add_test(tc, test_put_trace);
    tcase_add_test(tc, test_put_empty_title_and_text);
    tcase_add_test(tc, test_put_unchanged);
    tcase_add_test(tc, test_put_updated);
    tcase_add_test(tc, test_put_versions_reopen);
    tcase_add_test(tc, test_put_provenance);
    tcase_add_test(tc, test_put_replay_keeps_seed);
    tcase_add_test(tc, test_put_replay_new_document);
    tcase_add_test(tc, test_reopen);
    suite_add_tcase(s, tc);

    tc = tcase_create("disk_errors");
    tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
    tcase_add_checked_fixture(tc, store_setup, store_teardown);
    tcase_add_test(tc, test_disk_error_text_file);
    tcase_add_test(tc, test_disk_error_update_keeps_old);
    tcase_add_test(tc, test_disk_error_sidecar);
    suite_add_tcase(s, tc);

    tc = tcase_create("batch");
    /* test_batch_full_syncs_itself creates 2,200 files: on a slow /tmp
     * (~1 ms a file create) that passes Check's 4 s default */
    tcase_set_timeout(tc, 50);
    tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
    tcase_add_checked_fixture(tc, store_setup, store_teardown);
    tcase_add_test(tc, test_batch_visible_after_sync);
    tcase_add_test(tc, test_batch_reads_see_batch);
    tcase_add_test(tc, test_batch_close_discards);
    tcase_add_test(tc, test_batch_crash_leaves_temp_files);
    tcase_add_test(tc, test_batch_disk_error_keeps_batch);
    tcase_add_test(tc, test_batch_full_syncs_itself);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(store_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
