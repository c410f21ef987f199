#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Memory cost of idle keep-alive connections (used by bench/run.sh).

idleconns.py --port PORT --pid PID [--n 5000] [--path /1k.bin | --no-get] [--settle 2]

Measures the memory of the server's process tree (PID and its descendants: VmRSS and Pss
summed) after one warm-up request, then opens N connections to 127.0.0.1:PORT, on each
sends one complete keep-alive GET of PATH and reads the whole reply (unless --no-get), and
leaves them all idle. After SETTLE seconds it measures again, counts how many connections
the server still holds (an idle socket that turned readable was closed by the server),
closes them, and prints one line:

  IDLE n=N open=K failed=F rss0_kb=.. rss_kb=.. pss0_kb=.. pss_kb=.. rss_b_conn=.. pss_b_conn=..

The per-connection figures are (after - before) / K. Only user-space memory is counted;
the kernel's socket buffers are not part of RSS. Plain HTTP on loopback only.
"""
import argparse
import os
import resource
import select
import socket
import sys
import time


def tree_pids(root):
    pids, todo = [], [root]
    while todo:
        p = todo.pop()
        if not os.path.isdir(f"/proc/{p}"):
            continue
        pids.append(p)
        try:
            tasks = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for t in tasks:
            try:
                with open(f"/proc/{p}/task/{t}/children") as f:
                    todo += [int(x) for x in f.read().split()]
            except OSError:
                pass
    return pids


def field_kb(path, key):
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_mem_kb(root):
    """(VmRSS, Pss) in KiB summed over the tree"""
    rss = pss = 0
    for p in tree_pids(root):
        rss += field_kb(f"/proc/{p}/status", "VmRSS:")
        pss += field_kb(f"/proc/{p}/smaps_rollup", "Pss:")
    return rss, pss


def read_reply(sock):
    """Read one HTTP/1.1 reply framed by Content-Length; return its status code."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = sock.recv(65536)
        if not d:
            raise ConnectionError("closed before the reply head ended")
        buf += d
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v.strip())
    while len(body) < length:
        d = sock.recv(65536)
        if not d:
            raise ConnectionError("closed in the reply body")
        body += d
    return status


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pid", type=int, required=True, help="server PID (its tree is measured)")
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--path", default="/1k.bin")
    ap.add_argument("--no-get", action="store_true", help="connect only, send nothing")
    ap.add_argument("--settle", type=float, default=2.0)
    a = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = a.n + 64
    if soft < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(hard, want)))  # root may raise hard
        except (ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < want:
        sys.exit(f"idleconns: RLIMIT_NOFILE too low for {a.n} connections (ulimit -n)")

    req = (f"GET {a.path} HTTP/1.1\r\nHost: 127.0.0.1:{a.port}\r\n"
           "Connection: keep-alive\r\n\r\n").encode()

    # warm-up: one request on its own connection, so one-time lazy set-up (first request,
    # file open caches) is in the baseline, not divided over the idle connections
    with socket.create_connection(("127.0.0.1", a.port), timeout=10) as s:
        s.sendall(req)
        if read_reply(s) != 200:
            sys.exit(f"idleconns: GET {a.path} did not answer 200")
    time.sleep(a.settle)
    rss0, pss0 = tree_mem_kb(a.pid)

    socks, failed = [], 0
    for _ in range(a.n):
        try:
            s = socket.create_connection(("127.0.0.1", a.port), timeout=10)
        except OSError:
            failed += 1
            continue
        socks.append(s)
        if a.no_get:
            continue
        try:
            s.sendall(req)
            if read_reply(s) != 200:
                failed += 1
        except (OSError, ConnectionError, ValueError, IndexError):
            failed += 1
    time.sleep(a.settle)
    rss1, pss1 = tree_mem_kb(a.pid)

    poller = select.poll()
    for s in socks:
        poller.register(s, select.POLLIN | select.POLLRDHUP | select.POLLERR)
    gone = len(poller.poll(0))
    still = len(socks) - gone
    for s in socks:
        s.close()

    per = lambda before, after: (after - before) * 1024 / still if still else 0
    print(f"IDLE n={a.n} open={still} failed={failed} rss0_kb={rss0} rss_kb={rss1} "
          f"pss0_kb={pss0} pss_kb={pss1} rss_b_conn={per(rss0, rss1):.0f} "
          f"pss_b_conn={per(pss0, pss1):.0f}")


if __name__ == "__main__":
    main()
