/* SPDX-License-Identifier: MIT */
/* Tests for server/http/form.c: urlencoded field lookup. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "form.h"

static int get(const char *body, const char *key, char *out, size_t outsz, size_t *len)
{
    return http_form_get(iov_make(body, strlen(body)), key, out, outsz, len);
}

Test(form, finds_fields_in_any_order)
{
    char v[64];
    size_t n;
    cr_assert_eq(get("user=alice&password=s3cret", "user", v, sizeof(v), &n), 0);
    cr_assert_str_eq(v, "alice");
    cr_assert_eq(n, 5);
    cr_assert_eq(get("user=alice&password=s3cret", "password", v, sizeof(v), &n), 0);
    cr_assert_str_eq(v, "s3cret");
    cr_assert_eq(get("password=x&user=bob", "user", v, sizeof(v), &n), 0);
    cr_assert_str_eq(v, "bob");
}

Test(form, decodes_plus_and_escapes)
{
    char v[64];
    size_t n;
    cr_assert_eq(get("password=a+b%26c%3D%25%2b", "password", v, sizeof(v), &n), 0);
    cr_assert_str_eq(v, "a b&c=%+");
    /* The name is decoded too. */
    cr_assert_eq(get("pass%77ord=x", "password", v, sizeof(v), &n), 0);
    cr_assert_str_eq(v, "x");
    /* An encoded NUL is kept; the length tells. */
    cr_assert_eq(get("user=a%00b", "user", v, sizeof(v), &n), 0);
    cr_assert_eq(n, 3);
    cr_assert_neq(strlen(v), n);
}

Test(form, missing_empty_and_first_wins)
{
    char v[64];
    size_t n = 99;
    cr_assert_eq(get("user=alice", "password", v, sizeof(v), &n), -ENOENT);
    cr_assert_eq(get("", "user", v, sizeof(v), &n), -ENOENT);
    cr_assert_eq(get("userx=1&xuser=2", "user", v, sizeof(v), &n), -ENOENT);
    cr_assert_eq(get("user=&x=1", "user", v, sizeof(v), &n), 0);
    cr_assert_eq(n, 0);
    cr_assert_eq(get("user&x=1", "user", v, sizeof(v), &n), 0);
    cr_assert_eq(n, 0);
    cr_assert_eq(get("user=a&user=b", "user", v, sizeof(v), &n), 0);
    cr_assert_str_eq(v, "a");
    cr_assert_eq(get("&&user=c&", "user", v, sizeof(v), &n), 0);
    cr_assert_str_eq(v, "c");
}

Test(form, malformed_escapes_and_room)
{
    char v[8];
    size_t n;
    cr_assert_eq(get("user=%4", "user", v, sizeof(v), &n), -EINVAL);
    cr_assert_eq(get("user=%zz", "user", v, sizeof(v), &n), -EINVAL);
    cr_assert_eq(get("user=abc%", "user", v, sizeof(v), &n), -EINVAL);
    /* 7 bytes and the NUL fit in 8; 8 do not. */
    cr_assert_eq(get("user=1234567", "user", v, sizeof(v), &n), 0);
    cr_assert_eq(get("user=12345678", "user", v, sizeof(v), &n), -ENOSPC);
    /* A malformed field that is not the one asked for does not matter. */
    cr_assert_eq(get("x=%zz&user=ok", "user", v, sizeof(v), &n), 0);
    cr_assert_str_eq(v, "ok");
}
