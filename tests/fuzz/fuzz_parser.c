/* libFuzzer target for the parser's input side: arbitrary bytes, as a raw
 * record's body, with the first line (up to 200 bytes) as its HTTP
 * Content-Type.
 *  - px_to_utf8 must return 0 with valid UTF-8 (no NUL, NUL-terminated,
 *    out_len == strlen) and a charset and source, or an error with no
 *    output; the input is read only up to its length (ASan checks);
 *  - on the converted text, px_html_utf8 and px_plain must give a title and
 *    text that are valid UTF-8 whose lengths match their strings, or
 *    NL_EINVAL (nothing parseable) for HTML;
 *  - px_html on the raw bytes (libxml2 decoding by itself, as before
 *    px_to_utf8) must keep the same promises;
 *  - px_meta_charset and px_content_type_charset must stay inside their
 *    output buffers;
 *  - px_html_utf8 must give the same px_doc, every field, with and without
 *    its removal of script and style contents before the parse
 *    (px_strip_raw): on the converted text, and on the raw bytes (NULs,
 *    invalid UTF-8 and all). */
#include "charset.h"
#include "extract.h"
#include "nl_err.h"
#include "nl_text.h"

#include <libxml/parser.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    xmlInitParser();
    return 0;
}

static void check_doc(const px_doc *doc)
{
    if (doc->title == NULL || doc->text == NULL || strlen(doc->title) != doc->title_len ||
        strlen(doc->text) != doc->text_len || !nl_utf8_valid(doc->title, doc->title_len) ||
        !nl_utf8_valid(doc->text, doc->text_len)) {
        fprintf(stderr, "fuzz_parser: px_doc is not valid UTF-8 of its stated length\n");
        abort();
    }
}

static int str_eq(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static int date_eq(const px_date *a, const px_date *b)
{
    return str_eq(a->source, b->source) && strcmp(a->value, b->value) == 0;
}

static int docs_equal(const px_doc *a, const px_doc *b)
{
    if (a->text_len != b->text_len || memcmp(a->text, b->text, a->text_len) != 0 ||
        !str_eq(a->title, b->title) || !str_eq(a->reason, b->reason) ||
        a->n_authors != b->n_authors || !date_eq(&a->published, &b->published) ||
        !date_eq(&a->modified, &b->modified) || !str_eq(a->canonical_url, b->canonical_url) ||
        !str_eq(a->lang, b->lang) || !str_eq(a->site_name, b->site_name) ||
        !str_eq(a->description, b->description)) {
        return 0;
    }
    for (size_t i = 0; i < a->n_authors; i++) {
        if (!str_eq(a->authors[i], b->authors[i])) {
            return 0;
        }
    }
    return 1;
}

/* px_html_utf8 with and without the script and style removal. */
static void check_strip(const char *buf, size_t len)
{
    px_doc with, without;
    char errbuf[256];
    int rc1, rc2;
    px_strip_raw = 1;
    rc1 = px_html_utf8(buf, len, "https://example.org/2024/05/01/a", &with, errbuf, sizeof(errbuf));
    px_strip_raw = 0;
    rc2 = px_html_utf8(buf, len, "https://example.org/2024/05/01/a", &without, errbuf,
                       sizeof(errbuf));
    px_strip_raw = 1;
    if (rc1 != rc2 || (rc1 == 0 && !docs_equal(&with, &without))) {
        fprintf(stderr, "fuzz_parser: removing script and style changed px_html_utf8's output\n");
        abort();
    }
    if (rc1 == 0) {
        px_doc_free(&with);
        px_doc_free(&without);
    }
}

static void check_html(int (*fn)(const char *, size_t, const char *, px_doc *, char *, size_t),
                       const char *buf, size_t len)
{
    px_doc doc;
    char errbuf[256];
    int rc = fn(buf, len, "https://example.org/", &doc, errbuf, sizeof(errbuf));
    if (rc == 0) {
        check_doc(&doc);
        px_doc_free(&doc);
    } else if (rc != NL_EINVAL) {
        fprintf(stderr, "fuzz_parser: px_html: %d %s\n", rc, errbuf);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *nl = memchr(data, '\n', size < 200 ? size : 200);
    char ct[201], label[64], errbuf[256];
    const char *body = (const char *)data;
    size_t len = size, out_len = 7;
    char *out = (char *)1;
    px_charset cs;
    px_doc doc;
    char *copy;
    int rc;

    ct[0] = '\0';
    if (nl != NULL) {
        size_t n = (size_t)(nl - (const char *)data);
        memcpy(ct, data, n);
        ct[n] = '\0';
        body = nl + 1;
        len = size - n - 1;
    }
    /* the body alone in a buffer of its own, so ASan sees any over-read */
    copy = malloc(len > 0 ? len : 1);
    if (copy == NULL) {
        return 0;
    }
    memcpy(copy, body, len);

    if (px_content_type_charset(ct, label, sizeof(label)) && strlen(label) >= sizeof(label)) {
        abort();
    }
    if (px_meta_charset(copy, len, label, sizeof(label)) && strlen(label) >= sizeof(label)) {
        abort();
    }
    rc = px_to_utf8(copy, len, ct[0] != '\0' ? ct : NULL, 1 << 20, &out, &out_len, &cs, errbuf,
                    sizeof(errbuf));
    if (rc == 0) {
        if (out == NULL || strlen(out) != out_len || !nl_utf8_valid(out, out_len) ||
            cs.name[0] == '\0' || cs.source == NULL || cs.source[0] == '\0') {
            fprintf(stderr, "fuzz_parser: px_to_utf8 broke its promise (%s from %s)\n", cs.name,
                    cs.source);
            abort();
        }
        check_html(px_html_utf8, out, out_len);
        check_strip(out, out_len);
        rc = px_plain(out, out_len, &doc, errbuf, sizeof(errbuf));
        if (rc != 0) {
            abort();
        }
        check_doc(&doc);
        px_doc_free(&doc);
        free(out);
    } else if (rc != NL_EINVAL || out != NULL || out_len != 0 || cs.source == NULL) {
        fprintf(stderr, "fuzz_parser: px_to_utf8: %d %s\n", rc, errbuf);
        abort();
    }
    check_html(px_html, copy, len);
    check_strip(copy, len);
    free(copy);
    return 0;
}
