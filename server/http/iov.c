/* SPDX-License-Identifier: MIT */
/*
 * Out-of-line helpers for struct iov (see iov.h).
 *
 * Case folding here is ASCII only and deliberately ignores the C locale: header names, methods,
 * tokens and transfer-coding names are ASCII by grammar (RFC 9110 §5.1, §5.6.2), and a locale
 * where tolower() maps bytes >= 0x80 must not make two different names compare equal.
 */
#include "iov.h"

static inline uint8_t ascii_lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + ('a' - 'A')) : c;
}

bool iov_eq_nocase(struct iov a, const char *lit)
{
    size_t n = strlen(lit);

    if (a.len != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (ascii_lower(a.base[i]) != ascii_lower((uint8_t)lit[i]))
            return false;
    }
    return true;
}
