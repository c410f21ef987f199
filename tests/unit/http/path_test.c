/* SPDX-License-Identifier: MIT */
/*
 * Tests for server/http/path.c: request-target normalisation, dot-segments, escapes, the forms
 * of request-target, and the 414 boundary. A randomised test checks the output invariants.
 */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "path.h"

static int norm_sz(const char *target, size_t tlen, char *out, size_t outsz, struct http_path *r)
{
    return http_path_normalize(iov_make(target, tlen), out, outsz, r);
}

static void expect_ok(const char *target, const char *want, bool slash)
{
    char out[256];
    struct http_path r = {.len = 999};

    memset(out, 'X', sizeof(out));
    int rc = norm_sz(target, strlen(target), out, sizeof(out), &r);
    cr_assert_eq(rc, 0, "target '%s': rc %d", target, rc);
    cr_assert_str_eq(out, want, "target '%s'", target);
    cr_assert_eq(r.len, strlen(want), "target '%s': len %zu", target, r.len);
    cr_assert_eq(r.trailing_slash, slash, "target '%s': trailing_slash", target);
}

static void expect_err(const char *target, int want)
{
    char out[256];
    struct http_path r;

    int rc = norm_sz(target, strlen(target), out, sizeof(out), &r);
    cr_assert_eq(rc, want, "target '%s': rc %d, want %d", target, rc, want);
}

Test(path, root)
{
    expect_ok("/", "", true);
    expect_ok("//", "", true);
    expect_ok("/?x=1", "", true);
    expect_ok("/.", "", true);
    expect_ok("/./", "", true);
    expect_ok("/a/..", "", true);
    expect_ok("/a/../", "", true);
}

Test(path, plain)
{
    expect_ok("/a", "a", false);
    expect_ok("/a/b", "a/b", false);
    expect_ok("/a/b/", "a/b", true);
    expect_ok("/index.html", "index.html", false);
}

Test(path, empty_segments_collapse)
{
    expect_ok("//a///b", "a/b", false);
    expect_ok("//a///b//", "a/b", true);
}

Test(path, dot_segments)
{
    expect_ok("/a/./b", "a/b", false);
    expect_ok("/a/../b", "b", false);
    expect_ok("/a/b/.", "a/b", true);
    expect_ok("/a/b/..", "a", true);
    expect_ok("/a/b/../c/./d/..", "a/c", true);
    expect_ok("/a/b/c/../../d", "a/d", false);
    expect_ok("/./a", "a", false);
}

Test(path, dotlike_names_are_names)
{
    expect_ok("/...", "...", false);
    expect_ok("/.a", ".a", false);
    expect_ok("/a..", "a..", false);
    expect_ok("/..a/b", "..a/b", false);
    expect_ok("/.well-known/x", ".well-known/x", false);
    expect_ok("/a/%2e%2e%2e", "a/...", false);
}

Test(path, escaping_root)
{
    expect_err("/..", -400);
    expect_err("/../", -400);
    expect_err("/../a", -400);
    expect_err("/a/../../b", -400);
    expect_err("/a/b/../../..", -400);
    expect_err("/./..", -400);
}

Test(path, escaped_dots)
{
    expect_err("/%2e%2e/x", -400);
    expect_err("/%2E%2e/", -400);
    expect_err("/.%2e/", -400);
    expect_err("/%2e./", -400);
    expect_ok("/a/%2e%2e/x", "x", false);
    expect_ok("/a/%2E/b", "a/b", false);
    expect_ok("/%2e", "", true);
}

Test(path, double_encoding_is_decoded_once)
{
    expect_ok("/%252e%252e/", "%2e%2e", true);
    expect_ok("/a%2520b", "a%20b", false);
}

Test(path, decoding)
{
    expect_ok("/caf%C3%A9", "caf\xc3\xa9", false);
    expect_ok("/caf%c3%a9", "caf\xc3\xa9", false);
    expect_ok("/a%20b", "a b", false);
    expect_ok("/%41%42", "AB", false);
    /* raw UTF-8 is accepted as sent */
    expect_ok("/caf\xc3\xa9", "caf\xc3\xa9", false);
}

Test(path, bad_escapes)
{
    expect_err("/a%2fb", -400);
    expect_err("/a%2Fb", -400);
    expect_err("/a%00b", -400);
    expect_err("/%zz", -400);
    expect_err("/%4", -400);
    expect_err("/%", -400);
    expect_err("/a%4/b", -400);
    expect_err("/a%g0", -400);
    expect_err("/%4?x", -400);
}

Test(path, query_dropped)
{
    expect_ok("/a?x=/../..", "a", false);
    expect_ok("/a/?x", "a", true);
    expect_ok("/a?", "a", false);
    /* the query is not decoded or checked for escapes */
    expect_ok("/a?%zz", "a", false);
}

Test(path, absolute_form)
{
    expect_ok("http://host:8080/a/b", "a/b", false);
    expect_ok("https://host/a", "a", false);
    expect_ok("HTTP://host/a/", "a", true);
    expect_ok("HtTpS://host/a", "a", false);
    expect_ok("http://host", "", true);
    expect_ok("http://host/", "", true);
    expect_ok("http://host?q=/a", "", true);
    expect_ok("http://[::1]:80/x", "x", false);
    expect_err("http:///a", -400);
    expect_err("http://", -400);
    expect_err("http://user@host/a", -400);
    expect_err("http://user:pw@host/a", -400);
    expect_err("ftp://host/a", -400);
    expect_err("http:/a", -400);
    expect_err("http://host/../a", -400);
}

Test(path, other_forms)
{
    expect_err("*", -400);
    expect_err("host:80", -400);
    expect_err("example.com:443", -400);
    expect_err("a/b", -400);
    expect_err("", -400);
}

Test(path, fragment_refused)
{
    expect_err("/a#frag", -400);
    expect_err("/a?x#y", -400);
    expect_err("/#", -400);
}

Test(path, controls_refused)
{
    expect_err("/a b", -400);
    expect_err("/a\tb", -400);
    expect_err("/a\x7f", -400);
    expect_err("/a\r\n", -400);
    expect_err("/a?x y", -400);

    char out[16];
    struct http_path r;
    cr_assert_eq(norm_sz("/a\0b", 4, out, sizeof(out), &r), -400);
}

Test(path, too_small)
{
    char out[8];
    struct http_path r;

    /* "abc" needs 4 bytes with the NUL */
    cr_assert_eq(norm_sz("/abc", 4, out, 3, &r), -414);
    cr_assert_eq(norm_sz("/abc", 4, out, 4, &r), 0);
    cr_assert_str_eq(out, "abc");
    cr_assert_eq(norm_sz("/a/b", 4, out, 3, &r), -414);
    cr_assert_eq(norm_sz("/a/b", 4, out, 4, &r), 0);
    cr_assert_str_eq(out, "a/b");

    /* the root needs only the NUL */
    cr_assert_eq(norm_sz("/", 1, out, 1, &r), 0);
    cr_assert_str_eq(out, "");
    cr_assert_eq(norm_sz("/", 1, out, 0, &r), -414);
}

Test(path, too_small_recovers_after_dotdot)
{
    char out[8];
    struct http_path r;

#define N(s, sz) norm_sz(s, strlen(s), out, sz, &r)
    cr_assert_eq(N("/aaaaaaaaaa/../b", 2), 0);
    cr_assert_str_eq(out, "b");
    cr_assert_eq(N("/aaaaaaaa/cc/../../b", 2), 0);
    cr_assert_str_eq(out, "b");
    cr_assert_eq(N("/a/bbbbbbb/../c", 4), 0);
    cr_assert_str_eq(out, "a/c");
    cr_assert_eq(N("/a/bbbbbbb/cc/..", 4), -414);
    cr_assert_eq(N("/a/bbbbbbb/../cc", 4), -414);
    /* a malformed target is 400 whatever the buffer size */
    cr_assert_eq(N("/aaaaaaaa/../%zz", 2), -400);
    cr_assert_eq(N("/aaaaaaaa/../../x", 2), -400);
#undef N
}

Test(path, result_not_written_on_error)
{
    char out[8] = "keep";
    struct http_path r = {.len = 42, .trailing_slash = false};

    cr_assert_eq(norm_sz("/..", 3, out, sizeof(out), &r), -400);
    cr_assert_eq(r.len, 42);
}

/* Random targets over a small alphabet: whatever comes out is a clean relative path. */
Test(path, random_invariants)
{
    static const char alphabet[] = "/./..%2e%2E%2f%00%zzab?#";
    unsigned seed = 12345;
    char target[40];
    char out[24];
    struct http_path r;

    for (int iter = 0; iter < 200000; iter++) {
        size_t tlen = (size_t)(rand_r(&seed) % (int)sizeof(target));
        for (size_t i = 0; i < tlen; i++)
            target[i] = alphabet[rand_r(&seed) % (int)(sizeof(alphabet) - 1)];
        if (tlen > 0 && rand_r(&seed) % 4 != 0)
            target[0] = '/';
        size_t outsz = (size_t)(rand_r(&seed) % (int)sizeof(out));

        int rc = norm_sz(target, tlen, out, outsz, &r);
        cr_assert(rc == 0 || rc == -400 || rc == -414);
        if (rc != 0)
            continue;
        cr_assert_lt(r.len, outsz);
        cr_assert_eq(strlen(out), r.len);
        /* no empty, "." or ".." segment, no leading or trailing '/' */
        const char *seg = out;
        while (r.len > 0) {
            const char *slash = strchr(seg, '/');
            size_t n = slash ? (size_t)(slash - seg) : strlen(seg);
            cr_assert_gt(n, 0, "empty segment in '%s'", out);
            cr_assert(!(n == 1 && seg[0] == '.'), "'.' in '%s'", out);
            cr_assert(!(n == 2 && seg[0] == '.' && seg[1] == '.'), "'..' in '%s'", out);
            if (!slash)
                break;
            seg = slash + 1;
        }
    }
}
