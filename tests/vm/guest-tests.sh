#!/bin/sh
# SPDX-License-Identifier: MIT
# guest-tests.sh - runs INSIDE the test VM (busybox sh, as the command of /init; see vm-run.sh),
# never on the host. Checks that the kernel side of kTLS is there (tls module, AES-GCM and
# ChaCha20-Poly1305 modules, /proc/net/tls_stat) and that the real fastfile binary runs on this
# kernel and serves a 64 MiB file (from $DATA/public, at /public/) over plain HTTP on 127.0.0.1
# that curl fetches intact.
#
# Reports one line per check on the console, parsed by vm-run.sh:
#   VMTEST ok NAME [detail]   VMTEST fail NAME reason   VMTEST note text
#   VMTEST done passed=N failed=N  (last line; exit status 0 only when nothing failed)
#
# The TLS checks (downloads over TLS 1.3 and 1.2 with each cipher on kTLS, tls_stat counters,
# KeyUpdate, an upload spliced from a kTLS socket, a PROPFIND answered in chunks from the
# server's memory) live in the "TLS" section below.

FF=/usr/local/bin/fastfile
W=/tmp/vmtest        # scratch: downloads, logs
DATA=/tmp/data       # fastfile --data; $DATA/public is served to anyone at /public/
BIG_MIB=64
UP_USER=vm          # the account of the upload check
UP_PASSWORD=vm-upload-password
LIST_N=2000         # files in the folder the PROPFIND check lists
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "VMTEST ok $*"; }
bad() { failed=$((failed + 1)); echo "VMTEST fail $*"; }
note() { echo "VMTEST note $*"; }
uptime_s() { cut -d' ' -f1 /proc/uptime; }
elapsed() { awk -v a="$1" -v b="$(uptime_s)" 'BEGIN { printf "%.1f", b - a }'; }
# tls_stat FIELD: a counter from /proc/net/tls_stat (empty when the file is missing)
tls_stat() { awk -v k="$1" '$1 == k { print $2 }' /proc/net/tls_stat 2>/dev/null; }
# indent FILE: show a log under a failed check
indent() { sed 's/^/    /' "$1" 2>/dev/null | tail -n 20; }

# ---------------------------------------------------------------- fastfile server -----------
spid=
# start_server SCHEME ARGS...: fastfile serve in the background with ARGS; waits (up to 60 s,
# emulation is slow) for its "listening on SCHEME://" line. Returns 1 if it never came.
start_server() {
    scheme=$1
    shift
    : >$W/srv.out
    "$FF" serve --data $DATA --threads 1 "$@" >$W/srv.out 2>$W/srv.err &
    spid=$!
    i=0
    while [ $i -lt 600 ]; do
        grep -q "listening on $scheme://" $W/srv.out && return 0
        kill -0 $spid 2>/dev/null || break
        usleep 100000
        i=$((i + 1))
    done
    return 1
}
# stop_server: SIGTERM, wait up to 30 s for a graceful exit, then SIGKILL. Returns its status.
stop_server() {
    [ -n "$spid" ] || return 0
    kill -TERM $spid 2>/dev/null
    i=0
    while kill -0 $spid 2>/dev/null && [ $i -lt 300 ]; do
        usleep 100000
        i=$((i + 1))
    done
    kill -0 $spid 2>/dev/null && kill -KILL $spid 2>/dev/null
    wait $spid
    rc=$?
    spid=
    return $rc
}

# download_check NAME URL [CURL ARGS...]: fetches URL (the $BIG_MIB MiB file) with curl and
# checks status 200 and sha256. The TLS checks call it too.
download_check() {
    name=$1
    url=$2
    shift 2
    t0=$(uptime_s)
    code=$(curl -sS --max-time 150 "$@" -o $W/out.bin -w '%{http_code}' "$url" 2>$W/curl.err)
    crc=$?
    secs=$(elapsed "$t0")
    got=$(sha256sum $W/out.bin 2>/dev/null | cut -d' ' -f1)
    rm -f $W/out.bin
    if [ $crc = 0 ] && [ "$code" = 200 ] && [ "$got" = "$BIG_SHA" ]; then
        ok "$name" "$BIG_MIB MiB, sha256 equal, $secs s" \
            "($(awk -v s="$secs" -v m=$BIG_MIB 'BEGIN { printf "%.1f", (s > 0) ? m / s : 0 }') MiB/s)"
        return 0
    fi
    bad "$name" "curl rc=$crc http=$code sha256=${got:-none} want $BIG_SHA: $(head -c 300 $W/curl.err)"
    return 1
}

# ---------------------------------------------------------------- kernel --------------------
check_kernel() {
    case $(uname -r) in
        6.1.*) ok kernel "$(uname -r)" ;;
        *) bad kernel "$(uname -r) is not the Debian 6.1 kernel this test was written for" ;;
    esac
}

check_modules() {
    failed_mods=
    for m in $VMTEST_MODULES; do
        modprobe "$m" 2>>$W/modprobe.err || failed_mods="$failed_mods $m"
    done
    if [ -z "$failed_mods" ]; then
        ok modules "$(echo "$VMTEST_MODULES" | wc -w) loaded: $VMTEST_MODULES"
    else
        bad modules "modprobe failed for:$failed_mods ($(head -c 300 $W/modprobe.err))"
    fi
}

check_tls_stat() {
    if [ -r /proc/net/tls_stat ] && [ -n "$(tls_stat TlsTxSw)" ]; then
        ok tls_stat "/proc/net/tls_stat present, TlsTxSw=$(tls_stat TlsTxSw) TlsRxSw=$(tls_stat TlsRxSw)"
    else
        bad tls_stat "/proc/net/tls_stat missing or without TlsTxSw"
    fi
    if grep -qw tls /proc/sys/net/ipv4/tcp_available_ulp; then
        ok tcp_ulp "tcp_available_ulp: $(cat /proc/sys/net/ipv4/tcp_available_ulp)"
    else
        bad tcp_ulp "tls not in tcp_available_ulp: $(cat /proc/sys/net/ipv4/tcp_available_ulp)"
    fi
}

# ---------------------------------------------------------------- fastfile, plain HTTP -------
check_version() {
    v=$("$FF" --version 2>&1)
    rc=$?
    case "$rc $v" in
        "0 fastfile "*) ok version "$v" ;;
        *) bad version "fastfile --version: exit $rc, output: $(echo "$v" | head -c 300)" ;;
    esac
}

make_data() {
    mkdir -p $DATA/public
    t0=$(uptime_s)
    dd if=/dev/urandom of=$DATA/public/big.bin bs=1M count=$BIG_MIB 2>/dev/null
    echo "hello from the kTLS test VM" >$DATA/public/small.txt
    BIG_SHA=$(sha256sum $DATA/public/big.bin | cut -d' ' -f1)
    note "test data: $BIG_MIB MiB random file made and hashed in $(elapsed "$t0") s"
    # The account of the upload check (cheap Argon2id limits: the CPU is emulated).
    echo "$UP_PASSWORD" | "$FF" user add $UP_USER --data $DATA --argon2-ops 1 --argon2-mem 8 \
        >$W/useradd.out 2>&1 || note "user add failed: $(head -c 300 $W/useradd.out)"
    mkdir -p $DATA/files/$UP_USER/list
    i=0
    while [ $i -lt $LIST_N ]; do
        : >$DATA/files/$UP_USER/list/f$i.txt
        i=$((i + 1))
    done
}

check_http() {
    if ! start_server http --listen 127.0.0.1:8444 --http 127.0.0.1:8080; then
        bad http.start "fastfile exited or printed no 'listening on http://' line within 60 s:"
        indent $W/srv.err
        stop_server
        return
    fi
    ok http.start "$(grep 'listening on http://' $W/srv.out)"
    download_check http.download http://127.0.0.1:8080/public/big.bin
    stop_server
    rc=$?
    if [ $rc = 0 ]; then
        ok http.shutdown "SIGTERM -> exit 0"
    else
        bad http.shutdown "fastfile exited $rc after SIGTERM; stderr:"
        indent $W/srv.err
    fi
}

# ================================================================ TLS (issue 3) ==============
# --listen is the TLS listener; the first start writes a self-signed EC P-256 certificate into
# $DATA/tls/ (so TLS 1.2 suites are ECDHE-ECDSA), the ready line says "listening on https://",
# and the start log says whether kTLS is available.
TLS_PORT=8443
TLS13_SUITES="TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256"
TLS12_SUITES="ECDHE-ECDSA-AES128-GCM-SHA256 ECDHE-ECDSA-AES256-GCM-SHA384 ECDHE-ECDSA-CHACHA20-POLY1305"

# tls_download_check NAME CURL ARGS...: a $BIG_MIB MiB download over TLS with sha256 equal,
# and the kernel really took over: TlsTxSw and TlsRxSw rose (the connection was switched to
# kTLS in both directions, so the body went file -> pipe -> kTLS socket).
tls_download_check() {
    name=$1
    shift
    tx0=$(tls_stat TlsTxSw)
    rx0=$(tls_stat TlsRxSw)
    download_check "$name" https://localhost:$TLS_PORT/public/big.bin --cacert $DATA/tls/cert.pem \
        --resolve localhost:$TLS_PORT:127.0.0.1 "$@" || return
    tx1=$(tls_stat TlsTxSw)
    rx1=$(tls_stat TlsRxSw)
    if [ "$tx1" -gt "$tx0" ] && [ "$rx1" -gt "$rx0" ]; then
        ok "$name.ktls" "TlsTxSw $tx0->$tx1 TlsRxSw $rx0->$rx1"
    else
        bad "$name.ktls" "kTLS not engaged: TlsTxSw $tx0->$tx1 TlsRxSw $rx0->$rx1"
    fi
}

# tls_upload: a $BIG_MIB MiB PUT over TLS 1.3 lands whole, the connection was switched to kTLS
# (TlsRxSw rose), and the body went socket -> pipe -> file by splice (the server logs
# event=upload_splice at debug level when it takes a body that way).
tls_upload() {
    rx0=$(tls_stat TlsRxSw)
    code=$(curl -sS --max-time 150 --tlsv1.3 --cacert $DATA/tls/cert.pem \
        --resolve localhost:$TLS_PORT:127.0.0.1 -u "$UP_USER:$UP_PASSWORD" \
        -T $DATA/public/big.bin -o /dev/null -w '%{http_code}' \
        https://localhost:$TLS_PORT/dav/up.bin 2>$W/curl.err)
    got=$(sha256sum $DATA/files/$UP_USER/up.bin 2>/dev/null | cut -d' ' -f1)
    rx1=$(tls_stat TlsRxSw)
    spliced=$(grep -c 'event=upload_splice' $W/srv.err)
    if [ "$code" = 201 ] && [ "$got" = "$BIG_SHA" ] && [ "$rx1" -gt "$rx0" ] && [ "$spliced" -ge 1 ]; then
        ok tls.upload "$BIG_MIB MiB PUT, sha256 equal, TlsRxSw $rx0->$rx1, body spliced"
    else
        bad tls.upload "http=$code sha256=${got:-none} TlsRxSw $rx0->$rx1 spliced=$spliced: $(head -c 300 $W/curl.err)"
    fi
}

# tls_propfind: a Depth 1 PROPFIND of $LIST_N files over TLS 1.3 on kTLS: the answer (over a
# MiB) comes in chunks sent from the server's memory, whole: every member once, the document
# closed.
tls_propfind() {
    tx0=$(tls_stat TlsTxSw)
    code=$(curl -sS --max-time 120 --tlsv1.3 --cacert $DATA/tls/cert.pem \
        --resolve localhost:$TLS_PORT:127.0.0.1 -u "$UP_USER:$UP_PASSWORD" -X PROPFIND \
        -H 'Depth: 1' --data-binary '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>' \
        -D $W/pf.head -o $W/pf.xml -w '%{http_code}' https://localhost:$TLS_PORT/dav/list/ 2>$W/curl.err)
    tx1=$(tls_stat TlsTxSw)
    n=$(grep -o '<D:href>/dav/list/[^<]*</D:href>' $W/pf.xml | sort -u | wc -l)
    chunked=$(grep -ci '^transfer-encoding: chunked' $W/pf.head)
    closed=$(tail -c 16 $W/pf.xml)
    if [ "$code" = 207 ] && [ "$n" = $((LIST_N + 1)) ] && [ "$chunked" = 1 ] &&
        [ "$closed" = "</D:multistatus>" ] && [ "$tx1" -gt "$tx0" ]; then
        ok tls.propfind "$n entries, $(wc -c <$W/pf.xml) bytes in chunks, TlsTxSw $tx0->$tx1"
    else
        bad tls.propfind "http=$code entries=$n chunked=$chunked end='$closed' TlsTxSw $tx0->$tx1: $(head -c 300 $W/curl.err)"
    fi
}

# tls_downloads: every suite fastfile offers, TLS 1.3 and 1.2.
tls_downloads() {
    for s in $TLS13_SUITES; do
        tls_download_check "tls13.$s" --tlsv1.3 --tls13-ciphers "$s"
    done
    for s in $TLS12_SUITES; do
        tls_download_check "tls12.$s" --tlsv1.2 --tls-max 1.2 --ciphers "$s"
    done
    # All those connections are closed: no kTLS socket may be left open.
    if [ "$(tls_stat TlsCurrTxSw)" = 0 ] && [ "$(tls_stat TlsCurrRxSw)" = 0 ]; then
        ok tls.closed "TlsCurrTxSw=0 TlsCurrRxSw=0 after the downloads"
    else
        bad tls.closed "kTLS sockets left: TlsCurrTxSw=$(tls_stat TlsCurrTxSw) TlsCurrRxSw=$(tls_stat TlsCurrRxSw)"
    fi
}

# tls_keyupdate: a request, then a client KeyUpdate (openssl s_client's `k` command, which
# only works without -quiet/-ign_eof and at the start of a read), then a second request.
# On 6.1 the kernel cannot take new RX keys, so fastfile must close the connection cleanly
# after answering the first request; a kernel that can rekey answers the second one too.
# Either way the server stays up and serves the next client.
tls_keyupdate() {
    req='GET /public/small.txt HTTP/1.1\r\nHost: vmtest\r\n\r\n'
    err0=$(tls_stat TlsDecryptError)
    {
        printf '%b' "$req"
        sleep 3
        echo k
        sleep 3
        printf '%b' "$req"
        sleep 5
    } | timeout 30 openssl s_client -connect 127.0.0.1:$TLS_PORT -tls1_3 -no_ign_eof \
        >$W/ku.out 2>$W/ku.err
    answers=$(grep -c '^hello from the kTLS test VM' $W/ku.out)
    if ! grep -q KEYUPDATE $W/ku.err; then
        bad tls.keyupdate "s_client did not send a KeyUpdate: $(tail -c 300 $W/ku.err)"
        return
    fi
    case $answers in
        1) ok tls.keyupdate "first request answered, connection closed after the KeyUpdate" \
              "(TlsDecryptError $err0->$(tls_stat TlsDecryptError))" ;;
        2) ok tls.keyupdate "KeyUpdate followed: both requests answered" ;;
        *) bad tls.keyupdate "$answers answers; s_client stderr: $(tail -c 300 $W/ku.err)" ;;
    esac
    code=$(curl -sS -k --max-time 30 -o /dev/null -w '%{http_code}' \
        https://127.0.0.1:$TLS_PORT/public/small.txt 2>&1)
    if [ "$code" = 200 ]; then
        ok tls.after_keyupdate "server still serves new connections"
    else
        bad tls.after_keyupdate "new connection after the KeyUpdate test: $code"
    fi
}

# userspace_ratio: informational (emulated CPU): the same download on the same connection
# settings, kTLS with splice against a server started with --no-ktls.
userspace_ratio() {
    t0=$(uptime_s)
    download_check tls.ktls_timing https://localhost:$TLS_PORT/public/big.bin --cacert $DATA/tls/cert.pem \
        --resolve localhost:$TLS_PORT:127.0.0.1 --tlsv1.3 --tls13-ciphers TLS_AES_128_GCM_SHA256 || return
    t_k=$(elapsed "$t0")
    "$FF" serve --data $DATA --threads 1 --listen 127.0.0.1:8445 --no-ktls >$W/u.out 2>$W/u.err &
    upid=$!
    i=0
    while [ $i -lt 300 ] && ! grep -q "listening on https://" $W/u.out; do usleep 100000; i=$((i + 1)); done
    t0=$(uptime_s)
    download_check tls.userspace_timing https://localhost:8445/public/big.bin --cacert $DATA/tls/cert.pem \
        --resolve localhost:8445:127.0.0.1 --tlsv1.3 --tls13-ciphers TLS_AES_128_GCM_SHA256
    t_u=$(elapsed "$t0")
    kill -TERM $upid 2>/dev/null
    wait $upid 2>/dev/null
    note "AES-128-GCM $BIG_MIB MiB: kTLS+splice ${t_k} s, userspace TLS ${t_u} s (emulated CPU)"
}

check_tls() {
    if ! "$FF" serve --help 2>&1 | grep -q -- --cert; then
        note "TLS checks not run: this fastfile has no TLS yet (serve --help lists no --cert)"
        return
    fi
    if ! start_server https --listen 127.0.0.1:$TLS_PORT --log-level debug; then
        bad tls.start "fastfile exited or printed no 'listening on https://' line within 60 s:"
        indent $W/srv.err
        stop_server
        return
    fi
    ok tls.start "$(grep -h 'kTLS' $W/srv.out $W/srv.err | head -n 1)"
    tls_downloads
    tls_upload
    tls_propfind
    # The bodies went file -> pipe -> kTLS socket: the server logs (at debug level) every body
    # it encrypts in userspace instead.
    switched=$(grep -c 'event=ktls_switch result=0' $W/srv.err)
    userspace=$(grep -c 'event=tls_body_userspace' $W/srv.err)
    if [ "$switched" -ge 6 ] && [ "$userspace" = 0 ]; then
        ok tls.splice "$switched connections switched to kTLS, no body encrypted in userspace"
    else
        bad tls.splice "$switched connections switched, $userspace bodies encrypted in userspace"
    fi
    tls_keyupdate
    userspace_ratio
    if [ "$failed" != 0 ]; then
        note "server log (kTLS and errors):"
        grep -E 'ktls|error|warn|tls_|abort|GET|fail' $W/srv.err | tail -n 40 >$W/srv.sel
        indent $W/srv.sel
    fi
    stop_server
    rc=$?
    if [ $rc = 0 ]; then ok tls.shutdown "SIGTERM -> exit 0"; else bad tls.shutdown "exit $rc"; fi
}

# ---------------------------------------------------------------- main ----------------------
mkdir -p $W
note "kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) CPU(s), uptime $(uptime_s) s"
check_kernel
check_modules
check_tls_stat
check_version
make_data
check_http
check_tls
note "tls_stat at the end: $(awk '{ printf "%s=%s ", $1, $2 }' /proc/net/tls_stat 2>/dev/null)"
echo "VMTEST done passed=$passed failed=$failed"
[ $failed = 0 ]
