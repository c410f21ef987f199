# SPDX-License-Identifier: MIT
"""Shared helpers for the end-to-end tests of `fastfile serve`.

Every test is a program run by ctest as `python3 test_x.py PATH/TO/fastfile` that exits
0 (pass), 1 (fail) or 77 (skip, reason on the last line; never in CI, where CI=true turns a
skip into a failure). Tests start their own server on 127.0.0.1 with port 0, read the port from
the "listening on" line, talk to it with curl or raw sockets, and stop it with SIGTERM by PID,
asserting exit status 0. Everything lives in a temporary folder that is removed at the end.

Only the Python standard library is used.
"""

import contextlib
import email.utils
import os
import re
import resource
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

PASS, FAIL, SKIP = 0, 1, 77

# Sanitizer builds are 2-3x slower; every deadline in here has room for that.
STARTUP_TIMEOUT = 20.0
STOP_TIMEOUT = 20.0
IO_TIMEOUT = 10.0

LISTEN_RE = re.compile(
    r"^fastfile (\S+) listening on (https?)://127\.0\.0\.1:(\d+)/ \(data: (.*)\)$")
FINGERPRINT_RE = re.compile(r"^certificate SHA-256 fingerprint: ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})$")
# Printed once, on a fresh data folder, before the listening lines.
ADMIN_RE = re.compile(r"^created user admin with password (\S+) \(shown only now; ")

_failures = []
_lock = threading.Lock()
_cleanups = []


# --------------------------------------------------------------------------------------------
# results

def log(msg):
    print(msg, flush=True)


def check(cond, msg):
    """Record a failure when cond is false; returns cond so callers can branch on it."""
    if not cond:
        with _lock:
            _failures.append(msg)
        print("FAIL: " + msg, flush=True)
    return bool(cond)


def check_eq(got, want, msg):
    return check(got == want, "%s: got %r, want %r" % (msg, _short(got), _short(want)))


def _short(v):
    if isinstance(v, (bytes, bytearray)) and len(v) > 200:
        return bytes(v[:120]) + b"...(%d bytes)" % len(v)
    if isinstance(v, str) and len(v) > 300:
        return v[:200] + "...(%d chars)" % len(v)
    return v


def failed():
    return bool(_failures)


def skip(reason):
    """Skip the whole test (exit 77), or fail when running in CI where nothing may skip."""
    _run_cleanups()
    if os.environ.get("CI", "").lower() == "true":
        print("FAIL: would skip, but CI=true forbids skipping: " + reason, flush=True)
        sys.exit(FAIL)
    print("SKIP: " + reason, flush=True)
    sys.exit(SKIP)


class Fatal(Exception):
    """Abort the test now (after recording the message as a failure)."""


def require(cond, msg):
    if not check(cond, msg):
        raise Fatal(msg)


@contextlib.contextmanager
def section(name):
    """Run a block of checks; an exception (a close, a timeout, a parse error) is recorded as a
    failure of this block and the test goes on with the next one."""
    try:
        yield
    except Fatal:
        pass
    except Exception:
        check(False, "%s: exception:\n%s" % (name, traceback.format_exc()))


def add_cleanup(fn):
    _cleanups.append(fn)


def _run_cleanups():
    while _cleanups:
        fn = _cleanups.pop()
        try:
            fn()
        except Exception:  # cleanups must not hide the real result
            traceback.print_exc()


def main(fn):
    """Run fn(binary) and exit with the result code."""
    if len(sys.argv) < 2:
        print("usage: %s PATH/TO/fastfile" % sys.argv[0], flush=True)
        sys.exit(FAIL)
    binary = os.path.abspath(sys.argv[1])
    if not os.access(binary, os.X_OK):
        print("FAIL: %s is not an executable" % binary, flush=True)
        sys.exit(FAIL)
    # ctest and timeout(1) stop us with SIGTERM: unwind so cleanups stop the servers.
    def on_term(sig, frame):
        raise KeyboardInterrupt("signal %d" % sig)
    signal.signal(signal.SIGTERM, on_term)
    t0 = time.monotonic()
    try:
        fn(binary)
    except KeyboardInterrupt as e:
        check(False, "interrupted (%s)" % e)
    except Fatal:
        pass
    except Exception:
        check(False, "exception:\n" + traceback.format_exc())
    finally:
        _run_cleanups()
    dt = time.monotonic() - t0
    if _failures:
        print("%d check(s) failed in %.1fs:" % (len(_failures), dt), flush=True)
        for f in _failures:
            print("  - " + f.splitlines()[0] if f else "  - ?", flush=True)
        print("FAIL", flush=True)
        sys.exit(FAIL)
    print("PASS (%.1fs)" % dt, flush=True)
    sys.exit(PASS)


# --------------------------------------------------------------------------------------------
# environment

def raise_nofile(want=65536):
    """Raise RLIMIT_NOFILE (soft up to the hard limit); servers started later inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            pass
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def _rmtree(d):
    for _ in range(5):
        shutil.rmtree(d, ignore_errors=True)
        if not os.path.exists(d):
            return
        time.sleep(0.1)
    print("warning: could not remove %s" % d, flush=True)


def tempdir(prefix="ffe2e-"):
    d = tempfile.mkdtemp(prefix=prefix)
    add_cleanup(lambda: _rmtree(d))
    return d


def write_file(path, data, mtime=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def http_date(ts):
    return email.utils.formatdate(ts, usegmt=True)


def parse_http_date(s):
    try:
        return email.utils.parsedate_to_datetime(s).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


IMF_FIXDATE_RE = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"\d{4} \d\d:\d\d:\d\d GMT$")


# --------------------------------------------------------------------------------------------
# the server

def _die_with_parent():
    """In the child before exec: SIGKILL it when the test process dies (e.g. ctest timeout),
    so no server outlives its test."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


class Server:
    """One `fastfile serve` process on 127.0.0.1 with an ephemeral port.

    The data folder is root/data; anyone may GET what is in root/data/public at /public/...
    (created here, so tests can fill it before start; path() and put_file() work in it). The
    access log goes to root/access.log unless the test passes its own --access-log. stdout and
    stderr go to files in root so a chatty server never blocks. On a fresh data folder the
    server creates user admin and prints its password, kept in admin_password.
    """

    def __init__(self, binary, args=(), root=None, data=None, access_log=True):
        self.binary = binary
        self.root = root or tempdir()
        self.data = data or os.path.join(self.root, "data")
        self.public = os.path.join(self.data, "public")
        os.makedirs(self.public, exist_ok=True)
        self.args = list(args)
        if access_log and not any(a == "--access-log" or a.startswith("--access-log=")
                                  for a in self.args):
            self.access_log = os.path.join(self.root, "access.log")
            self.args += ["--access-log", self.access_log]
        else:
            self.access_log = None
        self.proc = None
        self.port = None
        self.tls_port = None
        self.fingerprint = None
        self.cert = None
        self.version = None
        self.admin_password = None  # set by start() when the server created user admin
        self.stdout_path = os.path.join(self.root, "server.stdout")
        self.stderr_path = os.path.join(self.root, "server.stderr")
        self.stopped = False
        self.returncode = None

    # -- lifecycle

    def start(self):
        argv = [self.binary, "serve", "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0",
                "--data", self.data] + self.args
        self._out = open(self.stdout_path, "wb")
        self._err = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._out,
                                     stderr=self._err, close_fds=True,
                                     preexec_fn=_die_with_parent)
        add_cleanup(self._kill)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        lines = None
        while time.monotonic() < deadline:
            with open(self.stdout_path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
            # The fingerprint line comes last, once every listener is up.
            if "fingerprint:" in text and text.endswith("\n"):
                lines = text.splitlines()
                break
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        if lines is None:
            rc = self.proc.poll()
            self._kill()
            raise Fatal(self._fail("server did not print its listening line within %.0fs "
                                   "(exit status %r); argv: %s" % (STARTUP_TIMEOUT, rc,
                                                                  " ".join(argv))))
        for line in lines:
            m = LISTEN_RE.match(line)
            f = FINGERPRINT_RE.match(line)
            a = ADMIN_RE.match(line)
            if a:
                self.admin_password = a.group(1)
            elif m:
                self.version = m.group(1)
                if m.group(2) == "https":
                    self.tls_port = int(m.group(3))
                else:
                    self.port = int(m.group(3))
                check_eq(m.group(4), self.data, "data folder in the listening line")
            elif f:
                self.fingerprint = f.group(1)
        if not self.port or not self.tls_port or not self.fingerprint:
            self._kill()
            raise Fatal(self._fail("unexpected stdout %r" % lines))
        self.cert = os.path.join(self.data, "tls", "cert.pem")
        return self

    def _fail(self, msg):
        msg = msg + "\n--- server stderr ---\n" + self.stderr_tail()
        check(False, msg)
        return msg

    def stderr_text(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def stderr_tail(self, n=60):
        return "\n".join(self.stderr_text().splitlines()[-n:])

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def send_signal(self, sig):
        if self.alive():
            os.kill(self.proc.pid, sig)

    def wait(self, timeout=STOP_TIMEOUT):
        """Wait for exit; returns the exit status or None on timeout."""
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        self.returncode = rc
        return rc

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT, expect_rc=0):
        """Graceful stop by PID; checks the exit status (and reports stderr when it is wrong)."""
        if self.proc is None or self.stopped:
            return self.returncode
        self.stopped = True
        if self.proc.poll() is not None:
            rc = self.proc.returncode
            self._fail("server had already exited with status %r before it was stopped" % rc)
            self.returncode = rc
            return rc
        os.kill(self.proc.pid, sig)
        rc = self.wait(timeout)
        if rc is None:
            self._kill()
            self._fail("server did not exit within %.0fs of %s" % (timeout, sig.name))
            return None
        if expect_rc is not None and rc != expect_rc:
            self._fail("server exit status %r after %s, want %r" % (rc, sig.name, expect_rc))
        elif "AddressSanitizer" in self.stderr_text() or "runtime error:" in self.stderr_text():
            self._fail("sanitizer report in server stderr")
        return rc

    def reap(self, timeout=STOP_TIMEOUT, what="after the signal"):
        """Wait for an exit the test already caused (e.g. by signal()); check status 0 and no
        sanitizer report. Returns the status, or None (and kills the server) on timeout."""
        rc = self.wait(timeout)
        self.stopped = True
        if rc is None:
            self._kill()
            self._fail("server still running %.0fs %s" % (timeout, what))
            return None
        if rc != 0:
            self._fail("server exit status %r %s, want 0" % (rc, what))
        elif "AddressSanitizer" in self.stderr_text() or "runtime error:" in self.stderr_text():
            self._fail("sanitizer report in server stderr")
        return rc

    def _kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        for f in (getattr(self, "_out", None), getattr(self, "_err", None)):
            if f is not None and not f.closed:
                f.close()

    def __enter__(self):
        if self.proc is None:
            self.start()
        return self

    def __exit__(self, et, ev, tb):
        if et is None or et is Fatal:
            self.stop()
        else:
            self._kill()
        return False

    # -- conveniences

    def tls_url(self, path="/"):
        return "https://localhost:%d%s" % (self.tls_port, path)

    def url(self, path="/"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def path(self, rel):
        """Where the file served at /public/REL lives."""
        return os.path.join(self.public, rel)

    def put_file(self, rel, data, mtime=None):
        return write_file(self.path(rel), data, mtime)

    def connect(self, timeout=IO_TIMEOUT):
        return Conn(socket.create_connection(("127.0.0.1", self.port), timeout=timeout))

    def read_access_log(self):
        if not self.access_log or not os.path.exists(self.access_log):
            return ""
        with open(self.access_log, "rb") as f:
            return f.read().decode("utf-8", "replace")


def add_user(binary, data, name, password):
    """`fastfile user add` with cheap Argon2id limits (tests only need the account)."""
    os.makedirs(data, exist_ok=True)
    p = subprocess.run([binary, "user", "add", name, "--data", data, "--argon2-ops", "1",
                        "--argon2-mem", "8"], input=(password + "\n").encode(),
                       capture_output=True, timeout=60)
    require(p.returncode == 0, "user add %s: %s" % (name, p.stderr.decode()))


def start_server(binary, files=None, args=(), **kw):
    """Start a server whose public folder holds files {relpath: bytes}."""
    srv = Server(binary, args=args, **kw)
    for rel, data in (files or {}).items():
        srv.put_file(rel, data)
    return srv.start()


# --------------------------------------------------------------------------------------------
# raw HTTP

class Response:
    def __init__(self, version, status, reason, headers, body=b"", raw_head=b""):
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (name, value) as received
        self.body = body
        self.raw_head = raw_head

    def header(self, name, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return default

    def header_all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    def has(self, name):
        return self.header(name) is not None

    def conn_tokens(self):
        toks = set()
        for v in self.header_all("connection"):
            toks |= {t.strip().lower() for t in v.split(",")}
        return toks

    def __repr__(self):
        return "<%s %d %s, %d body bytes>" % (self.version, self.status, self.reason,
                                              len(self.body))


class Closed(Exception):
    """The peer closed (or reset) the connection before a full response arrived."""


class Conn:
    """A socket with a receive buffer, so pipelined responses can be read one by one."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()
        self.eof = False
        self.reset = False
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()
        return False

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("latin-1")
        self.sock.sendall(data)

    def _fill(self, deadline):
        """Receive more bytes into buf; False at EOF/reset. Raises socket.timeout on deadline."""
        if self.eof:
            return False
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("timed out")
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(1 << 20)
        except (ConnectionResetError, BrokenPipeError):
            self.eof = self.reset = True
            return False
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def read_exact(self, n, timeout=IO_TIMEOUT):
        deadline = time.monotonic() + timeout
        while len(self.buf) < n:
            if not self._fill(deadline):
                raise Closed("connection closed after %d of %d bytes" % (len(self.buf), n))
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def read_until(self, marker, timeout=IO_TIMEOUT, limit=1 << 20):
        deadline = time.monotonic() + timeout
        while True:
            i = self.buf.find(marker)
            if i >= 0:
                out = bytes(self.buf[:i + len(marker)])
                del self.buf[:i + len(marker)]
                return out
            if len(self.buf) > limit:
                raise Closed("no %r within %d bytes" % (marker, limit))
            if not self._fill(deadline):
                raise Closed("connection closed before %r (%d bytes buffered: %r)"
                             % (marker, len(self.buf), bytes(self.buf[:200])))

    def read_head(self, timeout=IO_TIMEOUT):
        raw = self.read_until(b"\r\n\r\n", timeout)
        lines = raw[:-4].split(b"\r\n")
        m = re.match(rb"^(HTTP/\d\.\d) (\d{3})(?: (.*))?$", lines[0])
        if not m:
            raise Closed("bad status line %r" % lines[0])
        headers = []
        for ln in lines[1:]:
            k, sep, v = ln.partition(b":")
            if not sep:
                raise Closed("bad header line %r" % ln)
            headers.append((k.decode("latin-1"), v.strip(b" \t").decode("latin-1")))
        return Response(m.group(1).decode(), int(m.group(2)),
                        (m.group(3) or b"").decode("latin-1"), headers, raw_head=raw)

    def read_response(self, method="GET", timeout=IO_TIMEOUT, allow_1xx=False):
        """Read one full response. Skips 1xx interim responses unless allow_1xx (then they
        are returned). The body is framed by Content-Length, chunked, or close."""
        deadline = time.monotonic() + timeout
        while True:
            r = self.read_head(max(0.01, deadline - time.monotonic()))
            if 100 <= r.status < 200:
                if allow_1xx:
                    return r
                continue
            break
        if method == "HEAD" or r.status in (204, 304):
            return r
        te = r.header("transfer-encoding")
        cl = r.header("content-length")
        if te and "chunked" in te.lower():
            body = bytearray()
            while True:
                line = self.read_until(b"\r\n", max(0.01, deadline - time.monotonic()))
                size = int(line.split(b";")[0].strip(), 16)
                if size == 0:
                    while self.read_until(b"\r\n", max(0.01, deadline - time.monotonic())) \
                            != b"\r\n":
                        pass  # trailer fields
                    break
                body += self.read_exact(size + 2, max(0.01, deadline - time.monotonic()))[:-2]
            r.body = bytes(body)
        elif cl is not None:
            r.body = self.read_exact(int(cl), max(0.01, deadline - time.monotonic()))
        else:
            r.body = self.read_to_close(max(0.01, deadline - time.monotonic()))
        return r

    def read_to_close(self, timeout=IO_TIMEOUT):
        """Everything until EOF; raises socket.timeout if the peer keeps it open."""
        deadline = time.monotonic() + timeout
        while self._fill(deadline):
            pass
        out = bytes(self.buf)
        self.buf.clear()
        return out

    def wait_closed(self, timeout=IO_TIMEOUT):
        """True when the peer closes (EOF or reset) within timeout. Extra bytes are kept in buf."""
        deadline = time.monotonic() + timeout
        try:
            while self._fill(deadline):
                pass
            return True
        except socket.timeout:
            return False

    def request(self, method, path, headers=None, body=b"", version="HTTP/1.1",
                timeout=IO_TIMEOUT):
        self.send(build_request(method, path, headers, body, version))
        return self.read_response(method, timeout)


def build_request(method, path, headers=None, body=b"", version="HTTP/1.1", host=True):
    hs = []
    if host and not any(k.lower() == "host" for k, _ in _items(headers)):
        hs.append(("Host", "127.0.0.1"))
    hs += _items(headers)
    if body and not any(k.lower() in ("content-length", "transfer-encoding")
                        for k, _ in hs):
        hs.append(("Content-Length", str(len(body))))
    head = "%s %s %s\r\n" % (method, path, version)
    head += "".join("%s: %s\r\n" % kv for kv in hs) + "\r\n"
    return head.encode("latin-1") + body


def _items(headers):
    if headers is None:
        return []
    if isinstance(headers, dict):
        return list(headers.items())
    return list(headers)


def read_all_responses(conn, method="GET", timeout=IO_TIMEOUT):
    """Parse responses until the peer closes; returns (responses, trailing garbage, closed)."""
    out = []
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return out, bytes(conn.buf), False
        if not conn.buf:
            try:
                if not conn._fill(deadline):
                    return out, b"", True
            except socket.timeout:
                return out, b"", False
        try:
            out.append(conn.read_response(method, left))
        except Closed:
            return out, bytes(conn.buf), conn.eof
        except socket.timeout:
            return out, bytes(conn.buf), False


# --------------------------------------------------------------------------------------------
# curl

def need_curl():
    if shutil.which("curl") is None:
        skip("the curl program is not installed")


def curl(args, timeout=20, check_rc=True):
    """Run curl with args; returns CompletedProcess (bytes stdout/stderr)."""
    need_curl()
    argv = ["curl", "--silent", "--show-error", "--max-time", str(int(timeout))] + list(args)
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout + 10)
    except subprocess.TimeoutExpired:
        check(False, "curl hung: %s" % " ".join(argv))
        raise Fatal("curl hung")
    if check_rc and p.returncode != 0:
        check(False, "curl exit %d: %s\n%s" % (p.returncode, " ".join(argv),
                                                 p.stderr.decode("utf-8", "replace")[-2000:]))
    return p


def curl_get(url, extra=(), method=None, timeout=20):
    """One transfer with curl. Returns (status, [Response-like header blocks], body bytes).

    The last header block is the final response; earlier ones are 1xx interim responses.
    """
    d = tempdir("ffcurl-")
    hdr, body = os.path.join(d, "h"), os.path.join(d, "b")
    args = ["-D", hdr, "-o", body, "-w", "%{http_code}"]
    if method == "HEAD":
        args.append("--head")
    elif method:
        args += ["-X", method]
    p = curl(args + list(extra) + [url], timeout=timeout)
    blocks = parse_header_dump(open(hdr, "rb").read() if os.path.exists(hdr) else b"")
    data = open(body, "rb").read() if os.path.exists(body) else b""
    shutil.rmtree(d, ignore_errors=True)
    status = int(p.stdout.decode() or "0") if p.stdout.decode().isdigit() else 0
    if method == "HEAD" and blocks:
        data = b""  # curl --head writes headers, not a body, to -o
    return status, blocks, data


def parse_header_dump(raw):
    """Split curl's -D output into Response objects (no bodies)."""
    out = []
    for block in raw.split(b"\r\n\r\n"):
        if not block.strip():
            continue
        lines = block.split(b"\r\n")
        m = re.match(rb"^(HTTP/[\d.]+) (\d{3})(?: (.*))?$", lines[0])
        if not m:
            continue
        hs = []
        for ln in lines[1:]:
            k, sep, v = ln.partition(b":")
            if sep:
                hs.append((k.decode("latin-1"), v.strip().decode("latin-1")))
        out.append(Response(m.group(1).decode(), int(m.group(2)),
                            (m.group(3) or b"").decode("latin-1"), hs))
    return out


# --------------------------------------------------------------------------------------------
# multipart/byteranges

def parse_byteranges(content_type, body):
    """Parse a multipart/byteranges body. Returns [(headers dict lowercased, bytes)]."""
    m = re.search(r'boundary=("?)([^";]+)\1', content_type)
    if not m:
        raise ValueError("no boundary in %r" % content_type)
    b = m.group(2).encode()
    delim = b"--" + b
    parts = []
    pos = body.find(delim)
    if pos < 0:
        raise ValueError("boundary not found in body")
    while True:
        pos += len(delim)
        if body[pos:pos + 2] == b"--":
            break
        if body[pos:pos + 2] != b"\r\n":
            raise ValueError("bad delimiter line at %d" % pos)
        pos += 2
        he = body.find(b"\r\n\r\n", pos)
        if he < 0:
            raise ValueError("unterminated part headers")
        hdrs = {}
        for ln in body[pos:he].split(b"\r\n"):
            k, _, v = ln.partition(b":")
            hdrs[k.strip().lower().decode()] = v.strip().decode()
        start = he + 4
        nxt = body.find(b"\r\n" + delim, start)
        if nxt < 0:
            raise ValueError("unterminated part")
        parts.append((hdrs, body[start:nxt]))
        pos = nxt + 2
    return parts


def wait_until(pred, timeout, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


def port_refuses(port, timeout=1.0):
    """True when a connect to 127.0.0.1:port is refused."""
    s = socket.socket()
    s.settimeout(timeout)
    try:
        s.connect(("127.0.0.1", port))
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
    finally:
        s.close()
    return False


def readable(sock, timeout):
    r, _, _ = select.select([sock], [], [], timeout)
    return bool(r)
