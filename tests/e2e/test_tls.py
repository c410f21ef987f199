#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""HTTPS on the userspace TLS path (this host's kernel has no kTLS): curl with --cacert against
the generated certificate for TLS 1.2 and 1.3 and each cipher, keep-alive, ranges and
conditionals, a 256 MiB download with sha256 equal, ALPN with openssl s_client, and hostile
clients: plain HTTP to the TLS port, a truncated ClientHello, a handshake that never finishes,
and a client that vanishes mid-download. The server stays up and its connections go back to 0."""
import hashlib
import os
import socket
import ssl
import subprocess
import time

from ffharness import Server, check, check_eq, main, need_curl, section, wait_until

TLS12_CIPHERS = {
    "ECDHE-ECDSA-AES128-GCM-SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305": "ECDHE-ECDSA-CHACHA20-POLY1305",
}
TLS13_CIPHERS = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                 "TLS_CHACHA20_POLY1305_SHA256"]
BIG = 256 << 20


def curl(srv, path, *extra, out=None):
    """curl over HTTPS, trusting only the server's generated certificate."""
    argv = ["curl", "-sS", "--max-time", "120", "--cacert", srv.cert,
            "--resolve", "localhost:%d:127.0.0.1" % srv.tls_port,
            "-o", out or "/dev/null", "-w", "%{http_code} %{num_connects} %{ssl_verify_result}"]
    argv += list(extra) + [srv.tls_url(path)]
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=180)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def established(port):
    """Established TCP connections whose local port is the server's TLS port."""
    out = subprocess.run(["ss", "-Htn", "state", "established", "( sport = :%d )" % port],
                         capture_output=True, text=True).stdout
    return len([ln for ln in out.splitlines() if ln.strip()])


def client_hello():
    """The first flight of a real TLS client, captured from Python's ssl on a socketpair."""
    a, b = socket.socketpair()
    ctx = ssl.create_default_context()
    obj = ctx.wrap_socket(a, server_hostname="localhost", do_handshake_on_connect=False)
    obj.setblocking(False)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    data = b.recv(65536)
    obj.close()
    b.close()
    return data


def test(binary):
    need_curl()
    srv = Server(binary, args=["--head-timeout", "2"])
    small = os.urandom(5000)
    srv.put_file("small.bin", small)
    srv.put_file("hello.txt", b"hello\n")
    with open(os.path.join(srv.public, "big.bin"), "wb") as f:
        h = hashlib.sha256()
        for _ in range(BIG // (4 << 20)):
            b = os.urandom(4 << 20)
            h.update(b)
            f.write(b)
    big_sha = h.hexdigest()
    out = os.path.join(srv.root, "dl")

    with srv.start():
        with section("versions and ciphers"):
            for name in TLS12_CIPHERS:
                rc, w, err = curl(srv, "/public/small.bin", "--tlsv1.2", "--tls-max", "1.2",
                                  "--ciphers", name, out=out)
                check(rc == 0 and w.startswith("200 "), "TLS 1.2 %s: rc %d %s %s" % (
                    name, rc, w, err.strip()))
                check(open(out, "rb").read() == small, "TLS 1.2 %s body" % name)
            for name in TLS13_CIPHERS:
                rc, w, err = curl(srv, "/public/small.bin", "--tlsv1.3", "--tls13-ciphers", name,
                                  out=out)
                check(rc == 0 and w.startswith("200 "), "TLS 1.3 %s: rc %d %s %s" % (
                    name, rc, w, err.strip()))
                check(open(out, "rb").read() == small, "TLS 1.3 %s body" % name)

        with section("keep-alive, ranges, conditionals"):
            p = subprocess.run(["curl", "-sS", "--cacert", srv.cert, "--resolve",
                                "localhost:%d:127.0.0.1" % srv.tls_port, "-o", "/dev/null",
                                "-o", "/dev/null", "-o", "/dev/null", "-w", "%{num_connects}\n",
                                srv.tls_url("/public/small.bin"), srv.tls_url("/public/hello.txt"),
                                srv.tls_url("/public/small.bin")], capture_output=True, text=True)
            check_eq(p.stdout.split(), ["1", "0", "0"], "three requests on one TLS connection")
            rc, w, _ = curl(srv, "/public/small.bin", "-r", "100-199", out=out)
            check(w.startswith("206 "), "range status %s" % w)
            check(open(out, "rb").read() == small[100:200], "range bytes")
            p = subprocess.run(["curl", "-sS", "--cacert", srv.cert, "--resolve",
                                "localhost:%d:127.0.0.1" % srv.tls_port, "-D", "-", "-o",
                                "/dev/null", srv.tls_url("/public/hello.txt")],
                               capture_output=True, text=True)
            etag = [ln.split(":", 1)[1].strip() for ln in p.stdout.splitlines()
                    if ln.lower().startswith("etag:")]
            check(len(etag) == 1, "ETag over TLS: %r" % p.stdout)
            if etag:
                rc, w, _ = curl(srv, "/public/hello.txt", "-H", "If-None-Match: " + etag[0])
                check(w.startswith("304 "), "If-None-Match over TLS: %s" % w)

        with section("256 MiB download"):
            t0 = time.monotonic()
            p = subprocess.Popen(["curl", "-sS", "--cacert", srv.cert, "--resolve",
                                  "localhost:%d:127.0.0.1" % srv.tls_port,
                                  srv.tls_url("/public/big.bin")], stdout=subprocess.PIPE)
            hh, n = hashlib.sha256(), 0
            while True:
                b = p.stdout.read(1 << 20)
                if not b:
                    break
                hh.update(b)
                n += len(b)
            check_eq(p.wait(), 0, "curl exit status for the big download")
            check_eq(n, BIG, "bytes of the big download")
            check(hh.hexdigest() == big_sha, "sha256 of the big download")
            print("256 MiB over TLS in %.2fs" % (time.monotonic() - t0), flush=True)

        with section("ALPN"):
            for alpn, ok in (("http/1.1", True), ("h2", False)):
                p = subprocess.run(["openssl", "s_client", "-connect",
                                    "127.0.0.1:%d" % srv.tls_port, "-alpn", alpn,
                                    "-CAfile", srv.cert, "-servername", "localhost"],
                                   input=b"", capture_output=True, timeout=20)
                text = p.stdout.decode("latin-1")
                if ok:
                    check("ALPN protocol: http/1.1" in text, "ALPN http/1.1 agreed: %r" %
                          text[-400:])
                else:
                    check("ALPN protocol: h2" not in text and
                          "Cipher is (NONE)" in text or p.returncode != 0,
                          "ALPN h2 only must fail the handshake: %r" % text[-400:])

        with section("pipelining far ahead"):
            # 5,000 requests (about 290 KiB of records) in one go: the records wait while the
            # responses go out, and every request is answered in order.
            ctx = ssl.create_default_context(cafile=srv.cert)
            raw = socket.create_connection(("127.0.0.1", srv.tls_port), timeout=30)
            t = ctx.wrap_socket(raw, server_hostname="localhost")
            n = 5000
            t.sendall(b"GET /public/hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n" * n)
            got, tail = 0, b""
            while got < n:
                chunk = t.recv(1 << 16)
                if not chunk:
                    break
                got += (tail + chunk).count(b"HTTP/1.1 200 OK\r\n")
                tail = chunk[-16:]
            t.close()
            check_eq(got, n, "pipelined requests answered over TLS")

        with section("hostile clients"):
            s = socket.create_connection(("127.0.0.1", srv.tls_port), timeout=5)
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            data = s.recv(100)
            check(not data.startswith(b"HTTP/"), "plain HTTP to the TLS port got HTTP back")
            s.close()

            hello = client_hello()
            check(len(hello) > 100, "captured ClientHello of %d bytes" % len(hello))
            for what, payload in (("truncated ClientHello", hello[:len(hello) // 2]),
                                  ("nothing at all", b"")):
                s = socket.create_connection(("127.0.0.1", srv.tls_port), timeout=10)
                s.sendall(payload)
                t0 = time.monotonic()
                try:
                    data = s.recv(100)
                except OSError:
                    data = b""
                dt = time.monotonic() - t0
                check(data == b"" and 1.0 <= dt <= 6.0,
                      "%s: closed after %.1fs with %r (deadline 2s)" % (what, dt, data[:20]))
                s.close()

            # A client that gives up mid-handshake (sends EOF) is closed at once, not held
            # until the deadline.
            s = socket.create_connection(("127.0.0.1", srv.tls_port), timeout=10)
            s.sendall(hello[:len(hello) // 2])
            s.shutdown(socket.SHUT_WR)
            t0 = time.monotonic()
            try:
                data = s.recv(100)
            except OSError:
                data = b""
            dt = time.monotonic() - t0
            check(data == b"" and dt < 1.0,
                  "EOF mid-handshake: closed after %.2fs with %r" % (dt, data[:20]))
            s.close()

            ctx = ssl.create_default_context(cafile=srv.cert)
            raw = socket.create_connection(("127.0.0.1", srv.tls_port), timeout=10)
            t = ctx.wrap_socket(raw, server_hostname="localhost")
            t.sendall(b"GET /public/big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n")
            got = 0
            while got < (8 << 20):
                got += len(t.recv(1 << 16))
            # Vanish: no close_notify, an RST (SO_LINGER with a zero timeout).
            t.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            t.close()

            check(wait_until(lambda: established(srv.tls_port) == 0, 10),
                  "server connections back to 0 (still %d)" % established(srv.tls_port))
            rc, w, _ = curl(srv, "/public/hello.txt")
            check(w.startswith("200 "), "server still answers after the hostile clients: %s" % w)
        log = srv.stderr_text()
        check("event=tls_not_tls" in log, "plain HTTP on the TLS port is logged")
        check("event=tls_handshake_timeout" in log, "handshake deadline is logged")
        check("event=tls_handshake_eof" in log, "EOF during the handshake is logged")


if __name__ == "__main__":
    main(test)
