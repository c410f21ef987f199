/* SPDX-License-Identifier: MIT */
/* Tests for server/http/etag.c: the file tag format and list matching (RFC 9110 §8.8.3). */
#include <criterion/criterion.h>

#include "etag.h"

static bool match(const char *list, const char *etag, bool strong)
{
    return http_etag_match(iov_make(list, strlen(list)), iov_make(etag, strlen(etag)), strong);
}

Test(etag, format)
{
    char out[HTTP_ETAG_MAX];

    cr_assert_eq(http_etag_format(out, 1, 2, 3), 7);
    cr_assert_str_eq(out, "\"1-2-3\"");
    cr_assert_eq(http_etag_format(out, 0xdeadbeef, 0, 0), 14);
    cr_assert_str_eq(out, "\"deadbeef-0-0\"");
    http_etag_format(out, 0x10, 0x1000, 1700000000123456789);
    cr_assert_str_eq(out, "\"10-1000-17979cfe3d85cd15\"");
}

Test(etag, format_extremes)
{
    char out[HTTP_ETAG_MAX];

    size_t n = http_etag_format(out, UINT64_MAX, UINT64_MAX, -1);
    cr_assert_str_eq(out, "\"ffffffffffffffff-ffffffffffffffff-ffffffffffffffff\"");
    cr_assert_eq(n, 52);
    cr_assert_lt(n, HTTP_ETAG_MAX);
    http_etag_format(out, 1, 1, INT64_MIN);
    cr_assert_str_eq(out, "\"1-1-8000000000000000\"");
}

Test(etag, format_changes_with_each_field)
{
    char a[HTTP_ETAG_MAX];
    char b[HTTP_ETAG_MAX];

    http_etag_format(a, 5, 100, 1000);
    http_etag_format(b, 6, 100, 1000);
    cr_assert_str_neq(a, b);
    http_etag_format(b, 5, 101, 1000);
    cr_assert_str_neq(a, b);
    http_etag_format(b, 5, 100, 1001);
    cr_assert_str_neq(a, b);
    /* fields are separated, so digits cannot slide from one to the next */
    http_etag_format(a, 0x12, 0x3, 0);
    http_etag_format(b, 0x1, 0x23, 0);
    cr_assert_str_neq(a, b);
}

Test(etag, format_output_matches_itself)
{
    char out[HTTP_ETAG_MAX];
    size_t n = http_etag_format(out, 42, 4096, 1234567890);
    struct iov tag = iov_make(out, n);

    cr_assert(http_etag_match(tag, tag, true));
    cr_assert(http_etag_match(tag, tag, false));
}

/* The example table of RFC 9110 §8.8.3.2. */
Test(etag, rfc_comparison_table)
{
    cr_assert_not(match("W/\"1\"", "W/\"1\"", true));
    cr_assert(match("W/\"1\"", "W/\"1\"", false));
    cr_assert_not(match("W/\"1\"", "W/\"2\"", true));
    cr_assert_not(match("W/\"1\"", "W/\"2\"", false));
    cr_assert_not(match("W/\"1\"", "\"1\"", true));
    cr_assert(match("W/\"1\"", "\"1\"", false));
    cr_assert(match("\"1\"", "\"1\"", true));
    cr_assert(match("\"1\"", "\"1\"", false));
    cr_assert(match("\"1\"", "W/\"1\"", false));
    cr_assert_not(match("\"1\"", "W/\"1\"", true));
}

Test(etag, lists)
{
    const char *tag = "\"1-2-3\"";

    cr_assert(match("\"1-2-3\"", tag, true));
    cr_assert(match("\"a\", \"1-2-3\"", tag, true));
    cr_assert(match("\"1-2-3\", \"a\"", tag, true));
    cr_assert(match("\"a\" ,\t\"1-2-3\"", tag, true));
    cr_assert(match("\"a\",\"1-2-3\",\"b\"", tag, true));
    cr_assert(match(" \"1-2-3\" ", tag, true));
    cr_assert(match(",,\"1-2-3\",,", tag, true));
    cr_assert(match(", , \"1-2-3\"", tag, true));
    cr_assert(match("W/\"x\", W/\"1-2-3\"", tag, false));
    cr_assert_not(match("W/\"x\", W/\"1-2-3\"", tag, true));
    cr_assert_not(match("\"a\", \"b\"", tag, true));
    cr_assert_not(match("\"1-2-3 \"", tag, false));
    cr_assert_not(match("\"\"", tag, false));
    cr_assert(match("\"\"", "\"\"", true));
    /* obs-text is allowed inside the quotes */
    cr_assert(match("\"caf\xc3\xa9\"", "\"caf\xc3\xa9\"", true));
}

Test(etag, star)
{
    cr_assert(match("*", "\"1-2-3\"", true));
    cr_assert(match("*", "\"1-2-3\"", false));
    cr_assert(match(" * ", "\"1-2-3\"", true));
    cr_assert(match("*", "W/\"x\"", true));
    /* no current representation: even "*" is false */
    cr_assert_not(match("*", "", true));
    cr_assert_not(match("*", "", false));
    /* "*" is not a list member */
    cr_assert_not(match("\"a\", *", "\"1-2-3\"", true));
    cr_assert_not(match("*, \"1-2-3\"", "\"1-2-3\"", true));
    cr_assert_not(match("**", "\"1-2-3\"", true));
}

Test(etag, malformed_matches_nothing)
{
    const char *tag = "\"1-2-3\"";
    const char *bad[] = {
        "",
        " ",
        ",",
        "1-2-3",
        "\"1-2-3",
        "1-2-3\"",
        "\"1-2-3\"x",
        "\"1-2-3\" \"a\"",
        "\"1-2-3\", bad",
        "\"1-2-3\", \"unterminated",
        "w/\"1-2-3\"",
        "W\"1-2-3\"",
        "W/ \"1-2-3\"",
        "W/",
        "\"a b\", \"1-2-3\"",
        "\"1-2-3\";q=1",
        "'1-2-3'",
        "\"1-2-3\"\x7f",
        "\"a\x01\", \"1-2-3\"",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_assert_not(match(bad[i], tag, true), "'%s' strong", bad[i]);
        cr_assert_not(match(bad[i], tag, false), "'%s' weak", bad[i]);
    }
}

Test(etag, bad_own_tag_matches_nothing)
{
    cr_assert_not(match("\"x\"", "x", false));
    cr_assert_not(match("*", "x", false));
    cr_assert_not(match("\"x\"", "\"x\" ", false));
}
