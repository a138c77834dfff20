// The YAML front end: text → LocatedDocument, with the caps of LoadLimits enforced while reading
// (file size, node count after alias expansion, nesting depth), so an alias bomb or a deeply
// nested file is refused before it costs more than the caps allow.
#pragma once

#include "engine/loader/loader.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flowpilot::engine::detail {

struct YamlParseResult {
  // Empty when the text could not be read as YAML at all (syntax error, limit exceeded). A
  // document may come with diagnostics too (duplicate keys): it is still worth validating so
  // that the user sees every problem at once, but it must not be accepted.
  std::optional<LocatedDocument> document;
  std::vector<Diagnostic> diagnostics;
};

YamlParseResult parse_yaml_document(std::string_view text, const std::string& file_name,
                                    const LoadLimits& limits);

}  // namespace flowpilot::engine::detail
