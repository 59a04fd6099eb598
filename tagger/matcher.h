/* Multi-pattern matching of names on Hyperscan.
 *
 * Each pattern is a name as written in the watchlist. It matches its
 * spelling variants: a space or hyphen in the name matches a space, a
 * hyphen, a non-breaking space (U+00A0), a non-breaking hyphen (U+2011),
 * a hyphen (U+2010) or a line break; a straight or curly apostrophe matches
 * either. A pattern written all in capitals (US, UN, DPRK) matches only in
 * capitals; any other ignores ASCII case. Matches are whole words (letters
 * and digits, ASCII or not, continue a word; punctuation, spaces and
 * symbols end it), resolved leftmost-longest so they never overlap.
 *
 * Ownership: mt_compile returns a matcher the caller frees with mt_free;
 * it does not keep the pattern strings. mt_scan returns a malloc'd array. */
#ifndef MT_MATCHER_H
#define MT_MATCHER_H

#include <stddef.h>

typedef struct mt_matcher mt_matcher;

typedef struct mt_pattern {
    const char *text; /* UTF-8, not empty */
    size_t len;
    unsigned group; /* 0 .. MT_MAX_GROUPS-1: leftmost-longest applies within a group */
} mt_pattern;
#define MT_MAX_GROUPS 2

typedef struct mt_hit {
    size_t start, end; /* byte offsets, end exclusive */
    unsigned pattern;  /* index into the array given to mt_compile */
} mt_hit;

/* 0, NL_EINVAL (a pattern Hyperscan refuses, named in errbuf) or NL_ENOMEM. */
int mt_compile(const mt_pattern *patterns, size_t n, mt_matcher **out, char *errbuf, size_t errlen);
void mt_free(mt_matcher *m);

/* Whole-word, leftmost-longest, non-overlapping matches of every pattern in
 * text (non-overlapping within each group), all groups in order of start,
 * ties group 0 first. *hits is owned by the matcher, valid until the next
 * mt_scan or mt_free. 0 with *hits and *n, or NL_ENOMEM /
 * NL_ETOOBIG (text over 4 GiB). Not thread-safe: one matcher, one thread. */
int mt_scan(mt_matcher *m, const char *text, size_t len, const mt_hit **hits, size_t *n);

#endif
