# SPDX-License-Identifier: MIT
"""Crash safety of uploads: kill -9 the server while 50 large PUTs are in flight (half of them
replacing existing files), restart it, and check that every file is whole — its complete old or
complete new version, by sha256, and the new one wherever the PUT was acknowledged —, that no
temporary file is left in the tree or the staging folder, that `PRAGMA integrity_check` says
ok, and that the index agrees with the disk (PROPFIND lists exactly the files there are, and
the folders' ETags change after a write below them).
"""

import base64
import hashlib
import os
import signal
import sqlite3
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET

import ffharness as h

USER, PASSWORD = "alice", "alice-crash-pw"
N = 50
SIZE = 8 << 20
AUTH = "Basic " + base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode()


def content(i, version):
    """Distinct bytes per file and version, cheap to make."""
    seed = hashlib.sha256(b"%d-%d" % (i, version)).digest() * 64
    return (seed * (SIZE // len(seed) + 1))[:SIZE]


def digest(data):
    return hashlib.sha256(data).hexdigest()


def put(srv, path, body, pace=0.0):
    """One PUT over a raw socket, sent in pieces; the status, or None when cut off."""
    try:
        with srv.connect(timeout=30) as c:
            c.send(h.build_request("PUT", path, {"Authorization": AUTH,
                                                 "Content-Length": str(len(body))}))
            step = 256 << 10
            for off in range(0, len(body), step):
                c.sock.sendall(body[off:off + step])
                if pace:
                    time.sleep(pace)
            return c.read_response("PUT", timeout=30).status
    except (OSError, h.Closed):
        return None


def propfind(srv, path, depth):
    with srv.connect() as c:
        c.send(h.build_request("PROPFIND", path, {"Authorization": AUTH, "Depth": depth}))
        r = c.read_response("PROPFIND")
    h.require(r.status == 207, "PROPFIND %s: %d" % (path, r.status))
    out = {}
    for resp in ET.fromstring(r.body).findall("{DAV:}response"):
        href = urllib.parse.unquote(resp.find("{DAV:}href").text)
        etag = resp.find(".//{DAV:}getetag")
        out[href] = etag.text if etag is not None else None
    return out


def run(binary):
    srv = h.Server(binary)
    h.add_user(binary, srv.data, USER, PASSWORD)
    tree = os.path.join(srv.data, "files", USER, "up")
    os.makedirs(tree)
    old = {}
    for i in range(0, N, 2):
        h.write_file(os.path.join(tree, "f%02d.bin" % i), content(i, 0))
        old[i] = digest(content(i, 0))
    new = {i: digest(content(i, 1)) for i in range(N)}

    status = {}
    with srv.start():
        # Paced so that the kill finds most of them half-way.
        threads = [threading.Thread(target=lambda i=i: status.__setitem__(
            i, put(srv, "/dav/up/f%02d.bin" % i, content(i, 1), pace=0.05 + 0.005 * i)))
            for i in range(N)]
        for t in threads:
            t.start()
        h.wait_until(lambda: sum(1 for s in status.values() if s) >= 5, 30)
        srv.proc.send_signal(signal.SIGKILL)
        srv.proc.wait(10)
        for t in threads:
            t.join(60)
        srv.stopped = True
    acked = sorted(i for i, s in status.items() if s in (201, 204))
    h.log("acknowledged before the kill: %d of %d" % (len(acked), N))
    h.check(0 < len(acked) < N, "the kill came while PUTs were in flight (%d acknowledged)"
            % len(acked))

    # What a COPY was building when a crash came: a folder in the staging folder, with files.
    h.write_file(os.path.join(srv.data, "tmp", ".ff-copy-0123456789abcdef", "sub", "f.bin"),
                 b"half a copy")
    srv2 = h.Server(binary, root=srv.root, data=srv.data)
    with srv2.start():
        names = sorted(os.listdir(tree))
        want_names = sorted(set("f%02d.bin" % i for i in range(0, N, 2)) |
                            set("f%02d.bin" % i for i in acked))
        extra = [n for n in names if not (n.startswith("f") and n.endswith(".bin"))]
        h.check(not extra, "no stray files in the tree: %r" % extra)
        h.check(not os.listdir(os.path.join(srv.data, "tmp")),
                "the staging folder is empty after the restart")
        for n in want_names:
            h.check(n in names, "%s is there" % n)
        whole = 0
        for n in names:
            i = int(n[1:3])
            with open(os.path.join(tree, n), "rb") as f:
                d = digest(f.read())
            if i in acked:
                h.check(d == new[i], "%s: acknowledged, so the new version" % n)
            else:
                h.check(d == new[i] or d == old.get(i), "%s: the whole old or new version" % n)
            whole += 1
        h.log("%d files checked whole" % whole)

        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(srv.data, "fastfile.db"),
                             uri=True)
        h.check_eq(db.execute("PRAGMA integrity_check").fetchone()[0], "ok",
                   "PRAGMA integrity_check")
        db.close()

        listed = propfind(srv2, "/dav/up/", "1")
        got = sorted(os.path.basename(k) for k in listed if not k.endswith("/"))
        h.check_eq(got, names, "PROPFIND lists exactly the files on disk")
        root_before = propfind(srv2, "/dav/", "0")["/dav/"]
        up_before = listed["/dav/up/"]
        h.check_eq(put(srv2, "/dav/up/after.txt", b"after the crash\n"), 201,
                   "a PUT after the restart")
        h.check(propfind(srv2, "/dav/", "0")["/dav/"] != root_before,
                "the root's ETag changed after a write below it")
        h.check(propfind(srv2, "/dav/up/", "0")["/dav/up/"] != up_before,
                "the folder's ETag changed after a write in it")
        srv2.stop()


if __name__ == "__main__":
    h.main(run)
