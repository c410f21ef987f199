/* SPDX-License-Identifier: MIT */
/*
 * The confinement layer for dav/: every path a WebDAV method touches is reached through openat2
 * with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS below the user's root, so "..", absolute
 * symlinks and symlinks that climb out fail (-EXDEV, -ELOOP) instead of leaving the tree.
 * Operations on a name (mkdir, unlink, rename, link) go through the confined descriptor of its
 * parent folder and the last segment, never through a path the kernel would walk unconfined.
 *
 * Paths are in the form of dav.h ("" for the root). Every function returns 0 (or an fd) or a
 * negative errno.
 */
#ifndef DAV_FSX_H
#define DAV_FSX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "index.h"

/** Longest file name (one segment), without the NUL. */
#define FSX_NAME_MAX 255

/** Open path below root with open(2) flags and mode (O_CLOEXEC is added). */
int fsx_open(int root_fd, const char *path, int flags, mode_t mode);

/** stat(2) path below root, symlinks inside the root followed, into the index's form. */
int fsx_stat(int root_fd, const char *path, struct dav_stat *st);

/** The same for an open descriptor. */
int fsx_fstat(int fd, struct dav_stat *st);

/**
 * statx(2) name in folder dir_fd (one segment, or "" with AT_EMPTY_PATH) with flags, into the
 * index's form. With AT_SYMLINK_NOFOLLOW a symlink is -ELOOP: the caller decides whether to
 * follow it through the confinement layer.
 */
int fsx_statat(int dir_fd, const char *name, int flags, struct dav_stat *st);

/**
 * Open the folder that holds path (O_PATH | O_DIRECTORY) and copy path's last segment into
 * name (FSX_NAME_MAX + 1 bytes). -EINVAL for the root, which has no parent; -ENAMETOOLONG for a
 * segment over FSX_NAME_MAX.
 */
int fsx_parent(int root_fd, const char *path, char name[FSX_NAME_MAX + 1]);

#endif
