/* SPDX-License-Identifier: MIT */
/*
 * What every loop thread shares about the site it serves: the data folders, the account
 * settings, the failed-login throttle and the blocking-work pool. Set up by `serve` before the
 * loops start and read-only afterwards (the throttle and the pool lock for themselves).
 */
#ifndef SERVER_SITE_H
#define SERVER_SITE_H

#include <stdatomic.h>

#include "dav.h"
#include "password.h"
#include "session.h"
#include "throttle.h"

struct work_pool;

struct site {
    const char *data_dir;
    int files_fd;  /* DATA/files: one folder per user */
    int public_fd; /* DATA/public: served to anyone under /public/ */
    int stage_fd;  /* DATA/tmp: uploads on their way into place (dav.h), emptied at start */
    struct pw_limits pw;
    struct session_limits sessions;
    unsigned cred_ttl_s; /* how long a verified Basic credential is remembered */
    struct throttle *throttle;
    struct dav_cfg dav;
    atomic_bool tree_watched; /* the watcher keeps the index in line with every folder */
    struct work_pool *work;     /* logins */
    struct work_pool *dav_work; /* WebDAV methods */
};

#endif
