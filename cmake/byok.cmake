# byok_module(<name> DEPS ...): library byok_<name> from src/<name>/*.cc (recursively).
# Public headers are included as "<name>/<header>.h" relative to src/.
function(byok_module name)
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/${name}/*.cc)
  if(NOT srcs)
    # Header-only so far (a module being written): an interface library.
    add_library(byok_${name} INTERFACE)
    target_include_directories(byok_${name} INTERFACE ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(byok_${name} INTERFACE ${ARG_DEPS})
    return()
  endif()
  add_library(byok_${name} STATIC ${srcs})
  target_include_directories(byok_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(byok_${name} PUBLIC ${ARG_DEPS})
endfunction()

# byok_module_tests(<name>): one gtest binary <name>_test from tests/<name>/*_test.cc and any
# tests/<name>/*_helpers.cc, linked against byok_<name>; each test is registered with ctest.
function(byok_module_tests name)
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/${name}/*_test.cc
       ${PROJECT_SOURCE_DIR}/tests/${name}/*_helpers.cc)
  if(NOT srcs)
    return()
  endif()
  add_executable(${name}_test ${srcs})
  target_include_directories(${name}_test PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  target_link_libraries(${name}_test PRIVATE byok_${name} GTest::gtest GTest::gmock
                        GTest::gtest_main)
  target_compile_definitions(${name}_test PRIVATE
    BYOK_SOURCE_DIR="${PROJECT_SOURCE_DIR}" BYOK_BINARY_DIR="${PROJECT_BINARY_DIR}")
  gtest_discover_tests(${name}_test DISCOVERY_TIMEOUT 60
    PROPERTIES ENVIRONMENT "BYOK_BINARY_DIR=${PROJECT_BINARY_DIR}")
endfunction()
