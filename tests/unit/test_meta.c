/* Unit tests for page metadata (parser/meta.h): each source on small pages
 * written here (JSON-LD, meta tags, <time>, the URL, a dateline), the
 * priority between them, future and implausible dates, the forms of
 * authors, titles without the site's name, and the plain-text seeds'
 * datelines, bylines and author notes (read from the corpus). */
#include "extract.h"
#include "meta.h"
#include "nl_text.h"

#include <check.h>
#include <libxml/HTMLparser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef NL_CORPUS_DIR
#error "NL_CORPUS_DIR must name the seed corpus"
#endif

/* 2024-07-01T00:00:00Z: every test's clock */
#define NOW ((time_t)1719792000)

#define BODY                                                                                       \
    "<p>The city council voted on Tuesday to expand the tram network by twelve kilometres, "       \
    "after a debate that lasted well into the night and drew hundreds of residents.</p>"           \
    "<p>Supporters said the new lines would cut commuting times in half for the eastern "          \
    "districts, while critics warned that the budget had been underestimated again.</p>"

/* px_meta_html on a page, with the test clock. */
static void meta_of(const char *html, const char *url, px_doc *doc)
{
    htmlDocPtr hd = htmlReadMemory(html, (int)strlen(html), url, NULL,
                                   HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                                       HTML_PARSE_NONET | HTML_PARSE_NOIMPLIED);
    ck_assert_ptr_nonnull(hd);
    memset(doc, 0, sizeof(*doc));
    ck_assert_int_eq(px_meta_html(hd, url, NULL, NOW, doc), 0);
    xmlFreeDoc(hd);
}

static void assert_date(const px_date *d, const char *value, const char *source)
{
    if (value == NULL) {
        ck_assert_msg(d->source == NULL, "unexpected date %s from %s", d->value,
                      d->source != NULL ? d->source : "");
        return;
    }
    ck_assert_msg(d->source != NULL, "no date, wanted %s", value);
    ck_assert_str_eq(d->value, value);
    ck_assert_str_eq(d->source, source);
}

static void assert_authors(const px_doc *doc, const char *a0, const char *a1)
{
    size_t want = (a0 != NULL) + (a1 != NULL);
    ck_assert_msg(doc->n_authors == want, "%zu authors, wanted %zu (first: %s)", doc->n_authors,
                  want, doc->n_authors > 0 ? doc->authors[0] : "-");
    if (a0 != NULL) {
        ck_assert_str_eq(doc->authors[0], a0);
    }
    if (a1 != NULL) {
        ck_assert_str_eq(doc->authors[1], a1);
    }
}

START_TEST(test_jsonld)
{
    px_doc doc;
    meta_of(
        "<html><head><script type=\"application/ld+json\">"
        "{\"@context\":\"https://schema.org\",\"@graph\":["
        "{\"@type\":\"WebSite\",\"name\":\"Example News\"},"
        "{\"@type\":\"WebPage\",\"datePublished\":\"2020-01-01\",\"name\":\"Page\"},"
        "{\"@type\":[\"NewsArticle\"],\"headline\":\"Trams for the east\","
        "\"datePublished\":\"2024-06-21T10:30:00+09:00\",\"dateModified\":\"2024-06-22T08:00Z\","
        "\"author\":[{\"@type\":\"Person\",\"name\":\"Jane Doe\"},{\"@id\":\"#p2\"},"
        "{\"@type\":\"Organization\",\"name\":\"Example News\"}],"
        "\"publisher\":{\"@type\":\"Organization\",\"name\":\"Example News\"},"
        "\"inLanguage\":\"de-DE\",\"description\":\"A  tram\\nstory.\","
        "\"mainEntityOfPage\":{\"@id\":\"https://example.org/trams\"}},"
        "{\"@type\":\"Person\",\"@id\":\"#p2\",\"name\":\"John Smith\"}]}"
        "</script></head><body>" BODY "</body></html>",
        "https://example.org/trams?utm=x", &doc);
    assert_date(&doc.published, "2024-06-21T10:30:00+09:00", "json-ld");
    assert_date(&doc.modified, "2024-06-22T08:00:00+00:00", "json-ld");
    assert_authors(&doc, "Jane Doe", "John Smith");
    ck_assert_str_eq(doc.title, "Trams for the east");
    ck_assert_str_eq(doc.site_name, "Example News");
    ck_assert_str_eq(doc.lang, "de-DE");
    ck_assert_str_eq(doc.canonical_url, "https://example.org/trams");
    ck_assert_str_eq(doc.description, "A tram story.");
    px_doc_free(&doc);

    /* a single object, an author as a string, a CDATA wrapper */
    meta_of("<html><head><script type=\"application/ld+json\">//<![CDATA[\n"
            "{\"@type\":\"BlogPosting\",\"datePublished\":\"2023-03-04\",\"author\":\"By Ann Lee\"}"
            "\n//]]></script></head><body>" BODY "</body></html>",
            NULL, &doc);
    assert_date(&doc.published, "2023-03-04", "json-ld");
    assert_authors(&doc, "Ann Lee", NULL);
    px_doc_free(&doc);
}
END_TEST

START_TEST(test_meta_tags)
{
    px_doc doc;
    meta_of("<html><head><title>Trams for the east | Example News</title>"
            "<meta property=\"og:title\" content=\"Trams for the east | Example News\">"
            "<meta property=\"og:site_name\" content=\"Example News\">"
            "<meta property=\"og:locale\" content=\"en_GB\">"
            "<meta name=\"description\" content=\"Plain description\">"
            "<meta property=\"og:description\" content=\"OG description\">"
            "<meta name=\"date\" content=\"2024-01-02\">"
            "<meta property=\"article:published_time\" content=\"2024-06-21T10:30:00Z\">"
            "<meta property=\"article:modified_time\" content=\"2024-06-21T12:00:00+01:00\">"
            "<meta property=\"article:author\" content=\"https://facebook.com/janedoe\">"
            "<meta name=\"author\" content=\"By Jane Doe and John Smith\">"
            "<link rel=\"canonical\" href=\"/news/trams\">"
            "</head><body>" BODY "</body></html>",
            "https://example.org/x/y", &doc);
    /* article:published_time outranks a bare "date" */
    assert_date(&doc.published, "2024-06-21T10:30:00+00:00", "meta");
    assert_date(&doc.modified, "2024-06-21T12:00:00+01:00", "meta");
    assert_authors(&doc, "Jane Doe", "John Smith");
    ck_assert_str_eq(doc.title, "Trams for the east");
    ck_assert_str_eq(doc.site_name, "Example News");
    ck_assert_str_eq(doc.description, "OG description");
    ck_assert_str_eq(doc.lang, "en-GB");
    ck_assert_str_eq(doc.canonical_url, "https://example.org/news/trams");
    px_doc_free(&doc);

    /* Dublin Core, citation and Parse.ly forms; html lang beats og:locale */
    meta_of("<html lang=\"fr\"><head><meta property=\"og:locale\" content=\"en_US\">"
            "<meta name=\"DC.date.issued\" content=\"2022-05-06\">"
            "<meta name=\"citation_author\" content=\"Marie Curie\">"
            "</head><body>" BODY "</body></html>",
            NULL, &doc);
    assert_date(&doc.published, "2022-05-06", "meta");
    assert_authors(&doc, "Marie Curie", NULL);
    ck_assert_str_eq(doc.lang, "fr");
    px_doc_free(&doc);

    meta_of("<html><head><meta name=\"parsely-page\" content='{\"title\":\"T\","
            "\"pub_date\":\"2021-09-10T07:00:00Z\",\"author\":\"Sam Roe\"}'>"
            "<meta name=\"sailthru.date\" content=\"2021-09-11\">"
            "</head><body>" BODY "</body></html>",
            NULL, &doc);
    assert_date(&doc.published, "2021-09-10T07:00:00+00:00", "meta");
    assert_authors(&doc, "Sam Roe", NULL);
    px_doc_free(&doc);

    /* microdata on an element other than <meta> */
    meta_of("<html><body><span itemprop=\"datePublished\" content=\"2020-02-03\"></span>" BODY
            "</body></html>",
            NULL, &doc);
    assert_date(&doc.published, "2020-02-03", "meta");
    px_doc_free(&doc);
}
END_TEST

START_TEST(test_time_element)
{
    px_doc doc;
    /* a sidebar's unhinted time loses to the article's hinted one */
    meta_of("<html><body><aside><time datetime=\"2024-06-01\">1 June</time></aside>"
            "<article><h1>Trams</h1><div class=\"post-meta\"><time class=\"published\" "
            "datetime=\"2024-06-21T09:00:00-04:00\">21 June</time>"
            "<time itemprop=\"dateModified\" datetime=\"2024-06-23\">23 June</time></div>" BODY
            "</article></body></html>",
            NULL, &doc);
    assert_date(&doc.published, "2024-06-21T09:00:00-04:00", "time");
    assert_date(&doc.modified, "2024-06-23", "time");
    px_doc_free(&doc);

    /* one unhinted time on the page is the page's; two are not */
    meta_of("<html><body><time datetime=\"2024-05-05\">x</time>" BODY "</body></html>", NULL, &doc);
    assert_date(&doc.published, "2024-05-05", "time");
    px_doc_free(&doc);
    meta_of("<html><body><div><time datetime=\"2024-05-05\">x</time></div>"
            "<div><time datetime=\"2024-05-06\">y</time></div>" BODY "</body></html>",
            NULL, &doc);
    assert_date(&doc.published, NULL, NULL);
    px_doc_free(&doc);
}
END_TEST

/* The same page with each source in turn taken away. */
START_TEST(test_priority)
{
    static const char *const ld = "<script type=\"application/ld+json\">{\"@type\":\"NewsArticle\","
                                  "\"datePublished\":\"2024-06-20\"}</script>";
    static const char *const mt =
        "<meta property=\"article:published_time\" content=\"2024-06-19\">";
    static const char *const tm = "<time pubdate datetime=\"2024-06-18\">18 June</time>";
    static const char *const dl = "<p>June 16, 2024</p>";
    const char *url = "https://example.org/2024/06/17/trams";
    char html[4096];
    px_doc doc;

    snprintf(html, sizeof(html),
             "<html><head>%s%s</head><body><h1>T</h1>%s%s" BODY "</body></html>", ld, mt, dl, tm);
    meta_of(html, url, &doc);
    assert_date(&doc.published, "2024-06-20", "json-ld");
    px_doc_free(&doc);
    snprintf(html, sizeof(html), "<html><head>%s</head><body><h1>T</h1>%s%s" BODY "</body></html>",
             mt, dl, tm);
    meta_of(html, url, &doc);
    assert_date(&doc.published, "2024-06-19", "meta");
    px_doc_free(&doc);
    snprintf(html, sizeof(html), "<html><body><h1>T</h1>%s%s" BODY "</body></html>", dl, tm);
    meta_of(html, url, &doc);
    assert_date(&doc.published, "2024-06-18", "time");
    px_doc_free(&doc);
    snprintf(html, sizeof(html), "<html><body><h1>T</h1>%s" BODY "</body></html>", dl);
    meta_of(html, url, &doc);
    assert_date(&doc.published, "2024-06-17", "url");
    px_doc_free(&doc);
    meta_of(html, "https://example.org/trams", &doc);
    assert_date(&doc.published, "2024-06-16", "text");
    px_doc_free(&doc);
    /* a UTC date-time the evening before in the publisher's zone: the URL's day */
    meta_of("<html><head><meta property=\"article:published_time\" "
            "content=\"2024-06-18T02:30:00Z\"></head><body>" BODY "</body></html>",
            url, &doc);
    assert_date(&doc.published, "2024-06-17", "url");
    px_doc_free(&doc);
    /* ... but not a day that no zone explains */
    meta_of("<html><head><meta property=\"article:published_time\" "
            "content=\"2024-06-19T02:30:00Z\"></head><body>" BODY "</body></html>",
            url, &doc);
    assert_date(&doc.published, "2024-06-19T02:30:00+00:00", "meta");
    px_doc_free(&doc);
    /* the fetch time is never a fallback */
    meta_of("<html><body><h1>T</h1>" BODY "</body></html>", "https://example.org/trams", &doc);
    assert_date(&doc.published, NULL, NULL);
    ck_assert_uint_eq(doc.n_authors, 0);
    px_doc_free(&doc);
}
END_TEST

START_TEST(test_future_and_implausible)
{
    char v[PX_DATE_LEN];
    px_doc doc;

    /* the clock is 2024-07-01T00:00Z; a day of skew is allowed */
    ck_assert_int_eq(px_date_parse("2024-07-01T20:00:00Z", 20, NOW, v), 0);
    ck_assert_int_eq(px_date_parse("2024-07-02", 10, NOW, v), 0);
    ck_assert_int_eq(px_date_parse("2024-07-02T12:00:00Z", 20, NOW, v), -1);
    ck_assert_str_eq(v, "");
    ck_assert_int_eq(px_date_parse("2024-07-03", 10, NOW, v), -1);
    ck_assert_int_eq(px_date_parse("2030-01-01", 10, NOW, v), -1);
    ck_assert_int_eq(px_date_parse("1989-12-31", 10, NOW, v), -1);
    ck_assert_int_eq(px_date_parse("1990-01-01", 10, NOW, v), 0);
    ck_assert_int_eq(px_date_parse("2024-02-30", 10, NOW, v), -1);

    /* a future JSON-LD date and an implausible meta date let the URL speak */
    meta_of("<html><head><script type=\"application/ld+json\">{\"@type\":\"Article\","
            "\"datePublished\":\"2031-05-05T00:00:00Z\"}</script>"
            "<meta property=\"article:published_time\" content=\"1970-01-01T00:00:00Z\">"
            "</head><body>" BODY "</body></html>",
            "https://example.org/news/2024-06-21/trams", &doc);
    assert_date(&doc.published, "2024-06-21", "url");
    px_doc_free(&doc);
}
END_TEST

START_TEST(test_date_forms)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"2024-06-21", "2024-06-21"},
        {"2024/06/21", "2024-06-21"},
        {"20240621", "2024-06-21"},
        {" 2024-06-21T10:30:15.123+0530 ", "2024-06-21T10:30:15+05:30"},
        {"2024-06-21 10:30:15", "2024-06-21T10:30:15"},
        {"2024-06-21T10:30", "2024-06-21T10:30:00"},
        {"Fri, 21 Jun 2024 10:30:00 GMT", "2024-06-21T10:30:00+00:00"},
        {"June 21, 2024", "2024-06-21"},
        {"21st June 2024", "2024-06-21"},
        {"Jun. 21, 2024 3:05 PM", "2024-06-21"},
        {"Sept 3, 2023 03:05 PM", "2023-09-03T15:05:00"},
        {"1718928000", NULL},
        {"21/06/2024", NULL},
        {"yesterday", NULL},
        {"2024-13-01", NULL},
    };
    char v[PX_DATE_LEN];
    size_t at;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = px_date_parse(cases[i].in, strlen(cases[i].in), NOW, v);
        if (cases[i].out == NULL) {
            ck_assert_msg(rc == -1, "%s parsed as %s", cases[i].in, v);
        } else {
            ck_assert_msg(rc == 0, "%s not parsed", cases[i].in);
            ck_assert_str_eq(v, cases[i].out);
        }
    }
    /* written dates in running text */
    ck_assert_int_eq(px_date_find("Posted by Ann on 21 June 2024, 10:00", 36, NOW, v, &at), 0);
    ck_assert_str_eq(v, "2024-06-21");
    ck_assert_uint_eq(at, 17);
    ck_assert_int_eq(px_date_find("in May 2024 and 2024-06-01", 26, NOW, v, &at), 0);
    ck_assert_str_eq(v, "2024-06-01");
    ck_assert_int_eq(px_date_find("Mayday on March 3", 17, NOW, v, &at), -1);
}
END_TEST

START_TEST(test_url_dates)
{
    static const struct {
        const char *url, *out;
    } cases[] = {
        {"https://example.org/2024/06/21/trams", "2024-06-21"},
        {"https://example.org/world/2024-06-21/trams.html", "2024-06-21"},
        {"https://example.org/a/20240621/trams", "2024-06-21"},
        {"https://example.org/trams-2024-06-21", "2024-06-21"},
        {"https://example.org/world/2019/nov/18/trams", "2019-11-18"},
        {"https://example.org/2024/06/trams", NULL},
        {"https://example.org/trams?date=2024-06-21", NULL},
        {"https://example.org/story/123456789", NULL},
        {"https://example.org/2031/01/01/future", NULL},
        {"https://20240621.example.org/x", NULL},
    };
    char v[PX_DATE_LEN];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = px_date_url(cases[i].url, NOW, v);
        if (cases[i].out == NULL) {
            ck_assert_msg(rc == -1, "%s gave %s", cases[i].url, v);
        } else {
            ck_assert_msg(rc == 0, "%s gave nothing", cases[i].url);
            ck_assert_str_eq(v, cases[i].out);
        }
    }
}
END_TEST

START_TEST(test_text_dateline)
{
    px_doc doc;
    /* a dateline under the headline counts; a date inside the story does not */
    meta_of("<html><body><h1>Trams</h1><div class=\"byline\">By <a rel=\"author\">Jane Doe</a> "
            "| Updated 10:00, 21 June 2024</div>" BODY "</body></html>",
            NULL, &doc);
    assert_date(&doc.published, "2024-06-21", "text");
    assert_authors(&doc, "Jane Doe", NULL);
    px_doc_free(&doc);
    meta_of("<html><body><h1>Trams</h1><p>The council voted on 21 June 2024 to expand the tram "
            "network by twelve kilometres after a long debate that lasted well into the night.</p>"
            "</body></html>",
            NULL, &doc);
    assert_date(&doc.published, NULL, NULL);
    px_doc_free(&doc);
}
END_TEST

START_TEST(test_authors)
{
    px_doc doc;
    /* an organisation only when no person is named; duplicates once */
    meta_of("<html><head><script type=\"application/ld+json\">{\"@type\":\"NewsArticle\","
            "\"author\":{\"@type\":\"Organization\",\"name\":\"Reuters\"}}</script>"
            "<meta name=\"author\" content=\"Jane Doe, JANE DOE; John Smith\">"
            "</head><body>" BODY "</body></html>",
            NULL, &doc);
    assert_authors(&doc, "Jane Doe", "John Smith");
    px_doc_free(&doc);
    meta_of("<html><head><meta property=\"og:site_name\" content=\"Example News\">"
            "<meta name=\"author\" content=\"Example News\"></head><body>" BODY "</body></html>",
            NULL, &doc);
    assert_authors(&doc, "Example News", NULL);
    px_doc_free(&doc);
    /* not names: addresses, links, long strings */
    meta_of("<html><head><meta name=\"author\" content=\"jane@example.org\">"
            "<meta name=\"dc.creator\" content=\"https://example.org/jane\"></head><body>" BODY
            "<span itemprop=\"author\"><span itemprop=\"name\">Ann  Lee</span></span>"
            "</body></html>",
            NULL, &doc);
    assert_authors(&doc, "Ann Lee", NULL);
    px_doc_free(&doc);
}
END_TEST

START_TEST(test_title)
{
    px_doc doc;
    meta_of(
        "<html><head><title>Trams for the east - Example News</title>"
        "<meta property=\"og:site_name\" content=\"Example News\"></head><body><h1>Other</h1>" BODY
        "</body></html>",
        NULL, &doc);
    ck_assert_str_eq(doc.title, "Trams for the east");
    px_doc_free(&doc);
    /* the h1 when a candidate is the h1 plus decoration */
    meta_of("<html><head><title>Trams for the east: live updates and more - ExNews</title>"
            "</head><body><h1>Trams for the east: live updates</h1>" BODY "</body></html>",
            "https://www.exnews.com/a", &doc);
    ck_assert_str_eq(doc.title, "Trams for the east: live updates");
    px_doc_free(&doc);
    /* a dash inside a title stays */
    meta_of("<html><head><title>Russia - North Korea summit ends</title></head><body>" BODY
            "</body></html>",
            NULL, &doc);
    ck_assert_str_eq(doc.title, "Russia - North Korea summit ends");
    px_doc_free(&doc);
}
END_TEST

/* Through px_html: metadata, reason and text from one parse. */
START_TEST(test_px_html)
{
    static const char page[] =
        "<html lang=\"en\"><head><title>Index | Example</title>"
        "<meta property=\"article:published_time\" content=\"2024-06-21\"></head>"
        "<body><ul><li><a href=\"/a\">One</a></li><li><a href=\"/b\">Two</a></li></ul></body>"
        "</html>";
    px_doc doc;
    char errbuf[256];
    ck_assert_int_eq(
        px_html(page, strlen(page), "https://example.org/", &doc, errbuf, sizeof(errbuf)), 0);
    ck_assert_str_eq(doc.reason, "no_article_text");
    ck_assert_str_eq(doc.text, "");
    ck_assert_str_eq(doc.title, "Index");
    ck_assert_str_eq(doc.lang, "en");
    assert_date(&doc.published, "2024-06-21", "meta");
    px_doc_free(&doc);
}
END_TEST

static char *read_seed(const char *name, size_t *len)
{
    char path[1024];
    FILE *f;
    char *buf;
    long n;
    snprintf(path, sizeof(path), "%s/%s", NL_CORPUS_DIR, name);
    f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

START_TEST(test_plain_seeds)
{
    static const struct {
        const char *file, *title_start, *a0, *a1, *date;
    } seeds[] = {
        {"000_7fe72223c5b1d421.txt", "Opinion: Should Cambodia", NULL, NULL, NULL},
        {"001_c53c2fd0ceb509d0.txt", "What\xe2\x80\x99s Next in Cambodia", "Sovinda Po",
         "Veasna Var", NULL},
        {"002_12f7d87ddb492726.txt", "Since Russia", "Sokvy Rim", NULL, NULL},
        {"003_71da34d2efd11cf3.txt", "For over two years", "Manoj Kewalramani", "Aadit Pareek",
         NULL},
        {"004_8e432c11f5411c7c.txt", "21 June 2024, NIICE Commentary 9282", "Rekha J", NULL,
         "2024-06-21"},
    };
    for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
        size_t len;
        char *buf = read_seed(seeds[i].file, &len);
        char errbuf[256];
        const char *after;
        px_doc doc;
        ck_assert_int_eq(px_plain(buf, len, &doc, errbuf, sizeof(errbuf)), 0);
        ck_assert_msg(strncmp(doc.title, seeds[i].title_start, strlen(seeds[i].title_start)) == 0,
                      "%s: title %s", seeds[i].file, doc.title);
        assert_authors(&doc, seeds[i].a0, seeds[i].a1);
        assert_date(&doc.published, seeds[i].date, "text");
        assert_date(&doc.modified, NULL, NULL);
        /* the contract: the text is the file's bytes from the first line
         * after the title (trailing newlines off) */
        after = strstr(buf, doc.text);
        ck_assert_msg(after != NULL && after > buf, "%s: text not a slice of the file",
                      seeds[i].file);
        px_doc_free(&doc);
        free(buf);
    }
    {
        size_t len;
        char *buf = read_seed("004_8e432c11f5411c7c.txt", &len);
        char errbuf[256];
        px_doc doc;
        ck_assert_int_eq(px_plain(buf, len, &doc, errbuf, sizeof(errbuf)), 0);
        ck_assert(strncmp(doc.text, "Rekha J\nOver the years", 22) == 0);
        ck_assert(memcmp(doc.text, buf + strlen("21 June 2024, NIICE Commentary 9282\n"),
                         doc.text_len) == 0);
        px_doc_free(&doc);
        free(buf);
    }
}
END_TEST

START_TEST(test_plain_bylines)
{
    static const char t1[] = "Trams for the east\nBy Jane Doe and John Smith\nFriday, June 21, "
                             "2024\n\nThe council voted on Tuesday to expand the network.\n";
    static const char t2[] = "Trams for the east\nRecent Features\nNorth Korea is a member of "
                             "the UN.\nThe council voted.\n";
    static const char t3[] = "Published: 3 March 2023\nJane Doe\nThe council voted on 21 June "
                             "2024.\n";
    px_doc doc;
    char errbuf[256];

    ck_assert_int_eq(px_plain(t1, strlen(t1), &doc, errbuf, sizeof(errbuf)), 0);
    ck_assert_str_eq(doc.title, "Trams for the east");
    assert_authors(&doc, "Jane Doe", "John Smith");
    assert_date(&doc.published, "2024-06-21", "text");
    ck_assert(strncmp(doc.text, "By Jane Doe", 11) == 0);
    px_doc_free(&doc);

    /* furniture and a country are not authors; no date */
    ck_assert_int_eq(px_plain(t2, strlen(t2), &doc, errbuf, sizeof(errbuf)), 0);
    assert_authors(&doc, NULL, NULL);
    assert_date(&doc.published, NULL, NULL);
    px_doc_free(&doc);

    /* the dateline as the title line; a date in the story is not the page's */
    ck_assert_int_eq(px_plain(t3, strlen(t3), &doc, errbuf, sizeof(errbuf)), 0);
    assert_date(&doc.published, "2023-03-03", "text");
    assert_authors(&doc, "Jane Doe", NULL);
    px_doc_free(&doc);
}
END_TEST

static Suite *meta_suite(void)
{
    Suite *s = suite_create("meta");
    TCase *tc = tcase_create("sources");
    tcase_add_test(tc, test_jsonld);
    tcase_add_test(tc, test_meta_tags);
    tcase_add_test(tc, test_time_element);
    tcase_add_test(tc, test_text_dateline);
    tcase_add_test(tc, test_authors);
    tcase_add_test(tc, test_title);
    tcase_add_test(tc, test_px_html);
    suite_add_tcase(s, tc);

    tc = tcase_create("dates");
    tcase_add_test(tc, test_priority);
    tcase_add_test(tc, test_future_and_implausible);
    tcase_add_test(tc, test_date_forms);
    tcase_add_test(tc, test_url_dates);
    suite_add_tcase(s, tc);

    tc = tcase_create("plain");
    tcase_add_test(tc, test_plain_seeds);
    tcase_add_test(tc, test_plain_bylines);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(meta_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
