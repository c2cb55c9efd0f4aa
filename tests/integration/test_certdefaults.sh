#!/usr/bin/env bash
# test_certdefaults.sh - defaults that do not depend on the working
# directory (issue 12 item 4).  Started from / with no --cert, --key or
# --ca-file, bitstuffd takes its certificate and key from
# $CREDENTIALS_DIRECTORY and bitstuff and bitstuff-bench their CA from
# theirs; from a directory with certs/ (the source tree) they take
# those; with nothing anywhere the server names every place it looked;
# a certificate without its key beside it is refused; a client that
# found no CA and fails verification says where it looked.
. "$(dirname "$0")/it.sh"

example=0101111110011111001010
stuffed=010111110100111110001010
mkdir -p "$T/cred" "$T/ccred" "$T/tree/certs" "$T/half"
cp "$CERTS/server.crt" "$CERTS/server.key" "$T/cred/"
cp "$CERTS/ca.crt" "$T/ccred/"
cp "$CERTS/server.crt" "$CERTS/server.key" "$CERTS/ca.crt" "$T/tree/certs/"
cp "$CERTS/server.crt" "$T/half/"
# plain client and bench, without --ca-file
client() { timeout $((60 * IT_TMUL)) "$CLIENT" -c "127.0.0.1:$PORT" \
    --timeout $((20 * IT_TMUL)) "$@"; }

cd /
note "from /: the server's certificate from \$CREDENTIALS_DIRECTORY"
CREDENTIALS_DIRECTORY=$T/cred start_server cred
expect_grep "the certificate used" "$T/cred.log" \
    "bitstuffd: certificate $T/cred/server\.crt, key $T/cred/server\.key$"
note "from /: the client's CA from its \$CREDENTIALS_DIRECTORY"
out=$(CREDENTIALS_DIRECTORY=$T/ccred client "$example")
expect_eq "client from /" "$out" "sent: $example
received: $stuffed"
note "from /: bitstuff-bench takes the same CA (it used the system's)"
rc_of rc env CREDENTIALS_DIRECTORY="$T/ccred" timeout $((120 * IT_TMUL)) \
    "$BENCH" -c "127.0.0.1:$PORT" -q -n 2 -r 200 >"$T/bench.out" 2>&1
[ "$rc" -eq 0 ] || fail "bench from / without --ca-file: exit $rc: $(cat "$T/bench.out")"

note "from /, no CA anywhere: exit 4 and where the client looked"
rc_of rc client "$example" 2>"$T/noca.err"
expect_eq "client without a CA: exit status" "$rc" 4
expect_grep "client without a CA" "$T/noca.err" \
    "note: no --ca-file given and no ca\.crt in \\\$CREDENTIALS_DIRECTORY \(not set\), .*/bitstuff or certs \(in /\), so the system's trusted CAs were used$"
stop_server_ok "$SERVER_PID"

note "from the source tree: certs/ of the working directory"
cd "$T/tree"
start_server tree
expect_grep "the certificate used" "$T/tree.log" \
    "bitstuffd: certificate certs/server\.crt, key certs/server\.key$"
out=$(client -q "$example")
expect_eq "client in the tree" "$out" "$stuffed"
note "explicit --cert/--key win over \$CREDENTIALS_DIRECTORY"
stop_server_ok "$SERVER_PID"
CREDENTIALS_DIRECTORY=$T/half start_server explicit \
    --cert "$CERTS/server.crt" --key "$CERTS/server.key"
grep -q 'bitstuffd: certificate' "$T/explicit.log" &&
    fail "searched although --cert and --key were given"
expect_serves "explicit --cert"
stop_server_ok "$SERVER_PID"

cd /
note "nothing anywhere: exit 1, every place named"
rc_of rc "$SERVER" -l 127.0.0.1:0 >"$T/none.log" 2>&1
expect_eq "no certificate: exit status" "$rc" 1
expect_grep "no certificate" "$T/none.log" \
    "bitstuffd: no certificate given and none found: no server\.crt in \\\$CREDENTIALS_DIRECTORY \(not set\), /.*/bitstuff or certs \(in /\); give --cert and --key"
# the hint names the script as installed (bitstuff-gen-certs), not only
# by its path in the source tree
expect_grep "the hint names the installed script" "$T/none.log" \
    "make a test set in certs with bitstuff-gen-certs \(scripts/gen-certs\.sh in the source tree\)"
note "a certificate without its key beside it: exit 1"
rc_of rc env CREDENTIALS_DIRECTORY="$T/half" "$SERVER" -l 127.0.0.1:0 \
    >"$T/half.log" 2>&1
expect_eq "half a pair: exit status" "$rc" 1
expect_grep "half a pair" "$T/half.log" \
    "found $T/half/server\.crt but no server\.key beside it"
echo "PASS"
