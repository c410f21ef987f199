#!/usr/bin/env bash
# The README's test command: installs what the tests need, builds the normal and the sanitizer
# (ASan+UBSan) trees, and runs the whole suite through ctest in both. With CI=true warnings are
# errors and a skipped test fails the run (CI has every package, so nothing may skip there).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(build-essential cmake pkg-config liburing-dev android-libboringssl-dev libsodium-dev
          libsqlite3-dev libxml2-dev libcriterion-dev clang libclang-rt-14-dev python3 curl openssl iproute2
          litmus cadaver rclone davfs2)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

werror=OFF
[ "${CI:-}" = true ] && werror=ON
jobs=$(nproc)

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFASTFILE_WERROR=$werror >/dev/null
cmake --build build -j "$jobs"
cmake -S . -B build-san -DCMAKE_BUILD_TYPE=Debug -DFASTFILE_SANITIZE=ON -DFASTFILE_FUZZ=OFF \
      -DFASTFILE_WERROR=$werror >/dev/null
cmake --build build-san -j "$jobs"

status=0
run_ctest() {
    local dir=$1 log
    log=$(mktemp)
    echo "== ctest in $dir"
    # ASan reports leaks and errors as failures; halt_on_error makes UBSan fatal too.
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        ctest --test-dir "$dir" --output-on-failure -j "$jobs" 2>&1 | tee "$log" || status=1
    if [ "${CI:-}" = true ] && grep -q "Not Run\|\*\*\*Skipped" "$log"; then
        echo "CI: skipped tests are failures here (every package is installed)"
        status=1
    fi
    rm -f "$log"
}
run_ctest build-san
run_ctest build
exit $status
