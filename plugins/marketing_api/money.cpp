#include "money.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <string>

namespace flowpilot::marketing {

std::optional<std::int64_t> parse_decimal_micros(std::string_view text) {
  bool negative = false;
  if (!text.empty() && text.front() == '-') {
    negative = true;
    text.remove_prefix(1);
  }
  const auto dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view fraction =
      dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  if (whole.empty() || whole.front() < '0' || whole.front() > '9' || fraction.size() > 6) {
    return std::nullopt;
  }
  if (dot != std::string_view::npos && fraction.empty()) return std::nullopt;
  std::int64_t units = 0;
  auto [end, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), units);
  if (ec != std::errc() || end != whole.data() + whole.size()) return std::nullopt;
  std::int64_t micros_part = 0;
  for (std::size_t i = 0; i < 6; ++i) {
    const char c = i < fraction.size() ? fraction[i] : '0';
    if (c < '0' || c > '9') return std::nullopt;
    micros_part = micros_part * 10 + (c - '0');
  }
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max() / 1'000'000 - 1;
  if (units > kMax) return std::nullopt;
  const std::int64_t value = units * 1'000'000 + micros_part;
  return negative ? -value : value;
}

std::optional<std::int64_t> parse_int64(std::string_view text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

boost::json::value micros_to_number(std::int64_t micros) {
  if (micros % 1'000'000 == 0) return micros / 1'000'000;
  return static_cast<double>(micros) / 1e6;
}

std::optional<std::int64_t> to_micros(const boost::json::value& amount) {
  if (amount.is_int64()) return amount.get_int64() * 1'000'000;
  if (amount.is_uint64()) return static_cast<std::int64_t>(amount.get_uint64()) * 1'000'000;
  if (amount.is_double()) {
    const double v = amount.get_double();
    if (!std::isfinite(v) || std::fabs(v) > 9e12) return std::nullopt;
    return std::llround(v * 1e6);
  }
  if (amount.is_string()) return parse_decimal_micros(amount.get_string());
  return std::nullopt;
}

}  // namespace flowpilot::marketing
