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
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

/* The text is NUL-terminated only by jw_end: appends skip it. */
static inline void jw_raw(jw *w, const char *s, size_t n)
{
    if (w->cap - w->len < n + 1 && !jw_grow(w, n)) {
        return;
    }
    memcpy(w->p + w->len, s, n);
    w->len += n;
}

/* Room for n more bytes at the end, for a caller that writes them with
 * jw_put_* and then sets len; NULL (and oom) if there is none. */
static inline char *jw_reserve(jw *w, size_t n)
{
    if (w->cap - w->len < n + 1 && !jw_grow(w, n)) {
        return NULL;
    }
    return w->p + w->len;
}

/* v < 10^4 as four ASCII digits, leading zeros included, in memory order
 * (little-endian), from a table of digit pairs. */
static inline uint32_t jw_four(uint32_t v)
{
    static const char pairs[201] = "00010203040506070809101112131415161718192021222324252627282930"
                                   "31323334353637383940414243444546474849505152535455565758596061"
                                   "62636465666768697071727374757677787980818283848586878889909192"
                                   "93949596979899";
    uint32_t hi = v / 100;
    uint16_t a, b;
    memcpy(&a, pairs + 2 * hi, 2);
    memcpy(&b, pairs + 2 * (v - hi * 100), 2);
    return (uint32_t)a | (uint32_t)b << 16;
}

/* v in decimal at p; returns the end. Below 10^8 (every offset of a
 * document under 100 MB) the digits go four at a time, stored whole: p
 * must have 4 bytes of room past the number. */
static inline char *jw_put_uint(char *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (v < 10000) {
        unsigned skip = (v < 10) + (v < 100) + (v < 1000); /* leading zeros */
        uint32_t x = jw_four((uint32_t)v) >> (8 * skip);
        memcpy(p, &x, 4);
        return p + 4 - skip;
    }
    if (v < 100000000) {
        uint32_t hi = (uint32_t)v / 10000, x = jw_four((uint32_t)v - hi * 10000);
        p = jw_put_uint(p, hi);
        memcpy(p, &x, 4);
        return p + 4;
    }
#endif
    {
        char tmp[20];
        size_t i = sizeof(tmp);
        do {
            tmp[--i] = (char)('0' + v % 10);
            v /= 10;
        } while (v != 0);
        memcpy(p, tmp + i, sizeof(tmp) - i);
        return p + (sizeof(tmp) - i);
    }
}

#define jw_put_lit(p, s) (memcpy((p), (s), sizeof(s) - 1), (p) + sizeof(s) - 1)

static inline void jw_end(jw *w)
{
    if (jw_reserve(w, 0) != NULL) {
        w->p[w->len] = '\0';
    }
}

#define jw_lit(w, s) jw_raw((w), (s), sizeof(s) - 1)

static inline void jw_uint(jw *w, uint64_t v)
{
    char *p = jw_reserve(w, 20);
    if (p != NULL) {
        w->len += (size_t)(jw_put_uint(p, v) - p);
    }
}

/* Length of the longest prefix of s[0, n) that JSON takes as it is (no
 * control character, quote or backslash): 16 bytes at a time with SSE2,
 * since evidence sentences are most of the bytes the tagger writes. */
static inline size_t jw_plain_prefix(const char *s, size_t n)
{
    size_t i = 0;
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
    const __m128i ctl = _mm_set1_epi8(0x1f);
    for (; i + 16 <= n; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bslash)),
                                 _mm_cmpeq_epi8(_mm_max_epu8(x, ctl), ctl));
        unsigned mask = (unsigned)_mm_movemask_epi8(m);
        if (mask != 0) {
            return i + (size_t)__builtin_ctz(mask);
        }
    }
#endif
    for (; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == '"' || c == '\\') {
            return i;
        }
    }
    return n;
}

/* Whether s[0, n) is all plain (jw_plain_prefix), for a short string
 * whose buffer goes on to at least limit: one 16-byte load when s + 16
 * fits below it. */
static inline int jw_plain_short(const char *s, size_t n, const char *limit)
{
#if defined(__SSE2__)
    if (n <= 16 && limit - s >= 16) {
        const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
        const __m128i ctl = _mm_set1_epi8(0x1f);
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)s);
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bslash)),
                                 _mm_cmpeq_epi8(_mm_max_epu8(x, ctl), ctl));
        return ((unsigned)_mm_movemask_epi8(m) & ((1u << n) - 1)) == 0;
    }
#endif
    (void)limit;
    return jw_plain_prefix(s, n) == n;
}

/* "s" with JSON escapes. */
static inline void jw_str(jw *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i = 0;

    jw_lit(w, "\"");
    while (i < n) {
        size_t k = jw_plain_prefix(s + i, n - i);
        unsigned char c;
        char esc[6];
        size_t e = 0;

        jw_raw(w, s + i, k);
        i += k;
        if (i == n) {
            break;
        }
        c = (unsigned char)s[i++];
        esc[e++] = '\\';
        switch (c) {
        case '"':
        case '\\':
            esc[e++] = (char)c;
            break;
        case '\n':
            esc[e++] = 'n';
            break;
        case '\r':
            esc[e++] = 'r';
            break;
        case '\t':
            esc[e++] = 't';
            break;
        case '\b':
            esc[e++] = 'b';
            break;
        case '\f':
            esc[e++] = 'f';
            break;
        default:
            esc[e++] = 'u';
            esc[e++] = '0';
            esc[e++] = '0';
            esc[e++] = hex[c >> 4];
            esc[e++] = hex[c & 15];
            break;
        }
        jw_raw(w, esc, e);
    }
    jw_lit(w, "\"");
}

#endif
