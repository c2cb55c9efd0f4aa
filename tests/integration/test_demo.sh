#!/usr/bin/env bash
# test_demo.sh - scripts/demo.sh, the README's main job, runs end to end
# (exit 0, the client's sent:/received: lines and the server's display)
# with the binaries of this build and certificates in a temp directory:
# the developer's certs/ is left exactly as it was.
. "$(dirname "$0")/it.sh"

snapshot() { (cd "$BS_SOURCE" && find certs -type f -printf '%p %s %T@\n' | sort); }
before=$(snapshot)

for run in new existing; do
    note "demo.sh with $run certificates"
    rc_of rc env BS_DEMO_BIN="$BS_BUILD" BS_DEMO_CERTS="$T/democerts" \
        CI=true timeout 60 bash "$BS_SOURCE/scripts/demo.sh" \
        </dev/null >"$T/demo-$run.out" 2>&1
    [ "$rc" -eq 0 ] || { cat "$T/demo-$run.out"; fail "demo.sh exit $rc"; }
    out=$T/demo-$run.out
    expect_grep "client display (stuff)" "$out" '^sent: 0101111110011111001010$'
    expect_grep "client display (stuff)" "$out" '^received: 010111110100111110001010$'
    expect_grep "client display (unstuff)" "$out" \
        '^received \(unstuff hdlc\): 0101111110011111001010$'
    expect_grep "server display" "$out" \
        '^\[127\.0\.0\.1:[0-9]+\] stuff hdlc sent 24 bits: 010111110100111110001010$'
    expect_grep "server display" "$out" \
        '^\[127\.0\.0\.1:[0-9]+\] unstuff hdlc sent 22 bits: 0101111110011111001010$'
    expect_grep "clean stop" "$out" 'the server exited cleanly'
done
expect_grep "certificates made the first time" "$T/demo-new.out" 'Made in .*democerts'
expect_grep "and reused the second" "$T/demo-existing.out" 'using the existing .*democerts'
expect_eq "the developer's certs/ after the demo" "$(snapshot)" "$before"
echo "PASS"
