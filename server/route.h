/* SPDX-License-Identifier: MIT */
/*
 * The URL space:
 *
 *   /public/...  DATA/public, to anyone (GET, HEAD)
 *   /dav/...     the signed-in user's own tree, DATA/files/NAME (the gate decides who),
 *                with the WebDAV methods (davserve.h)
 *   /login       the sign-in form (GET) and its submission (POST)
 *   /logout      ends the browser session (POST)
 *   /            sends browsers to /login
 *
 * Everything else is 404. The target is normalised first (http/path.h), so escapes and dot
 * segments cannot reach a route they do not name, and what follows a route's prefix is opened
 * beneath that route's own folder.
 */
#ifndef SERVER_ROUTE_H
#define SERVER_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/parse.h"

struct conn;

enum route_body {
    ROUTE_BODY_DISCARD, /* read through its framing and dropped */
    ROUTE_BODY_KEEP,    /* kept whole in the input buffer for the route (conn_body) */
    ROUTE_BODY_STREAM,  /* routed first, then streamed to an upload (conn_body_stream) */
};

/** What req's route does with its body; for ROUTE_BODY_KEEP *max is the most it keeps. */
enum route_body route_body(const struct http_request *req, size_t *max);

/** Answer req, whose body, if any, has been read. */
void route_request(struct conn *c, const struct http_request *req);

/** Go on with a request of a signed-in route once the gate knows user_id. */
void route_signed_in(struct conn *c, const struct http_request *req, int64_t user_id);

#endif
