#!/usr/bin/env bash
# test_explain.sh - --explain end to end (issue 13): the client explains
# the lab's example bit by bit and checks the server's answer against it,
# an error reply shows a caret under the offending bit, long messages come
# in rows of 64, colour only on a terminal and never with NO_COLOR, file
# mode explains on stderr and refuses a file too long to explain; the
# server's display explains each message with the peer on every line.
. "$(dirname "$0")/it.sh"

example=0101111110011111001010
stuffed=010111110100111110001010
start_server server --cert "$CERTS/server.crt" --key "$CERTS/server.key" \
    --explain
log=$T/server.log
peer='\[127\.0\.0\.1:[0-9]+\]'

note "the lab's example, explained"
out=$(cli --explain "$example")
expect_eq "client --explain output" "$out" "sent: $example
received: $stuffed
explain message 1:
stuff, rule hdlc: after five 1s, a 0 is inserted
marks: - and = the runs that fired the rule, ^ the inserted bit
input, 22 bits:
      0  $example
            -----   =====
output, 24 bits (2 inserted):
      0  $stuffed
            -----^   =====^
2 bits inserted:
  five 1s at input bits 3-7 -> 0 inserted at output bit 8
  five 1s at input bits 11-15 -> 0 inserted at output bit 17
server: agrees (the same 24 bits)"

note "unstuff: the removed bits"
out=$(cli --explain -u "$stuffed")
expect_match "unstuff explanation" "$out" "input, 24 bits:
      0  $stuffed
            -----\\^   =====\\^"
expect_match "unstuff events" "$out" \
    "five 1s at input bits 12-16 -> stuffed 0 at input bit 17 removed"

note "CAN and USB: the rule's own words"
out=$(cli --explain --rule can 0000011111111)
expect_match "can rule" "$out" \
    "can: after five equal bits, their complement is inserted"
expect_match "can event" "$out" \
    "five 1s: the stuffed 1 at output bit 5 and input bits 5-8 -> 0 inserted at output bit 10"
out=$(cli --explain --rule usb 01111111)
expect_match "usb event" "$out" "six 1s at input bits 1-6 -> 0 inserted at output bit 7"

note "an error reply: a caret under the offending bit"
rc_of rc cli --explain -u 0111111010 >"$T/err.out" 2>"$T/err.err"
expect_eq "exit status of a rejected message" "$rc" 5
expect_grep "the caret" "$T/err.out" '^               \^ flag at input bit 6$'
expect_grep "the run before it" "$T/err.out" '^          -----$'
expect_grep "the server agrees" "$T/err.out" '^server: agrees \(flag at bit 6\)$'
expect_grep "the usual error line" "$T/err.err" '^error: flag at bit 6: '

note "a long message: rows of 64 bits with offsets, nothing cut"
long=$(printf '1%.0s' $(seq 1 150))
out=$(cli --explain -q "$long")
expect_match "row 0" "$out" $'\n      0  1{64}\n'
expect_match "row 64" "$out" $'\n     64  1{64}\n'
expect_match "row 128" "$out" $'\n    128  1{22}\n'
expect_match "last event" "$out" "five 1s at input bits 145-149 -> 0 inserted at output bit 179"
expect_match "the server agrees" "$out" "server: agrees \\(the same 180 bits\\)"

note "colour only on a terminal, never with NO_COLOR"
expect_eq "no escape on a pipe" "$(cli --explain "$example" | grep -c $'\033' || true)" 0
cmd="$CLIENT -c 127.0.0.1:$PORT --ca-file $CERTS/ca.crt --explain $example"
TERM=xterm timeout 60 script -qec "$cmd" /dev/null >"$T/tty.out" </dev/null
grep -q $'\033\\[1;32m0\033\\[0m' "$T/tty.out" ||
    fail "no coloured inserted bit on a terminal: $(cat -v "$T/tty.out")"
NO_COLOR=1 TERM=xterm timeout 60 script -qec "$cmd" /dev/null \
    >"$T/tty2.out" </dev/null
grep -q $'\033' "$T/tty2.out" && fail "colour with NO_COLOR set"
grep -q '^ *-----\^   =====\^' "$T/tty2.out" ||
    fail "no markers with NO_COLOR: $(cat -v "$T/tty2.out")"

note "file mode: the explanation on stderr, the data on stdout"
printf '\x5f\x9f\x28' >"$T/lab.bin"
cli --explain --raw --in "$T/lab.bin" --in-bits 22 --out "$T/lab.out" \
    2>"$T/file.err"
expect_grep "file mode explanation" "$T/file.err" "^explain $T/lab.bin:\$"
expect_grep "file mode rows" "$T/file.err" "^      0  $example\$"
expect_grep "file mode agrees" "$T/file.err" '^server: agrees \(the same 24 bits\)$'

note "file mode: a file longer than --explain shows is refused at once"
head -c 8193 /dev/zero >"$T/big.bin"
rc_of rc cli --explain --raw --in "$T/big.bin" --out "$T/big.out" \
    2>"$T/big.err"
expect_eq "exit status for a file too long to explain" "$rc" 1
expect_grep "why" "$T/big.err" \
    'at most 65536 bits \(8192 bytes\), and this input holds 65544'
[ ! -e "$T/big.out" ] || fail "an output was written for a refused file"

note "the server does not explain a message longer than it shows"
cli --raw --in "$T/big.bin" --out "$T/big.out" 2>/dev/null

note "the server's display: every line of the explanation, with the peer"
expect_grep "server explanation rule" "$log" \
    "^$peer explain: stuff, rule hdlc: after five 1s, a 0 is inserted\$"
expect_grep "server explanation output row" "$log" \
    "^$peer explain:       0  $stuffed\$"
expect_grep "server explanation markers" "$log" \
    "^$peer explain:             -----\\^   =====\\^\$"
expect_grep "server explanation of the error" "$log" \
    "^$peer explain:                \\^ flag at input bit 6\$"
expect_grep "server explanation of binary frames" "$log" \
    "^$peer explain:   five 1s at input bits 11-15 -> 0 inserted at output bit 17\$"
expect_grep "server: a message too long to explain" "$log" \
    "^$peer explain: not explained: 65544 bits is more than --explain shows"
