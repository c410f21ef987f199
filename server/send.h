/* SPDX-License-Identifier: MIT */
/*
 * Writing a response plan (struct out, conn.h): memory segments with send, file segments with
 * linked io_uring splices file -> pipe -> socket, so file bytes never enter userspace.
 */
#ifndef SERVER_SEND_H
#define SERVER_SEND_H

#include "conn.h"

/** Submit the next operations for c->out, or finish the response when nothing is left. */
void send_push(struct conn *c);

/** Completion of an OP_SEND, OP_SPLICE_IN or OP_SPLICE_OUT of c. */
void send_on_cqe(struct conn *c, const struct io_uring_cqe *cqe);

/** Drop c->out with its file and pipe (no-op without one). Writes the access-log line when a
 *  response was started. */
void send_release(struct conn *c);

#endif
