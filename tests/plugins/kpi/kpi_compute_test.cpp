// kpi.compute: sums, ratios, nulls on zero denominators, exact money, currencies, CAC sources and
// period-over-period changes, against figures worked out by hand in the comments.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "kpi.h"

namespace flowpilot::kpi {
namespace {

namespace json = boost::json;

json::object with(std::string_view text) { return json::parse(text).as_object(); }

const json::object& row_where(const json::object& out, std::string_view field,
                              std::string_view value) {
  for (const auto& r : out.at("rows").as_array()) {
    const json::value* v = r.as_object().if_contains(field);
    if (v != nullptr && v->is_string() && v->get_string() == value) return r.as_object();
  }
  static const json::object kNone;
  ADD_FAILURE() << "no row with " << field << " = " << value << " in " << json::serialize(out);
  return kNone;
}

std::string error_of(std::string_view text, json::object (*fn)(const json::object&) = compute) {
  try {
    fn(with(text));
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

constexpr std::string_view kRows = R"([
  {"platform": "meta", "campaign_id": "c1", "date": "2026-05-04", "spend": 0.1, "revenue": 0.3,
   "impressions": 1000, "clicks": 10, "conversions": 1, "currency": "EUR"},
  {"platform": "meta", "campaign_id": "c1", "date": "2026-05-05", "spend": 0.2, "revenue": 0,
   "impressions": 3000, "clicks": 20, "conversions": 2, "currency": "EUR"},
  {"platform": "google_ads", "campaign_id": "c2", "date": "2026-05-04", "spend": 30, "revenue": 90,
   "impressions": 0, "clicks": 0, "conversions": 0, "currency": "EUR"}])";

TEST(KpiCompute, TotalOfAllRowsWithEveryRatio) {
  const json::object out = compute(with(std::string(R"({"rows": )") + std::string(kRows) + "}"));
  ASSERT_EQ(out.at("groups").as_int64(), 1);
  const json::object& r = out.at("rows").as_array()[0].as_object();
  // spend 0.1 + 0.2 + 30 = 30.3; revenue 0.3 + 0 + 90 = 90.3; 3 conversions, 4000 impressions,
  // 30 clicks.
  EXPECT_EQ(r.at("spend_micros").as_int64(), 30'300'000);
  EXPECT_EQ(r.at("revenue_micros").as_int64(), 90'300'000);
  EXPECT_DOUBLE_EQ(r.at("spend").as_double(), 30.3);
  EXPECT_DOUBLE_EQ(r.at("revenue").as_double(), 90.3);
  EXPECT_DOUBLE_EQ(r.at("conversions").to_number<double>(), 3);
  EXPECT_DOUBLE_EQ(r.at("impressions").to_number<double>(), 4000);
  EXPECT_DOUBLE_EQ(r.at("clicks").to_number<double>(), 30);
  EXPECT_DOUBLE_EQ(r.at("roas").as_double(), 2.980198);  // 90.3 / 30.3 = 2.98019801...
  EXPECT_DOUBLE_EQ(r.at("cpa").as_double(), 10.1);       // 30.3 / 3
  EXPECT_DOUBLE_EQ(r.at("cpc").as_double(), 1.01);       // 30.3 / 30
  EXPECT_DOUBLE_EQ(r.at("cpm").as_double(), 7.575);      // 30.3 / 4000 * 1000
  EXPECT_DOUBLE_EQ(r.at("ctr").as_double(), 0.0075);     // 30 / 4000
  EXPECT_DOUBLE_EQ(r.at("cvr").as_double(), 0.1);        // 3 / 30
  EXPECT_DOUBLE_EQ(r.at("aov").as_double(), 30.1);       // 90.3 / 3
  EXPECT_TRUE(r.at("customers").is_null());
  EXPECT_TRUE(r.at("cac").is_null());
  EXPECT_EQ(r.at("currency"), json::value("EUR"));
  EXPECT_EQ(r.at("rows").as_int64(), 3);
}

TEST(KpiCompute, ZeroDenominatorsAreNullNeverZeroOrInfinity) {
  const json::object out =
      compute(with(std::string(R"({"group_by": "platform", "rows": )") + std::string(kRows) + "}"));
  const json::object& g = row_where(out, "platform", "google_ads");
  for (const char* m : {"cpa", "cpc", "cpm", "ctr", "cvr", "aov"}) {
    EXPECT_TRUE(g.at(m).is_null()) << m << " = " << json::serialize(g.at(m));
  }
  EXPECT_DOUBLE_EQ(g.at("roas").as_double(), 3);
  const json::object zero = compute(with(R"({"rows": [{"spend": 0, "revenue": 5}]})"));
  EXPECT_TRUE(zero.at("rows").as_array()[0].at("roas").is_null());
}

TEST(KpiCompute, MoneyIsExactInMicros) {
  // 0.1 + 0.2 is 0.30000000000000004 in doubles; in micros it is 300000.
  const json::object out = compute(
      with(std::string(R"({"group_by": ["platform"], "rows": )") + std::string(kRows) + "}"));
  const json::object& meta = row_where(out, "platform", "meta");
  EXPECT_EQ(meta.at("spend_micros").as_int64(), 300'000);
  EXPECT_EQ(meta.at("spend").as_double(), 0.3);
  // Ten rows of 0.1 are exactly 1.
  json::array rows;
  for (int i = 0; i < 10; ++i) rows.push_back(json::object{{"spend", 0.1}, {"revenue", 0.7}});
  const json::object ten = compute(json::object{{"rows", rows}});
  EXPECT_EQ(ten.at("rows").as_array()[0].at("spend").as_double(), 1.0);
  EXPECT_EQ(ten.at("rows").as_array()[0].at("revenue_micros").as_int64(), 7'000'000);
  EXPECT_EQ(ten.at("rows").as_array()[0].at("roas").as_double(), 7.0);
}

TEST(KpiCompute, GroupsByAnyFieldsInOrder) {
  const json::object out = compute(with(
      std::string(R"({"group_by": ["date", "platform"], "rows": )") + std::string(kRows) + "}"));
  const json::array& rows = out.at("rows").as_array();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].at("date"), json::value("2026-05-04"));
  EXPECT_EQ(rows[0].at("platform"), json::value("google_ads"));
  EXPECT_EQ(rows[1].at("platform"), json::value("meta"));
  EXPECT_EQ(rows[2].at("date"), json::value("2026-05-05"));
  EXPECT_DOUBLE_EQ(rows[2].at("cpa").as_double(), 0.1);  // 0.2 / 2
}

TEST(KpiCompute, GroupKeysKeepTypesAndMissingFieldsApart) {
  // 1 and "1" are different values; a row without the field forms its own (null) group, first.
  const json::object out = compute(with(R"({"group_by": "adset_id", "rows": [
      {"adset_id": 1, "spend": 1}, {"adset_id": "1", "spend": 2}, {"spend": 4},
      {"adset_id": 2, "spend": 8}, {"adset_id": 1, "spend": 16}]})"));
  const json::array& rows = out.at("rows").as_array();
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_TRUE(rows[0].at("adset_id").is_null());
  EXPECT_DOUBLE_EQ(rows[0].at("spend").as_double(), 4);
  EXPECT_EQ(rows[1].at("adset_id"), json::value(1));
  EXPECT_DOUBLE_EQ(rows[1].at("spend").as_double(), 17);
  EXPECT_EQ(rows[2].at("adset_id"), json::value(2));
  EXPECT_EQ(rows[3].at("adset_id"), json::value("1"));
  EXPECT_DOUBLE_EQ(rows[3].at("spend").as_double(), 2);
}

TEST(KpiCompute, CurrenciesAreNeverAddedTogether) {
  const json::object out = compute(with(R"({"rows": [
      {"spend": 10, "revenue": 20, "currency": "EUR"},
      {"spend": 7, "revenue": 7, "currency": "USD"},
      {"spend": 5, "revenue": 0, "currency": "EUR"}]})"));
  ASSERT_EQ(out.at("groups").as_int64(), 2);
  EXPECT_DOUBLE_EQ(row_where(out, "currency", "EUR").at("spend").as_double(), 15);
  EXPECT_DOUBLE_EQ(row_where(out, "currency", "EUR").at("roas").as_double(), 1.333333);
  EXPECT_DOUBLE_EQ(row_where(out, "currency", "USD").at("spend").as_double(), 7);
}

TEST(KpiCompute, EmptyInputGivesNoGroups) {
  const json::object out = compute(with(R"({"rows": []})"));
  EXPECT_EQ(out.at("groups").as_int64(), 0);
  EXPECT_TRUE(out.at("rows").as_array().empty());
}

TEST(KpiCompute, CacFromTheRowsCustomersField) {
  const json::object out = compute(with(R"({"group_by": "platform", "rows": [
      {"platform": "meta", "spend": 0.3, "customers": 1},
      {"platform": "meta", "spend": 0.3, "customers": 1},
      {"platform": "tiktok", "spend": 5, "customers": 0}]})"));
  EXPECT_DOUBLE_EQ(row_where(out, "platform", "meta").at("customers").as_double(), 2);
  EXPECT_DOUBLE_EQ(row_where(out, "platform", "meta").at("cac").as_double(), 0.3);
  EXPECT_TRUE(row_where(out, "platform", "tiktok").at("cac").is_null());
}

TEST(KpiCompute, CacFromCustomerRecordsMatchedByGroupFields) {
  const json::object out = compute(with(R"({"group_by": "channel",
      "rows": [{"channel": "paid_social", "spend": 100}, {"channel": "search", "spend": 90},
               {"channel": "display", "spend": 10}],
      "customers": [{"channel": "paid_social", "deal": 1}, {"channel": "paid_social"},
                    {"channel": "search", "customers": 3}, {"channel": "email"}, {"deal": 9}]})"));
  EXPECT_DOUBLE_EQ(row_where(out, "channel", "paid_social").at("cac").as_double(), 50);
  EXPECT_DOUBLE_EQ(row_where(out, "channel", "search").at("cac").as_double(), 30);
  EXPECT_DOUBLE_EQ(row_where(out, "channel", "display").at("customers").as_double(), 0);
  EXPECT_TRUE(row_where(out, "channel", "display").at("cac").is_null());
}

TEST(KpiCompute, PeriodOverPeriodWithPreviousPeriod) {
  // Current 05-03..05-04: spend 30 + 10 = 40, conversions 4 → CPA 10.
  // Previous 05-01..05-02: spend 10 + 10 = 20, conversions 4 → CPA 5. 04-30 is in neither.
  const json::object out = compute(with(R"({
      "period": {"current": {"from": "2026-05-03", "to": "2026-05-04"}},
      "compare": "previous_period",
      "rows": [
        {"date": "2026-04-30", "spend": 999, "conversions": 1},
        {"date": "2026-05-01", "spend": 10, "conversions": 2},
        {"date": "2026-05-02", "spend": 10, "conversions": 2},
        {"date": "2026-05-03", "spend": 30, "conversions": 1},
        {"date": "2026-05-04", "spend": 10, "conversions": 3}]})"));
  EXPECT_EQ(out.at("period").at("previous").at("from"), json::value("2026-05-01"));
  EXPECT_EQ(out.at("period").at("previous").at("to"), json::value("2026-05-02"));
  const json::object& r = out.at("rows").as_array()[0].as_object();
  EXPECT_DOUBLE_EQ(r.at("spend").as_double(), 40);
  const json::object& spend = r.at("changes").at("spend").as_object();
  EXPECT_DOUBLE_EQ(spend.at("value").as_double(), 40);
  EXPECT_DOUBLE_EQ(spend.at("previous").as_double(), 20);
  EXPECT_DOUBLE_EQ(spend.at("delta").as_double(), 20);
  EXPECT_DOUBLE_EQ(spend.at("delta_pct").as_double(), 100);
  const json::object& cpa = r.at("changes").at("cpa").as_object();
  EXPECT_DOUBLE_EQ(cpa.at("value").as_double(), 10);
  EXPECT_DOUBLE_EQ(cpa.at("previous").as_double(), 5);
  EXPECT_DOUBLE_EQ(cpa.at("delta_pct").as_double(), 100);
  // Revenue is 0 in both periods: the change in percent has no base.
  const json::object& revenue = r.at("changes").at("revenue").as_object();
  EXPECT_DOUBLE_EQ(revenue.at("delta").as_double(), 0);
  EXPECT_TRUE(revenue.at("delta_pct").is_null());
  EXPECT_DOUBLE_EQ(r.at("changes").at("roas").at("previous").as_double(), 0);
  EXPECT_TRUE(r.at("changes").at("roas").at("delta_pct").is_null());
}

TEST(KpiCompute, ExplicitPreviousRangeAndGroupsOnlyInOnePeriod) {
  const json::object out = compute(with(R"({"group_by": "campaign_id",
      "period": {"current": {"from": "2026-05-08", "to": "2026-05-14"},
                 "previous": {"from": "2026-05-01", "to": "2026-05-07"}},
      "rows": [
        {"campaign_id": "old", "date": "2026-05-02", "spend": 12.5},
        {"campaign_id": "new", "date": "2026-05-09", "spend": 3.25},
        {"campaign_id": "both", "date": "2026-05-03", "spend": 8, "clicks": 4},
        {"campaign_id": "both", "date": "2026-05-10", "spend": 6, "clicks": 4}]})"));
  const json::object& old = row_where(out, "campaign_id", "old");
  EXPECT_DOUBLE_EQ(old.at("spend").as_double(), 0);
  EXPECT_DOUBLE_EQ(old.at("changes").at("spend").at("delta_pct").as_double(), -100);
  const json::object& fresh = row_where(out, "campaign_id", "new");
  EXPECT_TRUE(fresh.at("changes").at("spend").at("previous").is_null());
  EXPECT_TRUE(fresh.at("changes").at("spend").at("delta_pct").is_null());
  const json::object& both = row_where(out, "campaign_id", "both");
  EXPECT_DOUBLE_EQ(both.at("changes").at("cpc").at("value").as_double(), 1.5);
  EXPECT_DOUBLE_EQ(both.at("changes").at("cpc").at("previous").as_double(), 2);
  EXPECT_DOUBLE_EQ(both.at("changes").at("cpc").at("delta").as_double(), -0.5);
  EXPECT_DOUBLE_EQ(both.at("changes").at("cpc").at("delta_pct").as_double(), -25);
}

TEST(KpiCompute, MetricsSelectsTheOutputColumns) {
  const json::object out =
      compute(with(R"({"metrics": ["cpa"], "rows": [{"spend": 4, "conversions": 2}]})"));
  const json::object& r = out.at("rows").as_array()[0].as_object();
  EXPECT_DOUBLE_EQ(r.at("cpa").as_double(), 2);
  EXPECT_FALSE(r.contains("roas"));
}

TEST(KpiCompute, BadInputNamesTheField) {
  EXPECT_NE(error_of(R"({"rows": [{"spend": 1}, {"spend": "12,50"}]})").find("with.rows[1].spend"),
            std::string::npos);
  EXPECT_NE(
      error_of(R"({"rows": [{"spend": -1}]})").find("with.rows[0].spend must not be negative"),
      std::string::npos);
  EXPECT_NE(error_of(R"({"rows": [{"date": "2026-02-30"}]})").find("with.rows[0].date"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"rows": [{"clicks": 1.5}]})").find("with.rows[0].clicks"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"rows": [{"spend": 1e12}]})").find("too large"), std::string::npos);
  EXPECT_NE(error_of(R"({"rows": {"spend": 1}})").find("with.rows must be an array"),
            std::string::npos);
  EXPECT_NE(error_of(R"({})").find("with.rows is required"), std::string::npos);
  EXPECT_NE(error_of(R"({"rows": [], "metrics": ["cpx"]})").find("unknown metric \"cpx\""),
            std::string::npos);
  EXPECT_NE(error_of(R"({"rows": [], "compare": "previous_period"})").find("with.period.current"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"rows": [{"spend": 1}],
                         "period": {"current": {"from": "2026-05-01", "to": "2026-05-02"}}})")
                .find("with.rows[0].date is required"),
            std::string::npos);
  EXPECT_NE(
      error_of(R"({"rows": [], "period": {"current": {"from": "2026-05-03", "to": "2026-05-02"}}})")
          .find("before"),
      std::string::npos);
}

TEST(KpiCompute, DatesRoundTripAndKnowTheirWeekday) {
  for (const char* d : {"1970-01-01", "2000-02-29", "2026-05-04", "2026-12-31", "2100-03-01"}) {
    const auto day = parse_day(d);
    ASSERT_TRUE(day) << d;
    EXPECT_EQ(format_day(*day), d);
  }
  EXPECT_EQ(*parse_day("1970-01-01"), 0);
  EXPECT_EQ(weekday_name(*parse_day("2026-05-04")), "Monday");
  EXPECT_EQ(weekday_name(*parse_day("1970-01-01")), "Thursday");
  EXPECT_EQ(weekday_name(*parse_day("1969-12-28")), "Sunday");
  EXPECT_FALSE(parse_day("2026-13-01"));
  EXPECT_FALSE(parse_day("2100-02-29"));
  EXPECT_FALSE(parse_day("2026-5-1"));
}

}  // namespace
}  // namespace flowpilot::kpi
