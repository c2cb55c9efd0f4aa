#!/usr/bin/env bash
# no_cmocka.sh SOURCE - configuring without cmocka (issue 12): with
# -DBUILD_TESTING=OFF it works; with the tests on it stops with a message
# that says what to install and how to build without the tests.  cmocka
# is hidden from pkg-config by an empty search path; nothing is built.
set -euo pipefail
src=${1:?usage: no_cmocka.sh SOURCE}
T=$(mktemp -d "${TMPDIR:-/tmp}/bitstuff-nocmocka.XXXXXX")
trap 'rm -rf "$T"' EXIT
export PKG_CONFIG_LIBDIR=$T/empty PKG_CONFIG_PATH=
mkdir "$T/empty"

if ! cmake -S "$src" -B "$T/off" -DBUILD_TESTING=OFF >"$T/off.log" 2>&1; then
    cat "$T/off.log" >&2
    echo "FAIL: configuring with -DBUILD_TESTING=OFF needs cmocka" >&2
    exit 1
fi
echo "ok - configured without cmocka, -DBUILD_TESTING=OFF"

if cmake -S "$src" -B "$T/on" -DBUILD_TESTING=ON >"$T/on.log" 2>&1; then
    echo "FAIL: configuring with the tests on succeeded without cmocka" >&2
    exit 1
fi
log=$(tr -s ' \n' ' ' <"$T/on.log")
for want in 'cmocka, needed by the tests, was not found' libcmocka-dev \
    -DBUILD_TESTING=OFF; do
    if ! grep -qF -- "$want" <<<"$log"; then
        cat "$T/on.log" >&2
        echo "FAIL: the error without cmocka does not say '$want'" >&2
        exit 1
    fi
done
echo "ok - with the tests on, the error names cmocka, libcmocka-dev and" \
    "-DBUILD_TESTING=OFF"
