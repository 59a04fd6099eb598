#include "matcher.h"

#include "nl_buf.h"
#include "nl_err.h"

#include <ctype.h>
#include <hs/hs.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct mt_matcher {
    hs_database_t *db;
    hs_scratch_t *scratch;
    unsigned *group; /* per pattern */
    mt_hit *hits;
    size_t cap;
};

/* Separators a name's space or hyphen may be written as. */
#define SEP "(?:[ \\t\\-]|\\r?\\n|\\xc2\\xa0|\\xe2\\x80[\\x90\\x91])"
/* Straight or curly apostrophe. */
#define APOS "(?:'|\\xe2\\x80\\x99)"

static int all_caps(const char *s, size_t len)
{
    int letters = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (islower(c)) {
            return 0;
        }
        letters += isupper(c) != 0;
    }
    return letters > 0;
}

/* The Hyperscan expression of one name, into b. */
static int to_regex(const mt_pattern *p, nl_buf *b)
{
    const unsigned char *s = (const unsigned char *)p->text;
    int rc = 0;

    for (size_t i = 0; i < p->len && rc == 0; i++) {
        unsigned char c = s[i];
        if (c == ' ' || c == '-') {
            rc = nl_buf_append(b, SEP, strlen(SEP));
        } else if (c == 0xc2 && i + 1 < p->len && s[i + 1] == 0xa0) {
            rc = nl_buf_append(b, SEP, strlen(SEP));
            i += 1;
        } else if (c == 0xe2 && i + 2 < p->len && s[i + 1] == 0x80 &&
                   (s[i + 2] == 0x90 || s[i + 2] == 0x91)) {
            rc = nl_buf_append(b, SEP, strlen(SEP));
            i += 2;
        } else if (c == '\'') {
            rc = nl_buf_append(b, APOS, strlen(APOS));
        } else if (c == 0xe2 && i + 2 < p->len && s[i + 1] == 0x80 && s[i + 2] == 0x99) {
            rc = nl_buf_append(b, APOS, strlen(APOS));
            i += 2;
        } else if (isalnum(c)) {
            rc = nl_buf_append(b, &s[i], 1);
        } else {
            /* everything else literally, as an escaped byte */
            rc = nl_buf_appendf(b, "\\x%02x", c);
        }
    }
    return rc;
}

int mt_compile(const mt_pattern *patterns, size_t n, mt_matcher **out, char *errbuf, size_t errlen)
{
    char **exprs = NULL;
    unsigned *flags = NULL, *ids = NULL;
    hs_compile_error_t *cerr = NULL;
    mt_matcher *m = NULL;
    int rc = 0;

    *out = NULL;
    if (n == 0 || n > UINT32_MAX) {
        return nl_errf(errbuf, errlen, NL_EINVAL, "no names to match");
    }
    exprs = calloc(n, sizeof(*exprs));
    flags = calloc(n, sizeof(*flags));
    ids = calloc(n, sizeof(*ids));
    m = calloc(1, sizeof(*m));
    if (m != NULL) {
        m->group = calloc(n, sizeof(*m->group));
    }
    if (m == NULL || m->group == NULL || exprs == NULL || flags == NULL || ids == NULL ||
        m == NULL) {
        rc = nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        nl_buf b;
        nl_buf_init(&b, 65536);
        if (patterns[i].len == 0 || to_regex(&patterns[i], &b) != 0) {
            nl_buf_free(&b);
            rc = nl_errf(errbuf, errlen, NL_EINVAL, "name \"%.60s\" cannot be compiled",
                         patterns[i].text);
            goto out;
        }
        exprs[i] = nl_buf_steal(&b, NULL);
        flags[i] = HS_FLAG_SOM_LEFTMOST |
                   (all_caps(patterns[i].text, patterns[i].len) ? 0 : HS_FLAG_CASELESS);
        ids[i] = (unsigned)i;
        m->group[i] = patterns[i].group;
    }
    if (hs_compile_multi((const char *const *)exprs, flags, ids, (unsigned)n, HS_MODE_BLOCK, NULL,
                         &m->db, &cerr) != HS_SUCCESS) {
        rc = nl_errf(errbuf, errlen, NL_EINVAL, "name \"%.60s\": %s",
                     cerr->expression >= 0 ? patterns[cerr->expression].text : "?", cerr->message);
        hs_free_compile_error(cerr);
        goto out;
    }
    if (hs_alloc_scratch(m->db, &m->scratch) != HS_SUCCESS) {
        rc = nl_errf(errbuf, errlen, NL_ENOMEM, "cannot allocate Hyperscan scratch space");
        goto out;
    }
    *out = m;
    m = NULL;
out:
    if (exprs != NULL) {
        for (size_t i = 0; i < n; i++) {
            free(exprs[i]);
        }
    }
    free(exprs);
    free(flags);
    free(ids);
    mt_free(m);
    return rc;
}

void mt_free(mt_matcher *m)
{
    if (m == NULL) {
        return;
    }
    hs_free_scratch(m->scratch);
    hs_free_database(m->db);
    free(m->group);
    free(m->hits);
    free(m);
}

/* Decodes the code point at s; 0xfffd for a broken sequence. */
static uint32_t cp_at(const unsigned char *s, const unsigned char *end)
{
    size_t n = s[0] < 0x80 ? 1 : s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
    uint32_t cp;

    if (n == 1) {
        return s[0];
    }
    if ((size_t)(end - s) < n) {
        return 0xfffd;
    }
    cp = s[0] & (0x7f >> n);
    for (size_t i = 1; i < n; i++) {
        cp = cp << 6 | (s[i] & 0x3f);
    }
    return cp;
}

/* Letters and digits continue a word; punctuation, spaces and symbols
 * (ASCII, Latin-1 punctuation, General Punctuation, CJK punctuation) end it. */
static int is_word_cp(uint32_t cp)
{
    if (cp < 0x80) {
        return isalnum((int)cp);
    }
    /* C1 controls and Latin-1 punctuation and symbols, but for the
     * letters among them (ª µ º) */
    if ((cp <= 0xbf && cp != 0xaa && cp != 0xb5 && cp != 0xba) || cp == 0xd7 || cp == 0xf7) {
        return 0;
    }
    if ((cp >= 0x2000 && cp <= 0x206f) || (cp >= 0x3000 && cp <= 0x303f) || cp == 0xfeff ||
        cp == 0xfffd) {
        return 0;
    }
    return 1;
}

static int boundary_before(const unsigned char *text, size_t pos)
{
    size_t p = pos;
    if (pos == 0) {
        return 1;
    }
    do {
        p--;
    } while (p > 0 && (text[p] & 0xc0) == 0x80);
    return !is_word_cp(cp_at(text + p, text + pos));
}

static int boundary_after(const unsigned char *text, size_t pos, size_t len)
{
    return pos >= len || !is_word_cp(cp_at(text + pos, text + len));
}

struct scan {
    const unsigned char *text;
    size_t len;
    mt_hit *hits;
    size_t n, cap;
    int oom;
};

static int on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
                    void *ctx)
{
    struct scan *sc = ctx;
    (void)flags;
    if (!boundary_before(sc->text, (size_t)from) ||
        !boundary_after(sc->text, (size_t)to, sc->len)) {
        return 0;
    }
    if (sc->n == sc->cap) {
        size_t cap = sc->cap ? sc->cap * 2 : 64;
        mt_hit *h = realloc(sc->hits, cap * sizeof(*h));
        if (h == NULL) {
            sc->oom = 1;
            return 1; /* stop scanning */
        }
        sc->hits = h;
        sc->cap = cap;
    }
    sc->hits[sc->n++] = (mt_hit){(size_t)from, (size_t)to, id};
    return 0;
}

static const unsigned *sort_groups;

static int cmp_hit(const void *a, const void *b)
{
    const mt_hit *x = a, *y = b;
    if (x->start != y->start) {
        return x->start < y->start ? -1 : 1;
    }
    if (sort_groups[x->pattern] != sort_groups[y->pattern]) {
        return sort_groups[x->pattern] < sort_groups[y->pattern] ? -1 : 1;
    }
    if (x->end != y->end) {
        return x->end > y->end ? -1 : 1; /* longest first */
    }
    return x->pattern < y->pattern ? -1 : x->pattern > y->pattern;
}

int mt_scan(mt_matcher *m, const char *text, size_t len, const mt_hit **hits, size_t *n)
{
    struct scan sc = {(const unsigned char *)text, len, m->hits, 0, m->cap, 0};
    size_t kept = 0, last_end[MT_MAX_GROUPS] = {0};
    int any[MT_MAX_GROUPS] = {0};
    hs_error_t err;

    *hits = NULL;
    *n = 0;
    if (len > UINT32_MAX) {
        return NL_ETOOBIG;
    }
    err = hs_scan(m->db, len > 0 ? text : "", (unsigned)len, 0, m->scratch, on_match, &sc);
    m->hits = sc.hits;
    m->cap = sc.cap;
    if (sc.oom || (err != HS_SUCCESS && err != HS_SCAN_TERMINATED)) {
        return NL_ENOMEM;
    }
    /* leftmost-longest: "UN Security Council" leaves no "UN" inside it */
    if (sc.n > 1) {
        sort_groups = m->group;
        qsort(sc.hits, sc.n, sizeof(*sc.hits), cmp_hit);
    }
    for (size_t i = 0; i < sc.n; i++) {
        unsigned g = m->group[sc.hits[i].pattern];
        if (any[g] && sc.hits[i].start < last_end[g]) {
            continue;
        }
        sc.hits[kept++] = sc.hits[i];
        last_end[g] = sc.hits[i].end;
        any[g] = 1;
    }
    *hits = sc.hits;
    *n = kept;
    return 0;
}
