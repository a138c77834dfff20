// Exact money for the marketing connectors: amounts as integer micros (1.00 = 1,000,000), parsed
// from the decimal strings the ad platforms send ("12.34") or their micros ("12340000"), and
// written into normalized rows as JSON numbers in major units with at most six decimals.
//
// Why numbers in rows: expressions (`row.spend > 100`) and people read them; consumers that add
// amounts convert each one back with to_micros(), which is exact for values below 9e9 units
// because every decimal with six places has a nearest double that rounds back to it.
//
// Pure functions; thread-safe.
#pragma once

#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

namespace flowpilot::marketing {

// Parses [-]digits[.digits] (at most six decimals; no exponent, no separators) into micros.
// Returns nullopt for anything else, including an empty string.
std::optional<std::int64_t> parse_decimal_micros(std::string_view text);

// Parses an integer in a string ("12500000"), as Google's int64 fields are sent.
std::optional<std::int64_t> parse_int64(std::string_view text);

// A JSON number in major units (micros / 1e6) for a normalized row.
boost::json::value micros_to_number(std::int64_t micros);

// The micros of a JSON number or numeric string in major units; nullopt when it is neither.
std::optional<std::int64_t> to_micros(const boost::json::value& amount);

}  // namespace flowpilot::marketing
