#!/usr/bin/env bash
# shellcheck disable=SC2016 # the bash -c scripts expand their own "$1"
# test_gen_certs.sh - scripts/gen-certs.sh: makes a verifiable set with the
# right modes, adds --san names, refuses to overwrite without --force, and
# rejects bad arguments.  Usage: test_gen_certs.sh PATH/TO/gen-certs.sh
set -euo pipefail
gen=${1:?usage: test_gen_certs.sh PATH/TO/gen-certs.sh}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fails=0
check() { # description, command...
    local what=$1
    shift
    if "$@"; then
        echo "ok   - $what"
    else
        echo "FAIL - $what"
        fails=$((fails + 1))
    fi
}
mode() { stat -c %a "$1"; }

"$gen" --out "$dir/c" --days 2 --client-cn tester \
    --san DNS:host.example --san IP:192.0.2.7 >"$dir/out"
for f in ca.key server.key client.key; do
    check "$f is 0600" test "$(mode "$dir/c/$f")" = 600
done
for f in ca.crt server.crt client.crt; do
    check "$f is 0644" test "$(mode "$dir/c/$f")" = 644
done
san=$(openssl x509 -in "$dir/c/server.crt" -noout -ext subjectAltName)
for n in DNS:localhost "IP Address:127.0.0.1" DNS:host.example \
    "IP Address:192.0.2.7"; do
    check "server SAN has $n" grep -qF "$n" <<<"$san"
done
check "client CN is set by --client-cn" \
    grep -q "CN *= *tester" <<<"$(openssl x509 -in "$dir/c/client.crt" -noout -subject)"
check "server cert verifies for localhost" openssl verify -CAfile "$dir/c/ca.crt" \
    -purpose sslserver -verify_hostname localhost "$dir/c/server.crt" >/dev/null
check "client cert verifies as a TLS client" openssl verify \
    -CAfile "$dir/c/ca.crt" -purpose sslclient "$dir/c/client.crt" >/dev/null
check "client cert is not a TLS server cert" \
    bash -c '! openssl verify -CAfile "$1/c/ca.crt" -purpose sslserver "$1/c/client.crt" >/dev/null 2>&1' _ "$dir"
check "CA is CA:TRUE, critical" grep -q "critical" \
    <<<"$(openssl x509 -in "$dir/c/ca.crt" -noout -ext basicConstraints)"
check "success message shows how to run s_client" \
    grep -qF "openssl s_client -quiet -connect localhost:55000" "$dir/out"

before=$(sha256sum "$dir/c/server.key")
check "refuses to overwrite without --force" \
    bash -c '! "$1" --out "$2/c" >/dev/null 2>"$2/err"' _ "$gen" "$dir"
check "the refusal names --force" grep -q -- "--force" "$dir/err"
check "the old key is untouched" test "$before" = "$(sha256sum "$dir/c/server.key")"
check "--force overwrites" bash -c '"$1" --out "$2/c" --force >/dev/null' _ \
    "$gen" "$dir"
check "the key changed" test "$before" != "$(sha256sum "$dir/c/server.key")"

for bad in "--days 0" "--days -3" "--days x" "--san host.example" \
    "--san DNS:bad_name" "--san IP:300.1.2.3" "--san URI:x" "--bogus" "--out"; do
    # shellcheck disable=SC2086
    check "rejects $bad" bash -c '! "$1" --out "$2/bad" $3 >/dev/null 2>&1' \
        _ "$gen" "$dir" "$bad"
done
check "no files after rejected arguments" test ! -e "$dir/bad/ca.key"

# --key-type: RSA 3072 and Ed25519 sets, each verifiable
for kt in rsa ed25519; do
    "$gen" --out "$dir/$kt" --key-type "$kt" >/dev/null
    check "$kt: server-$kt.crt verifies for localhost" openssl verify \
        -CAfile "$dir/$kt/ca.crt" -purpose sslserver -verify_hostname localhost \
        "$dir/$kt/server-$kt.crt" >/dev/null
    check "$kt: key is 0600" test "$(mode "$dir/$kt/server-$kt.key")" = 600
done
check "rsa: 3072-bit key" grep -q "3072 bit" \
    <<<"$(openssl x509 -in "$dir/rsa/server-rsa.crt" -noout -text)"
check "ed25519: an Ed25519 key" grep -q "ED25519" \
    <<<"$(openssl x509 -in "$dir/ed25519/server-ed25519.crt" -noout -text)"
check "rejects --key-type dsa" \
    bash -c '! "$1" --out "$2/dsa" --key-type dsa >/dev/null 2>&1' _ "$gen" "$dir"

# --ca-dir --issue: a new leaf from the same CA, the CA untouched
ca_before=$(sha256sum <"$dir/c/ca.crt")
old_serial=$(openssl x509 -in "$dir/c/server.crt" -noout -serial)
check "--issue refuses to overwrite without --force" \
    bash -c '! "$1" --ca-dir "$2/c" --issue server >/dev/null 2>&1' _ "$gen" "$dir"
check "--issue server --force" bash -c \
    '"$1" --ca-dir "$2/c" --issue server --force --san DNS:host.example >/dev/null' \
    _ "$gen" "$dir"
check "--issue keeps the CA" test "$ca_before" = "$(sha256sum <"$dir/c/ca.crt")"
check "--issue: a new serial" test "$old_serial" != \
    "$(openssl x509 -in "$dir/c/server.crt" -noout -serial)"
check "--issue: verifies against the same CA" openssl verify \
    -CAfile "$dir/c/ca.crt" -purpose sslserver -verify_hostname host.example \
    "$dir/c/server.crt" >/dev/null
check "--issue: key 0600" test "$(mode "$dir/c/server.key")" = 600
check "--issue: key matches" test "$(openssl x509 -in "$dir/c/server.crt" -noout -pubkey)" \
    = "$(openssl pkey -in "$dir/c/server.key" -pubout)"
check "--issue client --key-type rsa into another --out" bash -c \
    '"$1" --ca-dir "$2/c" --out "$2/c.new" --issue client --key-type rsa \
        --client-cn alice --client-san URI:spiffe://bitstuff.test/alice >/dev/null' \
    _ "$gen" "$dir"
check "--issue client: CN, URI SAN, client purpose" bash -c \
    'openssl x509 -in "$1/c.new/client-rsa.crt" -noout -subject -ext subjectAltName |
        grep -q "URI:spiffe://bitstuff.test/alice" &&
     openssl verify -CAfile "$1/c/ca.crt" -purpose sslclient "$1/c.new/client-rsa.crt" >/dev/null' \
    _ "$dir"
check "no temporary files left" test -z "$(find "$dir/c" "$dir/c.new" -name '.*')"

# --renew: nothing due with 30 days left and --within 10; all due with 40
out=$("$gen" --ca-dir "$dir/c" --renew --within 10)
check "--renew --within 10: nothing due" grep -q "^0 of 2 certificates renewed" <<<"$out"
serial=$(openssl x509 -in "$dir/c/server.crt" -noout -serial)
out=$("$gen" --ca-dir "$dir/c" --renew --within 40)
check "--renew --within 40: both due" grep -q "^2 of 2 certificates renewed" <<<"$out"
check "--renew: a new serial" test "$serial" != \
    "$(openssl x509 -in "$dir/c/server.crt" -noout -serial)"
check "--renew keeps the names" openssl verify -CAfile "$dir/c/ca.crt" \
    -purpose sslserver -verify_hostname host.example "$dir/c/server.crt" >/dev/null
check "--renew keeps ::1" openssl verify -CAfile "$dir/c/ca.crt" \
    -verify_ip ::1 "$dir/c/server.crt" >/dev/null
check "--renew keeps the client role" openssl verify -CAfile "$dir/c/ca.crt" \
    -purpose sslclient "$dir/c/client.crt" >/dev/null

# --revoke and --gen-crl: an openssl-ca index and a CRL that openssl uses
check "--gen-crl with nothing revoked" bash -c \
    '"$1" --ca-dir "$2/c" --gen-crl >/dev/null' _ "$gen" "$dir"
check "an empty CRL still passes the client" openssl verify -crl_check \
    -CAfile "$dir/c/ca.crt" -CRLfile "$dir/c/ca.crl" "$dir/c/client.crt" >/dev/null
check "--revoke client.crt" bash -c \
    '"$1" --ca-dir "$2/c" --revoke "$2/c/client.crt" >/dev/null' _ "$gen" "$dir"
check "the CRL revokes it" bash -c \
    'openssl verify -crl_check -CAfile "$1/c/ca.crt" -CRLfile "$1/c/ca.crl" \
        "$1/c/client.crt" 2>&1 | grep -q "certificate revoked"' _ "$dir"
check "the server certificate is not revoked" openssl verify -crl_check \
    -CAfile "$dir/c/ca.crt" -CRLfile "$dir/c/ca.crl" "$dir/c/server.crt" >/dev/null
check "revoking twice is harmless" bash -c \
    '"$1" --ca-dir "$2/c" --revoke "$2/c/client.crt" | grep -q "already revoked"' \
    _ "$gen" "$dir"
check "one index line" test "$(grep -c '^R' "$dir/c/index.txt")" = 1
check "--revoke refuses another CA's certificate" bash -c \
    '! "$1" --ca-dir "$2/c" --revoke "$2/rsa/client-rsa.crt" >/dev/null 2>&1' \
    _ "$gen" "$dir"
# --crl-url: a CRL distribution point in what is issued, kept by --renew
"$gen" --out "$dir/cdp" --crl-url http://crl.example.invalid/ca.crl >/dev/null
check "--crl-url: in the server certificate" grep -q "URI:http://crl.example.invalid/ca.crl" \
    <<<"$(openssl x509 -in "$dir/cdp/server.crt" -noout -ext crlDistributionPoints)"
"$gen" --ca-dir "$dir/cdp" --renew --within 40 >/dev/null
check "--renew keeps the CRL distribution point" grep -q "URI:http://crl.example.invalid/ca.crl" \
    <<<"$(openssl x509 -in "$dir/cdp/client.crt" -noout -ext crlDistributionPoints)"
check "rejects --crl-url ftp://x" \
    bash -c '! "$1" --out "$2/cdp2" --crl-url ftp://x >/dev/null 2>&1' _ "$gen" "$dir"

for bad in "--issue server" "--renew" "--gen-crl" "--ca-dir $dir/nowhere --renew" \
    "--ca-dir $dir/c" "--ca-dir $dir/c --renew --gen-crl" "--ca-dir $dir/c --issue both"; do
    # shellcheck disable=SC2086
    check "rejects $bad" bash -c '! "$1" $2 >/dev/null 2>&1' _ "$gen" "$bad"
done

[ "$fails" -eq 0 ] || {
    echo "$fails check(s) failed"
    exit 1
}
echo "all gen-certs checks passed"
