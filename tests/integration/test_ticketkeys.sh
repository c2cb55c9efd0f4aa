#!/usr/bin/env bash
# test_ticketkeys.sh - resumption across instances (issue 14 item 2): a
# session made through instance A resumes on instance B when both read
# the same --ticket-key-file, and does not without it; TLS 1.3 and 1.2,
# with openssl s_client -sess_out / -sess_in ("Reused").  Rotation by
# SIGHUP (a new first key, the old one second: old tickets still resume);
# a bad file on SIGHUP keeps the keys in force and says why; a file
# others can read is refused at start.
. "$(dirname "$0")/it.sh"

example=0101111110011111001010
stuffed=010111110100111110001010
KEYS=$T/ticket.keys
(umask 077 && openssl rand -hex 80 >"$KEYS" && openssl rand -hex 80 >>"$KEYS")

# hop PORT NAME [s_client options]: one exchange through s_client (not
# quiet: it prints "New," or "Reused,"), its output in $T/NAME.out.  Its
# input stays open until the reply has come (bounded), so the TLS 1.3
# ticket, sent before the reply, has been taken in (the input side
# reads the output file s_client writes: on purpose).
# shellcheck disable=SC2094
hop() {
    local port=$1 out=$T/$2.out
    shift 2
    : >"$out"
    {
        printf '%s\n' "$example"
        for ((i = 0; i < 100 * IT_TMUL; i++)); do
            grep -q "^OK $stuffed" "$out" && break
            sleep 0.1
        done
    } | timeout $((30 * IT_TMUL)) openssl s_client -no_ign_eof \
        -connect "127.0.0.1:$port" -CAfile "$CERTS/ca.crt" \
        -verify_return_error "$@" >"$out" 2>&1 || true
    grep -q "^OK $stuffed" "$out" || {
        cat "$out" >&2
        fail "hop $port: no reply"
    }
}

# resumes FROM_PORT TO_PORT WANT [s_client options]: a new session through
# FROM, offered to TO; WANT is Reused or New.
resumes() {
    local from=$1 to=$2 want=$3
    shift 3
    hop "$from" first -sess_out "$T/sess" "$@"
    expect_grep "first handshake is a full one" "$T/first.out" '^New,'
    hop "$to" second -sess_in "$T/sess" "$@"
    expect_grep "session from :$from on :$to" "$T/second.out" "^$want,"
}

opts=(--cert "$CERTS/server.crt" --key "$CERTS/server.key" --min-tls 1.2)
start_server a "${opts[@]}" --ticket-key-file "$KEYS"
A=$PORT A_PID=$SERVER_PID
start_server b "${opts[@]}" --ticket-key-file "$KEYS"
B=$PORT B_PID=$SERVER_PID
start_server c "${opts[@]}"
C=$PORT
start_server d "${opts[@]}"
D=$PORT

for v in -tls1_3 -tls1_2; do
    note "$v: A to B, sharing the key file: resumed"
    resumes "$A" "$B" Reused "$v"
    resumes "$B" "$A" Reused "$v"
    note "$v: C to D, without a key file: a full handshake"
    resumes "$C" "$D" New "$v"
    note "$v: ... though C resumes its own sessions (as before)"
    resumes "$C" "$C" Reused "$v"
    note "$v: A to C (no key file there): a full handshake"
    resumes "$A" "$C" New "$v"
done

note "rotation: a new key first, the old ones after it, SIGHUP both"
hop "$A" before -sess_out "$T/old.sess"
(umask 077 && { openssl rand -hex 80; cat "$KEYS"; } >"$KEYS.new")
mv "$KEYS.new" "$KEYS"
kill -HUP "$A_PID" "$B_PID"
expect_grep "A reloaded the keys" "$T/a.log" "SIGHUP: reloaded .*ticket keys $KEYS"
expect_grep "B reloaded the keys" "$T/b.log" "SIGHUP: reloaded .*ticket keys $KEYS"
hop "$B" after -sess_in "$T/old.sess"
expect_grep "a ticket under the old key resumes on B" "$T/after.out" '^Reused,'
resumes "$A" "$B" Reused -tls1_3

note "a bad key file on SIGHUP: refused, the keys in force stay"
hop "$A" keep -sess_out "$T/keep.sess"
cp "$KEYS" "$KEYS.good"
echo "not a key" >>"$KEYS"
kill -HUP "$A_PID"
expect_grep "the bad file is refused" "$T/a.log" \
    "reload refused, still serving with the previous certificate and ticket keys: ticket key file $KEYS: line 4: character 1 is not a hex digit"
if grep -qFf "$KEYS.good" "$T/a.log"; then
    fail "a key appears in the log"
fi
hop "$A" kept -sess_in "$T/keep.sess"
expect_grep "the old keys still decrypt" "$T/kept.out" '^Reused,'
note "... and one others can read is refused on SIGHUP too"
cp "$KEYS.good" "$KEYS"
chmod 644 "$KEYS"
kill -HUP "$A_PID"
expect_grep "a readable key file is refused on SIGHUP" "$T/a.log" \
    "reload refused.*ticket key file $KEYS.*chmod 600"
chmod 600 "$KEYS"

note "at start: a key file others can read, a missing one, a bad one"
start_bad() {
    local rc=0
    timeout 20 "$SERVER" -l 127.0.0.1:0 "${opts[@]}" --ticket-key-file "$1" \
        >"$T/bad.out" 2>&1 || rc=$?
    [ "$rc" -eq 1 ] || fail "server with ticket key file $1: status $rc"
    expect_grep "$2" "$T/bad.out" "$2"
}
chmod 640 "$KEYS"
start_bad "$KEYS" "ticket key file $KEYS .*chmod 600"
chmod 600 "$KEYS"
start_bad "$T/none" "cannot open ticket key file $T/none: No such file"
printf '# empty\n' >"$T/empty.keys"
chmod 600 "$T/empty.keys"
start_bad "$T/empty.keys" "ticket key file $T/empty.keys: no key in it"

stop_server_ok "$A_PID"
stop_server_ok "$B_PID"
echo "PASS: test_ticketkeys"
