/* SPDX-License-Identifier: MIT */
/*
 * The WebDAV request headers other than If (RFC 4918 §10): Depth, Overwrite, Timeout,
 * Destination and Lock-Token, read from a parsed request head.
 *
 * Errors are -errno; the caller maps them to statuses: -EINVAL → 400, -EXDEV → 502 (Destination
 * on another server, RFC 4918 §9.8.5, §9.9.4), -ENAMETOOLONG → 414 (or 400: the destination
 * path does not fit the caller's buffer). A header that must appear at most once and appears
 * twice is -EINVAL (RFC 9110 §5.3: a singleton field may not be repeated).
 */
#ifndef DAV_DAVHDR_H
#define DAV_DAVHDR_H

#include <stdint.h>

#include "parse.h"
#include "path.h"

enum dav_depth {
    DAV_DEPTH_0,
    DAV_DEPTH_1,
    DAV_DEPTH_INFINITY,
};

/**
 * Depth (§10.2): "0", "1" or "infinity" (case-insensitive, as ABNF literals are). Sets *depth,
 * to 'dflt' when the header is absent (each method has its own default: §9.1 PROPFIND and §9.8.3
 * COPY infinity, §9.10.3 LOCK infinity...). Returns 0, or -EINVAL for any other value, an empty
 * one or a repeated header. Whether a method accepts the value is the method's business.
 */
int dav_hdr_depth(const struct http_request *req, enum dav_depth dflt, enum dav_depth *depth);

/**
 * Overwrite (§10.6): "T" or "F" (case-insensitive); absent means "T". Sets *overwrite.
 * Returns 0, or -EINVAL for any other value (including "true": see davhdr.c) or a repeated
 * header.
 */
int dav_hdr_overwrite(const struct http_request *req, bool *overwrite);

/**
 * Timeout (§10.7) for LOCK: the first acceptable element of the list ("Infinite" or
 * "Second-N" with N < 2^32, case-insensitive), in seconds, clamped to [1, max]; "Infinite" is
 * max. Every Timeout field counts, in order, as one list. Without an acceptable element
 * (absent, or only malformed or unknown elements) it is 'dflt' clamped to [1, max]. Never fails:
 * §10.7 lets the server ignore the header, so a malformed one is treated as absent, not 400.
 * 'max' must be at least 1.
 */
uint32_t dav_hdr_timeout(const struct http_request *req, uint32_t dflt, uint32_t max);

/**
 * Destination (§10.3) for COPY and MOVE: Simple-ref = absolute-URI | path-absolute ["?" query].
 * The path is normalised exactly like a request target (http_path_normalize: decoded once,
 * dot-segments applied, ".." above the root refused) into out[0..outsz), *res filled as there;
 * a query is dropped, a fragment refused. An absolute URI must be http or https with the
 * request's scheme ('tls' says which the connection uses), and its authority must equal the
 * request's Host: same host (case-insensitive) and same port, a missing port being the scheme's
 * default (80/443).
 * Returns 0; -EINVAL when absent, repeated, malformed (also "//x", userinfo, an empty host) or
 * climbing above the root; -EXDEV when it names another server (other scheme, host or port, a
 * non-http(s) absolute URI, or any authority when the request has no Host); -ENAMETOOLONG when
 * the path does not fit in outsz. On error out holds garbage and *res is untouched.
 */
int dav_hdr_destination(const struct http_request *req, bool tls, char *out, size_t outsz,
                        struct http_path *res);

/**
 * Lock-Token (§10.5) for UNLOCK: Coded-URL = "<" absolute-URI ">". Sets *token to the
 * absolute-URI without the brackets (a slice of the request buffer). Returns 0, or -EINVAL when
 * absent, repeated or malformed.
 */
int dav_hdr_lock_token(const struct http_request *req, struct iov *token);

/**
 * Is 's' an absolute-URI (RFC 3986 §4.3: scheme ":" hier-part ["?" query], no fragment)? The
 * characters after the scheme are checked against RFC 3986's set (unreserved, sub-delims,
 * ":", "@", "/", "?", "[", "]" and well-formed "%" escapes), not their arrangement.
 */
bool dav_hdr_is_absolute_uri(struct iov s);

#endif
