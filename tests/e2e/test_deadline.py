#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Deadlines: the head deadline is absolute (a client dribbling one byte per second is cut
off), idle keep-alive connections close, silent connections close, a stalled body times out,
and slow-but-in-time clients are served. The scenarios run in parallel threads."""
import re
import select
import socket
import threading
import time

from ffharness import Server, check, main, section

HEAD_T, KA_T, BODY_T = 3, 2, 2
SLACK = 3.5  # sanitizer builds under a parallel ctest, timer granularity


def dribble(srv, results):
    """One byte per second of an endless head; report when and how the server ended it."""
    s = socket.create_connection(("127.0.0.1", srv.port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    msg = b"GET /public/hello.txt HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200
    t0 = time.monotonic()
    got = b""
    closed_at = None
    i = 0
    try:
        while time.monotonic() - t0 < HEAD_T + 10:
            try:
                s.send(msg[i:i + 1])
            except (BrokenPipeError, ConnectionResetError):
                closed_at = time.monotonic()
                break
            i += 1
            end = time.monotonic() + 1.0
            while time.monotonic() < end:
                r, _, _ = select.select([s], [], [], max(0, end - time.monotonic()))
                if not r:
                    break
                try:
                    b = s.recv(4096)
                except ConnectionResetError:
                    b = b""
                if not b:
                    closed_at = time.monotonic()
                    break
                got += b
            if closed_at:
                break
    finally:
        s.close()
    results["dribble"] = (closed_at - t0 if closed_at else None, got, i)


def keepalive_idle(srv, results):
    with srv.connect() as c:
        r = c.request("GET", "/public/hello.txt")
        t0 = time.monotonic()
        closed = c.wait_closed(KA_T + 10)
        results["ka"] = (r.status, time.monotonic() - t0 if closed else None, bytes(c.buf))


def keepalive_in_time(srv, results):
    """A second request sent before the keep-alive deadline is served."""
    with srv.connect() as c:
        r1 = c.request("GET", "/public/hello.txt")
        time.sleep(KA_T * 0.4)
        r2 = c.request("GET", "/public/hello.txt")
        time.sleep(KA_T * 0.4)
        r3 = c.request("GET", "/public/hello.txt")
        results["ka_in_time"] = (r1.status, r2.status, r3.status)


def silent(srv, results):
    s = socket.create_connection(("127.0.0.1", srv.port))
    t0 = time.monotonic()
    s.settimeout(max(HEAD_T, KA_T) + 10)
    try:
        data = b""
        while True:
            b = s.recv(4096)
            if not b:
                break
            data += b
        results["silent"] = (time.monotonic() - t0, data)
    except ConnectionResetError:
        results["silent"] = (time.monotonic() - t0, b"")
    except socket.timeout:
        results["silent"] = (None, b"")
    finally:
        s.close()


def slow_in_time(srv, results):
    """A head sent in 3 pieces over ~1.5 s (inside the 3 s deadline) is served."""
    with srv.connect() as c:
        for piece in (b"GET /public/hello.txt HT", b"TP/1.1\r\nHost: x\r\n", b"\r\n"):
            c.send(piece)
            time.sleep(0.7)
        r = c.read_response()
        results["slow_ok"] = r.status


def second_head_deadline(srv, results):
    """The head deadline applies to each request on a kept-alive connection, not just the
    first: a second head dribbled one byte per 0.5 s is cut off too."""
    s = socket.create_connection(("127.0.0.1", srv.port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.sendall(b"GET /public/hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.2)
    first = s.recv(65536)
    t0 = time.monotonic()
    closed_at = None
    msg = b"GET /public/hello.txt HTTP/1.1\r\nX-Slow: " + b"b" * 200
    for i in range(len(msg)):
        try:
            s.send(msg[i:i + 1])
        except (BrokenPipeError, ConnectionResetError):
            closed_at = time.monotonic()
            break
        r, _, _ = select.select([s], [], [], 0.5)
        if r:
            try:
                b = s.recv(4096)
            except ConnectionResetError:
                b = b""
            if not b:
                closed_at = time.monotonic()
                break
        if time.monotonic() - t0 > HEAD_T + 10:
            break
    s.close()
    results["second"] = (first[:12], closed_at - t0 if closed_at else None)


def stalled_body(srv, results):
    with srv.connect() as c:
        c.send(b"GET /public/hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"
               b"0123456789")
        t0 = time.monotonic()
        closed = c.wait_closed(BODY_T + 10)
        results["body"] = (time.monotonic() - t0 if closed else None, bytes(c.buf))


def test(binary):
    srv = Server(binary, args=["--head-timeout", str(HEAD_T), "--keepalive-timeout", str(KA_T),
                               "--body-timeout", str(BODY_T)])
    srv.put_file("hello.txt", b"hello\n")
    with srv.start():
        results = {}
        fns = (dribble, keepalive_idle, keepalive_in_time, silent, slow_in_time,
               second_head_deadline, stalled_body)
        ts = [threading.Thread(target=f, args=(srv, results), name=f.__name__) for f in fns]
        for t in ts:
            t.start()
        for t in ts:
            t.join(HEAD_T + 20)
            check(not t.is_alive(), "%s did not finish" % t.name)

        for k in sorted(results):
            v = results[k] if isinstance(results[k], tuple) else (results[k],)
            print("%s: %r" % (k, tuple(x[:40] if isinstance(x, bytes) else x for x in v)),
                  flush=True)

        def status_of(data):
            m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
            return int(m.group(1)) if m else None

        dt, got, sent = results.get("dribble", (None, b"", 0))
        check(dt is not None, "dribbling client never cut off (sent %d bytes)" % sent)
        if dt is not None:
            check(HEAD_T - 0.5 <= dt <= HEAD_T + SLACK,
                  "dribbling client cut off after %.2fs, want ~%ds" % (dt, HEAD_T))
            check(got == b"" or status_of(got) == 408,
                  "dribbling client got %r, want 408 or nothing" % got[:80])

        st, dt, extra = results.get("ka", (None, None, b""))
        check(st == 200, "keep-alive idle: first response %r" % st)
        check(dt is not None, "idle keep-alive connection never closed")
        if dt is not None:
            check(KA_T - 0.5 <= dt <= KA_T + SLACK,
                  "idle keep-alive closed after %.2fs, want ~%ds" % (dt, KA_T))
        check(extra == b"" or status_of(extra) == 408,
              "idle keep-alive close sent %r" % extra[:80])

        check(results.get("ka_in_time") == (200, 200, 200),
              "requests inside the keep-alive deadline: %r" % (results.get("ka_in_time"),))

        dt, data = results.get("silent", (None, b""))
        check(dt is not None, "silent connection never closed")
        if dt is not None:
            check(min(HEAD_T, KA_T) - 0.5 <= dt <= max(HEAD_T, KA_T) + SLACK,
                  "silent connection closed after %.2fs, want %d-%ds" % (dt, KA_T, HEAD_T))
            check(data == b"" or status_of(data) == 408, "silent connection got %r" % data[:80])

        check(results.get("slow_ok") == 200,
              "head in 3 pieces over 1.4 s: %r" % (results.get("slow_ok"),))

        first, dt = results.get("second", (b"", None))
        check(first.startswith(b"HTTP/1.1 200"), "second_head: first response %r" % first)
        check(dt is not None, "dribbled second head on a kept-alive connection never cut off")
        if dt is not None:
            check(dt <= HEAD_T + SLACK, "dribbled second head cut off after %.2fs" % dt)

        dt, data = results.get("body", (None, b""))
        check(dt is not None, "stalled body never timed out")
        if dt is not None:
            check(BODY_T - 0.5 <= dt <= BODY_T + SLACK,
                  "stalled body closed after %.2fs, want ~%ds" % (dt, BODY_T))
            check(data == b"" or status_of(data) in (400, 408),
                  "stalled body got %r" % data[:80])

        # The server still answers.
        with section("The server still answers"), srv.connect() as c:
            r = c.request("GET", "/public/hello.txt")
            check(r.status == 200 and r.body == b"hello\n", "health check after deadlines")


if __name__ == "__main__":
    main(test)
