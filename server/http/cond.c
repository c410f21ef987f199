/* SPDX-License-Identifier: MIT */
/*
 * Conditional requests (RFC 9110 §13): preconditions in the order of §13.2.2, and If-Range.
 *
 * The caller decides when to call: §13.2.1 says preconditions are ignored when the response
 * without them would not have been 2xx or 412 (e.g. 404 for a missing parent, 401, 405), so
 * evaluate after authorisation and method checks, before doing the work.
 *
 * List fields (If-Match, If-None-Match) may arrive split over several field lines (§5.3); a
 * tag in any of them counts. Date fields with more than one field line are a list of dates, which
 * §13.1.3/§13.1.4 say to ignore. Unparseable dates are ignored too.
 *
 * Known gaps: the "already applied" escape of §13.2.2 steps 1 and 2 (answering 2xx to a retried
 * state-changing request whose effect is already visible) is not implemented; If-Range accepts a
 * date equal to Last-Modified without checking that Last-Modified is a strong validator in the
 * sense of §8.8.2.2 (at least a second older than the Date of the original response).
 */
#include "cond.h"

#include "date.h"
#include "etag.h"

/* The next field line named 'name' after 'h' (which came from http_header_find), or NULL. */
static const struct http_header *next_line(const struct http_request *req,
                                           const struct http_header *h, const char *name)
{
    size_t first = (size_t)(h - req->headers) + 1;

    for (size_t i = first; i < req->n_headers; i++) {
        if (iov_eq_nocase(req->headers[i].name, name))
            return &req->headers[i];
    }
    return NULL;
}

/* Does any field line of the list field starting at h match the representation's tag? */
static bool any_line_matches(const struct http_request *req, const struct http_header *h,
                             const char *name, struct iov etag, bool strong)
{
    for (; h; h = next_line(req, h, name)) {
        if (http_etag_match(h->value, etag, strong))
            return true;
    }
    return false;
}

/* The date in a single-valued date field; false when absent, repeated or unparseable. */
static bool field_date(const struct http_request *req, const char *name, time_t *out)
{
    const struct http_header *h = http_header_find(req, name);

    if (!h || next_line(req, h, name))
        return false;
    return http_date_parse(h->value, out) == 0;
}

static bool is_get_or_head(const struct http_request *req)
{
    return req->method == HTTP_M_GET || req->method == HTTP_M_HEAD;
}

int http_cond_evaluate(const struct http_request *req, const struct http_validators *v)
{
    struct iov etag = v->exists ? v->etag : (struct iov){0};
    time_t date;

    /* §13.2.2 step 1; §13.1.1: strong comparison, "*" is true only if the resource exists */
    const struct http_header *im = http_header_find(req, "If-Match");
    if (im) {
        if (!any_line_matches(req, im, "If-Match", etag, true))
            return 412;
    } else if (v->exists && field_date(req, "If-Unmodified-Since", &date)) {
        /* step 2; §13.1.4: only without If-Match, only with a modification date */
        if (v->mtime > date)
            return 412;
    }

    /* step 3; §13.1.2: weak comparison, "*" is true if the resource exists */
    const struct http_header *inm = http_header_find(req, "If-None-Match");
    if (inm) {
        if (any_line_matches(req, inm, "If-None-Match", etag, false))
            return is_get_or_head(req) ? 304 : 412;
    } else if (is_get_or_head(req) && v->exists && field_date(req, "If-Modified-Since", &date)) {
        /* step 4; §13.1.3: only GET/HEAD, only without If-None-Match */
        if (v->mtime <= date)
            return 304;
    }
    return 0;
}

bool http_cond_if_range(const struct http_request *req, const struct http_validators *v)
{
    const struct http_header *h = http_header_find(req, "If-Range");

    if (!h)
        return true;
    /* From here on any doubt means "send the whole representation", which is always safe. */
    if (!v->exists || next_line(req, h, "If-Range"))
        return false;

    struct iov value = h->value;
    bool is_tag = (value.len > 0 && value.base[0] == '"') ||
                  (value.len > 1 && value.base[0] == 'W' && value.base[1] == '/');
    if (is_tag) {
        /* §13.1.5: an entity-tag must match strongly; a weak tag (W/) never does. Our tag is
         * strong and well-formed, so byte equality is exactly strong comparison. */
        return v->etag.len > 0 && v->etag.base[0] == '"' && iov_eq(value, v->etag);
    }

    time_t date;
    if (http_date_parse(value, &date) != 0)
        return false;
    /* §13.1.5: the date must be an exact match, not "not modified since" */
    return date == v->mtime;
}
