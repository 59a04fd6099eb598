/* Unit tests for records (nl_record.h), the byte-level text helpers
 * (nl_text.h), the capped buffer (nl_buf.h), error names (nl_err.h) and
 * dead-letter records (nl_dlq_record in nl_stage.h). */
#include "nl_buf.h"
#include "nl_err.h"
#include "nl_record.h"
#include "nl_log.h"
#include "nl_stage.h"
#include "nl_stage_int.h"
#include "nl_text.h"

#include <check.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A small deterministic PRNG (xorshift64*), the same on every libc. */
static uint64_t rng_state = 0x243f6a8885a308d3ULL;

static void rng_seed(uint64_t seed)
{
    rng_state = seed != 0 ? seed : 0x9e3779b97f4a7c15ULL;
}

static uint64_t rng_next(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dULL;
}

static void rng_fill(unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        p[i] = (unsigned char)(rng_next() >> 56);
    }
}

/* Dumps rec, parses it back as `schema` and checks nothing changed. */
static void assert_round_trip(json_t *rec, const char *schema)
{
    size_t len = 0;
    char *s = nl_record_dump(rec, &len);
    json_t *back = NULL;
    const char *code = "unset";
    char errbuf[256] = "";
    int rc;

    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(len, strlen(s));
    /* compact: one line, no space after the opening brace */
    ck_assert_ptr_null(strchr(s, '\n'));
    ck_assert_int_eq(s[0], '{');
    ck_assert_int_eq(s[1], '"');
    rc = nl_record_parse(s, len, schema, &back, &code, errbuf, sizeof(errbuf));
    ck_assert_msg(rc == 0, "parse of %s as %s failed: %s (%s)", s, schema, errbuf,
                  code ? code : "?");
    ck_assert_ptr_nonnull(back);
    ck_assert_ptr_null(code);
    ck_assert_msg(json_equal(rec, back), "round trip changed the record: %s", s);
    ck_assert_str_eq(nl_record_str(back, "schema"), schema);
    json_decref(back);
    free(s);
}

/* ---- records: round trips ----------------------------------------------- */

START_TEST(test_record_new)
{
    json_t *rec = nl_record_new(NL_SCHEMA_RAW, "0123456789abcdef");
    ck_assert_ptr_nonnull(rec);
    ck_assert_str_eq(nl_record_str(rec, "schema"), NL_SCHEMA_RAW);
    ck_assert_str_eq(nl_record_str(rec, "id"), "0123456789abcdef");
    ck_assert_uint_eq(json_object_size(rec), 2);
    json_decref(rec);

    rec = nl_record_new(NL_SCHEMA_FETCH, NULL);
    ck_assert_ptr_nonnull(rec);
    ck_assert_ptr_null(json_object_get(rec, "id"));
    ck_assert_uint_eq(json_object_size(rec), 1);
    json_decref(rec);
}
END_TEST

START_TEST(test_record_str_accessor)
{
    json_t *rec = json_pack("{s:s, s:i, s:n, s:[]}", "s", "v", "i", 1, "n", "a");
    ck_assert_ptr_nonnull(rec);
    ck_assert_str_eq(nl_record_str(rec, "s"), "v");
    ck_assert_ptr_null(nl_record_str(rec, "i"));
    ck_assert_ptr_null(nl_record_str(rec, "n"));
    ck_assert_ptr_null(nl_record_str(rec, "a"));
    ck_assert_ptr_null(nl_record_str(rec, "absent"));
    json_decref(rec);
}
END_TEST

START_TEST(test_round_trip_fetch)
{
    json_t *rec = nl_record_new(NL_SCHEMA_FETCH, NULL);
    ck_assert_ptr_nonnull(rec);
    ck_assert_int_eq(nl_record_set_str(rec, "url", "https://example.invalid/a?b=1&c=%C3%A9"), 0);
    assert_round_trip(rec, NL_SCHEMA_FETCH);
    json_decref(rec);
}
END_TEST

START_TEST(test_round_trip_raw_body)
{
    const char *url = "https://example.invalid/news/1";
    const char *body = "<html><head><title>Caf\xc3\xa9 \xe2\x82\xac</title></head>\n"
                       "<body>\"quoted\" back\\slash\ttab \xf0\x9f\x93\xb0 \x01 "
                       "\xe2\x80\xa8</body></html>";
    char id[17];
    json_t *rec;

    nl_id_from_string(url, strlen(url), id);
    rec = nl_record_new(NL_SCHEMA_RAW, id);
    ck_assert_ptr_nonnull(rec);
    ck_assert_int_eq(nl_record_set_str(rec, "url", url), 0);
    ck_assert_int_eq(nl_record_set_str(rec, "source", "fetcher"), 0);
    ck_assert_int_eq(nl_record_set_str(rec, "content_type", "text/html; charset=utf-8"), 0);
    ck_assert_int_eq(nl_record_set_str(rec, "body", body), 0);
    ck_assert_int_eq(nl_record_set_str(rec, "fetched_at", "2026-11-23T18:00:00.123Z"), 0);
    assert_round_trip(rec, NL_SCHEMA_RAW);
    json_decref(rec);
}
END_TEST

START_TEST(test_round_trip_raw_base64)
{
    const unsigned char bin[] = {0x00, 0xff, 0x10, 0x00, 0x80, 'P', 'D', 'F', 0x00, 0xc3};
    char *b64 = nl_base64_encode(bin, sizeof(bin), NULL);
    json_t *rec = nl_record_new(NL_SCHEMA_RAW, "00000000deadbeef");
    json_t *back = NULL;
    const char *code = NULL;
    char *dump;
    char *body = NULL;
    size_t len = 0;

    ck_assert_ptr_nonnull(b64);
    ck_assert_ptr_nonnull(rec);
    ck_assert_int_eq(nl_record_set_str(rec, "path", "corpus/seed/2026/one.pdf"), 0);
    ck_assert_int_eq(nl_record_set_str(rec, "source", "replay"), 0);
    ck_assert_int_eq(nl_record_set_str(rec, "content_type", "application/pdf"), 0);
    ck_assert_int_eq(nl_record_set_str(rec, "body_base64", b64), 0);
    assert_round_trip(rec, NL_SCHEMA_RAW);

    /* and the body survives the trip through text */
    dump = nl_record_dump(rec, &len);
    ck_assert_ptr_nonnull(dump);
    ck_assert_int_eq(nl_record_parse(dump, len, NL_SCHEMA_RAW, &back, &code, NULL, 0), 0);
    ck_assert_int_eq(nl_raw_body(back, &body, &len, NULL, 0), 0);
    ck_assert_uint_eq(len, sizeof(bin));
    ck_assert_mem_eq(body, bin, sizeof(bin));
    free(body);
    free(dump);
    free(b64);
    json_decref(back);
    json_decref(rec);
}
END_TEST

static json_t *make_parsed(const char *schema)
{
    json_t *rec = nl_record_new(schema, "fedcba9876543210");
    ck_assert_ptr_nonnull(rec);
    ck_assert_int_eq(nl_record_set_str(rec, "url", "https://example.invalid/x"), 0);
    ck_assert_int_eq(nl_record_set_str(rec, "source", "fetcher"), 0);
    ck_assert_int_eq(nl_record_set_str(rec, "content_type", "text/html"), 0);
    ck_assert_int_eq(nl_record_set_str(rec, "title", "Minister \xe2\x80\x9cresigns\xe2\x80\x9d"),
                     0);
    ck_assert_int_eq(nl_record_set_str(rec, "text",
                                       "Line one.\nLine two: \xd0\x9f\xd1\x80"
                                       "\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82."),
                     0);
    ck_assert_int_eq(nl_record_set_str(rec, "lang", "en"), 0);
    ck_assert_int_eq(nl_record_set_new(rec, "authors", json_pack("[s,s]", "A. B.", "C. D.")), 0);
    ck_assert_int_eq(nl_record_set_new(rec, "word_count", json_integer(6)), 0);
    ck_assert_int_eq(nl_record_set_new(rec, "published_at", json_null()), 0);
    return rec;
}

START_TEST(test_round_trip_parsed)
{
    json_t *rec = make_parsed(NL_SCHEMA_PARSED);
    assert_round_trip(rec, NL_SCHEMA_PARSED);
    json_decref(rec);
}
END_TEST

START_TEST(test_round_trip_tagged)
{
    json_t *rec = make_parsed(NL_SCHEMA_TAGGED);
    json_t *tags =
        json_pack("{s:[{s:s, s:i}, {s:s, s:i}], s:[], s:b}", "actors", "name", "Jane Doe",
                  "mentions", 3, "name", "ACME", "mentions", 1, "places", "watchlisted", 1);
    ck_assert_int_eq(nl_record_set_new(rec, "tags", tags), 0);
    assert_round_trip(rec, NL_SCHEMA_TAGGED);
    json_decref(rec);
}
END_TEST

START_TEST(test_round_trip_stored)
{
    json_t *rec = nl_record_new(NL_SCHEMA_STORED, "0000000000000000");
    ck_assert_int_eq(nl_record_set_str(rec, "file", "corpus/2026/11/23/0000000000000000.html"), 0);
    ck_assert_int_eq(nl_record_set_str(rec, "sidecar", "corpus/2026/11/23/0000000000000000.json"),
                     0);
    assert_round_trip(rec, NL_SCHEMA_STORED);
    json_decref(rec);
}
END_TEST

START_TEST(test_round_trip_dlq)
{
    json_t *rec = nl_record_new(NL_SCHEMA_DLQ, "aaaaaaaaaaaaaaaa");
    ck_assert_int_eq(nl_record_set_str(rec, "stage", "parser"), 0);
    ck_assert_int_eq(nl_record_set_str(rec, "reason_code", "not_json"), 0);
    ck_assert_int_eq(nl_record_set_str(rec, "reason", "not JSON: '[' or '{' expected"), 0);
    ck_assert_int_eq(
        nl_record_set_new(rec, "origin",
                          json_pack("{s:s, s:i, s:I}", "topic", "newsline.raw", "partition", 2,
                                    "offset", (json_int_t)9007199254740993LL)),
        0);
    ck_assert_int_eq(
        nl_record_set_new(rec, "payload", json_pack("{s:i, s:s}", "length", 3, "prefix", "abc")),
        0);
    assert_round_trip(rec, NL_SCHEMA_DLQ);
    json_decref(rec);
}
END_TEST

START_TEST(test_parse_respects_len)
{
    const char *s = "{\"schema\":\"newsline.fetch/1\",\"url\":\"u\"}trailing garbage";
    size_t len = strlen("{\"schema\":\"newsline.fetch/1\",\"url\":\"u\"}");
    json_t *rec = NULL;
    const char *code = NULL;

    ck_assert_int_eq(nl_record_parse(s, len, NL_SCHEMA_FETCH, &rec, &code, NULL, 0), 0);
    ck_assert_ptr_nonnull(rec);
    ck_assert_str_eq(nl_record_str(rec, "url"), "u");
    json_decref(rec);
    /* the same bytes with the garbage are not JSON */
    ck_assert_int_eq(nl_record_parse(s, strlen(s), NL_SCHEMA_FETCH, &rec, &code, NULL, 0),
                     NL_EINVAL);
    ck_assert_str_eq(code, "not_json");
}
END_TEST

START_TEST(test_parse_extra_fields_kept)
{
    const char *s = "{\"schema\":\"newsline.stored/1\",\"id\":\"0123456789abcdef\","
                    "\"file\":\"f\",\"future_field\":{\"x\":[1,2]}}";
    json_t *rec = NULL;
    const char *code = NULL;

    ck_assert_int_eq(nl_record_parse(s, strlen(s), NL_SCHEMA_STORED, &rec, &code, NULL, 0), 0);
    ck_assert_ptr_nonnull(json_object_get(rec, "future_field"));
    json_decref(rec);
}
END_TEST

/* ---- records: rejections ------------------------------------------------ */

static void assert_rejected(const char *buf, size_t len, const char *want, const char *exp_code,
                            const char *errbuf_needle)
{
    json_t *rec = (json_t *)0x1; /* must be reset to NULL */
    const char *code = NULL;
    char errbuf[256] = "";
    int rc = nl_record_parse(buf, len, want, &rec, &code, errbuf, sizeof(errbuf));

    ck_assert_msg(rc == NL_EINVAL, "%.*s as %s: rc %d, expected NL_EINVAL", (int)len, buf, want,
                  rc);
    ck_assert_ptr_null(rec);
    ck_assert_ptr_nonnull(code);
    ck_assert_msg(strcmp(code, exp_code) == 0, "%.*s as %s: code %s, expected %s", (int)len, buf,
                  want, code, exp_code);
    ck_assert_msg(errbuf[0] != '\0', "%.*s: empty errbuf", (int)len, buf);
    if (errbuf_needle != NULL) {
        ck_assert_msg(strstr(errbuf, errbuf_needle) != NULL, "errbuf \"%s\" lacks \"%s\"", errbuf,
                      errbuf_needle);
    }
    /* and a NULL errbuf is allowed */
    rec = (json_t *)0x1;
    code = NULL;
    ck_assert_int_eq(nl_record_parse(buf, len, want, &rec, &code, NULL, 0), NL_EINVAL);
    ck_assert_ptr_null(rec);
    ck_assert_str_eq(code, exp_code);
}

static void rejected(const char *buf, const char *want, const char *exp_code, const char *needle)
{
    assert_rejected(buf, strlen(buf), want, exp_code, needle);
}

START_TEST(test_reject_not_json)
{
    static const char nul_after[] = "{\"schema\":\"newsline.fetch/1\",\"url\":\"u\"}\0";
    static const char nul_inside[] = "{\"schema\":\"newsline.fetch/1\",\"url\":\"a\0b\"}";

    rejected("", NL_SCHEMA_RAW, "not_json", NULL);
    rejected("{", NL_SCHEMA_RAW, "not_json", NULL);
    rejected("not json at all", NL_SCHEMA_RAW, "not_json", NULL);
    rejected("{\"schema\":\"newsline.raw/1\",}", NL_SCHEMA_RAW, "not_json", NULL);
    rejected("{\"schema\":\"newsline.raw/1\"} {}", NL_SCHEMA_RAW, "not_json", NULL);
    rejected("{'schema':'newsline.raw/1'}", NL_SCHEMA_RAW, "not_json", NULL);
    /* invalid UTF-8 and escaped NUL inside a string */
    rejected("{\"schema\":\"newsline.fetch/1\",\"url\":\"\xff\"}", NL_SCHEMA_FETCH, "not_json",
             NULL);
    rejected("{\"schema\":\"newsline.fetch/1\",\"url\":\"a\\u0000b\"}", NL_SCHEMA_FETCH, "not_json",
             NULL);
    /* duplicate keys are refused, not silently resolved */
    rejected("{\"schema\":\"newsline.fetch/1\",\"url\":\"a\",\"url\":\"b\"}", NL_SCHEMA_FETCH,
             "not_json", NULL);
    /* raw NUL bytes within len */
    assert_rejected(nul_after, sizeof(nul_after) - 1, NL_SCHEMA_FETCH, "not_json", NULL);
    assert_rejected(nul_inside, sizeof(nul_inside) - 1, NL_SCHEMA_FETCH, "not_json", NULL);
}
END_TEST

START_TEST(test_reject_not_object)
{
    rejected("[]", NL_SCHEMA_RAW, "not_object", NULL);
    rejected("[{\"schema\":\"newsline.fetch/1\",\"url\":\"u\"}]", NL_SCHEMA_FETCH, "not_object",
             NULL);
}
END_TEST

START_TEST(test_reject_scalar)
{
    /* A bare scalar is either not JSON to the parser or not an object;
     * both are NL_EINVAL. */
    static const char *const scalars[] = {"42", "\"newsline.raw/1\"", "null", "true"};
    for (size_t i = 0; i < sizeof(scalars) / sizeof(scalars[0]); i++) {
        json_t *rec = NULL;
        const char *code = NULL;
        ck_assert_int_eq(
            nl_record_parse(scalars[i], strlen(scalars[i]), NL_SCHEMA_RAW, &rec, &code, NULL, 0),
            NL_EINVAL);
        ck_assert_ptr_null(rec);
        ck_assert_ptr_nonnull(code);
        ck_assert_msg(strcmp(code, "not_json") == 0 || strcmp(code, "not_object") == 0,
                      "%s: code %s", scalars[i], code);
    }
}
END_TEST

START_TEST(test_reject_wrong_schema)
{
    rejected("{}", NL_SCHEMA_RAW, "wrong_schema", NL_SCHEMA_RAW);
    rejected("{\"id\":\"0123456789abcdef\",\"content_type\":\"t\",\"source\":\"s\"}", NL_SCHEMA_RAW,
             "wrong_schema", NL_SCHEMA_RAW);
    rejected("{\"schema\":1,\"id\":\"0123456789abcdef\"}", NL_SCHEMA_RAW, "wrong_schema", NULL);
    rejected("{\"schema\":null}", NL_SCHEMA_RAW, "wrong_schema", NULL);
    rejected("{\"schema\":\"newsline.raw/2\",\"id\":\"0123456789abcdef\"}", NL_SCHEMA_RAW,
             "wrong_schema", "newsline.raw/2");
    rejected("{\"schema\":\"newsline.parsed/1\",\"id\":\"0123456789abcdef\",\"title\":\"t\","
             "\"text\":\"x\"}",
             NL_SCHEMA_RAW, "wrong_schema", NL_SCHEMA_RAW);
    rejected("{\"schema\":\"newsline.raw/1 \"}", NL_SCHEMA_RAW, "wrong_schema", NULL);
    rejected("{\"schema\":\"NEWSLINE.RAW/1\"}", NL_SCHEMA_RAW, "wrong_schema", NULL);
    rejected("{\"schema\":\"newsline.raw\"}", NL_SCHEMA_RAW, "wrong_schema", NULL);
    /* the schema is checked before the id */
    rejected("{\"schema\":\"newsline.tagged/1\",\"id\":\"bad\"}", NL_SCHEMA_PARSED, "wrong_schema",
             NULL);
}
END_TEST

START_TEST(test_reject_missing_field)
{
    /* the id, for every schema but fetch */
    rejected("{\"schema\":\"newsline.raw/1\",\"content_type\":\"t\",\"source\":\"s\"}",
             NL_SCHEMA_RAW, "missing_field", "id");
    rejected("{\"schema\":\"newsline.stored/1\",\"id\":12,\"file\":\"f\"}", NL_SCHEMA_STORED,
             "missing_field", "id");
    /* each schema's required string fields */
    rejected("{\"schema\":\"newsline.fetch/1\"}", NL_SCHEMA_FETCH, "missing_field", "url");
    rejected("{\"schema\":\"newsline.fetch/1\",\"url\":5}", NL_SCHEMA_FETCH, "missing_field",
             "url");
    rejected("{\"schema\":\"newsline.raw/1\",\"id\":\"0123456789abcdef\",\"source\":\"s\"}",
             NL_SCHEMA_RAW, "missing_field", "content_type");
    rejected("{\"schema\":\"newsline.raw/1\",\"id\":\"0123456789abcdef\",\"content_type\":\"t\"}",
             NL_SCHEMA_RAW, "missing_field", "source");
    rejected("{\"schema\":\"newsline.parsed/1\",\"id\":\"0123456789abcdef\",\"text\":\"x\"}",
             NL_SCHEMA_PARSED, "missing_field", "title");
    rejected("{\"schema\":\"newsline.parsed/1\",\"id\":\"0123456789abcdef\",\"title\":\"x\","
             "\"text\":null}",
             NL_SCHEMA_PARSED, "missing_field", "text");
    rejected("{\"schema\":\"newsline.tagged/1\",\"id\":\"0123456789abcdef\",\"text\":\"x\"}",
             NL_SCHEMA_TAGGED, "missing_field", "title");
    rejected("{\"schema\":\"newsline.tagged/1\",\"id\":\"0123456789abcdef\",\"title\":\"x\"}",
             NL_SCHEMA_TAGGED, "missing_field", "text");
    rejected("{\"schema\":\"newsline.stored/1\",\"id\":\"0123456789abcdef\",\"sidecar\":\"s\"}",
             NL_SCHEMA_STORED, "missing_field", "file");
    rejected("{\"schema\":\"newsline.dlq/1\",\"id\":\"0123456789abcdef\",\"reason_code\":\"r\"}",
             NL_SCHEMA_DLQ, "missing_field", "stage");
    rejected("{\"schema\":\"newsline.dlq/1\",\"id\":\"0123456789abcdef\",\"stage\":\"parser\"}",
             NL_SCHEMA_DLQ, "missing_field", "reason_code");
}
END_TEST

START_TEST(test_fetch_needs_no_id)
{
    const char *s = "{\"schema\":\"newsline.fetch/1\",\"url\":\"https://example.invalid/\"}";
    json_t *rec = NULL;
    const char *code = "unset";

    ck_assert_int_eq(nl_record_parse(s, strlen(s), NL_SCHEMA_FETCH, &rec, &code, NULL, 0), 0);
    ck_assert_ptr_nonnull(rec);
    ck_assert_ptr_null(code);
    json_decref(rec);
}
END_TEST

START_TEST(test_reject_bad_id)
{
    static const char *const ids[] = {
        "",                       /* empty */
        "0123456789abcde",        /* 15 digits */
        "0123456789abcdef0",      /* 17 digits */
        "0123456789ABCDEF",       /* upper case */
        "0123456789abcdeg",       /* not hex */
        "0x23456789abcdef",       /* prefix */
        " 123456789abcdef",       /* space */
        "0123456789abcd\xc3\xa9", /* 16 bytes, not hex */
    };
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        char buf[256];
        snprintf(buf, sizeof(buf),
                 "{\"schema\":\"newsline.stored/1\",\"id\":\"%s\",\"file\":\"f\"}", ids[i]);
        rejected(buf, NL_SCHEMA_STORED, "bad_id", "id");
    }
}
END_TEST

/* ---- records: setters ----------------------------------------------------- */

START_TEST(test_set_strn_rejects_invalid_utf8)
{
    static const char *const bad[] = {
        "\xff", "abc\x80", "\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "a\0b",
    };
    static const size_t bad_len[] = {1, 4, 1, 2, 3, 4, 3};
    json_t *rec = nl_record_new(NL_SCHEMA_PARSED, "0123456789abcdef");
    json_t *copy;

    ck_assert_int_eq(nl_record_set_str(rec, "title", "old"), 0);
    copy = json_deep_copy(rec);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_int_eq(nl_record_set_strn(rec, "title", bad[i], bad_len[i]), NL_EINVAL);
        ck_assert_int_eq(nl_record_set_strn(rec, "text", bad[i], bad_len[i]), NL_EINVAL);
        /* the record is unaltered: the old value kept, no new field */
        ck_assert_msg(json_equal(rec, copy), "record altered by bad value %zu", i);
        ck_assert_str_eq(nl_record_str(rec, "title"), "old");
        ck_assert_ptr_null(json_object_get(rec, "text"));
    }
    ck_assert_int_eq(nl_record_set_str(rec, "title", "\xff"), NL_EINVAL);
    ck_assert_str_eq(nl_record_str(rec, "title"), "old");
    json_decref(copy);
    json_decref(rec);
}
END_TEST

START_TEST(test_set_strn_valid)
{
    json_t *rec = nl_record_new(NL_SCHEMA_PARSED, "0123456789abcdef");
    /* only len bytes are taken: the \xff after them is not looked at */
    ck_assert_int_eq(nl_record_set_strn(rec, "title", "caf\xc3\xa9\xff", 5), 0);
    ck_assert_str_eq(nl_record_str(rec, "title"), "caf\xc3\xa9");
    ck_assert_int_eq(nl_record_set_strn(rec, "title", "new", 3), 0);
    ck_assert_str_eq(nl_record_str(rec, "title"), "new");
    ck_assert_int_eq(nl_record_set_strn(rec, "empty", "ignored", 0), 0);
    ck_assert_str_eq(nl_record_str(rec, "empty"), "");
    ck_assert_int_eq(nl_record_set_new(rec, "n", NULL), NL_ENOMEM);
    ck_assert_ptr_null(json_object_get(rec, "n"));
    ck_assert_int_eq(nl_record_set_new(rec, "n", json_integer(3)), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(rec, "n")), 3);
    json_decref(rec);
}
END_TEST

/* ---- raw bodies ---------------------------------------------------------- */

START_TEST(test_raw_body_from_body)
{
    json_t *rec = nl_record_new(NL_SCHEMA_RAW, "0123456789abcdef");
    char *body = (char *)0x1;
    size_t len = 99;

    ck_assert_int_eq(nl_record_set_str(rec, "body", "<p>caf\xc3\xa9</p>"), 0);
    ck_assert_int_eq(nl_raw_body(rec, &body, &len, NULL, 0), 0);
    ck_assert_uint_eq(len, 12);
    ck_assert_str_eq(body, "<p>caf\xc3\xa9</p>");
    free(body);

    /* "body" wins over "body_base64" */
    ck_assert_int_eq(nl_record_set_str(rec, "body_base64", "eHl6"), 0);
    ck_assert_int_eq(nl_raw_body(rec, &body, &len, NULL, 0), 0);
    ck_assert_str_eq(body, "<p>caf\xc3\xa9</p>");
    free(body);

    /* an empty body is a body */
    ck_assert_int_eq(nl_record_set_str(rec, "body", ""), 0);
    ck_assert_int_eq(nl_raw_body(rec, &body, &len, NULL, 0), 0);
    ck_assert_uint_eq(len, 0);
    ck_assert_str_eq(body, "");
    free(body);
    json_decref(rec);
}
END_TEST

START_TEST(test_raw_body_from_base64)
{
    unsigned char bin[300];
    json_t *rec = nl_record_new(NL_SCHEMA_RAW, "0123456789abcdef");
    char *b64;
    char *body = NULL;
    size_t len = 0;

    rng_seed(7);
    rng_fill(bin, sizeof(bin));
    bin[0] = 0;
    bin[150] = 0;
    bin[299] = 0;
    b64 = nl_base64_encode(bin, sizeof(bin), NULL);
    ck_assert_ptr_nonnull(b64);
    ck_assert_int_eq(nl_record_set_str(rec, "body_base64", b64), 0);
    /* a non-string "body" does not hide "body_base64" */
    ck_assert_int_eq(nl_record_set_new(rec, "body", json_null()), 0);
    ck_assert_int_eq(nl_raw_body(rec, &body, &len, NULL, 0), 0);
    ck_assert_uint_eq(len, sizeof(bin));
    ck_assert_mem_eq(body, bin, sizeof(bin));
    ck_assert_int_eq(body[len], '\0');
    free(body);
    free(b64);
    json_decref(rec);
}
END_TEST

START_TEST(test_raw_body_invalid)
{
    static const char *const bad[] = {"abc", "ab=c", "a b c d ", "ZmO=\n", "Zg==Zg==", "****"};
    json_t *rec = nl_record_new(NL_SCHEMA_RAW, "0123456789abcdef");
    char errbuf[128];
    char *body;
    size_t len;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        body = (char *)0x1;
        len = 99;
        errbuf[0] = '\0';
        ck_assert_int_eq(nl_record_set_str(rec, "body_base64", bad[i]), 0);
        ck_assert_int_eq(nl_raw_body(rec, &body, &len, errbuf, sizeof(errbuf)), NL_EINVAL);
        ck_assert_ptr_null(body);
        ck_assert_uint_eq(len, 0);
        ck_assert_msg(strstr(errbuf, "body_base64") != NULL, "errbuf: %s", errbuf);
    }
    /* neither field */
    json_object_del(rec, "body_base64");
    errbuf[0] = '\0';
    ck_assert_int_eq(nl_raw_body(rec, &body, &len, errbuf, sizeof(errbuf)), NL_EINVAL);
    ck_assert_ptr_null(body);
    ck_assert_msg(strstr(errbuf, "body") != NULL, "errbuf: %s", errbuf);
    /* not strings */
    ck_assert_int_eq(nl_record_set_new(rec, "body", json_integer(1)), 0);
    ck_assert_int_eq(nl_record_set_new(rec, "body_base64", json_true()), 0);
    ck_assert_int_eq(nl_raw_body(rec, &body, &len, NULL, 0), NL_EINVAL);
    ck_assert_ptr_null(body);
    json_decref(rec);
}
END_TEST

/* ---- UTF-8 ------------------------------------------------------------------ */

struct bytes {
    const char *s;
    size_t len;
    const char *what;
};

#define B(lit, what)                                                                               \
    {                                                                                              \
        lit, sizeof(lit) - 1, what                                                                 \
    }

static const struct bytes utf8_good[] = {
    B("", "empty"),
    B("plain ASCII ~\x7f", "ASCII incl. DEL"),
    B("\xc2\x80", "U+0080, smallest 2-byte"),
    B("\xdf\xbf", "U+07FF, largest 2-byte"),
    B("\xe0\xa0\x80", "U+0800, smallest 3-byte"),
    B("\xed\x9f\xbf", "U+D7FF, below the surrogates"),
    B("\xee\x80\x80", "U+E000, above the surrogates"),
    B("\xef\xbf\xbd", "U+FFFD"),
    B("\xef\xbf\xbf", "U+FFFF"),
    B("\xf0\x90\x80\x80", "U+10000, smallest 4-byte"),
    B("\xf4\x8f\xbf\xbf", "U+10FFFF, largest code point"),
    B("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xb0 \xd0\x9f", "mixed"),
};

static const struct bytes utf8_bad[] = {
    B("\0", "NUL alone"),
    B("a\0b", "NUL inside"),
    B("\x80", "lone continuation"),
    B("\xbf", "lone continuation BF"),
    B("a\x80z", "continuation after ASCII"),
    B("\xc0\x80", "overlong NUL (C0 80)"),
    B("\xc0\xaf", "overlong '/' (C0 AF)"),
    B("\xc1\xbf", "overlong (C1 BF)"),
    B("\xe0\x80\x80", "overlong 3-byte NUL"),
    B("\xe0\x9f\xbf", "overlong 3-byte U+07FF"),
    B("\xf0\x80\x80\x80", "overlong 4-byte NUL"),
    B("\xf0\x8f\xbf\xbf", "overlong 4-byte U+FFFF"),
    B("\xed\xa0\x80", "surrogate U+D800"),
    B("\xed\xaf\xbf", "surrogate U+DBFF"),
    B("\xed\xb0\x80", "surrogate U+DC00"),
    B("\xed\xbf\xbf", "surrogate U+DFFF"),
    B("\xed\xa0\xbd\xed\xb2\xa9", "CESU-8 surrogate pair"),
    B("\xf4\x90\x80\x80", "U+110000, above the range"),
    B("\xf5\x80\x80\x80", "F5 lead"),
    B("\xf8\x88\x80\x80\x80", "5-byte form"),
    B("\xfc\x84\x80\x80\x80\x80", "6-byte form"),
    B("\xfe", "FE"),
    B("\xff", "FF"),
    B("\xc3", "truncated 2-byte at end"),
    B("\xe2\x82", "truncated 3-byte at end"),
    B("\xf0\x9f\x93", "truncated 4-byte at end"),
    B("\xe2\x82z", "truncated 3-byte before ASCII"),
    B("\xf0\x9f\x93\xe2\x82\xac", "truncated 4-byte before a valid char"),
    B("\xc3\xc3\xa9", "lead byte followed by lead byte"),
    B("ok\xe2\x82\xac\xe2", "valid then truncated"),
};

START_TEST(test_utf8_valid_good)
{
    for (size_t i = 0; i < sizeof(utf8_good) / sizeof(utf8_good[0]); i++) {
        ck_assert_msg(nl_utf8_valid(utf8_good[i].s, utf8_good[i].len) == 1, "rejected: %s",
                      utf8_good[i].what);
    }
}
END_TEST

START_TEST(test_utf8_valid_bad)
{
    for (size_t i = 0; i < sizeof(utf8_bad) / sizeof(utf8_bad[0]); i++) {
        ck_assert_msg(nl_utf8_valid(utf8_bad[i].s, utf8_bad[i].len) == 0, "accepted: %s",
                      utf8_bad[i].what);
    }
}
END_TEST

START_TEST(test_utf8_valid_uses_len)
{
    /* a prefix ending on a boundary is valid, one cutting a char is not */
    const char *s = "a\xe2\x82\xac";
    ck_assert_int_eq(nl_utf8_valid(s, 1), 1);
    ck_assert_int_eq(nl_utf8_valid(s, 2), 0);
    ck_assert_int_eq(nl_utf8_valid(s, 3), 0);
    ck_assert_int_eq(nl_utf8_valid(s, 4), 1);
    ck_assert_int_eq(nl_utf8_valid(s, 0), 1);
}
END_TEST

/* Decodes one UTF-8 character of the (valid) string s, returning its length. */
static size_t char_len(const unsigned char *s)
{
    if (s[0] < 0x80) {
        return 1;
    }
    if (s[0] < 0xe0) {
        return 2;
    }
    if (s[0] < 0xf0) {
        return 3;
    }
    return 4;
}

START_TEST(test_sanitize_valid_unchanged)
{
    for (size_t i = 0; i < sizeof(utf8_good) / sizeof(utf8_good[0]); i++) {
        size_t n = 12345;
        char *out = nl_utf8_sanitize(utf8_good[i].s, utf8_good[i].len, 1 << 20, &n);
        ck_assert_ptr_nonnull(out);
        ck_assert_uint_eq(n, utf8_good[i].len);
        ck_assert_mem_eq(out, utf8_good[i].s, n);
        ck_assert_int_eq(out[n], '\0');
        free(out);
    }
}
END_TEST

START_TEST(test_sanitize_replaces)
{
    size_t n;
    char *out;

    out = nl_utf8_sanitize("a\xff"
                           "b",
                           3, 100, &n);
    ck_assert_str_eq(out, "a\xef\xbf\xbd"
                          "b");
    ck_assert_uint_eq(n, 5);
    free(out);

    out = nl_utf8_sanitize("a\0b", 3, 100, &n);
    ck_assert_uint_eq(n, 5);
    ck_assert_str_eq(out, "a\xef\xbf\xbd"
                          "b");
    free(out);

    /* a surrogate is three invalid bytes */
    out = nl_utf8_sanitize("\xed\xa0\x80", 3, 100, &n);
    ck_assert_str_eq(out, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    free(out);

    /* a truncated sequence before a valid char does not swallow it */
    out = nl_utf8_sanitize("\xe2\x82\xc3\xa9", 4, 100, &n);
    ck_assert_str_eq(out, "\xef\xbf\xbd\xef\xbf\xbd\xc3\xa9");
    free(out);

    /* out_len may be NULL */
    out = nl_utf8_sanitize("xyz", 3, 100, NULL);
    ck_assert_str_eq(out, "xyz");
    free(out);
}
END_TEST

START_TEST(test_sanitize_bad_inputs_become_valid)
{
    for (size_t i = 0; i < sizeof(utf8_bad) / sizeof(utf8_bad[0]); i++) {
        size_t n;
        char *out = nl_utf8_sanitize(utf8_bad[i].s, utf8_bad[i].len, 4096, &n);
        ck_assert_ptr_nonnull(out);
        ck_assert_msg(nl_utf8_valid(out, n), "invalid output for %s", utf8_bad[i].what);
        ck_assert_msg(strstr(out, "\xef\xbf\xbd") != NULL, "no U+FFFD for %s", utf8_bad[i].what);
        ck_assert_uint_eq(strlen(out), n);
        free(out);
    }
}
END_TEST

START_TEST(test_sanitize_max_out_boundary)
{
    /* "a€€" is 7 bytes: a cap inside a character stops before it */
    const char *s = "a\xe2\x82\xac\xe2\x82\xac";
    static const size_t expect[] = {0, 1, 1, 1, 4, 4, 4, 7, 7};
    for (size_t max = 0; max < sizeof(expect) / sizeof(expect[0]); max++) {
        size_t n = 999;
        char *out = nl_utf8_sanitize(s, 7, max, &n);
        ck_assert_ptr_nonnull(out);
        ck_assert_msg(n == expect[max], "max_out %zu: got %zu bytes, expected %zu", max, n,
                      expect[max]);
        ck_assert_mem_eq(out, s, n);
        ck_assert_int_eq(out[n], '\0');
        free(out);
    }
    /* a replacement character is never cut either */
    for (size_t max = 0; max < 7; max++) {
        size_t n;
        char *out = nl_utf8_sanitize("\xff\xff", 2, max, &n);
        ck_assert_uint_eq(n, max / 3 * 3);
        ck_assert(nl_utf8_valid(out, n));
        free(out);
    }
}
END_TEST

/* Random bytes biased towards UTF-8 lead and continuation bytes. */
static void fill_hostile(unsigned char *p, size_t n)
{
    static const unsigned char pick[] = {0x00, 'a',  0x7f, 0x80, 0xbf, 0xc0, 0xc2, 0xdf,
                                         0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, 0x9f};
    for (size_t i = 0; i < n; i++) {
        uint64_t r = rng_next();
        p[i] = (r & 1) ? pick[(r >> 8) % sizeof(pick)] : (unsigned char)(r >> 56);
    }
}

START_TEST(test_sanitize_random)
{
    unsigned char in[200];

    rng_seed(12345);
    for (int iter = 0; iter < 3000; iter++) {
        size_t len = (size_t)(rng_next() % sizeof(in));
        size_t max = (size_t)(rng_next() % 700);
        size_t n_full, n;
        char *full;
        char *out;

        fill_hostile(in, len);
        full = nl_utf8_sanitize((const char *)in, len, SIZE_MAX, &n_full);
        out = nl_utf8_sanitize((const char *)in, len, max, &n);
        ck_assert_ptr_nonnull(full);
        ck_assert_ptr_nonnull(out);
        /* always valid, NUL-terminated, within the cap */
        ck_assert(nl_utf8_valid(full, n_full));
        ck_assert(nl_utf8_valid(out, n));
        ck_assert_int_eq(out[n], '\0');
        ck_assert_uint_le(n, max);
        /* a prefix of the uncapped result, cut on a character boundary and
         * as long as the cap allows */
        ck_assert_uint_le(n, n_full);
        ck_assert_mem_eq(out, full, n);
        if (n < n_full) {
            ck_assert_uint_gt(n + char_len((const unsigned char *)full + n), max);
        }
        /* valid input is copied unchanged */
        if (nl_utf8_valid((const char *)in, len)) {
            ck_assert_uint_eq(n_full, len);
            ck_assert_mem_eq(full, in, len);
        }
        free(full);
        free(out);
    }
}
END_TEST

/* ---- base64 ----------------------------------------------------------------- */

START_TEST(test_base64_vectors)
{
    /* RFC 4648 section 10 */
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const enc[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                      "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
        size_t n = 999;
        char *e = nl_base64_encode((const unsigned char *)plain[i], strlen(plain[i]), &n);
        unsigned char *d;
        ck_assert_str_eq(e, enc[i]);
        ck_assert_uint_eq(n, strlen(enc[i]));
        d = nl_base64_decode(enc[i], strlen(enc[i]), &n);
        ck_assert_ptr_nonnull(d);
        ck_assert_uint_eq(n, strlen(plain[i]));
        ck_assert_str_eq((const char *)d, plain[i]);
        free(e);
        free(d);
    }
    {
        /* the whole alphabet, including + and / */
        const unsigned char b[] = {0xfb, 0xff, 0xbf};
        char *e = nl_base64_encode(b, 3, NULL);
        ck_assert_str_eq(e, "+/+/");
        free(e);
    }
}
END_TEST

START_TEST(test_base64_round_trip)
{
    /* loop test: _i is the length, 0..64 */
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                   "0123456789+/=";
    size_t len = (size_t)_i;
    unsigned char data[64];
    size_t elen = 0;
    size_t dlen = 999;
    char *e;
    unsigned char *d;

    rng_seed(1000 + (uint64_t)_i);
    for (int round = 0; round < 8; round++) {
        rng_fill(data, len);
        e = nl_base64_encode(data, len, &elen);
        ck_assert_ptr_nonnull(e);
        ck_assert_uint_eq(elen, 4 * ((len + 2) / 3));
        ck_assert_uint_eq(strlen(e), elen);
        for (size_t k = 0; k < elen; k++) {
            ck_assert_msg(e[k] != '\0' && strchr(alphabet, e[k]) != NULL, "bad char %02x",
                          (unsigned char)e[k]);
        }
        d = nl_base64_decode(e, elen, &dlen);
        ck_assert_ptr_nonnull(d);
        ck_assert_uint_eq(dlen, len);
        if (len > 0) {
            ck_assert_mem_eq(d, data, len);
        }
        ck_assert_int_eq(d[dlen], 0);
        free(e);
        free(d);
    }
}
END_TEST

START_TEST(test_base64_invalid)
{
    static const struct bytes bad[] = {
        B("Z", "length 1"),
        B("Zg=", "length 3"),
        B("Zm9vY", "length 5"),
        B("Zm9*", "bad character"),
        B("Zm9v\n", "trailing newline"),
        B("Zm 9", "space"),
        B("Zm9v Zm9v", "space between quads"),
        B("Zg==Zm9v", "padding before the end"),
        B("Zm=v", "data after padding"),
        B("Z===", "three pad characters"),
        B("====", "only padding"),
        B("=Zm9", "padding first"),
        B("Zm9\0", "NUL inside"),
        B("Zm9v\xc3\xa9==", "non-ASCII"),
        B("Zm9-", "base64url character -"),
        B("Zm9_", "base64url character _"),
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t n = 777;
        unsigned char *d = nl_base64_decode(bad[i].s, bad[i].len, &n);
        ck_assert_msg(d == NULL, "accepted: %s", bad[i].what);
        ck_assert_uint_eq(n, 777);
    }
}
END_TEST

/* ---- ids, hashes, time -------------------------------------------------------- */

START_TEST(test_id_valid)
{
    ck_assert_int_eq(nl_id_valid("0123456789abcdef"), 1);
    ck_assert_int_eq(nl_id_valid("0000000000000000"), 1);
    ck_assert_int_eq(nl_id_valid("ffffffffffffffff"), 1);
    ck_assert_int_eq(nl_id_valid(NULL), 0);
    ck_assert_int_eq(nl_id_valid(""), 0);
    ck_assert_int_eq(nl_id_valid("0123456789abcde"), 0);
    ck_assert_int_eq(nl_id_valid("0123456789abcdef0"), 0);
    ck_assert_int_eq(nl_id_valid("0123456789ABCDEF"), 0);
    ck_assert_int_eq(nl_id_valid("0123456789abcdeF"), 0);
    ck_assert_int_eq(nl_id_valid("0123456789abcdeg"), 0);
    ck_assert_int_eq(nl_id_valid("g123456789abcdef"), 0);
    ck_assert_int_eq(nl_id_valid("0123456789abcde "), 0);
    ck_assert_int_eq(nl_id_valid("0123456789abcd/f"), 0);
    ck_assert_int_eq(nl_id_valid("0123456789abcd:f"), 0);
    ck_assert_int_eq(nl_id_valid("0123456789abcd`f"), 0);
}
END_TEST

START_TEST(test_hash_and_id)
{
    char id[17];

    /* published FNV-1a 64-bit test vectors */
    ck_assert_uint_eq(nl_hash64("", 0), 0xcbf29ce484222325ULL);
    ck_assert_uint_eq(nl_hash64("a", 1), 0xaf63dc4c8601ec8cULL);
    ck_assert_uint_eq(nl_hash64("foobar", 6), 0x85944171f73967e8ULL);

    nl_id_from_string("foobar", 6, id);
    ck_assert_str_eq(id, "85944171f73967e8");
    ck_assert_int_eq(nl_id_valid(id), 1);
    nl_id_from_string("", 0, id);
    ck_assert_str_eq(id, "cbf29ce484222325");
    /* leading zeros are kept: find a hash below 2^60 */
    rng_seed(99);
    for (int i = 0; i < 100000; i++) {
        char s[32];
        int n = snprintf(s, sizeof(s), "k%d", i);
        if (nl_hash64(s, (size_t)n) < (1ULL << 60)) {
            nl_id_from_string(s, (size_t)n, id);
            ck_assert_int_eq(id[0], '0');
            ck_assert_int_eq(nl_id_valid(id), 1);
            break;
        }
    }
    /* the length counts, not the NUL */
    ck_assert_uint_ne(nl_hash64("a\0b", 3), nl_hash64("a", 1));
}
END_TEST

START_TEST(test_format_time)
{
    char out[32];
    nl_format_time_ms(0, out);
    ck_assert_str_eq(out, "1970-01-01T00:00:00.000Z");
    nl_format_time_ms(1700000000123LL, out);
    ck_assert_str_eq(out, "2023-11-14T22:13:20.123Z");
    nl_format_time_ms(4102444799999LL, out);
    ck_assert_str_eq(out, "2099-12-31T23:59:59.999Z");
    ck_assert_int_gt(nl_now_ms(), 1700000000000LL);
}
END_TEST

START_TEST(test_err_codes)
{
    ck_assert_str_eq(nl_err_code(NL_OK), "ok");
    ck_assert_str_eq(nl_err_code(NL_ENOMEM), "no_memory");
    ck_assert_str_eq(nl_err_code(NL_EINVAL), "invalid_input");
    ck_assert_str_eq(nl_err_code(NL_ETOOBIG), "too_big");
    ck_assert_str_eq(nl_err_code(NL_ETRANSIENT), "transient");
    ck_assert_str_eq(nl_err_code(NL_EFATAL), "fatal");
    ck_assert_str_eq(nl_err_code(NL_EIO), "io_error");
    ck_assert_str_eq(nl_err_code(-99), "unknown");
    {
        char buf[8];
        ck_assert_int_eq(nl_errf(buf, sizeof(buf), NL_EIO, "%s", "truncated here"), NL_EIO);
        ck_assert_str_eq(buf, "truncat");
        ck_assert_int_eq(nl_errf(NULL, 0, NL_EINVAL, "x"), NL_EINVAL);
    }
}
END_TEST

/* ---- nl_buf ------------------------------------------------------------------ */

START_TEST(test_buf_basic)
{
    nl_buf b;
    char *p;
    size_t len = 99;

    nl_buf_init(&b, 1000);
    ck_assert_ptr_null(b.ptr);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_int_eq(nl_buf_append(&b, "abc", 3), 0);
    ck_assert_int_eq(nl_buf_append(&b, "\0def", 4), 0);
    ck_assert_uint_eq(b.len, 7);
    ck_assert_mem_eq(b.ptr, "abc\0def", 8); /* NUL-terminated, NUL not counted */
    ck_assert_int_eq(nl_buf_append(&b, "", 0), 0);
    ck_assert_uint_eq(b.len, 7);

    nl_buf_reset(&b);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_str_eq(b.ptr, "");
    ck_assert_int_eq(nl_buf_append(&b, "xy", 2), 0);

    p = nl_buf_steal(&b, &len);
    ck_assert_str_eq(p, "xy");
    ck_assert_uint_eq(len, 2);
    ck_assert_ptr_null(b.ptr);
    ck_assert_uint_eq(b.len, 0);
    free(p);
    /* usable again after a steal */
    ck_assert_int_eq(nl_buf_append(&b, "z", 1), 0);
    ck_assert_str_eq(b.ptr, "z");
    nl_buf_free(&b);
    ck_assert_ptr_null(b.ptr);
    nl_buf_free(&b); /* twice is harmless */
}
END_TEST

START_TEST(test_buf_cap)
{
    nl_buf b;
    char big[600];

    memset(big, 'x', sizeof(big));
    nl_buf_init(&b, 10);
    ck_assert_int_eq(nl_buf_append(&b, "0123456789", 10), 0); /* exactly max */
    ck_assert_uint_eq(b.len, 10);
    ck_assert_str_eq(b.ptr, "0123456789");
    /* one byte past max: refused, and the buffer is emptied */
    ck_assert_int_eq(nl_buf_append(&b, "a", 1), NL_ETOOBIG);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_ptr_null(b.ptr);
    /* it is usable again */
    ck_assert_int_eq(nl_buf_append(&b, "abc", 3), 0);
    ck_assert_str_eq(b.ptr, "abc");
    /* a single append larger than max */
    ck_assert_int_eq(nl_buf_append(&b, big, 11), NL_ETOOBIG);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_int_eq(nl_buf_append(&b, big, SIZE_MAX), NL_ETOOBIG);
    ck_assert_uint_eq(b.len, 0);
    nl_buf_free(&b);

    /* a cap above the initial allocation, reached by steps */
    nl_buf_init(&b, 1000);
    for (int i = 0; i < 10; i++) {
        ck_assert_int_eq(nl_buf_append(&b, big, 100), 0);
    }
    ck_assert_uint_eq(b.len, 1000);
    ck_assert_uint_le(b.cap, 1001);
    ck_assert_int_eq(b.ptr[1000], '\0');
    ck_assert_int_eq(nl_buf_append(&b, big, 1), NL_ETOOBIG);
    ck_assert_uint_eq(b.len, 0);
    nl_buf_free(&b);

    /* max 0: only empty appends */
    nl_buf_init(&b, 0);
    ck_assert_int_eq(nl_buf_append(&b, "", 0), 0);
    ck_assert_int_eq(nl_buf_append(&b, "a", 1), NL_ETOOBIG);
    nl_buf_free(&b);
}
END_TEST

START_TEST(test_buf_appendf)
{
    nl_buf b;
    char want[2001];

    nl_buf_init(&b, 3000);
    ck_assert_int_eq(nl_buf_appendf(&b, "%s=%d", "n", 42), 0);
    ck_assert_int_eq(nl_buf_appendf(&b, " %.3f", 1.5), 0);
    ck_assert_str_eq(b.ptr, "n=42 1.500");
    ck_assert_uint_eq(b.len, 10);
    ck_assert_int_eq(nl_buf_appendf(&b, "%s", ""), 0);
    ck_assert_uint_eq(b.len, 10);
    nl_buf_reset(&b);
    /* longer than any small stack buffer */
    memset(want, 'q', 2000);
    want[2000] = '\0';
    ck_assert_int_eq(nl_buf_appendf(&b, "%s", want), 0);
    ck_assert_int_eq(nl_buf_appendf(&b, "%c", '!'), 0);
    ck_assert_uint_eq(b.len, 2001);
    ck_assert_int_eq(memcmp(b.ptr, want, 2000), 0);
    ck_assert_str_eq(b.ptr + 2000, "!");
    /* past the cap */
    ck_assert_int_eq(nl_buf_appendf(&b, "%s", want), NL_ETOOBIG);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_ptr_null(b.ptr);
    ck_assert_int_eq(nl_buf_appendf(&b, "%d", 7), 0);
    ck_assert_str_eq(b.ptr, "7");
    nl_buf_free(&b);

    nl_buf_init(&b, 5);
    ck_assert_int_eq(nl_buf_appendf(&b, "%d", 12345), 0);
    ck_assert_int_eq(nl_buf_appendf(&b, "%d", 6), NL_ETOOBIG);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_int_eq(nl_buf_appendf(&b, "%d", 123456), NL_ETOOBIG);
    nl_buf_free(&b);
}
END_TEST

START_TEST(test_buf_uncapped)
{
    /* SIZE_MAX as the cap means "no cap": appends must simply work. */
    nl_buf b;
    char chunk[1000];

    memset(chunk, 'u', sizeof(chunk));
    nl_buf_init(&b, SIZE_MAX);
    ck_assert_int_eq(nl_buf_append(&b, chunk, sizeof(chunk)), 0);
    ck_assert_int_eq(nl_buf_append(&b, chunk, sizeof(chunk)), 0);
    ck_assert_uint_eq(b.len, 2 * sizeof(chunk));
    ck_assert_uint_ge(b.cap, b.len + 1);
    ck_assert_int_eq(b.ptr[0], 'u');
    ck_assert_int_eq(b.ptr[b.len - 1], 'u');
    ck_assert_int_eq(b.ptr[b.len], '\0');
    nl_buf_free(&b);
}
END_TEST

/* ---- dead letters --------------------------------------------------------------- */

static json_t *obj_get(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    ck_assert_msg(v != NULL, "missing field %s", k);
    return v;
}

START_TEST(test_dlq_record_fields)
{
    static const char head[] = "{\"bad\": \xff\0caf\xc3\xa9 ";
    char payload[2000];
    char id[17];
    nl_input in;
    json_t *rec;
    json_t *origin;
    json_t *pl;
    const char *prefix;
    size_t plen;
    const char *expect_start = "{\"bad\": \xef\xbf\xbd\xef\xbf\xbd"
                               "caf\xc3\xa9 ";

    memcpy(payload, head, sizeof(head) - 1);
    for (size_t i = sizeof(head) - 1; i < sizeof(payload); i++) {
        payload[i] = (char)(i % 7 == 0 ? 0x80 : i % 11 == 0 ? 0 : 'a' + (int)(i % 26));
    }
    memset(&in, 0, sizeof(in));
    in.payload = payload;
    in.len = sizeof(payload);
    in.topic = "newsline.raw";
    in.partition = 3;
    in.offset = 123456789012LL;

    rec = nl_dlq_record("parser", "not_json", "not JSON: invalid token at byte 8", &in);
    ck_assert_ptr_nonnull(rec);
    ck_assert_str_eq(nl_record_str(rec, "schema"), NL_SCHEMA_DLQ);
    ck_assert_str_eq(nl_record_str(rec, "stage"), "parser");
    ck_assert_str_eq(nl_record_str(rec, "reason_code"), "not_json");
    ck_assert_str_eq(nl_record_str(rec, "reason"), "not JSON: invalid token at byte 8");
    ck_assert_str_eq(nl_record_str(rec, "daemon_version"), NL_VERSION);
    /* the id is the payload's hash, so one bad payload keeps one identity */
    nl_id_from_string(payload, sizeof(payload), id);
    ck_assert_str_eq(nl_record_str(rec, "id"), id);
    ck_assert_int_eq(nl_id_valid(nl_record_str(rec, "id")), 1);
    /* "at" is an RFC 3339 UTC time */
    ck_assert_ptr_nonnull(nl_record_str(rec, "at"));
    ck_assert_uint_eq(strlen(nl_record_str(rec, "at")), 24);
    ck_assert_int_eq(nl_record_str(rec, "at")[23], 'Z');

    origin = obj_get(rec, "origin");
    ck_assert_str_eq(json_string_value(obj_get(origin, "topic")), "newsline.raw");
    ck_assert_int_eq(json_integer_value(obj_get(origin, "partition")), 3);
    ck_assert_int_eq(json_integer_value(obj_get(origin, "offset")), 123456789012LL);

    pl = obj_get(rec, "payload");
    ck_assert_int_eq(json_integer_value(obj_get(pl, "length")), (json_int_t)sizeof(payload));
    ck_assert_str_eq(json_string_value(obj_get(pl, "hash_fnv1a64")), id);
    prefix = json_string_value(obj_get(pl, "prefix"));
    ck_assert_ptr_nonnull(prefix);
    plen = json_string_length(obj_get(pl, "prefix"));
    /* valid UTF-8 with no NUL, at most 512 bytes, and not needlessly short */
    ck_assert_uint_eq(strlen(prefix), plen);
    ck_assert(nl_utf8_valid(prefix, plen));
    ck_assert_uint_le(plen, 512);
    ck_assert_uint_ge(plen, 512 - 3);
    ck_assert_mem_eq(prefix, expect_start, strlen(expect_start));

    /* the dead letter is itself a valid record */
    assert_round_trip(rec, NL_SCHEMA_DLQ);
    json_decref(rec);
}
END_TEST

START_TEST(test_dlq_prefix_char_boundary)
{
    /* 511 ASCII bytes then a 3-byte character across the 512 mark */
    char payload[600];
    nl_input in;
    json_t *rec;
    json_t *prefix;

    memset(payload, 'a', 511);
    memcpy(payload + 511, "\xe2\x82\xac", 3);
    memset(payload + 514, 'b', sizeof(payload) - 514);
    memset(&in, 0, sizeof(in));
    in.payload = payload;
    in.len = sizeof(payload);
    in.topic = "newsline.parsed";
    in.partition = 0;
    in.offset = 0;
    rec = nl_dlq_record("tagger", "too_big", "x", &in);
    ck_assert_ptr_nonnull(rec);
    prefix = json_object_get(json_object_get(rec, "payload"), "prefix");
    ck_assert_uint_eq(json_string_length(prefix), 511);
    ck_assert(nl_utf8_valid(json_string_value(prefix), 511));
    json_decref(rec);

    /* a short payload is kept whole */
    in.payload = "{\"schema\":\"x\"}";
    in.len = strlen(in.payload);
    rec = nl_dlq_record("tagger", "wrong_schema", "schema is \"x\"", &in);
    ck_assert_ptr_nonnull(rec);
    prefix = json_object_get(json_object_get(rec, "payload"), "prefix");
    ck_assert_str_eq(json_string_value(prefix), "{\"schema\":\"x\"}");
    json_decref(rec);
}
END_TEST

START_TEST(test_dlq_stdin_and_empty)
{
    nl_input in;
    json_t *rec;
    json_t *pl;

    memset(&in, 0, sizeof(in));
    in.payload = "";
    in.len = 0;
    in.topic = "stdin";
    in.partition = -1;
    in.offset = 17;
    rec = nl_dlq_record("sink", "too_big", "line longer than max_record_bytes 1024", &in);
    ck_assert_ptr_nonnull(rec);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(rec, "origin"), "topic")),
                     "stdin");
    ck_assert_int_eq(
        json_integer_value(json_object_get(json_object_get(rec, "origin"), "partition")), -1);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(rec, "origin"), "offset")),
                     17);
    pl = json_object_get(rec, "payload");
    ck_assert_int_eq(json_integer_value(json_object_get(pl, "length")), 0);
    ck_assert_str_eq(json_string_value(json_object_get(pl, "prefix")), "");
    ck_assert_str_eq(nl_record_str(rec, "id"), "cbf29ce484222325");
    assert_round_trip(rec, NL_SCHEMA_DLQ);
    json_decref(rec);
}
END_TEST

START_TEST(test_dlq_reason_sanitized)
{
    /* a reason quoting hostile bytes stays valid UTF-8 */
    char reason[3000];
    nl_input in;
    json_t *rec;
    const char *r;

    memset(reason, 'r', sizeof(reason) - 1);
    reason[sizeof(reason) - 1] = '\0';
    memcpy(reason, "bad \xff\xfe byte", 11);
    memset(&in, 0, sizeof(in));
    in.payload = "x";
    in.len = 1;
    in.topic = "t";
    rec = nl_dlq_record("parser", "invalid_input", reason, &in);
    ck_assert_ptr_nonnull(rec);
    r = nl_record_str(rec, "reason");
    ck_assert_ptr_nonnull(r);
    ck_assert(nl_utf8_valid(r, strlen(r)));
    ck_assert_mem_eq(r, "bad \xef\xbf\xbd\xef\xbf\xbd byte", 15);
    ck_assert_uint_le(strlen(r), 1024);
    json_decref(rec);
}
END_TEST

START_TEST(test_dlq_same_payload_same_id)
{
    nl_input a;
    nl_input b;
    json_t *ra;
    json_t *rb;

    memset(&a, 0, sizeof(a));
    a.payload = "same bytes";
    a.len = 10;
    a.topic = "newsline.raw";
    b = a;
    b.topic = "newsline.parsed";
    b.offset = 99;
    ra = nl_dlq_record("parser", "not_json", "r1", &a);
    rb = nl_dlq_record("tagger", "wrong_schema", "r2", &b);
    ck_assert_str_eq(nl_record_str(ra, "id"), nl_record_str(rb, "id"));
    json_decref(ra);
    json_decref(rb);
}
END_TEST

/* ---- emitter and stage runner (nl_stage_int.h) ------------------------------------ */

START_TEST(test_emit_consumes_record)
{
    nl_emitter em;
    json_t *rec = nl_record_new(NL_SCHEMA_STORED, "0123456789abcdef");
    json_t *copy;
    json_t *back;

    ck_assert_int_eq(nl_record_set_str(rec, "file", "a/b.html"), 0);
    copy = json_deep_copy(rec);
    nl_emit_init(&em, 1 << 20);
    /* the emitter holds the only reference: the key must be taken from the
     * record before the record is released */
    ck_assert_int_eq(nl_emit(&em, "newsline.stored", rec), 0);
    ck_assert_uint_eq(em.n, 1);
    ck_assert_str_eq(em.out[0].topic, "newsline.stored");
    ck_assert_str_eq(em.out[0].key, "0123456789abcdef");
    ck_assert_int_eq(em.out[0].copy, 0);
    ck_assert_uint_eq(em.out[0].len, strlen(em.out[0].payload));
    back = json_loadb(em.out[0].payload, em.out[0].len, 0, NULL);
    ck_assert_ptr_nonnull(back);
    ck_assert(json_equal(back, copy));
    json_decref(back);

    /* a record without an id gets an empty key */
    rec = nl_record_new(NL_SCHEMA_FETCH, NULL);
    ck_assert_int_eq(nl_record_set_str(rec, "url", "https://example.invalid/"), 0);
    ck_assert_int_eq(nl_emit(&em, NULL, rec), 0);
    ck_assert_uint_eq(em.n, 2);
    ck_assert_ptr_null(em.out[1].topic);
    ck_assert_str_eq(em.out[1].key, "");

    /* copies for fan-out topics */
    ck_assert_int_eq(nl_emit_copy(&em, "other"), 0);
    ck_assert_uint_eq(em.n, 3);
    ck_assert_int_eq(em.out[2].copy, 1);
    ck_assert_str_eq(em.out[2].topic, "other");
    ck_assert_str_eq(em.out[2].payload, em.out[1].payload);
    ck_assert_ptr_ne(em.out[2].payload, em.out[1].payload);

    nl_emit_clear(&em);
    ck_assert_uint_eq(em.n, 0);
    ck_assert_int_eq(nl_emit_copy(&em, "other"), NL_EINVAL);
    nl_emit_free(&em);
    json_decref(copy);
}
END_TEST

START_TEST(test_emit_too_big)
{
    nl_emitter em;
    json_t *rec = nl_record_new(NL_SCHEMA_STORED, "0123456789abcdef");

    ck_assert_int_eq(nl_record_set_str(rec, "file", "a/b.html"), 0);
    nl_emit_init(&em, 20);
    ck_assert_int_eq(nl_emit(&em, "t", rec), NL_ETOOBIG);
    ck_assert_uint_eq(em.n, 0);
    nl_emit_free(&em);
}
END_TEST

static int echo_process(void *ctx, const nl_input *in, json_t *rec, nl_emitter *em,
                        const char **code, char *errbuf, size_t errlen)
{
    (void)ctx;
    (void)in;
    (void)code;
    (void)errbuf;
    (void)errlen;
    return nl_emit(em, NULL, json_incref(rec));
}

START_TEST(test_process_one_dead_letter)
{
    static const char payload[] = "this is not JSON";
    nl_config cfg;
    nl_stage st = {"echo", NL_SCHEMA_FETCH, "in", echo_process, NULL};
    nl_input in;
    nl_emitter em;
    char id[17];
    json_t *dlq;

    nl_log_level = NL_LOG_ERROR;
    ck_assert_int_eq(nl_config_init(&cfg), 0);
    nl_emit_init(&em, (size_t)cfg.max_record_bytes);
    memset(&in, 0, sizeof(in));
    in.payload = payload;
    in.len = sizeof(payload) - 1;
    in.topic = "in";
    in.partition = 1;
    in.offset = 5;
    ck_assert_int_eq(nl_stage_process_one(&cfg, &st, &in, &em), NL_EINVAL);
    ck_assert_uint_eq(em.n, 1);
    ck_assert_str_eq(em.out[0].topic, cfg.topic_dlq);
    /* the dead letter's Kafka key is its id, the payload's hash */
    nl_id_from_string(payload, in.len, id);
    ck_assert_str_eq(em.out[0].key, id);
    dlq = json_loadb(em.out[0].payload, em.out[0].len, 0, NULL);
    ck_assert_ptr_nonnull(dlq);
    ck_assert_str_eq(nl_record_str(dlq, "id"), id);
    ck_assert_str_eq(nl_record_str(dlq, "reason_code"), "not_json");
    ck_assert_str_eq(nl_record_str(dlq, "stage"), "echo");
    json_decref(dlq);
    nl_emit_free(&em);
    nl_config_free(&cfg);
}
END_TEST

/* Runs the echo stage in stdin mode over input[0..len) and returns the
 * output (malloc'd). */
static char *run_stdin(const char *input, size_t len)
{
    nl_config cfg;
    nl_stage st = {"echo", NL_SCHEMA_FETCH, "in", echo_process, NULL};
    FILE *in = fmemopen((void *)input, len, "r");
    char *out = NULL;
    size_t outlen = 0;
    FILE *outf = open_memstream(&out, &outlen);

    ck_assert_ptr_nonnull(in);
    ck_assert_ptr_nonnull(outf);
    nl_log_level = NL_LOG_ERROR;
    ck_assert_int_eq(nl_config_init(&cfg), 0);
    ck_assert_int_eq(nl_stage_run_stdin(&cfg, &st, in, outf), NL_EXIT_OK);
    fclose(in);
    ck_assert_int_eq(fclose(outf), 0);
    nl_config_free(&cfg);
    return out;
}

/* Splits s into at most max lines (modifies s); returns the count. */
static size_t split_lines(char *s, char **lines, size_t max)
{
    size_t n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(s, "\n", &save); tok != NULL; tok = strtok_r(NULL, "\n", &save)) {
        ck_assert_uint_lt(n, max);
        lines[n++] = tok;
    }
    return n;
}

START_TEST(test_stdin_filter)
{
    static const char input[] = "{\"schema\":\"newsline.fetch/1\",\"url\":\"a\"}\n"
                                "\n"
                                "{\"schema\":\"newsline.dlq/1\",\"id\":\"0123456789abcdef\","
                                "\"stage\":\"x\",\"reason_code\":\"y\"}\n"
                                "garbage\n"
                                "{\"schema\":\"newsline.fetch/1\",\"url\":\"b\"}";
    char *out = run_stdin(input, sizeof(input) - 1);
    char *lines[8];
    size_t n = split_lines(out, lines, 8);
    json_t *rec;

    ck_assert_uint_eq(n, 4);
    ck_assert_str_eq(lines[0], "{\"schema\":\"newsline.fetch/1\",\"url\":\"a\"}");
    /* an earlier stage's dead letter passes through unchanged */
    ck_assert_str_eq(lines[1], "{\"schema\":\"newsline.dlq/1\",\"id\":\"0123456789abcdef\","
                               "\"stage\":\"x\",\"reason_code\":\"y\"}");
    rec = json_loads(lines[2], 0, NULL);
    ck_assert_ptr_nonnull(rec);
    ck_assert_str_eq(nl_record_str(rec, "schema"), NL_SCHEMA_DLQ);
    ck_assert_str_eq(nl_record_str(rec, "reason_code"), "not_json");
    /* the line number of "garbage" (the blank line counts) */
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(rec, "origin"), "offset")),
                     4);
    json_decref(rec);
    /* the last line has no newline and is still a record */
    ck_assert_str_eq(lines[3], "{\"schema\":\"newsline.fetch/1\",\"url\":\"b\"}");
    free(out);
}
END_TEST

START_TEST(test_stdin_nul_in_line)
{
    /* A NUL byte inside a line is part of that line: the line is dead-
     * lettered on its own and the next line is processed normally. */
    static const char input[] = "{\"schema\":\"newsline.fetch/1\",\"url\":\"a\"}\0junk\n"
                                "{\"schema\":\"newsline.fetch/1\",\"url\":\"b\"}\n";
    const size_t line1 = strlen("{\"schema\":\"newsline.fetch/1\",\"url\":\"a\"}") + 5;
    char *out = run_stdin(input, sizeof(input) - 1);
    char *lines[8];
    size_t n = split_lines(out, lines, 8);
    json_t *rec;

    ck_assert_msg(n == 2, "%zu output lines, expected a dead letter and a record", n);
    rec = json_loads(lines[0], 0, NULL);
    ck_assert_ptr_nonnull(rec);
    ck_assert_str_eq(nl_record_str(rec, "schema"), NL_SCHEMA_DLQ);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(rec, "origin"), "offset")),
                     1);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(rec, "payload"), "length")),
                     (json_int_t)line1);
    json_decref(rec);
    ck_assert_str_eq(lines[1], "{\"schema\":\"newsline.fetch/1\",\"url\":\"b\"}");
    free(out);
}
END_TEST

static Suite *record_suite(void)
{
    Suite *s = suite_create("record");
    TCase *tc;

    tc = tcase_create("records");
    tcase_add_test(tc, test_record_new);
    tcase_add_test(tc, test_record_str_accessor);
    tcase_add_test(tc, test_round_trip_fetch);
    tcase_add_test(tc, test_round_trip_raw_body);
    tcase_add_test(tc, test_round_trip_raw_base64);
    tcase_add_test(tc, test_round_trip_parsed);
    tcase_add_test(tc, test_round_trip_tagged);
    tcase_add_test(tc, test_round_trip_stored);
    tcase_add_test(tc, test_round_trip_dlq);
    tcase_add_test(tc, test_parse_respects_len);
    tcase_add_test(tc, test_parse_extra_fields_kept);
    tcase_add_test(tc, test_reject_not_json);
    tcase_add_test(tc, test_reject_not_object);
    tcase_add_test(tc, test_reject_scalar);
    tcase_add_test(tc, test_reject_wrong_schema);
    tcase_add_test(tc, test_reject_missing_field);
    tcase_add_test(tc, test_fetch_needs_no_id);
    tcase_add_test(tc, test_reject_bad_id);
    tcase_add_test(tc, test_set_strn_rejects_invalid_utf8);
    tcase_add_test(tc, test_set_strn_valid);
    tcase_add_test(tc, test_raw_body_from_body);
    tcase_add_test(tc, test_raw_body_from_base64);
    tcase_add_test(tc, test_raw_body_invalid);
    suite_add_tcase(s, tc);

    tc = tcase_create("text");
    tcase_add_test(tc, test_utf8_valid_good);
    tcase_add_test(tc, test_utf8_valid_bad);
    tcase_add_test(tc, test_utf8_valid_uses_len);
    tcase_add_test(tc, test_sanitize_valid_unchanged);
    tcase_add_test(tc, test_sanitize_replaces);
    tcase_add_test(tc, test_sanitize_bad_inputs_become_valid);
    tcase_add_test(tc, test_sanitize_max_out_boundary);
    tcase_add_test(tc, test_sanitize_random);
    tcase_add_test(tc, test_base64_vectors);
    tcase_add_loop_test(tc, test_base64_round_trip, 0, 65);
    tcase_add_test(tc, test_base64_invalid);
    tcase_add_test(tc, test_id_valid);
    tcase_add_test(tc, test_hash_and_id);
    tcase_add_test(tc, test_format_time);
    tcase_add_test(tc, test_err_codes);
    suite_add_tcase(s, tc);

    tc = tcase_create("buf");
    tcase_add_test(tc, test_buf_basic);
    tcase_add_test(tc, test_buf_cap);
    tcase_add_test(tc, test_buf_appendf);
    tcase_add_test(tc, test_buf_uncapped);
    suite_add_tcase(s, tc);

    tc = tcase_create("dlq");
    tcase_add_test(tc, test_dlq_record_fields);
    tcase_add_test(tc, test_dlq_prefix_char_boundary);
    tcase_add_test(tc, test_dlq_stdin_and_empty);
    tcase_add_test(tc, test_dlq_reason_sanitized);
    tcase_add_test(tc, test_dlq_same_payload_same_id);
    suite_add_tcase(s, tc);

    tc = tcase_create("stage");
    tcase_add_test(tc, test_emit_consumes_record);
    tcase_add_test(tc, test_emit_too_big);
    tcase_add_test(tc, test_process_one_dead_letter);
    tcase_add_test(tc, test_stdin_filter);
    tcase_add_test(tc, test_stdin_nul_in_line);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(record_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
