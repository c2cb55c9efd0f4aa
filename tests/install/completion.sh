#!/usr/bin/env bash
# completion.sh SOURCE BUILD - the bash completion
# (contrib/bash-completion/bitstuff, installed for bitstuff and bitstuffd)
# offers every option the manual page of each program documents, and
# nothing the program does not know (its --help or --list-options); it
# completes rule names, verification modes, TLS versions and file names
# where those are due.  Plain bash, without the bash-completion package.
set -euo pipefail
src=${1:?usage: completion.sh SOURCE BUILD}
build=${2:?usage: completion.sh SOURCE BUILD}
T=$(mktemp -d "${TMPDIR:-/tmp}/bitstuff-completion.XXXXXX")
trap 'rm -rf "$T"' EXIT
fails=0
fail() {
    echo "FAIL - $*"
    fails=$((fails + 1))
}

# shellcheck source=contrib/bash-completion/bitstuff
. "$src/contrib/bash-completion/bitstuff"

# offered WORD...: what completing the last WORD offers, one a line
offered() {
    COMP_WORDS=("$@")
    COMP_CWORD=$(($# - 1))
    _bitstuff
    [ ${#COMPREPLY[@]} -eq 0 ] || printf '%s\n' "${COMPREPLY[@]}" | sort -u
}

for spec in bitstuff:1:bitstuff bitstuffd:8:bitstuffd; do
    IFS=: read -r name section file <<<"$spec"
    prog=$build/$file
    page=$src/docs/man/$name.$section
    [[ $(complete -p "$name") == *"-F _bitstuff "* ]] ||
        fail "$name: no completion registered"
    offered "$prog" - >"$T/$name.offered"
    python3 "$src/tests/install/man_options.py" --print-man "$page" \
        >"$T/$name.documented"
    while read -r opt; do
        grep -qxF -- "$opt" "$T/$name.offered" ||
            fail "$name: $opt is in $name($section) but not completed"
    done <"$T/$name.documented"
    known=$("$prog" --help; "$prog" --list-options 2>/dev/null || true)
    while read -r opt; do
        grep -qE -- "(^|[^[:alnum:]-])$opt([^[:alnum:]-]|\$)" <<<"$known" ||
            fail "$name: completes $opt, which $name does not know"
    done <"$T/$name.offered"
    echo "ok - $name: $(wc -l <"$T/$name.offered") options completed," \
        "every one of $name($section) among them"
done

# expect WHAT WANT WORD...: completing WORDs offers exactly WANT
expect() {
    local what=$1 want=$2 got
    shift 2
    got=$(offered "$@" | tr '\n' ' ')
    if [ "${got% }" = "$want" ]; then
        echo "ok - $what: $want"
    else
        fail "$what: got '${got% }', want '$want'"
    fi
}
expect "--rule" "can hdlc usb" "$build/bitstuff" --rule ""
expect "--rule h" "hdlc" "$build/bitstuff" -u --rule h
expect "--verify-client" "none optional require" \
    "$build/bitstuffd" --verify-client ""
expect "--min-tls" "1.2 1.3" "$build/bitstuffd" --min-tls ""
expect "--un" "--unstuff" "$build/bitstuff" --un
mkdir "$T/files" && : >"$T/files/ca.crt"
cd "$T/files"
expect "--ca-file c" "ca.crt" "$build/bitstuff" --ca-file c
expect "bits are not completed" "" "$build/bitstuff" 0101

[ "$fails" -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "PASS"
