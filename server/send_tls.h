/* SPDX-License-Identifier: MIT */
/*
 * Writing a response plan over userspace TLS: memory segments and file bytes are encrypted by
 * BoringSSL into the session's output buffer in whole 16 KiB records and sent in large batches.
 * File bytes are read with io_uring into a reused buffer; the next read runs while the previous
 * batch is being sent.
 */
#ifndef SERVER_SEND_TLS_H
#define SERVER_SEND_TLS_H

#include "conn.h"

/** Encrypt and send as much of c->out as the buffers allow; finish the response at the end. */
void send_tls_push(struct conn *c);

/** Completion of the OP_TLS_READ of c: bytes read into out->plain, or -errno. */
void send_tls_on_read(struct conn *c, int res);

#endif
