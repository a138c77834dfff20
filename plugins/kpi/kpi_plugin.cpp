// The kpi plugin: kpi.compute, kpi.anomalies and kpi.recommend over normalized marketing rows.
// The math lives in kpi.h (flowpilot_kpi_logic); this file declares the steps and their schemas.
#include <flowpilot/plugin.hpp>
#include <string>

#include "kpi.h"

namespace {

namespace json = boost::json;
namespace sdk = flowpilot::sdk;
namespace kpi = flowpilot::kpi;

const std::string kRowsSchema = R"("rows": {"type": "array",
    "description": "normalized daily rows: platform, account_id, campaign_id, campaign_name, date, spend, impressions, clicks, conversions, revenue, currency",
    "items": {"type": "object", "properties": {
      "date": {"type": ["string", "null"]}, "currency": {"type": ["string", "null"]},
      "spend": {"type": ["number", "null"], "minimum": 0}, "revenue": {"type": ["number", "null"]},
      "conversions": {"type": ["number", "null"], "minimum": 0},
      "impressions": {"type": ["number", "null"], "minimum": 0, "description": "a whole number"},
      "clicks": {"type": ["number", "null"], "minimum": 0, "description": "a whole number"},
      "customers": {"type": ["number", "null"], "minimum": 0},
      "daily_budget": {"type": ["number", "null"], "minimum": 0}}}})";

std::string group_by_schema(const std::string& description) {
  return R"("group_by": {"type": ["string", "array"], "items": {"type": "string"}, "description": ")" +
         description + R"("})";
}

const std::string kMetricEnum =
    R"(["spend", "revenue", "conversions", "impressions", "clicks", "customers", "cac", "roas", "cpa", "cpc", "cpm", "ctr", "cvr", "aov"])";

const std::string kComputeInput = R"({
  "type": "object",
  "required": ["rows"],
  "properties": {
    )" + kRowsSchema + R"(,
    )" +
                                  group_by_schema(
                                      "row fields to group by, such as [platform, campaign_id] or "
                                      "date; none: one total per currency") +
                                  R"(,
    "metrics": {"type": "array", "items": {"enum": )" +
                                  kMetricEnum + R"(},
                "description": "metrics to output; default all"},
    "customers": {"type": "array", "items": {"type": "object"},
                  "description": "new-customer or deal records for CAC when the rows carry no customers field; each counts 1 (or its customers number) in the group whose fields it matches"},
    "period": {"type": "object", "required": ["current"], "properties": {
      "current": {"type": "object", "required": ["from", "to"], "properties": {"from": {"type": "string"}, "to": {"type": "string"}}},
      "previous": {"type": "object", "required": ["from", "to"], "properties": {"from": {"type": "string"}, "to": {"type": "string"}}}
    }, "description": "date ranges (inclusive); rows outside them are left out"},
    "compare": {"enum": ["previous_period"], "description": "compare with the same number of days just before period.current"}
  },
  "additionalProperties": false
})";

constexpr const char* kComputeOutput = R"({
  "type": "object",
  "required": ["rows", "groups"],
  "properties": {
    "rows": {"type": "array", "items": {"type": "object", "properties": {
      "rows": {"type": "integer"}, "currency": {"type": ["string", "null"]},
      "spend": {"type": "number"}, "revenue": {"type": "number"},
      "spend_micros": {"type": "integer"}, "revenue_micros": {"type": "integer"},
      "conversions": {"type": "number"}, "impressions": {"type": "number"}, "clicks": {"type": "number"},
      "customers": {"type": ["number", "null"]}, "cac": {"type": ["number", "null"]},
      "roas": {"type": ["number", "null"]}, "cpa": {"type": ["number", "null"]},
      "cpc": {"type": ["number", "null"]}, "cpm": {"type": ["number", "null"]},
      "ctr": {"type": ["number", "null"]}, "cvr": {"type": ["number", "null"]},
      "aov": {"type": ["number", "null"]},
      "changes": {"type": "object", "additionalProperties": {"type": "object", "properties": {
        "value": {"type": ["number", "null"]}, "previous": {"type": ["number", "null"]},
        "delta": {"type": ["number", "null"]}, "delta_pct": {"type": ["number", "null"]}}}}
    }}},
    "groups": {"type": "integer"},
    "period": {"type": "object"}
  }
})";

const std::string kAnomaliesInput = R"({
  "type": "object",
  "required": ["rows"],
  "properties": {
    )" + kRowsSchema + R"(,
    "metric": {"enum": )" + kMetricEnum +
                                    R"(, "default": "spend"},
    )" + group_by_schema("one daily series per group; default [platform, campaign_id]") +
                                    R"(,
    "weeks": {"type": "integer", "minimum": 1, "maximum": 52, "default": 4,
              "description": "how many previous same weekdays form the baseline"},
    "min_baseline": {"type": "integer", "minimum": 1, "default": 3,
                     "description": "fewer same-weekday values than this: use every previous day of the window instead"},
    "threshold": {"type": "number", "exclusiveMinimum": 0, "default": 3.5,
                  "description": "flag days whose robust z-score is beyond plus or minus this"},
    "min_change": {"type": "number", "minimum": 0, "default": 0,
                   "description": "flag only days that also differ from the expected value by more than this share of it, 0.1 for 10%"},
    "from": {"type": "string", "description": "first day to check; earlier days still serve as baseline"},
    "to": {"type": "string", "description": "last day to check"},
    "last_days": {"type": "integer", "minimum": 1,
                  "description": "check only the newest N days, up to the latest date in the rows"},
    "include_series": {"type": "boolean", "default": false,
                       "description": "also return every day's value and expected range, for charts"}
  },
  "additionalProperties": false
})";

constexpr const char* kAnomaliesOutput = R"({
  "type": "object",
  "required": ["anomalies", "count"],
  "properties": {
    "metric": {"type": "string"},
    "threshold": {"type": "number"},
    "count": {"type": "integer"},
    "checked_days": {"type": "integer"},
    "skipped_days": {"type": "integer"},
    "anomalies": {"type": "array", "items": {"type": "object", "properties": {
      "group": {"type": "object"}, "date": {"type": "string"}, "weekday": {"type": "string"},
      "metric": {"type": "string"}, "value": {"type": "number"}, "expected": {"type": "number"},
      "expected_range": {"type": "array", "items": {"type": "number"}},
      "z": {"type": ["number", "null"]}, "direction": {"enum": ["up", "down"]},
      "baseline": {"enum": ["weekday", "recent_days"]}, "baseline_days": {"type": "integer"},
      "sentence": {"type": "string"}}}},
    "series": {"type": "array"}
  }
})";

const std::string kRecommendInput = R"({
  "type": "object",
  "required": ["rows"],
  "properties": {
    )" + kRowsSchema + R"(,
    )" + group_by_schema("what a campaign is; default [platform, account_id, campaign_id]") +
                                    R"(,
    "targets": {"type": "object", "additionalProperties": false, "properties": {
      "target_cpa": {"type": "number", "exclusiveMinimum": 0, "description": "default: the median CPA of the campaigns in the same currency"},
      "target_roas": {"type": "number", "exclusiveMinimum": 0, "description": "default: the median ROAS of the campaigns"},
      "cpa_margin": {"type": "number", "default": 0.2},
      "roas_margin": {"type": "number", "default": 0.2},
      "ctr_benchmark": {"type": "number", "exclusiveMinimum": 0, "description": "default: the median CTR of the campaigns"},
      "ctr_margin": {"type": "number", "default": 0.3},
      "cvr_benchmark": {"type": "number", "exclusiveMinimum": 0, "description": "default: the median CVR of the campaigns"},
      "cvr_margin": {"type": "number", "default": 0.5},
      "budget_utilization": {"type": "number", "default": 0.9},
      "fatigue_decline": {"type": "number", "default": 0.2},
      "fatigue_impressions_cv": {"type": "number", "default": 0.3},
      "fatigue_min_days": {"type": "integer", "minimum": 3, "default": 7},
      "zero_conversion_spend": {"type": "number", "exclusiveMinimum": 0, "description": "default: the CPA target"}
    }},
    "min_score": {"type": "number", "minimum": 0, "maximum": 1, "default": 0}
  },
  "additionalProperties": false
})";

constexpr const char* kRecommendOutput = R"({
  "type": "object",
  "required": ["recommendations", "count"],
  "properties": {
    "count": {"type": "integer"},
    "campaigns": {"type": "integer"},
    "targets": {"type": "object"},
    "recommendations": {"type": "array", "items": {"type": "object", "properties": {
      "rule": {"enum": ["pause_high_cpa", "scale_high_roas", "cut_low_roas", "creative_fatigue",
                        "low_ctr", "landing_page", "zero_conversions"]},
      "campaign": {"type": "object"},
      "action": {"enum": ["pause", "increase_budget", "decrease_budget", "refresh_creative",
                          "review_creative", "review_landing_page"]},
      "score": {"type": "number", "minimum": 0, "maximum": 1},
      "factors": {"type": "object", "properties": {
        "base_score": {"type": "number"}, "sample_adequacy": {"type": "number"},
        "trend_stability": {"type": "number"}}},
      "explanation": {"type": "string"},
      "evidence": {"type": "object"}}}}
  }
})";

// Runs a logic function; bad input becomes a step error that is not worth retrying.
template <class F>
json::value guarded_logic(sdk::Call& call, F&& fn) {
  try {
    return fn(call.input());
  } catch (const kpi::InputError& e) {
    throw sdk::StepError(call.step_name() + ": " + e.what());
  }
}

}  // namespace

FLOWPILOT_PLUGIN(
    "kpi", "1.0.0",
    sdk::Step("compute",
              "Sums spend, revenue and counts and computes CAC, ROAS, CPA, CPC, CPM, CTR, CVR "
              "and AOV per group, with period-over-period changes.")
        .input_schema(kComputeInput)
        .output_schema(kComputeOutput)
        .run([](sdk::Call& call) { return guarded_logic(call, kpi::compute); }),
    sdk::Step("anomalies",
              "Flags days whose metric is far from the same weekday's usual value (robust "
              "z-score) and gives the expected range.")
        .input_schema(kAnomaliesInput)
        .output_schema(kAnomaliesOutput)
        .run([](sdk::Call& call) { return guarded_logic(call, kpi::anomalies); }),
    sdk::Step("recommend",
              "Suggests pauses, budget changes and creative or landing-page reviews per "
              "campaign, scored and explained.")
        .input_schema(kRecommendInput)
        .output_schema(kRecommendOutput)
        .run([](sdk::Call& call) { return guarded_logic(call, kpi::recommend); }))
