/* SPDX-License-Identifier: MIT */
/*
 * Strict RFC 9112 request-head parser (see parse.h).
 *
 * Two passes. A lexer state machine looks at each byte once as input arrives and refuses bad
 * syntax at the byte that makes it bad (bare CR or LF, CTLs, NUL, obs-fold, whitespace before a
 * colon, a malformed request line) and enforces the limits early: 414 as soon as the target grows
 * past max_target, 431 as soon as max_head bytes pass without the end of the head, or a field
 * line beyond max_headers starts. When the lexer sees the empty line, a second pass runs once
 * over the complete, already validated head: it cuts it into slices and applies the rules that
 * need all fields at once (Content-Length, Transfer-Encoding, Host, Connection, Expect).
 *
 * Judgement calls (each cited where it is made):
 *  - Transfer-Encoding whose final coding is not chunked is 400 (RFC 9112 §6.3 item 4 is a
 *    MUST), even when that coding is also unknown; an unknown coding before a final chunked is
 *    501 (§6.1 SHOULD). Chunked twice, or chunked with parameters, is 400.
 *  - Transfer-Encoding in an HTTP/1.0 request is 400: §6.1 lets a server treat it as faulty
 *    framing, and we cannot trust a 1.0 peer (or a 1.0 proxy in front of us) to agree with us.
 *  - Content-Length above 2^63-1 is 400: it could not be a file offset anyway.
 *  - Only HTTP/1.0 and HTTP/1.1 are accepted; any other well-formed HTTP/x.y is 505, including
 *    HTTP/1.2 (RFC 9110 §2.5 would allow treating it as 1.1; we prefer to be exact).
 *  - At most MAX_LEADING_EMPTY empty lines before the request line (§2.2 says "at least one").
 *  - A Host field value that is not a valid uri-host [":" port] is 400 (§3.2 MUST).
 *
 * Not done here: decoding or normalising the request-target (path.c); using the authority of an
 * absolute-form target instead of Host (§3.2.2, the handler's job); judging methods; bodies
 * (chunked.c). Connection and Expect are read leniently: a malformed element ends the scan of
 * that field instead of refusing the request, since neither decides message framing.
 */
#include "parse.h"

#include <limits.h>
#include <string.h>

#include "chars.h"

/* RFC 9112 §2.2 asks for "at least one" leading empty line to be ignored; a few more is polite,
 * an endless stream of them is a way to hold a connection open without sending a request. */
#define MAX_LEADING_EMPTY 8

const struct http_limits http_limits_default = {
    .max_head = 16384,
    .max_target = 8192,
    .max_headers = HTTP_MAX_HEADERS,
};

enum lex_state {
    LEX_LEAD = 0, /* before the request line: an empty line or the method's first byte */
    LEX_LEAD_LF,  /* CR of a leading empty line seen, want LF */
    LEX_METHOD,   /* in the method token */
    LEX_TARGET,   /* in the request-target (mark = its start) */
    LEX_VERSION,  /* in HTTP-version (mark = its start), then the CR */
    LEX_RL_LF,    /* CR after the version seen, want LF */
    LEX_LINE,     /* at the start of a field line or of the final CRLF */
    LEX_NAME,     /* in a field name, until ':' */
    LEX_VALUE,    /* in a field value, until CR */
    LEX_FIELD_LF, /* CR after a field value seen, want LF */
    LEX_END_LF,   /* CR of the empty line seen, want LF */
    LEX_DONE,     /* head complete; scanned is its length */
    LEX_FAILED,   /* result holds the error */
};

/* Refuse the request for good: later calls return the same status. */
static int lex_fail(struct http_parser *p, size_t at, int status)
{
    p->scanned = at;
    p->state = LEX_FAILED;
    p->result = status;
    return status;
}

/* RFC 9112 §2.3: HTTP-version = HTTP-name "/" DIGIT "." DIGIT, HTTP-name = %s"HTTP"
 * (case-sensitive). k is the byte's offset within the version. */
static bool version_byte_ok(size_t k, uint8_t c)
{
    static const char prefix[] = "HTTP/";

    if (k < sizeof(prefix) - 1)
        return c == (uint8_t)prefix[k];
    if (k == 6)
        return c == '.';
    return http_is_digit(c); /* k == 5 or 7 */
}

#define VERSION_LEN 8 /* "HTTP/1.1" */

/*
 * Look at buf[p->scanned..len) byte by byte. Returns the head length once the empty line ending
 * it is seen, 0 when every byte so far is a valid prefix, or a negative status.
 */
static int lex(struct http_parser *p, const uint8_t *buf, size_t len, const struct http_limits *lim)
{
    size_t max_head = lim->max_head < (size_t)INT_MAX ? lim->max_head : (size_t)INT_MAX;
    size_t max_headers = lim->max_headers < HTTP_MAX_HEADERS ? lim->max_headers : HTTP_MAX_HEADERS;
    size_t end = len < max_head ? len : max_head;
    size_t i = p->scanned;

    for (; i < end; i++) {
        uint8_t c = buf[i];

        switch (p->state) {
        case LEX_LEAD:
            if (c == '\r') {
                p->state = LEX_LEAD_LF;
                break;
            }
            /* Anything else must start the method: a bare LF, SP, or a CTL is refused. */
            if (!http_is_tchar(c))
                return lex_fail(p, i, -400);
            p->state = LEX_METHOD;
            break;
        case LEX_LEAD_LF:
            if (c != '\n')
                return lex_fail(p, i, -400);
            p->count++;
            if (p->count > MAX_LEADING_EMPTY)
                return lex_fail(p, i, -400);
            p->state = LEX_LEAD;
            break;
        case LEX_METHOD:
            /* RFC 9112 §3: exactly one SP between the parts of the request line. */
            if (c == ' ') {
                p->mark = i + 1;
                p->state = LEX_TARGET;
                break;
            }
            if (!http_is_tchar(c))
                return lex_fail(p, i, -400);
            break;
        case LEX_TARGET:
            if (c == ' ') {
                if (i == p->mark)
                    return lex_fail(p, i, -400); /* empty target, or two SPs */
                p->mark = i + 1;
                p->state = LEX_VERSION;
                break;
            }
            /* RFC 9112 §3.2: the target is a URI reference, visible ASCII only; a CR or LF
             * here is also an HTTP/0.9 request line, which we do not speak. */
            if (c <= 0x20 || c >= 0x7f)
                return lex_fail(p, i, -400);
            /* RFC 9112 §3: 414 as soon as the target is known to be too long, not only when the
             * head is complete, so a huge target cannot make us buffer it first. */
            if (i - p->mark >= lim->max_target)
                return lex_fail(p, i, -414);
            break;
        case LEX_VERSION: {
            size_t k = i - p->mark;

            if (k == VERSION_LEN) {
                if (c != '\r')
                    return lex_fail(p, i, -400);
                p->state = LEX_RL_LF;
                break;
            }
            if (!version_byte_ok(k, c))
                return lex_fail(p, i, -400);
            break;
        }
        case LEX_RL_LF: {
            if (c != '\n')
                return lex_fail(p, i, -400);
            /* RFC 9110 §15.6.6: a well-formed version we do not support is 505. */
            uint8_t major = buf[p->mark + 5];
            uint8_t minor = buf[p->mark + 7];
            if (major != '1' || (minor != '0' && minor != '1'))
                return lex_fail(p, i, -505);
            p->count = 0;
            p->state = LEX_LINE;
            break;
        }
        case LEX_LINE:
            if (c == '\r') {
                p->state = LEX_END_LF;
                break;
            }
            /* RFC 9112 §5.2: obs-fold is refused with 400 (we are not a user agent), and §2.2:
             * whitespace between the start-line and the first field line is refused too, since
             * another parser might take the line for part of the request line. */
            if (!http_is_tchar(c))
                return lex_fail(p, i, -400);
            p->count++;
            if (p->count > max_headers)
                return lex_fail(p, i, -431);
            p->state = LEX_NAME;
            break;
        case LEX_NAME:
            if (c == ':') {
                p->state = LEX_VALUE;
                break;
            }
            /* RFC 9112 §5.1: whitespace between the name and the colon MUST be 400. */
            if (!http_is_tchar(c))
                return lex_fail(p, i, -400);
            break;
        case LEX_VALUE:
            if (c == '\r') {
                p->state = LEX_FIELD_LF;
                break;
            }
            if (!http_is_field_byte(c))
                return lex_fail(p, i, -400);
            break;
        case LEX_FIELD_LF:
            /* RFC 9112 §2.2: a bare CR is refused, not taken as a line end. */
            if (c != '\n')
                return lex_fail(p, i, -400);
            p->state = LEX_LINE;
            break;
        case LEX_END_LF:
            if (c != '\n')
                return lex_fail(p, i, -400);
            p->scanned = i + 1;
            p->state = LEX_DONE;
            return (int)(i + 1);
        default:
            /* LEX_DONE and LEX_FAILED return before the loop. */
            return lex_fail(p, i, -400);
        }
    }
    p->scanned = i;
    /* Whatever comes next, the head will be longer than max_head. */
    if (i >= max_head)
        return lex_fail(p, i, -431);
    return 0;
}

/* ---- second pass: the complete head ---- */

static const char *const method_names[] = {
    [HTTP_M_OTHER] = "",          [HTTP_M_GET] = "GET",           [HTTP_M_HEAD] = "HEAD",
    [HTTP_M_POST] = "POST",       [HTTP_M_PUT] = "PUT",           [HTTP_M_DELETE] = "DELETE",
    [HTTP_M_OPTIONS] = "OPTIONS", [HTTP_M_TRACE] = "TRACE",       [HTTP_M_CONNECT] = "CONNECT",
    [HTTP_M_PATCH] = "PATCH",     [HTTP_M_PROPFIND] = "PROPFIND", [HTTP_M_PROPPATCH] = "PROPPATCH",
    [HTTP_M_MKCOL] = "MKCOL",     [HTTP_M_COPY] = "COPY",         [HTTP_M_MOVE] = "MOVE",
    [HTTP_M_LOCK] = "LOCK",       [HTTP_M_UNLOCK] = "UNLOCK",     [HTTP_M_REPORT] = "REPORT",
    [HTTP_M_SEARCH] = "SEARCH",
};

#define N_METHODS (sizeof(method_names) / sizeof(method_names[0]))

const char *http_method_name(enum http_method m)
{
    if ((size_t)m >= N_METHODS)
        return "";
    return method_names[m];
}

/* RFC 9110 §9.1: method names are case-sensitive, so "get" is an unknown method, not GET. */
static enum http_method method_lookup(struct iov name)
{
    for (size_t m = 1; m < N_METHODS; m++) {
        if (iov_eq(name, iov_make(method_names[m], strlen(method_names[m]))))
            return (enum http_method)m;
    }
    return HTTP_M_OTHER;
}

const struct http_header *http_header_find(const struct http_request *req, const char *name)
{
    for (size_t i = 0; i < req->n_headers; i++) {
        if (iov_eq_nocase(req->headers[i].name, name))
            return &req->headers[i];
    }
    return NULL;
}

/* Scan position in a field value, for list parsing. */
struct cursor {
    const uint8_t *p;
    const uint8_t *end;
};

static void skip_ows(struct cursor *c)
{
    while (c->p < c->end && http_is_ows(*c->p))
        c->p++;
}

static struct iov take_token(struct cursor *c)
{
    const uint8_t *start = c->p;

    while (c->p < c->end && http_is_tchar(*c->p))
        c->p++;
    return iov_make(start, (size_t)(c->p - start));
}

/*
 * RFC 9110 §5.6.4: quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE, with c->p at the
 * opening DQUOTE. The lexer already refused CTLs, so every other byte is qdtext or escapable.
 */
static bool skip_quoted_string(struct cursor *c)
{
    c->p++;
    while (c->p < c->end) {
        uint8_t ch = *c->p++;

        if (ch == '"')
            return true;
        if (ch == '\\') {
            if (c->p == c->end)
                return false;
            c->p++;
        }
    }
    return false;
}

/*
 * Next element of a list of the form #( token *( OWS ";" OWS token BWS "=" BWS
 * ( token / quoted-string ) ) ), the shape of transfer-coding (RFC 9112 §7) and expectation
 * (RFC 9110 §10.1.1). Empty elements are skipped (RFC 9110 §5.6.1). Returns 1 with *name set,
 * 0 at the end of the value, -1 on a syntax error. *has_params tells whether parameters followed.
 */
static int next_element(struct cursor *c, struct iov *name, bool *has_params)
{
    for (;;) {
        skip_ows(c);
        if (c->p == c->end)
            return 0;
        if (*c->p != ',')
            break;
        c->p++;
    }
    *name = take_token(c);
    if (name->len == 0)
        return -1;
    *has_params = false;
    for (;;) {
        skip_ows(c);
        if (c->p == c->end)
            return 1;
        if (*c->p == ',') {
            c->p++;
            return 1;
        }
        if (*c->p != ';')
            return -1;
        c->p++;
        *has_params = true;
        skip_ows(c);
        if (take_token(c).len == 0)
            return -1;
        skip_ows(c);
        if (c->p == c->end || *c->p != '=')
            return -1;
        c->p++;
        skip_ows(c);
        if (c->p < c->end && *c->p == '"') {
            if (!skip_quoted_string(c))
                return -1;
        } else if (take_token(c).len == 0) {
            return -1;
        }
    }
}

static bool is_unreserved_or_sub_delim(uint8_t c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    /* unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~", then the sub-delims (RFC 3986 §2) */
    return c != '\0' && strchr("-._~!$&'()*+,;=", c) != NULL;
}

/*
 * RFC 9112 §3.2: Host = uri-host [ ":" port ] (RFC 3986 §3.2.2, §3.2.3); an empty value is
 * allowed (for targets without an authority). IP-literals are checked for their character set
 * only, not parsed as addresses.
 */
static bool host_valid(struct iov v)
{
    size_t i = 0;

    if (v.len > 0 && v.base[0] == '[') {
        i = 1;
        while (i < v.len && v.base[i] != ']') {
            if (!is_unreserved_or_sub_delim(v.base[i]) && v.base[i] != ':')
                return false;
            i++;
        }
        if (i == v.len || i == 1)
            return false;
        i++;
    } else {
        while (i < v.len && v.base[i] != ':') {
            uint8_t c = v.base[i];

            if (c == '%') {
                if (i + 2 >= v.len || !http_is_hex(v.base[i + 1]) || !http_is_hex(v.base[i + 2]))
                    return false;
                i += 3;
                continue;
            }
            if (!is_unreserved_or_sub_delim(c))
                return false;
            i++;
        }
    }
    if (i == v.len)
        return true;
    if (v.base[i] != ':')
        return false;
    for (i++; i < v.len; i++) {
        if (!http_is_digit(v.base[i]))
            return false;
    }
    return true;
}

/* RFC 9110 §8.6: Content-Length = 1*DIGIT; we cap it at 2^63-1 (see the file header). */
static int parse_content_length(struct iov v, uint64_t *out)
{
    uint64_t n = 0;

    if (v.len == 0)
        return -400;
    for (size_t i = 0; i < v.len; i++) {
        if (!http_is_digit(v.base[i]))
            return -400; /* "+5", "1, 2", "5 5", hex... (RFC 9112 §6.3 item 5) */
        uint64_t d = v.base[i] - '0';
        if (n > ((uint64_t)INT64_MAX - d) / 10)
            return -400;
        n = n * 10 + d;
    }
    *out = n;
    return 0;
}

/* What the framing fields said, collected over all field lines before judging them. */
struct framing {
    unsigned n_content_length;
    unsigned n_host;
    bool has_te;
    bool te_syntax_error;
    bool te_last_chunked; /* the last coding seen so far is plain "chunked" */
    unsigned te_chunked;  /* how many times "chunked" appeared */
    bool te_unknown;      /* a coding other than chunked appeared */
    bool conn_close;
    bool conn_keep_alive;
};

/* A Transfer-Encoding field line; several lines form one list in order (RFC 9110 §5.3). */
static void note_transfer_encoding(struct framing *f, struct iov v)
{
    struct cursor c = {v.base, v.base + v.len};
    struct iov name;
    bool has_params;
    int r;

    f->has_te = true;
    for (;;) {
        r = next_element(&c, &name, &has_params);
        if (r <= 0)
            break;
        /* RFC 9112 §7: transfer-coding names are case-insensitive. */
        if (iov_eq_nocase(name, "chunked")) {
            f->te_chunked++;
            /* chunked defines no parameters; one we would ignore is an ambiguity. */
            if (has_params)
                f->te_syntax_error = true;
            f->te_last_chunked = true;
        } else {
            f->te_unknown = true;
            f->te_last_chunked = false;
        }
    }
    if (r < 0)
        f->te_syntax_error = true;
}

/* RFC 9112 §9.3, §9.6: Connection = #connection-option (tokens). */
static void note_connection(struct framing *f, struct iov v)
{
    struct cursor c = {v.base, v.base + v.len};
    struct iov name;
    bool has_params;

    while (next_element(&c, &name, &has_params) > 0) {
        if (iov_eq_nocase(name, "close"))
            f->conn_close = true;
        else if (iov_eq_nocase(name, "keep-alive"))
            f->conn_keep_alive = true;
    }
}

/* RFC 9110 §10.1.1: Expect = #expectation; only "100-continue" (no parameters) is defined. */
static bool has_100_continue(struct iov v)
{
    struct cursor c = {v.base, v.base + v.len};
    struct iov name;
    bool has_params;

    while (next_element(&c, &name, &has_params) > 0) {
        if (!has_params && iov_eq_nocase(name, "100-continue"))
            return true;
    }
    return false;
}

static int note_field(struct http_request *req, struct framing *f, const struct http_header *h)
{
    switch (h->name.len) {
    case 4:
        if (iov_eq_nocase(h->name, "host")) {
            f->n_host++;
            /* RFC 9112 §3.2: more than one Host line, or an invalid value, MUST be 400. */
            if (f->n_host > 1 || !host_valid(h->value))
                return -400;
            req->host = h->value;
        }
        return 0;
    case 6:
        /* RFC 9110 §10.1.1: a 100-continue in an HTTP/1.0 request MUST be ignored. */
        if (iov_eq_nocase(h->name, "expect") && req->version_minor == 1 &&
            has_100_continue(h->value))
            req->expect_continue = true;
        return 0;
    case 10:
        if (iov_eq_nocase(h->name, "connection"))
            note_connection(f, h->value);
        return 0;
    case 14:
        if (iov_eq_nocase(h->name, "content-length")) {
            /* RFC 9112 §6.3 item 5: we refuse any second Content-Length, even an equal one,
             * rather than merge them: a peer that merges differently is a smuggling vector. */
            f->n_content_length++;
            if (f->n_content_length > 1)
                return -400;
            return parse_content_length(h->value, &req->content_length);
        }
        return 0;
    case 17:
        if (iov_eq_nocase(h->name, "transfer-encoding"))
            note_transfer_encoding(f, h->value);
        return 0;
    default:
        return 0;
    }
}

/* Decide the body framing (RFC 9112 §6.3) once all fields are seen. */
static int judge_framing(struct http_request *req, const struct framing *f)
{
    if (req->version_minor == 1 && f->n_host == 0)
        return -400; /* RFC 9112 §3.2 */
    if (f->has_te) {
        /* RFC 9112 §6.1: TE in a 1.0 request is faulty framing (see the file header). */
        if (req->version_minor == 0)
            return -400;
        /* RFC 9112 §6.3 item 3: TE with Content-Length is a smuggling attempt; 400 and close
         * instead of letting TE win, since a peer in front of us may have used the length. */
        if (f->n_content_length > 0)
            return -400;
        /* §6.3 item 4: chunked must be the final coding (MUST 400), and §7.1: applied once. */
        if (f->te_syntax_error || !f->te_last_chunked || f->te_chunked != 1)
            return -400;
        /* §6.1: a coding we do not implement (gzip, ...) before the chunked. */
        if (f->te_unknown)
            return -501;
        req->body = HTTP_BODY_CHUNKED;
    } else if (f->n_content_length > 0 && req->content_length > 0) {
        req->body = HTTP_BODY_LENGTH;
    }

    if (req->version_minor == 1)
        req->keep_alive = !f->conn_close;
    else
        req->keep_alive = f->conn_keep_alive && !f->conn_close;
    return 0;
}

/* The head buf[0..n) passed the lexer: every line is well formed and ends in CRLF. */
static int parse_head(const uint8_t *buf, size_t n, struct http_request *req)
{
    size_t i = 0;

    while (buf[i] == '\r')
        i += 2; /* leading empty lines */

    const uint8_t *sp = memchr(buf + i, ' ', n - i);
    req->method_name = iov_make(buf + i, (size_t)(sp - (buf + i)));
    req->method = method_lookup(req->method_name);
    i = (size_t)(sp - buf) + 1;
    sp = memchr(buf + i, ' ', n - i);
    req->target = iov_make(buf + i, (size_t)(sp - (buf + i)));
    i = (size_t)(sp - buf) + 1;
    req->version_minor = buf[i + 7] - '0';
    i += VERSION_LEN + 2;

    req->n_headers = 0;
    req->host = iov_make(NULL, 0);
    req->keep_alive = false;
    req->expect_continue = false;
    req->body = HTTP_BODY_NONE;
    req->content_length = 0;

    struct framing f = {0};
    while (buf[i] != '\r') {
        struct http_header *h = &req->headers[req->n_headers++];
        const uint8_t *colon = memchr(buf + i, ':', n - i);
        const uint8_t *cr = memchr(colon, '\r', (size_t)(buf + n - colon));
        const uint8_t *vs = colon + 1;
        const uint8_t *ve = cr;

        h->name = iov_make(buf + i, (size_t)(colon - (buf + i)));
        while (vs < ve && http_is_ows(*vs))
            vs++;
        while (ve > vs && http_is_ows(ve[-1]))
            ve--;
        h->value = iov_make(vs, (size_t)(ve - vs));
        i = (size_t)(cr - buf) + 2;

        int r = note_field(req, &f, h);
        if (r < 0)
            return r;
    }
    return judge_framing(req, &f);
}

int http_parse_request(struct http_parser *p, const uint8_t *buf, size_t len,
                       const struct http_limits *lim, struct http_request *req)
{
    if (!lim)
        lim = &http_limits_default;
    if (p->state == LEX_FAILED)
        return p->result;

    int n = p->state == LEX_DONE ? (int)p->scanned : lex(p, buf, len, lim);
    if (n <= 0)
        return n;

    int r = parse_head(buf, (size_t)n, req);
    if (r < 0) {
        p->state = LEX_FAILED;
        p->result = r;
        return r;
    }
    return n;
}
