#!/usr/bin/env bash
# test_dualcert.sh - an RSA and an ECDSA certificate at once (issue 16
# item 3): an RSA-only client (openssl s_client -sigalgs RSA-PSS+SHA256)
# gets the RSA certificate, an ECDSA-only one the ECDSA certificate, the
# project's client connects; both are renewed and reloaded on SIGHUP;
# two certificates of one key type are refused at start.
. "$(dirname "$0")/it.sh"

GEN="$BS_SOURCE/scripts/gen-certs.sh"
example=0101111110011111001010
stuffed=010111110100111110001010

"$GEN" --ca-dir "$CERTS" --issue server --key-type rsa >/dev/null
"$GEN" --ca-dir "$CERTS" --issue server --key-type ed25519 >/dev/null

# peer SIGALGS: connect with only these signature algorithms (and full
# verification); prints "<key algorithm> <serial>" of the certificate
# the server sent, or fails.
peer() {
    local pem
    pem=$(timeout 20 openssl s_client -connect "127.0.0.1:$PORT" \
        -CAfile "$CERTS/ca.crt" -verify_return_error \
        -verify_hostname localhost -sigalgs "$1" </dev/null 2>"$T/sc.err") || {
        cat "$T/sc.err" >&2
        fail "s_client -sigalgs $1 failed"
    }
    grep -q 'Verify return code: 0 (ok)' <<<"$pem" || fail "-sigalgs $1: not verified"
    printf '%s %s\n' \
        "$(openssl x509 -noout -text <<<"$pem" | sed -n 's/^ *Public Key Algorithm: //p' | head -1)" \
        "$(openssl x509 -noout -serial <<<"$pem" | cut -d= -f2)"
}
serial_of() { openssl x509 -in "$1" -noout -serial | cut -d= -f2; }

# Before: an ECDSA-only server refuses an RSA-only client.
start_server ecdsa -q --cert "$CERTS/server.crt" --key "$CERTS/server.key"
rc_of rc timeout 20 openssl s_client -connect "127.0.0.1:$PORT" \
    -CAfile "$CERTS/ca.crt" -sigalgs RSA-PSS+SHA256 </dev/null >/dev/null 2>&1
[ "$rc" -ne 0 ] || fail "an ECDSA-only server served an RSA-only client"
stop_server_ok "$SERVER_PID"

start_server dual -q --cert "$CERTS/server.crt" --key "$CERTS/server.key" \
    --cert "$CERTS/server-rsa.crt" --key "$CERTS/server-rsa.key"
note "RSA-only client: the RSA certificate"
expect_eq "RSA-only client" "$(peer RSA-PSS+SHA256)" \
    "rsaEncryption $(serial_of "$CERTS/server-rsa.crt")"
expect_eq "RSA-only client (rsae and pss)" \
    "$(peer rsa_pss_rsae_sha256:rsa_pss_pss_sha256)" \
    "rsaEncryption $(serial_of "$CERTS/server-rsa.crt")"
note "ECDSA-only client: the ECDSA certificate"
expect_eq "ECDSA-only client" "$(peer ECDSA+SHA256)" \
    "id-ecPublicKey $(serial_of "$CERTS/server.crt")"
out=$(cli -q "$example")
expect_eq "bitstuff against the dual server" "$out" "$stuffed"

note "SIGHUP after renewing both: both new certificates served"
"$GEN" --ca-dir "$CERTS" --renew --within 60 >/dev/null
rm -f "$CERTS"/server-ed25519.* # renewed too, but not served here
kill -HUP "$SERVER_PID"
wait_log "$T/dual.log" 'SIGHUP: reloaded certificate'
expect_eq "RSA-only client after the reload" "$(peer RSA-PSS+SHA256)" \
    "rsaEncryption $(serial_of "$CERTS/server-rsa.crt")"
expect_eq "ECDSA-only client after the reload" "$(peer ECDSA+SHA256)" \
    "id-ecPublicKey $(serial_of "$CERTS/server.crt")"
expect_grep "the reload names both serials" "$T/dual.log" \
    "serial $(serial_of "$CERTS/server.crt"), $(serial_of "$CERTS/server-rsa.crt")"

note "the RSA certificate expired: the reload is refused, both kept"
rsa_before=$(serial_of "$CERTS/server-rsa.crt")
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/self-rsa.key" \
    -out "$T/self-rsa.crt" -days 2 -subj /CN=localhost \
    -addext 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1' 2>/dev/null
install -m 600 "$T/self-rsa.key" "$CERTS/server-rsa.key"
install -m 644 "$T/self-rsa.crt" "$CERTS/server-rsa.crt"
kill -HUP "$SERVER_PID"
wait_log "$T/dual.log" 'reload refused.*RSA certificate 2: .*self-signed'
expect_eq "RSA-only client, refused reload" "$(peer RSA-PSS+SHA256)" \
    "rsaEncryption $rsa_before"
stop_server_ok "$SERVER_PID"

note "three key types; an Ed25519-only client gets Ed25519"
"$GEN" --ca-dir "$CERTS" --issue server --key-type rsa --force >/dev/null
"$GEN" --ca-dir "$CERTS" --issue server --key-type ed25519 >/dev/null
start_server three -q --cert "$CERTS/server.crt" --key "$CERTS/server.key" \
    --cert "$CERTS/server-rsa.crt" --key "$CERTS/server-rsa.key" \
    --cert "$CERTS/server-ed25519.crt" --key "$CERTS/server-ed25519.key"
expect_eq "Ed25519-only client" "$(peer ed25519)" \
    "ED25519 $(serial_of "$CERTS/server-ed25519.crt")"
expect_eq "RSA-only client, three types" "$(peer RSA-PSS+SHA256)" \
    "rsaEncryption $(serial_of "$CERTS/server-rsa.crt")"
stop_server_ok "$SERVER_PID"

note "two ECDSA certificates, or a --cert without its --key: refused"
"$GEN" --ca-dir "$CERTS" --issue server --name second >/dev/null
rc_of rc "$SERVER" -l 127.0.0.1:0 -q --cert "$CERTS/server.crt" \
    --key "$CERTS/server.key" --cert "$CERTS/second.crt" \
    --key "$CERTS/second.key" >"$T/two.out" 2>&1
expect_eq "two ECDSA certificates: exit status" "$rc" 1
expect_grep "two ECDSA certificates: why" "$T/two.out" 'one certificate per key type'
rc_of rc "$SERVER" -l 127.0.0.1:0 -q --cert "$CERTS/server.crt" \
    --key "$CERTS/server.key" --cert "$CERTS/server-rsa.crt" >"$T/two.out" 2>&1
expect_eq "a --cert without --key: exit status" "$rc" 1
expect_grep "a --cert without --key: why" "$T/two.out" 'one --key for each --cert'
echo "PASS"
