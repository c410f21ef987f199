/* SPDX-License-Identifier: MIT */
/*
 * WebDAV locks in the index (see index.h), RFC 4918 §6, §7 and §9.10.
 *
 * A lock is rooted at a path, not at a file id: a lock may be taken on an unmapped URL (§7.3;
 * the LOCK handler then creates the empty resource, §9.10.4) and a depth-infinity lock covers
 * whatever is later created or moved below its root (§7.7), which path ranges give for free.
 * (DESIGN.md says "keyed by file id"; for locks the path is what RFC 4918 means.)
 * Locks do not follow MOVE (§7.5: the destination is not locked by the source's lock), so
 * dav_index_move and dav_index_delete remove the locks rooted in the subtree they take away.
 *
 * Conflicts (§6.1, §7): a new lock at P conflicts with a live lock rooted at P, with a live
 * depth-infinity lock on an ancestor of P, and — when the new lock is depth infinity — with a
 * live lock rooted below P; an exclusive lock conflicts with any of those, a shared one only
 * with exclusive ones. Expiry is judged against the caller's now: expired locks are ignored by
 * every read and deleted by the next lock write (or dav_index_lock_purge).
 *
 * Owner fragments are stored as given (at most DAV_INDEX_OWNER_MAX bytes, -E2BIG); tokens are
 * unique in the database (-EEXIST), at most DAV_INDEX_TOKEN_MAX bytes.
 */
#include "index.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "index_db.h"

static int read_lock(sqlite3_stmt *s, struct dav_lock *lk)
{
    lk->user_id = sqlite3_column_int64(s, 1);
    lk->is_infinite = sqlite3_column_int(s, 3) != 0;
    lk->scope = sqlite3_column_int(s, 4) ? DAV_LOCK_EXCLUSIVE : DAV_LOCK_SHARED;
    lk->expires = sqlite3_column_int64(s, 6);
    lk->created = sqlite3_column_int64(s, 7);
    int rc = ix_column_text(s, 0, lk->token, sizeof(lk->token));
    if (rc == 0)
        rc = ix_column_text(s, 2, lk->path, sizeof(lk->path));
    if (rc == 0)
        rc = ix_column_text(s, 5, lk->owner, sizeof(lk->owner));
    return rc;
}

/* Step s (bound), passing each lock that keep() accepts to cb. */
static int lock_stream(struct dav_index *ix, sqlite3_stmt *s, bool only_infinite,
                       dav_index_lock_cb cb, void *ctx)
{
    struct dav_lock *lk = malloc(sizeof(*lk));
    int rc = lk ? 0 : -ENOMEM;
    while (rc == 0) {
        rc = ix_step(ix, s, "lock_find");
        if (rc <= 0)
            break;
        rc = read_lock(s, lk);
        if (rc == 0 && (!only_infinite || lk->is_infinite))
            rc = cb(ctx, lk);
    }
    ix_stmt_done(s);
    free(lk);
    return rc;
}

int ix_lock_del_tree(struct dav_index *ix, int64_t user_id, const char *path)
{
    struct ix_range r;
    ix_range_init(&r, path);
    sqlite3_stmt *s = ix_stmt(ix, S_LOCK_DEL_TREE);
    sqlite3_bind_int64(s, 1, user_id);
    ix_bind_range(s, 2, &r);
    int rc = ix_exec(ix, s, "lock_del_tree");
    if (rc == 0) {
        s = ix_stmt(ix, S_LOCK_DEL_ONE);
        sqlite3_bind_int64(s, 1, user_id);
        ix_bind_text(s, 2, path);
        rc = ix_exec(ix, s, "lock_del_one");
    }
    return rc;
}

int dav_index_lock_find(struct dav_index *ix, int64_t user_id, const char *path,
                        bool with_descendants, int64_t now, dav_index_lock_cb cb, void *ctx)
{
    char buf[DAV_INDEX_PATH_MAX + 1];
    if (!dav_index_path_valid(path))
        return -EINVAL;
    size_t len = strlen(path);
    memcpy(buf, path, len + 1);
    int rc = 0;
    /* path itself (any depth), then each ancestor up to the root (depth infinity only). */
    for (bool self = true; rc == 0; self = false) {
        sqlite3_stmt *s = ix_stmt(ix, S_LOCK_AT);
        sqlite3_bind_int64(s, 1, user_id);
        ix_bind_text(s, 2, buf);
        sqlite3_bind_int64(s, 3, now);
        rc = lock_stream(ix, s, !self, cb, ctx);
        if (len == 0)
            break;
        char *slash = strrchr(buf, '/');
        len = slash ? (size_t)(slash - buf) : 0;
        buf[len] = '\0';
    }
    if (rc == 0 && with_descendants) {
        struct ix_range r;
        ix_range_init(&r, path);
        sqlite3_stmt *s = ix_stmt(ix, S_LOCK_BELOW);
        sqlite3_bind_int64(s, 1, user_id);
        ix_bind_range(s, 2, &r);
        sqlite3_bind_int64(s, 4, now);
        rc = lock_stream(ix, s, false, cb, ctx);
    }
    return rc;
}

struct conflict_ctx {
    bool is_exclusive;
    struct dav_lock *out;
};

static int on_conflict(void *ctx, const struct dav_lock *lk)
{
    struct conflict_ctx *c = ctx;
    /* Shared locks coexist; anything with an exclusive lock on either side conflicts. */
    if (!c->is_exclusive && lk->scope == DAV_LOCK_SHARED)
        return 0;
    if (c->out)
        *c->out = *lk;
    return -EAGAIN;
}

static int purge(struct dav_index *ix, int64_t now)
{
    sqlite3_stmt *s = ix_stmt(ix, S_LOCK_PURGE);
    sqlite3_bind_int64(s, 1, now);
    return ix_exec(ix, s, "lock_purge");
}

int dav_index_lock_create(struct dav_index *ix, const struct dav_lock *lk, int64_t now,
                          struct dav_lock *conflict)
{
    if (!dav_index_path_valid(lk->path) || lk->token[0] == '\0' ||
        strnlen(lk->token, sizeof(lk->token)) > DAV_INDEX_TOKEN_MAX)
        return -EINVAL;
    size_t owner_len = strnlen(lk->owner, sizeof(lk->owner));
    if (owner_len > DAV_INDEX_OWNER_MAX)
        return -E2BIG;
    int rc = ix_tx_begin(ix);
    if (rc)
        return rc;
    rc = purge(ix, now);
    if (rc == 0) {
        struct conflict_ctx c = {.is_exclusive = lk->scope == DAV_LOCK_EXCLUSIVE, .out = conflict};
        rc = dav_index_lock_find(ix, lk->user_id, lk->path, lk->is_infinite, now, on_conflict, &c);
    }
    if (rc == 0) {
        sqlite3_stmt *s = ix_stmt(ix, S_LOCK_ADD);
        ix_bind_text(s, 1, lk->token);
        sqlite3_bind_int64(s, 2, lk->user_id);
        ix_bind_text(s, 3, lk->path);
        sqlite3_bind_int(s, 4, lk->is_infinite);
        sqlite3_bind_int(s, 5, lk->scope == DAV_LOCK_EXCLUSIVE);
        sqlite3_bind_text(s, 6, lk->owner, (int)owner_len, SQLITE_STATIC);
        sqlite3_bind_int64(s, 7, lk->expires);
        sqlite3_bind_int64(s, 8, now);
        rc = ix_exec(ix, s, "lock_add");
    }
    return ix_tx_end(ix, rc);
}

int dav_index_lock_get(struct dav_index *ix, const char *token, int64_t now, struct dav_lock *lk)
{
    sqlite3_stmt *s = ix_stmt(ix, S_LOCK_GET);
    ix_bind_text(s, 1, token);
    sqlite3_bind_int64(s, 2, now);
    int rc = ix_step(ix, s, "lock_get");
    if (rc == 1)
        rc = read_lock(s, lk);
    else if (rc == 0)
        rc = -ENOENT;
    ix_stmt_done(s);
    return rc;
}

int dav_index_lock_refresh(struct dav_index *ix, int64_t user_id, const char *token,
                           int64_t expires, int64_t now, struct dav_lock *lk)
{
    int rc = ix_tx_begin(ix);
    if (rc)
        return rc;
    sqlite3_stmt *s = ix_stmt(ix, S_LOCK_REFRESH);
    sqlite3_bind_int64(s, 1, user_id);
    ix_bind_text(s, 2, token);
    sqlite3_bind_int64(s, 3, expires);
    sqlite3_bind_int64(s, 4, now);
    rc = ix_exec(ix, s, "lock_refresh");
    if (rc == 0 && sqlite3_changes(ix->db) == 0)
        rc = -ENOENT;
    if (rc == 0)
        rc = purge(ix, now);
    if (rc == 0 && lk)
        rc = dav_index_lock_get(ix, token, now, lk);
    return ix_tx_end(ix, rc);
}

int dav_index_lock_remove(struct dav_index *ix, int64_t user_id, const char *token, int64_t now)
{
    sqlite3_stmt *s = ix_stmt(ix, S_LOCK_REMOVE);
    sqlite3_bind_int64(s, 1, user_id);
    ix_bind_text(s, 2, token);
    sqlite3_bind_int64(s, 3, now);
    int rc = ix_exec(ix, s, "lock_remove");
    if (rc == 0 && sqlite3_changes(ix->db) == 0)
        rc = -ENOENT;
    return rc;
}

int dav_index_lock_purge(struct dav_index *ix, int64_t now) { return purge(ix, now); }
