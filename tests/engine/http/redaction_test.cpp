#include "engine/http/detail/redaction.h"

#include <gtest/gtest.h>

namespace flowpilot::engine::http_detail {
namespace {

TEST(Redaction, ReplacesEverySecret) {
  EXPECT_EQ(redact("GET https://x/a?token=SECRET&b=SECRET", {"SECRET"}),
            "GET https://x/a?token=***&b=***");
  EXPECT_EQ(redact("key=k1 other=k2", {"k1", "k2"}), "key=*** other=***");
  EXPECT_EQ(redact("nothing here", {"", "absent"}), "nothing here");
}

TEST(Redaction, PercentEncodedFormToo) {
  EXPECT_EQ(redact("https://x/?q=a%20b%2Fc", {"a b/c"}), "https://x/?q=***");
}

TEST(Redaction, LongerSecretFirst) { EXPECT_EQ(redact("abcdef", {"abc", "abcdef"}), "***"); }

}  // namespace
}  // namespace flowpilot::engine::http_detail
