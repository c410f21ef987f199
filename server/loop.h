/* SPDX-License-Identifier: MIT */
/*
 * One event loop per thread: its own io_uring, SO_REUSEPORT listener, provided-buffer ring,
 * buffer pools, pipes, timers and connections. Loops share nothing but the read-only config and
 * the root directory descriptor, so the request path takes no locks.
 *
 * Completions are dispatched on an op code packed into the low bits of user_data; the rest is a
 * pointer to the loop or the connection the operation belongs to.
 */
#ifndef SERVER_LOOP_H
#define SERVER_LOOP_H

#include <assert.h>
#include <liburing.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "log.h"
#include "pipes.h"
#include "pool.h"
#include "work.h"

enum ud_op {
    OP_ACCEPT = 1,
    OP_RECV,
    OP_SEND,       /* response bytes from memory */
    OP_SPLICE_IN,  /* file -> pipe */
    OP_SPLICE_OUT, /* pipe -> socket */
    OP_OPEN,       /* confined open that missed the dentry cache */
    OP_TICK,
    OP_WAKE,
    OP_IGNORE, /* cancellations: nothing to do on completion */
    OP_TLS_SEND, /* ciphertext from the TLS session's out buffer */
    OP_TLS_READ, /* file bytes into a plaintext buffer, to be encrypted */
    OP_WORK,     /* the eventfd of finished blocking work (work.h) */
    OP_INOTIFY,  /* the gate's watch on the data folder (gate.h) */
    OP_UPLOAD_WRITE, /* body bytes of a PUT into its temporary file (davserve.h) */
    OP_UPLOAD_SPLICE, /* body bytes of a PUT from the socket into a pipe */
};

#define UD_OP_MASK 15ull
static inline uint64_t ud_make(const void *p, enum ud_op op)
{
    /* Everything that owns operations is at least 16-byte aligned (pool.c, main.c). */
    assert(((uintptr_t)p & UD_OP_MASK) == 0);
    return (uint64_t)(uintptr_t)p | (uint64_t)op;
}
static inline enum ud_op ud_op(uint64_t ud)
{
    return (enum ud_op)(ud & UD_OP_MASK);
}
static inline void *ud_ptr(uint64_t ud)
{
    return (void *)(uintptr_t)(ud & ~UD_OP_MASK);
}

/* Deadlines. Each kind has one fixed duration, so appending at the tail keeps each list sorted
 * by deadline: arming, re-arming and expiry are O(1). */
enum timer_kind {
    TIMER_NONE,
    TIMER_HEAD,      /* first byte of a head until its end (absolute: slow heads are cut) */
    TIMER_BODY,      /* idle while a request body arrives */
    TIMER_KEEPALIVE, /* idle between requests */
    TIMER_SEND,      /* idle while the client reads the response */
    TIMER_LINGER,    /* draining input after our final response before closing */
    TIMER_KINDS,
};

struct conn;
struct gate;
struct site;

struct timer_list {
    struct conn *first, *last;
    unsigned ms;
};

#define LOOP_BGID 1
#define LOOP_RX_BUFS 256   /* provided buffers per loop (power of two) */
#define LOOP_RX_BUF 4096   /* bytes per provided buffer */
/* A TLS output or file-plaintext buffer: 16 full records and their overhead. */
#define TLS_BUF_SIZE (16 * (16384 + 256) + 4096)

/* A listening socket of a loop; user_data of its accept points here. */
struct listener {
    int fd;
    bool tls;
    bool accepting;
} __attribute__((aligned(16)));

#define LOOP_MAX_LISTENERS 2

struct loop {
    struct io_uring ring;
    const struct ff_config *cfg;
    unsigned id;
    const struct site *site;
    struct gate *gate;       /* sign-in state of this loop (gate.c) */
    struct work_inbox inbox; /* blocking work coming back */
    struct listener listeners[LOOP_MAX_LISTENERS];
    unsigned n_listeners;
    int wake_fd; /* eventfd: the main thread asks the loop to drain */
    uint64_t wake_val;
    bool draining;
    bool multishot_recv;
    bool ring_disabled; /* created IORING_SETUP_R_DISABLED, to be enabled by the loop thread */
    uint64_t drain_deadline_ms;

    struct io_uring_buf_ring *br;
    uint8_t *rx_bufs;

    struct pool conn_pool; /* struct conn */
    struct pool in_pool;   /* request input buffers */
    struct pool out_pool;  /* struct out: response plans and heads */
    struct pool tls_pool;     /* struct tls_session */
    struct pool tls_in_pool;  /* received ciphertext */
    struct pool tls_buf_pool; /* ciphertext to send; file plaintext to encrypt */
    struct pipe_pool pipes;

    struct timer_list timers[TIMER_KINDS];
    uint64_t now_ms; /* CLOCK_MONOTONIC, refreshed once per batch of completions */
    struct __kernel_timespec tick_ts;
    time_t date_sec;
    char date[32]; /* IMF-fixdate of date_sec, for Date headers */

    unsigned nconns;
    struct access_log alog;
    pthread_t thread;
} __attribute__((aligned(64)));

/**
 * Set up a loop: ring, buffer ring, pools. The listeners' fds are taken over (closed by
 * loop_release). Returns 0 or -errno.
 */
int loop_init(struct loop *l, unsigned id, const struct ff_config *cfg, const struct site *site,
              const struct listener *listeners, unsigned n_listeners, int access_fd);
void loop_release(struct loop *l);

/** Thread body: runs until drained. arg is the struct loop. */
void *loop_run(void *arg);

/** Ask a loop (from any thread) to stop accepting and drain. */
void loop_stop(struct loop *l);

/** An SQE, submitting what is queued first if the SQ ring is full. Never NULL. */
struct io_uring_sqe *loop_sqe(struct loop *l);

/** Give provided buffer bid back to the ring once its bytes have been copied out. */
void loop_rx_recycle(struct loop *l, unsigned bid);

/** Put conn on the list of 'kind' with a fresh deadline (TIMER_NONE just removes it). */
void loop_timer_set(struct loop *l, struct conn *c, enum timer_kind kind);

#endif
