/* SPDX-License-Identifier: MIT */
/*
 * Verified-credential cache (see credcache.h): a fixed table of keyed BLAKE2b ids.
 *
 * Open addressing with a bounded probe window: an id may only sit in the PROBE slots starting
 * at the slot its first 8 bytes select. The id is a keyed hash, so those bytes are uniform and
 * nobody outside the process can aim many credentials at one window. Lookup and insert look at
 * exactly those slots, so their cost does not depend on how full the table is, and there are no
 * tombstones: a freed slot is just free.
 *
 * Insert replaces the same id, else takes a free or expired slot of the window, else evicts the
 * window's entry that expires first. Eviction is per window, not a global LRU: a crowded window
 * forgets a credential early, which costs that user one more verification and nothing else.
 */
#include "credcache.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

/* Slots an id may occupy, from its home slot on; the table is never smaller than this. */
#define CREDCACHE_PROBE 8
#define CREDCACHE_MIN_CAP 16

static_assert(CREDCACHE_MIN_CAP >= CREDCACHE_PROBE, "a probe window must not wrap onto itself");

int credcache_init(struct credcache *cc, unsigned cap, int64_t ttl_ms,
                   const uint8_t key[CREDCACHE_KEY_LEN])
{
    unsigned n = CREDCACHE_MIN_CAP;

    *cc = (struct credcache){0};
    while (n < cap) {
        if (n > UINT_MAX / 2)
            return -ENOMEM;
        n *= 2;
    }
    cc->slots = calloc(n, sizeof(*cc->slots));
    if (!cc->slots)
        return -ENOMEM;
    memcpy(cc->key, key, CREDCACHE_KEY_LEN);
    cc->cap = n;
    cc->ttl_ms = ttl_ms;
    return 0;
}

void credcache_free(struct credcache *cc)
{
    /* The ids are not secrets, but they are derived from passwords; the key is a secret. */
    if (cc->slots)
        sodium_memzero(cc->slots, (size_t)cc->cap * sizeof(*cc->slots));
    free(cc->slots);
    sodium_memzero(cc->key, sizeof(cc->key));
    cc->slots = NULL;
    cc->cap = 0;
}

void credcache_id(const struct credcache *cc, const char *name, size_t name_len, const char *secret,
                  size_t secret_len, uint8_t id[CREDCACHE_ID_LEN])
{
    crypto_generichash_state st;
    uint8_t len[8];

    /* The name's length goes first so that no other split of the same bytes into name and
     * secret ("ab"+"c", "a"+"bc") hashes alike; 8 bytes, so no length is ever cut short.
     * Streaming the pieces means no buffer ever holds name and secret together. */
    for (size_t i = 0; i < sizeof(len); i++)
        len[i] = (uint8_t)((uint64_t)name_len >> (8 * i));
    crypto_generichash_init(&st, cc->key, CREDCACHE_KEY_LEN, CREDCACHE_ID_LEN);
    crypto_generichash_update(&st, len, sizeof(len));
    crypto_generichash_update(&st, (const unsigned char *)name, name_len);
    crypto_generichash_update(&st, (const unsigned char *)secret, secret_len);
    crypto_generichash_final(&st, id, CREDCACHE_ID_LEN);
    /* The state has absorbed the secret. */
    sodium_memzero(&st, sizeof(st));
}

static unsigned home_slot(const struct credcache *cc, const uint8_t id[CREDCACHE_ID_LEN])
{
    uint64_t h;

    memcpy(&h, id, sizeof(h));
    return (unsigned)(h & (cc->cap - 1));
}

int64_t credcache_lookup(struct credcache *cc, const uint8_t id[CREDCACHE_ID_LEN], int64_t now_ms)
{
    unsigned i = home_slot(cc, id);
    int64_t user_id = 0;

    assert(cc->slots);
    /* The whole window is read, with no early exit: expired entries anywhere in it are freed
     * on the way. sodium_memcmp: an id is a keyed hash nobody outside can compute, so a
     * byte-wise compare would leak little, but it is derived from a password and the
     * constant-time compare costs nothing here. */
    for (unsigned k = 0; k < CREDCACHE_PROBE; k++, i = (i + 1) & (cc->cap - 1)) {
        struct credcache_entry *e = &cc->slots[i];

        if (e->user_id == 0)
            continue;
        if (e->expires_ms <= now_ms) {
            sodium_memzero(e, sizeof(*e));
            continue;
        }
        if (sodium_memcmp(e->id, id, CREDCACHE_ID_LEN) == 0)
            user_id = e->user_id;
    }
    return user_id;
}

void credcache_insert(struct credcache *cc, const uint8_t id[CREDCACHE_ID_LEN], int64_t user_id,
                      int64_t now_ms)
{
    struct credcache_entry *same = NULL;
    struct credcache_entry *free_slot = NULL;
    struct credcache_entry *oldest = NULL;
    unsigned i = home_slot(cc, id);

    assert(cc->slots);
    assert(user_id > 0); /* 0 marks a free slot */
    /* A live copy of id must be found before a free slot is taken, or the window would hold
     * the id twice. */
    for (unsigned k = 0; k < CREDCACHE_PROBE; k++, i = (i + 1) & (cc->cap - 1)) {
        struct credcache_entry *e = &cc->slots[i];
        bool live = e->user_id != 0 && e->expires_ms > now_ms;

        if (!live) {
            if (!free_slot)
                free_slot = e;
            continue;
        }
        if (sodium_memcmp(e->id, id, CREDCACHE_ID_LEN) == 0) {
            same = e;
            break;
        }
        if (!oldest || e->expires_ms < oldest->expires_ms)
            oldest = e;
    }
    struct credcache_entry *e = same ? same : free_slot ? free_slot : oldest;
    memcpy(e->id, id, CREDCACHE_ID_LEN);
    e->user_id = user_id;
    e->expires_ms = now_ms + cc->ttl_ms;
}

void credcache_clear(struct credcache *cc)
{
    if (cc->slots)
        sodium_memzero(cc->slots, (size_t)cc->cap * sizeof(*cc->slots));
}
