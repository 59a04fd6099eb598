/* Unit tests for HTML extraction (px_html in parser/extract.h): boilerplate
 * removal on small pages written here (nested layouts, comments, a consent
 * banner, related links, teasers, an index page), reading order, one
 * paragraph a line, deep nesting and the error contract. */
#include "extract.h"
#include "nl_buf.h"
#include "nl_err.h"
#include "nl_text.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Three long paragraphs of article text, each a sentence-rich line. */
#define P1                                                                                         \
    "<p>The city council voted on Tuesday to expand the tram network by twelve kilometres, "       \
    "after a debate that lasted well into the night and drew hundreds of residents.</p>"
#define P2                                                                                         \
    "<p>Supporters said the new lines would cut commuting times in half for the eastern "          \
    "districts, while critics warned that the budget had been underestimated again.</p>"
#define P3                                                                                         \
    "<p>Construction is expected to begin next spring, the mayor said, with the first "            \
    "trams running on the extended route before the end of the following year.</p>"

static char *extract(const char *html, const char **reason)
{
    px_doc doc;
    char errbuf[256];
    char *text;
    int rc = px_html(html, strlen(html), "https://example.org/a", &doc, errbuf, sizeof(errbuf));
    ck_assert_msg(rc == 0, "px_html: %s", errbuf);
    ck_assert(nl_utf8_valid(doc.text, doc.text_len));
    ck_assert_uint_eq(strlen(doc.text), doc.text_len);
    if (reason != NULL) {
        *reason = doc.reason;
    }
    text = strdup(doc.text);
    px_doc_free(&doc);
    return text;
}

static void assert_has(const char *text, const char *want)
{
    ck_assert_msg(strstr(text, want) != NULL, "\"%s\" not in:\n%s", want, text);
}

static void assert_not(const char *text, const char *unwanted)
{
    ck_assert_msg(strstr(text, unwanted) == NULL, "\"%s\" in:\n%s", unwanted, text);
}

static void assert_article(const char *text)
{
    const char *a = strstr(text, "The city council voted");
    const char *b = strstr(text, "Supporters said");
    const char *c = strstr(text, "Construction is expected");
    ck_assert_msg(a != NULL && b != NULL && c != NULL, "article missing:\n%s", text);
    ck_assert_msg(a < b && b < c, "paragraphs out of order:\n%s", text);
    ck_assert_msg(memchr(a, '\n', (size_t)(b - a)) != NULL, "no line break between paragraphs");
}

START_TEST(test_nested_layout)
{
    const char *html =
        "<html><head><title>Trams</title><style>p{}</style></head><body>"
        "<div id='page'><div class='header'><ul class='menu'><li><a href='/'>Home</a></li>"
        "<li><a href='/news'>News</a></li><li><a href='/sport'>Sport</a></li></ul></div>"
        "<div class='layout'><div class='col-left'><div class='col-inner'>"
        "<div class='article-body'>" P1 "<h2>What happens next</h2>" P2 "<ul><li>Line 4 to the "
        "harbour</li><li>Line 7 to the airport</li></ul><blockquote>We have waited long enough, "
        "said one resident.</blockquote>" P3 "</div></div></div>"
        "<div class='col-right'><div class='box'><h3>Weather</h3><p>Sunny, 21 degrees.</p></div>"
        "</div></div><div class='bottom'>Copyright 2024 Example Media Group. All rights "
        "reserved.</div></div></body></html>";
    char *text = extract(html, NULL);
    assert_article(text);
    assert_has(text, "What happens next\n");
    assert_has(text, "Line 4 to the harbour\nLine 7 to the airport");
    assert_has(text, "We have waited long enough");
    assert_not(text, "Home");
    assert_not(text, "Sport");
    assert_not(text, "Weather");
    assert_not(text, "Copyright");
    assert_not(text, "p{}");
    free(text);
}
END_TEST

START_TEST(test_comment_section)
{
    const char *html =
        "<html><body><article><h1>Trams</h1>" P1 P2 P3 "</article>"
        "<section id='comments' class='comments-area'><h3>42 comments</h3><ol>"
        "<li class='comment'><p>I have lived in the eastern districts for thirty years and I "
        "can tell you that nobody there believes a word of this plan, not one.</p></li>"
        "<li class='comment'><p>Another tram line? What we need are buses that come on time, "
        "and cheaper tickets for students and pensioners in the whole region.</p></li>"
        "<li class='comment'><p>Great news for the harbour, finally. The council should have "
        "done this twenty years ago when land was cheap and the streets were empty.</p></li>"
        "<li class='comment'><p>Who pays for all of this in the end? The taxpayer, as always, "
        "while the contractors and the consultants take home the profits of it.</p></li>"
        "</ol></section></body></html>";
    char *text = extract(html, NULL);
    assert_article(text);
    assert_not(text, "42 comments");
    assert_not(text, "thirty years");
    assert_not(text, "taxpayer");
    assert_not(text, "Trams\n"); /* the headline is the title, not the text */
    free(text);
}
END_TEST

START_TEST(test_consent_banner)
{
    const char *html =
        "<html><body><div id='cookie-consent' class='cmp-banner'><p>We and our 143 partners use "
        "cookies and similar technologies to store and access information on your device, to "
        "personalise ads and content, and to measure audiences.</p><button>Accept all</button>"
        "<a href='/privacy'>Manage preferences</a></div>"
        "<main><div class='story'>" P1 P2 P3 "</div></main>"
        "<div class='newsletter-signup'><p>Get the best of our journalism in your inbox every "
        "morning, free of charge, with a weekly digest on Sundays.</p></div>"
        "<div class='share-tools'><a href='#'>Facebook</a> <a href='#'>Twitter</a></div>"
        "</body></html>";
    char *text = extract(html, NULL);
    assert_article(text);
    assert_not(text, "cookies");
    assert_not(text, "Accept all");
    assert_not(text, "Manage preferences");
    assert_not(text, "inbox");
    assert_not(text, "Facebook");
    free(text);
}
END_TEST

START_TEST(test_related_links)
{
    const char *html =
        "<html><body><div class='content'>" P1 P2 "<div class='related'><h4>Related</h4><ul>"
        "<li><a href='/1'>Bus fares to rise by ten percent next year</a></li>"
        "<li><a href='/2'>Airport rail link delayed until 2027</a></li>"
        "<li><a href='/3'>Cycle lanes: the view from the eastern districts</a></li></ul></div>" P3
        "</div><div class='more'><div class='card'><h3><a href='/4'>Harbour bridge closes for "
        "repairs</a></h3><p>Traffic is diverted through the old town for six weeks while "
        "engineers replace the bearings.</p></div><div class='card'><h3><a href='/5'>Council "
        "elections: who is standing</a></h3><p>Forty candidates for eleven seats, and a record "
        "number of independents this time around.</p></div><div class='card'><h3><a "
        "href='/6'>School meals to be free for all pupils</a></h3><p>The scheme starts in "
        "September and will cost the city four million a year, officials say.</p></div></div>"
        "</body></html>";
    char *text = extract(html, NULL);
    assert_article(text);
    assert_not(text, "Bus fares");
    assert_not(text, "Airport rail link");
    assert_not(text, "Harbour bridge");
    assert_not(text, "Forty candidates");
    assert_not(text, "School meals");
    free(text);
}
END_TEST

START_TEST(test_index_page_is_empty)
{
    nl_buf b;
    const char *reason = "unset";
    char *text;
    nl_buf_init(&b, 1 << 20);
    ck_assert_int_eq(nl_buf_append(&b,
                                   "<html><head><title>News</title></head><body><nav>"
                                   "<a href='/'>Home</a></nav><div class='content'><ul>",
                                   75),
                     0);
    for (int i = 0; i < 40; i++) {
        ck_assert_int_eq(nl_buf_appendf(&b,
                                        "<li><a href='/story/%d'>Story number %d about the "
                                        "city and its council</a></li>",
                                        i, i),
                         0);
    }
    ck_assert_int_eq(nl_buf_append(&b, "</ul></div></body></html>", 25), 0);
    text = extract(b.ptr, &reason);
    ck_assert_str_eq(text, "");
    ck_assert_ptr_nonnull(reason);
    ck_assert_str_eq(reason, "no_article_text");
    free(text);
    nl_buf_free(&b);
}
END_TEST

START_TEST(test_article_has_no_reason)
{
    const char *reason = "unset";
    char *text = extract("<html><body><article>" P1 P2 "</article></body></html>", &reason);
    ck_assert_ptr_null(reason);
    ck_assert(strlen(text) > 0);
    free(text);
}
END_TEST

START_TEST(test_hidden_and_split_article)
{
    /* the lead paragraph sits in its own block beside the body; a hidden
     * copy of the text (schema.org markup) must not be written twice */
    const char *html = "<html><body><div class='wrap'><div class='lead'>" P1 "</div>"
                       "<div class='body'>" P2 P3 "</div></div>"
                       "<div style='display:none'>" P1 P2 P3 "</div></body></html>";
    char *text = extract(html, NULL);
    const char *first = strstr(text, "The city council voted");
    assert_article(text);
    ck_assert_ptr_null(strstr(first + 1, "The city council voted"));
    free(text);
}
END_TEST

START_TEST(test_deep_nesting)
{
    /* deeper than libxml2 2.9's silent limit of 256 without XML_PARSE_HUGE */
    nl_buf b;
    char *text;
    nl_buf_init(&b, 1 << 22);
    ck_assert_int_eq(nl_buf_append(&b, "<html><body>", 12), 0);
    for (int i = 0; i < 2000; i++) {
        ck_assert_int_eq(nl_buf_append(&b, "<div>", 5), 0);
    }
    ck_assert_int_eq(nl_buf_append(&b, P1 P2 P3, strlen(P1 P2 P3)), 0);
    for (int i = 0; i < 2000; i++) {
        ck_assert_int_eq(nl_buf_append(&b, "</div>", 6), 0);
    }
    text = extract(b.ptr, NULL);
    assert_article(text);
    free(text);
    nl_buf_free(&b);
}
END_TEST

START_TEST(test_invalid_input)
{
    px_doc doc;
    char errbuf[256];
    char *text;
    ck_assert_int_eq(px_html("", 0, NULL, &doc, errbuf, sizeof(errbuf)), NL_EINVAL);
    ck_assert_ptr_null(doc.text);
    /* invalid UTF-8 and NUL bytes still give valid UTF-8 out */
    text = extract("<html><body><article><p>caf\xe9 \xff\xfe bad bytes in a paragraph that is long "
                   "enough to count as article text, twice over, really.</p><p>More text here "
                   "to pass the threshold of an article, with a few more words.</p></article>"
                   "</body></html>",
                   NULL);
    free(text);
}
END_TEST

/* px_html_utf8 removes script and style contents before the parse where
 * it is sure how libxml2 reads the markup around them: the px_doc must be
 * the same with the removal off, on markup libxml2 reads in unusual ways
 * (each case holds a script that must not be taken for one, or markup
 * after which the removal must stop). */
static void same_with_and_without_strip(const char *html)
{
    px_doc a, b;
    char errbuf[256];
    size_t len = strlen(html);
    px_strip_raw = 1;
    ck_assert_int_eq(
        px_html_utf8(html, len, "https://example.org/2024/05/01/a", &a, errbuf, sizeof(errbuf)), 0);
    px_strip_raw = 0;
    ck_assert_int_eq(
        px_html_utf8(html, len, "https://example.org/2024/05/01/a", &b, errbuf, sizeof(errbuf)), 0);
    px_strip_raw = 1;
    ck_assert_msg(strcmp(a.text, b.text) == 0, "text differs for %s", html);
    ck_assert_msg(strcmp(a.title, b.title) == 0, "title differs for %s", html);
    ck_assert_uint_eq(a.n_authors, b.n_authors);
    for (size_t i = 0; i < a.n_authors; i++) {
        ck_assert_str_eq(a.authors[i], b.authors[i]);
    }
    ck_assert_str_eq(a.published.value, b.published.value);
    ck_assert(a.description == b.description || (a.description != NULL && b.description != NULL &&
                                                 strcmp(a.description, b.description) == 0));
    px_doc_free(&a);
    px_doc_free(&b);
}

START_TEST(test_strip_raw_text_same_doc)
{
    static const char *const cases[] = {
        /* a script tag inside a quoted attribute value is no script */
        "<p title=\"<script>\">" P1 "</p><script>x</script>" P2 P3,
        "<p title='a > <style>'>" P1 "</p><style>p{}</style>" P2 P3,
        /* inside a comment, and a comment libxml2 ends at --!> */
        "<!-- <script> -->" P1 "<script>x</script>" P2 P3,
        "<!-- a --!> <script>x</script> -->" P1 P2 P3,
        "<!--> <script>x</script> -->" P1 P2 P3,
        /* content that starts with markup, or ends oddly */
        "<script></div>" P1 "</script>" P2 P3,
        "<script><b>x</script>" P1 P2 P3,
        "<script>a</scriptx><script>" P1 "</script>" P2 P3,
        "<script>a</SCRIPT >" P1 "<STYLE>x</style\n>" P2 P3,
        /* JSON-LD kept; a script in the headline and in a byline */
        "<script type=\"application/ld+json\">{\"@type\":\"NewsArticle\",\"author\":"
        "{\"name\":\"Jane Doe\"},\"datePublished\":\"2024-05-01\"}</script>"
        "<h1>Tram <script>document.write('x')</script>vote</h1>" P1 P2 P3,
        "<h1>T</h1><span class=byline>By <style>.a{}</style>John Smith</span>" P1 P2 P3,
        /* unquoted values, attributes without space, self-closing scripts */
        "<p a=1 b=\"2\"c='3' d>" P1 "</p><script src=x /><p>" P2 "</p>" P3,
        "<a href=/x/>l</a><script>y</script>" P1 P2 P3,
        /* a stray '<', a doctype with a quoted '>', a processing instruction */
        "<p>a < b</p><script>x</script>" P1 P2 P3,
        "<!DOCTYPE html PUBLIC \"a>b\"><script>x</script>" P1 P2 P3,
        "<?xml version=\"1.0\"?><script>x</script>" P1 P2 P3,
        /* invalid UTF-8 and a NUL inside a script: libxml2 switches charset */
        "<script>\xff\xfe</script>" P1 "<p>caf\xc3\xa9</p>" P2 P3,
        "<p>caf\xe9</p><script>x</script>" P1 P2 P3,
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        same_with_and_without_strip(cases[i]);
    }
}
END_TEST

static Suite *extract_suite(void)
{
    Suite *s = suite_create("extract");
    TCase *tc = tcase_create("boilerplate");
    tcase_add_test(tc, test_nested_layout);
    tcase_add_test(tc, test_comment_section);
    tcase_add_test(tc, test_consent_banner);
    tcase_add_test(tc, test_related_links);
    tcase_add_test(tc, test_index_page_is_empty);
    tcase_add_test(tc, test_article_has_no_reason);
    tcase_add_test(tc, test_hidden_and_split_article);
    suite_add_tcase(s, tc);

    tc = tcase_create("contract");
    tcase_add_test(tc, test_deep_nesting);
    tcase_add_test(tc, test_invalid_input);
    tcase_add_test(tc, test_strip_raw_text_same_doc);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(extract_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
