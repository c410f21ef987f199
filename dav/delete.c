/* SPDX-License-Identifier: MIT */
/*
 * DELETE (RFC 4918 §9.6): a file, a link, or a folder with everything in it.
 *
 * A folder goes bottom-up through confined descriptors (dav/tree.c), links removed as links.
 * Members that cannot be removed are listed in a 207 (§9.6.1) and the rest goes; the index is
 * then brought in line with what stayed.
 *
 * Known gaps: the user's root itself is never deleted (403).
 */
#include <errno.h>

#include "dav.h"
#include "davhdr.h"
#include "log.h"
#include "tree.h"

int dav_delete(struct dav_env *env, const struct dav_req *req, struct dav_resp *resp)
{
    struct dav_entry e;
    enum dav_depth depth;

    int rc = dav_resolve(env, req, req->path, &e);
    if (rc < 0) {
        int status = dav_tree_status(rc);
        return status == 500 ? rc : dav_resp_status(resp, status);
    }
    if (!req->path[0])
        return dav_resp_status(resp, 403);
    /* §9.6.1: a collection goes with Depth: infinity, whatever else a client asks for. */
    if (dav_hdr_depth(req->http, DAV_DEPTH_INFINITY, &depth) < 0 ||
        (e.is_dir && depth != DAV_DEPTH_INFINITY))
        return dav_resp_status(resp, 400);
    rc = dav_tree_precond_remove(env, req, req->path, resp);
    if (rc)
        return rc < 0 ? rc : dav_resp_status(resp, rc);

    struct dav_tree_ms report;
    dav_tree_ms_init(&report, req, resp);
    struct dav_tree t = {.root_fd = req->root_fd,
                         .stage_fd = env->stage_fd,
                         .fail = dav_tree_ms_fail,
                         .ctx = &report};
    rc = dav_tree_remove(&t, req->path);
    int irc = rc == 0 ? dav_index_delete(env->ix, req->user_id, req->path)
                      : dav_tree_sync(env, req, req->path);
    if (irc == -ENOENT)
        irc = 0;
    if (report.is_started) {
        /* The 207 has begun: whatever else went wrong, it is the answer. */
        if (irc)
            log_warn("event=dav_delete_index rc=%d", irc);
        (void)dav_tree_ms_end(&report); /* a sink error: too late to answer otherwise */
        return 0;
    }
    if (rc) {
        int status = dav_tree_status(rc);
        return status == 500 ? rc : dav_resp_status(resp, status);
    }
    return irc ? irc : dav_resp_status(resp, 204);
}
