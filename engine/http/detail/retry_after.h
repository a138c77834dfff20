// When to retry a throttled request: the server's Retry-After, or an exponential back-off.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace flowpilot::engine::http_detail {

// One wait never exceeds this, whatever the server asks: a plugin step holding its run for longer
// than five minutes per attempt is better off failing and being retried by the workflow.
inline constexpr std::chrono::milliseconds kMaxRetryWait{5 * 60 * 1000};

// Retry-After as delta-seconds ("120") or an HTTP-date ("Wed, 21 Oct 2015 07:28:00 GMT"),
// relative to `now`; capped at kMaxRetryWait, a date in the past gives 0. nullopt if unparsable.
std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now);

// The wait before retry number `retry` (1-based) without Retry-After: 1 s, 2 s, 4 s, ... plus up
// to a quarter more chosen by `jitter` in [0, 1), so that clients throttled together spread out.
std::chrono::milliseconds backoff_delay(int retry, double jitter);

}  // namespace flowpilot::engine::http_detail
