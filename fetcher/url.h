/* URL normalisation for dedup and record ids, on libcurl's URL API.
 *
 * The canonical form of an http(s) URL:
 *   - scheme and host lower-case; a non-ASCII host punycoded (IDNA 2008
 *     with UTS 46 mapping, libidn2), so "bücher.de" and "xn--bcher-kva.de"
 *     are one host; IPv6 hosts compressed and lower-case; numeric IPv4
 *     forms ("0x7f.1") written dotted-decimal (curl);
 *   - userinfo dropped (it must not reach records or ids), zone ids refused;
 *   - the default port (80, 443) dropped; the fragment dropped;
 *   - the path "/" when empty, dot segments removed;
 *   - percent-encoding: hex digits upper-case, unreserved characters
 *     (A-Z a-z 0-9 - . _ ~) decoded, a stray '%' written "%25", spaces,
 *     non-ASCII bytes and other characters not allowed in
 *     the path or query encoded;
 *   - tracking parameters removed from the query (fx_url_is_tracking: utm_*,
 *     fbclid, gclid, ...), empty parameters ("a=1&&b") dropped, the others
 *     kept in order; an empty query drops the '?'.
 * Leading and trailing ASCII whitespace is trimmed; any other control
 * character, a scheme other than http or https (javascript:, data:, ftp:,
 * file:), a missing host and a URL over FX_URL_MAX bytes are refused.
 *
 * Ownership: the functions returning a URL return a new malloc'd string in
 * *out that the caller frees; on error *out is NULL. Errors: NL_EINVAL
 * (with the reason in errbuf), NL_ETOOBIG (over FX_URL_MAX), NL_ENOMEM.
 * errbuf may be NULL. Thread-safe (no shared state). */
#ifndef FX_URL_H
#define FX_URL_H

#include "nl_buf.h"

#include <stddef.h>

/* Longest URL accepted, as given or normalised (bytes). */
#define FX_URL_MAX 8192

/* The canonical form of an absolute http(s) URL. */
int fx_url_normalize(const char *url, char **out, char *errbuf, size_t errlen);

/* ref (relative or absolute, as found in a feed item or a Location
 * header) resolved against base (an absolute http(s) URL) per RFC 3986,
 * then normalised. An empty ref or a fragment-only ref gives base. */
int fx_url_resolve(const char *base, const char *ref, char **out, char *errbuf, size_t errlen);

/* The record id of a normalised URL: 16 lower-case hex digits of its
 * FNV-1a 64 hash (nl_id_from_string) in out[17]. */
void fx_url_id(const char *normalized, char out[17]);

/* 1 if the query parameter name[0..len) (already percent-normalised) is a
 * tracking parameter, compared case-insensitively, else 0. */
int fx_url_is_tracking(const char *name, size_t len);

/* Appends s[0..n) to b with the percent-encoding normalised as in the
 * canonical form (characters outside the path's set encoded, '?' kept
 * when query is 1). 0, or an nl_buf error (b is then empty). */
int fx_url_pct_norm(nl_buf *b, const char *s, size_t n, int query);

/* The host of a normalised URL, in host[size] (for per-host politeness):
 * 0, or NL_EINVAL if url has no host, NL_ETOOBIG if size is too small. */
int fx_url_host(const char *normalized, char *host, size_t size);

#endif
