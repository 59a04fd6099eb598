/* A JSON text writer for the tagger's hot path: appends to one growable
 * buffer that is reused across documents, without building a jansson tree
 * (a tree costs a dozen allocations per mention).
 *
 * Strings given to jw_str must be valid UTF-8 (the tagger's input is
 * checked first); they are escaped as jansson escapes them. On allocation
 * failure the writer sets oom, stops writing, and the caller checks oom
 * once at the end. */
#ifndef WL_JSONW_H
#define WL_JSONW_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct jw {
    char *p;
    size_t len, cap;
    int oom;
} jw;

static int jw_grow(jw *w, size_t more)
{
    size_t cap = w->cap ? w->cap : 4096;
    char *p;

    if (w->oom) {
        return 0;
    }
    while (cap - w->len < more + 1) {
        if (cap > SIZE_MAX / 2) {
            w->oom = 1;
            return 0;
        }
        cap *= 2;
    }
    p = realloc(w->p, cap);
    if (p == NULL) {
        w->oom = 1;
        return 0;
    }
    w->p = p;
    w->cap = cap;
    return 1;
}

static inline void jw_raw(jw *w, const char *s, size_t n)
{
    if (w->cap - w->len < n + 1 && !jw_grow(w, n)) {
        return;
    }
    memcpy(w->p + w->len, s, n);
    w->len += n;
    w->p[w->len] = '\0';
}

#define jw_lit(w, s) jw_raw((w), (s), sizeof(s) - 1)

static inline void jw_uint(jw *w, uint64_t v)
{
    char tmp[24];
    size_t i = sizeof(tmp);

    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    jw_raw(w, tmp + i, sizeof(tmp) - i);
}

/* "s" with JSON escapes. */
static inline void jw_str(jw *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0;

    if (w->cap - w->len < n + 3 && !jw_grow(w, n + 2)) {
        return;
    }
    w->p[w->len++] = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[6];
        size_t k = 0;
        if (c >= 0x20 && c != '"' && c != '\\') {
            continue;
        }
        jw_raw(w, s + run, i - run);
        run = i + 1;
        esc[k++] = '\\';
        switch (c) {
        case '"':
        case '\\':
            esc[k++] = (char)c;
            break;
        case '\n':
            esc[k++] = 'n';
            break;
        case '\r':
            esc[k++] = 'r';
            break;
        case '\t':
            esc[k++] = 't';
            break;
        case '\b':
            esc[k++] = 'b';
            break;
        case '\f':
            esc[k++] = 'f';
            break;
        default:
            esc[k++] = 'u';
            esc[k++] = '0';
            esc[k++] = '0';
            esc[k++] = hex[c >> 4];
            esc[k++] = hex[c & 15];
            break;
        }
        jw_raw(w, esc, k);
    }
    jw_raw(w, s + run, n - run);
    jw_lit(w, "\"");
}

#endif
