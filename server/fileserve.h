/* SPDX-License-Identifier: MIT */
/*
 * GET and HEAD of files beneath a root folder: confined open, validators (strong ETag,
 * Last-Modified), conditional requests, single and multiple ranges, and a response plan whose
 * body is spliced from the file. Folders are 404 until the browser listing arrives.
 */
#ifndef SERVER_FILESERVE_H
#define SERVER_FILESERVE_H

#include "conn.h"

/**
 * Handle a GET or HEAD (its body, if any, already discarded) of path, normalised and relative
 * to root_fd ("" for the root itself; dir_only: the target ended in '/'). root_fd is borrowed
 * and must outlive the response. Answers or goes async.
 */
void fileserve_handle(struct conn *c, const struct http_request *req, int root_fd,
                      const char *path, bool dir_only);

/** Continue once the confined open of the target is done: fd, or -errno. */
void fileserve_opened(struct conn *c, const struct http_request *req, int fd);

#endif
