// guardrail.check's logic: sustained breaches on each day or over the window's aggregate.
#include "guardrail.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "kpi.h"

namespace flowpilot::guardrail {
namespace {

namespace json = boost::json;

json::object day(const char* id, const char* date, double spend, double conversions,
                 double revenue = 0) {
  return {{"platform", "meta"},
          {"account_id", "act_1"},
          {"campaign_id", id},
          {"campaign_name", std::string("Camp ") + id},
          {"date", date},
          {"spend", spend},
          {"conversions", conversions},
          {"revenue", revenue},
          {"currency", "EUR"}};
}

json::array fixture() {
  return {// c1: CPA 30, then 50, 60 and a day with spend but no conversion.
          day("c1", "2026-05-01", 30, 1), day("c1", "2026-05-02", 100, 2),
          day("c1", "2026-05-03", 120, 2), day("c1", "2026-05-04", 45, 0),
          // c2: CPA 50, 30, 50: not every day, but 260 / 6 = 43.33 over the window.
          day("c2", "2026-05-02", 100, 2), day("c2", "2026-05-03", 60, 2),
          day("c2", "2026-05-04", 100, 2),
          // c3: no row on 05-03, so three days in a row cannot be shown.
          day("c3", "2026-05-02", 500, 1), day("c3", "2026-05-04", 500, 1)};
}

const json::object* breach_of(const json::object& out, std::string_view id) {
  for (const auto& b : out.at("breaches").as_array()) {
    if (b.at("campaign_id").as_string() == id) return &b.as_object();
  }
  return nullptr;
}

TEST(Guardrail, CpaAboveTheLimitOnEachOfTheLastThreeDays) {
  const json::object out = check(json::object{{"rows", fixture()}, {"limit", 40}});
  EXPECT_FALSE(out.at("ok").as_bool());
  EXPECT_EQ(out.at("window").at("from"), json::value("2026-05-02"));
  EXPECT_EQ(out.at("window").at("to"), json::value("2026-05-04"));
  EXPECT_EQ(out.at("checked").as_int64(), 3);
  ASSERT_EQ(out.at("breaches").as_array().size(), 1u) << json::serialize(out);
  const json::object* b = breach_of(out, "c1");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->at("campaign_name"), json::value("Camp c1"));
  EXPECT_EQ(b->at("metric"), json::value("cpa"));
  const json::array& values = b->at("values").as_array();
  ASSERT_EQ(values.size(), 3u);
  EXPECT_DOUBLE_EQ(values[0].at("value").as_double(), 50);
  EXPECT_DOUBLE_EQ(values[1].at("value").as_double(), 60);
  EXPECT_TRUE(values[2].at("value").is_null());  // spend without a conversion
  EXPECT_TRUE(values[2].at("breach").as_bool());
  EXPECT_DOUBLE_EQ(b->at("aggregate").as_double(), 66.25);  // 265 / 4
  EXPECT_EQ(b->at("sentence"),
            json::value("CPA of platform meta, account act_1, campaign c1 (Camp c1) in EUR was "
                        "above the limit of 40.00 on each of the last 3 days (2026-05-02: 50.00, "
                        "2026-05-03: 60.00, 2026-05-04: no conversions on 45.00 spend)."));
}

TEST(Guardrail, AggregateModeJudgesTheWindowTotal) {
  const json::object out =
      check(json::object{{"rows", fixture()}, {"limit", 40}, {"mode", "aggregate"}});
  EXPECT_NE(breach_of(out, "c1"), nullptr);
  const json::object* c2 = breach_of(out, "c2");
  ASSERT_NE(c2, nullptr);
  EXPECT_DOUBLE_EQ(c2->at("aggregate").as_double(), 43.333333);
  // c3: 1000 / 2 = 500 over its two days in the window.
  EXPECT_NE(breach_of(out, "c3"), nullptr);
  const json::object relaxed =
      check(json::object{{"rows", fixture()}, {"limit", 45}, {"mode", "aggregate"}});
  EXPECT_EQ(breach_of(relaxed, "c2"), nullptr);
}

TEST(Guardrail, AsOfAndWindowLengthChooseTheDays) {
  // Up to 05-03 with two days: c1 (50, 60) and c2 (50, 30).
  const json::object out = check(json::object{
      {"rows", fixture()}, {"limit", 40}, {"window_days", 2}, {"as_of", "2026-05-03"}});
  EXPECT_NE(breach_of(out, "c1"), nullptr);
  EXPECT_EQ(breach_of(out, "c2"), nullptr);
  const json::object one = check(json::object{
      {"rows", fixture()}, {"limit", 40}, {"window_days", 1}, {"as_of", "2026-05-01"}});
  EXPECT_TRUE(one.at("ok").as_bool());
}

TEST(Guardrail, SpendAndRoasBelowALimit) {
  const json::object spend =
      check(json::object{{"rows", fixture()}, {"metric", "spend"}, {"limit", 99}});
  EXPECT_EQ(spend.at("breaches").as_array().size(), 0u);  // c2 spent 60 on 05-03
  const json::object low_spend =
      check(json::object{{"rows", fixture()}, {"metric", "spend"}, {"limit", 40}});
  EXPECT_NE(breach_of(low_spend, "c2"), nullptr);
  json::array rows{day("r", "2026-05-01", 100, 1, 150), day("r", "2026-05-02", 100, 1, 90),
                   day("r", "2026-05-03", 100, 1, 80)};
  const json::object roas = check(json::object{{"rows", rows},
                                               {"metric", "roas"},
                                               {"limit", 1},
                                               {"direction", "below"},
                                               {"window_days", 2}});
  ASSERT_NE(breach_of(roas, "r"), nullptr);
  EXPECT_NE(
      std::string(breach_of(roas, "r")->at("sentence").as_string())
          .find("ROAS of platform meta, account act_1, campaign r (Camp r) in EUR was below "
                "the limit of 1 on each of the last 2 days (2026-05-02: 0.9, 2026-05-03: 0.8)"),
      std::string::npos)
      << json::serialize(roas);
}

TEST(Guardrail, EmptyInputIsOk) {
  const json::object out = check(json::object{{"rows", json::array()}, {"limit", 40}});
  EXPECT_TRUE(out.at("ok").as_bool());
  EXPECT_TRUE(out.at("breaches").as_array().empty());
}

TEST(Guardrail, BadInputNamesTheField) {
  auto message = [](json::object with) -> std::string {
    try {
      check(with);
    } catch (const kpi::InputError& e) {
      return e.what();
    }
    return "(no error)";
  };
  EXPECT_NE(message({{"rows", json::array()}}).find("with.limit is required"), std::string::npos);
  EXPECT_NE(message({{"rows", json::array()}, {"limit", 1}, {"mode", "daily"}}).find("with.mode"),
            std::string::npos);
  EXPECT_NE(
      message({{"rows", json::array()}, {"limit", 1}, {"window_days", 0}}).find("with.window_days"),
      std::string::npos);
  EXPECT_NE(message({{"rows", json::array{json::object{{"date", "05/01/2026"}}}}, {"limit", 1}})
                .find("with.rows[0].date"),
            std::string::npos);
}

}  // namespace
}  // namespace flowpilot::guardrail
