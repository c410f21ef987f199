# SPDX-License-Identifier: MIT
"""Changes made to DATA/files by other programs (the watcher, server/watch.c): a file created,
modified and deleted two levels down, a folder tree moved in from outside and a folder deleted
change the ETag of every folder up to the user's root within a few seconds, without any
request touching the changed path — sync clients compare folder ETags — and PROPFIND Depth 1
then shows the new state.

A PROPFIND itself stat-syncs the path it lists, so the proof that the watcher did the work is
the root's ETag from PROPFIND Depth 0 on /dav/, which stats the root alone, never the deep file.
"""

import base64
import os
import shutil
import time
import urllib.parse
import xml.etree.ElementTree as ET

import ffharness as h

USER, PASSWORD = "alice", "alice-outside-pw"
AUTH = "Basic " + base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode()
WAIT = 5.0  # seconds the watcher may take (it syncs within about one)
D = "{DAV:}"


def propfind(srv, path, depth):
    """{href: (etag, content length or None, is collection)} of a PROPFIND allprop."""
    with srv.connect() as c:
        c.send(h.build_request("PROPFIND", path, {"Authorization": AUTH, "Depth": depth}))
        r = c.read_response("PROPFIND")
    h.require(r.status == 207, "PROPFIND %s: %d" % (path, r.status))
    out = {}
    for resp in ET.fromstring(r.body).findall(D + "response"):
        href = urllib.parse.unquote(resp.find(D + "href").text)
        etag = resp.find(".//" + D + "getetag")
        length = resp.find(".//" + D + "getcontentlength")
        out[href] = (etag.text if etag is not None else None,
                     int(length.text) if length is not None else None,
                     resp.find(".//" + D + "collection") is not None)
    return out


def etag(srv, path):
    return propfind(srv, path, "0")[path][0]


def settle(srv, path):
    """The ETag once it holds still for a second: the watcher's catch-up at start (and any
    window still open) is over."""
    last = etag(srv, path)
    deadline = time.monotonic() + 3 * WAIT
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = etag(srv, path)
        if now == last:
            return now
        last = now
    h.require(False, "the ETag of %s never held still" % path)


def changes(srv, path, old, what):
    """Check that path's ETag moves away from old within WAIT; the new ETag."""
    new = [old]
    ok = h.wait_until(lambda: new.__setitem__(0, etag(srv, path)) or new[0] != old, WAIT,
                      step=0.1)
    h.check(ok, "%s: the ETag of %s changed within %.0fs" % (what, path, WAIT))
    return new[0]


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def run(binary):
    srv = h.Server(binary)
    h.add_user(binary, srv.data, USER, PASSWORD)
    home = os.path.join(srv.data, "files", USER)
    os.makedirs(os.path.join(home, "a", "b"), exist_ok=True)
    write(os.path.join(home, "a", "keep.txt"), b"kept\n")

    with srv.start():
        with h.section("start: the tree already on disk is listed"):
            listed = propfind(srv, "/dav/a/", "1")
            h.check("/dav/a/b/" in listed and "/dav/a/keep.txt" in listed,
                    "PROPFIND /dav/a/ lists b/ and keep.txt: %r" % sorted(listed))
        root = settle(srv, "/dav/")
        a = etag(srv, "/dav/a/")

        with h.section("a file created two levels down"):
            write(os.path.join(home, "a", "b", "new.txt"), b"hello")
            root = changes(srv, "/dav/", root, "create")
            a = changes(srv, "/dav/a/", a, "create")
            got = propfind(srv, "/dav/a/b/", "1")
            h.check_eq(got.get("/dav/a/b/new.txt", (None, None))[1], 5,
                       "PROPFIND Depth 1 lists new.txt with its length")

        with h.section("the file modified"):
            root = settle(srv, "/dav/")
            write(os.path.join(home, "a", "b", "new.txt"), b"hello, world")
            root = changes(srv, "/dav/", root, "modify")
            got = propfind(srv, "/dav/a/b/", "1")
            h.check_eq(got.get("/dav/a/b/new.txt", (None, None))[1], 12,
                       "PROPFIND Depth 1 shows the new length")

        with h.section("the file deleted"):
            root = settle(srv, "/dav/")
            os.unlink(os.path.join(home, "a", "b", "new.txt"))
            root = changes(srv, "/dav/", root, "delete")
            got = propfind(srv, "/dav/a/b/", "1")
            h.check("/dav/a/b/new.txt" not in got, "new.txt no longer listed: %r" % sorted(got))

        with h.section("a folder tree moved in from outside"):
            root = settle(srv, "/dav/")
            outside = os.path.join(srv.root, "outside")
            os.makedirs(os.path.join(outside, "x"))
            write(os.path.join(outside, "x", "y.txt"), b"yyy")
            write(os.path.join(outside, "z.txt"), b"zz")
            os.rename(outside, os.path.join(home, "a", "b", "moved"))
            root = changes(srv, "/dav/", root, "move in")
            got = propfind(srv, "/dav/a/b/moved/", "1")
            h.check("/dav/a/b/moved/x/" in got and got.get("/dav/a/b/moved/z.txt",
                                                            (None, None))[1] == 2,
                    "the moved-in folder lists x/ and z.txt: %r" % sorted(got))
            # Its folders are watched as well: a change deep inside is seen.
            root = settle(srv, "/dav/")
            write(os.path.join(home, "a", "b", "moved", "x", "later.txt"), b"later")
            root = changes(srv, "/dav/", root, "create inside the moved-in tree")

        with h.section("a folder deleted"):
            root = settle(srv, "/dav/")
            shutil.rmtree(os.path.join(home, "a", "b", "moved"))
            root = changes(srv, "/dav/", root, "folder delete")
            got = propfind(srv, "/dav/a/b/", "1")
            h.check(not any(k.startswith("/dav/a/b/moved") for k in got),
                    "the deleted folder is no longer listed: %r" % sorted(got))

        with h.section("no change, no new ETag"):
            root = settle(srv, "/dav/")
            time.sleep(1.5)
            h.check_eq(etag(srv, "/dav/"), root, "the root's ETag holds still without changes")

        srv.stop()
        h.check("event=watch_ready" in srv.stderr_text(), "the watcher started")
        h.check("watch_sync_failed" not in srv.stderr_text(), "no failed sync in the log")


if __name__ == "__main__":
    h.main(run)
