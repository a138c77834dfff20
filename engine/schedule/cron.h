// Cron expressions: 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first;
// ranges, steps, lists, names (JAN-DEC, SUN-SAT), `L` in day-of-month, and the macros @yearly,
// @annually, @monthly, @weekly, @daily, @midnight, @hourly. Day-of-month and day-of-week combine
// as in Vixie cron: when both are restricted, either may match.
//
// Thread-safety: a parsed CronExpression is immutable.
#pragma once

#include <bitset>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace flowpilot::engine {

class CronExpression {
 public:
  // Returns nullopt and sets `error` (when given) to a sentence naming the bad field.
  static std::optional<CronExpression> parse(std::string_view text, std::string* error = nullptr);

  const std::string& text() const { return text_; }
  bool has_seconds() const { return has_seconds_; }

  // Field matchers, exposed for the scheduler (next-fire computation comes with the server).
  std::bitset<60> seconds;
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> days_of_month;  // bit 1..31
  std::bitset<13> months;         // bit 1..12
  std::bitset<7> days_of_week;    // bit 0 = Sunday
  bool last_day_of_month = false;  // `L`
  bool dom_restricted = false;
  bool dow_restricted = false;

 private:
  std::string text_;
  bool has_seconds_ = false;
};

// True when `name` is an IANA time zone known to the system's tz database.
bool is_valid_time_zone(std::string_view name);

}  // namespace flowpilot::engine
