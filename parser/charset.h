/* Charset decision and conversion of raw pages to UTF-8.
 *
 * Ownership: px_to_utf8 reads its input and never keeps it; on success it
 * returns a new malloc'd buffer in *out that the caller frees. On error *out
 * is NULL, *info still says what was tried, and errbuf holds the reason.
 *
 * The charset comes from the first of these sources whose bytes decode
 * cleanly (see below), in this order:
 *
 *   "http"      the charset parameter of the HTTP Content-Type;
 *   "bom"       a byte-order mark (UTF-8, UTF-16LE/BE, UTF-32LE/BE);
 *   "meta"      <meta charset=...> or <meta http-equiv="Content-Type"
 *               content="...; charset=..."> in the first PX_META_SCAN bytes
 *               (skipped for text/plain);
 *   "detector"  UTF-8 if the bytes are UTF-8, UTF-16 by the pattern of its
 *               NUL bytes, else libuchardet's guess;
 *   "default"   windows-1252, the WHATWG default.
 *
 * Labels are mapped the WHATWG way (latin1, iso-8859-1 and us-ascii mean
 * windows-1252, x-sjis means Shift_JIS, gb2312 means GBK, ...), and
 * converted with glibc iconv.
 *
 * A declared charset is passed over (and listed in info->rejected) when
 * iconv does not know it, when WHATWG forbids it (utf-7, iso-2022-kr, ...),
 * when a byte-order mark of another encoding starts the body, or when the
 * bytes do not decode cleanly under it: more than one invalid sequence per
 * PX_BAD_RATIO well-decoded non-ASCII characters (a header saying UTF-8 on
 * a windows-1252 body has invalid sequences and no valid multi-byte ones).
 * A C1 control (U+0080-U+009F) in the output counts as an invalid sequence
 * (windows-125x punctuation read as ISO-8859-x). An incomplete sequence cut
 * off at the very end is replaced but not counted. A decode that gives more than PX_BINARY_MIN
 * control characters (NUL and C0 other than tab, newline, form feed, carriage return, escape)
 * making up more than a tenth of its characters is not accepted either: the
 * input is binary, or UTF-16/32 read as a single-byte charset.
 *
 * The output is always valid UTF-8 with no NUL (nl_utf8_valid holds):
 * every sequence that does not convert, and every NUL, becomes U+FFFD;
 * nothing is dropped. A byte-order mark is not copied to the output. */
#ifndef PX_CHARSET_H
#define PX_CHARSET_H

#include <stddef.h>

/* Bytes of the body the <meta> scanner looks at. */
#define PX_META_SCAN 4096
/* Control characters a decode may have whatever its length. */
#define PX_BINARY_MIN 4
/* Well-decoded non-ASCII characters needed per tolerated invalid sequence. */
#define PX_BAD_RATIO 32

typedef struct px_charset {
    /* The charset the output was converted from, as WHATWG names it
     * ("UTF-8", "windows-1252", "Shift_JIS", "UTF-16LE"), or the declared
     * label, upper-cased, for a charset WHATWG does not list but iconv
     * knows. "" if none was chosen (error). */
    char name[32];
    /* Where name came from: "http", "bom", "meta", "detector", "default",
     * or "" on error. A static string. */
    const char *source;
    /* Input sequences (and NUL bytes) that became U+FFFD. */
    size_t replaced;
    /* The declarations passed over, "source:label:why" separated by
     * spaces, e.g. "http:utf-8:invalid", cut to fit; "" if none. why is one
     * of unknown, forbidden, bom, invalid, binary. */
    char rejected[96];
} px_charset;

/* Decides the charset of buf[0..len) (a raw page or document body) and
 * converts it to UTF-8 (buf NULL means empty). content_type is the HTTP
 * Content-Type header value or NULL; a text/plain one turns the <meta> scan
 * off. len above max_len gives NL_ETOOBIG before anything is read.
 * Returns 0 with *out (NUL-terminated, *out_len bytes, valid UTF-8) and
 * *info filled; NL_ETOOBIG; NL_EINVAL when no charset decodes the input
 * (binary data, or bytes that no source's charset accepts): the parser
 * dead-letters it with code "undecodable" and errbuf as the reason; or
 * NL_ENOMEM (and NL_EFATAL if iconv cannot convert even to windows-1252,
 * i.e. glibc's gconv modules are missing). */
int px_to_utf8(const char *buf, size_t len, const char *content_type, size_t max_len, char **out,
               size_t *out_len, px_charset *info, char *errbuf, size_t errlen);

/* The canonical name of a charset label the WHATWG way ("latin1" ->
 * "windows-1252", "x-sjis" -> "Shift_JIS"), or NULL for a label WHATWG does
 * not list. Case and surrounding whitespace are ignored. */
const char *px_charset_canonical(const char *label, size_t len);

/* The charset parameter of a Content-Type value ("text/html; charset=
 * "utf-8"") copied into out[size] without quotes; 1 if found, else 0. */
int px_content_type_charset(const char *content_type, char *out, size_t size);

/* The charset label declared by a <meta> element in buf[0..len) (only the
 * first PX_META_SCAN bytes are looked at) copied into out[size]; 1 if
 * found, else 0. A small scanner after the WHATWG prescan: comments and
 * other tags are skipped, attribute values may be quoted with " or ' or
 * unquoted, names are case-insensitive. */
int px_meta_charset(const char *buf, size_t len, char *out, size_t size);

#endif
