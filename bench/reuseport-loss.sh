#!/usr/bin/env bash
# reuseport-loss.sh - does a restart with --reuse-port lose connections?
# (issue 14 item 3; the figures are in docs/DEPLOY.md)
#
# Part 1, the kernel alone (Python, loopback): two listening sockets in
# one SO_REUSEPORT group; C clients connect while neither accepts, so
# each connection waits in the accept queue of the socket the kernel
# picked; then the first socket closes.  Counted: connections queued on
# it, and of those how many the clients then see reset.  This is the
# known Linux behaviour (net.ipv4.tcp_migrate_req=0, the default; its
# value here is printed, never changed).
#
# Part 2, the upgrade as documented for --reuse-port, under load: an
# old bitstuffd --reuse-port; bitstuff-bench --new-conn (a new TLS
# connection per request, so connections arrive all the time) for D
# seconds; after D/3 a new bitstuffd --reuse-port on the same port; once
# it listens, SIGTERM to the old one.  Counted: the bench's requests and
# failures, each run.
#
#   bench/reuseport-loss.sh [-r RUNS] [-n CONNS] [-d SECONDS] [-c CLIENTS]
#   BS_BUILD=build-asan bench/reuseport-loss.sh
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/server-port.sh
. "$root/scripts/server-port.sh"
# shellcheck source=scripts/args.sh
. "$root/scripts/args.sh"
build=${BS_BUILD:-$root/build}
runs=5 conns=32 secs=6 clients=200
bs_getopts -r runs -n conns -d secs -c clients -- "$@"
work=$(mktemp -d)
old=
new=
trap 'bs_reap "$old" KILL; bs_reap "$new" KILL; rm -rf "$work"' EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -r), $(nproc) CPU(s)"
echo "# net.ipv4.tcp_migrate_req = $(cat /proc/sys/net/ipv4/tcp_migrate_req \
    2>/dev/null || echo '?')"
echo "## part 1: the kernel alone, $clients clients, nobody accepting"
python3 - "$clients" <<'PY'
import socket, sys, time
n = int(sys.argv[1])
def listener(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind(("127.0.0.1", port))
    s.listen(4096)
    return s
a = listener(0)
port = a.getsockname()[1]
b = listener(port)
clients = []
for _ in range(n):
    c = socket.create_connection(("127.0.0.1", port), timeout=5)
    clients.append(c)
# which socket holds which connection: accept them from b only after a
# has closed; the rest were in a's queue
a.close()
time.sleep(0.2)
b.setblocking(False)
on_b = 0
while True:
    try:
        conn, _ = b.accept()
    except BlockingIOError:
        break
    on_b += 1
    conn.close()
reset = 0
for c in clients:
    c.settimeout(2)
    try:
        c.send(b"x")
        data = c.recv(1)
        # b's accepted connections were closed by us: EOF, not reset
    except (ConnectionResetError, BrokenPipeError):
        reset += 1
    except socket.timeout:
        pass
    c.close()
print(f"queued on the closed socket: {n - on_b} of {n}; "
      f"reset: {reset}; served by the other: {on_b}")
PY

echo "## part 2: bitstuffd upgrade with --reuse-port under load"
echo "# bitstuff-bench --new-conn -n $conns -d $secs; new server at" \
    "$((secs / 3)) s, SIGTERM to the old one when it listens"
bash "$root/scripts/gen-certs.sh" --out "$work/c" >/dev/null
(umask 077 && openssl rand -hex 80 >"$work/ticket.keys")
srv=("$build/bitstuffd" --cert "$work/c/server.crt" --key
    "$work/c/server.key" --reuse-port --ticket-key-file "$work/ticket.keys"
    -q)
total_ok=0 total_fail=0
for ((r = 1; r <= runs; r++)); do
    "${srv[@]}" -l 127.0.0.1:0 >"$work/old.log" 2>&1 &
    old=$!
    port=$(bs_server_port "$work/old.log" "$old") || {
        cat "$work/old.log" >&2
        exit 1
    }
    "$build/bitstuff-bench" -c "127.0.0.1:$port" --ca-file "$work/c/ca.crt" \
        --new-conn -n "$conns" -d "$secs" -q --json >"$work/bench.json" &
    bpid=$!
    sleep "$((secs / 3))"
    "${srv[@]}" -l "127.0.0.1:$port" >"$work/new.log" 2>&1 &
    new=$!
    bs_server_port "$work/new.log" "$new" >/dev/null || {
        cat "$work/new.log" >&2
        exit 1
    }
    kill -TERM "$old"
    wait "$old" || true
    old=
    wait "$bpid" || true
    bs_reap "$new"
    new=
    read -r ok fail detail < <(python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
e = j["errors"]
print(j["ok"], j["failures"],
      ",".join(f"{k}={v}" for k, v in e.items() if v) or "-")
for k, v in j["first_errors"].items():
    if v:
        print(f"  first {k}: {v}", file=sys.stderr)
' "$work/bench.json")
    echo "run $r: requests ok $ok, failed $fail ($detail)"
    total_ok=$((total_ok + ok))
    total_fail=$((total_fail + fail))
done
echo "total: requests ok $total_ok, failed $total_fail in $runs runs"
