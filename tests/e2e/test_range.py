#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Range requests with curl: single, suffix, open-ended, multiple (multipart/byteranges),
If-Range with ETag and date, 416."""
import os
import re

from ffharness import (Server, check, check_eq, curl_get, http_date, main, parse_byteranges,
                       section)

MTIME = 1600000000  # long ago, so Last-Modified is a strong validator for If-Range
SIZE = 100003


def test(binary):
    data = os.urandom(SIZE)
    srv = Server(binary)
    srv.put_file("blob.bin", data, mtime=MTIME)
    srv.put_file("page.html", b"<p>" + b"x" * 5000 + b"</p>\n", mtime=MTIME)
    with srv.start():
        url = srv.url("/public/blob.bin")
        st, blocks, body = curl_get(url)
        check_eq(st, 200, "full GET status")
        etag = blocks[-1].header("etag") if blocks else None
        lm = blocks[-1].header("last-modified") if blocks else None
        check(etag is not None and lm is not None, "ETag and Last-Modified present")

        def single(rng, start, end, extra=(), what=None):
            what = what or "Range %s" % rng
            st, blocks, body = curl_get(url, ["-H", "Range: bytes=%s" % rng] + list(extra))
            check_eq(st, 206, what + " status")
            if st != 206 or not blocks:
                return
            r = blocks[-1]
            check_eq(r.header("content-range"), "bytes %d-%d/%d" % (start, end, SIZE),
                     what + " Content-Range")
            check_eq(r.header("content-length"), str(end - start + 1), what + " Content-Length")
            check(body == data[start:end + 1], what + " body: %d bytes, want %d (equal: %s)"
                  % (len(body), end - start + 1, body == data[start:end + 1]))
            check(r.has("etag"), what + " 206 without ETag")
            check((r.header("content-type") or "").startswith("application/octet-stream"),
                  what + " Content-Type %r" % r.header("content-type"))

        single("0-0", 0, 0)
        single("0-99", 0, 99)
        single("1000-1999", 1000, 1999)
        single("%d-%d" % (SIZE - 1, SIZE - 1), SIZE - 1, SIZE - 1, what="last byte")
        single("-500", SIZE - 500, SIZE - 1, what="suffix -500")
        single("-%d" % (SIZE + 50), 0, SIZE - 1, what="suffix longer than the file")
        single("99000-", 99000, SIZE - 1, what="open-ended 99000-")
        single("0-", 0, SIZE - 1, what="open-ended 0-")
        single("99000-999999999", 99000, SIZE - 1, what="end past the file")
        # curl's own -r
        st, _, body = curl_get(url, ["-r", "10-19"])
        check(st == 206 and body == data[10:20], "curl -r 10-19: %d, %d bytes" % (st, len(body)))

        # Several ranges: 206 multipart/byteranges, every part checked against the file.
        def multi(rng, want):
            what = "Range %s" % rng
            st, blocks, body = curl_get(url, ["-H", "Range: bytes=%s" % rng])
            check_eq(st, 206, what + " status")
            if st != 206 or not blocks:
                return
            r = blocks[-1]
            ct = r.header("content-type") or ""
            check(ct.lower().startswith("multipart/byteranges"),
                  what + " Content-Type %r" % ct)
            check(not r.has("content-range"), what + " top-level Content-Range on multipart")
            cl = r.header("content-length")
            check(cl is None or int(cl) == len(body),
                  what + " Content-Length %r but %d body bytes" % (cl, len(body)))
            try:
                parts = parse_byteranges(ct, body)
            except ValueError as e:
                check(False, what + " multipart body does not parse: %s; body starts %r"
                      % (e, body[:300]))
                return
            check_eq(len(parts), len(want), what + " number of parts")
            for (hdrs, pbody), (s, e) in zip(parts, want):
                check_eq(hdrs.get("content-range"), "bytes %d-%d/%d" % (s, e, SIZE),
                         what + " part Content-Range")
                check_eq(hdrs.get("content-type"), "application/octet-stream",
                         what + " part Content-Type")
                check(pbody == data[s:e + 1], what + " part %d-%d: %d bytes, equal=%s"
                      % (s, e, len(pbody), pbody == data[s:e + 1]))

        multi("0-9,1000-1099", [(0, 9), (1000, 1099)])
        multi("0-0,-1", [(0, 0), (SIZE - 1, SIZE - 1)])
        multi("50-59,5000-9999,90000-", [(50, 59), (5000, 9999), (90000, SIZE - 1)])
        multi("0-99, 2000-2099 ,4000-4099", [(0, 99), (2000, 2099), (4000, 4099)])
        # an unsatisfiable range among satisfiable ones is dropped (gaps are large so the
        # server has no reason to coalesce, RFC 9110 §14.2)
        multi("0-9,200000-200009,2000-2009", [(0, 9), (2000, 2009)])
        st, _, body = curl_get(url, ["-r", "0-9,2000-2009"])
        check_eq(st, 206, "curl -r 0-9,2000-2009 status")

        # If-Range
        single("0-99", 0, 99, ["-H", "If-Range: %s" % etag], "If-Range matching ETag")
        single("0-99", 0, 99, ["-H", "If-Range: %s" % lm], "If-Range matching date")
        for ir, what in (('"stale-etag"', "stale ETag"), ("W/" + (etag or '""'), "weak ETag"),
                         (http_date(MTIME - 3600), "older date"),
                         (http_date(MTIME + 3600), "newer date")):
            st, _, body = curl_get(url, ["-H", "Range: bytes=0-99", "-H", "If-Range: " + ir])
            check_eq(st, 200, "If-Range %s status" % what)
            check(body == data, "If-Range %s: full body expected (%d bytes)" % (what, len(body)))

        # 416
        for rng in ("%d-" % SIZE, "%d-%d" % (SIZE + 10, SIZE + 20), "200000-300000,400000-"):
            st, blocks, body = curl_get(url, ["-H", "Range: bytes=%s" % rng])
            check_eq(st, 416, "Range %s status" % rng)
            if blocks:
                check_eq(blocks[-1].header("content-range"), "bytes */%d" % SIZE,
                         "Range %s 416 Content-Range" % rng)

        # Ranges the server must ignore: other units. Full 200 response.
        st, _, body = curl_get(url, ["-H", "Range: items=0-5"])
        check(st == 200 and body == data, "Range with an unknown unit: %d" % st)

        # HEAD with a range: 206 headers, no body
        st, blocks, _ = curl_get(url, ["-H", "Range: bytes=0-9"], method="HEAD")
        check(st in (200, 206), "HEAD with Range status %d" % st)
        with section("HEAD with a range: 206 headers, no body"), srv.connect() as c:
            c.send(b"HEAD /public/blob.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=0-9\r\n\r\n"
                   b"GET /public/blob.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=5-14\r\n\r\n")
            c.read_response("HEAD")
            r = c.read_response("GET")
            check(r.status == 206 and r.body == data[5:15],
                  "ranged GET after a ranged HEAD on one connection: %r %r" % (r, r.body[:20]))

        # A text file: multipart parts carry the file's content type.
        st, blocks, body = curl_get(srv.url("/public/page.html"),
                                    ["-H", "Range: bytes=0-2,1000-1002"])
        check_eq(st, 206, "multirange on page.html")
        if st == 206 and blocks:
            try:
                parts = parse_byteranges(blocks[-1].header("content-type") or "", body)
                for hdrs, pbody in parts:
                    check(re.match(r"text/html", hdrs.get("content-type", "")) is not None,
                          "page.html part Content-Type %r" % hdrs.get("content-type"))
                check_eq([p[1] for p in parts], [b"<p>", b"xxx"], "page.html parts")
            except ValueError as e:
                check(False, "page.html multipart: %s" % e)


if __name__ == "__main__":
    main(test)
