/* SPDX-License-Identifier: MIT */
/*
 * Argon2id password hashes with libsodium's crypto_pwhash_str (see password.h).
 *
 * pw_verify_dummy keeps one hash per set of limits it has been called with (a few slots, made
 * on first use): the first call for new limits makes that hash instead of verifying, which costs
 * the same single Argon2id run. Known gap: libsodium reports an allocation failure during
 * verification the same way as a wrong password, so pw_verify cannot tell them apart.
 */
#include "password.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <string.h>

#include "sodium_once.h"

static_assert(PW_HASH_MAX >= crypto_pwhash_argon2id_STRBYTES, "room for an Argon2id string");

/* The server uses one set of limits; tests use a few. More than this just recycles slots. */
#define DUMMY_SLOTS 4

struct dummy {
    struct pw_limits l;
    char hash[PW_HASH_MAX]; /* "" while unused */
};

static pthread_mutex_t dummy_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dummy dummies[DUMMY_SLOTS];
static unsigned dummy_next;

void pw_limits_default(struct pw_limits *l)
{
    l->ops = crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE;
    l->mem = crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE;
}

static bool limits_valid(const struct pw_limits *l)
{
    return l->ops >= crypto_pwhash_argon2id_OPSLIMIT_MIN &&
           l->ops <= crypto_pwhash_argon2id_OPSLIMIT_MAX &&
           l->mem >= crypto_pwhash_argon2id_MEMLIMIT_MIN &&
           l->mem <= crypto_pwhash_argon2id_MEMLIMIT_MAX;
}

/* A stored hash must be a NUL-terminated string that fits PW_HASH_MAX: libsodium reads it with
 * strlen. */
static bool hash_terminated(const char *hash)
{
    return strnlen(hash, PW_HASH_MAX) < PW_HASH_MAX;
}

int pw_hash(const char *pw, size_t len, const struct pw_limits *l, char out[PW_HASH_MAX])
{
    out[0] = '\0';
    if (len > PW_MAX || !limits_valid(l))
        return -EINVAL;
    auth_sodium_init();
    if (crypto_pwhash_str_alg(out, pw, len, l->ops, l->mem, crypto_pwhash_ALG_ARGON2ID13) != 0) {
        /* Length and limits were checked above: what is left is the memory allocation. */
        out[0] = '\0';
        return -ENOMEM;
    }
    return 0;
}

int pw_verify(const char *hash, const char *pw, size_t len)
{
    /* pw_hash never accepts a longer password, so no stored hash can match one. */
    if (len > PW_MAX || !hash_terminated(hash))
        return -EACCES;
    auth_sodium_init();
    return crypto_pwhash_str_verify(hash, pw, len) == 0 ? 0 : -EACCES;
}

static bool dummy_find(const struct pw_limits *l, char hash[PW_HASH_MAX])
{
    bool found = false;

    pthread_mutex_lock(&dummy_lock);
    for (unsigned i = 0; i < DUMMY_SLOTS && !found; i++) {
        const struct dummy *d = &dummies[i];
        if (d->hash[0] && d->l.ops == l->ops && d->l.mem == l->mem) {
            memcpy(hash, d->hash, PW_HASH_MAX);
            found = true;
        }
    }
    pthread_mutex_unlock(&dummy_lock);
    return found;
}

static void dummy_store(const struct pw_limits *l, const char hash[PW_HASH_MAX])
{
    pthread_mutex_lock(&dummy_lock);
    struct dummy *d = &dummies[dummy_next];
    dummy_next = (dummy_next + 1) % DUMMY_SLOTS;
    d->l = *l;
    memcpy(d->hash, hash, PW_HASH_MAX);
    pthread_mutex_unlock(&dummy_lock);
}

void pw_verify_dummy(const char *pw, size_t len, const struct pw_limits *l)
{
    char hash[PW_HASH_MAX];

    /* Mirrors pw_verify, which returns at once for these too. */
    if (len > PW_MAX || !limits_valid(l))
        return;
    if (dummy_find(l, hash)) {
        (void)pw_verify(hash, pw, len);
        return;
    }
    /* First use of these limits: making the hash is the one Argon2id run this call owes.
     * Hashing outside the lock lets other threads verify meanwhile; two threads racing here
     * both store a hash, which is harmless. The password is random so that nothing matches
     * it, and it is not the caller's, so no hash of a real password stays in memory. */
    uint8_t secret[32];
    auth_sodium_init();
    randombytes_buf(secret, sizeof(secret));
    int rc = pw_hash((const char *)secret, sizeof(secret), l, hash);
    sodium_memzero(secret, sizeof(secret));
    if (rc == 0)
        dummy_store(l, hash);
}

bool pw_needs_rehash(const char *hash, const struct pw_limits *l)
{
    if (!hash_terminated(hash))
        return true;
    auth_sodium_init();
    /* The argon2id variant, not the generic one: that one accepts an Argon2i string with the
     * same parameters, and we want those rehashed as Argon2id. It returns -1 for any string
     * it cannot parse, which a rehash also fixes. */
    return crypto_pwhash_argon2id_str_needs_rehash(hash, l->ops, l->mem) != 0;
}
