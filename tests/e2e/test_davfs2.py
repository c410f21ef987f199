# SPDX-License-Identifier: MIT
"""davfs2 mounts /dav/ over HTTPS (trusting the server's own certificate, as users mount it) and
is used like a disk. Mount #1: a file written through the mount shows up in DATA/files/alice (so
the mount really is this server), then a tree of nested folders with a few hundred small files
and two larger ones (names with spaces, UTF-8 and URL-special characters) is copied in. Mount #2
(fresh cache, uploads delayed until umount, so changed files stay locked on the server): files
are edited in place (append, overwrite a part, truncate shorter, to zero and longer), a changed
file is renamed into another folder, a folder is renamed while a file inside is open for
writing (davfs2's MOVE carries that lock's token), a file and a folder holding a changed file
are deleted. Mount #3 (fresh cache) reads everything back. After each umount (which waits for
the uploads) the server's disk, and the mounts, hold exactly the expected names and contents;
at the end no lock is left and the access log has no 5xx.

Runs as root (mount.davfs as root, its daemon as user davfs2) with a private davfs2.conf,
secrets file and cache folders inside the test's temp folder; nothing under /etc is touched.
See ../shared/docs/clients.md for the davfs2 quirks this relies on (buf_size, cache owner)."""

import contextlib
import grp
import hashlib
import os
import random
import shutil
import signal
import subprocess
import threading
import time

import ffharness as h

USER, PASSWORD = "alice", "alice-davfs2-pw"
MOUNT_TIMEOUT = 30
# umount waits until davfs2 has uploaded every changed file (here up to ~40 MiB over TLS).
UMOUNT_TIMEOUT = 60
# Everything done through one mount (a syscall on a wedged FUSE mount cannot be timed out).
OPS_TIMEOUT = 60
BACKUP_DIR = "lost+found"  # davfs2's local folder for files it failed to upload

UNUSUAL = ["100% sure #1.txt", "a&b+c=d.txt", "it's (1) [x] {y}.txt", "semi;colon,comma.txt"]


def make_tree(rnd):
    """The tree to copy in: {relpath: bytes} for files and a set of folders."""
    dirs = ["docs", "docs/2024", "docs/2024/q1 report", "photos été", "photos été/raw",
            "日本語 フォルダ", "src", "src/lib", "src/lib/deep", "src/lib/deep/er",
            "to delete", "to delete/inner", "empty folder", "media"]
    files = {}
    n = 0
    for d in dirs:
        if d in ("empty folder", "media"):
            continue
        for _ in range(24):
            name = rnd.choice(["f%03d.txt", "note %03d.md", "données-%03d.bin", "файл_%03d",
                               "🙂 %03d.txt"]) % n
            files[d + "/" + name] = rnd.randbytes(rnd.choice([0, 1, 17, 512, 4096, 20000]))
            n += 1
    for i, name in enumerate(UNUSUAL):
        files["docs/" + name] = ("unusual %d\n" % i).encode() * 50
    files["top level.txt"] = b"at the top\n"
    files["media/vidéo one.bin"] = rnd.randbytes(8 << 20)
    files["media/big two.bin"] = rnd.randbytes(20 << 20) + b"end"
    # fixed names the edits below work on
    files["docs/append me.txt"] = b"first line\n"
    files["docs/patch me.bin"] = rnd.randbytes(300000)
    files["src/lib/deep/er/shorten me.txt"] = b"0123456789" * 1000
    files["src/lib/deep/er/empty me.txt"] = b"will be emptied\n"
    files["src/lib/deep/er/extend me.txt"] = b"short"
    files["docs/old name.txt"] = b"a file to rename\n" * 3
    files["photos été/raw/inside renamed folder.txt"] = b"kept across the folder rename\n"
    files["docs/remove me.txt"] = b"gone soon\n"
    files["to delete/inner/deep file.txt"] = b"gone with its folder\n"
    return files, set(dirs)


def dirs_of(files, dirs):
    """All folders implied by the file paths, plus the explicit (possibly empty) ones."""
    out = set(dirs)
    for rel in files:
        parts = rel.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            out.add("/".join(parts[:i]))
    return out


def snapshot(root, skip_top=()):
    """({relpath: sha256 hex} of files, set of folders) under root; no symlinks or others."""
    files, dirs, odd = {}, set(), []
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        rel_dir = "" if rel_dir == "." else rel_dir
        if not rel_dir:
            dirnames[:] = [d for d in dirnames if d not in skip_top]
        for d in dirnames:
            p = os.path.join(dirpath, d)
            if os.path.islink(p):
                odd.append(p)
            dirs.add(os.path.join(rel_dir, d) if rel_dir else d)
        for f in filenames:
            p = os.path.join(dirpath, f)
            rel = os.path.join(rel_dir, f) if rel_dir else f
            if not os.path.isfile(p) or os.path.islink(p):
                odd.append(rel)
                continue
            hs = hashlib.sha256()
            with open(p, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    hs.update(chunk)
            files[rel] = hs.hexdigest()
    return files, dirs, odd


def compare(where, got, files, dirs):
    gfiles, gdirs, odd = got
    want = {rel: hashlib.sha256(data).hexdigest() for rel, data in files.items()}
    wdirs = dirs_of(files, dirs)
    h.check(not odd, "%s: only plain files and folders: %r" % (where, odd[:10]))
    missing = sorted(set(want) - set(gfiles))
    extra = sorted(set(gfiles) - set(want))
    differ = sorted(r for r in want if r in gfiles and gfiles[r] != want[r])
    h.check(not missing, "%s: %d file(s) missing: %r" % (where, len(missing), missing[:10]))
    h.check(not extra, "%s: %d unexpected file(s): %r" % (where, len(extra), extra[:10]))
    h.check(not differ, "%s: %d file(s) with wrong content: %r" % (where, len(differ),
                                                                    differ[:10]))
    h.check_eq(sorted(gdirs), sorted(wdirs), "%s: folders" % where)
    if not (missing or extra or differ) and gdirs == wdirs:
        h.log("%s: %d files and %d folders as expected" % (where, len(want), len(wdirs)))


def bounded(what, fn, timeout=OPS_TIMEOUT):
    """Run fn in a thread; on timeout fail and abort, so the cleanups unmount (lazily) and stop
    the daemon, which also wakes the thread out of a syscall stuck on the mount."""
    box = {}

    def body():
        try:
            box["value"] = fn()
        except BaseException as e:  # re-raised in the caller
            box["error"] = e
    t = threading.Thread(target=body, daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        h.check(False, "%s: still running after %ds" % (what, timeout))
        raise h.Fatal(what)
    if "error" in box:
        raise box["error"]
    return box.get("value")


def mounted(mnt):
    with open("/proc/self/mountinfo", "rb") as f:
        for line in f:
            if line.split()[4].decode("unicode_escape") == mnt:
                return True
    return False


class Davfs:
    """One davfs2 mount of URL at MNT with its own conf, secrets and fresh cache folder."""

    def __init__(self, base, url, cert):
        self.base, self.url, self.cert = base, url, cert
        self.mnt = os.path.join(base, "mnt")
        os.makedirs(self.mnt, exist_ok=True)
        self.secrets = os.path.join(base, "secrets")
        with open(self.secrets, "w") as f:
            f.write('"%s" %s "%s"\n' % (url, USER, PASSWORD))
        os.chmod(self.secrets, 0o600)
        self.n = 0
        self.pid = None
        self.up = False

    def pidfile(self):
        return "/var/run/mount.davfs/%s.pid" % self.mnt.strip("/").replace("/", "-")

    def mount(self, delay_upload=0):
        """delay_upload: seconds davfs2 waits after a close before it uploads the file."""
        self.n += 1
        cache = os.path.join(self.base, "cache%d" % self.n)
        os.makedirs(cache)
        # The daemon runs as davfs2 and must write its cache (clients.md).
        os.chown(cache, 0, grp.getgrnam("davfs2").gr_gid)
        os.chmod(cache, 0o775)
        conf = os.path.join(self.base, "davfs2-%d.conf" % self.n)
        with open(conf, "w") as f:
            f.write("secrets %s\n" % self.secrets)
            f.write("cache_dir %s\n" % cache)
            f.write("trust_server_cert %s\n" % self.cert)
            f.write("buf_size 64\n")  # kernels >= 6.16 (clients.md)
            f.write("ask_auth 0\n")
            f.write("delay_upload %d\n" % delay_upload)
        p = subprocess.run(["mount.davfs", "-o", "conf=" + conf, self.url, self.mnt],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=MOUNT_TIMEOUT)
        out = (p.stdout + p.stderr).decode("utf-8", "replace")
        self.up = mounted(self.mnt)
        h.require(p.returncode == 0 and self.up,
                  "mount.davfs #%d: exit %d, mounted %s\n%s" % (self.n, p.returncode,
                                                                 self.up, out))
        # The daemon writes its pid file a moment after mount.davfs returns.
        h.check(h.wait_until(self.read_pid, 10), "pid file %s of mount #%d" % (
            self.pidfile(), self.n))
        h.log("mount #%d up (daemon pid %s)" % (self.n, self.pid))

    def read_pid(self):
        try:
            with open(self.pidfile()) as f:
                self.pid = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            self.pid = None
        return self.pid is not None

    def umount(self):
        """The normal unmount; it returns once davfs2 has uploaded everything."""
        t0 = time.monotonic()
        p = subprocess.run(["umount", self.mnt], stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=UMOUNT_TIMEOUT)
        self.up = mounted(self.mnt)
        h.require(p.returncode == 0 and not self.up,
                  "umount #%d: exit %d, still mounted %s\n%s" % (
                      self.n, p.returncode, self.up,
                      (p.stdout + p.stderr).decode("utf-8", "replace")))
        h.require(h.wait_until(lambda: not self.daemon_alive(), 20),
                  "mount.davfs #%d exited after umount" % self.n)
        self.pid = None
        h.log("umount #%d took %.1fs" % (self.n, time.monotonic() - t0))

    def daemon_alive(self):
        if self.pid is None:
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def cleanup(self):
        """Leave no mount and no daemon behind, whatever state the test stopped in."""
        for argv, timeout in ((["umount"], 20), (["umount", "-l"], 10)):
            if mounted(self.mnt):
                if "-l" in argv:
                    h.log("cleanup: lazy unmount of %s" % self.mnt)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    subprocess.run(argv + [self.mnt], stdin=subprocess.DEVNULL,
                                   capture_output=True, timeout=timeout)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if not h.wait_until(lambda: not self.daemon_alive(), 10):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, sig)
        if self.pid is not None and h.wait_until(lambda: not self.daemon_alive(), 5):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.pidfile())  # left behind by a killed daemon
        self.pid = None
        if mounted(self.mnt):
            h.log("cleanup: %s is STILL mounted" % self.mnt)

    def backups(self):
        """What davfs2 put in its lost+found (files it could not upload)."""
        p = os.path.join(self.mnt, BACKUP_DIR)
        return sorted(os.listdir(p)) if os.path.isdir(p) else []


def copy_in(mnt, files, dirs):
    for d in sorted(dirs):
        os.makedirs(os.path.join(mnt, d), exist_ok=True)
    for rel, data in files.items():
        path = os.path.join(mnt, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)


def edit(mnt, files, dirs):
    """Change the tree through the mount and apply the same change to the expectation."""
    def p(rel):
        return os.path.join(mnt, rel)

    with open(p("docs/append me.txt"), "ab") as f:
        f.write(b"second line\n")
    files["docs/append me.txt"] += b"second line\n"

    with open(p("docs/patch me.bin"), "r+b") as f:
        f.seek(100000)
        f.write(b"P" * 5000)
    d = files["docs/patch me.bin"]
    files["docs/patch me.bin"] = d[:100000] + b"P" * 5000 + d[105000:]

    with open(p("media/big two.bin"), "r+b") as f:  # a part of a large file
        f.seek(5 << 20)
        f.write(b"patched in the middle")
    d = files["media/big two.bin"]
    files["media/big two.bin"] = d[:5 << 20] + b"patched in the middle" + d[(5 << 20) + 21:]

    os.truncate(p("src/lib/deep/er/shorten me.txt"), 1234)
    files["src/lib/deep/er/shorten me.txt"] = files["src/lib/deep/er/shorten me.txt"][:1234]
    with open(p("src/lib/deep/er/empty me.txt"), "r+b") as f:
        f.truncate(0)
    files["src/lib/deep/er/empty me.txt"] = b""
    os.truncate(p("src/lib/deep/er/extend me.txt"), 3000)
    files["src/lib/deep/er/extend me.txt"] = b"short".ljust(3000, b"\0")

    # Changed, so locked and waiting for its upload, then moved to another folder.
    with open(p("docs/old name.txt"), "ab") as f:
        f.write(b"changed before the rename\n")
    files["docs/old name.txt"] += b"changed before the rename\n"
    os.rename(p("docs/old name.txt"), p("docs/2024/new näme.txt"))
    files["docs/2024/new näme.txt"] = files.pop("docs/old name.txt")

    # The folder is renamed while a file inside is open for writing, so locked on the server:
    # davfs2's MOVE of the folder carries that lock's token in an If header.
    with open(p("photos été/raw/inside renamed folder.txt"), "ab") as f:
        f.write(b"written before the folder rename\n")
        f.flush()
        os.rename(p("photos été"), p("photos 2024 été"))
        f.write(b"written after it\n")
    files["photos été/raw/inside renamed folder.txt"] += (b"written before the folder rename\n"
                                                         b"written after it\n")
    for rel in [r for r in files if r.startswith("photos été/")]:
        files["photos 2024 été/" + rel[len("photos été/"):]] = files.pop(rel)
    for d in [d for d in dirs if d == "photos été" or d.startswith("photos été/")]:
        dirs.discard(d)
        dirs.add("photos 2024 été" + d[len("photos été"):])

    os.unlink(p("docs/remove me.txt"))
    del files["docs/remove me.txt"]
    # A folder whose member is changed (locked, upload pending) is deleted.
    with open(p("to delete/inner/deep file.txt"), "ab") as f:
        f.write(b"changed before the delete\n")
    shutil.rmtree(p("to delete"))
    for rel in [r for r in files if r.startswith("to delete/")]:
        del files[rel]
    for d in [d for d in dirs if d == "to delete" or d.startswith("to delete/")]:
        dirs.discard(d)

    os.makedirs(p("new after remount/sub"))
    with open(p("new after remount/sub/fresh ✓.txt"), "wb") as f:
        f.write(b"made in the second mount\n")
    files["new after remount/sub/fresh ✓.txt"] = b"made in the second mount\n"
    dirs.update({"new after remount", "new after remount/sub"})


def access_summary(srv):
    """Access log lines with a 5xx status, a count of each 4xx, and of each method."""
    bad, fours, methods = [], {}, {}
    for line in srv.read_access_log().splitlines():
        parts = line.split()
        if len(parts) < 5 or not parts[4].isdigit():
            continue
        st = int(parts[4])
        methods[parts[2]] = methods.get(parts[2], 0) + 1
        if st >= 500:
            bad.append(line)
        elif st >= 400:
            key = "%s %d" % (parts[2], st)
            fours[key] = fours.get(key, 0) + 1
    return bad, fours, methods


def check_mounts(dav, tree, files, dirs):
    """Three mounts, each with a fresh cache: copy in; edit; read back. After each unmount the
    server's disk must hold the expected tree."""
    dav.mount()
    marker = b"written through davfs2\n"

    def write_marker():
        with open(os.path.join(dav.mnt, "marker.txt"), "wb") as f:
            f.write(marker)
    bounded("write marker", write_marker)
    on_disk = os.path.join(tree, "marker.txt")

    def marker_arrived():
        try:
            with open(on_disk, "rb") as f:
                return f.read() == marker
        except OSError:
            return False
    h.require(h.wait_until(marker_arrived, 30),
              "a file written through the mount appears in DATA/files/%s: the mount really "
              "is this server" % USER)
    files["marker.txt"] = marker
    t0 = time.monotonic()
    bounded("copy the tree in", lambda: copy_in(dav.mnt, files, dirs))
    h.log("copied in %.1fs (before the upload finished)" % (time.monotonic() - t0))
    h.check_eq(bounded("list lost+found", dav.backups), [],
               "davfs2 kept no file it failed to upload (mount #1)")
    dav.umount()
    compare("server disk after the copy", snapshot(tree), files, dirs)

    # The edits stay in the cache (and their files locked) until umount uploads them.
    dav.mount(delay_upload=600)
    compare("mount #2 (fresh cache) before the edits",
            bounded("read the tree", lambda: snapshot(dav.mnt, (BACKUP_DIR,))), files, dirs)
    bounded("edit", lambda: edit(dav.mnt, files, dirs))
    compare("mount #2 after the edits",
            bounded("read the tree", lambda: snapshot(dav.mnt, (BACKUP_DIR,))), files, dirs)
    h.check_eq(bounded("list lost+found", dav.backups), [],
               "davfs2 kept no file it failed to upload (mount #2)")
    dav.umount()
    compare("server disk after the edits", snapshot(tree), files, dirs)

    dav.mount()
    compare("mount #3 (fresh cache)",
            bounded("read the tree", lambda: snapshot(dav.mnt, (BACKUP_DIR,))), files, dirs)
    dav.umount()


def run(binary):
    if os.geteuid() != 0:
        h.skip("davfs2 mounts need root")
    h.require(shutil.which("mount.davfs"), "mount.davfs (package davfs2) is not installed")
    h.require(os.path.exists("/dev/fuse"), "/dev/fuse is missing")
    h.require(grp.getgrnam("davfs2"), "group davfs2 is missing")

    srv = h.Server(binary)
    h.add_user(binary, srv.data, USER, PASSWORD)
    # The daemon (user davfs2) must reach the certificate, cache and mount point.
    base = h.tempdir("ffdavfs-")
    os.chmod(base, 0o711)
    tree = os.path.join(srv.data, "files", USER)
    rnd = random.Random(2)
    files, dirs = make_tree(rnd)
    h.log("tree: %d files (%.1f MiB), %d folders" % (
        len(files), sum(map(len, files.values())) / (1 << 20), len(dirs_of(files, dirs))))

    with srv.start():
        cert = os.path.join(base, "cert.pem")
        shutil.copyfile(srv.cert, cert)
        os.chmod(cert, 0o644)
        dav = Davfs(base, "https://localhost:%d/dav/" % srv.tls_port, cert)
        h.add_cleanup(dav.cleanup)

        try:
            check_mounts(dav, tree, files, dirs)
        finally:
            dav.cleanup()  # before the server stops

        # Every lock davfs2 took is gone (unlocked, or dropped by the MOVE of its folder).
        st, _, body = h.curl_get(
            srv.tls_url("/dav/"), method="PROPFIND", extra=[
                "--cacert", srv.cert, "-u", "%s:%s" % (USER, PASSWORD), "-H", "Depth: infinity",
                "--data", '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop>'
                          '<D:lockdiscovery/></D:prop></D:propfind>'])
        h.check_eq(st, 207, "PROPFIND Depth: infinity of /dav/ for lockdiscovery")
        h.check_eq(body.count(b"<D:response>"), len(files) + len(dirs_of(files, dirs)) + 1,
                   "responses in the lockdiscovery PROPFIND")
        h.check(b"activelock" not in body, "davfs2 left no lock behind")

        bad, fours, methods = access_summary(srv)
        h.log("requests: %r; 4xx answers: %r" % (methods, fours))
        h.check(not bad, "no 5xx in the access log:\n" + "\n".join(bad[:20]))
        h.check(methods.get("MOVE", 0) >= 2, "the renames reached the server as MOVE")
        h.check(not os.listdir(os.path.join(srv.data, "tmp")),
                "nothing left in the staging folder")
        srv.stop()


if __name__ == "__main__":
    h.main(run)
