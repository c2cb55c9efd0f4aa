#!/usr/bin/env bash
# man_lint.sh MANDOC DIR - every manual page in DIR is clean under
# `mandoc -Tlint` at every level (style included).  The one message left
# out is "referenced manual not found", which depends on the manuals this
# machine has installed, not on the page.
set -euo pipefail
mandoc=${1:?usage: man_lint.sh MANDOC DIR}
dir=${2:?usage: man_lint.sh MANDOC DIR}
pages=("$dir"/*.[1-8])
[ -e "${pages[0]}" ] || { echo "FAIL: no manual pages in $dir" >&2; exit 1; }
rc=0
out=$("$mandoc" -Tlint -W style "${pages[@]}" 2>&1) || rc=$?
# rc 0: clean; 1: only the style messages filtered below may remain
msgs=$(grep -v -e 'STYLE: referenced manual not found' \
    -e 'outdated mandoc.db' <<<"$out" || true)
if [ -n "$msgs" ] || [ "$rc" -gt 1 ]; then
    echo "$msgs" >&2
    echo "FAIL: mandoc -Tlint reports the messages above (status $rc)" >&2
    exit 1
fi
echo "ok - ${#pages[@]} manual pages lint-clean: ${pages[*]##*/}"
