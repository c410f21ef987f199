/* SPDX-License-Identifier: MIT */
/* Response output over userspace TLS (see send_tls.h). */
#include "send_tls.h"

#include <errno.h>

static bool response_finished(const struct conn *c)
{
    const struct out *o = c->out;
    return o->cur == o->nseg && !o->read_inflight && tls_session_pending(c->tls) == 0 &&
           !(c->flags & CF_TLS_SENDING);
}

/* Encrypt from p; returns bytes consumed, 0 when the output buffer is full, < 0 on error. */
static long encrypt(struct conn *c, const void *p, uint64_t n)
{
    long r = tls_session_write(c->tls, p, n);
    return r == -EAGAIN ? 0 : r;
}

void send_tls_push(struct conn *c)
{
    struct out *o = c->out;
    struct loop *l = c->loop;

    if (!conn_tls_out_ready(c)) {
        conn_abort(c);
        return;
    }
    while (o->cur < o->nseg) {
        const struct seg *s = &o->segs[o->cur];
        if (o->seg_done == s->len) {
            o->cur++;
            o->seg_done = 0;
            continue;
        }
        long r;
        if (s->kind == SEG_MEM) {
            r = encrypt(c, o->data + s->off + o->seg_done, s->len - o->seg_done);
        } else if (o->pl_off < o->pl_len) {
            r = encrypt(c, o->plain + o->pl_off, o->pl_len - o->pl_off);
            if (r > 0)
                o->pl_off += (uint32_t)r;
        } else {
            if (o->read_inflight)
                break;
            if (!o->plain) {
                o->plain = pool_get(&l->tls_buf_pool);
                log_debug("event=tls_body_userspace bytes=%llu", (unsigned long long)s->len);
            }
            if (!o->plain) {
                conn_abort(c);
                return;
            }
            /* 256 KiB of plaintext: 16 full records per batch. */
            uint64_t left = s->len - o->seg_done;
            unsigned n = left < 16 * 16384 ? (unsigned)left : 16 * 16384;
            struct io_uring_sqe *sqe = loop_sqe(l);
            io_uring_prep_read(sqe, o->file_fd, o->plain, n, s->off + o->seg_done);
            io_uring_sqe_set_data64(sqe, ud_make(c, OP_TLS_READ));
            c->inflight++;
            o->read_inflight = true;
            o->pl_off = o->pl_len = 0;
            break;
        }
        if (r < 0) {
            conn_abort(c);
            return;
        }
        if (r == 0)
            break; /* output full: continue when the send completes */
        o->seg_done += (uint64_t)r;
        if (o->cur > 0)
            o->body_bytes += (uint64_t)r;
    }
    conn_tls_flush(c);
    if (response_finished(c))
        conn_response_done(c);
}

void send_tls_on_read(struct conn *c, int res)
{
    struct out *o = c->out;
    c->inflight--;
    if (!o)
        return;
    o->read_inflight = false;
    if (c->state != CONN_WRITE)
        return;
    /* 0: the file ended early (it shrank under us); the promised length cannot be kept. */
    if (res <= 0) {
        conn_abort(c);
        return;
    }
    o->pl_off = 0;
    o->pl_len = (uint32_t)res;
    send_tls_push(c);
}
