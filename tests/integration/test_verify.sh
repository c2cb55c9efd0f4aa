#!/usr/bin/env bash
# test_verify.sh - the client always checks the server: a certificate
# from another CA and a certificate for another name are refused with
# exit 4 and a message naming the check; the right CA and a name in the
# certificate (localhost, 127.0.0.1) pass; no server at all is exit 2.
. "$(dirname "$0")/it.sh"

example=0101111110011111001010
stuffed=010111110100111110001010
make_certs "$T/c2"
start_server server --cert "$CERTS/server.crt" --key "$CERTS/server.key"

note "the right CA and the address in the certificate"
out=$(cli -q "$example")
expect_eq "127.0.0.1" "$out" "$stuffed"
out=$(cli -q --servername localhost "$example")
expect_eq "--servername localhost" "$out" "$stuffed"

note "wrong CA: exit 4, names the CA check"
rc_of rc timeout 60 "$CLIENT" -c "127.0.0.1:$PORT" --ca-file "$T/c2/ca.crt" \
    --timeout 20 "$example" >"$T/out" 2>"$T/err"
expect_eq "wrong CA exit status" "$rc" 4
expect_grep "wrong CA message" "$T/err" "not signed by a CA in .*c2/ca.crt"
[ ! -s "$T/out" ] || fail "wrong CA: the client printed $(cat "$T/out")"

note "wrong host name: exit 4, names the name check"
rc_of rc cli --servername other.example "$example" >"$T/out" 2>"$T/err"
expect_eq "wrong name exit status" "$rc" 4
expect_grep "wrong name message" "$T/err" "not other\.example"
[ ! -s "$T/out" ] || fail "wrong name: the client printed $(cat "$T/out")"

note "a server certificate from the other CA, our CA: exit 4"
stop_server_ok "$SERVER_PID"
start_server other --cert "$T/c2/server.crt" --key "$T/c2/server.key"
rc_of rc cli "$example" >"$T/out" 2>"$T/err"
expect_eq "other server exit status" "$rc" 4
expect_grep "other server message" "$T/err" "not signed by a CA"

note "--insecure skips the check, with a warning"
out=$(cli -q --insecure "$example" 2>"$T/err")
expect_eq "--insecure" "$out" "$stuffed"
[ -s "$T/err" ] || fail "--insecure printed no warning"

note "openssl s_client agrees: verification fails with the other CA"
rc_of rc timeout 20 openssl s_client -connect "127.0.0.1:$PORT" \
    -CAfile "$CERTS/ca.crt" -verify_return_error </dev/null >/dev/null 2>&1
[ "$rc" -ne 0 ] || fail "s_client accepted a certificate from another CA"
stop_server_ok "$SERVER_PID"

note "no server: exit 2"
# the port of the server just stopped: nothing listens there now
rc_of rc cli "$example" >"$T/out" 2>"$T/err"
expect_eq "no server exit status" "$rc" 2
expect_grep "no server message" "$T/err" "refused"
echo "PASS"
