// transform_logic: each operation, with row expressions evaluated by the engine's real Lua
// expression evaluator (the one host->eval uses).
#include "transform_logic.h"

#include "scripting/expression.h"

#include <gtest/gtest.h>

namespace flowpilot::transform_plugin {
namespace {

namespace json = boost::json;

class TransformLogic : public ::testing::Test {
 protected:
  json::array run_op(std::string_view op, const char* with_json) {
    return run(op, json::parse(with_json).as_object(), evaluator());
  }
  std::string error_of(std::string_view op, const char* with_json) {
    try {
      run_op(op, with_json);
    } catch (const TransformError& e) {
      return e.what();
    }
    return "no error";
  }
  Evaluator evaluator() {
    return [this](std::string_view expression, const json::value& row, json::value& out,
                  std::string& error) {
      scripting::Scope scope;
      scope.bind("row", row);
      auto result = engine_.evaluate(expression, scope);
      if (!result.ok()) {
        error = result.error().message;
        return false;
      }
      out = result.value();
      return true;
    };
  }
  scripting::ExpressionEngine engine_;
};

constexpr const char* kRows = R"j([
  {"campaign": "a", "channel": "search", "spend": 10.1, "clicks": 5, "date": "2026-05-02"},
  {"campaign": "b", "channel": "social", "spend": 0.2, "clicks": 1, "date": "2026-05-01"},
  {"campaign": "c", "channel": "search", "spend": 0.1, "clicks": null, "date": "2026-05-03"},
  {"campaign": "d", "channel": "video", "spend": 3, "clicks": 2}
])j";

std::string with_rows(const std::string& rest) {
  return std::string(R"j({"rows": )j") + kRows + (rest.empty() ? "" : ", ") + rest + "}";
}

TEST_F(TransformLogic, FilterKeepsTruthyRows) {
  auto out = run_op("filter", with_rows(R"j("where": "row.spend > 1 and row.channel ~= 'video'")j").c_str());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].at("campaign"), "a");
}

TEST_F(TransformLogic, ExpressionErrorsNameTheRowAndTheField) {
  const std::string e = error_of("filter", with_rows(R"j("where": "row.clicks > 1")j").c_str());
  EXPECT_EQ(e.rfind("with.where: row 2: ", 0), 0u) << e;
  EXPECT_NE(e.find("compare"), std::string::npos) << e;
  const std::string m = error_of("map", with_rows(R"j("fields": {"x": "row.nope.deeper"})j").c_str());
  EXPECT_EQ(m.rfind("with.fields.x: row 0: ", 0), 0u) << m;
}

TEST_F(TransformLogic, MapComputesKeepsAndDrops) {
  auto out = run_op("map", with_rows(R"j("fields": {"cpc": "row.clicks and row.spend / row.clicks or nil",
                                                    "name": "string.upper(row.campaign)"},
                                         "drop": ["date", "channel"])j").c_str());
  ASSERT_EQ(out.size(), 4u);
  EXPECT_DOUBLE_EQ(out[0].at("cpc").as_double(), 2.02);
  EXPECT_EQ(out[0].at("name"), "A");
  EXPECT_FALSE(out[0].as_object().contains("date"));
  EXPECT_TRUE(out[2].at("cpc").is_null());
  auto kept = run_op("map", with_rows(R"j("keep": ["campaign"])j").c_str());
  EXPECT_EQ(kept[1], json::parse(R"j({"campaign":"b"})j"));
  EXPECT_NE(error_of("map", with_rows(R"j("keep": ["a"], "drop": ["b"])j").c_str()), "no error");
}

TEST_F(TransformLogic, AggregateGroupsExactly) {
  auto out = run_op("aggregate", with_rows(R"j("group_by": "channel", "aggregations": [
      {"op": "sum", "column": "spend"}, {"op": "sum", "column": "clicks", "as": "clicks"},
      {"op": "count"}, {"op": "count", "column": "clicks", "as": "with_clicks"},
      {"op": "avg", "column": "spend", "as": "avg"}, {"op": "min", "column": "date", "as": "first"},
      {"op": "max", "column": "spend", "as": "max"}, {"op": "count_distinct", "column": "campaign", "as": "n"}])j")
                                     .c_str());
  ASSERT_EQ(out.size(), 3u);
  const auto& search = out[0].as_object();
  EXPECT_EQ(search.at("channel"), "search");
  EXPECT_EQ(search.at("sum_spend").as_double(), 10.2);  // exact in micros, not 10.199999...
  EXPECT_EQ(search.at("clicks"), 5);
  EXPECT_EQ(search.at("count"), 2);
  EXPECT_EQ(search.at("with_clicks"), 1);
  EXPECT_EQ(search.at("avg").as_double(), 5.1);
  EXPECT_EQ(search.at("first"), "2026-05-02");
  EXPECT_EQ(search.at("max").as_double(), 10.1);
  EXPECT_EQ(search.at("n"), 2);
  EXPECT_EQ(out[2].at("sum_spend"), 3);  // integers stay integers
  EXPECT_TRUE(out[2].at("first").is_null());
  // No group_by: one row over everything; sum of nothing is null.
  auto all = run_op("aggregate", R"j({"rows": [{"x": null}], "aggregations": [
      {"op": "sum", "column": "x"}, {"op": "avg", "column": "x"}, {"op": "count"}]})j");
  EXPECT_EQ(all[0], json::parse(R"j({"sum_x": null, "avg_x": null, "count": 1})j"));
  const std::string e = error_of("aggregate", R"j({"rows": [{"x": 1}, {"x": "2"}],
      "aggregations": [{"op": "sum", "column": "x"}]})j");
  EXPECT_EQ(e, "with.aggregations[0]: row 1: `x` is \"2\", not a number");
}

TEST_F(TransformLogic, SumsThatCannotBeExactAreErrors) {
  EXPECT_EQ(error_of("aggregate", R"j({"rows": [{"x": 9223372036854775807}, {"x": 1}],
      "aggregations": [{"op": "sum", "column": "x"}]})j"),
            "with.aggregations[0]: row 1: the sum of `x` is too large to add exactly");
  EXPECT_NE(error_of("aggregate", R"j({"rows": [{"x": 1e13}],
      "aggregations": [{"op": "sum", "column": "x"}]})j"), "no error");
}

TEST_F(TransformLogic, JoinInnerAndLeft) {
  const char* base = R"j({"rows": [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}, {"id": null, "v": "c"}],
    "right": [{"id": 1, "name": "one", "v": "R"}, {"id": 1.0, "name": "uno"}, {"id": null, "name": "nil"}],
    "on": "id")j";
  auto inner = run_op("join", (std::string(base) + "}").c_str());
  ASSERT_EQ(inner.size(), 2u);
  EXPECT_EQ(inner[0], json::parse(R"j({"id": 1, "v": "a", "name": "one", "right_v": "R"})j"));
  EXPECT_EQ(inner[1].at("name"), "uno");
  auto left = run_op("join", (std::string(base) + R"j(, "type": "left"})j").c_str());
  ASSERT_EQ(left.size(), 4u);
  EXPECT_EQ(left[2], json::parse(R"j({"id": 2, "v": "b"})j"));
  EXPECT_EQ(left[3].at("v"), "c");  // a null key matches nothing
  auto named = run_op("join", R"j({"rows": [{"cid": "x"}], "right": [{"campaign_id": "x", "n": 1}],
      "left_on": "cid", "right_on": "campaign_id"})j");
  EXPECT_EQ(named[0], json::parse(R"j({"cid": "x", "campaign_id": "x", "n": 1})j"));
}

TEST_F(TransformLogic, PivotByKey) {
  auto out = run_op("pivot", R"j({"rows": [
      {"date": "d1", "platform": "meta", "spend": 1.1}, {"date": "d1", "platform": "google", "spend": 2},
      {"date": "d1", "platform": "meta", "spend": 0.2}, {"date": "d2", "platform": "google", "spend": 4}],
      "index": "date", "columns": "platform", "values": "spend", "fill": 0})j");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].at("meta").as_double(), 1.3);
  EXPECT_EQ(out[0].at("google"), 2);
  EXPECT_EQ(out[1].at("meta"), 0);
  auto counts = run_op("pivot", R"j({"rows": [{"k": 1, "c": "x"}, {"k": 1, "c": "x"}],
      "index": ["k"], "columns": "c", "values": "c", "op": "count"})j");
  EXPECT_EQ(counts[0], json::parse(R"j({"k": 1, "x": 2})j"));
}

TEST_F(TransformLogic, SortIsStableWithNullsLast) {
  auto out = run_op("sort", with_rows(R"j("by": [{"column": "channel"}, {"column": "clicks", "order": "desc"}])j").c_str());
  std::vector<std::string> order;
  for (const auto& r : out) order.emplace_back(r.at("campaign").as_string());
  EXPECT_EQ(order, (std::vector<std::string>{"a", "c", "b", "d"}));
  auto desc = run_op("sort", with_rows(R"j("by": "-clicks")j").c_str());
  EXPECT_EQ(desc[0].at("campaign"), "a");
  EXPECT_EQ(desc[3].at("campaign"), "c");  // null last even descending
  auto asc = run_op("sort", with_rows(R"j("by": "clicks")j").c_str());
  EXPECT_EQ(asc[0].at("campaign"), "b");
  EXPECT_EQ(asc[3].at("campaign"), "c");
  // Stable: equal keys keep their order.
  auto stable = run_op("sort", R"j({"rows": [{"k": 1, "i": 0}, {"k": 0, "i": 1}, {"k": 1, "i": 2}, {"k": 0, "i": 3}], "by": "k"})j");
  EXPECT_EQ(stable[0].at("i"), 1);
  EXPECT_EQ(stable[1].at("i"), 3);
  EXPECT_EQ(stable[2].at("i"), 0);
  EXPECT_EQ(stable[3].at("i"), 2);
}

TEST_F(TransformLogic, DedupeFirstAndLast) {
  const char* rows = R"j({"rows": [{"k": 1, "v": "a"}, {"k": 2, "v": "b"}, {"k": 1.0, "v": "c"}, {"k": 3, "v": "d"}])j";
  auto first = run_op("dedupe", (std::string(rows) + R"j(, "keys": "k"})j").c_str());
  ASSERT_EQ(first.size(), 3u);
  EXPECT_EQ(first[0].at("v"), "a");
  auto last = run_op("dedupe", (std::string(rows) + R"j(, "keys": ["k"], "keep": "last"})j").c_str());
  ASSERT_EQ(last.size(), 3u);
  EXPECT_EQ(last[0].at("v"), "b");
  EXPECT_EQ(last[1].at("v"), "c");
  auto whole = run_op("dedupe", R"j({"rows": [{"a": 1}, {"a": 1}, {"a": 2}]})j");
  EXPECT_EQ(whole.size(), 2u);
}

TEST_F(TransformLogic, BadRowsAndOptionsNameTheField) {
  EXPECT_EQ(error_of("sort", R"j({"rows": [{"a": 1}, 5], "by": "a"})j"), "with.rows[1]: must be an object");
  EXPECT_EQ(error_of("aggregate", R"j({"rows": [], "aggregations": [{"op": "sum"}]})j"),
            "with.aggregations[0].column: is required for sum");
  EXPECT_EQ(error_of("join", R"j({"rows": [], "right": []})j"),
            "with.on: give the key columns (or left_on and right_on of equal length)");
}

}  // namespace
}  // namespace flowpilot::transform_plugin
