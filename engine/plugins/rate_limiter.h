// Token buckets keyed by name (a connection, an ad account), shared by every run in the process.
// A key without a configured rate is unlimited, except while it is paused: pause() holds every
// caller of a key back until a point in time (the back-off an API asked for), rate or no rate.
//
// Thread-safety: all members may be called from any thread.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace flowpilot::engine {

struct RateLimit {
  double per_second = 0;  // sustained rate; 0 = unlimited
  double burst = 1;       // bucket size
};

class RateLimiter {
 public:
  void configure(std::string key, RateLimit limit);

  // Takes `tokens` from the bucket of `key` and returns how long the caller must wait before
  // using them (zero when available now). Tokens are reserved at once, so concurrent callers
  // queue up behind each other instead of all waking at the same moment.
  std::chrono::milliseconds reserve(std::string_view key, double tokens);

  // Makes reserve() on `key` wait until at least `delay` from now. A shorter pause never shortens
  // a longer one in force.
  void pause(std::string_view key, std::chrono::milliseconds delay);

 private:
  struct Bucket {
    RateLimit limit;
    double level = 0;  // may go negative: tokens promised to waiting callers
    std::chrono::steady_clock::time_point updated{};
    std::chrono::steady_clock::time_point paused_until{};
  };
  std::mutex mu_;
  std::map<std::string, Bucket, std::less<>> buckets_;
};

}  // namespace flowpilot::engine
