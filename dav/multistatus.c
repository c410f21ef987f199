/* SPDX-License-Identifier: MIT */
/*
 * Streaming 207 Multi-Status writer, see multistatus.h.
 *
 * Pieces gather in the writer's buffer and go to the sink a response at a time; the only other
 * state is which element is open. Text is escaped in runs, so a value without special
 * characters is one copy.
 *
 * Known gaps: no <D:responsedescription> or <D:location>.
 */
#include "multistatus.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "status.h"

#define NS_OC "http://owncloud.org/ns"
#define NS_NC "http://nextcloud.org/ns"
#define NS_XML "http://www.w3.org/XML/1998/namespace"
#define NS_XMLNS "http://www.w3.org/2000/xmlns/"

static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */

static void sink(struct dav_ms *ms, const void *p, size_t n)
{
    int rc = ms->write(ms->ctx, p, n);
    if (rc < 0)
        ms->err = rc;
}

/* Hand the buffered bytes to the sink. */
static int flush(struct dav_ms *ms)
{
    if (ms->len && !ms->err)
        sink(ms, ms->buf, ms->len);
    ms->len = 0;
    return ms->err;
}

static int out(struct dav_ms *ms, const void *p, size_t n)
{
    if (ms->err || n == 0)
        return ms->err;
    if (n > sizeof(ms->buf) - ms->len) {
        flush(ms);
        /* Larger than the buffer (a long dead property value): straight through. */
        if (n > sizeof(ms->buf) && !ms->err)
            sink(ms, p, n);
        if (n > sizeof(ms->buf) || ms->err)
            return ms->err;
    }
    memcpy(ms->buf + ms->len, p, n);
    ms->len += n;
    return 0;
}

static int out_str(struct dav_ms *ms, const char *s)
{
    return out(ms, s, strlen(s));
}

/* A string literal, its length known at compile time. */
#define out_lit(ms, s) out((ms), (s), sizeof(s) - 1)

static int out_iov(struct dav_ms *ms, struct iov v)
{
    return out(ms, v.base, v.len);
}

/*
 * Character data or an attribute value (in double quotes): the five specials and CR as
 * references, and what XML 1.0 cannot carry at all as U+FFFD.
 */
static int out_escaped(struct dav_ms *ms, struct iov s)
{
    if (s.len == 0)
        return ms->err; /* s.base may be NULL, and NULL + 0 is undefined */
    /* Plain ASCII goes out as it is, in runs: the bytes that need a look, in a table. */
    static const bool special[256] = {
        [0 ... 0x1f] = true, ['&'] = true, ['<'] = true, ['>'] = true, ['"'] = true,
        [0x7f ... 0xff] = true,
    };
    size_t run = 0;
    for (size_t i = 0; i < s.len;) {
        uint8_t b = s.base[i];
        if (!special[b]) {
            i++;
            continue;
        }
        uint32_t c;
        size_t n = dav_xml_utf8_next(s.base + i, s.len - i, &c);
        const char *esc = NULL;
        if (n == 0) {
            esc = replacement;
            n = 1;
        } else if (c == '&') {
            esc = "&amp;";
        } else if (c == '<') {
            esc = "&lt;";
        } else if (c == '>') {
            esc = "&gt;";
        } else if (c == '"') {
            esc = "&quot;";
        } else if (c == '\r') {
            esc = "&#13;"; /* a literal CR would be read as LF (XML 1.0 §2.11) */
        } else if (!dav_xml_is_text(iov_make(s.base + i, n))) {
            esc = replacement;
        }
        if (esc) {
            out(ms, s.base + run, i - run);
            out_str(ms, esc);
            run = i + n;
        }
        i += n;
    }
    return out(ms, s.base + run, s.len - run);
}

static bool is_unreserved(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

/* Percent-encode a path (RFC 3986 §2.1); the result is ASCII that needs no XML escaping. */
static int out_path(struct dav_ms *ms, struct iov path)
{
    static const char hex[] = "0123456789ABCDEF";
    char buf[192];
    size_t used = 0;
    for (size_t i = 0; i < path.len; i++) {
        uint8_t c = path.base[i];
        if (used + 3 > sizeof(buf)) {
            out(ms, buf, used);
            used = 0;
        }
        if (is_unreserved(c) || c == '/') {
            buf[used++] = (char)c;
        } else {
            buf[used++] = '%';
            buf[used++] = hex[c >> 4];
            buf[used++] = hex[c & 15];
        }
    }
    return out(ms, buf, used);
}

static int out_href(struct dav_ms *ms, struct iov path)
{
    out_lit(ms, "<D:href>");
    out_path(ms, path);
    return out_lit(ms, "</D:href>");
}

static int out_status(struct dav_ms *ms, int status)
{
    assert(status >= 100 && status <= 999);
    char code[5] = {(char)('0' + status / 100), (char)('0' + status / 10 % 10),
                    (char)('0' + status % 10), ' ', '\0'};
    out_lit(ms, "<D:status>HTTP/1.1 ");
    out(ms, code, 4);
    out_str(ms, http_status_reason(status));
    return out_lit(ms, "</D:status>");
}

/* A precondition name the error element can carry (NULL: none, also fine). */
static bool precondition_ok(const char *pre)
{
    return !pre || dav_xml_is_ncname(iov_make(pre, strlen(pre)));
}

/* <D:error> holding the DAV: precondition element pre (an NCName), with <D:href>href</D:href>
 * inside when href.base is set (RFC 4918 §16). */
static int out_error(struct dav_ms *ms, const char *pre, struct iov href)
{
    out_lit(ms, "<D:error><D:");
    out_str(ms, pre);
    if (!href.base) {
        out_lit(ms, "/>");
    } else {
        out(ms, ">", 1);
        out_href(ms, href);
        out_lit(ms, "</D:");
        out_str(ms, pre);
        out(ms, ">", 1);
    }
    return out_lit(ms, "</D:error>");
}

/* Field by field: a compound literal would clear the 4 KiB buffer as well. */
void dav_ms_init(struct dav_ms *ms, dav_ms_write_fn write, void *ctx)
{
    ms->write = write;
    ms->ctx = ctx;
    ms->state = DAV_MS_START;
    ms->propstat_status = 0;
    ms->propstat_pre = NULL;
    ms->err = 0;
    ms->len = 0;
}

int dav_ms_begin(struct dav_ms *ms)
{
    assert(ms->state == DAV_MS_START);
    ms->state = DAV_MS_DOC;
    return out_lit(ms, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
                       "<D:multistatus xmlns:D=\"DAV:\" xmlns:oc=\"" NS_OC "\" xmlns:nc=\"" NS_NC
                       "\">");
}

int dav_ms_response_begin(struct dav_ms *ms, struct iov path)
{
    assert(ms->state == DAV_MS_DOC);
    ms->state = DAV_MS_RESPONSE;
    out_lit(ms, "<D:response>");
    return out_href(ms, path);
}

int dav_ms_propstat_begin_error(struct dav_ms *ms, int status, const char *precondition)
{
    assert(ms->state == DAV_MS_RESPONSE || ms->state == DAV_MS_PROPSTATS);
    if (!precondition_ok(precondition))
        return -EINVAL;
    ms->state = DAV_MS_PROPSTAT;
    ms->propstat_status = status;
    ms->propstat_pre = precondition;
    return out_lit(ms, "<D:propstat><D:prop>");
}

int dav_ms_propstat_begin(struct dav_ms *ms, int status)
{
    return dav_ms_propstat_begin_error(ms, status, NULL);
}

/* The prefix for a namespace, and whether the element must declare it. */
static const char *prefix_of(struct iov ns, bool *declare)
{
    *declare = false;
    if (ns.len == 0)
        return NULL;
    if (iov_eq(ns, IOV_LIT(DAV_XML_NS_DAV)))
        return "D";
    if (iov_eq(ns, IOV_LIT(NS_OC)))
        return "oc";
    if (iov_eq(ns, IOV_LIT(NS_NC)))
        return "nc";
    /* Bound to "xml" in every document; no other prefix may be bound to it (Namespaces in
     * XML 1.0 §3). A client may ask for <xml:foo/>: the fuzzer did. */
    if (iov_eq(ns, IOV_LIT(NS_XML)))
        return "xml";
    *declare = true;
    return "x";
}

static bool name_ok(const struct dav_xml_name *name)
{
    /* The xmlns namespace names declarations, never elements (§3). */
    return dav_xml_is_ncname(name->local) && dav_xml_is_text(name->ns) &&
           !iov_eq(name->ns, IOV_LIT(NS_XMLNS));
}

static int out_qname(struct dav_ms *ms, const char *prefix, struct iov local)
{
    if (prefix) {
        out_str(ms, prefix);
        out(ms, ":", 1);
    }
    return out_iov(ms, local);
}

/* "<p:name" with the namespace declaration and xml:lang it needs; the caller closes the tag. */
static int prop_open(struct dav_ms *ms, const struct dav_xml_name *name, struct iov lang)
{
    bool declare;
    const char *prefix = prefix_of(name->ns, &declare);
    out(ms, "<", 1);
    out_qname(ms, prefix, name->local);
    if (declare) {
        out_lit(ms, " xmlns:x=\"");
        out_escaped(ms, name->ns);
        out(ms, "\"", 1);
    }
    if (lang.base) {
        out_lit(ms, " xml:lang=\"");
        out_escaped(ms, lang);
        out(ms, "\"", 1);
    }
    return ms->err;
}

static int prop_close(struct dav_ms *ms, const struct dav_xml_name *name)
{
    bool declare;
    const char *prefix = prefix_of(name->ns, &declare);
    out(ms, "</", 2);
    out_qname(ms, prefix, name->local);
    return out(ms, ">", 1);
}

int dav_ms_prop_empty(struct dav_ms *ms, const struct dav_xml_name *name)
{
    assert(ms->state == DAV_MS_PROPSTAT);
    if (!name_ok(name))
        return -EINVAL;
    prop_open(ms, name, iov_make(NULL, 0));
    return out(ms, "/>", 2);
}

int dav_ms_prop_text(struct dav_ms *ms, const struct dav_xml_name *name, struct iov text)
{
    assert(ms->state == DAV_MS_PROPSTAT);
    if (!name_ok(name))
        return -EINVAL;
    prop_open(ms, name, iov_make(NULL, 0));
    out(ms, ">", 1);
    out_escaped(ms, text);
    return prop_close(ms, name);
}

int dav_ms_prop_live(struct dav_ms *ms, struct iov local, struct iov value, bool is_xml)
{
    assert(ms->state == DAV_MS_PROPSTAT);
    out_lit(ms, "<D:");
    out_iov(ms, local);
    if (value.len == 0)
        return out_lit(ms, "/>");
    out(ms, ">", 1);
    if (is_xml)
        out_iov(ms, value);
    else
        out_escaped(ms, value);
    out_lit(ms, "</D:");
    out_iov(ms, local);
    return out(ms, ">", 1);
}

int dav_ms_prop_xml(struct dav_ms *ms, const struct dav_xml_name *name,
                    const struct dav_xml_value *value)
{
    assert(ms->state == DAV_MS_PROPSTAT);
    if (!name_ok(name) || !dav_xml_is_text(value->lang))
        return -EINVAL;
    prop_open(ms, name, value->lang);
    if (value->xml.len == 0)
        return out(ms, "/>", 2);
    out(ms, ">", 1);
    out_iov(ms, value->xml);
    return prop_close(ms, name);
}

/* RFC 3986 characters only (unreserved, reserved, '%'): a token is a URI, written unencoded. */
static bool token_ok(struct iov token)
{
    if (token.len == 0)
        return false;
    for (size_t i = 0; i < token.len; i++) {
        uint8_t c = token.base[i];
        if (!is_unreserved(c) && !strchr(":/?#[]@!$&'()*+,;=%", c))
            return false;
    }
    return true;
}

static bool lock_ok(const struct dav_ms_lock *lk)
{
    return token_ok(lk->token) && (!lk->owner || dav_xml_is_text(lk->owner->lang));
}

/* RFC 4918 §14.1. */
static int out_activelock(struct dav_ms *ms, const struct dav_ms_lock *lk)
{
    out_lit(ms, "<D:activelock><D:locktype><D:write/></D:locktype><D:lockscope>");
    out_str(ms, lk->exclusive ? "<D:exclusive/>" : "<D:shared/>");
    out_lit(ms, "</D:lockscope><D:depth>");
    out_str(ms, lk->depth_infinity ? "infinity" : "0");
    out_lit(ms, "</D:depth>");
    if (lk->owner) {
        out_lit(ms, "<D:owner");
        if (lk->owner->lang.base) {
            out_lit(ms, " xml:lang=\"");
            out_escaped(ms, lk->owner->lang);
            out(ms, "\"", 1);
        }
        out(ms, ">", 1);
        out_iov(ms, lk->owner->xml);
        out_lit(ms, "</D:owner>");
    }
    if (lk->timeout == DAV_MS_TIMEOUT_INFINITE) {
        out_lit(ms, "<D:timeout>Infinite</D:timeout>");
    } else {
        /* §10.7: Second-N must not exceed 2^32 - 1. */
        uint64_t s = lk->timeout > UINT32_MAX ? UINT32_MAX : lk->timeout;
        char buf[48];
        int n = snprintf(buf, sizeof(buf), "<D:timeout>Second-%" PRIu64 "</D:timeout>", s);
        out(ms, buf, (size_t)n);
    }
    out_lit(ms, "<D:locktoken><D:href>");
    out_escaped(ms, lk->token);
    out_lit(ms, "</D:href></D:locktoken><D:lockroot>");
    out_href(ms, lk->root);
    return out_lit(ms, "</D:lockroot></D:activelock>");
}

static int out_lockdiscovery(struct dav_ms *ms, const struct dav_ms_lock *locks, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!lock_ok(&locks[i]))
            return -EINVAL;
    }
    if (n == 0)
        return out_lit(ms, "<D:lockdiscovery/>");
    out_lit(ms, "<D:lockdiscovery>");
    for (size_t i = 0; i < n; i++)
        out_activelock(ms, &locks[i]);
    return out_lit(ms, "</D:lockdiscovery>");
}

int dav_ms_prop_lockdiscovery(struct dav_ms *ms, const struct dav_ms_lock *locks, size_t n)
{
    assert(ms->state == DAV_MS_PROPSTAT);
    return out_lockdiscovery(ms, locks, n);
}

int dav_ms_prop_supportedlock(struct dav_ms *ms)
{
    assert(ms->state == DAV_MS_PROPSTAT);
    return out_lit(ms, "<D:supportedlock>"
                       "<D:lockentry><D:lockscope><D:exclusive/></D:lockscope>"
                       "<D:locktype><D:write/></D:locktype></D:lockentry>"
                       "<D:lockentry><D:lockscope><D:shared/></D:lockscope>"
                       "<D:locktype><D:write/></D:locktype></D:lockentry>"
                       "</D:supportedlock>");
}

int dav_ms_propstat_end(struct dav_ms *ms)
{
    assert(ms->state == DAV_MS_PROPSTAT);
    ms->state = DAV_MS_PROPSTATS;
    out_lit(ms, "</D:prop>");
    out_status(ms, ms->propstat_status);
    if (ms->propstat_pre)
        out_error(ms, ms->propstat_pre, iov_make(NULL, 0));
    return out_lit(ms, "</D:propstat>");
}

int dav_ms_response_status(struct dav_ms *ms, int status, const char *precondition, struct iov href)
{
    assert(ms->state == DAV_MS_RESPONSE);
    if (!precondition_ok(precondition))
        return -EINVAL;
    ms->state = DAV_MS_STATUS;
    out_status(ms, status);
    return precondition ? out_error(ms, precondition, href) : ms->err;
}

int dav_ms_response_end(struct dav_ms *ms)
{
    assert(ms->state == DAV_MS_PROPSTATS || ms->state == DAV_MS_STATUS);
    ms->state = DAV_MS_DOC;
    out_lit(ms, "</D:response>");
    return flush(ms);
}

int dav_ms_end(struct dav_ms *ms)
{
    assert(ms->state == DAV_MS_DOC);
    ms->state = DAV_MS_DONE;
    out_lit(ms, "</D:multistatus>");
    return flush(ms);
}

int dav_ms_lock_body(struct dav_ms *ms, const struct dav_ms_lock *lock)
{
    assert(ms->state == DAV_MS_START);
    if (!lock_ok(lock))
        return -EINVAL;
    ms->state = DAV_MS_DONE;
    out_lit(ms, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:prop xmlns:D=\"DAV:\">");
    out_lockdiscovery(ms, lock, 1);
    out_lit(ms, "</D:prop>");
    return flush(ms);
}
