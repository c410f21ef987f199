/* SPDX-License-Identifier: MIT */
/*
 * Fixed-size buffer pool, one per loop thread (so no locks). Buffers come from malloc the first
 * time and are recycled through a free list afterwards: the request path does not malloc once
 * the pool has warmed up.
 *
 * Two modes. Trimmed (max_free > 0): each buffer is its own 64-byte aligned allocation and at
 * most max_free idle ones are kept, for big buffers held only while a request is in progress.
 * Slab (max_free == 0): buffers are carved 64 at a time from slabs that are never given back
 * until pool_release, for small objects whose per-item overhead matters (connections: an idle
 * connection costs exactly one item).
 */
#ifndef SERVER_POOL_H
#define SERVER_POOL_H

#include <stddef.h>

struct pool {
    size_t size;       /* bytes per buffer; a multiple of 16 in slab mode */
    unsigned max_free; /* trimmed mode: idle buffers kept; 0 selects slab mode */
    unsigned n_free;
    void *free;  /* singly linked through the first word of each free buffer */
    void *slabs; /* slab mode: singly linked through each slab's first word */
};

void pool_init(struct pool *p, size_t size, unsigned max_free);

/** A buffer of p->size bytes (contents undefined; at least 16-byte aligned), or NULL. */
void *pool_get(struct pool *p);

/** Give a buffer back; NULL is a no-op. */
void pool_put(struct pool *p, void *buf);

/** Free everything the pool holds. Buffers still out must have been given back first. */
void pool_release(struct pool *p);

#endif
