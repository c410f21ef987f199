#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/run.sh: fastfile next to nginx and lighttpd on static GETs and idle connections.
#
# usage: bash bench/run.sh        (after building fastfile; see bench/README.md)
#
# Serves one generated tree (a 1 KiB and a 1 MiB file of random bytes) from fastfile, nginx
# and lighttpd, each with one worker pinned to CPU $SERVER_CPU, and loads them with wrk pinned
# to CPU $LOADGEN_CPU: GET 1 KiB over 64 keep-alive connections and GET 1 MiB over 16, the
# servers back to back, $ROUNDS rounds. Each run records req/s, p99 latency and the CPU time
# the server's process tree used per request. Then each server is restarted fresh and holds
# $IDLE_N idle keep-alive connections; its memory growth per connection is recorded. Prints a
# table of medians and fastfile/peer ratios (bench/report.py).
#
# environment (defaults in brackets):
#   FASTFILE      fastfile binary [./build/fastfile]; set it empty to skip fastfile
#   SERVERS       servers to run ["fastfile nginx lighttpd"]
#   WORKLOADS     wrk workloads ["get1k get1m"]
#   DURATION      seconds per wrk run [10]         WARMUP   seconds of wrk before each run [1]
#   ROUNDS        rounds [3]                       WRK_THREADS  wrk threads [1]
#   IDLE_N        idle connections, 0 to skip [5000]
#   IDLE_GET      1: one GET on each idle connection before it idles, 0: connect only [1]
#   SERVER_CPU    CPU for the servers [0]          LOADGEN_CPU  CPU for wrk / the client [1]
#   BASE_PORT     fastfile listens here, nginx on +1, lighttpd on +2 [18480]
#   BENCH_OUT     directory to keep results.tsv, table.txt, table.md and server logs [none]
#   NGINX_BIN / LIGHTTPD_BIN   peer binaries [found on PATH and in /usr/sbin]
# Requires wrk, python3, curl and taskset; nginx (nginx-light) and lighttpd are skipped with a
# warning when missing. Installs nothing, never touches /etc or system services, stops only
# the processes it started (by PID) and removes its temporary directory on exit.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
. "$HERE/lib.sh"

FASTFILE=${FASTFILE-$TOP/build/fastfile}
SERVERS=${SERVERS:-"fastfile nginx lighttpd"}
WORKLOADS=${WORKLOADS:-"get1k get1m"}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-1}
ROUNDS=${ROUNDS:-3}
WRK_THREADS=${WRK_THREADS:-1}
IDLE_N=${IDLE_N:-5000}
IDLE_GET=${IDLE_GET:-1}
SERVER_CPU=${SERVER_CPU:-0}
LOADGEN_CPU=${LOADGEN_CPU:-1}
BASE_PORT=${BASE_PORT:-18480}
BENCH_OUT=${BENCH_OUT:-}

case $FASTFILE in /*|'') ;; *) FASTFILE=$PWD/$FASTFILE ;; esac
. "$HERE/peers/peers.sh"

need wrk wrk
need python3 python3
need curl curl
need taskset util-linux
ncpu=$(nproc)
if [ "$SERVER_CPU" -ge "$ncpu" ] || [ "$LOADGEN_CPU" -ge "$ncpu" ]; then
    die "SERVER_CPU=$SERVER_CPU / LOADGEN_CPU=$LOADGEN_CPU: this machine has $ncpu CPUs"
fi
[ "$SERVER_CPU" != "$LOADGEN_CPU" ] || warn "server and load generator share CPU $SERVER_CPU"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null ||
    warn "could not raise the open-file limit (now $(ulimit -n))"

BENCH_PIDS=()
TMP=$(mktemp -d /tmp/fastfile-bench.XXXXXX) || die "mktemp failed"
cleanup() {
    local pid
    for pid in "${BENCH_PIDS[@]}"; do stop_pid "$pid"; done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

DATA=$TMP/data
FILES=$DATA/files
RUNTIME=$TMP/run
RESULTS=$TMP/results.tsv
mkdir -p "$FILES" "$RUNTIME"
head -c 1024 /dev/urandom >"$FILES/1k.bin"
head -c 1048576 /dev/urandom >"$FILES/1m.bin"

port_of() {
    case $1 in fastfile) echo "$BASE_PORT" ;; nginx) echo $((BASE_PORT + 1)) ;;
    lighttpd) echo $((BASE_PORT + 2)) ;; esac
}

# check_files NAME PORT: both files come back byte for byte.
check_files() {
    local f
    for f in 1k.bin 1m.bin; do
        if ! curl -sf --max-time 10 -o "$TMP/check" "http://127.0.0.1:$2/$f" ||
            ! cmp -s "$TMP/check" "$FILES/$f"; then
            warn "$1: GET /$f did not return the file"
            return 1
        fi
    done
}

version_of() {
    case $1 in
    fastfile) grep -o 'fastfile [0-9][0-9.]*' "$RUNTIME/fastfile/output.log" 2>/dev/null | head -1 ;;
    nginx) "$NGINX_BIN" -v 2>&1 | sed 's/^nginx version: //' ;;
    lighttpd) "$LIGHTTPD_BIN" -v 2>&1 | head -1 | cut -d' ' -f1 ;;
    esac
}

# --- which servers run -------------------------------------------------------------------
ACTIVE=()
for s in $SERVERS; do
    server_available "$s" && ACTIVE+=("$s")
done
[ ${#ACTIVE[@]} -gt 0 ] || die "no server to benchmark"
if [[ " ${ACTIVE[*]} " == *" fastfile "* ]] && ldd "$FASTFILE" 2>/dev/null | grep -q 'libasan\|libubsan'; then
    warn "$FASTFILE is a sanitizer build: its figures will be meaningless (build with -DCMAKE_BUILD_TYPE=Release)"
fi

{
    echo "# bench/run.sh $(date -u +%Y-%m-%dT%H:%M:%SZ) host=$(hostname) kernel=$(uname -r)"
    echo "# cpu: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo) x$ncpu;" \
        "server on CPU $SERVER_CPU, wrk on CPU $LOADGEN_CPU"
    echo "# duration=${DURATION}s warmup=${WARMUP}s rounds=$ROUNDS workloads=\"$WORKLOADS\"" \
        "idle_n=$IDLE_N idle_get=$IDLE_GET"
} >"$RESULTS"

# --- throughput: all servers up, interleaved back to back --------------------------------
declare -A PID
start_all() {
    local s up=()
    for s in "${ACTIVE[@]}"; do
        if start_server "$s" "$(port_of "$s")" && check_files "$s" "$(port_of "$s")"; then
            PID[$s]=$STARTED_PID
            up+=("$s")
        else
            warn "$s failed to start or to serve the files: leaving it out"
            [ -n "$STARTED_PID" ] && stop_pid "$STARTED_PID"
        fi
    done
    ACTIVE=("${up[@]}")
}

start_all
[ ${#ACTIVE[@]} -gt 0 ] || die "no server came up"
for s in "${ACTIVE[@]}"; do
    echo "# $s $(version_of "$s") port=$(port_of "$s") pid=${PID[$s]}" >>"$RESULTS"
done
grep '^#' "$RESULTS" | sed 's/^# //' >&2

# run_wrk SERVER WORKLOAD ROUND: one wrk run; appends its line to $RESULTS.
run_wrk() {
    local s=$1 wl=$2 round=$3 path conns pid=${PID[$1]} out line c0 c1
    case $wl in
    get1k) path=/1k.bin conns=64 ;;
    get1m) path=/1m.bin conns=16 ;;
    *) die "unknown workload $wl (known: get1k get1m)" ;;
    esac
    local url
    url="http://127.0.0.1:$(port_of "$s")$path"
    local wrk=(taskset -c "$LOADGEN_CPU" wrk -t"$WRK_THREADS" -c"$conns" --timeout 5s
        -s "$HERE/wrk/report.lua" "$url")
    [ "$WARMUP" != 0 ] && "${wrk[@]}" -d"${WARMUP}s" >/dev/null 2>&1
    pin_tree "$pid" "$SERVER_CPU"
    c0=$(tree_cpu_ticks "$pid")
    out=$("${wrk[@]}" -d"${DURATION}s" 2>&1)
    c1=$(tree_cpu_ticks "$pid")
    line=$(grep '^WRK ' <<<"$out")
    if [ -z "$line" ] || ! kill -0 "$pid" 2>/dev/null; then
        warn "$s $wl round $round failed: $(tail -3 <<<"$out")"
        kill -0 "$pid" 2>/dev/null || warn "$s (pid $pid) is gone"
        printf '%s\t%s\t%s\tfailed=1\n' "$s" "$wl" "$round" >>"$RESULTS"
        return 1
    fi
    # shellcheck disable=SC2034 # p90_us and max_us are set by the eval, unused
    local requests=0 duration_us=1 bytes=0 p50_us=0 p90_us=0 p99_us=0 p999_us=0 max_us=0
    local errors=0 non2xx=0
    eval "${line#WRK }" # key=value pairs of numbers from report.lua
    awk -v s="$s" -v wl="$wl" -v r="$round" -v n="$requests" -v d="$duration_us" -v b="$bytes" \
        -v p50="$p50_us" -v p99="$p99_us" -v p999="$p999_us" -v e="$errors" -v x="$non2xx" \
        -v ticks=$((c1 - c0)) -v hz="$CLK_TCK" 'BEGIN {
        secs = d / 1e6; cpu = ticks / hz
        printf "%s\t%s\t%s\treq_s=%.0f p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f mb_s=%.1f", s, wl, r,
            n / secs, p50 / 1000, p99 / 1000, p999 / 1000, b / secs / 1e6
        printf " cpu_us_req=%.2f cpu_pct=%.0f requests=%d secs=%.2f errors=%d non2xx=%d\n",
            n ? cpu * 1e6 / n : 0, 100 * cpu / secs, n, secs, e, x }' | tee -a "$RESULTS" >&2
}

say "throughput: ${ACTIVE[*]}; $ROUNDS round(s) of $WORKLOADS, ${DURATION}s each"
k=${#ACTIVE[@]}
for round in $(seq 1 "$ROUNDS"); do
    for wl in $WORKLOADS; do
        for i in $(seq 0 $((k - 1))); do   # rotate the order each round
            run_wrk "${ACTIVE[$(((i + round - 1) % k))]}" "$wl" "$round"
        done
    done
done
for s in "${ACTIVE[@]}"; do stop_pid "${PID[$s]}"; done

# --- idle connections: each server fresh, alone ------------------------------------------
if [ "$IDLE_N" -gt 0 ]; then
    say "idle connections: $IDLE_N per server (one GET each: $IDLE_GET)"
    for s in "${ACTIVE[@]}"; do
        if ! start_server "$s" "$(port_of "$s")"; then
            warn "$s did not restart for the idle test"
            continue
        fi
        idle_args=(--port "$(port_of "$s")" --pid "$STARTED_PID" --n "$IDLE_N")
        [ "$IDLE_GET" = 1 ] || idle_args+=(--no-get)
        out=$(taskset -c "$LOADGEN_CPU" python3 "$HERE/idleconns.py" "${idle_args[@]}" 2>&1)
        line=$(grep '^IDLE ' <<<"$out")
        if [ -n "$line" ]; then
            printf '%s\tidle%s\t1\t%s\n' "$s" "$IDLE_N" "${line#IDLE }" | tee -a "$RESULTS" >&2
        else
            warn "$s idle test failed: $out"
        fi
        stop_pid "$STARTED_PID"
    done
fi

# --- report --------------------------------------------------------------------------------
echo
grep '^#' "$RESULTS" | sed 's/^# //'
echo
python3 "$HERE/report.py" "$RESULTS"
if [ -n "$BENCH_OUT" ]; then
    mkdir -p "$BENCH_OUT"
    cp "$RESULTS" "$BENCH_OUT/results.tsv"
    python3 "$HERE/report.py" "$RESULTS" >"$BENCH_OUT/table.txt"
    python3 "$HERE/report.py" --markdown "$RESULTS" >"$BENCH_OUT/table.md"
    for s in "${ACTIVE[@]}"; do
        mkdir -p "$BENCH_OUT/logs/$s"
        cp "$RUNTIME/$s"/*.log "$RUNTIME/$s"/*.conf "$BENCH_OUT/logs/$s/" 2>/dev/null || true
    done
    say "kept results.tsv, table.txt, table.md and logs/ in $BENCH_OUT"
fi
