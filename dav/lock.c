/* SPDX-License-Identifier: MIT */
/*
 * LOCK and UNLOCK (RFC 4918 §9.10, §9.11): write locks, exclusive or shared, depth 0 or
 * infinity, kept in the index by path (index_lock.c judges conflicts).
 *
 * A new lock needs no token of the locks it would share a resource with (a second shared lock
 * is the point of sharing) and the index refuses a conflicting one (423); a LOCK that creates
 * the empty resource (§9.10.4, 201) changes its folder's membership, so that folder's locks
 * must be submitted (§7.4). A refresh (§9.10.2) names its lock in the If header: a LOCK without
 * a body and without an If header is malformed (400), one whose If header names no lock of this
 * user that covers the request-URI fails its precondition (412).
 *
 * Known gaps: a depth-infinity LOCK that conflicts below its root answers 423 naming one
 * conflicting lock, not the 207 listing every member (§9.10.6 allows either); the owner's
 * xml:lang is answered on the LOCK but not stored for later lockdiscovery.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "davhdr.h"
#include "fsx.h"
#include "precond.h"

#define XML_TYPE "application/xml; charset=utf-8"

/* "urn:uuid:" and a random UUID (RFC 9562 version 4): unguessable, unique without a registry. */
static int new_token(char out[DAV_INDEX_TOKEN_MAX + 1])
{
    static const char hex[] = "0123456789abcdef";
    uint8_t b[16];
    ssize_t n = getrandom(b, sizeof(b), 0);
    if (n < 0)
        return -errno;
    if ((size_t)n != sizeof(b))
        return -EIO;
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    char *p = out + sizeof("urn:uuid:") - 1;
    memcpy(out, "urn:uuid:", sizeof("urn:uuid:") - 1);
    for (size_t i = 0; i < sizeof(b); i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        *p++ = hex[b[i] >> 4];
        *p++ = hex[b[i] & 15];
    }
    *p = '\0';
    return 0;
}

/* Not there, through a file, or outside the root: dav.h's "answer these like -ENOENT". */
/*
 * Answer status with the lock's discovery (§9.10.1): timeout seconds left, the lock root's href
 * with a '/' for a folder. owner NULL: none.
 */
static int lock_answer(struct dav_env *env, const struct dav_req *req, struct dav_resp *resp,
                       int status, const struct dav_lock *lk, const struct dav_xml_value *owner)
{
    struct dav_entry *e = malloc(sizeof(*e));
    size_t cap = strlen(req->href_root) + strlen(lk->path) + 2;
    char *root = malloc(cap);
    int rc = (e && root) ? dav_resolve(env, req, lk->path, e) : -ENOMEM;
    if (rc == 0 || dav_is_absent(rc)) {
        bool is_dir = rc == 0 && e->is_dir && lk->path[0] != '\0';
        snprintf(root, cap, "%s%s%s", req->href_root, lk->path, is_dir ? "/" : "");
        int64_t left = lk->expires - req->now;
        struct dav_ms_lock l = {
            .exclusive = lk->scope == DAV_LOCK_EXCLUSIVE,
            .depth_infinity = lk->is_infinite,
            .owner = owner,
            .timeout = left > 0 ? (uint64_t)left : 0,
            .token = iov_make(lk->token, strlen(lk->token)),
            .root = iov_make(root, strlen(root)),
        };
        resp->status = status;
        resp->content_type = XML_TYPE;
        struct dav_ms ms;
        dav_ms_init(&ms, resp->write, resp->write_ctx);
        rc = dav_ms_lock_body(&ms, &l);
        /* -EINVAL is a bug of ours found before anything was written; a sink error comes after
         * the answer has started, and is the server's to see. */
        if (rc != -EINVAL)
            rc = 0;
    }
    free(root);
    free(e);
    return rc;
}

/* The empty resource of a LOCK on an unmapped URL (§9.10.4); -EEXIST when one appeared. */
static int create_empty(struct dav_env *env, const struct dav_req *req)
{
    char name[FSX_NAME_MAX + 1];
    int dir_fd = fsx_parent(req->root_fd, req->path, name);
    if (dir_fd < 0)
        return dir_fd;
    /* O_EXCL does not follow a symlink planted at the name: the file stays below dir_fd. */
    int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    int rc = fd < 0 ? -errno : 0;
    struct dav_stat st;
    if (rc == 0)
        rc = fsx_fstat(fd, &st);
    if (rc == 0)
        rc = dav_index_upsert(env->ix, req->user_id, req->path, &st, NULL);
    if (rc < 0 && rc != -EEXIST && fd >= 0)
        unlinkat(dir_fd, name, 0); /* best effort: the error is what the caller reports */
    if (fd >= 0)
        close(fd);
    close(dir_fd);
    return rc;
}

static int lock_new(struct dav_env *env, const struct dav_req *req, struct dav_resp *resp,
                    const struct dav_xml_lockinfo *li)
{
    enum dav_depth depth;
    /* §9.10.3: Depth 0 or infinity, infinity when absent. */
    if (dav_hdr_depth(req->http, DAV_DEPTH_INFINITY, &depth) < 0 || depth == DAV_DEPTH_1) {
        resp->status = 400;
        return 0;
    }
    if (li->has_owner && li->owner.xml.len > DAV_INDEX_OWNER_MAX) {
        resp->status = 400;
        return 0;
    }
    struct dav_entry *e = NULL;
    struct dav_if *h = NULL;
    struct dav_lock *lk = malloc(2 * sizeof(*lk)); /* the new lock, and one it conflicts with */
    int rc = lk ? dav_precond_if_read(req, &h) : -ENOMEM;
    if (rc == 0 && h)
        rc = dav_precond_if_eval(env, req, h);
    if (rc == 0) {
        e = malloc(sizeof(*e));
        rc = e ? dav_resolve(env, req, req->path, e) : -ENOMEM;
    }
    bool exists = rc == 0;
    if (rc == -ENOENT) {
        /* A name with a trailing '/' asks for a folder, which LOCK does not create. */
        rc = req->trailing_slash ? 409 : dav_precond_create(env, req, req->path, resp);
    } else if (rc == -ENOTDIR) {
        rc = 409;
    } else if (dav_is_absent(rc)) {
        rc = 404;
    }
    if (rc != 0)
        goto out;

    struct dav_lock *conflict = lk + 1;
    memset(lk, 0, sizeof(*lk));
    lk->user_id = req->user_id;
    memcpy(lk->path, req->path, strlen(req->path) + 1);
    lk->is_infinite = depth == DAV_DEPTH_INFINITY;
    lk->scope = li->exclusive ? DAV_LOCK_EXCLUSIVE : DAV_LOCK_SHARED;
    if (li->has_owner && li->owner.xml.len > 0)
        memcpy(lk->owner, li->owner.xml.base, li->owner.xml.len);
    lk->expires = req->now + dav_hdr_timeout(req->http, env->cfg->lock_timeout_default,
                                             env->cfg->lock_timeout_max);
    rc = new_token(lk->token);
    if (rc == 0)
        rc = dav_index_lock_create(env->ix, lk, req->now, conflict);
    if (rc == -EAGAIN) {
        int src = dav_resolve(env, req, conflict->path, e);
        (void)dav_error_body(resp, req, 423, "no-conflicting-lock", conflict->path,
                             src == 0 && e->is_dir);
        rc = 0;
        goto out;
    }
    int status = 200;
    if (rc == 0 && !exists) {
        rc = create_empty(env, req);
        if (rc == 0) {
            status = 201;
        } else if (rc == -EEXIST) {
            rc = 0; /* made by someone else meanwhile: the lock is on it now */
        } else {
            int rrc = dav_index_lock_remove(env->ix, req->user_id, lk->token, req->now);
            if (rrc < 0 && rrc != -ENOENT)
                rc = rrc;
            else if (dav_is_absent(rc))
                rc = 409; /* the folder went away meanwhile */
        }
    }
    if (rc == 0)
        rc = dav_resp_header(resp, "Lock-Token", "<%s>", lk->token);
    if (rc == 0)
        rc = lock_answer(env, req, resp, status, lk, li->has_owner ? &li->owner : NULL);
out:
    if (rc > 0) {
        resp->status = rc;
        rc = 0;
    }
    free(lk);
    free(h);
    free(e);
    return rc;
}

/* §9.10.2: the first lock token of the If header that is this user's and covers the URL. */
static int lock_refresh(struct dav_env *env, const struct dav_req *req, struct dav_resp *resp)
{
    struct dav_if *h = NULL;
    struct dav_entry *e = NULL;
    struct dav_lock *lk = malloc(sizeof(*lk));
    int rc = lk ? dav_precond_if_read(req, &h) : -ENOMEM;
    if (rc == 0 && !h)
        rc = 400; /* neither a lockinfo nor a lock to refresh */
    if (rc == 0)
        rc = dav_precond_if_eval(env, req, h);
    if (rc == 0) {
        /* A resource gone from the disk takes its locks along. */
        e = malloc(sizeof(*e));
        rc = e ? dav_resolve(env, req, req->path, e) : -ENOMEM;
        if (dav_is_absent(rc))
            rc = 0;
    }
    bool found = false;
    size_t pos = 0;
    struct iov token;
    const char *resource;
    while (rc == 0 && !found && dav_if_token_next(h, &pos, &token, &resource)) {
        if (token.len > DAV_INDEX_TOKEN_MAX)
            continue;
        memcpy(lk->token, token.base, token.len);
        lk->token[token.len] = '\0';
        rc = dav_index_lock_get(env->ix, lk->token, req->now, lk);
        if (rc == -ENOENT) {
            rc = 0;
            continue;
        }
        found = rc == 0 && lk->user_id == req->user_id && dav_lock_covers(lk, req->path);
    }
    if (rc == 0 && !found)
        rc = 412;
    if (rc == 0) {
        int64_t expires = req->now + dav_hdr_timeout(req->http, env->cfg->lock_timeout_default,
                                                      env->cfg->lock_timeout_max);
        rc = dav_index_lock_refresh(env->ix, req->user_id, lk->token, expires, req->now, lk);
        if (rc == -ENOENT)
            rc = 412;
    }
    if (rc == 0) {
        struct dav_xml_value owner = {.xml = iov_make(lk->owner, strlen(lk->owner))};
        rc = lock_answer(env, req, resp, 200, lk, lk->owner[0] ? &owner : NULL);
    }
    if (rc > 0) {
        resp->status = rc;
        rc = 0;
    }
    free(lk);
    free(e);
    free(h);
    return rc;
}

int dav_lock(struct dav_env *env, const struct dav_req *req, struct dav_resp *resp)
{
    struct dav_xml_lockinfo li;
    int rc = dav_xml_lockinfo_parse(&li, req->body, req->body_len);
    if (rc == 0) {
        rc = lock_new(env, req, resp, &li);
    } else if (rc == -ENODATA) {
        rc = lock_refresh(env, req, resp);
    } else if (rc == -EMSGSIZE) {
        resp->status = 413;
        rc = 0;
    } else if (rc != -ENOMEM) {
        resp->status = 400;
        rc = 0;
    }
    dav_xml_lockinfo_release(&li);
    return rc;
}

int dav_unlock(struct dav_env *env, const struct dav_req *req, struct dav_resp *resp)
{
    struct iov token;
    if (dav_hdr_lock_token(req->http, &token) < 0) {
        resp->status = 400;
        return 0;
    }
    struct dav_entry *e = malloc(sizeof(*e));
    struct dav_lock *lk = malloc(sizeof(*lk));
    int rc = (e && lk) ? 0 : -ENOMEM;
    if (rc == 0) {
        /* A resource gone from the disk takes its locks along. */
        rc = dav_resolve(env, req, req->path, e);
        if (dav_is_absent(rc))
            rc = 0;
    }
    bool matches = false;
    if (rc == 0 && token.len <= DAV_INDEX_TOKEN_MAX) {
        memcpy(lk->token, token.base, token.len);
        lk->token[token.len] = '\0';
        rc = dav_index_lock_get(env->ix, lk->token, req->now, lk);
        matches = rc == 0 && lk->user_id == req->user_id && dav_lock_covers(lk, req->path);
        if (rc == -ENOENT)
            rc = 0;
    }
    if (rc == 0 && matches) {
        rc = dav_index_lock_remove(env->ix, req->user_id, lk->token, req->now);
        if (rc == 0) {
            resp->status = 204;
        } else if (rc == -ENOENT) {
            matches = false; /* expired or removed meanwhile */
            rc = 0;
        }
    }
    /* §9.11.1: the token must name a lock whose scope holds the request-URI. */
    if (rc == 0 && !matches) /* a sink error comes after the answer started: the server's */
        (void)dav_error_body(resp, req, 409, "lock-token-matches-request-uri", NULL, false);
    free(lk);
    free(e);
    return rc;
}
