/* Records: one JSON object per Kafka message (or NDJSON line), with a
 * "schema" field "<type>/<version>" and a 16-hex-digit "id" that is also
 * the Kafka key.
 *
 *   newsline.fetch/1   {url}                                  -> fetcher
 *   newsline.raw/1     {id, url?, path?, source, content_type,
 *                       body | body_base64, fetched_at?}      -> parser
 *   newsline.parsed/1  raw metadata + {title, text, ...}      -> tagger
 *   newsline.tagged/1  parsed + {tags: {actors[], ...}}       -> sink
 *   newsline.stored/1  {id, file, sidecar}                    sink's report
 *   newsline.dlq/1     {stage, reason_code, reason, origin, payload}
 *
 * Ownership follows jansson: functions named _new return a new reference;
 * nl_record_parse returns a new reference in *out; accessors borrow. */
#ifndef NL_RECORD_H
#define NL_RECORD_H

#include <jansson.h>
#include <stddef.h>

#define NL_SCHEMA_FETCH "newsline.fetch/1"
#define NL_SCHEMA_RAW "newsline.raw/1"
#define NL_SCHEMA_PARSED "newsline.parsed/1"
#define NL_SCHEMA_TAGGED "newsline.tagged/1"
#define NL_SCHEMA_STORED "newsline.stored/1"
#define NL_SCHEMA_DLQ "newsline.dlq/1"

/* Parses buf[0..len) and checks it is a record of schema `want` (exact
 * "type/version" string), with a valid id (fetch records excepted: they
 * have a url instead) and the fields that schema requires.
 * On success returns 0 and a new reference in *out. On failure returns
 * NL_EINVAL, *out is NULL, *code is a stable reason code ("not_json",
 * "not_object", "wrong_schema", "missing_field", "bad_id") and errbuf says
 * what was wrong. */
int nl_record_parse(const char *buf, size_t len, const char *want, json_t **out, const char **code,
                    char *errbuf, size_t errlen);

/* {"schema": schema, "id": id}; NULL on allocation failure. */
json_t *nl_record_new(const char *schema, const char *id);

/* The string value of a field, or NULL if absent or not a string. */
const char *nl_record_str(const json_t *rec, const char *field);

/* Sets a string field from len bytes that must be valid UTF-8. 0, or
 * NL_EINVAL (invalid UTF-8; the record is unaltered) or NL_ENOMEM. Never
 * drops the field silently, unlike an unchecked json_object_set_new(). */
int nl_record_set_strn(json_t *rec, const char *field, const char *s, size_t len);
int nl_record_set_str(json_t *rec, const char *field, const char *s);

/* Sets a field to a new reference it consumes (decref'd on failure).
 * 0 or NL_ENOMEM. */
int nl_record_set_new(json_t *rec, const char *field, json_t *value);

/* Compact serialisation (malloc'd, NUL-terminated); NULL on failure. */
char *nl_record_dump(const json_t *rec, size_t *len);

/* The body of a raw record, decoded from "body" or "body_base64", as a new
 * malloc'd buffer (NUL-terminated, NUL not counted). 0 or NL_EINVAL. */
int nl_raw_body(const json_t *rec, char **body, size_t *len, char *errbuf, size_t errlen);

#endif
