/* SPDX-License-Identifier: MIT */
/* Tests for auth/token.c: token text shape and randomness, digests, well-formedness, equality. */
#include <criterion/criterion.h>

#include <sodium.h>
#include <string.h>

#include "token.h"

static void hex(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
}

static bool in_alphabet(char c)
{
    return strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", c) && c;
}

Test(token, new_is_43_base64url_chars)
{
    char t[TOKEN_TEXT_LEN];

    memset(t, 'x', sizeof(t));
    token_new(t);
    cr_assert_eq(strlen(t), 43);
    for (size_t i = 0; i < 43; i++)
        cr_assert(in_alphabet(t[i]), "char %zu is %c", i, t[i]);
    cr_assert(token_well_formed(t, strlen(t)));
}

Test(token, new_decodes_to_32_bytes)
{
    char t[TOKEN_TEXT_LEN];
    uint8_t raw[64];
    size_t n = 0;

    cr_assert_eq(sodium_init() >= 0, true);
    token_new(t);
    cr_assert_eq(sodium_base642bin(raw, sizeof(raw), t, strlen(t), NULL, &n, NULL,
                                   sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                 0);
    cr_assert_eq(n, 32);
}

Test(token, new_tokens_differ)
{
    char seen[64][TOKEN_TEXT_LEN];

    for (int i = 0; i < 64; i++) {
        token_new(seen[i]);
        for (int j = 0; j < i; j++)
            cr_assert_str_neq(seen[i], seen[j]);
    }
}

Test(token, new_uses_all_of_the_alphabet)
{
    /* 200 tokens give 8600 characters: a working CSPRNG hits each of the 64 many times. */
    bool hit[256] = {false};
    char t[TOKEN_TEXT_LEN];

    for (int i = 0; i < 200; i++) {
        token_new(t);
        for (size_t k = 0; k < 42; k++)
            hit[(unsigned char)t[k]] = true;
    }
    int n = 0;
    for (int c = 0; c < 256; c++)
        n += hit[c];
    cr_assert_eq(n, 64);
}

Test(token, digest_is_unkeyed_blake2b_256)
{
    uint8_t d[TOKEN_DIGEST_LEN];
    char h[2 * TOKEN_DIGEST_LEN + 1];

    token_digest("abc", 3, d);
    hex(d, sizeof(d), h);
    cr_assert_str_eq(h, "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
    token_digest("", 0, d);
    hex(d, sizeof(d), h);
    cr_assert_str_eq(h, "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
}

Test(token, digest_uses_len_not_nul)
{
    uint8_t a[TOKEN_DIGEST_LEN];
    uint8_t b[TOKEN_DIGEST_LEN];

    token_digest("abcdef", 3, a);
    token_digest("abc", 3, b);
    cr_assert_arr_eq(a, b, sizeof(a));
    token_digest("abcdef", 4, b);
    cr_assert_arr_neq(a, b, sizeof(a));
}

Test(token, well_formed_length)
{
    char t[TOKEN_TEXT_LEN];

    token_new(t);
    cr_assert(token_well_formed(t, 43));
    cr_assert_not(token_well_formed(t, 42));
    cr_assert_not(token_well_formed(t, 0));
    char longer[50];
    memcpy(longer, t, 43);
    memcpy(longer + 43, "AAAA", 5);
    cr_assert_not(token_well_formed(longer, 44));
    cr_assert_not(token_well_formed(longer, 47));
}

Test(token, well_formed_alphabet)
{
    char t[TOKEN_TEXT_LEN];
    const char bad[] = {'+', '/', '=', ' ', '.', '\0', '\n', '%', (char)0xc3, (char)0x80};

    memset(t, 'A', 43);
    t[43] = '\0';
    cr_assert(token_well_formed(t, 43));
    memcpy(t, "azAZ09-_", 8);
    cr_assert(token_well_formed(t, 43));
    for (size_t i = 0; i < sizeof(bad); i++) {
        for (size_t pos = 0; pos < 43; pos += 21) {
            char u[TOKEN_TEXT_LEN];
            memcpy(u, t, sizeof(u));
            u[pos] = bad[i];
            cr_assert_not(token_well_formed(u, 43), "0x%02x at %zu", (unsigned char)bad[i], pos);
        }
    }
}

Test(token, equal)
{
    cr_assert(token_equal("abcdef", 6, "abcdef", 6));
    cr_assert_not(token_equal("abcdef", 6, "abcdeg", 6));
    cr_assert_not(token_equal("abcdef", 6, "bbcdef", 6));
    cr_assert_not(token_equal("abc", 3, "abcd", 4));
    cr_assert_not(token_equal("abcd", 4, "abc", 3));
    cr_assert_not(token_equal("abc", 3, "", 0));
    /* lengths count, not NULs: the bytes past a shorter length are not compared */
    cr_assert(token_equal("abcX", 3, "abcY", 3));
    cr_assert(token_equal("a\0b", 3, "a\0b", 3));
    cr_assert_not(token_equal("a\0b", 3, "a\0c", 3));
}

Test(token, equal_tokens)
{
    char a[TOKEN_TEXT_LEN];
    char b[TOKEN_TEXT_LEN];

    token_new(a);
    memcpy(b, a, sizeof(b));
    cr_assert(token_equal(a, 43, b, 43));
    b[42] = b[42] == 'A' ? 'B' : 'A';
    cr_assert_not(token_equal(a, 43, b, 43));
}
