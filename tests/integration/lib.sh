# shellcheck shell=bash
# lib.sh - helpers for the end-to-end tests: fresh certificates in a
# temporary directory, the real server on port 0, bounded waits.
#
# Needs: BS_BUILD (the build directory) and BS_SOURCE (the source tree),
# set by CTest (tests/CMakeLists.txt).
set -euo pipefail

: "${BS_BUILD:?BS_BUILD must name the build directory}"
: "${BS_SOURCE:?BS_SOURCE must name the source directory}"
# shellcheck source=scripts/server-port.sh
. "$BS_SOURCE/scripts/server-port.sh"
SERVER="$BS_BUILD/bitstuffd"
CLIENT="$BS_BUILD/bitstuff"
BENCH="$BS_BUILD/bitstuff-bench"
T=$(mktemp -d "${TMPDIR:-/tmp}/bitstuff-it.XXXXXX")
# the Python clients import tests/integration/itlib.py: no __pycache__
# written into the source tree
export PYTHONDONTWRITEBYTECODE=1
SERVER_PIDS=()

# BS_IT_VALGRIND=1: the server and the client run under valgrind's
# memcheck, each process logging to $T/vg.*.log; any error or leak
# (definite or indirect) in any of them fails the test at exit.
if [ -n "${BS_IT_VALGRIND:-}" ]; then
    for prog in bitstuffd bitstuff; do
        printf '#!/bin/sh\nexec valgrind -q --error-exitcode=99 \
--leak-check=full --errors-for-leak-kinds=definite,indirect \
--show-leak-kinds=definite,indirect --log-file=%s/vg.%s.%%p.log \
%s "$@"\n' "$T" "$prog" "$BS_BUILD/$prog" >"$T/vg-$prog"
        chmod +x "$T/vg-$prog"
    done
    SERVER=$T/vg-bitstuffd
    CLIENT=$T/vg-bitstuff
fi

it_cleanup() {
    local rc=$? pid i f
    for pid in "${SERVER_PIDS[@]}"; do
        if [ -n "${BS_IT_VALGRIND:-}" ]; then
            # a clean stop, so that valgrind can report leaks
            kill -TERM "$pid" 2>/dev/null || true
            for ((i = 0; i < 100; i++)); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
        fi
        kill -KILL "$pid" 2>/dev/null || true
    done
    if [ -n "${BS_IT_VALGRIND:-}" ]; then
        wait 2>/dev/null || true
        for f in "$T"/vg.*.log; do
            if [ -s "$f" ]; then
                echo "FAIL: valgrind reported errors ($(basename "$f")):" >&2
                head -60 "$f" >&2
                rc=1
            fi
        done
    fi
    [ -n "${IT_KEEP:-}" ] || rm -rf "$T"
    exit "$rc"
}
trap it_cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    for f in "$T"/server*.log; do
        [ -f "$f" ] && { echo "--- $f" >&2; tail -30 "$f" >&2; }
    done
    exit 1
}

# make_certs DIR [gen-certs options...]
make_certs() {
    local dir=$1
    shift
    "$BS_SOURCE/scripts/gen-certs.sh" --out "$dir" "$@" >/dev/null ||
        fail "gen-certs.sh --out $dir $* failed"
}

# start_server NAME [server options...]: runs bitstuffd on 127.0.0.1:0,
# waits (bounded) for its "listening on" line; sets PORT and SERVER_PID.
# With IT_FD_LIMIT=N in its environment the server may open N file
# descriptors at most (ulimit -n); with IT_LISTEN=127.0.0.1:P it listens
# on port P instead (a server restarted where it was).
start_server() {
    local name=$1
    shift
    : >"$T/$name.log" # exists before bs_server_port reads it
    (
        [ -z "${IT_FD_LIMIT:-}" ] || ulimit -n "$IT_FD_LIMIT"
        exec "$SERVER" -l "${IT_LISTEN:-127.0.0.1:0}" "$@"
    ) >"$T/$name.log" 2>&1 &
    SERVER_PID=$!
    SERVER_PIDS+=("$SERVER_PID")
    PORT=$(bs_server_port "$T/$name.log" "$SERVER_PID") ||
        fail "server $name exited at start or printed no 'listening on'" \
            "line within 10 s"
}

# wait_exit PID SECONDS MESSAGE: wait at most SECONDS for the child PID
# to end, its exit status in rc; if it has not, SIGKILL it and fail with
# MESSAGE. (Not in a $(...) subshell: only this shell can wait for its
# child.)
wait_exit() {
    local pid=$1 secs=$2 i
    for ((i = 0; i < secs * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid"
        fail "$3"
    fi
    rc=0
    wait "$pid" || rc=$?
}

# stop_server PID: SIGTERM, then wait at most 10 s; returns its exit code.
stop_server() {
    local pid=$1 rc
    kill -TERM "$pid" 2>/dev/null || true
    wait_exit "$pid" 10 "server $pid did not stop within 10 s of SIGTERM"
    return "$rc"
}

# log_has FILE ERE [TENTHS]: the server's logger thread writes a line a
# moment after the event it reports: wait until FILE has a line matching
# the ERE, TENTHS tenths of a second at most (default 100: 10 s); status 1
# if it never comes.
log_has() {
    local i
    for ((i = 0; i < ${3:-100}; i++)); do
        grep -Eq -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# expect_eq WHAT GOT WANT
expect_eq() {
    [ "$2" == "$3" ] || fail "$1: got '$2', want '$3'"
}
