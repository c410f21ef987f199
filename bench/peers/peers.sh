# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Starting the servers under test (sourced by run.sh after lib.sh).
#
# start_server NAME PORT TLSPORT starts fastfile, nginx or lighttpd in the foreground as a child
# of the calling shell (call it directly, not in $(...)), pinned to $SERVER_CPU, serving $FILES
# over plain HTTP on 127.0.0.1:PORT and over HTTPS on 127.0.0.1:TLSPORT with the certificate
# $CERT and key $KEY (the same pair for every server), with its configuration and logs in
# $RUNTIME/NAME (output.log: stdout and stderr; error.log: the server's error log). Once both
# ports accept connections it sets STARTED_PID (the process run.sh stops, and whose tree it
# measures) and appends it to BENCH_PIDS for the exit trap; otherwise it fails with the
# server's log on stderr. Config templates: peers/NAME.conf.in, rendered by render_conf.
#
# TLS settings, the same for all three (fastfile's are built in, see server/tls/ctx.c):
# TLS 1.2 and 1.3 only; TLS 1.2 suites ECDHE + AEAD only, in fastfile's order ($TLS12_CIPHERS);
# TLS 1.3 suites all three AEADs; groups X25519, P-256, P-384; server cipher preference on;
# session tickets on (each server's default) and each server's default session cache.

PEERS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NGINX_BIN=${NGINX_BIN:-$(PATH=$PATH:/usr/sbin:/sbin command -v nginx)}
LIGHTTPD_BIN=${LIGHTTPD_BIN:-$(PATH=$PATH:/usr/sbin:/sbin command -v lighttpd)}
APACHE_BIN=${APACHE_BIN:-$(PATH=$PATH:/usr/sbin:/sbin command -v apache2)}
# module folders of the Debian packages (the dav-ext module for nginx, Apache's modules)
NGINX_MODULES=${NGINX_MODULES:-/usr/lib/nginx/modules}
APACHE_MODULES=${APACHE_MODULES:-/usr/lib/apache2/modules}

# fastfile's TLS 1.2 list (server/tls/ctx.c) without BoringSSL's equal-preference brackets
TLS12_CIPHERS=ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384
# OpenSSL's default TLS 1.3 order (BoringSSL, in fastfile, takes the client's order)
TLS13_SUITES=TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256
TLS_GROUPS=X25519:P-256:P-384

# render_conf TEMPLATE OUT PORT RT TLSPORT: substitute @PORT@ @FILES@ @RT@ @TLSPORT@ @CERT@
# @KEY@ @TLS12_CIPHERS@ @TLS13_SUITES@ @TLS_GROUPS@.
render_conf() {
    sed -e "s#@PORT@#$3#g" -e "s#@FILES@#$FILES#g" -e "s#@RT@#$4#g" -e "s#@TLSPORT@#$5#g" \
        -e "s#@CERT@#$CERT#g" -e "s#@KEY@#$KEY#g" -e "s#@TLS12_CIPHERS@#$TLS12_CIPHERS#g" \
        -e "s#@TLS13_SUITES@#$TLS13_SUITES#g" -e "s#@TLS_GROUPS@#$TLS_GROUPS#g" "$1" >"$2"
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
    apache)
        if [ -z "$APACHE_BIN" ]; then
            warn "apache2 not found (apt-get install apache2): skipping apache"
            return 1
        fi ;;
    *)
        warn "unknown server '$1' (known: fastfile nginx lighttpd apache): skipping it"
        return 1 ;;
    esac
}

start_server() {
    local name=$1 port=$2 tlsport=$3 rt=$RUNTIME/$1 pid p
    STARTED_PID=
    mkdir -p "$rt"
    for p in "$port" "$tlsport"; do
        port_busy "$p" && { warn "port $p is already in use"; return 1; }
    done
    case $name in
    fastfile)
        taskset -c "$SERVER_CPU" "$FASTFILE" serve --http "127.0.0.1:$port" \
            --listen "127.0.0.1:$tlsport" --cert "$CERT" --key "$KEY" --threads 1 \
            --data "$FF_DATA" --access-log off --keepalive-timeout 300 \
            >"$rt/output.log" 2>"$rt/error.log" &
        pid=$! ;;
    nginx)
        render_conf "$PEERS_DIR/nginx.conf.in" "$rt/nginx.conf" "$port" "$rt" "$tlsport"
        "$NGINX_BIN" -q -t -p "$rt" -e "$rt/error.log" -c "$rt/nginx.conf" >"$rt/output.log" 2>&1 ||
            { cat "$rt/output.log" >&2; return 1; }
        taskset -c "$SERVER_CPU" "$NGINX_BIN" -p "$rt" -e "$rt/error.log" -c "$rt/nginx.conf" \
            >"$rt/output.log" 2>&1 &
        pid=$! ;;
    lighttpd)
        render_conf "$PEERS_DIR/lighttpd.conf.in" "$rt/lighttpd.conf" "$port" "$rt" "$tlsport"
        "$LIGHTTPD_BIN" -tt -f "$rt/lighttpd.conf" >"$rt/output.log" 2>&1 ||
            { cat "$rt/output.log" >&2; return 1; }
        taskset -c "$SERVER_CPU" "$LIGHTTPD_BIN" -D -f "$rt/lighttpd.conf" >"$rt/output.log" 2>&1 &
        pid=$! ;;
    esac
    BENCH_PIDS+=("$pid")
    if ! wait_port "$port" "$pid" || ! wait_port "$tlsport" "$pid"; then
        warn "$name did not come up on ports $port and $tlsport; its output:"
        cat "$rt/output.log" "$rt/error.log" >&2 2>/dev/null
        stop_pid "$pid"
        return 1
    fi
    # fastfile's last line on stdout, once it is ready, is the certificate's fingerprint
    if [ "$name" = fastfile ]; then
        local _
        for _ in $(seq 20); do
            grep -q 'fingerprint' "$rt/output.log" && break
            sleep 0.1
        done
    fi
    pin_tree "$pid" "$SERVER_CPU"
    # shellcheck disable=SC2034 # read by run.sh
    STARTED_PID=$pid
}

# --- WebDAV peers (the dav workloads) ------------------------------------------------------
# dav_available NAME: true when NAME can serve WebDAV here (the module files are present);
# otherwise says why on stderr.
dav_available() {
    server_available "$1" || return 1
    case $1 in
    nginx)
        [ -f "$NGINX_MODULES/ngx_http_dav_ext_module.so" ] || {
            warn "no nginx dav-ext module in $NGINX_MODULES (apt-get install libnginx-mod-http-dav-ext): skipping nginx"
            return 1
        } ;;
    lighttpd)
        [ -f "$(dirname "$(readlink -f "$LIGHTTPD_BIN")")/../lib/lighttpd/mod_webdav.so" ] ||
            [ -f /usr/lib/lighttpd/mod_webdav.so ] || {
            warn "no lighttpd mod_webdav (apt-get install lighttpd-mod-webdav): skipping lighttpd"
            return 1
        } ;;
    apache)
        [ -f "$APACHE_MODULES/mod_dav_fs.so" ] || {
            warn "no mod_dav_fs in $APACHE_MODULES (apt-get install apache2): skipping apache"
            return 1
        } ;;
    esac
}

# htpasswd_sha USER PASS: one htpasswd line with the {SHA} scheme (base64 of SHA-1), the one
# scheme Apache, nginx and lighttpd all read that costs a single hash: a per-request bcrypt
# or apr1 check would be most of the work on a small request.
htpasswd_sha() {
    printf '%s:{SHA}%s\n' "$1" "$(printf '%s' "$2" | openssl dgst -sha1 -binary | base64)"
}

# start_dav_server NAME PORT TREE: NAME (a peer) serving the WebDAV tree TREE at / on
# 127.0.0.1:PORT, HTTP Basic for $DAV_USER / $DAV_PASSWORD, one worker pinned to
# $SERVER_CPU, configuration and logs in $RUNTIME/dav-NAME. Sets STARTED_PID as start_server
# (fastfile is started with start_server itself, on its own data folder).
start_dav_server() {
    local name=$1 port=$2 tree=$3 rt=$RUNTIME/dav-$1 pid conf
    STARTED_PID=
    mkdir -p "$rt"
    port_busy "$port" && { warn "port $port is already in use"; return 1; }
    htpasswd_sha "$DAV_USER" "$DAV_PASSWORD" >"$rt/htpasswd"
    chmod 600 "$rt/htpasswd"
    conf=$rt/$name.conf
    sed -e "s#@PORT@#$port#g" -e "s#@TREE@#$tree#g" -e "s#@RT@#$rt#g" \
        -e "s#@NGINX_MODULES@#$NGINX_MODULES#g" -e "s#@APACHE_MODULES@#$APACHE_MODULES#g" \
        "$PEERS_DIR/$name-dav.conf.in" >"$conf"
    case $name in
    nginx)
        "$NGINX_BIN" -q -t -p "$rt" -e "$rt/error.log" -c "$conf" >"$rt/output.log" 2>&1 ||
            { cat "$rt/output.log" >&2; return 1; }
        taskset -c "$SERVER_CPU" "$NGINX_BIN" -p "$rt" -e "$rt/error.log" -c "$conf" \
            >"$rt/output.log" 2>&1 &
        pid=$! ;;
    lighttpd)
        "$LIGHTTPD_BIN" -tt -f "$conf" >"$rt/output.log" 2>&1 ||
            { cat "$rt/output.log" >&2; return 1; }
        taskset -c "$SERVER_CPU" "$LIGHTTPD_BIN" -D -f "$conf" >"$rt/output.log" 2>&1 &
        pid=$! ;;
    apache)
        # the child serves as www-data: it owns the tree, the lock database and the password
        # file, and may traverse the runtime dir (the parent, root, writes the pid and logs)
        mkdir -p "$rt/davlock"
        chown -R www-data:www-data "$tree" "$rt/davlock" "$rt/htpasswd" || return 1
        "$APACHE_BIN" -t -f "$conf" >"$rt/output.log" 2>&1 ||
            { cat "$rt/output.log" >&2; return 1; }
        taskset -c "$SERVER_CPU" "$APACHE_BIN" -DFOREGROUND -f "$conf" >"$rt/output.log" 2>&1 &
        pid=$! ;;
    *) warn "no WebDAV configuration for $name"; return 1 ;;
    esac
    BENCH_PIDS+=("$pid")
    if ! wait_port "$port" "$pid"; then
        warn "$name did not come up on port $port; its output:"
        cat "$rt/output.log" "$rt/error.log" >&2 2>/dev/null
        stop_pid "$pid"
        return 1
    fi
    # Apache's child (the one that serves) may start a moment after the listener
    local _
    for _ in $(seq 20); do
        [ -n "$(cat /proc/"$pid"/task/*/children 2>/dev/null)" ] || [ "$name" = lighttpd ] && break
        sleep 0.1
    done
    pin_tree "$pid" "$SERVER_CPU"
    # shellcheck disable=SC2034 # read by run.sh
    STARTED_PID=$pid
}
