/* SPDX-License-Identifier: MIT */
/* Tests for server/http/cookie.c: finding one cookie among Cookie fields. */
#include <criterion/criterion.h>
#include <string.h>

#include "cookie.h"

static struct http_request req;

static void parse(const char *head)
{
    struct http_parser p;
    http_parser_init(&p);
    int n = http_parse_request(&p, (const uint8_t *)head, strlen(head), NULL, &req);
    cr_assert_eq(n, (int)strlen(head), "parse: %d", n);
}

static bool is(struct iov v, const char *want)
{
    return v.base && v.len == strlen(want) && memcmp(v.base, want, v.len) == 0;
}

Test(cookie, finds_among_others)
{
    parse("GET / HTTP/1.1\r\nHost: x\r\nCookie: a=1; ff_session=tok; b=2\r\n\r\n");
    cr_assert(is(http_cookie_find(&req, "ff_session"), "tok"));
    cr_assert(is(http_cookie_find(&req, "a"), "1"));
    cr_assert(is(http_cookie_find(&req, "b"), "2"));
}

Test(cookie, name_must_match_whole)
{
    parse("GET / HTTP/1.1\r\nHost: x\r\nCookie: xff_session=1; ff_sessionx=2; ff_session\r\n\r\n");
    cr_assert_null(http_cookie_find(&req, "ff_session").base);
}

Test(cookie, several_fields_first_wins_and_empty_values)
{
    parse("GET / HTTP/1.1\r\nHost: x\r\nCookie: other=1\r\ncookie: ff_session=first\r\n"
          "Cookie: ff_session=second\r\n\r\n");
    cr_assert(is(http_cookie_find(&req, "ff_session"), "first"));
    parse("GET / HTTP/1.1\r\nHost: x\r\nCookie: ff_session=;x=1\r\n\r\n");
    struct iov v = http_cookie_find(&req, "ff_session");
    cr_assert_not_null(v.base);
    cr_assert_eq(v.len, 0);
}

Test(cookie, none)
{
    parse("GET / HTTP/1.1\r\nHost: x\r\nX-Cookie: ff_session=1\r\n\r\n");
    cr_assert_null(http_cookie_find(&req, "ff_session").base);
    parse("GET / HTTP/1.1\r\nHost: x\r\nCookie: ;;; \r\n\r\n");
    cr_assert_null(http_cookie_find(&req, "ff_session").base);
}
