/* SPDX-License-Identifier: MIT */
/*
 * The WebDAV If header (RFC 4918 §10.4): a hand-written recursive-descent parser over the
 * grammar of §10.4.2, evaluation per §10.4.3/§10.4.4, and the submitted lock tokens.
 *
 * Whitespace: the grammar is written with RFC 2616's implied *LWS, so SP and HTAB may appear
 * between any two of its tokens and separators ("(", ")", "[", "]", "Not", a Coded-URL, a
 * Resource-Tag) — including none at all, as in "(<a>[\"x\"])". Inside a Coded-URL or
 * Resource-Tag there is none (§10.4.2 says so). obs-fold never gets here: the request parser
 * refuses it. "Not" is matched case-insensitively (ABNF literals are, RFC 5234 §2.3);
 * "W/" is not (RFC 9110 §8.8.3: weak = %s"W/").
 *
 * Not done here: finding the header (the caller passes the first If field; a request with two
 * If fields is the caller's to refuse) and deciding what "covered by a lock" means.
 */
#include "ifheader.h"

#include <errno.h>

#include "davhdr.h"
#include "path.h"

struct cursor {
    const uint8_t *s;
    size_t len;
    size_t i;
};

static void skip_lws(struct cursor *c)
{
    while (c->i < c->len && (c->s[c->i] == ' ' || c->s[c->i] == '\t'))
        c->i++;
}

static bool at(const struct cursor *c, uint8_t ch)
{
    return c->i < c->len && c->s[c->i] == ch;
}

/*
 * "<" ... ">" with no whitespace inside; sets *inner to what lies between. Returns 0 or
 * -EINVAL (no closing '>', or a '<' or whitespace before it).
 */
static int take_angle(struct cursor *c, struct iov *inner)
{
    size_t start = ++c->i;

    while (c->i < c->len && c->s[c->i] != '>') {
        uint8_t ch = c->s[c->i];
        if (ch == '<' || ch <= 0x20 || ch == 0x7f)
            return -EINVAL;
        c->i++;
    }
    if (c->i == c->len)
        return -EINVAL;
    *inner = iov_make(c->s + start, c->i - start);
    c->i++;
    return 0;
}

/*
 * etagc = %x21 / %x23-7E / obs-text (RFC 9110 §8.8.3), plus SP and HTAB: RFC 4918 was written
 * against RFC 2616, where opaque-tag was a quoted-string, and its own examples (§10.4.6,
 * §10.4.9) use tags like "I am an ETag". Such a tag can never match one of ours, but refusing
 * it with 400 would fail requests the RFC calls valid.
 */
static bool is_etagc(uint8_t ch)
{
    return ch == 0x21 || ch == ' ' || ch == '\t' || (ch >= 0x23 && ch != 0x7f);
}

/* entity-tag = [ weak ] opaque-tag; sets *tag to it, "W/" and quotes included. */
static int take_etag(struct cursor *c, struct iov *tag)
{
    size_t start = c->i;

    if (c->len - c->i >= 2 && c->s[c->i] == 'W' && c->s[c->i + 1] == '/')
        c->i += 2;
    if (!at(c, '"'))
        return -EINVAL;
    c->i++;
    while (c->i < c->len && is_etagc(c->s[c->i]))
        c->i++;
    if (!at(c, '"'))
        return -EINVAL;
    c->i++;
    *tag = iov_make(c->s + start, c->i - start);
    return 0;
}

static bool take_not(struct cursor *c)
{
    if (c->len - c->i < 3)
        return false;
    if (!iov_eq_nocase(iov_make(c->s + c->i, 3), "not"))
        return false;
    c->i += 3;
    return true;
}

/* Condition = ["Not"] (State-token | "[" entity-tag "]") */
static int parse_cond(struct cursor *c, struct dav_if_cond *cond)
{
    cond->negated = take_not(c);
    if (cond->negated)
        skip_lws(c);
    if (at(c, '<')) {
        cond->kind = DAV_IF_TOKEN;
        int rc = take_angle(c, &cond->value);
        if (rc < 0)
            return rc;
        /* State-token = Coded-URL = "<" absolute-URI ">" (§10.4.2, §10.5) */
        return dav_hdr_is_absolute_uri(cond->value) ? 0 : -EINVAL;
    }
    if (at(c, '[')) {
        cond->kind = DAV_IF_ETAG;
        c->i++;
        skip_lws(c);
        int rc = take_etag(c, &cond->value);
        if (rc < 0)
            return rc;
        skip_lws(c);
        if (!at(c, ']'))
            return -EINVAL;
        c->i++;
        return 0;
    }
    return -EINVAL;
}

/* List = "(" 1*Condition ")" */
static int parse_list(struct dav_if *h, struct cursor *c, int32_t resource)
{
    if (h->n_lists == DAV_IF_MAX_LISTS)
        return -EINVAL;
    struct dav_if_list *l = &h->lists[h->n_lists++];
    l->resource = resource;
    l->first = h->n_conds;
    l->count = 0;

    c->i++; /* '(' */
    for (;;) {
        skip_lws(c);
        if (at(c, ')'))
            break;
        if (l->count == DAV_IF_MAX_LIST_CONDS || h->n_conds == DAV_IF_MAX_CONDS)
            return -EINVAL;
        int rc = parse_cond(c, &h->conds[h->n_conds]);
        if (rc < 0)
            return rc;
        h->n_conds++;
        l->count++;
    }
    c->i++;
    /* 1*Condition: "()" is not a list */
    return l->count > 0 ? 0 : -EINVAL;
}

/*
 * Resource-Tag = "<" Simple-ref ">", normalised into h->paths at *used; sets *off to its
 * offset. Simple-ref = absolute-URI | ( path-absolute [ "?" query ] ) (§8.3, §10.4.2).
 */
static int parse_tag(struct dav_if *h, struct cursor *c, size_t *used, int32_t *off)
{
    struct iov ref;
    int rc = take_angle(c, &ref);
    if (rc < 0)
        return rc;
    /* path-absolute cannot begin with "//" (that would be a network-path reference) */
    if (ref.len >= 2 && ref.base[0] == '/' && ref.base[1] == '/')
        return -EINVAL;

    struct http_path res;
    /* The authority of an absolute URI is ignored (see ifheader.h); http_path_normalize
     * refuses other schemes, userinfo, fragments, bad escapes and climbing above the root. */
    rc = http_path_normalize(ref, h->paths + *used, sizeof(h->paths) - *used, &res);
    if (rc < 0)
        return -EINVAL;
    *off = (int32_t)*used;
    *used += res.len + 1;
    return 0;
}

int dav_if_parse(struct dav_if *h, struct iov value)
{
    if (value.len > DAV_IF_MAX_LEN)
        return -EINVAL;

    struct cursor c = {.s = value.base, .len = value.len, .i = 0};
    size_t used = 0;
    int32_t resource = -1;

    h->n_lists = 0;
    h->n_conds = 0;
    skip_lws(&c);
    /* If = "If" ":" ( 1*No-tag-list | 1*Tagged-list ): the first production decides which */
    h->tagged = at(&c, '<');
    if (!h->tagged && !at(&c, '('))
        return -EINVAL;

    while (c.i < c.len) {
        int rc;

        if (at(&c, '<')) {
            /* the two list types cannot be mixed within an If header (§10.4.2) */
            if (!h->tagged)
                return -EINVAL;
            rc = parse_tag(h, &c, &used, &resource);
            if (rc < 0)
                return rc;
            /* Tagged-list = Resource-Tag 1*List */
            skip_lws(&c);
            if (!at(&c, '('))
                return -EINVAL;
        } else if (at(&c, '(')) {
            rc = parse_list(h, &c, resource);
            if (rc < 0)
                return rc;
        } else {
            return -EINVAL;
        }
        skip_lws(&c);
    }
    return 0;
}

const char *dav_if_list_resource(const struct dav_if *h, const struct dav_if_list *l)
{
    return l->resource < 0 ? NULL : h->paths + l->resource;
}

static bool is_weak(struct iov tag)
{
    return tag.len >= 2 && tag.base[0] == 'W' && tag.base[1] == '/';
}

/* RFC 9110 §8.8.3.2 strong comparison: both strong and byte-for-byte equal. An unmapped
 * resource has no entity-tag and matches nothing (§10.4.4 "Handling unmapped URLs"). */
static bool etag_matches(struct iov cond, struct iov current)
{
    if (current.len == 0 || is_weak(cond) || is_weak(current))
        return false;
    return iov_eq(cond, current);
}

static int eval_cond(const struct dav_if_cond *cond, const char *path, const struct dav_if_ops *ops,
                     void *ctx, bool *holds)
{
    bool match;

    if (cond->kind == DAV_IF_TOKEN) {
        int rc = ops->lock_covers(ctx, path, cond->value);
        if (rc < 0)
            return rc;
        match = rc > 0;
    } else {
        struct iov current = {NULL, 0};
        int rc = ops->etag(ctx, path, &current);
        if (rc < 0)
            return rc;
        match = etag_matches(cond->value, current);
    }
    /* "Not" reverses the result of the one condition it prefixes (§10.4.3) */
    *holds = match != cond->negated;
    return 0;
}

int dav_if_eval(const struct dav_if *h, const char *request_path, const struct dav_if_ops *ops,
                void *ctx, bool *result)
{
    /* §10.4.3: a list is the conjunction of its conditions, the header the disjunction of all
     * its lists (a Tagged-list's lists and those of every other production alike). */
    for (size_t li = 0; li < h->n_lists; li++) {
        const struct dav_if_list *l = &h->lists[li];
        const char *path = dav_if_list_resource(h, l);
        bool all = true;

        if (!path)
            path = request_path;
        for (size_t k = 0; k < l->count && all; k++) {
            int rc = eval_cond(&h->conds[l->first + k], path, ops, ctx, &all);
            if (rc < 0)
                return rc;
        }
        if (all) {
            *result = true;
            return 0;
        }
    }
    *result = false;
    return 0;
}

bool dav_if_token_next(const struct dav_if *h, size_t *pos, struct iov *token,
                       const char **resource)
{
    for (size_t ci = *pos; ci < h->n_conds; ci++) {
        if (h->conds[ci].kind != DAV_IF_TOKEN)
            continue;
        /* lists hold consecutive runs of conds, in order */
        size_t li = 0;
        while (ci >= (size_t)h->lists[li].first + h->lists[li].count)
            li++;
        *token = h->conds[ci].value;
        *resource = dav_if_list_resource(h, &h->lists[li]);
        *pos = ci + 1;
        return true;
    }
    *pos = h->n_conds;
    return false;
}

bool dav_if_has_token(const struct dav_if *h, struct iov token)
{
    for (size_t ci = 0; ci < h->n_conds; ci++) {
        if (h->conds[ci].kind == DAV_IF_TOKEN && iov_eq(h->conds[ci].value, token))
            return true;
    }
    return false;
}
