// Exact money for the marketing connectors: the SDK's amounts in integer micros
// (flowpilot/money.hpp), under the names the connectors use. Rows carry amounts as JSON numbers in
// major units with at most six decimals, because expressions (`row.spend > 100`) and people read
// them; consumers that add amounts convert each one back with to_micros().
#pragma once

#include <flowpilot/money.hpp>

#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>

namespace flowpilot::marketing {

using sdk::money::micros_to_number;
using sdk::money::parse_decimal_micros;
using sdk::money::to_micros;

// Parses an integer in a string ("12500000"), as Google's int64 fields are sent.
inline std::optional<std::int64_t> parse_int64(std::string_view text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

}  // namespace flowpilot::marketing
