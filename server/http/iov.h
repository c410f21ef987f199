/* SPDX-License-Identifier: MIT */
/* Byte slices that point into a buffer owned by someone else (never NUL-terminated). */
#ifndef HTTP_IOV_H
#define HTTP_IOV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct iov {
    const uint8_t *base;
    size_t len;
};

#define IOV_LIT(s) ((struct iov){(const uint8_t *)(s), sizeof(s) - 1})

static inline struct iov iov_make(const void *p, size_t len)
{
    return (struct iov){(const uint8_t *)p, len};
}

static inline bool iov_eq(struct iov a, struct iov b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.base, b.base, a.len) == 0);
}

/** ASCII case-insensitive comparison, as header names and tokens need. */
bool iov_eq_nocase(struct iov a, const char *lit);

#endif
