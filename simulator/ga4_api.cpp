// The GA4 Data API's runReport under /ga4.
#include <algorithm>

#include "simulator/detail/state.h"

namespace flowpilot::simulator::detail {

namespace {

namespace json = boost::json;
using std::chrono::sys_days;

constexpr std::int64_t kTokensPerRequest = 10;

web::Response invalid(std::string_view message) {
  return google_error(400, "INVALID_ARGUMENT", message);
}

std::optional<sys_days> ga4_date(std::string_view text, sys_days today) {
  if (text == "today") return today;
  if (text == "yesterday") return today - std::chrono::days(1);
  if (text.size() > 7 && text.substr(text.size() - 7) == "daysAgo") {
    auto n = parse_int(text.substr(0, text.size() - 7));
    if (n) return today - std::chrono::days(*n);
    return std::nullopt;
  }
  return parse_date(text);
}

std::string revenue_string(std::int64_t cents) {
  std::string s = decimal_string(cents, 2);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

struct Sums {
  std::int64_t sessions = 0, users = 0, conversions = 0, transactions = 0, revenue = 0;
};

const std::vector<std::string> kDimensions = {"date", "sessionSourceMedium", "sessionSource",
                                              "sessionMedium", "sessionDefaultChannelGroup"};
const std::vector<std::pair<std::string, std::string>> kMetrics = {
    {"sessions", "TYPE_INTEGER"},     {"totalUsers", "TYPE_INTEGER"},
    {"conversions", "TYPE_INTEGER"},  {"keyEvents", "TYPE_INTEGER"},
    {"transactions", "TYPE_INTEGER"}, {"purchaseRevenue", "TYPE_CURRENCY"},
    {"totalRevenue", "TYPE_CURRENCY"}};

std::optional<std::int64_t> int_field(const json::object& body, std::string_view key, bool& bad) {
  const json::value* v = body.if_contains(key);
  if (!v) return std::nullopt;
  if (v->is_int64() && v->as_int64() >= 0) return v->as_int64();
  if (v->is_string()) {
    if (auto n = parse_int(v->as_string())) return n;
  }
  bad = true;
  return std::nullopt;
}

web::Response run_report(Simulator::State& state, const web::Request& request) {
  const std::string& version = request.params.at("version");
  if (version != "v1beta" && version != "v1alpha" && version != "v1") {
    return google_error(404, "NOT_FOUND", "Unknown API version '" + version + "'.");
  }
  const std::string segment = request.params.at("property");
  const auto colon = segment.find(':');
  if (colon == std::string::npos || segment.substr(colon + 1) != "runReport") {
    return google_error(404, "NOT_FOUND", "The simulator serves properties/{id}:runReport only.");
  }
  if (auto refused = check_google_access(state, request)) return *refused;
  const std::string property = segment.substr(0, colon);
  const Account* account = state.dataset.find_account("ga4", property);
  if (!account) {
    return google_error(403, "PERMISSION_DENIED",
                        "User does not have sufficient permissions for this property.");
  }
  const BudgetUse use = state.take(Vendor::kGa4, property);
  if (!use.allowed) {
    return google_error(429, "RESOURCE_EXHAUSTED",
                        "Exhausted property tokens per hour. Wait and retry.");
  }
  boost::system::error_code ec;
  auto parsed = json::parse(request.body, ec);
  if (ec || !parsed.is_object())
    return invalid("Invalid JSON payload received: the body must be a JSON object.");
  const json::object& body = parsed.as_object();
  const sys_days today = state.dataset.options().today;

  std::vector<std::pair<std::string, std::string>> ranges;
  const json::value* dr = body.if_contains("dateRanges");
  if (!dr || !dr->is_array() || dr->as_array().empty() || dr->as_array().size() > 4) {
    return invalid("dateRanges: between 1 and 4 date ranges are required.");
  }
  for (std::size_t i = 0; i < dr->as_array().size(); ++i) {
    const json::object* r = dr->as_array()[i].if_object();
    const json::value* s = r ? r->if_contains("startDate") : nullptr;
    const json::value* e = r ? r->if_contains("endDate") : nullptr;
    auto sd = s && s->is_string() ? ga4_date(s->as_string(), today) : std::nullopt;
    auto ed = e && e->is_string() ? ga4_date(e->as_string(), today) : std::nullopt;
    if (!sd || !ed) {
      return invalid("dateRanges[" + std::to_string(i) +
                     "]: startDate and endDate must be YYYY-MM-DD, today, yesterday or NdaysAgo.");
    }
    if (*ed < *sd)
      return invalid("dateRanges[" + std::to_string(i) + "]: endDate is before startDate.");
    ranges.emplace_back(format_date(*sd), format_date(*ed));
  }
  auto names = [&](std::string_view key,
                   std::vector<std::string>& out) -> std::optional<web::Response> {
    const json::value* list = body.if_contains(key);
    if (!list) return std::nullopt;
    if (!list->is_array()) return invalid(std::string(key) + " must be an array");
    for (std::size_t i = 0; i < list->as_array().size(); ++i) {
      const json::object* o = list->as_array()[i].if_object();
      const json::value* n = o ? o->if_contains("name") : nullptr;
      if (!n || !n->is_string())
        return invalid(std::string(key) + "[" + std::to_string(i) + "].name is required");
      out.emplace_back(n->as_string());
    }
    return std::nullopt;
  };
  std::vector<std::string> dimensions, metrics;
  if (auto e = names("dimensions", dimensions)) return *e;
  if (auto e = names("metrics", metrics)) return *e;
  if (metrics.empty() && dimensions.empty())
    return invalid("Specify at least one dimension or metric.");
  for (const auto& d : dimensions) {
    if (std::find(kDimensions.begin(), kDimensions.end(), d) == kDimensions.end()) {
      return invalid(
          "Field " + d +
          " is not a valid dimension. The simulator knows date, "
          "sessionSourceMedium, sessionSource, sessionMedium, sessionDefaultChannelGroup.");
    }
  }
  std::vector<std::string> types;
  for (const auto& m : metrics) {
    auto it =
        std::find_if(kMetrics.begin(), kMetrics.end(), [&](const auto& p) { return p.first == m; });
    if (it == kMetrics.end()) {
      return invalid("Field " + m +
                     " is not a valid metric. The simulator knows sessions, totalUsers, "
                     "conversions, keyEvents, transactions, purchaseRevenue, totalRevenue.");
    }
    types.push_back(it->second);
  }
  bool bad = false;
  const std::int64_t limit = int_field(body, "limit", bad).value_or(10'000);
  const std::int64_t offset = int_field(body, "offset", bad).value_or(0);
  if (bad || limit < 1 || limit > 250'000)
    return invalid("limit must be 1-250000 and offset non-negative.");

  std::vector<std::string> headers = dimensions;
  if (ranges.size() > 1) headers.push_back("dateRange");
  std::map<std::vector<std::string>, Sums> groups;
  for (std::size_t r = 0; r < ranges.size(); ++r) {
    for (const auto& row : state.dataset.ga4_rows()) {
      if (row.date < ranges[r].first || row.date > ranges[r].second) continue;
      std::vector<std::string> key;
      for (const auto& d : dimensions) {
        if (d == "date")
          key.push_back(row.date.substr(0, 4) + row.date.substr(5, 2) + row.date.substr(8, 2));
        else if (d == "sessionSourceMedium")
          key.push_back(row.source + " / " + row.medium);
        else if (d == "sessionSource")
          key.push_back(row.source);
        else if (d == "sessionMedium")
          key.push_back(row.medium);
        else
          key.push_back(row.channel_group);
      }
      if (ranges.size() > 1) key.push_back("date_range_" + std::to_string(r));
      auto& s = groups[key];
      s.sessions += row.sessions;
      s.users += row.total_users;
      s.conversions += row.conversions;
      s.transactions += row.transactions;
      s.revenue += row.purchase_revenue_cents;
    }
  }
  json::array dimension_headers, metric_headers, rows;
  for (const auto& h : headers) dimension_headers.push_back(json::object{{"name", h}});
  for (std::size_t i = 0; i < metrics.size(); ++i) {
    metric_headers.push_back(json::object{{"name", metrics[i]}, {"type", types[i]}});
  }
  std::int64_t index = 0;
  for (const auto& [key, s] : groups) {
    if (index++ < offset) continue;
    if (static_cast<std::int64_t>(rows.size()) >= limit) break;
    json::array dv, mv;
    for (const auto& k : key) dv.push_back(json::object{{"value", k}});
    for (const auto& m : metrics) {
      std::string v;
      if (m == "sessions")
        v = std::to_string(s.sessions);
      else if (m == "totalUsers")
        v = std::to_string(s.users);
      else if (m == "conversions" || m == "keyEvents")
        v = std::to_string(s.conversions);
      else if (m == "transactions")
        v = std::to_string(s.transactions);
      else
        v = revenue_string(s.revenue);
      mv.push_back(json::object{{"value", v}});
    }
    json::object row;
    if (!dv.empty()) row["dimensionValues"] = std::move(dv);
    if (!mv.empty()) row["metricValues"] = std::move(mv);
    rows.push_back(std::move(row));
  }
  json::object out{{"dimensionHeaders", dimension_headers}, {"metricHeaders", metric_headers}};
  if (!rows.empty()) out["rows"] = std::move(rows);
  if (!groups.empty()) out["rowCount"] = groups.size();
  out["metadata"] =
      json::object{{"currencyCode", account->currency}, {"timeZone", account->time_zone}};
  out["kind"] = "analyticsData#runReport";
  if (const json::value* q = body.if_contains("returnPropertyQuota");
      q && q->is_bool() && q->as_bool()) {
    std::int64_t consumed_total;
    {
      std::lock_guard lock(state.mutex);
      consumed_total = static_cast<std::int64_t>(state.counts["ga4"]) * kTokensPerRequest;
    }
    auto bucket = [](std::int64_t consumed, std::int64_t total) {
      return json::object{{"consumed", consumed},
                          {"remaining", std::max<std::int64_t>(0, total - consumed)}};
    };
    out["propertyQuota"] =
        json::object{{"tokensPerDay", bucket(consumed_total, 200'000)},
                     {"tokensPerHour", bucket(consumed_total, 40'000)},
                     {"concurrentRequests", bucket(0, 10)},
                     {"serverErrorsPerProjectPerHour", bucket(0, 10)},
                     {"potentiallyThresholdedRequestsPerHour", bucket(0, 120)},
                     {"tokensPerProjectPerHour", bucket(consumed_total, 14'000)}};
  }
  return json_answer(200, out);
}

}  // namespace

void register_ga4(Simulator::State& state) {
  add_vendor_route(state, Vendor::kGa4, web::Method::kPost, "/{version}/properties/{property}",
                   run_report);
}

}  // namespace flowpilot::simulator::detail
