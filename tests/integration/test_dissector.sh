#!/usr/bin/env bash
# test_dissector.sh - the Wireshark dissector (contrib/wireshark/bitstuff.lua)
# on a real capture: bitstuffd writes its TLS secrets (--keylog-file), tshark
# captures loopback while the client (binary frames) and openssl s_client
# (text lines) run the lab's example, error replies, pipelined requests and
# large messages, then tshark decrypts the capture, runs the dissector and
# dissector_check.py checks the dissected fields against what was sent and
# received.
#
# Skipped (77) unless root (capturing on lo) and tshark with Lua is there
# (Debian package tshark, scripts/deps.sh).  BS_DISSECTOR=FILE checks
# another copy of the dissector (to see this test fail on a broken one).
if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: capturing loopback traffic needs root"
    exit 77
fi
if ! command -v tshark >/dev/null 2>&1; then
    echo "SKIP: tshark is not installed (apt-get install tshark)"
    exit 77
fi
if ! tshark -v 2>/dev/null | grep -q 'with Lua'; then
    echo "SKIP: this tshark was built without Lua"
    exit 77
fi
. "$(dirname "$0")/it.sh"

LUA=${BS_DISSECTOR:-$BS_SOURCE/contrib/wireshark/bitstuff.lua}
CHECK=$IT_INTEGRATION/dissector_check.py
example=0101111110011111001010
stuffed=010111110100111110001010
D=$T/data # what was sent and received, for dissector_check.py
mkdir -p "$D" "$T/home"

# tshark with a fresh home: no preferences or plugins of the user's.
ts() {
    HOME=$T/home timeout $((300 * IT_TMUL)) tshark "$@"
}

# The capture runs in the background; stop it (SIGINT) on any exit, then
# lib.sh's cleanup, which exits with the status it finds in $?.
CAP_PID=
trap 'rc=$?; set +e; trap - ERR
      [ -z "$CAP_PID" ] || kill -INT "$CAP_PID" 2>/dev/null
      (exit $rc); it_cleanup' EXIT

start_server server --cert "$CERTS/server.crt" --key "$CERTS/server.key" \
    --keylog-file "$T/keys" --max-line 200000

note "capture loopback port $PORT with tshark"
HOME=$T/home tshark -i lo -f "tcp port $PORT" -w "$T/cap.pcapng" \
    >"$T/tshark.log" 2>&1 &
CAP_PID=$!
for ((i = 0; i < 300; i++)); do
    grep -q 'Capturing on' "$T/tshark.log" && break
    kill -0 "$CAP_PID" 2>/dev/null ||
        fail "tshark exited at start: $(cat "$T/tshark.log")"
    sleep 0.1
done
grep -q 'Capturing on' "$T/tshark.log" ||
    fail "tshark did not start capturing within 30 s"
sleep 2 # "Capturing on" comes a moment before the first packet is seen

note "binary frames: the lab's example, an error, pipelined requests"
out=$(cli "$example")
expect_eq "client output" "$out" "sent: $example
received: $stuffed"
rc_of rc cli -u 111111 >"$T/out" 2>"$T/err"
expect_eq "client exit status for unstuff 111111" "$rc" 5
out=$(cli -q 01 10 0110)
expect_eq "pipelined replies" "$out" "01
10
0110"

note "binary: a 1 Mbit message in 64 KiB chunks, each over several records (--raw: the reply bits alone, to compare with the capture)"
head -c 125000 /dev/urandom >"$D/big.bin"
cli --raw --in "$D/big.bin" --out "$D/big.out" 2>"$T/err"
sed -n 's/^received \([0-9]*\) bits$/\1/p' "$T/err" >"$D/big.received"
[ -s "$D/big.received" ] || fail "no 'received N bits' line: $(cat "$T/err")"

note "text lines with ALPN bitstuff/1: the lab's example and errors"
sclient 3 "127.0.0.1:$PORT" -alpn bitstuff/1 <<LINES
$example
unstuff 111111
hello
LINES
expect_eq "s_client reply 1" "${REPLY_LINES[0]}" "OK $stuffed"
expect_match "s_client reply 2" "${REPLY_LINES[1]}" '^ERR 4 flag 5 '
expect_match "s_client reply 3" "${REPLY_LINES[2]}" '^ERR 20 bad-command - '

note "a text line without ALPN: found by its port"
sclient 1 "127.0.0.1:$PORT" <<LINES
stuff can 0000011111
LINES
expect_eq "s_client can reply" "${REPLY_LINES[0]}" "OK 000001111101"

note "a 100 kbit text line, over several TLS records"
python3 -c 'import random; random.seed(13)
print("".join(random.choice("01") for _ in range(100000)))' >"$D/line.txt"
sclient 1 "127.0.0.1:$PORT" -alpn bitstuff/1 <"$D/line.txt"
printf '%s\n' "${REPLY_LINES[0]}" >"$D/line.reply"
expect_match "long line reply" "${REPLY_LINES[0]:0:3}" '^OK $'

note "bad binary frames in one record: four 'E' replies, then the close"
out=$(timeout 60 python3 "$IT_INTEGRATION/badframes.py" 127.0.0.1 "$PORT" \
    "$CERTS/ca.crt") || fail "badframes.py failed"
expect_eq "error codes for the bad frames" "${out//$'\n'/ }" "21 25 24 26"

note "stop the capture once it has caught up"
# dumpcap takes packets from the kernel in blocks (about every 250 ms) and
# drops what it has not taken when stopped: wait until the file has not
# grown for 2 s (bounded), so that the last exchange is in it.
last=-1
stable=0
for ((i = 0; i < 120 && stable < 4; i++)); do
    sleep 0.5
    size=$(stat -c %s "$T/cap.pcapng")
    if [ "$size" = "$last" ]; then
        stable=$((stable + 1))
    else
        stable=0
        last=$size
    fi
done
kill -INT "$CAP_PID"
wait_exit "$CAP_PID" 30 "tshark did not stop within 30 s of SIGINT"
CAP_PID=
expect_eq "tshark capture exit status" "$rc" 0
stop_server_ok "$SERVER_PID"

note "dissect: decrypted with the key log, the port as a preference"
dissect() {
    ts -r "$T/cap.pcapng" -o "tls.keylog_file:$T/keys" \
        -X "lua_script:$LUA" -Y bitstuff "$@"
}
dissect -o "bitstuff.tls_ports:$PORT" -T pdml >"$T/all.pdml" 2>"$T/ts.err" ||
    fail "tshark could not dissect the capture:" \
        "$(grep -v 'Running as user' "$T/ts.err" | head -5)"
# (the one malformed frame, of type 'X', is counted by dissector_check.py)
if grep -q 'Lua Error\|_ws\.malformed\.expert' "$T/all.pdml" "$T/ts.err"
then
    grep -m5 'Lua Error\|malformed' "$T/all.pdml" "$T/ts.err" >&2
    fail "the dissector failed on a PDU (Lua error or exception)"
fi
python3 "$CHECK" all "$T/all.pdml" "$D" ||
    fail "dissected fields differ from the exchange (dissector_check.py)"

note "the same capture read in two passes (as Wireshark's GUI does)"
# (not bitstuff.reply_in and request_in: a link to a later frame is known
# only in the second pass, and a long reply begins before its request's
# first chunk is whole)
fields=(-T fields -e frame.number -e bitstuff.type -e bitstuff.nbits
    -e bitstuff.msg.number -e bitstuff.msg.chunk -e bitstuff.msg.bits_before
    -e bitstuff.msg.total_bits -e bitstuff.error.code -e bitstuff.error.offset
    -e bitstuff.bits_shown -e _ws.col.Info)
dissect -o "bitstuff.tls_ports:$PORT" "${fields[@]}" >"$T/one.txt" 2>/dev/null
dissect -2 -o "bitstuff.tls_ports:$PORT" "${fields[@]}" >"$T/two.txt" \
    2>/dev/null
cmp -s "$T/one.txt" "$T/two.txt" || {
    diff "$T/one.txt" "$T/two.txt" | head -20 >&2
    fail "one-pass and two-pass dissections differ"
}

note "without the port preference: only the ALPN sessions"
dissect -T pdml >"$T/noport.pdml" 2>/dev/null
python3 "$CHECK" noport "$T/noport.pdml" "$D" ||
    fail "ALPN registration (dissector_check.py noport)"

note "installed: cmake --install puts it where Wireshark loads Lua plugins"
cmake --install "$BS_BUILD" --component wireshark --prefix "$T/inst" \
    >/dev/null || fail "cmake --install --component wireshark failed"
plugin=$(find "$T/inst" -name bitstuff.lua)
expect_match "installed path" "$plugin" \
    '/lib[^ ]*/wireshark/plugins/bitstuff\.lua$'
# Wireshark reads <libdir>/wireshark/plugins under its own prefix and
# ~/.local/lib/wireshark/plugins: point the latter at the installed tree.
mkdir -p "$T/home2/.local/lib/wireshark"
ln -s "$(dirname "$plugin")" "$T/home2/.local/lib/wireshark/plugins"
HOME=$T/home2 tshark -G plugins 2>/dev/null | grep -q 'bitstuff\.lua' ||
    fail "tshark does not load the installed plugin"
out=$(HOME=$T/home2 timeout 300 tshark -r "$T/cap.pcapng" \
    -o "tls.keylog_file:$T/keys" \
    -Y 'bitstuff.type == 0x45 && bitstuff.error.code == 4' \
    -T fields -e bitstuff.error.name 2>/dev/null)
expect_eq "installed plugin: the 'E' frame's error name" "$out" flag
echo "PASS"
