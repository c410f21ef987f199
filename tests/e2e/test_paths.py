#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Request paths under /public/: traversal, encoded slash and NUL, double encoding, UTF-8 names,
and symlinks (followed inside DATA/public, never out of it: not to the rest of DATA, not to the
users' private trees in DATA/files)."""
import os
import socket
import time
import urllib.parse

from ffharness import Closed, Server, check, check_eq, curl_get, main

SECRETS = (b"TOPSECRET-ROOT", b"TOPSECRET-DATA", b"TOPSECRET-USER")
UNAME = "ünïcødé 文件 ✓.txt"


def test(binary):
    srv = Server(binary)
    root, data, public = srv.root, srv.data, srv.public
    with open(os.path.join(root, "secret.txt"), "wb") as f:
        f.write(SECRETS[0] + b"\n")
    with open(os.path.join(data, "secret.txt"), "wb") as f:
        f.write(SECRETS[1] + b"\n")
    # A user's private tree (served only at /dav/ to that user).
    os.makedirs(os.path.join(data, "files", "alice"))
    with open(os.path.join(data, "files", "alice", "private.txt"), "wb") as f:
        f.write(SECRETS[2] + b"\n")
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
        os.symlink(target, os.path.join(public, name))

    ln("hello.txt", "link.txt")
    ln(os.path.join(public, "hello.txt"), "abslink.txt")
    ln("sub", "sublink")
    ln(os.path.join(public, "sub"), "abssublink")
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
    ln("../files/alice/private.txt", "private")
    ln(os.path.join(data, "files", "alice", "private.txt"), "absprivate")
    ln("../files", "filesdir")
    ln("nonexistent", "dangling")
    ln("loop2", "loop1")
    ln("loop1", "loop2")
    os.mkfifo(os.path.join(public, "fifo"))

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
            check(b"BEGIN" not in r.body, "GET %r served a key or certificate" % target)
            return r.status, r.body

        def expect(target, want_status, want_body=None):
            st, body = raw(target)
            check_eq(st, want_status, "GET %r status" % target)
            if want_body is not None and st == want_status:
                check_eq(body, want_body, "GET %r body" % target)

        # Sanity
        expect(b"/public/hello.txt", 200, hello)
        expect(b"/public/sub/inner.txt", 200, inner)

        # Climbing above the URL root, from /public/ or from the root itself, is refused.
        for t in (b"/public/../../secret.txt", b"/public/%2e%2e/%2e%2e/secret.txt",
                  b"/public/%2E%2E/%2E%2E/secret.txt", b"/public/.%2e/.%2e/secret.txt",
                  b"/public/%2e./%2e./secret.txt", b"/public/sub/../../../secret.txt",
                  b"/public/sub/%2e%2e/%2e%2e/%2e%2e/secret.txt", b"/public/./../../secret.txt",
                  b"/public/../..", b"/public/../../", b"/public/sub/deeper/../../../../secret.txt",
                  b"/public/../../data/secret.txt", b"/public/../../etc/passwd",
                  b"/public/%2e%2e/%2e%2e/etc/passwd", b"/public/../../../../../../etc/passwd",
                  b"/../secret.txt", b"/%2e%2e/secret.txt", b"/..", b"/../",
                  b"/../public/hello.txt", b"/../../etc/passwd"):
            expect(t, 400)
        # Leaving /public/ without climbing above the root lands on another route: never a file
        # from beneath DATA (DATA/secret.txt, DATA/files/...), only 404 (or 400).
        for t in (b"/public/../secret.txt", b"/public/%2e%2e/secret.txt",
                  b"/public/%2E%2E/secret.txt", b"/public/.%2e/secret.txt",
                  b"/public/%2e./secret.txt", b"/public/sub/../../secret.txt",
                  b"/public/sub/%2e%2e/%2e%2e/secret.txt", b"/public/./../secret.txt",
                  b"/public/../files/alice/private.txt", b"/public/../tls/key.pem",
                  b"/public/../fastfile.db", b"/public/../data/secret.txt"):
            st, _ = raw(t)
            check(st in (400, 404), "GET %r status %r, want 404 or 400" % (t, st))
        # The root after dot segments is the root: a redirect to the login page, not a listing.
        for t in (b"/public/..", b"/public/../"):
            st, _ = raw(t)
            check(st in (303, 400), "GET %r status %r, want 303 or 400" % (t, st))
        # Dot segments that stay inside may be resolved (RFC 3986 §5.2.4) or refused.
        for t, body in ((b"/public/sub/../hello.txt", hello), (b"/public/./hello.txt", hello),
                        (b"/public/sub/./inner.txt", inner),
                        (b"/public/sub/deeper/../inner.txt", inner),
                        (b"/public/sub/%2e%2e/hello.txt", hello),
                        (b"/./public/hello.txt", hello), (b"/public/../public/hello.txt", hello),
                        (b"/sub/../public/sub/inner.txt", inner)):
            st, got = raw(t)
            check(st == 400 or (st == 200 and got == body), "GET %r: %r %r" % (t, st, got[:40]))

        # Encoded slash or NUL inside a segment, malformed escapes.
        for t in (b"/public/sub%2finner.txt", b"/public/sub%2Finner.txt",
                  b"/public/..%2fsecret.txt", b"/public/..%2Fsecret.txt",
                  b"/public/sub%2f..%2f..%2fsecret.txt", b"/public/..%2f..%2fsecret.txt",
                  b"/public/%2f", b"/public%2fhello.txt", b"/public%2f..%2fsecret.txt",
                  b"/public/hello.txt%00", b"/public/hello.txt%00.png", b"/public/%00",
                  b"/public/sub/%00/inner.txt", b"/public%00/hello.txt", b"/public/%zz",
                  b"/public/hello%2", b"/public/%", b"/public/hello%g1.txt"):
            expect(t, 400)

        # Double encoding decodes once: "%252e%252e" is the literal name "%2e%2e".
        expect(b"/public/%252e%252e/x.txt", 200, b"literal percent name\n")
        expect(b"/public/%252f.txt", 200, b"literal %2f name\n")
        expect(b"/public/..data", 200, b"dots in a name\n")
        # A backslash is an ordinary byte on Linux: no traversal through it.
        st, _ = raw(b"/public/..%5csecret.txt")
        check(st in (400, 404), "GET /public/..%%5csecret.txt status %r" % st)
        st, _ = raw(b"/public/..%5c..%5csecret.txt")
        check(st in (400, 404), "GET /public/..%%5c..%%5csecret.txt status %r" % st)

        # UTF-8 names, percent-encoded (upper and lower case hex), and '+' is literal.
        enc = b"/public/" + urllib.parse.quote(UNAME.encode("utf-8")).encode()
        expect(enc, 200, b"utf-8 name\n")
        lower = b"%".join([enc.split(b"%")[0]] + [p[:2].lower() + p[2:]
                                                  for p in enc.split(b"%")[1:]])
        expect(lower, 200, b"utf-8 name\n")
        expect(b"/public/a+b.txt", 200, b"plus\n")
        expect(b"/public/a%2Bb.txt", 200, b"plus\n")
        st, _, body = curl_get(srv.url("/public/" + urllib.parse.quote(UNAME)))
        check(st == 200 and body == b"utf-8 name\n", "curl UTF-8 name: %d" % st)

        # Absolute-form target (RFC 9112 §3.2.2: servers must accept it).
        expect(b"http://127.0.0.1/public/hello.txt", 200, hello)
        expect(b"http://127.0.0.1/public/../../secret.txt", 400)

        # Relative symlinks that stay inside: followed.
        expect(b"/public/link.txt", 200, hello)
        expect(b"/public/linklink.txt", 200, hello)
        expect(b"/public/sublink/inner.txt", 200, inner)
        expect(b"/public/sub/up.txt", 200, hello)
        # Absolute symlinks are refused even when they point inside: RESOLVE_BENEATH lets the
        # kernel vouch only for relative resolution, and the server never second-guesses it.
        expect(b"/public/abslink.txt", 404, None)
        expect(b"/public/abssublink/inner.txt", 404, None)

        # Symlinks escaping DATA/public (to DATA, DATA/files, the temporary root, /etc, /dev):
        # 404, never content.
        for t in (b"/public/passwd", b"/public/rel", b"/public/rel2", b"/public/sub/rel3",
                  b"/public/absout", b"/public/chain1", b"/public/chain2", b"/public/c1",
                  b"/public/outdir/secret.txt", b"/public/outdir/public/../secret.txt",
                  b"/public/outdir/public/hello.txt", b"/public/outdir/files/alice/private.txt",
                  b"/public/etcdir/passwd", b"/public/rootdir/secret.txt", b"/public/zero",
                  b"/public/sublink/rel3", b"/public/private", b"/public/absprivate",
                  b"/public/filesdir/alice/private.txt"):
            expect(t, 404)
        # Dangling and looping links: 404 quickly.
        expect(b"/public/dangling", 404)
        t0 = time.monotonic()
        expect(b"/public/loop1", 404)
        check(time.monotonic() - t0 < 3, "symlink loop took %.1fs" % (time.monotonic() - t0))

        # A FIFO is not a regular file: answered at once (403 or 404), never a hang, and the
        # server keeps serving others meanwhile.
        t0 = time.monotonic()
        st, _ = raw(b"/public/fifo", timeout=5)
        check(st in (403, 404), "GET /public/fifo status %r" % st)
        check(time.monotonic() - t0 < 3, "GET /public/fifo took %.1fs" % (time.monotonic() - t0))
        expect(b"/public/hello.txt", 200, hello)

        # curl (which normalises dot segments itself) with --path-as-is
        st, _, body = curl_get(srv.url("/public/../../secret.txt"), ["--path-as-is"])
        check_eq(st, 400, "curl --path-as-is /public/../../secret.txt")
        check(all(s not in body for s in SECRETS), "curl traversal served a secret")
        st, _, body = curl_get(srv.url("/public/../secret.txt"), ["--path-as-is"])
        check(st in (400, 404), "curl --path-as-is /public/../secret.txt: %d" % st)
        check(all(s not in body for s in SECRETS), "curl traversal served a secret")


if __name__ == "__main__":
    main(test)
