#include "nl_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

int nl_log_level = NL_LOG_INFO;
static const char *log_prog = "newsline";

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void nl_log_init(const char *prog)
{
    log_prog = prog;
}

int nl_log_set_level(const char *name)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(name, level_names[i]) == 0) {
            nl_log_level = i;
            return 0;
        }
    }
    return -1;
}

const char *nl_log_q(const char *s)
{
    static _Thread_local char ring[8][512];
    static _Thread_local unsigned next;
    char *out = ring[next++ % 8];
    size_t o = 0;

    if (s == NULL) {
        s = "";
    }
    out[o++] = '"';
    for (; *s != '\0' && o < sizeof(ring[0]) - 3; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c == '\n' || c == '\r' || c == '\t') {
            out[o++] = ' ';
        } else if (c < 0x20 || c == 0x7f) {
            out[o++] = '?';
        } else {
            out[o++] = (char)c;
        }
    }
    out[o++] = '"';
    out[o] = '\0';
    return out;
}

void nl_log_emit(int level, const char *event, const char *fmt, ...)
{
    char line[2048];
    struct timeval tv;
    struct tm tm;
    int n;

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    n = snprintf(line, sizeof(line),
                 "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s prog=%s event=%s",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (long)(tv.tv_usec / 1000), level_names[level < 0 || level > 3 ? 3 : level],
                 log_prog, event);
    if (n > 0 && (size_t)n < sizeof(line) - 2 && fmt != NULL && fmt[0] != '\0') {
        va_list ap;
        line[n++] = ' ';
        va_start(ap, fmt);
        vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
        va_end(ap);
    }
    /* One event, one line: a stray newline in a value must not split it. */
    for (char *p = line; *p != '\0'; p++) {
        if (*p == '\n' || *p == '\r') {
            *p = ' ';
        }
    }
    fprintf(stderr, "%s\n", line);
}
