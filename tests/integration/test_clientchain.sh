#!/usr/bin/env bash
# test_clientchain.sh - a client certificate issued by an intermediate CA
# under a client policy (--allow-cn, --crl-file): its first connection and
# every later one are served.  A session ticket holds the client's leaf
# but not the chain it sent, so a resumption cannot check the leaf against
# the root; the server must then ask for a full handshake (the client
# sends its chain again), never refuse the client after the handshake.
. "$(dirname "$0")/it.sh"

example=0101111110011111001010
P=$T/pki
mkdir -p "$P"
ossl() { openssl "$@" 2>>"$T/openssl.err" >/dev/null; }

note "a root CA, an intermediate CA and alice's certificate from it"
ossl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$P/root.key" -out "$P/root.crt" -days 2 -subj "/CN=chain root" \
    -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign
ossl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$P/int.key" -out "$P/int.csr" -subj "/CN=chain intermediate"
printf '%s\n' 'basicConstraints=critical,CA:TRUE,pathlen:0' \
    'keyUsage=critical,keyCertSign,cRLSign' >"$P/int.ext"
ossl x509 -req -in "$P/int.csr" -CA "$P/root.crt" -CAkey "$P/root.key" \
    -CAcreateserial -days 2 -extfile "$P/int.ext" -out "$P/int.crt"
ossl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$P/alice.key" -out "$P/alice.csr" -subj "/CN=alice"
printf '%s\n' 'basicConstraints=critical,CA:FALSE' \
    'keyUsage=critical,digitalSignature' 'extendedKeyUsage=clientAuth' \
    >"$P/alice.ext"
ossl x509 -req -in "$P/alice.csr" -CA "$P/int.crt" -CAkey "$P/int.key" \
    -CAcreateserial -days 2 -extfile "$P/alice.ext" -out "$P/alice.crt"
openssl verify -CAfile "$P/root.crt" -untrusted "$P/int.crt" "$P/alice.crt" \
    >/dev/null || fail "the test's own chain does not verify"

start_server chain -q --cert "$CERTS/server.crt" --key "$CERTS/server.key" \
    --ca-file "$P/root.crt" --verify-client require --allow-cn alice

# connect N [s_client options]: alice's Nth connection must be served
connect() {
    local n=$1
    shift
    sclient 1 "127.0.0.1:$PORT" -cert "$P/alice.crt" -key "$P/alice.key" \
        -cert_chain "$P/int.crt" "$@" <<<"$example"
    expect_eq "alice's connection $n" "${REPLY_LINES[0]}" \
        "OK 010111110100111110001010"
}

note "alice's first connection (full handshake, chain sent) is served"
connect 1 -sess_out "$T/alice.sess"
[ -s "$T/alice.sess" ] || fail "no session ticket came with connection 1"

note "alice comes back with her ticket: served again (a full handshake)"
for n in 2 3; do
    connect "$n" -sess_in "$T/alice.sess"
done
if log_has "$T/chain.log" 'not signed by a CA' 5; then
    fail "the server refused alice after a handshake: $(grep 'not signed' "$T/chain.log" | head -1)"
fi
stop_server_ok "$SERVER_PID"
echo "ok: a client certificate from an intermediate CA is served on every connection"
