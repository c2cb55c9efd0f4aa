#!/usr/bin/env bash
# test_listen_fail.sh - issue 9.10: a worker that cannot watch a listening
# socket (epoll_ctl fails) must not run on silently accepting nothing.
# At start-up the server refuses to start and says why; when accepting
# resumes after a pause (out of descriptors) it logs the failure and
# retries.  An LD_PRELOAD shim (tests/shim/epoll_fail.c) makes the
# epoll_ctl calls that arm listening sockets fail.
. "$(dirname "$0")/it.sh"

SHIM=$BS_BUILD/tests/libbs_epoll_fail.so
[ -f "$SHIM" ] || fail "no shim at $SHIM"
# an ASan server must accept a preloaded library ahead of its runtime
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0

note "start-up: the first listening socket cannot be watched"
rc=0
BS_SHIM_EPOLL_ALLOW=0 LD_PRELOAD=$SHIM timeout 20 "$SERVER" \
    -l 127.0.0.1:0 -q --threads 2 --cert "$CERTS/server.crt" \
    --key "$CERTS/server.key" >"$T/start.log" 2>&1 || rc=$?
cat "$T/start.log"
[ "$rc" -ne 124 ] || fail "the server ran on without watching its socket"
[ "$rc" -eq 1 ] || fail "exit status $rc, want 1"
expect_grep "start-up message" "$T/start.log" \
    '^bitstuffd: cannot watch the listening socket on 127\.0\.0\.1:[0-9]+ for new connections \(epoll_ctl: Cannot allocate memory\)$'

note "the second worker of two cannot: also refused"
rc=0
BS_SHIM_EPOLL_ALLOW=1 LD_PRELOAD=$SHIM timeout 20 "$SERVER" \
    -l 127.0.0.1:0 -q --threads 2 --cert "$CERTS/server.crt" \
    --key "$CERTS/server.key" >"$T/start2.log" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "exit status $rc with one worker unarmed, want 1"
expect_grep "second worker" "$T/start2.log" 'cannot watch the listening socket'

note "resuming after a pause for descriptors fails: logged, retried"
IT_FD_LIMIT=32 BS_SHIM_EPOLL_ALLOW=1 LD_PRELOAD=$SHIM start_server fds \
    -q --threads 1 --cert "$CERTS/server.crt" --key "$CERTS/server.key"
python3 - "$PORT" <<'PY' &
import socket, sys, time
socks = []
for _ in range(60):
    try:
        socks.append(socket.create_connection(("127.0.0.1", int(sys.argv[1])),
                                              timeout=5))
    except OSError:
        break
time.sleep(8)
PY
hold_pid=$!
SERVER_PIDS+=("$hold_pid")
wait_log "$T/fds.log" 'accept: Too many open files; pausing'
wait_log "$T/fds.log" \
    'cannot watch the listening socket on 127\.0\.0\.1:[0-9]+ for new connections \(epoll_ctl: Cannot allocate memory\); this worker accepts nothing until it can'
kill "$SERVER_PID" 2>/dev/null || true
echo "PASS"
