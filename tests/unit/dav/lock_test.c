/* SPDX-License-Identifier: MIT */
/*
 * Tests for LOCK and UNLOCK (dav/lock.c) on a real tree and index: new locks on existing and
 * unmapped resources, Depth and Timeout, conflicts, refresh, expiry and UNLOCK's checks.
 */
#include "methodfix.h"

TestSuite(lock, .init = mf_setup, .fini = mf_teardown);

#define EXCL                                                                                       \
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"                                                \
    "<D:lockinfo xmlns:D=\"DAV:\"><D:lockscope><D:exclusive/></D:lockscope>"                      \
    "<D:locktype><D:write/></D:locktype>"                                                          \
    "<D:owner><D:href>http://example.org/~me</D:href></D:owner></D:lockinfo>"
#define SHARED                                                                                     \
    "<D:lockinfo xmlns:D=\"DAV:\"><D:lockscope><D:shared/></D:lockscope>"                         \
    "<D:locktype><D:write/></D:locktype></D:lockinfo>"

static char token[DAV_INDEX_TOKEN_MAX + 1];

/* A request with extra header lines; the Lock-Token of a successful LOCK lands in token. */
static int run(int (*method)(struct dav_env *, const struct dav_req *, struct dav_resp *),
               const char *name, const char *target, const char *headers, const char *body,
               int64_t shift)
{
    char head[8192];
    snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\n%s\r\n", name, target, headers);
    mf_request(head, body);
    mf.req.now += shift;
    int status = mf_run(method);
    mf.resp.headers[mf.resp.headers_len] = '\0';
    const char *lt = strstr(mf.resp.headers, "Lock-Token: <");
    if (lt) {
        lt += strlen("Lock-Token: <");
        size_t n = strcspn(lt, ">");
        cr_assert_leq(n, DAV_INDEX_TOKEN_MAX);
        memcpy(token, lt, n);
        token[n] = '\0';
    }
    return status;
}

static int lock_at(const char *target, const char *headers, const char *body)
{
    return run(dav_lock, "LOCK", target, headers, body, 0);
}

static int unlock_at(const char *target, const char *tok)
{
    char h[512];
    snprintf(h, sizeof(h), "Lock-Token: <%s>\r\n", tok);
    return run(dav_unlock, "UNLOCK", target, h, NULL, 0);
}

static char *text_of(xmlNodePtr root, const char *local)
{
    xmlNodePtr n = find_elem(root, "DAV:", local);
    cr_assert_not_null(n, "no %s", local);
    xmlChar *t = xmlNodeGetContent(n);
    char *s = strdup((const char *)t);
    xmlFree(t);
    return s;
}

/* The lockdiscovery of a LOCK answer: one activelock with these values. */
static void assert_activelock(bool exclusive, const char *depth, const char *timeout,
                              const char *root)
{
    cr_assert_str_eq(mf.resp.content_type, "application/xml; charset=utf-8");
    xmlDocPtr doc = read_doc(mf.body.p, mf.body.len);
    cr_assert_not_null(doc, "%s", mf.body.p);
    xmlNodePtr r = xmlDocGetRootElement(doc);
    cr_assert(node_is(r, "DAV:", "prop"));
    xmlNodePtr al = find_elem(r, "DAV:", "activelock");
    cr_assert_not_null(al);
    cr_assert_not_null(find_elem(al, "DAV:", exclusive ? "exclusive" : "shared"));
    char *s = text_of(al, "depth");
    cr_assert_str_eq(s, depth);
    free(s);
    s = text_of(al, "timeout");
    cr_assert_str_eq(s, timeout);
    free(s);
    s = text_of(find_elem(al, "DAV:", "locktoken"), "href");
    cr_assert_str_eq(s, token);
    free(s);
    s = text_of(find_elem(al, "DAV:", "lockroot"), "href");
    cr_assert_str_eq(s, root);
    free(s);
    xmlFreeDoc(doc);
}

static void assert_error(int status, const char *cond, const char *href)
{
    cr_assert_eq(mf.resp.status, status);
    cr_assert_str_eq(mf.resp.content_type, "application/xml; charset=utf-8");
    xmlDocPtr doc = read_doc(mf.body.p, mf.body.len);
    cr_assert_not_null(doc, "%s", mf.body.p);
    xmlNodePtr r = xmlDocGetRootElement(doc);
    cr_assert(node_is(r, "DAV:", "error"));
    xmlNodePtr c = find_elem(r, "DAV:", cond);
    cr_assert_not_null(c, "%s", mf.body.p);
    if (href) {
        char *s = text_of(c, "href");
        cr_assert_str_eq(s, href);
        free(s);
    }
    xmlFreeDoc(doc);
}

static bool get_lock(const char *tok, struct dav_lock *lk)
{
    return dav_index_lock_get(mf.ix, tok, (int64_t)time(NULL), lk) == 0;
}

Test(lock, new_on_existing_file)
{
    mf_put_file("a.txt", "x");
    cr_assert_eq(lock_at("/dav/a.txt", "", EXCL), 200);
    cr_assert_eq(strncmp(token, "urn:uuid:", 9), 0);
    cr_assert_eq(strlen(token), 9 + 36);
    cr_assert_eq(token[9 + 14], '4', "UUID version 4: %s", token);
    assert_activelock(true, "infinity", "Second-600", "/dav/a.txt");
    cr_assert(strstr(mf.body.p, "<D:owner><D:href xmlns:D=\"DAV:\">http://example.org/~me"
                                "</D:href></D:owner>") ||
                  strstr(mf.body.p, "http://example.org/~me"),
              "%s", mf.body.p);
    struct dav_lock lk;
    cr_assert(get_lock(token, &lk));
    cr_assert_str_eq(lk.path, "a.txt");
    cr_assert_eq(lk.user_id, mf.uid);
    cr_assert_eq(lk.scope, DAV_LOCK_EXCLUSIVE);
    cr_assert(lk.is_infinite);
    cr_assert_eq(lk.expires, mf.req.now + 600);
    cr_assert(strstr(lk.owner, "http://example.org/~me"));
    /* Tokens are fresh each time. */
    char first[sizeof(token)];
    strcpy(first, token);
    cr_assert_eq(lock_at("/dav/b.txt", "", EXCL), 201);
    cr_assert_str_neq(first, token);
}

Test(lock, folder_root_href)
{
    mf_mkdir("d");
    cr_assert_eq(lock_at("/dav/d", "Depth: 0\r\n", SHARED), 200);
    assert_activelock(false, "0", "Second-600", "/dav/d/");
    struct dav_lock lk;
    cr_assert(get_lock(token, &lk));
    cr_assert_not(lk.is_infinite);
    cr_assert_eq(lk.scope, DAV_LOCK_SHARED);
    cr_assert_str_eq(lk.owner, "");
}

Test(lock, timeout)
{
    cr_assert_eq(lock_at("/dav/a", "Timeout: Second-100\r\n", EXCL), 201);
    assert_activelock(true, "infinity", "Second-100", "/dav/a");
    struct dav_lock lk;
    cr_assert(get_lock(token, &lk));
    cr_assert_eq(lk.expires, mf.req.now + 100);
    cr_assert_eq(lock_at("/dav/b", "Timeout: Infinite, Second-5\r\n", EXCL), 201);
    assert_activelock(true, "infinity", "Second-3600", "/dav/b");
    cr_assert_eq(lock_at("/dav/c", "Timeout: Second-99999999\r\n", EXCL), 201);
    assert_activelock(true, "infinity", "Second-3600", "/dav/c");
}

Test(lock, depth)
{
    mf_mkdir("d");
    cr_assert_eq(lock_at("/dav/d", "Depth: 1\r\n", EXCL), 400);
    cr_assert_eq(lock_at("/dav/d", "Depth: 2\r\n", EXCL), 400);
    cr_assert_eq(lock_at("/dav/d", "Depth: 0\r\nDepth: 0\r\n", EXCL), 400);
    struct dav_lock lk;
    cr_assert_eq(lock_at("/dav/d", "Depth: infinity\r\n", EXCL), 200);
    cr_assert(get_lock(token, &lk));
    cr_assert(lk.is_infinite);
}

Test(lock, bad_bodies)
{
    cr_assert_eq(lock_at("/dav/a", "", "<D:lockinfo xmlns:D=\"DAV:\">"), 400);
    cr_assert_eq(lock_at("/dav/a", "", "<D:propfind xmlns:D=\"DAV:\"><D:allprop/></D:propfind>"),
                 400);
    cr_assert_eq(lock_at("/dav/a", "",
                         "<D:lockinfo xmlns:D=\"DAV:\"><D:locktype><D:write/></D:locktype>"
                         "</D:lockinfo>"),
                 400);
    cr_assert_not(mf_exists("a"));
}

Test(lock, unmapped_creates_empty_file)
{
    cr_assert_eq(lock_at("/dav/new.txt", "", EXCL), 201);
    cr_assert(mf_exists("new.txt"));
    struct stat sb;
    char p[PATH_MAX + 16];
    snprintf(p, sizeof(p), "%s/new.txt", mf.files);
    cr_assert_eq(stat(p, &sb), 0);
    cr_assert(S_ISREG(sb.st_mode));
    cr_assert_eq(sb.st_size, 0);
    struct dav_entry e;
    cr_assert_eq(dav_index_lookup(mf.ix, mf.uid, "new.txt", &e), 0);
    cr_assert_not(e.is_dir);
    struct dav_lock lk;
    cr_assert(get_lock(token, &lk));
    cr_assert_str_eq(lk.path, "new.txt");
}

static int count_locks_cb(void *ctx, const struct dav_lock *lk)
{
    (void)lk;
    ++*(int *)ctx;
    return 0;
}

static int count_locks(const char *path)
{
    int n = 0;
    cr_assert_eq(dav_index_lock_find(mf.ix, mf.uid, path, true, (int64_t)time(NULL),
                                     count_locks_cb, &n),
                 0);
    return n;
}

Test(lock, unmapped_parent_missing)
{
    cr_assert_eq(lock_at("/dav/no/new.txt", "", EXCL), 409);
    cr_assert_eq(count_locks(""), 0);
    mf_put_file("f", "x");
    cr_assert_eq(lock_at("/dav/f/new.txt", "", EXCL), 409);
    cr_assert_eq(lock_at("/dav/newdir/", "", EXCL), 409);
    cr_assert_not(mf_exists("newdir"));
    cr_assert_eq(count_locks(""), 0);
}

Test(lock, exclusive_conflicts)
{
    mf_put_file("a.txt", "x");
    cr_assert_eq(lock_at("/dav/a.txt", "", EXCL), 200);
    char first[sizeof(token)];
    strcpy(first, token);
    cr_assert_eq(lock_at("/dav/a.txt", "", EXCL), 423);
    assert_error(423, "no-conflicting-lock", "/dav/a.txt");
    cr_assert_eq(lock_at("/dav/a.txt", "", SHARED), 423);
    /* Submitting the token does not make room for a second exclusive lock. */
    char h[256];
    snprintf(h, sizeof(h), "If: (<%s>)\r\n", first);
    cr_assert_eq(lock_at("/dav/a.txt", h, EXCL), 423);
    cr_assert_eq(count_locks("a.txt"), 1);
}

Test(lock, shared_locks)
{
    mf_put_file("a.txt", "x");
    cr_assert_eq(lock_at("/dav/a.txt", "", SHARED), 200);
    char first[sizeof(token)];
    strcpy(first, token);
    cr_assert_eq(lock_at("/dav/a.txt", "", SHARED), 200);
    cr_assert_str_neq(first, token);
    cr_assert_eq(count_locks("a.txt"), 2);
    cr_assert_eq(lock_at("/dav/a.txt", "", EXCL), 423);
    assert_error(423, "no-conflicting-lock", "/dav/a.txt");
}

Test(lock, infinity_on_folder)
{
    mf_mkdir("d");
    mf_put_file("d/x", "x");
    cr_assert_eq(lock_at("/dav/d", "", EXCL), 200);
    cr_assert_eq(lock_at("/dav/d/x", "Depth: 0\r\n", EXCL), 423);
    assert_error(423, "no-conflicting-lock", "/dav/d/");
    cr_assert_eq(lock_at("/dav/d/x", "Depth: 0\r\n", SHARED), 423);
    /* A new member needs the folder's token, and then still conflicts. */
    cr_assert_eq(lock_at("/dav/d/new", "", SHARED), 423);
    cr_assert_not(mf_exists("d/new"));
}

Test(lock, depth0_on_folder)
{
    mf_mkdir("d");
    mf_put_file("d/x", "x");
    cr_assert_eq(lock_at("/dav/d", "Depth: 0\r\n", EXCL), 200);
    char dtok[sizeof(token)];
    strcpy(dtok, token);
    /* Members are not in a depth-0 lock's scope... */
    cr_assert_eq(lock_at("/dav/d/x", "Depth: 0\r\n", EXCL), 200);
    /* ...but adding one changes the folder (RFC 4918 §7.4). */
    cr_assert_eq(lock_at("/dav/d/new", "", EXCL), 423);
    assert_error(423, "lock-token-submitted", "/dav/d/");
    cr_assert_not(mf_exists("d/new"));
    char h[256];
    snprintf(h, sizeof(h), "If: </dav/d> (<%s>)\r\n", dtok);
    cr_assert_eq(lock_at("/dav/d/new", h, EXCL), 201);
    cr_assert(mf_exists("d/new"));
}

Test(lock, infinity_blocked_by_member_lock)
{
    mf_mkdir("d");
    mf_put_file("d/x", "x");
    cr_assert_eq(lock_at("/dav/d/x", "", EXCL), 200);
    cr_assert_eq(lock_at("/dav/d", "", SHARED), 423);
    assert_error(423, "no-conflicting-lock", "/dav/d/x");
    cr_assert_eq(lock_at("/dav/d", "Depth: 0\r\n", EXCL), 200);
}

Test(lock, if_header_is_checked)
{
    mf_put_file("a.txt", "x");
    cr_assert_eq(lock_at("/dav/a.txt", "If: ([\"nope\"])\r\n", EXCL), 412);
    cr_assert_eq(lock_at("/dav/a.txt", "If: nope\r\n", EXCL), 400);
    cr_assert_eq(count_locks(""), 0);
}

Test(lock, refresh)
{
    mf_put_file("a.txt", "x");
    cr_assert_eq(lock_at("/dav/a.txt", "Timeout: Second-100\r\n", EXCL), 200);
    char h[256];
    snprintf(h, sizeof(h), "If: (<%s>)\r\nTimeout: Second-1000\r\n", token);
    cr_assert_eq(lock_at("/dav/a.txt", h, NULL), 200);
    assert_activelock(true, "infinity", "Second-1000", "/dav/a.txt");
    cr_assert(strstr(mf.body.p, "http://example.org/~me"), "%s", mf.body.p);
    cr_assert_null(strstr(mf.resp.headers, "Lock-Token"));
    struct dav_lock lk;
    cr_assert(get_lock(token, &lk));
    cr_assert_eq(lk.expires, mf.req.now + 1000);
    /* Whitespace is no body either. */
    snprintf(h, sizeof(h), "If: </dav/a.txt> (<%s>)\r\n", token);
    cr_assert_eq(lock_at("/dav/a.txt", h, " \r\n"), 200);
    cr_assert(get_lock(token, &lk));
    cr_assert_eq(lk.expires, mf.req.now + 600);
}

Test(lock, refresh_errors)
{
    mf_put_file("a.txt", "x");
    mf_put_file("b.txt", "x");
    cr_assert_eq(lock_at("/dav/a.txt", "", EXCL), 200);
    cr_assert_eq(lock_at("/dav/a.txt", "", NULL), 400);
    cr_assert_eq(lock_at("/dav/a.txt", "If: (<urn:uuid:nope>)\r\n", NULL), 412);
    cr_assert_eq(lock_at("/dav/a.txt", "If: (Not <DAV:no-lock>)\r\n", NULL), 412);
    cr_assert_eq(lock_at("/dav/a.txt", "If: (\r\n", NULL), 400);
    /* The lock must cover the request-URI. */
    char h[256];
    snprintf(h, sizeof(h), "If: </dav/a.txt> (<%s>)\r\n", token);
    cr_assert_eq(lock_at("/dav/b.txt", h, NULL), 412);
}

Test(lock, indirect_refresh)
{
    mf_mkdir("d");
    mf_put_file("d/x", "x");
    cr_assert_eq(lock_at("/dav/d", "Timeout: Second-10\r\n", EXCL), 200);
    char h[256];
    snprintf(h, sizeof(h), "If: (<%s>)\r\nTimeout: Second-500\r\n", token);
    cr_assert_eq(lock_at("/dav/d/x", h, NULL), 200);
    assert_activelock(true, "infinity", "Second-500", "/dav/d/");
}

Test(lock, expiry)
{
    mf_put_file("a.txt", "x");
    cr_assert_eq(lock_at("/dav/a.txt", "Timeout: Second-60\r\n", EXCL), 200);
    char old[sizeof(token)];
    strcpy(old, token);
    char h[256];
    snprintf(h, sizeof(h), "If: (<%s>)\r\n", old);
    /* A minute later the lock is gone: refresh fails, a new lock is granted. */
    cr_assert_eq(run(dav_lock, "LOCK", "/dav/a.txt", h, NULL, 61), 412);
    cr_assert_eq(run(dav_lock, "LOCK", "/dav/a.txt", "", EXCL, 61), 200);
    cr_assert_str_neq(old, token);
    /* Before that, it was there. */
    cr_assert_eq(run(dav_lock, "LOCK", "/dav/a.txt", "", EXCL, 59), 423);
}

Test(lock, unlock)
{
    mf_put_file("a.txt", "x");
    cr_assert_eq(lock_at("/dav/a.txt", "", EXCL), 200);
    char tok[sizeof(token)];
    strcpy(tok, token);
    cr_assert_eq(unlock_at("/dav/a.txt", tok), 204);
    cr_assert_eq(mf.body.len, 0);
    struct dav_lock lk;
    cr_assert_not(get_lock(tok, &lk));
    cr_assert_eq(unlock_at("/dav/a.txt", tok), 409);
    assert_error(409, "lock-token-matches-request-uri", NULL);
    /* The resource is free again. */
    cr_assert_eq(lock_at("/dav/a.txt", "", EXCL), 200);
}

Test(lock, unlock_errors)
{
    mf_put_file("a.txt", "x");
    mf_put_file("b.txt", "x");
    cr_assert_eq(run(dav_unlock, "UNLOCK", "/dav/a.txt", "", NULL, 0), 400);
    cr_assert_eq(run(dav_unlock, "UNLOCK", "/dav/a.txt", "Lock-Token: urn:x\r\n", NULL, 0), 400);
    cr_assert_eq(unlock_at("/dav/a.txt", "urn:uuid:nope"), 409);
    cr_assert_eq(lock_at("/dav/a.txt", "", EXCL), 200);
    char tok[sizeof(token)];
    strcpy(tok, token);
    /* Another resource's URL. */
    cr_assert_eq(unlock_at("/dav/b.txt", tok), 409);
    assert_error(409, "lock-token-matches-request-uri", NULL);
    /* Bob's lock on his own file of that name is not alice's to remove. */
    struct dav_lock bl = {.user_id = mf.uid2, .expires = (int64_t)time(NULL) + 60};
    strcpy(bl.token, "urn:uuid:bob");
    strcpy(bl.path, "a.txt");
    cr_assert_eq(dav_index_lock_create(mf.ix, &bl, (int64_t)time(NULL), NULL), 0);
    cr_assert_eq(unlock_at("/dav/a.txt", "urn:uuid:bob"), 409);
    struct dav_lock lk;
    cr_assert(get_lock("urn:uuid:bob", &lk));
    cr_assert(get_lock(tok, &lk));
}

Test(lock, unlock_from_member)
{
    mf_mkdir("d");
    mf_put_file("d/x", "x");
    cr_assert_eq(lock_at("/dav/d", "", EXCL), 200);
    char tok[sizeof(token)];
    strcpy(tok, token);
    /* §9.11: any URL in the lock's scope. */
    cr_assert_eq(unlock_at("/dav/d/x", tok), 204);
    struct dav_lock lk;
    cr_assert_not(get_lock(tok, &lk));
}

Test(lock, gone_file_takes_lock_along)
{
    mf_put_file("a.txt", "x");
    cr_assert_eq(lock_at("/dav/a.txt", "", EXCL), 200);
    char p[PATH_MAX + 16];
    snprintf(p, sizeof(p), "%s/a.txt", mf.files);
    cr_assert_eq(unlink(p), 0);
    cr_assert_eq(unlock_at("/dav/a.txt", token), 409);
}
