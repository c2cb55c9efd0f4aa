#!/usr/bin/env bash
# test_fleet.sh - several bitstuffd behind HAProxy (issue 14): the
# shipped contrib/haproxy/bitstuff.cfg, with its addresses, ports and
# paths replaced by the test's, in front of three instances sharing a
# ticket key file.
#  1. Failover: bitstuff-bench through HAProxy, new connections and
#     long-lived ones, while one instance is killed with SIGKILL.  No
#     session on a surviving instance fails (HAProxy's log); the bench's
#     failures are at most the sessions cut on the killed one; the
#     health check takes it out; every connection opened after that
#     succeeds.
#  2. The health check is a real request: an instance that accepts TCP
#     but does not serve (stopped with SIGSTOP) is taken out too.
#  3. Rolling restart, the documented way (docs/DEPLOY.md): for each
#     instance, runtime API `set server ... state drain`, wait for its
#     sessions to end, SIGTERM, start it again, `state ready`: zero
#     failed requests under steady load.
# The counts are printed (-- lines).  Skipped without haproxy, and under
# valgrind: there every instance answers some twenty times slower than
# HAProxy's one-second health checks and the shipped timeouts expect, and the
# counts measure valgrind, not failover (a CI run saw 6,216 of 9,331
# new-connection requests fail).  The release and sanitizer suites run
# it; the server code it drives runs under valgrind in it_proxy, it_haproxy
# and it_ticketkeys.
. "$(dirname "$0")/it.sh"

if [ -n "${BS_IT_VALGRIND:-}" ]; then
    echo "SKIP: a failover load test has no meaning at valgrind's speed"
    exit 77
fi

HAPROXY=${BS_HAPROXY:-/usr/sbin/haproxy}
if [ ! -x "$HAPROXY" ]; then
    echo "SKIP: $HAPROXY is missing (scripts/deps.sh installs haproxy)"
    exit 77
fi
CFG_SRC=$BS_SOURCE/contrib/haproxy/bitstuff.cfg
KEYS=$T/ticket.keys
(umask 077 && openssl rand -hex 80 >"$KEYS")
SRV_OPTS=(--cert "$CERTS/server.crt" --key "$CERTS/server.key"
    --ticket-key-file "$KEYS" -q)
# PROXY protocol v2 from HAProxy, when this bitstuffd has it.
PROXY=0
if "$SERVER" --help 2>&1 | grep -q -- '--proxy-protocol'; then
    PROXY=1
    SRV_OPTS+=(--proxy-protocol --proxy-from 127.0.0.1/32)
fi

# hapi CMD: a runtime API command on HAProxy's stats socket; the answer
# on stdout.
hapi() {
    timeout 10 python3 - "$T/haproxy.sock" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
out = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    out += d
sys.stdout.write(out.decode())
PY
}

# stat SERVER FIELD: a field of `show stat` (status, scur, ...) for
# bitstuffd/SERVER (its header's first column is "# pxname").
stat() {
    hapi "show stat" | sed '1s/^# //' | awk -F, -v s="$1" -v f="$2" '
        NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
        $1 == "bitstuffd" && $2 == s { print $col[f] }'
}

# wait_status SERVER REGEX TENTHS: wait (bounded) until its status
# matches; the tenths of a second it took in WAITED.
wait_status() {
    local st=
    for ((WAITED = 0; WAITED < $3; WAITED++)); do
        st=$(stat "$1" status 2>/dev/null) || st=
        [[ $st =~ $2 ]] && return 0
        sleep 0.1
    done
    fail "server $1: status '$st', not /$2/ after $(($3 / 10)) s"
}

# subst FROM TO: replace the literal FROM in the config, which must
# hold it (the shipped file and this test must not drift apart).
subst() {
    grep -qF -- "$1" "$CFG" ||
        fail "contrib/haproxy/bitstuff.cfg no longer holds '$1': update" \
            "test_fleet.sh with it"
    FROM=$1 TO=$2 python3 -c '
import os, sys
p = sys.argv[1]
s = open(p).read().replace(os.environ["FROM"], os.environ["TO"])
open(p, "w").write(s)' "$CFG"
}

note "three instances"
declare -A SPORT SPID
for s in s1 s2 s3; do
    start_server "$s" "${SRV_OPTS[@]}"
    SPORT[$s]=$PORT
    SPID[$s]=$SERVER_PID
done
FPORT=$(python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

note "HAProxy from the shipped configuration (PROXY v2: $PROXY)"
CFG=$T/haproxy.cfg
cp "$CFG_SRC" "$CFG"
subst "bind :55000" "bind 127.0.0.1:$FPORT"
# HAProxy needs two descriptors a connection: fit the test's ulimit
subst "maxconn 40000" "maxconn 2000"
subst "/run/haproxy/bitstuff.sock" "$T/haproxy.sock"
subst "/etc/haproxy/bitstuff-ca.crt" "$CERTS/ca.crt"
subst "check-sni bitstuff.example.com" "check-sni localhost"
subst "verifyhost bitstuff.example.com" "verifyhost localhost"
subst "server s1 10.0.0.1:55000" "server s1 127.0.0.1:${SPORT[s1]}"
subst "server s2 10.0.0.2:55000" "server s2 127.0.0.1:${SPORT[s2]}"
subst "server s3 10.0.0.3:55000" "server s3 127.0.0.1:${SPORT[s3]}"
if [ "$PROXY" = 0 ]; then
    note "this bitstuffd has no --proxy-protocol: send-proxy-v2 taken out"
    subst " send-proxy-v2 check-send-proxy" ""
fi
"$HAPROXY" -c -f "$CFG" >"$T/haproxy-check.log" 2>&1 || {
    cat "$T/haproxy-check.log" >&2
    fail "haproxy -c refuses the configuration"
}
(cd "$T" && exec "$HAPROXY" -f "$CFG" -db) >"$T/haproxy.log" 2>&1 &
HA_PID=$!
SERVER_PIDS+=("$HA_PID")
for ((i = 0; i < 100 * IT_TMUL; i++)); do
    [ -S "$T/haproxy.sock" ] && break
    kill -0 "$HA_PID" 2>/dev/null || break
    sleep 0.1
done
[ -S "$T/haproxy.sock" ] || {
    cat "$T/haproxy.log" >&2
    fail "HAProxy did not start (no runtime API socket)"
}
for s in s1 s2 s3; do
    wait_status "$s" '^UP' $((200 * IT_TMUL))
done

hb() { # bench through HAProxy
    timeout $((120 * IT_TMUL)) "$BENCH" -c "127.0.0.1:$FPORT" \
        --ca-file "$CERTS/ca.crt" -q --json --timeout "$((20 * IT_TMUL))s" \
        "$@"
}
# jget FILE KEY...: a value of the bench's JSON summary
jget() {
    python3 -c '
import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2:]:
    v = v[k]
print(v)' "$@"
}

note "1. failover: SIGKILL s2 under load"
secs=$((8 * IT_TMUL))
hb --new-conn -n 16 -d "$secs" >"$T/b-new.json" &
BN=$!
hb -n 24 -d "$secs" >"$T/b-long.json" &
BL=$!
sleep 3
cut_s2=$(stat s2 scur)
kill_at=$(date +%s.%N)
kill -KILL "${SPID[s2]}"
wait "${SPID[s2]}" 2>/dev/null || true
wait_status s2 '^DOWN' $((300 * IT_TMUL))
note "s2 taken out $((WAITED / 10)).$((WAITED % 10)) s after SIGKILL" \
    "(check inter 1s fall 2); it had $cut_s2 session(s)"
hb --new-conn -n 8 -r "$(scaled 800)" >"$T/b-after.json" ||
    fail "connections opened after s2 was taken out failed: $(cat "$T/b-after.json")"
wait "$BN" || true
wait "$BL" || true
after_ok=$(jget "$T/b-after.json" ok)
expect_eq "failures after s2 was out" "$(jget "$T/b-after.json" failures)" 0
# HAProxy's log: one line per session, "... [accept date] bitstuff
# bitstuffd/sN Tw/Tc/Tt bytes TS ...".  On a surviving instance no
# session may end by the server's doing (TS S* or s*).  On s2, the
# sessions still open at the kill (ended after it) are the ones it cut:
# a killed process's socket sends FIN or RST, so HAProxy logs some as
# normal ends; count them by time.
for s in s1 s3; do
    bad=$(grep -E "bitstuffd/$s [0-9/+-]+ [0-9]+ [Ss]" "$T/haproxy.log" || true)
    [ -z "$bad" ] || {
        echo "$bad" | head >&2
        fail "sessions on surviving instance $s ended by the server side"
    }
done
cut_log=$(python3 - "$T/haproxy.log" "$kill_at" <<'PY'
import re, sys, time
from datetime import datetime
kill = float(sys.argv[2])
n = 0
pat = re.compile(r"\[(\d+/\w+/\d+:\d+:\d+:\d+\.\d+)\] \S+ bitstuffd/s2 "
                 r"[-\d+]+/[-\d+]+/\+?(\d+) ")
for line in open(sys.argv[1]):
    m = pat.search(line)
    if not m:
        continue
    start = datetime.strptime(m.group(1), "%d/%b/%Y:%H:%M:%S.%f").timestamp()
    if start + int(m.group(2)) / 1000.0 >= kill - 0.005:
        n += 1
print(n)
PY
)
# A failed connection counts twice in the bench's failures (the
# connection, and the request it carried): count requests and
# connections apart.
# counts FILE: "OK FAILED_REQUESTS FAILED_CONNECTIONS" of a bench summary
# (wrong replies fail the test).
counts() {
    expect_eq "wrong replies ($1)" "$(jget "$1" errors wrong)" 0
    python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
e = j["errors"]
print(j["ok"], e["lost"] + e["timeout"] + e["unsent"],
      e["connect"] + e["handshake"])' "$1"
}
read -r ok_new req_new conn_new < <(counts "$T/b-new.json")
read -r ok_long req_long _ < <(counts "$T/b-long.json")
note "new connection per request: $ok_new requests ok, $req_new failed" \
    "(of which on connections that failed before their reply: $conn_new);" \
    "long-lived connections: $ok_long ok, $req_long failed;" \
    "sessions open on s2 at the kill (HAProxy log): $cut_log;" \
    "after s2 was out: $after_ok ok, 0 failed"
[ $((req_new + req_long)) -le "$cut_log" ] ||
    fail "$((req_new + req_long)) requests failed, more than the $cut_log" \
        "sessions open on the killed instance when it died"
[ "$(jget "$T/b-new.json" resumed)" -gt 0 ] ||
    fail "no session resumed through HAProxy (shared ticket keys)"

note "restart s2 where it was; HAProxy puts it back"
IT_LISTEN=127.0.0.1:${SPORT[s2]} start_server s2b "${SRV_OPTS[@]}"
SPID[s2]=$SERVER_PID
wait_status s2 '^UP' $((300 * IT_TMUL))

note "2. an instance that accepts TCP but does not serve is taken out"
kill -STOP "${SPID[s3]}"
wait_status s3 '^DOWN' $((300 * IT_TMUL))
note "s3 (SIGSTOP: the kernel still accepts) out after" \
    "$((WAITED / 10)).$((WAITED % 10)) s"
hb --new-conn -n 8 -r "$(scaled 400)" >"$T/b-stop.json" ||
    fail "requests failed with s3 out: $(cat "$T/b-stop.json")"
kill -CONT "${SPID[s3]}"
wait_status s3 '^UP' $((300 * IT_TMUL))

note "3. rolling restart under steady load: drain, SIGTERM, start, ready"
# The load: bench runs of 3 s back to back until the roll is done (a
# bench cannot be stopped early with its summary), 200 at most.
roll_load() {
    local i
    for ((i = 0; i < 200; i++)); do
        [ ! -e "$T/roll.stop" ] || return 0
        hb --new-conn -n 12 -d 3 >"$T/roll.$i.json" || true
    done
}
roll_load &
BR=$!
sleep 2
n=0
for s in s1 s2 s3; do
    hapi "set server bitstuffd/$s state drain" >/dev/null
    for ((i = 0; i < 300 * IT_TMUL; i++)); do
        [ "$(stat "$s" scur)" = 0 ] && break
        sleep 0.1
    done
    [ "$(stat "$s" scur)" = 0 ] || fail "$s still has sessions after drain"
    stop_server_ok "${SPID[$s]}"
    IT_LISTEN=127.0.0.1:${SPORT[$s]} start_server "$s-r" "${SRV_OPTS[@]}"
    SPID[$s]=$SERVER_PID
    wait_status "$s" '^DRAIN' $((300 * IT_TMUL)) # its checks pass again
    hapi "set server bitstuffd/$s state ready" >/dev/null
    wait_status "$s" '^UP' $((100 * IT_TMUL))
    n=$((n + 1))
    kill -0 "$BR" 2>/dev/null ||
        fail "the load ended before the roll did ($n of 3 restarted)"
done
sleep 2 # load on the restarted instances too
touch "$T/roll.stop"
wait "$BR" || true
read -r roll_runs roll_ok roll_fail < <(python3 -c '
import glob, json, sys
runs = ok = failed = 0
for f in glob.glob(sys.argv[1] + "/roll.*.json"):
    j = json.load(open(f))
    runs += 1
    ok += j["ok"]
    failed += j["failures"]
print(runs, ok, failed)' "$T")
note "rolling restart of 3 instances: $roll_ok requests ok, $roll_fail" \
    "failed ($roll_runs bench runs back to back)"
expect_eq "failed requests during the rolling restart" "$roll_fail" 0
[ "$roll_ok" -gt 0 ] || fail "no request during the rolling restart"
echo "PASS: test_fleet"
