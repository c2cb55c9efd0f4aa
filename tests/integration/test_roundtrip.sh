#!/usr/bin/env bash
# test_roundtrip.sh - issue 10 item 4: stuff then unstuff gives back the
# exact bytes for 0 bytes, 1 byte, sizes around the 64 KiB chunk and one
# of 100 MB (less under sanitizers and valgrind), through files and through pipes in
# both directions, with the container and with --raw; and README's
# round-trip example, run as written.
. "$(dirname "$0")/it.sh"

start_server server -q --cert "$CERTS/server.crt" --key "$CERTS/server.key"

# 100 MB (10 MB under sanitizers, 2 MB under valgrind, where each run
# of the client is tens of times slower: 340 s with 10 MB)
big=$(($(scaled 10) * 10 * 1000 * 1000))
[ -z "${BS_IT_VALGRIND:-}" ] || big=$((2 * 1000 * 1000))
for size in 0 1 2 65535 65536 65537 200003 "$big"; do
    note "$size bytes"
    head -c "$size" /dev/urandom >"$T/in"
    # file -> file, container
    cli -q --in "$T/in" --out "$T/s" 2>"$T/e" || fail "$size: stuff: $(cat "$T/e")"
    cli -q -u --in "$T/s" --out "$T/b" 2>"$T/e" || fail "$size: unstuff: $(cat "$T/e")"
    cmp "$T/in" "$T/b" || fail "$size: file round trip changed the data"
    # pipe -> pipe -> pipe
    cli -q --in - --out - <"$T/in" 2>"$T/e1" | cli -q -u --in - --out - 2>"$T/e2" >"$T/b2" ||
        fail "$size: pipe round trip: $(cat "$T/e1" "$T/e2")"
    cmp "$T/in" "$T/b2" || fail "$size: pipe round trip changed the data"
    # a container written to a pipe is the one written to a file
    cmp "$T/s" <(cli -q --in "$T/in" 2>/dev/null) ||
        fail "$size: the container on stdout differs from the file"
    # file -> stdout, stdin -> file
    cli -q -u --in - --out "$T/b3" <"$T/s" 2>"$T/e" || fail "$size: unstuff from stdin: $(cat "$T/e")"
    cmp "$T/in" "$T/b3" || fail "$size: stdin -> file changed the data"
    # --raw, the exact length through --in-bits
    cli --raw --in - --out "$T/r" <"$T/in" 2>"$T/e" || fail "$size: --raw: $(cat "$T/e")"
    n=$(sed -n 's/^received \([0-9][0-9]*\) bits$/\1/p' "$T/e")
    cli -q -u --raw --in "$T/r" --in-bits "$n" --out "$T/b4" 2>"$T/e" ||
        fail "$size: --raw back: $(cat "$T/e")"
    cmp "$T/in" "$T/b4" || fail "$size: --raw round trip changed the data"
    [ -z "$(find "$T" -maxdepth 1 -name '.*.bitstuff-*')" ] || fail "$size: temporary file left"
done
rm -f "$T"/in "$T"/s "$T"/b* "$T"/r

note "README's round-trip example, as written"
# its commands run in a directory of their own where build-release/bitstuff is
# the client pointed at this test's server
mkdir -p "$T/ex/build-release"
printf '#!/bin/sh\nexec %s -c 127.0.0.1:%s --ca-file %s "$@"\n' \
    "$CLIENT" "$PORT" "$CERTS/ca.crt" >"$T/ex/build-release/bitstuff"
chmod +x "$T/ex/build-release/bitstuff"
head -c 150000 /dev/urandom >"$T/ex/photo.jpg"
sed -n '/<!-- round-trip example: run by tests/,/^```$/p' "$BS_SOURCE/README.md" |
    sed -n 's/^\$ //p' >"$T/ex/example.sh"
[ "$(wc -l <"$T/ex/example.sh")" -ge 3 ] || fail "README: round-trip example not found"
(cd "$T/ex" && bash -euo pipefail example.sh) >"$T/ex.out" 2>&1 ||
    fail "README's example failed: $(cat "$T/ex.out")"
cmp "$T/ex/photo.jpg" "$T/ex/photo.back" || fail "README's example: not the same bytes"

stop_server_ok "$SERVER_PID"
echo "PASS"
