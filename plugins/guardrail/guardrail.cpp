// guardrail.check: a metric beyond a limit on each of the last N days, or over their aggregate.
#include "guardrail.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "kpi.h"

namespace flowpilot::guardrail {
namespace {

namespace json = boost::json;
using kpi::InputError;
using kpi::Metric;

struct Verdict {
  bool beyond = false;
  std::optional<double> value;
};

// A cost metric without a denominator (CPA on a day with spend and no conversion) is an infinite
// cost: beyond any upper limit. Without spend it is simply not measurable.
Verdict judge(const kpi::Totals& t, Metric metric, double limit, bool above) {
  Verdict v;
  v.value = kpi::metric_value(t, metric);
  if (!v.value) {
    v.beyond = above && kpi::is_cost_metric(metric) && t.spend_micros > 0;
    return v;
  }
  v.beyond = above ? *v.value > limit : *v.value < limit;
  return v;
}

std::string value_words(const kpi::Totals& t, const Verdict& v, Metric metric) {
  if (v.value) return kpi::format_figure(*v.value, metric);
  if (kpi::is_cost_metric(metric) && t.spend_micros > 0) {
    return "no " +
           std::string(metric == Metric::cpm   ? "impressions"
                       : metric == Metric::cpc ? "clicks"
                       : metric == Metric::cac ? "customers"
                                               : "conversions") +
           " on " + kpi::format_figure(static_cast<double>(t.spend_micros) / 1e6, Metric::spend) +
           " spend";
  }
  return "not measurable";
}

}  // namespace

json::object check(const json::object& with) {
  const std::vector<kpi::ParsedRow> rows =
      kpi::parse_rows(with.if_contains("rows"), "with.rows", true);
  const json::value* metric_v = with.if_contains("metric");
  const Metric metric = metric_v == nullptr || metric_v->is_null()
                            ? Metric::cpa
                            : kpi::metric_at(*metric_v, "with.metric");
  const std::optional<double> limit = kpi::number_at(with, "limit");
  if (!limit) throw InputError("with.limit is required: the value the metric must not pass");
  bool above = true;
  if (const json::value* d = with.if_contains("direction"); d != nullptr && !d->is_null()) {
    if (!d->is_string() || (d->get_string() != "above" && d->get_string() != "below")) {
      throw InputError("with.direction must be \"above\" (breach when higher) or \"below\"");
    }
    above = d->get_string() == "above";
  }
  const std::optional<double> days_v = kpi::number_at(with, "window_days");
  if (days_v && (*days_v < 1 || *days_v > 366 || *days_v != std::floor(*days_v))) {
    throw InputError("with.window_days must be a whole number from 1 to 366");
  }
  const std::int32_t window = days_v ? static_cast<std::int32_t>(*days_v) : 3;
  bool each_day = true;
  if (const json::value* m = with.if_contains("mode"); m != nullptr && !m->is_null()) {
    if (!m->is_string() || (m->get_string() != "each_day" && m->get_string() != "aggregate")) {
      throw InputError("with.mode must be \"each_day\" or \"aggregate\"");
    }
    each_day = m->get_string() == "each_day";
  }
  const std::vector<std::string> fields = kpi::group_fields(
      with.if_contains("group_by"), "with.group_by", {"platform", "account_id", "campaign_id"});

  std::optional<std::int32_t> as_of;
  if (const json::value* a = with.if_contains("as_of"); a != nullptr && !a->is_null()) {
    if (a->is_string()) as_of = kpi::parse_day(a->get_string());
    if (!as_of) throw InputError("with.as_of must be a date like 2026-05-01");
  }
  if (!as_of) {
    for (const kpi::ParsedRow& r : rows) as_of = std::max(as_of.value_or(r.day), r.day);
  }
  const std::string what(kpi::metric_name(metric));
  std::string title = what;
  if (kpi::is_cost_metric(metric) || metric == Metric::roas || metric == Metric::ctr ||
      metric == Metric::cvr || metric == Metric::aov) {
    for (char& c : title) c = static_cast<char>(c - 'a' + 'A');
  } else {
    title[0] = static_cast<char>(title[0] - 'a' + 'A');
  }
  const std::string limit_words = std::string(above ? "above" : "below") + " the limit of " +
                                  kpi::format_figure(*limit, metric);

  json::array breaches;
  std::int64_t checked = 0;
  json::object out{{"metric", what},
                   {"limit", *limit},
                   {"direction", above ? "above" : "below"},
                   {"mode", each_day ? "each_day" : "aggregate"},
                   {"window_days", window}};
  if (!as_of) {
    out["ok"] = true;
    out["checked"] = 0;
    out["breaches"] = json::array();
    out["summary"] = "No rows to check.";
    return out;
  }
  const std::int32_t first = *as_of - window + 1;
  out["window"] = json::object{{"from", kpi::format_day(first)}, {"to", kpi::format_day(*as_of)}};

  for (const kpi::Group& g : kpi::group_rows(rows, fields)) {
    std::map<std::int32_t, kpi::Totals> days;
    kpi::Totals total;
    for (const kpi::ParsedRow* r : g.rows) {
      if (r->day < first || r->day > *as_of) continue;
      days[r->day].add(*r);
      total.add(*r);
    }
    if (days.empty()) continue;
    ++checked;
    json::array values;
    std::string listed;
    bool all_beyond = static_cast<std::int32_t>(days.size()) == window;
    for (const auto& [day, t] : days) {
      const Verdict v = judge(t, metric, *limit, above);
      all_beyond = all_beyond && v.beyond;
      values.push_back(json::object{{"date", kpi::format_day(day)},
                                    {"value", v.value ? json::value(*v.value) : nullptr},
                                    {"breach", v.beyond}});
      listed +=
          (listed.empty() ? "" : ", ") + kpi::format_day(day) + ": " + value_words(t, v, metric);
    }
    const Verdict agg = judge(total, metric, *limit, above);
    const bool breach = each_day ? all_beyond : agg.beyond;
    if (!breach) continue;
    const std::string label = kpi::group_label(g.key, g.rows.front()->source);
    std::string sentence =
        each_day
            ? title + " of " + label + " was " + limit_words + " on each of the last " +
                  std::to_string(window) + " days (" + listed + ")."
            : title + " of " + label + " over the last " + std::to_string(window) + " days was " +
                  value_words(total, agg, metric) + ", " + limit_words + " (" + listed + ").";
    json::object b = g.key;
    if (g.key.contains("campaign_id") && !g.key.contains("campaign_name")) {
      if (const json::value* n = g.rows.front()->source->if_contains("campaign_name")) {
        b["campaign_name"] = *n;
      }
    }
    b["metric"] = what;
    b["limit"] = *limit;
    b["values"] = std::move(values);
    b["aggregate"] = agg.value ? json::value(*agg.value) : nullptr;
    b["sentence"] = std::move(sentence);
    breaches.push_back(std::move(b));
  }
  const std::size_t n = breaches.size();
  out["ok"] = n == 0;
  out["checked"] = checked;
  out["summary"] = n == 0
                       ? "All " + std::to_string(checked) + " checked groups kept " + what +
                             " within " + kpi::format_figure(*limit, metric) + "."
                       : std::to_string(n) + " of " + std::to_string(checked) +
                             " checked groups had " + what + " " + limit_words +
                             (each_day ? " on each of the last " + std::to_string(window) + " days."
                                       : " over the last " + std::to_string(window) + " days.");
  out["breaches"] = std::move(breaches);
  return out;
}

}  // namespace flowpilot::guardrail
