/* The stages of mt_scan one at a time, for bench-tagger's breakdown rows.
 * Not for the daemons: they call mt_scan. */
#ifndef MT_MATCHER_DIAG_H
#define MT_MATCHER_DIAG_H

#include "matcher.h"

enum {
    MT_DIAG_WORDS, /* cut the text into words; *count = words */
    MT_DIAG_KEYS,  /* + look each word up in the key table; *count = words found there */
};

/* 0, or NL_ENOMEM / NL_ETOOBIG as mt_scan. */
int mt_diag_scan(mt_matcher *m, const char *text, size_t len, int stage, size_t *count);

#endif
