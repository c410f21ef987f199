/* SPDX-License-Identifier: MIT */
/*
 * Response output (see send.h) and the helpers handlers use to build a response plan.
 *
 * A memory segment goes out with one send (MSG_WAITALL: the kernel retries short sends itself,
 * so a short result is an error). A file segment goes out in pipe-sized chunks, each a linked
 * pair splice(file -> pipe) -> splice(pipe -> socket); a head followed by a file segment is
 * linked in front of the first pair, so a small response costs one submission. A short splice
 * into the pipe cancels its partner (-ECANCELED); whatever sits in the pipe is flushed before
 * the next pair, so the pipe is empty whenever a pair starts and never blocks the file side.
 */
#include "send.h"
#include "send_tls.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http/date.h"
#include "http/status.h"

/* Empty o's plan: no segments, no file, nothing staged. */
static void plan_reset(struct out *o)
{
    if (o->file_fd >= 0)
        close(o->file_fd);
    o->file_fd = -1;
    o->failed = false;
    o->nseg = o->cur = 0;
    o->seg_done = 0;
    o->pl_off = o->pl_len = 0;
    o->data_len = 0;
}

struct out *conn_out_next(struct conn *c)
{
    plan_reset(c->out);
    return c->out;
}

struct out *conn_out_new(struct conn *c)
{
    struct loop *l = c->loop;
    struct out *o = c->out;
    if (!o) {
        o = pool_get(&l->out_pool);
        if (!o)
            return NULL;
        o->plain = NULL;
        o->file_fd = -1;
        c->out = o;
    }
    plan_reset(o);
    o->pipe = NULL;
    o->pipe_fill = 0;
    o->chain_pending = 0;
    o->body_bytes = o->head_bytes = 0;
    o->status = 0;
    o->read_inflight = false;
    o->data_cap = l->out_pool.size - offsetof(struct out, data);
    return o;
}

static int out_vprintf(struct out *o, const char *fmt, va_list ap)
{
    size_t room = o->data_cap - o->data_len;
    int n = vsnprintf(o->data + o->data_len, room, fmt, ap);
    if (n < 0 || (size_t)n >= room)
        return -ENOSPC;
    o->data_len += (size_t)n;
    return 0;
}

static int out_printf(struct out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = out_vprintf(o, fmt, ap);
    va_end(ap);
    return rc;
}

int out_head_begin(struct conn *c, struct out *o, int status)
{
    struct loop *l = c->loop;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    if (ts.tv_sec != l->date_sec) {
        l->date_sec = ts.tv_sec;
        http_date_format(ts.tv_sec, l->date);
    }
    o->status = status;
    o->data_len = 0;
    o->nseg = 0;
    return out_printf(o, "HTTP/1.1 %d %s\r\nDate: %s\r\nServer: fastfile\r\n", status,
                      http_status_reason(status), l->date);
}

int out_header(struct out *o, const char *name, const char *fmt, ...)
{
    int rc = out_printf(o, "%s: ", name);
    if (rc < 0)
        return rc;
    va_list ap;
    va_start(ap, fmt);
    rc = out_vprintf(o, fmt, ap);
    va_end(ap);
    if (rc < 0)
        return rc;
    return out_printf(o, "\r\n");
}

int out_head_end(struct conn *c, struct out *o)
{
    int rc = 0;
    /* Answered before its body was read: what follows on the connection is that body. */
    if (c->flags & CF_BODY_PENDING)
        c->flags &= (uint16_t)~CF_KEEP_ALIVE;
    if (!(c->flags & CF_KEEP_ALIVE))
        rc = out_printf(o, "Connection: close\r\n");
    else if (c->flags & CF_HTTP10)
        rc = out_printf(o, "Connection: keep-alive\r\n");
    if (rc == 0)
        rc = out_printf(o, "\r\n");
    if (rc < 0)
        return rc;
    o->segs[0] = (struct seg){.off = 0, .len = o->data_len, .kind = SEG_MEM};
    o->nseg = 1;
    o->head_bytes = o->data_len;
    return 0;
}

int out_add_mem(struct out *o, const void *p, size_t len)
{
    if (o->nseg >= OUT_MAX_SEGS || o->data_cap - o->data_len < len)
        return -ENOSPC;
    memcpy(o->data + o->data_len, p, len);
    o->segs[o->nseg++] = (struct seg){.off = o->data_len, .len = len, .kind = SEG_MEM};
    o->data_len += len;
    return 0;
}

int out_add_ext(struct out *o, const void *p, size_t len)
{
    if (o->nseg >= OUT_MAX_SEGS)
        return -ENOSPC;
    o->segs[o->nseg++] = (struct seg){.len = len, .kind = SEG_EXT, .ext = p};
    return 0;
}

int out_add_file(struct out *o, uint64_t off, uint64_t len)
{
    if (o->nseg >= OUT_MAX_SEGS)
        return -ENOSPC;
    o->segs[o->nseg++] = (struct seg){.off = off, .len = len, .kind = SEG_FILE};
    return 0;
}

int out_head(struct conn *c, struct out *o, int status, const char *headers, const char *ctype,
             int64_t len)
{
    int rc = out_head_begin(c, o, status);
    if (rc == 0 && headers)
        rc = out_printf(o, "%s", headers);
    if (rc == 0 && ctype)
        rc = out_header(o, "Content-Type", "%s", ctype);
    /* RFC 9110 §8.6: no Content-Length in a 204. */
    if (rc == 0 && len == OUT_CHUNKED)
        rc = out_header(o, "Transfer-Encoding", "chunked");
    else if (rc == 0 && len >= 0 && status != 204)
        rc = out_header(o, "Content-Length", "%llu", (unsigned long long)len);
    return rc == 0 ? out_head_end(c, o) : rc;
}

void conn_respond_body(struct conn *c, int status, bool close_after, const char *headers,
                       const char *ctype, const void *body, int fd, uint64_t len)
{
    if (close_after)
        c->flags &= (uint16_t)~CF_KEEP_ALIVE;
    struct out *o = conn_out_new(c);
    if (!o) {
        if (fd >= 0)
            close(fd);
        conn_abort(c);
        return;
    }
    /* Owned by the plan from here: released with it. */
    o->file_fd = fd;
    int rc = out_head(c, o, status, headers, ctype, (int64_t)len);
    if (rc == 0 && len > 0 && !(c->flags & CF_HEAD_REQ))
        rc = fd >= 0 ? out_add_file(o, 0, len) : out_add_mem(o, body, len);
    if (rc < 0) {
        conn_abort(c);
        return;
    }
    conn_send(c);
}

void conn_respond(struct conn *c, int status, bool close, const char *headers, const char *ctype,
                  const void *body, size_t len)
{
    conn_respond_body(c, status, close, headers, ctype, body, -1, len);
}

void conn_respond_simple(struct conn *c, int status, bool close, const char *allow)
{
    char body[64], headers[96] = "";
    int blen = snprintf(body, sizeof(body), "%d %s\n", status, http_status_reason(status));
    if (allow)
        snprintf(headers, sizeof(headers), "Allow: %s\r\n", allow);
    conn_respond(c, status, close, headers, "text/plain; charset=utf-8", body, (size_t)blen);
}

/* --- output --- */

static bool more_after(const struct out *o, uint64_t chunk_end)
{
    return o->cur + 1 < o->nseg || chunk_end < o->segs[o->cur].len;
}

/* Queue splice(file -> pipe) -> splice(pipe -> socket) for the next chunk of segment i. */
static void queue_splice_pair(struct conn *c, unsigned i, uint64_t done)
{
    struct out *o = c->out;
    struct loop *l = c->loop;
    const struct seg *s = &o->segs[i];
    uint64_t left = s->len - done;
    unsigned n = left < o->pipe->size ? (unsigned)left : o->pipe->size;
    bool more = i + 1 < o->nseg || done + n < s->len;

    struct io_uring_sqe *sqe = loop_sqe(l);
    io_uring_prep_splice(sqe, o->file_fd, (int64_t)(s->off + done), o->pipe->wr, -1, n, 0);
    sqe->flags |= IOSQE_IO_LINK;
    io_uring_sqe_set_data64(sqe, ud_make(c, OP_SPLICE_IN));

    sqe = loop_sqe(l);
    io_uring_prep_splice(sqe, o->pipe->rd, -1, c->fd, -1, n, more ? SPLICE_F_MORE : 0);
    io_uring_sqe_set_data64(sqe, ud_make(c, OP_SPLICE_OUT));
    c->inflight += 2;
    o->chain_pending += 2;
}

static void queue_pipe_flush(struct conn *c)
{
    struct out *o = c->out;
    struct io_uring_sqe *sqe = loop_sqe(c->loop);
    bool more = more_after(o, o->seg_done + o->pipe_fill);
    io_uring_prep_splice(sqe, o->pipe->rd, -1, c->fd, -1, o->pipe_fill, more ? SPLICE_F_MORE : 0);
    io_uring_sqe_set_data64(sqe, ud_make(c, OP_SPLICE_OUT));
    c->inflight++;
    o->chain_pending++;
}

static bool ensure_pipe(struct conn *c)
{
    struct out *o = c->out;
    if (o->pipe)
        return true;
    int err = 0;
    o->pipe = pipe_get(&c->loop->pipes, &err);
    if (!o->pipe) {
        log_warn("event=pipe_failed err=%d", err);
        return false;
    }
    return true;
}

void send_push(struct conn *c)
{
    if (c->tls) {
        send_tls_push(c);
        return;
    }
    struct out *o = c->out;
    while (o->cur < o->nseg && o->seg_done == o->segs[o->cur].len) {
        o->cur++;
        o->seg_done = 0;
    }
    if (o->cur == o->nseg) {
        conn_response_done(c);
        return;
    }
    const struct seg *s = &o->segs[o->cur];
    if (s->kind != SEG_FILE) {
        /* The kernel's TLS sendmsg refuses MSG_WAITALL (6.1 accepts only MORE, DONTWAIT and
         * NOSIGNAL), so there a head may go out short: it is not linked and the rest is sent
         * on completion. Elsewhere WAITALL makes a short send an error, so linking is safe. */
        bool waitall = !(c->flags & CF_KTLS);
        bool link_file = waitall && o->cur + 1 < o->nseg && o->segs[o->cur + 1].kind == SEG_FILE &&
                         o->segs[o->cur + 1].len > 0 && ensure_pipe(c);
        int flags = MSG_NOSIGNAL | (waitall ? MSG_WAITALL : 0) |
                    (more_after(o, s->len) ? MSG_MORE : 0);
        struct io_uring_sqe *sqe = loop_sqe(c->loop);
        io_uring_prep_send(sqe, c->fd, seg_bytes(o, s) + o->seg_done, s->len - o->seg_done,
                           flags);
        io_uring_sqe_set_data64(sqe, ud_make(c, OP_SEND));
        c->inflight++;
        o->chain_pending++;
        if (link_file) {
            sqe->flags |= IOSQE_IO_LINK;
            queue_splice_pair(c, o->cur + 1, 0);
        }
        return;
    }
    if (!ensure_pipe(c)) {
        conn_abort(c);
        return;
    }
    if (o->pipe_fill > 0)
        queue_pipe_flush(c);
    else
        queue_splice_pair(c, o->cur, o->seg_done);
}

void send_on_cqe(struct conn *c, const struct io_uring_cqe *cqe)
{
    struct out *o = c->out;
    int res = cqe->res;
    c->inflight--;
    if (!o)
        return;
    o->chain_pending--;

    switch (ud_op(cqe->user_data)) {
    case OP_SEND: {
        const struct seg *s = &o->segs[o->cur];
        /* Short is an error when file splices were linked behind (they would follow a torn
         * head); alone, the rest of the segment is simply sent next. */
        if (res < 0 || ((uint64_t)res != s->len - o->seg_done && o->chain_pending > 0)) {
            o->failed = true;
            break;
        }
        if (o->cur > 0)
            o->body_bytes += (uint64_t)res;
        o->seg_done += (uint64_t)res;
        if (o->seg_done == s->len) {
            /* Linked splices that follow count against the next segment. */
            o->cur++;
            o->seg_done = 0;
        }
        break;
    }
    case OP_SPLICE_IN:
        /* 0 means the file ended early (it shrank under us): the promised length cannot be
         * delivered, so the connection has to go. */
        if (res <= 0)
            o->failed = true;
        else
            o->pipe_fill += (uint32_t)res;
        break;
    case OP_SPLICE_OUT:
        if (res > 0) {
            o->pipe_fill -= (uint32_t)res;
            o->seg_done += (uint64_t)res;
            o->body_bytes += (uint64_t)res;
        } else if (res != -ECANCELED && res != 0) {
            o->failed = true;
        }
        break;
    default:
        break;
    }
    if (o->chain_pending > 0 || c->state != CONN_WRITE)
        return;
    if (o->failed) {
        conn_abort(c);
        return;
    }
    loop_timer_set(c->loop, c, TIMER_SEND);
    send_push(c);
}

static uint64_t elapsed_us(uint64_t start_ns)
{
    if (!start_ns)
        return 0;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    return (now - start_ns) / 1000;
}

void send_release(struct conn *c)
{
    struct out *o = c->out;
    if (!o)
        return;
    if (o->status) {
        struct access_entry e = {
            .peer = &c->peer.sa,
            .method = iov_make(c->in ? c->in + c->method_off : NULL, c->in ? c->method_len : 0),
            .target = iov_make(c->in ? c->in + c->target_off : NULL, c->in ? c->target_len : 0),
            .status = o->status,
            .bytes = o->body_bytes,
            .usec = elapsed_us(c->t_start_ns),
        };
        access_log_add(&c->loop->alog, &e);
    }
    if (o->file_fd >= 0) {
        /* Closed on the ring with the next submission: one syscall less per response. No
         * operation uses the file any more (the response is over or abandoned and settled). */
        struct io_uring_sqe *sqe = loop_sqe(c->loop);
        io_uring_prep_close(sqe, o->file_fd);
        sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
        io_uring_sqe_set_data64(sqe, ud_make(NULL, OP_IGNORE));
    }
    pipe_put(&c->loop->pipes, o->pipe, o->pipe_fill == 0);
    pool_put(&c->loop->tls_buf_pool, o->plain);
    pool_put(&c->loop->out_pool, o);
    c->out = NULL;
}
