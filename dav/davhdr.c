/* SPDX-License-Identifier: MIT */
/*
 * Depth, Overwrite, Timeout, Destination and Lock-Token (RFC 4918 §10.2–§10.7).
 *
 * Values are the parser's (leading and trailing OWS removed; obs-fold refused before here).
 * Literal words are matched case-insensitively, as ABNF quoted strings are (RFC 5234 §2.3).
 *
 * Overwrite accepts only T and F. compat(nextcloud-ios) is not applied: NextcloudKit may send
 * "Overwrite: true", but on PUT (see docs nextcloud-protocol.md), where the header means
 * nothing and the PUT handler should not read it; its MOVE sends "T".
 *
 * Destination and reverse proxies: an absolute Destination must carry the scheme, host and
 * port the client used for the request. Behind a TLS-terminating proxy that forwards plain
 * HTTP that is not true, and COPY/MOVE with absolute Destinations answer 502; fastfile terminates
 * TLS itself, so this is not handled.
 */
#include "davhdr.h"

#include <errno.h>

#include "chars.h"

/* The header named 'name', at most once; *v is NULL when it is absent. */
static int find_single(const struct http_request *req, const char *name, const struct iov **v)
{
    *v = NULL;
    for (size_t i = 0; i < req->n_headers; i++) {
        if (!iov_eq_nocase(req->headers[i].name, name))
            continue;
        if (*v)
            return -EINVAL;
        *v = &req->headers[i].value;
    }
    return 0;
}

int dav_hdr_depth(const struct http_request *req, enum dav_depth dflt, enum dav_depth *depth)
{
    const struct iov *v;
    int rc = find_single(req, "Depth", &v);
    if (rc < 0)
        return rc;

    /* Depth = "Depth" ":" ("0" | "1" | "infinity") (§10.2) */
    if (!v)
        *depth = dflt;
    else if (iov_eq(*v, IOV_LIT("0")))
        *depth = DAV_DEPTH_0;
    else if (iov_eq(*v, IOV_LIT("1")))
        *depth = DAV_DEPTH_1;
    else if (iov_eq_nocase(*v, "infinity"))
        *depth = DAV_DEPTH_INFINITY;
    else
        return -EINVAL;
    return 0;
}

int dav_hdr_overwrite(const struct http_request *req, bool *overwrite)
{
    const struct iov *v;
    int rc = find_single(req, "Overwrite", &v);
    if (rc < 0)
        return rc;

    /* Overwrite = "Overwrite" ":" ("T" | "F"); absent is "T" (§10.6) */
    if (!v || iov_eq_nocase(*v, "T"))
        *overwrite = true;
    else if (iov_eq_nocase(*v, "F"))
        *overwrite = false;
    else
        return -EINVAL;
    return 0;
}

static bool has_prefix_nocase(struct iov v, const char *lit)
{
    size_t n = strlen(lit);

    return v.len >= n && iov_eq_nocase(iov_make(v.base, n), lit);
}

/*
 * One TimeType: "Infinite" | "Second-" 1*DIGIT. Sets *secs (UINT32_MAX for "Infinite") and
 * returns true when it is acceptable.
 */
static bool time_type(struct iov e, uint32_t *secs)
{
    if (iov_eq_nocase(e, "Infinite")) {
        *secs = UINT32_MAX;
        return true;
    }
    if (!has_prefix_nocase(e, "Second-") || e.len == 7)
        return false;
    uint64_t n = 0;
    for (size_t i = 7; i < e.len; i++) {
        if (!http_is_digit(e.base[i]))
            return false;
        n = n * 10 + (uint64_t)(e.base[i] - '0');
        /* §10.7: the value MUST NOT be greater than 2^32-1 */
        if (n > UINT32_MAX)
            return false;
    }
    *secs = (uint32_t)n;
    return true;
}

static uint32_t clamp_secs(uint32_t secs, uint32_t max)
{
    /* a zero-second lock would be gone before the client could use it */
    if (secs == 0)
        return 1;
    return secs < max ? secs : max;
}

uint32_t dav_hdr_timeout(const struct http_request *req, uint32_t dflt, uint32_t max)
{
    /* TimeOut = "Timeout" ":" 1#TimeType: a list, so every Timeout field continues it
     * (RFC 9110 §5.3); empty elements are allowed and skipped (RFC 9110 §5.6.1). */
    for (size_t h = 0; h < req->n_headers; h++) {
        if (!iov_eq_nocase(req->headers[h].name, "Timeout"))
            continue;
        struct iov v = req->headers[h].value;
        size_t i = 0;
        while (i < v.len) {
            size_t b = i;
            while (i < v.len && v.base[i] != ',')
                i++;
            size_t e = i;
            while (b < e && http_is_ows(v.base[b]))
                b++;
            while (e > b && http_is_ows(v.base[e - 1]))
                e--;
            uint32_t secs;
            /* §10.7: the server may ignore what it does not accept; take the first it does */
            if (time_type(iov_make(v.base + b, e - b), &secs))
                return clamp_secs(secs, max);
            i++;
        }
    }
    return clamp_secs(dflt, max);
}

static bool is_unreserved_or_sub_delim(uint8_t c)
{
    if ((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'))
        return true;
    /* unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~", then the sub-delims (RFC 3986 §2) */
    return c != '\0' && strchr("-._~!$&'()*+,;=", c) != NULL;
}

bool dav_hdr_is_absolute_uri(struct iov s)
{
    size_t i = 0;

    /* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (RFC 3986 §3.1) */
    if (s.len == 0 || (s.base[0] | 0x20) < 'a' || (s.base[0] | 0x20) > 'z')
        return false;
    for (i = 1; i < s.len && s.base[i] != ':'; i++) {
        uint8_t c = s.base[i];
        if (!((c | 0x20) >= 'a' && (c | 0x20) <= 'z') && !http_is_digit(c) && c != '+' &&
            c != '-' && c != '.')
            return false;
    }
    if (i == s.len)
        return false;
    for (i++; i < s.len; i++) {
        uint8_t c = s.base[i];
        if (c == '%') {
            if (s.len - i < 3 || !http_is_hex(s.base[i + 1]) || !http_is_hex(s.base[i + 2]))
                return false;
            i += 2;
        } else if (!is_unreserved_or_sub_delim(c) && c != ':' && c != '@' && c != '/' && c != '?' &&
                   c != '[' && c != ']') {
            return false;
        }
    }
    return true;
}

/* uri-host [ ":" port ] split into host and port; port 0 when absent or empty. */
static bool split_authority(struct iov a, uint16_t dflt_port, struct iov *host, uint16_t *port)
{
    size_t i = 0;

    if (a.len > 0 && a.base[0] == '[') {
        while (i < a.len && a.base[i] != ']')
            i++;
        if (i == a.len)
            return false;
        i++;
    } else {
        while (i < a.len && a.base[i] != ':')
            i++;
    }
    *host = iov_make(a.base, i);
    if (host->len == 0)
        return false;
    *port = dflt_port;
    if (i == a.len)
        return true;
    if (a.base[i] != ':')
        return false;
    /* RFC 3986 §3.2.3: an empty port is the scheme's default */
    if (i + 1 == a.len)
        return true;
    uint32_t n = 0;
    for (i++; i < a.len; i++) {
        if (!http_is_digit(a.base[i]))
            return false;
        n = n * 10 + (uint32_t)(a.base[i] - '0');
        if (n > 65535)
            return false;
    }
    *port = (uint16_t)n;
    return true;
}

static bool host_eq_nocase(struct iov a, struct iov b)
{
    if (a.len != b.len)
        return false;
    for (size_t i = 0; i < a.len; i++) {
        uint8_t x = a.base[i];
        uint8_t y = b.base[i];
        if (x >= 'A' && x <= 'Z')
            x = (uint8_t)(x + ('a' - 'A'));
        if (y >= 'A' && y <= 'Z')
            y = (uint8_t)(y + ('a' - 'A'));
        if (x != y)
            return false;
    }
    return true;
}

/* Does the absolute URI 'v' name this server? 0, -EINVAL or -EXDEV. */
static int check_authority(const struct http_request *req, bool tls, struct iov v)
{
    size_t colon = 0;
    /* dav_hdr_is_absolute_uri has found the scheme's ':' */
    while (v.base[colon] != ':')
        colon++;
    struct iov scheme = iov_make(v.base, colon);
    bool https = iov_eq_nocase(scheme, "https");

    /* §9.8.5, §9.9.4: 502 when the destination is on another server or URL namespace */
    if (!https && !iov_eq_nocase(scheme, "http"))
        return -EXDEV;
    /* RFC 9110 §4.2.1, §4.2.2: http(s) URIs have an authority */
    if (v.len - colon < 3 || v.base[colon + 1] != '/' || v.base[colon + 2] != '/')
        return -EINVAL;
    size_t b = colon + 3;
    size_t e = b;
    while (e < v.len && v.base[e] != '/' && v.base[e] != '?')
        e++;

    struct iov dhost;
    uint16_t dport;
    /* userinfo is an error in http(s) URIs (RFC 9110 §4.2.4), an empty host invalid (§4.2.1) */
    if (memchr(v.base + b, '@', e - b) ||
        !split_authority(iov_make(v.base + b, e - b), https ? 443 : 80, &dhost, &dport))
        return -EINVAL;

    struct iov rhost;
    uint16_t rport;
    if (https != tls || !split_authority(req->host, tls ? 443 : 80, &rhost, &rport))
        return -EXDEV;
    if (!host_eq_nocase(dhost, rhost) || dport != rport)
        return -EXDEV;
    return 0;
}

int dav_hdr_destination(const struct http_request *req, bool tls, char *out, size_t outsz,
                        struct http_path *res)
{
    const struct iov *v;
    int rc = find_single(req, "Destination", &v);
    if (rc < 0)
        return rc;
    if (!v || v->len == 0)
        return -EINVAL;

    if (v->base[0] == '/') {
        /* path-absolute cannot begin with "//" (that is a network-path reference, which
         * Simple-ref does not allow, §8.3) */
        if (v->len >= 2 && v->base[1] == '/')
            return -EINVAL;
    } else {
        if (!dav_hdr_is_absolute_uri(*v))
            return -EINVAL;
        rc = check_authority(req, tls, *v);
        if (rc < 0)
            return rc;
    }

    /* the same decoding and climbing rules as the request-target */
    rc = http_path_normalize(*v, out, outsz, res);
    if (rc == -414)
        return -ENAMETOOLONG;
    if (rc < 0)
        return -EINVAL;
    return 0;
}

int dav_hdr_lock_token(const struct http_request *req, struct iov *token)
{
    const struct iov *v;
    int rc = find_single(req, "Lock-Token", &v);
    if (rc < 0)
        return rc;
    /* Lock-Token = "Lock-Token" ":" Coded-URL; Coded-URL = "<" absolute-URI ">" (§10.5) */
    if (!v || v->len < 2 || v->base[0] != '<' || v->base[v->len - 1] != '>')
        return -EINVAL;
    struct iov inner = iov_make(v->base + 1, v->len - 2);
    if (!dav_hdr_is_absolute_uri(inner))
        return -EINVAL;
    *token = inner;
    return 0;
}
