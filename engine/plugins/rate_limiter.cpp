#include "engine/plugins/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace flowpilot::engine {

namespace {

std::chrono::milliseconds ceil_millis(std::chrono::steady_clock::duration d) {
  return d.count() <= 0 ? std::chrono::milliseconds(0)
                        : std::chrono::ceil<std::chrono::milliseconds>(d);
}

}  // namespace

void RateLimiter::configure(std::string key, RateLimit limit) {
  std::lock_guard lock(mu_);
  Bucket& bucket = buckets_[std::move(key)];  // keeps a pause in force
  bucket.limit = limit;
  bucket.level = limit.burst;
  bucket.updated = std::chrono::steady_clock::now();
}

std::chrono::milliseconds RateLimiter::reserve(std::string_view key, double tokens) {
  std::lock_guard lock(mu_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) return std::chrono::milliseconds(0);
  Bucket& b = it->second;
  const auto now = std::chrono::steady_clock::now();
  const auto paused = ceil_millis(b.paused_until - now);
  if (b.limit.per_second <= 0) return paused;
  // Tokens refill from the end of the pause: a caller released by it does not find a bucket that
  // filled up while the API was refusing calls, so the callers do not stampede together.
  const auto refill_from = std::max(now, b.paused_until);
  const double elapsed = std::chrono::duration<double>(refill_from - b.updated).count();
  b.level = std::min(b.limit.burst, b.level + std::max(0.0, elapsed) * b.limit.per_second);
  b.updated = refill_from;
  b.level -= tokens;
  if (b.level >= 0) return paused;
  return paused + std::chrono::milliseconds(static_cast<std::int64_t>(
                      std::ceil(-b.level / b.limit.per_second * 1000.0)));
}

void RateLimiter::pause(std::string_view key, std::chrono::milliseconds delay) {
  if (delay.count() <= 0) return;
  std::lock_guard lock(mu_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) it = buckets_.emplace(std::string(key), Bucket{}).first;
  Bucket& b = it->second;
  const auto until = std::chrono::steady_clock::now() + delay;
  if (until <= b.paused_until) return;
  if (b.limit.per_second > 0) {
    // Bring the level up to date before moving the refill start to the pause's end.
    const auto now = std::chrono::steady_clock::now();
    if (now > b.updated) {
      const double elapsed = std::chrono::duration<double>(now - b.updated).count();
      b.level = std::min(b.limit.burst, b.level + elapsed * b.limit.per_second);
      b.updated = now;
    }
    // Nothing refills while paused: the pause ends with the level it started with.
    b.level = std::min(b.level, 0.0);
    b.updated = until;
  }
  b.paused_until = until;
}

}  // namespace flowpilot::engine
