/* SPDX-License-Identifier: MIT */
/*
 * The server side of WebDAV: a request on /dav/ other than GET and HEAD becomes a job on the
 * dav pool (work.h) that runs the method (dav/dav.h) with the pool thread's index handle, and
 * whose answer comes back to the connection's loop to be sent.
 *
 * The job owns copies of what it reads (the head, the kept XML body), so the connection may go
 * on receiving while it runs. Its response body goes to a small buffer and, past that, to an
 * unlinked file in DATA/tmp that is then sent like any file (splice, or the TLS path), so a
 * multistatus of any size costs the server the same memory.
 *
 * PUT runs as two jobs around its body: dav_put_begin decides and opens the temporary file,
 * the loop writes the body into it with io_uring as it arrives (two buffers: one fills while
 * the other is written), and dav_put_finish puts it in place.
 */
#ifndef SERVER_DAVSERVE_H
#define SERVER_DAVSERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/parse.h"

struct conn;

/**
 * Answer WebDAV request req on path (normalised, see dav.h) of user_id's tree, root_fd (the
 * user's folder, borrowed; the job keeps its own descriptor).
 */
void davserve_handle(struct conn *c, const struct http_request *req, int64_t user_id,
                     int root_fd, const char *path, bool trailing_slash);

/** Upload: take up to n decoded body bytes; returns how many (fewer: full for now, the
 *  upload resumes reading with conn_body_resume once it has room). */
size_t davserve_upload_take(struct conn *c, const uint8_t *p, size_t n);

/** Upload: the whole body has been taken. */
void davserve_upload_end(struct conn *c);

/** Completion of an upload write (OP_UPLOAD_WRITE). */
void davserve_on_write(struct conn *c, int res);

/** Drop c's job, if any, with its temporary files (the connection is going away). */
void davserve_release(struct conn *c);

#endif
