/* SPDX-License-Identifier: MIT */
/*
 * The watcher (server/watch.c) against a real data folder: changes made directly on disk, as
 * another program would, show in the index within a few seconds, with new folder ETags up to
 * the user's root.
 */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "index.h"
#include "log.h"
#include "store.h"
#include "watch.h"

#define HASH "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
#define WAIT_MS 5000
/* Longer than the watcher's quiet time: its window is flushed. */
#define QUIET_WAIT_MS 600

static char dir[64];
static char files[128]; /* DATA/files */
static struct store *st;
static struct dav_index *ix;
static struct watch *w;
static int files_fd = -1;
static int64_t alice;

static void setup(void)
{
    char err[256];
    log_set_level(getenv("WDEBUG") ? LOG_DEBUG : LOG_ERROR);
    strcpy(dir, "/tmp/ff-watch-test-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    cr_assert_eq(store_open(dir, &st, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(store_user_add(st, "alice", HASH, 1000, &alice), 0);
    cr_assert_eq(dav_index_open(dir, NULL, &ix, err, sizeof(err)), 0, "%s", err);
    snprintf(files, sizeof(files), "%s/files", dir);
    cr_assert_eq(mkdir(files, 0700), 0);
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/alice", files);
    cr_assert_eq(mkdir(p, 0700), 0);
    files_fd = open(files, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    cr_assert_geq(files_fd, 0);
}

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void teardown(void)
{
    watch_stop(w);
    w = NULL;
    close(files_fd);
    dav_index_close(ix);
    store_close(st);
    nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static atomic_bool covered;

static void start(void)
{
    cr_assert_eq(watch_start(&w, dir, files_fd, &covered), 0);
}

/* DATA/files/alice/rel, in a buffer the next call reuses */
static const char *disk(const char *rel)
{
    static char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/alice/%s", files, rel);
    return p;
}

static void put(const char *rel, const char *data)
{
    FILE *f = fopen(disk(rel), "w");
    cr_assert_not_null(f, "%s: %s", rel, strerror(errno));
    fputs(data, f);
    cr_assert_eq(fclose(f), 0);
}

static void mk(const char *rel)
{
    cr_assert_eq(mkdir(disk(rel), 0700), 0, "%s: %s", rel, strerror(errno));
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static void etag(int64_t uid, const char *path, char out[DAV_INDEX_ETAG_MAX])
{
    struct dav_entry e;
    int rc = dav_index_lookup(ix, uid, path, &e);
    snprintf(out, DAV_INDEX_ETAG_MAX, "%s", rc == 0 ? e.etag : "");
}

/* Wait until path of uid has a row (size >= 0: of that size) or none (size -1). */
static bool wait_entry(int64_t uid, const char *path, int64_t size)
{
    for (int t = 0; t < WAIT_MS; t += 20) {
        struct dav_entry e;
        int rc = dav_index_lookup(ix, uid, path, &e);
        if (size < 0 ? rc == -ENOENT : rc == 0 && (e.is_dir || (int64_t)e.size == size))
            return true;
        sleep_ms(20);
    }
    return false;
}

static bool wait_etag_changed(int64_t uid, const char *path, const char *old)
{
    char now[DAV_INDEX_ETAG_MAX];
    for (int t = 0; t < WAIT_MS; t += 20) {
        etag(uid, path, now);
        if (now[0] && strcmp(now, old) != 0)
            return true;
        sleep_ms(20);
    }
    return false;
}

TestSuite(watch, .init = setup, .fini = teardown, .timeout = 60);

Test(watch, file_create_modify_delete_two_levels_down)
{
    mk("a");
    mk("a/b");
    start();
    cr_assert(wait_entry(alice, "a/b", 0));
    char root[DAV_INDEX_ETAG_MAX], a[DAV_INDEX_ETAG_MAX];
    etag(alice, "", root);
    etag(alice, "a", a);

    put("a/b/f.txt", "hello");
    cr_assert(wait_entry(alice, "a/b/f.txt", 5), "created file not indexed");
    cr_assert(wait_etag_changed(alice, "", root), "root ETag unchanged after create");
    cr_assert(wait_etag_changed(alice, "a", a));

    etag(alice, "", root);
    put("a/b/f.txt", "hello, world");
    cr_assert(wait_entry(alice, "a/b/f.txt", 12), "modified size not indexed");
    cr_assert(wait_etag_changed(alice, "", root), "root ETag unchanged after modify");

    etag(alice, "", root);
    cr_assert_eq(unlink(disk("a/b/f.txt")), 0);
    cr_assert(wait_entry(alice, "a/b/f.txt", -1), "deleted file still indexed");
    cr_assert(wait_etag_changed(alice, "", root), "root ETag unchanged after delete");
}

Test(watch, folder_moved_in_from_outside_brings_its_tree)
{
    start();
    char out[128], p[PATH_MAX];
    snprintf(out, sizeof(out), "%s/outside", dir);
    cr_assert_eq(mkdir(out, 0700), 0);
    snprintf(p, sizeof(p), "%s/sub", out);
    cr_assert_eq(mkdir(p, 0700), 0);
    snprintf(p, sizeof(p), "%s/sub/deep.txt", out);
    FILE *f = fopen(p, "w");
    fputs("deep", f);
    fclose(f);
    snprintf(p, sizeof(p), "%s/top.txt", out);
    f = fopen(p, "w");
    fputs("top!!", f);
    fclose(f);
    cr_assert(wait_entry(alice, "", 0));
    char root[DAV_INDEX_ETAG_MAX];
    etag(alice, "", root);

    cr_assert_eq(rename(out, disk("moved")), 0);
    cr_assert(wait_entry(alice, "moved/sub/deep.txt", 4), "member of moved-in tree missing");
    cr_assert(wait_entry(alice, "moved/top.txt", 5));
    cr_assert(wait_entry(alice, "moved/sub", 0));
    cr_assert(wait_etag_changed(alice, "", root));

    /* The moved-in folders are watched too. */
    put("moved/sub/later.txt", "later");
    cr_assert(wait_entry(alice, "moved/sub/later.txt", 5), "moved-in folder not watched");
}

Test(watch, new_folders_are_watched_at_once)
{
    start();
    /* Members created right after mkdir, before a watch could be added, are found by the
     * listing that follows the watch. */
    mk("x");
    mk("x/y");
    mk("x/y/z");
    put("x/y/z/f", "123");
    cr_assert(wait_entry(alice, "x/y/z/f", 3));
    put("x/y/z/g", "4567");
    cr_assert(wait_entry(alice, "x/y/z/g", 4));
}

Test(watch, deleted_folder_rows_are_gone)
{
    mk("d");
    mk("d/e");
    put("d/e/f", "x");
    put("d/g", "yy");
    start();
    cr_assert(wait_entry(alice, "d/e/f", 1));
    cr_assert(wait_entry(alice, "d/g", 2));
    char root[DAV_INDEX_ETAG_MAX];
    etag(alice, "", root);
    nftw(disk("d"), rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    cr_assert(wait_entry(alice, "d", -1), "deleted folder still indexed");
    cr_assert_eq(dav_index_lookup(ix, alice, "d/e/f", &(struct dav_entry){0}), -ENOENT);
    cr_assert_eq(dav_index_lookup(ix, alice, "d/g", &(struct dav_entry){0}), -ENOENT);
    cr_assert(wait_etag_changed(alice, "", root));
}

Test(watch, folder_renamed_inside_the_tree)
{
    mk("old");
    mk("old/in");
    put("old/in/f", "abc");
    start();
    cr_assert(wait_entry(alice, "old/in/f", 3));
    char from[PATH_MAX];
    snprintf(from, sizeof(from), "%s", disk("old"));
    cr_assert_eq(rename(from, disk("new")), 0);
    cr_assert(wait_entry(alice, "new/in/f", 3));
    cr_assert(wait_entry(alice, "old", -1));
    /* The watches moved with the folder: a change below it is seen under the new path. */
    put("new/in/h", "hh");
    cr_assert(wait_entry(alice, "new/in/h", 2));
    cr_assert_eq(dav_index_lookup(ix, alice, "old/in/h", &(struct dav_entry){0}), -ENOENT);
}

Test(watch, start_catches_up_with_changes_made_while_down)
{
    struct dav_stat gone = {.is_dir = false, .size = 3, .mtime_ns = 1, .inode = 42};
    cr_assert_eq(dav_index_upsert(ix, alice, "gone.txt", &gone, NULL), 0);
    mk("k");
    put("k/new.txt", "new");
    start();
    cr_assert(wait_entry(alice, "k/new.txt", 3));
    cr_assert(wait_entry(alice, "gone.txt", -1), "row of a file gone while down kept");
}

Test(watch, user_folder_created_after_start)
{
    int64_t bob;
    cr_assert_eq(store_user_add(st, "bob", HASH, 1000, &bob), 0);
    start();
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/bob", files);
    cr_assert_eq(mkdir(p, 0700), 0);
    snprintf(p, sizeof(p), "%s/bob/f", files);
    FILE *f = fopen(p, "w");
    fputs("bob", f);
    fclose(f);
    cr_assert(wait_entry(bob, "f", 3), "new user folder not watched");
    /* Folders of unknown users are left alone. */
    snprintf(p, sizeof(p), "%s/nobody", files);
    cr_assert_eq(mkdir(p, 0700), 0);
    snprintf(p, sizeof(p), "%s/bob/g", files);
    f = fopen(p, "w");
    fputs("g", f);
    fclose(f);
    cr_assert(wait_entry(bob, "g", 1));
}

Test(watch, many_events_one_window)
{
    start();
    mk("many");
    char name[32];
    for (int i = 0; i < 500; i++) {
        snprintf(name, sizeof(name), "many/f%03d", i);
        put(name, "0123456789");
    }
    cr_assert(wait_entry(alice, "many/f499", 10));
    cr_assert(wait_entry(alice, "many/f000", 10));
}

/* More events than the kernel queues while the watcher is held up: IN_Q_OVERFLOW, and the
 * rescan that follows still finds every file. */
Test(watch, lost_events_are_caught_up_by_a_rescan, .timeout = 120)
{
    int max = 16384;
    FILE *f = fopen("/proc/sys/fs/inotify/max_queued_events", "r");
    if (f) {
        cr_assert_eq(fscanf(f, "%d", &max), 1);
        fclose(f);
    }
    cr_assert_lt(max, 200000, "max_queued_events %d too large for this test", max);
    start();
    mk("flood");
    cr_assert(wait_entry(alice, "flood", 0));

    /* Hold the database's write lock so the watcher blocks in its next sync. */
    sqlite3 *db;
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/fastfile.db", dir);
    cr_assert_eq(sqlite3_open(p, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    put("flood/first", "1");
    sleep_ms(QUIET_WAIT_MS);
    char name[64];
    int n = max / 2 + 1000; /* IN_CREATE, IN_MODIFY, IN_CLOSE_WRITE each */
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "flood/f%06d", i);
        put(name, "ab");
    }
    cr_assert_eq(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    /* The rescan syncs thousands of new files: slow under sanitizers. */
    snprintf(name, sizeof(name), "flood/f%06d", n - 1);
    for (int t = 0; t < 60000 && dav_index_lookup(ix, alice, name, &(struct dav_entry){0}); t += 50)
        sleep_ms(50);
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "flood/f%06d", i);
        cr_assert(wait_entry(alice, name, 2), "%s missing after the flood", name);
    }
}

Test(watch, stop_without_start_is_a_no_op)
{
    watch_stop(NULL);
}

Test(watch, covered_once_ready_and_not_after_stop)
{
    cr_assert_not(atomic_load(&covered));
    start();
    for (int i = 0; i < 500 && !atomic_load(&covered); i++)
        sleep_ms(10);
    cr_assert(atomic_load(&covered), "every folder watched: listings may trust the index");
    watch_stop(w);
    w = NULL;
    cr_assert_not(atomic_load(&covered), "a stopped watcher covers nothing");
}
