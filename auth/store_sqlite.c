/* SPDX-License-Identifier: MIT */
/*
 * The account store on SQLite (see store.h): DATA/fastfile.db, mode 0600, in WAL mode with
 * foreign keys on. Every statement is prepared once at open and reset after each use.
 *
 * Durability: synchronous=FULL. Account changes are rare and each must survive a power cut
 * once acknowledged (a password change that comes back after a crash would reopen what the
 * user meant to close), so the cost of an fsync per commit is worth it here.
 *
 * Schema: PRAGMA user_version is the version; migrations[i] takes version i to i + 1 in one
 * transaction taken with BEGIN IMMEDIATE, so that processes opening the same file at once
 * (loop threads, the CLI) migrate it exactly once. A newer schema is refused untouched.
 *
 * Errors: busy after the timeout is -EBUSY, a unique key taken -EEXIST, a missing parent row
 * (foreign key) -ENOENT, a database that is not one or is corrupt -EPROTO, anything else -EIO
 * with a log line. Log lines name the operation and SQLite's message, never a bound value.
 *
 * Known gap: one handle per thread (SQLITE_OPEN_NOMUTEX); nothing checks that.
 */
#include "store.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#define DB_FILE "fastfile.db"
/* Loop threads, work threads and the CLI all write the same file: wait for each other. */
#define BUSY_TIMEOUT_MS 5000
#define WAL_RETRY_MS 10

static const char *const migrations[] = {
    /* 1: the initial schema. AUTOINCREMENT so that an id is never reused: other records
     * (locks, logs) may name a deleted user or app password by id. */
    "CREATE TABLE users("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " name TEXT UNIQUE NOT NULL,"
    " hash TEXT NOT NULL,"
    " created INTEGER NOT NULL);"
    "CREATE TABLE app_passwords("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    " label TEXT NOT NULL,"
    " digest BLOB UNIQUE NOT NULL CHECK(length(digest) = 32),"
    " created INTEGER NOT NULL,"
    " last_used INTEGER NOT NULL DEFAULT 0);"
    /* Foreign-key cascades look children up by parent: index them. */
    "CREATE INDEX app_passwords_user ON app_passwords(user_id);"
    "CREATE TABLE sessions("
    " digest BLOB PRIMARY KEY NOT NULL CHECK(length(digest) = 32),"
    " user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    " csrf TEXT NOT NULL,"
    " created INTEGER NOT NULL,"
    " last_seen INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX sessions_user ON sessions(user_id);"
    "CREATE TABLE failed_logins("
    " id INTEGER PRIMARY KEY,"
    " addr TEXT NOT NULL,"
    " user TEXT NOT NULL,"
    " at INTEGER NOT NULL);"
    "CREATE INDEX failed_logins_at ON failed_logins(at);"
    "CREATE TABLE meta(key TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT INTO meta(key, value) VALUES('cred_gen', 0);",
};
static_assert(sizeof(migrations) / sizeof(migrations[0]) == STORE_SCHEMA_VERSION,
              "one migration per schema version");

enum stmt_id {
    S_BEGIN,
    S_COMMIT,
    S_ROLLBACK,
    S_GEN_GET,
    S_GEN_BUMP,
    S_USER_ADD,
    S_USER_GET,
    S_USER_GET_ID,
    S_USER_SET_HASH,
    S_USER_END_SESSIONS,
    S_USER_DEL,
    S_USER_LIST,
    S_USER_COUNT,
    S_TOKEN_ADD,
    S_TOKEN_FIND,
    S_TOKEN_LIST,
    S_TOKEN_REVOKE,
    S_TOKEN_TOUCH,
    S_SESSION_ADD,
    S_SESSION_GET,
    S_SESSION_TOUCH,
    S_SESSION_DEL,
    S_SESSION_PURGE,
    S_FAILURE_ADD,
    S_FAILURE_LIST,
    S_FAILURE_PURGE,
    S_COUNT,
};

#define USER_COLS "id, name, hash, created"
#define TOKEN_COLS "id, user_id, label, created, last_used"

static const char *const stmt_sql[S_COUNT] = {
    /* IMMEDIATE: take the write lock up front, where the busy timeout applies, instead of
     * failing with SQLITE_BUSY when a read transaction turns into a write. */
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_GEN_GET] = "SELECT value FROM meta WHERE key = 'cred_gen'",
    [S_GEN_BUMP] = "UPDATE meta SET value = value + 1 WHERE key = 'cred_gen'",
    [S_USER_ADD] = "INSERT INTO users(name, hash, created) VALUES(?1, ?2, ?3)",
    [S_USER_GET] = "SELECT " USER_COLS " FROM users WHERE name = ?1",
    [S_USER_GET_ID] = "SELECT " USER_COLS " FROM users WHERE id = ?1",
    [S_USER_SET_HASH] = "UPDATE users SET hash = ?2 WHERE name = ?1",
    [S_USER_END_SESSIONS] =
        "DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE name = ?1)",
    [S_USER_DEL] = "DELETE FROM users WHERE name = ?1",
    [S_USER_LIST] = "SELECT " USER_COLS " FROM users ORDER BY name",
    [S_USER_COUNT] = "SELECT count(*) FROM users",
    [S_TOKEN_ADD] = "INSERT INTO app_passwords(user_id, label, digest, created) "
                    "VALUES(?1, ?2, ?3, ?4)",
    [S_TOKEN_FIND] =
        "SELECT " TOKEN_COLS " FROM app_passwords WHERE digest = ?2 AND user_id = ?1",
    [S_TOKEN_LIST] = "SELECT " TOKEN_COLS " FROM app_passwords WHERE user_id = ?1 ORDER BY id",
    [S_TOKEN_REVOKE] = "DELETE FROM app_passwords WHERE id = ?2 AND user_id = ?1",
    [S_TOKEN_TOUCH] = "UPDATE app_passwords SET last_used = ?2 WHERE id = ?1",
    [S_SESSION_ADD] = "INSERT INTO sessions(digest, user_id, csrf, created, last_seen) "
                      "VALUES(?1, ?2, ?3, ?4, ?4)",
    [S_SESSION_GET] = "SELECT user_id, csrf, created, last_seen FROM sessions WHERE digest = ?1",
    [S_SESSION_TOUCH] = "UPDATE sessions SET last_seen = ?2 WHERE digest = ?1",
    [S_SESSION_DEL] = "DELETE FROM sessions WHERE digest = ?1",
    [S_SESSION_PURGE] = "DELETE FROM sessions WHERE last_seen < ?1 OR created < ?2",
    [S_FAILURE_ADD] = "INSERT INTO failed_logins(addr, user, at) VALUES(?1, ?2, ?3)",
    [S_FAILURE_LIST] =
        "SELECT addr, user, at FROM failed_logins WHERE at >= ?1 ORDER BY at, id",
    [S_FAILURE_PURGE] = "DELETE FROM failed_logins WHERE at < ?1",
};

struct store {
    sqlite3 *db;
    sqlite3_stmt *stmt[S_COUNT];
};

bool store_name_valid(const char *name)
{
    if (!name || name[0] == '.' || name[0] == '-')
        return false;
    size_t len = strnlen(name, STORE_NAME_MAX + 1);
    if (len == 0 || len > STORE_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

/* --- errors --- */

__attribute__((format(printf, 3, 4))) static void set_err(char *err, size_t errlen,
                                                          const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Map a failed SQLite call (extended code rc) to -errno; logs what callers cannot expect. */
static int db_error(struct store *st, int rc, const char *op)
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
    log_warn("event=store_error op=%s rc=%d msg=\"%s\"", op, rc, sqlite3_errmsg(st->db));
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

/* --- statements --- */

static sqlite3_stmt *stmt_get(struct store *st, enum stmt_id id)
{
    sqlite3_stmt *s = st->stmt[id];
    /* Still stepping: a list callback called back into the store, which is not allowed. */
    assert(!sqlite3_stmt_busy(s));
    return s;
}

static void stmt_done(sqlite3_stmt *s)
{
    sqlite3_reset(s);
    /* Values are bound SQLITE_STATIC (no copies of digests inside SQLite): do not keep
     * pointers into the caller's buffers past the call. */
    sqlite3_clear_bindings(s);
}

/* Binding a small value without a copy to an index the SQL has cannot fail, so the binders'
 * results are not checked. */
static void bind_text(sqlite3_stmt *s, int i, const char *text)
{
    sqlite3_bind_text(s, i, text, (int)strlen(text), SQLITE_STATIC);
}

static void bind_digest(sqlite3_stmt *s, int i, const uint8_t digest[TOKEN_DIGEST_LEN])
{
    sqlite3_bind_blob(s, i, digest, TOKEN_DIGEST_LEN, SQLITE_STATIC);
}

/* One step: 1 with a row, 0 when done, or -errno. */
static int step(struct store *st, sqlite3_stmt *s, const char *op)
{
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    return db_error(st, rc, op);
}

/* Run a statement that returns no rows. */
static int exec_stmt(struct store *st, sqlite3_stmt *s, const char *op)
{
    int rc = step(st, s, op);
    stmt_done(s);
    return rc;
}

/* Run a write that must change a row: -ENOENT when it matched none. */
static int exec_change(struct store *st, sqlite3_stmt *s, const char *op)
{
    int rc = exec_stmt(st, s, op);
    /* Counts only the statement's own rows, not those of foreign-key cascades. */
    if (rc == 0 && sqlite3_changes(st->db) == 0)
        rc = -ENOENT;
    return rc;
}

/* Run a query whose first row's first column is an integer. */
static int query_int(struct store *st, sqlite3_stmt *s, const char *op, int64_t *v)
{
    int rc = step(st, s, op);
    if (rc == 1) {
        *v = sqlite3_column_int64(s, 0);
        rc = 0;
    } else if (rc == 0) {
        rc = -ENOENT;
    }
    stmt_done(s);
    return rc;
}

/* Copy text column col into dst of cap bytes. A value that does not fit was not written by
 * this store: the database is not what we think it is. */
static int column_text(sqlite3_stmt *s, int col, char *dst, size_t cap)
{
    const unsigned char *text = sqlite3_column_text(s, col);
    size_t len = (size_t)sqlite3_column_bytes(s, col);
    /* Every text column is NOT NULL: no text means the conversion ran out of memory. */
    if (!text)
        return -ENOMEM;
    if (len >= cap) {
        log_warn("event=store_bad_row column=%s len=%zu", sqlite3_column_name(s, col), len);
        return -EPROTO;
    }
    memcpy(dst, text, len);
    dst[len] = '\0';
    return 0;
}

/* --- transactions --- */

static int tx_begin(struct store *st)
{
    return exec_stmt(st, stmt_get(st, S_BEGIN), "begin");
}

/* Commit when rc is 0, else roll back; returns the outcome. */
static int tx_end(struct store *st, int rc)
{
    if (rc == 0)
        rc = exec_stmt(st, stmt_get(st, S_COMMIT), "commit");
    /* Some failures (a full disk, I/O errors) have rolled the transaction back already. */
    if (rc != 0 && !sqlite3_get_autocommit(st->db))
        (void)exec_stmt(st, stmt_get(st, S_ROLLBACK), "rollback");
    return rc;
}

static int gen_bump(struct store *st)
{
    return exec_change(st, stmt_get(st, S_GEN_BUMP), "gen_bump");
}

/* --- open and close --- */

/*
 * Create path 0600 if missing, or take group and other access away from it: it holds password
 * hashes. SQLite gives its -wal and -shm files the database's mode when it makes them.
 *
 * Never open an existing database file here: POSIX record locks belong to the process, and
 * closing any descriptor of a file drops all of them, so a stray open and close while another
 * thread has the database open would silently unlock it (SQLite's own warning, "howtocorrupt").
 * O_EXCL opens only a file that nobody can have open yet; the rest goes by path.
 */
static int make_private(const char *path, bool create, char *err, size_t errlen)
{
    int rc = 0;
    if (create) {
        int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0600);
        if (fd >= 0) {
            close(fd);
            return 0;
        }
        if (errno != EEXIST)
            rc = -errno;
    }
    struct stat sb;
    if (rc == 0 && stat(path, &sb) < 0) {
        if (errno == ENOENT && !create)
            return 0;
        rc = -errno;
    } else if (rc == 0 && (sb.st_mode & 077)) {
        log_warn("event=store_mode_tightened file=%s mode=%o", path, (unsigned)sb.st_mode & 0777);
        if (chmod(path, sb.st_mode & 0700) < 0)
            rc = -errno;
    }
    if (rc)
        set_err(err, errlen, "cannot make %s private: %s", path, strerror(-rc));
    return rc;
}

static int make_files_private(const char *path, char *err, size_t errlen)
{
    /* Left by a run that ended without closing, made when the database had a wider mode. */
    static const char *const side_files[] = {"-wal", "-shm"};
    char side[PATH_MAX + 8];

    int rc = make_private(path, true, err, errlen);
    for (size_t i = 0; rc == 0 && i < sizeof(side_files) / sizeof(side_files[0]); i++) {
        snprintf(side, sizeof(side), "%s%s", path, side_files[i]);
        rc = make_private(side, false, err, errlen);
    }
    return rc;
}

/* A failure while opening: -errno, with what and SQLite's message in err. */
static int open_error(struct store *st, int rc, const char *path, const char *what, char *err,
                      size_t errlen)
{
    set_err(err, errlen, "cannot %s %s: %s", what, path, sqlite3_errmsg(st->db));
    return db_error(st, rc, what);
}

static int read_version(struct store *st, const char *path, int *version, char *err,
                        size_t errlen)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            *version = sqlite3_column_int(s, 0);
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_OK)
        return open_error(st, rc, path, "read", err, errlen);
    if (*version > STORE_SCHEMA_VERSION) {
        set_err(err, errlen, "%s was written by a newer fastfile (schema %d, this binary knows %d)",
                path, *version, STORE_SCHEMA_VERSION);
        log_error("event=store_schema_newer file=%s schema=%d known=%d", path, *version,
                  STORE_SCHEMA_VERSION);
        return -EPROTO;
    }
    if (*version < 0) {
        set_err(err, errlen, "%s is not a fastfile database (user_version %d)", path, *version);
        log_error("event=store_schema_unknown file=%s schema=%d", path, *version);
        return -EPROTO;
    }
    return 0;
}

/* Switch to WAL (it persists in the file, so this is a no-op after the first time). */
static int journal_wal(struct store *st, const char *path)
{
    /* The switch needs the exclusive lock, and when two connections holding a shared lock both
     * want it SQLite fails one at once instead of calling the busy handler (waiting could
     * deadlock): threads opening a new database together meet exactly that. So retry here, for
     * as long as the busy handler would wait. */
    for (int waited_ms = 0;; waited_ms += WAL_RETRY_MS) {
        sqlite3_stmt *s = NULL;
        int rc = sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL", -1, &s, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            /* A filesystem without shared memory keeps the rollback journal: slower, still
             * correct. */
            const char *mode = (const char *)sqlite3_column_text(s, 0);
            if (!mode || strcmp(mode, "wal") != 0)
                log_warn("event=store_no_wal file=%s journal_mode=%s", path, mode ? mode : "-");
            rc = SQLITE_OK;
        }
        sqlite3_finalize(s);
        if ((rc & 0xff) != SQLITE_BUSY || waited_ms >= BUSY_TIMEOUT_MS)
            return rc;
        sqlite3_sleep(WAL_RETRY_MS);
    }
}

/* Connection settings; none of them persist in the file except the journal mode. */
static int configure(struct store *st, const char *path, char *err, size_t errlen)
{
    /* secure_delete: a changed password's old hash must not linger in free pages. */
    int rc = sqlite3_exec(st->db,
                          "PRAGMA foreign_keys = ON;"
                          "PRAGMA synchronous = FULL;"
                          "PRAGMA secure_delete = ON;",
                          NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = journal_wal(st, path);
    if (rc != SQLITE_OK)
        return open_error(st, rc, path, "configure", err, errlen);
    return 0;
}

/* One migration step, inside the caller's transaction. */
static int migrate_step(struct store *st, int version)
{
    char sql[64];
    int rc = sqlite3_exec(st->db, migrations[version], NULL, NULL, NULL);
    if (rc == SQLITE_OK) {
        snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", version + 1);
        rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);
    }
    return rc;
}

/* Bring the schema from version to STORE_SCHEMA_VERSION, one step per transaction. */
static int migrate(struct store *st, const char *path, int version, char *err, size_t errlen)
{
    int rc = 0;
    while (rc == 0 && version < STORE_SCHEMA_VERSION) {
        int src = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        if (src != SQLITE_OK)
            return open_error(st, src, path, "lock", err, errlen);
        /* Another process may have migrated while we waited for the lock: then there is
         * nothing to do and the empty transaction just ends. */
        rc = read_version(st, path, &version, err, errlen);
        if (rc == 0 && version < STORE_SCHEMA_VERSION) {
            src = migrate_step(st, version);
            if (src == SQLITE_OK)
                src = sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
            if (src != SQLITE_OK) {
                char what[48];
                snprintf(what, sizeof(what), "migrate to schema %d", version + 1);
                rc = open_error(st, src, path, what, err, errlen);
            } else {
                log_info("event=store_migrated file=%s schema=%d", path, version + 1);
                version++;
            }
        }
        if (!sqlite3_get_autocommit(st->db))
            sqlite3_exec(st->db, rc ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
    }
    return rc;
}

static int prepare_all(struct store *st, const char *path, char *err, size_t errlen)
{
    for (int i = 0; i < S_COUNT; i++) {
        int rc = sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                                    &st->stmt[i], NULL);
        if (rc != SQLITE_OK) {
            /* The schema is not the one the version promises. */
            set_err(err, errlen, "cannot use %s: %s", path, sqlite3_errmsg(st->db));
            log_error("event=store_prepare_failed file=%s stmt=%d msg=\"%s\"", path, i,
                      sqlite3_errmsg(st->db));
            return (rc & 0xff) == SQLITE_NOMEM ? -ENOMEM : -EPROTO;
        }
    }
    return 0;
}

int store_open(const char *data_dir, struct store **out, char *err, size_t errlen)
{
    struct store *st = NULL;
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
    rc = make_files_private(path, err, errlen);
    if (rc)
        goto out;
    st = calloc(1, sizeof(*st));
    if (!st) {
        rc = -ENOMEM;
        set_err(err, errlen, "out of memory");
        goto out;
    }
    /* No SQLITE_OPEN_CREATE: the file was just made with the right mode. NOMUTEX: a handle is
     * used by one thread at a time (store.h). */
    int src = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (src != SQLITE_OK) {
        if (!st->db) {
            rc = -ENOMEM;
            set_err(err, errlen, "out of memory");
        } else {
            rc = open_error(st, src, path, "open", err, errlen);
        }
        goto out;
    }
    sqlite3_extended_result_codes(st->db, 1);
    sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
    int version = 0;
    /* Check the version first: a newer schema is refused before anything is written. */
    rc = read_version(st, path, &version, err, errlen);
    if (rc)
        goto out;
    rc = configure(st, path, err, errlen);
    if (rc)
        goto out;
    rc = migrate(st, path, version, err, errlen);
    if (rc)
        goto out;
    rc = prepare_all(st, path, err, errlen);
    if (rc)
        goto out;
    *out = st;
    st = NULL;
out:
    store_close(st);
    return rc;
}

void store_close(struct store *st)
{
    if (!st)
        return;
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(st->stmt[i]);
    sqlite3_close(st->db);
    free(st);
}

/* --- users --- */

static bool hash_valid(const char *hash)
{
    size_t len = strnlen(hash, PW_HASH_MAX);
    return len > 0 && len < PW_HASH_MAX;
}

int store_user_add(struct store *st, const char *name, const char *hash, int64_t now,
                   int64_t *id)
{
    if (!store_name_valid(name) || !hash_valid(hash))
        return -EINVAL;
    sqlite3_stmt *s = stmt_get(st, S_USER_ADD);
    bind_text(s, 1, name);
    bind_text(s, 2, hash);
    sqlite3_bind_int64(s, 3, now);
    int rc = exec_stmt(st, s, "user_add");
    if (rc == 0 && id)
        *id = sqlite3_last_insert_rowid(st->db);
    return rc;
}

static int read_user(sqlite3_stmt *s, struct store_user *u)
{
    u->id = sqlite3_column_int64(s, 0);
    u->created = sqlite3_column_int64(s, 3);
    int rc = column_text(s, 1, u->name, sizeof(u->name));
    if (rc == 0)
        rc = column_text(s, 2, u->hash, sizeof(u->hash));
    return rc;
}

static int user_get(struct store *st, sqlite3_stmt *s, const char *op, struct store_user *u)
{
    int rc = step(st, s, op);
    if (rc == 1)
        rc = read_user(s, u);
    else if (rc == 0)
        rc = -ENOENT;
    stmt_done(s);
    return rc;
}

int store_user_get(struct store *st, const char *name, struct store_user *u)
{
    sqlite3_stmt *s = stmt_get(st, S_USER_GET);
    bind_text(s, 1, name);
    return user_get(st, s, "user_get", u);
}

int store_user_get_id(struct store *st, int64_t id, struct store_user *u)
{
    sqlite3_stmt *s = stmt_get(st, S_USER_GET_ID);
    sqlite3_bind_int64(s, 1, id);
    return user_get(st, s, "user_get_id", u);
}

int store_user_set_hash(struct store *st, const char *name, const char *hash)
{
    if (!hash_valid(hash))
        return -EINVAL;
    int rc = tx_begin(st);
    if (rc)
        return rc;
    sqlite3_stmt *s = stmt_get(st, S_USER_SET_HASH);
    bind_text(s, 1, name);
    bind_text(s, 2, hash);
    rc = exec_change(st, s, "user_set_hash");
    if (rc)
        goto out;
    /* Sessions started with the old password must not outlive it. */
    s = stmt_get(st, S_USER_END_SESSIONS);
    bind_text(s, 1, name);
    rc = exec_stmt(st, s, "user_end_sessions");
    if (rc)
        goto out;
    rc = gen_bump(st);
out:
    return tx_end(st, rc);
}

int store_user_del(struct store *st, const char *name)
{
    int rc = tx_begin(st);
    if (rc)
        return rc;
    /* Foreign keys take the user's app passwords and sessions with it. */
    sqlite3_stmt *s = stmt_get(st, S_USER_DEL);
    bind_text(s, 1, name);
    rc = exec_change(st, s, "user_del");
    if (rc == 0)
        rc = gen_bump(st);
    return tx_end(st, rc);
}

int store_user_list(struct store *st, int (*cb)(void *ctx, const struct store_user *u),
                    void *ctx)
{
    sqlite3_stmt *s = stmt_get(st, S_USER_LIST);
    struct store_user u;
    int rc;
    for (;;) {
        rc = step(st, s, "user_list");
        if (rc <= 0)
            break;
        rc = read_user(s, &u);
        if (rc)
            break;
        rc = cb(ctx, &u);
        if (rc)
            break;
    }
    stmt_done(s);
    return rc;
}

int store_user_count(struct store *st, int64_t *n)
{
    return query_int(st, stmt_get(st, S_USER_COUNT), "user_count", n);
}

/* --- app passwords --- */

int store_token_add(struct store *st, int64_t user_id, const char *label,
                    const uint8_t digest[TOKEN_DIGEST_LEN], int64_t now, int64_t *id)
{
    if (strnlen(label, STORE_LABEL_MAX + 1) > STORE_LABEL_MAX)
        return -EINVAL;
    sqlite3_stmt *s = stmt_get(st, S_TOKEN_ADD);
    sqlite3_bind_int64(s, 1, user_id);
    bind_text(s, 2, label);
    bind_digest(s, 3, digest);
    sqlite3_bind_int64(s, 4, now);
    int rc = exec_stmt(st, s, "token_add");
    if (rc == 0 && id)
        *id = sqlite3_last_insert_rowid(st->db);
    return rc;
}

static int read_token(sqlite3_stmt *s, struct store_token *t)
{
    t->id = sqlite3_column_int64(s, 0);
    t->user_id = sqlite3_column_int64(s, 1);
    t->created = sqlite3_column_int64(s, 3);
    t->last_used = sqlite3_column_int64(s, 4);
    return column_text(s, 2, t->label, sizeof(t->label));
}

int store_token_find(struct store *st, int64_t user_id, const uint8_t digest[TOKEN_DIGEST_LEN],
                     struct store_token *t)
{
    sqlite3_stmt *s = stmt_get(st, S_TOKEN_FIND);
    sqlite3_bind_int64(s, 1, user_id);
    bind_digest(s, 2, digest);
    int rc = step(st, s, "token_find");
    if (rc == 1)
        rc = read_token(s, t);
    else if (rc == 0)
        rc = -ENOENT;
    stmt_done(s);
    return rc;
}

int store_token_list(struct store *st, int64_t user_id,
                     int (*cb)(void *ctx, const struct store_token *t), void *ctx)
{
    sqlite3_stmt *s = stmt_get(st, S_TOKEN_LIST);
    struct store_token t;
    int rc;
    sqlite3_bind_int64(s, 1, user_id);
    for (;;) {
        rc = step(st, s, "token_list");
        if (rc <= 0)
            break;
        rc = read_token(s, &t);
        if (rc)
            break;
        rc = cb(ctx, &t);
        if (rc)
            break;
    }
    stmt_done(s);
    return rc;
}

int store_token_revoke(struct store *st, int64_t user_id, int64_t id)
{
    int rc = tx_begin(st);
    if (rc)
        return rc;
    /* Matching on user_id too: a user can only revoke their own app passwords. */
    sqlite3_stmt *s = stmt_get(st, S_TOKEN_REVOKE);
    sqlite3_bind_int64(s, 1, user_id);
    sqlite3_bind_int64(s, 2, id);
    rc = exec_change(st, s, "token_revoke");
    if (rc == 0)
        rc = gen_bump(st);
    return tx_end(st, rc);
}

int store_token_touch(struct store *st, int64_t id, int64_t now)
{
    sqlite3_stmt *s = stmt_get(st, S_TOKEN_TOUCH);
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, now);
    return exec_change(st, s, "token_touch");
}

/* --- browser sessions --- */

int store_session_add(struct store *st, const uint8_t digest[TOKEN_DIGEST_LEN], int64_t user_id,
                      const char *csrf, int64_t now)
{
    size_t len = strnlen(csrf, STORE_CSRF_MAX + 1);
    if (len == 0 || len > STORE_CSRF_MAX)
        return -EINVAL;
    sqlite3_stmt *s = stmt_get(st, S_SESSION_ADD);
    bind_digest(s, 1, digest);
    sqlite3_bind_int64(s, 2, user_id);
    bind_text(s, 3, csrf);
    sqlite3_bind_int64(s, 4, now);
    return exec_stmt(st, s, "session_add");
}

int store_session_get(struct store *st, const uint8_t digest[TOKEN_DIGEST_LEN],
                      struct store_session *sess)
{
    sqlite3_stmt *s = stmt_get(st, S_SESSION_GET);
    bind_digest(s, 1, digest);
    int rc = step(st, s, "session_get");
    if (rc == 1) {
        sess->user_id = sqlite3_column_int64(s, 0);
        sess->created = sqlite3_column_int64(s, 2);
        sess->last_seen = sqlite3_column_int64(s, 3);
        rc = column_text(s, 1, sess->csrf, sizeof(sess->csrf));
    } else if (rc == 0) {
        rc = -ENOENT;
    }
    stmt_done(s);
    return rc;
}

int store_session_touch(struct store *st, const uint8_t digest[TOKEN_DIGEST_LEN], int64_t now)
{
    sqlite3_stmt *s = stmt_get(st, S_SESSION_TOUCH);
    bind_digest(s, 1, digest);
    sqlite3_bind_int64(s, 2, now);
    return exec_change(st, s, "session_touch");
}

int store_session_del(struct store *st, const uint8_t digest[TOKEN_DIGEST_LEN])
{
    sqlite3_stmt *s = stmt_get(st, S_SESSION_DEL);
    bind_digest(s, 1, digest);
    return exec_change(st, s, "session_del");
}

int store_session_purge(struct store *st, int64_t idle_before, int64_t created_before)
{
    sqlite3_stmt *s = stmt_get(st, S_SESSION_PURGE);
    sqlite3_bind_int64(s, 1, idle_before);
    sqlite3_bind_int64(s, 2, created_before);
    return exec_stmt(st, s, "session_purge");
}

/* --- failed logins --- */

int store_failure_add(struct store *st, const char *addr, const char *user, int64_t now)
{
    if (strnlen(addr, STORE_ADDR_MAX + 1) > STORE_ADDR_MAX)
        return -EINVAL;
    /* The name is whatever the client sent: keep at most a valid name's length of it, so that
     * a client cannot make the record grow at will. NULL: no name was given. */
    size_t ulen = user ? strnlen(user, STORE_NAME_MAX) : 0;
    sqlite3_stmt *s = stmt_get(st, S_FAILURE_ADD);
    bind_text(s, 1, addr);
    sqlite3_bind_text(s, 2, user ? user : "", (int)ulen, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, now);
    return exec_stmt(st, s, "failure_add");
}

int store_failure_list(struct store *st, int64_t since,
                       int (*cb)(void *ctx, const char *addr, const char *user, int64_t at),
                       void *ctx)
{
    sqlite3_stmt *s = stmt_get(st, S_FAILURE_LIST);
    int rc;
    sqlite3_bind_int64(s, 1, since);
    for (;;) {
        rc = step(st, s, "failure_list");
        if (rc <= 0)
            break;
        const char *addr = (const char *)sqlite3_column_text(s, 0);
        const char *user = (const char *)sqlite3_column_text(s, 1);
        if (!addr || !user) {
            rc = -ENOMEM;
            break;
        }
        rc = cb(ctx, addr, user, sqlite3_column_int64(s, 2));
        if (rc)
            break;
    }
    stmt_done(s);
    return rc;
}

int store_failure_purge(struct store *st, int64_t before)
{
    sqlite3_stmt *s = stmt_get(st, S_FAILURE_PURGE);
    sqlite3_bind_int64(s, 1, before);
    return exec_stmt(st, s, "failure_purge");
}

int store_cred_gen(struct store *st, int64_t *gen)
{
    return query_int(st, stmt_get(st, S_GEN_GET), "cred_gen", gen);
}
