/* Multi-pattern matching of names: tens of thousands of them at a cost
 * per word of text that does not grow with their number.
 *
 * Each pattern is a name as written in the watchlist. It matches its
 * spelling variants: a space or hyphen in the name matches a space, a tab,
 * a hyphen, a non-breaking space (U+00A0), a non-breaking hyphen (U+2011),
 * a hyphen (U+2010) or a line break (\n or \r\n); a straight or curly
 * (U+2019) apostrophe matches either. A pattern written all in capitals
 * (US, UN, DPRK) matches only in capitals; any other ignores ASCII case.
 * Matches are whole words (letters and digits, ASCII or not, continue a
 * word; punctuation, spaces and symbols end it), resolved leftmost-longest
 * so they never overlap, within each pattern's group: patterns of
 * different groups are resolved independently, so their matches may
 * overlap.
 *
 * How: a whole-word match of a name that begins with a word can only begin
 * where a word of the text begins, and that word must be the name's first
 * word. So the text is cut into words (64 bytes at a time with SIMD), each
 * word's key (a hash, ASCII case folded) is looked up in a table of the
 * names' first words, behind a bit filter that stays in cache, and the
 * names filed under it are compared with the text from there, unit by
 * unit. Names that begin with punctuation or hold bytes a separator could
 * be written as (tab, \r, \n) are matched by Hyperscan expressions over
 * the original text instead.
 *
 * Ownership: mt_compile returns a matcher the caller frees with mt_free;
 * it does not keep the pattern strings. mt_scan's hits belong to the
 * matcher and live until its next mt_scan or mt_free. */
#ifndef MT_MATCHER_H
#define MT_MATCHER_H

#include <stddef.h>

typedef struct mt_matcher mt_matcher;

#define MT_MAX_GROUPS 2

typedef struct mt_pattern {
    const char *text; /* UTF-8, not empty */
    size_t len;
    unsigned group; /* 0 .. MT_MAX_GROUPS-1: leftmost-longest and non-overlap apply within a group
                       only */
} mt_pattern;

typedef struct mt_hit {
    size_t start, end; /* byte offsets into the original text, end exclusive */
    unsigned pattern;  /* index into the array given to mt_compile */
} mt_hit;

/* 0, NL_EINVAL (no pattern, an empty one, a group out of range, or a
 * pattern Hyperscan refuses (only names that begin with punctuation or hold a tab, \r or \n go to
 * it), named in errbuf) or NL_ENOMEM; *out is NULL on failure. */
int mt_compile(const mt_pattern *patterns, size_t n, mt_matcher **out, char *errbuf, size_t errlen);
void mt_free(mt_matcher *m);

/* Whole-word, leftmost-longest, non-overlapping (within each group)
 * matches, all groups merged in order of start (ties: group 0 first).
 * 0 with *hits and *n, or NL_ENOMEM / NL_ETOOBIG (text over 4 GiB), with
 * *hits NULL and *n 0. *hits points into storage owned by the matcher,
 * valid until the next mt_scan or mt_free. The matcher keeps a bit per
 * byte of the largest text scanned so far. Not thread-safe: one matcher,
 * one thread. */
int mt_scan(mt_matcher *m, const char *text, size_t len, const mt_hit **hits, size_t *n);

#endif
