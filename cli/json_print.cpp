#include "cli/json_print.h"

#include <boost/json.hpp>

#include <fmt/format.h>

namespace flowpilot::cli {
namespace {

void write(std::string& out, const boost::json::value& v, int indent, int depth) {
  const std::string pad(static_cast<std::size_t>(indent * (depth + 1)), ' ');
  const std::string close_pad(static_cast<std::size_t>(indent * depth), ' ');
  if (const auto* obj = v.if_object(); obj != nullptr && !obj->empty()) {
    out += "{\n";
    bool first = true;
    for (const auto& [key, item] : *obj) {
      if (!first) out += ",\n";
      first = false;
      out += pad;
      out += boost::json::serialize(boost::json::string(key));
      out += ": ";
      write(out, item, indent, depth + 1);
    }
    out += "\n" + close_pad + "}";
    return;
  }
  if (const auto* arr = v.if_array(); arr != nullptr && !arr->empty()) {
    out += "[\n";
    bool first = true;
    for (const auto& item : *arr) {
      if (!first) out += ",\n";
      first = false;
      out += pad;
      write(out, item, indent, depth + 1);
    }
    out += "\n" + close_pad + "]";
    return;
  }
  if (v.is_double()) {
    // Boost.JSON writes 40.0 as 4E1; people expect 40.
    out += fmt::format("{}", v.get_double());
    return;
  }
  out += boost::json::serialize(v);
}

}  // namespace

std::string pretty_json(const boost::json::value& value, int indent) {
  std::string out;
  write(out, value, indent, 0);
  return out;
}

}  // namespace flowpilot::cli
