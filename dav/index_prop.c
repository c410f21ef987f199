/* SPDX-License-Identifier: MIT */
/*
 * Dead properties of the index (see index.h), keyed by file id: PROPPATCH as one all-or-nothing
 * transaction, reads for PROPFIND. Values are opaque bytes (the XML fragment as the client sent
 * it, already checked by the XML layer) stored as BLOBs and returned byte for byte.
 *
 * Limits: at most limits.props_per_file properties per file (-ENOSPC) and limits.prop_value_max
 * bytes per value (-E2BIG), so that one client cannot grow the database at will; namespace and
 * local name at most DAV_INDEX_PROP_NAME_MAX bytes each, the name not empty (-EINVAL).
 * Properties go with their entry: DELETE removes them (foreign key), MOVE keeps them (the id
 * stays), COPY copies them (index_sqlite.c).
 */
#include "index.h"

#include <errno.h>
#include <string.h>

#include "index_db.h"

static bool prop_name_valid(const char *ns, const char *name)
{
    if (!ns || !name || name[0] == '\0')
        return false;
    return strnlen(ns, DAV_INDEX_PROP_NAME_MAX + 1) <= DAV_INDEX_PROP_NAME_MAX &&
           strnlen(name, DAV_INDEX_PROP_NAME_MAX + 1) <= DAV_INDEX_PROP_NAME_MAX;
}

static void bind_name(sqlite3_stmt *s, int64_t id, const char *ns, const char *name)
{
    sqlite3_bind_int64(s, 1, id);
    ix_bind_text(s, 2, ns);
    ix_bind_text(s, 3, name);
}

static int file_exists(struct dav_index *ix, int64_t id)
{
    sqlite3_stmt *s = ix_stmt(ix, S_GET_ID);
    sqlite3_bind_int64(s, 1, id);
    int rc = ix_step(ix, s, "prop_file");
    ix_stmt_done(s);
    return rc == 1 ? 0 : rc == 0 ? -ENOENT : rc;
}

static int prop_count(struct dav_index *ix, int64_t id, int64_t *n)
{
    sqlite3_stmt *s = ix_stmt(ix, S_PROP_COUNT);
    sqlite3_bind_int64(s, 1, id);
    int rc = ix_step(ix, s, "prop_count");
    *n = rc == 1 ? sqlite3_column_int64(s, 0) : 0;
    ix_stmt_done(s);
    return rc < 0 ? rc : 0;
}

/* One op inside the transaction; *db_failed tells a database failure from a refused op. */
static int apply_op(struct dav_index *ix, int64_t id, const struct dav_prop_op *op, bool *db_failed)
{
    if (!prop_name_valid(op->ns, op->name))
        return -EINVAL;
    sqlite3_stmt *s;
    int rc;
    if (op->is_remove) {
        /* RFC 4918 §9.2: removing a property that does not exist is not an error. */
        s = ix_stmt(ix, S_PROP_DEL);
        bind_name(s, id, op->ns, op->name);
        rc = ix_exec(ix, s, "prop_del");
        *db_failed = rc != 0;
        return rc;
    }
    if (op->value_len > ix->limits.prop_value_max)
        return -E2BIG;
    s = ix_stmt(ix, S_PROP_SET);
    bind_name(s, id, op->ns, op->name);
    /* A zero-length value must still be a BLOB, not NULL. */
    sqlite3_bind_blob(s, 4, op->value_len ? op->value : "", (int)op->value_len, SQLITE_STATIC);
    rc = ix_exec(ix, s, "prop_set");
    int64_t n = 0;
    if (rc == 0)
        rc = prop_count(ix, id, &n);
    if (rc) {
        *db_failed = true;
        return rc;
    }
    return n > (int64_t)ix->limits.props_per_file ? -ENOSPC : 0;
}

int dav_index_prop_patch(struct dav_index *ix, int64_t id, const struct dav_prop_op *ops, size_t n,
                         size_t *failed)
{
    size_t at = n;
    int rc = ix_tx_begin(ix);
    if (rc)
        goto out;
    rc = file_exists(ix, id);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        bool db_failed = false;
        rc = apply_op(ix, id, &ops[i], &db_failed);
        if (rc && !db_failed)
            at = i;
    }
    /* Any failure rolls back every op before it: PROPPATCH is all or nothing (§9.2). */
    rc = ix_tx_end(ix, rc);
out:
    if (failed)
        *failed = rc ? at : n;
    return rc;
}

int dav_index_prop_get(struct dav_index *ix, int64_t id, const char *ns, const char *name,
                       char *buf, size_t cap, size_t *len)
{
    if (!prop_name_valid(ns, name))
        return -EINVAL;
    sqlite3_stmt *s = ix_stmt(ix, S_PROP_GET);
    bind_name(s, id, ns, name);
    int rc = ix_step(ix, s, "prop_get");
    if (rc == 1) {
        const void *v = sqlite3_column_blob(s, 0);
        size_t n = (size_t)sqlite3_column_bytes(s, 0);
        *len = n;
        if (n > cap)
            rc = -ERANGE;
        else if (n > 0 && !v)
            rc = -ENOMEM;
        else
            rc = 0;
        if (rc == 0 && n > 0)
            memcpy(buf, v, n);
    } else if (rc == 0) {
        rc = -ENOENT;
    }
    ix_stmt_done(s);
    return rc;
}

static int prop_walk(struct dav_index *ix, enum ix_stmt which, int64_t id, dav_index_prop_cb cb,
                     void *ctx)
{
    sqlite3_stmt *s = ix_stmt(ix, which);
    bool with_values = which == S_PROP_LIST;
    int rc;
    sqlite3_bind_int64(s, 1, id);
    for (;;) {
        rc = ix_step(ix, s, "prop_list");
        if (rc <= 0)
            break;
        const char *ns = (const char *)sqlite3_column_text(s, 0);
        const char *name = (const char *)sqlite3_column_text(s, 1);
        const char *value = NULL;
        size_t value_len = 0;
        if (with_values) {
            value = sqlite3_column_blob(s, 2);
            value_len = (size_t)sqlite3_column_bytes(s, 2);
            if (!value)
                value = "";
        }
        if (!ns || !name) {
            rc = -ENOMEM;
            break;
        }
        rc = cb(ctx, ns, name, value, value_len);
        if (rc)
            break;
    }
    ix_stmt_done(s);
    return rc;
}

int dav_index_prop_list(struct dav_index *ix, int64_t id, dav_index_prop_cb cb, void *ctx)
{
    return prop_walk(ix, S_PROP_LIST, id, cb, ctx);
}

int dav_index_prop_names(struct dav_index *ix, int64_t id, dav_index_prop_cb cb, void *ctx)
{
    return prop_walk(ix, S_PROP_NAMES, id, cb, ctx);
}

