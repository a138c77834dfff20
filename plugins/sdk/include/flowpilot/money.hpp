// Exact money for plugins and the host: amounts are integer micros (1.00 = 1,000,000), so that
// sums never drift. Header-only, so that plugins (which never link the engine) and the engine
// parse amounts the same way.
//
// Decimal text comes in two dialects:
//   - strict, for what APIs send ("12.34", "-3"): digits, then optionally a point and one to six
//     digits; nothing else.
//   - lenient, for what people type into spreadsheets: also a leading `+`, "1." and ".5", and
//     zeros past the sixth decimal ("1.2300000").
// JSON numbers in rows are major units; to_micros() rounds each one to the nearest micro. That
// gives back exactly the decimal that was written as long as doubles are finer than a micro
// there: below 2^33 (about 8.59e9) units, so kMaxExactNumber.
//
// Pure functions; thread-safe.
#pragma once

#include <boost/json/value.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>

namespace flowpilot::sdk::money {

inline constexpr std::int64_t kMicrosPerUnit = 1'000'000;
// Whole units above this do not fit in micros (or, as doubles, round to the wrong micro).
inline constexpr std::int64_t kMaxUnits = std::numeric_limits<std::int64_t>::max() / kMicrosPerUnit - 1;
inline constexpr double kMaxExactNumber = 8.5e9;

enum class Dialect { strict, lenient };

struct Parsed {
  std::optional<std::int64_t> micros;
  // Why `micros` is empty, in words that follow the quoted text ("\"1.2345678\" has more than
  // 6 decimals").
  std::string_view problem;
};

inline Parsed parse_decimal(std::string_view text, Dialect dialect = Dialect::strict) {
  const bool lenient = dialect == Dialect::lenient;
  constexpr std::string_view kNotDecimal = "is not a decimal number";
  bool negative = false;
  if (!text.empty() && (text.front() == '-' || (lenient && text.front() == '+'))) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  std::int64_t units = 0;
  std::size_t i = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    if (units > kMaxUnits / 10) return {std::nullopt, "is too large"};
    units = units * 10 + (text[i] - '0');
  }
  if (units > kMaxUnits) return {std::nullopt, "is too large"};
  const std::size_t whole_digits = i;
  std::int64_t fraction = 0;
  std::size_t fraction_digits = 0;
  const bool has_point = i < text.size() && text[i] == '.';
  if (has_point) {
    for (++i; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, ++fraction_digits) {
      if (fraction_digits < 6) {
        fraction = fraction * 10 + (text[i] - '0');
      } else if (!lenient || text[i] != '0') {
        return {std::nullopt, "has more than 6 decimals"};
      }
    }
  }
  if (i != text.size() || whole_digits + fraction_digits == 0) return {std::nullopt, kNotDecimal};
  if (!lenient && (whole_digits == 0 || (has_point && fraction_digits == 0))) {
    return {std::nullopt, kNotDecimal};
  }
  for (std::size_t d = fraction_digits; d < 6; ++d) fraction *= 10;
  const std::int64_t micros = units * kMicrosPerUnit + fraction;
  return {negative ? -micros : micros, {}};
}

// The micros of a strict decimal string; nullopt for anything else, including "".
inline std::optional<std::int64_t> parse_decimal_micros(std::string_view text) {
  return parse_decimal(text, Dialect::strict).micros;
}

// The micros of a JSON number or strict decimal string in major units; nullopt when it is
// neither, or not finite, or too large to be exact.
inline std::optional<std::int64_t> to_micros(const boost::json::value& amount) {
  if (amount.is_int64()) {
    const std::int64_t v = amount.get_int64();
    if (v > kMaxUnits || v < -kMaxUnits) return std::nullopt;
    return v * kMicrosPerUnit;
  }
  if (amount.is_uint64()) {
    if (amount.get_uint64() > static_cast<std::uint64_t>(kMaxUnits)) return std::nullopt;
    return static_cast<std::int64_t>(amount.get_uint64()) * kMicrosPerUnit;
  }
  if (amount.is_double()) {
    const double v = amount.get_double();
    if (!std::isfinite(v) || std::fabs(v) > kMaxExactNumber) return std::nullopt;
    // Whole units and the fraction apart: v * 1e6 in one go would add a rounding of its own.
    const double whole = std::trunc(v);
    return static_cast<std::int64_t>(whole) * kMicrosPerUnit + std::llround((v - whole) * 1e6);
  }
  if (amount.is_string()) return parse_decimal_micros(amount.get_string());
  return std::nullopt;
}

// A JSON number in major units for a row: an integer when the amount is whole.
inline boost::json::value micros_to_number(std::int64_t micros) {
  if (micros % kMicrosPerUnit == 0) return micros / kMicrosPerUnit;
  return static_cast<double>(micros) / 1e6;
}

}  // namespace flowpilot::sdk::money
