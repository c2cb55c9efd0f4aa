#!/usr/bin/env bash
# test_units.sh - the systemd units as installed (issue 12 item 3):
# configure the project for a temporary prefix, install only the units
# (component "systemd"), put bitstuffd where the configured ExecStart=
# says, and check with `systemd-analyze verify` (no systemd as PID 1
# needed; --man=no: the man pages are not installed here) that they
# load without a word, and with `systemd-analyze security --offline`
# that the service's exposure stays at 2.0 or below.  Then the service's
# ExecStart= line run the way systemd runs it: from /, the socket passed
# (LISTEN_FDS), the key and certificate in $CREDENTIALS_DIRECTORY, a
# NOTIFY_SOCKET: READY=1 comes and the lab's example is answered.
. "$(dirname "$0")/it.sh"

command -v systemd-analyze >/dev/null ||
    fail "systemd-analyze is missing (Debian package systemd)"
P=$T/prefix
cmake -S "$BS_SOURCE" -B "$T/b" -DCMAKE_INSTALL_PREFIX="$P" \
    -DBUILD_TESTING=OFF >"$T/cmake.log" 2>&1 ||
    fail "configure for $P failed: $(tail -20 "$T/cmake.log")"
cmake --install "$T/b" --component systemd >"$T/install.log" 2>&1 ||
    fail "install of the units failed: $(cat "$T/install.log")"
U=$P/lib/systemd/system
[ -f "$U/bitstuffd.service" ] || fail "no $U/bitstuffd.service"
[ -f "$U/bitstuffd.socket" ] || fail "no $U/bitstuffd.socket"

echo "-- the configured paths"
exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$U/bitstuffd.service")
case $exe in
"$P"/*bin/bitstuffd) ;;
*) fail "ExecStart= names '$exe', not bitstuffd under the prefix $P" ;;
esac
expect_eq "credentials" "$(grep '^LoadCredential=' "$U/bitstuffd.service")" \
    "LoadCredential=server.crt:$P/etc/bitstuff/server.crt
LoadCredential=server.key:$P/etc/bitstuff/server.key"
grep -q '@[A-Z_]*@' "$U/bitstuffd.service" &&
    fail "a placeholder was left unconfigured: $(grep '@[A-Z_]*@' "$U/bitstuffd.service")"
expect_eq "socket port" "$(sed -n 's/^ListenStream=//p' "$U/bitstuffd.socket")" \
    "$(sed -n 's/^#define BS_NET_DEFAULT_PORT "\([0-9]*\)"/\1/p' \
        "$BS_SOURCE/src/lib/net.h")"

verify() {
    SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no \
        --generators=no "$@" >"$T/verify.out" 2>&1
}
echo "-- systemd-analyze verify: a missing ExecStart= program is an error"
rc=0
verify "$U/bitstuffd.service" "$U/bitstuffd.socket" || rc=$?
[ "$rc" -ne 0 ] && grep -q "is not executable" "$T/verify.out" ||
    fail "verify did not notice the missing $exe: $(cat "$T/verify.out")"

echo "-- systemd-analyze verify: the installed units, nothing to say"
mkdir -p "$(dirname "$exe")"
cp "$BS_BUILD/bitstuffd" "$exe"
rc=0
verify "$U/bitstuffd.service" "$U/bitstuffd.socket" || rc=$?
[ "$rc" -eq 0 ] || fail "verify: exit $rc: $(cat "$T/verify.out")"
[ ! -s "$T/verify.out" ] || fail "verify said: $(cat "$T/verify.out")"

echo "-- systemd-analyze security: exposure 2.0 or less"
rc=0
systemd-analyze security --offline=yes --threshold=20 \
    "$U/bitstuffd.service" >"$T/security.out" 2>&1 || rc=$?
grep 'Overall exposure level' "$T/security.out" || true
[ "$rc" -eq 0 ] || fail "exposure above 2.0: $(grep '✗' "$T/security.out")"

echo "-- ExecStart= as systemd runs it: from /, socket, credentials, notify"
read -r -a cmd < <(sed -n 's/^ExecStart=//p' "$U/bitstuffd.service")
mkdir -p "$T/cred"
cp "$CERTS/server.crt" "$CERTS/server.key" "$T/cred/"
python3 "$IT_INTEGRATION/notify_rx.py" "$T/notify" "$T/rx.out" \
    $((60 * IT_TMUL)) &
rx=$!
SERVER_PIDS+=("$rx")
wait_log "$T/rx.out" '^bound$'
(cd / && CREDENTIALS_DIRECTORY=$T/cred NOTIFY_SOCKET=$T/notify \
    exec python3 "$IT_INTEGRATION/sockhold.py" --seconds $((60 * IT_TMUL)) \
    --port-file "$T/port" --log "$T/events" -- "${cmd[@]}") \
    >"$T/service.log" 2>&1 &
holder=$!
SERVER_PIDS+=("$holder")
wait_log "$T/rx.out" 'READY=1' $((100 * IT_TMUL))
PORT=$(cat "$T/port")
expect_grep "status" "$T/rx.out" \
    "READY=1\|STATUS=serving on 127\.0\.0\.1:$PORT \(sockets from the service manager\)"
expect_grep "credentials" "$T/service.log" \
    "bitstuffd: certificate $T/cred/server\.crt, key $T/cred/server\.key$"
expect_serves "the service as systemd would run it"
kill -TERM "$holder"
wait "$holder" || true
expect_grep "clean stop" "$T/events" '^exited [0-9]+ 0$'
echo "PASS"
