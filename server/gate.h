/* SPDX-License-Identifier: MIT */
/*
 * The gate in front of the signed-in routes: who is asking, and may they.
 *
 * HTTP Basic (account password or app password) is checked against the loop's credential
 * cache first; a miss is throttled (throttle.h) and then verified on the blocking-work pool,
 * with concurrent requests for the same credential waiting for one verification. A session
 * cookie is looked up in the store on the loop (a read of an indexed row); requests that
 * change state with a cookie must carry the session's CSRF token.
 *
 * Per loop it keeps a store handle, the credential cache, and the open folder of each user
 * met so far. A change of credentials anywhere (this process or `fastfile user` in another)
 * is noticed through inotify on the data folder, and the cache is dropped.
 */
#ifndef SERVER_GATE_H
#define SERVER_GATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "http/parse.h"
#include "store.h"

struct conn;
struct loop;

/** Set up l->gate. Returns 0 or -errno (a message has been logged). */
int gate_init(struct loop *l);
void gate_release(struct loop *l);

/** On the loop thread, before its first wait: start watching for credential changes. */
void gate_start(struct loop *l);

/** From the loop's timer tick: housekeeping (expired sessions, old failure records). */
void gate_on_tick(struct loop *l);

/** Completion of the gate's inotify read (OP_INOTIFY). */
void gate_on_inotify(struct loop *l, int res);

/** False when connections from sa are to be closed at once (a ban). */
bool gate_accept_ok(struct loop *l, const struct sockaddr *sa);

/**
 * Who sent req on c. Returns the user id (> 0) when it is known at once; 0 when the request
 * has been answered (401, 403, 429, 503) or waits for a verification, after which it goes on
 * in route_signed_in() or is answered.
 */
int64_t gate_check(struct conn *c, const struct http_request *req);

enum gate_login_result {
    GATE_LOGIN_OK,
    GATE_LOGIN_DENIED,    /* wrong name or password (which, never said) */
    GATE_LOGIN_THROTTLED, /* *retry_after_s set */
    GATE_LOGIN_BUSY,      /* the verification queue is full */
    GATE_LOGIN_ERROR,
};

/**
 * Verify a login form's name and password on the pool and, when they are right, start a
 * session. The answer comes to login_finished() on the loop; c waits meanwhile. Returns
 * false when it was answered at once (throttled, busy): login_finished has been called.
 */
bool gate_login(struct conn *c, const char *name, size_t name_len, const char *pw,
                size_t pw_len);

/** The open folder of user_id's files (owned by the gate), or -errno. */
int gate_user_root(struct loop *l, int64_t user_id);

/** The session cookie's name. */
#define GATE_COOKIE "ff_session"
/** The cookie the browser UI reads its CSRF token from, and the header it sends it back in. */
#define GATE_CSRF_COOKIE "ff_csrf"
#define GATE_CSRF_HEADER "X-CSRF-Token"

/** The live session of req's cookie, or -ENOENT. */
int gate_session(struct loop *l, const struct http_request *req, struct store_session *s);

/** End the session of req's cookie, if there is one. */
void gate_session_end(struct loop *l, const struct http_request *req);

#endif
