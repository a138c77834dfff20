#include "engine/schedule/duration.h"

#include <gtest/gtest.h>

#include <string>

namespace flowpilot::engine {
namespace {

using std::chrono::milliseconds;

struct ValidCase {
  const char* text;
  std::int64_t millis;
};

class ValidDuration : public ::testing::TestWithParam<ValidCase> {};

TEST_P(ValidDuration, Parses) {
  std::string error;
  const auto d = parse_duration(GetParam().text, &error);
  ASSERT_TRUE(d.has_value()) << GetParam().text << ": " << error;
  EXPECT_EQ(d->count(), GetParam().millis) << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ValidDuration,
    ::testing::Values(ValidCase{"500ms", 500}, ValidCase{"30s", 30'000}, ValidCase{"2m", 120'000},
                      ValidCase{"4h", 14'400'000}, ValidCase{"1d", 86'400'000},
                      ValidCase{"1h30m", 5'400'000}, ValidCase{"1d2h3m4s5ms", 93'784'005},
                      ValidCase{"30", 30'000}, ValidCase{"1.5", 1500}, ValidCase{"1.5s", 1500},
                      ValidCase{"0.25m", 15'000}, ValidCase{" 10s ", 10'000},
                      ValidCase{"+5s", 5000}, ValidCase{"36500d", 36'500LL * 86'400'000}));

struct InvalidCase {
  const char* text;
  const char* fragment;
};

class InvalidDuration : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(InvalidDuration, IsRejectedWithASentence) {
  std::string error;
  EXPECT_FALSE(parse_duration(GetParam().text, &error).has_value()) << GetParam().text;
  EXPECT_NE(error.find(GetParam().fragment), std::string::npos) << error;
}

INSTANTIATE_TEST_SUITE_P(
    Table, InvalidDuration,
    ::testing::Values(
        InvalidCase{"5x", "`5x` is not a duration; use a number with a unit such as 30s, 5m, 2h"},
        InvalidCase{"", "not a duration"}, InvalidCase{"abc", "`abc` is not a duration"},
        InvalidCase{"s", "`s` is not a duration"}, InvalidCase{"0", "longer than zero"},
        InvalidCase{"0s", "longer than zero"}, InvalidCase{"0h0m", "longer than zero"},
        InvalidCase{"-5s", "must be positive"}, InvalidCase{"1h30", "not a duration"},
        InvalidCase{"30m1h", "largest first"}, InvalidCase{"1m1m", "largest first"},
        InvalidCase{"1.0001s", "finer than a millisecond"},
        InvalidCase{"36501d", "too long"}, InvalidCase{"99999999999999999999999s", "too long"},
        InvalidCase{"1 h", "not a duration"}, InvalidCase{"1.2.3s", "not a duration"}));

TEST(Duration, ErrorPointerIsOptional) { EXPECT_FALSE(parse_duration("nope").has_value()); }

TEST(Duration, FormatsTheShortestExactForm) {
  EXPECT_EQ(format_duration(milliseconds(0)), "0s");
  EXPECT_EQ(format_duration(milliseconds(250)), "250ms");
  EXPECT_EQ(format_duration(milliseconds(5'400'000)), "1h30m");
  EXPECT_EQ(format_duration(milliseconds(93'784'005)), "1d2h3m4s5ms");
  EXPECT_EQ(format_duration(milliseconds(-1500)), "-1s500ms");
}

TEST(Duration, FormatRoundTrips) {
  for (std::int64_t ms : {1LL, 999LL, 1000LL, 61'000LL, 3'600'001LL, 86'400'000LL * 3 + 7}) {
    const auto parsed = parse_duration(format_duration(milliseconds(ms)));
    ASSERT_TRUE(parsed.has_value()) << ms;
    EXPECT_EQ(parsed->count(), ms);
  }
}

}  // namespace
}  // namespace flowpilot::engine
