// kpi.compute: sums and ratios per group, with period-over-period changes.
#include <algorithm>
#include <cmath>
#include <map>

#include "kpi.h"

namespace flowpilot::kpi {
namespace {

namespace json = boost::json;

struct Range {
  std::int32_t from = 0;
  std::int32_t to = 0;  // inclusive
  bool contains(std::int32_t day) const { return day != kNoDay && day >= from && day <= to; }
  json::object to_json() const { return {{"from", format_day(from)}, {"to", format_day(to)}}; }
};

Range range_at(const json::value* v, const std::string& where) {
  if (v == nullptr || !v->is_object()) {
    throw InputError(where + " must be an object {from: YYYY-MM-DD, to: YYYY-MM-DD}");
  }
  Range r;
  for (const char* end : {"from", "to"}) {
    const json::value* d = v->get_object().if_contains(end);
    std::optional<std::int32_t> day;
    if (d != nullptr && d->is_string()) day = parse_day(d->get_string());
    if (!day) throw InputError(where + "." + end + " must be a date like 2026-05-01");
    (std::string_view(end) == "from" ? r.from : r.to) = *day;
  }
  if (r.to < r.from) throw InputError(where + ": `to` is before `from`");
  return r;
}

struct Periods {
  Range current;
  std::optional<Range> previous;
};

std::optional<Periods> periods_of(const json::object& with) {
  const json::value* period = with.if_contains("period");
  const json::value* compare = with.if_contains("compare");
  const bool previous_period =
      compare != nullptr && compare->is_string() && compare->get_string() == "previous_period";
  if (compare != nullptr && !compare->is_null() && !previous_period) {
    throw InputError("with.compare must be \"previous_period\" (or absent)");
  }
  if (period == nullptr || period->is_null()) {
    if (previous_period) {
      throw InputError(
          "with.compare: previous_period needs the current range in "
          "with.period.current {from, to}");
    }
    return std::nullopt;
  }
  if (!period->is_object()) throw InputError("with.period must be an object {current, previous}");
  const json::object& p = period->get_object();
  Periods out;
  out.current = range_at(p.if_contains("current"), "with.period.current");
  if (const json::value* prev = p.if_contains("previous"); prev != nullptr && !prev->is_null()) {
    if (previous_period) {
      throw InputError(
          "with.compare: give either with.period.previous or compare: "
          "previous_period, not both");
    }
    out.previous = range_at(prev, "with.period.previous");
  } else if (previous_period) {
    const std::int32_t length = out.current.to - out.current.from + 1;
    out.previous = Range{out.current.from - length, out.current.from - 1};
  }
  return out;
}

std::vector<Metric> metrics_of(const json::object& with) {
  const json::value* v = with.if_contains("metrics");
  if (v == nullptr || v->is_null()) return {std::begin(kAllMetrics), std::end(kAllMetrics)};
  if (!v->is_array()) throw InputError("with.metrics must be a list of metric names");
  std::vector<Metric> out;
  const json::array& a = v->get_array();
  for (std::size_t i = 0; i < a.size(); ++i) {
    out.push_back(metric_at(a[i], "with.metrics[" + std::to_string(i) + "]"));
  }
  return out;
}

// The records of with.customers: each counts as one new customer, or as its `customers` number.
struct CustomerRecord {
  const json::object* source;
  std::int32_t day;
  double count;
};

std::optional<std::vector<CustomerRecord>> customers_of(const json::object& with) {
  const json::value* v = with.if_contains("customers");
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_array()) {
    throw InputError("with.customers must be a list of customer or deal records");
  }
  std::vector<CustomerRecord> out;
  const json::array& a = v->get_array();
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::string where = "with.customers[" + std::to_string(i) + "]";
    if (!a[i].is_object()) throw InputError(where + " must be an object");
    const json::object& r = a[i].get_object();
    CustomerRecord rec{&r, kNoDay, 1.0};
    if (const json::value* d = r.if_contains("date"); d != nullptr && !d->is_null()) {
      std::optional<std::int32_t> day;
      if (d->is_string()) day = parse_day(d->get_string());
      if (!day) throw InputError(where + ".date must be a date like 2026-05-01");
      rec.day = *day;
    }
    if (const json::value* c = r.if_contains("customers"); c != nullptr && !c->is_null()) {
      if (!c->is_number() || c->to_number<double>() < 0) {
        throw InputError(where + ".customers must be a number of at least 0");
      }
      rec.count = c->to_number<double>();
    }
    out.push_back(rec);
  }
  return out;
}

struct GroupTotals {
  json::object key;
  Totals totals;
  const json::object* sample = nullptr;
};

std::map<std::string, GroupTotals> totals_by_group(const std::vector<ParsedRow>& rows,
                                                   const std::vector<std::string>& fields,
                                                   const std::optional<Range>& range) {
  std::map<std::string, GroupTotals> out;
  for (const Group& g : group_rows(rows, fields)) {
    GroupTotals gt;
    for (const ParsedRow* r : g.rows) {
      if (range && !range->contains(r->day)) continue;
      if (gt.sample == nullptr) gt.sample = r->source;
      gt.totals.add(*r);
    }
    if (gt.sample == nullptr) continue;  // no row of this group in the range
    gt.key = g.key;
    out.emplace(json::serialize(g.key), std::move(gt));
  }
  return out;
}

// Fills customers from with.customers for groups whose rows carry no `customers` field.
void add_customer_records(Totals& t, const json::object& key,
                          const std::vector<CustomerRecord>& records,
                          const std::optional<Range>& range, bool currency_grouped) {
  if (t.has_customers) return;
  t.has_customers = true;
  t.customers = 0;
  for (const CustomerRecord& rec : records) {
    if (range && rec.day != kNoDay && !range->contains(rec.day)) continue;
    bool match = true;
    for (const auto& [field, value] : key) {
      if (field == "currency" && !currency_grouped) continue;
      const json::value* v = rec.source->if_contains(field);
      if (v == nullptr || *v != value) {
        match = false;
        break;
      }
    }
    if (match) t.customers += rec.count;
  }
}

json::value to_json(const std::optional<double>& v) {
  return v ? json::value(*v) : json::value(nullptr);
}

json::object change_of(Metric m, const Totals* current, const Totals* previous) {
  const std::optional<double> value = current ? metric_value(*current, m) : std::nullopt;
  const std::optional<double> prev = previous ? metric_value(*previous, m) : std::nullopt;
  std::optional<double> delta;
  if (value && prev) {
    if (m == Metric::spend || m == Metric::revenue) {
      // Exact: the difference of the micros sums.
      auto micros = [m](const Totals* t) {
        return m == Metric::spend ? t->spend_micros : t->revenue_micros;
      };
      delta = static_cast<double>(micros(current) - micros(previous)) / 1e6;
    } else {
      delta = round6(*value - *prev);
    }
  }
  std::optional<double> delta_pct;
  if (delta && *prev != 0)
    delta_pct = std::round(*delta / std::fabs(*prev) * 100.0 * 100.0) / 100.0;
  return {{"value", to_json(value)},
          {"previous", to_json(prev)},
          {"delta", to_json(delta)},
          {"delta_pct", to_json(delta_pct)}};
}

}  // namespace

json::object compute(const json::object& with) {
  const std::optional<Periods> periods = periods_of(with);
  const std::vector<ParsedRow> rows =
      parse_rows(with.if_contains("rows"), "with.rows", periods.has_value());
  const std::vector<std::string> fields =
      group_fields(with.if_contains("group_by"), "with.group_by", {});
  const std::vector<Metric> metrics = metrics_of(with);
  const std::optional<std::vector<CustomerRecord>> customers = customers_of(with);
  const bool currency_grouped = std::find(fields.begin(), fields.end(), "currency") != fields.end();

  std::optional<Range> current_range;
  if (periods) current_range = periods->current;
  std::map<std::string, GroupTotals> current = totals_by_group(rows, fields, current_range);
  std::map<std::string, GroupTotals> previous;
  if (periods && periods->previous) previous = totals_by_group(rows, fields, periods->previous);

  // Groups seen only in the previous period still appear, with zero current totals.
  for (auto& [text, gt] : previous) {
    if (!current.contains(text)) {
      GroupTotals empty;
      empty.key = gt.key;
      empty.sample = gt.sample;
      current.emplace(text, std::move(empty));
    }
  }
  if (customers) {
    for (auto& [text, gt] : current) {
      add_customer_records(gt.totals, gt.key, *customers, current_range, currency_grouped);
    }
    for (auto& [text, gt] : previous) {
      add_customer_records(gt.totals, gt.key, *customers, periods->previous, currency_grouped);
    }
  }

  std::vector<const GroupTotals*> ordered;
  for (const auto& [text, gt] : current) ordered.push_back(&gt);
  std::sort(ordered.begin(), ordered.end(), [](const GroupTotals* a, const GroupTotals* b) {
    return group_key_less(a->key, b->key);
  });

  json::array out_rows;
  for (const GroupTotals* gt : ordered) {
    json::object row = gt->key;
    row["rows"] = gt->totals.rows;
    for (Metric m : metrics) row[metric_name(m)] = to_json(metric_value(gt->totals, m));
    row["spend_micros"] = gt->totals.spend_micros;
    row["revenue_micros"] = gt->totals.revenue_micros;
    if (periods && periods->previous) {
      const auto prev = previous.find(json::serialize(gt->key));
      const Totals* p = prev == previous.end() ? nullptr : &prev->second.totals;
      json::object changes;
      for (Metric m : metrics) changes[metric_name(m)] = change_of(m, &gt->totals, p);
      row["changes"] = std::move(changes);
    }
    out_rows.push_back(std::move(row));
  }
  json::object out{{"rows", std::move(out_rows)},
                   {"groups", static_cast<std::int64_t>(ordered.size())}};
  if (periods) {
    json::object p{{"current", periods->current.to_json()}};
    if (periods->previous) p["previous"] = periods->previous->to_json();
    out["period"] = std::move(p);
  }
  return out;
}

}  // namespace flowpilot::kpi
