# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Helpers shared by the bench scripts (sourced by run.sh): messages, process-tree CPU and
# memory from /proc, CPU pinning, port waiting, and stopping a process we started.

# shellcheck disable=SC2034 # used by run.sh
CLK_TCK=$(getconf CLK_TCK)

say() { printf 'bench: %s\n' "$*" >&2; }
warn() { printf 'bench: warning: %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

# need CMD PACKAGE: fail with an install hint when CMD is missing.
need() {
    command -v "$1" >/dev/null 2>&1 ||
        die "'$1' not found; install it with: apt-get install $2"
}

# PID and all its descendants, one per line.
tree_pids() {
    local root=$1 kid
    [ -n "$root" ] && [ -d "/proc/$root" ] || return 0
    echo "$root"
    # shellcheck disable=SC2013 # the file holds PIDs separated by spaces
    for kid in $(cat /proc/"$root"/task/*/children 2>/dev/null); do
        tree_pids "$kid"
    done
}

# utime+stime (clock ticks, all threads) summed over the process tree of PID.
tree_cpu_ticks() {
    local sum=0 p f
    for p in $(tree_pids "$1"); do
        # the command name may hold spaces: fields are counted after the closing ")";
        # there utime and stime are the 12th and 13th (14 and 15 in proc(5)).
        f=$(sed 's/^.*) //' /proc/"$p"/stat 2>/dev/null) || continue
        # shellcheck disable=SC2086 # split into fields on purpose
        set -- $f
        sum=$((sum + ${12:-0} + ${13:-0}))
    done
    echo "$sum"
}

# VmRSS (KiB) summed over the process tree of PID.
tree_rss_kb() {
    local sum=0 p v
    for p in $(tree_pids "$1"); do
        v=$(awk '/^VmRSS:/ { print $2 }' /proc/"$p"/status 2>/dev/null)
        sum=$((sum + ${v:-0}))
    done
    echo "$sum"
}

# Pss (KiB) summed over the process tree of PID: shared pages are split between the
# processes mapping them, so a master + worker pair is not counted twice.
tree_pss_kb() {
    local sum=0 p v
    for p in $(tree_pids "$1"); do
        v=$(awk '/^Pss:/ { print $2 }' /proc/"$p"/smaps_rollup 2>/dev/null)
        sum=$((sum + ${v:-0}))
    done
    echo "$sum"
}

# pin_tree PID CPU: every thread of every process of the tree. Kernel-owned threads
# (io_uring workers) may refuse; their CPU time is still counted in the process's.
pin_tree() {
    local p
    for p in $(tree_pids "$1"); do
        taskset -a -p -c "$2" "$p" >/dev/null 2>&1 || true
    done
}

# port_busy PORT: true when something accepts connections on 127.0.0.1:PORT.
port_busy() {
    (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null
}

# wait_port PORT PID: wait (up to ~10 s) until 127.0.0.1:PORT accepts connections while
# PID is alive. Fails when PID exits first or the time runs out.
wait_port() {
    local port=$1 pid=$2 _
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || return 1
        port_busy "$port" && return 0
        sleep 0.1
    done
    return 1
}

# parent_of PID: its parent's PID (empty when PID is gone).
parent_of() {
    sed 's/^.*) //' /proc/"$1"/stat 2>/dev/null | cut -d' ' -f2
}

# stop_pid PID: SIGTERM one process this script started (a child of this shell: a reused
# PID is left alone), wait up to 5 s, then SIGKILL it. nginx's master takes its worker down
# with it; the other servers are single processes.
stop_pid() {
    local pid=$1 _
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    [ "$(parent_of "$pid")" = "$$" ] || return 0
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        warn "pid $pid ignored SIGTERM, sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null || true
}
