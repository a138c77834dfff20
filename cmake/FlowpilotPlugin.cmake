# flowpilot_add_plugin: builds a Flowpilot plugin as a loadable module.
#
#   flowpilot_add_plugin(<target> SOURCES <file>... [LANGUAGE CXX|C] [OUTPUT_NAME <name>]
#                        [OUTPUT_DIRECTORY <dir>] [LINK_LIBRARIES <lib>...] [INSTALL])
#
# Creates the MODULE library target <target> producing `<name>.so` (no `lib` prefix), because the
# loader takes every `*.so` directly inside a plugin directory. Defaults:
#   OUTPUT_NAME       <target>; name the file after the plugin.
#   LANGUAGE          CXX: C++20, links Boost::json for flowpilot/plugin.hpp. C: C11, plugin.h
#                     only, no C++ runtime.
#   OUTPUT_DIRECTORY  ${FLOWPILOT_PLUGIN_OUTPUT_DIRECTORY} when set, else the current binary dir.
#   INSTALL           off; when given, installs the module to lib/flowpilot/plugins.
# Symbols are hidden except the entry point (FP_EXPORT), and undefined symbols are link errors:
# a plugin reaches the host only through the fp_host_api table, never by linking against it.
#
# Shared by the Flowpilot build (plugins/CMakeLists.txt) and the installed CMake package
# (find_package(Flowpilot)); it uses the target Flowpilot::sdk, which both define.
include_guard(GLOBAL)

function(flowpilot_add_plugin name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "INSTALL" "LANGUAGE;OUTPUT_NAME;OUTPUT_DIRECTORY"
                        "SOURCES;LINK_LIBRARIES")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "flowpilot_add_plugin(${name}): unknown arguments ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT arg_SOURCES)
    message(FATAL_ERROR "flowpilot_add_plugin(${name}): SOURCES is required")
  endif()
  if(NOT arg_OUTPUT_NAME)
    set(arg_OUTPUT_NAME ${name})
  endif()
  if(NOT arg_OUTPUT_NAME MATCHES "^[a-z][a-z0-9_]*$")
    message(FATAL_ERROR "flowpilot_add_plugin(${name}): the file name must match [a-z][a-z0-9_]*")
  endif()
  if(NOT arg_LANGUAGE)
    set(arg_LANGUAGE CXX)
  endif()
  if(NOT arg_LANGUAGE MATCHES "^(CXX|C)$")
    message(FATAL_ERROR "flowpilot_add_plugin(${name}): LANGUAGE must be CXX or C")
  endif()
  if(NOT TARGET Flowpilot::sdk)
    message(FATAL_ERROR "flowpilot_add_plugin(${name}): Flowpilot::sdk is not defined; "
                        "call find_package(Flowpilot) first")
  endif()

  add_library(${name} MODULE ${arg_SOURCES})
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    OUTPUT_NAME ${arg_OUTPUT_NAME}
    SUFFIX ".so"
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    POSITION_INDEPENDENT_CODE ON)
  target_link_libraries(${name} PRIVATE Flowpilot::sdk ${arg_LINK_LIBRARIES})
  if(NOT APPLE)
    target_link_options(${name} PRIVATE LINKER:--no-undefined)
  endif()

  if(arg_LANGUAGE STREQUAL "CXX")
    set_target_properties(${name} PROPERTIES CXX_STANDARD 20 CXX_STANDARD_REQUIRED ON
                          CXX_EXTENSIONS OFF)
    if(NOT TARGET Boost::json)
      find_package(Boost 1.81 REQUIRED COMPONENTS json)
    endif()
    target_link_libraries(${name} PRIVATE Boost::json)
  else()
    # A C plugin must not pull in the C++ runtime: compile every source as C.
    set_source_files_properties(${arg_SOURCES} TARGET_DIRECTORY ${name} PROPERTIES LANGUAGE C)
    set_target_properties(${name} PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON
                          C_EXTENSIONS OFF LINKER_LANGUAGE C)
  endif()

  # Inside the Flowpilot build the project's warning set (and -Werror in CI) applies.
  if(TARGET flowpilot_warnings)
    target_link_libraries(${name} PRIVATE flowpilot_warnings)
  else()
    target_compile_options(${name} PRIVATE -Wall -Wextra -Wpedantic)
  endif()

  set(output_dir "${arg_OUTPUT_DIRECTORY}")
  if(NOT output_dir AND DEFINED FLOWPILOT_PLUGIN_OUTPUT_DIRECTORY)
    set(output_dir "${FLOWPILOT_PLUGIN_OUTPUT_DIRECTORY}")
  endif()
  if(output_dir)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${output_dir}")
  endif()

  if(arg_INSTALL)
    install(TARGETS ${name} LIBRARY DESTINATION lib/flowpilot/plugins)
  endif()
endfunction()
