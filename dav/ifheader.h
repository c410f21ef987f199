/* SPDX-License-Identifier: MIT */
/*
 * The WebDAV If request header (RFC 4918 §10.4): parsing into lists of conditions, evaluation
 * against the current state of the resources it names, and the lock tokens it submits (§7.5,
 * §10.4.1: a lock token is submitted by appearing anywhere in the If header).
 *
 * Parsing is complete and bounded: the whole value is checked against the grammar of §10.4.2
 * (No-tag-list or Tagged-list productions, never both), with at most DAV_IF_MAX_LEN bytes,
 * DAV_IF_MAX_LISTS lists, DAV_IF_MAX_CONDS conditions in all and DAV_IF_MAX_LIST_CONDS in one
 * list. Resource tags (absolute URIs or absolute paths) are normalised with http_path_normalize
 * into the same root-relative form as request targets; an absolute URI's authority is accepted
 * whatever it is and only its path is used (the header names resources, it does not route the
 * request; a tag naming another server's resource is then judged by our resource of that path,
 * which at worst makes a list false that the other server could have made true).
 *
 * Entity tags are compared with the strong comparison of RFC 9110 §8.8.3.2, which §10.4.4
 * allows: the If header guards writes, like If-Match (RFC 9110 §13.1.1), and our validators are
 * strong, so a weak tag in the header never matches (and "Not [W/...]" is always true).
 * Entity-tags may contain SP and HTAB inside the quotes (RFC 2616's quoted-string, which §10.4's
 * own examples use); such tags parse but never match one of ours.
 */
#ifndef DAV_IFHEADER_H
#define DAV_IFHEADER_H

#include <stdbool.h>
#include <stdint.h>

#include "iov.h"

#define DAV_IF_MAX_LEN 8192      /* bytes in the field value; it arrives in the request head */
#define DAV_IF_MAX_LISTS 128     /* davfs2 tags one list per locked member of a moved folder */
#define DAV_IF_MAX_CONDS 256     /* conditions in the whole header */
#define DAV_IF_MAX_LIST_CONDS 64 /* conditions in one list */

enum dav_if_cond_kind {
    DAV_IF_TOKEN, /* a State-token: Coded-URL */
    DAV_IF_ETAG,  /* "[" entity-tag "]" */
};

struct dav_if_cond {
    struct iov value; /* TOKEN: the absolute-URI between '<' and '>'; ETAG: the entity-tag with
                         its quotes and any "W/" */
    enum dav_if_cond_kind kind;
    bool negated; /* prefixed with "Not" */
};

struct dav_if_list {
    int32_t resource; /* offset of the tag's normalised path in dav_if.paths, -1 when untagged */
    uint16_t first;   /* conds[first .. first + count) */
    uint16_t count;   /* at least 1 */
};

/*
 * A parsed If header. Caller-owned storage with no pointers into itself (it may be copied);
 * the slices in conds borrow the field value given to dav_if_parse, which must outlive it.
 */
struct dav_if {
    bool tagged; /* Tagged-list productions; else No-tag-lists */
    uint16_t n_lists;
    uint16_t n_conds;
    struct dav_if_list lists[DAV_IF_MAX_LISTS];
    struct dav_if_cond conds[DAV_IF_MAX_CONDS];
    /* Normalised resource tags, each NUL terminated. A normalised path is never longer than its
     * tag (decoding and dot removal only shrink), and a tag has at least its "<>", so the
     * value's length bounds the space needed. */
    char paths[DAV_IF_MAX_LEN];
};

/*
 * What evaluation needs to know about resources. 'path' is a normalised root-relative path
 * (the form of http_path_normalize, "" for the root), NUL terminated, borrowed for the call.
 * Callbacks run synchronously inside dav_if_eval and may be called several times per path.
 */
struct dav_if_ops {
    /* Current entity-tag of 'path' with its quotes into *etag (borrowed until the next call of
     * either callback), or an empty slice when the path is unmapped or has no entity-tag.
     * Returns 0, or -errno to abort the evaluation with that error. */
    int (*etag)(void *ctx, const char *path, struct iov *etag);
    /* Is 'token' (a Coded-URL's absolute-URI, without the brackets) a current lock's token whose
     * scope covers 'path' (§10.4.4: "anywhere in the scope of the lock")? Called for unmapped
     * paths too: whether a depth-infinity lock covers an unmapped member is the lock manager's
     * call. Returns 1 for yes, 0 for no, or -errno to abort the evaluation. */
    int (*lock_covers)(void *ctx, const char *path, struct iov token);
};

/**
 * Parse the field value 'value' (leading and trailing OWS already removed, as struct
 * http_header has it) into *h. 'value' is borrowed for as long as *h is used.
 * Returns 0, or -EINVAL for a value that does not match the grammar of RFC 4918 §10.4.2
 * (including an empty value, an empty list "()", mixed tagged and untagged lists, a resource
 * tag that is not an http(s) URI or absolute path or that climbs above the root) or that
 * exceeds a DAV_IF_MAX_* limit. The caller answers 400 for -EINVAL. On error *h is garbage.
 */
int dav_if_parse(struct dav_if *h, struct iov value);

/**
 * The normalised path a list applies to: its resource tag's, or NULL for an untagged list
 * (which applies to the request-URI).
 */
const char *dav_if_list_resource(const struct dav_if *h, const struct dav_if_list *l);

/**
 * Evaluate *h per RFC 4918 §10.4.3–§10.4.4: untagged lists apply to 'request_path' (the
 * request-URI, normalised), tagged lists to their resource; a list is true when all of its
 * conditions are, "Not" inverts one condition, and the header is true when any list is.
 * Evaluation stops at the first true list (later lists are not looked at).
 * Returns 0 and sets *result, or the -errno a callback returned (*result is then untouched).
 * The caller answers 412 when *result is false.
 */
int dav_if_eval(const struct dav_if *h, const char *request_path, const struct dav_if_ops *ops,
                void *ctx, bool *result);

/**
 * Iterate over the state tokens the header submits (§10.4.1), whatever the evaluation says and
 * whether or not they are negated, in header order, duplicates included. Start with *pos = 0;
 * each call that returns true sets *token (a slice of the field value, without the brackets) and
 * *resource (the list's normalised path, NULL for an untagged list) and advances *pos.
 * Returns false when there are no more.
 */
bool dav_if_token_next(const struct dav_if *h, size_t *pos, struct iov *token,
                       const char **resource);

/** Does the header submit 'token' (exact, case-sensitive comparison of the absolute-URI)? */
bool dav_if_has_token(const struct dav_if *h, struct iov token);

#endif
