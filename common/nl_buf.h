/* A growable byte buffer with a hard cap, after curl's dynbuf.
 *
 * Ownership: the buffer owns ptr. When an append would pass max, the buffer
 * is freed and reset (len 0) and NL_ETOOBIG is returned, so a hostile input
 * can never make it grow without bound. ptr is always NUL-terminated when
 * not NULL (the NUL is not counted in len). */
#ifndef NL_BUF_H
#define NL_BUF_H

#include <stddef.h>

typedef struct nl_buf {
    char *ptr;
    size_t len;
    size_t cap;
    size_t max;
} nl_buf;

void nl_buf_init(nl_buf *b, size_t max);
/* 0, NL_ENOMEM or NL_ETOOBIG; on either error the buffer is empty. */
int nl_buf_append(nl_buf *b, const void *data, size_t n);
int nl_buf_appendf(nl_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void nl_buf_reset(nl_buf *b);
void nl_buf_free(nl_buf *b);
/* Hands ptr to the caller (who frees it) and leaves the buffer empty. */
char *nl_buf_steal(nl_buf *b, size_t *len);

/* Reads the file name (relative to dirfd) whole into a new NUL-terminated
 * buffer the caller frees, its length in *len; NULL if it is absent or
 * unreadable. For files the process wrote itself (sidecars): no cap. */
char *nl_read_at(int dirfd, const char *name, size_t *len);

#endif
