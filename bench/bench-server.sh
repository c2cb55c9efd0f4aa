#!/usr/bin/env bash
# bench-server.sh - run bitstuff-bench against a fresh bitstuffd on
# loopback: certificates in a temporary directory, the server on a free
# port, then each scenario below (or the bitstuff-bench arguments given),
# every reply checked.  Exit status: non-zero if any scenario failed.
#
#   bench/bench-server.sh                  the standard scenarios
#   bench/bench-server.sh -n 10 -P 4 ...   one run with these arguments
#   BS_BUILD=build-asan bench/bench-server.sh   another build directory
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/server-port.sh
. "$root/scripts/server-port.sh"
build=${BS_BUILD:-$root/build}
server=$build/bitstuffd
bench=$build/bitstuff-bench
for exe in "$server" "$bench"; do
    if [ ! -x "$exe" ]; then
        echo "error: $exe is missing: build first (cmake --build $build)" >&2
        exit 1
    fi
done

work=$(mktemp -d)
pid=
trap 'bs_cleanup "$pid" "$work"' EXIT

bash "$root/scripts/gen-certs.sh" --out "$work/certs" >/dev/null
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
"$server" -q -l 127.0.0.1:0 --cert "$work/certs/server.crt" \
    --key "$work/certs/server.key" >"$work/server.log" 2>&1 &
pid=$!
if ! port=$(bs_server_port "$work/server.log" "$pid"); then
    echo "error: bitstuffd did not start:" >&2
    cat "$work/server.log" >&2
    exit 1
fi

rss() { awk '/VmRSS/ {print $2 " kB"}' "/proc/$pid/status"; }

run() {
    echo "== bitstuff-bench $*"
    "$bench" -c "127.0.0.1:$port" --ca-file "$work/certs/ca.crt" "$@"
}

status=0
echo "bitstuffd on 127.0.0.1:$port, memory $(rss)"
if [ $# -gt 0 ]; then
    run "$@" || status=$?
else
    for args in \
        "-n 1 -r 20000" \
        "-n 50 -P 16 -r 200000" \
        "-n 10 -P 8 -r 50000 --op mixed --rule mixed -s 0-2000 --errors 0.1" \
        "-n 4 -r 20000 --text --op mixed -s 1-500 --errors 0.1" \
        "-n 1 -r 1 -s 800000000" \
        "--new-conn -r 2000" \
        "--new-conn -r 2000 --resume off" \
        "-n 1000 -r 1000000"; do
        # shellcheck disable=SC2086
        run $args || status=$?
        echo "   server memory $(rss)"
    done
fi
kill -TERM "$pid"
wait "$pid" || status=$?
pid=
exit "$status"
