/* SPDX-License-Identifier: MIT */
/* Tests for server/http/range.c: Range header evaluation (RFC 9110 §14.1-14.2). */
#include <criterion/criterion.h>
#include <stdio.h>

#include "range.h"

static struct http_range got[HTTP_RANGE_MAX];
static size_t got_n;

static enum http_range_result eval(const char *value, uint64_t size)
{
    got_n = 12345;
    return http_range_parse(iov_make(value, strlen(value)), size, got, &got_n);
}

static void expect_one(const char *value, uint64_t size, uint64_t first, uint64_t last)
{
    cr_assert_eq(eval(value, size), HTTP_RANGE_OK, "'%s'", value);
    cr_assert_eq(got_n, 1, "'%s': n %zu", value, got_n);
    cr_assert_eq(got[0].first, first, "'%s': first %llu", value, (unsigned long long)got[0].first);
    cr_assert_eq(got[0].last, last, "'%s': last %llu", value, (unsigned long long)got[0].last);
}

static void expect(const char *value, uint64_t size, enum http_range_result want)
{
    enum http_range_result res = eval(value, size);
    cr_assert_eq(res, want, "'%s' size %llu: %d, want %d", value, (unsigned long long)size, res,
                 want);
    if (want != HTTP_RANGE_OK)
        cr_assert_eq(got_n, 0, "'%s': n must be 0 unless OK", value);
}

Test(range, simple)
{
    expect_one("bytes=0-99", 10000, 0, 99);
    expect_one("bytes=-500", 10000, 9500, 9999);
    expect_one("bytes=9500-", 10000, 9500, 9999);
    expect_one("bytes=0-0", 10000, 0, 0);
    expect_one("bytes=9999-9999", 10000, 9999, 9999);
    expect_one("bytes=007-010", 10000, 7, 10);
}

Test(range, clipping)
{
    expect_one("bytes=0-99999", 10000, 0, 9999);
    expect_one("bytes=9000-18446744073709551615", 10000, 9000, 9999);
    expect_one("bytes=-20000", 10000, 0, 9999);
    expect_one("bytes=-10000", 10000, 0, 9999);
    expect_one("bytes=-9999", 10000, 1, 9999);
    expect_one("bytes=0-", 1, 0, 0);
    expect_one("bytes=-1", 1, 0, 0);
}

Test(range, multiple)
{
    cr_assert_eq(eval("bytes=0-0,-1", 10000), HTTP_RANGE_OK);
    cr_assert_eq(got_n, 2);
    cr_assert_eq(got[0].first, 0);
    cr_assert_eq(got[0].last, 0);
    cr_assert_eq(got[1].first, 9999);
    cr_assert_eq(got[1].last, 9999);

    /* request order is kept */
    cr_assert_eq(eval("bytes=100-199,0-9", 10000), HTTP_RANGE_OK);
    cr_assert_eq(got_n, 2);
    cr_assert_eq(got[0].first, 100);
    cr_assert_eq(got[1].first, 0);
}

Test(range, ows_around_commas)
{
    const char *forms[] = {"bytes=0-0, -1", "bytes=0-0 ,-1", "bytes=0-0 , -1", "bytes=0-0\t,\t-1",
                           "bytes=0-0,  \t -1"};
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        cr_assert_eq(eval(forms[i], 10000), HTTP_RANGE_OK, "'%s'", forms[i]);
        cr_assert_eq(got_n, 2, "'%s'", forms[i]);
    }
}

Test(range, empty_list_elements)
{
    expect_one("bytes=,0-1", 100, 0, 1);
    expect_one("bytes=0-1,", 100, 0, 1);
    expect_one("bytes=, ,0-1,,", 100, 0, 1);
    expect("bytes=,", 100, HTTP_RANGE_IGNORE);
    expect("bytes= , ", 100, HTTP_RANGE_IGNORE);
}

Test(range, unit_case_insensitive)
{
    expect_one("Bytes=0-1", 100, 0, 1);
    expect_one("BYTES=0-1", 100, 0, 1);
    expect_one("bYtEs=0-1", 100, 0, 1);
}

Test(range, unknown_unit)
{
    expect("items=0-1", 100, HTTP_RANGE_IGNORE);
    expect("bytesx=0-1", 100, HTTP_RANGE_IGNORE);
    expect("byte=0-1", 100, HTTP_RANGE_IGNORE);
    expect("none", 100, HTTP_RANGE_IGNORE);
}

Test(range, invalid_syntax)
{
    const char *bad[] = {
        "",           "bytes",      "bytes=",      "bytes=abc",  "bytes=1-2-3", "bytes=-",
        "bytes=1",    "bytes=1-x",  "bytes=--1",   "bytes=1 -2", "bytes=1- 2",  "bytes = 0-1",
        "bytes =0-1", "bytes=+1-2", "bytes=0x10-", "bytes=1-2;", "bytes=0-1,x", "bytes=0-1 2",
        "bytes=-1-2", "bytes=1--2", "=0-1",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect(bad[i], 10000, HTTP_RANGE_IGNORE);
}

Test(range, first_after_last_is_invalid)
{
    expect("bytes=5-4", 10000, HTTP_RANGE_IGNORE);
    /* one invalid spec spoils the whole header, even next to good ones (§14.1.1) */
    expect("bytes=0-1,5-4", 10000, HTTP_RANGE_IGNORE);
    /* even when the invalid one would also be unsatisfiable */
    expect("bytes=20001-20000", 10000, HTTP_RANGE_IGNORE);
}

Test(range, unsatisfiable)
{
    expect("bytes=-0", 10000, HTTP_RANGE_UNSATISFIABLE);
    expect("bytes=10000-", 10000, HTTP_RANGE_UNSATISFIABLE);
    expect("bytes=10000-10005", 10000, HTTP_RANGE_UNSATISFIABLE);
    expect("bytes=10000-20000,-0", 10000, HTTP_RANGE_UNSATISFIABLE);
    expect("bytes=18446744073709551615-", 10000, HTTP_RANGE_UNSATISFIABLE);
    expect("bytes=1-", 1, HTTP_RANGE_UNSATISFIABLE);
}

Test(range, unsatisfiable_specs_are_dropped)
{
    expect_one("bytes=0-1,10000-", 10000, 0, 1);
    expect_one("bytes=-0,5-6", 10000, 5, 6);
    expect_one("bytes=20000-,9990-,-0", 10000, 9990, 9999);
}

Test(range, zero_length)
{
    expect("bytes=0-", 0, HTTP_RANGE_UNSATISFIABLE);
    expect("bytes=0-0", 0, HTTP_RANGE_UNSATISFIABLE);
    expect("bytes=5-10", 0, HTTP_RANGE_UNSATISFIABLE);
    expect("bytes=-0", 0, HTTP_RANGE_UNSATISFIABLE);
    /* §14.1.2: a non-zero suffix-range is satisfiable on an empty representation, but no
     * Content-Range can describe it: whole (empty) body with 200 */
    expect("bytes=-1", 0, HTTP_RANGE_IGNORE);
    expect("bytes=0-0,-5", 0, HTTP_RANGE_IGNORE);
    /* syntax is still judged first */
    expect("bytes=5-4", 0, HTTP_RANGE_IGNORE);
    expect("items=0-", 0, HTTP_RANGE_IGNORE);
}

Test(range, too_many)
{
    char buf[512];
    size_t len = 0;

    len += (size_t)snprintf(buf + len, sizeof(buf) - len, "bytes=");
    for (int i = 0; i < HTTP_RANGE_MAX; i++)
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%d-%d", i ? "," : "", i * 10,
                                i * 10 + 1);
    cr_assert_eq(eval(buf, 10000), HTTP_RANGE_OK);
    cr_assert_eq(got_n, HTTP_RANGE_MAX);
    for (int i = 0; i < HTTP_RANGE_MAX; i++) {
        cr_assert_eq(got[i].first, (uint64_t)i * 10);
        cr_assert_eq(got[i].last, (uint64_t)i * 10 + 1);
    }

    snprintf(buf + len, sizeof(buf) - len, ",9000-9001");
    expect(buf, 10000, HTTP_RANGE_IGNORE);

    /* unsatisfiable specs count too: the cap is on work done parsing */
    len = (size_t)snprintf(buf, sizeof(buf), "bytes=0-1");
    for (int i = 0; i < HTTP_RANGE_MAX; i++)
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, ",-0");
    expect(buf, 10000, HTTP_RANGE_IGNORE);
}

Test(range, overlapping_or_adjacent)
{
    expect("bytes=0-10,5-20", 10000, HTTP_RANGE_IGNORE);
    expect("bytes=5-20,0-10", 10000, HTTP_RANGE_IGNORE);
    expect("bytes=0-9,10-19", 10000, HTTP_RANGE_IGNORE);
    expect("bytes=10-19,0-9", 10000, HTTP_RANGE_IGNORE);
    expect("bytes=0-0,0-0", 10000, HTTP_RANGE_IGNORE);
    expect("bytes=-1,9999-", 10000, HTTP_RANGE_IGNORE);
    expect("bytes=0-,-1", 10000, HTTP_RANGE_IGNORE);
    expect("bytes=0-100,50-60", 10000, HTTP_RANGE_IGNORE);
    /* overlap only after clipping: 9000-20000 becomes 9000-9999 and meets -1 */
    expect("bytes=9000-20000,-1", 10000, HTTP_RANGE_IGNORE);
    /* a gap of one byte is fine */
    cr_assert_eq(eval("bytes=0-9,11-19", 10000), HTTP_RANGE_OK);
    cr_assert_eq(got_n, 2);
}

Test(range, overflow)
{
    expect("bytes=18446744073709551616-", 10000, HTTP_RANGE_IGNORE);
    expect("bytes=0-18446744073709551616", 10000, HTTP_RANGE_IGNORE);
    expect("bytes=-18446744073709551616", 10000, HTTP_RANGE_IGNORE);
    expect("bytes=99999999999999999999999999-", 10000, HTTP_RANGE_IGNORE);
    expect_one("bytes=-18446744073709551615", 10000, 0, 9999);
}

Test(range, huge_size)
{
    const uint64_t max = UINT64_MAX;
    expect_one("bytes=-1", max, max - 1, max - 1);
    expect_one("bytes=0-", max, 0, max - 1);
    expect("bytes=18446744073709551614-", max, HTTP_RANGE_OK);
    expect("bytes=18446744073709551615-", max, HTTP_RANGE_UNSATISFIABLE);
}

Test(range, not_nul_terminated)
{
    /* the slice ends before the '9': must be read as 0-1 */
    const char buf[] = "bytes=0-19";
    cr_assert_eq(http_range_parse(iov_make(buf, 9), 100, got, &got_n), HTTP_RANGE_OK);
    cr_assert_eq(got[0].last, 1);
}
