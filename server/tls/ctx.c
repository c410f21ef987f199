/* SPDX-License-Identifier: MIT */
/*
 * BoringSSL contexts for the server and the process-wide current one (see ctx.h).
 *
 * The current context is one atomic pointer. A reload builds the new context first (a failure
 * leaves everything as it was), then exchanges the pointer. The old context's last reference
 * must not be dropped while a reader is between loading the pointer and taking its reference:
 * readers announce themselves in current_readers around those two steps, and the reloader
 * waits for that count to be zero once after the exchange. Reloads are rare (SIGHUP) and the
 * readers' window is a few instructions, so the wait is short.
 *
 * Not here: the per-connection handshake (session.c), kTLS (ktls.c). Known gaps: sessions and
 * ticket keys are per context, so a reload ends resumption of older sessions; no SNI.
 */
#include "tls/ctx.h"

#include <assert.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "tls/ktls.h"

struct tls_ctx {
    atomic_uint refs;
    SSL_CTX *ssl_ctx; /* one reference, ours */
};

/*
 * TLS 1.2: forward secrecy and AEAD only, for ECDSA and RSA certificates. With server
 * preference, AES-128-GCM and ChaCha20-Poly1305 rank equal (the client's order decides: phones
 * without AES instructions put ChaCha first), AES-256-GCM after them. TLS 1.3 suites are not
 * configurable in BoringSSL and are all AEADs.
 */
static const char tls12_ciphers[] = "[ECDHE-ECDSA-AES128-GCM-SHA256|ECDHE-ECDSA-CHACHA20-POLY1305]:"
                                    "[ECDHE-RSA-AES128-GCM-SHA256|ECDHE-RSA-CHACHA20-POLY1305]:"
                                    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384";

static const char session_id_context[] = "fastfile";

#define ALPN_HTTP11 "http/1.1"

/* in is the client's ALPN list, already validated by BoringSSL (non-empty prefixed names). */
static int select_alpn(SSL *ssl, const uint8_t **out, uint8_t *out_len, const uint8_t *in,
                       unsigned in_len, void *arg)
{
    (void)ssl;
    (void)arg;
    size_t i = 0;

    while (i < in_len) {
        size_t n = in[i];
        if (n > in_len - i - 1)
            break;
        if (n == sizeof(ALPN_HTTP11) - 1 && memcmp(in + i + 1, ALPN_HTTP11, n) == 0) {
            *out = in + i + 1;
            *out_len = (uint8_t)n;
            return SSL_TLSEXT_ERR_OK;
        }
        i += 1 + n;
    }
    /* RFC 7301 §3.2: no protocol in common is a fatal no_application_protocol alert. */
    return SSL_TLSEXT_ERR_ALERT_FATAL;
}

/*
 * The oldest error on BoringSSL's queue (the root cause: a failed fopen comes before the PEM
 * error it causes) as text in reason; clears the queue. Returns -errno for a system error,
 * fallback otherwise.
 */
static int take_ssl_error(int fallback, char *reason, size_t size)
{
    uint32_t e = ERR_get_error();
    int ret = fallback;

    if (e == 0) {
        snprintf(reason, size, "unknown");
    } else if (ERR_GET_LIB(e) == ERR_LIB_SYS) {
        ret = -ERR_GET_REASON(e);
        snprintf(reason, size, "%s", strerror(ERR_GET_REASON(e)));
    } else if (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
        snprintf(reason, size, "no PEM block of the expected type");
    } else if (ERR_GET_LIB(e) == ERR_LIB_X509 && ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH) {
        snprintf(reason, size, "private key does not match the certificate");
    } else if (ERR_GET_LIB(e) == ERR_LIB_X509 && ERR_GET_REASON(e) == X509_R_KEY_TYPE_MISMATCH) {
        snprintf(reason, size, "private key is of another type than the certificate's");
    } else {
        const char *lib = ERR_lib_error_string(e);
        const char *why = ERR_reason_error_string(e);
        snprintf(reason, size, "%s:%s", lib ? lib : "?", why ? why : "?");
    }
    ERR_clear_error();
    return ret;
}

/* Protocol settings that do not depend on the files; failing here is a bug or ENOMEM. */
static bool configure(SSL_CTX *ctx)
{
    if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
        !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) ||
        !SSL_CTX_set_strict_cipher_list(ctx, tls12_ciphers))
        return false;
    SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_alpn_select_cb(ctx, select_alpn, NULL);
    /* Tickets are on by default (keys generated and rotated by BoringSSL per SSL_CTX). The
     * internal cache serves TLS 1.2 clients that resume by session ID. */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    if (!SSL_CTX_set_session_id_context(ctx, (const uint8_t *)session_id_context,
                                        sizeof(session_id_context) - 1))
        return false;
    /* A no-op in BoringSSL (it always releases idle buffers), kept to say what we want. */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    return true;
}

int tls_ctx_new(const char *cert_file, const char *key_file, struct tls_ctx **out)
{
    int ret = -ENOMEM;
    char reason[256] = "out of memory";
    const char *file = cert_file;
    struct tls_ctx *t = NULL;
    SSL_CTX *ctx = NULL;

    *out = NULL;
    ERR_clear_error();
    t = calloc(1, sizeof(*t));
    ctx = SSL_CTX_new(TLS_server_method());
    if (!t || !ctx)
        goto out;
    if (!configure(ctx)) {
        ret = take_ssl_error(-ENOMEM, reason, sizeof(reason));
        goto out;
    }
    /* TLS 1.3 traffic secrets for the switch to kernel TLS (ktls.c) come from the keylog
     * callback, which exists only per SSL_CTX. */
    ret = ktls_ssl_ctx_prepare(ctx);
    if (ret < 0)
        goto out;
    ret = -ENOMEM;
    /* Leaf first, then the intermediates, as every CA's fullchain.pem has them. */
    if (!SSL_CTX_use_certificate_chain_file(ctx, cert_file)) {
        ret = take_ssl_error(-EINVAL, reason, sizeof(reason));
        goto out;
    }
    file = key_file;
    /* BoringSSL already refuses a key that does not match the leaf here; the explicit check
     * keeps that true whatever the library does. */
    if (!SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) ||
        !SSL_CTX_check_private_key(ctx)) {
        ret = take_ssl_error(-EINVAL, reason, sizeof(reason));
        goto out;
    }
    atomic_init(&t->refs, 1);
    t->ssl_ctx = ctx;
    ctx = NULL;
    *out = t;
    t = NULL;
    ret = 0;
out:
    if (ret < 0)
        log_error("event=tls_cert_load_failed file=%s err=%d reason=\"%s\"", file, ret, reason);
    SSL_CTX_free(ctx);
    free(t);
    return ret;
}

struct tls_ctx *tls_ctx_ref(struct tls_ctx *t)
{
    atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
    return t;
}

void tls_ctx_unref(struct tls_ctx *t)
{
    if (!t)
        return;
    /* acq_rel: everything done with t happens before the free in the last holder's thread. */
    unsigned prev = atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel);
    assert(prev > 0);
    if (prev != 1)
        return;
    SSL_CTX_free(t->ssl_ctx);
    free(t);
}

SSL *tls_ctx_new_ssl(struct tls_ctx *t)
{
    return SSL_new(t->ssl_ctx);
}

SSL_CTX *tls_ctx_ssl_ctx(struct tls_ctx *t)
{
    return t->ssl_ctx;
}

static _Atomic(struct tls_ctx *) current;
static atomic_uint current_readers;

struct tls_ctx *tls_ctx_current(void)
{
    /* seq_cst: the announcement is ordered before the load of the pointer (see the top). */
    atomic_fetch_add(&current_readers, 1);
    struct tls_ctx *t = atomic_load(&current);
    if (t)
        tls_ctx_ref(t);
    atomic_fetch_sub_explicit(&current_readers, 1, memory_order_release);
    return t;
}

/* Make t (whose reference passes to the slot) current; returns whether one was replaced. */
static bool swap_current(struct tls_ctx *t)
{
    struct tls_ctx *old = atomic_exchange(&current, t);

    /*
     * A reader that loaded old did so before the exchange, so its announcement is visible now;
     * when the count is seen at zero it has taken its reference (or never saw old).
     */
    while (atomic_load(&current_readers) != 0)
        sched_yield();
    tls_ctx_unref(old);
    return old != NULL;
}

int tls_ctx_reload(const char *cert_file, const char *key_file)
{
    struct tls_ctx *t = NULL;
    int ret = tls_ctx_new(cert_file, key_file, &t);

    if (ret < 0) {
        log_error("event=tls_reload_failed cert=%s key=%s err=%d action=keep_previous", cert_file,
                  key_file, ret);
        return ret;
    }
    bool replaced = swap_current(t);
    log_info("event=tls_ctx_loaded cert=%s key=%s replaced=%s", cert_file, key_file,
             replaced ? "yes" : "no");
    return 0;
}

void tls_ctx_current_release(void)
{
    swap_current(NULL);
}
