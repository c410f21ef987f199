/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the chunked decoder (server/http/chunked.c).
 *
 * The input is a request body. It is decoded whole, one byte at a time, and in input-dependent
 * pieces, and compared with a deliberately naive reference decoder below that works on the whole
 * buffer with plain loops (no state machine), written from RFC 9112 §7.1 and the limits in
 * chunked.h/chunked.c. All must agree on the outcome (done / error / waiting for more), the
 * decoded data and, when done, how many bytes the body took. Any disagreement is an abort().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chunked_drive.h"

#define REF_EXT_MAX 4096      /* bytes between the size digits and the CR */
#define REF_TRAILER_MAX 16384 /* trailer section including the final CRLF */

static int ref_hex(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static bool ref_tchar(uint8_t c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool ref_field_byte(uint8_t c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static struct chunked_outcome ref_decode(const uint8_t *in, size_t len)
{
    struct chunked_outcome o = {.state = -1, .data = malloc(len + 1)};
    size_t pos = 0;
    size_t end;

    FUZZ_CHECK(o.data);
    for (;;) {
        uint64_t size = 0;
        unsigned digits = 0;

        while (pos < len && ref_hex(in[pos]) >= 0) {
            digits++;
            if (digits > 16 || size > (uint64_t)INT64_MAX / 16)
                goto err;
            size = size * 16 + (uint64_t)ref_hex(in[pos]);
            pos++;
        }
        if (pos == len)
            goto wait;
        if (digits == 0)
            goto err;

        /* [ BWS ";" anything printable ] up to the CR, at most REF_EXT_MAX bytes. */
        size_t ext = pos;
        while (pos < len && in[pos] != '\r') {
            if (pos - ext >= REF_EXT_MAX)
                goto err;
            pos++;
        }
        size_t i = ext;
        while (i < pos && (in[i] == ' ' || in[i] == '\t'))
            i++;
        if (i < pos) {
            if (in[i] != ';')
                goto err;
            for (i++; i < pos; i++) {
                if (!ref_field_byte(in[i]))
                    goto err;
            }
        } else if (i > ext && pos < len) {
            goto err; /* whitespace, then CR with no ';' */
        }
        if (pos == len || pos + 1 == len)
            goto wait;
        if (in[pos + 1] != '\n')
            goto err;
        pos += 2;

        if (size == 0)
            break;
        size_t n = len - pos < size ? len - pos : (size_t)size;
        memcpy(o.data + o.data_len, in + pos, n);
        o.data_len += n;
        pos += n;
        if (n < size || pos == len)
            goto wait;
        if (in[pos] != '\r')
            goto err;
        if (pos + 1 == len)
            goto wait;
        if (in[pos + 1] != '\n')
            goto err;
        pos += 2;
    }

    /* Trailer section: field lines, then CRLF, all within REF_TRAILER_MAX bytes. */
    end = len - pos < REF_TRAILER_MAX ? len : pos + REF_TRAILER_MAX;
    for (;;) {
        if (pos == end)
            goto more;
        if (in[pos] == '\r') {
            pos++;
            if (pos == end)
                goto more;
            if (in[pos] != '\n')
                goto err;
            o.state = CHUNKED_DONE;
            o.consumed = pos + 1;
            return o;
        }
        if (!ref_tchar(in[pos]))
            goto err;
        while (pos < end && ref_tchar(in[pos]))
            pos++;
        if (pos == end)
            goto more;
        if (in[pos] != ':')
            goto err;
        pos++;
        while (pos < end && ref_field_byte(in[pos]))
            pos++;
        if (pos == end)
            goto more;
        if (in[pos] != '\r')
            goto err;
        pos++;
        if (pos == end)
            goto more;
        if (in[pos] != '\n')
            goto err;
        pos++;
    }
more:
    if (end < len)
        goto err; /* the next byte would pass the trailer limit */
wait:
    o.consumed = len;
    return o;
err:
    o.state = CHUNKED_ERROR;
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct chunked_outcome ref = ref_decode(data, size);
    struct chunked_outcome all = chunked_drive(data, size, size, 0);
    struct chunked_outcome bytes = chunked_drive(data, size, 1, 1);
    size_t first = size ? data[0] % (size + 1) : 0;
    size_t step = size > 1 ? 1 + data[size - 1] % 31 : 1;
    struct chunked_outcome pieces = chunked_drive(data, size, first, step);

    chunked_same(&ref, &all);
    chunked_same(&ref, &bytes);
    chunked_same(&ref, &pieces);
    if (ref.state == -1)
        FUZZ_CHECK(all.consumed == size); /* waiting: everything was taken */
    free(ref.data);
    free(all.data);
    free(bytes.data);
    free(pieces.data);
    return 0;
}
