#!/usr/bin/env bash
# test_sdnotify.sh - bitstuffd as a Type=notify service (issue 12 item 3):
# against a stand-in for systemd's notification socket (notify_rx.py, a
# path and an abstract name), the exact sequence: READY=1 once it
# listens, RELOADING=1 with MONOTONIC_USEC on SIGHUP then READY=1 when
# the reload is done (STATUS= says the new certificate is in force, or
# that the old one was kept and why), STOPPING=1 on SIGTERM.  A
# malformed NOTIFY_SOCKET is a warning, not a failed start.
. "$(dirname "$0")/it.sh"

RX_PID=
# rx_start ADDRESS OUT: the receiver, bound before the server starts.
rx_start() {
    python3 "$IT_INTEGRATION/notify_rx.py" "$1" "$2" $((120 * IT_TMUL)) &
    RX_PID=$!
    wait_log "$2" '^bound$' 100
}
# rx_lines OUT: the datagrams received so far, without their times.
rx_lines() { sed -n 's/^[0-9]*\t//p' "$1"; }
# rx_wait OUT N: wait (bounded) for N datagrams.
rx_wait() {
    local i
    for ((i = 0; i < 100 * IT_TMUL; i++)); do
        [ "$(rx_lines "$1" | wc -l)" -ge "$2" ] && return 0
        sleep 0.1
    done
    echo "--- $1:" >&2
    cat "$1" >&2
    fail "fewer than $2 notifications in $1 within 10 s"
}
now_usec() { python3 -c 'import time; print(time.monotonic_ns() // 1000)'; }

mkdir -p "$T/live"
cp "$CERTS/server.crt" "$CERTS/server.key" "$T/live/"
make_certs "$T/c2" # another CA: its certificate must be refused on reload

note "a path: READY=1 once listening, with the address in STATUS="
rx=$T/rx.out
NOTIFY_SOCKET=$T/notify.sock rx_start "$T/notify.sock" "$rx"
NOTIFY_SOCKET=$T/notify.sock start_server server \
    --cert "$T/live/server.crt" --key "$T/live/server.key" --threads 2
rx_wait "$rx" 1
expect_eq "first notification" "$(rx_lines "$rx" | sed -n 1p)" \
    "READY=1|STATUS=serving on 127.0.0.1:$PORT, 2 worker threads"
expect_serves "serving after READY=1"

note "SIGHUP with a good certificate: RELOADING=1, MONOTONIC_USEC, READY=1"
serial=$(openssl x509 -in "$T/live/server.crt" -noout -serial | cut -d= -f2)
before=$(now_usec)
kill -HUP "$SERVER_PID"
rx_wait "$rx" 3
after=$(now_usec)
line=$(rx_lines "$rx" | sed -n 2p)
expect_match "reload notification" "$line" '^RELOADING=1\|MONOTONIC_USEC=[1-9][0-9]*$'
usec=${line##*=}
((usec >= before && usec <= after)) ||
    fail "MONOTONIC_USEC $usec is not between $before and $after"
expect_eq "after the reload" "$(rx_lines "$rx" | sed -n 3p)" \
    "READY=1|STATUS=serving on 127.0.0.1:$PORT, 2 worker threads; SIGHUP: reloaded certificate $T/live/server.crt (serial $serial)"

note "SIGHUP with a certificate of another CA: refused, the old one kept"
cp "$T/c2/server.crt" "$T/live/server.crt"
kill -HUP "$SERVER_PID"
rx_wait "$rx" 5
expect_match "reload notification" "$(rx_lines "$rx" | sed -n 4p)" \
    '^RELOADING=1\|MONOTONIC_USEC=[1-9][0-9]*$'
expect_match "after the refused reload" "$(rx_lines "$rx" | sed -n 5p)" \
    "^READY=1\|STATUS=serving on 127.0.0.1:$PORT, 2 worker threads; SIGHUP: reload refused, kept the previous certificate: .+"
expect_serves "serving with the old certificate"

note "SIGTERM: STOPPING=1, then nothing more"
stop_server_ok "$SERVER_PID"
rx_wait "$rx" 6
expect_eq "on SIGTERM" "$(rx_lines "$rx" | sed -n 6p)" \
    "STOPPING=1|STATUS=stopping: answering the requests received, accepting no new connection"
sleep 0.5
expect_eq "notifications in all" "$(rx_lines "$rx" | wc -l)" 6
kill -TERM "$RX_PID"
wait "$RX_PID" || true

note "an abstract address (@name) works the same"
rx=$T/rx2.out
name="@bitstuff-it-$$-$RANDOM"
rx_start "$name" "$rx"
NOTIFY_SOCKET=$name start_server server2 \
    --cert "$CERTS/server.crt" --key "$CERTS/server.key" --threads 1
rx_wait "$rx" 1
expect_eq "abstract: READY" "$(rx_lines "$rx" | sed -n 1p)" \
    "READY=1|STATUS=serving on 127.0.0.1:$PORT, 1 worker thread"
stop_server_ok "$SERVER_PID"
rx_wait "$rx" 2
expect_match "abstract: STOPPING" "$(rx_lines "$rx" | sed -n 2p)" '^STOPPING=1\|'
kill -TERM "$RX_PID"
wait "$RX_PID" || true

note "a malformed NOTIFY_SOCKET: a warning, the server still serves"
NOTIFY_SOCKET=not-a-socket start_server server3 \
    --cert "$CERTS/server.crt" --key "$CERTS/server.key"
expect_grep "warning" "$T/server3.log" \
    "warning: NOTIFY_SOCKET 'not-a-socket' is not a unix socket.*not notifying systemd"
expect_serves "serving without notifications"
stop_server_ok "$SERVER_PID"
echo "PASS"
