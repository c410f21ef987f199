#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Conditional requests (RFC 9110 §13): If-None-Match, If-Modified-Since, If-Match,
If-Unmodified-Since, their precedence, and ETags changing when the file changes."""
import os
import time

from ffharness import Server, check, check_eq, curl_get, http_date, main, section

MTIME = 1650000000


def test(binary):
    data = b"conditional content\n" * 50
    srv = Server(binary)
    srv.put_file("c.txt", data, mtime=MTIME)
    with srv.start():
        url = srv.url("/public/c.txt")
        st, blocks, _ = curl_get(url)
        check_eq(st, 200, "plain GET")
        etag = blocks[-1].header("etag")
        lm = blocks[-1].header("last-modified")
        check_eq(lm, http_date(MTIME), "Last-Modified")
        before, after = http_date(MTIME - 86400), http_date(MTIME + 86400)

        def req(headers, want, what, method="GET"):
            with srv.connect() as c:
                r = c.request(method, "/public/c.txt", headers)
            check_eq(r.status, want, "%s %s status" % (method, what))
            if want == 200 and method == "GET":
                check(r.body == data, "%s: body differs" % what)
            if want == 304:
                check(r.body == b"", "%s: 304 with a body" % what)
                check_eq(r.header("etag"), etag, "%s: 304 ETag" % what)
                check(r.has("date"), "%s: 304 without Date" % what)
                cl = r.header("content-length")
                # RFC 9110 §8.6: only the length a 200 would have had, if any
                check(cl is None or cl == str(len(data)),
                      "%s: 304 Content-Length %r" % (what, cl))
            return r

        # If-None-Match (weak comparison)
        req({"If-None-Match": etag}, 304, "If-None-Match: etag")
        req({"If-None-Match": etag}, 304, "If-None-Match: etag", "HEAD")
        req({"If-None-Match": "W/" + etag}, 304, "If-None-Match: W/etag")
        req({"If-None-Match": '"x", %s, "y"' % etag}, 304, "If-None-Match: list with etag")
        req({"If-None-Match": "*"}, 304, "If-None-Match: *")
        req({"If-None-Match": '"nope"'}, 200, "If-None-Match: other")
        req({"If-None-Match": '"a", "b"'}, 200, "If-None-Match: list without etag")
        # curl, the way a browser revalidates
        st, _, body = curl_get(url, ["-H", "If-None-Match: " + etag])
        check_eq(st, 304, "curl If-None-Match status")
        check_eq(body, b"", "curl If-None-Match body")

        # If-Modified-Since
        req({"If-Modified-Since": lm}, 304, "If-Modified-Since: Last-Modified")
        req({"If-Modified-Since": after}, 304, "If-Modified-Since: later")
        req({"If-Modified-Since": before}, 200, "If-Modified-Since: earlier")
        req({"If-Modified-Since": "not a date"}, 200, "If-Modified-Since: garbage (ignored)")
        req({"If-Modified-Since": lm}, 304, "If-Modified-Since", "HEAD")
        # If-None-Match wins over If-Modified-Since (§13.2.2 step 3/4)
        req({"If-None-Match": '"nope"', "If-Modified-Since": lm}, 200,
            "If-None-Match other + If-Modified-Since match")
        req({"If-None-Match": etag, "If-Modified-Since": before}, 304,
            "If-None-Match match + If-Modified-Since earlier")
        st, _, _ = curl_get(url, ["-z", lm])
        check_eq(st, 304, "curl -z Last-Modified status")

        # If-Match (strong comparison)
        req({"If-Match": etag}, 200, "If-Match: etag")
        req({"If-Match": "*"}, 200, "If-Match: *")
        req({"If-Match": '"a", %s' % etag}, 200, "If-Match: list with etag")
        req({"If-Match": '"nope"'}, 412, "If-Match: other")
        req({"If-Match": "W/" + etag}, 412, "If-Match: W/etag (strong comparison)")
        req({"If-Match": '"nope"'}, 412, "If-Match: other", "HEAD")

        # If-Unmodified-Since
        req({"If-Unmodified-Since": lm}, 200, "If-Unmodified-Since: Last-Modified")
        req({"If-Unmodified-Since": after}, 200, "If-Unmodified-Since: later")
        req({"If-Unmodified-Since": before}, 412, "If-Unmodified-Since: earlier")
        req({"If-Unmodified-Since": "garbage"}, 200, "If-Unmodified-Since: garbage (ignored)")
        # If-Match wins over If-Unmodified-Since (§13.2.2 step 1/2)
        req({"If-Match": etag, "If-Unmodified-Since": before}, 200,
            "If-Match match + If-Unmodified-Since earlier")
        # A failed precondition wins over If-None-Match
        req({"If-Match": '"nope"', "If-None-Match": etag}, 412,
            "If-Match other + If-None-Match etag")

        # 304 keeps the connection; so does 412 unless the server says it closes
        with section("412/304 on one connection"), srv.connect() as c:
            r1 = c.request("GET", "/public/c.txt", {"If-None-Match": etag})
            r2 = c.request("GET", "/public/c.txt", {"If-Match": '"nope"'})
            check_eq((r1.status, r2.status), (304, 412), "304 then 412 on one connection")
            if "close" not in r2.conn_tokens():
                r3 = c.request("GET", "/public/c.txt")
                check_eq((r3.status, r3.body == data), (200, True), "200 after 304 and 412")

        # Rewrites change the ETag: same size new mtime, new size, new inode.
        etags = [etag]
        path = srv.path("c.txt")
        data2 = data.replace(b"content", b"CONTENT")
        with open(path, "r+b") as f:
            f.write(data2)
        os.utime(path, (MTIME + 10, MTIME + 10))
        for what, newdata in (("same size, new content and mtime", data2),):
            with srv.connect() as c:
                r = c.request("GET", "/public/c.txt", {"If-None-Match": etags[-1]})
            check_eq(r.status, 200, "If-None-Match old etag after rewrite (%s)" % what)
            check(r.body == newdata, "new content served after rewrite (%s)" % what)
            check(r.header("etag") not in etags, "ETag unchanged after rewrite (%s): %r"
                  % (what, r.header("etag")))
            etags.append(r.header("etag"))

        # Same size and content, only mtime changes (a plain rewrite with `touch`).
        time.sleep(0.05)
        os.utime(path, None)
        with section("Same size and content, only mtime changes (a"), srv.connect() as c:
            r = c.request("GET", "/public/c.txt", {"If-None-Match": etags[-1]})
        check_eq(r.status, 200, "If-None-Match old etag after touch")
        check(r.header("etag") not in etags, "ETag unchanged after touch: %r" % r.header("etag"))
        etags.append(r.header("etag"))

        # New size (append, mtime set back to the old value: size alone must change it)
        st = os.stat(path)
        with open(path, "ab") as f:
            f.write(b"more\n")
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        with section("New size (append, mtime set back to the old"), srv.connect() as c:
            r = c.request("GET", "/public/c.txt", {"If-None-Match": etags[-1]})
        check_eq(r.status, 200, "If-None-Match old etag after append")
        check(r.header("etag") not in etags, "ETag unchanged after append: %r" % r.header("etag"))
        check_eq(r.header("content-length"), str(st.st_size + 5), "Content-Length after append")
        etags.append(r.header("etag"))

        # Replaced by rename (new inode), same size and mtime as before
        st = os.stat(path)
        tmp = srv.path(".c.txt.tmp")
        with open(tmp, "wb") as f:
            f.write(open(path, "rb").read())
        os.utime(tmp, ns=(st.st_atime_ns, st.st_mtime_ns))
        os.rename(tmp, path)
        with section("Replaced by rename (new inode), same size and"), srv.connect() as c:
            r = c.request("GET", "/public/c.txt", {"If-None-Match": etags[-1]})
        check_eq(r.status, 200, "If-None-Match old etag after replace by rename")
        check(r.header("etag") not in etags, "ETag unchanged after replace (new inode): %r"
              % r.header("etag"))
        # and If-Match with the old one now fails
        with section("and If-Match with the old one now fails"), srv.connect() as c:
            r = c.request("GET", "/public/c.txt", {"If-Match": etags[0]})
        check_eq(r.status, 412, "If-Match with the first ETag after all rewrites")


if __name__ == "__main__":
    main(test)
