# BitstuffInstall.cmake - the installable libbitstuff and what
# `cmake --install` puts where (issue 12).  Included at the end of the top
# CMakeLists.txt, after every program target exists.
#
# Install tree (GNUInstallDirs; <prefix> is CMAKE_INSTALL_PREFIX):
#   sbin/bitstuffd                       the server: a daemon, run by root
#                                        or systemd, so sbin with man
#                                        section 8 (like sshd, nginx)
#   bin/bitstuff, bin/bitstuff-bench     the client and the load generator
#   bin/bitstuff-gen-certs               scripts/gen-certs.sh
#   lib*/libbitstuff.so.0 (SONAME), .so, .a   the stuffing library
#   include/bitstuff/{bitstuff,stuff,bs_api}.h   its public headers
#   lib*/pkgconfig/bitstuff.pc, lib*/cmake/bitstuff/   for consumers
#   share/man/man{1,3,8}/, share/bash-completion/completions/,
#   share/doc/bitstuff/
#
# The programs keep linking the internal static library (target
# `bitstuff`, everything in src/lib); libbitstuff.so and the installed
# libbitstuff.a hold only the public API below, compiled a second time
# with hidden visibility so that only BS_API declarations are exported.

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# The ABI version, the N of libbitstuff.so.N.  Bump it when a release
# breaks the ABI: a public call removed or changed, enum values moved, or
# struct bs_stream resized.  Adding a call does not break it.
set(BS_SOVERSION 0)

set(BS_PUBLIC_HEADERS
  ${PROJECT_SOURCE_DIR}/include/bitstuff/bitstuff.h
  ${PROJECT_SOURCE_DIR}/src/lib/bs_api.h
  ${PROJECT_SOURCE_DIR}/src/lib/stuff.h)

# The public library's code, compiled once for both the shared and the
# static library (position independent, hidden by default).
add_library(bs_public_obj OBJECT
  src/lib/stuff.c
  src/lib/stuff_word.c
  src/lib/version.c)
set_target_properties(bs_public_obj PROPERTIES
  POSITION_INDEPENDENT_CODE ON
  C_VISIBILITY_PRESET hidden
  VISIBILITY_INLINES_HIDDEN ON)
target_include_directories(bs_public_obj PRIVATE
  ${PROJECT_SOURCE_DIR}/src/lib ${PROJECT_SOURCE_DIR}/include/bitstuff)
target_link_libraries(bs_public_obj PRIVATE bs_build)

# What a consumer of either library gets: the headers, nothing else (no
# warning flags, no definitions: bs_build stays inside this build).
function(bs_public_library target type export_name)
  add_library(${target} ${type} $<TARGET_OBJECTS:bs_public_obj>)
  add_library(bitstuff::${export_name} ALIAS ${target})
  set_target_properties(${target} PROPERTIES
    OUTPUT_NAME bitstuff
    EXPORT_NAME ${export_name}
    # build/lib/: apart from the internal build/libbitstuff.a
    LIBRARY_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/lib
    ARCHIVE_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/lib)
  target_include_directories(${target} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/src/lib>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_link_libraries(${target} PRIVATE $<BUILD_INTERFACE:bs_build>)
endfunction()

bs_public_library(bitstuff_shared SHARED bitstuff)
set_target_properties(bitstuff_shared PROPERTIES
  VERSION ${PROJECT_VERSION}
  SOVERSION ${BS_SOVERSION})
if(NOT BS_SANITIZE)
  # every symbol the library needs is resolved now, not in the consumer
  # (the sanitizer runtimes are resolved in the executable, so not there)
  target_link_options(bitstuff_shared PRIVATE LINKER:--no-undefined)
endif()
bs_public_library(bitstuff_static STATIC bitstuff_static)

# --- programs, the certificate script, headers, libraries
install(TARGETS bitstuffd RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})
install(TARGETS bitstuff_client bitstuff-bench
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(PROGRAMS scripts/gen-certs.sh
  DESTINATION ${CMAKE_INSTALL_BINDIR} RENAME bitstuff-gen-certs)
install(TARGETS bitstuff_shared bitstuff_static EXPORT bitstuffTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${BS_PUBLIC_HEADERS}
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/bitstuff)

# --- consumers: pkg-config and the CMake package bitstuff::bitstuff
# (bitstuff::bitstuff_static for the static library).  The .pc file holds
# absolute paths, so its prefix is written when installing: the prefix of
# `cmake --install --prefix P` or of the package (PKG_CONFIG_SYSROOT_DIR
# relocates them under a DESTDIR); the CMake files find the prefix
# relative to themselves.
foreach(dir LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${dir}}")
    set(BS_PC_${dir} "${CMAKE_INSTALL_${dir}}")
  else()
    set(BS_PC_${dir} "\${prefix}/${CMAKE_INSTALL_${dir}}")
  endif()
endforeach()
set(BS_PC_PREFIX "@BS_PC_PREFIX@") # kept for the install step
configure_file(cmake/bitstuff.pc.in ${PROJECT_BINARY_DIR}/bitstuff.pc.in
  @ONLY)
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(BS_PC_DIR "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
else()
  set(BS_PC_DIR "\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig")
endif()
# Written straight into the install tree (no shared file in the build
# tree: two installs with different prefixes may run at once).
install(CODE "
  set(BS_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
  set(bs_pc \"\$ENV{DESTDIR}${BS_PC_DIR}/bitstuff.pc\")
  message(STATUS \"Installing: \${bs_pc}\")
  configure_file(\"${PROJECT_BINARY_DIR}/bitstuff.pc.in\" \"\${bs_pc}\" @ONLY)
  list(APPEND CMAKE_INSTALL_MANIFEST_FILES \"\${bs_pc}\")")

set(BS_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/bitstuff)
install(EXPORT bitstuffTargets NAMESPACE bitstuff::
  DESTINATION ${BS_CMAKE_DIR})
configure_package_config_file(cmake/bitstuffConfig.cmake.in
  ${PROJECT_BINARY_DIR}/bitstuffConfig.cmake
  INSTALL_DESTINATION ${BS_CMAKE_DIR})
# 0.x: a minor release may break the API, so only the same MAJOR.MINOR
# is compatible until 1.0; then the same major version.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(BS_COMPAT SameMinorVersion)
else()
  set(BS_COMPAT SameMajorVersion)
endif()
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/bitstuffConfigVersion.cmake
  COMPATIBILITY ${BS_COMPAT})
install(FILES ${PROJECT_BINARY_DIR}/bitstuffConfig.cmake
  ${PROJECT_BINARY_DIR}/bitstuffConfigVersion.cmake
  DESTINATION ${BS_CMAKE_DIR})

# --- manual pages (docs/man, mdoc) and bash completion
install(FILES docs/man/bitstuff.1 docs/man/bitstuff-bench.1
  docs/man/bitstuff-gen-certs.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES docs/man/libbitstuff.3 DESTINATION ${CMAKE_INSTALL_MANDIR}/man3)
install(FILES docs/man/bitstuffd.8 DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
# bash-completion loads completions/NAME when NAME is first completed;
# one script serves both programs.
set(BS_BASH_COMPLETION_DIR
  ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
  CACHE STRING "Where to install the bash completion scripts")
foreach(prog bitstuff bitstuffd)
  install(FILES contrib/bash-completion/bitstuff
    DESTINATION ${BS_BASH_COMPLETION_DIR} RENAME ${prog})
endforeach()
# Every guide under docs/ (protocol, container, deployment, upgrades, the
# lab), and the HAProxy and Kubernetes examples DEPLOY.md explains.
file(GLOB BS_DOC_GUIDES ${PROJECT_SOURCE_DIR}/docs/*.md)
install(FILES README.md SECURITY.md LICENSE ${BS_DOC_GUIDES}
  DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY contrib/haproxy contrib/k8s
  DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
