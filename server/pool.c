/* SPDX-License-Identifier: MIT */
/* Free-list buffer pool (see pool.h). */
#include "pool.h"

#include <stdlib.h>

void pool_init(struct pool *p, size_t size, unsigned max_free)
{
    p->size = size < sizeof(void *) ? sizeof(void *) : size;
    p->max_free = max_free;
    p->n_free = 0;
    p->free = NULL;
}

void *pool_get(struct pool *p)
{
    void *b = p->free;
    if (b) {
        p->free = *(void **)b;
        p->n_free--;
        return b;
    }
    /* 64-byte aligned so that buffers never share a cache line with another's header. */
    size_t sz = (p->size + 63) & ~(size_t)63;
    return aligned_alloc(64, sz);
}

void pool_put(struct pool *p, void *buf)
{
    if (!buf)
        return;
    if (p->n_free >= p->max_free) {
        free(buf);
        return;
    }
    *(void **)buf = p->free;
    p->free = buf;
    p->n_free++;
}

void pool_release(struct pool *p)
{
    while (p->free) {
        void *b = p->free;
        p->free = *(void **)b;
        free(b);
    }
    p->n_free = 0;
}
