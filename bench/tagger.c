/* bench-tagger: tagger throughput on one core.
 *
 * Dense text: the seed documents (the .txt files of corpus/) repeated in memory to --mb
 * MB (10^6 bytes), each copy split as the parser splits text/plain (first
 * non-blank line the title, the rest the text) and fed as one document.
 * Two watchlists: the shipped one ("small") and the shipped one plus
 * generated actors up to --aliases names ("large", a temp JSON file loaded
 * with wl_load). For each watchlist, timed over the same pieces:
 *
 *   bare       one Hyperscan database of the same names as plain literals
 *              (caseless unless all capitals, no SOM, no spelling variants),
 *              a callback that only counts: the peer of the targets;
 *   words      the matcher's first stage alone: the text cut into words
 *              (a bit per byte, then each word's start and end)  (diagnostic);
 *   + keys     the same + each word's key looked up in the filter and the
 *              table of the names' first words                   (diagnostic);
 *   matcher    mt_scan: + the names under each key compared with the text,
 *              whole-word checks, leftmost-longest, the hit array;
 *   tagger     wl_tag: + alias to actor, surnames, the tags JSON (all rules).
 *
 * The two diagnostic rows run the matcher's own stages (matcher_diag.h);
 * they only split the time, the targets use bare, matcher and tagger. Each rep runs each row at
 * least once and for at least MIN_REP_SECS, the best run is kept; exit 1 if a sanity check fails
 * (no mentions on the small list, counts that change between runs), 2 on bad usage or setup
 * failure. */
#include "extract.h"
#include "matcher.h"
#include "matcher_diag.h"
#include "watchlist.h"

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <hs/hs.h>
#include <jansson.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MB 1e6
#define TARGET_VS_BARE 0.5
#define TARGET_LARGE_SMALL 0.7

static void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "bench-tagger: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    exit(2);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n > 0 ? n : 1);
    if (p == NULL) {
        die("%s", "out of memory");
    }
    return p;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of this thread: a best run whose wall time exceeds it was
 * preempted (the machine was busy), which the report flags. */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void print_loadavg(const char *when)
{
    char buf[128] = "?";
    FILE *f = fopen("/proc/loadavg", "r");
    if (f != NULL) {
        if (fgets(buf, sizeof(buf), f) != NULL) {
            buf[strcspn(buf, "\n")] = '\0';
        }
        fclose(f);
    }
    printf("load average %s: %s\n", when, buf);
}

/* ---- the dense text ---------------------------------------------------- */

struct doc {
    const char *title;
    size_t title_len;
    const char *text;
    size_t text_len;
};

struct corpus {
    char *buf;
    size_t buf_len; /* the seed files repeated */
    struct doc *docs;
    size_t n_docs, n_seeds;
    size_t bytes; /* title + text of every doc: what is scanned */
};

struct seed {
    char *data;
    size_t len;
    size_t title_off, title_len, text_off, text_len;
};

/* Splits a seed as the parser splits text/plain (px_plain: first non-blank
 * line the title, the rest the text), and records where both lie in the
 * seed's own bytes, so every copy can be tagged in place. */
static void split_seed(struct seed *s)
{
    char errbuf[256];
    px_doc doc;
    const char *title, *text;

    if (px_plain(s->data, s->len, &doc, errbuf, sizeof(errbuf)) != 0) {
        fprintf(stderr, "bench-tagger: %s\n", errbuf);
        exit(2);
    }
    /* the seeds are valid UTF-8, so px_plain's output is their own bytes */
    title = memmem(s->data, s->len, doc.title, doc.title_len);
    text = title == NULL
               ? NULL
               : memmem(title + doc.title_len, s->len - (size_t)(title + doc.title_len - s->data),
                        doc.text, doc.text_len);
    if (title == NULL || text == NULL) {
        fprintf(stderr, "bench-tagger: a seed is not valid UTF-8\n");
        exit(2);
    }
    s->title_off = (size_t)(title - s->data);
    s->title_len = doc.title_len;
    s->text_off = (size_t)(text - s->data);
    s->text_len = doc.text_len;
    px_doc_free(&doc);
}

static void read_file(const char *path, struct seed *s)
{
    FILE *f = fopen(path, "rb");
    long n;

    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0) {
        die("cannot read %s", path);
    }
    s->len = (size_t)n;
    s->data = xmalloc(s->len + 1);
    if (fread(s->data, 1, s->len, f) != s->len) {
        die("cannot read %s", path);
    }
    s->data[s->len] = '\0';
    fclose(f);
}

static void build_corpus(const char *seed_dir, double mb, struct corpus *c)
{
    char pattern[4096];
    glob_t g;
    struct seed *seeds;
    size_t cycle = 0, target = (size_t)(mb * MB), off = 0;

    snprintf(pattern, sizeof(pattern), "%s/*.txt", seed_dir);
    if (glob(pattern, 0, NULL, &g) != 0 || g.gl_pathc == 0) {
        die("no seed files %s", pattern);
    }
    seeds = calloc(g.gl_pathc, sizeof(*seeds));
    if (seeds == NULL) {
        die("%s", "out of memory");
    }
    for (size_t i = 0; i < g.gl_pathc; i++) {
        read_file(g.gl_pathv[i], &seeds[i]);
        split_seed(&seeds[i]);
        cycle += seeds[i].len;
    }
    if (cycle == 0) {
        die("seed files %s are empty", pattern);
    }
    /* whole documents, until the buffer holds at least target bytes */
    memset(c, 0, sizeof(*c));
    c->n_seeds = g.gl_pathc;
    for (size_t k = 0; c->buf_len < target || c->n_docs == 0; k++) {
        c->buf_len += seeds[k % c->n_seeds].len;
        c->n_docs++;
    }
    c->buf = xmalloc(c->buf_len);
    c->docs = xmalloc(c->n_docs * sizeof(*c->docs));
    for (size_t k = 0; k < c->n_docs; k++) {
        const struct seed *s = &seeds[k % c->n_seeds];
        char *d = c->buf + off;
        memcpy(d, s->data, s->len);
        c->docs[k] = (struct doc){d + s->title_off, s->title_len, d + s->text_off, s->text_len};
        c->bytes += s->title_len + s->text_len;
        off += s->len;
    }
    for (size_t i = 0; i < c->n_seeds; i++) {
        free(seeds[i].data);
    }
    free(seeds);
    globfree(&g);
}

/* ---- the names a watchlist compiles ------------------------------------ */

struct names {
    char **s;
    size_t *len;
    unsigned *group;
    size_t n, cap;
};

static void names_add(struct names *nm, const char *s)
{
    if (nm->n == nm->cap) {
        nm->cap = nm->cap ? nm->cap * 2 : 256;
        nm->s = realloc(nm->s, nm->cap * sizeof(*nm->s));
        nm->len = realloc(nm->len, nm->cap * sizeof(*nm->len));
        nm->group = realloc(nm->group, nm->cap * sizeof(*nm->group));
        if (nm->s == NULL || nm->len == NULL || nm->group == NULL) {
            die("%s", "out of memory");
        }
    }
    nm->s[nm->n] = strdup(s);
    if (nm->s[nm->n] == NULL) {
        die("%s", "out of memory");
    }
    nm->group[nm->n] = 0;
    nm->len[nm->n++] = strlen(s);
}

static void names_free(struct names *nm)
{
    for (size_t i = 0; i < nm->n; i++) {
        free(nm->s[i]);
    }
    free(nm->s);
    free(nm->len);
    free(nm->group);
    memset(nm, 0, sizeof(*nm));
}

/* The patterns the watchlist's matcher looks for, as wl_load built them
 * (names, aliases, ignore names, surnames; event triggers with their
 * inflections and role aliases), with their groups: the peer scans the
 * same literals. */
static void load_names(const watchlist *wl, struct names *nm)
{
    memset(nm, 0, sizeof(*nm));
    for (size_t i = 0; i < wl_n_patterns(wl); i++) {
        size_t len;
        unsigned group;
        const char *s = wl_pattern(wl, i, &len, &group);
        names_add(nm, s);
        nm->group[nm->n - 1] = group;
    }
}

/* ---- generated actors -------------------------------------------------- */

/* splitmix64: fixed seed, same watchlist on every run and machine */
static uint64_t rng_state = 0x6e65777366696e65ULL;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static unsigned below(unsigned n)
{
    return (unsigned)(rnd() % n);
}

static int chance(unsigned percent)
{
    return below(100) < percent;
}

#define PICK(arr) (arr[below(sizeof(arr) / sizeof(arr[0]))])

static const char *const onsets[] = {"b",  "c",  "d",  "f",  "g",  "h",  "j",  "k",  "l",  "m",
                                     "n",  "p",  "r",  "s",  "t",  "v",  "w",  "z",  "br", "ch",
                                     "dr", "gr", "kh", "kr", "sh", "st", "tr", "zh", "y",  ""};
static const char *const vowels[] = {"a", "e", "i",  "o",  "u",  "a",
                                     "e", "o", "ia", "ei", "ou", "ae"};
static const char *const codas[] = {"", "", "", "", "n", "r", "l", "s", "k", "m", "v", "sh", "t"};
static const char *const org_kinds[] = {"Front",    "Party", "Council",   "Union",   "Alliance",
                                        "Movement", "Group", "Institute", "Congress"};
static const char *const demonym[] = {"ian", "i", "ese", "an"};

/* A capitalised word of syl_min..syl_max syllables, at least 4 letters;
 * now and then with an accented letter (UTF-8). */
static void gen_word(char *out, size_t cap, int syl_min, int syl_max)
{
    int syl = syl_min + (int)below((unsigned)(syl_max - syl_min + 1));
    size_t n;

    do {
        out[0] = '\0';
        for (int i = 0; i < syl; i++) {
            strncat(out, PICK(onsets), cap - strlen(out) - 1);
            strncat(out, PICK(vowels), cap - strlen(out) - 1);
            strncat(out, PICK(codas), cap - strlen(out) - 1);
        }
        n = strlen(out);
    } while (n < 4);
    out[0] = (char)toupper((unsigned char)out[0]);
    if (chance(4) && n + 2 < cap) {
        char *v = strpbrk(out + 1, "eou");
        if (v != NULL) {
            const char *acc = *v == 'e' ? "\xc3\xa9" : *v == 'o' ? "\xc3\xb6" : "\xc3\xbc";
            memmove(v + 2, v + 1, strlen(v + 1) + 1);
            memcpy(v, acc, 2);
        }
    }
}

/* A person, an organisation or a place with 1 to 4 names (name, aliases,
 * a surname), at most budget of them; returns how many. */
static size_t gen_actor(json_t *actors, size_t idx, size_t budget)
{
    char id[32], name[256], w1[64], w2[64], w3[64], alias[256];
    json_t *a, *aliases = json_array();
    unsigned kind = below(10);
    size_t used = 1;

    snprintf(id, sizeof(id), "gen-%05zu", idx);
#define ALIAS(s)                                                                                   \
    do {                                                                                           \
        if (used < budget) {                                                                       \
            json_array_append_new(aliases, json_string(s));                                        \
            used++;                                                                                \
        }                                                                                          \
    } while (0)
    if (kind < 5) {
        /* person: Given [Middle] Family; Jean-Luc, O'Brien, Al-Rashid */
        int with_surname = chance(25);
        gen_word(w1, sizeof(w1) / 2, 1, 2);
        if (chance(15)) {
            size_t n = strlen(w1);
            w1[n] = '-';
            gen_word(w1 + n + 1, sizeof(w1) / 2, 1, 2);
        }
        gen_word(w2, sizeof(w2), 2, 3);
        if (chance(10)) {
            static const char *const pre[] = {"O'", "d'", "Al-", "N'", "Mc"};
            memmove(w2 + strlen(pre[idx % 5]), w2, sizeof(w2) - strlen(pre[idx % 5]));
            memcpy(w2, pre[idx % 5], strlen(pre[idx % 5]));
            w2[sizeof(w2) - 1] = '\0';
        }
        if (chance(10)) {
            gen_word(w3, sizeof(w3), 1, 2);
            snprintf(name, sizeof(name), "%s %s %s", w1, w3, w2);
        } else {
            snprintf(name, sizeof(name), "%s %s", w1, w2);
        }
        a = json_pack("{s:s, s:s, s:s}", "id", id, "kind", "person", "name", name);
        if (with_surname && used < budget) {
            json_object_set_new(a, "surname", json_string(w2));
            used++;
        } else if (chance(50)) {
            ALIAS(w2);
        }
        if (chance(25)) {
            snprintf(alias, sizeof(alias), "%c. %s", w1[0], w2);
            ALIAS(alias);
        }
        if (chance(15)) {
            /* a transliteration: one vowel of the family name changed */
            char *v = strpbrk(name + strlen(w1) + 1, "aeiou");
            if (v != NULL) {
                snprintf(alias, sizeof(alias), "%s", name);
                alias[v - name] = *v == 'a' ? 'o' : 'a';
                ALIAS(alias);
            }
        }
    } else if (kind < 8) {
        /* organisation: Two Words Party, its acronym, its short form */
        int three = chance(30);
        const char *what = PICK(org_kinds);
        gen_word(w1, sizeof(w1), 2, 3);
        gen_word(w2, sizeof(w2), 2, 3);
        gen_word(w3, sizeof(w3), 2, 3);
        if (three) {
            snprintf(name, sizeof(name), "%s %s %s %s", w1, w2, w3, what);
            snprintf(alias, sizeof(alias), "%c%c%c%c", w1[0], w2[0], w3[0], what[0]);
        } else {
            snprintf(name, sizeof(name), "%s %s %s", w1, w2, what);
            snprintf(alias, sizeof(alias), "%c%c%c", w1[0], w2[0], what[0]);
        }
        a = json_pack("{s:s, s:s, s:s}", "id", id, "kind", "organisation", "name", name);
        if (chance(70)) {
            ALIAS(alias); /* all capitals: matches only in capitals */
        }
        if (chance(30)) {
            snprintf(alias, sizeof(alias), "%s %s", w1, w2);
            ALIAS(alias);
        }
    } else {
        /* place: Tovaresh, Port Kalima, Kara-Tovu; its demonym */
        const char *dem = PICK(demonym);
        gen_word(w1, sizeof(w1), 2, 3);
        if (chance(15)) {
            gen_word(w2, sizeof(w2), 1, 2);
            snprintf(name, sizeof(name), "%s-%s", w1, w2);
        } else if (chance(20)) {
            static const char *const pre[] = {"New", "Port", "San", "Lake"};
            snprintf(name, sizeof(name), "%s %s", pre[idx % 4], w1);
        } else {
            snprintf(name, sizeof(name), "%s", w1);
        }
        a = json_pack("{s:s, s:s, s:s}", "id", id, "kind", "place", "name", name);
        if (chance(60)) {
            snprintf(alias, sizeof(alias), "%s%s", w1, dem);
            ALIAS(alias);
            if (chance(50)) {
                snprintf(alias, sizeof(alias), "%s%ss", w1, dem);
                ALIAS(alias);
            }
        }
    }
#undef ALIAS
    if (a == NULL) {
        die("%s", "out of memory");
    }
    if (json_array_size(aliases) > 0) {
        json_object_set(a, "aliases", aliases);
    }
    json_decref(aliases);
    json_array_append_new(actors, a);
    return used;
}

/* As tagger/matcher.c decides case: no lower-case letter, one capital. */
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

/* The names wl_load would take for one (a name two actors claim is an
 * error there): keys as tagger/watchlist.c's name_key makes them, close
 * enough for generated ASCII names (case folded unless all capitals,
 * hyphens as spaces). */
struct keyset {
    char **k;
    size_t n, cap; /* cap a power of two */
};

static char *name_key(const char *s)
{
    size_t n = strlen(s);
    char *k = xmalloc(n + 2);
    int caps = all_caps(s, n);
    k[0] = caps ? 'C' : 'c';
    for (size_t i = 0; i <= n; i++) {
        char c = s[i] == '-' ? ' ' : s[i];
        k[i + 1] = caps ? c : (char)tolower((unsigned char)c);
    }
    return k;
}

/* 1 if key was added, 0 if it was there (key freed either way). */
static int keyset_add(struct keyset *ks, char *key)
{
    uint64_t h = 1469598103934665603ULL;
    size_t i;

    if ((ks->n + 1) * 2 > ks->cap) {
        struct keyset big = {calloc(ks->cap ? ks->cap * 4 : 1024, sizeof(char *)), 0,
                             ks->cap ? ks->cap * 4 : 1024};
        if (big.k == NULL) {
            die("%s", "out of memory");
        }
        for (size_t j = 0; j < ks->cap; j++) {
            if (ks->k[j] != NULL) {
                keyset_add(&big, ks->k[j]);
            }
        }
        free(ks->k);
        *ks = big;
    }
    for (const char *p = key; *p != '\0'; p++) {
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    }
    for (i = h & (ks->cap - 1); ks->k[i] != NULL; i = (i + 1) & (ks->cap - 1)) {
        if (strcmp(ks->k[i], key) == 0) {
            free(key);
            return 0;
        }
    }
    ks->k[i] = key;
    ks->n++;
    return 1;
}

/* Drops from a generated actor what another actor already claims: the
 * whole actor for its name, else the aliases and surname taken. Returns the
 * names it keeps (a surname another person shares is not a new name). */
static size_t dedupe_actor(json_t *actors, struct keyset *ks, struct keyset *surnames)
{
    json_t *a = json_array_get(actors, json_array_size(actors) - 1);
    json_t *aliases = json_object_get(a, "aliases");
    const char *sn = json_string_value(json_object_get(a, "surname"));
    size_t kept = 1;

    if (!keyset_add(ks, name_key(json_string_value(json_object_get(a, "name"))))) {
        json_array_remove(actors, json_array_size(actors) - 1);
        return 0;
    }
    for (size_t k = 0; k < json_array_size(aliases);) {
        if (keyset_add(ks, name_key(json_string_value(json_array_get(aliases, k))))) {
            kept++;
            k++;
        } else {
            json_array_remove(aliases, k);
        }
    }
    if (sn != NULL) {
        /* a surname must not be another actor's name; persons may share one */
        char *key = name_key(sn);
        if (keyset_add(surnames, name_key(sn))) {
            if (keyset_add(ks, key)) {
                kept++;
            } else {
                json_object_del(a, "surname");
            }
        } else {
            free(key);
        }
    }
    return kept;
}

/* The shipped watchlist plus generated actors until total names reach want,
 * written to path. */
static void write_large(const char *base, size_t base_names, size_t want, const char *path)
{
    json_error_t jerr;
    json_t *root = json_load_file(base, 0, &jerr);
    json_t *actors = json_object_get(root, "actors"), *a, *v;
    char version[128];
    size_t have = base_names, i, k;
    struct keyset ks = {0}, surnames = {0};

    if (root == NULL || !json_is_array(actors)) {
        die("cannot read %s", base);
    }
    json_array_foreach(actors, i, a)
    {
        keyset_add(&ks, name_key(json_string_value(json_object_get(a, "name"))));
        json_array_foreach(json_object_get(a, "aliases"), k, v)
        {
            keyset_add(&ks, name_key(json_string_value(v)));
        }
        if (json_object_get(a, "surname") != NULL) {
            keyset_add(&ks, name_key(json_string_value(json_object_get(a, "surname"))));
            keyset_add(&surnames, name_key(json_string_value(json_object_get(a, "surname"))));
        }
    }
    json_array_foreach(json_object_get(root, "ignore"), k, v)
    {
        keyset_add(&ks, name_key(json_string_value(v)));
    }
    for (i = 0; have < want; i++) {
        gen_actor(actors, i, want - have);
        have += dedupe_actor(actors, &ks, &surnames);
    }
    for (i = 0; i < ks.cap; i++) {
        free(ks.k[i]);
    }
    for (i = 0; i < surnames.cap; i++) {
        free(surnames.k[i]);
    }
    free(ks.k);
    free(surnames.k);
    snprintf(version, sizeof(version), "%s+bench-%zu",
             json_string_value(json_object_get(root, "version")), want);
    json_object_set_new(root, "version", json_string(version));
    if (json_dump_file(root, path, JSON_INDENT(1)) != 0) {
        die("cannot write %s", path);
    }
    json_decref(root);
}

/* ---- Hyperscan peers --------------------------------------------------- */

/* The name as a literal: letters and digits as they are, every other
 * byte escaped. */
static char *name_regex(const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    char *out = xmalloc(len * 4 + 1), *o = out;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = s[i];
        if (isalnum(c)) {
            *o++ = (char)c;
        } else {
            o += sprintf(o, "\\x%02x", c);
        }
    }
    *o = '\0';
    return out;
}

struct hsdb {
    hs_database_t *db;
    hs_scratch_t *scratch;
    double compile_s;
};

static void hs_build(const struct names *nm, struct hsdb *h)
{
    char **exprs = xmalloc(nm->n * sizeof(*exprs));
    unsigned *flags = xmalloc(nm->n * sizeof(*flags)), *ids = xmalloc(nm->n * sizeof(*ids));
    hs_compile_error_t *cerr = NULL;
    double t0 = now();

    for (size_t i = 0; i < nm->n; i++) {
        exprs[i] = name_regex(nm->s[i], nm->len[i]);
        flags[i] = all_caps(nm->s[i], nm->len[i]) ? 0 : HS_FLAG_CASELESS;
        ids[i] = (unsigned)i;
    }
    if (hs_compile_multi((const char *const *)exprs, flags, ids, (unsigned)nm->n, HS_MODE_BLOCK,
                         NULL, &h->db, &cerr) != HS_SUCCESS) {
        die("hs_compile_multi: %s", cerr->message);
    }
    if (hs_alloc_scratch(h->db, &h->scratch) != HS_SUCCESS) {
        die("%s", "hs_alloc_scratch failed");
    }
    h->compile_s = now() - t0;
    for (size_t i = 0; i < nm->n; i++) {
        free(exprs[i]);
    }
    free(exprs);
    free(flags);
    free(ids);
}

static void hs_done(struct hsdb *h)
{
    hs_free_scratch(h->scratch);
    hs_free_database(h->db);
}

static int count_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
                       void *ctx)
{
    (void)id;
    (void)from;
    (void)to;
    (void)flags;
    (*(size_t *)ctx)++;
    return 0;
}

/* ---- the timed runs ---------------------------------------------------- */

static double run_hs(const struct hsdb *h, const struct corpus *c, size_t *count)
{
    double t0 = now();
    *count = 0;
    for (size_t i = 0; i < c->n_docs; i++) {
        const struct doc *d = &c->docs[i];
        if (hs_scan(h->db, d->title, (unsigned)d->title_len, 0, h->scratch, count_match, count) !=
                HS_SUCCESS ||
            hs_scan(h->db, d->text, (unsigned)d->text_len, 0, h->scratch, count_match, count) !=
                HS_SUCCESS) {
            die("%s", "hs_scan failed");
        }
    }
    return now() - t0;
}

static double run_matcher(mt_matcher *m, const struct corpus *c, size_t *count)
{
    double t0 = now();
    *count = 0;
    for (size_t i = 0; i < c->n_docs; i++) {
        const struct doc *d = &c->docs[i];
        const mt_hit *hits;
        size_t n;
        if (mt_scan(m, d->title, d->title_len, &hits, &n) != 0) {
            die("%s", "mt_scan failed");
        }
        *count += n;
        if (mt_scan(m, d->text, d->text_len, &hits, &n) != 0) {
            die("%s", "mt_scan failed");
        }
        *count += n;
    }
    return now() - t0;
}

/* A stage of mt_scan alone: count is the words (MT_DIAG_WORDS)
 * or the words found in the key table (MT_DIAG_KEYS). */
static double run_diag(mt_matcher *m, int stage, const struct corpus *c, size_t *count)
{
    double t0 = now();
    *count = 0;
    for (size_t i = 0; i < c->n_docs; i++) {
        const struct doc *d = &c->docs[i];
        size_t n;
        if (mt_diag_scan(m, d->title, d->title_len, stage, &n) != 0) {
            die("%s", "mt_diag_scan failed");
        }
        *count += n;
        if (mt_diag_scan(m, d->text, d->text_len, stage, &n) != 0) {
            die("%s", "mt_diag_scan failed");
        }
        *count += n;
    }
    return now() - t0;
}

static double run_tagger(const watchlist *wl, wl_tags *tags, const struct corpus *c, size_t *count)
{
    double t0 = now();
    *count = 0;
    for (size_t i = 0; i < c->n_docs; i++) {
        const struct doc *d = &c->docs[i];
        wl_doc doc = {d->title, d->title_len, d->text, d->text_len, NULL};
        if (wl_tag(wl, &doc, tags) != 0) {
            die("%s", "wl_tag failed");
        }
        *count += wl_tags_n_mentions(tags);
    }
    return now() - t0;
}

/* ---- main -------------------------------------------------------------- */

enum { ROW_BARE, ROW_WORDS, ROW_KEYS, ROW_MATCHER, ROW_TAGGER, N_ROWS };
static const char *const row_name[N_ROWS] = {"bare literal scan (peer)", "words only",
                                             "words + key lookup", "matcher (mt_scan)",
                                             "tagger (wl_tag, all rules)"};

/* --no-breakdown: only the rows the targets use */
static int breakdown = 1;

static int row_on(int row)
{
    return breakdown || (row != ROW_WORDS && row != ROW_KEYS);
}

struct side {
    const char *label;
    struct names names;
    watchlist *wl;
    wl_tags *tags;
    mt_matcher *mt;
    struct hsdb hs; /* the bare peer */
    double load_s, mt_compile_s, best[N_ROWS], best_cpu[N_ROWS];
    size_t count[N_ROWS], runs[N_ROWS];
    int unstable[N_ROWS];
};

static void setup_side(struct side *s, const char *label, const char *path)
{
    char err[512];
    mt_pattern *pats;
    double t0 = now();

    s->label = label;
    if (wl_load(path, &s->wl, err, sizeof(err)) != 0) {
        die("%s", err);
    }
    s->load_s = now() - t0;
    s->tags = wl_tags_new();
    if (s->tags == NULL) {
        die("%s", "out of memory");
    }
    load_names(s->wl, &s->names);
    t0 = now();
    pats = xmalloc(s->names.n * sizeof(*pats));
    for (size_t i = 0; i < s->names.n; i++) {
        pats[i] = (mt_pattern){s->names.s[i], s->names.len[i], s->names.group[i]};
    }
    if (mt_compile(pats, s->names.n, &s->mt, err, sizeof(err)) != 0) {
        die("%s", err);
    }
    free(pats);
    s->mt_compile_s = now() - t0;
    hs_build(&s->names, &s->hs);
}

/* One rep of a row: runs until this rep has spent MIN_REP_SECS on it (so a
 * short row gets more tries at its best time), at least once. */
#define MIN_REP_SECS 0.5

static void measure(struct side *s, const struct corpus *c, int row)
{
    double spent = 0;
    do {
        size_t count;
        double c0 = cpu_now();
        double t = row == ROW_BARE      ? run_hs(&s->hs, c, &count)
                   : row == ROW_WORDS   ? run_diag(s->mt, MT_DIAG_WORDS, c, &count)
                   : row == ROW_KEYS    ? run_diag(s->mt, MT_DIAG_KEYS, c, &count)
                   : row == ROW_MATCHER ? run_matcher(s->mt, c, &count)
                                        : run_tagger(s->wl, s->tags, c, &count);
        double cpu = cpu_now() - c0;
        if (s->runs[row] > 0 && count != s->count[row]) {
            s->unstable[row] = 1;
        }
        if (s->runs[row] == 0 || t < s->best[row]) {
            s->best[row] = t;
            s->best_cpu[row] = cpu;
        }
        s->count[row] = count;
        s->runs[row]++;
        spent += t;
    } while (spent < MIN_REP_SECS);
}

static double mbs(const struct corpus *c, double secs)
{
    return (double)c->bytes / MB / secs;
}

static const char *verdict(double v, double target)
{
    return v >= target ? "met" : "MISSED";
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bench-tagger [--mb N] [--aliases N] [--watchlist FILE] [--seeds DIR]\n"
            "                    [--reps K] [--write-watchlist FILE] [--no-breakdown]\n"
            "  --mb N               dense text size in MB of 10^6 bytes (default 200)\n"
            "  --aliases N          names in the large watchlist (default 20000)\n"
            "  --watchlist FILE     the small watchlist (default %s/tagger/watchlist.json)\n"
            "  --seeds DIR          seed documents, DIR/*.txt (default %s/corpus)\n"
            "  --reps K             rounds over all rows, each row run for >= 0.5 s a\n"
            "                       round; the best run is kept (default 3)\n"
            "  --write-watchlist F  keep the generated large watchlist in F\n"
            "  --no-breakdown       only the bare, matcher and tagger rows (not the\n"
            "                       matcher's stages apart)\n",
            NL_DATADIR, NL_DATADIR);
}

static double num_arg(int argc, char **argv, int *i, double min)
{
    char *end;
    double v;
    if (*i + 1 >= argc) {
        usage(stderr);
        exit(2);
    }
    v = strtod(argv[++*i], &end);
    if (*end != '\0' || !(v >= min) || v > 1e9) {
        die("bad value %s", argv[*i]);
    }
    return v;
}

int main(int argc, char **argv)
{
    double mb = 200;
    size_t want = 20000;
    int reps = 3, fd, failed = 0;
    const char *wl_path = NL_DATADIR "/tagger/watchlist.json";
    const char *seed_dir = NL_DATADIR "/corpus";
    const char *keep = NULL;
    char tmp[4096];
    struct corpus c;
    struct side sides[2];
    cpu_set_t cpus;
    int cpu = sched_getcpu();
    double t0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--mb") == 0) {
            mb = num_arg(argc, argv, &i, 0.001);
        } else if (strcmp(argv[i], "--aliases") == 0) {
            want = (size_t)num_arg(argc, argv, &i, 1);
        } else if (strcmp(argv[i], "--reps") == 0) {
            reps = (int)num_arg(argc, argv, &i, 1);
        } else if (strcmp(argv[i], "--watchlist") == 0 && i + 1 < argc) {
            wl_path = argv[++i];
        } else if (strcmp(argv[i], "--seeds") == 0 && i + 1 < argc) {
            seed_dir = argv[++i];
        } else if (strcmp(argv[i], "--no-breakdown") == 0) {
            breakdown = 0;
        } else if (strcmp(argv[i], "--write-watchlist") == 0 && i + 1 < argc) {
            keep = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    /* one core: stay on the one we started on */
    if (cpu >= 0) {
        CPU_ZERO(&cpus);
        CPU_SET(cpu, &cpus);
        if (sched_setaffinity(0, sizeof(cpus), &cpus) != 0) {
            cpu = -1;
        }
    }

    t0 = now();
    build_corpus(seed_dir, mb, &c);
    printf("bench-tagger: %.1f MB of dense text: %zu documents (%zu seeds from %s, repeated), "
           "%.1f MB of title+text scanned per run; built in %.2f s\n",
           (double)c.buf_len / MB, c.n_docs, c.n_seeds, seed_dir, (double)c.bytes / MB, now() - t0);

    memset(sides, 0, sizeof(sides));
    setup_side(&sides[0], "small", wl_path);
    if (want < sides[0].names.n) {
        fprintf(stderr, "bench-tagger: --aliases %zu is below the %zu names of %s; using %zu\n",
                want, sides[0].names.n, wl_path, sides[0].names.n);
        want = sides[0].names.n;
    }
    if (keep != NULL) {
        snprintf(tmp, sizeof(tmp), "%s", keep);
    } else {
        const char *dir = getenv("TMPDIR");
        snprintf(tmp, sizeof(tmp), "%s/bench-tagger-wl-XXXXXX", dir && *dir ? dir : "/tmp");
        fd = mkstemp(tmp);
        if (fd < 0) {
            die("cannot create a temp file in %s", dir && *dir ? dir : "/tmp");
        }
        close(fd);
    }
    t0 = now();
    write_large(wl_path, sides[0].names.n, want, tmp);
    printf("large watchlist generated in %.2f s%s%s\n", now() - t0, keep ? ": " : "",
           keep ? keep : "");
    setup_side(&sides[1], "large", tmp);
    if (keep == NULL) {
        unlink(tmp);
    }
    for (int k = 0; k < 2; k++) {
        struct side *s = &sides[k];
        size_t cues = 0;
        for (size_t i = 0; i < s->names.n; i++) {
            cues += s->names.group[i] == 1;
        }
        printf("%s watchlist (version %s): %zu patterns (%zu of them triggers and role aliases); "
               "wl_load %.2f s, mt_compile %.2f s, bare compile %.2f s",
               s->label, wl_version(s->wl), s->names.n, cues, s->load_s, s->mt_compile_s,
               s->hs.compile_s);
        printf("\n");
    }
    printf("one thread%s%d; %d reps, each running a row for >= %.1f s; best run kept; "
           "MB = 10^6 bytes of title+text\n\n",
           cpu >= 0 ? ", pinned to cpu " : "", cpu >= 0 ? cpu : 0, reps, MIN_REP_SECS);
    print_loadavg("before the timed runs");
    fflush(stdout);

    /* interleaved, so a slow spell of the machine hits every row alike */
    for (int r = 0; r < reps; r++) {
        for (int k = 0; k < 2; k++) {
            for (int row = 0; row < N_ROWS; row++) {
                if (row_on(row)) {
                    measure(&sides[k], &c, row);
                }
            }
        }
    }

    printf("%-28s %12s %12s %12s %12s\n", "", "small MB/s", "mentions", "large MB/s", "mentions");
    for (int row = 0; row < N_ROWS; row++) {
        if (!row_on(row)) {
            continue;
        }
        printf("%-28s %12.1f %12zu %12.1f %12zu%s\n", row_name[row], mbs(&c, sides[0].best[row]),
               sides[0].count[row], mbs(&c, sides[1].best[row]), sides[1].count[row],
               sides[0].unstable[row] || sides[1].unstable[row] ? "  (count changed!)" : "");
    }
    printf("\n%-28s %12s %12s %12s %12s\n", "seconds per run (best)", "small", "runs", "large",
           "runs");
    for (int row = 0; row < N_ROWS; row++) {
        if (row_on(row)) {
            printf("%-28s %12.3f %12zu %12.3f %12zu\n", row_name[row], sides[0].best[row],
                   sides[0].runs[row], sides[1].best[row], sides[1].runs[row]);
        }
    }
    for (int k = 0; k < 2; k++) {
        for (int row = 0; row < N_ROWS; row++) {
            const struct side *s = &sides[k];
            if (row_on(row) && s->best[row] > 1.05 * s->best_cpu[row]) {
                printf("note: %s, %s: best run %.3f s wall but %.3f s on the CPU (preempted: "
                       "the machine was busy)\n",
                       s->label, row_name[row], s->best[row], s->best_cpu[row]);
            }
        }
    }
    print_loadavg("after the timed runs");
    for (int k = 0; k < 2; k++) {
        const struct side *s = &sides[k];
        double rest = s->best[ROW_TAGGER] - s->best[ROW_MATCHER];
        printf("%s: mt_scan is %.0f%% of wl_tag's time; the rest (actors, JSON) %.0f ns per "
               "mention\n",
               s->label, 100 * s->best[ROW_MATCHER] / s->best[ROW_TAGGER],
               s->count[ROW_TAGGER] ? rest * 1e9 / (double)s->count[ROW_TAGGER] : 0.0);
    }
    {
        double small = sides[0].best[ROW_TAGGER], large = sides[1].best[ROW_TAGGER];
        double r_small = sides[0].best[ROW_BARE] / small, r_large = sides[1].best[ROW_BARE] / large;
        double r_ls = small / large;
        double m_small = sides[0].best[ROW_BARE] / sides[0].best[ROW_MATCHER];
        double m_large = sides[1].best[ROW_BARE] / sides[1].best[ROW_MATCHER];
        double m_ls = sides[0].best[ROW_MATCHER] / sides[1].best[ROW_MATCHER];
        printf("\n%-38s %8s %8s %s\n", "ratio (of best times)", "tagger", "matcher",
               "target (tagger)");
        printf("%-38s %8.3f %8.3f >= %.1f %s\n", "small: tagger / bare scan", r_small, m_small,
               TARGET_VS_BARE, verdict(r_small, TARGET_VS_BARE));
        printf("%-38s %8.3f %8.3f >= %.1f %s\n", "large: tagger / bare scan", r_large, m_large,
               TARGET_VS_BARE, verdict(r_large, TARGET_VS_BARE));
        printf("%-38s %8.3f %8.3f >= %.1f %s\n", "tagger large / tagger small", r_ls, m_ls,
               TARGET_LARGE_SMALL, verdict(r_ls, TARGET_LARGE_SMALL));
    }

    /* sanity */
    if (sides[0].count[ROW_TAGGER] == 0) {
        fprintf(stderr, "bench-tagger: FAIL: the tagger found no mention on the small list\n");
        failed = 1;
    }
    for (int k = 0; k < 2; k++) {
        for (int row = 0; row < N_ROWS; row++) {
            if (sides[k].unstable[row]) {
                fprintf(stderr, "bench-tagger: FAIL: %s, %s: mention count changed between runs\n",
                        sides[k].label, row_name[row]);
                failed = 1;
            }
        }
        if (sides[k].count[ROW_TAGGER] > sides[k].count[ROW_MATCHER]) {
            fprintf(stderr, "bench-tagger: FAIL: %s: the tagger has more mentions than mt_scan\n",
                    sides[k].label);
            failed = 1;
        }
    }
    printf("\nsanity: %s\n", failed ? "FAILED (see stderr)"
                                    : "ok (mentions > 0 on the small list, counts stable "
                                      "across runs, tagger <= matcher)");

    for (int k = 0; k < 2; k++) {
        hs_done(&sides[k].hs);
        mt_free(sides[k].mt);
        wl_tags_free(sides[k].tags);
        wl_free(sides[k].wl);
        names_free(&sides[k].names);
    }
    free(c.docs);
    free(c.buf);
    return failed;
}
