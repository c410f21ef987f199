/* SPDX-License-Identifier: MIT */
/*
 * GET and HEAD of files under the data root: confined open, validators (strong ETag,
 * Last-Modified), conditional requests, single and multiple ranges, and a response plan whose
 * body is spliced from the file. Folders are 404 until the browser listing arrives.
 */
#ifndef SERVER_FILESERVE_H
#define SERVER_FILESERVE_H

#include "conn.h"

/** Handle a GET or HEAD (its body, if any, already discarded). Answers or goes async. */
void fileserve_handle(struct conn *c, const struct http_request *req);

/** Continue once the confined open of the target is done: fd, or -errno. */
void fileserve_opened(struct conn *c, const struct http_request *req, int fd);

#endif
