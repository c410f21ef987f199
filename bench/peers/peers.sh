# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Starting the servers under test (sourced by run.sh after lib.sh).
#
# start_server NAME PORT starts fastfile, nginx or lighttpd in the foreground as a child of
# the calling shell (call it directly, not in $(...)), pinned to $SERVER_CPU, serving $FILES
# on 127.0.0.1:PORT, with its configuration and logs in $RUNTIME/NAME (output.log: stdout and
# stderr; error.log: the server's error log). Once the port accepts
# connections it sets STARTED_PID (the process run.sh stops, and whose tree it measures) and
# appends it to BENCH_PIDS for the exit trap; otherwise it fails with the server's log on
# stderr. Config templates: peers/NAME.conf.in, rendered by render_conf.

PEERS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NGINX_BIN=${NGINX_BIN:-$(PATH=$PATH:/usr/sbin:/sbin command -v nginx)}
LIGHTTPD_BIN=${LIGHTTPD_BIN:-$(PATH=$PATH:/usr/sbin:/sbin command -v lighttpd)}

# render_conf TEMPLATE OUT PORT RT: substitute @PORT@ @FILES@ @RT@.
render_conf() {
    sed -e "s#@PORT@#$3#g" -e "s#@FILES@#$FILES#g" -e "s#@RT@#$4#g" "$1" >"$2"
}

# server_available NAME: true when NAME can be started; otherwise says why on stderr.
server_available() {
    case $1 in
    fastfile)
        if [ -z "$FASTFILE" ]; then
            warn "FASTFILE is empty: skipping fastfile"
            return 1
        fi
        if [ ! -x "$FASTFILE" ]; then
            warn "no fastfile binary at $FASTFILE (build it, or set FASTFILE=path): skipping fastfile"
            return 1
        fi ;;
    nginx)
        if [ -z "$NGINX_BIN" ]; then
            warn "nginx not found (apt-get install nginx-light): skipping nginx"
            return 1
        fi ;;
    lighttpd)
        if [ -z "$LIGHTTPD_BIN" ]; then
            warn "lighttpd not found (apt-get install lighttpd): skipping lighttpd"
            return 1
        fi ;;
    *)
        warn "unknown server '$1' (known: fastfile nginx lighttpd): skipping it"
        return 1 ;;
    esac
}

start_server() {
    local name=$1 port=$2 rt=$RUNTIME/$1 pid
    STARTED_PID=
    mkdir -p "$rt"
    port_busy "$port" && { warn "port $port is already in use"; return 1; }
    case $name in
    fastfile)
        taskset -c "$SERVER_CPU" "$FASTFILE" serve --listen "127.0.0.1:$port" --threads 1 \
            --data "$DATA" --access-log off --keepalive-timeout 300 \
            >"$rt/output.log" 2>"$rt/error.log" &
        pid=$! ;;
    nginx)
        render_conf "$PEERS_DIR/nginx.conf.in" "$rt/nginx.conf" "$port" "$rt"
        "$NGINX_BIN" -q -t -p "$rt" -e "$rt/error.log" -c "$rt/nginx.conf" >"$rt/output.log" 2>&1 ||
            { cat "$rt/output.log" >&2; return 1; }
        taskset -c "$SERVER_CPU" "$NGINX_BIN" -p "$rt" -e "$rt/error.log" -c "$rt/nginx.conf" \
            >"$rt/output.log" 2>&1 &
        pid=$! ;;
    lighttpd)
        render_conf "$PEERS_DIR/lighttpd.conf.in" "$rt/lighttpd.conf" "$port" "$rt"
        "$LIGHTTPD_BIN" -tt -f "$rt/lighttpd.conf" >"$rt/output.log" 2>&1 ||
            { cat "$rt/output.log" >&2; return 1; }
        taskset -c "$SERVER_CPU" "$LIGHTTPD_BIN" -D -f "$rt/lighttpd.conf" >"$rt/output.log" 2>&1 &
        pid=$! ;;
    esac
    BENCH_PIDS+=("$pid")
    if ! wait_port "$port" "$pid"; then
        warn "$name did not come up on port $port; its output:"
        cat "$rt/output.log" "$rt/error.log" >&2 2>/dev/null
        stop_pid "$pid"
        return 1
    fi
    # fastfile says so on stdout once it is ready; give it a moment after the port opens
    if [ "$name" = fastfile ]; then
        local _
        for _ in $(seq 20); do
            grep -q 'listening on' "$rt/output.log" && break
            sleep 0.1
        done
    fi
    pin_tree "$pid" "$SERVER_CPU"
    # shellcheck disable=SC2034 # read by run.sh
    STARTED_PID=$pid
}
