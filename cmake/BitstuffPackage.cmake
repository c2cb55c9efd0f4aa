# BitstuffPackage.cmake - the Debian package: `cpack -G DEB` in the build
# directory makes bitstuff_<version>_<arch>.deb from the install tree of
# cmake/BitstuffInstall.cmake with the prefix /usr (tests/install/deb.sh
# checks it).  One package holds the programs, the library and its
# headers, the manual pages and the bash completion.

set(CPACK_PACKAGE_NAME bitstuff)
set(CPACK_PACKAGE_VENDOR "The bitstuff authors")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "HDLC bit stuffing over TLS: server, client and library")
set(CPACK_PACKAGE_DESCRIPTION
  "bitstuffd is an event-driven TLS 1.3 server that bit-stuffs (HDLC, USB or
CAN rule) the messages clients send, over the documented protocol
bitstuff/1; bitstuff is its client, for bit strings and for files of any
size; bitstuff-bench a verifying load generator; bitstuff-gen-certs makes a
local CA and certificates for testing. libbitstuff is the stuffing library
they use: packed bits and text, one-shot and streaming.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# Set the maintainer of a published package:
# -DBS_DEB_MAINTAINER="Name <address>".
set(BS_DEB_MAINTAINER "The bitstuff authors <bitstuff@localhost>"
  CACHE STRING "The Maintainer field of the Debian package")
set(CPACK_PACKAGE_CONTACT "${BS_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${BS_DEB_MAINTAINER}")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The dependencies from the binaries themselves (dpkg-shlibdeps, offline:
# it reads the installed packages' shlibs files); bash for the certificate
# script, openssl for the commands it runs.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "bash, openssl")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "bash-completion, tshark")
# ldconfig after installing libbitstuff.so.N (a triggers file)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
# gzip the manual pages, the licence as copyright (Debian policy)
set(CPACK_PRE_BUILD_SCRIPTS ${PROJECT_SOURCE_DIR}/cmake/BitstuffDebFixup.cmake)
set(CPACK_GENERATOR DEB)
set(CPACK_SOURCE_IGNORE_FILES "/build[^/]*/" "/\\\\.git/")
include(CPack)
