#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Persistent connections: curl reuses one connection, many requests on one socket,
Connection: close, HTTP/1.0 default close and keep-alive."""
import os

from ffharness import Server, check, check_eq, curl, main, section, tempdir


def test(binary):
    srv = Server(binary)
    files = {"f%d.txt" % i: os.urandom(50 + 321 * i) for i in range(10)}
    for k, v in files.items():
        srv.put_file(k, v)
    with srv.start():
        # curl: several URLs in one invocation share one connection.
        d = tempdir()
        names = sorted(files)[:4]
        args = ["-v", "-w", "%{num_connects} %{http_code}\\n"]
        for n in names:
            args += ["-o", os.path.join(d, n), srv.url("/public/" + n)]
        p = curl(args)
        lines = p.stdout.decode().split()
        check_eq(lines, ["1", "200"] + ["0", "200"] * (len(names) - 1),
                 "curl num_connects/http_code per transfer")
        err = p.stderr.decode("utf-8", "replace")
        check_eq(err.count("Re-using existing connection"), len(names) - 1,
                 "curl 'Re-using existing connection' count")
        for n in names:
            check(open(os.path.join(d, n), "rb").read() == files[n], "curl body of %s" % n)
        # also with a 404 in the middle
        p = curl(["-w", "%{num_connects} %{http_code}\\n", "-o", "/dev/null",
                  srv.url("/public/f1.txt"), "-o", "/dev/null", srv.url("/public/missing"),
                  "-o", "/dev/null", srv.url("/public/f2.txt")])
        check_eq(p.stdout.decode().split(), ["1", "200", "0", "404", "0", "200"],
                 "curl reuse across a 404")

        # Raw: 100 sequential requests on one connection, GET/HEAD/404 mixed.
        with section("Raw: 100 sequential requests on one connection"), srv.connect() as c:
            for i in range(100):
                n = "f%d.txt" % (i % 10)
                if i % 7 == 3:
                    r = c.request("HEAD", "/public/" + n)
                    ok = r.status == 200 and r.header("content-length") == str(len(files[n]))
                elif i % 11 == 5:
                    r = c.request("GET", "/public/missing%d" % i)
                    ok = r.status == 404
                else:
                    r = c.request("GET", "/public/" + n)
                    ok = r.status == 200 and r.body == files[n]
                if not check(ok, "request %d on one connection: %r" % (i, r)):
                    break
                if not check("close" not in r.conn_tokens(),
                             "request %d: server said Connection: close" % i):
                    break

        # Connection: close is honoured: response, then EOF.
        with section("Connection: close is honoured: response, then EOF"), srv.connect() as c:
            r = c.request("GET", "/public/f1.txt", {"Connection": "close"})
            check(r.status == 200 and r.body == files["f1.txt"], "GET with Connection: close")
            check("close" in r.conn_tokens(), "response to Connection: close lacks "
                  "Connection: close (got %r)" % r.header_all("connection"))
            check(c.wait_closed(5), "server kept the connection open after Connection: close")
            check_eq(bytes(c.buf), b"", "bytes after the response to Connection: close")
        # ...also as one token in a list, and in mixed case
        with section("...also as one token in a list, and in mixed case"), srv.connect() as c:
            r = c.request("GET", "/public/f2.txt", {"Connection": "TE, Close"})
            check_eq(r.status, 200, "GET with Connection: TE, Close")
            check(c.wait_closed(5), "server kept the connection open after Connection: TE, Close")

        # Requests pipelined behind Connection: close are not answered.
        with section("Requests pipelined behind Connection: close are"), srv.connect() as c:
            c.send(b"GET /public/f1.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                   b"GET /public/f2.txt HTTP/1.1\r\nHost: x\r\n\r\n")
            r = c.read_response()
            check_eq(r.status, 200, "first of two with Connection: close")
            check(c.wait_closed(5), "no close after Connection: close with a request behind")
            check_eq(bytes(c.buf), b"", "response to a request after Connection: close")

        # HTTP/1.0 closes by default.
        with section("HTTP/1.0 closes by default"), srv.connect() as c:
            c.send(b"GET /public/f3.txt HTTP/1.0\r\n\r\n")
            r = c.read_response()
            check(r.status == 200 and r.body == files["f3.txt"], "HTTP/1.0 GET: %r" % r)
            check(r.version in ("HTTP/1.1", "HTTP/1.0"), "HTTP/1.0 response version")
            check(c.wait_closed(5), "HTTP/1.0 request without keep-alive: connection not closed")

        # HTTP/1.0 with Connection: keep-alive stays open, and says so.
        with section("HTTP/1.0 with Connection: keep-alive stays open"), srv.connect() as c:
            for i in range(3):
                c.send(b"GET /public/f4.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
                r = c.read_response()
                check(r.status == 200 and r.body == files["f4.txt"],
                      "HTTP/1.0 keep-alive request %d: %r" % (i, r))
                check("keep-alive" in r.conn_tokens(),
                      "HTTP/1.0 keep-alive response %d lacks Connection: keep-alive (%r)"
                      % (i, r.header_all("connection")))
            check(not c.wait_closed(0.5), "HTTP/1.0 keep-alive connection was closed")

        # After a 405 without a body the server may keep the connection or close it; if it
        # keeps it, the next request must work.
        with section("keeps it, the next request must work"), srv.connect() as c:
            r1 = c.request("DELETE", "/public/f1.txt")
            check_eq(r1.status, 405, "DELETE status")
            if "close" not in r1.conn_tokens():
                r2 = c.request("GET", "/public/f5.txt")
                check(r2.status == 200 and r2.body == files["f5.txt"], "GET after 405: %r" % r2)


if __name__ == "__main__":
    main(test)
