/* SPDX-License-Identifier: MIT */
/*
 * The account store: users, app passwords, browser sessions and failed-login records.
 *
 * This is the narrow interface a second backend (PostgreSQL) would implement; store_sqlite.c is
 * the one there is, on DATA/fastfile.db (WAL, foreign keys on, schema migrated at open). A
 * store handle belongs to one thread at a time: each loop thread and each blocking-work thread
 * opens its own.
 *
 * Secrets never reach the store in clear: passwords arrive as Argon2id strings, app passwords
 * and session tokens as their 32-byte BLAKE2b digests (token.h).
 *
 * Every function returns 0 or a negative errno: -ENOENT (no such row), -EEXIST (name taken),
 * -EINVAL (a name, hash, label or text over its limit), -EBUSY (another writer held the
 * database past the busy timeout), -ENOMEM, -EPROTO (the database is not usable: a newer schema,
 * corruption; details logged), -EIO.
 *
 * The list functions call cb synchronously for each row, during the walk: cb must not call
 * into the same store handle, and its arguments are valid only during the call.
 */
#ifndef AUTH_STORE_H
#define AUTH_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "password.h"
#include "token.h"

/** Longest user name, in bytes. Names are [A-Za-z0-9._-], not starting with '.' or '-'. */
#define STORE_NAME_MAX 64
/** Longest app-password label, in bytes. */
#define STORE_LABEL_MAX 128
/** Longest client address text (an IPv6 address with scope). */
#define STORE_ADDR_MAX 64
/** Longest CSRF token text. */
#define STORE_CSRF_MAX 64

/** The schema version this binary writes and understands. */
#define STORE_SCHEMA_VERSION 1

struct store;

struct store_user {
    int64_t id;
    char name[STORE_NAME_MAX + 1];
    char hash[PW_HASH_MAX]; /* Argon2id string */
    int64_t created;        /* unix seconds */
};

struct store_token {
    int64_t id;
    int64_t user_id;
    char label[STORE_LABEL_MAX + 1];
    int64_t created, last_used; /* unix seconds; last_used 0: never */
};

struct store_session {
    int64_t user_id;
    char csrf[STORE_CSRF_MAX + 1];
    int64_t created, last_seen; /* unix seconds */
};

/** True when name is a valid user name (see STORE_NAME_MAX). */
bool store_name_valid(const char *name);

/**
 * Open (creating it if missing) DATA/fastfile.db and bring its schema to STORE_SCHEMA_VERSION.
 * A database whose schema is newer than this binary's is refused with -EPROTO and a message in
 * err ("... was written by a newer fastfile (schema N, this binary knows M)").
 */
int store_open(const char *data_dir, struct store **out, char *err, size_t errlen);
void store_close(struct store *st);

/* --- users --- */
int store_user_add(struct store *st, const char *name, const char *hash, int64_t now,
                   int64_t *id);
int store_user_get(struct store *st, const char *name, struct store_user *u);
int store_user_get_id(struct store *st, int64_t id, struct store_user *u);
/** New password hash; ends the user's browser sessions and bumps the credential generation. */
int store_user_set_hash(struct store *st, const char *name, const char *hash);
/** Delete a user with its app passwords and sessions; bumps the credential generation. */
int store_user_del(struct store *st, const char *name);
/** Users in name order; cb returning non-zero stops the walk and is returned. */
int store_user_list(struct store *st, int (*cb)(void *ctx, const struct store_user *u),
                    void *ctx);
int store_user_count(struct store *st, int64_t *n);

/* --- app passwords --- */
int store_token_add(struct store *st, int64_t user_id, const char *label,
                    const uint8_t digest[TOKEN_DIGEST_LEN], int64_t now, int64_t *id);
/** The app password of user_id with this digest, or -ENOENT. */
int store_token_find(struct store *st, int64_t user_id, const uint8_t digest[TOKEN_DIGEST_LEN],
                     struct store_token *t);
int store_token_list(struct store *st, int64_t user_id,
                     int (*cb)(void *ctx, const struct store_token *t), void *ctx);
/** Revoke app password id of user_id (-ENOENT if it is not theirs); bumps the generation. */
int store_token_revoke(struct store *st, int64_t user_id, int64_t id);
int store_token_touch(struct store *st, int64_t id, int64_t now);

/* --- browser sessions --- */
int store_session_add(struct store *st, const uint8_t digest[TOKEN_DIGEST_LEN], int64_t user_id,
                      const char *csrf, int64_t now);
int store_session_get(struct store *st, const uint8_t digest[TOKEN_DIGEST_LEN],
                      struct store_session *s);
int store_session_touch(struct store *st, const uint8_t digest[TOKEN_DIGEST_LEN], int64_t now);
int store_session_del(struct store *st, const uint8_t digest[TOKEN_DIGEST_LEN]);
/** Delete sessions idle since before idle_before or created before created_before. */
int store_session_purge(struct store *st, int64_t idle_before, int64_t created_before);

/* --- failed logins (the record; the live counters are throttle.h's) --- */
/** Record a failure from addr for user as sent (NULL: none; only its first STORE_NAME_MAX
 *  bytes are kept). */
int store_failure_add(struct store *st, const char *addr, const char *user, int64_t now);
/** Failures at or after since, oldest first. */
int store_failure_list(struct store *st, int64_t since,
                       int (*cb)(void *ctx, const char *addr, const char *user, int64_t at),
                       void *ctx);
int store_failure_purge(struct store *st, int64_t before);

/**
 * The credential generation: a counter bumped by every change that must invalidate verified
 * credentials held in memory (password change, user deletion, app-password revocation), by any
 * process sharing the database.
 */
int store_cred_gen(struct store *st, int64_t *gen);

#endif
