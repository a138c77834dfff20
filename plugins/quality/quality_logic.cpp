#include "quality_logic.h"

#include <charconv>
#include <cmath>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace flowpilot::quality_plugin {

namespace json = boost::json;

namespace {

const json::value kNull;
constexpr std::size_t kDefaultSamples = 5;
constexpr std::size_t kExamplesInReport = 3;

const json::value& field(const json::value& row, std::string_view name) {
  const json::value* v = row.is_object() ? row.get_object().if_contains(name) : nullptr;
  return v == nullptr ? kNull : *v;
}

// Equal values (5 and 5.0 too) give equal keys.
void append_key(std::string& key, const json::value& v) {
  if (v.is_number()) {
    const double d = v.to_number<double>();
    if (v.is_int64()) {
      key += std::to_string(v.get_int64());
    } else if (v.is_uint64()) {
      key += std::to_string(v.get_uint64());
    } else if (d == std::floor(d) && std::fabs(d) < 9e15) {
      key += std::to_string(static_cast<std::int64_t>(d));
    } else {
      char buf[64];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
      if (ec == std::errc()) key.append(buf, end);
    }
  } else if (v.is_string()) {
    key += 's';
    key.append(v.get_string());
  } else {
    key += json::serialize(v);
  }
  key += '\x1f';
}

std::vector<std::string> column_list(const json::object& check, const std::string& where,
                                     const char* key) {
  std::vector<std::string> out;
  const json::value* v = check.if_contains(key);
  if (v != nullptr && v->is_string() && !v->get_string().empty()) {
    out.emplace_back(v->get_string());
  } else if (v != nullptr && v->is_array()) {
    for (const auto& c : v->get_array()) {
      if (!c.is_string() || c.get_string().empty()) {
        throw QualityError(where + "." + key + ": every column must be a non-empty string");
      }
      out.emplace_back(c.get_string());
    }
  }
  if (out.empty()) throw QualityError(where + "." + key + ": name at least one column");
  return out;
}

std::string one_column(const json::object& check, const std::string& where) {
  const json::value* v = check.if_contains("column");
  if (v == nullptr || !v->is_string() || v->get_string().empty()) {
    throw QualityError(where + ".column: must be a column name");
  }
  return std::string(v->get_string());
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::string show(const json::value& v) {
  std::string s;
  if (v.is_double()) {
    // Serialized doubles read "-2E0"; people expect "-2".
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v.get_double());
    s = ec == std::errc() ? std::string(buf, end) : json::serialize(v);
  } else {
    s = json::serialize(v);
  }
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

// The failing rows of one check.
struct Failures {
  std::uint64_t count = 0;
  json::array samples;
  std::vector<std::string> examples;  // "row 3: spend = -1"

  void add(const json::value& row, std::size_t index, std::string example, std::size_t max) {
    ++count;
    if (samples.size() < max) samples.push_back(row);
    if (examples.size() < kExamplesInReport) {
      examples.push_back("row " + std::to_string(index) + ": " + std::move(example));
    }
  }
};

const json::array& rows_of(const json::value* v, const std::string& where) {
  if (v == nullptr || !v->is_array()) throw QualityError(where + ": must be a list of rows");
  return v->get_array();
}

bool within(const json::value& v, const json::value* min, const json::value* max,
            bool min_inclusive, bool max_inclusive) {
  auto cmp = [&](const json::value& bound) -> std::optional<int> {
    if (bound.is_number() && v.is_number()) {
      const double a = v.to_number<double>(), b = bound.to_number<double>();
      return a < b ? -1 : (a > b ? 1 : 0);
    }
    if (bound.is_string() && v.is_string()) {
      const int c = v.get_string().compare(bound.get_string());
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    return std::nullopt;  // a value of another type is out of range
  };
  if (min != nullptr && !min->is_null()) {
    const auto c = cmp(*min);
    if (!c || *c < 0 || (*c == 0 && !min_inclusive)) return false;
  }
  if (max != nullptr && !max->is_null()) {
    const auto c = cmp(*max);
    if (!c || *c > 0 || (*c == 0 && !max_inclusive)) return false;
  }
  return true;
}

bool flag(const json::object& check, const char* key, bool fallback, const std::string& where) {
  const json::value* v = check.if_contains(key);
  if (v == nullptr || v->is_null()) return fallback;
  if (!v->is_bool()) throw QualityError(where + "." + key + ": must be true or false");
  return v->get_bool();
}

}  // namespace

std::optional<std::int64_t> parse_duration_seconds(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::int64_t total = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    std::int64_t n = 0;
    const std::size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (n > 1'000'000'000) return std::nullopt;
      n = n * 10 + (s[i++] - '0');
    }
    if (i == start || i == s.size()) return std::nullopt;
    std::int64_t unit = 0;
    switch (s[i++]) {
      case 's': unit = 1; break;
      case 'm': unit = 60; break;
      case 'h': unit = 3600; break;
      case 'd': unit = 86400; break;
      case 'w': unit = 7 * 86400; break;
      default: return std::nullopt;
    }
    total += n * unit;
    if (total > 100LL * 365 * 86400) return std::nullopt;  // a century is plenty
  }
  return total;
}

std::optional<std::int64_t> parse_timestamp(std::string_view s) {
  auto num = [&](std::size_t pos, std::size_t len) -> std::optional<int> {
    if (pos + len > s.size()) return std::nullopt;
    int v = 0;
    for (std::size_t i = pos; i < pos + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  const auto y = num(0, 4), mo = num(5, 2), d = num(8, 2);
  if (!y || !mo || !d || s[4] != '-' || s[7] != '-' || *mo < 1 || *mo > 12 || *d < 1 || *d > 31) {
    return std::nullopt;
  }
  // Days since 1970-01-01 of a civil date (proleptic Gregorian).
  const int yy = *y - (*mo <= 2 ? 1 : 0);
  const int era = (yy >= 0 ? yy : yy - 399) / 400;
  const int yoe = yy - era * 400;
  const int doy = (153 * (*mo + (*mo > 2 ? -3 : 9)) + 2) / 5 + *d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  std::int64_t t = (static_cast<std::int64_t>(era) * 146097 + doe - 719468) * 86400;
  if (s.size() == 10) return t;
  if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') return std::nullopt;
  const auto h = num(11, 2), mi = num(14, 2), se = num(17, 2);
  if (!h || !mi || !se || s[13] != ':' || s[16] != ':' || *h > 23 || *mi > 59 || *se > 60) {
    return std::nullopt;
  }
  t += *h * 3600 + *mi * 60 + *se;
  std::size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  }
  if (i == s.size() || ((s[i] == 'Z' || s[i] == 'z') && i + 1 == s.size())) return t;
  if ((s[i] == '+' || s[i] == '-') && s.size() == i + 6 && s[i + 3] == ':') {
    const auto oh = num(i + 1, 2), om = num(i + 4, 2);
    if (!oh || !om) return std::nullopt;
    const std::int64_t offset = *oh * 3600 + *om * 60;
    return s[i] == '+' ? t - offset : t + offset;
  }
  return std::nullopt;
}

CheckOutcome run_checks(const json::object& with, std::int64_t now) {
  const json::array& rows = rows_of(with.if_contains("rows"), "with.rows");
  const json::value* checks_v = with.if_contains("checks");
  if (checks_v == nullptr || !checks_v->is_array() || checks_v->get_array().empty()) {
    throw QualityError("with.checks: must be a non-empty list of checks");
  }
  std::size_t default_samples = kDefaultSamples;
  if (const auto* s = with.if_contains("samples"); s != nullptr && s->is_int64() && s->get_int64() >= 0) {
    default_samples = static_cast<std::size_t>(s->get_int64());
  }

  json::array results;
  std::vector<std::string> error_lines, warn_lines;
  std::size_t index = 0;
  for (const auto& cv : checks_v->get_array()) {
    const std::string where = "with.checks[" + std::to_string(index++) + "]";
    if (!cv.is_object()) throw QualityError(where + ": must be an object");
    const json::object& check = cv.get_object();
    const json::value* type_v = check.if_contains("type");
    if (type_v == nullptr || !type_v->is_string()) {
      throw QualityError(where + ".type: must be one of unique, not_null, accepted_values, range, "
                                 "relationships, freshness");
    }
    const std::string type(type_v->get_string());
    std::string severity = "error";
    if (const auto* s = check.if_contains("severity"); s != nullptr && !s->is_null()) {
      if (!s->is_string() || (s->get_string() != "error" && s->get_string() != "warn")) {
        throw QualityError(where + ".severity: must be error or warn");
      }
      severity = std::string(s->get_string());
    }
    std::size_t max_samples = default_samples;
    if (const auto* s = check.if_contains("samples"); s != nullptr && !s->is_null()) {
      if (!s->is_int64() || s->get_int64() < 0) {
        throw QualityError(where + ".samples: must be a count");
      }
      max_samples = static_cast<std::size_t>(s->get_int64());
    }

    Failures f;
    std::string label;
    json::object extra;
    if (type == "unique") {
      const auto cols = column_list(check, where, "columns");
      label = "unique(" + joined(cols) + ")";
      std::unordered_map<std::string, std::size_t> seen;
      for (std::size_t r = 0; r < rows.size(); ++r) {
        std::string key;
        bool all_null = true;
        for (const auto& c : cols) {
          const json::value& v = field(rows[r], c);
          all_null = all_null && v.is_null();
          append_key(key, v);
        }
        if (all_null) continue;
        auto [it, inserted] = seen.try_emplace(std::move(key), r);
        if (!inserted) {
          std::string values;
          for (const auto& c : cols) values += (values.empty() ? "" : ", ") + c + " = " + show(field(rows[r], c));
          f.add(rows[r], r, values + " repeats row " + std::to_string(it->second), max_samples);
        }
      }
    } else if (type == "not_null") {
      const auto cols = column_list(check, where, "columns");
      label = "not_null(" + joined(cols) + ")";
      for (std::size_t r = 0; r < rows.size(); ++r) {
        std::string nulls;
        for (const auto& c : cols) {
          const json::value& v = field(rows[r], c);
          if (v.is_null() || (v.is_string() && v.get_string().empty())) {
            nulls += (nulls.empty() ? "" : ", ") + c;
          }
        }
        if (!nulls.empty()) f.add(rows[r], r, nulls + " is empty", max_samples);
      }
    } else if (type == "accepted_values") {
      const std::string col = one_column(check, where);
      const json::value* values = check.if_contains("values");
      if (values == nullptr || !values->is_array()) {
        throw QualityError(where + ".values: must be a list of values");
      }
      std::unordered_set<std::string> accepted;
      for (const auto& v : values->get_array()) {
        std::string key;
        append_key(key, v);
        accepted.insert(std::move(key));
      }
      label = "accepted_values(" + col + ")";
      for (std::size_t r = 0; r < rows.size(); ++r) {
        const json::value& v = field(rows[r], col);
        if (v.is_null()) continue;
        std::string key;
        append_key(key, v);
        if (accepted.count(key) == 0) f.add(rows[r], r, col + " = " + show(v), max_samples);
      }
    } else if (type == "range") {
      const std::string col = one_column(check, where);
      const json::value* min = check.if_contains("min");
      const json::value* max = check.if_contains("max");
      if ((min == nullptr || min->is_null()) && (max == nullptr || max->is_null())) {
        throw QualityError(where + ": a range check needs `min`, `max` or both");
      }
      for (const json::value* b : {min, max}) {
        if (b != nullptr && !b->is_null() && !b->is_number() && !b->is_string()) {
          throw QualityError(where + ": `min` and `max` must be numbers or strings (dates)");
        }
      }
      const bool min_inc = flag(check, "min_inclusive", true, where);
      const bool max_inc = flag(check, "max_inclusive", true, where);
      label = "range(" + col + ")";
      std::string bounds;
      if (min != nullptr && !min->is_null()) bounds += (min_inc ? ">= " : "> ") + show(*min);
      if (max != nullptr && !max->is_null()) {
        bounds += (bounds.empty() ? "" : " and ") + std::string(max_inc ? "<= " : "< ") + show(*max);
      }
      for (std::size_t r = 0; r < rows.size(); ++r) {
        const json::value& v = field(rows[r], col);
        if (v.is_null()) continue;
        if (!within(v, min, max, min_inc, max_inc)) {
          f.add(rows[r], r, col + " = " + show(v) + " is not " + bounds, max_samples);
        }
      }
    } else if (type == "relationships") {
      const std::string col = one_column(check, where);
      const json::array& to = rows_of(check.if_contains("to"), where + ".to");
      std::string to_field = col;
      if (const auto* tf = check.if_contains("field"); tf != nullptr && !tf->is_null()) {
        if (!tf->is_string() || tf->get_string().empty()) {
          throw QualityError(where + ".field: must be a column name");
        }
        to_field = std::string(tf->get_string());
      }
      std::unordered_set<std::string> known;
      for (const auto& t : to) {
        const json::value& v = field(t, to_field);
        if (v.is_null()) continue;
        std::string key;
        append_key(key, v);
        known.insert(std::move(key));
      }
      label = "relationships(" + col + " -> " + to_field + ")";
      for (std::size_t r = 0; r < rows.size(); ++r) {
        const json::value& v = field(rows[r], col);
        if (v.is_null()) continue;
        std::string key;
        append_key(key, v);
        if (known.count(key) == 0) {
          f.add(rows[r], r, col + " = " + show(v) + " has no match", max_samples);
        }
      }
    } else if (type == "freshness") {
      const std::string col = one_column(check, where);
      const json::value* age_v = check.if_contains("max_age");
      const auto max_age = age_v != nullptr && age_v->is_string()
                               ? parse_duration_seconds(age_v->get_string())
                               : std::nullopt;
      if (!max_age) {
        throw QualityError(where + ".max_age: must be a duration such as 36h, 2d or 1d12h");
      }
      std::int64_t as_of = now;
      if (const auto* a = check.if_contains("as_of"); a != nullptr && !a->is_null()) {
        const auto t = a->is_string() ? parse_timestamp(a->get_string()) : std::nullopt;
        if (!t) throw QualityError(where + ".as_of: must be a date or an ISO 8601 timestamp");
        as_of = *t;
      }
      label = "freshness(" + col + ")";
      std::optional<std::int64_t> latest;
      json::value latest_value;
      std::uint64_t unreadable = 0;
      for (std::size_t r = 0; r < rows.size(); ++r) {
        const json::value& v = field(rows[r], col);
        if (v.is_null()) continue;
        const auto t = v.is_string() ? parse_timestamp(v.get_string()) : std::nullopt;
        if (!t) {
          ++unreadable;
          f.add(rows[r], r, col + " = " + show(v) + " is not a date or timestamp", max_samples);
          continue;
        }
        if (!latest || *t > *latest) {
          latest = *t;
          latest_value = v;
        }
      }
      extra["latest"] = latest_value;
      extra["as_of"] = as_of;
      if (!latest) {
        f.count += unreadable == 0 ? 1 : 0;
        if (unreadable == 0) f.examples.push_back("no row has a value");
      } else {
        // A date stands for its whole day: it is fresh until the end of that day plus max_age.
        const bool date_only = latest_value.get_string().size() == 10;
        const std::int64_t age = as_of - *latest - (date_only ? 86400 : 0);
        extra["age_seconds"] = std::max<std::int64_t>(age, 0);
        if (age > *max_age) {
          ++f.count;
          f.examples.push_back("latest " + show(latest_value) + " is older than " +
                               std::string(age_v->get_string()));
        }
      }
    } else {
      throw QualityError(where + ".type: `" + type +
                         "` is not one of unique, not_null, accepted_values, range, "
                         "relationships, freshness");
    }
    if (const auto* n = check.if_contains("name"); n != nullptr && n->is_string()) {
      label = std::string(n->get_string());
    }
    const bool passed = f.count == 0;
    json::object result{{"name", label},      {"type", type},          {"severity", severity},
                        {"passed", passed},   {"failing", f.count},    {"samples", std::move(f.samples)}};
    for (auto& kv : extra) result[kv.key()] = kv.value();
    results.emplace_back(std::move(result));
    if (!passed) {
      std::string line = label + ": " + std::to_string(f.count) + " failing";
      if (!f.examples.empty()) {
        line += " (";
        for (std::size_t i = 0; i < f.examples.size(); ++i) line += (i ? "; " : "") + f.examples[i];
        line += ")";
      }
      (severity == "error" ? error_lines : warn_lines).push_back(std::move(line));
    }
  }
  CheckOutcome outcome;
  outcome.output = json::object{{"passed", error_lines.empty()},
                                {"failed", error_lines.size()},
                                {"warnings", warn_lines.size()},
                                {"rows", rows.size()},
                                {"checks", std::move(results)}};
  if (!error_lines.empty()) {
    std::string report = "quality.check: " + std::to_string(error_lines.size()) + " of " +
                         std::to_string(checks_v->get_array().size()) + " checks failed over " +
                         std::to_string(rows.size()) + " rows";
    for (const auto& l : error_lines) report += "\n  " + l;
    for (const auto& l : warn_lines) report += "\n  warning: " + l;
    outcome.failure = std::move(report);
  }
  return outcome;
}

}  // namespace flowpilot::quality_plugin
