// kpi.recommend: seven rules over a window of daily rows per campaign, each scored as
// base_score × sample_adequacy × trend_stability and explained with the figures it used.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>

#include "kpi.h"

namespace flowpilot::kpi {
namespace {

namespace json = boost::json;

// Counts at which a sample is fully adequate (see docs/analytics.md).
constexpr double kFullConversions = 30;
constexpr double kFullImpressions = 10000;
constexpr double kFullClicks = 100;
// Three expected conversions with none observed happens by chance about 5% of the time (Poisson).
constexpr double kZeroConversionsExpected = 3;

double round4(double x) { return std::round(x * 1e4) / 1e4; }
double clamp01(double x) { return std::clamp(x, 0.0, 1.0); }

// How far past the rule's threshold a signal is: 0.5 at the threshold, 1 at twice the margin.
double severity(double excess, double margin) { return clamp01(0.5 * excess / margin); }

std::string pct(double fraction) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.0f%%", fraction * 100.0);
  return buffer;
}
std::string fig(double v, Metric m) { return format_figure(v, m); }

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

struct Targets {
  std::optional<double> target_cpa;
  std::optional<double> target_roas;
  double cpa_margin = 0.2;
  double roas_margin = 0.2;
  std::optional<double> ctr_benchmark;
  double ctr_margin = 0.3;
  std::optional<double> cvr_benchmark;
  double cvr_margin = 0.5;
  double budget_utilization = 0.9;
  double fatigue_decline = 0.2;
  double fatigue_impressions_cv = 0.3;
  std::int64_t fatigue_min_days = 7;
  std::optional<double> zero_conversion_spend;
};

Targets targets_of(const json::object& with) {
  Targets t;
  const json::value* v = with.if_contains("targets");
  if (v == nullptr || v->is_null()) return t;
  if (!v->is_object()) throw InputError("with.targets must be an object such as {target_cpa: 40}");
  const json::object& o = v->get_object();
  static constexpr std::string_view kKnown[] = {"target_cpa",
                                                "target_roas",
                                                "cpa_margin",
                                                "roas_margin",
                                                "ctr_benchmark",
                                                "ctr_margin",
                                                "cvr_benchmark",
                                                "cvr_margin",
                                                "budget_utilization",
                                                "fatigue_decline",
                                                "fatigue_impressions_cv",
                                                "fatigue_min_days",
                                                "zero_conversion_spend"};
  for (const auto& [key, value] : o) {
    if (std::find(std::begin(kKnown), std::end(kKnown), key) == std::end(kKnown)) {
      std::string names;
      for (auto k : kKnown) names += (names.empty() ? "" : ", ") + std::string(k);
      throw InputError("with.targets." + std::string(key) + " is not a known target; use " + names);
    }
  }
  auto positive = [&](std::string_view name) -> std::optional<double> {
    const std::optional<double> d = number_at(o, name);
    if (d && *d <= 0) throw InputError("with.targets." + std::string(name) + " must be above 0");
    return d;
  };
  auto fraction = [&](std::string_view name, double fallback) {
    const std::optional<double> d = number_at(o, name);
    if (d && (*d <= 0 || *d > 10)) {
      throw InputError("with.targets." + std::string(name) +
                       " must be a fraction above 0, such as 0.2");
    }
    return d.value_or(fallback);
  };
  t.target_cpa = positive("target_cpa");
  t.target_roas = positive("target_roas");
  t.ctr_benchmark = positive("ctr_benchmark");
  t.cvr_benchmark = positive("cvr_benchmark");
  t.zero_conversion_spend = positive("zero_conversion_spend");
  t.cpa_margin = fraction("cpa_margin", t.cpa_margin);
  t.roas_margin = fraction("roas_margin", t.roas_margin);
  t.ctr_margin = fraction("ctr_margin", t.ctr_margin);
  t.cvr_margin = fraction("cvr_margin", t.cvr_margin);
  t.budget_utilization = fraction("budget_utilization", t.budget_utilization);
  t.fatigue_decline = fraction("fatigue_decline", t.fatigue_decline);
  t.fatigue_impressions_cv = fraction("fatigue_impressions_cv", t.fatigue_impressions_cv);
  if (const std::optional<double> d = number_at(o, "fatigue_min_days")) {
    if (*d < 3 || *d != std::floor(*d)) {
      throw InputError("with.targets.fatigue_min_days must be a whole number of at least 3");
    }
    t.fatigue_min_days = static_cast<std::int64_t>(*d);
  }
  return t;
}

struct Campaign {
  json::object key;
  const json::object* sample = nullptr;
  Totals total;
  std::map<std::int32_t, Totals> days;
  // The day's budget: the largest `daily_budget` on that day's rows, so that a campaign budget
  // repeated on each ad set's row counts once.
  std::map<std::int32_t, std::int64_t> budgets;
  // The day's mean `frequency` over the rows that carry one (impressions per person).
  std::map<std::int32_t, std::pair<double, int>> frequency;
  std::string label;
};

// Effective targets for one currency: given ones, else medians over that currency's campaigns.
struct Effective {
  std::optional<double> cpa;
  std::optional<double> roas;
  std::optional<double> ctr;
  std::optional<double> cvr;
  std::optional<double> zero_spend;
  json::object sources;
};

Effective effective_for(const Targets& t, const std::vector<const Campaign*>& campaigns) {
  std::vector<double> cpas, roases, ctrs, cvrs;
  for (const Campaign* c : campaigns) {
    if (auto v = metric_value(c->total, Metric::cpa)) cpas.push_back(*v);
    if (auto v = metric_value(c->total, Metric::roas)) roases.push_back(*v);
    if (auto v = metric_value(c->total, Metric::ctr)) ctrs.push_back(*v);
    if (auto v = metric_value(c->total, Metric::cvr)) cvrs.push_back(*v);
  }
  Effective e;
  auto pick = [&](std::optional<double> given, std::vector<double>& values, const char* name,
                  std::optional<double>& out) {
    if (given) {
      out = given;
      e.sources[name] = json::object{{"value", *given}, {"source", "given"}};
    } else if (!values.empty() && median(values) > 0) {
      out = round6(median(values));
      e.sources[name] = json::object{{"value", *out}, {"source", "account_median"}};
    } else {
      e.sources[name] = json::object{{"value", nullptr}, {"source", "unknown"}};
    }
  };
  pick(t.target_cpa, cpas, "target_cpa", e.cpa);
  pick(t.target_roas, roases, "target_roas", e.roas);
  pick(t.ctr_benchmark, ctrs, "ctr_benchmark", e.ctr);
  pick(t.cvr_benchmark, cvrs, "cvr_benchmark", e.cvr);
  e.zero_spend = t.zero_conversion_spend ? t.zero_conversion_spend : e.cpa;
  e.sources["zero_conversion_spend"] = json::object{
      {"value", e.zero_spend ? json::value(*e.zero_spend) : json::value(nullptr)},
      {"source", t.zero_conversion_spend ? "given" : (e.zero_spend ? "target_cpa" : "any_spend")}};
  return e;
}

// The share of days (among those where `counts` holds) on which `holds` is true; 0 without days.
struct DayShare {
  std::int64_t matching = 0;
  std::int64_t days = 0;
  double share() const {
    return days == 0 ? 0.0 : static_cast<double>(matching) / static_cast<double>(days);
  }
};
DayShare day_share(const Campaign& c, const std::function<bool(const Totals&)>& counts,
                   const std::function<bool(const Totals&)>& holds) {
  DayShare s;
  for (const auto& [day, t] : c.days) {
    if (!counts(t)) continue;
    ++s.days;
    if (holds(t)) ++s.matching;
  }
  return s;
}

struct Recommendation {
  std::string rule;
  std::string action;
  const Campaign* campaign;
  double base;
  double adequacy;
  double stability;
  std::string explanation;
  json::object evidence;
  double score() const { return round4(clamp01(base) * clamp01(adequacy) * clamp01(stability)); }
};

std::string days_words(const DayShare& s, const char* what) {
  return std::to_string(s.matching) + " of " + std::to_string(s.days) + " days " + what;
}

void rule_high_cpa(const Campaign& c, const Targets& t, const Effective& e,
                   std::vector<Recommendation>& out) {
  const std::optional<double> cpa = metric_value(c.total, Metric::cpa);
  if (!cpa || !e.cpa) return;
  const double target = *e.cpa;
  const double excess = (*cpa - target) / target;
  if (excess <= t.cpa_margin) return;
  const DayShare s = day_share(
      c, [](const Totals& d) { return d.spend_micros > 0; },
      [&](const Totals& d) {
        const auto v = metric_value(d, Metric::cpa);
        return !v || *v > target;  // spend without a conversion is above any target
      });
  const double spend = static_cast<double>(c.total.spend_micros) / 1e6;
  Recommendation r{"pause_high_cpa",
                   "pause",
                   &c,
                   severity(excess, t.cpa_margin),
                   std::min(1.0, c.total.conversions / kFullConversions),
                   s.share(),
                   "",
                   {}};
  r.explanation = "CPA of " + c.label + " is " + fig(*cpa, Metric::cpa) + ", " + pct(excess) +
                  " above the target of " + fig(target, Metric::cpa) + " (spend " +
                  fig(spend, Metric::spend) + " for " +
                  fig(c.total.conversions, Metric::conversions) +
                  " conversions); it was above target on " + days_words(s, "with spend") +
                  ". Pause it, or lower its bids.";
  r.evidence = {{"cpa", *cpa},
                {"target_cpa", target},
                {"excess", round4(excess)},
                {"spend", spend},
                {"conversions", round6(c.total.conversions)},
                {"days_above", s.matching},
                {"days", s.days}};
  out.push_back(std::move(r));
}

void rule_high_roas(const Campaign& c, const Targets& t, const Effective& e,
                    std::vector<Recommendation>& out) {
  const std::optional<double> roas = metric_value(c.total, Metric::roas);
  if (!roas || !e.roas || c.budgets.empty()) return;
  const double target = *e.roas;
  const double excess = (*roas - target) / target;
  if (excess <= t.roas_margin) return;
  double utilization = 0;
  std::int64_t budget_days = 0;
  for (const auto& [day, budget] : c.budgets) {
    if (budget <= 0) continue;
    const auto it = c.days.find(day);
    utilization += static_cast<double>(it->second.spend_micros) / static_cast<double>(budget);
    ++budget_days;
  }
  if (budget_days == 0) return;
  utilization /= static_cast<double>(budget_days);
  if (utilization < t.budget_utilization) return;
  const DayShare s = day_share(
      c, [](const Totals& d) { return d.spend_micros > 0; },
      [&](const Totals& d) {
        const auto v = metric_value(d, Metric::roas);
        return v && *v > target;
      });
  const double budget = static_cast<double>(c.budgets.rbegin()->second) / 1e6;
  Recommendation r{"scale_high_roas",
                   "increase_budget",
                   &c,
                   severity(excess, t.roas_margin),
                   std::min(1.0, c.total.conversions / kFullConversions),
                   s.share(),
                   "",
                   {}};
  r.explanation = "ROAS of " + c.label + " is " + fig(*roas, Metric::roas) + ", " + pct(excess) +
                  " above the target of " + fig(target, Metric::roas) + ", and it spends " +
                  pct(utilization) + " of its daily budget of " + fig(budget, Metric::spend) +
                  " on average; ROAS beat the target on " + days_words(s, "with spend") +
                  ". Raise its budget: it is held back by the budget, not by returns.";
  r.evidence = {{"roas", *roas},
                {"target_roas", target},
                {"excess", round4(excess)},
                {"budget_utilization", round4(utilization)},
                {"daily_budget", budget},
                {"conversions", round6(c.total.conversions)},
                {"days_above", s.matching},
                {"days", s.days}};
  out.push_back(std::move(r));
}

void rule_low_roas(const Campaign& c, const Targets& t, const Effective& e,
                   std::vector<Recommendation>& out) {
  const std::optional<double> roas = metric_value(c.total, Metric::roas);
  // Without conversions the zero-conversions rule speaks instead.
  if (!roas || !e.roas || c.total.conversions <= 0) return;
  const double target = *e.roas;
  const double shortfall = (target - *roas) / target;
  if (shortfall <= t.roas_margin) return;
  const DayShare s = day_share(
      c, [](const Totals& d) { return d.spend_micros > 0; },
      [&](const Totals& d) {
        const auto v = metric_value(d, Metric::roas);
        return v && *v < target;
      });
  const double spend = static_cast<double>(c.total.spend_micros) / 1e6;
  const double revenue = static_cast<double>(c.total.revenue_micros) / 1e6;
  Recommendation r{"cut_low_roas",
                   "decrease_budget",
                   &c,
                   severity(shortfall, t.roas_margin),
                   std::min(1.0, c.total.conversions / kFullConversions),
                   s.share(),
                   "",
                   {}};
  r.explanation = "ROAS of " + c.label + " is " + fig(*roas, Metric::roas) + ", " + pct(shortfall) +
                  " below the target of " + fig(target, Metric::roas) + " (revenue " +
                  fig(revenue, Metric::revenue) + " on spend " + fig(spend, Metric::spend) +
                  "); it was below target on " + days_words(s, "with spend") + ". Cut its budget.";
  r.evidence = {{"roas", *roas},
                {"target_roas", target},
                {"shortfall", round4(shortfall)},
                {"spend", spend},
                {"revenue", revenue},
                {"conversions", round6(c.total.conversions)},
                {"days_below", s.matching},
                {"days", s.days}};
  out.push_back(std::move(r));
}

void rule_fatigue(const Campaign& c, const Targets& t, std::vector<Recommendation>& out) {
  std::vector<double> xs, ys, impressions;
  for (const auto& [day, d] : c.days) {
    if (d.impressions <= 0) continue;
    xs.push_back(static_cast<double>(day - c.days.begin()->first));
    ys.push_back(static_cast<double>(d.clicks) / static_cast<double>(d.impressions));
    impressions.push_back(static_cast<double>(d.impressions));
  }
  const std::size_t n = xs.size();
  if (static_cast<std::int64_t>(n) < t.fatigue_min_days) return;
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < n; ++i) {
    mx += xs[i];
    my += ys[i];
  }
  mx /= static_cast<double>(n);
  my /= static_cast<double>(n);
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < n; ++i) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) * (xs[i] - mx);
    syy += (ys[i] - my) * (ys[i] - my);
  }
  if (sxx == 0) return;
  const double slope = sxy / sxx;
  const double start = my + slope * (xs.front() - mx);
  const double end = my + slope * (xs.back() - mx);
  if (start <= 0) return;
  const double decline = 1.0 - end / start;
  if (decline <= t.fatigue_decline) return;
  double mean_impr = 0;
  for (double v : impressions) mean_impr += v;
  mean_impr /= static_cast<double>(n);
  double var = 0;
  for (double v : impressions) var += (v - mean_impr) * (v - mean_impr);
  const double cv = std::sqrt(var / static_cast<double>(n)) / mean_impr;
  // Reach is steady when daily impressions are; when the rows report frequency, a frequency that
  // holds or rises also means the same people keep seeing the ads.
  std::optional<double> frequency_change;
  if (c.frequency.size() >= 2) {
    std::vector<double> daily;
    for (const auto& [day, f] : c.frequency) daily.push_back(f.first / f.second);
    const std::size_t half = daily.size() / 2;
    double first = 0, second = 0;
    for (std::size_t i = 0; i < half; ++i) first += daily[i];
    for (std::size_t i = daily.size() - half; i < daily.size(); ++i) second += daily[i];
    if (first > 0) frequency_change = second / first - 1.0;
  }
  const bool steady =
      cv <= t.fatigue_impressions_cv || (frequency_change && *frequency_change >= 0);
  if (!steady) return;
  const double r2 = syy == 0 ? 0.0 : clamp01(sxy * sxy / (sxx * syy));
  Recommendation r{"creative_fatigue",
                   "refresh_creative",
                   &c,
                   severity(decline, t.fatigue_decline),
                   std::min(1.0, static_cast<double>(c.total.clicks) / kFullClicks),
                   r2,
                   "",
                   {}};
  r.explanation = "CTR of " + c.label + " fell from about " + fig(start, Metric::ctr) + " to " +
                  fig(end, Metric::ctr) + " over " + std::to_string(n) + " days (" + pct(decline) +
                  " lower) while " +
                  (cv <= t.fatigue_impressions_cv
                       ? "daily impressions held steady (variation " + pct(cv) + ")"
                       : "frequency held or rose (" + pct(*frequency_change) + " change)") +
                  "; the decline explains " + pct(r2) +
                  " of the daily swings. The audience has seen the ads too often: refresh the "
                  "creative.";
  r.evidence = {
      {"ctr_start", round6(start)},
      {"ctr_end", round6(end)},
      {"decline", round4(decline)},
      {"slope_per_day", round6(slope)},
      {"r_squared", round4(r2)},
      {"impressions_cv", round4(cv)},
      {"frequency_change", frequency_change ? json::value(round4(*frequency_change)) : nullptr},
      {"days", static_cast<std::int64_t>(n)},
      {"clicks", c.total.clicks}};
  out.push_back(std::move(r));
}

void rule_low_ctr(const Campaign& c, const Targets& t, const Effective& e,
                  std::vector<Recommendation>& out) {
  const std::optional<double> ctr = metric_value(c.total, Metric::ctr);
  if (!ctr || !e.ctr) return;
  const double bench = *e.ctr;
  const double shortfall = (bench - *ctr) / bench;
  if (shortfall <= t.ctr_margin) return;
  const DayShare s = day_share(
      c, [](const Totals& d) { return d.impressions > 0; },
      [&](const Totals& d) {
        const auto v = metric_value(d, Metric::ctr);
        return v && *v < bench;
      });
  Recommendation r{"low_ctr",
                   "review_creative",
                   &c,
                   severity(shortfall, t.ctr_margin),
                   std::min(1.0, static_cast<double>(c.total.impressions) / kFullImpressions),
                   s.share(),
                   "",
                   {}};
  r.explanation =
      "CTR of " + c.label + " is " + fig(*ctr, Metric::ctr) + ", " + pct(shortfall) +
      " below the benchmark of " + fig(bench, Metric::ctr) + " (" + std::to_string(c.total.clicks) +
      " clicks from " + std::to_string(c.total.impressions) + " impressions); it was below on " +
      days_words(s, "with impressions") + ". Review the ad's message, creative and targeting.";
  r.evidence = {{"ctr", *ctr},
                {"ctr_benchmark", bench},
                {"shortfall", round4(shortfall)},
                {"clicks", c.total.clicks},
                {"impressions", c.total.impressions},
                {"days_below", s.matching},
                {"days", s.days}};
  out.push_back(std::move(r));
}

void rule_landing_page(const Campaign& c, const Targets& t, const Effective& e,
                       std::vector<Recommendation>& out) {
  const std::optional<double> ctr = metric_value(c.total, Metric::ctr);
  const std::optional<double> cvr = metric_value(c.total, Metric::cvr);
  if (!ctr || !cvr || !e.ctr || !e.cvr || *ctr < *e.ctr) return;
  const double bench = *e.cvr;
  const double shortfall = (bench - *cvr) / bench;
  if (shortfall <= t.cvr_margin) return;
  const DayShare s = day_share(
      c, [](const Totals& d) { return d.clicks > 0; },
      [&](const Totals& d) {
        const auto v = metric_value(d, Metric::cvr);
        return v && *v < bench;
      });
  const double expected = static_cast<double>(c.total.clicks) * bench;
  Recommendation r{"landing_page",
                   "review_landing_page",
                   &c,
                   severity(shortfall, t.cvr_margin),
                   std::min(1.0, expected / kFullConversions),
                   s.share(),
                   "",
                   {}};
  r.explanation = "People click the ads of " + c.label + " (CTR " + fig(*ctr, Metric::ctr) +
                  ", benchmark " + fig(*e.ctr, Metric::ctr) + ") but few convert: CVR " +
                  fig(*cvr, Metric::cvr) + " against a benchmark of " + fig(bench, Metric::cvr) +
                  " (" + fig(c.total.conversions, Metric::conversions) + " conversions from " +
                  std::to_string(c.total.clicks) + " clicks, about " +
                  fig(expected, Metric::conversions) + " expected); CVR was below on " +
                  days_words(s, "with clicks") + ". Check the landing page.";
  r.evidence = {{"ctr", *ctr},
                {"ctr_benchmark", *e.ctr},
                {"cvr", *cvr},
                {"cvr_benchmark", bench},
                {"shortfall", round4(shortfall)},
                {"clicks", c.total.clicks},
                {"conversions", round6(c.total.conversions)},
                {"expected_conversions", round6(expected)},
                {"days_below", s.matching},
                {"days", s.days}};
  out.push_back(std::move(r));
}

void rule_zero_conversions(const Campaign& c, const Effective& e,
                           std::vector<Recommendation>& out) {
  if (c.total.conversions != 0 || c.total.spend_micros <= 0) return;
  const double spend = static_cast<double>(c.total.spend_micros) / 1e6;
  double base = 0.5;
  if (e.zero_spend) {
    if (spend < *e.zero_spend) return;
    base = clamp01(0.5 * spend / *e.zero_spend);
  }
  double adequacy = std::min(1.0, static_cast<double>(c.total.clicks) / kFullClicks);
  std::optional<double> expected;
  if (e.cvr) {
    expected = static_cast<double>(c.total.clicks) * *e.cvr;
    adequacy = std::min(1.0, *expected / kZeroConversionsExpected);
  }
  const DayShare s = day_share(
      c, [](const Totals&) { return true; }, [](const Totals& d) { return d.spend_micros > 0; });
  Recommendation r{"zero_conversions", "pause", &c, base, adequacy, s.share(), "", {}};
  r.explanation = c.label + " spent " + fig(spend, Metric::spend) + " with no conversion (" +
                  std::to_string(c.total.clicks) + " clicks" +
                  (expected ? ", about " + fig(*expected, Metric::conversions) +
                                  " conversions expected at the benchmark rate"
                            : std::string()) +
                  "); it spent on " + days_words(s, "") +
                  "of the window. Pause it and check "
                  "its tracking and targeting.";
  r.evidence = {{"spend", spend},
                {"conversions", 0},
                {"clicks", c.total.clicks},
                {"expected_conversions", expected ? json::value(round6(*expected)) : nullptr},
                {"spend_threshold", e.zero_spend ? json::value(*e.zero_spend) : nullptr},
                {"days_with_spend", s.matching},
                {"days", s.days}};
  out.push_back(std::move(r));
}

}  // namespace

json::object recommend(const json::object& with) {
  const std::vector<ParsedRow> rows = parse_rows(with.if_contains("rows"), "with.rows", true);
  const std::vector<std::string> fields = group_fields(
      with.if_contains("group_by"), "with.group_by", {"platform", "account_id", "campaign_id"});
  const Targets targets = targets_of(with);
  const double min_score = number_at(with, "min_score").value_or(0);

  std::vector<Campaign> campaigns;
  for (const Group& g : group_rows(rows, fields)) {
    Campaign c;
    c.key = g.key;
    c.sample = g.rows.front()->source;
    for (const ParsedRow* r : g.rows) {
      c.total.add(*r);
      c.days[r->day].add(*r);
      if (r->frequency) {
        auto& [sum, count] = c.frequency[r->day];
        sum += *r->frequency;
        ++count;
      }
      if (r->daily_budget_micros) {
        std::int64_t& b = c.budgets[r->day];
        b = std::max(b, *r->daily_budget_micros);
      }
    }
    c.label = group_label(c.key, c.sample);
    campaigns.push_back(std::move(c));
  }
  std::map<std::string, std::vector<const Campaign*>> by_currency;
  for (const Campaign& c : campaigns) {
    const json::value& cur = c.key.at("currency");
    by_currency[cur.is_string() ? std::string(cur.get_string()) : std::string()].push_back(&c);
  }

  std::vector<Recommendation> found;
  json::object used;
  for (const auto& [currency, list] : by_currency) {
    const Effective e = effective_for(targets, list);
    used[currency.empty() ? "unknown" : currency] = e.sources;
    for (const Campaign* c : list) {
      rule_high_cpa(*c, targets, e, found);
      rule_high_roas(*c, targets, e, found);
      rule_low_roas(*c, targets, e, found);
      rule_fatigue(*c, targets, found);
      rule_low_ctr(*c, targets, e, found);
      rule_landing_page(*c, targets, e, found);
      rule_zero_conversions(*c, e, found);
    }
  }
  std::stable_sort(found.begin(), found.end(),
                   [](const Recommendation& a, const Recommendation& b) {
                     if (a.score() != b.score()) return a.score() > b.score();
                     if (a.rule != b.rule) return a.rule < b.rule;
                     return group_key_less(a.campaign->key, b.campaign->key);
                   });

  json::array out;
  for (const Recommendation& r : found) {
    if (r.score() < min_score) continue;
    json::object campaign = r.campaign->key;
    if (campaign.contains("campaign_id") && !campaign.contains("campaign_name")) {
      if (const json::value* v = r.campaign->sample->if_contains("campaign_name")) {
        campaign["campaign_name"] = *v;
      }
    }
    out.push_back(json::object{{"rule", r.rule},
                               {"campaign", std::move(campaign)},
                               {"action", r.action},
                               {"score", r.score()},
                               {"factors", json::object{{"base_score", round4(r.base)},
                                                        {"sample_adequacy", round4(r.adequacy)},
                                                        {"trend_stability", round4(r.stability)}}},
                               {"explanation", r.explanation},
                               {"evidence", r.evidence}});
  }
  json::object result{{"recommendations", std::move(out)},
                      {"campaigns", static_cast<std::int64_t>(campaigns.size())},
                      {"targets", std::move(used)}};
  result["count"] = static_cast<std::int64_t>(result["recommendations"].as_array().size());
  return result;
}

}  // namespace flowpilot::kpi
