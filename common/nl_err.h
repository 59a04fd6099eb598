/* Error classes shared by every module.
 *
 * A function that can fail returns 0 or one of these negative classes and,
 * where it takes one, writes a one-line reason into the caller's errbuf.
 * The class decides what the caller does: retry (TRANSIENT), dead-letter
 * (INVAL, TOOBIG), or exit (NOMEM, FATAL, IO at start-up). */
#ifndef NL_ERR_H
#define NL_ERR_H

#include <stddef.h>

enum {
    NL_OK = 0,
    NL_ENOMEM = -1,     /* allocation failed */
    NL_EINVAL = -2,     /* input is malformed or violates a contract */
    NL_ETOOBIG = -3,    /* input exceeds a configured cap */
    NL_ETRANSIENT = -4, /* may succeed if retried later (disk full, broker down) */
    NL_EFATAL = -5,     /* cannot continue; exit and be restarted */
    NL_EIO = -6,        /* an operating-system call failed */
    NL_EPENDING = -7,   /* not an error: a stage's process deferred its answer (nl_stage.h) */
};

/* Stable snake_case name of an error class ("invalid_input"), for logs and
 * dead-letter records. Never NULL. */
const char *nl_err_code(int err);

/* snprintf into errbuf if errbuf is not NULL; returns err so callers can
 * `return nl_errf(errbuf, errlen, NL_EINVAL, "...")`. */
int nl_errf(char *errbuf, size_t errlen, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
