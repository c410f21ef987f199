/* SPDX-License-Identifier: MIT */
/*
 * The metadata index: what WebDAV and the sync clients need to know about a user's file tree
 * beyond what stat() says — stable file ids, folder ETags that change when anything below
 * changes, dead properties, locks and the bytes used.
 *
 * This is the narrow interface a second backend (PostgreSQL) would implement; index_sqlite.c is
 * the one there is, in DATA/fastfile.db next to the account store (auth/store.h), whose users
 * table it references: open the account store once before the first dav_index_open on a data
 * directory. An index handle belongs to one thread at a time: each thread opens its own.
 *
 * Paths are relative to the user's root, in bytes as on disk: "" is the root, "a/b.txt" a
 * member; no leading or trailing '/', no empty, "." or ".." segments (-EINVAL otherwise), at
 * most DAV_INDEX_PATH_MAX bytes (-ENAMETOOLONG).
 *
 * Every write is one transaction. Any change to an entry (create, modify, delete, move, copy)
 * gives every ancestor folder up to the user's root a new ETag in the same transaction.
 *
 * Every function returns 0 or a negative errno: -ENOENT (no such entry, file id, property or
 * lock), -EEXIST (the destination exists, a lock token taken), -ENOTDIR (a path goes through a
 * file), -EINVAL (a bad path or argument), -EAGAIN (a lock conflicts: HTTP 423), -E2BIG (a
 * value over its size limit, a walk over its entry limit), -ENOSPC (too many properties on one
 * file), -EBUSY (another writer held the database past the busy timeout), -ENOMEM, -EPROTO (the
 * database is not usable: a newer index schema, corruption; details logged), -EIO.
 *
 * Callbacks run synchronously, during the walk of a stepping statement, and their arguments are
 * valid only during the call. A callback may call the read-only functions of the same handle
 * (lookups, dav_index_prop_*get/list/names, dav_index_lock_find/get) — PROPFIND needs a
 * member's properties while listing — but not the function it was called from, and no write.
 * A callback returning non-zero stops the walk and that value is returned.
 */
#ifndef DAV_INDEX_H
#define DAV_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** The index schema version this binary writes and understands (kept in dav_meta, not in
 *  PRAGMA user_version, which belongs to the account store). */
#define DAV_INDEX_SCHEMA_VERSION 3

/** Longest path, in bytes, without the NUL. */
#define DAV_INDEX_PATH_MAX 4095
/** Longest ETag, quotes included, with the NUL. */
#define DAV_INDEX_ETAG_MAX 64
/** Longest lock token, in bytes. */
#define DAV_INDEX_TOKEN_MAX 128
/** Longest lock owner XML fragment, in bytes. */
#define DAV_INDEX_OWNER_MAX 2048
/** Longest property namespace URI and local name, each, in bytes. */
#define DAV_INDEX_PROP_NAME_MAX 1024

/** Limits on dead properties; zero fields take the defaults (256 properties, 64 KiB). */
struct dav_index_limits {
    uint32_t props_per_file;
    uint32_t prop_value_max; /* bytes */
};

/** What stat() said about a path, as the index keeps it. */
struct dav_stat {
    bool is_dir;
    uint64_t size; /* ignored for folders (kept as 0) */
    int64_t mtime_ns;
    uint64_t inode;
    int64_t btime_ns; /* birth time; the mtime when the file system keeps none */
};

struct dav_entry {
    int64_t id; /* the file id: unique in the database, never reused, kept across MOVE */
    int64_t user_id;
    bool is_dir;
    uint64_t size;
    int64_t mtime_ns;
    uint64_t inode;
    int64_t btime_ns; /* as in dav_stat; 0 when not known (rows of index schema 1) */
    char etag[DAV_INDEX_ETAG_MAX]; /* quotes included */
    char path[DAV_INDEX_PATH_MAX + 1];
    const char *name; /* the last segment, inside path ("" for the root) */
};

enum dav_lock_scope { DAV_LOCK_EXCLUSIVE, DAV_LOCK_SHARED };

struct dav_lock {
    char token[DAV_INDEX_TOKEN_MAX + 1]; /* e.g. "urn:uuid:..." */
    int64_t user_id;
    char path[DAV_INDEX_PATH_MAX + 1]; /* the lock root */
    bool is_infinite;                  /* Depth: infinity (else 0) */
    enum dav_lock_scope scope;
    char owner[DAV_INDEX_OWNER_MAX + 1]; /* XML fragment as sent, may be "" */
    int64_t expires;                     /* unix seconds */
    int64_t created;                     /* unix seconds */
};

/** One PROPPATCH instruction: set ns:name to value (value_len bytes, opaque), or remove it. */
struct dav_prop_op {
    bool is_remove;
    const char *ns; /* "" for no namespace */
    const char *name;
    const char *value; /* set only; need not be NUL terminated */
    size_t value_len;
};

struct dav_index;

typedef int (*dav_index_entry_cb)(void *ctx, const struct dav_entry *e);
typedef int (*dav_index_prop_cb)(void *ctx, const char *ns, const char *name, const char *value,
                                 size_t value_len);
typedef int (*dav_index_lock_cb)(void *ctx, const struct dav_lock *lk);

/** True when path is a valid index path (see above). */
bool dav_index_path_valid(const char *path);

/**
 * Open the index in data_dir/fastfile.db (the account store must have created it) and bring its
 * schema to DAV_INDEX_SCHEMA_VERSION. limits may be NULL (defaults). A newer index schema is
 * refused with -EPROTO and a message in err; so is a file without the account tables.
 */
int dav_index_open(const char *data_dir, const struct dav_index_limits *limits,
                   struct dav_index **out, char *err, size_t errlen);
/** Close; NULL is a no-op. */
void dav_index_close(struct dav_index *ix);

/* --- entries --- */

int dav_index_lookup(struct dav_index *ix, int64_t user_id, const char *path, struct dav_entry *e);
int dav_index_lookup_id(struct dav_index *ix, int64_t id, struct dav_entry *e);

/**
 * After the server wrote path (PUT, MKCOL, a finished upload): record st, creating missing
 * ancestor folder rows, and give path (if a folder) and its ancestors new ETags even when st
 * looks unchanged. A file that turned into a folder or back loses its row, subtree, properties
 * and locks and gets a new id. e (may be NULL) receives the entry as stored.
 */
int dav_index_upsert(struct dav_index *ix, int64_t user_id, const char *path,
                     const struct dav_stat *st, struct dav_entry *e);

/**
 * Whether st is news to the row e: another type, inode, size (files) or mtime, or a birth time
 * the row does not have yet. dav_index_sync writes exactly when this holds.
 */
bool dav_index_stat_differs(const struct dav_entry *e, const struct dav_stat *st);

/**
 * The server touched path and stat() said st (NULL: ENOENT). When that differs from the row
 * (no row, another type, inode, size or mtime), bring the row in line as dav_index_upsert or
 * dav_index_delete would and set *changed; else nothing is written (a read only). changed and e
 * may be NULL; e is left untouched when st is NULL.
 */
int dav_index_sync(struct dav_index *ix, int64_t user_id, const char *path,
                   const struct dav_stat *st, bool *changed, struct dav_entry *e);

/** Delete path and everything below it with their properties and locks (-ENOENT: no row). */
int dav_index_delete(struct dav_index *ix, int64_t user_id, const char *path);

/**
 * MOVE from to: the entry and its subtree change path and keep their ids and properties.
 * Locks rooted at or below from are removed (RFC 4918 §7.5: a lock does not move with its
 * resource); locks of a depth-infinity lock above to cover the moved entries by path. An
 * existing to is deleted first (with its locks, §9.9.3) when overwrite, else -EEXIST.
 * -EINVAL when from is the root, to equals from or lies inside it, or from lies inside to.
 */
int dav_index_move(struct dav_index *ix, int64_t user_id, const char *from, const char *to,
                   bool overwrite);

/**
 * COPY from to: the copies get new ids and copies of the dead properties, not the locks. A
 * folder copied with is_recursive false copies the folder row alone (Depth: 0). Copied files
 * keep the source's stat fields and ETag until dav_index_sync sees the new files; copied
 * folders get new ETags. Overwrite and -EINVAL as for dav_index_move (to may not lie inside from).
 */
int dav_index_copy(struct dav_index *ix, int64_t user_id, const char *from, const char *to,
                   bool overwrite, bool is_recursive);

/** The members of folder path in name order (bytewise), streamed: PROPFIND Depth 1. */
int dav_index_list(struct dav_index *ix, int64_t user_id, const char *path, dav_index_entry_cb cb,
                   void *ctx);

/** dav_index_list from the first member whose name sorts after after: a listing resumed. */
int dav_index_list_after(struct dav_index *ix, int64_t user_id, const char *path,
                         const char *after, dav_index_entry_cb cb, void *ctx);

/**
 * path and everything below it (PROPFIND Depth infinity), path first, then in path order.
 * More than limit entries: -E2BIG before cb is called at all (so a refusal can still be sent).
 */
int dav_index_walk(struct dav_index *ix, int64_t user_id, const char *path, size_t limit,
                   dav_index_entry_cb cb, void *ctx);

/** What is below path with a path that sorts after after, in path order: a walk resumed. */
int dav_index_walk_after(struct dav_index *ix, int64_t user_id, const char *path,
                         const char *after, dav_index_entry_cb cb, void *ctx);

/** Bytes in the user's files, kept up to date by every write. */
int dav_index_quota_used(struct dav_index *ix, int64_t user_id, int64_t *used);

/* --- dead properties, by file id --- */

/**
 * PROPPATCH: apply ops in order in one transaction, all or nothing. Removing a property that
 * is not there is not an error (RFC 4918 §9.2). On failure *failed (may be NULL) is the index
 * of the op that failed (-E2BIG value too long, -ENOSPC too many properties, -EINVAL a bad
 * name), or n when the file id is unknown (-ENOENT) or the database failed.
 */
int dav_index_prop_patch(struct dav_index *ix, int64_t id, const struct dav_prop_op *ops, size_t n,
                         size_t *failed);

/**
 * Copy the value of ns:name into buf (cap bytes, not NUL terminated) and its length into *len.
 * -ENOENT when absent; -ERANGE when cap is too small (then *len is the length needed).
 */
int dav_index_prop_get(struct dav_index *ix, int64_t id, const char *ns, const char *name,
                       char *buf, size_t cap, size_t *len);
/** Every property of file id (ns, name order), with values. */
int dav_index_prop_list(struct dav_index *ix, int64_t id, dav_index_prop_cb cb, void *ctx);
/** Every property name of file id (value NULL, value_len 0): PROPFIND propname. */
int dav_index_prop_names(struct dav_index *ix, int64_t id, dav_index_prop_cb cb, void *ctx);

/*
 * dav_index_list_after with the members' dead properties read in the same query, instead of
 * a query per member: cb gets each member and a cursor over its properties, which
 * dav_index_props_each walks (value NULL, value_len 0 when !with_values) or which cb may leave
 * unread. The cursor is valid only during that call of cb.
 */
struct dav_index_props;
typedef int (*dav_index_entry_props_cb)(void *ctx, const struct dav_entry *e,
                                        struct dav_index_props *props);

int dav_index_list_props(struct dav_index *ix, int64_t user_id, const char *path,
                         const char *after, dav_index_entry_props_cb cb, void *ctx);
int dav_index_props_each(struct dav_index_props *props, bool with_values, dav_index_prop_cb cb,
                         void *ctx);

/* --- locks, by path --- */

/**
 * Create lock lk (all fields but created, which becomes now) unless it conflicts (RFC 4918
 * §6.1, §7, §9.10): with a lock on the same path, a depth-infinity lock on an ancestor, or —
 * when lk is depth infinity — a lock below lk->path; exclusive conflicts with anything,
 * shared only with exclusive. Conflict: -EAGAIN, and *conflict (may be NULL) is one of the
 * conflicting locks. Expired locks never conflict and are purged on the way.
 */
int dav_index_lock_create(struct dav_index *ix, const struct dav_lock *lk, int64_t now,
                          struct dav_lock *conflict);
/** New expiry for a live lock of user_id; lk (may be NULL) receives it. */
int dav_index_lock_refresh(struct dav_index *ix, int64_t user_id, const char *token,
                           int64_t expires, int64_t now, struct dav_lock *lk);
/** UNLOCK: remove user_id's lock token (-ENOENT when unknown or expired). */
int dav_index_lock_remove(struct dav_index *ix, int64_t user_id, const char *token, int64_t now);
/** The live lock with this token. */
int dav_index_lock_get(struct dav_index *ix, const char *token, int64_t now, struct dav_lock *lk);
/**
 * Live locks that cover path: rooted at path, or depth infinity on an ancestor; with
 * with_descendants (an operation of depth infinity on a folder) also those rooted below path.
 */
int dav_index_lock_find(struct dav_index *ix, int64_t user_id, const char *path,
                        bool with_descendants, int64_t now, dav_index_lock_cb cb, void *ctx);
/** Delete every lock expired by now (the lazy purge, for a periodic sweep). */
int dav_index_lock_purge(struct dav_index *ix, int64_t now);

#endif
