#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Access log: one line per request, `TIME CLIENT METHOD TARGET STATUS BYTES MICROSECONDS`,
to a file (flushed within about a second and at exit), to stderr with '-', none with 'off'."""
import datetime
import os
import re
import time

from ffharness import Server, check, check_eq, main, wait_until

LINE_RE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (127\.0\.0\.1:(\d+)) (\S+) (\S+) "
                     r"(\d{3}) (\d+) (\d+)$")


def parse_time(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def test(binary):
    data = os.urandom(12345)
    srv = Server(binary)
    srv.put_file("f.bin", data)
    srv.put_file("dir/x.txt", b"x")
    with srv.start():
        t_start = time.time()
        with srv.connect() as c:
            local_port = c.sock.getsockname()[1]
            reqs = [
                ("GET", "/public/f.bin", {}, 200, len(data)),
                ("HEAD", "/public/f.bin", {}, 200, 0),
                ("GET", "/public/missing.txt", {}, 404, None),
                ("GET", "/", {}, 303, None),
                ("GET", "/public/f.bin", {"Range": "bytes=0-99"}, 206, 100),
                ("GET", "/public/f.bin?a=1&b=%20", {}, 200, len(data)),
                ("GET", "/public/f.bin", {"If-None-Match": "*"}, 304, 0),
                ("DELETE", "/public/f.bin", {}, 405, None),
            ]
            for m, p, h, st, _ in reqs:
                r = c.request(m, p, h)
                check_eq(r.status, st, "%s %s status" % (m, p))
        t_end = time.time()

        # Flushed about once a second while running.
        lines = []

        def have_all():
            lines[:] = [ln for ln in srv.read_access_log().splitlines() if ln]
            return len(lines) >= len(reqs)

        check(wait_until(have_all, 3.0), "access log has %d lines 3 s after %d requests"
              % (len(lines), len(reqs)))
        check_eq(len(lines), len(reqs), "access log line count")
        for ln, (m, p, _, st, nbytes) in zip(lines, reqs):
            mm = LINE_RE.match(ln)
            if not check(mm, "access log line %r does not match %s" % (ln, LINE_RE.pattern)):
                continue
            ts, client, port, method, target, status, bts, usec = mm.groups()
            t = parse_time(ts)
            check(t_start - 1 <= t <= t_end + 1, "log time %s not during the request" % ts)
            check_eq(int(port), local_port, "log client port")
            check_eq(method, m, "log method")
            check_eq(target, p, "log target")
            check_eq(int(status), st, "log status for %s %s" % (m, p))
            if nbytes is not None:
                check_eq(int(bts), nbytes, "log bytes for %s %s %s" % (m, p, status))
            check(int(usec) < 5_000_000, "log microseconds %s" % usec)
        srv.stop()
    # a new server appends to the same file, and logs what is buffered at exit
    log_path = srv.access_log
    before = open(log_path).read().count("\n")
    srv2 = Server(binary, root=srv.root, data=srv.data,
                  args=["--access-log", log_path])
    with srv2.start():
        with srv2.connect() as c:
            c.request("GET", "/public/dir/x.txt")
    after = open(log_path).read().splitlines()
    check_eq(len(after), before + 1, "lines after a second server (append) and exit")
    check(after and after[-1].split(" ")[2:5] == ["GET", "/public/dir/x.txt", "200"],
          "last line %r" % (after[-1:] or ""))

    # '-' logs to stderr; 'off' logs nothing.
    srv3 = Server(binary, args=["--access-log", "-"])
    srv3.put_file("f.bin", data)
    with srv3.start():
        with srv3.connect() as c:
            c.request("GET", "/public/f.bin")
    check(any(LINE_RE.match(ln) and " GET /public/f.bin 200 12345 " in ln
              for ln in srv3.stderr_text().splitlines()),
          "--access-log - : no line on stderr:\n" + srv3.stderr_tail(10))
    srv4 = Server(binary, args=["--access-log", "off"])
    srv4.put_file("f.bin", data)
    with srv4.start():
        with srv4.connect() as c:
            c.request("GET", "/public/f.bin")
    check(not any(LINE_RE.match(ln) for ln in srv4.stderr_text().splitlines()),
          "--access-log off still logged:\n" + srv4.stderr_tail(10))
    check(not os.path.exists(os.path.join(os.getcwd(), "off")), "--access-log off made a file")


if __name__ == "__main__":
    main(test)
