/* bench-sink: the sink's store and index.
 *
 * 1. Stored records per second with the index attached, fsync on, into a
 *    fresh corpus, --sync-docs records each way: batched as the sink runs
 *    under Kafka (st_stage per record, st_sync every --sync-ms: one
 *    syncfs, the renames, one directory fsync, one index transaction),
 *    and one record at a time as in stdin mode (st_put: the same steps
 *    for each record).
 * 2. Index-only: --docs generated documents put into a fresh index
 *    (ix_put, one transaction each), versions per second.
 * 3. Query latency (p50, p99, max) over that index, --rounds runs of each
 *    query with random actors and dates, the result rows consumed.
 *
 * Documents are generated: 48 actor ids (a few far more frequent than the
 * rest), 3 to 8 per document, 40 event ids, published days over 2020-2026,
 * ~150 words of text from a 2,000-word vocabulary where "sanctions" is in
 * about one document in ten. Prints a table and, with --json FILE, the
 * figures as JSON. */
#include "index.h"
#include "nl_err.h"
#include "nl_record.h"
#include "nl_text.h"
#include "store.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define NACTORS 48
#define NEVENTS 40

static unsigned long long rng = 0x9e3779b97f4a7c15ULL;

static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)((rng >> 11) % n);
}

/* a few actors are in most documents, most in few */
static unsigned rnd_actor(void)
{
    unsigned r = rnd(100);
    return r < 40 ? rnd(4) : r < 70 ? 4 + rnd(8) : 12 + rnd(NACTORS - 12);
}

static void actor_id(unsigned i, char *out, size_t len)
{
    snprintf(out, len, "actor-%02u", i);
}

static void rnd_day(char out[11], int from_year, int years)
{
    snprintf(out, 11, "%04d-%02u-%02u", from_year + (int)rnd((unsigned)years), 1 + rnd(12),
             1 + rnd(28));
}

static json_t *gen_record(long n)
{
    char id[17], day[11], aid[32], eid[32];
    json_t *acts = json_array(), *evs = json_array(), *rels = json_array();
    char text[4096];
    size_t tl = 0;
    unsigned na = 3 + rnd(6);
    unsigned used[8];
    int sanctions = rnd(10) == 0;
    json_t *rec;

    snprintf(id, sizeof(id), "%016llx", (unsigned long long)nl_hash64(&n, sizeof(n)));
    rnd_day(day, 2020, 7);
    for (unsigned i = 0; i < na; i++) {
        unsigned a = rnd_actor();
        int dup = 0;
        for (unsigned j = 0; j < i; j++) {
            dup |= used[j] == a;
        }
        if (dup) {
            a = (a + 1 + i) % NACTORS;
        }
        used[i] = a;
        actor_id(a, aid, sizeof(aid));
        json_array_append_new(acts, json_pack("{s:s, s:s, s:s, s:i}", "id", aid, "kind", "state",
                                              "name", aid, "count", 1 + (int)rnd(20)));
        if (i > 0) {
            char first[32];
            actor_id(used[0], first, sizeof(first));
            json_array_append_new(rels,
                                  json_pack("{s:[s, s], s:i}", "actors", first, aid, "count", 1));
        }
    }
    for (unsigned i = 0, ne = rnd(3); i < ne; i++) {
        snprintf(eid, sizeof(eid), "event-%02u", rnd(NEVENTS));
        json_array_append_new(
            evs, json_pack("{s:s, s:s, s:i}", "id", eid, "label", eid, "count", 1 + (int)rnd(4)));
    }
    for (int w = 0; w < 150 && tl + 16 < sizeof(text); w++) {
        int k = sanctions && w == 70 ? snprintf(text + tl, sizeof(text) - tl, "sanctions ")
                                     : snprintf(text + tl, sizeof(text) - tl, "w%u%s", rnd(2000),
                                                w % 15 == 14 ? ". " : " ");
        tl += (size_t)k;
    }
    rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s#, s:{s:s, s:s}, s:{s:o, s:o, s:o, s:s}}",
                    "schema", NL_SCHEMA_TAGGED, "id", id, "source", rnd(10) ? "fetch" : "replay",
                    "content_type", "text/html", "title", "A generated article", "text", text, tl,
                    "published", "value", day, "source", "meta", "tags", "actors", acts, "events",
                    evs, "relations", rels, "watchlist_version", "bench-1");
    return rec;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int count_row(const json_t *row, void *arg)
{
    (void)row;
    (*(long *)arg)++;
    return 0;
}

struct qstat {
    const char *name;
    double p50, p99, max;
    double rows;
};

/* Stores n records from number first into a fresh corpus at path: with
 * sync_ms < 0 one at a time (st_put), else st_stage each and st_sync
 * whenever sync_ms have passed since the last sync, and at the end.
 * Returns the seconds taken, or -1. */
static double store_run(const char *path, long first, long n, long sync_ms, long *batches,
                        double *sync_s)
{
    nl_store *st = NULL;
    nl_index *ix = NULL;
    char errbuf[512];
    double t0, last;

    *batches = 0;
    *sync_s = 0;
    if (st_open(path, &st, errbuf, sizeof(errbuf)) != 0 ||
        ix_open(path, IX_OPEN_REPAIR, &ix, errbuf, sizeof(errbuf)) != 0) {
        fprintf(stderr, "bench-sink: %s\n", errbuf);
        return -1;
    }
    st_set_index(st, ix);
    t0 = last = now_s();
    for (long i = 0; i < n; i++) {
        json_t *rec = gen_record(first + i), *report = NULL;
        int rc = rec == NULL   ? NL_ENOMEM
                 : sync_ms < 0 ? st_put(st, rec, NULL, &report, errbuf, sizeof(errbuf))
                               : st_stage(st, rec, NULL, &report, errbuf, sizeof(errbuf));
        if (rc != 0) {
            fprintf(stderr, "bench-sink: store: %s\n", errbuf);
            return -1;
        }
        json_decref(report);
        json_decref(rec);
        if (sync_ms >= 0 && (now_s() - last) * 1000.0 >= (double)sync_ms) {
            double ts = now_s();
            if (st_sync(st, errbuf, sizeof(errbuf)) != 0) {
                fprintf(stderr, "bench-sink: st_sync: %s\n", errbuf);
                return -1;
            }
            (*batches)++;
            last = now_s();
            *sync_s += last - ts;
        }
    }
    if (st_pending(st) > 0) {
        double ts = now_s();
        if (st_sync(st, errbuf, sizeof(errbuf)) != 0) {
            fprintf(stderr, "bench-sink: st_sync: %s\n", errbuf);
            return -1;
        }
        (*batches)++;
        *sync_s += now_s() - ts;
    }
    t0 = now_s() - t0;
    st_close(st);
    ix_close(ix);
    return t0;
}

/* Runs one query kind `rounds` times with fresh random arguments. */
static int run_query(nl_index *ix, int kind, int rounds, struct qstat *qs)
{
    double *t = malloc(sizeof(double) * (size_t)rounds);
    char a0[32], a1[32], ev[32], since[11], until[11];
    long rows_total = 0;
    char errbuf[512];

    if (t == NULL) {
        return -1;
    }
    for (int r = 0; r < rounds; r++) {
        ix_query q;
        long rows = 0;
        double t0;
        int rc;
        int year = 2020 + (int)rnd(6);

        memset(&q, 0, sizeof(q));
        actor_id(rnd_actor(), a0, sizeof(a0));
        actor_id(rnd_actor(), a1, sizeof(a1));
        snprintf(ev, sizeof(ev), "event-%02u", rnd(NEVENTS));
        snprintf(since, sizeof(since), "%04d-01-01", year);
        snprintf(until, sizeof(until), "%04d-12-31", year);
        q.limit = 100;
        switch (kind) {
        case 0: /* actor and date */
            q.actors[0] = a0;
            q.nactors = 1;
            q.since = since;
            q.until = until;
            break;
        case 1: /* two actors since a date, containing "sanctions" */
            q.actors[0] = a0;
            q.actors[1] = a1;
            q.nactors = 2;
            q.since = since;
            q.text = "sanctions";
            break;
        case 2: /* full text alone */
            q.text = "sanctions";
            break;
        case 3: /* event and date */
            q.event = ev;
            q.since = since;
            q.until = until;
            break;
        default: /* --count: mentions per day of one actor over a year */
            q.actors[0] = a0;
            q.nactors = 1;
            q.since = since;
            q.until = until;
            q.limit = 0;
            break;
        }
        t0 = now_s();
        rc = ix_check(ix, &q, NULL, NULL, errbuf, sizeof(errbuf));
        if (rc == 0) {
            rc = kind == 4 ? ix_count_mentions(ix, &q, count_row, &rows, errbuf, sizeof(errbuf))
                           : ix_search(ix, &q, count_row, &rows, errbuf, sizeof(errbuf));
        }
        t[r] = (now_s() - t0) * 1000.0;
        if (rc != 0) {
            fprintf(stderr, "bench-sink: query %d: %s\n", kind, errbuf);
            free(t);
            return -1;
        }
        rows_total += rows;
    }
    qsort(t, (size_t)rounds, sizeof(double), cmp_d);
    qs->p50 = t[rounds / 2];
    qs->p99 = t[(rounds * 99) / 100 < rounds ? (rounds * 99) / 100 : rounds - 1];
    qs->max = t[rounds - 1];
    qs->rows = (double)rows_total / rounds;
    free(t);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"docs", required_argument, NULL, 'n'},
                                         {"sync-docs", required_argument, NULL, 's'},
                                         {"rounds", required_argument, NULL, 'r'},
                                         {"dir", required_argument, NULL, 'd'},
                                         {"json", required_argument, NULL, 'j'},
                                         {"sync-ms", required_argument, NULL, 'm'},
                                         {NULL, 0, NULL, 0}};
    static const char *const qnames[] = {"actor + date (1 year)", "2 actors + since + text",
                                         "text \"sanctions\"", "event + date (1 year)",
                                         "--count actor per day (1 year)"};
    long docs = 100000, sync_docs = 2000, sync_ms = 100, batches = 0, batches1 = 0;
    int rounds = 300;
    const char *dir = NULL, *json_out = NULL;
    char tmpl[] = "/tmp/bench-sink.XXXXXX", path[4096], errbuf[512];
    nl_index *ix = NULL;
    struct qstat qs[5];
    double sync_s = 0, sync1_s = 0;
    double t0, store_rate, store1_rate, index_rate, store_s, store1_s, index_s;
    int c;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            docs = atol(optarg);
            break;
        case 's':
            sync_docs = atol(optarg);
            break;
        case 'r':
            rounds = atoi(optarg);
            break;
        case 'd':
            dir = optarg;
            break;
        case 'j':
            json_out = optarg;
            break;
        case 'm':
            sync_ms = atol(optarg);
            break;
        default:
            fprintf(stderr,
                    "usage: bench-sink [--docs N] [--sync-docs N] [--sync-ms MS] [--rounds N] "
                    "[--dir DIR] [--json FILE]\n");
            return 2;
        }
    }
    if (docs < 1 || sync_docs < 1 || rounds < 1) {
        fprintf(stderr, "bench-sink: counts must be positive\n");
        return 2;
    }
    if (dir == NULL) {
        dir = mkdtemp(tmpl);
        if (dir == NULL) {
            perror("mkdtemp");
            return 1;
        }
    }

    /* 1. the store, fsync on, index attached: batched, then one at a time */
    snprintf(path, sizeof(path), "%s/store", dir);
    store_s = store_run(path, 0, sync_docs, sync_ms, &batches, &sync_s);
    snprintf(path, sizeof(path), "%s/store1", dir);
    store1_s = store_s >= 0 ? store_run(path, 0, sync_docs, -1, &batches1, &sync1_s) : -1;
    if (store_s < 0 || store1_s < 0) {
        return 1;
    }
    store_rate = (double)sync_docs / store_s;
    store1_rate = (double)sync_docs / store1_s;

    /* 2. the index alone, docs versions */
    snprintf(path, sizeof(path), "%s/index", dir);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        perror(path);
        return 1;
    }
    if (ix_open(path, IX_OPEN_QUERY, &ix, errbuf, sizeof(errbuf)) != 0) {
        fprintf(stderr, "bench-sink: %s\n", errbuf);
        return 1;
    }
    t0 = now_s();
    for (long i = 0; i < docs; i++) {
        json_t *rec = gen_record(1000000 + i);
        const char *text = nl_record_str(rec, "text");
        size_t tlen = strlen(text);
        char file[64];
        json_t *side;
        snprintf(file, sizeof(file), "%03ld_%s.txt", i, nl_record_str(rec, "id"));
        side = json_pack("{s:s, s:i, s:s, s:s, s:s, s:O}", "id", nl_record_str(rec, "id"),
                         "version", 1, "file", file, "content_hash", "0000000000000000",
                         "stored_at", "2026-12-01T00:00:00.000Z", "record", rec);
        if (side == NULL || ix_put(ix, side, text, tlen, errbuf, sizeof(errbuf)) != 0) {
            fprintf(stderr, "bench-sink: ix_put: %s\n", errbuf);
            return 1;
        }
        json_decref(side);
        json_decref(rec);
    }
    index_s = now_s() - t0;
    index_rate = (double)docs / index_s;

    /* 3. queries */
    for (int k = 0; k < 5; k++) {
        qs[k].name = qnames[k];
        if (run_query(ix, k, rounds, &qs[k]) != 0) {
            return 1;
        }
    }
    ix_close(ix);

    printf("store, fsync on, index attached, batched (sync every %ld ms, %ld batches): %ld records "
           "in %.2f s = %.0f records/s (%.2f s in st_sync)\n",
           sync_ms, batches, sync_docs, store_s, store_rate, sync_s);
    printf("store, fsync on, index attached, one record at a time (st_put): %ld records in %.2f s "
           "= %.0f records/s\n",
           sync_docs, store1_s, store1_rate);
    printf("index alone: %ld versions in %.2f s = %.0f versions/s\n", docs, index_s, index_rate);
    printf("queries over %ld documents, %d runs each (ms):\n", docs, rounds);
    printf("  %-32s %8s %8s %8s %10s\n", "query", "p50", "p99", "max", "rows/run");
    for (int k = 0; k < 5; k++) {
        printf("  %-32s %8.2f %8.2f %8.2f %10.1f\n", qs[k].name, qs[k].p50, qs[k].p99, qs[k].max,
               qs[k].rows);
    }
    if (json_out != NULL) {
        json_t *j = json_pack("{s:I, s:I, s:f, s:f, s:I, s:f, s:[]}", "store_records",
                              (json_int_t)sync_docs, "store_sync_ms", (json_int_t)sync_ms,
                              "store_records_per_s", store_rate, "store_unbatched_records_per_s",
                              store1_rate, "index_docs", (json_int_t)docs, "index_versions_per_s",
                              index_rate, "queries");
        for (int k = 0; j != NULL && k < 5; k++) {
            json_array_append_new(json_object_get(j, "queries"),
                                  json_pack("{s:s, s:f, s:f, s:f, s:f}", "query", qs[k].name,
                                            "p50_ms", qs[k].p50, "p99_ms", qs[k].p99, "max_ms",
                                            qs[k].max, "rows", qs[k].rows));
        }
        if (j == NULL || json_dump_file(j, json_out, JSON_INDENT(1)) != 0) {
            fprintf(stderr, "bench-sink: cannot write %s\n", json_out);
        }
        json_decref(j);
    }
    if (dir == tmpl) {
        char cmd[4200];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
        if (system(cmd) != 0) {
            fprintf(stderr, "bench-sink: could not remove %s\n", tmpl);
        }
    }
    return 0;
}
