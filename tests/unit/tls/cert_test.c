/* SPDX-License-Identifier: MIT */
/*
 * Tests for server/tls/cert.c: the generated default certificate (files, modes, reuse, contents
 * parsed back with BoringSSL's X509 API) and the fingerprint, checked against a SHA-256 of the
 * DER decoded here from the PEM text and, when the openssl tool is installed, against
 * `openssl x509 -fingerprint -sha256`.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <openssl/base64.h>
#include <openssl/ec.h>
#include <openssl/ec_key.h>
#include <openssl/evp.h>
#include <openssl/nid.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "tls/cert.h"

static char dir[64];
static char cert_path[PATH_MAX];
static char key_path[PATH_MAX];
static char fp[TLS_FINGERPRINT_LEN];

static void setup(void)
{
    log_set_level(LOG_WARN);
    strcpy(dir, "/tmp/ff-cert-test-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
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
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(cert, .init = setup, .fini = teardown);

static mode_t mode_of(const char *path)
{
    struct stat st;
    cr_assert_eq(stat(path, &st), 0, "stat %s: %s", path, strerror(errno));
    return st.st_mode & 07777;
}

static void read_file(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "open %s", path);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* The DER inside the first CERTIFICATE block, decoded by hand from the PEM text. */
static size_t pem_to_der(const char *pem, uint8_t *der, size_t cap)
{
    const char *begin = strstr(pem, "-----BEGIN CERTIFICATE-----\n");
    cr_assert_not_null(begin);
    begin += strlen("-----BEGIN CERTIFICATE-----\n");
    const char *end = strstr(begin, "-----END CERTIFICATE-----");
    cr_assert_not_null(end);
    char b64[8192];
    size_t n = 0;
    for (const char *p = begin; p < end; p++) {
        if (*p != '\n')
            b64[n++] = *p;
        cr_assert_lt(n, sizeof(b64));
    }
    size_t len = 0;
    cr_assert(EVP_DecodeBase64(der, &len, cap, (const uint8_t *)b64, n));
    return len;
}

static void expected_fingerprint(const char *path, char out[TLS_FINGERPRINT_LEN])
{
    char pem[16384];
    uint8_t der[8192];
    uint8_t md[SHA256_DIGEST_LENGTH];

    read_file(path, pem, sizeof(pem));
    size_t len = pem_to_der(pem, der, sizeof(der));
    SHA256(der, len, md);
    char *p = out;
    for (size_t i = 0; i < sizeof(md); i++)
        p += sprintf(p, i ? ":%02X" : "%02X", md[i]);
}

static X509 *load_cert(const char *path)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    cr_assert_not_null(x);
    return x;
}

static EVP_PKEY *load_key(const char *path)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    cr_assert_not_null(k);
    return k;
}

static int ensure(void)
{
    return tls_cert_ensure(dir, cert_path, sizeof(cert_path), key_path, sizeof(key_path), fp);
}

Test(cert, generates_files_with_modes)
{
    char want[PATH_MAX];

    cr_assert_eq(ensure(), 1);
    snprintf(want, sizeof(want), "%s/tls/cert.pem", dir);
    cr_assert_str_eq(cert_path, want);
    snprintf(want, sizeof(want), "%s/tls/key.pem", dir);
    cr_assert_str_eq(key_path, want);
    snprintf(want, sizeof(want), "%s/tls", dir);
    cr_assert_eq(mode_of(want), 0700);
    cr_assert_eq(mode_of(key_path), 0600);
    cr_assert_eq(mode_of(cert_path), 0644);
}

Test(cert, modes_do_not_depend_on_umask)
{
    umask(0277);
    cr_assert_eq(ensure(), 1);
    cr_assert_eq(mode_of(key_path), 0600);
    cr_assert_eq(mode_of(cert_path), 0644);
    umask(0);
    teardown();
    cr_assert_eq(mkdir(dir, 0755), 0);
    cr_assert_eq(ensure(), 1);
    char tls[PATH_MAX];
    snprintf(tls, sizeof(tls), "%s/tls", dir);
    cr_assert_eq(mode_of(tls), 0700);
    cr_assert_eq(mode_of(key_path), 0600);
}

Test(cert, no_temporary_files_left)
{
    char tls[PATH_MAX];

    cr_assert_eq(ensure(), 1);
    snprintf(tls, sizeof(tls), "%s/tls", dir);
    FILE *p = NULL;
    char cmd[PATH_MAX + 32];
    snprintf(cmd, sizeof(cmd), "ls -A '%s'", tls);
    p = popen(cmd, "r");
    cr_assert_not_null(p);
    char out[256] = "";
    size_t n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = '\0';
    pclose(p);
    cr_assert_str_eq(out, "cert.pem\nkey.pem\n");
}

Test(cert, reused_on_second_call)
{
    char first[TLS_FINGERPRINT_LEN];
    char pem1[8192];
    char pem2[8192];

    cr_assert_eq(ensure(), 1);
    strcpy(first, fp);
    read_file(key_path, pem1, sizeof(pem1));
    memset(fp, 0, sizeof(fp));
    cr_assert_eq(ensure(), 0);
    cr_assert_str_eq(fp, first);
    read_file(key_path, pem2, sizeof(pem2));
    cr_assert_str_eq(pem1, pem2);
}

Test(cert, half_pair_is_regenerated)
{
    char first[TLS_FINGERPRINT_LEN];

    cr_assert_eq(ensure(), 1);
    strcpy(first, fp);
    cr_assert_eq(unlink(key_path), 0);
    cr_assert_eq(ensure(), 1);
    cr_assert_str_neq(fp, first);
    strcpy(first, fp);
    cr_assert_eq(unlink(cert_path), 0);
    cr_assert_eq(ensure(), 1);
    cr_assert_str_neq(fp, first);
    /* and the new pair belongs together */
    X509 *x = load_cert(cert_path);
    EVP_PKEY *k = load_key(key_path);
    cr_assert_eq(X509_check_private_key(x, k), 1);
    EVP_PKEY_free(k);
    X509_free(x);
}

Test(cert, fingerprint_format_and_value)
{
    char want[TLS_FINGERPRINT_LEN];
    char again[TLS_FINGERPRINT_LEN];

    cr_assert_eq(ensure(), 1);
    cr_assert_eq(strlen(fp), 95);
    for (size_t i = 0; i < 95; i++) {
        if (i % 3 == 2)
            cr_assert_eq(fp[i], ':', "at %zu: %s", i, fp);
        else
            cr_assert(strchr("0123456789ABCDEF", fp[i]) && fp[i], "at %zu: %s", i, fp);
    }
    expected_fingerprint(cert_path, want);
    cr_assert_str_eq(fp, want);
    cr_assert_eq(tls_cert_fingerprint(cert_path, again), 0);
    cr_assert_str_eq(again, want);
}

Test(cert, fingerprint_matches_openssl_tool)
{
    if (access("/usr/bin/openssl", X_OK) != 0)
        cr_skip_test("openssl tool not installed");
    cr_assert_eq(ensure(), 1);
    char cmd[PATH_MAX + 64];
    snprintf(cmd, sizeof(cmd), "openssl x509 -noout -fingerprint -sha256 -in '%s'", cert_path);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    char out[256] = "";
    cr_assert_not_null(fgets(out, sizeof(out), p));
    cr_assert_eq(pclose(p), 0);
    out[strcspn(out, "\n")] = '\0';
    const char *eq = strchr(out, '=');
    cr_assert_not_null(eq, "%s", out);
    cr_assert_str_eq(eq + 1, fp);
}

Test(cert, openssl_tool_verifies_it_for_tls_servers)
{
    if (access("/usr/bin/openssl", X_OK) != 0)
        cr_skip_test("openssl tool not installed");
    cr_assert_eq(ensure(), 1);
    char cmd[3 * PATH_MAX];
    snprintf(cmd, sizeof(cmd),
             "openssl verify -purpose sslserver -verify_hostname localhost -verify_ip 127.0.0.1 "
             "-CAfile '%s' '%s' >/dev/null",
             cert_path, cert_path);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
}

Test(cert, fingerprint_errors)
{
    char out[TLS_FINGERPRINT_LEN];
    char path[PATH_MAX];

    snprintf(path, sizeof(path), "%s/missing.pem", dir);
    cr_assert_eq(tls_cert_fingerprint(path, out), -ENOENT);
    snprintf(path, sizeof(path), "%s/garbage.pem", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("not a certificate\n", f);
    fclose(f);
    cr_assert_eq(tls_cert_fingerprint(path, out), -EINVAL);
    /* a key file is not a certificate either */
    cr_assert_eq(ensure(), 1);
    cr_assert_eq(tls_cert_fingerprint(key_path, out), -EINVAL);
}

static bool has_name(GENERAL_NAMES *names, int type, const void *value, size_t len)
{
    for (size_t i = 0; i < sk_GENERAL_NAME_num(names); i++) {
        GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
        int t;
        ASN1_STRING *s = GENERAL_NAME_get0_value(gn, &t);
        if (t == type && (size_t)ASN1_STRING_length(s) == len &&
            memcmp(ASN1_STRING_get0_data(s), value, len) == 0)
            return true;
    }
    return false;
}

Test(cert, contents)
{
    cr_assert_eq(ensure(), 1);
    X509 *x = load_cert(cert_path);
    EVP_PKEY *key = load_key(key_path);

    cr_assert_eq(X509_get_version(x), X509_VERSION_3);
    cr_assert_eq(X509_get_signature_nid(x), NID_ecdsa_with_SHA256);

    /* EC P-256, the key file's key, and the signature is its own */
    EVP_PKEY *pub = X509_get_pubkey(x);
    cr_assert_eq(EVP_PKEY_id(pub), EVP_PKEY_EC);
    cr_assert_eq(EC_GROUP_get_curve_name(EC_KEY_get0_group(EVP_PKEY_get0_EC_KEY(pub))),
                 NID_X9_62_prime256v1);
    cr_assert_eq(X509_check_private_key(x, key), 1);
    cr_assert_eq(X509_verify(x, pub), 1);
    cr_assert_eq(X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)), 0);

    /* 128-bit positive serial */
    const ASN1_INTEGER *serial = X509_get0_serialNumber(x);
    cr_assert_eq(ASN1_STRING_type(serial), V_ASN1_INTEGER);
    cr_assert_eq(ASN1_STRING_length(serial), 16);

    /* validity: from about an hour ago for about ten years */
    int days = 0;
    int secs = 0;
    cr_assert(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x), NULL));
    long back = (long)days * 86400 + secs;
    cr_assert(back >= 3600 && back < 3600 + 120, "notBefore %ld s ago", back);
    cr_assert(ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x)));
    cr_assert(days >= 3649 && days <= 3650, "notAfter in %d days", days);

    /* CN = host name (or localhost) */
    char cn[256] = "";
    cr_assert_gt(
        X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn)), 0);
    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    bool host_ok = host[0] && strlen(host) <= 64 &&
                   strspn(host, "abcdefghijklmnopqrstuvwxyz"
                                "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                "0123456789-.") == strlen(host);
    cr_assert_str_eq(cn, host_ok ? host : "localhost");

    /* subjectAltName */
    int crit = -1;
    GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
    cr_assert_not_null(names);
    cr_assert_eq(crit, 0);
    static const uint8_t v4[4] = {127, 0, 0, 1};
    static const uint8_t v6[16] = {[15] = 1};
    cr_assert(has_name(names, GEN_DNS, "localhost", 9));
    cr_assert(has_name(names, GEN_IPADD, v4, sizeof(v4)));
    cr_assert(has_name(names, GEN_IPADD, v6, sizeof(v6)));
    if (host_ok)
        cr_assert(has_name(names, GEN_DNS, host, strlen(host)), "no DNS:%s", host);
    cr_assert_eq(sk_GENERAL_NAME_num(names), host_ok && strcmp(host, "localhost") != 0 ? 4u : 3u);
    GENERAL_NAMES_free(names);
    cr_assert_eq(X509_check_host(x, "localhost", 9, 0, NULL), 1);
    cr_assert_eq(X509_check_ip_asc(x, "127.0.0.1", 0), 1);
    cr_assert_eq(X509_check_ip_asc(x, "::1", 0), 1);

    /* CA:FALSE (critical), digitalSignature only (critical), serverAuth */
    BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
    cr_assert_not_null(bc);
    cr_assert_eq(bc->ca, 0);
    cr_assert_eq(crit, 1);
    BASIC_CONSTRAINTS_free(bc);
    ASN1_BIT_STRING *ku = X509_get_ext_d2i(x, NID_key_usage, &crit, NULL);
    cr_assert_not_null(ku);
    cr_assert_eq(crit, 1);
    ASN1_BIT_STRING_free(ku);
    cr_assert_eq(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE);
    cr_assert_eq(X509_get_extended_key_usage(x), XKU_SSL_SERVER);
    cr_assert_eq(X509_check_ca(x), 0);

    EVP_PKEY_free(pub);
    EVP_PKEY_free(key);
    X509_free(x);
}

Test(cert, serials_differ)
{
    cr_assert_eq(ensure(), 1);
    X509 *a = load_cert(cert_path);
    cr_assert_eq(unlink(cert_path), 0);
    cr_assert_eq(ensure(), 1);
    X509 *b = load_cert(cert_path);
    cr_assert_neq(ASN1_INTEGER_cmp(X509_get0_serialNumber(a), X509_get0_serialNumber(b)), 0);
    X509_free(a);
    X509_free(b);
}

Test(cert, errors)
{
    char sub[PATH_MAX];

    /* the data directory must exist */
    snprintf(sub, sizeof(sub), "%s/nope", dir);
    cr_assert_eq(tls_cert_ensure(sub, cert_path, sizeof(cert_path), key_path, sizeof(key_path), fp),
                 -ENOENT);
    /* output buffers too small */
    char small[8];
    cr_assert_eq(tls_cert_ensure(dir, small, sizeof(small), key_path, sizeof(key_path), fp),
                 -ENAMETOOLONG);
    /* DATA/tls is a file */
    snprintf(sub, sizeof(sub), "%s/tls", dir);
    FILE *f = fopen(sub, "w");
    cr_assert_not_null(f);
    fclose(f);
    cr_assert_eq(ensure(), -ENOTDIR);
    cr_assert_eq(unlink(sub), 0);
    /* an unparsable certificate next to a key is not silently replaced */
    cr_assert_eq(ensure(), 1);
    f = fopen(cert_path, "w");
    cr_assert_not_null(f);
    fputs("garbage\n", f);
    fclose(f);
    cr_assert_eq(ensure(), -EINVAL);
    char text[64];
    read_file(cert_path, text, sizeof(text));
    cr_assert_str_eq(text, "garbage\n");
}
