#!/usr/bin/env bash
# test_outfile.sh - issue 10 item 1: whatever goes wrong, an existing
# --out target is left byte for byte as it was, and no temporary file is
# left behind.  Each failure kind with its exit code: network (2),
# handshake (3, a peer that accepts and hangs up), verification (4),
# rejection (5), a server killed mid-transfer (6), a reply for another op
# or rule (6), a timeout mid-transfer (2), SIGINT (130), SIGTERM (143),
# SIGHUP (129: the terminal or ssh session went away) and SIGQUIT (131)
# mid-transfer, and damaged containers (1, before connecting).  Devices
# (made with mknod here), FIFOs and symbolic links are written through,
# never replaced or removed.  "Mid-transfer" is made certain by a server
# stub (fakeserver.py stall) that sends 512 KiB of reply and then
# stalls: the client has written to its temporary file when it is hit.
. "$(dirname "$0")/it.sh"
ulimit -c 0 # SIGQUIT below: no core file anywhere

FAKE="$IT_INTEGRATION/fakeserver.py"
O=$T/out # the only directory the targets live in
mkdir "$O"
start_server server -q --cert "$CERTS/server.crt" --key "$CERTS/server.key"
head -c 300000 /dev/urandom >"$T/in.bin"

fresh_target() {
    printf 'precious\n\001\002\n' >"$O/t"
}

# check_kept WHAT: the target is as fresh_target made it, no temp file
check_kept() {
    [ "$(od -An -tx1 "$O/t" | tr -d ' \n')" = 70726563696f75730a01020a ] ||
        fail "$1: the existing target changed: $(od -c "$O/t" | head -3)"
    no_temp "$1"
}

no_temp() {
    local left
    left=$(find "$O" "$T" -maxdepth 1 -name '.*.bitstuff-*')
    [ -z "$left" ] || fail "$1: temporary file left behind: $left"
}

# expect_fail WHAT WANT_RC ERRFILE CMD...
expect_fail() {
    local what=$1 want=$2 errf=$3 rc
    shift 3
    rc_of rc "$@" 2>"$errf"
    [ "$rc" = "$want" ] || fail "$what: exit $rc, want $want: $(cat "$errf")"
    echo "   $what: exit $rc, target kept"
}

# fake MODE: start fakeserver.py; sets FPORT and FPID
fake() {
    rm -f "$T/fport"
    python3 "$FAKE" "$1" "$T/fport" "$CERTS/server.crt" "$CERTS/server.key" \
        >"$T/fake.out" 2>&1 &
    FPID=$!
    local i
    for ((i = 0; i < 100; i++)); do
        [ -s "$T/fport" ] && break
        sleep 0.1
    done
    FPORT=$(cat "$T/fport") || fail "fakeserver.py $1 did not start"
}

# wait_written: bounded wait until the client's temporary file holds data
wait_written() {
    local i f
    for ((i = 0; i < 300; i++)); do
        for f in "$O"/.t.bitstuff-*; do
            [ -s "$f" ] && return 0
        done
        kill -0 "$CPID" 2>/dev/null || fail "the client ended early: $(cat "$T/cerr")"
        sleep 0.1
    done
    fail "the client wrote nothing to its temporary file within 30 s"
}

# wait_rc PID: its exit status in rc, waiting at most 60 s
wait_rc() {
    wait_exit "$1" 60 "client $1 did not end within 60 s"
}

# a client in the background against the stall stub, --out $O/t
stalled_client() {
    "$CLIENT" -c "127.0.0.1:$FPORT" --ca-file "$CERTS/ca.crt" \
        --servername localhost --timeout "${1:-60}" \
        --in "$T/in.bin" --out "$O/t" 2>"$T/cerr" &
    CPID=$!
    wait_written
}

note "network: nothing listens (exit 2)"
fresh_target
expect_fail network 2 "$T/e" "$CLIENT" -c 127.0.0.1:1 --ca-file "$CERTS/ca.crt" \
    --in "$T/in.bin" --out "$O/t"
check_kept network
expect_grep "network: says the target is kept" "$T/e" "t is left as it was"

note "handshake: a peer that accepts and hangs up (exit 3, one message)"
fake accept-close
expect_fail handshake 3 "$T/e" cli -c "127.0.0.1:$FPORT" --in "$T/in.bin" --out "$O/t"
check_kept handshake
expect_eq "handshake: error lines" "$(grep -c '^error:' "$T/e")" 1
expect_grep "handshake: says what happened" "$T/e" "hung up before the handshake finished"
if grep -q "handshake failed: TLS handshake failed" "$T/e"; then
    fail "handshake: the message repeats itself: $(cat "$T/e")"
fi
# a text-mode client too: the same exit code
expect_fail "handshake (text mode)" 3 "$T/e" cli -c "127.0.0.1:$FPORT" 0101
wait "$FPID" || true

note "verification: another CA (exit 4)"
make_certs "$T/c2"
expect_fail verify 4 "$T/e" "$CLIENT" -c "127.0.0.1:$PORT" \
    --ca-file "$T/c2/ca.crt" --in "$T/in.bin" --out "$O/t"
check_kept verify

note "rejection: unstuffing data that is not stuffed (exit 5)"
printf '\xff\xff' >"$T/bad.bin"
expect_fail rejected 5 "$T/e" cli -u --raw --in "$T/bad.bin" --out "$O/t"
check_kept rejected

note "a reply for another op or rule (exit 6, protocol error)"
fake wrong-op
expect_fail "wrong op" 6 "$T/e" cli -c "127.0.0.1:$FPORT" --servername localhost \
    --in "$T/in.bin" --out "$O/t"
check_kept "wrong op"
expect_grep "wrong op: named" "$T/e" "a reply for unstuff hdlc to a stuff hdlc request"
wait "$FPID" || true
fake wrong-rule
expect_fail "wrong rule" 6 "$T/e" cli -c "127.0.0.1:$FPORT" --servername localhost \
    -u --rule usb 0000001
expect_grep "wrong rule: named" "$T/e" "a reply for unstuff hdlc to a unstuff usb request"
wait "$FPID" || true

note "the server killed mid-transfer (exit 6)"
fresh_target
fake stall
stalled_client
kill -KILL "$FPID"
wait "$FPID" 2>/dev/null || true
wait_rc "$CPID"
expect_eq "server killed: exit" "$rc" 6
wait "$FPID" 2>/dev/null || true
check_kept "server killed"
echo "   server killed mid-transfer: exit 6, target kept"

note "no answer mid-transfer: --timeout (exit 2)"
fake stall
stalled_client $((3 * IT_TMUL))
wait_rc "$CPID"
expect_eq "timeout: exit" "$rc" 2
kill "$FPID" 2>/dev/null || true
wait "$FPID" 2>/dev/null || true
check_kept timeout
echo "   timeout mid-transfer: exit 2, target kept"

for sig in INT TERM HUP QUIT; do
    note "SIG$sig mid-transfer"
    fake stall
    stalled_client
    kill -"$sig" "$CPID"
    wait_rc "$CPID"
    want=$((128 + $(kill -l "$sig")))
    expect_eq "SIG$sig: exit" "$rc" "$want"
    expect_grep "SIG$sig: said so" "$T/cerr" "interrupted; the output is discarded"
    kill "$FPID" 2>/dev/null || true
    wait "$FPID" 2>/dev/null || true
    check_kept "SIG$sig"
    echo "   SIG$sig mid-transfer: exit $rc, target kept"
done

note "damaged containers: refused before connecting (exit 1)"
cli --in "$T/in.bin" --out "$T/good.bst" 2>/dev/null
head -c 5000 "$T/good.bst" >"$T/trunc.bst"
cp "$T/good.bst" "$T/flip.bst"
printf '\x01' | dd of="$T/flip.bst" bs=1 seek=4000 conv=notrunc 2>/dev/null
# port 1: were it contacted, the exit would be 2
expect_fail truncated 1 "$T/e" "$CLIENT" -c 127.0.0.1:1 -u --in "$T/trunc.bst" --out "$O/t"
expect_grep "truncated: named" "$T/e" "a truncated container"
check_kept truncated
expect_fail "bit flip" 1 "$T/e" "$CLIENT" -c 127.0.0.1:1 -u --in "$T/flip.bst" --out "$O/t"
expect_grep "bit flip: named" "$T/e" "a corrupted container"
check_kept "bit flip"
expect_fail "wrong rule" 1 "$T/e" "$CLIENT" -c 127.0.0.1:1 -u --rule can --in "$T/good.bst" --out "$O/t"
expect_grep "wrong rule: named" "$T/e" "stuffed with the hdlc rule, not --rule can"
check_kept "wrong rule"
expect_fail "--in-bits past the end" 1 "$T/e" "$CLIENT" -c 127.0.0.1:1 -u --raw \
    --in "$T/bad.bin" --in-bits 17 --out "$O/t"
check_kept "--in-bits past the end"
# through a pipe the damage shows only at the end: still no output
expect_fail "bit flip (pipe)" 1 "$T/e" cli -u --in - --out "$O/t" <"$T/flip.bst"
expect_grep "bit flip (pipe): named" "$T/e" "a corrupted container"
check_kept "bit flip (pipe)"
expect_fail "truncated (pipe)" 1 "$T/e" cli -u --in - --out "$O/t" <"$T/trunc.bst"
check_kept "truncated (pipe)"
[ ! -e "$O/new" ] || fail "setup"
expect_fail "bit flip (pipe, new file)" 1 "$T/e" cli -u --in - --out "$O/new" <"$T/flip.bst"
[ ! -e "$O/new" ] || fail "a damaged container produced an output file"

note "success replaces the target, keeping its permissions"
chmod 600 "$O/t"
cli -u --in "$T/good.bst" --out "$O/t" 2>"$T/e" || fail "success: $(cat "$T/e")"
cmp "$T/in.bin" "$O/t" || fail "success: wrong content"
expect_eq "success: mode" "$(stat -c %a "$O/t")" 600
no_temp success

note "a symbolic link is followed, never replaced"
fresh_target
ln -s t "$O/link"
expect_fail "symlink, network" 2 "$T/e" "$CLIENT" -c 127.0.0.1:1 --ca-file "$CERTS/ca.crt" \
    --in "$T/in.bin" --out "$O/link"
check_kept "symlink, network"
cli -u --in "$T/good.bst" --out "$O/link" 2>"$T/e" || fail "symlink: $(cat "$T/e")"
[ -L "$O/link" ] || fail "symlink: the link was replaced"
cmp "$T/in.bin" "$O/t" || fail "symlink: the target was not written"
no_temp symlink

note "a FIFO is written in place, never removed"
mkfifo "$O/fifo"
cat "$O/fifo" >"$T/fifo.got" &
RPID=$!
cli -u --in "$T/good.bst" --out "$O/fifo" 2>"$T/e" || fail "fifo: $(cat "$T/e")"
wait "$RPID"
cmp "$T/in.bin" "$T/fifo.got" || fail "fifo: wrong content"
cat "$O/fifo" >/dev/null &
RPID=$!
expect_fail "fifo, network" 2 "$T/e" "$CLIENT" -c 127.0.0.1:1 --ca-file "$CERTS/ca.crt" \
    --in "$T/in.bin" --out "$O/fifo"
wait "$RPID"
[ -p "$O/fifo" ] || fail "fifo: removed or replaced"
no_temp fifo

note "a device node (our own, in the test's directory) is never replaced"
if mknod "$O/null" c 1 3 2>/dev/null; then
    cli --in "$T/in.bin" --out "$O/null" 2>"$T/e" || fail "device: $(cat "$T/e")"
    [ -c "$O/null" ] || fail "device: replaced after success"
    expect_fail "device, network" 2 "$T/e" "$CLIENT" -c 127.0.0.1:1 \
        --ca-file "$CERTS/ca.crt" --in "$T/in.bin" --out "$O/null"
    [ -c "$O/null" ] || fail "device: removed after a failure"
    expect_fail "device, rejected" 5 "$T/e" cli -u --raw --in "$T/bad.bin" --out "$O/null"
    [ -c "$O/null" ] || fail "device: removed after a rejection"
    no_temp device
else
    echo "   (mknod not permitted here: device case skipped)"
fi

stop_server_ok "$SERVER_PID"
echo "PASS"
