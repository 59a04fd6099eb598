/* The seen-set file and its in-memory hash set (seen.h). */
#include "seen.h"

#include "nl_err.h"
#include "nl_log.h"
#include "url.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define REC_SIZE 16
#define CHECK_KEY 0x6e6c7365656e3031ULL /* "nlseen01" */
#define CKPT_KEY 0x6e6c636b70743031ULL  /* "nlckpt01" */

struct fx_seen {
    int fd;
    fx_hset set;
    char *path;
    int dirty;    /* appended since the last sync */
    int64_t ckpt; /* the last checkpoint record's offset, or -1 */
};

/* ---- hash set ---------------------------------------------------------- */

static size_t slot_of(uint64_t h, size_t cap)
{
    /* The hashes are FNV-1a already; mix once more so low bits spread. */
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return (size_t)h & (cap - 1);
}

int fx_hset_has(const fx_hset *s, uint64_t h)
{
    if (h == 0) {
        h = 1;
    }
    if (s->cap == 0) {
        return 0;
    }
    for (size_t i = slot_of(h, s->cap);; i = (i + 1) & (s->cap - 1)) {
        if (s->slots[i] == h) {
            return 1;
        }
        if (s->slots[i] == 0) {
            return 0;
        }
    }
}

static int grow(fx_hset *s)
{
    size_t cap = s->cap ? s->cap * 2 : 1024;
    uint64_t *slots = calloc(cap, sizeof(*slots));

    if (slots == NULL) {
        return NL_ENOMEM;
    }
    for (size_t j = 0; j < s->cap; j++) {
        if (s->slots[j] != 0) {
            size_t i = slot_of(s->slots[j], cap);
            while (slots[i] != 0) {
                i = (i + 1) & (cap - 1);
            }
            slots[i] = s->slots[j];
        }
    }
    free(s->slots);
    s->slots = slots;
    s->cap = cap;
    return 0;
}

int fx_hset_add(fx_hset *s, uint64_t h)
{
    size_t i;

    if (h == 0) {
        h = 1;
    }
    if (fx_hset_has(s, h)) {
        return 0;
    }
    /* At most 3/4 full, so probes stay short and an empty slot exists. */
    if ((s->n + 1) * 4 > s->cap * 3 && grow(s) != 0) {
        return NL_ENOMEM;
    }
    i = slot_of(h, s->cap);
    while (s->slots[i] != 0) {
        i = (i + 1) & (s->cap - 1);
    }
    s->slots[i] = h;
    s->n++;
    return 1;
}

void fx_hset_clear(fx_hset *s)
{
    if (s->slots != NULL) {
        memset(s->slots, 0, s->cap * sizeof(*s->slots));
    }
    s->n = 0;
}

void fx_hset_free(fx_hset *s)
{
    free(s->slots);
    memset(s, 0, sizeof(*s));
}

/* ---- the file ---------------------------------------------------------- */

uint64_t fx_seen_hash(const char *normalized_url)
{
    char id[17];
    fx_url_id(normalized_url, id);
    return strtoull(id, NULL, 16);
}

static uint64_t check_of(uint64_t h)
{
    uint64_t c = h ^ CHECK_KEY;
    c = (c << 29) | (c >> 35);
    return ~c;
}

/* A checkpoint record's check word: another key and rotation than a URL
 * record's, so neither passes for the other (one value in 2^64 aside, and
 * a record that passes as a URL is read as one). */
static uint64_t ckpt_check_of(uint64_t v)
{
    uint64_t c = v ^ CKPT_KEY;
    return (c << 17) | (c >> 47);
}

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (unsigned char)(v >> (8 * i));
    }
}

static uint64_t get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

/* Reads the records of fd into s->set; *good is the length of the valid
 * prefix. 0, NL_EIO or NL_ENOMEM. */
static int load(fx_seen *s, off_t *good, char *errbuf, size_t errlen)
{
    unsigned char buf[REC_SIZE * 512];
    size_t have = 0;
    off_t pos = 0;

    *good = 0;
    for (;;) {
        ssize_t n = read(s->fd, buf + have, sizeof(buf) - have);
        size_t i;

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return nl_errf(errbuf, errlen, NL_EIO, "%s: read: %s", s->path, strerror(errno));
        }
        have += (size_t)n;
        for (i = 0; i + REC_SIZE <= have; i += REC_SIZE) {
            uint64_t h = get64(buf + i);
            uint64_t check = get64(buf + i + 8);
            if (check == check_of(h)) {
                if (fx_hset_add(&s->set, h) < 0) {
                    return nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory loading %s", s->path);
                }
            } else if (check == ckpt_check_of(h) && h <= INT64_MAX) {
                s->ckpt = (int64_t)h;
            } else {
                return 0; /* the first bad record ends the valid prefix */
            }
            pos += REC_SIZE;
            *good = pos;
        }
        memmove(buf, buf + i, have - i);
        have -= i;
        if (n == 0) {
            return 0;
        }
    }
}

int fx_seen_open(const char *path, fx_seen **out, char *errbuf, size_t errlen)
{
    fx_seen *s = calloc(1, sizeof(*s));
    struct stat st;
    off_t good = 0;
    int rc;

    *out = NULL;
    if (s == NULL || (s->path = strdup(path)) == NULL) {
        free(s);
        return nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
    }
    s->ckpt = -1;
    s->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (s->fd < 0) {
        rc = nl_errf(errbuf, errlen, NL_EIO, "%s: %s", path, strerror(errno));
        goto fail;
    }
    rc = load(s, &good, errbuf, errlen);
    if (rc == 0 && fstat(s->fd, &st) != 0) {
        rc = nl_errf(errbuf, errlen, NL_EIO, "%s: stat: %s", path, strerror(errno));
    }
    if (rc != 0) {
        goto fail;
    }
    if (st.st_size != good) {
        nl_warn("seen_truncated", "file=%s size=%lld kept=%lld dropped_bytes=%lld", nl_log_q(path),
                (long long)st.st_size, (long long)good, (long long)(st.st_size - good));
        if (ftruncate(s->fd, good) != 0 || fsync(s->fd) != 0) {
            rc = nl_errf(errbuf, errlen, NL_EIO, "%s: truncate: %s", path, strerror(errno));
            goto fail;
        }
    }
    if (lseek(s->fd, good, SEEK_SET) < 0) {
        rc = nl_errf(errbuf, errlen, NL_EIO, "%s: seek: %s", path, strerror(errno));
        goto fail;
    }
    *out = s;
    return 0;
fail:
    if (s->fd >= 0) {
        close(s->fd);
    }
    fx_hset_free(&s->set);
    free(s->path);
    free(s);
    return rc;
}

int fx_seen_has(const fx_seen *s, uint64_t h)
{
    return fx_hset_has(&s->set, h);
}

/* Appends one record (a, b). 0, or NL_EIO with the file as it was. */
static int append_rec(fx_seen *s, uint64_t a, uint64_t b, char *errbuf, size_t errlen)
{
    unsigned char rec[REC_SIZE];
    off_t at;
    ssize_t n;

    put64(rec, a);
    put64(rec + 8, b);
    at = lseek(s->fd, 0, SEEK_CUR);
    do {
        n = write(s->fd, rec, sizeof(rec));
    } while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof(rec)) {
        int err = n < 0 ? errno : ENOSPC;
        /* Cut a partial record off so the next append stays aligned. */
        if (at >= 0 && ftruncate(s->fd, at) == 0) {
            lseek(s->fd, at, SEEK_SET);
        }
        return nl_errf(errbuf, errlen, NL_EIO, "%s: write: %s", s->path, strerror(err));
    }
    s->dirty = 1;
    return 0;
}

int fx_seen_add(fx_seen *s, uint64_t h, char *errbuf, size_t errlen)
{
    int rc;

    if (fx_hset_has(&s->set, h)) {
        return 0;
    }
    rc = append_rec(s, h, check_of(h), errbuf, errlen);
    if (rc != 0) {
        return rc;
    }
    if (fx_hset_add(&s->set, h) < 0) {
        /* On disk but not in memory: a later add appends it again, which
         * loading tolerates (a duplicate is just one more add). */
        return nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
    }
    return 1;
}

int64_t fx_seen_checkpoint(const fx_seen *s)
{
    return s->ckpt;
}

int fx_seen_set_checkpoint(fx_seen *s, int64_t offset, char *errbuf, size_t errlen)
{
    int rc;

    if (offset < 0) {
        return nl_errf(errbuf, errlen, NL_EINVAL, "negative checkpoint %lld", (long long)offset);
    }
    if (offset == s->ckpt) {
        return 0;
    }
    rc = append_rec(s, (uint64_t)offset, ckpt_check_of((uint64_t)offset), errbuf, errlen);
    if (rc == 0) {
        s->ckpt = offset;
    }
    return rc;
}

int fx_seen_sync(fx_seen *s, char *errbuf, size_t errlen)
{
    if (!s->dirty) {
        return 0;
    }
    if (fdatasync(s->fd) != 0) {
        return nl_errf(errbuf, errlen, NL_EIO, "%s: fdatasync: %s", s->path, strerror(errno));
    }
    s->dirty = 0;
    return 0;
}

size_t fx_seen_count(const fx_seen *s)
{
    return s->set.n;
}

int fx_seen_close(fx_seen *s)
{
    char errbuf[256];
    int rc;

    if (s == NULL) {
        return 0;
    }
    rc = fx_seen_sync(s, errbuf, sizeof(errbuf));
    if (rc != 0) {
        nl_error("seen_sync_failed", "reason=%s", nl_log_q(errbuf));
    }
    close(s->fd);
    fx_hset_free(&s->set);
    free(s->path);
    free(s);
    return rc;
}
