/* SPDX-License-Identifier: MIT */
/* WebDAV requests as jobs on the dav pool, and the upload path of PUT (see davserve.h). */
#include "davserve.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "pipes.h"
#include "dav.h"
#include "site.h"
#include "work.h"

/* Response bytes kept in the job's memory (it grows from the first size) before they go to a
 * file; a PROPFIND piece ends at the first entry boundary past PIECE bytes. Each piece costs a
 * round trip between the loop and the pool: 128 KiB pieces made a 1,000-entry allprop listing
 * ~15 % slower than 256 KiB ones. */
#define SINK_MEM_FIRST 4096u
#define SINK_MEM_MAX (512u * 1024)
#define PIECE (256u * 1024)
/* Each of the two upload buffers. */
#define UP_BUF (256u * 1024)
/* An upload's written bytes are handed to the disk in steps of this size while the rest
 * arrives, so that the fsync at the end finds little left to write (1 GiB here: the final
 * fsync took 0.4 s of a 1.1 s upload). */
#define WRITE_BEHIND (8u << 20)

#define DAV_ALLOW "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, MKCOL, COPY, MOVE, LOCK, UNLOCK"

enum job_step { STEP_METHOD, STEP_PUT_BEGIN, STEP_PUT_FINISH };

typedef int (*dav_method_fn)(struct dav_env *, const struct dav_req *, struct dav_resp *);

/* The body of a PUT on its way to the temporary file. */
struct upload {
    uint8_t *buf[2];
    uint32_t len[2];
    unsigned fill;    /* the buffer being filled; the other one may be in a write */
    bool writing;     /* a write of buf[fill ^ 1] is in the kernel */
    bool ended;       /* the whole body has been taken */
    uint64_t off;     /* file offset of the next write */
    uint64_t flushed; /* bytes before this offset have been handed to the disk */
    /* Splicing: the socket fills one pipe while the other is written to the file. Reads and
     * writes each go one at a time, in the same order through the pipes. */
    struct ff_pipe *pipe[2];
    uint32_t pipe_len[2]; /* bytes in each pipe, not yet in the file */
    unsigned rd_pipe;     /* the pipe the next (or current) socket read fills */
    unsigned wr_pipe;     /* the pipe the next (or current) file write empties */
    bool reading;         /* a socket -> pipe splice is in the kernel */
};

struct dav_job {
    struct work_item w;
    struct conn *c;
    dav_method_fn method;
    enum job_step step;
    int rc;
    int root_fd; /* the job's own descriptor of the user's folder */
    int stage_fd;
    struct dav_req req;
    struct dav_resp resp;
    struct dav_put put;
    struct http_request http;
    char path[PATH_MAX];
    /* the response body: mem first, then body_fd once it outgrows mem */
    int body_fd;
    uint64_t body_len; /* bytes in body_fd */
    char *mem;
    size_t mem_len, mem_cap;
    bool streaming; /* the head went out with a piece; more pieces follow */
    bool chunked;   /* the pieces go as chunks (else the body ends with the connection) */
    struct upload up;
    size_t head_len;
    uint8_t head[]; /* the request head, then the kept body */
};

static int job_submit(struct conn *c, struct dav_job *j, enum job_step step, bool fresh);

/* --- the response body sink (pool thread) --- */

/* Append n bytes to the body file. */
static int sink_append(struct dav_job *j, const void *p, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t w = pwrite(j->body_fd, (const char *)p + done, n - done,
                           (off_t)(j->body_len + done));
        if (w < 0)
            return -errno;
        done += (size_t)w;
    }
    j->body_len += n;
    return 0;
}

static int sink_flush(struct dav_job *j)
{
    int rc = sink_append(j, j->mem, j->mem_len);
    j->mem_len = 0;
    return rc;
}

/* Grow mem towards SINK_MEM_MAX to hold n more bytes, as far as it may. */
static int sink_grow(struct dav_job *j, size_t n)
{
    size_t cap = j->mem_cap ? j->mem_cap : SINK_MEM_FIRST;
    while (cap < j->mem_len + n && cap < SINK_MEM_MAX)
        cap *= 2;
    if (cap == j->mem_cap)
        return 0;
    char *m = realloc(j->mem, cap);
    if (!m)
        return -ENOMEM;
    j->mem = m;
    j->mem_cap = cap;
    return 0;
}

static int sink_write(void *ctx, const void *p, size_t n)
{
    struct dav_job *j = ctx;
    if (j->mem_len + n > j->mem_cap && j->body_fd < 0) {
        int rc = sink_grow(j, n);
        if (rc < 0)
            return rc;
    }
    if (j->mem_len + n <= j->mem_cap) {
        memcpy(j->mem + j->mem_len, p, n);
        j->mem_len += n;
        return 0;
    }
    if (j->body_fd < 0) {
        j->body_fd = openat(j->stage_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (j->body_fd < 0)
            return -errno;
    }
    int rc = sink_flush(j);
    if (rc < 0)
        return rc;
    /* A piece larger than the buffer (a long dead property value) goes straight through. */
    if (n > j->mem_cap)
        return sink_append(j, p, n);
    memcpy(j->mem, p, n);
    j->mem_len = n;
    return 0;
}

/* --- jobs --- */

static void job_free(struct loop *l, struct dav_job *j)
{
    for (unsigned i = 0; i < 2; i++)
        if (j->up.pipe[i])
            pipe_put(&l->pipes, j->up.pipe[i], j->up.pipe_len[i] == 0);
    if (j->put.fd >= 0 || j->put.dir_fd >= 0)
        dav_put_abort(&j->put);
    if (j->root_fd >= 0)
        close(j->root_fd);
    if (j->body_fd >= 0)
        close(j->body_fd);
    if (j->resp.cont)
        j->resp.cont_free(j->resp.cont);
    free(j->mem);
    free(j->up.buf[0]);
    free(j->up.buf[1]);
    free(j);
}

void davserve_release(struct conn *c)
{
    if (!c->job)
        return;
    job_free(c->loop, c->job);
    c->job = NULL;
}

static void job_run(struct work_item *w, struct work_env *env)
{
    struct dav_job *j = (struct dav_job *)w;
    if (!env->dav.ix) {
        j->rc = -EIO;
        return;
    }
    /* The head parsed on the loop, parsed again from the job's copy: the same bytes, the same
     * result, and pointers into memory the job owns. */
    struct http_limits lim = {.max_head = j->head_len, .max_target = j->head_len,
                              .max_headers = HTTP_MAX_HEADERS};
    struct http_parser p;
    http_parser_init(&p);
    if (http_parse_request(&p, j->head, j->head_len, &lim, &j->http) != (int)j->head_len) {
        j->rc = -EPROTO;
        return;
    }
    j->req.now = (int64_t)time(NULL);
    switch (j->step) {
    case STEP_METHOD:
        j->rc = j->method(&env->dav, &j->req, &j->resp);
        break;
    case STEP_PUT_BEGIN:
        j->rc = dav_put_begin(&env->dav, &j->req, &j->resp, &j->put);
        break;
    case STEP_PUT_FINISH:
        j->rc = dav_put_finish(&env->dav, &j->req, &j->resp, &j->put);
        break;
    }
    if (j->rc == 0 && j->body_fd >= 0)
        j->rc = sink_flush(j);
}

/* The head of the job's response: a Content-Length, or chunks when more pieces follow. */
static int respond_head(struct conn *c, struct dav_job *j, struct out *o, uint64_t len)
{
    struct dav_resp *r = &j->resp;
    r->headers[r->headers_len] = '\0';
    j->streaming = r->more;
    j->chunked = r->more && !(c->flags & CF_HTTP10);
    int64_t framing = (int64_t)len;
    if (j->chunked) {
        framing = OUT_CHUNKED;
    } else if (r->more) {
        /* HTTP/1.0 has no chunks: the end of the connection is the end of the body. */
        c->flags &= (uint16_t)~CF_KEEP_ALIVE;
        framing = OUT_UNTIL_CLOSE;
    }
    return out_head(c, o, r->status, r->headers, r->content_type, framing);
}

/* Send what the job wrote: the whole response, or its next piece. The job's memory is sent
 * from where it is: the job stays with the connection until the response is done. */
static void job_respond(struct conn *c, struct dav_job *j)
{
    struct dav_resp *r = &j->resp;
    bool first = !j->streaming;
    struct out *o = first ? conn_out_new(c) : conn_out_next(c);
    if (!o) {
        conn_abort(c);
        return;
    }
    uint64_t len = r->content_type ? (j->body_fd >= 0 ? j->body_len : j->mem_len) : 0;
    o->file_fd = j->body_fd;
    j->body_fd = -1;
    int rc = first ? respond_head(c, j, o, len) : 0;
    char line[24];
    if (rc == 0 && j->chunked && len)
        rc = out_add_mem(o, line, (size_t)snprintf(line, sizeof(line), "%llx\r\n",
                                                   (unsigned long long)len));
    if (rc == 0 && len)
        rc = o->file_fd >= 0 ? out_add_file(o, 0, len) : out_add_ext(o, j->mem, len);
    if (rc == 0 && j->chunked) {
        const char *end = r->more ? "\r\n" : len ? "\r\n0\r\n\r\n" : "0\r\n\r\n";
        rc = out_add_mem(o, end, strlen(end));
    }
    if (rc < 0) {
        conn_abort(c);
        return;
    }
    conn_send(c);
}

bool davserve_next_piece(struct conn *c)
{
    struct dav_job *j = c->job;
    if (!j || !j->streaming || !j->resp.more)
        return false;
    if (job_submit(c, j, STEP_METHOD, false) < 0)
        conn_abort(c);
    return true;
}

static void upload_start(struct conn *c, struct dav_job *j)
{
    j->up.buf[0] = malloc(UP_BUF);
    j->up.buf[1] = malloc(UP_BUF);
    if (!j->up.buf[0] || !j->up.buf[1]) {
        conn_respond_simple(c, 503, true, NULL);
        davserve_release(c);
        return;
    }
    /* Splice needs the socket to carry the body as it is: plain TCP or kTLS, no chunks. */
    if (!c->tls && j->http.body == HTTP_BODY_LENGTH)
        conn_body_splice(c);
    else
        conn_body_stream(c);
}

static void job_done(struct work_item *w)
{
    struct dav_job *j = (struct dav_job *)w;
    struct conn *c = j->c;
    c->inflight--;
    if (c->state == CONN_JOB) {
        if (j->rc < 0 && j->streaming) {
            /* Pieces are out: only the end of the connection tells the client. */
            log_warn("event=dav_failed err=%d step=%d action=cut", j->rc, j->step);
            conn_abort(c);
        } else if (j->rc < 0) {
            log_warn("event=dav_failed err=%d step=%d", j->rc, j->step);
            conn_respond_simple(c, 500, true, NULL);
            davserve_release(c);
        } else if (j->step == STEP_PUT_BEGIN && j->resp.status == 0) {
            /* The job lives on: the body goes into put.fd, then STEP_PUT_FINISH. */
            upload_start(c, j);
        } else {
            job_respond(c, j);
        }
    }
    conn_settle(c);
}

/* Run step of j on the dav pool; fresh: a new answer (else the next piece of the current one). */
static int job_submit(struct conn *c, struct dav_job *j, enum job_step step, bool fresh)
{
    j->step = step;
    j->w = (struct work_item){.loop = c->loop, .run = job_run, .done = job_done};
    j->mem_len = 0;
    j->body_len = 0;
    if (fresh)
        j->resp = (struct dav_resp){.write = sink_write, .write_ctx = j, .piece_max = PIECE};
    int rc = work_submit(c->loop->site->dav_work, &j->w);
    if (rc < 0)
        return rc;
    c->inflight++;
    conn_set_state(c, CONN_JOB);
    /* No deadline: a job always ends, and the client is waiting for its answer. */
    loop_timer_set(c->loop, c, TIMER_NONE);
    return 0;
}

static dav_method_fn method_of(enum http_method m)
{
    switch (m) {
    case HTTP_M_PROPFIND:
        return dav_propfind;
    case HTTP_M_PROPPATCH:
        return dav_proppatch;
    case HTTP_M_MKCOL:
        return dav_mkcol;
    case HTTP_M_DELETE:
        return dav_delete;
    case HTTP_M_COPY:
        return dav_copy;
    case HTTP_M_MOVE:
        return dav_move;
    case HTTP_M_LOCK:
        return dav_lock;
    case HTTP_M_UNLOCK:
        return dav_unlock;
    default:
        return NULL;
    }
}

static void options(struct conn *c)
{
    conn_respond_body(c, 200, false,
                      "DAV: 1, 2\r\nMS-Author-Via: DAV\r\nAllow: " DAV_ALLOW "\r\n", NULL, NULL,
                      -1, 0);
}

void davserve_handle(struct conn *c, const struct http_request *req, int64_t user_id,
                     int root_fd, const char *path, bool trailing_slash)
{
    if (req->method == HTTP_M_OPTIONS) {
        options(c);
        return;
    }
    dav_method_fn fn = method_of(req->method);
    if (!fn && req->method != HTTP_M_PUT) {
        if (req->method == HTTP_M_OTHER)
            conn_respond_simple(c, 501, false, NULL);
        else
            conn_respond_simple(c, 405, false, DAV_ALLOW);
        return;
    }
    struct iov body = conn_body(c);
    struct dav_job *j = calloc(1, sizeof(*j) + c->head_len + body.len);
    int rfd = j ? fcntl(root_fd, F_DUPFD_CLOEXEC, 3) : -1;
    if (!j || rfd < 0) {
        free(j);
        if (rfd >= 0)
            close(rfd);
        conn_respond_simple(c, 503, true, NULL);
        return;
    }
    j->c = c;
    j->method = fn;
    j->root_fd = rfd;
    j->stage_fd = c->loop->site->stage_fd;
    j->body_fd = -1;
    j->put.fd = -1;
    j->put.dir_fd = -1;
    j->head_len = c->head_len;
    memcpy(j->head, c->in, c->head_len);
    if (body.len)
        memcpy(j->head + c->head_len, body.base, body.len);
    /* A suffix of the route's normalised target, which is at most PATH_MAX with its NUL. */
    snprintf(j->path, sizeof(j->path), "%s", path);
    j->req = (struct dav_req){
        .user_id = user_id,
        .root_fd = rfd,
        .path = j->path,
        .trailing_slash = trailing_slash,
        .http = &j->http,
        .tls = c->tls || (c->flags & CF_KTLS),
        .href_root = "/dav/",
        .body = body.len ? j->head + c->head_len : NULL,
        .body_len = body.len,
    };
    c->job = j;
    if (job_submit(c, j, fn ? STEP_METHOD : STEP_PUT_BEGIN, true) < 0) {
        davserve_release(c);
        conn_respond_simple(c, 503, true, NULL);
    }
}

/* --- the upload --- */

static void upload_write(struct conn *c, struct dav_job *j)
{
    struct upload *up = &j->up;
    unsigned b = up->fill;
    up->fill ^= 1;
    struct io_uring_sqe *sqe = loop_sqe(c->loop);
    io_uring_prep_write(sqe, j->put.fd, up->buf[b], up->len[b], up->off);
    io_uring_sqe_set_data64(sqe, ud_make(c, OP_UPLOAD_WRITE));
    up->writing = true;
    c->inflight++;
}

static void upload_finish(struct conn *c, struct dav_job *j)
{
    if (job_submit(c, j, STEP_PUT_FINISH, true) < 0)
        conn_respond_simple(c, 503, true, NULL);
}

size_t davserve_upload_take(struct conn *c, const uint8_t *p, size_t n)
{
    struct dav_job *j = c->job;
    struct upload *up = &j->up;
    size_t room = UP_BUF - up->len[up->fill];
    size_t k = n < room ? n : room;
    memcpy(up->buf[up->fill] + up->len[up->fill], p, k);
    up->len[up->fill] += (uint32_t)k;
    if (!up->writing && up->len[up->fill] > 0)
        upload_write(c, j);
    return k;
}

void davserve_upload_end(struct conn *c)
{
    struct dav_job *j = c->job;
    j->up.ended = true;
    /* Whatever arrives now belongs to the next request: it waits while the file is put in
     * place. */
    conn_set_state(c, CONN_JOB);
    loop_timer_set(c->loop, c, TIMER_NONE);
    if (!j->up.writing)
        upload_finish(c, j);
}

/* The body cannot be written (a full disk, an I/O error): the old version stays, the client
 * is told, and the rest of its body is not read. */
static void upload_failed(struct conn *c, struct dav_job *j, int res)
{
    log_warn("event=upload_write_failed err=%d", res);
    dav_put_abort(&j->put);
    int status = (res == -ENOSPC || res == -EDQUOT) ? 507 : 500;
    if (c->state == CONN_JOB)
        conn_set_state(c, CONN_HANDLE);
    c->flags &= (uint16_t)~(CF_BODY_STREAM | CF_BODY_SPLICE);
    conn_respond_simple(c, status, true, NULL);
}

bool davserve_upload_idle(const struct conn *c)
{
    const struct upload *up = &c->job->up;
    return !up->pipe[0] && !up->writing && up->len[0] == 0 && up->len[1] == 0;
}

static void splice_in(struct conn *c, struct dav_job *j)
{
    struct upload *up = &j->up;
    struct ff_pipe *p = up->pipe[up->rd_pipe];
    unsigned n = c->body_left < p->size ? (unsigned)c->body_left : p->size;
    struct io_uring_sqe *sqe = loop_sqe(c->loop);
    io_uring_prep_splice(sqe, c->fd, -1, p->wr, -1, n, 0);
    io_uring_sqe_set_data64(sqe, ud_make(c, OP_UPLOAD_SPLICE));
    up->reading = true;
    c->inflight++;
}

static void splice_out(struct conn *c, struct dav_job *j)
{
    struct upload *up = &j->up;
    struct io_uring_sqe *sqe = loop_sqe(c->loop);
    io_uring_prep_splice(sqe, up->pipe[up->wr_pipe]->rd, -1, j->put.fd, (int64_t)up->off,
                         up->pipe_len[up->wr_pipe], 0);
    io_uring_sqe_set_data64(sqe, ud_make(c, OP_UPLOAD_WRITE));
    up->writing = true;
    c->inflight++;
}

/* Start the disk writing what the file holds, once a step of it has gathered and more body
 * is due (the sync runs on io_uring's workers and its file reference outlives our descriptor;
 * only its failure completes, and is nothing to act on: the final fsync reports errors). */
static void write_behind(struct conn *c, struct dav_job *j)
{
    struct upload *up = &j->up;
    /* With a Content-Length, body_left says whether more is due; chunked, ended does. */
    bool more = up->pipe[0] ? c->body_left > 0 : !up->ended;
    if (up->off - up->flushed < WRITE_BEHIND || !more)
        return;
    struct io_uring_sqe *sqe = loop_sqe(c->loop);
    io_uring_prep_sync_file_range(sqe, j->put.fd, (unsigned)(up->off - up->flushed),
                                  up->flushed, SYNC_FILE_RANGE_WRITE);
    sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
    io_uring_sqe_set_data64(sqe, ud_make(NULL, OP_IGNORE));
    up->flushed = up->off;
}

/* A body of unknown length (chunked) past what the quota allowed at its start: 507 now rather
 * than after the rest of it. Whether what did arrive fits is dav_put_finish's to judge. */
static bool past_quota(struct conn *c, struct dav_job *j)
{
    if (j->up.off <= j->put.room)
        return false;
    upload_failed(c, j, -EDQUOT);
    return true;
}

/* Start whatever can run now on each side; finish once the whole body is in the file. */
static void splice_pump(struct conn *c, struct dav_job *j)
{
    struct upload *up = &j->up;
    bool filled = up->pipe_len[up->wr_pipe] > 0;
    if (!up->writing && filled)
        splice_out(c, j);
    if (!up->reading && c->body_left > 0 && up->pipe_len[up->rd_pipe] == 0)
        splice_in(c, j);
    if (!up->reading && !up->writing && c->body_left == 0) {
        c->flags &= (uint16_t)~(CF_BODY_STREAM | CF_BODY_SPLICE);
        davserve_upload_end(c);
    }
}

void davserve_splice_start(struct conn *c)
{
    struct dav_job *j = c->job;
    log_debug("event=upload_splice bytes=%llu ktls=%d", (unsigned long long)c->body_left,
              (c->flags & CF_KTLS) != 0);
    for (unsigned i = 0; i < 2; i++) {
        int err = 0;
        j->up.pipe[i] = pipe_get(&c->loop->pipes, &err);
        if (!j->up.pipe[i]) {
            upload_failed(c, j, err ? err : -ENOMEM);
            return;
        }
    }
    splice_pump(c, j);
}

void davserve_on_splice(struct conn *c, int res)
{
    struct dav_job *j = c->job;
    struct upload *up = &j->up;
    c->inflight--;
    up->reading = false;
    if (c->state == CONN_CLOSED)
        return;
    if (res <= 0) {
        /* The client went away (0) or the socket failed: nothing to answer. */
        conn_abort(c);
        return;
    }
    loop_timer_set(c->loop, c, TIMER_BODY);
    c->body_left -= (uint64_t)res;
    up->pipe_len[up->rd_pipe] = (uint32_t)res;
    up->rd_pipe ^= 1;
    splice_pump(c, j);
}

/* What was in the pipe is in the file, or part of it. */
static void spliced_out(struct conn *c, struct dav_job *j, int res)
{
    struct upload *up = &j->up;
    up->off += (uint64_t)res;
    up->pipe_len[up->wr_pipe] -= (uint32_t)res;
    if (up->pipe_len[up->wr_pipe] == 0)
        up->wr_pipe ^= 1;
    if (past_quota(c, j))
        return;
    write_behind(c, j);
    splice_pump(c, j);
}

void davserve_on_write(struct conn *c, int res)
{
    struct dav_job *j = c->job;
    struct upload *up = &j->up;
    unsigned b = up->fill ^ 1;
    c->inflight--;
    up->writing = false;
    if (c->state == CONN_CLOSED)
        return;
    if (res <= 0) {
        upload_failed(c, j, res);
        return;
    }
    if (up->pipe[0]) {
        spliced_out(c, j, res);
        return;
    }
    up->off += (uint64_t)res;
    if (past_quota(c, j))
        return;
    write_behind(c, j);
    if ((uint32_t)res < up->len[b]) {
        /* A short write: the rest goes first, before the other buffer. */
        memmove(up->buf[b], up->buf[b] + res, up->len[b] - (uint32_t)res);
        up->len[b] -= (uint32_t)res;
        up->fill = b;
        upload_write(c, j);
        return;
    }
    up->len[b] = 0;
    if (up->len[up->fill] > 0)
        upload_write(c, j);
    if (!up->ended)
        conn_body_resume(c);
    else if (!up->writing)
        upload_finish(c, j);
}
