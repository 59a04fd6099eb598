#include "nl_buf.h"

#include "nl_err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void nl_buf_init(nl_buf *b, size_t max)
{
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void nl_buf_free(nl_buf *b)
{
    free(b->ptr);
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
}

void nl_buf_reset(nl_buf *b)
{
    b->len = 0;
    if (b->ptr != NULL) {
        b->ptr[0] = '\0';
    }
}

int nl_buf_append(nl_buf *b, const void *data, size_t n)
{
    size_t need;

    if (n > b->max || b->len > b->max - n) {
        nl_buf_free(b);
        return NL_ETOOBIG;
    }
    need = b->len + n + 1;
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        char *p;
        while (cap < need && cap <= SIZE_MAX / 2) {
            cap *= 2;
        }
        if (cap < need) {
            cap = need;
        }
        /* max + 1 (room for the NUL) must not wrap for an uncapped buffer */
        if (b->max < SIZE_MAX && cap > b->max + 1) {
            cap = b->max + 1;
        }
        p = realloc(b->ptr, cap);
        if (p == NULL) {
            nl_buf_free(b);
            return NL_ENOMEM;
        }
        b->ptr = p;
        b->cap = cap;
    }
    if (n > 0) {
        memcpy(b->ptr + b->len, data, n);
    }
    b->len += n;
    b->ptr[b->len] = '\0';
    return 0;
}

int nl_buf_appendf(nl_buf *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    int n;
    int rc;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        nl_buf_free(b);
        return NL_EINVAL;
    }
    if ((size_t)n < sizeof(small)) {
        return nl_buf_append(b, small, (size_t)n);
    }
    char *big = malloc((size_t)n + 1);
    if (big == NULL) {
        nl_buf_free(b);
        return NL_ENOMEM;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    rc = nl_buf_append(b, big, (size_t)n);
    free(big);
    return rc;
}

char *nl_buf_steal(nl_buf *b, size_t *len)
{
    char *p = b->ptr;
    if (len != NULL) {
        *len = b->len;
    }
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

char *nl_read_at(int dirfd, const char *name, size_t *len)
{
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
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
