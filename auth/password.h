/* SPDX-License-Identifier: MIT */
/*
 * Account passwords: Argon2id (libsodium crypto_pwhash_str). These calls take tens to hundreds
 * of milliseconds by design, so the server only makes them on its blocking-work pool.
 */
#ifndef AUTH_PASSWORD_H
#define AUTH_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

/** Room for an Argon2id string with its terminating NUL (crypto_pwhash_STRBYTES). */
#define PW_HASH_MAX 128
/** Longest password accepted, in bytes. */
#define PW_MAX 1024

struct pw_limits {
    unsigned long long ops; /* Argon2id passes */
    size_t mem;             /* bytes of memory per hash */
};

/**
 * Defaults suited to a Raspberry Pi 5 with a handful of concurrent logins: libsodium's
 * "interactive" level (2 passes, 64 MiB), well under a second there and ~50 ms on a desktop.
 */
void pw_limits_default(struct pw_limits *l);

/** Hash pw into out. Returns 0, -EINVAL (too long or limits out of range) or -ENOMEM. */
int pw_hash(const char *pw, size_t len, const struct pw_limits *l, char out[PW_HASH_MAX]);

/**
 * 0 when pw matches hash; -EACCES when it does not, hash is malformed, or (libsodium reports it
 * no differently) the memory for the check could not be had.
 */
int pw_verify(const char *hash, const char *pw, size_t len);

/**
 * Spend what a pw_verify with these limits would spend and fail: for unknown user names, so
 * that they cannot be told from wrong passwords by timing.
 */
void pw_verify_dummy(const char *pw, size_t len, const struct pw_limits *l);

/** True when hash was made with other limits than l (rehash after the next good login). */
bool pw_needs_rehash(const char *hash, const struct pw_limits *l);

#endif
