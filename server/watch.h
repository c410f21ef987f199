/* SPDX-License-Identifier: MIT */
/*
 * The watcher: notices changes other programs make under DATA/files (a file copied in, edited,
 * deleted, a folder moved in from elsewhere) and brings the metadata index in line, so that the
 * folder ETags up to each user's root change within a second or so and sync clients, which
 * compare folder ETags, see the change without anyone touching the path through the server.
 *
 * One thread with its own inotify instance, account store and index handles. At start it
 * watches every folder of every known user and catches up with what changed while the server
 * was down; a lost event queue (IN_Q_OVERFLOW) does the same again. Events are collected for a
 * short quiet time (at most about a second under a steady stream) and each changed path is
 * synced once per window with dav_index_sync, which writes only when stat() disagrees with the
 * index: the server's own writes cost a stat and a read each.
 *
 * Not covered: folders past the inotify watch limit (a warning is logged once; the stat
 * comparison when a request touches a path still covers them), user folders of users added
 * while the folder already existed (caught up at the next start or overflow), and renames made
 * outside the server are a delete and a create to the index (new file ids, no dead properties).
 */
#ifndef SERVER_WATCH_H
#define SERVER_WATCH_H

#include <stdatomic.h>

struct watch;

/**
 * Start watching data_dir's user folders (files_fd: DATA/files, duplicated). The account store
 * and the index must exist (serve creates them first). *covered becomes true once every folder
 * is watched and the index has caught up, and false again when a folder could not be watched
 * or the watcher stops: while it is true, listings may trust the index (dav_env.tree_watched).
 * Returns 0 or -errno: the inotify instance limit (-EMFILE), the database (-EPROTO, logged),
 * -ENOMEM.
 */
int watch_start(struct watch **out, const char *data_dir, int files_fd, atomic_bool *covered);

/** Stop the thread (a sync in progress finishes), close everything and free (NULL: no-op). */
void watch_stop(struct watch *w);

#endif
