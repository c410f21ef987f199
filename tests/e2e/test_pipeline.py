#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Pipelining: many requests in one send answered in order, mixes with HEAD and 404, large
responses queued behind each other, and requests split at every byte boundary."""
import os
import threading
import time

from ffharness import Server, check, check_eq, main, section


def req(path, method="GET", extra=""):
    return ("%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n" % (method, path, extra)).encode()


def test(binary):
    srv = Server(binary)
    files = {"p%d.txt" % i: os.urandom(10 + 1000 * i) for i in range(8)}
    files["big.bin"] = os.urandom(4 << 20)
    for k, v in files.items():
        srv.put_file(k, v)
    with srv.start():
        # 5 GETs in one send, answered in order.
        with section("5 GETs in one send, answered in order"), srv.connect() as c:
            names = ["p3.txt", "p1.txt", "p7.txt", "p0.txt", "p5.txt"]
            c.send(b"".join(req("/public/" + n) for n in names))
            for n in names:
                r = c.read_response()
                check(r.status == 200 and r.body == files[n],
                      "pipelined GET /%s: %r (body equal: %s)" % (n, r, r.body == files[n]))

        # A mix: GET, HEAD, 404, GET, HEAD 404, GET with Connection: close last.
        with section("A mix: GET, HEAD, 404, GET, HEAD 404, GET with"), srv.connect() as c:
            seq = [("GET", "/public/p2.txt", 200), ("HEAD", "/public/p4.txt", 200),
                   ("GET", "/public/nope", 404), ("GET", "/public/p6.txt", 200),
                   ("HEAD", "/public/nope2", 404), ("GET", "/public/p1.txt", 200)]
            blob = b""
            for i, (m, p, _) in enumerate(seq):
                blob += req(p, m, "Connection: close\r\n" if i == len(seq) - 1 else "")
            c.send(blob)
            for m, p, want in seq:
                r = c.read_response(m)
                check_eq(r.status, want, "pipelined %s %s status" % (m, p))
                name = p[len("/public/"):]
                if want == 200 and m == "GET":
                    check(r.body == files[name], "pipelined GET %s body" % p)
                if want == 200 and m == "HEAD":
                    check_eq(r.header("content-length"), str(len(files[name])),
                             "pipelined HEAD %s Content-Length" % p)
            check(c.wait_closed(5), "connection open after the pipelined Connection: close")
            check_eq(bytes(c.buf), b"", "extra bytes after the last pipelined response")

        # Large responses queued behind each other, with a small one in between; the client
        # writes all requests first and reads afterwards, slowly at first.
        with section("writes all requests first and reads afterwards"), srv.connect() as c:
            seq = ["big.bin", "p1.txt", "big.bin", "p2.txt"]
            c.send(b"".join(req("/public/" + n) for n in seq))
            time.sleep(0.3)
            for n in seq:
                r = c.read_response(timeout=30)
                check(r.status == 200 and r.body == files[n],
                      "pipelined large sequence %s: %r" % (n, r))

        # 200 requests in one send while we read concurrently.
        with section("200 requests in one send while we read"), srv.connect() as c:
            n_req = 200
            blob = b"".join(req("/public/p%d.txt" % (i % 8)) for i in range(n_req))
            t = threading.Thread(target=c.send, args=(blob,))
            t.start()
            bad = 0
            for i in range(n_req):
                r = c.read_response(timeout=20)
                if r.status != 200 or r.body != files["p%d.txt" % (i % 8)]:
                    bad += 1
            t.join(10)
            check_eq(bad, 0, "bad responses among %d pipelined requests" % n_req)

        # One request split into two sends at every byte boundary, all on one connection.
        one = req("/public/p1.txt", extra="User-Agent: split-test\r\nAccept: */*\r\n")
        with section("One request split into two sends at every byte"), srv.connect() as c:
            for i in range(1, len(one)):
                c.send(one[:i])
                time.sleep(0.003)
                c.send(one[i:])
                r = c.read_response()
                if not check(r.status == 200 and r.body == files["p1.txt"],
                             "request split at byte %d: %r" % (i, r)):
                    break

        # Two requests in one stream split at every boundary of the pair: the split point
        # falls in the first, at the seam, and in the second.
        two = req("/public/p2.txt") + req("/public/p3.txt")
        with section("falls in the first, at the seam, and in the"), srv.connect() as c:
            for i in range(1, len(two)):
                c.send(two[:i])
                time.sleep(0.003)
                c.send(two[i:])
                r1 = c.read_response()
                r2 = c.read_response()
                if not check(r1.status == 200 and r1.body == files["p2.txt"]
                             and r2.status == 200 and r2.body == files["p3.txt"],
                             "pair split at byte %d: %r %r" % (i, r1, r2)):
                    break

        # One byte per send for a whole request.
        with section("One byte per send for a whole request"), srv.connect() as c:
            for b in one:
                c.send(bytes([b]))
                time.sleep(0.002)
            r = c.read_response()
            check(r.status == 200 and r.body == files["p1.txt"], "one byte per send: %r" % r)

        # The end of one head and the start of the next arrive together, with a leading CRLF
        # before the second request line (RFC 9112 §2.2 allows ignoring it).
        with section("before the second request line (RFC 9112 §2.2"), srv.connect() as c:
            c.send(req("/public/p4.txt") + b"\r\n" + req("/public/p5.txt"))
            r1 = c.read_response()
            r2 = c.read_response()
            check(r1.status == 200 and r1.body == files["p4.txt"], "first before CRLF: %r" % r1)
            check(r2.status == 200 and r2.body == files["p5.txt"], "second after CRLF: %r" % r2)


if __name__ == "__main__":
    main(test)
