/* SPDX-License-Identifier: MIT */
/*
 * Private to auth/: libsodium's one-time initialisation. sodium_init() is idempotent but takes
 * a lock on every call; this wrapper costs one pthread_once check, so the per-request token
 * functions can call it freely.
 */
#ifndef AUTH_SODIUM_ONCE_H
#define AUTH_SODIUM_ONCE_H

/** Initialise libsodium once per process; aborts (die) if it cannot be initialised. */
void auth_sodium_init(void);

#endif
