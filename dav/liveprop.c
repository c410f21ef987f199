/* SPDX-License-Identifier: MIT */
/*
 * The live properties and the stored form of dead property values, see liveprop.h.
 *
 * creationdate is the birth time the index keeps (statx's, or the first mtime seen where the
 * file system keeps none); a row recorded before the index had birth times shows its mtime
 * until the next stat of it fills the birth time in (the watcher's catch-up at start does).
 *
 * Known gaps: no getcontentlanguage; quota-used-bytes is the user's whole use, on every
 * collection (RFC 4331 §3 allows it: the bytes counted against the quota that applies).
 */
#include "liveprop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include "date.h"
#include "mime.h"

#define LIVE(local, allprop, files, dirs)                                                       \
    {.name = {IOV_LIT(DAV_XML_NS_DAV), IOV_LIT(local)},                                         \
     .in_allprop = (allprop),                                                                   \
     .on_files = (files),                                                                       \
     .on_dirs = (dirs),                                                                         \
     .is_protected = true}

const struct dav_liveprop dav_liveprops[DAV_LIVE_COUNT] = {
    [DAV_LIVE_CREATIONDATE] = LIVE("creationdate", true, true, true),
    [DAV_LIVE_DISPLAYNAME] = LIVE("displayname", true, true, true),
    [DAV_LIVE_GETCONTENTLENGTH] = LIVE("getcontentlength", true, true, false),
    [DAV_LIVE_GETCONTENTTYPE] = LIVE("getcontenttype", true, true, false),
    [DAV_LIVE_GETETAG] = LIVE("getetag", true, true, true),
    [DAV_LIVE_GETLASTMODIFIED] = LIVE("getlastmodified", true, true, true),
    [DAV_LIVE_LOCKDISCOVERY] = LIVE("lockdiscovery", true, true, true),
    [DAV_LIVE_RESOURCETYPE] = LIVE("resourcetype", true, true, true),
    [DAV_LIVE_SUPPORTEDLOCK] = LIVE("supportedlock", true, true, true),
    [DAV_LIVE_QUOTA_AVAILABLE] = LIVE("quota-available-bytes", false, false, true),
    [DAV_LIVE_QUOTA_USED] = LIVE("quota-used-bytes", false, false, true),
};

int dav_liveprop_find(const struct dav_xml_name *name)
{
    if (!iov_eq(name->ns, IOV_LIT(DAV_XML_NS_DAV)))
        return -1;
    for (int i = 0; i < DAV_LIVE_COUNT; i++) {
        if (iov_eq(name->local, dav_liveprops[i].name.local))
            return i;
    }
    return -1;
}

bool dav_liveprop_applies(enum dav_live_id id, const struct dav_entry *e)
{
    return e->is_dir ? dav_liveprops[id].on_dirs : dav_liveprops[id].on_files;
}

struct dav_live_lock {
    struct dav_lock lk;
    struct dav_xml_value owner;
    char root[DAV_INDEX_PATH_MAX + 256];
};

void dav_live_init(struct dav_live_ctx *lc, struct dav_env *env, const struct dav_req *req)
{
    *lc = (struct dav_live_ctx){.env = env, .req = req};
}

void dav_live_release(struct dav_live_ctx *lc)
{
    free(lc->locks);
    lc->locks = NULL;
    lc->n_locks = lc->cap_locks = 0;
}

int dav_href_of(char *buf, size_t cap, const char *href_root, const char *path, bool is_dir)
{
    size_t root_len = strlen(href_root), path_len = strlen(path);
    size_t slash = is_dir && path[0] ? 1 : 0;
    size_t n = root_len + path_len + slash;
    if (n >= cap)
        return -ENAMETOOLONG;
    memcpy(buf, href_root, root_len);
    memcpy(buf + root_len, path, path_len);
    if (slash)
        buf[n - 1] = '/';
    buf[n] = '\0';
    return (int)n;
}

/* v in decimal into buf (21 bytes at least), NUL-terminated. */
static const char *decimal(char buf[21], uint64_t v)
{
    char *p = buf + 20;
    *p = '\0';
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return p;
}

/* Floor division: times before 1970 stay in the right second. */
static time_t seconds_of(int64_t ns)
{
    int64_t s = ns / 1000000000;
    if (ns % 1000000000 < 0)
        s--;
    return (time_t)s;
}

static int write_text(struct dav_ms *ms, enum dav_live_id id, const char *s)
{
    return dav_ms_prop_live(ms, dav_liveprops[id].name.local, iov_make(s, strlen(s)), false);
}

static int write_creationdate(struct dav_ms *ms, const struct dav_entry *e)
{
    char buf[HTTP_DATE_ISO_LEN + 1];
    /* RFC 4918 §15.1: RFC 3339 date-time, in UTC. */
    http_date_format_iso(seconds_of(e->btime_ns ? e->btime_ns : e->mtime_ns), buf);
    return write_text(ms, DAV_LIVE_CREATIONDATE, buf);
}

static int lock_cb(void *ctx, const struct dav_lock *lk)
{
    struct dav_live_ctx *lc = ctx;
    if (lc->n_locks == lc->cap_locks) {
        size_t cap = lc->cap_locks ? 2 * lc->cap_locks : 4;
        struct dav_live_lock *p = realloc(lc->locks, cap * sizeof(*p));
        if (!p)
            return -ENOMEM;
        lc->locks = p;
        lc->cap_locks = cap;
    }
    lc->locks[lc->n_locks++].lk = *lk;
    return 0;
}

static int any_lock_cb(void *ctx, const struct dav_lock *lk)
{
    (void)lk;
    *(bool *)ctx = true;
    return 1;
}

int dav_live_scope(struct dav_live_ctx *lc, const char *path)
{
    bool any = false;
    int rc = dav_index_lock_find(lc->env->ix, lc->req->user_id, path, true, lc->req->now,
                                 any_lock_cb, &any);
    if (rc < 0)
        return rc;
    lc->lockless = !any;
    return 0;
}

static int write_lockdiscovery(struct dav_live_ctx *lc, struct dav_ms *ms,
                               const struct dav_entry *e)
{
    lc->n_locks = 0;
    int rc = lc->lockless ? 0
                          : dav_index_lock_find(lc->env->ix, lc->req->user_id, e->path, false,
                                                lc->req->now, lock_cb, lc);
    if (rc)
        return rc;
    /* Converted only now: realloc above may have moved what the pointers would point into. */
    struct dav_ms_lock small[4];
    struct dav_ms_lock *ms_locks = small;
    if (lc->n_locks > sizeof(small) / sizeof(small[0])) {
        ms_locks = calloc(lc->n_locks, sizeof(*ms_locks));
        if (!ms_locks)
            return -ENOMEM;
    }
    for (size_t i = 0; i < lc->n_locks; i++) {
        struct dav_live_lock *l = &lc->locks[i];
        /* A lock rooted elsewhere covers e by depth infinity: its root is a folder. */
        bool root_is_dir = strcmp(l->lk.path, e->path) != 0 || e->is_dir;
        rc = dav_href_of(l->root, sizeof(l->root), lc->req->href_root, l->lk.path, root_is_dir);
        if (rc < 0)
            goto out;
        /* The index keeps the owner fragment without its xml:lang. */
        l->owner = (struct dav_xml_value){.xml = iov_make(l->lk.owner, strlen(l->lk.owner))};
        int64_t left = l->lk.expires - lc->req->now;
        ms_locks[i] = (struct dav_ms_lock){
            .exclusive = l->lk.scope == DAV_LOCK_EXCLUSIVE,
            .depth_infinity = l->lk.is_infinite,
            .owner = l->lk.owner[0] ? &l->owner : NULL,
            .timeout = left > 0 ? (uint64_t)left : 0,
            .token = iov_make(l->lk.token, strlen(l->lk.token)),
            .root = iov_make(l->root, (size_t)rc),
        };
    }
    rc = dav_ms_prop_lockdiscovery(ms, ms_locks, lc->n_locks);
out:
    if (ms_locks != small)
        free(ms_locks);
    return rc;
}

/* RFC 4331 §3, §4: figures for the user, once per request. */
static int quota_figures(struct dav_live_ctx *lc)
{
    if (lc->has_quota)
        return 0;
    int rc = dav_index_quota_used(lc->env->ix, lc->req->user_id, &lc->quota_used);
    if (rc)
        return rc;
    int64_t quota = lc->env->cfg->quota_bytes;
    if (quota >= 0) {
        lc->quota_available = quota > lc->quota_used ? quota - lc->quota_used : 0;
    } else {
        struct statvfs vfs;
        if (fstatvfs(lc->req->root_fd, &vfs) < 0)
            return -errno;
        uint64_t avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
        lc->quota_available = avail > INT64_MAX ? INT64_MAX : (int64_t)avail;
    }
    lc->has_quota = true;
    return 0;
}

static int write_quota(struct dav_live_ctx *lc, struct dav_ms *ms, enum dav_live_id id)
{
    int rc = quota_figures(lc);
    if (rc)
        return rc;
    char buf[21];
    int64_t v = id == DAV_LIVE_QUOTA_USED ? lc->quota_used : lc->quota_available;
    return write_text(ms, id, decimal(buf, v > 0 ? (uint64_t)v : 0));
}

int dav_live_write(struct dav_live_ctx *lc, struct dav_ms *ms, enum dav_live_id id,
                   const struct dav_entry *e)
{
    const struct dav_xml_name *name = &dav_liveprops[id].name;
    char buf[HTTP_DATE_LEN + 1];
    switch (id) {
    case DAV_LIVE_CREATIONDATE:
        return write_creationdate(ms, e);
    case DAV_LIVE_DISPLAYNAME:
        return write_text(ms, id, e->name);
    case DAV_LIVE_GETCONTENTLENGTH:
        return write_text(ms, id, decimal(buf, e->size));
    case DAV_LIVE_GETCONTENTTYPE:
        return write_text(ms, id, http_mime_type(iov_make(e->name, strlen(e->name))));
    case DAV_LIVE_GETETAG:
        return write_text(ms, id, e->etag);
    case DAV_LIVE_GETLASTMODIFIED:
        http_date_format(seconds_of(e->mtime_ns), buf);
        return write_text(ms, id, buf);
    case DAV_LIVE_LOCKDISCOVERY:
        return write_lockdiscovery(lc, ms, e);
    case DAV_LIVE_RESOURCETYPE:
        /* The root element declares D; the fragment needs nothing else. */
        return dav_ms_prop_live(ms, name->local,
                                e->is_dir ? IOV_LIT("<D:collection/>") : iov_make(NULL, 0), true);
    case DAV_LIVE_SUPPORTEDLOCK:
        return dav_ms_prop_supportedlock(ms);
    case DAV_LIVE_QUOTA_AVAILABLE:
    case DAV_LIVE_QUOTA_USED:
        return write_quota(lc, ms, id);
    case DAV_LIVE_COUNT:
        break;
    }
    return -EINVAL;
}

size_t dav_prop_value_len(const struct dav_xml_value *v)
{
    return v->xml.len + (v->lang.base ? v->lang.len + 2 : 0);
}

void dav_prop_value_encode(const struct dav_xml_value *v, char *out)
{
    if (v->lang.base) {
        *out++ = '\0';
        memcpy(out, v->lang.base, v->lang.len);
        out += v->lang.len;
        *out++ = '\0';
    }
    if (v->xml.len)
        memcpy(out, v->xml.base, v->xml.len);
}

int dav_prop_value_decode(const char *stored, size_t len, struct dav_xml_value *v)
{
    *v = (struct dav_xml_value){.xml = iov_make(stored, len)};
    if (len == 0 || stored[0] != '\0')
        return 0;
    const char *end = memchr(stored + 1, '\0', len - 1);
    if (!end)
        return -EIO;
    v->lang = iov_make(stored + 1, (size_t)(end - stored - 1));
    v->xml = iov_make(end + 1, len - (size_t)(end + 1 - stored));
    return 0;
}
