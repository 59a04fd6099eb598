#include "matcher.h"
#include "matcher_diag.h"

#include "nl_buf.h"
#include "nl_err.h"

#include <ctype.h>
#include <hs/hs.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* A point where the normalised text is shorter than the original: the
 * replacement byte at normalised offset pos stands for a multi-byte form
 * (\r\n, U+00A0, U+2010, U+2011, U+2019), and cum is the total shrink of
 * the text up to and including it. */
struct shrink {
    uint32_t pos, cum;
};

struct hitvec {
    mt_hit *v;
    size_t n, cap;
};

struct mt_matcher {
    /* The names that normalise exactly, as literals over the normalised
     * text; NULL if there are none. One literal per distinct (normalised
     * name, case rule, group): duplicates could only lose the tie to the
     * lowest pattern index, so only that one is compiled. */
    hs_database_t *db;
    hs_scratch_t *scratch;
    unsigned *lit_len;        /* per literal id: its length in normalised bytes */
    unsigned *lit_pattern;    /* per literal id: the pattern index it reports */
    unsigned char *lit_group; /* per literal id */
    /* Names normalisation cannot express exactly (a tab, \r or \n written
     * in the name, or invalid UTF-8), as expressions with all their
     * variants over the original text, the way every name was matched
     * before; NULL if there are none, as in any sane watchlist. */
    hs_database_t *raw_db;
    hs_scratch_t *raw_scratch;
    unsigned char *group; /* per pattern */

    /* Scan state, reused from scan to scan. */
    unsigned char *norm; /* the normalised text */
    size_t norm_cap, nlen;
    struct shrink *shr;
    size_t n_shr, shr_cap, cursor;
    const unsigned char *text; /* the original text */
    size_t len;
    struct hitvec cand[MT_MAX_GROUPS];
    struct hitvec out;
    int oom;
};

/* ---- normalisation ---------------------------------------------------- */

/* ASCII letters and digits: what continues a word among ASCII bytes. */
static const unsigned char ascii_word[128] = {
    ['0' ... '9'] = 1,
    ['A' ... 'Z'] = 1,
    ['a' ... 'z'] = 1,
};

static int push_shrink(mt_matcher *m, size_t pos, uint32_t cum)
{
    if (m->n_shr == m->shr_cap) {
        size_t cap = m->shr_cap ? m->shr_cap * 2 : 256;
        struct shrink *s = realloc(m->shr, cap * sizeof(*s));
        if (s == NULL) {
            return NL_ENOMEM;
        }
        m->shr = s;
        m->shr_cap = cap;
    }
    m->shr[m->n_shr++] = (struct shrink){(uint32_t)pos, cum};
    return 0;
}

/* One unit of text at s[*i]: writes its normalised byte at out[*j] and
 * advances both. A multi-byte form becomes one byte and a shrink point. */
static int norm_unit(mt_matcher *m, const unsigned char *s, size_t len, size_t *i, size_t *j,
                     uint32_t *cum)
{
    unsigned char c = s[*i], r = c == '\t' || c == '\n' || c == '-' ? ' ' : c;
    size_t unit = 1;

    if (c == '\r' && *i + 1 < len && s[*i + 1] == '\n') {
        r = ' ';
        unit = 2;
    } else if (c == 0xc2 && *i + 1 < len && s[*i + 1] == 0xa0) {
        r = ' ';
        unit = 2;
    } else if (c == 0xe2 && *i + 2 < len && s[*i + 1] == 0x80) {
        if (s[*i + 2] == 0x90 || s[*i + 2] == 0x91) {
            r = ' ';
            unit = 3;
        } else if (s[*i + 2] == 0x99) {
            r = '\'';
            unit = 3;
        }
    }
    m->norm[*j] = r;
    if (unit > 1) {
        *cum += (uint32_t)(unit - 1);
        if (push_shrink(m, *j, *cum) != 0) {
            return NL_ENOMEM;
        }
    }
    *i += unit;
    *j += 1;
    return 0;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
/* As the SSE2 loop of normalise, 32 bytes at a time, for the CPUs that have
 * AVX2 (checked at run time: the packages are built for plain x86-64). */
__attribute__((target("avx2"))) static int normalise_avx2(mt_matcher *m, const unsigned char *s,
                                                          size_t len, size_t *pi, size_t *pj,
                                                          uint32_t *cum)
{
    const __m256i tab = _mm256_set1_epi8('\t'), nl = _mm256_set1_epi8('\n');
    const __m256i hy = _mm256_set1_epi8('-'), sp = _mm256_set1_epi8(' ');
    const __m256i cr = _mm256_set1_epi8('\r'), c2 = _mm256_set1_epi8((char)0xc2);
    const __m256i e2 = _mm256_set1_epi8((char)0xe2);
    size_t i = *pi, j = *pj;
    int rc = 0;

    while (i + 32 <= len) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(s + i));
        __m256i sep =
            _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(v, tab), _mm256_cmpeq_epi8(v, nl)),
                            _mm256_cmpeq_epi8(v, hy));
        __m256i multi =
            _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(v, cr), _mm256_cmpeq_epi8(v, c2)),
                            _mm256_cmpeq_epi8(v, e2));
        unsigned mask = (unsigned)_mm256_movemask_epi8(multi);
        /* j <= i, so the 32 bytes fit below len */
        _mm256_storeu_si256((__m256i *)(m->norm + j), _mm256_blendv_epi8(v, sp, sep));
        if (mask == 0) {
            i += 32;
            j += 32;
            continue;
        }
        {
            unsigned k = (unsigned)__builtin_ctz(mask);
            i += k;
            j += k;
        }
        rc = norm_unit(m, s, len, &i, &j, cum);
        if (rc != 0) {
            break;
        }
    }
    *pi = i;
    *pj = j;
    return rc;
}
#endif

/* text[0..len) into m->norm[0..m->nlen), and the shrink points. Only \r,
 * 0xc2 and 0xe2 can start a multi-byte form; 32 or 16 bytes at a time go
 * through with their one-byte separators replaced until one of them
 * shows up. */
static int normalise(mt_matcher *m, const unsigned char *s, size_t len)
{
    size_t i = 0, j = 0;
    uint32_t cum = 0;

    m->n_shr = 0;
    m->cursor = 0;
    if (m->norm_cap < len + 16) {
        size_t cap = len + 16 > 2 * m->norm_cap ? len + 16 : 2 * m->norm_cap;
        unsigned char *p = malloc(cap);
        if (p == NULL) {
            return NL_ENOMEM;
        }
        free(m->norm);
        m->norm = p;
        m->norm_cap = cap;
    }
#if defined(__x86_64__) && defined(__GNUC__)
    if (__builtin_cpu_supports("avx2") && normalise_avx2(m, s, len, &i, &j, &cum) != 0) {
        return NL_ENOMEM;
    }
#endif
#ifdef __SSE2__
    {
        const __m128i tab = _mm_set1_epi8('\t'), nl = _mm_set1_epi8('\n');
        const __m128i hy = _mm_set1_epi8('-'), sp = _mm_set1_epi8(' ');
        const __m128i cr = _mm_set1_epi8('\r'), c2 = _mm_set1_epi8((char)0xc2);
        const __m128i e2 = _mm_set1_epi8((char)0xe2);
        while (i + 16 <= len) {
            __m128i v = _mm_loadu_si128((const __m128i *)(s + i));
            __m128i sep = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, tab), _mm_cmpeq_epi8(v, nl)),
                                       _mm_cmpeq_epi8(v, hy));
            __m128i multi = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, c2)),
                                         _mm_cmpeq_epi8(v, e2));
            unsigned mask = (unsigned)_mm_movemask_epi8(multi);
            /* j <= i, so the 16 bytes fit below len */
            _mm_storeu_si128((__m128i *)(m->norm + j),
                             _mm_or_si128(_mm_andnot_si128(sep, v), _mm_and_si128(sep, sp)));
            if (mask == 0) {
                i += 16;
                j += 16;
                continue;
            }
            {
                unsigned k = (unsigned)__builtin_ctz(mask);
                i += k;
                j += k;
            }
            if (norm_unit(m, s, len, &i, &j, &cum) != 0) {
                return NL_ENOMEM;
            }
        }
    }
#endif
    while (i < len) {
        if (norm_unit(m, s, len, &i, &j, &cum) != 0) {
            return NL_ENOMEM;
        }
    }
    m->nlen = j;
    return 0;
}

/* The original offset of normalised offset p: p plus the shrink of every
 * form before it. Hyperscan reports in order of end, so a cursor that
 * moves a few points either way finds it. */
static size_t orig_of(mt_matcher *m, size_t p)
{
    size_t k = m->cursor;
    while (k < m->n_shr && m->shr[k].pos < p) {
        k++;
    }
    while (k > 0 && m->shr[k - 1].pos >= p) {
        k--;
    }
    m->cursor = k;
    return p + (k > 0 ? m->shr[k - 1].cum : 0);
}

/* ---- names ------------------------------------------------------------ */

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

static int valid_utf8(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t n = c < 0x80             ? 1
                   : (c & 0xe0) == 0xc0 ? 2
                   : (c & 0xf0) == 0xe0 ? 3
                   : (c & 0xf8) == 0xf0 ? 4
                                        : 0;
        if (n == 0 || (n == 2 && c < 0xc2) || i + n > len) {
            return 0;
        }
        for (size_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xc0) != 0x80) {
                return 0;
            }
        }
        i += n;
    }
    return 1;
}

/* A name normalises exactly when matching its normalised form in the
 * normalised text finds what its expression (to_regex) finds in the
 * original: it holds no byte the text's normalisation changes other than
 * its own separators and apostrophes (tab, \r, \n are literal bytes in a
 * name), and, being valid UTF-8, cannot end or begin inside a multi-byte
 * form of the text. */
static int normalises_exactly(const mt_pattern *p)
{
    const unsigned char *s = (const unsigned char *)p->text;
    for (size_t i = 0; i < p->len; i++) {
        if (s[i] == '\t' || s[i] == '\r' || s[i] == '\n') {
            return 0;
        }
    }
    return valid_utf8(s, p->len);
}

/* The name's normalised form into out (at most p->len bytes); its length. */
static size_t normalise_name(const mt_pattern *p, unsigned char *out, int caseless)
{
    const unsigned char *s = (const unsigned char *)p->text;
    size_t j = 0;

    for (size_t i = 0; i < p->len; i++) {
        unsigned char c = s[i];
        if (c == ' ' || c == '-') {
            c = ' ';
        } else if (c == 0xc2 && i + 1 < p->len && s[i + 1] == 0xa0) {
            c = ' ';
            i += 1;
        } else if (c == 0xe2 && i + 2 < p->len && s[i + 1] == 0x80 &&
                   (s[i + 2] == 0x90 || s[i + 2] == 0x91)) {
            c = ' ';
            i += 2;
        } else if (c == 0xe2 && i + 2 < p->len && s[i + 1] == 0x80 && s[i + 2] == 0x99) {
            c = '\'';
            i += 2;
        } else if (caseless) {
            /* Hyperscan folds ASCII only; folding here too makes "Foo" and
             * "foo" one literal */
            c = (unsigned char)(c < 0x80 ? tolower(c) : c);
        }
        out[j++] = c;
    }
    return j;
}

/* Separators a name's space or hyphen may be written as. */
#define SEP "(?:[ \\t\\-]|\\r?\\n|\\xc2\\xa0|\\xe2\\x80[\\x90\\x91])"
/* Straight or curly apostrophe. */
#define APOS "(?:'|\\xe2\\x80\\x99)"

/* The Hyperscan expression of one name over the original text, into b:
 * for the names normalisation cannot express. */
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

struct lit {
    const unsigned char *s;
    size_t len;
    unsigned caseless, group, pattern;
};

static int cmp_lit(const void *a, const void *b)
{
    const struct lit *x = a, *y = b;
    int c;
    if (x->group != y->group) {
        return x->group < y->group ? -1 : 1;
    }
    if (x->caseless != y->caseless) {
        return x->caseless < y->caseless ? -1 : 1;
    }
    if (x->len != y->len) {
        return x->len < y->len ? -1 : 1;
    }
    c = memcmp(x->s, y->s, x->len);
    if (c != 0) {
        return c;
    }
    return x->pattern < y->pattern ? -1 : x->pattern > y->pattern;
}

/* The literal database of the names in lits[0..n) (sorted, duplicates
 * dropped here). */
static int compile_literals(mt_matcher *m, const mt_pattern *patterns, struct lit *lits, size_t n,
                            char *errbuf, size_t errlen)
{
    const char **exprs = NULL;
    unsigned *flags = NULL, *ids = NULL;
    size_t *lens = NULL, u = 0;
    hs_compile_error_t *cerr = NULL;
    int rc = 0;

    qsort(lits, n, sizeof(*lits), cmp_lit);
    for (size_t i = 0; i < n; i++) {
        if (u > 0 && lits[u - 1].group == lits[i].group &&
            lits[u - 1].caseless == lits[i].caseless && lits[u - 1].len == lits[i].len &&
            memcmp(lits[u - 1].s, lits[i].s, lits[i].len) == 0) {
            continue; /* the lower pattern index, sorted first, wins every tie */
        }
        lits[u++] = lits[i];
    }
    exprs = malloc(u * sizeof(*exprs));
    flags = malloc(u * sizeof(*flags));
    ids = malloc(u * sizeof(*ids));
    lens = malloc(u * sizeof(*lens));
    m->lit_len = malloc(u * sizeof(*m->lit_len));
    m->lit_pattern = malloc(u * sizeof(*m->lit_pattern));
    m->lit_group = malloc(u);
    if (exprs == NULL || flags == NULL || ids == NULL || lens == NULL || m->lit_len == NULL ||
        m->lit_pattern == NULL || m->lit_group == NULL) {
        rc = nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < u; i++) {
        exprs[i] = (const char *)lits[i].s;
        lens[i] = lits[i].len;
        flags[i] = lits[i].caseless ? HS_FLAG_CASELESS : 0;
        ids[i] = (unsigned)i;
        m->lit_len[i] = (unsigned)lits[i].len;
        m->lit_pattern[i] = lits[i].pattern;
        m->lit_group[i] = (unsigned char)lits[i].group;
    }
    if (hs_compile_lit_multi(exprs, flags, ids, lens, (unsigned)u, HS_MODE_BLOCK, NULL, &m->db,
                             &cerr) != HS_SUCCESS) {
        rc = nl_errf(errbuf, errlen, NL_EINVAL, "name \"%.60s\": %s",
                     cerr->expression >= 0 ? patterns[lits[cerr->expression].pattern].text : "?",
                     cerr->message);
        hs_free_compile_error(cerr);
        goto out;
    }
    if (hs_alloc_scratch(m->db, &m->scratch) != HS_SUCCESS) {
        rc = nl_errf(errbuf, errlen, NL_ENOMEM, "cannot allocate Hyperscan scratch space");
        goto out;
    }
out:
    free(exprs);
    free(flags);
    free(ids);
    free(lens);
    return rc;
}

/* The expression database of the names normalisation cannot express
 * (raw[0..n) are their pattern indices). */
static int compile_raw(mt_matcher *m, const mt_pattern *patterns, const unsigned *raw, size_t n,
                       char *errbuf, size_t errlen)
{
    char **exprs = calloc(n, sizeof(*exprs));
    unsigned *flags = calloc(n, sizeof(*flags));
    hs_compile_error_t *cerr = NULL;
    int rc = 0;

    if (exprs == NULL || flags == NULL) {
        rc = nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const mt_pattern *p = &patterns[raw[i]];
        nl_buf b;
        nl_buf_init(&b, 65536);
        if (to_regex(p, &b) != 0) {
            nl_buf_free(&b);
            rc = nl_errf(errbuf, errlen, NL_EINVAL, "name \"%.60s\" cannot be compiled", p->text);
            goto out;
        }
        exprs[i] = nl_buf_steal(&b, NULL);
        flags[i] = HS_FLAG_SOM_LEFTMOST | (all_caps(p->text, p->len) ? 0 : HS_FLAG_CASELESS);
    }
    if (hs_compile_multi((const char *const *)exprs, flags, raw, (unsigned)n, HS_MODE_BLOCK, NULL,
                         &m->raw_db, &cerr) != HS_SUCCESS) {
        rc = nl_errf(errbuf, errlen, NL_EINVAL, "name \"%.60s\": %s",
                     cerr->expression >= 0 ? patterns[raw[cerr->expression]].text : "?",
                     cerr->message);
        hs_free_compile_error(cerr);
        goto out;
    }
    if (hs_alloc_scratch(m->raw_db, &m->raw_scratch) != HS_SUCCESS) {
        rc = nl_errf(errbuf, errlen, NL_ENOMEM, "cannot allocate Hyperscan scratch space");
        goto out;
    }
out:
    if (exprs != NULL) {
        for (size_t i = 0; i < n; i++) {
            free(exprs[i]);
        }
    }
    free(exprs);
    free(flags);
    return rc;
}

int mt_compile(const mt_pattern *patterns, size_t n, mt_matcher **out, char *errbuf, size_t errlen)
{
    struct lit *lits = NULL;
    unsigned *raw = NULL;
    unsigned char *arena = NULL;
    size_t n_lits = 0, n_raw = 0, total = 0, used = 0;
    mt_matcher *m = NULL;
    int rc = 0;

    *out = NULL;
    if (n == 0 || n > UINT32_MAX) {
        return nl_errf(errbuf, errlen, NL_EINVAL, "no names to match");
    }
    for (size_t i = 0; i < n; i++) {
        if (patterns[i].len == 0 || patterns[i].len > UINT32_MAX) {
            return nl_errf(errbuf, errlen, NL_EINVAL, "name %zu: empty or too long", i);
        }
        if (patterns[i].group >= MT_MAX_GROUPS) {
            return nl_errf(errbuf, errlen, NL_EINVAL, "name \"%.60s\": group %u out of range",
                           patterns[i].text, patterns[i].group);
        }
        total += patterns[i].len;
    }
    m = calloc(1, sizeof(*m));
    lits = malloc(n * sizeof(*lits));
    raw = malloc(n * sizeof(*raw));
    arena = malloc(total);
    if (m == NULL || lits == NULL || raw == NULL || arena == NULL) {
        rc = nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
        goto out;
    }
    m->group = malloc(n);
    if (m->group == NULL) {
        rc = nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const mt_pattern *p = &patterns[i];
        m->group[i] = (unsigned char)p->group;
        if (!normalises_exactly(p)) {
            raw[n_raw++] = (unsigned)i;
            continue;
        }
        lits[n_lits].caseless = !all_caps(p->text, p->len);
        lits[n_lits].s = arena + used;
        lits[n_lits].len = normalise_name(p, arena + used, (int)lits[n_lits].caseless);
        lits[n_lits].group = p->group;
        lits[n_lits].pattern = (unsigned)i;
        used += lits[n_lits].len;
        n_lits++;
    }
    if (n_lits > 0) {
        rc = compile_literals(m, patterns, lits, n_lits, errbuf, errlen);
    }
    if (rc == 0 && n_raw > 0) {
        rc = compile_raw(m, patterns, raw, n_raw, errbuf, errlen);
    }
    if (rc != 0) {
        goto out;
    }
    *out = m;
    m = NULL;
out:
    free(lits);
    free(raw);
    free(arena);
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
    hs_free_scratch(m->raw_scratch);
    hs_free_database(m->raw_db);
    free(m->lit_len);
    free(m->lit_pattern);
    free(m->lit_group);
    free(m->group);
    free(m->norm);
    free(m->shr);
    for (int g = 0; g < MT_MAX_GROUPS; g++) {
        free(m->cand[g].v);
    }
    free(m->out.v);
    free(m);
}

/* ---- whole words ------------------------------------------------------ */

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
        return ascii_word[cp];
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

/* ---- scanning --------------------------------------------------------- */

static int push_hit(mt_matcher *m, unsigned group, size_t start, size_t end, unsigned pattern)
{
    struct hitvec *h = &m->cand[group];
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 256;
        mt_hit *v = realloc(h->v, cap * sizeof(*v));
        if (v == NULL) {
            m->oom = 1;
            return 1; /* stop scanning */
        }
        h->v = v;
        h->cap = cap;
    }
    h->v[h->n++] = (mt_hit){start, end, pattern};
    return 0;
}

/* A literal ending at normalised offset to. The whole-word checks are
 * those on the original text: an ASCII byte next to the match in the
 * normalised text is the original's neighbour, or a replacement for a form
 * that ends a word as it does, so it decides alone; anything else is
 * looked at in the original. */
static int on_literal(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
                      void *ctx)
{
    mt_matcher *m = ctx;
    size_t ne = (size_t)to, ns = ne - m->lit_len[id], start, end;
    int before_known = 1, after_known = 1;

    (void)from;
    (void)flags;
    if (ns > 0) {
        unsigned char c = m->norm[ns - 1];
        if (c < 0x80) {
            if (ascii_word[c]) {
                return 0;
            }
        } else {
            before_known = 0;
        }
    }
    if (ne < m->nlen) {
        unsigned char c = m->norm[ne];
        if (c < 0x80) {
            if (ascii_word[c]) {
                return 0;
            }
        } else {
            after_known = 0;
        }
    }
    if (m->n_shr == 0) {
        start = ns;
        end = ne;
    } else {
        start = orig_of(m, ns);
        end = orig_of(m, ne);
    }
    if ((!before_known && !boundary_before(m->text, start)) ||
        (!after_known && !boundary_after(m->text, end, m->len))) {
        return 0;
    }
    return push_hit(m, m->lit_group[id], start, end, m->lit_pattern[id]);
}

/* A match of a raw expression, in original offsets. */
static int on_raw(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
                  void *ctx)
{
    mt_matcher *m = ctx;
    (void)flags;
    if (!boundary_before(m->text, (size_t)from) || !boundary_after(m->text, (size_t)to, m->len)) {
        return 0;
    }
    return push_hit(m, m->group[id], (size_t)from, (size_t)to, id);
}

static int hit_before(const mt_hit *x, const mt_hit *y)
{
    if (x->start != y->start) {
        return x->start < y->start;
    }
    if (x->end != y->end) {
        return x->end > y->end; /* longest first */
    }
    return x->pattern < y->pattern;
}

static int cmp_hit(const void *a, const void *b)
{
    const mt_hit *x = a, *y = b;
    return hit_before(x, y) ? -1 : hit_before(y, x) ? 1 : 0;
}

/* Sorts h (start, longest first, lowest pattern) and keeps the leftmost-
 * longest hits that do not overlap. The literal hits arrive in order of
 * end, so they are out of order by start only within a name's length:
 * insertion sort; the raw ones arrive after them, for qsort. */
static void resolve(struct hitvec *h, int nearly_sorted)
{
    mt_hit *v = h->v;
    size_t kept = 0, last_end = 0;

    if (nearly_sorted) {
        for (size_t i = 1; i < h->n; i++) {
            mt_hit x = v[i];
            size_t k = i;
            while (k > 0 && hit_before(&x, &v[k - 1])) {
                v[k] = v[k - 1];
                k--;
            }
            v[k] = x;
        }
    } else if (h->n > 1) {
        qsort(v, h->n, sizeof(*v), cmp_hit);
    }
    /* leftmost-longest: "UN Security Council" leaves no "UN" inside it */
    for (size_t i = 0; i < h->n; i++) {
        if (kept > 0 && v[i].start < last_end) {
            continue;
        }
        v[kept++] = v[i];
        last_end = v[i].end;
    }
    h->n = kept;
}

/* Normalises text and runs the literal scan with cb. */
static int scan_literals(mt_matcher *m, const char *text, size_t len, match_event_handler cb,
                         void *ctx)
{
    hs_error_t err;

    if (len > UINT32_MAX) {
        return NL_ETOOBIG;
    }
    m->text = (const unsigned char *)text;
    m->len = len;
    m->oom = 0;
    if (normalise(m, m->text, len) != 0) {
        return NL_ENOMEM;
    }
    if (m->db == NULL) {
        return 0;
    }
    err = hs_scan(m->db, (const char *)m->norm, (unsigned)m->nlen, 0, m->scratch, cb, ctx);
    if (m->oom || (err != HS_SUCCESS && err != HS_SCAN_TERMINATED)) {
        return NL_ENOMEM;
    }
    return 0;
}

int mt_scan(mt_matcher *m, const char *text, size_t len, const mt_hit **hits, size_t *n)
{
    int rc;
    size_t total = 0;

    *hits = NULL;
    *n = 0;
    for (int g = 0; g < MT_MAX_GROUPS; g++) {
        m->cand[g].n = 0;
    }
    rc = scan_literals(m, text, len, on_literal, m);
    if (rc != 0) {
        return rc;
    }
    if (m->raw_db != NULL) {
        hs_error_t err =
            hs_scan(m->raw_db, len > 0 ? text : "", (unsigned)len, 0, m->raw_scratch, on_raw, m);
        if (m->oom || (err != HS_SUCCESS && err != HS_SCAN_TERMINATED)) {
            return NL_ENOMEM;
        }
    }
    for (int g = 0; g < MT_MAX_GROUPS; g++) {
        resolve(&m->cand[g], m->raw_db == NULL);
        total += m->cand[g].n;
    }
    /* one group with hits (the usual case): hand out its array as it is */
    for (int g = 0; g < MT_MAX_GROUPS; g++) {
        if (m->cand[g].n == total) {
            *hits = m->cand[g].v;
            *n = total;
            return 0;
        }
    }
    if (m->out.cap < total) {
        mt_hit *v = realloc(m->out.v, total * sizeof(*v));
        if (v == NULL) {
            return NL_ENOMEM;
        }
        m->out.v = v;
        m->out.cap = total;
    }
    {
        size_t at[MT_MAX_GROUPS] = {0};
        for (size_t k = 0; k < total; k++) {
            int best = -1;
            for (int g = 0; g < MT_MAX_GROUPS; g++) {
                if (at[g] < m->cand[g].n &&
                    (best < 0 || m->cand[g].v[at[g]].start < m->cand[best].v[at[best]].start)) {
                    best = g;
                }
            }
            m->out.v[k] = m->cand[best].v[at[best]++];
        }
    }
    *hits = m->out.v;
    *n = total;
    return 0;
}

/* ---- diagnostics ------------------------------------------------------ */

static int count_literal(unsigned id, unsigned long long from, unsigned long long to,
                         unsigned flags, void *ctx)
{
    (void)id;
    (void)from;
    (void)to;
    (void)flags;
    (*(size_t *)ctx)++;
    return 0;
}

int mt_diag_scan(mt_matcher *m, const char *text, size_t len, int stage, size_t *count)
{
    *count = 0;
    if (stage == MT_DIAG_NORMALISE) {
        if (len > UINT32_MAX) {
            return NL_ETOOBIG;
        }
        if (normalise(m, (const unsigned char *)text, len) != 0) {
            return NL_ENOMEM;
        }
        *count = m->nlen;
        return 0;
    }
    return scan_literals(m, text, len, count_literal, count);
}
