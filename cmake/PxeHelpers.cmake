# Small helpers so every target gets the same warnings, sanitizers and layout.

# Designated initializers that leave fields at their named defaults are how
# configs are written here, so -Wmissing-field-initializers is off.
set(PXE_WARNINGS -Wall -Wextra -Wvla -Wshadow -Wnon-virtual-dtor
  -Wimplicit-fallthrough -Wno-missing-field-initializers)

set(PXE_SANITIZER_FLAGS "")
if(PXE_SANITIZE)
  set(PXE_SANITIZER_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=all
                          -fno-omit-frame-pointer)
endif()

function(_pxe_common target)
  target_compile_options(${target} PRIVATE ${PXE_WARNINGS} ${PXE_SANITIZER_FLAGS})
  target_link_options(${target} PRIVATE ${PXE_SANITIZER_FLAGS})
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR})
endfunction()

# pxe_library(NAME name SRCS ... DEPS ...): static library with alias pxe::name.
function(pxe_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  add_library(pxe_${ARG_NAME} STATIC ${ARG_SRCS})
  add_library(pxe::${ARG_NAME} ALIAS pxe_${ARG_NAME})
  _pxe_common(pxe_${ARG_NAME})
  target_compile_options(pxe_${ARG_NAME} INTERFACE ${PXE_SANITIZER_FLAGS})
  target_link_options(pxe_${ARG_NAME} INTERFACE ${PXE_SANITIZER_FLAGS})
  target_link_libraries(pxe_${ARG_NAME} PUBLIC ${ARG_DEPS})
endfunction()

# pxe_executable(NAME name SRCS ... DEPS ...)
function(pxe_executable)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  _pxe_common(${ARG_NAME})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS})
endfunction()

# pxe_test(NAME name SRCS ... DEPS ... [LABELS ...] [TIMEOUT seconds]
#          [SERIAL]): a GoogleTest binary whose tests are registered with
# ctest one by one. SERIAL: each runs alone (RUN_SERIAL), for tests whose
# load or timing figures need the CPUs to themselves.
function(pxe_test)
  cmake_parse_arguments(ARG "SERIAL" "NAME;TIMEOUT" "SRCS;DEPS;LABELS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  set(serial FALSE)
  if(ARG_SERIAL)
    set(serial TRUE)
  endif()
  pxe_executable(NAME ${ARG_NAME} SRCS ${ARG_SRCS}
                 DEPS ${ARG_DEPS} GTest::gmock GTest::gtest GTest::gtest_main)
  gtest_discover_tests(${ARG_NAME}
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT}
               RUN_SERIAL ${serial}
    DISCOVERY_TIMEOUT 60)
endfunction()

# pxe_benchmark(NAME name SRCS ... DEPS ...)
function(pxe_benchmark)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  pxe_executable(NAME ${ARG_NAME} SRCS ${ARG_SRCS} DEPS ${ARG_DEPS} benchmark::benchmark)
endfunction()
