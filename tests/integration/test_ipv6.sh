#!/usr/bin/env bash
# test_ipv6.sh - listening on [::1]:0 and on localhost:0 (127.0.0.1 and
# ::1 on one port); the client and s_client reach both.  Skipped (with a
# message) where the machine has no ::1.
. "$(dirname "$0")/it.sh"

if ! grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6 2>/dev/null
then
    echo "SKIP: this machine has no ::1 (IPv6 loopback)"
    exit 0
fi
example=0101111110011111001010
stuffed=010111110100111110001010

# start6 NAME LISTEN: like start_server, for any listen address; sets
# LOG and SERVER_PID
start6() {
    local name=$1 listen=$2 i
    LOG=$T/server-$name.log
    "$SERVER" -l "$listen" --cert "$CERTS/server.crt" \
        --key "$CERTS/server.key" >"$LOG" 2>&1 &
    SERVER_PID=$!
    SERVER_PIDS+=("$SERVER_PID")
    for ((i = 0; i < 100; i++)); do
        grep -q 'listening on' "$LOG" 2>/dev/null && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || fail "server $name exited at start"
        sleep 0.1
    done
    fail "server $name did not print 'listening on' within 10 s"
}

note "-l [::1]:0"
start6 v6 '[::1]:0'
p6=$(sed -n 's/.*listening on \[::1\]:\([0-9]*\).*/\1/p' "$LOG" | head -1)
[ -n "$p6" ] || fail "no 'listening on [::1]:PORT' line: $(cat "$LOG")"
out=$(timeout 60 "$CLIENT" -c "[::1]:$p6" --ca-file "$CERTS/ca.crt" -q "$example")
expect_eq "client to [::1]" "$out" "$stuffed"
sclient 1 "[::1]:$p6" -verify_ip ::1 <<<"$example"
expect_eq "s_client to [::1]" "${REPLY_LINES[0]}" "OK $stuffed"
expect_grep "display shows the IPv6 peer" "$LOG" "^\[\[?::1\]?(:|\]:)[0-9]+\] stuff hdlc sent 24 bits"
stop_server_ok "$SERVER_PID"

note "-l localhost:0: both families, one port"
start6 lh 'localhost:0'
wait_log "$LOG" 'listening on \[::1\]:'
p4=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$LOG" | head -1)
p6=$(sed -n 's/.*listening on \[::1\]:\([0-9]*\).*/\1/p' "$LOG" | head -1)
[ -n "$p4" ] && [ -n "$p6" ] || fail "localhost:0 should listen on both: $(cat "$LOG")"
expect_eq "one port for both" "$p4" "$p6"
for addr in "127.0.0.1:$p4" "[::1]:$p6" "localhost:$p4"; do
    out=$(timeout 60 "$CLIENT" -c "$addr" --ca-file "$CERTS/ca.crt" -q "$example")
    expect_eq "client to $addr" "$out" "$stuffed"
done
stop_server_ok "$SERVER_PID"
echo "PASS"
