/* SPDX-License-Identifier: MIT */
/*
 * Pipes for splice file -> pipe -> socket. A connection borrows one only while a body is being
 * sent and returns it empty; the loop keeps a few spare ones so that busy connections do not
 * pay pipe2 + F_SETPIPE_SZ per response.
 */
#ifndef SERVER_PIPES_H
#define SERVER_PIPES_H

#include <stdbool.h>
#include <stddef.h>

struct ff_pipe {
    int rd, wr;
    unsigned size; /* capacity in bytes */
    struct ff_pipe *next;
};

struct pipe_pool {
    struct ff_pipe *free;
    unsigned n_free, max_free;
    unsigned want_size; /* F_SETPIPE_SZ request */
};

void pipe_pool_init(struct pipe_pool *pp, unsigned want_size, unsigned max_free);

/** An empty pipe, or NULL with errno-style code in *err. */
struct ff_pipe *pipe_get(struct pipe_pool *pp, int *err);

/** Return a pipe. empty: nothing is left in it (else it is closed, as its content is junk). */
void pipe_put(struct pipe_pool *pp, struct ff_pipe *p, bool empty);

void pipe_pool_release(struct pipe_pool *pp);

#endif
