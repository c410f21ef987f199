/* SPDX-License-Identifier: MIT */
/*
 * Strict RFC 9112 request-head parser.
 *
 * The parser is resumable: feed it the whole buffered input each time more arrives; it remembers
 * how far it has scanned for the end of the head, so a short read never rescans. Once the head is
 * complete it is parsed in one pass and every slice in struct http_request points into the
 * caller's buffer, which must stay unchanged while the request is in use.
 *
 * Strictness (RFC 9112 §2.2, §3, §5, §6.3, §11): lines end in CRLF only (a bare CR or bare LF is
 * 400), no obs-fold (400), no whitespace between field name and colon (400), exactly one
 * Content-Length value (duplicates, lists and non-digits are 400), Content-Length together with
 * Transfer-Encoding is 400, a Transfer-Encoding whose final coding is not "chunked" is 400
 * (§6.3: the length cannot be known), one with codings we lack before "chunked" is 501, HTTP/1.1
 * requests need exactly one Host, versions other than HTTP/1.0 and 1.1 are 505.
 * Empty lines before the request line are ignored (RFC 9112 §2.2 allows it).
 */
#ifndef HTTP_PARSE_H
#define HTTP_PARSE_H

#include "iov.h"

enum http_method {
    HTTP_M_OTHER = 0, /* a syntactically valid token we do not know: the handler answers 405/501 */
    HTTP_M_GET,
    HTTP_M_HEAD,
    HTTP_M_POST,
    HTTP_M_PUT,
    HTTP_M_DELETE,
    HTTP_M_OPTIONS,
    HTTP_M_TRACE,
    HTTP_M_CONNECT,
    HTTP_M_PATCH,
    HTTP_M_PROPFIND,
    HTTP_M_PROPPATCH,
    HTTP_M_MKCOL,
    HTTP_M_COPY,
    HTTP_M_MOVE,
    HTTP_M_LOCK,
    HTTP_M_UNLOCK,
    HTTP_M_REPORT,
    HTTP_M_SEARCH,
};

enum http_body_kind {
    HTTP_BODY_NONE,    /* no Content-Length, no Transfer-Encoding, or Content-Length: 0 */
    HTTP_BODY_LENGTH,  /* content_length > 0 bytes follow */
    HTTP_BODY_CHUNKED, /* chunked coding follows, see chunked.h */
};

/* Upper bound on header fields; the configurable limit (struct http_limits) may be lower. */
#define HTTP_MAX_HEADERS 100

struct http_limits {
    size_t max_head;    /* whole head incl. request line and final CRLF; past it: 431 */
    size_t max_target;  /* request-target length; past it: 414 */
    size_t max_headers; /* header field count (<= HTTP_MAX_HEADERS); past it: 431 */
};

/* Defaults: 16 KiB head, 8 KiB target, 100 fields. */
extern const struct http_limits http_limits_default;

struct http_header {
    struct iov name;  /* as sent (case preserved) */
    struct iov value; /* leading and trailing OWS removed */
};

struct http_request {
    enum http_method method;
    struct iov method_name; /* the token as sent */
    struct iov target;      /* request-target as sent, not decoded */
    int version_minor;      /* 0 or 1 (HTTP/1.x) */
    size_t n_headers;
    struct http_header headers[HTTP_MAX_HEADERS];

    /* Derived from the fields above while parsing. */
    struct iov host;
    bool keep_alive;      /* HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with keep-alive */
    bool expect_continue; /* "Expect: 100-continue" (case-insensitive) */
    enum http_body_kind body;
    uint64_t content_length; /* valid when body == HTTP_BODY_LENGTH */
};

/*
 * Resumable lexer state. Only http_parser_init() and parse.c touch the fields: the lexer checks
 * the syntax of each byte exactly once as input arrives, so the work over all calls is linear in
 * the head's length and a bad byte is refused as soon as it is seen.
 */
struct http_parser {
    size_t scanned; /* bytes already searched for the end of the head */
    size_t mark;    /* where the request-target or HTTP-version being lexed starts */
    unsigned count; /* empty lines before the request line, then field lines seen */
    int state;      /* lexer state (private enum in parse.c); 0 = before the request line */
    int result;     /* the final error (-status) once one is found, so it is returned again */
};

static inline void http_parser_init(struct http_parser *p)
{
    p->scanned = 0;
    p->mark = 0;
    p->count = 0;
    p->state = 0;
    p->result = 0;
}

/**
 * Parse the request head at the start of buf[0..len).
 *
 * Returns the head's length in bytes (> 0) when the head is complete and valid, and fills req;
 * 0 when more input is needed (and the input so far is a syntactically valid prefix);
 * or a negative HTTP status, -400, -414, -431, -501 or -505, when the request must be refused.
 * An error status is final (later calls return it again): the connection is answered and closed.
 *
 * 'p' carries the scan position between calls with the same (growing) buffer; the bytes already
 * passed must not change between calls. Reset it with http_parser_init() before the next
 * request. Syntax errors and the 414/431/505 limits are found as soon as the offending byte
 * arrives; the rules that need the whole head (Content-Length, Transfer-Encoding, Host) are
 * checked once it is complete. Leading empty lines count toward the returned length and toward
 * lim->max_head. Nothing at or beyond buf[len] is read, nor anything past the returned length:
 * bytes after the head belong to the body or the next request.
 *
 * lim may be NULL for http_limits_default; lim->max_headers is capped at HTTP_MAX_HEADERS and
 * lim->max_head at INT_MAX. Methods are not judged here (any token is accepted; HTTP_M_OTHER
 * when unknown). req's slices point into buf.
 */
int http_parse_request(struct http_parser *p, const uint8_t *buf, size_t len,
                       const struct http_limits *lim, struct http_request *req);

/** First header with this name (ASCII case-insensitive), or NULL. */
const struct http_header *http_header_find(const struct http_request *req, const char *name);

/** Method name for logs and Allow headers ("GET"...); "" for HTTP_M_OTHER. */
const char *http_method_name(enum http_method m);

#endif
