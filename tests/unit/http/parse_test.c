/* SPDX-License-Identifier: MIT */
/*
 * Tests for server/http/parse.c (and iov_eq_nocase from iov.c).
 *
 * The core is one table of requests with the expected outcome: a valid head with its derived
 * fields, "need more", or a refusal status. Every row is run three ways: all at once, fed one byte
 * at a time (0 until the outcome is known, then the same outcome), and cut in two at every
 * position (so the lexer resumes from every state after a jump). Limits need long inputs and have
 * their own tests below. The table holds its strings inline because criterion runs each
 * parameter in a fresh process, where pointers in parameters would not be valid.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

#define WHOLE 1 /* valid, and the whole input is the head (no real head is 1 byte long) */
#define MORE 0  /* a valid prefix: the parser wants more */

struct pcase {
    char name[64];
    char raw[400];
    size_t len; /* 0: strlen(raw); set when raw holds a NUL */
    int want;   /* WHOLE, MORE, a head length, or -status */
    /* Checked when the head parses: */
    enum http_method method;
    char target[64];
    int minor;
    enum http_body_kind body;
    uint64_t content_length;
    bool keep_alive;
    bool expect_continue;
    char host[64];
    size_t n_headers;
};

#define OK(nm, r, m, tg, mi, bd, cl, ka, ec, hs, nh)                                               \
    {                                                                                              \
        .name = nm, .raw = r, .want = WHOLE, .method = m, .target = tg, .minor = mi, .body = bd,   \
        .content_length = cl, .keep_alive = ka, .expect_continue = ec, .host = hs, .n_headers = nh \
    }
/* A simple valid GET / with Host: h plus the given field lines (nh counts Host). */
#define OK_GET(nm, fields, bd, cl, ka, ec, nh)                                                     \
    OK(nm, "GET / HTTP/1.1\r\nHost: h\r\n" fields "\r\n", HTTP_M_GET, "/", 1, bd, cl, ka, ec, "h", \
       nh)
#define BAD(nm, r, st)                                                                             \
    {                                                                                              \
        .name = nm, .raw = r, .want = -(st)                                                        \
    }
/* For raw strings holding a NUL. */
#define BADN(nm, r, st)                                                                            \
    {                                                                                              \
        .name = nm, .raw = r, .len = sizeof(r) - 1, .want = -(st)                                  \
    }
#define INCOMPLETE(nm, r)                                                                          \
    {                                                                                              \
        .name = nm, .raw = r, .want = MORE                                                         \
    }
/* A GET with Host plus the given field lines, refused with st. */
#define BAD_GET(nm, fields, st) BAD(nm, "GET / HTTP/1.1\r\nHost: h\r\n" fields "\r\n", st)
#define BAD_POST(nm, fields, st) BAD(nm, "POST /u HTTP/1.1\r\nHost: h\r\n" fields "\r\n", st)

#define B_NONE HTTP_BODY_NONE
#define B_LEN HTTP_BODY_LENGTH
#define B_CHK HTTP_BODY_CHUNKED

static struct pcase cases[] = {
    /* ---- valid ---- */
    OK("get 1.1", "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", HTTP_M_GET, "/", 1, B_NONE, 0,
       true, false, "example.com", 1),
    OK("get 1.0 no host", "GET /index.html HTTP/1.0\r\n\r\n", HTTP_M_GET, "/index.html", 0, B_NONE,
       0, false, false, "", 0),
    OK("1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", HTTP_M_GET, "/", 0,
       B_NONE, 0, true, false, "", 1),
    OK("1.0 Keep-Alive case", "GET / HTTP/1.0\r\nconnection: Keep-Alive\r\n\r\n", HTTP_M_GET, "/",
       0, B_NONE, 0, true, false, "", 1),
    OK("1.0 keep-alive and close", "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n",
       HTTP_M_GET, "/", 0, B_NONE, 0, false, false, "", 1),
    OK("1.0 host", "HEAD /x HTTP/1.0\r\nHost: a.b\r\n\r\n", HTTP_M_HEAD, "/x", 0, B_NONE, 0, false,
       false, "a.b", 1),
    OK_GET("1.1 close", "Connection: close\r\n", B_NONE, 0, false, false, 2),
    OK_GET("1.1 close in list", "Connection: Upgrade,  CLOSE \r\n", B_NONE, 0, false, false, 2),
    OK_GET("1.1 close second field", "Connection: te\r\nConnection: close\r\n", B_NONE, 0, false,
           false, 3),
    OK_GET("1.1 keep-alive", "Connection: keep-alive\r\n", B_NONE, 0, true, false, 2),
    OK("put length", "PUT /f HTTP/1.1\r\nHost: h\r\nContent-Length: 42\r\n\r\n", HTTP_M_PUT, "/f",
       1, B_LEN, 42, true, false, "h", 2),
    OK_GET("length 0", "Content-Length: 0\r\n", B_NONE, 0, true, false, 2),
    OK_GET("length leading zeros", "Content-Length: 007\r\n", B_LEN, 7, true, false, 2),
    OK_GET("length 2^63-1", "Content-Length: 9223372036854775807\r\n", B_LEN,
           9223372036854775807ull, true, false, 2),
    OK_GET("length OWS", "Content-Length: \t 5 \t\r\n", B_LEN, 5, true, false, 2),
    OK_GET("length no OWS", "content-length:5\r\n", B_LEN, 5, true, false, 2),
    OK("post chunked", "POST /u HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n",
       HTTP_M_POST, "/u", 1, B_CHK, 0, true, false, "h", 2),
    OK_GET("chunked uppercase", "TRANSFER-ENCODING: CHUNKED\r\n", B_CHK, 0, true, false, 2),
    OK_GET("chunked tab OWS", "Transfer-Encoding:\tchunked\t\r\n", B_CHK, 0, true, false, 2),
    OK_GET("chunked empty elements", "Transfer-Encoding: , chunked ,\r\n", B_CHK, 0, true, false,
           2),
    OK_GET("expect 100-continue", "Expect: 100-continue\r\n", B_NONE, 0, true, true, 2),
    OK_GET("expect case", "expect: 100-Continue\r\n", B_NONE, 0, true, true, 2),
    OK_GET("expect other", "Expect: the-unexpected\r\n", B_NONE, 0, true, false, 2),
    OK("expect in 1.0 ignored", "PUT / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n", HTTP_M_PUT, "/",
       0, B_NONE, 0, false, false, "", 1),
    OK("leading empty lines", "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", HTTP_M_GET, "/", 1,
       B_NONE, 0, true, false, "h", 1),
    OK("8 leading empty lines", "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
       HTTP_M_GET, "/", 1, B_NONE, 0, true, false, "h", 1),
    OK("propfind", "PROPFIND /dav/ HTTP/1.1\r\nHost: h\r\nDepth: 1\r\n\r\n", HTTP_M_PROPFIND,
       "/dav/", 1, B_NONE, 0, true, false, "h", 2),
    OK("lowercase method is other", "get / HTTP/1.1\r\nHost: h\r\n\r\n", HTTP_M_OTHER, "/", 1,
       B_NONE, 0, true, false, "h", 1),
    OK("token method", "M-SEARCH * HTTP/1.1\r\nHost: h\r\n\r\n", HTTP_M_OTHER, "*", 1, B_NONE, 0,
       true, false, "h", 1),
    OK("options asterisk", "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", HTTP_M_OPTIONS, "*", 1, B_NONE,
       0, true, false, "h", 1),
    OK("absolute form", "GET http://example.com/a?b HTTP/1.1\r\nHost: example.com\r\n\r\n",
       HTTP_M_GET, "http://example.com/a?b", 1, B_NONE, 0, true, false, "example.com", 1),
    OK("authority form", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
       HTTP_M_CONNECT, "example.com:443", 1, B_NONE, 0, true, false, "example.com:443", 1),
    OK("target punctuation", "GET /a%20b?c=d&e=~!$'()*+,;=:@[]\"{}|^` HTTP/1.1\r\nHost: h\r\n\r\n",
       HTTP_M_GET, "/a%20b?c=d&e=~!$'()*+,;=:@[]\"{}|^`", 1, B_NONE, 0, true, false, "h", 1),
    OK("host ipv6 port", "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", HTTP_M_GET, "/", 1, B_NONE,
       0, true, false, "[::1]:8080", 1),
    OK("host empty", "GET / HTTP/1.1\r\nHost:\r\n\r\n", HTTP_M_GET, "/", 1, B_NONE, 0, true, false,
       "", 1),
    OK("host pct and port", "GET / HTTP/1.1\r\nHost: a%41-b_c.~x:80\r\n\r\n", HTTP_M_GET, "/", 1,
       B_NONE, 0, true, false, "a%41-b_c.~x:80", 1),
    OK_GET("obs-text value", "X-Name: caf\xc3\xa9 \xff\r\n", B_NONE, 0, true, false, 2),
    OK_GET("empty value", "X-Empty:\r\nX-Blank:   \r\n", B_NONE, 0, true, false, 3),
    OK_GET("tab inside value", "X-T: a\tb\r\n", B_NONE, 0, true, false, 2),
    OK_GET("long name", "X-A-Very-Long-Header-Name-With-!#$%&'*+-.^_`|~-Chars: v\r\n", B_NONE, 0,
           true, false, 2),
    {.name = "pipelined bytes after head",
     .raw = "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\n",
     .want = 28,
     .method = HTTP_M_GET,
     .target = "/a",
     .minor = 1,
     .keep_alive = true,
     .host = "h",
     .n_headers = 1},
    {.name = "body after head",
     .raw = "PUT /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc",
     .want = 47,
     .method = HTTP_M_PUT,
     .target = "/a",
     .minor = 1,
     .body = B_LEN,
     .content_length = 3,
     .keep_alive = true,
     .host = "h",
     .n_headers = 2},

    /* ---- incomplete but valid so far ---- */
    INCOMPLETE("empty", ""),
    INCOMPLETE("empty line", "\r\n"),
    INCOMPLETE("lone CR", "\r"),
    INCOMPLETE("method", "GET"),
    INCOMPLETE("version", "GET / HTT"),
    INCOMPLETE("request line CR", "GET / HTTP/1.1\r"),
    INCOMPLETE("one field", "GET / HTTP/1.1\r\nHost: h\r\n"),
    INCOMPLETE("final CR", "GET / HTTP/1.1\r\nHost: h\r\n\r"),
    INCOMPLETE("version 2 not yet known", "GET / HTTP/2.0\r"),

    /* ---- request line ---- */
    BAD("double SP after method", "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
    BAD("double SP after target", "GET /  HTTP/1.1\r\nHost: h\r\n\r\n", 400),
    BAD("trailing SP", "GET / HTTP/1.1 \r\nHost: h\r\n\r\n", 400),
    BAD("HTAB separator", "GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n", 400),
    BAD("leading SP", " GET / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
    BAD("http/0.9", "GET /\r\n\r\n", 400),
    BAD("no target", "GET HTTP/1.1\r\nHost: h\r\n\r\n", 400),
    BAD("lowercase version", "GET / http/1.1\r\nHost: h\r\n\r\n", 400),
    BAD("version 1", "GET / HTTP/1\r\nHost: h\r\n\r\n", 400),
    BAD("version 11.1", "GET / HTTP/11.1\r\nHost: h\r\n\r\n", 400),
    BAD("version 1.1x", "GET / HTTP/1.1x\r\nHost: h\r\n\r\n", 400),
    BAD("version 1.a", "GET / HTTP/1.a\r\nHost: h\r\n\r\n", 400),
    BAD("version 2.0", "GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505),
    BAD("version 1.2", "GET / HTTP/1.2\r\nHost: h\r\n\r\n", 505),
    BAD("version 0.9", "GET / HTTP/0.9\r\n\r\n", 505),
    BAD("version 3.0 early", "GET / HTTP/3.0\r\n", 505),
    BAD("method non-tchar", "GE(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
    BAD("method colon", "GET: / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
    BAD("target CTL", "GET /a\x01 HTTP/1.1\r\nHost: h\r\n\r\n", 400),
    BAD("target DEL", "GET /a\x7f HTTP/1.1\r\nHost: h\r\n\r\n", 400),
    BAD("target 8-bit", "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n", 400),
    BAD("target tab", "GET /a\tb HTTP/1.1\r\nHost: h\r\n\r\n", 400),
    BADN("target NUL", "GET /a\0 HTTP/1.1\r\nHost: h\r\n\r\n", 400),
    BAD("request line bare LF", "GET / HTTP/1.1\nHost: h\r\n\r\n", 400),
    BAD("request line bare CR", "GET / HTTP/1.1\rHost: h\r\n\r\n", 400),
    BAD("leading bare LF", "\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
    BAD("9 leading empty lines",
        "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
    BADN("leading NUL", "\0GET / HTTP/1.1\r\nHost: h\r\n\r\n", 400),

    /* ---- field lines ---- */
    BAD("field bare LF", "GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n", 400),
    BAD("final bare LF", "GET / HTTP/1.1\r\nHost: h\r\n\n", 400),
    BAD("all bare LF", "GET / HTTP/1.1\nHost: h\n\n", 400),
    BAD("field bare CR", "GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n", 400),
    BAD("final bare CR", "GET / HTTP/1.1\r\nHost: h\r\n\rX\r\n", 400),
    BAD("space before colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400),
    BAD("tab before colon", "GET / HTTP/1.1\r\nHost\t: h\r\n\r\n", 400),
    BAD("empty name", "GET / HTTP/1.1\r\nHost: h\r\n: x\r\n\r\n", 400),
    BAD("name non-tchar", "GET / HTTP/1.1\r\nHost: h\r\nX\"y: z\r\n\r\n", 400),
    BAD("no colon", "GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", 400),
    BAD("obs-fold", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", 400),
    BAD("obs-fold tab", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n", 400),
    BAD("space before first field", "GET / HTTP/1.1\r\n Host: h\r\n\r\n", 400),
    BAD("tab before first field", "GET / HTTP/1.1\r\n\tHost: h\r\n\r\n", 400),
    BADN("NUL in value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n", 400),
    BADN("NUL in name", "GET / HTTP/1.1\r\nHost: h\r\nX\0: b\r\n\r\n", 400),
    BAD("CTL in value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\x1b[0m\r\n\r\n", 400),
    BAD("DEL in value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\x7f\r\n\r\n", 400),
    BAD("VT in value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\vb\r\n\r\n", 400),

    /* ---- Host (RFC 9112 §3.2) ---- */
    BAD("1.1 without host", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", 400),
    BAD("duplicate host", "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400),
    BAD("duplicate host 1.0", "GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n", 400),
    BAD("host with space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400),
    BAD("host with slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400),
    BAD("host with userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", 400),
    BAD("host bad port", "GET / HTTP/1.1\r\nHost: a:80x\r\n\r\n", 400),
    BAD("host open bracket", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400),
    BAD("host bad pct", "GET / HTTP/1.1\r\nHost: a%4\r\n\r\n", 400),

    /* ---- Content-Length (RFC 9110 §8.6, RFC 9112 §6.3) ---- */
    BAD_GET("length plus", "Content-Length: +5\r\n", 400),
    BAD_GET("length minus", "Content-Length: -1\r\n", 400),
    BAD_GET("length list", "Content-Length: 1, 2\r\n", 400),
    BAD_GET("length equal list", "Content-Length: 5, 5\r\n", 400),
    BAD_GET("length two numbers", "Content-Length: 5 5\r\n", 400),
    BAD_GET("length hex", "Content-Length: 0x10\r\n", 400),
    BAD_GET("length empty", "Content-Length:\r\n", 400),
    BAD_GET("length 2^63", "Content-Length: 9223372036854775808\r\n", 400),
    BAD_GET("length 2^64", "Content-Length: 18446744073709551616\r\n", 400),
    BAD_GET("length huge", "Content-Length: 99999999999999999999999999999\r\n", 400),
    BAD_GET("duplicate length equal", "Content-Length: 5\r\nContent-Length: 5\r\n", 400),
    BAD_GET("duplicate length differ", "Content-Length: 1\r\ncontent-length: 2\r\n", 400),
    BAD_GET("duplicate length case", "content-length: 0\r\nCONTENT-LENGTH: 0\r\n", 400),

    /* ---- Transfer-Encoding and smuggling (RFC 9112 §6.1, §6.3, §11.2) ---- */
    BAD_POST("CL then TE", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", 400),
    BAD_POST("TE then CL", "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", 400),
    BAD_POST("TE with CL 0", "Transfer-Encoding: chunked\r\nContent-Length: 0\r\n", 400),
    BAD_POST("chunked then identity", "Transfer-Encoding: chunked, identity\r\n", 400),
    BAD_POST("identity only", "Transfer-Encoding: identity\r\n", 400),
    BAD_POST("gzip only", "Transfer-Encoding: gzip\r\n", 400),
    BAD_POST("chunked then gzip", "Transfer-Encoding: chunked, gzip\r\n", 400),
    BAD_POST("gzip then chunked", "Transfer-Encoding: gzip, chunked\r\n", 501),
    BAD_POST("gzip line then chunked line",
             "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", 501),
    BAD_POST("chunked line then gzip line",
             "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n", 400),
    BAD_POST("chunked twice", "Transfer-Encoding: chunked, chunked\r\n", 400),
    BAD_POST("chunked twice lines", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
             400),
    BAD_POST("space before colon TE", "Transfer-Encoding : chunked\r\n", 400),
    BAD_POST("xchunked", "Transfer-Encoding: xchunked\r\n", 400),
    BAD_POST("chunkedx", "Transfer-Encoding: chunkedx\r\n", 400),
    BAD_POST("chunked with params", "Transfer-Encoding: chunked;q=1\r\n", 400),
    BAD_POST("quoted chunked", "Transfer-Encoding: \"chunked\"\r\n", 400),
    BAD_POST("TE empty", "Transfer-Encoding:\r\n", 400),
    BAD_POST("TE junk", "Transfer-Encoding: chunked @\r\n", 400),
    BAD_POST("TE obs-fold", "Transfer-Encoding:\r\n chunked\r\n", 400),
    BAD_POST("TE obs-fold after value", "Transfer-Encoding: gzip,\r\n chunked\r\n", 400),
    BAD_POST("TE bare LF", "Transfer-Encoding: chunked\nContent-Length: 5\r\n", 400),
    BADN("TE NUL", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\0\r\n\r\n", 400),
    BAD("TE in 1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
    BAD("TE vertical tab", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\vchunked\r\n\r\n",
        400),
    BAD_POST("gzip with params then chunked", "Transfer-Encoding: gzip;level=\"9,x\", chunked\r\n",
             501),
    BAD("whitespace before first line TE",
        "POST / HTTP/1.1\r\n Transfer-Encoding: chunked\r\nHost: h\r\n\r\n", 400),
};

#define N_CASES (sizeof(cases) / sizeof(cases[0]))

static size_t case_len(const struct pcase *c)
{
    return c->len ? c->len : strlen(c->raw);
}

static int case_want(const struct pcase *c)
{
    return c->want == WHOLE ? (int)case_len(c) : c->want;
}

static bool iov_is(struct iov v, const char *s)
{
    return v.len == strlen(s) && (v.len == 0 || memcmp(v.base, s, v.len) == 0);
}

static void check_fields(const struct pcase *c, const uint8_t *buf, const struct http_request *r)
{
    cr_expect_eq(r->method, c->method, "%s: method %d", c->name, r->method);
    cr_expect(iov_is(r->target, c->target), "%s: target %.*s", c->name, (int)r->target.len,
              (const char *)r->target.base);
    cr_expect_eq(r->version_minor, c->minor, "%s: minor", c->name);
    cr_expect_eq(r->body, c->body, "%s: body kind %d", c->name, r->body);
    if (c->body == HTTP_BODY_LENGTH)
        cr_expect_eq(r->content_length, c->content_length, "%s: content_length", c->name);
    cr_expect_eq(r->keep_alive, c->keep_alive, "%s: keep_alive", c->name);
    cr_expect_eq(r->expect_continue, c->expect_continue, "%s: expect_continue", c->name);
    cr_expect(iov_is(r->host, c->host), "%s: host %.*s", c->name, (int)r->host.len,
              (const char *)r->host.base);
    cr_expect_eq(r->n_headers, c->n_headers, "%s: n_headers %zu", c->name, r->n_headers);
    /* Every slice points into the caller's buffer. */
    cr_expect(r->target.base > buf && r->target.base < buf + case_len(c), "%s: target slice",
              c->name);
    for (size_t i = 0; i < r->n_headers; i++) {
        cr_expect(r->headers[i].name.base >= buf, "%s: header slice", c->name);
        cr_expect(r->headers[i].value.base + r->headers[i].value.len <= buf + case_len(c),
                  "%s: value slice", c->name);
    }
}

/* A private heap copy of exactly the input, so ASan sees any read past its end. */
static uint8_t *dup_input(const struct pcase *c)
{
    size_t n = case_len(c);
    uint8_t *buf = malloc(n ? n : 1);

    cr_assert(buf);
    memcpy(buf, c->raw, n);
    return buf;
}

/* All at once. */
static void run_whole(const struct pcase *c, const uint8_t *buf)
{
    struct http_parser p;
    struct http_request req;

    http_parser_init(&p);
    int r = http_parse_request(&p, buf, case_len(c), NULL, &req);
    cr_expect_eq(r, case_want(c), "%s: got %d, want %d", c->name, r, case_want(c));
    if (r > 0 && r == case_want(c))
        check_fields(c, buf, &req);
}

/* Fed one byte at a time: 0 until the outcome is known, then exactly the outcome. */
static void run_bytewise(const struct pcase *c, const uint8_t *buf)
{
    size_t n = case_len(c);
    int want = case_want(c);
    struct http_parser p;
    struct http_request req;
    int r = 0;
    size_t at = 0;

    http_parser_init(&p);
    while (at < n) {
        at++;
        r = http_parse_request(&p, buf, at, NULL, &req);
        if (r != 0)
            break;
    }
    cr_expect_eq(r, want, "%s: got %d after %zu bytes, want %d", c->name, r, at, want);
    if (want > 0) {
        cr_expect_eq(at, (size_t)want, "%s: completed after %zu bytes", c->name, at);
        if (r == want)
            check_fields(c, buf, &req);
    }
}

/* Cut in two at every position: the second call resumes from whatever state the first left. */
static void run_split(const struct pcase *c, const uint8_t *buf)
{
    size_t n = case_len(c);
    int want = case_want(c);

    for (size_t k = 0; k <= n; k++) {
        struct http_parser p;
        struct http_request req;

        http_parser_init(&p);
        int r = http_parse_request(&p, buf, k, NULL, &req);
        if (r == 0)
            r = http_parse_request(&p, buf, n, NULL, &req);
        cr_expect_eq(r, want, "%s: cut at %zu: got %d, want %d", c->name, k, r, want);
        if (r > 0 && r == want)
            check_fields(c, buf, &req);
    }
}

ParameterizedTestParameters(parse, request)
{
    return cr_make_param_array(struct pcase, cases, N_CASES);
}

/* One process per row (criterion forks per test; sanitizer builds pay for each fork). */
ParameterizedTest(struct pcase *c, parse, request)
{
    uint8_t *buf = dup_input(c);

    run_whole(c, buf);
    run_bytewise(c, buf);
    run_split(c, buf);
    free(buf);
}

Test(parse, methods)
{
    static const struct {
        const char *name;
        enum http_method m;
    } known[] = {
        {"GET", HTTP_M_GET},           {"HEAD", HTTP_M_HEAD},           {"POST", HTTP_M_POST},
        {"PUT", HTTP_M_PUT},           {"DELETE", HTTP_M_DELETE},       {"OPTIONS", HTTP_M_OPTIONS},
        {"TRACE", HTTP_M_TRACE},       {"CONNECT", HTTP_M_CONNECT},     {"PATCH", HTTP_M_PATCH},
        {"PROPFIND", HTTP_M_PROPFIND}, {"PROPPATCH", HTTP_M_PROPPATCH}, {"MKCOL", HTTP_M_MKCOL},
        {"COPY", HTTP_M_COPY},         {"MOVE", HTTP_M_MOVE},           {"LOCK", HTTP_M_LOCK},
        {"UNLOCK", HTTP_M_UNLOCK},     {"REPORT", HTTP_M_REPORT},       {"SEARCH", HTTP_M_SEARCH},
        {"Get", HTTP_M_OTHER},         {"GETS", HTTP_M_OTHER},          {"GE", HTTP_M_OTHER},
        {"BREW", HTTP_M_OTHER},        {"propfind", HTTP_M_OTHER},
    };
    char raw[128];

    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        struct http_parser p;
        struct http_request req;
        int n = snprintf(raw, sizeof(raw), "%s /x HTTP/1.1\r\nHost: h\r\n\r\n", known[i].name);

        http_parser_init(&p);
        cr_expect_eq(http_parse_request(&p, (const uint8_t *)raw, (size_t)n, NULL, &req), n);
        cr_expect_eq(req.method, known[i].m, "%s", known[i].name);
        cr_expect(iov_is(req.method_name, known[i].name), "%s: method_name", known[i].name);
        if (known[i].m != HTTP_M_OTHER)
            cr_expect_str_eq(http_method_name(known[i].m), known[i].name);
    }
    cr_expect_str_eq(http_method_name(HTTP_M_OTHER), "");
    cr_expect_str_eq(http_method_name((enum http_method)1000), "");
}

Test(parse, header_find_and_trim)
{
    static const char raw[] = "GET / HTTP/1.1\r\nHost: h\r\nX-Two:  a  b \t\r\nx-two: second\r\n"
                              "X-Empty: \t \r\n\r\n";
    struct http_parser p;
    struct http_request req;

    http_parser_init(&p);
    cr_assert_eq(http_parse_request(&p, (const uint8_t *)raw, sizeof(raw) - 1, NULL, &req),
                 (int)sizeof(raw) - 1);
    cr_assert_eq(req.n_headers, 4);
    const struct http_header *h = http_header_find(&req, "x-TWO");
    cr_assert(h);
    cr_expect(iov_is(h->name, "X-Two"), "case preserved");
    cr_expect(iov_is(h->value, "a  b"), "OWS trimmed, inner spaces kept: '%.*s'", (int)h->value.len,
              (const char *)h->value.base);
    h = http_header_find(&req, "X-Empty");
    cr_assert(h);
    cr_expect_eq(h->value.len, 0);
    cr_expect_null(http_header_find(&req, "X-Tw"));
    cr_expect_null(http_header_find(&req, "Content-Length"));
}

Test(parse, error_is_sticky)
{
    static const char raw[] = "GET / HTTP/1.1\r\nHost : h\r\n\r\n";
    struct http_parser p;
    struct http_request req;

    http_parser_init(&p);
    cr_expect_eq(http_parse_request(&p, (const uint8_t *)raw, sizeof(raw) - 1, NULL, &req), -400);
    cr_expect_eq(http_parse_request(&p, (const uint8_t *)raw, sizeof(raw) - 1, NULL, &req), -400);
}

Test(parse, done_is_repeatable)
{
    static const char raw[] = "GET /a HTTP/1.1\r\nHost: h\r\n\r\nextra";
    struct http_parser p;
    struct http_request req;

    http_parser_init(&p);
    cr_expect_eq(http_parse_request(&p, (const uint8_t *)raw, sizeof(raw) - 1, NULL, &req), 28);
    memset(&req, 0, sizeof(req));
    cr_expect_eq(http_parse_request(&p, (const uint8_t *)raw, sizeof(raw) - 1, NULL, &req), 28);
    cr_expect(iov_is(req.target, "/a"));
}

Test(parse, pipelined_requests)
{
    static const char raw[] = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"
                              "\r\nHEAD /2 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
    const uint8_t *buf = (const uint8_t *)raw;
    size_t len = sizeof(raw) - 1;
    struct http_parser p;
    struct http_request req;

    http_parser_init(&p);
    int n = http_parse_request(&p, buf, len, NULL, &req);
    cr_assert_eq(n, 28);
    cr_expect(iov_is(req.target, "/1"));
    http_parser_init(&p);
    int m = http_parse_request(&p, buf + n, len - (size_t)n, NULL, &req);
    cr_assert_eq(m, (int)(len - (size_t)n));
    cr_expect_eq(req.method, HTTP_M_HEAD);
    cr_expect(iov_is(req.target, "/2"));
    cr_expect_not(req.keep_alive);
}

/* ---- limits ---- */

/* "GET <target> HTTP/1.1\r\nHost: h\r\n" + padding field to make the head exactly total bytes. */
static char *head_of_size(size_t total)
{
    static const char start[] = "GET / HTTP/1.1\r\nHost: h\r\nX-Pad: ";
    size_t fixed = sizeof(start) - 1 + 4; /* + "\r\n\r\n" */
    char *s = malloc(total + 1);

    cr_assert(s && total > fixed);
    memcpy(s, start, sizeof(start) - 1);
    memset(s + sizeof(start) - 1, 'p', total - fixed);
    memcpy(s + total - 4, "\r\n\r\n", 4);
    s[total] = '\0';
    return s;
}

static int parse_str(const char *s, size_t len, const struct http_limits *lim)
{
    struct http_parser p;
    struct http_request req;

    http_parser_init(&p);
    return http_parse_request(&p, (const uint8_t *)s, len, lim, &req);
}

/* Byte at a time; returns the result and the length at which it came in *at. */
static int parse_bytewise(const char *s, size_t len, const struct http_limits *lim, size_t *at)
{
    struct http_parser p;
    struct http_request req;
    int r = 0;

    http_parser_init(&p);
    for (*at = 1; *at <= len; (*at)++) {
        r = http_parse_request(&p, (const uint8_t *)s, *at, lim, &req);
        if (r != 0)
            return r;
    }
    return r;
}

Test(parse, head_limit_default)
{
    size_t max = http_limits_default.max_head;
    char *ok = head_of_size(max);
    char *over = head_of_size(max + 1);
    size_t at;

    cr_expect_eq(max, 16384);
    cr_expect_eq(parse_str(ok, max, NULL), (int)max);
    cr_expect_eq(parse_str(over, max + 1, NULL), -431);
    /* Refused as soon as max_head bytes are in without the end of the head. */
    cr_expect_eq(parse_str(over, max, NULL), -431);
    cr_expect_eq(parse_str(over, max - 1, NULL), 0);
    cr_expect_eq(parse_bytewise(over, max + 1, NULL, &at), -431);
    cr_expect_eq(at, max);
    cr_expect_eq(parse_bytewise(ok, max, NULL, &at), (int)max);
    free(ok);
    free(over);
}

Test(parse, head_limit_small)
{
    const struct http_limits lim = {.max_head = 60, .max_target = 50, .max_headers = 10};
    char *ok = head_of_size(60);
    char *over = head_of_size(61);

    cr_expect_eq(parse_str(ok, 60, &lim), 60);
    cr_expect_eq(parse_str(over, 61, &lim), -431);
    /* Leading empty lines count toward the limit. */
    char buf[80];
    memcpy(buf, "\r\n", 2);
    memcpy(buf + 2, ok, 60);
    cr_expect_eq(parse_str(buf, 62, &lim), -431);
    free(ok);
    free(over);
}

static char *request_with_target(size_t target_len, bool complete)
{
    char *s = malloc(target_len + 64);

    cr_assert(s);
    s[0] = '\0';
    strcpy(s, "GET /");
    memset(s + 5, 'a', target_len - 1);
    s[4 + target_len] = '\0';
    if (complete)
        strcat(s, " HTTP/1.1\r\nHost: h\r\n\r\n");
    return s;
}

Test(parse, target_limit_default)
{
    size_t max = http_limits_default.max_target;
    char *ok = request_with_target(max, true);
    char *over = request_with_target(max + 1, true);
    char *partial = request_with_target(max + 1, false);
    size_t at;

    cr_expect_eq(max, 8192);
    cr_expect_eq(parse_str(ok, strlen(ok), NULL), (int)strlen(ok));
    cr_expect_eq(parse_str(over, strlen(over), NULL), -414);
    /* Early: the request line is not complete yet. */
    cr_expect_eq(parse_str(partial, strlen(partial), NULL), -414);
    cr_expect_eq(parse_str(partial, strlen(partial) - 1, NULL), 0);
    cr_expect_eq(parse_bytewise(over, strlen(over), NULL, &at), -414);
    cr_expect_eq(at, 4 + max + 1, "414 at the first byte past the limit, got %zu", at);
    free(ok);
    free(over);
    free(partial);
}

Test(parse, target_limit_small)
{
    const struct http_limits lim = {.max_head = 1000, .max_target = 8, .max_headers = 10};

    static const char ok[] = "GET /2345678 HTTP/1.1\r\nHost: h\r\n\r\n";
    static const char over[] = "GET /23456789 HTTP/1.1\r\nHost: h\r\n\r\n";

    cr_expect_eq(parse_str(ok, sizeof(ok) - 1, &lim), (int)sizeof(ok) - 1);
    cr_expect_eq(parse_str(over, sizeof(over) - 1, &lim), -414);
    cr_expect_eq(parse_str("GET /23456789", 13, &lim), -414);
    cr_expect_eq(parse_str("GET /2345678", 12, &lim), 0);
}

static char *request_with_fields(size_t n_fields)
{
    char *s = malloc(64 + n_fields * 16);
    size_t len = 0;

    cr_assert(s);
    len += (size_t)sprintf(s + len, "GET / HTTP/1.1\r\nHost: h\r\n");
    for (size_t i = 1; i < n_fields; i++)
        len += (size_t)sprintf(s + len, "X-%zu: v\r\n", i);
    strcpy(s + len, "\r\n");
    return s;
}

Test(parse, field_count_limit)
{
    const struct http_limits lim = {.max_head = 100000, .max_target = 100, .max_headers = 5};
    const struct http_limits big = {.max_head = 100000, .max_target = 100, .max_headers = 5000};
    struct http_parser p;
    struct http_request req;

    char *s = request_with_fields(5);
    http_parser_init(&p);
    cr_expect_eq(http_parse_request(&p, (const uint8_t *)s, strlen(s), &lim, &req), (int)strlen(s));
    cr_expect_eq(req.n_headers, 5);
    free(s);

    s = request_with_fields(6);
    cr_expect_eq(parse_str(s, strlen(s), &lim), -431);
    free(s);

    s = request_with_fields(HTTP_MAX_HEADERS);
    cr_expect_eq(parse_str(s, strlen(s), NULL), (int)strlen(s));
    free(s);

    /* The array bound wins over a larger configured limit. */
    s = request_with_fields(HTTP_MAX_HEADERS + 1);
    cr_expect_eq(parse_str(s, strlen(s), NULL), -431);
    cr_expect_eq(parse_str(s, strlen(s), &big), -431);
    free(s);
}

Test(parse, limits_default_values)
{
    cr_expect_eq(http_limits_default.max_head, 16384);
    cr_expect_eq(http_limits_default.max_target, 8192);
    cr_expect_eq(http_limits_default.max_headers, 100);
}

Test(iov, eq_nocase)
{
    cr_expect(iov_eq_nocase(IOV_LIT("Content-Length"), "content-length"));
    cr_expect(iov_eq_nocase(IOV_LIT("HOST"), "host"));
    cr_expect(iov_eq_nocase(IOV_LIT(""), ""));
    cr_expect_not(iov_eq_nocase(IOV_LIT("Host"), "hosts"));
    cr_expect_not(iov_eq_nocase(IOV_LIT("Hosts"), "host"));
    cr_expect_not(iov_eq_nocase(IOV_LIT("h@st"), "h`st"), "only letters fold");
    cr_expect_not(iov_eq_nocase(IOV_LIT("[x]"), "{x}"), "only letters fold");
    cr_expect_not(iov_eq_nocase(IOV_LIT("\xc3\x89"), "\xc3\xa9"), "ASCII only");
}
