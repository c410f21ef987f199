/* SPDX-License-Identifier: MIT */
/* Free-list buffer pool (see pool.h). */
#include "pool.h"

#include <stdlib.h>

#define SLAB_ITEMS 64
#define SLAB_HEADER 16 /* keeps items 16-byte aligned after the link word */

void pool_init(struct pool *p, size_t size, unsigned max_free)
{
    if (size < sizeof(void *))
        size = sizeof(void *);
    if (max_free == 0)
        size = (size + 15) & ~(size_t)15;
    p->size = size;
    p->max_free = max_free;
    p->n_free = 0;
    p->free = NULL;
    p->slabs = NULL;
}

static void push(struct pool *p, void *buf)
{
    *(void **)buf = p->free;
    p->free = buf;
    p->n_free++;
}

static int add_slab(struct pool *p)
{
    char *slab = malloc(SLAB_HEADER + p->size * SLAB_ITEMS);
    if (!slab)
        return -1;
    *(void **)slab = p->slabs;
    p->slabs = slab;
    for (unsigned i = SLAB_ITEMS; i-- > 0;)
        push(p, slab + SLAB_HEADER + (size_t)i * p->size);
    return 0;
}

void *pool_get(struct pool *p)
{
    if (!p->free) {
        if (p->max_free == 0) {
            if (add_slab(p) < 0)
                return NULL;
        } else {
            /* 64-byte aligned so that buffers never share a cache line with another's. */
            return aligned_alloc(64, (p->size + 63) & ~(size_t)63);
        }
    }
    void *b = p->free;
    p->free = *(void **)b;
    p->n_free--;
    return b;
}

void pool_put(struct pool *p, void *buf)
{
    if (!buf)
        return;
    if (p->max_free > 0 && p->n_free >= p->max_free) {
        free(buf);
        return;
    }
    push(p, buf);
}

void pool_release(struct pool *p)
{
    if (p->max_free == 0) {
        while (p->slabs) {
            void *s = p->slabs;
            p->slabs = *(void **)s;
            free(s);
        }
    } else {
        while (p->free) {
            void *b = p->free;
            p->free = *(void **)b;
            free(b);
        }
    }
    p->free = NULL;
    p->n_free = 0;
}
