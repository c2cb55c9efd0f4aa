#!/usr/bin/env bash
# test_resume_limits.sh - session resumption cannot outlive a client
# certificate, nor go on for ever (issue 9 item 1).  Each TLS 1.3
# resumption issues a new ticket with a new two-hour lifetime, so a client
# that resumed at least every two hours was admitted hours after its
# certificate expired.  The server's wall clock is moved with an
# LD_PRELOAD shim (tests/faketime, build/tests/bs_faketime.so); the client
# (resume.py) runs on the real clock.
. "$(dirname "$0")/it.sh"

SHIM=$BS_BUILD/tests/bs_faketime.so
[ -f "$SHIM" ] || fail "$SHIM is missing: build the bs_faketime target"
OFF=$T/offset
echo 0 >"$OFF"
# An ASan server must accept a preloaded library ahead of its runtime.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

# start_fake NAME CERTDIR [options]: bitstuffd with mutual TLS required
# and the fake clock (only the server sees it).
start_fake() {
    local name=$1 d=$2
    shift 2
    BS_FAKETIME_FILE=$OFF LD_PRELOAD=$SHIM start_server "$name" \
        --cert "$d/server.crt" --key "$d/server.key" --ca-file "$d/ca.crt" \
        --verify-client require "$@"
}

# hops [--tls12] CERTDIR OFFSET:EXPECT...
hops() {
    local v=()
    [ "$1" != --tls12 ] || { v=(--tls12); shift; }
    local d=$1
    shift
    timeout $((120 * IT_TMUL)) python3 "$IT_INTEGRATION/resume.py" "${v[@]}" \
        "$PORT" "$d/ca.crt" "$d/client.crt" "$d/client.key" "$OFF" "$@"
}

note "a client certificate that expires in an hour: resumption stops there"
# Made with the clock 23 hours back and --days 1: valid until now + 1 h.
SHORT=$T/short
echo -82800 >"$OFF"
BS_FAKETIME_FILE=$OFF LD_PRELOAD=$SHIM make_certs "$SHORT" --days 1
echo 0 >"$OFF"
start_fake short "$SHORT"
# 0: full handshake; +50 min: resumed (ticket 50 min old, certificate
# still valid); +100 min: the ticket is 50 min old, but the certificate
# expired 40 min ago: the ticket is refused, the full handshake fails.
hops "$SHORT" 0:new 3000:resumed 6000:refused
expect_grep "the full handshake refused the expired certificate" \
    "$T/short.log" 'TLS handshake failed: .*expired'
note "... and without a session, refused too"
hops "$SHORT" 6000:refused
stop_server_ok "$SERVER_PID"

note "the same with TLS 1.2 tickets (RFC 5077)"
echo 0 >"$OFF"
start_fake short12 "$SHORT" --min-tls 1.2
hops --tls12 "$SHORT" 0:new 3000:resumed 6000:refused
stop_server_ok "$SERVER_PID"

note "a valid certificate: a resumption chain ends after 24 hours"
echo 0 >"$OFF"
start_fake chain "$CERTS"
steps=(0:new)
for ((h = 1; h <= 15; h++)); do
    steps+=("$((h * 5400)):resumed") # every 90 min, up to 22.5 h
done
# 24 h 1 min after the full handshake (the ticket is 91 min old): a full
# handshake again (still served),
# after which the new chain resumes.
steps+=("$((15 * 5400 + 5460)):new" "$((16 * 5400 + 5460)):resumed")
hops "$CERTS" "${steps[@]}"
stop_server_ok "$SERVER_PID"
echo "PASS"
