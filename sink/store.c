#include "store.h"

#include "nl_buf.h"
#include "index.h"

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

/* A batch is made durable by itself once it holds this many records or
 * bytes of text, whatever the caller's sync interval. */
#define ST_BATCH_MAX 1000
#define ST_BATCH_BYTES (64u << 20)

/* id -> sequence number, open addressing; ids are hashes, so the low bits
 * spread well. */
struct slot {
    uint64_t id;
    long seq;          /* -1: empty */
    long nver;         /* highest version seen: 1 for NNN_<id>.*, k for NNN_<id>.v<k>.* */
    unsigned long gen; /* == the store's gen: the id has files in the current batch */
};

/* A file of the current batch: written to tmp, renamed to name by the
 * batch's sync. */
struct pfile {
    char name[80];
    char tmp[128];
};

/* A record of the current batch: its report for the durable callback and
 * the version to index (sidecar NULL: nothing to index). */
struct pitem {
    json_t *report;
    json_t *sidecar;
    char *text;
    size_t text_len;
};

struct nl_store {
    nl_index *ix; /* borrowed, may be NULL */
    char *dir;
    int dirfd;
    struct slot *slots;
    size_t cap, n;
    long next_seq;
    /* The batch: files in write order (renamed in that order), records. */
    struct pfile *files;
    size_t nfiles, files_cap;
    struct pitem *items;
    size_t nitems, items_cap;
    size_t batch_bytes;
    size_t nrenamed;   /* files [0, nrenamed) are renamed already */
    int phase;         /* of st_sync: 0 writing, 1 data durable (renaming), 2 files durable */
    unsigned long gen; /* batch generation, from 1 */
    unsigned long tmp_seq;
    int in_batch; /* set while st_stage works on an id with files in the batch */
    st_durable_fn on_durable;
    void *durable_arg;
};

static int map_put(nl_store *st, uint64_t id, long seq, long nver);

static struct slot *map_get(const nl_store *st, uint64_t id)
{
    size_t mask = st->cap - 1;
    for (size_t i = (size_t)id & mask;; i = (i + 1) & mask) {
        if (st->slots[i].seq < 0) {
            return NULL;
        }
        if (st->slots[i].id == id) {
            return &st->slots[i];
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
            map_put(st, old[i].id, old[i].seq, old[i].nver);
            map_get(st, old[i].id)->gen = old[i].gen;
        }
    }
    free(old);
    return 0;
}

static int map_put(nl_store *st, uint64_t id, long seq, long nver)
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
            st->slots[i].nver = nver;
            st->slots[i].gen = 0;
            st->n++;
            return 0;
        }
        if (st->slots[i].id == id) {
            /* first number seen wins; the versions under it add up */
            if (st->slots[i].seq == seq && nver > st->slots[i].nver) {
                st->slots[i].nver = nver;
            }
            return 0;
        }
    }
}

/* Parses "NNN_<16 hex>.txt" or ".json", or "NNN_<16 hex>.v<k>.txt" or
 * ".json" (k >= 2, no leading zero); 1 on a match, with *ver = 1 or k. */
static int parse_name(const char *name, long *seq, uint64_t *id, long *ver)
{
    char *end;
    const char *p, *ext;
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
    ext = p + 16;
    *ver = 1;
    if (ext[0] == '.' && ext[1] == 'v') {
        if (ext[2] < '1' || ext[2] > '9') {
            return 0;
        }
        errno = 0;
        *ver = strtol(ext + 2, &end, 10);
        if (errno != 0 || *ver < 2 || *ver > 1000000) {
            return 0;
        }
        ext = end;
    }
    if (strcmp(ext, ".txt") != 0 && strcmp(ext, ".json") != 0) {
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
        st->gen = 1;
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
        long seq, ver;
        uint64_t id;
        if (strncmp(de->d_name, ".nl-tmp.", 8) == 0) {
            /* left by a writer that died before its rename: never visible */
            unlinkat(st->dirfd, de->d_name, 0);
            continue;
        }
        if (!parse_name(de->d_name, &seq, &id, &ver)) {
            continue;
        }
        if (map_put(st, id, seq, ver) != 0) {
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

static void batch_clear(nl_store *st)
{
    for (size_t i = 0; i < st->nitems; i++) {
        json_decref(st->items[i].report);
        json_decref(st->items[i].sidecar);
        free(st->items[i].text);
    }
    st->nitems = 0;
    st->nfiles = 0;
    st->nrenamed = 0;
    st->batch_bytes = 0;
    st->phase = 0;
    st->gen++;
}

void st_close(nl_store *st)
{
    if (st == NULL) {
        return;
    }
    /* A batch that was not made durable goes: its records were never
     * acknowledged, so they come again. */
    for (size_t i = st->nrenamed; i < st->nfiles && st->dirfd >= 0; i++) {
        unlinkat(st->dirfd, st->files[i].tmp, 0);
    }
    batch_clear(st);
    free(st->files);
    free(st->items);
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

/* Writes data to a new temp file for dir/name, its name in tmp (128
 * bytes); not synced: st_sync does that for the whole batch. On error no
 * temp file is left. */
static int write_temp(nl_store *st, const char *name, const char *data, size_t len, char *tmp,
                      char *errbuf, size_t errlen)
{
    int fd;
    size_t off = 0;

    snprintf(tmp, 128, ".nl-tmp.%ld.%lu.%s", (long)getpid(), ++st->tmp_seq, name);
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
    if (close(fd) != 0) {
        fd = -1;
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

/* The batch's entry for name, if it is not renamed yet. */
static struct pfile *pending_file(nl_store *st, const char *name)
{
    for (size_t i = st->nfiles; i > st->nrenamed; i--) {
        if (strcmp(st->files[i - 1].name, name) == 0) {
            return &st->files[i - 1];
        }
    }
    return NULL;
}

/* Where name's current content is: its temp file while the batch holds
 * it (reads within a batch see the batch), else name. */
static const char *live_name(nl_store *st, const char *name)
{
    struct pfile *pf = st->in_batch ? pending_file(st, name) : NULL;
    return pf != NULL ? pf->tmp : name;
}

/* Puts name's temp file tmp into the batch; a temp file the batch held
 * for name before is superseded (deleted). 0 or NL_ENOMEM (tmp is then
 * the caller's to delete). */
static int batch_add_file(nl_store *st, const char *name, const char *tmp)
{
    struct pfile *pf = pending_file(st, name);

    if (pf != NULL) {
        unlinkat(st->dirfd, pf->tmp, 0);
        snprintf(pf->tmp, sizeof(pf->tmp), "%s", tmp);
        return 0;
    }
    if (st->nfiles == st->files_cap) {
        size_t ncap = st->files_cap ? st->files_cap * 2 : 64;
        struct pfile *nf = realloc(st->files, ncap * sizeof(*nf));
        if (nf == NULL) {
            return NL_ENOMEM;
        }
        st->files = nf;
        st->files_cap = ncap;
    }
    pf = &st->files[st->nfiles++];
    snprintf(pf->name, sizeof(pf->name), "%s", name);
    snprintf(pf->tmp, sizeof(pf->tmp), "%s", tmp);
    return 0;
}

/* Reads dir/name whole, through the pending batch (NULL if absent or
 * unreadable). */
static char *read_file(nl_store *st, const char *name, size_t *len)
{
    return nl_read_at(st->dirfd, live_name(st, name), len);
}

/* The names of version ver of document seq/id. */
static void version_names(long seq, const char *id, long ver, char *txt, char *side, size_t len)
{
    if (ver <= 1) {
        snprintf(txt, len, "%03ld_%s.txt", seq, id);
        snprintf(side, len, "%03ld_%s.json", seq, id);
    } else {
        snprintf(txt, len, "%03ld_%s.v%ld.txt", seq, id, ver);
        snprintf(side, len, "%03ld_%s.v%ld.json", seq, id, ver);
    }
}

static void hash_hex(uint64_t h, char out[17])
{
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

/* The content hash of one stored version: its sidecar's content_hash;
 * for a sidecar from before versions, the title of its record and the
 * text it points to; with no sidecar (a seed, or a text file whose
 * sidecar a crash kept from being written), the file itself, with and
 * without a final newline (*alt). 1 with the hash; -1 if the text file
 * is missing; 0 if the sidecar does not describe the text file. */
static int version_hash(nl_store *st, const char *txt_name, const json_t *side, char hash[17],
                        char alt[17])
{
    const char *h = side != NULL ? nl_record_str(side, "content_hash") : NULL;
    char *buf;
    size_t len = 0;

    alt[0] = '\0';
    if (h != NULL) {
        snprintf(hash, 17, "%s", h);
        return 1;
    }
    buf = read_file(st, txt_name, &len);
    if (buf == NULL) {
        return errno == ENOENT ? -1 : 0;
    }
    if (side != NULL) {
        json_t *jt = json_object_get(json_object_get(side, "record"), "title");
        json_int_t off = json_integer_value(json_object_get(side, "text_offset"));
        json_int_t n = json_integer_value(json_object_get(side, "text_bytes"));
        size_t tl = json_string_length(jt);
        char *c;
        if (jt == NULL || off < 0 || n < 0 || (size_t)(off + n) > len ||
            (c = malloc(tl + 2 + (size_t)n + 1)) == NULL) {
            free(buf);
            return 0;
        }
        memcpy(c, json_string_value(jt), tl);
        memcpy(c + tl, "\n\n", 2);
        memcpy(c + tl + 2, buf + off, (size_t)n);
        hash_hex(nl_hash64(c, tl + 2 + (size_t)n), hash);
        free(c);
    } else {
        hash_hex(nl_hash64(buf, len), hash);
        if (len > 0 && buf[len - 1] == '\n') {
            hash_hex(nl_hash64(buf, len - 1), alt);
        }
    }
    free(buf);
    return 1;
}

static json_t *load_json(nl_store *st, const char *name)
{
    size_t len;
    char *s = read_file(st, name, &len);
    json_t *j = s != NULL ? json_loadb(s, len, 0, NULL) : NULL;
    free(s);
    return j;
}

/* What the sidecar says of where the record came from. */
static json_t *provenance(const json_t *rec, const json_t *trace)
{
    const char *pv = nl_record_str(rec, "parser_version");
    const char *fetched = nl_record_str(rec, "fetched_at");
    const char *wl = nl_record_str(json_object_get(rec, "tags"), "watchlist_version");
    json_t *prov = json_object();
    char when[32];

    if (pv == NULL) {
        pv = nl_record_str(rec, "daemon_version");
    }
    if (pv == NULL) {
        /* the parser does not stamp its version yet; every stage is built
         * from one tree, so the sink's own version is the parser's */
        pv = NL_VERSION;
    }
    if (fetched == NULL && trace != NULL) {
        /* a replayed document was not fetched: when it entered the pipeline */
        json_t *t = json_object_get(trace, "replay");
        if (t == NULL) {
            t = json_object_get(trace, "fetcher");
        }
        if (json_is_integer(t)) {
            nl_format_time_ms(json_integer_value(t), when);
            fetched = when;
        }
    }
    if (prov == NULL ||
        json_object_set_new(prov, "source",
                            nl_record_str(rec, "source") != NULL
                                ? json_string(nl_record_str(rec, "source"))
                                : json_null()) != 0 ||
        json_object_set_new(prov, "fetched_at",
                            fetched != NULL ? json_string(fetched) : json_null()) != 0 ||
        json_object_set_new(prov, "parser_version", json_string(pv)) != 0 ||
        json_object_set_new(prov, "watchlist_version",
                            wl != NULL ? json_string(wl) : json_null()) != 0) {
        json_decref(prov);
        return NULL;
    }
    return prov;
}

static json_t *make_report(const char *id, const char *txt, const char *side, long ver,
                           const char *status)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:I, s:s}", "schema", NL_SCHEMA_STORED, "id", id, "file",
                     txt, "sidecar", side, "version", (json_int_t)ver, "status", status);
}

/* Adds a record to the batch: its report, and the version to index
 * (sidecar NULL: none), text copied. Takes a reference to both. */
static int batch_add_item(nl_store *st, json_t *report, json_t *sidecar, const char *text,
                          size_t text_len)
{
    struct pitem *it;

    if (st->nitems == st->items_cap) {
        size_t ncap = st->items_cap ? st->items_cap * 2 : 64;
        struct pitem *ni = realloc(st->items, ncap * sizeof(*ni));
        if (ni == NULL) {
            return NL_ENOMEM;
        }
        st->items = ni;
        st->items_cap = ncap;
    }
    it = &st->items[st->nitems];
    it->text = NULL;
    it->text_len = text_len;
    if (sidecar != NULL && (it->text = malloc(text_len + 1)) == NULL) {
        return NL_ENOMEM;
    }
    if (it->text != NULL) {
        memcpy(it->text, text != NULL ? text : "", text_len);
        it->text[text_len] = '\0';
    }
    it->report = json_incref(report);
    it->sidecar = json_incref(sidecar);
    st->nitems++;
    st->batch_bytes += text_len + 1024;
    return 0;
}

/* st_stage of one record into the open batch (phase 0). */
static int stage_one(nl_store *st, const json_t *rec, const json_t *trace, json_t **report,
                     char *errbuf, size_t errlen)
{
    const char *id = nl_record_str(rec, "id");
    const char *source = nl_record_str(rec, "source");
    int replay = source != NULL && strcmp(source, "replay") == 0;
    json_t *jtitle = json_object_get(rec, "title");
    json_t *jtext = json_object_get(rec, "text");
    const char *text = json_string_value(jtext);
    size_t text_len = json_string_length(jtext);
    size_t title_len = json_string_length(jtitle);
    uint64_t nid = strtoull(id, NULL, 16);
    struct slot *slot = map_get(st, nid);
    int is_new = slot == NULL;
    long seq = is_new ? st->next_seq : slot->seq;
    long nver = is_new ? 0 : slot->nver;
    long ver = 0;
    char txt_name[80], json_name[80], now[32], hash[17];
    char *old_txt = NULL, *body = NULL, *sidecar_s = NULL;
    size_t old_txt_len = 0, body_len, sidecar_len = 0;
    json_t *kept = NULL, *sidecar = NULL, *old = NULL, *versions = NULL;
    long text_offset = -1;
    int wrote = 0;
    int rc = 0;
    char txt_tmp[128], json_tmp[128];

    *report = NULL;
    /* reads of this id see the batch's files, if it has any */
    st->in_batch = slot != NULL && slot->gen == st->gen;
    /* The text file of a new document or version: title, a blank line,
     * the text; the content hash is of all but that final newline. */
    body_len = title_len + 2 + text_len + 1;
    body = malloc(body_len + 1);
    if (body == NULL) {
        return nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
    }
    memcpy(body, json_string_value(jtitle), title_len);
    memcpy(body + title_len, "\n\n", 2);
    memcpy(body + title_len + 2, text, text_len);
    body[body_len - 1] = '\n';
    hash_hex(nl_hash64(body, body_len - 1), hash);

    /* Which version is this? The one with the same content hash, newest
     * first; else a replay belongs to the newest (its text file is the
     * user's and stays as it is); else it is a new version. */
    for (long k = nver; k >= 1 && ver == 0; k--) {
        char h[17], alt[17];
        json_t *side;
        int found;
        version_names(seq, id, k, txt_name, json_name, sizeof(txt_name));
        side = load_json(st, json_name);
        found = version_hash(st, txt_name, side, h, alt);
        if ((found == 1 && (strcmp(h, hash) == 0 || strcmp(alt, hash) == 0)) ||
            (found == -1 && side != NULL)) {
            /* the same content; or a sidecar whose text file is gone, which
             * this record's text replaces */
            ver = k;
            old = side;
        } else {
            json_decref(side);
        }
    }
    if (ver == 0 && replay && nver >= 1) {
        ver = nver;
        version_names(seq, id, ver, txt_name, json_name, sizeof(txt_name));
        old = load_json(st, json_name);
    }
    if (ver == 0) {
        ver = nver + 1;
    }
    version_names(seq, id, ver, txt_name, json_name, sizeof(txt_name));

    old_txt = ver <= nver ? read_file(st, txt_name, &old_txt_len) : NULL;
    if (old_txt != NULL) {
        /* The text follows the title line: search from there, so a text
         * that also occurs in the title is not found in it. */
        const char *from = memchr(old_txt, '\n', old_txt_len);
        const char *hit;
        from = from != NULL ? from + 1 : old_txt;
        hit = text_len > 0 ? memmem(from, old_txt_len - (size_t)(from - old_txt), text, text_len)
                           : NULL;
        text_offset = hit != NULL ? (long)(hit - old_txt) : -1;
        if (text_len == 0 && old_txt_len == body_len && memcmp(old_txt, body, body_len) == 0) {
            text_offset = (long)title_len + 2;
        }
    } else {
        text_offset = (long)title_len + 2;
        rc = write_temp(st, txt_name, body, body_len, txt_tmp, errbuf, errlen);
        if (rc != 0) {
            goto out;
        }
        wrote = 1;
    }

    /* The sidecar: everything but the text, which is in the text file. */
    kept = json_deep_copy(rec);
    if (kept == NULL) {
        rc = nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
        goto out;
    }
    json_object_del(kept, "text");
    if (!wrote && old != NULL && json_equal(json_object_get(old, "record"), kept) &&
        json_integer_value(json_object_get(old, "text_offset")) == text_offset) {
        /* The same record again: the files stay exactly as they are. The
         * index may have missed it (a crash between the files and the
         * index, before the offset was stored): it catches up with the
         * batch. A sidecar the batch holds is indexed with it anyway. */
        int catch_up = st->ix != NULL && !(st->in_batch && pending_file(st, json_name) != NULL) &&
                       !ix_has(st->ix, old);
        *report = make_report(id, txt_name, json_name, ver, "unchanged");
        rc = *report != NULL ? batch_add_item(st, *report, catch_up ? old : NULL, text, text_len)
                             : NL_ENOMEM;
        goto out;
    }
    versions = json_array();
    for (long k = 1; versions != NULL && k <= (ver > nver ? ver : nver); k++) {
        char t[80], j[80];
        version_names(seq, id, k, t, j, sizeof(t));
        if (json_array_append_new(versions, json_string(t)) != 0) {
            json_decref(versions);
            versions = NULL;
        }
    }
    nl_format_time_ms(nl_now_ms(), now);
    sidecar =
        versions != NULL
            ? json_pack("{s:s, s:s, s:I, s:s, s:s, s:I, s:I, s:s, s:O, s:o, s:o, s:O}", "schema",
                        NL_SCHEMA_STORED, "id", id, "version", (json_int_t)ver, "content_hash",
                        hash, "file", txt_name, "text_offset", (json_int_t)text_offset,
                        "text_bytes", (json_int_t)text_len, "stored_at", now, "trace",
                        trace != NULL ? trace : json_null(), "provenance", provenance(rec, trace),
                        "versions", versions, "record", kept)
            : NULL;
    versions = NULL; /* consumed by json_pack, even on failure */
    sidecar_s = sidecar != NULL ? json_dumps(sidecar, JSON_INDENT(1) | JSON_SORT_KEYS) : NULL;
    if (sidecar_s == NULL) {
        rc = nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
        goto out;
    }
    sidecar_len = strlen(sidecar_s);
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
    rc = write_temp(st, json_name, sidecar_s, sidecar_len, json_tmp, errbuf, errlen);
    if (rc != 0) {
        /* A new document or version is visible whole or not at all:
         * without its sidecar its text file goes too, and the retry starts
         * afresh. */
        goto out;
    }
    *report = make_report(id, txt_name, json_name, ver,
                          is_new        ? "stored"
                          : ver > nver  ? "new_version"
                          : old != NULL ? "updated"
                                        : "stored");
    if (*report == NULL || (wrote && batch_add_file(st, txt_name, txt_tmp) != 0)) {
        unlinkat(st->dirfd, json_tmp, 0);
        rc = nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
        goto out;
    }
    if (batch_add_file(st, json_name, json_tmp) != 0) {
        if (wrote) {
            st->nfiles--; /* the text file just added: a new name, so the last entry */
        }
        unlinkat(st->dirfd, json_tmp, 0);
        rc = nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
        goto out;
    }
    wrote = 0; /* the batch owns both temp files now */
    if (is_new) {
        if (map_put(st, nid, seq, ver) != 0) {
            rc = nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
            goto out;
        }
        st->next_seq = seq + 1;
        slot = map_get(st, nid);
    } else if (ver > slot->nver) {
        slot->nver = ver;
    }
    slot->gen = st->gen;
    /* Indexed after the files are durable, with the batch (derived: the
     * files are the truth). */
    rc = batch_add_item(st, *report, st->ix != NULL ? sidecar : NULL, text, text_len);
out:
    if (wrote) {
        unlinkat(st->dirfd, txt_tmp, 0);
    }
    if (rc != 0) {
        json_decref(*report);
        *report = NULL;
    }
    st->in_batch = 0;
    free(old_txt);
    free(body);
    free(sidecar_s);
    json_decref(old);
    json_decref(kept);
    json_decref(sidecar);
    return rc;
}

int st_sync(nl_store *st, char *errbuf, size_t errlen)
{
    ix_item *ii = NULL;
    size_t n = 0;
    int rc = 0;

    if (st->nitems == 0 && st->nfiles == 0) {
        return 0;
    }
    if (st->phase == 0) {
        /* Every file of the batch in one flush of the filesystem, instead
         * of an fsync each. A failed flush may have dropped written pages
         * and reports it once only: the batch cannot be trusted, so the
         * caller exits and the records come again (nothing was stored). */
        if (st->nfiles > 0 && syncfs(st->dirfd) != 0) {
            return nl_errf(errbuf, errlen, NL_EFATAL, "syncfs %s: %s", st->dir, strerror(errno));
        }
        st->phase = 1;
    }
    if (st->phase == 1) {
        /* in write order: a document's text file before its sidecar, an
         * older version before a newer one, so a crash leaves a prefix */
        while (st->nrenamed < st->nfiles) {
            struct pfile *pf = &st->files[st->nrenamed];
            if (renameat(st->dirfd, pf->tmp, st->dirfd, pf->name) != 0) {
                return io_err(errbuf, errlen, "rename", pf->name);
            }
            st->nrenamed++;
        }
        if (st->nfiles > 0 && fsync(st->dirfd) != 0) {
            return nl_errf(errbuf, errlen, NL_EFATAL, "fsync %s: %s", st->dir, strerror(errno));
        }
        st->phase = 2;
    }
    /* The files are durable; the index follows them in one transaction
     * (if it fails, the next st_sync tries the index again). */
    if (st->ix != NULL) {
        ii = malloc((st->nitems + 1) * sizeof(*ii));
        if (ii == NULL) {
            return nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
        }
        for (size_t i = 0; i < st->nitems; i++) {
            if (st->items[i].sidecar != NULL) {
                ii[n].sidecar = st->items[i].sidecar;
                ii[n].text = st->items[i].text;
                ii[n].text_len = st->items[i].text_len;
                n++;
            }
        }
        rc = ix_put_batch(st->ix, ii, n, errbuf, errlen);
        free(ii);
        if (rc != 0) {
            return rc;
        }
    }
    for (size_t i = 0; i < st->nitems && st->on_durable != NULL; i++) {
        st->on_durable(st->durable_arg, st->items[i].report);
    }
    batch_clear(st);
    return 0;
}

int st_stage(nl_store *st, const json_t *rec, const json_t *trace, json_t **report, char *errbuf,
             size_t errlen)
{
    *report = NULL;
    /* a sync left half done finishes first; a full batch is made durable */
    if (st->phase != 0 || st->nitems >= ST_BATCH_MAX || st->batch_bytes >= ST_BATCH_BYTES) {
        int rc = st_sync(st, errbuf, errlen);
        if (rc != 0) {
            return rc;
        }
    }
    return stage_one(st, rec, trace, report, errbuf, errlen);
}

int st_put(nl_store *st, const json_t *rec, const json_t *trace, json_t **report, char *errbuf,
           size_t errlen)
{
    int rc = st_stage(st, rec, trace, report, errbuf, errlen);

    if (rc == 0) {
        rc = st_sync(st, errbuf, errlen);
    }
    if (rc != 0) {
        json_decref(*report);
        *report = NULL;
    }
    return rc;
}

size_t st_pending(const nl_store *st)
{
    return st->nitems;
}

void st_on_durable(nl_store *st, st_durable_fn fn, void *arg)
{
    st->on_durable = fn;
    st->durable_arg = arg;
}

void st_set_index(nl_store *st, nl_index *ix)
{
    st->ix = ix;
}
