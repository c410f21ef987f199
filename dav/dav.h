/* SPDX-License-Identifier: MIT */
/*
 * The WebDAV methods (RFC 4918 class 1 and 2, RFC 4331), apart from the event loop.
 *
 * The server runs each method on a blocking-work thread (the methods touch the disk, fsync and
 * write the index) with that thread's own index handle (struct dav_env). A method reads the
 * request (struct dav_req: the user's tree, the normalised path, the parsed head, a body of at
 * most DAV_XML_BODY_MAX bytes) and fills the response (struct dav_resp): a status, extra header
 * lines and, when it has one, a body written through the caller's sink as it is produced, so a
 * multistatus of any length costs no more memory than the sink keeps.
 *
 * Every method returns 0 when resp holds the answer, whatever its status (4xx included); a
 * negative errno only for a failure the server answers with 500 (then resp is not used). Once a
 * method has written body bytes it must return 0: the answer has started.
 *
 * Paths: req->path is the request target below the user's root in the form of
 * http_path_normalize ("" for the root, "a/b" below it, no leading or trailing '/'), bytes as on
 * disk. Everything on disk is reached through the confinement layer (dav/fsx.h, openat2 with
 * RESOLVE_BENEATH below req->root_fd); the index is brought in line with what is on disk
 * (dav_resolve) before a method relies on it.
 */
#ifndef DAV_DAV_H
#define DAV_DAV_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "index.h"
#include "multistatus.h"
#include "parse.h"

/** Site settings the methods obey (fixed while serving). */
struct dav_cfg {
    uint32_t depth_infinity_max; /* PROPFIND Depth: infinity refused (403) past this many */
    uint32_t lock_timeout_default; /* seconds, LOCK without an acceptable Timeout */
    uint32_t lock_timeout_max;     /* seconds, the most a LOCK gets */
    int64_t quota_bytes;           /* per user; negative: no quota */
};

/** A work thread's: the index handle it owns and the settings. */
struct dav_env {
    struct dav_index *ix;
    const struct dav_cfg *cfg;
    /* DATA/tmp, on the same file system as the trees: a finished upload or copy is linked
     * here under a random name, then renamed into place in one step. The server empties it
     * at start, so a crash between the two steps leaves nothing behind in the user's tree. */
    int stage_fd;
    /* NULL, or true while a watcher brings every outside change into the index within about
     * a second (server/watch.h): a listing then trusts the index instead of reading the
     * folder. */
    const atomic_bool *tree_watched;
};

struct dav_req {
    int64_t user_id;
    int root_fd;             /* the user's tree (DATA/files/NAME), borrowed */
    const char *path;        /* normalised, see above */
    bool trailing_slash;     /* the target ended in '/' */
    const struct http_request *http; /* the head: Depth, If, Destination, Overwrite... */
    bool tls;                /* the request came over TLS (Destination's scheme) */
    const char *href_root;   /* URL path of the user's root with its trailing '/': "/dav/" */
    const uint8_t *body;     /* the whole request body (NULL, 0: none); never PUT's */
    size_t body_len;
    int64_t now;             /* unix seconds */
};

#define DAV_RESP_HEADERS_MAX 1024

struct dav_resp {
    int status;
    char headers[DAV_RESP_HEADERS_MAX]; /* extra header lines, each ending in CRLF */
    size_t headers_len;
    const char *content_type; /* of the body; NULL: no body */
    dav_ms_write_fn write;    /* the body sink, set by the caller */
    void *write_ctx;
    /*
     * A long body in pieces, so that it goes out while it is made and costs no more memory
     * than a piece: with piece_max set by the caller, a method that can stop midway (PROPFIND)
     * does so at a response boundary once about piece_max bytes are written, sets more and keeps
     * its place in cont. The caller sends the piece, then calls the same method again with resp
     * as it was left (more cleared by the method when the body is complete, cont then NULL);
     * status and headers count from the first piece only. A caller that gives up on a body
     * with more to come calls cont_free(cont). piece_max 0: the whole body in one call.
     */
    size_t piece_max;
    bool more;
    void *cont;
    void (*cont_free)(void *cont);
};

/** Append "Name: value\r\n" to resp->headers. Returns 0 or -ENOSPC. */
__attribute__((format(printf, 3, 4))) int dav_resp_header(struct dav_resp *resp,
                                                          const char *name, const char *fmt,
                                                          ...);

/** Write a body of its own (a status with a short text): sets content_type and writes. */
int dav_resp_text(struct dav_resp *resp, int status, const char *text);

/** Answer status without a body; returns 0 (the method's "resp holds the answer"). */
int dav_resp_status(struct dav_resp *resp, int status);

/** Nothing at the path as far as a client can see: absent, through a file, or outside the
 *  root (the -errno of dav_resolve and fsx that answer 404, or 409 for a parent). */
static inline bool dav_is_absent(int rc)
{
    return rc == -ENOENT || rc == -ENOTDIR || rc == -EXDEV || rc == -ELOOP;
}

/* --- the methods --- */

int dav_propfind(struct dav_env *env, const struct dav_req *req, struct dav_resp *resp);
int dav_proppatch(struct dav_env *env, const struct dav_req *req, struct dav_resp *resp);
int dav_mkcol(struct dav_env *env, const struct dav_req *req, struct dav_resp *resp);
int dav_delete(struct dav_env *env, const struct dav_req *req, struct dav_resp *resp);
int dav_copy(struct dav_env *env, const struct dav_req *req, struct dav_resp *resp);
int dav_move(struct dav_env *env, const struct dav_req *req, struct dav_resp *resp);
int dav_lock(struct dav_env *env, const struct dav_req *req, struct dav_resp *resp);
int dav_unlock(struct dav_env *env, const struct dav_req *req, struct dav_resp *resp);

/*
 * PUT, in two steps around the body, which the server streams into put->fd:
 * dav_put_begin checks everything that can be checked before the body (If header and locks,
 * If-Match / If-None-Match, the parent folder (409), a collection at the path (405), the quota
 * against a Content-Length (507)) and opens an O_TMPFILE in the target folder. On success
 * resp->status is 0 and put->fd is open: the server writes the body to it. Otherwise resp
 * holds the refusal and put->fd is -1.
 * dav_put_finish runs once the whole body is in: fsync, link into place atomically (replacing
 * the old version in one rename), fsync the folder, update the index; resp gets 201 or 204
 * with the new ETag. It releases put either way.
 * dav_put_abort drops an upload whose body did not arrive: the old version stays as it was.
 */
struct dav_put {
    int fd;         /* the O_TMPFILE, -1 when none */
    int dir_fd;     /* the target folder */
    bool existed;   /* a file was at the path when the upload began */
    uint64_t room;  /* body bytes the quota allowed when the upload began (UINT64_MAX: no
                     * quota): a body of unknown length may be stopped once past it */
    char name[256]; /* the last segment of the path */
};

int dav_put_begin(struct dav_env *env, const struct dav_req *req, struct dav_resp *resp,
                  struct dav_put *put);
int dav_put_finish(struct dav_env *env, const struct dav_req *req, struct dav_resp *resp,
                   struct dav_put *put);
void dav_put_abort(struct dav_put *put);

/* --- shared by the methods --- */

/**
 * Stat path below the user's root through the confinement layer and bring the index in line
 * (dav_index_sync); e receives the entry. Returns 0, -ENOENT when nothing is there (the index
 * row, if any, is gone too), -ENOTDIR when the path goes through a file, -EXDEV or -ELOOP when
 * it would leave the root (answer these 404, like -ENOENT), or another -errno.
 */
int dav_resolve(struct dav_env *env, const struct dav_req *req, const char *path,
                struct dav_entry *e);

/** dav_resolve that also says whether the index row had to change (changed may be NULL). */
int dav_resolve_changed(struct dav_env *env, const struct dav_req *req, const char *path,
                        struct dav_entry *e, bool *changed);

/**
 * The checks every write method makes before it changes path (RFC 4918 §10.4, §7): the If
 * header evaluated against ETags and live locks, and the locks that cover path (with
 * with_descendants, also those below it: a recursive DELETE or MOVE) each submitted in the If
 * header. Returns 0 when the write may go on, or the status to answer: 400 (malformed If), 412
 * (If false), 423 (a lock whose token was not submitted; resp then has the lock-token-submitted
 * error body naming its root). Returns a negative errno for internal failures.
 */
int dav_precond(struct dav_env *env, const struct dav_req *req, const char *path,
                bool with_descendants, struct dav_resp *resp);

#endif
