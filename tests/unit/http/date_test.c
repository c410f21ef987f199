/* SPDX-License-Identifier: MIT */
/*
 * Tests for server/http/date.c: IMF-fixdate formatting (checked against libc's gmtime_r),
 * parsing of the three HTTP-date forms, strictness, the RFC 850 century window and round trips.
 * Includes date.c to pass a fixed "now" to the RFC 850 parser.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "date.c"

static time_t at(int64_t y, int m, int d, int hh, int mm, int ss)
{
    return (time_t)(days_from_civil(y, m, d) * SECS_PER_DAY + hh * 3600 + mm * 60 + ss);
}

static void expect_format(time_t t, const char *want)
{
    char out[HTTP_DATE_LEN + 1];

    memset(out, 'X', sizeof(out));
    http_date_format(t, out);
    cr_assert_str_eq(out, want, "t=%lld", (long long)t);
}

static int parse(const char *s, time_t *t)
{
    return http_date_parse(iov_make(s, strlen(s)), t);
}

static void expect_parse(const char *s, time_t want)
{
    time_t t = 0;
    int rc = parse(s, &t);
    cr_assert_eq(rc, 0, "'%s': rc %d", s, rc);
    cr_assert_eq(t, want, "'%s': %lld, want %lld", s, (long long)t, (long long)want);
}

static void expect_invalid(const char *s)
{
    time_t t = 777;
    cr_assert_eq(parse(s, &t), -EINVAL, "'%s' should be invalid", s);
    cr_assert_eq(t, 777, "'%s': output written on error", s);
}

Test(date, format_known)
{
    expect_format(784111777, "Sun, 06 Nov 1994 08:49:37 GMT");
    expect_format(0, "Thu, 01 Jan 1970 00:00:00 GMT");
    expect_format(-1, "Wed, 31 Dec 1969 23:59:59 GMT");
    expect_format(951782400, "Tue, 29 Feb 2000 00:00:00 GMT");
    expect_format(1709210096, "Thu, 29 Feb 2024 12:34:56 GMT");
    expect_format(2147483647, "Tue, 19 Jan 2038 03:14:07 GMT");
    expect_format(2147483648, "Tue, 19 Jan 2038 03:14:08 GMT");
    expect_format(4102444800, "Fri, 01 Jan 2100 00:00:00 GMT");
    expect_format(-2203891200, "Thu, 01 Mar 1900 00:00:00 GMT");
    expect_format(-11670998400, "Tue, 29 Feb 1600 00:00:00 GMT");
    expect_format(253402300799, "Fri, 31 Dec 9999 23:59:59 GMT");
}

Test(date, format_clamps)
{
    expect_format(253402300800, "Fri, 31 Dec 9999 23:59:59 GMT");
    expect_format((time_t)INT64_MAX, "Fri, 31 Dec 9999 23:59:59 GMT");
    expect_format(-62167219200, "Sat, 01 Jan 0000 00:00:00 GMT");
    expect_format((time_t)INT64_MIN, "Sat, 01 Jan 0000 00:00:00 GMT");
    char iso[HTTP_DATE_ISO_LEN + 1];
    http_date_format_iso((time_t)INT64_MAX, iso);
    cr_assert_str_eq(iso, "9999-12-31T23:59:59Z");
    http_date_format_iso((time_t)INT64_MIN, iso);
    cr_assert_str_eq(iso, "0000-01-01T00:00:00Z");
}

/* Every format must agree with libc's gmtime_r in the C locale over the whole range. */
Test(date, format_matches_gmtime)
{
    unsigned seed = 1;
    /* from 1000: below that glibc's %Y has fewer than four digits */
    const int64_t lo = days_from_civil(1000, 1, 1) * SECS_PER_DAY;
    const int64_t hi = 253402300799;

    for (int i = 0; i < 200000; i++) {
        uint64_t r =
            (uint64_t)rand_r(&seed) << 32 ^ (uint64_t)rand_r(&seed) << 16 ^ (uint64_t)rand_r(&seed);
        time_t t = (time_t)(lo + (int64_t)(r % (uint64_t)(hi - lo + 1)));
        if (i < 4000)
            t = (time_t)((int64_t)i * 86399 * 17 - 2000000000); /* dense around 1970 */
        char want[64];
        char out[HTTP_DATE_LEN + 1];
        struct tm tm;

        cr_assert_not_null(gmtime_r(&t, &tm));
        strftime(want, sizeof(want), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        http_date_format(t, out);
        cr_assert_str_eq(out, want, "t=%lld", (long long)t);
        char iso[HTTP_DATE_ISO_LEN + 1];
        strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ", &tm);
        http_date_format_iso(t, iso);
        cr_assert_str_eq(iso, want, "t=%lld", (long long)t);
    }
}

Test(date, round_trip)
{
    static const int64_t fixed[] = {
        0,          1,          -1,         59,          60,           86399,        86400,
        784111777,  951782400,  951868799,  951868800,   1709210096,   2147483647,   2147483648,
        4102444799, 4102444800, 4107542399, -2203891200, -11670998400, -62167219200, 253402300799,
        68169600, /* 1972-02-29 */
    };
    char out[HTTP_DATE_LEN + 1];
    time_t t;

    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        http_date_format((time_t)fixed[i], out);
        cr_assert_eq(parse(out, &t), 0, "'%s'", out);
        cr_assert_eq((int64_t)t, fixed[i], "'%s'", out);
    }
    /* every day of 1968..2105 at a varying time of day: all leap years, 2000, 2038, 2100 */
    for (int64_t d = days_from_civil(1968, 1, 1); d < days_from_civil(2106, 1, 1); d++) {
        time_t want = (time_t)(d * SECS_PER_DAY + (d * 7919) % SECS_PER_DAY);
        http_date_format(want, out);
        cr_assert_eq(parse(out, &t), 0, "'%s'", out);
        cr_assert_eq(t, want, "'%s'", out);
    }
}

Test(date, civil_round_trip)
{
    for (int64_t y = -401; y <= 10001; y++) {
        for (int m = 1; m <= 12; m++) {
            for (int d = 1; d <= days_in_month(y, m); d++) {
                int64_t days = days_from_civil(y, m, d);
                int64_t yy;
                int mm;
                int dd;
                civil_from_days(days, &yy, &mm, &dd);
                if (yy != y || mm != m || dd != d)
                    cr_assert_fail("%lld-%d-%d -> %lld -> %lld-%d-%d", (long long)y, m, d,
                                   (long long)days, (long long)yy, mm, dd);
                if (d > 1 || m > 1)
                    continue;
                /* consecutive years are 365 or 366 days apart */
                int64_t len = days_from_civil(y + 1, 1, 1) - days;
                cr_assert_eq(len, is_leap(y) ? 366 : 365);
            }
        }
    }
    cr_assert_eq(days_from_civil(1970, 1, 1), 0);
}

Test(date, parse_three_forms)
{
    expect_parse("Sun, 06 Nov 1994 08:49:37 GMT", 784111777);
    expect_parse("Sunday, 06-Nov-94 08:49:37 GMT", 784111777);
    expect_parse("Sun Nov  6 08:49:37 1994", 784111777);
    expect_parse("Sun Nov 06 08:49:37 1994", 784111777);
    expect_parse("Wed Nov  9 12:00:00 1994", 784382400);
    expect_parse("Wednesday, 09-Nov-94 12:00:00 GMT", 784382400);
    expect_parse("Thu Jan  1 00:00:00 1970", 0);
    expect_parse("Thu Feb 29 12:34:56 2024", 1709210096);
}

Test(date, parse_leap_second)
{
    /* 23:59:60 is the grammar's leap second; time_t has none, so it is the next midnight */
    expect_parse("Sat, 31 Dec 2016 23:59:60 GMT", 1483228800);
    expect_invalid("Sat, 31 Dec 2016 12:00:60 GMT");
    expect_invalid("Sat, 31 Dec 2016 23:58:60 GMT");
}

Test(date, parse_calendar_validity)
{
    expect_parse("Tue, 29 Feb 2000 00:00:00 GMT", 951782400);
    expect_invalid("Fri, 29 Feb 2100 00:00:00 GMT"); /* 2100 is not a leap year */
    expect_invalid("Sat, 29 Feb 2003 00:00:00 GMT");
    expect_invalid("Thu, 31 Nov 1994 08:49:37 GMT");
    expect_invalid("Sun, 00 Nov 1994 08:49:37 GMT");
    expect_invalid("Sun, 32 Nov 1994 08:49:37 GMT");
    expect_invalid("Sun, 06 Nov 1994 24:00:00 GMT");
    expect_invalid("Sun, 06 Nov 1994 08:60:37 GMT");
    expect_invalid("Sun, 06 Nov 1994 08:49:61 GMT");
}

Test(date, parse_weekday_must_fit)
{
    expect_invalid("Mon, 06 Nov 1994 08:49:37 GMT");
    expect_invalid("Monday, 06-Nov-94 08:49:37 GMT");
    expect_invalid("Mon Nov  6 08:49:37 1994");
    expect_invalid("Sux, 06 Nov 1994 08:49:37 GMT");
    expect_invalid("Sundae, 06-Nov-94 08:49:37 GMT");
}

Test(date, parse_strict_syntax)
{
    const char *bad[] = {
        "",
        "Sun",
        "Sun,",
        "Sun, 06 Nov 1994 08:49:37 GMT ",
        " Sun, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMTx",
        "Sun, 06 Nov 1994 08:49:37",
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 06 Nov 1994 08:49:37 gmt",
        "sun, 06 Nov 1994 08:49:37 GMT",
        "SUN, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 nov 1994 08:49:37 GMT",
        "Sun, 06 NOV 1994 08:49:37 GMT",
        "Sun, 06 Xyz 1994 08:49:37 GMT",
        "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun,  6 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 94 08:49:37 GMT",
        "Sun, 06 Nov 01994 08:49:37 GMT",
        "Sun, 06 Nov 1994 8:49:37 GMT",
        "Sun, 06 Nov 1994 08:49 GMT",
        "Sun, 06 Nov 1994 08-49-37 GMT",
        "Sun,06 Nov 1994 08:49:37 GMT",
        "Sun, 06  Nov 1994 08:49:37 GMT",
        "Sun, 06-Nov-1994 08:49:37 GMT",
        "Sunday, 06-Nov-1994 08:49:37 GMT",
        "Sunday, 06 Nov 1994 08:49:37 GMT",
        "Sunday, 6-Nov-94 08:49:37 GMT",
        "Sunday, 06-Nov-94 08:49:37",
        "sunday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov 6 08:49:37 1994",
        "Sun Nov   6 08:49:37 1994",
        "Sun Nov  6 08:49:37 94",
        "Sun Nov  6 08:49:37 1994 ",
        "Sun Nov  6 08:49:37 1994 GMT",
        "Sun Nov  6 08:49:37 GMT 1994",
        "Sun Nov 6  08:49:37 1994",
        "Sun, 06 Nov 1994 08:49:37 GMT, Sun, 06 Nov 1994 08:49:37 GMT",
        "784111777",
        "-1",
        "Sun, 06 Nov +994 08:49:37 GMT",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_invalid(bad[i]);

    /* an embedded NUL ends nothing: the slice length counts */
    const char nul[] = "Sun, 06 Nov 1994 08:49:37 GMT\0";
    time_t t;
    cr_assert_eq(http_date_parse(iov_make(nul, sizeof(nul) - 1), &t), -EINVAL);
    cr_assert_eq(http_date_parse(iov_make(nul, sizeof(nul) - 2), &t), 0);
}

static time_t parse850(const char *s, time_t now)
{
    time_t t = 0;
    int rc = parse_date(iov_make(s, strlen(s)), &now, &t);
    cr_assert_eq(rc, 0, "'%s': rc %d", s, rc);
    return t;
}

Test(date, rfc850_century_window)
{
    /* RFC 9110 §5.6.7: more than 50 years in the future means the previous century */
    time_t now = at(2025, 6, 1, 0, 0, 0);
    cr_assert_eq(parse850("Sunday, 06-Nov-94 08:49:37 GMT", now), 784111777);
    cr_assert_eq(parse850("Saturday, 01-Jan-00 00:00:00 GMT", now), at(2000, 1, 1, 0, 0, 0));
    cr_assert_eq(parse850("Friday, 15-Mar-75 00:00:00 GMT", now), at(2075, 3, 15, 0, 0, 0));
    cr_assert_eq(parse850("Monday, 15-Mar-76 00:00:00 GMT", now), at(1976, 3, 15, 0, 0, 0));
    /* in 2025, "70" is 45 years ahead: 2070, not 1970 */
    cr_assert_eq(parse850("Wednesday, 01-Jan-70 00:00:00 GMT", now), at(2070, 1, 1, 0, 0, 0));
    /* in 2019 it was 51 years ahead: 1970 */
    now = at(2019, 6, 1, 0, 0, 0);
    cr_assert_eq(parse850("Thursday, 01-Jan-70 00:00:00 GMT", now), 0);
    /* exactly 50 years ahead is still the future */
    now = at(2020, 1, 1, 0, 0, 0);
    cr_assert_eq(parse850("Wednesday, 01-Jan-70 00:00:00 GMT", now), at(2070, 1, 1, 0, 0, 0));

    /* late in a century, small years belong to the next one */
    now = at(2099, 6, 1, 0, 0, 0);
    cr_assert_eq(parse850("Wednesday, 31-Dec-49 00:00:00 GMT", now), at(2149, 12, 31, 0, 0, 0));
    cr_assert_eq(parse850("Saturday, 01-Jan-50 00:00:00 GMT", now), at(2050, 1, 1, 0, 0, 0));
    cr_assert_eq(parse850("Friday, 01-Jan-00 00:00:00 GMT", now), at(2100, 1, 1, 0, 0, 0));

    /* the weekday has to fit the year the window picked */
    time_t t;
    now = at(2025, 6, 1, 0, 0, 0);
    cr_assert_eq(parse_date(IOV_LIT("Monday, 15-Mar-75 00:00:00 GMT"), &now, &t), -EINVAL);
}

Test(date, rfc850_with_clock)
{
    /* with the real clock, 1994 is certainly the past */
    expect_parse("Sunday, 06-Nov-94 08:49:37 GMT", 784111777);
}

Test(date, independent_of_tz)
{
    char out[HTTP_DATE_LEN + 1];
    time_t t;

    setenv("TZ", "America/New_York", 1);
    tzset();
    http_date_format(784111777, out);
    cr_assert_str_eq(out, "Sun, 06 Nov 1994 08:49:37 GMT");
    cr_assert_eq(parse("Sun, 06 Nov 1994 08:49:37 GMT", &t), 0);
    cr_assert_eq(t, 784111777);
    setenv("TZ", "Asia/Kolkata", 1);
    tzset();
    cr_assert_eq(parse("Sun Nov  6 08:49:37 1994", &t), 0);
    cr_assert_eq(t, 784111777);
}
