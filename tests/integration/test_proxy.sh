#!/usr/bin/env bash
# test_proxy.sh - bitstuffd behind a load balancer (issue 14.1, 14.4):
# PROXY v1 and v2 headers put the client's real address in the display,
# the logs and the close line; a header from an untrusted address is
# refused; garbage, truncated, oversized and never-completed headers are
# each closed with the reason logged while good connections are served
# meanwhile; --max-conns-per-ip counts real addresses and releases them.
# Loopback only; every wait is bounded.
. "$(dirname "${BASH_SOURCE[0]}")/it.sh"

pc() { # pc MODE [proxyclient options]: one proxyclient run, bounded
    local mode=$1
    shift
    timeout $((60 * IT_TMUL)) python3 "$IT_INTEGRATION/proxyclient.py" \
        127.0.0.1 "$PORT" "$CERTS/ca.crt" --hold $((30 * IT_TMUL)) \
        --mode "$mode" "$@"
}
# closed_with LOG PEER REASON: the close line of PEER with that reason
closed_with() {
    expect_grep "close line of $2 ($3)" "$1" \
        "\[$2\] connection closed peer=$2 .*reason=$3( |$)"
}

note "PROXY v1 and v2 from a trusted address: the real address everywhere"
start_server proxy --cert "$CERTS/server.crt" --key "$CERTS/server.key" \
    --threads 1 --handshake-timeout $((4 * IT_TMUL)) --proxy-protocol \
    --proxy-from 127.0.0.1 --proxy-from ::1/128
log=$T/proxy.log
# a header that never completes holds a connection while the others run
pc partial --src 192.0.2.99:1 >"$T/partial.out" 2>&1 &
partial=$!
out=$(pc v1 --src 203.0.113.7:40001)
expect_match "v1 reply" "$out" "^OK 01111101"
out=$(pc v2 --src 198.51.100.9:40002)
expect_match "v2 reply" "$out" "^OK 01111101"
out=$(pc v2 --src "[2001:db8::5]:40003")
expect_match "v2 IPv6 reply" "$out" "^OK 01111101"
out=$(pc v2-tlv --src 198.51.100.10:40004)
expect_match "v2 with TLVs reply" "$out" "^OK 01111101"
# LOCAL (a health check by the proxy itself): the socket's address
out=$(pc v2-local --src 198.51.100.11:40005)
expect_match "v2 LOCAL reply" "$out" "^OK 01111101"
via=$(sed -n 's/^via //p' <<<"$out")
expect_grep "display with the v1 address" "$log" \
    '^\[203\.0\.113\.7:40001\] stuff hdlc received 7 bits: 0111111$'
expect_grep "display with the v2 address" "$log" \
    '^\[198\.51\.100\.9:40002\] stuff hdlc sent 8 bits'
expect_grep "display with the v2 IPv6 address" "$log" \
    '^\[\[2001:db8::5\]:40003\] stuff hdlc received'
closed_with "$log" 203.0.113.7:40001 client-closed
closed_with "$log" 198.51.100.9:40002 client-closed
closed_with "$log" '\[2001:db8::5\]:40003' client-closed
closed_with "$log" 198.51.100.10:40004 client-closed
closed_with "$log" "$via" client-closed
expect_grep "close line's fields" "$log" \
    "\[203\.0\.113\.7:40001\] connection closed .* tls=TLSv1\.3 cipher=TLS_[A-Z0-9_]+ group=[a-zA-Z0-9]+ resumed=no alpn=bitstuff/1 requests=1 bytes_in=14 bytes_out=[0-9]+ duration_ms=[0-9]+ reason=client-closed$"
# only the LOCAL connection shows the proxy's (the socket's) address
if grep '^\[127\.0\.0\.1:[0-9]*\] stuff' "$log" | grep -vq "^\[$via\]"; then
    fail "a display line shows the proxy's address, not the client's"
fi

note "bad headers: each closed with its reason, others served meanwhile"
expect_eq "garbage" "$(pc garbage)" closed
# a TLS client that sends no header is refused the same way
rc_of rc cli -q 0101111110011111001010 2>/dev/null
[ "$rc" -ne 0 ] || fail "a connection without a PROXY header was served"
closed_with "$log" '127\.0\.0\.1:[0-9]+' proxy-header
expect_grep "garbage's reason" "$log" \
    'PROXY header refused: .*\(not-proxy\)'
expect_eq "truncated" "$(pc truncated)" closed
expect_grep "truncated's reason" "$log" \
    'PROXY header refused: the connection ended before the header was complete \(closed, 21 bytes received\)'
expect_eq "oversized" "$(pc oversized)" closed
expect_grep "oversized's reason" "$log" 'PROXY header refused: .*\(too-long\)'
out=$(pc v1 --src 203.0.113.8:40006)
expect_match "a good one between bad ones" "$out" "^OK 01111101"
wait_exit "$partial" $((60 * IT_TMUL)) "the never-completed header was never closed"
expect_eq "never completed" "$(cat "$T/partial.out")" closed
expect_grep "never completed's reason" "$log" \
    'PROXY header timed out: not complete within [0-9]+ ms \(7 bytes received\)'
closed_with "$log" '127\.0\.0\.1:[0-9]+' proxy-timeout
out=$(pc v2 --src 198.51.100.12:40007)
expect_match "served after all of them" "$out" "^OK 01111101"
stop_server_ok "$SERVER_PID"

note "a PROXY header from an address not in --proxy-from is refused"
start_server untrusted --cert "$CERTS/server.crt" --key "$CERTS/server.key" \
    --proxy-protocol --proxy-from 192.0.2.0/24
expect_eq "untrusted" "$(pc v2 --src 203.0.113.9:1)" closed
expect_grep "untrusted's reason" "$T/untrusted.log" \
    '\[127\.0\.0\.1:[0-9]+\] PROXY header refused: the connection does not come from a --proxy-from address'
closed_with "$T/untrusted.log" '127\.0\.0\.1:[0-9]+' proxy-refused
if grep -q '203\.0\.113\.9' "$T/untrusted.log"; then
    fail "the untrusted header's address was believed"
fi
stop_server_ok "$SERVER_PID"

note "--proxy-protocol without --proxy-from is refused at start-up"
rc_of rc "$SERVER" --proxy-protocol >"$T/noproxyfrom.out" 2>&1
[ "$rc" -ne 0 ] || fail "--proxy-protocol without --proxy-from started"
expect_grep "the start-up error" "$T/noproxyfrom.out" \
    'proxy-protocol needs --proxy-from'

note "--max-conns-per-ip counts the real address, and releases it"
start_server perip --cert "$CERTS/server.crt" --key "$CERTS/server.key" \
    --threads 2 --proxy-protocol --proxy-from 127.0.0.1 \
    --max-conns-per-ip 2
log=$T/perip.log
# two connections of 203.0.113.50, served and held open
for i in 1 2; do
    pc v2 --src "203.0.113.50:$i" --release "$T/release" >"$T/held$i.out" &
    held[i]=$!
done
expect_grep "both held connections served" "$log" \
    '^\[203\.0\.113\.50:2\] stuff hdlc sent'
expect_grep "both held connections served" "$log" \
    '^\[203\.0\.113\.50:1\] stuff hdlc sent'
expect_eq "a third from the same address" "$(pc v2 --src 203.0.113.50:3)" closed
expect_grep "the limit's line" "$log" \
    '\[203\.0\.113\.50:3\] refused: 203\.0\.113\.50 already holds 2 connections \(--max-conns-per-ip 2\)'
closed_with "$log" 203.0.113.50:3 limit
# another client behind the same proxy is not held back
out=$(pc v2 --src 203.0.113.51:1)
expect_match "another address" "$out" "^OK 01111101"
touch "$T/release"
for i in 1 2; do
    wait_exit "${held[i]}" $((60 * IT_TMUL)) "held connection $i did not end"
done
closed_with "$log" 203.0.113.50:1 client-closed
closed_with "$log" 203.0.113.50:2 client-closed
out=$(pc v2 --src 203.0.113.50:4)
expect_match "the address again once its connections closed" "$out" \
    "^OK 01111101"
stop_server_ok "$SERVER_PID"

note "--max-conns-per-ip without PROXY: the socket's address; timeouts release"
start_server perip2 --cert "$CERTS/server.crt" --key "$CERTS/server.key" \
    --max-conns-per-ip 1 --handshake-timeout $((3 * IT_TMUL)) \
    --log-level debug
pc idle >"$T/idle.out" &
idle=$!
expect_grep "the idle connection counted" "$T/perip2.log" \
    ' debug bitstuffd: \[127\.0\.0\.1:[0-9]+\] connection opened'
rc_of rc cli -q 0101111110011111001010 2>/dev/null
[ "$rc" -ne 0 ] || fail "a second connection from 127.0.0.1 was served"
expect_grep "the limit's line" "$T/perip2.log" \
    'refused: 127\.0\.0\.1 already holds 1 connection \(--max-conns-per-ip 1\)'
# the idle one runs out of handshake time; its slot is released
wait_exit "$idle" $((60 * IT_TMUL)) "the idle connection was never closed"
closed_with "$T/perip2.log" '127\.0\.0\.1:[0-9]+' handshake-timeout
expect_serves "served once the idle connection timed out"
stop_server_ok "$SERVER_PID"
echo "PASS"
