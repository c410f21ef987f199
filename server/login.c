/* SPDX-License-Identifier: MIT */
/* Sign-in and sign-out for browsers (see login.h). */
#include "login.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "conn.h"
#include "http/form.h"
#include "site.h"
#include "store.h"

static const char page_head[] =
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    "<title>Sign in - fastfile</title></head><body>\n<h1>fastfile</h1>\n";
static const char page_form[] =
    "<form method=\"post\" action=\"/login\">\n"
    "<p><label>User name <input name=\"user\" autocomplete=\"username\" required "
    "autofocus></label></p>\n"
    "<p><label>Password <input name=\"password\" type=\"password\" "
    "autocomplete=\"current-password\" required></label></p>\n"
    "<p><button type=\"submit\">Sign in</button></p>\n</form>\n</body></html>\n";

static void respond_page(struct conn *c, int status, const char *headers, const char *message)
{
    char body[2048];
    int n = snprintf(body, sizeof(body), "%s%s%s%s%s", page_head, message ? "<p role=\"alert\">" : "",
                     message ? message : "", message ? "</p>\n" : "", page_form);
    conn_respond(c, status, false, headers, "text/html; charset=utf-8", body, (size_t)n);
}

static bool secure(const struct conn *c)
{
    return c->tls || (c->flags & CF_KTLS);
}

void login_handle(struct conn *c, const struct http_request *req)
{
    if (req->method == HTTP_M_GET || req->method == HTTP_M_HEAD) {
        respond_page(c, 200, "Cache-Control: no-store\r\n", NULL);
        return;
    }
    if (req->method != HTTP_M_POST) {
        conn_respond_simple(c, req->method == HTTP_M_OTHER ? 501 : 405, false,
                            "GET, HEAD, POST");
        return;
    }
    struct iov body = conn_body(c);
    char name[STORE_NAME_MAX + 2], pw[PW_MAX + 1];
    size_t name_len = 0, pw_len = 0;
    int rc = http_form_get(body, "user", name, sizeof(name), &name_len);
    if (rc == 0)
        rc = http_form_get(body, "password", pw, sizeof(pw), &pw_len);
    if (rc == -ENOSPC) {
        /* Longer than any account's name or password: a plain refusal, no verification. */
        sodium_memzero(pw, sizeof(pw));
        login_finished(c, GATE_LOGIN_DENIED, 0, NULL, NULL);
        return;
    }
    if (rc < 0) {
        sodium_memzero(pw, sizeof(pw));
        conn_respond_simple(c, 400, false, NULL);
        return;
    }
    gate_login(c, name, name_len, pw, pw_len);
    sodium_memzero(pw, sizeof(pw));
}

void login_finished(struct conn *c, enum gate_login_result r, unsigned retry_after_s,
                    const char *cookie, const char *csrf)
{
    char headers[768];
    switch (r) {
    case GATE_LOGIN_OK: {
        long long age = (long long)c->loop->site->sessions.absolute_s;
        const char *sec = secure(c) ? "; Secure" : "";
        snprintf(headers, sizeof(headers),
                 "Location: /dav/\r\nCache-Control: no-store\r\n"
                 "Set-Cookie: " GATE_COOKIE "=%s; Path=/; Max-Age=%lld; HttpOnly; "
                 "SameSite=Strict%s\r\n"
                 "Set-Cookie: " GATE_CSRF_COOKIE "=%s; Path=/; Max-Age=%lld; SameSite=Strict%s\r\n",
                 cookie, age, sec, csrf, age, sec);
        conn_respond(c, 303, false, headers, "text/plain; charset=utf-8", "303 See Other\n", 14);
        return;
    }
    case GATE_LOGIN_DENIED:
        respond_page(c, 401, "Cache-Control: no-store\r\n", "Wrong user name or password.");
        return;
    case GATE_LOGIN_THROTTLED:
    case GATE_LOGIN_BUSY:
        snprintf(headers, sizeof(headers), "Retry-After: %u\r\nCache-Control: no-store\r\n",
                 retry_after_s ? retry_after_s : 1);
        respond_page(c, r == GATE_LOGIN_THROTTLED ? 429 : 503, headers,
                     "Too many attempts. Please wait a moment and try again.");
        return;
    case GATE_LOGIN_ERROR:
        break;
    }
    conn_respond_simple(c, 500, false, NULL);
}

void logout_handle(struct conn *c, const struct http_request *req)
{
    if (req->method != HTTP_M_POST) {
        conn_respond_simple(c, req->method == HTTP_M_OTHER ? 501 : 405, false, "POST");
        return;
    }
    struct store_session s;
    if (gate_session(c->loop, req, &s) == 0) {
        /* The token comes in a header from the UI's script, or as a field of a plain form. */
        char field[STORE_CSRF_MAX + 1];
        size_t flen = 0;
        const struct http_header *h = http_header_find(req, GATE_CSRF_HEADER);
        bool ok = h ? session_csrf_ok(&s, (const char *)h->value.base, h->value.len)
                    : http_form_get(conn_body(c), "csrf", field, sizeof(field), &flen) == 0 &&
                          session_csrf_ok(&s, field, flen);
        if (!ok) {
            conn_respond_simple(c, 403, false, NULL);
            return;
        }
        gate_session_end(c->loop, req);
    }
    const char *sec = secure(c) ? "; Secure" : "";
    char headers[512];
    snprintf(headers, sizeof(headers),
             "Location: /login\r\nCache-Control: no-store\r\n"
             "Set-Cookie: " GATE_COOKIE "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict%s\r\n"
             "Set-Cookie: " GATE_CSRF_COOKIE "=; Path=/; Max-Age=0; SameSite=Strict%s\r\n",
             sec, sec);
    conn_respond(c, 303, false, headers, "text/plain; charset=utf-8", "303 See Other\n", 14);
}
