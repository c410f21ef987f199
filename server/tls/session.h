/* SPDX-License-Identifier: MIT */
/*
 * A TLS session driven by the event loop: BoringSSL reads ciphertext from, and writes it to,
 * buffers the connection owns, through a BIO of our own. Nothing here touches a socket, so the
 * handshake never blocks and io_uring does all the I/O.
 *
 * Input is handed to BoringSSL one complete record at a time: a partial record stays in our
 * buffer until its last byte arrives. So after any call BoringSSL holds no partial record, which
 * is what switching the receive side to kernel TLS needs (docs: ktls.md).
 *
 * Output is appended to the out buffer and never moved while part of it is being sent: the
 * connection sends [out_sent, out_sent + n) and appends behind out_len at the same time.
 */
#ifndef TLS_SESSION_H
#define TLS_SESSION_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest TLS record on the wire: 5-byte header, 2^14 plaintext, up to 256 bytes of expansion. */
#define TLS_RECORD_MAX (5 + 16384 + 256)

struct tls_session {
    SSL *ssl;
    /* ciphertext received: [in_off, in_len) not yet read by BoringSSL; of that, whole records
     * end at in_ready */
    uint8_t *in;
    uint32_t in_off, in_ready, in_len, in_cap;
    /* ciphertext to send: [out_sent, out_len) */
    uint8_t *out;
    uint32_t out_sent, out_len, out_cap;
    bool handshake_done;
    bool peer_closed; /* close_notify received */
};

/**
 * Set up s for a new server-side connection from ssl (ownership of ssl passes to s).
 * Returns 0 or -ENOMEM.
 */
int tls_session_init(struct tls_session *s, SSL *ssl);

/** Free the SSL. The in and out buffers belong to the caller and are not touched. */
void tls_session_release(struct tls_session *s);

/**
 * Append received ciphertext (copied into s->in, which the caller has set with in_cap bytes).
 * Returns 0, or -ENOBUFS when it does not fit (the caller pauses receiving) or -EPROTO when a
 * record header is impossible (not TLS, or a record longer than TLS allows).
 */
int tls_session_feed(struct tls_session *s, const uint8_t *data, size_t n);

/**
 * Advance the handshake. Returns 1 when it is complete, 0 when it needs more input, or a
 * negative value on failure (an alert may be waiting in out: send it before closing).
 * Needs an out buffer set.
 */
int tls_session_handshake(struct tls_session *s);

/**
 * Decrypt application data into buf. Returns the byte count, 0 when no complete record is
 * waiting, -EPIPE after the peer's close_notify, or another negative value on a protocol error.
 * Post-handshake messages (session tickets, KeyUpdate) are handled inside and may append to out.
 */
long tls_session_read(struct tls_session *s, uint8_t *buf, size_t cap);

/**
 * Encrypt up to one record of plaintext from p into out. Returns the bytes of p consumed (> 0),
 * or -EAGAIN when out has no room for a whole record (send some first).
 */
long tls_session_write(struct tls_session *s, const void *p, size_t n);

/** Queue a close_notify alert in out (if there is room). */
void tls_session_close_notify(struct tls_session *s);

/** Bytes in out waiting to be sent. */
static inline uint32_t tls_session_pending(const struct tls_session *s)
{
    return s->out_len - s->out_sent;
}

/** n bytes from out_sent went out; when all did, out starts empty again. */
void tls_session_sent(struct tls_session *s, uint32_t n);

/** Drop consumed input; returns true when nothing is left (the caller may take in back). */
bool tls_session_in_compact(struct tls_session *s);

#endif
