/* SPDX-License-Identifier: MIT */
/*
 * Tests for auth/password.c: Argon2id hashing and verification, limits, rehash detection and
 * the dummy verification's timing. Libsodium's minimum limits keep the tests fast except where
 * the time spent is what is tested.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "password.h"

static const struct pw_limits fast = {
    .ops = crypto_pwhash_argon2id_OPSLIMIT_MIN,
    .mem = crypto_pwhash_argon2id_MEMLIMIT_MIN,
};

Test(password, defaults_are_libsodium_interactive)
{
    struct pw_limits l;

    pw_limits_default(&l);
    cr_assert_eq(l.ops, crypto_pwhash_OPSLIMIT_INTERACTIVE);
    cr_assert_eq(l.mem, crypto_pwhash_MEMLIMIT_INTERACTIVE);
}

Test(password, hash_and_verify)
{
    char h[PW_HASH_MAX];

    cr_assert_eq(pw_hash("correct horse", 13, &fast, h), 0);
    cr_assert_eq(strncmp(h, "$argon2id$v=19$", 15), 0, "%s", h);
    cr_assert_lt(strlen(h), PW_HASH_MAX);
    cr_assert_eq(pw_verify(h, "correct horse", 13), 0);
    cr_assert_eq(pw_verify(h, "correct horsf", 13), -EACCES);
    cr_assert_eq(pw_verify(h, "correct hors", 12), -EACCES);
    cr_assert_eq(pw_verify(h, "", 0), -EACCES);
}

Test(password, hash_is_salted)
{
    char a[PW_HASH_MAX];
    char b[PW_HASH_MAX];

    cr_assert_eq(pw_hash("same", 4, &fast, a), 0);
    cr_assert_eq(pw_hash("same", 4, &fast, b), 0);
    cr_assert_str_neq(a, b);
    cr_assert_eq(pw_verify(a, "same", 4), 0);
    cr_assert_eq(pw_verify(b, "same", 4), 0);
}

Test(password, length_not_nul_delimits)
{
    char h[PW_HASH_MAX];

    cr_assert_eq(pw_hash("a\0b", 3, &fast, h), 0);
    cr_assert_eq(pw_verify(h, "a\0b", 3), 0);
    cr_assert_eq(pw_verify(h, "a\0c", 3), -EACCES);
    cr_assert_eq(pw_verify(h, "a", 1), -EACCES);
}

Test(password, empty_password_hashes)
{
    char h[PW_HASH_MAX];

    cr_assert_eq(pw_hash("", 0, &fast, h), 0);
    cr_assert_eq(pw_verify(h, "", 0), 0);
    cr_assert_eq(pw_verify(h, "x", 1), -EACCES);
}

Test(password, too_long)
{
    char *pw = malloc(PW_MAX + 1);
    char h[PW_HASH_MAX];

    cr_assert_not_null(pw);
    memset(pw, 'p', PW_MAX + 1);
    strcpy(h, "left over");
    cr_assert_eq(pw_hash(pw, PW_MAX + 1, &fast, h), -EINVAL);
    cr_assert_str_eq(h, "", "no partial output on failure");
    cr_assert_eq(pw_hash(pw, PW_MAX, &fast, h), 0);
    cr_assert_eq(pw_verify(h, pw, PW_MAX), 0);
    /* a longer password cannot match: not even one whose first PW_MAX bytes do */
    cr_assert_eq(pw_verify(h, pw, PW_MAX + 1), -EACCES);
    free(pw);
}

Test(password, limits_out_of_range)
{
    char h[PW_HASH_MAX];
    struct pw_limits l = fast;

    l.ops = crypto_pwhash_argon2id_OPSLIMIT_MIN - 1;
    cr_assert_eq(pw_hash("x", 1, &l, h), -EINVAL);
    l.ops = (unsigned long long)crypto_pwhash_argon2id_OPSLIMIT_MAX + 1;
    cr_assert_eq(pw_hash("x", 1, &l, h), -EINVAL);
    l = fast;
    l.mem = crypto_pwhash_argon2id_MEMLIMIT_MIN - 1;
    cr_assert_eq(pw_hash("x", 1, &l, h), -EINVAL);
    l.mem = 0;
    cr_assert_eq(pw_hash("x", 1, &l, h), -EINVAL);
    l.mem = (size_t)crypto_pwhash_argon2id_MEMLIMIT_MAX + 1;
    cr_assert_eq(pw_hash("x", 1, &l, h), -EINVAL);
}

Test(password, malformed_hash)
{
    char h[PW_HASH_MAX];
    char cut[PW_HASH_MAX];
    char unterminated[PW_HASH_MAX + 16];

    cr_assert_eq(pw_hash("pw", 2, &fast, h), 0);
    cr_assert_eq(pw_verify("", "pw", 2), -EACCES);
    cr_assert_eq(pw_verify("garbage", "pw", 2), -EACCES);
    cr_assert_eq(pw_verify("$argon2id$", "pw", 2), -EACCES);
    /* the real hash cut short, and with its salt damaged */
    memcpy(cut, h, sizeof(cut));
    cut[strlen(h) - 10] = '\0';
    cr_assert_eq(pw_verify(cut, "pw", 2), -EACCES);
    memcpy(cut, h, sizeof(cut));
    char *salt = strrchr(cut, '$') - 3;
    *salt = *salt == '!' ? '?' : '!';
    cr_assert_eq(pw_verify(cut, "pw", 2), -EACCES);
    /* no NUL within PW_HASH_MAX bytes */
    memset(unterminated, 'a', sizeof(unterminated) - 1);
    unterminated[sizeof(unterminated) - 1] = '\0';
    memcpy(unterminated, h, strlen(h));
    cr_assert_eq(pw_verify(unterminated, "pw", 2), -EACCES);
    /* the untouched hash still verifies: the failures above are the damage's */
    cr_assert_eq(pw_verify(h, "pw", 2), 0);
}

Test(password, argon2i_hash_verifies_but_needs_rehash)
{
    char h[PW_HASH_MAX];

    cr_assert_geq(sodium_init(), 0);
    cr_assert_eq(crypto_pwhash_str_alg(h, "pw", 2, 3, fast.mem, crypto_pwhash_ALG_ARGON2I13), 0);
    cr_assert_eq(strncmp(h, "$argon2i$", 9), 0);
    cr_assert_eq(pw_verify(h, "pw", 2), 0);
    struct pw_limits same = {.ops = 3, .mem = fast.mem};
    cr_assert(pw_needs_rehash(h, &same));
}

Test(password, needs_rehash)
{
    char h[PW_HASH_MAX];
    struct pw_limits l = fast;

    cr_assert_eq(pw_hash("pw", 2, &fast, h), 0);
    cr_assert_not(pw_needs_rehash(h, &fast));
    l.ops = fast.ops + 1;
    cr_assert(pw_needs_rehash(h, &l));
    l = fast;
    l.mem = fast.mem * 2;
    cr_assert(pw_needs_rehash(h, &l));
    cr_assert(pw_needs_rehash("", &fast));
    cr_assert(pw_needs_rehash("garbage", &fast));
}

/* CPU time of this thread: Argon2id is single-threaded work, and unlike wall time this does
 * not grow when other processes compete for the cores. */
static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return (x > y) - (x < y);
}

#define RUNS 7

Test(password, dummy_spends_what_a_verify_spends)
{
    /* Heavy enough that the Argon2id run dominates and can be timed (a few ms each). */
    const struct pw_limits l = {.ops = 2, .mem = 4u << 20};
    char h[PW_HASH_MAX];
    double real[RUNS];
    double dummy[RUNS];

    cr_assert_eq(pw_hash("secret", 6, &l, h), 0);
    pw_verify_dummy("warm up", 7, &l);
    /* Interleaved, medians: what noise is left moves both alike. */
    for (int i = 0; i < RUNS; i++) {
        double t0 = now_ms();
        cr_assert_eq(pw_verify(h, "wrong", 5), -EACCES);
        double t1 = now_ms();
        pw_verify_dummy("wrong", 5, &l);
        double t2 = now_ms();
        real[i] = t1 - t0;
        dummy[i] = t2 - t1;
    }
    qsort(real, RUNS, sizeof(double), cmp_double);
    qsort(dummy, RUNS, sizeof(double), cmp_double);
    double r = real[RUNS / 2];
    double d = dummy[RUNS / 2];
    cr_assert_gt(d, r * 0.6, "dummy %.2f ms, verify %.2f ms", d, r);
    cr_assert_lt(d, r * 1.6, "dummy %.2f ms, verify %.2f ms", d, r);
}

Test(password, dummy_follows_the_limits)
{
    /* Four times the memory takes clearly longer: the dummy is not one fixed cost. */
    const struct pw_limits small = {.ops = 1, .mem = 2u << 20};
    const struct pw_limits big = {.ops = 1, .mem = 16u << 20};
    double t_small[RUNS];
    double t_big[RUNS];

    pw_verify_dummy("x", 1, &small);
    pw_verify_dummy("x", 1, &big);
    for (int i = 0; i < RUNS; i++) {
        double t0 = now_ms();
        pw_verify_dummy("x", 1, &small);
        double t1 = now_ms();
        pw_verify_dummy("x", 1, &big);
        double t2 = now_ms();
        t_small[i] = t1 - t0;
        t_big[i] = t2 - t1;
    }
    qsort(t_small, RUNS, sizeof(double), cmp_double);
    qsort(t_big, RUNS, sizeof(double), cmp_double);
    cr_assert_gt(t_big[RUNS / 2], 3 * t_small[RUNS / 2], "big %.2f ms, small %.2f ms",
                 t_big[RUNS / 2], t_small[RUNS / 2]);
}

Test(password, dummy_first_call_costs_one_run)
{
    /* The first call for new limits makes the hash instead of verifying: not twice the time. */
    const struct pw_limits l = {.ops = 2, .mem = 8u << 20};
    char h[PW_HASH_MAX];
    double verify[3];

    cr_assert_eq(pw_hash("secret", 6, &l, h), 0);
    for (int i = 0; i < 3; i++) {
        double t0 = now_ms();
        cr_assert_eq(pw_verify(h, "wrong", 5), -EACCES);
        verify[i] = now_ms() - t0;
    }
    qsort(verify, 3, sizeof(double), cmp_double);
    double t0 = now_ms();
    pw_verify_dummy("wrong", 5, &l);
    double first = now_ms() - t0;
    cr_assert_lt(first, 1.6 * verify[1], "first dummy %.2f ms, verify %.2f ms", first, verify[1]);
}
