/* SPDX-License-Identifier: MIT */
/*
 * PUT (RFC 9110 §9.3.4, RFC 4918 §9.7) in two steps around the body, see dav.h.
 *
 * The body goes into an anonymous O_TMPFILE in the target folder, so nothing is visible until
 * it is complete and an aborted upload leaves nothing behind. On finish the file is linked
 * under a random name into the staging folder (env->stage_fd, emptied at server start) and
 * renamed over the target in one step: readers see the old version or the new one, never a
 * mix, and a crash leaves at worst a stray name in the staging folder, never in a user's tree.
 * When the staging folder is on another file system, a hidden random name in the target folder
 * stands in for it.
 *
 * Preconditions are checked before the body (If, If-Match, If-None-Match, locks, the parent,
 * quota against Content-Length) and the quota once more against the bytes that arrived, which
 * a chunked body did not announce.
 *
 * Known gaps: no partial PUT (Content-Range is refused with 400, RFC 9110 §14.5); only the
 * first If-Match and If-None-Match field is read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dav.h"
#include "etag.h"
#include "fsx.h"
#include "precond.h"
#include "tree.h"

/* How many bytes a file of old_size may be replaced by under the quota (UINT64_MAX: none). */
static int quota_room(struct dav_env *env, const struct dav_req *req, uint64_t old_size,
                      uint64_t *room)
{
    *room = UINT64_MAX;
    if (env->cfg->quota_bytes < 0)
        return 0;
    int64_t used;
    int rc = dav_index_quota_used(env->ix, req->user_id, &used);
    if (rc < 0)
        return rc;
    /* In unsigned arithmetic, so a huge Content-Length cannot wrap around to a small total. */
    uint64_t after = (uint64_t)(used > 0 ? used : 0);
    after = after > old_size ? after - old_size : 0;
    uint64_t quota = (uint64_t)env->cfg->quota_bytes;
    *room = quota > after ? quota - after : 0;
    return 0;
}

/* 507 (RFC 4331 §6) when a file of old_size replaced by one of new_size is past the quota. */
static int quota_check(struct dav_env *env, const struct dav_req *req, uint64_t old_size,
                       uint64_t new_size, uint64_t *room)
{
    int rc = quota_room(env, req, old_size, room);
    return rc < 0 ? rc : new_size > *room ? 507 : 0;
}

/* An anonymous file in the folder dir_fd (O_PATH serves: only the lookup of "." uses it). */
static int open_tmpfile(int dir_fd)
{
    int fd = openat(dir_fd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
    return fd < 0 ? -errno : fd;
}

static int begin_checks(struct dav_env *env, const struct dav_req *req, struct dav_resp *resp,
                        struct dav_put *put)
{
    if (req->trailing_slash || req->path[0] == '\0')
        return 405; /* a folder's URL: PUT makes no collections */
    struct dav_entry *e = malloc(sizeof(*e));
    if (!e)
        return -ENOMEM;
    int rc = dav_resolve(env, req, req->path, e);
    put->existed = rc == 0;
    uint64_t old_size = rc == 0 ? e->size : 0;
    if (rc == 0 && e->is_dir)
        rc = 405;
    else if (rc == -ENOENT)
        rc = 0;
    else if (rc == -ENOTDIR)
        rc = 409;
    else if (dav_is_absent(rc))
        rc = 404;
    if (rc == 0) {
        rc = fsx_parent(req->root_fd, req->path, put->name);
        if (rc >= 0) {
            put->dir_fd = rc;
            rc = 0;
        } else if (rc == -ENOENT || rc == -ENOTDIR) {
            rc = 409; /* §9.7.1: no intermediate collections are made */
        } else if (dav_is_absent(rc)) {
            rc = 404;
        }
    }
    if (rc == 0) {
        rc = put->existed ? dav_precond(env, req, req->path, false, resp)
                          : dav_precond_create(env, req, req->path, resp);
    }
    /* RFC 9110 §13.2.2: If-Match, then If-None-Match; a missing file has no tag. */
    struct iov etag = put->existed ? iov_make(e->etag, strlen(e->etag)) : iov_make(NULL, 0);
    const struct http_header *im = http_header_find(req->http, "If-Match");
    if (rc == 0 && im && !http_etag_match(im->value, etag, true))
        rc = 412;
    const struct http_header *inm = http_header_find(req->http, "If-None-Match");
    if (rc == 0 && inm && http_etag_match(inm->value, etag, false))
        rc = 412;
    if (rc == 0 && http_header_find(req->http, "Content-Range"))
        rc = 400; /* RFC 9110 §14.5: a partial PUT must not be taken for a whole one */
    if (rc == 0) {
        uint64_t announced = req->http->body == HTTP_BODY_LENGTH ? req->http->content_length : 0;
        rc = quota_check(env, req, old_size, announced, &put->room);
    }
    free(e);
    return rc;
}

int dav_put_begin(struct dav_env *env, const struct dav_req *req, struct dav_resp *resp,
                  struct dav_put *put)
{
    put->fd = -1;
    put->dir_fd = -1;
    put->existed = false;
    put->room = UINT64_MAX;
    put->name[0] = '\0';
    int rc = begin_checks(env, req, resp, put);
    if (rc == 0) {
        rc = open_tmpfile(put->dir_fd);
        if (rc >= 0) {
            put->fd = rc;
            rc = 0;
        }
    }
    if (rc != 0)
        dav_put_abort(put);
    if (rc > 0) {
        resp->status = rc;
        return 0;
    }
    if (rc == 0)
        resp->status = 0;
    return rc;
}

/* Put the file in place in one rename, through the staging folder if it can. */
static int install(struct dav_env *env, struct dav_put *put)
{
    int rc = dav_tree_install(put->fd, env->stage_fd, put->dir_fd, put->name);
    /* The staging folder is on another file system: a hidden name beside the target. */
    if (rc == -EXDEV)
        rc = dav_tree_install(put->fd, put->dir_fd, put->dir_fd, put->name);
    return rc;
}

int dav_put_finish(struct dav_env *env, const struct dav_req *req, struct dav_resp *resp,
                   struct dav_put *put)
{
    struct dav_entry *e = malloc(sizeof(*e));
    int rc = e ? 0 : -ENOMEM;
    struct dav_stat st;
    if (rc == 0)
        rc = fsync(put->fd) < 0 ? -errno : 0;
    if (rc == 0)
        rc = fsx_fstat(put->fd, &st);
    if (rc == 0 && env->cfg->quota_bytes >= 0) {
        /* The old version's size now, not at begin: another upload may have replaced it. */
        rc = dav_resolve(env, req, req->path, e);
        uint64_t old_size = rc == 0 && !e->is_dir ? e->size : 0;
        uint64_t room;
        rc = (rc == 0 || dav_is_absent(rc)) ? quota_check(env, req, old_size, st.size, &room)
                                             : rc;
    }
    if (rc == 0) {
        rc = install(env, put);
        if (rc == -ENOENT || rc == -EISDIR || rc == -ENOTEMPTY || rc == -ENOTDIR)
            rc = 409; /* the folder went away, or a folder took the name, meanwhile */
    }
    if (rc == 0)
        rc = dav_tree_fsync_dir(put->dir_fd);
    if (rc == 0)
        rc = dav_index_upsert(env->ix, req->user_id, req->path, &st, e);
    if (rc == 0) {
        resp->status = put->existed ? 204 : 201;
        rc = dav_resp_header(resp, "ETag", "%s", e->etag);
    }
    if (rc > 0) {
        resp->status = rc;
        rc = 0;
    }
    free(e);
    dav_put_abort(put);
    return rc;
}

void dav_put_abort(struct dav_put *put)
{
    if (put->fd >= 0)
        close(put->fd);
    if (put->dir_fd >= 0)
        close(put->dir_fd);
    put->fd = -1;
    put->dir_fd = -1;
}
