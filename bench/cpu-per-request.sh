#!/usr/bin/env bash
# cpu-per-request.sh - CPU time per request of the load generator and of
# bitstuffd, measured in the same runs: one connection, one request in
# flight, 64-bit stuff requests, every reply checked.
#
#   bench/cpu-per-request.sh                 5 rounds of 20000 requests
#   bench/cpu-per-request.sh -r 3 -n 5000    rounds and requests per run
#   BS_BUILD=DIR                             build directory (build-release)
#
# Each round runs bitstuff-bench and then bench/tls_pingpong.c (a blocking
# OpenSSL client that does nothing but write a request and read and check
# its reply: the least a client can spend) against the same bitstuffd.
# A client's CPU is its user + system time (bash `times` of a subshell);
# the server's is the change of utime + stime in /proc/PID/stat over the
# run.  Prints each round, then the medians: microseconds per request of
# each client and of the server it drove, and the client/server ratio.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rounds=5 reqs=20000
while getopts "r:n:h" opt; do
    case $opt in
    r) rounds=$OPTARG ;;
    n) reqs=$OPTARG ;;
    *)
        sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
        exit 2
        ;;
    esac
done
case "$rounds$reqs" in *[!0-9]*) echo "cpu-per-request.sh: -r and -n take numbers" >&2; exit 2 ;; esac

build=${BS_BUILD:-$root/build-release}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
    -DBS_WERROR=ON >/dev/null
cmake --build "$build" -j 2 --target bitstuffd bitstuff-bench tls_pingpong \
    >/dev/null

work=$(mktemp -d)
srv_pid=
# shellcheck source=scripts/server-port.sh
. "$root/scripts/server-port.sh"
trap 'bs_cleanup "$srv_pid" "$work"' EXIT
"$root/scripts/gen-certs.sh" --out "$work/certs" >/dev/null 2>&1
"$build/bitstuffd" -q -l 127.0.0.1:0 --cert "$work/certs/server.crt" \
    --key "$work/certs/server.key" >"$work/server.log" 2>&1 &
srv_pid=$!
port=$(bs_server_port "$work/server.log" "$srv_pid") ||
    { cat "$work/server.log" >&2; echo "cpu-per-request.sh: bitstuffd did not start" >&2; exit 1; }

ticks=$(getconf CLK_TCK)
server_ticks() { awk '{print $14 + $15}' "/proc/$srv_pid/stat"; }

# CPU seconds of a command (user + system), from bash's `times` in a
# subshell whose only child is the command; fails if the command fails.
client_cpu() {
    (
        "$@" >"$work/client.out" 2>&1 || { cat "$work/client.out" >&2; exit 1; }
        times >"$work/times" # not in a pipe: that would be a new subshell
        sed -n 2p "$work/times"
    ) | awk '{ for (i = 1; i <= 2; i++) { split($i, a, "m"); sub("s", "", a[2]); t += a[1] * 60 + a[2] } printf "%.4f\n", t }'
}

# One measured run: prints "client_us server_us" per request.
measure() {
    local s0 s1 c
    s0=$(server_ticks)
    c=$(client_cpu "$@") || { echo "cpu-per-request.sh: client failed: $*" >&2; exit 1; }
    s1=$(server_ticks)
    awk -v c="$c" -v s=$((s1 - s0)) -v t="$ticks" -v n="$reqs" \
        'BEGIN { printf "%.1f %.1f\n", c * 1e6 / n, s / t * 1e6 / n }'
}

bench=("$build/bitstuff-bench" -c "127.0.0.1:$port" --ca-file "$work/certs/ca.crt"
    --servername localhost -n 1 -P 1 -t 1 -r "$reqs" -q)
ping=("$build/tls_pingpong" 127.0.0.1 "$port" "$work/certs/ca.crt" "$reqs")

echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "command: bench/cpu-per-request.sh -r $rounds -n $reqs"
measure "${bench[@]}" >/dev/null # warm-up, not counted
: >"$work/rounds"
for r in $(seq 1 "$rounds"); do
    read -r bc bs < <(measure "${bench[@]}")
    read -r pc ps < <(measure "${ping[@]}")
    echo "round $r: bitstuff-bench $bc us, bitstuffd $bs us; tls_pingpong $pc us, bitstuffd $ps us"
    echo "$bc $bs $pc $ps" >>"$work/rounds"
done
med() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { awk -v k="$1" '{ print $k }' "$work/rounds" | med; }
ratio() { awk -v k="$1" -v j="$2" '{ print $k / $j }' "$work/rounds" | med; }
echo
echo "| client | client CPU/request | bitstuffd CPU/request | client/server (median of rounds) |"
echo "|---|--:|--:|--:|"
printf '| bitstuff-bench -n 1 -P 1 | %s us | %s us | %.2f |\n' "$(col 1)" "$(col 2)" "$(ratio 1 2)"
printf '| tls_pingpong (blocking, minimal) | %s us | %s us | %.2f |\n' "$(col 3)" "$(col 4)" "$(ratio 3 4)"
