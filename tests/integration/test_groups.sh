#!/usr/bin/env bash
# test_groups.sh - key-exchange groups (issue 9 item 2): by default the
# server accepts X25519, P-256 and P-384 only, so a client that offers
# nothing but a finite-field group (ffdhe2048..8192, up to 400 times the
# CPU of X25519 per handshake) is refused in the handshake; --groups
# changes the list, and an unknown name stops the start with a sentence.
. "$(dirname "$0")/it.sh"

example=0101111110011111001010
stuffed=010111110100111110001010

# s_client_groups GROUPS [more s_client options]: 0 if the handshake
# completes (s_client then closes at once: stdin is empty).
s_client_groups() {
    local g=$1
    shift
    timeout 30 openssl s_client -brief -no_ign_eof \
        -connect "127.0.0.1:$PORT" -CAfile "$CERTS/ca.crt" \
        -verify_return_error -groups "$g" "$@" </dev/null >"$T/sc.out" \
        2>"$T/sc.err" && grep -q 'CONNECTION ESTABLISHED' "$T/sc.err"
}

start_server server --cert "$CERTS/server.crt" --key "$CERTS/server.key"

note "default: every ffdhe group is refused"
for g in ffdhe2048 ffdhe3072 ffdhe4096 ffdhe6144 ffdhe8192; do
    rc_of rc s_client_groups "$g"
    [ "$rc" -ne 0 ] || fail "$g was accepted"
    expect_grep "$g: handshake failure" "$T/sc.err" 'handshake failure'
done

note "default: X25519, P-256 and P-384 are served"
for g in X25519:X25519 P-256:prime256v1 P-384:secp384r1; do
    rc_of rc s_client_groups "${g%%:*}"
    [ "$rc" -eq 0 ] || { cat "$T/sc.err" >&2; fail "${g%%:*} refused"; }
    expect_grep "${g%%:*}: key exchange" "$T/sc.err" "Server Temp Key: .*${g#*:}"
done
sclient 1 "127.0.0.1:$PORT" -groups ffdhe8192:X25519 <<<"$example"
expect_eq "X25519 after ffdhe8192: served" "${REPLY_LINES[0]}" "OK $stuffed"

note "default: a client that offers ffdhe first is moved to X25519"
rc_of rc s_client_groups ffdhe2048:X25519
[ "$rc" -eq 0 ] || { cat "$T/sc.err" >&2; fail "ffdhe2048:X25519 refused"; }

note "default, TLS 1.2: ECDHE with the same curves only"
stop_server_ok "$SERVER_PID"
start_server tls12 --cert "$CERTS/server.crt" --key "$CERTS/server.key" \
    --min-tls 1.2
rc_of rc s_client_groups P-521 -tls1_2
[ "$rc" -ne 0 ] || fail "TLS 1.2 with P-521 was accepted"
rc_of rc s_client_groups P-256 -tls1_2
[ "$rc" -eq 0 ] || { cat "$T/sc.err" >&2; fail "TLS 1.2 with P-256 refused"; }

note "the real client connects with the default list"
expect_serves "bitstuff client"
stop_server_ok "$SERVER_PID"

note "--groups P-384: X25519 is then refused, P-384 served"
start_server p384 --cert "$CERTS/server.crt" --key "$CERTS/server.key" \
    --groups P-384
rc_of rc s_client_groups X25519
[ "$rc" -ne 0 ] || fail "--groups P-384 accepted X25519"
rc_of rc s_client_groups P-384
[ "$rc" -eq 0 ] || { cat "$T/sc.err" >&2; fail "--groups P-384 refused P-384"; }
note "... and the real client (X25519 first) is moved to P-384"
expect_serves "bitstuff client, --groups P-384"
stop_server_ok "$SERVER_PID"

note "--groups with an unknown name: exit 1 and a sentence naming it"
for bad in X25519:bogus "" "X25519::P-256"; do
    rc_of rc timeout 30 "$SERVER" -l 127.0.0.1:0 --cert "$CERTS/server.crt" \
        --key "$CERTS/server.key" --groups "$bad" >"$T/bad.out" 2>"$T/bad.err"
    [ "$rc" -eq 1 ] || fail "--groups '$bad': exit $rc, want 1"
    expect_grep "--groups '$bad' explained" "$T/bad.err" '--groups.*give'
done
expect_grep "names the bad group" "$T/bad.err" "''"
rc_of rc timeout 30 "$SERVER" -l 127.0.0.1:0 --cert "$CERTS/server.crt" \
    --key "$CERTS/server.key" --groups X25519:bogus >"$T/bad.out" 2>"$T/bad.err"
expect_grep "names 'bogus'" "$T/bad.err" "'bogus' is not a group"
echo "PASS"
