/* SPDX-License-Identifier: MIT */
/*
 * The browser's way in and out: /login shows a form and, on POST, verifies it (on the pool,
 * through the gate) and sets the session cookie; /logout ends the session.
 *
 * Cookies: the session token as ff_session (HttpOnly, SameSite=Strict, Secure on TLS), and
 * the session's CSRF token as ff_csrf, readable by the page's script, which sends it back in
 * X-CSRF-Token on every request that changes something (the gate checks it). A cross-site
 * page can neither read the cookie nor, with SameSite=Strict, make the browser send the
 * session with its request.
 */
#ifndef SERVER_LOGIN_H
#define SERVER_LOGIN_H

#include "gate.h"
#include "http/parse.h"

struct conn;

/** /login: GET/HEAD shows the form, POST signs in. */
void login_handle(struct conn *c, const struct http_request *req);

/** The gate's answer to a POST /login (cookie and csrf only with GATE_LOGIN_OK). */
void login_finished(struct conn *c, enum gate_login_result r, unsigned retry_after_s,
                    const char *cookie, const char *csrf);

/** /logout: POST ends the session of the request's cookie. */
void logout_handle(struct conn *c, const struct http_request *req);

#endif
