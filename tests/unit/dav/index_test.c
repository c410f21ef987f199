/* SPDX-License-Identifier: MIT */
/*
 * Tests for the metadata index (dav/index_sqlite.c, index_prop.c, index_lock.c): schema and its
 * own versioning beside the account store in one file, file ids across MOVE and COPY, ETag
 * propagation, sync with stat, recursive DELETE, PROPPATCH atomicity and limits, the lock
 * conflict matrix and expiry, streaming listings, walk limits, quota, account deletion. Each
 * test gets a fresh data directory with the account schema made by store_open(), as in
 * production. A rough benchmark prints timings (not asserted).
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "etag.h"
#include "index.h"
#include "index_db.h" /* to see that listings step one statement */
#include "log.h"
#include "store.h"

#define HASH_A "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"

static char dir[64];
static char db_path[PATH_MAX];
static struct store *st;
static struct dav_index *ix;
static char err[256];
static int64_t uid, uid2;

static int64_t add_user(const char *name)
{
    int64_t id = 0;
    cr_assert_eq(store_user_add(st, name, HASH_A, 1000, &id), 0, "add %s", name);
    return id;
}

static void setup(void)
{
    log_set_level(LOG_ERROR);
    strcpy(dir, "/tmp/ff-index-test-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(db_path, sizeof(db_path), "%s/fastfile.db", dir);
    cr_assert_eq(store_open(dir, &st, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(dav_index_open(dir, NULL, &ix, err, sizeof(err)), 0, "%s", err);
    uid = add_user("alice");
    uid2 = add_user("bob");
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
    dav_index_close(ix);
    ix = NULL;
    store_close(st);
    st = NULL;
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(index, .init = setup, .fini = teardown);

/* --- helpers --- */

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

static struct dav_stat file_st(uint64_t size, int64_t mtime, uint64_t ino)
{
    return (struct dav_stat){.is_dir = false, .size = size, .mtime_ns = mtime, .inode = ino};
}

static struct dav_stat dir_st(int64_t mtime, uint64_t ino)
{
    return (struct dav_stat){.is_dir = true, .mtime_ns = mtime, .inode = ino};
}

static int64_t put_file(const char *path, uint64_t size)
{
    static uint64_t ino = 1000;
    struct dav_stat s = file_st(size, 1700000000000000000LL + (int64_t)ino, ino);
    ino++;
    struct dav_entry e;
    cr_assert_eq(dav_index_upsert(ix, uid, path, &s, &e), 0, "upsert %s", path);
    return e.id;
}

static int64_t put_dir(const char *path)
{
    struct dav_stat s = dir_st(1700000000000000000LL, 5);
    struct dav_entry e;
    cr_assert_eq(dav_index_upsert(ix, uid, path, &s, &e), 0, "mkcol %s", path);
    return e.id;
}

static struct dav_entry ent_buf;

static struct dav_entry *get(const char *path)
{
    cr_assert_eq(dav_index_lookup(ix, uid, path, &ent_buf), 0, "lookup %s", path);
    return &ent_buf;
}

static bool exists(const char *path)
{
    int rc = dav_index_lookup(ix, uid, path, &ent_buf);
    cr_assert(rc == 0 || rc == -ENOENT, "lookup %s: %d", path, rc);
    return rc == 0;
}

static int64_t id_of(const char *path) { return get(path)->id; }

/* ETags of a list of paths, to compare before and after. */
#define NPATHS 8
struct etags {
    char tag[NPATHS][DAV_INDEX_ETAG_MAX];
};

static void etags_of(const char *const *paths, struct etags *t)
{
    for (size_t i = 0; paths[i]; i++)
        strcpy(t->tag[i], get(paths[i])->etag);
}

static void assert_changed(const char *const *paths, const struct etags *before, bool changed)
{
    for (size_t i = 0; paths[i]; i++) {
        bool same = strcmp(before->tag[i], get(paths[i])->etag) == 0;
        cr_assert(same != changed, "%s: ETag %s (was %s), expected %s", paths[i], ent_buf.etag,
                  before->tag[i], changed ? "a new one" : "the same");
    }
}

static struct dav_lock mklock(const char *token, const char *path, bool inf, bool excl,
                              int64_t expires)
{
    struct dav_lock lk = {.user_id = uid,
                          .is_infinite = inf,
                          .expires = expires,
                          .scope = excl ? DAV_LOCK_EXCLUSIVE : DAV_LOCK_SHARED};
    snprintf(lk.token, sizeof(lk.token), "%s", token);
    snprintf(lk.path, sizeof(lk.path), "%s", path);
    snprintf(lk.owner, sizeof(lk.owner), "<D:href>mailto:a@example.org</D:href>");
    return lk;
}

static int count_cb(void *ctx, const struct dav_lock *lk)
{
    (void)lk;
    (*(int *)ctx)++;
    return 0;
}

static int locks_covering(const char *path, bool desc, int64_t now)
{
    int n = 0;
    cr_assert_eq(dav_index_lock_find(ix, uid, path, desc, now, count_cb, &n), 0);
    return n;
}

static int64_t props_count(int64_t id)
{
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM dav_props WHERE file_id = %lld",
             (long long)id);
    return raw_int(sql);
}

static void set_prop(int64_t id, const char *name, const char *value)
{
    struct dav_prop_op op = {
        .ns = "urn:x", .name = name, .value = value, .value_len = strlen(value)};
    cr_assert_eq(dav_index_prop_patch(ix, id, &op, 1, NULL), 0);
}

static int64_t used(void)
{
    int64_t u = -1;
    cr_assert_eq(dav_index_quota_used(ix, uid, &u), 0);
    return u;
}

/* --- schema and coexistence --- */

Test(index, schema_beside_the_account_store)
{
    cr_assert_eq(raw_int("SELECT value FROM dav_meta WHERE key = 'schema_version'"),
                 DAV_INDEX_SCHEMA_VERSION);
    /* user_version stays the account store's. */
    cr_assert_eq(raw_int("PRAGMA user_version"), STORE_SCHEMA_VERSION);
    cr_assert_eq(raw_int("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                         "name LIKE 'dav%' AND name NOT LIKE 'dav\\_%' ESCAPE '\\'"),
                 0);
    /* Both handles work on the one file, in turn and again after reopening both. */
    put_file("a.txt", 10);
    int64_t id = 0;
    cr_assert_eq(store_user_add(st, "carol", HASH_A, 1, &id), 0);
    dav_index_close(ix);
    store_close(st);
    cr_assert_eq(store_open(dir, &st, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(dav_index_open(dir, NULL, &ix, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(id_of("a.txt") > 0, true);
    struct store_user u;
    cr_assert_eq(store_user_get(st, "carol", &u), 0);
    cr_assert_eq(raw_int("SELECT count(*) FROM dav_meta WHERE key = 'schema_version'"), 1);
}

Test(index, newer_schema_refused)
{
    dav_index_close(ix);
    ix = NULL;
    raw_exec("UPDATE dav_meta SET value = 99 WHERE key = 'schema_version'");
    cr_assert_eq(dav_index_open(dir, NULL, &ix, err, sizeof(err)), -EPROTO);
    cr_assert_null(ix);
    cr_assert_not_null(strstr(err, "newer fastfile"), "%s", err);
    cr_assert_not_null(strstr(err, "99"), "%s", err);
    /* Untouched, and the account store still opens. */
    cr_assert_eq(raw_int("SELECT value FROM dav_meta WHERE key = 'schema_version'"), 99);
    store_close(st);
    cr_assert_eq(store_open(dir, &st, err, sizeof(err)), 0, "%s", err);
}

Test(index, needs_the_account_store)
{
    char other[64];
    strcpy(other, "/tmp/ff-index-bare-XXXXXX");
    cr_assert_not_null(mkdtemp(other));
    struct dav_index *bare = NULL;
    /* No file at all: the account store makes it. */
    cr_assert_neq(dav_index_open(other, NULL, &bare, err, sizeof(err)), 0);
    /* A database without the users table. */
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/fastfile.db", other);
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open(p, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    cr_assert_eq(dav_index_open(other, NULL, &bare, err, sizeof(err)), -EPROTO);
    cr_assert_not_null(strstr(err, "account store"), "%s", err);
    cr_assert_null(bare);
    nftw(other, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

Test(index, second_handle_shares_the_index)
{
    struct dav_index *ix2 = NULL;
    cr_assert_eq(dav_index_open(dir, NULL, &ix2, err, sizeof(err)), 0, "%s", err);
    int64_t id = put_file("x/y", 3);
    struct dav_entry e;
    cr_assert_eq(dav_index_lookup(ix2, uid, "x/y", &e), 0);
    cr_assert_eq(e.id, id);
    dav_index_close(ix2);
}

/* --- entries --- */

Test(index, paths_validated)
{
    static const char *const bad[] = {"/a", "a/", "a//b", ".", "..", "a/./b", "a/../b", "/"};
    struct dav_stat s = file_st(1, 1, 1);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_assert_not(dav_index_path_valid(bad[i]), "%s", bad[i]);
        cr_assert_eq(dav_index_upsert(ix, uid, bad[i], &s, NULL), -EINVAL, "%s", bad[i]);
    }
    cr_assert(dav_index_path_valid(""));
    cr_assert(dav_index_path_valid("a/.b/c..d/..."));
    char longp[DAV_INDEX_PATH_MAX + 2];
    memset(longp, 'a', sizeof(longp) - 1);
    longp[sizeof(longp) - 1] = '\0';
    cr_assert_eq(dav_index_upsert(ix, uid, longp, &s, NULL), -ENAMETOOLONG);
}

Test(index, upsert_creates_ancestors_and_file_etag)
{
    struct dav_stat s = file_st(1234, 1700000000123456789LL, 42);
    struct dav_entry e;
    cr_assert_eq(dav_index_upsert(ix, uid, "a/b/c.txt", &s, &e), 0);
    char want[HTTP_ETAG_MAX];
    http_etag_format(want, 42, 1234, 1700000000123456789LL);
    cr_assert_str_eq(e.etag, want);
    cr_assert_str_eq(e.name, "c.txt");
    cr_assert_eq(e.size, 1234);
    cr_assert_eq(e.user_id, uid);
    cr_assert(get("")->is_dir);
    cr_assert(get("a")->is_dir);
    cr_assert(get("a/b")->is_dir);
    cr_assert_str_eq(get("")->name, "");
    struct dav_entry byid;
    cr_assert_eq(dav_index_lookup_id(ix, e.id, &byid), 0);
    cr_assert_str_eq(byid.path, "a/b/c.txt");
    cr_assert_str_eq(byid.name, "c.txt");
    cr_assert_eq(dav_index_lookup_id(ix, 999999, &byid), -ENOENT);
    /* Users do not see each other's rows. */
    cr_assert_eq(dav_index_lookup(ix, uid2, "a/b/c.txt", &byid), -ENOENT);
    /* A path through a file. */
    cr_assert_eq(dav_index_upsert(ix, uid, "a/b/c.txt/d", &s, NULL), -ENOTDIR);
    /* Folder ETags are quoted and differ from each other. */
    cr_assert_eq(get("a")->etag[0], '"');
    char a[DAV_INDEX_ETAG_MAX];
    strcpy(a, get("a")->etag);
    cr_assert_str_neq(a, get("a/b")->etag);
}

Test(index, ids_stable_across_file_move)
{
    int64_t id = put_file("docs/report.txt", 5);
    set_prop(id, "color", "blue");
    cr_assert_eq(dav_index_move(ix, uid, "docs/report.txt", "archive/2024/report-old.txt", false),
                 0);
    cr_assert_not(exists("docs/report.txt"));
    struct dav_entry *e = get("archive/2024/report-old.txt");
    cr_assert_eq(e->id, id);
    cr_assert_str_eq(e->name, "report-old.txt");
    cr_assert_eq(props_count(id), 1);
    /* Rename in place. */
    cr_assert_eq(
        dav_index_move(ix, uid, "archive/2024/report-old.txt", "archive/2024/r.txt", false), 0);
    cr_assert_eq(id_of("archive/2024/r.txt"), id);
    /* It is listed under its new parent. */
    struct dav_entry byid;
    cr_assert_eq(dav_index_lookup_id(ix, id, &byid), 0);
    cr_assert_str_eq(byid.path, "archive/2024/r.txt");
}

static int collect_names(void *ctx, const struct dav_entry *e)
{
    char *buf = ctx;
    strcat(buf, e->name);
    strcat(buf, ",");
    return 0;
}

Test(index, ids_stable_across_folder_move)
{
    int64_t d = put_dir("p");
    int64_t f1 = put_file("p/one", 1);
    int64_t sub = put_dir("p/sub");
    int64_t f2 = put_file("p/sub/two", 2);
    int64_t sib = put_file("p-sibling", 3); /* shares the prefix "p", not the subtree */
    int64_t sib2 = put_file("p.x/y", 3);
    cr_assert_eq(dav_index_move(ix, uid, "p", "q/r", false), 0);
    cr_assert_eq(id_of("q/r"), d);
    cr_assert_eq(id_of("q/r/one"), f1);
    cr_assert_eq(id_of("q/r/sub"), sub);
    cr_assert_eq(id_of("q/r/sub/two"), f2);
    cr_assert_eq(id_of("p-sibling"), sib);
    cr_assert_eq(id_of("p.x/y"), sib2);
    cr_assert_not(exists("p"));
    cr_assert_not(exists("p/sub/two"));
    /* Listing by parent follows the move. */
    char names[256] = "";
    cr_assert_eq(dav_index_list(ix, uid, "q/r", collect_names, names), 0);
    cr_assert_str_eq(names, "one,sub,");
    names[0] = '\0';
    cr_assert_eq(dav_index_list(ix, uid, "q/r/sub", collect_names, names), 0);
    cr_assert_str_eq(names, "two,");
    names[0] = '\0';
    cr_assert_eq(dav_index_list(ix, uid, "", collect_names, names), 0);
    cr_assert_str_eq(names, "p-sibling,p.x,q,");
}

Test(index, move_refusals_and_overwrite)
{
    put_dir("a/b");
    int64_t f = put_file("a/b/f", 1);
    int64_t g = put_file("g", 7);
    cr_assert_eq(dav_index_move(ix, uid, "a", "a/b/c", false), -EINVAL); /* into itself */
    cr_assert_eq(dav_index_move(ix, uid, "a/b", "a", true), -EINVAL);    /* onto its parent */
    cr_assert_eq(dav_index_move(ix, uid, "a", "a", false), -EINVAL);
    cr_assert_eq(dav_index_move(ix, uid, "", "z", false), -EINVAL);
    cr_assert_eq(dav_index_move(ix, uid, "nope", "z", false), -ENOENT);
    cr_assert_eq(dav_index_move(ix, uid, "g", "a/b/f", false), -EEXIST);
    cr_assert_eq(id_of("g"), g);
    set_prop(f, "n", "v");
    cr_assert_eq(dav_index_move(ix, uid, "g", "a/b/f", true), 0);
    cr_assert_eq(id_of("a/b/f"), g);
    cr_assert_eq(props_count(f), 0);
    cr_assert_eq(used(), 7);
    /* Overwriting a folder with a file takes the folder's subtree. */
    put_file("t/x/y", 100);
    cr_assert_eq(used(), 107);
    cr_assert_eq(dav_index_move(ix, uid, "a/b/f", "t", true), 0);
    cr_assert_not(exists("t/x/y"));
    cr_assert_not(get("t")->is_dir);
    cr_assert_eq(used(), 7);
}

Test(index, copy_gives_new_ids_and_copies_props_not_locks)
{
    int64_t d = put_dir("src");
    int64_t f = put_file("src/f", 10);
    int64_t s2 = put_dir("src/s");
    int64_t g = put_file("src/s/g", 20);
    set_prop(d, "dir", "<x:a>1</x:a>");
    set_prop(f, "file", "F");
    set_prop(g, "deep", "G");
    struct dav_lock lk = mklock("urn:uuid:src", "src/f", false, true, 2000);
    cr_assert_eq(dav_index_lock_create(ix, &lk, 1000, NULL), 0);

    cr_assert_eq(dav_index_copy(ix, uid, "src", "dst", false, true), 0);
    int64_t ids[] = {id_of("dst"), id_of("dst/f"), id_of("dst/s"), id_of("dst/s/g")};
    int64_t old[] = {d, f, s2, g};
    for (size_t i = 0; i < 4; i++)
        for (size_t j = 0; j < 4; j++)
            cr_assert_neq(ids[i], old[j]);
    /* The source is untouched. */
    cr_assert_eq(id_of("src/s/g"), g);
    char buf[64];
    size_t len = 0;
    cr_assert_eq(dav_index_prop_get(ix, ids[0], "urn:x", "dir", buf, sizeof(buf), &len), 0);
    cr_assert_eq(len, strlen("<x:a>1</x:a>"));
    cr_assert_eq(memcmp(buf, "<x:a>1</x:a>", len), 0);
    cr_assert_eq(dav_index_prop_get(ix, ids[1], "urn:x", "file", buf, sizeof(buf), &len), 0);
    cr_assert_eq(dav_index_prop_get(ix, ids[3], "urn:x", "deep", buf, sizeof(buf), &len), 0);
    cr_assert_eq(props_count(g), 1);
    cr_assert_eq(locks_covering("dst/f", false, 1500), 0);
    cr_assert_eq(locks_covering("src/f", false, 1500), 1);
    cr_assert_eq(used(), 60);
    /* Copied folders get their own ETags. */
    char e1[DAV_INDEX_ETAG_MAX];
    strcpy(e1, get("src/s")->etag);
    cr_assert_str_neq(e1, get("dst/s")->etag);
    /* Depth 0 copies the folder alone. */
    cr_assert_eq(dav_index_copy(ix, uid, "src", "flat", false, false), 0);
    cr_assert(get("flat")->is_dir);
    cr_assert_not(exists("flat/f"));
    /* Existing destination. */
    cr_assert_eq(dav_index_copy(ix, uid, "src/f", "dst/f", false, true), -EEXIST);
    cr_assert_eq(dav_index_copy(ix, uid, "src/f", "dst/f", true, true), 0);
    cr_assert_neq(id_of("dst/f"), ids[1]);
    cr_assert_eq(dav_index_copy(ix, uid, "src", "src/inner", false, true), -EINVAL);
}

Test(index, etag_propagation)
{
    put_file("a/b/c/f", 1);
    put_file("a/b/other", 1);
    put_file("x/y/z", 1);
    put_dir("a/b2");
    static const char *const anc[] = {"", "a", "a/b", "a/b/c", NULL};
    static const char *const unrelated[] = {"x", "x/y", "a/b2", NULL};
    struct etags before, ubefore;

    /* create */
    etags_of(anc, &before);
    etags_of(unrelated, &ubefore);
    put_file("a/b/c/new", 1);
    assert_changed(anc, &before, true);
    assert_changed(unrelated, &ubefore, false);

    /* modify */
    etags_of(anc, &before);
    struct dav_stat s = file_st(99, 5, 77);
    cr_assert_eq(dav_index_upsert(ix, uid, "a/b/c/f", &s, NULL), 0);
    assert_changed(anc, &before, true);
    assert_changed(unrelated, &ubefore, false);

    /* delete */
    etags_of(anc, &before);
    cr_assert_eq(dav_index_delete(ix, uid, "a/b/c/new"), 0);
    assert_changed(anc, &before, true);
    assert_changed(unrelated, &ubefore, false);

    /* move: both the old and the new location's ancestors */
    static const char *const dst[] = {"x", "x/y", NULL};
    static const char *const still[] = {"a/b2", NULL};
    struct etags dbefore, sbefore;
    etags_of(anc, &before);
    etags_of(dst, &dbefore);
    etags_of(still, &sbefore);
    char fetag[DAV_INDEX_ETAG_MAX];
    strcpy(fetag, get("a/b/c/f")->etag);
    cr_assert_eq(dav_index_move(ix, uid, "a/b/c/f", "x/y/f", false), 0);
    assert_changed(anc, &before, true);
    assert_changed(dst, &dbefore, true);
    assert_changed(still, &sbefore, false);
    /* The moved file's own ETag is its content's: unchanged. */
    cr_assert_str_eq(get("x/y/f")->etag, fetag);

    /* A change under another user touches none of ours. */
    static const char *const all[] = {"", "a", "x", NULL};
    etags_of(all, &before);
    struct dav_stat o = file_st(1, 1, 1);
    cr_assert_eq(dav_index_upsert(ix, uid2, "a/q", &o, NULL), 0);
    assert_changed(all, &before, false);
}

Test(index, sync_with_stat)
{
    struct dav_stat s = file_st(10, 100, 7);
    bool changed = true;
    struct dav_entry e;
    cr_assert_eq(dav_index_upsert(ix, uid, "d/f", &s, &e), 0);
    int64_t id = e.id;
    static const char *const anc[] = {"", "d", NULL};
    struct etags before;
    etags_of(anc, &before);
    int64_t seq = raw_int("SELECT value FROM dav_meta WHERE key = 'change_seq'");

    /* Same stat: nothing written. */
    cr_assert_eq(dav_index_sync(ix, uid, "d/f", &s, &changed, &e), 0);
    cr_assert_not(changed);
    cr_assert_eq(e.id, id);
    assert_changed(anc, &before, false);
    cr_assert_eq(raw_int("SELECT value FROM dav_meta WHERE key = 'change_seq'"), seq);

    /* Changed from outside: size, then mtime, then inode. */
    struct dav_stat variants[] = {file_st(11, 100, 7), file_st(11, 101, 7), file_st(11, 101, 8)};
    for (size_t i = 0; i < 3; i++) {
        etags_of(anc, &before);
        char old[DAV_INDEX_ETAG_MAX];
        strcpy(old, get("d/f")->etag);
        cr_assert_eq(dav_index_sync(ix, uid, "d/f", &variants[i], &changed, &e), 0);
        cr_assert(changed, "variant %zu", i);
        cr_assert_eq(e.id, id);
        cr_assert_str_neq(e.etag, old);
        assert_changed(anc, &before, true);
    }
    /* A new file seen on disk. */
    etags_of(anc, &before);
    cr_assert_eq(dav_index_sync(ix, uid, "d/g", &s, &changed, &e), 0);
    cr_assert(changed);
    assert_changed(anc, &before, true);
    /* A folder's mtime changed (a member was added outside). */
    struct dav_stat ds = dir_st(5, 9);
    cr_assert_eq(dav_index_sync(ix, uid, "d", &ds, &changed, NULL), 0);
    cr_assert(changed);
    cr_assert_eq(dav_index_sync(ix, uid, "d", &ds, &changed, NULL), 0);
    cr_assert_not(changed);
    /* Gone from disk. */
    etags_of(anc, &before);
    cr_assert_eq(dav_index_sync(ix, uid, "d/f", NULL, &changed, NULL), 0);
    cr_assert(changed);
    cr_assert_not(exists("d/f"));
    assert_changed(anc, &before, true);
    cr_assert_eq(dav_index_sync(ix, uid, "d/f", NULL, &changed, NULL), 0);
    cr_assert_not(changed);
    /* A file replaced by a folder is a new resource. */
    int64_t gid = id_of("d/g");
    cr_assert_eq(dav_index_sync(ix, uid, "d/g", &ds, &changed, &e), 0);
    cr_assert(changed);
    cr_assert(e.is_dir);
    cr_assert_neq(e.id, gid);
}

Test(index, birth_time_kept_and_filled_in_after_schema_1)
{
    struct dav_stat s = file_st(10, 2000, 7);
    s.btime_ns = 1500;
    struct dav_entry e;
    cr_assert_eq(dav_index_upsert(ix, uid, "d/f", &s, &e), 0);
    cr_assert_eq(e.btime_ns, 1500);
    char etag[DAV_INDEX_ETAG_MAX];
    strcpy(etag, e.etag);

    /* An index of schema 1 had no birth times: its rows read 0 once migrated. */
    dav_index_close(ix);
    ix = NULL;
    raw_exec("DROP INDEX dav_entries_parent;"
             "ALTER TABLE dav_entries DROP COLUMN btime_ns;"
             "CREATE INDEX dav_entries_parent ON dav_entries(user_id, parent, name);"
             "UPDATE dav_meta SET value = 1 WHERE key = 'schema_version'");
    cr_assert_eq(dav_index_open(dir, NULL, &ix, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(raw_int("SELECT value FROM dav_meta WHERE key = 'schema_version'"),
                 DAV_INDEX_SCHEMA_VERSION);
    cr_assert_eq(get("d/f")->btime_ns, 0);
    cr_assert_eq(get("d/f")->id, e.id);

    /* The next stat of the row fills it in; the file's ETag stays what it was. */
    bool changed = false;
    cr_assert(dav_index_stat_differs(get("d/f"), &s));
    cr_assert_eq(dav_index_sync(ix, uid, "d/f", &s, &changed, &e), 0);
    cr_assert(changed);
    cr_assert_eq(e.btime_ns, 1500);
    cr_assert_str_eq(e.etag, etag);
    cr_assert_not(dav_index_stat_differs(get("d/f"), &s));
    cr_assert_eq(dav_index_sync(ix, uid, "d/f", &s, &changed, &e), 0);
    cr_assert_not(changed);
}

struct member_props {
    char seen[512];
};

static int note_prop(void *ctx, const char *ns, const char *name, const char *value,
                     size_t value_len)
{
    struct member_props *mp = ctx;
    size_t n = strlen(mp->seen);
    snprintf(mp->seen + n, sizeof(mp->seen) - n, "%s %s=%.*s;", ns, name, (int)value_len,
             value ? value : "");
    return 0;
}

/* A listing with its members' properties: each member once, in name order, with its own
 * properties only, whether the callback reads them, leaves them, or resumes after a name. */
struct listing {
    char seen[512];
    bool read_props;
};

static int note_member(void *ctx, const struct dav_entry *e, struct dav_index_props *props)
{
    struct listing *l = ctx;
    size_t n = strlen(l->seen);
    snprintf(l->seen + n, sizeof(l->seen) - n, "%s:", e->name);
    struct member_props mp = {""};
    int rc = l->read_props ? dav_index_props_each(props, true, note_prop, &mp) : 0;
    n = strlen(l->seen);
    snprintf(l->seen + n, sizeof(l->seen) - n, "%s|", mp.seen);
    return rc;
}

Test(index, list_props_alongside_the_listing)
{
    int64_t a = put_file("m/a", 1), c = put_file("m/c", 1);
    put_file("m/b", 1);
    put_file("m/d", 1);
    int64_t other = put_file("n/a", 1);
    set_prop(a, "p", "1");
    set_prop(a, "q", "2");
    set_prop(c, "p", "3");
    set_prop(other, "p", "9");
    struct listing l = {"", true};
    cr_assert_eq(dav_index_list_props(ix, uid, "m", "", note_member, &l), 0);
    cr_assert_str_eq(l.seen, "a:urn:x p=1;urn:x q=2;|b:|c:urn:x p=3;|d:|");
    l = (struct listing){"", false};
    cr_assert_eq(dav_index_list_props(ix, uid, "m", "", note_member, &l), 0);
    cr_assert_str_eq(l.seen, "a:|b:|c:|d:|", "unread properties are passed over");
    l = (struct listing){"", true};
    cr_assert_eq(dav_index_list_props(ix, uid, "m", "b", note_member, &l), 0);
    cr_assert_str_eq(l.seen, "c:urn:x p=3;|d:|");
    cr_assert_eq(dav_index_list_props(ix, uid, "m/a", "", note_member, &l), -ENOTDIR);
}

Test(index, recursive_delete_removes_props_and_locks)
{
    int64_t d = put_dir("top");
    int64_t f = put_file("top/a/b/c", 5);
    int64_t keep = put_file("top2/x", 5);
    set_prop(d, "p", "1");
    set_prop(f, "p", "2");
    set_prop(keep, "p", "3");
    struct dav_lock l1 = mklock("urn:uuid:1", "top/a", true, true, 5000);
    struct dav_lock l2 = mklock("urn:uuid:2", "top2/x", false, true, 5000);
    struct dav_lock l3 = mklock("urn:uuid:3", "top", false, false, 5000);
    cr_assert_eq(dav_index_lock_create(ix, &l1, 1000, NULL), 0);
    cr_assert_eq(dav_index_lock_create(ix, &l2, 1000, NULL), 0);
    cr_assert_eq(dav_index_lock_create(ix, &l3, 1000, NULL), 0);
    cr_assert_eq(dav_index_delete(ix, uid, "top"), 0);
    cr_assert_not(exists("top"));
    cr_assert_not(exists("top/a/b/c"));
    cr_assert(exists("top2/x"));
    cr_assert_eq(props_count(d), 0);
    cr_assert_eq(props_count(f), 0);
    cr_assert_eq(props_count(keep), 1);
    cr_assert_eq(raw_int("SELECT count(*) FROM dav_locks"), 1);
    struct dav_lock got;
    cr_assert_eq(dav_index_lock_get(ix, "urn:uuid:2", 1000, &got), 0);
    cr_assert_eq(dav_index_delete(ix, uid, "top"), -ENOENT);
    cr_assert_eq(used(), 5);
}

/* --- dead properties --- */

Test(index, proppatch_is_atomic)
{
    int64_t id = put_file("f", 1);
    set_prop(id, "keep", "old");
    char big[100];
    memset(big, 'x', sizeof(big));
    struct dav_prop_op ops[] = {
        {.ns = "urn:x", .name = "keep", .value = "new", .value_len = 3},
        {.ns = "urn:x", .name = "added", .value = "v", .value_len = 1},
        {.ns = "urn:x", .name = "keep2", .is_remove = true},
        {.ns = "urn:x", .name = "", .value = "bad name", .value_len = 8},
    };
    size_t failed = 99;
    cr_assert_eq(dav_index_prop_patch(ix, id, ops, 4, &failed), -EINVAL);
    cr_assert_eq(failed, 3);
    char buf[16];
    size_t len;
    cr_assert_eq(dav_index_prop_get(ix, id, "urn:x", "keep", buf, sizeof(buf), &len), 0);
    cr_assert_eq(len, 3);
    cr_assert_eq(memcmp(buf, "old", 3), 0);
    cr_assert_eq(dav_index_prop_get(ix, id, "urn:x", "added", buf, sizeof(buf), &len), -ENOENT);

    /* Value limit, with small limits. */
    dav_index_close(ix);
    struct dav_index_limits lim = {.props_per_file = 3, .prop_value_max = 50};
    cr_assert_eq(dav_index_open(dir, &lim, &ix, err, sizeof(err)), 0, "%s", err);
    ops[3] = (struct dav_prop_op){.ns = "urn:x", .name = "big", .value = big, .value_len = 100};
    cr_assert_eq(dav_index_prop_patch(ix, id, ops, 4, &failed), -E2BIG);
    cr_assert_eq(failed, 3);
    cr_assert_eq(props_count(id), 1);
    /* Count limit: keep, added, then two more. */
    struct dav_prop_op many[] = {
        {.ns = "urn:x", .name = "a", .value = "1", .value_len = 1},
        {.ns = "urn:x", .name = "b", .value = "1", .value_len = 1},
        {.ns = "urn:x", .name = "c", .value = "1", .value_len = 1},
    };
    cr_assert_eq(dav_index_prop_patch(ix, id, many, 3, &failed), -ENOSPC);
    cr_assert_eq(failed, 2);
    cr_assert_eq(props_count(id), 1);
    /* Removing a property that is not there is fine; the whole batch applies. */
    ops[3] = (struct dav_prop_op){.ns = "urn:x", .name = "gone", .is_remove = true};
    cr_assert_eq(dav_index_prop_patch(ix, id, ops, 4, &failed), 0);
    cr_assert_eq(failed, 4);
    cr_assert_eq(props_count(id), 2);
    cr_assert_eq(dav_index_prop_get(ix, id, "urn:x", "keep", buf, sizeof(buf), &len), 0);
    cr_assert_eq(memcmp(buf, "new", 3), 0);
    /* Unknown file id. */
    cr_assert_eq(dav_index_prop_patch(ix, 424242, ops, 1, &failed), -ENOENT);
    cr_assert_eq(failed, 1);
}

struct prop_seen {
    int n;
    char names[256];
    size_t last_len;
};

static int on_prop(void *ctx, const char *ns, const char *name, const char *value, size_t len)
{
    struct prop_seen *p = ctx;
    p->n++;
    strcat(p->names, ns);
    strcat(p->names, "|");
    strcat(p->names, name);
    strcat(p->names, value ? "=v," : ",");
    p->last_len = len;
    return 0;
}

Test(index, prop_values_round_trip_byte_exact)
{
    int64_t id = put_file("f", 1);
    /* Every byte value but NUL-free text is not required: arbitrary bytes come back as given. */
    char value[300];
    for (size_t i = 0; i < sizeof(value); i++)
        value[i] = (char)(i * 7 + 1);
    value[10] = '\0';
    struct dav_prop_op ops[] = {
        {.ns = "http://example.com/ns", .name = "bin", .value = value, .value_len = sizeof(value)},
        {.ns = "", .name = "nons", .value = "<a xmlns=\"\">é\r\n</a>", .value_len = 20},
        {.ns = "DAV:", .name = "empty", .value = NULL, .value_len = 0},
    };
    cr_assert_eq(dav_index_prop_patch(ix, id, ops, 3, NULL), 0);
    char buf[400];
    size_t len = 0;
    cr_assert_eq(dav_index_prop_get(ix, id, "http://example.com/ns", "bin", buf, sizeof(buf), &len),
                 0);
    cr_assert_eq(len, sizeof(value));
    cr_assert_eq(memcmp(buf, value, len), 0);
    cr_assert_eq(dav_index_prop_get(ix, id, "", "nons", buf, sizeof(buf), &len), 0);
    cr_assert_eq(len, 20);
    cr_assert_eq(memcmp(buf, "<a xmlns=\"\">é\r\n</a>", 20), 0);
    cr_assert_eq(dav_index_prop_get(ix, id, "DAV:", "empty", buf, sizeof(buf), &len), 0);
    cr_assert_eq(len, 0);
    cr_assert_eq(dav_index_prop_get(ix, id, "http://example.com/ns", "bin", buf, 10, &len),
                 -ERANGE);
    cr_assert_eq(len, sizeof(value));
    /* Namespaces keep names apart. */
    cr_assert_eq(dav_index_prop_get(ix, id, "urn:other", "bin", buf, sizeof(buf), &len), -ENOENT);

    struct prop_seen seen = {0};
    cr_assert_eq(dav_index_prop_list(ix, id, on_prop, &seen), 0);
    cr_assert_eq(seen.n, 3);
    cr_assert_str_eq(seen.names, "|nons=v,DAV:|empty=v,http://example.com/ns|bin=v,");
    cr_assert_eq(seen.last_len, sizeof(value));
    memset(&seen, 0, sizeof(seen));
    cr_assert_eq(dav_index_prop_names(ix, id, on_prop, &seen), 0);
    cr_assert_str_eq(seen.names, "|nons,DAV:|empty,http://example.com/ns|bin,");
}

/* --- locks --- */

/* Can a lock (scope, depth) at path b be taken while one (scope, depth) is held at path a? */
static int try_pair(const char *a, bool a_inf, bool a_excl, const char *b, bool b_inf, bool b_excl)
{
    cr_assert_eq(raw_int("SELECT count(*) FROM dav_locks"), 0);
    struct dav_lock la = mklock("urn:uuid:a", a, a_inf, a_excl, 2000);
    struct dav_lock lb = mklock("urn:uuid:b", b, b_inf, b_excl, 2000);
    struct dav_lock conflict = {0};
    cr_assert_eq(dav_index_lock_create(ix, &la, 1000, NULL), 0);
    int rc = dav_index_lock_create(ix, &lb, 1000, &conflict);
    if (rc == -EAGAIN)
        cr_assert_str_eq(conflict.token, "urn:uuid:a");
    dav_index_lock_remove(ix, uid, "urn:uuid:a", 1000);
    dav_index_lock_remove(ix, uid, "urn:uuid:b", 1000);
    return rc;
}

Test(index, lock_conflict_matrix)
{
    put_file("d/e/f", 1);
    /* Where the held lock is rooted relative to the new one's root. */
    enum { SELF, ANCESTOR, DESCENDANT, UNRELATED };
    static const char *const held_at[] = {
        [SELF] = "d/e", [ANCESTOR] = "d", [DESCENDANT] = "d/e/f", [UNRELATED] = "d2"};
    for (int rel = SELF; rel <= UNRELATED; rel++)
        for (int ai = 0; ai < 2; ai++)
            for (int ax = 0; ax < 2; ax++)
                for (int bi = 0; bi < 2; bi++)
                    for (int bx = 0; bx < 2; bx++) {
                        bool covers; /* do the two locks' scopes meet? */
                        switch (rel) {
                        case SELF:
                            covers = true;
                            break;
                        case ANCESTOR:
                            covers = ai; /* only a depth-infinity lock reaches down */
                            break;
                        case DESCENDANT:
                            covers = bi; /* only a new depth-infinity lock reaches down */
                            break;
                        default:
                            covers = false;
                        }
                        bool conflict = covers && (ax || bx);
                        int rc = try_pair(held_at[rel], ai, ax, "d/e", bi, bx);
                        cr_assert_eq(rc, conflict ? -EAGAIN : 0,
                                     "held at %s inf=%d excl=%d, new inf=%d excl=%d: rc=%d",
                                     held_at[rel], ai, ax, bi, bx, rc);
                    }
    /* The root is everybody's ancestor; another user's locks are not ours. */
    cr_assert_eq(try_pair("", true, true, "d/e/f", false, false), -EAGAIN);
    struct dav_lock other = mklock("urn:uuid:o", "d/e", true, true, 2000);
    other.user_id = uid2;
    cr_assert_eq(dav_index_lock_create(ix, &other, 1000, NULL), 0);
    struct dav_lock mine = mklock("urn:uuid:m", "d/e", true, true, 2000);
    cr_assert_eq(dav_index_lock_create(ix, &mine, 1000, NULL), 0);
    /* Same token twice. */
    mine.user_id = uid2;
    snprintf(mine.path, sizeof(mine.path), "zz");
    cr_assert_eq(dav_index_lock_create(ix, &mine, 1000, NULL), -EEXIST);
}

Test(index, lock_refresh_expiry_removal)
{
    struct dav_lock lk = mklock("urn:uuid:r", "doc", false, true, 1100);
    cr_assert_eq(dav_index_lock_create(ix, &lk, 1000, NULL), 0);
    struct dav_lock got;
    cr_assert_eq(dav_index_lock_get(ix, "urn:uuid:r", 1050, &got), 0);
    cr_assert_str_eq(got.path, "doc");
    cr_assert_str_eq(got.owner, lk.owner);
    cr_assert_eq(got.created, 1000);
    cr_assert_eq(got.expires, 1100);
    cr_assert_eq(got.scope, DAV_LOCK_EXCLUSIVE);
    cr_assert_not(got.is_infinite);
    /* Refresh before expiry extends it. */
    cr_assert_eq(dav_index_lock_refresh(ix, uid, "urn:uuid:r", 1500, 1090, &got), 0);
    cr_assert_eq(got.expires, 1500);
    cr_assert_eq(locks_covering("doc", false, 1400), 1);
    /* Another user cannot refresh or remove it. */
    cr_assert_eq(dav_index_lock_refresh(ix, uid2, "urn:uuid:r", 9999, 1090, NULL), -ENOENT);
    cr_assert_eq(dav_index_lock_remove(ix, uid2, "urn:uuid:r", 1090), -ENOENT);
    /* Expired: invisible, does not conflict, cannot be refreshed, and is purged lazily. */
    cr_assert_eq(locks_covering("doc", false, 1500), 0);
    cr_assert_eq(dav_index_lock_get(ix, "urn:uuid:r", 1500, &got), -ENOENT);
    cr_assert_eq(dav_index_lock_refresh(ix, uid, "urn:uuid:r", 3000, 1600, NULL), -ENOENT);
    cr_assert_eq(raw_int("SELECT count(*) FROM dav_locks WHERE token = 'urn:uuid:r'"), 1);
    struct dav_lock lk2 = mklock("urn:uuid:r2", "doc", false, true, 2000);
    cr_assert_eq(dav_index_lock_create(ix, &lk2, 1600, NULL), 0);
    cr_assert_eq(raw_int("SELECT count(*) FROM dav_locks WHERE token = 'urn:uuid:r'"), 0);
    /* UNLOCK by token. */
    cr_assert_eq(dav_index_lock_remove(ix, uid, "urn:uuid:r2", 1700), 0);
    cr_assert_eq(dav_index_lock_remove(ix, uid, "urn:uuid:r2", 1700), -ENOENT);
    cr_assert_eq(locks_covering("doc", false, 1700), 0);
    /* The sweep. */
    struct dav_lock lk3 = mklock("urn:uuid:r3", "doc", false, true, 1800);
    cr_assert_eq(dav_index_lock_create(ix, &lk3, 1700, NULL), 0);
    cr_assert_eq(dav_index_lock_purge(ix, 1800), 0);
    cr_assert_eq(raw_int("SELECT count(*) FROM dav_locks"), 0);
    /* Oversized owner and token. */
    memset(lk.owner, 'o', sizeof(lk.owner) - 1);
    lk.owner[sizeof(lk.owner) - 1] = '\0';
    cr_assert_eq(dav_index_lock_create(ix, &lk, 2000, NULL), 0); /* exactly the maximum */
    lk.token[0] = '\0';
    cr_assert_eq(dav_index_lock_create(ix, &lk, 2000, NULL), -EINVAL);
}

Test(index, lock_find_covers_ancestors_and_descendants)
{
    put_file("a/b/c/d", 1);
    struct dav_lock inf = mklock("urn:uuid:inf", "a", true, false, 5000);
    struct dav_lock zero = mklock("urn:uuid:zero", "a/b", false, false, 5000);
    struct dav_lock deep = mklock("urn:uuid:deep", "a/b/c/d", false, true, 5000);
    cr_assert_eq(dav_index_lock_create(ix, &inf, 1000, NULL), 0);
    cr_assert_eq(dav_index_lock_create(ix, &zero, 1000, NULL), 0);
    cr_assert_eq(dav_index_lock_create(ix, &deep, 1000, NULL),
                 -EAGAIN); /* under "a" (shared inf) */
    inf.scope = DAV_LOCK_SHARED;
    cr_assert_eq(dav_index_lock_remove(ix, uid, "urn:uuid:inf", 1000), 0);
    cr_assert_eq(dav_index_lock_create(ix, &deep, 1000, NULL), 0);
    cr_assert_eq(dav_index_lock_create(ix, &inf, 1000, NULL), -EAGAIN); /* over "deep" */
    inf.is_infinite = false;
    cr_assert_eq(dav_index_lock_create(ix, &inf, 1000, NULL), 0);
    cr_assert_eq(locks_covering("a/b/c", false, 1000), 0); /* depth-0 locks above don't cover */
    cr_assert_eq(locks_covering("a/b", false, 1000), 1);
    cr_assert_eq(locks_covering("a/b", true, 1000), 2);
    cr_assert_eq(locks_covering("", true, 1000), 3);
    cr_assert_eq(locks_covering("a/b/c/d", false, 1000), 1);
}

Test(index, move_drops_locks_in_the_moved_subtree)
{
    put_file("s/f", 1);
    put_dir("t");
    struct dav_lock on_f = mklock("urn:uuid:f", "s/f", false, true, 5000);
    struct dav_lock on_t = mklock("urn:uuid:t", "t", true, false, 5000);
    cr_assert_eq(dav_index_lock_create(ix, &on_f, 1000, NULL), 0);
    cr_assert_eq(dav_index_lock_create(ix, &on_t, 1000, NULL), 0);
    cr_assert_eq(dav_index_move(ix, uid, "s", "t/s", false), 0);
    struct dav_lock got;
    cr_assert_eq(dav_index_lock_get(ix, "urn:uuid:f", 1000, &got), -ENOENT);
    /* The destination's depth-infinity lock now covers the moved file (RFC 4918 §7.7). */
    cr_assert_eq(locks_covering("t/s/f", false, 1000), 1);
}

/* --- listings --- */

struct list_ctx {
    size_t n;
    char last[DAV_INDEX_PATH_MAX + 1];
    bool ordered;
    bool stepping;
};

static int on_child(void *ctx, const struct dav_entry *e)
{
    struct list_ctx *c = ctx;
    if (c->n > 0 && strcmp(c->last, e->name) >= 0)
        c->ordered = false;
    /* Rows come from a statement still stepping, not from a list held in memory. */
    if (!sqlite3_stmt_busy(ix->stmt[S_LIST]))
        c->stepping = false;
    /* Reads of the same handle are allowed inside the callback (PROPFIND wants props). */
    if (c->n % 1000 == 0) {
        struct prop_seen seen = {0};
        cr_assert_eq(dav_index_prop_list(ix, e->id, on_prop, &seen), 0);
    }
    strcpy(c->last, e->name);
    c->n++;
    return 0;
}

static void fill_children(const char *parent, size_t n)
{
    char path[256];
    /* Straight into the table in one transaction: only the listing is under test here. */
    sqlite3_exec(ix->db, "BEGIN", NULL, NULL, NULL);
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/n%05u", parent, (unsigned)((i * 7919) % n));
        sqlite3_stmt *q = ix->stmt[S_INSERT];
        sqlite3_bind_int64(q, 1, uid);
        sqlite3_bind_text(q, 2, path, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 3, parent, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 4, strrchr(path, '/') + 1, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(q, 5, 0);
        sqlite3_bind_int64(q, 6, 1);
        sqlite3_bind_int64(q, 7, 1);
        sqlite3_bind_int64(q, 8, 1);
        sqlite3_bind_text(q, 9, "\"x\"", -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 10, 1);
        cr_assert_eq(sqlite3_step(q), SQLITE_DONE, "%s", sqlite3_errmsg(ix->db));
        sqlite3_reset(q);
        sqlite3_clear_bindings(q);
    }
    sqlite3_exec(ix->db, "COMMIT", NULL, NULL, NULL);
}

static int stop_at_three(void *ctx, const struct dav_entry *e)
{
    (void)e;
    return ++*(int *)ctx == 3 ? 42 : 0;
}

Test(index, list_streams_10000_children)
{
    put_dir("big");
    put_file("big-sibling", 1);
    put_file("big/zz/deeper", 1); /* grandchildren are not listed */
    fill_children("big", 10000);
    struct list_ctx c = {.ordered = true, .stepping = true};
    cr_assert_eq(dav_index_list(ix, uid, "big", on_child, &c), 0);
    cr_assert_eq(c.n, 10001);
    cr_assert(c.ordered);
    cr_assert(c.stepping);
    cr_assert_str_eq(c.last, "zz");
    /* Stopping early returns the callback's value and leaves the handle usable. */
    int n = 0;
    cr_assert_eq(dav_index_list(ix, uid, "big", stop_at_three, &n), 42);
    cr_assert_eq(n, 3);
    cr_assert_eq(dav_index_list(ix, uid, "big-sibling", on_child, &c), -ENOTDIR);
    cr_assert_eq(dav_index_list(ix, uid, "none", on_child, &c), -ENOENT);
}

static int count_entry(void *ctx, const struct dav_entry *e)
{
    (void)e;
    (*(size_t *)ctx)++;
    return 0;
}

Test(index, walk_with_limit)
{
    put_file("w/a/1", 1);
    put_file("w/a/2", 1);
    put_file("w/b/3", 1);
    put_file("w-other", 1);
    /* w, w/a, w/a/1, w/a/2, w/b, w/b/3 */
    size_t n = 0;
    cr_assert_eq(dav_index_walk(ix, uid, "w", 6, count_entry, &n), 0);
    cr_assert_eq(n, 6);
    n = 0;
    cr_assert_eq(dav_index_walk(ix, uid, "w", 5, count_entry, &n), -E2BIG);
    cr_assert_eq(n, 0); /* refused before anything was streamed */
    n = 0;
    cr_assert_eq(dav_index_walk(ix, uid, "", 100, count_entry, &n), 0);
    cr_assert_eq(n, 8); /* root + the above + w-other */
    char names[256] = "";
    cr_assert_eq(dav_index_walk(ix, uid, "w/a", 10, collect_names, names), 0);
    cr_assert_str_eq(names, "a,1,2,");
    n = 0;
    cr_assert_eq(dav_index_walk(ix, uid, "w/a/1", 1, count_entry, &n), 0);
    cr_assert_eq(n, 1);
    cr_assert_eq(dav_index_walk(ix, uid, "nope", 10, count_entry, &n), -ENOENT);
}

/* --- quota and accounts --- */

Test(index, quota_accounting)
{
    cr_assert_eq(used(), 0);
    put_file("q/a", 100);
    put_file("q/b", 50);
    put_dir("q/empty");
    cr_assert_eq(used(), 150);
    struct dav_stat s = file_st(70, 9, 9);
    cr_assert_eq(dav_index_upsert(ix, uid, "q/a", &s, NULL), 0);
    cr_assert_eq(used(), 120);
    cr_assert_eq(dav_index_copy(ix, uid, "q", "q2", false, true), 0);
    cr_assert_eq(used(), 240);
    cr_assert_eq(dav_index_move(ix, uid, "q2", "q3", false), 0);
    cr_assert_eq(used(), 240);
    cr_assert_eq(dav_index_delete(ix, uid, "q"), 0);
    cr_assert_eq(used(), 120);
    bool changed;
    cr_assert_eq(dav_index_sync(ix, uid, "q3/b", NULL, &changed, NULL), 0);
    cr_assert_eq(used(), 70);
    int64_t other = -1;
    cr_assert_eq(dav_index_quota_used(ix, uid2, &other), 0);
    cr_assert_eq(other, 0);
    /* What the triggers keep equals the sum. */
    cr_assert_eq(raw_int("SELECT sum(size) FROM dav_entries WHERE NOT is_dir AND user_id = 1"),
                 used());
}

Test(index, deleting_the_account_deletes_its_metadata)
{
    int64_t id = put_file("mine/f", 10);
    set_prop(id, "p", "v");
    struct dav_lock lk = mklock("urn:uuid:u", "mine", true, true, 5000);
    cr_assert_eq(dav_index_lock_create(ix, &lk, 1000, NULL), 0);
    struct dav_stat s = file_st(1, 1, 1);
    cr_assert_eq(dav_index_upsert(ix, uid2, "bobs", &s, NULL), 0);
    cr_assert_eq(store_user_del(st, "alice"), 0);
    cr_assert_eq(raw_int("SELECT count(*) FROM dav_entries WHERE user_id = 1"), 0);
    cr_assert_eq(raw_int("SELECT count(*) FROM dav_props"), 0);
    cr_assert_eq(raw_int("SELECT count(*) FROM dav_locks"), 0);
    cr_assert_eq(raw_int("SELECT count(*) FROM dav_usage WHERE user_id = 1"), 0);
    struct dav_entry e;
    cr_assert_eq(dav_index_lookup(ix, uid2, "bobs", &e), 0);
    /* Rows for a user that does not exist are refused. */
    cr_assert_eq(dav_index_upsert(ix, 9999, "x", &s, NULL), -ENOENT);
}

Test(index, ids_never_reused)
{
    int64_t a = put_file("a", 1);
    cr_assert_eq(dav_index_delete(ix, uid, "a"), 0);
    int64_t b = put_file("a", 1);
    cr_assert_gt(b, a);
}

/* --- several handles, several threads --- */

static void *open_and_close(void *arg)
{
    const char *d = arg;
    struct dav_index *h = NULL;
    char e[256];
    intptr_t rc = dav_index_open(d, NULL, &h, e, sizeof(e));
    dav_index_close(h);
    return (void *)rc;
}

Test(index, concurrent_first_opens_migrate_once)
{
    char other[64];
    strcpy(other, "/tmp/ff-index-conc-XXXXXX");
    cr_assert_not_null(mkdtemp(other));
    struct store *s2 = NULL;
    cr_assert_eq(store_open(other, &s2, err, sizeof(err)), 0, "%s", err);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, open_and_close, other), 0);
    for (int i = 0; i < 4; i++) {
        void *rc;
        pthread_join(t[i], &rc);
        cr_assert_eq((intptr_t)rc, 0);
    }
    store_close(s2);
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/fastfile.db", other);
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    cr_assert_eq(sqlite3_open(p, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, "SELECT count(*), max(value) FROM dav_meta", -1, &q, NULL),
                 SQLITE_OK);
    cr_assert_eq(sqlite3_step(q), SQLITE_ROW);
    cr_assert_eq(sqlite3_column_int(q, 0), 2); /* schema_version, change_seq: made once */
    cr_assert_eq(sqlite3_column_int(q, 1), DAV_INDEX_SCHEMA_VERSION);
    sqlite3_finalize(q);
    sqlite3_close(db);
    nftw(other, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

struct writer {
    int n;
    const char *top;
    int rc;
};

static void *write_files(void *arg)
{
    struct writer *w = arg;
    struct dav_index *h = NULL;
    char e[256], path[64];
    w->rc = dav_index_open(dir, NULL, &h, e, sizeof(e));
    for (int i = 0; w->rc == 0 && i < w->n; i++) {
        snprintf(path, sizeof(path), "%s/f%d", w->top, i);
        struct dav_stat s = file_st(1, i, (uint64_t)i);
        w->rc = dav_index_upsert(h, uid, path, &s, NULL);
    }
    dav_index_close(h);
    return NULL;
}

Test(index, concurrent_writers_wait_for_each_other)
{
    struct writer w[2] = {{.n = 50, .top = "one"}, {.n = 50, .top = "two"}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, write_files, &w[i]), 0);
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
        cr_assert_eq(w[i].rc, 0, "writer %d: %d", i, w[i].rc);
    }
    cr_assert_eq(raw_int("SELECT count(*) FROM dav_entries WHERE user_id = 1"), 103);
    cr_assert_eq(used(), 100);
}

/* --- a rough benchmark (printed, not asserted) --- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

Test(index, bench)
{
    char path[64];
    double t0 = now_s();
    for (unsigned i = 0; i < 1000; i++) {
        snprintf(path, sizeof(path), "bench/sub/f%04u", i);
        struct dav_stat s = file_st(i, 1700000000000000000LL + i, 100000 + i);
        cr_assert_eq(dav_index_upsert(ix, uid, path, &s, NULL), 0);
    }
    double t1 = now_s();
    size_t n = 0;
    for (int r = 0; r < 10; r++)
        cr_assert_eq(dav_index_list(ix, uid, "bench/sub", count_entry, &n), 0);
    double t2 = now_s();
    bool changed;
    for (unsigned i = 0; i < 1000; i++) {
        snprintf(path, sizeof(path), "bench/sub/f%04u", i);
        struct dav_stat s = file_st(i, 1700000000000000000LL + i, 100000 + i);
        cr_assert_eq(dav_index_sync(ix, uid, path, &s, &changed, NULL), 0);
    }
    double t3 = now_s();
    cr_assert_eq(n, 10000);
    /* For comparison only: the same writes without an fsync per commit. */
    cr_assert_eq(sqlite3_exec(ix->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL), SQLITE_OK);
    for (unsigned i = 0; i < 1000; i++) {
        snprintf(path, sizeof(path), "bench/sub2/f%04u", i);
        struct dav_stat s = file_st(i, 1700000000000000000LL + i, 200000 + i);
        cr_assert_eq(dav_index_upsert(ix, uid, path, &s, NULL), 0);
    }
    double t4 = now_s();
    fprintf(stderr,
            "bench: upsert 1000 files (one transaction each, synchronous=FULL): %.1f ms "
            "(%.0f us each); same with synchronous=NORMAL: %.1f ms; list 1000 children: %.2f ms; "
            "sync unchanged 1000: %.2f ms\n",
            (t1 - t0) * 1e3, (t1 - t0) * 1e3, (t4 - t3) * 1e3, (t2 - t1) * 1e3 / 10,
            (t3 - t2) * 1e3);
}
