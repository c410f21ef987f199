/* SPDX-License-Identifier: MIT */
/*
 * The checks before a write (dav_precond, RFC 4918 §10.4, §7, §6): the If header is true, and
 * every lock that covers what the write changes has been submitted.
 *
 * Submission (§7.5, §6.1): writing a resource inside a lock's scope needs that lock's token in
 * the If header. Shared locks are several principals' locks on the same resources, any of whom
 * may write: a shared lock also counts as submitted when another shared lock whose token is in
 * the header covers every resource of it that the write touches (litmus "locks": with a shared
 * lock held twice, one token is enough). An exclusive lock has nothing beside it, so its own
 * token is the only way. The check is per lock, not per resource: the union of several shared
 * locks that together cover a lock's part of the write does not count (stricter than needed,
 * never looser).
 *
 * Untagged lists of the If header apply to the request-URI (§10.4.1), also when a method checks
 * another path (a MOVE's destination).
 */
#include "precond.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>


bool dav_lock_covers(const struct dav_lock *lk, const char *path)
{
    size_t n = strlen(lk->path);
    if (strncmp(lk->path, path, n) != 0)
        return false;
    if (path[n] == '\0')
        return true;
    /* Below the root: the root is "" (everything is below it), or the next byte starts a
     * segment ("a" does not cover "ab"). */
    return lk->is_infinite && (n == 0 || path[n] == '/');
}

int dav_precond_if_read(const struct dav_req *req, struct dav_if **h)
{
    *h = NULL;
    const struct iov *value = NULL;
    for (size_t i = 0; i < req->http->n_headers; i++) {
        if (!iov_eq_nocase(req->http->headers[i].name, "If"))
            continue;
        /* RFC 4918 §10.4.2 defines If as one field: a second one is not a list to merge. */
        if (value)
            return 400;
        value = &req->http->headers[i].value;
    }
    if (!value)
        return 0;
    /* Some 16 KiB: kept off the work thread's stack. */
    struct dav_if *p = malloc(sizeof(*p));
    if (!p)
        return -ENOMEM;
    if (dav_if_parse(p, *value) < 0) {
        free(p);
        return 400;
    }
    *h = p;
    return 0;
}

/* A lock token from the header as a string for the index; false when too long to be one. */
static bool token_str(struct iov token, char out[DAV_INDEX_TOKEN_MAX + 1])
{
    if (token.len == 0 || token.len > DAV_INDEX_TOKEN_MAX)
        return false;
    memcpy(out, token.base, token.len);
    out[token.len] = '\0';
    return true;
}

/* This user's live lock with token, or -ENOENT. */
static int user_lock(struct dav_env *env, const struct dav_req *req, struct iov token,
                     struct dav_lock *lk)
{
    char t[DAV_INDEX_TOKEN_MAX + 1];
    if (!token_str(token, t))
        return -ENOENT;
    int rc = dav_index_lock_get(env->ix, t, req->now, lk);
    if (rc == 0 && lk->user_id != req->user_id)
        rc = -ENOENT;
    return rc;
}

struct eval_ctx {
    struct dav_env *env;
    const struct dav_req *req;
    struct dav_entry e;
    struct dav_lock lk;
    char request_path[2 * PATH_MAX];
};

/*
 * The If header names resources by URL (dav_if normalises the path of "/dav/a" to "dav/a"):
 * the path below the user's root, or NULL for a URL outside it, which names nothing of ours.
 */
static const char *below_root(const struct dav_req *req, const char *url_path)
{
    const char *root = req->href_root + 1; /* "dav/" of "/dav/" */
    size_t n = strlen(root);
    if (n == 0)
        return url_path;
    if (strncmp(url_path, root, n - 1) != 0)
        return NULL;
    if (url_path[n - 1] == '\0')
        return url_path + n - 1; /* "dav": the root itself */
    return url_path[n - 1] == '/' ? url_path + n : NULL;
}

static int eval_etag(void *ctx, const char *url_path, struct iov *etag)
{
    struct eval_ctx *c = ctx;
    *etag = iov_make(NULL, 0);
    const char *path = below_root(c->req, url_path);
    if (!path)
        return 0;
    int rc = dav_resolve(c->env, c->req, path, &c->e);
    switch (rc) {
    case 0:
        *etag = iov_make(c->e.etag, strlen(c->e.etag));
        return 0;
    case -ENOENT:
    case -ENOTDIR:
    case -EXDEV:
    case -ELOOP:
    case -ENAMETOOLONG:
    case -EINVAL:
        return 0; /* unmapped: no entity-tag */
    default:
        return rc;
    }
}

static int eval_lock(void *ctx, const char *url_path, struct iov token)
{
    struct eval_ctx *c = ctx;
    const char *path = below_root(c->req, url_path);
    if (!path)
        return 0;
    int rc = user_lock(c->env, c->req, token, &c->lk);
    if (rc == -ENOENT)
        return 0;
    if (rc < 0)
        return rc;
    return dav_lock_covers(&c->lk, path);
}

int dav_precond_if_eval(struct dav_env *env, const struct dav_req *req, const struct dav_if *h)
{
    static const struct dav_if_ops ops = {.etag = eval_etag, .lock_covers = eval_lock};
    struct eval_ctx *c = malloc(sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->env = env;
    c->req = req;
    /* Untagged lists apply to the request-URI: in the URL form, like the tags. */
    size_t n = strlen(req->href_root + 1);
    if (n + strlen(req->path) >= sizeof(c->request_path)) {
        free(c);
        return -ENAMETOOLONG;
    }
    memcpy(c->request_path, req->href_root + 1, n);
    if (n > 0 && req->path[0] == '\0')
        n--; /* the root is "dav", without the '/' */
    strcpy(c->request_path + n, req->path);
    bool ok = false;
    int rc = dav_if_eval(h, c->request_path, &ops, c, &ok);
    free(c);
    if (rc < 0)
        return rc;
    return ok ? 0 : 412;
}

/* Is path strictly below root? */
static bool is_below(const char *root, const char *path)
{
    size_t n = strlen(root);
    if (n == 0)
        return path[0] != '\0';
    return strncmp(root, path, n) == 0 && path[n] == '/';
}

struct submit_ctx {
    struct dav_env *env;
    const struct dav_req *req;
    const struct dav_if *h;
    const char *path;
    bool with_descendants;
    struct dav_lock other;
    char missing[DAV_INDEX_PATH_MAX + 1]; /* root of the first lock not submitted */
};

/*
 * Does another submitted shared lock cover lk's part of the write: the top of that part (lk's
 * root when it lies below path, else path) and, when the part is a subtree, all of it?
 */
static int shared_stands_in(struct submit_ctx *c, const struct dav_lock *lk)
{
    bool root_below = is_below(c->path, lk->path);
    const char *top = root_below ? lk->path : c->path;
    bool is_subtree = lk->is_infinite && (root_below || c->with_descendants);
    size_t pos = 0;
    struct iov token;
    const char *resource;
    while (dav_if_token_next(c->h, &pos, &token, &resource)) {
        int rc = user_lock(c->env, c->req, token, &c->other);
        if (rc == -ENOENT)
            continue;
        if (rc < 0)
            return rc;
        if (c->other.scope == DAV_LOCK_SHARED && dav_lock_covers(&c->other, top) &&
            (!is_subtree || c->other.is_infinite))
            return 1;
    }
    return 0;
}

static int on_covering(void *ctx, const struct dav_lock *lk)
{
    struct submit_ctx *c = ctx;
    struct iov token = iov_make(lk->token, strlen(lk->token));
    if (c->h && dav_if_has_token(c->h, token))
        return 0;
    if (c->h && lk->scope == DAV_LOCK_SHARED) {
        int rc = shared_stands_in(c, lk);
        if (rc != 0)
            return rc < 0 ? rc : 0;
    }
    memcpy(c->missing, lk->path, strlen(lk->path) + 1);
    return 1;
}

int dav_precond(struct dav_env *env, const struct dav_req *req, const char *path,
                bool with_descendants, struct dav_resp *resp)
{
    struct dav_if *h;
    int rc = dav_precond_if_read(req, &h);
    if (rc != 0)
        return rc;
    if (h)
        rc = dav_precond_if_eval(env, req, h);
    struct submit_ctx *c = NULL;
    if (rc == 0) {
        c = malloc(sizeof(*c));
        rc = c ? 0 : -ENOMEM;
    }
    if (rc == 0) {
        c->env = env;
        c->req = req;
        c->h = h;
        c->path = path;
        c->with_descendants = with_descendants;
        rc = dav_index_lock_find(env->ix, req->user_id, path, with_descendants, req->now,
                                 on_covering, c);
    }
    if (rc == 1) {
        struct dav_entry *e = malloc(sizeof(*e));
        rc = e ? dav_resolve(env, req, c->missing, e) : -ENOMEM;
        bool is_dir = rc == 0 && e->is_dir;
        free(e);
        if (rc == 0 || dav_is_absent(rc)) {
            /* The answer has started: a failing sink is the server's to see, not ours. */
            (void)dav_error_body(resp, req, 423, "lock-token-submitted", c->missing, is_dir);
            rc = 423;
        }
    }
    free(c);
    free(h);
    return rc;
}

int dav_precond_create(struct dav_env *env, const struct dav_req *req, const char *path,
                       struct dav_resp *resp)
{
    int rc = dav_precond(env, req, path, false, resp);
    if (rc != 0 || path[0] == '\0')
        return rc;
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 0;
    char *parent = malloc(n + 1);
    if (!parent)
        return -ENOMEM;
    memcpy(parent, path, n);
    parent[n] = '\0';
    rc = dav_precond(env, req, parent, false, resp);
    free(parent);
    return rc;
}

/* Percent-encode (RFC 3986 §2.1: all but unreserved and '/'), as dav_ms writes hrefs. */
static int write_encoded(struct dav_resp *resp, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char buf[192];
    size_t used = 0;
    for (; *s; s++) {
        uint8_t b = (uint8_t)*s;
        if (used + 3 > sizeof(buf)) {
            int rc = resp->write(resp->write_ctx, buf, used);
            if (rc < 0)
                return rc;
            used = 0;
        }
        if ((b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') ||
            strchr("-._~/", b)) {
            buf[used++] = (char)b;
        } else {
            buf[used++] = '%';
            buf[used++] = hex[b >> 4];
            buf[used++] = hex[b & 15];
        }
    }
    return resp->write(resp->write_ctx, buf, used);
}

static int write_str(struct dav_resp *resp, const char *s)
{
    return resp->write(resp->write_ctx, s, strlen(s));
}

int dav_error_body(struct dav_resp *resp, const struct dav_req *req, int status, const char *cond,
                   const char *path, bool is_dir)
{
    resp->status = status;
    resp->content_type = "application/xml; charset=utf-8";
    int rc = write_str(resp, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
                             "<D:error xmlns:D=\"DAV:\"><D:");
    if (rc == 0)
        rc = write_str(resp, cond);
    if (rc == 0 && !path)
        return write_str(resp, "/></D:error>");
    if (rc == 0)
        rc = write_str(resp, "><D:href>");
    if (rc == 0)
        rc = write_encoded(resp, req->href_root);
    if (rc == 0)
        rc = write_encoded(resp, path);
    if (rc == 0 && is_dir && path[0] != '\0')
        rc = write_str(resp, "/");
    if (rc == 0)
        rc = write_str(resp, "</D:href></D:");
    if (rc == 0)
        rc = write_str(resp, cond);
    if (rc == 0)
        rc = write_str(resp, "></D:error>");
    return rc;
}
