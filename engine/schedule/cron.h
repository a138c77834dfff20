// Cron expressions: 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first;
// ranges, steps, lists, names (JAN-DEC, SUN-SAT), `L` in day-of-month, and the macros @yearly,
// @annually, @monthly, @weekly, @daily, @midnight, @hourly. Day-of-month and day-of-week combine
// as in Vixie cron: when both are restricted, either may match.
//
// Fire times and time zones. A fire time is a UTC instant whose LOCAL wall-clock time in the
// trigger's IANA zone matches every field. This single rule decides the daylight-saving cases:
//   - gap (spring forward): local times that do not exist that day never fire. `30 2 * * *` in
//     Europe/Berlin does not fire on 2026-03-29, when clocks jump from 02:00 to 03:00; it fires
//     at 02:30 the day before and the day after.
//   - overlap (fall back): a local time that occurs twice fires twice, once per UTC instant.
//     `30 2 * * *` in Europe/Berlin fires on 2026-10-25 at 02:30+02:00 and again at 02:30+01:00.
// This differs from Vixie cron, which runs a fixed-time job whose time falls in a gap soon after
// the jump and does not repeat one whose time falls in an overlap. We chose the rule that has one
// plain definition (the instants whose local time matches) and that an independent reference
// checks minute by minute (scripts/gen_cron_fixture.py). A job that must run exactly once a day
// belongs at a local time no DST change touches, or in UTC. Each firing is identified by its UTC
// instant, so the two overlap firings are distinct and neither repeats. See docs/schedules.md.
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

  // The first fire time strictly after `after` (see the file comment for the meaning in a zone),
  // or nullopt when there is none within kSearchHorizon (e.g. `0 0 30 2 *`). Computed field by
  // field over local dates and times, not by stepping; a search of years takes microseconds.
  // Throws std::invalid_argument when `zone` is not a known IANA time zone.
  std::optional<std::chrono::sys_seconds> next_after(std::chrono::sys_seconds after,
                                                     const std::string& zone) const;

  // Long enough to cross the eight years between leap years around 2100 (`0 0 29 2 *`).
  static constexpr std::chrono::days kSearchHorizon{366 * 8 + 1};

  // Field matchers, exposed for the scheduler.
  std::bitset<60> seconds;
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> days_of_month;   // bit 1..31
  std::bitset<13> months;          // bit 1..12
  std::bitset<7> days_of_week;     // bit 0 = Sunday
  bool last_day_of_month = false;  // `L`
  bool dom_restricted = false;
  bool dow_restricted = false;

 private:
  std::string text_;
  bool has_seconds_ = false;
};

// True when `name` is an IANA time zone known to the system's tz database.
bool is_valid_time_zone(std::string_view name);

// `t` as local time in `zone` with that zone's offset at `t`, e.g. "2026-03-30T09:00:00+02:00";
// UTC is written "+00:00". Throws std::invalid_argument for an unknown zone.
std::string format_iso8601(std::chrono::sys_seconds t, const std::string& zone);

// Parses "YYYY-MM-DDTHH:MM[:SS]" (a space may replace the T) with an offset ("Z", "+02:00",
// "+0200") or without one. A time without an offset is a wall-clock time in `zone`: inside an
// overlap it means the earlier instant (the first time the clock shows it); inside a gap it does
// not exist and the result is nullopt, as for malformed text or an invalid date. Fractions of a
// second and leap seconds are not accepted. Throws std::invalid_argument for an unknown zone.
std::optional<std::chrono::sys_seconds> parse_iso8601(std::string_view text,
                                                      const std::string& zone = "UTC");

}  // namespace flowpilot::engine
