/* SPDX-License-Identifier: MIT */
/*
 * Request-target → path relative to a root that it cannot climb above.
 *
 * Accepts origin-form ("/a/b?q") and absolute-form ("http://host/a/b") targets (RFC 9112 §3.2).
 * The query is dropped. Each segment is percent-decoded once (so "%252e" is the literal name
 * "%2e"); "." segments vanish, ".." removes the previous segment, and a ".." at the root is
 * refused rather than clamped. A decoded NUL or "/" inside a segment ("%00", "%2f") is refused,
 * as is a malformed escape. Empty segments ("a//b") collapse. Escaped dots count as dots.
 */
#ifndef HTTP_PATH_H
#define HTTP_PATH_H

#include "iov.h"

struct http_path {
    size_t len;         /* bytes in buf before the NUL; 0 for the root itself */
    bool trailing_slash; /* the target ended in '/' (or is the root) */
};

/**
 * Normalise 'target' into out[0..outsz) as "seg/seg/seg" (no leading or trailing slash), NUL
 * terminated; the root becomes "" (callers open "." for it). 'target' is borrowed for the call.
 * Returns 0 and fills *res, or -400 for a malformed or escaping target (whatever outsz is), or
 * -414 when the normalised path and its NUL do not fit in outsz bytes. On error *res is untouched
 * and out holds garbage.
 */
int http_path_normalize(struct iov target, char *out, size_t outsz, struct http_path *res);

#endif
