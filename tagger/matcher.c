#include "matcher.h"
#include "matcher_diag.h"

#include "nl_buf.h"
#include "nl_err.h"
#include "nl_text.h"

#include <ctype.h>
#include <hs/hs.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* One name, filed under the key of its first word. */
struct entry {
    /* The first 8 bytes of its first word (fewer, and zeros, if it is
     * shorter) as they load, and the bits to set in the text's bytes
     * before comparing them: 0x20 in each ASCII byte if it is caseless.
     * ASCII letters and digits are the only ASCII bytes of a word, and
     * setting the bit folds them exactly; bytes from 0x80 up are compared
     * as they are. */
    uint64_t head, fold;
    const unsigned char *name; /* normalised (normalise_name), in the matcher's arena */
    uint32_t len;              /* normalised bytes */
    uint32_t word_len;         /* bytes of its first word */
    uint32_t pattern;          /* index into the array given to mt_compile */
    unsigned char group, caseless;
};

/* A bucket of the key table: entries[first .. first + n) share the key.
 * The key is that of a name's first word, for the names of one word (and
 * maybe punctuation after it), or pair_key of its first two words for the
 * others. groups has bit g set when the bucket holds names of group g; a
 * first word's slot has bit g of multi set when names of group g of more
 * words begin with it (then it may hold no entry of its own). key 0 marks
 * an empty slot (word_key never returns 0). */
struct slot {
    uint64_t key;
    uint32_t first;
    uint32_t n : 28, groups : 2, multi : 2;
};

#define MT_MAX_ENTRIES ((1u << 28) - 1)
_Static_assert(MT_MAX_GROUPS <= 2, "struct slot has two bits of groups");

struct hitvec {
    mt_hit *v;
    size_t n, cap;
};

struct mt_matcher {
    /* The names that begin with a word, by the key of that word or of
     * their first two words (struct slot): a table of buckets (open
     * addressing, linear probing) and, in front of it, a filter of the
     * first words' keys, one bit each, small enough to stay in cache,
     * which turns away most words of a text with one load. In each
     * bucket, entries are ordered by group, then longest first, then
     * lowest pattern index, so the first that matches in a group is the
     * one leftmost-longest keeps.
     * One entry per distinct (normalised name, case rule, group):
     * duplicates could only lose the tie to the lowest pattern index. */
    struct slot *slots;
    uint64_t *seconds; /* per slot of a first word: bit k set when a name's
                          second word has a key whose top 6 bits are k */
    unsigned slot_bits;
    uint64_t *filter;
    unsigned filter_bits; /* log2 of the bits in the filter */
    struct entry *entries;
    size_t n_entries;
    unsigned char *arena; /* the entries' normalised names */
    /* Names the words cannot find (a tab, \r or \n written in the name,
     * invalid UTF-8, or a name that begins with a separator, an apostrophe
     * or other punctuation), as Hyperscan expressions with all their
     * variants over the original text; NULL if there are none, as in any
     * sane watchlist. */
    hs_database_t *raw_db;
    hs_scratch_t *raw_scratch;
    unsigned char *group; /* per pattern */

    /* Scan state, reused from scan to scan. */
    uint64_t *words; /* bit i of words[b]: byte 64 b + i belongs to a word */
    size_t words_cap;
    const unsigned char *text;
    size_t len;
    size_t last_end[MT_MAX_GROUPS]; /* of the last hit in each group; 0 with raw names */
    size_t next_p; /* a word whose key match_word made, its key and head (word_key) */
    uint64_t next_key, next_head;
    struct hitvec cand[MT_MAX_GROUPS];
    struct hitvec out;
    int oom;
};

/* ASCII letters and digits: what continues a word among ASCII bytes. */
static const unsigned char ascii_word[128] = {
    ['0' ... '9'] = 1,
    ['A' ... 'Z'] = 1,
    ['a' ... 'z'] = 1,
};

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

/* A name normalises exactly when comparing its normalised form with the
 * text unit by unit (see match_at) finds what its expression (to_regex)
 * finds: it holds no byte a separator or apostrophe of the text can be
 * written as other than its own separators and apostrophes (tab, \r, \n
 * are literal bytes in a name), and it is valid UTF-8 without NUL. */
static int normalises_exactly(const mt_pattern *p)
{
    const unsigned char *s = (const unsigned char *)p->text;
    for (size_t i = 0; i < p->len; i++) {
        if (s[i] == '\t' || s[i] == '\r' || s[i] == '\n') {
            return 0;
        }
    }
    return nl_utf8_valid(p->text, p->len);
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

/* ---- keys ------------------------------------------------------------- */

#define FOLD8 0x2020202020202020ULL

/* The first n (1..8, never 0) bytes at s as the low bytes of a word (in
 * memory order), read without passing end. */
static inline uint64_t load_tail(const unsigned char *s, size_t n, const unsigned char *end)
{
    uint64_t x = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (end - s >= 8) {
        memcpy(&x, s, 8);
        return x & (UINT64_MAX >> (64 - 8 * n));
    }
#endif
    (void)end;
    for (size_t i = 0; i < n && i < 8; i++) {
        x |= (uint64_t)s[i] << (8 * i);
    }
    return x;
}

/* The key of the word s[0..n), and in *head its first 8 bytes (fewer
 * and zeros, if it is shorter) as load_tail gives them: a hash of its
 * bytes with bit 0x20 set in each (its high bits are the well-mixed ones), so that ASCII letters of
 * either case give the same key. Other bytes may collide that way too, which only costs a
 * comparison: every candidate is compared byte by byte before it counts. Never 0. */
static inline uint64_t word_key(const unsigned char *s, size_t n, const unsigned char *end,
                                uint64_t *head)
{
    static const uint64_t mask[9] = {0,          0xff,         0xffff,         0xffffff,
                                     0xffffffff, 0xffffffffff, 0xffffffffffff, 0xffffffffffffff,
                                     UINT64_MAX};
    uint64_t h = 0, x;

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (n <= 8 && end - s >= 8) {
        /* nearly every word: one load, one mask */
        memcpy(&x, s, 8);
        *head = x & mask[n];
        return (((x | FOLD8) & mask[n]) * 0xc4ceb9fe1a85ec53ULL) | 1;
    }
#endif
    if (n > 8) {
        /* up to 8 bytes, the bytes alone tell words apart (a word holds no
         * NUL); past that, so do the length and the bytes together */
        h = (uint64_t)n * 0x9e3779b97f4a7c15ULL;
        *head = load_tail(s, 8, end);
        while (n > 8) {
            x = load_tail(s, 8, end);
            h = (h ^ (x | FOLD8)) * 0xff51afd7ed558ccdULL;
            h ^= h >> 32;
            s += 8;
            n -= 8;
        }
        x = load_tail(s, n, end);
    } else {
        x = load_tail(s, n, end);
        *head = x;
    }
    /* one multiply: its high bits, which every input bit reaches, index
     * the filter and the table */
    return ((h ^ (x | (FOLD8 & mask[n]))) * 0xc4ceb9fe1a85ec53ULL) | 1;
}

/* The key of a name's first two words, from theirs: both are mixed
 * already, so a rotation and an XOR keep the pair apart from its reverse
 * without another multiply on the scan's critical path. */
static inline uint64_t pair_key(uint64_t first, uint64_t second)
{
    return (first ^ (second << 17 | second >> 47)) | 1;
}

static inline int filter_has(const mt_matcher *m, uint64_t key)
{
    uint64_t bit = key >> (64 - m->filter_bits);
    return (int)(m->filter[bit >> 6] >> (bit & 63)) & 1;
}

/* The bucket of key, or NULL. */
static inline const struct slot *find_slot(const mt_matcher *m, uint64_t key)
{
    size_t mask = ((size_t)1 << m->slot_bits) - 1, i = (size_t)(key >> (64 - m->slot_bits));
    for (;;) {
        const struct slot *s = &m->slots[i];
        if (s->key == key) {
            return s;
        }
        if (s->key == 0) {
            return NULL;
        }
        i = (i + 1) & mask;
    }
}

/* ---- compiling -------------------------------------------------------- */

/* The bytes of the first word of the normalised name s[0..len) (valid
 * UTF-8): 0 when it begins with something else. */
static size_t first_word(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len && is_word_cp(cp_at(s + i, s + len))) {
        i += s[i] < 0x80 ? 1 : s[i] < 0xe0 ? 2 : s[i] < 0xf0 ? 3 : 4;
    }
    return i;
}

/* The second word of the normalised name s[0..len) after its first word
 * s[0..first): its offset, and in *n its bytes; 0 when there is none. */
static size_t second_word(const unsigned char *s, size_t len, size_t first, size_t *n)
{
    size_t i = first;
    while (i < len && !is_word_cp(cp_at(s + i, s + len))) {
        i += s[i] < 0x80 ? 1 : s[i] < 0xe0 ? 2 : s[i] < 0xf0 ? 3 : 4;
    }
    *n = i < len ? first_word(s + i, len - i) : 0;
    return *n > 0 ? i : 0;
}

struct keyed {
    struct entry e;
    uint64_t key;    /* its bucket's */
    uint64_t first;  /* its first word's */
    uint64_t second; /* its second word's, or 0 */
};

/* Same key, group, case rule and normalised name, then pattern index. */
static int cmp_identity(const void *a, const void *b)
{
    const struct keyed *x = a, *y = b;
    int c;
    if (x->key != y->key) {
        return x->key < y->key ? -1 : 1;
    }
    if (x->e.group != y->e.group) {
        return x->e.group < y->e.group ? -1 : 1;
    }
    if (x->e.caseless != y->e.caseless) {
        return x->e.caseless < y->e.caseless ? -1 : 1;
    }
    if (x->e.len != y->e.len) {
        return x->e.len < y->e.len ? -1 : 1;
    }
    c = memcmp(x->e.name, y->e.name, x->e.len);
    if (c != 0) {
        return c;
    }
    return x->e.pattern < y->e.pattern ? -1 : x->e.pattern > y->e.pattern;
}

/* The order of a bucket: key, group, longest first, lowest pattern. */
static int cmp_bucket(const void *a, const void *b)
{
    const struct keyed *x = a, *y = b;
    if (x->key != y->key) {
        return x->key < y->key ? -1 : 1;
    }
    if (x->e.group != y->e.group) {
        return x->e.group < y->e.group ? -1 : 1;
    }
    if (x->e.len != y->e.len) {
        return x->e.len > y->e.len ? -1 : 1;
    }
    return x->e.pattern < y->e.pattern ? -1 : x->e.pattern > y->e.pattern;
}

static unsigned bits_for(size_t n)
{
    unsigned b = 0;
    while (((size_t)1 << b) < n) {
        b++;
    }
    return b;
}

/* The slot of key, found or made (empty). */
static struct slot *slot_of(mt_matcher *m, uint64_t key)
{
    size_t mask = ((size_t)1 << m->slot_bits) - 1, k = (size_t)(key >> (64 - m->slot_bits));
    while (m->slots[k].key != key && m->slots[k].key != 0) {
        k = (k + 1) & mask;
    }
    m->slots[k].key = key;
    return &m->slots[k];
}

/* The key table and filter of v[0..n) (sorted and de-duplicated here). */
static int build_index(mt_matcher *m, struct keyed *v, size_t n, char *errbuf, size_t errlen)
{
    size_t u = 0, keys = 0;

    qsort(v, n, sizeof(*v), cmp_identity);
    for (size_t i = 0; i < n; i++) {
        if (u > 0 && v[u - 1].key == v[i].key && v[u - 1].e.group == v[i].e.group &&
            v[u - 1].e.caseless == v[i].e.caseless && v[u - 1].e.len == v[i].e.len &&
            memcmp(v[u - 1].e.name, v[i].e.name, v[i].e.len) == 0) {
            continue; /* the lower pattern index, sorted first, wins every tie */
        }
        v[u++] = v[i];
    }
    if (u > MT_MAX_ENTRIES) {
        return nl_errf(errbuf, errlen, NL_EINVAL, "more than %u distinct names", MT_MAX_ENTRIES);
    }
    qsort(v, u, sizeof(*v), cmp_bucket);
    for (size_t i = 0; i < u; i++) {
        /* a bucket each, and at most one first-word slot per entry */
        keys += (i == 0 || v[i].key != v[i - 1].key) + (v[i].key != v[i].first);
    }
    m->slot_bits = bits_for(2 * keys) < 6 ? 6 : bits_for(2 * keys);
    m->filter_bits = bits_for(16 * keys) < 12 ? 12 : bits_for(16 * keys);
    m->slots = calloc((size_t)1 << m->slot_bits, sizeof(*m->slots));
    m->seconds = calloc((size_t)1 << m->slot_bits, sizeof(*m->seconds));
    m->filter = calloc(((size_t)1 << m->filter_bits) / 64, sizeof(*m->filter));
    m->entries = malloc(u * sizeof(*m->entries));
    if (m->slots == NULL || m->seconds == NULL || m->filter == NULL || m->entries == NULL) {
        return nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < u; i++) {
        uint64_t bit = v[i].first >> (64 - m->filter_bits);
        struct slot *sl = slot_of(m, v[i].key);

        m->entries[i] = v[i].e;
        if (sl->n == 0) { /* entries of a key are contiguous */
            sl->first = (uint32_t)i;
        }
        sl->n++;
        sl->groups |= 1u << v[i].e.group;
        if (v[i].key != v[i].first) {
            struct slot *f = slot_of(m, v[i].first);
            f->multi |= 1u << v[i].e.group;
            m->seconds[f - m->slots] |= (uint64_t)1 << (v[i].second >> 58);
        }
        m->filter[bit >> 6] |= (uint64_t)1 << (bit & 63);
    }
    m->n_entries = u;
    return 0;
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
    struct keyed *keyed = NULL;
    unsigned *raw = NULL;
    size_t n_keyed = 0, n_raw = 0, total = 0, used = 0;
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
    keyed = malloc(n * sizeof(*keyed));
    raw = malloc(n * sizeof(*raw));
    if (m == NULL || keyed == NULL || raw == NULL) {
        rc = nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
        goto out;
    }
    m->arena = malloc(total);
    m->group = malloc(n);
    if (m->arena == NULL || m->group == NULL) {
        rc = nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const mt_pattern *p = &patterns[i];
        unsigned char *name = m->arena + used;
        int caseless = !all_caps(p->text, p->len);
        size_t len, word, second, second_len;
        uint64_t unused;

        m->group[i] = (unsigned char)p->group;
        if (!normalises_exactly(p)) {
            raw[n_raw++] = (unsigned)i;
            continue;
        }
        len = normalise_name(p, name, caseless);
        word = first_word(name, len);
        if (word == 0) {
            raw[n_raw++] = (unsigned)i;
            continue;
        }
        second = second_word(name, len, word, &second_len);
        keyed[n_keyed].e = (struct entry){0,
                                          0,
                                          name,
                                          (uint32_t)len,
                                          (uint32_t)word,
                                          (uint32_t)i,
                                          (unsigned char)p->group,
                                          (unsigned char)caseless};
        for (size_t k = 0; k < word && k < 8; k++) {
            keyed[n_keyed].e.head |= (uint64_t)name[k] << (8 * k);
            if (caseless && name[k] < 0x80) {
                keyed[n_keyed].e.fold |= (uint64_t)0x20 << (8 * k);
            }
        }
        keyed[n_keyed].first = word_key(name, word, name + len, &unused);
        keyed[n_keyed].second =
            second == 0 ? 0 : word_key(name + second, second_len, name + len, &unused);
        keyed[n_keyed].key = second == 0 ? keyed[n_keyed].first
                                         : pair_key(keyed[n_keyed].first, keyed[n_keyed].second);
        n_keyed++;
        used += len;
    }
    if (n_keyed > 0) {
        rc = build_index(m, keyed, n_keyed, errbuf, errlen);
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
    free(keyed);
    free(raw);
    mt_free(m);
    return rc;
}

void mt_free(mt_matcher *m)
{
    if (m == NULL) {
        return;
    }
    free(m->slots);
    free(m->seconds);
    free(m->filter);
    free(m->entries);
    free(m->arena);
    hs_free_scratch(m->raw_scratch);
    hs_free_database(m->raw_db);
    free(m->group);
    free(m->words);
    for (int g = 0; g < MT_MAX_GROUPS; g++) {
        free(m->cand[g].v);
    }
    free(m->out.v);
    free(m);
}

/* ---- the words of a text ---------------------------------------------- */

static inline unsigned ctz64(uint64_t x)
{
    return (unsigned)__builtin_ctzll(x);
}

/* The 64 bytes at s: a bit per byte that is an ASCII letter or digit or
 * not ASCII (the latter sorted out by fix_non_ascii); *high has a bit per
 * byte that is not ASCII, *lead one per byte that starts a multi-byte
 * form (0xc0 and up). */
static inline uint64_t classify64(const unsigned char *s, uint64_t *high, uint64_t *lead)
{
    uint64_t w = 0, h = 0, l = 0;
#ifdef __SSE2__
    const __m128i x20 = _mm_set1_epi8(0x20), a = _mm_set1_epi8('a' - 1), z = _mm_set1_epi8('z' + 1);
    const __m128i d0 = _mm_set1_epi8('0' - 1), d9 = _mm_set1_epi8('9' + 1);
    const __m128i cont = _mm_set1_epi8((char)0xbf);
    for (int i = 0; i < 4; i++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(s + 16 * i));
        __m128i lo = _mm_or_si128(v, x20);
        /* signed compares: bytes from 0x80 up are negative, never letters */
        __m128i alpha = _mm_and_si128(_mm_cmpgt_epi8(lo, a), _mm_cmpgt_epi8(z, lo));
        __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(v, d0), _mm_cmpgt_epi8(d9, v));
        w |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_or_si128(alpha, digit)) << (16 * i);
        h |= (uint64_t)(unsigned)_mm_movemask_epi8(v) << (16 * i);
        l |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpgt_epi8(v, cont)) << (16 * i);
    }
#else
    for (int i = 0; i < 64; i++) {
        unsigned char c = s[i];
        w |= (uint64_t)(c < 0x80 && ascii_word[c]) << i;
        h |= (uint64_t)(c >= 0x80) << i;
        l |= (uint64_t)(c >= 0xc0) << i;
    }
#endif
    *high = h;
    *lead = l & h;
    return w | h;
}

/* Clears in *w the bits of each multi-byte character of block b that is
 * not a letter or digit (is_word_cp: punctuation, spaces, symbols); lead
 * has a bit per byte of the block that starts one. The bytes of such a
 * character that fall in the next block go into *carry, for it to clear. */
static void fix_non_ascii(const unsigned char *s, size_t len, size_t b, uint64_t lead, uint64_t *w,
                          uint64_t *carry)
{
    while (lead != 0) {
        unsigned k = ctz64(lead);
        size_t p = 64 * b + k, n = s[p] < 0xe0 ? 2 : s[p] < 0xf0 ? 3 : 4;
        uint64_t bits;

        lead &= lead - 1;
        if (is_word_cp(cp_at(s + p, s + len))) {
            continue;
        }
        if (n > len - p) {
            n = len - p;
        }
        bits = ((uint64_t)1 << n) - 1;
        *w &= ~(bits << k);
        if (k + n > 64) {
            *carry |= bits >> (64 - k);
        }
    }
}

/* m->words for text s[0..len): bit i of words[b] is set when byte 64 b + i
 * belongs to a word (a letter or digit, ASCII or not); bits past len are
 * clear. */
static int word_bits(mt_matcher *m, const unsigned char *s, size_t len)
{
    size_t nblk = (len + 63) / 64, full = len / 64;
    uint64_t carry = 0, high, lead, w;

    if (m->words_cap < nblk) {
        size_t cap = nblk > 2 * m->words_cap ? nblk : 2 * m->words_cap;
        uint64_t *p = malloc(cap * sizeof(*p));
        if (p == NULL) {
            return NL_ENOMEM;
        }
        free(m->words);
        m->words = p;
        m->words_cap = cap;
    }
    for (size_t b = 0; b < nblk; b++) {
        if (b < full) {
            w = classify64(s + 64 * b, &high, &lead);
        } else {
            unsigned char last[64] = {0};
            memcpy(last, s + 64 * b, len - 64 * b);
            w = classify64(last, &high, &lead);
        }
        if (high != 0) {
            w &= ~carry;
            carry = 0;
            fix_non_ascii(s, len, b, lead, &w, &carry);
        }
        m->words[b] = w;
    }
    return 0;
}

/* ---- matching --------------------------------------------------------- */

static inline unsigned char fold(unsigned char c)
{
    return (unsigned char)(c + ((unsigned)(c - 'A') < 26u ? 32 : 0));
}

/* The bytes of the separator at s[j] a name's space stands for (a space,
 * tab, hyphen, \n, \r\n, U+00A0, U+2010 or U+2011), or 0. */
static inline size_t separator_at(const unsigned char *s, size_t j, size_t len)
{
    unsigned char c = j < len ? s[j] : 0;
    if (c == ' ' || c == '\t' || c == '\n' || c == '-') {
        return 1;
    }
    if (c == '\r') {
        return j + 1 < len && s[j + 1] == '\n' ? 2 : 0;
    }
    if (c == 0xc2) {
        return j + 1 < len && s[j + 1] == 0xa0 ? 2 : 0;
    }
    if (c == 0xe2) {
        return j + 2 < len && s[j + 1] == 0x80 && (s[j + 2] == 0x90 || s[j + 2] == 0x91) ? 3 : 0;
    }
    return 0;
}

/* The bytes of the apostrophe at s[j] (' or U+2019), or 0. */
static inline size_t apostrophe_at(const unsigned char *s, size_t j, size_t len)
{
    if (j < len && s[j] == '\'') {
        return 1;
    }
    return j + 2 < len && s[j] == 0xe2 && s[j + 1] == 0x80 && s[j + 2] == 0x99 ? 3 : 0;
}

/* Where the name of en ends when it matches the text at the word s[p..e)
 * (head: its first 8 bytes, as load_tail gives them), or 0: its first
 * word is that word (ASCII case folded if caseless), and
 * the rest of it follows, a space as any separator, an apostrophe as
 * either, up to the end of a word. */
__attribute__((always_inline)) static inline size_t
match_at(const mt_matcher *m, const struct entry *en, size_t p, size_t e, uint64_t head)
{
    const unsigned char *s = m->text, *name = en->name;
    size_t len = m->len, j = e;

    if (en->word_len != e - p || (head | en->fold) != en->head) {
        return 0;
    }
    if (en->caseless) {
        for (size_t i = 8; i < en->word_len; i++) {
            if (fold(s[p + i]) != name[i]) {
                return 0;
            }
        }
    } else if (en->word_len > 8 && memcmp(s + p + 8, name + 8, en->word_len - 8) != 0) {
        return 0;
    }
    if (en->len == en->word_len) {
        return e; /* the word ends where the text's word does */
    }
    for (size_t i = en->word_len; i < en->len; i++) {
        unsigned char c = name[i];
        size_t unit;
        if (c == ' ') {
            unit = separator_at(s, j, len);
        } else if (c == '\'') {
            unit = apostrophe_at(s, j, len);
        } else {
            unit = j < len && (en->caseless ? fold(s[j]) : s[j]) == c;
        }
        if (unit == 0) {
            return 0;
        }
        j += unit;
    }
    return boundary_after(s, j, len) ? j : 0;
}

static int push_hit(mt_matcher *m, struct hitvec *h, size_t start, size_t end, unsigned pattern)
{
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

/* The first name of each group in bucket sl, not yet found or skipped
 * (to[g] != 0), that matches at the word s[p..e) (head as for match_at):
 * its end in to[g] and its pattern in pattern[g]. */
__attribute__((always_inline)) static inline void match_bucket(const mt_matcher *m,
                                                               const struct slot *sl, size_t p,
                                                               size_t e, uint64_t head, size_t *to,
                                                               unsigned *pattern)
{
    const struct entry *en = m->entries + sl->first, *end = en + sl->n;

    for (; en < end; en++) {
        if (to[en->group] == 0) {
            size_t t = match_at(m, en, p, e, head);
            if (t != 0) {
                to[en->group] = t;
                pattern[en->group] = en->pattern;
            }
        }
    }
}

/* The word after offset e (m->words made): its start, and its end in
 * *end; 0 when there is none. */
static size_t next_word(const mt_matcher *m, size_t e, size_t *end)
{
    size_t nblk = (m->len + 63) / 64, b = e / 64, p;
    uint64_t w = b < nblk ? m->words[b] & (UINT64_MAX << (e % 64)) : 0;

    while (w == 0) {
        if (++b >= nblk) {
            return 0;
        }
        w = m->words[b];
    }
    p = 64 * b + ctz64(w);
    w = ~m->words[b] & (UINT64_MAX << (p % 64));
    while (w == 0) {
        if (++b >= nblk) {
            *end = m->len;
            return p;
        }
        w = ~m->words[b];
    }
    *end = 64 * b + ctz64(w);
    return p;
}

/* The longest name of each group that matches at the word s[p..e), whose
 * key is key and slot sl, as a hit; nonzero when out of memory. A name of
 * two words or more ends past the next word, so it is longer than any of
 * one word: those are tried first. Without raw names, the words come in
 * order and the hits of all groups go straight into m->out (ties: group 0
 * first), each group's leftmost-longest kept as they come (m->last_end);
 * with them, each group's candidates go into m->cand for resolve. */
static int match_word(mt_matcher *m, const struct slot *sl, uint64_t key, uint64_t head, size_t p,
                      size_t e)
{
    size_t to[MT_MAX_GROUPS];
    unsigned pattern[MT_MAX_GROUPS], open = 0;

    for (int g = 0; g < MT_MAX_GROUPS; g++) {
        /* inside the group's last hit: marked as found, with no end */
        to[g] = p < m->last_end[g] ? SIZE_MAX : 0;
        open |= (unsigned)(to[g] == 0) << g;
    }
    if (((sl->groups | sl->multi) & open) == 0) {
        return 0; /* "Korea" in "North Korea" */
    }
    if (sl->multi & open) {
        size_t e2, p2 = next_word(m, e, &e2);
        if (p2 != 0) {
            const struct slot *pair;
            /* the next word comes up next in scan_words: its key is kept */
            m->next_p = p2;
            m->next_key = word_key(m->text + p2, e2 - p2, m->text + m->len, &m->next_head);
            /* "the" begins "the war" only: most next words are turned away
             * here, before the pair's key and slot */
            pair = m->seconds[sl - m->slots] >> (m->next_key >> 58) & 1
                       ? find_slot(m, pair_key(key, m->next_key))
                       : NULL;
            if (pair != NULL) {
                match_bucket(m, pair, p, e, head, to, pattern);
            }
        }
    }
    match_bucket(m, sl, p, e, head, to, pattern);
    for (int g = 0; g < MT_MAX_GROUPS; g++) {
        if (to[g] == 0 || to[g] == SIZE_MAX) {
            continue;
        }
        if (push_hit(m, m->raw_db == NULL ? &m->out : &m->cand[g], p, to[g], pattern[g]) != 0) {
            return 1;
        }
        if (m->raw_db == NULL) {
            m->last_end[g] = to[g];
        }
    }
    return 0;
}

enum { WORDS_COUNT, WORDS_KEYS, WORDS_MATCH };

/* Goes through the words of m->text (m->words made): counts them
 * (WORDS_COUNT), counts those whose key is in the table (WORDS_KEYS), or
 * collects the hits (WORDS_MATCH; returns (size_t)-1 when out of memory). */
static size_t scan_words(mt_matcher *m, int what)
{
    const unsigned char *s = m->text;
    const uint64_t *words = m->words;
    size_t len = m->len, nblk = (len + 63) / 64, count = 0;
    uint64_t prev = 0;

    m->next_p = SIZE_MAX;
    for (size_t b = 0; b < nblk; b++) {
        uint64_t w = words[b], starts = w & ~((w << 1) | prev);
        prev = w >> 63;
        while (starts != 0) {
            unsigned k = ctz64(starts);
            size_t p = 64 * b + k, e;
            uint64_t rest = ~w >> k, key, head;
            const struct slot *sl;

            starts &= starts - 1;
            if (rest != 0) {
                e = p + ctz64(rest);
            } else { /* the word goes on into the next block */
                size_t c = b + 1;
                while (c < nblk && words[c] == UINT64_MAX) {
                    c++;
                }
                e = c < nblk ? 64 * c + ctz64(~words[c]) : len;
            }
            if (what == WORDS_COUNT) {
                count++;
                continue;
            }
            if (p == m->next_p) {
                key = m->next_key;
                head = m->next_head;
            } else {
                key = word_key(s + p, e - p, s + len, &head);
            }
            if (!filter_has(m, key)) {
                continue;
            }
            sl = find_slot(m, key);
            if (sl == NULL) {
                continue;
            }
            if (what == WORDS_KEYS) {
                count++;
            } else if (sl->n == 1 && sl->multi == 0 && m->raw_db == NULL &&
                       m->entries[sl->first].len == e - p && e - p <= 8) {
                /* the common case, one name of one short word ("Russia"),
                 * without match_word's set-up: the word is the name or
                 * not, and ends where the text's word does */
                const struct entry *en = &m->entries[sl->first];
                if (p >= m->last_end[en->group] && (head | en->fold) == en->head) {
                    if (push_hit(m, &m->out, p, e, en->pattern) != 0) {
                        return (size_t)-1;
                    }
                    m->last_end[en->group] = e;
                }
            } else if (match_word(m, sl, key, head, p, e) != 0) {
                return (size_t)-1;
            }
        }
    }
    return count;
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
    return push_hit(m, &m->cand[m->group[id]], (size_t)from, (size_t)to, id);
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

int mt_scan(mt_matcher *m, const char *text, size_t len, const mt_hit **hits, size_t *n)
{
    size_t total = 0;

    *hits = NULL;
    *n = 0;
    if (len > UINT32_MAX) {
        return NL_ETOOBIG;
    }
    for (int g = 0; g < MT_MAX_GROUPS; g++) {
        m->cand[g].n = 0;
        m->last_end[g] = 0;
    }
    m->out.n = 0;
    m->text = (const unsigned char *)text;
    m->len = len;
    m->oom = 0;
    if (m->n_entries > 0) {
        if (word_bits(m, m->text, len) != 0 || scan_words(m, WORDS_MATCH) == (size_t)-1) {
            return NL_ENOMEM;
        }
    }
    if (m->raw_db == NULL) {
        /* the hits came in order, leftmost-longest in each group */
        *hits = m->out.v;
        *n = m->out.n;
        return 0;
    }
    {
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

int mt_diag_scan(mt_matcher *m, const char *text, size_t len, int stage, size_t *count)
{
    *count = 0;
    if (len > UINT32_MAX) {
        return NL_ETOOBIG;
    }
    m->text = (const unsigned char *)text;
    m->len = len;
    if (word_bits(m, m->text, len) != 0) {
        return NL_ENOMEM;
    }
    *count = scan_words(m, stage == MT_DIAG_WORDS || m->n_entries == 0 ? WORDS_COUNT : WORDS_KEYS);
    return 0;
}
