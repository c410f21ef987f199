/* SPDX-License-Identifier: MIT */
/*
 * Tests for MKCOL (dav/mkcol.c) on a real tree and index: a new folder on disk and in the
 * index, and each refusal of RFC 4918 §9.3.1.
 */
#include "methodfix.h"

TestSuite(mkcol, .init = mf_setup, .fini = mf_teardown);

static int mkcol(const char *target, const char *headers, const char *body)
{
    char head[4096];
    snprintf(head, sizeof(head), "MKCOL %s HTTP/1.1\r\n%s\r\n", target, headers);
    mf_request(head, body);
    return mf_run(dav_mkcol);
}

static void lock(const char *path, bool is_infinite, const char *token)
{
    struct dav_lock lk = {.user_id = mf.uid,
                          .is_infinite = is_infinite,
                          .scope = DAV_LOCK_EXCLUSIVE,
                          .expires = time(NULL) + 600};
    snprintf(lk.token, sizeof(lk.token), "%s", token);
    snprintf(lk.path, sizeof(lk.path), "%s", path);
    cr_assert_eq(dav_index_lock_create(mf.ix, &lk, time(NULL), NULL), 0);
}

Test(mkcol, creates_folder_and_row)
{
    struct dav_entry root, e;
    cr_assert_eq(mkcol("/dav/a/", "", NULL), 201);
    cr_assert_eq(dav_index_lookup(mf.ix, mf.uid, "", &root), 0);
    cr_assert_eq(mkcol("/dav/a/b/", "", NULL), 201);
    char p[PATH_MAX + 16];
    struct stat sb;
    snprintf(p, sizeof(p), "%s/a/b", mf.files);
    cr_assert_eq(stat(p, &sb), 0);
    cr_assert(S_ISDIR(sb.st_mode));
    cr_assert_eq(dav_index_lookup(mf.ix, mf.uid, "a/b", &e), 0);
    cr_assert(e.is_dir);
    cr_assert_eq(e.inode, (uint64_t)sb.st_ino);
    struct dav_entry root2;
    cr_assert_eq(dav_index_lookup(mf.ix, mf.uid, "", &root2), 0);
    cr_assert_str_neq(root.etag, root2.etag, "the root's ETag follows a new member below");
}

Test(mkcol, body_is_415)
{
    cr_assert_eq(mkcol("/dav/a", "Content-Length: 3\r\n", "abc"), 415);
    cr_assert_not(mf_exists("a"));
}

Test(mkcol, existing_is_405)
{
    mf_mkdir("a");
    mf_put_file("f", "x");
    cr_assert_eq(mkcol("/dav/a", "", NULL), 405);
    cr_assert_eq(mkcol("/dav/f", "", NULL), 405);
    cr_assert_eq(mkcol("/dav/", "", NULL), 405);
}

Test(mkcol, missing_parent_is_409)
{
    cr_assert_eq(mkcol("/dav/no/a", "", NULL), 409);
    cr_assert_not(mf_exists("no"));
    mf_put_file("f", "x");
    cr_assert_eq(mkcol("/dav/f/a", "", NULL), 409); /* the parent is a file */
}

Test(mkcol, parent_link_out_of_root_is_409)
{
    char p[PATH_MAX + 16];
    snprintf(p, sizeof(p), "%s/out", mf.files);
    cr_assert_eq(symlink("/tmp", p), 0);
    cr_assert_eq(mkcol("/dav/out/x", "", NULL), 409);
}

Test(mkcol, locked_parent_is_423)
{
    mf_mkdir("a");
    lock("a", false, "urn:uuid:11111111-1111-4111-8111-111111111111");
    cr_assert_eq(mkcol("/dav/a/b", "", NULL), 423);
    cr_assert_not(mf_exists("a/b"));
    /* Tagged: an untagged list would be about a/b, which a depth-0 lock on a does not cover. */
    cr_assert_eq(mkcol("/dav/a/b",
                       "If: </dav/a> (<urn:uuid:11111111-1111-4111-8111-111111111111>)\r\n", NULL),
                 201);
    cr_assert(mf_exists("a/b"));
}

Test(mkcol, false_if_is_412)
{
    cr_assert_eq(mkcol("/dav/a", "If: ([\"nope\"])\r\n", NULL), 412);
    cr_assert_not(mf_exists("a"));
}
