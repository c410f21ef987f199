#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Median table of bench/run.sh results.

report.py RESULTS.tsv [MORE.tsv ...] [--subject fastfile] [--markdown]

Each input line is "server<TAB>workload<TAB>round<TAB>key=value ..." as run.sh writes it;
several files (several runs) may be given and are pooled. Prints, per workload and server,
the median over rounds of req/s, p99 latency and server CPU time per request, with the
spread (max-min)/median of req/s and of CPU/request (for `handshakes` and `resumes` a
request is a connection, so req/s is handshakes/s); the large downloads (tls1g) apart, with
MB/s and server CPU seconds per GiB (up1g, the 1 GiB WebDAV upload, there too); the litmus
counts per server; then the ratios of the subject (fastfile) to each peer:
  req/s x    = subject req/s / peer req/s                 (>1: subject serves more)
  MB/s x     = subject MB/s / peer MB/s                   (tls1g)
  CPU eff x  = peer CPU per request (per GiB for tls1g) / subject's (>1: subject uses less)
  mem eff x  = peer bytes/conn / subject bytes/conn       (>1: subject uses less memory)
and the idle-connection memory per server (RSS and Pss growth per open connection); and,
when the dav workloads ran, the WebDAV targets of issue 5 met or not.
"""
import argparse
import statistics
from collections import defaultdict

LABELS = {
    "get1k": "GET 1 KiB",
    "get1m": "GET 1 MiB",
    "tls1k": "HTTPS GET 1 KiB",
    "handshakes": "full TLS handshakes",
    "resumes": "resumed TLS handshakes",
    "tls1g": "HTTPS 1 GiB download",
    "auth1k": "GET 1 KiB of /dav/ with HTTP Basic",
    "logins": "POST /login (one Argon2id each)",
    "propall": "PROPFIND Depth 1 allprop, 1,000 files",
    "propnamed": "PROPFIND Depth 1, 4 named properties, 1,000 files",
    "put64k": "PUT 64 KiB (replacing)",
    "move": "MOVE (rename)",
    "up1g": "PUT of 1 GiB (curl)",
}

# issue 5's WebDAV targets: (workload, peer, figure, minimum ratio subject/peer)
TARGETS = [("propall", "nginx", "req_s", 1.5), ("propnamed", "nginx", "req_s", 1.5),
           ("put64k", "lighttpd", "req_s", 1.3), ("up1g", "lighttpd", "mb_s", 1.0)]

ap = argparse.ArgumentParser(description="median table of bench/run.sh results")
ap.add_argument("results", nargs="+")
ap.add_argument("--subject", default="fastfile", help="server the ratios are computed for")
ap.add_argument("--markdown", action="store_true", help="Markdown tables (for the README)")
a = ap.parse_args()

data = defaultdict(lambda: defaultdict(list))  # (workload, server) -> key -> [values]
workloads, servers = {}, {}
for path in a.results:
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 4 or line.startswith("#"):
                continue
            srv, wl = parts[0], parts[1]
            workloads.setdefault(wl, None)
            servers.setdefault(srv, None)
            for kv in parts[3].split():
                k, _, v = kv.partition("=")
                try:
                    data[(wl, srv)][k].append(float(v))
                except ValueError:
                    pass


def med(wl, srv, key):
    v = data.get((wl, srv), {}).get(key)
    return statistics.median(v) if v else None


def spread(wl, srv, key):
    v = data.get((wl, srv), {}).get(key)
    m = med(wl, srv, key)
    if not v or len(v) < 2 or not m:
        return "-"
    return f"{100 * (max(v) - min(v)) / m:.0f}%"


def num(x, nd=0):
    if x is None:
        return "-"
    if nd == 0 or abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.{nd}f}"


def ratio(x, y):
    return f"{x / y:.2f}" if x and y else "-"


def table(title, cols, rows):
    if not rows:
        return
    if a.markdown:
        print(f"**{title}**\n")
        print("| " + " | ".join(cols) + " |")
        print("|" + "|".join("---:" if i > 1 else "---" for i in range(len(cols))) + "|")
        for r in rows:
            print("| " + " | ".join(r) + " |")
    else:
        print(title)
        w = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(cols)]
        print("  ".join(c.rjust(w[i]) if i > 1 else c.ljust(w[i]) for i, c in enumerate(cols)))
        for r in rows:
            print("  ".join(x.rjust(w[i]) if i > 1 else x.ljust(w[i]) for i, x in enumerate(r)))
    print()


def is_download(wl):
    return any("cpu_s_gib" in data[(wl, srv)] or wl in ("tls1g", "up1g")
               for srv in servers if (wl, srv) in data)


def is_run(wl):
    return not wl.startswith("idle") and wl != "litmus"


wrk_wls = [w for w in workloads if is_run(w) and not is_download(w)]
dl_wls = [w for w in workloads if is_run(w) and is_download(w)]
idle_wls = [w for w in workloads if w.startswith("idle")]

rows = []
for wl in wrk_wls:
    for srv in servers:
        d = data.get((wl, srv))
        if not d:
            continue
        if not d.get("req_s"):
            rows.append([wl, srv, "0", "FAILED"] + [""] * 8)
            continue
        errs = sum(d.get("errors", [])) + sum(d.get("non2xx", []))
        rows.append([wl, srv, str(len(d["req_s"])), num(med(wl, srv, "req_s")),
                     spread(wl, srv, "req_s"), num(med(wl, srv, "p99_ms"), 2),
                     num(med(wl, srv, "cpu_us_req"), 1), spread(wl, srv, "cpu_us_req"),
                     num(med(wl, srv, "cpu_pct")), num(med(wl, srv, "client_cpu_pct")),
                     num(med(wl, srv, "mb_s"), 0), f"{errs:.0f}" + (" !" if errs else "")])
table("Throughput (medians over rounds; spread = (max-min)/median; CPU % = the server's,"
      " client % = wrk's)",
      ["workload", "server", "runs", "req/s", "spread", "p99 ms", "CPU us/req", "spread",
       "CPU %", "client %", "MB/s", "errors"], rows)

rows = []
for wl in dl_wls:
    for srv in servers:
        d = data.get((wl, srv))
        if not d:
            continue
        if not d.get("mb_s"):
            rows.append([wl, srv, "0", "FAILED"] + [""] * 6)
            continue
        errs = sum(d.get("errors", []))
        rows.append([wl, srv, str(len(d["mb_s"])), num(med(wl, srv, "mb_s")),
                     spread(wl, srv, "mb_s"), num(med(wl, srv, "cpu_s_gib"), 3),
                     spread(wl, srv, "cpu_s_gib"), num(med(wl, srv, "cpu_pct")),
                     num(med(wl, srv, "client_cpu_pct")), f"{errs:.0f}" + (" !" if errs else "")])
table("Single large transfers, tls1g downloads and up1g uploads (medians over rounds;"
      " MB/s over the transfer time; client % = curl's CPU)",
      ["workload", "server", "runs", "MB/s", "spread", "CPU s/GiB", "spread", "CPU %",
       "client %", "errors"], rows)

rows = []
for wl in idle_wls:
    for srv in servers:
        d = data.get((wl, srv))
        if not d:
            continue
        rows.append([wl, srv, num(med(wl, srv, "open")), num(med(wl, srv, "failed")),
                     num(med(wl, srv, "rss_b_conn")), num(med(wl, srv, "pss_b_conn")),
                     num((med(wl, srv, "rss_kb") or 0) / 1024, 1),
                     num((med(wl, srv, "rss0_kb") or 0) / 1024, 1)])
table("Idle keep-alive connections (memory growth of the server's process tree)",
      ["workload", "server", "open", "failed", "RSS B/conn", "Pss B/conn", "RSS MiB",
       "base MiB"], rows)

rows = []
for srv in servers:
    d = data.get(("litmus", srv))
    if not d:
        continue
    done, asked = med("litmus", srv, "suites"), med("litmus", srv, "suites_asked")
    rows.append([srv, num(med("litmus", srv, "passed")), num(med("litmus", srv, "failed")),
                 num(med("litmus", srv, "warnings")), num(med("litmus", srv, "skipped")),
                 f"{num(done)} of {num(asked)}"])
table("litmus (tests passed, failed, warnings, skipped; suites that finished)",
      ["server", "passed", "failed", "warnings", "skipped", "suites"], rows)

s = a.subject
rows = []
for wl in wrk_wls:
    for srv in servers:
        if srv == s or (wl, srv) not in data or (wl, s) not in data:
            continue
        rows.append([wl, f"{s} vs {srv}",
                     ratio(med(wl, s, "req_s"), med(wl, srv, "req_s")), "-",
                     ratio(med(wl, srv, "cpu_us_req"), med(wl, s, "cpu_us_req")),
                     ratio(med(wl, srv, "p99_ms"), med(wl, s, "p99_ms")), "-"])
for wl in dl_wls:
    for srv in servers:
        if srv == s or (wl, srv) not in data or (wl, s) not in data:
            continue
        rows.append([wl, f"{s} vs {srv}", "-",
                     ratio(med(wl, s, "mb_s"), med(wl, srv, "mb_s")),
                     ratio(med(wl, srv, "cpu_s_gib"), med(wl, s, "cpu_s_gib")), "-", "-"])
for wl in idle_wls:
    for srv in servers:
        if srv == s or (wl, srv) not in data or (wl, s) not in data:
            continue
        rows.append([wl, f"{s} vs {srv}", "-", "-", "-", "-",
                     ratio(med(wl, srv, "rss_b_conn"), med(wl, s, "rss_b_conn"))])
table(f"Ratios, >1 = {s} better: req/s x, MB/s x = {s}/peer; CPU eff x = peer CPU per"
      f" request (per GiB) / {s}'s;\n  p99 x = peer p99 / {s}'s;"
      f" mem eff x = peer RSS per idle connection / {s}'s",
      ["workload", "pair", "req/s x", "MB/s x", "CPU eff x", "p99 x", "mem eff x"], rows)
if s not in servers:
    print(f"({s} has no results: no ratios)")
elif ("auth1k", s) in data and ("get1k", s) in data:
    # The signed-in path against the public one, same server, same run.
    print(f"\n{s} auth1k / get1k: req/s x {ratio(med('auth1k', s, 'req_s'), med('get1k', s, 'req_s'))},"
          f" CPU eff x {ratio(med('get1k', s, 'cpu_us_req'), med('auth1k', s, 'cpu_us_req'))}")

rows = []
for wl, peer, key, want in TARGETS:
    x, y = med(wl, s, key), med(wl, peer, key)
    if x is None or y is None:
        continue
    got = x / y if y else 0
    rows.append([wl, f"{s} vs {peer}", "MB/s" if key == "mb_s" else "req/s", f"{got:.2f}",
                 f">= {want:.1f}", "yes" if got >= want else "NO"])
if rows:
    print()
    table("Targets of issue 5 (ratio of medians)", ["workload", "pair", "figure", "ratio",
          "target", "met"], rows)
