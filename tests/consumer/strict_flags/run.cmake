# Builds main.cpp as a user would, with the user's strictest warnings as errors, then runs it:
#   cmake -DCOMPILER=... -DSOURCE=main.cpp -DINCLUDES=a|b -DFLAGS=x|y -DBINARY=path -P run.cmake
# trit is on -I (not -isystem), so every warning in its headers is the user's error.
string(REPLACE "|" ";" flags "${FLAGS}")
string(REPLACE "|" ";" includes "${INCLUDES}")
set(include_flags)
foreach(dir IN LISTS includes)
  if(dir)
    list(APPEND include_flags "-I${dir}")
  endif()
endforeach()
set(warnings -Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion -Wshadow -Werror)
get_filename_component(dir "${BINARY}" DIRECTORY)
file(MAKE_DIRECTORY "${dir}")
execute_process(COMMAND ${COMPILER} ${flags} -O2 ${warnings} ${include_flags} ${SOURCE} -o ${BINARY} -pthread
                RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "${COMPILER} ${FLAGS} with strict warnings failed:\n${out}")
endif()
execute_process(COMMAND ${BINARY} ${dir} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE out)
message("${out}")
if(NOT result EQUAL 0)
  message(FATAL_ERROR "the strict-flags program failed (${result})")
endif()
