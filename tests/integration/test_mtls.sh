#!/usr/bin/env bash
# test_mtls.sh - mutual TLS: with --ca-file and --verify-client require
# the server accepts the client certificate made by gen-certs.sh (and
# displays its subject) and refuses a client without one in the
# handshake: the client exits 3 and says it needs --cert and --key, every
# time (TLS 1.3 reports the refusal after the client's first write, a
# race the client must win).  --verify-client optional serves both.
. "$(dirname "$0")/it.sh"

example=0101111110011111001010
stuffed=010111110100111110001010
start_server server --cert "$CERTS/server.crt" --key "$CERTS/server.key" \
    --ca-file "$CERTS/ca.crt" --verify-client require

note "require: the client certificate is accepted, its subject displayed"
out=$(cli -q --cert "$CERTS/client.crt" --key "$CERTS/client.key" "$example")
expect_eq "client with certificate" "$out" "$stuffed"
expect_grep "subject in the display" "$T/server.log" \
    '^\[127\.0\.0\.1:[0-9]+\] client certificate: .*CN=bitstuff-client'

note "require: s_client with the certificate is served too"
sclient 1 "127.0.0.1:$PORT" -cert "$CERTS/client.crt" \
    -key "$CERTS/client.key" <<<"$example"
expect_eq "s_client with certificate" "${REPLY_LINES[0]}" "OK $stuffed"

note "require: no certificate, refused in the handshake (exit 3), 10 times"
for i in 1 2 3 4 5 6 7 8 9 10; do
    rc_of rc cli "$example" >"$T/out" 2>"$T/err"
    [ "$rc" -eq 3 ] || {
        cat "$T/err" >&2
        fail "client without certificate, try $i: exit $rc, want 3"
    }
    expect_grep "client's reason" "$T/err" 'requires a client certificate.*--cert'
    [ ! -s "$T/out" ] || [ "$(grep -c '^received' "$T/out")" -eq 0 ] ||
        fail "a client without certificate got a reply"
done
expect_grep "server's reason" "$T/server.log" \
    'TLS handshake failed: the client sent no certificate'

note "require: still serving after the refusals"
out=$(cli -q --cert "$CERTS/client.crt" --key "$CERTS/client.key" "$example")
expect_eq "client with certificate, again" "$out" "$stuffed"
stop_server_ok "$SERVER_PID"

note "optional: with and without a certificate, both served"
start_server optional --cert "$CERTS/server.crt" --key "$CERTS/server.key" \
    --ca-file "$CERTS/ca.crt" --verify-client optional
out=$(cli -q "$example")
expect_eq "optional, no certificate" "$out" "$stuffed"
out=$(cli -q --cert "$CERTS/client.crt" --key "$CERTS/client.key" "$example")
expect_eq "optional, certificate" "$out" "$stuffed"
expect_grep "subject in the display (optional)" "$T/optional.log" \
    'client certificate: .*CN=bitstuff-client'
stop_server_ok "$SERVER_PID"
echo "PASS"
