/* SPDX-License-Identifier: MIT */
/*
 * Request-target → normalised path relative to the served root.
 *
 * Accepts origin-form ("/a/b?q") and absolute-form ("http://host/a/b", "https://host") targets
 * (RFC 9112 §3.2.1, §3.2.2). The query is dropped; '#' is refused because clients never send a
 * fragment (RFC 9112 §3.2: the request-target has none). Each segment is percent-decoded exactly
 * once, then "." and ".." are applied as in RFC 3986 §5.2.4, except that a ".." that would climb
 * above the root is an error (400) instead of being clamped: a client that sends one is either
 * broken or probing, and clamping would silently serve a different resource.
 *
 * What it does not do: it does not look at the file system (symlinks are the caller's business,
 * openat2(RESOLVE_BENEATH)); it does not check that the decoded bytes are valid UTF-8 (Linux file
 * names are bytes); it does not validate the authority of an absolute-form target beyond refusing
 * an empty host and userinfo — the router compares it with Host. Raw bytes that RFC 3986 does not
 * allow in a path ('[', '|', '^', raw UTF-8 ...) are accepted as they are, because real clients
 * send them; only controls, space and '#' are refused.
 */
#include "path.h"
#include "chars.h"

static bool is_ctl_or_space(uint8_t c)
{
    return c <= 0x20 || c == 0x7f;
}

static bool has_prefix_nocase(const uint8_t *p, size_t len, const char *lit)
{
    size_t n = strlen(lit);

    if (len < n)
        return false;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];

        if (c >= 'A' && c <= 'Z')
            c = (uint8_t)(c - 'A' + 'a');
        if (c != (uint8_t)lit[i])
            return false;
    }
    return true;
}

/*
 * Find the path part of the target: [*start, *end) with the query removed. An empty path (the
 * absolute-form "http://host") means the root. Returns 0 or -400.
 */
static int locate_path(struct iov target, size_t *start, size_t *end)
{
    const uint8_t *t = target.base;
    size_t len = target.len;
    size_t i = 0;

    if (len == 0)
        return -400;
    if (t[0] != '/') {
        /* RFC 9112 §3.2.2 absolute-form; the scheme is case-insensitive (RFC 3986 §3.1).
         * authority-form (CONNECT) and asterisk-form (OPTIONS *) name no file: 400. */
        if (has_prefix_nocase(t, len, "http://"))
            i = 7;
        else if (has_prefix_nocase(t, len, "https://"))
            i = 8;
        else
            return -400;
        size_t host = i;
        while (i < len && t[i] != '/' && t[i] != '?') {
            /* RFC 9110 §4.2.4: userinfo in an http(s) URI is to be treated as an error */
            if (t[i] == '@')
                return -400;
            i++;
        }
        /* RFC 9110 §4.2.1: an http URI with an empty host is invalid and must be rejected */
        if (i == host)
            return -400;
    }
    *start = i;
    while (i < len && t[i] != '?')
        i++;
    *end = i;
    return 0;
}

int http_path_normalize(struct iov target, char *out, size_t outsz, struct http_path *res)
{
    /* Refuse bytes that can never be part of a request-target before anything else, so that
     * the answer does not depend on whether they sit in the path or the query. */
    for (size_t i = 0; i < target.len; i++) {
        if (is_ctl_or_space(target.base[i]) || target.base[i] == '#')
            return -400;
    }

    size_t start = 0;
    size_t end = 0;
    int rc = locate_path(target, &start, &end);
    if (rc < 0)
        return rc;

    const uint8_t *t = target.base;
    size_t len = 0;   /* bytes of out in use */
    size_t depth = 0; /* segments currently in out (or that would be, once out overflowed) */
    bool trailing = true;

    /*
     * When a segment does not fit, remember where it started and at which depth; the rest is
     * still validated (so a malformed target is 400 whatever the buffer size) and a later ".."
     * that climbs back above that depth makes out exact again. Only a result that really does not
     * fit is 414.
     */
    bool overflow = false;
    size_t ovf_depth = 0;
    size_t ovf_mark = 0;

    size_t i = start;
    while (i < end) {
        if (t[i] == '/') {
            /* empty segments ("a//b") collapse */
            i++;
            trailing = true;
            continue;
        }

        size_t mark = len;
        size_t pos = len;
        size_t dlen = 0;
        bool dots_only = true;
        bool seg_fits = !overflow;

        if (seg_fits && pos > 0) {
            if (pos + 1 < outsz)
                out[pos++] = '/';
            else
                seg_fits = false;
        }
        for (; i < end && t[i] != '/'; i++) {
            uint8_t c = t[i];

            if (c == '%') {
                int hi = i + 2 < end ? http_hex_value(t[i + 1]) : -1;
                int lo = i + 2 < end ? http_hex_value(t[i + 2]) : -1;
                if (hi < 0 || lo < 0)
                    return -400;
                c = (uint8_t)(hi << 4 | lo);
                i += 2;
                /* A decoded '/' would make two segments out of one and a NUL would cut the
                 * name short at the syscall: neither can name a file. */
                if (c == '/' || c == 0)
                    return -400;
            }
            if (c != '.')
                dots_only = false;
            dlen++;
            if (seg_fits) {
                if (pos + 1 < outsz)
                    out[pos++] = (char)c;
                else
                    seg_fits = false;
            }
        }

        /* Escaped dots count as dots: "%2e%2e" is ".." (RFC 3986 §2.3, §6.2.2.2 normalise
         * unreserved escapes before removing dot-segments). */
        if (dots_only && dlen <= 2) {
            /* nothing of it was committed: len still ends before its separator */
            trailing = true;
            if (dlen == 1)
                continue;
            if (depth == 0)
                return -400; /* ".." above the root */
            depth--;
            if (overflow) {
                if (depth < ovf_depth) {
                    overflow = false;
                    len = ovf_mark;
                }
            } else {
                /* decoded segments hold no '/', so the last one in out is the boundary */
                while (len > 0 && out[len - 1] != '/')
                    len--;
                if (len > 0)
                    len--;
            }
            continue;
        }

        trailing = false;
        depth++;
        if (overflow)
            continue;
        if (!seg_fits) {
            overflow = true;
            ovf_depth = depth;
            ovf_mark = mark;
            continue;
        }
        len = pos;
    }

    if (overflow || len >= outsz)
        return -414;
    out[len] = '\0';
    res->len = len;
    res->trailing_slash = trailing;
    return 0;
}
