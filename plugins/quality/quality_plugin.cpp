// The quality plugin: quality.check runs data checks (unique, not_null, accepted_values, range,
// relationships, freshness) over rows; a failed check of severity error fails the step with a
// readable report, one line per failed check. The rules are in quality_logic.h.
#include <chrono>
#include <flowpilot/plugin.hpp>
#include <string>

#include "quality_logic.h"

namespace {

namespace json = boost::json;
namespace sdk = flowpilot::sdk;
namespace qp = flowpilot::quality_plugin;

constexpr const char* kInput = R"json({
  "type": "object",
  "required": ["rows", "checks"],
  "properties": {
    "rows": {"type": "array", "items": {"type": "object"}},
    "samples": {"type": "integer", "minimum": 0, "description": "Sample rows per check; default 5"},
    "checks": {"type": "array", "minItems": 1, "items": {
      "type": "object", "required": ["type"], "additionalProperties": false,
      "properties": {
        "type": {"enum": ["unique", "not_null", "accepted_values", "range", "relationships",
                          "freshness"]},
        "name": {"type": "string"},
        "severity": {"enum": ["error", "warn"]},
        "samples": {"type": "integer", "minimum": 0},
        "columns": {"type": ["string", "array"], "items": {"type": "string"}},
        "column": {"type": "string", "minLength": 1},
        "values": {"type": "array"},
        "min": {"type": ["number", "string"]},
        "max": {"type": ["number", "string"]},
        "min_inclusive": {"type": "boolean"},
        "max_inclusive": {"type": "boolean"},
        "to": {"type": "array", "items": {"type": "object"}},
        "field": {"type": "string", "minLength": 1},
        "max_age": {"type": "string", "pattern": "^([0-9]+[smhdw])+$"},
        "as_of": {"type": "string"}}}}
  },
  "additionalProperties": false
})json";

constexpr const char* kOutput = R"json({
  "type": "object", "required": ["passed", "checks"],
  "properties": {"passed": {"type": "boolean"}, "checks": {"type": "array"}}})json";

}  // namespace

FLOWPILOT_PLUGIN(
    "quality", "1.0.0",
    sdk::Step("check", "Runs data-quality checks over rows; a failed error check fails the step.")
        .input_schema(kInput)
        .output_schema(kOutput)
        .flags(FP_STEP_IDEMPOTENT)
        .run([](sdk::Call& call) -> json::value {
          const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
          qp::CheckOutcome outcome;
          try {
            outcome = qp::run_checks(call.input(), now);
          } catch (const qp::QualityError& e) {
            throw sdk::StepError(std::string("quality.check: ") + e.what());
          }
          if (outcome.failure) throw sdk::StepError(*outcome.failure);
          for (const auto& c : outcome.output.at("checks").get_array()) {
            if (!c.at("passed").get_bool()) {
              call.log(sdk::Level::warn, "quality.check: " + std::string(c.at("name").get_string()) +
                                             ": " + std::to_string(c.at("failing").to_number<std::int64_t>()) +
                                             " failing (warn)");
            }
          }
          return outcome.output;
        }))
