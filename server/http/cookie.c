/* SPDX-License-Identifier: MIT */
/* Cookie lookup (see cookie.h). */
#include "cookie.h"

#include <string.h>
#include <strings.h>

struct iov http_cookie_find(const struct http_request *req, const char *name)
{
    size_t nlen = strlen(name);
    for (size_t i = 0; i < req->n_headers; i++) {
        const struct http_header *h = &req->headers[i];
        if (h->name.len != 6 || strncasecmp((const char *)h->name.base, "Cookie", 6) != 0)
            continue;
        const char *p = (const char *)h->value.base, *end = p + h->value.len;
        while (p < end) {
            while (p < end && (*p == ' ' || *p == ';'))
                p++;
            const char *e = memchr(p, ';', (size_t)(end - p));
            if (!e)
                e = end;
            if ((size_t)(e - p) > nlen && memcmp(p, name, nlen) == 0 && p[nlen] == '=')
                return iov_make(p + nlen + 1, (size_t)(e - p) - nlen - 1);
            p = e;
        }
    }
    return iov_make(NULL, 0);
}
