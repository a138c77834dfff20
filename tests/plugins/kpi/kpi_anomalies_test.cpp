// kpi.anomalies: the weekday baseline, its fall-back, MAD of zero, expected ranges and sentences,
// with every figure worked out by hand.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "kpi.h"

namespace flowpilot::kpi {
namespace {

namespace json = boost::json;

json::object row(std::int32_t day, double spend) {
  return {{"platform", "meta"},      {"campaign_id", "c1"}, {"campaign_name", "Brand"},
          {"date", format_day(day)}, {"spend", spend},      {"currency", "EUR"}};
}

// Five weeks from Monday 2026-04-06: Tuesday to Friday always 50, weekends always 20, Mondays
// 100, 110, 90, 105 and then 400 on 2026-05-04.
json::array five_weeks() {
  const std::int32_t monday = *parse_day("2026-04-06");
  const double mondays[] = {100, 110, 90, 105, 400};
  json::array rows;
  for (int week = 0; week < 5; ++week) {
    for (int wd = 0; wd < 7; ++wd) {
      const double v = wd == 0 ? mondays[week] : wd < 5 ? 50 : 20;
      rows.push_back(row(monday + week * 7 + wd, v));
    }
  }
  return rows;
}

const json::object* point_on(const json::object& out, std::string_view date) {
  for (const auto& s : out.at("series").as_array()) {
    for (const auto& p : s.at("points").as_array()) {
      if (p.at("date").as_string() == date) return &p.as_object();
    }
  }
  return nullptr;
}

TEST(KpiAnomalies, SpikeAgainstTheSameWeekdayBaseline) {
  const json::object out = anomalies(
      json::object{{"rows", five_weeks()}, {"from", "2026-04-27"}, {"include_series", true}});
  ASSERT_EQ(out.at("count").as_int64(), 1) << json::serialize(out);
  const json::object& a = out.at("anomalies").as_array()[0].as_object();
  // Baseline: the four previous Mondays 105, 90, 110, 100 → median 102.5; absolute deviations
  // 2.5, 12.5, 7.5, 2.5 → MAD 5 → scale 1.4826 × 5 = 7.413; z = (400 − 102.5) / 7.413.
  EXPECT_EQ(a.at("date"), json::value("2026-05-04"));
  EXPECT_EQ(a.at("weekday"), json::value("Monday"));
  EXPECT_DOUBLE_EQ(a.at("value").as_double(), 400);
  EXPECT_DOUBLE_EQ(a.at("expected").as_double(), 102.5);
  EXPECT_DOUBLE_EQ(a.at("expected_range").as_array()[0].as_double(), 76.5545);
  EXPECT_DOUBLE_EQ(a.at("expected_range").as_array()[1].as_double(), 128.4455);
  EXPECT_DOUBLE_EQ(a.at("z").as_double(), 40.1322);
  EXPECT_EQ(a.at("direction"), json::value("up"));
  EXPECT_EQ(a.at("baseline"), json::value("weekday"));
  EXPECT_EQ(a.at("baseline_days").as_int64(), 4);
  EXPECT_EQ(a.at("group").at("campaign_id"), json::value("c1"));
  EXPECT_EQ(a.at("group").at("currency"), json::value("EUR"));
  EXPECT_EQ(a.at("campaign_name"), json::value("Brand"));
  const std::string sentence(a.at("sentence").as_string());
  EXPECT_NE(
      sentence.find("Spend for platform meta, campaign c1 (Brand) in EUR on Monday 2026-05-04 "
                    "was 400.00, above the expected 102.50"),
      std::string::npos)
      << sentence;

  // Saturdays are always 20: against their own weekday they are normal, although the median of
  // all recent days (50) would make them look low.
  const json::object* saturday = point_on(out, "2026-05-09");
  ASSERT_NE(saturday, nullptr);
  EXPECT_DOUBLE_EQ(saturday->at("expected").as_double(), 20);
  EXPECT_FALSE(saturday->at("anomaly").as_bool());
  // The series covers every checked day, for charts.
  EXPECT_EQ(out.at("series").as_array()[0].at("points").as_array().size(), 14u);
  EXPECT_EQ(out.at("checked_days").as_int64(), 14);
}

TEST(KpiAnomalies, LastDaysChecksOnlyTheNewestDays) {
  // The spike is on 05-04; the rows end on Sunday 05-10.
  json::object out = anomalies(json::object{{"rows", five_weeks()}, {"last_days", 7}});
  EXPECT_EQ(out.at("count").as_int64(), 1);
  EXPECT_EQ(out.at("checked_days").as_int64(), 7);
  out = anomalies(json::object{{"rows", five_weeks()}, {"last_days", 6}});
  EXPECT_EQ(out.at("count").as_int64(), 0);
  EXPECT_EQ(out.at("checked_days").as_int64(), 6);
}

TEST(KpiAnomalies, FallsBackToRecentDaysWhenTooFewSameWeekdays) {
  const std::int32_t d0 = *parse_day("2026-05-01");
  const double values[] = {10, 12, 11, 13, 10, 12, 11, 13, 10, 100};
  json::array rows;
  for (int i = 0; i < 10; ++i) rows.push_back(row(d0 + i, values[i]));
  const json::object out = anomalies(json::object{{"rows", rows}, {"from", format_day(d0 + 9)}});
  ASSERT_EQ(out.at("count").as_int64(), 1);
  const json::object& a = out.at("anomalies").as_array()[0].as_object();
  // One previous same weekday only: the nine previous days instead. Sorted 10 10 10 11 11 12 12
  // 13 13 → median 11; deviations 1 1 1 0 0 1 1 2 2 → MAD 1; z = 89 / 1.4826 = 60.0297.
  EXPECT_EQ(a.at("baseline"), json::value("recent_days"));
  EXPECT_EQ(a.at("baseline_days").as_int64(), 9);
  EXPECT_DOUBLE_EQ(a.at("expected").as_double(), 11);
  EXPECT_DOUBLE_EQ(a.at("z").as_double(), 60.0297);
}

TEST(KpiAnomalies, TooLittleHistoryIsSkippedNotFlagged) {
  const std::int32_t d0 = *parse_day("2026-05-01");
  const json::object out = anomalies(
      json::object{{"rows", json::array{row(d0, 10), row(d0 + 1, 500)}}, {"include_series", true}});
  EXPECT_EQ(out.at("count").as_int64(), 0);
  EXPECT_EQ(out.at("skipped_days").as_int64(), 2);
  EXPECT_TRUE(point_on(out, format_day(d0 + 1))->at("expected").is_null());
}

json::array mondays(std::initializer_list<double> values) {
  const std::int32_t monday = *parse_day("2026-04-06");
  json::array rows;
  int i = 0;
  for (double v : values) rows.push_back(row(monday + 7 * i++, v));
  return rows;
}

TEST(KpiAnomalies, MadOfZeroUsesTheMeanAbsoluteDeviation) {
  // Baseline 10 10 10 50: median 10, MAD 0; mean absolute deviation (0+0+0+40)/4 = 10 →
  // scale 1.2533 × 10 = 12.533. 60 → z = 50 / 12.533 = 3.9895 > 3.5; 40 → z = 2.3937.
  json::object out =
      anomalies(json::object{{"rows", mondays({10, 10, 10, 50, 60})}, {"from", "2026-05-04"}});
  ASSERT_EQ(out.at("count").as_int64(), 1);
  EXPECT_DOUBLE_EQ(out.at("anomalies").as_array()[0].at("z").as_double(), 3.9895);
  out = anomalies(json::object{
      {"rows", mondays({10, 10, 10, 50, 40})}, {"from", "2026-05-04"}, {"include_series", true}});
  EXPECT_EQ(out.at("count").as_int64(), 0);
  EXPECT_DOUBLE_EQ(point_on(out, "2026-05-04")->at("z").as_double(), 2.3937);
}

TEST(KpiAnomalies, ConstantBaselineFlagsAnyChangeWithoutAZScore) {
  json::object out =
      anomalies(json::object{{"rows", mondays({10, 10, 10, 10, 11})}, {"from", "2026-05-04"}});
  ASSERT_EQ(out.at("count").as_int64(), 1);
  const json::object& a = out.at("anomalies").as_array()[0].as_object();
  EXPECT_TRUE(a.at("z").is_null());
  EXPECT_DOUBLE_EQ(a.at("expected_range").as_array()[0].as_double(), 10);
  EXPECT_DOUBLE_EQ(a.at("expected_range").as_array()[1].as_double(), 10);
  out = anomalies(json::object{{"rows", mondays({10, 10, 10, 10, 10})}, {"from", "2026-05-04"}});
  EXPECT_EQ(out.at("count").as_int64(), 0);
}

TEST(KpiAnomalies, DropsAreFlaggedDownWithTheRangeClampedAtZero) {
  const json::object out = anomalies(json::object{
      {"rows", mondays({100, 110, 90, 105, 0})}, {"from", "2026-05-04"}, {"threshold", 20}});
  ASSERT_EQ(out.at("count").as_int64(), 0);  // z = −102.5 / 7.413 = −13.8 is within 20
  const json::object tight = anomalies(json::object{
      {"rows", mondays({100, 110, 90, 105, 0})}, {"from", "2026-05-04"}, {"threshold", 3.5}});
  ASSERT_EQ(tight.at("count").as_int64(), 1);
  const json::object& a = tight.at("anomalies").as_array()[0].as_object();
  EXPECT_EQ(a.at("direction"), json::value("down"));
  EXPECT_DOUBLE_EQ(a.at("z").as_double(), -13.8271);
}

TEST(KpiAnomalies, MinChangeKeepsSmallChangesOnSmoothSeriesQuiet) {
  // Baseline 100, 101, 99, 100: median 100, MAD 0.5 → scale 0.7413. 104 is z = 5.4 but only 4 %
  // away: flagged by the z-score alone, not with min_change 0.1, whose band (±10) then sets the
  // expected range. 115 is 15 % away and flagged either way.
  json::object out = anomalies(json::object{{"rows", mondays({100, 101, 99, 100, 104})}, {"from", "2026-05-04"}});
  EXPECT_EQ(out.at("count").as_int64(), 1);
  out = anomalies(json::object{{"rows", mondays({100, 101, 99, 100, 104})},
                               {"from", "2026-05-04"}, {"min_change", 0.1}, {"include_series", true}});
  EXPECT_EQ(out.at("count").as_int64(), 0);
  const json::object* day = point_on(out, "2026-05-04");
  ASSERT_NE(day, nullptr);
  EXPECT_DOUBLE_EQ(day->at("low").as_double(), 90);
  EXPECT_DOUBLE_EQ(day->at("high").as_double(), 110);
  out = anomalies(json::object{{"rows", mondays({100, 101, 99, 100, 115})},
                               {"from", "2026-05-04"}, {"min_change", 0.1}});
  ASSERT_EQ(out.at("count").as_int64(), 1);
  EXPECT_DOUBLE_EQ(out.at("anomalies").as_array()[0].at("expected_range").as_array()[1].as_double(), 110);
  // A constant baseline too: 10 → 10.5 is a change, but not one of 10 %.
  out = anomalies(json::object{{"rows", mondays({10, 10, 10, 10, 10.5})}, {"from", "2026-05-04"}, {"min_change", 0.1}});
  EXPECT_EQ(out.at("count").as_int64(), 0);
  EXPECT_THROW(anomalies(json::object{{"rows", json::array()}, {"min_change", -0.1}}), InputError);
}

TEST(KpiAnomalies, RatioMetricsSkipDaysWithoutADenominator) {
  const std::int32_t monday = *parse_day("2026-04-06");
  json::array rows;
  const double conversions[] = {2, 2, 0, 2, 2, 1};
  for (int i = 0; i < 6; ++i) {
    json::object r = row(monday + 7 * i, 100);
    r["conversions"] = conversions[i];
    rows.push_back(r);
  }
  // CPA: 50, 50, (none), 50, 50, 100. The last Monday's baseline is 50 50 50 (the day without
  // conversions has no CPA), a constant baseline, so 100 stands out.
  const json::object out =
      anomalies(json::object{{"rows", rows}, {"metric", "cpa"}, {"from", "2026-05-11"}});
  ASSERT_EQ(out.at("count").as_int64(), 1);
  EXPECT_EQ(out.at("anomalies").as_array()[0].at("baseline_days").as_int64(), 3);
  EXPECT_NE(
      std::string(out.at("anomalies").as_array()[0].at("sentence").as_string()).find("CPA for"),
      std::string::npos);
}

TEST(KpiAnomalies, BadOptionsAreRefused) {
  EXPECT_THROW(anomalies(json::object{{"rows", json::array()}, {"metric", "speed"}}), InputError);
  EXPECT_THROW(anomalies(json::object{{"rows", json::array()}, {"weeks", 0}}), InputError);
  EXPECT_THROW(anomalies(json::object{{"rows", json::array()}, {"threshold", -1}}), InputError);
  EXPECT_THROW(anomalies(json::object{{"rows", json::array{json::object{{"spend", 1}}}}}),
               InputError);  // rows need dates
  EXPECT_EQ(anomalies(json::object{{"rows", json::array()}}).at("count").as_int64(), 0);
}

}  // namespace
}  // namespace flowpilot::kpi
