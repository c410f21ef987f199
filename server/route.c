/* SPDX-License-Identifier: MIT */
/* Request routing (see route.h). */
#include "route.h"

#include <limits.h>
#include <string.h>

#include "conn.h"
#include "davserve.h"
#include "fileserve.h"
#include "gate.h"
#include "http/path.h"
#include "login.h"
#include "site.h"
#include "xml.h"

struct target {
    char path[PATH_MAX];
    const char *rest; /* after the route's first segment: "" or "a/b" */
    bool dir_only;
};

/* Normalise req's target; answers and returns false when it is malformed. */
static bool target_parse(struct conn *c, const struct http_request *req, struct target *t)
{
    struct http_path pr;
    int rc = http_path_normalize(req->target, t->path, sizeof(t->path), &pr);
    if (rc < 0) {
        /* A client that sends such targets is broken or probing: do not keep talking. */
        conn_respond_simple(c, -rc, true, NULL);
        return false;
    }
    t->dir_only = pr.trailing_slash;
    char *slash = strchr(t->path, '/');
    if (slash) {
        *slash = '\0';
        t->rest = slash + 1;
    } else {
        t->rest = "";
    }
    return true;
}

/* Only GET and HEAD read files; anything else is answered here. */
static bool read_only(struct conn *c, const struct http_request *req)
{
    if (req->method == HTTP_M_GET || req->method == HTTP_M_HEAD)
        return true;
    if (req->method == HTTP_M_OTHER)
        conn_respond_simple(c, 501, false, NULL);
    else
        conn_respond_simple(c, 405, false, "GET, HEAD");
    return false;
}

/* The login form's largest body. */
#define LOGIN_BODY_MAX 4096

enum route_body route_body(const struct http_request *req, size_t *max)
{
    char path[PATH_MAX];
    struct http_path pr;
    int rc = http_path_normalize(req->target, path, sizeof(path), &pr);
    if (req->method == HTTP_M_POST && rc == 0 &&
        (strcmp(path, "login") == 0 || strcmp(path, "logout") == 0)) {
        *max = LOGIN_BODY_MAX;
        return ROUTE_BODY_KEEP;
    }
    if (rc == 0 && strncmp(path, "dav", 3) == 0 && (path[3] == '/' || path[3] == '\0')) {
        if (req->method == HTTP_M_PUT)
            return ROUTE_BODY_STREAM;
        if (req->method != HTTP_M_GET && req->method != HTTP_M_HEAD) {
            *max = DAV_XML_BODY_MAX;
            return ROUTE_BODY_KEEP;
        }
    }
    return ROUTE_BODY_DISCARD;
}

void route_signed_in(struct conn *c, const struct http_request *req, int64_t user_id)
{
    struct target t;
    if (!target_parse(c, req, &t))
        return;
    int root = gate_user_root(c->loop, user_id);
    if (root < 0) {
        conn_respond_simple(c, 500, false, NULL);
        return;
    }
    if (req->method == HTTP_M_GET || req->method == HTTP_M_HEAD)
        fileserve_handle(c, req, root, t.rest, t.dir_only || !t.rest[0]);
    else
        davserve_handle(c, req, user_id, root, t.rest, t.dir_only);
}

void route_request(struct conn *c, const struct http_request *req)
{
    struct target t;
    if (!target_parse(c, req, &t))
        return;
    const char *seg = t.path;
    if (strcmp(seg, "public") == 0) {
        if (read_only(c, req))
            fileserve_handle(c, req, c->loop->site->public_fd, t.rest,
                             t.dir_only || !t.rest[0]);
    } else if (strcmp(seg, "dav") == 0) {
        int64_t user = gate_check(c, req);
        if (user > 0)
            route_signed_in(c, req, user);
    } else if (strcmp(seg, "login") == 0 && !t.rest[0]) {
        login_handle(c, req);
    } else if (strcmp(seg, "logout") == 0 && !t.rest[0]) {
        logout_handle(c, req);
    } else if (!seg[0] && read_only(c, req)) {
        conn_respond(c, 303, false, "Location: /login\r\n", "text/plain; charset=utf-8",
                     "303 See Other\n", 14);
    } else if (seg[0]) {
        conn_respond_simple(c, 404, false, NULL);
    }
}
