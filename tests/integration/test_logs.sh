#!/usr/bin/env bash
# test_logs.sh - logs an operator can use (issue 12.5): each stderr line
# stamped with an RFC 3339 time and a level (or a journald priority when
# $JOURNAL_STREAM names stderr), --log-level, --log-format json, and one
# close line per connection with its peer, TLS parameters, client
# certificate, requests, bytes, duration and reason; the exchange display
# stays.  Loopback only; every wait is bounded.
. "$(dirname "${BASH_SOURCE[0]}")/it.sh"

lc() { python3 "$IT_INTEGRATION/logcheck.py" "$@" || fail "logcheck $*"; }
srv=(--cert "$CERTS/server.crt" --key "$CERTS/server.key")
mtls=(--ca-file "$CERTS/ca.crt" --verify-client optional)
client_cert=(--cert "$CERTS/client.crt" --key "$CERTS/client.key")

note "text: stamped lines; a close line with every field"
start_server text "${srv[@]}" "${mtls[@]}"
out=$(cli "${client_cert[@]}" 0101111110011111001010 0111111)
expect_match "replies" "$out" "010111110100111110001010"
expect_grep "the display stays" "$T/text.log" \
    '^\[127\.0\.0\.1:[0-9]+\] stuff hdlc received 22 bits: 0101111110011111001010$'
expect_grep "a close line" "$T/text.log" 'connection closed .*reason='
lc text-close "$T/text.log" '127\.0\.0\.1:[0-9]+' \
    'peer=127\.0\.0\.1:[0-9]+' tls=TLSv1.3 'cipher=TLS_\w+' 'group=\w+' \
    resumed=no alpn=bitstuff/1 'client_cert=.*CN=[^,]+.*' requests=2 \
    'bytes_in=[1-9][0-9]*' 'bytes_out=[1-9][0-9]*' 'duration_ms=\d+' \
    reason=client-closed
# a failed handshake: its reason in the close line
rc_of rc timeout 20 openssl s_client -connect "127.0.0.1:$PORT" \
    -tls1_2 </dev/null >/dev/null 2>&1
expect_grep "a failed handshake's close line" "$T/text.log" \
    'connection closed .*reason=handshake-failed detail="TLS handshake failed: '
# a client that leaves mid-handshake: the close line names the cause once
exec 3<>"/dev/tcp/127.0.0.1/$PORT" || fail "cannot connect to the server"
printf '\x16\x03\x01' >&3
exec 3>&-
expect_grep "a cut handshake's close line" "$T/text.log" \
    'connection closed .*reason=handshake-failed detail="TLS handshake failed: .*closed the connection'
if grep -q 'detail="TLS handshake failed: TLS handshake failed' "$T/text.log"; then
    fail "the close line's detail says 'TLS handshake failed' twice"
fi
stop_server_ok "$SERVER_PID"
expect_grep "the stop is logged" "$T/text.log" ' info bitstuffd: Terminated: stopping'
lc stamped "$T/text.log"

note "json: one object per line; the close line's fields typed"
start_server json "${srv[@]}" "${mtls[@]}" --log-format json
out=$(cli "${client_cert[@]}" 0111111)
expect_match "reply" "$out" "01111101"
expect_grep "a close line" "$T/json.log" '"msg":"\[127\.0\.0\.1:[0-9]+\] connection closed"'
stop_server_ok "$SERVER_PID"
lc json-close "$T/json.log" '127\.0\.0\.1:[0-9]+' tls=TLSv1.3 \
    'cipher=TLS_\w+' 'group=\w+' resumed=no alpn=bitstuff/1 \
    'client_cert=.*CN=.*' requests=1 'bytes_in=[1-9][0-9]*' 'bytes_out=[1-9][0-9]*' \
    'duration_ms=\d+' reason=client-closed

note "--log-level warning: no info lines; errors and warnings stay"
start_server quiet "${srv[@]}" --log-level warning
out=$(cli 0111111)
rc_of rc timeout 20 openssl s_client -connect "127.0.0.1:$PORT" \
    -tls1_2 </dev/null >/dev/null 2>&1
expect_grep "a warning" "$T/quiet.log" ' warning bitstuffd: .*TLS handshake failed'
stop_server_ok "$SERVER_PID"
if grep -q ' info bitstuffd' "$T/quiet.log"; then
    fail "--log-level warning let an info line through"
fi

note "journald: \$JOURNAL_STREAM names stderr: priorities, no timestamps"
: >"$T/journal.log"
JOURNAL_STREAM=$(stat -c '%d:%i' "$T/journal.log")
export JOURNAL_STREAM
start_server journal "${srv[@]}"
unset JOURNAL_STREAM
out=$(cli 0111111)
expect_grep "a close line" "$T/journal.log" '^<6>bitstuffd: .* connection closed '
stop_server_ok "$SERVER_PID"
lc journal "$T/journal.log"
note "certificates found by the search: the line naming them is a log line"
CREDENTIALS_DIRECTORY=$CERTS start_server found --log-format json
out=$(cli 0111111)
expect_match "reply" "$out" "01111101"
stop_server_ok "$SERVER_PID"
expect_grep "the found files are logged" "$T/found.log" \
    '"msg":"certificate .*/server\.crt, key .*/server\.key"'
lc json-close "$T/found.log" '127\.0\.0\.1:[0-9]+' reason=client-closed
CREDENTIALS_DIRECTORY=$CERTS start_server found-text
stop_server_ok "$SERVER_PID"
lc stamped "$T/found-text.log"
echo PASS
