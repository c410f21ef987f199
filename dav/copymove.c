/* SPDX-License-Identifier: MIT */
/*
 * COPY and MOVE (RFC 4918 §9.8, §9.9) within the user's tree.
 *
 * The checks, in the order their answers take precedence: the headers (400, 502 for a
 * Destination outside this user's WebDAV tree), the source (404), source and destination the
 * same or the root (403), the destination's parent (409), a destination inside the source
 * (403), an existing destination without Overwrite (412) or that holds the source (403), then
 * the If header and locks (dav_precond: 412, 423) and, for COPY, the quota (507).
 *
 * An existing destination is deleted first (§9.8.4, §9.9.3) unless a file replaces a file,
 * which one rename does. MOVE is a rename (a copy and a delete across mounts); COPY builds the
 * copy out of sight and renames it into place (dav/tree.c). The index follows: dav_index_move
 * keeps ids and dead properties, dav_index_copy gives new ids with copies of them, and the
 * destination is then synced with the disk.
 *
 * Known gaps: the 207 of a partial COPY names destination members, that of a failed
 * overwrite the destination's; a Destination is compared with href_root byte for byte, so a
 * href_root with percent-escapes would never match.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dav.h"
#include "davhdr.h"
#include "fsx.h"
#include "log.h"
#include "precond.h"
#include "tree.h"

/* Answer err as dav_tree_status says, or fail with it (500). */
static int answer_err(struct dav_resp *resp, int err)
{
    int status = dav_tree_status(err);
    return status == 500 ? err : dav_resp_status(resp, status);
}

/* The destination below the user's root, or NULL when dest (normalised, "dav/a/b") lies
 * outside href_root ("/dav/"): another part of this server, not this WebDAV tree. */
static const char *below_root(const char *href_root, const char *dest)
{
    const char *root = href_root + (href_root[0] == '/');
    size_t rl = strlen(root);
    if (rl && root[rl - 1] == '/')
        rl--;
    if (rl == 0)
        return dest;
    if (strncmp(dest, root, rl) != 0 || (dest[rl] != '\0' && dest[rl] != '/'))
        return NULL;
    return dest + rl + (dest[rl] == '/');
}

/* Is path strictly below ancestor? */
static bool is_below(const char *path, const char *ancestor)
{
    size_t l = strlen(ancestor);
    if (l == 0)
        return path[0] != '\0';
    return strncmp(path, ancestor, l) == 0 && path[l] == '/';
}

static int add_size(void *ctx, const struct dav_entry *e)
{
    *(uint64_t *)ctx += e->size;
    return 0;
}

/* Bytes in path and below as the index knows them. */
static int tree_bytes(struct dav_env *env, const struct dav_req *req, const char *path,
                      bool is_recursive, uint64_t *bytes)
{
    struct dav_entry e;
    *bytes = 0;
    int rc = dav_index_lookup(env->ix, req->user_id, path, &e);
    if (rc == -ENOENT)
        return 0;
    if (rc || !e.is_dir || !is_recursive) {
        *bytes = e.size;
        return rc;
    }
    return dav_index_walk(env->ix, req->user_id, path, SIZE_MAX, add_size, bytes);
}

/* RFC 4331: would the copy take the user past the quota? (The destination's bytes go.) */
static int over_quota(struct dav_env *env, const struct dav_req *req, const char *from,
                      const char *to, bool is_recursive, bool *is_over)
{
    int64_t used;
    uint64_t add, freed;
    *is_over = false;
    if (env->cfg->quota_bytes < 0)
        return 0;
    int rc = dav_index_quota_used(env->ix, req->user_id, &used);
    if (rc == 0)
        rc = tree_bytes(env, req, from, is_recursive, &add);
    if (rc == 0)
        rc = tree_bytes(env, req, to, true, &freed);
    if (rc == 0 && add > freed)
        *is_over = (uint64_t)used + (add - freed) > (uint64_t)env->cfg->quota_bytes;
    return rc;
}

/* After a change the index could not follow step by step: path and below as on disk. */
static int resync(struct dav_env *env, const struct dav_req *req, const char *path, int why)
{
    log_warn("event=dav_copymove_index rc=%d", why);
    return dav_tree_sync(env, req, path);
}

/* Rename from to (dir_fd, name), fsync both folders and move the index rows. */
static int move_tree(struct dav_env *env, const struct dav_req *req, struct dav_tree *t,
                     const char *from, const char *to, int dir_fd, const char *name)
{
    char sname[FSX_NAME_MAX + 1];
    int sdir = fsx_parent(req->root_fd, from, sname);
    if (sdir < 0)
        return sdir;
    bool is_copied = false;
    int rc = renameat(sdir, sname, dir_fd, name) < 0 ? -errno : 0;
    if (rc == -EXDEV) {
        /* Another mount below the same root: copy, and delete only a complete copy. */
        is_copied = true;
        rc = dav_tree_copy(t, from, to, true);
        if (rc == 0)
            rc = dav_tree_remove(t, from);
        if (rc) {
            /* Both may stay in part: the index takes them as they are, with new ids. */
            close(sdir);
            int irc = dav_tree_sync(env, req, from);
            if (irc == 0)
                irc = dav_tree_sync(env, req, to);
            if (irc)
                log_warn("event=dav_move_index rc=%d", irc);
            return rc;
        }
    }
    /* The index follows at once, before the fsyncs: the watcher (server/watch.c) syncs what it
     * saw change after a quiet moment, and a slow fsync must not let it take the renamed
     * file for a deleted one and a new one (new id, dead properties lost). */
    rc = dav_index_move(env->ix, req->user_id, from, to, true);
    int frc = dav_tree_fsync_dir(sdir);
    if (frc == 0)
        frc = dav_tree_fsync_dir(dir_fd);
    close(sdir);
    if (rc == 0) /* a copy has new inodes throughout; a rename changed the top at most */
        rc = is_copied ? dav_tree_sync(env, req, to) : dav_resolve(env, req, to, NULL);
    if (rc) {
        rc = resync(env, req, from, rc);
        if (rc == 0)
            rc = dav_tree_sync(env, req, to);
    }
    return rc ? rc : frc;
}

/* Copy from to and copy the index rows (new ids, dead properties along), then sync them. */
static int copy_tree(struct dav_env *env, const struct dav_req *req, struct dav_tree *t,
                     const char *from, const char *to, bool is_recursive)
{
    int rc = dav_tree_copy(t, from, to, is_recursive);
    if (rc && rc != -ENOTEMPTY)
        return rc;
    int irc = dav_index_copy(env->ix, req->user_id, from, to, true, is_recursive);
    if (irc)
        log_warn("event=dav_copy_index rc=%d", irc);
    /* Copied rows carry the source's stat fields until synced with the copies. */
    irc = dav_tree_sync(env, req, to);
    return rc ? rc : irc;
}

static int copymove(struct dav_env *env, const struct dav_req *req, struct dav_resp *resp,
                    bool is_move)
{
    char dest[DAV_INDEX_PATH_MAX + 64];
    char name[FSX_NAME_MAX + 1] = "";
    struct http_path res;
    struct dav_entry src;
    enum dav_depth depth;
    bool overwrite, is_over;
    struct stat sb;

    int rc = dav_hdr_destination(req->http, req->tls, dest, sizeof(dest), &res);
    if (rc == -EXDEV)
        return dav_resp_status(resp, 502); /* §9.8.5, §9.9.4: another server */
    if (rc < 0)
        return dav_resp_status(resp, 400);
    const char *from = req->path;
    const char *to = below_root(req->href_root, dest);
    if (!to)
        return dav_resp_status(resp, 502);
    if (dav_hdr_depth(req->http, DAV_DEPTH_INFINITY, &depth) < 0 ||
        dav_hdr_overwrite(req->http, &overwrite) < 0)
        return dav_resp_status(resp, 400);
    rc = dav_resolve(env, req, from, &src);
    if (rc < 0)
        return answer_err(resp, rc);
    /* §9.8.3: COPY of a collection with Depth 0 or infinity; §9.9.2: MOVE with infinity. */
    if (src.is_dir && (depth == DAV_DEPTH_1 || (is_move && depth != DAV_DEPTH_INFINITY)))
        return dav_resp_status(resp, 400);
    if (!from[0] || strcmp(from, to) == 0)
        return dav_resp_status(resp, 403);

    bool exists = true, dst_is_dir = true; /* the root, when to is "" */
    int dir = -1;
    if (to[0]) {
        dir = fsx_parent(req->root_fd, to, name);
        if (dir == -ENOENT || dir == -ENOTDIR || dir == -EXDEV || dir == -ELOOP)
            return dav_resp_status(resp, 409); /* §9.8.5, §9.9.4: no parent collection */
        if (dir < 0)
            return answer_err(resp, dir);
        /* The entry itself, not what a link there points at: a link is replaced as a link. */
        exists = fstatat(dir, name, &sb, AT_SYMLINK_NOFOLLOW) == 0;
        if (!exists && errno != ENOENT) {
            rc = -errno;
            goto out;
        }
        dst_is_dir = exists && S_ISDIR(sb.st_mode);
    }
    if (is_below(to, from)) {
        rc = dav_resp_status(resp, 403); /* a copy of a folder into itself never ends */
        goto out;
    }
    if (exists && !overwrite) {
        rc = dav_resp_status(resp, 412); /* §10.6 */
        goto out;
    }
    if (exists && is_below(from, to)) {
        rc = dav_resp_status(resp, 403); /* deleting the destination would delete the source */
        goto out;
    }
    /* A new member changes its parent's membership too; a replaced one does not. */
    if (is_move)
        rc = dav_tree_precond_remove(env, req, from, resp);
    if (rc == 0)
        rc =
            exists ? dav_precond(env, req, to, true, resp) : dav_precond_create(env, req, to, resp);
    if (rc) {
        rc = rc < 0 ? rc : dav_resp_status(resp, rc);
        goto out;
    }
    bool is_recursive = depth == DAV_DEPTH_INFINITY;
    if (!is_move) {
        rc = over_quota(env, req, from, to, is_recursive, &is_over);
        if (rc || is_over) {
            rc = rc ? rc : dav_resp_status(resp, 507);
            goto out;
        }
    }

    struct dav_tree_ms report;
    dav_tree_ms_init(&report, req, resp);
    struct dav_tree t = {.root_fd = req->root_fd,
                         .stage_fd = env->stage_fd,
                         .fail = dav_tree_ms_fail,
                         .ctx = &report};
    /* A rename replaces a file by a file in one step; anything else needs the way clear. */
    if (exists && (dst_is_dir || src.is_dir)) {
        rc = dav_tree_remove(&t, to);
        if (rc) {
            int irc = dav_tree_sync(env, req, to);
            if (irc)
                log_warn("event=dav_copymove_index rc=%d", irc);
        }
    }
    if (rc == 0)
        rc = is_move ? move_tree(env, req, &t, from, to, dir, name)
                     : copy_tree(env, req, &t, from, to, is_recursive);
    if (report.is_started) {
        (void)dav_tree_ms_end(&report); /* a sink error: too late to answer otherwise */
        rc = 0;
    } else if (rc) {
        rc = answer_err(resp, rc);
    } else {
        rc = dav_resp_status(resp, exists ? 204 : 201);
    }
out:
    if (dir >= 0)
        close(dir);
    return rc;
}

int dav_copy(struct dav_env *env, const struct dav_req *req, struct dav_resp *resp)
{
    return copymove(env, req, resp, false);
}

int dav_move(struct dav_env *env, const struct dav_req *req, struct dav_resp *resp)
{
    return copymove(env, req, resp, true);
}
