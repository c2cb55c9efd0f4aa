#!/usr/bin/env bash
# test_logstall.sh - issue 9.3: logging never blocks a worker.  The server
# runs with stdout and stderr on pipes nobody reads (logstall.py holds
# them): with the display on, one client's 20,000 requests; with -q, 1,000
# plaintext connections, one error line each.  Each time a real client
# must still be answered, the server must stop on SIGTERM, and the lines
# that did not fit are counted (dropped display lines, rate-limited
# per-connection lines).  Before the fix both stalled every worker.
. "$(dirname "$0")/it.sh"

args=(--server "$SERVER" --bench "$BENCH" --certs "$CERTS")
# Not scaled down in slow builds: the display must overflow the server's
# buffer (1 MiB) and the pipe (64 KiB) for lines to be dropped; 8,000
# requests (about 1.5 MB of display) do under valgrind.
requests=20000
[ -z "${BS_IT_VALGRIND:-}" ] || requests=8000
note "display on, stdout unread"
timeout 300 python3 "$IT_INTEGRATION/logstall.py" display "${args[@]}" \
    --requests "$requests" ||
    fail "a stalled stdout stalled the server"
note "-q, 1,000 plaintext connections, stderr unread"
timeout 300 python3 "$IT_INTEGRATION/logstall.py" junk "${args[@]}" \
    --junk 1000 || fail "a stalled stderr stalled the server"
note "-q, stderr full from the start, then SIGTERM"
timeout 120 python3 "$IT_INTEGRATION/logstall.py" stderr-full "${args[@]}" ||
    fail "a full stderr kept the server from stopping"
echo "PASS"
