/* SPDX-License-Identifier: MIT */
/*
 * Blocking-work pools (see work.h). One mutex and condition variable guard each queue: an item
 * is a login or a WebDAV method that costs far more than the lock, so there is nothing to gain
 * from anything finer.
 */
#include "work.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "site.h"
#include "store.h"
#include "index.h"

struct work_pool {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct work_item *first, *last;
    unsigned queued, max_queue;
    bool stopping;
    enum work_kind kind;
    const struct site *site;
    unsigned n;
    pthread_t threads[];
};

static void inbox_post(struct work_inbox *in, struct work_item *w)
{
    w->next = NULL;
    pthread_mutex_lock(&in->lock);
    bool was_empty = !in->first;
    if (in->last)
        in->last->next = w;
    else
        in->first = w;
    in->last = w;
    pthread_mutex_unlock(&in->lock);
    /* One wake-up per batch: the loop drains the whole list when it reads. */
    if (was_empty) {
        uint64_t one = 1;
        if (write(in->fd, &one, sizeof(one)) != sizeof(one))
            die("event=work_wake_failed err=%d", errno);
    }
}

static void env_open(const struct work_pool *p, struct work_env *env)
{
    const struct site *site = p->site;
    char err[256];
    int rc;
    *env = (struct work_env){.dav = {.cfg = &site->dav,
                                     .stage_fd = site->stage_fd,
                                     .tree_watched = &site->tree_watched}};
    if (p->kind == WORK_AUTH) {
        rc = store_open(site->data_dir, &env->store, err, sizeof(err));
        if (rc < 0)
            log_error("event=work_store_open_failed err=%d msg=\"%s\"", rc, err);
    } else {
        rc = dav_index_open(site->data_dir, NULL, &env->dav.ix, err, sizeof(err));
        if (rc < 0)
            log_error("event=work_index_open_failed err=%d msg=\"%s\"", rc, err);
    }
}

static void *pool_thread(void *arg)
{
    struct work_pool *p = arg;
    struct work_env env;
    env_open(p, &env);

    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->first && !p->stopping)
            pthread_cond_wait(&p->cond, &p->lock);
        struct work_item *w = p->first;
        if (!w)
            break;
        p->first = w->next;
        if (!p->first)
            p->last = NULL;
        p->queued--;
        pthread_mutex_unlock(&p->lock);
        w->run(w, &env);
        inbox_post(&w->loop->inbox, w);
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    store_close(env.store);
    dav_index_close(env.dav.ix);
    return NULL;
}

int work_pool_start(struct work_pool **out, enum work_kind kind, unsigned n, unsigned max_queue,
                    const struct site *site)
{
    struct work_pool *p = calloc(1, sizeof(*p) + n * sizeof(pthread_t));
    if (!p)
        return -ENOMEM;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    p->max_queue = max_queue;
    p->kind = kind;
    p->site = site;
    for (unsigned i = 0; i < n; i++) {
        int rc = pthread_create(&p->threads[i], NULL, pool_thread, p);
        if (rc != 0) {
            work_pool_stop(p);
            return -rc;
        }
        p->n++;
    }
    *out = p;
    return 0;
}

void work_pool_stop(struct work_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    for (unsigned i = 0; i < p->n; i++)
        pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

int work_submit(struct work_pool *p, struct work_item *w)
{
    w->next = NULL;
    pthread_mutex_lock(&p->lock);
    if (p->queued >= p->max_queue || p->stopping) {
        pthread_mutex_unlock(&p->lock);
        return -EAGAIN;
    }
    if (p->last)
        p->last->next = w;
    else
        p->first = w;
    p->last = w;
    p->queued++;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
    return 0;
}

int work_inbox_init(struct work_inbox *in)
{
    in->first = in->last = NULL;
    in->fd = eventfd(0, EFD_CLOEXEC);
    if (in->fd < 0)
        return -errno;
    pthread_mutex_init(&in->lock, NULL);
    return 0;
}

void work_inbox_release(struct work_inbox *in)
{
    if (in->fd >= 0)
        close(in->fd);
    in->fd = -1;
    pthread_mutex_destroy(&in->lock);
}

void work_inbox_drain(struct work_inbox *in)
{
    pthread_mutex_lock(&in->lock);
    struct work_item *w = in->first;
    in->first = in->last = NULL;
    pthread_mutex_unlock(&in->lock);
    while (w) {
        struct work_item *next = w->next;
        w->done(w);
        w = next;
    }
}
