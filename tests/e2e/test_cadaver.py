# SPDX-License-Identifier: MIT
"""cadaver, the command-line WebDAV client, driven by a script against /dav/ on the plain-HTTP
listener (cadaver cannot be told to trust a self-signed certificate without a terminal; see
clients.md): mkcol, put, get, mv, cp, propset, propget, lock, unlock, rm — each checked on the
server's disk or in what cadaver reports."""

import os
import shutil
import subprocess

import ffharness as h

USER, PASSWORD = "alice", "alice-cadaver-pw"


def cadaver(srv, home, script, timeout=120):
    p = subprocess.run(["cadaver", "http://127.0.0.1:%d/dav/" % srv.port],
                       input=script.encode(), capture_output=True, timeout=timeout,
                       env=dict(os.environ, HOME=home), cwd=home)
    return p.returncode, p.stdout.decode("utf-8", "replace") + p.stderr.decode("utf-8", "replace")


def run(binary):
    h.require(shutil.which("cadaver"), "cadaver is not installed")
    srv = h.Server(binary)
    h.add_user(binary, srv.data, USER, PASSWORD)
    home = os.path.join(srv.root, "home")
    os.makedirs(home)
    with open(os.path.join(home, ".netrc"), "w") as f:
        f.write("machine 127.0.0.1\nlogin %s\npassword %s\n" % (USER, PASSWORD))
    os.chmod(os.path.join(home, ".netrc"), 0o600)
    local = os.path.join(home, "hello.txt")
    with open(local, "w") as f:
        f.write("hello from cadaver\n" * 100)
    tree = os.path.join(srv.data, "files", USER)
    with srv.start():
        script = "\n".join([
            "mkcol docs",
            "cd docs",
            "put hello.txt",
            "get hello.txt fetched.txt",
            "mv hello.txt moved.txt",
            "cp moved.txt copy.txt",
            "propset moved.txt color blue",
            "propget moved.txt color",
            "lock copy.txt",
            "discover copy.txt",
            "unlock copy.txt",
            "ls",
            "rm copy.txt",
            "quit",
        ]) + "\n"
        rc, out = cadaver(srv, home, script)
        h.log(out)
        h.check(rc == 0, "cadaver exit status %d" % rc)
        docs = os.path.join(tree, "docs")
        h.check(os.path.isdir(docs), "mkcol made docs/")
        want = open(local, "rb").read()
        fetched = os.path.join(home, "fetched.txt")
        h.check(os.path.exists(fetched) and open(fetched, "rb").read() == want,
                "get brought back what put sent")
        h.check(not os.path.exists(os.path.join(docs, "hello.txt")), "mv removed the source")
        moved = os.path.join(docs, "moved.txt")
        h.check(os.path.exists(moved) and open(moved, "rb").read() == want,
                "mv put the file at its new name")
        h.check(not os.path.exists(os.path.join(docs, "copy.txt")), "rm removed the copy")
        h.check("blue" in out, "propget shows the value propset stored")
        for what in ("Locking `copy.txt': succeeded", "Unlocking `copy.txt': succeeded",
                     "Setting property on `moved.txt': succeeded",
                     "Deleting `copy.txt': succeeded"):
            h.check(what in out, "cadaver says: %s" % what)
        h.check("Lock token <urn:uuid:" in out and "Scope: exclusive" in out,
                "discover shows the lock")
        h.check("failed" not in out.lower(), "no command failed")
        srv.stop()


if __name__ == "__main__":
    h.main(run)
