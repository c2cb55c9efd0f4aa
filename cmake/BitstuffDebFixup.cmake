# BitstuffDebFixup.cmake - run by CPack (CPACK_PRE_BUILD_SCRIPTS) in its
# staging directory, after the install and before the package is made:
# what Debian policy asks of a package's files that `cmake --install`
# does not do.
#   - manual pages compressed with gzip -9n (policy 12.1);
#   - the licence as /usr/share/doc/bitstuff/copyright (policy 12.5).
if(CPACK_GENERATOR STREQUAL "DEB")
  set(bs_root "${CPACK_TEMPORARY_DIRECTORY}${CPACK_PACKAGING_INSTALL_PREFIX}")
  file(GLOB bs_pages "${bs_root}/share/man/man*/*.[1-9]")
  foreach(bs_page IN LISTS bs_pages)
    execute_process(COMMAND gzip -9nf "${bs_page}" RESULT_VARIABLE bs_rc)
    if(NOT bs_rc EQUAL 0)
      message(FATAL_ERROR "gzip -9n ${bs_page} failed (${bs_rc})")
    endif()
  endforeach()
  set(bs_doc "${bs_root}/share/doc/${CPACK_PACKAGE_NAME}")
  if(EXISTS "${bs_doc}/LICENSE")
    file(RENAME "${bs_doc}/LICENSE" "${bs_doc}/copyright")
  endif()
endif()
