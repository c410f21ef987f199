/* SPDX-License-Identifier: MIT */
/*
 * Range header evaluation (RFC 9110 §14.1, §14.2) for a representation of known length.
 *
 * The whole field value is parsed before anything is decided, so one bad range-spec anywhere
 * makes the header ignored (§14.2). Then every range-spec is resolved against the length:
 * unsatisfiable ones are dropped (§14.1.1), the rest clipped. The result is one of
 *   IGNORE         - send 200 with the whole representation;
 *   OK             - send 206 with out[0..n) in the order the client asked;
 *   UNSATISFIABLE  - send 416 with "Content-Range: bytes * /size" (no space).
 *
 * Policy choices, all permitted by §14.2 ("MAY ignore"):
 *  - more than HTTP_RANGE_MAX range-specs (counting unsatisfiable ones): IGNORE;
 *  - satisfiable ranges that overlap or touch: IGNORE. We do not coalesce (§15.3.7.2 allows it
 *    but it changes what the client asked for); a plain 200 is always correct;
 *  - a number that does not fit in 64 bits: IGNORE (no file is that large, and the header is
 *    then not worth the risk of guessing);
 *  - a zero-length representation: every int-range is unsatisfiable (416), but §14.1.2 says a
 *    suffix-range with a non-zero length is satisfiable there, and no Content-Range can describe
 *    an empty part, so a header with such a suffix is IGNOREd (200 with the empty body) rather
 *    than wrongly answered 416.
 * Leading and trailing OWS around each list element, and empty list elements (§5.6.1), are
 * accepted. Only the "bytes" unit is known; any other unit is ignored, as §14.2 requires.
 */
#include "range.h"
#include "chars.h"

struct spec {
    uint64_t first; /* int-range first-pos */
    uint64_t last;  /* int-range last-pos, or suffix-length */
    bool has_last;  /* int-range: last-pos present */
    bool is_suffix;
};

/* 1*DIGIT at *p; false when there is none or it overflows 64 bits. */
static bool parse_u64(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    const uint8_t *s = *p;
    uint64_t v = 0;

    if (s == end || !http_is_digit(*s))
        return false;
    for (; s < end && http_is_digit(*s); s++) {
        uint64_t d = (uint64_t)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *p = s;
    *out = v;
    return true;
}

/* One range-spec occupying exactly [p, end) (OWS already trimmed). */
static bool parse_spec(const uint8_t *p, const uint8_t *end, struct spec *sp)
{
    *sp = (struct spec){0};
    if (*p == '-') {
        /* suffix-range = "-" suffix-length */
        p++;
        sp->is_suffix = true;
        return parse_u64(&p, end, &sp->last) && p == end;
    }
    /* int-range = first-pos "-" [ last-pos ] */
    if (!parse_u64(&p, end, &sp->first))
        return false;
    if (p == end || *p != '-')
        return false;
    p++;
    if (p == end)
        return true;
    if (!parse_u64(&p, end, &sp->last) || p != end)
        return false;
    sp->has_last = true;
    /* §14.1.1: a last-pos below first-pos makes the range-spec invalid */
    return sp->last >= sp->first;
}

/* Parse the whole field value; -1 when it is to be ignored, else the number of specs. */
static int parse_header(struct iov value, struct spec specs[HTTP_RANGE_MAX])
{
    static const char unit[] = "bytes";

    if (value.len == 0)
        return -1;
    const uint8_t *p = value.base;
    const uint8_t *end = value.base + value.len;
    while (p < end && http_is_ows(*p))
        p++;
    /* range-unit is compared case-insensitively (§14.1) */
    for (size_t i = 0; i < sizeof(unit) - 1; i++, p++) {
        if (p == end || (*p | 0x20) != unit[i])
            return -1;
    }
    if (p == end || *p != '=')
        return -1;
    p++;

    int n = 0;
    for (;;) {
        const uint8_t *comma = p;
        while (comma < end && *comma != ',')
            comma++;
        const uint8_t *s = p;
        const uint8_t *e = comma;
        while (s < e && http_is_ows(*s))
            s++;
        while (e > s && http_is_ows(e[-1]))
            e--;
        if (s < e) {
            if (n == HTTP_RANGE_MAX)
                return -1;
            if (!parse_spec(s, e, &specs[n]))
                return -1;
            n++;
        }
        if (comma == end)
            break;
        p = comma + 1;
    }
    /* range-set = 1#range-spec: at least one non-empty element */
    return n > 0 ? n : -1;
}

enum http_range_result http_range_parse(struct iov value, uint64_t size,
                                        struct http_range out[HTTP_RANGE_MAX], size_t *n)
{
    struct spec specs[HTTP_RANGE_MAX];

    *n = 0;
    int count = parse_header(value, specs);
    if (count < 0)
        return HTTP_RANGE_IGNORE;

    if (size == 0) {
        /* §14.1.2: on a zero-length representation only a non-zero suffix-range is
         * satisfiable, and 206 cannot express an empty part: answer 200 (§14.2 MAY ignore). */
        for (int i = 0; i < count; i++) {
            if (specs[i].is_suffix && specs[i].last > 0)
                return HTTP_RANGE_IGNORE;
        }
        return HTTP_RANGE_UNSATISFIABLE;
    }

    size_t k = 0;
    for (int i = 0; i < count; i++) {
        const struct spec *sp = &specs[i];
        struct http_range r;

        if (sp->is_suffix) {
            /* §14.1.2: a suffix-length of 0 selects nothing; a longer one than the
             * representation selects all of it */
            if (sp->last == 0)
                continue;
            r.first = sp->last >= size ? 0 : size - sp->last;
            r.last = size - 1;
        } else {
            /* §14.1.1: an int-range is satisfiable when first-pos < length */
            if (sp->first >= size)
                continue;
            r.first = sp->first;
            r.last = sp->has_last && sp->last < size ? sp->last : size - 1;
        }
        out[k++] = r;
    }
    if (k == 0)
        return HTTP_RANGE_UNSATISFIABLE;

    /* §14.2 lets a server ignore overlapping ranges; adjacent ones would be cheaper as one, so
     * they are refused too rather than silently merged. last < size <= UINT64_MAX, so +1 is
     * safe. */
    for (size_t i = 0; i < k; i++) {
        for (size_t j = i + 1; j < k; j++) {
            if (out[i].first <= out[j].last + 1 && out[j].first <= out[i].last + 1)
                return HTTP_RANGE_IGNORE;
        }
    }
    *n = k;
    return HTTP_RANGE_OK;
}
