/* Unit tests for the libxml2 arena (parser/xmlarena.h) that px_html parses
 * in: nothing libxml2 allocates inside a window is used after it, and the
 * rest of the process's libxml2 use is unaffected. Run under the Asan build
 * these are the proof: the arena poisons what it has not handed out and
 * everything after a window, so a pointer that outlived its document is
 * reported on first use, and a free() of an arena pointer by libc is too.
 *
 * Interleaved with px_html: XML parses that raise errors (libxml2 copies
 * every error into the thread's last error), the fetcher's feed parser,
 * libxml2 objects made before a window and freed after it, a caller's own
 * hooks (put back, and never given arena memory), pages in charsets
 * libxml2 converts with iconv, a page bigger than the arena keeps, and
 * several threads at once. */
#include "extract.h"
#include "feeds.h"
#include "nl_err.h"
#include "xmlarena.h"

#include <check.h>
#include <iconv.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlmemory.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PARA                                                                                       \
    "<p>The city council voted on Tuesday to expand the tram network by twelve kilometres, "       \
    "after a debate that lasted well into the night and drew hundreds of residents.</p>"

/* Broken on purpose: unclosed and misnested tags, a stray end tag, an
 * unknown entity, an attribute without a value: each an error libxml2
 * raises (and copies into the last error) though it is not reported. */
static const char page_broken[] =
    "<html lang=en><head><title>Tram &bogus; vote</title>"
    "<meta property=\"og:title\" content=\"Council expands tram network\">"
    "<script type=\"application/ld+json\">{\"@type\":\"NewsArticle\",\"datePublished\":"
    "\"2024-06-21T10:00:00Z\",\"author\":{\"name\":\"Jane Doe\"}}</script></head>"
    "<body><div class=\"nav\"><a href=/>Home</a></div></span><article><h1>Tram</h1>" PARA PARA
    "<p>Unclosed <b><i>nesting</b></i> and <td>a stray cell" PARA "</article>"
    "<div class=comments>" PARA "</div><input disabled></body></html>";

static const char xml_broken[] = "<?xml version=\"1.0\"?><a><b>text</a>";

static const char rss[] = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>T</title>"
                          "<item><title>One</title><link>https://example.org/1</link></item>"
                          "<item><title>Two</title><link>/2</link></item></channel></rss>";

static void page(const char *html, size_t len, const char *encoding_note, px_doc *doc)
{
    char errbuf[256];
    int rc = px_html(html, len, "https://example.org/2024/06/21/tram", doc, errbuf, sizeof(errbuf));
    ck_assert_msg(rc == 0, "px_html (%s): %s", encoding_note, errbuf);
}

/* A page in Shift_JIS (libxml2 has no converter of its own: iconv) or
 * windows-1252 (one of libxml2's), declared by <meta>. */
static char *legacy_page(const char *charset, const char *text_utf8, size_t *len)
{
    char *u8 = NULL, *in, *out, *o;
    size_t in_left, out_left;
    iconv_t cd = iconv_open(charset, "UTF-8");
    ck_assert(cd != (iconv_t)-1);
    ck_assert_int_ge(asprintf(&u8,
                              "<html><head><meta charset=\"%s\"><title>T</title></head><body>"
                              "<article><p>%s %s %s %s</p>" PARA "</article></body></html>",
                              charset, text_utf8, text_utf8, text_utf8, text_utf8),
                     0);
    in = u8;
    in_left = strlen(u8);
    out_left = in_left * 2;
    out = o = malloc(out_left);
    ck_assert_ptr_nonnull(out);
    ck_assert_int_ne(iconv(cd, &in, &in_left, &o, &out_left), (size_t)-1);
    iconv_close(cd);
    free(u8);
    *len = (size_t)(o - out);
    return out;
}

/* Hooks restored exactly, and the last error no longer the arena's. */
static void check_after_window(xmlFreeFunc f0, xmlMallocFunc m0, xmlReallocFunc r0,
                               xmlStrdupFunc s0)
{
    xmlFreeFunc f;
    xmlMallocFunc m, ma;
    xmlReallocFunc r;
    xmlStrdupFunc s;
    const xmlError *e = xmlGetLastError();
    xmlGcMemGet(&f, &m, &ma, &r, &s);
    ck_assert(f == f0 && m == m0 && ma == m0 && r == r0 && s == s0);
    ck_assert(e == NULL || e->code == XML_ERR_OK);
}

START_TEST(test_interleaved)
{
    xmlFreeFunc f0;
    xmlMallocFunc m0, ma0;
    xmlReallocFunc r0;
    xmlStrdupFunc s0;
    size_t sj_len, w_len;
    char *sj =
        legacy_page("SHIFT_JIS", "市議会は火曜日、路面電車網を延長することを決めた。", &sj_len);
    char *w =
        legacy_page("WINDOWS-1252", "Le café était fermé, l’hôtel proposait déjà un menu.", &w_len);
    char *first_text = NULL;

    xmlInitParser();
    xmlGcMemGet(&f0, &m0, &ma0, &r0, &s0);
    for (int i = 0; i < 60; i++) {
        char errbuf[256];
        px_doc doc;
        fx_feed *feed = NULL;
        /* made before the window, freed after it (and the other way) */
        xmlDocPtr before =
            xmlReadMemory(xml_broken, (int)strlen(xml_broken), NULL, NULL,
                          XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_RECOVER);
        xmlChar *s = xmlStrdup((const xmlChar *)"made before");
        const xmlError *e = xmlGetLastError();
        ck_assert_ptr_nonnull(before);
        ck_assert(e != NULL && e->code != XML_ERR_OK && e->message != NULL);

        page(page_broken, strlen(page_broken), "broken", &doc);
        check_after_window(f0, m0, r0, s0);
        ck_assert_str_eq(doc.title, "Council expands tram network");
        ck_assert_ptr_nonnull(strstr(doc.text, "twelve kilometres"));
        ck_assert_ptr_null(strstr(doc.text, "Home"));
        ck_assert_uint_eq(doc.n_authors, 1);
        ck_assert_str_eq(doc.authors[0], "Jane Doe");
        if (first_text == NULL) {
            first_text = strdup(doc.text);
        } else {
            ck_assert_str_eq(doc.text, first_text);
        }
        px_doc_free(&doc);

        /* an error after the window: libxml2 frees the last error's strings */
        ck_assert_int_eq(fx_feed_parse(xml_broken, strlen(xml_broken), "https://example.org/f",
                                       &feed, errbuf, sizeof(errbuf)),
                         NL_EINVAL);
        ck_assert_int_eq(
            fx_feed_parse(rss, strlen(rss), "https://example.org/f", &feed, errbuf, sizeof(errbuf)),
            0);
        ck_assert_uint_eq(feed->n_entries, 2);
        fx_feed_free(feed);

        page(sj, sj_len, "Shift_JIS", &doc);
        ck_assert_ptr_nonnull(strstr(doc.text, "路面電車網"));
        px_doc_free(&doc);
        page(w, w_len, "windows-1252", &doc);
        ck_assert_ptr_nonnull(strstr(doc.text, "l’hôtel"));
        px_doc_free(&doc);
        check_after_window(f0, m0, r0, s0);

        xmlFree(s);
        xmlFreeDoc(before);
        e = xmlGetLastError();
        ck_assert(e == NULL || e->code == XML_ERR_OK);
        before = xmlReadMemory(xml_broken, (int)strlen(xml_broken), NULL, NULL,
                               XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_RECOVER);
        e = xmlGetLastError();
        ck_assert(e != NULL && e->message != NULL && strlen(e->message) > 0);
        xmlFreeDoc(before);
    }
    free(first_text);
    free(sj);
    free(w);
}
END_TEST

/* A caller's own hooks: put back after every window, never given arena
 * memory to free, and every block they hand out is returned to them. */
static long own_live, own_calls;

static void *own_malloc(size_t n)
{
    own_live++;
    own_calls++;
    return malloc(n);
}

static void own_free(void *p)
{
    if (p != NULL) {
        own_live--;
    }
    free(p);
}

static void *own_realloc(void *p, size_t n)
{
    if (p == NULL) {
        own_live++;
    }
    own_calls++;
    return realloc(p, n);
}

static char *own_strdup(const char *s)
{
    own_live++;
    own_calls++;
    return strdup(s);
}

START_TEST(test_own_hooks)
{
    px_doc doc;
    xmlInitParser();
    ck_assert_int_eq(xmlMemSetup(own_free, own_malloc, own_realloc, own_strdup), 0);
    for (int i = 0; i < 20; i++) {
        xmlDocPtr before =
            xmlReadMemory(xml_broken, (int)strlen(xml_broken), NULL, NULL,
                          XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_RECOVER);
        long calls;
        ck_assert_ptr_nonnull(before);
        calls = own_calls;
        page(page_broken, strlen(page_broken), "broken", &doc);
        px_doc_free(&doc);
        /* the window's allocations were the arena's, not the caller's */
        ck_assert_int_eq(own_calls, calls);
        check_after_window(own_free, own_malloc, own_realloc, own_strdup);
        xmlFreeDoc(before);
        xmlResetLastError();
        ck_assert_int_eq(own_live, 0);
    }
    xmlMemSetup(free, malloc, realloc, strdup);
}
END_TEST

/* A page whose tree is bigger than PX_ARENA_RETAIN: several chunks, a
 * text node grown in place to megabytes, and the memory given back. */
START_TEST(test_big_page)
{
    size_t n_para = 120000, cap = n_para * (sizeof(PARA) + 16) + (8 << 20) + 256, len = 0;
    char *html = malloc(cap);
    size_t used, held;
    px_doc doc;
    ck_assert_ptr_nonnull(html);
    len += (size_t)sprintf(html, "<html><body><article><pre>");
    memset(html + len, 'x', (size_t)8 << 20); /* one 8 MB text node */
    len += (size_t)8 << 20;
    len += (size_t)sprintf(html + len, "</pre>");
    for (size_t i = 0; i < n_para; i++) {
        memcpy(html + len, "<div>" PARA "</div>", sizeof(PARA) + 10);
        len += sizeof(PARA) + 10;
    }
    len += (size_t)sprintf(html + len, "</article></body></html>");
    page(html, len, "big", &doc);
    px_arena_stats(&used, &held);
    ck_assert_uint_gt(used, PX_ARENA_RETAIN);
    ck_assert_uint_le(held, PX_ARENA_RETAIN);
    ck_assert_uint_gt(doc.text_len, (size_t)8 << 20);
    px_doc_free(&doc);
    /* and the next page is served from what was kept */
    page(page_broken, strlen(page_broken), "broken", &doc);
    px_doc_free(&doc);
    free(html);
}
END_TEST

/* Threads: px_html in three at once, and plain XML parses in a fourth
 * (outside any window) at the same time; every output as when alone. */
static const char *expect_text;

static void *px_thread(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100; i++) {
        px_doc doc;
        char errbuf[256];
        if (px_html(page_broken, strlen(page_broken), "https://example.org/2024/06/21/tram", &doc,
                    errbuf, sizeof(errbuf)) != 0 ||
            strcmp(doc.text, expect_text) != 0) {
            return (void *)1;
        }
        px_doc_free(&doc);
    }
    return NULL;
}

static void *xml_thread(void *arg)
{
    (void)arg;
    for (int i = 0; i < 300; i++) {
        xmlDocPtr d = xmlReadMemory(xml_broken, (int)strlen(xml_broken), NULL, NULL,
                                    XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_RECOVER);
        const xmlError *e = xmlGetLastError();
        if (d == NULL || e == NULL || e->message == NULL) {
            return (void *)1;
        }
        xmlFreeDoc(d);
    }
    xmlResetLastError();
    return NULL;
}

START_TEST(test_threads)
{
    pthread_t t[4];
    void *rv;
    px_doc doc;
    xmlInitParser();
    page(page_broken, strlen(page_broken), "broken", &doc);
    expect_text = doc.text;
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(pthread_create(&t[i], NULL, i < 3 ? px_thread : xml_thread, NULL), 0);
    }
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(pthread_join(t[i], &rv), 0);
        ck_assert_ptr_null(rv);
    }
    px_doc_free(&doc);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("xmlarena");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_interleaved);
    tcase_add_test(tc, test_own_hooks);
    tcase_add_test(tc, test_big_page);
    tcase_add_test(tc, test_threads);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    xmlCleanupParser();
    return failed == 0 ? 0 : 1;
}
