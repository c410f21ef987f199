# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# The WebDAV phase of bench/run.sh (sourced by it after peers.sh): fastfile's /dav/ next to
# Apache mod_dav, lighttpd mod_webdav and nginx with dav-ext, each on its own copy of one
# generated tree, with the same HTTP Basic credentials, one worker pinned to $SERVER_CPU:
#   propall    PROPFIND Depth: 1 <allprop/> on a folder of 1,000 files, 16 connections
#   propnamed  the same with four named properties (getetag getlastmodified getcontentlength
#              resourcetype)
#   put64k     PUT of 64 KiB, replacing the files of a pool of 100, 16 connections
#   move       MOVE (rename in one folder) over a pool of 500 files, there and back, 16
#              connections
#   up1g       one 1 GiB PUT with curl, $UP1G_REPS times in a row (the file deleted between)
#   litmus     litmus's suites $LITMUS_TESTS once per server, after the rounds: passed,
#              failed, warnings and skipped tests
# Uses from run.sh: TMP RUNTIME RESULTS HERE FASTFILE ACTIVE_DAV DAV_WLS ROUNDS PID and
# run_wrk, port_of, tls_port_of, the cert CERT/KEY (fastfile also listens for HTTPS).

DAV_USER=bench
DAV_PASSWORD=dav-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
# shellcheck disable=SC2034 # used by run.sh (run_wrk)
DAV_BASIC=$(printf '%s:%s' "$DAV_USER" "$DAV_PASSWORD" | base64 -w0)
PUT_POOL=100
MOVE_POOL=500
UP1G_REPS=${UP1G_REPS:-1}
LITMUS_TESTS=${LITMUS_TESTS:-"basic copymove props locks http"}
LITMUS_TIMEOUT=${LITMUS_TIMEOUT:-300}
FF_DAV_DATA=$TMP/ffdav
DAV_BIG=$TMP/up1g.bin

# dav_tree_of NAME: the folder NAME serves (the files of fastfile's user)
dav_tree_of() {
    if [ "$1" = fastfile ]; then echo "$FF_DAV_DATA/files/$DAV_USER"; else echo "$TMP/dav/$1"; fi
}
# dav_url_of NAME: the URL of that folder
dav_url_of() {
    local p=
    [ "$1" != fastfile ] || p=/dav
    echo "http://127.0.0.1:$(port_of "$1")$p"
}

# make_dav_tree DIR: the generated tree, the same bytes for every server: c1000/ (1,000 files
# of 512 bytes), put/ (the PUT pool, 64 KiB each), mv/ (the MOVE pool, a000.bin ..., 1 KiB
# each), up/ (empty, for up1g).
make_dav_tree() {
    python3 - "$1" "$PUT_POOL" "$MOVE_POOL" <<'EOF' || return 1
import os, sys
root, put_pool, move_pool = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for d in ("c1000", "put", "mv", "up"):
    os.makedirs(os.path.join(root, d), exist_ok=True)
seed = os.urandom(65536)
def write(path, n, i):
    with open(path, "wb") as f:
        f.write(seed[i % 4096:][:n] if n <= 61440 else seed[:n])
for i in range(1000):
    write(os.path.join(root, "c1000", f"f{i:04d}.txt"), 512, i)
for i in range(put_pool):
    write(os.path.join(root, "put", f"p{i:03d}.bin"), 65536, i)
for i in range(move_pool):
    write(os.path.join(root, "mv", f"a{i:03d}.bin"), 1024, i)
EOF
}

# dav_curl ARGS...: curl with the credentials, reporting the status only
dav_curl() {
    curl -s --max-time 60 -u "$DAV_USER:$DAV_PASSWORD" -o /dev/null -w '%{http_code}' "$@"
}

# dav_check NAME: the server does what the workloads ask, and answers it right: a Depth: 1
# PROPFIND lists the 1,001 members of c1000/ (207), a PUT replaces a pool file byte for byte,
# a MOVE there and back succeeds twice, a wrong password gets 401.
dav_check() {
    local s=$1 url code n tree
    url=$(dav_url_of "$s") tree=$(dav_tree_of "$s")
    n=$(curl -s --max-time 60 -u "$DAV_USER:$DAV_PASSWORD" -X PROPFIND -H 'Depth: 1' \
        -H 'Content-Type: application/xml' --data-binary \
        '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>' \
        "$url/c1000/" | grep -oE '<([A-Za-z0-9]+:)?response[ >]' | wc -l)
    [ "$n" = 1001 ] || { warn "$s: PROPFIND Depth: 1 of c1000/ listed $n responses, not 1,001"; return 1; }
    head -c 65536 /dev/urandom >"$TMP/put.check"
    code=$(dav_curl -T "$TMP/put.check" -H 'Expect:' "$url/put/p000.bin")
    case $code in 200 | 201 | 204) ;; *) warn "$s: PUT put/p000.bin answered $code"; return 1 ;; esac
    cmp -s "$TMP/put.check" "$tree/put/p000.bin" ||
        { warn "$s: after the PUT, put/p000.bin does not hold the body"; return 1; }
    curl -s --max-time 60 -u "$DAV_USER:$DAV_PASSWORD" "$url/put/p000.bin" | cmp -s - "$TMP/put.check" ||
        { warn "$s: GET put/p000.bin did not return what was PUT"; return 1; }
    # 201 Created for a new destination (nginx answers 204 all the same)
    code=$(dav_curl -X MOVE -H "Destination: $url/mv/b000.bin" -H 'Overwrite: F' "$url/mv/a000.bin")
    case $code in 201 | 204) ;; *) warn "$s: MOVE mv/a000.bin -> b000.bin answered $code"; return 1 ;; esac
    [ -e "$tree/mv/b000.bin" ] && [ ! -e "$tree/mv/a000.bin" ] ||
        { warn "$s: after MOVE mv/a000.bin -> b000.bin the files are not so"; return 1; }
    code=$(dav_curl -X MOVE -H "Destination: $url/mv/a000.bin" -H 'Overwrite: F' "$url/mv/b000.bin")
    case $code in 201 | 204) ;; *) warn "$s: MOVE mv/b000.bin -> a000.bin answered $code"; return 1 ;; esac
    code=$(curl -s --max-time 60 -u "$DAV_USER:wrong-$DAV_PASSWORD" -o /dev/null -w '%{http_code}' \
        -X PROPFIND -H 'Depth: 0' "$url/c1000/")
    [ "$code" = 401 ] || { warn "$s: a wrong password got $code, not 401"; return 1; }
}

# move_reset NAME: every file of the MOVE pool back under its a name (by MOVEs through the
# server, one curl over one connection), so that move.lua starts from a known state: a run
# stops mid-pass. Warns when a file of the pool is missing or doubled.
move_reset() {
    local s=$1 url tree f i cfg=$TMP/move-reset.cfg a b
    url=$(dav_url_of "$s") tree=$(dav_tree_of "$s")
    sleep 0.2 # replies to the last requests of the wrk run
    : >"$cfg"
    for f in "$tree"/mv/b[0-9][0-9][0-9].bin; do
        [ -e "$f" ] || continue
        i=${f##*/b}
        # options do not carry over "next": each request names them all
        [ ! -s "$cfg" ] || echo next >>"$cfg"
        printf 'url = "%s/mv/b%s"\nrequest = "MOVE"\nuser = "%s:%s"\nheader = "Destination: %s/mv/a%s"\nheader = "Overwrite: F"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n' \
            "$url" "$i" "$DAV_USER" "$DAV_PASSWORD" "$url" "$i" >>"$cfg"
    done
    chmod 600 "$cfg"
    [ -s "$cfg" ] && curl -s --max-time 120 -K "$cfg" | grep -vE '^20[14]$' | sort | uniq -c |
        while read -r n c; do warn "$s: $n MOVEs back to the a names answered $c"; done
    a=$(find "$tree/mv" -maxdepth 1 -name 'a[0-9][0-9][0-9].bin' | wc -l)
    b=$(find "$tree/mv" -maxdepth 1 -name 'b[0-9][0-9][0-9].bin' | wc -l)
    if [ "$a" != "$MOVE_POOL" ] || [ "$b" != 0 ]; then
        warn "$s: the MOVE pool holds $a a files and $b b files, not $MOVE_POOL and 0"
    fi
}

# run_upload SERVER ROUND: $UP1G_REPS PUTs of the 1 GiB file with curl, one after the other
# (each to a name that does not exist: the previous one is deleted first, through the server);
# appends one line to $RESULTS: MB/s over the upload time, the server's CPU seconds per GiB
# received, and its CPU % over the upload time. Each upload must land whole (its size on disk).
run_upload() {
    local s=$1 round=$2 pid=${PID[$1]} url tree i out code size t c0 c1 got
    local bytes=0 secs=0 errors=0 rates=() ccpu=0 cu cs TIMEFORMAT='%U %S %R'
    url="$(dav_url_of "$s")/up/1g.bin" tree=$(dav_tree_of "$s")
    pin_tree "$pid" "$SERVER_CPU"
    local ticks=0
    for i in $(seq "$UP1G_REPS"); do
        [ ! -e "$tree/up/1g.bin" ] || {
            code=$(dav_curl -X DELETE "$url")
            [ "$code" = 204 ] || [ "$code" = 200 ] || warn "$s: DELETE up/1g.bin answered $code"
        }
        # What an earlier upload (of this server or another) left for the kernel to write
        # back would otherwise be written during this one, and charged to it.
        sync
        c0=$(tree_cpu_ticks "$pid")
        out=$({ time taskset -c "$LOADGEN_CPU" curl -s --http1.1 -u "$DAV_USER:$DAV_PASSWORD" \
            -H 'Expect:' -T "$DAV_BIG" --max-time 600 -o /dev/null \
            -w '%{http_code} %{size_upload} %{time_total}' "$url"; } 2>"$TMP/time")
        c1=$(tree_cpu_ticks "$pid")
        ticks=$((ticks + c1 - c0))
        read -r code size t <<<"$out"
        read -r cu cs _ <"$TMP/time"
        ccpu=$(awk -v a="$ccpu" -v u="$cu" -v s="$cs" 'BEGIN { print a + u + s }')
        got=$(stat -c %s "$tree/up/1g.bin" 2>/dev/null)
        if [ "$code" != 201 ] && [ "$code" != 204 ] && [ "$code" != 200 ] ||
            [ "$size" != "$BIG_BYTES" ] || [ "$got" != "$BIG_BYTES" ]; then
            warn "$s up1g round $round upload $i: status ${code:-none}, ${size:-0} bytes sent, ${got:-no file of} bytes on disk"
            errors=$((errors + 1))
        fi
        bytes=$((bytes + ${size:-0}))
        secs=$(awk -v a="$secs" -v b="${t:-0}" 'BEGIN { print a + b }')
        rates+=("$(awk -v n="${size:-0}" -v t="${t:-0}" 'BEGIN { printf "%.0f", (t > 0 ? n / t / 1e6 : 0) }')")
    done
    if ! kill -0 "$pid" 2>/dev/null; then
        warn "$s (pid $pid) is gone"
        printf '%s\tup1g\t%s\tfailed=1\n' "$s" "$round" >>"$RESULTS"
        return 1
    fi
    # a cut upload's MB/s would be the rate of its first megabytes: no figures then
    if [ "$errors" -gt 0 ]; then
        printf '%s\tup1g\t%s\tfailed=1 errors=%d bytes=%d\n' "$s" "$round" "$errors" "$bytes" |
            tee -a "$RESULTS" >&2
        return 1
    fi
    awk -v s="$s" -v r="$round" -v b="$bytes" -v secs="$secs" -v n="$UP1G_REPS" -v e="$errors" \
        -v ticks="$ticks" -v hz="$CLK_TCK" -v rates="${rates[*]}" -v ccpu="$ccpu" 'BEGIN {
        cpu = ticks / hz
        printf "%s\tup1g\t%s\tmb_s=%.1f cpu_s_gib=%.3f cpu_pct=%.0f client_cpu_pct=%.0f", s, r,
            secs ? b / secs / 1e6 : 0, b ? cpu / (b / 1073741824) : 0,
            secs ? 100 * cpu / secs : 0, secs ? 100 * ccpu / secs : 0
        printf " uploads=%d bytes=%.0f", n, b
        gsub(" ", ",", rates)
        printf " secs=%.2f errors=%d each_mb_s=%s\n", secs, e, rates }' | tee -a "$RESULTS" >&2
}

# run_litmus NAME: litmus's $LITMUS_TESTS against NAME's folder (litmus makes its own
# litmus/ collection in it); appends "NAME litmus 1 passed= failed= warnings= skipped=
# suites=" to $RESULTS and keeps litmus's output in the runtime dir.
run_litmus() {
    local s=$1 dir=$RUNTIME/dav-$1/litmus line
    mkdir -p "$dir"
    (cd "$dir" && TESTS="$LITMUS_TESTS" timeout "$LITMUS_TIMEOUT" taskset -c "$LOADGEN_CPU" \
        litmus -k "$(dav_url_of "$s")/" "$DAV_USER" "$DAV_PASSWORD") >"$dir/litmus.log" 2>&1
    # "<- summary for `basic': of 16 tests run: 16 passed, 0 failed. 100.0%",
    # "-> 2 warnings were issued.", "-> 17 tests were skipped."; a suite that could not
    # start prints no summary (counted in suites= against the suites asked for)
    line=$(awk -v want="$(wc -w <<<"$LITMUS_TESTS")" '
        /^<- summary for/ { for (i = 1; i <= NF; i++) {
                if ($i ~ /^passed,?$/) p += $(i - 1); if ($i ~ /^failed/) f += $(i - 1) }
            n++ }
        /^-> [0-9]+ warnings? (was|were) issued/ { w += $2 }
        /^-> [0-9]+ tests? (was|were) skipped/ { k += $2 }
        END { printf "passed=%d failed=%d warnings=%d skipped=%d suites=%d suites_asked=%d",
            p, f, w, k, n, want }' "$dir/litmus.log")
    printf '%s\tlitmus\t1\t%s\n' "$s" "$line" | tee -a "$RESULTS" >&2
    [[ $line == *"suites=$(wc -w <<<"$LITMUS_TESTS") "* ]] ||
        warn "$s: not every litmus suite finished; see $dir/litmus.log"
}

# start_dav NAME: NAME serving its tree on port_of NAME; sets STARTED_PID.
start_dav() {
    if [ "$1" = fastfile ]; then
        FF_DATA=$FF_DAV_DATA start_server fastfile "$(port_of fastfile)" "$(tls_port_of fastfile)"
    else
        start_dav_server "$1" "$(port_of "$1")" "$(dav_tree_of "$1")"
    fi
}

# dav_phase: the trees, the servers, the checks, $ROUNDS rounds of the dav workloads
# (interleaved, the order rotating as in the static phase), then litmus, then stop.
dav_phase() {
    local s up=() wl round i k wrk_wls=() do_litmus=
    for wl in $DAV_WLS; do
        case $wl in litmus) do_litmus=1 ;; *) wrk_wls+=("$wl") ;; esac
    done
    say "WebDAV: generating the tree"
    make_dav_tree "$TMP/davtree" || die "could not generate the WebDAV tree"
    if [[ " ${DAV_WLS} " == *" up1g "* ]]; then
        say "generating a 1 GiB file to upload"
        head -c "$BIG_BYTES" /dev/urandom >"$DAV_BIG" || die "could not write the 1 GiB file"
    fi
    # Apache's child runs as www-data: it must get through to its tree and runtime dir
    chmod 711 "$TMP" "$RUNTIME"
    mkdir -p "$TMP/dav" && chmod 755 "$TMP/dav"
    for s in "${ACTIVE_DAV[@]}"; do
        if [ "$s" = fastfile ]; then
            "$FASTFILE" user add "$DAV_USER" --data "$FF_DAV_DATA" --argon2-ops 1 --argon2-mem 8 \
                <<<"$DAV_PASSWORD" >/dev/null || { warn "fastfile user add failed"; continue; }
        fi
        mkdir -p "$(dav_tree_of "$s")"
        cp -a "$TMP/davtree/." "$(dav_tree_of "$s")/" || die "could not copy the tree for $s"
        if start_dav "$s" && dav_check "$s"; then
            PID["$s"]=$STARTED_PID
            up+=("$s")
            echo "# dav $s $(version_of "$s") port=$(port_of "$s") pid=${PID[$s]}" >>"$RESULTS"
        else
            warn "$s failed to start or to serve WebDAV: leaving it out"
            [ -n "$STARTED_PID" ] && stop_pid "$STARTED_PID"
        fi
    done
    [ ${#up[@]} -gt 0 ] || { warn "no WebDAV server came up"; return 1; }
    grep '^# dav ' "$RESULTS" | sed 's/^# //' >&2
    k=${#up[@]}
    if [ ${#wrk_wls[@]} -gt 0 ]; then
        say "WebDAV throughput: ${up[*]}; $ROUNDS round(s) of ${wrk_wls[*]}, ${DURATION}s each"
        for round in $(seq 1 "$ROUNDS"); do
            for wl in "${wrk_wls[@]}"; do
                for i in $(seq 0 $((k - 1))); do
                    s=${up[$(((i + round - 1) % k))]}
                    if [ "$wl" = up1g ]; then
                        run_upload "$s" "$round"
                    else
                        run_wrk "$s" "$wl" "$round"
                    fi
                done
            done
        done
    fi
    if [ -n "$do_litmus" ]; then
        say "litmus ($LITMUS_TESTS) on ${up[*]}"
        for s in "${up[@]}"; do run_litmus "$s"; done
    fi
    for s in "${up[@]}"; do stop_pid "${PID[$s]}"; done
    # shellcheck disable=SC2034 # read by run.sh (the logs kept in BENCH_OUT)
    DAV_UP=("${up[@]}")
}
