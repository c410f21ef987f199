#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""--cert/--key and SIGHUP: the server serves the given certificate; after the files are
replaced and SIGHUP sent, new connections get the new certificate while a connection opened
before keeps working; a reload from broken files keeps the old certificate."""
import hashlib
import os
import signal
import socket
import ssl
import subprocess

from ffharness import Server, _rmtree, add_cleanup, check, check_eq, main, wait_until


def make_cert(dirname, name):
    cert = os.path.join(dirname, name + ".pem")
    key = os.path.join(dirname, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=" + name,
                    "-addext", "subjectAltName=DNS:localhost", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    der = ssl.PEM_cert_to_DER_cert(open(cert).read())
    return cert, key, hashlib.sha256(der).hexdigest()


def connect(srv):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the test compares the certificate itself
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", srv.tls_port), timeout=10),
                        server_hostname="localhost")
    return s, hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest()


def get(s):
    s.sendall(b"GET /public/hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n")
    data = b""
    while b"hello\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.split(b" ", 2)[1] if data.startswith(b"HTTP/1.1 ") else data[:40]


def test(binary):
    root_certs = os.path.join(os.getcwd(), "reload-%d" % os.getpid())
    os.makedirs(root_certs)
    add_cleanup(lambda: _rmtree(root_certs))
    cert_a, key_a, fp_a = make_cert(root_certs, "a")
    cert_b, key_b, fp_b = make_cert(root_certs, "b")
    live_cert = os.path.join(root_certs, "live.pem")
    live_key = os.path.join(root_certs, "live.key")
    os.rename(cert_a, live_cert)
    os.rename(key_a, live_key)

    srv = Server(binary, args=["--cert", live_cert, "--key", live_key])
    srv.put_file("hello.txt", b"hello\n")
    with srv.start():
        check_eq(srv.fingerprint.replace(":", "").lower(), fp_a, "printed fingerprint is --cert's")
        old, fp = connect(srv)
        check_eq(fp, fp_a, "first connection's certificate")
        check_eq(get(old), b"200", "request before the reload")

        os.replace(cert_b, live_cert)
        os.replace(key_b, live_key)
        srv.send_signal(signal.SIGHUP)
        check(wait_until(lambda: "cert_reload result=ok" in srv.stderr_text(), 5),
              "SIGHUP reload logged as ok")
        new, fp = connect(srv)
        check_eq(fp, fp_b, "new connection after SIGHUP gets the new certificate")
        check_eq(get(new), b"200", "request on the new connection")
        check_eq(get(old), b"200", "connection from before the reload still works")

        with open(live_cert, "w") as f:
            f.write("not a certificate\n")
        srv.send_signal(signal.SIGHUP)
        check(wait_until(lambda: "cert_reload result=kept_old" in srv.stderr_text(), 5),
              "a broken reload is logged and refused")
        third, fp = connect(srv)
        check_eq(fp, fp_b, "after a failed reload the last good certificate stays")
        check_eq(get(third), b"200", "request after the failed reload")
        for s in (old, new, third):
            s.close()


if __name__ == "__main__":
    main(test)
