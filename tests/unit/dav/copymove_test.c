/* SPDX-License-Identifier: MIT */
/*
 * Tests for COPY and MOVE (dav/copymove.c, dav/tree.c) on a real tree and index: the
 * Destination forms, each refusal, Overwrite, Depth, locks, ids and dead properties (kept by
 * MOVE, copied with new ids by COPY), folder ETags, links inside copied trees, and a staging
 * folder left empty.
 */
#include <dirent.h>
#include <linux/capability.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/syscall.h>

#include "methodfix.h"
#include "tree.h"

TestSuite(copymove, .init = mf_setup, .fini = mf_teardown);

#define TOKEN "urn:uuid:33333333-3333-4333-8333-333333333333"

static int run(int (*method)(struct dav_env *, const struct dav_req *, struct dav_resp *),
               const char *name, const char *target, const char *headers)
{
    char head[8192];
    snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\n%s\r\n", name, target, headers);
    mf_request(head, NULL);
    return mf_run(method);
}

/* COPY or MOVE target to dest (a Destination value) with extra header lines. */
static int copy(const char *target, const char *dest, const char *headers)
{
    char h[4096];
    snprintf(h, sizeof(h), "Destination: %s\r\n%s", dest, headers);
    return run(dav_copy, "COPY", target, h);
}

static int move(const char *target, const char *dest, const char *headers)
{
    char h[4096];
    snprintf(h, sizeof(h), "Destination: %s\r\n%s", dest, headers);
    return run(dav_move, "MOVE", target, h);
}

static void sync_all(void)
{
    mf_request("PROPFIND /dav/ HTTP/1.1\r\n\r\n", NULL);
    cr_assert_eq(dav_tree_sync(&mf.env, &mf.req, ""), 0);
}

static void lookup(const char *path, struct dav_entry *e)
{
    cr_assert_eq(dav_index_lookup(mf.ix, mf.uid, path, e), 0, "no row for %s", path);
}

static bool has_row(const char *path)
{
    struct dav_entry e;
    return dav_index_lookup(mf.ix, mf.uid, path, &e) == 0;
}

static char *content(const char *rel)
{
    static char buf[256];
    char p[PATH_MAX + 32];
    snprintf(p, sizeof(p), "%s/%s", mf.files, rel);
    FILE *f = fopen(p, "r");
    cr_assert_not_null(f, "%s", p);
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void set_prop(const char *path, const char *value)
{
    struct dav_entry e;
    lookup(path, &e);
    struct dav_prop_op op = {
        .ns = "urn:test", .name = "color", .value = value, .value_len = strlen(value)};
    cr_assert_eq(dav_index_prop_patch(mf.ix, e.id, &op, 1, NULL), 0);
}

static bool prop_is(const char *path, const char *value)
{
    struct dav_entry e;
    char buf[64];
    size_t len;
    lookup(path, &e);
    if (dav_index_prop_get(mf.ix, e.id, "urn:test", "color", buf, sizeof(buf), &len))
        return false;
    return len == strlen(value) && memcmp(buf, value, len) == 0;
}

static size_t stage_entries(void)
{
    char p[PATH_MAX + 32];
    snprintf(p, sizeof(p), "%s/tmp", mf.dir);
    DIR *d = opendir(p);
    cr_assert_not_null(d);
    size_t n = 0;
    for (struct dirent *de = readdir(d); de; de = readdir(d))
        n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
    closedir(d);
    return n;
}

static void lock(const char *path, bool is_infinite)
{
    struct dav_lock lk = {.user_id = mf.uid,
                          .token = TOKEN,
                          .is_infinite = is_infinite,
                          .scope = DAV_LOCK_EXCLUSIVE,
                          .expires = time(NULL) + 600};
    snprintf(lk.path, sizeof(lk.path), "%s", path);
    cr_assert_eq(dav_index_lock_create(mf.ix, &lk, time(NULL), NULL), 0);
}

/* --- COPY --- */

Test(copymove, copy_file_new_id_props_copied)
{
    struct dav_entry a, b;
    mf_put_file("a.txt", "hello");
    sync_all();
    set_prop("a.txt", "red");
    lookup("a.txt", &a);
    cr_assert_eq(copy("/dav/a.txt", "http://localhost/dav/b.txt", ""), 201);
    cr_assert_str_eq(content("b.txt"), "hello");
    cr_assert_str_eq(content("a.txt"), "hello");
    lookup("b.txt", &b);
    cr_assert_neq(a.id, b.id);
    cr_assert(prop_is("b.txt", "red"));
    cr_assert(prop_is("a.txt", "red"));
    /* The row describes the new file, not the source's. */
    char p[PATH_MAX + 32];
    struct stat sb;
    snprintf(p, sizeof(p), "%s/b.txt", mf.files);
    cr_assert_eq(stat(p, &sb), 0);
    cr_assert_eq(b.inode, (uint64_t)sb.st_ino);
    cr_assert_str_neq(a.etag, b.etag);
    cr_assert_eq(stage_entries(), 0);
}

Test(copymove, destination_as_path)
{
    mf_put_file("a.txt", "x");
    cr_assert_eq(copy("/dav/a.txt", "/dav/b.txt", ""), 201);
    cr_assert(mf_exists("b.txt"));
    cr_assert_eq(copy("/dav/a.txt", "/dav/c%20d.txt", ""), 201);
    cr_assert(mf_exists("c d.txt"));
}

Test(copymove, destination_refused)
{
    mf_put_file("a.txt", "x");
    cr_assert_eq(copy("/dav/a.txt", "http://example.com/dav/b.txt", ""), 502);
    cr_assert_eq(copy("/dav/a.txt", "https://localhost/dav/b.txt", ""), 502);
    cr_assert_eq(copy("/dav/a.txt", "http://localhost/public/b.txt", ""), 502);
    cr_assert_eq(copy("/dav/a.txt", "/davx/b.txt", ""), 502);
    cr_assert_eq(copy("/dav/a.txt", "/", ""), 502);
    cr_assert_eq(copy("/dav/a.txt", "/dav/../../b", ""), 400);
    cr_assert_eq(copy("/dav/a.txt", "/dav/b#frag", ""), 400);
    cr_assert_eq(run(dav_copy, "COPY", "/dav/a.txt", ""), 400); /* no Destination */
    cr_assert_eq(copy("/dav/a.txt", "/dav/b.txt", "Overwrite: maybe\r\n"), 400);
    cr_assert_not(mf_exists("b.txt"));
}

Test(copymove, source_missing_404)
{
    cr_assert_eq(copy("/dav/nope", "/dav/b", ""), 404);
    cr_assert_eq(move("/dav/nope", "/dav/b", ""), 404);
}

Test(copymove, same_or_nested_403)
{
    mf_put_file("a/f", "x");
    cr_assert_eq(copy("/dav/a", "/dav/a/", ""), 403);
    cr_assert_eq(move("/dav/a", "/dav/a", ""), 403);
    cr_assert_eq(copy("/dav/a", "/dav/a/sub", ""), 403);
    cr_assert_eq(move("/dav/a", "/dav/a/sub", ""), 403);
    cr_assert_eq(move("/dav/a/f", "/dav/a", "Overwrite: T\r\n"), 403);
    cr_assert_eq(move("/dav/a/f", "/dav/a", "Overwrite: F\r\n"), 412);
    cr_assert_eq(move("/dav/", "/dav/x", ""), 403);
    cr_assert_eq(copy("/dav/a/f", "/dav/", ""), 403);
    cr_assert(mf_exists("a/f"));
    cr_assert_not(mf_exists("a/sub"));
}

Test(copymove, missing_parent_409)
{
    mf_put_file("a.txt", "x");
    cr_assert_eq(copy("/dav/a.txt", "/dav/nonesuch/foo", ""), 409);
    cr_assert_eq(move("/dav/a.txt", "/dav/nonesuch/foo", ""), 409);
    cr_assert_eq(copy("/dav/a.txt", "/dav/a.txt/foo", ""), 409); /* through a file */
    cr_assert(mf_exists("a.txt"));
}

Test(copymove, copy_overwrite)
{
    mf_put_file("src", "new");
    mf_put_file("dst", "old");
    mf_put_file("coll/member", "m");
    sync_all();
    struct dav_entry before, after;
    lookup("", &before);
    cr_assert_eq(copy("/dav/src", "/dav/dst", "Overwrite: F\r\n"), 412);
    cr_assert_str_eq(content("dst"), "old");
    lookup("", &after);
    cr_assert_str_eq(before.etag, after.etag, "nothing changed");
    cr_assert_eq(copy("/dav/src", "/dav/dst", "Overwrite: T\r\n"), 204);
    cr_assert_str_eq(content("dst"), "new");
    cr_assert_eq(copy("/dav/src", "/dav/dst", ""), 204); /* absent means T */
    /* A file over a collection: the collection goes first (§9.8.4). */
    cr_assert_eq(copy("/dav/src", "/dav/coll/", "Overwrite: T\r\n"), 204);
    cr_assert_str_eq(content("coll"), "new");
    cr_assert_not(has_row("coll/member"));
    lookup("coll", &after);
    cr_assert_not(after.is_dir);
    cr_assert_eq(stage_entries(), 0);
}

Test(copymove, copy_collection)
{
    char p[PATH_MAX + 32], out[PATH_MAX + 32];
    struct dav_entry s, d;
    for (int i = 0; i < 10; i++) {
        snprintf(p, sizeof(p), "src/foo.%d", i);
        mf_put_file(p, "foo");
    }
    mf_put_file("src/sub/deep.txt", "deep");
    mf_mkdir("src/empty");
    /* A link inside pointing out of the root: copied as a link, never followed. */
    snprintf(out, sizeof(out), "%s/outside", mf.dir);
    cr_assert_eq(mkdir(out, 0755), 0);
    snprintf(p, sizeof(p), "%s/outside/secret", mf.dir);
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f);
    fclose(f);
    snprintf(p, sizeof(p), "%s/src/out", mf.files);
    cr_assert_eq(symlink(out, p), 0);
    sync_all();
    set_prop("src/sub/deep.txt", "blue");
    set_prop("src", "green");

    cr_assert_eq(copy("/dav/src/", "http://localhost/dav/dst/", ""), 201);
    cr_assert_str_eq(content("dst/foo.9"), "foo");
    cr_assert_str_eq(content("dst/sub/deep.txt"), "deep");
    cr_assert(mf_exists("dst/empty"));
    struct stat sb;
    snprintf(p, sizeof(p), "%s/dst/out", mf.files);
    cr_assert_eq(lstat(p, &sb), 0);
    cr_assert(S_ISLNK(sb.st_mode));
    snprintf(p, sizeof(p), "%s/dst/out/secret", mf.dir);
    cr_assert_neq(access(p, F_OK), 0, "nothing copied from outside the root");
    lookup("src/sub/deep.txt", &s);
    lookup("dst/sub/deep.txt", &d);
    cr_assert_neq(s.id, d.id);
    cr_assert(prop_is("dst/sub/deep.txt", "blue"));
    cr_assert(prop_is("dst", "green"));
    lookup("dst/foo.3", &d);
    snprintf(p, sizeof(p), "%s/dst/foo.3", mf.files);
    cr_assert_eq(stat(p, &sb), 0);
    cr_assert_eq(d.inode, (uint64_t)sb.st_ino);
    cr_assert_not(has_row("dst/out"), "a link out of the root is not a resource");
    cr_assert_eq(stage_entries(), 0);

    /* Again onto the copy: refused without Overwrite, replaced with it. */
    mf_put_file("dst/extra", "only in dst");
    cr_assert_eq(copy("/dav/src/", "/dav/dst/", "Overwrite: F\r\n"), 412);
    cr_assert(mf_exists("dst/extra"));
    cr_assert_eq(copy("/dav/src/", "/dav/dst/", "Overwrite: T\r\n"), 204);
    cr_assert_not(mf_exists("dst/extra"));
    cr_assert_not(has_row("dst/extra"));
    cr_assert(mf_exists("dst/sub/deep.txt"));
    cr_assert_eq(stage_entries(), 0);
}

Test(copymove, copy_depth)
{
    mf_put_file("src/foo", "x");
    cr_assert_eq(copy("/dav/src", "/dav/dst", "Depth: 1\r\n"), 400);
    cr_assert_eq(copy("/dav/src", "/dav/dst", "Depth: 0\r\n"), 201);
    cr_assert(mf_exists("dst"));
    cr_assert_not(mf_exists("dst/foo"));
    cr_assert_not(has_row("dst/foo"));
    cr_assert_eq(copy("/dav/src", "/dav/dst2", "Depth: infinity\r\n"), 201);
    cr_assert(mf_exists("dst2/foo"));
}

Test(copymove, copy_locked_destination_423)
{
    struct dav_lock lk;
    mf_put_file("a.txt", "new");
    mf_put_file("b.txt", "old");
    mf_mkdir("locked");
    sync_all();
    lock("b.txt", false);
    cr_assert_eq(copy("/dav/a.txt", "/dav/b.txt", ""), 423);
    cr_assert_not_null(strstr(mf.body.p, "lock-token-submitted"));
    cr_assert_str_eq(content("b.txt"), "old");
    cr_assert_eq(copy("/dav/a.txt", "/dav/b.txt", "If: </dav/b.txt> (<" TOKEN ">)\r\n"), 204);
    cr_assert_str_eq(content("b.txt"), "new");
    /* An overwritten resource loses its locks with it (§9.8.4 deletes it first). */
    cr_assert_eq(dav_index_lock_get(mf.ix, TOKEN, time(NULL), &lk), -ENOENT);

    /* A new member of a locked folder. */
    lock("locked", true);
    cr_assert_eq(copy("/dav/a.txt", "/dav/locked/a.txt", ""), 423);
    cr_assert_not(mf_exists("locked/a.txt"));
    /* Tagged: an untagged list is about the request-URI, a.txt, outside the lock. */
    cr_assert_eq(copy("/dav/a.txt", "/dav/locked/a.txt", "If: </dav/locked> (<" TOKEN ">)\r\n"),
                 201);
}

Test(copymove, copy_quota_507)
{
    mf_put_file("a.txt", "0123456789");
    sync_all();
    mf.cfg.quota_bytes = 15;
    cr_assert_eq(copy("/dav/a.txt", "/dav/b.txt", ""), 507);
    cr_assert_not(mf_exists("b.txt"));
    mf.cfg.quota_bytes = 20;
    cr_assert_eq(copy("/dav/a.txt", "/dav/b.txt", ""), 201);
}

/* As root, permissions do not stop anything: give up the capabilities that skip them (or take
 * them back) for this test's process (criterion runs each test in a process of its own). */
static void set_dac_override(bool on)
{
    if (geteuid() != 0)
        return;
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
    struct __user_cap_data_struct d[2];
    cr_assert_eq(syscall(SYS_capget, &h, d), 0);
    uint32_t bits = (1u << CAP_DAC_OVERRIDE) | (1u << CAP_DAC_READ_SEARCH) | (1u << CAP_FOWNER);
    d[0].effective = on ? d[0].effective | (d[0].permitted & bits) : d[0].effective & ~bits;
    cr_assert_eq(syscall(SYS_capset, &h, d), 0);
}

static void chmod_rel(const char *rel, mode_t mode)
{
    char p[PATH_MAX + 32];
    snprintf(p, sizeof(p), "%s/%s", mf.files, rel);
    cr_assert_eq(chmod(p, mode), 0, "%s", p);
}

Test(copymove, copy_partial_207)
{
    mf_put_file("src/a", "a");
    mf_put_file("src/secret", "s");
    mf_put_file("src/sub/b", "b");
    sync_all();
    chmod_rel("src/secret", 0);
    chmod_rel("src/sub", 0);
    set_dac_override(false);
    int status = copy("/dav/src", "/dav/dst", "");
    set_dac_override(true);
    chmod_rel("src/secret", 0644);
    chmod_rel("src/sub", 0755);

    cr_assert_eq(status, 207, "%s", mf.body.p ? mf.body.p : "");
    cr_assert_not_null(strstr(mf.body.p, "<D:href>/dav/dst/secret</D:href>"), "%s", mf.body.p);
    cr_assert_not_null(strstr(mf.body.p, "<D:href>/dav/dst/sub/</D:href>"), "%s", mf.body.p);
    cr_assert_not_null(strstr(mf.body.p, "HTTP/1.1 403 Forbidden"));
    xmlDocPtr doc = read_doc(mf.body.p, mf.body.len);
    cr_assert_not_null(doc, "%s", mf.body.p);
    xmlFreeDoc(doc);
    cr_assert_str_eq(content("dst/a"), "a");
    cr_assert_not(mf_exists("dst/secret"));
    cr_assert_not(mf_exists("dst/sub"));
    cr_assert(has_row("dst/a"));
    cr_assert_not(has_row("dst/secret"));
    cr_assert_not(has_row("dst/sub/b"));
    cr_assert_eq(stage_entries(), 0);
}

/* No hidden ".ff-copy-" names left in folder rel. */
static void assert_no_temp(const char *rel)
{
    char p[PATH_MAX + 32];
    snprintf(p, sizeof(p), "%s/%s", mf.files, rel);
    DIR *d = opendir(p);
    cr_assert_not_null(d);
    for (struct dirent *de = readdir(d); de; de = readdir(d))
        cr_assert_neq(strncmp(de->d_name, ".ff-copy-", 9), 0, "%s left in %s", de->d_name, p);
    closedir(d);
}

Test(copymove, copy_with_stage_on_another_mount)
{
    char stage[] = "/dev/shm/ff-stage-XXXXXX";
    if (!mkdtemp(stage))
        cr_skip_test("no /dev/shm: %s", strerror(errno));
    int fd = open(stage, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    cr_assert_geq(fd, 0);
    close(mf.env.stage_fd);
    mf.env.stage_fd = fd;
    mf_put_file("a.txt", "file");
    mf_put_file("d/x", "x");
    mf_put_file("b.txt", "old");
    int s1 = copy("/dav/a.txt", "/dav/b.txt", "");
    int s2 = copy("/dav/d", "/dav/e", "");
    size_t left = stage_entries();
    cr_assert_eq(rmdir(stage), 0, "the stage on another mount is not used");
    cr_assert_eq(s1, 204);
    cr_assert_eq(s2, 201);
    cr_assert_eq(left, 0);
    cr_assert_str_eq(content("b.txt"), "file");
    cr_assert_str_eq(content("e/x"), "x");
    assert_no_temp("");
}

/* --- MOVE --- */

Test(copymove, move_file_keeps_id_and_props)
{
    struct dav_entry a, b, p1, p2, q1, q2;
    mf_put_file("from/a.txt", "hello");
    mf_mkdir("to");
    sync_all();
    set_prop("from/a.txt", "red");
    lookup("from/a.txt", &a);
    lookup("from", &p1);
    lookup("to", &q1);
    cr_assert_eq(move("/dav/from/a.txt", "http://localhost/dav/to/b.txt", ""), 201);
    cr_assert_not(mf_exists("from/a.txt"));
    cr_assert_str_eq(content("to/b.txt"), "hello");
    cr_assert_not(has_row("from/a.txt"));
    lookup("to/b.txt", &b);
    cr_assert_eq(a.id, b.id);
    cr_assert(prop_is("to/b.txt", "red"));
    lookup("from", &p2);
    lookup("to", &q2);
    cr_assert_str_neq(p1.etag, p2.etag, "the source's folder changed");
    cr_assert_str_neq(q1.etag, q2.etag, "the destination's folder changed");
    cr_assert_eq(stage_entries(), 0);
}

Test(copymove, move_overwrite)
{
    struct dav_entry before, after;
    mf_put_file("move", "one");
    mf_put_file("move2", "two");
    mf_put_file("dest", "old");
    mf_put_file("coll/member", "m");
    sync_all();
    lookup("", &before);
    cr_assert_eq(move("/dav/move2", "/dav/dest", "Overwrite: F\r\n"), 412);
    cr_assert_str_eq(content("dest"), "old");
    cr_assert(mf_exists("move2"));
    lookup("", &after);
    cr_assert_str_eq(before.etag, after.etag, "nothing changed");
    lookup("move2", &before);
    cr_assert_eq(move("/dav/move2", "/dav/dest", "Overwrite: T\r\n"), 204);
    cr_assert_str_eq(content("dest"), "two");
    cr_assert_not(mf_exists("move2"));
    lookup("dest", &after);
    cr_assert_eq(before.id, after.id);
    /* litmus move: a file over a collection. */
    cr_assert_eq(move("/dav/dest", "/dav/coll/", "Overwrite: T\r\n"), 204);
    cr_assert_str_eq(content("coll"), "two");
    cr_assert_not(has_row("coll/member"));
}

Test(copymove, move_collection)
{
    struct dav_entry a, b;
    mf_put_file("mvsrc/foo.1", "1");
    mf_put_file("mvsrc/subcoll/foo.2", "2");
    mf_put_file("mvnoncoll", "n");
    mf_put_file("mvdest2/old", "o");
    sync_all();
    lookup("mvsrc/subcoll/foo.2", &a);
    cr_assert_eq(move("/dav/mvsrc/", "/dav/mvdest/", ""), 201);
    cr_assert_str_eq(content("mvdest/subcoll/foo.2"), "2");
    lookup("mvdest/subcoll/foo.2", &b);
    cr_assert_eq(a.id, b.id);
    cr_assert_not(has_row("mvsrc"));
    cr_assert_eq(move("/dav/mvdest/", "/dav/mvdest2/", "Overwrite: F\r\n"), 412);
    cr_assert_eq(move("/dav/mvdest2/", "/dav/mvdest/", "Overwrite: T\r\n"), 204);
    cr_assert(mf_exists("mvdest/old"));
    cr_assert_not(mf_exists("mvdest/foo.1"));
    cr_assert_not(has_row("mvdest/subcoll/foo.2"));
    /* A collection over a non-collection. */
    cr_assert_eq(move("/dav/mvdest/", "/dav/mvnoncoll", "Overwrite: T\r\n"), 204);
    cr_assert(mf_exists("mvnoncoll/old"));
    lookup("mvnoncoll", &b);
    cr_assert(b.is_dir);
    cr_assert_eq(move("/dav/mvnoncoll", "/dav/x", "Depth: 0\r\n"), 400);
    cr_assert_eq(move("/dav/mvnoncoll", "/dav/x", "Depth: infinity\r\n"), 201);
}

Test(copymove, move_locked_423)
{
    struct dav_lock lk;
    mf_put_file("a/f", "x");
    mf_mkdir("b");
    sync_all();
    lock("a/f", false);
    cr_assert_eq(move("/dav/a", "/dav/b/a", ""), 423, "a lock below the source");
    cr_assert(mf_exists("a/f"));
    cr_assert_eq(move("/dav/a", "/dav/b/a", "If: </dav/a/f> (<" TOKEN ">)\r\n"), 201);
    cr_assert(mf_exists("b/a/f"));
    /* §7.5: the lock does not move with the resource. */
    cr_assert_eq(dav_index_lock_get(mf.ix, TOKEN, time(NULL), &lk), -ENOENT);

    /* A locked destination folder. */
    lock("b", true);
    mf_put_file("c", "c");
    cr_assert_eq(move("/dav/c", "/dav/b/c", ""), 423);
    cr_assert(mf_exists("c"));
    cr_assert_not(mf_exists("b/c"));
}

Test(copymove, move_across_mounts)
{
    /* A mount inside the tree, in a mount namespace of this test's process alone. */
    if (unshare(CLONE_NEWNS) != 0)
        cr_skip_test("no mount namespace: %s", strerror(errno));
    cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
    char mnt[PATH_MAX + 32];
    mf_mkdir("mnt");
    snprintf(mnt, sizeof(mnt), "%s/mnt", mf.files);
    cr_assert_eq(mount("none", mnt, "tmpfs", 0, "size=4m"), 0, "%s", strerror(errno));
    /* Descriptors opened before unshare walk the old namespace's mounts: a fresh root. */
    close(mf.root_fd);
    mf.root_fd = open(mf.files, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    cr_assert_geq(mf.root_fd, 0);
    struct dav_entry a, b;
    mf_put_file("a/f.txt", "moved");
    mf_put_file("a/sub/g.txt", "g");
    sync_all();
    set_prop("a/f.txt", "red");
    lookup("a/f.txt", &a);

    int status = move("/dav/a", "/dav/mnt/a", "");
    cr_assert_eq(status, 201, "%d %s", status, mf.body.p ? mf.body.p : "");
    bool is_gone = !mf_exists("a");
    char *c = strdup(content("mnt/a/f.txt"));
    char *g = strdup(content("mnt/a/sub/g.txt"));
    assert_no_temp("mnt");
    lookup("mnt/a/f.txt", &b);
    struct stat sb, rootsb;
    snprintf(mnt, sizeof(mnt), "%s/mnt/a/f.txt", mf.files);
    cr_assert_eq(stat(mnt, &sb), 0);
    cr_assert_eq(fstat(mf.root_fd, &rootsb), 0);
    cr_assert_neq(sb.st_dev, rootsb.st_dev, "the move crossed file systems");
    snprintf(mnt, sizeof(mnt), "%s/mnt", mf.files);
    cr_assert_eq(umount2(mnt, MNT_DETACH), 0);

    cr_assert_eq(status, 201);
    cr_assert(is_gone);
    cr_assert_str_eq(c, "moved");
    cr_assert_str_eq(g, "g");
    free(c);
    free(g);
    cr_assert_eq(a.id, b.id, "MOVE keeps the id across mounts too");
    cr_assert(prop_is("mnt/a/f.txt", "red"));
    cr_assert_eq(b.inode, (uint64_t)sb.st_ino);
    cr_assert_not(has_row("a"));
    cr_assert_eq(stage_entries(), 0);
}

static size_t open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    cr_assert_not_null(d);
    size_t n = 0;
    for (struct dirent *de = readdir(d); de; de = readdir(d))
        n++;
    closedir(d);
    return n;
}

Test(copymove, no_descriptor_left_open)
{
    mf_put_file("src/a/b/c", "c");
    mf_put_file("src/d", "d");
    sync_all();
    size_t before = open_fds();
    cr_assert_eq(copy("/dav/src", "/dav/dst", ""), 201);
    cr_assert_eq(copy("/dav/src/d", "/dav/dst/d", ""), 204);
    cr_assert_eq(move("/dav/dst", "/dav/moved", ""), 201);
    cr_assert_eq(move("/dav/src", "/dav/moved", ""), 204);
    cr_assert_eq(copy("/dav/nope", "/dav/x", ""), 404);
    cr_assert_eq(copy("/dav/moved", "/dav/x/y", ""), 409);
    cr_assert_eq(open_fds(), before);
}
