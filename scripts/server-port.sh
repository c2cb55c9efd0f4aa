# shellcheck shell=bash
# server-port.sh - sourced by the scripts and tests that start bitstuffd in
# the background on 127.0.0.1:0 and need the port the system chose, and
# stop it again.
#
#   port=$(bs_server_port LOG PID)
#
# Prints the port of the server's "listening on 127.0.0.1:PORT" line in
# LOG.  Waits at most 10 s; status 1 if the server PID exits first or
# never prints the line (the caller shows LOG and says what failed).
#
#   bs_reap PID [SIGNAL]
#   trap 'bs_cleanup "$pid" "$work" [SIGNAL]' EXIT
#
# bs_reap sends SIGNAL (default TERM) to the background process PID, if
# PID is set, and waits for it; it never fails.  bs_cleanup, for an EXIT
# trap (single-quoted, so that the variables are read at exit), reaps the
# server PID and removes the script's temporary directory DIR.

bs_server_port() {
    local log=$1 pid=$2 port i
    for ((i = 0; i < 200; i++)); do
        # the server may not have written (or the shell created) LOG yet
        port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' \
            "$log" 2>/dev/null | head -1) || port=
        if [ -n "$port" ]; then
            echo "$port"
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

bs_reap() {
    [ -n "$1" ] || return 0
    kill -"${2:-TERM}" "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

bs_cleanup() { # PID DIR [SIGNAL]
    bs_reap "$1" "${3:-TERM}"
    rm -rf "$2"
}
