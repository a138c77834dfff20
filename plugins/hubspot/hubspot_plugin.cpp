// The hubspot plugin: CRM deals and contacts through the v3 list and search endpoints with cursor
// paging. The connection gives a private-app `access_token`, or the OAuth2 fields (the host
// refreshes and caches the token), and optionally `base_url`.
#include "api_exchange.h"
#include "hubspot_api.h"

#include <flowpilot/plugin.hpp>

#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <memory>
#include <string>

namespace {

namespace json = boost::json;
namespace sdk = flowpilot::sdk;
namespace mk = flowpilot::marketing;
namespace hs = flowpilot::hubspot;

constexpr std::size_t kSearchCap = 10'000;  // HubSpot refuses to page a search beyond this

constexpr const char* kInput = R"({
  "type": "object", "additionalProperties": false,
  "properties": {
    "properties": {"type": "array", "items": {"type": "string"}},
    "filters": {"type": "array", "items": {"type": "object"}},
    "since": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
    "until": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
    "date_property": {"type": "string"},
    "max_results": {"type": "integer", "minimum": 1, "default": 100000},
    "include_raw": {"type": "boolean", "default": false,
                    "description": "Also output HubSpot's records as received, under `raw`."}
  }})";

// Contacts are personal data: the fields marked "x-pii" are masked for callers without pii:read
// and erased by `flowpilot pii erase` (engine/access/pii.h).
constexpr const char* kContactsOutput = R"({
  "type": "object", "required": ["count", "contacts"],
  "properties": {
    "count": {"type": "integer"},
    "contacts": {"type": "array", "items": {"type": "object", "properties": {
      "email": {"x-pii": true}, "firstname": {"x-pii": true}, "lastname": {"x-pii": true},
      "phone": {"x-pii": true},
      "properties": {"type": "object", "properties": {
        "email": {"x-pii": true}, "firstname": {"x-pii": true}, "lastname": {"x-pii": true},
        "phone": {"x-pii": true}, "mobilephone": {"x-pii": true}}}}}},
    "raw": {"type": "array", "items": {"type": "object", "properties": {
      "properties": {"type": "object", "properties": {
        "email": {"x-pii": true}, "firstname": {"x-pii": true}, "lastname": {"x-pii": true},
        "phone": {"x-pii": true}, "mobilephone": {"x-pii": true}}}}}}
  }})";

struct Listing {
  bool search = false;
  std::string type;  // deals | contacts
  std::string first_url;
  json::array filters;
  json::array properties;
  std::string date_property;
  std::string since;
  std::string until;
  std::size_t max_results = 100000;
  bool include_raw = false;
  json::array items;
};

std::string property_list(const json::array& properties) {
  std::string joined;
  for (const auto& p : properties) {
    if (!joined.empty()) joined += ',';
    joined += p.as_string();
  }
  return joined;
}

void finish(sdk::Call& c, const Listing& listing, json::array items) {
  json::object out{{"count", items.size()}};
  if (listing.include_raw) out["raw"] = items;
  if (listing.type == "deals") {
    json::array rows;
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (items[i].is_object()) rows.push_back(hs::deal_row(items[i].get_object(), "results[" + std::to_string(i) + "]"));
    }
    out["deals"] = std::move(rows);
  } else {
    json::array rows;
    for (const auto& item : items) {
      const auto* o = item.if_object();
      if (o == nullptr) continue;
      json::object props;
      if (const auto* p = o->if_contains("properties"); p && p->is_object()) props = p->get_object();
      json::object row{{"id", o->contains("id") ? o->at("id") : json::value()}};
      for (const char* key : {"email", "firstname", "lastname", "phone", "lifecyclestage", "hs_analytics_source", "createdate"}) {
        const json::value* v = props.if_contains(key);
        row[key] = v != nullptr ? *v : json::value();
      }
      row["properties"] = std::move(props);
      rows.push_back(std::move(row));
    }
    out["contacts"] = std::move(rows);
  }
  c.complete(out);
}

void list_objects(sdk::Call& call, const std::string& type, json::array default_properties,
                  const std::string& default_date_property) {
  auto credentials = call.credentials();
  if (!credentials) throw sdk::StepError(call.step_name() + ": the step needs a `connection` of type hubspot");
  auto listing = std::make_shared<Listing>();
  listing->type = type;
  listing->properties = default_properties;
  const json::object& input = call.input();
  if (const auto* p = input.if_contains("properties"); p && p->is_array()) listing->properties = p->get_array();
  if (const auto* f = input.if_contains("filters"); f && f->is_array()) listing->filters = f->get_array();
  listing->since = call.input_or<std::string>("since", "");
  listing->until = call.input_or<std::string>("until", "");
  listing->date_property = call.input_or<std::string>("date_property", default_date_property);
  listing->max_results = static_cast<std::size_t>(call.input_or<std::int64_t>("max_results", 100000));
  listing->include_raw = call.input_or<bool>("include_raw", false);
  listing->search = !listing->filters.empty() || !listing->since.empty() || !listing->until.empty();

  auto ex = std::make_shared<mk::Exchange>();
  ex->rate_key = "hubspot:" + hs::base_url(*credentials);
  ex->classify = hs::classify;
  ex->authorize = [](sdk::HttpRequest& r, const std::string& token) {
    r.headers.emplace_back("Authorization", "Bearer " + token);
  };
  const std::string base = hs::base_url(*credentials) + "/crm/v3/objects/" + type;
  if (listing->search) {
    ex->request.method = "POST";
    ex->request.url = base + "/search";
    ex->request.headers = {{"Content-Type", "application/json"}};
    ex->request.body = json::serialize(hs::search_body(listing->filters, listing->date_property, listing->since,
                                                       listing->until, listing->properties, 200, ""));
  } else {
    listing->first_url = base + "?limit=100&archived=false&properties=" +
                         boost::urls::encode(property_list(listing->properties), boost::urls::unreserved_chars);
    ex->request.url = listing->first_url;
  }
  ex->on_ok = [listing](sdk::Call& c, mk::Exchange& self, const sdk::HttpResponse& response) {
    json::value page = json::parse(response.body);
    const auto* o = page.if_object();
    if (o == nullptr) throw sdk::StepError("HubSpot API: the answer is not a JSON object", true);
    if (listing->search) {
      if (const auto* total = o->if_contains("total"); total && total->is_int64() &&
                                                       static_cast<std::size_t>(total->get_int64()) > kSearchCap &&
                                                       listing->max_results > kSearchCap) {
        throw sdk::StepError("hubspot: the search matches " + std::to_string(total->get_int64()) +
                             " records and HubSpot pages through at most 10,000: narrow since/until "
                             "or add filters, or set max_results to 10000 or less");
      }
    }
    if (const auto* results = o->if_contains("results"); results && results->is_array()) {
      for (const auto& r : results->get_array()) {
        if (listing->items.size() >= listing->max_results) break;
        listing->items.push_back(r);
      }
    }
    std::string after;
    if (const auto* paging = o->if_contains("paging"); paging && paging->is_object()) {
      if (const auto* next = paging->get_object().if_contains("next"); next && next->is_object()) {
        if (const auto* a = next->get_object().if_contains("after"); a && a->is_string()) after = a->get_string();
      }
    }
    if (after.empty() || listing->items.size() >= listing->max_results) {
      finish(c, *listing, std::move(listing->items));
      return;
    }
    if (listing->search) {
      self.request.body = json::serialize(hs::search_body(listing->filters, listing->date_property, listing->since,
                                                         listing->until, listing->properties, 200, after));
    } else {
      self.request.url = listing->first_url + "&after=" + boost::urls::encode(after, boost::urls::unreserved_chars);
    }
    mk::send_again(c, self);
  };
  mk::start(call, ex);
}

}  // namespace

FLOWPILOT_PLUGIN("hubspot", "1.0.0",
                 sdk::Step("deals", "Reads HubSpot deals (amount, stage, close date, source channel), optionally filtered.")
                     .input_schema(kInput)
                     .start([](sdk::Call& call) {
                       list_objects(call, "deals",
                                    json::array{"dealname", "amount", "dealstage", "pipeline", "closedate",
                                                "createdate", "hs_analytics_source", "deal_currency_code"},
                                    "closedate");
                     }),
                 sdk::Step("contacts", "Reads HubSpot contacts (personal data: email, name, phone), optionally filtered.")
                     .input_schema(kInput)
                     .output_schema(kContactsOutput)
                     .start([](sdk::Call& call) {
                       list_objects(call, "contacts",
                                    json::array{"email", "firstname", "lastname", "phone", "lifecyclestage",
                                                "hs_analytics_source", "createdate"},
                                    "createdate");
                     }))
