#include "engine/plugins/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace flowpilot::engine {

void RateLimiter::configure(std::string key, RateLimit limit) {
  std::lock_guard lock(mu_);
  Bucket bucket;
  bucket.limit = limit;
  bucket.level = limit.burst;
  bucket.updated = std::chrono::steady_clock::now();
  buckets_[std::move(key)] = bucket;
}

std::chrono::milliseconds RateLimiter::reserve(std::string_view key, double tokens) {
  std::lock_guard lock(mu_);
  auto it = buckets_.find(key);
  if (it == buckets_.end() || it->second.limit.per_second <= 0) return std::chrono::milliseconds(0);
  Bucket& b = it->second;
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - b.updated).count();
  b.level = std::min(b.limit.burst, b.level + elapsed * b.limit.per_second);
  b.updated = now;
  b.level -= tokens;
  if (b.level >= 0) return std::chrono::milliseconds(0);
  return std::chrono::milliseconds(
      static_cast<std::int64_t>(std::ceil(-b.level / b.limit.per_second * 1000.0)));
}

}  // namespace flowpilot::engine
