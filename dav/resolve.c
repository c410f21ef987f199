/* SPDX-License-Identifier: MIT */
/* Bringing the index in line with the disk before a method relies on it (dav_resolve). */
#include <errno.h>

#include "dav.h"
#include "fsx.h"

int dav_resolve(struct dav_env *env, const struct dav_req *req, const char *path,
                struct dav_entry *e)
{
    return dav_resolve_changed(env, req, path, e, NULL);
}

int dav_resolve_changed(struct dav_env *env, const struct dav_req *req, const char *path,
                        struct dav_entry *e, bool *changed)
{
    struct dav_stat st;
    int rc = fsx_stat(req->root_fd, path, &st);
    if (rc < 0 && rc != -ENOENT && rc != -ENOTDIR)
        return rc;
    /* Gone from the disk: gone from the index too (with its properties and locks' rows). */
    int src = dav_index_sync(env->ix, req->user_id, path, rc == 0 ? &st : NULL, changed, e);
    if (rc < 0)
        return (src < 0 && src != -ENOENT) ? src : rc;
    return src;
}
