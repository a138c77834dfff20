// Slows down password guessing: failed sign-ins are counted per account and per client address
// over a sliding window, and past a limit further attempts are refused, without checking the
// password, until the oldest counted failure leaves the window.
//
// Defaults: 5 failures per account and 20 per address in 15 minutes. So a guesser gets about one
// try every 3 minutes per account, and one address about one try every 45 seconds across all
// accounts; a person who mistypes a few times is not stopped. A successful sign-in clears the
// account's failures (not the address's). At most `max_tracked` accounts and addresses are
// remembered; past that the oldest entries are dropped, so memory stays bounded under a spray of
// made-up names. The counts live in memory: a restart forgets them.
//
// Thread-safety: every member function may be called from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace flowpilot::engine {

struct LoginThrottleOptions {
  int account_failures = 5;
  int address_failures = 20;
  std::chrono::seconds window{15 * 60};
  std::size_t max_tracked = 100'000;
};

class LoginThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  explicit LoginThrottle(LoginThrottleOptions options = {});

  // Zero when an attempt may go ahead; otherwise how long to wait (at least one second).
  std::chrono::seconds wait(std::string_view account, std::string_view address,
                            Clock::time_point now = Clock::now());
  void failed(std::string_view account, std::string_view address,
              Clock::time_point now = Clock::now());
  void succeeded(std::string_view account);

 private:
  using Failures = std::map<std::string, std::deque<Clock::time_point>, std::less<>>;
  std::chrono::seconds wait_for(Failures& failures, std::string_view key, int limit,
                                Clock::time_point now);
  void record(Failures& failures, std::string_view key, Clock::time_point now);

  LoginThrottleOptions options_;
  std::mutex mu_;
  Failures by_account_;
  Failures by_address_;
};

}  // namespace flowpilot::engine
