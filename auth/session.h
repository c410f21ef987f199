/* SPDX-License-Identifier: MIT */
/*
 * Browser sessions: a random cookie token (stored only as its digest) with a CSRF token, an
 * idle expiry and an absolute one.
 */
#ifndef AUTH_SESSION_H
#define AUTH_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct session_limits {
    int64_t idle_s;     /* a session unused this long is over */
    int64_t absolute_s; /* and any session this old */
    int64_t touch_s;    /* last_seen is written at most this often (one write, not one per
                           request) */
};

/** 12 h idle, 7 days absolute, touch every 60 s. */
void session_limits_default(struct session_limits *l);

/** Start a session for user_id: its cookie value and CSRF token, as text. */
int session_create(struct store *st, int64_t user_id, int64_t now, char cookie[TOKEN_TEXT_LEN],
                   char csrf[TOKEN_TEXT_LEN]);

/**
 * The live session whose cookie is cookie (len bytes), touched if due. -ENOENT when there is
 * none, the cookie is malformed, or the session has expired (it is then deleted).
 */
int session_lookup(struct store *st, const char *cookie, size_t len,
                   const struct session_limits *l, int64_t now, struct store_session *out);

/** End the session of cookie (no error if there is none). */
int session_end(struct store *st, const char *cookie, size_t len);

/** True when hdr (len bytes, the X-CSRF-Token header) is s's CSRF token (constant time). */
bool session_csrf_ok(const struct store_session *s, const char *hdr, size_t len);

#endif
