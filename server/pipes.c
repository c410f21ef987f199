/* SPDX-License-Identifier: MIT */
/* Pool of pipes for splice (see pipes.h). */
#include "pipes.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

void pipe_pool_init(struct pipe_pool *pp, unsigned want_size, unsigned max_free)
{
    pp->free = NULL;
    pp->n_free = 0;
    pp->max_free = max_free;
    pp->want_size = want_size;
}

struct ff_pipe *pipe_get(struct pipe_pool *pp, int *err)
{
    struct ff_pipe *p = pp->free;
    if (p) {
        pp->free = p->next;
        pp->n_free--;
        return p;
    }
    p = malloc(sizeof(*p));
    if (!p) {
        *err = -ENOMEM;
        return NULL;
    }
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
        *err = -errno;
        free(p);
        return NULL;
    }
    p->rd = fds[0];
    p->wr = fds[1];
    /* A bigger pipe means fewer splice round trips per large file; where the system refuses
     * (pipe-user-pages limits) the default 64 KiB still works. */
    int sz = fcntl(p->wr, F_SETPIPE_SZ, (int)pp->want_size);
    if (sz < 0)
        sz = fcntl(p->wr, F_GETPIPE_SZ);
    p->size = sz > 0 ? (unsigned)sz : 65536;
    p->next = NULL;
    return p;
}

static void pipe_close(struct ff_pipe *p)
{
    close(p->rd);
    close(p->wr);
    free(p);
}

void pipe_put(struct pipe_pool *pp, struct ff_pipe *p, bool empty)
{
    if (!p)
        return;
    if (!empty || pp->n_free >= pp->max_free) {
        pipe_close(p);
        return;
    }
    p->next = pp->free;
    pp->free = p;
    pp->n_free++;
}

void pipe_pool_release(struct pipe_pool *pp)
{
    while (pp->free) {
        struct ff_pipe *p = pp->free;
        pp->free = p->next;
        pipe_close(p);
    }
    pp->n_free = 0;
}
