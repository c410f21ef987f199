/* SPDX-License-Identifier: MIT */
/* Building a method's response (struct dav_resp, dav.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dav.h"

int dav_resp_header(struct dav_resp *resp, const char *name, const char *fmt, ...)
{
    size_t room = sizeof(resp->headers) - resp->headers_len;
    char *p = resp->headers + resp->headers_len;
    int n = snprintf(p, room, "%s: ", name);
    if (n < 0 || (size_t)n >= room)
        return -ENOSPC;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(p + n, room - (size_t)n, fmt, ap);
    va_end(ap);
    if (m < 0 || (size_t)(n + m + 2) >= room) {
        *p = '\0';
        return -ENOSPC;
    }
    memcpy(p + n + m, "\r\n", 3);
    resp->headers_len += (size_t)(n + m + 2);
    return 0;
}

int dav_resp_text(struct dav_resp *resp, int status, const char *text)
{
    resp->status = status;
    resp->content_type = "text/plain; charset=utf-8";
    return resp->write(resp->write_ctx, text, strlen(text));
}

int dav_resp_status(struct dav_resp *resp, int status)
{
    resp->status = status;
    return 0;
}
