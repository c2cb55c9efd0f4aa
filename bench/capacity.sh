#!/usr/bin/env bash
# capacity.sh - the figures behind docs/DEPLOY.md's capacity table: what
# one core of bitstuffd does, measured with bitstuff-bench on loopback.
#
# bitstuffd runs with --threads 1; its CPU time (user + system, from
# /proc) over each run divides the bench's rate, so a figure is "per
# core-second of the server", however busy the machine (the bench runs
# on the same machine and takes its own share).  Each scenario runs
# RUNS times; the median is printed.
#
#   bench/capacity.sh [-r RUNS] [-d SECONDS]
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/server-port.sh
. "$root/scripts/server-port.sh"
# shellcheck source=scripts/args.sh
. "$root/scripts/args.sh"
build=${BS_BUILD:-$root/build}
runs=3 secs=5
bs_getopts -r runs -d secs -- "$@"
work=$(mktemp -d)
pid=
trap 'bs_cleanup "$pid" "$work"' EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
bash "$root/scripts/gen-certs.sh" --out "$work/c" >/dev/null
"$build/bitstuffd" -l 127.0.0.1:0 --cert "$work/c/server.crt" \
    --key "$work/c/server.key" --threads 1 -q >"$work/server.log" 2>&1 &
pid=$!
port=$(bs_server_port "$work/server.log" "$pid")
tick=$(getconf CLK_TCK)
cpu() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }

# scenario NAME FIELD UNIT [bench args...]: runs, prints the median of
# FIELD (a bench JSON rate) per server core-second, and the server's CPU
# share during the run.
scenario() {
    local name=$1 field=$2 unit=$3
    shift 3
    local r vals=()
    for ((r = 0; r < runs; r++)); do
        local c0 c1 t0 t1
        c0=$(cpu)
        t0=$(date +%s.%N)
        "$build/bitstuff-bench" -c "127.0.0.1:$port" \
            --ca-file "$work/c/ca.crt" -q --json -d "$secs" "$@" \
            >"$work/b.json"
        t1=$(date +%s.%N)
        c1=$(cpu)
        vals+=("$(python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
cpu = (float(sys.argv[3]) - float(sys.argv[2])) / float(sys.argv[4])
total = j[sys.argv[5]] * j["seconds"]
if j["failures"]:
    sys.exit("failures: %d" % j["failures"])
print("%.1f %.2f" % (total / cpu, cpu / (float(sys.argv[7]) - float(sys.argv[6]))))
' "$work/b.json" "$c0" "$c1" "$tick" "$field" "$t0" "$t1")")
    done
    printf '%s\n' "${vals[@]}" | sort -n | awk -v n="$name" -v u="$unit" '
        { v[NR] = $1; s[NR] = $2 }
        END { m = int((NR + 1) / 2);
              printf "%-44s %10.1f %-14s (server busy %.0f%% of a core)\n",
                     n, v[m], u, s[m] * 100 }'
}

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) vCPU" \
    "($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'));" \
    "bitstuffd --threads 1; $runs runs of $secs s, median"
scenario "full TLS 1.3 handshakes (X25519, ECDSA P-256)" handshakes_per_sec \
    "handshakes/s" --new-conn --resume off -n 16
scenario "resumed handshakes (tickets)" handshakes_per_sec "handshakes/s" \
    --new-conn -n 16
scenario "64-bit requests, 50 connections, 8 in flight" requests_per_sec \
    "requests/s" -n 50 -P 8
scenario "64-bit requests, 50 connections, 1 in flight" requests_per_sec \
    "requests/s" -n 50
scenario "1 MiB messages (8388608 bits), 4 connections" mb_per_sec "MB/s" \
    -n 4 -s 8388608
