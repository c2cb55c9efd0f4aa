#!/usr/bin/env bash
# load-test.sh - many concurrent TLS connections and many requests against
# one bitstuffd, every reply checked by bitstuff-bench against the
# reference stuffing (it exits non-zero on any wrong, missing or lost
# reply), with the server's memory (VmRSS, VmHWM) before, after the load
# and once the clients have gone.
#
#   scripts/load-test.sh                          1,000 connections, 1,000,000 requests
#   scripts/load-test.sh -n 1000 -r 20000         the CI size (ctest load_test)
#   scripts/load-test.sh --build DIR              another build directory
#
# The load mixes operations (stuff, unstuff), rules (hdlc, usb, can), sizes
# (1 to 2,000 bits), binary frames, a pipeline of 2 and 1% invalid
# requests whose error replies are checked too.  Exit status: 0 if every
# reply was right and the server still answers afterwards, else 1.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/server-port.sh
. "$root/scripts/server-port.sh"
# shellcheck source=scripts/args.sh
. "$root/scripts/args.sh"
build=$root/build conns=1000 reqs=1000000
bs_args load-test.sh -n conns -r reqs --build build -- "$@"
for exe in bitstuffd bitstuff-bench; do
    [ -x "$build/$exe" ] || {
        echo "load-test.sh: $build/$exe is missing: build first" >&2
        exit 1
    }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/bs-load.XXXXXX")
pid=
trap 'bs_cleanup "$pid" "$work" KILL' EXIT
trap 'exit 1' INT TERM

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" -lt $((conns * 2 + 200)) ]; then
    echo "load-test.sh: 'ulimit -n' is $(ulimit -n); $conns connections" \
        "need $((conns * 2 + 200))" >&2
    exit 1
fi

bash "$root/scripts/gen-certs.sh" --out "$work/certs" >/dev/null
"$build/bitstuffd" -q -l 127.0.0.1:0 --cert "$work/certs/server.crt" \
    --key "$work/certs/server.key" --max-conns $((conns + 100)) \
    >"$work/server.log" 2>&1 &
pid=$!
if ! port=$(bs_server_port "$work/server.log" "$pid"); then
    cat "$work/server.log" >&2
    echo "load-test.sh: bitstuffd did not start" >&2
    exit 1
fi

mem() { awk '/^VmRSS|^VmHWM/ {printf "%s %s kB  ", $1, $2}' \
    "/proc/$pid/status"; }

bench() { # timeout-seconds bitstuff-bench-args...
    local t=$1
    shift
    timeout "$t" "$build/bitstuff-bench" -c "127.0.0.1:$port" \
        --ca-file "$work/certs/ca.crt" -q "$@"
}

status=0
echo "bitstuffd on 127.0.0.1:$port; memory before: $(mem)"
echo "== $conns connections, $reqs requests (mixed, pipeline 2, 1% invalid)"
start=$(date +%s.%N)
if ! bench 900 -n "$conns" -r "$reqs" -P 2 --op mixed --rule mixed \
    -s 1-2000 --errors 0.01 --timeout 60s; then
    echo "FAIL: bitstuff-bench reported wrong or lost replies" >&2
    status=1
fi
echo "   in $(awk "BEGIN {printf \"%.1f\", $(date +%s.%N) - $start}") s;" \
    "memory after the load: $(mem)"
sleep 1
echo "   clients gone: $(mem)"
echo "== the server still answers"
if ! bench 60 -n 4 -r 2000 --op mixed --rule mixed -s 1-500; then
    echo "FAIL: bitstuffd no longer answers correctly after the load" >&2
    status=1
fi
kill -TERM "$pid"
if ! wait "$pid"; then
    echo "FAIL: bitstuffd did not stop cleanly" >&2
    tail -20 "$work/server.log" >&2
    status=1
fi
pid=
if grep -qiE 'internal error|deadlock' "$work/server.log"; then
    echo "FAIL: the server logged an internal error:" >&2
    grep -iE 'internal error|deadlock' "$work/server.log" | head >&2
    status=1
fi
[ "$status" = 0 ] && echo "load-test.sh: passed" || echo "load-test.sh: FAILED"
exit "$status"
