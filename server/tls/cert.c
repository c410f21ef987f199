/* SPDX-License-Identifier: MIT */
/*
 * The self-signed default certificate in DATA/tls/ and certificate fingerprints (see cert.h).
 *
 * The key and certificate are built with BoringSSL's EVP and X509 APIs, encoded as PEM in
 * memory and written to a temporary file in the same directory that is fsynced and renamed over
 * the final name, so a reader never sees half a file. The key goes first and the certificate
 * last: "cert.pem exists" means "the pair is complete".
 *
 * The private key is secret: the PEM buffer is wiped here; the key inside the EVP_PKEY and any
 * buffer BoringSSL reallocated on the way are wiped by BoringSSL's OPENSSL_free, which clears
 * every allocation it releases.
 *
 * Not here: loading the files into an SSL_CTX (ctx.c), renewal of an expiring certificate.
 */
#include "tls/cert.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/obj.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#define CERT_VALID_DAYS 3650   /* about ten years */
#define CERT_BACKDATE_SEC 3600 /* tolerate clients whose clock is a little behind */
#define CERT_CN_MAX 64         /* RFC 5280 ub-common-name */
#define CERT_SERIAL_BYTES 16

static_assert(SHA256_DIGEST_LENGTH * 3 == TLS_FINGERPRINT_LEN, "fingerprint buffer size");

static void format_fingerprint(const uint8_t md[SHA256_DIGEST_LENGTH],
                               char out[TLS_FINGERPRINT_LEN])
{
    static const char hex[] = "0123456789ABCDEF";
    char *p = out;

    for (size_t i = 0; i < SHA256_DIGEST_LENGTH; i++) {
        if (i > 0)
            *p++ = ':';
        *p++ = hex[md[i] >> 4];
        *p++ = hex[md[i] & 0xf];
    }
    *p = '\0';
}

/* X509_digest hashes the certificate's DER encoding, which is what openssl x509 prints. */
static int cert_digest(const X509 *x, char out[TLS_FINGERPRINT_LEN])
{
    uint8_t md[SHA256_DIGEST_LENGTH];
    unsigned len = 0;

    if (!X509_digest(x, EVP_sha256(), md, &len) || len != sizeof(md))
        return -ENOMEM;
    format_fingerprint(md, out);
    return 0;
}

int tls_cert_fingerprint(const char *cert_path, char out[TLS_FINGERPRINT_LEN])
{
    int ret;
    X509 *x = NULL;
    FILE *f = fopen(cert_path, "re");

    if (!f) {
        ret = -errno;
        goto out;
    }
    x = PEM_read_X509(f, NULL, NULL, NULL);
    if (!x) {
        ret = -EINVAL;
        goto out;
    }
    ret = cert_digest(x, out);
out:
    X509_free(x);
    if (f)
        fclose(f);
    ERR_clear_error();
    return ret;
}

/* Letters, digits, '-' and '.': what a DNS subjectAltName may hold (RFC 5280 §4.2.1.6). */
static bool is_dns_name(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 253 || s[0] == '.' || s[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '.';
        if (!ok)
            return false;
    }
    return true;
}

/* Append a name of the given type to names; takes ownership of value (may be NULL: -ENOMEM). */
static int push_name(GENERAL_NAMES *names, int type, ASN1_STRING *value)
{
    if (!value)
        return -ENOMEM;
    GENERAL_NAME *gn = GENERAL_NAME_new();
    if (!gn) {
        ASN1_STRING_free(value);
        return -ENOMEM;
    }
    GENERAL_NAME_set0_value(gn, type, value);
    if (!sk_GENERAL_NAME_push(names, gn)) {
        GENERAL_NAME_free(gn);
        return -ENOMEM;
    }
    return 0;
}

static ASN1_STRING *ia5_string(const char *s)
{
    ASN1_IA5STRING *a = ASN1_IA5STRING_new();

    if (a && !ASN1_STRING_set(a, s, (int)strlen(s))) {
        ASN1_IA5STRING_free(a);
        a = NULL;
    }
    return a;
}

/* subjectAltName: DNS:localhost, DNS:<host> (if any), IP:127.0.0.1, IP:::1. */
static int add_alt_names(X509 *x, const char *host)
{
    int ret = -ENOMEM;
    GENERAL_NAMES *names = GENERAL_NAMES_new();

    if (!names)
        goto out;
    ret = push_name(names, GEN_DNS, ia5_string("localhost"));
    if (ret == 0 && host)
        ret = push_name(names, GEN_DNS, ia5_string(host));
    if (ret == 0)
        ret = push_name(names, GEN_IPADD, a2i_IPADDRESS("127.0.0.1"));
    if (ret == 0)
        ret = push_name(names, GEN_IPADD, a2i_IPADDRESS("::1"));
    if (ret < 0)
        goto out;
    /* Not critical: the subject is not empty (RFC 5280 §4.2.1.6). */
    if (!X509_add1_ext_i2d(x, NID_subject_alt_name, names, 0, X509V3_ADD_DEFAULT))
        ret = -ENOMEM;
out:
    GENERAL_NAMES_free(names);
    return ret;
}

/* basicConstraints CA:FALSE, keyUsage digitalSignature, extendedKeyUsage serverAuth. */
static int add_usage(X509 *x)
{
    int ret = -ENOMEM;
    BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new();
    ASN1_BIT_STRING *ku = ASN1_BIT_STRING_new();
    EXTENDED_KEY_USAGE *eku = sk_ASN1_OBJECT_new_null();

    if (!bc || !ku || !eku)
        goto out;
    bc->ca = 0;
    /* Bit 0 of KeyUsage is digitalSignature (RFC 5280 §4.2.1.3): all ECDHE_ECDSA needs. */
    if (!ASN1_BIT_STRING_set_bit(ku, 0, 1))
        goto out;
    if (!sk_ASN1_OBJECT_push(eku, OBJ_nid2obj(NID_server_auth)))
        goto out;
    if (!X509_add1_ext_i2d(x, NID_basic_constraints, bc, 1, X509V3_ADD_DEFAULT) ||
        !X509_add1_ext_i2d(x, NID_key_usage, ku, 1, X509V3_ADD_DEFAULT) ||
        !X509_add1_ext_i2d(x, NID_ext_key_usage, eku, 0, X509V3_ADD_DEFAULT))
        goto out;
    ret = 0;
out:
    BASIC_CONSTRAINTS_free(bc);
    ASN1_BIT_STRING_free(ku);
    EXTENDED_KEY_USAGE_free(eku);
    return ret;
}

/* A positive random serial (RFC 5280 §4.1.2.2: at most 20 octets, unpredictable is better). */
static int set_serial(X509 *x)
{
    int ret = -ENOMEM;
    uint8_t raw[CERT_SERIAL_BYTES];
    BIGNUM *bn = NULL;
    ASN1_INTEGER *serial = NULL;

    RAND_bytes(raw, sizeof(raw)); /* cannot fail in BoringSSL (it aborts instead) */
    raw[0] &= 0x7f;
    raw[0] |= 0x40; /* never zero, always 16 octets in DER */
    bn = BN_bin2bn(raw, sizeof(raw), NULL);
    if (!bn)
        goto out;
    serial = BN_to_ASN1_INTEGER(bn, NULL);
    if (!serial || !X509_set_serialNumber(x, serial))
        goto out;
    ret = 0;
out:
    ASN1_INTEGER_free(serial);
    BN_free(bn);
    return ret;
}

static EVP_PKEY *generate_key(void)
{
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, NULL);

    if (!pctx || EVP_PKEY_keygen_init(pctx) <= 0 ||
        EVP_PKEY_CTX_set_ec_paramgen_curve_nid(pctx, NID_X9_62_prime256v1) <= 0 ||
        EVP_PKEY_keygen(pctx, &pkey) <= 0) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    EVP_PKEY_CTX_free(pctx);
    return pkey;
}

/* A self-signed X.509 v3 certificate for pkey; *out is the caller's on success. */
static int build_cert(EVP_PKEY *pkey, X509 **out)
{
    int ret = -ENOMEM;
    char host[256] = "";
    const char *alt_host = NULL;
    const char *cn = "localhost";
    X509 *x = X509_new();

    if (!x)
        goto out;
    if (gethostname(host, sizeof(host) - 1) == 0 && is_dns_name(host) &&
        strcmp(host, "localhost") != 0)
        alt_host = host;
    if (alt_host && strlen(alt_host) <= CERT_CN_MAX)
        cn = alt_host;

    if (!X509_set_version(x, X509_VERSION_3))
        goto out;
    ret = set_serial(x);
    if (ret < 0)
        goto out;
    ret = -ENOMEM;
    X509_NAME *name = X509_get_subject_name(x);
    if (!X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_ASC, (const uint8_t *)cn, -1, -1,
                                    0))
        goto out;
    if (!X509_set_issuer_name(x, name))
        goto out;
    if (!X509_gmtime_adj(X509_getm_notBefore(x), -CERT_BACKDATE_SEC) ||
        !X509_time_adj_ex(X509_getm_notAfter(x), CERT_VALID_DAYS, 0, NULL))
        goto out;
    if (!X509_set_pubkey(x, pkey))
        goto out;
    ret = add_alt_names(x, alt_host);
    if (ret == 0)
        ret = add_usage(x);
    if (ret < 0)
        goto out;
    ret = -ENOMEM;
    if (!X509_sign(x, pkey, EVP_sha256()))
        goto out;
    *out = x;
    x = NULL;
    ret = 0;
out:
    X509_free(x);
    return ret;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/*
 * Replace path (in directory dir) with data: temporary file in dir, fsync, rename, fsync dir.
 * The mode is set with fchmod so that the umask does not change it.
 */
static int write_file_atomic(const char *dir, const char *path, const uint8_t *data, size_t len,
                             mode_t mode)
{
    int ret;
    int fd = -1;
    int dfd = -1;
    bool have_tmp = false;
    char tmp[PATH_MAX];

    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= sizeof(tmp)) {
        ret = -ENAMETOOLONG;
        goto out;
    }
    fd = mkostemp(tmp, O_CLOEXEC); /* created 0600: the key is never readable by others */
    if (fd < 0) {
        ret = -errno;
        goto out;
    }
    have_tmp = true;
    if (fchmod(fd, mode) < 0) {
        ret = -errno;
        goto out;
    }
    ret = write_all(fd, data, len);
    if (ret < 0)
        goto out;
    if (fsync(fd) < 0) {
        ret = -errno;
        goto out;
    }
    ret = close(fd);
    fd = -1;
    if (ret < 0) {
        ret = -errno;
        goto out;
    }
    if (rename(tmp, path) < 0) {
        ret = -errno;
        goto out;
    }
    have_tmp = false;
    /* Make the rename itself durable. */
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) < 0) {
        ret = -errno;
        goto out;
    }
    ret = 0;
out:
    if (dfd >= 0)
        close(dfd);
    if (fd >= 0)
        close(fd);
    if (have_tmp)
        unlink(tmp);
    return ret;
}

/* Wipe a memory BIO's contents (they may be a private key) and free it. */
static void bio_wipe_free(BIO *b)
{
    const uint8_t *data = NULL;
    size_t len = 0;

    if (!b)
        return;
    if (BIO_mem_contents(b, &data, &len) && len > 0)
        OPENSSL_cleanse((void *)data, len);
    BIO_free(b);
}

static int generate(const char *dir, const char *cert_path, const char *key_path,
                    char fingerprint[TLS_FINGERPRINT_LEN])
{
    int ret = -ENOMEM;
    EVP_PKEY *pkey = NULL;
    X509 *x = NULL;
    BIO *key_pem = NULL;
    BIO *cert_pem = NULL;
    const uint8_t *data;
    size_t len;

    pkey = generate_key();
    if (!pkey)
        goto out;
    ret = build_cert(pkey, &x);
    if (ret < 0)
        goto out;
    ret = -ENOMEM;
    key_pem = BIO_new(BIO_s_mem());
    cert_pem = BIO_new(BIO_s_mem());
    if (!key_pem || !cert_pem)
        goto out;
    /* PKCS#8 "PRIVATE KEY", unencrypted: the file mode is the protection. */
    if (!PEM_write_bio_PrivateKey(key_pem, pkey, NULL, NULL, 0, NULL, NULL) ||
        !PEM_write_bio_X509(cert_pem, x))
        goto out;
    if (!BIO_mem_contents(key_pem, &data, &len))
        goto out;
    ret = write_file_atomic(dir, key_path, data, len, 0600);
    if (ret < 0)
        goto out;
    ret = -ENOMEM;
    if (!BIO_mem_contents(cert_pem, &data, &len))
        goto out;
    ret = write_file_atomic(dir, cert_path, data, len, 0644);
    if (ret < 0)
        goto out;
    ret = cert_digest(x, fingerprint);
out:
    bio_wipe_free(key_pem);
    BIO_free(cert_pem);
    X509_free(x);
    EVP_PKEY_free(pkey);
    ERR_clear_error();
    return ret;
}

/* 1 when path exists, 0 when it does not, -errno when that cannot be told. */
static int file_exists(const char *path, struct stat *st)
{
    if (stat(path, st) == 0)
        return 1;
    return errno == ENOENT ? 0 : -errno;
}

/* dir with mode 0700, created if missing. */
static int make_private_dir(const char *dir)
{
    struct stat st;

    if (mkdir(dir, 0700) == 0) {
        /* The umask may have taken bits away; 0700 is what we need to write into it. */
        return chmod(dir, 0700) < 0 ? -errno : 0;
    }
    if (errno != EEXIST)
        return -errno;
    if (stat(dir, &st) < 0)
        return -errno;
    return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

static int join(char *out, size_t size, const char *dir, const char *name)
{
    int n = snprintf(out, size, "%s/%s", dir, name);
    return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int tls_cert_ensure(const char *data_dir, char *cert_path, size_t cert_size, char *key_path,
                    size_t key_size, char fingerprint[TLS_FINGERPRINT_LEN])
{
    int ret;
    int have_cert;
    int have_key;
    char dir[PATH_MAX];
    struct stat st;

    ret = join(dir, sizeof(dir), data_dir, "tls");
    if (ret == 0)
        ret = join(cert_path, cert_size, dir, "cert.pem");
    if (ret == 0)
        ret = join(key_path, key_size, dir, "key.pem");
    if (ret < 0)
        goto out;
    ret = make_private_dir(dir);
    if (ret < 0)
        goto out;

    have_key = file_exists(key_path, &st);
    if (have_key < 0) {
        ret = have_key;
        goto out;
    }
    if (have_key && (st.st_mode & 077))
        log_warn("event=tls_key_permissions file=%s mode=%03o hint=chmod_600", key_path,
                 (unsigned)(st.st_mode & 0777));
    have_cert = file_exists(cert_path, &st);
    if (have_cert < 0) {
        ret = have_cert;
        goto out;
    }
    if (have_cert && have_key) {
        ret = tls_cert_fingerprint(cert_path, fingerprint);
        goto out;
    }

    /* Half a pair (a crash, or someone deleted one): start over, certificate out first. */
    if (have_cert && unlink(cert_path) < 0) {
        ret = -errno;
        goto out;
    }
    ret = generate(dir, cert_path, key_path, fingerprint);
    if (ret < 0)
        goto out;
    log_info("event=tls_cert_generated file=%s sha256=%s", cert_path, fingerprint);
    ret = 1;
out:
    if (ret < 0)
        log_error("event=tls_cert_ensure_failed data=%s err=%d reason=\"%s\"", data_dir, ret,
                  strerror(-ret));
    return ret;
}
