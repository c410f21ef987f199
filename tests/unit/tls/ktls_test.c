/* SPDX-License-Identifier: MIT */
/*
 * Tests for server/tls/ktls.c. A BoringSSL client and server shake hands in this process over a
 * socketpair (throwaway self-signed EC certificate); the crypto_info that ktls_keys_from_ssl()
 * builds from the server is then used the way the kernel would use it: the test seals a record
 * in userspace with the TX key/IV/sequence and writes it raw, and the client's SSL_read must
 * return the plaintext; the client's SSL_write is opened with the RX crypto_info. For TLS 1.3
 * and 1.2 with AES-128-GCM, AES-256-GCM and ChaCha20-Poly1305, right after the handshake and
 * after application data moved the sequence numbers.
 *
 * Picking the TLS 1.3 cipher: BoringSSL has no setting for it. The server takes the client's
 * first cipher unless it has no AES hardware (then ChaCha20), or the group is CECPQ2 (then
 * AES-256 over AES-128). So AES-256 uses CECPQ2, and ChaCha20 overrides EVP_has_aes_hardware()
 * below (libssl calls it through the PLT, the executable's definition wins). Every case asserts
 * the negotiated cipher, so a BoringSSL that chose differently fails loudly.
 *
 * kTLS itself: on a kernel without the tls ULP, ktls_install() must say -ENOENT and the probe
 * "not available"; on one with it, the switch must work end to end. The test decides which by
 * looking at the kernel independently of the code under test.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/aead.h>
#include <openssl/ec_key.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/nid.h>
#include <openssl/x509.h>

#include "tls/ktls.h"

#define REC_HDR 5
#define TAG_LEN 16
#define IO_TIMEOUT_MS 5000

static bool no_aes_hw;

/* Test-only override of libcrypto's answer, read by libssl to order TLS 1.3 ciphers. */
int EVP_has_aes_hardware(void)
{
    return no_aes_hw ? 0 : 1;
}

/* ---- peers ------------------------------------------------------------------------------- */

struct peers {
    SSL_CTX *cctx, *sctx;
    SSL *c, *s;
    int cfd, sfd;
};

static EVP_PKEY *make_key(void)
{
    EC_KEY *ec = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
    cr_assert(ec && EC_KEY_generate_key(ec));
    EVP_PKEY *pk = EVP_PKEY_new();
    cr_assert(pk && EVP_PKEY_assign_EC_KEY(pk, ec));
    return pk;
}

static X509 *make_cert(EVP_PKEY *pk)
{
    X509 *x = X509_new();
    cr_assert(x);
    cr_assert(X509_set_version(x, X509_VERSION_3));
    cr_assert(ASN1_INTEGER_set(X509_get_serialNumber(x), 1));
    cr_assert(X509_gmtime_adj(X509_getm_notBefore(x), -60));
    cr_assert(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
    X509_NAME *name = X509_get_subject_name(x);
    cr_assert(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const uint8_t *)"localhost", -1,
                                         -1, 0));
    cr_assert(X509_set_issuer_name(x, name));
    cr_assert(X509_set_pubkey(x, pk));
    cr_assert(X509_sign(x, pk, EVP_sha256()));
    return x;
}

static const char *tls12_suite(int cipher)
{
    switch (cipher) {
    case TLS_CIPHER_AES_GCM_128:
        return "ECDHE-ECDSA-AES128-GCM-SHA256";
    case TLS_CIPHER_AES_GCM_256:
        return "ECDHE-ECDSA-AES256-GCM-SHA384";
    default:
        return "ECDHE-ECDSA-CHACHA20-POLY1305";
    }
}

static void set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    cr_assert(fl >= 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0);
}

static void wait_readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    cr_assert_eq(poll(&p, 1, IO_TIMEOUT_MS), 1, "fd %d: nothing to read within %d ms", fd,
                 IO_TIMEOUT_MS);
}

/* Create both ends for @version (TLS1_2_VERSION/TLS1_3_VERSION) and @cipher on fds cfd/sfd. */
static void peers_init(struct peers *p, int version, int cipher, int cfd, int sfd)
{
    EVP_PKEY *pk = make_key();
    X509 *cert = make_cert(pk);

    no_aes_hw = version == TLS1_3_VERSION && cipher == TLS_CIPHER_CHACHA20_POLY1305;
    p->sctx = SSL_CTX_new(TLS_method());
    p->cctx = SSL_CTX_new(TLS_method());
    cr_assert(p->sctx && p->cctx);
    cr_assert(SSL_CTX_use_certificate(p->sctx, cert) && SSL_CTX_use_PrivateKey(p->sctx, pk));
    for (SSL_CTX *ctx = p->sctx;; ctx = p->cctx) {
        cr_assert(SSL_CTX_set_min_proto_version(ctx, (uint16_t)version));
        cr_assert(SSL_CTX_set_max_proto_version(ctx, (uint16_t)version));
        if (version == TLS1_2_VERSION)
            cr_assert(SSL_CTX_set_strict_cipher_list(ctx, tls12_suite(cipher)));
        if (version == TLS1_3_VERSION && cipher == TLS_CIPHER_AES_GCM_256)
            cr_assert(SSL_CTX_set1_curves_list(ctx, "CECPQ2"));
        if (ctx == p->cctx)
            break;
    }
    cr_assert_eq(ktls_ssl_ctx_prepare(p->sctx), 0);
    X509_free(cert);
    EVP_PKEY_free(pk);

    set_nonblock(cfd);
    set_nonblock(sfd);
    p->cfd = cfd;
    p->sfd = sfd;
    p->c = SSL_new(p->cctx);
    p->s = SSL_new(p->sctx);
    cr_assert(p->c && p->s);
    cr_assert(SSL_set_fd(p->c, cfd) && SSL_set_fd(p->s, sfd));
    SSL_set_connect_state(p->c);
    SSL_set_accept_state(p->s);
}

static void peers_release(struct peers *p)
{
    SSL_free(p->c);
    SSL_free(p->s);
    SSL_CTX_free(p->cctx);
    SSL_CTX_free(p->sctx);
    close(p->cfd);
    close(p->sfd);
}

static bool step_ok(SSL *ssl, int rc)
{
    int err = SSL_get_error(ssl, rc);
    return err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE;
}

static void handshake(struct peers *p)
{
    int cr = 0, sr = 0;
    for (int i = 0; i < 200 && (cr != 1 || sr != 1); i++) {
        if (cr != 1) {
            cr = SSL_do_handshake(p->c);
            cr_assert(cr == 1 || step_ok(p->c, cr), "client handshake: %s",
                      ERR_reason_error_string(ERR_peek_last_error()));
        }
        if (sr != 1) {
            sr = SSL_do_handshake(p->s);
            cr_assert(sr == 1 || step_ok(p->s, sr), "server handshake: %s",
                      ERR_reason_error_string(ERR_peek_last_error()));
        }
        if (cr != 1 || sr != 1) {
            struct pollfd pf[2] = {{.fd = p->cfd, .events = POLLIN},
                                   {.fd = p->sfd, .events = POLLIN}};
            poll(pf, 2, 50);
        }
    }
    cr_assert(cr == 1 && sr == 1, "handshake did not finish");
}

static void ssl_write_all(SSL *ssl, const void *buf, size_t len)
{
    cr_assert_eq(SSL_write(ssl, buf, (int)len), (int)len);
}

static void ssl_read_exact(SSL *ssl, int fd, uint8_t *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        int n = SSL_read(ssl, buf + got, (int)(len - got));
        if (n > 0) {
            got += (size_t)n;
            continue;
        }
        cr_assert(SSL_get_error(ssl, n) == SSL_ERROR_WANT_READ, "SSL_read: %s",
                  ERR_reason_error_string(ERR_peek_last_error()));
        wait_readable(fd);
    }
}

/* Application data both ways through BoringSSL, to move the sequence numbers. */
static void exchange(struct peers *p, int to_client, int to_server)
{
    uint8_t buf[64];
    for (int i = 0; i < to_client; i++) {
        ssl_write_all(p->s, "server says hello", 17);
        ssl_read_exact(p->c, p->cfd, buf, 17);
        cr_assert_arr_eq(buf, "server says hello", 17);
    }
    for (int i = 0; i < to_server; i++) {
        ssl_write_all(p->c, "client says hi", 14);
        ssl_read_exact(p->s, p->sfd, buf, 14);
        cr_assert_arr_eq(buf, "client says hi", 14);
    }
}

/* ---- records, sealed and opened the way the kernel reads the crypto_info ------------------ */

/* One direction's crypto_info, taken apart by the rules of <linux/tls.h>. */
struct dir {
    const EVP_AEAD *aead;
    const uint8_t *key;
    size_t key_len;
    uint8_t nonce[12];    /* salt || iv (GCM) or iv (ChaCha20), before the sequence xor */
    uint8_t explicit_[8]; /* TLS 1.2 AES-GCM: the first explicit nonce (iv) */
    uint64_t seq;
    bool tls13, has_explicit;
};

static uint64_t get_be64(const uint8_t *b)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | b[i];
    return v;
}

static void put_be64(uint8_t *b, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        b[i] = (uint8_t)v;
        v >>= 8;
    }
}

static struct dir dir_of(const union ktls_crypto_info *ci)
{
    struct dir d = {.tls13 = ci->info.version == TLS_1_3_VERSION};
    const uint8_t *salt = NULL, *iv = NULL, *seq = NULL;

    switch (ci->info.cipher_type) {
    case TLS_CIPHER_AES_GCM_128:
        d.aead = EVP_aead_aes_128_gcm();
        d.key = ci->aes_gcm_128.key;
        d.key_len = sizeof(ci->aes_gcm_128.key);
        salt = ci->aes_gcm_128.salt;
        iv = ci->aes_gcm_128.iv;
        seq = ci->aes_gcm_128.rec_seq;
        break;
    case TLS_CIPHER_AES_GCM_256:
        d.aead = EVP_aead_aes_256_gcm();
        d.key = ci->aes_gcm_256.key;
        d.key_len = sizeof(ci->aes_gcm_256.key);
        salt = ci->aes_gcm_256.salt;
        iv = ci->aes_gcm_256.iv;
        seq = ci->aes_gcm_256.rec_seq;
        break;
    case TLS_CIPHER_CHACHA20_POLY1305:
        d.aead = EVP_aead_chacha20_poly1305();
        d.key = ci->chacha20_poly1305.key;
        d.key_len = sizeof(ci->chacha20_poly1305.key);
        memcpy(d.nonce, ci->chacha20_poly1305.iv, 12);
        d.seq = get_be64(ci->chacha20_poly1305.rec_seq);
        return d;
    default:
        cr_assert_fail("cipher_type %u", ci->info.cipher_type);
    }
    memcpy(d.nonce, salt, 4);
    d.seq = get_be64(seq);
    if (d.tls13) {
        memcpy(d.nonce + 4, iv, 8);
    } else {
        d.has_explicit = true;
        memcpy(d.explicit_, iv, 8);
    }
    return d;
}

/* The per-record nonce: TLS 1.3 and ChaCha20 xor the sequence into the IV (RFC 8446 §5.3,
 * RFC 7905); TLS 1.2 AES-GCM is salt || explicit nonce (RFC 5288 §3). */
static void record_nonce(const struct dir *d, uint64_t seq, const uint8_t *explicit_,
                         uint8_t nonce[12])
{
    memcpy(nonce, d->nonce, 12);
    if (d->has_explicit) {
        memcpy(nonce + 4, explicit_, 8);
        return;
    }
    uint8_t s[8];
    put_be64(s, seq);
    for (int i = 0; i < 8; i++)
        nonce[4 + i] ^= s[i];
}

/* TLS 1.2 AAD: seq_num || type || version || length (RFC 5246 §6.2.3.3). */
static void tls12_aad(uint64_t seq, size_t plain_len, uint8_t aad[13])
{
    put_be64(aad, seq);
    aad[8] = 23;
    aad[9] = 3;
    aad[10] = 3;
    aad[11] = (uint8_t)(plain_len >> 8);
    aad[12] = (uint8_t)plain_len;
}

/* Seal one application-data record number @n (0 = the crypto_info's own) into @out. */
static size_t seal_record(const struct dir *d, uint64_t n, const uint8_t *pt, size_t pt_len,
                          uint8_t *out, size_t cap)
{
    EVP_AEAD_CTX ctx;
    uint64_t seq = d->seq + n;
    uint8_t nonce[12], explicit_[8], aad[13], inner[2048];
    size_t body = 0, ct_len = 0;

    cr_assert(pt_len + 1 <= sizeof(inner));
    cr_assert(EVP_AEAD_CTX_init(&ctx, d->aead, d->key, d->key_len, TAG_LEN, NULL));
    /* The kernel increments the explicit nonce per record, starting at the crypto_info's iv. */
    put_be64(explicit_, get_be64(d->explicit_) + n);
    record_nonce(d, seq, explicit_, nonce);

    out[0] = 23;
    out[1] = 3;
    out[2] = 3;
    if (d->tls13) {
        /* RFC 8446 §5.2: TLSInnerPlaintext = content || type, no padding; AAD = the header */
        memcpy(inner, pt, pt_len);
        inner[pt_len] = 23;
        size_t rec_len = pt_len + 1 + TAG_LEN;
        out[3] = (uint8_t)(rec_len >> 8);
        out[4] = (uint8_t)rec_len;
        cr_assert(EVP_AEAD_CTX_seal(&ctx, out + REC_HDR, &ct_len, cap - REC_HDR, nonce, 12, inner,
                                    pt_len + 1, out, REC_HDR));
    } else {
        if (d->has_explicit) {
            memcpy(out + REC_HDR, explicit_, 8);
            body = 8;
        }
        size_t rec_len = body + pt_len + TAG_LEN;
        out[3] = (uint8_t)(rec_len >> 8);
        out[4] = (uint8_t)rec_len;
        tls12_aad(seq, pt_len, aad);
        cr_assert(EVP_AEAD_CTX_seal(&ctx, out + REC_HDR + body, &ct_len, cap - REC_HDR - body,
                                    nonce, 12, pt, pt_len, aad, sizeof(aad)));
    }
    EVP_AEAD_CTX_cleanup(&ctx);
    return REC_HDR + body + ct_len;
}

/* Open the application-data record @rec (header included) as record number @n. Returns the
 * plaintext length, or -1 if authentication fails. */
static int open_record(const struct dir *d, uint64_t n, const uint8_t *rec, size_t rec_len,
                       uint8_t *out, size_t cap)
{
    EVP_AEAD_CTX ctx;
    uint64_t seq = d->seq + n;
    uint8_t nonce[12], aad[13];
    size_t out_len = 0;
    int ok;

    cr_assert_geq(rec_len, REC_HDR + TAG_LEN);
    cr_assert_eq(rec[0], 23, "record type %u", rec[0]);
    cr_assert(rec[1] == 3 && rec[2] == 3);
    cr_assert_eq((size_t)(rec[3] << 8 | rec[4]), rec_len - REC_HDR);
    cr_assert(EVP_AEAD_CTX_init(&ctx, d->aead, d->key, d->key_len, TAG_LEN, NULL));
    if (d->tls13) {
        record_nonce(d, seq, NULL, nonce);
        ok = EVP_AEAD_CTX_open(&ctx, out, &out_len, cap, nonce, 12, rec + REC_HDR,
                               rec_len - REC_HDR, rec, REC_HDR);
        if (ok) {
            /* strip the zero padding, then the real content type must be data */
            while (out_len > 0 && out[out_len - 1] == 0)
                out_len--;
            cr_assert_gt(out_len, 0);
            cr_assert_eq(out[out_len - 1], 23);
            out_len--;
        }
    } else {
        size_t body = d->has_explicit ? 8 : 0;
        /* Only the AES-GCM records carry the nonce on the wire; the receiver reads it there. */
        record_nonce(d, seq, rec + REC_HDR, nonce);
        tls12_aad(seq, rec_len - REC_HDR - body - TAG_LEN, aad);
        ok = EVP_AEAD_CTX_open(&ctx, out, &out_len, cap, nonce, 12, rec + REC_HDR + body,
                               rec_len - REC_HDR - body, aad, sizeof(aad));
    }
    EVP_AEAD_CTX_cleanup(&ctx);
    ERR_clear_error();
    return ok ? (int)out_len : -1;
}

static void send_all(int fd, const uint8_t *buf, size_t len)
{
    cr_assert_eq(send(fd, buf, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* Read one whole TLS record off @fd, raw. */
static size_t recv_record(int fd, uint8_t *buf, size_t cap)
{
    size_t got = 0, want = REC_HDR;
    while (got < want) {
        ssize_t n = recv(fd, buf + got, want - got, 0);
        if (n < 0 && errno == EAGAIN) {
            wait_readable(fd);
            continue;
        }
        cr_assert_gt(n, 0, "recv: %s", n < 0 ? strerror(errno) : "EOF");
        got += (size_t)n;
        if (got == REC_HDR) {
            want = REC_HDR + (size_t)(buf[3] << 8 | buf[4]);
            cr_assert_leq(want, cap);
        }
    }
    return got;
}

/* ---- the cases ----------------------------------------------------------------------------- */

static int tls_version_of(uint16_t ktls_version)
{
    return ktls_version == TLS_1_3_VERSION ? TLS1_3_VERSION : TLS1_2_VERSION;
}

static int negotiated(const SSL *ssl)
{
    switch (SSL_CIPHER_get_cipher_nid(SSL_get_current_cipher(ssl))) {
    case NID_aes_128_gcm:
        return TLS_CIPHER_AES_GCM_128;
    case NID_aes_256_gcm:
        return TLS_CIPHER_AES_GCM_256;
    case NID_chacha20_poly1305:
        return TLS_CIPHER_CHACHA20_POLY1305;
    default:
        return -1;
    }
}

static void pair_unix(int *cfd, int *sfd)
{
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    *cfd = sv[0];
    *sfd = sv[1];
}

static void connect_peers(struct peers *p, int version, int cipher)
{
    int cfd, sfd;
    pair_unix(&cfd, &sfd);
    peers_init(p, version, cipher, cfd, sfd);
    handshake(p);
    cr_assert_eq(SSL_version(p->s), version);
    cr_assert_eq(negotiated(p->s), cipher, "negotiated %s, wanted %s",
                 SSL_CIPHER_standard_name(SSL_get_current_cipher(p->s)), ktls_cipher_name(cipher));
}

/*
 * Handshake with @version/@cipher, move @to_client/@to_server records through BoringSSL, take
 * the server's keys, then: two records sealed with TX reach the client's SSL_read, and two
 * records of the client's SSL_write open with RX (and not with the wrong sequence number).
 */
static void check_keys(int version, int cipher, int to_client, int to_server)
{
    struct peers p;
    struct ktls_keys k;
    uint8_t rec[4096], buf[2048], msg[1500];

    connect_peers(&p, version, cipher);
    exchange(&p, to_client, to_server);

    uint64_t want_tx = SSL_get_write_sequence(p.s), want_rx = SSL_get_read_sequence(p.s);
    cr_assert_eq(ktls_keys_from_ssl(p.s, &k), 0);
    cr_assert_eq(tls_version_of(k.version), version);
    cr_assert_eq(k.cipher, cipher);
    cr_assert_eq(k.tx.info.version, k.version);
    cr_assert_eq(k.rx.info.cipher_type, cipher);
    cr_assert_eq(k.tx_seq, want_tx);
    cr_assert_eq(k.rx_seq, want_rx);
    size_t want_len = cipher == TLS_CIPHER_AES_GCM_128   ? sizeof(k.tx.aes_gcm_128)
                      : cipher == TLS_CIPHER_AES_GCM_256 ? sizeof(k.tx.aes_gcm_256)
                                                         : sizeof(k.tx.chacha20_poly1305);
    cr_assert_eq(k.len, want_len);
    cr_assert(memcmp(&k.tx, &k.rx, k.len) != 0, "TX and RX keys must differ");

    /* Sequence numbers as ktls.md §3 observed them: TLS 1.3 starts at 0 both ways (tickets
     * wait for the first SSL_write, which then sends one record with both); TLS 1.2 at 1
     * (the Finished records). */
    uint64_t base = version == TLS1_3_VERSION ? 0 : 1;
    uint64_t tickets = version == TLS1_3_VERSION && to_client > 0 ? 1 : 0;
    cr_assert_eq(k.tx_seq, base + tickets + (uint64_t)to_client);
    cr_assert_eq(k.rx_seq, base + (uint64_t)to_server);

    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)(i * 7 + 1);

    /* TX: what the kernel would send, the client's BoringSSL must accept. */
    struct dir tx = dir_of(&k.tx);
    cr_assert_eq(tx.seq, k.tx_seq);
    if (tx.has_explicit)
        cr_assert_eq(get_be64(tx.explicit_), k.tx_seq);
    for (uint64_t n = 0; n < 2; n++) {
        size_t len = n == 0 ? 1 : sizeof(msg);
        size_t rec_len = seal_record(&tx, n, msg, len, rec, sizeof(rec));
        send_all(p.sfd, rec, rec_len);
        ssl_read_exact(p.c, p.cfd, buf, len);
        cr_assert_arr_eq(buf, msg, len, "record %llu server -> client", (unsigned long long)n);
    }

    /* RX: what the client's BoringSSL sends, the kernel would decrypt with these keys. */
    struct dir rx = dir_of(&k.rx);
    cr_assert_eq(rx.seq, k.rx_seq);
    for (uint64_t n = 0; n < 2; n++) {
        size_t len = n == 0 ? sizeof(msg) : 3;
        ssl_write_all(p.c, msg, len);
        size_t rec_len = recv_record(p.sfd, rec, sizeof(rec));
        /* BoringSSL's explicit nonce is the sequence number, like the kernel's TX (ktls.md §3) */
        if (rx.has_explicit)
            cr_assert_eq(get_be64(rec + REC_HDR), k.rx_seq + n);
        cr_assert_eq(open_record(&rx, n + 1, rec, rec_len, buf, sizeof(buf)), -1,
                     "a wrong sequence number must not authenticate");
        cr_assert_eq(open_record(&rx, n, rec, rec_len, buf, sizeof(buf)), (int)len,
                     "record %llu client -> server", (unsigned long long)n);
        cr_assert_arr_eq(buf, msg, len);
    }

    ktls_keys_wipe(&k);
    peers_release(&p);
}

Test(ktls_keys, tls13_aes128gcm)
{
    check_keys(TLS1_3_VERSION, TLS_CIPHER_AES_GCM_128, 0, 0);
}
Test(ktls_keys, tls13_aes256gcm)
{
    check_keys(TLS1_3_VERSION, TLS_CIPHER_AES_GCM_256, 0, 0);
}
Test(ktls_keys, tls13_chacha20)
{
    check_keys(TLS1_3_VERSION, TLS_CIPHER_CHACHA20_POLY1305, 0, 0);
}
Test(ktls_keys, tls12_aes128gcm)
{
    check_keys(TLS1_2_VERSION, TLS_CIPHER_AES_GCM_128, 0, 0);
}
Test(ktls_keys, tls12_aes256gcm)
{
    check_keys(TLS1_2_VERSION, TLS_CIPHER_AES_GCM_256, 0, 0);
}
Test(ktls_keys, tls12_chacha20)
{
    check_keys(TLS1_2_VERSION, TLS_CIPHER_CHACHA20_POLY1305, 0, 0);
}

/* The same after application data: 2 records to the client, 3 to the server. */
Test(ktls_seq, tls13_aes128gcm)
{
    check_keys(TLS1_3_VERSION, TLS_CIPHER_AES_GCM_128, 2, 3);
}
Test(ktls_seq, tls13_aes256gcm)
{
    check_keys(TLS1_3_VERSION, TLS_CIPHER_AES_GCM_256, 2, 3);
}
Test(ktls_seq, tls13_chacha20)
{
    check_keys(TLS1_3_VERSION, TLS_CIPHER_CHACHA20_POLY1305, 2, 3);
}
Test(ktls_seq, tls12_aes128gcm)
{
    check_keys(TLS1_2_VERSION, TLS_CIPHER_AES_GCM_128, 2, 3);
}
Test(ktls_seq, tls12_aes256gcm)
{
    check_keys(TLS1_2_VERSION, TLS_CIPHER_AES_GCM_256, 2, 3);
}
Test(ktls_seq, tls12_chacha20)
{
    check_keys(TLS1_2_VERSION, TLS_CIPHER_CHACHA20_POLY1305, 2, 3);
}

/* Only the server's TX direction moved (e.g. flushing TLS 1.3 tickets with SSL_write(ssl, "", 0)
 * as ktls.md §4 describes): write sequence 1, read sequence 0. */
Test(ktls_seq, tls13_tickets_flushed)
{
    struct peers p;
    struct ktls_keys k;
    uint8_t rec[256], buf[64];

    connect_peers(&p, TLS1_3_VERSION, TLS_CIPHER_AES_GCM_128);
    cr_assert_eq(SSL_write(p.s, "", 0), 0);
    cr_assert_eq(ktls_keys_from_ssl(p.s, &k), 0);
    cr_assert_eq(k.tx_seq, 1);
    cr_assert_eq(k.rx_seq, 0);
    struct dir tx = dir_of(&k.tx);
    size_t rec_len = seal_record(&tx, 0, (const uint8_t *)"after tickets", 13, rec, sizeof(rec));
    send_all(p.sfd, rec, rec_len);
    ssl_read_exact(p.c, p.cfd, buf, 13); /* the ticket record first, then ours */
    cr_assert_arr_eq(buf, "after tickets", 13);
    ktls_keys_wipe(&k);
    peers_release(&p);
}

/* The client's keys are the server's, mirrored. */
Test(ktls_keys, client_side_mirrors_server)
{
    static const struct {
        int version, cipher;
    } cases[] = {{TLS1_3_VERSION, TLS_CIPHER_AES_GCM_128},
                 {TLS1_2_VERSION, TLS_CIPHER_CHACHA20_POLY1305}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct peers p;
        struct ktls_keys ks, kc;
        connect_peers(&p, cases[i].version, cases[i].cipher);
        cr_assert_eq(ktls_ssl_ctx_prepare(p.cctx), 0); /* too late for this client */
        cr_assert_eq(ktls_keys_from_ssl(p.s, &ks), 0);
        int rc = ktls_keys_from_ssl(p.c, &kc);
        if (cases[i].version == TLS1_3_VERSION) {
            /* the client ctx had no keylog callback during its handshake */
            cr_assert_eq(rc, -ENOKEY);
        } else {
            cr_assert_eq(rc, 0);
            cr_assert_eq(memcmp(&ks.tx, &kc.rx, ks.len), 0);
            cr_assert_eq(memcmp(&ks.rx, &kc.tx, ks.len), 0);
        }
        ktls_keys_wipe(&ks);
        ktls_keys_wipe(&kc);
        peers_release(&p);
    }
}

Test(ktls_keys, forget_wipes_tls13_secrets)
{
    struct peers p;
    struct ktls_keys k;

    connect_peers(&p, TLS1_3_VERSION, TLS_CIPHER_AES_GCM_128);
    cr_assert_eq(ktls_keys_from_ssl(p.s, &k), 0);
    ktls_keys_wipe(&k);
    ktls_ssl_forget(p.s);
    ktls_ssl_forget(p.s); /* twice: no-op */
    ktls_ssl_forget(NULL);
    memset(&k, 0xa5, sizeof(k));
    cr_assert_eq(ktls_keys_from_ssl(p.s, &k), -ENOKEY);
    struct ktls_keys zero = {0};
    cr_assert_eq(memcmp(&k, &zero, sizeof(k)), 0, "failure must leave the keys wiped");
    peers_release(&p);
}

Test(ktls_keys, handshake_not_finished)
{
    struct peers p;
    struct ktls_keys k;
    int cfd, sfd;

    pair_unix(&cfd, &sfd);
    peers_init(&p, TLS1_3_VERSION, TLS_CIPHER_AES_GCM_128, cfd, sfd);
    cr_assert_eq(ktls_keys_from_ssl(p.s, &k), -EINPROGRESS);
    cr_assert_eq(SSL_do_handshake(p.c), -1); /* ClientHello sent */
    cr_assert_eq(SSL_do_handshake(p.s), -1); /* waiting for the client's Finished */
    cr_assert_eq(ktls_keys_from_ssl(p.s, &k), -EINPROGRESS);
    peers_release(&p);
}

Test(ktls_misc, cipher_names_and_counters)
{
    cr_assert_str_eq(ktls_cipher_name(TLS_CIPHER_AES_GCM_128), "AES-128-GCM");
    cr_assert_str_eq(ktls_cipher_name(TLS_CIPHER_AES_GCM_256), "AES-256-GCM");
    cr_assert_str_eq(ktls_cipher_name(TLS_CIPHER_CHACHA20_POLY1305), "ChaCha20-Poly1305");
    cr_assert_str_eq(ktls_cipher_name(0), "?");

    struct ktls_counters before = ktls_counters_get();
    ktls_count(true);
    ktls_count(false);
    ktls_count(false);
    struct ktls_counters after = ktls_counters_get();
    cr_assert_eq(after.kernel - before.kernel, 1);
    cr_assert_eq(after.userspace - before.userspace, 2);
}

/* ---- the kernel ---------------------------------------------------------------------------- */

static void pair_tcp(int *cfd, int *sfd)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sa_len = sizeof(sa);
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert_geq(lfd, 0);
    cr_assert_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    cr_assert_eq(listen(lfd, 1), 0);
    cr_assert_eq(getsockname(lfd, (struct sockaddr *)&sa, &sa_len), 0);
    *cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert_geq(*cfd, 0);
    cr_assert_eq(connect(*cfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    *sfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    cr_assert_geq(*sfd, 0);
    close(lfd);
}

static bool ulp_listed(void)
{
    char line[256] = "";
    FILE *f = fopen("/proc/sys/net/ipv4/tcp_available_ulp", "r");
    if (!f)
        return false;
    bool found = false;
    if (fgets(line, sizeof(line), f)) {
        for (char *tok = strtok(line, " \n"); tok; tok = strtok(NULL, " \n"))
            found = found || strcmp(tok, "tls") == 0;
    }
    fclose(f);
    return found;
}

/* TCP_ULP "tls" straight through setsockopt on a fresh connection: 0 or errno. */
static int raw_ulp_errno(void)
{
    int cfd, sfd;
    pair_tcp(&cfd, &sfd);
    int rc = setsockopt(cfd, SOL_TCP, TCP_ULP, "tls", sizeof("tls")) < 0 ? errno : 0;
    close(cfd);
    close(sfd);
    return rc;
}

Test(ktls_kernel, install_and_probe)
{
    bool listed = ulp_listed();
    int raw = raw_ulp_errno();
    struct peers p;
    struct ktls_keys k;
    const char *reason = NULL;
    uint8_t buf[64];
    int cfd, sfd;

    pair_tcp(&cfd, &sfd);
    peers_init(&p, TLS1_3_VERSION, TLS_CIPHER_AES_GCM_128, cfd, sfd);
    handshake(&p);
    cr_assert_eq(ktls_keys_from_ssl(p.s, &k), 0);
    cr_assert(ktls_is_available(), "nothing tried yet");

    if (!listed && raw == ENOENT) {
        /* This kernel has no kTLS: -ENOENT, remembered for the process, probe says why. */
        cr_assert_eq(ktls_install(p.sfd, &k, true), -ENOENT);
        cr_assert_not(ktls_is_available());
        cr_assert_eq(ktls_install(p.sfd, &k, true), -ENOENT);
        /* the connection goes on in userspace on the same socket */
        exchange(&p, 1, 1);
        cr_assert_eq(ktls_probe(&reason), -ENOENT);
        cr_assert(reason && strstr(reason, "tls ULP"), "reason: %s", reason ? reason : "NULL");
        cr_log_info("kTLS: not available (%s)", reason);
    } else if (raw == 0) {
        /* This kernel has kTLS: the switch must work end to end. */
        cr_assert_eq(ktls_probe(&reason), 0, "probe: %s", reason);
        cr_assert_eq(ktls_install(p.sfd, &k, true), 0);
        cr_assert(ktls_is_available());
        send_all(p.sfd, (const uint8_t *)"kernel hello", 12);
        ssl_read_exact(p.c, p.cfd, buf, 12);
        cr_assert_arr_eq(buf, "kernel hello", 12);
        ssl_write_all(p.c, "client hi", 9);
        size_t got = 0;
        while (got < 9) {
            wait_readable(p.sfd);
            ssize_t n = recv(p.sfd, buf + got, 9 - got, 0);
            cr_assert_gt(n, 0, "recv on kTLS: %s", n < 0 ? strerror(errno) : "EOF");
            got += (size_t)n;
        }
        cr_assert_arr_eq(buf, "client hi", 9);
        cr_log_info("kTLS: available (%s)", reason);
    } else {
        cr_assert_fail("unexpected kernel: tls ULP %s, TCP_ULP errno %d (%s)",
                       listed ? "listed" : "not listed", raw, strerror(raw));
    }
    ktls_keys_wipe(&k);
    peers_release(&p);
}

/* TCP_ULP on something that is not a TCP socket fails without disabling kTLS. */
Test(ktls_kernel, install_on_unix_socket)
{
    struct peers p;
    struct ktls_keys k;

    connect_peers(&p, TLS1_2_VERSION, TLS_CIPHER_AES_GCM_128);
    cr_assert_eq(ktls_keys_from_ssl(p.s, &k), 0);
    int rc = ktls_install(p.sfd, &k, true);
    cr_assert(rc < 0 && rc != -ENOENT, "rc %d", rc);
    cr_assert(ktls_is_available());
    ktls_keys_wipe(&k);
    peers_release(&p);
}
