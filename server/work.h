/* SPDX-License-Identifier: MIT */
/*
 * The blocking-work pools: a few threads for what must not stall a loop. The auth pool runs
 * Argon2id and the database writes that go with a login; the dav pool runs the WebDAV methods,
 * which touch the disk, fsync and write the index. They are separate so that a burst of
 * logins (100 ms each) never holds up uploads. A loop hands over an item; a pool thread runs it
 * with its own database handles; the item then goes back to its loop through the loop's eventfd
 * and finishes there, on the loop thread.
 */
#ifndef SERVER_WORK_H
#define SERVER_WORK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "dav.h"

struct loop;
struct site;
struct store;
struct work_pool;

enum work_kind {
    WORK_AUTH, /* threads hold an account store handle */
    WORK_DAV,  /* threads hold an index handle */
};

/** A pool thread's own handles; what its kind does not use is NULL. */
struct work_env {
    struct store *store;
    struct dav_env dav; /* dav.ix NULL when the index could not be opened */
};

struct work_item {
    struct work_item *next;
    struct loop *loop; /* where done runs */
    /** On a pool thread, with the thread's handles. */
    void (*run)(struct work_item *w, struct work_env *env);
    /** Back on the loop thread, after run. Owns w from then on. */
    void (*done)(struct work_item *w);
};

/* The loop side: finished items waiting for their loop. */
struct work_inbox {
    pthread_mutex_t lock;
    struct work_item *first, *last;
    int fd; /* eventfd the loop reads through its ring */
    uint64_t val;
};

/**
 * Start n pool threads of a kind for site, queueing at most max_queue items. Returns 0 or
 * -errno.
 */
int work_pool_start(struct work_pool **out, enum work_kind kind, unsigned n, unsigned max_queue,
                    const struct site *site);

/** Finish the queued items, then stop and free the pool (NULL: no-op). */
void work_pool_stop(struct work_pool *p);

/** Queue w (owned by the pool until done runs). -EAGAIN when the queue is full. */
int work_submit(struct work_pool *p, struct work_item *w);

int work_inbox_init(struct work_inbox *in);
void work_inbox_release(struct work_inbox *in);

/** On the loop: run done for every item that has come back. */
void work_inbox_drain(struct work_inbox *in);

#endif
