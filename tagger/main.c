/* newsline-tagger: newsline.parsed -> newsline.tagged.
 * Adds tags.actors (with byte offsets) from the watchlist to each parsed
 * record. */
#include "nl_err.h"
#include "nl_log.h"
#include "nl_record.h"
#include "nl_stage.h"
#include "watchlist.h"

#include <stdlib.h>

struct tagger {
    const nl_config *cfg;
    watchlist *wl;
};

static int tag_record(void *ctx, const nl_input *in, json_t *rec, nl_emitter *em, const char **code,
                      char *errbuf, size_t errlen)
{
    struct tagger *t = ctx;
    json_t *title = json_object_get(rec, "title");
    json_t *text = json_object_get(rec, "text");
    json_t *tags;
    json_t *out;
    int rc;

    (void)in;
    tags = wl_tag(t->wl, json_string_value(title), json_string_length(title),
                  json_string_value(text), json_string_length(text));
    if (tags == NULL) {
        return nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
    }
    out = json_deep_copy(rec);
    /* nl_record_set_new consumes tags whether it succeeds or not */
    if (out == NULL || nl_record_set_new(out, "tags", tags) != 0 ||
        nl_record_set_str(out, "schema", NL_SCHEMA_TAGGED) != 0) {
        if (out == NULL) {
            json_decref(tags);
        }
        json_decref(out);
        return nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
    }
    rc = nl_emit(em, t->cfg->topic_tagged, out);
    if (rc == NL_ETOOBIG) {
        *code = "too_big";
        nl_errf(errbuf, errlen, rc, "tagged record exceeds max_record_bytes");
    }
    return rc;
}

int main(int argc, char **argv)
{
    nl_config cfg;
    struct tagger t = {&cfg, NULL};
    char errbuf[512];
    int stdin_mode;
    int rc = nl_daemon_init(argc, argv, "newsline-tagger",
                            "Tags parsed documents (newsline.parsed) with the actors of the "
                            "watchlist (newsline.tagged).",
                            &cfg, &stdin_mode, NULL);
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
    nl_stage st = {"tagger", NL_SCHEMA_PARSED, cfg.topic_parsed, tag_record, &t};
    rc = stdin_mode ? nl_stage_run_stdin(&cfg, &st, stdin, stdout) : nl_stage_run_kafka(&cfg, &st);
    wl_free(t.wl);
    nl_config_free(&cfg);
    return rc;
}
