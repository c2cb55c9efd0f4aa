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

[ "$fails" -eq 0 ] || {
    echo "$fails check(s) failed"
    exit 1
}
echo "all gen-certs checks passed"
