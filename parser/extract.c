#include "extract.h"

#include "nl_buf.h"
#include "nl_err.h"
#include "nl_text.h"

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void px_doc_free(px_doc *doc)
{
    free(doc->title);
    free(doc->text);
    memset(doc, 0, sizeof(*doc));
}

static int is_blank_line(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') {
            return 0;
        }
    }
    return 1;
}

int px_plain(const char *buf, size_t len, px_doc *doc, char *errbuf, size_t errlen)
{
    size_t clean_len;
    char *clean;
    const char *p, *end, *eol;
    const char *tb, *te;

    memset(doc, 0, sizeof(*doc));
    clean = nl_utf8_sanitize(buf, len, (size_t)-1 / 4, &clean_len);
    if (clean == NULL) {
        return nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
    }
    p = clean;
    end = clean + clean_len;
    if (end - p >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) {
        p += 3;
    }
    /* Title: the first non-blank line, trimmed. */
    for (;;) {
        eol = memchr(p, '\n', (size_t)(end - p));
        if (eol == NULL) {
            eol = end;
        }
        if (!is_blank_line(p, (size_t)(eol - p)) || eol == end) {
            break;
        }
        p = eol + 1;
    }
    tb = p;
    te = eol;
    while (tb < te && (*tb == ' ' || *tb == '\t')) {
        tb++;
    }
    while (te > tb && (te[-1] == ' ' || te[-1] == '\t' || te[-1] == '\r')) {
        te--;
    }
    /* Text: from the next non-blank line to the end, trailing newlines off. */
    p = eol < end ? eol + 1 : end;
    for (;;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL || !is_blank_line(p, (size_t)(nl - p))) {
            break;
        }
        p = nl + 1;
    }
    while (end > p && (end[-1] == '\n' || end[-1] == '\r')) {
        end--;
    }
    doc->title_len = (size_t)(te - tb);
    doc->title = malloc(doc->title_len + 1);
    doc->text_len = (size_t)(end - p);
    doc->text = malloc(doc->text_len + 1);
    if (doc->title == NULL || doc->text == NULL) {
        free(clean);
        px_doc_free(doc);
        return nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
    }
    memcpy(doc->title, tb, doc->title_len);
    doc->title[doc->title_len] = '\0';
    memcpy(doc->text, p, doc->text_len);
    doc->text[doc->text_len] = '\0';
    free(clean);
    return 0;
}

/* Elements whose whole subtree is page furniture, not article text. */
static int is_skipped(const char *name)
{
    static const char *const skip[] = {"script", "style",  "noscript", "nav",    "header",
                                       "footer", "aside",  "form",     "iframe", "svg",
                                       "button", "select", "template", "head",   "object",
                                       "embed",  "canvas", "menu",     NULL};
    for (int i = 0; skip[i] != NULL; i++) {
        if (strcasecmp(name, skip[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

static int is_block(const char *name)
{
    static const char *const block[] = {
        "p",    "div",   "br",      "li",      "ul",      "ol",         "h1",      "h2",
        "h3",   "h4",    "h5",      "h6",      "tr",      "table",      "section", "article",
        "main", "pre",   "dd",      "dt",      "dl",      "blockquote", "figure",  "figcaption",
        "hr",   "title", "address", "details", "summary", NULL};
    for (int i = 0; block[i] != NULL; i++) {
        if (strcasecmp(name, block[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Appends text with runs of whitespace collapsed to one space; *pending_sep
 * is 1 when a paragraph break is owed before the next visible text. */
static int append_text(nl_buf *b, const char *s, int *pending_sep)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        int space = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
        int rc = 0;
        if (space) {
            if (b->len > 0 && b->ptr[b->len - 1] != ' ' && b->ptr[b->len - 1] != '\n' &&
                !*pending_sep) {
                rc = nl_buf_append(b, " ", 1);
            }
        } else {
            if (*pending_sep && b->len > 0) {
                if (b->ptr[b->len - 1] == ' ') {
                    b->len--;
                }
                rc = nl_buf_append(b, "\n", 1);
            }
            *pending_sep = 0;
            if (rc == 0) {
                rc = nl_buf_append(b, s, 1);
            }
        }
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

static char *node_text(xmlNode *n, size_t *len)
{
    xmlChar *content = xmlNodeGetContent(n);
    nl_buf b;
    int sep = 0;
    char *out;

    if (content == NULL) {
        return NULL;
    }
    nl_buf_init(&b, 65536);
    append_text(&b, (const char *)content, &sep);
    xmlFree(content);
    while (b.len > 0 && b.ptr[b.len - 1] == ' ') {
        b.len--;
        b.ptr[b.len] = '\0';
    }
    out = nl_buf_steal(&b, len);
    return out;
}

static xmlNode *find_first(xmlNode *root, const char *name)
{
    xmlNode *n = root;
    while (n != NULL) {
        if (n->type == XML_ELEMENT_NODE && strcasecmp((const char *)n->name, name) == 0) {
            return n;
        }
        if (n->children != NULL) {
            n = n->children;
            continue;
        }
        while (n != NULL && n != root && n->next == NULL) {
            n = n->parent;
        }
        if (n == NULL || n == root) {
            break;
        }
        n = n->next;
    }
    return NULL;
}

int px_html(const char *buf, size_t len, const char *url, px_doc *doc, char *errbuf, size_t errlen)
{
    const int opts = HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                     HTML_PARSE_NONET | HTML_PARSE_NOIMPLIED | XML_PARSE_HUGE;
    htmlDocPtr hd;
    xmlNode *root, *body, *n;
    nl_buf text;
    int sep = 0;
    int rc = 0;

    memset(doc, 0, sizeof(*doc));
    if (len > (size_t)INT32_MAX) {
        return nl_errf(errbuf, errlen, NL_ETOOBIG, "page of %zu bytes is too large", len);
    }
    hd = htmlReadMemory(buf, (int)len, url, NULL, opts);
    root = hd != NULL ? xmlDocGetRootElement(hd) : NULL;
    if (root == NULL) {
        if (hd != NULL) {
            xmlFreeDoc(hd);
        }
        return nl_errf(errbuf, errlen, NL_EINVAL, "no HTML document could be parsed");
    }
    n = find_first(root, "title");
    if (n == NULL) {
        n = find_first(root, "h1");
    }
    if (n != NULL) {
        doc->title = node_text(n, &doc->title_len);
    }
    body = find_first(root, "body");
    if (body == NULL) {
        body = root;
    }
    /* Iterative walk: hostile pages nest deeply, recursion would not do. */
    nl_buf_init(&text, len + 1);
    n = body->children;
    while (n != NULL && rc == 0) {
        int descend = 0;
        if (n->type == XML_ELEMENT_NODE) {
            const char *name = (const char *)n->name;
            if (!is_skipped(name)) {
                if (is_block(name)) {
                    sep = 1;
                }
                descend = n->children != NULL;
            }
        } else if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
            rc = append_text(&text, (const char *)n->content, &sep);
        }
        if (descend) {
            n = n->children;
            continue;
        }
        while (n != NULL && n != body && n->next == NULL) {
            n = n->parent;
            if (n != NULL && n->type == XML_ELEMENT_NODE && is_block((const char *)n->name)) {
                sep = 1;
            }
        }
        if (n == NULL || n == body) {
            break;
        }
        n = n->next;
    }
    xmlFreeDoc(hd);
    if (rc != 0) {
        nl_buf_free(&text);
        px_doc_free(doc);
        return nl_errf(errbuf, errlen, rc, "extracted text too large");
    }
    while (text.len > 0 && (text.ptr[text.len - 1] == ' ' || text.ptr[text.len - 1] == '\n')) {
        text.len--;
    }
    if (text.ptr == NULL && nl_buf_append(&text, "", 0) != 0) {
        px_doc_free(doc);
        return nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
    }
    text.ptr[text.len] = '\0';
    doc->text = nl_buf_steal(&text, &doc->text_len);
    if (doc->title == NULL) {
        doc->title = strdup("");
        doc->title_len = 0;
    }
    if (doc->title == NULL) {
        px_doc_free(doc);
        return nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
    }
    /* libxml2 emits UTF-8, but a lying charset can still leave bad bytes. */
    if (!nl_utf8_valid(doc->text, doc->text_len) || !nl_utf8_valid(doc->title, doc->title_len)) {
        size_t l1, l2;
        char *t1 = nl_utf8_sanitize(doc->title, doc->title_len, (size_t)-1 / 4, &l1);
        char *t2 = nl_utf8_sanitize(doc->text, doc->text_len, (size_t)-1 / 4, &l2);
        px_doc_free(doc);
        if (t1 == NULL || t2 == NULL) {
            free(t1);
            free(t2);
            return nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
        }
        doc->title = t1;
        doc->title_len = l1;
        doc->text = t2;
        doc->text_len = l2;
    }
    return 0;
}
