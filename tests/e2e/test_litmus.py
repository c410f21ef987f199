# SPDX-License-Identifier: MIT
"""litmus, the WebDAV compliance suite (Debian package), against /dav/ over HTTPS with Basic auth.

Every suite (basic, copymove, props, locks, http) must report 0 failures; warnings are printed
for the record. litmus runs in a temporary folder (it writes debug.log there), which is kept in
the output on failure so the exchange can be read.
"""

import os
import re
import shutil
import subprocess

import ffharness as h

SUITES = ["basic", "copymove", "props", "locks", "http"]
SUMMARY_RE = re.compile(r"<- summary for `(\w+)': of (\d+) tests run: (\d+) passed, (\d+) failed")
WARN_RE = re.compile(r"WARNING: (.*)")


def run(binary):
    h.require(shutil.which("litmus"), "litmus is not installed")
    srv = h.Server(binary)
    h.add_user(binary, srv.data, "alice", "alice-litmus-pw")
    with srv.start():
        url = "https://127.0.0.1:%d/dav/" % srv.tls_port
        work = os.path.join(srv.root, "litmus")
        os.makedirs(work)
        env = dict(os.environ, TESTS=" ".join(SUITES))
        p = subprocess.run(["litmus", url, "alice", "alice-litmus-pw"], cwd=work, env=env,
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=600)
        out = p.stdout.decode("utf-8", "replace")
        h.log(out)
        seen = {}
        for m in SUMMARY_RE.finditer(out):
            seen[m.group(1)] = (int(m.group(2)), int(m.group(3)), int(m.group(4)))
        for s in SUITES:
            if not h.check(s in seen, "litmus suite %s ran to its summary" % s):
                continue
            run_n, passed, failed = seen[s]
            h.check(failed == 0, "litmus %s: %d of %d failed" % (s, failed, run_n))
        warnings = WARN_RE.findall(out)
        h.log("litmus: %s; %d warnings" % (
            ", ".join("%s %d/%d" % (s, seen[s][1], seen[s][0]) for s in SUITES if s in seen),
            len(warnings)))
        if h.failed():
            log = os.path.join(work, "debug.log")
            if os.path.exists(log):
                with open(log, "rb") as f:
                    tail = f.read()[-20000:].decode("utf-8", "replace")
                h.log("--- debug.log (tail) ---\n" + tail)
            h.log("--- server stderr ---\n" + srv.stderr_tail())
        srv.stop()


if __name__ == "__main__":
    h.main(run)
