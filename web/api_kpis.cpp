// /api/v1/kpis: the dashboard's figures, read from the warehouse and computed by the same analytics
// library as the kpi steps (plugins/kpi), so the dashboard and a workflow's report agree to the cent.
#include "web/api.h"
#include "web/detail/api_support.h"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include <sodium.h>

#include "kpi.h"

namespace flowpilot::web {
namespace {

namespace json = boost::json;
using api_detail::problem;

constexpr int kDefaultDays = 28;
constexpr int kLongestPeriod = 366;
// Anomalies compare a day with the same weekday of the 4 weeks before, so that much history is
// read ahead of the period whatever its length.
constexpr int kAnomalyHistoryDays = 35;
// A dashboard marks a day only when it is also at least this far (a share) from the expected
// value: the z-score alone flags changes of a few percent on smooth series.
constexpr double kAnomalyMinChange = 0.1;
constexpr const char* kAnomalyMetrics[] = {"spend", "revenue", "conversions", "cpa"};
constexpr const char* kTileMetrics[] = {"spend", "revenue", "conversions", "impressions", "clicks",
                                        "customers", "roas", "cpa", "cac", "ctr", "cvr", "cpc"};
constexpr const char* kDayMetrics[] = {"spend",  "revenue", "conversions", "impressions",
                                       "clicks", "roas",    "cpa",         "ctr"};
constexpr const char* kCampaignFields[] = {"platform", "account_id", "campaign_id", "currency",
                                           "spend", "revenue", "conversions", "impressions",
                                           "clicks", "roas", "cpa", "ctr", "cvr"};
constexpr const char* kAnomalyFields[] = {"date", "metric", "value", "expected", "z", "direction",
                                          "sentence"};
constexpr const char* kFunnelFields[] = {"impressions", "clicks", "conversions", "ctr", "cvr"};

// Days are numbered from 1970-01-01, as the kpi library counts them (kpi::parse_day, which
// refuses anything but a real YYYY-MM-DD date, and kpi::format_day).
using Day = std::int32_t;
using kpi::format_day;
using kpi::parse_day;

// Micros in major units. The kpi library rounds each row back to micros (llround(x * 1e6)), which
// restores the exact figure for any amount below 2^53 micros.
double major_units(std::int64_t micros) { return static_cast<double>(micros) / 1e6; }

struct Period {
  Day since;
  Day until;
  int length() const { return until - since + 1; }
  Day previous_since() const { return since - length(); }
  json::object json() const {
    return {{"since", format_day(since)}, {"until", format_day(until)}, {"days", length()}};
  }
  json::object previous_json() const {
    return {{"since", format_day(previous_since())}, {"until", format_day(since - 1)}};
  }
};

// What a request asks for; a refusal when its query is wrong.
struct Selection {
  std::optional<Period> period;  // nullopt: the warehouse is empty and no dates were given
  std::vector<std::string> platforms;
  std::optional<std::string> latest_date;
};

// `with_latest`: also find the newest day of data, which is otherwise read only when `until` is
// not given (it is the default end).
std::variant<Selection, Response> select(const Request& request, engine::Warehouse& warehouse,
                                         bool with_latest = false) {
  Selection out;
  json::array errors;
  std::optional<Day> since, until;
  for (const char* name : {"since", "until"}) {
    const auto text = request.query_value(name);
    if (!text) continue;
    const auto day = parse_day(*text);
    if (!day) {
      errors.push_back(json::object{{"path", name}, {"message", "`" + *text + "` is not a date (YYYY-MM-DD)"}});
    } else {
      (std::string_view(name) == "since" ? since : until) = day;
    }
  }
  if (!errors.empty()) {
    return problem(request, 400, "Bad query", "a date is not YYYY-MM-DD", std::move(errors));
  }
  if (const auto platform = request.query_value("platform"); platform && !platform->empty()) {
    out.platforms.push_back(*platform);
  }
  if (with_latest || !until) {
    engine::FactQuery newest;
    newest.grouped = true;
    newest.group_by = {"date"};
    newest.platforms = out.platforms;
    const auto dates = warehouse.facts(newest);
    if (!dates.empty()) out.latest_date = dates.back().date;
  }
  if (!until && out.latest_date) until = parse_day(*out.latest_date);
  if (!until && since) until = since;
  if (!until) return out;
  if (!since) since = *until - (kDefaultDays - 1);
  if (*since > *until) {
    return problem(request, 400, "Bad query", "`since` is after `until`",
                   json::array{json::object{{"path", "since"}, {"message", "must not be after until"}}});
  }
  if (*until - *since >= kLongestPeriod) {
    return problem(request, 400, "Bad query",
                   fmt::format("the period is longer than {} days", kLongestPeriod),
                   json::array{json::object{{"path", "since"}, {"message", "period too long"}}});
  }
  out.period = Period{*since, *until};
  return out;
}

// The warehouse's daily campaign facts from `from` to the period's end, as kpi rows.
json::array fact_rows(engine::Warehouse& warehouse, const Selection& selection, Day from,
                      const std::vector<std::string>& account_ids = {},
                      const std::vector<std::string>& campaign_ids = {}) {
  engine::FactQuery query;
  query.since = format_day(from);
  query.until = format_day(selection.period->until);
  query.platforms = selection.platforms;
  query.account_ids = account_ids;
  query.campaign_ids = campaign_ids;
  json::array rows;
  for (const auto& f : warehouse.facts(query)) {
    rows.push_back(json::object{{"platform", f.platform},
                                {"account_id", f.account_id},
                                {"campaign_id", f.campaign_id},
                                {"campaign_name", f.campaign_name},
                                {"date", f.date},
                                {"currency", f.currency},
                                {"spend", major_units(f.spend_micros)},
                                {"revenue", major_units(f.revenue_micros)},
                                {"conversions", major_units(f.conversions_micros)},
                                {"impressions", f.impressions},
                                {"clicks", f.clicks}});
  }
  return rows;
}

// Won deals as customer records, each counted on its close date (CAC's denominator).
json::array won_deals(engine::Warehouse& warehouse, const Period& period) {
  engine::DealQuery query;
  query.closed_since = format_day(period.previous_since());
  query.closed_until = format_day(period.until);
  query.stages = {"closedwon"};
  json::array customers;
  for (const auto& deal : warehouse.deals(query)) {
    customers.push_back(json::object{{"date", deal.close_date}});
  }
  return customers;
}

json::object pick(const json::object& row, std::span<const char* const> names) {
  json::object out;
  for (const char* name : names) {
    const json::value* v = row.if_contains(name);
    out[name] = v != nullptr ? *v : json::value(nullptr);
  }
  return out;
}

// A string member of a kpi result ("" when absent or not a string).
std::string text_of(const json::object& object, std::string_view name) {
  const json::value* v = object.if_contains(name);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::string campaign_key(std::string_view platform, std::string_view account_id, std::string_view campaign_id) {
  return fmt::format("{}\x1f{}\x1f{}", platform, account_id, campaign_id);
}

std::string campaign_key(const json::object& row) {
  return campaign_key(row.at("platform").as_string(), row.at("account_id").as_string(),
                      row.at("campaign_id").as_string());
}

// The campaigns' last recorded status by campaign_key (null in the answers when never recorded:
// only a sync or a pause records it).
std::map<std::string, std::string> campaign_statuses(engine::Warehouse& warehouse, engine::CampaignQuery query) {
  std::map<std::string, std::string> out;
  for (const auto& c : warehouse.campaigns(query)) {
    out[campaign_key(c.platform, c.account_id, c.campaign_id)] = c.status;
  }
  return out;
}

json::value status_of(const std::map<std::string, std::string>& statuses, const std::string& key) {
  const auto found = statuses.find(key);
  return found == statuses.end() ? json::value(nullptr) : json::value(found->second);
}

json::object period_spec(const Period& period) {
  return {{"current", {{"from", format_day(period.since)}, {"to", format_day(period.until)}}}};
}

// Totals with the previous period's, per currency, keyed by currency.
std::map<std::string, json::object> totals_by_currency(const json::array& rows, const Period& period,
                                                       const json::array* customers) {
  json::object with{{"rows", rows}, {"period", period_spec(period)}, {"compare", "previous_period"}};
  if (customers != nullptr) with["customers"] = *customers;
  std::map<std::string, json::object> out;
  const json::object computed = kpi::compute(with);  // kept: the loop reads into it
  for (const auto& r : computed.at("rows").as_array()) {
    const auto& row = r.as_object();
    json::object entry{{"totals", pick(row, kTileMetrics)}};
    json::object previous;
    bool had_previous = false;
    json::object changes;
    if (const auto* c = row.if_contains("changes"); c != nullptr && c->is_object()) {
      for (const auto& [metric, change] : c->as_object()) {
        changes[metric] = change;
        const json::value* p = change.as_object().if_contains("previous");
        previous[metric] = p != nullptr ? *p : json::value(nullptr);
        had_previous = had_previous || (p != nullptr && !p->is_null());
      }
    }
    entry["previous"] = had_previous ? json::value(pick(previous, kTileMetrics)) : json::value(nullptr);
    entry["changes"] = std::move(changes);
    out[std::string(row.at("currency").as_string())] = std::move(entry);
  }
  return out;
}

// Each day of the period, per currency.
std::map<std::string, json::array> days_by_currency(const json::array& rows, const Period& period) {
  json::object with{{"rows", rows}, {"group_by", json::array{"date"}}, {"period", period_spec(period)}};
  std::map<std::string, json::array> out;
  const json::object computed = kpi::compute(with);
  for (const auto& r : computed.at("rows").as_array()) {
    const auto& row = r.as_object();
    json::object day = pick(row, kDayMetrics);
    day["date"] = row.at("date");
    out[std::string(row.at("currency").as_string())].push_back(std::move(day));
  }
  for (auto& [currency, list] : out) {
    std::sort(list.begin(), list.end(), [](const json::value& a, const json::value& b) {
      return a.at("date").as_string() < b.at("date").as_string();
    });
  }
  return out;
}

// Unusual days of the period for the charts' metrics, per currency, over the rows' totals.
std::map<std::string, json::array> anomalies_by_currency(const json::array& rows, const Period& period) {
  std::map<std::string, json::array> out;
  if (rows.empty()) return out;
  for (const char* metric : kAnomalyMetrics) {
    json::object with{{"rows", rows},
                      {"group_by", json::array{}},
                      {"metric", metric},
                      {"min_change", kAnomalyMinChange},
                      {"from", format_day(period.since)},
                      {"to", format_day(period.until)}};
    const json::object found_all = kpi::anomalies(with);
    for (const auto& a : found_all.at("anomalies").as_array()) {
      const auto& found = a.as_object();
      const auto& range = found.at("expected_range").as_array();
      json::object mark = pick(found, kAnomalyFields);
      mark["low"] = range.at(0);
      mark["high"] = range.at(1);
      out[std::string(found.at("group").at("currency").as_string())].push_back(std::move(mark));
    }
  }
  return out;
}

Response unavailable(const Request& request) {
  return problem(request, 503, "No warehouse", "this server has no marketing warehouse");
}

Response kpis(const ApiServices& api, const Request& request) {
  if (api.warehouse == nullptr) return unavailable(request);
  auto chosen = select(request, *api.warehouse, true);
  if (auto* refusal = std::get_if<Response>(&chosen)) return std::move(*refusal);
  const auto& selection = std::get<Selection>(chosen);
  json::object body{{"latest_date", selection.latest_date ? json::value(*selection.latest_date) : nullptr}};
  json::array platforms;
  engine::FactQuery by_platform;
  by_platform.grouped = true;
  by_platform.group_by = {"platform"};
  std::vector<std::string> seen;
  for (const auto& f : api.warehouse->facts(by_platform)) {
    if (std::find(seen.begin(), seen.end(), f.platform) == seen.end()) seen.push_back(f.platform);
  }
  for (const auto& p : seen) platforms.push_back(json::string(p));
  body["platforms"] = std::move(platforms);
  json::array currencies;
  if (selection.period) {
    const Period& period = *selection.period;
    body["period"] = period.json();
    body["previous"] = period.previous_json();
    const Day history = std::min(period.previous_since(), period.since - kAnomalyHistoryDays);
    const json::array rows = fact_rows(*api.warehouse, selection, history);
    const json::array customers = won_deals(*api.warehouse, period);
    auto totals = totals_by_currency(rows, period, &customers);
    auto daily = days_by_currency(rows, period);
    auto unusual = anomalies_by_currency(rows, period);
    for (auto& [currency, entry] : totals) {
      entry["currency"] = currency;
      entry["days"] = std::move(daily[currency]);
      entry["anomalies"] = std::move(unusual[currency]);
      currencies.push_back(std::move(entry));
    }
  } else {
    body["period"] = nullptr;
    body["previous"] = nullptr;
  }
  body["currencies"] = std::move(currencies);
  return json_response(200, body);
}

Response campaigns(const ApiServices& api, const Request& request) {
  if (api.warehouse == nullptr) return unavailable(request);
  auto chosen = select(request, *api.warehouse);
  if (auto* refusal = std::get_if<Response>(&chosen)) return std::move(*refusal);
  const auto& selection = std::get<Selection>(chosen);
  json::array items;
  json::object body;
  if (selection.period) {
    const Period& period = *selection.period;
    body["period"] = period.json();
    body["previous"] = period.previous_json();
    const json::array rows = fact_rows(*api.warehouse, selection, period.previous_since());
    // A campaign renamed during the period keeps its newest name.
    std::map<std::string, json::value> names;
    for (const auto& r : rows) names[campaign_key(r.as_object())] = r.at("campaign_name");
    json::object with{{"rows", rows},
                      {"group_by", json::array{"platform", "account_id", "campaign_id"}},
                      {"period", period_spec(period)},
                      {"compare", "previous_period"}};
    const json::object computed = kpi::compute(with);
    engine::CampaignQuery status_query;
    status_query.platforms = selection.platforms;
    const auto statuses = campaign_statuses(*api.warehouse, status_query);
    for (const auto& r : computed.at("rows").as_array()) {
      const auto& row = r.as_object();
      json::object item = pick(row, kCampaignFields);
      const std::string key = campaign_key(row);
      item["campaign_name"] = names[key];
      item["status"] = status_of(statuses, key);
      const json::value* changes = row.if_contains("changes");
      item["changes"] = changes != nullptr ? *changes : json::object{};
      items.push_back(std::move(item));
    }
  } else {
    body["period"] = nullptr;
    body["previous"] = nullptr;
  }
  body["items"] = std::move(items);
  return json_response(200, body);
}

Response campaign(const ApiServices& api, const Request& request) {
  if (api.warehouse == nullptr) return unavailable(request);
  auto chosen = select(request, *api.warehouse);
  if (auto* refusal = std::get_if<Response>(&chosen)) return std::move(*refusal);
  auto selection = std::get<Selection>(std::move(chosen));
  const std::string& platform = request.params.at("platform");
  const std::string& account = request.params.at("account_id");
  const std::string& id = request.params.at("campaign_id");
  const std::string what = "no data for campaign `" + id + "` of account `" + account + "` on `" + platform + "`";
  if (!selection.period) return problem(request, 404, "Not found", what);
  selection.platforms = {platform};
  const Period& period = *selection.period;
  const Day history = std::min(period.previous_since(), period.since - kAnomalyHistoryDays);
  const json::array rows = fact_rows(*api.warehouse, selection, history, {account}, {id});
  auto totals = totals_by_currency(rows, period, nullptr);
  if (totals.empty()) return problem(request, 404, "Not found", what);
  // A campaign bills in one currency (should it ever have two, the first in order is shown).
  auto& [currency, entry] = *totals.begin();
  json::value name = nullptr;
  for (const auto& r : rows) name = r.at("campaign_name");
  const auto& t = entry.at("totals").as_object();
  const auto statuses = campaign_statuses(*api.warehouse, {{platform}, {account}, {id}});
  json::object body{{"campaign", {{"platform", platform}, {"account_id", account}, {"campaign_id", id},
                                  {"campaign_name", name}, {"currency", currency},
                                  {"status", status_of(statuses, campaign_key(platform, account, id))}}},
                    {"period", period.json()},
                    {"previous", period.previous_json()},
                    {"totals", t},
                    {"changes", entry.at("changes")},
                    {"funnel", pick(t, kFunnelFields)}};
  body["days"] = std::move(days_by_currency(rows, period)[currency]);
  body["anomalies"] = std::move(anomalies_by_currency(rows, period)[currency]);
  return json_response(200, body);
}

// ---- /api/v1/recommendations -------------------------------------------------------------

// A recommendation's id: the same rule about the same campaign over the same period is the same
// recommendation, whichever process computes it, so that a decision sticks to it.
std::string recommendation_id(const json::object& found, const Period& period) {
  const json::object& campaign = found.at("campaign").as_object();
  const std::string key = fmt::format("{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}",
                                      std::string_view(found.at("rule").as_string()),
                                      text_of(campaign, "platform"), text_of(campaign, "account_id"),
                                      text_of(campaign, "campaign_id"),
                                      format_day(period.since), format_day(period.until));
  unsigned char hash[12];
  crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>(key.data()),
                     key.size(), nullptr, 0);
  std::string id = "r_";
  for (const unsigned char byte : hash) id += fmt::format("{:02x}", byte);
  return id;
}

// The workflow that carries out an accepted action: `recommendation-<action>`, `_` spelt `-`
// (recommendation-pause, recommendation-decrease-budget...); none when no such workflow exists.
std::optional<engine::CatalogEntry> action_workflow(const ApiServices& api, std::string_view action) {
  std::string id = "recommendation-" + std::string(action);
  std::replace(id.begin(), id.end(), '_', '-');
  return api.catalog.get(id);
}

json::object decision_json(const engine::RecommendationDecisionRecord& d) {
  return {{"status", d.status},
          {"by", d.decided_by},
          {"at", d.decided_at},
          {"comment", d.comment},
          {"run_id", d.run_id.empty() ? json::value(nullptr) : json::value(d.run_id)}};
}

// The recommendations kpi.recommend makes for the period, each with its id, the workflow an
// acceptance starts and any decision already taken.
std::vector<json::object> recommendations_for(const ApiServices& api, const Selection& selection) {
  std::vector<json::object> items;
  if (!selection.period) return items;
  const Period& period = *selection.period;
  const json::array rows = fact_rows(*api.warehouse, selection, period.since);
  if (rows.empty()) return items;
  const json::object made = kpi::recommend(json::object{{"rows", rows}});
  std::vector<std::string> ids;
  for (const auto& r : made.at("recommendations").as_array()) {
    const auto& found = r.as_object();
    json::object item{{"id", recommendation_id(found, period)}};
    for (const char* name : {"rule", "action", "score", "explanation", "campaign", "factors", "evidence"}) {
      const json::value* v = found.if_contains(name);
      item[name] = v != nullptr ? *v : json::value(nullptr);
    }
    const auto workflow = action_workflow(api, found.at("action").as_string());
    item["workflow"] = workflow ? json::value(workflow->record.id) : json::value(nullptr);
    item["decision"] = nullptr;
    ids.emplace_back(item.at("id").as_string());
    items.push_back(std::move(item));
  }
  for (const auto& d : api.store.get_recommendation_decisions(ids)) {
    for (auto& item : items) {
      if (item.at("id").as_string() == d.id) item["decision"] = decision_json(d);
    }
  }
  return items;
}

Response recommendations(const ApiServices& api, const Request& request) {
  if (api.warehouse == nullptr) return unavailable(request);
  auto chosen = select(request, *api.warehouse);
  if (auto* refusal = std::get_if<Response>(&chosen)) return std::move(*refusal);
  const auto& selection = std::get<Selection>(chosen);
  json::array items;
  for (auto& item : recommendations_for(api, selection)) items.push_back(std::move(item));
  return json_response(200, json::object{
      {"period", selection.period ? json::value(selection.period->json()) : json::value(nullptr)},
      {"items", std::move(items)}});
}

// Accept (`accept` true) or dismiss one recommendation of the period the query names.
Response decide(const ApiServices& api, const Request& request, bool accept) {
  if (api.warehouse == nullptr) return unavailable(request);
  auto chosen = select(request, *api.warehouse);
  if (auto* refusal = std::get_if<Response>(&chosen)) return std::move(*refusal);
  const auto& selection = std::get<Selection>(chosen);
  const std::string& id = request.params.at("id");
  auto parsed = api_detail::json_body(request);  // no body: no comment
  if (auto* error = std::get_if<Response>(&parsed)) return std::move(*error);
  const json::value& body = std::get<json::value>(parsed);
  const json::value* given = body.is_object() ? body.get_object().if_contains("comment") : nullptr;
  if (!body.is_object() || (given != nullptr && (!given->is_string() || given->get_string().size() > 2000))) {
    return problem(request, 422, "Invalid request", "the body must be {\"comment\": \"...\"}",
                   json::array{json::object{{"path", "comment"}, {"message", "must be a string of at most 2000 bytes"}}});
  }
  const std::string comment = given != nullptr ? std::string(given->get_string()) : std::string();
  std::optional<json::object> found;
  for (auto& item : recommendations_for(api, selection)) {
    if (item.at("id").as_string() == id) found = std::move(item);
  }
  if (!found) {
    return problem(request, 404, "Not found",
                   "no recommendation `" + id + "` for this period: the data may have changed; list them again");
  }
  if (!found->at("decision").is_null()) {
    return problem(request, 409, "Already decided",
                   "recommendation `" + id + "` was already " +
                       std::string(found->at("decision").at("status").as_string()));
  }
  const json::object& campaign = found->at("campaign").as_object();
  engine::RecommendationDecisionRecord decision;
  decision.id = id;
  decision.status = accept ? "accepted" : "dismissed";
  decision.rule = std::string(found->at("rule").as_string());
  decision.action = std::string(found->at("action").as_string());
  decision.platform = text_of(campaign, "platform");
  decision.account_id = text_of(campaign, "account_id");
  decision.campaign_id = text_of(campaign, "campaign_id");
  decision.decided_by = request.principal ? request.principal->email : "";
  decision.comment = comment;
  decision.decided_at = engine::now_millis();
  if (accept) {
    if (const auto workflow = action_workflow(api, decision.action)) {
      // The workflow gets what it declares of the recommendation, by input name.
      const json::object offered{{"action", decision.action},
                                 {"rule", decision.rule},
                                 {"platform", decision.platform},
                                 {"account_id", decision.account_id},
                                 {"campaign_id", decision.campaign_id},
                                 {"campaign_name", text_of(campaign, "campaign_name")},
                                 {"explanation", found->at("explanation")},
                                 {"comment", comment},
                                 {"accepted_by", decision.decided_by}};
      engine::RunRequest run;
      run.workflow = workflow->workflow;
      for (const auto& input : workflow->workflow->inputs) {
        if (const json::value* v = offered.if_contains(input.name)) run.inputs[input.name] = *v;
      }
      run.idempotency_key = "recommendation:" + id;  // a repeated accept finds the same run
      run.trigger = json::object{{"type", "api"},
                                 {"user", decision.decided_by},
                                 {"recommendation", id},
                                 {"body", nullptr},
                                 {"headers", json::object()},
                                 {"query", json::object()}};
      try {
        decision.run_id = api.executor.start(std::move(run)).run_id;
      } catch (const engine::InputError& e) {
        return problem(request, 422, "Cannot start the action",
                       "workflow `" + workflow->record.id + "` refused the recommendation's inputs: " + e.what());
      }
    }
  }
  engine::WriteBatch batch;
  batch.add(engine::PutRecommendationDecision{decision});
  if (const auto result = api.store.commit(std::move(batch)); result.error) {
    // The only write that fails here is a second decision racing this one.
    return problem(request, 409, "Already decided", "recommendation `" + id + "` was decided meanwhile");
  }
  json::object answer{{"id", id}, {"decision", decision_json(decision)}};
  if (accept) answer["run_id"] = decision.run_id.empty() ? json::value(nullptr) : json::value(decision.run_id);
  Response r = json_response(200, answer);
  r.audit = json::object{{"target", id},
                         {"rule", decision.rule},
                         {"campaign", decision.platform + "/" + decision.account_id + "/" + decision.campaign_id}};
  if (!decision.run_id.empty()) r.audit["run_id"] = decision.run_id;
  return r;
}

}  // namespace

void add_kpi_routes(Router& router, const ApiServices& api) {
  const Access read = Access::needs(engine::Permission::runs_read);
  router.add(Method::kGet, "/api/v1/kpis", read,
             [&api](const Request& request) { return kpis(api, request); });
  router.add(Method::kGet, "/api/v1/kpis/campaigns", read,
             [&api](const Request& request) { return campaigns(api, request); });
  router.add(Method::kGet, "/api/v1/kpis/campaigns/{platform}/{account_id}/{campaign_id}", read,
             [&api](const Request& request) { return campaign(api, request); });
  router.add(Method::kGet, "/api/v1/recommendations", read,
             [&api](const Request& request) { return recommendations(api, request); });
  router.add(Method::kPost, "/api/v1/recommendations/{id}/accept",
             Access::needs(engine::Permission::runs_write, "recommendation.accept"),
             [&api](const Request& request) { return decide(api, request, true); });
  router.add(Method::kPost, "/api/v1/recommendations/{id}/dismiss",
             Access::needs(engine::Permission::runs_write, "recommendation.dismiss"),
             [&api](const Request& request) { return decide(api, request, false); });
}

}  // namespace flowpilot::web
