#include "engine/schedule/cron.h"

#include <gtest/gtest.h>

#include <string>

namespace flowpilot::engine {
namespace {

template <std::size_t N>
std::string bits(const std::bitset<N>& b) {
  std::string out;
  for (std::size_t i = 0; i < N; ++i) {
    if (b.test(i)) out += (out.empty() ? "" : ",") + std::to_string(i);
  }
  return out;
}

CronExpression parse_ok(std::string_view text) {
  std::string error;
  auto cron = CronExpression::parse(text, &error);
  EXPECT_TRUE(cron.has_value()) << text << ": " << error;
  return cron.value_or(*CronExpression::parse("* * * * *"));
}

TEST(Cron, EveryMinute) {
  const auto c = parse_ok("* * * * *");
  EXPECT_FALSE(c.has_seconds());
  EXPECT_EQ(bits(c.seconds), "0");
  EXPECT_EQ(c.minutes.count(), 60u);
  EXPECT_EQ(c.hours.count(), 24u);
  EXPECT_EQ(c.days_of_month.count(), 31u);
  EXPECT_FALSE(c.days_of_month.test(0));
  EXPECT_EQ(c.months.count(), 12u);
  EXPECT_EQ(c.days_of_week.count(), 7u);
  EXPECT_FALSE(c.dom_restricted);
  EXPECT_FALSE(c.dow_restricted);
  EXPECT_EQ(c.text(), "* * * * *");
}

TEST(Cron, StepsRangesAndLists) {
  const auto c = parse_ok("*/15 9-17 1,15 * MON-FRI");
  EXPECT_EQ(bits(c.minutes), "0,15,30,45");
  EXPECT_EQ(bits(c.hours), "9,10,11,12,13,14,15,16,17");
  EXPECT_EQ(bits(c.days_of_month), "1,15");
  EXPECT_EQ(bits(c.days_of_week), "1,2,3,4,5");
  EXPECT_TRUE(c.dom_restricted);
  EXPECT_TRUE(c.dow_restricted);
}

TEST(Cron, RangeWithStepAndStartWithStep) {
  EXPECT_EQ(bits(parse_ok("10-50/5 * * * *").minutes), "10,15,20,25,30,35,40,45,50");
  EXPECT_EQ(bits(parse_ok("5/20 * * * *").minutes), "5,25,45");
}

TEST(Cron, NamesAreCaseInsensitive) {
  const auto c = parse_ok("0 0 * jan,Mar,DEC sun,Sat");
  EXPECT_EQ(bits(c.months), "1,3,12");
  EXPECT_EQ(bits(c.days_of_week), "0,6");
  EXPECT_EQ(bits(parse_ok("0 0 * FEB-APR *").months), "2,3,4");
}

TEST(Cron, SevenIsSunday) {
  EXPECT_EQ(bits(parse_ok("0 0 * * 7").days_of_week), "0");
  EXPECT_EQ(bits(parse_ok("0 0 * * 5-7").days_of_week), "0,5,6");
}

TEST(Cron, LastDayOfMonth) {
  const auto c = parse_ok("0 18 L * *");
  EXPECT_TRUE(c.last_day_of_month);
  EXPECT_TRUE(c.dom_restricted);
  EXPECT_EQ(c.days_of_month.count(), 0u);
}

TEST(Cron, SixFieldsHaveSecondsFirst) {
  const auto c = parse_ok("*/10 0 12 * * *");
  EXPECT_TRUE(c.has_seconds());
  EXPECT_EQ(bits(c.seconds), "0,10,20,30,40,50");
  EXPECT_EQ(bits(c.minutes), "0");
  EXPECT_EQ(bits(c.hours), "12");
}

TEST(Cron, Macros) {
  struct Case {
    const char* macro;
    const char* expanded;
  };
  for (const auto& [macro, expanded] :
       {Case{"@yearly", "0 0 1 1 *"}, Case{"@annually", "0 0 1 1 *"}, Case{"@monthly", "0 0 1 * *"},
        Case{"@weekly", "0 0 * * 0"}, Case{"@daily", "0 0 * * *"}, Case{"@midnight", "0 0 * * *"},
        Case{"@hourly", "0 * * * *"}, Case{"@HOURLY", "0 * * * *"}}) {
    const auto a = parse_ok(macro);
    const auto b = parse_ok(expanded);
    EXPECT_EQ(a.minutes, b.minutes) << macro;
    EXPECT_EQ(a.hours, b.hours) << macro;
    EXPECT_EQ(a.days_of_month, b.days_of_month) << macro;
    EXPECT_EQ(a.months, b.months) << macro;
    EXPECT_EQ(a.days_of_week, b.days_of_week) << macro;
    EXPECT_EQ(a.dom_restricted, b.dom_restricted) << macro;
    EXPECT_EQ(a.dow_restricted, b.dow_restricted) << macro;
    EXPECT_EQ(a.text(), macro);
  }
}

struct InvalidCase {
  const char* text;
  const char* fragment;
};

class InvalidCron : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(InvalidCron, NamesTheField) {
  std::string error;
  EXPECT_FALSE(CronExpression::parse(GetParam().text, &error).has_value()) << GetParam().text;
  EXPECT_NE(error.find(GetParam().fragment), std::string::npos) << error;
}

INSTANTIATE_TEST_SUITE_P(
    Table, InvalidCron,
    ::testing::Values(
        InvalidCase{"61 * * * *", "minute field `61` is out of range 0-59"},
        InvalidCase{"* 24 * * *", "hour field `24` is out of range 0-23"},
        InvalidCase{"* * 0 * *", "day-of-month field `0` is out of range 1-31"},
        InvalidCase{"* * 32 * *", "day-of-month field `32` is out of range 1-31"},
        InvalidCase{"* * * 13 *", "month field `13` is out of range 1-12"},
        InvalidCase{"* * * * 8", "day-of-week field `8` is out of range 0-7"},
        InvalidCase{"60 * * * * *", "second field `60` is out of range 0-59"},
        InvalidCase{"* * * FOO *", "month field `FOO` is not a number or a month name"},
        InvalidCase{"* * * * FUNDAY", "day-of-week field `FUNDAY` is not a number or a day name"},
        InvalidCase{"x * * * *", "minute field `x` is not a number"},
        InvalidCase{"*/0 * * * *", "minute field step `0` must be between 1 and 60"},
        InvalidCase{"*/x * * * *", "minute field step `x` is not a number"},
        InvalidCase{"5-1 * * * *", "minute field range `5-1` runs backwards"},
        InvalidCase{"1,,2 * * * *", "minute field `1,,2` has an empty list item"},
        InvalidCase{"-5 * * * *", "minute field `-5` is not a value or a range"},
        InvalidCase{"* * * *", "has 4"}, InvalidCase{"* * * * * * *", "has 7"},
        InvalidCase{"", "has 0"}, InvalidCase{"@every_minute", "unknown cron macro `@every_minute`"},
        InvalidCase{"* * * * L", "day-of-week field `L` is not a number or a day name"},
        InvalidCase{"? * * * *", "minute field `?` is not a number"}));

TEST(Cron, QuestionMarkInDayFields) {
  const auto c = parse_ok("0 12 ? * MON");
  EXPECT_FALSE(c.dom_restricted);
  EXPECT_TRUE(c.dow_restricted);
}

TEST(TimeZone, KnownAndUnknownNames) {
  EXPECT_TRUE(is_valid_time_zone("UTC"));
  EXPECT_TRUE(is_valid_time_zone("Europe/Berlin"));
  EXPECT_TRUE(is_valid_time_zone("America/New_York"));
  EXPECT_FALSE(is_valid_time_zone("Europe/Berln"));
  EXPECT_FALSE(is_valid_time_zone(""));
  EXPECT_FALSE(is_valid_time_zone("../../etc/passwd"));
}

}  // namespace
}  // namespace flowpilot::engine
