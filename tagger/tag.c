/* Tagging one document: actor mentions, events and relations, written
 * straight to JSON text (see watchlist.h for what each rule does).
 *
 * Everything per document lives in the wl_tags, whose arrays grow to the
 * largest document seen and are reused; the per-actor and per-event state
 * is reset only where a document touched it, so a document costs the
 * same whether the watchlist holds 50 actors or 20,000. */
#include "jsonw.h"
#include "matcher.h"
#include "nl_err.h"
#include "watchlist.h"
#include "wl_internal.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define NONE UINT32_MAX
#define TITLE 0
#define TEXT 1

struct mention {
    uint32_t start, end;
    uint32_t actor;
    uint32_t sent;
    uint32_t next; /* the actor's next mention, or NONE */
    unsigned char field;
    unsigned char role;
};

struct trig {
    uint32_t start, end;
    uint32_t cue;
    uint32_t sent;
    unsigned char field;
};

struct sent {
    uint32_t start, end; /* bytes of the field */
    uint32_t para;
    uint32_t m0, m1; /* its mentions: m[m0 .. m1) */
    unsigned char field;
    uint32_t y0, ny; /* the years it names: years[y0 .. y0 + ny) */
};

/* A year a sentence names: first and last year covered ("1990s": 1990-1999). */
struct year {
    uint16_t first, last;
};

struct para {
    uint32_t s0, s1; /* its sentences */
};

/* An event a trigger occurrence fits (find_events). */
struct ecand {
    uint32_t sent, ev;
    uint32_t first;      /* the index of the occurrence's first candidate */
    unsigned char dated; /* its sentence names a year of the event */
};

struct link {
    uint32_t sent;
    uint32_t next;
};

struct rel {
    uint32_t a, b; /* actors, a first mentioned before b */
    uint32_t slot; /* its entry in r_slots */
    uint32_t count;
    uint32_t head, tail; /* sentences, through links */
};

struct wl_tags {
    jw out;
    struct mention *m;
    size_t n_m, cap_m;
    struct trig *t;
    size_t n_t, cap_t;
    struct sent *s;
    size_t n_s, cap_s;
    struct para *p;
    size_t n_p, cap_p;
    struct year *years;
    size_t n_years, cap_years;
    int years_oom;
    struct link *links;
    size_t n_links, cap_links;
    struct rel *r;
    size_t n_r, cap_r;
    uint32_t *r_slots; /* pair hash: rel index + 1 */
    size_t n_r_slots;
    /* per actor, all in their rest state between documents */
    size_t cap_a;
    uint32_t *a_count, *a_head, *a_tail, *a_rank, *a_stamp;
    /* per kind of unit (actors_present: 0 sentences, 1 paragraphs), 1 + the
     * unit that last saw the actor, and 1 + the unit whose actors it holds */
    uint32_t *a_unit[2];
    uint32_t unit_seen[2];
    unsigned char *a_named;
    uint32_t *order; /* actors of this document, in order of first mention */
    size_t n_order;
    /* per event, likewise */
    size_t cap_e;
    uint32_t *e_count, *e_last, *e_head, *e_tail, *e_anchor;
    struct ecand *ec;
    size_t n_ec, cap_ec;
    uint32_t *e_order;
    size_t n_e_order;
    uint32_t *scratch; /* distinct actors of one sentence */
    size_t cap_scratch;
    const char **ids;
    size_t n_ids, cap_ids;
    int ok;
};

/* Makes room for need elements in *p (capacity *cap), keeping its content. */
static int grow(void *pp, size_t *cap, size_t need, size_t elem)
{
    void **p = pp;
    size_t ncap = *cap ? *cap : 16;
    void *np;

    if (need <= *cap) {
        return 0;
    }
    while (ncap < need) {
        ncap *= 2;
    }
    np = realloc(*p, ncap * elem);
    if (np == NULL) {
        return NL_ENOMEM;
    }
    *p = np;
    *cap = ncap;
    return 0;
}

wl_tags *wl_tags_new(void)
{
    return calloc(1, sizeof(wl_tags));
}

void wl_tags_free(wl_tags *t)
{
    if (t == NULL) {
        return;
    }
    free(t->out.p);
    free(t->m);
    free(t->t);
    free(t->s);
    free(t->p);
    free(t->years);
    free(t->links);
    free(t->r);
    free(t->r_slots);
    free(t->a_count);
    free(t->a_head);
    free(t->a_tail);
    free(t->a_rank);
    free(t->a_stamp);
    free(t->a_unit[0]);
    free(t->a_unit[1]);
    free(t->a_named);
    free(t->order);
    free(t->e_count);
    free(t->e_last);
    free(t->e_head);
    free(t->e_tail);
    free(t->e_anchor);
    free(t->ec);
    free(t->e_order);
    free(t->scratch);
    free(t->ids);
    free(t);
}

/* Per-actor and per-event arrays for a watchlist of this size, every
 * entry in its rest state. */
static int fit_watchlist(wl_tags *t, const watchlist *wl)
{
    if (wl->n_actors > t->cap_a) {
        size_t n = wl->n_actors;
        uint32_t **arrs[] = {&t->a_count, &t->a_head, &t->a_tail,    &t->a_rank,
                             &t->a_stamp, &t->order,  &t->a_unit[0], &t->a_unit[1]};
        for (size_t i = 0; i < sizeof(arrs) / sizeof(arrs[0]); i++) {
            uint32_t *a = realloc(*arrs[i], n * sizeof(uint32_t));
            if (a == NULL) {
                return NL_ENOMEM;
            }
            *arrs[i] = a;
        }
        unsigned char *named = realloc(t->a_named, n);
        if (named == NULL) {
            return NL_ENOMEM;
        }
        t->a_named = named;
        memset(t->a_count, 0, n * sizeof(uint32_t));
        memset(t->a_stamp, 0, n * sizeof(uint32_t));
        memset(t->a_unit[0], 0, n * sizeof(uint32_t));
        memset(t->a_unit[1], 0, n * sizeof(uint32_t));
        memset(t->a_named, 0, n);
        t->cap_a = n;
    }
    if (wl->n_events > t->cap_e) {
        size_t n = wl->n_events;
        uint32_t **arrs[] = {&t->e_count, &t->e_last,  &t->e_head,
                             &t->e_tail,  &t->e_order, &t->e_anchor};
        for (size_t i = 0; i < sizeof(arrs) / sizeof(arrs[0]); i++) {
            uint32_t *a = realloc(*arrs[i], n * sizeof(uint32_t));
            if (a == NULL) {
                return NL_ENOMEM;
            }
            *arrs[i] = a;
        }
        memset(t->e_count, 0, n * sizeof(uint32_t));
        memset(t->e_anchor, 0, n * sizeof(uint32_t));
        memset(t->e_last, 0xff, n * sizeof(uint32_t));
        t->cap_e = n;
    }
    return 0;
}

/* Back to the rest state, touching only what the last document used. */
static void reset(wl_tags *t)
{
    for (size_t i = 0; i < t->n_order; i++) {
        uint32_t a = t->order[i];
        t->a_count[a] = 0;
        t->a_stamp[a] = 0;
        t->a_unit[0][a] = 0;
        t->a_unit[1][a] = 0;
        t->a_named[a] = 0;
    }
    for (size_t i = 0; i < t->n_e_order; i++) {
        t->e_count[t->e_order[i]] = 0;
        t->e_last[t->e_order[i]] = NONE;
    }
    for (size_t i = 0; i < t->n_r; i++) {
        t->r_slots[t->r[i].slot] = 0;
    }
    t->n_m = t->n_t = t->n_s = t->n_p = t->n_links = t->n_r = t->n_years = 0;
    t->years_oom = 0;
    t->n_order = t->n_e_order = t->n_ids = 0;
    t->unit_seen[0] = t->unit_seen[1] = 0;
    t->out.len = 0;
    t->out.oom = 0;
    t->ok = 0;
}

static int add_mention(wl_tags *t, const mt_hit *h, uint32_t actor, int field, int role)
{
    struct mention *m;

    if (grow(&t->m, &t->cap_m, t->n_m + 1, sizeof(*t->m)) != 0) {
        return NL_ENOMEM;
    }
    m = &t->m[t->n_m];
    *m = (struct mention){(uint32_t)h->start,   (uint32_t)h->end,   actor, NONE, NONE,
                          (unsigned char)field, (unsigned char)role};
    if (t->a_count[actor]++ == 0) {
        t->a_rank[actor] = (uint32_t)t->n_order;
        t->order[t->n_order++] = actor;
        t->a_head[actor] = (uint32_t)t->n_m;
    } else {
        t->m[t->a_tail[actor]].next = (uint32_t)t->n_m;
    }
    t->a_tail[actor] = (uint32_t)t->n_m;
    t->n_m++;
    return 0;
}

/* A bare surname names the person of that surname named in full before it
 * in the document; with none named, the only tracked person of that
 * surname; with two or more named, nobody (ambiguous). */
static uint32_t resolve_surname(const watchlist *wl, const wl_tags *t, size_t surname)
{
    const struct wl_surname *s = &wl->surnames[surname];
    uint32_t named = NONE;
    int n_named = 0;

    for (size_t i = 0; i < s->n; i++) {
        if (t->a_named[s->persons[i]]) {
            n_named++;
            named = (uint32_t)s->persons[i];
        }
    }
    if (n_named == 1) {
        return named;
    }
    return n_named == 0 && s->n == 1 ? (uint32_t)s->persons[0] : NONE;
}

/* A role alias directly before a person's name is that person's title
 * ("Foreign Minister Sergey Lavrov"): the name is the mention. */
static int is_title(const watchlist *wl, const char *s, const mt_hit *hits, size_t n, size_t i)
{
    for (size_t j = i + 1; j < n; j++) {
        const struct wl_name *nm = &wl->names[hits[j].pattern];
        size_t gap;
        if (nm->type == WL_CUE) {
            continue;
        }
        if (hits[j].start < hits[i].end) {
            continue; /* a name inside the role ("Russian" in "Russian President") */
        }
        gap = hits[j].start - hits[i].end;
        if ((gap == 1 && (s[hits[i].end] == ' ' || s[hits[i].end] == '\n')) ||
            (gap == 2 && memcmp(s + hits[i].end, "\xc2\xa0", 2) == 0)) {
            return nm->type == WL_SURNAME ||
                   (nm->type == WL_ACTOR_NAME && wl->actors[nm->ref].person);
        }
        return 0;
    }
    return 0;
}

/* The one actor a role alias names on date, or NONE. */
static uint32_t resolve_role(const struct wl_cue *cue, int32_t date)
{
    uint32_t actor = NONE;
    for (size_t i = 0; i < cue->n_roles; i++) {
        const struct wl_role *r = &cue->roles[i];
        if (r->from <= date && date < r->to) {
            if (actor != NONE && actor != r->actor) {
                return NONE;
            }
            actor = (uint32_t)r->actor;
        }
    }
    return actor;
}

static int scan_field(const watchlist *wl, wl_tags *t, const char *s, size_t len, int field,
                      int32_t date)
{
    const mt_hit *hits;
    size_t n;
    int rc = mt_scan(wl->matcher, s, len, &hits, &n);

    for (size_t i = 0; i < n && rc == 0; i++) {
        const struct wl_name *nm = &wl->names[hits[i].pattern];
        uint32_t actor;

        switch (nm->type) {
        case WL_ACTOR_NAME:
            t->a_named[nm->ref] = 1;
            rc = add_mention(t, &hits[i], (uint32_t)nm->ref, field, 0);
            break;
        case WL_SURNAME:
            actor = resolve_surname(wl, t, nm->ref);
            if (actor != NONE) {
                rc = add_mention(t, &hits[i], actor, field, 0);
            }
            break;
        case WL_CUE: {
            const struct wl_cue *cue = &wl->cues[nm->ref];
            if (cue->n_events > 0) {
                rc = grow(&t->t, &t->cap_t, t->n_t + 1, sizeof(*t->t));
                if (rc == 0) {
                    t->t[t->n_t++] = (struct trig){(uint32_t)hits[i].start, (uint32_t)hits[i].end,
                                                   (uint32_t)nm->ref, NONE, (unsigned char)field};
                }
            }
            if (rc == 0 && cue->n_roles > 0 && date > 0 && !is_title(wl, s, hits, n, i)) {
                actor = resolve_role(cue, date);
                if (actor != NONE) {
                    rc = add_mention(t, &hits[i], actor, field, 1);
                }
            }
            break;
        }
        default: /* an ignore name: matched only to shadow what it contains */
            break;
        }
    }
    return rc;
}

/* ---- sentences and paragraphs -------------------------------------------- */

static int is_space_at(const char *s, size_t len, size_t i)
{
    unsigned char c = (unsigned char)s[i];
    return c == ' ' || c == '\t' || c == '\r' ||
           (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] == 0xa0);
}

/* ASCII classes, the same in every locale (and no call per byte). */
static int is_digit(char c)
{
    return (unsigned char)(c - '0') < 10;
}

static int is_upper(unsigned char c)
{
    return (unsigned char)(c - 'A') < 26;
}

static int is_alpha(unsigned char c)
{
    return (unsigned char)((c | 0x20) - 'a') < 26;
}

/* w[0, n), n <= 8, as the low bytes of a word, so that a short word is
 * compared with another in one step. */
static uint64_t pack8(const char *w, size_t n)
{
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        x |= (uint64_t)(unsigned char)w[i] << (8 * i);
    }
    return x;
}

/* Abbreviations after which a period does not end a sentence: Mr Mrs Ms
 * Dr Prof St Gen Sen Rep Gov Lt Col Capt Jr Sr No Vol vs etc Inc Ltd Co
 * Corp, the months, e.g, i.e, approx, Amb Adm Maj Sgt Pres; each packed as
 * pack8 packs it (K: up to six characters), by first letter. */
#define K_(a, b, c, d, e, f, ...)                                                                  \
    ((uint64_t)(unsigned char)(a) | (uint64_t)(unsigned char)(b) << 8 |                            \
     (uint64_t)(unsigned char)(c) << 16 | (uint64_t)(unsigned char)(d) << 24 |                     \
     (uint64_t)(unsigned char)(e) << 32 | (uint64_t)(unsigned char)(f) << 40)
#define K(...) K_(__VA_ARGS__, 0, 0, 0, 0, 0, 0)

static int is_abbreviation(const char *w, size_t n)
{
    uint64_t x;

    if (n == 1 && is_upper((unsigned char)w[0])) {
        return 1; /* an initial: "J. Smith", "D.C." */
    }
    if (n > 6) {
        return 0;
    }
    x = pack8(w, n);
    switch (w[0]) {
    case 'A': /* Adm Amb Apr Aug */
        return x == K('A', 'd', 'm') || x == K('A', 'm', 'b') || x == K('A', 'p', 'r') ||
               x == K('A', 'u', 'g');
    case 'C': /* Capt Co Col Corp */
        return x == K('C', 'a', 'p', 't') || x == K('C', 'o') || x == K('C', 'o', 'l') ||
               x == K('C', 'o', 'r', 'p');
    case 'D': /* Dec Dr */
        return x == K('D', 'e', 'c') || x == K('D', 'r');
    case 'F': /* Feb */
        return x == K('F', 'e', 'b');
    case 'G': /* Gen Gov */
        return x == K('G', 'e', 'n') || x == K('G', 'o', 'v');
    case 'I': /* Inc */
        return x == K('I', 'n', 'c');
    case 'J': /* Jan Jr Jul Jun */
        return x == K('J', 'a', 'n') || x == K('J', 'r') || x == K('J', 'u', 'l') ||
               x == K('J', 'u', 'n');
    case 'L': /* Lt Ltd */
        return x == K('L', 't') || x == K('L', 't', 'd');
    case 'M': /* Maj Mar Mr Mrs Ms */
        return x == K('M', 'a', 'j') || x == K('M', 'a', 'r') || x == K('M', 'r') ||
               x == K('M', 'r', 's') || x == K('M', 's');
    case 'N': /* No Nov */
        return x == K('N', 'o') || x == K('N', 'o', 'v');
    case 'O': /* Oct */
        return x == K('O', 'c', 't');
    case 'P': /* Pres Prof */
        return x == K('P', 'r', 'e', 's') || x == K('P', 'r', 'o', 'f');
    case 'R': /* Rep */
        return x == K('R', 'e', 'p');
    case 'S': /* Sen Sep Sept Sgt Sr St */
        return x == K('S', 'e', 'n') || x == K('S', 'e', 'p') || x == K('S', 'e', 'p', 't') ||
               x == K('S', 'g', 't') || x == K('S', 'r') || x == K('S', 't');
    case 'V': /* Vol */
        return x == K('V', 'o', 'l');
    case 'a': /* approx */
        return x == K('a', 'p', 'p', 'r', 'o', 'x');
    case 'e': /* e.g etc */
        return x == K('e', '.', 'g') || x == K('e', 't', 'c');
    case 'i': /* i.e */
        return x == K('i', '.', 'e');
    case 'v': /* vs */
        return x == K('v', 's');
    default:
        return 0;
    }
}
#undef K
#undef K_

/* Where a sentence ending at the terminator s[i] ends (after closing
 * quotes and brackets), or 0 if s[i] does not end one. */
static size_t sentence_end(const char *s, size_t len, size_t i)
{
    size_t j = i + 1, k;
    unsigned char c;

    while (j < len) {
        c = (unsigned char)s[j];
        if (c == '.' || c == '!' || c == '?' || c == '"' || c == '\'' || c == ')' || c == ']') {
            j++;
        } else if (c == 0xe2 && j + 2 < len && (unsigned char)s[j + 1] == 0x80 &&
                   ((unsigned char)s[j + 2] == 0x99 || (unsigned char)s[j + 2] == 0x9d)) {
            j += 3;
        } else {
            break;
        }
    }
    if (j < len && !is_space_at(s, len, j) && s[j] != '\n') {
        return 0; /* "U.S.-led", "3.5", "e.g.," */
    }
    for (k = j; k < len && is_space_at(s, len, k); k += (unsigned char)s[k] == 0xc2 ? 2 : 1) {
    }
    if (k < len && s[k] != '\n') {
        c = (unsigned char)s[k];
        if (!(is_upper(c) || is_digit((char)c) || c == '"' || c == '\'' || c == '(' || c == '[' ||
              c >= 0xc3)) {
            return 0; /* "the U.S. and", "approx. ten" */
        }
    }
    if (s[i] == '.') {
        size_t w = i;
        /* no abbreviation is longer than 6: 7 bytes back is far enough */
        while (w > 0 && i - w <= 7 && (is_alpha((unsigned char)s[w - 1]) || s[w - 1] == '.')) {
            w--;
        }
        if (w < i && is_abbreviation(s + w, i - w)) {
            return 0;
        }
    }
    return j;
}

/* The first of '.', '!', '?', '\n' or a digit in s[pos, len), or len: 16
 * bytes at a time with SSE2 (the splitter reads every byte of a tagged
 * text, and notes the years on the way). */
static size_t next_stop(const char *s, size_t pos, size_t len)
{
#if defined(__SSE2__)
    const __m128i dot = _mm_set1_epi8('.'), bang = _mm_set1_epi8('!');
    const __m128i q = _mm_set1_epi8('?'), nl = _mm_set1_epi8('\n');
    const __m128i zero = _mm_set1_epi8('0'), nine = _mm_set1_epi8(9);
    for (; pos + 16 <= len; pos += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + pos));
        __m128i d = _mm_sub_epi8(x, zero);
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, dot), _mm_cmpeq_epi8(x, bang)),
                                 _mm_or_si128(_mm_cmpeq_epi8(x, q), _mm_cmpeq_epi8(x, nl)));
        m = _mm_or_si128(m, _mm_cmpeq_epi8(_mm_min_epu8(d, nine), d));
        unsigned mask = (unsigned)_mm_movemask_epi8(m);
        if (mask != 0) {
            return pos + (size_t)__builtin_ctz(mask);
        }
    }
#endif
    for (; pos < len; pos++) {
        char c = s[pos];
        if (c == '.' || c == '!' || c == '?' || c == '\n' || is_digit(c)) {
            return pos;
        }
    }
    return len;
}

/* The digits at s[pos]: notes a year (1800-2199, or a decade "1990s") of
 * the sentence being split; returns the length of the run. Thousands
 * ("2,000") and longer numbers are not years. */
static size_t note_year(wl_tags *t, const char *s, size_t len, size_t pos, size_t start)
{
    size_t run = 0;
    int y;

    while (pos + run < len && is_digit(s[pos + run])) {
        run++;
    }
    if (run != 4 ||
        (pos >= start + 2 && (s[pos - 1] == ',' || s[pos - 1] == '.') && is_digit(s[pos - 2]))) {
        return run;
    }
    y = (s[pos] - '0') * 1000 + (s[pos + 1] - '0') * 100 + (s[pos + 2] - '0') * 10 +
        (s[pos + 3] - '0');
    if (y >= 1800 && y <= 2199) {
        if (grow(&t->years, &t->cap_years, t->n_years + 1, sizeof(*t->years)) != 0) {
            t->years_oom = 1;
            return run;
        }
        t->years[t->n_years++] =
            (struct year){(uint16_t)y, (uint16_t)(pos + 4 < len && s[pos + 4] == 's' ? y + 9 : y)};
    }
    return run;
}

/* Splits a field into paragraphs (lines) and sentences. */
static int segment(wl_tags *t, const char *s, size_t len, int field)
{
    size_t pos = 0, y0;
    int new_para = 1;

    while (pos < len) {
        size_t start, end;
        while (pos < len && (is_space_at(s, len, pos) || s[pos] == '\n')) {
            new_para |= s[pos] == '\n';
            pos += (unsigned char)s[pos] == 0xc2 ? 2 : 1;
        }
        if (pos >= len) {
            break;
        }
        start = pos;
        end = 0;
        y0 = t->n_years;
        while (pos < len) {
            pos = next_stop(s, pos, len);
            if (pos < len && is_digit(s[pos])) {
                pos += note_year(t, s, len, pos, start);
                continue;
            }
            if (pos >= len || s[pos] == '\n') {
                end = pos;
                break;
            }
            end = sentence_end(s, len, pos);
            if (end != 0) {
                pos = end;
                break;
            }
            pos++;
        }
        if (end == 0) {
            end = len;
        }
        while (end > start && (s[end - 1] == ' ' || s[end - 1] == '\t' || s[end - 1] == '\r')) {
            end--;
        }
        if (new_para) {
            if (grow(&t->p, &t->cap_p, t->n_p + 1, sizeof(*t->p)) != 0) {
                return NL_ENOMEM;
            }
            t->p[t->n_p++] = (struct para){(uint32_t)t->n_s, (uint32_t)t->n_s};
            new_para = 0;
        }
        if (grow(&t->s, &t->cap_s, t->n_s + 1, sizeof(*t->s)) != 0) {
            return NL_ENOMEM;
        }
        t->s[t->n_s++] = (struct sent){.start = (uint32_t)start,
                                       .end = (uint32_t)end,
                                       .para = (uint32_t)(t->n_p - 1),
                                       .field = (unsigned char)field,
                                       .y0 = (uint32_t)y0,
                                       .ny = (uint32_t)(t->n_years - y0)};
        t->p[t->n_p - 1].s1 = (uint32_t)t->n_s;
    }
    return t->years_oom ? NL_ENOMEM : 0;
}

/* Gives each mention and trigger its sentence, and each sentence its
 * mentions. Both lists are in order of start within a field, title first. */
static void assign_sentences(wl_tags *t)
{
    size_t si = 0;

    for (size_t i = 0; i < t->n_s; i++) {
        t->s[i].m0 = t->s[i].m1 = NONE;
    }
    for (size_t i = 0; i < t->n_m; i++) {
        struct mention *m = &t->m[i];
        while (si < t->n_s && (t->s[si].field < m->field ||
                               (t->s[si].field == m->field && t->s[si].end <= m->start))) {
            si++;
        }
        if (si < t->n_s && t->s[si].field == m->field && t->s[si].start <= m->start) {
            m->sent = (uint32_t)si;
            if (t->s[si].m0 == NONE) {
                t->s[si].m0 = (uint32_t)i;
            }
            t->s[si].m1 = (uint32_t)i + 1;
        }
    }
    si = 0;
    for (size_t i = 0; i < t->n_t; i++) {
        struct trig *g = &t->t[i];
        while (si < t->n_s && (t->s[si].field < g->field ||
                               (t->s[si].field == g->field && t->s[si].end <= g->start))) {
            si++;
        }
        if (si < t->n_s && t->s[si].field == g->field && t->s[si].start <= g->start) {
            g->sent = (uint32_t)si;
        }
    }
}

/* ---- relations ------------------------------------------------------------- */

static int add_link(wl_tags *t, uint32_t *head, uint32_t *tail, uint32_t count, uint32_t sent)
{
    if (count > WL_MAX_EVIDENCE) {
        return 0;
    }
    if (grow(&t->links, &t->cap_links, t->n_links + 1, sizeof(*t->links)) != 0) {
        return NL_ENOMEM;
    }
    t->links[t->n_links] = (struct link){sent, NONE};
    if (count == 1) {
        *head = (uint32_t)t->n_links;
    } else {
        t->links[*tail].next = (uint32_t)t->n_links;
    }
    *tail = (uint32_t)t->n_links++;
    return 0;
}

static int add_pair(wl_tags *t, uint32_t a, uint32_t b, uint32_t sent)
{
    uint64_t key;
    size_t h;
    struct rel *r;

    if (t->a_rank[a] > t->a_rank[b]) {
        uint32_t x = a;
        a = b;
        b = x;
    }
    if ((t->n_r + 1) * 2 > t->n_r_slots) {
        size_t n = t->n_r_slots ? t->n_r_slots * 2 : 256;
        uint32_t *slots = calloc(n, sizeof(*slots));
        if (slots == NULL) {
            return NL_ENOMEM;
        }
        for (size_t i = 0; i < t->n_r; i++) {
            key = (uint64_t)t->r[i].a << 32 | t->r[i].b;
            h = (size_t)(key * 0x9e3779b97f4a7c15ULL >> 20) & (n - 1);
            while (slots[h] != 0) {
                h = (h + 1) & (n - 1);
            }
            slots[h] = (uint32_t)i + 1;
            t->r[i].slot = (uint32_t)h;
        }
        free(t->r_slots);
        t->r_slots = slots;
        t->n_r_slots = n;
    }
    key = (uint64_t)a << 32 | b;
    h = (size_t)(key * 0x9e3779b97f4a7c15ULL >> 20) & (t->n_r_slots - 1);
    while (t->r_slots[h] != 0) {
        r = &t->r[t->r_slots[h] - 1];
        if (r->a == a && r->b == b) {
            r->count++;
            return add_link(t, &r->head, &r->tail, r->count, sent);
        }
        h = (h + 1) & (t->n_r_slots - 1);
    }
    if (grow(&t->r, &t->cap_r, t->n_r + 1, sizeof(*t->r)) != 0) {
        return NL_ENOMEM;
    }
    t->r_slots[h] = (uint32_t)t->n_r + 1;
    r = &t->r[t->n_r++];
    *r = (struct rel){a, b, (uint32_t)h, 1, NONE, NONE};
    return add_link(t, &r->head, &r->tail, 1, sent);
}

static int find_relations(wl_tags *t)
{
    for (size_t si = 0; si < t->n_s; si++) {
        const struct sent *s = &t->s[si];
        size_t n = 0;
        if (s->m0 == NONE || s->m1 - s->m0 < 2) {
            continue;
        }
        if (grow(&t->scratch, &t->cap_scratch, s->m1 - s->m0, sizeof(*t->scratch)) != 0) {
            return NL_ENOMEM;
        }
        for (uint32_t i = s->m0; i < s->m1; i++) {
            uint32_t a = t->m[i].actor;
            if (t->a_stamp[a] != si + 1) {
                t->a_stamp[a] = (uint32_t)si + 1;
                t->scratch[n++] = a;
            }
        }
        for (size_t i = 0; i < n; i++) {
            for (size_t j = i + 1; j < n; j++) {
                if (add_pair(t, t->scratch[i], t->scratch[j], (uint32_t)si) != 0) {
                    return NL_ENOMEM;
                }
            }
        }
    }
    return 0;
}

/* ---- events ---------------------------------------------------------------- */

/* Whether the sentence names years and none of them falls within [from,
 * to]: "the 1961 treaty" is not the 2024 one. */
static int dated_elsewhere(const wl_tags *t, const struct sent *st, int32_t from, int32_t to)
{
    for (uint32_t i = 0; i < st->ny; i++) {
        const struct year *y = &t->years[st->y0 + i];
        if (y->last >= from / 10000 && y->first <= to / 10000) {
            return 0;
        }
    }
    return st->ny > 0;
}

/* Whether the unit of sentences [s0, s1), number unit of its kind (0: a
 * sentence, 1: a paragraph), mentions enough of e's actors. The actors a
 * unit mentions are marked once (a_unit) for all the triggers and events
 * that ask about it in a row, each kind apart: a paragraph full of
 * triggers is read once, not once per trigger and event. */
static int actors_present(wl_tags *t, const struct wl_event *e, size_t s0, size_t s1, int kind,
                          uint32_t unit)
{
    uint32_t *marks = t->a_unit[kind];
    uint64_t seen = 0;
    size_t n = 0;

    if (t->unit_seen[kind] != unit + 1) {
        for (size_t si = s0; si < s1; si++) {
            if (t->s[si].m0 == NONE) {
                continue;
            }
            for (uint32_t i = t->s[si].m0; i < t->s[si].m1; i++) {
                marks[t->m[i].actor] = unit + 1;
            }
        }
        t->unit_seen[kind] = unit + 1;
    }
    for (size_t k = 0; k < e->n_actors && k < 64; k++) {
        if (marks[e->actors[k]] == unit + 1) {
            seen |= 1ULL << k;
            n++;
        }
    }
    return n >= e->min_actors && (seen & e->required) == e->required;
}

/* Whether the sentence names a year within [from, to]. */
static int dated_within(const wl_tags *t, const struct sent *st, int32_t from, int32_t to)
{
    return st->ny > 0 && !dated_elsewhere(t, st, from, to);
}

/* Events in two passes. First every trigger occurrence gets the events of
 * its cue whose actors its scope mentions and whose dates its sentence
 * does not contradict (t->ec). An occurrence that fits one event only, or
 * whose sentence names a year of the event, anchors that event in the
 * document. Then an occurrence that fits several events ("the meeting"
 * between Putin and Kim: the 2023 summit or the 2024 visit) is kept for
 * the best-anchored of them, the one the document is about; with no
 * anchor for any, for all of them, as before. */
static int find_events(const watchlist *wl, wl_tags *t)
{
    t->n_ec = 0;
    for (size_t i = 0; i < t->n_t; i++) {
        const struct trig *g = &t->t[i];
        const struct wl_cue *cue = &wl->cues[g->cue];
        const struct sent *st;
        size_t first = t->n_ec;
        if (g->sent == NONE) {
            continue;
        }
        st = &t->s[g->sent];
        for (size_t k = 0; k < cue->n_events; k++) {
            size_t ev = cue->events[k];
            const struct wl_event *e = &wl->events[ev];
            size_t s0 = g->sent, s1 = g->sent + 1;
            uint32_t unit = g->sent;
            if (e->paragraph) {
                s0 = t->p[st->para].s0;
                s1 = t->p[st->para].s1;
                unit = st->para;
            }
            if (!actors_present(t, e, s0, s1, e->paragraph != 0, unit) ||
                dated_elsewhere(t, st, e->from, e->to)) {
                continue;
            }
            if (grow(&t->ec, &t->cap_ec, t->n_ec + 1, sizeof(*t->ec)) != 0) {
                return NL_ENOMEM;
            }
            t->ec[t->n_ec++] = (struct ecand){g->sent, (uint32_t)ev, (uint32_t)first,
                                              (unsigned char)dated_within(t, st, e->from, e->to)};
        }
    }
    /* anchors; ec[i].first is the first candidate of the same occurrence */
    for (size_t i = 0; i < t->n_ec; i++) {
        size_t f = t->ec[i].first, n = 0;
        while (f + n < t->n_ec && t->ec[f + n].first == t->ec[i].first) {
            n++;
        }
        t->e_anchor[t->ec[i].ev] += n == 1 || t->ec[i].dated;
    }
    for (size_t i = 0; i < t->n_ec;) {
        size_t f = i, n = 0;
        uint32_t best = 0;
        while (i < t->n_ec && t->ec[i].first == f) {
            best = t->e_anchor[t->ec[i].ev] > best ? t->e_anchor[t->ec[i].ev] : best;
            i++;
            n++;
        }
        for (size_t k = f; k < f + n; k++) {
            uint32_t ev = t->ec[k].ev, sent = t->ec[k].sent;
            if (n > 1 && best > 0 && t->e_anchor[ev] < best && !t->ec[k].dated) {
                continue; /* another event of this trigger is what the document is about */
            }
            if (t->e_last[ev] == sent) {
                continue; /* this sentence is already its evidence */
            }
            t->e_last[ev] = sent;
            if (t->e_count[ev]++ == 0) {
                t->e_order[t->n_e_order++] = ev;
            }
            if (add_link(t, &t->e_head[ev], &t->e_tail[ev], t->e_count[ev], sent) != 0) {
                return NL_ENOMEM;
            }
        }
    }
    for (size_t i = 0; i < t->n_ec; i++) {
        t->e_anchor[t->ec[i].ev] = 0;
    }
    return 0;
}

/* ---- output ---------------------------------------------------------------- */

/* `{"field":"…","start":N,"end":N` at p (room for SPAN_MAX bytes); the end. */
#define SPAN_MAX 64
static char *put_span(char *p, int field, uint32_t start, uint32_t end)
{
    p = field == TITLE ? jw_put_lit(p, "{\"field\":\"title\",\"start\":")
                       : jw_put_lit(p, "{\"field\":\"text\",\"start\":");
    p = jw_put_uint(p, start);
    p = jw_put_lit(p, ",\"end\":");
    return jw_put_uint(p, end);
}

static void write_span(jw *w, int field, uint32_t start, uint32_t end)
{
    char *p = jw_reserve(w, SPAN_MAX);
    if (p != NULL) {
        w->len += (size_t)(put_span(p, field, start, end) - p);
    }
}

/* One mention, the hot path of the output: a surface with nothing to
 * escape (nearly every one) is written in one reserved stretch. */
static void write_mention(jw *w, const struct mention *m, const char *src, size_t src_len)
{
    size_t n = m->end - m->start;
    char *p =
        jw_plain_short(src + m->start, n, src + src_len) ? jw_reserve(w, n + SPAN_MAX + 32) : NULL;

    if (p != NULL) {
        char *q = put_span(p, m->field, m->start, m->end);
        q = jw_put_lit(q, ",\"surface\":\"");
        if (n <= 16 && src_len - m->start >= 16) {
            /* a short surface in one 16-byte copy (the room reserved
             * covers it); what lands past n is written over next */
            memcpy(q, src + m->start, 16);
        } else {
            memcpy(q, src + m->start, n);
        }
        q += n;
        q = m->role ? jw_put_lit(q, "\",\"role\":true}") : jw_put_lit(q, "\"}");
        w->len += (size_t)(q - p);
        return;
    }
    write_span(w, m->field, m->start, m->end);
    jw_lit(w, ",\"surface\":");
    jw_str(w, src + m->start, n);
    if (m->role) {
        jw_lit(w, ",\"role\":true");
    }
    jw_lit(w, "}");
}

static void write_json(const watchlist *wl, wl_tags *t, const wl_doc *doc)
{
    jw *w = &t->out;

    jw_lit(w, "{\"actors\":[");
    for (size_t i = 0; i < t->n_order; i++) {
        uint32_t a = t->order[i];
        const struct wl_actor *ac = &wl->actors[a];
        size_t listed = 0;
        if (i > 0) {
            jw_lit(w, ",");
        }
        jw_raw(w, ac->json_head, ac->json_head_len);
        jw_uint(w, t->a_count[a]);
        jw_lit(w, ",\"mentions\":[");
        for (uint32_t k = t->a_head[a]; k != NONE && listed < WL_MAX_MENTIONS;
             k = t->m[k].next, listed++) {
            const struct mention *m = &t->m[k];
            if (listed > 0) {
                jw_lit(w, ",");
            }
            if (m->field == TITLE) {
                write_mention(w, m, doc->title, doc->title_len);
            } else {
                write_mention(w, m, doc->text, doc->text_len);
            }
        }
        jw_lit(w, "]");
        if (t->a_count[a] > WL_MAX_MENTIONS) {
            jw_lit(w, ",\"mentions_truncated\":true");
        }
        jw_lit(w, "}");
    }
    jw_lit(w, "],\"events\":[");
    for (size_t i = 0; i < t->n_e_order; i++) {
        uint32_t ev = t->e_order[i];
        const struct wl_event *e = &wl->events[ev];
        if (i > 0) {
            jw_lit(w, ",");
        }
        jw_raw(w, e->json_head, e->json_head_len);
        jw_uint(w, t->e_count[ev]);
        jw_lit(w, ",\"evidence\":[");
        for (uint32_t k = t->e_head[ev]; k != NONE; k = t->links[k].next) {
            const struct sent *s = &t->s[t->links[k].sent];
            const char *src = s->field == TITLE ? doc->title : doc->text;
            if (k != t->e_head[ev]) {
                jw_lit(w, ",");
            }
            write_span(w, s->field, s->start, s->end);
            jw_lit(w, ",\"text\":");
            jw_str(w, src + s->start, s->end - s->start);
            jw_lit(w, "}");
        }
        jw_lit(w, "]");
        if (t->e_count[ev] > WL_MAX_EVIDENCE) {
            jw_lit(w, ",\"evidence_truncated\":true");
        }
        jw_lit(w, "}");
    }
    jw_lit(w, "],\"relations\":[");
    for (size_t i = 0; i < t->n_r; i++) {
        const struct rel *r = &t->r[i];
        const struct wl_actor *a = &wl->actors[r->a], *b = &wl->actors[r->b];
        char *p = jw_reserve(w, a->id_len + b->id_len + 64), *q;
        if (p == NULL) {
            break;
        }
        /* ids are slugs: nothing to escape */
        q = i > 0 ? jw_put_lit(p, ",") : p;
        q = jw_put_lit(q, "{\"actors\":[\"");
        memcpy(q, a->id, a->id_len);
        q = jw_put_lit(q + a->id_len, "\",\"");
        memcpy(q, b->id, b->id_len);
        q = jw_put_lit(q + b->id_len, "\"],\"count\":");
        q = jw_put_uint(q, r->count);
        q = jw_put_lit(q, ",\"sentences\":[");
        w->len += (size_t)(q - p);
        for (uint32_t k = r->head; k != NONE; k = t->links[k].next) {
            const struct sent *s = &t->s[t->links[k].sent];
            char *p = jw_reserve(w, SPAN_MAX + 2), *q;
            if (p == NULL) {
                break;
            }
            q = k != r->head ? jw_put_lit(p, ",") : p;
            q = put_span(q, s->field, s->start, s->end);
            q = jw_put_lit(q, "}");
            w->len += (size_t)(q - p);
        }
        jw_lit(w, "]");
        if (r->count > WL_MAX_EVIDENCE) {
            jw_lit(w, ",\"sentences_truncated\":true");
        }
        jw_lit(w, "}");
    }
    jw_lit(w, "]");
    jw_raw(w, wl->version_json, wl->version_json_len);
    jw_end(w);
}

int wl_tag(const watchlist *wl, const wl_doc *doc, wl_tags *t)
{
    int32_t date = doc->date != NULL ? wl_parse_date(doc->date, strnlen(doc->date, 10)) : -1;
    int rc;

    reset(t);
    if (doc->title_len > UINT32_MAX - 1 || doc->text_len > UINT32_MAX - 1) {
        return NL_ETOOBIG;
    }
    rc = fit_watchlist(t, wl);
    if (rc == 0) {
        rc = scan_field(wl, t, doc->title, doc->title_len, TITLE, date);
    }
    if (rc == 0) {
        rc = scan_field(wl, t, doc->text, doc->text_len, TEXT, date);
    }
    /* sentences only matter for two actors or a trigger */
    if (rc == 0 && (t->n_order >= 2 || t->n_t > 0)) {
        rc = segment(t, doc->title, doc->title_len, TITLE);
        if (rc == 0) {
            rc = segment(t, doc->text, doc->text_len, TEXT);
        }
        if (rc == 0) {
            assign_sentences(t);
            rc = find_relations(t);
        }
        if (rc == 0) {
            rc = find_events(wl, t);
        }
    }
    if (rc == 0) {
        write_json(wl, t, doc);
        rc = t->out.oom ? NL_ENOMEM : 0;
    }
    if (rc == 0) {
        rc = grow(&t->ids, &t->cap_ids, t->n_order + t->n_e_order + 1, sizeof(*t->ids));
    }
    if (rc == 0) {
        for (size_t i = 0; i < t->n_order; i++) {
            t->ids[t->n_ids++] = wl->actors[t->order[i]].id;
        }
        for (size_t i = 0; i < t->n_e_order; i++) {
            t->ids[t->n_ids++] = wl->events[t->e_order[i]].id;
        }
        t->ok = 1;
    }
    return rc;
}

const char *wl_tags_json(const wl_tags *t, size_t *len)
{
    if (len != NULL) {
        *len = t->ok ? t->out.len : 0;
    }
    return t->ok ? t->out.p : NULL;
}

size_t wl_tags_n_mentions(const wl_tags *t)
{
    return t->ok ? t->n_m : 0;
}

size_t wl_tags_n_ids(const wl_tags *t)
{
    return t->ok ? t->n_ids : 0;
}

const char *wl_tags_id(const wl_tags *t, size_t i)
{
    return i < wl_tags_n_ids(t) ? t->ids[i] : NULL;
}

json_t *wl_tag_json(const watchlist *wl, const wl_doc *doc)
{
    wl_tags *t = wl_tags_new();
    json_t *j = NULL;

    if (t != NULL && wl_tag(wl, doc, t) == 0) {
        j = json_loadb(t->out.p, t->out.len, JSON_ALLOW_NUL, NULL);
    }
    wl_tags_free(t);
    return j;
}
