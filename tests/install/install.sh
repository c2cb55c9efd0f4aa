#!/usr/bin/env bash
# install.sh - issue 12's "done when": `cmake --install` into a temporary
# DESTDIR, and from there
#   - the installed programs, started from /, answer the lab's example;
#   - an application (consumer/consumer.c) built from outside the tree,
#     once with pkg-config and once with find_package(bitstuff CONFIG),
#     links libbitstuff and stuffs the lab's example (shared and static);
#   - consumers get no warning flags of ours;
#   - libbitstuff.so exports exactly the BS_API calls of the installed
#     headers, each documented in libbitstuff(3).
# Environment: see installed.sh; BS_CC the C compiler, BS_LIBDIR
# CMAKE_INSTALL_LIBDIR.
# shellcheck source=tests/install/installed.sh
. "$(dirname "$0")/installed.sh"
: "${BS_CC:?BS_CC must name the C compiler}" "${BS_LIBDIR:?BS_LIBDIR}"

here=$BS_SOURCE/tests/install
root=$T/root
prefix=/opt/bitstuff
P=$root$prefix
libdir=$P/$BS_LIBDIR

note "cmake --install --prefix $prefix with DESTDIR=$root"
DESTDIR=$root cmake --install "$BS_BUILD" --prefix "$prefix" \
    >"$T/install.log" || fail "cmake --install failed: $(cat "$T/install.log")"
(cd "$root" && find . \( -type f -o -type l \) | sort)
expect_files "$P" sbin/bitstuffd bin/bitstuff bin/bitstuff-bench \
    bin/bitstuff-gen-certs include/bitstuff/bitstuff.h \
    include/bitstuff/stuff.h include/bitstuff/bs_api.h \
    "$BS_LIBDIR/libbitstuff.so" "$BS_LIBDIR/libbitstuff.so.0" \
    "$BS_LIBDIR/libbitstuff.so.$BS_VERSION" "$BS_LIBDIR/libbitstuff.a" \
    "$BS_LIBDIR/pkgconfig/bitstuff.pc" \
    "$BS_LIBDIR/cmake/bitstuff/bitstuffConfig.cmake" \
    "$BS_LIBDIR/cmake/bitstuff/bitstuffConfigVersion.cmake" \
    "$BS_LIBDIR/cmake/bitstuff/bitstuffTargets.cmake" \
    share/man/man1/bitstuff.1 share/man/man1/bitstuff-bench.1 \
    share/man/man1/bitstuff-gen-certs.1 share/man/man3/libbitstuff.3 \
    share/man/man8/bitstuffd.8 share/bash-completion/completions/bitstuff \
    share/bash-completion/completions/bitstuffd
soname=$(readelf -d "$libdir/libbitstuff.so" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
expect_eq "SONAME" "$soname" libbitstuff.so.0

note "the installed programs, from /"
check_installed_programs "$P"

# needs_shared APP YES|NO: whether APP's dynamic section needs libbitstuff
needs_shared() {
    local got=no
    local dynamic
    dynamic=$(readelf -d "$1")
    grep -q 'NEEDED.*\[libbitstuff\.so\.0\]' <<<"$dynamic" && got=yes
    expect_eq "$(basename "$1") needs libbitstuff.so.0" "$got" "$2"
}
# expect_consumer_output WHAT OUTPUT
expect_consumer_output() {
    expect_eq "$1" "$2" "$LAB_OUT
libbitstuff $BS_VERSION"
}

note "an application built with pkg-config"
pc() {
    PKG_CONFIG_PATH='' PKG_CONFIG_LIBDIR=$libdir/pkgconfig \
        PKG_CONFIG_SYSROOT_DIR=$root pkg-config "$@"
}
flags=$(pc --cflags --libs bitstuff) || fail "pkg-config found no bitstuff"
note "pkg-config --cflags --libs bitstuff: $flags"
expect_eq "pkg-config --cflags" "$(pc --cflags bitstuff | sed 's/ *$//')" \
    "-I$P/include"
expect_eq "pkg-config --modversion" "$(pc --modversion bitstuff)" "$BS_VERSION"
# shellcheck disable=SC2086 # $flags is a list of words
"$BS_CC" -std=c17 -Wall -Wextra -Wpedantic -Werror "$here/consumer/consumer.c" \
    $flags -o "$T/app-pc" || fail "the pkg-config build of consumer.c failed"
needs_shared "$T/app-pc" yes
out=$(cd / && LD_LIBRARY_PATH=$libdir "$T/app-pc")
expect_consumer_output "consumer.c built with pkg-config" "$out"

note "an application built with find_package(bitstuff CONFIG)"
cmake -S "$here/consumer" -B "$T/cm" -DCMAKE_PREFIX_PATH="$P" \
    -DCMAKE_C_COMPILER="$BS_CC" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
    >"$T/cm.log" 2>&1 || fail "configuring the consumer failed: $(cat "$T/cm.log")"
cmake --build "$T/cm" >>"$T/cm.log" 2>&1 ||
    fail "building the consumer failed: $(cat "$T/cm.log")"
needs_shared "$T/cm/app" yes
needs_shared "$T/cm/app_static" no
out=$(cd / && LD_LIBRARY_PATH=$libdir "$T/cm/app")
expect_consumer_output "consumer.c with bitstuff::bitstuff" "$out"
out=$(cd / && "$T/cm/app_static")
expect_consumer_output "consumer.c with bitstuff::bitstuff_static" "$out"

note "no warning flags or definitions of ours reach a consumer"
if grep -E -- '-W[a-z]|_GNU_SOURCE|BS_VERSION|OPENSSL' \
    "$T/cm/compile_commands.json" "$libdir"/cmake/bitstuff/*.cmake; then
    fail "a flag of the bitstuff build leaks to consumers (above)"
fi

note "libbitstuff.so exports exactly the documented API"
nm -D --defined-only "$libdir/libbitstuff.so" | awk '{print $3}' | sort \
    >"$T/exported"
sed -n 's/^BS_API[^(]*[ *]\(bs_[a-z0-9_]*\)(.*/\1/p' "$P"/include/bitstuff/*.h |
    sort >"$T/api"
echo "exported: $(tr '\n' ' ' <"$T/exported")"
[ -s "$T/api" ] || fail "found no BS_API declarations in the installed headers"
diff -u "$T/api" "$T/exported" ||
    fail "libbitstuff.so's exports (+) differ from the BS_API declarations (-)"
while read -r sym; do
    grep -Eq "^\.(Fn|Fo) $sym( |\$)" "$P/share/man/man3/libbitstuff.3" ||
        fail "$sym is exported but not in libbitstuff(3)'s SYNOPSIS"
done <"$T/exported"
echo "PASS"
