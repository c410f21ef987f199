/* SPDX-License-Identifier: MIT */
/*
 * Range header evaluation (RFC 9110 §14) for a representation of known length.
 * Only the "bytes" unit exists. A header that does not parse is ignored (the whole
 * representation is sent), as RFC 9110 §14.2 permits. More than HTTP_RANGE_MAX ranges,
 * or ranges that overlap, are answered with the whole representation too (§14.2: a server
 * may ignore a Range it considers abusive).
 */
#ifndef HTTP_RANGE_H
#define HTTP_RANGE_H

#include "iov.h"

#define HTTP_RANGE_MAX 16

struct http_range {
    uint64_t first; /* inclusive */
    uint64_t last;  /* inclusive */
};

enum http_range_result {
    HTTP_RANGE_IGNORE,         /* send 200 with the whole body */
    HTTP_RANGE_OK,             /* send 206 with the n satisfiable ranges, in request order */
    HTTP_RANGE_UNSATISFIABLE,  /* send 416 with Content-Range: bytes * /size */
};

/**
 * Evaluate the value of a Range header against a body of 'size' bytes. Ranges that cannot be
 * satisfied are dropped; if none remain the result is UNSATISFIABLE. On HTTP_RANGE_OK,
 * out[0..*n) holds the ranges clipped to the body, none overlapping or adjacent; otherwise *n is 0.
 * For size 0 the result is never OK: UNSATISFIABLE, or IGNORE when a non-zero suffix-range makes
 * the header satisfiable (§14.1.2) although no part could describe it.
 */
enum http_range_result http_range_parse(struct iov value, uint64_t size,
                                        struct http_range out[HTTP_RANGE_MAX], size_t *n);

#endif
