/* SPDX-License-Identifier: MIT */
/*
 * Streaming writer for 207 Multi-Status bodies (RFC 4918 §13, §14.16) and for the lock XML of
 * PROPFIND and LOCK responses (§14.1, §15.8, §15.10).
 *
 * The writer keeps no more than its position in the document and a small buffer: bytes reach
 * the caller's sink at the end of every response (and of the document), or sooner when the
 * buffer fills, so memory does not grow with the number of responses and the writer never
 * allocates. A writer abandoned midway may keep the last bytes of an unfinished response. Misuse of the call order is a bug and is asserted; data problems (a
 * name that is not an XML name, a namespace or text that XML cannot carry) are -EINVAL and write
 * nothing. The first error from the sink is sticky: every later call returns it and writes
 * nothing more, so a caller may check only the last call.
 *
 * Prefixes: D for DAV:, oc and nc for the ownCloud and Nextcloud namespaces (declared on the
 * root, as Nextcloud does, because some sync clients match on them); any other namespace gets
 * prefix "x" declared on the property element itself. No default namespace is ever declared, so
 * a property in no namespace is written without a prefix and a dead property value from dav/xml
 * (struct dav_xml_value) reads back the same.
 */
#ifndef DAV_MULTISTATUS_H
#define DAV_MULTISTATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iov.h"
#include "xml.h"

/** Sink: take all n bytes or return a negative errno. May be called many times per call. */
typedef int (*dav_ms_write_fn)(void *ctx, const void *p, size_t n);

enum dav_ms_state {
    DAV_MS_START,     /* nothing written */
    DAV_MS_DOC,       /* in <multistatus>, between responses */
    DAV_MS_RESPONSE,  /* after <href>, nothing else yet */
    DAV_MS_PROPSTAT,  /* in <propstat><prop> */
    DAV_MS_PROPSTATS, /* after at least one </propstat> */
    DAV_MS_STATUS,    /* after a response-level <status> */
    DAV_MS_DONE,
};

#define DAV_MS_BUF 4096

struct dav_ms {
    dav_ms_write_fn write;
    void *ctx;
    enum dav_ms_state state;
    int propstat_status; /* written at the end of the propstat (§14.22: prop, then status) */
    const char *propstat_pre; /* its precondition (§14.22: then error), NULL: none */
    int err;             /* first sink error, sticky */
    size_t len;          /* bytes in buf, not yet given to the sink */
    char buf[DAV_MS_BUF];
};

#define DAV_MS_TIMEOUT_INFINITE UINT64_MAX

/** A lock as lockdiscovery shows it (RFC 4918 §14.1). */
struct dav_ms_lock {
    bool exclusive;                    /* else shared */
    bool depth_infinity;               /* else depth 0 */
    const struct dav_xml_value *owner; /* NULL: no <owner> */
    uint64_t timeout;                  /* seconds left, or DAV_MS_TIMEOUT_INFINITE */
    struct iov token;                  /* the lock token URI, e.g. "urn:uuid:…" */
    struct iov root;                   /* path of the lock root, not yet percent-encoded */
};

/** Prepare a writer that sends everything to write(ctx, …). Writes nothing. */
void dav_ms_init(struct dav_ms *ms, dav_ms_write_fn write, void *ctx);

/** The XML declaration and <D:multistatus …>. Returns 0 or the sink's error. */
int dav_ms_begin(struct dav_ms *ms);

/**
 * <D:response><D:href>path</D:href>: path is the raw (decoded) path, percent-encoded here:
 * every byte but unreserved characters (RFC 3986 §2.3) and '/'. Returns 0 or the sink's error.
 */
int dav_ms_response_begin(struct dav_ms *ms, struct iov path);

/**
 * Start a propstat group whose properties all get status (200, 403, 404, 424, …). Follow with
 * dav_ms_prop_* calls, then dav_ms_propstat_end. Returns 0 or the sink's error.
 */
int dav_ms_propstat_begin(struct dav_ms *ms, int status);

/**
 * The same with a <D:error> holding the DAV: precondition element named precondition after the
 * status (RFC 4918 §14.22; e.g. cannot-modify-protected-property, §9.2.1). precondition must
 * be a static string. Returns 0, -EINVAL (not an XML name; nothing written) or the sink's error.
 */
int dav_ms_propstat_begin_error(struct dav_ms *ms, int status, const char *precondition);

/** An empty property element: propname answers, and properties not found. 0, -EINVAL or sink's. */
int dav_ms_prop_empty(struct dav_ms *ms, const struct dav_xml_name *name);

/**
 * A property with a text value, escaped here. Bytes that XML 1.0 cannot carry (control
 * characters, invalid UTF-8) are written as U+FFFD: live properties such as a displayname come
 * from file names, which may hold them. Returns 0, -EINVAL (bad name) or the sink's error.
 */
int dav_ms_prop_text(struct dav_ms *ms, const struct dav_xml_name *name, struct iov text);

/**
 * A property of the server's own in DAV: (a live property), whose local name the caller
 * vouches for, so it is not checked again: value escaped as text, or written as it is when
 * is_xml (a fragment of the server's own, such as <D:collection/>); empty: an empty element.
 * Returns 0 or the sink's error.
 */
int dav_ms_prop_live(struct dav_ms *ms, struct iov local, struct iov value, bool is_xml);

/**
 * A property whose value is an XML fragment as dav_xml parses it (struct dav_xml_value), such as
 * a stored dead property; the fragment is written as it is and must come from dav_xml, and the
 * value's xml:lang goes on the property element. Returns 0, -EINVAL (bad name or lang) or the
 * sink's error.
 */
int dav_ms_prop_xml(struct dav_ms *ms, const struct dav_xml_name *name,
                    const struct dav_xml_value *value);

/** <D:lockdiscovery> with one <D:activelock> per lock, as a property. 0, -EINVAL or sink's. */
int dav_ms_prop_lockdiscovery(struct dav_ms *ms, const struct dav_ms_lock *locks, size_t n);

/** <D:supportedlock>: exclusive and shared write locks, as a property. 0 or the sink's error. */
int dav_ms_prop_supportedlock(struct dav_ms *ms);

/** </D:prop><D:status>HTTP/1.1 …</D:status></D:propstat>. Returns 0 or the sink's error. */
int dav_ms_propstat_end(struct dav_ms *ms);

/**
 * A response-level status instead of propstats (DELETE, COPY, MOVE, LOCK failures on members,
 * RFC 4918 §9.6.1, §9.8.8), with an optional <D:error> holding the DAV: precondition element
 * named by precondition (NULL: none), which holds <D:href>href</D:href> if href.base is not NULL
 * (lock-token-submitted, §16). Returns 0, -EINVAL (bad precondition name) or the sink's error.
 */
int dav_ms_response_status(struct dav_ms *ms, int status, const char *precondition,
                           struct iov href);

/** </D:response>. Returns 0 or the sink's error. */
int dav_ms_response_end(struct dav_ms *ms);

/** </D:multistatus>. Returns 0 or the sink's error. */
int dav_ms_end(struct dav_ms *ms);

/**
 * The whole body of a successful LOCK response (§9.10.1): <D:prop> with the lockdiscovery of
 * the one lock. Use on a writer that has written nothing; it is done afterwards. Returns 0,
 * -EINVAL or the sink's error.
 */
int dav_ms_lock_body(struct dav_ms *ms, const struct dav_ms_lock *lock);

#endif
