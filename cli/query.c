/* newsline reindex / newsline query: the corpus index (sink/index.h) from
 * the command line. Both open the index of the corpus directory, which
 * rebuilds it first if it is missing or corrupt. */
#include "cli.h"
#include "index.h"
#include "nl_err.h"
#include "nl_stage.h"
#include "nl_text.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int cli_reindex(const nl_config *cfg, int argc, char **argv)
{
    static const struct option opts[] = {{"corpus", required_argument, NULL, 'c'},
                                         {NULL, 0, NULL, 0}};
    const char *dir = cfg->sink_corpus_dir;
    char errbuf[512], path[4096];
    struct stat sb;
    nl_index *ix = NULL;
    size_t n = 0;
    int64_t t0;
    int c, existed;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        if (c == 'c') {
            dir = optarg;
        } else {
            fprintf(stderr, "newsline reindex: usage: reindex [--corpus DIR]\n");
            return NL_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "newsline reindex: usage: reindex [--corpus DIR]\n");
        return NL_EXIT_USAGE;
    }
    t0 = nl_now_ms();
    snprintf(path, sizeof(path), "%s/%s", dir, IX_FILE);
    existed = stat(path, &sb) == 0;
    /* a missing or corrupt index is rebuilt by the open itself */
    if (ix_open(dir, IX_OPEN_QUERY, &ix, errbuf, sizeof(errbuf)) != 0 ||
        (existed && ix_rebuild(ix, &n, errbuf, sizeof(errbuf)) != 0)) {
        fprintf(stderr, "newsline reindex: %s\n", errbuf);
        ix_close(ix);
        return NL_EXIT_FAIL;
    }
    printf("reindexed %ld versions of %s in %lld ms\n", ix_count(ix), dir,
           (long long)(nl_now_ms() - t0));
    ix_close(ix);
    return 0;
}

/* The ids of the watchlist's actors and events, so that a watchlist actor
 * no stored document mentions yet is not "unknown"; NULL if unreadable. */
static void watchlist_ids(const char *path, json_t **actors, json_t **events)
{
    json_t *wl = path != NULL ? json_load_file(path, 0, NULL) : NULL;
    const char *names[2] = {"actors", "events"};
    json_t **out[2] = {actors, events};

    for (int k = 0; k < 2; k++) {
        json_t *arr = json_object_get(wl, names[k]);
        size_t i;
        json_t *e;
        *out[k] = json_array();
        json_array_foreach(arr, i, e)
        {
            json_t *id = json_object_get(e, "id");
            if (json_is_string(id) && *out[k] != NULL) {
                json_array_append(*out[k], id);
            }
        }
    }
    json_decref(wl);
}

struct out {
    int json;
    int count;
    size_t rows;
};

/* Prints at most max bytes of s, not cutting a UTF-8 sequence. */
static void print_cut(const char *s, size_t max)
{
    size_t len = strlen(s);
    if (len <= max) {
        fputs(s, stdout);
        return;
    }
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80) {
        max--;
    }
    fwrite(s, 1, max, stdout);
    fputs("...", stdout);
}

static const char *str_or(const json_t *j, const char *field, const char *dflt)
{
    const char *v = json_string_value(json_object_get(j, field));
    return v != NULL ? v : dflt;
}

static int print_row(const json_t *row, void *arg)
{
    struct out *o = arg;

    if (o->json) {
        char *s = json_dumps(row, JSON_COMPACT | JSON_SORT_KEYS);
        if (s == NULL) {
            return NL_ENOMEM;
        }
        puts(s);
        free(s);
    } else if (o->count) {
        if (o->rows == 0) {
            printf("%-10s  %-32s  %8s  %9s\n", "DATE", "ACTOR", "MENTIONS", "DOCUMENTS");
        }
        printf("%-10s  %-32s  %8lld  %9lld\n", str_or(row, "date", "undated"),
               str_or(row, "actor", "?"),
               (long long)json_integer_value(json_object_get(row, "mentions")),
               (long long)json_integer_value(json_object_get(row, "documents")));
    } else {
        json_t *actors = json_object_get(row, "actors");
        char buf[64];
        size_t i, used = 0;
        json_t *a;
        if (o->rows == 0) {
            printf("%-10s  %-16s  %2s  %-7s  %-40s  %s\n", "DATE", "ID", "V", "SOURCE",
                   "TOP ACTORS", "TITLE");
        }
        buf[0] = '\0';
        json_array_foreach(actors, i, a)
        {
            int n;
            if (i == 3) {
                break;
            }
            n = snprintf(buf + used, sizeof(buf) - used, "%s%s:%lld", i ? " " : "",
                         str_or(a, "id", "?"),
                         (long long)json_integer_value(json_object_get(a, "count")));
            if (n < 0 || (size_t)n >= sizeof(buf) - used) {
                buf[used] = '\0';
                break;
            }
            used += (size_t)n;
        }
        printf("%-10s  %-16s  %2lld  %-7s  %-40s  ", str_or(row, "date", "undated"),
               str_or(row, "id", "?"),
               (long long)json_integer_value(json_object_get(row, "version")),
               str_or(row, "source", "-"), buf);
        print_cut(str_or(row, "title", ""), 70);
        putchar('\n');
    }
    o->rows++;
    return 0;
}

int cli_query(const nl_config *cfg, int argc, char **argv)
{
    static const struct option opts[] = {{"corpus", required_argument, NULL, 'c'},
                                         {"actor", required_argument, NULL, 'a'},
                                         {"event", required_argument, NULL, 'e'},
                                         {"since", required_argument, NULL, 's'},
                                         {"until", required_argument, NULL, 'u'},
                                         {"source", required_argument, NULL, 'S'},
                                         {"text", required_argument, NULL, 't'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"count", no_argument, NULL, 'n'},
                                         {"limit", required_argument, NULL, 'l'},
                                         {NULL, 0, NULL, 0}};
    const char *dir = cfg->sink_corpus_dir;
    ix_query q;
    struct out o = {0, 0, 0};
    int limit_set = 0;
    json_t *wl_actors = NULL, *wl_events = NULL;
    nl_index *ix = NULL;
    char errbuf[512];
    int c, rc;

    memset(&q, 0, sizeof(q));
    q.limit = 100;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'c':
            dir = optarg;
            break;
        case 'a':
            if (q.nactors == IX_MAX_ACTORS) {
                fprintf(stderr, "newsline query: at most %d --actor\n", IX_MAX_ACTORS);
                return NL_EXIT_USAGE;
            }
            q.actors[q.nactors++] = optarg;
            break;
        case 'e':
            q.event = optarg;
            break;
        case 's':
            q.since = optarg;
            break;
        case 'u':
            q.until = optarg;
            break;
        case 'S':
            q.source = optarg;
            break;
        case 't':
            q.text = optarg;
            break;
        case 'j':
            o.json = 1;
            break;
        case 'n':
            o.count = 1;
            break;
        case 'l':
            q.limit = strtol(optarg, &end, 10);
            if (*end != '\0' || end == optarg || q.limit < 0) {
                fprintf(stderr, "newsline query: --limit %s: must be a number, 0 for all\n",
                        optarg);
                return NL_EXIT_USAGE;
            }
            limit_set = 1;
            break;
        default:
            /* one line, not getopt's and a usage block */
            fprintf(stderr,
                    "newsline query: bad option \"%s\" (options: --corpus --actor --event "
                    "--since --until --source --text --json --count --limit)\n",
                    argv[optind - 1]);
            return NL_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "newsline query: unexpected argument \"%s\" (%s)\n", argv[optind],
                "see newsline --help");
        return NL_EXIT_USAGE;
    }
    if (o.count && !limit_set) {
        q.limit = 0; /* every (day, actor) */
    }
    /* dates first: a bad one is a usage error whatever the index holds */
    if ((q.since != NULL && !ix_valid_date(q.since)) ||
        (q.until != NULL && !ix_valid_date(q.until))) {
        const char *bad = q.since != NULL && !ix_valid_date(q.since) ? q.since : q.until;
        fprintf(stderr, "newsline query: --%s %s: not a date (YYYY-MM-DD)\n",
                bad == q.since ? "since" : "until", bad);
        return NL_EXIT_USAGE;
    }
    if (ix_open(dir, IX_OPEN_QUERY, &ix, errbuf, sizeof(errbuf)) != 0) {
        fprintf(stderr, "newsline query: %s\n", errbuf);
        return NL_EXIT_FAIL;
    }
    watchlist_ids(cfg->tagger_watchlist, &wl_actors, &wl_events);
    rc = ix_check(ix, &q, wl_actors, wl_events, errbuf, sizeof(errbuf));
    if (rc == NL_EINVAL) {
        fprintf(stderr, "newsline query: %s\n", errbuf);
        rc = NL_EXIT_USAGE;
        goto out;
    }
    if (rc == 0) {
        rc = o.count ? ix_count_mentions(ix, &q, print_row, &o, errbuf, sizeof(errbuf))
                     : ix_search(ix, &q, print_row, &o, errbuf, sizeof(errbuf));
    }
    if (rc != 0) {
        fprintf(stderr, "newsline query: %s\n", errbuf);
        rc = rc == NL_EINVAL ? NL_EXIT_USAGE : NL_EXIT_FAIL;
        goto out;
    }
    if (!o.json && o.rows == 0) {
        fprintf(stderr, "newsline query: no matching documents\n");
    }
out:
    json_decref(wl_actors);
    json_decref(wl_events);
    ix_close(ix);
    return rc;
}
