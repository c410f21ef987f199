/* SPDX-License-Identifier: MIT */
/*
 * application/x-www-form-urlencoded bodies (the login form): "k=v&k=v" with '+' for space and
 * %XX escapes (WHATWG URL standard, "application/x-www-form-urlencoded parsing").
 */
#ifndef HTTP_FORM_H
#define HTTP_FORM_H

#include "iov.h"

/**
 * Decode the value of the first field named key (compared after decoding) into out[0..outsz)
 * with a terminating NUL; *len gets its length (it may contain NUL bytes if the sender encoded
 * some: callers that need a C string must check strlen). Returns 0, -ENOENT when there is no
 * such field, -EINVAL for a malformed escape, -ENOSPC when the value does not fit.
 */
int http_form_get(struct iov body, const char *key, char *out, size_t outsz, size_t *len);

#endif
