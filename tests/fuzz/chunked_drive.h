/* SPDX-License-Identifier: MIT */
/*
 * Shared by the fuzz targets: run the chunked decoder over an input the way a connection does
 * (the unconsumed rest is passed again after every call), with the input arriving in pieces, and
 * check the decoder's promises on every call. Any broken promise is an abort(), which libFuzzer
 * reports as a crash. Header-only so each target stays one clang command line.
 */
#ifndef FUZZ_CHUNKED_DRIVE_H
#define FUZZ_CHUNKED_DRIVE_H

#include <stdlib.h>
#include <string.h>

#include "chunked.h"

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

struct chunked_outcome {
    int state;       /* CHUNKED_DONE, CHUNKED_ERROR, or -1 when still waiting for input */
    size_t consumed; /* bytes the decoder took in all */
    uint8_t *data;   /* decoded body (malloc'd, at least 1 byte) */
    size_t data_len;
};

/*
 * Decode in[0..len). Input arrives in pieces: the first is 'first' bytes, each later one 'step'
 * bytes more (step 0 means everything at once after the first).
 */
static struct chunked_outcome chunked_drive(const uint8_t *in, size_t len, size_t first,
                                            size_t step)
{
    struct http_chunked c;
    struct chunked_outcome o = {.state = -1, .data = malloc(len + 1)};
    size_t pos = 0;
    size_t avail = first < len ? first : len;

    FUZZ_CHECK(o.data);
    http_chunked_init(&c);
    for (;;) {
        while (pos < avail) {
            struct iov d;
            long r = http_chunked_decode(&c, in + pos, avail - pos, &d);

            if (r < 0) {
                FUZZ_CHECK(r == -400 && c.state == CHUNKED_ERROR);
                o.state = CHUNKED_ERROR;
                goto out;
            }
            FUZZ_CHECK((size_t)r <= avail - pos);
            FUZZ_CHECK(d.len <= (size_t)r);
            if (d.len > 0) {
                FUZZ_CHECK(d.base + d.len == in + pos + r);
                memcpy(o.data + o.data_len, d.base, d.len);
                o.data_len += d.len;
            }
            pos += (size_t)r;
            if (http_chunked_done(&c)) {
                /* Once done it takes nothing more. */
                FUZZ_CHECK(http_chunked_decode(&c, in + pos, len - pos, &d) == 0 && d.len == 0);
                o.state = CHUNKED_DONE;
                goto out;
            }
            FUZZ_CHECK(r > 0);
        }
        if (avail == len)
            break;
        avail = (step == 0 || len - avail < step) ? len : avail + step;
    }
out:
    o.consumed = pos;
    FUZZ_CHECK(o.data_len <= o.consumed);
    return o;
}

/* The same input split differently must decode the same way. */
static void chunked_same(const struct chunked_outcome *a, const struct chunked_outcome *b)
{
    FUZZ_CHECK(a->state == b->state);
    /* After an error, consumed is where the failing call started, which depends on the split. */
    if (a->state != CHUNKED_ERROR)
        FUZZ_CHECK(a->consumed == b->consumed);
    FUZZ_CHECK(a->data_len == b->data_len);
    FUZZ_CHECK(a->data_len == 0 || memcmp(a->data, b->data, a->data_len) == 0);
}

#endif
