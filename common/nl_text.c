#include "nl_text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t avail)
{
    unsigned c = s[0];
    size_t n;
    unsigned cp;

    if (c < 0x80) {
        return c == 0 ? 0 : 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (avail < n) {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }
    return n;
}

int nl_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        size_t n;
        /* eight bytes at a time while they are ASCII and not NUL */
        while (i + 8 <= len) {
            uint64_t x;
            memcpy(&x, p + i, 8);
            if (((x | ((x - 0x0101010101010101ULL) & ~x)) & 0x8080808080808080ULL) != 0) {
                break;
            }
            i += 8;
        }
        if (i >= len) {
            break;
        }
        n = utf8_seq(p + i, len - i);
        if (n == 0) {
            return 0;
        }
        i += n;
    }
    return 1;
}

char *nl_utf8_sanitize(const char *s, size_t len, size_t max_out, size_t *out_len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t cap = (len < max_out ? len : max_out) + 4;
    char *out;
    size_t o = 0;
    size_t i = 0;

    /* Worst case every input byte becomes 3 output bytes, but never more
     * than max_out in all. */
    if (len <= max_out / 3) {
        cap = len * 3 + 1;
    } else {
        cap = max_out + 1;
    }
    out = malloc(cap);
    if (out == NULL) {
        return NULL;
    }
    while (i < len) {
        size_t n = utf8_seq(p + i, len - i);
        if (n == 0) {
            if (o + 3 > max_out) {
                break;
            }
            memcpy(out + o, "\xef\xbf\xbd", 3);
            o += 3;
            i += 1;
        } else {
            if (o + n > max_out) {
                break;
            }
            memcpy(out + o, p + i, n);
            o += n;
            i += n;
        }
    }
    out[o] = '\0';
    if (out_len != NULL) {
        *out_len = o;
    }
    return out;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *nl_base64_encode(const unsigned char *data, size_t len, size_t *out_len)
{
    size_t n = 4 * ((len + 2) / 3);
    char *out = malloc(n + 1);
    size_t o = 0;

    if (out == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)data[i] << 16;
        if (i + 1 < len) {
            v |= (unsigned)data[i + 1] << 8;
        }
        if (i + 2 < len) {
            v |= data[i + 2];
        }
        out[o++] = b64[(v >> 18) & 63];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = i + 1 < len ? b64[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? b64[v & 63] : '=';
    }
    out[o] = '\0';
    if (out_len != NULL) {
        *out_len = o;
    }
    return out;
}

static int b64_val(unsigned char c)
{
    const char *p;
    if (c == '\0') {
        return -1;
    }
    p = strchr(b64, c);
    return p == NULL ? -1 : (int)(p - b64);
}

unsigned char *nl_base64_decode(const char *s, size_t len, size_t *out_len)
{
    unsigned char *out;
    size_t o = 0;

    if (len % 4 != 0) {
        return NULL;
    }
    out = malloc(len / 4 * 3 + 1);
    if (out == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < len; i += 4) {
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            unsigned char c = (unsigned char)s[i + k];
            if (c == '=' && i + 4 == len && k >= 2) {
                v[k] = 0;
                pad++;
            } else {
                v[k] = pad > 0 ? -1 : b64_val(c);
                if (v[k] < 0) {
                    free(out);
                    return NULL;
                }
            }
        }
        unsigned x =
            (unsigned)v[0] << 18 | (unsigned)v[1] << 12 | (unsigned)v[2] << 6 | (unsigned)v[3];
        out[o++] = (unsigned char)(x >> 16);
        if (pad < 2) {
            out[o++] = (unsigned char)(x >> 8);
        }
        if (pad < 1) {
            out[o++] = (unsigned char)x;
        }
    }
    out[o] = '\0';
    if (out_len != NULL) {
        *out_len = o;
    }
    return out;
}

uint64_t nl_hash64(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

void nl_id_from_string(const char *s, size_t len, char out[17])
{
    snprintf(out, 17, "%016llx", (unsigned long long)nl_hash64(s, len));
}

int nl_id_from_doc_name(const char *name, char id[17])
{
    const char *us = strchr(name, '_');
    size_t digits = (size_t)(us != NULL ? us - name : 0);

    if (us == NULL || digits == 0 || strspn(name, "0123456789") != digits || strlen(us + 1) != 20 ||
        strcmp(us + 17, ".txt") != 0) {
        return 0;
    }
    memcpy(id, us + 1, 16);
    id[16] = '\0';
    return nl_id_valid(id);
}

int nl_id_valid(const char *s)
{
    if (s == NULL || strlen(s) != 16) {
        return 0;
    }
    for (int i = 0; i < 16; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return 0;
        }
    }
    return 1;
}

int64_t nl_now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

void nl_format_time_ms(int64_t ms, char out[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char tmp[96];

    gmtime_r(&t, &tm);
    snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (int)((ms % 1000 + 1000) % 1000));
    tmp[31] = '\0';
    memcpy(out, tmp, 32);
}
