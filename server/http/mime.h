/* SPDX-License-Identifier: MIT */
/* Content-Type from a file name's extension. */
#ifndef HTTP_MIME_H
#define HTTP_MIME_H

#include "iov.h"

/**
 * Media type for the name's extension (case-insensitive), "application/octet-stream" if unknown.
 * 'name' may be a path: only the text after the last '.' of the last segment counts, and a name
 * whose dots are all leading (".bashrc") has no extension. Text types include "; charset=utf-8".
 * Returns a static string.
 */
const char *http_mime_type(struct iov name);

#endif
