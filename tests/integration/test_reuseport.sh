#!/usr/bin/env bash
# test_reuseport.sh - --reuse-port (issue 14 item 3): a second bitstuffd
# listens on the port the first holds only when both ask for it (else
# the start fails and says why); once the first has SIGTERM, clients go
# on being served, by the second, and the first exits cleanly.  (What a
# restart this way loses under load: bench/reuseport-loss.sh and
# docs/DEPLOY.md.)
. "$(dirname "$0")/it.sh"

opts=(--cert "$CERTS/server.crt" --key "$CERTS/server.key")
start_server old "${opts[@]}" --reuse-port
OLD=$SERVER_PID
P=$PORT

note "without --reuse-port the port stays taken, and the start says so"
rc=0
rc_of rc timeout 20 "$SERVER" -l "127.0.0.1:$P" "${opts[@]}" >"$T/plain.out" 2>&1
expect_eq "exit status" "$rc" 1
expect_grep "EADDRINUSE advice" "$T/plain.out" \
    "cannot listen on 127.0.0.1:$P .*Address already in use; is another server running"

note "... nor with it, on a port held without it"
start_server plain "${opts[@]}"
rc=0
rc_of rc timeout 20 "$SERVER" -l "127.0.0.1:$PORT" "${opts[@]}" --reuse-port \
    >"$T/reuse.out" 2>&1
expect_eq "exit status" "$rc" 1
expect_grep "EADDRINUSE advice with --reuse-port" "$T/reuse.out" \
    "Address already in use; another program holds it without SO_REUSEPORT"
stop_server_ok "$SERVER_PID"

note "with it, a second server listens on the same port"
IT_LISTEN=127.0.0.1:$P start_server new "${opts[@]}" --reuse-port
NEW=$SERVER_PID
expect_eq "the new server's port" "$PORT" "$P"

note "SIGTERM to the old one: every new connection goes to the new one"
kill -TERM "$OLD"
expect_grep "old server stopping" "$T/old.log" "stopping"
for ((i = 0; i < 20; i++)); do
    expect_serves "request $i after the old server's SIGTERM"
done
wait_exit "$OLD" 20 "the old server did not stop"
expect_eq "old server's exit status" "$rc" 0
n_new=$(grep -c "0101111110011111001010" "$T/new.log" || true)
[ "$n_new" -ge 20 ] || fail "the new server served $n_new of the 20 requests"
expect_serves "the new server alone"
stop_server_ok "$NEW"
echo "PASS: test_reuseport"
