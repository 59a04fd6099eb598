/* bench-extract: article extraction speed on one core, and the texts to score.
 *
 * Reads every <id>.html.gz page of the article-extraction benchmark
 * (default /work/shared/datasets/aeb/html) into memory, pins itself to the
 * CPU it started on, and runs two rows over all pages, interleaved, --rounds
 * times, keeping each row's best round:
 *
 *   parse    htmlReadMemory + xmlFreeDoc with px_html's options: the floor;
 *   px_html  the extractor on the raw bytes (libxml2 decodes them);
 *   charset  with --charset: px_to_utf8 (no Content-Type: BOM, meta,
 *            detector) then px_html_utf8 with the page URL, as the parser
 *            daemon calls them;
 *            the time in px_to_utf8 alone is reported too.
 *
 * Prints pages/s of the rows and writes the extracted texts (first round)
 * as JSON lines {"id", "title", "text", "ms", "published", "published_source"}
 * to --out for bench/extract_score.py. Each page gets its URL from the
 * benchmark's ground-truth.json (beside html/) when there is one, as the
 * parser daemon gets the fetched URL; a summary line counts the metadata
 * found (published dates by source, authors, lang, canonical URL) and how
 * often a published date agrees to the day with a date in the URL. With
 * --charset, every page's UTF-8 is checked, the charsets and their sources
 * are counted, and pages whose text differs from px_html's are counted (not
 * an error: libxml2 may decode otherwise). Exit 0, 1 if px_html or
 * px_to_utf8 fails on a page or a text changes between rounds, 2 on bad
 * usage or setup failure, 77 with --skip-missing when there are no pages
 * (ctest's SKIP_RETURN_CODE).
 *
 * --dump FILE writes every field of every page's first-round px_doc (title,
 * text, reason, authors, dates and their sources, canonical URL, lang, site
 * name, description), one JSON line per page and row, for checking that an
 * optimisation leaves the output byte for byte unchanged (diff two dumps). */
#include "charset.h"
#include "extract.h"
#include "meta.h"
#include "nl_text.h"

#include <glob.h>
#include <jansson.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

struct page {
    char id[128];
    char *html;
    size_t len;
    char *text; /* first round's output, to check later rounds against */
    size_t text_len;
    char *title;
    double secs;   /* best time of this page in px_html */
    char *url;     /* from ground-truth.json, or NULL */
    char *cs_text; /* first round's output of the charset row */
    size_t cs_text_len;
    px_date published, modified;
    size_t n_authors;
    int has_lang, has_canonical, has_site;
    px_doc doc;    /* with --dump: px_html's whole first-round output */
    px_doc cs_doc; /* with --dump: the charset row's */
};

static int skip_missing;
static int keep_docs; /* --dump: keep every first-round px_doc */

static void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "bench-extract: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    exit(2);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void read_gz(const char *path, struct page *pg)
{
    gzFile gz = gzopen(path, "rb");
    size_t cap = 1 << 20;
    int n;

    if (gz == NULL) {
        die("cannot open %s", path);
    }
    pg->html = malloc(cap);
    pg->len = 0;
    for (;;) {
        if (pg->html == NULL) {
            die("%s", "out of memory");
        }
        if (cap - pg->len < 65536) {
            cap *= 2;
            pg->html = realloc(pg->html, cap);
            continue;
        }
        n = gzread(gz, pg->html + pg->len, 65536);
        if (n < 0) {
            die("cannot read %s", path);
        }
        if (n == 0) {
            break;
        }
        pg->len += (size_t)n;
    }
    gzclose(gz);
}

static void load_pages(const char *dir, struct page **out, size_t *n_out)
{
    char pattern[4096];
    glob_t g;
    struct page *pages;

    snprintf(pattern, sizeof(pattern), "%s/*.html.gz", dir);
    if (glob(pattern, 0, NULL, &g) != 0 || g.gl_pathc == 0) {
        if (skip_missing) {
            printf("SKIPPED: no pages %s\n", pattern);
            exit(77);
        }
        die("no pages %s", pattern);
    }
    pages = calloc(g.gl_pathc, sizeof(*pages));
    if (pages == NULL) {
        die("%s", "out of memory");
    }
    for (size_t i = 0; i < g.gl_pathc; i++) {
        const char *base = strrchr(g.gl_pathv[i], '/');
        base = base != NULL ? base + 1 : g.gl_pathv[i];
        snprintf(pages[i].id, sizeof(pages[i].id), "%.*s", (int)strcspn(base, "."), base);
        read_gz(g.gl_pathv[i], &pages[i]);
        pages[i].secs = 1e9;
    }
    *out = pages;
    *n_out = g.gl_pathc;
    globfree(&g);
}

/* URLs from <dir>/../ground-truth.json ({"<id>": {"url": ...}}), if any. */
static void load_urls(const char *dir, struct page *pages, size_t n)
{
    char path[4096];
    json_t *gt;
    snprintf(path, sizeof(path), "%s/../ground-truth.json", dir);
    gt = json_load_file(path, 0, NULL);
    if (gt == NULL) {
        printf("no %s: pages have no URL\n", path);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const char *u = json_string_value(json_object_get(json_object_get(gt, pages[i].id), "url"));
        pages[i].url = u != NULL ? strdup(u) : NULL;
    }
    json_decref(gt);
}

static void print_meta(const struct page *pages, size_t n)
{
    static const char *const srcs[] = {"json-ld", "meta", "time", "url", "text"};
    size_t by[5] = {0}, pub = 0, mod = 0, au = 0, lang = 0, canon = 0, site = 0, both = 0,
           agree = 0;
    for (size_t i = 0; i < n; i++) {
        char ud[PX_DATE_LEN];
        const px_date *d = &pages[i].published;
        if (d->source != NULL) {
            pub++;
            for (int k = 0; k < 5; k++) {
                by[k] += strcmp(d->source, srcs[k]) == 0;
            }
            if (strcmp(d->source, "url") != 0 && px_date_url(pages[i].url, time(NULL), ud) == 0) {
                both++;
                agree += strncmp(ud, d->value, 10) == 0;
            }
        }
        mod += pages[i].modified.source != NULL;
        au += pages[i].n_authors > 0;
        lang += pages[i].has_lang;
        canon += pages[i].has_canonical;
        site += pages[i].has_site;
    }
    printf("metadata: published %zu/%zu (json-ld %zu, meta %zu, time %zu, url %zu, text %zu), "
           "modified %zu, authors %zu, lang %zu, canonical_url %zu, site_name %zu\n",
           pub, n, by[0], by[1], by[2], by[3], by[4], mod, au, lang, canon, site);
    printf("metadata: a published date from another source agrees with the URL's date on %zu "
           "of %zu pages that have both\n",
           agree, both);
}

static void pin_cpu(void)
{
    cpu_set_t set;
    int cpu = sched_getcpu();
    if (cpu < 0) {
        return;
    }
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set) != 0) {
        fprintf(stderr, "bench-extract: could not pin to CPU %d\n", cpu);
    } else {
        printf("pinned to CPU %d\n", cpu);
    }
}

static double run_parse(struct page *pages, size_t n)
{
    const int opts = HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                     HTML_PARSE_NONET | HTML_PARSE_NOIMPLIED | XML_PARSE_HUGE;
    double t0 = now();
    for (size_t i = 0; i < n; i++) {
        htmlDocPtr hd = htmlReadMemory(pages[i].html, (int)pages[i].len, NULL, NULL, opts);
        if (hd != NULL) {
            xmlFreeDoc(hd);
        }
    }
    return now() - t0;
}

/* Returns the round's wall time; 1 in *bad if a page failed or changed. */
static double run_extract(struct page *pages, size_t n, int first, int *bad)
{
    char errbuf[256];
    double t0 = now();
    for (size_t i = 0; i < n; i++) {
        px_doc doc;
        double p0 = now();
        int rc = px_html(pages[i].html, pages[i].len, pages[i].url, &doc, errbuf, sizeof(errbuf));
        double dt = now() - p0;
        if (dt < pages[i].secs) {
            pages[i].secs = dt;
        }
        if (rc != 0) {
            fprintf(stderr, "bench-extract: %s: %s\n", pages[i].id, errbuf);
            *bad = 1;
            continue;
        }
        if (first) {
            pages[i].text = doc.text;
            pages[i].text_len = doc.text_len;
            pages[i].title = doc.title;
            pages[i].published = doc.published;
            pages[i].modified = doc.modified;
            pages[i].n_authors = doc.n_authors;
            pages[i].has_lang = doc.lang != NULL;
            pages[i].has_canonical = doc.canonical_url != NULL;
            pages[i].has_site = doc.site_name != NULL;
            if (keep_docs) {
                pages[i].doc = doc;
                pages[i].text = strdup(doc.text);
                pages[i].title = strdup(doc.title);
                if (pages[i].text == NULL || pages[i].title == NULL) {
                    die("%s", "out of memory");
                }
                continue;
            }
            doc.text = NULL;
            doc.title = NULL;
        } else if (doc.text_len != pages[i].text_len ||
                   memcmp(doc.text, pages[i].text, doc.text_len) != 0) {
            fprintf(stderr, "bench-extract: %s: text changed between rounds\n", pages[i].id);
            *bad = 1;
        }
        px_doc_free(&doc);
    }
    return now() - t0;
}

/* px_to_utf8 then px_html_utf8 over all pages; returns the round's wall
 * time less the time spent checking px_to_utf8's output (the daemon does
 * not check it), the part in px_to_utf8 in *conv_secs; 1 in *bad if a page failed,
 * gave invalid UTF-8 or changed. On the first round, prints the charsets
 * found and how many texts differ from px_html's. */
static double run_charset(struct page *pages, size_t n, int first, int *bad, double *conv_secs)
{
    char errbuf[256];
    char seen[16][48];
    size_t seen_n[16] = {0}, n_seen = 0, differ = 0, replaced = 0;
    double t0 = now(), conv = 0, check = 0;

    for (size_t i = 0; i < n; i++) {
        px_doc doc;
        px_charset cs;
        char *u8;
        size_t u8_len;
        double c0 = now();
        int rc = px_to_utf8(pages[i].html, pages[i].len, NULL, (size_t)1 << 30, &u8, &u8_len, &cs,
                            errbuf, sizeof(errbuf));
        conv += now() - c0;
        if (rc != 0) {
            fprintf(stderr, "bench-extract: %s: px_to_utf8: %s\n", pages[i].id, errbuf);
            *bad = 1;
            continue;
        }
        c0 = now();
        if (!nl_utf8_valid(u8, u8_len)) {
            fprintf(stderr, "bench-extract: %s: px_to_utf8 gave invalid UTF-8\n", pages[i].id);
            *bad = 1;
        }
        check += now() - c0; /* the benchmark's check, not the daemon's work */
        rc = px_html_utf8(u8, u8_len, pages[i].url, &doc, errbuf, sizeof(errbuf));
        free(u8);
        if (rc != 0) {
            fprintf(stderr, "bench-extract: %s: px_html_utf8: %s\n", pages[i].id, errbuf);
            *bad = 1;
            continue;
        }
        if (first) {
            char key[48];
            size_t k;
            snprintf(key, sizeof(key), "%s from %s", cs.name, cs.source);
            for (k = 0; k < n_seen && strcmp(seen[k], key) != 0; k++) {
            }
            if (k == n_seen && n_seen < 16) {
                memcpy(seen[n_seen++], key, sizeof(key));
            }
            if (k < 16) {
                seen_n[k]++;
            }
            replaced += cs.replaced;
            differ += doc.text_len != pages[i].text_len ||
                      (pages[i].text != NULL && memcmp(doc.text, pages[i].text, doc.text_len) != 0);
            pages[i].cs_text_len = doc.text_len;
            if (keep_docs) {
                pages[i].cs_doc = doc;
                pages[i].cs_text = strdup(doc.text);
                if (pages[i].cs_text == NULL) {
                    die("%s", "out of memory");
                }
                continue;
            }
            pages[i].cs_text = doc.text;
            doc.text = NULL;
        } else if (doc.text_len != pages[i].cs_text_len ||
                   memcmp(doc.text, pages[i].cs_text, doc.text_len) != 0) {
            fprintf(stderr, "bench-extract: %s: charset text changed between rounds\n",
                    pages[i].id);
            *bad = 1;
        }
        px_doc_free(&doc);
    }
    if (first) {
        for (size_t k = 0; k < n_seen; k++) {
            printf("charset: %zu pages %s\n", seen_n[k], seen[k]);
        }
        printf("charset: %zu characters replaced; %zu of %zu texts differ from px_html's\n",
               replaced, differ, n);
    }
    *conv_secs = conv;
    return now() - t0 - check;
}

static void write_out(const char *path, const struct page *pages, size_t n)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        die("cannot write %s", path);
    }
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object();
        char *line;
        if (o == NULL || json_object_set_new(o, "id", json_string(pages[i].id)) != 0 ||
            json_object_set_new(o, "title", json_string(pages[i].title ? pages[i].title : "")) !=
                0 ||
            json_object_set_new(
                o, "text", json_stringn(pages[i].text ? pages[i].text : "", pages[i].text_len)) !=
                0 ||
            json_object_set_new(o, "ms", json_real(pages[i].secs * 1e3)) != 0 ||
            (pages[i].published.source != NULL &&
             (json_object_set_new(o, "published", json_string(pages[i].published.value)) != 0 ||
              json_object_set_new(o, "published_source", json_string(pages[i].published.source)) !=
                  0))) {
            die("%s", "could not build a JSON line (invalid UTF-8 from px_html?)");
        }
        line = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
        if (line == NULL) {
            die("%s", "out of memory");
        }
        fprintf(f, "%s\n", line);
        free(line);
        json_decref(o);
    }
    if (fclose(f) != 0) {
        die("cannot write %s", path);
    }
}

static int set_str(json_t *o, const char *key, const char *v)
{
    return v == NULL ? 0 : json_object_set_new(o, key, json_string(v));
}

static int set_date(json_t *o, const char *key, const px_date *d)
{
    char src[64];
    if (d->source == NULL) {
        return 0;
    }
    snprintf(src, sizeof(src), "%s_source", key);
    return set_str(o, key, d->value) != 0 || set_str(o, src, d->source) != 0 ? -1 : 0;
}

/* Everything a px_doc holds as one JSON object ("row" says which row). */
static json_t *doc_json(const char *id, const char *row, const px_doc *doc)
{
    json_t *o = json_object(), *au = json_array();
    if (o == NULL || au == NULL) {
        die("%s", "out of memory");
    }
    for (size_t k = 0; k < doc->n_authors; k++) {
        if (json_array_append_new(au, json_string(doc->authors[k])) != 0) {
            die("%s", "author not UTF-8");
        }
    }
    if (set_str(o, "id", id) != 0 || set_str(o, "row", row) != 0 ||
        set_str(o, "title", doc->title) != 0 ||
        json_object_set_new(o, "text", json_stringn(doc->text, doc->text_len)) != 0 ||
        set_str(o, "reason", doc->reason) != 0 || json_object_set_new(o, "authors", au) != 0 ||
        set_date(o, "published", &doc->published) != 0 ||
        set_date(o, "modified", &doc->modified) != 0 ||
        set_str(o, "canonical_url", doc->canonical_url) != 0 ||
        set_str(o, "lang", doc->lang) != 0 || set_str(o, "site_name", doc->site_name) != 0 ||
        set_str(o, "description", doc->description) != 0) {
        die("%s", "could not build a --dump line (invalid UTF-8?)");
    }
    return o;
}

/* --dump: every field of every page's px_doc, both rows, as JSON lines,
 * to diff the output of two builds byte for byte. */
static void write_dump(const char *path, const struct page *pages, size_t n, int charset)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        die("cannot write %s", path);
    }
    for (size_t i = 0; i < n; i++) {
        for (int r = 0; r < 1 + charset; r++) {
            json_t *o = doc_json(pages[i].id, r == 0 ? "px_html" : "charset",
                                 r == 0 ? &pages[i].doc : &pages[i].cs_doc);
            char *line = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
            if (line == NULL) {
                die("%s", "out of memory");
            }
            fprintf(f, "%s\n", line);
            free(line);
            json_decref(o);
        }
    }
    if (fclose(f) != 0) {
        die("cannot write %s", path);
    }
}

int main(int argc, char **argv)
{
    const char *dir = "/work/shared/datasets/aeb/html";
    const char *out = NULL, *dump_path = NULL;
    int rounds = 5, bad = 0, charset = 0;
    struct page *pages;
    size_t n, bytes = 0;
    double best_parse = 1e9, best_ext = 1e9, cpu_ext = 0, best_cs = 1e9, best_conv = 1e9;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--pages") == 0 && i + 1 < argc) {
            dir = argv[++i];
        } else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) {
            rounds = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--dump") == 0 && i + 1 < argc) {
            dump_path = argv[++i];
            keep_docs = 1;
        } else if (strcmp(argv[i], "--charset") == 0) {
            charset = 1;
        } else if (strcmp(argv[i], "--skip-missing") == 0) {
            skip_missing = 1;
        } else {
            fprintf(stderr, "usage: bench-extract [--pages DIR] [--out FILE.jsonl] [--rounds N] "
                            "[--charset] [--dump FILE.jsonl] [--skip-missing]\n");
            return 2;
        }
    }
    if (rounds < 1) {
        die("%s", "--rounds must be >= 1");
    }
    xmlInitParser();
    load_pages(dir, &pages, &n);
    for (size_t i = 0; i < n; i++) {
        bytes += pages[i].len;
    }
    printf("%zu pages, %.1f MB\n", n, (double)bytes / 1e6);
    load_urls(dir, pages, n);
    pin_cpu();
    for (int r = 0; r < rounds; r++) {
        double c0, t;
        t = run_parse(pages, n);
        if (t < best_parse) {
            best_parse = t;
        }
        c0 = cpu_now();
        t = run_extract(pages, n, r == 0, &bad);
        if (t < best_ext) {
            best_ext = t;
            cpu_ext = cpu_now() - c0;
        }
        if (charset) {
            double conv;
            t = run_charset(pages, n, r == 0, &bad, &conv);
            if (t < best_cs) {
                best_cs = t;
            }
            if (conv < best_conv) {
                best_conv = conv;
            }
        }
    }
    printf("libxml2 parse only: %.3f s, %.1f pages/s\n", best_parse, (double)n / best_parse);
    printf("px_html: %.3f s, %.1f pages/s%s\n", best_ext, (double)n / best_ext,
           best_ext > cpu_ext * 1.05 ? " (best round preempted)" : "");
    if (charset) {
        printf("px_to_utf8 + px_html_utf8: %.3f s, %.1f pages/s; px_to_utf8 alone %.4f s "
               "(%.1f%% of px_html's time, %.0f MB/s)\n",
               best_cs, (double)n / best_cs, best_conv, 100.0 * best_conv / best_ext,
               (double)bytes / 1e6 / best_conv);
        printf("RESULT parse_pps=%.2f ours_pps=%.2f charset_pps=%.2f\n", (double)n / best_parse,
               (double)n / best_ext, (double)n / best_cs);
    } else {
        printf("RESULT parse_pps=%.2f ours_pps=%.2f\n", (double)n / best_parse,
               (double)n / best_ext);
    }
    print_meta(pages, n);
    if (out != NULL) {
        write_out(out, pages, n);
    }
    if (dump_path != NULL) {
        write_dump(dump_path, pages, n, charset);
    }
    for (size_t i = 0; i < n; i++) {
        free(pages[i].html);
        free(pages[i].text);
        free(pages[i].title);
        free(pages[i].url);
        free(pages[i].cs_text);
        px_doc_free(&pages[i].doc);
        px_doc_free(&pages[i].cs_doc);
    }
    free(pages);
    xmlCleanupParser();
    return bad ? 1 : 0;
}
