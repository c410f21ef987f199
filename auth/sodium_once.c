/* SPDX-License-Identifier: MIT */
/* libsodium's one-time initialisation for auth/ (see sodium_once.h). */
#include "sodium_once.h"

#include <pthread.h>
#include <sodium.h>

#include "log.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init(void)
{
    /* Fails only when no randomness source can be opened: nothing in auth/ is safe then. */
    if (sodium_init() < 0)
        die("event=sodium_init_failed");
}

void auth_sodium_init(void)
{
    pthread_once(&once, init);
}
