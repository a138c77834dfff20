// date.*: times are ISO-8601 strings or seconds since the epoch (numbers, fractions allowed);
// internally milliseconds since the epoch. Time zones are IANA names resolved through the
// system's zoneinfo (date/tz built with USE_OS_TZDB).
//
// Calendar units (years, months, weeks, days) are added to the wall-clock time in the zone and
// mapped back, so adding a day across a DST change keeps the time of day; hours, minutes and
// seconds are added as elapsed time. A wall-clock time that a DST change skips maps to the
// instant the change happens; one that occurs twice maps to the earlier.

#include <date/date.h>
#include <date/tz.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <lua5.4/lua.hpp>
#include <string>
#include <string_view>

#include "scripting/detail/stdlib.h"
#include "scripting/detail/stdlib_support.h"

namespace flowpilot::scripting::detail {
namespace {

using Millis = std::chrono::milliseconds;
using Time = date::sys_time<Millis>;

const date::time_zone* find_zone(std::string_view function, std::string_view name) {
  try {
    return date::locate_zone(name);
  } catch (const std::runtime_error&) {
    throw ScriptError(std::string(function) + ": unknown time zone `" + std::string(name) +
                      "`; use an IANA name such as Europe/Berlin");
  }
}

class IsoParser {
 public:
  explicit IsoParser(std::string_view text) : text_(text) {}

  // Returns false for anything but YYYY-MM-DD[(T| )HH:MM[:SS[.fff]][Z|±HH[:]MM|±HH]].
  // Without an offset the time is UTC.
  bool parse(Time& out) {
    int year = 0, month = 0, day = 0;
    if (!number(4, year) || !literal('-') || !number(2, month) || !literal('-') ||
        !number(2, day)) {
      return false;
    }
    const date::year_month_day ymd{date::year{year}, date::month{static_cast<unsigned>(month)},
                                   date::day{static_cast<unsigned>(day)}};
    if (!ymd.ok()) return false;
    Millis time_of_day{0};
    Millis offset{0};
    if (position_ < text_.size()) {
      if (!literal('T') && !literal('t') && !literal(' ')) return false;
      int hour = 0, minute = 0, second = 0;
      if (!number(2, hour) || !literal(':') || !number(2, minute)) return false;
      if (literal(':') && !number(2, second)) return false;
      if (hour > 23 || minute > 59 || second > 59) return false;
      int millis = 0;
      if (literal('.') || literal(',')) {
        int digits = 0;
        while (position_ < text_.size() && is_digit(text_[position_])) {
          if (digits < 3) millis = millis * 10 + (text_[position_] - '0');
          ++digits;
          ++position_;
        }
        if (digits == 0) return false;
        for (int d = digits; d < 3; ++d) millis *= 10;
      }
      time_of_day = std::chrono::hours{hour} + std::chrono::minutes{minute} +
                    std::chrono::seconds{second} + Millis{millis};
      if (literal('Z') || literal('z')) {
      } else if (position_ < text_.size()) {
        const char sign = text_[position_];
        if (sign != '+' && sign != '-') return false;
        ++position_;
        int offset_hours = 0, offset_minutes = 0;
        if (!number(2, offset_hours)) return false;
        if (literal(':')) {
          if (!number(2, offset_minutes)) return false;
        } else if (position_ < text_.size() && !number(2, offset_minutes)) {
          return false;
        }
        if (offset_hours > 23 || offset_minutes > 59) return false;
        offset = std::chrono::hours{offset_hours} + std::chrono::minutes{offset_minutes};
        if (sign == '-') offset = -offset;
      }
    }
    if (position_ != text_.size()) return false;
    out = Time{date::sys_days{ymd}} + time_of_day - offset;
    return true;
  }

 private:
  static bool is_digit(char c) { return c >= '0' && c <= '9'; }

  bool number(int digits, int& out) {
    if (text_.size() - position_ < static_cast<std::size_t>(digits)) return false;
    out = 0;
    for (int i = 0; i < digits; ++i) {
      const char c = text_[position_ + static_cast<std::size_t>(i)];
      if (!is_digit(c)) return false;
      out = out * 10 + (c - '0');
    }
    position_ += static_cast<std::size_t>(digits);
    return true;
  }

  bool literal(char c) {
    if (position_ < text_.size() && text_[position_] == c) {
      ++position_;
      return true;
    }
    return false;
  }

  std::string_view text_;
  std::size_t position_ = 0;
};

// Seconds since the epoch must stay within what dates can print: years 0..9999.
constexpr double kMaxEpochSeconds = 253402300799.0;

// Reads the time at `index` before any host code runs (Lua calls stay out of run_host).
struct TimeArgument {
  bool is_text = false;
  const char* text = nullptr;
  std::size_t length = 0;
  double seconds = 0;
};

TimeArgument time_argument(lua_State* L, int index, const char* function) {
  TimeArgument argument;
  if (lua_type(L, index) == LUA_TSTRING) {
    argument.is_text = true;
    argument.text = lua_tolstring(L, index, &argument.length);
  } else if (lua_type(L, index) == LUA_TNUMBER) {
    argument.seconds = lua_tonumber(L, index);
    if (!std::isfinite(argument.seconds) || std::fabs(argument.seconds) > kMaxEpochSeconds) {
      luaL_error(L, "%s: argument %d is not a time within years 0 to 9999", function, index);
    }
  } else {
    argument_error(L, function, index, "a time (an ISO-8601 string or seconds since the epoch)");
  }
  return argument;
}

Time to_time(const TimeArgument& argument, const char* function, int index) {
  if (!argument.is_text) {
    return Time{Millis{std::llround(argument.seconds * 1000.0)}};
  }
  Time time;
  const std::string_view text(argument.text, argument.length);
  if (!IsoParser(text).parse(time)) {
    throw ScriptError(std::string(function) + ": argument " + std::to_string(index) + " (\"" +
                      std::string(text.substr(0, 64)) +
                      "\") is not an ISO-8601 date or time such as 2024-05-01 or "
                      "2024-05-01T10:00:00+02:00");
  }
  return time;
}

void push_seconds(lua_State* L, Time time) {
  const std::int64_t millis = time.time_since_epoch().count();
  if (millis % 1000 == 0) {
    lua_pushinteger(L, millis / 1000);
  } else {
    lua_pushnumber(L, static_cast<double>(millis) / 1000.0);
  }
}

const char* optional_zone(lua_State* L, int index, const char* function) {
  if (lua_isnoneornil(L, index)) return "UTC";
  if (lua_type(L, index) != LUA_TSTRING) {
    argument_error(L, function, index, "a time zone name such as \"Europe/Berlin\"");
  }
  return lua_tostring(L, index);
}

// ISO-8601 with the zone's offset, milliseconds only when there are any.
std::string iso_text(Time time, const date::time_zone* zone) {
  static constexpr const char* kIso = "%Y-%m-%dT%H:%M:%S%Ez";
  if (time.time_since_epoch().count() % 1000 == 0) {
    return date::format(kIso, date::make_zoned(zone, date::floor<std::chrono::seconds>(time)));
  }
  return date::format(kIso, date::make_zoned(zone, time));
}

// date.parse(iso) → seconds since the epoch.
int date_parse(lua_State* L) {
  const TimeArgument argument = time_argument(L, 1, "date.parse");
  if (!argument.is_text) {
    argument_error(L, "date.parse", 1, "an ISO-8601 string");
  }
  Time time;
  run_host(L, [&](std::string&) { time = to_time(argument, "date.parse", 1); });
  push_seconds(L, time);
  return 1;
}

// date.format(t [, pattern [, zone]]): strftime-like pattern (%Y %m %d %H %M %S %z %Ez %Z %a %b
// ...), ISO-8601 by default, UTC by default.
int date_format(lua_State* L) {
  const TimeArgument argument = time_argument(L, 1, "date.format");
  const char* pattern = nullptr;
  std::size_t pattern_length = 0;
  if (!lua_isnoneornil(L, 2)) {
    pattern = check_text(L, 2, "date.format", &pattern_length);
    if (pattern_length > 256) {
      return luaL_error(L, "date.format: the pattern is longer than 256 characters");
    }
  }
  const char* zone_name = optional_zone(L, 3, "date.format");
  run_host(L, [&](std::string& scratch) {
    const Time time = to_time(argument, "date.format", 1);
    const date::time_zone* zone = find_zone("date.format", zone_name);
    if (pattern == nullptr) {
      scratch = iso_text(time, zone);
      return;
    }
    const auto whole = date::make_zoned(zone, date::floor<std::chrono::seconds>(time));
    scratch = date::format(std::string(pattern, pattern_length), whole);
  });
  push_scratch(L);
  return 1;
}

struct Amounts {
  lua_Integer years = 0, months = 0, weeks = 0, days = 0;
  double hours = 0, minutes = 0, seconds = 0;
};

void read_amounts(lua_State* L, int index, Amounts& amounts) {
  static constexpr const char* kCalendarUnits[] = {"years", "months", "weeks", "days"};
  static constexpr const char* kClockUnits[] = {"hours", "minutes", "seconds"};
  if (!is_table_like(L, index)) {
    argument_error(L, "date.add", index, "a table such as {days = 1, hours = 2}");
  }
  if (lua_type(L, index) == LUA_TTABLE) {
    lua_pushnil(L);
    while (lua_next(L, index) != 0) {
      lua_pop(L, 1);
      bool known = false;
      if (lua_type(L, -1) == LUA_TSTRING) {
        const char* key = lua_tostring(L, -1);
        for (const char* unit : kCalendarUnits) known = known || std::strcmp(key, unit) == 0;
        for (const char* unit : kClockUnits) known = known || std::strcmp(key, unit) == 0;
      }
      if (!known) {
        luaL_error(L,
                   "date.add: unknown unit %s; use years, months, weeks, days, hours, minutes "
                   "or seconds",
                   lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "(not a name)");
      }
    }
  }
  lua_Integer* calendar[] = {&amounts.years, &amounts.months, &amounts.weeks, &amounts.days};
  for (int i = 0; i < 4; ++i) {
    lua_getfield(L, index, kCalendarUnits[i]);
    if (!lua_isnil(L, -1)) {
      if (!lua_isinteger(L, -1)) {
        luaL_error(L, "date.add: %s must be a whole number", kCalendarUnits[i]);
      }
      const lua_Integer value = lua_tointeger(L, -1);
      if (value > 1'000'000 || value < -1'000'000) {
        luaL_error(L, "date.add: %s is out of range", kCalendarUnits[i]);
      }
      *calendar[i] = value;
    }
    lua_pop(L, 1);
  }
  double* clock[] = {&amounts.hours, &amounts.minutes, &amounts.seconds};
  for (int i = 0; i < 3; ++i) {
    lua_getfield(L, index, kClockUnits[i]);
    if (!lua_isnil(L, -1)) {
      if (lua_type(L, -1) != LUA_TNUMBER || !std::isfinite(lua_tonumber(L, -1)) ||
          std::fabs(lua_tonumber(L, -1)) > 1e12) {
        luaL_error(L, "date.add: %s must be a finite number", kClockUnits[i]);
      }
      *clock[i] = lua_tonumber(L, -1);
    }
    lua_pop(L, 1);
  }
}

// date.add(t, {years=, months=, weeks=, days=, hours=, minutes=, seconds=} [, zone]) → a time of
// the same kind as t: an ISO string (with the zone's offset) for a string, seconds for a number.
int date_add(lua_State* L) {
  const TimeArgument argument = time_argument(L, 1, "date.add");
  Amounts amounts;
  read_amounts(L, 2, amounts);
  const char* zone_name = optional_zone(L, 3, "date.add");
  Time result;
  run_host(L, [&](std::string& scratch) {
    const Time time = to_time(argument, "date.add", 1);
    const date::time_zone* zone = find_zone("date.add", zone_name);
    const auto local = zone->to_local(time);
    const auto local_day = date::floor<date::days>(local);
    const auto time_of_day = local - local_day;
    date::year_month_day ymd{local_day};
    const lua_Integer total_months = amounts.years * 12 + amounts.months;
    if (total_months != 0) {
      ymd += date::months{total_months};
      if (!ymd.ok()) {
        // Jan 31 + 1 month is the last day of February, not March 3.
        ymd = ymd.year() / ymd.month() / date::last;
      }
    }
    const auto shifted_day = date::local_days{ymd} + date::days{amounts.days + 7 * amounts.weeks};
    Time shifted = zone->to_sys(shifted_day + time_of_day, date::choose::earliest);
    const double clock_millis =
        (amounts.hours * 3600.0 + amounts.minutes * 60.0 + amounts.seconds) * 1000.0;
    shifted += Millis{std::llround(clock_millis)};
    const double seconds = static_cast<double>(shifted.time_since_epoch().count()) / 1000.0;
    if (std::fabs(seconds) > kMaxEpochSeconds) {
      throw ScriptError("date.add: the result is outside years 0 to 9999");
    }
    result = shifted;
    if (argument.is_text) {
      scratch = iso_text(shifted, zone);
    }
  });
  if (argument.is_text) {
    push_scratch(L);
  } else {
    push_seconds(L, result);
  }
  return 1;
}

// date.diff(a, b [, unit]) → a minus b in "seconds" (default), "minutes", "hours" or "days"
// (24-hour days); a whole number when it divides evenly.
int date_diff(lua_State* L) {
  const TimeArgument a = time_argument(L, 1, "date.diff");
  const TimeArgument b = time_argument(L, 2, "date.diff");
  const char* unit = "seconds";
  if (!lua_isnoneornil(L, 3)) {
    unit = check_text(L, 3, "date.diff", nullptr);
  }
  std::int64_t unit_millis = 0;
  if (std::strcmp(unit, "seconds") == 0)
    unit_millis = 1000;
  else if (std::strcmp(unit, "minutes") == 0)
    unit_millis = 60'000;
  else if (std::strcmp(unit, "hours") == 0)
    unit_millis = 3'600'000;
  else if (std::strcmp(unit, "days") == 0)
    unit_millis = 86'400'000;
  else {
    return luaL_error(L,
                      "date.diff: argument 3 must be \"days\", \"hours\", \"minutes\" or "
                      "\"seconds\"");
  }
  std::int64_t millis = 0;
  run_host(L, [&](std::string&) {
    millis = (to_time(a, "date.diff", 1) - to_time(b, "date.diff", 2)).count();
  });
  if (millis % unit_millis == 0) {
    lua_pushinteger(L, millis / unit_millis);
  } else {
    lua_pushnumber(L, static_cast<double>(millis) / static_cast<double>(unit_millis));
  }
  return 1;
}

// date.now() → seconds since the epoch (with milliseconds). Programs only.
int date_now(lua_State* L) {
  push_seconds(L, date::floor<Millis>(std::chrono::system_clock::now()));
  return 1;
}

// date.today([zone]) → "YYYY-MM-DD" in the zone (UTC by default). Programs only.
int date_today(lua_State* L) {
  const char* zone_name = optional_zone(L, 1, "date.today");
  run_host(L, [&](std::string& scratch) {
    const date::time_zone* zone = find_zone("date.today", zone_name);
    const auto now = date::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    scratch = date::format("%Y-%m-%d", date::make_zoned(zone, now));
  });
  push_scratch(L);
  return 1;
}

}  // namespace

void push_date_library(lua_State* L, bool with_clock) {
  static constexpr luaL_Reg kFunctions[] = {{"parse", date_parse},
                                            {"format", date_format},
                                            {"add", date_add},
                                            {"diff", date_diff},
                                            {nullptr, nullptr}};
  luaL_newlib(L, kFunctions);
  if (with_clock) {
    lua_pushcfunction(L, date_now);
    lua_setfield(L, -2, "now");
    lua_pushcfunction(L, date_today);
    lua_setfield(L, -2, "today");
  }
}

}  // namespace flowpilot::scripting::detail
