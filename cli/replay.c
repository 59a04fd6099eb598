/* newsline replay / newsline fetch: produce records into the pipeline and
 * wait until the broker has acknowledged every one. */
#include "cli.h"
#include "nl_err.h"
#include "nl_kafka.h"
#include "nl_log.h"
#include "nl_record.h"
#include "nl_stage.h"
#include "nl_text.h"
#include "url.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void cli_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    struct cli_tally *t = opaque;
    (void)rk;
    if (rkm->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        t->acked++;
    } else {
        t->failed++;
        fprintf(stderr, "newsline: delivery to %s failed: %s\n", rd_kafka_topic_name(rkm->rkt),
                rd_kafka_err2str(rkm->err));
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The seed documents of the corpus directory, sorted. */
static char **list_seeds(const char *dir, size_t *n)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char **v = NULL;
    size_t cap = 0;
    char id[17];

    *n = 0;
    if (d == NULL) {
        fprintf(stderr, "newsline: corpus %s: %s\n", dir, strerror(errno));
        return NULL;
    }
    while ((de = readdir(d)) != NULL) {
        if (!nl_id_from_doc_name(de->d_name, id)) {
            continue;
        }
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nv = realloc(v, cap * sizeof(*v));
            if (nv == NULL) {
                break;
            }
            v = nv;
        }
        size_t len = strlen(dir) + strlen(de->d_name) + 2;
        v[*n] = malloc(len);
        if (v[*n] == NULL) {
            break;
        }
        snprintf(v[*n], len, "%s/%s", dir, de->d_name);
        (*n)++;
    }
    closedir(d);
    if (*n > 0) {
        qsort(v, *n, sizeof(*v), cmp_str);
    }
    return v;
}

static char *read_all(const char *path, size_t max, size_t *len, char *errbuf, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    struct stat sb;
    char *buf;

    if (f == NULL) {
        nl_errf(errbuf, errlen, NL_EIO, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        nl_errf(errbuf, errlen, NL_EIO, "%s: not a regular file", path);
        fclose(f);
        return NULL;
    }
    if ((size_t)sb.st_size > max) {
        nl_errf(errbuf, errlen, NL_ETOOBIG, "%s: %lld bytes is over max_record_bytes", path,
                (long long)sb.st_size);
        fclose(f);
        return NULL;
    }
    buf = malloc((size_t)sb.st_size + 1);
    if (buf == NULL) {
        fclose(f);
        return NULL;
    }
    *len = fread(buf, 1, (size_t)sb.st_size, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

/* A newsline.raw/1 record for one document file. */
static json_t *replay_record(const char *path, const char *body, size_t len, const char *id)
{
    const char *base = strrchr(path, '/');
    json_t *rec = nl_record_new(NL_SCHEMA_RAW, id);
    int rc;

    base = base != NULL ? base + 1 : path;
    if (rec == NULL) {
        return NULL;
    }
    rc = nl_record_set_str(rec, "source", "replay");
    rc = rc ? rc : nl_record_set_new(rec, "path", json_string(base));
    rc = rc ? rc : nl_record_set_str(rec, "content_type", "text/plain; charset=utf-8");
    if (rc == 0 && nl_utf8_valid(body, len)) {
        rc = nl_record_set_strn(rec, "body", body, len);
    } else if (rc == 0) {
        char *enc = nl_base64_encode((const unsigned char *)body, len, NULL);
        rc = enc != NULL ? nl_record_set_new(rec, "body_base64", json_string(enc)) : NL_ENOMEM;
        free(enc);
    }
    if (rc != 0) {
        json_decref(rec);
        return NULL;
    }
    return rec;
}

static void progress(size_t done, size_t total, size_t acked)
{
    int width = 30;
    int fill = total ? (int)(done * (size_t)width / total) : width;
    fprintf(stderr, "\r[%.*s%*s] %zu/%zu produced, %zu acknowledged", fill,
            "##############################", width - fill, "", done, total, acked);
}

/* Produces one record and serves delivery reports. */
/* Produces rec keyed by key (NULL: its id). */
static int produce_keyed(rd_kafka_t *rk, const char *topic, json_t *rec, const char *stage,
                         const char *id)
{
    size_t len;
    char *payload = nl_record_dump(rec, &len);
    rd_kafka_headers_t *h = rd_kafka_headers_new(4);
    char ts[32];
    char name[32];
    rd_kafka_resp_err_t err;

    if (payload == NULL || h == NULL) {
        free(payload);
        if (h != NULL) {
            rd_kafka_headers_destroy(h);
        }
        return NL_ENOMEM;
    }
    snprintf(ts, sizeof(ts), "%lld", (long long)nl_now_ms());
    snprintf(name, sizeof(name), "nl-t-%s", stage);
    rd_kafka_header_add(h, "nl-schema", -1, nl_record_str(rec, "schema"), -1);
    rd_kafka_header_add(h, "nl-stage", -1, stage, -1);
    rd_kafka_header_add(h, name, -1, ts, -1);
    err = nl_kafka_produce(rk, topic, id ? id : "", id ? strlen(id) : 0, payload, len, h, NULL);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "newsline: cannot produce to %s: %s\n", topic, rd_kafka_err2str(err));
        free(payload);
        rd_kafka_headers_destroy(h);
        return NL_EINVAL;
    }
    rd_kafka_poll(rk, 0);
    return 0;
}

static int produce_rec(rd_kafka_t *rk, const char *topic, json_t *rec, const char *stage)
{
    return produce_keyed(rk, topic, rec, stage, nl_record_str(rec, "id"));
}

/* Waits for every report; 0 if all were acknowledged. */
static int finish(rd_kafka_t *rk, const nl_config *cfg, struct cli_tally *t, size_t total)
{
    int64_t deadline = nl_now_ms() + cfg->message_timeout_ms + 5000;
    while (rd_kafka_outq_len(rk) > 0 && nl_now_ms() < deadline && !nl_stop) {
        rd_kafka_flush(rk, 200);
        if (isatty(STDERR_FILENO)) {
            progress(total, total, t->acked);
        }
    }
    return rd_kafka_outq_len(rk) == 0 && t->failed == 0 && t->acked == total &&
                   !nl_kafka_fatal_seen()
               ? 0
               : -1;
}

static rd_kafka_t *connect_producer(const nl_config *cfg, struct cli_tally *t)
{
    char errbuf[512];
    rd_kafka_t *rk =
        nl_kafka_producer_new(cfg, "newsline-cli", cli_on_delivery, t, errbuf, sizeof(errbuf));
    if (rk == NULL) {
        fprintf(stderr, "newsline: %s\n", errbuf);
        return NULL;
    }
    if (nl_kafka_wait_brokers(rk, cfg, errbuf, sizeof(errbuf)) != 0) {
        fprintf(stderr, "newsline: %s\n", errbuf);
        rd_kafka_destroy(rk);
        return NULL;
    }
    return rk;
}

int cli_replay(const nl_config *cfg, int argc, char **argv)
{
    static const struct option opts[] = {{"copies", required_argument, NULL, 'n'},
                                         {"salt", required_argument, NULL, 's'},
                                         {NULL, 0, NULL, 0}};
    long copies = 1;
    const char *salt = NULL;
    char **paths = NULL;
    size_t n_paths = 0;
    int owned = 0;
    struct cli_tally t = {0, 0, 0};
    rd_kafka_t *rk = NULL;
    size_t total, produced = 0, skipped = 0;
    int64_t t0 = nl_now_ms();
    int tty = isatty(STDERR_FILENO);
    int c, rc = NL_EXIT_OK;

    optind = 0;
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        if (c == 'n') {
            char *end;
            copies = strtol(optarg, &end, 10);
            if (*end != '\0' || copies < 1 || copies > 10000000) {
                fprintf(stderr, "newsline replay: --copies must be 1..10000000\n");
                return NL_EXIT_USAGE;
            }
        } else if (c == 's') {
            salt = optarg;
        } else {
            fprintf(stderr, "newsline replay: usage: replay [--copies N] [--salt S] [PATH...]\n");
            return NL_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        paths = argv + optind;
        n_paths = (size_t)(argc - optind);
    } else {
        paths = list_seeds(cfg->sink_corpus_dir, &n_paths);
        owned = 1;
        if (n_paths == 0) {
            fprintf(stderr, "newsline replay: no seed documents (NNN_<id>.txt) in %s\n",
                    cfg->sink_corpus_dir);
            rc = NL_EXIT_FAIL;
            goto out;
        }
    }
    /* Copies (for benchmarks) get ids of their own, so each is a new document. */
    if (copies > 1 && salt == NULL) {
        salt = "copy";
    }
    rk = connect_producer(cfg, &t);
    if (rk == NULL) {
        rc = NL_EXIT_UNAVAILABLE;
        goto out;
    }
    total = n_paths * (size_t)copies;
    for (size_t i = 0; i < n_paths && !nl_stop; i++) {
        char errbuf[512];
        char id[17];
        size_t len = 0;
        char *body =
            read_all(paths[i], (size_t)cfg->max_record_bytes, &len, errbuf, sizeof(errbuf));
        const char *base = strrchr(paths[i], '/');

        base = base != NULL ? base + 1 : paths[i];
        if (body == NULL) {
            fprintf(stderr, "%snewsline replay: skipped %s\n", tty ? "\n" : "", errbuf);
            skipped++;
            total -= (size_t)copies;
            continue;
        }
        if (!nl_id_from_doc_name(base, id)) {
            /* not a corpus file: its id follows its content */
            nl_id_from_string(body, len, id);
        }
        for (long k = 0; k < copies && !nl_stop; k++) {
            char cid[17];
            json_t *rec;
            if (salt != NULL) {
                char key[128];
                int kl = snprintf(key, sizeof(key), "%s/%s/%ld", id, salt, k);
                nl_id_from_string(key, (size_t)kl, cid);
            } else {
                memcpy(cid, id, sizeof(cid));
            }
            rec = replay_record(paths[i], body, len, cid);
            if (rec == NULL || produce_rec(rk, cfg->topic_raw, rec, "replay") != 0) {
                json_decref(rec);
                free(body);
                rc = NL_EXIT_SOFTWARE;
                goto out;
            }
            json_decref(rec);
            produced++;
            t.bytes += len;
            if (tty && (produced % 64 == 0 || produced == total)) {
                progress(produced, total, t.acked);
            }
        }
        free(body);
    }
    if (finish(rk, cfg, &t, produced) != 0) {
        rc = NL_EXIT_FAIL;
    }
    if (tty) {
        fputc('\n', stderr);
    }
    fprintf(stderr,
            "replayed %zu document(s) (%.1f KiB) to %s in %.2f s: %zu acknowledged, %zu failed, "
            "%zu skipped\n",
            produced, (double)t.bytes / 1024.0, cfg->topic_raw, (double)(nl_now_ms() - t0) / 1000.0,
            t.acked, t.failed + (produced - t.acked - t.failed), skipped);
    if (skipped > 0 && rc == 0) {
        rc = NL_EXIT_FAIL;
    }
out:
    if (rk != NULL) {
        rd_kafka_destroy(rk);
    }
    if (owned) {
        for (size_t i = 0; i < n_paths; i++) {
            free(paths[i]);
        }
        free(paths);
    }
    return rc;
}

int cli_fetch(const nl_config *cfg, int argc, char **argv)
{
    struct cli_tally t = {0, 0, 0};
    rd_kafka_t *rk;
    int rc = NL_EXIT_OK;
    int n = 0;

    if (argc < 2) {
        fprintf(stderr, "newsline fetch: usage: fetch URL...\n");
        return NL_EXIT_USAGE;
    }
    rk = connect_producer(cfg, &t);
    if (rk == NULL) {
        return NL_EXIT_UNAVAILABLE;
    }
    for (int i = 1; i < argc; i++) {
        json_t *rec = nl_record_new(NL_SCHEMA_FETCH, NULL);
        char *norm = NULL;
        /* Keyed by the normalised URL, as the fetcher's poller keys it: one
         * URL always lands in the same partition, so in the same seen-set
         * (a URL that does not normalise is keyed as given; the fetcher
         * dead-letters it). */
        if (fx_url_normalize(argv[i], &norm, NULL, 0) != 0) {
            norm = NULL;
        }
        if (rec == NULL || nl_record_set_str(rec, "url", argv[i]) != 0 ||
            produce_keyed(rk, cfg->topic_fetch, rec, "request", norm != NULL ? norm : argv[i]) !=
                0) {
            fprintf(stderr, "newsline fetch: cannot queue %s\n", argv[i]);
            free(norm);
            json_decref(rec);
            rc = NL_EXIT_FAIL;
            continue;
        }
        free(norm);
        json_decref(rec);
        n++;
    }
    if (finish(rk, cfg, &t, (size_t)n) != 0) {
        rc = NL_EXIT_FAIL;
    }
    fprintf(stderr, "queued %d URL(s) on %s: %zu acknowledged\n", n, cfg->topic_fetch, t.acked);
    rd_kafka_destroy(rk);
    return rc;
}
