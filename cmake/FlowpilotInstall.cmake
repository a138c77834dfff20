# `cmake --install`: the flowpilot executable to bin/, the built-in plugins to
# lib/flowpilot/plugins/ (where builtin_plugin_dir() looks next to an installed executable), the
# SDK headers to include/flowpilot/, and the CMake package to lib/cmake/Flowpilot/.
# Included at the end of the top-level CMakeLists.txt, once every target exists.
include(CMakePackageConfigHelpers)

# Fixed paths rather than GNUInstallDirs: the executable finds its plugins at ../lib/flowpilot.
set(FLOWPILOT_INSTALL_INCLUDEDIR include)
set(FLOWPILOT_INSTALL_PLUGINDIR lib/flowpilot/plugins)
set(FLOWPILOT_INSTALL_CMAKEDIR lib/cmake/Flowpilot)

# The package records the ABI major it was built with, read from the header itself.
file(STRINGS ${PROJECT_SOURCE_DIR}/plugins/sdk/include/flowpilot/plugin.h abi_line
     REGEX "^#define FP_ABI_MAJOR [0-9]+")
string(REGEX REPLACE "^#define FP_ABI_MAJOR ([0-9]+).*" "\\1" FLOWPILOT_PLUGIN_ABI_MAJOR
       "${abi_line}")

install(TARGETS flowpilot RUNTIME DESTINATION bin)

get_property(flowpilot_builtin_plugins GLOBAL PROPERTY FLOWPILOT_BUILTIN_PLUGINS)
if(flowpilot_builtin_plugins)
  install(TARGETS ${flowpilot_builtin_plugins} LIBRARY DESTINATION ${FLOWPILOT_INSTALL_PLUGINDIR})
endif()

install(FILES
  ${PROJECT_SOURCE_DIR}/plugins/sdk/include/flowpilot/plugin.h
  ${PROJECT_SOURCE_DIR}/plugins/sdk/include/flowpilot/plugin.hpp
  ${PROJECT_SOURCE_DIR}/plugins/sdk/include/flowpilot/money.hpp
  DESTINATION ${FLOWPILOT_INSTALL_INCLUDEDIR}/flowpilot)

install(TARGETS flowpilot_sdk EXPORT FlowpilotTargets)
install(EXPORT FlowpilotTargets NAMESPACE Flowpilot:: DESTINATION ${FLOWPILOT_INSTALL_CMAKEDIR})

configure_package_config_file(
  ${PROJECT_SOURCE_DIR}/cmake/FlowpilotConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/FlowpilotConfig.cmake
  INSTALL_DESTINATION ${FLOWPILOT_INSTALL_CMAKEDIR}
  PATH_VARS FLOWPILOT_INSTALL_INCLUDEDIR FLOWPILOT_INSTALL_PLUGINDIR)
# The package version is the project's; plugins care about the ABI, which the loader checks.
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/cmake/FlowpilotConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMajorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/cmake/FlowpilotConfig.cmake
  ${PROJECT_BINARY_DIR}/cmake/FlowpilotConfigVersion.cmake
  ${PROJECT_SOURCE_DIR}/cmake/FlowpilotPlugin.cmake
  DESTINATION ${FLOWPILOT_INSTALL_CMAKEDIR})
