#include "engine/schedule/cron.h"

// USE_OS_TZDB=1 comes from engine/CMakeLists.txt: it must match Debian's libdate-tz build.
#include <date/tz.h>

#include <array>
#include <cctype>
#include <charconv>
#include <exception>
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

}  // namespace

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

}  // namespace flowpilot::engine
