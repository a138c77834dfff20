// The transform plugin: transform.filter, map, aggregate, join, pivot, sort and dedupe. Row
// expressions run in the host's Lua sandbox through host->eval, with `row` bound to each row and
// the run's context (inputs, steps, ...) visible. Each step answers {rows: [...], count: N}.
#include <flowpilot/plugin.hpp>
#include <string>
#include <utility>

#include "transform_logic.h"

namespace {

namespace json = boost::json;
namespace sdk = flowpilot::sdk;
namespace tp = flowpilot::transform_plugin;

constexpr const char* kOutput = R"json({
  "type": "object", "required": ["rows", "count"],
  "properties": {"rows": {"type": "array", "items": {"type": "object"}},
                 "count": {"type": "integer", "minimum": 0}}})json";

// The schemas share `rows`; each adds its own options.
std::string input_schema(const std::string& properties, const std::string& required) {
  return R"json({"type": "object", "required": ["rows")json" + required +
         R"json(], "properties": {"rows": {"type": "array", "items": {"type": "object"}})json" +
         properties + R"json(}, "additionalProperties": false})json";
}

constexpr const char* kNames = R"json({"type": ["string", "array"], "items": {"type": "string"}})json";

sdk::Step transform_step(const char* op, const char* summary, const std::string& schema) {
  return sdk::Step(op, summary)
      .input_schema(schema)
      .output_schema(kOutput)
      .flags(FP_STEP_IDEMPOTENT)
      .run([op = std::string(op)](sdk::Call& call) -> json::value {
        tp::Evaluator evaluate = [&call](std::string_view expression, const json::value& row,
                                         json::value& out, std::string& error) {
          sdk::Evaluated e = call.try_eval(expression, row);
          if (!e) {
            error = e.error;
            return false;
          }
          out = std::move(*e.value);
          return true;
        };
        try {
          json::array rows = tp::run(op, call.input(), evaluate);
          const std::size_t count = rows.size();
          return json::object{{"rows", std::move(rows)}, {"count", count}};
        } catch (const tp::TransformError& e) {
          throw sdk::StepError("transform." + op + ": " + e.what());
        }
      });
}

sdk::Plugin make_plugin() {
  const std::string names = kNames;
  sdk::Plugin plugin("transform", "1.0.0");
  plugin.step(transform_step(
      "filter", "Keeps the rows for which a Lua expression is true.",
      input_schema(R"json(, "where": {"type": "string", "minLength": 1})json", R"json(, "where")json")));
  plugin.step(transform_step(
      "map", "Computes fields from Lua expressions and keeps or drops columns.",
      input_schema(R"json(, "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                      "keep": )json" + names + R"json(, "drop": )json" + names,
                   "")));
  plugin.step(transform_step(
      "aggregate", "Groups rows and computes sum, count, min, max, avg or count_distinct.",
      input_schema(R"json(, "group_by": )json" + names + R"json(,
        "aggregations": {"type": "array", "minItems": 1, "items": {"type": "object",
          "required": ["op"], "additionalProperties": false, "properties": {
            "op": {"enum": ["sum", "count", "min", "max", "avg", "count_distinct"]},
            "column": {"type": "string", "minLength": 1},
            "as": {"type": "string", "minLength": 1}}}})json",
                   R"json(, "aggregations")json")));
  plugin.step(transform_step(
      "join", "Joins rows with another list of rows on key columns (inner or left).",
      input_schema(R"json(, "right": {"type": "array", "items": {"type": "object"}},
        "on": )json" + names + R"json(, "left_on": )json" + names + R"json(, "right_on": )json" +
                       names + R"json(, "type": {"enum": ["inner", "left"]},
        "prefix": {"type": "string"})json",
                   R"json(, "right")json")));
  plugin.step(transform_step(
      "pivot", "Turns the values of one column into columns, aggregating another column.",
      input_schema(R"json(, "index": )json" + names + R"json(,
        "columns": {"type": "string", "minLength": 1}, "values": {"type": "string", "minLength": 1},
        "op": {"enum": ["sum", "count", "min", "max", "avg", "count_distinct"]}, "fill": {})json",
                   R"json(, "index", "columns", "values")json")));
  plugin.step(transform_step(
      "sort", "Sorts rows by one or more columns, stable, nulls last.",
      input_schema(R"json(, "by": {"type": ["string", "array"], "items": {"type": ["string", "object"],
        "properties": {"column": {"type": "string"}, "order": {"enum": ["asc", "desc"]}}}})json",
                   R"json(, "by")json")));
  plugin.step(transform_step(
      "dedupe", "Removes duplicate rows by key columns, keeping the first or the last.",
      input_schema(R"json(, "keys": )json" + names + R"json(, "keep": {"enum": ["first", "last"]})json",
                   "")));
  return plugin;
}

}  // namespace

FLOWPILOT_PLUGIN_FROM(make_plugin)
