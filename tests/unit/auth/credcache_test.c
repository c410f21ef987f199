/* SPDX-License-Identifier: MIT */
/* Tests for auth/credcache.c: keyed ids, hits and misses, expiry, eviction in a probe window. */
#include <criterion/criterion.h>
#include <string.h>

#include "credcache.h"

#define TTL 60000

static const uint8_t key_a[CREDCACHE_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static const uint8_t key_b[CREDCACHE_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16};

static struct credcache cc;

static void setup(void)
{
    cr_assert_eq(credcache_init(&cc, 64, TTL, key_a), 0);
}

static void teardown(void)
{
    credcache_free(&cc);
}

static void id_of(const char *name, const char *secret, uint8_t id[CREDCACHE_ID_LEN])
{
    credcache_id(&cc, name, strlen(name), secret, strlen(secret), id);
}

/* An id whose first 8 bytes (the home slot) are `home` and whose rest is `n`: ids made with
 * the same home compete for one probe window. */
static void crafted_id(uint8_t home, uint8_t n, uint8_t id[CREDCACHE_ID_LEN])
{
    memset(id, n, CREDCACHE_ID_LEN);
    memset(id, home, 8);
}

TestSuite(credcache, .init = setup, .fini = teardown);

Test(credcache, init_rounds_cap_to_power_of_two)
{
    struct credcache c;

    cr_assert_eq(cc.cap, 64);
    cr_assert_eq(credcache_init(&c, 100, TTL, key_a), 0);
    cr_assert_eq(c.cap, 128);
    credcache_free(&c);
    cr_assert_eq(credcache_init(&c, 0, TTL, key_a), 0);
    cr_assert_eq(c.cap, 16);
    credcache_free(&c);
    credcache_free(&c); /* freeing twice, or a zeroed struct, is harmless */
    struct credcache zero = {0};
    credcache_free(&zero);
}

Test(credcache, hit_after_insert)
{
    uint8_t id[CREDCACHE_ID_LEN];

    id_of("alice", "hunter2", id);
    cr_assert_eq(credcache_lookup(&cc, id, 1000), 0);
    credcache_insert(&cc, id, 42, 1000);
    cr_assert_eq(credcache_lookup(&cc, id, 1000), 42);
    cr_assert_eq(credcache_lookup(&cc, id, 1001), 42);
}

Test(credcache, miss_for_other_name_or_secret)
{
    uint8_t id[CREDCACHE_ID_LEN];
    uint8_t other[CREDCACHE_ID_LEN];

    id_of("alice", "hunter2", id);
    credcache_insert(&cc, id, 42, 0);
    id_of("alicf", "hunter2", other);
    cr_assert_eq(credcache_lookup(&cc, other, 1), 0);
    id_of("alice", "hunter3", other);
    cr_assert_eq(credcache_lookup(&cc, other, 1), 0);
    id_of("alice", "hunter", other);
    cr_assert_eq(credcache_lookup(&cc, other, 1), 0);
    id_of("alice", "", other);
    cr_assert_eq(credcache_lookup(&cc, other, 1), 0);
    cr_assert_eq(credcache_lookup(&cc, id, 1), 42);
}

Test(credcache, name_secret_boundary_is_part_of_the_id)
{
    uint8_t ab_c[CREDCACHE_ID_LEN];
    uint8_t a_bc[CREDCACHE_ID_LEN];

    id_of("ab", "c", ab_c);
    id_of("a", "bc", a_bc);
    cr_assert_neq(memcmp(ab_c, a_bc, CREDCACHE_ID_LEN), 0);
    credcache_insert(&cc, ab_c, 7, 0);
    cr_assert_eq(credcache_lookup(&cc, a_bc, 1), 0);
    cr_assert_eq(credcache_lookup(&cc, ab_c, 1), 7);

    /* and the same with an empty name or secret */
    id_of("", "abc", ab_c);
    id_of("abc", "", a_bc);
    cr_assert_neq(memcmp(ab_c, a_bc, CREDCACHE_ID_LEN), 0);
}

Test(credcache, id_is_deterministic_and_depends_on_key)
{
    struct credcache other;
    uint8_t id1[CREDCACHE_ID_LEN];
    uint8_t id2[CREDCACHE_ID_LEN];
    uint8_t id3[CREDCACHE_ID_LEN];

    id_of("alice", "hunter2", id1);
    id_of("alice", "hunter2", id2);
    cr_assert_eq(memcmp(id1, id2, CREDCACHE_ID_LEN), 0);
    cr_assert_eq(credcache_init(&other, 16, TTL, key_b), 0);
    credcache_id(&other, "alice", 5, "hunter2", 7, id3);
    credcache_free(&other);
    cr_assert_neq(memcmp(id1, id3, CREDCACHE_ID_LEN), 0);
}

Test(credcache, expires_at_exactly_ttl)
{
    uint8_t id[CREDCACHE_ID_LEN];

    id_of("bob", "pw", id);
    credcache_insert(&cc, id, 5, 1000);
    cr_assert_eq(credcache_lookup(&cc, id, 1000 + TTL - 1), 5);
    cr_assert_eq(credcache_lookup(&cc, id, 1000 + TTL), 0);
    /* freed, not just hidden: an earlier clock does not bring it back */
    cr_assert_eq(credcache_lookup(&cc, id, 1000), 0);
}

Test(credcache, reinsert_refreshes_and_replaces)
{
    uint8_t id[CREDCACHE_ID_LEN];

    id_of("bob", "pw", id);
    credcache_insert(&cc, id, 5, 0);
    credcache_insert(&cc, id, 6, TTL / 2);
    cr_assert_eq(credcache_lookup(&cc, id, TTL + 1), 6);
    cr_assert_eq(credcache_lookup(&cc, id, TTL / 2 + TTL), 0);
}

Test(credcache, clear_forgets_everything)
{
    uint8_t id[CREDCACHE_ID_LEN];
    uint8_t id2[CREDCACHE_ID_LEN];

    id_of("alice", "a", id);
    id_of("bob", "b", id2);
    credcache_insert(&cc, id, 1, 0);
    credcache_insert(&cc, id2, 2, 0);
    credcache_clear(&cc);
    cr_assert_eq(credcache_lookup(&cc, id, 1), 0);
    cr_assert_eq(credcache_lookup(&cc, id2, 1), 0);
    for (unsigned i = 0; i < cc.cap; i++)
        cr_assert_eq(cc.slots[i].user_id, 0);
    credcache_insert(&cc, id, 3, 2);
    cr_assert_eq(credcache_lookup(&cc, id, 3), 3);
}

/* A full window evicts the entry that expires first and keeps the newest ones. */
static void full_window_keeps_newest(uint8_t home)
{
    uint8_t id[9][CREDCACHE_ID_LEN];

    for (uint8_t n = 0; n < 9; n++)
        crafted_id(home, n + 1, id[n]);
    for (uint8_t n = 0; n < 8; n++)
        credcache_insert(&cc, id[n], n + 1, n * 10);
    for (uint8_t n = 0; n < 8; n++)
        cr_assert_eq(credcache_lookup(&cc, id[n], 100), n + 1, "entry %u", n);
    credcache_insert(&cc, id[8], 9, 100);
    cr_assert_eq(credcache_lookup(&cc, id[0], 101), 0, "the earliest expiry is evicted");
    for (uint8_t n = 1; n < 9; n++)
        cr_assert_eq(credcache_lookup(&cc, id[n], 101), n + 1, "entry %u", n);
}

Test(credcache, full_window_evicts_earliest_expiry)
{
    full_window_keeps_newest(0x00);
}

Test(credcache, window_wraps_around_the_table_end)
{
    /* home slot cap - 1: the window continues at slot 0 */
    full_window_keeps_newest(0xff);
}

Test(credcache, eviction_prefers_expired_slot)
{
    uint8_t id[9][CREDCACHE_ID_LEN];

    for (uint8_t n = 0; n < 9; n++)
        crafted_id(0x11, n + 1, id[n]);
    /* entry 3 is inserted first and expires first; the others are younger */
    credcache_insert(&cc, id[3], 4, 0);
    for (uint8_t n = 0; n < 8; n++)
        if (n != 3)
            credcache_insert(&cc, id[n], n + 1, TTL / 2);
    credcache_insert(&cc, id[8], 9, TTL);
    cr_assert_eq(credcache_lookup(&cc, id[3], TTL), 0);
    for (uint8_t n = 0; n < 9; n++)
        if (n != 3)
            cr_assert_eq(credcache_lookup(&cc, id[n], TTL), n + 1, "entry %u", n);
}

Test(credcache, other_windows_are_untouched)
{
    uint8_t id[10][CREDCACHE_ID_LEN];
    uint8_t far[CREDCACHE_ID_LEN];

    /* home 0x20 is slot 32 of 64 (any byte order): far from the window at slot 0 */
    crafted_id(0x20, 0xee, far);
    credcache_insert(&cc, far, 99, 0);
    for (uint8_t n = 0; n < 10; n++) {
        crafted_id(0x00, n + 1, id[n]);
        credcache_insert(&cc, id[n], n + 1, n + 1);
    }
    cr_assert_eq(credcache_lookup(&cc, far, 20), 99);
}
