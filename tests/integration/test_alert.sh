#!/usr/bin/env bash
# test_alert.sh - issue 16.1: a fatal alert reaches a client that still
# has data in flight.  After a record with a bad tag (an application
# record, or the client's Finished) and 64 KiB more, the
# server must send bad_record_mac and close without a reset (which would
# destroy the alert), in every round; a client that goes on sending is
# still cut off (bounded drain), and the server serves on.
. "$(dirname "$0")/it.sh"

start_server server -q --threads 2 \
    --cert "$CERTS/server.crt" --key "$CERTS/server.key"

# badrecord NAME SECONDS [badrecord.py options...]: run it against the
# server for at most SECONDS, its output in $T/NAME.out (and shown), its
# exit status in rc
badrecord() {
    local out=$T/$1.out limit=$2
    shift 2
    rc=0
    rc_of rc timeout "$limit" python3 "$IT_INTEGRATION/badrecord.py" \
        127.0.0.1 "$PORT" "$CERTS/ca.crt" "$@" >"$out" 2>&1
    cat "$out"
}

note "10 rounds: a corrupted record, then 64 KiB more"
badrecord alert 300 --rounds 10 --burst 65536
[ "$rc" -eq 0 ] || fail "the bad_record_mac alert was lost"

note "10 rounds: a corrupted Finished (the server fails in its handshake)"
badrecord alert-hs 300 --rounds 10 --burst 65536 --in-handshake
[ "$rc" -eq 0 ] || fail "the bad_record_mac alert of a handshake was lost"

note "a client that sends for longer than the drain lasts is cut off"
badrecord flood 60 --rounds 1 --burst $((64 << 20)) --pause 0
[ "$rc" -ne 124 ] || fail "a client flooding after the alert held on"
# 64 MiB at full speed: the server drops at most 256 KiB, then closes
grep -q 'send: ' "$T/flood.out" ||
    fail "the server read a 64 MiB flood after its alert to the end"

note "a client that trickles a byte every 100 ms after the alert is cut off"
badrecord trickle 60 --rounds 1 --trickle 20
[ "$rc" -eq 0 ] || fail "a client trickling after the alert held the server"

note "the server serves on"
expect_serves "client after the bad records"
stop_server_ok "$SERVER_PID"
echo "PASS"
