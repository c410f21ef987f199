/* SPDX-License-Identifier: MIT */
/*
 * Entity tags (RFC 9110 §8.8.3): our strong validator for files, and matching of the lists in
 * If-Match / If-None-Match.
 *
 * A file's tag is "<ino>-<size>-<mtime_ns>" in lower-case hex. It is strong because the server
 * never hands out two different bodies under one tag unless a writer restores size and mtime to
 * the nanosecond (utimensat) — the same assumption every file server makes. It is not a content
 * hash: rewriting identical bytes still changes it, which only costs a re-download.
 *
 * Matching parses the complete list first: an element that is not an entity-tag makes the whole
 * field malformed, and a malformed field matches nothing (the caller then answers as if no tag
 * matched — 412 for If-Match, proceed for If-None-Match). Empty list elements are allowed
 * (§5.6.1). "W/" is case-sensitive (§8.8.3: weak = %s"W/").
 */
#include "etag.h"

#include <assert.h>

static char *put_hex(char *p, uint64_t v)
{
    char tmp[16];
    size_t n = 0;

    do {
        tmp[n++] = "0123456789abcdef"[v & 0xf];
        v >>= 4;
    } while (v != 0);
    while (n > 0)
        *p++ = tmp[--n];
    return p;
}

size_t http_etag_format(char out[HTTP_ETAG_MAX], uint64_t ino, uint64_t size, int64_t mtime_ns)
{
    /* worst case: 2 quotes + 3 * 16 digits + 2 dashes + NUL = 53 */
    static_assert(HTTP_ETAG_MAX >= 53, "HTTP_ETAG_MAX too small for the file tag");
    char *p = out;

    *p++ = '"';
    p = put_hex(p, ino);
    *p++ = '-';
    p = put_hex(p, size);
    *p++ = '-';
    /* pre-1970 times are negative; their two's complement bits are just as unique */
    p = put_hex(p, (uint64_t)mtime_ns);
    *p++ = '"';
    *p = '\0';
    return (size_t)(p - out);
}

static bool is_ows(uint8_t c)
{
    return c == ' ' || c == '\t';
}

/* etagc = %x21 / %x23-7E / obs-text */
static bool is_etagc(uint8_t c)
{
    return c == 0x21 || (c >= 0x23 && c != 0x7f);
}

struct tag {
    struct iov opaque; /* including the quotes */
    bool weak;
};

/*
 * entity-tag = [ weak ] opaque-tag at s[*i..len); advances *i past it.
 * Returns false when there is no well-formed entity-tag there.
 */
static bool take_tag(const uint8_t *s, size_t len, size_t *i, struct tag *t)
{
    size_t p = *i;

    t->weak = false;
    if (len - p >= 2 && s[p] == 'W' && s[p + 1] == '/') {
        t->weak = true;
        p += 2;
    }
    if (p == len || s[p] != '"')
        return false;
    size_t open = p++;
    while (p < len && is_etagc(s[p]))
        p++;
    if (p == len || s[p] != '"')
        return false;
    p++;
    t->opaque = iov_make(s + open, p - open);
    *i = p;
    return true;
}

/* RFC 9110 §8.8.3.2: strong comparison needs both strong; weak ignores the W/ prefix. */
static bool tags_equal(const struct tag *a, const struct tag *b, bool strong)
{
    if (strong && (a->weak || b->weak))
        return false;
    return iov_eq(a->opaque, b->opaque);
}

bool http_etag_match(struct iov list, struct iov etag, bool strong)
{
    struct tag ours;
    size_t i = 0;

    /* An empty or malformed 'etag' means there is no current representation: nothing matches,
     * not even "*" (§13.1.1, §13.1.2). */
    if (etag.len == 0 || !take_tag(etag.base, etag.len, &i, &ours) || i != etag.len)
        return false;
    if (list.len == 0)
        return false;

    const uint8_t *s = list.base;
    size_t len = list.len;
    size_t b = 0;
    size_t e = len;
    while (b < e && is_ows(s[b]))
        b++;
    while (e > b && is_ows(s[e - 1]))
        e--;
    /* "*" stands alone; it is not a member of a list (If-Match = "*" / #entity-tag) */
    if (e - b == 1 && s[b] == '*')
        return true;

    bool matched = false;
    i = b;
    for (;;) {
        while (i < e && is_ows(s[i]))
            i++;
        if (i < e && s[i] != ',') {
            struct tag t;
            if (!take_tag(s, e, &i, &t))
                return false;
            if (tags_equal(&t, &ours, strong))
                matched = true;
            while (i < e && is_ows(s[i]))
                i++;
        }
        if (i == e)
            break;
        if (s[i] != ',')
            return false;
        i++;
    }
    return matched;
}
