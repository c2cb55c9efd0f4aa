#!/usr/bin/env bash
# bench-stuff.sh - build a Release tree and measure every stuffing kernel
# against the reference bit loop and memcpy, in one run; prints markdown
# tables ready for README's performance section.
#
#   scripts/bench-stuff.sh                     64 MiB random input, best of 9
#   scripts/bench-stuff.sh -m 16 -r 9 -d random -d ones -d ascii
#
# Arguments go to bench_stuff (see bench/bench_stuff.c).  The machine may
# be shared: the best of the repetitions is reported, and the load average
# is printed so that a disturbed run can be recognised.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
    -DBS_WERROR=ON >/dev/null
cmake --build build-release -j 2 --target bench_stuff >/dev/null

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
flags=$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' |
    grep -xE 'bmi2|avx2|avx512bw' | tr '\n' ' ' || true)
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "cpu: ${cpu:-unknown} (${flags% })"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "command: scripts/bench-stuff.sh $*"
exec build-release/bench/bench_stuff -M "$@"
