#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Request paths: traversal, encoded slash and NUL, double encoding, UTF-8 names, and
symlinks (followed inside DATA/files, never out of it)."""
import os
import socket
import time
import urllib.parse

from ffharness import Closed, Server, check, check_eq, curl_get, main

SECRETS = (b"TOPSECRET-ROOT", b"TOPSECRET-DATA")
UNAME = "ünïcødé 文件 ✓.txt"


def test(binary):
    srv = Server(binary)
    root, data, files = srv.root, srv.data, srv.files
    with open(os.path.join(root, "secret.txt"), "wb") as f:
        f.write(SECRETS[0] + b"\n")
    with open(os.path.join(data, "secret.txt"), "wb") as f:
        f.write(SECRETS[1] + b"\n")
    hello, inner = b"hello\n", b"inner\n"
    srv.put_file("hello.txt", hello)
    srv.put_file("sub/inner.txt", inner)
    srv.put_file("sub/deeper/d.txt", b"deep\n")
    srv.put_file("%2e%2e/x.txt", b"literal percent name\n")
    srv.put_file("%2f.txt", b"literal %2f name\n")
    srv.put_file(UNAME, b"utf-8 name\n")
    srv.put_file("a+b.txt", b"plus\n")
    srv.put_file("..data", b"dots in a name\n")

    def ln(target, name):
        os.symlink(target, os.path.join(files, name))

    ln("hello.txt", "link.txt")
    ln(os.path.join(files, "hello.txt"), "abslink.txt")
    ln("sub", "sublink")
    ln(os.path.join(files, "sub"), "abssublink")
    ln("../hello.txt", "sub/up.txt")
    ln("link.txt", "linklink.txt")  # chain inside
    # escaping
    ln("/etc/passwd", "passwd")
    ln("../secret.txt", "rel")
    ln("../../secret.txt", "rel2")
    ln("../../secret.txt", "sub/rel3")
    ln(os.path.join(root, "secret.txt"), "absout")
    ln("chain2", "chain1")
    ln("../secret.txt", "chain2")
    ln("sub/c2", "c1")
    ln("../../secret.txt", "sub/c2")
    ln("..", "outdir")
    ln("/etc", "etcdir")
    ln(root, "rootdir")
    ln("/dev/zero", "zero")
    ln("nonexistent", "dangling")
    ln("loop2", "loop1")
    ln("loop1", "loop2")
    os.mkfifo(os.path.join(files, "fifo"))

    with srv.start():
        def raw(target, timeout=10):
            """GET target on a fresh connection: (status, body), or (None, b'') on a close."""
            with srv.connect(timeout) as c:
                c.send(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                try:
                    r = c.read_response(timeout=timeout)
                except (Closed, socket.timeout) as e:
                    check(False, "GET %r: no response (%s)" % (target, e))
                    return None, b""
            for s in SECRETS:
                check(s not in r.body, "GET %r served a secret" % target)
            check(b"root:" not in r.body, "GET %r served /etc/passwd" % target)
            return r.status, r.body

        def expect(target, want_status, want_body=None):
            st, body = raw(target)
            check_eq(st, want_status, "GET %r status" % target)
            if want_body is not None and st == want_status:
                check_eq(body, want_body, "GET %r body" % target)

        # Sanity
        expect(b"/hello.txt", 200, hello)
        expect(b"/sub/inner.txt", 200, inner)

        # Traversal is refused.
        for t in (b"/../secret.txt", b"/%2e%2e/secret.txt", b"/%2E%2E/secret.txt",
                  b"/.%2e/secret.txt", b"/%2e./secret.txt", b"/sub/../../secret.txt",
                  b"/sub/%2e%2e/%2e%2e/secret.txt", b"/./../secret.txt", b"/..",
                  b"/../", b"/sub/deeper/../../../secret.txt", b"/../data/secret.txt",
                  b"/../../etc/passwd", b"/%2e%2e/%2e%2e/etc/passwd"):
            expect(t, 400)
        # Dot segments that stay inside may be resolved (RFC 3986 §5.2.4) or refused.
        for t, body in ((b"/sub/../hello.txt", hello), (b"/./hello.txt", hello),
                        (b"/sub/./inner.txt", inner), (b"/sub/deeper/../inner.txt", inner),
                        (b"/sub/%2e%2e/hello.txt", hello)):
            st, got = raw(t)
            check(st == 400 or (st == 200 and got == body), "GET %r: %r %r" % (t, st, got[:40]))

        # Encoded slash or NUL inside a segment, malformed escapes.
        for t in (b"/sub%2finner.txt", b"/sub%2Finner.txt", b"/..%2fsecret.txt",
                  b"/..%2Fsecret.txt", b"/sub%2f..%2f..%2fsecret.txt", b"/%2f",
                  b"/hello.txt%00", b"/hello.txt%00.png", b"/%00", b"/sub/%00/inner.txt",
                  b"/%zz", b"/hello%2", b"/%", b"/hello%g1.txt"):
            expect(t, 400)

        # Double encoding decodes once: "%252e%252e" is the literal name "%2e%2e".
        expect(b"/%252e%252e/x.txt", 200, b"literal percent name\n")
        expect(b"/%252f.txt", 200, b"literal %2f name\n")
        expect(b"/..data", 200, b"dots in a name\n")
        # A backslash is an ordinary byte on Linux: no traversal through it.
        st, _ = raw(b"/..%5csecret.txt")
        check(st in (400, 404), "GET /..%%5csecret.txt status %r" % st)

        # UTF-8 names, percent-encoded (upper and lower case hex), and '+' is literal.
        enc = b"/" + urllib.parse.quote(UNAME.encode("utf-8")).encode()
        expect(enc, 200, b"utf-8 name\n")
        lower = b"%".join([enc.split(b"%")[0]] + [p[:2].lower() + p[2:]
                                                  for p in enc.split(b"%")[1:]])
        expect(lower, 200, b"utf-8 name\n")
        expect(b"/a+b.txt", 200, b"plus\n")
        expect(b"/a%2Bb.txt", 200, b"plus\n")
        st, _, body = curl_get(srv.url("/" + urllib.parse.quote(UNAME)))
        check(st == 200 and body == b"utf-8 name\n", "curl UTF-8 name: %d" % st)

        # Absolute-form target (RFC 9112 §3.2.2: servers must accept it).
        expect(b"http://127.0.0.1/hello.txt", 200, hello)

        # Relative symlinks that stay inside: followed.
        expect(b"/link.txt", 200, hello)
        expect(b"/linklink.txt", 200, hello)
        expect(b"/sublink/inner.txt", 200, inner)
        expect(b"/sub/up.txt", 200, hello)
        # Absolute symlinks are refused even when they point inside: RESOLVE_BENEATH lets the
        # kernel vouch only for relative resolution, and the server never second-guesses it.
        expect(b"/abslink.txt", 404, None)
        expect(b"/abssublink/inner.txt", 404, None)

        # Symlinks escaping DATA/files: 404, never content.
        for t in (b"/passwd", b"/rel", b"/rel2", b"/sub/rel3", b"/absout", b"/chain1",
                  b"/chain2", b"/c1", b"/outdir/secret.txt", b"/outdir/files/../secret.txt",
                  b"/etcdir/passwd", b"/rootdir/secret.txt", b"/zero", b"/sublink/rel3"):
            expect(t, 404)
        # Dangling and looping links: 404 quickly.
        expect(b"/dangling", 404)
        t0 = time.monotonic()
        expect(b"/loop1", 404)
        check(time.monotonic() - t0 < 3, "symlink loop took %.1fs" % (time.monotonic() - t0))

        # A FIFO is not a regular file: answered at once (403 or 404), never a hang, and the
        # server keeps serving others meanwhile.
        t0 = time.monotonic()
        st, _ = raw(b"/fifo", timeout=5)
        check(st in (403, 404), "GET /fifo status %r" % st)
        check(time.monotonic() - t0 < 3, "GET /fifo took %.1fs" % (time.monotonic() - t0))
        expect(b"/hello.txt", 200, hello)

        # curl (which normalises dot segments itself) with --path-as-is
        st, _, body = curl_get(srv.url("/../secret.txt"), ["--path-as-is"])
        check_eq(st, 400, "curl --path-as-is /../secret.txt")
        check(all(s not in body for s in SECRETS), "curl traversal served a secret")


if __name__ == "__main__":
    main(test)
