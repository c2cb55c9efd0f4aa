#!/usr/bin/env bash
# test_lab.sh - the lab's example end to end: the real client prints the
# exact sent:/received: lines, openssl s_client typed by hand gets the OK
# line, and the server displays both exchanges.
. "$(dirname "$0")/it.sh"

example=0101111110011111001010
stuffed=010111110100111110001010
start_server server --cert "$CERTS/server.crt" --key "$CERTS/server.key"

note "the client: stuff"
out=$(cli "$example")
expect_eq "client output" "$out" "sent: $example
received: $stuffed"

note "the client: unstuff gives the example back"
out=$(cli -u "$stuffed")
expect_eq "client -u output" "$out" "sent (unstuff hdlc): $stuffed
received (unstuff hdlc): $example"

note "the client: -q prints only the result"
out=$(cli -q "$example")
expect_eq "client -q output" "$out" "$stuffed"

note "the client: lines from standard input"
out=$(printf '%s\n\n%s\n' "$example" "$example" | cli -q)
expect_eq "client stdin output" "$out" "$stuffed
$stuffed"

note "openssl s_client -quiet, typed as a person would"
sclient 3 "127.0.0.1:$PORT" <<LINES
$example
stuff hdlc $example
  UNSTUFF   $stuffed
LINES
expect_eq "s_client reply 1" "${REPLY_LINES[0]}" "OK $stuffed"
expect_eq "s_client reply 2" "${REPLY_LINES[1]}" "OK $stuffed"
expect_eq "s_client reply 3" "${REPLY_LINES[2]}" "OK $example"
expect_eq "s_client exit status" "$SCLIENT_RC" 0

note "the server's display: peer, operation, bits in, bits out"
peer='\[127\.0\.0\.1:[0-9]+\]'
log=$T/server.log
expect_grep "display of the stuff request" "$log" \
    "^$peer stuff hdlc received 22 bits: $example\$"
expect_grep "display of the stuff reply" "$log" \
    "^$peer stuff hdlc sent 24 bits: $stuffed\$"
expect_grep "display of the unstuff request" "$log" \
    "^$peer unstuff hdlc received 24 bits: $stuffed\$"
expect_grep "display of the unstuff reply" "$log" \
    "^$peer unstuff hdlc sent 22 bits: $example\$"
# 4 client runs with 1+1+1+2 messages, 3 s_client lines: 8 stuffs and unstuffs
n=$(grep -Ec "^$peer (un)?stuff hdlc sent " "$log")
expect_eq "displayed replies" "$n" 8

note "a long message is shortened in the display, with its count"
long=$(printf '1%.0s' $(seq 1 5000))
out=$(cli -q "$long")
expect_eq "5000 ones stuffed: length" "${#out}" 6000
wait_log "$log" "stuff hdlc sent 6000 bits"
line=$(grep -E "stuff hdlc received 5000 bits" "$log")
[ "${#line}" -lt 400 ] || fail "a 5000-bit message is displayed in full"

note "-q turns the display off"
stop_server_ok "$SERVER_PID"
start_server quiet -q --cert "$CERTS/server.crt" --key "$CERTS/server.key"
out=$(cli -q "$example")
expect_eq "client against -q server" "$out" "$stuffed"
stop_server_ok "$SERVER_PID"
if grep -Eq "stuff hdlc" "$T/quiet.log"; then
    fail "bitstuffd -q displayed an exchange"
fi
echo "PASS"
