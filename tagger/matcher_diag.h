/* The stages of mt_scan one at a time, for bench-tagger's breakdown rows.
 * Not for the daemons: they call mt_scan. */
#ifndef MT_MATCHER_DIAG_H
#define MT_MATCHER_DIAG_H

#include "matcher.h"

enum {
    MT_DIAG_NORMALISE, /* normalise the text; *count = its normalised length */
    MT_DIAG_LITERALS,  /* + the literal scan, a callback that only counts; *count = raw matches */
};

/* 0, or NL_ENOMEM / NL_ETOOBIG as mt_scan. */
int mt_diag_scan(mt_matcher *m, const char *text, size_t len, int stage, size_t *count);

#endif
