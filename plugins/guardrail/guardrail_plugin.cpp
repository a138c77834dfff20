// The guardrail plugin: guardrail.check, a KPI limit held over a sustained window per campaign.
// The math is in guardrail.h (flowpilot_guardrail_logic); this file declares the step.
#include <flowpilot/plugin.hpp>
#include <string>

#include "guardrail.h"
#include "kpi.h"

namespace {

namespace json = boost::json;
namespace sdk = flowpilot::sdk;

constexpr const char* kInputSchema = R"json({
  "type": "object",
  "required": ["rows", "limit"],
  "properties": {
    "rows": {"type": "array", "items": {"type": "object"},
             "description": "normalized daily rows (see kpi.compute)"},
    "metric": {"enum": ["spend", "revenue", "conversions", "impressions", "clicks", "customers",
                        "cac", "roas", "cpa", "cpc", "cpm", "ctr", "cvr", "aov"],
               "default": "cpa"},
    "limit": {"type": "number", "description": "the value the metric must not pass, in the rows' currency for money"},
    "direction": {"enum": ["above", "below"], "default": "above",
                  "description": "above: a breach is a higher value (CPA, spend); below: a lower one (ROAS)"},
    "window_days": {"type": "integer", "minimum": 1, "maximum": 366, "default": 3},
    "mode": {"enum": ["each_day", "aggregate"], "default": "each_day",
             "description": "each_day: beyond the limit on every day of the window; aggregate: over the window's total"},
    "as_of": {"type": "string", "description": "last day of the window; default the latest date in the rows"},
    "group_by": {"type": ["string", "array"], "items": {"type": "string"},
                 "description": "default [platform, account_id, campaign_id]"},
    "fail_on_breach": {"type": "boolean", "default": false,
                       "description": "fail the step when there is a breach, instead of reporting it"}
  },
  "additionalProperties": false
})json";

constexpr const char* kOutputSchema = R"json({
  "type": "object",
  "required": ["ok", "breaches", "summary"],
  "properties": {
    "ok": {"type": "boolean"},
    "metric": {"type": "string"},
    "limit": {"type": "number"},
    "direction": {"enum": ["above", "below"]},
    "mode": {"enum": ["each_day", "aggregate"]},
    "window_days": {"type": "integer"},
    "window": {"type": "object", "properties": {"from": {"type": "string"}, "to": {"type": "string"}}},
    "checked": {"type": "integer"},
    "summary": {"type": "string"},
    "breaches": {"type": "array", "items": {"type": "object", "properties": {
      "campaign_id": {}, "campaign_name": {}, "metric": {"type": "string"},
      "limit": {"type": "number"},
      "values": {"type": "array", "items": {"type": "object", "properties": {
        "date": {"type": "string"}, "value": {"type": ["number", "null"]}, "breach": {"type": "boolean"}}}},
      "aggregate": {"type": ["number", "null"]},
      "sentence": {"type": "string"}}}}
  }
})json";

}  // namespace

FLOWPILOT_PLUGIN(
    "guardrail", "1.0.0",
    sdk::Step("check",
              "Reports campaigns whose CPA, spend or another KPI stayed beyond a limit for a "
              "sustained window.")
        .input_schema(kInputSchema)
        .output_schema(kOutputSchema)
        .run([](sdk::Call& call) -> json::value {
          json::object out;
          try {
            out = flowpilot::guardrail::check(call.input());
          } catch (const flowpilot::kpi::InputError& e) {
            throw sdk::StepError(call.step_name() + ": " + e.what());
          }
          if (call.input_or<bool>("fail_on_breach", false) && !out.at("ok").as_bool()) {
            std::string message = std::string(out.at("summary").as_string());
            for (const auto& b : out.at("breaches").as_array()) {
              message += "\n- " + std::string(b.at("sentence").as_string());
            }
            throw sdk::StepError(message);
          }
          return out;
        }))
