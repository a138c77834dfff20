// kpi.anomalies: robust z-scores of a daily metric per group against a weekday-aware baseline.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "kpi.h"

namespace flowpilot::kpi {
namespace {

namespace json = boost::json;

// 1.4826 × MAD estimates the standard deviation of normal data; when MAD is 0 (over half the
// baseline identical), 1.2533 × the mean absolute deviation is the usual stand-in.
constexpr double kMadScale = 1.4826;
constexpr double kMeanAdScale = 1.2533;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

double round4(double x) { return std::round(x * 1e4) / 1e4; }

std::int64_t integer_at(const json::object& with, std::string_view field, std::int64_t fallback,
                        std::int64_t min, std::int64_t max) {
  const std::optional<double> v = number_at(with, field);
  if (!v) return fallback;
  if (*v != std::floor(*v) || *v < static_cast<double>(min) || *v > static_cast<double>(max)) {
    throw InputError("with." + std::string(field) + " must be a whole number from " +
                     std::to_string(min) + " to " + std::to_string(max));
  }
  return static_cast<std::int64_t>(*v);
}

std::optional<std::int32_t> day_at(const json::object& with, std::string_view field) {
  const json::value* v = with.if_contains(field);
  if (v == nullptr || v->is_null()) return std::nullopt;
  std::optional<std::int32_t> day;
  if (v->is_string()) day = parse_day(v->get_string());
  if (!day) throw InputError("with." + std::string(field) + " must be a date like 2026-05-01");
  return day;
}

struct Baseline {
  std::vector<double> values;
  const char* kind = "weekday";
};

}  // namespace

json::object anomalies(const json::object& with) {
  const std::vector<ParsedRow> rows = parse_rows(with.if_contains("rows"), "with.rows", true);
  const json::value* metric_v = with.if_contains("metric");
  const Metric metric = metric_v == nullptr || metric_v->is_null()
                            ? Metric::spend
                            : metric_at(*metric_v, "with.metric");
  const std::vector<std::string> fields =
      group_fields(with.if_contains("group_by"), "with.group_by", {"platform", "campaign_id"});
  const std::int64_t weeks = integer_at(with, "weeks", 4, 1, 52);
  const std::int64_t min_baseline = integer_at(with, "min_baseline", 3, 1, 366);
  const double threshold = number_at(with, "threshold").value_or(3.5);
  if (threshold <= 0) throw InputError("with.threshold must be greater than 0");
  // Smooth series have a tiny spread, which makes a small change score high: min_change also
  // asks for a change of at least this share of the expected value.
  const double min_change = number_at(with, "min_change").value_or(0);
  if (min_change < 0) throw InputError("with.min_change must not be negative");
  std::optional<std::int32_t> from = day_at(with, "from");
  // last_days: only the newest days, as a daily digest wants; counted back from the latest date.
  if (with.contains("last_days") && !with.at("last_days").is_null()) {
    const std::int64_t last = integer_at(with, "last_days", 1, 1, 3660);
    std::optional<std::int32_t> latest;
    for (const ParsedRow& r : rows) latest = std::max(latest.value_or(r.day), r.day);
    if (latest) {
      const std::int32_t first = *latest - static_cast<std::int32_t>(last) + 1;
      from = std::max(from.value_or(first), first);
    }
  }
  const std::optional<std::int32_t> to = day_at(with, "to");
  const json::value* series_v = with.if_contains("include_series");
  if (series_v != nullptr && !series_v->is_null() && !series_v->is_bool()) {
    throw InputError("with.include_series must be true or false");
  }
  const bool include_series = series_v != nullptr && series_v->is_bool() && series_v->get_bool();
  const std::int32_t window = static_cast<std::int32_t>(weeks * 7);
  const std::string what(metric_name(metric));
  std::string title = what;
  if (metric == Metric::spend || metric == Metric::revenue || metric == Metric::conversions ||
      metric == Metric::impressions || metric == Metric::clicks || metric == Metric::customers) {
    title[0] = static_cast<char>(title[0] - 'a' + 'A');
  } else {
    for (char& c : title) c = static_cast<char>(c - 'a' + 'A');
  }

  json::array found;
  json::array series;
  std::int64_t checked = 0;
  std::int64_t skipped = 0;
  for (const Group& g : group_rows(rows, fields)) {
    std::map<std::int32_t, Totals> days;
    for (const ParsedRow* r : g.rows) days[r->day].add(*r);
    std::map<std::int32_t, double> values;
    for (const auto& [day, totals] : days) {
      if (const std::optional<double> v = metric_value(totals, metric)) values[day] = *v;
    }
    const std::string label = group_label(g.key, g.rows.front()->source);
    json::array points;
    for (const auto& [day, value] : values) {
      if ((from && day < *from) || (to && day > *to)) continue;
      Baseline base;
      for (std::int32_t k = 1; k <= weeks; ++k) {
        if (auto it = values.find(day - 7 * k); it != values.end())
          base.values.push_back(it->second);
      }
      if (static_cast<std::int64_t>(base.values.size()) < min_baseline) {
        base.kind = "recent_days";
        base.values.clear();
        for (auto it = values.lower_bound(day - window); it != values.end() && it->first < day;
             ++it) {
          base.values.push_back(it->second);
        }
      }
      json::object point{{"date", format_day(day)}, {"value", value}};
      if (static_cast<std::int64_t>(base.values.size()) < min_baseline) {
        ++skipped;
        point["expected"] = nullptr;
        point["low"] = nullptr;
        point["high"] = nullptr;
        point["z"] = nullptr;
        point["anomaly"] = false;
        if (include_series) points.push_back(std::move(point));
        continue;
      }
      ++checked;
      const double med = median(base.values);
      std::vector<double> deviations;
      double mean_ad = 0;
      for (double x : base.values) {
        deviations.push_back(std::fabs(x - med));
        mean_ad += std::fabs(x - med);
      }
      mean_ad /= static_cast<double>(base.values.size());
      double scale = kMadScale * median(deviations);
      if (scale == 0) scale = kMeanAdScale * mean_ad;
      std::optional<double> z;
      bool anomaly = false;
      const bool large_enough = std::fabs(value - med) > min_change * std::fabs(med);
      if (scale > 0) {
        z = (value - med) / scale;
        anomaly = std::fabs(*z) > threshold && large_enough;
      } else {
        // A constant baseline: any change from it stands out, but has no finite z-score.
        anomaly = round6(value) != round6(med) && large_enough;
      }
      const double band = std::max(threshold * scale, min_change * std::fabs(med));
      const double low_raw = med - band;
      const double low = metric == Metric::revenue ? low_raw : std::max(0.0, low_raw);
      const double high = med + band;
      point["expected"] = round6(med);
      point["low"] = round6(low);
      point["high"] = round6(high);
      point["z"] = z ? json::value(round4(*z)) : json::value(nullptr);
      point["anomaly"] = anomaly;
      if (include_series) points.push_back(point);
      if (!anomaly) continue;

      const bool up = value > med;
      char zbuf[48] = "";
      if (z) std::snprintf(zbuf, sizeof zbuf, ", robust z = %.1f", *z);
      const std::string baseline_words =
          std::string(base.kind) == "weekday"
              ? "the same weekday in the previous " + std::to_string(weeks) + " weeks"
              : "the previous " + std::to_string(base.values.size()) + " days with data";
      std::string sentence = title + " for " + label + " on " + std::string(weekday_name(day)) +
                             " " + format_day(day) + " was " + format_figure(value, metric) + ", " +
                             (up ? "above" : "below") + " the expected " +
                             format_figure(med, metric) + " (usual range " +
                             format_figure(low, metric) + " to " + format_figure(high, metric) +
                             zbuf + "; baseline: " + baseline_words + ").";
      json::object a{{"group", g.key},
                     {"date", format_day(day)},
                     {"weekday", weekday_name(day)},
                     {"metric", what},
                     {"value", value},
                     {"expected", round6(med)},
                     {"expected_range", json::array{round6(low), round6(high)}},
                     {"z", z ? json::value(round4(*z)) : json::value(nullptr)},
                     {"direction", up ? "up" : "down"},
                     {"baseline", base.kind},
                     {"baseline_days", static_cast<std::int64_t>(base.values.size())},
                     {"sentence", std::move(sentence)}};
      if (g.key.contains("campaign_id") && !g.key.contains("campaign_name")) {
        if (const json::value* n = g.rows.front()->source->if_contains("campaign_name")) {
          a["campaign_name"] = *n;
        }
      }
      found.push_back(std::move(a));
    }
    if (include_series)
      series.push_back(json::object{{"group", g.key}, {"points", std::move(points)}});
  }
  json::object out{{"metric", what}, {"threshold", threshold},  {"anomalies", std::move(found)},
                   {"count", 0},     {"checked_days", checked}, {"skipped_days", skipped}};
  out["count"] = static_cast<std::int64_t>(out["anomalies"].as_array().size());
  if (include_series) out["series"] = std::move(series);
  return out;
}

}  // namespace flowpilot::kpi
