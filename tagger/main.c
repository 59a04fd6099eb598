/* newsline-tagger: newsline.parsed -> newsline.tagged.
 * Adds tags (actors with byte offsets, events, relations; see watchlist.h)
 * to each parsed record, and sends a copy to the topic of each tag. */
#include "extract.h"
#include "nl_buf.h"
#include "nl_err.h"
#include "nl_log.h"
#include "nl_record.h"
#include "nl_stage.h"
#include "nl_text.h"
#include "watchlist.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct tagger {
    const nl_config *cfg;
    watchlist *wl;
    wl_tags *tags; /* reused for every record */
};

/* A copy of the tagged record on <prefix><id> for every actor and event it
 * carries, so a consumer can follow one tag with a plain subscription. */
static int fan_out(struct tagger *t, nl_emitter *em, char *errbuf, size_t errlen)
{
    char topic[256];

    for (size_t i = 0; i < wl_tags_n_ids(t->tags); i++) {
        const char *id = wl_tags_id(t->tags, i);
        if ((size_t)snprintf(topic, sizeof(topic), "%s%s", t->cfg->tagger_tag_topic_prefix, id) >=
                sizeof(topic) ||
            nl_emit_copy(em, topic) != 0) {
            return nl_errf(errbuf, errlen, NL_ENOMEM, "cannot queue tag topic for %s", id);
        }
    }
    return 0;
}

/* SIGHUP: load the watchlist again. Between two records, so no record is
 * tagged half with one and half with the other; a watchlist with an error
 * leaves the old one in force. */
static void reload_watchlist(struct tagger *t)
{
    char errbuf[512];
    watchlist *wl;

    nl_reload = 0;
    if (wl_load(t->cfg->tagger_watchlist, &wl, errbuf, sizeof(errbuf)) != 0) {
        nl_error("watchlist_reload_failed", "kept=%s reason=%s", nl_log_q(wl_version(t->wl)),
                 nl_log_q(errbuf));
        return;
    }
    nl_info("watchlist_reloaded", "old=%s new=%s", nl_log_q(wl_version(t->wl)),
            nl_log_q(wl_version(wl)));
    wl_free(t->wl);
    t->wl = wl;
}

/* The document's date for role aliases: the parsed record's published
 * {"value", "source"} (a bare string from an older parser also does). */
static const char *published_of(const json_t *rec)
{
    const json_t *p = json_object_get(rec, "published");
    if (json_is_object(p)) {
        return json_string_value(json_object_get(p, "value"));
    }
    return json_string_value(p);
}

static int tag_record(void *ctx, const nl_input *in, json_t *rec, nl_emitter *em, const char **code,
                      char *errbuf, size_t errlen)
{
    struct tagger *t = ctx;
    json_t *title = json_object_get(rec, "title");
    json_t *text = json_object_get(rec, "text");
    wl_doc doc;
    json_t *out;
    const char *tags;
    size_t tags_len;
    int rc;

    (void)in;
    if (nl_reload) {
        reload_watchlist(t);
    }
    /* jansson only hands out valid UTF-8; the check keeps that a contract */
    if (!nl_utf8_valid(json_string_value(title), json_string_length(title)) ||
        !nl_utf8_valid(json_string_value(text), json_string_length(text))) {
        *code = "invalid_utf8";
        return nl_errf(errbuf, errlen, NL_EINVAL, "title or text is not valid UTF-8 (or has NUL)");
    }
    doc = (wl_doc){json_string_value(title), json_string_length(title), json_string_value(text),
                   json_string_length(text), published_of(rec)};
    rc = wl_tag(t->wl, &doc, t->tags);
    if (rc != 0) {
        *code = rc == NL_ETOOBIG ? "too_big" : NULL;
        return nl_errf(errbuf, errlen, rc, rc == NL_ETOOBIG ? "text over 4 GiB" : "out of memory");
    }
    tags = wl_tags_json(t->tags, &tags_len);
    out = json_deep_copy(rec);
    if (out != NULL) {
        json_object_del(out, "tags"); /* a stale one from upstream is replaced */
    }
    if (out == NULL || nl_record_set_str(out, "schema", NL_SCHEMA_TAGGED) != 0) {
        json_decref(out);
        return nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
    }
    /* the tags are JSON text already: spliced in, not parsed again */
    rc = nl_emit_with(em, t->cfg->topic_tagged, out, "tags", tags, tags_len);
    if (rc == NL_ETOOBIG) {
        *code = "too_big";
        nl_errf(errbuf, errlen, rc, "tagged record exceeds max_record_bytes");
    }
    if (rc == 0 && t->cfg->tagger_tag_topics) {
        rc = fan_out(t, em, errbuf, errlen);
    }
    return rc;
}

/* --text FILE: the tagged record of one plain-text file, on stdout. The
 * file is read as the parser reads text/plain (first line the title), and
 * gets a corpus id if its name is NNN_<id>.txt, else the hash of its bytes. */
static int tag_file(struct tagger *t, const char *path)
{
    char errbuf[512], id[17];
    const char *base = strrchr(path, '/');
    FILE *f = fopen(path, "rb");
    nl_buf body;
    char chunk[65536];
    size_t n;
    px_doc doc = {0};
    json_t *rec = NULL, *tags = NULL;
    char *out = NULL;
    int rc = NL_EXIT_FAIL;

    nl_buf_init(&body, (size_t)t->cfg->max_record_bytes);
    if (f == NULL) {
        fprintf(stderr, "newsline-tagger: %s: %s\n", path, strerror(errno));
        return NL_EXIT_FAIL;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (nl_buf_append(&body, chunk, n) != 0) {
            fprintf(stderr, "newsline-tagger: %s: larger than max_record_bytes\n", path);
            goto out;
        }
    }
    if (ferror(f)) {
        fprintf(stderr, "newsline-tagger: %s: read error\n", path);
        goto out;
    }
    base = base != NULL ? base + 1 : path;
    if (!nl_id_from_doc_name(base, id)) {
        nl_id_from_string(body.ptr != NULL ? body.ptr : "", body.len, id);
    }
    if (px_plain(body.ptr != NULL ? body.ptr : "", body.len, &doc, errbuf, sizeof(errbuf)) != 0) {
        fprintf(stderr, "newsline-tagger: %s: %s\n", path, errbuf);
        goto out;
    }
    rec = nl_record_new(NL_SCHEMA_TAGGED, id);
    tags = wl_tag_json(t->wl, &(wl_doc){doc.title, doc.title_len, doc.text, doc.text_len, NULL});
    if (rec == NULL || tags == NULL || nl_record_set_str(rec, "source", "file") != 0 ||
        nl_record_set_str(rec, "path", base) != 0 ||
        nl_record_set_strn(rec, "title", doc.title, doc.title_len) != 0 ||
        nl_record_set_strn(rec, "text", doc.text, doc.text_len) != 0) {
        fprintf(stderr, "newsline-tagger: %s: could not build the record\n", path);
        goto out;
    }
    if (nl_record_set_new(rec, "tags", tags) != 0) {
        tags = NULL;
        goto out;
    }
    tags = NULL;
    out = json_dumps(rec, JSON_INDENT(2));
    if (out != NULL && puts(out) >= 0) {
        rc = NL_EXIT_OK;
    }
out:
    free(out);
    json_decref(tags);
    json_decref(rec);
    px_doc_free(&doc);
    nl_buf_free(&body);
    fclose(f);
    return rc;
}

int main(int argc, char **argv)
{
    nl_config cfg;
    struct tagger t = {&cfg, NULL, NULL};
    char errbuf[512];
    const char *text_file = NULL;
    const nl_daemon_opt opts[] = {
        {"text", "FILE", "print the tagged record of one plain-text file, then exit", &text_file},
        {NULL, NULL, NULL, NULL},
    };
    int stdin_mode;
    int rc = nl_daemon_init_opts(argc, argv, "newsline-tagger",
                                 "Tags parsed documents (newsline.parsed) with the actors of the "
                                 "watchlist (newsline.tagged).",
                                 &cfg, &stdin_mode, NULL, opts);
    if (rc != 0) {
        nl_config_free(&cfg);
        return rc < 0 ? 0 : rc;
    }
    if (wl_load(cfg.tagger_watchlist, &t.wl, errbuf, sizeof(errbuf)) != 0) {
        fprintf(stderr, "newsline-tagger: %s\n", errbuf);
        nl_config_free(&cfg);
        return NL_EXIT_USAGE;
    }
    nl_info("watchlist_loaded", "path=%s version=%s", nl_log_q(cfg.tagger_watchlist),
            nl_log_q(wl_version(t.wl)));
    t.tags = wl_tags_new();
    if (t.tags == NULL) {
        fprintf(stderr, "newsline-tagger: out of memory\n");
        wl_free(t.wl);
        nl_config_free(&cfg);
        return NL_EXIT_FAIL;
    }
    nl_stage st = {"tagger", NL_SCHEMA_PARSED, cfg.topic_parsed, tag_record, &t};
    if (text_file != NULL) {
        rc = tag_file(&t, text_file);
    } else if (stdin_mode) {
        rc = nl_stage_run_stdin(&cfg, &st, stdin, stdout);
    } else {
        rc = nl_stage_run_kafka(&cfg, &st);
    }
    wl_tags_free(t.tags);
    wl_free(t.wl);
    nl_config_free(&cfg);
    return rc;
}
