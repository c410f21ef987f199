/* SPDX-License-Identifier: MIT */
/*
 * Conditional requests (RFC 9110 §13.2.2): the precondition order If-Match,
 * If-Unmodified-Since, If-None-Match, If-Modified-Since, then If-Range for Range.
 */
#ifndef HTTP_COND_H
#define HTTP_COND_H

#include <time.h>

#include "parse.h"

struct http_validators {
    struct iov etag; /* strong entity-tag with quotes, empty when the resource does not exist */
    time_t mtime;    /* Last-Modified, seconds */
    bool exists;
};

/**
 * Evaluate the preconditions of req against the selected representation.
 * Returns 0 to proceed, 304 (GET/HEAD with a matching If-None-Match or a not-newer
 * If-Modified-Since) or 412 (precondition failed). Unparseable dates are ignored (§13.1.3/4).
 * Call it only where the response without preconditions would be 2xx or 412 (§13.2.1).
 */
int http_cond_evaluate(const struct http_request *req, const struct http_validators *v);

/**
 * If-Range (§13.1.5): true when the Range header should be honoured — there is no If-Range,
 * or its entity-tag matches strongly, or its date equals Last-Modified exactly.
 */
bool http_cond_if_range(const struct http_request *req, const struct http_validators *v);

#endif
