#!/usr/bin/env bash
# deb.sh - the Debian package (issue 12): `cpack -G DEB` from the build
# tree, into the test's temporary directory; its control fields
# (dpkg-deb -I, -f) and contents (dpkg-deb -c) are checked; extracted to a
# temporary root (dpkg-deb -x), its programs run from / and answer the
# lab's example.  Nothing is installed on the system.
# Environment: see installed.sh.
# shellcheck source=tests/install/installed.sh
. "$(dirname "$0")/installed.sh"

note "cpack -G DEB"
cpack --config "$BS_BUILD/CPackConfig.cmake" -G DEB -B "$T/pkg" \
    >"$T/cpack.log" 2>&1 || fail "cpack failed: $(tail -30 "$T/cpack.log")"
debs=("$T"/pkg/*.deb)
if [ ${#debs[@]} -ne 1 ] || [ ! -f "${debs[0]}" ]; then
    fail "cpack made ${#debs[@]} packages, not one: ${debs[*]}"
fi
deb=${debs[0]}
arch=$(dpkg --print-architecture)
expect_eq "package file name" "$(basename "$deb")" \
    "bitstuff_${BS_VERSION}_$arch.deb"

note "dpkg-deb -I"
dpkg-deb -I "$deb"
field() { dpkg-deb -f "$deb" "$1"; }
expect_eq "Package" "$(field Package)" bitstuff
expect_eq "Version" "$(field Version)" "$BS_VERSION"
expect_eq "Architecture" "$(field Architecture)" "$arch"
[[ $(field Maintainer) =~ ^[^\<]+\ \<[^@\>]+@[^\>]+\>$ ]] ||
    fail "Maintainer '$(field Maintainer)' is not 'Name <address>'"
[[ $(field Description) == *"bit stuffing"* ]] ||
    fail "Description '$(field Description)' does not say what it is"
depends=$(field Depends)
for dep in 'libc6 (>= ' 'libssl3 (>= 3' openssl bash; do
    [[ $depends == *"$dep"* ]] || fail "Depends '$depends' lacks '$dep'"
done
# (grep reads a variable: grep -q ending a pipe early would break it
# under pipefail)
control=$(dpkg-deb --ctrl-tarfile "$deb" | tar -t)
grep -qx './shlibs' <<<"$control" || fail "no shlibs file for libbitstuff.so.0"

note "dpkg-deb -c"
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./||' | sort >"$T/contents"
cat "$T/contents"
libdir=$(sed -n 's|^\(usr/lib.*\)/libbitstuff\.so\.0$|\1|p' "$T/contents")
[ -n "$libdir" ] || fail "no libbitstuff.so.0 under usr/lib in the package"
for f in usr/sbin/bitstuffd usr/bin/bitstuff usr/bin/bitstuff-bench \
    usr/bin/bitstuff-gen-certs "$libdir/libbitstuff.so.$BS_VERSION" \
    "$libdir/libbitstuff.so" "$libdir/libbitstuff.a" \
    "$libdir/pkgconfig/bitstuff.pc" \
    "$libdir/cmake/bitstuff/bitstuffConfig.cmake" \
    usr/include/bitstuff/bitstuff.h usr/include/bitstuff/stuff.h \
    usr/share/man/man8/bitstuffd.8.gz usr/share/man/man1/bitstuff.1.gz \
    usr/share/man/man1/bitstuff-bench.1.gz \
    usr/share/man/man1/bitstuff-gen-certs.1.gz \
    usr/share/man/man3/libbitstuff.3.gz \
    usr/share/doc/bitstuff/copyright \
    usr/share/bash-completion/completions/bitstuff \
    usr/share/bash-completion/completions/bitstuffd; do
    grep -qxF "$f" "$T/contents" || fail "$f is not in the package"
done
if grep -Ev '^usr/?$|^usr/(bin|sbin|lib|include|share)(/|$)' \
    "$T/contents"; then
    fail "the package installs outside /usr/{bin,sbin,lib,include,share}"
fi

note "dpkg-deb -x to a temporary root"
dpkg-deb -x "$deb" "$T/x"
grep -qx 'prefix=/usr' "$T/x/$libdir/pkgconfig/bitstuff.pc" ||
    fail "bitstuff.pc in the package does not say prefix=/usr"
for page in "$T"/x/usr/share/man/man*/*.gz; do
    gzip -t "$page" || fail "$page is not a valid gzip file"
done
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./md5sums >"$T/md5sums"
(cd "$T/x" && md5sum -c --quiet "$T/md5sums") ||
    fail "the package's md5sums do not match its files"
check_installed_programs "$T/x/usr"
echo "PASS"
