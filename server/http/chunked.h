/* SPDX-License-Identifier: MIT */
/*
 * Decoder for the chunked transfer coding of request bodies (RFC 9112 §7.1).
 *
 * Byte-at-a-time resumable state machine: input may be split at any byte boundary. Chunk
 * extensions are skipped (with a length limit), trailer fields are checked for syntax and
 * dropped (with a size limit). A chunk size that is not hex, overflows 63 bits, or lines that do
 * not end in CRLF are errors (400). The data is handed out as slices of the caller's input.
 */
#ifndef HTTP_CHUNKED_H
#define HTTP_CHUNKED_H

#include "iov.h"

enum http_chunked_state {
    CHUNKED_SIZE,      /* reading hex digits of the chunk size */
    CHUNKED_SIZE_WS,   /* BWS after the size, before ';' or CR */
    CHUNKED_EXT,       /* in a chunk extension, until CR */
    CHUNKED_SIZE_LF,   /* CR seen after the size line, want LF */
    CHUNKED_DATA,      /* 'remaining' data bytes to pass through */
    CHUNKED_DATA_CR,   /* CRLF after the data */
    CHUNKED_DATA_LF,
    CHUNKED_TRAILER,   /* at the start of a trailer line (or the final CRLF) */
    CHUNKED_TRAILER_LINE,
    CHUNKED_TRAILER_LF,
    CHUNKED_END_LF,    /* final CR seen, want LF */
    CHUNKED_DONE,
    CHUNKED_ERROR,
};

struct http_chunked {
    enum http_chunked_state state;
    uint64_t remaining;  /* data bytes left in the current chunk */
    unsigned size_digits;
    size_t line_len;     /* bytes in the current extension or trailer line */
    size_t trailer_len;  /* total trailer bytes */
    bool line_has_colon; /* trailer line syntax check */
};

void http_chunked_init(struct http_chunked *c);

/**
 * Decode from in[0..len). Sets *data to the next slice of body data found in the input (possibly
 * empty) and returns how many input bytes were consumed (>= data->len; the caller passes the rest
 * again). Call repeatedly until all input is consumed or the state is DONE/ERROR.
 * Returns a negative value (-400) on malformed input; after CHUNKED_DONE, returns 0 and
 * bytes after the body belong to the next request.
 */
long http_chunked_decode(struct http_chunked *c, const uint8_t *in, size_t len, struct iov *data);

static inline bool http_chunked_done(const struct http_chunked *c)
{
    return c->state == CHUNKED_DONE;
}

#endif
