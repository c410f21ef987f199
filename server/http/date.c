/* SPDX-License-Identifier: MIT */
/*
 * HTTP-date (RFC 9110 §5.6.7): formatting as IMF-fixdate, parsing of all three forms.
 *
 * Everything is plain integer arithmetic on the proleptic Gregorian calendar (days from/to civil
 * dates), so nothing depends on the locale, the TZ variable, gmtime's static buffer or timegm.
 *
 * Parsing is strict, as §5.6.7 allows ("HTTP-date is case sensitive"): exact spacing, names
 * spelt as in the grammar, fields in range, the day valid for the month, the weekday consistent
 * with the date, no leading or trailing bytes. A second of 60 is accepted only at 23:59 (the
 * grammar's leap second) and counts as the next midnight, since time_t has no leap seconds.
 * RFC 850 two-digit years are placed in the 100-year window ending 50 years from now (§5.6.7).
 *
 * Formatting clamps times outside years 0000..9999 to the nearest representable instant, since
 * IMF-fixdate has a four-digit year; real file times never come near either end.
 */
#include "date.h"

#include <errno.h>

static const char *const wday_short[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const wday_long[7] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                         "Thursday", "Friday", "Saturday"};
static const char *const month_short[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

#define SECS_PER_DAY 86400

/* Floor division and modulo: civil arithmetic must round towards minus infinity. */
static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
    return a - floor_div(a, b) * b;
}

/*
 * Days since 1970-01-01 of y-m-d (m 1..12). The year is shifted to start in March so that the
 * leap day is the last day of the shifted year; an era is 400 years = 146097 days.
 */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    if (m <= 2)
        y--;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;                         /* 0..399 */
    int64_t mp = m > 2 ? m - 3 : m + 9;                  /* March = 0 */
    int64_t doy = (153 * mp + 2) / 5 + d - 1;            /* 0..365 */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; /* 0..146096 */
    return era * 146097 + doe - 719468; /* 719468 = days from 0000-03-01 to 1970-01-01 */
}

/* Inverse of days_from_civil. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* 0 = Sunday; 1970-01-01 was a Thursday. */
static int weekday(int64_t days)
{
    return (int)floor_mod(days + 4, 7);
}

static void put2(char *p, int v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
}

/* t clamped to years 0000..9999, as a day number, a calendar date and seconds of the day. */
struct civil {
    int64_t days, y;
    int m, d, sod;
};

static struct civil civil_of(time_t t)
{
    const int64_t min = days_from_civil(0, 1, 1) * SECS_PER_DAY;
    const int64_t max = days_from_civil(9999, 12, 31) * SECS_PER_DAY + SECS_PER_DAY - 1;
    int64_t s = (int64_t)t;

    if (s < min)
        s = min;
    if (s > max)
        s = max;

    /* The last day seen, per thread: a listing's files mostly share their days. */
    static _Thread_local struct civil last = {.days = INT64_MIN};
    int64_t days = floor_div(s, SECS_PER_DAY);
    if (days != last.days) {
        last.days = days;
        civil_from_days(days, &last.y, &last.m, &last.d);
    }
    struct civil c = last;
    c.sod = (int)(s - days * SECS_PER_DAY);
    return c;
}

void http_date_format(time_t t, char out[HTTP_DATE_LEN + 1])
{
    struct civil c = civil_of(t);
    int64_t days = c.days, y = c.y;
    int m = c.m, d = c.d, sod = c.sod;

    /* "Sun, 06 Nov 1994 08:49:37 GMT" */
    memcpy(out, wday_short[weekday(days)], 3);
    memcpy(out + 3, ", ", 2);
    put2(out + 5, d);
    out[7] = ' ';
    memcpy(out + 8, month_short[m - 1], 3);
    out[11] = ' ';
    put2(out + 12, (int)(y / 100));
    put2(out + 14, (int)(y % 100));
    out[16] = ' ';
    put2(out + 17, sod / 3600);
    out[19] = ':';
    put2(out + 20, sod / 60 % 60);
    out[22] = ':';
    put2(out + 23, sod % 60);
    memcpy(out + 25, " GMT", 4);
    out[HTTP_DATE_LEN] = '\0';
}

void http_date_format_iso(time_t t, char out[HTTP_DATE_ISO_LEN + 1])
{
    struct civil c = civil_of(t);
    put2(out, (int)(c.y / 100));
    put2(out + 2, (int)(c.y % 100));
    out[4] = '-';
    put2(out + 5, c.m);
    out[7] = '-';
    put2(out + 8, c.d);
    out[10] = 'T';
    put2(out + 11, c.sod / 3600);
    out[13] = ':';
    put2(out + 14, c.sod / 60 % 60);
    out[16] = ':';
    put2(out + 17, c.sod % 60);
    out[19] = 'Z';
    out[HTTP_DATE_ISO_LEN] = '\0';
}

/* A cursor over the input; every helper advances it only on success. */
struct cur {
    const uint8_t *p;
    const uint8_t *end;
};

static bool take_lit(struct cur *c, const char *lit)
{
    size_t n = strlen(lit);

    if ((size_t)(c->end - c->p) < n || memcmp(c->p, lit, n) != 0)
        return false;
    c->p += n;
    return true;
}

static bool take_digits(struct cur *c, int n, int *out)
{
    int v = 0;

    if (c->end - c->p < n)
        return false;
    for (int i = 0; i < n; i++) {
        uint8_t ch = c->p[i];
        if (ch < '0' || ch > '9')
            return false;
        v = v * 10 + (ch - '0');
    }
    c->p += n;
    *out = v;
    return true;
}

/* Index of the name in 'names' that the input starts with (case-sensitive), or -1. */
static int take_name(struct cur *c, const char *const *names, int count)
{
    for (int i = 0; i < count; i++) {
        if (take_lit(c, names[i]))
            return i;
    }
    return -1;
}

/* Month 1..12, or -1. */
static int take_month(struct cur *c)
{
    int i = take_name(c, month_short, 12);
    return i < 0 ? -1 : i + 1;
}

/* time-of-day = hour ":" minute ":" second; seconds since midnight, or -1 */
static int take_time(struct cur *c)
{
    int h;
    int m;
    int s;

    if (!take_digits(c, 2, &h) || !take_lit(c, ":") || !take_digits(c, 2, &m) ||
        !take_lit(c, ":") || !take_digits(c, 2, &s))
        return -1;
    if (h > 23 || m > 59 || s > 60)
        return -1;
    /* §5.6.7 allows 60 for a leap second, which only ever follows 23:59:59 */
    if (s == 60 && (h != 23 || m != 59))
        return -1;
    return h * 3600 + m * 60 + s;
}

/* §5.6.7: a two-digit year more than 50 years in the future is in the past century. */
static int64_t expand_year(int yy, time_t now)
{
    int64_t now_days = floor_div((int64_t)now, SECS_PER_DAY);
    int64_t now_year;
    int m;
    int d;
    civil_from_days(now_days, &now_year, &m, &d);

    int64_t y = floor_div(now_year, 100) * 100 + yy;
    if (y > now_year + 50)
        y -= 100;
    else if (y <= now_year - 50)
        y += 100;
    return y;
}

static int finish(int64_t y, int mon, int day, int wday, int sod, time_t *out)
{
    if (mon < 1 || day < 1 || day > days_in_month(y, mon))
        return -EINVAL;
    int64_t days = days_from_civil(y, mon, day);
    /* A wrong weekday means the sender computed the date wrongly, or this is not a date. */
    if (weekday(days) != wday)
        return -EINVAL;
    int64_t t = days * SECS_PER_DAY + sod;
    if ((int64_t)(time_t)t != t)
        return -EINVAL;
    *out = (time_t)t;
    return 0;
}

/* IMF-fixdate = day-name "," SP day SP month SP year SP time-of-day SP "GMT" */
static int parse_imf(struct cur *c, time_t *out)
{
    int wday = take_name(c, wday_short, 7);
    int day;
    int mon;
    int year;
    int sod;

    if (wday < 0 || !take_lit(c, ", ") || !take_digits(c, 2, &day) || !take_lit(c, " "))
        return -EINVAL;
    mon = take_month(c);
    if (mon < 0 || !take_lit(c, " ") || !take_digits(c, 4, &year) || !take_lit(c, " "))
        return -EINVAL;
    sod = take_time(c);
    if (sod < 0 || !take_lit(c, " GMT") || c->p != c->end)
        return -EINVAL;
    return finish(year, mon, day, wday, sod, out);
}

/* rfc850-date = day-name-l "," SP day "-" month "-" 2DIGIT SP time-of-day SP "GMT" */
static int parse_rfc850(struct cur *c, const time_t *now, time_t *out)
{
    int wday = take_name(c, wday_long, 7);
    int day;
    int mon;
    int yy;
    int sod;

    if (wday < 0 || !take_lit(c, ", ") || !take_digits(c, 2, &day) || !take_lit(c, "-"))
        return -EINVAL;
    mon = take_month(c);
    if (mon < 0 || !take_lit(c, "-") || !take_digits(c, 2, &yy) || !take_lit(c, " "))
        return -EINVAL;
    sod = take_time(c);
    if (sod < 0 || !take_lit(c, " GMT") || c->p != c->end)
        return -EINVAL;
    time_t t = now ? *now : time(NULL);
    return finish(expand_year(yy, t), mon, day, wday, sod, out);
}

/* asctime-date = day-name SP month SP ( 2DIGIT / ( SP DIGIT ) ) SP time-of-day SP year */
static int parse_asctime(struct cur *c, time_t *out)
{
    int wday = take_name(c, wday_short, 7);
    int day;
    int mon;
    int year;
    int sod;

    if (wday < 0 || !take_lit(c, " "))
        return -EINVAL;
    mon = take_month(c);
    if (mon < 0 || !take_lit(c, " "))
        return -EINVAL;
    if (take_lit(c, " ")) {
        if (!take_digits(c, 1, &day))
            return -EINVAL;
    } else if (!take_digits(c, 2, &day)) {
        return -EINVAL;
    }
    if (!take_lit(c, " "))
        return -EINVAL;
    sod = take_time(c);
    if (sod < 0 || !take_lit(c, " ") || !take_digits(c, 4, &year) || c->p != c->end)
        return -EINVAL;
    return finish(year, mon, day, wday, sod, out);
}

/* 'now' decides the century of RFC 850 dates; NULL means the clock. Tests include this file to
 * pass a fixed one. */
static int parse_date(struct iov s, const time_t *now, time_t *out)
{
    if (s.len < 4)
        return -EINVAL;
    struct cur c = {s.base, s.base + s.len};

    /* The forms differ at the fourth byte: "Sun," IMF, "Sun " asctime, "Sund" RFC 850. */
    if (s.base[3] == ',')
        return parse_imf(&c, out);
    if (s.base[3] == ' ')
        return parse_asctime(&c, out);
    return parse_rfc850(&c, now, out);
}

int http_date_parse(struct iov s, time_t *out)
{
    return parse_date(s, NULL, out);
}
