#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A 256 MiB file of random data downloaded with curl, sha256 compared: default server,
--no-multishot, --threads 1; parallel downloads and a large range too."""
import hashlib
import os
import subprocess
import threading
import time

from ffharness import Server, check, check_eq, main, need_curl, tempdir

SIZE = 256 << 20
CHUNK = 4 << 20


def make_file(path):
    h = hashlib.sha256()
    mid = None
    with open(path, "wb") as f:
        for off in range(0, SIZE, CHUNK):
            b = os.urandom(CHUNK)
            if off == 96 << 20:
                mid = b
            h.update(b)
            f.write(b)
    return h.hexdigest(), mid


def curl_sha(url, extra=(), timeout=120):
    """Stream a download through sha256; returns (status, bytes, hexdigest, seconds)."""
    t0 = time.monotonic()
    p = subprocess.Popen(["curl", "-sS", "--max-time", str(timeout), "-o", "-",
                          "-w", "", "-D", "/dev/stderr"] + list(extra) + [url],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    h, n = hashlib.sha256(), 0
    while True:
        b = p.stdout.read(1 << 20)
        if not b:
            break
        h.update(b)
        n += len(b)
    err = p.stderr.read().decode("latin-1")
    rc = p.wait(timeout=30)
    status = 0
    for line in err.splitlines():
        if line.startswith("HTTP/"):
            status = int(line.split()[1])
    check_eq(rc, 0, "curl exit status for %s %s (stderr %r)" % (url, extra, err[-300:]))
    return status, n, h.hexdigest(), time.monotonic() - t0


def test(binary):
    need_curl()
    root = tempdir()
    src = os.path.join(root, "big.bin")
    digest, mid = make_file(src)

    configs = [("default", []), ("--no-multishot", ["--no-multishot"]),
               ("--threads 1", ["--threads", "1"])]
    for label, args in configs:
        srv = Server(binary, args=args)
        os.link(src, srv.path("big.bin"))  # same bytes, no copy
        with srv.start():
            st, n, d, dt = curl_sha(srv.url("/public/big.bin"))
            check_eq(st, 200, "%s: status" % label)
            check_eq(n, SIZE, "%s: bytes received" % label)
            check_eq(d, digest, "%s: sha256" % label)
            print("%s: 256 MiB in %.2fs" % (label, dt), flush=True)

            if label == "default":
                # A range in the middle (96 MiB + 1 .. 96 MiB + 4 MiB - 1).
                lo, hi = (96 << 20) + 1, (100 << 20) - 1
                st, n, d, _ = curl_sha(srv.url("/public/big.bin"), ["-r", "%d-%d" % (lo, hi)])
                check_eq(st, 206, "large range status")
                check_eq(n, hi - lo + 1, "large range length")
                check_eq(d, hashlib.sha256(mid[1:]).hexdigest(), "large range sha256")

                # Four downloads at once.
                results = [None] * 4

                def dl(i):
                    results[i] = curl_sha(srv.url("/public/big.bin"))

                ts = [threading.Thread(target=dl, args=(i,)) for i in range(4)]
                for t in ts:
                    t.start()
                for t in ts:
                    t.join(300)
                for i, res in enumerate(results):
                    if check(res is not None, "parallel download %d did not finish" % i):
                        check_eq(res[:3], (200, SIZE, digest), "parallel download %d" % i)


if __name__ == "__main__":
    main(test)
