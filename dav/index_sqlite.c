/* SPDX-License-Identifier: MIT */
/*
 * The metadata index on SQLite (see index.h): opening, the schema and its versioning, the
 * prepared statements and the helpers the other parts share (index_db.h). The entries (file
 * ids, ETags, MOVE/COPY/DELETE, listings, quota) are in index_entry.c, dead properties in
 * index_prop.c, locks in index_lock.c.
 *
 * One file with the account store. The index lives in DATA/fastfile.db beside auth/'s tables,
 * so PRAGMA user_version is not ours: it is the account store's schema version. The index keeps
 * its own in dav_meta('schema_version'), migrates it the way the store does (one step per
 * BEGIN IMMEDIATE transaction, the version re-read inside it, so concurrent openers migrate
 * once) and refuses a newer one untouched. Every table is named dav_*. The file is created —
 * 0600, by path only, never opened with open() here (see make_private() in auth/store_sqlite.c:
 * closing any descriptor of a database drops this process's POSIX locks on it) — by the account
 * store; dav_index_open requires the users table and says so when it is missing.
 *
 * Users: dav_entries, dav_locks and dav_usage reference users(id) ON DELETE CASCADE. Deleting
 * an account deletes the metadata of its tree in the same transaction: nothing serves those
 * files any more, and a user created later under the same name gets a new id (AUTOINCREMENT),
 * so it could never have found the rows again anyway. dav_props cascade from dav_entries.
 *
 * Rows: one per file and folder, (user_id, path) unique, path relative to the user's root, ""
 * for the root; parent and name are stored too so that a folder's members are an index range
 * (PROPFIND Depth 1 never scans a subtree). A subtree is the path range [p + "/", p + "0"):
 * '0' is the byte after '/', so with bytewise (BINARY) order exactly the paths that start with
 * p + "/" fall inside; for the root the range is every non-empty path.
 *
 * ETags: a file's is http_etag_format(inode, size, mtime) like the HTTP layer's, quotes
 * included. A folder's is "<id>-<change>" in hex: change is dav_meta('change_seq'), bumped
 * once per write transaction that touches an ETag, so a folder ETag never repeats, not even for
 * a folder deleted and made again, and it is not derived from the folder's own stat (a folder's
 * mtime does not change when a grandchild does). Every write gives the changed entry's
 * ancestors up to the root a new one in the same transaction.
 *
 * Quota: triggers keep dav_usage(user_id, used) in step with every insert, delete and size
 * change of a file row, so no write path can forget it.
 *
 * Durability: synchronous=FULL like the account store: a file id or ETag that comes back older
 * after a power cut makes sync clients redo work or see conflicts.
 *
 * Known gaps: one handle per thread (SQLITE_OPEN_NOMUTEX), unchecked. Copied files keep the
 * source's stat fields and ETag until dav_index_sync sees the copy (the copy's inode differs, so
 * its ETag changes once). Paths are compared as bytes: no Unicode normalisation, no case folding.
 */
#include "index.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index_db.h"
#include "log.h"

#define DB_FILE "fastfile.db"
#define BUSY_TIMEOUT_MS 5000
#define WAL_RETRY_MS 10

#define DEFAULT_PROPS_PER_FILE 256
#define DEFAULT_PROP_VALUE_MAX (64 * 1024)

static const char *const migrations[] = {
    /* 1: the initial schema (dav_meta itself is made by migrate()). */
    "CREATE TABLE dav_entries("
    " id INTEGER PRIMARY KEY AUTOINCREMENT," /* never reused: clients remember file ids */
    " user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    " path TEXT NOT NULL,"
    " parent TEXT," /* NULL for the root */
    " name TEXT NOT NULL,"
    " is_dir INTEGER NOT NULL CHECK(is_dir IN (0, 1)),"
    " size INTEGER NOT NULL,"
    " mtime_ns INTEGER NOT NULL,"
    " inode INTEGER NOT NULL,"
    " etag TEXT NOT NULL,"
    " UNIQUE(user_id, path));"
    "CREATE INDEX dav_entries_parent ON dav_entries(user_id, parent, name);"
    "CREATE TABLE dav_props("
    " file_id INTEGER NOT NULL REFERENCES dav_entries(id) ON DELETE CASCADE,"
    " ns TEXT NOT NULL,"
    " name TEXT NOT NULL,"
    " value BLOB NOT NULL," /* BLOB: the bytes come back exactly as given */
    " PRIMARY KEY(file_id, ns, name)) WITHOUT ROWID;"
    "CREATE TABLE dav_locks("
    " token TEXT PRIMARY KEY NOT NULL,"
    " user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    " path TEXT NOT NULL,"
    " depth_infinite INTEGER NOT NULL,"
    " exclusive INTEGER NOT NULL,"
    " owner TEXT NOT NULL,"
    " expires INTEGER NOT NULL,"
    " created INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX dav_locks_path ON dav_locks(user_id, path);"
    "CREATE INDEX dav_locks_expires ON dav_locks(expires);"
    "CREATE TABLE dav_usage("
    " user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,"
    " used INTEGER NOT NULL);"
    "CREATE TRIGGER dav_usage_insert AFTER INSERT ON dav_entries WHEN NOT NEW.is_dir BEGIN"
    " INSERT INTO dav_usage(user_id, used) VALUES(NEW.user_id, NEW.size)"
    "  ON CONFLICT(user_id) DO UPDATE SET used = used + excluded.used;"
    " END;"
    "CREATE TRIGGER dav_usage_delete AFTER DELETE ON dav_entries WHEN NOT OLD.is_dir BEGIN"
    " UPDATE dav_usage SET used = used - OLD.size WHERE user_id = OLD.user_id;"
    " END;"
    "CREATE TRIGGER dav_usage_update AFTER UPDATE OF size, is_dir ON dav_entries BEGIN"
    " UPDATE dav_usage SET used = used"
    "  - CASE WHEN OLD.is_dir THEN 0 ELSE OLD.size END"
    "  + CASE WHEN NEW.is_dir THEN 0 ELSE NEW.size END"
    "  WHERE user_id = NEW.user_id;"
    " END;"
    "INSERT INTO dav_meta(key, value) VALUES('change_seq', 0);",
    /* 2: birth times, so that a listing's creationdate costs no statx per entry; 0 until the
     * row's stat is next recorded. */
    "ALTER TABLE dav_entries ADD COLUMN btime_ns INTEGER NOT NULL DEFAULT 0;",
    /* 3: a folder's listing (PROPFIND Depth 1) read from the index alone, without a lookup in
     * the table per member: the parent index holds every column of the listing. */
    "DROP INDEX dav_entries_parent;"
    "CREATE INDEX dav_entries_parent ON dav_entries(user_id, parent, name, path, is_dir, size,"
    " mtime_ns, inode, etag, btime_ns);",
};
static_assert(sizeof(migrations) / sizeof(migrations[0]) == DAV_INDEX_SCHEMA_VERSION,
              "one migration per schema version");

#define ENTRY_COLS "id, user_id, path, is_dir, size, mtime_ns, inode, etag, btime_ns"
#define INSERT_COLS "user_id, path, parent, name, is_dir, size, mtime_ns, inode, etag, btime_ns"
/* A folder's ETag from its id and the transaction's change number (SQL printf is 64-bit). */
#define FOLDER_ETAG(change) "printf('\"%x-%x\"', id, " change ")"
/* The path of a member of the moved or copied subtree: to (?4) + path after from (?5 = 1 +
 * bytes of from). Through BLOB so that substr counts bytes, not characters. */
#define REBASE(col) "CAST(?4 || substr(CAST(" col " AS BLOB), ?5) AS TEXT)"
#define SUBTREE "user_id = ?1 AND path >= ?2 AND path < ?3"
#define LOCK_COLS "token, user_id, path, depth_infinite, exclusive, owner, expires, created"

/* clang-format off: SQL built from macros reads better by hand */
static const char *const stmt_sql[S_COUNT] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_BEGIN_READ] = "BEGIN", /* a snapshot for several reads */
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_SEQ_BUMP] = "UPDATE dav_meta SET value = value + 1 WHERE key = 'change_seq' "
                   "RETURNING value",
    [S_GET] = "SELECT " ENTRY_COLS " FROM dav_entries WHERE user_id = ?1 AND path = ?2",
    [S_GET_ID] = "SELECT " ENTRY_COLS " FROM dav_entries WHERE id = ?1",
    [S_INSERT] =
        "INSERT INTO dav_entries(" INSERT_COLS ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [S_UPDATE_STAT] =
        "UPDATE dav_entries SET size = ?2, mtime_ns = ?3, inode = ?4, etag = ?5, btime_ns = ?6"
        " WHERE id = ?1",
    [S_TOUCH_DIR] = "UPDATE dav_entries SET etag = " FOLDER_ETAG("?3")
                    " WHERE user_id = ?1 AND path = ?2 AND is_dir",
    [S_DEL_ONE] = "DELETE FROM dav_entries WHERE user_id = ?1 AND path = ?2",
    [S_DEL_TREE] = "DELETE FROM dav_entries WHERE " SUBTREE,
    [S_MOVE_ONE] = "UPDATE dav_entries SET path = ?3, parent = ?4, name = ?5 "
                   "WHERE user_id = ?1 AND path = ?2",
    [S_MOVE_TREE] = "UPDATE dav_entries SET path = " REBASE("path") ","
                    " parent = " REBASE("parent")
                    " WHERE " SUBTREE,
    [S_COPY_ONE] = "INSERT INTO dav_entries(" INSERT_COLS ") SELECT user_id, ?3, ?4, ?5, is_dir, "
                   "size, mtime_ns, inode, etag, btime_ns FROM dav_entries WHERE user_id = ?1 AND path = ?2",
    [S_COPY_TREE] = "INSERT INTO dav_entries(" INSERT_COLS ")"
                    " SELECT user_id, " REBASE("path") ", " REBASE("parent") ","
                    " name, is_dir, size, mtime_ns, inode, etag, btime_ns"
                    " FROM dav_entries WHERE " SUBTREE " ORDER BY path",
    [S_COPY_PROPS_ONE] = "INSERT INTO dav_props(file_id, ns, name, value) "
                         "SELECT ?2, ns, name, value FROM dav_props WHERE file_id = ?1",
    [S_COPY_PROPS_TREE] =
        "INSERT INTO dav_props(file_id, ns, name, value) SELECT n.id, p.ns, p.name, p.value "
        "FROM dav_entries o JOIN dav_props p ON p.file_id = o.id "
        "JOIN dav_entries n ON n.user_id = o.user_id AND n.path = " REBASE("o.path")
        " WHERE o.user_id = ?1 AND o.path >= ?2 AND o.path < ?3",
    [S_TOUCH_TREE_DIRS] =
        "UPDATE dav_entries SET etag = " FOLDER_ETAG("?4") " WHERE " SUBTREE " AND is_dir",
    [S_LIST] = "SELECT " ENTRY_COLS " FROM dav_entries WHERE user_id = ?1 AND parent = ?2 "
               "AND name > ?3 ORDER BY name",
    [S_WALK] = "SELECT " ENTRY_COLS " FROM dav_entries WHERE " SUBTREE " AND path > ?4 "
               "ORDER BY path",
    [S_WALK_COUNT] = "SELECT count(*) FROM (SELECT 1 FROM dav_entries WHERE " SUBTREE " LIMIT ?4)",
    [S_USED] = "SELECT used FROM dav_usage WHERE user_id = ?1",
    [S_PROP_SET] = "INSERT INTO dav_props(file_id, ns, name, value) VALUES(?1, ?2, ?3, ?4) "
                   "ON CONFLICT(file_id, ns, name) DO UPDATE SET value = excluded.value",
    [S_PROP_DEL] = "DELETE FROM dav_props WHERE file_id = ?1 AND ns = ?2 AND name = ?3",
    [S_PROP_COUNT] = "SELECT count(*) FROM dav_props WHERE file_id = ?1",
    [S_PROP_GET] = "SELECT value FROM dav_props WHERE file_id = ?1 AND ns = ?2 AND name = ?3",
    [S_PROP_LIST] = "SELECT ns, name, value FROM dav_props WHERE file_id = ?1 ORDER BY ns, name",
    /* S_LIST with each member's properties: a row per property (or one with NULLs), grouped
     * by member in listing order; within a member in key order, which no reader needs (a
     * sort per member would cost more than it shows). */
    [S_LIST_PROPS] = "SELECT e.id, e.user_id, e.path, e.is_dir, e.size, e.mtime_ns, e.inode,"
                     " e.etag, e.btime_ns, p.ns, p.name, p.value FROM dav_entries e"
                     " LEFT JOIN dav_props p ON p.file_id = e.id"
                     " WHERE e.user_id = ?1 AND e.parent = ?2 AND e.name > ?3 ORDER BY e.name",
    [S_PROP_NAMES] = "SELECT ns, name FROM dav_props WHERE file_id = ?1 ORDER BY ns, name",
    [S_LOCK_ADD] = "INSERT INTO dav_locks(" LOCK_COLS ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [S_LOCK_AT] = "SELECT " LOCK_COLS " FROM dav_locks WHERE user_id = ?1 AND path = ?2 "
                  "AND expires > ?3",
    [S_LOCK_BELOW] = "SELECT " LOCK_COLS " FROM dav_locks WHERE " SUBTREE " AND expires > ?4 "
                     "ORDER BY path",
    [S_LOCK_GET] = "SELECT " LOCK_COLS " FROM dav_locks WHERE token = ?1 AND expires > ?2",
    [S_LOCK_REFRESH] = "UPDATE dav_locks SET expires = ?3 "
                       "WHERE user_id = ?1 AND token = ?2 AND expires > ?4",
    [S_LOCK_REMOVE] = "DELETE FROM dav_locks WHERE user_id = ?1 AND token = ?2 AND expires > ?3",
    [S_LOCK_PURGE] = "DELETE FROM dav_locks WHERE expires <= ?1",
    [S_LOCK_DEL_ONE] = "DELETE FROM dav_locks WHERE user_id = ?1 AND path = ?2",
    [S_LOCK_DEL_TREE] = "DELETE FROM dav_locks WHERE " SUBTREE,
};
/* clang-format on */

/* --- errors and statements (shared, see index_db.h) --- */

__attribute__((format(printf, 3, 4))) static void set_err(char *err, size_t errlen, const char *fmt,
                                                          ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

int ix_db_error(struct dav_index *ix, int rc, const char *op)
{
    switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
        return -EEXIST;
    case SQLITE_CONSTRAINT_FOREIGNKEY:
        return -ENOENT;
    default:
        break;
    }
    log_warn("event=index_error op=%s rc=%d msg=\"%s\"", op, rc, sqlite3_errmsg(ix->db));
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return -EBUSY;
    case SQLITE_NOMEM:
        return -ENOMEM;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return -EPROTO;
    default:
        return -EIO;
    }
}

sqlite3_stmt *ix_stmt(struct dav_index *ix, enum ix_stmt id)
{
    sqlite3_stmt *s = ix->stmt[id];
    /* Still stepping: a callback called back into the walk it runs in (index.h forbids it). */
    assert(!sqlite3_stmt_busy(s));
    return s;
}

void ix_stmt_done(sqlite3_stmt *s)
{
    sqlite3_reset(s);
    /* Bound SQLITE_STATIC: keep no pointer into the caller's buffers past the call. */
    sqlite3_clear_bindings(s);
}

void ix_bind_text(sqlite3_stmt *s, int i, const char *text)
{
    sqlite3_bind_text(s, i, text, (int)strlen(text), SQLITE_STATIC);
}

int ix_step(struct dav_index *ix, sqlite3_stmt *s, const char *op)
{
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    return ix_db_error(ix, rc, op);
}

int ix_exec(struct dav_index *ix, sqlite3_stmt *s, const char *op)
{
    int rc = ix_step(ix, s, op);
    ix_stmt_done(s);
    return rc > 0 ? 0 : rc; /* RETURNING-less writes never yield rows */
}

int ix_column_text(sqlite3_stmt *s, int col, char *dst, size_t cap)
{
    const unsigned char *text = sqlite3_column_text(s, col);
    size_t len = (size_t)sqlite3_column_bytes(s, col);
    if (!text)
        return -ENOMEM; /* every text column read is NOT NULL */
    if (len >= cap) {
        log_warn("event=index_bad_row column=%s len=%zu", sqlite3_column_name(s, col), len);
        return -EPROTO;
    }
    memcpy(dst, text, len);
    dst[len] = '\0';
    return 0;
}

/*
 * The handles of one process take turns to write through this lock rather than through
 * SQLite's busy handler, which sleeps and polls (1, 2, 5, 10 ms...): with several WebDAV
 * workers writing at once, the sleeps, not the writes, were the cost (PUT 64 KiB with 16
 * clients: 1,180 -> 1,620 req/s). Other processes (the `fastfile user` commands) still meet
 * the busy handler.
 */
static pthread_mutex_t write_turn = PTHREAD_MUTEX_INITIALIZER;

int ix_tx_begin(struct dav_index *ix)
{
    ix->seq = 0;
    pthread_mutex_lock(&write_turn);
    int rc = ix_exec(ix, ix_stmt(ix, S_BEGIN), "begin");
    if (rc != 0)
        pthread_mutex_unlock(&write_turn);
    ix->in_tx = rc == 0;
    return rc;
}

int ix_tx_end(struct dav_index *ix, int rc)
{
    if (rc == 0)
        rc = ix_exec(ix, ix_stmt(ix, S_COMMIT), "commit");
    /* Some failures (a full disk, I/O errors) have rolled the transaction back already. */
    if (rc != 0 && !sqlite3_get_autocommit(ix->db))
        (void)ix_exec(ix, ix_stmt(ix, S_ROLLBACK), "rollback");
    if (ix->in_tx) {
        ix->in_tx = false;
        pthread_mutex_unlock(&write_turn);
    }
    return rc;
}

void ix_range_init(struct ix_range *r, const char *path)
{
    size_t len = strlen(path);
    assert(len <= DAV_INDEX_PATH_MAX);
    r->is_root = len == 0;
    /* The root's strict subtree is every non-empty path: from "\x01" (paths hold no NUL) up to
     * a BLOB, which SQLite orders after every TEXT value (see bind). */
    if (r->is_root) {
        strcpy(r->lo, "\x01");
        r->hi[0] = '\0';
        return;
    }
    memcpy(r->lo, path, len);
    memcpy(r->hi, path, len);
    r->lo[len] = '/';
    r->hi[len] = '0'; /* the byte after '/' */
    r->lo[len + 1] = r->hi[len + 1] = '\0';
}

void ix_bind_range(sqlite3_stmt *s, int i, const struct ix_range *r)
{
    ix_bind_text(s, i, r->lo);
    if (r->is_root)
        sqlite3_bind_blob(s, i + 1, "", 0, SQLITE_STATIC); /* zero-length BLOB, not NULL */
    else
        ix_bind_text(s, i + 1, r->hi);
}

/* --- open and close --- */

static int open_error(struct dav_index *ix, int rc, const char *path, const char *what, char *err,
                      size_t errlen)
{
    set_err(err, errlen, "cannot %s %s: %s", what, path, sqlite3_errmsg(ix->db));
    return ix_db_error(ix, rc, what);
}

/* An integer from a one-off query; *found false when it returned no row. */
static int query_once(struct dav_index *ix, const char *sql, int64_t *v, bool *found)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(ix->db, sql, -1, &s, NULL);
    *found = false;
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            *v = sqlite3_column_int64(s, 0);
            *found = true;
            rc = SQLITE_OK;
        } else if (rc == SQLITE_DONE) {
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(s);
    return rc;
}

static int table_exists(struct dav_index *ix, const char *name, bool *exists)
{
    char sql[128];
    int64_t n = 0;
    bool found;
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '%s'", name);
    int rc = query_once(ix, sql, &n, &found);
    *exists = n > 0;
    return rc;
}

/* The index schema version (0: none yet); refuses a newer one. */
static int read_version(struct dav_index *ix, const char *path, int64_t *version, char *err,
                        size_t errlen)
{
    bool exists = false, found = false;
    *version = 0;
    int rc = table_exists(ix, "dav_meta", &exists);
    if (rc == SQLITE_OK && exists)
        rc = query_once(ix, "SELECT value FROM dav_meta WHERE key = 'schema_version'", version,
                        &found);
    if (rc != SQLITE_OK)
        return open_error(ix, rc, path, "read", err, errlen);
    if (*version > DAV_INDEX_SCHEMA_VERSION || *version < 0) {
        set_err(err, errlen,
                "%s holds a file index written by a newer fastfile (index schema %lld, this "
                "binary knows %d)",
                path, (long long)*version, DAV_INDEX_SCHEMA_VERSION);
        log_error("event=index_schema_newer file=%s schema=%lld known=%d", path,
                  (long long)*version, DAV_INDEX_SCHEMA_VERSION);
        return -EPROTO;
    }
    return 0;
}

static int journal_wal(struct dav_index *ix, const char *path)
{
    /* As in the account store: the switch fails at once (no busy handler) when two
     * connections race for it, so retry for as long as the busy timeout. */
    for (int waited_ms = 0;; waited_ms += WAL_RETRY_MS) {
        sqlite3_stmt *s = NULL;
        int rc = sqlite3_prepare_v2(ix->db, "PRAGMA journal_mode = WAL", -1, &s, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            const char *mode = (const char *)sqlite3_column_text(s, 0);
            if (!mode || strcmp(mode, "wal") != 0)
                log_warn("event=index_no_wal file=%s journal_mode=%s", path, mode ? mode : "-");
            rc = SQLITE_OK;
        }
        sqlite3_finalize(s);
        if ((rc & 0xff) != SQLITE_BUSY || waited_ms >= BUSY_TIMEOUT_MS)
            return rc;
        sqlite3_sleep(WAL_RETRY_MS);
    }
}

static int migrate(struct dav_index *ix, const char *path, int64_t version, char *err,
                   size_t errlen)
{
    int rc = 0;
    while (rc == 0 && version < DAV_INDEX_SCHEMA_VERSION) {
        int src = sqlite3_exec(ix->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        if (src != SQLITE_OK)
            return open_error(ix, src, path, "lock", err, errlen);
        /* Another opener may have migrated while we waited for the lock. */
        rc = read_version(ix, path, &version, err, errlen);
        if (rc == 0 && version < DAV_INDEX_SCHEMA_VERSION) {
            char sql[128];
            src = sqlite3_exec(ix->db,
                               "CREATE TABLE IF NOT EXISTS dav_meta(key TEXT PRIMARY KEY NOT NULL,"
                               " value INTEGER NOT NULL) WITHOUT ROWID",
                               NULL, NULL, NULL);
            if (src == SQLITE_OK)
                src = sqlite3_exec(ix->db, migrations[version], NULL, NULL, NULL);
            snprintf(sql, sizeof(sql),
                     "INSERT OR REPLACE INTO dav_meta(key, value) VALUES('schema_version', %lld)",
                     (long long)version + 1);
            if (src == SQLITE_OK)
                src = sqlite3_exec(ix->db, sql, NULL, NULL, NULL);
            if (src == SQLITE_OK)
                src = sqlite3_exec(ix->db, "COMMIT", NULL, NULL, NULL);
            if (src != SQLITE_OK) {
                snprintf(sql, sizeof(sql), "migrate to index schema %lld", (long long)version + 1);
                rc = open_error(ix, src, path, sql, err, errlen);
            } else {
                log_info("event=index_migrated file=%s schema=%lld", path, (long long)version + 1);
                version++;
            }
        }
        if (!sqlite3_get_autocommit(ix->db))
            sqlite3_exec(ix->db, "ROLLBACK", NULL, NULL, NULL);
    }
    return rc;
}

static int prepare_all(struct dav_index *ix, const char *path, char *err, size_t errlen)
{
    for (int i = 0; i < S_COUNT; i++) {
        int rc = sqlite3_prepare_v3(ix->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                                    &ix->stmt[i], NULL);
        if (rc != SQLITE_OK) {
            set_err(err, errlen, "cannot use %s: %s", path, sqlite3_errmsg(ix->db));
            log_error("event=index_prepare_failed file=%s stmt=%d msg=\"%s\"", path, i,
                      sqlite3_errmsg(ix->db));
            return (rc & 0xff) == SQLITE_NOMEM ? -ENOMEM : -EPROTO;
        }
    }
    return 0;
}

int dav_index_open(const char *data_dir, const struct dav_index_limits *limits,
                   struct dav_index **out, char *err, size_t errlen)
{
    struct dav_index *ix = NULL;
    char path[PATH_MAX];
    int rc;

    *out = NULL;
    set_err(err, errlen, "%s", "");
    int n = snprintf(path, sizeof(path), "%s/%s", data_dir, DB_FILE);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        rc = -ENAMETOOLONG;
        set_err(err, errlen, "data directory name too long");
        goto out;
    }
    ix = calloc(1, sizeof(*ix));
    if (!ix) {
        rc = -ENOMEM;
        set_err(err, errlen, "out of memory");
        goto out;
    }
    ix->limits.props_per_file = DEFAULT_PROPS_PER_FILE;
    ix->limits.prop_value_max = DEFAULT_PROP_VALUE_MAX;
    if (limits && limits->props_per_file)
        ix->limits.props_per_file = limits->props_per_file;
    if (limits && limits->prop_value_max)
        ix->limits.prop_value_max = limits->prop_value_max;
    /* No SQLITE_OPEN_CREATE: the account store makes the file, private, by path. */
    int src = sqlite3_open_v2(path, &ix->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (src != SQLITE_OK) {
        if (!ix->db) {
            rc = -ENOMEM;
            set_err(err, errlen, "out of memory");
        } else {
            rc = open_error(ix, src, path, "open", err, errlen);
        }
        goto out;
    }
    sqlite3_extended_result_codes(ix->db, 1);
    sqlite3_busy_timeout(ix->db, BUSY_TIMEOUT_MS);
    int64_t version = 0;
    rc = read_version(ix, path, &version, err, errlen);
    if (rc)
        goto out;
    bool has_users = false;
    src = table_exists(ix, "users", &has_users);
    if (src != SQLITE_OK) {
        rc = open_error(ix, src, path, "read", err, errlen);
        goto out;
    }
    if (!has_users) {
        set_err(err, errlen, "%s has no accounts: open the account store first", path);
        log_error("event=index_no_users file=%s", path);
        rc = -EPROTO;
        goto out;
    }
    src = sqlite3_exec(ix->db, "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;", NULL, NULL,
                       NULL);
    if (src == SQLITE_OK)
        src = journal_wal(ix, path);
    if (src != SQLITE_OK) {
        rc = open_error(ix, src, path, "configure", err, errlen);
        goto out;
    }
    rc = migrate(ix, path, version, err, errlen);
    if (rc == 0)
        rc = prepare_all(ix, path, err, errlen);
    if (rc)
        goto out;
    *out = ix;
    ix = NULL;
out:
    dav_index_close(ix);
    return rc;
}

void dav_index_close(struct dav_index *ix)
{
    if (!ix)
        return;
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(ix->stmt[i]);
    sqlite3_close(ix->db);
    free(ix);
}
