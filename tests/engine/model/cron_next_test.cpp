// Next-fire times of cron expressions in time zones, checked against a reference computed
// independently by scripts/gen_cron_fixture.py (every UTC minute converted to local time with
// Python's zoneinfo and matched), plus hand-checked cases the reference does not cover.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/schedule/cron.h"

namespace flowpilot::engine {
namespace {

using std::chrono::sys_seconds;

CronExpression cron(std::string_view text) {
  std::string error;
  auto parsed = CronExpression::parse(text, &error);
  if (!parsed) throw std::runtime_error(std::string(text) + ": " + error);
  return *parsed;
}

sys_seconds at(std::string_view iso, const std::string& zone = "UTC") {
  auto t = parse_iso8601(iso, zone);
  if (!t) throw std::runtime_error("bad test time " + std::string(iso));
  return *t;
}

// The next `count` fire times after `from` in `zone`, formatted in that zone.
std::vector<std::string> next_n(const CronExpression& c, sys_seconds from, const std::string& zone,
                                std::size_t count) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < count; ++i) {
    const auto next = c.next_after(from, zone);
    if (!next) break;
    out.push_back(format_iso8601(*next, zone));
    from = *next;
  }
  return out;
}

boost::json::value load_fixture() {
  std::ifstream in(std::string(FLOWPILOT_SOURCE_DIR) +
                   "/tests/engine/model/fixtures/cron_reference.json");
  std::stringstream text;
  text << in.rdbuf();
  return boost::json::parse(text.str());
}

TEST(CronNext, MatchesIndependentReference) {
  const auto fixture = load_fixture();
  const auto& cases = fixture.at("cases").as_array();
  ASSERT_GE(cases.size(), 100u);
  for (const auto& item : cases) {
    const auto& c = item.as_object();
    const std::string expr(c.at("expr").as_string());
    const std::string zone(c.at("zone").as_string());
    const std::string from_text(c.at("from").as_string());
    SCOPED_TRACE(expr + " in " + zone + " from " + from_text);
    std::vector<std::string> expected;
    for (const auto& v : c.at("next").as_array()) expected.emplace_back(v.as_string());

    const auto parsed = cron(expr);
    const sys_seconds from = at(from_text);
    const auto got = next_n(parsed, from, zone, expected.size());
    EXPECT_EQ(got, expected);
    // Fewer than five fires: the reference searched until `until` and found no more.
    if (expected.size() < 5) {
      const sys_seconds last = expected.empty() ? from : at(expected.back());
      const auto next = parsed.next_after(last, zone);
      if (next) {
        EXPECT_GE(*next, at(std::string(c.at("until").as_string())));
      }
    }
  }
}

TEST(CronNext, MondayAfterSpringChangeInBerlinIsNineLocal) {
  // Debian's python3-croniter 1.3.5 answers 08:00+02:00 here.
  const auto next =
      cron("0 9 * * MON").next_after(at("2026-03-28T00:00:00+01:00"), "Europe/Berlin");
  ASSERT_TRUE(next);
  EXPECT_EQ(format_iso8601(*next, "Europe/Berlin"), "2026-03-30T09:00:00+02:00");
}

TEST(CronNext, GapIsSkippedAndOverlapFiresTwice) {
  const auto c = cron("30 2 * * *");
  EXPECT_EQ(next_n(c, at("2026-03-28T12:00:00+01:00"), "Europe/Berlin", 2),
            (std::vector<std::string>{"2026-03-30T02:30:00+02:00", "2026-03-31T02:30:00+02:00"}));
  EXPECT_EQ(next_n(c, at("2026-10-24T12:00:00+02:00"), "Europe/Berlin", 3),
            (std::vector<std::string>{"2026-10-25T02:30:00+02:00", "2026-10-25T02:30:00+01:00",
                                      "2026-10-26T02:30:00+01:00"}));
}

TEST(CronNext, StrictlyAfter) {
  const auto c = cron("0 9 * * *");
  const auto next = c.next_after(at("2026-05-01T09:00:00Z"), "UTC");
  ASSERT_TRUE(next);
  EXPECT_EQ(format_iso8601(*next, "UTC"), "2026-05-02T09:00:00+00:00");
}

TEST(CronNext, ImpossibleExpressionHasNoFireTime) {
  EXPECT_FALSE(cron("0 0 30 2 *").next_after(at("2026-01-01T00:00:00Z"), "UTC"));
  EXPECT_FALSE(cron("0 0 31 4,6,9,11 *").next_after(at("2026-01-01T00:00:00Z"), "Europe/Berlin"));
}

TEST(CronNext, LeapDayAcrossTheSkipped2100) {
  // 2100 is not a leap year: eight years between 2096-02-29 and 2104-02-29.
  const auto next = cron("0 0 29 2 *").next_after(at("2096-03-01T00:00:00Z"), "UTC");
  ASSERT_TRUE(next);
  EXPECT_EQ(format_iso8601(*next, "UTC"), "2104-02-29T00:00:00+00:00");
}

TEST(CronNext, SecondsField) {
  EXPECT_EQ(next_n(cron("*/20 * * * * *"), at("2026-05-01T10:00:05Z"), "UTC", 4),
            (std::vector<std::string>{"2026-05-01T10:00:20+00:00", "2026-05-01T10:00:40+00:00",
                                      "2026-05-01T10:01:00+00:00", "2026-05-01T10:01:20+00:00"}));
  EXPECT_EQ(next_n(cron("30 0 9 * * MON"), at("2026-03-28T00:00:00Z"), "Europe/Berlin", 2),
            (std::vector<std::string>{"2026-03-30T09:00:30+02:00", "2026-04-06T09:00:30+02:00"}));
  EXPECT_EQ(next_n(cron("15,45 59 23 L * *"), at("2026-02-28T23:59:15Z"), "UTC", 2),
            (std::vector<std::string>{"2026-02-28T23:59:45+00:00", "2026-03-31T23:59:15+00:00"}));
  // Berlin overlap: from the first 02:00:10 (00:00:10Z) the next is the second one, an hour on;
  // from before the overlap both occur.
  EXPECT_EQ(next_n(cron("10 0 2 * * *"), at("2026-10-25T00:00:10Z"), "Europe/Berlin", 2),
            (std::vector<std::string>{"2026-10-25T02:00:10+01:00", "2026-10-26T02:00:10+01:00"}));
  EXPECT_EQ(next_n(cron("10 0 2 * * *"), at("2026-10-24T23:00:00Z"), "Europe/Berlin", 2),
            (std::vector<std::string>{"2026-10-25T02:00:10+02:00", "2026-10-25T02:00:10+01:00"}));
}

TEST(CronNext, SearchingYearsIsFast) {
  // Eight years of search for an impossible expression, 100 times: field by field, not by minute.
  const auto start = std::chrono::steady_clock::now();
  const auto c = cron("0 0 30 2 *");
  for (int i = 0; i < 100; ++i)
    EXPECT_FALSE(c.next_after(at("2026-01-01T00:00:00Z"), "Europe/Berlin"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds{5});
}

TEST(CronNext, UnknownZoneThrows) {
  EXPECT_THROW((void)cron("* * * * *").next_after(at("2026-01-01T00:00:00Z"), "Mars/Olympus"),
               std::invalid_argument);
  EXPECT_THROW((void)format_iso8601(at("2026-01-01T00:00:00Z"), "Nowhere"), std::invalid_argument);
}

TEST(CronIso8601, Formats) {
  EXPECT_EQ(format_iso8601(at("2026-07-01T12:00:00Z"), "UTC"), "2026-07-01T12:00:00+00:00");
  EXPECT_EQ(format_iso8601(at("2026-07-01T12:00:00Z"), "Asia/Kolkata"),
            "2026-07-01T17:30:00+05:30");
  EXPECT_EQ(format_iso8601(at("2026-07-01T12:00:00Z"), "America/St_Johns"),
            "2026-07-01T09:30:00-02:30");
  EXPECT_EQ(format_iso8601(at("2026-01-01T12:00:00Z"), "America/New_York"),
            "2026-01-01T07:00:00-05:00");
}

TEST(CronIso8601, ParsesOffsetsAndZulu) {
  const auto expected = at("2026-03-30T07:00:00Z");
  EXPECT_EQ(parse_iso8601("2026-03-30T09:00:00+02:00"), expected);
  EXPECT_EQ(parse_iso8601("2026-03-30T09:00+0200"), expected);
  EXPECT_EQ(parse_iso8601("2026-03-30 07:00:00z"), expected);
  EXPECT_EQ(parse_iso8601("2026-03-30T01:30:00-05:30"), expected);
  EXPECT_EQ(parse_iso8601("1970-01-01T00:00:00Z"), sys_seconds{});
}

TEST(CronIso8601, WithoutOffsetIsWallTimeInZone) {
  EXPECT_EQ(parse_iso8601("2026-03-30T09:00:00", "Europe/Berlin"), at("2026-03-30T07:00:00Z"));
  EXPECT_EQ(parse_iso8601("2026-03-30T09:00:00"), at("2026-03-30T09:00:00Z"));
  // Overlap: the earlier instant. Gap: no such time.
  EXPECT_EQ(parse_iso8601("2026-10-25T02:30:00", "Europe/Berlin"), at("2026-10-25T00:30:00Z"));
  EXPECT_FALSE(parse_iso8601("2026-03-29T02:30:00", "Europe/Berlin"));
}

TEST(CronIso8601, RejectsMalformed) {
  for (const char* bad :
       {"", "2026-03-30", "2026-3-30T09:00:00Z", "2026-02-30T09:00:00Z", "2026-03-30T24:00:00Z",
        "2026-03-30T09:60:00Z", "2026-03-30T09:00:60Z", "2026-03-30T09:00:00.5Z",
        "2026-03-30T09:00:00+2", "2026-03-30T09:00:00 Z", "2026-03-30T09:00:00Zjunk",
        "2026/03/30T09:00:00Z", "tomorrow"}) {
    EXPECT_FALSE(parse_iso8601(bad)) << bad;
  }
}

}  // namespace
}  // namespace flowpilot::engine
