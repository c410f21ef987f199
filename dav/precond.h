/* SPDX-License-Identifier: MIT */
/*
 * Private to dav/: the pieces of dav_precond (precond.c) that LOCK, UNLOCK and PUT use on their
 * own — reading and judging the If header without the lock-token check (a new LOCK must not
 * submit the tokens of the locks it would share with), the scope of a lock, and the <D:error>
 * bodies of RFC 4918 §16.
 */
#ifndef DAV_PRECOND_H
#define DAV_PRECOND_H

#include <stdbool.h>

#include "dav.h"
#include "ifheader.h"

/** Is path in lk's scope: lk is rooted at path, or is depth infinity on an ancestor? */
bool dav_lock_covers(const struct dav_lock *lk, const char *path);

/**
 * Parse the If header of req into *h (heap, free() it; NULL when the request has none).
 * Returns 0, 400 (repeated or malformed: *h is NULL) or -ENOMEM.
 */
int dav_precond_if_read(const struct dav_req *req, struct dav_if **h);

/**
 * Evaluate h (not NULL) for the request: ETags from the index, state tokens as this user's live
 * locks whose scope covers the resource. Returns 0 (true), 412 (false) or a negative errno.
 */
int dav_precond_if_eval(struct dav_env *env, const struct dav_req *req, const struct dav_if *h);

/**
 * dav_precond for creating path, which also changes its parent folder's membership: the locks
 * that cover the parent (a depth-0 lock on it included, RFC 4918 §7.4) must be submitted too.
 * Returns as dav_precond.
 */
int dav_precond_create(struct dav_env *env, const struct dav_req *req, const char *path,
                       struct dav_resp *resp);

/**
 * Answer status with the body <D:error><D:cond/></D:error> (§16), or with
 * <D:cond><D:href>…</D:href></D:cond> inside when path is not NULL: href_root + path,
 * percent-encoded, with a '/' for a folder. Returns 0 or the sink's error.
 */
int dav_error_body(struct dav_resp *resp, const struct dav_req *req, int status, const char *cond,
                   const char *path, bool is_dir);

#endif
