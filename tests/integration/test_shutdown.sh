#!/usr/bin/env bash
# test_shutdown.sh - SIGTERM loses no reply.
#
# A text client that sent N requests and then waits gets N answers, in
# order, then close_notify; so does an idle one.  A pipelined bench run in
# flight: every request the server took is answered and checked (the
# bench's count of verified replies equals the number of replies the
# server displayed), none wrong; the server exits 0.  The bench keeps
# writing until it sees close_notify, so it may count requests written
# after the server's last read as "lost" (or "unsent"): those were never
# processed (replies come in order, close_notify after the last), which
# is allowed here only if the connection ended with close_notify.
. "$(dirname "$0")/it.sh"

closer() { timeout 60 python3 "$IT_INTEGRATION/closer.py" 127.0.0.1 "$PORT" \
    "$CERTS/ca.crt" "$@"; }

# bench_check JSON: no failures but requests unanswered at a clean
# close_notify; prints the ok count
bench_check() {
    python3 - "$1" <<'PY'
import json, sys
d = json.loads(open(sys.argv[1]).read())
e, first = d["errors"], d["first_errors"]
bad = {k: v for k, v in e.items() if v and k not in ("unsent", "lost")}
if e["lost"] and not first["lost"].endswith("the server closed the connection"):
    bad["lost"] = e["lost"]
if bad or d["ok"] == 0:
    print("bench: ok %d, failures %s, first %s" % (d["ok"], bad,
          {k: v for k, v in first.items() if v}), file=sys.stderr)
    sys.exit(1)
print(d["ok"], e["lost"], e["unsent"])
PY
}

# Display lines the server could not write in time are dropped and
# counted ("N display lines dropped", issue 9.3).  expect_shown WHAT LOG
# REPLIES SHOWN: every reply shown, or those missing counted as dropped.
dropped() {
    { grep -Eo 'bitstuffd: [0-9]+ display lines dropped' "$1" || true; } |
        awk '{n += $2} END {print n + 0}'
}
expect_shown() {
    local d
    d=$(dropped "$2")
    if [ "$d" -eq 0 ]; then
        expect_eq "$1" "$3" "$4"
    elif [ "$4" -gt "$3" ] || [ $(($4 + d)) -lt "$3" ]; then
        fail "$1: $3 replies, $4 shown and $d display lines dropped"
    fi
}

for round in 1 2; do
    note "round $round: a bench run in flight, an idle text client, SIGTERM"
    start_server "server$round" --cert "$CERTS/server.crt" \
        --key "$CERTS/server.key"
    log=$T/server$round.log
    closer idle >"$T/idle$round" 2>&1 &
    idle_pid=$!
    wait_log "$T/idle$round" '^ready$'
    bench -n 8 -P 16 -d 60 --op mixed --rule mixed -s 1-200 --json \
        >"$T/bench$round.json" 2>"$T/bench$round.err" &
    bench_pid=$!
    # requests flowing: the server has displayed some replies
    wait_log "$log" 'stuff (hdlc|usb|can) sent' 200
    sleep 0.3
    kill -0 "$bench_pid" 2>/dev/null || fail "the bench ended before SIGTERM"
    stop_server_ok "$SERVER_PID"

    brc=0
    wait "$bench_pid" || brc=$?
    [ "$brc" -eq 0 ] || [ "$brc" -eq 2 ] ||
        fail "bench exit $brc: $(cat "$T/bench$round.err")"
    read -r ok lost unsent < <(bench_check "$T/bench$round.json") ||
        fail "the bench lost requests at shutdown (above)"
    [ -n "$ok" ] || fail "the bench failed at shutdown (above)"
    shown=$(grep -Ec '^\[127\.0\.0\.1:[0-9]+\] (un)?stuff (hdlc|usb|can) sent' "$log")
    # the idle client's one request is displayed too
    expect_shown "replies checked by the bench vs displayed by the server" \
        "$log" "$((ok + 1))" "$shown"
    note "bench: $ok replies checked, $shown displayed; $lost unanswered" \
        "at close_notify, $unsent unsent"

    rc=0
    wait "$idle_pid" || rc=$?
    cat "$T/idle$round"
    [ "$rc" -eq 0 ] || fail "the idle text client got no close_notify"
done

note "a text client floods without reading, then SIGTERM"
start_server flood --cert "$CERTS/server.crt" --key "$CERTS/server.key"
closer flood "$(scaled 60000)" >"$T/flood" 2>&1 &
flood_pid=$!
wait_log "$T/flood" '^ready [0-9]+$' 300
stop_server_ok "$SERVER_PID"
rc=0
wait "$flood_pid" || rc=$?
cat "$T/flood"
[ "$rc" -eq 0 ] || fail "the flooding client's replies were wrong or cut"
read -r _ sent < <(grep '^ready ' "$T/flood")
read -r _ replies busy < <(grep '^replies ' "$T/flood")
expect_eq "requests sent vs answered" "$replies" "$sent"
shown=$(grep -Ec 'stuff hdlc sent' "$T/flood.log")
expect_shown "replies received vs displayed" "$T/flood.log" "$replies" \
    "$shown"
echo "PASS"
