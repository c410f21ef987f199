/* SPDX-License-Identifier: MIT */
/*
 * Tests for DELETE (dav/delete.c, dav/tree.c) on a real tree and index: files, folders
 * removed bottom-up, links removed as links (what they point at outside the root stays),
 * Depth, locks, and a partial failure answered with a 207 that names only the member that
 * stayed.
 */
#include <linux/capability.h>
#include <sys/syscall.h>

#include "methodfix.h"
#include "tree.h"

TestSuite(delete, .init = mf_setup, .fini = mf_teardown);

static int del(const char *target, const char *headers)
{
    char head[4096];
    snprintf(head, sizeof(head), "DELETE %s HTTP/1.1\r\n%s\r\n", target, headers);
    mf_request(head, NULL);
    return mf_run(dav_delete);
}

static void lookup(const char *path, struct dav_entry *e)
{
    cr_assert_eq(dav_index_lookup(mf.ix, mf.uid, path, e), 0, "no row for %s", path);
}

/* Index rows for everything below the root as on disk now (what PROPFIND would see). */
static void sync_all(void)
{
    mf_request("PROPFIND /dav/ HTTP/1.1\r\n\r\n", NULL);
    cr_assert_eq(dav_tree_sync(&mf.env, &mf.req, ""), 0);
}

Test(delete, file_204)
{
    struct dav_entry root, root2;
    mf_put_file("f.txt", "hello");
    sync_all();
    lookup("", &root);
    cr_assert_eq(del("/dav/f.txt", ""), 204);
    cr_assert_eq(mf.body.len, 0);
    cr_assert_not(mf_exists("f.txt"));
    cr_assert_eq(dav_index_lookup(mf.ix, mf.uid, "f.txt", &root2), -ENOENT);
    lookup("", &root2);
    cr_assert_str_neq(root.etag, root2.etag);
}

Test(delete, missing_404)
{
    cr_assert_eq(del("/dav/nope", ""), 404);
    mf_put_file("f", "x");
    cr_assert_eq(del("/dav/f/below", ""), 404);
}

Test(delete, root_403)
{
    cr_assert_eq(del("/dav/", ""), 403);
}

Test(delete, folder_recursive)
{
    struct dav_entry e;
    mf_put_file("a/b/c/d.txt", "1");
    mf_put_file("a/b/e.txt", "2");
    mf_put_file("a/f.txt", "3");
    mf_mkdir("a/empty");
    mf_put_file("keep.txt", "4");
    sync_all();
    lookup("a/b/c/d.txt", &e);
    cr_assert_eq(del("/dav/a/", ""), 204);
    cr_assert_not(mf_exists("a"));
    cr_assert(mf_exists("keep.txt"));
    cr_assert_eq(dav_index_lookup(mf.ix, mf.uid, "a", &e), -ENOENT);
    cr_assert_eq(dav_index_lookup(mf.ix, mf.uid, "a/b/c/d.txt", &e), -ENOENT);
    lookup("keep.txt", &e);
}

Test(delete, links_removed_not_followed)
{
    char out[PATH_MAX + 32], p[PATH_MAX + 32];
    struct stat sb;
    /* A folder and a file outside alice's root, next to DATA/files. */
    snprintf(out, sizeof(out), "%s/outside", mf.dir);
    cr_assert_eq(mkdir(out, 0755), 0);
    snprintf(p, sizeof(p), "%s/outside/precious.txt", mf.dir);
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f);
    fputs("keep me", f);
    fclose(f);
    mf_put_file("a/sub/x.txt", "x");
    snprintf(p, sizeof(p), "%s/a/sub/to_dir", mf.files);
    cr_assert_eq(symlink(out, p), 0);
    snprintf(p, sizeof(p), "%s/a/to_file", mf.files);
    snprintf(out, sizeof(out), "%s/outside/precious.txt", mf.dir);
    cr_assert_eq(symlink(out, p), 0);
    snprintf(p, sizeof(p), "%s/a/relative", mf.files);
    cr_assert_eq(symlink("../../../outside", p), 0);

    cr_assert_eq(del("/dav/a", ""), 204);
    cr_assert_not(mf_exists("a"));
    cr_assert_eq(stat(out, &sb), 0, "the file outside the root survives");
    cr_assert_eq(sb.st_size, 7);
}

Test(delete, depth)
{
    mf_mkdir("a");
    mf_put_file("f", "x");
    cr_assert_eq(del("/dav/a", "Depth: 0\r\n"), 400);
    cr_assert_eq(del("/dav/a", "Depth: 1\r\n"), 400);
    cr_assert_eq(del("/dav/a", "Depth: nope\r\n"), 400);
    cr_assert(mf_exists("a"));
    cr_assert_eq(del("/dav/f", "Depth: 0\r\n"), 204); /* a file has no depth to speak of */
    cr_assert_eq(del("/dav/a", "Depth: infinity\r\n"), 204);
}

#define TOKEN "urn:uuid:22222222-2222-4222-8222-222222222222"

Test(delete, lock_below_423)
{
    struct dav_lock lk = {.user_id = mf.uid,
                          .token = TOKEN,
                          .path = "a/b/c.txt",
                          .scope = DAV_LOCK_EXCLUSIVE,
                          .expires = time(NULL) + 600};
    mf_put_file("a/b/c.txt", "x");
    sync_all();
    cr_assert_eq(dav_index_lock_create(mf.ix, &lk, time(NULL), NULL), 0);
    cr_assert_eq(del("/dav/a", ""), 423);
    cr_assert_not_null(strstr(mf.body.p, "lock-token-submitted"));
    cr_assert_not_null(strstr(mf.body.p, "/dav/a/b/c.txt"));
    cr_assert(mf_exists("a/b/c.txt"));
    cr_assert_eq(del("/dav/a", "If: </dav/a/b/c.txt> (<" TOKEN ">)\r\n"), 204);
    cr_assert_not(mf_exists("a"));
    cr_assert_eq(dav_index_lock_get(mf.ix, TOKEN, time(NULL), &lk), -ENOENT);
}

Test(delete, locked_parent_depth0_423)
{
    struct dav_lock lk = {.user_id = mf.uid,
                          .token = TOKEN,
                          .path = "a",
                          .scope = DAV_LOCK_EXCLUSIVE,
                          .expires = time(NULL) + 600};
    mf_put_file("a/f", "x");
    sync_all();
    cr_assert_eq(dav_index_lock_create(mf.ix, &lk, time(NULL), NULL), 0);
    cr_assert_eq(del("/dav/a/f", ""), 423, "removing a member changes a's membership");
    cr_assert(mf_exists("a/f"));
}

/* As root, permissions do not stop anything: give up the capabilities that skip them for the
 * rest of this test (criterion runs each test in a process of its own). */
static void drop_dac_override(void)
{
    if (geteuid() != 0)
        return;
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
    struct __user_cap_data_struct d[2];
    cr_assert_eq(syscall(SYS_capget, &h, d), 0);
    d[0].effective &=
        ~((1u << CAP_DAC_OVERRIDE) | (1u << CAP_DAC_READ_SEARCH) | (1u << CAP_FOWNER));
    cr_assert_eq(syscall(SYS_capset, &h, d), 0);
}

static void restore_caps(void)
{
    if (geteuid() != 0)
        return;
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
    struct __user_cap_data_struct d[2];
    cr_assert_eq(syscall(SYS_capget, &h, d), 0);
    d[0].effective = d[0].permitted;
    d[1].effective = d[1].permitted;
    cr_assert_eq(syscall(SYS_capset, &h, d), 0);
}

Test(delete, partial_failure_207)
{
    struct dav_entry e;
    mf_put_file("a/ro/x.txt", "stuck");
    mf_put_file("a/ro2/deeper/y.txt", "stuck too");
    mf_put_file("a/gone/z.txt", "z");
    mf_put_file("a/w.txt", "w");
    sync_all();
    char p[PATH_MAX + 32];
    snprintf(p, sizeof(p), "%s/a/ro", mf.files);
    cr_assert_eq(chmod(p, 0500), 0);
    snprintf(p, sizeof(p), "%s/a/ro2/deeper", mf.files);
    cr_assert_eq(chmod(p, 0500), 0);
    drop_dac_override();

    int status = del("/dav/a", "");
    restore_caps();
    snprintf(p, sizeof(p), "%s/a/ro", mf.files);
    chmod(p, 0755);
    snprintf(p, sizeof(p), "%s/a/ro2/deeper", mf.files);
    chmod(p, 0755);

    cr_assert_eq(status, 207, "%s", mf.body.p ? mf.body.p : "");
    cr_assert_str_eq(mf.resp.content_type, "application/xml; charset=utf-8");
    xmlDocPtr doc = read_doc(mf.body.p, mf.body.len);
    cr_assert_not_null(doc, "%s", mf.body.p);
    xmlNodePtr ms = xmlDocGetRootElement(doc);
    cr_assert(node_is(ms, "DAV:", "multistatus"));
    /* Only the members that could not go; not a, a/ro, a/ro2, a/ro2/deeper (§9.6.1). */
    int n = 0;
    bool seen_x = false, seen_y = false;
    for (xmlNodePtr r = ms->children; r; r = r->next) {
        if (!node_is(r, "DAV:", "response"))
            continue;
        n++;
        xmlChar *href = xmlNodeGetContent(find_elem(r->children, "DAV:", "href"));
        xmlChar *st = xmlNodeGetContent(find_elem(r->children, "DAV:", "status"));
        cr_assert_str_eq((const char *)st, "HTTP/1.1 403 Forbidden");
        seen_x |= strcmp((const char *)href, "/dav/a/ro/x.txt") == 0;
        seen_y |= strcmp((const char *)href, "/dav/a/ro2/deeper/y.txt") == 0;
        xmlFree(href);
        xmlFree(st);
    }
    xmlFreeDoc(doc);
    cr_assert_eq(n, 2, "%s", mf.body.p);
    cr_assert(seen_x && seen_y, "%s", mf.body.p);

    cr_assert(mf_exists("a/ro/x.txt"));
    cr_assert(mf_exists("a/ro2/deeper/y.txt"));
    cr_assert_not(mf_exists("a/gone"));
    cr_assert_not(mf_exists("a/w.txt"));
    /* The index is what is on disk. */
    lookup("a/ro/x.txt", &e);
    lookup("a/ro2/deeper/y.txt", &e);
    cr_assert_eq(dav_index_lookup(mf.ix, mf.uid, "a/gone", &e), -ENOENT);
    cr_assert_eq(dav_index_lookup(mf.ix, mf.uid, "a/gone/z.txt", &e), -ENOENT);
    cr_assert_eq(dav_index_lookup(mf.ix, mf.uid, "a/w.txt", &e), -ENOENT);
}
