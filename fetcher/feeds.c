/* Feed and sitemap parsing with libxml2; the rules are in feeds.h. */
#include "feeds.h"

#include "nl_buf.h"
#include "nl_err.h"
#include "url.h"

#include <ctype.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- dates ---------------------------------------------------------------- */

static int days_in_month(int y, int m)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    return m == 2 && leap ? 29 : mdays[m - 1];
}

/* Reads 1..max digits at *p into *v. */
static int digits(const char **p, int min, int max, int *v)
{
    int n = 0;
    *v = 0;
    while (n < max && isdigit((unsigned char)**p)) {
        *v = *v * 10 + (**p - '0');
        (*p)++;
        n++;
    }
    return n >= min;
}

static void skip_space(const char **p)
{
    while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r') {
        (*p)++;
    }
}

/* The fields as local time at offset off_min east of UTC, written as UTC. */
static int write_utc(int y, int mo, int d, int h, int mi, int s, int off_min, char out[FX_DATE_LEN])
{
    struct tm tm = {0};
    time_t t;

    if (y < 1000 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
        mi > 59 || s > 60 || off_min < -24 * 60 || off_min > 24 * 60) {
        return NL_EINVAL;
    }
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s > 59 ? 59 : s; /* a leap second is folded into :59 */
    t = timegm(&tm) - (time_t)off_min * 60;
    if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 < 1000 || tm.tm_year + 1900 > 9999) {
        return NL_EINVAL;
    }
    strftime(out, FX_DATE_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return 0;
}

int fx_date_rfc822(const char *s, char out[FX_DATE_LEN])
{
    static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
    static const struct {
        const char *name;
        int off;
    } zones[] = {{"GMT", 0},       {"UT", 0},        {"UTC", 0},       {"Z", 0},
                 {"EST", -5 * 60}, {"EDT", -4 * 60}, {"CST", -6 * 60}, {"CDT", -5 * 60},
                 {"MST", -7 * 60}, {"MDT", -6 * 60}, {"PST", -8 * 60}, {"PDT", -7 * 60}};
    const char *p = s;
    int d, mo = 0, y, h, mi, sec = 0, off = 0, ny;

    if (s == NULL) {
        return NL_EINVAL;
    }
    skip_space(&p);
    if (isalpha((unsigned char)*p)) { /* day of week */
        while (isalpha((unsigned char)*p)) {
            p++;
        }
        if (*p == ',') {
            p++;
        }
        skip_space(&p);
    }
    if (!digits(&p, 1, 2, &d)) {
        return NL_EINVAL;
    }
    skip_space(&p);
    if (*p == '-') {
        p++;
    }
    for (int m = 0; m < 12; m++) {
        if (strncasecmp(p, months + 3 * m, 3) == 0) {
            mo = m + 1;
        }
    }
    if (mo == 0) {
        return NL_EINVAL;
    }
    while (isalpha((unsigned char)*p)) { /* "Sep" or "September" */
        p++;
    }
    if (*p == '.') {
        p++;
    }
    skip_space(&p);
    if (*p == '-') {
        p++;
    }
    ny = (int)strspn(p, "0123456789");
    if ((ny != 2 && ny != 4) || !digits(&p, ny, ny, &y)) {
        return NL_EINVAL;
    }
    if (ny == 2) {
        y += y < 50 ? 2000 : 1900; /* RFC 2822 obs-year */
    }
    skip_space(&p);
    if (!digits(&p, 1, 2, &h) || *p++ != ':' || !digits(&p, 2, 2, &mi)) {
        return NL_EINVAL;
    }
    if (*p == ':') {
        p++;
        if (!digits(&p, 2, 2, &sec)) {
            return NL_EINVAL;
        }
    }
    skip_space(&p);
    if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh, om;
        if (!digits(&p, 2, 2, &oh)) {
            return NL_EINVAL;
        }
        if (*p == ':') {
            p++;
        }
        if (!digits(&p, 2, 2, &om) || om > 59) {
            return NL_EINVAL;
        }
        off = sign * (oh * 60 + om);
    } else if (isalpha((unsigned char)*p)) {
        size_t n = 0;
        while (isalpha((unsigned char)p[n])) {
            n++;
        }
        for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
            if (strlen(zones[z].name) == n && strncasecmp(p, zones[z].name, n) == 0) {
                off = zones[z].off;
            }
        }
        p += n; /* military and unknown zones: UTC (RFC 2822 4.3) */
    }
    skip_space(&p);
    if (*p != '\0') {
        return NL_EINVAL;
    }
    return write_utc(y, mo, d, h, mi, sec, off, out);
}

int fx_date_rfc3339(const char *s, char out[FX_DATE_LEN])
{
    const char *p = s, *q;
    int y, mo, d, h, mi, sec = 0, off = 0;

    if (s == NULL) {
        return NL_EINVAL;
    }
    skip_space(&p);
    if (!digits(&p, 4, 4, &y) || *p++ != '-' || !digits(&p, 2, 2, &mo) || *p++ != '-' ||
        !digits(&p, 2, 2, &d)) {
        return NL_EINVAL;
    }
    q = p;
    skip_space(&q);
    if (*q == '\0') {
        if (y < 1000 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo)) {
            return NL_EINVAL;
        }
        struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d};
        strftime(out, FX_DATE_LEN, "%Y-%m-%d", &tm);
        return 0;
    }
    if (*p != 'T' && *p != 't' && *p != ' ') {
        return NL_EINVAL;
    }
    p++;
    if (!digits(&p, 2, 2, &h) || *p++ != ':' || !digits(&p, 2, 2, &mi)) {
        return NL_EINVAL;
    }
    if (*p == ':') {
        p++;
        if (!digits(&p, 2, 2, &sec)) {
            return NL_EINVAL;
        }
        if (*p == '.' || *p == ',') {
            p++;
            if (!isdigit((unsigned char)*p)) {
                return NL_EINVAL;
            }
            while (isdigit((unsigned char)*p)) {
                p++;
            }
        }
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh, om;
        if (!digits(&p, 2, 2, &oh)) {
            return NL_EINVAL;
        }
        if (*p == ':') {
            p++;
        }
        if (!digits(&p, 2, 2, &om) || om > 59) {
            return NL_EINVAL;
        }
        off = sign * (oh * 60 + om);
    } /* no zone: taken as UTC */
    skip_space(&p);
    if (*p != '\0') {
        return NL_EINVAL;
    }
    return write_utc(y, mo, d, h, mi, sec, off, out);
}

/* ---- the tree ------------------------------------------------------------- */

static int is_el(const xmlNode *n, const char *name)
{
    return n != NULL && n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, BAD_CAST name) == 0;
}

/* The first child element of parent named name; with no_ns_first, one
 * without a namespace is preferred (an RSS <link> over an <atom:link>). */
static xmlNode *child(const xmlNode *parent, const char *name, int no_ns_first)
{
    xmlNode *found = NULL;

    for (xmlNode *c = parent != NULL ? parent->children : NULL; c != NULL; c = c->next) {
        if (is_el(c, name)) {
            if (!no_ns_first || c->ns == NULL) {
                return c;
            }
            if (found == NULL) {
                found = c;
            }
        }
    }
    return found;
}

/* The text under n (text and CDATA nodes, in document order; entity
 * references are not followed), whitespace collapsed and trimmed, cut at
 * max bytes on a UTF-8 boundary. NULL if empty or out of memory (*oom). */
static char *text_of(const xmlNode *n, size_t max, int *oom)
{
    nl_buf b;
    const xmlNode *c;
    int space = 0, rc = 0;

    if (n == NULL) {
        return NULL;
    }
    nl_buf_init(&b, max + 4);
    /* iterative walk of n's subtree (no recursion on hostile depth) */
    c = n->children;
    while (c != NULL && rc == 0 && b.len < max) {
        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content != NULL) {
            for (const xmlChar *p = c->content; *p != '\0' && rc == 0 && b.len < max; p++) {
                if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
                    space = b.len > 0;
                    continue;
                }
                if (space) {
                    rc = nl_buf_append(&b, " ", 1);
                    space = 0;
                }
                if (rc == 0) {
                    rc = nl_buf_append(&b, p, 1);
                }
            }
        }
        if (c->type == XML_ELEMENT_NODE && c->children != NULL) {
            c = c->children;
            continue;
        }
        while (c != NULL && c->next == NULL && c != n) {
            c = c->parent;
        }
        c = c == n || c == NULL ? NULL : c->next;
    }
    if (rc == NL_ENOMEM) {
        *oom = 1;
        return NULL;
    }
    if (b.len > max) {
        b.len = max;
    }
    /* do not end inside a UTF-8 sequence */
    if (b.len > 0 && ((unsigned char)b.ptr[b.len - 1] & 0x80)) {
        size_t k = b.len;
        while (k > 0 && ((unsigned char)b.ptr[k - 1] & 0xc0) == 0x80) {
            k--;
        }
        if (k > 0) {
            unsigned char lead = (unsigned char)b.ptr[k - 1];
            size_t want = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
            if (b.len - (k - 1) < want) {
                b.len = k - 1;
            }
        }
    }
    if (b.len == 0) {
        nl_buf_free(&b);
        return NULL;
    }
    b.ptr[b.len] = '\0';
    return nl_buf_steal(&b, NULL);
}

static char *attr(const xmlNode *n, const char *name)
{
    xmlChar *v = xmlGetNoNsProp(n, BAD_CAST name);
    char *s = v != NULL ? strdup((const char *)v) : NULL;
    xmlFree(v);
    return s;
}

struct ctx {
    fx_feed *feed;
    xmlDoc *doc;
    size_t cap;
    int oom;
};

/* Adds an entry for the link found at node (the text or href taken by the
 * caller): resolved against node's base, normalised; title and date are
 * taken over (freed here on failure). */
static void add_entry(struct ctx *cx, const xmlNode *node, char *link, char *title, char *date,
                      fx_entry_kind kind)
{
    fx_feed *feed = cx->feed;
    xmlChar *base = NULL;
    char *url = NULL;
    int rc;

    if (link == NULL) {
        feed->n_skipped++;
        goto out;
    }
    if (feed->n_entries >= FX_FEED_MAX_ENTRIES) {
        feed->n_dropped++;
        goto out;
    }
    base = xmlNodeGetBase(cx->doc, node);
    rc = base != NULL ? fx_url_resolve((const char *)base, link, &url, NULL, 0)
                      : fx_url_normalize(link, &url, NULL, 0);
    if (rc == NL_ENOMEM) {
        cx->oom = 1;
        goto out;
    }
    if (rc != 0) {
        feed->n_skipped++;
        goto out;
    }
    if (feed->n_entries == cx->cap) {
        size_t cap = cx->cap ? cx->cap * 2 : 32;
        fx_entry *e = realloc(feed->entries, cap * sizeof(*e));
        if (e == NULL) {
            cx->oom = 1;
            goto out;
        }
        feed->entries = e;
        cx->cap = cap;
    }
    feed->entries[feed->n_entries++] = (fx_entry){url, title, date, kind};
    url = title = date = NULL;
out:
    xmlFree(base);
    free(url);
    free(link);
    free(title);
    free(date);
}

/* The date in element n (either form: feeds mislabel them often enough),
 * or NULL. */
static char *date_of(const xmlNode *n, int *oom)
{
    char iso[FX_DATE_LEN], *s = text_of(n, 64, oom), *d = NULL;

    if (s != NULL && (fx_date_rfc3339(s, iso) == 0 || fx_date_rfc822(s, iso) == 0)) {
        d = strdup(iso);
        *oom |= d == NULL;
    }
    free(s);
    return d;
}

static void rss_item(struct ctx *cx, const xmlNode *item)
{
    xmlNode *link = child(item, "link", 1), *guid = child(item, "guid", 1);
    char *url = text_of(link, FX_URL_MAX, &cx->oom);
    char *date;

    if (url == NULL && guid != NULL) {
        char *perma = attr(guid, "isPermaLink");
        if (perma == NULL || strcasecmp(perma, "false") != 0) {
            url = text_of(guid, FX_URL_MAX, &cx->oom);
            link = guid;
        }
        free(perma);
    }
    date = date_of(child(item, "pubDate", 1), &cx->oom);
    if (date == NULL) {
        date = date_of(child(item, "date", 0), &cx->oom); /* dc:date */
    }
    add_entry(cx, link != NULL ? link : item, url,
              text_of(child(item, "title", 1), FX_FEED_MAX_TITLE, &cx->oom), date,
              FX_ENTRY_ARTICLE);
}

static void atom_entry(struct ctx *cx, const xmlNode *entry)
{
    const xmlNode *link = NULL;
    char *href = NULL, *date;

    for (xmlNode *c = entry->children; c != NULL && link == NULL; c = c->next) {
        if (is_el(c, "link")) {
            char *rel = attr(c, "rel");
            if (rel == NULL || strcmp(rel, "alternate") == 0) {
                href = attr(c, "href");
                link = href != NULL ? c : NULL;
            }
            free(rel);
        }
    }
    date = date_of(child(entry, "published", 0), &cx->oom);
    if (date == NULL) {
        date = date_of(child(entry, "updated", 0), &cx->oom);
    }
    add_entry(cx, link != NULL ? link : entry, href,
              text_of(child(entry, "title", 0), FX_FEED_MAX_TITLE, &cx->oom), date,
              FX_ENTRY_ARTICLE);
}

static void sitemap_url(struct ctx *cx, const xmlNode *u, fx_entry_kind kind)
{
    xmlNode *loc = child(u, "loc", 0), *news = child(u, "news", 0);
    char *date = date_of(child(news, "publication_date", 0), &cx->oom);

    if (date == NULL) {
        date = date_of(child(u, "lastmod", 0), &cx->oom);
    }
    add_entry(cx, loc != NULL ? loc : u, text_of(loc, FX_URL_MAX, &cx->oom),
              text_of(child(news, "title", 0), FX_FEED_MAX_TITLE, &cx->oom), date, kind);
}

/* Entity declarations anywhere in the DTD: refused (see feeds.h). */
static int declares_entities(const xmlDoc *doc)
{
    const xmlDtd *dtds[2] = {doc->intSubset, doc->extSubset};

    for (int i = 0; i < 2; i++) {
        if (dtds[i] != NULL && (dtds[i]->entities != NULL || dtds[i]->pentities != NULL)) {
            return 1;
        }
    }
    return 0;
}

const char *fx_feed_kind_name(fx_feed_kind kind)
{
    switch (kind) {
    case FX_FEED_RSS:
        return "rss";
    case FX_FEED_ATOM:
        return "atom";
    case FX_FEED_SITEMAP:
        return "sitemap";
    case FX_FEED_SITEMAPINDEX:
        return "sitemapindex";
    }
    return "unknown";
}

void fx_feed_free(fx_feed *feed)
{
    if (feed == NULL) {
        return;
    }
    for (size_t i = 0; i < feed->n_entries; i++) {
        free(feed->entries[i].url);
        free(feed->entries[i].title);
        free(feed->entries[i].date);
    }
    free(feed->entries);
    free(feed);
}

/* The first error libxml2 reports (its last one is often a consequence:
 * "Premature end of data" after a mismatched tag). */
struct first_error {
    int set;
    int line;
    char msg[160];
};

static void on_xml_error(void *data, xmlErrorPtr e)
{
    xmlParserCtxt *ctxt = data;
    struct first_error *fe = ctxt != NULL ? ctxt->_private : NULL;
    size_t n;

    if (fe == NULL || fe->set || e == NULL || e->level < XML_ERR_ERROR) {
        return;
    }
    fe->set = 1;
    fe->line = e->line;
    snprintf(fe->msg, sizeof(fe->msg), "%s", e->message != NULL ? e->message : "error");
    n = strlen(fe->msg);
    while (n > 0 && (fe->msg[n - 1] == '\n' || fe->msg[n - 1] == ' ')) {
        fe->msg[--n] = '\0';
    }
}

/* "not XML: line 3: <libxml2's message>" */
static int not_xml(const struct first_error *fe, char *errbuf, size_t errlen)
{
    if (!fe->set) {
        return nl_errf(errbuf, errlen, NL_EINVAL, "not XML");
    }
    return nl_errf(errbuf, errlen, NL_EINVAL, "not XML: line %d: %s", fe->line, fe->msg);
}

int fx_feed_parse(const char *body, size_t len, const char *feed_url, fx_feed **out, char *errbuf,
                  size_t errlen)
{
    xmlParserCtxt *ctxt = NULL;
    struct first_error fe = {0};
    struct ctx cx = {0};
    xmlNode *root, *items;
    int rc = 0;

    *out = NULL;
    if (len > FX_FEED_MAX_BYTES) {
        return nl_errf(errbuf, errlen, NL_ETOOBIG, "feed is over %d bytes", FX_FEED_MAX_BYTES);
    }
    /* refused before parsing, so no entity is ever expanded (a document in
     * another encoding is caught after parsing, below) */
    if (memmem(body, len, "<!ENTITY", 8) != NULL) {
        return nl_errf(errbuf, errlen, NL_EINVAL, "entity declarations are not allowed");
    }
    cx.feed = calloc(1, sizeof(*cx.feed));
    ctxt = xmlNewParserCtxt();
    if (cx.feed == NULL || ctxt == NULL) {
        rc = nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
        goto out;
    }
    ctxt->_private = &fe;
    ctxt->sax->serror = on_xml_error;
    /* no XML_PARSE_NOENT, DTDLOAD, DTDATTR, XINCLUDE or HUGE */
    cx.doc = xmlCtxtReadMemory(ctxt, body, (int)len, feed_url, NULL,
                               XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                                   XML_PARSE_NOCDATA);
    if (cx.doc == NULL || !ctxt->wellFormed) {
        rc = not_xml(&fe, errbuf, errlen);
        goto out;
    }
    if (declares_entities(cx.doc)) {
        rc = nl_errf(errbuf, errlen, NL_EINVAL, "entity declarations are not allowed");
        goto out;
    }
    root = xmlDocGetRootElement(cx.doc);
    if (root == NULL) {
        rc = nl_errf(errbuf, errlen, NL_EINVAL, "not a feed or sitemap: no root element");
        goto out;
    }
    if (is_el(root, "rss") || is_el(root, "RDF")) {
        cx.feed->kind = FX_FEED_RSS;
        /* RSS 2.0 items are in <channel>, RSS 1.0 items beside it */
        items = is_el(root, "rss") ? child(root, "channel", 1) : root;
        for (xmlNode *c = items != NULL ? items->children : NULL; c != NULL && !cx.oom;
             c = c->next) {
            if (is_el(c, "item")) {
                rss_item(&cx, c);
            }
        }
    } else if (is_el(root, "feed")) {
        cx.feed->kind = FX_FEED_ATOM;
        for (xmlNode *c = root->children; c != NULL && !cx.oom; c = c->next) {
            if (is_el(c, "entry")) {
                atom_entry(&cx, c);
            }
        }
    } else if (is_el(root, "urlset") || is_el(root, "sitemapindex")) {
        int index = is_el(root, "sitemapindex");
        cx.feed->kind = index ? FX_FEED_SITEMAPINDEX : FX_FEED_SITEMAP;
        for (xmlNode *c = root->children; c != NULL && !cx.oom; c = c->next) {
            if (is_el(c, index ? "sitemap" : "url")) {
                sitemap_url(&cx, c, index ? FX_ENTRY_SITEMAP : FX_ENTRY_ARTICLE);
            }
        }
    } else {
        rc = nl_errf(errbuf, errlen, NL_EINVAL, "not a feed or sitemap: root <%.40s>",
                     (const char *)root->name);
        goto out;
    }
    if (cx.oom) {
        rc = nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
    }
out:
    xmlFreeDoc(cx.doc);
    xmlFreeParserCtxt(ctxt);
    if (rc != 0) {
        fx_feed_free(cx.feed);
        return rc;
    }
    *out = cx.feed;
    return 0;
}
