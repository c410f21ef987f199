/* SPDX-License-Identifier: MIT */
/*
 * Fixture for the WebDAV method tests (dav/dav.h): a fresh data folder with the account store
 * and the index as the server makes them, user "alice" (and "bob") with a tree under
 * DATA/files/NAME, and a request built from raw head bytes the way the server parses them. The
 * response body is collected in memory (struct membuf, davtest.h).
 */
#ifndef TESTS_UNIT_DAV_METHODFIX_H
#define TESTS_UNIT_DAV_METHODFIX_H

#include <criterion/criterion.h>
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

#include "dav.h"
#include "davtest.h"
#include "log.h"
#include "path.h"
#include "store.h"

#define MF_HASH "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"

struct mf {
    char dir[64];
    char files[PATH_MAX]; /* DATA/files/alice */
    struct store *st;
    struct dav_index *ix;
    struct dav_cfg cfg;
    struct dav_env env;
    int64_t uid, uid2;
    int root_fd;
    /* the last request */
    char head[16384];
    struct http_request http;
    char path[PATH_MAX];
    struct dav_req req;
    struct dav_resp resp;
    struct membuf body;
};

static struct mf mf;

static inline void mf_setup(void)
{
    char err[256];
    log_set_level(LOG_ERROR);
    memset(&mf, 0, sizeof(mf));
    strcpy(mf.dir, "/tmp/ff-dav-test-XXXXXX");
    cr_assert_not_null(mkdtemp(mf.dir));
    cr_assert_eq(store_open(mf.dir, &mf.st, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(dav_index_open(mf.dir, NULL, &mf.ix, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(store_user_add(mf.st, "alice", MF_HASH, 1000, &mf.uid), 0);
    cr_assert_eq(store_user_add(mf.st, "bob", MF_HASH, 1000, &mf.uid2), 0);
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/files", mf.dir);
    cr_assert_eq(mkdir(p, 0700), 0);
    snprintf(mf.files, sizeof(mf.files), "%s/files/alice", mf.dir);
    cr_assert_eq(mkdir(mf.files, 0700), 0);
    snprintf(p, sizeof(p), "%s/files/bob", mf.dir);
    cr_assert_eq(mkdir(p, 0700), 0);
    mf.root_fd = open(mf.files, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    cr_assert_geq(mf.root_fd, 0);
    mf.cfg = (struct dav_cfg){.depth_infinity_max = 1000,
                              .lock_timeout_default = 600,
                              .lock_timeout_max = 3600,
                              .quota_bytes = -1};
    snprintf(p, sizeof(p), "%s/tmp", mf.dir);
    cr_assert_eq(mkdir(p, 0700), 0);
    int stage_fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    cr_assert_geq(stage_fd, 0);
    mf.env = (struct dav_env){.ix = mf.ix, .cfg = &mf.cfg, .stage_fd = stage_fd};
}

static inline int mf_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static inline void mf_teardown(void)
{
    free(mf.body.p);
    close(mf.root_fd);
    close(mf.env.stage_fd);
    dav_index_close(mf.ix);
    store_close(mf.st);
    nftw(mf.dir, mf_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * Parse a request head ("PROPFIND /dav/a HTTP/1.1\r\nDepth: 1\r\n\r\n"; the Host header is
 * added when missing) and fill mf.req for user alice with body (may be NULL). The target must
 * start with /dav/.
 */
static inline void mf_request(const char *head, const char *body)
{
    size_t hl = strlen(head);
    cr_assert_lt(hl + 32, sizeof(mf.head));
    const char *eol = strstr(head, "\r\n");
    cr_assert_not_null(eol);
    size_t first = (size_t)(eol - head) + 2;
    memcpy(mf.head, head, first);
    size_t n = first;
    if (!strstr(head, "\r\nHost:")) {
        memcpy(mf.head + n, "Host: localhost\r\n", 17);
        n += 17;
    }
    memcpy(mf.head + n, head + first, hl - first);
    n += hl - first;
    struct http_parser p;
    http_parser_init(&p);
    int rc = http_parse_request(&p, (const uint8_t *)mf.head, n, &http_limits_default, &mf.http);
    cr_assert_eq(rc, (int)n, "head does not parse: %d", rc);
    struct http_path pr;
    char full[PATH_MAX];
    cr_assert_eq(http_path_normalize(mf.http.target, full, sizeof(full), &pr), 0);
    cr_assert(strncmp(full, "dav", 3) == 0 && (full[3] == '/' || full[3] == '\0'));
    snprintf(mf.path, sizeof(mf.path), "%s", full[3] ? full + 4 : "");
    free(mf.body.p);
    memset(&mf.body, 0, sizeof(mf.body));
    mf.req = (struct dav_req){.user_id = mf.uid,
                              .root_fd = mf.root_fd,
                              .path = mf.path,
                              .trailing_slash = pr.trailing_slash,
                              .http = &mf.http,
                              .tls = false,
                              .href_root = "/dav/",
                              .body = (const uint8_t *)body,
                              .body_len = body ? strlen(body) : 0,
                              .now = (int64_t)time(NULL)};
    memset(&mf.resp, 0, sizeof(mf.resp));
    mf.resp.write = membuf_write;
    mf.resp.write_ctx = &mf.body;
}

/* Run a method on mf.req; asserts it answered and returns the status. */
static inline int mf_run(int (*method)(struct dav_env *, const struct dav_req *,
                                       struct dav_resp *))
{
    int rc = method(&mf.env, &mf.req, &mf.resp);
    cr_assert_eq(rc, 0, "method failed: %d", rc);
    return mf.resp.status;
}

/* The absolute path of rel below alice's root (room for any PATH_MAX root and rel). */
static inline void mf_abs(char p[2 * PATH_MAX], const char *rel)
{
    int n = snprintf(p, 2 * PATH_MAX, "%s/%s", mf.files, rel);
    cr_assert(n > 0 && n < PATH_MAX, "path too long: %s", rel);
}

/* Create a file below alice's root with content, folders on the way. */
static inline void mf_put_file(const char *rel, const char *content)
{
    char p[2 * PATH_MAX];
    mf_abs(p, rel);
    for (char *s = p + strlen(mf.files) + 1; (s = strchr(s, '/')); s++) {
        *s = '\0';
        mkdir(p, 0755);
        *s = '/';
    }
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f, "%s", p);
    fputs(content, f);
    fclose(f);
}

static inline void mf_mkdir(const char *rel)
{
    char p[2 * PATH_MAX];
    mf_abs(p, rel);
    cr_assert_eq(mkdir(p, 0755), 0, "%s", p);
}

static inline bool mf_exists(const char *rel)
{
    char p[2 * PATH_MAX];
    struct stat sb;
    mf_abs(p, rel);
    return lstat(p, &sb) == 0;
}

#endif
