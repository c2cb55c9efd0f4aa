#!/usr/bin/env bash
# bench-stuff.sh - build a Release tree and measure every stuffing kernel.
#
#   scripts/bench-stuff.sh                     64 MiB random input, best of 5
#   scripts/bench-stuff.sh -m 16 -r 9 -d random -d ones -d ascii
#
# Arguments go to bench_stuff (see bench/bench_stuff.c).  The machine may
# be shared: the best of the repetitions is reported.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
    -DBS_WERROR=ON >/dev/null
cmake --build build-release -j 2 --target bench_stuff >/dev/null
grep -m1 'model name' /proc/cpuinfo || true
exec build-release/bench/bench_stuff "$@"
