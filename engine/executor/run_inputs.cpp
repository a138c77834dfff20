#include "engine/executor/executor.h"

#include <boost/json.hpp>

#include <fmt/format.h>

#include <cmath>

namespace flowpilot::engine {
namespace {

namespace json = boost::json;

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += sep;
    out += item;
  }
  return out;
}

// Command lines and forms deliver text; a declared type says how to read it.
std::optional<json::value> coerce(const json::value& v, InputType type) {
  switch (type) {
    case InputType::string:
      if (v.is_string()) return v;
      return std::nullopt;
    case InputType::number:
      if (v.is_number()) return v;
      if (v.is_string()) {
        json::error_code ec;
        json::value parsed = json::parse(v.get_string(), ec);
        if (!ec && parsed.is_number()) return parsed;
      }
      return std::nullopt;
    case InputType::integer:
      if (v.is_int64() || v.is_uint64()) return v;
      if (v.is_double() && std::trunc(v.get_double()) == v.get_double() &&
          std::fabs(v.get_double()) < 9e15) {
        return json::value(static_cast<std::int64_t>(v.get_double()));
      }
      if (v.is_string()) {
        json::error_code ec;
        json::value parsed = json::parse(v.get_string(), ec);
        if (!ec && (parsed.is_int64() || parsed.is_uint64())) return parsed;
      }
      return std::nullopt;
    case InputType::boolean:
      if (v.is_bool()) return v;
      if (v.is_string()) {
        if (v.get_string() == "true") return json::value(true);
        if (v.get_string() == "false") return json::value(false);
      }
      return std::nullopt;
    case InputType::object:
    case InputType::array: {
      const bool want_object = type == InputType::object;
      if (want_object ? v.is_object() : v.is_array()) return v;
      if (v.is_string()) {
        json::error_code ec;
        json::value parsed = json::parse(v.get_string(), ec);
        if (!ec && (want_object ? parsed.is_object() : parsed.is_array())) return parsed;
      }
      return std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace

InputError::InputError(std::vector<std::string> problems)
    : std::runtime_error(join(problems, "; ")), problems_(std::move(problems)) {}

json::object resolve_inputs(const Workflow& workflow, const json::object& given) {
  std::vector<std::string> problems;
  json::object resolved;
  for (const auto& [name, value] : given) {
    bool known = false;
    for (const auto& spec : workflow.inputs) known = known || spec.name == name;
    if (!known) {
      std::vector<std::string> names;
      for (const auto& spec : workflow.inputs) names.push_back("`" + spec.name + "`");
      problems.push_back(fmt::format("unknown input `{}`; workflow `{}` takes {}",
                                     std::string_view(name), workflow.id,
                                     names.empty() ? "no inputs" : join(names, ", ")));
    }
  }
  for (const auto& spec : workflow.inputs) {
    const json::value* value = given.if_contains(spec.name);
    if (value == nullptr) {
      if (spec.default_value) {
        resolved[spec.name] = *spec.default_value;
      } else if (spec.required) {
        problems.push_back(fmt::format("input `{}` is required ({})", spec.name,
                                       to_string(spec.type)));
      } else {
        resolved[spec.name] = nullptr;
      }
      continue;
    }
    auto coerced = coerce(*value, spec.type);
    if (!coerced) {
      problems.push_back(fmt::format("input `{}` must be {} {}, got {}", spec.name,
                                     spec.type == InputType::integer ? "an" : "a",
                                     to_string(spec.type), json::serialize(*value)));
      continue;
    }
    if (!spec.allowed.empty()) {
      bool ok = false;
      for (const auto& allowed : spec.allowed) ok = ok || allowed == *coerced;
      if (!ok) {
        std::vector<std::string> names;
        for (const auto& allowed : spec.allowed) names.push_back(json::serialize(allowed));
        problems.push_back(fmt::format("input `{}` must be one of {}, got {}", spec.name,
                                       join(names, ", "), json::serialize(*coerced)));
        continue;
      }
    }
    resolved[spec.name] = std::move(*coerced);
  }
  if (!problems.empty()) throw InputError(std::move(problems));
  return resolved;
}

}  // namespace flowpilot::engine
