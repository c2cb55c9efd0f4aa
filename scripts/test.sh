#!/usr/bin/env bash
# test.sh - install what is missing, build, and run every test twice: a
# normal build (then its unit tests and a server smoke test under valgrind),
# then one under AddressSanitizer + UndefinedBehaviorSanitizer;
# last, a short bounded libFuzzer run of each harness.
#
#   scripts/test.sh              everything
#   BS_FUZZ_SECONDS=N            seconds per fuzz target (default 30; 0 skips)
#   BS_SKIP_SANITIZE=1           skip the sanitizer pass
#   BS_SKIP_VALGRIND=1           skip the valgrind passes (about three minutes)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=scripts/deps.sh
. scripts/deps.sh

fuzz_seconds=${BS_FUZZ_SECONDS:-30}
jobs=$(nproc 2>/dev/null || echo 2)

bs_need_packages "${BS_BUILD_PACKAGES[@]}" "${BS_TEST_PACKAGES[@]}"

run_suite() { # name, build dir, cmake args...
    local name=$1 dir=$2
    shift 2
    echo "== $name: configure and build ($dir)"
    cmake -S . -B "$dir" -DBS_WERROR=ON "$@" >/dev/null
    cmake --build "$dir" -j "$jobs"
    echo "== $name: ctest"
    ctest --test-dir "$dir" --output-on-failure -j "$jobs"
}

start=$(date +%s)
run_suite "release" build -DBS_TESTSSL=ON
if [ "${BS_SKIP_VALGRIND:-0}" != 1 ]; then
    echo "== valgrind: unit tests and a server smoke test (release build)"
    bash tests/security/valgrind.sh build
    echo "== valgrind: the integration tests, server and client under memcheck"
    # one at a time: under valgrind two tests at once starve each other
    BS_IT_VALGRIND=1 BS_IT_SLOW=1 ctest --test-dir build -L integration \
        --output-on-failure --timeout 600
fi
if [ "${BS_SKIP_SANITIZE:-0}" != 1 ]; then
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        run_suite "asan+ubsan" build-asan -DBS_SANITIZE=ON \
        -DCMAKE_BUILD_TYPE=Debug
fi

if [ "$fuzz_seconds" -gt 0 ]; then
    echo "== fuzz: build (clang, -fsanitize=fuzzer,address,undefined)"
    CC=clang cmake -S . -B build-fuzz -DBS_FUZZ=ON -DBS_SANITIZE=ON \
        -DBUILD_TESTING=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build build-fuzz -j "$jobs"
    for harness in build-fuzz/tests/fuzz/fuzz_*; do
        [ -x "$harness" ] || continue
        name=$(basename "$harness")
        work=$(mktemp -d)
        echo "== fuzz: $name for ${fuzz_seconds}s"
        if ! "$harness" -max_total_time="$fuzz_seconds" -timeout=10 \
            -print_final_stats=1 -artifact_prefix="$work/" \
            "$work" "tests/fuzz/corpus/$name" >"$work/log" 2>&1; then
            tail -40 "$work/log"
            echo "fuzz: $name FAILED; the crashing input is in $work" >&2
            exit 1
        fi
        grep -E 'stat::number_of_executed_units|Done [0-9]+ runs' \
            "$work/log" | tail -2
        rm -rf "$work"
    done
fi
echo "== all tests passed in $(($(date +%s) - start))s"
