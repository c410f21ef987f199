/* SPDX-License-Identifier: MIT */
/* Entity tags: our strong validator for files, and matching against If-Match style lists. */
#ifndef HTTP_ETAG_H
#define HTTP_ETAG_H

#include <sys/types.h>

#include "iov.h"

#define HTTP_ETAG_MAX 64

/**
 * Strong ETag for a file from inode, size and mtime in nanoseconds, quotes included.
 * Any write that changes size or mtime, or replacing the file (new inode), changes it.
 * Returns the length written to out (NUL terminated).
 */
size_t http_etag_format(char out[HTTP_ETAG_MAX], uint64_t ino, uint64_t size, int64_t mtime_ns);

/**
 * Does the field value 'list' ("*" or a comma-separated list of entity-tags) match 'etag'?
 * strong: RFC 9110 §8.8.3.2 strong comparison (weak tags never match); else weak comparison.
 * "*" matches any existing representation; an empty 'etag' means there is none, so nothing
 * matches it, not even "*". A malformed list matches nothing.
 */
bool http_etag_match(struct iov list, struct iov etag, bool strong);

#endif
