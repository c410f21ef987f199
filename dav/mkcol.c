/* SPDX-License-Identifier: MIT */
/*
 * MKCOL (RFC 4918 §9.3): one new, empty folder.
 *
 * Known gaps: extended MKCOL (RFC 5689, a body that sets properties) is refused with 415, as
 * §9.3 allows for any body the server does not understand.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dav.h"
#include "fsx.h"
#include "precond.h"
#include "tree.h"

/* What mkdirat's or the lookup's failure answers; 0 for an internal failure (500). */
static int mkcol_status(int err)
{
    switch (err) {
    case -EEXIST:
        return 405; /* §9.3.1: MKCOL on a mapped URL */
    case -ENOENT:
    case -ENOTDIR:
    case -EXDEV:
    case -ELOOP:
        return 409; /* §9.3.1: the parent collection is missing */
    default: {
        int status = dav_tree_status(err);
        return status == 500 ? 0 : status;
    }
    }
}

int dav_mkcol(struct dav_env *env, const struct dav_req *req, struct dav_resp *resp)
{
    char name[FSX_NAME_MAX + 1];
    struct dav_entry e;
    struct dav_stat st;

    if (req->body_len > 0)
        return dav_resp_status(resp, 415); /* §9.3: a body we do not understand */
    int rc = dav_resolve(env, req, req->path, &e);
    if (rc == 0)
        return dav_resp_status(resp, 405);
    if (rc == -ENOTDIR)
        return dav_resp_status(resp, 409);
    /* -EXDEV, -ELOOP: a link out of the root is in the way, which mkdirat will say (405). */
    if (rc != -ENOENT && rc != -EXDEV && rc != -ELOOP)
        return mkcol_status(rc) ? dav_resp_status(resp, mkcol_status(rc)) : rc;
    int dir = fsx_parent(req->root_fd, req->path, name);
    if (dir < 0)
        return mkcol_status(dir) ? dav_resp_status(resp, mkcol_status(dir)) : dir;
    rc = dav_precond_create(env, req, req->path, resp);
    if (rc == 0 && mkdirat(dir, name, 0755) < 0)
        rc = -errno;
    if (rc == 0)
        rc = dav_tree_fsync_dir(dir);
    close(dir);
    if (rc > 0)
        return dav_resp_status(resp, rc);
    if (rc < 0)
        return mkcol_status(rc) ? dav_resp_status(resp, mkcol_status(rc)) : rc;
    rc = fsx_stat(req->root_fd, req->path, &st);
    if (rc == 0)
        rc = dav_index_upsert(env->ix, req->user_id, req->path, &st, NULL);
    return rc ? rc : dav_resp_status(resp, 201);
}
