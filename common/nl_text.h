/* Byte-level helpers for text that came from outside: UTF-8 validation and
 * repair, base64, and the 64-bit hash behind document ids.
 * Every function that returns memory returns a new malloc'd buffer that the
 * caller frees; on failure it returns NULL and the input is untouched. */
#ifndef NL_TEXT_H
#define NL_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* 1 if s[0..len) is valid UTF-8 with no NUL bytes, else 0. */
int nl_utf8_valid(const char *s, size_t len);

/* Copy of s[0..len) as valid UTF-8: each invalid byte becomes U+FFFD and
 * each NUL becomes U+FFFD too (JSON consumers choke on NUL). At most max_out
 * bytes of output are produced, cut on a character boundary; *out_len gets
 * the length. */
char *nl_utf8_sanitize(const char *s, size_t len, size_t max_out, size_t *out_len);

/* Base64 (RFC 4648, with padding). */
char *nl_base64_encode(const unsigned char *data, size_t len, size_t *out_len);
/* NULL on invalid input; whitespace is not accepted. */
unsigned char *nl_base64_decode(const char *s, size_t len, size_t *out_len);

/* FNV-1a 64-bit hash. */
uint64_t nl_hash64(const void *data, size_t len);

/* Writes the 16-lowercase-hex id of a string (a canonical URL, a path) into
 * out[17]. */
void nl_id_from_string(const char *s, size_t len, char out[17]);

/* 1 if name (a file's base name) is a corpus document name
 * "NNN_<16 hex>.txt", with the id copied into id[17]; else 0. */
int nl_id_from_doc_name(const char *name, char id[17]);

/* 1 if s is exactly 16 lowercase hex digits. */
int nl_id_valid(const char *s);

/* Milliseconds since the Unix epoch (wall clock). */
int64_t nl_now_ms(void);

/* Writes an RFC 3339 UTC timestamp with milliseconds into out[32]. */
void nl_format_time_ms(int64_t ms, char out[32]);

#endif
