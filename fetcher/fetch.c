#include "fetch.h"

#include "nl_buf.h"
#include "nl_err.h"
#include "nl_log.h"
#include "nl_record.h"
#include "nl_stage.h"
#include "nl_text.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define FETCH_ATTEMPTS 3

struct fx_fetcher {
    const nl_config *cfg;
    CURL *curl;
    nl_buf body;
    int too_big;
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    fx_fetcher *fx = userdata;
    size_t n = size * nmemb;
    if (nl_buf_append(&fx->body, ptr, n) != 0) {
        fx->too_big = 1;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    return n;
}

fx_fetcher *fx_new(const nl_config *cfg)
{
    fx_fetcher *fx = calloc(1, sizeof(*fx));
    if (fx == NULL) {
        return NULL;
    }
    fx->cfg = cfg;
    fx->curl = curl_easy_init();
    if (fx->curl == NULL) {
        free(fx);
        return NULL;
    }
    return fx;
}

void fx_free(fx_fetcher *fx)
{
    if (fx == NULL) {
        return;
    }
    curl_easy_cleanup(fx->curl);
    nl_buf_free(&fx->body);
    free(fx);
}

static void setup(fx_fetcher *fx, const char *url)
{
    CURL *c = fx->curl;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, (long)fx->cfg->fetcher_max_redirects);
    curl_easy_setopt(c, CURLOPT_USERAGENT, fx->cfg->fetcher_user_agent);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, ""); /* all curl supports */
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)fx->cfg->fetcher_timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 100L); /* stalled servers */
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 30L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)fx->cfg->max_record_bytes);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, fx);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
}

static json_t *raw_record(fx_fetcher *fx, const char *url)
{
    char *eff = NULL, *ct = NULL;
    long status = 0;
    char id[17], now[32];
    json_t *rec;
    int rc;

    curl_easy_getinfo(fx->curl, CURLINFO_EFFECTIVE_URL, &eff);
    curl_easy_getinfo(fx->curl, CURLINFO_CONTENT_TYPE, &ct);
    curl_easy_getinfo(fx->curl, CURLINFO_RESPONSE_CODE, &status);
    if (eff == NULL) {
        eff = (char *)url;
    }
    /* The id follows the final URL; canonical-URL ids come with the parser. */
    nl_id_from_string(eff, strlen(eff), id);
    nl_format_time_ms(nl_now_ms(), now);
    rec = nl_record_new(NL_SCHEMA_RAW, id);
    if (rec == NULL) {
        return NULL;
    }
    rc = nl_record_set_str(rec, "source", "fetch");
    rc = rc ? rc : nl_record_set_new(rec, "url", json_string(url));
    rc = rc ? rc : nl_record_set_new(rec, "final_url", json_string(eff));
    rc = rc ? rc : nl_record_set_new(rec, "http_status", json_integer(status));
    rc = rc ? rc : nl_record_set_str(rec, "fetched_at", now);
    if (rc == 0) {
        size_t n;
        char *clean =
            nl_utf8_sanitize(ct != NULL ? ct : "application/octet-stream",
                             strlen(ct != NULL ? ct : "application/octet-stream"), 256, &n);
        rc = clean != NULL ? nl_record_set_strn(rec, "content_type", clean, n) : NL_ENOMEM;
        free(clean);
    }
    if (rc == 0) {
        const char *b = fx->body.ptr != NULL ? fx->body.ptr : "";
        if (nl_utf8_valid(b, fx->body.len)) {
            rc = nl_record_set_strn(rec, "body", b, fx->body.len);
        } else {
            /* Another charset, or binary: keep the bytes exactly. */
            char *enc = nl_base64_encode((const unsigned char *)b, fx->body.len, NULL);
            rc = enc != NULL ? nl_record_set_new(rec, "body_base64", json_string(enc)) : NL_ENOMEM;
            free(enc);
        }
    }
    if (rc != 0) {
        json_decref(rec);
        return NULL;
    }
    return rec;
}

int fx_fetch(fx_fetcher *fx, const char *url, json_t **raw, const char **code, char *errbuf,
             size_t errlen)
{
    *raw = NULL;
    if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0) {
        *code = "bad_url";
        return nl_errf(errbuf, errlen, NL_EINVAL, "not an http(s) URL");
    }
    for (int attempt = 1;; attempt++) {
        CURLcode cc;
        long status = 0;
        int retry;

        nl_buf_free(&fx->body);
        nl_buf_init(&fx->body, (size_t)fx->cfg->max_record_bytes);
        fx->too_big = 0;
        setup(fx, url);
        cc = curl_easy_perform(fx->curl);
        curl_easy_getinfo(fx->curl, CURLINFO_RESPONSE_CODE, &status);
        if (fx->too_big || cc == CURLE_FILESIZE_EXCEEDED) {
            *code = "body_too_large";
            return nl_errf(errbuf, errlen, NL_EINVAL, "body exceeds %lld bytes",
                           (long long)fx->cfg->max_record_bytes);
        }
        if (cc == CURLE_OK && status >= 200 && status < 300) {
            *raw = raw_record(fx, url);
            return *raw != NULL ? 0 : nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
        }
        retry = (cc == CURLE_OK && (status == 429 || status >= 500)) ||
                cc == CURLE_COULDNT_CONNECT || cc == CURLE_OPERATION_TIMEDOUT ||
                cc == CURLE_RECV_ERROR || cc == CURLE_PARTIAL_FILE || cc == CURLE_GOT_NOTHING;
        if (!retry || attempt >= FETCH_ATTEMPTS || nl_stop) {
            if (cc == CURLE_OK) {
                *code = "http_status";
                return nl_errf(errbuf, errlen, NL_EINVAL, "HTTP status %ld", status);
            }
            *code = "fetch_failed";
            return nl_errf(errbuf, errlen, NL_EINVAL, "%s after %d attempt(s)",
                           curl_easy_strerror(cc), attempt);
        }
        nl_info("fetch_retry", "attempt=%d status=%ld error=%s", attempt, status,
                nl_log_q(curl_easy_strerror(cc)));
        /* Jittered exponential back-off: 1, 2 s (+ up to 50%). */
        usleep((useconds_t)((1000000u << (attempt - 1)) + (unsigned)(rand() % 500000)));
    }
}
