# SPDX-License-Identifier: MIT
"""PROPFIND answers in pieces: a listing longer than a piece (256 KiB) goes out as chunks, each
made by the job after the previous one was sent. Checked here: every member listed exactly
once and in order, dead properties with their entries, over HTTP/1.1 (chunked, and the
connection serves the next request), HTTP/1.0 (the end of the connection ends the body), TLS,
pipelined requests, Depth infinity, and a client that disconnects midway (the server goes on).
Last, a folder of 100,000 files listed twice: the second listing (25 MB) raises the server's
peak memory by less than its bounded caches (in a build without sanitizers, whose allocator
keeps freed memory)."""

import base64
import os
import re
import socket
import subprocess
import time
import xml.etree.ElementTree as ET

import ffharness as h

USER, PASSWORD = "alice", "alice-davstream-pw"
AUTH = "Basic " + base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode()
DAV = "{DAV:}"
N_BIG = 3000
N_HUGE = 100000
ALLPROP = (b'<?xml version="1.0" encoding="utf-8"?>'
           b'<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>')
NAMED = (b'<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop>'
         b'<D:getetag/><D:getcontentlength/><D:resourcetype/></D:prop></D:propfind>')


def propfind_req(path, depth, body=ALLPROP, version="HTTP/1.1", extra=()):
    hd = [("Authorization", AUTH), ("Depth", depth), ("Content-Type", "application/xml")]
    return h.build_request("PROPFIND", path, hd + list(extra), body, version)


def hrefs_of(body):
    root = ET.fromstring(body)
    return [r.find(DAV + "href").text for r in root.iter(DAV + "response")], root


def check_listing(body, want, what):
    """The hrefs of body are want, in that order, each once."""
    try:
        got, root = hrefs_of(body)
    except ET.ParseError as e:
        h.check(False, "%s: not well-formed XML (%s), %d bytes, ends %r" % (what, e, len(body),
                                                                            body[-80:]))
        return None
    h.check(got == want, "%s: %d hrefs, want %d; first difference at %r" % (
        what, len(got), len(want),
        next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))))
    return root


def read_chunked_raw(c):
    """Read a chunked body by hand: the sizes of its chunks and the bytes."""
    sizes, body = [], bytearray()
    while True:
        line = c.read_until(b"\r\n")
        n = int(line.split(b";")[0].strip(), 16)
        if n == 0:
            h.check_eq(c.read_until(b"\r\n"), b"\r\n", "no trailer after the last chunk")
            return sizes, bytes(body)
        sizes.append(n)
        body += c.read_exact(n + 2)[:-2]


def mem_kib(pid, field):
    with open("/proc/%d/status" % pid) as f:
        m = re.search(field + r":\s+(\d+) kB", f.read())
    return int(m.group(1))


def reset_peak(pid):
    """Set the process's peak resident size (VmHWM) back to its current size (Linux >= 4.0)."""
    with open("/proc/%d/clear_refs" % pid, "w") as f:
        f.write("5")


def sanitized(binary):
    p = subprocess.run(["ldd", binary], capture_output=True, text=True)
    return "libasan" in p.stdout or "libubsan" in p.stdout


def run(binary):
    h.raise_nofile()
    srv = h.Server(binary)
    h.add_user(binary, srv.data, USER, PASSWORD)
    home = os.path.join(srv.data, "files", USER)
    names = ["f %04d é.txt" % i for i in range(N_BIG)]
    for n in names:
        h.write_file(os.path.join(home, "big", n), b"x" * 10)
    for d in range(12):
        for i in range(150):
            h.write_file(os.path.join(home, "tree", "d%02d" % d, "g%03d.bin" % i), b"y")
    os.makedirs(os.path.join(home, "huge"))
    for i in range(N_HUGE):
        with open(os.path.join(home, "huge", "h%06d" % i), "wb"):
            pass
    q = lambda s: s.replace(" ", "%20").replace("é", "%C3%A9")
    want_big = ["/dav/big/"] + ["/dav/big/" + q(n) for n in sorted(names, key=str.encode)]
    want_tree = ["/dav/tree/"]
    for d in range(12):
        want_tree.append("/dav/tree/d%02d/" % d)
        want_tree += ["/dav/tree/d%02d/g%03d.bin" % (d, i) for i in range(150)]

    with srv.start():
        # Depth infinity reads the index: the watcher's catch-up must have brought it in.
        deadline = time.monotonic() + 240
        while "event=watch_ready" not in srv.stderr_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        h.require("event=watch_ready" in srv.stderr_text(), "the watcher caught up")
        # A dead property on some members: it comes with its own entry, in whichever piece.
        for i in range(0, N_BIG, 250):
            patch = ('<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop>'
                     '<t:n xmlns:t="urn:t">v%d</t:n></D:prop></D:set></D:propertyupdate>' % i)
            with srv.connect() as c:
                c.send(h.build_request("PROPPATCH", "/dav/big/" + q(names[i]),
                                       {"Authorization": AUTH}, patch.encode()))
                h.check_eq(c.read_response("PROPPATCH").status, 207, "PROPPATCH %d" % i)

        with h.section("HTTP/1.1: chunks, then the next request"):
            with srv.connect(timeout=60) as c:
                c.send(propfind_req("/dav/big/", "1"))
                r = c.read_head()
                h.check_eq(r.status, 207, "status")
                h.check_eq(r.header("transfer-encoding"), "chunked", "Transfer-Encoding")
                h.check(r.header("content-length") is None, "no Content-Length")
                sizes, body = read_chunked_raw(c)
                h.check(len(sizes) >= 4, "a listing of %d bytes in %d chunks" % (len(body),
                                                                                  len(sizes)))
                root = check_listing(body, want_big, "Depth 1 allprop")
                if root is not None:
                    dead = {}
                    for resp in root.iter(DAV + "response"):
                        v = resp.find(".//{urn:t}n")
                        if v is not None:
                            dead[resp.find(DAV + "href").text] = v.text
                    h.check_eq(dead, {"/dav/big/" + q(names[i]): "v%d" % i
                                      for i in range(0, N_BIG, 250)}, "dead properties")
                r = c.request("PROPFIND", "/dav/big/", [("Authorization", AUTH),
                                                        ("Depth", "0")])
                h.check_eq(r.status, 207, "the next request on the connection")
                check_listing(r.body, ["/dav/big/"], "Depth 0 after the streamed one")

        with h.section("pipelined listings"):
            with srv.connect(timeout=60) as c:
                c.send(propfind_req("/dav/big/", "1") + propfind_req("/dav/big/", "1", NAMED) +
                       propfind_req("/dav/tree/", "infinity"))
                for what, want in (("first", want_big), ("second", want_big),
                                   ("third (infinity)", want_tree)):
                    r = c.read_response("PROPFIND", timeout=60)
                    h.check_eq(r.status, 207, what)
                    check_listing(r.body, want, "pipelined " + what)

        with h.section("HTTP/1.0: the body ends with the connection"):
            with srv.connect(timeout=60) as c:
                c.send(propfind_req("/dav/big/", "1", version="HTTP/1.0"))
                r = c.read_head()
                h.check_eq(r.status, 207, "status")
                h.check(r.header("transfer-encoding") is None, "no chunks for HTTP/1.0")
                h.check(r.header("content-length") is None, "no Content-Length")
                check_listing(c.read_to_close(60), want_big, "HTTP/1.0 listing")

        with h.section("TLS"):
            p = h.curl(["--cacert", srv.cert, "-u", "%s:%s" % (USER, PASSWORD), "-X",
                        "PROPFIND", "-H", "Depth: 1", "--data-binary", ALLPROP,
                        srv.tls_url("/dav/big/")], timeout=60)
            check_listing(p.stdout, want_big, "over TLS")

        with h.section("a client that leaves midway"):
            for _ in range(5):
                s = socket.create_connection(("127.0.0.1", srv.port))
                s.sendall(propfind_req("/dav/big/", "1"))
                s.recv(1000)
                s.close()
            time.sleep(0.5)
            h.check(srv.alive(), "the server is still up")
            with srv.connect(timeout=60) as c:
                c.send(propfind_req("/dav/big/", "1"))
                r = c.read_response("PROPFIND", timeout=60)
                check_listing(r.body, want_big, "a listing after the abandoned ones")

        with h.section("100,000 members"):
            want_huge = ["/dav/huge/"] + ["/dav/huge/h%06d" % i for i in range(N_HUGE)]
            pid = srv.proc.pid
            for i in range(2):
                # The first listing brings the index in line with the new folder (that holds
                # its names in memory); the second one streams from the index alone.
                reset_peak(pid)
                before = mem_kib(pid, "VmRSS")
                with srv.connect(timeout=300) as c:
                    c.send(propfind_req("/dav/huge/", "1", NAMED))
                    r = c.read_response("PROPFIND", timeout=300)
                    h.check_eq(r.status, 207, "status")
                    check_listing(r.body, want_huge, "Depth 1 over 100,000 files")
                grew = mem_kib(pid, "VmHWM") - before
                h.log("listing %d: %d bytes, the server's peak resident size %d KiB above "
                      "its size before" % (i + 1, len(r.body), grew))
            if sanitized(binary):
                h.log("sanitizer build: its allocator keeps freed memory; peak not compared")
            else:
                # Bounded caches may still fill (each pool thread's SQLite page cache, 2 MiB):
                # a listing held in memory would cost more than its 25 MB.
                h.check(grew < 16384, "the second listing (%d bytes) raised the server's peak "
                        "memory by %d KiB" % (len(r.body), grew))
        srv.stop()


if __name__ == "__main__":
    h.main(run)
