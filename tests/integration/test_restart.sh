#!/usr/bin/env bash
# test_restart.sh - a restart on one host loses nothing (issue 14 item 3,
# the socket-activation route of README's "Upgrading without losing a
# connection").  A holder (sockhold.py, standing in for systemd and its
# bitstuffd.socket) keeps the listening socket and starts bitstuffd on
# it; under steady load of short connections (a new TLS connection for
# every request) the holder restarts the server several times the way
# `systemctl restart` does: SIGTERM, the old one drains and exits, a new
# one starts on the same socket.  Connections that arrive in between
# wait in the socket's accept queue.  Every connection and every request
# must succeed.
. "$(dirname "$0")/it.sh"

restarts=3
rm -f "$T/port"
python3 "$IT_INTEGRATION/sockhold.py" --seconds $((240 * IT_TMUL)) \
    --port-file "$T/port" --log "$T/events" -- \
    "$SERVER" --cert "$CERTS/server.crt" --key "$CERTS/server.key" \
    --threads 2 -q >"$T/server.log" 2>&1 &
HOLDER=$!
SERVER_PIDS+=("$HOLDER")
wait_log "$T/server.log" 'listening on 127\.0\.0\.1:[0-9]+ \(socket activation' \
    $((100 * IT_TMUL))
PORT=$(cat "$T/port")
expect_serves "before the restarts"

# started N: wait (bounded) until the holder has started the server N
# times and the Nth one listens.
started() {
    local i
    for ((i = 0; i < 200 * IT_TMUL; i++)); do
        [ "$(grep -c 'listening on' "$T/server.log")" -ge "$1" ] && return 0
        sleep 0.05
    done
    fail "server start $1 did not come within $((10 * IT_TMUL)) s"
}

note "load: new connection per request, 8 at a time, $restarts restarts"
secs=$((12 * IT_TMUL))
bench --new-conn -n 8 -t 2 -d "$secs" --json >"$T/bench.json" \
    2>"$T/bench.err" &
BENCH_PID=$!
for ((k = 1; k <= restarts; k++)); do
    sleep $((2 * IT_TMUL))
    kill -0 "$BENCH_PID" 2>/dev/null ||
        fail "the load ended before restart $k: $(cat "$T/bench.err")"
    kill -HUP "$HOLDER"
    started $((k + 1))
done
kill -0 "$BENCH_PID" 2>/dev/null ||
    fail "the load ended before the last restart was done"
rc=0
wait "$BENCH_PID" || rc=$?
cat "$T/bench.err" >&2
python3 - "$T/bench.json" "$rc" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
failed = sum(j["failures"].values()) if isinstance(j.get("failures"), dict) else j.get("failures")
print("-- connections %d, requests ok %d, failed %s, bench exit %s"
      % (j["handshakes"], j["ok"], failed, sys.argv[2]))
PY
expect_eq "bench exit status (0: every request answered rightly)" "$rc" 0

note "each old server drained and exited 0; $((restarts + 1)) servers ran"
expect_eq "servers started" "$(grep -c '^started' "$T/events")" $((restarts + 1))
expect_eq "servers that exited 0" "$(grep -c '^exited [0-9]* 0$' "$T/events")" \
    "$restarts"
expect_eq "servers that exited otherwise" \
    "$(grep -c '^exited' "$T/events")" "$restarts"
expect_serves "after the restarts"
kill -TERM "$HOLDER"
wait "$HOLDER" || true
expect_eq "the last server exited 0" \
    "$(grep -c '^exited [0-9]* 0$' "$T/events")" $((restarts + 1))
echo "PASS"
