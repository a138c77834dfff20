#include "engine/schedule/cron.h"

// USE_OS_TZDB=1 comes from engine/CMakeLists.txt: it must match Debian's libdate-tz build.
#include <date/tz.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <vector>

namespace flowpilot::engine {
namespace {

struct FieldSpec {
  std::string_view name;
  int min;
  int max;
  const std::array<std::string_view, 12>* names;  // names[i] is value (i + names_base)
  int names_base;
  std::size_t name_count;
};

constexpr std::array<std::string_view, 12> kMonthNames{"jan", "feb", "mar", "apr", "may", "jun",
                                                       "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 12> kDayNames{"sun", "mon", "tue", "wed", "thu", "fri",
                                                     "sat", "", "", "", "", ""};

constexpr FieldSpec kSecond{"second", 0, 59, nullptr, 0, 0};
constexpr FieldSpec kMinute{"minute", 0, 59, nullptr, 0, 0};
constexpr FieldSpec kHour{"hour", 0, 23, nullptr, 0, 0};
constexpr FieldSpec kDayOfMonth{"day-of-month", 1, 31, nullptr, 0, 0};
constexpr FieldSpec kMonth{"month", 1, 12, &kMonthNames, 1, 12};
// 7 is accepted as a second spelling of Sunday and folded onto bit 0.
constexpr FieldSpec kDayOfWeek{"day-of-week", 0, 7, &kDayNames, 0, 7};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Reads one value (number or name) of a field.
std::optional<int> read_value(std::string_view text, const FieldSpec& field, std::string& error) {
  if (text.empty()) {
    error = std::string(field.name) + " field has an empty value";
    return std::nullopt;
  }
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc() && end == text.data() + text.size()) {
    if (value < field.min || value > field.max) {
      error = std::string(field.name) + " field `" + std::string(text) + "` is out of range " +
              std::to_string(field.min) + "-" + std::to_string(field.max);
      if (field.max == 7) error += " (0 and 7 both mean Sunday)";
      return std::nullopt;
    }
    return value;
  }
  if (field.names != nullptr) {
    const std::string name = lower(text);
    for (std::size_t i = 0; i < field.name_count; ++i) {
      if ((*field.names)[i] == name) return static_cast<int>(i) + field.names_base;
    }
  }
  error = std::string(field.name) + " field `" + std::string(text) + "` is not a number" +
          (field.names != nullptr
               ? std::string(field.names == &kMonthNames ? " or a month name (JAN-DEC)"
                                                         : " or a day name (SUN-SAT)")
               : std::string());
  return std::nullopt;
}

// Parses one field into `bits` (indexed by value). Returns false and sets `error` on failure.
template <std::size_t N>
bool parse_field(std::string_view text, const FieldSpec& field, std::bitset<N>& bits,
                 bool* last_day, std::string& error) {
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    const std::string_view item = text.substr(start, comma - start);
    start = comma + 1;
    if (item.empty()) {
      error = std::string(field.name) + " field `" + std::string(text) + "` has an empty list item";
      return false;
    }
    if (last_day != nullptr && (item == "L" || item == "l")) {
      *last_day = true;
      continue;
    }
    std::string_view range = item;
    int step = 1;
    if (const auto slash = item.find('/'); slash != std::string_view::npos) {
      range = item.substr(0, slash);
      const std::string_view step_text = item.substr(slash + 1);
      auto [end, ec] = std::from_chars(step_text.data(), step_text.data() + step_text.size(), step);
      if (step_text.empty() || ec != std::errc() || end != step_text.data() + step_text.size()) {
        error = std::string(field.name) + " field step `" + std::string(step_text) +
                "` is not a number";
        return false;
      }
      if (step < 1 || step > field.max - field.min + 1) {
        error = std::string(field.name) + " field step `" + std::string(step_text) +
                "` must be between 1 and " + std::to_string(field.max - field.min + 1);
        return false;
      }
    }
    int low = field.min;
    int high = field.max == 7 ? 6 : field.max;
    // `?` (Quartz's "no specific value") only makes sense in the two day fields.
    const bool day_field = &field == &kDayOfMonth || &field == &kDayOfWeek;
    if (range == "*" || (range == "?" && day_field)) {
      // the whole range
    } else if (const auto dash = range.find('-'); dash != std::string_view::npos) {
      if (dash == 0 || dash + 1 == range.size()) {
        error = std::string(field.name) + " field `" + std::string(item) +
                "` is not a value or a range such as 1-5";
        return false;
      }
      auto a = read_value(range.substr(0, dash), field, error);
      if (!a) return false;
      auto b = read_value(range.substr(dash + 1), field, error);
      if (!b) return false;
      low = *a;
      high = *b;
      if (low > high) {
        error = std::string(field.name) + " field range `" + std::string(range) +
                "` runs backwards; write the smaller value first";
        return false;
      }
    } else {
      auto v = read_value(range, field, error);
      if (!v) return false;
      low = *v;
      // "5/15" starts at 5 and runs to the end of the range, as in Vixie cron.
      high = item.find('/') != std::string_view::npos ? (field.max == 7 ? 6 : field.max) : *v;
    }
    for (int v = low; v <= high; v += step) {
      bits.set(static_cast<std::size_t>(field.max == 7 && v == 7 ? 0 : v));
    }
    if (comma == text.size()) break;
  }
  return true;
}

std::vector<std::string_view> split_fields(std::string_view text) {
  std::vector<std::string_view> fields;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    const std::size_t start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i > start) fields.push_back(text.substr(start, i - start));
  }
  return fields;
}

bool unrestricted(std::string_view field) {
  return !field.empty() && (field.front() == '*' || field.front() == '?');
}

const date::time_zone* zone_or_throw(const std::string& zone) {
  try {
    return date::locate_zone(zone);
  } catch (const std::exception&) {
    throw std::invalid_argument("unknown time zone `" + zone +
                                "`; use an IANA name such as Europe/Berlin or UTC");
  }
}

// The first time of day at or after `from` whose hour, minute and second are all allowed.
template <std::size_t H, std::size_t M, std::size_t S>
std::optional<std::chrono::seconds> first_time_of_day(const std::bitset<H>& hours,
                                                      const std::bitset<M>& minutes,
                                                      const std::bitset<S>& seconds,
                                                      std::chrono::seconds from) {
  const auto total = from.count();
  const int from_h = static_cast<int>(total / 3600);
  const int from_m = static_cast<int>(total / 60 % 60);
  const int from_s = static_cast<int>(total % 60);
  for (int h = from_h; h < 24; ++h) {
    if (!hours.test(static_cast<std::size_t>(h))) continue;
    // Only in the starting hour and minute do the lower fields have to reach `from`.
    for (int m = h == from_h ? from_m : 0; m < 60; ++m) {
      if (!minutes.test(static_cast<std::size_t>(m))) continue;
      for (int s = h == from_h && m == from_m ? from_s : 0; s < 60; ++s) {
        if (seconds.test(static_cast<std::size_t>(s))) {
          return std::chrono::seconds{h * 3600 + m * 60 + s};
        }
      }
    }
  }
  return std::nullopt;
}

bool matches_day(const CronExpression& cron, date::local_days day) {
  const date::year_month_day ymd{day};
  if (!cron.months.test(static_cast<unsigned>(ymd.month()))) return false;
  const unsigned dom = static_cast<unsigned>(ymd.day());
  const date::year_month_day_last month_end{ymd.year(), date::month_day_last{ymd.month()}};
  const unsigned last = static_cast<unsigned>(month_end.day());
  const bool dom_ok = cron.days_of_month.test(dom) || (cron.last_day_of_month && dom == last);
  const bool dow_ok = cron.days_of_week.test(date::weekday{day}.c_encoding());
  // Vixie cron: with both day fields restricted, a day matching either fires.
  return cron.dom_restricted && cron.dow_restricted ? dom_ok || dow_ok : dom_ok && dow_ok;
}

// The first local time in [from, end) matching every field, if any.
std::optional<date::local_seconds> first_local_match(const CronExpression& cron,
                                                     date::local_seconds from,
                                                     date::local_seconds end) {
  auto day = date::floor<date::days>(from);
  std::chrono::seconds time_of_day = from - day;
  for (; day < end; day += date::days{1}, time_of_day = std::chrono::seconds{0}) {
    if (!matches_day(cron, day)) continue;
    if (auto tod = first_time_of_day(cron.hours, cron.minutes, cron.seconds, time_of_day)) {
      const auto candidate = day + *tod;
      if (candidate < end) return candidate;
      return std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::chrono::sys_seconds> CronExpression::next_after(std::chrono::sys_seconds after,
                                                                   const std::string& zone) const {
  const date::time_zone* tz = zone_or_throw(zone);
  // Walk the zone's UTC periods of constant offset. Within one period local time is UTC plus a
  // fixed offset, so the first matching local time maps back to the first matching instant; the
  // periods come in UTC order, so the first period with a match holds the answer. Gaps and
  // overlaps need no special case: a skipped local time lies in no period, and a repeated one
  // lies in two.
  const auto horizon = after + std::chrono::seconds{kSearchHorizon};
  auto from = after + std::chrono::seconds{1};
  while (from < horizon) {
    const date::sys_info info = tz->get_info(from);
    const auto period_end = std::min(info.end, horizon);
    const auto to_local = [&](std::chrono::sys_seconds t) {
      return date::local_seconds{t.time_since_epoch() + info.offset};
    };
    if (auto local = first_local_match(*this, to_local(from), to_local(period_end))) {
      return std::chrono::sys_seconds{local->time_since_epoch() - info.offset};
    }
    from = period_end;
  }
  return std::nullopt;
}

std::optional<CronExpression> CronExpression::parse(std::string_view text, std::string* error) {
  std::string message;
  auto fail = [&]() -> std::optional<CronExpression> {
    if (error != nullptr) *error = std::move(message);
    return std::nullopt;
  };
  std::string_view body = text;
  std::string expanded;
  auto fields = split_fields(body);
  if (fields.size() == 1 && fields[0].front() == '@') {
    const std::string macro = lower(fields[0]);
    if (macro == "@yearly" || macro == "@annually") {
      expanded = "0 0 1 1 *";
    } else if (macro == "@monthly") {
      expanded = "0 0 1 * *";
    } else if (macro == "@weekly") {
      expanded = "0 0 * * 0";
    } else if (macro == "@daily" || macro == "@midnight") {
      expanded = "0 0 * * *";
    } else if (macro == "@hourly") {
      expanded = "0 * * * *";
    } else {
      message = "unknown cron macro `" + std::string(fields[0]) +
                "`; use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly";
      return fail();
    }
    fields = split_fields(expanded);
  }
  if (fields.size() != 5 && fields.size() != 6) {
    message = "a cron expression has 5 fields (minute hour day-of-month month day-of-week) or 6 "
              "with seconds first, but `" +
              std::string(text) + "` has " + std::to_string(fields.size());
    return fail();
  }

  CronExpression cron;
  cron.text_ = std::string(text);
  cron.has_seconds_ = fields.size() == 6;
  std::size_t f = 0;
  if (cron.has_seconds_) {
    if (!parse_field(fields[f++], kSecond, cron.seconds, nullptr, message)) return fail();
  } else {
    cron.seconds.set(0);
  }
  if (!parse_field(fields[f++], kMinute, cron.minutes, nullptr, message)) return fail();
  if (!parse_field(fields[f++], kHour, cron.hours, nullptr, message)) return fail();
  const std::string_view dom = fields[f++];
  if (!parse_field(dom, kDayOfMonth, cron.days_of_month, &cron.last_day_of_month, message)) {
    return fail();
  }
  if (!parse_field(fields[f++], kMonth, cron.months, nullptr, message)) return fail();
  const std::string_view dow = fields[f++];
  if (!parse_field(dow, kDayOfWeek, cron.days_of_week, nullptr, message)) return fail();
  cron.dom_restricted = !unrestricted(dom);
  cron.dow_restricted = !unrestricted(dow);
  return cron;
}

bool is_valid_time_zone(std::string_view name) {
  if (name.empty()) return false;
  try {
    return date::locate_zone(std::string(name)) != nullptr;
  } catch (const std::exception&) {
    return false;
  }
}

std::string format_iso8601(std::chrono::sys_seconds t, const std::string& zone) {
  const date::time_zone* tz = zone_or_throw(zone);
  const date::sys_info info = tz->get_info(t);
  const date::local_seconds local{t.time_since_epoch() + info.offset};
  const auto day = date::floor<date::days>(local);
  const date::year_month_day ymd{day};
  const date::hh_mm_ss<std::chrono::seconds> hms{local - day};
  const auto offset_minutes = std::chrono::duration_cast<std::chrono::minutes>(info.offset).count();
  const long long abs_minutes = offset_minutes < 0 ? -offset_minutes : offset_minutes;
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02d%c%02lld:%02lld",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()),
                offset_minutes < 0 ? '-' : '+', abs_minutes / 60, abs_minutes % 60);
  return buffer;
}

namespace {

// Reads exactly `digits` decimal digits at `pos`, advancing it.
std::optional<int> read_digits(std::string_view text, std::size_t& pos, std::size_t digits) {
  if (pos + digits > text.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = 0; i < digits; ++i) {
    const char c = text[pos + i];
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  pos += digits;
  return value;
}

bool expect(std::string_view text, std::size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c) return false;
  ++pos;
  return true;
}

}  // namespace

std::optional<std::chrono::sys_seconds> parse_iso8601(std::string_view text,
                                                      const std::string& zone) {
  const date::time_zone* tz = zone_or_throw(zone);
  std::size_t pos = 0;
  const auto year = read_digits(text, pos, 4);
  if (!year || !expect(text, pos, '-')) return std::nullopt;
  const auto month = read_digits(text, pos, 2);
  if (!month || !expect(text, pos, '-')) return std::nullopt;
  const auto day = read_digits(text, pos, 2);
  if (!day || pos >= text.size() || (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ')) {
    return std::nullopt;
  }
  ++pos;
  const auto hour = read_digits(text, pos, 2);
  if (!hour || !expect(text, pos, ':')) return std::nullopt;
  const auto minute = read_digits(text, pos, 2);
  if (!minute) return std::nullopt;
  int second = 0;
  if (pos < text.size() && text[pos] == ':') {
    ++pos;
    const auto s = read_digits(text, pos, 2);
    if (!s) return std::nullopt;
    second = *s;
  }
  const date::year_month_day ymd{date::year{*year}, date::month{static_cast<unsigned>(*month)},
                                 date::day{static_cast<unsigned>(*day)}};
  if (!ymd.ok() || *hour > 23 || *minute > 59 || second > 59) return std::nullopt;
  const date::local_seconds local = date::local_days{ymd} + std::chrono::hours{*hour} +
                                    std::chrono::minutes{*minute} + std::chrono::seconds{second};

  if (pos == text.size()) {
    const date::local_info info = tz->get_info(local);
    if (info.result == date::local_info::nonexistent) return std::nullopt;
    // Unique or ambiguous: `first` is the only or the earlier offset.
    return std::chrono::sys_seconds{local.time_since_epoch() - info.first.offset};
  }
  std::chrono::seconds offset{0};
  if (text[pos] == 'Z' || text[pos] == 'z') {
    ++pos;
  } else if (text[pos] == '+' || text[pos] == '-') {
    const bool negative = text[pos] == '-';
    ++pos;
    const auto oh = read_digits(text, pos, 2);
    if (!oh) return std::nullopt;
    if (pos < text.size() && text[pos] == ':') ++pos;
    const auto om = read_digits(text, pos, 2);
    if (!om || *oh > 23 || *om > 59) return std::nullopt;
    offset = std::chrono::hours{*oh} + std::chrono::minutes{*om};
    if (negative) offset = -offset;
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  return std::chrono::sys_seconds{local.time_since_epoch() - offset};
}

}  // namespace flowpilot::engine
