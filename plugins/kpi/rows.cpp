// Row parsing, sums, metric formulas, dates and grouping shared by every analytics step.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <unordered_map>

#include "kpi.h"

#include <flowpilot/money.hpp>

namespace flowpilot::kpi {
namespace {

namespace json = boost::json;


std::string at(std::string_view where, std::size_t index, std::string_view field) {
  return std::string(where) + "[" + std::to_string(index) + "]." + std::string(field);
}

const char* kind_of(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "a number";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "a value";
}

// A number field; nullopt when absent or null.
std::optional<double> number_field(const json::object& row, std::string_view field,
                                   const std::string& path) {
  const json::value* v = row.if_contains(field);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_number()) {
    throw InputError(path + " must be a number, not " + kind_of(*v));
  }
  const double d = v->to_number<double>();
  if (!std::isfinite(d)) throw InputError(path + " must be a finite number");
  return d;
}

std::int64_t money_field(const json::object& row, std::string_view field, const std::string& path,
                         bool allow_negative) {
  const std::optional<double> d = number_field(row, field, path);
  if (!d) return 0;
  if (!allow_negative && *d < 0) throw InputError(path + " must not be negative");
  // Money per row must stay exact once in micros.
  const auto micros = sdk::money::to_micros(json::value(*d));
  if (!micros) throw InputError(path + " is too large for an amount (at most 8.5e9 units)");
  return *micros;
}

std::int64_t count_field(const json::object& row, std::string_view field, const std::string& path) {
  const std::optional<double> d = number_field(row, field, path);
  if (!d) return 0;
  if (*d < 0 || *d > 9e15 || *d != std::floor(*d)) {
    throw InputError(path + " must be a whole number of at least 0");
  }
  return static_cast<std::int64_t>(*d);
}

std::int64_t checked_add(std::int64_t a, std::int64_t b) {
  std::int64_t out = 0;
  if (__builtin_add_overflow(a, b, &out)) {
    throw InputError("a sum is too large to add up exactly (more than 9.2e12 units)");
  }
  return out;
}

std::optional<double> ratio(double num, double den) {
  if (den == 0) return std::nullopt;
  return round6(num / den);
}

std::string text_of(const json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  return json::serialize(v);
}

}  // namespace

std::vector<ParsedRow> parse_rows(const json::value* rows, std::string_view where, bool need_date) {
  if (rows == nullptr || rows->is_null()) {
    throw InputError(std::string(where) + " is required: an array of normalized rows");
  }
  if (!rows->is_array()) {
    throw InputError(std::string(where) + " must be an array of rows, not " + kind_of(*rows));
  }
  const json::array& array = rows->get_array();
  std::vector<ParsedRow> out;
  out.reserve(array.size());
  for (std::size_t i = 0; i < array.size(); ++i) {
    const json::value& v = array[i];
    if (!v.is_object()) {
      throw InputError(std::string(where) + "[" + std::to_string(i) + "] must be an object, not " +
                       kind_of(v));
    }
    const json::object& row = v.get_object();
    ParsedRow p;
    p.source = &row;
    if (const json::value* d = row.if_contains("date"); d != nullptr && !d->is_null()) {
      std::optional<std::int32_t> day;
      if (d->is_string()) day = parse_day(d->get_string());
      if (!day) {
        throw InputError(at(where, i, "date") + " must be a date like 2026-05-01, not " +
                         (d->is_string() ? "\"" + std::string(d->get_string()) + "\""
                                         : std::string(kind_of(*d))));
      }
      p.day = *day;
    } else if (need_date) {
      throw InputError(at(where, i, "date") +
                       " is required (YYYY-MM-DD): this step works on "
                       "daily rows");
    }
    if (const json::value* c = row.if_contains("currency"); c != nullptr && !c->is_null()) {
      if (!c->is_string()) {
        throw InputError(at(where, i, "currency") + " must be a string such as \"EUR\", not " +
                         kind_of(*c));
      }
      p.currency = std::string(c->get_string());
    }
    p.spend_micros = money_field(row, "spend", at(where, i, "spend"), false);
    p.revenue_micros = money_field(row, "revenue", at(where, i, "revenue"), true);
    p.conversions = number_field(row, "conversions", at(where, i, "conversions")).value_or(0);
    if (p.conversions < 0) throw InputError(at(where, i, "conversions") + " must not be negative");
    p.impressions = count_field(row, "impressions", at(where, i, "impressions"));
    p.clicks = count_field(row, "clicks", at(where, i, "clicks"));
    p.customers = number_field(row, "customers", at(where, i, "customers"));
    if (p.customers && *p.customers < 0) {
      throw InputError(at(where, i, "customers") + " must not be negative");
    }
    if (row.contains("daily_budget") && !row.at("daily_budget").is_null()) {
      p.daily_budget_micros = money_field(row, "daily_budget", at(where, i, "daily_budget"), false);
    }
    p.frequency = number_field(row, "frequency", at(where, i, "frequency"));
    out.push_back(std::move(p));
  }
  return out;
}

void Totals::add(const ParsedRow& row) {
  ++rows;
  spend_micros = checked_add(spend_micros, row.spend_micros);
  revenue_micros = checked_add(revenue_micros, row.revenue_micros);
  conversions += row.conversions;
  impressions = checked_add(impressions, row.impressions);
  clicks = checked_add(clicks, row.clicks);
  if (row.customers) {
    customers += *row.customers;
    has_customers = true;
  }
}

std::string_view metric_name(Metric m) {
  switch (m) {
    case Metric::spend:
      return "spend";
    case Metric::revenue:
      return "revenue";
    case Metric::conversions:
      return "conversions";
    case Metric::impressions:
      return "impressions";
    case Metric::clicks:
      return "clicks";
    case Metric::customers:
      return "customers";
    case Metric::cac:
      return "cac";
    case Metric::roas:
      return "roas";
    case Metric::cpa:
      return "cpa";
    case Metric::cpc:
      return "cpc";
    case Metric::cpm:
      return "cpm";
    case Metric::ctr:
      return "ctr";
    case Metric::cvr:
      return "cvr";
    case Metric::aov:
      return "aov";
  }
  return "";
}

std::optional<Metric> metric_from_name(std::string_view name) {
  for (Metric m : kAllMetrics) {
    if (metric_name(m) == name) return m;
  }
  return std::nullopt;
}

Metric metric_at(const json::value& v, std::string_view where) {
  std::string names;
  for (Metric m : kAllMetrics) names += (names.empty() ? "" : ", ") + std::string(metric_name(m));
  if (!v.is_string()) {
    throw InputError(std::string(where) + " must be a metric name (" + names + "), not " +
                     kind_of(v));
  }
  const std::optional<Metric> m = metric_from_name(v.get_string());
  if (!m) {
    throw InputError(std::string(where) + ": unknown metric \"" + std::string(v.get_string()) +
                     "\"; use one of " + names);
  }
  return *m;
}

bool is_cost_metric(Metric m) {
  return m == Metric::cac || m == Metric::cpa || m == Metric::cpc || m == Metric::cpm;
}

bool is_money_metric(Metric m) {
  return m == Metric::spend || m == Metric::revenue || m == Metric::aov || is_cost_metric(m);
}

double round6(double x) { return std::round(x * 1e6) / 1e6; }

std::optional<double> metric_value(const Totals& t, Metric m) {
  const double spend = static_cast<double>(t.spend_micros) / 1e6;
  const double revenue = static_cast<double>(t.revenue_micros) / 1e6;
  switch (m) {
    case Metric::spend:
      return spend;
    case Metric::revenue:
      return revenue;
    case Metric::conversions:
      return round6(t.conversions);
    case Metric::impressions:
      return static_cast<double>(t.impressions);
    case Metric::clicks:
      return static_cast<double>(t.clicks);
    case Metric::customers:
      if (!t.has_customers) return std::nullopt;
      return round6(t.customers);
    case Metric::cac:
      if (!t.has_customers) return std::nullopt;
      return ratio(spend, t.customers);
    case Metric::roas:
      return ratio(revenue, spend);
    case Metric::cpa:
      return ratio(spend, t.conversions);
    case Metric::cpc:
      return ratio(spend, static_cast<double>(t.clicks));
    case Metric::cpm:
      return ratio(spend * 1000.0, static_cast<double>(t.impressions));
    case Metric::ctr:
      return ratio(static_cast<double>(t.clicks), static_cast<double>(t.impressions));
    case Metric::cvr:
      return ratio(t.conversions, static_cast<double>(t.clicks));
    case Metric::aov:
      return ratio(revenue, t.conversions);
  }
  return std::nullopt;
}

std::string format_figure(double value, Metric m) {
  char buffer[64];
  if (is_money_metric(m)) {
    std::snprintf(buffer, sizeof buffer, "%.2f", value);
  } else if (m == Metric::ctr || m == Metric::cvr) {
    std::snprintf(buffer, sizeof buffer, "%.2f%%", value * 100.0);
  } else if (value == std::floor(value) && std::fabs(value) < 1e15) {
    std::snprintf(buffer, sizeof buffer, "%.0f", value);
  } else {
    std::snprintf(buffer, sizeof buffer, "%.4g", value);
  }
  return buffer;
}

// Howard Hinnant's days_from_civil / civil_from_days.
std::optional<std::int32_t> parse_day(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  auto digits = [&](std::size_t from, std::size_t n) -> int {
    int v = 0;
    for (std::size_t i = from; i < from + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return -1;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  const int y = digits(0, 4);
  const int m = digits(5, 2);
  const int d = digits(8, 2);
  if (y < 1 || m < 1 || m > 12 || d < 1) return std::nullopt;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (d > kDays[m - 1] + (m == 2 && leap ? 1 : 0)) return std::nullopt;
  const int yy = y - (m <= 2 ? 1 : 0);
  const int era = yy / 400;
  const int yoe = yy - era * 400;
  const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

std::string format_day(std::int32_t day) {
  const int z = day + 719468;
  const int era = (z >= 0 ? z : z - 146096) / 146097;
  const int doe = z - era * 146097;
  const int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int mp = (5 * doy + 2) / 153;
  const int d = doy - (153 * mp + 2) / 5 + 1;
  const int m = mp + (mp < 10 ? 3 : -9);
  const int y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02d", y, m, d);
  return buffer;
}

int weekday(std::int32_t day) {
  // 1970-01-01 was a Thursday (3 with Monday = 0).
  return static_cast<int>(((static_cast<std::int64_t>(day) % 7) + 7 + 3) % 7);
}

std::string_view weekday_name(std::int32_t day) {
  static constexpr std::string_view kNames[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                                "Friday", "Saturday", "Sunday"};
  return kNames[weekday(day)];
}

std::vector<std::string> group_fields(const json::value* v, std::string_view where,
                                      std::vector<std::string> fallback) {
  if (v == nullptr || v->is_null()) return fallback;
  std::vector<std::string> out;
  if (v->is_string()) {
    out.emplace_back(v->get_string());
  } else if (v->is_array()) {
    const json::array& a = v->get_array();
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (!a[i].is_string() || a[i].get_string().empty()) {
        throw InputError(std::string(where) + "[" + std::to_string(i) +
                         "] must be a field name such as \"campaign_id\"");
      }
      out.emplace_back(a[i].get_string());
    }
  } else {
    throw InputError(std::string(where) +
                     " must be a field name or a list of field names, such as [platform, date]");
  }
  return out;
}

json::value group_value(const ParsedRow& row, std::string_view field) {
  if (field == "currency") {
    return row.currency.empty() ? json::value(nullptr) : json::value(row.currency);
  }
  const json::value* v = row.source->if_contains(field);
  return v == nullptr ? json::value(nullptr) : *v;
}

std::string group_label(const json::object& group, const json::object* sample_row) {
  std::string out;
  for (const auto& [field, value] : group) {
    if (field == "currency") continue;
    if (!out.empty()) out += ", ";
    std::string name(field);
    if (name.size() > 3 && name.substr(name.size() - 3) == "_id") name.resize(name.size() - 3);
    std::replace(name.begin(), name.end(), '_', ' ');
    out += name + " " + text_of(value);
    if (field == "campaign_id" && sample_row != nullptr && !group.contains("campaign_name")) {
      if (const json::value* n = sample_row->if_contains("campaign_name");
          n != nullptr && n->is_string() && !n->get_string().empty()) {
        out += " (" + std::string(n->get_string()) + ")";
      }
    }
  }
  if (out.empty()) out = "all rows";
  if (const json::value* c = group.if_contains("currency"); c != nullptr && c->is_string()) {
    out += " in " + std::string(c->get_string());
  }
  return out;
}

std::vector<Group> group_rows(const std::vector<ParsedRow>& rows,
                              const std::vector<std::string>& fields) {
  const bool add_currency = std::find(fields.begin(), fields.end(), "currency") == fields.end();
  std::vector<Group> out;
  // A row's key as text (length-prefixed, so no two keys collide), built without allocating a
  // JSON object per row: this loop is the hot path over a million rows.
  std::unordered_map<std::string, std::size_t> index;
  std::string text;
  auto append = [&text](const ParsedRow& row, std::string_view field) {
    std::string_view part;
    std::string serialized;
    char kind = 's';
    if (field == "currency") {
      part = row.currency;
      if (row.currency.empty()) kind = 'n';
    } else if (const json::value* v = row.source->if_contains(field); v == nullptr) {
      kind = 'n';
    } else if (v->is_string()) {
      part = v->get_string();
    } else {
      serialized = json::serialize(*v);
      part = serialized;
      kind = 'j';
    }
    text += kind;
    text += std::to_string(part.size());
    text += ':';
    text += part;
  };
  for (const ParsedRow& row : rows) {
    text.clear();
    for (const std::string& f : fields) append(row, f);
    if (add_currency) append(row, "currency");
    auto [it, added] = index.try_emplace(text, out.size());
    if (added) {
      json::object key;
      for (const std::string& f : fields) key[f] = group_value(row, f);
      if (add_currency) key["currency"] = group_value(row, "currency");
      out.push_back(Group{std::move(key), {}});
    }
    out[it->second].rows.push_back(&row);
  }
  std::sort(out.begin(), out.end(),
            [](const Group& a, const Group& b) { return group_key_less(a.key, b.key); });
  return out;
}

bool group_key_less(const json::object& a, const json::object& b) {
  auto ia = a.begin();
  auto ib = b.begin();
  for (; ia != a.end() && ib != b.end(); ++ia, ++ib) {
    const json::value& x = ia->value();
    const json::value& y = ib->value();
    if (x == y) continue;
    auto rank = [](const json::value& v) {
      return v.is_null() ? 0 : v.is_bool() ? 1 : v.is_number() ? 2 : v.is_string() ? 3 : 4;
    };
    if (rank(x) != rank(y)) return rank(x) < rank(y);
    if (x.is_number()) {
      const double dx = x.to_number<double>();
      const double dy = y.to_number<double>();
      if (dx != dy) return dx < dy;
      continue;
    }
    const std::string sx = x.is_string() ? std::string(x.get_string()) : json::serialize(x);
    const std::string sy = y.is_string() ? std::string(y.get_string()) : json::serialize(y);
    if (sx != sy) return sx < sy;
  }
  return a.size() < b.size();
}

std::optional<double> number_at(const json::object& with, std::string_view field) {
  const json::value* v = with.if_contains(field);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_number() || !std::isfinite(v->to_number<double>())) {
    throw InputError("with." + std::string(field) + " must be a number, not " + kind_of(*v));
  }
  return v->to_number<double>();
}

}  // namespace flowpilot::kpi
