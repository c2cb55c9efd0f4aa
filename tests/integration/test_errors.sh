#!/usr/bin/env bash
# test_errors.sh - unstuffing errors: the client exits 5 with an
# "error: NAME at bit N" line and still sends and prints the messages
# after the bad one; openssl s_client gets ERR lines with the codes of
# docs/PROTOCOL.md section 5, and the connection stays usable.
. "$(dirname "$0")/it.sh"

start_server server --cert "$CERTS/server.crt" --key "$CERTS/server.key"

note "the client: a flag inside the data"
rc_of rc cli -u 111111 >"$T/out" 2>"$T/err"
expect_eq "exit status for 111111" "$rc" 5
expect_grep "error line" "$T/err" '^error: flag at bit 5: '

note "the client: bad messages among good ones, all answered in order"
rc_of rc cli -u 0101 111111 01111101 0111111100 11111 "" 0 >"$T/out" 2>"$T/err"
expect_eq "exit status" "$rc" 5
expect_eq "stdout" "$(grep '^received' "$T/out")" \
"received (unstuff hdlc): 0101
received (unstuff hdlc): 0111111
received (unstuff hdlc): 
received (unstuff hdlc): 0"
expect_eq "stderr" "$(cut -d: -f1-2 "$T/err")" \
"error: flag at bit 5
error: abort at bit 6
error: truncated at bit 5"

note "the client: usb and can stuffed-bit errors"
rc_of rc cli -q -u --rule usb 11111111 1111110 >"$T/out" 2>"$T/err"
expect_eq "usb exit status" "$rc" 5
expect_eq "usb stdout" "$(cat "$T/out")" "111111"
expect_grep "usb error line" "$T/err" '^error: stuff-bit at bit 6: '
rc_of rc cli -q -u --rule can 0000001 000001 >"$T/out" 2>"$T/err"
expect_eq "can exit status" "$rc" 5
expect_eq "can stdout" "$(cat "$T/out")" "00000"
expect_grep "can error line" "$T/err" '^error: stuff-bit at bit 5: '

note "the client: stdin lines, a bad one in the middle"
rc_of rc cli -q -u >"$T/out" 2>"$T/err" <<LINES
0101
01111110
0111110
LINES
expect_eq "stdin exit status" "$rc" 5
expect_eq "stdin stdout" "$(cat "$T/out")" "0101
011111"
expect_grep "stdin error" "$T/err" '^error: flag at bit 6'

note "the client: a bad message is skipped, the others sent (exit 1)"
# arguments and lines of standard input behave alike (issue 10 item 5)
rc_of rc cli -q 0101 01x1 11111 >"$T/out" 2>"$T/err"
expect_eq "exit status, bad argument" "$rc" 1
expect_eq "the good arguments answered" "$(cat "$T/out")" "0101
111110"
expect_grep "bad argument named" "$T/err" "^error: message 2: 'x' at offset 2 is not a bit.*\\(message skipped\\)$"
rc_of rc cli -q >"$T/out2" 2>"$T/err2" <<'LINES'
0101
01x1
11111
LINES
expect_eq "exit status, bad line" "$rc" 1
expect_eq "stdin and arguments alike" "$(cat "$T/out2")" "$(cat "$T/out")"
expect_grep "bad line named" "$T/err2" "^error: line 2: 'x' at offset 2 is not a bit.*\\(line skipped\\)$"
# nothing good to send: checked before connecting (port 1 would be exit 2)
rc_of rc "$CLIENT" -c 127.0.0.1:1 01x1 >"$T/out" 2>"$T/err"
expect_eq "exit status for 01x1 alone" "$rc" 1
[ -s "$T/err" ] || fail "no message for 01x1"

note "s_client: ERR lines with stable codes, the connection stays usable"
sclient 9 "127.0.0.1:$PORT" <<'LINES'
unstuff 0111111
unstuff 11111110
unstuff 11111
unstuff usb 11111111
unstuff can 0000001
stuff 01x
frobnicate 0101
stuff morse 0101
0101111110011111001010
LINES
r=("${REPLY_LINES[@]}")
expect_match "s_client: flag" "${r[0]}" '^ERR 4 flag 6 .+'
expect_match "s_client: abort" "${r[1]}" '^ERR 5 abort 5 .+'
expect_match "s_client: truncated" "${r[2]}" '^ERR 7 truncated 5 .+'
expect_match "s_client: usb" "${r[3]}" '^ERR 6 stuff-bit 6 .+'
expect_match "s_client: can stuff-bit" "${r[4]}" '^ERR 6 stuff-bit 5 .+'
expect_match "s_client: char" "${r[5]}" '^ERR 3 char 2 .+'
expect_match "s_client: bad-command" "${r[6]}" '^ERR 20 bad-command - .+'
expect_match "s_client: bad-rule" "${r[7]}" '^ERR 21 bad-rule - .+'
expect_eq "s_client: still usable" "${r[8]}" "OK 010111110100111110001010"
expect_eq "s_client exit status" "$SCLIENT_RC" 0

note "s_client: an overlong line is refused, the next is answered"
stop_server_ok "$SERVER_PID"
start_server small --max-line 128 --max-message-bits 100 \
    --cert "$CERTS/server.crt" --key "$CERTS/server.key"
long="stuff$(printf ' %.0s' $(seq 1 200))0101"
sclient 3 "127.0.0.1:$PORT" <<LINES
$long
stuff $(printf '1%.0s' $(seq 1 50))$(printf '0%.0s' $(seq 1 51))
0101
LINES
expect_match "s_client: line-too-long" "${REPLY_LINES[0]}" \
    '^ERR 22 line-too-long - .+'
expect_match "s_client: too-long" "${REPLY_LINES[1]}" \
    '^ERR 23 too-long 100 .+'
expect_eq "s_client: after the long lines" "${REPLY_LINES[2]}" "OK 0101"

note "the client: a message over --max-message-bits"
rc_of rc cli -q "$(printf '0%.0s' $(seq 1 101))" 0101 >"$T/out" 2>"$T/err"
expect_eq "too-long exit status" "$rc" 5
expect_eq "too-long stdout" "$(cat "$T/out")" "0101"
expect_grep "too-long error" "$T/err" '^error: too-long at bit 100'
stop_server_ok "$SERVER_PID"
echo "PASS"
