/* The fetch engine: many HTTP transfers at once on one thread, on one curl
 * multi handle, with politeness, retries and an address guard.
 *
 * Requests are queued per host (scheme, host and port). Before the first
 * request to a host its robots.txt is fetched (once, cached for
 * fetcher.robots_ttl_s; a failed fetch for at most 5 minutes) and every
 * request is checked against it (robots.h); a disallowed URL fails with
 * "robots_disallowed" and is never requested. A host gets at most
 * fetcher.per_host transfers at once, and two requests to it start at least
 * max(request delay, robots Crawl-delay capped at fetcher.max_crawl_delay_ms)
 * apart; all hosts together at most fetcher.max_in_flight.
 *
 * Redirects (a 3xx but 304, with a Location) are followed by the engine,
 * at most fetcher.max_redirects ("too_many_redirects"), to http and https
 * only ("bad_redirect"): each hop is resolved against the URL it came
 * from, normalised, and queued for its own host like a new request, ahead
 * of that host's other requests, so that host's robots.txt (fetched and
 * cached as for any host; a disallowed target fails with
 * "robots_disallowed" naming it and is never requested), its per-host
 * limit and its delay (Crawl-delay too) apply to every hop. Retries count
 * per hop. robots.txt itself is fetched following its redirects (libcurl).
 *
 * One transfer per URL: a request whose normalised URL is already queued,
 * waiting for a retry or in flight (before its result is delivered), with
 * the same User-Agent and validators (etag, last_modified), starts no
 * transfer; it gets that transfer's result, delivered right after the
 * first request's, with its own user, kind and source (and not_modified
 * judged against its own body_hash), and joined set. Each request still
 * gets exactly one result. A request with other validators or User-Agent
 * gets a transfer of its own.
 *
 * Each transfer: http and https only, TLS verified (peer and host name,
 * against fetcher.ca_file when set, else the system's CAs), HTTP/2 over
 * TLS where the server offers it by ALPN, gzip/deflate/br/zstd accepted,
 * connect and total timeouts and a low-speed abort. The body cap (the
 * smaller of
 * fetcher.max_body_bytes and max_record_bytes) is enforced in the write
 * callback on decoded bytes, so a missing or lying Content-Length and a
 * gzip bomb both stop at the cap ("body_too_large"). Every socket the
 * transfer opens, on every redirect hop, is refused unless its address
 * (after DNS) is public or inside fetcher.allow_private ("private_address").
 *
 * Retries: 429, 5xx and connection errors/timeouts are retried up to
 * fetcher.max_attempts attempts in all, after Retry-After when the server
 * sends one (seconds or an HTTP-date; the whole host waits), else after an
 * exponential back-off with jitter (fx_backoff_ms). Other 4xx are final.
 *
 * Conditional GET: a request may carry an ETag and a Last-Modified date
 * (sent as If-None-Match / If-Modified-Since) and the hash of the body last
 * seen; a 304, or a 200 whose body hashes the same, is a success with
 * not_modified set.
 *
 * Failure codes (fx_result.code): "bad_url", "robots_disallowed",
 * "private_address", "too_many_redirects", "bad_redirect", "body_too_large",
 * "timeout", "http_status", "tls_verify_failed" (the certificate is not
 * trusted or not for the host; the reason has libcurl's detail),
 * "fetch_failed"; and "cancelled" for a request given back by
 * fx_engine_drain (not a failure of the URL).
 *
 * Ownership: fx_engine_add copies everything in the request (but `user`,
 * which is handed back as given). The fx_result passed to the done callback
 * and everything it points to are valid only during the callback. The
 * callback may call fx_engine_add. The engine is single-threaded. */
#ifndef FX_ENGINE_H
#define FX_ENGINE_H

#include "nl_config.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef enum {
    FX_KIND_ARTICLE,
    FX_KIND_FEED,
    FX_KIND_SITEMAP,
    FX_KIND_ROBOTS,
} fx_kind;

typedef struct fx_request {
    const char *url;
    fx_kind kind;
    const char *source;     /* the source's name, for logs and health; or NULL */
    const char *user_agent; /* NULL: fetcher.user_agent */
    int64_t delay_ms;       /* least gap between requests to the host; -1: fetcher.min_delay_ms */
    const char *etag;       /* conditional GET validators, or NULL */
    const char *last_modified; /* as the server sent it */
    const char *body_hash;     /* 16 hex digits of the body last seen, or NULL */
    void *user;
} fx_request;

typedef struct fx_result {
    const char *url;       /* normalised, as requested */
    const char *final_url; /* normalised, after redirects (url if none) */
    char id[17];           /* the record id: of final_url */
    fx_kind kind;
    const char *source; /* or NULL */
    void *user;
    long status;              /* last HTTP status, 0 if none */
    const char *http_version; /* "1.0", "1.1", "2", "3"; NULL if no response */
    const char *content_type; /* or NULL */
    const char *etag;         /* response validators, or NULL */
    const char *last_modified;
    const char *body; /* NUL-terminated; "" on failure */
    size_t body_len;
    char body_hash[17];    /* XXH3-64 of the body, 16 hex digits; "" for a 304 */
    int not_modified;      /* 304, or the body hash matched the request's */
    int attempts;          /* of the last hop */
    int redirects;         /* redirects followed */
    int joined;            /* answered with another request's transfer (fx_engine_add) */
    int64_t fetched_at_ms; /* wall clock */
    const char *code;      /* NULL on success, else a failure code */
    const char *reason;    /* "" on success */
} fx_result;

typedef void (*fx_done_fn)(void *ctx, const fx_result *res);

typedef struct fx_engine fx_engine;

/* A new engine reading its settings from cfg (which must outlive it).
 * NULL with the reason in errbuf: a bad fetcher.allow_private or an
 * unreadable fetcher.ca_file names the key (exit 2), else out of memory or
 * libcurl. curl_global_init first. */
fx_engine *fx_engine_new(const nl_config *cfg, fx_done_fn done, void *ctx, char *errbuf,
                         size_t errlen);
void fx_engine_free(fx_engine *e);

/* Feeds the registry m (nl_metrics.h; NULL: stop feeding it) from now on:
 * newsline_fetcher_fetches_total{kind, code}, one per request that ended
 * (code "ok", "not_modified", "http_<status>" for an http_status failure,
 * else the failure code; requests joined to its transfer are not counted
 * again; the engine's own robots.txt fetches are not requests), and
 * newsline_fetcher_transfers_in_flight (shared by every engine fed to m).
 * Call it before any request is added; m must outlive the engine. */
struct nl_metrics;
void fx_engine_set_metrics(fx_engine *e, struct nl_metrics *m);

/* Queues a request, or joins it to the transfer of the same URL already
 * queued or in flight (above). A URL that does not normalise is delivered
 * at once (during this call) as failed with "bad_url". 0 or NL_ENOMEM
 * (nothing queued). */
int fx_engine_add(fx_engine *e, const fx_request *req);

/* Runs transfers until no request is left, nl_stop is set, or timeout_ms
 * passes (-1: no limit). Returns the number of requests still pending. */
size_t fx_engine_run(fx_engine *e, int64_t timeout_ms);

/* One round or more of the transfer loop for a caller that runs other
 * work between rounds (the fetcher's consumer mode): returns once a result
 * was delivered, nothing is pending, or timeout_ms passed (0: one round,
 * what is ready now). It does not stop on nl_stop: see fx_engine_drain.
 * Returns the number of requests still pending. */
size_t fx_engine_poll(fx_engine *e, int64_t timeout_ms);

/* Stopping: delivers every request not in flight (queued for its host or
 * waiting for a retry) as failed with code "cancelled", during this call;
 * from now on nothing new starts and a transfer that would be retried is
 * delivered as "cancelled" too, and so is a request added later (during
 * fx_engine_add). Transfers in flight run on under fx_engine_poll until
 * they end. Calling it again does nothing. */
void fx_engine_drain(fx_engine *e);

/* Gives back the requests not in flight (queued for their host or waiting
 * for a retry) whose user match() accepts: each is delivered as failed
 * with code "cancelled" during this call, in no particular order; the
 * others keep their place. Transfers in flight are not touched. Returns
 * how many were given back. (The fetcher: the requests of a partition
 * being revoked.) */
size_t fx_engine_cancel(fx_engine *e, int (*match)(void *ctx, void *user), void *ctx);

/* Requests queued, waiting for a retry, or in flight (joined ones too). */
size_t fx_engine_pending(const fx_engine *e);

/* "article", "feed", "sitemap", "robots". */
const char *fx_kind_name(fx_kind kind);

/* A newsline.raw/1 record of a successful result (new reference): id, url,
 * final_url, http_status, http_version (when known), content_type, fetched_at, kind, source_name,
 * etag, last_modified, body_hash, and the body as "body" when valid UTF-8
 * else "body_base64". NULL on allocation failure. */
json_t *fx_result_record(const fx_result *res);

/* ---- The pure parts, exported for unit tests. ---- */

/* The back-off before attempt `attempt`+1 after `attempt` failures (1..):
 * d = min(max_ms, base_ms * 2^(attempt-1)), then a uniform value in
 * [d/2, d] drawn with *rng (xorshift64 state, nonzero). */
int64_t fx_backoff_ms(int attempt, int64_t base_ms, int64_t max_ms, uint64_t *rng);

/* A Retry-After value (delta-seconds, or an HTTP-date compared with now,
 * seconds since the epoch) in milliseconds into *out_ms (0 for a date in
 * the past). 0, or NL_EINVAL for anything else. */
int fx_retry_after_ms(const char *value, int64_t now_s, int64_t *out_ms);

/* 1 if a transfer that ended with this libcurl code and HTTP status is worth
 * another attempt: 429, 5xx, connection errors and timeouts. Else 0. */
int fx_retryable(int curl_code, long status);

/* A list of CIDR blocks ("10.0.0.0/8, ::1/128", a bare address is a /32 or
 * /128; commas or spaces between). */
typedef struct fx_cidr {
    int family; /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    int prefix;
} fx_cidr;

typedef struct fx_cidrs {
    fx_cidr *v;
    size_t n;
} fx_cidrs;

/* 0, NL_EINVAL (errbuf names the bad entry) or NL_ENOMEM; on error the list
 * is empty. Free with fx_cidrs_free. */
int fx_cidrs_parse(const char *s, fx_cidrs *out, char *errbuf, size_t errlen);
void fx_cidrs_free(fx_cidrs *c);
int fx_cidrs_match(const fx_cidrs *c, const struct sockaddr *sa);

/* 1 if sa is a public unicast address: not loopback, private (RFC 1918,
 * ULA), link-local, CGNAT, multicast, documentation, benchmarking,
 * reserved or unspecified; IPv4-mapped, NAT64 and 6to4 IPv6 addresses are
 * judged by the IPv4 address inside. */
int fx_addr_public(const struct sockaddr *sa);

#endif
