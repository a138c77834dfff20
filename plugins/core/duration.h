// Durations as core.sleep accepts them: "500ms", "30s", "5m", "2h", "1d", combinations written
// largest unit first ("1h30m", "1m30.5s"), or a bare number of seconds ("90", "1.5").
//
// A plugin may include only SDK headers, so this is the plugin's own parser; it accepts what the
// engine's definition parser accepts (engine/schedule/duration.h). Pure functions: any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace flowpilot::core_plugin {

// The longest accepted duration, 36500 days: beyond it timer arithmetic risks overflow.
inline constexpr std::int64_t kMaxDurationMs = 36'500LL * 86'400'000LL;

// Milliseconds, or nullopt with `*error` (when given) set to a sentence naming the text. Zero,
// negative, sub-millisecond and too long values are errors.
inline std::optional<std::int64_t> parse_duration_ms(std::string_view text,
                                                     std::string* error = nullptr) {
  const std::string quoted = "`" + std::string(text) + "`";
  auto fail = [&](const std::string& message) -> std::optional<std::int64_t> {
    if (error != nullptr) *error = message;
    return std::nullopt;
  };
  const std::string bad =
      quoted + " is not a duration; use a number with a unit such as 30s, 5m, 2h";
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  if (text.empty())
    return fail("an empty value is not a duration; use a number with a unit such as 30s, 5m, 2h");
  if (text.front() == '-') return fail("a duration must be positive, not " + quoted);
  if (text.front() == '+') text.remove_prefix(1);

  struct Unit {
    std::string_view suffix;
    std::int64_t ms;
  };
  // Ordered largest first; a combination must use them in this order, each at most once.
  static constexpr Unit kUnits[] = {
      {"d", 86'400'000}, {"h", 3'600'000}, {"m", 60'000}, {"s", 1'000}, {"ms", 1}};
  constexpr std::size_t kUnitCount = sizeof(kUnits) / sizeof(kUnits[0]);

  std::int64_t total = 0;
  std::size_t smallest_allowed = 0;
  std::size_t i = 0;
  bool any_term = false;
  while (i < text.size()) {
    // The number: digits, optionally a fraction. Fractions are kept as integer/10^k so that
    // "1.5s" is exact.
    std::int64_t whole = 0;
    std::int64_t fraction = 0;
    std::int64_t denominator = 1;
    bool digits = false;
    bool overflow = false;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
      digits = true;
      if (whole <= kMaxDurationMs)
        whole = whole * 10 + (text[i] - '0');
      else
        overflow = true;
    }
    if (i < text.size() && text[i] == '.') {
      ++i;
      for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
        digits = true;
        if (denominator < 1'000'000'000LL) {
          fraction = fraction * 10 + (text[i] - '0');
          denominator *= 10;
        } else if (text[i] != '0') {
          return fail(quoted + " is finer than a millisecond");
        }
      }
    }
    if (!digits) return fail(bad);

    const std::size_t unit_begin = i;
    while (i < text.size() &&
           ((text[i] >= 'a' && text[i] <= 'z') || (text[i] >= 'A' && text[i] <= 'Z')))
      ++i;
    const std::string_view suffix = text.substr(unit_begin, i - unit_begin);
    std::int64_t unit_ms = 0;
    if (suffix.empty()) {
      // A bare number means seconds, but only on its own: "1h30" could mean minutes or seconds.
      if (any_term || i != text.size()) return fail(bad);
      unit_ms = 1'000;
    } else {
      std::size_t found = kUnitCount;
      for (std::size_t u = 0; u < kUnitCount; ++u) {
        if (kUnits[u].suffix == suffix) found = u;
      }
      if (found == kUnitCount) return fail(bad);
      if (found < smallest_allowed) {
        return fail(quoted +
                    " is not a duration; write each unit once, largest first, as in 1h30m");
      }
      smallest_allowed = found + 1;
      unit_ms = kUnits[found].ms;
    }
    any_term = true;

    if ((fraction * unit_ms) % denominator != 0)
      return fail(quoted + " is finer than a millisecond");
    if (overflow || whole > kMaxDurationMs / unit_ms)
      return fail(quoted + " is too long; the limit is 36500d");
    total += whole * unit_ms + fraction * unit_ms / denominator;
    if (total > kMaxDurationMs) return fail(quoted + " is too long; the limit is 36500d");
  }
  if (total == 0) return fail("a duration must be longer than zero, not " + quoted);
  return total;
}

}  // namespace flowpilot::core_plugin
