/* SPDX-License-Identifier: MIT */
/*
 * GET/HEAD of a file (see fileserve.h). The target is normalised (http/path.c) and opened
 * beneath the root with openat2: first with RESOLVE_CACHED, which never blocks, and on a
 * dentry-cache miss through the ring so that a cold disk does not stall the loop.
 */
#include "fileserve.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fs.h"
#include "http/cond.h"
#include "http/date.h"
#include "http/etag.h"
#include "http/mime.h"
#include "http/range.h"

static void serve_fd(struct conn *c, const struct http_request *req, int fd, const char *path,
                     bool dir_only);

void fileserve_handle(struct conn *c, const struct http_request *req, int root_fd,
                      const char *path, bool dir_only)
{
    int fd = fs_open_read(root_fd, path, true);
    if (fd == -EAGAIN) {
        struct out *o = conn_out_new(c);
        size_t len = strlen(path);
        if (!o || len + 2 > o->data_cap) {
            conn_respond_simple(c, 503, true, NULL);
            return;
        }
        memcpy(o->data, len ? path : ".", len ? len + 1 : 2);
        o->dir_only = dir_only;
        o->root_fd = root_fd;
        o->how = fs_read_how(false);
        log_debug("event=open_async path_len=%zu", len);
        conn_open_async(c);
        return;
    }
    serve_fd(c, req, fd, path, dir_only);
}

/* Boundaries only need to be absent from the parts; a per-response counter mixed with the
 * clock makes an accidental match in file data practically impossible. */
static void make_boundary(char out[33])
{
    static _Thread_local uint64_t counter;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t x = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ (++counter << 44);
    x ^= (uint64_t)(uintptr_t)out;
    snprintf(out, 33, "ff%014llx%016llx", (unsigned long long)(counter & 0xffffffffffffffull),
             (unsigned long long)(x * 0x9e3779b97f4a7c15ull));
}

static int part_header(char *buf, size_t size, const char *boundary, const char *type,
                       const struct http_range *r, uint64_t total)
{
    return snprintf(buf, size,
                    "\r\n--%s\r\nContent-Type: %s\r\nContent-Range: bytes %llu-%llu/%llu\r\n\r\n",
                    boundary, type, (unsigned long long)r->first, (unsigned long long)r->last,
                    (unsigned long long)total);
}

static int validator_headers(struct out *o, const char *etag, time_t mtime)
{
    char lm[HTTP_DATE_LEN + 1];
    http_date_format(mtime, lm);
    int rc = out_header(o, "ETag", "%s", etag);
    if (rc == 0)
        rc = out_header(o, "Last-Modified", "%s", lm);
    return rc;
}

static int plan_multipart(struct conn *c, struct out *o, const char *type, uint64_t size,
                          const struct http_range *ranges, size_t n, bool body)
{
    char boundary[33];
    char part[256];
    make_boundary(boundary);
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        total += (uint64_t)part_header(part, sizeof(part), boundary, type, &ranges[i], size);
        total += ranges[i].last - ranges[i].first + 1;
    }
    int endlen = snprintf(part, sizeof(part), "\r\n--%s--\r\n", boundary);
    total += (uint64_t)endlen;

    int rc = out_header(o, "Content-Type", "multipart/byteranges; boundary=%s", boundary);
    if (rc == 0)
        rc = out_header(o, "Content-Length", "%llu", (unsigned long long)total);
    if (rc == 0)
        rc = out_head_end(c, o);
    for (size_t i = 0; body && rc == 0 && i < n; i++) {
        int plen = part_header(part, sizeof(part), boundary, type, &ranges[i], size);
        rc = out_add_mem(o, part, (size_t)plen);
        if (rc == 0)
            rc = out_add_file(o, ranges[i].first, ranges[i].last - ranges[i].first + 1);
    }
    if (body && rc == 0) {
        snprintf(part, sizeof(part), "\r\n--%s--\r\n", boundary);
        rc = out_add_mem(o, part, (size_t)endlen);
    }
    return rc;
}

void fileserve_opened(struct conn *c, const struct http_request *req, int fd)
{
    /* The path is still in the plan's buffer, which the response is about to reuse. */
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s", c->out->data);
    serve_fd(c, req, fd, path, c->out->dir_only);
}

static void serve_fd(struct conn *c, const struct http_request *req, int fd, const char *path,
                     bool dir_only)
{
    if (fd < 0) {
        conn_respond_simple(c, fs_status_from_errno(fd), false, NULL);
        return;
    }
    struct stat st;
    /* Folders wait for the browser listing; devices and sockets are never content; "file/"
     * names a folder that does not exist. */
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || dir_only) {
        close(fd);
        conn_respond_simple(c, 404, false, NULL);
        return;
    }
    uint64_t size = (uint64_t)st.st_size;
    char etag[HTTP_ETAG_MAX];
    int64_t mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    size_t elen = http_etag_format(etag, (uint64_t)st.st_ino, size, mtime_ns);
    struct http_validators v = {.etag = iov_make(etag, elen), .mtime = st.st_mtim.tv_sec,
                                .exists = true};

    int cond = http_cond_evaluate(req, &v);
    if (cond == 412) {
        close(fd);
        conn_respond_simple(c, 412, false, NULL);
        return;
    }

    struct http_range ranges[HTTP_RANGE_MAX];
    size_t nr = 0;
    enum http_range_result rr = HTTP_RANGE_IGNORE;
    const struct http_header *rh = http_header_find(req, "Range");
    /* RFC 9110 §14.2: range handling is defined for GET only. */
    if (cond == 0 && rh && req->method == HTTP_M_GET && http_cond_if_range(req, &v))
        rr = http_range_parse(rh->value, size, ranges, &nr);

    struct out *o = conn_out_new(c);
    if (!o) {
        close(fd);
        conn_abort(c);
        return;
    }
    o->file_fd = fd;
    bool body = !(c->flags & CF_HEAD_REQ);
    const char *type = http_mime_type(iov_make(path, strlen(path)));
    int rc;

    if (cond == 304) {
        /* RFC 9110 §15.4.5: the validators, no content headers. */
        rc = out_head_begin(c, o, 304);
        if (rc == 0)
            rc = validator_headers(o, etag, st.st_mtim.tv_sec);
        if (rc == 0)
            rc = out_head_end(c, o);
    } else if (rr == HTTP_RANGE_UNSATISFIABLE) {
        static const char msg[] = "416 Range Not Satisfiable\n";
        rc = out_head_begin(c, o, 416);
        if (rc == 0)
            rc = out_header(o, "Content-Range", "bytes */%llu", (unsigned long long)size);
        if (rc == 0)
            rc = out_header(o, "Content-Type", "text/plain; charset=utf-8");
        if (rc == 0)
            rc = out_header(o, "Content-Length", "%zu", sizeof(msg) - 1);
        if (rc == 0)
            rc = out_head_end(c, o);
        if (rc == 0 && body)
            rc = out_add_mem(o, msg, sizeof(msg) - 1);
    } else {
        bool partial = rr == HTTP_RANGE_OK;
        rc = out_head_begin(c, o, partial ? 206 : 200);
        if (rc == 0)
            rc = validator_headers(o, etag, st.st_mtim.tv_sec);
        if (rc == 0)
            rc = out_header(o, "Accept-Ranges", "bytes");
        if (rc == 0 && partial && nr > 1) {
            rc = plan_multipart(c, o, type, size, ranges, nr, body);
        } else if (rc == 0) {
            uint64_t first = partial ? ranges[0].first : 0;
            uint64_t len = partial ? ranges[0].last - ranges[0].first + 1 : size;
            rc = out_header(o, "Content-Type", "%s", type);
            if (rc == 0 && partial)
                rc = out_header(o, "Content-Range", "bytes %llu-%llu/%llu",
                                (unsigned long long)ranges[0].first,
                                (unsigned long long)ranges[0].last, (unsigned long long)size);
            if (rc == 0)
                rc = out_header(o, "Content-Length", "%llu", (unsigned long long)len);
            if (rc == 0)
                rc = out_head_end(c, o);
            if (rc == 0 && body && len > 0)
                rc = out_add_file(o, first, len);
        }
    }
    if (rc < 0) {
        conn_respond_simple(c, 500, true, NULL);
        return;
    }
    conn_send(c);
}
