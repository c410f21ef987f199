/* SPDX-License-Identifier: MIT */
/*
 * Private to the SQLite index (index_sqlite.c, index_prop.c, index_lock.c): the handle, its
 * prepared statements and the small helpers they share. Not part of dav/index.h.
 */
#ifndef DAV_INDEX_DB_H
#define DAV_INDEX_DB_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "index.h"

enum ix_stmt {
    S_BEGIN,
    S_BEGIN_READ,
    S_COMMIT,
    S_ROLLBACK,
    S_SEQ_BUMP,
    /* entries */
    S_GET,
    S_GET_ID,
    S_INSERT,
    S_UPDATE_STAT,
    S_TOUCH_DIR,
    S_DEL_ONE,
    S_DEL_TREE,
    S_MOVE_ONE,
    S_MOVE_TREE,
    S_COPY_ONE,
    S_COPY_TREE,
    S_COPY_PROPS_ONE,
    S_COPY_PROPS_TREE,
    S_TOUCH_TREE_DIRS,
    S_LIST,
    S_WALK,
    S_WALK_COUNT,
    S_USED,
    /* properties */
    S_PROP_SET,
    S_PROP_DEL,
    S_PROP_COUNT,
    S_PROP_GET,
    S_PROP_LIST,
    S_PROP_NAMES,
    S_LIST_PROPS,
    /* locks */
    S_LOCK_ADD,
    S_LOCK_AT,
    S_LOCK_BELOW,
    S_LOCK_GET,
    S_LOCK_REFRESH,
    S_LOCK_REMOVE,
    S_LOCK_PURGE,
    S_LOCK_DEL_ONE,
    S_LOCK_DEL_TREE,
    S_COUNT,
};

struct dav_index {
    sqlite3 *db;
    sqlite3_stmt *stmt[S_COUNT];
    struct dav_index_limits limits;
    int64_t seq; /* this write transaction's change number; 0 until first needed */
    bool in_tx;  /* between ix_tx_begin and ix_tx_end, holding the process's write turn */
};

/* Bounds of the strict subtree of a path: lo <= member < hi (see bind_subtree). */
struct ix_range {
    char lo[DAV_INDEX_PATH_MAX + 2];
    char hi[DAV_INDEX_PATH_MAX + 2];
    bool is_root;
};

int ix_db_error(struct dav_index *ix, int rc, const char *op);
sqlite3_stmt *ix_stmt(struct dav_index *ix, enum ix_stmt id);
void ix_stmt_done(sqlite3_stmt *s);
void ix_bind_text(sqlite3_stmt *s, int i, const char *text);
int ix_step(struct dav_index *ix, sqlite3_stmt *s, const char *op);
int ix_exec(struct dav_index *ix, sqlite3_stmt *s, const char *op);
int ix_column_text(sqlite3_stmt *s, int col, char *dst, size_t cap);
int ix_tx_begin(struct dav_index *ix);
int ix_tx_end(struct dav_index *ix, int rc);

void ix_range_init(struct ix_range *r, const char *path);
/* Bind r to parameters i (lo) and i + 1 (hi); r must outlive the statement's use. */
void ix_bind_range(sqlite3_stmt *s, int i, const struct ix_range *r);

/* Delete the locks rooted at path or below it (inside a transaction). */
int ix_lock_del_tree(struct dav_index *ix, int64_t user_id, const char *path);

#endif
