#include "engine/access/login_throttle.h"

#include <algorithm>

namespace flowpilot::engine {

LoginThrottle::LoginThrottle(LoginThrottleOptions options) : options_(options) {}

std::chrono::seconds LoginThrottle::wait_for(Failures& failures, std::string_view key, int limit,
                                             Clock::time_point now) {
  auto it = failures.find(key);
  if (it == failures.end()) return std::chrono::seconds::zero();
  auto& times = it->second;
  while (!times.empty() && now - times.front() >= options_.window) times.pop_front();
  if (times.empty()) {
    failures.erase(it);
    return std::chrono::seconds::zero();
  }
  if (static_cast<int>(times.size()) < limit) return std::chrono::seconds::zero();
  // The attempt may go ahead once enough failures have aged out to get below the limit.
  const auto freed_at = times[times.size() - static_cast<std::size_t>(limit)] + options_.window;
  const auto left = std::chrono::ceil<std::chrono::seconds>(freed_at - now);
  return std::max(left, std::chrono::seconds(1));
}

void LoginThrottle::record(Failures& failures, std::string_view key, Clock::time_point now) {
  auto it = failures.find(key);
  if (it == failures.end()) {
    if (failures.size() >= options_.max_tracked) {
      // Drop the entry whose latest failure is oldest: it is the least likely to matter.
      auto oldest = std::min_element(failures.begin(), failures.end(), [](const auto& a, const auto& b) {
        return a.second.back() < b.second.back();
      });
      failures.erase(oldest);
    }
    it = failures.emplace(std::string(key), std::deque<Clock::time_point>{}).first;
  }
  it->second.push_back(now);
  // Only the newest `limit`-many matter; keep the deque short.
  const std::size_t keep = static_cast<std::size_t>(
      std::max(options_.account_failures, options_.address_failures));
  while (it->second.size() > keep) it->second.pop_front();
}

std::chrono::seconds LoginThrottle::wait(std::string_view account, std::string_view address,
                                         Clock::time_point now) {
  std::lock_guard lock(mu_);
  return std::max(wait_for(by_account_, account, options_.account_failures, now),
                  wait_for(by_address_, address, options_.address_failures, now));
}

void LoginThrottle::failed(std::string_view account, std::string_view address,
                           Clock::time_point now) {
  std::lock_guard lock(mu_);
  record(by_account_, account, now);
  record(by_address_, address, now);
}

void LoginThrottle::succeeded(std::string_view account) {
  std::lock_guard lock(mu_);
  by_account_.erase(std::string(account));
}

}  // namespace flowpilot::engine
