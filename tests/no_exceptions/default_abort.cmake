# Runs PROGRAM [ARG] as a child and expects it to abort (not exit) with EXPECT on stderr:
#   cmake -DPROGRAM=... [-DARG=...] -DEXPECT=regex -P default_abort.cmake
execute_process(COMMAND ${PROGRAM} ${ARG} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("exit: ${result}\nstdout: ${out}\nstderr: ${err}")
# A signal is reported as text ("Child aborted", or the signal's name), an exit as a number.
if(result MATCHES "^[0-9]+$")
  message(FATAL_ERROR "the program exited with ${result} instead of aborting")
endif()
if(NOT result MATCHES "[Aa]bort")
  message(FATAL_ERROR "the program died of '${result}', not abort")
endif()
if(NOT err MATCHES "${EXPECT}")
  message(FATAL_ERROR "stderr lacks '${EXPECT}'")
endif()
message("aborted as expected")
