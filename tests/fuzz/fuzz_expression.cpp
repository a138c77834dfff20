// libFuzzer target: the expression evaluator (scripting/expression.h).
//
// The input is used three ways:
//   1. as the text inside `${{ }}`: ExpressionEngine::check, then evaluate against a fixed Scope;
//   2. as a template string: Template::parse, then render (so `a ${{ x }} b` inputs are useful);
//   3. when it parses as JSON: render_value on it, which must never evaluate data twice.
// Any result or error value is fine; crashes, leaks, sanitizer reports and timeouts are bugs.
#include "scripting/expression.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace {

using flowpilot::scripting::ExpressionEngine;
using flowpilot::scripting::Limits;
using flowpilot::scripting::Scope;
using flowpilot::scripting::Template;

// Tighter than the defaults so that each input stays in the millisecond range under ASan.
Limits fuzz_limits() {
  Limits limits;
  limits.max_instructions = 200'000;
  limits.max_memory_bytes = 8u << 20;
  limits.max_wall_time = std::chrono::milliseconds(1000);
  return limits;
}

const ExpressionEngine& engine() {
  static const ExpressionEngine instance(fuzz_limits(), 1);
  return instance;
}

struct Context {
  boost::json::value inputs = boost::json::parse(R"({
    "name": "Spring sale", "target_cpa": 40, "ratio": 0.25, "enabled": true, "nothing": null,
    "tags": ["a", "b", "${{ inputs.name }}"], "nested": {"deep": {"deeper": [1, 2, {"x": "y"}]}},
    "unicode": "h\u00e9llo \u2603", "empty": {}, "list": []
  })");
  boost::json::value steps = boost::json::parse(R"({
    "load": {"status": "succeeded", "output": {"rows": [
      {"campaign_id": "c-101", "name": "Spring sale", "spend": 1200, "conversions": 40},
      {"campaign_id": "c-104", "name": "Prospecting", "spend": 450.5, "conversions": 0}]}},
    "fail": {"status": "failed", "error": "boom ${{ 1 + 1 }}", "output": null}
  })");
  boost::json::value run = boost::json::parse(
      R"({"id": "r-1", "workflow": "wf", "attempt": 1, "started_at": "2024-03-31T01:30:00Z"})");
  boost::json::value item = boost::json::parse(R"({"campaign_id": "c-9", "spend": 10})");
  boost::json::value index = 3;
  Scope scope;

  Context() {
    scope.bind("inputs", inputs);
    scope.bind("steps", steps);
    scope.bind("run", run);
    scope.bind("item", item);
    scope.bind("index", index);
    scope.set_secret_resolver([](std::string_view name) -> std::optional<std::string> {
      if (name == "api_key") return std::string("s3cr3t");
      return std::nullopt;
    });
  }
};

const Context& context() {
  static const Context instance;
  return instance;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 64 * 1024) return -1;  // not interesting, and keeps runs fast
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto& ctx = context();

  static_cast<void>(engine().check(text));
  static_cast<void>(engine().evaluate(text, ctx.scope));

  std::string error;
  if (auto tmpl = Template::parse(text, &error)) {
    static_cast<void>(tmpl->has_expressions());
    static_cast<void>(tmpl->is_single_expression());
    static_cast<void>(flowpilot::scripting::render(engine(), *tmpl, ctx.scope));
  }

  std::error_code ec;
  const boost::json::value json = boost::json::parse(text, ec);
  if (!ec) {
    std::string error_path;
    auto rendered =
        flowpilot::scripting::render_value(engine(), json, ctx.scope, "with", &error_path);
    if (rendered.ok()) {
      static_cast<void>(flowpilot::scripting::to_display_text(rendered.value()));
    }
  }
  return 0;
}
