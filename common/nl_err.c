#include "nl_err.h"

#include <stdarg.h>
#include <stdio.h>

const char *nl_err_code(int err)
{
    switch (err) {
    case NL_OK:
        return "ok";
    case NL_ENOMEM:
        return "no_memory";
    case NL_EINVAL:
        return "invalid_input";
    case NL_ETOOBIG:
        return "too_big";
    case NL_ETRANSIENT:
        return "transient";
    case NL_EFATAL:
        return "fatal";
    case NL_EIO:
        return "io_error";
    case NL_EPENDING:
        return "pending";
    default:
        return "unknown";
    }
}

int nl_errf(char *errbuf, size_t errlen, int err, const char *fmt, ...)
{
    if (errbuf != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errbuf, errlen, fmt, ap);
        va_end(ap);
    }
    return err;
}
