/* SPDX-License-Identifier: MIT */
/*
 * Tests for auth/throttle.c with an injected clock: soft limit and doubling delays, bans and
 * the sink, the sliding window, the per-name rule, address keys, bounded tables, threads.
 * The .c is included to count the records its tables hold.
 */
#include <criterion/criterion.h>
#include <stdatomic.h>

#include "../../../auth/throttle.c"

/* Limits small enough to reach in a few calls. */
static const struct throttle_limits lim = {
    .window_s = 60,
    .addr_soft = 3,
    .addr_ban = 8,
    .user_soft = 5,
    .delay_base_s = 1,
    .delay_max_s = 8,
    .ban_s = 120,
};

struct sink_log {
    atomic_int bans;
    atomic_int unbans;
    struct sockaddr_storage last_ban;
    struct sockaddr_storage last_unban;
    int64_t last_until_ms;
};

static struct sink_log sl;

static void on_ban(void *ctx, const struct sockaddr *sa, int64_t until_ms)
{
    struct sink_log *s = ctx;

    atomic_fetch_add(&s->bans, 1);
    memcpy(&s->last_ban, sa,
           sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
    s->last_until_ms = until_ms;
}

static void on_unban(void *ctx, const struct sockaddr *sa)
{
    struct sink_log *s = ctx;

    atomic_fetch_add(&s->unbans, 1);
    memcpy(&s->last_unban, sa,
           sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
}

static const struct ban_sink sink = {.ban = on_ban, .unban = on_unban, .ctx = &sl};

static struct throttle *make(const struct throttle_limits *l)
{
    struct throttle *t = throttle_new(l, &sink);

    cr_assert_not_null(t);
    return t;
}

static void quiet(void)
{
    log_set_level(LOG_WARN); /* thousands of ban lines otherwise */
    memset(&sl, 0, sizeof(sl));
}

TestSuite(throttle, .init = quiet);

static struct sockaddr_storage v4(const char *ip)
{
    struct sockaddr_storage ss = {0};
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

    sin->sin_family = AF_INET;
    sin->sin_port = htons(40000);
    cr_assert_eq(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
    return ss;
}

static struct sockaddr_storage v6(const char *ip)
{
    struct sockaddr_storage ss = {0};
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(40001);
    cr_assert_eq(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
    return ss;
}

/* 10.x.y.z for n */
static struct sockaddr_storage nth(uint32_t n)
{
    struct sockaddr_storage ss = {0};
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = htonl(0x0a000000u | n);
    return ss;
}

#define SA(ss) ((const struct sockaddr *)&(ss))

static void fail_n(struct throttle *t, const struct sockaddr *sa, const char *user, int n,
                   int64_t now)
{
    for (int i = 0; i < n; i++)
        throttle_fail(t, sa, user, now);
}

static enum throttle_verdict check(struct throttle *t, const struct sockaddr *sa, const char *user,
                                   int64_t now, unsigned *retry)
{
    *retry = 12345;
    return throttle_check(t, sa, user, now, retry);
}

/* Records in a table, counted twice: through the lists and as capacity minus the free list. */
static unsigned records(struct throttle_table *tab)
{
    unsigned listed = 0;
    unsigned nfree = 0;

    for (uint32_t i = tab->live.first; i != THROTTLE_NIL; i = tab->recs[i].next)
        listed++;
    for (uint32_t i = tab->banned.first; i != THROTTLE_NIL; i = tab->recs[i].next)
        listed++;
    for (uint32_t i = tab->free; i != THROTTLE_NIL; i = tab->recs[i].chain)
        nfree++;
    cr_assert_eq(listed + nfree, tab->cap, "records lost: %u listed, %u free", listed, nfree);
    return listed;
}

Test(throttle, default_limits)
{
    struct throttle_limits l;

    throttle_limits_default(&l);
    cr_assert_eq(l.window_s, 900);
    cr_assert_eq(l.addr_soft, 10);
    cr_assert_eq(l.addr_ban, 20);
    cr_assert_eq(l.user_soft, 20);
    cr_assert_eq(l.delay_base_s, 1);
    cr_assert_eq(l.delay_max_s, 60);
    cr_assert_eq(l.ban_s, 900);
}

Test(throttle, under_soft_limit_ok)
{
    struct throttle *t = make(&lim);
    struct sockaddr_storage a = v4("192.0.2.1");
    unsigned r;

    cr_assert_eq(check(t, SA(a), "alice", 0, &r), THROTTLE_OK);
    cr_assert_eq(r, 0);
    fail_n(t, SA(a), "alice", 2, 0);
    cr_assert_eq(check(t, SA(a), "alice", 0, &r), THROTTLE_OK);
    cr_assert_eq(check(t, SA(a), NULL, 0, &r), THROTTLE_OK);
    throttle_fail(t, SA(a), "alice", 0);
    cr_assert_eq(check(t, SA(a), "alice", 0, &r), THROTTLE_WAIT);
    throttle_free(t);
}

Test(throttle, wait_at_soft_limit_then_doubling_to_max)
{
    struct throttle_limits l = lim;
    l.addr_ban = 100;
    struct throttle *t = make(&l);
    struct sockaddr_storage a = v4("192.0.2.1");
    static const unsigned want[] = {1, 2, 4, 8, 8, 8};
    unsigned r;

    fail_n(t, SA(a), NULL, 3, 1000);
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        cr_assert_eq(check(t, SA(a), NULL, 1000, &r), THROTTLE_WAIT, "attempt %zu", i);
        cr_assert_eq(r, want[i], "attempt %zu: retry %u, want %u", i, r, want[i]);
    }
    throttle_free(t);
}

Test(throttle, attempt_after_the_delay_is_allowed)
{
    struct throttle *t = make(&lim);
    struct sockaddr_storage a = v4("192.0.2.1");
    unsigned r;

    fail_n(t, SA(a), NULL, 3, 0);
    cr_assert_eq(check(t, SA(a), NULL, 0, &r), THROTTLE_WAIT);
    cr_assert_eq(r, 1);
    /* a client honouring Retry-After gets through, and not a millisecond earlier */
    cr_assert_eq(check(t, SA(a), NULL, 1000, &r), THROTTLE_OK);
    cr_assert_eq(r, 0);
    throttle_fail(t, SA(a), NULL, 1000); /* 5 failures: next delay 2 s */
    cr_assert_eq(check(t, SA(a), NULL, 2999, &r), THROTTLE_WAIT);
    cr_assert_eq(r, 4); /* 6 failures now, counted from 2999 */
    cr_assert_eq(check(t, SA(a), NULL, 2999 + 4000, &r), THROTTLE_OK);
    throttle_free(t);
}

Test(throttle, waits_count_toward_ban)
{
    struct throttle *t = make(&lim);
    struct sockaddr_storage a = v4("192.0.2.1");
    unsigned r;

    fail_n(t, SA(a), NULL, 3, 0);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(check(t, SA(a), NULL, 0, &r), THROTTLE_WAIT, "wait %d", i);
    cr_assert_eq(sl.bans, 0);
    cr_assert_not(throttle_banned(t, SA(a), 0));
    /* the 8th failure is a refused attempt: it bans */
    cr_assert_eq(check(t, SA(a), NULL, 0, &r), THROTTLE_BANNED);
    cr_assert_eq(r, 120);
    cr_assert_eq(sl.bans, 1);
    cr_assert(throttle_banned(t, SA(a), 0));
    throttle_free(t);
}

Test(throttle, ban_at_addr_ban_sink_once_then_unban)
{
    struct throttle_limits l = lim;
    l.addr_soft = 8; /* no delays on the way: only the ban matters here */
    struct throttle *t = make(&l);
    struct sockaddr_storage a = v4("192.0.2.9");
    unsigned r;

    fail_n(t, SA(a), "alice", 7, 5000);
    cr_assert_not(throttle_banned(t, SA(a), 5000));
    cr_assert_eq(sl.bans, 0);
    throttle_fail(t, SA(a), "alice", 5000);
    cr_assert(throttle_banned(t, SA(a), 5000));
    cr_assert_eq(sl.bans, 1);
    cr_assert_eq(sl.last_until_ms, 5000 + 120 * 1000);
    const struct sockaddr_in *got = (const struct sockaddr_in *)&sl.last_ban;
    cr_assert_eq(got->sin_family, AF_INET);
    cr_assert_eq(got->sin_addr.s_addr, ((struct sockaddr_in *)&a)->sin_addr.s_addr);

    /* more failures, checks and successes during the ban change nothing */
    fail_n(t, SA(a), "alice", 5, 6000);
    throttle_success(t, SA(a), 6000);
    cr_assert_eq(check(t, SA(a), "alice", 6000, &r), THROTTLE_BANNED);
    cr_assert_eq(r, 119);
    cr_assert_eq(check(t, SA(a), "alice", 6001, &r), THROTTLE_BANNED);
    cr_assert_eq(r, 119); /* 118.999 s rounds up */
    cr_assert_eq(sl.bans, 1);
    cr_assert(throttle_banned(t, SA(a), 5000 + 120 * 1000 - 1));
    cr_assert_eq(sl.unbans, 0);

    cr_assert_not(throttle_banned(t, SA(a), 5000 + 120 * 1000));
    cr_assert_eq(sl.unbans, 1);
    got = (const struct sockaddr_in *)&sl.last_unban;
    cr_assert_eq(got->sin_family, AF_INET);
    cr_assert_eq(got->sin_addr.s_addr, ((struct sockaddr_in *)&a)->sin_addr.s_addr);
    cr_assert_not(throttle_banned(t, SA(a), 5000 + 120 * 1000 + 1));
    cr_assert_eq(sl.unbans, 1);
    /* the ban took the failures with it: a fresh start */
    cr_assert_eq(check(t, SA(a), "alice", 5000 + 120 * 1000, &r), THROTTLE_OK);
    throttle_fail(t, SA(a), NULL, 5000 + 120 * 1000);
    cr_assert_eq(check(t, SA(a), NULL, 5000 + 120 * 1000, &r), THROTTLE_OK);
    throttle_free(t);
}

Test(throttle, window_forgets_old_failures)
{
    struct throttle_limits l = lim;
    l.delay_base_s = l.delay_max_s = 100; /* a delay that outlasts the test */
    struct throttle *t1 = make(&l);
    struct throttle *t2 = make(&l);
    struct sockaddr_storage a = v4("192.0.2.1");
    unsigned r;

    for (int64_t at = 0; at <= 20000; at += 10000) {
        throttle_fail(t1, SA(a), NULL, at);
        throttle_fail(t2, SA(a), NULL, at);
    }
    /* the failure at 0 still counts 1 ms before it is window_s old ... */
    cr_assert_eq(check(t1, SA(a), NULL, 59999, &r), THROTTLE_WAIT);
    /* ... and no longer when it is */
    cr_assert_eq(check(t2, SA(a), NULL, 60000, &r), THROTTLE_OK);
    /* sliding, not reset at a window edge: the failures at 10 s and 20 s still count */
    throttle_fail(t2, SA(a), NULL, 60000);
    cr_assert_eq(check(t2, SA(a), NULL, 60000, &r), THROTTLE_WAIT);
    throttle_free(t1);
    throttle_free(t2);
}

Test(throttle, slow_failures_never_ban)
{
    struct throttle *t = make(&lim);
    struct sockaddr_storage a = v4("192.0.2.1");

    /* one failure every 10 s: at most 6 inside the 60 s window, 8 needed to ban */
    for (int i = 0; i < 50; i++)
        throttle_fail(t, SA(a), NULL, i * 10000);
    cr_assert_eq(sl.bans, 0);
    cr_assert_not(throttle_banned(t, SA(a), 500000));
    throttle_free(t);
}

Test(throttle, success_clears_the_address_not_the_name)
{
    struct throttle_limits l = lim;
    l.addr_soft = 10;
    l.user_soft = 3;
    struct throttle *t = make(&l);
    struct sockaddr_storage a = v4("192.0.2.1");
    unsigned r;

    fail_n(t, SA(a), "alice", 3, 0);
    /* alice is under attack and a has failed: a waits */
    cr_assert_eq(check(t, SA(a), "alice", 0, &r), THROTTLE_WAIT);
    throttle_success(t, SA(a), 0);
    cr_assert_eq(check(t, SA(a), "alice", 0, &r), THROTTLE_OK);
    /* the name kept its failures: one more failure of a makes it wait again at once */
    throttle_fail(t, SA(a), "alice", 0);
    cr_assert_eq(check(t, SA(a), "alice", 0, &r), THROTTLE_WAIT);
    throttle_free(t);
}

Test(throttle, success_resets_the_soft_count)
{
    struct throttle *t = make(&lim);
    struct sockaddr_storage a = v4("192.0.2.1");
    unsigned r;

    fail_n(t, SA(a), NULL, 3, 0);
    throttle_success(t, SA(a), 0);
    fail_n(t, SA(a), NULL, 2, 0);
    cr_assert_eq(check(t, SA(a), NULL, 0, &r), THROTTLE_OK);
    cr_assert_eq(records(&t->addrs), 1);
    throttle_success(t, SA(a), 0);
    cr_assert_eq(records(&t->addrs), 0);
    throttle_free(t);
}

Test(throttle, addr_keys)
{
    struct sockaddr_storage a4 = v4("192.0.2.7");
    struct sockaddr_storage m6 = v6("::ffff:192.0.2.7");
    struct sockaddr_storage a6 = v6("2001:db8:1:2::1");
    struct sockaddr_storage b6 = v6("2001:db8:1:2:ffff:eeee:dddd:cccc");
    struct sockaddr_storage c6 = v6("2001:db8:1:3::1");

    struct throttle_addr k4 = throttle_addr_from(SA(a4));
    struct throttle_addr km = throttle_addr_from(SA(m6));
    cr_assert_eq(k4.family, AF_INET);
    cr_assert_eq(memcmp(&k4, &km, sizeof(k4)), 0);

    struct throttle_addr ka = throttle_addr_from(SA(a6));
    struct throttle_addr kb = throttle_addr_from(SA(b6));
    struct throttle_addr kc = throttle_addr_from(SA(c6));
    cr_assert_eq(ka.family, AF_INET6);
    cr_assert_eq(memcmp(&ka, &kb, sizeof(ka)), 0, "one /64, one key");
    cr_assert_neq(memcmp(&ka, &kc, sizeof(ka)), 0, "another /64, another key");
}

Test(throttle, mapped_v6_and_v4_share_a_record)
{
    struct throttle *t = make(&lim);
    struct sockaddr_storage a4 = v4("192.0.2.7");
    struct sockaddr_storage m6 = v6("::ffff:192.0.2.7");
    unsigned r;

    fail_n(t, SA(m6), NULL, 3, 0);
    cr_assert_eq(check(t, SA(a4), NULL, 0, &r), THROTTLE_WAIT);
    fail_n(t, SA(a4), NULL, 8, 0);
    cr_assert(throttle_banned(t, SA(m6), 0));
    cr_assert_eq(sl.bans, 1);
    cr_assert_eq(sl.last_ban.ss_family, AF_INET, "the sink sees the IPv4 form");
    throttle_free(t);
}

Test(throttle, v6_ban_covers_the_64)
{
    struct throttle *t = make(&lim);
    struct sockaddr_storage a = v6("2001:db8:1:2::1");
    struct sockaddr_storage b = v6("2001:db8:1:2:aaaa::5");
    struct sockaddr_storage c = v6("2001:db8:1:3::1");
    struct sockaddr_storage prefix = v6("2001:db8:1:2::");

    fail_n(t, SA(a), NULL, 8, 0);
    cr_assert(throttle_banned(t, SA(b), 0));
    cr_assert_not(throttle_banned(t, SA(c), 0));
    const struct sockaddr_in6 *got = (const struct sockaddr_in6 *)&sl.last_ban;
    cr_assert_eq(got->sin6_family, AF_INET6);
    cr_assert_eq(memcmp(&got->sin6_addr, &((struct sockaddr_in6 *)&prefix)->sin6_addr, 16), 0);
    throttle_free(t);
}

Test(throttle, per_name_rule)
{
    struct throttle_limits l = lim;
    l.addr_soft = 10;
    l.addr_ban = 20;
    struct throttle *t = make(&l);
    struct sockaddr_storage clean = v4("198.51.100.1");
    struct sockaddr_storage own = v4("198.51.100.2");
    unsigned r;

    /* one failure each from 4 addresses: the name is not yet past user_soft (5) */
    for (uint32_t n = 1; n <= 4; n++) {
        struct sockaddr_storage a = nth(n);
        throttle_fail(t, SA(a), "victim", 0);
    }
    struct sockaddr_storage a1 = nth(1);
    cr_assert_eq(check(t, SA(a1), "victim", 0, &r), THROTTLE_OK);
    struct sockaddr_storage a5 = nth(5);
    throttle_fail(t, SA(a5), "victim", 0);

    /* now it is: an address that has failed waits, doubling from the base delay ... */
    cr_assert_eq(check(t, SA(a1), "victim", 0, &r), THROTTLE_WAIT);
    cr_assert_eq(r, 1);
    cr_assert_eq(check(t, SA(a1), "victim", 0, &r), THROTTLE_WAIT);
    cr_assert_eq(r, 2);
    /* ... but only for that name, or with no name yet */
    struct sockaddr_storage a2 = nth(2);
    cr_assert_eq(check(t, SA(a2), "someone", 0, &r), THROTTLE_OK);
    cr_assert_eq(check(t, SA(a2), NULL, 0, &r), THROTTLE_OK);
    cr_assert_eq(check(t, SA(a2), "victim", 0, &r), THROTTLE_WAIT);
    /* a clean address still gets through: the owner is not locked out */
    cr_assert_eq(check(t, SA(clean), "victim", 0, &r), THROTTLE_OK);
    /* any failure of the address counts, whatever name it was on */
    throttle_fail(t, SA(own), "someone", 0);
    cr_assert_eq(check(t, SA(own), "victim", 0, &r), THROTTLE_WAIT);
    /* names are truncated to 64 bytes for keying */
    char long_a[100];
    char long_b[100];
    memset(long_a, 'x', 99);
    long_a[99] = '\0';
    memcpy(long_b, long_a, sizeof(long_b));
    long_b[80] = 'y';
    fail_n(t, SA(a1), long_a, 5, 0);
    cr_assert_eq(check(t, SA(own), long_b, 0, &r), THROTTLE_WAIT);
    /* once the name's failures leave the window, the rule is off */
    throttle_fail(t, SA(own), NULL, 59999);
    cr_assert_eq(check(t, SA(own), "victim", 60000, &r), THROTTLE_OK);
    throttle_free(t);
}

Test(throttle, full_table_evicts_oldest_live_record)
{
    struct throttle *t = make(&lim);
    struct sockaddr_storage old = v4("192.0.2.1");
    unsigned r;

    fail_n(t, SA(old), "n0", 3, 0);
    cr_assert_eq(check(t, SA(old), NULL, 0, &r), THROTTLE_WAIT);
    for (uint32_t n = 1; n < THROTTLE_ADDR_CAP; n++) {
        struct sockaddr_storage a = nth(n);
        throttle_fail(t, SA(a), NULL, 1);
    }
    cr_assert_eq(records(&t->addrs), THROTTLE_ADDR_CAP);
    struct sockaddr_storage next = nth(THROTTLE_ADDR_CAP);
    throttle_fail(t, SA(next), NULL, 2);
    cr_assert_eq(records(&t->addrs), THROTTLE_ADDR_CAP);
    cr_assert_eq(check(t, SA(old), NULL, 2, &r), THROTTLE_OK, "the oldest record went");
    struct sockaddr_storage a1 = nth(1);
    throttle_fail(t, SA(a1), NULL, 3);
    throttle_fail(t, SA(a1), NULL, 3);
    cr_assert_eq(check(t, SA(a1), NULL, 3, &r), THROTTLE_WAIT, "a newer record stayed");

    /* memory is bounded: a flood of fresh addresses and names keeps every table at its cap */
    for (uint32_t n = 0; n < 3 * THROTTLE_ADDR_CAP; n++) {
        struct sockaddr_storage a = nth(100000 + n);
        char name[16];
        snprintf(name, sizeof(name), "u%u", n);
        throttle_fail(t, SA(a), name, 10);
    }
    cr_assert_eq(records(&t->addrs), THROTTLE_ADDR_CAP);
    cr_assert_eq(records(&t->names), THROTTLE_NAME_CAP);
    throttle_free(t);
}

Test(throttle, eviction_follows_the_latest_failure)
{
    struct throttle *t = make(&lim);
    struct sockaddr_storage a = v4("192.0.2.1");
    struct sockaddr_storage b = v4("192.0.2.2");
    unsigned r;

    /* a is the older record, but b's latest failure is older than a's */
    throttle_fail(t, SA(a), NULL, 0);
    throttle_fail(t, SA(b), NULL, 1);
    throttle_fail(t, SA(a), NULL, 2);
    for (uint32_t n = 1; n <= THROTTLE_ADDR_CAP - 2; n++) {
        struct sockaddr_storage x = nth(n);
        throttle_fail(t, SA(x), NULL, 3);
    }
    struct sockaddr_storage next = nth(THROTTLE_ADDR_CAP);
    throttle_fail(t, SA(next), NULL, 4);
    /* a kept its 2 failures: a third reaches the soft limit */
    throttle_fail(t, SA(a), NULL, 5);
    cr_assert_eq(check(t, SA(a), NULL, 5, &r), THROTTLE_WAIT);
    cr_assert_eq(records(&t->addrs), THROTTLE_ADDR_CAP);
    throttle_free(t);
}

Test(throttle, full_table_keeps_active_bans)
{
    struct throttle *t = make(&lim);
    struct sockaddr_storage bad = v4("192.0.2.66");

    fail_n(t, SA(bad), NULL, 8, 0);
    cr_assert_eq(sl.bans, 1);
    for (uint32_t n = 1; n < 2 * THROTTLE_ADDR_CAP; n++) {
        struct sockaddr_storage a = nth(n);
        throttle_fail(t, SA(a), NULL, 1);
    }
    cr_assert_eq(records(&t->addrs), THROTTLE_ADDR_CAP);
    cr_assert(throttle_banned(t, SA(bad), 2), "the oldest record, but banned: kept");
    cr_assert_eq(sl.unbans, 0);
    throttle_free(t);
}

Test(throttle, full_table_gives_up_an_expired_ban_first)
{
    struct throttle *t = make(&lim);
    struct sockaddr_storage bad = v4("192.0.2.66");

    fail_n(t, SA(bad), NULL, 8, 0); /* banned until 120 s */
    for (uint32_t n = 1; n < THROTTLE_ADDR_CAP; n++) {
        struct sockaddr_storage a = nth(n);
        throttle_fail(t, SA(a), NULL, 100000);
    }
    cr_assert_eq(sl.unbans, 0);
    /* at 120 s the ban is over but nobody noticed: it goes, not a live record */
    struct sockaddr_storage next = nth(THROTTLE_ADDR_CAP);
    throttle_fail(t, SA(next), NULL, 120000);
    cr_assert_eq(sl.unbans, 1);
    cr_assert_eq(memcmp(&((struct sockaddr_in *)&sl.last_unban)->sin_addr,
                        &((struct sockaddr_in *)&bad)->sin_addr, 4),
                 0);
    throttle_free(t);
}

Test(throttle, table_of_bans_evicts_expired_then_oldest_ban)
{
    struct throttle_limits l = lim;
    l.addr_ban = 1;
    struct throttle *t = make(&l);

    for (uint32_t n = 0; n < THROTTLE_ADDR_CAP; n++) {
        struct sockaddr_storage a = nth(n);
        throttle_fail(t, SA(a), NULL, n < 10 ? 0 : 1000);
    }
    cr_assert_eq(sl.bans, THROTTLE_ADDR_CAP);
    /* a live record can go before a ban: a table of bans only loses the oldest ban ... */
    struct sockaddr_storage extra = nth(THROTTLE_ADDR_CAP);
    throttle_fail(t, SA(extra), NULL, 1000);
    cr_assert_eq(sl.unbans, 1, "the evicted ban is lifted at the sink too");
    struct sockaddr_storage first = nth(0);
    struct sockaddr_storage second = nth(1);
    cr_assert_eq(memcmp(&((struct sockaddr_in *)&sl.last_unban)->sin_addr,
                        &((struct sockaddr_in *)&first)->sin_addr, 4),
                 0);
    cr_assert_not(throttle_banned(t, SA(first), 1000));
    cr_assert(throttle_banned(t, SA(second), 1000));
    cr_assert(throttle_banned(t, SA(extra), 1000));
    cr_assert_eq(records(&t->addrs), THROTTLE_ADDR_CAP);
    cr_assert_eq(sl.unbans, 1);

    /* ... and an expired ban goes first: the 9 left from time 0 end at 120 s */
    struct sockaddr_storage late = nth(THROTTLE_ADDR_CAP + 1);
    throttle_fail(t, SA(late), NULL, 120000);
    cr_assert_eq(sl.unbans, 2);
    cr_assert(throttle_banned(t, SA(late), 120000));
    struct sockaddr_storage ten = nth(10);
    cr_assert(throttle_banned(t, SA(ten), 120000), "a ban in force is kept");
    throttle_free(t);
}

#define THREADS 4
#define ITERS 10000
#define ADDRS_PER_THREAD 250

struct worker {
    struct throttle *t;
    uint32_t id;
    int ok, banned, other, clean_ok;
};

static void *work(void *arg)
{
    struct worker *w = arg;

    for (uint32_t i = 0; i < ITERS; i++) {
        struct sockaddr_storage a = nth(w->id * 1000 + i % ADDRS_PER_THREAD);
        struct sockaddr_storage clean = nth(200000 + w->id);
        unsigned r;

        throttle_fail(w->t, SA(a), "victim", 0);
        enum throttle_verdict v = throttle_check(w->t, SA(a), NULL, 0, &r);
        if (v == THROTTLE_OK)
            w->ok++;
        else if (v == THROTTLE_BANNED)
            w->banned++;
        else
            w->other++;
        if (throttle_check(w->t, SA(clean), "victim", 0, &r) == THROTTLE_OK)
            w->clean_ok++;
    }
    return NULL;
}

Test(throttle, threads_keep_counts_consistent)
{
    struct throttle_limits l = lim;
    l.addr_soft = l.addr_ban = ITERS / ADDRS_PER_THREAD; /* each address is banned at its last */
    struct throttle *t = make(&l);
    pthread_t th[THREADS];
    struct worker w[THREADS];

    for (uint32_t i = 0; i < THREADS; i++) {
        w[i] = (struct worker){.t = t, .id = i};
        cr_assert_eq(pthread_create(&th[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < THREADS; i++) {
        cr_assert_eq(w[i].ok, ITERS - ADDRS_PER_THREAD, "thread %d", i);
        cr_assert_eq(w[i].banned, ADDRS_PER_THREAD, "thread %d", i);
        cr_assert_eq(w[i].other, 0, "thread %d", i);
        cr_assert_eq(w[i].clean_ok, ITERS, "thread %d", i);
    }
    cr_assert_eq(sl.bans, THREADS * ADDRS_PER_THREAD);
    cr_assert_eq(sl.unbans, 0);
    for (uint32_t i = 0; i < THREADS; i++)
        for (uint32_t n = 0; n < ADDRS_PER_THREAD; n++) {
            struct sockaddr_storage a = nth(i * 1000 + n);
            cr_assert(throttle_banned(t, SA(a), 0));
        }
    cr_assert_eq(records(&t->addrs), THREADS * ADDRS_PER_THREAD);
    cr_assert_eq(records(&t->names), 1);
    throttle_free(t);
}
