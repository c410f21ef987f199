/* SPDX-License-Identifier: MIT */
/*
 * Tests for dav_precond (dav/precond.c): the If header against index ETags and live locks, and
 * the submission of every lock that covers the written path, on a real tree and index.
 */
#include "methodfix.h"

#include "precond.h"

TestSuite(precond, .init = mf_setup, .fini = mf_teardown);

static void add_lock(int64_t uid, const char *path, const char *token, bool infinite,
                     enum dav_lock_scope scope, int64_t expires)
{
    struct dav_lock lk = {.user_id = uid, .is_infinite = infinite, .scope = scope,
                          .expires = expires};
    snprintf(lk.token, sizeof(lk.token), "%s", token);
    snprintf(lk.path, sizeof(lk.path), "%s", path);
    int64_t now = (int64_t)time(NULL);
    cr_assert_eq(dav_index_lock_create(mf.ix, &lk, now < expires ? now : expires - 10, NULL), 0);
}

static void lock_excl(const char *path, const char *token, bool infinite)
{
    add_lock(mf.uid, path, token, infinite, DAV_LOCK_EXCLUSIVE, (int64_t)time(NULL) + 600);
}

static void lock_shared(const char *path, const char *token, bool infinite)
{
    add_lock(mf.uid, path, token, infinite, DAV_LOCK_SHARED, (int64_t)time(NULL) + 600);
}

/* PUT-style request on target with extra header lines, then dav_precond on path. */
static int check(const char *target, const char *headers, const char *path, bool descendants)
{
    char head[8192];
    snprintf(head, sizeof(head), "PUT %s HTTP/1.1\r\n%s\r\n", target, headers);
    mf_request(head, NULL);
    return dav_precond(&mf.env, &mf.req, path, descendants, &mf.resp);
}

static const char *etag_of(const char *path)
{
    static struct dav_entry e;
    mf_request("GET /dav/ HTTP/1.1\r\n\r\n", NULL);
    int rc = dav_resolve(&mf.env, &mf.req, path, &e);
    cr_assert_eq(rc, 0, "resolve %s: %d", path, rc);
    return e.etag;
}

/* The 423 body names the lock root href. */
static void assert_submitted_href(const char *href)
{
    cr_assert_str_eq(mf.resp.content_type, "application/xml; charset=utf-8");
    cr_assert_eq(mf.resp.status, 423);
    xmlDocPtr doc = read_doc(mf.body.p, mf.body.len);
    cr_assert_not_null(doc, "%s", mf.body.p);
    xmlNodePtr root = xmlDocGetRootElement(doc);
    cr_assert(node_is(root, "DAV:", "error"));
    xmlNodePtr lts = find_elem(root, "DAV:", "lock-token-submitted");
    cr_assert_not_null(lts);
    xmlNodePtr h = find_elem(lts->children, "DAV:", "href");
    cr_assert_not_null(h);
    xmlChar *t = xmlNodeGetContent(h);
    cr_assert_str_eq((const char *)t, href);
    xmlFree(t);
    xmlFreeDoc(doc);
}

Test(precond, nothing_to_check)
{
    mf_put_file("a.txt", "x");
    cr_assert_eq(check("/dav/a.txt", "", "a.txt", false), 0);
    cr_assert_eq(mf.body.len, 0);
    cr_assert_eq(check("/dav/new.txt", "", "new.txt", false), 0);
}

Test(precond, etag_untagged)
{
    mf_put_file("a.txt", "x");
    char h[512];
    snprintf(h, sizeof(h), "If: ([%s])\r\n", etag_of("a.txt"));
    cr_assert_eq(check("/dav/a.txt", h, "a.txt", false), 0);
    cr_assert_eq(check("/dav/a.txt", "If: ([\"bogus\"])\r\n", "a.txt", false), 412);
    snprintf(h, sizeof(h), "If: (Not [%s])\r\n", etag_of("a.txt"));
    cr_assert_eq(check("/dav/a.txt", h, "a.txt", false), 412);
    cr_assert_eq(check("/dav/a.txt", "If: (Not [\"bogus\"])\r\n", "a.txt", false), 0);
    /* An unmapped resource has no entity-tag. */
    cr_assert_eq(check("/dav/none", "If: ([\"bogus\"])\r\n", "none", false), 412);
    cr_assert_eq(check("/dav/none", "If: (Not [\"bogus\"])\r\n", "none", false), 0);
    /* No body for a 412: the caller words it. */
    cr_assert_eq(mf.body.len, 0);
}

Test(precond, etag_tagged)
{
    mf_put_file("a.txt", "x");
    mf_put_file("b.txt", "y");
    char h[512];
    snprintf(h, sizeof(h), "If: <http://localhost/dav/a.txt> ([%s])\r\n", etag_of("a.txt"));
    cr_assert_eq(check("/dav/b.txt", h, "b.txt", false), 0);
    snprintf(h, sizeof(h), "If: </dav/b.txt> ([%s])\r\n", etag_of("a.txt"));
    cr_assert_eq(check("/dav/b.txt", h, "b.txt", false), 412);
    /* Any true list is enough. */
    snprintf(h, sizeof(h), "If: </dav/b.txt> ([%s]) </dav/a.txt> ([%s])\r\n", etag_of("a.txt"),
             etag_of("a.txt"));
    cr_assert_eq(check("/dav/b.txt", h, "b.txt", false), 0);
}

Test(precond, etag_changes_with_file)
{
    mf_put_file("a.txt", "x");
    char h[512];
    snprintf(h, sizeof(h), "If: ([%s])\r\n", etag_of("a.txt"));
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    mf_put_file("a.txt", "longer");
    /* dav_resolve brings the index in line: the old tag is stale. */
    cr_assert_eq(check("/dav/a.txt", h, "a.txt", false), 412);
}

Test(precond, no_lock_state_token)
{
    mf_put_file("a.txt", "x");
    cr_assert_eq(check("/dav/a.txt", "If: (<DAV:no-lock>)\r\n", "a.txt", false), 412);
    cr_assert_eq(check("/dav/a.txt", "If: (Not <DAV:no-lock>)\r\n", "a.txt", false), 0);
}

Test(precond, malformed)
{
    cr_assert_eq(check("/dav/a.txt", "If: garbage\r\n", "a.txt", false), 400);
    cr_assert_eq(check("/dav/a.txt", "If: ()\r\n", "a.txt", false), 400);
    cr_assert_eq(check("/dav/a.txt", "If: (<urn:x:y>)\r\nIf: (<urn:x:y>)\r\n", "a.txt", false),
                 400);
    cr_assert_eq(check("/dav/a.txt", "If: (<urn:x:y>) </dav/a> (<urn:x:y>)\r\n", "a.txt", false),
                 400);
}

Test(precond, exclusive_lock)
{
    mf_put_file("a.txt", "x");
    lock_excl("a.txt", "urn:uuid:a", false);
    cr_assert_eq(check("/dav/a.txt", "", "a.txt", false), 423);
    assert_submitted_href("/dav/a.txt");
    cr_assert_eq(check("/dav/a.txt", "If: (<urn:uuid:a>)\r\n", "a.txt", false), 0);
    cr_assert_eq(check("/dav/a.txt", "If: </dav/a.txt> (<urn:uuid:a>)\r\n", "a.txt", false), 0);
    /* With the entity-tag too (litmus cond_put) and with a wrong one (fail_cond_put). */
    char h[512];
    snprintf(h, sizeof(h), "If: (<urn:uuid:a> [%s])\r\n", etag_of("a.txt"));
    cr_assert_eq(check("/dav/a.txt", h, "a.txt", false), 0);
    cr_assert_eq(check("/dav/a.txt", "If: (<urn:uuid:a> [\"no\"])\r\n", "a.txt", false), 412);
    /* A true header that does not submit the token (litmus cond_put_corrupt_token). */
    cr_assert_eq(
        check("/dav/a.txt", "If: (<urn:uuid:bad>) (Not <DAV:no-lock>)\r\n", "a.txt", false), 423);
    /* Submitted in a false-but-skipped list still counts: the header is true by another. */
    cr_assert_eq(check("/dav/a.txt", "If: (Not <DAV:no-lock>) (<urn:uuid:a> [\"no\"])\r\n",
                       "a.txt", false),
                 0);
    /* Other files are free. */
    cr_assert_eq(check("/dav/b.txt", "", "b.txt", false), 0);
}

Test(precond, lock_on_unmapped_member_name)
{
    /* "a" does not cover "ab", nor "a" a sibling folder's files. */
    mf_mkdir("a");
    lock_excl("a", "urn:uuid:a", true);
    cr_assert_eq(check("/dav/ab", "", "ab", false), 0);
    cr_assert_eq(check("/dav/a/x", "", "a/x", false), 423);
}

Test(precond, infinity_lock_on_parent)
{
    mf_mkdir("d");
    mf_put_file("d/x", "x");
    lock_excl("d", "urn:uuid:d", true);
    cr_assert_eq(check("/dav/d/x", "", "d/x", false), 423);
    assert_submitted_href("/dav/d/");
    cr_assert_eq(check("/dav/d/new", "", "d/new", false), 423);
    /* Untagged: the member is in the lock's scope. */
    cr_assert_eq(check("/dav/d/x", "If: (<urn:uuid:d>)\r\n", "d/x", false), 0);
    /* Tagged with the lock root (litmus owner_modify on a locked collection). */
    cr_assert_eq(check("/dav/d/x", "If: </dav/d/> (<urn:uuid:d>)\r\n", "d/x", false), 0);
}

Test(precond, depth0_lock_on_parent)
{
    mf_mkdir("d");
    mf_put_file("d/x", "x");
    lock_excl("d", "urn:uuid:d", false);
    cr_assert_eq(check("/dav/d/x", "", "d/x", false), 0);
    cr_assert_eq(check("/dav/d", "", "d", false), 423);
    assert_submitted_href("/dav/d/");
    /* The token names a lock, but not one covering d/x: the list is false. */
    cr_assert_eq(check("/dav/d/x", "If: (<urn:uuid:d>)\r\n", "d/x", false), 412);
}

Test(precond, with_descendants)
{
    mf_mkdir("d");
    mf_mkdir("d/e");
    mf_put_file("d/e/x", "x");
    lock_excl("d/e/x", "urn:uuid:x", false);
    cr_assert_eq(check("/dav/d", "", "d", false), 0);
    cr_assert_eq(check("/dav/d", "", "d", true), 423);
    assert_submitted_href("/dav/d/e/x");
    cr_assert_eq(check("/dav/d", "If: </dav/d/e/x> (<urn:uuid:x>)\r\n", "d", true), 0);
    /* The root covers everything. */
    cr_assert_eq(check("/dav/", "", "", true), 423);
}

Test(precond, shared_any_holder)
{
    mf_put_file("a.txt", "x");
    lock_shared("a.txt", "urn:uuid:s1", false);
    lock_shared("a.txt", "urn:uuid:s2", false);
    cr_assert_eq(check("/dav/a.txt", "", "a.txt", false), 423);
    cr_assert_eq(check("/dav/a.txt", "If: (<urn:uuid:s1>)\r\n", "a.txt", false), 0);
    cr_assert_eq(check("/dav/a.txt", "If: (<urn:uuid:s2>)\r\n", "a.txt", false), 0);
}

Test(precond, shared_must_cover_the_whole_part)
{
    mf_mkdir("d");
    mf_put_file("d/x", "x");
    lock_shared("d", "urn:uuid:d", true);
    lock_shared("d/x", "urn:uuid:x", false);
    /* Writing d/x: either lock will do. */
    cr_assert_eq(check("/dav/d/x", "If: (<urn:uuid:x>)\r\n", "d/x", false), 0);
    cr_assert_eq(check("/dav/d/x", "If: (<urn:uuid:d>)\r\n", "d/x", false), 0);
    /* Deleting d: the depth-0 lock on d/x cannot stand in for the one over all of d. */
    cr_assert_eq(check("/dav/d", "If: </dav/d/x> (<urn:uuid:x>)\r\n", "d", true), 423);
    assert_submitted_href("/dav/d/");
    cr_assert_eq(check("/dav/d", "If: (<urn:uuid:d>)\r\n", "d", true), 0);
}

Test(precond, other_users_token)
{
    mf_put_file("a.txt", "x");
    add_lock(mf.uid2, "a.txt", "urn:uuid:bob", false, DAV_LOCK_EXCLUSIVE,
             (int64_t)time(NULL) + 600);
    /* Bob's lock lives in bob's tree: it neither blocks alice nor counts in her If header. */
    cr_assert_eq(check("/dav/a.txt", "", "a.txt", false), 0);
    cr_assert_eq(check("/dav/a.txt", "If: (<urn:uuid:bob>)\r\n", "a.txt", false), 412);
}

Test(precond, expired_lock)
{
    mf_put_file("a.txt", "x");
    add_lock(mf.uid, "a.txt", "urn:uuid:old", false, DAV_LOCK_EXCLUSIVE,
             (int64_t)time(NULL) - 1);
    cr_assert_eq(check("/dav/a.txt", "", "a.txt", false), 0);
    cr_assert_eq(check("/dav/a.txt", "If: (<urn:uuid:old>)\r\n", "a.txt", false), 412);
}

Test(precond, href_is_encoded)
{
    mf_mkdir("a b");
    lock_excl("a b", "urn:uuid:ab", true);
    cr_assert_eq(check("/dav/a%20b/%C3%A9", "", "a b/\xc3\xa9", false), 423);
    assert_submitted_href("/dav/a%20b/");
}

Test(precond, root_and_foreign_tags)
{
    mf_put_file("a.txt", "x");
    lock_excl("", "urn:uuid:root", true);
    cr_assert_eq(check("/dav/", "", "", false), 423);
    assert_submitted_href("/dav/");
    cr_assert_eq(check("/dav/", "If: (<urn:uuid:root>)\r\n", "", false), 0);
    cr_assert_eq(check("/dav/a.txt", "If: </dav> (<urn:uuid:root>)\r\n", "a.txt", false), 0);
    cr_assert_eq(check("/dav/a.txt", "If: </dav/> (<urn:uuid:root>)\r\n", "a.txt", false), 0);
    /* A URL outside the user's root names nothing of ours: no tag, no lock there. */
    cr_assert_eq(check("/dav/a.txt", "If: </other/a.txt> (<urn:uuid:root>)\r\n", "a.txt", false),
                 412);
    cr_assert_eq(check("/dav/a.txt", "If: </davx/a.txt> (<urn:uuid:root>)\r\n", "a.txt", false),
                 412);
    cr_assert_eq(
        check("/dav/a.txt", "If: </other/a.txt> (Not [\"x\"] <urn:uuid:root>)\r\n", "a.txt", false),
        412);
}
