#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Opens that miss the dentry cache: the server first tries openat2 with RESOLVE_CACHED and, on
a miss, opens through io_uring. Dropping the kernel's dentry cache (root only) forces the second
path; every file must still come back right, symlink confinement included, and the server's
debug log must show that the ring path was taken."""
import os

from ffharness import Server, _rmtree, add_cleanup, check, check_eq, main, skip, wait_until


def drop_dentries():
    try:
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("2\n")
        return True
    except OSError:
        return False


def test(binary):
    # On disk under the build tree, not in a tmpfs (whose dentries can never be dropped).
    root = os.path.join(os.getcwd(), "coldopen-%d" % os.getpid())
    os.makedirs(root)
    add_cleanup(lambda: _rmtree(root))
    srv = Server(binary, args=["--log-level", "debug", "--threads", "1"], root=root)
    bodies = {}
    for d in range(8):
        for i in range(16):
            rel = "d%d/sub/f%d.txt" % (d, i)
            bodies[rel] = os.urandom(100 + d * 16 + i)
            srv.put_file(rel, bodies[rel])
    os.symlink("/etc/hostname", os.path.join(srv.public, "d0", "escape"))
    os.symlink("sub/f1.txt", os.path.join(srv.public, "d1", "inside"))
    with srv.start():
        if not drop_dentries():
            skip("cannot drop the dentry cache (needs root): the io_uring open path is not reached")
        with srv.connect() as c:
            for rel, body in bodies.items():
                r = c.request("GET", "/public/" + rel)
                check_eq(r.status, 200, "GET /public/%s status" % rel)
                check(r.body == body, "GET /public/%s body" % rel)
            drop_dentries()
            r = c.request("GET", "/public/d0/escape")
            check_eq(r.status, 404, "absolute symlink out, cold")
            drop_dentries()
            r = c.request("GET", "/public/d1/inside")
            check_eq(r.status, 200, "relative symlink in, cold")
            check(r.body == bodies["d1/sub/f1.txt"], "relative symlink body")
            drop_dentries()
            r = c.request("GET", "/public/d2/sub/missing.txt")
            check_eq(r.status, 404, "missing file, cold")
        check(wait_until(lambda: "event=open_async" in srv.stderr_text(), 3),
              "the server never took the io_uring open path")


if __name__ == "__main__":
    main(test)
