/* SPDX-License-Identifier: MIT */
/*
 * Random secrets handed out by the server (app passwords, session cookies, CSRF tokens) and
 * their digests. They carry 256 bits of entropy, so a fast hash (BLAKE2b-256) is enough to
 * store them: there is nothing to guess that a slow hash would protect.
 */
#ifndef AUTH_TOKEN_H
#define AUTH_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOKEN_DIGEST_LEN 32
/** Text form: 32 random bytes as 43 base64url characters, plus NUL. */
#define TOKEN_TEXT_LEN 44

/** A new random token as text (base64url, no padding). */
void token_new(char out[TOKEN_TEXT_LEN]);

/** The stored digest of a token text of len bytes. */
void token_digest(const char *text, size_t len, uint8_t out[TOKEN_DIGEST_LEN]);

/** True when text of len bytes has the shape token_new makes (cheap reject before a lookup). */
bool token_well_formed(const char *text, size_t len);

/** Constant-time equality of two strings of known lengths. */
bool token_equal(const char *a, size_t alen, const char *b, size_t blen);

#endif
