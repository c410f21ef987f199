/* SPDX-License-Identifier: MIT */
/*
 * The server side of WebDAV: a request on /dav/ other than GET and HEAD becomes a job on the
 * dav pool (work.h) that runs the method (dav/dav.h) with the pool thread's index handle, and
 * whose answer comes back to the connection's loop to be sent.
 *
 * The job owns copies of what it reads (the head, the kept XML body), so the connection may go
 * on receiving while it runs. Its response body goes to a buffer of its own (sent from there,
 * not copied) and, past SINK_MEM_MAX, to an unlinked file in DATA/tmp that is then sent like
 * any file (splice, or the TLS path). PROPFIND answers in pieces: the job stops once a piece is
 * full, the piece goes out as a chunk (Transfer-Encoding: chunked; HTTP/1.0: the connection
 * ends the body), and the job runs again for the next one when it is sent. So a listing of any
 * size costs the server a piece of memory and never waits on disk writes, and a slow client
 * holds no pool thread.
 *
 * PUT runs as two jobs around its body: dav_put_begin decides and opens the temporary file,
 * the loop writes the body into it with io_uring as it arrives, and dav_put_finish puts it in
 * place. A body with a Content-Length on a plain or kTLS socket goes socket -> pipe -> file by
 * splice, never through userspace (only what arrived with the head is written from memory);
 * otherwise (chunked, userspace TLS) it is written from two buffers, one filling while the
 * other is written.
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

/** Upload: nothing buffered, no write in the kernel (the file offset is final), no splice
 *  started. */
bool davserve_upload_idle(const struct conn *c);

/** Upload: take the rest of the body (c->body_left bytes) by splice socket -> pipe -> file. */
void davserve_splice_start(struct conn *c);

/** Completion of an upload write or a pipe -> file splice (OP_UPLOAD_WRITE). */
void davserve_on_write(struct conn *c, int res);

/** Completion of a socket -> pipe splice (OP_UPLOAD_SPLICE). */
void davserve_on_splice(struct conn *c, int res);

/**
 * The response on c is all sent: if it is a piece of a longer one, start making the next piece
 * and return true (the response goes on); else false.
 */
bool davserve_next_piece(struct conn *c);

/** Drop c's job, if any, with its temporary files (its response is done, or the connection is
 *  going away). */
void davserve_release(struct conn *c);

#endif
