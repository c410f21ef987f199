#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Malformed requests, each on a fresh connection: the right 4xx/5xx, then the connection is
closed and nothing else is answered (the requests name a file in DATA/public, served at
/public/). Request smuggling (CL.TE, TE.CL and friends) must never
produce a second response."""
from ffharness import Server, check, check_eq, main, read_all_responses

H = b"Host: x\r\n"
NEXT = b"GET /public/secret.txt HTTP/1.1\r\nHost: x\r\n\r\n"  # a smuggled request

CASES = [
    # (name, raw bytes, expected status)
    ("CL and TE", b"GET /public/a.txt HTTP/1.1\r\n" + H +
     b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ("TE and CL", b"GET /public/a.txt HTTP/1.1\r\n" + H +
     b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400),
    ("duplicate CL same value", b"GET /public/a.txt HTTP/1.1\r\n" + H +
     b"Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc", 400),
    ("duplicate CL different", b"GET /public/a.txt HTTP/1.1\r\n" + H +
     b"Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400),
    ("CL list", b"GET /public/a.txt HTTP/1.1\r\n" + H + b"Content-Length: 3, 3\r\n\r\nabc", 400),
    ("CL not a number", b"GET /public/a.txt HTTP/1.1\r\n" + H +
     b"Content-Length: abc\r\n\r\n", 400),
    ("CL negative", b"GET /public/a.txt HTTP/1.1\r\n" + H + b"Content-Length: -1\r\n\r\n", 400),
    ("CL plus sign", b"GET /public/a.txt HTTP/1.1\r\n" + H + b"Content-Length: +3\r\n\r\nabc", 400),
    ("CL hex", b"GET /public/a.txt HTTP/1.1\r\n" + H + b"Content-Length: 0x3\r\n\r\nabc", 400),
    ("CL empty", b"GET /public/a.txt HTTP/1.1\r\n" + H + b"Content-Length: \r\n\r\n", 400),
    ("CL overflow", b"GET /public/a.txt HTTP/1.1\r\n" + H +
     b"Content-Length: 99999999999999999999999999\r\n\r\n", 400),
    ("bare LF line ends", b"GET /public/a.txt HTTP/1.1\nHost: x\n\n", 400),
    ("bare LF after a header", b"GET /public/a.txt HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n", 400),
    ("bare CR in a value", b"GET /public/a.txt HTTP/1.1\r\n" + H + b"X-A: a\rb\r\n\r\n", 400),
    ("bare CR line end", b"GET /public/a.txt HTTP/1.1\r\nHost: x\rX-A: b\r\n\r\n", 400),
    ("bare CR in request line", b"GET /public/a.txt\rHTTP/1.1\r\n" + H + b"\r\n", 400),
    ("obs-fold space", b"GET /public/a.txt HTTP/1.1\r\n" + H + b"X-A: a\r\n b\r\n\r\n", 400),
    ("obs-fold tab", b"GET /public/a.txt HTTP/1.1\r\n" + H + b"X-A: a\r\n\tb\r\n\r\n", 400),
    ("whitespace before first header", b"GET /public/a.txt HTTP/1.1\r\n Host: x\r\n\r\n", 400),
    ("bad chunk size", b"GET /public/a.txt HTTP/1.1\r\n" + H +
     b"Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", 400),
    ("negative chunk size", b"GET /public/a.txt HTTP/1.1\r\n" + H +
     b"Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n", 400),
    ("chunk size overflow", b"GET /public/a.txt HTTP/1.1\r\n" + H +
     b"Transfer-Encoding: chunked\r\n\r\nfffffffffffffffffffff\r\nhello\r\n0\r\n\r\n", 400),
    ("chunk without CRLF after data", b"GET /public/a.txt HTTP/1.1\r\n" + H +
     b"Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n", 400),
    ("NUL in a header value", b"GET /public/a.txt HTTP/1.1\r\n" + H + b"X-A: a\x00b\r\n\r\n", 400),
    ("NUL in the target", b"GET /public/a\x00.txt HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("NUL in a header name", b"GET /public/a.txt HTTP/1.1\r\n" + H + b"X\x00A: b\r\n\r\n", 400),
    ("space before colon", b"GET /public/a.txt HTTP/1.1\r\nHost : x\r\n\r\n", 400),
    ("tab before colon", b"GET /public/a.txt HTTP/1.1\r\n" + H + b"X-A\t: b\r\n\r\n", 400),
    ("no colon", b"GET /public/a.txt HTTP/1.1\r\n" + H + b"NoColonHere\r\n\r\n", 400),
    ("empty header name", b"GET /public/a.txt HTTP/1.1\r\n" + H + b": value\r\n\r\n", 400),
    ("missing Host in 1.1", b"GET /public/a.txt HTTP/1.1\r\n\r\n", 400),
    ("two Hosts", b"GET /public/a.txt HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400),
    ("garbage request line", b"HELLO\r\n" + H + b"\r\n", 400),
    ("extra token in request line", b"GET /public/a.txt HTTP/1.1 extra\r\n" + H + b"\r\n", 400),
    ("two spaces in request line", b"GET  /public/a.txt HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("lower-case version", b"GET /public/a.txt http/1.1\r\n" + H + b"\r\n", 400),
    ("bad char in method", b"G(T /public/a.txt HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("target not origin-form", b"GET public/a.txt HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("space in target", b"GET /public/a b.txt HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("control char in target", b"GET /public/a\x01.txt HTTP/1.1\r\n" + H + b"\r\n", 400),
    # RFC 9112 §6.3 item 4: chunked not the final coding of a request is a MUST 400 (the body
    # length cannot be known), even when the coding is unknown; an unknown coding before a
    # final chunked is 501 (§6.1).
    ("TE gzip alone", b"GET /public/a.txt HTTP/1.1\r\n" + H +
     b"Transfer-Encoding: gzip\r\n\r\n", 400),
    ("TE unknown coding alone", b"GET /public/a.txt HTTP/1.1\r\n" + H +
     b"Transfer-Encoding: foo\r\n\r\n", 400),
    ("TE gzip, chunked", b"GET /public/a.txt HTTP/1.1\r\n" + H +
     b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501),
    ("TE foo then chunked", b"GET /public/a.txt HTTP/1.1\r\n" + H +
     b"Transfer-Encoding: foo\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501),
    ("TE chunked twice", b"GET /public/a.txt HTTP/1.1\r\n" + H +
     b"Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400),
    ("HTTP/2.0 request line", b"GET /public/a.txt HTTP/2.0\r\n" + H + b"\r\n", 505),
    ("HTTP/3.0 request line", b"GET /public/a.txt HTTP/3.0\r\n" + H + b"\r\n", 505),
    ("HTTP/0.9 version", b"GET /public/a.txt HTTP/0.9\r\n" + H + b"\r\n", 505),
]


def test(binary):
    srv = Server(binary, args=["--max-headers", "20"])
    srv.put_file("a.txt", b"A\n")
    srv.put_file("secret.txt", b"SECRET\n")
    with srv.start():
        def expect(name, raw, want, strict_close=True):
            with srv.connect() as c:
                try:
                    c.send(raw)
                except OSError as e:  # the server may close before it has read everything
                    check(False, "%s: send failed: %s" % (name, e))
                rs, rest, closed = read_all_responses(c, timeout=5)
                statuses = [r.status for r in rs]
                if not check(len(rs) >= 1, "%s: no response (closed=%s, bytes %r)"
                             % (name, closed, rest[:100])):
                    return
                check_eq(statuses[0], want, "%s: status" % name)
                check_eq(len(rs), 1, "%s: number of responses %s" % (name, statuses))
                if strict_close:
                    check(closed, "%s: connection still open after %d" % (name, statuses[0]))
                check(all(b"SECRET" not in r.body for r in rs), "%s: smuggled response" % name)
                check_eq(rest, b"", "%s: garbage after the response" % name)

        for name, raw, want in CASES:
            expect(name, raw, want)

        # Limits: target over --max-url (default 8192), head over --max-head (default 16384),
        # more fields than --max-headers (20 here).
        expect("target too long", b"GET /public/" + b"a" * 9000 + b" HTTP/1.1\r\n" + H + b"\r\n",
               414)
        expect("head too long", b"GET /public/a.txt HTTP/1.1\r\n" + H + b"X-Big: " + b"b" * 17000 +
               b"\r\n\r\n", 431)
        expect("head too long, many fields", b"GET /public/a.txt HTTP/1.1\r\n" + H +
               b"".join(b"X-F%d: %s\r\n" % (i, b"v" * 900) for i in range(19)) + b"\r\n", 431)
        expect("too many headers", b"GET /public/a.txt HTTP/1.1\r\n" + H +
               b"".join(b"X-F%d: v\r\n" % i for i in range(25)) + b"\r\n", 431)
        # head too long without ever ending: the server must answer without waiting for the end
        with srv.connect() as c:
            c.send(b"GET /public/a.txt HTTP/1.1\r\n" + H + b"X-Big: " + b"b" * 40000)
            rs, rest, closed = read_all_responses(c, timeout=5)
            check(rs and rs[0].status == 431, "unterminated 40 KB head: %r" % rs)
            check(closed, "unterminated 40 KB head: not closed")
        with srv.connect() as c:
            c.send(b"GET /public/" + b"a" * 20000)
            rs, rest, closed = read_all_responses(c, timeout=5)
            check(rs and rs[0].status in (414, 431), "unterminated 20 KB target: %r" % rs)
            check(closed, "unterminated 20 KB target: not closed")

        # Within the limits: fine.
        with srv.connect() as c:
            r = c.request("GET", "/public/a.txt", [("X-F%d" % i, "v") for i in range(18)])
            check_eq(r.status, 200, "19 header fields with --max-headers 20")
            target = "/public/a.txt?" + "q" * 8000
            r = c.request("GET", target)
            check_eq(r.status, 200, "%d-byte target (query) with --max-url 8192" % len(target))

        # Smuggling: whatever the server answers, never two responses, never the secret.
        smuggle = [
            ("CL.TE", b"GET /public/a.txt HTTP/1.1\r\n" + H +
             b"Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + NEXT),
            ("TE.CL", b"GET /public/a.txt HTTP/1.1\r\n" + H +
             b"Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n"
             b"%x\r\n" % len(NEXT) + NEXT + b"\r\n0\r\n\r\n"),
            ("TE.TE obfuscated", b"GET /public/a.txt HTTP/1.1\r\n" + H +
             b"Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n0\r\n\r\n" + NEXT),
            ("TE with space before colon", b"GET /public/a.txt HTTP/1.1\r\n" + H +
             b"Transfer-Encoding : chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n" + NEXT),
            ("TE xchunked", b"GET /public/a.txt HTTP/1.1\r\n" + H +
             b"Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n" + NEXT),
            ("TE chunked not last", b"GET /public/a.txt HTTP/1.1\r\n" + H +
             b"Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n" + NEXT),
            ("TE in HTTP/1.0", b"GET /public/a.txt HTTP/1.0\r\nTransfer-Encoding: chunked\r\n"
             b"Content-Length: 5\r\n\r\n0\r\n\r\n" + NEXT),
            ("CL with obs-fold", b"GET /public/a.txt HTTP/1.1\r\n" + H + b"Content-Length: 0\r\n"
             b" 44\r\n\r\n" + NEXT),
            ("CL duplicate", b"GET /public/a.txt HTTP/1.1\r\n" + H + b"Content-Length: 0\r\n"
             b"Content-Length: 44\r\n\r\n" + NEXT),
            ("bare LF separating requests", b"GET /public/a.txt HTTP/1.1\r\n" + H +
             b"X: y\n\n" + NEXT),
            ("chunk ext with bare LF", b"GET /public/a.txt HTTP/1.1\r\n" + H +
             b"Transfer-Encoding: chunked\r\n\r\n2;x\nzz\r\n0\r\n\r\n" + NEXT),
        ]
        for name, raw in smuggle:
            with srv.connect() as c:
                try:
                    c.send(raw)
                except OSError:
                    pass
                rs, rest, closed = read_all_responses(c, timeout=5)
                check_eq(len(rs), 1, "smuggling %s: responses %s" % (name, [r.status for r in rs]))
                check(rs and rs[0].status in (400, 501),
                      "smuggling %s: status %s, want 400 or 501" % (name, rs and rs[0].status))
                check(all(b"SECRET" not in r.body for r in rs), "smuggling %s: secret served"
                      % name)
                check(closed, "smuggling %s: connection left open" % name)

        # The server is still fine.
        with srv.connect() as c:
            r = c.request("GET", "/public/a.txt")
            check(r.status == 200 and r.body == b"A\n", "health check after malformed input")

    # Smaller limits from the command line.
    srv = Server(binary, args=["--max-head", "2048", "--max-url", "100"])
    srv.put_file("a.txt", b"A\n")
    with srv.start():
        with srv.connect() as c:
            target = "/public/a.txt?" + "q" * 80
            r = c.request("GET", target)
            check_eq(r.status, 200, "%d-byte target with --max-url 100" % len(target))
            r = c.request("GET", "/public/a.txt", {"X-Pad": "p" * 1500})
            check_eq(r.status, 200, "1.5 KB head with --max-head 2048")
        for name, raw, want in (
                ("target over --max-url 100", b"GET /public/a.txt?" + b"q" * 150 +
                 b" HTTP/1.1\r\n" + H + b"\r\n", 414),
                ("head over --max-head 2048", b"GET /public/a.txt HTTP/1.1\r\n" + H + b"X-Pad: " +
                 b"p" * 2500 + b"\r\n\r\n", 431)):
            with srv.connect() as c:
                c.send(raw)
                rs, rest, closed = read_all_responses(c, timeout=5)
                check_eq([r.status for r in rs], [want], "%s: responses" % name)
                check(closed, "%s: connection still open" % name)


if __name__ == "__main__":
    main(test)
