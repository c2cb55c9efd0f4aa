#!/usr/bin/env bash
# test_progress.sh - issue 10 item 3: a transfer of more than a second
# shows a self-redrawing progress line when stderr is a terminal (a
# pseudo-terminal from Python's pty), nothing when stderr is a pipe,
# always with --progress, never with --no-progress or -q; the final
# "received N bits" line stays.  The input is fed slowly (a pause in the
# middle of stdin) so that "longer than a second" does not depend on the
# machine's speed.
. "$(dirname "$0")/it.sh"

start_server server -q --cert "$CERTS/server.crt" --key "$CERTS/server.key"
cd "$T" || fail "cannot enter $T"
PAUSE=2.5

run() { # run WHERE ARGS... -> $T/res
    python3 "$IT_INTEGRATION/progress_pty.py" "$1" "$PAUSE" "$CLIENT" \
        -c "127.0.0.1:$PORT" --ca-file "$CERTS/ca.crt" \
        --timeout $((20 * IT_TMUL)) --in - --out "$T/out.bst" "${@:2}" >"$T/res" ||
        fail "progress_pty.py failed"
    grep -q '^exit 0$' "$T/res" || fail "the client failed: $(cat "$T/res") $(cat stderr.txt)"
}

note "stderr on a terminal: a progress line, then the final line"
run pty
expect_grep "progress on a terminal" "$T/res" '^progress$'
grep -aq 'received [0-9]* bits' stderr.txt || fail "no 'received N bits' line"
grep -aq $'\r\033\\[K' stderr.txt || fail "the progress line is not erased at the end"

note "stderr on a pipe: none"
run pipe
expect_grep "no progress on a pipe" "$T/res" '^none$'
grep -aq $'\r' stderr.txt && fail "a carriage return went to a pipe"
expect_grep "final line on a pipe" stderr.txt '^received [0-9]* bits$'

note "--progress forces it, --no-progress and -q silence it"
run pipe --progress
expect_grep "--progress on a pipe" "$T/res" '^progress$'
run pty --no-progress
expect_grep "--no-progress on a terminal" "$T/res" '^none$'
run pty -q
expect_grep "-q on a terminal" "$T/res" '^none$'

stop_server_ok "$SERVER_PID"
echo "PASS"
