// Field paths of a LocatedDocument, shared by the front ends (YAML, later Lua) and the builder.
//
// `locations[path]` is where the value at `path` starts. For a mapping entry the key's own
// position is stored as well, under `path + kKeySuffix`, so that an error about the key itself
// ("unknown key `neeeds`") points at the key while an error about the value ("`5x` is not a
// duration") points at the value.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace flowpilot::engine::detail {

inline constexpr std::string_view kKeySuffix = "#key";

inline std::string child_path(std::string_view parent, std::string_view key) {
  std::string out(parent);
  if (!out.empty()) out += '.';
  out += key;
  return out;
}

inline std::string index_path(std::string_view parent, std::size_t index) {
  std::string out(parent);
  out += '[';
  out += std::to_string(index);
  out += ']';
  return out;
}

inline std::string key_path(std::string_view path) {
  std::string out(path);
  out += kKeySuffix;
  return out;
}

}  // namespace flowpilot::engine::detail
