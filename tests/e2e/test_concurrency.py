#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""1,000 concurrent connections, each doing 10 keep-alive requests: all 10,000 responses are
200 with the right bytes, and the server still answers afterwards."""
import asyncio
import os
import time

from ffharness import Server, check, check_eq, main, raise_nofile, skip

N_CONN = 1000
N_REQ = 10
DEADLINE = 150


async def one_conn(i, port, files, names, ready, go, stats):
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError as e:
        stats["connect_err"].append(repr(e))
        ready.release()
        return
    ready.release()
    await go.wait()
    try:
        for j in range(N_REQ):
            name = names[(i + j) % len(names)]
            method = "HEAD" if (i + j) % 13 == 0 else "GET"
            writer.write(("%s /public/%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                          % (method, name)).encode())
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            status = int(lines[0].split()[1])
            cl = None
            for ln in lines[1:]:
                k, _, v = ln.partition(b":")
                if k.strip().lower() == b"content-length":
                    cl = int(v.strip())
            body = b""
            if method == "GET" and cl:
                body = await reader.readexactly(cl)
            ok = status == 200 and cl == len(files[name]) and (
                method == "HEAD" or body == files[name])
            if ok:
                stats["ok"] += 1
            else:
                stats["bad"].append((i, j, name, status, cl, len(body)))
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as e:
        stats["io_err"].append("conn %d: %r" % (i, e))
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except OSError:
            pass


async def run(port, files):
    names = sorted(files)
    stats = {"ok": 0, "bad": [], "io_err": [], "connect_err": []}
    ready = asyncio.Semaphore(0)
    go = asyncio.Event()
    tasks = [asyncio.ensure_future(one_conn(i, port, files, names, ready, go, stats))
             for i in range(N_CONN)]
    t0 = time.monotonic()
    for _ in range(N_CONN):
        await ready.acquire()
    t_connected = time.monotonic() - t0
    go.set()  # all 1,000 are open before anyone sends
    await asyncio.gather(*tasks)
    return stats, t_connected, time.monotonic() - t0


def test(binary):
    limit = raise_nofile(N_CONN * 2 + 200)
    if limit < N_CONN + 100:
        skip("RLIMIT_NOFILE is %d, need %d for %d connections" % (limit, N_CONN + 100, N_CONN))
    srv = Server(binary, args=["--access-log", "off"])
    files = {"s.txt": b"small\n", "k4.bin": os.urandom(4096), "k64.bin": os.urandom(65536),
             "k200.bin": os.urandom(200000), "e.txt": b""}
    for k, v in files.items():
        srv.put_file(k, v)
    with srv.start():
        loop = asyncio.new_event_loop()
        try:
            stats, tc, tt = loop.run_until_complete(
                asyncio.wait_for(run(srv.port, files), DEADLINE))
        finally:
            loop.close()
        print("connected %d in %.2fs, all done in %.2fs" % (N_CONN, tc, tt), flush=True)
        check_eq(stats["connect_err"][:5], [], "connect errors (%d)" % len(stats["connect_err"]))
        check_eq(stats["io_err"][:5], [], "I/O errors (%d)" % len(stats["io_err"]))
        check_eq(stats["bad"][:5], [], "bad responses (%d)" % len(stats["bad"]))
        check_eq(stats["ok"], N_CONN * N_REQ, "good responses")
        check(srv.alive(), "server died under load")

        with srv.connect() as c:
            r = c.request("GET", "/public/k64.bin")
            check(r.status == 200 and r.body == files["k64.bin"], "GET after the load: %r" % r)


if __name__ == "__main__":
    main(test)
