/* newsline-parser: newsline.raw -> newsline.parsed.
 * Turns each raw record (HTML or plain text) into a parsed record with a
 * title and the article text; anything else is dead-lettered. */
#include "extract.h"
#include "nl_err.h"
#include "nl_log.h"
#include "nl_record.h"
#include "nl_stage.h"

#include <libxml/parser.h>
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

static int parse_record(void *ctx, const nl_input *in, json_t *rec, nl_emitter *em,
                        const char **code, char *errbuf, size_t errlen)
{
    const nl_config *cfg = ctx;
    const char *ct = nl_record_str(rec, "content_type");
    char *body = NULL;
    size_t len = 0;
    px_doc doc = {0};
    json_t *out = NULL;
    int rc;

    (void)in;
    rc = nl_raw_body(rec, &body, &len, errbuf, errlen);
    if (rc != 0) {
        *code = "bad_body";
        return rc;
    }
    if (is_type(ct, "text/html") || is_type(ct, "application/xhtml+xml")) {
        rc = px_html(body, len, nl_record_str(rec, "url"), &doc, errbuf, errlen);
        if (rc == NL_EINVAL) {
            *code = "unparseable_html";
        }
    } else if (is_type(ct, "text/plain")) {
        rc = px_plain(body, len, &doc, errbuf, errlen);
    } else {
        *code = "unsupported_content_type";
        rc = nl_errf(errbuf, errlen, NL_EINVAL, "content type \"%.100s\" is not HTML or text", ct);
    }
    free(body);
    if (rc != 0) {
        goto out;
    }
    out = json_deep_copy(rec);
    if (out == NULL) {
        rc = NL_ENOMEM;
        goto out;
    }
    json_object_del(out, "body");
    json_object_del(out, "body_base64");
    rc = nl_record_set_str(out, "schema", NL_SCHEMA_PARSED);
    if (rc == 0) {
        rc = nl_record_set_strn(out, "title", doc.title, doc.title_len);
    }
    if (rc == 0) {
        rc = nl_record_set_strn(out, "text", doc.text, doc.text_len);
    }
    if (rc != 0) {
        /* The extractor promises valid UTF-8: anything else is our bug. */
        rc = nl_errf(errbuf, errlen, NL_EFATAL, "could not build parsed record");
        goto out;
    }
    rc = nl_emit(em, cfg->topic_parsed, out);
    out = NULL;
    if (rc == NL_ETOOBIG) {
        *code = "too_big";
        nl_errf(errbuf, errlen, rc, "parsed record exceeds max_record_bytes");
    }
out:
    json_decref(out);
    px_doc_free(&doc);
    return rc;
}

int main(int argc, char **argv)
{
    nl_config cfg;
    int stdin_mode;
    int rc = nl_daemon_init(argc, argv, "newsline-parser",
                            "Parses raw pages and documents (newsline.raw) into title and text "
                            "(newsline.parsed).",
                            &cfg, &stdin_mode, NULL);
    if (rc != 0) {
        nl_config_free(&cfg);
        return rc < 0 ? 0 : rc;
    }
    xmlInitParser();
    nl_stage st = {"parser", NL_SCHEMA_RAW, cfg.topic_raw, parse_record, &cfg};
    rc = stdin_mode ? nl_stage_run_stdin(&cfg, &st, stdin, stdout) : nl_stage_run_kafka(&cfg, &st);
    xmlCleanupParser();
    nl_config_free(&cfg);
    return rc;
}
