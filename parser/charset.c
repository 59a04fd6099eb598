/* Charset decision and conversion to UTF-8 (see charset.h for the order of
 * the sources and what "decodes cleanly" means). */
#include "charset.h"
#include "nl_buf.h"
#include "nl_err.h"
#include "nl_text.h"

#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uchardet.h>

/* How much of a body the detector reads: plenty for a guess, bounded. */
#define PX_DETECT_MAX (64 * 1024)
/* How much of a body the UTF-16 pattern check reads. */
#define PX_UTF16_SCAN 4096

/* One WHATWG label (https://encoding.spec.whatwg.org/#names-and-labels) and
 * the encoding it names. iconv names are resolved in iconv_name(). */
typedef struct label {
    const char *label;
    const char *name;
} label;

/* Sorted by name, then label; a linear scan of ~230 short strings costs
 * nothing beside a page parse, and reads better than a hash. */
static const label labels[] = {
    {"unicode-1-1-utf-8", "UTF-8"},
    {"unicode11utf8", "UTF-8"},
    {"unicode20utf8", "UTF-8"},
    {"utf-8", "UTF-8"},
    {"utf8", "UTF-8"},
    {"x-unicode20utf8", "UTF-8"},
    {"866", "IBM866"},
    {"cp866", "IBM866"},
    {"csibm866", "IBM866"},
    {"ibm866", "IBM866"},
    {"csisolatin2", "ISO-8859-2"},
    {"iso-8859-2", "ISO-8859-2"},
    {"iso-ir-101", "ISO-8859-2"},
    {"iso8859-2", "ISO-8859-2"},
    {"iso88592", "ISO-8859-2"},
    {"iso_8859-2", "ISO-8859-2"},
    {"iso_8859-2:1987", "ISO-8859-2"},
    {"l2", "ISO-8859-2"},
    {"latin2", "ISO-8859-2"},
    {"csisolatin3", "ISO-8859-3"},
    {"iso-8859-3", "ISO-8859-3"},
    {"iso-ir-109", "ISO-8859-3"},
    {"iso8859-3", "ISO-8859-3"},
    {"iso88593", "ISO-8859-3"},
    {"iso_8859-3", "ISO-8859-3"},
    {"iso_8859-3:1988", "ISO-8859-3"},
    {"l3", "ISO-8859-3"},
    {"latin3", "ISO-8859-3"},
    {"csisolatin4", "ISO-8859-4"},
    {"iso-8859-4", "ISO-8859-4"},
    {"iso-ir-110", "ISO-8859-4"},
    {"iso8859-4", "ISO-8859-4"},
    {"iso88594", "ISO-8859-4"},
    {"iso_8859-4", "ISO-8859-4"},
    {"iso_8859-4:1988", "ISO-8859-4"},
    {"l4", "ISO-8859-4"},
    {"latin4", "ISO-8859-4"},
    {"csisolatincyrillic", "ISO-8859-5"},
    {"cyrillic", "ISO-8859-5"},
    {"iso-8859-5", "ISO-8859-5"},
    {"iso-ir-144", "ISO-8859-5"},
    {"iso8859-5", "ISO-8859-5"},
    {"iso88595", "ISO-8859-5"},
    {"iso_8859-5", "ISO-8859-5"},
    {"iso_8859-5:1988", "ISO-8859-5"},
    {"arabic", "ISO-8859-6"},
    {"asmo-708", "ISO-8859-6"},
    {"csiso88596e", "ISO-8859-6"},
    {"csiso88596i", "ISO-8859-6"},
    {"csisolatinarabic", "ISO-8859-6"},
    {"ecma-114", "ISO-8859-6"},
    {"iso-8859-6", "ISO-8859-6"},
    {"iso-8859-6-e", "ISO-8859-6"},
    {"iso-8859-6-i", "ISO-8859-6"},
    {"iso-ir-127", "ISO-8859-6"},
    {"iso8859-6", "ISO-8859-6"},
    {"iso88596", "ISO-8859-6"},
    {"iso_8859-6", "ISO-8859-6"},
    {"iso_8859-6:1987", "ISO-8859-6"},
    {"csisolatingreek", "ISO-8859-7"},
    {"ecma-118", "ISO-8859-7"},
    {"elot_928", "ISO-8859-7"},
    {"greek", "ISO-8859-7"},
    {"greek8", "ISO-8859-7"},
    {"iso-8859-7", "ISO-8859-7"},
    {"iso-ir-126", "ISO-8859-7"},
    {"iso8859-7", "ISO-8859-7"},
    {"iso88597", "ISO-8859-7"},
    {"iso_8859-7", "ISO-8859-7"},
    {"iso_8859-7:1987", "ISO-8859-7"},
    {"sun_eu_greek", "ISO-8859-7"},
    {"csiso88598e", "ISO-8859-8"},
    {"csisolatinhebrew", "ISO-8859-8"},
    {"hebrew", "ISO-8859-8"},
    {"iso-8859-8", "ISO-8859-8"},
    {"iso-8859-8-e", "ISO-8859-8"},
    {"iso-ir-138", "ISO-8859-8"},
    {"iso8859-8", "ISO-8859-8"},
    {"iso88598", "ISO-8859-8"},
    {"iso_8859-8", "ISO-8859-8"},
    {"iso_8859-8:1988", "ISO-8859-8"},
    {"visual", "ISO-8859-8"},
    {"csiso88598i", "ISO-8859-8-I"},
    {"iso-8859-8-i", "ISO-8859-8-I"},
    {"logical", "ISO-8859-8-I"},
    {"csisolatin6", "ISO-8859-10"},
    {"iso-8859-10", "ISO-8859-10"},
    {"iso-ir-157", "ISO-8859-10"},
    {"iso8859-10", "ISO-8859-10"},
    {"iso885910", "ISO-8859-10"},
    {"l6", "ISO-8859-10"},
    {"latin6", "ISO-8859-10"},
    {"iso-8859-13", "ISO-8859-13"},
    {"iso8859-13", "ISO-8859-13"},
    {"iso885913", "ISO-8859-13"},
    {"iso-8859-14", "ISO-8859-14"},
    {"iso8859-14", "ISO-8859-14"},
    {"iso885914", "ISO-8859-14"},
    {"csisolatin9", "ISO-8859-15"},
    {"iso-8859-15", "ISO-8859-15"},
    {"iso8859-15", "ISO-8859-15"},
    {"iso885915", "ISO-8859-15"},
    {"iso_8859-15", "ISO-8859-15"},
    {"l9", "ISO-8859-15"},
    {"iso-8859-16", "ISO-8859-16"},
    {"cskoi8r", "KOI8-R"},
    {"koi", "KOI8-R"},
    {"koi8", "KOI8-R"},
    {"koi8-r", "KOI8-R"},
    {"koi8_r", "KOI8-R"},
    {"koi8-ru", "KOI8-U"},
    {"koi8-u", "KOI8-U"},
    {"csmacintosh", "macintosh"},
    {"mac", "macintosh"},
    {"macintosh", "macintosh"},
    {"x-mac-roman", "macintosh"},
    {"dos-874", "windows-874"},
    {"iso-8859-11", "windows-874"},
    {"iso8859-11", "windows-874"},
    {"iso885911", "windows-874"},
    {"tis-620", "windows-874"},
    {"windows-874", "windows-874"},
    {"cp1250", "windows-1250"},
    {"windows-1250", "windows-1250"},
    {"x-cp1250", "windows-1250"},
    {"cp1251", "windows-1251"},
    {"windows-1251", "windows-1251"},
    {"x-cp1251", "windows-1251"},
    {"ansi_x3.4-1968", "windows-1252"},
    {"ascii", "windows-1252"},
    {"cp1252", "windows-1252"},
    {"cp819", "windows-1252"},
    {"csisolatin1", "windows-1252"},
    {"ibm819", "windows-1252"},
    {"iso-8859-1", "windows-1252"},
    {"iso-ir-100", "windows-1252"},
    {"iso8859-1", "windows-1252"},
    {"iso88591", "windows-1252"},
    {"iso_8859-1", "windows-1252"},
    {"iso_8859-1:1987", "windows-1252"},
    {"l1", "windows-1252"},
    {"latin1", "windows-1252"},
    {"us-ascii", "windows-1252"},
    {"windows-1252", "windows-1252"},
    {"x-cp1252", "windows-1252"},
    /* WHATWG maps x-user-defined's high bytes to private-use characters;
     * windows-1252 keeps the text readable, which is what we are after. */
    {"x-user-defined", "windows-1252"},
    {"cp1253", "windows-1253"},
    {"windows-1253", "windows-1253"},
    {"x-cp1253", "windows-1253"},
    {"cp1254", "windows-1254"},
    {"csisolatin5", "windows-1254"},
    {"iso-8859-9", "windows-1254"},
    {"iso-ir-148", "windows-1254"},
    {"iso8859-9", "windows-1254"},
    {"iso88599", "windows-1254"},
    {"iso_8859-9", "windows-1254"},
    {"iso_8859-9:1989", "windows-1254"},
    {"l5", "windows-1254"},
    {"latin5", "windows-1254"},
    {"windows-1254", "windows-1254"},
    {"x-cp1254", "windows-1254"},
    {"cp1255", "windows-1255"},
    {"windows-1255", "windows-1255"},
    {"x-cp1255", "windows-1255"},
    {"cp1256", "windows-1256"},
    {"windows-1256", "windows-1256"},
    {"x-cp1256", "windows-1256"},
    {"cp1257", "windows-1257"},
    {"windows-1257", "windows-1257"},
    {"x-cp1257", "windows-1257"},
    {"cp1258", "windows-1258"},
    {"windows-1258", "windows-1258"},
    {"x-cp1258", "windows-1258"},
    {"mac-cyrillic", "x-mac-cyrillic"}, /* uchardet's name */
    {"x-mac-cyrillic", "x-mac-cyrillic"},
    {"x-mac-ukrainian", "x-mac-cyrillic"},
    {"chinese", "GBK"},
    {"csgb2312", "GBK"},
    {"csiso58gb231280", "GBK"},
    {"gb2312", "GBK"},
    {"gb_2312", "GBK"},
    {"gb_2312-80", "GBK"},
    {"gbk", "GBK"},
    {"iso-ir-58", "GBK"},
    {"x-gbk", "GBK"},
    {"gb18030", "gb18030"},
    {"big5", "Big5"},
    {"big5-hkscs", "Big5"},
    {"cn-big5", "Big5"},
    {"csbig5", "Big5"},
    {"x-x-big5", "Big5"},
    {"cseucpkdfmtjapanese", "EUC-JP"},
    {"euc-jp", "EUC-JP"},
    {"x-euc-jp", "EUC-JP"},
    {"csiso2022jp", "ISO-2022-JP"},
    {"iso-2022-jp", "ISO-2022-JP"},
    {"csshiftjis", "Shift_JIS"},
    {"ms932", "Shift_JIS"},
    {"ms_kanji", "Shift_JIS"},
    {"shift-jis", "Shift_JIS"},
    {"shift_jis", "Shift_JIS"},
    {"sjis", "Shift_JIS"},
    {"windows-31j", "Shift_JIS"},
    {"x-sjis", "Shift_JIS"},
    {"cseuckr", "EUC-KR"},
    {"csksc56011987", "EUC-KR"},
    {"euc-kr", "EUC-KR"},
    {"iso-ir-149", "EUC-KR"},
    {"korean", "EUC-KR"},
    {"ks_c_5601-1987", "EUC-KR"},
    {"ks_c_5601-1989", "EUC-KR"},
    {"ksc5601", "EUC-KR"},
    {"ksc_5601", "EUC-KR"},
    {"uhc", "EUC-KR"}, /* uchardet's name */
    {"windows-949", "EUC-KR"},
    /* WHATWG's "replacement" encoding: labels that must not be honoured
     * (they enable script-injection tricks); so is UTF-7, which WHATWG does
     * not list but iconv would happily decode. */
    {"csiso2022kr", "replacement"},
    {"hz-gb-2312", "replacement"},
    {"iso-2022-cn", "replacement"},
    {"iso-2022-cn-ext", "replacement"},
    {"iso-2022-kr", "replacement"},
    {"replacement", "replacement"},
    {"utf-7", "replacement"},
    {"unicodefffe", "UTF-16BE"},
    {"utf-16be", "UTF-16BE"},
    {"csunicode", "UTF-16LE"},
    {"iso-10646-ucs-2", "UTF-16LE"},
    {"ucs-2", "UTF-16LE"},
    {"unicode", "UTF-16LE"},
    {"unicodefeff", "UTF-16LE"},
    {"utf-16", "UTF-16LE"},
    {"utf-16le", "UTF-16LE"},
    /* Not WHATWG encodings, but a UTF-32 byte-order mark is honoured, so a
     * header naming UTF-32 is too. */
    {"utf-32", "UTF-32LE"},
    {"utf-32le", "UTF-32LE"},
    {"utf-32be", "UTF-32BE"},
};

static int is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

const char *px_charset_canonical(const char *s, size_t len)
{
    while (len > 0 && is_space((unsigned char)*s)) {
        s++;
        len--;
    }
    while (len > 0 && is_space((unsigned char)s[len - 1])) {
        len--;
    }
    if (len == 0) {
        return NULL;
    }
    for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
        if (strncasecmp(labels[i].label, s, len) == 0 && labels[i].label[len] == '\0') {
            return labels[i].name;
        }
    }
    return NULL;
}

/* The name glibc's iconv knows an encoding by, where it differs; the
 * superset WHATWG decodes with where there is one (GBK as gb18030,
 * Shift_JIS as windows-31j, EUC-KR as windows-949, Big5 with HKSCS). */
static const char *iconv_name(const char *name)
{
    static const label alias[] = {
        {"IBM866", "CP866"}, {"ISO-8859-8-I", "ISO-8859-8"}, {"x-mac-cyrillic", "MAC-CYRILLIC"},
        {"GBK", "GB18030"},  {"Big5", "BIG5-HKSCS"},         {"Shift_JIS", "CP932"},
        {"EUC-KR", "CP949"}, {"macintosh", "MACINTOSH"},
    };
    for (size_t i = 0; i < sizeof(alias) / sizeof(alias[0]); i++) {
        if (strcmp(alias[i].label, name) == 0) {
            return alias[i].name;
        }
    }
    return name;
}

/* Bytes per code unit: 1 for ASCII-compatible encodings. */
static size_t unit_of(const char *name)
{
    if (strncmp(name, "UTF-16", 6) == 0) {
        return 2;
    }
    if (strncmp(name, "UTF-32", 6) == 0) {
        return 4;
    }
    return 1;
}

/* Copies a value into out[size] (cut), 1 if it is not empty. */
static int copy_value(const char *s, size_t n, char *out, size_t size)
{
    if (size == 0) {
        return 0;
    }
    if (n >= size) {
        n = size - 1;
    }
    memcpy(out, s, n);
    out[n] = '\0';
    return n > 0;
}

int px_content_type_charset(const char *ct, char *out, size_t size)
{
    const char *p = ct != NULL ? strchr(ct, ';') : NULL;

    while (p != NULL) {
        const char *name, *val;
        size_t nlen, vlen;
        p++;
        while (is_space((unsigned char)*p)) {
            p++;
        }
        name = p;
        while (*p != '\0' && *p != '=' && *p != ';' && !is_space((unsigned char)*p)) {
            p++;
        }
        nlen = (size_t)(p - name);
        while (is_space((unsigned char)*p)) {
            p++;
        }
        if (*p != '=') {
            p = strchr(p, ';');
            continue;
        }
        p++;
        while (is_space((unsigned char)*p)) {
            p++;
        }
        if (*p == '"' || *p == '\'') {
            char q = *p++;
            val = p;
            while (*p != '\0' && *p != q) {
                p++;
            }
            vlen = (size_t)(p - val);
        } else {
            val = p;
            while (*p != '\0' && *p != ';' && !is_space((unsigned char)*p)) {
                p++;
            }
            vlen = (size_t)(p - val);
        }
        if (nlen == 7 && strncasecmp(name, "charset", 7) == 0) {
            return copy_value(val, vlen, out, size);
        }
        p = strchr(p, ';');
    }
    return 0;
}

/* ---- the <meta> prescan (after WHATWG's "prescan a byte stream") ---- */

typedef struct scan {
    const char *p;
    const char *end;
} scan;

static int starts_ci(const scan *sc, const char *word)
{
    size_t n = strlen(word);
    return (size_t)(sc->end - sc->p) >= n && strncasecmp(sc->p, word, n) == 0;
}

/* One attribute of a tag: name lower-cased into name[32], value into
 * value[256] (both cut). 0 at the tag's end (sc->p at '>' or the end). */
static int get_attr(scan *sc, char name[32], char value[256])
{
    size_t nn = 0, vn = 0;

    while (sc->p < sc->end && (is_space((unsigned char)*sc->p) || *sc->p == '/')) {
        sc->p++;
    }
    if (sc->p >= sc->end || *sc->p == '>') {
        return 0;
    }
    /* the name: up to '=' (not as its first character), space, '/', '>' */
    do {
        if (nn < 31) {
            name[nn++] = (char)lower((unsigned char)*sc->p);
        }
        sc->p++;
    } while (sc->p < sc->end && *sc->p != '=' && *sc->p != '/' && *sc->p != '>' &&
             !is_space((unsigned char)*sc->p));
    name[nn] = '\0';
    value[0] = '\0';
    while (sc->p < sc->end && is_space((unsigned char)*sc->p)) {
        sc->p++;
    }
    if (sc->p >= sc->end || *sc->p != '=') {
        return 1;
    }
    sc->p++;
    while (sc->p < sc->end && is_space((unsigned char)*sc->p)) {
        sc->p++;
    }
    if (sc->p < sc->end && (*sc->p == '"' || *sc->p == '\'')) {
        char q = *sc->p++;
        while (sc->p < sc->end && *sc->p != q) {
            if (vn < 255) {
                value[vn++] = *sc->p;
            }
            sc->p++;
        }
        if (sc->p < sc->end) {
            sc->p++;
        }
    } else {
        while (sc->p < sc->end && *sc->p != '>' && !is_space((unsigned char)*sc->p)) {
            if (vn < 255) {
                value[vn++] = *sc->p;
            }
            sc->p++;
        }
    }
    value[vn] = '\0';
    return 1;
}

/* WHATWG's "extracting a character encoding from a meta element":
 * charset[ws]=[ws]value, value quoted or up to space or ';'. */
static int charset_from_content(const char *s, char *out, size_t size)
{
    for (;;) {
        const char *v;
        s = strcasestr(s, "charset");
        if (s == NULL) {
            return 0;
        }
        s += 7;
        while (is_space((unsigned char)*s)) {
            s++;
        }
        if (*s != '=') {
            continue;
        }
        s++;
        while (is_space((unsigned char)*s)) {
            s++;
        }
        if (*s == '"' || *s == '\'') {
            const char *close = strchr(s + 1, *s);
            if (close == NULL) {
                return 0;
            }
            return copy_value(s + 1, (size_t)(close - s - 1), out, size);
        }
        v = s;
        while (*s != '\0' && *s != ';' && !is_space((unsigned char)*s)) {
            s++;
        }
        return copy_value(v, (size_t)(s - v), out, size);
    }
}

/* Skips a tag's attributes up to and past its '>'. */
static void skip_attrs(scan *sc)
{
    char name[32], value[256];
    while (get_attr(sc, name, value)) {
    }
    if (sc->p < sc->end) {
        sc->p++;
    }
}

static int is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int px_meta_charset(const char *buf, size_t len, char *out, size_t size)
{
    scan sc = {buf, buf + (len < PX_META_SCAN ? len : PX_META_SCAN)};

    while (sc.p < sc.end) {
        if (*sc.p != '<') {
            const char *lt = memchr(sc.p, '<', (size_t)(sc.end - sc.p));
            if (lt == NULL) {
                break;
            }
            sc.p = lt;
        }
        if (starts_ci(&sc, "<!--")) {
            const char *close = memmem(sc.p + 2, (size_t)(sc.end - sc.p - 2), "-->", 3);
            if (close == NULL) {
                break;
            }
            sc.p = close + 3;
        } else if (starts_ci(&sc, "<meta") && sc.end - sc.p > 5 &&
                   (is_space((unsigned char)sc.p[5]) || sc.p[5] == '/')) {
            char name[32], value[256], charset[64] = "", content[64] = "";
            int seen_charset = 0, seen_content = 0, seen_equiv = 0, pragma = 0;
            sc.p += 5;
            while (get_attr(&sc, name, value)) {
                /* only the first of each attribute counts */
                if (strcmp(name, "charset") == 0 && !seen_charset) {
                    seen_charset = 1;
                    copy_value(value, strlen(value), charset, sizeof(charset));
                } else if (strcmp(name, "http-equiv") == 0 && !seen_equiv) {
                    seen_equiv = 1;
                    pragma = strcasecmp(value, "content-type") == 0;
                } else if (strcmp(name, "content") == 0 && !seen_content) {
                    seen_content = 1;
                    charset_from_content(value, content, sizeof(content));
                }
            }
            if (sc.p >= sc.end) {
                break; /* the tag is cut off: WHATWG aborts the prescan */
            }
            if (charset[0] != '\0') {
                return copy_value(charset, strlen(charset), out, size);
            }
            if (pragma && content[0] != '\0') {
                return copy_value(content, strlen(content), out, size);
            }
            if (sc.p < sc.end) {
                sc.p++;
            }
        } else if (sc.end - sc.p > 1 &&
                   (is_alpha((unsigned char)sc.p[1]) ||
                    (sc.p[1] == '/' && sc.end - sc.p > 2 && is_alpha((unsigned char)sc.p[2])))) {
            /* another tag: its name, then its attributes, so that a '>' in
             * a quoted value does not end it */
            sc.p++;
            while (sc.p < sc.end && !is_space((unsigned char)*sc.p) && *sc.p != '>') {
                sc.p++;
            }
            skip_attrs(&sc);
        } else if (starts_ci(&sc, "<!") || starts_ci(&sc, "</") || starts_ci(&sc, "<?")) {
            const char *gt = memchr(sc.p, '>', (size_t)(sc.end - sc.p));
            if (gt == NULL) {
                break;
            }
            sc.p = gt + 1;
        } else {
            sc.p++;
        }
    }
    return 0;
}

/* ---- decoding ---- */

/* What one decode produced and how clean it was. */
typedef struct decoded {
    nl_buf out;
    size_t bad;      /* invalid sequences in the middle */
    size_t replaced; /* every U+FFFD written (bad, a cut-off end, NUL) */
    size_t good;     /* non-ASCII characters decoded */
    size_t chars;    /* characters written */
    size_t ctrl;     /* control characters written (NUL, C0 but whitespace and ESC) */
} decoded;

static const char fffd[] = "\xef\xbf\xbd";

static int is_ctrl(unsigned char c)
{
    return c < 0x20 && c != '\t' && c != '\n' && c != '\f' && c != '\r' && c != 0x1b;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0; NUL counts as a
 * valid one-byte sequence here (it is replaced, but it is not evidence
 * against UTF-8). In *cut, 1 when the invalid sequence is a valid prefix
 * cut off by the end of the input. */
static size_t utf8_seq(const unsigned char *s, size_t avail, int *cut)
{
    unsigned c = s[0], cp;
    size_t n;

    *cut = 0;
    if (c < 0x80) {
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if (i >= avail) {
            *cut = 1;
            return 0;
        }
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[i] & 0x3f);
        /* overlong, surrogate or too-large prefixes fail as soon as seen */
        if (i == 1 && ((n == 3 && cp < 0x20) || (n == 3 && cp >= 0x360 && cp <= 0x37f) ||
                       (n == 4 && (cp < 0x10 || cp > 0x10f)))) {
            return 0;
        }
    }
    return n;
}

/* UTF-8 in, UTF-8 out: two passes (count, then copy) so that the common
 * case, a clean page, is one exact allocation and a memcpy. */
static int decode_utf8(const unsigned char *p, size_t len, decoded *d)
{
    /* printable ASCII and the whitespace is_ctrl lets through: most of a
     * page, skipped a run at a time (a GNU range designator) */
    static const unsigned char plain[256] = {
        ['\t'] = 1, ['\n'] = 1, ['\f'] = 1, ['\r'] = 1, [0x1b] = 1, [0x20 ... 0x7f] = 1};
    size_t out_len = 0;
    char *o;

    for (size_t i = 0; i < len;) {
        int cut;
        size_t n;
        if (plain[p[i]]) {
            size_t j = i + 1;
            /* eight bytes at a time while none is >= 0x80 or < 0x20 (a
             * newline or tab ends the fast run; the table takes it) */
            while (j + 8 <= len) {
                uint64_t x;
                memcpy(&x, p + j, 8);
                if (((x | ((x - 0x2020202020202020ULL) & ~x)) & 0x8080808080808080ULL) != 0) {
                    break;
                }
                j += 8;
            }
            while (j < len && plain[p[j]]) {
                j++;
            }
            d->chars += j - i;
            out_len += j - i;
            i = j;
            continue;
        }
        n = utf8_seq(p + i, len - i, &cut);
        if (n == 0) {
            d->replaced++;
            d->bad += !cut;
            d->chars++;
            out_len += 3;
            i += cut ? len - i : 1;
            continue;
        }
        d->chars++;
        if (n > 1) {
            d->good++;
        } else if (p[i] == 0) {
            d->replaced++;
            d->ctrl++;
            out_len += 2;
        } else if (is_ctrl(p[i])) {
            d->ctrl++;
        }
        out_len += n;
        i += n;
    }
    o = malloc(out_len + 1);
    if (o == NULL) {
        return NL_ENOMEM;
    }
    d->out.ptr = o;
    d->out.cap = out_len + 1;
    d->out.max = out_len + 1;
    if (d->replaced == 0) {
        memcpy(o, p, len);
        d->out.len = len;
        o[len] = '\0';
        return 0;
    }
    for (size_t i = 0; i < len;) {
        int cut;
        size_t n = utf8_seq(p + i, len - i, &cut);
        if (n == 0 || p[i] == 0) {
            memcpy(o, fffd, 3);
            o += 3;
            i += n == 0 && cut ? len - i : 1;
            continue;
        }
        memcpy(o, p + i, n);
        o += n;
        i += n;
    }
    d->out.len = (size_t)(o - d->out.ptr);
    *o = '\0';
    return 0;
}

/* Appends iconv's UTF-8 output, counting it; NUL becomes U+FFFD. */
static int take_output(decoded *d, const char *s, size_t n)
{
    size_t from = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c & 0xc0) != 0x80) {
            d->chars++;
        }
        if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] < 0xa0) {
            /* a C1 control (U+0080-U+009F): no text has them; bytes
             * 0x80-0x9F read as ISO-8859-x were windows-125x punctuation */
            d->bad++;
        } else if (c >= 0xc0) {
            d->good++;
        } else if (is_ctrl(c)) {
            d->ctrl++;
            if (c == 0) {
                int rc = nl_buf_append(&d->out, s + from, i - from);
                if (rc == 0) {
                    rc = nl_buf_append(&d->out, fffd, 3);
                }
                if (rc != 0) {
                    return rc;
                }
                d->replaced++;
                from = i + 1;
            }
        }
    }
    return nl_buf_append(&d->out, s + from, n - from);
}

/* Any other encoding through iconv. NL_EINVAL if iconv does not know it. */
static int decode_iconv(const char *name, const char *buf, size_t len, decoded *d)
{
    iconv_t cd = iconv_open("UTF-8", iconv_name(name));
    size_t unit = unit_of(name);
    char *in = (char *)buf; /* iconv's prototype; it does not write */
    size_t inleft = len;
    char tmp[16384];
    int rc = 0;

    if (cd == (iconv_t)-1) {
        return NL_EINVAL;
    }
    /* every input byte gives at most 3 output bytes (U+FFFD for a bad one,
     * a BMP character for one byte; 4 only from 4-byte sequences) */
    nl_buf_init(&d->out, len * 3 + 64);
    while (inleft > 0 && rc == 0) {
        char *o = tmp;
        size_t oleft = sizeof(tmp);
        size_t r = iconv(cd, &in, &inleft, &o, &oleft);
        int err = r == (size_t)-1 ? errno : 0;

        rc = take_output(d, tmp, (size_t)(o - tmp));
        if (rc != 0 || err == 0 || err == E2BIG) {
            continue;
        }
        rc = nl_buf_append(&d->out, fffd, 3);
        d->replaced++;
        d->chars++;
        if (err == EINVAL) {
            inleft = 0; /* an incomplete sequence cut off at the end */
        } else {
            /* EILSEQ: skip one code unit and say so */
            size_t skip = inleft < unit ? inleft : unit;
            d->bad++;
            in += skip;
            inleft -= skip;
        }
    }
    iconv_close(cd);
    if (rc == 0 && d->out.ptr == NULL) {
        rc = nl_buf_append(&d->out, "", 0);
    }
    return rc == NL_ETOOBIG ? NL_ENOMEM : rc;
}

static void decoded_free(decoded *d)
{
    nl_buf_free(&d->out);
    memset(d, 0, sizeof(*d));
}

/* Why a decode is not accepted, or NULL if it is. */
static const char *judge(const decoded *d, int strict)
{
    if (d->ctrl > PX_BINARY_MIN && d->ctrl * 10 > d->chars) {
        return "binary";
    }
    if (strict && d->bad > 0 && d->bad * PX_BAD_RATIO > d->good) {
        return "invalid";
    }
    return NULL;
}

/* ---- the decision ---- */

typedef struct ctx {
    const char *buf;
    size_t len;
    px_charset *info;
    decoded best;         /* the accepted decode */
    const char *tried[8]; /* names already rejected as invalid or binary */
    const char *tried_why[8];
    size_t n_tried;
} ctx;

static void note_rejected(px_charset *info, const char *source, const char *label, const char *why)
{
    size_t used = strlen(info->rejected);
    char clean[25];
    size_t n = 0;

    for (const char *s = label; *s != '\0' && n < sizeof(clean) - 1; s++) {
        unsigned char c = (unsigned char)*s;
        clean[n++] = c > 0x20 && c < 0x7f && c != ':' ? (char)c : '?';
    }
    clean[n] = '\0';
    snprintf(info->rejected + used, sizeof(info->rejected) - used, "%s%s:%s:%s",
             used > 0 ? " " : "", source, clean, why);
}

/* Tries buf[skip..] as encoding name; 1 if accepted (c->best holds the
 * output), 0 if not (noted when label is not NULL), or a negative error. */
static int try_decode(ctx *c, const char *name, size_t skip, const char *source, const char *label,
                      int strict)
{
    decoded d = {0};
    const char *why;
    int rc;

    for (size_t i = 0; i < c->n_tried; i++) {
        if (strcmp(c->tried[i], name) == 0 && skip == 0) {
            if (label != NULL) {
                note_rejected(c->info, source, label, c->tried_why[i]);
            }
            return 0;
        }
    }
    if (strcmp(name, "UTF-8") == 0) {
        rc = decode_utf8((const unsigned char *)c->buf + skip, c->len - skip, &d);
    } else {
        rc = decode_iconv(name, c->buf + skip, c->len - skip, &d);
    }
    if (rc == NL_EINVAL) {
        if (label != NULL) {
            note_rejected(c->info, source, label, "unknown");
        }
        return 0;
    }
    if (rc != 0) {
        decoded_free(&d);
        return rc;
    }
    why = judge(&d, strict);
    if (why != NULL) {
        if (label != NULL) {
            note_rejected(c->info, source, label, why);
        }
        if (c->n_tried < sizeof(c->tried) / sizeof(c->tried[0]) && skip == 0) {
            c->tried_why[c->n_tried] = why;
            c->tried[c->n_tried++] = name;
        }
        decoded_free(&d);
        return 0;
    }
    c->best = d;
    snprintf(c->info->name, sizeof(c->info->name), "%s", name);
    c->info->source = source;
    c->info->replaced = d.replaced;
    return 1;
}

/* The encoding of a byte-order mark at the start, and its length. */
static const char *bom_of(const unsigned char *p, size_t len, size_t *bom_len)
{
    if (len >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf) {
        *bom_len = 3;
        return "UTF-8";
    }
    if (len >= 4 && p[0] == 0xff && p[1] == 0xfe && p[2] == 0 && p[3] == 0) {
        *bom_len = 4;
        return "UTF-32LE";
    }
    if (len >= 4 && p[0] == 0 && p[1] == 0 && p[2] == 0xfe && p[3] == 0xff) {
        *bom_len = 4;
        return "UTF-32BE";
    }
    if (len >= 2 && p[0] == 0xff && p[1] == 0xfe) {
        *bom_len = 2;
        return "UTF-16LE";
    }
    if (len >= 2 && p[0] == 0xfe && p[1] == 0xff) {
        *bom_len = 2;
        return "UTF-16BE";
    }
    *bom_len = 0;
    return NULL;
}

/* UTF-16 without a byte-order mark, by where its NUL bytes fall: markup is
 * ASCII, so a quarter or more of the code units have a zero high byte and
 * (almost) none a zero low byte. */
static const char *utf16_pattern(const unsigned char *p, size_t len)
{
    size_t n = (len < PX_UTF16_SCAN ? len : PX_UTF16_SCAN) / 2;
    size_t even = 0, odd = 0;

    if (n < 8) {
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        even += p[2 * i] == 0;
        odd += p[2 * i + 1] == 0;
    }
    if (odd * 4 >= n && even * 64 <= n) {
        return "UTF-16LE";
    }
    if (even * 4 >= n && odd * 64 <= n) {
        return "UTF-16BE";
    }
    return NULL;
}

/* Single-byte charsets that share ASCII and most of windows-1252's letters
 * and that a detector confuses with it on short evidence. */
static int latin_sibling(const char *name)
{
    static const char *const sib[] = {"windows-1250", "windows-1254",
                                      "windows-1257", "windows-1258",
                                      "ISO-8859-2",   "ISO-8859-3",
                                      "ISO-8859-4",   "ISO-8859-9",
                                      "ISO-8859-10",  "ISO-8859-13",
                                      "ISO-8859-14",  "ISO-8859-15",
                                      "ISO-8859-16",  NULL};
    for (int i = 0; sib[i] != NULL; i++) {
        if (strcasecmp(name, sib[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

/* At most 1 byte in 64 outside ASCII: English or another language written
 * mostly without accents. */
static int mostly_ascii(const unsigned char *p, size_t len)
{
    size_t high = 0;
    for (size_t i = 0; i < len; i++) {
        high += p[i] >= 0x80;
    }
    return high * 64 <= len;
}

/* libuchardet's guess as a WHATWG name, or NULL. */
static const char *uchardet_guess(const char *buf, size_t len, int *nomem)
{
    uchardet_t ud = uchardet_new();
    const char *name = NULL;

    *nomem = 0;
    if (ud == NULL) {
        *nomem = 1;
        return NULL;
    }
    if (uchardet_handle_data(ud, buf, len < PX_DETECT_MAX ? len : PX_DETECT_MAX) != 0) {
        *nomem = 1;
    } else {
        const char *got;
        uchardet_data_end(ud);
        got = uchardet_get_charset(ud);
        if (got != NULL && got[0] != '\0') {
            name = px_charset_canonical(got, strlen(got));
        }
    }
    uchardet_delete(ud);
    return name;
}

/* The declared label's encoding or NULL (noted as unknown or forbidden). */
static const char *declared(ctx *c, const char *source, const char *label)
{
    const char *name = px_charset_canonical(label, strlen(label));
    if (name == NULL) {
        note_rejected(c->info, source, label, "unknown");
        return NULL;
    }
    if (strcmp(name, "replacement") == 0) {
        note_rejected(c->info, source, label, "forbidden");
        return NULL;
    }
    return name;
}

static int is_text_plain(const char *ct)
{
    while (ct != NULL && is_space((unsigned char)*ct)) {
        ct++;
    }
    return ct != NULL && strncasecmp(ct, "text/plain", 10) == 0 &&
           (ct[10] == '\0' || ct[10] == ';' || is_space((unsigned char)ct[10]));
}

static int decide(ctx *c, const char *content_type)
{
    const unsigned char *p = (const unsigned char *)c->buf;
    char label[64];
    size_t bom_len;
    const char *bom = bom_of(p, c->len, &bom_len);
    const char *name;
    int rc, nomem;

    if (px_content_type_charset(content_type, label, sizeof(label))) {
        name = declared(c, "http", label);
        if (name != NULL && bom != NULL && strcmp(name, bom) != 0) {
            /* the mark's bytes are not text in the declared charset */
            note_rejected(c->info, "http", label, "bom");
        } else if (name != NULL) {
            rc = try_decode(c, name, bom_len, "http", label, 1);
            if (rc != 0) {
                return rc;
            }
        }
    }
    if (bom != NULL) {
        rc = try_decode(c, bom, bom_len, "bom", bom, 0);
        if (rc != 0) {
            return rc;
        }
    }
    if (!is_text_plain(content_type) && px_meta_charset(c->buf, c->len, label, sizeof(label))) {
        name = declared(c, "meta", label);
        if (name != NULL && strncmp(name, "UTF-16", 6) == 0) {
            /* a meta tag that could be read is not in UTF-16 (WHATWG) */
            name = "UTF-8";
        }
        if (name != NULL) {
            rc = try_decode(c, name, 0, "meta", label, 1);
            if (rc != 0) {
                return rc;
            }
        }
    }
    rc = try_decode(c, "UTF-8", 0, "detector", NULL, 1);
    if (rc != 0) {
        return rc;
    }
    name = utf16_pattern(p, c->len);
    if (name != NULL) {
        rc = try_decode(c, name, 0, "detector", NULL, 1);
        if (rc != 0) {
            return rc;
        }
    }
    name = uchardet_guess(c->buf, c->len, &nomem);
    if (nomem) {
        return NL_ENOMEM;
    }
    if (name != NULL && latin_sibling(name) && mostly_ascii(p, c->len)) {
        /* A statistical guess between Latin single-byte charsets from a
         * handful of non-ASCII bytes is weak (libuchardet says windows-1250
         * for a fifth of English pages re-encoded in windows-1252); the
         * WHATWG default is the better bet for such a page. Text in Polish,
         * Czech or Vietnamese has far more non-ASCII bytes than the bound. */
        name = "windows-1252";
    }
    if (name != NULL && strcmp(name, "replacement") != 0) {
        rc = try_decode(c, name, 0, "detector", NULL, 1);
        if (rc != 0) {
            return rc;
        }
    }
    return try_decode(c, "windows-1252", 0, "default", NULL, 0);
}

int px_to_utf8(const char *buf, size_t len, const char *content_type, size_t max_len, char **out,
               size_t *out_len, px_charset *info, char *errbuf, size_t errlen)
{
    ctx c = {.buf = buf, .len = len, .info = info};
    int rc;

    *out = NULL;
    *out_len = 0;
    memset(info, 0, sizeof(*info));
    info->source = "";
    if (buf == NULL) {
        c.buf = "";
        c.len = len = 0;
    }
    if (len > max_len || len > SIZE_MAX / 4) {
        return nl_errf(errbuf, errlen, NL_ETOOBIG, "body of %zu bytes is over the limit of %zu",
                       len, max_len);
    }
    rc = decide(&c, content_type);
    if (rc < 0) {
        decoded_free(&c.best);
        info->name[0] = '\0';
        info->source = "";
        return nl_errf(errbuf, errlen, rc, "out of memory converting the body to UTF-8");
    }
    if (rc == 0) {
        /* Even windows-1252 was refused: binary, or iconv cannot convert. */
        iconv_t cd = iconv_open("UTF-8", "WINDOWS-1252");
        if (cd == (iconv_t)-1) {
            return nl_errf(errbuf, errlen, NL_EFATAL,
                           "iconv cannot convert windows-1252 (gconv modules missing?)");
        }
        iconv_close(cd);
        return nl_errf(errbuf, errlen, NL_EINVAL,
                       "undecodable: no charset decodes the body (binary data?)%s%s",
                       info->rejected[0] != '\0' ? "; rejected " : "", info->rejected);
    }
    /* decode_utf8 builds its output from sequences it validated; iconv's
     * output is checked here rather than trusted. */
    if (strcmp(info->name, "UTF-8") != 0 && !nl_utf8_valid(c.best.out.ptr, c.best.out.len)) {
        size_t n;
        char *fixed = nl_utf8_sanitize(c.best.out.ptr, c.best.out.len, (size_t)-1 / 4, &n);
        if (fixed == NULL) {
            decoded_free(&c.best);
            return nl_errf(errbuf, errlen, NL_ENOMEM, "out of memory converting the body to UTF-8");
        }
        decoded_free(&c.best);
        *out = fixed;
        *out_len = n;
        return 0;
    }
    *out = nl_buf_steal(&c.best.out, out_len);
    return 0;
}
