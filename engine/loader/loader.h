// Loading workflow definitions into the model, with validation.
//
// Every definition goes through the same two stages: a front end turns the file (YAML, or Lua
// returning a table of the same shape) into a located document, a JSON value plus a map from field path to file:line:column;
// then one builder validates that document against DESIGN.md section 5 and builds a Workflow.
// All problems in a file are reported at once, each with its location and, where one exists, the
// nearest valid name as a suggestion.
//
// Errors are values: load_* never throw for bad input; they return diagnostics.
//
// Thread-safety: the functions are re-entrant; the catalog and the expression engine must be
// safe for concurrent reads (they are).
#pragma once

#include "engine/model/workflow.h"
#include "scripting/expression.h"

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace flowpilot::engine {

struct LoadResult {
  std::shared_ptr<const Workflow> workflow;  // null when there are diagnostics
  std::vector<Diagnostic> diagnostics;
  bool ok() const { return workflow != nullptr; }
};

// Caps applied while reading a definition, against alias bombs and absurd files.
struct LoadLimits {
  std::size_t max_file_bytes = 4u << 20;
  std::size_t max_nodes = 200'000;  // after alias expansion
  std::size_t max_depth = 64;
  std::size_t max_steps = 10'000;
};

// A definition as a JSON document with the location of every field path. Paths look like
// `steps[2].with.account_id`; the root is "".
struct LocatedDocument {
  boost::json::value root;
  std::map<std::string, SourceLocation> locations;
};

struct LoadContext {
  const StepCatalog& catalog;
  const scripting::ExpressionEngine& expressions;
  LoadLimits limits{};
  // Whether `lua` steps may read their program from a `file:` next to the workflow. Definitions
  // that arrive over the API have no folder of their own: for them it is false.
  bool allow_program_files = true;
};

// Reads and validates a file; the format follows the extension (.yaml / .yml / .lua).
LoadResult load_workflow_file(const std::filesystem::path& file, const LoadContext& ctx);

// Whether `id` may name a workflow: ^[a-z0-9][a-z0-9_-]{0,63}$.
bool is_valid_workflow_id(std::string_view id);

// Validates YAML text; `file_name` is used in diagnostics.
LoadResult load_workflow_yaml(std::string_view text, const std::string& file_name,
                              const LoadContext& ctx);

// Runs a Lua workflow file (in the sandbox, without I/O, under kLuaLoadLimits) and validates the
// table it returns exactly like YAML. The file may use the builders `workflow{}` and `step{}`
// (see docs/lua.md) so that errors point at the line of each step; `file_name` names the file in
// diagnostics and is the folder `file:` programs of lua steps are read from.
// Loads a definition's text in the given format ("yaml" or "lua"), as stored with every run.
LoadResult load_workflow_source(std::string_view text, const std::string& file_name,
                                std::string_view format, const LoadContext& ctx);

LoadResult load_workflow_lua(std::string_view text, const std::string& file_name,
                             const LoadContext& ctx);

// The limits a Lua workflow file runs under while it is loaded.
inline constexpr scripting::Limits kLuaLoadLimits{10'000'000, 64u << 20,
                                                  std::chrono::milliseconds(2000)};

// The shared second stage: validates a located document and builds the model. `source_text` and
// `format` are stored on the Workflow.
LoadResult build_workflow(const LocatedDocument& doc, const std::string& file_name,
                          std::string_view source_text, std::string_view format,
                          const LoadContext& ctx);

}  // namespace flowpilot::engine
