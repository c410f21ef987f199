/* SPDX-License-Identifier: MIT */
/*
 * Kernel TLS switch (see ktls.h): key extraction from BoringSSL, crypto_info filling, the
 * setsockopt sequence, the start-up probe and the path counters.
 *
 * TLS 1.3 keys: the C API has no way to read the traffic secrets, so the keylog callback keeps
 * CLIENT/SERVER_TRAFFIC_SECRET_0 per SSL (ex_data) and HKDF-Expand-Label derives "key" and "iv"
 * from them. TLS 1.2 keys: SSL_generate_key_block(). Every buffer that held a secret is wiped on
 * every path; the structs handed out are the caller's to wipe (ktls_keys_wipe).
 *
 * Not here: deciding when to switch, and anything on a socket after the switch.
 */
#include "tls/ktls.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/digest.h>
#include <openssl/hkdf.h>
#include <openssl/mem.h>
#include <openssl/nid.h>

#include "http/chars.h"

#define SECRET_MAX 48 /* SHA-384, the largest TLS 1.3 hash we accept */
#define TLS13_IV_LEN 12

/* The TLS 1.3 application traffic secrets of one SSL, kept in its ex_data. */
struct ktls_secrets {
    uint8_t client[SECRET_MAX];
    uint8_t server[SECRET_MAX];
    size_t client_len, server_len;
};

static int secrets_index = -1;
static pthread_once_t secrets_once = PTHREAD_ONCE_INIT;

/* Set by the first ENOENT from TCP_ULP: each try makes the kernel spawn modprobe (ktls.md §1). */
static atomic_bool ulp_missing;

static atomic_uint_fast64_t count_kernel;
static atomic_uint_fast64_t count_userspace;

static void secrets_destroy(struct ktls_secrets *s)
{
    if (!s)
        return;
    OPENSSL_cleanse(s, sizeof(*s));
    free(s);
}

/* ex_data free callback: runs from SSL_free(). */
static void secrets_free_cb(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int index, long argl,
                            void *argp)
{
    (void)parent;
    (void)ad;
    (void)index;
    (void)argl;
    (void)argp;
    secrets_destroy(ptr);
}

static void secrets_index_init(void)
{
    secrets_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, secrets_free_cb);
}

int ktls_ssl_ctx_prepare(SSL_CTX *ctx)
{
    pthread_once(&secrets_once, secrets_index_init);
    if (secrets_index < 0)
        return -ENOMEM;
    SSL_CTX_set_keylog_callback(ctx, ktls_keylog_line);
    return 0;
}

/* Decode exactly the hex string @hex (NUL-terminated) into @out; -EINVAL if it does not fit. */
static int unhex(const char *hex, uint8_t *out, size_t cap, size_t *out_len)
{
    size_t n = strlen(hex);
    if (n == 0 || n % 2 != 0 || n / 2 > cap)
        return -EINVAL;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = http_hex_value((uint8_t)hex[2 * i]);
        int lo = http_hex_value((uint8_t)hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -EINVAL;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    *out_len = n / 2;
    return 0;
}

void ktls_keylog_line(const SSL *ssl, const char *line)
{
    /* NSS key log format: "<label> <client random, 64 hex> <secret hex>" */
    static const char client_label[] = "CLIENT_TRAFFIC_SECRET_0 ";
    static const char server_label[] = "SERVER_TRAFFIC_SECRET_0 ";
    static_assert(sizeof(client_label) == sizeof(server_label), "one offset for both labels");
    bool is_client;

    if (secrets_index < 0)
        return;
    if (strncmp(line, client_label, sizeof(client_label) - 1) == 0)
        is_client = true;
    else if (strncmp(line, server_label, sizeof(server_label) - 1) == 0)
        is_client = false;
    else
        return; /* handshake secrets, exporter, TLS 1.2 CLIENT_RANDOM: not needed */

    const char *random = line + sizeof(client_label) - 1;
    const char *sp = strchr(random, ' ');
    if (!sp)
        return;

    struct ktls_secrets *s = SSL_get_ex_data(ssl, secrets_index);
    if (!s) {
        s = calloc(1, sizeof(*s));
        if (!s)
            return;
        /* BoringSSL passes a const SSL to the callback, but ex_data is per-SSL storage. */
        if (!SSL_set_ex_data((SSL *)ssl, secrets_index, s)) {
            free(s);
            return;
        }
    }
    uint8_t *dst = is_client ? s->client : s->server;
    size_t *dst_len = is_client ? &s->client_len : &s->server_len;
    if (unhex(sp + 1, dst, SECRET_MAX, dst_len) < 0) {
        OPENSSL_cleanse(dst, SECRET_MAX);
        *dst_len = 0;
    }
}

void ktls_ssl_forget(SSL *ssl)
{
    if (!ssl || secrets_index < 0)
        return;
    struct ktls_secrets *s = SSL_get_ex_data(ssl, secrets_index);
    if (!s)
        return;
    SSL_set_ex_data(ssl, secrets_index, NULL);
    secrets_destroy(s);
}

void ktls_keys_wipe(struct ktls_keys *k)
{
    if (k)
        OPENSSL_cleanse(k, sizeof(*k));
}

const char *ktls_cipher_name(int cipher)
{
    switch (cipher) {
    case TLS_CIPHER_AES_GCM_128:
        return "AES-128-GCM";
    case TLS_CIPHER_AES_GCM_256:
        return "AES-256-GCM";
    case TLS_CIPHER_CHACHA20_POLY1305:
        return "ChaCha20-Poly1305";
    default:
        return "?";
    }
}

/* RFC 8446 §7.1 HKDF-Expand-Label(secret, label, "", length) */
static int hkdf_expand_label(uint8_t *out, size_t len, const EVP_MD *md, const uint8_t *secret,
                             size_t secret_len, const char *label)
{
    static const char prefix[] = "tls13 ";
    size_t label_len = strlen(label);
    size_t full_len = sizeof(prefix) - 1 + label_len;
    uint8_t info[2 + 1 + 255 + 1];
    size_t n = 0;

    if (full_len > 255 || len > UINT16_MAX)
        return -EINVAL;
    info[n++] = (uint8_t)(len >> 8);
    info[n++] = (uint8_t)len;
    info[n++] = (uint8_t)full_len;
    memcpy(info + n, prefix, sizeof(prefix) - 1);
    n += sizeof(prefix) - 1;
    memcpy(info + n, label, label_len);
    n += label_len;
    info[n++] = 0; /* empty context */
    return HKDF_expand(out, len, md, secret, secret_len, info, n) ? 0 : -EIO;
}

static void put_be64(uint8_t out[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)v;
        v >>= 8;
    }
}

/* Key material of one direction before it is laid out for the kernel. */
struct dir_material {
    uint8_t key[32];
    uint8_t iv[TLS13_IV_LEN]; /* TLS 1.3 / ChaCha: 12 bytes; TLS 1.2 AES-GCM: 4 (salt) */
    uint64_t seq;
};

/* Lay out @m as the kernel's crypto_info for @cipher (ktls.md §3, "The structs"). */
static void fill_info(union ktls_crypto_info *ci, uint16_t version, uint16_t cipher,
                      const struct dir_material *m)
{
    uint8_t seq[8];
    bool tls13 = version == TLS_1_3_VERSION;

    put_be64(seq, m->seq);
    memset(ci, 0, sizeof(*ci));
    ci->info.version = version;
    ci->info.cipher_type = cipher;
    switch (cipher) {
    case TLS_CIPHER_AES_GCM_128:
        memcpy(ci->aes_gcm_128.key, m->key, TLS_CIPHER_AES_GCM_128_KEY_SIZE);
        memcpy(ci->aes_gcm_128.salt, m->iv, TLS_CIPHER_AES_GCM_128_SALT_SIZE);
        /* TLS 1.3: the rest of the write IV. TLS 1.2: the first explicit nonce, which the
         * kernel then increments per record; the sequence number, as BoringSSL does. */
        memcpy(ci->aes_gcm_128.iv, tls13 ? m->iv + 4 : seq, TLS_CIPHER_AES_GCM_128_IV_SIZE);
        memcpy(ci->aes_gcm_128.rec_seq, seq, TLS_CIPHER_AES_GCM_128_REC_SEQ_SIZE);
        break;
    case TLS_CIPHER_AES_GCM_256:
        memcpy(ci->aes_gcm_256.key, m->key, TLS_CIPHER_AES_GCM_256_KEY_SIZE);
        memcpy(ci->aes_gcm_256.salt, m->iv, TLS_CIPHER_AES_GCM_256_SALT_SIZE);
        memcpy(ci->aes_gcm_256.iv, tls13 ? m->iv + 4 : seq, TLS_CIPHER_AES_GCM_256_IV_SIZE);
        memcpy(ci->aes_gcm_256.rec_seq, seq, TLS_CIPHER_AES_GCM_256_REC_SEQ_SIZE);
        break;
    case TLS_CIPHER_CHACHA20_POLY1305:
        /* RFC 7905: nonce = IV xor seq in TLS 1.2 as in 1.3; no salt, no explicit nonce. */
        memcpy(ci->chacha20_poly1305.key, m->key, TLS_CIPHER_CHACHA20_POLY1305_KEY_SIZE);
        memcpy(ci->chacha20_poly1305.iv, m->iv, TLS_CIPHER_CHACHA20_POLY1305_IV_SIZE);
        memcpy(ci->chacha20_poly1305.rec_seq, seq, TLS_CIPHER_CHACHA20_POLY1305_REC_SEQ_SIZE);
        break;
    }
}

/* TLS 1.3: key and IV of both directions from the captured traffic secrets. */
static int tls13_material(SSL *ssl, const SSL_CIPHER *c, size_t key_len,
                          struct dir_material *client, struct dir_material *server)
{
    if (secrets_index < 0)
        return -ENOKEY;
    const struct ktls_secrets *s = SSL_get_ex_data(ssl, secrets_index);
    const EVP_MD *md = EVP_get_digestbynid(SSL_CIPHER_get_prf_nid(c));
    if (!md)
        return -EOPNOTSUPP;
    size_t hash_len = EVP_MD_size(md);
    if (!s || s->client_len != hash_len || s->server_len != hash_len)
        return -ENOKEY;

    int rc = hkdf_expand_label(client->key, key_len, md, s->client, hash_len, "key");
    if (rc == 0)
        rc = hkdf_expand_label(client->iv, TLS13_IV_LEN, md, s->client, hash_len, "iv");
    if (rc == 0)
        rc = hkdf_expand_label(server->key, key_len, md, s->server, hash_len, "key");
    if (rc == 0)
        rc = hkdf_expand_label(server->iv, TLS13_IV_LEN, md, s->server, hash_len, "iv");
    return rc;
}

/* TLS 1.2: key block = client MAC | server MAC | client key | server key | client IV |
 * server IV (RFC 5246 §6.3); the MAC keys are empty for AEAD suites. */
static int tls12_material(SSL *ssl, size_t key_len, size_t iv_len, struct dir_material *client,
                          struct dir_material *server)
{
    uint8_t block[2 * (32 + TLS13_IV_LEN)];
    size_t block_len = SSL_get_key_block_len(ssl);
    int rc = 0;

    if (block_len != 2 * (key_len + iv_len)) {
        rc = -EOPNOTSUPP; /* a MAC key or an IV size we do not know */
        goto out;
    }
    if (!SSL_generate_key_block(ssl, block, block_len)) {
        rc = -EIO;
        goto out;
    }
    memcpy(client->key, block, key_len);
    memcpy(server->key, block + key_len, key_len);
    memcpy(client->iv, block + 2 * key_len, iv_len);
    memcpy(server->iv, block + 2 * key_len + iv_len, iv_len);
out:
    OPENSSL_cleanse(block, sizeof(block));
    return rc;
}

int ktls_keys_from_ssl(SSL *ssl, struct ktls_keys *out)
{
    struct dir_material client = {0}, server = {0};
    size_t key_len, iv_len;
    int rc;

    memset(out, 0, sizeof(*out));
    if (SSL_is_dtls(ssl)) {
        rc = -EOPNOTSUPP;
        goto out;
    }
    if (SSL_in_init(ssl)) {
        rc = -EINPROGRESS;
        goto out;
    }
    const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
    if (!c || !SSL_CIPHER_is_aead(c)) {
        rc = -EOPNOTSUPP;
        goto out;
    }
    switch (SSL_CIPHER_get_cipher_nid(c)) {
    case NID_aes_128_gcm:
        out->cipher = TLS_CIPHER_AES_GCM_128;
        out->len = sizeof(out->tx.aes_gcm_128);
        key_len = 16;
        iv_len = 4;
        break;
    case NID_aes_256_gcm:
        out->cipher = TLS_CIPHER_AES_GCM_256;
        out->len = sizeof(out->tx.aes_gcm_256);
        key_len = 32;
        iv_len = 4;
        break;
    case NID_chacha20_poly1305:
        out->cipher = TLS_CIPHER_CHACHA20_POLY1305;
        out->len = sizeof(out->tx.chacha20_poly1305);
        key_len = 32;
        iv_len = 12;
        break;
    default:
        rc = -EOPNOTSUPP;
        goto out;
    }

    switch (SSL_version(ssl)) {
    case TLS1_3_VERSION:
        out->version = TLS_1_3_VERSION;
        rc = tls13_material(ssl, c, key_len, &client, &server);
        break;
    case TLS1_2_VERSION:
        out->version = TLS_1_2_VERSION;
        rc = tls12_material(ssl, key_len, iv_len, &client, &server);
        break;
    default:
        rc = -EOPNOTSUPP;
        break;
    }
    if (rc < 0)
        goto out;

    bool is_server = SSL_is_server(ssl);
    struct dir_material *tx = is_server ? &server : &client;
    struct dir_material *rx = is_server ? &client : &server;
    tx->seq = SSL_get_write_sequence(ssl);
    rx->seq = SSL_get_read_sequence(ssl);
    out->tx_seq = tx->seq;
    out->rx_seq = rx->seq;
    fill_info(&out->tx, out->version, out->cipher, tx);
    fill_info(&out->rx, out->version, out->cipher, rx);
out:
    OPENSSL_cleanse(&client, sizeof(client));
    OPENSSL_cleanse(&server, sizeof(server));
    if (rc < 0)
        ktls_keys_wipe(out);
    return rc;
}

static int set_ulp(int fd)
{
    if (setsockopt(fd, SOL_TCP, TCP_ULP, "tls", sizeof("tls")) < 0) {
        int err = errno;
        if (err == ENOENT)
            atomic_store_explicit(&ulp_missing, true, memory_order_relaxed);
        return -err;
    }
    return 0;
}

int ktls_install(int fd, const struct ktls_keys *k, bool rx)
{
    if (atomic_load_explicit(&ulp_missing, memory_order_relaxed))
        return -ENOENT;
    if (k->len == 0 || k->len > sizeof(k->tx))
        return -EINVAL;

    int rc = set_ulp(fd);
    if (rc < 0)
        return rc;
    /* A failed TLS_TX leaves the ULP-attached socket working as plain TCP (ktls.md §2). */
    if (setsockopt(fd, SOL_TLS, TLS_TX, &k->tx, (socklen_t)k->len) < 0)
        return -errno;
    if (rx && setsockopt(fd, SOL_TLS, TLS_RX, &k->rx, (socklen_t)k->len) < 0)
        return -ENOTRECOVERABLE; /* the kernel encrypts now: BoringSSL cannot take over */
    return 0;
}

bool ktls_is_available(void)
{
    return !atomic_load_explicit(&ulp_missing, memory_order_relaxed);
}

/* A connected loopback TCP pair: *client connected to *server. */
static int loopback_pair(int *client, int *server)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sa_len = sizeof(sa);
    int lfd = -1, cfd = -1, sfd = -1;
    int rc = 0;

    lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 1) < 0 ||
        getsockname(lfd, (struct sockaddr *)&sa, &sa_len) < 0) {
        rc = -errno;
        goto out;
    }
    cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (cfd < 0 || connect(cfd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        rc = -errno;
        goto out;
    }
    sfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (sfd < 0) {
        rc = -errno;
        goto out;
    }
    *client = cfd;
    *server = sfd;
    cfd = -1;
    sfd = -1;
out:
    if (sfd >= 0)
        close(sfd);
    if (cfd >= 0)
        close(cfd);
    if (lfd >= 0)
        close(lfd);
    return rc;
}

int ktls_probe(const char **reason)
{
    int cfd = -1, sfd = -1;

    int rc = loopback_pair(&cfd, &sfd);
    if (rc < 0) {
        *reason = "probe failed: no loopback TCP connection";
        goto out;
    }
    rc = set_ulp(cfd);
    if (rc == -ENOENT) {
        *reason = "the kernel has no tls ULP (CONFIG_TLS off or the tls module not loadable)";
        goto out;
    }
    if (rc < 0) {
        *reason = "setsockopt TCP_ULP tls failed";
        goto out;
    }

    /* The ULP alone is not enough: TLS_TX needs the AEAD (gcm(aes)) in the kernel too. The key
     * is a dummy; the probe connection never carries data. */
    union ktls_crypto_info ci = {
        .aes_gcm_128.info = {.version = TLS_1_3_VERSION, .cipher_type = TLS_CIPHER_AES_GCM_128}};
    if (setsockopt(cfd, SOL_TLS, TLS_TX, &ci, sizeof(ci.aes_gcm_128)) < 0) {
        rc = -errno;
        *reason = rc == -ENOENT ? "tls ULP present but no gcm(aes) in the kernel"
                                : "tls ULP present but setsockopt TLS_TX failed";
        goto out;
    }
    *reason = "tls ULP and AES-GCM TLS_TX accepted";
out:
    if (sfd >= 0)
        close(sfd);
    if (cfd >= 0)
        close(cfd);
    return rc;
}

void ktls_count(bool kernel)
{
    atomic_fetch_add_explicit(kernel ? &count_kernel : &count_userspace, 1, memory_order_relaxed);
}

struct ktls_counters ktls_counters_get(void)
{
    return (struct ktls_counters){
        .kernel = atomic_load_explicit(&count_kernel, memory_order_relaxed),
        .userspace = atomic_load_explicit(&count_userspace, memory_order_relaxed),
    };
}

int ktls_send_close_notify(int fd)
{
    /* RFC 8446 §6.1: alert level warning(1), description close_notify(0), sent as a record of
     * type alert(21) through the kernel's record layer. */
    static const uint8_t alert[2] = {1, 0};
    char cbuf[CMSG_SPACE(sizeof(uint8_t))];
    struct iovec iov = {.iov_base = (void *)alert, .iov_len = sizeof(alert)};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                         .msg_controllen = sizeof(cbuf)};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_TLS;
    cm->cmsg_type = TLS_SET_RECORD_TYPE;
    cm->cmsg_len = CMSG_LEN(sizeof(uint8_t));
    *CMSG_DATA(cm) = 21;
    return sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 ? -errno : 0;
}
