/* SPDX-License-Identifier: MIT */
/*
 * The confinement layer: every path a request names is opened relative to a root directory
 * descriptor with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS). The kernel then refuses any
 * resolution that would leave the root: "..", absolute symlinks, and relative symlinks that climb
 * out all fail with EXDEV, so a symlink is followed only when it stays inside.
 */
#ifndef SERVER_FS_H
#define SERVER_FS_H

#include <linux/openat2.h>
#include <stdbool.h>

/** Open a directory to serve as a root. Returns the fd or -errno. */
int fs_root_open(const char *path);

/** The open_how for a confined open of a file for reading. cached: fail with EAGAIN rather
 *  than block on a lookup that is not in the dentry cache (RESOLVE_CACHED). */
struct open_how fs_read_how(bool cached);

/**
 * Open rel ("" means the root itself) for reading beneath root_fd. cached as in fs_read_how.
 * Returns the fd or -errno (-EXDEV when the path would leave the root).
 */
int fs_open_read(int root_fd, const char *rel, bool cached);

/**
 * The HTTP status for a failed confined operation (negative errno): a path that does not
 * exist, is not a directory where one is needed, or would leave the root (EXDEV, ELOOP) is 404,
 * never anything that tells them apart.
 */
int fs_status_from_errno(int err);

/**
 * Open a user's folder DATA/files/NAME (files_fd: DATA/files) as O_PATH. It must be a real
 * folder right there: no symbolic link, not even one inside DATA/files, may stand in for it
 * (else user A's folder could be a link to B's). Returns the fd or -errno.
 */
int fs_user_root_open(int files_fd, const char *name);

/** Create dir (and its parents) if missing. Returns 0 or -errno. */
int fs_mkdir_p(const char *dir, unsigned mode);

#endif
