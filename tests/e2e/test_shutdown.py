#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Graceful shutdown: SIGTERM during a slow large download lets it finish with every byte,
refuses new connections, and exits 0. Idle keep-alive connections do not hold up the exit;
SIGINT behaves like SIGTERM."""
import hashlib
import os
import signal
import socket
import time

from ffharness import Server, check, check_eq, main, port_refuses, wait_until

SIZE = 48 << 20


def test(binary):
    data = os.urandom(SIZE)
    digest = hashlib.sha256(data).hexdigest()

    # 1. SIGTERM with a slow download in flight.
    srv = Server(binary)
    srv.put_file("big.bin", data)
    srv.put_file("small.txt", b"small\n")
    srv.start()
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 10)  # keep the server waiting
    s.settimeout(30)
    s.connect(("127.0.0.1", srv.port))
    s.sendall(b"GET /public/big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
    buf = bytearray()
    while b"\r\n\r\n" not in buf:
        b = s.recv(65536)
        if not b:
            break
        buf += b
    head, _, body = bytes(buf).partition(b"\r\n\r\n")
    check(head.startswith(b"HTTP/1.1 200"), "download status line %r" % head[:40])
    got = bytearray(body)
    h = hashlib.sha256(body)

    def read_some(n, pause):
        while n > 0:
            b = s.recv(min(n, 65536))
            if not b:
                return False
            got.extend(b)
            h.update(b)
            n -= len(b)
            time.sleep(pause)
        return True

    read_some(1 << 20, 0.01)  # 1 MiB slowly: the response is well in flight
    t_term = time.monotonic()
    srv.send_signal(signal.SIGTERM)

    # New connections are refused while the download is still going.
    refused = wait_until(lambda: port_refuses(srv.port, 0.5), 3.0, 0.1)
    check(refused, "new connections still accepted 3 s after SIGTERM")
    check(srv.alive(), "server exited with a download in flight (exit %r)" % srv.proc.poll())
    check(len(got) < SIZE, "download finished too early to test anything")
    # Keep reading slowly for a while longer, then fast to the end.
    read_some(2 << 20, 0.005)
    check(srv.alive(), "server exited with a download in flight (exit %r)" % srv.proc.poll())
    s.settimeout(30)
    while len(got) < SIZE:
        b = s.recv(1 << 20)
        if not b:
            break
        got.extend(b)
        h.update(b)
    check_eq(len(got), SIZE, "bytes of the download in flight at SIGTERM")
    check_eq(h.hexdigest(), digest, "sha256 of the download in flight at SIGTERM")
    s.settimeout(10)
    try:
        tail = s.recv(1)
    except (ConnectionResetError, socket.timeout) as e:
        tail = repr(e).encode()
    check_eq(tail, b"", "connection closed after the last response")
    s.close()
    srv.reap(20, "after SIGTERM with a download in flight")
    print("exit %.2fs after SIGTERM" % (time.monotonic() - t_term), flush=True)

    # 2. Idle keep-alive connections (and a silent one) do not delay the exit.
    srv = Server(binary)
    srv.put_file("small.txt", b"small\n")
    srv.start()
    idle = srv.connect()
    r = idle.request("GET", "/public/small.txt")
    check_eq(r.status, 200, "GET before SIGTERM")
    silent = socket.create_connection(("127.0.0.1", srv.port))
    time.sleep(0.2)
    t0 = time.monotonic()
    srv.send_signal(signal.SIGTERM)
    rc = srv.reap(10, "after SIGTERM with idle keep-alive connections (keep-alive timeout "
                  "is 60 s)")
    if rc is not None:
        print("exit with idle connections after %.2fs" % (time.monotonic() - t0), flush=True)
        check(idle.wait_closed(2), "idle connection not closed at exit")
    idle.close()
    silent.close()

    # 3. SIGINT is graceful too.
    srv = Server(binary)
    srv.put_file("small.txt", b"small\n")
    srv.start()
    with srv.connect() as c:
        check_eq(c.request("GET", "/public/small.txt").status, 200, "GET before SIGINT")
    srv.stop(signal.SIGINT)

    # 4. SIGTERM right after start, nothing ever connected.
    srv = Server(binary)
    srv.start()
    srv.stop(signal.SIGTERM, timeout=10)


if __name__ == "__main__":
    main(test)
