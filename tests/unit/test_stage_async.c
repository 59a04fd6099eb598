/* Unit tests for asynchronous stages (nl_stage.h): the runner's bookkeeping
 * of deferred records, in stdin mode (no broker): every record answered
 * once, in completion order, never more than max_pending deferred, dead
 * letters from completions, SIGTERM drains (records given back are not
 * printed), a drain that cannot finish exits 75, a broken contract 70. */
#include "nl_err.h"
#include "nl_log.h"
#include "nl_record.h"
#include "nl_stage.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXTOK 256

/* A fake asynchronous stage: record N ("url": "http://x/N") is answered at
 * once when N % 7 == 3, else deferred; poll completes up to 3 tokens a call,
 * newest first; N % 5 == 0 completes as a dead letter. */
struct fake {
    nl_async *tok[MAXTOK];
    long n[MAXTOK];
    size_t held, max_held, completed;
    size_t stop_after;   /* set nl_stop after this many completions (0: never) */
    int stall_when_stop; /* once stopping, complete nothing */
    int no_token;        /* return NL_EPENDING without a token */
};

static void emit_n(nl_emitter *em, long n)
{
    ck_assert_int_eq(nl_emit(em, "out", json_pack("{s:s, s:i}", "schema", "test/1", "n", (int)n)),
                     0);
}

static int fake_process(void *ctx, const nl_input *in, json_t *rec, nl_emitter *em,
                        const char **code, char *errbuf, size_t errlen)
{
    struct fake *f = ctx;
    const char *url = nl_record_str(rec, "url");
    long n = strtol(url + strlen("http://x/"), NULL, 10);

    (void)in;
    (void)code;
    (void)errbuf;
    (void)errlen;
    if (f->no_token) {
        return NL_EPENDING;
    }
    if (n % 7 == 3) {
        emit_n(em, n);
        return 0;
    }
    ck_assert_uint_lt(f->held, MAXTOK);
    f->tok[f->held] = nl_emit_defer(em);
    ck_assert_ptr_nonnull(f->tok[f->held]);
    f->n[f->held] = n;
    f->held++;
    if (f->held > f->max_held) {
        f->max_held = f->held;
    }
    return NL_EPENDING;
}

static void fake_poll(void *ctx, int timeout_ms)
{
    struct fake *f = ctx;

    (void)timeout_ms;
    for (int i = 0; i < 3 && f->held > 0; i++) {
        nl_async *tok = f->tok[f->held - 1];
        long n = f->n[f->held - 1];
        if (nl_stop) {
            if (f->stall_when_stop) {
                return;
            }
            f->held--;
            nl_async_done(tok, NL_ETRANSIENT, "cancelled", "stopping");
            continue;
        }
        f->held--;
        f->completed++;
        if (n % 5 == 0) {
            nl_async_done(tok, NL_EINVAL, "bad_n", "multiple of five");
        } else {
            emit_n(nl_async_emitter(tok), n);
            nl_async_done(tok, 0, NULL, NULL);
        }
        if (f->stop_after > 0 && f->completed >= f->stop_after) {
            nl_stop = 1;
        }
    }
}

/* Runs the fake stage over records 0..count-1; returns the exit code, the
 * output in *out (malloc'd). */
static int run(struct fake *f, int count, size_t max_pending, int64_t drain_ms, char **out)
{
    nl_config cfg;
    nl_stage st = {"fake", NL_SCHEMA_FETCH, "in", fake_process, f};
    nl_stage_hooks hooks = {.poll = fake_poll, .max_pending = max_pending};
    char *input = NULL;
    size_t inlen = 0, outlen = 0;
    FILE *inw = open_memstream(&input, &inlen);
    FILE *in, *outf;
    int rc;

    for (int i = 0; i < count; i++) {
        fprintf(inw, "{\"schema\":\"%s\",\"url\":\"http://x/%d\"}\n", NL_SCHEMA_FETCH, i);
    }
    ck_assert_int_eq(fclose(inw), 0);
    in = fmemopen(input, inlen, "r");
    outf = open_memstream(out, &outlen);
    ck_assert_ptr_nonnull(in);
    ck_assert_ptr_nonnull(outf);
    nl_log_level = NL_LOG_ERROR + 1; /* quiet: the tests provoke errors */
    ck_assert_int_eq(nl_config_init(&cfg), 0);
    cfg.drain_timeout_ms = drain_ms;
    rc = nl_stage_run_stdin_hooks(&cfg, &st, &hooks, in, outf);
    fclose(in);
    ck_assert_int_eq(fclose(outf), 0);
    nl_config_free(&cfg);
    free(input);
    return rc;
}

/* Parses the output: seen[n] counts outputs of record n, dead[n] its dead
 * letters; returns the number of lines; *inversions counts outputs printed
 * after a higher-numbered one. */
static size_t tally(char *out, int *seen, int *dead, int max, int *inversions)
{
    size_t lines = 0;
    long last = -1;
    char *save = NULL;

    *inversions = 0;
    for (char *l = strtok_r(out, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
        json_t *rec = json_loads(l, 0, NULL);
        const char *schema;
        long n;
        ck_assert_ptr_nonnull(rec);
        schema = nl_record_str(rec, "schema");
        if (strcmp(schema, NL_SCHEMA_DLQ) == 0) {
            const char *prefix =
                json_string_value(json_object_get(json_object_get(rec, "payload"), "prefix"));
            ck_assert_str_eq(nl_record_str(rec, "reason_code"), "bad_n");
            n = strtol(strstr(prefix, "http://x/") + strlen("http://x/"), NULL, 10);
            ck_assert_int_lt(n, max);
            dead[n]++;
        } else {
            n = (long)json_integer_value(json_object_get(rec, "n"));
            ck_assert_int_lt(n, max);
            seen[n]++;
        }
        if (n < last) {
            (*inversions)++;
        }
        last = n;
        json_decref(rec);
        lines++;
    }
    return lines;
}

START_TEST(test_every_record_once)
{
    struct fake f;
    int seen[200] = {0}, dead[200] = {0}, inv;
    char *out = NULL;

    memset(&f, 0, sizeof(f));
    ck_assert_int_eq(run(&f, 200, 8, 1000, &out), NL_EXIT_OK);
    ck_assert_uint_eq(tally(out, seen, dead, 200, &inv), 200);
    for (int n = 0; n < 200; n++) {
        /* a record is answered exactly once: its output, or its dead letter */
        ck_assert_int_eq(seen[n] + dead[n], 1);
        ck_assert_int_eq(dead[n], n % 5 == 0 && n % 7 != 3);
    }
    ck_assert_uint_le(f.max_held, 8); /* back-pressure: never more deferred */
    ck_assert_uint_eq(f.max_held, 8); /* ... and the bound was reached */
    ck_assert_int_gt(inv, 0);         /* completion order, not input order */
    ck_assert_uint_eq(f.held, 0);
    free(out);
}
END_TEST

START_TEST(test_max_pending_one)
{
    struct fake f;
    int seen[50] = {0}, dead[50] = {0}, inv;
    char *out = NULL;

    memset(&f, 0, sizeof(f));
    ck_assert_int_eq(run(&f, 50, 0, 1000, &out), NL_EXIT_OK); /* 0 means 1 */
    ck_assert_uint_eq(tally(out, seen, dead, 50, &inv), 50);
    ck_assert_uint_eq(f.max_held, 1);
    ck_assert_int_eq(inv, 0); /* one at a time: input order */
    free(out);
}
END_TEST

START_TEST(test_sigterm_gives_back)
{
    struct fake f;
    int seen[200] = {0}, dead[200] = {0}, inv;
    char *out = NULL;
    size_t lines, sync_answers = 0;

    memset(&f, 0, sizeof(f));
    f.stop_after = 30;
    ck_assert_int_eq(run(&f, 200, 16, 1000, &out), NL_EXIT_OK);
    nl_stop = 0;
    lines = tally(out, seen, dead, 200, &inv);
    for (int n = 0; n < 200; n++) {
        ck_assert_int_le(seen[n] + dead[n], 1);
        sync_answers += seen[n] && n % 7 == 3;
    }
    /* what completed before the stop, and the immediate answers; the
     * records given back (NL_ETRANSIENT) are neither printed nor dead */
    ck_assert_uint_eq(lines, f.completed + sync_answers);
    ck_assert_uint_lt(lines, 200);
    ck_assert_uint_eq(f.held, 0);
    free(out);
}
END_TEST

START_TEST(test_drain_timeout)
{
    struct fake f;
    char *out = NULL;

    memset(&f, 0, sizeof(f));
    f.stop_after = 5;
    f.stall_when_stop = 1;
    ck_assert_int_eq(run(&f, 100, 16, 200, &out), NL_EXIT_TEMPFAIL);
    nl_stop = 0;
    ck_assert_uint_gt(f.held, 0); /* abandoned: freed by the runner */
    free(out);
}
END_TEST

START_TEST(test_pending_without_token)
{
    struct fake f;
    char *out = NULL;

    memset(&f, 0, sizeof(f));
    f.no_token = 1;
    ck_assert_int_eq(run(&f, 3, 4, 1000, &out), NL_EXIT_SOFTWARE);
    ck_assert_str_eq(out, "");
    free(out);
}
END_TEST

static int sync_process(void *ctx, const nl_input *in, json_t *rec, nl_emitter *em,
                        const char **code, char *errbuf, size_t errlen)
{
    (void)ctx;
    (void)in;
    (void)rec;
    (void)code;
    (void)errbuf;
    (void)errlen;
    /* no poll hook: a stage cannot defer */
    ck_assert_ptr_null(nl_emit_defer(em));
    emit_n(em, 1);
    return 0;
}

START_TEST(test_defer_refused_without_poll)
{
    nl_config cfg;
    nl_stage st = {"sync", NL_SCHEMA_FETCH, "in", sync_process, NULL};
    char input[] = "{\"schema\":\"" NL_SCHEMA_FETCH "\",\"url\":\"http://x/1\"}\n";
    FILE *in = fmemopen(input, strlen(input), "r");
    char *out = NULL;
    size_t outlen = 0;
    FILE *outf = open_memstream(&out, &outlen);

    nl_log_level = NL_LOG_ERROR;
    ck_assert_int_eq(nl_config_init(&cfg), 0);
    ck_assert_int_eq(nl_stage_run_stdin(&cfg, &st, in, outf), NL_EXIT_OK);
    fclose(in);
    fclose(outf);
    ck_assert_ptr_nonnull(strstr(out, "\"n\":1"));
    free(out);
    nl_config_free(&cfg);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("stage_async");
    TCase *tc = tcase_create("stdin");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, test_every_record_once);
    tcase_add_test(tc, test_max_pending_one);
    tcase_add_test(tc, test_sigterm_gives_back);
    tcase_add_test(tc, test_drain_timeout);
    tcase_add_test(tc, test_pending_without_token);
    tcase_add_test(tc, test_defer_refused_without_poll);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
