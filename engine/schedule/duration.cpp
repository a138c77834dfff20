#include "engine/schedule/duration.h"

#include <array>
#include <cctype>
#include <cstdint>

namespace flowpilot::engine {
namespace {

// Longer than this and adding the duration to a steady_clock time point (nanoseconds since boot)
// risks overflow; no definition needs a timeout of more than a century.
constexpr std::int64_t kMaxMillis = 36'500LL * 24 * 3600 * 1000;

struct Unit {
  std::string_view name;
  std::int64_t millis;
};
// Largest first: a combination must list its units in this order ("1h30m", not "30m1h").
constexpr std::array<Unit, 5> kUnits{{
    {"d", 86'400'000}, {"h", 3'600'000}, {"m", 60'000}, {"s", 1000}, {"ms", 1}}};

std::string not_a_duration(std::string_view text) {
  return "`" + std::string(text) +
         "` is not a duration; use a number with a unit such as 30s, 5m, 2h";
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Parses "<digits>[.<digits>]" at text[pos] into an exact value in units of 10^-frac_digits.
// Returns false when there is no number or it is too large to matter.
bool read_number(std::string_view text, std::size_t& pos, std::int64_t& whole, std::int64_t& frac,
                 std::int64_t& frac_scale) {
  const std::size_t start = pos;
  whole = 0;
  frac = 0;
  frac_scale = 1;
  while (pos < text.size() && is_digit(text[pos])) {
    if (whole > kMaxMillis) {
      whole = kMaxMillis + 1;  // saturate: the caller reports "too long"
      ++pos;
      continue;
    }
    whole = whole * 10 + (text[pos] - '0');
    ++pos;
  }
  bool any_digit = pos > start;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    while (pos < text.size() && is_digit(text[pos])) {
      // Nine digits are finer than a millisecond of any unit; further zeros change nothing, and
      // stopping there keeps frac * unit within 64 bits.
      if (frac_scale < 1'000'000'000LL) {
        frac = frac * 10 + (text[pos] - '0');
        frac_scale *= 10;
      } else if (text[pos] != '0') {
        return false;
      }
      any_digit = true;
      ++pos;
    }
  }
  return any_digit;
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text, std::string* error) {
  auto fail = [&](std::string message) -> std::optional<std::chrono::milliseconds> {
    if (error != nullptr) *error = std::move(message);
    return std::nullopt;
  };
  const std::string_view original = text;
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  if (text.empty()) return fail("an empty value is not a duration; use a number with a unit such as 30s, 5m, 2h");
  if (text.front() == '-') return fail("a duration must be positive, not `" + std::string(original) + "`");
  if (text.front() == '+') text.remove_prefix(1);

  std::int64_t total = 0;
  std::size_t pos = 0;
  std::size_t next_unit = 0;  // index into kUnits of the largest unit still allowed
  bool too_long = false;
  while (pos < text.size()) {
    std::int64_t whole = 0;
    std::int64_t frac = 0;
    std::int64_t scale = 1;
    if (!read_number(text, pos, whole, frac, scale)) return fail(not_a_duration(original));
    std::int64_t unit_millis = 1000;  // a bare number means seconds
    if (pos == text.size()) {
      if (next_unit != 0) return fail(not_a_duration(original));  // "1h30": ambiguous
    } else {
      const std::size_t unit_start = pos;
      while (pos < text.size() && std::isalpha(static_cast<unsigned char>(text[pos]))) ++pos;
      const std::string_view unit = text.substr(unit_start, pos - unit_start);
      std::size_t found = kUnits.size();
      for (std::size_t i = 0; i < kUnits.size(); ++i) {
        if (kUnits[i].name == unit) found = i;
      }
      if (found == kUnits.size()) return fail(not_a_duration(original));
      if (found < next_unit) {
        return fail("`" + std::string(original) +
                    "` is not a duration; write each unit once, largest first, as in 1h30m");
      }
      next_unit = found + 1;
      unit_millis = kUnits[found].millis;
    }
    // frac/scale * unit must be a whole number of milliseconds.
    const std::int64_t frac_millis_scaled = frac * unit_millis;
    if (frac_millis_scaled % scale != 0) {
      return fail("`" + std::string(original) + "` is finer than a millisecond");
    }
    if (whole > kMaxMillis / unit_millis) {
      too_long = true;
      break;
    }
    const std::int64_t part = whole * unit_millis + frac_millis_scaled / scale;
    if (part > kMaxMillis - total) {
      too_long = true;
      break;
    }
    total += part;
  }
  if (too_long) return fail("`" + std::string(original) + "` is too long; the limit is 36500d");
  if (total == 0) return fail("a duration must be longer than zero, not `" + std::string(original) + "`");
  return std::chrono::milliseconds(total);
}

std::string format_duration(std::chrono::milliseconds d) {
  std::int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out += '-';
    // The most negative value has no positive counterpart; print it through unsigned math.
    const auto magnitude = static_cast<std::uint64_t>(-(ms + 1)) + 1;
    std::uint64_t rest = magnitude;
    for (const auto& unit : kUnits) {
      const auto u = static_cast<std::uint64_t>(unit.millis);
      if (rest >= u) {
        out += std::to_string(rest / u) + std::string(unit.name);
        rest %= u;
      }
    }
    return out;
  }
  for (const auto& unit : kUnits) {
    if (ms >= unit.millis) {
      out += std::to_string(ms / unit.millis) + std::string(unit.name);
      ms %= unit.millis;
    }
  }
  return out;
}

}  // namespace flowpilot::engine
