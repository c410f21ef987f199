/* SPDX-License-Identifier: MIT */
/* Status codes and their reason phrases (RFC 9110 §15). */
#ifndef HTTP_STATUS_H
#define HTTP_STATUS_H

/** Reason phrase for a status code, "Unknown" for codes we never send. */
const char *http_status_reason(int status);

#endif
