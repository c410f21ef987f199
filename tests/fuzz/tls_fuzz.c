/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the server side of a TLS session over our buffers (server/tls/session.c):
 * arbitrary bytes from a client go through the record scanner and into BoringSSL's handshake,
 * fed in pieces whose sizes come from the input, the way recv completions would arrive. Checks
 * the session's buffer invariants after every step; BoringSSL's own parsing is exercised too,
 * but it is not what this target is for.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "tls/cert.h"
#include "tls/ctx.h"
#include "tls/session.h"

static struct tls_ctx *ctx;
static char dir[] = "/tmp/fastfile-tls-fuzz-XXXXXX";
static char cert[512], key[512];
static uint8_t in_buf[2 * TLS_RECORD_MAX + 4096];
static uint8_t out_buf[16 * (16384 + 256) + 4096];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The certificate is loaded into ctx; its files are not needed after the run. */
static void remove_files(void)
{
    char tls_dir[600];
    unlink(cert);
    unlink(key);
    snprintf(tls_dir, sizeof(tls_dir), "%s/tls", dir);
    rmdir(tls_dir);
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* Every refused input would log a line: keep the run fast. */
    log_set_level(LOG_ERROR);
    char fp[TLS_FINGERPRINT_LEN];
    if (!mkdtemp(dir) || tls_cert_ensure(dir, cert, sizeof(cert), key, sizeof(key), fp) < 0 ||
        tls_ctx_new(cert, key, &ctx) < 0) {
        fprintf(stderr, "tls_fuzz: no certificate\n");
        abort();
    }
    atexit(remove_files);
    return 0;
}

static void check_invariants(const struct tls_session *s)
{
    if (s->in_off > s->in_ready || s->in_ready > s->in_len || s->in_len > s->in_cap ||
        s->out_sent > s->out_len || s->out_len > s->out_cap)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tls_session s;
    SSL *ssl = tls_ctx_new_ssl(ctx);
    if (!ssl || tls_session_init(&s, ssl) < 0)
        abort();
    s.in = in_buf;
    s.in_cap = sizeof(in_buf);
    s.out = out_buf;
    s.out_cap = sizeof(out_buf);

    size_t pos = 0;
    while (pos < size) {
        /* The first byte of each step says how many of the following bytes arrive at once. */
        size_t n = (size_t)data[pos++] * 37 + 1;
        if (n > size - pos)
            n = size - pos;
        int rc = tls_session_feed(&s, data + pos, n);
        pos += n;
        check_invariants(&s);
        if (rc < 0)
            break;
        if (!s.handshake_done) {
            if (tls_session_handshake(&s) < 0)
                break;
        } else {
            uint8_t plain[16384];
            if (tls_session_read(&s, plain, sizeof(plain)) < 0)
                break;
        }
        check_invariants(&s);
        tls_session_in_compact(&s);
        /* What we would have sent is gone. */
        tls_session_sent(&s, tls_session_pending(&s));
    }
    tls_session_release(&s);
    return 0;
}
