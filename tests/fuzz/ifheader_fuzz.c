/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the WebDAV If header (dav/ifheader.c), and the other WebDAV headers
 * (dav/davhdr.c) on the same bytes.
 *
 * The input is a field value. When it parses, the result's promises are checked: lists and
 * conditions within the limits and contiguous, every slice inside the input, every resource
 * path NUL terminated inside the struct and free of "." / ".." segments; evaluation with a
 * deterministic fake resource set must not crash, must agree with a naive re-evaluation, and
 * must pass a callback error through; token iteration must visit exactly the token conditions.
 * Any broken promise is an abort(), which libFuzzer reports as a crash.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "davhdr.h"
#include "ifheader.h"

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

static const uint8_t *in_base;
static size_t in_len;

static bool inside_input(struct iov v)
{
    return v.base >= in_base && v.len <= in_len && (size_t)(v.base - in_base) <= in_len - v.len;
}

static uint32_t hash(const void *p, size_t n, uint32_t h)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 16777619u;
    return h;
}

struct fake {
    unsigned calls;
    unsigned fail_at; /* 0: never */
};

/* A path's entity-tag is "<hash>" or nothing; tokens cover a path by hash parity. */
static char etag_buf[16];

static int fake_etag(void *ctx, const char *path, struct iov *etag)
{
    struct fake *f = ctx;
    FUZZ_CHECK(path);
    if (++f->calls == f->fail_at)
        return -EIO;
    uint32_t h = hash(path, strlen(path), 2166136261u);
    if (h % 3 == 0) {
        *etag = (struct iov){NULL, 0};
        return 0;
    }
    /* short tags so the fuzzer can guess some: "\"a\"" .. "\"d\"", sometimes weak */
    size_t n = 0;
    if (h % 5 == 0) {
        etag_buf[n++] = 'W';
        etag_buf[n++] = '/';
    }
    etag_buf[n++] = '"';
    etag_buf[n++] = (char)('a' + (h >> 8) % 4);
    etag_buf[n++] = '"';
    *etag = iov_make(etag_buf, n);
    return 0;
}

static int fake_lock(void *ctx, const char *path, struct iov token)
{
    struct fake *f = ctx;
    FUZZ_CHECK(path);
    FUZZ_CHECK(inside_input(token));
    if (++f->calls == f->fail_at)
        return -EIO;
    return hash(token.base, token.len, hash(path, strlen(path), 2166136261u)) & 1;
}

static const struct dav_if_ops ops = {.etag = fake_etag, .lock_covers = fake_lock};

static bool naive_eval(const struct dav_if *h, const char *req_path)
{
    struct fake f = {0};
    bool any = false;

    for (size_t l = 0; l < h->n_lists; l++) {
        const char *path = dav_if_list_resource(h, &h->lists[l]);
        bool all = true;
        if (!path)
            path = req_path;
        for (size_t k = 0; k < h->lists[l].count; k++) {
            const struct dav_if_cond *c = &h->conds[h->lists[l].first + k];
            bool m;
            if (c->kind == DAV_IF_TOKEN) {
                m = fake_lock(&f, path, c->value) == 1;
            } else {
                struct iov cur;
                FUZZ_CHECK(fake_etag(&f, path, &cur) == 0);
                m = cur.len > 0 && cur.base[0] != 'W' && c->value.base[0] != 'W' &&
                    iov_eq(cur, c->value);
            }
            if (m == c->negated)
                all = false;
        }
        if (all)
            any = true;
    }
    return any;
}

static void check_path(const char *p, const char *lo, const char *hi)
{
    FUZZ_CHECK(p >= lo && p < hi);
    size_t n = strnlen(p, (size_t)(hi - p));
    FUZZ_CHECK(n < (size_t)(hi - p));
    FUZZ_CHECK(n == 0 || (p[0] != '/' && p[n - 1] != '/'));
    const char *seg = p;
    for (;;) {
        const char *end = strchr(seg, '/');
        size_t sl = end ? (size_t)(end - seg) : strlen(seg);
        FUZZ_CHECK(n == 0 || sl > 0);
        FUZZ_CHECK(!(sl == 1 && seg[0] == '.') && !(sl == 2 && seg[0] == '.' && seg[1] == '.'));
        if (!end)
            break;
        seg = end + 1;
    }
}

static void check_if(const uint8_t *data, size_t size)
{
    static struct dav_if h;
    int rc = dav_if_parse(&h, iov_make(data, size));

    if (rc < 0) {
        FUZZ_CHECK(rc == -EINVAL);
        return;
    }
    FUZZ_CHECK(size <= DAV_IF_MAX_LEN);
    FUZZ_CHECK(h.n_lists >= 1 && h.n_lists <= DAV_IF_MAX_LISTS);
    FUZZ_CHECK(h.n_conds >= h.n_lists && h.n_conds <= DAV_IF_MAX_CONDS);

    size_t next = 0;
    size_t n_tokens = 0;
    for (size_t l = 0; l < h.n_lists; l++) {
        const struct dav_if_list *li = &h.lists[l];
        FUZZ_CHECK(li->first == next && li->count >= 1 && li->count <= DAV_IF_MAX_LIST_CONDS);
        next += li->count;
        const char *res = dav_if_list_resource(&h, li);
        FUZZ_CHECK(h.tagged == (res != NULL));
        if (res)
            check_path(res, h.paths, h.paths + sizeof(h.paths));
    }
    FUZZ_CHECK(next == h.n_conds);
    for (size_t c = 0; c < h.n_conds; c++) {
        FUZZ_CHECK(inside_input(h.conds[c].value));
        if (h.conds[c].kind == DAV_IF_TOKEN) {
            FUZZ_CHECK(dav_hdr_is_absolute_uri(h.conds[c].value));
            n_tokens++;
        } else {
            FUZZ_CHECK(h.conds[c].value.len >= 2);
        }
    }

    size_t pos = 0;
    size_t seen = 0;
    struct iov tok;
    const char *res;
    while (dav_if_token_next(&h, &pos, &tok, &res)) {
        FUZZ_CHECK(inside_input(tok));
        FUZZ_CHECK(dav_if_has_token(&h, tok));
        FUZZ_CHECK(h.tagged == (res != NULL));
        FUZZ_CHECK(++seen <= n_tokens);
    }
    FUZZ_CHECK(seen == n_tokens);

    const char *req_path = size > 0 && data[0] & 1 ? "dir/file" : "";
    struct fake f = {0};
    bool result = false;
    FUZZ_CHECK(dav_if_eval(&h, req_path, &ops, &f, &result) == 0);
    FUZZ_CHECK(result == naive_eval(&h, req_path));

    /* a callback error on any call is passed through, and nothing else fails */
    unsigned calls = f.calls;
    for (unsigned k = 1; k <= calls && k <= 8; k++) {
        struct fake g = {.fail_at = k};
        FUZZ_CHECK(dav_if_eval(&h, req_path, &ops, &g, &result) == -EIO);
    }
}

static void check_other_headers(const uint8_t *data, size_t size)
{
    static struct http_request req;
    static const char *const names[] = {"Depth", "Overwrite", "Timeout", "Destination",
                                        "Lock-Token"};

    memset(&req, 0, sizeof(req));
    req.host = IOV_LIT("example.com:8080");
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        req.headers[i].name = iov_make(names[i], strlen(names[i]));
        req.headers[i].value = iov_make(data, size);
    }
    req.n_headers = sizeof(names) / sizeof(names[0]);

    enum dav_depth d;
    int rc = dav_hdr_depth(&req, DAV_DEPTH_INFINITY, &d);
    FUZZ_CHECK(rc == 0 || rc == -EINVAL);
    bool ow;
    rc = dav_hdr_overwrite(&req, &ow);
    FUZZ_CHECK(rc == 0 || rc == -EINVAL);
    uint32_t t = dav_hdr_timeout(&req, 600, 3600);
    FUZZ_CHECK(t >= 1 && t <= 3600);

    char out[64];
    struct http_path res;
    rc = dav_hdr_destination(&req, size > 0 && data[size - 1] & 1, out, sizeof(out), &res);
    FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -EXDEV || rc == -ENAMETOOLONG);
    if (rc == 0) {
        FUZZ_CHECK(res.len == strlen(out));
        check_path(out, out, out + sizeof(out));
    }

    struct iov tok;
    rc = dav_hdr_lock_token(&req, &tok);
    FUZZ_CHECK(rc == 0 || rc == -EINVAL);
    if (rc == 0)
        FUZZ_CHECK(inside_input(tok) && tok.len + 2 == size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    in_base = data;
    in_len = size;
    check_if(data, size);
    check_other_headers(data, size);
    return 0;
}
