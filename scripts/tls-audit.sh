#!/usr/bin/env bash
# tls-audit.sh - audit bitstuffd's TLS set-up from the outside and turn the
# scanners' reports into pass/fail.  Starts bitstuffd with fresh
# certificates on a free loopback port, twice: with the default policy
# (TLS 1.3 only) and with --min-tls 1.2, and checks each with
#
#   sslscan (about 1 s):  no SSLv2/SSLv3/TLS 1.0/TLS 1.1; no NULL, anonymous,
#       export, RC4, 3DES, CBC or other weak cipher; every cipher forward
#       secret (TLS 1.3, or ECDHE/DHE with an AEAD); no compression; no
#       insecure renegotiation; no Heartbleed; the certificate's key, signature,
#       SANs (localhost, 127.0.0.1, ::1), dates and issuer;
#   openssl s_client:  the chain verifies against the CA with the host name
#       and the IP address checked, and a wrong name is refused;
#   testssl.sh (--testssl, 50-100 s, offline): no finding of severity
#       MEDIUM, HIGH or CRITICAL, except cert_revocation (a throw-away
#       test CA publishes no CRL or OCSP responder), reported as accepted.
#
# With --crl-file the CA publishes a CRL: the certificates name its
# distribution point (gen-certs.sh --crl-url; an .invalid host, never
# fetched) and the server checks client certificates against it
# (--ca-file, --verify-client optional, --crl-file); then not even
# cert_revocation is accepted.
#
#   scripts/tls-audit.sh [--testssl] [--crl-file] [--build DIR]
#
# Exit status: 0 all checks passed, 1 a check failed, 77 a scanner is
# missing (CTest reports that as skipped; scripts/deps.sh installs them).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/server-port.sh
. "$root/scripts/server-port.sh"
# shellcheck source=scripts/args.sh
. "$root/scripts/args.sh"
build=$root/build use_testssl=0 use_crl=0
bs_args tls-audit.sh --testssl use_testssl=1 --crl-file use_crl=1 \
    --build build -- "$@"

for tool in sslscan openssl $([ "$use_testssl" = 1 ] && echo testssl); do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "tls-audit.sh: $tool is not installed (scripts/deps.sh:" \
            "BS_AUDIT_PACKAGES); skipping" >&2
        exit 77
    fi
done
[ -x "$build/bitstuffd" ] || {
    echo "tls-audit.sh: $build/bitstuffd is missing: build first" >&2
    exit 1
}

work=$(mktemp -d "${TMPDIR:-/tmp}/bs-audit.XXXXXX")
pid=
trap 'bs_cleanup "$pid" "$work"' EXIT
trap 'exit 1' INT TERM

# A year: testssl.sh rates a certificate that expires within 30 days HIGH.
crl_url=http://crl.bitstuff.invalid/ca.crl
crl_opts=()
if [ "$use_crl" = 1 ]; then
    bash "$root/scripts/gen-certs.sh" --out "$work/certs" --days 365 \
        --crl-url "$crl_url" >/dev/null
    bash "$root/scripts/gen-certs.sh" --ca-dir "$work/certs" --gen-crl >/dev/null
    crl_opts=(--ca-file "$work/certs/ca.crt" --verify-client optional
        --crl-file "$work/certs/ca.crl")
else
    bash "$root/scripts/gen-certs.sh" --out "$work/certs" --days 365 >/dev/null
fi
CA=$work/certs/ca.crt
failures=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}
pass() { echo "ok:   $*"; }

start_server() { # log-name bitstuffd-options...
    local name=$1
    shift
    "$build/bitstuffd" -q -l 127.0.0.1:0 --cert "$work/certs/server.crt" \
        --key "$work/certs/server.key" ${crl_opts[@]+"${crl_opts[@]}"} "$@" \
        >"$work/$name.log" 2>&1 &
    pid=$!
    port=$(bs_server_port "$work/$name.log" "$pid") || port=
    if [ -z "$port" ] || [ "$port" = 4433 ]; then
        cat "$work/$name.log" >&2
        echo "tls-audit.sh: bitstuffd did not start" >&2
        exit 1
    fi
}

stop_server() {
    bs_reap "$pid"
    pid=
}

# attr XML-LINE NAME: the value of NAME="..." in the line.
attr() { sed -n "s/.* $2=\"\([^\"]*\)\".*/\1/p" <<<"$1"; }

check_sslscan() { # label want-tls12 (0|1)
    local label=$1 want12=$2 xml=$work/sslscan.$1.xml line v c
    if ! timeout 60 sslscan --no-colour --xml="$xml" "127.0.0.1:$port" \
        >"$work/sslscan.$label.txt" 2>&1; then
        fail "[$label] sslscan failed: $(tail -3 "$work/sslscan.$label.txt")"
        return
    fi
    grep -q '<protocol ' "$xml" || {
        fail "[$label] sslscan reported no protocols (server unreachable?)"
        return
    }
    # Protocols.
    while read -r line; do
        v="$(attr "$line" type) $(attr "$line" version)"
        case "$v:$(attr "$line" enabled)" in
        "ssl 2:1" | "ssl 3:1" | "tls 1.0:1" | "tls 1.1:1")
            fail "[$label] obsolete protocol $v is enabled" ;;
        "tls 1.3:0") fail "[$label] TLS 1.3 is not offered" ;;
        "tls 1.2:1") [ "$want12" = 1 ] || fail "[$label] TLS 1.2 is enabled" ;;
        "tls 1.2:0") [ "$want12" = 0 ] || fail "[$label] TLS 1.2 is not offered" ;;
        esac
    done < <(grep '<protocol ' "$xml")
    pass "[$label] protocols: $(grep '<protocol ' "$xml" |
        sed -n 's/.*type="\([a-z]*\)" version="\([0-9.]*\)" enabled="1".*/\1\2/p' |
        tr '\n' ' ')"
    # Ciphers: strength and forward secrecy.
    local n=0
    while read -r line; do
        n=$((n + 1))
        c=$(attr "$line" cipher)
        case $(attr "$line" strength) in
        null | anonymous | weak | medium)
            fail "[$label] weak cipher $c ($(attr "$line" strength))" ;;
        esac
        case $c in
        TLS_AES_* | TLS_CHACHA20_*) ;; # TLS 1.3: always (EC)DHE
        ECDHE-*GCM* | ECDHE-*CHACHA20* | DHE-*GCM* | DHE-*CHACHA20*) ;;
        *) fail "[$label] cipher $c is not forward secret with an AEAD" ;;
        esac
    done < <(grep '<cipher ' "$xml")
    [ "$n" -gt 0 ] || fail "[$label] no cipher accepted"
    pass "[$label] $n ciphers, all forward secret AEAD"
    # Compression, renegotiation, Heartbleed.
    if grep -q '<compression supported="1"' "$xml"; then
        fail "[$label] TLS compression is supported (CRIME)"
    fi
    line=$(grep '<renegotiation ' "$xml" || true)
    if [ "$(attr "$line" supported)" = 1 ] && [ "$(attr "$line" secure)" != 1 ]
    then
        fail "[$label] insecure renegotiation is supported"
    fi
    if grep -q 'vulnerable="1"' "$xml"; then
        fail "[$label] sslscan reports a vulnerability: $(grep 'vulnerable="1"' "$xml")"
    fi
    pass "[$label] no compression, no insecure renegotiation, no Heartbleed"
    # Certificate.
    local alt sig
    alt=$(sed -n 's/.*<altnames><!\[CDATA\[\(.*\)\]\]><\/altnames>.*/\1/p' "$xml")
    sig=$(sed -n 's/.*<signature-algorithm>\(.*\)<\/signature-algorithm>.*/\1/p' \
        "$xml" | head -1)
    for want in "DNS:localhost" "IP Address:127.0.0.1" \
        "IP Address:0:0:0:0:0:0:0:1"; do
        grep -qF "$want" <<<"$alt" || fail "[$label] SAN $want missing (got: $alt)"
    done
    case $sig in
    *md5* | *MD5* | *sha1* | *SHA1* | "") fail "[$label] weak or no signature: '$sig'" ;;
    esac
    grep -q '<expired>false</expired>' "$xml" ||
        fail "[$label] the certificate is expired"
    grep -q '<self-signed>false</self-signed>' "$xml" ||
        fail "[$label] the certificate is self-signed (no chain)"
    grep -q 'type="EC" curve_name="prime256v1"' "$xml" ||
        grep -qE 'type="RSA" bits="(2048|3072|4096)"' "$xml" ||
        fail "[$label] weak certificate key: $(grep '<pk ' "$xml")"
    pass "[$label] certificate: $sig, SANs $alt"
}

check_chain() { # label
    local label=$1 out=$work/s_client.$1
    if timeout 20 openssl s_client -connect "127.0.0.1:$port" -CAfile "$CA" \
        -verify_return_error -verify_hostname localhost -brief \
        </dev/null >"$out" 2>&1 &&
        grep -q 'Verification: OK' "$out"; then
        pass "[$label] chain verifies against the CA for 'localhost'"
    else
        fail "[$label] chain or name check failed: $(tail -3 "$out")"
    fi
    if timeout 20 openssl s_client -connect "127.0.0.1:$port" -CAfile "$CA" \
        -verify_return_error -verify_ip 127.0.0.1 -brief </dev/null \
        >"$out" 2>&1 && grep -q 'Verification: OK' "$out"; then
        pass "[$label] chain verifies for IP 127.0.0.1"
    else
        fail "[$label] IP check failed: $(tail -3 "$out")"
    fi
    # The checks must be able to fail: another name is refused.
    if timeout 20 openssl s_client -connect "127.0.0.1:$port" -CAfile "$CA" \
        -verify_return_error -verify_hostname not-this-host.example -brief \
        </dev/null >"$out" 2>&1; then
        fail "[$label] a certificate check for a wrong host name passed"
    else
        pass "[$label] a wrong host name is refused"
    fi
}

# testssl.sh's findings by severity (its exit code means nothing).
check_testssl() { # label
    local label=$1 json=$work/testssl.$1.json bad
    NXCONNECT=127.0.0.1:0 timeout 300 testssl --nodns none -p -s -f -S -U \
        --quiet --color 0 --warnings off --connect-timeout 5 \
        --openssl-timeout 5 --add-ca "$CA" --jsonfile-pretty "$json" \
        "127.0.0.1:$port" >"$work/testssl.$label.txt" 2>&1 || true
    if ! grep -q '"severity"' "$json" 2>/dev/null; then
        fail "[$label] testssl.sh wrote no findings: $(tail -5 "$work/testssl.$label.txt")"
        return
    fi
    # Pair each finding's id with its severity and text.
    bad=$(awk -F'"' '/"id"/ {id = $4} /"severity"/ {sev = $4}
        /"finding"/ {f = $4}
        /}/ { if (sev ~ /^(MEDIUM|HIGH|CRITICAL)$/) print sev ": " id ": " f;
              sev = "" }' "$json")
    if [ "$use_crl" = 1 ]; then
        if grep -q "\"$crl_url\"" "$json"; then
            pass "[$label] testssl.sh sees the CRL distribution point $crl_url"
        else
            fail "[$label] testssl.sh does not report the CRL distribution point"
        fi
    elif grep -q '^[A-Z]*: cert_revocation:' <<<"$bad"; then
        echo "note: [$label] accepted: $(grep '^[A-Z]*: cert_revocation:' <<<"$bad")"
        bad=$(grep -v '^[A-Z]*: cert_revocation:' <<<"$bad" || true)
    fi
    if [ -n "$bad" ]; then
        while read -r l; do fail "[$label] testssl.sh $l"; done <<<"$bad"
    else
        pass "[$label] testssl.sh: $(grep -c '"severity"' "$json") findings," \
            "none MEDIUM, HIGH or CRITICAL"
    fi
}

for mode in tls13 tls12; do
    if [ "$mode" = tls13 ]; then
        start_server "$mode"
    else
        start_server "$mode" --min-tls 1.2
    fi
    check_sslscan "$mode" "$([ "$mode" = tls12 ] && echo 1 || echo 0)"
    check_chain "$mode"
    if [ "$use_testssl" = 1 ]; then
        check_testssl "$mode"
    fi
    stop_server
done

if [ "$failures" -gt 0 ]; then
    echo "tls-audit.sh: $failures check(s) failed"
    exit 1
fi
echo "tls-audit.sh: all checks passed"
