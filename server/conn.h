/* SPDX-License-Identifier: MIT */
/*
 * A client connection and the response it is sending.
 *
 * State machine (conn_set_state is the only place that changes it):
 *
 *   (TLS_HANDSHAKE ->) READ_HEAD -> READ_BODY -> (AUTH) -> HANDLE -> (OPENING) -> WRITE -> ...
 *                                                                         \-> LINGER -> CLOSED
 *   an upload (PUT):   READ_HEAD -> (AUTH) -> HANDLE -> JOB -> READ_BODY -> JOB -> WRITE
 *
 * TLS_HANDSHAKE runs BoringSSL over the connection's buffers until the handshake is complete,
 *            within the head deadline. Afterwards received ciphertext is decrypted into the
 *            same input buffer that plain connections fill directly, and responses are
 *            encrypted on the way out (send_tls.c); everything in between is shared.
 * READ_HEAD  waits for a complete head (keep-alive timer while nothing has arrived, the absolute
 *            head deadline from the first byte on).
 * READ_BODY  streams the body through the framing decoder to the handler (GET discards it).
 * AUTH       the gate verifies the request's credentials on the blocking-work pool.
 * JOB        a WebDAV method runs on the dav pool (davserve.h); an upload's body is read
 *            between the job that prepares it and the one that puts it in place.
 * HANDLE     transient: the handler builds the response plan (struct out).
 * OPENING    a confined open missed the dentry cache and runs on the ring.
 * WRITE      the plan's segments go out: memory with send, file ranges with linked splices.
 * LINGER     our last response is out; the write side is shut and input is drained until EOF or
 *            a short deadline, so that unread input does not make the kernel reset the
 *            connection and destroy the response (RFC 9112 §9.6).
 * CLOSED     waiting for the last in-flight operation before the memory is reused.
 *
 * Idle connections hold no buffers: only struct conn (see the static_assert in conn.c).
 */
#ifndef SERVER_CONN_H
#define SERVER_CONN_H

#include <linux/openat2.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "http/chunked.h"
#include "http/parse.h"
#include "http/range.h"
#include "loop.h"
#include "tls/session.h"

enum conn_state {
    CONN_TLS_HANDSHAKE,
    CONN_READ_HEAD,
    CONN_READ_BODY,
    CONN_AUTH,
    CONN_JOB,
    CONN_HANDLE,
    CONN_OPENING,
    CONN_WRITE,
    CONN_LINGER,
    CONN_CLOSED,
};

enum conn_flag {
    CF_RECV_ARMED = 1 << 0, /* a recv is in the kernel */
    CF_RX_PAUSED = 1 << 1,  /* input buffer full: receive stopped until it drains */
    CF_EOF = 1 << 2,        /* the client has shut its write side */
    CF_KEEP_ALIVE = 1 << 3, /* the current request allows another one after it */
    CF_HEAD_REQ = 1 << 4,   /* the current request is HEAD: no body in the response */
    CF_CANCELLING = 1 << 5, /* a cancel for the multishot recv is on its way */
    CF_HTTP10 = 1 << 6,     /* the current request is HTTP/1.0 */
    CF_CHUNKED = 1 << 7,    /* the current request body is chunked */
    CF_TLS_SENDING = 1 << 8, /* a send of TLS ciphertext is in the kernel */
    CF_SHUT_WR = 1 << 9,     /* LINGER: shut the write side once the ciphertext is out */
    CF_KTLS_PENDING = 1 << 10, /* handshake done: switch to kernel TLS at the next quiet point */
    CF_KTLS = 1 << 11,         /* the kernel encrypts and decrypts: plain I/O on the socket */
    CF_KEEP_BODY = 1 << 12,    /* the body stays in 'in' after the head for the route */
    CF_BODY_PENDING = 1 << 13, /* routed before its body was read: a response now must close */
    CF_BODY_STREAM = 1 << 14,  /* the body goes to the job's upload (davserve.h) */
    CF_BODY_SPLICE = 1 << 15,  /* ...and goes socket -> pipe -> file once nothing is buffered */
};

union peer_addr {
    struct sockaddr sa;
    struct sockaddr_in in4;
    struct sockaddr_in6 in6;
};

struct out;
struct dav_job;

struct conn {
    struct loop *loop;
    struct conn *tprev, *tnext; /* timer list links */
    uint64_t deadline_ms;
    int fd;
    uint8_t state;
    uint8_t timer;
    uint16_t flags;
    uint32_t inflight; /* operations whose last completion has not arrived */
    uint32_t tls_sending; /* bytes of the TLS send in the kernel */

    uint8_t *in;      /* buffered input (NULL when none); the current head starts at 0 */
    uint32_t in_len;
    uint32_t in_cap;
    uint32_t head_len; /* bytes of the current request's head, once parsed */
    uint32_t body_kept; /* decoded body bytes after the head: kept (CF_KEEP_BODY) or not yet
                           taken by the upload (CF_BODY_STREAM) */
    struct http_parser parser;

    uint64_t body_left;     /* Content-Length bytes still to come */
    struct http_chunked chunked; /* decoder state while a chunked body arrives */
    uint64_t t_start_ns;    /* first byte of the current request, 0 before it */
    uint32_t method_off, method_len, target_off, target_len; /* in 'in', for the log */
    struct out *out;        /* response in progress, NULL otherwise */
    struct tls_session *tls; /* NULL on plain HTTP connections */
    union {
        struct conn *auth_next; /* AUTH: the next connection waiting for the same verification */
        struct dav_job *job;    /* from the first JOB to the response: the WebDAV method */
    };
    uint64_t auth_tag;      /* the gate's tag of the last Authorization it accepted here */
    int64_t auth_user;      /* and whose it was (0: none) */
    union peer_addr peer;
};

enum seg_kind {
    SEG_MEM,  /* in out->data */
    SEG_EXT,  /* memory the response's producer owns until the response is done (a dav job) */
    SEG_FILE, /* in out->file_fd */
};

struct seg {
    uint64_t off; /* SEG_MEM: offset in out->data; SEG_FILE: offset in the file */
    uint64_t len;
    enum seg_kind kind;
    const uint8_t *ext; /* SEG_EXT: the bytes */
};

#define OUT_MAX_SEGS (2 * HTTP_RANGE_MAX + 2)

/* A response plan and its head bytes; one pool buffer, alive from HANDLE to the end of WRITE. */
struct out {
    int file_fd;
    struct ff_pipe *pipe;
    uint32_t pipe_fill;    /* bytes spliced into the pipe and not yet out of it */
    uint8_t chain_pending; /* completions still due for the submitted link chain */
    bool failed;           /* an operation of the chain failed: close when it settles */
    uint8_t nseg, cur;
    uint64_t seg_done;     /* bytes of segs[cur] already sent */
    uint64_t body_bytes;   /* bytes sent after the head, for the access log */
    uint64_t head_bytes;   /* size of the response head (segs[0]) */
    int status;
    uint8_t *plain;        /* TLS: file bytes read for encryption (pool buffer) */
    uint32_t pl_off, pl_len;
    bool read_inflight;    /* TLS: a read into plain is in the kernel */
    struct open_how how; /* OPENING: the pending open's parameters */
    int root_fd;         /* OPENING: the folder the path is relative to (borrowed) */
    bool dir_only;       /* OPENING: the target ended in '/' */
    struct seg segs[OUT_MAX_SEGS];
    size_t data_len, data_cap;
    char data[]; /* head bytes, multipart boundaries, or the path of a pending open */
};

/** The bytes of a memory segment (SEG_MEM or SEG_EXT). */
static inline const uint8_t *seg_bytes(const struct out *o, const struct seg *s)
{
    return s->kind == SEG_EXT ? s->ext : (const uint8_t *)o->data + s->off;
}

/** Set up a connection accepted on fd (owned from now on) and start reading (tls: HTTPS). */
void conn_start(struct loop *l, int fd, bool tls);

/** Submit the TLS session's pending ciphertext if no send of it is in the kernel. */
void conn_tls_flush(struct conn *c);

/** Make sure the TLS session has an output buffer. Returns false when out of memory. */
bool conn_tls_out_ready(struct conn *c);

/** The one place that changes c->state. */
void conn_set_state(struct conn *c, enum conn_state s);

/** Free c if it is closed and the kernel holds nothing of it any more. Call after every event
 *  that may have closed it or dropped its in-flight count. */
void conn_settle(struct conn *c);

/** The request parse buffer of this thread (one request is routed at a time per loop). */
struct http_request *conn_scratch_request(void);

/** The body kept for the route (CF_KEEP_BODY), empty otherwise. */
struct iov conn_body(const struct conn *c);

/**
 * Read the current request's body (routed before it, see route_body) into c->job's
 * upload: davserve_upload_take gets the decoded bytes as they come, davserve_upload_end once all
 * of them are taken. Sends 100 Continue when the client waits for it.
 */
void conn_body_stream(struct conn *c);

/**
 * conn_body_stream for a body the upload can take by splice (a Content-Length, a plain or kTLS
 * socket): once what is already buffered is taken and no recv is in the kernel, reading stops
 * and davserve_splice_start takes the rest straight from the socket.
 */
void conn_body_splice(struct conn *c);

/** The upload can take bytes again after refusing some: go on reading. */
void conn_body_resume(struct conn *c);

/** Dispatch a completion that belongs to connection c. */
void conn_on_cqe(struct conn *c, const struct io_uring_cqe *cqe);

/** A deadline of c passed (called by the loop's tick). */
void conn_on_timeout(struct conn *c);

/** The loop is draining: close c now if it is idle, else after its current response. */
void conn_drain(struct conn *c);

/** Close c at once, abandoning any response; its memory goes once the kernel is done.
 *  The caller's line goes to the debug log. */
void conn_abort_at(struct conn *c, int line);
#define conn_abort(c) conn_abort_at((c), __LINE__)

/** conn_abort, for callers outside a completion (the drain deadline): may free c. */
void conn_kill(struct conn *c);

/* --- for handlers --- */

/** A fresh response plan for c, or NULL when out of memory. */
struct out *conn_out_new(struct conn *c);

/**
 * The plan for the next piece of a response sent in pieces (a streamed PROPFIND): c->out
 * emptied of segments, keeping its totals for the access log, its buffers and its status.
 */
struct out *conn_out_next(struct conn *c);

/**
 * Start the response line and the common headers (Date, Server) in out; status 100-599.
 * Returns 0 or -ENOSPC when the head does not fit.
 */
int out_head_begin(struct conn *c, struct out *o, int status);

/** Append "Name: value\r\n" formatted. Returns 0 or -ENOSPC. */
__attribute__((format(printf, 3, 4))) int out_header(struct out *o, const char *name,
                                                     const char *fmt, ...);

/* out_head's len for a body of unknown length: sent in chunks, or ended by closing (HTTP/1.0;
 * the caller clears CF_KEEP_ALIVE). */
#define OUT_CHUNKED (-1)
#define OUT_UNTIL_CLOSE (-2)

/**
 * The whole head: status line, common headers, headers (extra lines, each ending in CRLF; NULL:
 * none), Content-Type ctype (NULL: none), and Content-Length len (none for 204), or for
 * OUT_CHUNKED Transfer-Encoding: chunked. Returns 0 or -ENOSPC.
 */
int out_head(struct conn *c, struct out *o, int status, const char *headers, const char *ctype,
             int64_t len);

/** Finish the head (Connection header as needed, blank line) as the first segment. */
int out_head_end(struct conn *c, struct out *o);

/** Append raw bytes as a memory segment (multipart boundaries, small bodies). */
int out_add_mem(struct out *o, const void *p, size_t len);

/** Append p (len bytes, not copied: it must stay until the response is done) as a segment. */
int out_add_ext(struct out *o, const void *p, size_t len);

/** Append a file range as a splice segment of out->file_fd. */
int out_add_file(struct out *o, uint64_t off, uint64_t len);

/** The last byte of c->out is out: log, release, and go on with the next request. */
void conn_response_done(struct conn *c);

/** Send the plan in c->out; the connection continues by itself afterwards. */
void conn_send(struct conn *c);

/**
 * Answer with a small complete response: headers holds extra header lines, each ending in
 * CRLF (NULL: none); body (len bytes, copied) has type ctype and is left out for HEAD. close:
 * the connection ends after it.
 */
void conn_respond(struct conn *c, int status, bool close, const char *headers, const char *ctype,
                  const void *body, size_t len);

/**
 * Answer with a complete response whose body of len bytes is in memory at body (copied; it must
 * fit the plan's buffer) or, when fd >= 0, is the file fd from offset 0 (owned from now on,
 * closed with the plan). ctype NULL: no Content-Type. headers as for conn_respond.
 */
void conn_respond_body(struct conn *c, int status, bool close, const char *headers,
                       const char *ctype, const void *body, int fd, uint64_t len);

/**
 * Answer with a short text/plain response of the given status and, when close is set, close
 * the connection after it. allow: value of an Allow header, or NULL.
 */
void conn_respond_simple(struct conn *c, int status, bool close, const char *allow);

/** Submit a confined open of c->out->data on the ring; the handler resumes in fileserve. */
void conn_open_async(struct conn *c);

/** The head of c's current request (re-parsed from c->in: it is kept there until the end). */
void conn_request(struct conn *c, struct http_request *req);

#endif
