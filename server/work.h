/* SPDX-License-Identifier: MIT */
/*
 * The blocking-work pool: a few threads for what must not stall a loop (Argon2id, and the
 * database writes that go with a login). A loop hands over an item; a pool thread runs it with
 * its own database handle; the item then goes back to its loop through the loop's eventfd and
 * finishes there, on the loop thread.
 */
#ifndef SERVER_WORK_H
#define SERVER_WORK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct loop;
struct site;
struct store;
struct work_pool;

struct work_item {
    struct work_item *next;
    struct loop *loop; /* where done runs */
    /** On a pool thread. st is the thread's store, NULL if it could not be opened. */
    void (*run)(struct work_item *w, struct store *st);
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
 * Start n pool threads for site, queueing at most max_queue items. Returns 0 or -errno.
 */
int work_pool_start(struct work_pool **out, unsigned n, unsigned max_queue,
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
