/* SPDX-License-Identifier: MIT */
/*
 * LD_PRELOAD shim for wrk in bench/run.sh's `handshakes` workload: every new connection makes
 * a full TLS handshake.
 *
 * wrk keeps one SSL object per connection slot and, on reconnecting, calls SSL_shutdown and
 * SSL_clear on it. SSL_clear keeps the last session after a clean shutdown, so the next
 * SSL_connect offers it and the server resumes it (a TLS 1.3 ticket / PSK, or a TLS 1.2
 * session ID or ticket): no certificate, no signature. That is the `resumes` workload. Here
 * SSL_clear first drops the session, so each connection is a fresh client.
 *
 * Declared without OpenSSL's headers (only pointers pass through); built by run.sh with
 * `cc -shared -fPIC`.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>

typedef struct ssl_st SSL;
typedef struct ssl_session_st SSL_SESSION;

int SSL_set_session(SSL *s, SSL_SESSION *session);

int SSL_clear(SSL *s)
{
    static int (*real_clear)(SSL *);

    if (!real_clear)
        real_clear = (int (*)(SSL *))dlsym(RTLD_NEXT, "SSL_clear");
    SSL_set_session(s, NULL);
    return real_clear(s);
}
