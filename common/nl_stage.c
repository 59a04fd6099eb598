#include "nl_stage_int.h"

#include "nl_buf.h"
#include "nl_err.h"
#include "nl_log.h"
#include "nl_record.h"
#include "nl_text.h"

#include <getopt.h>
#include <poll.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

volatile int nl_stop;
volatile int nl_reload;

#define DLQ_PREFIX_BYTES 512

static void on_signal(int sig)
{
    if (sig == SIGHUP) {
        nl_reload = 1;
    } else {
        nl_stop = 1;
    }
}

void nl_signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* No SA_RESTART: a blocking read on stdin must return on SIGTERM. */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

const char *nl_input_header(const nl_input *in, const char *name, char *buf, size_t buflen)
{
    const void *val;
    size_t size;

    if (in->hdrs == NULL || buflen == 0 ||
        rd_kafka_header_get_last((rd_kafka_headers_t *)in->hdrs, name, &val, &size) !=
            RD_KAFKA_RESP_ERR_NO_ERROR ||
        val == NULL) {
        return NULL;
    }
    if (size >= buflen) {
        size = buflen - 1;
    }
    memcpy(buf, val, size);
    buf[size] = '\0';
    return buf;
}

void nl_emit_init(nl_emitter *em, size_t max_bytes)
{
    memset(em, 0, sizeof(*em));
    em->max_bytes = max_bytes;
}

void nl_emit_clear(nl_emitter *em)
{
    for (size_t i = 0; i < em->n; i++) {
        free(em->out[i].payload);
        free(em->out[i].topic_own);
    }
    em->n = 0;
    em->has_tag = 0;
}

void nl_emit_tag(nl_emitter *em, uint64_t tag)
{
    em->tag = tag;
    em->has_tag = 1;
}

void nl_emit_free(nl_emitter *em)
{
    nl_emit_clear(em);
    free(em->out);
    em->out = NULL;
    em->cap = 0;
}

static struct nl_emit_out *emit_slot(nl_emitter *em)
{
    if (em->n == em->cap) {
        size_t cap = em->cap ? em->cap * 2 : 4;
        struct nl_emit_out *o = realloc(em->out, cap * sizeof(*o));
        if (o == NULL) {
            return NULL;
        }
        em->out = o;
        em->cap = cap;
    }
    return &em->out[em->n];
}

int nl_emit(nl_emitter *em, const char *topic, json_t *rec)
{
    struct nl_emit_out *o = emit_slot(em);
    const char *id = nl_record_str(rec, "id");
    size_t len;
    char *payload;

    if (o == NULL) {
        json_decref(rec);
        return NL_ENOMEM;
    }
    /* The key is copied before the record (which owns id) is released. */
    snprintf(o->key, sizeof(o->key), "%s", id != NULL ? id : "");
    payload = nl_record_dump(rec, &len);
    json_decref(rec);
    if (payload == NULL) {
        return NL_ENOMEM;
    }
    if (len > em->max_bytes) {
        free(payload);
        return NL_ETOOBIG;
    }
    o->topic = topic;
    o->topic_own = NULL;
    o->payload = payload;
    o->len = len;
    o->copy = 0;
    em->n++;
    return 0;
}

int nl_emit_with(nl_emitter *em, const char *topic, json_t *rec, const char *field,
                 const char *json, size_t len)
{
    struct nl_emit_out *o = emit_slot(em);
    const char *id = nl_record_str(rec, "id");
    size_t rlen, flen = strlen(field), total;
    char *payload, *out;

    if (o == NULL) {
        json_decref(rec);
        return NL_ENOMEM;
    }
    snprintf(o->key, sizeof(o->key), "%s", id != NULL ? id : "");
    payload = nl_record_dump(rec, &rlen);
    json_decref(rec);
    if (payload == NULL || rlen < 2 || payload[rlen - 1] != '}') {
        free(payload);
        return NL_ENOMEM;
    }
    /* `{...}` -> `{...,"field":json}`; `{}` -> `{"field":json}` */
    total = rlen - 1 + (rlen > 2) + flen + 3 + len + 1;
    if (total > em->max_bytes) {
        free(payload);
        return NL_ETOOBIG;
    }
    out = realloc(payload, total + 1);
    if (out == NULL) {
        free(payload);
        return NL_ENOMEM;
    }
    rlen -= 1;
    if (rlen > 1) {
        out[rlen++] = ',';
    }
    out[rlen++] = '"';
    memcpy(out + rlen, field, flen);
    rlen += flen;
    out[rlen++] = '"';
    out[rlen++] = ':';
    memcpy(out + rlen, json, len);
    rlen += len;
    out[rlen++] = '}';
    out[rlen] = '\0';
    o->topic = topic;
    o->topic_own = NULL;
    o->payload = out;
    o->len = rlen;
    o->copy = 0;
    em->n++;
    return 0;
}

int nl_emit_copy(nl_emitter *em, const char *topic)
{
    struct nl_emit_out *o;
    const struct nl_emit_out *last;

    if (em->n == 0) {
        return NL_EINVAL;
    }
    o = emit_slot(em);
    if (o == NULL) {
        return NL_ENOMEM;
    }
    last = &em->out[em->n - 1];
    o->payload = malloc(last->len + 1);
    o->topic_own = strdup(topic);
    if (o->payload == NULL || o->topic_own == NULL) {
        free(o->payload);
        free(o->topic_own);
        return NL_ENOMEM;
    }
    memcpy(o->payload, last->payload, last->len + 1);
    o->len = last->len;
    memcpy(o->key, last->key, sizeof(o->key));
    o->topic = o->topic_own;
    o->copy = 1;
    em->n++;
    return 0;
}

json_t *nl_dlq_record(const char *stage, const char *reason_code, const char *reason,
                      const nl_input *in)
{
    char id[17];
    char hash[17];
    char now[32];
    size_t plen;
    char *prefix;
    json_t *rec;
    json_t *origin;
    json_t *payload;

    /* The dead letter's id is the payload's hash: the same bad record
     * dead-lettered twice keeps one identity. */
    nl_id_from_string(in->payload, in->len, id);
    memcpy(hash, id, sizeof(hash));
    nl_format_time_ms(nl_now_ms(), now);
    prefix = nl_utf8_sanitize(in->payload, in->len, DLQ_PREFIX_BYTES, &plen);
    rec = nl_record_new(NL_SCHEMA_DLQ, id);
    origin = json_pack("{s:s, s:i, s:I}", "topic", in->topic, "partition", (int)in->partition,
                       "offset", (json_int_t)in->offset);
    payload = prefix == NULL ? NULL
                             : json_pack("{s:I, s:s, s:s%}", "length", (json_int_t)in->len,
                                         "hash_fnv1a64", hash, "prefix", prefix, plen);
    free(prefix);
    if (rec == NULL || origin == NULL || payload == NULL) {
        json_decref(rec);
        json_decref(origin);
        json_decref(payload);
        return NULL;
    }
    /* reason may quote hostile bytes: keep it valid UTF-8 */
    char *safe_reason = nl_utf8_sanitize(reason, strlen(reason), 1024, NULL);
    if (nl_record_set_str(rec, "stage", stage) != 0 ||
        nl_record_set_str(rec, "reason_code", reason_code) != 0 || safe_reason == NULL ||
        nl_record_set_str(rec, "reason", safe_reason) != 0 ||
        nl_record_set_str(rec, "daemon_version", NL_VERSION) != 0 ||
        nl_record_set_str(rec, "at", now) != 0 || nl_record_set_new(rec, "origin", origin) != 0 ||
        nl_record_set_new(rec, "payload", payload) != 0) {
        free(safe_reason);
        json_decref(rec);
        return NULL;
    }
    free(safe_reason);
    return rec;
}

/* Replaces whatever em holds by the dead letter of in. Returns rc, or
 * NL_ENOMEM. */
static int dead_letter(const nl_config *cfg, const nl_stage *st, const nl_input *in, nl_emitter *em,
                       int rc, const char *code, const char *reason)
{
    json_t *dlq;

    nl_emit_clear(em);
    if (code == NULL || code[0] == '\0') {
        code = nl_err_code(rc);
    }
    snprintf(em->dlq_code, sizeof(em->dlq_code), "%s", code);
    nl_warn("dead_letter",
            "stage=%s reason_code=%s reason=%s origin_topic=%s partition=%d offset=%lld", st->name,
            code, nl_log_q(reason), in->topic, (int)in->partition, (long long)in->offset);
    dlq = nl_dlq_record(st->name, code, reason, in);
    if (dlq == NULL) {
        return NL_ENOMEM;
    }
    /* A dead letter is small by construction; lift the cap for it. */
    size_t max = em->max_bytes;
    em->max_bytes = (size_t)-1;
    int erc = nl_emit(em, cfg->topic_dlq, dlq);
    em->max_bytes = max;
    return erc != 0 ? erc : rc;
}

/* Unlinks a token from its set, wherever it is, and frees it. */
static void async_discard(nl_async *tok)
{
    nl_async_set *set = tok->set;

    if (tok->done) {
        nl_async **pp = &set->done_head;
        nl_async *prev = NULL;
        while (*pp != NULL && *pp != tok) {
            prev = *pp;
            pp = &(*pp)->next;
        }
        *pp = tok->next;
        if (set->done_tail == tok) {
            set->done_tail = prev;
        }
        set->n_done--;
    } else {
        if (tok->prev != NULL) {
            tok->prev->next = tok->next;
        } else {
            set->pending = tok->next;
        }
        if (tok->next != NULL) {
            tok->next->prev = tok->prev;
        }
        set->n_pending--;
    }
    nl_async_free(tok);
}

int nl_stage_process_one(const nl_config *cfg, const nl_stage *st, const nl_input *in,
                         nl_emitter *em)
{
    char errbuf[512] = "";
    const char *code = NULL;
    json_t *rec = NULL;
    int rc;

    nl_emit_clear(em);
    em->deferred = NULL;
    if (in->len > (size_t)cfg->max_record_bytes) {
        code = "too_big";
        snprintf(errbuf, sizeof(errbuf), "record of %zu bytes exceeds max_record_bytes %lld",
                 in->len, (long long)cfg->max_record_bytes);
        rc = NL_ETOOBIG;
    } else {
        if (cfg->debug_process_delay_ms > 0) {
            usleep((useconds_t)cfg->debug_process_delay_ms * 1000);
        }
        rc = nl_record_parse(in->payload, in->len, st->in_schema, &rec, &code, errbuf,
                             sizeof(errbuf));
        if (rc == 0) {
            em->cur = in;
            rc = st->process(st->ctx, in, rec, em, &code, errbuf, sizeof(errbuf));
            em->cur = NULL;
            json_decref(rec);
        }
    }
    if (rc == NL_EPENDING || em->deferred != NULL) {
        if (rc == NL_EPENDING && em->deferred != NULL) {
            nl_emit_clear(em); /* outputs go to the token's emitter */
            return rc;
        }
        /* A token without NL_EPENDING, or the reverse: a stage bug, unless
         * the stage gave up on a deferred record after an error of its own
         * (no memory), which stops the daemon anyway. */
        if (em->deferred != NULL) {
            async_discard(em->deferred);
            em->deferred = NULL;
        }
        if (rc == NL_EPENDING || rc == 0 || rc == NL_EINVAL || rc == NL_ETOOBIG) {
            nl_error("stage_contract",
                     "stage=%s note=\"NL_EPENDING and nl_emit_defer go together\"", st->name);
            return NL_EFATAL;
        }
        return rc;
    }
    if (rc == 0 || (rc != NL_EINVAL && rc != NL_ETOOBIG)) {
        return rc;
    }
    return dead_letter(cfg, st, in, em, rc, code, errbuf);
}

/* ---- deferred records ---------------------------------------------------- */

void nl_async_set_init(nl_async_set *set, size_t max_bytes)
{
    memset(set, 0, sizeof(*set));
    set->max_bytes = max_bytes;
}

void nl_async_free(nl_async *tok)
{
    if (tok == NULL) {
        return;
    }
    nl_emit_free(&tok->em);
    if (tok->hdrs != NULL) {
        rd_kafka_headers_destroy(tok->hdrs);
    }
    free(tok->payload);
    free(tok->topic);
    free(tok);
}

void nl_async_set_free(nl_async_set *set)
{
    nl_async *tok, *next;

    for (tok = set->pending; tok != NULL; tok = next) {
        next = tok->next;
        nl_async_free(tok);
    }
    for (tok = set->done_head; tok != NULL; tok = next) {
        next = tok->next;
        nl_async_free(tok);
    }
    set->pending = set->done_head = set->done_tail = NULL;
    set->n_pending = set->n_done = 0;
}

size_t nl_async_outstanding(const nl_async_set *set)
{
    return set->n_pending + set->n_done;
}

nl_async *nl_async_take(nl_async_set *set)
{
    nl_async *tok = set->done_head;

    if (tok != NULL) {
        set->done_head = tok->next;
        if (set->done_head == NULL) {
            set->done_tail = NULL;
        }
        set->n_done--;
        tok->next = NULL;
    }
    return tok;
}

nl_async *nl_emit_defer(nl_emitter *em)
{
    nl_async_set *set = em->aset;
    const nl_input *in = em->cur;
    nl_async *tok;

    if (set == NULL || in == NULL || em->deferred != NULL) {
        return NULL;
    }
    tok = calloc(1, sizeof(*tok));
    if (tok == NULL) {
        return NULL;
    }
    tok->payload = malloc(in->len + 1);
    tok->topic = strdup(in->topic);
    if (in->hdrs != NULL) {
        tok->hdrs = rd_kafka_headers_copy((const rd_kafka_headers_t *)in->hdrs);
    }
    if (tok->payload == NULL || tok->topic == NULL || (in->hdrs != NULL && tok->hdrs == NULL)) {
        nl_async_free(tok);
        return NULL;
    }
    memcpy(tok->payload, in->payload, in->len);
    tok->payload[in->len] = '\0';
    tok->in = *in;
    tok->in.payload = tok->payload;
    tok->in.topic = tok->topic;
    tok->in.hdrs = tok->hdrs;
    tok->set = set;
    tok->seen_ms = nl_now_ms();
    nl_emit_init(&tok->em, set->max_bytes);
    tok->next = set->pending;
    if (set->pending != NULL) {
        set->pending->prev = tok;
    }
    set->pending = tok;
    set->n_pending++;
    em->deferred = tok;
    return tok;
}

const nl_input *nl_async_input(const nl_async *tok)
{
    return &tok->in;
}

nl_emitter *nl_async_emitter(nl_async *tok)
{
    return &tok->em;
}

void nl_async_done(nl_async *tok, int rc, const char *code, const char *reason)
{
    nl_async_set *set = tok->set;

    if (tok->done) {
        return;
    }
    if (tok->prev != NULL) {
        tok->prev->next = tok->next;
    } else {
        set->pending = tok->next;
    }
    if (tok->next != NULL) {
        tok->next->prev = tok->prev;
    }
    set->n_pending--;
    tok->prev = tok->next = NULL;
    tok->done = 1;
    tok->rc = rc;
    snprintf(tok->code, sizeof(tok->code), "%s", code != NULL ? code : "");
    snprintf(tok->reason, sizeof(tok->reason), "%s", reason != NULL ? reason : "");
    if (set->done_tail != NULL) {
        set->done_tail->next = tok;
    } else {
        set->done_head = tok;
    }
    set->done_tail = tok;
    set->n_done++;
}

int nl_async_finish(const nl_config *cfg, const nl_stage *st, nl_async *tok)
{
    if (tok->rc != NL_EINVAL && tok->rc != NL_ETOOBIG) {
        if (tok->rc != 0) {
            nl_emit_clear(&tok->em);
        }
        return tok->rc;
    }
    return dead_letter(cfg, st, &tok->in, &tok->em, tok->rc, tok->code,
                       tok->reason[0] ? tok->reason : nl_err_code(tok->rc));
}

/* Reads one line (NUL bytes included, the newline not) into b, whose cap
 * is max_record_bytes. Returns 1 with a line, 0 at EOF, NL_ETOOBIG if the
 * line was longer (the rest of it is consumed and b is left empty), NL_EIO
 * on a read error or a signal. */
static int read_line(FILE *in, nl_buf *b, int64_t *lineno)
{
    char chunk[65536];
    size_t n = 0;
    int too_big = 0;
    int c = EOF;

    nl_buf_reset(b);
    for (;;) {
        c = getc_unlocked(in);
        if (c == EOF || c == '\n' || n == sizeof(chunk)) {
            if (!too_big && n > 0 && nl_buf_append(b, chunk, n) != 0) {
                too_big = 1;
            }
            n = 0;
        }
        if (c == EOF || c == '\n') {
            break;
        }
        chunk[n++] = (char)c;
    }
    if (c == EOF) {
        if (ferror(in)) {
            return NL_EIO;
        }
        if (b->len == 0 && !too_big) {
            return 0;
        }
    }
    (*lineno)++;
    return too_big ? NL_ETOOBIG : 1;
}

/* 1 if reading a line from in would not block for long: stdio has bytes
 * buffered, or the descriptor is readable (or at EOF, or not a
 * descriptor at all, as with fmemopen). The buffer test reads glibc's FILE
 * internals: there is no portable way to ask, and without it a deferred
 * record could wait on a terminal that sends nothing. */
static int input_ready(FILE *in)
{
    struct pollfd pfd;
    int fd = fileno(in);

    if (in->_IO_read_ptr < in->_IO_read_end || fd < 0) {
        return 1;
    }
    pfd.fd = fd;
    pfd.events = POLLIN;
    pfd.revents = 0;
    return poll(&pfd, 1, 0) != 0;
}

struct stdin_run {
    const nl_config *cfg;
    const nl_stage *st;
    FILE *out;
    int rc; /* exit code, NL_EXIT_OK while all is well */
    size_t n_in, n_out, n_dead, n_abandoned;
};

/* Prints what one input produced (prc: what processing it returned).
 * 0, or -1 when the runner must stop (sr->rc is set). */
static int stdin_output(struct stdin_run *sr, const nl_input *in, nl_emitter *em, int prc)
{
    if (prc != 0 && prc != NL_EINVAL && prc != NL_ETOOBIG) {
        nl_error("process_failed", "line=%lld error=%s", (long long)in->offset, nl_err_code(prc));
        sr->rc = prc == NL_ETRANSIENT ? NL_EXIT_TEMPFAIL : NL_EXIT_SOFTWARE;
        return -1;
    }
    if (prc != 0) {
        sr->n_dead++;
    }
    for (size_t i = 0; i < em->n; i++) {
        if (em->out[i].copy) {
            continue;
        }
        fwrite(em->out[i].payload, 1, em->out[i].len, sr->out);
        fputc('\n', sr->out);
        sr->n_out++;
    }
    if (fflush(sr->out) != 0) {
        nl_error("write_failed", "stage=%s", sr->st->name);
        sr->rc = NL_EXIT_FAIL;
        return -1;
    }
    return 0;
}

/* Prints every completed deferred record. 0, or -1 to stop. */
static int stdin_completions(struct stdin_run *sr, nl_async_set *set)
{
    nl_async *tok;
    int rc = 0;

    while (rc == 0 && (tok = nl_async_take(set)) != NULL) {
        if (tok->rc == NL_ETRANSIENT && nl_stop) {
            sr->n_abandoned++; /* not done: like a line never read */
        } else {
            rc = stdin_output(sr, &tok->in, &tok->em, nl_async_finish(sr->cfg, sr->st, tok));
        }
        nl_async_free(tok);
    }
    return rc;
}

int nl_stage_run_stdin(const nl_config *cfg, const nl_stage *st, FILE *in, FILE *out)
{
    return nl_stage_run_stdin_hooks(cfg, st, NULL, in, out);
}

int nl_stage_run_stdin_hooks(const nl_config *cfg, const nl_stage *st, const nl_stage_hooks *hooks,
                             FILE *in, FILE *out)
{
    void (*poll_fn)(void *, int) = hooks != NULL ? hooks->poll : NULL;
    nl_buf line;
    nl_emitter em;
    nl_async_set set;
    struct stdin_run sr = {cfg, st, out, NL_EXIT_OK, 0, 0, 0, 0};
    size_t max_pending = hooks != NULL && hooks->max_pending > 0 ? hooks->max_pending : 1;
    int64_t lineno = 0;
    int64_t deadline = -1;

    nl_buf_init(&line, (size_t)cfg->max_record_bytes);
    nl_emit_init(&em, (size_t)cfg->max_record_bytes);
    nl_async_set_init(&set, (size_t)cfg->max_record_bytes);
    if (poll_fn != NULL) {
        em.aset = &set;
    }
    nl_info("started", "mode=stdin stage=%s%s", st->name, poll_fn != NULL ? " async=1" : "");
    while (!nl_stop) {
        int r;
        int prc;
        nl_input inp;

        if (poll_fn != NULL) {
            if (stdin_completions(&sr, &set) != 0) {
                break;
            }
            /* Full, or nothing to read yet: let the pending records move. */
            if (nl_async_outstanding(&set) >= max_pending ||
                (nl_async_outstanding(&set) > 0 && !input_ready(in))) {
                poll_fn(st->ctx, 50);
                continue;
            }
        }
        r = read_line(in, &line, &lineno);
        inp = (nl_input){line.ptr ? line.ptr : "", line.len, "stdin", -1, lineno, NULL};
        if (r == 0) {
            break;
        }
        if (r == NL_EIO) {
            if (!nl_stop) {
                nl_error("read_failed", "line=%lld", (long long)lineno + 1);
                sr.rc = NL_EXIT_FAIL;
            }
            break;
        }
        if (r == NL_ETOOBIG) {
            char reason[128];
            json_t *dlq;
            snprintf(reason, sizeof(reason), "line longer than max_record_bytes %lld",
                     (long long)cfg->max_record_bytes);
            inp.payload = "";
            inp.len = 0;
            dlq = nl_dlq_record(st->name, "too_big", reason, &inp);
            nl_emit_clear(&em);
            em.max_bytes = (size_t)-1;
            prc = dlq == NULL ? NL_ENOMEM : nl_emit(&em, cfg->topic_dlq, dlq);
            em.max_bytes = (size_t)cfg->max_record_bytes;
            if (prc == 0) {
                prc = NL_ETOOBIG;
            }
        } else if (line.len == 0) {
            continue;
        } else {
            sr.n_in++;
            /* Dead letters from an earlier stage pass through untouched. */
            if (strstr(line.ptr, "\"" NL_SCHEMA_DLQ "\"") != NULL) {
                json_t *probe = json_loadb(line.ptr, line.len, 0, NULL);
                int is_dlq =
                    probe != NULL &&
                    strcmp(nl_record_str(probe, "schema") ? nl_record_str(probe, "schema") : "",
                           NL_SCHEMA_DLQ) == 0;
                json_decref(probe);
                if (is_dlq) {
                    fwrite(line.ptr, 1, line.len, out);
                    fputc('\n', out);
                    fflush(out);
                    continue;
                }
            }
            for (int attempt = 0;; attempt++) {
                prc = nl_stage_process_one(cfg, st, &inp, &em);
                if (prc != NL_ETRANSIENT || attempt >= 5 || nl_stop) {
                    break;
                }
                sleep(1u << attempt);
            }
            if (prc == NL_EPENDING) {
                continue; /* printed when it completes */
            }
        }
        if (stdin_output(&sr, &inp, &em, prc) != 0) {
            break;
        }
    }
    /* EOF or SIGTERM: wait for the deferred records, after SIGTERM for at
     * most drain_timeout_ms. */
    while (sr.rc == NL_EXIT_OK && nl_async_outstanding(&set) > 0) {
        if (nl_stop && deadline < 0) {
            deadline = nl_now_ms() + cfg->drain_timeout_ms;
        }
        if (deadline >= 0 && nl_now_ms() >= deadline) {
            nl_error("drain_timeout", "stage=%s pending=%zu", st->name, set.n_pending);
            sr.rc = NL_EXIT_TEMPFAIL;
            break;
        }
        if (set.n_pending > 0) {
            poll_fn(st->ctx, 100);
        }
        stdin_completions(&sr, &set);
    }
    nl_info("stopped",
            "mode=stdin stage=%s records_in=%zu records_out=%zu dead_letters=%zu abandoned=%zu",
            st->name, sr.n_in, sr.n_out, sr.n_dead, sr.n_abandoned);
    nl_async_set_free(&set);
    nl_emit_free(&em);
    nl_buf_free(&line);
    return sr.rc;
}

/* ---- health and the HTTP endpoint ----------------------------------- */

/* Milliseconds on the monotonic clock: a stall is not a wall-clock jump. */
static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static _Atomic int health_state;
static _Atomic int64_t health_beat_ms;
/* 0: no fatal reason; 1: being written; 2: written (health_reason is
 * then read-only until the next reset). */
static _Atomic int health_fatal_set;
static char health_reason[200];

void nl_health_reset(void)
{
    atomic_store(&health_fatal_set, 0);
    atomic_store(&health_beat_ms, mono_ms());
    atomic_store(&health_state, NL_HEALTH_STARTING);
}

void nl_health_set(enum nl_health_state state)
{
    atomic_store_explicit(&health_state, (int)state, memory_order_relaxed);
}

void nl_health_beat(void)
{
    atomic_store_explicit(&health_beat_ms, mono_ms(), memory_order_relaxed);
}

void nl_health_fatal(const char *fmt, ...)
{
    int expected = 0;
    va_list ap;

    if (!atomic_compare_exchange_strong(&health_fatal_set, &expected, 1)) {
        return; /* the first reason stays */
    }
    va_start(ap, fmt);
    vsnprintf(health_reason, sizeof(health_reason), fmt, ap);
    va_end(ap);
    atomic_store_explicit(&health_fatal_set, 2, memory_order_release);
}

/* nl_health_fn of the daemon's endpoint: runs on the HTTP thread. */
static int health_check(void *arg, char *reason, size_t len)
{
    int fatal = atomic_load_explicit(&health_fatal_set, memory_order_acquire);
    int64_t idle;

    (void)arg;
    if (fatal != 0) {
        snprintf(reason, len, "fatal: %s", fatal == 2 ? health_reason : "(being recorded)");
        return 0;
    }
    switch (atomic_load_explicit(&health_state, memory_order_relaxed)) {
    case NL_HEALTH_STARTING:
        snprintf(reason, len, "starting");
        return 0;
    case NL_HEALTH_PAUSED:
        snprintf(reason, len, "paused: the stage cannot make its work durable (sync failing)");
        return 0;
    case NL_HEALTH_STOPPING:
        snprintf(reason, len, "stopping");
        return 0;
    default:
        break;
    }
    idle = mono_ms() - atomic_load_explicit(&health_beat_ms, memory_order_relaxed);
    if (idle > NL_HEALTH_STALL_MS) {
        snprintf(reason, len, "stalled: the poll loop last ran %lld ms ago (bound %d ms)",
                 (long long)idle, NL_HEALTH_STALL_MS);
        return 0;
    }
    return 1;
}

static nl_metrics *daemon_metrics;
static nl_metrics_server *daemon_server;

int nl_daemon_serve(const nl_config *cfg, const char *prog)
{
    char errbuf[256];

    if (daemon_server != NULL || cfg->metrics_listen == NULL || cfg->metrics_listen[0] == '\0') {
        return 0;
    }
    daemon_metrics = nl_metrics_new();
    if (daemon_metrics == NULL) {
        fprintf(stderr, "%s: metrics.listen: out of memory\n", prog);
        return NL_EXIT_SOFTWARE;
    }
    nl_metrics_set_health(daemon_metrics, health_check, NULL);
    if (nl_metrics_serve(daemon_metrics, cfg->metrics_listen, &daemon_server, errbuf,
                         sizeof(errbuf)) != 0) {
        fprintf(stderr, "%s: metrics.listen: %s\n", prog, errbuf);
        nl_metrics_free(daemon_metrics);
        daemon_metrics = NULL;
        return NL_EXIT_USAGE;
    }
    nl_info("metrics_listening", "listen=%s port=%d path=/metrics health=/healthz",
            nl_log_q(cfg->metrics_listen), nl_metrics_server_port(daemon_server));
    return 0;
}

nl_metrics *nl_daemon_metrics(void)
{
    return daemon_metrics;
}

void nl_daemon_serve_stop(void)
{
    nl_metrics_server_stop(daemon_server);
    daemon_server = NULL;
    nl_metrics_free(daemon_metrics);
    daemon_metrics = NULL;
}

static void usage(FILE *out, const char *prog, const char *summary, const nl_daemon_opt *extra)
{
    fprintf(out,
            "Usage: %s [options]\n"
            "%s\n\n"
            "Options:\n"
            "  --config FILE       JSON config file (default: $NEWSLINE_CONFIG if set)\n"
            "  --set KEY=VALUE     override one config key (repeatable)\n"
            "  --brokers LIST      same as --set brokers=LIST\n"
            "  --stdin             NDJSON filter: records on stdin, records on stdout, no Kafka\n"
            "  --log-level LEVEL   debug, info, warn, error\n",
            prog, summary);
    for (size_t i = 0; extra != NULL && extra[i].name != NULL; i++) {
        char flag[64];
        snprintf(flag, sizeof(flag), "--%s%s%s", extra[i].name, extra[i].arg ? " " : "",
                 extra[i].arg ? extra[i].arg : "");
        fprintf(out, "  %-19s %s\n", flag, extra[i].help);
    }
    fprintf(out, "  --help, --version\n\n"
                 "Config keys (environment NEWSLINE_<KEY> with dots as underscores):\n");
    nl_config_print_keys(out);
    fprintf(out, "\nExit status: 0 ok, 2 bad usage or config, 69 brokers unreachable at start,\n"
                 "70 fatal error (restart; nothing was committed past the last delivered record),\n"
                 "75 could not drain in time (restart).\n");
}

int nl_daemon_init(int argc, char **argv, const char *prog, const char *summary, nl_config *cfg,
                   int *stdin_mode, int *argi)
{
    return nl_daemon_init_opts(argc, argv, prog, summary, cfg, stdin_mode, argi, NULL);
}

#define MAX_EXTRA_OPTS 8

int nl_daemon_init_opts(int argc, char **argv, const char *prog, const char *summary,
                        nl_config *cfg, int *stdin_mode, int *argi, const nl_daemon_opt *extra)
{
    static const struct option common[] = {
        {"config", required_argument, NULL, 'c'},    {"set", required_argument, NULL, 's'},
        {"brokers", required_argument, NULL, 'b'},   {"stdin", no_argument, NULL, 'i'},
        {"log-level", required_argument, NULL, 'l'}, {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
    };
    const size_t n_common = sizeof(common) / sizeof(common[0]);
    struct option opts[sizeof(common) / sizeof(common[0]) + MAX_EXTRA_OPTS + 1];
    size_t n_opts = n_common;
    char errbuf[512];
    const char *config_path = getenv("NEWSLINE_CONFIG");
    int c;

    memcpy(opts, common, sizeof(common));
    for (size_t i = 0; extra != NULL && extra[i].name != NULL && i < MAX_EXTRA_OPTS; i++) {
        int has_arg = extra[i].arg != NULL ? required_argument : no_argument;
        opts[n_opts++] = (struct option){extra[i].name, has_arg, NULL, 256 + (int)i};
    }
    memset(&opts[n_opts], 0, sizeof(opts[n_opts]));
    nl_log_init(prog);
    *stdin_mode = 0;
    if (nl_config_init(cfg) != 0) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return NL_EXIT_SOFTWARE;
    }
    /* First pass: find the config file and the one-shot flags. */
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        if (c == 'c') {
            config_path = optarg;
        } else if (c == 'i') {
            *stdin_mode = 1;
        } else if (c >= 256) {
            *extra[c - 256].value = extra[c - 256].arg != NULL ? optarg : "1";
        } else if (c == 'h') {
            usage(stdout, prog, summary, extra);
            return -1;
        } else if (c == 'V') {
            printf("%s %s\n", prog, NL_VERSION);
            return -1;
        } else if (c == '?') {
            fprintf(stderr, "%s: unknown or incomplete option %s (see --help)\n", prog,
                    argv[optind - 1]);
            return NL_EXIT_USAGE;
        }
    }
    if (argi != NULL) {
        *argi = optind;
    } else if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument \"%s\" (see --help)\n", prog, argv[optind]);
        return NL_EXIT_USAGE;
    }
    if (config_path != NULL && config_path[0] != '\0' &&
        nl_config_load_file(cfg, config_path, errbuf, sizeof(errbuf)) != 0) {
        fprintf(stderr, "%s: %s\n", prog, errbuf);
        return NL_EXIT_USAGE;
    }
    if (nl_config_load_env(cfg, errbuf, sizeof(errbuf)) != 0) {
        fprintf(stderr, "%s: %s\n", prog, errbuf);
        return NL_EXIT_USAGE;
    }
    /* Second pass: flags override file and environment. */
    optind = 0; /* 0 makes glibc re-initialise its scanner */
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        int rc = 0;
        if (c == 's') {
            char *eq = strchr(optarg, '=');
            if (eq == NULL) {
                fprintf(stderr, "%s: --set %s: expected KEY=VALUE\n", prog, optarg);
                return NL_EXIT_USAGE;
            }
            *eq = '\0';
            rc = nl_config_set(cfg, optarg, eq + 1, errbuf, sizeof(errbuf));
            *eq = '=';
        } else if (c == 'b') {
            rc = nl_config_set(cfg, "brokers", optarg, errbuf, sizeof(errbuf));
        } else if (c == 'l') {
            rc = nl_config_set(cfg, "log_level", optarg, errbuf, sizeof(errbuf));
        }
        if (rc != 0) {
            fprintf(stderr, "%s: %s\n", prog, errbuf);
            return NL_EXIT_USAGE;
        }
    }
    if (nl_config_check_kafka(cfg, errbuf, sizeof(errbuf)) != 0) {
        fprintf(stderr, "%s: %s\n", prog, errbuf);
        return NL_EXIT_USAGE;
    }
    nl_log_set_level(cfg->log_level);
    nl_signals_install();
    return 0;
}
