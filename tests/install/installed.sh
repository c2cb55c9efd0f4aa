# shellcheck shell=bash
# installed.sh - what the install tests (install.sh, deb.sh) share, on top
# of tests/integration/lib.sh: the programs of an install tree run from
# `/`, with certificates made by that tree's bitstuff-gen-certs, answer the
# lab's example.
#
# Environment (set by tests/CMakeLists.txt): BS_BUILD, BS_SOURCE (lib.sh),
# BS_VERSION (the project's version), BS_SANITIZE (1 in a sanitizer
# build: these tests are skipped there, as an application linking the
# library would need the sanitizer runtimes).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"

export LC_ALL=C
trap 'echo "FAIL: $0 line $LINENO: a command failed (status $?)" >&2' ERR
: "${BS_VERSION:?BS_VERSION must name the project version}"
if [ "${BS_SANITIZE:-0}" = 1 ]; then
    echo "SKIP: a sanitizer build is not installed (its programs and" \
        "library need the sanitizer runtimes)"
    exit 77
fi

LAB_IN=0101111110011111001010
LAB_OUT=010111110100111110001010

note() { echo "-- $*"; }

# expect_files ROOT PATH...: each PATH exists under ROOT (file or link).
expect_files() {
    local root=$1 f
    shift
    for f in "$@"; do
        [ -e "$root/$f" ] || [ -L "$root/$f" ] || fail "$f is missing from $root"
    done
}

# check_installed_programs PREFIX: PREFIX's sbin/bitstuffd, bin/bitstuff,
# bin/bitstuff-bench and bin/bitstuff-gen-certs, all started from `/`:
# --version names $BS_VERSION; certificates from bitstuff-gen-certs; the
# server and the client answer the lab's example; the bench checks 200
# requests.
check_installed_programs() {
    local p=$1 prog out certs=$T/installed-certs
    for prog in sbin/bitstuffd bin/bitstuff bin/bitstuff-bench; do
        out=$(cd / && "$p/$prog" --version) ||
            fail "$p/$prog --version failed"
        [[ $out == *" $BS_VERSION"* ]] ||
            fail "$prog --version says '$out', not version $BS_VERSION"
        note "$prog --version: $out"
    done
    (cd / && "$p/bin/bitstuff-gen-certs" --out "$certs" >/dev/null) ||
        fail "the installed bitstuff-gen-certs failed"
    cd /
    # shellcheck disable=SC2034 # start_server (lib.sh) runs $SERVER
    SERVER=$p/sbin/bitstuffd
    start_server installed --cert "$certs/server.crt" \
        --key "$certs/server.key"
    out=$(timeout 60 "$p/bin/bitstuff" -c "127.0.0.1:$PORT" \
        --ca-file "$certs/ca.crt" --timeout 20 "$LAB_IN") ||
        fail "the installed bitstuff failed against the installed bitstuffd"
    expect_eq "the installed client and server, from /" "$out" \
        "sent: $LAB_IN
received: $LAB_OUT"
    note "the lab's example, from /: $(tr '\n' ' ' <<<"$out")"
    timeout 120 "$p/bin/bitstuff-bench" -c "127.0.0.1:$PORT" \
        --ca-file "$certs/ca.crt" -n 2 -r 200 -q >"$T/bench.out" ||
        fail "the installed bitstuff-bench failed: $(cat "$T/bench.out")"
    stop_server "$SERVER_PID" ||
        fail "the installed bitstuffd did not stop cleanly on SIGTERM"
    cd - >/dev/null
}
