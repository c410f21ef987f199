/* SPDX-License-Identifier: MIT */
/*
 * Connection state machine: receiving, request framing, the lingering close, deadlines and the
 * teardown that waits for the kernel to give back every buffer (see conn.h for the states).
 *
 * Input arrives through the loop's provided-buffer ring (multishot recv, or single-shot recv
 * where the kernel lacks it) and is copied into the connection's input buffer, a pool buffer
 * held only while there is unprocessed input or a request in progress. While a response is
 * being written, pipelined input is kept; past one pool buffer the receive is paused, and a
 * connection whose input still grows past IN_HARD_MAX is dropped.
 *
 * A request body is read through its framing and, as the route says (route_body), kept whole
 * behind the head (forms, WebDAV XML), streamed to an upload, or discarded.
 */
#include "conn.h"

#include <assert.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "davserve.h"
#include "fileserve.h"
#include "gate.h"
#include "route.h"
#include "send.h"
#include "send_tls.h"
#include "tls/ctx.h"
#include "tls/ktls.h"

/* An idle keep-alive connection costs this struct and the kernel's socket, nothing more. */
static_assert(sizeof(struct conn) <= 256, "struct conn is the per-idle-connection cost");

/* Pipelined input kept while a response is in flight, beyond which the connection is dropped. */
#define IN_HARD_MAX (2u << 20)
/* Bodies of requests that do not use them (GET) are discarded, up to this size. */
#define DISCARD_BODY_MAX (1u << 20)

static _Thread_local struct http_request scratch_req;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void conn_set_state(struct conn *c, enum conn_state s)
{
#ifdef FASTFILE_TRACE
    log_debug("conn=%p state=%d->%d", (void *)c, c->state, s);
#endif
    c->state = (uint8_t)s;
}

/* --- input buffer --- */

/* Give back an input buffer: a pool buffer, or its own allocation once it had to grow. */
static void buf_release(struct pool *pool, uint8_t **buf, uint32_t *cap)
{
    if (*cap == pool->size)
        pool_put(pool, *buf);
    else
        free(*buf);
    *buf = NULL;
    *cap = 0;
}

/*
 * Make room for want bytes in a buffer holding len: only a client that pipelines far ahead of
 * our responses needs more than a pool buffer; it gets its own allocation, doubling up to
 * IN_HARD_MAX, past which -ENOBUFS (the connection is dropped).
 */
static int buf_reserve(struct pool *pool, uint8_t **buf, uint32_t len, uint32_t *cap,
                       size_t want)
{
    if (want <= *cap)
        return 0;
    if (want > IN_HARD_MAX)
        return -ENOBUFS;
    size_t ncap = (size_t)*cap * 2 > want ? (size_t)*cap * 2 : want;
    if (ncap > IN_HARD_MAX)
        ncap = IN_HARD_MAX;
    uint8_t *p = malloc(ncap);
    if (!p)
        return -ENOMEM;
    memcpy(p, *buf, len);
    buf_release(pool, buf, cap);
    *buf = p;
    *cap = (uint32_t)ncap;
    return 0;
}

static void in_release(struct conn *c)
{
    if (!c->in)
        return;
    buf_release(&c->loop->in_pool, &c->in, &c->in_cap);
    c->in_len = 0;
}

static int in_append(struct conn *c, const uint8_t *data, size_t n)
{
    struct loop *l = c->loop;
    if (!c->in) {
        c->in = pool_get(&l->in_pool);
        if (!c->in)
            return -ENOMEM;
        c->in_cap = (uint32_t)l->in_pool.size;
        c->in_len = 0;
    }
    int rc = buf_reserve(&l->in_pool, &c->in, c->in_len, &c->in_cap, (size_t)c->in_len + n);
    if (rc < 0)
        return rc;
    memcpy(c->in + c->in_len, data, n);
    c->in_len += (uint32_t)n;
    return 0;
}

/* Drop n bytes starting at off, keeping what follows (pipelined requests). */
static void in_cut(struct conn *c, uint32_t off, uint32_t n)
{
    memmove(c->in + off, c->in + off + n, c->in_len - off - n);
    c->in_len -= n;
}

/* --- receiving --- */

static void rx_arm(struct conn *c)
{
    if ((c->flags & (CF_RECV_ARMED | CF_RX_PAUSED | CF_EOF)) || c->state == CONN_CLOSED)
        return;
    struct loop *l = c->loop;
    struct io_uring_sqe *sqe = loop_sqe(l);
    if (l->multishot_recv)
        io_uring_prep_recv_multishot(sqe, c->fd, NULL, 0, 0);
    else
        io_uring_prep_recv(sqe, c->fd, NULL, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = LOOP_BGID;
    io_uring_sqe_set_data64(sqe, ud_make(c, OP_RECV));
    c->flags |= CF_RECV_ARMED;
    c->inflight++;
}

static void rx_cancel(struct conn *c)
{
    if (!(c->flags & CF_RECV_ARMED) || (c->flags & CF_CANCELLING))
        return;
    struct io_uring_sqe *sqe = loop_sqe(c->loop);
    io_uring_prep_cancel64(sqe, ud_make(c, OP_RECV), 0);
    io_uring_sqe_set_data64(sqe, ud_make(NULL, OP_IGNORE));
    c->flags |= CF_CANCELLING;
}

static void rx_pause(struct conn *c)
{
    c->flags |= CF_RX_PAUSED;
    rx_cancel(c);
}

static void rx_resume(struct conn *c)
{
    c->flags &= (uint16_t)~CF_RX_PAUSED;
    rx_arm(c);
}

/* --- closing --- */

void conn_abort_at(struct conn *c, int line)
{
    if (c->state == CONN_CLOSED)
        return;
    log_debug("event=conn_abort state=%d line=%d", c->state, line);
    conn_set_state(c, CONN_CLOSED);
    loop_timer_set(c->loop, c, TIMER_NONE);
    /* Wakes every operation the kernel still holds for this socket: the recv ends with EOF,
     * sends and splices with EPIPE. The fd itself is closed only after the last completion. */
    shutdown(c->fd, SHUT_RDWR);
    rx_cancel(c);
}

static void tls_release(struct conn *c)
{
    struct loop *l = c->loop;
    struct tls_session *s = c->tls;
    if (!s)
        return;
    tls_session_release(s);
    if (s->in)
        buf_release(&l->tls_in_pool, &s->in, &s->in_cap);
    pool_put(&l->tls_buf_pool, s->out);
    pool_put(&l->tls_pool, s);
    c->tls = NULL;
}

static void conn_free(struct conn *c)
{
    struct loop *l = c->loop;
    davserve_release(c);
    send_release(c);
    in_release(c);
    tls_release(c);
    close(c->fd);
    l->nconns--;
    pool_put(&l->conn_pool, c);
}

/* Called at the end of every entry point: frees c once closed and idle in the kernel. */
void conn_settle(struct conn *c)
{
    if (c->state == CONN_CLOSED && c->inflight == 0)
        conn_free(c);
}

void conn_kill(struct conn *c)
{
    conn_abort(c);
    conn_settle(c);
}

static void linger_close(struct conn *c)
{
    conn_set_state(c, CONN_LINGER);
    in_release(c);
    if (c->flags & CF_EOF) {
        conn_abort(c);
        return;
    }
    loop_timer_set(c->loop, c, TIMER_LINGER);
    if (c->tls && conn_tls_out_ready(c)) {
        /* The write side is shut once the close_notify has gone out (conn_tls_sent). */
        tls_session_close_notify(c->tls);
        c->flags |= CF_SHUT_WR;
        conn_tls_flush(c);
    } else {
        if (c->flags & CF_KTLS)
            ktls_send_close_notify(c->fd);
        shutdown(c->fd, SHUT_WR);
    }
    rx_resume(c);
}

/* --- requests --- */

static void on_input(struct conn *c);
static bool input_full(const struct conn *c);
static void tls_pump(struct conn *c);

/* Records received and not yet decrypted, waiting for room in the input buffer. */
static bool tls_backlog(const struct conn *c)
{
    return c->tls && c->tls->in && c->tls->in_ready > c->tls->in_off;
}
static int tls_start(struct conn *c);

struct http_request *conn_scratch_request(void)
{
    return &scratch_req;
}

struct iov conn_body(const struct conn *c)
{
    if (!(c->flags & CF_KEEP_BODY))
        return iov_make(NULL, 0);
    return iov_make(c->in + c->head_len, c->body_kept);
}

void conn_request(struct conn *c, struct http_request *req)
{
    struct http_parser p;
    http_parser_init(&p);
    int rc = http_parse_request(&p, c->in, c->head_len, &c->loop->cfg->limits, req);
    /* The same bytes parsed the same way a moment ago. */
    assert(rc == (int)c->head_len);
    (void)rc;
}

static void send_continue(struct conn *c)
{
    static const char msg[] = "HTTP/1.1 100 Continue\r\n\r\n";
    /* RFC 9110 §10.1.1. Sent directly: at this point of a request nothing else is queued on
     * the socket, so 25 bytes always fit; if they somehow do not, the client simply sends its
     * body after its own wait, which the RFC allows for. Over TLS it is one more record. */
    if (c->tls) {
        if (conn_tls_out_ready(c) && tls_session_write(c->tls, msg, sizeof(msg) - 1) > 0)
            conn_tls_flush(c);
        return;
    }
    ssize_t n = send(c->fd, msg, sizeof(msg) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
    (void)n;
}

/* Set up the framing decoder for req's body. */
static void body_begin(struct conn *c, const struct http_request *req)
{
    c->flags &= (uint16_t)~CF_CHUNKED;
    if (req->body == HTTP_BODY_CHUNKED) {
        /* body_left counts decoded bytes here, against DISCARD_BODY_MAX (which also bounds
         * what a route keeps: no route keeps more). */
        c->body_left = 0;
        c->flags |= CF_CHUNKED;
        http_chunked_init(&c->chunked);
    } else {
        c->body_left = req->body == HTTP_BODY_LENGTH ? req->content_length : 0;
    }
}

/* A head was parsed: route it. Returns true when the state machine should keep going. */
static bool start_request(struct conn *c, struct http_request *req)
{
    struct loop *l = c->loop;

    c->flags &= (uint16_t)~(CF_KEEP_ALIVE | CF_HEAD_REQ | CF_HTTP10 | CF_CHUNKED);
    if (req->keep_alive && !l->draining)
        c->flags |= CF_KEEP_ALIVE;
    if (req->method == HTTP_M_HEAD)
        c->flags |= CF_HEAD_REQ;
    if (req->version_minor == 0)
        c->flags |= CF_HTTP10;
    c->method_off = (uint32_t)(req->method_name.base - c->in);
    c->method_len = (uint32_t)req->method_name.len;
    c->target_off = (uint32_t)(req->target.base - c->in);
    c->target_len = (uint32_t)req->target.len;

    bool has_body = req->body != HTTP_BODY_NONE;
    c->flags &= (uint16_t)~(CF_KEEP_BODY | CF_BODY_PENDING | CF_BODY_STREAM | CF_BODY_SPLICE);
    c->body_kept = 0;
    size_t keep_max = 0;
    enum route_body what = has_body ? route_body(req, &keep_max) : ROUTE_BODY_DISCARD;
    if (what == ROUTE_BODY_STREAM) {
        /* An upload: the route decides (credentials, preconditions) before any of the body is
         * read, and a response given before conn_body_stream closes the connection. */
        c->flags |= CF_BODY_PENDING;
        conn_set_state(c, CONN_HANDLE);
        route_request(c, req);
        return true;
    }
    if (what == ROUTE_BODY_KEEP) {
        /* Kept whole in the input buffer behind the head, chunk framing removed. */
        c->flags |= CF_KEEP_BODY;
    } else if (has_body && req->method != HTTP_M_GET && req->method != HTTP_M_HEAD) {
        /* Nothing reads these bodies: refuse without reading, and close, since the
         * connection cannot be reused after an unread body. */
        if (req->method == HTTP_M_OTHER)
            conn_respond_simple(c, 501, true, NULL);
        else
            conn_respond_simple(c, 405, true, "GET, HEAD");
        return false;
    }
    size_t max = what == ROUTE_BODY_KEEP ? keep_max : DISCARD_BODY_MAX;
    if (req->body == HTTP_BODY_LENGTH && req->content_length > max) {
        conn_respond_simple(c, 413, true, NULL);
        return false;
    }
    if (req->body == HTTP_BODY_NONE) {
        conn_set_state(c, CONN_HANDLE);
        route_request(c, req);
        return true;
    }
    body_begin(c, req);
    if (req->expect_continue && c->head_len == c->in_len)
        send_continue(c);
    conn_set_state(c, CONN_READ_BODY);
    loop_timer_set(l, c, TIMER_BODY);
    return true;
}

void conn_body_stream(struct conn *c)
{
    struct http_request *req = &scratch_req;
    conn_request(c, req);
    c->flags = (uint16_t)((c->flags & ~CF_BODY_PENDING) | CF_BODY_STREAM);
    c->body_kept = 0;
    body_begin(c, req);
    if (req->expect_continue && c->head_len == c->in_len)
        send_continue(c);
    conn_set_state(c, CONN_READ_BODY);
    loop_timer_set(c->loop, c, TIMER_BODY);
    conn_body_resume(c);
}

void conn_body_splice(struct conn *c)
{
    c->flags |= CF_BODY_SPLICE;
    conn_body_stream(c);
}

void conn_body_resume(struct conn *c)
{
    if (c->state != CONN_READ_BODY)
        return;
    /* What waits in the input buffer first; receive again only once there is room, or the
     * input buffer grows past its limit while the upload is busy. A body that goes by splice
     * needs no receiving at all. */
    if (c->tls)
        tls_pump(c);
    else
        on_input(c);
    if (c->state == CONN_READ_BODY && !(c->flags & CF_BODY_SPLICE) && !input_full(c) &&
        !tls_backlog(c))
        rx_resume(c);
}

static bool read_head(struct conn *c)
{
    struct loop *l = c->loop;
    if (c->in_len == 0) {
        in_release(c);
        if (c->flags & CF_EOF)
            conn_abort(c);
        return false;
    }
    if (c->t_start_ns == 0) {
        c->t_start_ns = now_ns();
        loop_timer_set(l, c, TIMER_HEAD);
    }
    struct http_request *req = &scratch_req;
    int rc = http_parse_request(&c->parser, c->in, c->in_len, &l->cfg->limits, req);
    if (rc == 0) {
        /* A client that stops halfway through a head gets nothing more. */
        if (c->flags & CF_EOF)
            conn_abort(c);
        return false;
    }
    if (rc < 0) {
        c->method_len = c->target_len = 0;
        conn_respond_simple(c, -rc, true, NULL);
        return false;
    }
    c->head_len = (uint32_t)rc;
    return start_request(c, req);
}

/*
 * The rest of an upload's body goes by splice: first the recv must be out of the kernel, so
 * that no byte of the body can be in a recv buffer on its way to us (on_recv comes back here
 * when it is); then davserve reads the socket itself, and receiving resumes only after the
 * response (conn_response_done).
 */
static void splice_body(struct conn *c)
{
    if (c->flags & CF_RECV_ARMED) {
        rx_pause(c);
        return;
    }
    c->flags |= CF_RX_PAUSED;
    davserve_splice_start(c);
}

/*
 * The body bytes that have arrived are decoded in place: gathered right behind the head with
 * any chunk framing cut out, counted by body_kept. Then they are kept for the route
 * (CF_KEEP_BODY), handed to the upload (CF_BODY_STREAM) or dropped.
 */
static bool read_body(struct conn *c)
{
    uint32_t start = c->head_len + c->body_kept;
    uint32_t avail = c->in_len - start;
    bool done;

    if (c->flags & CF_CHUNKED) {
        /* Already ended when the upload is taking the last decoded bytes late. */
        done = http_chunked_done(&c->chunked);
        while (!done && avail > 0) {
            struct iov data;
            long r = http_chunked_decode(&c->chunked, c->in + start, avail, &data);
            if (r < 0) {
                conn_respond_simple(c, 400, true, NULL);
                return false;
            }
            memmove(c->in + start, data.base, data.len);
            in_cut(c, start + (uint32_t)data.len, (uint32_t)(r - (long)data.len));
            start += (uint32_t)data.len;
            c->body_kept += (uint32_t)data.len;
            avail -= (uint32_t)r;
            c->body_left += data.len;
            if (!(c->flags & CF_BODY_STREAM) && c->body_left > DISCARD_BODY_MAX) {
                conn_respond_simple(c, 413, true, NULL);
                return false;
            }
            if (http_chunked_done(&c->chunked)) {
                done = true;
                break;
            }
            if (r == 0)
                break;
        }
    } else {
        uint32_t n = c->body_left < avail ? (uint32_t)c->body_left : avail;
        c->body_left -= n;
        c->body_kept += n;
        done = c->body_left == 0;
    }

    if (c->flags & CF_BODY_STREAM) {
        if (c->body_kept > 0) {
            size_t taken = davserve_upload_take(c, c->in + c->head_len, c->body_kept);
            in_cut(c, c->head_len, (uint32_t)taken);
            c->body_kept -= (uint32_t)taken;
            if (taken > 0)
                loop_timer_set(c->loop, c, TIMER_BODY);
        }
        if (!done || c->body_kept > 0) {
            if ((c->flags & CF_EOF) && !done)
                conn_abort(c);
            else if (!done && c->body_kept == 0 && (c->flags & CF_BODY_SPLICE) &&
                     davserve_upload_idle(c))
                splice_body(c);
            return false;
        }
        c->flags &= (uint16_t)~(CF_BODY_STREAM | CF_BODY_SPLICE);
        davserve_upload_end(c);
        return false;
    }
    if (!(c->flags & CF_KEEP_BODY)) {
        in_cut(c, c->head_len, c->body_kept);
        c->body_kept = 0;
    }
    if (!done) {
        if (c->flags & CF_EOF) {
            conn_abort(c);
            return false;
        }
        loop_timer_set(c->loop, c, TIMER_BODY);
        return false;
    }
    conn_set_state(c, CONN_HANDLE);
    struct http_request *req = &scratch_req;
    conn_request(c, req);
    route_request(c, req);
    return true;
}

static void on_input(struct conn *c)
{
    for (;;) {
        switch (c->state) {
        case CONN_READ_HEAD:
            if (!read_head(c))
                return;
            break;
        case CONN_READ_BODY:
            if (!read_body(c))
                return;
            break;
        case CONN_AUTH:     /* input waits for the verification */
        case CONN_JOB:      /* input waits for the method */
        case CONN_HANDLE:   /* transient: the handler has moved on */
        case CONN_OPENING:  /* input waits for the response */
        case CONN_WRITE:
        case CONN_LINGER:
        case CONN_CLOSED:
            return;
        }
    }
}

void conn_response_done(struct conn *c)
{
    struct loop *l = c->loop;
    if (davserve_next_piece(c))
        return;
    send_release(c);
    davserve_release(c);
    c->t_start_ns = 0;
    if (c->in)
        in_cut(c, 0, c->head_len + c->body_kept);
    c->head_len = 0;
    c->body_kept = 0;
    c->flags &= (uint16_t)~CF_KEEP_BODY;
    http_parser_init(&c->parser);
    if (!(c->flags & CF_KEEP_ALIVE) || l->draining) {
        linger_close(c);
        return;
    }
    conn_set_state(c, CONN_READ_HEAD);
    loop_timer_set(l, c, c->in_len ? TIMER_HEAD : TIMER_KEEPALIVE);
    if (c->in_len)
        c->t_start_ns = now_ns();
    rx_resume(c);
    if (c->tls)
        tls_pump(c);
    else
        on_input(c);
}

/* --- entry points from the loop --- */

void conn_start(struct loop *l, int fd, bool tls)
{
    union peer_addr peer;
    socklen_t alen = sizeof(peer);
    if (getpeername(fd, &peer.sa, &alen) < 0)
        peer.sa.sa_family = AF_UNSPEC;
    /* A banned address gets nothing, not even a handshake. */
    if (!gate_accept_ok(l, &peer.sa)) {
        close(fd);
        return;
    }
    struct conn *c = pool_get(&l->conn_pool);
    if (!c) {
        close(fd);
        return;
    }
    memset(c, 0, sizeof(*c));
    c->loop = l;
    c->fd = fd;
    c->peer = peer;
    l->nconns++;
    int one = 1;
    /* Heads and small bodies go out as soon as they are complete (MSG_MORE groups them). */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    http_parser_init(&c->parser);
    conn_set_state(c, CONN_READ_HEAD);
    if (tls && tls_start(c) < 0) {
        conn_kill(c);
        return;
    }
    /* A new connection must finish its handshake and start its request within the head
     * deadline. */
    loop_timer_set(l, c, TIMER_HEAD);
    rx_arm(c);
}

/* Plaintext from the client: kept while a request can use it, dropped while lingering. */
static int deliver(struct conn *c, const uint8_t *data, size_t n)
{
    if (c->state == CONN_READ_HEAD || c->state == CONN_READ_BODY || c->state == CONN_HANDLE ||
        c->state == CONN_OPENING || c->state == CONN_WRITE || c->state == CONN_AUTH ||
        c->state == CONN_JOB)
        return in_append(c, data, n);
    return 0;
}

static bool input_full(const struct conn *c)
{
    return c->in_len + LOOP_RX_BUF > c->loop->in_pool.size;
}

/* Whether input is taken now: there is room, or the body being read is kept whole for its
 * route (the input buffer grows for it, within the route's limit and IN_HARD_MAX), or a
 * closing connection is drained. */
static bool input_wanted(const struct conn *c)
{
    return !input_full(c) || c->state == CONN_LINGER ||
           (c->state == CONN_READ_BODY && (c->flags & CF_KEEP_BODY));
}

static void after_input(struct conn *c)
{
    if (c->state == CONN_READ_HEAD || c->state == CONN_READ_BODY)
        on_input(c);
    /* An upload that cannot take more yet, or input pipelined behind a request in progress. */
    if (c->state != CONN_READ_HEAD && c->state != CONN_TLS_HANDSHAKE &&
        c->state != CONN_CLOSED && !input_wanted(c))
        rx_pause(c);
}

/* --- TLS --- */

static int tls_start(struct conn *c)
{
    struct loop *l = c->loop;
    struct tls_ctx *ctx = tls_ctx_current();
    SSL *ssl = ctx ? tls_ctx_new_ssl(ctx) : NULL;
    tls_ctx_unref(ctx);
    c->tls = ssl ? pool_get(&l->tls_pool) : NULL;
    if (!c->tls) {
        SSL_free(ssl);
        return -ENOMEM;
    }
    if (tls_session_init(c->tls, ssl) < 0) {
        pool_put(&l->tls_pool, c->tls);
        c->tls = NULL;
        return -ENOMEM;
    }
    conn_set_state(c, CONN_TLS_HANDSHAKE);
    return 0;
}

bool conn_tls_out_ready(struct conn *c)
{
    struct tls_session *s = c->tls;
    if (!s->out) {
        s->out = pool_get(&c->loop->tls_buf_pool);
        s->out_cap = s->out ? TLS_BUF_SIZE : 0;
        s->out_len = s->out_sent = 0;
    }
    return s->out != NULL;
}

static int tls_feed(struct conn *c, const uint8_t *data, size_t n)
{
    struct tls_session *s = c->tls;
    if (c->state == CONN_LINGER || c->state == CONN_CLOSED)
        return 0;
    if (!s->in) {
        s->in = pool_get(&c->loop->tls_in_pool);
        if (!s->in)
            return -ENOMEM;
        s->in_cap = (uint32_t)c->loop->tls_in_pool.size;
        s->in_off = s->in_ready = s->in_len = 0;
    }
    /* Records wait here while the plaintext side is full (a client pipelining ahead). Moved
     * down only when room is needed: never a copy of the whole backlog per record read. */
    if (s->in_cap - s->in_len < n)
        tls_session_in_compact(s);
    int rc = buf_reserve(&c->loop->tls_in_pool, &s->in, s->in_len, &s->in_cap,
                         (size_t)s->in_len + n);
    if (rc == 0)
        rc = tls_session_feed(s, data, n);
    if (rc == -EPROTO) {
        char peer[64];
        log_format_peer(&c->peer.sa, peer, sizeof(peer));
        log_info("event=tls_not_tls client=%s state=%d", peer, c->state);
    }
    return rc;
}

/*
 * Hand the session to the kernel (ktls.md). Only at a quiet point: between requests, every
 * byte BoringSSL wrote already sent (so its write sequence is final and nothing of ours is
 * queued behind the switch), no partial record buffered, and no recv in the kernel that could
 * be holding ciphertext we have not seen — the recv is cancelled first and this runs again
 * when its last completion has come in.
 */
static void try_ktls(struct conn *c)
{
    struct tls_session *s = c->tls;
    if (!(c->flags & CF_KTLS_PENDING) || c->state != CONN_READ_HEAD ||
        (c->flags & CF_TLS_SENDING) || tls_session_pending(s) > 0)
        return;
    if (s->in && s->in_off != s->in_len) {
        /* Part of a record is ours, not the kernel's: this connection stays in userspace. */
        c->flags &= (uint16_t)~CF_KTLS_PENDING;
        ktls_count(false);
        after_input(c);
        return;
    }
    if (c->flags & CF_RECV_ARMED) {
        rx_pause(c);
        return;
    }
    struct ktls_keys keys;
    int rc = ktls_keys_from_ssl(s->ssl, &keys);
    if (rc == 0)
        rc = ktls_install(c->fd, &keys, true);
    c->flags &= (uint16_t)~CF_KTLS_PENDING;
    if (rc == -ENOTRECOVERABLE) {
        ktls_keys_wipe(&keys);
        conn_abort(c);
        return;
    }
    ktls_count(rc == 0);
    log_debug("event=ktls_switch result=%d version=0x%x cipher=%s", rc, keys.version,
              ktls_cipher_name(keys.cipher));
    if (rc == 0) {
        /* From here on the socket carries plaintext: the connection is a plain one whose
         * file bodies go out by splice, encrypted by the kernel. */
        c->flags |= CF_KTLS;
        tls_release(c);
    }
    ktls_keys_wipe(&keys);
    rx_resume(c);
    after_input(c);
}

/* Decrypt what has arrived into the input buffer, as far as the connection can take it. */
static void tls_pump(struct conn *c)
{
    struct tls_session *s = c->tls;
    if (c->state == CONN_TLS_HANDSHAKE) {
        if (!conn_tls_out_ready(c)) {
            conn_abort(c);
            return;
        }
        int rc = tls_session_handshake(s);
        conn_tls_flush(c);
        if (rc < 0) {
            char peer[64];
            log_format_peer(&c->peer.sa, peer, sizeof(peer));
            log_info("event=tls_handshake_failed client=%s", peer);
            conn_abort(c);
            return;
        }
        if (rc == 0)
            return;
        conn_set_state(c, CONN_READ_HEAD);
        if (!c->loop->cfg->no_ktls && ktls_is_available())
            c->flags |= CF_KTLS_PENDING;
        else
            ktls_count(false);
    }
    uint8_t plain[16384];
    while (input_wanted(c)) {
        long n = tls_session_read(s, plain, sizeof(plain));
        if (n == 0)
            break;
        if (n == -EPIPE) {
            c->flags |= CF_EOF;
            break;
        }
        if (n < 0 || deliver(c, plain, (size_t)n) < 0) {
            conn_abort(c);
            return;
        }
    }
    conn_tls_flush(c);
    if (s->in && s->in_off == s->in_len)
        buf_release(&c->loop->tls_in_pool, &s->in, &s->in_cap);
    /* Records still waiting because the input buffer is full: stop receiving until the
     * request in progress makes room (conn_response_done, conn_body_resume resume). */
    if (tls_backlog(c))
        rx_pause(c);
    if (c->flags & CF_EOF && (c->state == CONN_LINGER)) {
        conn_abort(c);
        return;
    }
    /* The first requests wait in the input buffer until the switch is settled, so that
     * their responses already go out through the kernel. */
    if (c->flags & CF_KTLS_PENDING)
        try_ktls(c);
    else
        after_input(c);
}

void conn_tls_flush(struct conn *c)
{
    struct tls_session *s = c->tls;
    if ((c->flags & CF_TLS_SENDING) || tls_session_pending(s) == 0 || c->state == CONN_CLOSED)
        return;
    struct io_uring_sqe *sqe = loop_sqe(c->loop);
    c->tls_sending = tls_session_pending(s);
    io_uring_prep_send(sqe, c->fd, s->out + s->out_sent, c->tls_sending,
                       MSG_NOSIGNAL | MSG_WAITALL);
    io_uring_sqe_set_data64(sqe, ud_make(c, OP_TLS_SEND));
    c->flags |= CF_TLS_SENDING;
    c->inflight++;
}

static void on_tls_sent(struct conn *c, int res)
{
    struct tls_session *s = c->tls;
    c->inflight--;
    c->flags &= (uint16_t)~CF_TLS_SENDING;
    if (c->state == CONN_CLOSED)
        return;
    if (res < 0 || (uint32_t)res != c->tls_sending) {
        conn_abort(c);
        return;
    }
    tls_session_sent(s, (uint32_t)res);
    switch (c->state) {
    case CONN_WRITE:
        loop_timer_set(c->loop, c, TIMER_SEND);
        send_tls_push(c);
        return;
    case CONN_LINGER:
        if (tls_session_pending(s) == 0 && (c->flags & CF_SHUT_WR)) {
            c->flags &= (uint16_t)~CF_SHUT_WR;
            shutdown(c->fd, SHUT_WR);
        }
        break;
    default:
        break;
    }
    conn_tls_flush(c);
    try_ktls(c);
    if (!c->tls)
        return;
    if (tls_session_pending(s) == 0 && !(c->flags & CF_TLS_SENDING) && s->out) {
        /* Idle connections keep no output buffer. */
        pool_put(&c->loop->tls_buf_pool, s->out);
        s->out = NULL;
        s->out_cap = 0;
    }
}

static void on_recv(struct conn *c, const struct io_uring_cqe *cqe)
{
    struct loop *l = c->loop;
    int res = cqe->res;

    if (!(cqe->flags & IORING_CQE_F_MORE)) {
        c->flags &= (uint16_t)~(CF_RECV_ARMED | CF_CANCELLING);
        c->inflight--;
    }
    if (res > 0) {
        unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
        const uint8_t *data = l->rx_bufs + (size_t)bid * LOOP_RX_BUF;
        int rc = c->tls ? tls_feed(c, data, (size_t)res) : deliver(c, data, (size_t)res);
        loop_rx_recycle(l, bid);
        if (rc < 0) {
            conn_abort(c);
            return;
        }
        if (c->tls)
            tls_pump(c);
        else
            after_input(c);
        if (c->state == CONN_CLOSED)
            return;
    } else if (res == 0) {
        c->flags |= CF_EOF;
        if (c->state == CONN_READ_HEAD || c->state == CONN_READ_BODY)
            on_input(c);
        else if (c->state == CONN_LINGER)
            conn_abort(c);
        else if (c->state == CONN_TLS_HANDSHAKE) {
            /* Nothing can complete the handshake any more: close now, not at its deadline. */
            char peer[64];
            log_format_peer(&c->peer.sa, peer, sizeof(peer));
            log_info("event=tls_handshake_eof client=%s", peer);
            conn_abort(c);
            return;
        }
        /* In WRITE the response still goes out, and requests already pipelined behind it are
         * answered too (a half-close ends the requests, not the replies); read_head closes
         * once the input is used up. */
    } else if (res == -EINVAL && l->multishot_recv && !(cqe->flags & IORING_CQE_F_MORE)) {
        log_warn("event=recv_multishot_unsupported fallback=single_shot");
        l->multishot_recv = false;
    } else if (res != -ENOBUFS && res != -ECANCELED) {
        /* -ENOBUFS: the ring ran dry for a moment; the data waits in the socket.
         * -EIO on kTLS: a record that is not data (the client's close_notify, or a KeyUpdate
         * that a kernel without rekeying cannot follow): answer with our close_notify. */
        if (res == -EIO && (c->flags & CF_KTLS))
            ktls_send_close_notify(c->fd);
        conn_abort(c);
        return;
    }
    if (c->tls && !(c->flags & CF_RECV_ARMED))
        try_ktls(c);
    /* An upload waiting for the recv to end before it splices (splice_body). */
    if (!(c->flags & CF_RECV_ARMED) && (c->flags & CF_BODY_SPLICE) &&
        c->state == CONN_READ_BODY)
        on_input(c);
    if (!(c->flags & CF_RECV_ARMED))
        rx_arm(c);
}

void conn_on_cqe(struct conn *c, const struct io_uring_cqe *cqe)
{
    switch (ud_op(cqe->user_data)) {
    case OP_RECV:
        on_recv(c, cqe);
        break;
    case OP_SEND:
    case OP_SPLICE_IN:
    case OP_SPLICE_OUT:
        send_on_cqe(c, cqe);
        break;
    case OP_TLS_SEND:
        on_tls_sent(c, cqe->res);
        break;
    case OP_TLS_READ:
        send_tls_on_read(c, cqe->res);
        break;
    case OP_UPLOAD_WRITE:
        davserve_on_write(c, cqe->res);
        break;
    case OP_UPLOAD_SPLICE:
        davserve_on_splice(c, cqe->res);
        break;
    case OP_OPEN:
        c->inflight--;
        if (c->state == CONN_OPENING) {
            struct http_request *req = &scratch_req;
            conn_request(c, req);
            fileserve_opened(c, req, cqe->res);
        } else if (cqe->res >= 0) {
            close(cqe->res);
        }
        break;
    default:
        break;
    }
    conn_settle(c);
}

void conn_on_timeout(struct conn *c)
{
    switch (c->timer) {
    case TIMER_HEAD:
        loop_timer_set(c->loop, c, TIMER_NONE);
        /* RFC 9110 §15.5.9: tell a client that started a request why it is cut off. */
        if (c->state == CONN_TLS_HANDSHAKE) {
            char peer[64];
            log_format_peer(&c->peer.sa, peer, sizeof(peer));
            log_info("event=tls_handshake_timeout client=%s", peer);
            conn_abort(c);
        } else if (c->in_len > 0 && c->state == CONN_READ_HEAD) {
            c->method_len = c->target_len = 0;
            conn_respond_simple(c, 408, true, NULL);
        } else {
            conn_abort(c);
        }
        break;
    default:
        conn_abort(c);
        break;
    }
    conn_settle(c);
}

void conn_drain(struct conn *c)
{
    if ((c->state == CONN_READ_HEAD && c->in_len == 0) || c->state == CONN_TLS_HANDSHAKE)
        conn_abort(c);
    else
        c->flags &= (uint16_t)~CF_KEEP_ALIVE;
    conn_settle(c);
}

void conn_open_async(struct conn *c)
{
    struct out *o = c->out;
    struct io_uring_sqe *sqe = loop_sqe(c->loop);
    io_uring_prep_openat2(sqe, o->root_fd, o->data, &o->how);
    io_uring_sqe_set_data64(sqe, ud_make(c, OP_OPEN));
    c->inflight++;
    conn_set_state(c, CONN_OPENING);
    loop_timer_set(c->loop, c, TIMER_SEND);
}

void conn_send(struct conn *c)
{
    conn_set_state(c, CONN_WRITE);
    loop_timer_set(c->loop, c, TIMER_SEND);
    send_push(c);
}
