# Writes a C++ source that holds the built web UI (every file under UI_DIST) and the page paths of
# web/ui/routes.json, for web/ui_bundle.h. Run as a script:
#   cmake -DUI_DIST=<dir or empty> -DUI_ROUTES=<routes.json> -DOUTPUT=<file.cpp> -P EmbedUi.cmake
# With an empty UI_DIST (FLOWPILOT_BUILD_UI=OFF) the bundle holds no files, and the server answers
# the pages with a short note instead.
cmake_minimum_required(VERSION 3.20)

file(READ "${UI_ROUTES}" routes_json)
string(JSON page_count LENGTH "${routes_json}" pages)
set(pages_cpp "")
math(EXPR last_page "${page_count} - 1")
foreach(i RANGE ${last_page})
  string(JSON page GET "${routes_json}" pages ${i})
  string(APPEND pages_cpp "    \"${page}\",\n")
endforeach()

# CMake's regular expressions have no {n}: spell out the 48 escapes of one line.
string(REPEAT "\\\\x[0-9a-f][0-9a-f]" 48 line_of_escapes)
set(files_cpp "")
set(data_cpp "")
set(index 0)
if(UI_DIST)
  file(GLOB_RECURSE ui_files RELATIVE "${UI_DIST}" "${UI_DIST}/*")
  list(SORT ui_files)
  foreach(relative IN LISTS ui_files)
    file(READ "${UI_DIST}/${relative}" hex HEX)
    string(LENGTH "${hex}" hex_length)
    math(EXPR size "${hex_length} / 2")
    # Every byte as an escape, 48 to a line: adjacent literals join, and an escape can never run
    # into a following hex digit because every character is escaped.
    string(REGEX REPLACE "([0-9a-f][0-9a-f])" "\\\\x\\1" escaped "${hex}")
    string(REGEX REPLACE "(${line_of_escapes})" "\\1\"\n    \"" escaped "${escaped}")
    string(APPEND data_cpp "constexpr char kFile${index}[] =\n    \"${escaped}\";\n")
    string(APPEND files_cpp "    {\"/${relative}\", std::string_view(kFile${index}, ${size})},\n")
    math(EXPR index "${index} + 1")
  endforeach()
endif()

set(content "// Built from web/ui by cmake/EmbedUi.cmake; do not edit.
#include \"web/ui_bundle.h\"

namespace flowpilot::web {
namespace {

${data_cpp}
constexpr UiFile kFiles[] = {
${files_cpp}    {\"\", {}},
};
constexpr std::string_view kPages[] = {
${pages_cpp}};

}  // namespace

std::span<const UiFile> ui_files() { return {kFiles, ${index}}; }
std::span<const std::string_view> ui_pages() { return kPages; }

}  // namespace flowpilot::web
")
# Rewritten only when it changes, so an unchanged UI does not recompile the server.
file(WRITE "${OUTPUT}.tmp" "${content}")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
