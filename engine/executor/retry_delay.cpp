#include "engine/executor/executor.h"

#include <sodium.h>

#include <algorithm>

namespace flowpilot::engine {

std::chrono::milliseconds retry_delay(const RetryPolicy& policy, int failed_attempts,
                                      std::optional<std::chrono::milliseconds> retry_after) {
  using std::chrono::milliseconds;
  const std::int64_t cap = std::max<std::int64_t>(0, policy.max_delay.count());
  std::int64_t ceiling = std::max<std::int64_t>(0, policy.delay.count());
  if (policy.backoff == Backoff::exponential) {
    for (int i = 1; i < failed_attempts && ceiling < cap; ++i) ceiling *= 2;
  }
  ceiling = std::min(ceiling, cap);
  // Full jitter: spreading retries over the whole window avoids synchronised retry storms.
  std::int64_t delay = 0;
  if (policy.backoff == Backoff::fixed) {
    delay = ceiling;
  } else if (ceiling > 0) {
    delay = static_cast<std::int64_t>(
        randombytes_uniform(static_cast<std::uint32_t>(std::min<std::int64_t>(ceiling, 0xFFFFFFFE)) + 1));
  }
  if (retry_after) delay = std::max(delay, retry_after->count());
  return milliseconds(delay);
}

}  // namespace flowpilot::engine
