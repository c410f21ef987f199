# SPDX-License-Identifier: MIT
"""rclone (Debian 1.60) with a webdav remote on /dav/ over HTTPS: a tree of nested folders with
1,000 small files and a 100 MiB file goes up and comes back; `rclone check` is clean both ways
and the files on the server's disk are byte for byte the originals."""

import filecmp
import hashlib
import os
import random
import shutil
import subprocess

import ffharness as h

USER, PASSWORD = "alice", "alice-rclone-pw"


def make_tree(root):
    rnd = random.Random(5)
    n = 0
    for a in range(10):
        for b in range(4):
            d = os.path.join(root, "dir %02d" % a, "sub-%d" % b)
            os.makedirs(d, exist_ok=True)
            for _ in range(25):
                size = rnd.choice([0, 1, 100, 1000, 5000, 40000])
                with open(os.path.join(d, "f%04d é.txt" % n), "wb") as f:
                    f.write(rnd.randbytes(size))
                n += 1
    with open(os.path.join(root, "big.bin"), "wb") as f:
        for _ in range(100):
            f.write(rnd.randbytes(1 << 20))
    return n


def rclone(args, timeout=600):
    p = subprocess.run(["rclone"] + args, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def run(binary):
    h.require(shutil.which("rclone"), "rclone is not installed")
    srv = h.Server(binary)
    h.add_user(binary, srv.data, USER, PASSWORD)
    with srv.start():
        rc, obscured, err = rclone(["obscure", PASSWORD])
        h.require(rc == 0, "rclone obscure: %s" % err)
        remote = ":webdav,url='https://localhost:%d/dav/',vendor=other,user=%s,pass=%s:" % (
            srv.tls_port, USER, obscured.strip())
        common = ["--ca-cert", srv.cert, "--transfers", "8", "--checkers", "8",
                  "--low-level-retries", "1", "--retries", "1"]
        src = os.path.join(srv.root, "src")
        back = os.path.join(srv.root, "back")
        n = make_tree(src)
        h.log("tree: %d small files and a 100 MiB file" % n)

        rc, out, err = rclone(["copy", src, remote + "up"] + common)
        h.check(rc == 0, "rclone copy up: rc %d\n%s" % (rc, err[-3000:]))
        rc, out, err = rclone(["check", src, remote + "up"] + common)
        h.check(rc == 0, "rclone check after upload: rc %d\n%s" % (rc, err[-3000:]))

        rc, out, err = rclone(["copy", remote + "up", back] + common)
        h.check(rc == 0, "rclone copy back: rc %d\n%s" % (rc, err[-3000:]))
        rc, out, err = rclone(["check", src, back])
        h.check(rc == 0, "rclone check of the copy that came back: rc %d\n%s" % (rc, err[-3000:]))

        on_disk = os.path.join(srv.data, "files", USER, "up")
        cmp = filecmp.dircmp(src, on_disk)
        def diffs(c):
            out = list(c.left_only) + list(c.right_only) + list(c.diff_files)
            for sub in c.subdirs.values():
                out += diffs(sub)
            return out
        d = diffs(cmp)
        h.check(not d, "the server's disk holds the tree as sent: %r" % d[:10])
        with open(os.path.join(src, "big.bin"), "rb") as a, \
                open(os.path.join(on_disk, "big.bin"), "rb") as b:
            h.check(hashlib.sha256(a.read()).digest() == hashlib.sha256(b.read()).digest(),
                    "100 MiB file sha256 equal on the server")
        h.check(not os.listdir(os.path.join(srv.data, "tmp")),
                "nothing left in the staging folder")
        srv.stop()


if __name__ == "__main__":
    h.main(run)
