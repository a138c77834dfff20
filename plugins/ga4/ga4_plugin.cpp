// The ga4 plugin: ga4.report runs a GA4 Data API report (runReport) and pages through it with
// limit/offset. The connection gives the OAuth2 fields (the host refreshes and caches the token),
// `property_id`, and optionally `base_url`.
#include "api_exchange.h"
#include "ga4_api.h"

#include <flowpilot/plugin.hpp>

#include <memory>
#include <string>
#include <vector>

namespace {

namespace json = boost::json;
namespace sdk = flowpilot::sdk;
namespace mk = flowpilot::marketing;

constexpr const char* kInput = R"({
  "type": "object", "required": ["start_date", "end_date", "metrics"], "additionalProperties": false,
  "properties": {
    "property_id": {"type": "string", "pattern": "^[0-9]+$",
                    "description": "Defaults to the connection's property_id."},
    "start_date": {"type": "string", "pattern": "^([0-9]{4}-[0-9]{2}-[0-9]{2}|today|yesterday|[0-9]+daysAgo)$"},
    "end_date": {"type": "string", "pattern": "^([0-9]{4}-[0-9]{2}-[0-9]{2}|today|yesterday|[0-9]+daysAgo)$"},
    "dimensions": {"type": "array", "items": {"type": "string"}, "default": ["date"]},
    "metrics": {"type": "array", "items": {"type": "string"}, "minItems": 1},
    "page_size": {"type": "integer", "minimum": 1, "maximum": 250000, "default": 10000},
    "max_rows": {"type": "integer", "minimum": 1, "default": 1000000},
    "include_raw": {"type": "boolean", "default": false,
                    "description": "Also output the API's rows as received, under `raw`."}
  }})";

struct Report {
  json::array dimensions;
  json::array metrics;
  std::string start_date;
  std::string end_date;
  std::int64_t page_size = 10000;
  std::int64_t max_rows = 1000000;
  bool include_raw = false;
  json::array rows;
  json::array raw;  // the API's rows, when include_raw
  json::value currency;
  json::value time_zone;
};

json::object ga4_body(const Report& r, std::int64_t offset) {
  return flowpilot::ga4::report_body(r.start_date, r.end_date, r.dimensions, r.metrics, r.page_size, offset);
}

void report(sdk::Call& call) {
  auto credentials = call.credentials();
  if (!credentials) throw sdk::StepError("ga4.report: the step needs a `connection` of type ga4");
  std::string property = call.input_or<std::string>("property_id", "");
  if (property.empty()) {
    if (const auto* p = credentials->if_contains("property_id"); p && p->is_string()) property = p->get_string();
  }
  if (property.empty()) throw sdk::StepError("ga4.report: give with.property_id or set property_id on the connection");
  std::string base = "https://analyticsdata.googleapis.com";
  if (const auto* b = credentials->if_contains("base_url"); b && b->is_string() && !b->get_string().empty()) base = b->get_string();
  while (!base.empty() && base.back() == '/') base.pop_back();

  auto state = std::make_shared<Report>();
  state->dimensions = json::array{"date"};
  if (const auto* d = call.input().if_contains("dimensions"); d && d->is_array()) state->dimensions = d->get_array();
  state->metrics = call.input().at("metrics").as_array();
  state->start_date = call.get_string("start_date");
  state->end_date = call.get_string("end_date");
  state->page_size = call.input_or<std::int64_t>("page_size", 10000);
  state->max_rows = call.input_or<std::int64_t>("max_rows", 1000000);
  state->include_raw = call.input_or<bool>("include_raw", false);

  auto ex = std::make_shared<mk::Exchange>();
  ex->rate_key = "ga4:" + property;
  ex->request.method = "POST";
  ex->request.url = base + "/v1beta/properties/" + property + ":runReport";
  ex->request.headers = {{"Content-Type", "application/json"}};
  ex->request.body = json::serialize(ga4_body(*state, 0));
  ex->classify = flowpilot::ga4::classify;
  ex->authorize = [](sdk::HttpRequest& r, const std::string& token) {
    r.headers.emplace_back("Authorization", "Bearer " + token);
  };
  ex->on_ok = [state](sdk::Call& c, mk::Exchange& self, const sdk::HttpResponse& response) {
    json::value answer = json::parse(response.body);
    const auto& o = answer.as_object();
    json::array page = flowpilot::ga4::typed_rows(o, state->rows.size());
    const std::size_t got = page.size();
    // The API's rows that typed_rows() read (it skips any that are not objects), in its order.
    std::vector<const json::value*> raw_rows;
    if (const auto* r = o.if_contains("rows"); state->include_raw && r != nullptr && r->is_array()) {
      for (const auto& item : r->get_array()) {
        if (item.is_object()) raw_rows.push_back(&item);
      }
    }
    for (std::size_t i = 0; i < page.size(); ++i) {
      if (static_cast<std::int64_t>(state->rows.size()) >= state->max_rows) break;
      state->rows.push_back(std::move(page[i]));
      if (i < raw_rows.size()) state->raw.push_back(*raw_rows[i]);
    }
    if (const auto* meta = o.if_contains("metadata"); meta && meta->is_object()) {
      if (const auto* cur = meta->get_object().if_contains("currencyCode")) state->currency = *cur;
      if (const auto* tz = meta->get_object().if_contains("timeZone")) state->time_zone = *tz;
    }
    std::int64_t row_count = 0;
    if (const auto* rc = o.if_contains("rowCount"); rc && rc->is_int64()) row_count = rc->get_int64();
    const auto have = static_cast<std::int64_t>(state->rows.size());
    if (got == 0 || have >= row_count || have >= state->max_rows) {
      json::object out{{"count", state->rows.size()}, {"row_count", row_count},
                       {"currency", state->currency}, {"time_zone", state->time_zone}};
      out["rows"] = std::move(state->rows);
      if (state->include_raw) out["raw"] = std::move(state->raw);
      c.complete(out);
      return;
    }
    self.request.body = json::serialize(ga4_body(*state, have));
    mk::send_again(c, self);
  };
  mk::start(call, ex);
}

}  // namespace

FLOWPILOT_PLUGIN("ga4", "1.0.0",
                 sdk::Step("report", "Runs a Google Analytics 4 report (sessions, conversions, revenue by any dimension).")
                     .input_schema(kInput)
                     .start(report))
