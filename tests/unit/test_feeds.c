/* Unit tests for fetcher/feeds.h: RSS 2.0, RSS 1.0, Atom, sitemaps with
 * Google News, sitemap indexes, relative links and xml:base, broken and
 * wrong documents, hostile ones (billion laughs, external entities, deep
 * nesting), the caps, and the two date forms. */
#include "feeds.h"
#include "nl_err.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char errbuf[256];
static fx_feed *feed;

static void teardown(void)
{
    fx_feed_free(feed);
    feed = NULL;
}

static int parse(const char *doc, const char *url)
{
    fx_feed_free(feed);
    feed = NULL;
    errbuf[0] = '\0';
    return fx_feed_parse(doc, strlen(doc), url, &feed, errbuf, sizeof(errbuf));
}

static void parse_ok(const char *doc, const char *url)
{
    int rc = parse(doc, url);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, errbuf);
}

#define ck_str_or_null(got, want)                                                                  \
    do {                                                                                           \
        if ((want) == NULL) {                                                                      \
            ck_assert_ptr_null(got);                                                               \
        } else {                                                                                   \
            ck_assert_ptr_nonnull(got);                                                            \
            ck_assert_str_eq(got, want);                                                           \
        }                                                                                          \
    } while (0)

static void ck_entry(size_t i, const char *url, const char *title, const char *date,
                     fx_entry_kind kind)
{
    ck_assert_uint_lt(i, feed->n_entries);
    ck_assert_str_eq(feed->entries[i].url, url);
    ck_str_or_null(feed->entries[i].title, title);
    ck_str_or_null(feed->entries[i].date, date);
    ck_assert_int_eq(feed->entries[i].kind, kind);
}

#define ck_errbuf_starts(prefix)                                                                   \
    ck_assert_msg(strncmp(errbuf, (prefix), strlen(prefix)) == 0,                                  \
                  "errbuf \"%s\" does not start "                                                  \
                  "with \"%s\"",                                                                   \
                  errbuf, (prefix))

/* ---- formats ---------------------------------------------------------------- */

START_TEST(test_rss2)
{
    parse_ok("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
             "<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\"\n"
             "     xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n"
             "<channel><title>News</title><link>https://news.example.com/</link>\n"
             " <item><title>  First\n story  </title>\n"
             "  <atom:link href=\"https://elsewhere.example.org/\" rel=\"self\"/>\n"
             "  <link>/2024/05/first.html?utm_source=rss</link>\n"
             "  <pubDate>Wed, 01 May 2024 12:00:00 +0200</pubDate></item>\n"
             " <item><title><![CDATA[Second & <b>bold</b>]]></title>\n"
             "  <guid>https://news.example.com/second</guid>\n"
             "  <dc:date>2024-05-02T08:30:00Z</dc:date></item>\n"
             " <item><title>Tom &amp; Jerry &#233;</title>\n"
             "  <link>HTTPS://NEWS.example.com:443/third#top</link>\n"
             "  <pubDate>not a date</pubDate></item>\n"
             " <item><title>No link</title><guid isPermaLink=\"false\">tag:x,1</guid></item>\n"
             " <item><title>Script</title><link>javascript:alert(1)</link></item>\n"
             " <item><link>https://news.example.com/untitled</link></item>\n"
             "</channel></rss>\n",
             "https://news.example.com/feed.xml");
    ck_assert_int_eq(feed->kind, FX_FEED_RSS);
    ck_assert_str_eq(fx_feed_kind_name(feed->kind), "rss");
    ck_assert_uint_eq(feed->n_entries, 4);
    ck_assert_uint_eq(feed->n_skipped, 2);
    ck_assert_uint_eq(feed->n_dropped, 0);
    ck_entry(0, "https://news.example.com/2024/05/first.html", "First story",
             "2024-05-01T10:00:00Z", FX_ENTRY_ARTICLE);
    ck_entry(1, "https://news.example.com/second", "Second & <b>bold</b>", "2024-05-02T08:30:00Z",
             FX_ENTRY_ARTICLE);
    ck_entry(2, "https://news.example.com/third", "Tom & Jerry \xc3\xa9", NULL, FX_ENTRY_ARTICLE);
    ck_entry(3, "https://news.example.com/untitled", NULL, NULL, FX_ENTRY_ARTICLE);
}
END_TEST

START_TEST(test_rss1_rdf)
{
    parse_ok("<?xml version=\"1.0\"?>\n"
             "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"\n"
             "  xmlns=\"http://purl.org/rss/1.0/\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n"
             " <channel rdf:about=\"http://example.com/\"><title>T</title></channel>\n"
             " <item rdf:about=\"http://example.com/a\"><title>A</title>\n"
             "  <link>http://example.com/a</link><dc:date>2024-01-02</dc:date></item>\n"
             "</rdf:RDF>\n",
             NULL);
    ck_assert_int_eq(feed->kind, FX_FEED_RSS);
    ck_assert_uint_eq(feed->n_entries, 1);
    ck_entry(0, "http://example.com/a", "A", "2024-01-02", FX_ENTRY_ARTICLE);
}
END_TEST

START_TEST(test_atom)
{
    parse_ok("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
             "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:base=\"https://blog.example.com/\">\n"
             " <title>Blog</title><link rel=\"self\" href=\"/atom.xml\"/>\n"
             " <entry><title type=\"text\">One</title>\n"
             "  <link rel=\"edit\" href=\"/edit/1\"/>\n"
             "  <link rel=\"alternate\" type=\"text/html\" href=\"posts/one\"/>\n"
             "  <id>tag:blog.example.com,2024:1</id>\n"
             "  <updated>2024-05-03T10:00:00Z</updated>\n"
             "  <published>2024-05-01T09:15:30.123-04:00</published></entry>\n"
             " <entry xml:base=\"https://other.example.org/dir/\"><title>Two</title>\n"
             "  <link href=\"two?fbclid=x\"/><updated>2024-05-04T00:00:00+00:00</updated></entry>\n"
             " <entry><title>No link</title><id>urn:x</id></entry>\n"
             "</feed>\n",
             "https://feeds.example.net/blog");
    ck_assert_int_eq(feed->kind, FX_FEED_ATOM);
    ck_assert_str_eq(fx_feed_kind_name(feed->kind), "atom");
    ck_assert_uint_eq(feed->n_entries, 2);
    ck_assert_uint_eq(feed->n_skipped, 1);
    ck_entry(0, "https://blog.example.com/posts/one", "One", "2024-05-01T13:15:30Z",
             FX_ENTRY_ARTICLE);
    ck_entry(1, "https://other.example.org/dir/two", "Two", "2024-05-04T00:00:00Z",
             FX_ENTRY_ARTICLE);
}
END_TEST

START_TEST(test_atom_relative_to_feed_url)
{
    parse_ok("<feed xmlns=\"http://www.w3.org/2005/Atom\">"
             "<entry><title>R</title><link href=\"../a/b.html\"/></entry></feed>",
             "https://example.com/feeds/main/atom.xml");
    ck_assert_uint_eq(feed->n_entries, 1);
    ck_entry(0, "https://example.com/feeds/a/b.html", "R", NULL, FX_ENTRY_ARTICLE);
}
END_TEST

START_TEST(test_news_sitemap)
{
    parse_ok("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
             "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\"\n"
             "  xmlns:news=\"http://www.google.com/schemas/sitemap-news/0.9\">\n"
             " <url><loc>https://news.example.com/business/article55.html</loc>\n"
             "  <lastmod>2024-05-01</lastmod>\n"
             "  <news:news><news:publication><news:name>The Example Times</news:name>\n"
             "   <news:language>en</news:language></news:publication>\n"
             "   <news:publication_date>2008-12-23T12:00:00+01:00</news:publication_date>\n"
             "   <news:title>Companies A, B in Merger Talks</news:title></news:news></url>\n"
             " <url><loc> https://news.example.com/plain.html </loc>\n"
             "  <lastmod>2024-05-02T10:11:12+00:00</lastmod></url>\n"
             " <url><loc>/relative.html</loc></url>\n"
             " <url><lastmod>2024-05-02</lastmod></url>\n"
             "</urlset>\n",
             "https://news.example.com/sitemap-news.xml");
    ck_assert_int_eq(feed->kind, FX_FEED_SITEMAP);
    ck_assert_str_eq(fx_feed_kind_name(feed->kind), "sitemap");
    ck_assert_uint_eq(feed->n_entries, 3);
    ck_assert_uint_eq(feed->n_skipped, 1);
    ck_entry(0, "https://news.example.com/business/article55.html",
             "Companies A, B in Merger Talks", "2008-12-23T11:00:00Z", FX_ENTRY_ARTICLE);
    ck_entry(1, "https://news.example.com/plain.html", NULL, "2024-05-02T10:11:12Z",
             FX_ENTRY_ARTICLE);
    ck_entry(2, "https://news.example.com/relative.html", NULL, NULL, FX_ENTRY_ARTICLE);
}
END_TEST

START_TEST(test_sitemap_index)
{
    parse_ok("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
             "<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n"
             " <sitemap><loc>https://example.com/sitemap1.xml.gz</loc>\n"
             "  <lastmod>2004-10-01T18:23:17+00:00</lastmod></sitemap>\n"
             " <sitemap><loc>https://example.com/sitemap2.xml</loc></sitemap>\n"
             " <url><loc>https://example.com/not-here</loc></url>\n"
             "</sitemapindex>\n",
             "https://example.com/sitemap_index.xml");
    ck_assert_int_eq(feed->kind, FX_FEED_SITEMAPINDEX);
    ck_assert_str_eq(fx_feed_kind_name(feed->kind), "sitemapindex");
    ck_assert_uint_eq(feed->n_entries, 2);
    ck_entry(0, "https://example.com/sitemap1.xml.gz", NULL, "2004-10-01T18:23:17Z",
             FX_ENTRY_SITEMAP);
    ck_entry(1, "https://example.com/sitemap2.xml", NULL, NULL, FX_ENTRY_SITEMAP);
}
END_TEST

START_TEST(test_empty_feeds)
{
    parse_ok("<rss version=\"2.0\"><channel><title>x</title></channel></rss>", NULL);
    ck_assert_uint_eq(feed->n_entries, 0);
    parse_ok("<rss version=\"2.0\"/>", NULL);
    ck_assert_uint_eq(feed->n_entries, 0);
    parse_ok("<urlset/>", NULL);
    ck_assert_uint_eq(feed->n_entries, 0);
}
END_TEST

START_TEST(test_relative_without_base_skipped)
{
    parse_ok("<rss><channel><item><link>/a</link></item>"
             "<item><link>http://example.com/b</link></item></channel></rss>",
             NULL);
    ck_assert_uint_eq(feed->n_entries, 1);
    ck_assert_uint_eq(feed->n_skipped, 1);
    ck_entry(0, "http://example.com/b", NULL, NULL, FX_ENTRY_ARTICLE);
}
END_TEST

START_TEST(test_other_encoding)
{
    parse_ok("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n"
             "<rss><channel><item><title>Caf\xe9</title>"
             "<link>http://example.com/caf\xe9</link></item></channel></rss>",
             NULL);
    ck_entry(0, "http://example.com/caf%C3%A9", "Caf\xc3\xa9", NULL, FX_ENTRY_ARTICLE);
}
END_TEST

START_TEST(test_title_cut_on_character)
{
    char doc[8192];
    size_t n = (size_t)snprintf(doc, sizeof(doc), "<rss><channel><item><title>");
    for (int i = 0; i < 1500; i++) {
        memcpy(doc + n, "\xc3\xa4", 2); /* 3000 bytes of two-byte characters */
        n += 2;
    }
    snprintf(doc + n, sizeof(doc) - n,
             "</title><link>http://example.com/</link></item></channel></rss>");
    parse_ok(doc, NULL);
    ck_assert_uint_le(strlen(feed->entries[0].title), FX_FEED_MAX_TITLE);
    ck_assert_uint_eq(strlen(feed->entries[0].title) % 2, 0);
    ck_assert_uint_ge(strlen(feed->entries[0].title), FX_FEED_MAX_TITLE - 1);
}
END_TEST

/* ---- broken and wrong documents ---------------------------------------------- */

START_TEST(test_not_xml)
{
    ck_assert_int_eq(parse("<rss>\n<channel>\n<item><title>x</item>\n</channel></rss>", NULL),
                     NL_EINVAL);
    ck_errbuf_starts("not XML: line 3: ");
    ck_assert_int_eq(parse("", NULL), NL_EINVAL);
    ck_errbuf_starts("not XML");
    ck_assert_int_eq(parse("just some text", NULL), NL_EINVAL);
    ck_errbuf_starts("not XML: line 1: ");
    ck_assert_int_eq(parse("<rss><channel><item><title>AT&T</title></item></channel></rss>", NULL),
                     NL_EINVAL);
    ck_errbuf_starts("not XML: line 1: ");
    ck_assert_int_eq(parse("<rss>&undeclared;</rss>", NULL), NL_EINVAL);
    ck_errbuf_starts("not XML: line 1: ");
    ck_assert_ptr_null(feed);
}
END_TEST

START_TEST(test_html_is_not_a_feed)
{
    ck_assert_int_eq(parse("<html><head><title>x</title></head><body><p>hi</p></body></html>",
                           "https://example.com/"),
                     NL_EINVAL);
    ck_assert_str_eq(errbuf, "not a feed or sitemap: root <html>");
    ck_assert_int_eq(parse("<!DOCTYPE html>\n<html><body><br></body></html>", NULL), NL_EINVAL);
    ck_errbuf_starts("not XML: line 2: ");
    ck_assert_int_eq(parse("<channel><item/></channel>", NULL), NL_EINVAL);
    ck_assert_str_eq(errbuf, "not a feed or sitemap: root <channel>");
}
END_TEST

/* ---- hostile documents ------------------------------------------------------- */

static const char billion_laughs[] =
    "<?xml version=\"1.0\"?>\n"
    "<!DOCTYPE rss [\n"
    " <!ENTITY lol \"lol\">\n"
    " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
    " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
    " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
    " <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
    " <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
    " <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
    " <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
    " <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
    " <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
    "]>\n"
    "<rss><channel><item><title>&lol9;</title><link>http://example.com/</link></item>"
    "</channel></rss>\n";

START_TEST(test_billion_laughs_refused)
{
    ck_assert_int_eq(parse(billion_laughs, NULL), NL_EINVAL);
    ck_assert_str_eq(errbuf, "entity declarations are not allowed");
    ck_assert_ptr_null(feed);
}
END_TEST

/* The same in UTF-16, which the byte scan before parsing cannot see: the
 * check on the parsed DTD refuses it, and nothing is expanded on the way. */
START_TEST(test_billion_laughs_utf16_refused)
{
    const char *src = strstr(billion_laughs, "<!DOCTYPE"); /* no UTF-8 declaration */
    size_t n = strlen(src), len = 2 + 2 * n;
    char *doc = malloc(len);
    int rc;

    ck_assert_ptr_nonnull(doc);
    doc[0] = (char)0xff; /* UTF-16LE byte order mark */
    doc[1] = (char)0xfe;
    for (size_t i = 0; i < n; i++) {
        doc[2 + 2 * i] = src[i];
        doc[3 + 2 * i] = 0;
    }
    rc = fx_feed_parse(doc, len, NULL, &feed, errbuf, sizeof(errbuf));
    ck_assert_msg(rc == NL_EINVAL, "rc %d", rc);
    ck_assert_ptr_null(feed);
    free(doc);
}
END_TEST

START_TEST(test_xxe_refused)
{
    ck_assert_int_eq(parse("<?xml version=\"1.0\"?>\n"
                           "<!DOCTYPE rss [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n"
                           "<rss><channel><item><title>&xxe;</title>"
                           "<link>http://example.com/</link></item></channel></rss>",
                           NULL),
                     NL_EINVAL);
    ck_assert_str_eq(errbuf, "entity declarations are not allowed");
    ck_assert_int_eq(
        parse("<?xml version=\"1.0\"?>\n"
              "<!DOCTYPE rss [<!ENTITY % p SYSTEM \"http://127.0.0.1:9/x.dtd\"> %p;]>\n"
              "<rss/>",
              NULL),
        NL_EINVAL);
}
END_TEST

/* An external DTD is never loaded: the document parses, and a reference to
 * an entity it would define stays an unexpanded, ignored reference. */
START_TEST(test_external_dtd_inert)
{
    parse_ok("<?xml version=\"1.0\"?>\n"
             "<!DOCTYPE rss PUBLIC \"-//Netscape Communications//DTD RSS 0.91//EN\"\n"
             " \"file:///etc/passwd\">\n"
             "<rss version=\"0.91\"><channel><item><title>Old</title>"
             "<link>http://example.com/old</link></item></channel></rss>",
             NULL);
    ck_assert_uint_eq(feed->n_entries, 1);
    ck_entry(0, "http://example.com/old", "Old", NULL, FX_ENTRY_ARTICLE);
    parse_ok("<?xml version=\"1.0\"?>\n"
             "<!DOCTYPE rss SYSTEM \"file:///etc/passwd\">\n"
             "<rss><channel><item><title>A&passwd;B</title>"
             "<link>http://example.com/&passwd;</link></item></channel></rss>",
             NULL);
    ck_assert_uint_eq(feed->n_entries, 1);
    ck_entry(0, "http://example.com/", "AB", NULL, FX_ENTRY_ARTICLE);
}
END_TEST

START_TEST(test_deep_nesting_bounded)
{
    size_t depth = 100000, n = 0;
    char *doc = malloc(depth * 7 + 200);

    ck_assert_ptr_nonnull(doc);
    n += (size_t)sprintf(doc, "<rss><channel><item><title>");
    for (size_t i = 0; i < depth; i++) {
        memcpy(doc + n, "<b>", 3);
        n += 3;
    }
    for (size_t i = 0; i < depth; i++) {
        memcpy(doc + n, "</b>", 4);
        n += 4;
    }
    n += (size_t)sprintf(doc + n, "</title></item></channel></rss>");
    ck_assert_int_eq(fx_feed_parse(doc, n, NULL, &feed, errbuf, sizeof(errbuf)), NL_EINVAL);
    ck_errbuf_starts("not XML: line 1: ");
    free(doc);
}
END_TEST

START_TEST(test_size_cap)
{
    static const char small[] = "<rss/>";
    /* the length is checked before anything is read */
    ck_assert_int_eq(
        fx_feed_parse(small, (size_t)FX_FEED_MAX_BYTES + 1, NULL, &feed, errbuf, sizeof(errbuf)),
        NL_ETOOBIG);
    ck_assert_ptr_null(feed);
}
END_TEST

START_TEST(test_entry_cap)
{
    size_t n_urls = FX_FEED_MAX_ENTRIES + 3, cap = n_urls * 48 + 200, n = 0;
    char *doc = malloc(cap);

    ck_assert_ptr_nonnull(doc);
    n += (size_t)snprintf(doc, cap, "<urlset>");
    for (size_t i = 0; i < n_urls; i++) {
        n += (size_t)snprintf(doc + n, cap - n, "<url><loc>http://e.com/%zu</loc></url>", i);
    }
    n += (size_t)snprintf(doc + n, cap - n, "</urlset>");
    ck_assert_int_eq(fx_feed_parse(doc, n, NULL, &feed, errbuf, sizeof(errbuf)), 0);
    ck_assert_uint_eq(feed->n_entries, FX_FEED_MAX_ENTRIES);
    ck_assert_uint_eq(feed->n_dropped, 3);
    ck_assert_str_eq(feed->entries[FX_FEED_MAX_ENTRIES - 1].url, "http://e.com/49999");
    free(doc);
}
END_TEST

/* ---- dates --------------------------------------------------------------------- */

struct date_case {
    const char *in;
    const char *want; /* NULL: refused */
};

static const struct date_case rfc822_cases[] = {
    {"Sat, 07 Sep 2002 00:00:01 GMT", "2002-09-07T00:00:01Z"},
    {"Sat, 07 Sep 2002 00:00:01 +0000", "2002-09-07T00:00:01Z"},
    {"Wed, 01 May 2024 12:00:00 +0200", "2024-05-01T10:00:00Z"},
    {"Wed, 01 May 2024 23:30:00 -0500", "2024-05-02T04:30:00Z"},
    {"Tue, 31 Dec 2024 23:00:00 -0130", "2025-01-01T00:30:00Z"},
    {"1 May 2024 12:00 EST", "2024-05-01T17:00:00Z"},
    {"01 May 2024 12:00:00 PDT", "2024-05-01T19:00:00Z"},
    {"Mon, 6 May 24 08:00:00 UT", "2024-05-06T08:00:00Z"},
    {"Mon, 6 May 99 08:00:00 GMT", "1999-05-06T08:00:00Z"},
    {"Monday, 06 May 2024 08:00:00 Z", "2024-05-06T08:00:00Z"},
    {"06 September 2024 08:00:00 GMT", "2024-09-06T08:00:00Z"},
    {"Thu, 29 Feb 2024 10:00:00 GMT", "2024-02-29T10:00:00Z"},
    {"Thu, 01 Feb 2024 10:00:00 +05:30", "2024-02-01T04:30:00Z"},
    {"Thu, 01 Feb 2024 10:00:00 A", "2024-02-01T10:00:00Z"},
    {"Thu, 01 Feb 2024 10:00:00", "2024-02-01T10:00:00Z"},
    {"  Thu, 01 Feb 2024 10:00:00 GMT  ", "2024-02-01T10:00:00Z"},
    {"Thu, 29 Feb 2023 10:00:00 GMT", NULL},
    {"Thu, 32 Jan 2024 10:00:00 GMT", NULL},
    {"Thu, 01 Foo 2024 10:00:00 GMT", NULL},
    {"Thu, 01 Jan 2024 24:00:00 GMT", NULL},
    {"Thu, 01 Jan 2024 10:60:00 GMT", NULL},
    {"Thu, 01 Jan 2024 10:00:00 GMT trailing", NULL},
    {"Thu, 01 Jan 124 10:00:00 GMT", NULL},
    {"2024-05-01T10:00:00Z", NULL},
    {"", NULL},
    {"yesterday", NULL},
};

static const struct date_case rfc3339_cases[] = {
    {"2024-05-01T12:00:00Z", "2024-05-01T12:00:00Z"},
    {"2024-05-01t12:00:00z", "2024-05-01T12:00:00Z"},
    {"2024-05-01T12:00:00+02:00", "2024-05-01T10:00:00Z"},
    {"2024-05-01T12:00:00.123456-04:00", "2024-05-01T16:00:00Z"},
    {"2024-05-01T12:00Z", "2024-05-01T12:00:00Z"},
    {"2024-05-01T12:00:00", "2024-05-01T12:00:00Z"},
    {"2024-05-01 12:00:00+0100", "2024-05-01T11:00:00Z"},
    {"2024-05-01", "2024-05-01"},
    {" 2024-05-01 ", "2024-05-01"},
    {"2024-12-31T23:59:60Z", "2024-12-31T23:59:59Z"},
    {"2024-01-01T00:30:00+01:00", "2023-12-31T23:30:00Z"},
    {"2024-02-30", NULL},
    {"2024-13-01T00:00:00Z", NULL},
    {"2024-05-01T25:00:00Z", NULL},
    {"2024-05-01T12:00:00+2:00", NULL},
    {"2024-05-01T12:00:00.Z", NULL},
    {"2024-05", NULL},
    {"24-05-01", NULL},
    {"2024-05-01X", NULL},
    {"Wed, 01 May 2024 12:00:00 GMT", NULL},
};

START_TEST(test_rfc822_table)
{
    const struct date_case *c = &rfc822_cases[_i];
    char out[FX_DATE_LEN];
    int rc = fx_date_rfc822(c->in, out);

    if (c->want == NULL) {
        ck_assert_msg(rc == NL_EINVAL, "\"%s\" accepted as %s", c->in, rc == 0 ? out : "");
    } else {
        ck_assert_msg(rc == 0, "\"%s\" refused", c->in);
        ck_assert_str_eq(out, c->want);
    }
}
END_TEST

START_TEST(test_rfc3339_table)
{
    const struct date_case *c = &rfc3339_cases[_i];
    char out[FX_DATE_LEN];
    int rc = fx_date_rfc3339(c->in, out);

    if (c->want == NULL) {
        ck_assert_msg(rc == NL_EINVAL, "\"%s\" accepted as %s", c->in, rc == 0 ? out : "");
    } else {
        ck_assert_msg(rc == 0, "\"%s\" refused", c->in);
        ck_assert_str_eq(out, c->want);
    }
}
END_TEST

START_TEST(test_dates_null)
{
    char out[FX_DATE_LEN];
    ck_assert_int_eq(fx_date_rfc822(NULL, out), NL_EINVAL);
    ck_assert_int_eq(fx_date_rfc3339(NULL, out), NL_EINVAL);
}
END_TEST

static Suite *feeds_suite(void)
{
    Suite *s = suite_create("feeds");
    TCase *tc = tcase_create("formats");

    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, test_rss2);
    tcase_add_test(tc, test_rss1_rdf);
    tcase_add_test(tc, test_atom);
    tcase_add_test(tc, test_atom_relative_to_feed_url);
    tcase_add_test(tc, test_news_sitemap);
    tcase_add_test(tc, test_sitemap_index);
    tcase_add_test(tc, test_empty_feeds);
    tcase_add_test(tc, test_relative_without_base_skipped);
    tcase_add_test(tc, test_other_encoding);
    tcase_add_test(tc, test_title_cut_on_character);
    suite_add_tcase(s, tc);

    tc = tcase_create("refused");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_not_xml);
    tcase_add_test(tc, test_html_is_not_a_feed);
    tcase_add_test(tc, test_billion_laughs_refused);
    tcase_add_test(tc, test_billion_laughs_utf16_refused);
    tcase_add_test(tc, test_xxe_refused);
    tcase_add_test(tc, test_external_dtd_inert);
    tcase_add_test(tc, test_deep_nesting_bounded);
    tcase_add_test(tc, test_size_cap);
    tcase_add_test(tc, test_entry_cap);
    suite_add_tcase(s, tc);

    tc = tcase_create("dates");
    tcase_add_loop_test(tc, test_rfc822_table, 0, sizeof(rfc822_cases) / sizeof(rfc822_cases[0]));
    tcase_add_loop_test(tc, test_rfc3339_table, 0,
                        sizeof(rfc3339_cases) / sizeof(rfc3339_cases[0]));
    tcase_add_test(tc, test_dates_null);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(feeds_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
