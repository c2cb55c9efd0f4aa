#!/usr/bin/env bash
# bench-stuff.sh - build a Release tree and measure every stuffing kernel
# against the reference bit loop and memcpy, in one run; prints markdown
# tables ready for README's performance section.
#
#   scripts/bench-stuff.sh                     HDLC, 64 MiB random input, 9 rounds
#   scripts/bench-stuff.sh --rule all          every rule, in the same rounds
#   scripts/bench-stuff.sh --rule can --rule hdlc -m 16 -r 9 -d random -d ascii
#
# --rule RULE (hdlc, usb, can or all; repeatable) picks the rules; with
# several, each round runs every rule in turn and the tables say how each
# compares with HDLC.  Other arguments go to bench_stuff (see
# bench/bench_stuff.c).  The machine may be shared: the best round and
# the median are reported, and the load average is printed so that a
# disturbed run can be recognised.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

command="scripts/bench-stuff.sh $*"
args=()
while [ $# -gt 0 ]; do
    case "$1" in
    --rule)
        [ $# -ge 2 ] || { echo "bench-stuff.sh: --rule needs hdlc, usb, can or all" >&2; exit 2; }
        args+=(-R "$2")
        shift 2
        ;;
    --rule=*)
        args+=(-R "${1#--rule=}")
        shift
        ;;
    *)
        args+=("$1")
        shift
        ;;
    esac
done

cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
    -DBS_WERROR=ON >/dev/null
cmake --build build-release -j 2 --target bench_stuff >/dev/null

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
flags=$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' |
    grep -xE 'bmi2|avx2|avx512bw|avx512vbmi2' | tr '\n' ' ' || true)
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "cpu: ${cpu:-unknown} (${flags% })"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "command: $command"
exec build-release/bench/bench_stuff -M ${args[@]+"${args[@]}"}
