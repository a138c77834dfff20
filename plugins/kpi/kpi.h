// The marketing analytics behind the kpi plugin (and reused by guardrail): normalized daily rows
// in, KPI tables, anomalies on daily series and scored recommendations out, all as JSON.
//
// Each step is a pure function of its `with` object (compute, anomalies, recommend), so the math
// is testable without the engine; the plugin only wraps them. Money is summed exactly in integer
// micros (llround(value * 1e6) per row); ratios are computed from the exact sums and rounded to
// 6 decimal places; a ratio whose denominator is zero is null. Formulas, defaults and scores are
// documented in docs/analytics.md.
//
// Errors: bad input throws InputError whose message names the field (`with.rows[3].spend`).
// Thread-safety: every function here is reentrant and keeps no state; a ParsedRow points into
// the JSON array it was parsed from, which must outlive it.
#ifndef FLOWPILOT_PLUGINS_KPI_KPI_H
#define FLOWPILOT_PLUGINS_KPI_KPI_H

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace flowpilot::kpi {

class InputError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// ---- The steps ----

// kpi.compute: totals and ratios per group, optionally with period-over-period changes.
boost::json::object compute(const boost::json::object& with);
// kpi.anomalies: robust z-scores of a daily metric against a weekday-aware baseline.
boost::json::object anomalies(const boost::json::object& with);
// kpi.recommend: the seven rules, scored and explained.
boost::json::object recommend(const boost::json::object& with);

// ---- Building blocks (shared with guardrail) ----

inline constexpr std::int64_t kMicrosPerUnit = 1'000'000;
inline constexpr std::int32_t kNoDay = INT32_MIN;

// One normalized row, with its money in micros and its date as a day number.
struct ParsedRow {
  const boost::json::object* source = nullptr;  // the row as given, for grouping and pass-through
  std::int32_t day = kNoDay;                    // days since 1970-01-01; kNoDay without a date
  std::string currency;                         // empty when the row has none
  std::int64_t spend_micros = 0;
  std::int64_t revenue_micros = 0;
  double conversions = 0;
  std::int64_t impressions = 0;
  std::int64_t clicks = 0;
  std::optional<double> customers;                  // the row's `customers`, when present
  std::optional<std::int64_t> daily_budget_micros;  // the row's `daily_budget`, when present
  std::optional<double> frequency;                  // the row's `frequency`, when present
};

// Parses `rows` (named `where`, e.g. "with.rows"). `need_date`: every row must carry a date.
std::vector<ParsedRow> parse_rows(const boost::json::value* rows, std::string_view where,
                                  bool need_date);

// Sums of a set of rows. Money sums fail with InputError instead of overflowing.
struct Totals {
  std::int64_t rows = 0;
  std::int64_t spend_micros = 0;
  std::int64_t revenue_micros = 0;
  double conversions = 0;
  std::int64_t impressions = 0;
  std::int64_t clicks = 0;
  double customers = 0;
  bool has_customers = false;

  void add(const ParsedRow& row);
};

enum class Metric {
  spend,
  revenue,
  conversions,
  impressions,
  clicks,
  customers,
  cac,
  roas,
  cpa,
  cpc,
  cpm,
  ctr,
  cvr,
  aov
};
inline constexpr Metric kAllMetrics[] = {
    Metric::spend,     Metric::revenue, Metric::conversions, Metric::impressions, Metric::clicks,
    Metric::customers, Metric::cac,     Metric::roas,        Metric::cpa,         Metric::cpc,
    Metric::cpm,       Metric::ctr,     Metric::cvr,         Metric::aov};

std::string_view metric_name(Metric m);
std::optional<Metric> metric_from_name(std::string_view name);
// Reads a metric name at `where` (a string), or throws InputError listing the valid names.
Metric metric_at(const boost::json::value& v, std::string_view where);
// True for metrics that cost money per unit (cac, cpa, cpc, cpm): higher is worse.
bool is_cost_metric(Metric m);
// True for money amounts and money ratios, which are printed with the currency.
bool is_money_metric(Metric m);

// The metric's value for `t`, rounded to 6 decimals; nullopt when its denominator is zero
// (and for customers/cac when no customer count is known).
std::optional<double> metric_value(const Totals& t, Metric m);

// Rounds half away from zero to 6 decimal places.
double round6(double x);
// Formats an amount or figure for sentences: 2 decimals for money, up to 4 for ratios.
std::string format_figure(double value, Metric m);

// Dates: "YYYY-MM-DD" <-> days since 1970-01-01 (proleptic Gregorian).
std::optional<std::int32_t> parse_day(std::string_view text);
std::string format_day(std::int32_t day);
// 0 = Monday ... 6 = Sunday.
int weekday(std::int32_t day);
std::string_view weekday_name(std::int32_t day);

// Group-by fields: a string or an array of strings at `where`; `fallback` when absent.
std::vector<std::string> group_fields(const boost::json::value* v, std::string_view where,
                                      std::vector<std::string> fallback);
// The value of `field` in a row (null when absent), with `currency` taken from the parsed row.
boost::json::value group_value(const ParsedRow& row, std::string_view field);
// A readable label of a group, e.g. "campaign 120200001 (Brand), EUR" or "platform meta, EUR".
std::string group_label(const boost::json::object& group, const boost::json::object* sample_row);

// Rows split by the values of `fields`, and always by currency (amounts in different currencies
// are never added). `key` holds each field's value plus `currency`. Sorted by key values
// (numbers numerically, everything else as text) so that output order is deterministic.
struct Group {
  boost::json::object key;
  std::vector<const ParsedRow*> rows;
};
// Orders group keys field by field: null, then booleans, numbers (numerically), strings, and
// anything else as JSON text.
bool group_key_less(const boost::json::object& a, const boost::json::object& b);
std::vector<Group> group_rows(const std::vector<ParsedRow>& rows,
                              const std::vector<std::string>& fields);

// Reads an optional number at `with.<field>`; InputError when present but not a number.
std::optional<double> number_at(const boost::json::object& with, std::string_view field);

}  // namespace flowpilot::kpi

#endif  // FLOWPILOT_PLUGINS_KPI_KPI_H
