/* SPDX-License-Identifier: MIT */
/*
 * The server's certificate files: the self-signed default in DATA/tls/ and SHA-256
 * fingerprints for the start-up message.
 *
 * Without --cert/--key the server uses DATA/tls/cert.pem and DATA/tls/key.pem, generating a
 * self-signed EC P-256 certificate for localhost, 127.0.0.1, ::1 and the host name on the first
 * start. Loading the files into a TLS context is ctx.c's job, not this file's.
 *
 * Known gaps: the generated certificate is never renewed (it is valid for ten years), and a
 * host name that is not a plain DNS name is left out of subjectAltName.
 */
#ifndef TLS_CERT_H
#define TLS_CERT_H

#include <stddef.h>

/* "AB:CD:...": 32 bytes as two hex digits each, 31 colons, the NUL. */
#define TLS_FINGERPRINT_LEN 96

/**
 * Make sure data_dir/tls/cert.pem and data_dir/tls/key.pem exist and return their paths.
 *
 * When both files exist they are reused as they are. Otherwise a new key and self-signed
 * certificate are generated (EC P-256, ECDSA-SHA256, valid from an hour ago for ten years) and
 * written atomically: the key with mode 0600, the certificate with 0644, data_dir/tls created
 * with mode 0700. data_dir itself must exist.
 *
 * cert_path and key_path (caller-owned, cert_size and key_size bytes) receive the paths; the
 * certificate's SHA-256 fingerprint goes to fingerprint, formatted as by tls_cert_fingerprint().
 * Failures are logged. The certificate is written last, so a crash half-way leaves no
 * certificate and the next call generates a fresh pair. Two processes generating at the same
 * time may end up with a mismatched pair (tls_ctx_new() then refuses it).
 *
 * Returns 1 when the files were generated, 0 when reused, -ENAMETOOLONG when a path does not
 * fit, -EINVAL when the existing certificate cannot be parsed, -ENOMEM, or another -errno from
 * the file system.
 */
int tls_cert_ensure(const char *data_dir, char *cert_path, size_t cert_size, char *key_path,
                    size_t key_size, char fingerprint[TLS_FINGERPRINT_LEN]);

/**
 * SHA-256 fingerprint of the DER encoding of the first certificate in the PEM file cert_path,
 * as colon-separated uppercase hex pairs ("AB:CD:..."), the same digits as
 * `openssl x509 -noout -fingerprint -sha256` prints. out is caller-owned.
 *
 * Returns 0, -EINVAL when the file holds no PEM certificate, or -errno when it cannot be read.
 */
int tls_cert_fingerprint(const char *cert_path, char out[TLS_FINGERPRINT_LEN]);

#endif
