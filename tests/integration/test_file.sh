#!/usr/bin/env bash
# test_file.sh - file mode: a random 5 MB file stuffed into a container
# and then unstuffed with no --in-bits gives the original back; with
# --raw, the exact bit length of a message that is not a whole number of
# bytes survives through --in-bits; a small file's raw result matches a
# reference computed in Python; a rejected file leaves no --out file
# behind.
. "$(dirname "$0")/it.sh"

start_server server -q --cert "$CERTS/server.crt" --key "$CERTS/server.key"

size=$(($(scaled 10) * 512 * 1024)) # 5 MiB (512 KiB under sanitizers)
note "a random file of $size bytes: stuff into a container, then unstuff"
head -c "$size" /dev/urandom >"$T/in.bin"
cli --in "$T/in.bin" --out "$T/st.bin" 2>"$T/err1" || {
    cat "$T/err1" >&2
    fail "stuffing the file"
}
nbits=$(sed -n 's/^received \([0-9][0-9]*\) bits$/\1/p' "$T/err1")
[ -n "$nbits" ] || fail "no 'received N bits' line: $(cat "$T/err1")"
[ "$nbits" -gt $((size * 8)) ] || fail "stuffed $((size * 8)) random bits into $nbits"
# the container: a 16-byte header, the bits, a 48-byte trailer
expect_eq "stuffed file size" "$(stat -c %s "$T/st.bin")" $((16 + (nbits + 7) / 8 + 48))
cli -u --in "$T/st.bin" --out "$T/back.bin" 2>"$T/err2" || {
    cat "$T/err2" >&2
    fail "unstuffing the file"
}
expect_grep "unstuffed length" "$T/err2" "^received $((size * 8)) bits\$"
cmp "$T/in.bin" "$T/back.bin" || fail "the round trip changed the file"

note "stdin and stdout as the file (--in - without --out), --raw"
head -c 100000 "$T/in.bin" | cli --raw --in - 2>"$T/err3" >"$T/st2.bin" ||
    fail "--in - failed: $(cat "$T/err3")"
n2=$(sed -n 's/^received \([0-9][0-9]*\) bits$/\1/p' "$T/err3")
python3 - "$T/in.bin" "$T/st2.bin" "$n2" <<'PY' || fail "100000 bytes: result differs from the reference"
import re, sys
data = open(sys.argv[1], "rb").read()[:100000]
bits = "".join(format(b, "08b") for b in data)
want = re.sub("11111", "111110", bits)
got = open(sys.argv[2], "rb").read()
gotbits = "".join(format(b, "08b") for b in got)
n = int(sys.argv[3])
sys.exit(0 if n == len(want) and gotbits[:n] == want
         and set(gotbits[n:]) <= {"0"} else 1)
PY

note "the lab's example as 22 bits of a 3-byte file"
printf '\x5f\x9f\x28' >"$T/lab.bin" # 0101 1111 1001 1111 0010 10|00
cli --raw --in "$T/lab.bin" --in-bits 22 --out "$T/lab.st" 2>"$T/err4" ||
    fail "lab file: $(cat "$T/err4")"
expect_grep "22 bits in, 24 out" "$T/err4" '^received 24 bits$'
expect_eq "lab file result" "$(od -An -tx1 "$T/lab.st" | tr -d ' \n')" 5f4f8a

note "13 bits: exact length through stuff and unstuff (--raw)"
printf '\xff\xf8' >"$T/b13.bin" # thirteen 1s, then padding
cli --raw --in "$T/b13.bin" --in-bits 13 --out "$T/b13.st" 2>"$T/err5" ||
    fail "13 bits: $(cat "$T/err5")"
expect_grep "13 ones stuffed" "$T/err5" '^received 15 bits$'
expect_eq "13 ones stuffed: bytes" "$(od -An -tx1 "$T/b13.st" | tr -d ' \n')" fbee
cli -u --raw --in "$T/b13.st" --in-bits 15 --out "$T/b13.back" 2>"$T/err6" ||
    fail "13 bits back: $(cat "$T/err6")"
expect_grep "13 bits back" "$T/err6" '^received 13 bits$'
cmp "$T/b13.bin" "$T/b13.back" || fail "13 bits: the round trip changed them"

note "13 bits in a container: no --in-bits needed on the way back"
cli --in "$T/b13.bin" --in-bits 13 --out "$T/b13.bst" 2>"$T/err5c" ||
    fail "13 bits, container: $(cat "$T/err5c")"
cli -u --in "$T/b13.bst" --out "$T/b13.back2" 2>"$T/err6c" ||
    fail "13 bits back, container: $(cat "$T/err6c")"
expect_grep "13 bits back from the container" "$T/err6c" '^received 13 bits$'
cmp "$T/b13.bin" "$T/b13.back2" || fail "13 bits, container: changed"

note "a rejected file: exit 5, no --out file left, an existing one kept"
printf '\xff\xff' >"$T/bad.bin"
rc_of rc cli -u --raw --in "$T/bad.bin" --out "$T/bad.out" 2>"$T/err7"
expect_eq "rejected file exit status" "$rc" 5
expect_grep "rejected file message" "$T/err7" '^error: abort at bit 5'
[ ! -e "$T/bad.out" ] || fail "--out file left behind after a rejection"
echo keep >"$T/kept"
rc_of rc cli -u --raw --in "$T/bad.bin" --out "$T/kept" 2>"$T/err8"
expect_eq "rejected file exit status (existing target)" "$rc" 5
expect_eq "existing target after a rejection" "$(cat "$T/kept")" keep
[ -z "$(find "$T" -name '*.bitstuff-*')" ] || fail "a temporary file was left behind"
# ... and the client closed with close_notify, as after a success
stop_server_ok "$SERVER_PID"
if grep -q "without close_notify" "$T/server.log"; then
    fail "a client closed without close_notify: $(grep close_notify "$T/server.log")"
fi
echo "PASS"
