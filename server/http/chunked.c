/* SPDX-License-Identifier: MIT */
/*
 * Chunked transfer coding decoder for request bodies (RFC 9112 §7.1), see chunked.h.
 *
 * One byte at a time through the framing, in bulk through the data: each call hands out at most
 * one slice of data and returns right after it, so the caller can store it before asking for
 * more. The state after every byte lives in struct http_chunked, so input may be split anywhere.
 *
 * Strictness: lines end in CRLF only; the chunk size is 1 to 16 hex digits and below 2^63;
 * between the size and ';' only BWS (SP/HTAB) is allowed, and whitespace with no extension after
 * it is an error (the grammar has no trailing BWS). Chunk extensions are not parsed, only checked
 * to hold field-value bytes (no CTLs) and to fit in CHUNK_EXT_MAX bytes; a quoted-string in an
 * extension therefore cannot contain CR or LF, which the grammar forbids anyway. Trailer fields
 * are checked for "token ':' field-value" syntax, limited to TRAILER_MAX bytes in all, and
 * dropped: RFC 9110 §6.5.1 lets a recipient discard them, and nothing here needs them.
 * Known gap: extension names and values are not checked against their token/quoted-string
 * grammar, only for forbidden bytes.
 */
#include "chunked.h"

#include <limits.h>
#include <string.h>

#include "chars.h"

#define CHUNK_SIZE_MAX_DIGITS 16
#define CHUNK_EXT_MAX 4096 /* bytes after the size digits, up to the CR */
#define TRAILER_MAX 16384  /* the whole trailer section, its final CRLF included */

void http_chunked_init(struct http_chunked *c)
{
    *c = (struct http_chunked){.state = CHUNKED_SIZE};
}

/* Every byte of the trailer section counts toward TRAILER_MAX; false once it is exceeded. */
static bool count_trailer_byte(struct http_chunked *c)
{
    c->trailer_len++;
    return c->trailer_len <= TRAILER_MAX;
}

static long fail(struct http_chunked *c)
{
    c->state = CHUNKED_ERROR;
    return -400;
}

long http_chunked_decode(struct http_chunked *c, const uint8_t *in, size_t len, struct iov *data)
{
    *data = iov_make(in, 0);
    if (c->state == CHUNKED_ERROR)
        return -400;
    if (c->state == CHUNKED_DONE)
        return 0; /* whatever follows is the next request's */
    if (len > LONG_MAX)
        len = LONG_MAX;

    for (size_t i = 0; i < len; i++) {
        uint8_t ch = in[i];

        switch (c->state) {
        case CHUNKED_SIZE: {
            int d = http_hex_value(ch);

            if (d >= 0) {
                c->size_digits++;
                /* Cap the digits so leading zeros cannot make the line endless, and the value
                 * below 2^63 so it fits every signed length we hand it to. */
                if (c->size_digits > CHUNK_SIZE_MAX_DIGITS || c->remaining > (INT64_MAX >> 4))
                    return fail(c);
                c->remaining = (c->remaining << 4) | (uint64_t)d;
                break;
            }
            if (c->size_digits == 0)
                return fail(c); /* chunk-size = 1*HEXDIG */
            if (ch == ' ' || ch == '\t') {
                c->line_len = 1;
                c->state = CHUNKED_SIZE_WS;
            } else if (ch == ';') {
                c->line_len = 1;
                c->state = CHUNKED_EXT;
            } else if (ch == '\r') {
                c->state = CHUNKED_SIZE_LF;
            } else {
                return fail(c);
            }
            break;
        }
        case CHUNKED_SIZE_WS:
            /* RFC 9112 §7.1.1: chunk-ext = *( BWS ";" BWS chunk-ext-name ... ). */
            c->line_len++;
            if (c->line_len > CHUNK_EXT_MAX)
                return fail(c);
            if (ch == ';')
                c->state = CHUNKED_EXT;
            else if (ch != ' ' && ch != '\t')
                return fail(c);
            break;
        case CHUNKED_EXT:
            if (ch == '\r') {
                c->state = CHUNKED_SIZE_LF;
                break;
            }
            /* RFC 9112 §7.1.1: extensions we do not understand are ignored, but their length
             * is limited so a client cannot stream an endless one. */
            c->line_len++;
            if (c->line_len > CHUNK_EXT_MAX || !http_is_field_byte(ch))
                return fail(c);
            break;
        case CHUNKED_SIZE_LF:
            if (ch != '\n')
                return fail(c);
            if (c->remaining == 0) {
                /* last-chunk: the trailer section follows (RFC 9112 §7.1.2). */
                c->trailer_len = 0;
                c->state = CHUNKED_TRAILER;
            } else {
                c->state = CHUNKED_DATA;
            }
            break;
        case CHUNKED_DATA: {
            size_t n = len - i;

            if (n > c->remaining)
                n = (size_t)c->remaining;
            *data = iov_make(in + i, n);
            c->remaining -= n;
            if (c->remaining == 0)
                c->state = CHUNKED_DATA_CR;
            return (long)(i + n);
        }
        case CHUNKED_DATA_CR:
            if (ch != '\r')
                return fail(c); /* the data was longer than its size said */
            c->state = CHUNKED_DATA_LF;
            break;
        case CHUNKED_DATA_LF:
            if (ch != '\n')
                return fail(c);
            c->size_digits = 0;
            c->remaining = 0;
            c->state = CHUNKED_SIZE;
            break;
        case CHUNKED_TRAILER:
            if (!count_trailer_byte(c))
                return fail(c);
            if (ch == '\r') {
                c->state = CHUNKED_END_LF;
                break;
            }
            /* RFC 9112 §5.2: no obs-fold, so a line starting with SP/HTAB fails too. */
            if (!http_is_tchar(ch))
                return fail(c);
            c->line_has_colon = false;
            c->state = CHUNKED_TRAILER_LINE;
            break;
        case CHUNKED_TRAILER_LINE:
            if (!count_trailer_byte(c))
                return fail(c);
            if (!c->line_has_colon) {
                /* RFC 9112 §5.1: no whitespace between the name and the colon. */
                if (ch == ':')
                    c->line_has_colon = true;
                else if (!http_is_tchar(ch))
                    return fail(c);
            } else if (ch == '\r') {
                c->state = CHUNKED_TRAILER_LF;
            } else if (!http_is_field_byte(ch)) {
                return fail(c);
            }
            break;
        case CHUNKED_TRAILER_LF:
            if (!count_trailer_byte(c) || ch != '\n')
                return fail(c);
            c->state = CHUNKED_TRAILER;
            break;
        case CHUNKED_END_LF:
            if (!count_trailer_byte(c) || ch != '\n')
                return fail(c);
            /* Stop right after the final LF: the next byte is the next request's. */
            c->state = CHUNKED_DONE;
            return (long)(i + 1);
        case CHUNKED_DONE:
        case CHUNKED_ERROR:
            /* Handled before the loop; no byte moves us into them without returning. */
            return fail(c);
        }
    }
    return (long)len;
}
