#!/usr/bin/env bash
# demo.sh - the main job, end to end: install what is missing, build
# (Release), make certificates if there are none, start bitstuffd on
# localhost, run the client on the lab's example and one unstuff, show
# both sides' displays, stop the server.  Exits non-zero if anything
# failed.  Needs no terminal (CI=true works).
#
#   scripts/demo.sh              everything
#   BS_DEMO_BUILD=DIR            build directory (default build-release)
#   BS_DEMO_BIN=DIR              use bitstuffd and bitstuff already built in
#                                DIR: no installation, no build (the tests)
#   BS_DEMO_CERTS=DIR            certificate directory (default certs), made
#                                there if it has none
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=scripts/deps.sh
. scripts/deps.sh
# shellcheck source=scripts/server-port.sh
. scripts/server-port.sh

build=${BS_DEMO_BUILD:-build-release}
certs=${BS_DEMO_CERTS:-certs}
example=0101111110011111001010
stuffed=010111110100111110001010

work=$(mktemp -d)
server_pid=
cleanup() {
    local rc=$?
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step() { printf '\n== %s\n' "$*"; }
fail() {
    echo "demo: FAILED: $*" >&2
    exit 1
}

if [ -n "${BS_DEMO_BIN:-}" ]; then
    step "using the programs built in $BS_DEMO_BIN"
    server_bin=$BS_DEMO_BIN/bitstuffd
    client_bin=$BS_DEMO_BIN/bitstuff
else
    step "dependencies"
    bs_need_packages "${BS_BUILD_PACKAGES[@]}"
    echo "all installed"

    step "build (Release) in $build"
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
        >/dev/null
    cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" \
        --target bitstuffd bitstuff_client >/dev/null
    server_bin=$build/bitstuffd
    client_bin=$build/bitstuff
fi
[ -x "$server_bin" ] || fail "the build made no $server_bin"
[ -x "$client_bin" ] || fail "the build made no $client_bin"
echo "built $server_bin and $client_bin"

step "certificates"
if [ -f "$certs/ca.crt" ] && [ -f "$certs/server.crt" ] &&
    [ -f "$certs/server.key" ]; then
    if openssl x509 -checkend 60 -noout -in "$certs/server.crt" >/dev/null &&
        openssl x509 -checkend 60 -noout -in "$certs/ca.crt" >/dev/null; then
        echo "using the existing $certs/ (delete it to make new ones)"
    else
        # gen-certs.sh makes short-lived certificates (30 days): a demo
        # run a month later must not fail on them
        echo "the certificates in $certs/ have expired: making new ones"
        scripts/gen-certs.sh --out "$certs" --force
    fi
else
    scripts/gen-certs.sh --out "$certs"
fi

step "start the server on 127.0.0.1, port chosen by the system"
server_log=$work/server.log
"$server_bin" --listen 127.0.0.1:0 --cert "$certs/server.crt" \
    --key "$certs/server.key" </dev/null >"$server_log" 2>&1 &
server_pid=$!
if ! port=$(bs_server_port "$server_log" "$server_pid"); then
    cat "$server_log" >&2
    fail "the server did not start (its output is above)"
fi
echo "bitstuffd (pid $server_pid) listening on 127.0.0.1:$port"

run_client() { # expected-result, client args...
    local want=$1 out rc=0
    shift
    echo "\$ bitstuff -c 127.0.0.1:$port --ca-file $certs/ca.crt $*"
    out=$("$client_bin" -c "127.0.0.1:$port" --ca-file "$certs/ca.crt" \
        "$@" </dev/null) || rc=$?
    if [ "$rc" -ne 0 ]; then
        printf '%s\n' "$out"
        fail "the client exited with status $rc (see bitstuff --help; its error is above)"
    fi
    printf '%s\n' "$out"
    grep -qx "received[^:]*: $want" <<<"$out" ||
        fail "expected 'received: $want'"
}

step "client: the lab's example (stuff)"
run_client "$stuffed" "$example"

step "client: unstuff gives it back"
run_client "$example" -u "$stuffed"

step "stop the server (SIGTERM)"
kill -TERM "$server_pid"
server_rc=0
wait "$server_pid" || server_rc=$?
server_pid=
[ "$server_rc" -eq 0 ] || fail "the server exited with status $server_rc"
echo "the server exited cleanly"

step "the server's display"
cat "$server_log"

step "demo passed"
