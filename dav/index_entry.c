/* SPDX-License-Identifier: MIT */
/*
 * The entries of the metadata index (see index.h): one row per file and folder, file ids,
 * ETags and their propagation to ancestors, upsert and sync with stat, DELETE, MOVE and COPY,
 * listings and the quota. The schema, the statements and what they rely on (subtree ranges,
 * folder ETag format, quota triggers) are described at the top of index_sqlite.c.
 *
 * Every write runs in one BEGIN IMMEDIATE transaction; a write that changes an entry gives all
 * its ancestor folders new ETags before it commits. Reads (lookups, listings, the no-change path
 * of dav_index_sync) take no write lock.
 */
#include "index.h"

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "etag.h"
#include "index_db.h"

/* --- paths --- */

bool dav_index_path_valid(const char *path)
{
    if (!path)
        return false;
    size_t len = strnlen(path, DAV_INDEX_PATH_MAX + 1);
    if (len > DAV_INDEX_PATH_MAX)
        return false;
    if (len == 0)
        return true;
    const char *seg = path;
    for (;;) {
        const char *slash = strchr(seg, '/');
        size_t n = slash ? (size_t)(slash - seg) : strlen(seg);
        if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
            return false;
        if (!slash)
            return true;
        seg = slash + 1;
    }
}

static int check_path(const char *path)
{
    if (path && strnlen(path, DAV_INDEX_PATH_MAX + 1) > DAV_INDEX_PATH_MAX)
        return -ENAMETOOLONG;
    return dav_index_path_valid(path) ? 0 : -EINVAL;
}

/* Is p strictly below ancestor? ("" is the ancestor of every non-empty path.) */
static bool path_below(const char *p, const char *ancestor)
{
    size_t n = strlen(ancestor);
    if (n == 0)
        return p[0] != '\0';
    return strncmp(p, ancestor, n) == 0 && p[n] == '/';
}

/* Bind parent (NULL for the root) and name of path (len bytes) to i and i + 1. parent points
 * into buf, which must outlive the statement's use. */
static void bind_parent_name(sqlite3_stmt *s, int i, const char *path,
                             char buf[DAV_INDEX_PATH_MAX + 1])
{
    if (path[0] == '\0') {
        sqlite3_bind_null(s, i);
        ix_bind_text(s, i + 1, "");
        return;
    }
    const char *slash = strrchr(path, '/');
    size_t plen = slash ? (size_t)(slash - path) : 0;
    memcpy(buf, path, plen);
    buf[plen] = '\0';
    ix_bind_text(s, i, buf);
    ix_bind_text(s, i + 1, slash ? slash + 1 : path);
}

/* --- entries --- */

static int read_entry(sqlite3_stmt *s, struct dav_entry *e)
{
    e->id = sqlite3_column_int64(s, 0);
    e->user_id = sqlite3_column_int64(s, 1);
    e->is_dir = sqlite3_column_int(s, 3) != 0;
    e->size = (uint64_t)sqlite3_column_int64(s, 4);
    e->mtime_ns = sqlite3_column_int64(s, 5);
    e->inode = (uint64_t)sqlite3_column_int64(s, 6);
    e->btime_ns = sqlite3_column_int64(s, 8);
    int rc = ix_column_text(s, 2, e->path, sizeof(e->path));
    if (rc == 0)
        rc = ix_column_text(s, 7, e->etag, sizeof(e->etag));
    const char *slash = strrchr(e->path, '/');
    e->name = slash ? slash + 1 : e->path;
    return rc;
}

static void entry_copy(struct dav_entry *dst, const struct dav_entry *src)
{
    *dst = *src;
    dst->name = dst->path + (src->name - src->path); /* name points into path */
}

/* One entry row from s (bound by the caller), or -ENOENT. */
static int get_row(struct dav_index *ix, sqlite3_stmt *s, const char *op, struct dav_entry *e)
{
    int rc = ix_step(ix, s, op);
    if (rc == 1)
        rc = read_entry(s, e);
    else if (rc == 0)
        rc = -ENOENT;
    ix_stmt_done(s);
    return rc;
}

static int get_entry(struct dav_index *ix, int64_t user_id, const char *path, struct dav_entry *e)
{
    sqlite3_stmt *s = ix_stmt(ix, S_GET);
    sqlite3_bind_int64(s, 1, user_id);
    ix_bind_text(s, 2, path);
    return get_row(ix, s, "get", e);
}

int dav_index_lookup(struct dav_index *ix, int64_t user_id, const char *path, struct dav_entry *e)
{
    int rc = check_path(path);
    return rc ? rc : get_entry(ix, user_id, path, e);
}

int dav_index_lookup_id(struct dav_index *ix, int64_t id, struct dav_entry *e)
{
    sqlite3_stmt *s = ix_stmt(ix, S_GET_ID);
    sqlite3_bind_int64(s, 1, id);
    return get_row(ix, s, "get_id", e);
}

/* This transaction's change number: bumped once, on first use. */
static int change_seq(struct dav_index *ix, int64_t *seq)
{
    if (ix->seq == 0) {
        sqlite3_stmt *s = ix_stmt(ix, S_SEQ_BUMP);
        int rc = ix_step(ix, s, "seq_bump");
        if (rc == 1)
            ix->seq = sqlite3_column_int64(s, 0);
        ix_stmt_done(s);
        if (rc < 0)
            return rc;
        if (rc == 0)
            return ix_db_error(ix, SQLITE_CORRUPT, "seq_missing");
    }
    *seq = ix->seq;
    return 0;
}

/* A new ETag for folder path (no-op for a file or a missing row). */
static int touch_dir(struct dav_index *ix, int64_t user_id, const char *path)
{
    int64_t seq = 0; /* change_seq sets it; -O3 cannot tell */
    int rc = change_seq(ix, &seq);
    if (rc)
        return rc;
    sqlite3_stmt *s = ix_stmt(ix, S_TOUCH_DIR);
    sqlite3_bind_int64(s, 1, user_id);
    ix_bind_text(s, 2, path);
    sqlite3_bind_int64(s, 3, seq);
    return ix_exec(ix, s, "touch_dir");
}

/* New ETags for every ancestor of path, up to and including the root. */
static int touch_ancestors(struct dav_index *ix, int64_t user_id, const char *path)
{
    char buf[DAV_INDEX_PATH_MAX + 1];
    size_t len = strlen(path);
    int rc = 0;

    memcpy(buf, path, len + 1);
    while (rc == 0 && len > 0) {
        char *slash = strrchr(buf, '/');
        len = slash ? (size_t)(slash - buf) : 0;
        buf[len] = '\0';
        rc = touch_dir(ix, user_id, buf);
    }
    return rc;
}

static int insert_row(struct dav_index *ix, int64_t user_id, const char *path,
                      const struct dav_stat *st)
{
    char parent[DAV_INDEX_PATH_MAX + 1];
    char etag[HTTP_ETAG_MAX] = "";
    static_assert(HTTP_ETAG_MAX <= DAV_INDEX_ETAG_MAX, "a file ETag fits an entry");

    uint64_t size = st->is_dir ? 0 : st->size;
    if (!st->is_dir)
        http_etag_format(etag, st->inode, size, st->mtime_ns);
    /* A folder's ETag needs its id: touch_dir sets it right after. */
    sqlite3_stmt *s = ix_stmt(ix, S_INSERT);
    sqlite3_bind_int64(s, 1, user_id);
    ix_bind_text(s, 2, path);
    bind_parent_name(s, 3, path, parent);
    sqlite3_bind_int(s, 5, st->is_dir);
    sqlite3_bind_int64(s, 6, (int64_t)size);
    sqlite3_bind_int64(s, 7, st->mtime_ns);
    sqlite3_bind_int64(s, 8, (int64_t)st->inode);
    ix_bind_text(s, 9, etag);
    sqlite3_bind_int64(s, 10, st->btime_ns);
    int rc = ix_exec(ix, s, "insert");
    if (rc == 0 && st->is_dir)
        rc = touch_dir(ix, user_id, path);
    return rc;
}

/* Make the folder rows above path that are missing (stat fields 0 until dav_index_sync sees
 * them); -ENOTDIR when one of them is a file. */
static int ensure_ancestors(struct dav_index *ix, int64_t user_id, const char *path)
{
    static const struct dav_stat unknown_dir = {.is_dir = true};
    char buf[DAV_INDEX_PATH_MAX + 1];
    struct dav_entry *e = malloc(sizeof(*e));
    size_t len = strlen(path);
    int rc = 0;

    if (!e)
        return -ENOMEM;
    /* Prefixes from the root down: "", "a", "a/b" for "a/b/c". */
    for (size_t end = 0; rc == 0 && end < len; end++) {
        if (end != 0 && path[end] != '/')
            continue;
        memcpy(buf, path, end);
        buf[end] = '\0';
        rc = get_entry(ix, user_id, buf, e);
        if (rc == 0 && !e->is_dir)
            rc = -ENOTDIR;
        else if (rc == -ENOENT)
            rc = insert_row(ix, user_id, buf, &unknown_dir);
    }
    free(e);
    return rc;
}

/* Delete path's row, its subtree (properties follow by foreign key) and their locks. */
static int delete_tree(struct dav_index *ix, int64_t user_id, const char *path)
{
    struct ix_range r;
    ix_range_init(&r, path);
    sqlite3_stmt *s = ix_stmt(ix, S_DEL_TREE);
    sqlite3_bind_int64(s, 1, user_id);
    ix_bind_range(s, 2, &r);
    int rc = ix_exec(ix, s, "delete_tree");
    if (rc == 0) {
        s = ix_stmt(ix, S_DEL_ONE);
        sqlite3_bind_int64(s, 1, user_id);
        ix_bind_text(s, 2, path);
        rc = ix_exec(ix, s, "delete_one");
    }
    if (rc == 0)
        rc = ix_lock_del_tree(ix, user_id, path);
    return rc;
}

bool dav_index_stat_differs(const struct dav_entry *e, const struct dav_stat *st)
{
    if (e->is_dir != st->is_dir || e->inode != st->inode || e->mtime_ns != st->mtime_ns)
        return true;
    /* A row from index schema 1 gets its birth time the first time it is compared. */
    if (e->btime_ns == 0 && st->btime_ns != 0)
        return true;
    /* A folder's st_size says nothing useful (and differs by file system). */
    return !st->is_dir && e->size != st->size;
}

/* Record st for path inside a transaction; always when force, else only when it differs. */
static int put_entry(struct dav_index *ix, int64_t user_id, const char *path,
                     const struct dav_stat *st, bool force, bool *changed, struct dav_entry *e)
{
    int rc = get_entry(ix, user_id, path, e);
    bool found = rc == 0;
    if (rc && rc != -ENOENT)
        return rc;
    if (found && e->is_dir != st->is_dir) {
        /* Replaced by something of the other kind: a new resource, with a new id. */
        rc = delete_tree(ix, user_id, path);
        if (rc)
            return rc;
        found = false;
    }
    if (!found) {
        rc = ensure_ancestors(ix, user_id, path);
        if (rc == 0)
            rc = insert_row(ix, user_id, path, st);
    } else if (force || dav_index_stat_differs(e, st)) {
        char etag[HTTP_ETAG_MAX];
        uint64_t size = st->is_dir ? 0 : st->size;
        sqlite3_stmt *s = ix_stmt(ix, S_UPDATE_STAT);
        sqlite3_bind_int64(s, 1, e->id);
        sqlite3_bind_int64(s, 2, (int64_t)size);
        sqlite3_bind_int64(s, 3, st->mtime_ns);
        sqlite3_bind_int64(s, 4, (int64_t)st->inode);
        sqlite3_bind_int64(s, 6, st->btime_ns);
        if (st->is_dir) {
            ix_bind_text(s, 5, e->etag); /* replaced by touch_dir below */
        } else {
            http_etag_format(etag, st->inode, size, st->mtime_ns);
            ix_bind_text(s, 5, etag);
        }
        rc = ix_exec(ix, s, "update_stat");
        if (rc == 0 && st->is_dir)
            rc = touch_dir(ix, user_id, path);
    } else {
        *changed = false;
        return 0;
    }
    if (rc == 0)
        rc = touch_ancestors(ix, user_id, path);
    if (rc == 0)
        rc = get_entry(ix, user_id, path, e);
    *changed = rc == 0;
    return rc;
}

static int put_tx(struct dav_index *ix, int64_t user_id, const char *path,
                  const struct dav_stat *st, bool force, bool *changed, struct dav_entry *out)
{
    struct dav_entry *e = malloc(sizeof(*e));
    bool dummy;
    if (!e)
        return -ENOMEM;
    int rc = ix_tx_begin(ix);
    if (rc == 0) {
        rc = put_entry(ix, user_id, path, st, force, changed ? changed : &dummy, e);
        rc = ix_tx_end(ix, rc);
    }
    if (rc == 0 && out)
        entry_copy(out, e);
    free(e);
    return rc;
}

int dav_index_upsert(struct dav_index *ix, int64_t user_id, const char *path,
                     const struct dav_stat *st, struct dav_entry *e)
{
    int rc = check_path(path);
    return rc ? rc : put_tx(ix, user_id, path, st, true, NULL, e);
}

int dav_index_delete(struct dav_index *ix, int64_t user_id, const char *path)
{
    struct dav_entry *e = malloc(sizeof(*e));
    int rc = check_path(path);
    if (!e)
        rc = -ENOMEM;
    if (rc == 0)
        rc = ix_tx_begin(ix);
    if (rc == 0) {
        rc = get_entry(ix, user_id, path, e);
        if (rc == 0)
            rc = delete_tree(ix, user_id, path);
        if (rc == 0)
            rc = touch_ancestors(ix, user_id, path);
        rc = ix_tx_end(ix, rc);
    }
    free(e);
    return rc;
}

int dav_index_sync(struct dav_index *ix, int64_t user_id, const char *path,
                   const struct dav_stat *st, bool *changed, struct dav_entry *out)
{
    struct dav_entry *e = malloc(sizeof(*e));
    bool did_change = false;
    int rc = check_path(path);
    if (!e)
        rc = -ENOMEM;
    if (rc)
        goto out;
    /* The common case writes nothing: a read, outside any write transaction. */
    rc = get_entry(ix, user_id, path, e);
    if (rc && rc != -ENOENT)
        goto out;
    if (!st) {
        if (rc == -ENOENT) {
            rc = 0;
            goto out;
        }
        rc = dav_index_delete(ix, user_id, path);
        if (rc == -ENOENT) /* someone else noticed first */
            rc = 0;
        else
            did_change = rc == 0;
        goto out;
    }
    if (rc == 0 && !dav_index_stat_differs(e, st)) {
        if (out)
            entry_copy(out, e);
        goto out;
    }
    /* Re-checked inside the transaction: another thread may have synced it meanwhile. */
    rc = put_tx(ix, user_id, path, st, false, &did_change, out);
out:
    if (changed)
        *changed = rc == 0 && did_change;
    free(e);
    return rc;
}

/* Shared checks of MOVE and COPY inside their transaction: from exists (into *src), the
 * paths are related sensibly, an existing destination is deleted when overwrite allows, the
 * destination's ancestors exist. */
static int prepare_dest(struct dav_index *ix, int64_t user_id, const char *from, const char *to,
                        bool overwrite, struct dav_entry *src)
{
    if (from[0] == '\0' || strcmp(from, to) == 0 || path_below(to, from) || path_below(from, to))
        return -EINVAL;
    int rc = get_entry(ix, user_id, from, src);
    if (rc)
        return rc;
    struct dav_entry *dst = malloc(sizeof(*dst));
    if (!dst)
        return -ENOMEM;
    rc = get_entry(ix, user_id, to, dst);
    if (rc == 0)
        rc = overwrite ? delete_tree(ix, user_id, to) : -EEXIST;
    else if (rc == -ENOENT)
        rc = 0;
    free(dst);
    if (rc == 0)
        rc = ensure_ancestors(ix, user_id, to);
    /* ensure_ancestors may have bumped nothing: src is still valid (rows above to only). */
    return rc;
}

/* Bind user (1), the source subtree (2, 3), to (4) and the rebase offset (5). */
static void bind_rebase(sqlite3_stmt *s, int64_t user_id, const struct ix_range *r,
                        const char *from, const char *to)
{
    sqlite3_bind_int64(s, 1, user_id);
    ix_bind_range(s, 2, r);
    ix_bind_text(s, 4, to);
    sqlite3_bind_int64(s, 5, (int64_t)strlen(from) + 1);
}

int dav_index_move(struct dav_index *ix, int64_t user_id, const char *from, const char *to,
                   bool overwrite)
{
    char parent[DAV_INDEX_PATH_MAX + 1];
    struct ix_range r;
    struct dav_entry *src = malloc(sizeof(*src));
    int rc = check_path(from);
    if (rc == 0)
        rc = check_path(to);
    if (rc == 0 && !src)
        rc = -ENOMEM;
    if (rc)
        goto out;
    rc = ix_tx_begin(ix);
    if (rc)
        goto out;
    rc = prepare_dest(ix, user_id, from, to, overwrite, src);
    /* RFC 4918 §7.5, §9.9: locks stay behind; those rooted in the moved subtree would name
     * paths that no longer exist, so they go. */
    if (rc == 0)
        rc = ix_lock_del_tree(ix, user_id, from);
    if (rc == 0 && src->is_dir) {
        ix_range_init(&r, from);
        sqlite3_stmt *s = ix_stmt(ix, S_MOVE_TREE);
        bind_rebase(s, user_id, &r, from, to);
        rc = ix_exec(ix, s, "move_tree");
    }
    if (rc == 0) {
        sqlite3_stmt *s = ix_stmt(ix, S_MOVE_ONE);
        sqlite3_bind_int64(s, 1, user_id);
        ix_bind_text(s, 2, from);
        ix_bind_text(s, 3, to);
        bind_parent_name(s, 4, to, parent);
        rc = ix_exec(ix, s, "move_one");
    }
    if (rc == 0)
        rc = touch_ancestors(ix, user_id, from);
    if (rc == 0)
        rc = touch_ancestors(ix, user_id, to);
    rc = ix_tx_end(ix, rc);
out:
    free(src);
    return rc;
}

int dav_index_copy(struct dav_index *ix, int64_t user_id, const char *from, const char *to,
                   bool overwrite, bool is_recursive)
{
    char parent[DAV_INDEX_PATH_MAX + 1];
    struct ix_range r;
    struct dav_entry *src = malloc(sizeof(*src));
    int rc = check_path(from);
    if (rc == 0)
        rc = check_path(to);
    if (rc == 0 && !src)
        rc = -ENOMEM;
    if (rc)
        goto out;
    rc = ix_tx_begin(ix);
    if (rc)
        goto out;
    rc = prepare_dest(ix, user_id, from, to, overwrite, src);
    if (rc == 0) {
        sqlite3_stmt *s = ix_stmt(ix, S_COPY_ONE);
        sqlite3_bind_int64(s, 1, user_id);
        ix_bind_text(s, 2, from);
        ix_bind_text(s, 3, to);
        bind_parent_name(s, 4, to, parent);
        rc = ix_exec(ix, s, "copy_one");
    }
    if (rc == 0) {
        sqlite3_stmt *s = ix_stmt(ix, S_COPY_PROPS_ONE);
        sqlite3_bind_int64(s, 1, src->id);
        sqlite3_bind_int64(s, 2, sqlite3_last_insert_rowid(ix->db));
        rc = ix_exec(ix, s, "copy_props_one");
    }
    if (rc == 0 && src->is_dir && is_recursive) {
        ix_range_init(&r, from);
        sqlite3_stmt *s = ix_stmt(ix, S_COPY_TREE);
        bind_rebase(s, user_id, &r, from, to);
        rc = ix_exec(ix, s, "copy_tree");
        if (rc == 0) {
            s = ix_stmt(ix, S_COPY_PROPS_TREE);
            bind_rebase(s, user_id, &r, from, to);
            rc = ix_exec(ix, s, "copy_props_tree");
        }
        int64_t seq = 0;
        if (rc == 0)
            rc = change_seq(ix, &seq);
        if (rc == 0) {
            struct ix_range d;
            ix_range_init(&d, to);
            s = ix_stmt(ix, S_TOUCH_TREE_DIRS);
            sqlite3_bind_int64(s, 1, user_id);
            ix_bind_range(s, 2, &d);
            sqlite3_bind_int64(s, 4, seq);
            rc = ix_exec(ix, s, "touch_tree_dirs");
        }
    }
    if (rc == 0 && src->is_dir)
        rc = touch_dir(ix, user_id, to);
    if (rc == 0)
        rc = touch_ancestors(ix, user_id, to);
    rc = ix_tx_end(ix, rc);
out:
    free(src);
    return rc;
}

/* Step s (bound), calling cb with each row. */
static int stream(struct dav_index *ix, sqlite3_stmt *s, const char *op, dav_index_entry_cb cb,
                  void *ctx)
{
    struct dav_entry *e = malloc(sizeof(*e));
    int rc = e ? 0 : -ENOMEM;
    while (rc == 0) {
        rc = ix_step(ix, s, op);
        if (rc <= 0)
            break;
        rc = read_entry(s, e);
        if (rc == 0)
            rc = cb(ctx, e);
    }
    ix_stmt_done(s);
    free(e);
    return rc;
}

/* The folder at path, or -ENOENT / -ENOTDIR. */
static int get_dir(struct dav_index *ix, int64_t user_id, const char *path, struct dav_entry *e)
{
    int rc = check_path(path);
    if (rc == 0)
        rc = get_entry(ix, user_id, path, e);
    if (rc == 0 && !e->is_dir)
        rc = -ENOTDIR;
    return rc;
}

/* Listing statement id (S_LIST or S_LIST_PROPS) bound to the members of folder path after
 * name after (pointed to, not copied); -ENOENT or -ENOTDIR when path is not a folder. No
 * transaction: the statement reads one snapshot from first step to reset. */
static int list_begin(struct dav_index *ix, enum ix_stmt id, int64_t user_id, const char *path,
                      const char *after, sqlite3_stmt **out)
{
    struct dav_entry *dir = malloc(sizeof(*dir));
    int rc = dir ? get_dir(ix, user_id, path, dir) : -ENOMEM;
    free(dir);
    if (rc)
        return rc;
    sqlite3_stmt *s = ix_stmt(ix, id);
    sqlite3_bind_int64(s, 1, user_id);
    ix_bind_text(s, 2, path);
    ix_bind_text(s, 3, after); /* "": every name is longer */
    *out = s;
    return 0;
}

int dav_index_list_after(struct dav_index *ix, int64_t user_id, const char *path,
                         const char *after, dav_index_entry_cb cb, void *ctx)
{
    sqlite3_stmt *s;
    int rc = list_begin(ix, S_LIST, user_id, path, after, &s);
    return rc ? rc : stream(ix, s, "list", cb, ctx);
}

/* S_LIST_PROPS read a group of rows per member: the cursor stands on a row of member id. */
struct dav_index_props {
    struct dav_index *ix;
    sqlite3_stmt *s;
    int64_t id;
    int row; /* 1: the current row is id's and unread; 0: it is another member's; -1: none */
};

/* Step the cursor past the current row. Returns 0 or a negative errno. */
static int props_next(struct dav_index_props *p)
{
    int rc = ix_step(p->ix, p->s, "list_props");
    if (rc < 0)
        return rc;
    p->row = rc == 0 ? -1 : sqlite3_column_int64(p->s, 0) == p->id ? 1 : 0;
    return 0;
}

int dav_index_props_each(struct dav_index_props *p, bool with_values, dav_index_prop_cb cb,
                         void *ctx)
{
    while (p->row == 1) {
        const char *ns = (const char *)sqlite3_column_text(p->s, 9);
        const char *name = (const char *)sqlite3_column_text(p->s, 10);
        /* A member without properties has one row, with NULLs for them. */
        if (ns && name) {
            const char *value = NULL;
            size_t value_len = 0;
            if (with_values) {
                value = sqlite3_column_blob(p->s, 11);
                value_len = (size_t)sqlite3_column_bytes(p->s, 11);
                if (!value)
                    value = "";
            }
            int rc = cb(ctx, ns, name, value, value_len);
            if (rc)
                return rc;
        }
        int rc = props_next(p);
        if (rc)
            return rc;
    }
    return 0;
}

int dav_index_list_props(struct dav_index *ix, int64_t user_id, const char *path,
                         const char *after, dav_index_entry_props_cb cb, void *ctx)
{
    struct dav_index_props p = {.ix = ix};
    struct dav_entry *e = malloc(sizeof(*e));
    int rc = e ? list_begin(ix, S_LIST_PROPS, user_id, path, after, &p.s) : -ENOMEM;
    if (rc) {
        free(e);
        return rc;
    }
    rc = props_next(&p);
    /* Each member's first row is current when its turn comes. */
    while (rc == 0 && p.row == 0) {
        rc = read_entry(p.s, e);
        if (rc)
            break;
        p.id = e->id;
        p.row = 1;
        rc = cb(ctx, e, &p);
        while (rc == 0 && p.row == 1)
            rc = props_next(&p); /* what cb left unread */
    }
    ix_stmt_done(p.s);
    free(e);
    return rc;
}

int dav_index_list(struct dav_index *ix, int64_t user_id, const char *path, dav_index_entry_cb cb,
                   void *ctx)
{
    return dav_index_list_after(ix, user_id, path, "", cb, ctx);
}

/* Stream the members of the subtree r that sort after after. */
static int walk_members(struct dav_index *ix, int64_t user_id, const struct ix_range *r,
                        const char *after, dav_index_entry_cb cb, void *ctx)
{
    sqlite3_stmt *s = ix_stmt(ix, S_WALK);
    sqlite3_bind_int64(s, 1, user_id);
    ix_bind_range(s, 2, r);
    ix_bind_text(s, 4, after);
    return stream(ix, s, "walk", cb, ctx);
}

int dav_index_walk_after(struct dav_index *ix, int64_t user_id, const char *path,
                         const char *after, dav_index_entry_cb cb, void *ctx)
{
    int rc = check_path(path);
    if (rc)
        return rc;
    struct ix_range r;
    ix_range_init(&r, path);
    return walk_members(ix, user_id, &r, after, cb, ctx);
}

int dav_index_walk(struct dav_index *ix, int64_t user_id, const char *path, size_t limit,
                   dav_index_entry_cb cb, void *ctx)
{
    struct ix_range r;
    struct dav_entry *top = malloc(sizeof(*top));
    int rc = check_path(path);
    if (rc == 0 && !top)
        rc = -ENOMEM;
    if (rc)
        goto out;
    /* One read transaction, so that the count, the top and the members agree. */
    rc = ix_exec(ix, ix_stmt(ix, S_BEGIN_READ), "walk_begin");
    if (rc)
        goto out;
    rc = get_entry(ix, user_id, path, top);
    if (rc)
        goto end;
    ix_range_init(&r, path);
    if (top->is_dir) {
        /* Count at most limit members + 1, so an over-large tree costs limit steps, not all. */
        sqlite3_stmt *s = ix_stmt(ix, S_WALK_COUNT);
        sqlite3_bind_int64(s, 1, user_id);
        ix_bind_range(s, 2, &r);
        sqlite3_bind_int64(s, 4, limit > INT64_MAX - 1 ? INT64_MAX : (int64_t)limit);
        rc = ix_step(ix, s, "walk_count");
        int64_t members = rc == 1 ? sqlite3_column_int64(s, 0) : 0;
        ix_stmt_done(s);
        if (rc < 0)
            goto end;
        rc = (uint64_t)members + 1 > limit ? -E2BIG : 0;
    } else {
        rc = limit < 1 ? -E2BIG : 0;
    }
    if (rc == 0)
        rc = cb(ctx, top);
    if (rc == 0 && top->is_dir)
        rc = walk_members(ix, user_id, &r, "", cb, ctx);
end:
    (void)ix_exec(ix, ix_stmt(ix, S_COMMIT), "walk_end"); /* a read: nothing to lose */
out:
    free(top);
    return rc;
}

int dav_index_quota_used(struct dav_index *ix, int64_t user_id, int64_t *used)
{
    sqlite3_stmt *s = ix_stmt(ix, S_USED);
    sqlite3_bind_int64(s, 1, user_id);
    int rc = ix_step(ix, s, "used");
    *used = rc == 1 ? sqlite3_column_int64(s, 0) : 0;
    ix_stmt_done(s);
    return rc < 0 ? rc : 0;
}
