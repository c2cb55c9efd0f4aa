#!/usr/bin/env bash
# test_stall.sh - clients that stall in the handshake (plain TCP and
# send nothing; half a ClientHello, then a byte now and then) are closed
# after --handshake-timeout, counted from accept, while other clients are
# served meanwhile: a bench run during the stall succeeds.
. "$(dirname "$0")/it.sh"

# Under valgrind (BS_IT_VALGRIND) a well-behaved client's own handshake
# can take longer than a second: give it room, the stall still times out.
hs=1
[ -z "${BS_IT_VALGRIND:-}" ] || hs=5
start_server server -q --handshake-timeout "$hs" --threads 2 \
    --cert "$CERTS/server.crt" --key "$CERTS/server.key"

note "10 silent and 10 half-ClientHello connections"
timeout 60 python3 "$IT_INTEGRATION/stall.py" 127.0.0.1 "$PORT" 10 10 \
    --limit 15 >"$T/stall.out" 2>&1 &
stall_pid=$!
wait_log "$T/stall.out" '^stalling 20$'

note "meanwhile: a bench run"
bench -n 8 -P 4 -r "$(scaled 20000)" --op mixed --rule mixed -s 0-1000 \
    >"$T/bench" || { cat "$T/bench"; fail "bench during the stall"; }
cat "$T/bench"
# still stalling after the bench? (not required: a slow machine may
# take longer than the timeout to run the bench; then this proves less)
if grep -q "all closed" "$T/stall.out"; then
    note "(the stalled connections were closed before the bench ended)"
fi

note "and the client"
expect_serves "client during the stall"

rc=0
wait "$stall_pid" || rc=$?
cat "$T/stall.out"
[ "$rc" -eq 0 ] || fail "the stalled connections were not all closed"
# (the logger thread writes the lines a moment later: wait, 10 s at most)
for ((i = 0; i < 100 * IT_TMUL; i++)); do
    n=$(grep -c "TLS handshake timed out" "$T/server.log" || true)
    [ "$n" -lt 20 ] || break
    sleep 0.1
done
[ "$n" -ge 20 ] || fail "$n 'TLS handshake timed out' lines, want 20"

note "the server serves on, and stops cleanly"
expect_serves "client after the stall"
stop_server_ok "$SERVER_PID"
echo "PASS"
