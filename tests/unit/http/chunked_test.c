/* SPDX-License-Identifier: MIT */
/*
 * Tests for server/http/chunked.c.
 *
 * A table of bodies with the expected outcome (done after N bytes, still waiting, or 400) and the
 * decoded data. Each row is decoded whole, cut in two at every position, and fed one byte at a
 * time, by a driver that behaves like a connection: it passes the unconsumed rest again until
 * the decoder has consumed it all. Every way must give the same data and outcome. Limits that
 * need long inputs have their own tests. Strings live inside the rows because criterion runs each
 * parameter in a fresh process.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chunked.h"

#define WAITING 0 /* valid so far, everything consumed, not done */
#define ERR (-400)

struct ccase {
    char name[64];
    char in[300];
    size_t len; /* 0: strlen(in) */
    long want;  /* bytes consumed when done (> 0), WAITING, or ERR */
    char data[128];
    size_t data_len; /* 0: strlen(data) */
};

#define DONE_AT(nm, i, n, d)                                                                       \
    {                                                                                              \
        .name = nm, .in = i, .want = n, .data = d                                                  \
    }
/* Done, and the whole input is the body. */
#define DONE(nm, i, d)                                                                             \
    {                                                                                              \
        .name = nm, .in = i, .want = sizeof(i) - 1, .data = d                                      \
    }
#define WAIT(nm, i, d)                                                                             \
    {                                                                                              \
        .name = nm, .in = i, .want = WAITING, .data = d                                            \
    }
#define BAD(nm, i)                                                                                 \
    {                                                                                              \
        .name = nm, .in = i, .want = ERR                                                           \
    }

static struct ccase cases[] = {
    DONE("empty body", "0\r\n\r\n", ""),
    DONE("one chunk", "5\r\nhello\r\n0\r\n\r\n", "hello"),
    DONE("three chunks", "3\r\nabc\r\n4\r\ndefg\r\n1\r\nh\r\n0\r\n\r\n", "abcdefgh"),
    DONE("hex sizes", "A\r\n0123456789\r\na\r\nabcdefghij\r\n0\r\n\r\n", "0123456789abcdefghij"),
    DONE("hex upper", "1F\r\n0123456789012345678901234567890\r\n0\r\n\r\n",
         "0123456789012345678901234567890"),
    DONE("leading zeros", "0005\r\nhello\r\n000\r\n\r\n", "hello"),
    DONE("16 digits", "0000000000000003\r\nabc\r\n0\r\n\r\n", "abc"),
    DONE("data with CRLF", "4\r\n\r\n\r\n\r\n0\r\n\r\n", "\r\n\r\n"),
    DONE("data looks like chunk", "5\r\n0\r\n\r\n\r\n0\r\n\r\n", "0\r\n\r\n"),
    {.name = "data with NUL",
     .in = "3\r\na\0b\r\n0\r\n\r\n",
     .len = 13,
     .want = 13,
     .data = "a\0b",
     .data_len = 3},
    DONE("extension", "5;name=value\r\nhello\r\n0;last\r\n\r\n", "hello"),
    DONE("extension BWS", "5 \t;a=b\r\nhello\r\n0  ;x\r\n\r\n", "hello"),
    DONE("extension quoted", "5;a=\"x;y\\\"z\"\r\nhello\r\n0\r\n\r\n", "hello"),
    DONE("several extensions", "5;a;b=c ; d = \"e\"\r\nhello\r\n0\r\n\r\n", "hello"),
    DONE("extension obs-text", "5;a=\xc3\xa9\r\nhello\r\n0\r\n\r\n", "hello"),
    DONE("trailer", "5\r\nhello\r\n0\r\nX-Checksum: abc\r\n\r\n", "hello"),
    DONE("trailers", "0\r\nA: 1\r\nB-b: two words\r\nC:\r\n\r\n", ""),
    DONE("trailer obs-text", "0\r\nX: caf\xc3\xa9\t\r\n\r\n", ""),
    DONE_AT("next request not consumed", "0\r\n\r\nGET / HTTP/1.1\r\n", 5, ""),
    DONE_AT("next chunk-like bytes not consumed", "2\r\nab\r\n0\r\n\r\n5\r\nhello\r\n", 12, "ab"),
    DONE_AT("stray CRLF not consumed", "0\r\n\r\n\r\n", 5, ""),

    WAIT("nothing", "", ""),
    WAIT("size only", "5", ""),
    WAIT("size CR", "5\r", ""),
    WAIT("partial data", "5\r\nhel", "hel"),
    WAIT("data complete", "5\r\nhello", "hello"),
    WAIT("after data CR", "5\r\nhello\r", "hello"),
    WAIT("last chunk", "5\r\nhello\r\n0\r\n", "hello"),
    WAIT("in trailer", "0\r\nX: y\r\n", ""),
    WAIT("final CR", "0\r\n\r", ""),
    WAIT("largest size", "7fffffffffffffff\r\nab", "ab"),
    WAIT("in extension", "5;a=b", ""),

    BAD("empty size", "\r\nhello\r\n0\r\n\r\n"),
    BAD("bad hex", "g\r\n"),
    BAD("hex then junk", "5g\r\nhello\r\n0\r\n\r\n"),
    BAD("minus", "-1\r\n"),
    BAD("0x prefix", "0x5\r\nhello\r\n0\r\n\r\n"),
    BAD("plus", "+5\r\nhello\r\n0\r\n\r\n"),
    BAD("leading space", " 5\r\nhello\r\n0\r\n\r\n"),
    BAD("17 digits", "00000000000000001\r\n"),
    BAD("2^63", "8000000000000000\r\n"),
    BAD("2^64-1", "ffffffffffffffff\r\n"),
    BAD("2^64", "10000000000000000\r\n"),
    BAD("trailing space no ext", "5 \r\nhello\r\n0\r\n\r\n"),
    BAD("ws then junk", "5 x\r\nhello\r\n0\r\n\r\n"),
    BAD("size bare LF", "5\nhello\r\n0\r\n\r\n"),
    BAD("size bare CR", "5\rhello\r\n0\r\n\r\n"),
    BAD("ext bare LF", "5;a\nhello\r\n0\r\n\r\n"),
    BAD("ext CTL", "5;a\x01\r\nhello\r\n0\r\n\r\n"),
    BAD("ext DEL", "5;a\x7f\r\nhello\r\n0\r\n\r\n"),
    BAD("data too long", "5\r\nhelloX\r\n0\r\n\r\n"),
    BAD("data too short", "5\r\nhell\r\n0\r\n\r\n"),
    BAD("data bare LF", "5\r\nhello\n0\r\n\r\n"),
    BAD("data CR CR", "5\r\nhello\r\r0\r\n\r\n"),
    BAD("trailer space before colon", "0\r\nX : y\r\n\r\n"),
    BAD("trailer obs-fold", "0\r\nX: y\r\n z\r\n\r\n"),
    BAD("trailer leading space", "0\r\n X: y\r\n\r\n"),
    BAD("trailer no colon", "0\r\nNoColon\r\n\r\n"),
    BAD("trailer empty name", "0\r\n: y\r\n\r\n"),
    BAD("trailer bare LF", "0\r\nX: a\nb\r\n\r\n"),
    BAD("trailer CTL", "0\r\nX: a\x01\r\n\r\n"),
    BAD("trailer bare CR", "0\r\nX: a\rb\r\n\r\n"),
    BAD("final bare LF", "0\r\n\n"),
    BAD("final CR CR", "0\r\n\r\r"),
    {.name = "NUL in size", .in = "5\0\r\nhello\r\n0\r\n\r\n", .len = 16, .want = ERR},
    {.name = "NUL in trailer", .in = "0\r\nX: \0\r\n\r\n", .len = 11, .want = ERR},
};

#define N_CASES (sizeof(cases) / sizeof(cases[0]))

struct outcome {
    long result; /* consumed bytes when done, WAITING, or ERR */
    size_t consumed;
    uint8_t *data;
    size_t data_len;
};

/*
 * Decode in[0..len) arriving in pieces that end at cuts[0] < cuts[1] < ... (the last is len).
 * Like a connection, each arrival makes the unconsumed rest available to the decoder again.
 */
static struct outcome decode_pieces(const uint8_t *in, size_t len, const size_t *cuts,
                                    size_t n_cuts)
{
    struct http_chunked c;
    struct outcome o = {.result = WAITING, .data = malloc(len + 1)};
    size_t pos = 0;

    cr_assert(o.data);
    http_chunked_init(&c);
    for (size_t k = 0; k < n_cuts && o.result == WAITING; k++) {
        size_t avail = cuts[k];

        while (pos < avail) {
            struct iov d;
            long r = http_chunked_decode(&c, in + pos, avail - pos, &d);

            if (r < 0) {
                cr_expect_eq(r, -400);
                cr_expect_eq(c.state, CHUNKED_ERROR);
                o.result = ERR;
                break;
            }
            cr_assert_leq((size_t)r, avail - pos, "consumed more than given");
            cr_assert_leq(d.len, (size_t)r);
            if (d.len > 0) {
                /* The slice is the tail of what was consumed. */
                cr_assert_eq(d.base + d.len, in + pos + r, "data is not the consumed tail");
                memcpy(o.data + o.data_len, d.base, d.len);
                o.data_len += d.len;
            }
            pos += (size_t)r;
            if (http_chunked_done(&c)) {
                o.result = (long)pos;
                break;
            }
            cr_assert(r > 0, "no progress with %zu bytes available", avail - pos);
        }
    }
    o.consumed = pos;
    if (o.result == WAITING)
        cr_expect_eq(pos, len, "waiting but not all input consumed");
    return o;
}

static size_t in_len(const struct ccase *c)
{
    return c->len ? c->len : strlen(c->in);
}

static void check_outcome(const struct ccase *c, struct outcome o, const char *how)
{
    size_t dl = c->data_len ? c->data_len : strlen(c->data);

    cr_expect_eq(o.result, c->want, "%s (%s): result %ld, want %ld", c->name, how, o.result,
                 c->want);
    if (c->want != ERR) {
        cr_expect_eq(o.data_len, dl, "%s (%s): data length %zu, want %zu", c->name, how, o.data_len,
                     dl);
        cr_expect(o.data_len == dl && memcmp(o.data, c->data, dl) == 0, "%s (%s): data differs",
                  c->name, how);
    }
    free(o.data);
}

/* A heap copy of exactly the input, so ASan sees any read past its end. */
static uint8_t *dup_in(const struct ccase *c)
{
    size_t n = in_len(c);
    uint8_t *p = malloc(n ? n : 1);

    cr_assert(p);
    memcpy(p, c->in, n);
    return p;
}

static void run_whole(const struct ccase *c, const uint8_t *in)
{
    size_t n = in_len(c);

    check_outcome(c, decode_pieces(in, n, &n, 1), "whole");
}

static void run_every_split(const struct ccase *c, const uint8_t *in)
{
    size_t n = in_len(c);

    for (size_t k = 0; k <= n; k++) {
        size_t cuts[2] = {k, n};
        char how[32];

        snprintf(how, sizeof(how), "cut at %zu", k);
        check_outcome(c, decode_pieces(in, n, cuts, 2), how);
    }
}

static void run_bytewise(const struct ccase *c, const uint8_t *in)
{
    size_t n = in_len(c);
    size_t *cuts = malloc((n + 1) * sizeof(*cuts));

    cr_assert(cuts);
    for (size_t k = 0; k < n; k++)
        cuts[k] = k + 1;
    check_outcome(c, decode_pieces(in, n, cuts, n), "bytewise");
    free(cuts);
}

ParameterizedTestParameters(chunked, body)
{
    return cr_make_param_array(struct ccase, cases, N_CASES);
}

/* One process per row (criterion forks per test; sanitizer builds pay for each fork). */
ParameterizedTest(struct ccase *c, chunked, body)
{
    uint8_t *in = dup_in(c);

    run_whole(c, in);
    run_every_split(c, in);
    run_bytewise(c, in);
    free(in);
}

Test(chunked, done_consumes_nothing_more)
{
    static const char body[] = "3\r\nabc\r\n0\r\n\r\nPUT";
    const uint8_t *in = (const uint8_t *)body;
    struct http_chunked c;
    struct iov d;
    long pos = 0;

    http_chunked_init(&c);
    cr_assert_eq(http_chunked_decode(&c, in, sizeof(body) - 1, &d), 6);
    cr_expect_eq(d.len, 3);
    pos = 6;
    cr_assert_eq(http_chunked_decode(&c, in + pos, sizeof(body) - 1 - (size_t)pos, &d), 7);
    cr_expect_eq(d.len, 0);
    cr_expect(http_chunked_done(&c));
    pos += 7;
    cr_expect_str_eq((const char *)in + pos, "PUT");
    cr_expect_eq(http_chunked_decode(&c, in + pos, 3, &d), 0);
    cr_expect_eq(d.len, 0);
    cr_expect(http_chunked_done(&c));
}

Test(chunked, error_is_sticky)
{
    struct http_chunked c;
    struct iov d;

    http_chunked_init(&c);
    cr_expect_eq(http_chunked_decode(&c, (const uint8_t *)"z", 1, &d), -400);
    cr_expect_eq(c.state, CHUNKED_ERROR);
    cr_expect_eq(http_chunked_decode(&c, (const uint8_t *)"0\r\n\r\n", 5, &d), -400);
    cr_expect_not(http_chunked_done(&c));
}

Test(chunked, empty_input)
{
    struct http_chunked c;
    struct iov d;

    http_chunked_init(&c);
    cr_expect_eq(http_chunked_decode(&c, (const uint8_t *)"", 0, &d), 0);
    cr_expect_eq(d.len, 0);
    cr_expect_eq(c.state, CHUNKED_SIZE);
}

Test(chunked, large_chunk_in_pieces)
{
    /* A size near 2^63 is accepted; the data passes through in whatever slices arrive. */
    static const char head[] = "7ffffffffffffffe\r\n";
    uint8_t buf[4096];
    struct http_chunked c;
    struct iov d;

    http_chunked_init(&c);
    cr_assert_eq(http_chunked_decode(&c, (const uint8_t *)head, sizeof(head) - 1, &d),
                 (long)sizeof(head) - 1);
    memset(buf, 'x', sizeof(buf));
    for (int i = 0; i < 10; i++) {
        cr_assert_eq(http_chunked_decode(&c, buf, sizeof(buf), &d), (long)sizeof(buf));
        cr_assert_eq(d.len, sizeof(buf));
        cr_assert_eq(d.base, buf);
    }
    cr_expect_eq(c.remaining, 0x7ffffffffffffffeull - 10 * sizeof(buf));
}

/* Run a whole input through a fresh decoder; returns the final result as decode_pieces does. */
static long decode_all(const char *s, size_t len)
{
    size_t cut = len;
    struct outcome o = decode_pieces((const uint8_t *)s, len, &cut, 1);

    free(o.data);
    return o.result;
}

static char *body_with_ext(size_t ext_len)
{
    /* "1" + ext_len extension bytes (";" then 'e's) + "\r\nx\r\n0\r\n\r\n" */
    char *s = malloc(ext_len + 32);

    cr_assert(s);
    s[0] = '1';
    s[1] = ';';
    memset(s + 2, 'e', ext_len - 1);
    strcpy(s + 1 + ext_len, "\r\nx\r\n0\r\n\r\n");
    return s;
}

Test(chunked, extension_limit)
{
    char *ok = body_with_ext(4096);
    char *over = body_with_ext(4097);

    cr_expect_eq(decode_all(ok, strlen(ok)), (long)strlen(ok));
    cr_expect_eq(decode_all(over, strlen(over)), ERR);
    free(ok);
    free(over);

    /* BWS counts toward the same limit. */
    char *ws = malloc(4200);
    cr_assert(ws);
    ws[0] = '1';
    memset(ws + 1, ' ', 4097);
    strcpy(ws + 4098, ";a\r\nx\r\n0\r\n\r\n");
    cr_expect_eq(decode_all(ws, strlen(ws)), ERR);
    free(ws);
}

static char *body_with_trailer(size_t trailer_len)
{
    /* "0\r\n" + "X: vvv...\r\n" + "\r\n": trailer_len counts the field line and the final CRLF. */
    char *s = malloc(trailer_len + 16);

    cr_assert(s && trailer_len >= 8);
    strcpy(s, "0\r\nX: ");
    memset(s + 6, 'v', trailer_len - 7);
    strcpy(s + 3 + trailer_len - 4, "\r\n\r\n");
    return s;
}

Test(chunked, trailer_limit)
{
    char *ok = body_with_trailer(16384);
    char *over = body_with_trailer(16385);

    cr_assert_eq(strlen(ok), 3 + 16384);
    cr_expect_eq(decode_all(ok, strlen(ok)), (long)strlen(ok));
    cr_expect_eq(decode_all(over, strlen(over)), ERR);
    free(ok);
    free(over);
}
