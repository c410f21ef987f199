/* SPDX-License-Identifier: MIT */
/*
 * TLS sessions over caller-owned buffers (see session.h). One BIO method serves both
 * directions: reads come from the complete records in s->in, writes append to s->out.
 */
#include "tls/session.h"

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <pthread.h>
#include <string.h>

#include "log.h"

static BIO_METHOD *session_bio_method;

static int bio_read(BIO *b, char *buf, int len)
{
    struct tls_session *s = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    uint32_t avail = s->in_ready - s->in_off;
    if (avail == 0) {
        BIO_set_retry_read(b);
        return -1;
    }
    uint32_t n = (uint32_t)len < avail ? (uint32_t)len : avail;
    memcpy(buf, s->in + s->in_off, n);
    s->in_off += n;
    return (int)n;
}

static int bio_write(BIO *b, const char *buf, int len)
{
    struct tls_session *s = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (!s->out || s->out_cap - s->out_len < (uint32_t)len) {
        /* tls_session_write checks for room first, so only the handshake can get here, with
         * no out buffer set: the caller sets one and calls again. */
        BIO_set_retry_write(b);
        return -1;
    }
    memcpy(s->out + s->out_len, buf, (size_t)len);
    s->out_len += (uint32_t)len;
    return len;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b;
    (void)num;
    (void)ptr;
    /* BoringSSL flushes after each flight; our buffer is sent by the connection. */
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static void bio_method_init(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_TYPE_SOURCE_SINK, "fastfile");
    if (!m || !BIO_meth_set_read(m, bio_read) || !BIO_meth_set_write(m, bio_write) ||
        !BIO_meth_set_ctrl(m, bio_ctrl))
        die("event=tls_bio_method_failed");
    session_bio_method = m;
}

int tls_session_init(struct tls_session *s, SSL *ssl)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, bio_method_init);

    memset(s, 0, sizeof(*s));
    BIO *b = BIO_new(session_bio_method);
    if (!b) {
        SSL_free(ssl);
        return -ENOMEM;
    }
    BIO_set_data(b, s);
    BIO_set_init(b, 1);
    /* One BIO for both directions; SSL_set_bio then takes just the one reference. */
    SSL_set_bio(ssl, b, b);
    SSL_set_accept_state(ssl);
    s->ssl = ssl;
    return 0;
}

void tls_session_release(struct tls_session *s)
{
    SSL_free(s->ssl);
    s->ssl = NULL;
}

/* Advance in_ready over every complete record in [in_ready, in_len). */
static int scan_records(struct tls_session *s)
{
    while (s->in_len - s->in_ready >= 5) {
        const uint8_t *h = s->in + s->in_ready;
        /* RFC 8446 §5.1: content types 20-23, legacy version 0x03xx, length <= 2^14 + 256. */
        uint32_t len = (uint32_t)h[3] << 8 | h[4];
        if (h[0] < 20 || h[0] > 24 || h[1] != 3 || len > TLS_RECORD_MAX - 5)
            return -EPROTO;
        if (s->in_len - s->in_ready < 5 + len)
            break;
        s->in_ready += 5 + len;
    }
    return 0;
}

int tls_session_feed(struct tls_session *s, const uint8_t *data, size_t n)
{
    if (s->in_cap - s->in_len < n) {
        tls_session_in_compact(s);
        if (s->in_cap - s->in_len < n)
            return -ENOBUFS;
    }
    memcpy(s->in + s->in_len, data, n);
    s->in_len += (uint32_t)n;
    return scan_records(s);
}

bool tls_session_in_compact(struct tls_session *s)
{
    if (s->in_off > 0) {
        memmove(s->in, s->in + s->in_off, s->in_len - s->in_off);
        s->in_len -= s->in_off;
        s->in_ready -= s->in_off;
        s->in_off = 0;
    }
    return s->in_len == 0;
}

static void log_ssl_error(const char *what, int err)
{
    char buf[160];
    unsigned long e = ERR_get_error();
    ERR_error_string_n(e, buf, sizeof(buf));
    log_info("event=tls_error op=%s ssl_error=%d reason=%s", what, err, e ? buf : "-");
    ERR_clear_error();
}

int tls_session_handshake(struct tls_session *s)
{
    int rc = SSL_do_handshake(s->ssl);
    if (rc == 1) {
        s->handshake_done = true;
        return 1;
    }
    int err = SSL_get_error(s->ssl, rc);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
        return 0;
    log_ssl_error("handshake", err);
    return -EPROTO;
}

long tls_session_read(struct tls_session *s, uint8_t *buf, size_t cap)
{
    int n = SSL_read(s->ssl, buf, cap > INT32_MAX ? INT32_MAX : (int)cap);
    if (n > 0)
        return n;
    int err = SSL_get_error(s->ssl, n);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
        return 0;
    if (err == SSL_ERROR_ZERO_RETURN) {
        s->peer_closed = true;
        return -EPIPE;
    }
    log_ssl_error("read", err);
    return -EPROTO;
}

long tls_session_write(struct tls_session *s, const void *p, size_t n)
{
    /* Only whole records: with room for one, SSL_write never stops halfway. */
    if (!s->out || s->out_cap - s->out_len < TLS_RECORD_MAX)
        return -EAGAIN;
    int len = n > 16384 ? 16384 : (int)n;
    int rc = SSL_write(s->ssl, p, len);
    if (rc > 0)
        return rc;
    log_ssl_error("write", SSL_get_error(s->ssl, rc));
    return -EPROTO;
}

void tls_session_close_notify(struct tls_session *s)
{
    if (s->out && s->out_cap - s->out_len >= TLS_RECORD_MAX && s->handshake_done)
        SSL_shutdown(s->ssl);
    ERR_clear_error();
}

void tls_session_sent(struct tls_session *s, uint32_t n)
{
    s->out_sent += n;
    if (s->out_sent == s->out_len)
        s->out_sent = s->out_len = 0;
}
