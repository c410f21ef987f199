#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/run.sh: fastfile next to nginx and lighttpd on static GETs over HTTP and HTTPS, TLS
# handshakes, a single large HTTPS download, and idle connections; and next to Apache
# mod_dav, lighttpd mod_webdav and nginx dav-ext on WebDAV (the dav set, bench/dav.sh).
#
# usage: bash bench/run.sh        (after building fastfile; see bench/README.md)
#
# Serves one generated tree (1 KiB, 1 MiB and, for tls1g, 1 GiB files of random bytes) from
# fastfile, nginx and lighttpd, each with one worker pinned to CPU $SERVER_CPU, over plain HTTP
# and over HTTPS with one generated EC P-256 certificate shared by all three (same protocols,
# suites and groups; userspace TLS everywhere). wrk (or curl for tls1g), pinned to CPU
# $LOADGEN_CPU, loads the servers back to back, $ROUNDS rounds:
#   get1k       HTTP GET 1 KiB, 64 keep-alive connections
#   get1m       HTTP GET 1 MiB, 16 keep-alive connections
#   tls1k       HTTPS GET 1 KiB, 64 keep-alive connections
#   handshakes  HTTPS GET 1 KiB with "Connection: close", 32 connections, every connection a
#               full TLS 1.3 handshake (the client offers no session: wrk/noresume.c)
#   resumes     the same, the client resuming its previous session (wrk's own behaviour)
#   tls1g       one 1 GiB HTTPS download with curl, $TLS1G_REPS times in a row
#   auth1k      (fastfile only) HTTP GET 1 KiB of /dav/ with HTTP Basic, 64 keep-alive
#               connections: the signed-in path, to set against get1k's /public/
#   logins      (fastfile only) HTTP POST /login with the right password, 4 keep-alive
#               connections: one Argon2id verification (default limits) and a new session each
# The dav set (propall propnamed put64k move up1g litmus) runs after these, on each server
# restarted in its WebDAV configuration (Apache too): see bench/dav.sh.
# fastfile serves the tree under /public/ (and a user's copy under /dav/); the peers at /.
# Each run records req/s (or MB/s), p99 latency and the CPU time the server's process tree
# used per request (per handshake; per GiB for tls1g). Then each server is restarted fresh
# and holds $IDLE_N idle keep-alive connections; its memory growth per connection is
# recorded. Prints a table of medians and fastfile/peer ratios (bench/report.py).
#
# environment (defaults in brackets):
#   FASTFILE      fastfile binary [./build/fastfile]; set it empty to skip fastfile
#   SERVERS       servers to run ["fastfile nginx lighttpd apache"]; apache runs the dav
#                 workloads only
#   WORKLOADS     workloads, or the sets "plain" (get1k get1m), "tls" (tls1k handshakes
#                 resumes tls1g), "auth" (get1k auth1k logins) and "dav" (propall propnamed
#                 put64k move up1g litmus) ["plain tls"]
#   TLS1G_REPS    1 GiB downloads per tls1g run [3]
#   UP1G_REPS     1 GiB uploads per up1g run [1]
#   LITMUS_TESTS  litmus suites ["basic copymove props locks http"]
#   DURATION      seconds per wrk run [10]         WARMUP   seconds of wrk before each run [1]
#   ROUNDS        rounds [3]                       WRK_THREADS  wrk threads [1]
#   IDLE_N        idle connections, 0 to skip [5000]
#   IDLE_GET      1: one GET on each idle connection before it idles, 0: connect only [1]
#   SERVER_CPU    CPU for the servers [0]          LOADGEN_CPU  CPU for wrk / the client [1]
#   BASE_PORT     fastfile's HTTP port, nginx on +1, lighttpd on +2; HTTPS on +3, +4, +5;
#                 apache (WebDAV only) on +6 [18480]
#   BENCH_OUT     directory to keep results.tsv, table.txt, table.md and server logs [none]
#   NGINX_BIN / LIGHTTPD_BIN / APACHE_BIN   peer binaries [found on PATH and in /usr/sbin]
# Requires wrk, python3, curl, openssl, taskset (and cc for handshakes, litmus for litmus);
# nginx (nginx-light), lighttpd and, for dav, apache2, libnginx-mod-http-dav-ext and
# lighttpd-mod-webdav are skipped with a warning when missing. Installs nothing, never touches /etc or system services, stops only
# the processes it started (by PID) and removes its temporary directory on exit.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
. "$HERE/lib.sh"

FASTFILE=${FASTFILE-$TOP/build/fastfile}
SERVERS=${SERVERS:-"fastfile nginx lighttpd apache"}
WORKLOADS=${WORKLOADS:-"plain tls"}
TLS1G_REPS=${TLS1G_REPS:-3}
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
need openssl openssl

# expand the sets and check the names
wls=()
for wl in $WORKLOADS; do
    case $wl in
    plain) wls+=(get1k get1m) ;;
    tls) wls+=(tls1k handshakes resumes tls1g) ;;
    auth) wls+=(get1k auth1k logins) ;;
    dav) wls+=(propall propnamed put64k move up1g litmus) ;;
    get1k | get1m | tls1k | handshakes | resumes | tls1g | auth1k | logins) wls+=("$wl") ;;
    propall | propnamed | put64k | move | up1g | litmus) wls+=("$wl") ;;
    *) die "unknown workload '$wl' (known: get1k get1m tls1k handshakes resumes tls1g auth1k" \
        "logins propall propnamed put64k move up1g litmus, sets plain tls auth dav)" ;;
    esac
done
# the WebDAV workloads run in a phase of their own (bench/dav.sh), after the others
WORKLOADS='' DAV_WLS=''
for wl in "${wls[@]}"; do
    case $wl in
    propall | propnamed | put64k | move | up1g | litmus) DAV_WLS="$DAV_WLS $wl" ;;
    *) WORKLOADS="$WORKLOADS $wl" ;;
    esac
done
WORKLOADS=${WORKLOADS# } DAV_WLS=${DAV_WLS# }
has_wl() { [[ " $WORKLOADS $DAV_WLS " == *" $1 "* ]]; }
! has_wl litmus || need litmus litmus
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
. "$HERE/dav.sh"
head -c 1024 /dev/urandom >"$FILES/1k.bin"
head -c 1048576 /dev/urandom >"$FILES/1m.bin"
BIG_BYTES=1073741824
if has_wl tls1g; then
    say "generating a 1 GiB file"
    head -c "$BIG_BYTES" /dev/urandom >"$FILES/1g.bin" || die "could not write the 1 GiB file"
fi
# fastfile's data folder: the same files (hard links) in public/ and in user bench's folder.
FF_DATA=$TMP/ffdata
FF_USER=bench
FF_PASSWORD=bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
mkdir -p "$FF_DATA/public"
if [[ " $SERVERS " == *" fastfile "* ]] && [ -x "$FASTFILE" ]; then
    "$FASTFILE" user add "$FF_USER" --data "$FF_DATA" <<<"$FF_PASSWORD" >/dev/null ||
        die "fastfile user add failed"
fi
for f in "$FILES"/*; do
    ln "$f" "$FF_DATA/public/" && { [ ! -d "$FF_DATA/files/$FF_USER" ] ||
        ln "$f" "$FF_DATA/files/$FF_USER/"; } || die "could not link $f into $FF_DATA"
done
FF_BASIC=$(printf '%s:%s' "$FF_USER" "$FF_PASSWORD" | base64 -w0)

# One EC P-256 certificate for 127.0.0.1 and localhost, for every server (fastfile via
# --cert/--key; otherwise it would generate its own).
CERT=$TMP/tls/cert.pem
KEY=$TMP/tls/key.pem
mkdir -p "$TMP/tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$KEY" -out "$CERT" >"$TMP/tls/openssl.log" 2>&1 ||
    die "openssl could not generate the certificate: $(cat "$TMP/tls/openssl.log")"

# handshakes: wrk with a shim that drops the previous session before each connection
NORESUME=
if has_wl handshakes; then
    if "${CC:-cc}" -O2 -shared -fPIC -o "$TMP/noresume.so" "$HERE/wrk/noresume.c" -ldl \
        >"$TMP/cc.log" 2>&1; then
        NORESUME=$TMP/noresume.so
    else
        warn "could not build wrk/noresume.c (${CC:-cc}): skipping handshakes; $(cat "$TMP/cc.log")"
        wls=()
        for wl in $WORKLOADS; do [ "$wl" = handshakes ] || wls+=("$wl"); done
        WORKLOADS="${wls[*]}"
    fi
fi

port_of() {
    case $1 in fastfile) echo "$BASE_PORT" ;; nginx) echo $((BASE_PORT + 1)) ;;
    lighttpd) echo $((BASE_PORT + 2)) ;; apache) echo $((BASE_PORT + 6)) ;; esac
}
tls_port_of() { echo $(($(port_of "$1") + 3)); }
# where the tree is in each server's URL space
path_of() { [ "$1" != fastfile ] || echo /public; }
only_fastfile() { [ "$1" = auth1k ] || [ "$1" = logins ]; }

# check_files NAME: the files come back byte for byte over HTTP and HTTPS (the certificate
# verified against $CERT; the 1 GiB file only when tls1g runs).
check_files() {
    local f url big=
    has_wl tls1g && big=1g.bin
    for f in 1k.bin 1m.bin $big; do
        for url in "http://127.0.0.1:$(port_of "$1")$(path_of "$1")/$f" \
            "https://127.0.0.1:$(tls_port_of "$1")$(path_of "$1")/$f"; do
            [[ $f == 1g.bin && $url == http:* ]] && continue
            if ! curl -sf --http1.1 --cacert "$CERT" --max-time 60 "$url" | cmp -s - "$FILES/$f"; then
                warn "$1: GET $url did not return the file"
                return 1
            fi
        done
    done
}

# tls_info NAME: what a default OpenSSL client (as wrk's and curl's) negotiates with the
# server, and whether it resumes the session on a second connection (TLS 1.3: a ticket).
tls_info() {
    local port out proto cipher group verify reused
    port=$(tls_port_of "$1")
    out=$(openssl s_client -connect "127.0.0.1:$port" -CAfile "$CERT" -sess_out "$TMP/sess" \
        -ign_eof 2>&1 <<<"HEAD $(path_of "$1")/1k.bin HTTP/1.1"$'\r\nHost: localhost\r\nConnection: close\r\n\r\n')
    proto=$(sed -n 's/^New, \(TLSv[0-9.]*\), Cipher is \(.*\)$/\1/p' <<<"$out" | head -1)
    cipher=$(sed -n 's/^New, \(TLSv[0-9.]*\), Cipher is \(.*\)$/\2/p' <<<"$out" | head -1)
    group=$(sed -n 's/^Server Temp Key: \([^,]*\).*/\1/p' <<<"$out" | head -1)
    verify=$(sed -n 's/^ *Verify return code: \([0-9]*\).*/\1/p' <<<"$out" | tail -1)
    out=$(openssl s_client -connect "127.0.0.1:$port" -CAfile "$CERT" -sess_in "$TMP/sess" \
        </dev/null 2>&1)
    if grep -q '^Reused, ' <<<"$out"; then reused=yes; else reused=no; fi
    echo "proto=${proto:-?} cipher=${cipher:-?} group=${group:-?} cert_verify=${verify:-?} resumption=$reused"
}

version_of() {
    case $1 in
    fastfile) grep -o 'fastfile [0-9][0-9.]*' "$RUNTIME/fastfile/output.log" 2>/dev/null | head -1 ;;
    nginx) "$NGINX_BIN" -v 2>&1 | sed 's/^nginx version: //' ;;
    lighttpd) "$LIGHTTPD_BIN" -v 2>&1 | head -1 | cut -d' ' -f1 ;;
    apache) "$APACHE_BIN" -v 2>&1 | sed -n 's/^Server version: //p' ;;
    esac
}

# --- which servers run -------------------------------------------------------------------
# ACTIVE: the static phase's (not apache: it is a WebDAV peer only); ACTIVE_DAV: the dav one's
ACTIVE=() ACTIVE_DAV=()
for s in $SERVERS; do
    if [ -n "$WORKLOADS" ] && [ "$s" != apache ]; then
        server_available "$s" && ACTIVE+=("$s")
    fi
    if [ -n "$DAV_WLS" ]; then
        dav_available "$s" && ACTIVE_DAV+=("$s")
    fi
done
[ ${#ACTIVE[@]} -gt 0 ] || [ ${#ACTIVE_DAV[@]} -gt 0 ] || die "no server to benchmark"
if [[ " ${ACTIVE[*]} ${ACTIVE_DAV[*]} " == *" fastfile "* ]] && ldd "$FASTFILE" 2>/dev/null | grep -q 'libasan\|libubsan'; then
    warn "$FASTFILE is a sanitizer build: its figures will be meaningless (build with -DCMAKE_BUILD_TYPE=Release)"
fi

{
    echo "# bench/run.sh $(date -u +%Y-%m-%dT%H:%M:%SZ) host=$(hostname) kernel=$(uname -r)"
    echo "# cpu: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo) x$ncpu;" \
        "server on CPU $SERVER_CPU, wrk on CPU $LOADGEN_CPU"
    echo "# duration=${DURATION}s warmup=${WARMUP}s rounds=$ROUNDS workloads=\"$WORKLOADS\"" \
        "dav_workloads=\"$DAV_WLS\" idle_n=$IDLE_N idle_get=$IDLE_GET tls1g_reps=$TLS1G_REPS" \
        "up1g_reps=$UP1G_REPS"
} >"$RESULTS"

# --- throughput: all servers up, interleaved back to back --------------------------------
declare -A PID
start_all() {
    local s up=()
    for s in "${ACTIVE[@]}"; do
        if start_server "$s" "$(port_of "$s")" "$(tls_port_of "$s")" && check_files "$s"; then
            PID[$s]=$STARTED_PID
            up+=("$s")
        else
            warn "$s failed to start or to serve the files: leaving it out"
            [ -n "$STARTED_PID" ] && stop_pid "$STARTED_PID"
        fi
    done
    ACTIVE=("${up[@]}")
}

# start_static: the static phase's servers up, checked, their versions and TLS parameters in
# the results header
start_static() {
    local s info tls_seen=
    start_all
    [ ${#ACTIVE[@]} -gt 0 ] || die "no server came up"
    for s in "${ACTIVE[@]}"; do
        echo "# $s $(version_of "$s") port=$(port_of "$s") tls_port=$(tls_port_of "$s") pid=${PID[$s]}" >>"$RESULTS"
    done
    for s in "${ACTIVE[@]}"; do
        info=$(tls_info "$s")
        echo "# tls $s $info" >>"$RESULTS"
        # the same protocol, suite and group for everyone, or the comparison is off
        [ -z "$tls_seen" ] || [ "${info% cert_verify=*}" = "$tls_seen" ] ||
            warn "$s negotiates '${info% cert_verify=*}', not '$tls_seen' as ${ACTIVE[0]}"
        tls_seen=${tls_seen:-${info% cert_verify=*}}
        [[ $info == *"cert_verify=0 "* ]] || warn "$s: the certificate did not verify ($info)"
    done
    grep '^#' "$RESULTS" | sed 's/^# //' >&2
}

# run_wrk SERVER WORKLOAD ROUND: one wrk run; appends its line to $RESULTS.
run_wrk() {
    local s=$1 wl=$2 round=$3 conns pid=${PID[$1]} out line c0 c1 url
    local http https
    http="http://127.0.0.1:$(port_of "$s")$(path_of "$s")"
    https="https://127.0.0.1:$(tls_port_of "$s")$(path_of "$s")"
    local pre=() extra=() script=$HERE/wrk/report.lua
    case $wl in
    auth1k) url=http://127.0.0.1:$(port_of "$s")/dav/1k.bin conns=64
        extra=(-H "Authorization: Basic $FF_BASIC") ;;
    logins) url=http://127.0.0.1:$(port_of "$s")/login conns=4 script=$TMP/login.lua ;;
    propall | propnamed) url=$(dav_url_of "$s")/c1000/ conns=16 script=$HERE/wrk/propfind.lua
        pre=(env "PROPFIND=$([ "$wl" = propall ] && echo allprop || echo named)")
        extra=(-H "Authorization: Basic $DAV_BASIC") ;;
    put64k) url=$(dav_url_of "$s")/put/ conns=16 script=$HERE/wrk/put.lua
        pre=(env "PUT_SIZE=65536" "PUT_POOL=$PUT_POOL")
        extra=(-H "Authorization: Basic $DAV_BASIC") ;;
    move) url=$(dav_url_of "$s")/mv/ conns=16 script=$HERE/wrk/move.lua
        pre=(env "MOVE_POOL=$MOVE_POOL" "MOVE_THREADS=$WRK_THREADS") extra=(-H "Authorization: Basic $DAV_BASIC") ;;
    get1k) url=$http/1k.bin conns=64 ;;
    get1m) url=$http/1m.bin conns=16 ;;
    tls1k) url=$https/1k.bin conns=64 ;;
    handshakes) url=$https/1k.bin conns=32 pre=(env "LD_PRELOAD=$NORESUME")
        extra=(-H "Connection: close") ;;
    resumes) url=$https/1k.bin conns=32 extra=(-H "Connection: close") ;;
    *) die "unknown wrk workload $wl" ;;
    esac
    local wrk=("${pre[@]}" taskset -c "$LOADGEN_CPU" wrk -t"$WRK_THREADS" -c"$conns" --timeout 5s
        "${extra[@]}" -s "$script" "$url")
    # move.lua starts from every file of its pool under its first name
    [ "$wl" != move ] || move_reset "$s"
    [ "$WARMUP" != 0 ] && "${wrk[@]}" -d"${WARMUP}s" >/dev/null 2>&1
    [ "$wl" != move ] || [ "$WARMUP" = 0 ] || move_reset "$s"
    pin_tree "$pid" "$SERVER_CPU"
    c0=$(tree_cpu_ticks "$pid")
    # the client's own CPU time too (bash's time: user, system, real), to see which side limits
    local TIMEFORMAT='%U %S %R' cu=0 cs=0 cr=1
    out=$({ time "${wrk[@]}" -d"${DURATION}s" 2>&1; } 2>"$TMP/time")
    c1=$(tree_cpu_ticks "$pid")
    read -r cu cs cr <"$TMP/time"
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
        -v ticks=$((c1 - c0)) -v hz="$CLK_TCK" -v cu="$cu" -v cs="$cs" -v cr="$cr" 'BEGIN {
        secs = d / 1e6; cpu = ticks / hz
        printf "%s\t%s\t%s\treq_s=%.0f p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f mb_s=%.1f", s, wl, r,
            n / secs, p50 / 1000, p99 / 1000, p999 / 1000, b / secs / 1e6
        printf " cpu_us_req=%.2f cpu_pct=%.0f client_cpu_pct=%.0f", n ? cpu * 1e6 / n : 0,
            100 * cpu / secs, (cr > 0 ? 100 * (cu + cs) / cr : 0)
        printf " requests=%d secs=%.2f errors=%d non2xx=%d\n", n, secs, e, x }' |
        tee -a "$RESULTS" >&2
}

# run_download SERVER ROUND: $TLS1G_REPS downloads of the 1 GiB file over HTTPS with curl, one
# after the other; appends one line to $RESULTS: MB/s over the download time, the server's
# CPU seconds per GiB sent, and its CPU % over the download time.
run_download() {
    local s=$1 round=$2 pid=${PID[$1]} url i out code size t c0 c1
    local bytes=0 secs=0 errors=0 rates=() ccpu=0 cu cs cr TIMEFORMAT='%U %S %R'
    url="https://127.0.0.1:$(tls_port_of "$s")/1g.bin"
    pin_tree "$pid" "$SERVER_CPU"
    c0=$(tree_cpu_ticks "$pid")
    for i in $(seq "$TLS1G_REPS"); do
        out=$({ time taskset -c "$LOADGEN_CPU" curl -s --http1.1 --cacert "$CERT" \
            --max-time 300 -o /dev/null -w '%{http_code} %{size_download} %{time_total}' \
            "$url"; } 2>"$TMP/time")
        read -r code size t <<<"$out"
        read -r cu cs cr <"$TMP/time"
        ccpu=$(awk -v a="$ccpu" -v u="$cu" -v s="$cs" 'BEGIN { print a + u + s }')
        if [ "$code" != 200 ] || [ "$size" != "$BIG_BYTES" ]; then
            warn "$s tls1g round $round download $i: status ${code:-none}, ${size:-0} bytes"
            errors=$((errors + 1))
        fi
        bytes=$((bytes + ${size:-0}))
        secs=$(awk -v a="$secs" -v b="${t:-0}" 'BEGIN { print a + b }')
        rates+=("$(awk -v n="${size:-0}" -v t="${t:-0}" 'BEGIN { printf "%.0f", (t > 0 ? n / t / 1e6 : 0) }')")
    done
    c1=$(tree_cpu_ticks "$pid")
    if ! kill -0 "$pid" 2>/dev/null; then
        warn "$s (pid $pid) is gone"
        printf '%s\ttls1g\t%s\tfailed=1\n' "$s" "$round" >>"$RESULTS"
        return 1
    fi
    awk -v s="$s" -v r="$round" -v b="$bytes" -v secs="$secs" -v n="$TLS1G_REPS" -v e="$errors" \
        -v ticks=$((c1 - c0)) -v hz="$CLK_TCK" -v rates="${rates[*]}" -v ccpu="$ccpu" 'BEGIN {
        cpu = ticks / hz
        printf "%s\ttls1g\t%s\tmb_s=%.1f cpu_s_gib=%.3f cpu_pct=%.0f client_cpu_pct=%.0f", s, r,
            secs ? b / secs / 1e6 : 0, b ? cpu / (b / 1073741824) : 0,
            secs ? 100 * cpu / secs : 0, secs ? 100 * ccpu / secs : 0
        printf " downloads=%d bytes=%.0f", n, b
        gsub(" ", ",", rates)
        printf " secs=%.2f errors=%d each_mb_s=%s\n", secs, e, rates }' | tee -a "$RESULTS" >&2
}

# logins: wrk posts the sign-in form (the report hook as for every run)
cat >"$TMP/login.lua" <<EOF
wrk.method = "POST"
wrk.body = "user=$FF_USER&password=$FF_PASSWORD"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
dofile("$HERE/wrk/report.lua")
EOF

if [ -n "$WORKLOADS" ] && [ ${#ACTIVE[@]} -gt 0 ]; then
    start_static
    say "throughput: ${ACTIVE[*]}; $ROUNDS round(s) of $WORKLOADS, ${DURATION}s each"
    k=${#ACTIVE[@]}
    for round in $(seq 1 "$ROUNDS"); do
        for wl in $WORKLOADS; do
            for i in $(seq 0 $((k - 1))); do   # rotate the order each round
                s=${ACTIVE[$(((i + round - 1) % k))]}
                if only_fastfile "$wl" && [ "$s" != fastfile ]; then
                    continue
                elif [ "$wl" = tls1g ]; then
                    run_download "$s" "$round"
                else
                    run_wrk "$s" "$wl" "$round"
                fi
            done
        done
    done
    for s in "${ACTIVE[@]}"; do stop_pid "${PID[$s]}"; done
fi

# --- WebDAV: each server restarted in its WebDAV configuration (bench/dav.sh) -------------
DAV_UP=()
if [ -n "$DAV_WLS" ] && [ ${#ACTIVE_DAV[@]} -gt 0 ]; then
    dav_phase
fi

# --- idle connections: each server fresh, alone ------------------------------------------
if [ -n "$WORKLOADS" ] && [ "$IDLE_N" -gt 0 ]; then
    say "idle connections: $IDLE_N per server (one GET each: $IDLE_GET)"
    for s in "${ACTIVE[@]}"; do
        if ! start_server "$s" "$(port_of "$s")" "$(tls_port_of "$s")"; then
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
    for s in "${DAV_UP[@]}"; do
        mkdir -p "$BENCH_OUT/logs/dav-$s"
        # fastfile's own logs are in its runtime dir (the static phase's, when it ran, too)
        cp "$RUNTIME/dav-$s"/*.log "$RUNTIME/dav-$s"/*.conf "$RUNTIME/dav-$s"/litmus/*.log \
            "$BENCH_OUT/logs/dav-$s/" 2>/dev/null || true
        [ "$s" != fastfile ] || cp "$RUNTIME/fastfile"/*.log "$BENCH_OUT/logs/dav-$s/" 2>/dev/null || true
    done
    say "kept results.tsv, table.txt, table.md and logs/ in $BENCH_OUT"
fi
