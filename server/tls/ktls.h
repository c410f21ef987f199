/* SPDX-License-Identifier: MIT */
/*
 * Kernel TLS (kTLS) for connections whose handshake BoringSSL finished: take the record keys,
 * IVs and sequence numbers out of the SSL, fill the kernel's crypto_info for TLS_TX/TLS_RX, and
 * install them on the socket. After that the socket carries plaintext and the kernel encrypts
 * (splice file -> pipe -> socket works as on plain TCP). Also a start-up probe, a process-wide
 * "this kernel has no kTLS" flag and counters of which path connections took.
 *
 * Supported: TLS 1.2 and 1.3 with AES-128-GCM, AES-256-GCM and ChaCha20-Poly1305, the three
 * ciphers the server offers; anything else is -EOPNOTSUPP and the connection stays on
 * userspace TLS. See shared/docs/ktls.md for the facts this relies on.
 *
 * Not here: the order of the switch (flushing what BoringSSL still holds, not reading past the
 * handshake, reading the sequence numbers last) belongs to the session code; so do non-data
 * records on a kTLS socket (alerts, KeyUpdate) and the close_notify on shutdown.
 *
 * Known gaps: TLS 1.3 keys come from the keylog callback's *_TRAFFIC_SECRET_0, so a KeyUpdate
 * processed by BoringSSL before ktls_keys_from_ssl() would give stale keys (the server never
 * reads past the handshake before switching, so this does not happen there). Rekeying an
 * installed kTLS socket is not supported (Linux 6.1 cannot).
 */
#ifndef SERVER_TLS_KTLS_H
#define SERVER_TLS_KTLS_H

#include <linux/tls.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One direction's parameters, exactly as setsockopt(SOL_TLS, TLS_TX / TLS_RX) takes them. */
union ktls_crypto_info {
    struct tls_crypto_info info; /* version, cipher_type: the common header */
    struct tls12_crypto_info_aes_gcm_128 aes_gcm_128;
    struct tls12_crypto_info_aes_gcm_256 aes_gcm_256;
    struct tls12_crypto_info_chacha20_poly1305 chacha20_poly1305;
};

/*
 * Both directions of one connection. Secret: wipe with ktls_keys_wipe() once installed or
 * given up. rec_seq in tx/rx is the sequence number of the next record (big-endian); for TLS 1.2
 * AES-GCM the iv field holds the first explicit nonce, which is that same number (as BoringSSL
 * does); for TLS 1.3 AES-GCM salt||iv is the 12-byte write IV; ChaCha20 has no salt and the
 * whole IV in iv, for both versions.
 */
struct ktls_keys {
    union ktls_crypto_info tx; /* what we send: the server's write keys on a server */
    union ktls_crypto_info rx; /* what we receive */
    size_t len;                /* optlen for setsockopt: size of the cipher's struct */
    uint16_t version;          /* TLS_1_2_VERSION or TLS_1_3_VERSION */
    uint16_t cipher;           /* TLS_CIPHER_AES_GCM_128, _AES_GCM_256, _CHACHA20_POLY1305 */
    uint64_t tx_seq, rx_seq;   /* the same numbers as rec_seq, for logs */
};

/* Connections counted by ktls_count(). */
struct ktls_counters {
    uint64_t kernel;    /* switched to kTLS */
    uint64_t userspace; /* stayed on userspace TLS (no kTLS, unsupported, install failed) */
};

/**
 * Prepare @ctx for ktls_keys_from_ssl(): install the keylog callback that keeps each SSL's
 * TLS 1.3 application traffic secrets in its ex_data (C cannot reach BoringSSL's C++-only
 * SSL_get_traffic_secrets). Call before the handshakes of the SSLs that may switch. Replaces
 * any keylog callback set on @ctx; a debugging key log must forward its lines to
 * ktls_keylog_line(). The secrets are wiped and freed by ktls_ssl_forget() or SSL_free().
 * Thread-safe. Returns 0, or -ENOMEM when no ex_data index could be allocated.
 */
int ktls_ssl_ctx_prepare(SSL_CTX *ctx);

/**
 * The keylog callback ktls_ssl_ctx_prepare() installs, for a caller that chains its own:
 * keeps CLIENT_TRAFFIC_SECRET_0 and SERVER_TRAFFIC_SECRET_0 of @ssl, ignores other lines.
 * Runs synchronously inside BoringSSL's handshake. If memory is short the secret is dropped
 * and ktls_keys_from_ssl() later fails with -ENOKEY (the connection stays on userspace TLS).
 */
void ktls_keylog_line(const SSL *ssl, const char *line);

/**
 * Wipe and free the secrets kept for @ssl. Call once the connection switched or decided to
 * stay in userspace; SSL_free() does the same. No-op when nothing is kept or @ssl is NULL.
 */
void ktls_ssl_forget(SSL *ssl);

/**
 * Fill @out with both directions' crypto_info for @ssl, whose handshake must be complete.
 * TX is @ssl's own write direction (server keys on a server), RX the peer's. The sequence
 * numbers are SSL_get_write_sequence()/SSL_get_read_sequence() now: call this after the last
 * SSL_write()/SSL_read() that touches the records (e.g. after flushing session tickets).
 * TLS 1.3 derives key and IV from the traffic secrets (RFC 8446 §7.3), which needs
 * ktls_ssl_ctx_prepare() on the SSL_CTX; TLS 1.2 takes them from the key block. Does not forget
 * the secrets. Returns 0; -EOPNOTSUPP for another version or cipher (or DTLS);
 * -EINPROGRESS if the handshake is not finished; -ENOKEY if the TLS 1.3 secrets were not
 * captured; -EIO if BoringSSL fails. On failure @out is wiped.
 */
int ktls_keys_from_ssl(SSL *ssl, struct ktls_keys *out);

/** Wipe @k (OPENSSL_cleanse). NULL is a no-op. */
void ktls_keys_wipe(struct ktls_keys *k);

/** "AES-128-GCM", "AES-256-GCM", "ChaCha20-Poly1305" for a TLS_CIPHER_* value, else "?". */
const char *ktls_cipher_name(int cipher);

/**
 * Switch the connected TCP socket @fd to kTLS: TCP_ULP "tls", then TLS_TX from @k, then, if
 * @rx, TLS_RX. Borrows @k (the caller wipes it). Once TLS_TX is set, BoringSSL must never
 * write to @fd again (no SSL_write, no SSL_shutdown): the socket takes plaintext.
 * The first -ENOENT from TCP_ULP (kernel without the tls ULP) disables kTLS for the process:
 * every later call returns -ENOENT at once, so that no connection makes the kernel spawn
 * modprobe again. Returns 0, or -errno of the step that failed with the socket still plain TCP,
 * so the connection continues on userspace TLS on the same fd: -ENOENT (no tls ULP, or the
 * cipher's crypto module missing), -ENOTCONN, -EBUSY, -EINVAL, -ENOMEM ... except
 * -ENOTRECOVERABLE: TLS_TX is installed but TLS_RX failed; the connection must be closed.
 */
int ktls_install(int fd, const struct ktls_keys *k, bool rx);

/**
 * Whether kTLS may still be tried: false once a TCP_ULP attempt (or ktls_probe()) met ENOENT.
 * True before anything was tried. Thread-safe.
 */
bool ktls_is_available(void);

/**
 * Start-up check on a loopback TCP connection made for the purpose: TCP_ULP "tls", then a
 * TLS_TX with a dummy AES-128-GCM key. Sets *@reason to a static string for the log line
 * "kTLS: available" / "kTLS: not available (reason)". Blocks briefly (loopback connect).
 * Returns 0 when kTLS works, else -errno of the failed step (-ENOENT disables kTLS as in
 * ktls_install()).
 */
int ktls_probe(const char **reason);

/**
 * Send a close_notify alert on a socket whose TX side is kTLS (BoringSSL can no longer write
 * there). Never blocks: at the end of a connection there is room, and if not the peer sees a
 * plain FIN. Returns 0 or -errno.
 */
int ktls_send_close_notify(int fd);

/** Count one connection as switched to kTLS (@kernel) or staying on userspace TLS. Atomic. */
void ktls_count(bool kernel);

/** The counts so far (each read atomically). */
struct ktls_counters ktls_counters_get(void);

#endif
