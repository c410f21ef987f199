/* SPDX-License-Identifier: MIT */
/*
 * Private to dav/: the recursive file-system work of DELETE, COPY and MOVE, confined below the
 * user's root, and what keeps the index equal to the disk afterwards.
 *
 * Walks never follow symbolic links: a link is removed or copied as a link, and a folder is
 * entered with O_DIRECTORY | O_NOFOLLOW relative to its parent's descriptor, so nothing outside
 * the root is touched whatever the links inside point at. A walk holds one descriptor per level
 * of folders (at most DAV_INDEX_PATH_MAX / 2).
 *
 * A member that cannot be removed or copied is reported through the caller's callback (the
 * 207 Multi-Status of RFC 4918 §9.6.1 and §9.8.8) and the walk goes on with the others; its
 * ancestors, which then cannot be removed either, are not reported.
 */
#ifndef DAV_TREE_H
#define DAV_TREE_H

#include <stdbool.h>
#include <stddef.h>

#include "dav.h"

/**
 * A member that failed: its path below the root, whether it is a folder, and the -errno.
 * Returning non-zero stops the walk, which then returns that value.
 */
typedef int (*dav_tree_fail_fn)(void *ctx, const char *path, bool is_dir, int err);

struct dav_tree {
    int root_fd;           /* the user's tree, borrowed */
    int stage_fd;          /* env->stage_fd, borrowed (COPY builds there) */
    dav_tree_fail_fn fail; /* may be NULL */
    void *ctx;
    size_t failed; /* members reported so far */
    int stop;      /* the callback's non-zero answer */
};

/**
 * Remove path (a file, a link, or a folder with everything in it) and fsync its parent folder.
 * Returns 0 when it is gone; -ENOTEMPTY when members could not be removed (each was reported,
 * the rest is gone); the callback's value when it stopped the walk; another -errno when path
 * itself could not be removed (not reported: the caller answers it).
 */
int dav_tree_remove(struct dav_tree *t, const char *path);

/**
 * Remove everything in the folder dir_fd (the staging folder at start: files on their way into
 * place, folders a COPY was building). Returns how many entries went, or -errno.
 */
int dav_tree_empty(int dir_fd);

/**
 * Copy from to to, crash-safe: a file is written to an O_TMPFILE, fsynced, linked into the
 * staging folder (or, on another file system, under a hidden name next to to) and renamed into
 * place; a folder is built complete in the same place, each member fsynced, and renamed into
 * place in one step. from is followed when it is a link inside the root; links below it are
 * copied as links. Without is_recursive a folder is copied without its members (Depth: 0).
 * to must not exist unless both are files (the copy then replaces to in the rename). Member
 * failures are reported under their destination paths; they answer -ENOTEMPTY as in
 * dav_tree_remove (the rest is in place). Returns 0, -ENOTEMPTY, the callback's value or -errno.
 */
int dav_tree_copy(struct dav_tree *t, const char *from, const char *to, bool is_recursive);

/**
 * Bring the index in line with the disk for path and everything below it: rows for what is on
 * disk (new ids for what the index did not know), no rows for what is not. Returns 0 or -errno.
 */
int dav_tree_sync(struct dav_env *env, const struct dav_req *req, const char *path);

/**
 * dav_precond for removing path (DELETE, the source of MOVE): path with everything below it,
 * and its parent folder, whose membership changes (a depth-0 lock on it counts, RFC 4918
 * §7.4). Returns as dav_precond.
 */
int dav_tree_precond_remove(struct dav_env *env, const struct dav_req *req, const char *path,
                            struct dav_resp *resp);

/** fsync the folder dir_fd (an O_PATH descriptor will do: it is reopened). Returns 0 or -errno. */
int dav_tree_fsync_dir(int dir_fd);

/**
 * Name the unnamed (O_TMPFILE) file fd as dir_fd/name in one rename, replacing what was there:
 * it is linked under a hidden random name in build_fd first (the staging folder, or dir_fd
 * itself), which must be on dir_fd's file system (else -EXDEV). Returns 0 or -errno; on failure
 * nothing is left under the temporary name.
 */
int dav_tree_install(int fd, int build_fd, int dir_fd, const char *name);

/** The status a failed member gets in a 207 (RFC 4918 §9.6.1, §9.8.8) or a method answers. */
int dav_tree_status(int err);

/** A 207 Multi-Status written as members fail: the fail callback of struct dav_tree. */
struct dav_tree_ms {
    const struct dav_req *req;
    struct dav_resp *resp;
    struct dav_ms ms;
    bool is_started; /* the 207 has begun: the method must answer 0 */
};

/** Start an empty report for req's answer in resp. Writes nothing. */
void dav_tree_ms_init(struct dav_tree_ms *r, const struct dav_req *req, struct dav_resp *resp);

/** dav_tree_fail_fn for a struct dav_tree_ms: one <D:response> with the member's status. */
int dav_tree_ms_fail(void *ctx, const char *path, bool is_dir, int err);

/** Close the 207 when it began. Returns 0 or the sink's error. */
int dav_tree_ms_end(struct dav_tree_ms *r);

#endif
