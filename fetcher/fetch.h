/* One polite HTTP fetch with libcurl: redirects limited to http/https and
 * counted, the body capped in the write callback (a missing or lying
 * Content-Length cannot get past it), TLS verification on, gzip/deflate/br
 * accepted.
 *
 * This is the walking-skeleton fetcher (one easy handle, one transfer at a
 * time); the multi-interface scheduler with robots.txt, per-host delays and
 * feeds replaces it behind fx_fetch(). */
#ifndef FX_FETCH_H
#define FX_FETCH_H

#include "nl_config.h"

#include <jansson.h>
#include <stddef.h>

typedef struct fx_fetcher fx_fetcher;

/* NULL on allocation failure. The fetcher owns a curl easy handle. */
fx_fetcher *fx_new(const nl_config *cfg);
void fx_free(fx_fetcher *fx);

/* Fetches url and returns a newsline.raw/1 record in *raw (new reference).
 * Errors: NL_EINVAL with *code one of "bad_url", "http_status",
 * "body_too_large", "fetch_failed" (after bounded retries of 429/5xx and
 * connection errors); NL_ENOMEM. */
int fx_fetch(fx_fetcher *fx, const char *url, json_t **raw, const char **code, char *errbuf,
             size_t errlen);

#endif
