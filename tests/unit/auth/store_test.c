/* SPDX-License-Identifier: MIT */
/*
 * Tests for auth/store_sqlite.c: schema creation and versioning, file modes, users, app
 * passwords, sessions, failed logins, the credential generation, foreign-key cascades and
 * several handles on one file. Each test gets a fresh directory; the file is inspected with
 * SQLite directly where the store API cannot show what is stored.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "store.h"

#define HASH_A "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
#define HASH_B "$argon2id$v=19$m=8,t=1,p=1$b3RoZXJzYWx0$b3RoZXJoYXNob3RoZXJo"

static char dir[64];
static char db_path[PATH_MAX];
static struct store *st;
static char err[256];

static void setup(void)
{
    log_set_level(LOG_ERROR);
    strcpy(dir, "/tmp/ff-store-test-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(db_path, sizeof(db_path), "%s/fastfile.db", dir);
    cr_assert_eq(store_open(dir, &st, err, sizeof(err)), 0, "%s", err);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void teardown(void)
{
    store_close(st);
    st = NULL;
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(store, .init = setup, .fini = teardown);

/* --- helpers --- */

static void reopen(void)
{
    store_close(st);
    st = NULL;
    cr_assert_eq(store_open(dir, &st, err, sizeof(err)), 0, "%s", err);
}

/* A connection of our own to the same file, to see what is really stored. */
static sqlite3 *raw_open(void)
{
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    return db;
}

static int64_t raw_int(const char *sql)
{
    sqlite3 *db = raw_open();
    sqlite3_stmt *s = NULL;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    cr_assert_eq(sqlite3_step(s), SQLITE_ROW, "%s", sql);
    int64_t v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

static void raw_exec(const char *sql)
{
    sqlite3 *db = raw_open();
    cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    sqlite3_close(db);
}

static int64_t add_user(const char *name)
{
    int64_t id = 0;
    cr_assert_eq(store_user_add(st, name, HASH_A, 1000, &id), 0, "add %s", name);
    cr_assert_gt(id, 0);
    return id;
}

static void digest_of(uint8_t d[TOKEN_DIGEST_LEN], uint8_t fill)
{
    memset(d, fill, TOKEN_DIGEST_LEN);
}

static int64_t gen(void)
{
    int64_t g = -1;
    cr_assert_eq(store_cred_gen(st, &g), 0);
    return g;
}

static mode_t mode_of(const char *path)
{
    struct stat sb;
    cr_assert_eq(stat(path, &sb), 0, "stat %s: %s", path, strerror(errno));
    return sb.st_mode & 07777;
}

/* --- opening, schema, files --- */

Test(store, open_creates_schema)
{
    int64_t n = -1;

    cr_assert_eq(err[0], '\0');
    cr_assert_eq(store_user_count(st, &n), 0);
    cr_assert_eq(n, 0);
    cr_assert_eq(gen(), 0);
    cr_assert_eq(raw_int("PRAGMA user_version"), STORE_SCHEMA_VERSION);
    cr_assert_eq(raw_int("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
                         "('users', 'app_passwords', 'sessions', 'failed_logins', 'meta')"),
                 5);
    cr_assert_eq(raw_int("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND "
                         "name = 'failed_logins_at'"),
                 1);
    /* WAL is recorded in the file: a fresh connection reports it */
    sqlite3 *db = raw_open();
    sqlite3_stmt *s = NULL;
    cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
    cr_assert_str_eq((const char *)sqlite3_column_text(s, 0), "wal");
    sqlite3_finalize(s);
    sqlite3_close(db);
}

Test(store, reopen_keeps_data)
{
    uint8_t d[TOKEN_DIGEST_LEN];
    struct store_user u;
    struct store_token t;

    int64_t id = add_user("alice");
    digest_of(d, 7);
    cr_assert_eq(store_token_add(st, id, "phone", d, 2000, NULL), 0);
    cr_assert_eq(store_token_revoke(st, id, 999), -ENOENT);
    reopen();
    cr_assert_eq(store_user_get(st, "alice", &u), 0);
    cr_assert_eq(u.id, id);
    cr_assert_eq(store_token_find(st, id, d, &t), 0);
    cr_assert_str_eq(t.label, "phone");
    cr_assert_eq(raw_int("PRAGMA user_version"), STORE_SCHEMA_VERSION);
    cr_assert_eq(raw_int("SELECT count(*) FROM meta"), 1, "migration not run twice");
}

Test(store, open_missing_dir)
{
    struct store *other = (struct store *)1;
    char path[PATH_MAX];

    snprintf(path, sizeof(path), "%s/no/such/dir", dir);
    cr_assert_eq(store_open(path, &other, err, sizeof(err)), -ENOENT);
    cr_assert_null(other);
    cr_assert_neq(strstr(err, "no/such/dir"), NULL, "%s", err);
}

Test(store, newer_schema_refused)
{
    char msg[64];

    store_close(st);
    st = NULL;
    snprintf(msg, sizeof(msg), "PRAGMA user_version = %d", STORE_SCHEMA_VERSION + 1);
    raw_exec(msg);
    struct store *other = (struct store *)1;
    cr_assert_eq(store_open(dir, &other, err, sizeof(err)), -EPROTO);
    cr_assert_null(other);
    snprintf(msg, sizeof(msg), "schema %d, this binary knows %d", STORE_SCHEMA_VERSION + 1,
             STORE_SCHEMA_VERSION);
    cr_assert_neq(strstr(err, msg), NULL, "%s", err);
    cr_assert_neq(strstr(err, "newer fastfile"), NULL, "%s", err);
    cr_assert_neq(strstr(err, db_path), NULL, "%s", err);
    /* refused untouched */
    cr_assert_eq(raw_int("PRAGMA user_version"), STORE_SCHEMA_VERSION + 1);
    /* a NULL err is fine too */
    cr_assert_eq(store_open(dir, &other, NULL, 0), -EPROTO);
}

Test(store, not_a_database_refused)
{
    store_close(st);
    st = NULL;
    remove(db_path);
    char side[PATH_MAX + 8];
    snprintf(side, sizeof(side), "%s-wal", db_path);
    remove(side);
    snprintf(side, sizeof(side), "%s-shm", db_path);
    remove(side);
    FILE *f = fopen(db_path, "w");
    cr_assert_not_null(f);
    for (int i = 0; i < 200; i++)
        fputs("this is not an SQLite database. ", f);
    fclose(f);
    struct store *other = NULL;
    cr_assert_eq(store_open(dir, &other, err, sizeof(err)), -EPROTO, "%s", err);
    cr_assert_null(other);
    cr_assert_neq(err[0], '\0');
}

Test(store, files_are_private)
{
    char wal[PATH_MAX + 8];

    cr_assert_eq(mode_of(db_path), 0600);
    add_user("alice");
    snprintf(wal, sizeof(wal), "%s-wal", db_path);
    cr_assert_eq(access(wal, F_OK), 0, "the WAL exists while the store is open");
    cr_assert_eq(mode_of(wal), 0600);
}

Test(store, open_tightens_a_wider_mode)
{
    store_close(st);
    st = NULL;
    cr_assert_eq(chmod(db_path, 0644), 0);
    reopen();
    cr_assert_eq(mode_of(db_path), 0600);
}

Test(store, foreign_keys_enforced)
{
    uint8_t d[TOKEN_DIGEST_LEN];

    digest_of(d, 1);
    /* no user 42: the foreign key refuses the rows */
    cr_assert_eq(store_token_add(st, 42, "x", d, 1, NULL), -ENOENT);
    cr_assert_eq(store_session_add(st, d, 42, "csrf", 1), -ENOENT);
    cr_assert_eq(raw_int("SELECT count(*) FROM app_passwords"), 0);
    cr_assert_eq(raw_int("SELECT count(*) FROM sessions"), 0);
}

/* --- users --- */

Test(store, name_valid)
{
    char max[STORE_NAME_MAX + 2];

    cr_assert(store_name_valid("alice"));
    cr_assert(store_name_valid("A.b_c-9"));
    cr_assert(store_name_valid("a"));
    cr_assert(store_name_valid("_x"));
    cr_assert(store_name_valid("a."));
    cr_assert_not(store_name_valid(""));
    cr_assert_not(store_name_valid(NULL));
    cr_assert_not(store_name_valid(".alice"));
    cr_assert_not(store_name_valid(".."));
    cr_assert_not(store_name_valid("-alice"));
    cr_assert_not(store_name_valid("al ice"));
    cr_assert_not(store_name_valid("al/ice"));
    cr_assert_not(store_name_valid("alice@example"));
    cr_assert_not(store_name_valid("al\xc3\xa9"));
    memset(max, 'n', STORE_NAME_MAX);
    max[STORE_NAME_MAX] = '\0';
    cr_assert(store_name_valid(max));
    max[STORE_NAME_MAX] = 'n';
    max[STORE_NAME_MAX + 1] = '\0';
    cr_assert_not(store_name_valid(max));
}

Test(store, user_add_get)
{
    struct store_user u;
    int64_t id = 0;

    cr_assert_eq(store_user_add(st, "alice", HASH_A, 1234, &id), 0);
    cr_assert_eq(store_user_get(st, "alice", &u), 0);
    cr_assert_eq(u.id, id);
    cr_assert_str_eq(u.name, "alice");
    cr_assert_str_eq(u.hash, HASH_A);
    cr_assert_eq(u.created, 1234);
    memset(&u, 0, sizeof(u));
    cr_assert_eq(store_user_get_id(st, id, &u), 0);
    cr_assert_str_eq(u.name, "alice");
    cr_assert_eq(store_user_get(st, "bob", &u), -ENOENT);
    cr_assert_eq(store_user_get(st, "Alice", &u), -ENOENT, "names are case-sensitive");
    cr_assert_eq(store_user_get_id(st, id + 1, &u), -ENOENT);
    int64_t n = 0;
    cr_assert_eq(store_user_count(st, &n), 0);
    cr_assert_eq(n, 1);
}

Test(store, user_add_refusals)
{
    char long_hash[PW_HASH_MAX + 1];
    int64_t id = 0;

    add_user("alice");
    cr_assert_eq(store_user_add(st, "alice", HASH_B, 1, &id), -EEXIST);
    cr_assert_eq(store_user_add(st, "-bad", HASH_A, 1, &id), -EINVAL);
    cr_assert_eq(store_user_add(st, "bob", "", 1, &id), -EINVAL);
    memset(long_hash, 'h', PW_HASH_MAX);
    long_hash[PW_HASH_MAX] = '\0';
    cr_assert_eq(store_user_add(st, "bob", long_hash, 1, &id), -EINVAL);
    long_hash[PW_HASH_MAX - 1] = '\0';
    cr_assert_eq(store_user_add(st, "bob", long_hash, 1, &id), 0, "the longest hash fits");
    int64_t n = 0;
    cr_assert_eq(store_user_count(st, &n), 0);
    cr_assert_eq(n, 2);
}

Test(store, user_set_hash_ends_sessions_and_bumps_gen)
{
    uint8_t d1[TOKEN_DIGEST_LEN];
    uint8_t d2[TOKEN_DIGEST_LEN];
    uint8_t d3[TOKEN_DIGEST_LEN];
    struct store_session s;
    struct store_user u;

    int64_t alice = add_user("alice");
    int64_t bob = add_user("bob");
    digest_of(d1, 1);
    digest_of(d2, 2);
    digest_of(d3, 3);
    cr_assert_eq(store_session_add(st, d1, alice, "c1", 10), 0);
    cr_assert_eq(store_session_add(st, d2, alice, "c2", 10), 0);
    cr_assert_eq(store_session_add(st, d3, bob, "c3", 10), 0);
    int64_t g = gen();

    cr_assert_eq(store_user_set_hash(st, "alice", HASH_B), 0);
    cr_assert_eq(store_user_get(st, "alice", &u), 0);
    cr_assert_str_eq(u.hash, HASH_B);
    cr_assert_eq(gen(), g + 1);
    cr_assert_eq(store_session_get(st, d1, &s), -ENOENT);
    cr_assert_eq(store_session_get(st, d2, &s), -ENOENT);
    cr_assert_eq(store_session_get(st, d3, &s), 0, "other users' sessions stay");
    cr_assert_eq(s.user_id, bob);

    cr_assert_eq(store_user_set_hash(st, "carol", HASH_B), -ENOENT);
    cr_assert_eq(store_user_set_hash(st, "alice", ""), -EINVAL);
    cr_assert_eq(gen(), g + 1, "failed changes do not bump");
}

Test(store, user_del_cascades)
{
    uint8_t d[TOKEN_DIGEST_LEN];
    uint8_t sd[TOKEN_DIGEST_LEN];
    struct store_token t;
    struct store_session s;
    struct store_user u;

    int64_t alice = add_user("alice");
    int64_t bob = add_user("bob");
    digest_of(d, 1);
    digest_of(sd, 2);
    cr_assert_eq(store_token_add(st, alice, "laptop", d, 10, NULL), 0);
    cr_assert_eq(store_session_add(st, sd, alice, "csrf", 10), 0);
    uint8_t bd[TOKEN_DIGEST_LEN];
    digest_of(bd, 3);
    cr_assert_eq(store_token_add(st, bob, "bob's", bd, 10, NULL), 0);
    int64_t g = gen();

    cr_assert_eq(store_user_del(st, "alice"), 0);
    cr_assert_eq(gen(), g + 1);
    cr_assert_eq(store_user_get(st, "alice", &u), -ENOENT);
    cr_assert_eq(store_token_find(st, alice, d, &t), -ENOENT);
    cr_assert_eq(store_session_get(st, sd, &s), -ENOENT);
    cr_assert_eq(raw_int("SELECT count(*) FROM app_passwords"), 1, "only bob's is left");
    cr_assert_eq(raw_int("SELECT count(*) FROM sessions"), 0);
    cr_assert_eq(store_token_find(st, bob, bd, &t), 0);

    cr_assert_eq(store_user_del(st, "alice"), -ENOENT);
    cr_assert_eq(gen(), g + 1);

    /* a new alice is a new user: a new id, none of the old one's app passwords */
    int64_t again = add_user("alice");
    cr_assert_neq(again, alice);
    cr_assert_eq(store_token_find(st, again, d, &t), -ENOENT);
}

Test(store, ids_are_not_reused)
{
    add_user("alice");
    int64_t bob = add_user("bob");
    cr_assert_eq(store_user_del(st, "bob"), 0);
    cr_assert_gt(add_user("carol"), bob);
}

struct names {
    int n;
    int stop_at;
    char name[8][STORE_NAME_MAX + 1];
};

static int collect_user(void *ctx, const struct store_user *u)
{
    struct names *c = ctx;
    cr_assert_lt(c->n, 8);
    strcpy(c->name[c->n++], u->name);
    return c->n == c->stop_at ? 42 : 0;
}

Test(store, user_list)
{
    struct names c = {0};

    cr_assert_eq(store_user_list(st, collect_user, &c), 0);
    cr_assert_eq(c.n, 0);
    add_user("carol");
    add_user("alice");
    add_user("bob");
    cr_assert_eq(store_user_list(st, collect_user, &c), 0);
    cr_assert_eq(c.n, 3);
    cr_assert_str_eq(c.name[0], "alice");
    cr_assert_str_eq(c.name[1], "bob");
    cr_assert_str_eq(c.name[2], "carol");

    memset(&c, 0, sizeof(c));
    c.stop_at = 2;
    cr_assert_eq(store_user_list(st, collect_user, &c), 42);
    cr_assert_eq(c.n, 2);
    /* the walk was cleaned up: the store is usable at once */
    int64_t n = 0;
    cr_assert_eq(store_user_count(st, &n), 0);
    cr_assert_eq(n, 3);
    memset(&c, 0, sizeof(c));
    cr_assert_eq(store_user_list(st, collect_user, &c), 0);
    cr_assert_eq(c.n, 3);
}

/* --- app passwords --- */

struct tokens {
    int n;
    int stop_at;
    struct store_token t[8];
};

static int collect_token(void *ctx, const struct store_token *t)
{
    struct tokens *c = ctx;
    cr_assert_lt(c->n, 8);
    c->t[c->n++] = *t;
    return c->n == c->stop_at ? -7 : 0;
}

Test(store, token_add_find_touch)
{
    uint8_t d[TOKEN_DIGEST_LEN];
    uint8_t other[TOKEN_DIGEST_LEN];
    struct store_token t;
    int64_t id = 0;

    int64_t alice = add_user("alice");
    int64_t bob = add_user("bob");
    digest_of(d, 0xaa);
    digest_of(other, 0xab);
    cr_assert_eq(store_token_add(st, alice, "phone", d, 500, &id), 0);
    cr_assert_gt(id, 0);
    cr_assert_eq(store_token_find(st, alice, d, &t), 0);
    cr_assert_eq(t.id, id);
    cr_assert_eq(t.user_id, alice);
    cr_assert_str_eq(t.label, "phone");
    cr_assert_eq(t.created, 500);
    cr_assert_eq(t.last_used, 0, "never used");
    cr_assert_eq(store_token_find(st, bob, d, &t), -ENOENT, "not bob's");
    cr_assert_eq(store_token_find(st, alice, other, &t), -ENOENT);

    cr_assert_eq(store_token_touch(st, id, 777), 0);
    cr_assert_eq(store_token_find(st, alice, d, &t), 0);
    cr_assert_eq(t.last_used, 777);
    cr_assert_eq(store_token_touch(st, id + 100, 777), -ENOENT);

    /* digests are unique across users */
    cr_assert_eq(store_token_add(st, bob, "copy", d, 1, NULL), -EEXIST);
}

Test(store, token_label_limit)
{
    char label[STORE_LABEL_MAX + 2];
    uint8_t d[TOKEN_DIGEST_LEN];
    struct store_token t;

    int64_t alice = add_user("alice");
    memset(label, 'L', STORE_LABEL_MAX + 1);
    label[STORE_LABEL_MAX + 1] = '\0';
    digest_of(d, 1);
    cr_assert_eq(store_token_add(st, alice, label, d, 1, NULL), -EINVAL);
    label[STORE_LABEL_MAX] = '\0';
    cr_assert_eq(store_token_add(st, alice, label, d, 1, NULL), 0);
    cr_assert_eq(store_token_find(st, alice, d, &t), 0);
    cr_assert_str_eq(t.label, label);
    digest_of(d, 2);
    cr_assert_eq(store_token_add(st, alice, "", d, 1, NULL), 0, "an empty label is allowed");
}

Test(store, token_list_and_revoke)
{
    uint8_t d[TOKEN_DIGEST_LEN];
    struct tokens c = {0};
    struct store_token t;
    int64_t ids[3];

    int64_t alice = add_user("alice");
    int64_t bob = add_user("bob");
    const char *labels[] = {"one", "two", "three"};
    for (int i = 0; i < 3; i++) {
        digest_of(d, (uint8_t)(i + 1));
        cr_assert_eq(store_token_add(st, alice, labels[i], d, 100 + i, &ids[i]), 0);
    }
    int64_t bob_token = 0;
    digest_of(d, 9);
    cr_assert_eq(store_token_add(st, bob, "bob", d, 1, &bob_token), 0);

    cr_assert_eq(store_token_list(st, alice, collect_token, &c), 0);
    cr_assert_eq(c.n, 3);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(c.t[i].id, ids[i]);
        cr_assert_str_eq(c.t[i].label, labels[i]);
        cr_assert_eq(c.t[i].user_id, alice);
    }
    memset(&c, 0, sizeof(c));
    c.stop_at = 1;
    cr_assert_eq(store_token_list(st, alice, collect_token, &c), -7);
    cr_assert_eq(c.n, 1);

    int64_t g = gen();
    /* alice cannot revoke bob's app password, and nothing changes */
    cr_assert_eq(store_token_revoke(st, alice, bob_token), -ENOENT);
    cr_assert_eq(gen(), g);
    cr_assert_eq(store_token_find(st, bob, d, &t), 0);

    cr_assert_eq(store_token_revoke(st, alice, ids[1]), 0);
    cr_assert_eq(gen(), g + 1);
    memset(&c, 0, sizeof(c));
    cr_assert_eq(store_token_list(st, alice, collect_token, &c), 0);
    cr_assert_eq(c.n, 2);
    cr_assert_eq(c.t[0].id, ids[0]);
    cr_assert_eq(c.t[1].id, ids[2]);
    cr_assert_eq(store_token_revoke(st, alice, ids[1]), -ENOENT, "already gone");
    cr_assert_eq(gen(), g + 1);
}

/* --- sessions --- */

Test(store, session_add_get_touch_del)
{
    uint8_t d[TOKEN_DIGEST_LEN];
    uint8_t other[TOKEN_DIGEST_LEN];
    struct store_session s;

    int64_t alice = add_user("alice");
    digest_of(d, 5);
    digest_of(other, 6);
    cr_assert_eq(store_session_add(st, d, alice, "the-csrf", 1000), 0);
    cr_assert_eq(store_session_add(st, d, alice, "again", 1000), -EEXIST);
    cr_assert_eq(store_session_get(st, d, &s), 0);
    cr_assert_eq(s.user_id, alice);
    cr_assert_str_eq(s.csrf, "the-csrf");
    cr_assert_eq(s.created, 1000);
    cr_assert_eq(s.last_seen, 1000);
    cr_assert_eq(store_session_get(st, other, &s), -ENOENT);

    cr_assert_eq(store_session_touch(st, d, 1060), 0);
    cr_assert_eq(store_session_get(st, d, &s), 0);
    cr_assert_eq(s.last_seen, 1060);
    cr_assert_eq(s.created, 1000);
    cr_assert_eq(store_session_touch(st, other, 1060), -ENOENT);

    cr_assert_eq(store_session_del(st, d), 0);
    cr_assert_eq(store_session_get(st, d, &s), -ENOENT);
    cr_assert_eq(store_session_del(st, d), -ENOENT);
}

Test(store, session_csrf_limit)
{
    char csrf[STORE_CSRF_MAX + 2];
    uint8_t d[TOKEN_DIGEST_LEN];
    struct store_session s;

    int64_t alice = add_user("alice");
    digest_of(d, 1);
    memset(csrf, 'c', sizeof(csrf) - 1);
    csrf[STORE_CSRF_MAX + 1] = '\0';
    cr_assert_eq(store_session_add(st, d, alice, csrf, 1), -EINVAL);
    cr_assert_eq(store_session_add(st, d, alice, "", 1), -EINVAL);
    csrf[STORE_CSRF_MAX] = '\0';
    cr_assert_eq(store_session_add(st, d, alice, csrf, 1), 0);
    cr_assert_eq(store_session_get(st, d, &s), 0);
    cr_assert_str_eq(s.csrf, csrf);
}

Test(store, session_purge)
{
    uint8_t d[4][TOKEN_DIGEST_LEN];
    struct store_session s;

    int64_t alice = add_user("alice");
    for (int i = 0; i < 4; i++)
        digest_of(d[i], (uint8_t)(i + 1));
    /* created, last_seen: */
    cr_assert_eq(store_session_add(st, d[0], alice, "c", 100), 0); /* 100, 100: idle */
    cr_assert_eq(store_session_add(st, d[1], alice, "c", 100), 0); /* 100, 500: old */
    cr_assert_eq(store_session_touch(st, d[1], 500), 0);
    cr_assert_eq(store_session_add(st, d[2], alice, "c", 200), 0); /* 200, 400: live */
    cr_assert_eq(store_session_touch(st, d[2], 400), 0);
    cr_assert_eq(store_session_add(st, d[3], alice, "c", 300), 0); /* 300, 300: on the edge */

    /* idle before 300, created before 150 */
    cr_assert_eq(store_session_purge(st, 300, 150), 0);
    cr_assert_eq(store_session_get(st, d[0], &s), -ENOENT);
    cr_assert_eq(store_session_get(st, d[1], &s), -ENOENT);
    cr_assert_eq(store_session_get(st, d[2], &s), 0);
    cr_assert_eq(store_session_get(st, d[3], &s), 0, "the bounds are exclusive");
}

/* --- failed logins --- */

struct failures {
    int n;
    int stop_at;
    char addr[8][STORE_ADDR_MAX + 1];
    char user[8][128];
    int64_t at[8];
};

static int collect_failure(void *ctx, const char *addr, const char *user, int64_t at)
{
    struct failures *c = ctx;
    cr_assert_lt(c->n, 8);
    snprintf(c->addr[c->n], sizeof(c->addr[0]), "%s", addr);
    snprintf(c->user[c->n], sizeof(c->user[0]), "%s", user);
    c->at[c->n++] = at;
    return c->n == c->stop_at ? 5 : 0;
}

Test(store, failures_add_list_purge)
{
    struct failures c = {0};

    cr_assert_eq(store_failure_add(st, "192.0.2.1", "alice", 300), 0);
    cr_assert_eq(store_failure_add(st, "2001:db8::1", "bob", 100), 0);
    cr_assert_eq(store_failure_add(st, "192.0.2.2", NULL, 200), 0);
    cr_assert_eq(store_failure_add(st, "192.0.2.3", "mallory", 300), 0);

    cr_assert_eq(store_failure_list(st, 0, collect_failure, &c), 0);
    cr_assert_eq(c.n, 4);
    cr_assert_eq(c.at[0], 100, "oldest first");
    cr_assert_str_eq(c.addr[0], "2001:db8::1");
    cr_assert_str_eq(c.user[0], "bob");
    cr_assert_eq(c.at[1], 200);
    cr_assert_str_eq(c.user[1], "", "no name given");
    cr_assert_str_eq(c.user[2], "alice", "same time: in insertion order");
    cr_assert_str_eq(c.user[3], "mallory");

    memset(&c, 0, sizeof(c));
    cr_assert_eq(store_failure_list(st, 200, collect_failure, &c), 0);
    cr_assert_eq(c.n, 3, "since is inclusive");
    memset(&c, 0, sizeof(c));
    c.stop_at = 1;
    cr_assert_eq(store_failure_list(st, 0, collect_failure, &c), 5);
    cr_assert_eq(c.n, 1);

    cr_assert_eq(store_failure_purge(st, 200), 0);
    memset(&c, 0, sizeof(c));
    cr_assert_eq(store_failure_list(st, 0, collect_failure, &c), 0);
    cr_assert_eq(c.n, 3, "before is exclusive");
    cr_assert_eq(c.at[0], 200);
}

Test(store, failures_bound_what_clients_send)
{
    char addr[STORE_ADDR_MAX + 2];
    char user[200];
    struct failures c = {0};

    memset(addr, '1', sizeof(addr) - 1);
    addr[STORE_ADDR_MAX + 1] = '\0';
    cr_assert_eq(store_failure_add(st, addr, "x", 1), -EINVAL);
    memset(user, 'u', sizeof(user) - 1);
    user[sizeof(user) - 1] = '\0';
    cr_assert_eq(store_failure_add(st, "192.0.2.1", user, 1), 0);
    cr_assert_eq(store_failure_list(st, 0, collect_failure, &c), 0);
    cr_assert_eq(c.n, 1);
    cr_assert_eq(strlen(c.user[0]), STORE_NAME_MAX, "a long name is kept by its prefix");
}

/* --- several handles --- */

Test(store, handles_share_the_generation)
{
    struct store *other = NULL;
    struct store_user u;
    int64_t g = -1;

    cr_assert_eq(store_open(dir, &other, err, sizeof(err)), 0, "%s", err);
    add_user("alice");
    cr_assert_eq(store_user_get(other, "alice", &u), 0, "committed writes are seen");
    cr_assert_eq(store_user_set_hash(other, "alice", HASH_B), 0);
    cr_assert_eq(store_cred_gen(st, &g), 0);
    cr_assert_eq(g, 1);
    store_close(other);
}

struct opener {
    const char *dir;
    int rc;
    char err[256];
};

static void *open_close(void *arg)
{
    struct opener *o = arg;
    struct store *s = NULL;
    o->rc = store_open(o->dir, &s, o->err, sizeof(o->err));
    if (o->rc == 0) {
        /* one thread adds x, the others find it taken */
        int rc = store_user_add(s, "x", HASH_A, 1, NULL);
        o->rc = rc == 0 || rc == -EEXIST ? 0 : rc;
    }
    store_close(s);
    return NULL;
}

Test(store, concurrent_first_opens_migrate_once)
{
    char fresh[sizeof(dir) + 16];
    pthread_t th[4];
    struct opener o[4];

    for (int round = 0; round < 8; round++) {
        snprintf(fresh, sizeof(fresh), "%s/r%d", dir, round);
        cr_assert_eq(mkdir(fresh, 0700), 0);
        for (int i = 0; i < 4; i++) {
            o[i] = (struct opener){.dir = fresh};
            cr_assert_eq(pthread_create(&th[i], NULL, open_close, &o[i]), 0);
        }
        for (int i = 0; i < 4; i++) {
            pthread_join(th[i], NULL);
            cr_assert_eq(o[i].rc, 0, "round %d thread %d: %s", round, i, o[i].err);
        }
    }
}

static sqlite3 *holder;

static void *release_later(void *arg)
{
    (void)arg;
    nanosleep(&(struct timespec){.tv_nsec = 300 * 1000000L}, NULL);
    sqlite3_exec(holder, "COMMIT", NULL, NULL, NULL);
    return NULL;
}

Test(store, waits_for_another_writer)
{
    pthread_t th;
    struct timespec t0;
    struct timespec t1;

    holder = raw_open();
    cr_assert_eq(sqlite3_exec(holder, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    cr_assert_eq(pthread_create(&th, NULL, release_later, NULL), 0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert_eq(store_user_add(st, "alice", HASH_A, 1, NULL), 0, "waits instead of failing");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    pthread_join(th, NULL);
    sqlite3_close(holder);
    double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
    cr_assert_gt(ms, 250, "it did wait for the lock (%.0f ms)", ms);
}
