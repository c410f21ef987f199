# SPDX-License-Identifier: MIT
"""WebDAV response bodies through the server's sink: small ones stay in memory, large ones go to
a temporary file, and a single piece larger than the memory part (a dead property of 20 KiB)
must come back whole. PROPPATCH sets it over HTTP, PROPFIND reads it back and compares. Then a
member whose properties alone (720 KB) pass the job's memory goes to a temporary file in the
middle of a listing sent in pieces, over HTTP and TLS: every member once, the values whole."""

import base64
import os
import xml.etree.ElementTree as ET

import ffharness as h

USER, PASSWORD = "alice", "alice-davbody-pw"
AUTH = "Basic " + base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode()


def request(srv, method, path, headers, body=b""):
    hd = dict(headers, Authorization=AUTH)
    if body:
        hd["Content-Type"] = "application/xml"
        hd["Content-Length"] = str(len(body))
    with srv.connect(timeout=60) as c:
        c.send(h.build_request(method, path, hd, body))
        return c.read_response(method, timeout=60)


def run(binary):
    srv = h.Server(binary)
    h.add_user(binary, srv.data, USER, PASSWORD)
    h.write_file(srv.data + "/files/%s/f.txt" % USER, b"f\n")
    for i in range(400):
        h.write_file(srv.data + "/files/%s/many/m%03d.txt" % (USER, i), b"m\n")
    value = "".join("%05d-" % i for i in range(3500))  # 21,000 bytes in one text node
    with srv.start():
        patch = ('<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:">'
                 '<D:set><D:prop><t:big xmlns:t="urn:test">%s</t:big></D:prop></D:set>'
                 '</D:propertyupdate>' % value).encode()
        r = request(srv, "PROPPATCH", "/dav/f.txt", {}, patch)
        h.check_eq(r.status, 207, "PROPPATCH of a 21,000-byte value")
        find = (b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop>'
                b'<t:big xmlns:t="urn:test"/></D:prop></D:propfind>')
        for depth in ("0", "1"):
            path = "/dav/f.txt" if depth == "0" else "/dav/"
            r = request(srv, "PROPFIND", path, {"Depth": depth}, find)
            h.check_eq(r.status, 207, "PROPFIND Depth %s" % depth)
            got = [e.text for e in ET.fromstring(r.body).iter("{urn:test}big") if e.text]
            h.check(got == [value], "the value comes back whole (Depth %s): %d values, %r" % (
                depth, len(got), [len(g) for g in got]))

        values = {"p%02d" % i: ("%02d" % i) * 30000 for i in range(12)}  # 60,000 bytes each
        patch = ('<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:">'
                 '<D:set><D:prop>%s</D:prop></D:set></D:propertyupdate>' % "".join(
                     '<t:%s xmlns:t="urn:test">%s</t:%s>' % (k, v, k)
                     for k, v in values.items())).encode()
        r = request(srv, "PROPPATCH", "/dav/many/m200.txt", {}, patch)
        h.check_eq(r.status, 207, "PROPPATCH of 12 values of 60,000 bytes")
        allprop = b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>'
        want = ["/dav/many/"] + ["/dav/many/m%03d.txt" % i for i in range(400)]

        def check_listing(body, what):
            root = ET.fromstring(body)
            hrefs = [x.find("{DAV:}href").text for x in root.iter("{DAV:}response")]
            h.check(hrefs == want, "%s: %d members, each once, in order" % (what, len(hrefs)))
            got = {e.tag.split("}")[1]: e.text for e in root.iter()
                   if e.tag.startswith("{urn:test}")}
            h.check(got == values, "%s: the 12 values whole: %r" % (
                what, {k: len(v or "") for k, v in got.items()}))

        r = request(srv, "PROPFIND", "/dav/many/", {"Depth": "1"}, allprop)
        h.check_eq(r.status, 207, "PROPFIND of the folder")
        h.check_eq(r.header("transfer-encoding"), "chunked", "sent in pieces")
        check_listing(r.body, "HTTP")
        p = h.curl(["--cacert", srv.cert, "-u", "%s:%s" % (USER, PASSWORD), "-X", "PROPFIND",
                    "-H", "Depth: 1", "--data-binary", allprop, srv.tls_url("/dav/many/")],
                   timeout=60)
        check_listing(p.stdout, "TLS")
        h.check_eq(os.listdir(os.path.join(srv.data, "tmp")), [], "no response file left")
        srv.stop()


if __name__ == "__main__":
    h.main(run)
