/* SPDX-License-Identifier: MIT */
/*
 * Tests for PUT (dav/put.c) on a real tree and index: the body written to put.fd between
 * dav_put_begin and dav_put_finish as the server does, the atomic replace, the refusals before
 * the body, and that nothing is left behind (tree, staging folder) by an abort or a finish.
 */
#include <dirent.h>

#include "methodfix.h"

TestSuite(put, .init = mf_setup, .fini = mf_teardown);

static struct dav_put put;

/* dav_put_begin for target with extra header lines; 0 when the body may come. */
static int begin(const char *target, const char *headers)
{
    char head[8192];
    snprintf(head, sizeof(head), "PUT %s HTTP/1.1\r\n%s\r\n", target, headers);
    mf_request(head, NULL);
    memset(&put, 0x55, sizeof(put));
    cr_assert_eq(dav_put_begin(&mf.env, &mf.req, &mf.resp, &put), 0);
    if (mf.resp.status != 0) {
        cr_assert_eq(put.fd, -1);
        cr_assert_eq(put.dir_fd, -1);
    } else {
        cr_assert_geq(put.fd, 0);
    }
    return mf.resp.status;
}

static int finish(const char *body)
{
    size_t n = strlen(body);
    cr_assert_eq(write(put.fd, body, n), (ssize_t)n);
    cr_assert_eq(dav_put_finish(&mf.env, &mf.req, &mf.resp, &put), 0);
    cr_assert_eq(put.fd, -1);
    cr_assert_eq(put.dir_fd, -1);
    return mf.resp.status;
}

/* PUT body to target in one go with a Content-Length. */
static int put_file(const char *target, const char *headers, const char *body)
{
    char h[4096];
    snprintf(h, sizeof(h), "%sContent-Length: %zu\r\n", headers, strlen(body));
    int status = begin(target, h);
    return status ? status : finish(body);
}

static char *content(const char *rel)
{
    char p[PATH_MAX + 16];
    snprintf(p, sizeof(p), "%s/%s", mf.files, rel);
    FILE *f = fopen(p, "r");
    cr_assert_not_null(f, "%s", p);
    static char buf[4096];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Names in a folder of the data dir (".", ".." not counted). */
static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "%s", dir);
    int n = 0;
    for (struct dirent *de = readdir(d); de; de = readdir(d)) {
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            n++;
    }
    closedir(d);
    return n;
}

static int stage_entries(void)
{
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/tmp", mf.dir);
    return entries(p);
}

static const char *etag_header(void)
{
    static char tag[DAV_INDEX_ETAG_MAX];
    mf.resp.headers[mf.resp.headers_len] = '\0';
    const char *h = strstr(mf.resp.headers, "ETag: ");
    cr_assert_not_null(h, "%s", mf.resp.headers);
    h += 6;
    size_t n = strcspn(h, "\r");
    cr_assert_lt(n, sizeof(tag));
    memcpy(tag, h, n);
    tag[n] = '\0';
    return tag;
}

static void lookup(const char *path, struct dav_entry *e)
{
    cr_assert_eq(dav_index_lookup(mf.ix, mf.uid, path, e), 0, "%s", path);
}

Test(put, new_file)
{
    cr_assert_eq(put_file("/dav/a.txt", "", "hello"), 201);
    cr_assert_null(mf.resp.content_type);
    cr_assert_eq(mf.body.len, 0);
    cr_assert_str_eq(content("a.txt"), "hello");
    struct dav_entry e;
    lookup("a.txt", &e);
    cr_assert_str_eq(etag_header(), e.etag);
    cr_assert_eq(e.size, 5);
    /* What the index holds is what the disk says: resolving changes nothing. */
    mf_request("GET /dav/a.txt HTTP/1.1\r\n\r\n", NULL);
    struct dav_entry r;
    cr_assert_eq(dav_resolve(&mf.env, &mf.req, "a.txt", &r), 0);
    cr_assert_str_eq(r.etag, e.etag);
    cr_assert_eq(r.id, e.id);
    cr_assert_eq(stage_entries(), 0);
    cr_assert_eq(entries(mf.files), 1);
}

Test(put, in_folder_and_mode)
{
    mf_mkdir("d");
    cr_assert_eq(put_file("/dav/d/x%20y", "", "1"), 201);
    cr_assert_str_eq(content("d/x y"), "1");
    char p[PATH_MAX + 16];
    snprintf(p, sizeof(p), "%s/d/x y", mf.files);
    struct stat sb;
    cr_assert_eq(stat(p, &sb), 0);
    cr_assert(S_ISREG(sb.st_mode));
    cr_assert_eq(sb.st_mode & 0777 & ~0644, 0);
}

Test(put, replace)
{
    mf_put_file("a.txt", "old content");
    mf_request("GET /dav/a.txt HTTP/1.1\r\n\r\n", NULL);
    struct dav_entry old;
    cr_assert_eq(dav_resolve(&mf.env, &mf.req, "a.txt", &old), 0);
    cr_assert_eq(put_file("/dav/a.txt", "", "new"), 204);
    cr_assert_eq(mf.body.len, 0);
    cr_assert_str_eq(content("a.txt"), "new");
    struct dav_entry e;
    lookup("a.txt", &e);
    cr_assert_str_eq(etag_header(), e.etag);
    cr_assert_str_neq(e.etag, old.etag);
    cr_assert_eq(e.size, 3);
    cr_assert_eq(e.id, old.id, "a replaced file keeps its id");
    cr_assert_eq(stage_entries(), 0);
    cr_assert_eq(entries(mf.files), 1);
}

Test(put, readers_keep_the_old_version)
{
    mf_put_file("a.txt", "old");
    char p[PATH_MAX + 16];
    snprintf(p, sizeof(p), "%s/a.txt", mf.files);
    int rfd = open(p, O_RDONLY);
    cr_assert_geq(rfd, 0);
    cr_assert_eq(put_file("/dav/a.txt", "", "new!"), 204);
    char buf[8] = {0};
    cr_assert_eq(pread(rfd, buf, sizeof(buf), 0), 3);
    cr_assert_str_eq(buf, "old");
    close(rfd);
}

Test(put, abort_leaves_nothing)
{
    mf_mkdir("d");
    mf_put_file("d/a.txt", "keep me");
    cr_assert_eq(begin("/dav/d/a.txt", "Content-Length: 100\r\n"), 0);
    cr_assert_eq(write(put.fd, "partial", 7), 7);
    dav_put_abort(&put);
    cr_assert_eq(put.fd, -1);
    cr_assert_eq(put.dir_fd, -1);
    cr_assert_str_eq(content("d/a.txt"), "keep me");
    char p[PATH_MAX + 16];
    snprintf(p, sizeof(p), "%s/d", mf.files);
    cr_assert_eq(entries(p), 1);
    cr_assert_eq(stage_entries(), 0);
    /* A new file's abort leaves no name either. */
    cr_assert_eq(begin("/dav/d/new", "Content-Length: 10\r\n"), 0);
    dav_put_abort(&put);
    cr_assert_eq(entries(p), 1);
    cr_assert_not(mf_exists("d/new"));
    /* Twice is harmless. */
    dav_put_abort(&put);
}

Test(put, empty_body)
{
    cr_assert_eq(begin("/dav/empty", ""), 0);
    cr_assert_eq(finish(""), 201);
    cr_assert_str_eq(content("empty"), "");
}

Test(put, if_none_match)
{
    mf_put_file("a.txt", "x");
    cr_assert_eq(put_file("/dav/a.txt", "If-None-Match: *\r\n", "y"), 412);
    cr_assert_str_eq(content("a.txt"), "x");
    cr_assert_eq(put_file("/dav/b.txt", "If-None-Match: *\r\n", "y"), 201);
    /* A matching tag, weak comparison (RFC 9110 §13.1.2). */
    struct dav_entry e;
    lookup("b.txt", &e);
    char h[256];
    snprintf(h, sizeof(h), "If-None-Match: W/%s\r\n", e.etag);
    cr_assert_eq(put_file("/dav/b.txt", h, "z"), 412);
    cr_assert_eq(put_file("/dav/b.txt", "If-None-Match: \"other\"\r\n", "z"), 204);
}

Test(put, if_match)
{
    mf_put_file("a.txt", "x");
    cr_assert_eq(put_file("/dav/a.txt", "If-Match: \"nope\"\r\n", "y"), 412);
    cr_assert_str_eq(content("a.txt"), "x");
    cr_assert_eq(put_file("/dav/new.txt", "If-Match: *\r\n", "y"), 412);
    cr_assert_not(mf_exists("new.txt"));
    cr_assert_eq(put_file("/dav/a.txt", "If-Match: *\r\n", "y"), 204);
    struct dav_entry e;
    lookup("a.txt", &e);
    char h[256];
    snprintf(h, sizeof(h), "If-Match: \"x\", %s\r\n", e.etag);
    cr_assert_eq(put_file("/dav/a.txt", h, "z"), 204);
    cr_assert_str_eq(content("a.txt"), "z");
    /* The tag changed with the content: the old one no longer matches. */
    cr_assert_eq(put_file("/dav/a.txt", h, "w"), 412);
}

Test(put, if_header)
{
    mf_put_file("a.txt", "x");
    cr_assert_eq(put_file("/dav/a.txt", "If: ([\"nope\"])\r\n", "y"), 412);
    cr_assert_eq(put_file("/dav/a.txt", "If: nope\r\n", "y"), 400);
    cr_assert_str_eq(content("a.txt"), "x");
}

Test(put, parent_missing)
{
    cr_assert_eq(put_file("/dav/no/a.txt", "", "x"), 409);
    cr_assert_not(mf_exists("no"));
    mf_put_file("f", "x");
    cr_assert_eq(put_file("/dav/f/a.txt", "", "x"), 409);
    cr_assert_str_eq(content("f"), "x");
}

Test(put, collection)
{
    mf_mkdir("d");
    cr_assert_eq(put_file("/dav/d", "", "x"), 405);
    cr_assert_eq(put_file("/dav/d/", "", "x"), 405);
    cr_assert_eq(put_file("/dav/new/", "", "x"), 405);
    cr_assert_eq(put_file("/dav/", "", "x"), 405);
    cr_assert_not(mf_exists("new"));
}

Test(put, content_range)
{
    mf_put_file("a.txt", "xxxx");
    cr_assert_eq(put_file("/dav/a.txt", "Content-Range: bytes 0-1/4\r\n", "yy"), 400);
    cr_assert_str_eq(content("a.txt"), "xxxx");
}

static void add_lock(const char *path, const char *token, bool infinite)
{
    struct dav_lock lk = {.user_id = mf.uid, .is_infinite = infinite,
                          .scope = DAV_LOCK_EXCLUSIVE, .expires = (int64_t)time(NULL) + 600};
    strcpy(lk.token, token);
    strcpy(lk.path, path);
    cr_assert_eq(dav_index_lock_create(mf.ix, &lk, (int64_t)time(NULL), NULL), 0);
}

Test(put, locked_file)
{
    mf_put_file("a.txt", "x");
    add_lock("a.txt", "urn:uuid:a", false);
    cr_assert_eq(put_file("/dav/a.txt", "", "y"), 423);
    cr_assert_str_eq(mf.resp.content_type, "application/xml; charset=utf-8");
    cr_assert(strstr(mf.body.p, "lock-token-submitted"), "%s", mf.body.p);
    cr_assert(strstr(mf.body.p, "<D:href>/dav/a.txt</D:href>"), "%s", mf.body.p);
    cr_assert_str_eq(content("a.txt"), "x");
    cr_assert_eq(put_file("/dav/a.txt", "If: (<urn:uuid:a>)\r\n", "y"), 204);
    cr_assert_str_eq(content("a.txt"), "y");
    /* A replaced file keeps its lock: the lock is on the URL. */
    cr_assert_eq(put_file("/dav/a.txt", "", "z"), 423);
}

Test(put, locked_folder)
{
    mf_mkdir("d");
    mf_mkdir("e");
    add_lock("d", "urn:uuid:d", true);
    add_lock("e", "urn:uuid:e", false);
    cr_assert_eq(put_file("/dav/d/new", "", "y"), 423);
    cr_assert_not(mf_exists("d/new"));
    cr_assert_eq(put_file("/dav/d/new", "If: (<urn:uuid:d>)\r\n", "y"), 201);
    /* A depth-0 lock guards the folder's membership (RFC 4918 §7.4)... */
    cr_assert_eq(put_file("/dav/e/new", "", "y"), 423);
    cr_assert_not(mf_exists("e/new"));
    cr_assert_eq(put_file("/dav/e/new", "If: </dav/e/> (<urn:uuid:e>)\r\n", "y"), 201);
    /* ...not its members' content. */
    cr_assert_eq(put_file("/dav/e/new", "", "z"), 204);
}

Test(put, quota)
{
    mf.cfg.quota_bytes = 10;
    cr_assert_eq(put_file("/dav/a", "", "12345678"), 201);
    cr_assert_eq(put_file("/dav/b", "", "123"), 507);
    cr_assert_not(mf_exists("b"));
    /* Replacing counts the old size out. */
    cr_assert_eq(put_file("/dav/a", "", "1234567890"), 204);
    cr_assert_eq(put_file("/dav/b", "", ""), 201);
    cr_assert_eq(put_file("/dav/a", "", "12345678901"), 507);
    cr_assert_str_eq(content("a"), "1234567890");
    /* A length far past any quota. */
    cr_assert_eq(begin("/dav/c", "Content-Length: 1000000000000000000\r\n"), 507);
    mf.cfg.quota_bytes = -1;
    cr_assert_eq(put_file("/dav/c", "", "0123456789abcdef"), 201);
}

Test(put, quota_chunked)
{
    mf.cfg.quota_bytes = 10;
    /* No length announced: judged by the bytes that arrived, and nothing kept; the server
     * may stop the body once past the room it had at the start. */
    cr_assert_eq(begin("/dav/a", "Transfer-Encoding: chunked\r\n"), 0);
    cr_assert_eq(put.room, 10);
    cr_assert_eq(finish("0123456789abc"), 507);
    cr_assert_not(mf_exists("a"));
    cr_assert_eq(stage_entries(), 0);
    cr_assert_eq(begin("/dav/a", "Transfer-Encoding: chunked\r\n"), 0);
    cr_assert_eq(finish("0123456789"), 201);
    /* Replacing a: its own 10 bytes count out of what the user holds. */
    cr_assert_eq(begin("/dav/a", "Transfer-Encoding: chunked\r\n"), 0);
    cr_assert_eq(put.room, 10);
    dav_put_abort(&put);
    cr_assert_eq(begin("/dav/b", "Transfer-Encoding: chunked\r\n"), 0);
    cr_assert_eq(put.room, 0);
    dav_put_abort(&put);
    mf.cfg.quota_bytes = -1;
    cr_assert_eq(begin("/dav/b", "Transfer-Encoding: chunked\r\n"), 0);
    cr_assert_eq(put.room, UINT64_MAX);
    dav_put_abort(&put);
}

Test(put, folder_appeared_meanwhile)
{
    cr_assert_eq(begin("/dav/x", "Content-Length: 1\r\n"), 0);
    mf_mkdir("x");
    mf_put_file("x/inner", "i");
    cr_assert_eq(finish("1"), 409);
    cr_assert_eq(stage_entries(), 0);
    cr_assert_str_eq(content("x/inner"), "i");
}

Test(put, stage_on_other_file_system)
{
    char shm[] = "/dev/shm/ff-put-test-XXXXXX";
    if (!mkdtemp(shm))
        cr_skip_test("no /dev/shm");
    int other = open(shm, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    cr_assert_geq(other, 0);
    struct stat a, b;
    cr_assert_eq(fstat(other, &a), 0);
    cr_assert_eq(fstat(mf.root_fd, &b), 0);
    int saved = mf.env.stage_fd;
    mf.env.stage_fd = other;
    mf_put_file("a.txt", "old");
    int s1 = put_file("/dav/a.txt", "", "new");
    int s2 = put_file("/dav/b.txt", "", "bee");
    mf.env.stage_fd = saved;
    int left = entries(shm);
    close(other);
    rmdir(shm);
    if (a.st_dev == b.st_dev)
        cr_skip_test("/dev/shm is on the same file system as /tmp");
    cr_assert_eq(s1, 204);
    cr_assert_eq(s2, 201);
    cr_assert_eq(left, 0);
    cr_assert_str_eq(content("a.txt"), "new");
    cr_assert_str_eq(content("b.txt"), "bee");
    cr_assert_eq(entries(mf.files), 2, "no hidden names left beside the files");
}
