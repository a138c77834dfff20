#include "scripting/detail/pattern_guard.h"

#include <gtest/gtest.h>

#include <string>

namespace flowpilot::scripting::detail {
namespace {

TEST(PatternGuard, LiteralPatternsCostOneStepPerStart) {
  EXPECT_DOUBLE_EQ(estimate_pattern_steps("hello", "ll", true), 6);
  EXPECT_DOUBLE_EQ(estimate_pattern_steps("hello", "^he", true), 1);
  EXPECT_DOUBLE_EQ(estimate_pattern_steps("hello", "^he", false), 6);  // gmatch does not anchor
}

TEST(PatternGuard, QuantifiersMultiplyByTheLongestMatchingRun) {
  const std::string words = "ab12 cd345 e";
  // %d+ matches at most 3 bytes in a row, %a+ at most 2.
  EXPECT_DOUBLE_EQ(estimate_pattern_steps(words, "%d+", true), 13 * 4);
  EXPECT_DOUBLE_EQ(estimate_pattern_steps(words, "%a+%d+", true), 13 * 3 * 4);
  EXPECT_DOUBLE_EQ(estimate_pattern_steps(words, "[%a]*", true), 13 * 3);
  EXPECT_DOUBLE_EQ(estimate_pattern_steps(words, "[^ ]-", true), 13 * 6);
  EXPECT_DOUBLE_EQ(estimate_pattern_steps(words, "[a-c]*", true), 13 * 3);
  EXPECT_DOUBLE_EQ(estimate_pattern_steps(words, ".?", true), 13 * 2);
  EXPECT_DOUBLE_EQ(estimate_pattern_steps(words, "%%*", true), 13);  // literal '%' never occurs
}

TEST(PatternGuard, NestedWildcardsExplode) {
  const std::string as(3000, 'a');
  EXPECT_GT(estimate_pattern_steps(as, ".-.-.-b", true), kMaxPatternSteps);
  EXPECT_GT(estimate_pattern_steps(std::string(100000, 'a'), "[^,]*,", true), kMaxPatternSteps);
  EXPECT_LT(estimate_pattern_steps(as, "^%s*(.-)%s*$", true), kMaxPatternSteps);
  std::string pairs;
  while (pairs.size() < 10000) pairs += "key" + std::to_string(pairs.size()) + "=value, ";
  EXPECT_LT(estimate_pattern_steps(pairs, "(%w+)=(%w+)", true), kMaxPatternSteps);
}

TEST(PatternGuard, MalformedPatternsDoNotCrash) {
  for (const char* pattern : {"%", "[", "[^", "[a-", "%b", "%f", "%f[", "(", "%1*", "x%"}) {
    EXPECT_GE(estimate_pattern_steps("abc", pattern, true), 1) << pattern;
  }
}

}  // namespace
}  // namespace flowpilot::scripting::detail
