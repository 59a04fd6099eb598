/* newsline report: one static HTML page from the corpus index
 * (sink/index.h) and the sidecars: mentions per actor over time, the
 * actor co-occurrence network and the latest documents per actor with
 * their evidence sentences. The page has no script and loads nothing (a
 * Content-Security-Policy says so too): the charts are inline SVG drawn
 * here. Everything taken from the corpus is HTML-escaped, since titles
 * and sentences come from the web. */
#include "cli.h"
#include "index.h"
#include "nl_err.h"
#include "nl_stage.h"
#include "nl_text.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define REPORT_MAX_TOP 40
#define REPORT_SENTENCES 4 /* evidence sentences shown per document */

static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                      "#9467bd", "#8c564b", "#e377c2", "#17becf",
                                      "#bcbd22", "#393b79", "#637939", "#843c39"};
#define NCOLORS (sizeof(palette) / sizeof(palette[0]))

struct ractor {
    char *id;
    char *name; /* NULL until the index names it */
    long total; /* mentions, dated and undated */
    long undated;
    long undated_docs;
    int rank;     /* position among the top actors, -1 if not among them */
    long *series; /* per bucket, top actors only */
};

struct mrow {
    size_t actor;
    long day; /* days since 1970-01-01, -1: undated */
    long mentions;
};

struct redge {
    size_t a, b;
    long count, docs;
};

struct rep {
    struct ractor *actors;
    size_t nactors, acap;
    struct mrow *rows;
    size_t nrows, rcap;
    struct redge *edges;
    size_t nedges, ecap;
    size_t top[REPORT_MAX_TOP];
    size_t ntop;
    long first_day, nbuckets;
    int weekly;
    int oom;
};

/* ---- small helpers ---------------------------------------------------------- */

/* Days since 1970-01-01 of a valid YYYY-MM-DD (H. Hinnant's days_from_civil). */
static long day_number(const char *s)
{
    long y = strtol(s, NULL, 10), m = strtol(s + 5, NULL, 10), d = strtol(s + 8, NULL, 10);
    long era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void day_string(long z, char out[16])
{
    long era, doe, yoe, y, doy, mp, d, m;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp + (mp < 10 ? 3 : -9);
    snprintf(out, 16, "%04d-%02d-%02d", (int)((y + (m <= 2)) % 10000), (int)(m % 100),
             (int)(d % 100));
}

/* The Monday on or before day z (1970-01-01 was a Thursday). */
static long week_start(long z)
{
    return z - (((z + 3) % 7) + 7) % 7;
}

/* Writes s[0..n) HTML-escaped; control characters become spaces. The
 * callers pass valid UTF-8 (jansson strings, or nl_utf8_sanitize output). */
static void esc_n(FILE *f, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            fputc(c < 0x20 || c == 0x7f ? ' ' : c, f);
        }
    }
}

static void esc(FILE *f, const char *s)
{
    esc_n(f, s != NULL ? s : "", s != NULL ? strlen(s) : 0);
}

static const char *actor_label(const struct ractor *a)
{
    return a->name != NULL ? a->name : a->id;
}

static const char *color_of(const struct ractor *a)
{
    return palette[(size_t)a->rank % NCOLORS];
}

static long find_actor(const struct rep *r, const char *id)
{
    for (size_t i = 0; i < r->nactors; i++) {
        if (strcmp(r->actors[i].id, id) == 0) {
            return (long)i;
        }
    }
    return -1;
}

static long add_actor(struct rep *r, const char *id)
{
    long i = find_actor(r, id);
    if (i >= 0) {
        return i;
    }
    if (r->nactors == r->acap) {
        size_t cap = r->acap ? r->acap * 2 : 64;
        struct ractor *n = realloc(r->actors, cap * sizeof(*n));
        if (n == NULL) {
            return -1;
        }
        r->actors = n;
        r->acap = cap;
    }
    memset(&r->actors[r->nactors], 0, sizeof(r->actors[0]));
    r->actors[r->nactors].rank = -1;
    r->actors[r->nactors].id = strdup(id);
    if (r->actors[r->nactors].id == NULL) {
        return -1;
    }
    return (long)r->nactors++;
}

static void rep_free(struct rep *r)
{
    for (size_t i = 0; i < r->nactors; i++) {
        free(r->actors[i].id);
        free(r->actors[i].name);
        free(r->actors[i].series);
    }
    free(r->actors);
    free(r->rows);
    free(r->edges);
}

/* ---- gathering from the index ------------------------------------------------- */

static int on_mentions(const json_t *row, void *arg)
{
    struct rep *r = arg;
    const char *actor = json_string_value(json_object_get(row, "actor"));
    const char *date = json_string_value(json_object_get(row, "date"));
    long m = (long)json_integer_value(json_object_get(row, "mentions"));
    long docs = (long)json_integer_value(json_object_get(row, "documents"));
    long a;

    if (actor == NULL) {
        return 0;
    }
    a = add_actor(r, actor);
    if (a < 0) {
        r->oom = 1;
        return NL_ENOMEM;
    }
    r->actors[a].total += m;
    if (date == NULL || !ix_valid_date(date)) {
        r->actors[a].undated += m;
        r->actors[a].undated_docs += docs;
        return 0;
    }
    if (r->nrows == r->rcap) {
        size_t cap = r->rcap ? r->rcap * 2 : 256;
        struct mrow *n = realloc(r->rows, cap * sizeof(*n));
        if (n == NULL) {
            r->oom = 1;
            return NL_ENOMEM;
        }
        r->rows = n;
        r->rcap = cap;
    }
    r->rows[r->nrows].actor = (size_t)a;
    r->rows[r->nrows].day = day_number(date);
    r->rows[r->nrows].mentions = m;
    r->nrows++;
    return 0;
}

static int on_actor(const json_t *row, void *arg)
{
    struct rep *r = arg;
    const char *id = json_string_value(json_object_get(row, "id"));
    const char *name = json_string_value(json_object_get(row, "name"));
    long a = id != NULL ? find_actor(r, id) : -1;

    if (a >= 0 && name != NULL && r->actors[a].name == NULL) {
        r->actors[a].name = strdup(name);
    }
    return 0;
}

static int on_relation(const json_t *row, void *arg)
{
    struct rep *r = arg;
    const char *a = json_string_value(json_object_get(row, "a"));
    const char *b = json_string_value(json_object_get(row, "b"));
    long ia = a != NULL ? find_actor(r, a) : -1, ib = b != NULL ? find_actor(r, b) : -1;

    if (ia < 0 || ib < 0 || ia == ib || r->actors[ia].rank < 0 || r->actors[ib].rank < 0) {
        return 0;
    }
    if (r->nedges == r->ecap) {
        size_t cap = r->ecap ? r->ecap * 2 : 64;
        struct redge *n = realloc(r->edges, cap * sizeof(*n));
        if (n == NULL) {
            r->oom = 1;
            return NL_ENOMEM;
        }
        r->edges = n;
        r->ecap = cap;
    }
    r->edges[r->nedges].a = (size_t)ia;
    r->edges[r->nedges].b = (size_t)ib;
    r->edges[r->nedges].count = (long)json_integer_value(json_object_get(row, "count"));
    r->edges[r->nedges].docs = (long)json_integer_value(json_object_get(row, "documents"));
    r->nedges++;
    return 0;
}

static const struct rep *sort_rep;

/* Most mentioned first, then by id, so the page is the same every run. */
static int by_total(const void *x, const void *y)
{
    const struct ractor *a = &sort_rep->actors[*(const size_t *)x];
    const struct ractor *b = &sort_rep->actors[*(const size_t *)y];
    if (a->total != b->total) {
        return a->total > b->total ? -1 : 1;
    }
    return strcmp(a->id, b->id);
}

/* Picks the top actors and fills their series, per day or per week. */
static int rank_and_bucket(struct rep *r, size_t ntop, int by)
{
    size_t *order = malloc((r->nactors + 1) * sizeof(*order));
    long lo = -1, hi = -1;

    if (order == NULL) {
        return NL_ENOMEM;
    }
    for (size_t i = 0; i < r->nactors; i++) {
        order[i] = i;
    }
    sort_rep = r;
    qsort(order, r->nactors, sizeof(*order), by_total);
    r->ntop = r->nactors < ntop ? r->nactors : ntop;
    for (size_t k = 0; k < r->ntop; k++) {
        r->top[k] = order[k];
        r->actors[order[k]].rank = (int)k;
    }
    free(order);
    for (size_t i = 0; i < r->nrows; i++) {
        if (r->actors[r->rows[i].actor].rank < 0) {
            continue;
        }
        if (lo < 0 || r->rows[i].day < lo) {
            lo = r->rows[i].day;
        }
        if (r->rows[i].day > hi) {
            hi = r->rows[i].day;
        }
    }
    r->nbuckets = 0;
    if (lo < 0) {
        return 0;
    }
    /* a day per point up to three months, else a week per point */
    r->weekly = by == 'w' || (by == 0 && hi - lo > 92);
    if (r->weekly) {
        lo = week_start(lo);
        hi = week_start(hi);
        r->nbuckets = (hi - lo) / 7 + 1;
    } else {
        r->nbuckets = hi - lo + 1;
    }
    r->first_day = lo;
    for (size_t k = 0; k < r->ntop; k++) {
        r->actors[r->top[k]].series = calloc((size_t)r->nbuckets, sizeof(long));
        if (r->actors[r->top[k]].series == NULL) {
            return NL_ENOMEM;
        }
    }
    for (size_t i = 0; i < r->nrows; i++) {
        struct ractor *a = &r->actors[r->rows[i].actor];
        long d = r->rows[i].day;
        if (a->rank >= 0) {
            a->series[r->weekly ? (week_start(d) - lo) / 7 : d - lo] += r->rows[i].mentions;
        }
    }
    return 0;
}

/* ---- the charts ------------------------------------------------------------------ */

/* A round step (1, 2, 5 times a power of ten) giving about five ticks. */
static long nice_step(long max)
{
    long step = 1;
    for (;;) {
        for (int m = 1; m <= 5; m = m == 1 ? 2 : 5) {
            if (step * m * 5 >= max) {
                return step * m;
            }
            if (m == 5) {
                break;
            }
        }
        step *= 10;
    }
}

static void chart_mentions(FILE *f, const struct rep *r)
{
    const double W = 960, H = 380, ml = 60, mr = 220, mt = 16, mb = 60;
    const double pw = W - ml - mr, ph = H - mt - mb;
    long ymax = 1, step, ytop, label_every;
    size_t nseries = 0;

    for (size_t k = 0; k < r->ntop; k++) {
        const struct ractor *a = &r->actors[r->top[k]];
        for (long i = 0; i < r->nbuckets; i++) {
            ymax = a->series[i] > ymax ? a->series[i] : ymax;
        }
    }
    if (r->nbuckets == 0) {
        fputs("<p class=\"empty\">No dated documents: nothing to draw over time.</p>\n", f);
        return;
    }
    step = nice_step(ymax);
    ytop = (ymax + step - 1) / step * step;
    label_every = (r->nbuckets + 7) / 8;
    fprintf(f,
            "<svg class=\"chart\" id=\"mentions-chart\" xmlns=\"http://www.w3.org/2000/svg\" "
            "width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
            "aria-label=\"Mentions per actor per %s\">\n",
            W, H, W, H, r->weekly ? "week" : "day");
    /* y grid and labels */
    for (long v = 0; v <= ytop; v += step) {
        double y = mt + ph - ph * (double)v / (double)ytop;
        fprintf(f,
                "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%ld</text>\n",
                ml, y, ml + pw, y, ml - 6, y + 4, v);
    }
    fprintf(f,
            "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
            "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
            ml, mt, ml, mt + ph, ml, mt + ph, ml + pw, mt + ph);
    for (long i = 0; i < r->nbuckets; i++) {
        double x = ml + (r->nbuckets == 1 ? pw / 2 : pw * (double)i / (double)(r->nbuckets - 1));
        char day[16];
        fprintf(f, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", x,
                mt + ph, x, mt + ph + (i % label_every == 0 ? 6 : 3));
        if (i % label_every == 0) {
            day_string(r->first_day + i * (r->weekly ? 7 : 1), day);
            fprintf(f,
                    "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>",
                    x, mt + ph + 20, day);
        }
        fputc('\n', f);
    }
    fprintf(f,
            "<text class=\"axis-title\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n"
            "<text class=\"axis-title\" transform=\"translate(16 %.1f) rotate(-90)\" "
            "text-anchor=\"middle\">mentions</text>\n",
            ml + pw / 2, H - 12, r->weekly ? "week starting (Monday)" : "published day",
            mt + ph / 2);
    for (size_t k = 0; k < r->ntop; k++) {
        const struct ractor *a = &r->actors[r->top[k]];
        long dated = a->total - a->undated;
        double ly = mt + 10 + 20 * (double)k;
        /* the legend lists every top actor; a series only those with dated mentions */
        fprintf(f,
                "<g class=\"legend\"><rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" "
                "fill=\"%s\"/><text x=\"%.1f\" y=\"%.1f\">",
                ml + pw + 24, ly - 10, color_of(a), ml + pw + 42, ly);
        esc(f, actor_label(a));
        fprintf(f, " (%ld)</text></g>\n", a->total);
        if (dated <= 0) {
            continue;
        }
        nseries++;
        fprintf(f, "<g class=\"series\" data-actor=\"");
        esc(f, a->id);
        fprintf(f,
                "\" fill=\"%s\" stroke=\"%s\">\n<polyline class=\"line\" fill=\"none\" "
                "stroke-width=\"2\" points=\"",
                color_of(a), color_of(a));
        for (long i = 0; i < r->nbuckets; i++) {
            double x =
                ml + (r->nbuckets == 1 ? pw / 2 : pw * (double)i / (double)(r->nbuckets - 1));
            double y = mt + ph - ph * (double)a->series[i] / (double)ytop;
            fprintf(f, "%s%.1f,%.1f", i ? " " : "", x, y);
        }
        fputs("\"/>\n", f);
        for (long i = 0; i < r->nbuckets; i++) {
            double x =
                ml + (r->nbuckets == 1 ? pw / 2 : pw * (double)i / (double)(r->nbuckets - 1));
            double y = mt + ph - ph * (double)a->series[i] / (double)ytop;
            char day[16];
            if (a->series[i] == 0) {
                continue;
            }
            day_string(r->first_day + i * (r->weekly ? 7 : 1), day);
            fprintf(f, "<circle class=\"point\" cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\"><title>", x, y);
            esc(f, actor_label(a));
            fprintf(f, ", %s %s: %ld mentions</title></circle>\n", r->weekly ? "week of" : "", day,
                    a->series[i]);
        }
        fputs("</g>\n", f);
    }
    fputs("</svg>\n", f);
    fprintf(f, "<p class=\"note\">%zu series, one point per %s.</p>\n", nseries,
            r->weekly ? "week" : "day");
}

static void chart_undated(FILE *f, const struct rep *r)
{
    const double label_w = 200, bar_w = 560, row_h = 22;
    long max = 0;
    size_t n = 0, k2 = 0;

    for (size_t k = 0; k < r->ntop; k++) {
        const struct ractor *a = &r->actors[r->top[k]];
        if (a->undated > 0) {
            n++;
            max = a->undated > max ? a->undated : max;
        }
    }
    if (n == 0) {
        fputs("<p class=\"empty\">No undated documents mention these actors.</p>\n", f);
        return;
    }
    fprintf(f,
            "<svg class=\"chart\" id=\"undated-chart\" xmlns=\"http://www.w3.org/2000/svg\" "
            "width=\"%.0f\" height=\"%.0f\" role=\"img\" aria-label=\"Mentions in undated "
            "documents\">\n",
            label_w + bar_w + 120, row_h * (double)n + 10);
    for (size_t k = 0; k < r->ntop; k++) {
        const struct ractor *a = &r->actors[r->top[k]];
        double y = 5 + row_h * (double)k2, w;
        if (a->undated <= 0) {
            continue;
        }
        k2++;
        w = bar_w * (double)a->undated / (double)max;
        fprintf(f, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", label_w - 8,
                y + 14);
        esc(f, actor_label(a));
        fprintf(f,
                "</text><rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                "fill=\"%s\"/><text class=\"tick\" x=\"%.1f\" y=\"%.1f\">%ld in %ld "
                "document%s</text>\n",
                label_w, y + 2, w < 1 ? 1 : w, row_h - 6, color_of(a), label_w + w + 6, y + 14,
                a->undated, a->undated_docs, a->undated_docs == 1 ? "" : "s");
    }
    fputs("</svg>\n", f);
}

/* Nodes on a circle, most mentioned at the top and clockwise from there:
 * the same corpus always gives the same picture. */
static void chart_network(FILE *f, const struct rep *r)
{
    const double W = 820, H = 640, cx = W / 2, cy = H / 2, R = 230;
    long maxt = 1, maxc = 1;
    double x[REPORT_MAX_TOP], y[REPORT_MAX_TOP], ang[REPORT_MAX_TOP];

    if (r->ntop == 0) {
        fputs("<p class=\"empty\">No actors.</p>\n", f);
        return;
    }
    for (size_t k = 0; k < r->ntop; k++) {
        const struct ractor *a = &r->actors[r->top[k]];
        maxt = a->total > maxt ? a->total : maxt;
        ang[k] = -M_PI / 2 + 2 * M_PI * (double)k / (double)r->ntop;
        x[k] = r->ntop == 1 ? cx : cx + R * cos(ang[k]);
        y[k] = r->ntop == 1 ? cy : cy + R * sin(ang[k]);
    }
    for (size_t e = 0; e < r->nedges; e++) {
        maxc = r->edges[e].count > maxc ? r->edges[e].count : maxc;
    }
    fprintf(f,
            "<svg class=\"chart\" id=\"network-chart\" xmlns=\"http://www.w3.org/2000/svg\" "
            "width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
            "aria-label=\"Actor co-occurrence network\">\n",
            W, H, W, H);
    for (size_t e = 0; e < r->nedges; e++) {
        const struct redge *ed = &r->edges[e];
        int ka = r->actors[ed->a].rank, kb = r->actors[ed->b].rank;
        fprintf(f,
                "<line class=\"edge\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                "stroke-width=\"%.2f\" data-a=\"",
                x[ka], y[ka], x[kb], y[kb], 1 + 9 * (double)ed->count / (double)maxc);
        esc(f, r->actors[ed->a].id);
        fputs("\" data-b=\"", f);
        esc(f, r->actors[ed->b].id);
        fputs("\"><title>", f);
        esc(f, actor_label(&r->actors[ed->a]));
        fputs(" \xe2\x80\x93 ", f);
        esc(f, actor_label(&r->actors[ed->b]));
        fprintf(f, ": %ld sentence%s in %ld document%s</title></line>\n", ed->count,
                ed->count == 1 ? "" : "s", ed->docs, ed->docs == 1 ? "" : "s");
    }
    for (size_t k = 0; k < r->ntop; k++) {
        const struct ractor *a = &r->actors[r->top[k]];
        double rad = 6 + 22 * sqrt((double)a->total / (double)maxt);
        double c = cos(ang[k]), lx = x[k] + (rad + 6) * c, ly = y[k] + (rad + 6) * sin(ang[k]);
        const char *anchor = r->ntop == 1 ? "middle"
                             : c > 0.2    ? "start"
                             : c < -0.2   ? "end"
                                          : "middle";
        if (r->ntop == 1) {
            ly = y[k] + rad + 16;
            lx = x[k];
        } else if (c >= -0.2 && c <= 0.2) {
            ly += sin(ang[k]) > 0 ? 12 : -4;
        } else {
            ly += 4;
        }
        fputs("<g class=\"node\" data-actor=\"", f);
        esc(f, a->id);
        fprintf(f, "\"><circle class=\"node\" cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\">",
                x[k], y[k], rad, color_of(a));
        fputs("<title>", f);
        esc(f, actor_label(a));
        fprintf(f,
                ": %ld mentions</title></circle><text class=\"label\" x=\"%.1f\" y=\"%.1f\" "
                "text-anchor=\"%s\">",
                a->total, lx, ly, anchor);
        esc(f, actor_label(a));
        fputs("</text></g>\n", f);
    }
    fputs("</svg>\n", f);
    fprintf(f, "<p class=\"note\">%zu actors, %zu pairs named in one sentence.</p>\n", r->ntop,
            r->nedges);
}

/* ---- the latest documents and their evidence ------------------------------------- */

struct sent {
    int field; /* 0 title, 1 text */
    long start, end;
    const char *text; /* the evidence's own text, or NULL: sliced from the files */
    char labels[256];
};

static int by_position(const void *x, const void *y)
{
    const struct sent *a = x, *b = y;
    if (a->field != b->field) {
        return a->field - b->field;
    }
    if (a->start != b->start) {
        return a->start < b->start ? -1 : 1;
    }
    return a->end < b->end ? -1 : a->end > b->end;
}

static int field_of(const json_t *j)
{
    const char *f = json_string_value(json_object_get(j, "field"));
    return f == NULL ? -1 : strcmp(f, "title") == 0 ? 0 : strcmp(f, "text") == 0 ? 1 : -1;
}

/* 1 if one of the mentions lies inside [start, end) of the field. */
static int mentions_within(const json_t *mentions, int field, long start, long end)
{
    size_t i;
    json_t *m;
    json_array_foreach(mentions, i, m)
    {
        long ms = (long)json_integer_value(json_object_get(m, "start"));
        long me = (long)json_integer_value(json_object_get(m, "end"));
        if (field_of(m) == field && ms >= start && me <= end) {
            return 1;
        }
    }
    return 0;
}

static void label_add(struct sent *s, const char *what)
{
    size_t n = strlen(s->labels);
    snprintf(s->labels + n, sizeof(s->labels) - n, "%s%s", n ? "; " : "", what);
}

static char *slurp(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    if (f == NULL) {
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || (size_t)n > max ||
        fseek(f, 0, SEEK_SET) != 0 || (buf = malloc((size_t)n + 1)) == NULL) {
        fclose(f);
        return NULL;
    }
    *len = fread(buf, 1, (size_t)n, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

struct docs_ctx {
    FILE *f;
    const char *dir;
    const struct rep *r;
    const struct ractor *actor;
    size_t shown;
};

/* The sentences of one document that name the actor and are evidence of
 * an event or of a pair with another actor, in document order. */
static void write_evidence(struct docs_ctx *c, const char *file)
{
    size_t flen = strlen(file), tlen = 0, nsent = 0, cap = 0, i, j;
    char path[4096];
    json_t *side = NULL, *tags, *mentions = NULL, *e;
    const char *title;
    char *txt = NULL;
    long toff, tbytes;
    struct sent *sents = NULL;
    FILE *f = c->f;

    /* the index's file name, never a path out of the corpus */
    if (strchr(file, '/') != NULL || flen < 5 || strcmp(file + flen - 4, ".txt") != 0 ||
        (size_t)snprintf(path, sizeof(path), "%s/%.*s.json", c->dir, (int)(flen - 4), file) >=
            sizeof(path)) {
        return;
    }
    side = json_load_file(path, 0, NULL);
    snprintf(path, sizeof(path), "%s/%s", c->dir, file);
    txt = slurp(path, (size_t)1 << 28, &tlen);
    tags = json_object_get(json_object_get(side, "record"), "tags");
    title = json_string_value(json_object_get(json_object_get(side, "record"), "title"));
    toff = (long)json_integer_value(json_object_get(side, "text_offset"));
    tbytes = (long)json_integer_value(json_object_get(side, "text_bytes"));
    json_array_foreach(json_object_get(tags, "actors"), i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "id")) ?: "", c->actor->id) == 0) {
            mentions = json_object_get(e, "mentions");
        }
    }
    for (int pass = 0; pass < 2; pass++) {
        json_t *list = json_object_get(tags, pass == 0 ? "events" : "relations");
        json_array_foreach(list, i, e)
        {
            json_t *ev = json_object_get(e, pass == 0 ? "evidence" : "sentences"), *s;
            char label[160];
            size_t k;
            if (pass == 0) {
                const char *l = json_string_value(json_object_get(e, "label"));
                snprintf(label, sizeof(label), "%s",
                         l != NULL ? l : json_string_value(json_object_get(e, "id")) ?: "event");
            } else {
                json_t *pair = json_object_get(e, "actors");
                const char *a = json_string_value(json_array_get(pair, 0));
                const char *b = json_string_value(json_array_get(pair, 1));
                const char *other;
                long o;
                if (a == NULL || b == NULL ||
                    (strcmp(a, c->actor->id) != 0 && strcmp(b, c->actor->id) != 0)) {
                    continue;
                }
                other = strcmp(a, c->actor->id) == 0 ? b : a;
                o = find_actor(c->r, other);
                snprintf(label, sizeof(label), "with %s",
                         o >= 0 ? actor_label(&c->r->actors[o]) : other);
            }
            json_array_foreach(ev, k, s)
            {
                struct sent st;
                memset(&st, 0, sizeof(st));
                st.field = field_of(s);
                st.start = (long)json_integer_value(json_object_get(s, "start"));
                st.end = (long)json_integer_value(json_object_get(s, "end"));
                st.text = json_string_value(json_object_get(s, "text"));
                if (st.field < 0 || st.start < 0 || st.end <= st.start ||
                    (pass == 0 && !mentions_within(mentions, st.field, st.start, st.end))) {
                    continue;
                }
                if (nsent == cap) {
                    struct sent *n = realloc(sents, (cap ? cap * 2 : 32) * sizeof(*n));
                    if (n == NULL) {
                        continue;
                    }
                    sents = n;
                    cap = cap ? cap * 2 : 32;
                }
                label_add(&st, label);
                sents[nsent++] = st;
            }
        }
    }
    if (nsent > 0) {
        qsort(sents, nsent, sizeof(*sents), by_position);
    }
    /* one entry per sentence, with every event and pair it evidences */
    for (i = 0, j = 0; i < nsent; i++) {
        if (j > 0 && by_position(&sents[j - 1], &sents[i]) == 0) {
            label_add(&sents[j - 1], sents[i].labels);
            if (sents[j - 1].text == NULL) {
                sents[j - 1].text = sents[i].text;
            }
        } else {
            sents[j++] = sents[i];
        }
    }
    nsent = j;
    if (nsent == 0) {
        fputs("<p class=\"none\">No event or pair evidence names this actor here.</p>\n", f);
    } else {
        fputs("<ul class=\"evidence\">\n", f);
    }
    for (i = 0; i < nsent && i < REPORT_SENTENCES; i++) {
        const struct sent *s = &sents[i];
        const char *src = s->text;
        size_t n = src != NULL ? strlen(src) : 0, out_len;
        char *clean;
        if (src == NULL && s->field == 0 && title != NULL && (size_t)s->end <= strlen(title)) {
            src = title + s->start;
            n = (size_t)(s->end - s->start);
        } else if (src == NULL && s->field == 1 && txt != NULL && toff >= 0 && s->end <= tbytes &&
                   (size_t)(toff + s->end) <= tlen) {
            src = txt + toff + s->start;
            n = (size_t)(s->end - s->start);
        }
        if (src == NULL) {
            continue;
        }
        clean = nl_utf8_sanitize(src, n, 1200, &out_len);
        fputs("<li><q>", f);
        if (clean != NULL) {
            esc_n(f, clean, out_len);
        }
        fputs(out_len < n ? "\xe2\x80\xa6</q> <span class=\"ev\">" : "</q> <span class=\"ev\">", f);
        esc(f, s->labels);
        fputs("</span></li>\n", f);
        free(clean);
    }
    if (nsent > REPORT_SENTENCES) {
        fprintf(f, "<li class=\"more\">and %zu more sentence%s</li>\n", nsent - REPORT_SENTENCES,
                nsent - REPORT_SENTENCES == 1 ? "" : "s");
    }
    if (nsent > 0) {
        fputs("</ul>\n", f);
    }
    free(sents);
    free(txt);
    json_decref(side);
}

static int on_doc(const json_t *row, void *arg)
{
    struct docs_ctx *c = arg;
    FILE *f = c->f;
    const char *date = json_string_value(json_object_get(row, "date"));
    const char *file = json_string_value(json_object_get(row, "file"));
    const char *title = json_string_value(json_object_get(row, "title"));
    size_t i;
    json_t *a;

    fputs("<li class=\"doc\"><div class=\"meta\"><time>", f);
    esc(f, date != NULL ? date : "undated");
    fputs("</time> \xc2\xb7 ", f);
    esc(f, json_string_value(json_object_get(row, "source")) ?: "-");
    fputs(" \xc2\xb7 <code>", f);
    esc(f, json_string_value(json_object_get(row, "id")));
    fprintf(f, "</code> v%lld \xc2\xb7 ",
            (long long)json_integer_value(json_object_get(row, "version")));
    json_array_foreach(json_object_get(row, "actors"), i, a)
    {
        if (strcmp(json_string_value(json_object_get(a, "id")) ?: "", c->actor->id) == 0) {
            fprintf(f, "%lld mentions", (long long)json_integer_value(json_object_get(a, "count")));
        }
    }
    fputs("</div>\n<div class=\"title\">", f);
    esc(f, title != NULL && title[0] != '\0' ? title : "(no title)");
    fputs("</div>\n", f);
    if (file != NULL) {
        write_evidence(c, file);
    }
    fputs("</li>\n", f);
    c->shown++;
    return ferror(f) ? NL_EIO : 0;
}

/* ---- the page -------------------------------------------------------------------- */

static const char css[] =
    "body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#222;"
    "background:#fff;margin:0 auto;max-width:1040px;padding:16px 24px}"
    "h1{font-size:26px;margin:8px 0}h2{font-size:20px;margin:28px 0 8px;border-bottom:1px "
    "solid #ddd}h3{font-size:16px;margin:18px 0 6px}"
    ".chart{display:block;max-width:100%;height:auto;margin:8px 0}"
    ".chart text{font:12px system-ui,sans-serif;fill:#333}"
    ".grid{stroke:#eee}.axis{stroke:#555}.axis-title{font-weight:600}"
    ".edge{stroke:#888;stroke-opacity:.55}.node circle{stroke:#fff;stroke-width:1.5}"
    ".label{font-weight:600}.note,.empty,.none{color:#666;font-size:13px}"
    ".docs{padding-left:20px}.doc{margin:10px 0}.meta{color:#666;font-size:13px}"
    ".title{font-weight:600}.evidence{margin:4px 0;padding-left:18px;font-size:14px}"
    ".ev{color:#666;font-size:12px}.swatch{display:inline-block;width:10px;height:10px;"
    "margin-right:6px;border-radius:2px}";

static int write_page(FILE *f, nl_index *ix, const struct rep *r, const ix_query *base,
                      const char *dir, long ndocs, long per_actor, char *errbuf, size_t errlen)
{
    char now[32];
    int rc = 0;

    nl_format_time_ms(nl_now_ms(), now);
    fprintf(f,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
            "style-src 'unsafe-inline'\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<title>newsline report</title>\n<style>%s</style>\n</head>\n<body>\n",
            css);
    fputs("<header><h1>newsline report</h1>\n<p class=\"note\">", f);
    fprintf(f, "%ld document%s (latest versions) in <code>", ndocs, ndocs == 1 ? "" : "s");
    esc(f, dir);
    fputs("</code>", f);
    if (base->since != NULL) {
        fputs(", published since ", f);
        esc(f, base->since);
    }
    fprintf(f, "; the %zu most mentioned actors; generated %s by newsline %s.</p></header>\n",
            r->ntop, now, NL_VERSION);

    fputs("<section id=\"mentions\"><h2>Mentions per actor over time</h2>\n", f);
    chart_mentions(f, r);
    fputs("<h3>Undated documents</h3>\n", f);
    chart_undated(f, r);
    fputs("</section>\n<section id=\"network\"><h2>Actor co-occurrence</h2>\n<p class=\"note\">"
          "Node size: mentions; edge width: sentences naming both actors.</p>\n",
          f);
    chart_network(f, r);
    fputs("</section>\n<section id=\"documents\"><h2>Latest documents per actor</h2>\n", f);
    for (size_t k = 0; k < r->ntop && rc == 0; k++) {
        const struct ractor *a = &r->actors[r->top[k]];
        struct docs_ctx c = {f, dir, r, a, 0};
        ix_query q = *base;
        q.actors[0] = a->id;
        q.nactors = 1;
        q.limit = per_actor;
        fputs("<article class=\"actor\" data-actor=\"", f);
        esc(f, a->id);
        fprintf(f, "\"><h3><span class=\"swatch\" style=\"background:%s\"></span>", color_of(a));
        esc(f, actor_label(a));
        fputs(" <small>(", f);
        esc(f, a->id);
        fprintf(f, ", %ld mentions)</small></h3>\n<ol class=\"docs\">\n", a->total);
        rc = ix_search(ix, &q, on_doc, &c, errbuf, errlen);
        fputs("</ol></article>\n", f);
    }
    fputs("</section>\n</body>\n</html>\n", f);
    return rc;
}

static int count_doc(const json_t *row, void *arg)
{
    (void)row;
    (*(long *)arg)++;
    return 0;
}

#define REPORT_USAGE                                                                               \
    "usage: report [--corpus DIR] [--out FILE] [--since DATE] [--top N] [--docs N] "               \
    "[--by day|week]"

int cli_report(const nl_config *cfg, int argc, char **argv)
{
    static const struct option opts[] = {{"corpus", required_argument, NULL, 'c'},
                                         {"out", required_argument, NULL, 'o'},
                                         {"since", required_argument, NULL, 's'},
                                         {"top", required_argument, NULL, 't'},
                                         {"docs", required_argument, NULL, 'd'},
                                         {"by", required_argument, NULL, 'b'},
                                         {NULL, 0, NULL, 0}};
    const char *dir = cfg->sink_corpus_dir, *out = "newsline-report.html";
    long top = 10, per_actor = 5, ndocs = 0;
    int by = 0, c, rc;
    ix_query q;
    struct rep r;
    nl_index *ix = NULL;
    char errbuf[512], tmp[4096];
    FILE *f = NULL;

    memset(&q, 0, sizeof(q));
    memset(&r, 0, sizeof(r));
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'c':
            dir = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 's':
            q.since = optarg;
            break;
        case 't':
        case 'd': {
            long v = strtol(optarg, &end, 10);
            long hi = c == 't' ? REPORT_MAX_TOP : 100;
            if (end == optarg || *end != '\0' || v < 1 || v > hi) {
                fprintf(stderr, "newsline report: --%s %s: must be 1 to %ld\n",
                        c == 't' ? "top" : "docs", optarg, hi);
                return NL_EXIT_USAGE;
            }
            *(c == 't' ? &top : &per_actor) = v;
            break;
        }
        case 'b':
            if (strcmp(optarg, "day") != 0 && strcmp(optarg, "week") != 0) {
                fprintf(stderr, "newsline report: --by %s: day or week\n", optarg);
                return NL_EXIT_USAGE;
            }
            by = optarg[0];
            break;
        default:
            fprintf(stderr, "newsline report: bad option \"%s\" (" REPORT_USAGE ")\n",
                    argv[optind - 1]);
            return NL_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "newsline report: unexpected argument \"%s\" (" REPORT_USAGE ")\n",
                argv[optind]);
        return NL_EXIT_USAGE;
    }
    if (q.since != NULL && !ix_valid_date(q.since)) {
        fprintf(stderr, "newsline report: --since %s: not a date (YYYY-MM-DD)\n", q.since);
        return NL_EXIT_USAGE;
    }
    if (ix_open(dir, IX_OPEN_QUERY, &ix, errbuf, sizeof(errbuf)) != 0) {
        fprintf(stderr, "newsline report: %s\n", errbuf);
        return NL_EXIT_FAIL;
    }
    rc = ix_count_mentions(ix, &q, on_mentions, &r, errbuf, sizeof(errbuf));
    rc = rc ? rc : rank_and_bucket(&r, (size_t)top, by);
    rc = rc ? rc : ix_actors(ix, on_actor, &r, errbuf, sizeof(errbuf));
    rc = rc ? rc : ix_count_relations(ix, &q, on_relation, &r, errbuf, sizeof(errbuf));
    q.limit = 0;
    rc = rc ? rc : ix_search(ix, &q, count_doc, &ndocs, errbuf, sizeof(errbuf));
    if (rc != 0) {
        if (rc == NL_ENOMEM || r.oom) {
            snprintf(errbuf, sizeof(errbuf), "out of memory");
        }
        fprintf(stderr, "newsline report: %s\n", errbuf);
        rc = NL_EXIT_FAIL;
        goto out;
    }
    /* written beside the target and renamed: a reader never sees half a page */
    if (strcmp(out, "-") == 0) {
        f = stdout;
    } else {
        snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", out, (long)getpid());
        f = fopen(tmp, "w");
        if (f == NULL) {
            fprintf(stderr, "newsline report: %s: %s\n", tmp, strerror(errno));
            rc = NL_EXIT_FAIL;
            goto out;
        }
    }
    rc = write_page(f, ix, &r, &q, dir, ndocs, per_actor, errbuf, sizeof(errbuf));
    if (rc == 0 && (fflush(f) != 0 || ferror(f))) {
        snprintf(errbuf, sizeof(errbuf), "%s: write failed: %s", out, strerror(errno));
        rc = NL_EIO;
    }
    if (f != stdout) {
        if (fclose(f) != 0 && rc == 0) {
            snprintf(errbuf, sizeof(errbuf), "%s: %s", out, strerror(errno));
            rc = NL_EIO;
        }
        if (rc == 0 && rename(tmp, out) != 0) {
            snprintf(errbuf, sizeof(errbuf), "%s: %s", out, strerror(errno));
            rc = NL_EIO;
        }
        if (rc != 0) {
            unlink(tmp);
        }
    }
    if (rc != 0) {
        fprintf(stderr, "newsline report: %s\n", errbuf);
        rc = NL_EXIT_FAIL;
        goto out;
    }
    if (f != stdout) {
        fprintf(stderr,
                "newsline report: wrote %s (%ld documents, %zu actors, %ld %s, %zu pairs)\n", out,
                ndocs, r.ntop, r.nbuckets, r.weekly ? "weeks" : "days", r.nedges);
    }
out:
    rep_free(&r);
    ix_close(ix);
    return rc;
}
