/* SPDX-License-Identifier: MIT */
/*
 * Tests for auth/session.c on a real store: creation, lookup, idle and absolute expiry, the
 * touch interval (time is injected), malformed cookies, ending sessions and the CSRF check.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "session.h"

#define T0 1700000000

static char dir[64];
static struct store *st;
static struct session_limits lim;
static int64_t alice;

static void setup(void)
{
    char err[256];

    log_set_level(LOG_ERROR);
    strcpy(dir, "/tmp/ff-session-test-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    cr_assert_eq(store_open(dir, &st, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(store_user_add(st, "alice", "$argon2id$fake", T0 - 100, &alice), 0);
    session_limits_default(&lim);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void teardown(void)
{
    store_close(st);
    st = NULL;
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(session, .init = setup, .fini = teardown);

static void create(int64_t now, char cookie[TOKEN_TEXT_LEN], char csrf[TOKEN_TEXT_LEN])
{
    cr_assert_eq(session_create(st, alice, now, cookie, csrf), 0);
}

static int lookup(const char *cookie, int64_t now, struct store_session *s)
{
    return session_lookup(st, cookie, strlen(cookie), &lim, now, s);
}

/* last_seen as stored, whatever lookup reported */
static int64_t stored_last_seen(const char *cookie)
{
    uint8_t d[TOKEN_DIGEST_LEN];
    struct store_session s;

    token_digest(cookie, strlen(cookie), d);
    cr_assert_eq(store_session_get(st, d, &s), 0);
    return s.last_seen;
}

static bool stored(const char *cookie)
{
    uint8_t d[TOKEN_DIGEST_LEN];
    struct store_session s;

    token_digest(cookie, strlen(cookie), d);
    return store_session_get(st, d, &s) == 0;
}

Test(session, limits_default)
{
    cr_assert_eq(lim.idle_s, 12 * 3600);
    cr_assert_eq(lim.absolute_s, 7 * 24 * 3600);
    cr_assert_eq(lim.touch_s, 60);
}

Test(session, create_and_lookup)
{
    char cookie[TOKEN_TEXT_LEN];
    char csrf[TOKEN_TEXT_LEN];
    struct store_session s;

    create(T0, cookie, csrf);
    cr_assert(token_well_formed(cookie, strlen(cookie)));
    cr_assert(token_well_formed(csrf, strlen(csrf)));
    cr_assert_str_neq(cookie, csrf);
    cr_assert_eq(lookup(cookie, T0 + 1, &s), 0);
    cr_assert_eq(s.user_id, alice);
    cr_assert_str_eq(s.csrf, csrf);
    cr_assert_eq(s.created, T0);

    char cookie2[TOKEN_TEXT_LEN];
    char csrf2[TOKEN_TEXT_LEN];
    create(T0, cookie2, csrf2);
    cr_assert_str_neq(cookie, cookie2);
    cr_assert_str_neq(csrf, csrf2);
}

static bool file_contains(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    return memmem(buf, n, needle, strlen(needle)) != NULL;
}

Test(session, cookie_is_stored_only_as_digest)
{
    char cookie[TOKEN_TEXT_LEN];
    char csrf[TOKEN_TEXT_LEN];
    char db[PATH_MAX];
    char wal[PATH_MAX + 8];

    create(T0, cookie, csrf);
    snprintf(db, sizeof(db), "%s/fastfile.db", dir);
    snprintf(wal, sizeof(wal), "%s-wal", db);
    /* the CSRF token is stored in clear: finding it shows the scan sees the row */
    cr_assert(file_contains(db, csrf) || file_contains(wal, csrf));
    cr_assert_not(file_contains(db, cookie));
    cr_assert_not(file_contains(wal, cookie));
    cr_assert(stored(cookie));
}

Test(session, create_for_missing_user)
{
    char cookie[TOKEN_TEXT_LEN];
    char csrf[TOKEN_TEXT_LEN];
    const char zero[TOKEN_TEXT_LEN] = {0};

    cr_assert_eq(session_create(st, alice + 1000, T0, cookie, csrf), -ENOENT);
    cr_assert_arr_eq(cookie, zero, sizeof(zero), "no usable-looking cookie is left behind");
    cr_assert_arr_eq(csrf, zero, sizeof(zero));
}

Test(session, idle_expiry)
{
    char a[TOKEN_TEXT_LEN];
    char b[TOKEN_TEXT_LEN];
    char csrf[TOKEN_TEXT_LEN];
    struct store_session s;

    create(T0, a, csrf);
    create(T0, b, csrf);
    cr_assert_eq(lookup(a, T0 + lim.idle_s, &s), 0, "exactly idle_s is still live");
    cr_assert_eq(lookup(b, T0 + lim.idle_s + 1, &s), -ENOENT);
    cr_assert_not(stored(b), "an expired session is deleted");
    cr_assert_eq(s.user_id, 0, "nothing of it is returned");
    cr_assert_eq(s.csrf[0], '\0');
    /* a was touched at T0 + idle_s, so its idle clock restarted there */
    cr_assert_eq(lookup(a, T0 + 2 * lim.idle_s, &s), 0);
    cr_assert_eq(lookup(a, T0 + 3 * lim.idle_s + 1, &s), -ENOENT);
}

Test(session, absolute_expiry)
{
    char a[TOKEN_TEXT_LEN];
    char b[TOKEN_TEXT_LEN];
    char csrf[TOKEN_TEXT_LEN];
    struct store_session s;

    create(T0, a, csrf);
    create(T0, b, csrf);
    /* used every hour, never idle: both live until the absolute limit */
    for (int64_t t = T0 + 3600; t < T0 + lim.absolute_s; t += 3600) {
        cr_assert_eq(lookup(a, t, &s), 0, "at +%lld s", (long long)(t - T0));
        cr_assert_eq(lookup(b, t, &s), 0);
    }
    cr_assert_eq(lookup(a, T0 + lim.absolute_s, &s), 0, "exactly absolute_s is still live");
    cr_assert_eq(lookup(b, T0 + lim.absolute_s + 1, &s), -ENOENT);
    cr_assert_not(stored(b));
    cr_assert_eq(lookup(a, T0 + lim.absolute_s + 1, &s), -ENOENT);
}

Test(session, touch_interval)
{
    char cookie[TOKEN_TEXT_LEN];
    char csrf[TOKEN_TEXT_LEN];
    struct store_session s;

    create(T0, cookie, csrf);
    cr_assert_eq(lookup(cookie, T0 + lim.touch_s - 1, &s), 0);
    cr_assert_eq(s.last_seen, T0);
    cr_assert_eq(stored_last_seen(cookie), T0, "not written before touch_s");
    cr_assert_eq(lookup(cookie, T0 + lim.touch_s, &s), 0);
    cr_assert_eq(s.last_seen, T0 + lim.touch_s);
    cr_assert_eq(stored_last_seen(cookie), T0 + lim.touch_s);
    cr_assert_eq(lookup(cookie, T0 + lim.touch_s + 30, &s), 0);
    cr_assert_eq(stored_last_seen(cookie), T0 + lim.touch_s);
    /* a clock that went back neither expires nor touches */
    cr_assert_eq(lookup(cookie, T0 - 500, &s), 0);
    cr_assert_eq(stored_last_seen(cookie), T0 + lim.touch_s);
}

Test(session, custom_limits)
{
    char cookie[TOKEN_TEXT_LEN];
    char csrf[TOKEN_TEXT_LEN];
    struct store_session s;

    lim = (struct session_limits){.idle_s = 10, .absolute_s = 25, .touch_s = 0};
    create(T0, cookie, csrf);
    cr_assert_eq(lookup(cookie, T0 + 10, &s), 0);
    cr_assert_eq(lookup(cookie, T0 + 20, &s), 0);
    cr_assert_eq(stored_last_seen(cookie), T0 + 20);
    cr_assert_eq(lookup(cookie, T0 + 26, &s), -ENOENT);
}

Test(session, malformed_cookies)
{
    char cookie[TOKEN_TEXT_LEN];
    char csrf[TOKEN_TEXT_LEN];
    char bad[TOKEN_TEXT_LEN + 1];
    struct store_session s;

    create(T0, cookie, csrf);
    cr_assert_eq(session_lookup(st, cookie, 42, &lim, T0, &s), -ENOENT, "truncated");
    cr_assert_eq(session_lookup(st, "", 0, &lim, T0, &s), -ENOENT);
    memcpy(bad, cookie, sizeof(cookie));
    bad[43] = 'A';
    bad[44] = '\0';
    cr_assert_eq(session_lookup(st, bad, 44, &lim, T0, &s), -ENOENT, "too long");
    memcpy(bad, cookie, sizeof(cookie));
    bad[10] = '=';
    cr_assert_eq(lookup(bad, T0, &s), -ENOENT, "outside the alphabet");
    /* well formed but unknown */
    memcpy(bad, cookie, sizeof(cookie));
    bad[0] = bad[0] == 'A' ? 'B' : 'A';
    cr_assert_eq(lookup(bad, T0, &s), -ENOENT);
    /* none of this hurt the real session */
    cr_assert_eq(lookup(cookie, T0, &s), 0);
}

Test(session, end)
{
    char cookie[TOKEN_TEXT_LEN];
    char other[TOKEN_TEXT_LEN];
    char csrf[TOKEN_TEXT_LEN];
    struct store_session s;

    create(T0, cookie, csrf);
    create(T0, other, csrf);
    cr_assert_eq(session_end(st, cookie, strlen(cookie)), 0);
    cr_assert_eq(lookup(cookie, T0, &s), -ENOENT);
    cr_assert_eq(lookup(other, T0, &s), 0, "only that session ended");
    cr_assert_eq(session_end(st, cookie, strlen(cookie)), 0, "ending twice is fine");
    cr_assert_eq(session_end(st, "junk", 4), 0);
}

Test(session, password_change_ends_sessions)
{
    char cookie[TOKEN_TEXT_LEN];
    char csrf[TOKEN_TEXT_LEN];
    struct store_session s;

    create(T0, cookie, csrf);
    cr_assert_eq(store_user_set_hash(st, "alice", "$argon2id$new"), 0);
    cr_assert_eq(lookup(cookie, T0 + 1, &s), -ENOENT);
}

Test(session, csrf)
{
    char cookie[TOKEN_TEXT_LEN];
    char csrf[TOKEN_TEXT_LEN];
    char wrong[TOKEN_TEXT_LEN];
    struct store_session s;

    create(T0, cookie, csrf);
    cr_assert_eq(lookup(cookie, T0, &s), 0);
    cr_assert(session_csrf_ok(&s, csrf, strlen(csrf)));
    memcpy(wrong, csrf, sizeof(csrf));
    wrong[42] = wrong[42] == 'A' ? 'B' : 'A';
    cr_assert_not(session_csrf_ok(&s, wrong, strlen(wrong)));
    cr_assert_not(session_csrf_ok(&s, csrf, strlen(csrf) - 1), "a prefix is not the token");
    cr_assert_not(session_csrf_ok(&s, "", 0));
    cr_assert_not(session_csrf_ok(&s, cookie, strlen(cookie)), "the cookie is not the token");
    char longer[TOKEN_TEXT_LEN + 1];
    memcpy(longer, csrf, 43);
    longer[43] = 'A';
    longer[44] = '\0';
    cr_assert_not(session_csrf_ok(&s, longer, 44));
}
