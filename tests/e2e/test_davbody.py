# SPDX-License-Identifier: MIT
"""WebDAV response bodies through the server's sink: small ones stay in memory, large ones go to
a temporary file, and a single piece larger than the memory part (a dead property of 20 KiB)
must come back whole. PROPPATCH sets it over HTTP, PROPFIND reads it back and compares."""

import base64
import xml.etree.ElementTree as ET

import ffharness as h

USER, PASSWORD = "alice", "alice-davbody-pw"
AUTH = "Basic " + base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode()


def request(srv, method, path, headers, body=b""):
    hd = dict(headers, Authorization=AUTH)
    if body:
        hd["Content-Type"] = "application/xml"
        hd["Content-Length"] = str(len(body))
    with srv.connect() as c:
        c.send(h.build_request(method, path, hd, body))
        return c.read_response(method)


def run(binary):
    srv = h.Server(binary)
    h.add_user(binary, srv.data, USER, PASSWORD)
    h.write_file(srv.data + "/files/%s/f.txt" % USER, b"f\n")
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
        srv.stop()


if __name__ == "__main__":
    h.main(run)
