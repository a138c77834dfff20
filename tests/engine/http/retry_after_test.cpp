#include "engine/http/detail/retry_after.h"

#include <gtest/gtest.h>

#include <chrono>
#include <ctime>

namespace flowpilot::engine::http_detail {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// 2015-10-21T07:28:00Z, the date in RFC 9110's example.
const auto kExampleDate = std::chrono::system_clock::from_time_t(1445412480);

TEST(RetryAfter, DeltaSeconds) {
  const auto now = std::chrono::system_clock::now();
  EXPECT_EQ(parse_retry_after("1", now), milliseconds{1000});
  EXPECT_EQ(parse_retry_after(" 120 ", now), seconds{120});
  EXPECT_EQ(parse_retry_after("0", now), milliseconds{0});
}

TEST(RetryAfter, CappedAtFiveMinutes) {
  const auto now = std::chrono::system_clock::now();
  EXPECT_EQ(parse_retry_after("301", now), kMaxRetryWait);
  EXPECT_EQ(parse_retry_after("99999999999999999999999", now), kMaxRetryWait);
  EXPECT_EQ(
      parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", kExampleDate - std::chrono::hours{2}),
      kMaxRetryWait);
}

TEST(RetryAfter, HttpDates) {
  const auto before = kExampleDate - seconds{30};
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", before), seconds{30});
  EXPECT_EQ(parse_retry_after("Wednesday, 21-Oct-15 07:28:00 GMT", before), seconds{30});
  EXPECT_EQ(parse_retry_after("Wed Oct 21 07:28:00 2015", before), seconds{30});
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", kExampleDate + seconds{5}),
            milliseconds{0});
}

TEST(RetryAfter, GarbageIsIgnored) {
  const auto now = std::chrono::system_clock::now();
  EXPECT_EQ(parse_retry_after("", now), std::nullopt);
  EXPECT_EQ(parse_retry_after("soon", now), std::nullopt);
  EXPECT_EQ(parse_retry_after("-5", now), std::nullopt);
}

TEST(Backoff, DoublesWithBoundedJitter) {
  EXPECT_EQ(backoff_delay(1, 0.0), milliseconds{1000});
  EXPECT_EQ(backoff_delay(2, 0.0), milliseconds{2000});
  EXPECT_EQ(backoff_delay(3, 0.0), milliseconds{4000});
  EXPECT_GE(backoff_delay(3, 0.99), milliseconds{4000});
  EXPECT_LT(backoff_delay(3, 0.99), milliseconds{5000});
  EXPECT_EQ(backoff_delay(40, 0.5), kMaxRetryWait);
  EXPECT_EQ(backoff_delay(0, 0.0), milliseconds{1000});
}

}  // namespace
}  // namespace flowpilot::engine::http_detail
