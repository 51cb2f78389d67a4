# Finds xsimd (>= 8.1) for trit's own build. The installed trit-config.cmake finds it with
# find_dependency instead, so that a consumer's find_package(trit QUIET) can fail softly.
find_package(xsimd REQUIRED)
if(xsimd_VERSION VERSION_LESS 8.1)
  message(FATAL_ERROR "trit needs xsimd >= 8.1, found ${xsimd_VERSION}")
endif()
include(${CMAKE_CURRENT_LIST_DIR}/trit-xtl-stand-in.cmake)
