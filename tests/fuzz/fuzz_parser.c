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
 *    output buffers. */
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
    free(copy);
    return 0;
}
