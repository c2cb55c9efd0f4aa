# shellcheck shell=bash
# it.sh - what the issue-3 end-to-end tests (test_*.sh here) share, on top
# of lib.sh: one certificate set per test, the client and openssl s_client
# run with a time limit, exit codes captured under `set -e`.
#
# Environment (set by tests/CMakeLists.txt):
#   BS_BUILD, BS_SOURCE   the build and source directories (lib.sh)
#   BS_IT_SLOW=1          sanitizer build: the load tests run a tenth of
#                         their requests (ASan binaries are slower)
#   BS_IT_SCALE=N         multiply the loads by N/10 (default 10, or 1 with
#                         BS_IT_SLOW=1); for a heavier local run
# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

export LC_ALL=C
# set -e ends a test at the first failing command: say which
trap 'echo "FAIL: $0 line $LINENO: a command failed (status $?)" >&2' ERR
if [ -n "${BS_IT_SCALE:-}" ]; then
    IT_SCALE=$BS_IT_SCALE
elif [ "${BS_IT_SLOW:-0}" = 1 ]; then
    IT_SCALE=1
else
    IT_SCALE=10
fi
IT_INTEGRATION="$BS_SOURCE/tests/integration"

# scaled N: N * scale / 10, at least 1
scaled() {
    local n=$(($1 * IT_SCALE / 10))
    echo $((n > 0 ? n : 1))
}

note() { echo "-- $*"; }

# The test's certificates: $T/c (the server's) and, on demand, $T/c2 (a
# second, unrelated set: another CA).
CERTS=$T/c
make_certs "$CERTS"

# cli ARGS...: the real client against 127.0.0.1:$PORT, trusting $CERTS,
# with a time limit; its stdin is the caller's.
# Under valgrind (BS_IT_VALGRIND) everything runs some twenty times
# slower: the time limits grow with it, the loads shrink (BS_IT_SLOW).
IT_TMUL=1
[ -z "${BS_IT_VALGRIND:-}" ] || IT_TMUL=5

cli() {
    timeout $((60 * IT_TMUL)) "$CLIENT" -c "127.0.0.1:$PORT" \
        --ca-file "$CERTS/ca.crt" --timeout $((20 * IT_TMUL)) "$@"
}

# rc_of VAR CMD...: run CMD, store its exit status in VAR (set -e safe).
rc_of() {
    local __var=$1
    shift
    local __rc=0
    "$@" || __rc=$?
    printf -v "$__var" '%s' "$__rc"
}

# expect_grep WHAT FILE PATTERN: FILE has a line matching the ERE.
# The server's log lines come from its logger thread, a moment after the
# event they report: wait for the line, 10 s at most (more under valgrind).
expect_grep() {
    log_has "$2" "$3" $((100 * IT_TMUL)) && return 0
    echo "--- $2:" >&2
    head -40 "$2" >&2
    fail "$1: no line matching /$3/ in $2"
}

# expect_match WHAT STRING ERE
expect_match() {
    [[ $2 =~ $3 ]] || fail "$1: '$2' does not match /$3/"
}

# wait_log FILE PATTERN [TENTHS]: wait (bounded, default 10 s) until FILE
# has a line matching the ERE.
wait_log() {
    log_has "$1" "$2" "${3:-100}" && return 0
    fail "no line matching /$2/ in $1 after $((${3:-100} / 10)) s"
}

# sclient N HOST:PORT [s_client options...] <LINES: type the lines of
# stdin into `openssl s_client -quiet`, read N reply lines (each bounded
# by 10 s) into the array REPLY_LINES, then close our side (s_client then
# sends close_notify and exits) and wait for it; its status in SCLIENT_RC.
sclient() {
    local n=$1 addr=$2 i line
    shift 2
    REPLY_LINES=()
    coproc SC {
        exec timeout 30 openssl s_client -quiet -no_ign_eof \
            -connect "$addr" -CAfile "$CERTS/ca.crt" \
            -verify_return_error "$@" 2>"$T/sclient.err"
    }
    local sc_pid=$SC_PID sc_in=${SC[1]} sc_out=${SC[0]}
    cat >&"$sc_in"
    for ((i = 0; i < n; i++)); do
        if ! IFS= read -r -t 10 line <&"$sc_out"; then
            cat "$T/sclient.err" >&2
            fail "s_client: reply $((i + 1)) of $n did not come within 10 s"
        fi
        REPLY_LINES+=("$line")
    done
    eval "exec $sc_in>&-"
    SCLIENT_RC=0
    wait "$sc_pid" || SCLIENT_RC=$?
}

# stop_server_ok PID: SIGTERM, the server must exit 0 (under ASan this
# also says it leaked nothing).
stop_server_ok() {
    local rc=0
    stop_server "$1" || rc=$?
    [ "$rc" -eq 0 ] || fail "server $1 exited with status $rc after SIGTERM"
}

# expect_serves WHAT: the server on $PORT still answers the README's
# example request rightly (WHAT names the check in a failure).
expect_serves() {
    local out
    out=$(cli -q 0101111110011111001010)
    expect_eq "$1" "$out" 010111110100111110001010
}

# bench ARGS...: bitstuff-bench against the server, quiet, bounded.
bench() {
    timeout $((120 * IT_TMUL)) "$BENCH" -c "127.0.0.1:$PORT" \
        --ca-file "$CERTS/ca.crt" -q --timeout "$((20 * IT_TMUL))s" "$@"
}
