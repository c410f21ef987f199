#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""GET and HEAD of files in DATA/public at /public/... with curl and raw sockets: status,
headers, bytes; 404, 405, 501; / sends browsers to /login."""
import os
import re
import time

from ffharness import (IMF_FIXDATE_RE, Server, check, check_eq, curl_get, http_date, main,
                       parse_http_date, section)

MTIME = 1700000000  # Tue, 14 Nov 2023 22:13:20 GMT

# name -> acceptable media types (compared without parameters, case-insensitive)
TYPES = {
    "hello.txt": {"text/plain"},
    "index.html": {"text/html"},
    "style.css": {"text/css"},
    "app.js": {"text/javascript", "application/javascript"},
    "data.json": {"application/json"},
    "image.png": {"image/png"},
    "photo.JPG": {"image/jpeg"},
    "photo.jpeg": {"image/jpeg"},
    "doc.pdf": {"application/pdf"},
    "pic.svg": {"image/svg+xml"},
    "clip.mp4": {"video/mp4"},
    "backup.tar.gz": {"application/gzip", "application/x-gzip"},
    "noext": {"application/octet-stream"},
    "file.unknownext": {"application/octet-stream"},
}


def media(ct):
    return (ct or "").split(";")[0].strip().lower()


def check_file_headers(r, name, data, what):
    check_eq(r.header("content-length"), str(len(data)), "%s %s Content-Length" % (what, name))
    ct = r.header("content-type")
    check(media(ct) in TYPES[name], "%s %s Content-Type %r, want one of %s"
          % (what, name, ct, sorted(TYPES[name])))
    et = r.header("etag")
    check(et is not None and re.match(r'^"[\x21\x23-\x7e]+"$', et) is not None,
          "%s %s ETag %r is not a strong entity-tag" % (what, name, et))
    lm = r.header("last-modified")
    check(lm is not None and IMF_FIXDATE_RE.match(lm) is not None,
          "%s %s Last-Modified %r is not an IMF-fixdate" % (what, name, lm))
    check_eq(lm, http_date(MTIME), "%s %s Last-Modified" % (what, name))
    d = r.header("date")
    check(d is not None and IMF_FIXDATE_RE.match(d) is not None,
          "%s %s Date %r is not an IMF-fixdate" % (what, name, d))
    dt = parse_http_date(d) if d else None
    check(dt is not None and abs(dt - time.time()) < 5,
          "%s %s Date %r is not now" % (what, name, d))
    check_eq((r.header("accept-ranges") or "").lower(), "bytes",
             "%s %s Accept-Ranges" % (what, name))
    check(not r.has("transfer-encoding"), "%s %s has Transfer-Encoding" % (what, name))
    check_eq(len(r.header_all("content-length")), 1, "%s %s Content-Length count" % (what, name))
    check_eq(len(r.header_all("date")), 1, "%s %s Date count" % (what, name))


def test(binary):
    srv = Server(binary)
    files = {}
    for i, name in enumerate(sorted(TYPES)):
        files[name] = os.urandom(100 + i * 997) if name != "hello.txt" else b"Hello, world!\n"
    files["empty.txt"] = b""
    files["sub/inner.txt"] = b"inner\n"
    files["a b.txt"] = b"space\n"
    for name, data in files.items():
        srv.put_file(name, data, mtime=MTIME)
    TYPES["empty.txt"] = {"text/plain"}
    TYPES["sub/inner.txt"] = {"text/plain"}

    with srv.start():
        # curl GET and HEAD of every file
        for name in sorted(TYPES):
            data = files[name]
            st, blocks, body = curl_get(srv.url("/public/" + name))
            check_eq(st, 200, "curl GET /public/%s status" % name)
            check(body == data, "curl GET /public/%s body differs (%d bytes, want %d)"
                  % (name, len(body), len(data)))
            if blocks:
                check_eq(blocks[-1].version, "HTTP/1.1", "GET /public/%s response version" % name)
                check_file_headers(blocks[-1], name, data, "GET")
            st, hblocks, hbody = curl_get(srv.url("/public/" + name), method="HEAD")
            check_eq(st, 200, "curl HEAD /public/%s status" % name)
            if hblocks and blocks:
                check_file_headers(hblocks[-1], name, data, "HEAD")
                check_eq(hblocks[-1].header("etag"), blocks[-1].header("etag"),
                         "HEAD and GET /public/%s ETag" % name)
                check_eq(hblocks[-1].header("content-type"), blocks[-1].header("content-type"),
                         "HEAD and GET /public/%s Content-Type" % name)

        # The ETag differs between different files.
        etags = set()
        with section("The ETag differs between different files"), srv.connect() as c:
            for name in sorted(TYPES):
                etags.add(c.request("HEAD", "/public/" + name).header("etag"))
        check_eq(len(etags), len(TYPES), "distinct ETags for distinct files")

        # Encoded names and a query string.
        st, _, body = curl_get(srv.url("/public/a%20b.txt"))
        check(st == 200 and body == files["a b.txt"],
              "GET /public/a%%20b.txt: %d %r" % (st, body[:50]))
        st, _, body = curl_get(srv.url("/public/hello.txt?x=1&y=2"))
        check(st == 200 and body == files["hello.txt"], "GET with a query string: %d" % st)
        st, _, body = curl_get(srv.url("/public/hello%2Etxt"))
        check(st == 200 and body == files["hello.txt"], "GET /public/hello%%2Etxt: %d" % st)
        st, _, body = curl_get(srv.url("/%70ublic/hello.txt"))
        check(st == 200 and body == files["hello.txt"], "GET /%%70ublic/hello.txt: %d" % st)

        # HEAD over a raw socket: no body bytes may follow; the next response parses cleanly.
        with section("HEAD over a raw socket: no body bytes may follow"), srv.connect() as c:
            c.send(b"HEAD /public/image.png HTTP/1.1\r\nHost: x\r\n\r\n"
                   b"GET /public/hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
            r1 = c.read_response("HEAD")
            check_eq(r1.status, 200, "raw HEAD status")
            check_eq(r1.header("content-length"), str(len(files["image.png"])),
                     "raw HEAD Content-Length")
            r2 = c.read_response("GET")
            check_eq((r2.status, r2.body), (200, files["hello.txt"]),
                     "GET after HEAD on the same connection (HEAD must send no body)")

        # 404s: missing file, missing folder, folders (with and without slash), the public
        # folder itself; and paths outside /public/, where the files are not (any more).
        for path in ("/public/missing.txt", "/public/nope/nothing.txt", "/public/sub",
                     "/public/sub/", "/public/", "/public", "/public/hello.txt/",
                     "/public/hello.txt/x", "/hello.txt", "/sub/inner.txt", "/missing.txt",
                     "/publicx/hello.txt", "/files/hello.txt"):
            st, blocks, body = curl_get(srv.url(path))
            check_eq(st, 404, "GET %s status" % path)
            st, blocks, body = curl_get(srv.url(path), method="HEAD")
            check_eq(st, 404, "HEAD %s status" % path)

        # The root sends browsers to the login page.
        for method in ("GET", "HEAD"):
            with section("%s / redirects to /login" % method), srv.connect() as c:
                r = c.request(method, "/")
                check_eq(r.status, 303, "%s / status" % method)
                check_eq(r.header("location"), "/login", "%s / Location" % method)

        # 405 with Allow for methods we know but do not support.
        for m in ("PUT", "POST", "DELETE", "OPTIONS", "PROPFIND", "MKCOL", "PATCH", "COPY",
                  "MOVE", "LOCK", "UNLOCK", "PROPPATCH", "TRACE"):
            with srv.connect() as c:
                c.send(("%s /public/hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                        "\r\n" % m).encode())
                r = c.read_response(m)
            check_eq(r.status, 405, "%s /public/hello.txt status" % m)
            allow = {t.strip().upper() for t in (r.header("allow") or "").split(",") if t.strip()}
            check_eq(allow, {"GET", "HEAD"}, "%s 405 Allow header %r" % (m, r.header("allow")))
        st, blocks, _ = curl_get(srv.url("/public/hello.txt"), method="DELETE")
        check_eq(st, 405, "curl -X DELETE status")
        if blocks:
            check(blocks[-1].has("allow"), "curl -X DELETE: 405 without Allow")

        # 501 for methods nobody knows.
        for m in ("FOO", "BREW", "GETT", "get"):
            with srv.connect() as c:
                c.send(("%s /public/hello.txt HTTP/1.1\r\nHost: x\r\n\r\n" % m).encode())
                r = c.read_response(m)
            check_eq(r.status, 501, "%s /public/hello.txt status" % m)
        st, _, _ = curl_get(srv.url("/public/hello.txt"), method="FROBNICATE")
        check_eq(st, 501, "curl -X FROBNICATE status")

        # Still serving after all that.
        st, _, body = curl_get(srv.url("/public/hello.txt"))
        check(st == 200 and body == files["hello.txt"], "GET after error responses: %d" % st)


if __name__ == "__main__":
    main(test)
