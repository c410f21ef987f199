/* SPDX-License-Identifier: MIT */
/*
 * The live properties (RFC 4918 §15, RFC 4331 §3) that PROPFIND produces and PROPPATCH refuses
 * to change, in one table; and the stored form of dead property values, which both methods
 * share.
 *
 * Every live property is protected here, even displayname and getcontenttype, which §15.2 and
 * §15.5 would let a client set: both are computed (from the name and its extension) and there
 * is nowhere to keep a client's value beside them, so a PROPPATCH of them gets 403
 * (cannot-modify-protected-property, §9.2.1) rather than a value PROPFIND would not show.
 */
#ifndef DAV_LIVEPROP_H
#define DAV_LIVEPROP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dav.h"

enum dav_live_id {
    DAV_LIVE_CREATIONDATE,
    DAV_LIVE_DISPLAYNAME,
    DAV_LIVE_GETCONTENTLENGTH,
    DAV_LIVE_GETCONTENTTYPE,
    DAV_LIVE_GETETAG,
    DAV_LIVE_GETLASTMODIFIED,
    DAV_LIVE_LOCKDISCOVERY,
    DAV_LIVE_RESOURCETYPE,
    DAV_LIVE_SUPPORTEDLOCK,
    DAV_LIVE_QUOTA_AVAILABLE,
    DAV_LIVE_QUOTA_USED,
    DAV_LIVE_COUNT,
};

struct dav_liveprop {
    struct dav_xml_name name; /* all in DAV: */
    bool in_allprop;          /* RFC 4331 §3: the quota properties are not */
    bool on_files, on_dirs;   /* which resources have it (else PROPFIND says 404) */
    bool is_protected;        /* PROPPATCH answers 403 */
};

extern const struct dav_liveprop dav_liveprops[DAV_LIVE_COUNT];

/** The live property called name, or -1 when it is not one (a dead property then). */
int dav_liveprop_find(const struct dav_xml_name *name);

/** Whether entry e has live property id. */
bool dav_liveprop_applies(enum dav_live_id id, const struct dav_entry *e);

/* A lock found for lockdiscovery, kept with what its dav_ms_lock points to. */
struct dav_live_lock;

/**
 * What producing the live properties of a request's entries needs, and what is worth
 * computing once per request (the quota figures) or allocating once (the lock list).
 * Initialise with dav_live_init, release with dav_live_release.
 */
struct dav_live_ctx {
    struct dav_env *env;
    const struct dav_req *req;
    bool has_quota;
    int64_t quota_used, quota_available;
    struct dav_live_lock *locks;
    size_t n_locks, cap_locks;
    bool lockless; /* no live lock covers the listing or lies in it: no query per entry */
};

void dav_live_init(struct dav_live_ctx *lc, struct dav_env *env, const struct dav_req *req);
void dav_live_release(struct dav_live_ctx *lc);

/** Before a listing of path (and what is below it): find out whether any lock is in play. */
int dav_live_scope(struct dav_live_ctx *lc, const char *path);

/**
 * Write live property id of e (which must apply to e) into the open propstat of ms. Returns 0,
 * the writer's error, or a negative errno from the index or the file system.
 */
int dav_live_write(struct dav_live_ctx *lc, struct dav_ms *ms, enum dav_live_id id,
                   const struct dav_entry *e);

/**
 * The href of e: href_root + path, and '/' after a collection below the root. Writes a NUL.
 * Returns the length, or -ENAMETOOLONG when it does not fit cap.
 */
int dav_href_of(char *buf, size_t cap, const char *href_root, const char *path, bool is_dir);

/*
 * Dead property values in the index: the index keeps opaque bytes and no xml:lang, but RFC 4918
 * §4.3 wants the xml:lang of a property back. The stored form is the XML fragment of struct
 * dav_xml_value as it is; with a lang (even an empty one), "\0" lang "\0" goes before it.
 * XML cannot hold a NUL, so a leading NUL can only be this prefix, and a value without lang
 * is stored byte for byte as the client sent it.
 */

/** Bytes dav_prop_value_encode writes for v. */
size_t dav_prop_value_len(const struct dav_xml_value *v);
/** Write the stored form of v into out (dav_prop_value_len(v) bytes). */
void dav_prop_value_encode(const struct dav_xml_value *v, char *out);
/** Read a stored value back; v points into stored. Returns 0 or -EIO (not a stored form). */
int dav_prop_value_decode(const char *stored, size_t len, struct dav_xml_value *v);

#endif
