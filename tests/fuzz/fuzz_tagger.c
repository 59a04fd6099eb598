/* libFuzzer target for the tagger: arbitrary bytes, invalid UTF-8 and NUL
 * included.
 *  - the matcher (mt_scan) runs on the raw bytes: it must never read out of
 *    bounds, and every hit must lie inside the input, in order of start,
 *    without overlap inside its group (group 1 holds trigger words that
 *    overlap group 0's names);
 *  - wl_tag runs on the bytes made valid UTF-8 (as the parser delivers
 *    them), with the first 10 bytes as the document's date: every mention's
 *    offsets must slice to its surface form, every event's evidence to its
 *    text, every relation's sentence must lie in its field;
 *  - wl_tag on the raw bytes returns NULL exactly when they are not valid
 *    UTF-8 (the tagger dead-letters such a record), never crashes. */
#include "matcher.h"
#include "nl_text.h"
#include "watchlist.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static watchlist *wl;
static mt_matcher *mt;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char *const names[] = {
        "Russia", "North Korea",       "Kim Jong-un", "US",
        "U.S.",   "People's Republic", "Phnom Penh",  "\xc3\xa9lys\xc3\xa9",
        "Korea",  "war in Korea",      "a\tb"};
    /* group 1: trigger words; "a\tb" is a name normalisation cannot
     * express (a literal tab), matched the slow way */
    static const unsigned groups[] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0};
    mt_pattern pats[sizeof(names) / sizeof(names[0])];
    char errbuf[512];

    (void)argc;
    (void)argv;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        pats[i].text = names[i];
        pats[i].len = strlen(names[i]);
        pats[i].group = groups[i];
    }
    if (wl_load(NL_DATADIR "/tagger/watchlist.json", &wl, errbuf, sizeof(errbuf)) != 0 ||
        mt_compile(pats, sizeof(pats) / sizeof(pats[0]), &mt, errbuf, sizeof(errbuf)) != 0) {
        fprintf(stderr, "fuzz_tagger: %s\n", errbuf);
        abort();
    }
    return 0;
}

static void check_span(const json_t *sp, const char *title, size_t tl, const char *text, size_t xl,
                       const char *str_field)
{
    const char *field = json_string_value(json_object_get(sp, "field"));
    size_t s = (size_t)json_integer_value(json_object_get(sp, "start"));
    size_t e = (size_t)json_integer_value(json_object_get(sp, "end"));
    const char *src = field != NULL && strcmp(field, "title") == 0 ? title : text;
    size_t len = field != NULL && strcmp(field, "title") == 0 ? tl : xl;
    json_t *str = str_field != NULL ? json_object_get(sp, str_field) : NULL;

    if (field == NULL || s >= e || e > len ||
        (str_field != NULL &&
         (json_string_length(str) != e - s || memcmp(json_string_value(str), src + s, e - s)))) {
        abort();
    }
}

static void check_tags(const json_t *tags, const char *title, size_t tl, const char *text,
                       size_t xl)
{
    size_t i, k;
    json_t *a, *m;

    json_array_foreach(json_object_get(tags, "actors"), i, a)
    {
        json_array_foreach(json_object_get(a, "mentions"), k, m)
        {
            check_span(m, title, tl, text, xl, "surface");
        }
    }
    json_array_foreach(json_object_get(tags, "events"), i, a)
    {
        json_array_foreach(json_object_get(a, "evidence"), k, m)
        {
            check_span(m, title, tl, text, xl, "text");
        }
    }
    json_array_foreach(json_object_get(tags, "relations"), i, a)
    {
        json_array_foreach(json_object_get(a, "sentences"), k, m)
        {
            check_span(m, title, tl, text, xl, NULL);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *raw = (const char *)data;
    const char *nl = memchr(raw, '\n', size);
    size_t tl = nl != NULL ? (size_t)(nl - raw) : 0;
    const mt_hit *hits;
    size_t n, clean_len;
    char *clean;
    json_t *tags;

    /* 1: the matcher on raw bytes */
    if (mt_scan(mt, raw, size, &hits, &n) == 0) {
        size_t last_end[2] = {0, 0};
        for (size_t i = 0; i < n; i++) {
            unsigned g = hits[i].pattern >= 8 && hits[i].pattern <= 9;
            if (hits[i].start >= hits[i].end || hits[i].end > size ||
                (i > 0 && hits[i].start < hits[i - 1].start) || hits[i].start < last_end[g]) {
                abort();
            }
            last_end[g] = hits[i].end;
        }
    }
    /* 2: the tagger on valid UTF-8, split into title and text */
    clean = nl_utf8_sanitize(raw, size, size * 3 + 4, &clean_len);
    if (clean != NULL) {
        const char *cnl = memchr(clean, '\n', clean_len);
        size_t ctl = cnl != NULL ? (size_t)(cnl - clean) : 0;
        const char *text = cnl != NULL ? cnl + 1 : clean;
        size_t xl = clean_len - (size_t)(text - clean);
        tags = wl_tag_json(wl, &(wl_doc){clean, ctl, text, xl, size >= 10 ? raw : NULL});
        if (tags == NULL) {
            abort(); /* valid input: only out of memory may fail */
        }
        check_tags(tags, clean, ctl, text, xl);
        json_decref(tags);
        free(clean);
    }
    /* 3: raw bytes straight in: NULL for invalid UTF-8, never a crash */
    tags = wl_tag_json(
        wl, &(wl_doc){raw, tl, nl != NULL ? nl + 1 : raw, nl != NULL ? size - tl - 1 : size, NULL});
    if (tags == NULL && nl_utf8_valid(raw, size)) {
        abort();
    }
    json_decref(tags);
    return 0;
}
