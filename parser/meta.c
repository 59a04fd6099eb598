/* Page metadata from the libxml2 tree px_html built, and from plain text.
 *
 * One iterative walk over the tree collects candidates per source (JSON-LD
 * scripts, meta tags, <time>, <link rel=canonical>, the first <h1> and the
 * short lines after it, author links); then each field is decided by a fixed
 * order of sources, written out below next to its reasons. */
#include "meta.h"

#include "nl_buf.h"
#include "nl_err.h"
#include "nl_text.h"

#include <ctype.h>
#include <jansson.h>
#include <libxml/uri.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MIN_YEAR 1990
#define SKEW_SECS 86400 /* a day: clock skew, and a date written in a zone ahead of ours */
#define MAX_TITLE 1000
#define MAX_DESC 2000
#define MAX_URL 2048
#define MAX_NAME 60
#define MAX_AUTHORS 20
#define LD_MAX_DEPTH 8
#define DATELINE_MAX 120 /* bytes of a line that can be a dateline or a byline */

/* ---- dates ------------------------------------------------------------- */

typedef struct px_dt {
    int y, mo, d, h, mi, s;
    int has_time, has_off, off; /* off in minutes east of UTC */
} px_dt;

static int64_t days_from_civil(int y, int m, int d)
{
    /* Howard Hinnant's algorithm: days since 1970-01-01, proleptic Gregorian */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) {
        return 29;
    }
    return dm[m - 1];
}

/* 1 if the date is real, not before MIN_YEAR and not after now + skew. */
static int dt_ok(const px_dt *t, time_t now)
{
    int64_t secs;
    if (t->y < MIN_YEAR || t->y > 2200 || t->mo < 1 || t->mo > 12 || t->d < 1 ||
        t->d > days_in_month(t->y, t->mo) || t->h > 23 || t->mi > 59 || t->s > 60) {
        return 0;
    }
    secs = days_from_civil(t->y, t->mo, t->d) * 86400 + t->h * 3600 + t->mi * 60 + t->s -
           (t->has_off ? t->off * 60 : 0);
    return secs <= (int64_t)now + SKEW_SECS;
}

static void dt_format(const px_dt *t, char out[PX_DATE_LEN])
{
    if (!t->has_time) {
        snprintf(out, PX_DATE_LEN, "%04d-%02d-%02d", t->y, t->mo, t->d);
    } else if (!t->has_off) {
        snprintf(out, PX_DATE_LEN, "%04d-%02d-%02dT%02d:%02d:%02d", t->y, t->mo, t->d, t->h, t->mi,
                 t->s);
    } else {
        int a = t->off < 0 ? -t->off : t->off;
        snprintf(out, PX_DATE_LEN, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", t->y, t->mo, t->d,
                 t->h, t->mi, t->s, t->off < 0 ? '-' : '+', a / 60, a % 60);
    }
}

/* n digits at s (exactly, not followed by another digit when strict). */
static int digits(const char *s, const char *end, int n, int *v)
{
    int x = 0;
    if (end - s < n) {
        return 0;
    }
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) {
            return 0;
        }
        x = x * 10 + (s[i] - '0');
    }
    *v = x;
    return 1;
}

static const char *const month_names[] = {"january",   "february", "march",    "april",
                                          "may",       "june",     "july",     "august",
                                          "september", "october",  "november", "december"};

/* A month name or its abbreviation (3 letters, or "sept"), then an optional
 * '.'; 1-12 and *used, or 0. */
static int month_at(const char *s, const char *end, size_t *used)
{
    for (int m = 0; m < 12; m++) {
        const char *name = month_names[m];
        size_t full = strlen(name), n = 0;
        while (s + n < end && n < full && tolower((unsigned char)s[n]) == name[n]) {
            n++;
        }
        if (n == full || n == 3 || (m == 8 && n == 4)) {
            if (s + n < end && isalpha((unsigned char)s[n])) {
                continue;
            }
            if (n < full && s + n < end && s[n] == '.') {
                n++;
            }
            *used = n;
            return m + 1;
        }
    }
    return 0;
}

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) {
        p++;
    }
    /* U+00A0, common between a day and a month */
    while (end - p >= 2 && (unsigned char)p[0] == 0xC2 && (unsigned char)p[1] == 0xA0) {
        p += 2;
    }
    return p;
}

/* A day of the month, 1 or 2 digits, with an optional English ordinal. */
static const char *day_at(const char *p, const char *end, int *d)
{
    int n = 0, v = 0;
    while (p + n < end && n < 3 && isdigit((unsigned char)p[n])) {
        v = v * 10 + (p[n] - '0');
        n++;
    }
    if (n == 0 || n > 2) {
        return NULL;
    }
    p += n;
    if (end - p >= 2 && (strncasecmp(p, "st", 2) == 0 || strncasecmp(p, "nd", 2) == 0 ||
                         strncasecmp(p, "rd", 2) == 0 || strncasecmp(p, "th", 2) == 0)) {
        p += 2;
    }
    if (p < end && isalnum((unsigned char)*p)) {
        return NULL;
    }
    *d = v;
    return p;
}

static const char *year_at(const char *p, const char *end, int *y)
{
    if (!digits(p, end, 4, y) || (p + 4 < end && isalnum((unsigned char)p[4]))) {
        return NULL;
    }
    return p + 4;
}

/* "21 June 2024", "21st of June, 2024", "June 21, 2024", "Jun. 21 2024":
 * the end of the date, or NULL. */
static const char *written_at(const char *p, const char *end, px_dt *t)
{
    const char *q;
    size_t used;
    int m;

    if (p < end && isdigit((unsigned char)*p)) {
        q = day_at(p, end, &t->d);
        if (q == NULL) {
            return NULL;
        }
        q = skip_ws(q, end);
        if (end - q >= 3 && strncasecmp(q, "of ", 3) == 0) {
            q = skip_ws(q + 3, end);
        }
        m = month_at(q, end, &used);
        if (m == 0) {
            return NULL;
        }
        q += used;
        if (q < end && *q == ',') {
            q++;
        }
        q = skip_ws(q, end);
    } else {
        m = month_at(p, end, &used);
        if (m == 0) {
            return NULL;
        }
        q = skip_ws(p + used, end);
        q = day_at(q, end, &t->d);
        if (q == NULL) {
            return NULL;
        }
        if (q < end && *q == ',') {
            q++;
        }
        q = skip_ws(q, end);
    }
    t->mo = m;
    return year_at(q, end, &t->y);
}

/* "YYYY-MM-DD" (or with '/' or '.'; or 8 digits when compact): the end, or
 * NULL. */
static const char *iso_date_at(const char *p, const char *end, px_dt *t, int compact)
{
    char sep;
    if (!digits(p, end, 4, &t->y)) {
        return NULL;
    }
    if (compact && digits(p + 4, end, 2, &t->mo) && digits(p + 6, end, 2, &t->d) &&
        (p + 8 == end || !isdigit((unsigned char)p[8]))) {
        return p + 8;
    }
    if (end - p < 10) {
        return NULL;
    }
    sep = p[4];
    if ((sep != '-' && sep != '/' && sep != '.') || p[7] != sep || !digits(p + 5, end, 2, &t->mo) ||
        !digits(p + 8, end, 2, &t->d) || (p + 10 < end && isdigit((unsigned char)p[10]))) {
        return NULL;
    }
    return p + 10;
}

/* "[T ]HH:MM[:SS[.fff]][ ][Z|UTC|GMT|+HH[:]MM|-HH]" after a date; the end
 * (p itself when there is no time). */
static const char *time_at(const char *p, const char *end, px_dt *t)
{
    const char *q = p;
    if (q < end && (*q == 'T' || *q == ' ' || *q == ',')) {
        q = skip_ws(q + 1, end);
    }
    if (!digits(q, end, 2, &t->h) || q + 2 >= end || q[2] != ':' ||
        !digits(q + 3, end, 2, &t->mi)) {
        /* a one-digit hour, "9:30 AM", is left out: the date stands alone */
        return p;
    }
    q += 5;
    t->s = 0;
    if (q < end && *q == ':' && digits(q + 1, end, 2, &t->s)) {
        q += 3;
        if (q < end && (*q == '.' || *q == ',')) {
            q++;
            while (q < end && isdigit((unsigned char)*q)) {
                q++;
            }
        }
    }
    t->has_time = 1;
    {
        const char *ap = skip_ws(q, end);
        if (end - ap >= 2 && (ap[1] == 'M' || ap[1] == 'm') &&
            (end - ap == 2 || !isalpha((unsigned char)ap[2]))) {
            if ((ap[0] == 'P' || ap[0] == 'p') && t->h < 12) {
                t->h += 12;
                q = ap + 2;
            } else if (ap[0] == 'A' || ap[0] == 'a') {
                t->h = t->h == 12 ? 0 : t->h;
                q = ap + 2;
            }
        }
    }
    {
        const char *z = skip_ws(q, end);
        int hh, mm = 0;
        if (z < end && *z == 'Z') {
            t->has_off = 1;
            t->off = 0;
            return z + 1;
        }
        if (end - z >= 3 && (strncmp(z, "UTC", 3) == 0 || strncmp(z, "GMT", 3) == 0)) {
            t->has_off = 1;
            t->off = 0;
            z += 3;
            if (z >= end || (*z != '+' && *z != '-')) {
                return z;
            }
        }
        if (z < end && (*z == '+' || *z == '-') && digits(z + 1, end, 2, &hh)) {
            const char *r = z + 3;
            if (r < end && *r == ':') {
                r++;
            }
            if (digits(r, end, 2, &mm)) {
                r += 2;
            }
            if (hh <= 14 && mm < 60) {
                t->has_off = 1;
                t->off = (*z == '-' ? -1 : 1) * (hh * 60 + mm);
                return r;
            }
        }
    }
    return q;
}

int px_date_parse(const char *s, size_t n, time_t now, char out[PX_DATE_LEN])
{
    const char *p = s, *end = s + n, *q;
    px_dt t;

    memset(&t, 0, sizeof(t));
    out[0] = '\0';
    p = skip_ws(p, end);
    while (end > p && isspace((unsigned char)end[-1])) {
        end--;
    }
    q = iso_date_at(p, end, &t, 1);
    if (q == NULL) {
        /* RFC 2822 and written dates, after an optional weekday */
        const char *w = p;
        while (w < end && isalpha((unsigned char)*w)) {
            w++;
        }
        if (w > p && w < end && *w == ',' && month_at(p, end, &(size_t){0}) == 0) {
            p = skip_ws(w + 1, end);
        }
        q = written_at(p, end, &t);
    }
    if (q == NULL) {
        return -1;
    }
    q = time_at(q, end, &t);
    if (!t.has_time && q < end && isdigit((unsigned char)*q)) {
        return -1;
    }
    if (!dt_ok(&t, now)) {
        return -1;
    }
    dt_format(&t, out);
    return 0;
}

int px_date_find(const char *s, size_t n, time_t now, char out[PX_DATE_LEN], size_t *at)
{
    const char *end = s + n;
    out[0] = '\0';
    for (const char *p = s; p < end; p++) {
        px_dt t;
        const char *q = NULL;
        unsigned char c = (unsigned char)*p;
        if (p > s && isalnum((unsigned char)p[-1])) {
            continue;
        }
        if (!isalnum(c)) {
            continue;
        }
        memset(&t, 0, sizeof(t));
        if (isdigit(c)) {
            q = iso_date_at(p, end, &t, 0);
            if (q == NULL || p[4] != '-') {
                memset(&t, 0, sizeof(t));
                q = written_at(p, end, &t);
            }
        } else if (strchr("JFMASONDjfmasond", c) != NULL) {
            q = written_at(p, end, &t);
        }
        if (q != NULL && dt_ok(&t, now)) {
            dt_format(&t, out);
            *at = (size_t)(p - s);
            return 0;
        }
    }
    return -1;
}

int px_date_url(const char *url, time_t now, char out[PX_DATE_LEN])
{
    const char *p, *end;
    out[0] = '\0';
    if (url == NULL) {
        return -1;
    }
    p = strstr(url, "://");
    p = p != NULL ? strchr(p + 3, '/') : url;
    if (p == NULL) {
        return -1;
    }
    end = p + strcspn(p, "?#");
    for (; p < end; p++) {
        px_dt t;
        const char *q;
        int ok = 0;
        if (*p != '/' && *p != '-' && *p != '_') {
            continue;
        }
        memset(&t, 0, sizeof(t));
        q = p + 1;
        if (digits(q, end, 4, &t.y) && q + 4 < end) {
            char sep = q[4];
            if ((sep == '/' || sep == '-' || sep == '_') && digits(q + 5, end, 2, &t.mo) &&
                q + 7 < end && q[7] == sep && digits(q + 8, end, 2, &t.d) &&
                (q + 10 == end || !isdigit((unsigned char)q[10]))) {
                ok = 1;
            } else if (digits(q + 4, end, 2, &t.mo) && digits(q + 6, end, 2, &t.d) &&
                       (q + 8 == end || !isalnum((unsigned char)q[8]))) {
                ok = 1;
            } else if (sep == '/' && q + 9 < end && q[8] == '/') {
                /* /2019/nov/18/ (The Guardian, PolitiFact) */
                size_t used = 0;
                t.mo = month_at(q + 5, q + 8, &used);
                ok = t.mo != 0 && used == 3 && digits(q + 9, end, 2, &t.d) &&
                     (q + 11 == end || !isdigit((unsigned char)q[11]));
            }
        }
        if (ok && dt_ok(&t, now)) {
            dt_format(&t, out);
            return 0;
        }
    }
    return -1;
}

/* ---- strings ----------------------------------------------------------- */

/* s with white space collapsed and trimmed, at most max bytes (cut at a
 * character boundary), valid UTF-8; NULL if empty or out of memory (*oom). */
static char *clean_str(const char *s, size_t n, size_t max, int *oom)
{
    char *out, *w;
    size_t len;
    if (s == NULL) {
        return NULL;
    }
    out = malloc(n + 1);
    if (out == NULL) {
        *oom = 1;
        return NULL;
    }
    w = out;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int sp = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
        if (i + 1 < n && c == 0xC2 && (unsigned char)s[i + 1] == 0xA0) {
            sp = 1;
            i++;
        }
        if (c == 0) {
            break;
        }
        if (sp) {
            if (w > out && w[-1] != ' ') {
                *w++ = ' ';
            }
        } else {
            *w++ = (char)c;
        }
    }
    while (w > out && w[-1] == ' ') {
        w--;
    }
    len = (size_t)(w - out);
    if (len > max) {
        len = max;
        while (len > 0 && ((unsigned char)out[len] & 0xC0) == 0x80) {
            len--;
        }
    }
    out[len] = '\0';
    if (len == 0) {
        free(out);
        return NULL;
    }
    if (!nl_utf8_valid(out, len)) {
        size_t l2;
        char *t = nl_utf8_sanitize(out, len, max * 3, &l2);
        free(out);
        if (t == NULL) {
            *oom = 1;
        }
        return t;
    }
    return out;
}

static void set_once(char **slot, const char *s, size_t max, int *oom)
{
    if (*slot == NULL && s != NULL) {
        *slot = clean_str(s, strlen(s), max, oom);
    }
}

/* ---- authors ----------------------------------------------------------- */

typedef struct names {
    char *v[MAX_AUTHORS];
    uint8_t org[MAX_AUTHORS];
    size_t n;
} names;

static void names_free(names *ns)
{
    for (size_t i = 0; i < ns->n; i++) {
        free(ns->v[i]);
    }
    ns->n = 0;
}

static int names_has(const names *ns, const char *s)
{
    for (size_t i = 0; i < ns->n; i++) {
        if (strcasecmp(ns->v[i], s) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Words that make a byline an organisation, not a person. */
static const char *const org_words[] = {"news",    "staff",    "reuters",    "associated press",
                                        "afp",     "agency",   "desk",       "editorial",
                                        "editors", "team",     "bureau",     "media",
                                        "press",   "newsroom", "online",     "network",
                                        "service", "wire",     "journal",    "magazine",
                                        "times",   "daily",    "inc.",       "ltd",
                                        "limited", "group",    "foundation", "institute",
                                        "center",  "centre",   "university", "commentary",
                                        "admin",   NULL};

static int looks_org(const char *s)
{
    char low[MAX_NAME + 1];
    size_t n = 0;
    for (; s[n] != '\0' && n < MAX_NAME; n++) {
        low[n] = (char)tolower((unsigned char)s[n]);
    }
    low[n] = '\0';
    for (int i = 0; org_words[i] != NULL; i++) {
        const char *hit = strstr(low, org_words[i]);
        size_t wl = strlen(org_words[i]);
        if (hit != NULL && (hit == low || !isalpha((unsigned char)hit[-1])) &&
            !isalpha((unsigned char)hit[wl])) {
            return 1;
        }
    }
    return 0;
}

/* Adds one name after cleaning ("By " off, punctuation trimmed); a string
 * that cannot be a name (a URL, an e-mail address, digits, too long) is
 * skipped. 0 or NL_ENOMEM. */
static int names_add1(names *ns, const char *s, size_t n, int org)
{
    int oom = 0;
    char *c;
    size_t len;
    int letters = 0, words = 1;

    while (n > 0 && (isspace((unsigned char)*s) || *s == ',' || *s == '|' || *s == '-')) {
        s++;
        n--;
    }
    if (n >= 3 && strncasecmp(s, "by", 2) == 0 && (s[2] == ' ' || s[2] == ':')) {
        s += 3;
        n -= 3;
    }
    c = clean_str(s, n, 4 * MAX_NAME, &oom);
    if (c == NULL) {
        return oom ? NL_ENOMEM : 0;
    }
    len = strlen(c);
    while (len > 0 && strchr(",.;:|-", c[len - 1]) != NULL &&
           !(len >= 2 && isupper((unsigned char)c[len - 2]) && c[len - 1] == '.' &&
             (len == 2 || c[len - 3] == ' '))) {
        c[--len] = '\0';
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)c[i];
        if (isdigit(ch) || ch == '@' || ch == '/' || ch == '<' || ch == '{' || ch == '=') {
            letters = -1000;
            break;
        }
        letters += isalpha(ch) || ch >= 0xC0;
        words += ch == ' ';
    }
    if (len == 0 || len > MAX_NAME || letters < 2 || words > 6 || names_has(ns, c) ||
        ns->n == MAX_AUTHORS) {
        free(c);
        return 0;
    }
    ns->org[ns->n] = (uint8_t)(org || looks_org(c));
    ns->v[ns->n++] = c;
    return 0;
}

/* Adds the names of a byline: "Jane Doe and John Smith", "A, B & C". */
static int names_add(names *ns, const char *s, int org)
{
    const char *p = s;
    if (s == NULL) {
        return 0;
    }
    while (*p != '\0') {
        size_t n = 0;
        size_t step = 0;
        for (; p[n] != '\0'; n++) {
            if (p[n] == ',' || p[n] == ';' || p[n] == '&' || p[n] == '|' || p[n] == '\n') {
                step = 1;
                break;
            }
            if ((n == 0 || p[n - 1] == ' ') && strncasecmp(p + n, "and ", 4) == 0) {
                step = 4;
                break;
            }
        }
        if (names_add1(ns, p, n, org) != 0) {
            return NL_ENOMEM;
        }
        p += n + step;
        if (step == 0) {
            break;
        }
    }
    return 0;
}

/* ---- collected candidates -------------------------------------------------- */

enum { SRC_LD, SRC_META, SRC_TIME, SRC_URL, SRC_TEXT, N_SRC };
static const char *const src_name[N_SRC] = {"json-ld", "meta", "time", "url", "text"};

typedef struct meta_c {
    time_t now;
    int oom;
    char *title_og, *title_ld, *title_tag, *title_h1;
    char *site_og, *site_ld, *site_app;
    char *desc_og, *desc_meta, *desc_ld;
    char *canon_link, *canon_og, *canon_ld;
    char *lang_html, *lang_ld, *lang_http, *lang_og;
    /* per source, the best date so far and its rank (lower is better) */
    char pub[N_SRC][PX_DATE_LEN], mod[N_SRC][PX_DATE_LEN];
    int pub_rank[N_SRC], mod_rank[N_SRC];
    int ld_kind; /* 2: an article type gave the JSON-LD fields, 1: a page type */
    names au_ld, au_meta, au_body;
    xmlNode *h1;
    int n_time;
} meta_c;

static void put_date(meta_c *mc, int is_mod, int src, int rank, const char *s)
{
    char v[PX_DATE_LEN];
    int *r = is_mod ? &mc->mod_rank[src] : &mc->pub_rank[src];
    char *slot = is_mod ? mc->mod[src] : mc->pub[src];
    if (s == NULL || rank >= *r || px_date_parse(s, strlen(s), mc->now, v) != 0) {
        return;
    }
    memcpy(slot, v, PX_DATE_LEN);
    *r = rank;
}

/* ---- JSON-LD ----------------------------------------------------------- */

static int type_is(json_t *obj, int (*pred)(const char *))
{
    json_t *t = json_object_get(obj, "@type");
    if (json_is_string(t)) {
        return pred(json_string_value(t));
    }
    if (json_is_array(t)) {
        size_t i;
        json_t *v;
        json_array_foreach(t, i, v)
        {
            if (json_is_string(v) && pred(json_string_value(v))) {
                return 1;
            }
        }
    }
    return 0;
}

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

/* NewsArticle, Article, BlogPosting, ReportageNewsArticle, LiveBlogPosting,
 * Report, ... */
static int is_article_type(const char *t)
{
    return ends_with(t, "Article") || ends_with(t, "Posting") || strcmp(t, "Report") == 0;
}

static int is_page_type(const char *t)
{
    return ends_with(t, "Page");
}

static int is_org_type(const char *t)
{
    return ends_with(t, "Organization") || strcmp(t, "Corporation") == 0 ||
           strcmp(t, "WebSite") == 0;
}

static const char *ld_str(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (json_is_array(v)) {
        v = json_array_get(v, 0);
    }
    return json_string_value(v);
}

/* A string, or an object's "@id" / "url" / "name" (for mainEntityOfPage,
 * inLanguage). */
static const char *ld_str_or(json_t *obj, const char *key, const char *sub)
{
    json_t *v = json_object_get(obj, key);
    if (json_is_array(v)) {
        v = json_array_get(v, 0);
    }
    if (json_is_object(v)) {
        v = json_object_get(v, sub);
    }
    return json_string_value(v);
}

static json_t *ld_find_id(json_t *root, const char *id)
{
    json_t *graph = json_is_object(root) ? json_object_get(root, "@graph") : root;
    size_t i;
    json_t *v;
    if (!json_is_array(graph)) {
        return NULL;
    }
    json_array_foreach(graph, i, v)
    {
        const char *vid = json_string_value(json_object_get(v, "@id"));
        if (vid != NULL && strcmp(vid, id) == 0) {
            return v;
        }
    }
    return NULL;
}

static int ld_authors(meta_c *mc, json_t *root, json_t *a)
{
    size_t i;
    json_t *v;
    if (json_is_string(a)) {
        return names_add(&mc->au_ld, json_string_value(a), 0);
    }
    if (json_is_object(a)) {
        const char *name = json_string_value(json_object_get(a, "name"));
        const char *id = json_string_value(json_object_get(a, "@id"));
        if (name == NULL && id != NULL) {
            json_t *ref = ld_find_id(root, id);
            if (ref != NULL && ref != a) {
                a = ref;
                name = json_string_value(json_object_get(a, "name"));
            }
        }
        return names_add(&mc->au_ld, name, type_is(a, is_org_type));
    }
    if (json_is_array(a)) {
        json_array_foreach(a, i, v)
        {
            if (i >= MAX_AUTHORS || ld_authors(mc, root, v) != 0) {
                return i >= MAX_AUTHORS ? 0 : NL_ENOMEM;
            }
        }
    }
    return 0;
}

/* The fields of one typed object. An article type overrides what a page
 * type gave; the first article wins over later ones (a page that lists
 * related articles in JSON-LD lists its own first). */
static void ld_take(meta_c *mc, json_t *root, json_t *obj, int kind)
{
    json_t *pub;
    if (kind <= mc->ld_kind) {
        return;
    }
    if (kind == 2 && mc->ld_kind == 1) {
        /* an article after the page: start again from the article */
        free(mc->title_ld);
        free(mc->canon_ld);
        free(mc->desc_ld);
        mc->title_ld = mc->canon_ld = mc->desc_ld = NULL;
        mc->pub_rank[SRC_LD] = mc->mod_rank[SRC_LD] = 1000;
        mc->pub[SRC_LD][0] = mc->mod[SRC_LD][0] = '\0';
        names_free(&mc->au_ld);
    }
    mc->ld_kind = kind;
    set_once(&mc->title_ld, ld_str(obj, "headline"), MAX_TITLE, &mc->oom);
    if (kind == 1) {
        set_once(&mc->title_ld, ld_str(obj, "name"), MAX_TITLE, &mc->oom);
    }
    set_once(&mc->desc_ld, ld_str(obj, "description"), MAX_DESC, &mc->oom);
    set_once(&mc->canon_ld, ld_str_or(obj, "mainEntityOfPage", "@id"), MAX_URL, &mc->oom);
    set_once(&mc->canon_ld, ld_str(obj, "url"), MAX_URL, &mc->oom);
    set_once(&mc->lang_ld, ld_str_or(obj, "inLanguage", "alternateName"), 64, &mc->oom);
    pub = json_object_get(obj, "publisher");
    if (json_is_object(pub)) {
        set_once(&mc->site_ld, json_string_value(json_object_get(pub, "name")), MAX_TITLE,
                 &mc->oom);
    }
    put_date(mc, 0, SRC_LD, 0, ld_str(obj, "datePublished"));
    put_date(mc, 0, SRC_LD, 1, ld_str(obj, "dateCreated"));
    put_date(mc, 1, SRC_LD, 0, ld_str(obj, "dateModified"));
    if (ld_authors(mc, root, json_object_get(obj, "author")) != 0) {
        mc->oom = 1;
    }
    if (mc->au_ld.n == 0 && ld_authors(mc, root, json_object_get(obj, "creator")) != 0) {
        mc->oom = 1;
    }
}

static void ld_walk(meta_c *mc, json_t *root, json_t *v, int depth)
{
    size_t i;
    json_t *x;
    const char *key;
    if (depth > LD_MAX_DEPTH) {
        return;
    }
    if (json_is_array(v)) {
        json_array_foreach(v, i, x)
        {
            ld_walk(mc, root, x, depth + 1);
        }
        return;
    }
    if (!json_is_object(v)) {
        return;
    }
    if (type_is(v, is_article_type)) {
        ld_take(mc, root, v, 2);
    } else if (type_is(v, is_page_type)) {
        ld_take(mc, root, v, 1);
    }
    /* nested: @graph, mainEntity, hasPart... but not an article's own
     * author, publisher, image or related items */
    json_object_foreach(v, key, x)
    {
        if (strcmp(key, "@graph") == 0 || strcmp(key, "mainEntity") == 0 ||
            strcmp(key, "mainEntityOfPage") == 0) {
            ld_walk(mc, root, x, depth + 1);
        }
    }
}

static void ld_script(meta_c *mc, xmlNode *n)
{
    xmlChar *content = xmlNodeGetContent(n);
    const char *s = (const char *)content;
    size_t len;
    json_t *root;

    if (content == NULL) {
        return;
    }
    /* some CMSs wrap the JSON in a comment or CDATA */
    len = strlen(s);
    while (len > 0 && isspace((unsigned char)*s)) {
        s++;
        len--;
    }
    if (len >= 4 && strncmp(s, "<!--", 4) == 0) {
        s += 4;
        len -= 4;
    }
    if (len >= 11 && strncmp(s, "//<![CDATA[", 11) == 0) {
        s += 11;
        len -= 11;
    }
    root = json_loadb(s, len, JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY, NULL);
    if (root != NULL) {
        ld_walk(mc, root, root, 0);
        json_decref(root);
    }
    xmlFree(content);
}

/* ---- meta tags --------------------------------------------------------- */

typedef struct meta_rule {
    const char *key; /* property, name or itemprop, lower case */
    int field;       /* what it gives */
    int rank;        /* among meta dates, lower is better */
} meta_rule;

enum {
    M_PUB = 1,
    M_MOD,
    M_TITLE,
    M_SITE,
    M_URL,
    M_DESC,
    M_DESC2,
    M_LOCALE,
    M_AUTHOR,
    M_PARSELY,
    M_APP,
};

/* Published dates, best first: the Open Graph article field and schema.org
 * microdata are written per article by the CMS; the analytics tags
 * (Parse.ly, Sailthru) are per article too and exist only to be right; the
 * Dublin Core and Highwire (citation_*) tags are mostly on scholarly and
 * archive pages; a bare "date"/"pubdate" is sometimes the page's build
 * date, so it comes last. */
static const meta_rule meta_rules[] = {
    {"article:published_time", M_PUB, 0},
    {"og:article:published_time", M_PUB, 0},
    {"datepublished", M_PUB, 1},
    {"parsely-pub-date", M_PUB, 2},
    {"sailthru.date", M_PUB, 3},
    {"dc.date.issued", M_PUB, 4},
    {"dcterms.issued", M_PUB, 4},
    {"citation_publication_date", M_PUB, 4},
    {"citation_date", M_PUB, 5},
    {"dcterms.created", M_PUB, 5},
    {"dc.date.created", M_PUB, 5},
    {"publishdate", M_PUB, 6},
    {"publish-date", M_PUB, 6},
    {"pubdate", M_PUB, 6},
    {"og:published_time", M_PUB, 6},
    {"dc.date", M_PUB, 7},
    {"dcterms.date", M_PUB, 7},
    {"date", M_PUB, 7},
    {"article:modified_time", M_MOD, 0},
    {"datemodified", M_MOD, 1},
    {"og:updated_time", M_MOD, 2},
    {"dcterms.modified", M_MOD, 3},
    {"og:title", M_TITLE, 0},
    {"og:site_name", M_SITE, 0},
    {"application-name", M_APP, 0},
    {"og:url", M_URL, 0},
    {"og:description", M_DESC, 0},
    {"description", M_DESC2, 0},
    {"og:locale", M_LOCALE, 0},
    {"article:author", M_AUTHOR, 0},
    {"author", M_AUTHOR, 0},
    {"dc.creator", M_AUTHOR, 1},
    {"dcterms.creator", M_AUTHOR, 1},
    {"citation_author", M_AUTHOR, 1},
    {"parsely-author", M_AUTHOR, 1},
    {"sailthru.author", M_AUTHOR, 1},
    {"parsely-page", M_PARSELY, 0},
    {NULL, 0, 0},
};

static const char *attr(xmlNode *n, const char *name)
{
    for (xmlAttr *a = n->properties; a != NULL; a = a->next) {
        if (strcasecmp((const char *)a->name, name) == 0) {
            return a->children != NULL && a->children->type == XML_TEXT_NODE
                       ? (const char *)a->children->content
                       : "";
        }
    }
    return NULL;
}

static void parsely_page(meta_c *mc, const char *json)
{
    json_t *root = json_loads(json, 0, NULL);
    if (root == NULL) {
        return;
    }
    put_date(mc, 0, SRC_META, 2, json_string_value(json_object_get(root, "pub_date")));
    if (names_add(&mc->au_meta, json_string_value(json_object_get(root, "author")), 0) != 0) {
        mc->oom = 1;
    }
    json_decref(root);
}

static void meta_tag(meta_c *mc, xmlNode *n)
{
    const char *content = attr(n, "content");
    const char *keys[3] = {attr(n, "property"), attr(n, "name"), attr(n, "itemprop")};
    const char *he = attr(n, "http-equiv");

    if (content == NULL) {
        return;
    }
    if (he != NULL && strcasecmp(he, "content-language") == 0) {
        set_once(&mc->lang_http, content, 64, &mc->oom);
        return;
    }
    for (int k = 0; k < 3; k++) {
        if (keys[k] == NULL) {
            continue;
        }
        for (const meta_rule *r = meta_rules; r->key != NULL; r++) {
            if (strcasecmp(keys[k], r->key) != 0) {
                continue;
            }
            switch (r->field) {
            case M_PUB:
                put_date(mc, 0, SRC_META, r->rank, content);
                break;
            case M_MOD:
                put_date(mc, 1, SRC_META, r->rank, content);
                break;
            case M_TITLE:
                set_once(&mc->title_og, content, MAX_TITLE, &mc->oom);
                break;
            case M_SITE:
                set_once(&mc->site_og, content, MAX_TITLE, &mc->oom);
                break;
            case M_APP:
                set_once(&mc->site_app, content, MAX_TITLE, &mc->oom);
                break;
            case M_URL:
                set_once(&mc->canon_og, content, MAX_URL, &mc->oom);
                break;
            case M_DESC:
                set_once(&mc->desc_og, content, MAX_DESC, &mc->oom);
                break;
            case M_DESC2:
                set_once(&mc->desc_meta, content, MAX_DESC, &mc->oom);
                break;
            case M_LOCALE:
                set_once(&mc->lang_og, content, 64, &mc->oom);
                break;
            case M_AUTHOR:
                /* article:author is often a profile URL: names_add drops it */
                if (names_add(&mc->au_meta, content, 0) != 0) {
                    mc->oom = 1;
                }
                break;
            case M_PARSELY:
                parsely_page(mc, content);
                break;
            }
            break;
        }
    }
}

/* ---- <time> ------------------------------------------------------------ */

static int class_has(xmlNode *n, const char *const *words)
{
    const char *v[2] = {attr(n, "class"), attr(n, "id")};
    for (int k = 0; k < 2; k++) {
        char low[128];
        size_t i = 0;
        if (v[k] == NULL) {
            continue;
        }
        for (; v[k][i] != '\0' && i < sizeof(low) - 1; i++) {
            low[i] = (char)tolower((unsigned char)v[k][i]);
        }
        low[i] = '\0';
        for (int w = 0; words[w] != NULL; w++) {
            if (strstr(low, words[w]) != NULL) {
                return 1;
            }
        }
    }
    return 0;
}

static int is_inside(xmlNode *n, xmlNode *anc)
{
    for (; n != NULL; n = n->parent) {
        if (n == anc) {
            return 1;
        }
    }
    return 0;
}

static int in_article(xmlNode *n)
{
    for (n = n->parent; n != NULL && n->type == XML_ELEMENT_NODE; n = n->parent) {
        if (strcasecmp((const char *)n->name, "article") == 0) {
            return 1;
        }
    }
    return 0;
}

/* A <time datetime>: a published date when it says so (itemprop, pubdate,
 * or a class like "published" on it or its two nearest ancestors),
 * better inside the article; a modified date by itemprop or class. Unhinted
 * times outside the article (a sidebar's list of stories) score 0 and are
 * used only when the page has a single <time>. */
static const char *const pub_words[] = {"publish", "posted", "pubdate", "dateline", "byline",
                                        "date",    "time",   "meta",    NULL};
static const char *const mod_words[] = {"updated", "modified", NULL};

static void time_tag(meta_c *mc, xmlNode *n, xmlNode *content, char best[PX_DATE_LEN],
                     int *best_score)
{
    const char *dt = attr(n, "datetime");
    const char *ip = attr(n, "itemprop");
    char v[PX_DATE_LEN];
    int score = 0, mod = 0;

    if (dt == NULL || px_date_parse(dt, strlen(dt), mc->now, v) != 0) {
        return;
    }
    mc->n_time++;
    if (ip != NULL && strcasecmp(ip, "dateModified") == 0) {
        mod = 1;
    } else if (ip != NULL && strcasecmp(ip, "datePublished") == 0) {
        score = 4;
    } else if (attr(n, "pubdate") != NULL) {
        score = 4;
    } else {
        xmlNode *a = n;
        for (int up = 0; up < 3 && a != NULL && a->type == XML_ELEMENT_NODE; up++, a = a->parent) {
            if (class_has(a, mod_words)) {
                mod = 1;
                break;
            }
            if (class_has(a, pub_words)) {
                score = 2;
                break;
            }
        }
    }
    if (mod) {
        if (mc->mod[SRC_TIME][0] == '\0') {
            memcpy(mc->mod[SRC_TIME], v, PX_DATE_LEN);
        }
        return;
    }
    if ((content != NULL && is_inside(n, content)) || in_article(n)) {
        score++;
    }
    if (score > *best_score) {
        *best_score = score;
        memcpy(best, v, PX_DATE_LEN);
    }
}

/* ---- text near the headline -------------------------------------------- */

static int is_block_name(const char *name)
{
    static const char *const blocks[] = {
        "p",    "div",   "li", "section", "header",     "footer", "article",
        "td",   "h2",    "h3", "h4",      "h5",         "h6",     "ul",
        "ol",   "dd",    "dt", "figure",  "figcaption", "aside",  "blockquote",
        "main", "table", "tr", "address", NULL};
    for (int i = 0; blocks[i] != NULL; i++) {
        if (strcasecmp(name, blocks[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

/* The short lines (blocks) after the first <h1>, up to the first long one
 * (the article has begun): a dateline there ("June 21, 2024 | 5 min read")
 * is the page's date; a date inside a paragraph is usually an event's. */
static void text_after_h1(meta_c *mc)
{
    nl_buf line;
    xmlNode *n = mc->h1, *cur_blk = NULL;
    int lines = 0;

    if (n == NULL) {
        return;
    }
    nl_buf_init(&line, 4096);
    /* next node after h1's subtree, in document order */
    while (n != NULL && n->next == NULL) {
        n = n->parent;
    }
    n = n != NULL ? n->next : NULL;
    while (n != NULL && lines < 12) {
        int descend = 0;
        if (n->type == XML_ELEMENT_NODE) {
            const char *nm = (const char *)n->name;
            descend = strcasecmp(nm, "script") != 0 && strcasecmp(nm, "style") != 0 &&
                      strcasecmp(nm, "noscript") != 0 && strcasecmp(nm, "template") != 0 &&
                      n->children != NULL;
        } else if (n->type == XML_TEXT_NODE && n->content != NULL &&
                   n->content[strspn((const char *)n->content, " \t\r\n")] != '\0') {
            xmlNode *blk = n->parent;
            while (blk != NULL && blk->type == XML_ELEMENT_NODE &&
                   !is_block_name((const char *)blk->name)) {
                blk = blk->parent;
            }
            if (blk != cur_blk) {
                char v[PX_DATE_LEN];
                size_t at;
                if (line.len > 0) {
                    lines++;
                    if (line.len >= DATELINE_MAX) {
                        break;
                    }
                    if (px_date_find(line.ptr, line.len, mc->now, v, &at) == 0 &&
                        (at <= 40 || line.len <= 60)) {
                        memcpy(mc->pub[SRC_TEXT], v, PX_DATE_LEN);
                        break;
                    }
                }
                nl_buf_reset(&line);
                cur_blk = blk;
            }
            if (nl_buf_append(&line, n->content, strlen((const char *)n->content)) != 0 ||
                nl_buf_append(&line, " ", 1) != 0) {
                /* a single text node over 4 KB: the article has begun */
                break;
            }
        }
        if (descend) {
            n = n->children;
            continue;
        }
        while (n != NULL && n->next == NULL) {
            n = n->parent;
        }
        n = n != NULL ? n->next : NULL;
    }
    if (mc->pub[SRC_TEXT][0] == '\0' && line.len > 0 && line.len < DATELINE_MAX) {
        char v[PX_DATE_LEN];
        size_t at;
        if (px_date_find(line.ptr, line.len, mc->now, v, &at) == 0 &&
            (at <= 40 || line.len <= 60)) {
            memcpy(mc->pub[SRC_TEXT], v, PX_DATE_LEN);
        }
    }
    nl_buf_free(&line);
}

/* ---- the walk ---------------------------------------------------------- */

static int is_raw_text_element(const xmlNode *n)
{
    return n->type == XML_ELEMENT_NODE && (strcasecmp((const char *)n->name, "script") == 0 ||
                                           strcasecmp((const char *)n->name, "style") == 0);
}

/* The element's text as xmlNodeGetContent gives it (its text and CDATA
 * descendants in document order), but without what is inside <script> and
 * <style>: code is not a title or a name, and px_html_utf8 may have removed
 * it before the parse (extract.c), which must not change the result. */
static char *node_text_clean(xmlNode *n, size_t max, int *oom)
{
    nl_buf b;
    xmlNode *c = n->children;
    char *out;

    if (is_raw_text_element(n)) {
        return clean_str("", 0, max, oom);
    }
    nl_buf_init(&b, SIZE_MAX / 2);
    while (c != NULL && c != n) {
        int descend = 0;
        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content != NULL) {
            if (nl_buf_append(&b, c->content, strlen((const char *)c->content)) != 0) {
                *oom = 1;
                return NULL;
            }
        } else if (c->type == XML_ELEMENT_NODE) {
            descend = !is_raw_text_element(c) && c->children != NULL;
        }
        if (descend) {
            c = c->children;
            continue;
        }
        while (c != n && c->next == NULL) {
            c = c->parent;
        }
        if (c == n) {
            break;
        }
        c = c->next;
    }
    out = clean_str(b.ptr != NULL ? b.ptr : "", b.len, max, oom);
    nl_buf_free(&b);
    return out;
}

static void body_author(meta_c *mc, xmlNode *n)
{
    const char *rel = attr(n, "rel");
    const char *ip = attr(n, "itemprop");
    static const char *const by_words[] = {"byline", "author-name", "authorname", NULL};
    char *t = NULL;

    if (mc->au_body.n >= MAX_AUTHORS) {
        return;
    }
    if ((rel != NULL && strcasecmp(rel, "author") == 0) ||
        (ip != NULL && strcasecmp(ip, "author") == 0) || class_has(n, by_words)) {
        /* itemprop=author often wraps itemprop=name; its text is the name */
        t = node_text_clean(n, 200, &mc->oom);
        if (t != NULL && strlen(t) < 100 && names_add(&mc->au_body, t, 0) != 0) {
            mc->oom = 1;
        }
        free(t);
    }
}

static void walk(meta_c *mc, xmlNode *root, xmlNode *content)
{
    xmlNode *n = root;
    char time_best[PX_DATE_LEN] = "";
    int time_score = -1;

    while (n != NULL) {
        int descend = n->children != NULL;
        if (n->type == XML_ELEMENT_NODE) {
            const char *nm = (const char *)n->name;
            switch (tolower((unsigned char)nm[0])) {
            case 'm':
                if (strcasecmp(nm, "meta") == 0) {
                    meta_tag(mc, n);
                }
                break;
            case 'l':
                if (strcasecmp(nm, "link") == 0) {
                    const char *rel = attr(n, "rel");
                    if (rel != NULL && strcasecmp(rel, "canonical") == 0) {
                        set_once(&mc->canon_link, attr(n, "href"), MAX_URL, &mc->oom);
                    }
                }
                break;
            case 's':
                if (strcasecmp(nm, "script") == 0) {
                    const char *ty = attr(n, "type");
                    if (ty != NULL && strncasecmp(ty, "application/ld+json", 19) == 0) {
                        ld_script(mc, n);
                    }
                    descend = 0;
                } else if (strcasecmp(nm, "style") == 0) {
                    descend = 0;
                }
                break;
            case 't':
                if (strcasecmp(nm, "title") == 0) {
                    if (mc->title_tag == NULL) {
                        /* an <svg><title> is not the page's */
                        xmlNode *p = n->parent;
                        if (p == NULL || p->type != XML_ELEMENT_NODE ||
                            strcasecmp((const char *)p->name, "svg") != 0) {
                            mc->title_tag = node_text_clean(n, MAX_TITLE, &mc->oom);
                        }
                    }
                    descend = 0;
                } else if (strcasecmp(nm, "time") == 0) {
                    time_tag(mc, n, content, time_best, &time_score);
                }
                break;
            case 'h':
                if (strcasecmp(nm, "h1") == 0 && mc->h1 == NULL) {
                    mc->h1 = n;
                    mc->title_h1 = node_text_clean(n, MAX_TITLE, &mc->oom);
                } else if (strcasecmp(nm, "html") == 0) {
                    set_once(&mc->lang_html, attr(n, "lang"), 64, &mc->oom);
                    set_once(&mc->lang_html, attr(n, "xml:lang"), 64, &mc->oom);
                }
                break;
            default:
                break;
            }
            if (n->properties != NULL) {
                const char *ip = attr(n, "itemprop");
                if (ip != NULL && strcasecmp(nm, "meta") != 0 && strcasecmp(nm, "time") != 0) {
                    /* <span itemprop="datePublished" content="..."> */
                    const char *c = attr(n, "content");
                    if (c == NULL) {
                        c = attr(n, "datetime");
                    }
                    if (strcasecmp(ip, "datePublished") == 0) {
                        put_date(mc, 0, SRC_META, 1, c);
                    } else if (strcasecmp(ip, "dateModified") == 0) {
                        put_date(mc, 1, SRC_META, 1, c);
                    }
                }
                body_author(mc, n);
            }
        }
        if (descend) {
            n = n->children;
            continue;
        }
        while (n != NULL && n != root && n->next == NULL) {
            n = n->parent;
        }
        if (n == NULL || n == root) {
            break;
        }
        n = n->next;
    }
    if (time_score > 0 || (time_score == 0 && mc->n_time == 1)) {
        memcpy(mc->pub[SRC_TIME], time_best, PX_DATE_LEN);
    }
}

/* ---- decisions --------------------------------------------------------- */

/* Published: JSON-LD first, because it is written for search engines,
 * typed (datePublished of the NewsArticle itself, not of the site or a
 * teaser) and carries a time and an offset; then meta tags (per article,
 * but a few CMSs fill generic ones with the build date: hence their own
 * ranking); then a hinted <time> (visible, but a page shows many); then the
 * URL (the publisher's own path, reliable to the day, but few URLs carry
 * one); then a dateline near the headline (written for people, the most
 * ambiguous). A date that fails the checks in one source lets the next
 * one speak. */
static void pick_date(char v[N_SRC][PX_DATE_LEN], px_date *out)
{
    for (int s = 0; s < N_SRC; s++) {
        if (v[s][0] != '\0') {
            memcpy(out->value, v[s], PX_DATE_LEN);
            out->source = src_name[s];
            return;
        }
    }
}

/* 1 if a normalised date-time (dt_format's output) is an instant that is
 * on the calendar day ymd (YYYY-MM-DD) somewhere on Earth (UTC-12 to
 * UTC+14). */
static int same_day_somewhere(const char *value, const char *ymd)
{
    int y, mo, d, h, mi, sec, oh = 0, om = 0, uy, um, ud;
    char sign = '+';
    int64_t t, day;
    if (sscanf(ymd, "%4d-%2d-%2d", &uy, &um, &ud) != 3 ||
        sscanf(value, "%4d-%2d-%2dT%2d:%2d:%2d%c%2d:%2d", &y, &mo, &d, &h, &mi, &sec, &sign, &oh,
               &om) < 6) {
        return 0;
    }
    t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
        (sign == '-' ? -1 : 1) * (oh * 3600 + om * 60);
    day = days_from_civil(uy, um, ud) * 86400;
    return t >= day - 14 * 3600 && t < day + 86400 + 12 * 3600;
}

/* Authors: the first source with a person (JSON-LD, meta tags, then author
 * links and bylines in the page), persons only; organisations (a JSON-LD
 * Organization, the site's own name, "Reuters", "Staff") only when no
 * source names a person. */
static int pick_authors(meta_c *mc, px_doc *doc)
{
    names *srcs[3] = {&mc->au_ld, &mc->au_meta, &mc->au_body};
    const char *site = mc->site_og != NULL ? mc->site_og : mc->site_ld;
    names *use = NULL;
    int persons = 0;

    for (int s = 0; s < 3; s++) {
        for (size_t i = 0; i < srcs[s]->n; i++) {
            if (site != NULL && strcasecmp(srcs[s]->v[i], site) == 0) {
                srcs[s]->org[i] = 1;
            }
        }
    }
    for (int s = 0; s < 3 && use == NULL; s++) {
        for (size_t i = 0; i < srcs[s]->n; i++) {
            if (!srcs[s]->org[i]) {
                use = srcs[s];
                persons = 1;
                break;
            }
        }
    }
    for (int s = 0; s < 3 && use == NULL; s++) {
        if (srcs[s]->n > 0) {
            use = srcs[s];
        }
    }
    if (use == NULL) {
        return 0;
    }
    doc->authors = calloc(use->n, sizeof(char *));
    if (doc->authors == NULL) {
        return NL_ENOMEM;
    }
    for (size_t i = 0; i < use->n; i++) {
        if (persons && use->org[i]) {
            continue;
        }
        doc->authors[doc->n_authors++] = use->v[i];
        use->v[i] = NULL;
    }
    return 0;
}

/* "en_US" -> "en-US"; NULL unless it looks like a language tag. */
static char *norm_lang(const char *s, int *oom)
{
    char buf[36];
    size_t n = 0, prim = 0;
    if (s == NULL) {
        return NULL;
    }
    while (*s == ' ') {
        s++;
    }
    for (; s[n] != '\0' && s[n] != ',' && s[n] != ';' && s[n] != ' ' && n < sizeof(buf) - 1; n++) {
        char c = s[n] == '_' ? '-' : s[n];
        if (!isalnum((unsigned char)c) && c != '-') {
            return NULL;
        }
        buf[n] = c;
    }
    buf[n] = '\0';
    while (prim < n && buf[prim] != '-') {
        buf[prim] = (char)tolower((unsigned char)buf[prim]);
        prim++;
    }
    if (prim < 2 || prim > 3) {
        return NULL;
    }
    for (size_t i = prim; i < n; i++) {
        if (!isalpha((unsigned char)buf[i]) && buf[i] != '-' && !isdigit((unsigned char)buf[i])) {
            return NULL;
        }
    }
    /* a two-letter region in capitals: "en-us" -> "en-US" */
    if (n == prim + 3) {
        buf[prim + 1] = (char)toupper((unsigned char)buf[prim + 1]);
        buf[prim + 2] = (char)toupper((unsigned char)buf[prim + 2]);
    }
    {
        char *out = strdup(buf);
        if (out == NULL) {
            *oom = 1;
        }
        return out;
    }
}

static char *abs_url(const char *href, const char *base, int *oom)
{
    xmlChar *u;
    char *out;
    if (href == NULL) {
        return NULL;
    }
    u = xmlBuildURI((const xmlChar *)href, (const xmlChar *)(base != NULL ? base : ""));
    if (u == NULL) {
        /* libxml2 refuses some real URLs (spaces, raw UTF-8): an absolute
         * one is kept as written */
        u = xmlStrdup((const xmlChar *)href);
        if (u == NULL) {
            *oom = 1;
            return NULL;
        }
    }
    if (strncasecmp((const char *)u, "http://", 7) != 0 &&
        strncasecmp((const char *)u, "https://", 8) != 0) {
        xmlFree(u);
        return NULL;
    }
    out = strdup((const char *)u);
    xmlFree(u);
    if (out == NULL) {
        *oom = 1;
    }
    return out;
}

static int sep_at(const char *s, size_t i, size_t *len)
{
    static const char *const seps[] = {" | ",  " - ",        " \xe2\x80\x93 ", " \xe2\x80\x94 ",
                                       " :: ", " \xc2\xb7 ", " \xe2\x80\xa2 ", " \xc2\xbb ",
                                       NULL};
    for (int k = 0; seps[k] != NULL; k++) {
        size_t l = strlen(seps[k]);
        if (strncmp(s + i, seps[k], l) == 0) {
            *len = l;
            return k == 0 ? 2 : 1; /* a pipe is nearly always the site's separator */
        }
    }
    return 0;
}

/* The part of a name that matters for comparing it with a title's suffix:
 * lower case letters and digits only. */
static void squash(const char *s, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < cap; i++) {
        if (isalnum((unsigned char)s[i])) {
            out[k++] = (char)tolower((unsigned char)s[i]);
        }
    }
    out[k] = '\0';
}

static int site_like(const char *part, size_t n, const char *site, const char *host)
{
    char a[128], b[128];
    squash(part, n, a, sizeof(a));
    if (a[0] == '\0') {
        return 0;
    }
    if (site != NULL) {
        squash(site, strlen(site), b, sizeof(b));
        if (b[0] != '\0' && (strstr(a, b) != NULL || strstr(b, a) != NULL)) {
            return 1;
        }
    }
    if (host != NULL) {
        squash(host, strlen(host), b, sizeof(b));
        if (strlen(a) >= 3 && strstr(b, a) != NULL) {
            return 1;
        }
    }
    return 0;
}

/* Drops " | Site" (and "Site | ") from a title, in place. */
static void strip_site(char *t, const char *site, const char *host)
{
    for (int round = 0; round < 2; round++) {
        size_t len = strlen(t), last = 0, last_len = 0, first = 0, first_len = 0;
        int last_kind = 0, first_kind = 0;
        for (size_t i = 0; i < len; i++) {
            size_t l;
            int k = sep_at(t, i, &l);
            if (k != 0) {
                if (first_kind == 0) {
                    first = i;
                    first_len = l;
                    first_kind = k;
                }
                last = i;
                last_len = l;
                last_kind = k;
            }
        }
        if (last_kind == 0) {
            return;
        }
        if (site_like(t + last + last_len, len - last - last_len, site, host) ||
            (last_kind == 2 && last >= 15 && len - last - last_len <= 40)) {
            t[last] = '\0';
        } else if (site_like(t, first, site, host)) {
            memmove(t, t + first + first_len, len - first - first_len + 1);
        } else {
            return;
        }
    }
}

static char *host_of(const char *url)
{
    const char *p = url != NULL ? strstr(url, "://") : NULL;
    size_t n;
    char *h;
    if (p == NULL) {
        return NULL;
    }
    p += 3;
    n = strcspn(p, "/:?#");
    if (n > 4 && strncasecmp(p, "www.", 4) == 0) {
        p += 4;
        n -= 4;
    }
    h = strndup(p, n);
    return h;
}

/* Title: og:title (the publisher's choice for sharing, seldom carrying the
 * site's name), the JSON-LD headline, <title> without its " | Site", then
 * the <h1>. When the <h1> is what a longer candidate starts with, the <h1>
 * is that title without its decoration. */
static void pick_title(meta_c *mc, const char *url, px_doc *doc)
{
    char *cands[4] = {mc->title_og, mc->title_ld, mc->title_tag, mc->title_h1};
    const char *site = mc->site_og != NULL ? mc->site_og : mc->site_ld;
    char *host = host_of(url);
    char *best = NULL;

    for (int i = 0; i < 3; i++) {
        if (cands[i] != NULL) {
            strip_site(cands[i], site, host);
        }
    }
    for (int i = 0; i < 4 && best == NULL; i++) {
        if (cands[i] != NULL && cands[i][0] != '\0') {
            best = cands[i];
        }
    }
    free(host);
    if (best == NULL) {
        return;
    }
    if (mc->title_h1 != NULL && best != mc->title_h1 &&
        strncasecmp(best, mc->title_h1, strlen(mc->title_h1)) == 0 &&
        strlen(mc->title_h1) * 2 >= strlen(best)) {
        best = mc->title_h1;
    }
    free(doc->title);
    doc->title = strdup(best);
    if (doc->title == NULL) {
        mc->oom = 1;
        doc->title_len = 0;
        return;
    }
    doc->title_len = strlen(doc->title);
}

static void meta_c_free(meta_c *mc)
{
    char **strs[] = {&mc->title_og,   &mc->title_ld, &mc->title_tag, &mc->title_h1,  &mc->site_og,
                     &mc->site_ld,    &mc->site_app, &mc->desc_og,   &mc->desc_meta, &mc->desc_ld,
                     &mc->canon_link, &mc->canon_og, &mc->canon_ld,  &mc->lang_html, &mc->lang_ld,
                     &mc->lang_http,  &mc->lang_og};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        free(*strs[i]);
        *strs[i] = NULL;
    }
    names_free(&mc->au_ld);
    names_free(&mc->au_meta);
    names_free(&mc->au_body);
}

static char *take(char **a, char **b, char **c)
{
    char **slots[3] = {a, b, c};
    for (int i = 0; i < 3; i++) {
        if (slots[i] != NULL && *slots[i] != NULL) {
            char *s = *slots[i];
            *slots[i] = NULL;
            return s;
        }
    }
    return NULL;
}

int px_meta_html(xmlDoc *hd, const char *url, xmlNode *content, time_t now, px_doc *doc)
{
    meta_c mc;
    xmlNode *root = xmlDocGetRootElement(hd);
    int oom = 0;

    memset(&mc, 0, sizeof(mc));
    mc.now = now;
    for (int s = 0; s < N_SRC; s++) {
        mc.pub_rank[s] = mc.mod_rank[s] = 1000;
    }
    if (root == NULL) {
        return 0;
    }
    walk(&mc, root, content);
    if (px_date_url(url, now, mc.pub[SRC_URL]) != 0) {
        mc.pub[SRC_URL][0] = '\0';
    }
    text_after_h1(&mc);
    pick_date(mc.pub, &doc->published);
    pick_date(mc.mod, &doc->modified);
    /* A date-time in UTC ("2019-11-19T02:34:30Z") is often the evening
     * before in the publisher's zone; when the URL carries a day that the
     * same instant falls on in some zone, the URL's day is the publisher's
     * own calendar day and wins (on the benchmark's pages, 8 of 38 URLs
     * with a date were a day before the JSON-LD or meta date-time's UTC
     * day). */
    if (doc->published.source != NULL && mc.pub[SRC_URL][0] != '\0' &&
        strncmp(doc->published.value, mc.pub[SRC_URL], 10) != 0 &&
        same_day_somewhere(doc->published.value, mc.pub[SRC_URL])) {
        memcpy(doc->published.value, mc.pub[SRC_URL], PX_DATE_LEN);
        doc->published.source = src_name[SRC_URL];
    }
    /* a modified date before the published one is a template's, not the
     * article's */
    if (doc->modified.source != NULL && doc->published.source != NULL &&
        strncmp(doc->modified.value, doc->published.value, 10) < 0) {
        memset(&doc->modified, 0, sizeof(doc->modified));
    }
    pick_title(&mc, url, doc);
    if (pick_authors(&mc, doc) != 0) {
        mc.oom = 1;
    }
    /* Canonical: the <link> the page declares for itself, then og:url, then
     * the JSON-LD url; resolved against the page's URL, http(s) only. */
    {
        char *c = take(&mc.canon_link, &mc.canon_og, &mc.canon_ld);
        doc->canonical_url = abs_url(c, url, &oom);
        free(c);
    }
    /* Language: <html lang> (what browsers and screen readers use, set per
     * page), JSON-LD inLanguage, Content-Language, og:locale. */
    {
        const char *ls[4] = {mc.lang_html, mc.lang_ld, mc.lang_http, mc.lang_og};
        for (int i = 0; i < 4 && doc->lang == NULL; i++) {
            doc->lang = norm_lang(ls[i], &oom);
        }
    }
    doc->site_name = take(&mc.site_og, &mc.site_ld, &mc.site_app);
    doc->description = take(&mc.desc_og, &mc.desc_meta, &mc.desc_ld);
    oom |= mc.oom;
    meta_c_free(&mc);
    return oom ? NL_ENOMEM : 0;
}

/* ---- plain text -------------------------------------------------------- */

/* Capitalised words that start a line of page furniture, not a name. */
static const char *const not_name_words[] = {
    "Recent",        "Features",   "Related",    "Articles", "News",
    "Latest",        "More",       "Read",       "Share",    "Opinion",
    "Analysis",      "Commentary", "Home",       "Menu",     "Impact",
    "Shorts",        "Editor",     "Editorial",  "Staff",    "Breaking",
    "Top",           "Stories",    "Video",      "Photos",   "Comments",
    "Advertisement", "Subscribe",  "Newsletter", "Sign",     "Log",
    "The",           "Of",         "And",        "For",      "Our",
    "Your",          "Most",       "Popular",    "Trending", "Contact",
    "About",         "Search",     "Published",  "Updated",  "Posted",
    "Written",       "Image",      "Photo",      "Credit",   "Source",
    "Follow",        "Tags",       "Topics",     "World",    "Politics",
    "Business",      "Asia",       "Europe",     "Africa",   "America",
    "Korea",         "Russia",     "China",      "North",    "South",
    "East",          "West",       NULL};
static const char *const particles[] = {"de", "da", "van", "von", "der", "den", "bin", "al",
                                        "la", "le", "du",  "del", "di",  "dos", NULL};

static int word_in(const char *w, size_t n, const char *const *list)
{
    for (int i = 0; list[i] != NULL; i++) {
        if (strlen(list[i]) == n && strncmp(w, list[i], n) == 0) {
            return 1;
        }
    }
    return 0;
}

/* 1 if s[0..n) is a person's name: 2 to 5 words, each capitalised (or a
 * particle like "van"), letters, dots, hyphens and apostrophes only, none
 * of them a word of page furniture. */
static int looks_name(const char *s, size_t n)
{
    size_t i = 0;
    int words = 0, long_word = 0;
    if (n == 0 || n > MAX_NAME) {
        return 0;
    }
    while (i < n) {
        size_t b = i, letters = 0;
        while (i < n && s[i] != ' ') {
            unsigned char c = (unsigned char)s[i];
            if (c >= 0x80) {
                /* UTF-8: letters of other scripts, and the curly apostrophe */
                letters++;
                i++;
                while (i < n && ((unsigned char)s[i] & 0xC0) == 0x80) {
                    i++;
                }
                continue;
            }
            if (!isalpha(c) && c != '.' && c != '-' && c != '\'') {
                return 0;
            }
            letters += isalpha(c) != 0;
            i++;
        }
        if (i == b) {
            return 0;
        }
        if (!(isupper((unsigned char)s[b]) || (unsigned char)s[b] >= 0xC0) &&
            !word_in(s + b, i - b, particles)) {
            return 0;
        }
        if (word_in(s + b, i - b, not_name_words)) {
            return 0;
        }
        long_word |= letters >= 2;
        words++;
        while (i < n && s[i] == ' ') {
            i++;
        }
    }
    return words >= 2 && words <= 5 && long_word;
}

/* A byline: "By Jane Doe", "By Jane Doe and John Smith", or a bare name on
 * its own line. 1 if names were added. */
static int plain_byline(names *ns, const char *s, size_t n, int *oom)
{
    size_t before = ns->n;
    char buf[DATELINE_MAX + 1];
    int by = n > 3 && strncasecmp(s, "by ", 3) == 0;

    if (n > DATELINE_MAX) {
        return 0;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    /* every part must be a name, not only the first: "Jane Doe, Reuters" */
    {
        const char *p = by ? buf + 3 : buf;
        size_t m = strlen(p);
        const char *q = p;
        while (q < p + m) {
            size_t k = 0, step = 0;
            for (; q + k < p + m; k++) {
                if (q[k] == ',' || q[k] == '&') {
                    step = 1;
                    break;
                }
                if (k > 0 && q[k - 1] == ' ' && strncmp(q + k, "and ", 4) == 0) {
                    step = 4;
                    break;
                }
            }
            {
                size_t a = 0, e = k;
                while (a < e && q[a] == ' ') {
                    a++;
                }
                while (e > a && q[e - 1] == ' ') {
                    e--;
                }
                if (!looks_name(q + a, e - a) && !(by && e - a > 0 && looks_org(q + a))) {
                    return 0;
                }
            }
            q += k + step;
        }
    }
    if (names_add(ns, buf, 0) != 0) {
        *oom = 1;
    }
    return ns->n > before;
}

static const char *const role_words[] = {
    "fellow",        "student",    "professor",  "candidate",   "chair",
    "director",      "researcher", "research",   "analyst",     "journalist",
    "correspondent", "editor",     "writer",     "author",      "lecturer",
    "scholar",       "member",     "associate",  "founder",     "consultant",
    "expert",        "specialist", "reporter",   "contributor", "head",
    "scientist",     "economist",  "ambassador", NULL};

/* Author notes at the end: "Jane Doe is a research fellow at ...", one or
 * more to a line. */
static void plain_notes(names *ns, const char *s, size_t n, int *oom)
{
    size_t i = 0;
    while (i < n) {
        /* a sentence start: the line's start or after ". " */
        if (i == 0 || (i >= 2 && s[i - 1] == ' ' && s[i - 2] == '.')) {
            const char *is = NULL;
            for (size_t k = i; k < n && k < i + MAX_NAME + 4; k++) {
                if (strncmp(s + k, " is ", 4) == 0) {
                    is = s + k;
                    break;
                }
            }
            if (is != NULL && looks_name(s + i, (size_t)(is - (s + i)))) {
                char low[100];
                size_t m = 0;
                const char *after = is + 4;
                for (; after + m < s + n && m < sizeof(low) - 1; m++) {
                    low[m] = (char)tolower((unsigned char)after[m]);
                }
                low[m] = '\0';
                for (int r = 0; role_words[r] != NULL; r++) {
                    if (strstr(low, role_words[r]) != NULL) {
                        if (names_add1(ns, s + i, (size_t)(is - (s + i)), 0) != 0) {
                            *oom = 1;
                        }
                        break;
                    }
                }
            }
        }
        i++;
    }
}

static int dateline(const char *s, size_t n, time_t now, char out[PX_DATE_LEN])
{
    size_t at;
    /* the line starts with the date, after at most a weekday or a word
     * like "Published" */
    return n <= DATELINE_MAX && px_date_find(s, n, now, out, &at) == 0 && at <= 12 ? 0 : -1;
}

int px_meta_plain(px_doc *doc, time_t now)
{
    names ns;
    const char *p, *end;
    int oom = 0, lines = 0, have_date = 0, have_by = 0;
    char v[PX_DATE_LEN];

    memset(&ns, 0, sizeof(ns));
    if (doc->title != NULL && dateline(doc->title, doc->title_len, now, v) == 0) {
        have_date = 1;
    }
    /* the first three short lines of the text: a dateline, a byline */
    p = doc->text != NULL ? doc->text : "";
    end = p + doc->text_len;
    while (p < end && lines < 3) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        size_t n;
        if (eol == NULL) {
            eol = end;
        }
        n = (size_t)(eol - p);
        while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == ' ')) {
            n--;
        }
        if (n > 0) {
            lines++;
            if (n > DATELINE_MAX) {
                break;
            }
            if (!have_date && dateline(p, n, now, v) == 0) {
                have_date = 1;
            } else if (!have_by) {
                have_by = plain_byline(&ns, p, n, &oom);
            }
        }
        p = eol + 1;
    }
    if (have_date) {
        memcpy(doc->published.value, v, PX_DATE_LEN);
        doc->published.source = "text";
    }
    /* the last three non-blank lines, in reading order: author notes */
    {
        const char *q = doc->text != NULL ? doc->text + doc->text_len : NULL;
        const char *start = doc->text, *lb[3], *le[3];
        int k = 0;
        while (q != NULL && q > start && k < 3) {
            const char *e = q, *b;
            while (e > start && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ')) {
                e--;
            }
            b = e;
            while (b > start && b[-1] != '\n') {
                b--;
            }
            if (b == e) {
                break;
            }
            lb[k] = b;
            le[k++] = e;
            q = b;
        }
        while (k-- > 0) {
            plain_notes(&ns, lb[k], (size_t)(le[k] - lb[k]), &oom);
        }
    }
    if (ns.n > 0) {
        doc->authors = calloc(ns.n, sizeof(char *));
        if (doc->authors == NULL) {
            oom = 1;
        } else {
            for (size_t i = 0; i < ns.n; i++) {
                doc->authors[doc->n_authors++] = ns.v[i];
                ns.v[i] = NULL;
            }
        }
    }
    names_free(&ns);
    return oom ? NL_ENOMEM : 0;
}
