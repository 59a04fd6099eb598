#include "index.h"

#include "nl_buf.h"

#include "nl_err.h"
#include "nl_log.h"
#include "nl_record.h"
#include "nl_text.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define IX_SCHEMA "1"

struct nl_index {
    sqlite3 *db;
    char *dir;
    char *path;
};

static const char schema_sql[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;"
    "CREATE TABLE documents(doc INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL,"
    " version INTEGER NOT NULL, file TEXT NOT NULL, sidecar TEXT NOT NULL, title TEXT,"
    " source TEXT, published TEXT, day TEXT NOT NULL, stored_at TEXT, content_hash TEXT,"
    " latest INTEGER NOT NULL DEFAULT 1, UNIQUE(id, version));"
    "CREATE INDEX documents_day ON documents(latest, day);"
    "CREATE TABLE mentions(actor TEXT NOT NULL, day TEXT NOT NULL, doc INTEGER NOT NULL,"
    " count INTEGER NOT NULL, PRIMARY KEY(actor, day, doc)) WITHOUT ROWID;"
    "CREATE INDEX mentions_doc ON mentions(doc);"
    "CREATE TABLE events(event TEXT NOT NULL, day TEXT NOT NULL, doc INTEGER NOT NULL,"
    " count INTEGER NOT NULL, PRIMARY KEY(event, day, doc)) WITHOUT ROWID;"
    "CREATE INDEX events_doc ON events(doc);"
    "CREATE TABLE relations(a TEXT NOT NULL, b TEXT NOT NULL, day TEXT NOT NULL,"
    " doc INTEGER NOT NULL, count INTEGER NOT NULL, PRIMARY KEY(a, b, day, doc)) WITHOUT ROWID;"
    "CREATE INDEX relations_doc ON relations(doc);"
    "CREATE TABLE actors(id TEXT PRIMARY KEY, name TEXT, kind TEXT) WITHOUT ROWID;"
    "CREATE TABLE event_ids(id TEXT PRIMARY KEY, label TEXT, kind TEXT) WITHOUT ROWID;"
    /* contentless: the text is in the files already */
    "CREATE VIRTUAL TABLE fts USING fts5(title, text, content='');"
    "INSERT INTO meta VALUES('schema', '" IX_SCHEMA "'), ('unindexable', '0');";

static int db_err(nl_index *ix, char *errbuf, size_t errlen, const char *what)
{
    int code = sqlite3_errcode(ix->db);
    /* busy, locked, full, I/O: worth a retry; the files are safe anyway */
    return nl_errf(errbuf, errlen, code == SQLITE_NOMEM ? NL_ENOMEM : NL_ETRANSIENT,
                   "index %s: %s: %s", ix->path, what, sqlite3_errmsg(ix->db));
}

static int exec(nl_index *ix, const char *sql, char *errbuf, size_t errlen)
{
    if (sqlite3_exec(ix->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
        return db_err(ix, errbuf, errlen, sql);
    }
    return 0;
}

/* Parses "NNN_<16 hex>.json" or "NNN_<16 hex>.v<k>.json" (the store's
 * sidecar names); 1 on a match. */
static int sidecar_name(const char *name)
{
    size_t digits = strspn(name, "0123456789");
    const char *p = name + digits;

    if (digits == 0 || *p != '_') {
        return 0;
    }
    p++;
    for (int i = 0; i < 16; i++) {
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f'))) {
            return 0;
        }
    }
    p += 16;
    if (p[0] == '.' && p[1] == 'v' && p[2] >= '1' && p[2] <= '9') {
        size_t n = strspn(p + 2, "0123456789");
        if (n == 1 && p[2] == '1') {
            return 0;
        }
        p += 2 + n;
    }
    return strcmp(p, ".json") == 0;
}

static long count_sidecars(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    long n = 0;

    if (d == NULL) {
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        n += sidecar_name(de->d_name);
    }
    closedir(d);
    return n;
}

static int ix_valid_day_prefix(const char *s)
{
    char buf[11];
    if (s == NULL || strlen(s) < 10) {
        return 0;
    }
    memcpy(buf, s, 10);
    buf[10] = '\0';
    return ix_valid_date(buf);
}

int ix_valid_date(const char *s)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, m, d;

    if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-') {
        return 0;
    }
    for (int i = 0; i < 10; i++) {
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) {
            return 0;
        }
    }
    y = atoi(s);
    m = atoi(s + 5);
    d = atoi(s + 8);
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1]) {
        return 0;
    }
    if (m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) {
        return 0;
    }
    return 1;
}

static int bind_text(sqlite3_stmt *s, int i, const char *v)
{
    return v != NULL ? sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(s, i);
}

/* Runs a prepared statement that returns no rows, then finalizes it. */
static int step_done(nl_index *ix, sqlite3_stmt *s, char *errbuf, size_t errlen, const char *what)
{
    int rc = sqlite3_step(s);
    int ret = rc == SQLITE_DONE ? 0 : db_err(ix, errbuf, errlen, what);
    sqlite3_finalize(s);
    return ret;
}

static int prepare(nl_index *ix, const char *sql, sqlite3_stmt **s, char *errbuf, size_t errlen)
{
    if (sqlite3_prepare_v2(ix->db, sql, -1, s, NULL) != SQLITE_OK) {
        *s = NULL;
        return db_err(ix, errbuf, errlen, "prepare");
    }
    return 0;
}

/* Inserts (id text, day, doc, count) rows for each entry of arr that has a
 * string "id" and an integer "count"; also records the id in the names
 * table. */
static int put_tags(nl_index *ix, const json_t *arr, const char *table, const char *names_sql,
                    const char *day, sqlite3_int64 doc, char *errbuf, size_t errlen)
{
    char sql[128];
    sqlite3_stmt *s = NULL, *n = NULL;
    size_t i;
    json_t *e;
    int rc;

    snprintf(sql, sizeof(sql), "INSERT OR REPLACE INTO %s VALUES(?1, ?2, ?3, ?4)", table);
    rc = prepare(ix, sql, &s, errbuf, errlen);
    rc = rc ? rc : prepare(ix, names_sql, &n, errbuf, errlen);
    json_array_foreach(arr, i, e)
    {
        const char *id = nl_record_str(e, "id");
        if (rc != 0 || id == NULL) {
            continue;
        }
        sqlite3_reset(s);
        bind_text(s, 1, id);
        bind_text(s, 2, day);
        sqlite3_bind_int64(s, 3, doc);
        sqlite3_bind_int64(s, 4, json_integer_value(json_object_get(e, "count")));
        if (sqlite3_step(s) != SQLITE_DONE) {
            rc = db_err(ix, errbuf, errlen, table);
            continue;
        }
        sqlite3_reset(n);
        bind_text(n, 1, id);
        bind_text(n, 2,
                  nl_record_str(e, "name") ? nl_record_str(e, "name") : nl_record_str(e, "label"));
        bind_text(n, 3, nl_record_str(e, "kind"));
        if (sqlite3_step(n) != SQLITE_DONE) {
            rc = db_err(ix, errbuf, errlen, "names");
        }
    }
    sqlite3_finalize(s);
    sqlite3_finalize(n);
    return rc;
}

static int put_relations(nl_index *ix, const json_t *arr, const char *day, sqlite3_int64 doc,
                         char *errbuf, size_t errlen)
{
    sqlite3_stmt *s = NULL;
    size_t i;
    json_t *e;
    int rc = prepare(ix, "INSERT OR REPLACE INTO relations VALUES(?1, ?2, ?3, ?4, ?5)", &s, errbuf,
                     errlen);

    json_array_foreach(arr, i, e)
    {
        json_t *pair = json_object_get(e, "actors");
        const char *a = json_string_value(json_array_get(pair, 0));
        const char *b = json_string_value(json_array_get(pair, 1));
        if (rc != 0 || a == NULL || b == NULL) {
            continue;
        }
        if (strcmp(a, b) > 0) {
            const char *t = a;
            a = b;
            b = t;
        }
        sqlite3_reset(s);
        bind_text(s, 1, a);
        bind_text(s, 2, b);
        bind_text(s, 3, day);
        sqlite3_bind_int64(s, 4, doc);
        sqlite3_bind_int64(s, 5, json_integer_value(json_object_get(e, "count")));
        if (sqlite3_step(s) != SQLITE_DONE) {
            rc = db_err(ix, errbuf, errlen, "relations");
        }
    }
    sqlite3_finalize(s);
    return rc;
}

/* ix_put without its transaction. */
static int put_locked(nl_index *ix, const json_t *side, const char *text, size_t text_len,
                      char *errbuf, size_t errlen)
{
    const json_t *rec = json_object_get(side, "record");
    const json_t *tags = json_object_get(rec, "tags");
    const char *id = nl_record_str(side, "id");
    const char *file = nl_record_str(side, "file");
    const char *hash = nl_record_str(side, "content_hash");
    const char *published = nl_record_str(json_object_get(rec, "published"), "value");
    json_int_t ver = json_integer_value(json_object_get(side, "version"));
    char day[11] = "", sidecar[96];
    sqlite3_stmt *s = NULL;
    sqlite3_int64 doc = 0;
    int same_content = 0;
    size_t flen;
    int rc;

    if (id == NULL || file == NULL || !json_is_object(rec) || (flen = strlen(file)) < 5 ||
        flen >= sizeof(sidecar) || strcmp(file + flen - 4, ".txt") != 0) {
        return nl_errf(errbuf, errlen, NL_EINVAL, "index: not a sidecar of the store");
    }
    if (ver < 1) {
        ver = 1; /* a sidecar from before versions */
    }
    snprintf(sidecar, sizeof(sidecar), "%.*s.json", (int)(flen - 4), file);
    if (ix_valid_day_prefix(published)) {
        memcpy(day, published, 10);
    }

    /* the version's row: kept (with its full-text entry) when the content
     * is the same, so a new sidecar of the same text costs no FTS work */
    rc = prepare(ix, "SELECT doc, content_hash FROM documents WHERE id = ?1 AND version = ?2", &s,
                 errbuf, errlen);
    if (rc != 0) {
        return rc;
    }
    bind_text(s, 1, id);
    sqlite3_bind_int64(s, 2, ver);
    if (sqlite3_step(s) == SQLITE_ROW) {
        const char *old = (const char *)sqlite3_column_text(s, 1);
        doc = sqlite3_column_int64(s, 0);
        same_content = hash != NULL && old != NULL && strcmp(hash, old) == 0;
    }
    sqlite3_finalize(s);
    if (doc != 0) {
        static const char *const del[] = {"DELETE FROM mentions WHERE doc = ?1",
                                          "DELETE FROM events WHERE doc = ?1",
                                          "DELETE FROM relations WHERE doc = ?1", NULL};
        for (int i = 0; del[i] != NULL && rc == 0; i++) {
            rc = prepare(ix, del[i], &s, errbuf, errlen);
            if (rc == 0) {
                sqlite3_bind_int64(s, 1, doc);
                rc = step_done(ix, s, errbuf, errlen, del[i]);
            }
        }
        if (rc == 0 && !same_content) {
            /* its old full-text entry cannot be deleted from a contentless
             * table without the old text; a new row number leaves it
             * matching nothing, until the next rebuild drops it */
            rc = prepare(ix, "DELETE FROM documents WHERE doc = ?1", &s, errbuf, errlen);
            if (rc == 0) {
                sqlite3_bind_int64(s, 1, doc);
                rc = step_done(ix, s, errbuf, errlen, "delete document");
            }
            doc = 0;
        }
        if (rc != 0) {
            return rc;
        }
    }
    if (doc != 0) {
        rc = prepare(ix,
                     "UPDATE documents SET file = ?2, sidecar = ?3, title = ?4, source = ?5,"
                     " published = ?6, day = ?7, stored_at = ?8, content_hash = ?9 WHERE doc = ?1",
                     &s, errbuf, errlen);
        if (rc == 0) {
            sqlite3_bind_int64(s, 1, doc);
        }
    } else {
        rc = prepare(ix,
                     "INSERT INTO documents(id, version, file, sidecar, title, source, published,"
                     " day, stored_at, content_hash) VALUES(?10, ?11, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
                     " ?9)",
                     &s, errbuf, errlen);
        if (rc == 0) {
            bind_text(s, 10, id);
            sqlite3_bind_int64(s, 11, ver);
        }
    }
    if (rc != 0) {
        return rc;
    }
    bind_text(s, 2, file);
    bind_text(s, 3, sidecar);
    bind_text(s, 4, nl_record_str(rec, "title"));
    bind_text(s, 5, nl_record_str(rec, "source"));
    bind_text(s, 6, published);
    bind_text(s, 7, day);
    bind_text(s, 8, nl_record_str(side, "stored_at"));
    bind_text(s, 9, hash);
    rc = step_done(ix, s, errbuf, errlen, "document");
    if (rc != 0) {
        return rc;
    }
    if (doc == 0) {
        doc = sqlite3_last_insert_rowid(ix->db);
        rc = prepare(ix, "INSERT INTO fts(rowid, title, text) VALUES(?1, ?2, ?3)", &s, errbuf,
                     errlen);
        if (rc != 0) {
            return rc;
        }
        sqlite3_bind_int64(s, 1, doc);
        bind_text(s, 2, nl_record_str(rec, "title"));
        sqlite3_bind_text(s, 3, text != NULL ? text : "", (int)text_len, SQLITE_STATIC);
        rc = step_done(ix, s, errbuf, errlen, "fts");
        if (rc != 0) {
            return rc;
        }
    }
    rc = put_tags(ix, json_object_get(tags, "actors"), "mentions",
                  "INSERT OR IGNORE INTO actors VALUES(?1, ?2, ?3)", day, doc, errbuf, errlen);
    rc = rc ? rc
            : put_tags(ix, json_object_get(tags, "events"), "events",
                       "INSERT OR IGNORE INTO event_ids VALUES(?1, ?2, ?3)", day, doc, errbuf,
                       errlen);
    rc = rc ? rc : put_relations(ix, json_object_get(tags, "relations"), day, doc, errbuf, errlen);
    if (rc != 0) {
        return rc;
    }
    rc = prepare(ix,
                 "UPDATE documents SET latest = (version = (SELECT max(version) FROM documents"
                 " WHERE id = ?1)) WHERE id = ?1",
                 &s, errbuf, errlen);
    if (rc != 0) {
        return rc;
    }
    bind_text(s, 1, id);
    return step_done(ix, s, errbuf, errlen, "latest");
}

int ix_put(nl_index *ix, const json_t *sidecar, const char *text, size_t text_len, char *errbuf,
           size_t errlen)
{
    int rc = exec(ix, "BEGIN IMMEDIATE", errbuf, errlen);
    if (rc != 0) {
        return rc;
    }
    rc = put_locked(ix, sidecar, text, text_len, errbuf, errlen);
    if (rc == 0) {
        rc = exec(ix, "COMMIT", errbuf, errlen);
    }
    if (rc != 0) {
        sqlite3_exec(ix->db, "ROLLBACK", NULL, NULL, NULL);
    }
    return rc;
}

int ix_put_batch(nl_index *ix, const ix_item *items, size_t n, char *errbuf, size_t errlen)
{
    int rc;

    if (n == 0) {
        return 0;
    }
    rc = exec(ix, "BEGIN IMMEDIATE", errbuf, errlen);
    if (rc != 0) {
        return rc;
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = put_locked(ix, items[i].sidecar, items[i].text, items[i].text_len, errbuf, errlen);
    }
    if (rc == 0) {
        rc = exec(ix, "COMMIT", errbuf, errlen);
    }
    if (rc != 0) {
        sqlite3_exec(ix->db, "ROLLBACK", NULL, NULL, NULL);
    }
    return rc;
}

int ix_has(nl_index *ix, const json_t *sidecar)
{
    sqlite3_stmt *s;
    json_int_t ver = json_integer_value(json_object_get(sidecar, "version"));
    int has;

    if (sqlite3_prepare_v2(ix->db,
                           "SELECT 1 FROM documents WHERE id = ?1 AND version = ?2"
                           " AND stored_at IS ?3",
                           -1, &s, NULL) != SQLITE_OK) {
        return 0;
    }
    bind_text(s, 1, nl_record_str(sidecar, "id"));
    sqlite3_bind_int64(s, 2, ver < 1 ? 1 : ver);
    bind_text(s, 3, nl_record_str(sidecar, "stored_at"));
    has = sqlite3_step(s) == SQLITE_ROW;
    sqlite3_finalize(s);
    return has;
}

long ix_count(nl_index *ix)
{
    sqlite3_stmt *s;
    long n = -1;

    if (sqlite3_prepare_v2(ix->db, "SELECT count(*) FROM documents", -1, &s, NULL) != SQLITE_OK) {
        return -1;
    }
    if (sqlite3_step(s) == SQLITE_ROW) {
        n = (long)sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    return n;
}

/* Indexes one sidecar file; 1 if indexed, 0 if it is not usable (not
 * JSON, not the store's), or an error class. */
static int index_file(nl_index *ix, int dirfd, const char *name, char *errbuf, size_t errlen)
{
    size_t len, tlen = 0;
    char *s = nl_read_at(dirfd, name, &len);
    json_t *side = s != NULL ? json_loadb(s, len, 0, NULL) : NULL;
    const char *file = side != NULL ? nl_record_str(side, "file") : NULL;
    char *txt = file != NULL && strchr(file, '/') == NULL ? nl_read_at(dirfd, file, &tlen) : NULL;
    json_int_t off = json_integer_value(json_object_get(side, "text_offset"));
    json_int_t n = json_integer_value(json_object_get(side, "text_bytes"));
    const char *text = "";
    size_t text_len = 0;
    int rc = 0;

    free(s);
    if (txt != NULL && off >= 0 && n >= 0 && (size_t)(off + n) <= tlen) {
        text = txt + off;
        text_len = (size_t)n;
    } else if (txt != NULL) {
        text = txt; /* a replayed file edited since: all of it */
        text_len = tlen;
    }
    if (side != NULL && txt != NULL) {
        rc = put_locked(ix, side, text, text_len, errbuf, errlen);
        rc = rc == 0 ? 1 : rc == NL_EINVAL ? 0 : rc;
    }
    if (rc == 0) {
        nl_warn("index_skipped", "file=%s reason=%s", nl_log_q(name),
                side == NULL  ? "not_json"
                : txt == NULL ? "no_text_file"
                              : "not_a_sidecar");
    }
    json_decref(side);
    free(txt);
    return rc;
}

int ix_rebuild(nl_index *ix, size_t *nversions, char *errbuf, size_t errlen)
{
    int dirfd = open(ix->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = dirfd >= 0 ? fdopendir(dirfd) : NULL;
    struct dirent *de;
    size_t done = 0, skipped = 0;
    char sql[96];
    int rc;

    if (d == NULL) {
        rc = nl_errf(errbuf, errlen, NL_EIO, "corpus %s: %s", ix->dir, strerror(errno));
        if (dirfd >= 0) {
            close(dirfd);
        }
        return rc;
    }
    rc = exec(ix,
              "BEGIN IMMEDIATE; DELETE FROM documents; DELETE FROM mentions; DELETE FROM events;"
              " DELETE FROM relations; DELETE FROM actors; DELETE FROM event_ids;"
              " INSERT INTO fts(fts) VALUES('delete-all');",
              errbuf, errlen);
    while (rc == 0 && (de = readdir(d)) != NULL) {
        int r;
        if (!sidecar_name(de->d_name)) {
            continue;
        }
        r = index_file(ix, dirfd, de->d_name, errbuf, errlen);
        if (r < 0) {
            rc = r;
        } else if (r == 1) {
            done++;
        } else {
            skipped++;
        }
    }
    closedir(d);
    if (rc == 0) {
        snprintf(sql, sizeof(sql), "UPDATE meta SET value = '%zu' WHERE key = 'unindexable'",
                 skipped);
        rc = exec(ix, sql, errbuf, errlen);
    }
    if (rc == 0) {
        rc = exec(ix, "COMMIT", errbuf, errlen);
    }
    if (rc != 0) {
        sqlite3_exec(ix->db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    if (nversions != NULL) {
        *nversions = done;
    }
    return 0;
}

/* Opens the database file and sets it up; creates the schema in an empty
 * file. 0, or an error with the reason in errbuf. */
static int db_open(nl_index *ix, int *created, char *errbuf, size_t errlen)
{
    sqlite3_stmt *s = NULL;
    int has_schema = 0;
    int rc;

    *created = 0;
    if (sqlite3_open_v2(ix->path, &ix->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        return db_err(ix, errbuf, errlen, "open");
    }
    sqlite3_busy_timeout(ix->db, 10000);
    /* WAL: readers (queries) never wait for the sink. synchronous=NORMAL:
     * a power cut may lose the last commits but never corrupts, and what
     * it loses is rebuilt from the files (which are fsynced). */
    rc = exec(ix, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", errbuf, errlen);
    if (rc != 0) {
        return rc;
    }
    if (sqlite3_prepare_v2(ix->db, "SELECT count(*) FROM sqlite_master WHERE name = 'meta'", -1, &s,
                           NULL) != SQLITE_OK ||
        sqlite3_step(s) != SQLITE_ROW) {
        sqlite3_finalize(s);
        return db_err(ix, errbuf, errlen, "read schema");
    }
    has_schema = sqlite3_column_int(s, 0) > 0;
    sqlite3_finalize(s);
    if (!has_schema) {
        *created = 1;
        rc = exec(ix, "BEGIN", errbuf, errlen);
        rc = rc ? rc : exec(ix, schema_sql, errbuf, errlen);
        rc = rc ? rc : exec(ix, "COMMIT", errbuf, errlen);
        return rc;
    }
    if (sqlite3_prepare_v2(ix->db, "SELECT value FROM meta WHERE key = 'schema'", -1, &s, NULL) !=
            SQLITE_OK ||
        sqlite3_step(s) != SQLITE_ROW ||
        strcmp((const char *)sqlite3_column_text(s, 0), IX_SCHEMA) != 0) {
        sqlite3_finalize(s);
        return nl_errf(errbuf, errlen, NL_EIO, "index %s: not schema " IX_SCHEMA, ix->path);
    }
    sqlite3_finalize(s);
    return 0;
}

static void db_close(nl_index *ix)
{
    sqlite3_close(ix->db);
    ix->db = NULL;
}

/* Deletes the database and its WAL and shared-memory files. */
static void db_unlink(nl_index *ix)
{
    char p[4096];
    unlink(ix->path);
    snprintf(p, sizeof(p), "%s-wal", ix->path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", ix->path);
    unlink(p);
}

/* Versions indexed plus sidecars that could not be, or -1 if unreadable
 * (a corrupt file often reads fine until a table is walked: count(*)
 * walks the documents table). */
static long indexed_total(nl_index *ix)
{
    sqlite3_stmt *s;
    long n = -1;

    if (sqlite3_prepare_v2(ix->db,
                           "SELECT (SELECT count(*) FROM documents) + (SELECT CAST(value AS"
                           " INTEGER) FROM meta WHERE key = 'unindexable')",
                           -1, &s, NULL) != SQLITE_OK) {
        return -1;
    }
    if (sqlite3_step(s) == SQLITE_ROW) {
        n = (long)sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    return n;
}

static int rebuild_logged(nl_index *ix, const char *reason, const char *detail, char *errbuf,
                          size_t errlen)
{
    size_t n = 0;
    int64_t t0 = nl_now_ms();
    int rc = ix_rebuild(ix, &n, errbuf, errlen);

    if (rc != 0) {
        return rc;
    }
    nl_warn("index_rebuilt", "index=%s reason=%s%s%s versions=%zu ms=%lld", nl_log_q(ix->path),
            reason, detail != NULL ? " detail=" : "", detail != NULL ? nl_log_q(detail) : "", n,
            (long long)(nl_now_ms() - t0));
    return 0;
}

int ix_open(const char *dir, int mode, nl_index **out, char *errbuf, size_t errlen)
{
    nl_index *ix = calloc(1, sizeof(*ix));
    struct stat sb;
    char why[512];
    int missing, created = 0;
    long files, indexed;
    int rc;

    *out = NULL;
    if (ix == NULL || (ix->dir = strdup(dir)) == NULL ||
        (ix->path = malloc(strlen(dir) + sizeof("/" IX_FILE))) == NULL) {
        ix_close(ix);
        return nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
    }
    sprintf(ix->path, "%s/" IX_FILE, dir);
    missing = stat(ix->path, &sb) != 0;
    rc = db_open(ix, &created, why, sizeof(why));
    if (rc != 0 && !missing) {
        /* unreadable or corrupt: it is only derived, so start afresh */
        db_close(ix);
        db_unlink(ix);
        rc = db_open(ix, &created, errbuf, errlen);
        if (rc == 0) {
            rc = rebuild_logged(ix, "corrupt", why, errbuf, errlen);
        }
    } else if (rc != 0) {
        snprintf(errbuf, errlen, "%s", why);
    } else if (created) {
        rc = rebuild_logged(ix, missing ? "missing" : "empty", NULL, errbuf, errlen);
    } else {
        files = count_sidecars(dir);
        indexed = indexed_total(ix);
        if (indexed < 0) {
            snprintf(why, sizeof(why), "%s", sqlite3_errmsg(ix->db));
            db_close(ix);
            db_unlink(ix);
            rc = db_open(ix, &created, errbuf, errlen);
            if (rc == 0) {
                rc = rebuild_logged(ix, "corrupt", why, errbuf, errlen);
            }
        } else if (files != indexed && mode == IX_OPEN_REPAIR) {
            snprintf(why, sizeof(why), "sidecars=%ld indexed=%ld", files, indexed);
            rc = rebuild_logged(ix, "out_of_step", why, errbuf, errlen);
        } else if (files != indexed) {
            nl_warn("index_behind", "index=%s sidecars=%ld indexed=%ld hint=%s", nl_log_q(ix->path),
                    files, indexed,
                    nl_log_q("a running sink catches up; else run newsline reindex"));
        }
    }
    if (rc != 0) {
        ix_close(ix);
        return rc;
    }
    *out = ix;
    return 0;
}

void ix_close(nl_index *ix)
{
    if (ix == NULL) {
        return;
    }
    sqlite3_close(ix->db);
    free(ix->dir);
    free(ix->path);
    free(ix);
}

/* ---- queries ------------------------------------------------------------------ */

static int known(nl_index *ix, const char *table, const char *id, const json_t *also)
{
    char sql[96];
    sqlite3_stmt *s;
    size_t i;
    json_t *e;
    int found = 0;

    json_array_foreach(also, i, e)
    {
        if (json_is_string(e) && strcmp(json_string_value(e), id) == 0) {
            return 1;
        }
    }
    snprintf(sql, sizeof(sql), "SELECT 1 FROM %s WHERE id = ?1", table);
    if (sqlite3_prepare_v2(ix->db, sql, -1, &s, NULL) != SQLITE_OK) {
        return 0;
    }
    bind_text(s, 1, id);
    found = sqlite3_step(s) == SQLITE_ROW;
    sqlite3_finalize(s);
    return found;
}

int ix_check(nl_index *ix, const ix_query *q, const json_t *also_actors, const json_t *also_events,
             char *errbuf, size_t errlen)
{
    sqlite3_stmt *s;

    for (size_t i = 0; i < q->nactors; i++) {
        if (!known(ix, "actors", q->actors[i], also_actors)) {
            return nl_errf(errbuf, errlen, NL_EINVAL,
                           "--actor %s: unknown actor id (not in the watchlist or the index)",
                           q->actors[i]);
        }
    }
    if (q->event != NULL && !known(ix, "event_ids", q->event, also_events)) {
        return nl_errf(errbuf, errlen, NL_EINVAL,
                       "--event %s: unknown event id (not in the watchlist or the index)",
                       q->event);
    }
    if (q->since != NULL && !ix_valid_date(q->since)) {
        return nl_errf(errbuf, errlen, NL_EINVAL, "--since %s: not a date (YYYY-MM-DD)", q->since);
    }
    if (q->until != NULL && !ix_valid_date(q->until)) {
        return nl_errf(errbuf, errlen, NL_EINVAL, "--until %s: not a date (YYYY-MM-DD)", q->until);
    }
    if (q->since != NULL && q->until != NULL && strcmp(q->since, q->until) > 0) {
        return nl_errf(errbuf, errlen, NL_EINVAL, "--since %s is after --until %s", q->since,
                       q->until);
    }
    if (q->limit < 0) {
        return nl_errf(errbuf, errlen, NL_EINVAL, "--limit %ld: must be 0 or more", q->limit);
    }
    if (q->text != NULL) {
        /* FTS5 reports a syntax error when the statement first runs */
        int rc;
        if (sqlite3_prepare_v2(ix->db, "SELECT rowid FROM fts WHERE fts MATCH ?1 LIMIT 1", -1, &s,
                               NULL) != SQLITE_OK) {
            return db_err(ix, errbuf, errlen, "prepare");
        }
        bind_text(s, 1, q->text);
        rc = sqlite3_step(s);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            rc = nl_errf(errbuf, errlen, NL_EINVAL, "--text %s: %s", q->text,
                         sqlite3_errmsg(ix->db));
            sqlite3_finalize(s);
            return rc;
        }
        sqlite3_finalize(s);
    }
    return 0;
}

/* A query under construction: SQL text and its string parameters. */
struct qb {
    char sql[4096];
    size_t len;
    const char *params[2 * IX_MAX_ACTORS + 8];
    int np;
};

static void qb_add(struct qb *b, const char *sql)
{
    int n = snprintf(b->sql + b->len, sizeof(b->sql) - b->len, "%s", sql);
    if (n > 0) {
        b->len += (size_t)n;
        if (b->len >= sizeof(b->sql)) {
            b->len = sizeof(b->sql) - 1;
        }
    }
}

static void qb_param(struct qb *b, const char *sql, const char *value)
{
    qb_add(b, sql);
    b->params[b->np++] = value;
}

/* SELECT <cols> FROM ... WHERE <every condition of q>: with actors, the
 * first actor's mentions (actor, day) drive the scan, newest first, so an
 * actor-and-date query reads an index range. */
static void build_filter(struct qb *b, const ix_query *q, const char *cols, int ordered)
{
    const char *day;

    qb_add(b, "SELECT ");
    qb_add(b, cols);
    if (q->nactors > 0) {
        qb_param(b, " FROM mentions m0 CROSS JOIN documents d ON d.doc = m0.doc WHERE m0.actor = ?",
                 q->actors[0]);
        day = "m0.day";
    } else {
        qb_add(b, " FROM documents d WHERE 1");
        day = "d.day";
    }
    qb_add(b, " AND d.latest = 1");
    if (q->since != NULL) {
        qb_add(b, " AND ");
        qb_add(b, day);
        qb_param(b, " >= ?", q->since);
    }
    if (q->until != NULL) {
        qb_add(b, " AND ");
        qb_add(b, day);
        qb_param(b, " <= ?", q->until);
        qb_add(b, " AND ");
        qb_add(b, day);
        qb_add(b, " <> ''");
    }
    for (size_t i = 1; i < q->nactors; i++) {
        qb_param(b,
                 " AND EXISTS(SELECT 1 FROM mentions m WHERE m.actor = ? AND m.day = d.day"
                 " AND m.doc = d.doc)",
                 q->actors[i]);
    }
    if (q->event != NULL) {
        qb_param(b,
                 " AND EXISTS(SELECT 1 FROM events e WHERE e.event = ? AND e.day = d.day"
                 " AND e.doc = d.doc)",
                 q->event);
    }
    if (q->source != NULL) {
        qb_param(b, " AND d.source = ?", q->source);
    }
    if (q->text != NULL) {
        qb_param(b, " AND d.doc IN (SELECT rowid FROM fts WHERE fts MATCH ?)", q->text);
    }
    if (ordered) {
        /* undated ('') sorts last when descending */
        qb_add(b, q->nactors > 0 ? " ORDER BY m0.day DESC, m0.doc DESC"
                                 : " ORDER BY d.day DESC, d.doc DESC");
    }
}

static int qb_prepare(nl_index *ix, struct qb *b, sqlite3_stmt **s, char *errbuf, size_t errlen)
{
    if (b->len >= sizeof(b->sql) - 1) {
        return nl_errf(errbuf, errlen, NL_EINVAL, "query too long");
    }
    if (sqlite3_prepare_v2(ix->db, b->sql, -1, s, NULL) != SQLITE_OK) {
        return nl_errf(errbuf, errlen, NL_EIO, "index: %s", sqlite3_errmsg(ix->db));
    }
    for (int i = 0; i < b->np; i++) {
        bind_text(*s, i + 1, b->params[i]);
    }
    return 0;
}

static json_t *col_str(sqlite3_stmt *s, int i)
{
    const char *v = (const char *)sqlite3_column_text(s, i);
    return v != NULL && v[0] != '\0' ? json_string(v) : json_null();
}

static int step_error(nl_index *ix, int rc, char *errbuf, size_t errlen)
{
    if (rc == SQLITE_DONE) {
        return 0;
    }
    return nl_errf(errbuf, errlen, rc == SQLITE_ERROR ? NL_EINVAL : NL_EIO, "index: %s",
                   sqlite3_errmsg(ix->db));
}

/* Runs the prepared statement s (consumed) and hands each row, as make
 * builds it from s with ctx, to fn; stops at fn's first nonzero. */
static int each_row(nl_index *ix, sqlite3_stmt *s, json_t *(*make)(sqlite3_stmt *s, void *ctx),
                    void *ctx, ix_row_fn fn, void *arg, char *errbuf, size_t errlen)
{
    int rc = 0, step = SQLITE_DONE;

    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        json_t *row = make(s, ctx);
        if (row == NULL) {
            rc = nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
            break;
        }
        rc = fn(row, arg);
        json_decref(row);
        if (rc != 0) {
            break;
        }
    }
    if (rc == 0) {
        rc = step_error(ix, step, errbuf, errlen);
    }
    sqlite3_finalize(s);
    return rc;
}

/* Appends q's LIMIT to b, prepares it and runs it as each_row does. */
static int each_query_row(nl_index *ix, struct qb *b, const ix_query *q,
                          json_t *(*make)(sqlite3_stmt *s, void *ctx), void *ctx, ix_row_fn fn,
                          void *arg, char *errbuf, size_t errlen)
{
    sqlite3_stmt *s = NULL;
    int rc;

    if (q->limit > 0) {
        char lim[32];
        snprintf(lim, sizeof(lim), " LIMIT %ld", q->limit);
        qb_add(b, lim);
    }
    rc = qb_prepare(ix, b, &s, errbuf, errlen);
    return rc != 0 ? rc : each_row(ix, s, make, ctx, fn, arg, errbuf, errlen);
}

/* " IN (?, ?, ...)" of q's actors, as parameters. */
static void add_actor_list(struct qb *b, const ix_query *q)
{
    qb_add(b, " IN (");
    for (size_t i = 0; i < q->nactors; i++) {
        qb_param(b, i == 0 ? "?" : ", ?", q->actors[i]);
    }
    qb_add(b, ")");
}

/* A document row of ix_search, with its actors (ctx: the statement that
 * lists them). */
static json_t *document_row(sqlite3_stmt *s, void *ctx)
{
    sqlite3_stmt *ma = ctx;
    json_t *actors = json_array();

    sqlite3_reset(ma);
    sqlite3_bind_int64(ma, 1, sqlite3_column_int64(s, 0));
    while (actors != NULL && sqlite3_step(ma) == SQLITE_ROW) {
        json_array_append_new(actors, json_pack("{s:s, s:I}", "id", sqlite3_column_text(ma, 0),
                                                "count", (json_int_t)sqlite3_column_int64(ma, 1)));
    }
    return json_pack("{s:o, s:I, s:o, s:o, s:o, s:o, s:o, s:o}", "id", col_str(s, 1), "version",
                     (json_int_t)sqlite3_column_int64(s, 2), "file", col_str(s, 3), "date",
                     col_str(s, 4), "published", col_str(s, 5), "source", col_str(s, 6), "title",
                     col_str(s, 7), "actors", actors);
}

int ix_search(nl_index *ix, const ix_query *q, ix_row_fn fn, void *arg, char *errbuf, size_t errlen)
{
    struct qb b = {.len = 0, .np = 0};
    sqlite3_stmt *ma = NULL;
    int rc;

    if (sqlite3_prepare_v2(ix->db,
                           "SELECT actor, count FROM mentions WHERE doc = ?1"
                           " ORDER BY count DESC, actor",
                           -1, &ma, NULL) != SQLITE_OK) {
        return db_err(ix, errbuf, errlen, "prepare");
    }
    build_filter(&b, q, "d.doc, d.id, d.version, d.file, d.day, d.published, d.source, d.title", 1);
    rc = each_query_row(ix, &b, q, document_row, ma, fn, arg, errbuf, errlen);
    sqlite3_finalize(ma);
    return rc;
}

static json_t *mention_count_row(sqlite3_stmt *s, void *ctx)
{
    (void)ctx;
    return json_pack("{s:o, s:o, s:I, s:I}", "date", col_str(s, 1), "actor", col_str(s, 0),
                     "mentions", (json_int_t)sqlite3_column_int64(s, 2), "documents",
                     (json_int_t)sqlite3_column_int64(s, 3));
}

int ix_count_mentions(nl_index *ix, const ix_query *q, ix_row_fn fn, void *arg, char *errbuf,
                      size_t errlen)
{
    struct qb b = {.len = 0, .np = 0};

    qb_add(&b, "SELECT c.actor, c.day, sum(c.count), count(*) FROM mentions c WHERE c.doc IN (");
    build_filter(&b, q, "d.doc", 0);
    qb_add(&b, ")");
    if (q->nactors > 0) {
        qb_add(&b, " AND c.actor");
        add_actor_list(&b, q);
    }
    qb_add(&b, " GROUP BY c.day, c.actor ORDER BY c.day = '', c.day, c.actor");
    return each_query_row(ix, &b, q, mention_count_row, NULL, fn, arg, errbuf, errlen);
}

static json_t *relation_count_row(sqlite3_stmt *s, void *ctx)
{
    (void)ctx;
    return json_pack("{s:o, s:o, s:I, s:I}", "a", col_str(s, 0), "b", col_str(s, 1), "count",
                     (json_int_t)sqlite3_column_int64(s, 2), "documents",
                     (json_int_t)sqlite3_column_int64(s, 3));
}

int ix_count_relations(nl_index *ix, const ix_query *q, ix_row_fn fn, void *arg, char *errbuf,
                       size_t errlen)
{
    struct qb b = {.len = 0, .np = 0};

    qb_add(&b, "SELECT r.a, r.b, sum(r.count), count(*) FROM relations r WHERE r.doc IN (");
    build_filter(&b, q, "d.doc", 0);
    qb_add(&b, ")");
    if (q->nactors > 0) {
        qb_add(&b, " AND (r.a");
        add_actor_list(&b, q);
        qb_add(&b, " OR r.b");
        add_actor_list(&b, q);
        qb_add(&b, ")");
    }
    qb_add(&b, " GROUP BY r.a, r.b ORDER BY sum(r.count) DESC, r.a, r.b");
    return each_query_row(ix, &b, q, relation_count_row, NULL, fn, arg, errbuf, errlen);
}

static json_t *actor_row(sqlite3_stmt *s, void *ctx)
{
    (void)ctx;
    return json_pack("{s:o, s:o, s:o}", "id", col_str(s, 0), "name", col_str(s, 1), "kind",
                     col_str(s, 2));
}

int ix_actors(nl_index *ix, ix_row_fn fn, void *arg, char *errbuf, size_t errlen)
{
    sqlite3_stmt *s = NULL;
    int rc = prepare(ix, "SELECT id, name, kind FROM actors ORDER BY id", &s, errbuf, errlen);

    return rc != 0 ? rc : each_row(ix, s, actor_row, NULL, fn, arg, errbuf, errlen);
}
