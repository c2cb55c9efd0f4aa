#!/usr/bin/env bash
# test_clientpolicy.sh - who may connect under mutual TLS (issue 9 item
# 9): --crl-file refuses a revoked client certificate (also after a
# SIGHUP that loads a new CRL, and on session resumption: a ticket from
# while the CRL was current is refused once it is not), a broken CRL on
# reload keeps the old one; --allow-cn/--allow-dns/--allow-uri
# admit listed clients and refuse the rest.  Each refusal leaves a server
# log line that names the rule.
. "$(dirname "$0")/it.sh"

GEN="$BS_SOURCE/scripts/gen-certs.sh"
example=0101111110011111001010
stuffed=010111110100111110001010

for who in alice bob carol; do
    "$GEN" --ca-dir "$CERTS" --issue client --name "$who" --client-cn "$who" \
        --client-san "DNS:$who.bitstuff.test" \
        --client-san "URI:spiffe://bitstuff.test/$who" >/dev/null
done
serial_of() { openssl x509 -in "$1" -noout -serial | cut -d= -f2; }

# as WHO: the client with WHO's certificate; prints the reply or nothing.
as() {
    cli -q --cert "$CERTS/$1.crt" --key "$CERTS/$1.key" "$example" \
        2>"$T/$1.err" || true
}
admitted() { expect_eq "$1 admitted ($2)" "$(as "$1")" "$stuffed"; }
refused() { # WHO WHY-ERE LOG
    [ -z "$(as "$1")" ] || fail "$1 was served; should be refused ($2)"
    # the client is told that its certificate was refused (exit 4 class)
    expect_grep "$1: the client's reason" "$T/$1.err" \
        'the server rejected our client certificate'
    wait_log "$T/$3.log" "$2"
    echo "ok: $1 refused: $(grep -E -- "$2" "$T/$3.log" | tail -1 | cut -c1-140)"
}

note "CRL: nothing revoked, everyone admitted"
"$GEN" --ca-dir "$CERTS" --gen-crl >/dev/null
start_server crl -q --cert "$CERTS/server.crt" --key "$CERTS/server.key" \
    --ca-file "$CERTS/ca.crt" --crl-file "$CERTS/ca.crl"
admitted alice "empty CRL"
admitted bob "empty CRL"

note "carol keeps a session ticket from before her revocation"
timeout 20 openssl s_client -connect "127.0.0.1:$PORT" -CAfile "$CERTS/ca.crt" \
    -cert "$CERTS/carol.crt" -key "$CERTS/carol.key" -sess_out "$T/carol.sess" \
    -quiet <<<"$example" >"$T/carol.out" 2>/dev/null || true
grep -q "OK" "$T/carol.out" || fail "carol was not served before her revocation"

note "revoke bob and carol, SIGHUP: they are refused, alice still admitted"
"$GEN" --ca-dir "$CERTS" --revoke "$CERTS/bob.crt" >/dev/null
"$GEN" --ca-dir "$CERTS" --revoke "$CERTS/carol.crt" >/dev/null
kill -HUP "$SERVER_PID"
wait_log "$T/crl.log" "SIGHUP: reloaded certificate .*CRL $CERTS/ca.crl"
refused bob "client certificate CN=bob revoked \\(serial $(serial_of "$CERTS/bob.crt")" crl
admitted alice "bob revoked"
note "carol resumes her old session: refused all the same"
timeout 20 openssl s_client -connect "127.0.0.1:$PORT" -CAfile "$CERTS/ca.crt" \
    -cert "$CERTS/carol.crt" -key "$CERTS/carol.key" -sess_in "$T/carol.sess" \
    -quiet <<<"$example" >"$T/carol.out" 2>/dev/null || true
[ ! -s "$T/carol.out" ] || ! grep -q OK "$T/carol.out" ||
    fail "carol was served with a session from before her revocation"
wait_log "$T/crl.log" "client certificate CN=carol revoked"

note "a broken CRL on SIGHUP: refused, the old CRL stays in force"
cp "$CERTS/ca.crl" "$T/good.crl"
echo "not a CRL" >"$CERTS/ca.crl"
kill -HUP "$SERVER_PID"
wait_log "$T/crl.log" "reload refused.*CRL file $CERTS/ca.crl holds no PEM CRL"
n=$(grep -c 'CN=bob revoked' "$T/crl.log")
[ -z "$(as bob)" ] || fail "bob was served after a broken CRL reload"
for ((i = 0; i < 100; i++)); do
    [ "$(grep -c 'CN=bob revoked' "$T/crl.log")" -gt "$n" ] && break
    sleep 0.1
done
[ "$(grep -c 'CN=bob revoked' "$T/crl.log")" -gt "$n" ] ||
    fail "no second 'CN=bob revoked' line after the broken reload"
admitted alice "after a broken CRL reload"
note "a CRL of another CA: refused on SIGHUP"
make_certs "$T/c2"
"$GEN" --ca-dir "$T/c2" --gen-crl >/dev/null
cp "$T/c2/ca.crl" "$CERTS/ca.crl"
kill -HUP "$SERVER_PID"
wait_log "$T/crl.log" "reload refused.*not signed by a CA of $CERTS/ca.crt"
cp "$T/good.crl" "$CERTS/ca.crl"
stop_server_ok "$SERVER_PID"

note "--crl-file without --ca-file: a clear error"
rc_of rc "$SERVER" -l 127.0.0.1:0 -q --cert "$CERTS/server.crt" \
    --key "$CERTS/server.key" --crl-file "$CERTS/ca.crl" >"$T/e.out" 2>&1
expect_eq "--crl-file alone: exit status" "$rc" 1
expect_grep "--crl-file alone: why" "$T/e.out" 'needs --ca-file'

note "allow-list: --allow-cn alice --allow-dns carol... --allow-uri .../dave"
"$GEN" --ca-dir "$CERTS" --issue client --name dave --client-cn dave \
    --client-san URI:spiffe://bitstuff.test/dave >/dev/null
"$GEN" --ca-dir "$CERTS" --issue client --name erin --client-cn erin \
    --client-san DNS:erin.bitstuff.test >/dev/null
"$GEN" --ca-dir "$CERTS" --issue client --name carol2 --client-cn carol2 \
    --client-san DNS:carol.bitstuff.test >/dev/null
start_server allow -q --cert "$CERTS/server.crt" --key "$CERTS/server.key" \
    --ca-file "$CERTS/ca.crt" --allow-cn alice \
    --allow-dns carol.bitstuff.test --allow-uri spiffe://bitstuff.test/dave
admitted alice "--allow-cn alice"
admitted carol2 "--allow-dns carol.bitstuff.test"
admitted dave "--allow-uri spiffe://bitstuff.test/dave"
refused erin "client certificate CN=erin \\(serial $(serial_of "$CERTS/erin.crt")\\) refused: not in the --allow-cn/--allow-dns/--allow-uri list" allow
refused client "client certificate CN=bitstuff-client .*not in the --allow-cn/--allow-dns/--allow-uri list" allow
stop_server_ok "$SERVER_PID"

note "allow-list with --verify-client optional: no certificate, refused"
start_server opt -q --cert "$CERTS/server.crt" --key "$CERTS/server.key" \
    --ca-file "$CERTS/ca.crt" --verify-client optional --allow-cn alice
admitted alice "optional, --allow-cn alice"
[ -z "$(cli -q "$example" 2>/dev/null)" ] || fail "a client without a certificate was served"
wait_log "$T/opt.log" 'client without a certificate refused: not in the --allow-cn'
stop_server_ok "$SERVER_PID"

note "allow-list and CRL together: revoked bob is refused even when listed"
start_server both -q --cert "$CERTS/server.crt" --key "$CERTS/server.key" \
    --ca-file "$CERTS/ca.crt" --crl-file "$CERTS/ca.crl" \
    --allow-cn alice --allow-cn bob
admitted alice "listed, not revoked"
refused bob "CN=bob revoked" both
stop_server_ok "$SERVER_PID"
note "resumption: served while the CRL is current, refused once it is not"
# A CRL valid for a few seconds (openssl ca -crlsec): alice's ticket from
# while it was current must not outlive it.
crlsec=$((6 * IT_TMUL))
cat >"$T/crl.cnf" <<CNF
[ca]
default_ca = x
[x]
database = $CERTS/index.txt
crlnumber = $CERTS/crlnumber
default_md = sha256
CNF
openssl ca -gencrl -config "$T/crl.cnf" -cert "$CERTS/ca.crt" \
    -keyfile "$CERTS/ca.key" -crlsec "$crlsec" -out "$T/short.crl" 2>/dev/null
chmod 644 "$T/short.crl"
start_server short -q --cert "$CERTS/server.crt" --key "$CERTS/server.key" \
    --ca-file "$CERTS/ca.crt" --crl-file "$T/short.crl"
sess() { # in|out [LOG-ERE]: alice's session; prints "New," or "Reused,"
    # and the reply.  The server refuses a resumed session without an
    # alert after its handshake: then LOG-ERE in its log says it is over.
    local i stop=${2:-^\$nothing}
    : >"$T/sess.out"
    # stdin stays open until the reply or an error has come (bounded)
    {
        echo "$example"
        for ((i = 0; i < 200 * IT_TMUL; i++)); do
            grep -Eq 'OK [01]|alert|^closed|errno=' "$T/sess.out" && break
            grep -Eq -- "$stop" "$T/short.log" && break
            sleep 0.1
        done
    } | timeout $((30 * IT_TMUL)) openssl s_client -connect "127.0.0.1:$PORT" \
        -CAfile "$CERTS/ca.crt" -cert "$CERTS/alice.crt" \
        -key "$CERTS/alice.key" "-sess_$1" "$T/alice.sess" >"$T/sess.out" 2>&1 || true
    grep -oE '^(New|Reused),|OK [01]+' "$T/sess.out" | tr '\n' ' '
}
first=$(sess out)
expect_match "alice, full handshake" "$first" "^New,.*OK $stuffed"
again=$(sess in)
expect_match "alice resumes while the CRL is current" "$again" "^Reused,.*OK $stuffed"
sleep $((crlsec + 1))
late=$(sess in 'CN=alice refused: the CRL')
[[ $late != *OK* ]] || fail "alice was served on a resumed session after the CRL ran out: $late"
wait_log "$T/short.log" 'client certificate CN=alice refused: the CRL .* is out of date'
echo "ok: resumed after the CRL ran out: refused: $(grep 'out of date' "$T/short.log" | tail -1 | cut -c1-120)"
stop_server_ok "$SERVER_PID"
echo "PASS"
