#include "store.h"

#include "nl_err.h"
#include "nl_log.h"
#include "nl_record.h"
#include "nl_text.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* id -> sequence number, open addressing; ids are hashes, so the low bits
 * spread well. */
struct slot {
    uint64_t id;
    long seq; /* -1: empty */
};

struct nl_store {
    char *dir;
    int dirfd;
    struct slot *slots;
    size_t cap, n;
    long next_seq;
};

static int map_put(nl_store *st, uint64_t id, long seq);

static long map_get(const nl_store *st, uint64_t id)
{
    size_t mask = st->cap - 1;
    for (size_t i = (size_t)id & mask;; i = (i + 1) & mask) {
        if (st->slots[i].seq < 0) {
            return -1;
        }
        if (st->slots[i].id == id) {
            return st->slots[i].seq;
        }
    }
}

static int map_grow(nl_store *st)
{
    size_t ncap = st->cap ? st->cap * 2 : 1024;
    struct slot *old = st->slots;
    size_t ocap = st->cap;
    struct slot *ns = malloc(ncap * sizeof(*ns));

    if (ns == NULL) {
        return NL_ENOMEM;
    }
    for (size_t i = 0; i < ncap; i++) {
        ns[i].seq = -1;
    }
    st->slots = ns;
    st->cap = ncap;
    st->n = 0;
    for (size_t i = 0; i < ocap; i++) {
        if (old[i].seq >= 0) {
            map_put(st, old[i].id, old[i].seq);
        }
    }
    free(old);
    return 0;
}

static int map_put(nl_store *st, uint64_t id, long seq)
{
    size_t mask;
    if ((st->n + 1) * 2 > st->cap && map_grow(st) != 0) {
        return NL_ENOMEM;
    }
    mask = st->cap - 1;
    for (size_t i = (size_t)id & mask;; i = (i + 1) & mask) {
        if (st->slots[i].seq < 0) {
            st->slots[i].id = id;
            st->slots[i].seq = seq;
            st->n++;
            return 0;
        }
        if (st->slots[i].id == id) {
            return 0; /* first name seen wins */
        }
    }
}

/* Parses "NNN_<16 hex>.txt" or ".json"; 1 on a match. */
static int parse_name(const char *name, long *seq, uint64_t *id)
{
    char *end;
    const char *p;
    errno = 0;
    *seq = strtol(name, &end, 10);
    if (name[0] < '0' || name[0] > '9' || end == name || *end != '_' || errno != 0) {
        return 0;
    }
    p = end + 1;
    for (int i = 0; i < 16; i++) {
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f'))) {
            return 0;
        }
    }
    if (strcmp(p + 16, ".txt") != 0 && strcmp(p + 16, ".json") != 0) {
        return 0;
    }
    *id = strtoull((char[17]){p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10],
                              p[11], p[12], p[13], p[14], p[15], '\0'},
                   NULL, 16);
    return 1;
}

int st_open(const char *dir, nl_store **out, char *errbuf, size_t errlen)
{
    nl_store *st;
    DIR *d;
    struct dirent *de;
    int rc = 0;

    *out = NULL;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        return nl_errf(errbuf, errlen, NL_EIO, "corpus %s: %s", dir, strerror(errno));
    }
    st = calloc(1, sizeof(*st));
    if (st != NULL) {
        st->dirfd = -1;
        st->dir = strdup(dir);
    }
    if (st == NULL || st->dir == NULL || map_grow(st) != 0) {
        st_close(st);
        return nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
    }
    st->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    d = st->dirfd >= 0 ? fdopendir(dup(st->dirfd)) : NULL;
    if (d == NULL) {
        rc = nl_errf(errbuf, errlen, NL_EIO, "corpus %s: %s", dir, strerror(errno));
        st_close(st);
        return rc;
    }
    while ((de = readdir(d)) != NULL) {
        long seq;
        uint64_t id;
        if (strncmp(de->d_name, ".nl-tmp.", 8) == 0) {
            /* left by a writer that died before its rename: never visible */
            unlinkat(st->dirfd, de->d_name, 0);
            continue;
        }
        if (!parse_name(de->d_name, &seq, &id)) {
            continue;
        }
        if (map_put(st, id, seq) != 0) {
            rc = nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
            break;
        }
        if (seq >= st->next_seq) {
            st->next_seq = seq + 1;
        }
    }
    closedir(d);
    if (rc != 0) {
        st_close(st);
        return rc;
    }
    *out = st;
    return 0;
}

void st_close(nl_store *st)
{
    if (st == NULL) {
        return;
    }
    if (st->dirfd >= 0) {
        close(st->dirfd);
    }
    free(st->slots);
    free(st->dir);
    free(st);
}

size_t st_count(const nl_store *st)
{
    return st->n;
}

static int io_err(char *errbuf, size_t errlen, const char *what, const char *name)
{
    /* Every disk error is worth a retry: space can be freed, a mount
     * remounted, permissions fixed; the offset waits meanwhile. */
    return nl_errf(errbuf, errlen, NL_ETRANSIENT, "%s %s: %s", what, name, strerror(errno));
}

/* Writes data to dir/name atomically: temp file, fsync, rename. The
 * caller fsyncs the directory. */
static int write_atomic(nl_store *st, const char *name, const char *data, size_t len, char *errbuf,
                        size_t errlen)
{
    char tmp[128];
    int fd;
    size_t off = 0;

    snprintf(tmp, sizeof(tmp), ".nl-tmp.%ld.%s", (long)getpid(), name);
    fd = openat(st->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        return io_err(errbuf, errlen, "create", tmp);
    }
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            goto fail;
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0) {
        goto fail;
    }
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (renameat(st->dirfd, tmp, st->dirfd, name) != 0) {
        goto fail;
    }
    return 0;
fail : {
    int rc = io_err(errbuf, errlen, "write", name);
    if (fd >= 0) {
        close(fd);
    }
    unlinkat(st->dirfd, tmp, 0);
    return rc;
}
}

/* Reads dir/name whole (NULL if absent or unreadable). */
static char *read_file(nl_store *st, const char *name, size_t *len)
{
    int fd = openat(st->dirfd, name, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    char *buf = NULL;
    size_t off = 0;

    if (fd < 0) {
        return NULL;
    }
    if (fstat(fd, &sb) == 0) {
        buf = malloc((size_t)sb.st_size + 1);
    }
    if (buf == NULL) {
        close(fd);
        return NULL;
    }
    while (off < (size_t)sb.st_size) {
        ssize_t r = read(fd, buf + off, (size_t)sb.st_size - off);
        if (r <= 0) {
            if (r < 0 && errno == EINTR) {
                continue;
            }
            break;
        }
        off += (size_t)r;
    }
    close(fd);
    buf[off] = '\0';
    *len = off;
    return buf;
}

int st_put(nl_store *st, const json_t *rec, const json_t *trace, json_t **report, char *errbuf,
           size_t errlen)
{
    const char *id = nl_record_str(rec, "id");
    const char *source = nl_record_str(rec, "source");
    json_t *jtitle = json_object_get(rec, "title");
    json_t *jtext = json_object_get(rec, "text");
    const char *text = json_string_value(jtext);
    size_t text_len = json_string_length(jtext);
    uint64_t nid = strtoull(id, NULL, 16);
    long seq = map_get(st, nid);
    int is_new = seq < 0;
    char txt_name[64], json_name[64], now[32];
    char *old_txt = NULL, *old_json = NULL, *body = NULL, *sidecar_s = NULL;
    size_t old_txt_len = 0, old_json_len = 0, body_len = 0, sidecar_len = 0;
    json_t *kept = NULL, *sidecar = NULL, *old = NULL;
    long text_offset = -1;
    int wrote = 0;
    int rc = 0;

    *report = NULL;
    if (is_new) {
        seq = st->next_seq;
    }
    snprintf(txt_name, sizeof(txt_name), "%03ld_%s.txt", seq, id);
    snprintf(json_name, sizeof(json_name), "%03ld_%s.json", seq, id);

    /* The text file: title, a blank line, the text; a replayed document's
     * existing file is the user's and stays as it is. */
    old_txt = is_new ? NULL : read_file(st, txt_name, &old_txt_len);
    if (old_txt != NULL && source != NULL && strcmp(source, "replay") == 0) {
        /* The text follows the title line: search from there, so a text
         * that also occurs in the title is not found in it. */
        const char *from = memchr(old_txt, '\n', old_txt_len);
        const char *hit;
        from = from != NULL ? from + 1 : old_txt;
        hit = text_len > 0 ? memmem(from, old_txt_len - (size_t)(from - old_txt), text, text_len)
                           : NULL;
        text_offset = hit != NULL ? (long)(hit - old_txt) : -1;
    } else {
        size_t tl = json_string_length(jtitle);
        body_len = tl + 2 + text_len + 1;
        body = malloc(body_len + 1);
        if (body == NULL) {
            rc = nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
            goto out;
        }
        memcpy(body, json_string_value(jtitle), tl);
        memcpy(body + tl, "\n\n", 2);
        memcpy(body + tl + 2, text, text_len);
        body[body_len - 1] = '\n';
        text_offset = (long)tl + 2;
        if (old_txt == NULL || old_txt_len != body_len || memcmp(old_txt, body, body_len) != 0) {
            rc = write_atomic(st, txt_name, body, body_len, errbuf, errlen);
            if (rc != 0) {
                goto out;
            }
            wrote = 1;
        }
    }

    /* The sidecar: everything but the text, which is in the text file. */
    kept = json_deep_copy(rec);
    if (kept == NULL) {
        rc = nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
        goto out;
    }
    json_object_del(kept, "text");
    old_json = is_new ? NULL : read_file(st, json_name, &old_json_len);
    old = old_json != NULL ? json_loadb(old_json, old_json_len, 0, NULL) : NULL;
    if (!wrote && old != NULL && json_equal(json_object_get(old, "record"), kept) &&
        json_integer_value(json_object_get(old, "text_offset")) == text_offset) {
        /* The same record again: the store stays exactly as it is. */
        *report = json_pack("{s:s, s:s, s:s, s:s, s:s}", "schema", NL_SCHEMA_STORED, "id", id,
                            "file", txt_name, "sidecar", json_name, "status", "unchanged");
        rc = *report != NULL ? 0 : NL_ENOMEM;
        goto out;
    }
    nl_format_time_ms(nl_now_ms(), now);
    sidecar = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:O, s:O}", "schema", NL_SCHEMA_STORED,
                        "id", id, "file", txt_name, "text_offset", (json_int_t)text_offset,
                        "text_bytes", (json_int_t)text_len, "stored_at", now, "trace",
                        trace != NULL ? trace : json_null(), "record", kept);
    sidecar_s = sidecar != NULL ? json_dumps(sidecar, JSON_INDENT(1) | JSON_SORT_KEYS) : NULL;
    if (sidecar_s == NULL) {
        rc = nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
        goto out;
    }
    sidecar_len = strlen(sidecar_s);
    sidecar_s[sidecar_len] = '\0';
    {
        /* trailing newline for the humans who cat it */
        char *s2 = realloc(sidecar_s, sidecar_len + 2);
        if (s2 == NULL) {
            rc = nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
            goto out;
        }
        sidecar_s = s2;
        sidecar_s[sidecar_len++] = '\n';
        sidecar_s[sidecar_len] = '\0';
    }
    rc = write_atomic(st, json_name, sidecar_s, sidecar_len, errbuf, errlen);
    if (rc != 0) {
        if (is_new && wrote) {
            /* A new document is visible whole or not at all: without its
             * sidecar its text file goes too, and the retry starts afresh. */
            unlinkat(st->dirfd, txt_name, 0);
        }
        goto out;
    }
    if (fsync(st->dirfd) != 0) {
        rc = io_err(errbuf, errlen, "fsync", st->dir);
        goto out;
    }
    if (is_new) {
        if (map_put(st, nid, seq) != 0) {
            rc = nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
            goto out;
        }
        st->next_seq = seq + 1;
    }
    *report =
        json_pack("{s:s, s:s, s:s, s:s, s:s}", "schema", NL_SCHEMA_STORED, "id", id, "file",
                  txt_name, "sidecar", json_name, "status", old == NULL ? "stored" : "updated");
    rc = *report != NULL ? 0 : NL_ENOMEM;
out:
    free(old_txt);
    free(old_json);
    free(body);
    free(sidecar_s);
    json_decref(old);
    json_decref(kept);
    json_decref(sidecar);
    return rc;
}
