#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Command line: --help, --version, serve --help, bad options, the listening line."""
import os
import re
import subprocess

from ffharness import Server, check, check_eq, main, tempdir


def run(binary, *args, timeout=15):
    """Run the binary; (None, '', '') when it is still running after timeout (then killed)."""
    try:
        p = subprocess.run([binary] + list(args), stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "", ""
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def test(binary):
    rc, out, err = run(binary, "--version")
    check_eq(rc, 0, "fastfile --version exit status")
    check(re.fullmatch(r"fastfile 0\.1\.0 \(BoringSSL\)", out.strip()) is not None,
          "fastfile --version output: %r" % out)
    check(out.endswith("\n"), "--version output ends with a newline")

    rc, out, err = run(binary, "--help")
    check_eq(rc, 0, "fastfile --help exit status")
    check("serve" in out, "--help mentions the serve command (stdout: %r)" % out[:300])
    check(out.strip() != "", "--help prints to stdout")

    rc, out, err = run(binary, "serve", "--help")
    check_eq(rc, 0, "fastfile serve --help exit status")
    for opt in ("--listen", "--data", "--threads", "--access-log", "--head-timeout",
                "--keepalive-timeout", "--max-head", "--max-headers", "--max-url",
                "--no-multishot"):
        check(opt in out, "serve --help documents %s" % opt)

    # Wrong usage: nonzero exit status, a message on stderr, nothing listening. A server that
    # wrongly starts anyway gets a throwaway data folder and port 0.
    d = os.path.join(tempdir(), "data")
    safe = ["--listen", "127.0.0.1:0", "--data", d]
    bad = [
        ["serve", "--bogus-option"] + safe,
        ["no-such-command"],
        ["serve", "--threads", "0"] + safe,
        ["serve", "--threads", "abc"] + safe,
        ["serve", "--max-head", "-5"] + safe,
        ["serve", "--head-timeout", "soon"] + safe,
        ["serve", "--data", d, "--listen", "not-an-address"],
        ["serve", "--data", d, "--listen", "127.0.0.1:99999"],
        ["serve", "--data", d, "--listen", "127.0.0.1"],
        ["serve"] + safe + ["--head-timeout"],  # missing argument
        ["serve"] + safe + ["extra-positional-argument"],
        ["serve", "--data", d, "--http", "nowhere"],
        ["serve", "--cert", "/nonexistent.pem"] + safe,
        ["serve", "--cert", "/nonexistent.pem", "--key", "/nonexistent.key"] + safe,
    ]
    for args in bad:
        what = "fastfile " + " ".join(args)
        rc, out, err = run(binary, *args, timeout=5)
        if not check(rc is not None, "%s: started instead of refusing" % what):
            continue
        check(rc != 0, "%s: exit status %d, want nonzero" % (what, rc))
        check(err.strip() != "", "%s: no message on stderr" % what)
        check("listening" not in out, "%s: started listening" % what)

    # serve: the listening line, DATA/public and DATA/files created when missing, user admin
    # created with a password printed before the listening lines, exit 0 on SIGTERM.
    root = tempdir()
    data = os.path.join(root, "new", "data")
    srv = Server(binary, root=root, data=data)
    # Server() pre-creates DATA/public for the other tests; undo that to see serve create it.
    os.rmdir(srv.public)
    os.rmdir(data)
    os.rmdir(os.path.dirname(data))
    with srv.start():
        check_eq(srv.version, "0.1.0", "version in the listening line")
        check(0 < srv.port < 65536, "port %d in the listening line" % srv.port)
        check(os.path.isdir(srv.public), "serve creates DATA/public")
        check(os.path.isdir(os.path.join(data, "files")), "serve creates DATA/files")
        with open(srv.stdout_path) as f:
            out = f.read()
        check(srv.admin_password is not None and len(srv.admin_password) >= 16,
              "a fresh data folder gets user admin with a printed password: %r" % out)
        admin = re.search(r"^created user admin with password \S+ \(shown only now; change it "
                          r"with 'fastfile user passwd admin --data (.*)'\)$", out, re.M)
        listen = re.search(r"listening on", out)
        check(admin and listen and admin.start() < listen.start(),
              "the admin password line comes before the listening lines: %r" % out)
        check(admin and admin.group(1) == data, "the admin line names the data folder: %r" % out)
        for scheme in ("https", "http"):
            check(re.search(r"^fastfile 0\.1\.0 listening on %s://127\.0\.0\.1:\d+/ \(data: .*\)$"
                            % scheme, out, re.M), "%s listening line: %r" % (scheme, out))
        check(re.search(r"^generated a self-signed certificate: .*/tls/cert\.pem$", out, re.M),
              "first start generates a certificate: %r" % out)
        with srv.connect() as c:
            r = c.request("GET", "/nothing-here")
            check_eq(r.status, 404, "GET on an empty server")
            r = c.request("GET", "/public/nothing-here")
            check_eq(r.status, 404, "GET of a missing public file on an empty server")

    # Two servers on port 0 get different ports.
    with Server(binary).start() as a, Server(binary).start() as b:
        check(a.port != b.port, "two servers on port 0 got the same port %d" % a.port)


if __name__ == "__main__":
    main(test)
