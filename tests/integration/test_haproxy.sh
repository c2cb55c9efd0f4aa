#!/usr/bin/env bash
# test_haproxy.sh - HAProxy in TCP mode with send-proxy-v2 in front of one
# bitstuffd (issue 14): the backend's display and close line name the
# client's real address and port, not HAProxy's.  HAProxy connects from
# 127.0.0.3 and the clients from 127.0.0.2 and 127.0.0.1, so the three
# cannot be confused.  Skipped (77) without /usr/sbin/haproxy.
# (A minimal config written here; contrib/haproxy/bitstuff.cfg is the one
# shipped for deployments.)  Loopback only; every wait is bounded.
. "$(dirname "${BASH_SOURCE[0]}")/it.sh"

HAPROXY=${HAPROXY:-/usr/sbin/haproxy}
if [ ! -x "$HAPROXY" ]; then
    echo "SKIP: no $HAPROXY"
    exit 77
fi

start_server backend --cert "$CERTS/server.crt" --key "$CERTS/server.key" \
    --proxy-protocol --proxy-from 127.0.0.3/32
backend_port=$PORT
log=$T/backend.log
hport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$T/haproxy.cfg" <<CFG
global
    maxconn 256
defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend bitstuff
    bind 127.0.0.1:$hport
    default_backend bitstuffd
backend bitstuffd
    server b1 127.0.0.1:$backend_port send-proxy-v2 source 127.0.0.3
CFG
"$HAPROXY" -c -q -f "$T/haproxy.cfg" || fail "haproxy refused the config"
"$HAPROXY" -db -f "$T/haproxy.cfg" >"$T/haproxy.out" 2>&1 &
SERVER_PIDS+=("$!")
for ((i = 0; i < 100; i++)); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $hport), 1)" \
        2>/dev/null && break
    sleep 0.1
done
((i < 100)) || fail "haproxy does not listen on 127.0.0.1:$hport"

note "a client on 127.0.0.2 through HAProxy"
out=$(timeout $((60 * IT_TMUL)) python3 "$IT_INTEGRATION/proxyclient.py" \
    127.0.0.1 "$hport" "$CERTS/ca.crt" --mode tls --bind 127.0.0.2)
expect_match "reply through haproxy" "$out" "^OK 01111101"
client=$(sed -n 's/^via //p' <<<"$out")
expect_match "client address" "$client" '^127\.0\.0\.2:[0-9]+$'
expect_grep "display with the client's address and port" "$log" \
    "^\[$client\] stuff hdlc received 7 bits: 0111111\$"
expect_grep "close line with the client's address and port" "$log" \
    "\[$client\] connection closed peer=$client .*requests=1 .*reason=client-closed"

note "the real client (127.0.0.1) through HAProxy"
PORT=$hport
expect_serves "bitstuff through haproxy"
expect_grep "the real client's close line" "$log" \
    '\[127\.0\.0\.1:[0-9]+\] connection closed peer=127\.0\.0\.1:[0-9]+ .*requests=1 '
if grep -Eq '127\.0\.0\.3' "$log"; then
    grep -E '127\.0\.0\.3' "$log" >&2
    fail "the backend's log shows HAProxy's address"
fi
PORT=$backend_port
stop_server_ok "$SERVER_PID"
echo PASS
