# Debian 12's xsimd 8.1 export names a target `xtl` in its link interface without loading it;
# trit uses nothing of xtl, so when no xtl package is installed an empty stand-in target keeps
# the link line clean. Included after xsimd has been found, by the build and by trit-config.
get_target_property(_trit_xsimd_links xsimd INTERFACE_LINK_LIBRARIES)
if(_trit_xsimd_links AND "xtl" IN_LIST _trit_xsimd_links AND NOT TARGET xtl)
  find_package(xtl QUIET)
  if(NOT TARGET xtl)
    add_library(xtl INTERFACE IMPORTED GLOBAL)
  endif()
endif()
unset(_trit_xsimd_links)
