// quality_logic: each check passing and failing, severities, samples, the report's wording,
// durations and timestamps.
#include "quality_logic.h"

#include <gtest/gtest.h>

namespace flowpilot::quality_plugin {
namespace {

namespace json = boost::json;

constexpr std::int64_t kNow = 1'777'852'800;  // 2026-05-04T00:00:00Z

constexpr const char* kRows = R"j([
  {"campaign_id": "c1", "date": "2026-05-01", "spend": 10, "channel": "search"},
  {"campaign_id": "c2", "date": "2026-05-01", "spend": -1, "channel": "social"},
  {"campaign_id": "c1", "date": "2026-05-01", "spend": 5, "channel": "tv"},
  {"campaign_id": null, "date": "2026-05-02", "spend": 0, "channel": "search"},
  {"campaign_id": "c9", "date": "2026-05-03", "spend": 100, "channel": ""}
])j";

CheckOutcome check(const std::string& checks, const char* rows = kRows) {
  return run_checks(
      json::parse(std::string(R"j({"rows": )j") + rows + R"j(, "checks": )j" + checks + "}")
          .as_object(),
      kNow);
}

const json::object& first(const CheckOutcome& o) {
  return o.output.at("checks").at(0).as_object();
}

TEST(QualityChecks, Unique) {
  auto o = check(R"j([{"type": "unique", "columns": ["campaign_id", "date"]}])j");
  EXPECT_EQ(first(o).at("passed"), false);
  EXPECT_EQ(first(o).at("failing"), 1);
  EXPECT_EQ(first(o).at("samples").at(0).at("channel"), "tv");
  ASSERT_TRUE(o.failure);
  EXPECT_NE(o.failure->find("unique(campaign_id, date): 1 failing (row 2: campaign_id = \"c1\", "
                            "date = \"2026-05-01\" repeats row 0)"),
            std::string::npos)
      << *o.failure;
  EXPECT_TRUE(check(R"j([{"type": "unique", "columns": "spend"}])j").output.at("passed").as_bool());
}

TEST(QualityChecks, NotNullCountsNullsAndEmptyStrings) {
  auto o = check(R"j([{"type": "not_null", "columns": ["campaign_id", "channel"]}])j");
  EXPECT_EQ(first(o).at("failing"), 2);
  EXPECT_NE(o.failure->find("row 3: campaign_id is empty"), std::string::npos) << *o.failure;
}

TEST(QualityChecks, AcceptedValuesSkipNulls) {
  auto o = check(R"j([{"type": "accepted_values", "column": "channel", "values": ["search", "social", ""]}])j");
  EXPECT_EQ(first(o).at("failing"), 1);
  EXPECT_NE(o.failure->find("row 2: channel = \"tv\""), std::string::npos) << *o.failure;
}

TEST(QualityChecks, RangeWithInclusiveFlags) {
  EXPECT_EQ(first(check(R"j([{"type": "range", "column": "spend", "min": 0}])j")).at("failing"), 1);
  auto strict = check(R"j([{"type": "range", "column": "spend", "min": 0, "max": 100,
                            "min_inclusive": false, "max_inclusive": false}])j");
  EXPECT_EQ(first(strict).at("failing"), 3);
  EXPECT_NE(strict.failure->find("is not > 0 and < 100"), std::string::npos) << *strict.failure;
  auto dates = check(R"j([{"type": "range", "column": "date", "max": "2026-05-02"}])j");
  EXPECT_EQ(first(dates).at("failing"), 1);
  EXPECT_THROW(check(R"j([{"type": "range", "column": "spend"}])j"), QualityError);
}

TEST(QualityChecks, Relationships) {
  auto o = check(R"j([{"type": "relationships", "column": "campaign_id", "field": "id",
                       "to": [{"id": "c1"}, {"id": "c2"}]}])j");
  EXPECT_EQ(first(o).at("failing"), 1);
  EXPECT_NE(o.failure->find("row 4: campaign_id = \"c9\" has no match"), std::string::npos);
}

TEST(QualityChecks, Freshness) {
  // The latest date, 2026-05-03, covers that whole day: at 2026-05-04T00:00Z it is 0s old.
  EXPECT_TRUE(check(R"j([{"type": "freshness", "column": "date", "max_age": "1d"}])j").output.at("passed").as_bool());
  auto stale = check(R"j([{"type": "freshness", "column": "date", "max_age": "36h",
                           "as_of": "2026-05-06T00:00:00Z"}])j");
  EXPECT_FALSE(stale.output.at("passed").as_bool());
  EXPECT_EQ(first(stale).at("age_seconds"), 2 * 86400);
  EXPECT_NE(stale.failure->find("latest \"2026-05-03\" is older than 36h"), std::string::npos);
  auto ts = check(R"j([{"type": "freshness", "column": "at", "max_age": "90m",
                        "as_of": "2026-05-01T12:00:00+02:00"}])j",
                  R"j([{"at": "2026-05-01T08:00:00Z"}, {"at": "2026-05-01T09:31:00.5Z"}])j");
  EXPECT_TRUE(ts.output.at("passed").as_bool()) << json::serialize(ts.output);
  auto empty = check(R"j([{"type": "freshness", "column": "at", "max_age": "1d"}])j", "[]");
  EXPECT_FALSE(empty.output.at("passed").as_bool());
}

TEST(QualityChecks, WarnOnlyReportsAndSamplesAreCapped) {
  auto o = check(R"j([{"type": "range", "column": "spend", "min": 1000, "severity": "warn", "samples": 2},
                      {"type": "not_null", "columns": "date", "name": "dates present"}])j");
  EXPECT_FALSE(o.failure);
  EXPECT_TRUE(o.output.at("passed").as_bool());
  EXPECT_EQ(o.output.at("warnings"), 1);
  EXPECT_EQ(first(o).at("failing"), 5);
  EXPECT_EQ(first(o).at("samples").as_array().size(), 2u);
  EXPECT_EQ(o.output.at("checks").at(1).at("name"), "dates present");
}

TEST(QualityChecks, TheReportHasOneLinePerFailedCheck) {
  auto o = check(R"j([{"type": "unique", "columns": "campaign_id"},
                      {"type": "range", "column": "spend", "min": 0},
                      {"type": "not_null", "columns": "date"},
                      {"type": "accepted_values", "column": "channel", "values": ["search"], "severity": "warn"}])j");
  ASSERT_TRUE(o.failure);
  EXPECT_EQ(o.failure->substr(0, o.failure->find('\n')),
            "quality.check: 2 of 4 checks failed over 5 rows");
  EXPECT_EQ(std::count(o.failure->begin(), o.failure->end(), '\n'), 3);
  EXPECT_NE(o.failure->find("\n  warning: accepted_values(channel): 3 failing"), std::string::npos)
      << *o.failure;
}

TEST(QualityChecks, MalformedChecksNameTheirPath) {
  try {
    check(R"j([{"type": "unique", "columns": "a"}, {"type": "freshness", "column": "d", "max_age": "soon"}])j");
    FAIL();
  } catch (const QualityError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("with.checks[1].max_age", 0), 0u) << e.what();
  }
  EXPECT_THROW(check(R"j([{"type": "sorted"}])j"), QualityError);
}

TEST(QualityParsing, DurationsAndTimestamps) {
  EXPECT_EQ(parse_duration_seconds("1d12h"), 129600);
  EXPECT_EQ(parse_duration_seconds("90m"), 5400);
  EXPECT_EQ(parse_duration_seconds("1w"), 604800);
  EXPECT_FALSE(parse_duration_seconds("12"));
  EXPECT_FALSE(parse_duration_seconds("h"));
  EXPECT_EQ(parse_timestamp("1970-01-02"), 86400);
  EXPECT_EQ(parse_timestamp("2026-05-04T00:00:00Z"), kNow);
  EXPECT_EQ(parse_timestamp("2026-05-04 02:00:00+02:00"), kNow);
  EXPECT_FALSE(parse_timestamp("2026-13-01"));
  EXPECT_FALSE(parse_timestamp("yesterday"));
}

}  // namespace
}  // namespace flowpilot::quality_plugin
