/* URL normalisation: curl parses and resolves, this file canonicalises
 * what curl hands back (host, percent-encoding, dot segments after
 * decoding, tracking parameters). */
#include "url.h"

#include "nl_buf.h"
#include "nl_err.h"
#include "nl_text.h"

#include <ctype.h>
#include <curl/curl.h>
#include <idn2.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Query parameters that only say where a click came from. A name ending
 * in '_' here is a prefix ("utm_" covers utm_source, utm_medium, ...). */
static const char *const tracking_params[] = {
    "utm_",   "fbclid", "gclid", "dclid",  "msclkid", "mc_cid",
    "mc_eid", "_ga",    "yclid", "igshid", "ref_src", NULL,
};

static const char hexdig[] = "0123456789ABCDEF";

static int is_unreserved(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* Characters kept as they are in a path (pchar and '/') or a query (also
 * '?'); everything else outside unreserved is percent-encoded. */
static int is_allowed(unsigned char c, int query)
{
    if (c >= 0x80) {
        return 0;
    }
    return is_unreserved(c) || strchr("!$&'()*+,;=:@/", c) != NULL || (query && c == '?');
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = (unsigned char)tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int fx_url_is_tracking(const char *name, size_t len)
{
    for (size_t i = 0; tracking_params[i] != NULL; i++) {
        const char *t = tracking_params[i];
        size_t n = strlen(t);
        int prefix = t[n - 1] == '_';
        if ((prefix ? len > n : len == n) && strncasecmp(name, t, n) == 0) {
            return 1;
        }
    }
    return 0;
}

void fx_url_id(const char *normalized, char out[17])
{
    nl_id_from_string(normalized, strlen(normalized), out);
}

int fx_url_pct_norm(nl_buf *b, const char *s, size_t n, int query)
{
    char enc[3] = {'%', 0, 0};
    int rc = 0;

    for (size_t i = 0; i < n && rc == 0; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%' && i + 2 < n && hexval((unsigned char)s[i + 1]) >= 0 &&
            hexval((unsigned char)s[i + 2]) >= 0) {
            unsigned char v = (unsigned char)(hexval((unsigned char)s[i + 1]) * 16 +
                                              hexval((unsigned char)s[i + 2]));
            i += 2;
            if (is_unreserved(v)) {
                rc = nl_buf_append(b, &v, 1);
                continue;
            }
            c = v;
        } else if (is_allowed(c, query)) {
            rc = nl_buf_append(b, &c, 1);
            continue;
        }
        enc[1] = hexdig[c >> 4];
        enc[2] = hexdig[c & 15];
        rc = nl_buf_append(b, enc, 3);
    }
    return rc;
}

/* RFC 3986 5.2.4 on an absolute path, in place (the output is never
 * longer than the input). */
static void remove_dot_segments(char *p)
{
    char *w = p;
    const char *r = p;

    while (*r != '\0') {
        const char *seg = r + 1; /* r is at a '/' */
        size_t n = strcspn(seg, "/");
        int last = seg[n] == '\0';
        if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.')) {
            if (n == 2) {
                while (w > p && *--w != '/') {
                }
            }
            r = seg + n;
            if (last) {
                *w++ = '/';
            }
            continue;
        }
        memmove(w, r, n + 1);
        w += n + 1;
        r = seg + n;
    }
    if (w == p) {
        *w++ = '/';
    }
    *w = '\0';
}

/* The query without tracking or empty parameters, each normalised; appends
 * "?..." to b unless nothing is left. */
static int filter_query(nl_buf *b, const char *q)
{
    nl_buf part;
    int rc = 0, first = 1;

    nl_buf_init(&part, FX_URL_MAX);
    while (rc == 0) {
        size_t n = strcspn(q, "&");
        nl_buf_reset(&part);
        if (n > 0) {
            rc = fx_url_pct_norm(&part, q, n, 1);
        }
        if (rc == 0 && part.len > 0 && !fx_url_is_tracking(part.ptr, strcspn(part.ptr, "="))) {
            rc = nl_buf_append(b, first ? "?" : "&", 1);
            if (rc == 0) {
                rc = nl_buf_append(b, part.ptr, part.len);
            }
            first = 0;
        }
        if (q[n] == '\0') {
            break;
        }
        q += n + 1;
    }
    nl_buf_free(&part);
    return rc;
}

/* The host as it goes into the canonical URL: ASCII lower-cased, or
 * punycoded when it holds non-ASCII bytes. */
static int canonical_host(nl_buf *b, const char *host, char *errbuf, size_t errlen)
{
    int ascii = 1, rc;

    for (const char *p = host; *p != '\0'; p++) {
        ascii &= (unsigned char)*p < 0x80;
    }
    if (!ascii) {
        char *puny = NULL;
        int irc = idn2_lookup_u8((const uint8_t *)host, (uint8_t **)&puny,
                                 IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
        if (irc != IDN2_OK) {
            irc = idn2_lookup_u8((const uint8_t *)host, (uint8_t **)&puny,
                                 IDN2_NFC_INPUT | IDN2_TRANSITIONAL);
        }
        if (irc == IDN2_MALLOC) {
            return nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
        }
        if (irc != IDN2_OK) {
            return nl_errf(errbuf, errlen, NL_EINVAL, "bad international host name: %s",
                           idn2_strerror(irc));
        }
        rc = nl_buf_append(b, puny, strlen(puny));
        idn2_free(puny);
        return rc;
    }
    for (const char *p = host; *p != '\0'; p++) {
        char c = (char)tolower((unsigned char)*p);
        rc = nl_buf_append(b, &c, 1);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

/* A host name DNS can carry: at most 253 bytes (and a final dot), labels
 * of at most 63. */
static int dns_length_ok(const char *host)
{
    size_t n = strlen(host);

    if (n > 0 && host[n - 1] == '.') {
        n--;
    }
    if (n > 253) {
        return 0;
    }
    for (size_t i = 0; i < n;) {
        size_t label = strcspn(host + i, ".");
        if (label > 63) {
            return 0;
        }
        i += label + 1;
    }
    return 1;
}

static int curl_err(CURLUcode uc, const char *what, char *errbuf, size_t errlen)
{
    if (uc == CURLUE_OUT_OF_MEMORY) {
        return nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
    }
    return nl_errf(errbuf, errlen, NL_EINVAL, "%s: %s", what, curl_url_strerror(uc));
}

/* The canonical URL of what h holds. */
static int from_handle(CURLU *h, char **out, char *errbuf, size_t errlen)
{
    char *scheme = NULL, *host = NULL, *zone = NULL, *port = NULL, *path = NULL, *query = NULL;
    nl_buf b;
    size_t host_at;
    CURLUcode uc;
    int rc;

    nl_buf_init(&b, FX_URL_MAX);
    uc = curl_url_get(h, CURLUPART_SCHEME, &scheme, 0);
    if (uc != CURLUE_OK) {
        rc = curl_err(uc, "bad URL", errbuf, errlen);
        goto out;
    }
    if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0) {
        rc = nl_errf(errbuf, errlen, NL_EINVAL, "scheme \"%.32s\" is not http or https", scheme);
        goto out;
    }
    uc = curl_url_get(h, CURLUPART_HOST, &host, 0);
    if (uc != CURLUE_OK || host[0] == '\0') {
        rc = uc == CURLUE_OUT_OF_MEMORY ? curl_err(uc, "", errbuf, errlen)
                                        : nl_errf(errbuf, errlen, NL_EINVAL, "no host");
        goto out;
    }
    uc = curl_url_get(h, CURLUPART_ZONEID, &zone, 0);
    if (uc == CURLUE_OK) {
        rc = nl_errf(errbuf, errlen, NL_EINVAL, "an IPv6 zone id is not allowed");
        goto out;
    }
    uc = curl_url_get(h, CURLUPART_PORT, &port, CURLU_NO_DEFAULT_PORT);
    if (uc != CURLUE_OK && uc != CURLUE_NO_PORT) {
        rc = curl_err(uc, "bad port", errbuf, errlen);
        goto out;
    }
    uc = curl_url_get(h, CURLUPART_PATH, &path, 0);
    if (uc != CURLUE_OK) {
        rc = curl_err(uc, "bad path", errbuf, errlen);
        goto out;
    }
    uc = curl_url_get(h, CURLUPART_QUERY, &query, 0);
    if (uc != CURLUE_OK && uc != CURLUE_NO_QUERY) {
        rc = curl_err(uc, "bad query", errbuf, errlen);
        goto out;
    }

    rc = nl_buf_append(&b, strcasecmp(scheme, "https") == 0 ? "https://" : "http://",
                       strcasecmp(scheme, "https") == 0 ? 8 : 7);
    host_at = b.len;
    if (rc == 0) {
        rc = canonical_host(&b, host, errbuf, errlen);
        if (rc == NL_EINVAL) {
            goto out;
        }
    }
    if (rc == 0 && host[0] != '[' && !dns_length_ok(b.ptr + host_at)) {
        rc = nl_errf(errbuf, errlen, NL_EINVAL, "host name too long for DNS");
        goto out;
    }
    if (rc == 0 && port != NULL) {
        rc = nl_buf_appendf(&b, ":%s", port);
    }
    if (rc == 0) {
        size_t at = b.len;
        if (path[0] != '/') {
            rc = nl_buf_append(&b, "/", 1);
        }
        if (rc == 0) {
            rc = fx_url_pct_norm(&b, path, strlen(path), 0);
        }
        if (rc == 0) {
            remove_dot_segments(b.ptr + at);
            b.len = at + strlen(b.ptr + at);
        }
    }
    if (rc == 0 && query != NULL) {
        rc = filter_query(&b, query);
    }
    if (rc == NL_ETOOBIG) {
        nl_errf(errbuf, errlen, rc, "normalised URL is over %d bytes", FX_URL_MAX);
    } else if (rc == NL_ENOMEM) {
        nl_errf(errbuf, errlen, rc, "out of memory");
    }
out:
    if (rc == 0) {
        *out = nl_buf_steal(&b, NULL);
    }
    nl_buf_free(&b);
    curl_free(scheme);
    curl_free(host);
    curl_free(zone);
    curl_free(port);
    curl_free(path);
    curl_free(query);
    return rc;
}

/* s trimmed of ASCII whitespace, checked for control characters and
 * length, with spaces and non-ASCII bytes after the authority
 * percent-encoded (curl refuses the former and keeps the latter raw); a
 * non-ASCII host is left for IDN. New string in *out. */
static int prepare(const char *s, char **out, char *errbuf, size_t errlen)
{
    const char *end;
    size_t start = 0, i;
    nl_buf b;
    int rc = 0;

    *out = NULL;
    if (s == NULL) {
        return nl_errf(errbuf, errlen, NL_EINVAL, "no URL");
    }
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\f') {
        s++;
    }
    end = s + strnlen(s, FX_URL_MAX + 1);
    if (end - s > FX_URL_MAX) {
        return nl_errf(errbuf, errlen, NL_ETOOBIG, "URL is over %d bytes", FX_URL_MAX);
    }
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r' ||
                       end[-1] == '\f')) {
        end--;
    }
    for (const char *p = s; p < end; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            return nl_errf(errbuf, errlen, NL_EINVAL, "control character 0x%02x in URL",
                           (unsigned)(unsigned char)*p);
        }
    }
    /* the authority, if any: "scheme://host" or "//host" */
    i = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");
    if (i > 0 && i < (size_t)(end - s) && s[i] == ':' && isalpha((unsigned char)s[0])) {
        start = i + 1;
    }
    if (end - s >= (ptrdiff_t)start + 2 && s[start] == '/' && s[start + 1] == '/') {
        start += 2;
        while (s + start < end && strchr("/?#", s[start]) == NULL) {
            start++;
        }
    } else {
        start = 0;
    }
    nl_buf_init(&b, 3 * FX_URL_MAX);
    rc = nl_buf_append(&b, s, start);
    for (const char *p = s + start; p < end && rc == 0; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == ' ' || c >= 0x80) {
            char enc[3] = {'%', hexdig[c >> 4], hexdig[c & 15]};
            rc = nl_buf_append(&b, enc, 3);
        } else {
            rc = nl_buf_append(&b, p, 1);
        }
    }
    if (rc == 0 && b.ptr == NULL) {
        rc = nl_buf_append(&b, "", 0);
    }
    if (rc != 0) {
        nl_buf_free(&b);
        return nl_errf(errbuf, errlen, rc, "out of memory");
    }
    *out = nl_buf_steal(&b, NULL);
    return 0;
}

int fx_url_normalize(const char *url, char **out, char *errbuf, size_t errlen)
{
    return fx_url_resolve(url, NULL, out, errbuf, errlen);
}

int fx_url_resolve(const char *base, const char *ref, char **out, char *errbuf, size_t errlen)
{
    char *b = NULL, *r = NULL;
    CURLU *h = NULL;
    CURLUcode uc;
    int rc;

    *out = NULL;
    rc = prepare(base, &b, errbuf, errlen);
    if (rc == 0 && ref != NULL) {
        rc = prepare(ref, &r, errbuf, errlen);
    }
    if (rc != 0) {
        goto out;
    }
    h = curl_url();
    if (h == NULL) {
        rc = nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
        goto out;
    }
    uc = curl_url_set(h, CURLUPART_URL, b, 0);
    if (uc != CURLUE_OK) {
        rc = curl_err(uc, ref != NULL ? "bad base URL" : "bad URL", errbuf, errlen);
        goto out;
    }
    /* curl 7.88 resolves "#frag" and "" against the base's directory, not
     * the base itself (RFC 3986 5.4.1); the fragment goes anyway */
    if (r != NULL && r[0] != '\0' && r[0] != '#') {
        uc = curl_url_set(h, CURLUPART_URL, r, 0);
        if (uc != CURLUE_OK) {
            rc = curl_err(uc, "bad URL", errbuf, errlen);
            goto out;
        }
    }
    rc = from_handle(h, out, errbuf, errlen);
out:
    curl_url_cleanup(h);
    free(b);
    free(r);
    return rc;
}

int fx_url_host(const char *normalized, char *host, size_t size)
{
    const char *p = strstr(normalized, "://");
    size_t n;

    if (p == NULL) {
        return NL_EINVAL;
    }
    p += 3;
    if (*p == '[') {
        n = strcspn(p, "]");
        n += p[n] == ']';
    } else {
        n = strcspn(p, ":/?#");
    }
    if (n == 0) {
        return NL_EINVAL;
    }
    if (n >= size) {
        return NL_ETOOBIG;
    }
    memcpy(host, p, n);
    host[n] = '\0';
    return 0;
}
