#!/usr/bin/env bash
# test_activation.sh - socket activation (issue 12 item 3): bitstuffd
# started by systemd-socket-activate serves the lab's example on the
# socket it was passed and binds nothing itself; a passed descriptor
# that is not a listening TCP socket, or --listen given as well, stops
# the start with a message that names the problem; LISTEN_* meant for
# another process are ignored.
. "$(dirname "$0")/it.sh"

example=0101111110011111001010
stuffed=010111110100111110001010
CRT=(--cert "$CERTS/server.crt" --key "$CERTS/server.key")

note "systemd-socket-activate: the server starts on the first connection"
command -v systemd-socket-activate >/dev/null ||
    fail "systemd-socket-activate is missing (Debian package systemd)"
for ((try = 0; try < 5; try++)); do
    PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    : >"$T/ssa.log"
    systemd-socket-activate -l "127.0.0.1:$PORT" \
        "$SERVER" "${CRT[@]}" --threads 1 >"$T/ssa.log" 2>&1 &
    SERVER_PID=$!
    SERVER_PIDS+=("$SERVER_PID")
    # it prints "Listening on 127.0.0.1:PORT as 3." once it listens
    log_has "$T/ssa.log" "Listening on 127.0.0.1:$PORT" 100 && break
    kill "$SERVER_PID" 2>/dev/null || true # the port was taken meanwhile
    wait "$SERVER_PID" 2>/dev/null || true
done
log_has "$T/ssa.log" "Listening on 127.0.0.1:$PORT" 1 ||
    fail "systemd-socket-activate did not listen: $(cat "$T/ssa.log")"
grep -q "listening on" "$T/ssa.log" &&
    fail "bitstuffd started before the first connection"
out=$(cli "$example")
expect_eq "the lab's example through an activated socket" "$out" \
    "sent: $example
received: $stuffed"
expect_grep "the passed socket" "$T/ssa.log" \
    "listening on 127\.0\.0\.1:$PORT \(socket activation, descriptor 3\)$"
expect_grep "the server's display" "$T/ssa.log" "stuff hdlc sent 24 bits: $stuffed"
expect_eq "listening sockets of the server (no --listen default bound)" \
    "$(grep -c 'listening on' "$T/ssa.log")" 1
out=$(cli -u "$stuffed")
expect_eq "a second connection" "$out" "sent (unstuff hdlc): $stuffed
received (unstuff hdlc): $example"
stop_server_ok "$SERVER_PID"

# held KIND NAME [server options]: run the server under sockhold.py with a
# descriptor 3 of that kind; its exit status in rc, its output in
# $T/NAME.log.
held() {
    local kind=$1 name=$2 i
    shift 2
    rm -f "$T/$name.port"
    python3 "$IT_INTEGRATION/sockhold.py" --kind "$kind" --seconds 60 \
        --port-file "$T/$name.port" --log "$T/$name.events" -- \
        "$SERVER" "${CRT[@]}" "$@" >"$T/$name.log" 2>&1 &
    local hold=$!
    for ((i = 0; i < 100 * IT_TMUL; i++)); do
        grep -q '^exited' "$T/$name.events" 2>/dev/null && break
        sleep 0.1
    done
    kill -TERM "$hold" 2>/dev/null || true
    wait "$hold" || true
    rc=$(sed -n 's/^exited [0-9]* //p' "$T/$name.events")
    [ -n "$rc" ] || fail "$name: the server did not exit within 10 s"
}

note "passed descriptors that bitstuffd cannot serve on: exit 1, why"
held udp udp
expect_eq "udp: exit status" "$rc" 1
expect_grep "udp" "$T/udp.log" \
    "socket activation: socket 'bitstuffd': descriptor 3 is not a stream socket"
held tcp-unlistened unlistened
expect_eq "not listening: exit status" "$rc" 1
expect_grep "not listening" "$T/unlistened.log" \
    "descriptor 3 is a stream socket that is not listening"
held unix unix
expect_eq "unix: exit status" "$rc" 1
expect_grep "unix" "$T/unix.log" "descriptor 3 is not a TCP socket"
held file file
expect_eq "file: exit status" "$rc" 1
expect_grep "file" "$T/file.log" "descriptor 3 is not a socket"

note "--listen as well as a passed socket: exit 1, one place for addresses"
held tcp both -l 127.0.0.1:0
expect_eq "both: exit status" "$rc" 1
expect_grep "both" "$T/both.log" \
    "--listen 127\.0\.0\.1:0 and socket activation \(1 socket passed in LISTEN_FDS\) both given.*drop --listen"

note "LISTEN_PID of another process: not for us, --listen is used"
LISTEN_FDS=1 LISTEN_PID=1 start_server other "${CRT[@]}"
expect_serves "LISTEN_PID of another process"
grep -q "socket activation" "$T/other.log" &&
    fail "took a descriptor passed to another process"
stop_server_ok "$SERVER_PID"

note "a malformed LISTEN_FDS for us: exit 1"
rc_of rc env LISTEN_FDS=x LISTEN_PID=self sh -c \
    'LISTEN_PID=$$ exec "$@"' sh "$SERVER" "${CRT[@]}" >"$T/bad.log" 2>&1
expect_eq "malformed LISTEN_FDS: exit status" "$rc" 1
expect_grep "malformed LISTEN_FDS" "$T/bad.log" "socket activation: .*LISTEN_FDS"
echo "PASS"
