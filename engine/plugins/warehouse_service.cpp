#include "engine/plugins/warehouse_service.h"

#include "engine/warehouse/warehouse.h"

#include <boost/json.hpp>
#include <flowpilot/money.hpp>
#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

namespace flowpilot::engine {

namespace json = boost::json;

namespace {

// A value the request got wrong, with its path.
class RequestError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

std::string text_field(const json::object& o, std::string_view key, const std::string& where,
                       bool required) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) {
    if (required) throw RequestError(fmt::format("{}.{} is missing", where, key));
    return {};
  }
  if (v->is_string()) return std::string(v->get_string());
  if (v->is_int64() || v->is_uint64()) return json::serialize(*v);  // numeric ids
  throw RequestError(fmt::format("{}.{} must be a string, not {}", where, key, json::serialize(*v)));
}

// Major units (a number, or a decimal string with at most six decimals) → micros.
std::optional<std::int64_t> amount_micros(const json::object& o, std::string_view key,
                                          const std::string& where, bool required) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) {
    if (required) throw RequestError(fmt::format("{}.{} is missing", where, key));
    return std::nullopt;
  }
  if (auto micros = sdk::money::to_micros(*v)) return micros;
  throw RequestError(fmt::format("{}.{} is {}, not an amount", where, key, json::serialize(*v)));
}

std::int64_t count_field(const json::object& o, std::string_view key, const std::string& where) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return 0;
  if (v->is_int64() && v->get_int64() >= 0) return v->get_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
  if (v->is_double() && v->get_double() >= 0 && std::floor(v->get_double()) == v->get_double()) {
    return static_cast<std::int64_t>(v->get_double());
  }
  throw RequestError(fmt::format("{}.{} is {}, not a count", where, key, json::serialize(*v)));
}

const json::array& list_field(const json::object& request, std::string_view key) {
  const json::value* v = request.if_contains(key);
  if (v == nullptr || !v->is_array()) throw RequestError(fmt::format("`{}` must be a list", key));
  return v->get_array();
}

std::vector<std::string> strings(const json::object& request, std::string_view key) {
  std::vector<std::string> out;
  const json::value* v = request.if_contains(key);
  if (v == nullptr || v->is_null()) return out;
  if (!v->is_array()) throw RequestError(fmt::format("`{}` must be a list of strings", key));
  for (std::size_t i = 0; i < v->get_array().size(); ++i) {
    const auto& item = v->get_array()[i];
    if (!item.is_string()) throw RequestError(fmt::format("{}[{}] must be a string", key, i));
    out.emplace_back(item.get_string());
  }
  return out;
}

json::object fact_json(const FactRow& r, bool grouped) {
  json::object o;
  for (auto [key, value] : {std::pair{"platform", &r.platform}, std::pair{"account_id", &r.account_id},
                            std::pair{"campaign_id", &r.campaign_id}, std::pair{"campaign_name", &r.campaign_name},
                            std::pair{"date", &r.date}, std::pair{"currency", &r.currency}}) {
    if (!grouped || !value->empty()) o[key] = *value;
  }
  o["spend"] = sdk::money::micros_to_number(r.spend_micros);
  o["impressions"] = r.impressions;
  o["clicks"] = r.clicks;
  o["conversions"] = sdk::money::micros_to_number(r.conversions_micros);
  o["revenue"] = sdk::money::micros_to_number(r.revenue_micros);
  if (grouped) o["facts"] = r.rows;
  return o;
}

json::object counts_json(const UpsertCounts& c) {
  return {{"inserted", c.inserted}, {"updated", c.updated}, {"unchanged", c.unchanged}};
}

json::value run(Warehouse& warehouse, const json::object& request) {
  const std::string op = text_field(request, "op", "request", true);
  const std::string batch_id = text_field(request, "batch_id", "request", false);
  if (op == "upsert_facts") {
    const json::array& rows = list_field(request, "rows");
    std::vector<FactRow> facts;
    facts.reserve(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const std::string where = fmt::format("rows[{}]", i);
      const auto* o = rows[i].if_object();
      if (o == nullptr) throw RequestError(where + " must be an object");
      FactRow f;
      f.platform = text_field(*o, "platform", where, true);
      f.account_id = text_field(*o, "account_id", where, true);
      f.campaign_id = text_field(*o, "campaign_id", where, true);
      f.date = text_field(*o, "date", where, true);
      f.campaign_name = text_field(*o, "campaign_name", where, false);
      f.currency = text_field(*o, "currency", where, false);
      f.spend_micros = *amount_micros(*o, "spend", where, true);
      f.revenue_micros = amount_micros(*o, "revenue", where, false).value_or(0);
      f.conversions_micros = amount_micros(*o, "conversions", where, false).value_or(0);
      f.impressions = count_field(*o, "impressions", where);
      f.clicks = count_field(*o, "clicks", where);
      facts.push_back(std::move(f));
    }
    return counts_json(warehouse.upsert_facts(facts, batch_id));
  }
  if (op == "upsert_deals") {
    const json::array& rows = list_field(request, "deals");
    std::vector<DealRow> deals;
    deals.reserve(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const std::string where = fmt::format("deals[{}]", i);
      const auto* o = rows[i].if_object();
      if (o == nullptr) throw RequestError(where + " must be an object");
      DealRow d;
      const std::string source = text_field(*o, "source", where, false);
      if (!source.empty()) d.source = source;
      d.deal_id = text_field(*o, "id", where, true);
      d.name = text_field(*o, "name", where, false);
      d.amount_micros = amount_micros(*o, "amount", where, false);
      d.currency = text_field(*o, "currency", where, false);
      d.stage = text_field(*o, "stage", where, false);
      d.pipeline = text_field(*o, "pipeline", where, false);
      d.close_date = text_field(*o, "close_date", where, false).substr(0, 10);
      d.create_date = text_field(*o, "create_date", where, false).substr(0, 10);
      d.channel = text_field(*o, "channel", where, false);
      deals.push_back(std::move(d));
    }
    return counts_json(warehouse.upsert_deals(deals, batch_id));
  }
  if (op == "upsert_campaigns") {
    // Items as meta_ads.campaigns / google_ads.campaigns list them (id, name, status, account_id or
    // customer_id) or as a pause reports them (campaign_id, status); `platform` and `account_id` of
    // the request fill what an item leaves out.
    const json::array& items = list_field(request, "campaigns");
    const std::string platform = text_field(request, "platform", "request", false);
    const std::string account = text_field(request, "account_id", "request", false);
    auto first_of = [](const json::object& o, std::initializer_list<const char*> keys, const std::string& where,
                       const std::string& fallback, bool required) {
      for (const char* key : keys) {
        if (std::string value = text_field(o, key, where, false); !value.empty()) return value;
      }
      if (required && fallback.empty()) {
        throw RequestError(fmt::format("{}.{} is missing", where, *keys.begin()));
      }
      return fallback;
    };
    std::vector<CampaignRow> campaigns;
    campaigns.reserve(items.size());
    for (std::size_t i = 0; i < items.size(); ++i) {
      const std::string where = fmt::format("campaigns[{}]", i);
      const auto* o = items[i].if_object();
      if (o == nullptr) throw RequestError(where + " must be an object");
      CampaignRow c;
      c.platform = first_of(*o, {"platform"}, where, platform, true);
      c.account_id = first_of(*o, {"account_id", "customer_id"}, where, account, true);
      c.campaign_id = first_of(*o, {"campaign_id", "id"}, where, "", true);
      c.name = first_of(*o, {"campaign_name", "name"}, where, "", false);
      c.status = normalize_campaign_status(first_of(*o, {"status"}, where, "", true));
      campaigns.push_back(std::move(c));
    }
    return counts_json(warehouse.upsert_campaigns(campaigns, batch_id));
  }
  if (op == "campaigns") {
    CampaignQuery q;
    q.platforms = strings(request, "platforms");
    q.account_ids = strings(request, "account_ids");
    q.campaign_ids = strings(request, "campaign_ids");
    json::array campaigns;
    for (const auto& c : warehouse.campaigns(q)) {
      campaigns.push_back(json::object{{"platform", c.platform}, {"account_id", c.account_id},
                                       {"campaign_id", c.campaign_id}, {"name", c.name},
                                       {"status", c.status}, {"updated_at", c.updated_at}});
    }
    const std::size_t count = campaigns.size();
    return json::object{{"campaigns", std::move(campaigns)}, {"count", count}};
  }
  if (op == "facts") {
    FactQuery q;
    q.since = text_field(request, "since", "request", false);
    q.until = text_field(request, "until", "request", false);
    q.platforms = strings(request, "platforms");
    q.account_ids = strings(request, "account_ids");
    q.campaign_ids = strings(request, "campaign_ids");
    q.group_by = strings(request, "group_by");
    if (const auto* g = request.if_contains("grouped"); g && g->is_bool()) q.grouped = g->get_bool();
    const bool grouped = q.grouped || !q.group_by.empty();
    json::array rows;
    for (const auto& f : warehouse.facts(q)) rows.push_back(fact_json(f, grouped));
    const std::size_t count = rows.size();
    return json::object{{"rows", std::move(rows)}, {"count", count}};
  }
  if (op == "deals") {
    DealQuery q;
    q.closed_since = text_field(request, "closed_since", "request", false);
    q.closed_until = text_field(request, "closed_until", "request", false);
    q.stages = strings(request, "stages");
    q.channels = strings(request, "channels");
    json::array deals;
    for (const auto& d : warehouse.deals(q)) {
      deals.push_back(json::object{{"source", d.source}, {"id", d.deal_id}, {"name", d.name},
                                   {"amount", d.amount_micros ? sdk::money::micros_to_number(*d.amount_micros) : json::value()},
                                   {"currency", d.currency}, {"stage", d.stage}, {"pipeline", d.pipeline},
                                   {"close_date", d.close_date}, {"create_date", d.create_date},
                                   {"channel", d.channel}});
    }
    const std::size_t count = deals.size();
    return json::object{{"deals", std::move(deals)}, {"count", count}};
  }
  throw RequestError("op `" + op + "` is not one of upsert_facts, upsert_deals, upsert_campaigns, facts, deals, campaigns");
}

}  // namespace

WarehouseAnswer handle_warehouse_request(Warehouse& warehouse, const json::value& request) {
  WarehouseAnswer answer;
  try {
    if (!request.is_object()) throw RequestError("the request must be a JSON object");
    answer.result = run(warehouse, request.get_object());
    answer.ok = true;
  } catch (const std::invalid_argument& e) {
    answer.error = e.what();
  } catch (const std::exception& e) {
    answer.error = std::string("the warehouse failed: ") + e.what();
  }
  return answer;
}

WarehouseService::WarehouseService(Warehouse& warehouse)
    : warehouse_(warehouse), thread_([this] { loop(); }) {}

WarehouseService::~WarehouseService() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void WarehouseService::submit(json::value request, Done done) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      queue_.emplace_back(std::move(request), std::move(done));
      wake_.notify_one();
      return;
    }
  }
  done({false, {}, "the warehouse is shutting down"});
}

void WarehouseService::loop() {
  for (;;) {
    std::pair<json::value, Done> item;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      if (stopping_) {
        // Answer what is left without running it: the process is going down.
        auto left = std::move(queue_);
        queue_.clear();
        lock.unlock();
        for (auto& [request, done] : left) done({false, {}, "the warehouse is shutting down"});
        return;
      }
      item = std::move(queue_.front());
      queue_.pop_front();
    }
    item.second(handle_warehouse_request(warehouse_, item.first));
  }
}

}  // namespace flowpilot::engine
