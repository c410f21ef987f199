#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Request bodies on GET (of files at /public/) are read and discarded with their framing
respected (Content-Length, chunked with extensions and trailers), so keep-alive and pipelining
keep working; Expect: 100-continue; a 405 with Expect gets no 100 and closes."""
import os
import time

from ffharness import (Server, check, check_eq, curl, main, read_all_responses, section,
                       tempdir)


def test(binary):
    srv = Server(binary)
    hello = b"hello body test\n"
    other = os.urandom(3000)
    srv.put_file("hello.txt", hello)
    srv.put_file("other.bin", other)
    upload = os.urandom(200000)
    updir = tempdir()
    upfile = os.path.join(updir, "up.bin")
    with open(upfile, "wb") as f:
        f.write(upload)

    with srv.start():
        def ok(r, body, what):
            return check(r.status == 200 and r.body == body, "%s: %r" % (what, r))

        # Content-Length body, then a second request on the same connection.
        with section("Content-Length body, then a second request on the"), srv.connect() as c:
            c.send(b"GET /public/hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n"
                   b"hello=world")
            ok(c.read_response(), hello, "GET with a Content-Length body")
            c.send(b"GET /public/other.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            ok(c.read_response(), other, "second request after a Content-Length body")

        # The same, pipelined in one send: the body must not be taken for a request.
        with section("The same, pipelined in one send: the body must"), srv.connect() as c:
            fake = b"GET /public/secret HTTP/1.1\r\nHost: x\r\n\r\n"
            c.send(b"GET /public/hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
                   % len(fake) + fake + b"GET /public/other.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            ok(c.read_response(), hello, "pipelined GET with a body that looks like a request")
            ok(c.read_response(), other, "request after a body that looks like a request")

        # Chunked body with extensions and trailers, then another request.
        chunked = (b"GET /public/hello.txt HTTP/1.1\r\nHost: x\r\n"
                   b"Transfer-Encoding: chunked\r\n\r\n"
                   b"5\r\nhello\r\n"
                   b"A;name=value\r\n0123456789\r\n"
                   b"1a ; quoted=\"a b\"\r\nabcdefghijklmnopqrstuvwxyz\r\n"
                   b"0\r\nX-Trailer: yes\r\nX-Other: 1\r\n\r\n")
        with section("Chunked body with extensions and trailers, then"), srv.connect() as c:
            c.send(chunked)
            ok(c.read_response(), hello, "GET with a chunked body and trailers")
            c.send(b"GET /public/other.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            ok(c.read_response(), other, "second request after a chunked body")
        with section("Chunked body with extensions and trailers, then"), srv.connect() as c:
            c.send(chunked + b"GET /public/other.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            ok(c.read_response(), hello, "pipelined chunked GET")
            ok(c.read_response(), other, "request pipelined after a chunked body")
        # chunked without trailers, upper-case hex, sent in pieces
        with section("chunked without trailers, upper-case hex, sent in"), srv.connect() as c:
            msg = (b"GET /public/hello.txt HTTP/1.1\r\nHost: x\r\n"
                   b"Transfer-Encoding: chunked\r\n\r\n"
                   b"1F\r\n" + b"x" * 31 + b"\r\n0\r\n\r\n"
                   b"GET /public/other.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            for i in range(0, len(msg), 7):
                c.send(msg[i:i + 7])
                time.sleep(0.002)
            ok(c.read_response(), hello, "chunked body sent in 7-byte pieces")
            ok(c.read_response(), other, "request after a chunked body sent in pieces")

        # Bodies much bigger than a receive buffer (but under the server's 1 MiB discard
        # limit) are discarded.
        with section("768 KiB Content-Length body"), srv.connect() as c:
            big = os.urandom(768 << 10)
            c.send(b"GET /public/hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
                   % len(big))
            c.send(big)
            ok(c.read_response(timeout=30), hello, "GET with a 768 KiB body")
            c.send(b"GET /public/other.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            ok(c.read_response(), other, "request after a 768 KiB body")
        with section("768 KiB chunked body"), srv.connect() as c:
            c.send(b"GET /public/hello.txt HTTP/1.1\r\nHost: x\r\n"
                   b"Transfer-Encoding: chunked\r\n\r\n")
            for _ in range(12):
                c.send(b"10000\r\n" + b"z" * 0x10000 + b"\r\n")
            c.send(b"0\r\n\r\nGET /public/other.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            ok(c.read_response(timeout=30), hello, "GET with a 768 KiB chunked body")
            ok(c.read_response(), other, "request after a 768 KiB chunked body")
        # Over the limit the server may refuse with 413, but then it must close: the rest of the
        # body must never be read as requests.
        for kind in ("length", "chunked"):
            with section("3 MiB %s body" % kind), srv.connect() as c:
                inner = b"GET /public/other.bin HTTP/1.1\r\nHost: x\r\n\r\n"
                chunk = inner * (0x10000 // len(inner))
                if kind == "length":
                    c.send(b"GET /public/hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                           b"Content-Length: %d\r\n\r\n" % (48 * len(chunk)))
                else:
                    c.send(b"GET /public/hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                           b"Transfer-Encoding: chunked\r\n\r\n")
                try:
                    for _ in range(48):
                        c.send(chunk if kind == "length" else
                               b"%x\r\n" % len(chunk) + chunk + b"\r\n")
                    if kind == "chunked":
                        c.send(b"0\r\n\r\n")
                except OSError:
                    pass  # closed early after a 413
                rs, rest, closed = read_all_responses(c, timeout=10)
                sts = [r.status for r in rs]
                if sts and sts[0] == 413:
                    check_eq(len(rs), 1, "3 MiB %s body: responses after the 413 %s"
                             % (kind, sts))
                    check(closed, "3 MiB %s body: connection open after 413" % kind)
                else:
                    check(sts[:1] == [200] and rs[0].body == hello,
                          "3 MiB %s body: responses %s, want 200 or 413" % (kind, sts))

        # Raw Expect: 100-continue on GET: 100 first, then (after the body) the response.
        with section("Raw Expect: 100-continue on GET: 100 first, then"), srv.connect() as c:
            c.send(b"GET /public/hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                   b"Expect: 100-continue\r\n\r\n")
            r = c.read_response(allow_1xx=True, timeout=5)
            check_eq((r.version, r.status), ("HTTP/1.1", 100), "interim response to Expect")
            c.send(b"12345")
            ok(c.read_response(), hello, "final response after 100 Continue")
            c.send(b"GET /public/other.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            ok(c.read_response(), other, "request after a 100-continue exchange")
        # The client may send the body without waiting for 100 (RFC 9110 §10.1.1).
        with section("The client may send the body without waiting for"), srv.connect() as c:
            c.send(b"GET /public/hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                   b"Expect: 100-continue\r\n\r\n12345"
                   b"GET /public/other.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            ok(c.read_response(), hello, "Expect with the body sent at once")
            ok(c.read_response(), other, "request after Expect with the body sent at once")
        # HTTP/1.0: the expectation is ignored, no 100.
        with section("HTTP/1.0: the expectation is ignored, no 100"), srv.connect() as c:
            c.send(b"GET /public/hello.txt HTTP/1.0\r\nContent-Length: 5\r\n"
                   b"Expect: 100-continue\r\n\r\n12345")
            r = c.read_response(allow_1xx=True)
            check_eq(r.status, 200, "HTTP/1.0 with Expect: first response status")

        # curl with Expect: 100-continue on a GET with a body.
        p = curl(["-v", "-X", "GET", "--data-binary", "@" + upfile, "-H",
                  "Expect: 100-continue", "--expect100-timeout", "5", "-o", "-",
                  srv.url("/public/other.bin")])
        err = p.stderr.decode("utf-8", "replace")
        check("< HTTP/1.1 100 Continue" in err, "curl saw no 100 Continue:\n" + err[-1500:])
        check("< HTTP/1.1 200" in err, "curl saw no 200 after 100 Continue")
        check(p.stdout == other, "curl body after 100 Continue (%d bytes)" % len(p.stdout))

        # PUT with Expect: 405 at once, no 100, and the connection closes.
        with section("PUT with Expect: 405 at once, no 100, and the"), srv.connect() as c:
            c.send(b"PUT /public/new.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n"
                   b"Expect: 100-continue\r\n\r\n")
            r = c.read_response(allow_1xx=True, timeout=5)
            check_eq(r.status, 405, "PUT with Expect: first response status")
            allow = {t.strip() for t in (r.header("allow") or "").split(",")}
            check_eq(allow, {"GET", "HEAD"}, "PUT with Expect: Allow")
            check(c.wait_closed(5), "PUT with Expect: connection not closed after 405")
            rest, _, _ = read_all_responses(c, timeout=1)
            check_eq(rest, [], "responses after the 405")
        p = curl(["-v", "-X", "PUT", "--data-binary", "@" + upfile, "-H",
                  "Expect: 100-continue", "--expect100-timeout", "5", "-o", "/dev/null",
                  "-w", "%{http_code}", srv.url("/public/new.txt")], check_rc=False)
        err = p.stderr.decode("utf-8", "replace")
        check_eq(p.stdout.decode(), "405", "curl PUT with Expect status")
        check("100 Continue" not in err, "curl PUT with Expect saw a 100 Continue")
        check(not os.path.exists(srv.path("new.txt")), "PUT created a file")

        # POST with a body and no Expect: 405; if the connection stays, the body is skipped.
        with section("POST with a body and no Expect: 405; if the"), srv.connect() as c:
            c.send(b"POST /public/hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 24\r\n\r\n"
                   b"GET /public/x HTTP/1.1\r\n")
            r = c.read_response()
            check_eq(r.status, 405, "POST with a body")
            if "close" not in r.conn_tokens() and not c.wait_closed(0.3):
                c.send(b"GET /public/hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
                ok(c.read_response(), hello, "GET after POST with a body on a kept connection")

        # Still healthy.
        with section("Still healthy"), srv.connect() as c:
            ok(c.request("GET", "/public/hello.txt"), hello, "final health check")


if __name__ == "__main__":
    main(test)
