-- SPDX-License-Identifier: MIT
-- wrk script for bench/run.sh: plain GET of the URL on the command line (wrk's default
-- request), and a `done` hook printing one machine-readable line that run.sh parses:
--   WRK requests=N duration_us=N bytes=N p50_us=N p90_us=N p99_us=N p999_us=N max_us=N
--       errors=N non2xx=N
-- errors counts connect/read/write failures and timeouts; non2xx counts replies whose
-- status was not 2xx or 3xx (wrk's "status" errors).
function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "WRK requests=%d duration_us=%d bytes=%d p50_us=%d p90_us=%d p99_us=%d " ..
        "p999_us=%d max_us=%d errors=%d non2xx=%d\n",
        summary.requests, summary.duration, summary.bytes,
        latency:percentile(50), latency:percentile(90), latency:percentile(99),
        latency:percentile(99.9), latency.max,
        e.connect + e.read + e.write + e.timeout, e.status))
end
