// The meta_ads plugin: insights, the campaign list, pause/resume and daily budgets through the
// Meta Marketing API (Graph API), on the common connector loop of plugins/marketing_api. The
// connection gives `access_token` and optionally `base_url`, `api_version` and `currency`.
#include "api_exchange.h"
#include "meta_api.h"
#include "money.h"

#include <flowpilot/plugin.hpp>

#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <memory>
#include <string>

namespace {

namespace json = boost::json;
namespace sdk = flowpilot::sdk;
namespace mk = flowpilot::marketing;
namespace meta = flowpilot::meta_ads;

constexpr const char* kInsightsInput = R"({
  "type": "object", "required": ["account_id"], "additionalProperties": false,
  "properties": {
    "account_id": {"type": "string", "description": "The ad account: act_<digits> or digits."},
    "level": {"enum": ["account", "campaign", "adset", "ad"], "default": "campaign"},
    "date_preset": {"enum": ["today", "yesterday", "this_month", "last_month", "this_quarter",
      "maximum", "data_maximum", "last_3d", "last_7d", "last_14d", "last_28d", "last_30d",
      "last_90d", "last_week_mon_sun", "last_week_sun_sat", "last_quarter", "last_year",
      "this_week_mon_today", "this_week_sun_today", "this_year"]},
    "time_range": {"type": "object", "required": ["since", "until"], "additionalProperties": false,
      "properties": {"since": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
                     "until": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}}},
    "time_increment": {"enum": [1, "1", "monthly", "all_days"], "default": 1},
    "conversion_action": {"type": "string", "minLength": 1, "default": "purchase"},
    "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
    "page_size": {"type": "integer", "minimum": 1, "maximum": 5000, "default": 500},
    "max_pages": {"type": "integer", "minimum": 1, "default": 1000},
    "include_raw": {"type": "boolean", "default": false}
  }})";

constexpr const char* kRowsOutput = R"({
  "type": "object", "required": ["rows", "count"],
  "properties": {"rows": {"type": "array", "items": {"type": "object"}},
                 "count": {"type": "integer"}, "pages": {"type": "integer"},
                 "raw": {"type": "array"}}})";

constexpr const char* kCampaignsInput = R"({
  "type": "object", "required": ["account_id"], "additionalProperties": false,
  "properties": {
    "account_id": {"type": "string"},
    "effective_status": {"type": "array", "items": {"type": "string"},
                         "default": ["ACTIVE", "PAUSED"]},
    "currency_decimals": {"type": "integer", "minimum": 0, "maximum": 3, "default": 2},
    "page_size": {"type": "integer", "minimum": 1, "maximum": 5000, "default": 200}
  }})";

constexpr const char* kStatusInput = R"({
  "type": "object", "required": ["campaign_id"], "additionalProperties": false,
  "properties": {
    "campaign_id": {"type": "string", "pattern": "^[0-9]+$"},
    "account_id": {"type": "string", "description": "Shares the account's rate limit when given."}
  }})";

constexpr const char* kBudgetInput = R"({
  "type": "object", "required": ["campaign_id", "daily_budget"], "additionalProperties": false,
  "properties": {
    "campaign_id": {"type": "string", "pattern": "^[0-9]+$"},
    "daily_budget": {"type": "number", "exclusiveMinimum": 0,
                     "description": "In the account currency's major unit (e.g. 25.50)."},
    "currency_decimals": {"type": "integer", "minimum": 0, "maximum": 3, "default": 2},
    "account_id": {"type": "string"}
  }})";

json::object credentials_of(const sdk::Call& call) {
  auto credentials = call.credentials();
  if (!credentials) {
    throw sdk::StepError(call.step_name() + ": the step needs a `connection` of type meta_ads");
  }
  return std::move(*credentials);
}

std::string rate_key(const std::string& account) { return "meta:" + account; }

// Meta's Graph API takes the token as a bearer header; the URLs stay free of it.
void bearer(sdk::HttpRequest& request, const std::string& token) {
  request.headers.emplace_back("Authorization", "Bearer " + token);
}

json::object parse_object(const sdk::HttpResponse& response) {
  json::value v = json::parse(response.body);
  if (!v.is_object()) throw sdk::StepError("Meta API: the answer is not a JSON object", true);
  return std::move(v.get_object());
}

// Slows every run on the account down while Meta reports its usage near the limit.
void respect_usage(sdk::Call& call, const std::string& key, const sdk::HttpResponse& response) {
  const auto pct = meta::usage_percent(response);
  if (!pct || *pct < 90) return;
  const auto pause = std::chrono::milliseconds(*pct >= 95 ? 10'000 : 2'000);
  call.log(sdk::Level::warn, "Meta reports " + std::to_string(static_cast<int>(*pct)) +
                                 "% of the rate limit used; slowing down");
  call.rate_pause(key, pause);
}

struct InsightsState {
  meta::RowOptions options;
  std::int64_t max_pages = 1000;
  std::int64_t pages = 0;
  bool include_raw = false;
  json::array rows;
  json::array raw;
  std::string first_url;
};

void insights(sdk::Call& call) {
  const json::object credentials = credentials_of(call);
  const meta::Connection connection = meta::connection_from(credentials);
  auto state = std::make_shared<InsightsState>();
  state->options.account_id = meta::account_path(call.get_string("account_id"));
  state->options.level = call.input_or<std::string>("level", "campaign");
  state->options.conversion_action = call.input_or<std::string>("conversion_action", "purchase");
  state->options.currency = call.input_or<std::string>("currency", connection.currency);
  state->max_pages = call.input_or<std::int64_t>("max_pages", 1000);
  state->include_raw = call.input_or<bool>("include_raw", false);

  std::string fields = "spend,impressions,clicks,actions,action_values,account_currency,date_start,date_stop";
  const std::string& level = state->options.level;
  if (level != "account") fields = "campaign_id,campaign_name," + fields;
  if (level == "adset" || level == "ad") fields = "adset_id,adset_name," + fields;
  if (level == "ad") fields = "ad_id,ad_name," + fields;
  std::vector<std::pair<std::string, std::string>> query = {
      {"level", level}, {"fields", fields},
      {"limit", std::to_string(call.input_or<std::int64_t>("page_size", 500))}};
  const auto& input = call.input();
  if (const auto* range = input.if_contains("time_range")) {
    query.emplace_back("time_range", json::serialize(*range));
  } else {
    query.emplace_back("date_preset", call.input_or<std::string>("date_preset", "last_7d"));
  }
  const json::value* increment = input.if_contains("time_increment");
  std::string increment_text = "1";
  if (increment != nullptr && increment->is_string()) increment_text = increment->get_string();
  query.emplace_back("time_increment", increment_text);

  auto ex = std::make_shared<mk::Exchange>();
  ex->rate_key = rate_key(state->options.account_id);
  ex->request.url = meta::graph_url(connection, state->options.account_id + "/insights", query);
  state->first_url = ex->request.url;
  ex->classify = meta::classify;
  ex->authorize = bearer;
  ex->on_ok = [state](sdk::Call& c, mk::Exchange& self, const sdk::HttpResponse& response) {
    respect_usage(c, self.rate_key, response);
    json::object page = parse_object(response);
    ++state->pages;
    const json::value* data = page.if_contains("data");
    if (data == nullptr || !data->is_array()) {
      throw sdk::StepError("Meta API: the insights answer has no `data` list", true);
    }
    for (const auto& item : data->get_array()) {
      if (!item.is_object()) continue;
      const std::string where = "page " + std::to_string(state->pages) + " row " +
                                std::to_string(state->rows.size() + 1);
      state->rows.push_back(meta::normalize_insight(item.get_object(), state->options, where));
      if (state->include_raw) state->raw.push_back(item);
    }
    // A missing `next` is the last page, whatever the size of this one.
    const json::value* paging = page.if_contains("paging");
    const json::object* paging_obj = paging != nullptr ? paging->if_object() : nullptr;
    const bool more = paging_obj != nullptr && paging_obj->contains("next");
    std::string after;
    if (more) {
      if (const auto* cursors = paging_obj->if_contains("cursors"); cursors && cursors->is_object()) {
        if (const auto* a = cursors->get_object().if_contains("after"); a && a->is_string()) {
          after = a->get_string();
        }
      }
    }
    if (!more || after.empty() || state->pages >= state->max_pages) {
      if (more && !after.empty()) {
        c.log(sdk::Level::warn, "meta_ads.insights: stopped at max_pages with more pages left");
      }
      json::object out{{"count", state->rows.size()}, {"pages", state->pages}};
      out["rows"] = std::move(state->rows);
      if (state->include_raw) out["raw"] = std::move(state->raw);
      c.complete(out);
      return;
    }
    c.progress(0, "page " + std::to_string(state->pages + 1));
    self.request.url = state->first_url + "&after=" +
                      boost::urls::encode(after, boost::urls::unreserved_chars);
    mk::send_again(c, self);
  };
  mk::start(call, ex);
}

void campaigns(sdk::Call& call) {
  const meta::Connection connection = meta::connection_from(credentials_of(call));
  const std::string account = meta::account_path(call.get_string("account_id"));
  json::array statuses{"ACTIVE", "PAUSED"};
  if (const auto* s = call.input().if_contains("effective_status"); s && s->is_array()) {
    statuses = s->get_array();
  }
  const auto decimals = call.input_or<std::int64_t>("currency_decimals", 2);
  std::int64_t minor_to_micros = 1'000'000;
  for (std::int64_t i = 0; i < decimals; ++i) minor_to_micros /= 10;
  auto ex = std::make_shared<mk::Exchange>();
  ex->rate_key = rate_key(account);
  const std::string first_url = meta::graph_url(
      connection, account + "/campaigns",
      {{"fields", "id,name,status,effective_status,objective,daily_budget"},
       {"effective_status", json::serialize(statuses)},
       {"limit", std::to_string(call.input_or<std::int64_t>("page_size", 200))}});
  ex->request.url = first_url;
  ex->classify = meta::classify;
  ex->authorize = bearer;
  auto list = std::make_shared<json::array>();
  ex->on_ok = [list, first_url, minor_to_micros, account](sdk::Call& c, mk::Exchange& self,
                                                             const sdk::HttpResponse& response) {
    respect_usage(c, self.rate_key, response);
    json::object page = parse_object(response);
    if (const auto* data = page.if_contains("data"); data && data->is_array()) {
      for (const auto& item : data->get_array()) {
        const auto* o = item.if_object();
        if (o == nullptr) continue;
        json::object campaign;
        for (const char* key : {"id", "name", "status", "effective_status", "objective"}) {
          if (const auto* v = o->if_contains(key)) campaign[key] = *v;
        }
        campaign["account_id"] = account;
        campaign["daily_budget"] = nullptr;
        if (const auto* b = o->if_contains("daily_budget"); b && b->is_string()) {
          if (auto minor = mk::parse_int64(b->get_string())) {
            campaign["daily_budget"] = mk::micros_to_number(*minor * minor_to_micros);
          }
        }
        list->push_back(std::move(campaign));
      }
    }
    const json::object* paging = page.contains("paging") ? page.at("paging").if_object() : nullptr;
    const json::value* after = nullptr;
    if (paging != nullptr && paging->contains("next")) {
      if (const auto* cursors = paging->if_contains("cursors"); cursors && cursors->is_object()) {
        after = cursors->get_object().if_contains("after");
      }
    }
    if (after == nullptr || !after->is_string()) {
      c.complete(json::object{{"campaigns", std::move(*list)}, {"count", list->size()}});
      return;
    }
    self.request.url = first_url + "&after=" +
                      boost::urls::encode(after->get_string(), boost::urls::unreserved_chars);
    mk::send_again(c, self);
  };
  mk::start(call, ex);
}

// Reads a campaign's fields, then calls `then` with them (plan mode and budget changes).
template <class Then>
void read_campaign(sdk::Call& call, const meta::Connection& connection, const std::string& key,
                   const std::string& campaign_id, Then then) {
  auto ex = std::make_shared<mk::Exchange>();
  ex->rate_key = key;
  ex->request.url = meta::graph_url(connection, campaign_id,
                                    {{"fields", "id,name,status,effective_status,daily_budget"}});
  ex->classify = meta::classify;
  ex->authorize = bearer;
  ex->on_ok = [then](sdk::Call& c, mk::Exchange&, const sdk::HttpResponse& response) {
    then(c, parse_object(response));
  };
  mk::start(call, ex);
}

void post_fields(sdk::Call& call, const meta::Connection& connection, const std::string& key,
                 const std::string& campaign_id, const std::string& form, json::object output) {
  auto ex = std::make_shared<mk::Exchange>();
  ex->rate_key = key;
  ex->request.method = "POST";
  ex->request.url = meta::graph_url(connection, campaign_id, {});
  ex->request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  ex->request.body = form;
  ex->classify = meta::classify;
  ex->authorize = bearer;
  ex->on_ok = [output = std::move(output)](sdk::Call& c, mk::Exchange&, const sdk::HttpResponse& response) {
    json::object answer = parse_object(response);
    const auto* success = answer.if_contains("success");
    if (success == nullptr || !success->is_bool() || !success->get_bool()) {
      throw sdk::StepError("Meta API did not confirm the change: " + mk::excerpt(response.body));
    }
    c.complete(output);
  };
  mk::start(call, ex);
}

std::string key_for(const sdk::Call& call, const std::string& campaign_id) {
  const auto account = call.input_or<std::string>("account_id", "");
  return account.empty() ? "meta:campaign:" + campaign_id : rate_key(meta::account_path(account));
}

void set_status(sdk::Call& call, const std::string& target) {
  const meta::Connection connection = meta::connection_from(credentials_of(call));
  const std::string campaign_id = call.get_string("campaign_id");
  const std::string key = key_for(call, campaign_id);
  if (call.plan_mode()) {
    read_campaign(call, connection, key, campaign_id,
                  [campaign_id, target](sdk::Call& c, const json::object& campaign) {
                    const json::value* status = campaign.if_contains("status");
                    const std::string from = status && status->is_string() ? std::string(status->get_string()) : "";
                    json::object plan{{"campaign_id", campaign_id},
                                      {"name", campaign.contains("name") ? campaign.at("name") : json::value()},
                                      {"from", from},
                                      {"to", target},
                                      {"change", from != target}};
                    c.complete(json::object{{"plan", json::array{plan}}});
                  });
    return;
  }
  json::object output{{"campaign_id", campaign_id}, {"status", target}};
  // The account lets warehouse.upsert_campaigns record the new status without another lookup.
  if (const auto account = call.input_or<std::string>("account_id", ""); !account.empty()) {
    output["account_id"] = meta::account_path(account);
  }
  post_fields(call, connection, key, campaign_id, "status=" + target, std::move(output));
}

void set_budget(sdk::Call& call) {
  const meta::Connection connection = meta::connection_from(credentials_of(call));
  const std::string campaign_id = call.get_string("campaign_id");
  const std::string key = key_for(call, campaign_id);
  const json::value& budget = call.input().at("daily_budget");
  const auto micros = mk::to_micros(budget);
  const auto decimals = call.input_or<std::int64_t>("currency_decimals", 2);
  std::int64_t micros_per_minor = 1'000'000;
  for (std::int64_t i = 0; i < decimals; ++i) micros_per_minor /= 10;
  if (!micros || *micros % micros_per_minor != 0) {
    throw sdk::StepError("meta_ads.set_budget: with.daily_budget `" + json::serialize(budget) +
                         "` has more decimals than the currency (" + std::to_string(decimals) + ")");
  }
  const std::int64_t minor = *micros / micros_per_minor;
  if (call.plan_mode()) {
    read_campaign(call, connection, key, campaign_id,
                  [campaign_id, budget, micros_per_minor](sdk::Call& c, const json::object& campaign) {
                    json::value from;
                    if (const auto* b = campaign.if_contains("daily_budget"); b && b->is_string()) {
                      if (auto m = mk::parse_int64(b->get_string())) from = mk::micros_to_number(*m * micros_per_minor);
                    }
                    json::object plan{{"campaign_id", campaign_id}, {"daily_budget_from", from},
                                      {"daily_budget_to", budget}, {"change", from != budget}};
                    c.complete(json::object{{"plan", json::array{plan}}});
                  });
    return;
  }
  post_fields(call, connection, key, campaign_id, "daily_budget=" + std::to_string(minor),
              json::object{{"campaign_id", campaign_id}, {"daily_budget", budget}});
}

constexpr std::uint32_t kChanges = FP_STEP_SIDE_EFFECTS | FP_STEP_SUPPORTS_PLAN | FP_STEP_IDEMPOTENT;

}  // namespace

FLOWPILOT_PLUGIN("meta_ads", "1.0.0",
                 sdk::Step("insights", "Reads daily spend, reach and conversions from Meta Ads as normalized rows.")
                     .input_schema(kInsightsInput)
                     .output_schema(kRowsOutput)
                     .start(insights),
                 sdk::Step("campaigns", "Lists the campaigns of a Meta ad account with status and daily budget.")
                     .input_schema(kCampaignsInput)
                     .start(campaigns),
                 sdk::Step("pause_campaign", "Pauses a Meta campaign.")
                     .input_schema(kStatusInput)
                     .flags(kChanges)
                     .start([](sdk::Call& call) { set_status(call, "PAUSED"); }),
                 sdk::Step("resume_campaign", "Resumes a paused Meta campaign.")
                     .input_schema(kStatusInput)
                     .flags(kChanges)
                     .start([](sdk::Call& call) { set_status(call, "ACTIVE"); }),
                 sdk::Step("set_budget", "Sets the daily budget of a Meta campaign.")
                     .input_schema(kBudgetInput)
                     .flags(kChanges)
                     .start(set_budget))
