#!/usr/bin/env bash
# valgrind.sh BUILD_DIR - the unit tests and an end-to-end smoke test under
# valgrind's memcheck: no invalid access, no uninitialised use, no leak
# (definite or indirect).  Run by scripts/test.sh on the release build;
# about a minute on two cores.
set -euo pipefail
build=$(cd "${1:?usage: valgrind.sh BUILD_DIR}" && pwd)
source_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VG=(valgrind -q --error-exitcode=99 --leak-check=full
    --errors-for-leak-kinds=definite,indirect
    --show-leak-kinds=definite,indirect --track-fds=no)
jobs=$(nproc 2>/dev/null || echo 2)

# Unit tests, two at a time; each log is shown only if it fails.
logs=$(mktemp -d)
export logs
printf '%s\n' "$build"/tests/test_* |
    xargs -P "$jobs" -I{} bash -c '
        t={}; n=$(basename "$t")
        if ! (cd "$(dirname "$t")" && timeout 300 '"${VG[*]}"' "$t") \
            >"$logs/$n.log" 2>&1; then
            echo "valgrind: $n FAILED"; tail -40 "$logs/$n.log"; exit 255
        fi
        echo "valgrind: $n clean"'
rm -rf "$logs"

# The server under valgrind, driven by the bench (binary and text, with
# errors), a reload and a graceful stop.
export BS_BUILD=$build BS_SOURCE=$source_dir
# shellcheck source=tests/integration/lib.sh
. "$source_dir/tests/integration/lib.sh"
make_certs "$T/a"
printf '#!/bin/sh\nexec %s %s "$@"\n' "${VG[*]}" "$build/bitstuffd" \
    >"$T/vg-bitstuffd"
chmod +x "$T/vg-bitstuffd"
SERVER=$T/vg-bitstuffd
start_server vg -q --threads 2 --cert "$T/a/server.crt" \
    --key "$T/a/server.key"
timeout 120 "$BENCH" -c "127.0.0.1:$PORT" --ca-file "$T/a/ca.crt" -n 4 \
    -r 400 -P 4 --op mixed --errors 0.1 -q >/dev/null ||
    fail "bench (binary) against the server under valgrind"
timeout 120 "$BENCH" -c "127.0.0.1:$PORT" --ca-file "$T/a/ca.crt" -n 2 \
    -r 200 --text --op mixed -q >/dev/null ||
    fail "bench (text) against the server under valgrind"
kill -HUP "$SERVER_PID"
sleep 1
timeout 120 "$BENCH" -c "127.0.0.1:$PORT" --ca-file "$T/a/ca.crt" -n 2 \
    -r 100 --new-conn -q >/dev/null ||
    fail "bench (new connections) after a reload under valgrind"
rc=0
stop_server "$SERVER_PID" || rc=$?
grep -q 'SIGHUP: reloaded' "$T/vg.log" || fail "no reload under valgrind"
[ "$rc" -eq 0 ] || { cat "$T/vg.log" >&2; fail "bitstuffd under valgrind: exit $rc"; }
echo "valgrind: bitstuffd smoke test (bench, reload, SIGTERM) clean"
