# Compiles SOURCE with COMPILER and FLAGS (separated by |) and checks the outcome:
#   cmake -DCOMPILER=... -DSOURCE=... -DINCLUDES=a|b -DFLAGS=x|y -DEXPECT=fail|pass [-DMESSAGE=regex] -P expect_compile.cmake
# A ctest PASS_REGULAR_EXPRESSION alone would ignore the exit status, and WILL_FAIL alone would
# accept any error; this checks both: the compile fails, and with the message meant for the user.
string(REPLACE "|" ";" flags "${FLAGS}")
string(REPLACE "|" ";" includes "${INCLUDES}")
set(include_flags)
foreach(dir IN LISTS includes)
  if(dir)
    list(APPEND include_flags "-I${dir}")
  endif()
endforeach()
execute_process(COMMAND ${COMPILER} ${flags} ${include_flags} -fsyntax-only ${SOURCE}
                RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(EXPECT STREQUAL "fail")
  if(result EQUAL 0)
    message(FATAL_ERROR "compiling with ${FLAGS} succeeded, expected an error matching '${MESSAGE}'")
  endif()
  if(NOT out MATCHES "${MESSAGE}")
    message(FATAL_ERROR "compiling with ${FLAGS} failed without the expected message '${MESSAGE}':\n${out}")
  endif()
else()
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "compiling with ${FLAGS} failed:\n${out}")
  endif()
endif()
message(STATUS "expected outcome: ${EXPECT}")
