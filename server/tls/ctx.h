/* SPDX-License-Identifier: MIT */
/*
 * The server's TLS configuration: a reference-counted wrapper around one BoringSSL SSL_CTX,
 * and the process-wide current context that SIGHUP replaces.
 *
 * A context is built from a PEM certificate file (leaf first, then the chain) and a PEM key
 * file (EC or RSA). It speaks TLS 1.2 and 1.3 only; TLS 1.2 offers only ECDHE with AES-128-GCM,
 * AES-256-GCM and ChaCha20-Poly1305, TLS 1.3 BoringSSL's fixed set (the same three AEADs).
 * ALPN selects "http/1.1"; a client that offers ALPN without it is refused with
 * no_application_protocol, a client that offers no ALPN at all is served. Session tickets and
 * the server-side session-ID cache are on, both per context: sessions do not survive a reload.
 *
 * Lifetimes: every SSL made from a context holds BoringSSL's own reference to the SSL_CTX, so
 * the SSL_CTX lives until the last connection using it is freed, whatever happens to the
 * struct tls_ctx. The struct's own count (tls_ctx_ref/tls_ctx_unref) covers the holders of the
 * wrapper: the process-wide slot and whoever called tls_ctx_current().
 *
 * Not here: the handshake on our buffers (session.c), kTLS (ktls.c), the default certificate
 * (cert.c). Known gap: no SNI, one certificate per context.
 */
#ifndef TLS_CTX_H
#define TLS_CTX_H

#include <openssl/ssl.h>

struct tls_ctx;

/**
 * Build a context from cert_file (PEM, full chain) and key_file (PEM private key).
 * On success *out is a new context with one reference, owned by the caller.
 *
 * Returns 0, -ENOENT/-EACCES/... when a file cannot be read, -EINVAL when a file holds no
 * usable certificate or key or the key does not belong to the certificate, or -ENOMEM. Every
 * failure is logged with the file and the reason (event=tls_cert_load_failed).
 */
int tls_ctx_new(const char *cert_file, const char *key_file, struct tls_ctx **out);

/** Take one more reference to t; returns t. Thread-safe. */
struct tls_ctx *tls_ctx_ref(struct tls_ctx *t);

/**
 * Drop one reference; the last one frees the wrapper and its SSL_CTX reference (SSLs made from
 * t keep the SSL_CTX alive until they are freed). Thread-safe; tls_ctx_unref(NULL) is a no-op.
 */
void tls_ctx_unref(struct tls_ctx *t);

/**
 * A new server-side SSL for one connection, owned by the caller (SSL_free). It holds its own
 * reference to the underlying SSL_CTX, so the caller may tls_ctx_unref(t) right afterwards.
 * Returns NULL when out of memory.
 */
SSL *tls_ctx_new_ssl(struct tls_ctx *t);

/**
 * The SSL_CTX inside t, borrowed (valid while the caller holds a reference to t). For settings
 * that must be made before the context is shared (callbacks, ex_data); never change a context
 * that connections already use.
 */
SSL_CTX *tls_ctx_ssl_ctx(struct tls_ctx *t);

/**
 * The process-wide current context with a new reference for the caller (tls_ctx_unref it),
 * or NULL when none was installed. Thread-safe and lock-free: loop threads call it for every
 * new connection.
 */
struct tls_ctx *tls_ctx_current(void);

/**
 * Build a new context from cert_file and key_file (as tls_ctx_new) and make it the current
 * one; the first call installs the initial context. Connections that started earlier keep
 * their old SSL_CTX. On failure the current context stays as it was and the error is returned
 * (and logged). Returns 0 or a negative errno as tls_ctx_new. Any thread may call it; it waits
 * (briefly spinning) until no concurrent tls_ctx_current() still uses the old pointer.
 */
int tls_ctx_reload(const char *cert_file, const char *key_file);

/**
 * Drop the process-wide reference (at shutdown, after the loop threads have stopped, so that
 * leak checkers see everything freed). tls_ctx_current() returns NULL afterwards.
 */
void tls_ctx_current_release(void);

#endif
