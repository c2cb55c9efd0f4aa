#!/usr/bin/env bash
# test_rotate.sh - certificate rotation (issue 9 item 5) and StrictModes
# (item 8).  SECURITY.md's recipe, run as written: renew from the same CA
# in place, SIGHUP; clients keep connecting and see the new serial.  Then
# each new certificate a reload must refuse (expired, not yet valid,
# another CA, self-signed, a name dropped, a key others can read): the
# log says why and the old certificate is still served.  At start, a key
# readable by others or a directory others can write is refused.
. "$(dirname "$0")/it.sh"

GEN="$BS_SOURCE/scripts/gen-certs.sh"
example=0101111110011111001010
stuffed=010111110100111110001010

# served_serial: the serial of the certificate the server sends now.
served_serial() {
    timeout 20 openssl s_client -connect "127.0.0.1:$PORT" \
        -CAfile "$CERTS/ca.crt" -verify_return_error </dev/null 2>/dev/null |
        openssl x509 -noout -serial | cut -d= -f2
}
file_serial() { openssl x509 -in "$1" -noout -serial | cut -d= -f2; }

# hup_and_wait N PATTERN: SIGHUP, then wait for the Nth line matching
# PATTERN in the server's log.
hup_and_wait() {
    local n=$1 pat=$2 i
    kill -HUP "$SERVER_PID"
    for ((i = 0; i < 100 * IT_TMUL; i++)); do
        [ "$(grep -Ec -- "$pat" "$T/rot.log")" -ge "$n" ] && return 0
        sleep 0.1
    done
    fail "no ${n}th line matching /$pat/ after SIGHUP"
}

# ca_sign NAME STARTDATE ENDDATE [SAN]: a server certificate from the
# test CA with the given dates (YYMMDDHHMMSSZ), by openssl ca.
ca_sign() {
    local n=$1 san=${4:-DNS:localhost,IP:127.0.0.1,IP:::1}
    mkdir -p "$T/ca-db"
    : >"$T/ca-db/index.txt"
    cat >"$T/ca-db/cnf" <<CNF
[ca]
default_ca = x
[x]
database = $T/ca-db/index.txt
new_certs_dir = $T/ca-db
serial = $T/ca-db/serial
default_md = sha256
policy = p
unique_subject = no
[p]
commonName = supplied
CNF
    openssl rand -hex 8 >"$T/ca-db/serial"
    printf '%s\n' "subjectAltName=$san" 'extendedKeyUsage=serverAuth' \
        'keyUsage=critical,digitalSignature' \
        'authorityKeyIdentifier=keyid,issuer' >"$T/ca-db/ext"
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$T/$n.key" -subj /CN=localhost -out "$T/$n.csr" 2>/dev/null
    openssl ca -batch -config "$T/ca-db/cnf" -cert "$CERTS/ca.crt" \
        -keyfile "$CERTS/ca.key" -in "$T/$n.csr" -out "$T/$n.crt" \
        -startdate "$2" -enddate "$3" -extfile "$T/ca-db/ext" 2>/dev/null ||
        fail "openssl ca could not make $n"
}

# try_bad NAME REASON: install $T/NAME.crt and .key, SIGHUP, expect a
# refusal naming REASON, the old certificate still served, clients served.
refusals=0
try_bad() {
    local n=$1 reason=$2 before
    before=$(served_serial)
    cp "$T/$n.crt" "$CERTS/server.crt.new" && mv "$CERTS/server.crt.new" "$CERTS/server.crt"
    cp "$T/$n.key" "$CERTS/server.key.new" && chmod 600 "$CERTS/server.key.new" &&
        mv "$CERTS/server.key.new" "$CERTS/server.key"
    refusals=$((refusals + 1))
    hup_and_wait "$refusals" 'SIGHUP: certificate reload refused'
    grep 'reload refused' "$T/rot.log" | tail -1 | grep -Eq -- "$reason" ||
        fail "$n: the refusal does not say /$reason/: $(grep 'reload refused' "$T/rot.log" | tail -1)"
    expect_eq "$n: still the old certificate" "$(served_serial)" "$before"
    out=$(cli -q "$example")
    expect_eq "$n: a client is still served" "$out" "$stuffed"
    echo "ok: $n refused: $(grep 'reload refused' "$T/rot.log" | tail -1 | sed 's/.*certificate: //' | cut -c1-110)"
}

# The test's set, in $T/certs as in the recipe, expires in 5 days: due
# for renewal under the recipe.
CERTS=$T/certs
make_certs "$CERTS" --days 5 --san DNS:bitstuff.test
start_server rot -q --cert "$CERTS/server.crt" --key "$CERTS/server.key"
s0=$(served_serial)
expect_eq "served at start" "$s0" "$(file_serial "$CERTS/server.crt")"

note "SECURITY.md's recipe: renew in place from the same CA, SIGHUP"
(cd "$T" && "$GEN" --ca-dir certs --renew --within 10 >"$T/renew.out")
grep -q '^renewed .*server.crt' "$T/renew.out" || fail "the recipe renewed nothing"
s1=$(file_serial "$CERTS/server.crt")
[ "$s1" != "$s0" ] || fail "the renewal kept the serial"
hup_and_wait 1 'SIGHUP: reloaded certificate'
expect_grep "the reload names the new serial" "$T/rot.log" "reloaded certificate .*serial $s1"
expect_eq "served after the reload" "$(served_serial)" "$s1"
out=$(cli -q "$example")
expect_eq "a client after the renewal" "$out" "$stuffed"
echo "ok: renewed $s0 -> $s1, clients served"

note "the CA elsewhere: --issue server --out certs.new, copy, SIGHUP"
(
    cd "$T"
    "$GEN" --ca-dir certs --issue server --out certs.new --san DNS:bitstuff.test >/dev/null
    install -m 600 certs.new/server.key certs/server.key.new
    install -m 644 certs.new/server.crt certs/server.crt.new
    mv certs/server.key.new certs/server.key
    mv certs/server.crt.new certs/server.crt
)
s2=$(file_serial "$CERTS/server.crt")
hup_and_wait 2 'SIGHUP: reloaded certificate'
expect_eq "served after the second reload" "$(served_serial)" "$s2"

note "refused: each keeps the certificate in force"
ca_sign expired 200101000000Z 200201000000Z
try_bad expired 'expired on 2020-02-01'
ca_sign future 491231000000Z 501231000000Z
try_bad future 'not valid before 2049-12-31'
make_certs "$T/other" --san DNS:bitstuff.test
cp "$T/other/server.crt" "$T/otherca.crt"
cp "$T/other/server.key" "$T/otherca.key"
try_bad otherca 'does not chain to the CA the previous one did'
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/selfsigned.key" -out "$T/selfsigned.crt" -days 5 \
    -subj /CN=localhost 2>/dev/null \
    -addext 'subjectAltName=DNS:localhost,DNS:bitstuff.test,IP:127.0.0.1,IP:::1'
try_bad selfsigned 'self-signed'
"$GEN" --ca-dir "$CERTS" --out "$T/noname" --issue server >/dev/null
cp "$T/noname/server.crt" "$T/noname.crt"
cp "$T/noname/server.key" "$T/noname.key"
try_bad noname 'drops DNS:bitstuff.test'
cp "$T/certs.new/server.crt" "$T/badmode.crt"
cp "$T/certs.new/server.key" "$T/badmode.key"
before=$(served_serial)
cp "$T/badmode.key" "$CERTS/server.key"
chmod 644 "$CERTS/server.key"
refusals=$((refusals + 1))
hup_and_wait "$refusals" 'SIGHUP: certificate reload refused'
expect_grep "a key others can read is refused" "$T/rot.log" \
    "reload refused.*private key $CERTS/server.key .*mode 0644.*chmod 600 $CERTS/server.key"
expect_eq "badmode: still the old certificate" "$(served_serial)" "$before"
chmod 600 "$CERTS/server.key"
stop_server_ok "$SERVER_PID"

note "StrictModes at start"
# (the files in $CERTS are the refused ones now: use the last good pair)
cp "$T/certs.new/server.key" "$T/badmode.key"
chmod 644 "$T/badmode.key"
rc_of rc "$SERVER" -l 127.0.0.1:0 -q --cert "$T/certs.new/server.crt" \
    --key "$T/badmode.key" >"$T/start.out" 2>&1
expect_eq "a 0644 key: exit status" "$rc" 1
expect_grep "a 0644 key: how to fix" "$T/start.out" "chmod 600 $T/badmode.key"
mkdir -m 700 "$T/open"
cp "$T/certs.new/server.crt" "$T/certs.new/server.key" "$T/open/"
chmod 777 "$T/open"
rc_of rc "$SERVER" -l 127.0.0.1:0 -q --cert "$T/open/server.crt" \
    --key "$T/open/server.key" >"$T/start.out" 2>&1
expect_eq "a world-writable directory: exit status" "$rc" 1
expect_grep "a world-writable directory: how to fix" "$T/start.out" \
    "directory $T/open .*writable by group or others.*chmod go-w $T/open"
start_server loose -q --no-strict-modes --cert "$T/open/server.crt" \
    --key "$T/open/server.key"
expect_grep "--no-strict-modes warns" "$T/loose.log" 'warning: --no-strict-modes'
out=$(cli -q "$example")
expect_eq "--no-strict-modes serves" "$out" "$stuffed"
stop_server_ok "$SERVER_PID"
echo "PASS"
