#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Accounts end to end, over HTTPS with curl: `fastfile user` commands, HTTP Basic with account
and app passwords on /dav/, the verified-credential cache and its invalidation by `user passwd`
and `user revoke` from another process, per-user trees that no URL, encoding or symlink can
leave, the browser login with its cookie flags and CSRF rule, and the failed-login throttle
(429, then a ban of that address while another address still signs in, kept across a
restart)."""
import concurrent.futures
import os
import re
import socket
import ssl
import statistics
import subprocess
import time

from ffharness import Server, check, check_eq, main, need_curl, section

ARGON = ["--argon2-ops", "1", "--argon2-mem", "32"]
PASSWORDS = {"alice": "alice-password-1", "bob": "bob-password-22", "carol": "carol-password-3"}


def user_cmd(binary, data, *args, password=None):
    p = subprocess.run([binary, "user", *args, "--data", data, *ARGON],
                       input=(password + "\n").encode() if password is not None else b"",
                       capture_output=True, timeout=60)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def curl(srv, path, *extra, user=None, source="127.0.0.1", out=None):
    """One HTTPS request from a fresh curl; returns (rc, status, headers dict-list, body)."""
    hdr = os.path.join(srv.root, "curl.headers")
    body = out or os.path.join(srv.root, "curl.body")
    argv = ["curl", "-sS", "--max-time", "30", "--cacert", srv.cert,
            "--resolve", "localhost:%d:127.0.0.1" % srv.tls_port, "--interface", source,
            "-D", hdr, "-o", body, "-w", "%{http_code}"]
    if user:
        argv += ["-u", "%s:%s" % user]
    argv += list(extra) + ["https://localhost:%d%s" % (srv.tls_port, path)]
    for f in (hdr, body):
        if os.path.exists(f):
            os.unlink(f)
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    headers = []
    if os.path.exists(hdr):
        with open(hdr, "rb") as f:
            for line in f.read().decode("latin-1").split("\r\n")[1:]:
                if ":" in line:
                    k, v = line.split(":", 1)
                    headers.append((k.strip().lower(), v.strip()))
    data = b""
    if os.path.exists(body):
        with open(body, "rb") as f:
            data = f.read()
    status = int(p.stdout.decode() or 0) if p.stdout.decode().isdigit() else 0
    return p.returncode, status, headers, data


def header(headers, name):
    return [v for k, v in headers if k == name.lower()]


def login(srv, name, password, source="127.0.0.1"):
    return curl(srv, "/login", "--data-urlencode", "user=" + name, "--data-urlencode",
                "password=" + password, source=source)


def on_terminal(argv, lines):
    """Run argv on a pseudo-terminal, typing each line after a prompt; returns all it wrote."""
    import pty
    import select
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(argv[0], argv)
    out = b""
    pending = list(lines)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 1)
        if not r:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
        if pending and out.rstrip().endswith(b":"):
            os.write(fd, (pending.pop(0) + "\n").encode())
    os.waitpid(pid, 0)
    os.close(fd)
    return out.decode("utf-8", "replace")


def logins_of(srv, name):
    return len(re.findall(r"event=login_ok client=\S+ user=%s " % re.escape(name),
                          srv.stderr_text()))


def parallel_gets(srv, name, password, n, source):
    """n requests at once, each on its own new TLS connection."""
    import base64
    ctx = ssl.create_default_context(cafile=srv.cert)
    auth = base64.b64encode(("%s:%s" % (name, password)).encode()).decode()
    req = ("GET /dav/a.txt HTTP/1.1\r\nHost: localhost\r\nAuthorization: Basic %s\r\n"
           "Connection: close\r\n\r\n" % auth).encode()

    def one(_):
        raw = socket.create_connection(("127.0.0.1", srv.tls_port), timeout=30,
                                       source_address=(source, 0))
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            s.sendall(req)
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        return data.split(b" ", 2)[1] if data.startswith(b"HTTP/1.1 ") else b"?"

    with concurrent.futures.ThreadPoolExecutor(max_workers=n) as ex:
        return list(ex.map(one, range(n)))


def test(binary):
    need_curl()
    srv = Server(binary, args=ARGON + ["--log-level", "info"])
    data = srv.data

    with section("user commands"):
        for name, pw in PASSWORDS.items():
            rc, out, err = user_cmd(binary, data, "add", name, password=pw)
            check(rc == 0 and "added" in out, "user add %s: rc %d %s %s" % (name, rc, out, err))
        rc, out, err = user_cmd(binary, data, "add", "alice", password="another-password")
        check(rc == 1 and "exists" in err, "adding alice twice fails: rc %d %s" % (rc, err))
        rc, out, err = user_cmd(binary, data, "add", "../evil", password="whatever-pass")
        check(rc == 2 and not os.path.exists(os.path.join(data, "evil")),
              "an invalid name is refused: rc %d %s" % (rc, err))
        rc, out, err = user_cmd(binary, data, "add", "dave", password="short")
        check(rc == 1 and "at least" in err, "a short password is refused: rc %d %s" % (rc, err))
        # On a terminal: asked twice, never echoed.
        out = on_terminal([binary, "user", "add", "erin", "--data", data] + ARGON,
                          ["erin-password-5", "erin-password-5"])
        check("New password for erin:" in out and "Again:" in out and "added" in out,
              "user add on a terminal: %r" % out)
        check("erin-password-5" not in out, "the password is not echoed: %r" % out)
        out = on_terminal([binary, "user", "passwd", "erin", "--data", data] + ARGON,
                          ["erin-password-6", "erin-password-7"])
        check("differ" in out, "two different passwords are refused: %r" % out)
        rc, out, _ = user_cmd(binary, data, "del", "erin")
        check(rc == 0 and "deleted" in out, "user del: %r" % out)
        rc, out, _ = user_cmd(binary, data, "del", "erin")
        check(rc == 1, "deleting a missing user fails")
        rc, out, _ = user_cmd(binary, data, "list")
        names = [ln.split()[0] for ln in out.splitlines() if ln.strip()]
        check_eq(names, ["alice", "bob", "carol"], "user list")
        with open(os.path.join(data, "fastfile.db"), "rb") as f:
            db = f.read()
        for pw in PASSWORDS.values():
            check(pw.encode() not in db, "no password in clear in the database")

    files = {n: os.path.join(data, "files", n) for n in PASSWORDS}
    for n, d in files.items():
        check(os.path.isdir(d), "user add created %s" % d)
        with open(os.path.join(d, "a.txt"), "wb") as f:
            f.write(("file of %s\n" % n).encode())
    with open(os.path.join(files["bob"], "secret.txt"), "wb") as f:
        f.write(b"bob's secret\n")
    os.symlink("../bob/secret.txt", os.path.join(files["alice"], "rel-link"))
    os.symlink(os.path.join(files["bob"], "secret.txt"), os.path.join(files["alice"], "abs-link"))
    os.symlink("a.txt", os.path.join(files["alice"], "inner-link"))
    os.symlink("../bob", os.path.join(files["alice"], "rel-dir"))

    with srv.start():
        with section("no admin is created when users exist"):
            check(srv.admin_password is None, "no admin password printed")

        with section("basic auth"):
            rc, st, hd, body = curl(srv, "/dav/a.txt")
            check_eq(st, 401, "no credentials")
            check_eq(header(hd, "WWW-Authenticate"), ['Basic realm="fastfile", charset="UTF-8"'],
                     "401 challenge")
            no_cred_body = body
            rc, st, hd, body = curl(srv, "/dav/a.txt", user=("alice", PASSWORDS["alice"]))
            check(st == 200 and body == b"file of alice\n", "alice reads her file: %d %r" % (
                st, body))
            rc, st, _, wrong = curl(srv, "/dav/a.txt", user=("alice", "not-her-password"),
                                    source="127.0.0.2")
            check_eq(st, 401, "wrong password")
            rc, st, _, unknown = curl(srv, "/dav/a.txt", user=("mallory", "whatever-pass"),
                                      source="127.0.0.2")
            check_eq(st, 401, "unknown user")
            check(wrong == unknown == no_cred_body, "the three 401 bodies are the same")
            rc, st, _, _ = curl(srv, "/dav/a.txt", user=("alice", ""), source="127.0.0.2")
            check_eq(st, 401, "empty password")
            rc, st, _, _ = curl(srv, "/dav/a.txt", "-H", "Authorization: Basic !!!",
                                source="127.0.0.2")
            check_eq(st, 401, "malformed Authorization")
            check("event=login_failed client=127.0.0.2 user=mallory via=basic" in
                  srv.stderr_text(), "failed login logged with address and name")

        with section("unknown user and wrong password take the same time"):
            def timed(name, pw):
                t0 = time.monotonic()
                curl(srv, "/dav/a.txt", user=(name, pw), source="127.0.0.3")
                return time.monotonic() - t0
            wrong_t = statistics.median(timed("alice", "nope-%d" % i) for i in range(4))
            unknown_t = statistics.median(timed("nobody%d" % i, "nope") for i in range(4))
            right_cached = statistics.median(
                timed("alice", PASSWORDS["alice"]) for i in range(4))
            # Both run one Argon2id (32 MiB here); without the dummy run an unknown name would
            # come back as fast as a cached credential.
            check(0.6 < unknown_t / wrong_t < 1.6,
                  "unknown user %.1f ms vs wrong password %.1f ms (cached right one %.1f ms)" % (
                      unknown_t * 1e3, wrong_t * 1e3, right_cached * 1e3))

        with section("per-user trees"):
            bob = ("bob", PASSWORDS["bob"])
            alice = ("alice", PASSWORDS["alice"])
            rc, st, _, body = curl(srv, "/dav/a.txt", user=bob)
            check(st == 200 and body == b"file of bob\n", "bob gets his own a.txt")
            for path in ["/dav/secret.txt", "/dav/bob/secret.txt", "/dav/../bob/secret.txt",
                         "/dav/%2e%2e/bob/secret.txt", "/dav/..%2fbob/secret.txt",
                         "/dav/%2E%2E/%2E%2E/files/bob/secret.txt", "/dav/rel-link",
                         "/dav/abs-link", "/files/bob/secret.txt", "/bob/secret.txt",
                         "/dav/./../dav/../../bob/secret.txt"]:
                rc, st, _, body = curl(srv, path, "--path-as-is", user=alice)
                check(st in (400, 404) and b"secret" not in body,
                      "alice cannot reach bob's file by %s: %d %r" % (path, st, body[:40]))
            for path in ["/dav/../bob/", "/dav/bob/", "/dav/%2e%2e/bob/", "/dav/rel-dir/"]:
                rc, st, _, body = curl(srv, path, "--path-as-is", user=alice)
                check(st in (400, 404) and b"secret" not in body,
                      "alice cannot list bob's folder by %s: %d" % (path, st))
            rc, st, _, body = curl(srv, "/dav/inner-link", user=alice)
            check(st == 200 and body == b"file of alice\n", "a symlink inside her tree works")
            bob_before = sorted(os.listdir(files["bob"]))
            with open(os.path.join(files["bob"], "secret.txt"), "rb") as f:
                secret_before = f.read()
            payload = os.path.join(srv.root, "payload.txt")
            with open(payload, "wb") as f:
                f.write(b"written by alice\n")
            port = srv.tls_port
            for dest in ["/dav/../bob/stolen.txt", "/bob/stolen.txt", "/files/bob/stolen.txt",
                         "https://localhost:%d/dav/%%2e%%2e/bob/stolen.txt" % port,
                         "https://localhost:%d/dav/rel-dir/stolen.txt" % port,
                         "/dav/rel-dir/stolen.txt"]:
                for method in ("COPY", "MOVE"):
                    rc, st, _, _ = curl(srv, "/dav/inner-link", "-X", method,
                                        "-H", "Destination: " + dest, user=alice)
                    check(st in (400, 403, 404, 409, 502),
                          "alice cannot %s into bob's tree (Destination %s): %d" % (
                              method, dest, st))
                    rc, st, _, _ = curl(srv, "/dav/abs-link", "-X", method,
                                        "-H", "Destination: /dav/got-secret.txt", user=alice)
                    check(st in (403, 404, 409),
                          "alice cannot %s bob's file out through a link: %d" % (method, st))
            for path in ["/dav/../bob/x", "/dav/rel-dir/x", "/dav/rel-dir"]:
                rc, st, _, _ = curl(srv, path, "--path-as-is", "-X", "MKCOL", user=alice)
                check(st in (400, 403, 404, 405, 409),
                      "alice cannot MKCOL in bob's tree by %s: %d" % (path, st))
            # Writes by every route that reads could take: each must stay in alice's tree or
            # be refused, and bob's tree must come out unchanged.
            for path in ["/dav/../bob/secret.txt", "/dav/%2e%2e/bob/secret.txt",
                         "/dav/..%2fbob/secret.txt", "/dav/rel-link", "/dav/abs-link",
                         "/dav/rel-dir/secret.txt", "/dav/rel-dir/new.txt",
                         "/files/bob/secret.txt", "/bob/new.txt"]:
                rc, st, _, _ = curl(srv, path, "--path-as-is", "-T", payload, user=alice)
                check(st in (400, 403, 404, 405, 409),
                      "alice cannot PUT into bob's tree by %s: %d" % (path, st))
                rc, st, _, _ = curl(srv, path, "--path-as-is", "-X", "DELETE", user=alice)
                check(st in (204, 400, 403, 404, 405, 409),
                      "alice's DELETE of %s stays in her tree: %d" % (path, st))
            check_eq(sorted(os.listdir(files["bob"])), bob_before, "bob's tree has the same names")
            with open(os.path.join(files["bob"], "secret.txt"), "rb") as f:
                check(f.read() == secret_before, "bob's secret.txt is unchanged")
            check(not os.path.exists(os.path.join(files["alice"], "got-secret.txt")),
                  "nothing of bob's arrived in alice's tree")
            # Her own tree takes writes (the same credentials, a path that is hers).
            rc, st, _, _ = curl(srv, "/dav/mine.txt", "-T", payload, user=alice)
            check_eq(st, 201, "alice can PUT into her own tree")
            with open(os.path.join(files["alice"], "mine.txt"), "rb") as f:
                check(f.read() == b"written by alice\n", "her upload landed in her tree")

        with section("app passwords"):
            rc, out, err = user_cmd(binary, data, "token", "alice", "phone")
            m = re.search(r"app password (\d+) for alice \(shown only now\): (\S+)", out)
            check(rc == 0 and m, "token created: %s %s" % (out, err))
            tid, token = m.group(1), m.group(2)
            rc, out, _ = user_cmd(binary, data, "tokens", "alice")
            check(re.search(r"^%s\s+phone\s" % tid, out, re.M) and token not in out,
                  "token listed by id and label, not by value: %r" % out)
            rc, st, _, body = curl(srv, "/dav/a.txt", user=("alice", token))
            check(st == 200 and body == b"file of alice\n", "app password works: %d" % st)
            rc, st, _, _ = curl(srv, "/dav/a.txt", user=("bob", token), source="127.0.0.4")
            check_eq(st, 401, "alice's app password is not bob's")
            rc, out, err = user_cmd(binary, data, "revoke", "bob", tid)
            check(rc == 1, "bob cannot revoke alice's token: %d %s" % (rc, err))
            rc, out, err = user_cmd(binary, data, "revoke", "alice", tid)
            check(rc == 0, "revoke: %s %s" % (out, err))
            rc, st, _, _ = curl(srv, "/dav/a.txt", user=("alice", token), source="127.0.0.4")
            check_eq(st, 401, "revoked app password right after revoke")

        with section("password change"):
            alice_old = ("alice", PASSWORDS["alice"])
            rc, st, _, _ = curl(srv, "/dav/a.txt", user=alice_old)
            check_eq(st, 200, "old password (cached)")
            # A keep-alive connection that has used the old password remembers it was good:
            # the change must reach it too.
            import base64
            import http.client
            kept = http.client.HTTPSConnection(
                "localhost", srv.tls_port, source_address=("127.0.0.4", 0), timeout=30,
                context=ssl.create_default_context(cafile=srv.cert))
            basic = {"Authorization": "Basic " + base64.b64encode(
                ("%s:%s" % alice_old).encode()).decode()}
            for i in range(2):
                kept.request("GET", "/dav/a.txt", headers=basic)
                r = kept.getresponse()
                r.read()
                check_eq(r.status, 200, "keep-alive request %d with the old password" % i)
            rc, out, err = user_cmd(binary, data, "passwd", "alice", password="alice-new-pass")
            check(rc == 0, "passwd: %s %s" % (out, err))
            kept.request("GET", "/dav/a.txt", headers=basic)
            r = kept.getresponse()
            r.read()
            check_eq(r.status, 401, "the same keep-alive connection after passwd")
            kept.close()
            rc, st, _, _ = curl(srv, "/dav/a.txt", user=alice_old, source="127.0.0.4")
            check_eq(st, 401, "old password right after passwd")
            rc, st, _, _ = curl(srv, "/dav/a.txt", user=("alice", "alice-new-pass"))
            check_eq(st, 200, "new password")
            PASSWORDS["alice"] = "alice-new-pass"

        with section("browser login"):
            rc, st, hd, body = curl(srv, "/")
            check(st == 303 and header(hd, "Location") == ["/login"], "/ goes to /login")
            rc, st, hd, body = curl(srv, "/login")
            check(st == 200 and b"<form" in body and b'name="password"' in body, "login form")
            rc, st, hd, body = login(srv, "bob", "wrong-one", source="127.0.0.5")
            check(st == 401 and not header(hd, "Set-Cookie"), "wrong form login: %d" % st)
            rc, st, hd, body = login(srv, "bob", PASSWORDS["bob"])
            cookies = header(hd, "Set-Cookie")
            check_eq(st, 303, "form login")
            check_eq(header(hd, "Location"), ["/dav/"], "login redirects to /dav/")
            sess = [c for c in cookies if c.startswith("ff_session=")]
            csrf = [c for c in cookies if c.startswith("ff_csrf=")]
            check(len(sess) == 1 and len(csrf) == 1, "session and csrf cookies: %r" % cookies)
            attrs = [a.strip() for a in sess[0].split(";")]
            for a in ("HttpOnly", "Secure", "SameSite=Strict", "Path=/"):
                check(a in attrs, "session cookie has %s: %r" % (a, sess[0]))
            check("HttpOnly" not in csrf[0] and "SameSite=Strict" in csrf[0],
                  "csrf cookie is readable by the page: %r" % csrf[0])
            token = sess[0].split(";")[0].split("=", 1)[1]
            csrf_token = csrf[0].split(";")[0].split("=", 1)[1]
            check(len(token) == 43 and len(csrf_token) == 43, "256-bit tokens")
            cookie = "ff_session=" + token
            rc, st, _, body = curl(srv, "/dav/a.txt", "-H", "Cookie: " + cookie)
            check(st == 200 and body == b"file of bob\n", "cookie reads bob's file: %d" % st)
            rc, st, _, _ = curl(srv, "/dav/a.txt", "-X", "DELETE", "-H", "Cookie: " + cookie)
            check_eq(st, 403, "state-changing cookie request without the CSRF header")
            rc, st, _, _ = curl(srv, "/dav/a.txt", "-X", "DELETE", "-H", "Cookie: " + cookie,
                                "-H", "X-CSRF-Token: " + "x" * 43)
            check_eq(st, 403, "with a wrong CSRF token")
            rc, st, _, _ = curl(srv, "/dav/a.txt", "-X", "PROPPATCH", "-H", "Cookie: " + cookie,
                                "-H", "X-CSRF-Token: " + csrf_token, "--data-binary",
                                '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:">'
                                '<D:set><D:prop><x:k xmlns:x="urn:t">v</x:k></D:prop></D:set>'
                                '</D:propertyupdate>', "-H", "Content-Type: application/xml")
            check_eq(st, 207, "with the CSRF token the request passes the gate")
            rc, st, _, _ = curl(srv, "/logout", "-X", "POST", "-H", "Cookie: " + cookie)
            check_eq(st, 403, "logout without the CSRF token")
            rc, st, hd, _ = curl(srv, "/logout", "-X", "POST", "-H", "Cookie: " + cookie,
                                 "-H", "X-CSRF-Token: " + csrf_token)
            check(st == 303 and header(hd, "Location") == ["/login"], "logout: %d" % st)
            rc, st, _, _ = curl(srv, "/dav/a.txt", "-H", "Cookie: " + cookie)
            check_eq(st, 401, "the cookie is dead after logout")
            rc, st, _, _ = curl(srv, "/dav/a.txt", "-H", "Cookie: ff_session=" + "A" * 43)
            check_eq(st, 401, "a made-up session cookie")

        with section("one verification for many parallel requests"):
            before = logins_of(srv, "carol")
            codes = parallel_gets(srv, "carol", PASSWORDS["carol"], 200, "127.0.0.6")
            check(codes.count(b"200") == 200, "200 parallel requests all 200: %r" % (
                {c: codes.count(c) for c in set(codes)}))
            n = logins_of(srv, "carol") - before
            check(1 <= n <= 4, "%d Argon2id verifications for 200 parallel requests" % n)

        with section("brute force: 429, then a ban; other addresses unaffected"):
            seen = []
            for i in range(30):
                rc, st, hd, _ = curl(srv, "/dav/a.txt", user=("bob", "guess-%d" % i),
                                     source="127.0.0.7")
                seen.append(st if rc == 0 else "closed")
                if st == 429:
                    ra = header(hd, "Retry-After")
                    check(ra and ra[0].isdigit() and int(ra[0]) >= 1, "429 has Retry-After")
            check(seen[:10] == [401] * 10, "the first 10 failures are 401: %r" % seen[:12])
            check(429 in seen, "then 429: %r" % seen)
            check(seen[-1] == "closed" and seen.index(429) < seen.index("closed"),
                  "then the address is banned (connections closed): %r" % seen)
            rc, st, _, _ = curl(srv, "/dav/a.txt", user=("bob", PASSWORDS["bob"]),
                                source="127.0.0.7")
            check(rc != 0, "even the right password from the banned address is refused")
            rc, st, _, body = curl(srv, "/dav/a.txt", user=("bob", PASSWORDS["bob"]),
                                   source="127.0.0.8")
            check(st == 200 and body == b"file of bob\n",
                  "bob still signs in from another address: %d" % st)
            log = srv.stderr_text()
            check("event=login_ban" in log, "the ban is logged")

    with section("a database from a newer fastfile is refused"):
        import sqlite3
        newer = os.path.join(srv.root, "newer")
        os.makedirs(newer)
        db = sqlite3.connect(os.path.join(newer, "fastfile.db"))
        db.execute("PRAGMA user_version = 999")
        db.commit()
        db.close()
        p = subprocess.run([binary, "serve", "--data", newer, "--listen", "127.0.0.1:0"],
                           capture_output=True, timeout=30)
        err = p.stderr.decode()
        check(p.returncode != 0 and "newer" in err and "999" in err,
              "serve refuses a newer schema: rc %d %r" % (p.returncode, err[-300:]))
        rc, out, err = user_cmd(binary, newer, "list")
        check(rc != 0 and "999" in err, "user commands refuse it too: %r" % err)

    with section("failures survive a restart"):
        again = Server(binary, args=ARGON, data=data)
        with again.start():
            check("event=failures_restored" in again.stderr_text(), "failures restored")
            rc, st, _, _ = curl(again, "/dav/a.txt", user=("bob", PASSWORDS["bob"]),
                                source="127.0.0.7")
            check(rc != 0, "the address banned before the restart is still refused")
            rc, st, _, _ = curl(again, "/dav/a.txt", user=("bob", PASSWORDS["bob"]),
                                source="127.0.0.9")
            check_eq(st, 200, "another address signs in after the restart")


if __name__ == "__main__":
    main(test)
