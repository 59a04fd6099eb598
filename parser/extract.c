#include "extract.h"
#include "meta.h"
#include "xmlarena.h"

#include "nl_buf.h"
#include "nl_err.h"
#include "nl_text.h"

#include <libxml/HTMLparser.h>
#include <libxml/xmlmemory.h>
#include <libxml/tree.h>
#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

int px_strip_raw = 1;

void px_doc_free(px_doc *doc)
{
    free(doc->title);
    free(doc->text);
    for (size_t i = 0; i < doc->n_authors; i++) {
        free(doc->authors[i]);
    }
    free(doc->authors);
    free(doc->canonical_url);
    free(doc->lang);
    free(doc->site_name);
    free(doc->description);
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
    if (px_meta_plain(doc, time(NULL)) != 0) {
        px_doc_free(doc);
        return nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
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
                /* the run of visible bytes up to the next space, at once */
                size_t run = 1;
                while (s[run] != '\0' && s[run] != ' ' && s[run] != '\t' && s[run] != '\n' &&
                       s[run] != '\r' && s[run] != '\f') {
                    run++;
                }
                rc = nl_buf_append(b, s, run);
                s += run - 1;
            }
        }
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

/* ---- boilerplate removal ----------------------------------------------
 *
 * Two passes over the libxml2 tree, both iterative (hostile pages nest
 * deeply; the parse uses XML_PARSE_HUGE so libxml2 2.9 does not silently
 * stop building the tree at depth 256).
 *
 * 1. Statistics, bottom up, per element: visible text (non-space
 *    characters), the part of it inside links, and "good" text: the text of
 *    paragraph-like blocks (a block's own text, not counting nested blocks)
 *    that are long enough and not mostly links.
 * 2. The content root is the element with the best good text minus a share
 *    of the other text it holds (the densest container of paragraphs). Its
 *    subtree is written out in reading order, dropping subtrees that are
 *    furniture: link lists, class/id hints (comment, share, related, ...)
 *    weighed against how much of the article's good text they hold, and
 *    short non-paragraph blocks (bylines, labels, captions).
 *
 * A page whose best root holds too little good text is not an article:
 * empty text and a reason. */

enum {
    K_INLINE = 0, /* text flows through: a, span, b, ... */
    K_BLOCK,      /* starts a paragraph: p, div, li, h2, ... */
    K_SKIP,       /* never text: script, style, nav, ... */
    K_BR,         /* line break */
    K_CELL,       /* table cell: a space */
};

/* Tag flags beyond the kind. */
enum {
    F_PARA = 1,  /* a paragraph even when short: p, li, h2-h6, blockquote, pre, ... */
    F_SOFT = 2,  /* furniture unless it holds the article: header, footer, aside, form */
    F_TITLE = 4, /* h1: the headline, which goes to the title */
    F_CAPTION = 8,
    F_LINK = 16,
    F_HEAD = 32, /* h1-h6 */
};

typedef struct px_stat {
    uint32_t text; /* visible non-space characters in the subtree */
    uint32_t link; /* of which inside <a> */
    uint32_t good; /* of which in good paragraphs */
    uint32_t own;  /* block: characters not inside a nested block */
    uint32_t own_link;
    int32_t blk; /* nearest block ancestor or self, -1 if none */
    uint8_t kind;
    uint8_t flags;
    int8_t hint; /* class/id: < 0 furniture, > 0 content */
    uint8_t in_link;
    uint8_t in_neg;    /* self or an ancestor is furniture by name or class */
    uint16_t nchild;   /* element children with text */
    uint16_t ncard;    /* of which teaser-like: short, with a linked heading */
    uint8_t link_head; /* holds a heading that is mostly a link */
} px_stat;

typedef struct px_tags {
    const char *name;
    uint8_t kind, flags;
} px_tags;

static const px_tags tag_table[] = {
    {"a", K_INLINE, F_LINK},
    {"address", K_BLOCK, 0},
    {"article", K_BLOCK, 0},
    {"aside", K_BLOCK, F_SOFT},
    {"blockquote", K_BLOCK, F_PARA},
    {"br", K_BR, 0},
    {"button", K_SKIP, 0},
    {"canvas", K_SKIP, 0},
    {"caption", K_BLOCK, F_CAPTION},
    {"center", K_BLOCK, 0},
    {"dd", K_BLOCK, F_PARA},
    {"details", K_BLOCK, 0},
    {"dialog", K_SKIP, 0},
    {"div", K_BLOCK, 0},
    {"dl", K_BLOCK, 0},
    {"dt", K_BLOCK, F_PARA},
    {"embed", K_SKIP, 0},
    {"fieldset", K_BLOCK, 0},
    {"figcaption", K_BLOCK, F_CAPTION},
    {"figure", K_BLOCK, 0},
    {"footer", K_BLOCK, F_SOFT},
    {"form", K_BLOCK, F_SOFT},
    {"h1", K_BLOCK, F_TITLE | F_HEAD},
    {"h2", K_BLOCK, F_PARA | F_HEAD},
    {"h3", K_BLOCK, F_PARA | F_HEAD},
    {"h4", K_BLOCK, F_PARA | F_HEAD},
    {"h5", K_BLOCK, F_PARA | F_HEAD},
    {"h6", K_BLOCK, F_PARA | F_HEAD},
    {"head", K_SKIP, 0},
    {"header", K_BLOCK, F_SOFT},
    {"hr", K_BLOCK, 0},
    {"iframe", K_SKIP, 0},
    {"img", K_SKIP, 0},
    {"input", K_SKIP, 0},
    {"label", K_SKIP, 0},
    {"li", K_BLOCK, F_PARA},
    {"main", K_BLOCK, 0},
    {"map", K_SKIP, 0},
    {"menu", K_SKIP, 0},
    {"nav", K_SKIP, 0},
    {"noscript", K_SKIP, 0},
    {"object", K_SKIP, 0},
    {"ol", K_BLOCK, 0},
    {"option", K_SKIP, 0},
    {"p", K_BLOCK, F_PARA},
    {"picture", K_SKIP, 0},
    {"pre", K_BLOCK, F_PARA},
    {"script", K_SKIP, 0},
    {"section", K_BLOCK, 0},
    {"select", K_SKIP, 0},
    {"style", K_SKIP, 0},
    {"summary", K_BLOCK, 0},
    {"svg", K_SKIP, 0},
    {"table", K_BLOCK, 0},
    {"td", K_CELL, 0},
    {"template", K_SKIP, 0},
    {"textarea", K_SKIP, 0},
    {"th", K_CELL, 0},
    {"title", K_SKIP, 0},
    {"tr", K_BLOCK, 0},
    {"ul", K_BLOCK, 0},
    {"video", K_SKIP, 0},
    {"audio", K_SKIP, 0},
};

/* tag_table's entries grouped by first byte (the table itself stays in
 * the order it reads best in), so a lookup compares only the names that
 * share it: a few hundred thousand lookups per second of pages. */
static const px_tags *tag_sorted[sizeof(tag_table) / sizeof(tag_table[0])];
static struct {
    uint8_t start, count;
} tag_index[256];
static pthread_once_t tag_once = PTHREAD_ONCE_INIT;

static void tag_index_init(void)
{
    size_t n = 0, total = sizeof(tag_table) / sizeof(tag_table[0]);
    for (int c = 0; c < 256; c++) {
        tag_index[c].start = (uint8_t)n;
        for (size_t i = 0; i < total; i++) {
            if ((unsigned char)tag_table[i].name[0] == c) {
                tag_sorted[n++] = &tag_table[i];
            }
        }
        tag_index[c].count = (uint8_t)(n - tag_index[c].start);
    }
}

static const px_tags *tag_lookup(const char *name)
{
    unsigned c = (unsigned char)name[0];
    pthread_once(&tag_once, tag_index_init);
    for (unsigned k = tag_index[c].start; k < tag_index[c].start + tag_index[c].count; k++) {
        if (strcmp(tag_sorted[k]->name + 1, name + 1) == 0) {
            return tag_sorted[k];
        }
    }
    return NULL;
}

/* Words in class and id values that mark page furniture, matched inside
 * the lower-cased value; the short ones only as a part of a class name
 * between '-', '_' or spaces, and the shortest ("tag", "date": WordPress
 * puts "tag-foo" on every article) only as a whole class name. */
static const char *const neg_words[] = {
    "comment",   "sharing",    "social",       "related",     "newsletter", "subscri",
    "cookie",    "consent",    "gdpr",         "advert",      "promo",      "sponsor",
    "sidebar",   "breadcrumb", "footer",       "masthead",    "navbar",     "navigation",
    "popup",     "modal",      "recommend",    "trending",    "outbrain",   "taboola",
    "disqus",    "byline",     "author",       "caption",     "signup",     "sign-up",
    "toolbar",   "widget",     "most-popular", "mostpopular", "read-more",  "readmore",
    "more-from", "also-like",  "paywall",      "banner",      "skip",       "dateline",
    "timestamp", "credit",     "follow",       "login",       NULL};
static const char *const neg_parts[] = {"ad",   "ads",   "nav",   "menu", "share",
                                        "rail", "aside", "tools", "meta", NULL};
static const char *const neg_whole[] = {"tag", "tags", "date", "time", "pub", NULL};
static const char *const pos_words[] = {"article", "content", "entry", "post-body", "story",
                                        "text",    "body",    "main",  "blog",      NULL};

/* The four lists above in one table sorted by first byte, so that
 * hint_of reads a value once and tries at each byte only the words that
 * start with it (about 60 strstr/scans per value before: a tenth of
 * px_html's time). The answer is the same as searching each list in turn:
 * any furniture word wins, then any content word. */
enum { W_ANY, W_PART, W_WHOLE, W_POS };

typedef struct hint_word {
    const char *w;
    uint8_t len, kind;
} hint_word;

static hint_word hint_sorted[128];
static struct {
    uint8_t start, count;
} hint_index[256];
static pthread_once_t hint_once = PTHREAD_ONCE_INIT;

static void hint_index_init(void)
{
    const char *const *lists[] = {neg_words, neg_parts, neg_whole, pos_words};
    size_t n = 0;
    for (int c = 0; c < 256; c++) {
        hint_index[c].start = (uint8_t)n;
        for (uint8_t k = 0; k < 4; k++) {
            for (int i = 0; lists[k][i] != NULL; i++) {
                if ((unsigned char)lists[k][i][0] == c &&
                    n < sizeof(hint_sorted) / sizeof(hint_sorted[0])) {
                    hint_sorted[n].w = lists[k][i];
                    hint_sorted[n].len = (uint8_t)strlen(lists[k][i]);
                    hint_sorted[n].kind = k;
                    n++;
                }
            }
        }
        hint_index[c].count = (uint8_t)(n - hint_index[c].start);
    }
}

/* -1 furniture, +1 content, 0 neither, from one class or id value: a word
 * of neg_words anywhere in the lower-cased value; one of neg_parts between
 * delimiters (any non-alphanumeric byte, or an end); one of neg_whole
 * between white space (or an end); else one of pos_words anywhere. */
static int hint_of(const char *value)
{
    char v[256];
    size_t n = 0;
    int pos = 0;
    pthread_once(&hint_once, hint_index_init);
    for (; value[n] != '\0' && n < sizeof(v) - 1; n++) {
        v[n] = (char)tolower((unsigned char)value[n]);
    }
    for (size_t i = 0; i < n; i++) {
        unsigned c = (unsigned char)v[i];
        for (unsigned k = hint_index[c].start; k < hint_index[c].start + hint_index[c].count; k++) {
            const hint_word *w = &hint_sorted[k];
            size_t j = 1;
            if (i + w->len > n) {
                continue;
            }
            while (j < w->len && v[i + j] == w->w[j]) {
                j++;
            }
            if (j < w->len) {
                continue;
            }
            if (w->kind == W_ANY) {
                return -1;
            }
            if (w->kind == W_POS) {
                pos = 1;
                continue;
            }
            {
                unsigned char before = i == 0 ? ' ' : (unsigned char)v[i - 1];
                unsigned char after = i + w->len == n ? ' ' : (unsigned char)v[i + w->len];
                if (w->kind == W_WHOLE ? (isspace(before) && isspace(after))
                                       : (!isalnum(before) && !isalnum(after))) {
                    return -1;
                }
            }
        }
    }
    return pos;
}

#define PX_HIDDEN (-100) /* not rendered: display:none, hidden, aria-hidden */

static int8_t element_hint(const xmlNode *n)
{
    int h = 0;
    for (const xmlAttr *a = n->properties; a != NULL; a = a->next) {
        const char *an = (const char *)a->name;
        if (a->children == NULL || a->children->content == NULL) {
            continue;
        }
        /* most attributes are none of these (data-*, href, src...): the
         * first byte rules them out before any strcmp */
        if (an[0] != 'c' && an[0] != 'i' && an[0] != 'r' && an[0] != 's' && an[0] != 'h' &&
            an[0] != 'a') {
            continue;
        }
        if (strcmp(an, "class") == 0 || strcmp(an, "id") == 0) {
            int x = hint_of((const char *)a->children->content);
            if (x < 0) {
                return -1;
            }
            if (x > 0) {
                h = 1;
            }
        } else if (strcmp(an, "itemprop") == 0 &&
                   strcmp((const char *)a->children->content, "articleBody") == 0) {
            h = 2;
        } else if (strcmp(an, "role") == 0) {
            const char *r = (const char *)a->children->content;
            if (strcmp(r, "navigation") == 0 || strcmp(r, "complementary") == 0 ||
                strcmp(r, "banner") == 0 || strcmp(r, "contentinfo") == 0 ||
                strcmp(r, "dialog") == 0 || strcmp(r, "alert") == 0) {
                return -1;
            }
        } else if (strcmp(an, "style") == 0) {
            const char *v = (const char *)a->children->content;
            if (strstr(v, "display:none") != NULL || strstr(v, "display: none") != NULL ||
                strstr(v, "visibility:hidden") != NULL || strstr(v, "visibility: hidden") != NULL) {
                return PX_HIDDEN;
            }
        } else if (strcmp(an, "hidden") == 0 ||
                   (strcmp(an, "aria-hidden") == 0 &&
                    strcmp((const char *)a->children->content, "true") == 0)) {
            return PX_HIDDEN;
        }
    }
    return (int8_t)h;
}

/* Visible non-space characters (UTF-8 lead bytes) of a text node. */
static uint32_t visible_len(const xmlChar *s)
{
    uint32_t n = 0;
    for (; *s != '\0'; s++) {
        unsigned char c = *s;
        if (c > ' ' && (c & 0xC0) != 0x80) {
            n++;
        }
    }
    return n;
}

#define PX_MIN_PARA 30      /* characters for a block's own text to count as a paragraph */
#define PX_CARD_LINK_PCT 10 /* link share of a teaser */
#define PX_CARD_MAX 1000    /* characters of a teaser at most */
#define PX_ROOT_KEEP 0.9    /* share of the root's score a child needs to replace it */
#define PX_MIN_ARTICLE 120  /* good characters below which a page is not an article */

static px_stat *stat_of(px_stat *st, const xmlNode *n)
{
    uintptr_t i = (uintptr_t)n->_private;
    return i == 0 ? NULL : &st[i - 1];
}

/* Pass 1. Returns the stats array (one per element under body, indexed by
 * _private - 1), or NULL if out of memory. */
static px_stat *compute_stats(xmlNode *body, size_t *count)
{
    size_t cap = 1024, used = 0;
    px_stat *st = malloc(cap * sizeof(*st));
    xmlNode *n = body;

    if (st == NULL) {
        return NULL;
    }
    for (;;) {
        int descend = 0;
        if (n->type == XML_ELEMENT_NODE) {
            const px_tags *t = tag_lookup((const char *)n->name);
            px_stat *ps = n == body ? NULL : stat_of(st, n->parent);
            px_stat *s;
            if (used == cap) {
                px_stat *grown = realloc(st, 2 * cap * sizeof(*st));
                if (grown == NULL) {
                    free(st);
                    return NULL;
                }
                st = grown;
                cap *= 2;
                ps = n == body ? NULL : stat_of(st, n->parent);
            }
            s = &st[used];
            memset(s, 0, sizeof(*s));
            n->_private = (void *)(uintptr_t)(used + 1);
            s->kind = t != NULL ? t->kind : K_INLINE;
            s->flags = t != NULL ? t->flags : 0;
            s->in_link = (ps != NULL && ps->in_link) || (s->flags & F_LINK);
            s->blk = s->kind == K_BLOCK || n == body ? (int32_t)used : (ps != NULL ? ps->blk : -1);
            s->hint = s->kind == K_SKIP ? 0 : element_hint(n);
            if (s->hint == PX_HIDDEN) {
                s->kind = K_SKIP;
                s->hint = 0;
            }
            s->in_neg = (ps != NULL && ps->in_neg) || s->hint < 0 || (s->flags & F_SOFT);
            used++;
            descend = s->kind != K_SKIP && n->children != NULL;
        } else if ((n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) &&
                   n->content != NULL && n->parent != NULL) {
            px_stat *ps = stat_of(st, n->parent);
            if (ps != NULL) {
                uint32_t len = visible_len(n->content);
                ps->text += len;
                if (ps->in_link) {
                    ps->link += len;
                }
                if (ps->blk >= 0) {
                    st[ps->blk].own += len;
                    if (ps->in_link) {
                        st[ps->blk].own_link += len;
                    }
                }
            }
        }
        if (descend) {
            n = n->children;
            continue;
        }
        /* ascend: finish every element left, adding its totals to its parent */
        while (n != body && n->next == NULL) {
            n = n->parent;
            px_stat *s = stat_of(st, n);
            if (s->kind == K_BLOCK && s->own >= PX_MIN_PARA && s->own_link * 2 < s->own) {
                s->good += s->own - s->own_link;
            }
            if (s->kind == K_BLOCK && (s->flags & F_HEAD) && s->link * 2 > s->text) {
                s->link_head = 1;
            }
            /* A run of teasers (each a linked heading plus a little text,
             * like the items of a related-stories or more-news list) is
             * furniture, however long their summaries. */
            if (s->nchild >= 3 && s->ncard * 10 >= s->nchild * 6 && s->hint >= 0) {
                s->hint = -1;
            }
            if (n != body) {
                /* furniture by name or class makes no ancestor look like the
                 * article, though it can still be the root itself */
                px_stat *ps = stat_of(st, n->parent);
                ps->text += s->text;
                ps->link += s->link;
                ps->link_head |= s->link_head;
                if (s->text > 0 && s->kind != K_SKIP && ps->nchild < UINT16_MAX) {
                    ps->nchild++;
                    if (s->link_head && s->link * 100 >= s->text * PX_CARD_LINK_PCT &&
                        s->text < PX_CARD_MAX) {
                        ps->ncard++;
                    }
                }
                if (s->hint >= 0 && !(s->flags & F_SOFT)) {
                    ps->good += s->good;
                }
            }
        }
        if (n == body) {
            break;
        }
        n = n->next;
    }
    *count = used;
    return st;
}

static double root_score(const px_stat *s)
{
    double score = (double)s->good - 0.3 * (double)(s->text - s->good);
    /* a comment or a teaser is the root only when nothing else is */
    return s->in_neg ? score * 0.1 : score;
}

/* The element under body with the best good text minus a share of the
 * rest; then, while one child holds nearly all of that score, the child:
 * the smallest container of the article, so that a stray line beside it
 * (a copyright notice, a box) does not pull its whole column in. */
static xmlNode *pick_root(xmlNode *body, px_stat *st)
{
    xmlNode *best = body, *n = body;
    double best_score = -1e18;
    for (;;) {
        int descend = 0;
        if (n->type == XML_ELEMENT_NODE) {
            px_stat *s = stat_of(st, n);
            if (s != NULL && s->kind != K_SKIP) {
                double score = root_score(s);
                if (score > best_score) {
                    best_score = score;
                    best = n;
                }
                descend = n->children != NULL;
            }
        }
        if (descend) {
            n = n->children;
            continue;
        }
        while (n != body && n->next == NULL) {
            n = n->parent;
        }
        if (n == body) {
            break;
        }
        n = n->next;
    }
    for (;;) {
        xmlNode *next = NULL;
        double next_score = -1e18;
        for (xmlNode *c = best->children; c != NULL; c = c->next) {
            px_stat *s = c->type == XML_ELEMENT_NODE ? stat_of(st, c) : NULL;
            if (s != NULL && s->kind != K_SKIP && root_score(s) > next_score) {
                next_score = root_score(s);
                next = c;
            }
        }
        if (next == NULL || best_score <= 0 || next_score < PX_ROOT_KEEP * best_score) {
            return best;
        }
        best = next;
        best_score = next_score;
    }
}

/* 1 if the element's subtree is furniture inside the content root. */
static int drop_element(const px_stat *s, const px_stat *root)
{
    if (s->kind == K_SKIP) {
        return 1;
    }
    if (s->flags & F_TITLE) {
        return 1;
    }
    /* holds most of the article: never furniture, whatever its name */
    if (s->good * 2 > root->good) {
        return 0;
    }
    if (s->hint < 0 || (s->flags & (F_SOFT | F_CAPTION))) {
        return 1;
    }
    if (s->text > 0 && s->kind == K_BLOCK && s->link * 2 > s->text) {
        return 1;
    }
    /* a short block that is not a paragraph: a label, a date, a credit */
    if (s->kind == K_BLOCK && !(s->flags & F_PARA) && s->good == 0 && s->text < PX_MIN_PARA) {
        return 1;
    }
    return 0;
}

static int is_block_kind(const px_stat *s)
{
    return s != NULL && (s->kind == K_BLOCK || s->kind == K_BR);
}

/* Pass 2: the root's text in reading order, one paragraph a line. */
static int write_text(xmlNode *root, px_stat *st, nl_buf *text)
{
    const px_stat *rs = stat_of(st, root);
    xmlNode *n = root->children;
    int sep = 0, rc = 0;

    while (n != NULL && rc == 0) {
        int descend = 0;
        if (n->type == XML_ELEMENT_NODE) {
            const px_stat *s = stat_of(st, n);
            if (s != NULL && !drop_element(s, rs)) {
                if (is_block_kind(s)) {
                    sep = 1;
                } else if (s->kind == K_CELL && text->len > 0 && !sep) {
                    rc = append_text(text, " ", &sep);
                }
                descend = n->children != NULL;
            }
        } else if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
            if (n->content != NULL) {
                rc = append_text(text, (const char *)n->content, &sep);
            }
        }
        if (descend) {
            n = n->children;
            continue;
        }
        while (n != NULL && n != root && n->next == NULL) {
            n = n->parent;
            if (n != NULL && n->type == XML_ELEMENT_NODE && is_block_kind(stat_of(st, n))) {
                sep = 1;
            }
        }
        if (n == NULL || n == root) {
            break;
        }
        n = n->next;
    }
    return rc;
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

/* ---- a lighter parse --------------------------------------------------
 *
 * Script and style contents are more than half the bytes of today's pages
 * (55% of the benchmark's), and libxml2 reads them a character at a time
 * (htmlParseScript). Nothing px_html outputs depends on them but JSON-LD:
 * the extractor skips script and style, and the metadata reads only
 * JSON-LD scripts and text outside script and style. So for a body known
 * to be UTF-8, strip_raw_text removes those contents before the parse,
 * where it can be sure how libxml2 2.9.14 tokenizes the markup around
 * them, and the tree is the same but for the missing script and style
 * text.
 *
 * Sure means: a scan of the markup that follows libxml2 on the simple
 * forms (start tags with well-formed attributes, end tags, "<!--" comments
 * ended by "-->", a doctype without quoted '>') and stops removing at the
 * first thing it does not model ('<' followed by anything else, "<!" or
 * "<?" otherwise, an attribute name libxml2 would reject, a quote in an
 * unquoted value, "--!>" in a comment, a script whose content starts with
 * '<' or does not end with "</script" plus space or '>', invalid UTF-8 or a
 * NUL in what would be removed, a NUL anywhere). The rest of the page is
 * then parsed as it is. The fuzz target parses every input both ways and
 * requires the same px_doc. */

static int html_blank(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r'; /* libxml2's IS_BLANK_CH */
}

static int ascii_letter(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Length of the tag or attribute name at p as libxml2's htmlParseHTMLName
 * reads it (a letter, then letters, digits, ':', '-', '_', '.'), or 0 if
 * there is none, it starts otherwise, or it is too long for libxml2 to
 * read whole. */
static size_t html_name_len(const unsigned char *p, const unsigned char *end)
{
    size_t n = 0;
    if (p >= end || !ascii_letter(*p)) {
        return 0;
    }
    while (p + n < end && (ascii_letter(p[n]) || (p[n] >= '0' && p[n] <= '9') || p[n] == ':' ||
                           p[n] == '-' || p[n] == '_' || p[n] == '.')) {
        n++;
    }
    return n < 90 ? n : 0;
}

/* The attributes of a start tag from p (just after its name) to its end:
 * the '>' (or the '/' of "/>", *self_close 1), or NULL if they are not of
 * the forms modelled. */
static const unsigned char *scan_attrs(const unsigned char *p, const unsigned char *end,
                                       int *self_close)
{
    for (;;) {
        size_t n;
        while (p < end && html_blank(*p)) {
            p++;
        }
        if (p >= end) {
            return NULL;
        }
        if (*p == '>' || (*p == '/' && p + 1 < end && p[1] == '>')) {
            *self_close = *p == '/';
            return p;
        }
        n = html_name_len(p, end);
        if (n == 0) {
            return NULL;
        }
        p += n;
        while (p < end && html_blank(*p)) {
            p++;
        }
        if (p >= end || *p != '=') {
            continue;
        }
        p++;
        while (p < end && html_blank(*p)) {
            p++;
        }
        if (p >= end) {
            return NULL;
        }
        if (*p == '"' || *p == '\'') {
            const unsigned char *q = memchr(p + 1, *p, (size_t)(end - p - 1));
            if (q == NULL) {
                return NULL;
            }
            p = q + 1;
            continue;
        }
        while (p < end && !html_blank(*p) && *p != '>') {
            if (*p == '"' || *p == '\'' || *p == '<' || *p == '=' || *p == '`') {
                return NULL;
            }
            p++;
        }
    }
}

/* Where libxml2 ends the content of a script or style element whose
 * content starts at p: the first "</" + name (any case), which must be
 * followed by a blank or '>'; NULL otherwise. */
static const unsigned char *raw_text_end(const unsigned char *p, const unsigned char *end,
                                         const unsigned char *name, size_t n)
{
    for (;;) {
        const unsigned char *lt = memmem(p, (size_t)(end - p), "</", 2);
        if (lt == NULL) {
            return NULL;
        }
        if ((size_t)(end - lt) >= n + 3 &&
            strncasecmp((const char *)lt + 2, (const char *)name, n) == 0) {
            unsigned char after = lt[2 + n];
            return after == '>' || html_blank(after) ? lt : NULL;
        }
        p = lt + 2;
    }
}

/* A copy of buf[0..len) (UTF-8) without the contents of its <script> and
 * <style> elements, JSON-LD scripts kept, allocated with xmlMalloc; NULL
 * if nothing was removed (or no memory: the page is then parsed as is). */
static char *strip_raw_text(const char *buf, size_t len, size_t *out_len)
{
    const unsigned char *s = (const unsigned char *)buf, *end = s + len, *p = s, *copied = s;
    char *out = NULL;
    size_t o = 0;

    if (memchr(buf, '\0', len) != NULL) {
        return NULL;
    }
    while (p < end) {
        const unsigned char *lt = memchr(p, '<', (size_t)(end - p));
        unsigned char c1;
        if (lt == NULL || lt + 1 >= end) {
            break;
        }
        c1 = lt[1];
        if (ascii_letter(c1)) {
            size_t n = html_name_len(lt + 1, end);
            int self_close = 0;
            const unsigned char *gt = n > 0 ? scan_attrs(lt + 1 + n, end, &self_close) : NULL;
            const unsigned char *body, *stop;
            if (gt == NULL) {
                break;
            }
            p = gt + (self_close ? 2 : 1);
            if (self_close || !((n == 6 && strncasecmp((const char *)lt + 1, "script", 6) == 0) ||
                                (n == 5 && strncasecmp((const char *)lt + 1, "style", 5) == 0))) {
                continue;
            }
            body = p;
            stop = raw_text_end(body, end, lt + 1, n);
            if (stop == NULL || (stop > body && *body == '<')) {
                break;
            }
            if (stop > body && memmem(lt, (size_t)(gt - lt), "ld+json", 7) == NULL &&
                memmem(lt, (size_t)(gt - lt), "LD+JSON", 7) == NULL) {
                if (!nl_utf8_valid((const char *)body, (size_t)(stop - body))) {
                    break;
                }
                if (out == NULL) {
                    out = xmlMalloc(len + 1);
                    if (out == NULL) {
                        return NULL;
                    }
                }
                memcpy(out + o, copied, (size_t)(body - copied));
                o += (size_t)(body - copied);
                copied = stop;
            }
            p = stop;
        } else if (c1 == '/') {
            size_t n = html_name_len(lt + 2, end);
            const unsigned char *gt =
                n > 0 ? memchr(lt + 2 + n, '>', (size_t)(end - (lt + 2 + n))) : NULL;
            if (gt == NULL) {
                break;
            }
            p = gt + 1;
        } else if (c1 == '!' && end - lt >= 4 && memcmp(lt, "<!--", 4) == 0) {
            const unsigned char *e = memmem(lt + 4, (size_t)(end - lt - 4), "-->", 3);
            const unsigned char *bang =
                e != NULL ? memmem(lt + 4, (size_t)(e + 3 - (lt + 4)), "--!>", 4) : NULL;
            if (e == NULL || bang != NULL) {
                break;
            }
            p = e + 3;
        } else if (c1 == '!' && end - lt >= 9 &&
                   strncasecmp((const char *)lt + 2, "doctype", 7) == 0) {
            const unsigned char *gt = memchr(lt, '>', (size_t)(end - lt));
            size_t dq = 0, sq = 0;
            if (gt == NULL) {
                break;
            }
            for (const unsigned char *q = lt; q < gt; q++) {
                dq += *q == '"';
                sq += *q == '\'';
            }
            if (dq % 2 != 0 || sq % 2 != 0) {
                break;
            }
            p = gt + 1;
        } else {
            break;
        }
    }
    if (out == NULL) {
        return NULL;
    }
    memcpy(out + o, copied, (size_t)(end - copied));
    o += (size_t)(end - copied);
    out[o] = '\0';
    *out_len = o;
    return out;
}

/* encoding NULL: libxml2 decides (BOM, <meta>, else windows-1252-ish
 * latin1); "UTF-8": the bytes are UTF-8 and any <meta charset> is ignored.
 * Runs inside an arena window (xmlarena.h): what it keeps is copied with
 * libc malloc, and the tree is freed before the window closes. */
static int html_read_tree(const char *buf, size_t len, const char *url, const char *encoding,
                          px_doc *doc, char *errbuf, size_t errlen)
{
    const int opts = HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                     HTML_PARSE_NONET | HTML_PARSE_NOIMPLIED | XML_PARSE_HUGE |
                     (encoding != NULL ? HTML_PARSE_IGNORE_ENC : 0);
    htmlDocPtr hd;
    xmlNode *root, *body, *content = NULL;
    px_stat *st = NULL;
    size_t count = 0;
    nl_buf text;
    int rc = 0;

    memset(doc, 0, sizeof(*doc));
    if (len > (size_t)INT32_MAX) {
        return nl_errf(errbuf, errlen, NL_ETOOBIG, "page of %zu bytes is too large", len);
    }
    if (encoding != NULL && px_strip_raw) {
        /* UTF-8 known: script and style contents need not be parsed */
        size_t light_len;
        char *light = strip_raw_text(buf, len, &light_len);
        if (light != NULL) {
            buf = light;
            len = light_len;
        }
    }
    hd = htmlReadMemory(buf, (int)len, url, encoding, opts);
    root = hd != NULL ? xmlDocGetRootElement(hd) : NULL;
    if (root == NULL) {
        if (hd != NULL) {
            px_arena_free_doc(hd);
        }
        return nl_errf(errbuf, errlen, NL_EINVAL, "no HTML document could be parsed");
    }
    body = find_first(root, "body");
    if (body == NULL) {
        body = root;
    }
    /* The text is UTF-8 from libxml2: a legacy-charset byte can become 3
     * bytes (and an entity or a replaced byte as many), so the input's
     * length is no cap; 4x is, with room for the line breaks. */
    nl_buf_init(&text, len * 4 + 64);
    st = compute_stats(body, &count);
    if (st == NULL) {
        rc = NL_ENOMEM;
    } else {
        content = pick_root(body, st);
#ifdef PX_DEBUG
        if (getenv("PX_DEBUG") != NULL) {
            for (xmlNode *d = content; d != NULL && d->type == XML_ELEMENT_NODE; d = d->parent) {
                px_stat *ds = stat_of(st, d);
                xmlChar *cl = xmlGetProp(d, (const xmlChar *)"class");
                fprintf(stderr, "root<- %s class=%.60s text=%u link=%u good=%u hint=%d\n", d->name,
                        cl ? (char *)cl : "", ds ? ds->text : 0, ds ? ds->link : 0,
                        ds ? ds->good : 0, ds ? ds->hint : 0);
                xmlFree(cl);
                if (ds == NULL) {
                    break;
                }
            }
        }
#endif
        if (stat_of(st, content)->good < PX_MIN_ARTICLE) {
            doc->reason = "no_article_text";
        } else {
            rc = write_text(content, st, &text);
        }
    }
    /* the metadata from the same tree; content is still the article's root */
    if (rc == 0 && px_meta_html(hd, url, content, time(NULL), doc) != 0) {
        nl_buf_free(&text);
        free(st);
        px_arena_free_doc(hd);
        px_doc_free(doc);
        return nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
    }
    free(st);
    px_arena_free_doc(hd);
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
        if (t1 == NULL || t2 == NULL) {
            free(t1);
            free(t2);
            px_doc_free(doc);
            return nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
        }
        free(doc->title);
        free(doc->text);
        doc->title = t1;
        doc->title_len = l1;
        doc->text = t2;
        doc->text_len = l2;
    }
    return 0;
}

static int html_read(const char *buf, size_t len, const char *url, const char *encoding,
                     px_doc *doc, char *errbuf, size_t errlen)
{
    int rc;
    px_arena_begin();
    rc = html_read_tree(buf, len, url, encoding, doc, errbuf, errlen);
    px_arena_end();
    return rc;
}

int px_html(const char *buf, size_t len, const char *url, px_doc *doc, char *errbuf, size_t errlen)
{
    return html_read(buf, len, url, NULL, doc, errbuf, errlen);
}

int px_html_utf8(const char *buf, size_t len, const char *url, px_doc *doc, char *errbuf,
                 size_t errlen)
{
    return html_read(buf, len, url, "UTF-8", doc, errbuf, errlen);
}
