/* SPDX-License-Identifier: MIT */
/* Cookie request fields (RFC 6265 §5.4): "name=value" pairs separated by ";". */
#ifndef HTTP_COOKIE_H
#define HTTP_COOKIE_H

#include "parse.h"

/**
 * The value of the first cookie called name in any of req's Cookie fields (a slice of the
 * request, not NUL-terminated), or an empty slice with base NULL when there is none.
 */
struct iov http_cookie_find(const struct http_request *req, const char *name);

#endif
