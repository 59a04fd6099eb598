#include "nl_record.h"

#include "nl_err.h"
#include "nl_text.h"

#include <stdlib.h>
#include <string.h>

/* Fields each schema must carry as strings, beyond "schema" and "id". */
static const struct {
    const char *schema;
    const char *fields[4];
} required[] = {
    {NL_SCHEMA_FETCH, {"url", NULL}},
    {NL_SCHEMA_RAW, {"content_type", "source", NULL}},
    {NL_SCHEMA_PARSED, {"title", "text", NULL}},
    {NL_SCHEMA_TAGGED, {"title", "text", NULL}},
    {NL_SCHEMA_STORED, {"file", NULL}},
    {NL_SCHEMA_DLQ, {"stage", "reason_code", NULL}},
};

int nl_record_parse(const char *buf, size_t len, const char *want, json_t **out, const char **code,
                    char *errbuf, size_t errlen)
{
    json_error_t jerr;
    json_t *rec;
    const char *schema;
    const char *id;

    *out = NULL;
    rec = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (rec == NULL) {
        *code = "not_json";
        return nl_errf(errbuf, errlen, NL_EINVAL, "not JSON: %s at byte %d", jerr.text,
                       jerr.position);
    }
    if (!json_is_object(rec)) {
        *code = "not_object";
        json_decref(rec);
        return nl_errf(errbuf, errlen, NL_EINVAL, "not a JSON object");
    }
    schema = nl_record_str(rec, "schema");
    if (schema == NULL || strcmp(schema, want) != 0) {
        *code = "wrong_schema";
        nl_errf(errbuf, errlen, NL_EINVAL, "schema is %.64s%s%s, expected %s", schema ? "\"" : "",
                schema ? schema : "missing", schema ? "\"" : "", want);
        json_decref(rec);
        return NL_EINVAL;
    }
    id = nl_record_str(rec, "id");
    if (strcmp(want, NL_SCHEMA_FETCH) != 0 && !nl_id_valid(id)) {
        *code = id == NULL ? "missing_field" : "bad_id";
        json_decref(rec);
        return nl_errf(errbuf, errlen, NL_EINVAL, "%s",
                       id == NULL ? "missing string field \"id\""
                                  : "\"id\" is not 16 lowercase hex digits");
    }
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        if (strcmp(required[i].schema, want) != 0) {
            continue;
        }
        for (int f = 0; required[i].fields[f] != NULL; f++) {
            if (nl_record_str(rec, required[i].fields[f]) == NULL) {
                *code = "missing_field";
                nl_errf(errbuf, errlen, NL_EINVAL, "missing string field \"%s\"",
                        required[i].fields[f]);
                json_decref(rec);
                return NL_EINVAL;
            }
        }
    }
    *code = NULL;
    *out = rec;
    return 0;
}

json_t *nl_record_new(const char *schema, const char *id)
{
    json_t *rec = json_object();
    if (rec == NULL) {
        return NULL;
    }
    if (nl_record_set_str(rec, "schema", schema) != 0 ||
        (id != NULL && nl_record_set_str(rec, "id", id) != 0)) {
        json_decref(rec);
        return NULL;
    }
    return rec;
}

const char *nl_record_str(const json_t *rec, const char *field)
{
    return json_string_value(json_object_get(rec, field));
}

int nl_record_set_new(json_t *rec, const char *field, json_t *value)
{
    if (value == NULL) {
        return NL_ENOMEM;
    }
    return json_object_set_new(rec, field, value) == 0 ? 0 : NL_ENOMEM;
}

int nl_record_set_strn(json_t *rec, const char *field, const char *s, size_t len)
{
    json_t *v;

    if (!nl_utf8_valid(s, len)) {
        return NL_EINVAL;
    }
    v = json_stringn(s, len);
    return nl_record_set_new(rec, field, v);
}

int nl_record_set_str(json_t *rec, const char *field, const char *s)
{
    return nl_record_set_strn(rec, field, s, strlen(s));
}

char *nl_record_dump(const json_t *rec, size_t *len)
{
    char *s = json_dumps(rec, JSON_COMPACT);
    if (s != NULL && len != NULL) {
        *len = strlen(s);
    }
    return s;
}

int nl_raw_body(const json_t *rec, char **body, size_t *len, char *errbuf, size_t errlen)
{
    json_t *b = json_object_get(rec, "body");
    json_t *b64 = json_object_get(rec, "body_base64");

    *body = NULL;
    *len = 0;
    if (json_is_string(b)) {
        size_t n = json_string_length(b);
        char *p = malloc(n + 1);
        if (p == NULL) {
            return nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory");
        }
        memcpy(p, json_string_value(b), n);
        p[n] = '\0';
        *body = p;
        *len = n;
        return 0;
    }
    if (json_is_string(b64)) {
        unsigned char *p = nl_base64_decode(json_string_value(b64), json_string_length(b64), len);
        if (p == NULL) {
            return nl_errf(errbuf, errlen, NL_EINVAL, "\"body_base64\" is not valid base64");
        }
        *body = (char *)p;
        return 0;
    }
    return nl_errf(errbuf, errlen, NL_EINVAL, "missing string field \"body\" or \"body_base64\"");
}
