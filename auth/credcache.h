/* SPDX-License-Identifier: MIT */
/*
 * Verified-credential cache: after one Argon2id verification (or app-password lookup) a
 * Basic-auth credential is remembered for a few minutes, so the next requests cost one keyed
 * BLAKE2b and a table probe instead of another verification.
 *
 * Entries are keyed by BLAKE2b(key, name, secret) with a random per-process key: the table
 * never holds a secret, and its keys are useless outside this process. One cache per loop
 * thread (no locks); a fixed table, so memory is bounded whatever clients send.
 */
#ifndef AUTH_CREDCACHE_H
#define AUTH_CREDCACHE_H

#include <stddef.h>
#include <stdint.h>

#define CREDCACHE_KEY_LEN 32
#define CREDCACHE_ID_LEN 32

struct credcache_entry {
    uint8_t id[CREDCACHE_ID_LEN];
    int64_t user_id; /* 0: free slot */
    int64_t expires_ms;
};

struct credcache {
    uint8_t key[CREDCACHE_KEY_LEN];
    unsigned cap; /* a power of two */
    int64_t ttl_ms;
    struct credcache_entry *slots;
};

/**
 * Set up a cache of cap entries (rounded up to a power of two) whose entries live ttl_ms, with
 * key as its BLAKE2b key (random per process; tests pass a fixed one). Returns 0 or -ENOMEM.
 */
int credcache_init(struct credcache *cc, unsigned cap, int64_t ttl_ms,
                   const uint8_t key[CREDCACHE_KEY_LEN]);
void credcache_free(struct credcache *cc);

/** The id of a credential (name and secret as sent). */
void credcache_id(const struct credcache *cc, const char *name, size_t name_len,
                  const char *secret, size_t secret_len, uint8_t id[CREDCACHE_ID_LEN]);

/** The user id of a live entry for id at now_ms, or 0 (missing or expired: expired is freed). */
int64_t credcache_lookup(struct credcache *cc, const uint8_t id[CREDCACHE_ID_LEN],
                         int64_t now_ms);

/** Remember id as verified for user_id until now_ms + ttl (evicting what it must). */
void credcache_insert(struct credcache *cc, const uint8_t id[CREDCACHE_ID_LEN], int64_t user_id,
                      int64_t now_ms);

/** Forget everything (a password changed or an app password was revoked somewhere). */
void credcache_clear(struct credcache *cc);

#endif
