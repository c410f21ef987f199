/* SPDX-License-Identifier: MIT */
/*
 * Tests for dav/davhdr.c: Depth, Overwrite, Timeout, Destination and Lock-Token. Requests are
 * built by filling struct http_request by hand, as the parser would leave them (values without
 * surrounding OWS).
 */
#include <criterion/criterion.h>
#include <errno.h>

#include "davhdr.h"

static struct http_request req;

static void start(const char *host)
{
    memset(&req, 0, sizeof(req));
    req.method = HTTP_M_MOVE;
    req.target = IOV_LIT("/src");
    req.host = iov_make(host, strlen(host));
}

static void add(const char *name, const char *value)
{
    cr_assert_lt(req.n_headers, HTTP_MAX_HEADERS);
    req.headers[req.n_headers++] = (struct http_header){
        .name = iov_make(name, strlen(name)),
        .value = iov_make(value, strlen(value)),
    };
}

/* ---- Depth ---- */

static int depth_of(const char *value, enum dav_depth dflt, enum dav_depth *d)
{
    start("h");
    if (value)
        add("Depth", value);
    return dav_hdr_depth(&req, dflt, d);
}

Test(depth, table)
{
    static const struct {
        const char *value;
        int rc;
        enum dav_depth depth;
    } table[] = {
        {"0", 0, DAV_DEPTH_0},
        {"1", 0, DAV_DEPTH_1},
        {"infinity", 0, DAV_DEPTH_INFINITY},
        {"Infinity", 0, DAV_DEPTH_INFINITY},
        {"INFINITY", 0, DAV_DEPTH_INFINITY},
        {"", -EINVAL, 0},
        {"2", -EINVAL, 0},
        {"00", -EINVAL, 0},
        {"01", -EINVAL, 0},
        {"-1", -EINVAL, 0},
        {"infinite", -EINVAL, 0},
        {"inf", -EINVAL, 0},
        {"0, 1", -EINVAL, 0},
        {"1 ", -EINVAL, 0},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        enum dav_depth d = DAV_DEPTH_1;
        int rc = depth_of(table[i].value, DAV_DEPTH_1, &d);
        cr_assert_eq(rc, table[i].rc, "'%s': rc %d", table[i].value, rc);
        if (rc == 0)
            cr_assert_eq(d, table[i].depth, "'%s'", table[i].value);
    }
}

Test(depth, absent_is_default)
{
    enum dav_depth d = DAV_DEPTH_1;
    cr_assert_eq(depth_of(NULL, DAV_DEPTH_INFINITY, &d), 0);
    cr_assert_eq(d, DAV_DEPTH_INFINITY);
    cr_assert_eq(depth_of(NULL, DAV_DEPTH_0, &d), 0);
    cr_assert_eq(d, DAV_DEPTH_0);
}

Test(depth, repeated_and_name_case)
{
    enum dav_depth d;
    start("h");
    add("depth", "0");
    cr_assert_eq(dav_hdr_depth(&req, DAV_DEPTH_1, &d), 0);
    cr_assert_eq(d, DAV_DEPTH_0);
    add("DEPTH", "0");
    cr_assert_eq(dav_hdr_depth(&req, DAV_DEPTH_1, &d), -EINVAL);
}

/* ---- Overwrite ---- */

Test(overwrite, table)
{
    static const struct {
        const char *value;
        int rc;
        bool overwrite;
    } table[] = {
        {NULL, 0, true},          {"T", 0, true},
        {"t", 0, true},           {"F", 0, false},
        {"f", 0, false},          {"", -EINVAL, false},
        {"true", -EINVAL, false}, {"false", -EINVAL, false},
        {"TF", -EINVAL, false},   {"1", -EINVAL, false},
        {"T ", -EINVAL, false},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        bool ow = !table[i].overwrite;
        start("h");
        if (table[i].value)
            add("Overwrite", table[i].value);
        int rc = dav_hdr_overwrite(&req, &ow);
        cr_assert_eq(rc, table[i].rc, "'%s': rc %d", table[i].value, rc);
        if (rc == 0)
            cr_assert_eq(ow, table[i].overwrite, "'%s'", table[i].value);
    }
    bool ow;
    start("h");
    add("Overwrite", "T");
    add("Overwrite", "T");
    cr_assert_eq(dav_hdr_overwrite(&req, &ow), -EINVAL);
}

/* ---- Timeout ---- */

static uint32_t timeout_of(const char *value, uint32_t dflt, uint32_t max)
{
    start("h");
    if (value)
        add("Timeout", value);
    return dav_hdr_timeout(&req, dflt, max);
}

Test(timeout, table)
{
    static const struct {
        const char *value;
        uint32_t want; /* with dflt 600, max 3600 */
    } table[] = {
        {NULL, 600},
        {"Second-60", 60},
        {"second-60", 60},
        {"SECOND-60", 60},
        {"Second-3600", 3600},
        {"Second-3601", 3600},
        {"Second-4100000000", 3600},          /* Windows' "almost infinite" */
        {"Second-4294967295", 3600},          /* 2^32-1: the largest allowed */
        {"Second-4294967296", 600},           /* §10.7 MUST NOT be greater: ignored */
        {"Second-99999999999999999999", 600}, /* overflow: ignored */
        {"Infinite", 3600},
        {"infinite", 3600},
        {"Infinite, Second-30", 3600}, /* the first acceptable one wins */
        {"Second-30, Infinite", 30},
        {"Second-0", 1}, /* at least one second */
        {"Second-007", 7},
        {"", 600},
        {"Second-", 600},
        {"Second-x", 600},
        {"Second-1x", 600},
        {"Second--1", 600},
        {"Second- 5", 600},
        {"Seconds-5", 600},
        {"Extension-5, Second-45", 45}, /* unknown elements are skipped */
        {"garbage", 600},
        {", , Second-20 ,", 20}, /* empty list elements (RFC 9110 §5.6.1) */
        {"Second-20,Infinite", 20},
        {"  Second-20  ", 20},
        {"Infinite Second-20", 600},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        uint32_t got = timeout_of(table[i].value, 600, 3600);
        cr_assert_eq(got, table[i].want, "'%s': %u, want %u", table[i].value, got, table[i].want);
    }
}

Test(timeout, default_clamped)
{
    cr_assert_eq(timeout_of(NULL, 7200, 3600), 3600);
    cr_assert_eq(timeout_of(NULL, 0, 3600), 1);
    cr_assert_eq(timeout_of("Infinite", 0, 1), 1);
    cr_assert_eq(timeout_of("Second-4294967295", 1, UINT32_MAX), UINT32_MAX);
}

Test(timeout, several_fields_are_one_list)
{
    start("h");
    add("Timeout", "bogus");
    add("Timeout", "Second-99");
    cr_assert_eq(dav_hdr_timeout(&req, 600, 3600), 99);
}

/* ---- Destination ---- */

static int dest(const char *host, bool tls, const char *value, char *out, size_t outsz,
                struct http_path *res)
{
    start(host);
    if (value)
        add("Destination", value);
    return dav_hdr_destination(&req, tls, out, outsz, res);
}

static void expect_dest(const char *host, bool tls, const char *value, const char *want, bool slash)
{
    char out[256];
    struct http_path res = {.len = 999};

    int rc = dest(host, tls, value, out, sizeof(out), &res);
    cr_assert_eq(rc, 0, "Host '%s', Destination '%s': rc %d", host, value, rc);
    cr_assert_str_eq(out, want, "Destination '%s'", value);
    cr_assert_eq(res.len, strlen(want));
    cr_assert_eq(res.trailing_slash, slash, "Destination '%s': trailing slash", value);
}

static void expect_dest_err(const char *host, bool tls, const char *value, int want)
{
    char out[256];
    struct http_path res;

    int rc = dest(host, tls, value, out, sizeof(out), &res);
    cr_assert_eq(rc, want, "Host '%s', Destination '%s': rc %d, want %d", host, value, rc, want);
}

Test(destination, path_only)
{
    expect_dest("h", false, "/a/b", "a/b", false);
    expect_dest("h", false, "/a/b/", "a/b", true);
    expect_dest("h", false, "/", "", true);
    expect_dest("h", false, "/remote.php/dav/files/alice/big.bin",
                "remote.php/dav/files/alice/big.bin", false);
    /* a path needs no Host to be ours */
    expect_dest("", false, "/a", "a", false);
}

Test(destination, absolute_same_server)
{
    expect_dest("example.com", false, "http://example.com/a/b", "a/b", false);
    expect_dest("example.com", false, "HTTP://EXAMPLE.COM/a", "a", false);
    expect_dest("Example.Com", false, "http://example.com/a", "a", false);
    expect_dest("example.com", false, "http://example.com:80/a", "a", false);
    expect_dest("example.com:80", false, "http://example.com/a", "a", false);
    expect_dest("example.com", false, "http://example.com:/a", "a", false);
    expect_dest("example.com:8080", false, "http://example.com:8080/a", "a", false);
    expect_dest("example.com", true, "https://example.com/a", "a", false);
    expect_dest("example.com:443", true, "https://example.com/a", "a", false);
    expect_dest("example.com", true, "https://example.com:443/a", "a", false);
    expect_dest("[::1]:8443", true, "https://[::1]:8443/x/y/", "x/y", true);
    expect_dest("127.0.0.1:8080", false, "http://127.0.0.1:8080/x", "x", false);
    expect_dest("example.com", false, "http://example.com", "", true);
    expect_dest("example.com", false, "http://example.com?x", "", true);
}

Test(destination, other_server)
{
    expect_dest_err("example.com", false, "http://other.com/a", -EXDEV);
    expect_dest_err("example.com", false, "http://example.com.evil/a", -EXDEV);
    expect_dest_err("example.com", false, "http://example.com:8080/a", -EXDEV);
    expect_dest_err("example.com:8080", false, "http://example.com/a", -EXDEV);
    expect_dest_err("example.com", false, "https://example.com/a", -EXDEV); /* other scheme */
    expect_dest_err("example.com", true, "http://example.com/a", -EXDEV);
    expect_dest_err("example.com:443", false, "https://example.com/a", -EXDEV);
    expect_dest_err("example.com", false, "ftp://example.com/a", -EXDEV);
    expect_dest_err("example.com", false, "urn:x:y", -EXDEV);
    expect_dest_err("", false, "http://example.com/a", -EXDEV); /* no Host to compare */
    expect_dest_err("[::1]", false, "http://[::2]/a", -EXDEV);
}

Test(destination, encoded)
{
    expect_dest("h", false, "/a%20b/%C3%A9", "a b/\xc3\xa9", false);
    expect_dest("h", false, "http://h/a%20b", "a b", false);
    expect_dest("h", false, "/%252e", "%2e", false); /* decoded exactly once */
    expect_dest("h", false, "/a/%2e/b", "a/b", false);
    expect_dest_err("h", false, "/a%2fb", -EINVAL);
    expect_dest_err("h", false, "/a%00b", -EINVAL);
    expect_dest_err("h", false, "/a%zz", -EINVAL);
    expect_dest_err("h", false, "/a%2", -EINVAL);
    expect_dest_err("h", false, "http://h/a%zz", -EINVAL);
}

Test(destination, climbing)
{
    expect_dest("h", false, "/a/../b", "b", false);
    expect_dest("h", false, "/a/b/..", "a", true);
    expect_dest_err("h", false, "/..", -EINVAL);
    expect_dest_err("h", false, "/../etc/passwd", -EINVAL);
    expect_dest_err("h", false, "/a/../../b", -EINVAL);
    expect_dest_err("h", false, "/%2e%2e/x", -EINVAL);
    expect_dest_err("h", false, "http://h/../x", -EINVAL);
    expect_dest_err("h", false, "http://h/a/%2E%2E/%2e%2e/x", -EINVAL);
}

Test(destination, query_and_fragment)
{
    expect_dest("h", false, "/a/b?x=1", "a/b", false);
    expect_dest("h", false, "/a/b/?x=/../..", "a/b", true);
    expect_dest_err("h", false, "/a#frag", -EINVAL);
    expect_dest_err("h", false, "http://h/a#frag", -EINVAL);
}

Test(destination, malformed)
{
    expect_dest_err("h", false, NULL, -EINVAL);
    expect_dest_err("h", false, "", -EINVAL);
    expect_dest_err("h", false, "a/b", -EINVAL);
    expect_dest_err("h", false, "//h/a", -EINVAL);
    expect_dest_err("h", false, "http:/a", -EINVAL);
    expect_dest_err("h", false, "http:a", -EINVAL);
    expect_dest_err("h", false, "http:///a", -EINVAL);
    expect_dest_err("h", false, "http://u@h/a", -EINVAL);
    expect_dest_err("h", false, "http://h:x/a", -EINVAL);
    expect_dest_err("h", false, "http://h:99999/a", -EINVAL);
    expect_dest_err("h", false, "http://[::1/a", -EINVAL);
    expect_dest_err("h", false, "http://h/a b", -EINVAL);
    expect_dest_err("h", false, "/a b", -EINVAL);
    expect_dest_err("h", false, "http://h/a\"b", -EINVAL);
    expect_dest_err("h", false, ":x", -EINVAL);
}

Test(destination, repeated)
{
    char out[64];
    struct http_path res;

    start("h");
    add("Destination", "/a");
    add("destination", "/a");
    cr_assert_eq(dav_hdr_destination(&req, false, out, sizeof(out), &res), -EINVAL);
}

Test(destination, too_long)
{
    char out[4];
    struct http_path res;

    cr_assert_eq(dest("h", false, "/abc", out, sizeof(out), &res), 0);
    cr_assert_str_eq(out, "abc");
    cr_assert_eq(dest("h", false, "/abcd", out, sizeof(out), &res), -ENAMETOOLONG);
    cr_assert_eq(dest("h", false, "http://h/abcd", out, sizeof(out), &res), -ENAMETOOLONG);
}

/* ---- Lock-Token ---- */

static int lock_token(const char *value, struct iov *tok)
{
    start("h");
    if (value)
        add("Lock-Token", value);
    return dav_hdr_lock_token(&req, tok);
}

Test(lock_token, valid)
{
    struct iov tok;

    cr_assert_eq(lock_token("<urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2>", &tok), 0);
    cr_assert(iov_eq(tok, IOV_LIT("urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2")));
    cr_assert_eq(lock_token("<opaquelocktoken:e71d4fae-5dec-22d6-fea5-00a0c91e6be4>", &tok), 0);
    cr_assert(iov_eq(tok, IOV_LIT("opaquelocktoken:e71d4fae-5dec-22d6-fea5-00a0c91e6be4")));
    cr_assert_eq(lock_token("<DAV:no-lock>", &tok), 0);
}

Test(lock_token, invalid)
{
    static const char *bad[] = {
        NULL,
        "",
        "<>",
        "<",
        ">",
        "urn:uuid:x",
        "<urn:uuid:x",
        "urn:uuid:x>",
        "< urn:uuid:x>",
        "<urn:uuid:x >",
        "<no-scheme>",
        "<urn:a b>",
        "<urn:x#y>",
        "<urn:x><urn:y>",
        "\"<urn:x>\"",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct iov tok;
        cr_assert_eq(lock_token(bad[i], &tok), -EINVAL, "'%s'", bad[i]);
    }
    struct iov tok;
    start("h");
    add("Lock-Token", "<urn:x>");
    add("Lock-Token", "<urn:x>");
    cr_assert_eq(dav_hdr_lock_token(&req, &tok), -EINVAL);
}

/* ---- absolute-URI ---- */

Test(absolute_uri, table)
{
    static const struct {
        const char *s;
        bool ok;
    } table[] = {
        {"urn:uuid:x", true},
        {"DAV:no-lock", true},
        {"http://h/p?q", true},
        {"a+b.c-d:x", true},
        {"x:", true},
        {"x:%41", true},
        {"x:[::1]", true},
        {"x:a@b!$&'()*+,;=~_.-", true},
        {"", false},
        {":x", false},
        {"1x:y", false},
        {"x", false},
        {"x_y:z", false},
        {"x:%4", false},
        {"x:%g1", false},
        {"x:a b", false},
        {"x:a#b", false},
        {"x:<", false},
        {"x:\"", false},
        {"x:\x80", false},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        struct iov s = iov_make(table[i].s, strlen(table[i].s));
        cr_assert_eq(dav_hdr_is_absolute_uri(s), table[i].ok, "'%s'", table[i].s);
    }
}
