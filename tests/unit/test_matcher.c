/* Unit tests for the matcher (tagger/matcher.h) on its own: groups, each
 * spelling variant of a separator or apostrophe in the name and in the
 * text (at the start, the middle and the end of a match), byte offsets
 * into the original text after many multi-byte forms, whole words next to
 * them, case rules, duplicates, names normalisation cannot express, the
 * hit storage reused across scans, and compile errors. */
#include "matcher.h"
#include "nl_err.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NBSP "\xc2\xa0"     /* U+00A0 */
#define HYPH "\xe2\x80\x90" /* U+2010 */
#define NBHY "\xe2\x80\x91" /* U+2011 */
#define RSQ "\xe2\x80\x99"  /* U+2019, the curly apostrophe */

static mt_matcher *m;
static char errbuf[256];

static void teardown(void)
{
    mt_free(m);
    m = NULL;
}

/* Compiles names[0..n) (groups[i], or 0 with groups NULL). */
static void compile(const char *const *names, const unsigned *groups, size_t n)
{
    mt_pattern pats[16];
    ck_assert_uint_le(n, 16);
    for (size_t i = 0; i < n; i++) {
        pats[i] = (mt_pattern){names[i], strlen(names[i]), groups ? groups[i] : 0};
    }
    ck_assert_msg(mt_compile(pats, n, &m, errbuf, sizeof(errbuf)) == 0, "%s", errbuf);
}

/* Scans text (len bytes, from a copy without a terminating NUL, so that a
 * read past the end shows under ASan) and checks the hits against want
 * (start, end, pattern triples). */
static void expect(const char *text, size_t len, const size_t *want, size_t n_want)
{
    char *copy = malloc(len > 0 ? len : 1);
    const mt_hit *hits;
    size_t n;

    ck_assert_ptr_nonnull(copy);
    memcpy(copy, text, len);
    ck_assert_int_eq(mt_scan(m, copy, len, &hits, &n), 0);
    ck_assert_msg(n == n_want, "%zu hits, want %zu (first %zu-%zu)", n, n_want,
                  n > 0 ? hits[0].start : 0, n > 0 ? hits[0].end : 0);
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(hits[i].start == want[3 * i] && hits[i].end == want[3 * i + 1] &&
                          hits[i].pattern == want[3 * i + 2],
                      "hit %zu: %zu-%zu pattern %u, want %zu-%zu pattern %zu", i, hits[i].start,
                      hits[i].end, hits[i].pattern, want[3 * i], want[3 * i + 1], want[3 * i + 2]);
    }
    free(copy);
}

#define EXPECT(text, ...)                                                                          \
    do {                                                                                           \
        static const size_t want_[] = {__VA_ARGS__};                                               \
        expect((text), sizeof(text) - 1, want_, sizeof(want_) / sizeof(want_[0]) / 3);             \
    } while (0)
#define EXPECT_NONE(text) expect((text), sizeof(text) - 1, NULL, 0)

/* ---- groups ---------------------------------------------------------------- */

START_TEST(test_groups_do_not_hide_each_other)
{
    static const char *const names[] = {"Ukraine", "war in Ukraine", "invasion"};
    static const unsigned groups[] = {0, 1, 1};
    compile(names, groups, 3);
    /* "war in Ukraine" (group 1) keeps "Ukraine" (group 0) and vice versa */
    EXPECT("the war in Ukraine, an invasion of Ukraine", 4, 18, 1, 11, 18, 0, 23, 31, 2, 35, 42, 0);
}
END_TEST

START_TEST(test_groups_ties_group_0_first)
{
    static const char *const names[] = {"Ukraine war", "Ukraine"};
    static const unsigned groups[] = {1, 0};
    compile(names, groups, 2);
    EXPECT("Ukraine war", 0, 7, 1, 0, 11, 0);
}
END_TEST

START_TEST(test_groups_leftmost_longest_within)
{
    static const char *const names[] = {"UN", "UN Security Council", "Security Council vote",
                                        "vote"};
    static const unsigned groups[] = {0, 0, 0, 1};
    compile(names, groups, 4);
    /* group 0: "UN Security Council" starts first and hides the rest of
     * group 0 it overlaps; group 1's "vote" stays */
    EXPECT("UN Security Council vote, UN", 0, 19, 1, 20, 24, 3, 26, 28, 0);
}
END_TEST

START_TEST(test_group_out_of_range)
{
    mt_pattern p = {"Ukraine", 7, MT_MAX_GROUPS};
    ck_assert_int_eq(mt_compile(&p, 1, &m, errbuf, sizeof(errbuf)), NL_EINVAL);
    ck_assert_ptr_null(m);
    ck_assert_ptr_nonnull(strstr(errbuf, "group"));
}
END_TEST

/* ---- separators ------------------------------------------------------------ */

START_TEST(test_text_separators)
{
    static const char *const names[] = {"Kim Jong-un"};
    compile(names, NULL, 1);
    EXPECT("Kim Jong-un", 0, 11, 0);
    EXPECT("Kim-Jong un", 0, 11, 0);
    EXPECT("Kim\tJong\nun", 0, 11, 0);
    EXPECT("Kim\r\nJong\r\nun", 0, 13, 0);
    EXPECT("Kim" NBSP "Jong" NBHY "un", 0, 14, 0);
    EXPECT("Kim" HYPH "Jong" NBSP "un", 0, 14, 0);
    EXPECT("x Kim\r\nJong" NBHY "un y", 2, 16, 0);
    /* one separator for one: not a lone \r, not two */
    EXPECT_NONE("Kim\rJong-un");
    EXPECT_NONE("Kim  Jong-un");
    EXPECT_NONE("Kim\r\n\r\nJong-un");
    EXPECT_NONE("KimJong-un");
}
END_TEST

START_TEST(test_name_separators)
{
    /* a separator written in the name in any form is any separator */
    static const char *const names[] = {"Kim" NBSP "Jong" NBHY "un", "Ho" HYPH "Chi Minh"};
    compile(names, NULL, 2);
    EXPECT("Kim Jong-un", 0, 11, 0);
    EXPECT("Kim\r\nJong\tun", 0, 12, 0);
    EXPECT("Ho Chi" NBSP "Minh", 0, 12, 1);
    EXPECT("Ho\nChi\r\nMinh", 0, 12, 1);
}
END_TEST

START_TEST(test_separator_at_match_edges)
{
    /* a name may begin or end with a separator or an apostrophe: the
     * multi-byte form is then part of the match */
    static const char *const names[] = {"-ism", "Foo ", "'Ndrangheta"};
    compile(names, NULL, 3);
    EXPECT("a " NBHY "ism b", 2, 8, 0);
    EXPECT("(\r\nism", 1, 6, 0);
    /* the boundary is before the separator: "a" continues the word, and the
     * \n alone after the \r is no other start */
    EXPECT_NONE("a\r\nism");
    EXPECT("Foo" NBSP "(bar", 0, 5, 1);
    EXPECT_NONE("Foo\r\nbar");
    EXPECT("Foo\r\n", 0, 5, 1);
    EXPECT("the " RSQ "Ndrangheta", 4, 17, 2);
}
END_TEST

/* ---- apostrophes ----------------------------------------------------------- */

START_TEST(test_apostrophes)
{
    static const char *const names[] = {"O'Brien", "People" RSQ "s Republic", RSQ "s-Hertogenbosch",
                                        "Jesus'"};
    compile(names, NULL, 4);
    EXPECT("Mr O'Brien", 3, 10, 0);
    EXPECT("Mr O" RSQ "Brien.", 3, 12, 0);
    EXPECT("the People's Republic", 4, 21, 1);
    EXPECT("the People" RSQ "s" NBSP "Republic", 4, 24, 1);
    /* at the start of a match */
    EXPECT("in 's-Hertogenbosch", 3, 19, 2);
    EXPECT("in " RSQ "s" NBHY "Hertogenbosch", 3, 23, 2);
    /* at the end */
    EXPECT("Jesus' words", 0, 6, 3);
    EXPECT("Jesus" RSQ " words", 0, 8, 3);
    EXPECT("Jesus" RSQ, 0, 8, 3);
    /* an apostrophe is not a separator, nor the reverse */
    EXPECT_NONE("O Brien, O-Brien");
}
END_TEST

/* ---- offsets --------------------------------------------------------------- */

START_TEST(test_offsets_after_many_shrink_points)
{
    static const char *const names[] = {"Kim Jong-un", "O'Brien", "UN"};
    static const char *const forms[] = {"\r\n", NBSP, HYPH, NBHY, RSQ};
    static const char *const seps[] = {"\r\n", NBSP, HYPH, NBHY, " ", "-", "\t", "\n"};
    char *text = malloc(200000);
    size_t len = 0, want[3 * 2000], n_want = 0;
    const mt_hit *hits;
    size_t n;

    ck_assert_ptr_nonnull(text);
    compile(names, NULL, 3);
    for (int i = 0; i < 2000; i++) {
        /* filler made of multi-byte forms, then a name spelled with them */
        for (int k = 0; k <= i % 7; k++) {
            const char *f = forms[(size_t)(i + k) % 5];
            memcpy(text + len, f, strlen(f));
            len += strlen(f);
        }
        text[len++] = 'x';
        text[len++] = ' ';
        {
            char name[64];
            unsigned p = (unsigned)i % 3;
            int w = p == 0   ? snprintf(name, sizeof(name), "Kim%sJong%sun", seps[i % 8],
                                        seps[(i + 3) % 8])
                    : p == 1 ? snprintf(name, sizeof(name), "O%sBrien", i % 2 ? RSQ : "'")
                             : snprintf(name, sizeof(name), "UN");
            want[3 * n_want] = len;
            want[3 * n_want + 1] = len + (size_t)w;
            want[3 * n_want + 2] = p;
            n_want++;
            memcpy(text + len, name, (size_t)w);
            len += (size_t)w;
        }
        text[len++] = ' ';
    }
    ck_assert_int_eq(mt_scan(m, text, len, &hits, &n), 0);
    ck_assert_uint_eq(n, n_want);
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(hits[i].start == want[3 * i] && hits[i].end == want[3 * i + 1] &&
                          hits[i].pattern == want[3 * i + 2],
                      "hit %zu: %zu-%zu/%u, want %zu-%zu/%zu", i, hits[i].start, hits[i].end,
                      hits[i].pattern, want[3 * i], want[3 * i + 1], want[3 * i + 2]);
    }
    free(text);
}
END_TEST

START_TEST(test_offsets_not_nul_terminated)
{
    static const char *const names[] = {"Putin"};
    compile(names, NULL, 1);
    /* the match ends the text: nothing after it may be read */
    EXPECT(NBSP "Putin", 2, 7, 0);
    EXPECT("Putin", 0, 5, 0);
    EXPECT_NONE("");
    EXPECT_NONE("Puti");
}
END_TEST

/* ---- whole words ----------------------------------------------------------- */

START_TEST(test_whole_words_next_to_multibyte)
{
    static const char *const names[] = {"Putin"};
    compile(names, NULL, 1);
    EXPECT("Putin" RSQ "s", 0, 5, 0);
    EXPECT(RSQ "Putin" RSQ, 3, 8, 0);
    EXPECT("\xe2\x80\x94Putin\xe2\x80\x94", 3, 8, 0); /* em dashes end a word */
    EXPECT("\xc2\xabPutin\xc2\xbb", 2, 7, 0);         /* guillemets too */
    EXPECT_NONE("Putin\xc3\xa9");                     /* é continues it */
    EXPECT_NONE("\xc3\xa9Putin");
    EXPECT_NONE("Putinism, aPutin, Putin2");
}
END_TEST

START_TEST(test_case_rules)
{
    static const char *const names[] = {"US", "Putin", "U.S."};
    compile(names, NULL, 3);
    EXPECT("US us Us PUTIN putin", 0, 2, 0, 9, 14, 1, 15, 20, 1);
    EXPECT("u.s. U.S.", 5, 9, 2);
}
END_TEST

START_TEST(test_duplicates_lowest_index_wins)
{
    /* the same name after normalisation: the first one listed reports */
    static const char *const names[] = {"ignored", "New-York", "New York", "new york"};
    compile(names, NULL, 4);
    EXPECT("New York, new\r\nyork", 0, 8, 1, 10, 19, 1);
}
END_TEST

START_TEST(test_names_with_control_bytes)
{
    /* a tab, \r or \n written in a name is that byte only, as before the
     * normalisation: such names take the slow path and still match exactly */
    static const char *const names[] = {"a\tb", "c\r\nd", "Kim Jong-un", "e\r"};
    compile(names, NULL, 4);
    EXPECT("a\tb a b a-b", 0, 3, 0);
    EXPECT("c d c\nd c\r\nd", 8, 12, 1);
    EXPECT("Kim\r\nJong-un a\tb", 0, 12, 2, 13, 16, 0);
    EXPECT("e\r\n", 0, 2, 3);
}
END_TEST

/* ---- against a reference --------------------------------------------------- */

/* A reference matcher written from the contract in matcher.h alone, the
 * slow and obvious way (ROUNDS=n and SEED=n in the environment run more or
 * other rounds of test_against_reference): the text and every name normalised (each
 * separator one ' ', each apostrophe '\'', ASCII folded for a caseless
 * name), every name tried at every offset, whole words checked on the
 * original text, then leftmost-longest per group. mt_scan must give the
 * same hits for random names and texts built from awkward pieces. */

static int ref_word_cp(uint32_t cp)
{
    if (cp < 0x80) {
        return (cp >= '0' && cp <= '9') || (cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z');
    }
    if ((cp <= 0xbf && cp != 0xaa && cp != 0xb5 && cp != 0xba) || cp == 0xd7 || cp == 0xf7) {
        return 0;
    }
    return !((cp >= 0x2000 && cp <= 0x206f) || (cp >= 0x3000 && cp <= 0x303f) || cp == 0xfeff ||
             cp == 0xfffd);
}

/* The code point at s[i] (valid UTF-8) and its length in *n. */
static uint32_t ref_cp(const unsigned char *s, size_t i, size_t *n)
{
    unsigned char c = s[i];
    if (c < 0x80) {
        *n = 1;
        return c;
    }
    *n = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
    {
        uint32_t cp = c & (0x7f >> *n);
        for (size_t k = 1; k < *n; k++) {
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        return cp;
    }
}

/* Whether the character before offset i of s (len bytes) continues a
 * word (after: at i): a match needs neither, whatever its own first and
 * last characters are. */
static int ref_word_before(const unsigned char *s, size_t i)
{
    size_t p = i, n;
    if (i == 0) {
        return 0;
    }
    do {
        p--;
    } while (p > 0 && (s[p] & 0xc0) == 0x80);
    return ref_word_cp(ref_cp(s, p, &n));
}

static int ref_word_at(const unsigned char *s, size_t len, size_t i)
{
    size_t n;
    return i < len && ref_word_cp(ref_cp(s, i, &n));
}

/* s normalised into out, with orig[j] = the original offset of out[j] and
 * orig[n] = len; returns n. */
static size_t ref_normalise(const unsigned char *s, size_t len, int fold, unsigned char *out,
                            size_t *orig)
{
    size_t i = 0, j = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t unit = 1;
        orig[j] = i;
        if (c == ' ' || c == '\t' || c == '\n' || c == '-') {
            c = ' ';
        } else if (c == '\r' && i + 1 < len && s[i + 1] == '\n') {
            c = ' ';
            unit = 2;
        } else if (c == 0xc2 && i + 1 < len && s[i + 1] == 0xa0) {
            c = ' ';
            unit = 2;
        } else if (c == 0xe2 && i + 2 < len && s[i + 1] == 0x80 &&
                   (s[i + 2] == 0x90 || s[i + 2] == 0x91)) {
            c = ' ';
            unit = 3;
        } else if (c == 0xe2 && i + 2 < len && s[i + 1] == 0x80 && s[i + 2] == 0x99) {
            c = '\'';
            unit = 3;
        } else if (fold && c >= 'A' && c <= 'Z') {
            c = (unsigned char)(c + 32);
        }
        out[j++] = c;
        i += unit;
    }
    orig[j] = len;
    return j;
}

struct ref_hit {
    size_t start, end;
    unsigned pattern, group;
};

static int ref_before(const struct ref_hit *x, const struct ref_hit *y)
{
    if (x->start != y->start) {
        return x->start < y->start;
    }
    if (x->end != y->end) {
        return x->end > y->end;
    }
    return x->pattern < y->pattern;
}

/* The hits of names[0..n) (groups[i]) in text, as mt_scan gives them;
 * their number. */
static size_t ref_scan(const char *const *names, const unsigned *groups, size_t n, const char *text,
                       size_t len, struct ref_hit *out, size_t cap)
{
    static unsigned char nt[4096], folded[4096], nn[256];
    static size_t orig[4097], norig[257];
    static struct ref_hit cand[4096];
    size_t nlen, nc = 0, nout = 0;

    ck_assert_uint_lt(len, sizeof(nt));
    nlen = ref_normalise((const unsigned char *)text, len, 0, nt, orig);
    ref_normalise((const unsigned char *)text, len, 1, folded, orig);
    for (size_t k = 0; k < n; k++) {
        size_t ln = strlen(names[k]), caps = 1, letters = 0, nl;
        for (size_t i = 0; i < ln; i++) {
            caps &= !(names[k][i] >= 'a' && names[k][i] <= 'z');
            letters += names[k][i] >= 'A' && names[k][i] <= 'Z';
        }
        caps = caps && letters > 0;
        nl = ref_normalise((const unsigned char *)names[k], ln, !caps, nn, norig);
        for (size_t j = 0; j + nl <= nlen; j++) {
            const unsigned char *t = caps ? nt : folded;
            size_t st = orig[j], en = orig[j + nl];
            if (memcmp(t + j, nn, nl) != 0 || ref_word_before((const unsigned char *)text, st) ||
                ref_word_at((const unsigned char *)text, len, en)) {
                continue;
            }
            ck_assert_uint_lt(nc, 4096);
            cand[nc++] = (struct ref_hit){st, en, (unsigned)k, groups[k]};
        }
    }
    /* leftmost-longest per group, then merged by start (group 0 first) */
    for (unsigned g = 0; g < MT_MAX_GROUPS; g++) {
        size_t last_end = 0, first = nout;
        for (;;) {
            struct ref_hit *best = NULL;
            for (size_t i = 0; i < nc; i++) {
                if (cand[i].group == g && cand[i].start >= last_end &&
                    (best == NULL || ref_before(&cand[i], best))) {
                    best = &cand[i];
                }
            }
            if (best == NULL) {
                break;
            }
            ck_assert_uint_lt(nout, cap);
            out[nout++] = *best;
            last_end = best->end;
        }
        (void)first;
    }
    /* stable merge: by start, then group */
    for (size_t i = 1; i < nout; i++) {
        struct ref_hit x = out[i];
        size_t k = i;
        while (k > 0 && (out[k - 1].start > x.start ||
                         (out[k - 1].start == x.start && out[k - 1].group > x.group))) {
            out[k] = out[k - 1];
            k--;
        }
        out[k] = x;
    }
    return nout;
}

START_TEST(test_against_reference)
{
    /* pieces a text or a name is made of: words that share first words,
     * case variants, acronyms, non-ASCII letters, words longer than the
     * matcher's 8-byte heads (one sharing its first 8 bytes with another),
     * and every separator, apostrophe and punctuation form the matcher
     * treats specially */
    static const char *const words[] = {"Kim", "kim", "KIM", "Jong", "Un", "un", "Il", "North",
                                        "Korea", "US", "us", "U", "S", "Brien", "O", "caf\xc3\xa9",
                                        "\xc3\x89"
                                        "cole",
                                        "\xd0\x9c\xd0\xb8\xd1\x80", "ab", "abc", "x1", "2024",
                                        /* longer than 8 bytes: keys and heads of long words */
                                        "Pyongyang", "PYONGYANG", "pyongYang", "Pyongyangs",
                                        "Nonproliferation",
                                        "\xd0\x92\xd0\xbb\xd0\xb0\xd0\xb4\xd0\xb8\xd0\xb2\xd0\xbe"
                                        "\xd1\x81\xd1\x82\xd0\xbe\xd0\xba"};
    static const char *const seps[] = {" ",        " ",  "-", "\t", "\n", "\r\n", NBSP,
                                       HYPH,       NBHY, RSQ, "'",  ".",  ", ",   "\xe2\x80\x94",
                                       "\xc2\xab", "(",  ")", "\r", "",   "  "};
    static const char *const name_seps[] = {" ", "-", "'", RSQ, NBSP, ".", ". ", ""};
    char names_buf[12][128];
    const char *names[12];
    unsigned groups[12];
    char text[2048];
    struct ref_hit want[1024];
    uint32_t seed = getenv("SEED") ? (uint32_t)atoi(getenv("SEED")) : 12345;

#define RND(n) ((seed = seed * 1103515245u + 12345u) >> 16) % (n)
    for (int round = 0; round < (getenv("ROUNDS") ? atoi(getenv("ROUNDS")) : 400); round++) {
        size_t n_names = 1 + RND(12), len = 0, n_want, n_got;
        const mt_hit *hits;

        for (size_t k = 0; k < n_names; k++) {
            size_t nw = 1 + RND(3), l = 0;
            names_buf[k][0] = '\0';
            for (size_t w = 0; w < nw; w++) {
                const char *piece = words[RND(sizeof(words) / sizeof(words[0]))];
                if (w > 0) {
                    const char *sep = name_seps[RND(sizeof(name_seps) / sizeof(name_seps[0]))];
                    l += (size_t)snprintf(names_buf[k] + l, sizeof(names_buf[k]) - l, "%s", sep);
                }
                l += (size_t)snprintf(names_buf[k] + l, sizeof(names_buf[k]) - l, "%s", piece);
            }
            if (RND(8) == 0) {
                /* a name that ends or begins with punctuation */
                l += (size_t)snprintf(names_buf[k] + l, sizeof(names_buf[k]) - l, "%s",
                                      RND(2) ? "." : "'");
            }
            if (RND(16) == 0) {
                memmove(names_buf[k] + 1, names_buf[k], l + 1);
                names_buf[k][0] = RND(2) ? '-' : '\'';
            }
            names[k] = names_buf[k];
            groups[k] = RND(3) == 0;
        }
        mt_free(m);
        m = NULL;
        compile(names, groups, n_names);
        while (len < 1500) {
            const char *piece =
                RND(3) == 0 ? names[RND(n_names)] : words[RND(sizeof(words) / sizeof(words[0]))];
            const char *sep = seps[RND(sizeof(seps) / sizeof(seps[0]))];
            len += (size_t)snprintf(text + len, sizeof(text) - len, "%s%s", piece, sep);
        }
        n_want = ref_scan(names, groups, n_names, text, len, want, 1024);
        {
            char *copy = malloc(len);
            ck_assert_ptr_nonnull(copy);
            memcpy(copy, text, len);
            ck_assert_int_eq(mt_scan(m, copy, len, &hits, &n_got), 0);
            free(copy);
        }
        ck_assert_msg(n_got == n_want, "round %d: %zu hits, want %zu", round, n_got, n_want);
        for (size_t i = 0; i < n_got; i++) {
            ck_assert_msg(hits[i].start == want[i].start && hits[i].end == want[i].end &&
                              hits[i].pattern == want[i].pattern,
                          "round %d hit %zu: %zu-%zu pattern %u (\"%s\"), want %zu-%zu pattern %u "
                          "(\"%s\")",
                          round, i, hits[i].start, hits[i].end, hits[i].pattern,
                          names[hits[i].pattern], want[i].start, want[i].end, want[i].pattern,
                          names[want[i].pattern]);
        }
    }
#undef RND
}
END_TEST

/* ---- storage and errors ---------------------------------------------------- */

START_TEST(test_hits_reused_across_scans)
{
    static const char *const names[] = {"UN"};
    char big[10000];
    const mt_hit *hits;
    size_t n;

    compile(names, NULL, 1);
    for (size_t i = 0; i < sizeof(big); i += 4) {
        memcpy(big + i, "UN\r\n", 4);
    }
    ck_assert_int_eq(mt_scan(m, big, sizeof(big), &hits, &n), 0);
    ck_assert_uint_eq(n, sizeof(big) / 4);
    ck_assert_uint_eq(hits[n - 1].start, sizeof(big) - 4);
    EXPECT("x UN", 2, 4, 0);
    EXPECT_NONE("nothing");
    ck_assert_int_eq(mt_scan(m, "UN", 2, &hits, &n), 0);
    ck_assert_uint_eq(n, 1);
}
END_TEST

START_TEST(test_compile_errors)
{
    mt_pattern empty = {"", 0, 0};
    ck_assert_int_eq(mt_compile(&empty, 1, &m, errbuf, sizeof(errbuf)), NL_EINVAL);
    ck_assert_ptr_null(m);
    ck_assert_int_eq(mt_compile(&empty, 0, &m, errbuf, sizeof(errbuf)), NL_EINVAL);
    ck_assert_ptr_null(m);
}
END_TEST

static Suite *matcher_suite(void)
{
    Suite *s = suite_create("matcher");
    TCase *tc = tcase_create("matcher");

    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, test_groups_do_not_hide_each_other);
    tcase_add_test(tc, test_groups_ties_group_0_first);
    tcase_add_test(tc, test_groups_leftmost_longest_within);
    tcase_add_test(tc, test_group_out_of_range);
    tcase_add_test(tc, test_text_separators);
    tcase_add_test(tc, test_name_separators);
    tcase_add_test(tc, test_separator_at_match_edges);
    tcase_add_test(tc, test_apostrophes);
    tcase_add_test(tc, test_offsets_after_many_shrink_points);
    tcase_add_test(tc, test_offsets_not_nul_terminated);
    tcase_add_test(tc, test_whole_words_next_to_multibyte);
    tcase_add_test(tc, test_case_rules);
    tcase_add_test(tc, test_duplicates_lowest_index_wins);
    tcase_add_test(tc, test_names_with_control_bytes);
    tcase_add_test(tc, test_against_reference);
    tcase_add_test(tc, test_hits_reused_across_scans);
    tcase_add_test(tc, test_compile_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(matcher_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
