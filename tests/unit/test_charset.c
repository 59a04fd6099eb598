/* Unit tests for the charset decision and conversion (parser/charset.h):
 * each source (http, bom, meta, detector, default) and the order between
 * them, lying declarations, byte-order marks, <meta> with odd quoting, the
 * common legacy charsets (bodies made here with iconv from UTF-8 text),
 * invalid bytes, binary input and the size limit; and px_html_utf8
 * ignoring a <meta charset> in converted text. */
#include "charset.h"
#include "extract.h"
#include "nl_err.h"
#include "nl_text.h"

#include <check.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXB (1u << 20)

/* One paragraph per language, UTF-8 (this file is UTF-8). */
#define FR                                                                                              \
    "Le café de la gare était fermé, mais l'hôtel voisin proposait déjà un menu à prix réduit " \
    "pour les voyageurs pressés."
#define RU                                                                                                                                                          \
    "Городской совет во вторник проголосовал за расширение трамвайной сети на двенадцать " \
    "километров."
#define JA                                                                                                                                       \
    "市議会は火曜日、路面電車網を十二キロ延長することを決めた。議論は深夜まで続き、数百人の住民が" \
    "集まった。"
#define KO                                                                                         \
    "시의회는 화요일 노면전차 노선을 12킬로미터 연장하기로 의결했다. 토론은 밤늦게까지 이어졌다."
#define ZH "市议会周二投票决定将有轨电车网络延长十二公里，辩论持续到深夜，吸引了数百名居民。"

/* A page around text, in UTF-8; head is put in <head> (a meta tag). */
static char *page(const char *head, const char *text)
{
    char *s;
    ck_assert_int_ge(asprintf(&s,
                              "<html><head>%s<title>Council</title></head><body><article><p>%s</p>"
                              "</article></body></html>",
                              head, text),
                     0);
    return s;
}

/* utf8 converted to charset `to` with iconv; *len gets the length. */
static char *encode(const char *to, const char *utf8, size_t *len)
{
    iconv_t cd = iconv_open(to, "UTF-8");
    size_t inleft = strlen(utf8), cap = inleft * 4 + 16, oleft = cap;
    char *out = malloc(cap), *o = out, *in = (char *)utf8;

    ck_assert_msg(cd != (iconv_t)-1, "iconv cannot make %s", to);
    ck_assert_ptr_nonnull(out);
    ck_assert_msg(iconv(cd, &in, &inleft, &o, &oleft) != (size_t)-1, "iconv to %s failed", to);
    iconv_close(cd);
    *len = (size_t)(o - out);
    return out;
}

typedef struct conv {
    int rc;
    char *out;
    size_t len;
    px_charset cs;
    char err[256];
} conv;

static conv run(const char *buf, size_t len, const char *ct)
{
    conv c;
    memset(&c, 0, sizeof(c));
    c.rc = px_to_utf8(buf, len, ct, MAXB, &c.out, &c.len, &c.cs, c.err, sizeof(c.err));
    if (c.rc == 0) {
        ck_assert(nl_utf8_valid(c.out, c.len));
        ck_assert_uint_eq(strlen(c.out), c.len);
    } else {
        ck_assert_ptr_null(c.out);
    }
    return c;
}

/* Converts, asserts success, the charset and source, and that want (UTF-8)
 * is in the output. */
static conv expect(const char *buf, size_t len, const char *ct, const char *name,
                   const char *source, const char *want)
{
    conv c = run(buf, len, ct);
    ck_assert_msg(c.rc == 0, "px_to_utf8: %s", c.err);
    ck_assert_str_eq(c.cs.name, name);
    ck_assert_str_eq(c.cs.source, source);
    if (want != NULL) {
        ck_assert_msg(strstr(c.out, want) != NULL, "\"%s\" not in \"%s\" (%s from %s)", want, c.out,
                      c.cs.name, c.cs.source);
    }
    return c;
}

/* A page in charset `to`, declared nowhere unless head says so. */
static char *page_in(const char *to, const char *head, const char *text, size_t *len)
{
    char *u = page(head, text);
    char *e = encode(to, u, len);
    free(u);
    return e;
}

START_TEST(test_labels)
{
    ck_assert_str_eq(px_charset_canonical("latin1", 6), "windows-1252");
    ck_assert_str_eq(px_charset_canonical("ISO-8859-1", 10), "windows-1252");
    ck_assert_str_eq(px_charset_canonical("US-ASCII", 8), "windows-1252");
    ck_assert_str_eq(px_charset_canonical("  x-sjis ", 9), "Shift_JIS");
    ck_assert_str_eq(px_charset_canonical("gb2312", 6), "GBK");
    ck_assert_str_eq(px_charset_canonical("ks_c_5601-1987", 14), "EUC-KR");
    ck_assert_str_eq(px_charset_canonical("UTF8", 4), "UTF-8");
    ck_assert_str_eq(px_charset_canonical("utf-16", 6), "UTF-16LE");
    ck_assert_str_eq(px_charset_canonical("iso-2022-kr", 11), "replacement");
    ck_assert_ptr_null(px_charset_canonical("utf-8x", 6));
    ck_assert_ptr_null(px_charset_canonical("utf", 3));
    ck_assert_ptr_null(px_charset_canonical("", 0));
}
END_TEST

START_TEST(test_content_type_param)
{
    char cs[64];
    ck_assert(px_content_type_charset("text/html; charset=utf-8", cs, sizeof(cs)));
    ck_assert_str_eq(cs, "utf-8");
    ck_assert(px_content_type_charset("text/html;CHARSET=\"ISO-8859-1\"", cs, sizeof(cs)));
    ck_assert_str_eq(cs, "ISO-8859-1");
    ck_assert(
        px_content_type_charset("text/html; q=\"a;b\" ; Charset = 'koi8-r' ;x=y", cs, sizeof(cs)));
    ck_assert_str_eq(cs, "koi8-r");
    ck_assert(!px_content_type_charset("text/html", cs, sizeof(cs)));
    ck_assert(!px_content_type_charset("text/html; charset=", cs, sizeof(cs)));
    ck_assert(!px_content_type_charset("text/html; xcharset=utf-8", cs, sizeof(cs)));
    ck_assert(!px_content_type_charset(NULL, cs, sizeof(cs)));
}
END_TEST

static const char *meta_of(const char *html)
{
    static char cs[64];
    return px_meta_charset(html, strlen(html), cs, sizeof(cs)) ? cs : NULL;
}

START_TEST(test_meta_scanner)
{
    ck_assert_str_eq(meta_of("<meta charset=\"koi8-r\">"), "koi8-r");
    ck_assert_str_eq(meta_of("<META CHARSET='KOI8-R'/>"), "KOI8-R");
    ck_assert_str_eq(meta_of("<meta\ncharset = koi8-r >"), "koi8-r");
    ck_assert_str_eq(meta_of("<meta/charset=koi8-r>"), "koi8-r");
    ck_assert_str_eq(meta_of("<meta http-equiv=\"Content-Type\" "
                             "content=\"text/html; CHARSET = 'windows-1251'\">"),
                     "windows-1251");
    /* content before http-equiv, unquoted, upper case */
    ck_assert_str_eq(meta_of("<Meta content='text/html;charset=Shift_JIS' "
                             "HTTP-EQUIV=content-type>"),
                     "Shift_JIS");
    /* content without http-equiv is not a declaration */
    ck_assert_ptr_null(meta_of("<meta name=x content=\"text/html; charset=koi8-r\">"));
    /* in a comment, in another tag's attribute, in a script-less text */
    ck_assert_ptr_null(meta_of("<!-- <meta charset=koi8-r> --><p>x</p>"));
    ck_assert_ptr_null(meta_of("<a title='<meta charset=koi8-r>'>x</a>"));
    ck_assert_ptr_null(meta_of("<metadata charset=koi8-r>"));
    ck_assert_ptr_null(meta_of("meta charset=koi8-r"));
    /* the first declaration wins; a comment before it is skipped */
    ck_assert_str_eq(meta_of("<!-- x --><link rel=a href='>'><meta charset=euc-kr>"
                             "<meta charset=koi8-r>"),
                     "euc-kr");
    /* a second charset attribute does not override the first */
    ck_assert_str_eq(meta_of("<meta charset=gbk charset=koi8-r>"), "gbk");
    /* an unterminated quote and an unterminated comment end the scan */
    ck_assert_ptr_null(meta_of("<meta charset=\"koi8-r"));
    ck_assert_ptr_null(meta_of("<!-- <meta charset=koi8-r>"));
}
END_TEST

START_TEST(test_meta_scan_limit)
{
    size_t pad = PX_META_SCAN;
    char *s = malloc(pad + 64);
    ck_assert_ptr_nonnull(s);
    memset(s, ' ', pad);
    strcpy(s + pad, "<meta charset=koi8-r>");
    ck_assert_ptr_null(meta_of(s));
    strcpy(s + pad - 100, "<meta charset=koi8-r>");
    ck_assert_str_eq(meta_of(s), "koi8-r");
    free(s);
}
END_TEST

START_TEST(test_http_source)
{
    size_t len;
    char *body =
        page_in("WINDOWS-1252", "", FR " \xe2\x82\xac 5 \xe2\x80\x9cquoted\xe2\x80\x9d", &len);
    conv c = expect(body, len, "text/html; charset=windows-1252", "windows-1252", "http",
                    "Le café de la gare était fermé");
    ck_assert(strstr(c.out, "€ 5 “quoted”") != NULL);
    ck_assert_uint_eq(c.cs.replaced, 0);
    ck_assert_str_eq(c.cs.rejected, "");
    free(c.out);
    /* iso-8859-1 is read as windows-1252, whose 0x80-0x9f are printable */
    c = expect(body, len, "text/html; charset=ISO-8859-1", "windows-1252", "http", "€ 5 “quoted”");
    free(c.out);
    free(body);
}
END_TEST

START_TEST(test_legacy_declared)
{
    static const struct {
        const char *iconv, *label, *name, *text;
    } cases[] = {
        {"ISO-8859-1", "latin1", "windows-1252", FR},
        {"SHIFT_JIS", "shift_jis", "Shift_JIS", JA},
        {"CP932", "x-sjis", "Shift_JIS", JA},
        {"EUC-JP", "euc-jp", "EUC-JP", JA},
        {"EUC-KR", "euc-kr", "EUC-KR", KO},
        {"GB18030", "gb18030", "gb18030", ZH},
        {"GB2312", "gb2312", "GBK", ZH},
        {"KOI8-R", "koi8-r", "KOI8-R", RU},
        {"WINDOWS-1251", "cp1251", "windows-1251", RU},
        {"UTF-16LE", "utf-16", "UTF-16LE", RU},
        {"UTF-16BE", "UTF-16BE", "UTF-16BE", JA},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char ct[64];
        size_t len;
        char *body = page_in(cases[i].iconv, "", cases[i].text, &len);
        conv c;
        snprintf(ct, sizeof(ct), "text/html; charset=%s", cases[i].label);
        c = expect(body, len, ct, cases[i].name, "http", cases[i].text);
        ck_assert_uint_eq(c.cs.replaced, 0);
        ck_assert(strstr(c.out, "<title>Council</title>") != NULL);
        free(c.out);
        free(body);
    }
}
END_TEST

START_TEST(test_legacy_detected)
{
    /* nothing declared: libuchardet on one paragraph */
    static const struct {
        const char *iconv, *name, *text;
    } cases[] = {
        {"WINDOWS-1252", "windows-1252", FR},
        {"SHIFT_JIS", "Shift_JIS", JA},
        {"EUC-JP", "EUC-JP", JA},
        {"EUC-KR", "EUC-KR", KO},
        {"GB18030", "gb18030", ZH},
        {"KOI8-R", "KOI8-R", RU},
        {"WINDOWS-1251", "windows-1251", RU},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len;
        char *body = page_in(cases[i].iconv, "", cases[i].text, &len);
        conv c = expect(body, len, "text/html", cases[i].name, "detector", cases[i].text);
        free(c.out);
        free(body);
    }
}
END_TEST

START_TEST(test_latin_bias)
{
    /* English in windows-1252 with four accented letters: libuchardet 0.0.7
     * guesses windows-1250 here; with so few non-ASCII bytes the WHATWG
     * default wins, and the names come out right */
    static const char en[] =
        "<html><head><title>Talks</title></head><body><p>Officials in Bras\xedlia and "
        "Bogot\xe1 met the delegation; Mr Ren\xe9 Dupr\xe9 spoke for the European side about "
        "the treaty. The meeting lasted most of the afternoon and ended without a joint "
        "statement, although both sides said they would meet again next month to discuss "
        "trade, security and the situation on the border.</p></body></html>";
    /* Polish in windows-1250: many non-ASCII bytes, the detector's guess stands */
    static const char pl[] =
        "Wczoraj w Warszawie minister spraw zagranicznych spotka\xb3 si\xea z ambasadorem. "
        "Rozmowy dotyczy\xb3y bezpiecze\xf1stwa, wsp\xf3\xb3pracy gospodarczej i sytuacji "
        "na Ukrainie. \x8cwiadkowie m\xf3wili, \xbf"
        "e atmosfera by\xb3"
        "a napi\xeata, a "
        "\xbf"
        "adna ze stron nie chcia\xb3"
        "a ust\xb9pi\xe6.";
    conv c = expect(en, strlen(en), "text/html", "windows-1252", "detector",
                    "Officials in Bras\xc3\xadlia and Bogot\xc3\xa1 met");
    ck_assert_ptr_nonnull(strstr(c.out, "Mr Ren\xc3\xa9 Dupr\xc3\xa9 spoke"));
    free(c.out);
    c = expect(pl, strlen(pl), "text/plain", "windows-1250", "detector",
               "Wczoraj w Warszawie minister spraw zagranicznych spotka\xc5\x82 si\xc4\x99");
    free(c.out);
}
END_TEST

START_TEST(test_boms)
{
    static const struct {
        const char *iconv, *name;
    } cases[] = {
        {"UTF-8", "UTF-8"},       {"UTF-16LE", "UTF-16LE"}, {"UTF-16BE", "UTF-16BE"},
        {"UTF-32LE", "UTF-32LE"}, {"UTF-32BE", "UTF-32BE"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len;
        char *u = page("<meta charset=windows-1252>", JA);
        char *withbom;
        char *e;
        conv c;
        ck_assert_int_ge(asprintf(&withbom, "\xef\xbb\xbf%s", u), 0);
        e = encode(cases[i].iconv, withbom, &len);
        /* the BOM beats the meta tag and a header with no charset */
        c = expect(e, len, "text/html", cases[i].name, "bom", JA);
        ck_assert_msg(strncmp(c.out, "<html>", 6) == 0, "BOM kept: %s", c.out);
        free(c.out);
        /* a header naming the same encoding family wins, BOM stripped */
        if (strcmp(cases[i].name, "UTF-8") == 0) {
            c = expect(e, len, "text/html; charset=utf-8", "UTF-8", "http", JA);
            ck_assert(strncmp(c.out, "<html>", 6) == 0);
            free(c.out);
        }
        /* a header naming another charset is a lie the BOM exposes */
        c = expect(e, len, "text/html; charset=iso-8859-1", cases[i].name, "bom", JA);
        ck_assert_str_eq(c.cs.rejected, "http:iso-8859-1:bom");
        free(c.out);
        free(e);
        free(withbom);
        free(u);
    }
}
END_TEST

START_TEST(test_order)
{
    size_t len;
    char *body;
    conv c;

    /* http before meta */
    body = page_in("SHIFT_JIS", "<meta charset=euc-kr>", JA, &len);
    c = expect(body, len, "text/html; charset=sjis", "Shift_JIS", "http", JA);
    free(c.out);
    /* a meta tag that lies is passed over like a header that lies */
    c = expect(body, len, "text/html", "Shift_JIS", "detector", JA);
    ck_assert_str_eq(c.cs.rejected, "meta:euc-kr:invalid");
    free(c.out);
    free(body);
    /* meta when the header has no charset */
    body = page_in("KOI8-R", "<meta charset=koi8-r>", RU, &len);
    c = expect(body, len, "text/html", "KOI8-R", "meta", RU);
    free(c.out);
    /* a header whose charset decodes the bytes cleanly wins over meta */
    c = expect(body, len, "text/html; charset=windows-1251", "windows-1251", "http", NULL);
    free(c.out);
    free(body);
    /* meta before the detector: latin1 declared on UTF-8 bytes is honoured
     * (they decode cleanly), as a browser would */
    body =
        page("<meta http-equiv=content-type content='text/html; charset=latin1'>", "caf\xc3\xa9");
    c = expect(body, strlen(body), NULL, "windows-1252", "meta", "caf\xc3\x83\xc2\xa9");
    free(c.out);
    free(body);
    /* the detector when nothing is declared */
    body = page("", "caf\xc3\xa9");
    c = expect(body, strlen(body), NULL, "UTF-8", "detector", "café");
    free(c.out);
    free(body);
    /* text/plain has no meta tags: the detector decides */
    body = page("<meta charset=koi8-r>", "caf\xc3\xa9");
    c = expect(body, strlen(body), "text/plain", "UTF-8", "detector", "café");
    free(c.out);
    free(body);
    /* the default when the detector has no answer: a few high bytes */
    c = expect("a\x80\x81 b", 5, "text/plain", "windows-1252", "default", "a€");
    ck_assert_uint_eq(c.cs.replaced, 1); /* 0x81 is unassigned */
    free(c.out);
    /* empty input is an empty text */
    c = expect("", 0, "text/html", "UTF-8", "detector", "");
    ck_assert_uint_eq(c.len, 0);
    free(c.out);
}
END_TEST

START_TEST(test_lying_header)
{
    size_t len, mlen;
    char *body = page_in("WINDOWS-1252", "", FR, &len);
    char *meta = page_in("WINDOWS-1252", "<meta charset=\"windows-1252\">", FR, &mlen);
    conv c;

    /* header says UTF-8, body is windows-1252: on to the detector */
    c = expect(body, len, "text/html; charset=UTF-8", "windows-1252", "detector", "était fermé");
    ck_assert_str_eq(c.cs.rejected, "http:UTF-8:invalid");
    ck_assert_uint_eq(c.cs.replaced, 0);
    free(c.out);
    /* ... or to the page's own, truthful, meta tag */
    c = expect(meta, mlen, "text/html; charset=utf-8", "windows-1252", "meta", "était fermé");
    ck_assert_str_eq(c.cs.rejected, "http:utf-8:invalid");
    free(c.out);
    /* header and meta both lie */
    free(meta);
    meta = page_in("WINDOWS-1252", "<meta charset=\"utf-8\">", FR, &mlen);
    c = expect(meta, mlen, "text/html; charset=utf-8", "windows-1252", "detector", "était fermé");
    ck_assert_str_eq(c.cs.rejected, "http:utf-8:invalid meta:utf-8:invalid");
    free(c.out);
    /* a charset iconv and WHATWG do not know, and a forbidden one */
    c = expect(body, len, "text/html; charset=x-klingon", "windows-1252", "detector",
               "était fermé");
    ck_assert_str_eq(c.cs.rejected, "http:x-klingon:unknown");
    free(c.out);
    c = expect(body, len, "text/html; charset=utf-7", "windows-1252", "detector", "était fermé");
    ck_assert_str_eq(c.cs.rejected, "http:utf-7:forbidden");
    free(c.out);
    /* header says Shift_JIS, body is EUC-KR: invalid sequences */
    free(body);
    body = page_in("EUC-KR", "", KO KO, &len);
    c = expect(body, len, "text/html; charset=shift_jis", "EUC-KR", "detector", KO);
    ck_assert_str_eq(c.cs.rejected, "http:shift_jis:invalid");
    free(c.out);
    /* UTF-16 without a BOM under a single-byte header: NULs everywhere */
    free(body);
    body = page_in("UTF-16LE", "", RU, &len);
    c = expect(body, len, "text/html; charset=windows-1252", "UTF-16LE", "detector", RU);
    ck_assert_str_eq(c.cs.rejected, "http:windows-1252:binary");
    free(c.out);
    free(body);
    free(meta);
}
END_TEST

START_TEST(test_invalid_bytes)
{
    conv c;
    /* a UTF-8 page (many non-ASCII characters) with one stray byte: kept as
     * UTF-8 under the header, the byte replaced */
    char *u = page("", JA "\xff" JA);
    c = expect(u, strlen(u), "text/html; charset=utf-8", "UTF-8", "http", JA "\xef\xbf\xbd" JA);
    ck_assert_uint_eq(c.cs.replaced, 1);
    free(c.out);
    /* ... and by the detector when nothing is declared */
    c = expect(u, strlen(u), NULL, "UTF-8", "detector", JA "\xef\xbf\xbd" JA);
    free(c.out);
    free(u);
    /* NUL bytes become U+FFFD, and are no evidence against UTF-8 */
    c = expect("ab\0cd\xc3\xa9", 7, "text/plain; charset=utf-8", "UTF-8", "http",
               "ab\xef\xbf\xbd"
               "cd\xc3\xa9");
    ck_assert_uint_eq(c.cs.replaced, 1);
    free(c.out);
    /* a sequence cut off at the end is replaced, not held against UTF-8 */
    c = expect("caf\xc3\xa9 \xe2\x82", 8, "text/plain; charset=utf-8", "UTF-8", "http",
               "café \xef\xbf\xbd");
    free(c.out);
    /* invalid Shift_JIS sequences in a Shift_JIS page */
    {
        size_t len;
        char *sj = page_in("SHIFT_JIS", "", JA JA JA, &len);
        char *bad = malloc(len + 2);
        ck_assert_ptr_nonnull(bad);
        memcpy(bad, sj, 40);
        memcpy(bad + 40, "\x81\x7f", 2); /* lead byte, invalid trail */
        memcpy(bad + 42, sj + 40, len - 40);
        c = expect(bad, len + 2, "text/html; charset=shift_jis", "Shift_JIS", "http", JA);
        ck_assert_uint_ge(c.cs.replaced, 1);
        ck_assert(strstr(c.out, "\xef\xbf\xbd") != NULL);
        free(c.out);
        free(bad);
        free(sj);
    }
    /* UTF-16 with an odd trailing byte and an unpaired surrogate */
    c = expect("\xff\xfe"
               "a\0\x00\xd8"
               "b\0c",
               9, NULL, "UTF-16LE", "bom", "a\xef\xbf\xbd");
    ck_assert_uint_eq(c.cs.replaced, 2);
    free(c.out);
}
END_TEST

START_TEST(test_undecodable)
{
    unsigned char bin[4096];
    conv c;
    for (size_t i = 0; i < sizeof(bin); i++) {
        bin[i] = (unsigned char)((i * 2654435761u) >> 13);
    }
    c = run((const char *)bin, sizeof(bin), "text/html; charset=utf-8");
    ck_assert_int_eq(c.rc, NL_EINVAL);
    ck_assert_msg(strstr(c.err, "undecodable") != NULL, "%s", c.err);
    ck_assert_str_eq(c.cs.source, "");
    ck_assert_str_eq(c.cs.name, "");
    /* a gzip header and NULs, as a mislabelled compressed body */
    c = run("\x1f\x8b\x08\0\0\0\0\0\0\x03\x01\x02\x03\x04", 14, "text/html");
    ck_assert_int_eq(c.rc, NL_EINVAL);
}
END_TEST

START_TEST(test_size_limit)
{
    char out_err[256];
    char *out = (char *)1;
    size_t len = 7;
    px_charset cs;
    ck_assert_int_eq(px_to_utf8("abcdef", 6, NULL, 5, &out, &len, &cs, out_err, sizeof(out_err)),
                     NL_ETOOBIG);
    ck_assert_ptr_null(out);
    ck_assert_uint_eq(len, 0);
    ck_assert(strstr(out_err, "limit") != NULL);
    ck_assert_int_eq(px_to_utf8("abcdef", 6, NULL, 6, &out, &len, &cs, out_err, sizeof(out_err)),
                     0);
    ck_assert_str_eq(out, "abcdef");
    free(out);
}
END_TEST

START_TEST(test_html_utf8_ignores_meta)
{
    /* windows-1252 page with a true meta: converted, then parsed as UTF-8 */
    size_t len;
    char *body = page_in("WINDOWS-1252", "<meta charset=windows-1252>", "Caf\xc3\xa9 " FR FR, &len);
    conv c = expect(body, len, "text/html", "windows-1252", "meta", "Café");
    px_doc doc;
    char err[256];
    ck_assert_int_eq(px_html_utf8(c.out, c.len, NULL, &doc, err, sizeof(err)), 0);
    ck_assert_msg(strstr(doc.text, "Café") != NULL, "%s", doc.text);
    px_doc_free(&doc);
    /* px_html on the same UTF-8 bytes believes the meta: mojibake */
    ck_assert_int_eq(px_html(c.out, c.len, NULL, &doc, err, sizeof(err)), 0);
    ck_assert(strstr(doc.text, "CafÃ©") != NULL);
    px_doc_free(&doc);
    free(c.out);
    free(body);
}
END_TEST

START_TEST(test_html_legacy_bytes_grow)
{
    /* px_html on raw windows-1252 bytes: libxml2's UTF-8 is longer than the
     * input (every high byte becomes 2-3 bytes); the text is not "too
     * large" for that (it was, with a cap of the input's length). */
    char body[4096];
    size_t n = (size_t)snprintf(body, sizeof(body), "<html><body><article><p>");
    px_doc doc;
    char err[256];
    while (n < sizeof(body) - 64) {
        body[n] = (n % 7 == 0) ? ' ' : (char)0xe9;
        n++;
    }
    n += (size_t)snprintf(body + n, sizeof(body) - n, "</p></article></body></html>");
    ck_assert_int_eq(px_html(body, n, NULL, &doc, err, sizeof(err)), 0);
    ck_assert_uint_gt(doc.text_len, 4000);
    ck_assert(nl_utf8_valid(doc.text, doc.text_len));
    px_doc_free(&doc);
}
END_TEST

static Suite *charset_suite(void)
{
    Suite *s = suite_create("charset");
    TCase *tc = tcase_create("parsing");
    tcase_add_test(tc, test_labels);
    tcase_add_test(tc, test_content_type_param);
    tcase_add_test(tc, test_meta_scanner);
    tcase_add_test(tc, test_meta_scan_limit);
    suite_add_tcase(s, tc);

    tc = tcase_create("decision");
    tcase_add_test(tc, test_http_source);
    tcase_add_test(tc, test_legacy_declared);
    tcase_add_test(tc, test_legacy_detected);
    tcase_add_test(tc, test_latin_bias);
    tcase_add_test(tc, test_boms);
    tcase_add_test(tc, test_order);
    tcase_add_test(tc, test_lying_header);
    suite_add_tcase(s, tc);

    tc = tcase_create("contract");
    tcase_add_test(tc, test_invalid_bytes);
    tcase_add_test(tc, test_undecodable);
    tcase_add_test(tc, test_size_limit);
    tcase_add_test(tc, test_html_utf8_ignores_meta);
    tcase_add_test(tc, test_html_legacy_bytes_grow);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(charset_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
