/* SPDX-License-Identifier: MIT */
/*
 * Tests for server/tls/ctx.c: handshakes between a client SSL set up here (its own SSL_CTX that
 * trusts the generated certificate, verification on, host name "localhost") and a server SSL
 * from tls_ctx_new_ssl, over a BIO pair in memory; protocol versions, the TLS 1.2 ciphers with
 * EC and RSA keys, ALPN, session resumption, refusal of bad files, reload and reference counts.
 *
 * BoringSSL has no way to choose the TLS 1.3 suite from the client side, so the three TLS 1.3
 * suites are forced with `openssl s_client` over a TCP socket on 127.0.0.1 (skipped without the
 * tool, except in CI where it must be there).
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sched.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "tls/cert.h"
#include "tls/ctx.h"

struct pair {
    char cert[PATH_MAX];
    char key[PATH_MAX];
    char fp[TLS_FINGERPRINT_LEN];
};

static char dir[64];
static struct pair ec_a;
static struct pair ec_b;

static void make_ec_pair(const char *name, struct pair *p)
{
    char sub[PATH_MAX];
    snprintf(sub, sizeof(sub), "%s/%s", dir, name);
    cr_assert_eq(mkdir(sub, 0700), 0);
    cr_assert_eq(tls_cert_ensure(sub, p->cert, sizeof(p->cert), p->key, sizeof(p->key), p->fp), 1);
}

static void setup(void)
{
    log_set_level(LOG_WARN);
    strcpy(dir, "/tmp/ff-ctx-test-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    make_ec_pair("a", &ec_a);
    make_ec_pair("b", &ec_b);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void teardown(void)
{
    tls_ctx_current_release();
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(ctx, .init = setup, .fini = teardown);

/* An RSA-2048 self-signed certificate for localhost, made here independently of cert.c. */
static void make_rsa_pair(struct pair *p)
{
    EVP_PKEY *pkey = EVP_PKEY_new();
    RSA *rsa = RSA_new();
    BIGNUM *e = BN_new();
    X509 *x = X509_new();

    cr_assert(pkey && rsa && e && x);
    cr_assert(BN_set_word(e, RSA_F4));
    cr_assert(RSA_generate_key_ex(rsa, 2048, e, NULL));
    cr_assert(EVP_PKEY_assign_RSA(pkey, rsa));
    cr_assert(X509_set_version(x, X509_VERSION_3));
    cr_assert(ASN1_INTEGER_set(X509_get_serialNumber(x), 42));
    X509_NAME *name = X509_get_subject_name(x);
    cr_assert(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const uint8_t *)"localhost", -1,
                                         -1, 0));
    cr_assert(X509_set_issuer_name(x, name));
    cr_assert(X509_gmtime_adj(X509_getm_notBefore(x), -60));
    cr_assert(X509_gmtime_adj(X509_getm_notAfter(x), 86400));
    cr_assert(X509_set_pubkey(x, pkey));
    X509_EXTENSION *san = X509V3_EXT_nconf_nid(NULL, NULL, NID_subject_alt_name, "DNS:localhost");
    cr_assert_not_null(san);
    cr_assert(X509_add_ext(x, san, -1));
    X509_EXTENSION_free(san);
    cr_assert(X509_sign(x, pkey, EVP_sha256()));

    snprintf(p->cert, sizeof(p->cert), "%s/rsa-cert.pem", dir);
    snprintf(p->key, sizeof(p->key), "%s/rsa-key.pem", dir);
    FILE *f = fopen(p->cert, "w");
    cr_assert(f && PEM_write_X509(f, x));
    fclose(f);
    f = fopen(p->key, "w");
    cr_assert(f && PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL));
    fclose(f);
    cr_assert_eq(tls_cert_fingerprint(p->cert, p->fp), 0);
    BN_free(e);
    X509_free(x);
    EVP_PKEY_free(pkey);
}

static const uint8_t alpn_http11[] = "\x08http/1.1";
static const uint8_t alpn_h2[] = "\x02h2";
static const uint8_t alpn_both[] = "\x02h2\x08http/1.1";

struct client_opts {
    const char *ca;      /* trusted certificate file */
    uint16_t version;    /* 0: whatever both support, else min = max = version */
    const char *ciphers; /* TLS 1.2 cipher list, NULL for the default */
    const uint8_t *alpn; /* wire format, NULL for no ALPN */
    size_t alpn_len;
    SSL_SESSION *session; /* to resume, or NULL */
    bool no_ticket;       /* TLS 1.2 resumption by session ID only */
};

static SSL_SESSION *ticket_session; /* TLS 1.3 session from a NewSessionTicket */

static int on_new_session(SSL *ssl, SSL_SESSION *sess)
{
    (void)ssl;
    SSL_SESSION_free(ticket_session);
    ticket_session = sess;
    return 1; /* we keep the reference */
}

static SSL *make_client(const struct client_opts *o)
{
    SSL_CTX *cctx = SSL_CTX_new(TLS_method());
    cr_assert_not_null(cctx);
    cr_assert(SSL_CTX_load_verify_locations(cctx, o->ca, NULL));
    /* BoringSSL's verifier only treats a certificate as self-signed when its keyUsage allows
     * keyCertSign, which ours (CA:FALSE, digitalSignature) does not; trusting it directly as a
     * partial chain is what curl does with OpenSSL, and OpenSSL 3 accepts it even without. */
    X509_STORE_set_flags(SSL_CTX_get_cert_store(cctx), X509_V_FLAG_PARTIAL_CHAIN);
    SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, NULL);
    if (o->version) {
        cr_assert(SSL_CTX_set_min_proto_version(cctx, o->version));
        cr_assert(SSL_CTX_set_max_proto_version(cctx, o->version));
    }
    if (o->ciphers)
        cr_assert(SSL_CTX_set_strict_cipher_list(cctx, o->ciphers));
    if (o->no_ticket)
        SSL_CTX_set_options(cctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_session_cache_mode(cctx, SSL_SESS_CACHE_CLIENT);
    SSL_CTX_sess_set_new_cb(cctx, on_new_session);
    SSL *c = SSL_new(cctx);
    SSL_CTX_free(cctx); /* c holds its own reference */
    cr_assert_not_null(c);
    SSL_set_connect_state(c);
    cr_assert(SSL_set_tlsext_host_name(c, "localhost"));
    cr_assert(SSL_set1_host(c, "localhost"));
    if (o->alpn)
        cr_assert_eq(SSL_set_alpn_protos(c, o->alpn, (unsigned)o->alpn_len), 0);
    if (o->session)
        cr_assert(SSL_set_session(c, o->session));
    return c;
}

struct link {
    SSL *c;
    SSL *s;
    uint32_t c_err; /* last BoringSSL error of each side when it failed */
    uint32_t s_err;
};

static void link_up(struct link *l, SSL *c, SSL *s)
{
    BIO *cb = NULL;
    BIO *sb = NULL;

    cr_assert(BIO_new_bio_pair(&cb, 0, &sb, 0));
    SSL_set_bio(c, cb, cb);
    SSL_set_accept_state(s);
    SSL_set_bio(s, sb, sb);
    *l = (struct link){.c = c, .s = s};
}

static void link_free(struct link *l)
{
    SSL_free(l->c);
    SSL_free(l->s);
}

/* One handshake step of one side: 1 done, 0 wants more, -1 failed (error saved in *err). */
static int step(SSL *ssl, uint32_t *err)
{
    int r = SSL_do_handshake(ssl);
    if (r == 1)
        return 1;
    int e = SSL_get_error(ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return 0;
    *err = (uint32_t)ERR_peek_last_error();
    ERR_clear_error();
    return -1;
}

/* Run both handshakes to the end; true when both sides completed. */
static bool handshake(struct link *l)
{
    int c = 0;
    int s = 0;

    for (int i = 0; i < 50; i++) {
        if (c == 0)
            c = step(l->c, &l->c_err);
        if (s == 0)
            s = step(l->s, &l->s_err);
        if ((c == 1 && s == 1) || c < 0 || s < 0)
            break;
    }
    /* let the failing side's alert reach the other one */
    if (c < 0 && s == 0)
        s = step(l->s, &l->s_err);
    if (s < 0 && c == 0)
        c = step(l->c, &l->c_err);
    return c == 1 && s == 1;
}

/* Application data both ways (this also delivers TLS 1.3 session tickets to the client). */
static void exchange(struct link *l)
{
    char buf[64];

    cr_assert_eq(SSL_write(l->c, "GET / HTTP/1.1\r\n\r\n", 18), 18);
    cr_assert_eq(SSL_read(l->s, buf, sizeof(buf)), 18);
    cr_assert_eq(memcmp(buf, "GET / HTTP/1.1\r\n\r\n", 18), 0);
    cr_assert_eq(SSL_write(l->s, "HTTP/1.1 204 No Content\r\n\r\n", 27), 27);
    cr_assert_eq(SSL_read(l->c, buf, sizeof(buf)), 27);
}

static void assert_alpn(SSL *ssl, const char *want)
{
    const uint8_t *p = NULL;
    unsigned n = 0;
    SSL_get0_alpn_selected(ssl, &p, &n);
    cr_assert_eq(n, strlen(want), "ALPN length %u", n);
    if (n > 0)
        cr_assert_eq(memcmp(p, want, n), 0);
}

/* The server certificate an SSL presents, as a fingerprint. */
static void server_fp(SSL *ssl, char out[TLS_FINGERPRINT_LEN])
{
    uint8_t md[32];
    unsigned len = 0;
    X509 *x = SSL_get_certificate(ssl);
    cr_assert_not_null(x);
    cr_assert(X509_digest(x, EVP_sha256(), md, &len));
    char *p = out;
    for (unsigned i = 0; i < len; i++)
        p += sprintf(p, i ? ":%02X" : "%02X", md[i]);
}

static struct tls_ctx *new_ctx(const struct pair *p)
{
    struct tls_ctx *t = NULL;
    cr_assert_eq(tls_ctx_new(p->cert, p->key, &t), 0);
    cr_assert_not_null(t);
    return t;
}

/* Handshake with the given client options against t and check version, cipher and ALPN. */
static void expect_handshake(struct tls_ctx *t, const struct client_opts *o, uint16_t version,
                             const char *cipher)
{
    struct link l;

    link_up(&l, make_client(o), tls_ctx_new_ssl(t));
    cr_assert(handshake(&l), "handshake failed: client %s, server %s",
              ERR_reason_error_string(l.c_err), ERR_reason_error_string(l.s_err));
    cr_assert_eq(SSL_get_verify_result(l.c), X509_V_OK);
    cr_assert_eq(SSL_version(l.c), version);
    cr_assert_eq(SSL_version(l.s), version);
    const char *got = SSL_CIPHER_standard_name(SSL_get_current_cipher(l.s));
    if (cipher)
        cr_assert_str_eq(got, cipher);
    assert_alpn(l.s, o->alpn ? "http/1.1" : "");
    assert_alpn(l.c, o->alpn ? "http/1.1" : "");
    exchange(&l);
    link_free(&l);
}

static void expect_tls12(const struct pair *p, const char *client_cipher, const char *std_name)
{
    struct tls_ctx *t = new_ctx(p);
    struct client_opts o = {.ca = p->cert,
                            .version = TLS1_2_VERSION,
                            .ciphers = client_cipher,
                            .alpn = alpn_http11,
                            .alpn_len = sizeof(alpn_http11) - 1};
    expect_handshake(t, &o, TLS1_2_VERSION, std_name);
    tls_ctx_unref(t);
}

Test(ctx, tls12_ecdsa_aes128_gcm)
{
    expect_tls12(&ec_a, "ECDHE-ECDSA-AES128-GCM-SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
}

Test(ctx, tls12_ecdsa_aes256_gcm)
{
    expect_tls12(&ec_a, "ECDHE-ECDSA-AES256-GCM-SHA384", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384");
}

Test(ctx, tls12_ecdsa_chacha20)
{
    expect_tls12(&ec_a, "ECDHE-ECDSA-CHACHA20-POLY1305",
                 "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256");
}

Test(ctx, tls12_rsa_ciphers)
{
    struct pair rsa;
    make_rsa_pair(&rsa);
    expect_tls12(&rsa, "ECDHE-RSA-AES128-GCM-SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    expect_tls12(&rsa, "ECDHE-RSA-AES256-GCM-SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
    expect_tls12(&rsa, "ECDHE-RSA-CHACHA20-POLY1305",
                 "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");
}

Test(ctx, tls13_default)
{
    struct tls_ctx *t = new_ctx(&ec_a);
    struct client_opts o = {.ca = ec_a.cert,
                            .version = TLS1_3_VERSION,
                            .alpn = alpn_http11,
                            .alpn_len = sizeof(alpn_http11) - 1};
    expect_handshake(t, &o, TLS1_3_VERSION, NULL);
    /* and an unrestricted client gets TLS 1.3 */
    o.version = 0;
    expect_handshake(t, &o, TLS1_3_VERSION, NULL);
    tls_ctx_unref(t);
}

Test(ctx, server_prefers_aead_over_client_order)
{
    /* the client lists a CBC suite first: the server only has the AEAD ones */
    struct tls_ctx *t = new_ctx(&ec_a);
    struct client_opts o = {.ca = ec_a.cert,
                            .version = TLS1_2_VERSION,
                            .ciphers = "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-GCM-SHA384",
                            .alpn = alpn_http11,
                            .alpn_len = sizeof(alpn_http11) - 1};
    expect_handshake(t, &o, TLS1_2_VERSION, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384");
    tls_ctx_unref(t);
}

static void expect_refused(struct tls_ctx *t, const struct client_opts *o)
{
    struct link l;
    link_up(&l, make_client(o), tls_ctx_new_ssl(t));
    cr_assert_not(handshake(&l));
    link_free(&l);
}

Test(ctx, refuses_old_versions_and_weak_ciphers)
{
    struct tls_ctx *t = new_ctx(&ec_a);
    struct client_opts o = {.ca = ec_a.cert, .version = TLS1_1_VERSION};
    expect_refused(t, &o);
    o.version = TLS1_VERSION;
    expect_refused(t, &o);
    /* TLS 1.2 without ECDHE or without AEAD */
    o.version = TLS1_2_VERSION;
    o.ciphers = "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA";
    expect_refused(t, &o);
    struct pair rsa;
    make_rsa_pair(&rsa);
    struct tls_ctx *r = new_ctx(&rsa);
    o.ca = rsa.cert;
    o.ciphers = "AES128-GCM-SHA256:AES256-GCM-SHA384";
    expect_refused(r, &o);
    tls_ctx_unref(r);
    tls_ctx_unref(t);
}

Test(ctx, alpn_without_http11_fails)
{
    struct tls_ctx *t = new_ctx(&ec_a);
    for (uint16_t v = TLS1_2_VERSION; v <= TLS1_3_VERSION; v++) {
        struct client_opts o = {
            .ca = ec_a.cert, .version = v, .alpn = alpn_h2, .alpn_len = sizeof(alpn_h2) - 1};
        struct link l;
        link_up(&l, make_client(&o), tls_ctx_new_ssl(t));
        cr_assert_not(handshake(&l));
        cr_assert_eq(ERR_GET_REASON(l.s_err), SSL_R_NO_APPLICATION_PROTOCOL);
        cr_assert_eq(ERR_GET_REASON(l.c_err), SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL,
                     "client error %s", ERR_reason_error_string(l.c_err));
        link_free(&l);
    }
    tls_ctx_unref(t);
}

Test(ctx, alpn_picks_http11_from_a_list_and_none_is_fine)
{
    struct tls_ctx *t = new_ctx(&ec_a);
    struct client_opts o = {.ca = ec_a.cert, .alpn = alpn_both, .alpn_len = sizeof(alpn_both) - 1};
    expect_handshake(t, &o, TLS1_3_VERSION, NULL); /* asserts "http/1.1" */
    o.alpn = NULL;
    o.alpn_len = 0;
    expect_handshake(t, &o, TLS1_3_VERSION, NULL); /* asserts no ALPN */
    o.version = TLS1_2_VERSION;
    expect_handshake(t, &o, TLS1_2_VERSION, NULL);
    tls_ctx_unref(t);
}

Test(ctx, client_verification_needs_the_right_cert)
{
    /* sanity check of the test client: trusting b, it refuses a's certificate */
    struct tls_ctx *t = new_ctx(&ec_a);
    struct client_opts o = {.ca = ec_b.cert, .alpn = alpn_http11, .alpn_len = 9};
    expect_refused(t, &o);
    tls_ctx_unref(t);
}

/* Full handshake, then a second one offering the session; returns whether it was resumed. */
static bool resumes(struct tls_ctx *t, uint16_t version, bool no_ticket)
{
    struct client_opts o = {.ca = ec_a.cert,
                            .version = version,
                            .alpn = alpn_http11,
                            .alpn_len = 9,
                            .no_ticket = no_ticket};
    struct link l;

    link_up(&l, make_client(&o), tls_ctx_new_ssl(t));
    cr_assert(handshake(&l));
    cr_assert_not(SSL_session_reused(l.c));
    exchange(&l);
    SSL_SESSION *sess = version == TLS1_3_VERSION ? ticket_session : SSL_get1_session(l.c);
    if (version == TLS1_3_VERSION)
        ticket_session = NULL;
    cr_assert_not_null(sess, "no session to resume");
    link_free(&l);

    o.session = sess;
    link_up(&l, make_client(&o), tls_ctx_new_ssl(t));
    cr_assert(handshake(&l));
    bool reused = SSL_session_reused(l.c) && SSL_session_reused(l.s);
    exchange(&l);
    link_free(&l);
    SSL_SESSION_free(sess);
    return reused;
}

Test(ctx, resumption)
{
    struct tls_ctx *t = new_ctx(&ec_a);
    cr_assert(resumes(t, TLS1_3_VERSION, false), "TLS 1.3 ticket");
    cr_assert(resumes(t, TLS1_2_VERSION, false), "TLS 1.2 ticket");
    cr_assert(resumes(t, TLS1_2_VERSION, true), "TLS 1.2 session ID cache");
    tls_ctx_unref(t);
}

Test(ctx, bad_files_are_refused)
{
    int dummy;
    struct tls_ctx *t = (struct tls_ctx *)&dummy; /* tls_ctx_new must reset it to NULL */
    char missing[PATH_MAX];
    char garbage[PATH_MAX];

    /* key of another pair */
    cr_assert_eq(tls_ctx_new(ec_a.cert, ec_b.key, &t), -EINVAL);
    cr_assert_null(t);
    struct pair rsa;
    make_rsa_pair(&rsa);
    cr_assert_eq(tls_ctx_new(rsa.cert, ec_a.key, &t), -EINVAL);
    cr_assert_eq(tls_ctx_new(ec_a.cert, rsa.key, &t), -EINVAL);
    /* missing files */
    snprintf(missing, sizeof(missing), "%s/missing.pem", dir);
    cr_assert_eq(tls_ctx_new(missing, ec_a.key, &t), -ENOENT);
    cr_assert_eq(tls_ctx_new(ec_a.cert, missing, &t), -ENOENT);
    /* not PEM, or the wrong kind of PEM */
    snprintf(garbage, sizeof(garbage), "%s/garbage.pem", dir);
    FILE *f = fopen(garbage, "w");
    cr_assert_not_null(f);
    fputs("-----BEGIN NOTHING-----\nAAAA\n-----END NOTHING-----\n", f);
    fclose(f);
    cr_assert_eq(tls_ctx_new(garbage, ec_a.key, &t), -EINVAL);
    cr_assert_eq(tls_ctx_new(ec_a.cert, garbage, &t), -EINVAL);
    cr_assert_eq(tls_ctx_new(ec_a.key, ec_a.key, &t), -EINVAL);
    cr_assert_eq(tls_ctx_new(ec_a.cert, ec_a.cert, &t), -EINVAL);
    cr_assert_null(t);
    /* nothing left behind on the error queue */
    cr_assert_eq(ERR_peek_error(), 0);
}

Test(ctx, full_chain_file)
{
    /* leaf followed by another certificate, as fullchain.pem files are */
    char chain[PATH_MAX];
    char buf[8192];
    snprintf(chain, sizeof(chain), "%s/fullchain.pem", dir);
    FILE *out = fopen(chain, "w");
    cr_assert_not_null(out);
    const char *files[] = {ec_a.cert, ec_b.cert};
    for (size_t i = 0; i < 2; i++) {
        FILE *in = fopen(files[i], "r");
        cr_assert_not_null(in);
        size_t n = fread(buf, 1, sizeof(buf), in);
        fwrite(buf, 1, n, out);
        fclose(in);
    }
    fclose(out);
    struct tls_ctx *t = NULL;
    cr_assert_eq(tls_ctx_new(chain, ec_a.key, &t), 0);
    STACK_OF(X509) *extra = NULL;
    cr_assert(SSL_CTX_get0_chain_certs(tls_ctx_ssl_ctx(t), &extra));
    cr_assert_eq(sk_X509_num(extra), 1);
    struct client_opts o = {.ca = ec_a.cert, .alpn = alpn_http11, .alpn_len = 9};
    expect_handshake(t, &o, TLS1_3_VERSION, NULL);
    tls_ctx_unref(t);
}

static atomic_int ctx_frees;
static int free_index = -1;

static void count_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int index, long argl,
                       void *argp)
{
    (void)parent;
    (void)ad;
    (void)index;
    (void)argl;
    (void)argp;
    if (ptr)
        atomic_fetch_add(&ctx_frees, 1);
}

/* Count when the SSL_CTX inside t is freed. */
static void watch(struct tls_ctx *t)
{
    if (free_index < 0)
        free_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, count_free);
    cr_assert_geq(free_index, 0);
    cr_assert(SSL_CTX_set_ex_data(tls_ctx_ssl_ctx(t), free_index, &ctx_frees));
}

Test(ctx, refcount_frees)
{
    struct tls_ctx *t = new_ctx(&ec_a);
    watch(t);
    cr_assert_eq(tls_ctx_ref(t), t);
    tls_ctx_unref(t);
    cr_assert_eq(atomic_load(&ctx_frees), 0);
    tls_ctx_unref(t);
    cr_assert_eq(atomic_load(&ctx_frees), 1);
    tls_ctx_unref(NULL);

    /* an SSL keeps the SSL_CTX alive after the wrapper is gone */
    t = new_ctx(&ec_a);
    watch(t);
    SSL *s = tls_ctx_new_ssl(t);
    cr_assert_not_null(s);
    tls_ctx_unref(t);
    cr_assert_eq(atomic_load(&ctx_frees), 1);
    struct client_opts o = {.ca = ec_a.cert, .alpn = alpn_http11, .alpn_len = 9};
    struct link l;
    link_up(&l, make_client(&o), s);
    cr_assert(handshake(&l));
    exchange(&l);
    link_free(&l);
    cr_assert_eq(atomic_load(&ctx_frees), 2);
}

Test(ctx, reload_swaps_and_failure_keeps_old)
{
    cr_assert_null(tls_ctx_current());
    cr_assert_eq(tls_ctx_reload(ec_a.cert, ec_a.key), 0);
    struct tls_ctx *a = tls_ctx_current();
    cr_assert_not_null(a);
    watch(a);
    SSL *old_ssl = tls_ctx_new_ssl(a);
    char got[TLS_FINGERPRINT_LEN];
    server_fp(old_ssl, got);
    cr_assert_str_eq(got, ec_a.fp);

    cr_assert_eq(tls_ctx_reload(ec_b.cert, ec_b.key), 0);
    struct tls_ctx *b = tls_ctx_current();
    cr_assert_neq(b, a);
    SSL *s = tls_ctx_new_ssl(b);
    server_fp(s, got);
    cr_assert_str_eq(got, ec_b.fp);
    SSL_free(s);
    /* a is out of the slot, but our reference and old_ssl's keep it */
    tls_ctx_unref(a);
    cr_assert_eq(atomic_load(&ctx_frees), 0);

    /* the connection that started before the reload still completes with a's certificate */
    struct client_opts o = {.ca = ec_a.cert, .alpn = alpn_http11, .alpn_len = 9};
    struct link l;
    link_up(&l, make_client(&o), old_ssl);
    cr_assert(handshake(&l));
    exchange(&l);
    link_free(&l);
    cr_assert_eq(atomic_load(&ctx_frees), 1);

    /* failed reloads keep b */
    cr_assert_eq(tls_ctx_reload(ec_a.cert, ec_b.key), -EINVAL);
    char missing[PATH_MAX];
    snprintf(missing, sizeof(missing), "%s/missing.pem", dir);
    cr_assert_eq(tls_ctx_reload(missing, ec_b.key), -ENOENT);
    struct tls_ctx *still = tls_ctx_current();
    cr_assert_eq(still, b);
    o.ca = ec_b.cert;
    expect_handshake(still, &o, TLS1_3_VERSION, NULL);
    tls_ctx_unref(still);
    tls_ctx_unref(b);

    tls_ctx_current_release();
    cr_assert_null(tls_ctx_current());
}

static atomic_bool stop;
static atomic_long hammered;

static void *hammer(void *arg)
{
    long n = 0;
    (void)arg;
    while (!atomic_load(&stop)) {
        struct tls_ctx *t = tls_ctx_current();
        SSL *s = tls_ctx_new_ssl(t);
        if (!s)
            abort();
        tls_ctx_unref(t);
        SSL_free(s);
        n++;
        atomic_fetch_add(&hammered, 1);
    }
    return (void *)n;
}

/* Wait (up to 10 s) until the readers have made a new context since 'seen': on a loaded
 * machine they might otherwise not run at all between two reloads. */
static long wait_for_readers(long seen)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long now;
    while ((now = atomic_load(&hammered)) == seen) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (t.tv_sec - t0.tv_sec > 10)
            break;
        sched_yield();
    }
    return now;
}

Test(ctx, reload_under_concurrent_readers)
{
    pthread_t th[3];

    cr_assert_eq(tls_ctx_reload(ec_a.cert, ec_a.key), 0);
    for (size_t i = 0; i < 3; i++)
        cr_assert_eq(pthread_create(&th[i], NULL, hammer, NULL), 0);
    long seen = wait_for_readers(0);
    for (int i = 0; i < 40; i++) {
        const struct pair *p = i % 2 ? &ec_a : &ec_b;
        cr_assert_eq(tls_ctx_reload(p->cert, p->key), 0);
        seen = wait_for_readers(seen);
    }
    atomic_store(&stop, true);
    long total = 0;
    for (size_t i = 0; i < 3; i++) {
        void *n = NULL;
        pthread_join(th[i], &n);
        total += (long)n;
    }
    cr_assert_gt(total, 0);
    struct tls_ctx *t = tls_ctx_current();
    SSL *s = tls_ctx_new_ssl(t);
    char got[TLS_FINGERPRINT_LEN];
    server_fp(s, got);
    cr_assert_str_eq(got, ec_a.fp); /* the last reload (i = 39) installed a */
    SSL_free(s);
    tls_ctx_unref(t);
}

/*
 * openssl s_client against a server SSL on a TCP socket: the only way here to force a TLS 1.3
 * suite. Returns s_client's exit status; *version, cipher and alpn describe the server side.
 */
struct sclient_result {
    int status;
    int version;
    char cipher[64];
    char alpn[16];
    char log[PATH_MAX];
};

static bool have_openssl(void)
{
    if (access("/usr/bin/openssl", X_OK) == 0)
        return true;
    const char *ci = getenv("CI");
    cr_assert(!ci || strcmp(ci, "true") != 0, "openssl tool missing in CI");
    return false;
}

static void run_s_client(struct tls_ctx *t, const char *ca, const char *const *extra,
                         struct sclient_result *r)
{
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t slen = sizeof(sa);
    cr_assert_geq(lfd, 0);
    cr_assert_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    cr_assert_eq(listen(lfd, 1), 0);
    cr_assert_eq(getsockname(lfd, (struct sockaddr *)&sa, &slen), 0);

    char addr[32];
    snprintf(addr, sizeof(addr), "127.0.0.1:%u", ntohs(sa.sin_port));
    snprintf(r->log, sizeof(r->log), "%s/s_client.log", dir);
    const char *argv[32] = {"openssl",
                            "s_client",
                            "-connect",
                            addr,
                            "-servername",
                            "localhost",
                            "-verify_hostname",
                            "localhost",
                            "-verify_return_error",
                            "-CAfile",
                            ca,
                            "-brief"};
    size_t argc = 12;
    for (size_t i = 0; extra[i]; i++)
        argv[argc++] = extra[i];
    argv[argc] = NULL;

    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        int out = open(r->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
            _exit(127);
        execvp("openssl", (char *const *)argv);
        _exit(127);
    }

    struct pollfd pfd = {.fd = lfd, .events = POLLIN};
    cr_assert_eq(poll(&pfd, 1, 10000), 1, "s_client did not connect");
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    cr_assert_geq(fd, 0);
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    SSL *s = tls_ctx_new_ssl(t);
    cr_assert(SSL_set_fd(s, fd));
    r->version = 0;
    r->cipher[0] = '\0';
    r->alpn[0] = '\0';
    if (SSL_accept(s) == 1) {
        const uint8_t *p = NULL;
        unsigned n = 0;
        r->version = SSL_version(s);
        snprintf(r->cipher, sizeof(r->cipher), "%s",
                 SSL_CIPHER_standard_name(SSL_get_current_cipher(s)));
        SSL_get0_alpn_selected(s, &p, &n);
        snprintf(r->alpn, sizeof(r->alpn), "%.*s", (int)n, (const char *)p);
        /* s_client sees EOF on stdin and closes; read until then */
        char buf[256];
        while (SSL_read(s, buf, sizeof(buf)) > 0)
            ;
    }
    ERR_clear_error();
    SSL_free(s);
    close(fd);
    close(lfd);
    int st = 0;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void expect_s_client(const char *const *extra, int version, const char *cipher)
{
    if (!have_openssl())
        cr_skip_test("openssl tool not installed");
    struct tls_ctx *t = new_ctx(&ec_a);
    struct sclient_result r;
    run_s_client(t, ec_a.cert, extra, &r);
    cr_assert_eq(r.status, 0, "s_client failed, see %s", r.log);
    cr_assert_eq(r.version, version);
    cr_assert_str_eq(r.cipher, cipher);
    cr_assert_str_eq(r.alpn, "http/1.1");
    tls_ctx_unref(t);
}

Test(ctx, tls13_aes128_gcm_openssl)
{
    const char *args[] = {"-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256",
                          "-alpn",   "http/1.1",      NULL};
    expect_s_client(args, TLS1_3_VERSION, "TLS_AES_128_GCM_SHA256");
}

Test(ctx, tls13_aes256_gcm_openssl)
{
    const char *args[] = {"-tls1_3", "-ciphersuites", "TLS_AES_256_GCM_SHA384",
                          "-alpn",   "http/1.1",      NULL};
    expect_s_client(args, TLS1_3_VERSION, "TLS_AES_256_GCM_SHA384");
}

Test(ctx, tls13_chacha20_openssl)
{
    const char *args[] = {"-tls1_3", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256",
                          "-alpn",   "http/1.1",      NULL};
    expect_s_client(args, TLS1_3_VERSION, "TLS_CHACHA20_POLY1305_SHA256");
}

Test(ctx, tls12_chacha20_openssl)
{
    const char *args[] = {"-tls1_2", "-cipher",  "ECDHE-ECDSA-CHACHA20-POLY1305",
                          "-alpn",   "http/1.1", NULL};
    expect_s_client(args, TLS1_2_VERSION, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256");
}

Test(ctx, alpn_h2_only_openssl_fails)
{
    if (!have_openssl())
        cr_skip_test("openssl tool not installed");
    struct tls_ctx *t = new_ctx(&ec_a);
    struct sclient_result r;
    const char *args[] = {"-alpn", "h2", NULL};
    run_s_client(t, ec_a.cert, args, &r);
    cr_assert_neq(r.status, 0);
    cr_assert_eq(r.version, 0);
    tls_ctx_unref(t);
}
