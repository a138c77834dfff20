// The google_ads plugin: the daily campaign report through googleAds:searchStream (GAQL), the
// campaign list, and pause/resume through campaigns:mutate with an update mask. The connection
// gives the OAuth2 fields (token_url, client_id, client_secret, refresh_token: the host refreshes
// and caches the access token), `developer_token`, and optionally `login_customer_id`, `base_url`,
// `api_version` and `currency`.
#include "api_exchange.h"
#include "google_ads_api.h"

#include <flowpilot/plugin.hpp>

#include <memory>
#include <string>

namespace {

namespace json = boost::json;
namespace sdk = flowpilot::sdk;
namespace mk = flowpilot::marketing;
namespace gads = flowpilot::google_ads;

constexpr const char* kReportInput = R"({
  "type": "object", "required": ["customer_id"], "additionalProperties": false,
  "properties": {
    "customer_id": {"type": "string", "description": "The account: digits, dashes allowed."},
    "since": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
    "until": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
    "during": {"enum": ["TODAY", "YESTERDAY", "LAST_7_DAYS", "LAST_14_DAYS", "LAST_30_DAYS",
                        "LAST_BUSINESS_WEEK", "THIS_MONTH", "LAST_MONTH", "THIS_WEEK_SUN_TODAY",
                        "THIS_WEEK_MON_TODAY", "LAST_WEEK_SUN_SAT", "LAST_WEEK_MON_SUN"]},
    "query": {"type": "string", "minLength": 1,
              "description": "Your own GAQL: the answer comes back as `results`, not as rows."},
    "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
    "include_raw": {"type": "boolean", "default": false}
  }})";

constexpr const char* kReportOutput = R"({
  "type": "object", "required": ["count"],
  "properties": {"rows": {"type": "array", "items": {"type": "object"}},
                 "results": {"type": "array"}, "count": {"type": "integer"},
                 "raw": {"type": "array"}}})";

constexpr const char* kCampaignsInput = R"({
  "type": "object", "required": ["customer_id"], "additionalProperties": false,
  "properties": {"customer_id": {"type": "string"}}})";

constexpr const char* kStatusInput = R"({
  "type": "object", "required": ["customer_id", "campaign_id"], "additionalProperties": false,
  "properties": {"customer_id": {"type": "string"},
                 "campaign_id": {"type": "string", "pattern": "^[0-9]+$"}}})";

struct Context {
  gads::Connection connection;
  std::string customer;
};

Context context_of(const sdk::Call& call) {
  auto credentials = call.credentials();
  if (!credentials) {
    throw sdk::StepError(call.step_name() + ": the step needs a `connection` of type google_ads");
  }
  return {gads::connection_from(*credentials), gads::customer_digits(call.get_string("customer_id"))};
}

void bearer(sdk::HttpRequest& request, const std::string& token) {
  request.headers.emplace_back("Authorization", "Bearer " + token);
}

// Runs one GAQL query through searchStream and hands the results of every batch to `done`.
template <class Done>
void search_stream(sdk::Call& call, const Context& ctx, const std::string& query, Done done) {
  auto ex = std::make_shared<mk::Exchange>();
  ex->rate_key = "google_ads:" + ctx.customer;
  ex->request.method = "POST";
  ex->request.url = gads::customer_url(ctx.connection, ctx.customer, "googleAds:searchStream");
  ex->request.headers = gads::api_headers(ctx.connection);
  ex->request.body = json::serialize(json::object{{"query", query}});
  ex->request.secrets = {ctx.connection.developer_token};
  ex->classify = gads::classify;
  ex->authorize = bearer;
  ex->on_ok = [done](sdk::Call& c, mk::Exchange&, const sdk::HttpResponse& response) {
    json::value batches = json::parse(response.body);
    json::array results;
    if (!batches.is_array()) throw sdk::StepError("Google Ads API: searchStream did not answer a list of batches", true);
    for (const auto& batch : batches.get_array()) {
      const auto* b = batch.if_object();
      if (b == nullptr) continue;
      if (const auto* r = b->if_contains("results"); r && r->is_array()) {
        for (const auto& item : r->get_array()) results.push_back(item);
      }
    }
    done(c, std::move(results));
  };
  mk::start(call, ex);
}

void report(sdk::Call& call) {
  const Context ctx = context_of(call);
  const std::string custom = call.input_or<std::string>("query", "");
  const bool include_raw = call.input_or<bool>("include_raw", false);
  if (!custom.empty()) {
    search_stream(call, ctx, custom, [](sdk::Call& c, json::array results) {
      json::object out{{"count", results.size()}};
      out["results"] = std::move(results);
      c.complete(out);
    });
    return;
  }
  const std::string during = call.input_or<std::string>("during", "");
  const std::string since = call.input_or<std::string>("since", "");
  const std::string until = call.input_or<std::string>("until", "");
  if (during.empty() && (since.empty() || until.empty())) {
    throw sdk::StepError("google_ads.report: give with.since and with.until, or with.during");
  }
  const std::string currency = call.input_or<std::string>("currency", ctx.connection.currency);
  search_stream(call, ctx, gads::report_query(since, until, during),
                [customer = ctx.customer, currency, include_raw](sdk::Call& c, json::array results) {
                  json::array rows;
                  rows.reserve(results.size());
                  for (std::size_t i = 0; i < results.size(); ++i) {
                    if (!results[i].is_object()) continue;
                    rows.push_back(gads::normalize_result(results[i].get_object(), customer, currency,
                                                          "results[" + std::to_string(i) + "]"));
                  }
                  json::object out{{"count", rows.size()}};
                  out["rows"] = std::move(rows);
                  if (include_raw) out["raw"] = std::move(results);
                  c.complete(out);
                });
}

void campaigns(sdk::Call& call) {
  const Context ctx = context_of(call);
  search_stream(call, ctx, "SELECT campaign.id, campaign.name, campaign.status FROM campaign",
                [customer = ctx.customer](sdk::Call& c, json::array results) {
                  json::array list;
                  for (const auto& r : results) {
                    const auto* o = r.if_object();
                    const json::value* campaign = o != nullptr ? o->if_contains("campaign") : nullptr;
                    if (campaign == nullptr || !campaign->is_object()) continue;
                    json::object item = campaign->get_object();
                    item.erase("resourceName");
                    item["customer_id"] = customer;
                    list.push_back(std::move(item));
                  }
                  c.complete(json::object{{"count", list.size()}, {"campaigns", std::move(list)}});
                });
}

void set_status(sdk::Call& call, const std::string& target) {
  const Context ctx = context_of(call);
  const std::string campaign_id = call.get_string("campaign_id");
  const std::string resource = "customers/" + ctx.customer + "/campaigns/" + campaign_id;
  if (call.plan_mode()) {
    search_stream(call, ctx,
                  "SELECT campaign.id, campaign.name, campaign.status FROM campaign WHERE campaign.id = " +
                      campaign_id,
                  [campaign_id, target](sdk::Call& c, json::array results) {
                    json::object plan{{"campaign_id", campaign_id}, {"to", target}};
                    std::string from;
                    if (!results.empty() && results[0].is_object()) {
                      if (const auto* camp = results[0].get_object().if_contains("campaign"); camp && camp->is_object()) {
                        if (const auto* s = camp->get_object().if_contains("status"); s && s->is_string()) from = s->get_string();
                        if (const auto* n = camp->get_object().if_contains("name")) plan["name"] = *n;
                      }
                    }
                    if (from.empty()) throw sdk::StepError("google_ads: campaign " + campaign_id + " was not found");
                    plan["from"] = from;
                    plan["change"] = from != target;
                    c.complete(json::object{{"plan", json::array{plan}}});
                  });
    return;
  }
  auto ex = std::make_shared<mk::Exchange>();
  ex->rate_key = "google_ads:" + ctx.customer;
  ex->request.method = "POST";
  ex->request.url = gads::customer_url(ctx.connection, ctx.customer, "campaigns:mutate");
  ex->request.headers = gads::api_headers(ctx.connection);
  ex->request.secrets = {ctx.connection.developer_token};
  ex->request.body = json::serialize(json::object{
      {"operations", json::array{json::object{
                         {"update", json::object{{"resourceName", resource}, {"status", target}}},
                         {"updateMask", "status"}}}}});
  ex->classify = gads::classify;
  ex->authorize = bearer;
  ex->on_ok = [campaign_id, target, resource, customer = ctx.customer](sdk::Call& c, mk::Exchange&, const sdk::HttpResponse& response) {
    json::value answer = json::parse(response.body);
    const auto* results = answer.is_object() ? answer.get_object().if_contains("results") : nullptr;
    if (results == nullptr || !results->is_array() || results->get_array().empty()) {
      throw sdk::StepError("Google Ads API did not confirm the change: " + mk::excerpt(response.body));
    }
    c.complete(json::object{{"campaign_id", campaign_id}, {"status", target}, {"customer_id", customer},
                            {"resource_name", resource}});
  };
  mk::start(call, ex);
}

constexpr std::uint32_t kChanges = FP_STEP_SIDE_EFFECTS | FP_STEP_SUPPORTS_PLAN | FP_STEP_IDEMPOTENT;

}  // namespace

FLOWPILOT_PLUGIN("google_ads", "1.0.0",
                 sdk::Step("report", "Reads daily campaign cost, clicks and conversions from Google Ads as normalized rows.")
                     .input_schema(kReportInput)
                     .output_schema(kReportOutput)
                     .start(report),
                 sdk::Step("campaigns", "Lists the campaigns of a Google Ads account with their status.")
                     .input_schema(kCampaignsInput)
                     .start(campaigns),
                 sdk::Step("pause_campaign", "Pauses a Google Ads campaign.")
                     .input_schema(kStatusInput)
                     .flags(kChanges)
                     .start([](sdk::Call& call) { set_status(call, "PAUSED"); }),
                 sdk::Step("resume_campaign", "Enables a paused Google Ads campaign.")
                     .input_schema(kStatusInput)
                     .flags(kChanges)
                     .start([](sdk::Call& call) { set_status(call, "ENABLED"); }))
