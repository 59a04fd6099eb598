/* newsline-parser: newsline.raw -> newsline.parsed.
 * Turns each raw record (HTML or plain text) into a parsed record with a
 * title, the article text and the page's metadata; anything else is
 * dead-lettered. --html FILE prints the parsed record of one page. */
#include "charset.h"
#include "extract.h"
#include "nl_buf.h"
#include "nl_err.h"
#include "nl_log.h"
#include "nl_record.h"
#include "nl_stage.h"
#include "nl_text.h"

#include <errno.h>
#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int is_type(const char *ct, const char *want)
{
    size_t n = strlen(want);
    while (*ct == ' ') {
        ct++;
    }
    return strncasecmp(ct, want, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* {"value": "...", "source": "..."}, or nothing when the date is unknown. */
static int set_date(json_t *out, const char *field, const px_date *d)
{
    if (d->source == NULL) {
        return 0;
    }
    return nl_record_set_new(out, field,
                             json_pack("{s:s, s:s}", "value", d->value, "source", d->source));
}

static int set_opt(json_t *out, const char *field, const char *s)
{
    return s == NULL ? 0 : nl_record_set_str(out, field, s);
}

/* The parsed record's fields from the doc, on out (a copy of the raw record
 * without its body). 0, or NL_ENOMEM with out partly filled. */
static int set_parsed(json_t *out, const px_doc *doc)
{
    json_t *authors = json_array();
    int rc = nl_record_set_str(out, "schema", NL_SCHEMA_PARSED);

    if (rc == 0) {
        rc = nl_record_set_strn(out, "title", doc->title, doc->title_len);
    }
    if (rc == 0) {
        rc = nl_record_set_strn(out, "text", doc->text, doc->text_len);
    }
    for (size_t i = 0; rc == 0 && authors != NULL && i < doc->n_authors; i++) {
        json_t *a = json_string(doc->authors[i]);
        if (a == NULL || json_array_append_new(authors, a) != 0) {
            rc = NL_ENOMEM;
        }
    }
    if (rc == 0) {
        rc = nl_record_set_new(out, "authors", authors);
        authors = NULL;
    }
    if (rc == 0) {
        rc = set_date(out, "published", &doc->published);
    }
    if (rc == 0) {
        rc = set_date(out, "modified", &doc->modified);
    }
    if (rc == 0) {
        rc = set_opt(out, "canonical_url", doc->canonical_url);
    }
    if (rc == 0) {
        rc = set_opt(out, "lang", doc->lang);
    }
    if (rc == 0) {
        rc = set_opt(out, "site_name", doc->site_name);
    }
    if (rc == 0) {
        rc = set_opt(out, "description", doc->description);
    }
    if (rc == 0) {
        rc = set_opt(out, "reason", doc->reason);
    }
    json_decref(authors);
    return rc;
}

/* Where the text's charset came from: "charset" and "charset_source", and
 * what was passed over or replaced when anything was. */
static int set_charset(json_t *out, const px_charset *cs)
{
    int rc = nl_record_set_str(out, "charset", cs->name);
    if (rc == 0) {
        rc = nl_record_set_str(out, "charset_source", cs->source);
    }
    if (rc == 0 && cs->rejected[0] != '\0') {
        rc = nl_record_set_str(out, "charset_rejected", cs->rejected);
    }
    if (rc == 0 && cs->replaced > 0) {
        rc = nl_record_set_new(out, "charset_replaced", json_integer((json_int_t)cs->replaced));
    }
    return rc;
}

/* A raw record (rec, its body already decoded) to a new parsed record in
 * *outp. On error *code may name the dead-letter reason. */
static int parse_body(const json_t *rec, const char *body, size_t len, size_t max_len,
                      json_t **outp, const char **code, char *errbuf, size_t errlen)
{
    const char *ct = nl_record_str(rec, "content_type");
    const char *url = nl_record_str(rec, "final_url");
    px_doc doc = {0};
    px_charset cs;
    json_t *out = NULL;
    char *u8 = NULL;
    size_t u8_len = 0;
    int html, rc;

    *outp = NULL;

    if (url == NULL) {
        url = nl_record_str(rec, "url");
    }
    if (ct == NULL) {
        ct = "";
    }
    html = is_type(ct, "text/html") || is_type(ct, "application/xhtml+xml");
    if (!html && !is_type(ct, "text/plain")) {
        *code = "unsupported_content_type";
        return nl_errf(errbuf, errlen, NL_EINVAL, "content type \"%.100s\" is not HTML or text",
                       ct);
    }
    /* Any charset to UTF-8 first (HTTP header, BOM, <meta>, detector), so
     * both extractors see UTF-8 and say so to libxml2. */
    rc = px_to_utf8(body, len, ct, max_len, &u8, &u8_len, &cs, errbuf, errlen);
    if (rc == NL_EINVAL) {
        *code = "undecodable";
        return rc;
    }
    if (rc == NL_ETOOBIG) {
        *code = "too_big";
        return rc;
    }
    if (rc != 0) {
        return rc;
    }
    if (html) {
        rc = px_html_utf8(u8, u8_len, url, &doc, errbuf, errlen);
        if (rc == NL_EINVAL) {
            *code = "unparseable_html";
        }
    } else {
        rc = px_plain(u8, u8_len, &doc, errbuf, errlen);
    }
    free(u8);
    if (rc != 0) {
        goto out;
    }
    out = json_deep_copy(rec);
    if (out == NULL) {
        rc = nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
        goto out;
    }
    json_object_del(out, "body");
    json_object_del(out, "body_base64");
    rc = set_parsed(out, &doc);
    if (rc == 0) {
        rc = set_charset(out, &cs);
    }
    if (rc != 0) {
        /* The extractor promises valid UTF-8: anything else is our bug. */
        rc = nl_errf(errbuf, errlen, NL_EFATAL, "could not build parsed record");
        json_decref(out);
        out = NULL;
    }
out:
    px_doc_free(&doc);
    *outp = out;
    return rc;
}

static int parse_record(void *ctx, const nl_input *in, json_t *rec, nl_emitter *em,
                        const char **code, char *errbuf, size_t errlen)
{
    const nl_config *cfg = ctx;
    char *body = NULL;
    size_t len = 0;
    json_t *out = NULL;
    int rc;

    (void)in;
    rc = nl_raw_body(rec, &body, &len, errbuf, errlen);
    if (rc != 0) {
        *code = "bad_body";
        return rc;
    }
    rc = parse_body(rec, body, len, (size_t)cfg->parser_max_page_bytes, &out, code, errbuf, errlen);
    free(body);
    if (rc != 0) {
        return rc;
    }
    rc = nl_emit(em, cfg->topic_parsed, out);
    if (rc == NL_ETOOBIG) {
        *code = "too_big";
        nl_errf(errbuf, errlen, rc, "parsed record exceeds max_record_bytes");
    }
    return rc;
}

/* --html FILE [--url URL]: the parsed record of one page, on stdout. Its id
 * is the hash of the URL when one is given (as the fetcher's would be),
 * else of the file's bytes. */
static int parse_file(const nl_config *cfg, const char *path, const char *url)
{
    char errbuf[512], id[17];
    const char *base = strrchr(path, '/');
    const char *code = NULL;
    FILE *f = fopen(path, "rb");
    nl_buf body;
    char chunk[65536];
    size_t n;
    json_t *rec = NULL, *out = NULL;
    char *s = NULL;
    int rc = NL_EXIT_FAIL;

    nl_buf_init(&body, (size_t)cfg->parser_max_page_bytes);
    if (f == NULL) {
        fprintf(stderr, "newsline-parser: %s: %s\n", path, strerror(errno));
        return NL_EXIT_FAIL;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (nl_buf_append(&body, chunk, n) != 0) {
            fprintf(stderr, "newsline-parser: %s: larger than parser.max_page_bytes\n", path);
            goto out;
        }
    }
    if (ferror(f)) {
        fprintf(stderr, "newsline-parser: %s: read error\n", path);
        goto out;
    }
    if (url != NULL) {
        nl_id_from_string(url, strlen(url), id);
    } else {
        nl_id_from_string(body.ptr != NULL ? body.ptr : "", body.len, id);
    }
    rec = nl_record_new(NL_SCHEMA_RAW, id);
    if (rec == NULL || nl_record_set_str(rec, "source", "file") != 0 ||
        nl_record_set_str(rec, "path", base != NULL ? base + 1 : path) != 0 ||
        nl_record_set_str(rec, "content_type", "text/html") != 0 ||
        (url != NULL && nl_record_set_str(rec, "url", url) != 0)) {
        fprintf(stderr, "newsline-parser: %s: could not build the record\n", path);
        goto out;
    }
    if (parse_body(rec, body.ptr != NULL ? body.ptr : "", body.len,
                   (size_t)cfg->parser_max_page_bytes, &out, &code, errbuf, sizeof(errbuf)) != 0) {
        fprintf(stderr, "newsline-parser: %s: %s%s%s\n", path, errbuf, code ? ": " : "",
                code ? code : "");
        goto out;
    }
    s = json_dumps(out, JSON_INDENT(2));
    if (s != NULL && puts(s) >= 0) {
        rc = NL_EXIT_OK;
    }
out:
    free(s);
    json_decref(out);
    json_decref(rec);
    nl_buf_free(&body);
    fclose(f);
    return rc;
}

int main(int argc, char **argv)
{
    nl_config cfg;
    const char *html_file = NULL, *url = NULL;
    const nl_daemon_opt opts[] = {
        {"html", "FILE", "print the parsed record of one HTML file, then exit", &html_file},
        {"url", "URL", "with --html: the page's address (dates in it, relative links)", &url},
        {NULL, NULL, NULL, NULL},
    };
    int stdin_mode;
    int rc = nl_daemon_init_opts(argc, argv, "newsline-parser",
                                 "Parses raw pages and documents (newsline.raw) into title, text "
                                 "and metadata (newsline.parsed).",
                                 &cfg, &stdin_mode, NULL, opts);
    if (rc != 0) {
        nl_config_free(&cfg);
        return rc < 0 ? 0 : rc;
    }
    if (url != NULL && html_file == NULL) {
        fprintf(stderr, "newsline-parser: --url needs --html\n");
        nl_config_free(&cfg);
        return NL_EXIT_USAGE;
    }
    xmlInitParser();
    nl_stage st = {"parser", NL_SCHEMA_RAW, cfg.topic_raw, parse_record, &cfg};
    if (html_file != NULL) {
        rc = parse_file(&cfg, html_file, url);
    } else if (stdin_mode) {
        rc = nl_stage_run_stdin(&cfg, &st, stdin, stdout);
    } else {
        rc = nl_stage_run_kafka(&cfg, &st);
    }
    xmlCleanupParser();
    nl_config_free(&cfg);
    return rc;
}
