/* SPDX-License-Identifier: MIT */
/*
 * Fixed-size buffer pool, one per loop thread (so no locks). Buffers come from malloc the first
 * time and are recycled through a free list afterwards: the request path does not malloc once
 * the pool has warmed up. A bounded number of free buffers is kept; the rest go back to malloc.
 */
#ifndef SERVER_POOL_H
#define SERVER_POOL_H

#include <stddef.h>

struct pool {
    size_t size;       /* bytes per buffer */
    unsigned max_free; /* free buffers kept for reuse */
    unsigned n_free;
    void *free;        /* singly linked through the first word of each free buffer */
};

void pool_init(struct pool *p, size_t size, unsigned max_free);

/** A buffer of p->size bytes (contents undefined), or NULL when out of memory. */
void *pool_get(struct pool *p);

/** Give a buffer back; NULL is a no-op. */
void pool_put(struct pool *p, void *buf);

/** Free every buffer on the free list. Buffers still out are the callers' to give back first. */
void pool_release(struct pool *p);

#endif
