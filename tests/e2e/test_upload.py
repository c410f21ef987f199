# SPDX-License-Identifier: MIT
"""Uploads (PUT on /dav/) through every body path, each checked by sha256 on the server's disk
and by GET: Content-Length over plain HTTP (socket -> pipe -> file by splice), chunked (decoded
into buffers), over userspace TLS (256 MiB), a request pipelined right behind a body (the
splice must stop at the body's end), an interrupted upload (the old version stays whole, nothing
stray is left), a refused upload (412 before any body, no 100 Continue), and, on a server with
a quota, a chunked upload stopped with 507 once past it, long before its end.
"""

import base64
import hashlib
import os
import select
import socket
import subprocess
import time

import ffharness as h

USER, PASSWORD = "alice", "alice-upload-pw"
AUTH = "Basic " + base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode()


def make(path, size, seed):
    block = hashlib.sha256(seed.encode()).digest() * 2048  # 64 KiB
    with open(path, "wb") as f:
        left = size
        i = 0
        while left > 0:
            chunk = (block[i % 7:] + block[:i % 7])[:min(left, len(block))]
            f.write(chunk)
            left -= len(chunk)
            i += 1


def sha(path):
    d = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            d.update(b)
    return d.hexdigest()


def curl(srv, args, tls):
    url = (srv.tls_url if tls else srv.url)
    base = ["curl", "-sS", "--max-time", "240", "-u", "%s:%s" % (USER, PASSWORD),
            "-w", "%{http_code}"]
    if "-o" not in args:
        base += ["-o", "/dev/null"]
    if tls:
        base += ["--cacert", srv.cert, "--resolve", "localhost:%d:127.0.0.1" % srv.tls_port]
    p = subprocess.run(base + args[:-1] + [url(args[-1])], stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=300)
    return p.stdout.decode(), p.stderr.decode()


def run(binary):
    srv = h.Server(binary)
    h.add_user(binary, srv.data, USER, PASSWORD)
    tree = os.path.join(srv.data, "files", USER)
    src = os.path.join(srv.root, "src")
    os.makedirs(src)
    with srv.start():
        with h.section("Content-Length over plain HTTP (splice)"):
            f = os.path.join(src, "plain.bin")
            make(f, 96 << 20, "plain")
            st, err = curl(srv, ["-T", f, "/dav/plain.bin"], tls=False)
            h.check_eq(st, "201", "PUT 96 MiB: %s" % err)
            h.check_eq(sha(os.path.join(tree, "plain.bin")), sha(f), "sha256 on disk")
            back = os.path.join(srv.root, "back.bin")
            st, _ = curl(srv, ["-o", back, "/dav/plain.bin"], tls=False)
            h.check(st == "200" and sha(back) == sha(f), "GET gives it back")
            g = os.path.join(src, "plain2.bin")
            make(g, 5 << 20, "plain2")
            st, err = curl(srv, ["-T", g, "/dav/plain.bin"], tls=False)
            h.check_eq(st, "204", "a replacing PUT")
            h.check_eq(sha(os.path.join(tree, "plain.bin")), sha(g), "replaced whole")

        with h.section("chunked, plain and TLS"):
            for tls in (False, True):
                f = os.path.join(src, "chunked.bin")
                make(f, 40 << 20, "chunked-%s" % tls)
                st, err = curl(srv, ["-T", f, "-H", "Transfer-Encoding: chunked",
                                     "/dav/chunked-%d.bin" % tls], tls=tls)
                h.check_eq(st, "201", "chunked PUT (tls=%s): %s" % (tls, err))
                h.check_eq(sha(os.path.join(tree, "chunked-%d.bin" % tls)), sha(f),
                           "chunked body sha256 (tls=%s)" % tls)

        with h.section("256 MiB over TLS"):
            f = os.path.join(src, "big.bin")
            make(f, 256 << 20, "big")
            st, err = curl(srv, ["-T", f, "/dav/big.bin"], tls=True)
            h.check_eq(st, "201", "PUT 256 MiB over TLS: %s" % err)
            h.check_eq(sha(os.path.join(tree, "big.bin")), sha(f), "256 MiB sha256 on disk")
            os.unlink(f)

        with h.section("a request pipelined behind the body"):
            body = os.urandom(3 << 20)
            with srv.connect() as c:
                c.send(h.build_request("PUT", "/dav/pipe.bin", {"Authorization": AUTH,
                                                               "Content-Length": str(len(body))})
                       + body + h.build_request("GET", "/dav/pipe.bin",
                                                {"Authorization": AUTH}))
                r1 = c.read_response("PUT", timeout=30)
                r2 = c.read_response("GET", timeout=30)
            h.check_eq(r1.status, 201, "the PUT")
            h.check(r2.status == 200 and r2.body == body, "the GET behind it sees the new file")

        with h.section("an interrupted upload leaves the old version"):
            old = os.path.join(tree, "keep.bin")
            h.write_file(old, b"old version\n" * 1000)
            before = sha(old)
            with srv.connect() as c:
                c.send(h.build_request("PUT", "/dav/keep.bin", {"Authorization": AUTH,
                                                               "Content-Length": str(8 << 20)}))
                c.sock.sendall(os.urandom(3 << 20))
                c.sock.shutdown(socket.SHUT_RDWR)
            h.wait_until(lambda: not os.listdir(os.path.join(srv.data, "tmp")), 5)
            h.check_eq(sha(old), before, "the old version is intact")
            h.check(sorted(n for n in os.listdir(tree) if n.startswith(".")) == [],
                    "no hidden temporary file in the folder")
            h.check_eq(os.listdir(os.path.join(srv.data, "tmp")), [], "staging folder empty")
            with srv.connect() as c:
                c.send(h.build_request("GET", "/dav/keep.bin", {"Authorization": AUTH}))
                r = c.read_response("GET")
            h.check(r.status == 200 and r.body == b"old version\n" * 1000,
                    "GET still gives the old version")

        with h.section("a refused upload: 412 before the body"):
            with srv.connect() as c:
                c.send(h.build_request("PUT", "/dav/keep.bin", {
                    "Authorization": AUTH, "Content-Length": str(1 << 20),
                    "If-None-Match": "*", "Expect": "100-continue"}))
                r = c.read_response("PUT", allow_1xx=True)
            h.check_eq(r.status, 412, "If-None-Match: * on an existing file, no 100 first")
        srv.stop()

    # --quota 2 (MiB): a chunked body has no length to refuse before it, so the server stops
    # it once it is past the room the user had.
    srv = h.Server(binary, args=["--quota", "2"])
    h.add_user(binary, srv.data, USER, PASSWORD)
    with srv.start():
        with h.section("a chunked upload past the quota"):
            sent, answer = 0, b""
            chunk = b"%x\r\n" % (64 << 10) + os.urandom(64 << 10) + b"\r\n"
            with srv.connect() as c:
                c.send(h.build_request("PUT", "/dav/big.bin", {
                    "Authorization": AUTH, "Transfer-Encoding": "chunked"}))
                deadline = time.monotonic() + 60
                try:
                    while sent < (64 << 20) and time.monotonic() < deadline:
                        if select.select([c.sock], [], [], 0)[0]:
                            break
                        c.sock.sendall(chunk)
                        sent += 64 << 10
                except OSError:
                    pass  # the server closed after its answer
                r = c.read_head(timeout=30)
            h.check_eq(r.status, 507, "the answer to a body past the quota")
            h.check(sent < (16 << 20), "the answer came after %d MiB of a 64 MiB body" % (
                sent >> 20))
            h.check(not os.path.exists(os.path.join(srv.data, "files", USER, "big.bin")),
                    "nothing at the path")
            h.wait_until(lambda: not os.listdir(os.path.join(srv.data, "tmp")), 5)
            h.check_eq(os.listdir(os.path.join(srv.data, "tmp")), [], "staging folder empty")
        with h.section("within the quota, chunked"):
            small = os.path.join(srv.root, "small.bin")
            make(small, 1 << 20, "small")
            code, err = curl(srv, ["-T", small, "-H", "Transfer-Encoding: chunked",
                                   "/dav/small.bin"], False)
            h.check_eq(code, "201", "a chunked 1 MiB upload under a 2 MiB quota: %s" % err)
            h.check_eq(sha(os.path.join(srv.data, "files", USER, "small.bin")), sha(small),
                       "sha256 on disk")
        srv.stop()


if __name__ == "__main__":
    h.main(run)
