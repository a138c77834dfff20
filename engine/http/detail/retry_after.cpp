#include "engine/http/detail/retry_after.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <string>

namespace flowpilot::engine::http_detail {

std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now) {
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front()))) {
    value.remove_prefix(1);
  }
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) {
    value.remove_suffix(1);
  }
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; })) {
    // Anything longer than the cap's digits is over the cap; this also avoids overflow.
    if (value.size() > 6) return kMaxRetryWait;
    const std::chrono::seconds seconds{std::stol(std::string(value))};
    return std::min<std::chrono::milliseconds>(seconds, kMaxRetryWait);
  }
  // curl's date parser understands the three HTTP-date formats of RFC 9110.
  const std::string text(value);
  const time_t when = curl_getdate(text.c_str(), nullptr);
  if (when == -1) return std::nullopt;
  const auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::from_time_t(when) - now);
  return std::clamp<std::chrono::milliseconds>(delay, std::chrono::milliseconds{0}, kMaxRetryWait);
}

std::chrono::milliseconds backoff_delay(int retry, double jitter) {
  const int doublings = std::clamp(retry - 1, 0, 20);
  const auto base = std::chrono::milliseconds{1000} * (std::int64_t{1} << doublings);
  const auto extra = std::chrono::milliseconds{static_cast<std::int64_t>(
      static_cast<double>(base.count()) * 0.25 * std::clamp(jitter, 0.0, 1.0))};
  return std::min<std::chrono::milliseconds>(base + extra, kMaxRetryWait);
}

}  // namespace flowpilot::engine::http_detail
