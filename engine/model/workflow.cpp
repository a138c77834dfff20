#include "engine/model/workflow.h"

namespace flowpilot::engine {

std::string Diagnostic::to_string() const {
  std::string out = where.file;
  if (where.line > 0) {
    out += ':' + std::to_string(where.line);
    if (where.column > 0) out += ':' + std::to_string(where.column);
  }
  out += ": ";
  out += message;
  if (!suggestion.empty()) out += " (did you mean `" + suggestion + "`?)";
  return out;
}

const StepSpec* Workflow::find_step(std::string_view step_id) const {
  for (const auto& step : steps) {
    if (step.id == step_id) return &step;
  }
  for (const auto& step : on_failure) {
    if (step.id == step_id) return &step;
  }
  return nullptr;
}

SourceLocation Workflow::location_of(const std::string& path) const {
  // Strip one path component at a time (".key" or "[i]") so that a field the file did not spell
  // out, e.g. a defaulted `with` entry, still points at the nearest thing the file did contain.
  std::string current = path;
  while (true) {
    if (auto it = locations.find(current); it != locations.end()) return it->second;
    if (current.empty()) break;
    const auto cut = current.find_last_of(".[");
    current.resize(cut == std::string::npos ? 0 : cut);
  }
  return SourceLocation{source_file, 0, 0};
}

std::string_view to_string(InputType t) {
  switch (t) {
    case InputType::string: return "string";
    case InputType::number: return "number";
    case InputType::integer: return "integer";
    case InputType::boolean: return "boolean";
    case InputType::object: return "object";
    case InputType::array: return "array";
  }
  return "unknown";
}

std::string_view to_string(OnLimit v) {
  switch (v) {
    case OnLimit::queue: return "queue";
    case OnLimit::skip: return "skip";
    case OnLimit::cancel_running: return "cancel_running";
  }
  return "unknown";
}

}  // namespace flowpilot::engine
