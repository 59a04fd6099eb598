/* Multi-pattern matching of names on Hyperscan.
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
 * How: the text is normalised into a copy the matcher keeps (every
 * separator one ' ', every apostrophe '\''), with a sparse list of the
 * points where a multi-byte form shrank; names are normalised the same way
 * and compiled as plain literals. Offsets are mapped back to the original
 * text, and the whole-word checks are made there.
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
 * pattern Hyperscan refuses, named in errbuf) or NL_ENOMEM; *out is NULL
 * on failure. */
int mt_compile(const mt_pattern *patterns, size_t n, mt_matcher **out, char *errbuf, size_t errlen);
void mt_free(mt_matcher *m);

/* Whole-word, leftmost-longest, non-overlapping (within each group)
 * matches, all groups merged in order of start (ties: group 0 first).
 * 0 with *hits and *n, or NL_ENOMEM / NL_ETOOBIG (text over 4 GiB), with
 * *hits NULL and *n 0. *hits points into storage owned by the matcher,
 * valid until the next mt_scan or mt_free. The matcher keeps a normalised
 * copy of the largest text scanned so far. Not thread-safe: one matcher,
 * one thread. */
int mt_scan(mt_matcher *m, const char *text, size_t len, const mt_hit **hits, size_t *n);

#endif
