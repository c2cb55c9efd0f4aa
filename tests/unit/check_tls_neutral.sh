#!/usr/bin/env bash
# Issue 11 item 5: the TLS module's sentences name no program option and no
# script; each program adds its own advice (tls.h: bs_tls_advice_fn).  Every
# string literal of src/lib/tls.c, comments stripped, is checked: no "--x"
# (an option; PEM banners such as -----BEGIN are facts) and no gen-certs.
# Usage: check_tls_neutral.sh SRC/lib/tls.c
set -euo pipefail
src=${1:?usage: check_tls_neutral.sh path/to/tls.c}
[ -r "$src" ] || { echo "cannot read $src" >&2; exit 2; }
# -fpreprocessed strips comments without expanding includes or macros.
text=$(gcc -fpreprocessed -dD -E -P "$src")
[ -n "$text" ] || { echo "no text from $src" >&2; exit 2; }
bad=$(printf '%s\n' "$text" | grep -nE '"[^"]*(--+[a-z]|gen-certs)' || true)
if [ -n "$bad" ]; then
    printf 'tls.c strings that name a program option or script:\n%s\n' "$bad" >&2
    exit 1
fi
echo "tls.c: no option or script named in its strings"
