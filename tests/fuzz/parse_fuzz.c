/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for http_parse_request (server/http/parse.c), for the chunked decoder on
 * whatever follows a head that announces a chunked body, for cookie lookup in a parsed request
 * (cookie.c) and for form fields (form.c) in whatever follows a head.
 *
 * The input is parsed whole, then again fed one byte at a time and in growing prefixes of
 * input-dependent steps, under the default limits and under tight ones (so the 414/431 paths
 * are reached by small inputs). Every way must give the same outcome and the same request, and
 * a parsed request must satisfy the invariants parse.h promises; anything else is an abort().
 * libFuzzer hands us an exactly sized heap buffer, so ASan catches any read past the input.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chunked_drive.h"
#include "cookie.h"
#include "form.h"
#include "parse.h"

static const struct http_limits tight = {.max_head = 512, .max_target = 64, .max_headers = 8};

static bool slice_in(struct iov v, const uint8_t *buf, size_t n)
{
    return v.base >= buf && v.base + v.len <= buf + n;
}

static bool has_byte(struct iov v, uint8_t c)
{
    return v.len > 0 && memchr(v.base, c, v.len) != NULL;
}

/* What parse.h promises about a request it accepted. */
static void check_request(const uint8_t *buf, size_t len, int n, const struct http_limits *lim,
                          const struct http_request *req)
{
    size_t max_headers = lim->max_headers < HTTP_MAX_HEADERS ? lim->max_headers : HTTP_MAX_HEADERS;

    FUZZ_CHECK((size_t)n <= len && (size_t)n <= lim->max_head);
    FUZZ_CHECK(buf[n - 1] == '\n' && buf[n - 2] == '\r' && buf[n - 3] == '\n' &&
               buf[n - 4] == '\r');
    FUZZ_CHECK(slice_in(req->method_name, buf, (size_t)n) && req->method_name.len > 0);
    FUZZ_CHECK(slice_in(req->target, buf, (size_t)n));
    FUZZ_CHECK(req->target.len > 0 && req->target.len <= lim->max_target);
    FUZZ_CHECK(!has_byte(req->target, ' ') && !has_byte(req->target, '\r'));
    FUZZ_CHECK(req->version_minor == 0 || req->version_minor == 1);
    FUZZ_CHECK(req->n_headers <= max_headers);
    for (size_t i = 0; i < req->n_headers; i++) {
        const struct http_header *h = &req->headers[i];

        FUZZ_CHECK(slice_in(h->name, buf, (size_t)n) && slice_in(h->value, buf, (size_t)n));
        FUZZ_CHECK(h->name.len > 0 && !has_byte(h->name, ':') && !has_byte(h->name, ' '));
        FUZZ_CHECK(!has_byte(h->value, '\r') && !has_byte(h->value, '\n') &&
                   !has_byte(h->value, '\0'));
        if (h->value.len > 0) {
            FUZZ_CHECK(h->value.base[0] != ' ' && h->value.base[0] != '\t');
            FUZZ_CHECK(h->value.base[h->value.len - 1] != ' ');
            FUZZ_CHECK(h->value.base[h->value.len - 1] != '\t');
        }
    }
    if (req->version_minor == 1)
        FUZZ_CHECK(http_header_find(req, "host") != NULL);
    if (req->body == HTTP_BODY_LENGTH)
        FUZZ_CHECK(req->content_length > 0 && req->content_length <= (uint64_t)INT64_MAX);
    if (req->body == HTTP_BODY_CHUNKED)
        FUZZ_CHECK(req->version_minor == 1 && !http_header_find(req, "content-length"));
    if (http_header_find(req, "transfer-encoding"))
        FUZZ_CHECK(req->body == HTTP_BODY_CHUNKED);
}

static bool iov_same(struct iov a, struct iov b)
{
    return a.base == b.base && a.len == b.len;
}

/* Both parses ran on the same buffer, so even the slices must be identical. */
static void check_same(const struct http_request *a, const struct http_request *b)
{
    FUZZ_CHECK(a->method == b->method && iov_same(a->method_name, b->method_name));
    FUZZ_CHECK(iov_same(a->target, b->target) && a->version_minor == b->version_minor);
    FUZZ_CHECK(a->n_headers == b->n_headers);
    for (size_t i = 0; i < a->n_headers; i++) {
        FUZZ_CHECK(iov_same(a->headers[i].name, b->headers[i].name));
        FUZZ_CHECK(iov_same(a->headers[i].value, b->headers[i].value));
    }
    FUZZ_CHECK(iov_same(a->host, b->host));
    FUZZ_CHECK(a->keep_alive == b->keep_alive && a->expect_continue == b->expect_continue);
    FUZZ_CHECK(a->body == b->body);
    if (a->body == HTTP_BODY_LENGTH)
        FUZZ_CHECK(a->content_length == b->content_length);
}

/*
 * Feed growing prefixes: the first 'first' bytes, then 'step' more each time (step 0: a step
 * taken from the input itself, so the fuzzer explores cut positions too). Until the outcome is
 * known every call must return 0; the outcome must be 'want', and a head must complete exactly
 * when its last byte arrives.
 */
static void feed(const uint8_t *data, size_t size, const struct http_limits *lim, int want,
                 const struct http_request *want_req, size_t step)
{
    static struct http_request req; /* ~3 KiB: keep it off the fuzzer's stack */
    struct http_parser p;
    int r = 0;
    size_t at = 0;

    http_parser_init(&p);
    while (at < size) {
        size_t s = step ? step : 1 + data[at] % 23;

        at = size - at < s ? size : at + s;
        r = http_parse_request(&p, data, at, lim, &req);
        if (r != 0)
            break;
    }
    FUZZ_CHECK(r == want);
    if (want > 0) {
        FUZZ_CHECK(step != 1 || at == (size_t)want);
        check_same(want_req, &req);
    }
    /* An outcome is final: asking again gives it again. */
    if (r != 0)
        FUZZ_CHECK(http_parse_request(&p, data, size, lim, &req) == r);
}

static void run(const uint8_t *data, size_t size, const struct http_limits *lim)
{
    static struct http_request whole;
    struct http_parser p;

    http_parser_init(&p);
    int n = http_parse_request(&p, data, size, lim, &whole);
    FUZZ_CHECK(n == 0 || n > 0 || n == -400 || n == -414 || n == -431 || n == -501 || n == -505);
    if (n > 0)
        check_request(data, size, n, lim, &whole);

    feed(data, size, lim, n, &whole, 1);
    feed(data, size, lim, n, &whole, 0);

    if (n > 0) {
        /* A found cookie is a slice of one of the request's Cookie fields. */
        struct iov v = http_cookie_find(&whole, "ff_session");
        FUZZ_CHECK(!v.base || slice_in(v, data, (size_t)n));
        /* Form fields: a decoded value never outgrows its buffer and is NUL-terminated. */
        char out[32];
        size_t olen = 0;
        struct iov body = iov_make(data + n, size - (size_t)n);
        int fr = http_form_get(body, "user", out, sizeof(out), &olen);
        FUZZ_CHECK(fr == 0 || fr == -ENOENT || fr == -EINVAL || fr == -ENOSPC);
        if (fr == 0)
            FUZZ_CHECK(olen < sizeof(out) && out[olen] == '\0' && olen <= body.len);
    }
    if (n > 0 && whole.body == HTTP_BODY_CHUNKED) {
        const uint8_t *body = data + n;
        size_t blen = size - (size_t)n;
        struct chunked_outcome all = chunked_drive(body, blen, blen, 0);
        struct chunked_outcome bytes = chunked_drive(body, blen, 1, 1);
        struct chunked_outcome cut = chunked_drive(body, blen, blen / 2, 0);

        chunked_same(&all, &bytes);
        chunked_same(&all, &cut);
        free(all.data);
        free(bytes.data);
        free(cut.data);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run(data, size, &http_limits_default);
    run(data, size, &tight);
    return 0;
}
