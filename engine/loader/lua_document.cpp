// The Lua front end: a `*.lua` workflow file is a program that returns a table of the same shape
// as the YAML model. It runs once, at load time, in the expression sandbox (no I/O, no require),
// with builder helpers that record the line of every step, and the table it returns goes through
// the same validation as YAML (build_workflow).
#include "engine/loader/loader.h"

#include "engine/loader/detail/document_paths.h"

#include "scripting/program.h"

#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <filesystem>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace flowpilot::engine {
namespace {

namespace json = boost::json;

// Run before every workflow file. The builders `workflow` and `step` are `locate` itself: it
// records the line of the program frame that called it. A Lua wrapper would be wrong here: in
// `return workflow{...}` and `return step{...}` the wrapper is tail-called, its frame replaces
// the caller's, and the line recorded would be the prelude's (or a helper's caller's). A C
// function keeps its caller's frame even in a tail call.
constexpr std::string_view kPrelude = R"lua(
workflow = locate
step = locate

local function append(out, part, what)
  if type(part) ~= "table" then
    error(what .. " is " .. type(part) .. ", not a step or a list of steps", 3)
  end
  if part[1] ~= nil or next(part) == nil then
    for _, s in ipairs(part) do out[#out + 1] = s end
  else
    out[#out + 1] = part
  end
end

function concat(...)
  local out = {}
  for i = 1, select("#", ...) do
    append(out, (select(i, ...)), "argument " .. i .. " of concat")
  end
  return out
end

function steps_from(list, fn)
  if type(list) ~= "table" then error("steps_from(list, fn): list is " .. type(list), 2) end
  if type(fn) ~= "function" then error("steps_from(list, fn): fn is " .. type(fn), 2) end
  local out = {}
  for i, item in ipairs(list) do
    local made = fn(item, i)
    if made ~= nil then append(out, made, "what fn returned for item " .. i) end
  end
  return out
end
)lua";

// Keys whose value is a mapping. Lua has one table type and an empty one converts to a JSON
// list, so `with = {}` must become `{}` again before validation sees it.
constexpr std::array<std::string_view, 10> kMappingKeys = {
    "with", "inputs", "outputs", "defaults", "concurrency", "limits", "retry", "auth", "webhook",
    "headers"};

// Lua's table order is a hash order; sorting keys makes the model the same on every load.
void normalize(json::value& v) {
  if (v.is_array()) {
    for (auto& item : v.get_array()) normalize(item);
    return;
  }
  if (!v.is_object()) return;
  auto& object = v.get_object();
  std::vector<std::pair<std::string, json::value>> entries;
  entries.reserve(object.size());
  for (auto& entry : object) {
    json::value value = std::move(entry.value());
    const bool mapping = std::find(kMappingKeys.begin(), kMappingKeys.end(), entry.key()) !=
                         kMappingKeys.end();
    if (mapping && value.is_array() && value.get_array().empty()) value = json::object();
    normalize(value);
    entries.emplace_back(std::string(entry.key()), std::move(value));
  }
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  json::object sorted;
  sorted.reserve(entries.size());
  for (auto& [key, value] : entries) sorted.emplace(key, std::move(value));
  object = std::move(sorted);
}

// The same caps as YAML: a program can build a large table within its memory limit.
bool within_limits(const json::value& v, std::size_t depth, std::size_t& nodes,
                   const LoadLimits& limits) {
  if (++nodes > limits.max_nodes || depth > limits.max_depth) return false;
  if (v.is_array()) {
    for (const auto& item : v.get_array()) {
      if (!within_limits(item, depth + 1, nodes, limits)) return false;
    }
  } else if (v.is_object()) {
    for (const auto& entry : v.get_object()) {
      if (!within_limits(entry.value(), depth + 1, nodes, limits)) return false;
    }
  }
  return true;
}

int line_at(std::string_view text, std::size_t offset) {
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
}

// The line of the last `return` at the start of a line: where the file hands back its table.
int return_line(std::string_view text) {
  int line = 1;
  int found = 1;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    std::string_view current = text.substr(start, end - start);
    while (!current.empty() && (current.front() == ' ' || current.front() == '\t')) current.remove_prefix(1);
    if (current.starts_with("return")) found = line;
    if (end == text.size()) break;
    start = end + 1;
    ++line;
  }
  return found;
}

// `locate` records tables only; the program of a lua step is a string. When its text appears
// exactly once in the file (a long string `[[...]]` usually does), that is where it starts, so
// that compile errors in it point at the right line.
void locate_code(const json::value& root, std::string_view text, const std::string& file,
                 std::map<std::string, SourceLocation>& locations) {
  if (!root.is_object()) return;
  for (std::string_view list : {"steps", "on_failure"}) {
    const auto* steps = root.get_object().if_contains(list);
    if (steps == nullptr || !steps->is_array()) continue;
    const auto& items = steps->get_array();
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (!items[i].is_object()) continue;
      const auto* code = items[i].get_object().if_contains("code");
      if (code == nullptr || !code->is_string() || code->get_string().empty()) continue;
      const std::string_view body = code->get_string();
      const std::size_t first = text.find(body);
      if (first == std::string_view::npos || text.find(body, first + 1) != std::string_view::npos) continue;
      const std::string path = detail::child_path(detail::index_path(list, i), "code");
      locations.emplace(path, SourceLocation{file, line_at(text, first), 1});
    }
  }
}

// Names a workflow file might reach for that the sandbox does not have. Lua's own message
// ("attempt to index a nil value (global 'io')") is accurate but does not say why.
std::string explain(std::string message) {
  static constexpr std::array<std::string_view, 10> kAbsent = {
      "io",   "os",      "require", "dofile",    "loadfile",
      "load", "package", "debug",   "coroutine", "collectgarbage"};
  for (std::string_view name : kAbsent) {
    if (message.find("global '" + std::string(name) + "'") != std::string::npos) {
      return message + " (`" + std::string(name) +
             "` does not exist here: a workflow file runs in the sandbox, without files, "
             "processes or modules; it only builds and returns a table)";
    }
  }
  return message;
}

// `step "x"` reaches `locate` with a string; say it in the words of the builders.
std::string builder_words(std::string message) {
  constexpr std::string_view kLocate = "locate: argument 1 must be a table";
  if (auto at = message.find(kLocate); at != std::string::npos) {
    message.replace(at, kLocate.size(), "workflow{...} and step{...} take a table");
  }
  return message;
}

Diagnostic program_error(const scripting::ProgramError& e, const std::string& file) {
  using Kind = scripting::EvalError::Kind;
  std::string message;
  switch (e.kind) {
    case Kind::compile: message = "Lua syntax error: " + e.message; break;
    case Kind::runtime: message = "Lua error: " + explain(builder_words(e.message)); break;
    case Kind::instruction_limit:
    case Kind::memory_limit:
    case Kind::time_limit:
      message = "the workflow file did not finish: " + e.message +
                " (a workflow file only builds a table; look for an endless loop)";
      break;
    case Kind::conversion:
      message = "the returned table cannot become a workflow: " + e.message;
      break;
  }
  return Diagnostic{SourceLocation{file, e.line, e.line > 0 ? 1 : 0}, std::move(message), ""};
}

}  // namespace

LoadResult load_workflow_lua(std::string_view text, const std::string& file_name,
                             const LoadContext& ctx) {
  LoadResult result;
  auto fail = [&](int line, std::string message) {
    result.diagnostics.push_back(
        Diagnostic{SourceLocation{file_name, line, line > 0 ? 1 : 0}, std::move(message), ""});
    return result;
  };
  if (text.size() > ctx.limits.max_file_bytes) {
    return fail(0, "the file is " + std::to_string(text.size()) + " bytes; the limit is " +
                       std::to_string(ctx.limits.max_file_bytes));
  }
  scripting::ProgramOptions options;
  // The file name only: Lua shortens long chunk names in its messages ("...rts/sync.lua"), and
  // the diagnostic names the full path anyway.
  options.chunk_name = std::filesystem::path(file_name).filename().string();
  if (options.chunk_name.empty()) options.chunk_name = "workflow";
  options.limits = kLuaLoadLimits;
  options.enable_locate = true;
  options.prelude = std::string(kPrelude);
  const scripting::Scope no_names;  // a workflow file sees no run data: it has none yet
  auto outcome = scripting::run_program(ctx.expressions, text, no_names, options);
  if (const auto* error = std::get_if<scripting::ProgramError>(&outcome)) {
    result.diagnostics.push_back(program_error(*error, file_name));
    return result;
  }
  auto& program = std::get<scripting::ProgramResult>(outcome);
  LocatedDocument doc;
  doc.root = std::move(program.value);
  const int returned_at = return_line(text);
  if (doc.root.is_array() && doc.root.get_array().empty()) doc.root = json::object();
  if (doc.root.is_null()) {
    return fail(returned_at, "the file returns nothing; end it with `return workflow{ id = ..., "
                             "steps = { ... } }`");
  }
  if (!doc.root.is_object()) {
    const std::string what = doc.root.is_array()    ? "a list"
                             : doc.root.is_string() ? "a string"
                             : doc.root.is_bool()   ? "a boolean"
                                                    : "a number";
    return fail(returned_at, "the file returns " + what +
                                 ", not a table with keys such as `id` and `steps`; end it with "
                                 "`return workflow{ id = ..., steps = { ... } }`");
  }
  std::size_t nodes = 0;
  if (!within_limits(doc.root, 0, nodes, ctx.limits)) {
    return fail(0, "the returned table has more than " + std::to_string(ctx.limits.max_nodes) +
                       " values or is nested more than " + std::to_string(ctx.limits.max_depth) +
                       " levels deep");
  }
  normalize(doc.root);
  for (const auto& [path, line] : program.lines) {
    doc.locations.emplace(path, SourceLocation{file_name, line, 1});
  }
  // Paths nobody located fall back to their nearest located ancestor, and finally to this.
  doc.locations.emplace("", SourceLocation{file_name, returned_at, 1});
  locate_code(doc.root, text, file_name, doc.locations);
  return build_workflow(doc, file_name, text, "lua", ctx);
}

LoadResult load_workflow_source(std::string_view text, const std::string& file_name,
                                std::string_view format, const LoadContext& ctx) {
  return format == "lua" ? load_workflow_lua(text, file_name, ctx)
                         : load_workflow_yaml(text, file_name, ctx);
}

}  // namespace flowpilot::engine
