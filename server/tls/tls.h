/* SPDX-License-Identifier: MIT */
/*
 * TLS for the server: certificates (cert.c), the BoringSSL context (ctx.c), the handshake and
 * record layer driven by the event loop over memory buffers (session.c), and the switch to
 * kernel TLS (ktls.c). This header is the module's public face; the rest is private to it.
 */
#ifndef SERVER_TLS_H
#define SERVER_TLS_H

/** Name and version of the TLS library linked in (BoringSSL). */
const char *tls_library_version(void);

#endif
