/* SPDX-License-Identifier: MIT */
/*
 * Tests for server/http/cond.c: precondition order of RFC 9110 §13.2.2 and If-Range (§13.1.5).
 * Requests are built by filling struct http_request by hand, so these tests do not depend on the
 * parser, only on http_header_find.
 */
#include <criterion/criterion.h>

#include "cond.h"

#define TAG "\"1-2-3\""
#define MTIME 784111777 /* Sun, 06 Nov 1994 08:49:37 GMT */
#define D_EQUAL "Sun, 06 Nov 1994 08:49:37 GMT"
#define D_BEFORE "Sun, 06 Nov 1994 08:49:36 GMT" /* one second earlier */
#define D_AFTER "Sun, 06 Nov 1994 08:49:38 GMT"

static struct http_request req;

static const struct http_validators existing = {
    .etag = {(const uint8_t *)TAG, sizeof(TAG) - 1},
    .mtime = MTIME,
    .exists = true,
};
static const struct http_validators missing = {.exists = false};

static void start(enum http_method m)
{
    memset(&req, 0, sizeof(req));
    req.method = m;
    req.target = IOV_LIT("/f");
}

static void add(const char *name, const char *value)
{
    cr_assert_lt(req.n_headers, HTTP_MAX_HEADERS);
    req.headers[req.n_headers].name = iov_make(name, strlen(name));
    req.headers[req.n_headers].value = iov_make(value, strlen(value));
    req.n_headers++;
}

static int eval(const struct http_validators *v)
{
    return http_cond_evaluate(&req, v);
}

Test(cond, no_conditions)
{
    start(HTTP_M_GET);
    add("Host", "x");
    cr_assert_eq(eval(&existing), 0);
    cr_assert_eq(eval(&missing), 0);
    cr_assert(http_cond_if_range(&req, &existing));
}

Test(cond, if_match)
{
    start(HTTP_M_PUT);
    add("If-Match", TAG);
    cr_assert_eq(eval(&existing), 0);
    cr_assert_eq(eval(&missing), 412);

    start(HTTP_M_PUT);
    add("If-Match", "\"other\"");
    cr_assert_eq(eval(&existing), 412);

    start(HTTP_M_PUT);
    add("If-Match", "\"other\", " TAG);
    cr_assert_eq(eval(&existing), 0);

    /* §13.1.1 uses strong comparison: a weak tag never matches */
    start(HTTP_M_PUT);
    add("If-Match", "W/" TAG);
    cr_assert_eq(eval(&existing), 412);

    start(HTTP_M_GET);
    add("If-Match", "garbage");
    cr_assert_eq(eval(&existing), 412);
}

Test(cond, if_match_star)
{
    start(HTTP_M_PUT);
    add("If-Match", "*");
    cr_assert_eq(eval(&existing), 0);
    cr_assert_eq(eval(&missing), 412);
}

Test(cond, if_match_split_over_lines)
{
    start(HTTP_M_PUT);
    add("If-Match", "\"a\"");
    add("Host", "x");
    add("if-match", TAG);
    cr_assert_eq(eval(&existing), 0);

    start(HTTP_M_PUT);
    add("If-Match", "\"a\"");
    add("If-Match", "\"b\"");
    cr_assert_eq(eval(&existing), 412);
}

Test(cond, header_names_case_insensitive)
{
    start(HTTP_M_GET);
    add("IF-NONE-MATCH", TAG);
    cr_assert_eq(eval(&existing), 304);

    start(HTTP_M_GET);
    add("if-modified-since", D_EQUAL);
    cr_assert_eq(eval(&existing), 304);
}

Test(cond, if_unmodified_since)
{
    start(HTTP_M_PUT);
    add("If-Unmodified-Since", D_BEFORE);
    cr_assert_eq(eval(&existing), 412);

    start(HTTP_M_PUT);
    add("If-Unmodified-Since", D_EQUAL);
    cr_assert_eq(eval(&existing), 0);

    start(HTTP_M_PUT);
    add("If-Unmodified-Since", D_AFTER);
    cr_assert_eq(eval(&existing), 0);

    /* other HTTP-date forms are accepted */
    start(HTTP_M_DELETE);
    add("If-Unmodified-Since", "Sun Nov  6 08:49:36 1994");
    cr_assert_eq(eval(&existing), 412);
}

Test(cond, if_unmodified_since_ignored)
{
    /* invalid date (§13.1.4) */
    start(HTTP_M_PUT);
    add("If-Unmodified-Since", "yesterday");
    cr_assert_eq(eval(&existing), 0);

    /* a list of dates is not a valid date */
    start(HTTP_M_PUT);
    add("If-Unmodified-Since", D_BEFORE);
    add("If-Unmodified-Since", D_BEFORE);
    cr_assert_eq(eval(&existing), 0);

    /* with If-Match present */
    start(HTTP_M_PUT);
    add("If-Match", TAG);
    add("If-Unmodified-Since", D_BEFORE);
    cr_assert_eq(eval(&existing), 0);

    /* no modification date: the resource does not exist */
    start(HTTP_M_PUT);
    add("If-Unmodified-Since", D_BEFORE);
    cr_assert_eq(eval(&missing), 0);
}

Test(cond, if_none_match)
{
    start(HTTP_M_GET);
    add("If-None-Match", TAG);
    cr_assert_eq(eval(&existing), 304);
    cr_assert_eq(eval(&missing), 0);

    start(HTTP_M_HEAD);
    add("If-None-Match", "\"x\", " TAG);
    cr_assert_eq(eval(&existing), 304);

    start(HTTP_M_PUT);
    add("If-None-Match", TAG);
    cr_assert_eq(eval(&existing), 412);

    start(HTTP_M_DELETE);
    add("If-None-Match", TAG);
    cr_assert_eq(eval(&existing), 412);

    start(HTTP_M_GET);
    add("If-None-Match", "\"other\"");
    cr_assert_eq(eval(&existing), 0);

    /* §13.1.2 uses weak comparison */
    start(HTTP_M_GET);
    add("If-None-Match", "W/" TAG);
    cr_assert_eq(eval(&existing), 304);

    /* malformed: matches nothing, so the condition holds */
    start(HTTP_M_GET);
    add("If-None-Match", TAG " junk");
    cr_assert_eq(eval(&existing), 0);
}

Test(cond, if_none_match_star)
{
    /* PUT with If-None-Match: * creates only */
    start(HTTP_M_PUT);
    add("If-None-Match", "*");
    cr_assert_eq(eval(&missing), 0);
    cr_assert_eq(eval(&existing), 412);

    start(HTTP_M_GET);
    add("If-None-Match", "*");
    cr_assert_eq(eval(&existing), 304);
}

Test(cond, if_none_match_split_over_lines)
{
    start(HTTP_M_GET);
    add("If-None-Match", "\"a\"");
    add("If-None-Match", TAG);
    cr_assert_eq(eval(&existing), 304);
}

Test(cond, if_modified_since)
{
    start(HTTP_M_GET);
    add("If-Modified-Since", D_EQUAL);
    cr_assert_eq(eval(&existing), 304);

    start(HTTP_M_HEAD);
    add("If-Modified-Since", D_AFTER);
    cr_assert_eq(eval(&existing), 304);

    start(HTTP_M_GET);
    add("If-Modified-Since", D_BEFORE);
    cr_assert_eq(eval(&existing), 0);

    start(HTTP_M_GET);
    add("If-Modified-Since", "Sunday, 06-Nov-94 08:49:37 GMT");
    cr_assert_eq(eval(&existing), 304);
}

Test(cond, if_modified_since_ignored)
{
    /* only GET and HEAD (§13.1.3) */
    start(HTTP_M_PUT);
    add("If-Modified-Since", D_AFTER);
    cr_assert_eq(eval(&existing), 0);
    start(HTTP_M_PROPFIND);
    add("If-Modified-Since", D_AFTER);
    cr_assert_eq(eval(&existing), 0);

    /* not with If-None-Match, even a non-matching one */
    start(HTTP_M_GET);
    add("If-None-Match", "\"other\"");
    add("If-Modified-Since", D_AFTER);
    cr_assert_eq(eval(&existing), 0);

    start(HTTP_M_GET);
    add("If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT; length=12");
    cr_assert_eq(eval(&existing), 0);

    start(HTTP_M_GET);
    add("If-Modified-Since", D_AFTER);
    add("If-Modified-Since", D_AFTER);
    cr_assert_eq(eval(&existing), 0);

    start(HTTP_M_GET);
    add("If-Modified-Since", D_AFTER);
    cr_assert_eq(eval(&missing), 0);
}

Test(cond, evaluation_order)
{
    /* If-Match failing wins over a matching If-None-Match (step 1 before step 3) */
    start(HTTP_M_GET);
    add("If-None-Match", TAG);
    add("If-Match", "\"other\"");
    cr_assert_eq(eval(&existing), 412);

    /* If-Unmodified-Since failing wins over a 304 */
    start(HTTP_M_GET);
    add("If-Modified-Since", D_AFTER);
    add("If-Unmodified-Since", D_BEFORE);
    cr_assert_eq(eval(&existing), 412);

    /* passing If-Match, then If-None-Match decides */
    start(HTTP_M_GET);
    add("If-Match", TAG);
    add("If-None-Match", TAG);
    cr_assert_eq(eval(&existing), 304);

    /* If-None-Match decides even where If-Modified-Since would say 304 */
    start(HTTP_M_GET);
    add("If-None-Match", "\"other\"");
    add("If-Modified-Since", D_EQUAL);
    cr_assert_eq(eval(&existing), 0);
}

Test(cond, if_range_etag)
{
    start(HTTP_M_GET);
    add("Range", "bytes=0-1");
    add("If-Range", TAG);
    cr_assert(http_cond_if_range(&req, &existing));
    cr_assert_not(http_cond_if_range(&req, &missing));

    start(HTTP_M_GET);
    add("If-Range", "W/" TAG);
    cr_assert_not(http_cond_if_range(&req, &existing));

    start(HTTP_M_GET);
    add("If-Range", "\"other\"");
    cr_assert_not(http_cond_if_range(&req, &existing));

    /* one entity-tag, not a list */
    start(HTTP_M_GET);
    add("If-Range", TAG ", \"other\"");
    cr_assert_not(http_cond_if_range(&req, &existing));

    start(HTTP_M_GET);
    add("if-range", TAG);
    cr_assert(http_cond_if_range(&req, &existing));
}

Test(cond, if_range_date)
{
    start(HTTP_M_GET);
    add("If-Range", D_EQUAL);
    cr_assert(http_cond_if_range(&req, &existing));

    /* the date must be equal, not merely "not modified since" */
    start(HTTP_M_GET);
    add("If-Range", D_AFTER);
    cr_assert_not(http_cond_if_range(&req, &existing));
    start(HTTP_M_GET);
    add("If-Range", D_BEFORE);
    cr_assert_not(http_cond_if_range(&req, &existing));

    /* a date starting with 'W' is a date, not a weak tag */
    static const struct http_validators wed = {
        .etag = {(const uint8_t *)TAG, sizeof(TAG) - 1},
        .mtime = 784382400, /* Wed, 09 Nov 1994 12:00:00 GMT */
        .exists = true,
    };
    start(HTTP_M_GET);
    add("If-Range", "Wed, 09 Nov 1994 12:00:00 GMT");
    cr_assert(http_cond_if_range(&req, &wed));
    start(HTTP_M_GET);
    add("If-Range", "Wednesday, 09-Nov-94 12:00:00 GMT");
    cr_assert(http_cond_if_range(&req, &wed));
}

Test(cond, if_range_doubtful_is_false)
{
    start(HTTP_M_GET);
    add("If-Range", "not a date");
    cr_assert_not(http_cond_if_range(&req, &existing));

    start(HTTP_M_GET);
    add("If-Range", "");
    cr_assert_not(http_cond_if_range(&req, &existing));

    start(HTTP_M_GET);
    add("If-Range", TAG);
    add("If-Range", TAG);
    cr_assert_not(http_cond_if_range(&req, &existing));
}
