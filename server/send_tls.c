/* SPDX-License-Identifier: MIT */
/*
 * Response output over userspace TLS (see send_tls.h).
 *
 * The plan's segments are staged into one plaintext buffer (memory segments copied, file bytes
 * read into it with io_uring behind them) and encrypted from there. A small response therefore
 * becomes a single record in a single send: head and body in separate records cost the client
 * an extra decrypt and, with OpenSSL's default unbuffered reads, two more read calls.
 */
#include "send_tls.h"

#include <errno.h>
#include <string.h>

/* The staging buffer: 16 full records of plaintext per batch. */
#define STAGE_CAP (16u * 16384u)

static bool response_finished(const struct conn *c)
{
    const struct out *o = c->out;
    return o->cur == o->nseg && o->pl_off == o->pl_len && !o->read_inflight &&
           tls_session_pending(c->tls) == 0 && !(c->flags & CF_TLS_SENDING);
}

/* Count n staged bytes of segs[cur] as done; bytes after the head are body bytes. */
static void seg_consumed(struct out *o, uint64_t n)
{
    o->seg_done += n;
    if (o->cur > 0)
        o->body_bytes += n;
}

/*
 * Fill o->plain from the segments after the bytes already there. Memory segments are copied;
 * at the first file segment a read is started into the rest of the buffer and staging stops
 * until it completes. Returns 0, or -ENOMEM.
 */
static int stage(struct conn *c)
{
    struct out *o = c->out;
    if (!o->plain) {
        o->plain = pool_get(&c->loop->tls_buf_pool);
        if (!o->plain)
            return -ENOMEM;
    }
    while (o->cur < o->nseg && o->pl_len < STAGE_CAP) {
        const struct seg *s = &o->segs[o->cur];
        uint64_t left = s->len - o->seg_done;
        if (left == 0) {
            o->cur++;
            o->seg_done = 0;
            continue;
        }
        uint32_t room = STAGE_CAP - o->pl_len;
        uint32_t n = left < room ? (uint32_t)left : room;
        if (s->kind != SEG_FILE) {
            memcpy(o->plain + o->pl_len, seg_bytes(o, s) + o->seg_done, n);
            o->pl_len += n;
            seg_consumed(o, n);
            continue;
        }
        if (o->seg_done == 0)
            log_debug("event=tls_body_userspace bytes=%llu", (unsigned long long)s->len);
        struct io_uring_sqe *sqe = loop_sqe(c->loop);
        io_uring_prep_read(sqe, o->file_fd, o->plain + o->pl_len, n, s->off + o->seg_done);
        io_uring_sqe_set_data64(sqe, ud_make(c, OP_TLS_READ));
        c->inflight++;
        o->read_inflight = true;
        break;
    }
    return 0;
}

void send_tls_push(struct conn *c)
{
    struct out *o = c->out;

    if (!conn_tls_out_ready(c)) {
        conn_abort(c);
        return;
    }
    /* While a read is in flight the staged bytes wait for it: they go out in its records. */
    while (!o->read_inflight) {
        if (o->pl_off == o->pl_len) {
            if (o->cur == o->nseg)
                break;
            o->pl_off = o->pl_len = 0;
            if (stage(c) < 0) {
                conn_abort(c);
                return;
            }
            continue;
        }
        long r = tls_session_write(c->tls, o->plain + o->pl_off, o->pl_len - o->pl_off);
        if (r == -EAGAIN)
            break; /* output full: continue when the send completes */
        if (r < 0) {
            conn_abort(c);
            return;
        }
        o->pl_off += (uint32_t)r;
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
    o->pl_len += (uint32_t)res;
    seg_consumed(o, (uint64_t)res);
    send_tls_push(c);
}
