/* The watchlist as loaded (tagger/watchlist.c) and read by the tagging
 * code (tagger/tag.c). Not for other modules: they use watchlist.h. */
#ifndef WL_INTERNAL_H
#define WL_INTERNAL_H

#include "matcher.h"

#include <stddef.h>
#include <stdint.h>

#define WL_NONE ((size_t)-1)

struct wl_actor {
    char *id;
    size_t id_len;
    char *kind;
    int person;
    size_t surname; /* index into surnames, or WL_NONE */
    /* `{"id":"…","kind":"…","name":"…"[,"wikidata":"…"],"count":` */
    char *json_head;
    size_t json_head_len;
};

struct wl_event {
    char *id;
    int32_t from, to; /* YYYYMMDD; to is inclusive, 99991231 when open */
    size_t *actors;   /* indices into actors */
    size_t n_actors;
    size_t min_actors; /* distinct event actors the scope must mention */
    uint64_t required; /* bit k: actors[k] must be among them */
    int paragraph;     /* scope: 0 sentence, 1 paragraph */
    /* `{"id":"…","label":"…","date":"…" | "from":"…"[,"to":"…"],"count":` */
    char *json_head;
    size_t json_head_len;
};

/* What a matcher pattern stands for. Group 0 holds the names (actor
 * aliases, ignore names, surnames), group 1 the cues (event triggers and
 * role aliases), so a trigger never hides a name or a name a trigger. */
enum wl_name_type { WL_ACTOR_NAME, WL_IGNORE_NAME, WL_SURNAME, WL_CUE };

struct wl_name {
    unsigned type; /* enum wl_name_type */
    size_t ref;    /* actor, surname or cue index */
};

struct wl_surname {
    size_t *persons; /* the persons with this surname */
    size_t n;
};

struct wl_role {
    size_t actor;
    int32_t from, to; /* YYYYMMDD, [from, to); 0 and 99991231 when open */
};

struct wl_cue {
    size_t *events; /* events this text triggers */
    size_t n_events;
    struct wl_role *roles; /* actors this text names while in office */
    size_t n_roles;
};

struct watchlist {
    char *version;
    char *version_json; /* `,"watchlist_version":"…"}` */
    size_t version_json_len;
    struct wl_actor *actors;
    size_t n_actors;
    struct wl_event *events;
    size_t n_events;
    struct wl_surname *surnames;
    size_t n_surnames;
    struct wl_cue *cues;
    size_t n_cues;
    struct wl_name *names; /* one per matcher pattern */
    mt_pattern *patterns;  /* the patterns themselves (texts owned) */
    size_t n_names;
    mt_matcher *matcher;
};

/* YYYYMMDD of an ISO date's first 10 bytes ("2024-06-19…"), or -1. */
int32_t wl_parse_date(const char *s, size_t len);

#endif
