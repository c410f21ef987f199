/* SPDX-License-Identifier: MIT */
/*
 * The per-thread event loop (see loop.h): ring and provided-buffer ring setup, multishot
 * accept, the tick that expires deadlines, refreshes the clock and flushes the access log, and
 * the drain that graceful shutdown asks for.
 *
 * Kernel features: a provided-buffer ring (5.19) is required; multishot accept (5.19) and
 * multishot recv (6.0) are used, recv falling back to single-shot where the kernel refuses it;
 * SINGLE_ISSUER/DEFER_TASKRUN (6.1) are asked for and dropped where missing.
 */
#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "gate.h"
#include "site.h"
#include "http/date.h"
#include "tls/session.h"

#define LOOP_SQ_ENTRIES 1024
#define TICK_MS 250
#define DRAIN_MAX_MS 30000
#define LINGER_MS 2000

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct io_uring_sqe *loop_sqe(struct loop *l)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&l->ring);
    while (!sqe) {
        int rc = io_uring_submit(&l->ring);
        if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY)
            die("event=submit_failed err=%d", rc);
        sqe = io_uring_get_sqe(&l->ring);
    }
    return sqe;
}

void loop_rx_recycle(struct loop *l, unsigned bid)
{
    io_uring_buf_ring_add(l->br, l->rx_bufs + (size_t)bid * LOOP_RX_BUF, LOOP_RX_BUF,
                          (unsigned short)bid, io_uring_buf_ring_mask(LOOP_RX_BUFS), 0);
    io_uring_buf_ring_advance(l->br, 1);
}

void loop_timer_set(struct loop *l, struct conn *c, enum timer_kind kind)
{
    if (c->timer != TIMER_NONE) {
        struct timer_list *tl = &l->timers[c->timer];
        if (c->tprev)
            c->tprev->tnext = c->tnext;
        else
            tl->first = c->tnext;
        if (c->tnext)
            c->tnext->tprev = c->tprev;
        else
            tl->last = c->tprev;
        c->tprev = c->tnext = NULL;
    }
    c->timer = (uint8_t)kind;
    if (kind == TIMER_NONE)
        return;
    struct timer_list *tl = &l->timers[kind];
    c->deadline_ms = l->now_ms + tl->ms;
    c->tprev = tl->last;
    c->tnext = NULL;
    if (tl->last)
        tl->last->tnext = c;
    else
        tl->first = c;
    tl->last = c;
}

static int setup_ring(struct loop *l)
{
    static const unsigned flag_sets[] = {
        /* Created disabled: the loop thread enables it and so becomes its single issuer. */
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_R_DISABLED,
        IORING_SETUP_COOP_TASKRUN,
        0,
    };
    int rc = -EINVAL;
    for (size_t i = 0; i < sizeof(flag_sets) / sizeof(flag_sets[0]); i++) {
        struct io_uring_params p = {
            .flags = flag_sets[i] | IORING_SETUP_CQSIZE,
            .cq_entries = LOOP_SQ_ENTRIES * 8,
        };
        rc = io_uring_queue_init_params(LOOP_SQ_ENTRIES, &l->ring, &p);
        if (rc == 0) {
            l->ring_disabled = flag_sets[i] & IORING_SETUP_R_DISABLED;
            return 0;
        }
        if (rc != -EINVAL)
            break;
    }
    return rc;
}

static int setup_buf_ring(struct loop *l)
{
    size_t ring_size = LOOP_RX_BUFS * sizeof(struct io_uring_buf);
    void *mem = mmap(NULL, ring_size, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (mem == MAP_FAILED)
        return -errno;
    l->br = mem;
    io_uring_buf_ring_init(l->br);
    struct io_uring_buf_reg reg = {
        .ring_addr = (uint64_t)(uintptr_t)mem,
        .ring_entries = LOOP_RX_BUFS,
        .bgid = LOOP_BGID,
    };
    int rc = io_uring_register_buf_ring(&l->ring, &reg, 0);
    if (rc < 0)
        return rc;
    l->rx_bufs = aligned_alloc(4096, (size_t)LOOP_RX_BUFS * LOOP_RX_BUF);
    if (!l->rx_bufs)
        return -ENOMEM;
    for (unsigned i = 0; i < LOOP_RX_BUFS; i++)
        io_uring_buf_ring_add(l->br, l->rx_bufs + (size_t)i * LOOP_RX_BUF, LOOP_RX_BUF,
                              (unsigned short)i, io_uring_buf_ring_mask(LOOP_RX_BUFS), (int)i);
    io_uring_buf_ring_advance(l->br, LOOP_RX_BUFS);
    return 0;
}

int loop_init(struct loop *l, unsigned id, const struct ff_config *cfg, const struct site *site,
              const struct listener *listeners, unsigned n_listeners, int access_fd)
{
    memset(l, 0, sizeof(*l));
    l->id = id;
    l->cfg = cfg;
    l->site = site;
    l->inbox.fd = -1;
    for (unsigned i = 0; i < n_listeners; i++)
        l->listeners[i] = listeners[i];
    l->n_listeners = n_listeners;
    l->multishot_recv = !cfg->no_multishot;
    l->wake_fd = eventfd(0, EFD_CLOEXEC);
    if (l->wake_fd < 0)
        return -errno;
    int rc = setup_ring(l);
    if (rc < 0)
        return rc;
    rc = setup_buf_ring(l);
    if (rc < 0)
        return rc;
    rc = work_inbox_init(&l->inbox);
    if (rc < 0)
        return rc;
    rc = gate_init(l);
    if (rc < 0)
        return rc;

    size_t in_size = cfg->limits.max_head + LOOP_RX_BUF;
    pool_init(&l->conn_pool, sizeof(struct conn), 0);
    pool_init(&l->in_pool, in_size, 256);
    pool_init(&l->out_pool, 8192, 256);
    pool_init(&l->tls_pool, sizeof(struct tls_session), 0);
    pool_init(&l->tls_in_pool, 2 * TLS_RECORD_MAX + LOOP_RX_BUF, 256);
    pool_init(&l->tls_buf_pool, TLS_BUF_SIZE, 32);
    pipe_pool_init(&l->pipes, 1u << 20, 64);

    l->timers[TIMER_HEAD].ms = cfg->head_timeout_ms;
    l->timers[TIMER_BODY].ms = cfg->body_timeout_ms;
    l->timers[TIMER_KEEPALIVE].ms = cfg->keepalive_timeout_ms;
    l->timers[TIMER_SEND].ms = cfg->send_timeout_ms;
    l->timers[TIMER_LINGER].ms = LINGER_MS;
    l->now_ms = mono_ms();
    access_log_init(&l->alog, access_fd);
    return 0;
}

void loop_release(struct loop *l)
{
    access_log_flush(&l->alog);
    io_uring_queue_exit(&l->ring);
    if (l->br)
        munmap(l->br, LOOP_RX_BUFS * sizeof(struct io_uring_buf));
    free(l->rx_bufs);
    pool_release(&l->conn_pool);
    pool_release(&l->in_pool);
    pool_release(&l->out_pool);
    pipe_pool_release(&l->pipes);
    pool_release(&l->tls_pool);
    pool_release(&l->tls_in_pool);
    pool_release(&l->tls_buf_pool);
    for (unsigned i = 0; i < l->n_listeners; i++)
        if (l->listeners[i].fd >= 0)
            close(l->listeners[i].fd);
    if (l->wake_fd >= 0)
        close(l->wake_fd);
    gate_release(l);
    work_inbox_release(&l->inbox);
}

void loop_stop(struct loop *l)
{
    uint64_t one = 1;
    ssize_t n = write(l->wake_fd, &one, sizeof(one));
    (void)n;
}

static void arm_accept(struct loop *l, struct listener *ls)
{
    struct io_uring_sqe *sqe = loop_sqe(l);
    io_uring_prep_multishot_accept(sqe, ls->fd, NULL, NULL, SOCK_CLOEXEC);
    io_uring_sqe_set_data64(sqe, ud_make(ls, OP_ACCEPT));
    ls->accepting = true;
}

static bool any_accepting(const struct loop *l)
{
    for (unsigned i = 0; i < l->n_listeners; i++)
        if (l->listeners[i].accepting)
            return true;
    return false;
}

static void arm_tick(struct loop *l)
{
    l->tick_ts = (struct __kernel_timespec){.tv_sec = 0, .tv_nsec = TICK_MS * 1000000L};
    struct io_uring_sqe *sqe = loop_sqe(l);
    io_uring_prep_timeout(sqe, &l->tick_ts, 0, 0);
    io_uring_sqe_set_data64(sqe, ud_make(l, OP_TICK));
}

static void arm_work(struct loop *l)
{
    struct io_uring_sqe *sqe = loop_sqe(l);
    io_uring_prep_read(sqe, l->inbox.fd, &l->inbox.val, sizeof(l->inbox.val), 0);
    io_uring_sqe_set_data64(sqe, ud_make(l, OP_WORK));
}

static void arm_wake(struct loop *l)
{
    struct io_uring_sqe *sqe = loop_sqe(l);
    io_uring_prep_read(sqe, l->wake_fd, &l->wake_val, sizeof(l->wake_val), 0);
    io_uring_sqe_set_data64(sqe, ud_make(l, OP_WAKE));
}

/* Apply fn to every connection on a timer list (all but those already closing). The list is
 * copied first because fn moves connections between lists; fn touches only the one it gets. */
static void for_each_conn(struct loop *l, void (*fn)(struct conn *))
{
    struct conn **all = malloc(sizeof(*all) * (l->nconns + 1));
    if (!all)
        die("event=oom where=drain");
    size_t n = 0;
    for (int k = TIMER_HEAD; k < TIMER_KINDS; k++)
        for (struct conn *c = l->timers[k].first; c && n < l->nconns; c = c->tnext)
            all[n++] = c;
    for (size_t i = 0; i < n; i++)
        fn(all[i]);
    free(all);
}

static void start_drain(struct loop *l)
{
    if (l->draining)
        return;
    l->draining = true;
    l->drain_deadline_ms = l->now_ms + DRAIN_MAX_MS;
    for (unsigned i = 0; i < l->n_listeners; i++) {
        if (!l->listeners[i].accepting)
            continue;
        struct io_uring_sqe *sqe = loop_sqe(l);
        io_uring_prep_cancel64(sqe, ud_make(&l->listeners[i], OP_ACCEPT), 0);
        io_uring_sqe_set_data64(sqe, ud_make(NULL, OP_IGNORE));
    }
    for_each_conn(l, conn_drain);
}

static void on_accept(struct loop *l, struct listener *ls, const struct io_uring_cqe *cqe)
{
    if (cqe->res >= 0) {
        if (l->draining)
            close(cqe->res);
        else
            conn_start(l, cqe->res, ls->tls);
    } else if (cqe->res != -ECANCELED) {
        log_warn("event=accept_failed err=%d", cqe->res);
    }
    if (cqe->flags & IORING_CQE_F_MORE)
        return;
    ls->accepting = false;
    if (l->draining) {
        close(ls->fd);
        ls->fd = -1;
    } else if (cqe->res != -EMFILE && cqe->res != -ENFILE && cqe->res != -ENOMEM) {
        arm_accept(l, ls);
    }
    /* Out of descriptors: the tick re-arms accept once some have been given back. */
}

static void on_tick(struct loop *l)
{
    l->now_ms = mono_ms();
    for (int k = TIMER_HEAD; k < TIMER_KINDS; k++) {
        struct timer_list *tl = &l->timers[k];
        while (tl->first && tl->first->deadline_ms <= l->now_ms)
            conn_on_timeout(tl->first);
    }
    if (l->draining && l->now_ms >= l->drain_deadline_ms)
        for_each_conn(l, conn_kill);
    for (unsigned i = 0; i < l->n_listeners && !l->draining; i++)
        if (!l->listeners[i].accepting && l->listeners[i].fd >= 0)
            arm_accept(l, &l->listeners[i]);
    access_log_flush(&l->alog);
    gate_on_tick(l);
    arm_tick(l);
}

static void dispatch(struct loop *l, const struct io_uring_cqe *cqe)
{
    enum ud_op op = ud_op(cqe->user_data);
    switch (op) {
    case OP_ACCEPT:
        on_accept(l, ud_ptr(cqe->user_data), cqe);
        break;
    case OP_TICK:
        on_tick(l);
        break;
    case OP_WAKE:
        start_drain(l);
        break;
    case OP_WORK:
        if (cqe->res < 0 && cqe->res != -EINTR)
            die("event=work_read_failed err=%d", cqe->res);
        work_inbox_drain(&l->inbox);
        arm_work(l);
        break;
    case OP_INOTIFY:
        gate_on_inotify(l, cqe->res);
        break;
    case OP_IGNORE:
        break;
    default:
        conn_on_cqe(ud_ptr(cqe->user_data), cqe);
        break;
    }
}

void *loop_run(void *arg)
{
    struct loop *l = arg;
    if (l->ring_disabled) {
        /* liburing 2.3 declares io_uring_enable_rings but does not export it. */
        if (syscall(__NR_io_uring_register, l->ring.ring_fd, IORING_REGISTER_ENABLE_RINGS, NULL,
                    0) < 0)
            die("event=ring_enable_failed err=%d", -errno);
    }
    for (unsigned i = 0; i < l->n_listeners; i++)
        arm_accept(l, &l->listeners[i]);
    arm_tick(l);
    arm_wake(l);
    arm_work(l);
    gate_start(l);
    while (!(l->draining && l->nconns == 0 && !any_accepting(l))) {
        int rc = io_uring_submit_and_wait(&l->ring, 1);
        if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY && rc != -ETIME)
            die("event=ring_wait_failed err=%d", rc);
        l->now_ms = mono_ms();
        struct io_uring_cqe *cqe;
        unsigned head, n = 0;
        io_uring_for_each_cqe(&l->ring, head, cqe)
        {
            dispatch(l, cqe);
            n++;
        }
        io_uring_cq_advance(&l->ring, n);
    }
    access_log_flush(&l->alog);
    return NULL;
}
