/* SPDX-License-Identifier: MIT */
/*
 * Random tokens (see token.h): 32 bytes from libsodium's CSPRNG as unpadded base64url text,
 * stored as their BLAKE2b-256 digests.
 *
 * token_well_formed checks length and alphabet only; it does not insist that the last
 * character's two unused bits are zero, so a few strings token_new never makes pass it. They
 * cost one digest lookup that finds nothing, like any other wrong token.
 */
#include "token.h"

#include <assert.h>
#include <sodium.h>

#include "sodium_once.h"

#define TOKEN_RAW_LEN 32

static_assert(TOKEN_DIGEST_LEN == crypto_generichash_BYTES, "digest is BLAKE2b-256");
static_assert(TOKEN_TEXT_LEN == sodium_base64_ENCODED_LEN(
                                    TOKEN_RAW_LEN, sodium_base64_VARIANT_URLSAFE_NO_PADDING),
              "token text is 32 bytes as unpadded base64url plus NUL");

void token_new(char out[TOKEN_TEXT_LEN])
{
    uint8_t raw[TOKEN_RAW_LEN];

    auth_sodium_init();
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(out, TOKEN_TEXT_LEN, raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof(raw));
}

void token_digest(const char *text, size_t len, uint8_t out[TOKEN_DIGEST_LEN])
{
    auth_sodium_init();
    /* Unkeyed: the digest must be the same in every process that shares the database. */
    crypto_generichash(out, TOKEN_DIGEST_LEN, (const unsigned char *)text, len, NULL, 0);
}

static bool is_base64url(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
}

bool token_well_formed(const char *text, size_t len)
{
    if (len != TOKEN_TEXT_LEN - 1)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!is_base64url(text[i]))
            return false;
    }
    return true;
}

bool token_equal(const char *a, size_t alen, const char *b, size_t blen)
{
    /* Lengths are not secret (tokens have a fixed one); only the bytes are compared in
     * constant time. */
    if (alen != blen)
        return false;
    return sodium_memcmp(a, b, alen) == 0;
}
