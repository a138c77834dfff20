// The core plugin's own duration parser must accept what the engine's definitions accept.
#include <gtest/gtest.h>

#include "plugins/core/duration.h"

namespace {

using flowpilot::core_plugin::kMaxDurationMs;
using flowpilot::core_plugin::parse_duration_ms;

TEST(CoreDuration, UnitsCombinationsAndBareSeconds) {
  EXPECT_EQ(parse_duration_ms("500ms"), 500);
  EXPECT_EQ(parse_duration_ms("30s"), 30'000);
  EXPECT_EQ(parse_duration_ms("5m"), 300'000);
  EXPECT_EQ(parse_duration_ms("2h"), 7'200'000);
  EXPECT_EQ(parse_duration_ms("1d"), 86'400'000);
  EXPECT_EQ(parse_duration_ms("1h30m"), 5'400'000);
  EXPECT_EQ(parse_duration_ms("1d2h3m4s5ms"), 93'784'005);
  EXPECT_EQ(parse_duration_ms("90"), 90'000);
  EXPECT_EQ(parse_duration_ms("1.5"), 1'500);
  EXPECT_EQ(parse_duration_ms("1.5s"), 1'500);
  EXPECT_EQ(parse_duration_ms(" 2m "), 120'000);
  EXPECT_EQ(parse_duration_ms("+3s"), 3'000);
  EXPECT_EQ(parse_duration_ms("36500d"), kMaxDurationMs);
}

TEST(CoreDuration, RefusesWithASentence) {
  std::string error;
  EXPECT_FALSE(parse_duration_ms("", &error));
  EXPECT_NE(error.find("empty"), std::string::npos);
  EXPECT_FALSE(parse_duration_ms("-5s", &error));
  EXPECT_EQ(error, "a duration must be positive, not `-5s`");
  EXPECT_FALSE(parse_duration_ms("0s", &error));
  EXPECT_NE(error.find("longer than zero"), std::string::npos);
  EXPECT_FALSE(parse_duration_ms("5 minutes", &error));
  EXPECT_NE(error.find("is not a duration"), std::string::npos);
  EXPECT_FALSE(parse_duration_ms("30m1h", &error));
  EXPECT_NE(error.find("largest first"), std::string::npos);
  EXPECT_FALSE(parse_duration_ms("1m1m", &error));
  EXPECT_FALSE(parse_duration_ms("1h30", &error));  // minutes or seconds?
  EXPECT_FALSE(parse_duration_ms("0.5ms", &error));
  EXPECT_NE(error.find("finer than a millisecond"), std::string::npos);
  EXPECT_FALSE(parse_duration_ms("36501d", &error));
  EXPECT_NE(error.find("too long"), std::string::npos);
  EXPECT_FALSE(parse_duration_ms("99999999999999999999999d", &error));
  EXPECT_FALSE(parse_duration_ms("s", &error));
  EXPECT_FALSE(parse_duration_ms(".", &error));
}

}  // namespace
