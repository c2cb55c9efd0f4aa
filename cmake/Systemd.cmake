# Systemd.cmake - bitstuffd's systemd units (contrib/systemd) and the
# configuration directory compiled into the programs.
#
# bitstuffd.service is configured from its .in file so that ExecStart=
# and LoadCredential= name this install's paths; both units install into
# BS_SYSTEMD_UNIT_DIR (relative: under the prefix).  With
# -DCMAKE_INSTALL_PREFIX=/usr that is /usr/lib/systemd/system, and the
# credentials come from /etc/bitstuff (GNUInstallDirs maps /usr's
# sysconfdir to /etc).
include(GNUInstallDirs)
set(BS_SYSTEMD_UNIT_DIR "lib/systemd/system"
  CACHE STRING "Where to install bitstuffd.service and bitstuffd.socket")
# Where bitstuffd is installed (the integrator's install rules decide:
# bin or sbin); ExecStart= points there.
set(BS_BITSTUFFD_INSTALL_DIR "${CMAKE_INSTALL_SBINDIR}"
  CACHE STRING "The directory bitstuffd is installed to, for ExecStart=")
if(IS_ABSOLUTE "${BS_BITSTUFFD_INSTALL_DIR}")
  set(BS_BITSTUFFD_PATH "${BS_BITSTUFFD_INSTALL_DIR}/bitstuffd")
else()
  set(BS_BITSTUFFD_PATH
    "${CMAKE_INSTALL_PREFIX}/${BS_BITSTUFFD_INSTALL_DIR}/bitstuffd")
endif()
if(IS_ABSOLUTE "${BS_SYSTEMD_UNIT_DIR}")
  set(BS_SYSTEMD_UNIT_DIR_FULL "${BS_SYSTEMD_UNIT_DIR}")
else()
  set(BS_SYSTEMD_UNIT_DIR_FULL
    "${CMAKE_INSTALL_PREFIX}/${BS_SYSTEMD_UNIT_DIR}")
endif()
set(BS_SYSCONF_DIR_FULL "${CMAKE_INSTALL_FULL_SYSCONFDIR}")

configure_file(contrib/systemd/bitstuffd.service.in
  ${CMAKE_BINARY_DIR}/contrib/systemd/bitstuffd.service @ONLY)
configure_file(contrib/systemd/bitstuffd.socket
  ${CMAKE_BINARY_DIR}/contrib/systemd/bitstuffd.socket COPYONLY)
install(FILES
  ${CMAKE_BINARY_DIR}/contrib/systemd/bitstuffd.service
  ${CMAKE_BINARY_DIR}/contrib/systemd/bitstuffd.socket
  DESTINATION ${BS_SYSTEMD_UNIT_DIR} COMPONENT systemd)

# The programs' default certificate directory (certpath.h): the
# installed <sysconfdir>/bitstuff.
target_compile_definitions(bitstuff PRIVATE
  BS_SYSCONFDIR="${CMAKE_INSTALL_FULL_SYSCONFDIR}")
