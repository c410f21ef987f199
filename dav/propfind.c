/* SPDX-License-Identifier: MIT */
/*
 * PROPFIND (RFC 4918 §9.1): the 207 is written through the response sink while the index
 * streams its entries, so a listing of any size costs what one entry costs. With
 * resp->piece_max the listing stops after the entry that fills a piece and resumes, on the
 * next call, from the first member after that entry's name (Depth 1) or path (infinity): each
 * piece reads the index afresh, so a listing that spans a change shows each entry once, as it
 * was when its piece was made. Live properties come from liveprop.c, dead ones from the index.
 *
 * Depth 1 first reconciles the folder with the disk, unless a watcher keeps the index in line
 * (dav_env.tree_watched): one readdir, compared in memory with the
 * index's list of members, and dav_index_sync only for the names that differ (new on disk,
 * gone, or changed by type, inode, size or mtime), so an unchanged folder of any size costs
 * one directory read, one stat per name and one index query; the folder's names are held in
 * memory meanwhile (a name and some 40 bytes each). Names that are not valid index
 * paths are left out. Depth infinity only resolves the folder itself: reconciling every folder
 * of a tree would cost a readdir per folder for a request that is already refused past
 * cfg->depth_infinity_max entries; what the disk changed below it shows once a Depth 0/1
 * request or a method touches it.
 *
 * Known gaps: a folder filled behind the index's back costs one index transaction per new
 * member on its first listing (the index has no batch sync: ~0.2 s for 1,000 files here, then
 * ~4 ms per listing); a name asked for twice in <prop> is answered twice; an index failure after the
 * body began ends the body where it was (logged), as the status line is already out.
 */
#include "dav.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "davhdr.h"
#include "fsx.h"
#include "liveprop.h"
#include "log.h"

#define XML_TYPE "application/xml; charset=utf-8"

/* entry_cb: a piece is full, the listing goes on in the next call */
#define PF_PAUSE 1

/* A listing under way; kept between pieces in dav_resp.cont. */
struct pf {
    struct dav_env *env; /* env, req and resp are the current call's */
    const struct dav_req *req;
    struct dav_resp *resp;
    struct dav_xml_propfind q;
    enum dav_depth depth;
    bool pausable;      /* the entries come from the index's list or walk (not the target) */
    struct dav_index_props *props; /* in a Depth 1 listing: the current member's properties */
    size_t piece_bytes; /* written in this call */
    char last[DAV_INDEX_PATH_MAX + 1]; /* the path of the last entry written */
    struct dav_ms ms;
    struct dav_live_ctx live;
    bool *found;     /* per name of q: answered in the 200 group */
    int *live_of;    /* per name of q: its live property id, -1 for a dead one */
    bool ok_open;    /* the 200 propstat of the current response is open */
    bool wants_dead; /* allprop, propname, or a name that is not live: dead ones are read */
    bool self_changed; /* resolving the target changed its row: read the folder from disk */
    int64_t cur_id;  /* the entry being written */
    char href[DAV_INDEX_PATH_MAX + 512];
};

/* ---- writing one response ---- */

static int ok_group(struct pf *pf)
{
    if (pf->ok_open)
        return 0;
    pf->ok_open = true;
    return dav_ms_propstat_begin(&pf->ms, 200);
}

/* A property the writer refuses (-EINVAL: a stored name XML cannot carry) is left out. */
static int skip_invalid(int rc)
{
    return rc == -EINVAL ? 0 : rc;
}

static bool name_eq(const struct dav_xml_name *n, const char *ns, const char *local)
{
    return iov_eq(n->ns, iov_make(ns, strlen(ns))) &&
           iov_eq(n->local, iov_make(local, strlen(local)));
}

static int dead_cb(void *ctx, const char *ns, const char *name, const char *value,
                   size_t value_len)
{
    struct pf *pf = ctx;
    bool wanted = pf->q.kind != DAV_XML_PROP;
    for (size_t i = 0; i < pf->q.n_names; i++) {
        if (name_eq(&pf->q.names[i], ns, name)) {
            pf->found[i] = true;
            wanted = true;
        }
    }
    if (!wanted)
        return 0;
    struct dav_xml_name xn = {iov_make(ns, strlen(ns)), iov_make(name, strlen(name))};
    int rc = ok_group(pf);
    if (rc)
        return rc;
    if (pf->q.kind == DAV_XML_PROPNAME)
        return skip_invalid(dav_ms_prop_empty(&pf->ms, &xn));
    struct dav_xml_value v;
    if (dav_prop_value_decode(value, value_len, &v) < 0) {
        /* One damaged value should not cost the client the whole listing. */
        log_warn("propfind file_id=%lld prop=%s: stored value unreadable", (long long)pf->cur_id,
                 name);
        return 0;
    }
    return skip_invalid(dav_ms_prop_xml(&pf->ms, &xn, &v));
}

/* The live properties: every one that applies (allprop, propname) or those named. */
static int live_props(struct pf *pf, const struct dav_entry *e)
{
    enum dav_xml_propfind_kind kind = pf->q.kind;
    for (int id = 0; id < DAV_LIVE_COUNT; id++) {
        if (!dav_liveprop_applies(id, e))
            continue;
        bool wanted = kind == DAV_XML_PROPNAME || (kind == DAV_XML_ALLPROP &&
                                                   dav_liveprops[id].in_allprop);
        for (size_t i = 0; i < pf->q.n_names; i++) {
            if (pf->live_of[i] == id) {
                pf->found[i] = true;
                wanted = true;
            }
        }
        if (!wanted)
            continue;
        int rc = ok_group(pf);
        if (rc)
            return rc;
        if (kind == DAV_XML_PROPNAME)
            rc = dav_ms_prop_empty(&pf->ms, &dav_liveprops[id].name);
        else
            rc = dav_live_write(&pf->live, &pf->ms, id, e);
        if (rc)
            return rc;
    }
    return 0;
}

/* §9.1: names asked for that the resource does not have, in one 404 group. */
static int missing_props(struct pf *pf)
{
    bool open = false;
    for (size_t i = 0; i < pf->q.n_names; i++) {
        if (pf->found[i])
            continue;
        int rc = 0;
        if (!open) {
            open = true;
            rc = dav_ms_propstat_begin(&pf->ms, 404);
        }
        if (!rc)
            rc = skip_invalid(dav_ms_prop_empty(&pf->ms, &pf->q.names[i]));
        if (rc)
            return rc;
    }
    return open ? dav_ms_propstat_end(&pf->ms) : pf->ms.err;
}

static int entry_cb(void *ctx, const struct dav_entry *e)
{
    struct pf *pf = ctx;
    if (pf->ms.state == DAV_MS_START) {
        pf->resp->status = 207;
        pf->resp->content_type = XML_TYPE;
        dav_ms_begin(&pf->ms);
    }
    int n = dav_href_of(pf->href, sizeof(pf->href), pf->req->href_root, e->path, e->is_dir);
    if (n < 0)
        return n;
    dav_ms_response_begin(&pf->ms, iov_make(pf->href, (size_t)n));
    if (pf->q.n_names)
        memset(pf->found, 0, pf->q.n_names * sizeof(*pf->found));
    pf->ok_open = false;
    pf->cur_id = e->id;
    int rc = live_props(pf, e);
    if (rc)
        return rc;
    bool names_only = pf->q.kind == DAV_XML_PROPNAME;
    if (pf->props)
        rc = dav_index_props_each(pf->props, !names_only, dead_cb, pf);
    else if (names_only)
        rc = dav_index_prop_names(pf->env->ix, e->id, dead_cb, pf);
    else if (pf->wants_dead)
        rc = dav_index_prop_list(pf->env->ix, e->id, dead_cb, pf);
    if (rc)
        return rc;
    if (pf->ok_open)
        dav_ms_propstat_end(&pf->ms);
    rc = missing_props(pf);
    if (rc)
        return rc;
    /* A response needs a propstat: a resource with nothing to show still says so. */
    if (!pf->ok_open && pf->ms.state == DAV_MS_RESPONSE) {
        dav_ms_propstat_begin(&pf->ms, 200);
        dav_ms_propstat_end(&pf->ms);
    }
    rc = dav_ms_response_end(&pf->ms);
    if (rc == 0 && pf->pausable && pf->resp->piece_max &&
        pf->piece_bytes >= pf->resp->piece_max) {
        memcpy(pf->last, e->path, strlen(e->path) + 1);
        return PF_PAUSE;
    }
    return rc;
}

/* The writer's sink: counts the piece, then the caller's sink. */
static int pf_write(void *ctx, const void *p, size_t n)
{
    struct pf *pf = ctx;
    pf->piece_bytes += n;
    return pf->resp->write(pf->resp->write_ctx, p, n);
}

/* ---- Depth 1: the folder against the disk ---- */

struct disk_entry {
    size_t name_off; /* into names; a pointer once reading is done */
    const char *name;
    struct dav_stat st;
    bool is_listed; /* the index has a row for it */
};

struct recon {
    struct dav_env *env;
    const struct dav_req *req;
    const char *path;
    struct disk_entry *disk;
    size_t n_disk, cap_disk;
    char *names;
    size_t names_len, names_cap;
    char **gone; /* index rows without a file */
    size_t n_gone, cap_gone;
    char child[DAV_INDEX_PATH_MAX + 1];
};

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t cap2 = *cap ? *cap : 64;
    while (cap2 < need)
        cap2 *= 2;
    void *q = realloc(*p, cap2 * size);
    if (!q)
        return -ENOMEM;
    *p = q;
    *cap = cap2;
    return 0;
}

/* The index path of name in the folder, or NULL when it would not be a valid one. */
static const char *child_path(struct recon *r, const char *name)
{
    int n = snprintf(r->child, sizeof(r->child), "%s%s%s", r->path, r->path[0] ? "/" : "", name);
    if (n < 0 || (size_t)n >= sizeof(r->child))
        return NULL;
    return dav_index_path_valid(r->child) ? r->child : NULL;
}

/* stat by name through the folder (no symlink followed); symlinks through the confined path. */
static int stat_member(struct recon *r, int dir_fd, const char *name, const char *path,
                       struct dav_stat *st)
{
    int rc = fsx_statat(dir_fd, name, AT_SYMLINK_NOFOLLOW, st);
    return rc == -ELOOP ? fsx_stat(r->req->root_fd, path, st) : rc;
}

static int read_disk(struct recon *r, DIR *d)
{
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de)
            return errno ? -errno : 0;
        const char *name = de->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
            continue;
        const char *path = child_path(r, name);
        if (!path)
            continue;
        struct dav_stat st;
        int rc = stat_member(r, dirfd(d), name, path, &st);
        /* Gone since readdir, or a symlink out of the tree: not a member we can serve. */
        if (dav_is_absent(rc))
            continue;
        if (rc)
            return rc;
        size_t len = strlen(name) + 1;
        rc = grow((void **)&r->names, &r->names_cap, r->names_len + len, 1);
        if (!rc)
            rc = grow((void **)&r->disk, &r->cap_disk, r->n_disk + 1, sizeof(*r->disk));
        if (rc)
            return rc;
        memcpy(r->names + r->names_len, name, len);
        r->disk[r->n_disk++] = (struct disk_entry){.name_off = r->names_len, .st = st};
        r->names_len += len;
    }
}

static int disk_cmp(const void *a, const void *b)
{
    const struct disk_entry *x = a, *y = b;
    return strcmp(x->name, y->name);
}

static int listed_cb(void *ctx, const struct dav_entry *e)
{
    struct recon *r = ctx;
    struct disk_entry key = {.name = e->name};
    /* An emptied folder has no array at all (bsearch may not take NULL, even for 0 items). */
    struct disk_entry *de =
        r->n_disk ? bsearch(&key, r->disk, r->n_disk, sizeof(*r->disk), disk_cmp) : NULL;
    if (de) {
        /* Unchanged: nothing to write. Changed: left unmarked, synced below. */
        de->is_listed = !dav_index_stat_differs(e, &de->st);
        return 0;
    }
    int rc = grow((void **)&r->gone, &r->cap_gone, r->n_gone + 1, sizeof(*r->gone));
    if (rc)
        return rc;
    r->gone[r->n_gone] = strdup(e->name);
    return r->gone[r->n_gone++] ? 0 : -ENOMEM;
}

static int sync_diff(struct recon *r)
{
    for (size_t i = 0; i < r->n_disk; i++) {
        if (r->disk[i].is_listed)
            continue;
        int rc = dav_index_sync(r->env->ix, r->req->user_id, child_path(r, r->disk[i].name),
                                &r->disk[i].st, NULL, NULL);
        if (rc)
            return rc;
    }
    for (size_t i = 0; i < r->n_gone; i++) {
        const char *path = child_path(r, r->gone[i]);
        int rc = path ? dav_index_sync(r->env->ix, r->req->user_id, path, NULL, NULL, NULL)
                      : -EINVAL;
        if (rc && rc != -ENOENT)
            return rc;
    }
    return 0;
}

static int reconcile(struct dav_env *env, const struct dav_req *req, DIR *d)
{
    struct recon r = {.env = env, .req = req, .path = req->path};
    int rc = read_disk(&r, d);
    if (rc)
        goto out;
    for (size_t i = 0; i < r.n_disk; i++)
        r.disk[i].name = r.names + r.disk[i].name_off;
    if (r.n_disk)
        qsort(r.disk, r.n_disk, sizeof(*r.disk), disk_cmp);
    rc = dav_index_list(env->ix, req->user_id, req->path, listed_cb, &r);
    if (!rc)
        rc = sync_diff(&r);
out:
    for (size_t i = 0; i < r.n_gone; i++)
        free(r.gone[i]);
    free(r.gone);
    free(r.disk);
    free(r.names);
    return rc;
}

/* ---- the method ---- */

static int member_cb(void *ctx, const struct dav_entry *e, struct dav_index_props *props)
{
    struct pf *pf = ctx;
    pf->props = props;
    int rc = entry_cb(pf, e);
    pf->props = NULL;
    return rc;
}

/* The members of the folder after name after (Depth 1), their dead properties read in the
 * same query when the answer shows any. */
static int list_members(struct pf *pf, const char *after)
{
    const struct dav_req *req = pf->req;
    struct dav_index *ix = pf->env->ix;
    pf->pausable = true;
    if (pf->wants_dead)
        return dav_index_list_props(ix, req->user_id, req->path, after, member_cb, pf);
    return dav_index_list_after(ix, req->user_id, req->path, after, entry_cb, pf);
}

static int finite_depth(struct dav_resp *resp)
{
    static const char body[] = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
                               "<D:error xmlns:D=\"DAV:\"><D:propfind-finite-depth/></D:error>";
    resp->status = 403;
    resp->content_type = XML_TYPE;
    return resp->write(resp->write_ctx, body, sizeof(body) - 1);
}

static int list(struct pf *pf, struct dav_entry *self)
{
    struct dav_env *env = pf->env;
    const struct dav_req *req = pf->req;
    if (pf->depth == DAV_DEPTH_INFINITY) {
        pf->pausable = true;
        int rc = dav_index_walk(env->ix, req->user_id, req->path, env->cfg->depth_infinity_max,
                                entry_cb, pf);
        return rc == -E2BIG && pf->ms.state == DAV_MS_START ? finite_depth(pf->resp) : rc;
    }
    if (pf->depth == DAV_DEPTH_0)
        return entry_cb(pf, self);
    int fd = fsx_open(req->root_fd, req->path, O_RDONLY | O_DIRECTORY, 0);
    if (fd < 0)
        return fd;
    DIR *d = fdopendir(fd);
    if (!d) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    /* With a watcher keeping the index in line, the members need not be read here, unless
     * the folder's own mtime moved (a member added, removed or renamed) and the watcher may
     * not have caught up yet: the listing then comes from the disk, as without a watcher. */
    int rc = 0;
    if (pf->self_changed || !env->tree_watched || !atomic_load(env->tree_watched)) {
        rc = reconcile(env, req, d);
        /* Members changed the folder's ETag: show the row as it is now. */
        if (!rc)
            rc = dav_index_lookup(env->ix, req->user_id, req->path, self);
    }
    if (!rc)
        rc = entry_cb(pf, self);
    if (!rc)
        rc = list_members(pf, "");
    closedir(d);
    return rc;
}

/* The next piece of a listing that paused. */
static int resume(struct pf *pf)
{
    const struct dav_req *req = pf->req;
    if (pf->depth == DAV_DEPTH_INFINITY)
        return dav_index_walk_after(pf->env->ix, req->user_id, req->path, pf->last, entry_cb,
                                    pf);
    const char *slash = strrchr(pf->last, '/');
    return list_members(pf, slash ? slash + 1 : pf->last);
}

static void pf_free(void *cont)
{
    struct pf *pf = cont;
    dav_live_release(&pf->live);
    dav_xml_propfind_release(&pf->q);
    free(pf->live_of);
    free(pf->found);
    free(pf);
}

/* After a call's listing ended with rc: pause, finish the document, or report the failure. */
static int pf_after(struct pf *pf, int rc)
{
    struct dav_resp *resp = pf->resp;
    if (rc == PF_PAUSE) {
        resp->more = true;
        resp->cont = pf;
        resp->cont_free = pf_free;
        return 0;
    }
    resp->more = false;
    resp->cont = NULL;
    if (rc == 0 && pf->ms.state == DAV_MS_DOC)
        rc = dav_ms_end(&pf->ms);
    /* Past the status line a failure cannot be answered any more: the caller cuts the body
     * off, so that the client sees it incomplete rather than a short listing. */
    if (rc && pf->ms.state != DAV_MS_START)
        log_warn("propfind path=%s err=%d: body cut short", pf->req->path, rc);
    pf_free(pf);
    return rc;
}

int dav_propfind(struct dav_env *env, const struct dav_req *req, struct dav_resp *resp)
{
    struct pf *pf = resp->cont;
    if (pf) {
        /* A later piece: this call's thread, index handle and request copy. */
        pf->env = env;
        pf->req = req;
        pf->resp = resp;
        pf->piece_bytes = 0;
        pf->live.env = env;
        pf->live.req = req;
        return pf_after(pf, resume(pf));
    }
    enum dav_depth depth;
    if (dav_hdr_depth(req->http, DAV_DEPTH_INFINITY, &depth) < 0)
        return dav_resp_text(resp, 400, "bad Depth header\n");
    pf = calloc(1, sizeof(*pf));
    if (!pf)
        return -ENOMEM;
    struct dav_xml_propfind *q = &pf->q;
    int rc = dav_xml_propfind_parse(q, req->body, req->body_len);
    if (rc == -EMSGSIZE) {
        rc = dav_resp_text(resp, 413, "request body too large\n");
        goto out;
    }
    if (rc == -EBADMSG || rc == -E2BIG || rc == -EPROTO) {
        rc = dav_resp_text(resp, 400, "bad PROPFIND body\n");
        goto out;
    }
    if (rc)
        goto out;
    struct dav_entry self;
    bool self_changed = false;
    rc = dav_resolve_changed(env, req, req->path, &self, &self_changed);
    if (dav_is_absent(rc)) {
        rc = dav_resp_text(resp, 404, "not found\n");
        goto out;
    }
    if (rc)
        goto out;
    pf->found = q->n_names ? calloc(q->n_names, sizeof(*pf->found)) : NULL;
    pf->live_of = q->n_names ? calloc(q->n_names, sizeof(*pf->live_of)) : NULL;
    if (q->n_names && (!pf->found || !pf->live_of)) {
        rc = -ENOMEM;
        goto out;
    }
    pf->env = env;
    pf->req = req;
    pf->resp = resp;
    pf->self_changed = self_changed;
    /* §9.1: Depth is about a collection's members; a file is its own whole answer. */
    pf->depth = self.is_dir ? depth : DAV_DEPTH_0;
    /* A client asking for live properties only (the common sync listing) costs no query. */
    pf->wants_dead = q->kind != DAV_XML_PROP;
    for (size_t i = 0; i < q->n_names; i++) {
        pf->live_of[i] = dav_liveprop_find(&q->names[i]);
        pf->wants_dead |= pf->live_of[i] < 0;
    }
    dav_ms_init(&pf->ms, pf_write, pf);
    dav_live_init(&pf->live, env, req);
    /* A listing where no lock is in play (the usual case) asks the index about locks once. */
    if (pf->depth != DAV_DEPTH_0)
        rc = dav_live_scope(&pf->live, req->path);
    if (rc == 0)
        rc = list(pf, &self);
    return pf_after(pf, rc);
out:
    pf_free(pf);
    return rc;
}
