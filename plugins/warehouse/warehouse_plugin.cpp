// The warehouse plugin: loads normalized daily facts, CRM deals and campaign states into Flowpilot's marketing
// warehouse and reads them back, through the host's `warehouse` service (the plugin holds no
// database of its own). Loads are upserts on the natural key: re-running a sync changes nothing,
// and restated recent days overwrite what was stored.
#include <flowpilot/plugin.hpp>

#include <string>

namespace {

namespace json = boost::json;
namespace sdk = flowpilot::sdk;

constexpr const char* kUpsertFactsInput = R"({
  "type": "object", "required": ["rows"], "additionalProperties": false,
  "properties": {
    "rows": {"type": "array", "items": {"type": "object",
             "required": ["platform", "account_id", "campaign_id", "date", "spend"]},
             "description": "Normalized daily rows (from a connector, csv.read or transform)."},
    "batch_id": {"type": "string", "description": "Recorded with each row; defaults to the step's idempotency key."}
  }})";

constexpr const char* kUpsertDealsInput = R"({
  "type": "object", "required": ["deals"], "additionalProperties": false,
  "properties": {
    "deals": {"type": "array", "items": {"type": "object", "required": ["id"]},
              "description": "Deal rows as hubspot.deals returns them."},
    "source": {"type": "string", "default": "hubspot"},
    "batch_id": {"type": "string"}
  }})";

constexpr const char* kUpsertCampaignsInput = R"({
  "type": "object", "required": ["campaigns", "platform"], "additionalProperties": false,
  "properties": {
    "campaigns": {"type": "array", "items": {"type": "object", "required": ["status"]},
                  "description": "Campaigns as meta_ads.campaigns or google_ads.campaigns list them, or the outputs of a pause."},
    "platform": {"enum": ["meta", "google_ads"], "description": "Platform of the campaigns."},
    "account_id": {"type": "string", "description": "Ad account or customer id for campaigns that do not name one."},
    "batch_id": {"type": "string"}
  }})";

constexpr const char* kCampaignsInput = R"({
  "type": "object", "additionalProperties": false,
  "properties": {
    "platforms": {"type": "array", "items": {"type": "string"}},
    "account_ids": {"type": "array", "items": {"type": "string"}},
    "campaign_ids": {"type": "array", "items": {"type": "string"}}
  }})";

constexpr const char* kCountsOutput = R"({
  "type": "object", "required": ["inserted", "updated", "unchanged"],
  "properties": {"inserted": {"type": "integer"}, "updated": {"type": "integer"},
                 "unchanged": {"type": "integer"}, "batch_id": {"type": "string"}}})";

constexpr const char* kFactsInput = R"({
  "type": "object", "additionalProperties": false,
  "properties": {
    "since": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
    "until": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
    "platforms": {"type": "array", "items": {"type": "string"}},
    "account_ids": {"type": "array", "items": {"type": "string"}},
    "campaign_ids": {"type": "array", "items": {"type": "string"}},
    "group_by": {"type": "array", "items": {"enum": ["platform", "account_id", "campaign_id", "date", "currency"]}},
    "grouped": {"type": "boolean", "default": false,
                "description": "Sum every matching fact (per currency) when group_by is empty."}
  }})";

constexpr const char* kDealsInput = R"({
  "type": "object", "additionalProperties": false,
  "properties": {
    "closed_since": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
    "closed_until": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
    "stages": {"type": "array", "items": {"type": "string"}},
    "channels": {"type": "array", "items": {"type": "string"}}
  }})";

// Sends `request` and completes the call with the answer (plus `extra` fields).
void ask(sdk::Call& call, json::object request, json::object extra = {}) {
  call.warehouse(request, [extra = std::move(extra)](sdk::Call& c, const sdk::HostResult& answer) {
    if (!answer) throw sdk::StepError(c.step_name() + ": " + answer.error);
    json::value out = *answer.value;
    if (auto* o = out.if_object()) {
      for (const auto& [k, v] : extra) (*o)[k] = v;
    }
    c.complete(out);
  });
}

std::string batch_of(const sdk::Call& call) {
  return call.input_or<std::string>("batch_id", call.idempotency_key());
}

void upsert(sdk::Call& call, const char* op, const char* list) {
  const json::array& rows = call.input().at(list).as_array();
  const std::string batch = batch_of(call);
  if (call.plan_mode()) {
    call.complete(json::object{{"plan", json::array{json::object{{"load", list}, {"rows", rows.size()}}}}});
    return;
  }
  json::object request{{"op", op}, {list, rows}, {"batch_id", batch}};
  if (std::string_view(op) == "upsert_campaigns") {
    for (const char* key : {"platform", "account_id"}) {
      if (const auto* v = call.input().if_contains(key)) request[key] = *v;
    }
  }
  if (std::string_view(op) == "upsert_deals") {
    const std::string source = call.input_or<std::string>("source", "hubspot");
    json::array& deals = request[list].as_array();
    for (auto& d : deals) {
      if (auto* o = d.if_object(); o != nullptr && !o->contains("source")) (*o)["source"] = source;
    }
  }
  ask(call, std::move(request), json::object{{"batch_id", batch}});
}

void query(sdk::Call& call, const char* op) {
  json::object request = call.input();
  request["op"] = op;
  ask(call, std::move(request));
}

constexpr std::uint32_t kLoads = FP_STEP_SIDE_EFFECTS | FP_STEP_SUPPORTS_PLAN | FP_STEP_IDEMPOTENT;

}  // namespace

FLOWPILOT_PLUGIN("warehouse", "1.0.0",
                 sdk::Step("upsert_facts", "Loads normalized daily marketing rows into the warehouse (upsert per platform, account, campaign and day).")
                     .input_schema(kUpsertFactsInput)
                     .output_schema(kCountsOutput)
                     .flags(kLoads)
                     .start([](sdk::Call& call) { upsert(call, "upsert_facts", "rows"); }),
                 sdk::Step("upsert_deals", "Loads CRM deals into the warehouse (upsert per source and deal id).")
                     .input_schema(kUpsertDealsInput)
                     .output_schema(kCountsOutput)
                     .flags(kLoads)
                     .start([](sdk::Call& call) { upsert(call, "upsert_deals", "deals"); }),
                 sdk::Step("upsert_campaigns", "Records the status of campaigns (active, paused, ...) in the warehouse, where the dashboard shows it.")
                     .input_schema(kUpsertCampaignsInput)
                     .output_schema(kCountsOutput)
                     .flags(kLoads)
                     .start([](sdk::Call& call) { upsert(call, "upsert_campaigns", "campaigns"); }),
                 sdk::Step("facts", "Reads daily facts from the warehouse, optionally summed by platform, account, campaign or date.")
                     .input_schema(kFactsInput)
                     .start([](sdk::Call& call) { query(call, "facts"); }),
                 sdk::Step("deals", "Reads CRM deals from the warehouse by close date, stage and channel.")
                     .input_schema(kDealsInput)
                     .start([](sdk::Call& call) { query(call, "deals"); }),
                 sdk::Step("campaigns", "Reads the campaigns' last recorded status from the warehouse.")
                     .input_schema(kCampaignsInput)
                     .start([](sdk::Call& call) { query(call, "campaigns"); }))
