#!/usr/bin/env bash
# faults.sh GROUP - the fault and bad-input suite against the real server.
#
# Each group starts bitstuffd on 127.0.0.1:0 with fresh certificates, keeps
# a well-behaved load running beside the faults (bitstuff-bench, 4
# connections, every reply checked; each run must exit 0), runs its hostile
# clients (hostile.py, one case each), and at the end checks that the
# server is still alive, still serves, and stops cleanly (exit 0).
#
#   input    bytes that are not TLS or not the protocol
#   flow     clients that do not read, vanish, or open too many connections
#   tls      TLS versions and client certificates under mutual TLS
#   client   bad server certificates against the client (exit codes)
#   signals  SIGHUP certificate reload (good and broken), SIGTERM in flight
#
# Needs BS_BUILD and BS_SOURCE (set by CTest), python3.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/integration/lib.sh
. "$here/../integration/lib.sh"
HOSTILE="$here/hostile.py"
group=${1:?usage: faults.sh input|flow|tls|client|signals}

LOAD_PID=
# load_start NAME [bench options...]: bench runs in a loop until load_stop.
load_start() {
    local name=$1
    shift
    rm -f "$T/$name.stop" "$T/$name.failed"
    (
        runs=0
        while [ ! -f "$T/$name.stop" ]; do
            if ! timeout 60 "$BENCH" -c "127.0.0.1:$PORT" -n 4 -r 2000 -P 4 \
                -q "$@" >>"$T/$name.log" 2>&1; then
                echo "run $runs failed" >"$T/$name.failed"
                exit 1
            fi
            runs=$((runs + 1))
            echo "$runs" >"$T/$name.runs"
        done
    ) &
    LOAD_PID=$!
    SERVER_PIDS+=("$LOAD_PID")
}

# load_stop NAME: the load must have run at least once, never failed.
load_stop() {
    local name=$1
    touch "$T/$name.stop"
    wait "$LOAD_PID" || true
    if [ -f "$T/$name.failed" ]; then
        tail -20 "$T/$name.log" >&2
        fail "the well-behaved load failed beside the faults ($(cat "$T/$name.failed"))"
    fi
    [ -f "$T/$name.runs" ] || fail "the well-behaved load never completed a run"
    echo "ok: well-behaved load beside the faults: $(cat "$T/$name.runs") runs" \
        "of 2000 checked requests, all exit 0"
}

# hostile CASE ARGS...: run one case, bounded; its line goes to the log.
hostile() {
    local out rc=0
    out=$(CA=${CA:-$T/a/ca.crt} timeout 120 python3 "$HOSTILE" "$1" "$PORT" \
        "${@:2}" 2>&1) || rc=$?
    echo "$out"
    [ "$rc" -eq 0 ] || fail "case $1: exit $rc"
}

# finish NAME: the server is alive, serves, then stops with exit 0.
finish() {
    local name=$1 rc=0
    kill -0 "$SERVER_PID" 2>/dev/null || fail "server $name died"
    CA=$T/a/ca.crt timeout 20 python3 "$HOSTILE" mtls-accepted "$PORT" \
        >/dev/null || fail "server $name no longer serves"
    stop_server "$SERVER_PID" || rc=$?
    expect_eq "server $name exit status" "$rc" 0
    if grep -E 'AddressSanitizer|runtime error|internal error' \
        "$T/$name.log" >&2; then
        fail "server $name reported an internal error"
    fi
}

# server_cert NAME DAYS: a new key $T/NAME.key and a server certificate
# $T/NAME.crt for localhost signed by the CA of $T/a, valid for DAYS days
# (-1: already expired).
server_cert() {
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$T/$1.key" -subj /CN=localhost -out "$T/$1.csr" 2>/dev/null
    printf '%s\n' 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1' \
        'extendedKeyUsage=serverAuth' 'keyUsage=critical,digitalSignature' \
        >"$T/server.ext"
    openssl x509 -req -in "$T/$1.csr" -CA "$T/a/ca.crt" -CAkey "$T/a/ca.key" \
        -days "$2" -extfile "$T/server.ext" -out "$T/$1.crt" 2>/dev/null
}

make_certs "$T/a"
BENCH_CA=(--ca-file "$T/a/ca.crt")

case $group in
input)
    start_server srv --handshake-timeout 1 -q \
        --cert "$T/a/server.crt" --key "$T/a/server.key"
    load_start load "${BENCH_CA[@]}"
    hostile plaintext
    hostile silent 1
    hostile truncated-hello 1
    hostile slowloris 1
    hostile garbage-records
    hostile garbage-app
    hostile long-line 10
    hostile bad-chars
    hostile bad-unstuff
    load_stop load
    log_has "$T/srv.log" 'TLS handshake timed out' ||
        fail "no 'TLS handshake timed out' line in the log"
    finish srv
    # Closing without close_notify is quiet between requests; a request
    # cut short is logged once.
    start_server eof -q --idle-timeout 1 --cert "$T/a/server.crt" \
        --key "$T/a/server.key"
    hostile eof
    log_has "$T/eof.log" 'in the middle of a request' ||
        fail "a request cut short was not logged"
    # (each connection's close line aside, issue 12.5)
    lines=$(grep '\[127\.0\.0\.1:' "$T/eof.log" |
        grep -vc '\] connection closed peer=' || true)
    expect_eq "log lines for 4 closes without close_notify" "$lines" 1
    hostile idle 1
    log_has "$T/eof.log" 'idle timeout' || fail "no 'idle timeout' log line"
    finish eof
    start_server lim -q --max-message-bits 60000 --cert "$T/a/server.crt" \
        --key "$T/a/server.key"
    load_start load "${BENCH_CA[@]}" -s 1-60000
    hostile huge-length 60000
    load_stop load
    finish lim
    ;;
flow)
    start_server srv -q --cert "$T/a/server.crt" \
        --key "$T/a/server.key"
    load_start load "${BENCH_CA[@]}"
    # ASan's quarantine and shadow memory keep freed memory resident: the
    # real bound is checked in the plain build, ASan only catches runaways.
    rss_limit=64
    if grep -qa __asan_init "$SERVER"; then rss_limit=400; fi
    hostile no-read "$SERVER_PID" "$rss_limit"
    hostile mid-reply
    load_stop load
    finish srv
    # The cap: the connections held are the well-behaved clients here (a
    # load that reconnects would itself be refused at the cap).
    start_server caps -q --max-conns 20 --cert "$T/a/server.crt" \
        --key "$T/a/server.key"
    hostile max-conns 20 "$T/caps.log"
    finish caps
    # Out of descriptors: the hard limit is 64, 200 connections arrive.
    IT_FD_LIMIT=64 start_server fds -q --max-conns 1000 \
        --cert "$T/a/server.crt" --key "$T/a/server.key"
    hostile fd-exhaustion 200
    log_has "$T/fds.log" 'accept: Too many open files; pausing' ||
        fail "no 'pausing accepts' line when out of descriptors"
    lines=$(grep -c 'accept: Too many open files' "$T/fds.log")
    echo "ok: out of descriptors logged in $lines line(s)"
    finish fds
    ;;
tls)
    make_certs "$T/b" # another CA
    # An expired client certificate from the right CA.
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$T/old.key" -subj /CN=old-client -out "$T/old.csr" \
        2>/dev/null
    printf 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n' \
        >"$T/client.ext"
    openssl x509 -req -in "$T/old.csr" -CA "$T/a/ca.crt" -CAkey "$T/a/ca.key" \
        -days -1 -extfile "$T/client.ext" -out "$T/old.crt" 2>/dev/null
    start_server srv -q --cert "$T/a/server.crt" --key "$T/a/server.key"
    load_start load "${BENCH_CA[@]}"
    hostile tls12
    load_stop load
    finish srv
    start_server srv12 -q --min-tls 1.2 --cert "$T/a/server.crt" \
        --key "$T/a/server.key"
    hostile tls12-allowed
    finish srv12
    start_server mtls -q --cert "$T/a/server.crt" --key "$T/a/server.key" \
        --ca-file "$T/a/ca.crt" --verify-client require
    load_start load "${BENCH_CA[@]}" --cert "$T/a/client.crt" \
        --key "$T/a/client.key"
    CERT=$T/b/client.crt KEY=$T/b/client.key hostile mtls-refused \
        "a certificate from another CA"
    CERT=$T/old.crt KEY=$T/old.key hostile mtls-refused \
        "an expired certificate"
    # The real client is told that its certificate expired, and when
    # (issue 9.10), not to find another CA.
    rc=0
    timeout 20 "$CLIENT" -c "127.0.0.1:$PORT" --ca-file "$T/a/ca.crt" \
        --cert "$T/old.crt" --key "$T/old.key" 0101 >"$T/client.out" 2>&1 ||
        rc=$?
    expect_eq "client with an expired certificate: exit status" "$rc" 4
    grep -Eq 'rejected our client certificate as expired .*: it expired on [0-9]{4}-[0-9]{2}-[0-9]{2} ' \
        "$T/client.out" ||
        fail "the client was not told its certificate expired and when: $(cat "$T/client.out")"
    echo "ok: client, expired certificate: $(cat "$T/client.out")"
    hostile mtls-refused "no certificate"
    CERT=$T/a/client.crt KEY=$T/a/client.key hostile mtls-accepted
    load_stop load
    CERT=$T/a/client.crt KEY=$T/a/client.key finish mtls
    ;;
client)
    [ -x "$CLIENT" ] || { echo "skipped: no client ($CLIENT)"; exit 0; }
    make_certs "$T/b"
    server_cert old -1
    client_case() { # what, want exit, client options...
        local what=$1 want=$2 rc=0
        shift 2
        timeout 20 "$CLIENT" -c "127.0.0.1:$PORT" "$@" "$LAB_IN" \
            >"$T/client.out" 2>&1 || rc=$?
        [ "$rc" -eq "$want" ] ||
            fail "client, $what: exit $rc, want $want ($(cat "$T/client.out"))"
        echo "ok: client, $what: exit $rc: $(head -c 160 "$T/client.out")"
    }
    LAB_IN=0101111110011111001010
    start_server expired -q --cert "$T/old.crt" --key "$T/old.key"
    client_case "expired server certificate" 4 --ca-file "$T/a/ca.crt"
    finish_quiet() { stop_server "$SERVER_PID" || fail "server exit $?"; }
    finish_quiet
    start_server good -q --cert "$T/a/server.crt" --key "$T/a/server.key"
    client_case "certificate for another name" 4 --ca-file "$T/a/ca.crt" \
        --servername wrong.example
    client_case "certificate from an unknown CA" 4 --ca-file "$T/b/ca.crt"
    client_case "an address the certificate lacks" 4 --ca-file "$T/a/ca.crt" \
        --servername 127.0.0.2
    client_case "control: right CA and name" 0 --ca-file "$T/a/ca.crt"
    # The server's advice for each refusal says what was wrong (9.10).
    server_says() { # what, ERE
        log_has "$T/good.log" "$2" ||
            fail "server log, $1: no line matching /$2/"
        echo "ok: server, $1: $(grep -E -- "$2" "$T/good.log" | head -1 |
            cut -d' ' -f3-)"
    }
    server_says "name refused" \
        'a name mismatch: the client asked for wrong\.example, the certificate is for localhost'
    server_says "address refused" \
        'most likely a name mismatch: the certificate is for localhost, 127\.0\.0\.1, ::1 and the client sent no name'
    server_says "CA refused" \
        'rejected this server.s certificate .*unknown ca.*: it does not trust the CA that signed it; give the client that CA'
    if grep -q 'give the client the CA' "$T/good.log"; then
        fail "a name mismatch was still blamed on the CA"
    fi
    finish good
    # --keylog-file: off unless asked (SSLKEYLOGFILE is ignored), 0600, a
    # warning on both sides, and secrets written when asked.
    export SSLKEYLOGFILE=$T/env-keylog
    start_server keylog -q --keylog-file "$T/server-keys" \
        --cert "$T/a/server.crt" --key "$T/a/server.key"
    client_case "keylog off by default" 0 --ca-file "$T/a/ca.crt"
    [ ! -e "$T/env-keylog" ] || fail "SSLKEYLOGFILE turned the key log on"
    client_case "--keylog-file" 0 --ca-file "$T/a/ca.crt" \
        --keylog-file "$T/client-keys"
    grep -q 'WARNING: --keylog-file' "$T/client.out" ||
        fail "the client gave no warning for --keylog-file"
    grep -q 'WARNING: --keylog-file' "$T/keylog.log" ||
        fail "the server gave no warning for --keylog-file"
    for f in server-keys client-keys; do
        expect_eq "mode of $f" "$(stat -c %a "$T/$f")" 600
        grep -q '^CLIENT_TRAFFIC_SECRET_0 ' "$T/$f" ||
            fail "$f holds no TLS secrets"
    done
    echo "ok: --keylog-file on both sides: warnings, mode 0600, secrets;" \
        "SSLKEYLOGFILE ignored"
    unset SSLKEYLOGFILE
    finish keylog
    ;;
signals)
    mkdir -p "$T/live"
    cp "$T/a/server.crt" "$T/a/server.key" "$T/live/"
    start_server srv -q --cert "$T/live/server.crt" --key "$T/live/server.key"
    load_start load "${BENCH_CA[@]}"
    CA=$T/a/ca.crt timeout 60 python3 "$HOSTILE" hold "$PORT" 4 \
        >"$T/hold.out" 2>&1 &
    hold_pid=$!
    SERVER_PIDS+=("$hold_pid")
    log_has "$T/hold.out" held || true
    # Good: a renewed certificate from the same CA, new key.
    make_certs "$T/a2" # only for a key that matches nothing here
    server_cert new 2
    hostile peer-cert "$T/a/server.crt"
    cp "$T/new.crt" "$T/live/server.crt"
    cp "$T/new.key" "$T/live/server.key"
    kill -HUP "$SERVER_PID"
    log_has "$T/srv.log" 'SIGHUP: reloaded' 50 || true
    grep -q 'SIGHUP: reloaded' "$T/srv.log" || fail "no 'reloaded' log line"
    hostile peer-cert "$T/new.crt"
    # Broken: a key that does not match, then a file that is not PEM.
    cp "$T/a2/server.key" "$T/live/server.key"
    kill -HUP "$SERVER_PID"
    log_has "$T/srv.log" 'reload refused' 50 || true
    grep 'reload refused' "$T/srv.log" | grep -q 'does not match' ||
        fail "no 'reload refused ... does not match' log line"
    hostile peer-cert "$T/new.crt"
    echo "garbage" >"$T/live/server.crt"
    kill -HUP "$SERVER_PID"
    for ((i = 0; i < 50; i++)); do
        [ "$(grep -c 'reload refused' "$T/srv.log")" -ge 2 ] && break
        sleep 0.1
    done
    grep 'reload refused' "$T/srv.log" | grep -q 'no usable PEM' ||
        fail "no 'reload refused ... no usable PEM' log line"
    hostile peer-cert "$T/new.crt"
    echo "ok: SIGHUP with a mismatched key and with a non-PEM file: refused," \
        "logged: $(grep 'reload refused' "$T/srv.log" | tail -1 | cut -c1-120)"
    wait "$hold_pid" || { cat "$T/hold.out"; fail "held connection broke"; }
    tail -1 "$T/hold.out"
    load_stop load
    finish srv
    # SIGTERM with replies in flight.
    start_server drain -q --cert "$T/a/server.crt" --key "$T/a/server.key"
    CA=$T/a/ca.crt timeout 60 python3 "$HOSTILE" drain "$PORT" 20000 \
        "$T/drain.flag" >"$T/drain.out" 2>&1 &
    drain_pid=$!
    for ((i = 0; i < 200; i++)); do
        [ -f "$T/drain.flag" ] && break
        sleep 0.05
    done
    [ -f "$T/drain.flag" ] || fail "the drain client did not send"
    rc=0
    stop_server "$SERVER_PID" || rc=$?
    expect_eq "server exit status after SIGTERM" "$rc" 0
    wait "$drain_pid" || { cat "$T/drain.out"; fail "replies lost at SIGTERM"; }
    cat "$T/drain.out"
    ;;
*)
    fail "unknown group '$group'"
    ;;
esac
echo "faults $group: passed"
