#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vm-run.sh - run tests/vm/guest-tests.sh against a fastfile binary inside a throw-away
# Debian 6.1 kernel (the tls module and the AES-GCM / ChaCha20-Poly1305 crypto modules, which
# the development and CI kernels may lack) booted under QEMU.
#
# Usage: tests/vm/vm-run.sh [options] FASTFILE
#
#   --cache DIR     where the kernel and busybox .debs, the extracted kernel and each run's
#                   initramfs live (default $FASTFILE_VM_CACHE, else ./vm-cache). Keep it in
#                   a build tree, never in the source tree.
#   --timeout SECS  wall-clock limit for the VM, boot to power-off (default 210)
#   --mem MB        guest memory (default 1024: the test data lives in RAM)
#   --cpus N        guest vCPUs (default 2, at most the host's CPU count)
#   --keep          keep the run directory (initramfs, console.log) for a look afterwards
#   --verbose       show the whole console (kernel messages included) and timings
#
# What it does:
#   1. Host packages: qemu-system-x86, cpio, curl, openssl, xz-utils. Missing ones are
#      installed with apt-get when running as root; otherwise the test skips (77).
#   2. Into the cache, once: `apt-get download` of the Debian kernel image that
#      linux-image-amd64 points at and of busybox-static; only vmlinuz and the module
#      directories kTLS needs are extracted, and the bzImage's xz payload is unpacked to an
#      ELF vmlinux that QEMU boots through its PVH entry (skips ~3 s of decompression under
#      software emulation).
#   3. An initramfs (uncompressed cpio, merged-/usr layout): busybox, the kTLS modules and
#      their modules.dep closure, fastfile, curl and openssl with every library ldd lists,
#      guest-tests.sh, and an /init that runs it.
#   4. Boots it: KVM when /dev/kvm is usable, else TCG with `-cpu max` (emulated AES-NI and
#      PCLMUL, so aesni_intel loads). The guest reports on the serial console:
#        VMTEST ok NAME [detail]      VMTEST fail NAME reason      VMTEST note text
#        VMTEST done passed=N failed=N            VMTEST exit RC   (written by /init)
#
# Exit status: 0 only when the guest ran to `VMTEST done`, reported at least one ok, no fail
# and exit 0; 1 on any failure (including a timeout, a kernel panic or a missing marker); 77
# when the prerequisites are missing and cannot be installed (not root, no apt access). With
# CI=true nothing may skip: what would be 77 is 1.
set -euo pipefail

ME=vm-run
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${FASTFILE_VM_CACHE:-$PWD/vm-cache}
TIMEOUT=210
MEM=1024
CPUS=2
KEEP=0
VERBOSE=0
# Loaded by guest-tests.sh; the image holds these and their dependencies. Both the
# accelerated and the generic implementations are shipped so a CPU without AES-NI still works.
MODULES="tls gcm ctr ghash_clmulni_intel ghash_generic aesni_intel chacha20poly1305
         chacha_x86_64 chacha_generic poly1305_x86_64 poly1305_generic"

say() { echo "$ME: $*" >&2; }
debug() { if [ "$VERBOSE" = 1 ]; then say "$@"; fi; }
fail() { say "FAIL: $*"; exit 1; }
skip() {
    if [ "${CI:-}" = true ]; then
        fail "would skip, but CI=true forbids skipping: $*"
    fi
    echo "SKIP: $*"
    exit 77
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
is_elf() { [ "$(head -c 4 "$1" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; }

while [ $# -gt 0 ]; do
    case $1 in
        --cache) CACHE=$2; shift 2 ;;
        --timeout) TIMEOUT=$2; shift 2 ;;
        --mem) MEM=$2; shift 2 ;;
        --cpus) CPUS=$2; shift 2 ;;
        --keep) KEEP=1; shift ;;
        --verbose) VERBOSE=1; shift ;;
        -h|--help) sed -n '3,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) fail "unknown option $1 (see --help)" ;;
        *) break ;;
    esac
done
[ $# = 1 ] || fail "usage: $ME [options] FASTFILE"
FASTFILE=$(realpath "$1")
[ -x "$FASTFILE" ] || fail "not an executable: $1"
host_cpus=$(nproc)
[ "$CPUS" -le "$host_cpus" ] || CPUS=$host_cpus

T_START=$(now)

# ------------------------------------------------------------------ host packages ----------
# command -> package providing it
declare -A PROVIDES=([qemu-system-x86_64]=qemu-system-x86 [cpio]=cpio [curl]=curl
                     [openssl]=openssl [xz]=xz-utils [apt-get]=apt [dpkg-deb]=dpkg
                     [ldd]=libc-bin [flock]=util-linux [timeout]=coreutils)
missing=()
for cmd in "${!PROVIDES[@]}"; do
    command -v "$cmd" >/dev/null || missing+=("${PROVIDES[$cmd]}")
done
if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] ||
        skip "not root, cannot install the packages this test needs: apt-get install ${missing[*]}"
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
        apt-get update -qq >/dev/null 2>&1 || skip "apt-get update failed (no network?)"
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
            skip "apt-get install ${missing[*]} failed"
    fi
    for cmd in "${!PROVIDES[@]}"; do
        command -v "$cmd" >/dev/null || fail "$cmd still missing after installing ${missing[*]}"
    done
    say "packages installed in $(since "$T_START") s"
fi
T_PACKAGES=$(now)

# ------------------------------------------------------------------ cache: kernel, busybox ---
mkdir -p "$CACHE"
CACHE=$(realpath "$CACHE")
exec 8>"$CACHE/lock"
flock 8 # concurrent runs (build and build-san) fill the cache once and share it

# fetch_deb PACKAGE: sets DEB to its .deb in $CACHE/debs, downloading it on first use.
fetch_deb() {
    local pkg=$1 tmp
    DEB=$(find "$CACHE/debs" -maxdepth 1 -name "${pkg}_*.deb" 2>/dev/null | head -n 1)
    [ -z "$DEB" ] || return 0
    mkdir -p "$CACHE/debs"
    tmp=$(mktemp -d "$CACHE/debs/dl.XXXXXX")
    chmod 0777 "$tmp" # as root, apt downloads as its sandbox user _apt
    if (cd "$tmp" && apt-get download -qq "$pkg" >/dev/null 2>&1); then
        DEB=$(find "$tmp" -maxdepth 1 -name "${pkg}_*.deb" | head -n 1)
        mv "$DEB" "$CACHE/debs/"
        DEB=$CACHE/debs/$(basename "$DEB")
    fi
    rm -rf "$tmp"
    [ -n "$DEB" ]
}

# The apt lists may be missing (fresh container) or stale; refresh them once when needed.
apt_lists_tried=0
apt_refresh() {
    [ $apt_lists_tried = 0 ] && [ "$(id -u)" = 0 ] || return 1
    apt_lists_tried=1
    say "refreshing the apt package lists"
    apt-get update -qq >/dev/null 2>&1
}
fetch_or_skip() {
    fetch_deb "$1" || { apt_refresh && fetch_deb "$1"; } ||
        skip "apt-get download $1 failed (no apt access, or stale lists and not root)"
}

KPKG=${FASTFILE_VM_KERNEL_PKG:-}
if [ -z "$KPKG" ]; then
    resolve() { apt-cache depends linux-image-amd64 2>/dev/null |
                sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n 1; }
    KPKG=$(resolve)
    if [ -z "$KPKG" ]; then apt_refresh || true; KPKG=$(resolve); fi
    [ -n "$KPKG" ] || skip "cannot resolve linux-image-amd64 from the apt lists (not Debian?)"
fi

BUSYBOX=$CACHE/busybox
if [ ! -x "$BUSYBOX" ]; then
    fetch_or_skip busybox-static
    tmp=$(mktemp -d "$CACHE/busybox.XXXXXX")
    dpkg-deb -x "$DEB" "$tmp"
    mv "$tmp/bin/busybox" "$BUSYBOX"
    rm -rf "$tmp"
fi

KDIR=$CACHE/$KPKG
if [ ! -f "$KDIR/kver" ]; then
    say "preparing $KPKG (one time)"
    fetch_or_skip "$KPKG"
    rm -rf "$KDIR" "$KDIR.part"
    mkdir -p "$KDIR.part"
    dpkg-deb --fsys-tarfile "$DEB" | tar -x -C "$KDIR.part" --wildcards \
        './boot/vmlinuz-*' './lib/modules/*/modules.builtin' './lib/modules/*/modules.order' \
        './lib/modules/*/kernel/net/tls' './lib/modules/*/kernel/crypto' \
        './lib/modules/*/kernel/arch/x86/crypto' './lib/modules/*/kernel/lib' ||
        fail "cannot extract $DEB"
    kver=$(ls "$KDIR.part/lib/modules")
    mv "$KDIR.part/boot/vmlinuz-$kver" "$KDIR.part/vmlinuz"
    # The bzImage is a decompressor plus an xz stream holding the ELF kernel. QEMU can boot
    # that ELF directly (PVH entry, Debian has CONFIG_PVH=y), which saves the decompression.
    xzat=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$KDIR.part/vmlinuz" | head -n 1 | cut -d: -f1 || true)
    if [ -n "$xzat" ]; then
        tail -c +$((xzat + 1)) "$KDIR.part/vmlinuz" |
            xz -dc --single-stream >"$KDIR.part/vmlinux" 2>/dev/null || true
        is_elf "$KDIR.part/vmlinux" || rm -f "$KDIR.part/vmlinux"
    fi
    "$BUSYBOX" depmod -b "$KDIR.part" "$kver" || fail "depmod failed"
    echo "$kver" >"$KDIR.part/kver"
    mv "$KDIR.part" "$KDIR"
fi
KVER=$(cat "$KDIR/kver")
MODDIR=$KDIR/lib/modules/$KVER
KERNEL=$KDIR/vmlinuz
[ -f "$KDIR/vmlinux" ] && KERNEL=$KDIR/vmlinux
flock -u 8
T_CACHE=$(now)
debug "cache ready in $(since "$T_PACKAGES") s: $KPKG ($KVER), $(basename "$KERNEL")"

# ------------------------------------------------------------------ initramfs ---------------
RUN=$(mktemp -d "$CACHE/run.XXXXXX")
if [ "$KEEP" = 1 ]; then
    say "run directory kept: $RUN"
else
    trap 'rm -rf "$RUN"' EXIT
fi
R=$RUN/root
mkdir -p "$R"/usr/{bin,sbin,lib,lib64} "$R"/{dev,proc,sys,tmp,run,root,etc,vmtest}
for d in bin sbin lib lib64; do ln -s "usr/$d" "$R/$d"; done
cp "$BUSYBOX" "$R/usr/bin/busybox"

# Modules: each requested one plus what modules.dep says it needs; busybox depmod then writes
# the image's own modules.dep and modules.alias (the kernel's on-demand requests such as
# "crypto-gcm(aes)" resolve through the aliases).
declare -A HAVE_MOD=()
add_module_file() {
    local rel=$1 dep
    [ -z "${HAVE_MOD[$rel]:-}" ] || return 0
    HAVE_MOD[$rel]=1
    mkdir -p "$R/lib/modules/$KVER/$(dirname "$rel")"
    cp "$MODDIR/$rel" "$R/lib/modules/$KVER/$rel"
    # shellcheck disable=SC2013 # modules.dep lists dependencies as space-separated words
    for dep in $(awk -F': *' -v m="$rel" '$1 == m { print $2 }' "$MODDIR/modules.dep"); do
        add_module_file "$dep"
    done
}
for m in $MODULES; do
    rel=$(awk -F: -v want="$m" '{
            base = $1; sub(/.*\//, "", base); sub(/\.ko(\.[a-z]+)?$/, "", base)
            gsub(/-/, "_", base)
            if (base == want) { print $1; exit } }' "$MODDIR/modules.dep")
    if [ -n "$rel" ]; then
        add_module_file "$rel"
    elif ! grep -Eq "/${m//_/[-_]}\.ko" "$MODDIR/modules.builtin"; then
        fail "kernel module $m is neither in $KPKG's module directories nor built in"
    fi
done
cp "$MODDIR/modules.builtin" "$MODDIR/modules.order" "$R/lib/modules/$KVER/"
"$BUSYBOX" depmod -b "$R" "$KVER"

# Files at their host paths; ELF files bring the libraries ldd resolves for them (BoringSSL
# from /usr/lib/x86_64-linux-gnu/android through fastfile's rpath, liburing, libc, the loader;
# curl's ~30 libraries). Sanitizer builds bring libasan/libubsan the same way.
declare -A HAVE_FILE=()
add_file() { # HOSTPATH [GUESTPATH]
    local src=$1 dst=${2:-$1} lib
    [ -z "${HAVE_FILE[$dst]:-}" ] || return 0
    HAVE_FILE[$dst]=1
    mkdir -p "$R$(dirname "$dst")"
    cp -L "$src" "$R$dst"
    is_elf "$src" || return 0
    for lib in $(ldd "$src" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
        add_file "$lib"
    done
}
add_file "$FASTFILE" /usr/local/bin/fastfile
add_file "$(command -v curl)"
add_file "$(command -v openssl)"
[ -f /usr/lib/ssl/openssl.cnf ] && add_file /usr/lib/ssl/openssl.cnf
add_file "$HERE/guest-tests.sh" /vmtest/guest-tests.sh

# Sanitizer options from ctest reach the binary inside too.
{
    for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do
        [ -z "${!v:-}" ] || printf 'export %s=%q\n' "$v" "${!v}"
    done
    printf 'export VMTEST_MODULES=%q\n' "$(echo "$MODULES" | tr -s ' \n' '  ')"
} >"$R/vmtest/env.sh"

cat >"$R/init" <<'EOF'
#!/bin/busybox sh
# PID 1 of the test VM: mount the pseudo file systems, let the kernel autoload modules through
# busybox modprobe, bring up loopback, run the tests, report and power off.
/bin/busybox --install -s /bin
export PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin HOME=/root TERM=dumb
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
echo /sbin/modprobe >/proc/sys/kernel/modprobe
ip link set lo up
hostname vmtest
. /vmtest/env.sh
echo "VMTEST begin $(cut -d' ' -f1 /proc/uptime)"
sh /vmtest/guest-tests.sh </dev/null 2>&1
echo "VMTEST exit $?"
sync
poweroff -f
EOF
chmod 0755 "$R/init" "$R/vmtest/guest-tests.sh"
[ "$VERBOSE" = 1 ] || sed -i 's|^mount -t proc proc /proc$|&\necho 1 >/proc/sys/kernel/printk|' "$R/init"

# Uncompressed: unpacking gzip under emulation costs more than reading a larger image.
(cd "$R" && find . -print0 | cpio --null -o -H newc -R 0:0 --quiet) >"$RUN/initramfs.cpio"
rm -rf "$R"
T_INITRAMFS=$(now)
debug "initramfs $(du -h "$RUN/initramfs.cpio" | cut -f1) built in $(since "$T_CACHE") s"

# ------------------------------------------------------------------ boot --------------------
APPEND="console=ttyS0 panic=-1 oops=panic rdinit=/init"
[ "$VERBOSE" = 1 ] || APPEND="$APPEND quiet loglevel=1"
boot() { # $1: accelerator, $2: CPU model
    echo "$ME: booting $KVER ($(basename "$KERNEL"), $1, -cpu $2, $CPUS vCPU, $MEM MiB)"
    set +e
    timeout -k 5 "$TIMEOUT" qemu-system-x86_64 -nodefaults -no-user-config -accel "$1" -cpu "$2" \
        -smp "$CPUS" -m "$MEM" -display none -monitor none -serial stdio -no-reboot \
        -kernel "$KERNEL" -initrd "$RUN/initramfs.cpio" -append "$APPEND" \
        </dev/null 2>"$RUN/qemu.err" |
        tr -d '\r' | tee "$RUN/console.log" |
        awk -v all="$VERBOSE" '/^VMTEST begin/ { on = 1 }
            /^\[ *[0-9.]+\] reboot: Power down$/ && !all { next }
            on || all { print; fflush() }'
    qemu_rc=${PIPESTATUS[0]}
    set -e
}
# KVM where /dev/kvm is usable, with the host's CPU model (-cpu max under KVM can ask for MSRs
# the host refuses, and QEMU then aborts); if KVM cannot even start the guest, TCG with
# -cpu max (emulated AES-NI and PCLMUL, which kTLS's AES-GCM needs).
qemu_rc=1
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
    boot kvm host
    if [ "$qemu_rc" != 0 ] && ! grep -q '^VMTEST begin' "$RUN/console.log"; then
        sed "s/^/$ME: qemu (kvm): /" "$RUN/qemu.err" >&2
        echo "$ME: KVM could not run the guest; falling back to TCG"
        boot tcg max
    fi
else
    boot tcg max
fi
T_END=$(now)

# ------------------------------------------------------------------ verdict -----------------
boot=$(sed -n 's/^VMTEST begin \([0-9.]*\).*/\1/p' "$RUN/console.log")
echo "$ME: times: packages $(awk -v a="$T_START" -v b="$T_PACKAGES" 'BEGIN{printf "%.1f", b-a}') s," \
     "cache $(awk -v a="$T_PACKAGES" -v b="$T_CACHE" 'BEGIN{printf "%.1f", b-a}') s," \
     "initramfs $(awk -v a="$T_CACHE" -v b="$T_INITRAMFS" 'BEGIN{printf "%.1f", b-a}') s," \
     "VM $(awk -v a="$T_INITRAMFS" -v b="$T_END" 'BEGIN{printf "%.1f", b-a}') s" \
     "(guest uptime at test start ${boot:-?} s)"
passed=$(grep -c '^VMTEST ok ' "$RUN/console.log" || true)
failed=$(grep -c '^VMTEST fail ' "$RUN/console.log" || true)
guest_rc=$(sed -n 's/^VMTEST exit \([0-9]*\)$/\1/p' "$RUN/console.log")
if ! grep -q '^VMTEST done' "$RUN/console.log"; then
    [ -s "$RUN/qemu.err" ] && sed "s/^/$ME: qemu: /" "$RUN/qemu.err" >&2
    if [ "$qemu_rc" = 124 ] || [ "$qemu_rc" = 137 ]; then
        say "the VM did not finish within ${TIMEOUT}s"
    fi
    say "last console lines:"
    tail -n 30 "$RUN/console.log" | sed 's/^/    /' >&2
    fail "the guest tests did not run to the end (qemu rc $qemu_rc; rerun with --verbose --keep)"
fi
if [ "$failed" != 0 ] || [ "$passed" = 0 ] || [ "$guest_rc" != 0 ]; then
    fail "$passed passed, $failed failed, guest exit ${guest_rc:-missing}"
fi
echo "$ME: all $passed guest checks passed"
