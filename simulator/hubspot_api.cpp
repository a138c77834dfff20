// HubSpot CRM v3 under /hubspot: deals and contacts (list, read, search) and the OAuth token
// endpoint.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <set>

#include "simulator/detail/state.h"

namespace flowpilot::simulator::detail {

namespace {

namespace json = boost::json;

constexpr std::int64_t kDailyLimit = 250'000;
constexpr std::size_t kSearchCap = 10'000;

std::string iso_ms(std::int64_t ms) {
  const std::chrono::sys_time<std::chrono::milliseconds> t{std::chrono::milliseconds(ms)};
  const auto day = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::hh_mm_ss hms{t - day};
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%sT%02d:%02d:%02d.%03dZ", format_date(day).c_str(),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()),
                static_cast<int>(hms.subseconds().count()));
  return buffer;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// One CRM object as HubSpot sees it: string properties (absent = null).
struct CrmObject {
  std::string id;
  std::map<std::string, std::string, std::less<>> properties;
  std::int64_t created_ms = 0, updated_ms = 0;
};

CrmObject from_deal(const Deal& d) {
  CrmObject o{d.id, {}, d.createdate_ms, d.lastmodified_ms};
  o.properties = {{"dealname", d.dealname},
                  {"amount", decimal_string(d.amount_cents, 2)},
                  {"dealstage", d.dealstage},
                  {"pipeline", d.pipeline},
                  {"closedate", iso_ms(d.closedate_ms)},
                  {"createdate", iso_ms(d.createdate_ms)},
                  {"hs_lastmodifieddate", iso_ms(d.lastmodified_ms)},
                  {"hs_analytics_source", d.source},
                  {"deal_currency_code", "EUR"},
                  {"hs_object_id", d.id}};
  return o;
}

CrmObject from_contact(const Contact& c) {
  CrmObject o{c.id, {}, c.createdate_ms, c.lastmodified_ms};
  o.properties = {{"email", c.email},
                  {"firstname", c.firstname},
                  {"lastname", c.lastname},
                  {"phone", c.phone},
                  {"lifecyclestage", c.lifecyclestage},
                  {"hs_analytics_source", c.source},
                  {"createdate", iso_ms(c.createdate_ms)},
                  {"lastmodifieddate", iso_ms(c.lastmodified_ms)},
                  {"hs_object_id", c.id}};
  return o;
}

std::vector<CrmObject> objects_of(const Dataset& data, std::string_view type) {
  std::vector<CrmObject> out;
  if (type == "deals") {
    for (const auto& d : data.deals()) out.push_back(from_deal(d));
  } else {
    for (const auto& c : data.contacts()) out.push_back(from_contact(c));
  }
  return out;
}

std::vector<std::string> default_properties(std::string_view type, bool search) {
  if (type == "deals") {
    if (search) return {"createdate", "hs_lastmodifieddate", "hs_object_id"};
    return {"amount",    "closedate",           "createdate",   "dealname",
            "dealstage", "hs_lastmodifieddate", "hs_object_id", "pipeline"};
  }
  return {"createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"};
}

json::object to_json(const CrmObject& o, const std::vector<std::string>& properties) {
  json::object props;
  for (const auto& p : properties) {
    auto it = o.properties.find(p);
    if (it == o.properties.end())
      props[p] = nullptr;
    else
      props[p] = it->second;
  }
  return json::object{{"id", o.id},
                      {"properties", std::move(props)},
                      {"createdAt", iso_ms(o.created_ms)},
                      {"updatedAt", iso_ms(o.updated_ms)},
                      {"archived", false}};
}

bool is_date_property(std::string_view name) {
  return name == "closedate" || name == "createdate" || name == "hs_lastmodifieddate" ||
         name == "lastmodifieddate";
}

// A date filter value: epoch milliseconds, YYYY-MM-DD, or an ISO date-time.
std::optional<double> date_value(std::string_view text) {
  if (auto n = parse_int(text)) return static_cast<double>(*n);
  if (text.size() >= 10) {
    if (auto day = parse_date(text.substr(0, 10))) {
      double ms = static_cast<double>(day->time_since_epoch().count()) * 86'400'000.0;
      int h = 0, m = 0, s = 0, frac = 0;
      if (text.size() >= 19 && std::sscanf(std::string(text.substr(11)).c_str(), "%d:%d:%d.%d", &h,
                                           &m, &s, &frac) >= 3) {
        ms += ((h * 60.0 + m) * 60.0 + s) * 1000.0 + (text.size() >= 23 ? frac : 0);
      }
      return ms;
    }
  }
  return std::nullopt;
}

std::optional<double> numeric_value(std::string_view property, std::string_view text) {
  if (is_date_property(property)) return date_value(text);
  try {
    std::size_t used = 0;
    const std::string s(text);
    const double v = std::stod(s, &used);
    if (used != s.size()) return std::nullopt;
    return v;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

bool numeric_property(std::string_view name) {
  return is_date_property(name) || name == "amount" || name == "hs_object_id";
}

struct Filter {
  std::string property, op, value, high;
  std::vector<std::string> values;
};

bool matches(const CrmObject& o, const Filter& f) {
  auto it = o.properties.find(f.property);
  const bool present = it != o.properties.end() && !it->second.empty();
  if (f.op == "HAS_PROPERTY") return present;
  if (f.op == "NOT_HAS_PROPERTY") return !present;
  if (!present) return f.op == "NEQ" || f.op == "NOT_IN" || f.op == "NOT_CONTAINS_TOKEN";
  const std::string& actual = it->second;
  if (f.op == "CONTAINS_TOKEN" || f.op == "NOT_CONTAINS_TOKEN") {
    std::string token = lower(f.value);
    token.erase(std::remove(token.begin(), token.end(), '*'), token.end());
    const bool has = lower(actual).find(token) != std::string::npos;
    return f.op == "CONTAINS_TOKEN" ? has : !has;
  }
  if (f.op == "IN" || f.op == "NOT_IN") {
    bool in = false;
    for (const auto& v : f.values) {
      if (numeric_property(f.property)) {
        auto a = numeric_value(f.property, actual), b = numeric_value(f.property, v);
        in |= a && b && *a == *b;
      } else {
        in |= lower(actual) == lower(v);
      }
    }
    return f.op == "IN" ? in : !in;
  }
  int cmp;
  if (numeric_property(f.property)) {
    auto a = numeric_value(f.property, actual);
    auto b = numeric_value(f.property, f.value);
    if (!a || !b) return false;
    cmp = *a < *b ? -1 : *a > *b ? 1 : 0;
    if (f.op == "BETWEEN") {
      auto hi = numeric_value(f.property, f.high);
      return hi && *a >= *b && *a <= *hi;
    }
  } else {
    const std::string a = lower(actual), b = lower(f.value);
    cmp = a.compare(b);
    if (f.op == "BETWEEN") return a >= b && a <= lower(f.high);
  }
  if (f.op == "EQ") return cmp == 0;
  if (f.op == "NEQ") return cmp != 0;
  if (f.op == "LT") return cmp < 0;
  if (f.op == "LTE") return cmp <= 0;
  if (f.op == "GT") return cmp > 0;
  if (f.op == "GTE") return cmp >= 0;
  return false;
}

web::Response validation_error(std::string_view message) {
  return hubspot_error(400, "VALIDATION_ERROR", message);
}

void add_rate_headers(Simulator::State& state, web::Response& response, const BudgetUse& use) {
  std::uint64_t total;
  {
    std::lock_guard lock(state.mutex);
    total = state.counts["hubspot"];
  }
  response.headers.set("X-HubSpot-RateLimit-Daily", std::to_string(kDailyLimit));
  response.headers.set(
      "X-HubSpot-RateLimit-Daily-Remaining",
      std::to_string(std::max<std::int64_t>(0, kDailyLimit - static_cast<std::int64_t>(total))));
  if (use.limit > 0) {
    response.headers.set("X-HubSpot-RateLimit-Max", std::to_string(use.limit));
    response.headers.set("X-HubSpot-RateLimit-Remaining",
                         std::to_string(std::max(0, use.limit - use.used)));
    response.headers.set("X-HubSpot-RateLimit-Interval-Milliseconds",
                         std::to_string(use.window.count()));
    const int secondly = std::max(1, use.limit / 10);
    response.headers.set("X-HubSpot-RateLimit-Secondly", std::to_string(secondly));
    // Only the rolling window is tracked; the per-second figure is derived from it.
    response.headers.set("X-HubSpot-RateLimit-Secondly-Remaining",
                         std::to_string(std::min(secondly, std::max(0, use.limit - use.used))));
  }
}

std::optional<web::Response> check_token(Simulator::State& state, const web::Request& request) {
  auto token = bearer_token(request);
  if (!token) {
    return hubspot_error(401, "INVALID_AUTHENTICATION",
                         "Authentication credentials not found. This API supports OAuth 2.0 "
                         "authentication and private app access tokens.");
  }
  if (*token == credentials::kHubspotPrivateAppToken) return std::nullopt;
  auto valid = state.token_valid(Vendor::kHubspot, *token);
  if (!valid) return hubspot_error(401, "INVALID_AUTHENTICATION", "The access token is not valid.");
  if (!*valid) {
    return hubspot_error(401, "EXPIRED_AUTHENTICATION",
                         "The OAuth token used to make this call expired.");
  }
  return std::nullopt;
}

std::optional<web::Response> check_type(const std::string& type) {
  if (type == "deals" || type == "contacts") return std::nullopt;
  return hubspot_error(
      400, "VALIDATION_ERROR",
      "Unable to infer object type from: " + type + " (the simulator serves deals and contacts)");
}

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    std::string item(text.substr(0, comma));
    if (!item.empty()) out.push_back(item);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
  }
  return out;
}

web::Response list_objects(Simulator::State& state, const web::Request& request) {
  if (auto refused = check_token(state, request)) return *refused;
  const std::string type = request.params.at("type");
  if (auto bad = check_type(type)) return *bad;
  const BudgetUse use = state.take(Vendor::kHubspot, "api");
  if (!use.allowed) return hubspot_rate_limited("TEN_SECONDLY_ROLLING", use);
  std::size_t limit = 10;
  if (auto text = request.query_value("limit")) {
    auto n = parse_int(*text);
    if (!n || *n < 1)
      return validation_error("limit must be a positive integer, got `" + *text + "`");
    limit = static_cast<std::size_t>(std::min<std::int64_t>(*n, 100));
  }
  std::vector<std::string> properties;
  for (const auto& pair : parse_form(request.query)) {
    if (pair.first == "properties") {
      for (auto& p : split_list(pair.second)) properties.push_back(std::move(p));
    }
  }
  if (properties.empty()) properties = default_properties(type, false);
  const bool archived = request.query_value("archived") == "true";
  const auto objects = archived ? std::vector<CrmObject>{} : objects_of(state.dataset, type);
  std::size_t start = 0;
  if (auto after = request.query_value("after")) {
    auto id = parse_int(*after);
    if (!id)
      return validation_error("after must be a cursor from paging.next.after, got `" + *after +
                              "`");
    while (start < objects.size() && *parse_int(objects[start].id) < *id) ++start;
  }
  json::array results;
  std::size_t i = start;
  for (; i < objects.size() && results.size() < limit; ++i)
    results.push_back(to_json(objects[i], properties));
  json::object body{{"results", results}};
  if (i < objects.size()) {
    const std::string after = objects[i].id;
    std::string query;
    for (const auto& [k, v] : parse_form(request.query)) {
      if (k != "after") query += url_encode(k) + "=" + url_encode(v) + "&";
    }
    const std::string host(request.headers.get("Host").value_or("127.0.0.1"));
    body["paging"] =
        json::object{{"next", json::object{{"after", after},
                                           {"link", "http://" + host + request.raw_path + "?" +
                                                        query + "after=" + after}}}};
  }
  auto response = json_answer(200, body);
  add_rate_headers(state, response, use);
  return response;
}

web::Response get_object(Simulator::State& state, const web::Request& request) {
  if (auto refused = check_token(state, request)) return *refused;
  const std::string type = request.params.at("type");
  if (auto bad = check_type(type)) return *bad;
  const BudgetUse use = state.take(Vendor::kHubspot, "api");
  if (!use.allowed) return hubspot_rate_limited("TEN_SECONDLY_ROLLING", use);
  std::vector<std::string> properties;
  if (auto p = request.query_value("properties")) properties = split_list(*p);
  if (properties.empty()) properties = default_properties(type, false);
  for (const auto& o : objects_of(state.dataset, type)) {
    if (o.id == request.params.at("id")) {
      auto response = json_answer(200, to_json(o, properties));
      add_rate_headers(state, response, use);
      return response;
    }
  }
  return hubspot_error(404, "OBJECT_NOT_FOUND",
                       "Object not found. objectId: " + request.params.at("id"));
}

web::Response search_objects(Simulator::State& state, const web::Request& request) {
  if (auto refused = check_token(state, request)) return *refused;
  const std::string type = request.params.at("type");
  if (auto bad = check_type(type)) return *bad;
  const BudgetUse use = state.take(Vendor::kHubspot, "search");
  if (!use.allowed) return hubspot_rate_limited("SECONDLY", use);
  boost::system::error_code ec;
  auto parsed = json::parse(request.body, ec);
  if (ec || !parsed.is_object())
    return validation_error("Invalid input JSON: the body must be a JSON object");
  const json::object& body = parsed.as_object();

  std::vector<std::vector<Filter>> groups;
  if (const json::value* fg = body.if_contains("filterGroups")) {
    if (!fg->is_array()) return validation_error("filterGroups must be an array");
    if (fg->as_array().size() > 5) return validation_error("filterGroups: at most 5 groups");
    std::size_t total_filters = 0;
    for (std::size_t g = 0; g < fg->as_array().size(); ++g) {
      const std::string gpath = "filterGroups[" + std::to_string(g) + "]";
      const json::object* group = fg->as_array()[g].if_object();
      const json::value* filters = group ? group->if_contains("filters") : nullptr;
      if (!filters || !filters->is_array())
        return validation_error(gpath + ".filters must be an array");
      std::vector<Filter> list;
      for (std::size_t k = 0; k < filters->as_array().size(); ++k) {
        const std::string path = gpath + ".filters[" + std::to_string(k) + "]";
        const json::object* f = filters->as_array()[k].if_object();
        if (!f) return validation_error(path + " must be an object");
        auto str = [&](std::string_view key) -> std::optional<std::string> {
          const json::value* v = f->if_contains(key);
          if (!v) return std::nullopt;
          if (v->is_string()) return std::string(v->as_string());
          if (v->is_number()) return json::serialize(*v);
          return std::nullopt;
        };
        Filter filter;
        auto property = str("propertyName");
        auto op = str("operator");
        if (!property || property->empty())
          return validation_error(path + ".propertyName is required");
        if (!op) return validation_error(path + ".operator is required");
        filter.property = *property;
        filter.op = *op;
        static const std::set<std::string, std::less<>> kOps = {"EQ",
                                                                "NEQ",
                                                                "LT",
                                                                "LTE",
                                                                "GT",
                                                                "GTE",
                                                                "BETWEEN",
                                                                "IN",
                                                                "NOT_IN",
                                                                "HAS_PROPERTY",
                                                                "NOT_HAS_PROPERTY",
                                                                "CONTAINS_TOKEN",
                                                                "NOT_CONTAINS_TOKEN"};
        if (!kOps.count(filter.op))
          return validation_error(path + ".operator: unknown operator `" + filter.op + "`");
        if (filter.op == "IN" || filter.op == "NOT_IN") {
          const json::value* values = f->if_contains("values");
          if (!values || !values->is_array())
            return validation_error(path + ".values must be an array for " + filter.op);
          for (const auto& v : values->as_array()) {
            filter.values.push_back(v.is_string() ? std::string(v.as_string())
                                                  : json::serialize(v));
          }
        } else if (filter.op != "HAS_PROPERTY" && filter.op != "NOT_HAS_PROPERTY") {
          auto value = str("value");
          if (!value) return validation_error(path + ".value is required for " + filter.op);
          filter.value = *value;
          if (filter.op == "BETWEEN") {
            auto high = str("highValue");
            if (!high) return validation_error(path + ".highValue is required for BETWEEN");
            filter.high = *high;
          }
        }
        list.push_back(std::move(filter));
      }
      if (list.size() > 6) return validation_error(gpath + ": at most 6 filters per group");
      total_filters += list.size();
      groups.push_back(std::move(list));
    }
    if (total_filters > 18) return validation_error("filterGroups: at most 18 filters in total");
  }
  std::vector<std::string> properties;
  if (const json::value* p = body.if_contains("properties")) {
    if (!p->is_array()) return validation_error("properties must be an array of names");
    for (const auto& v : p->as_array()) {
      if (!v.is_string()) return validation_error("properties must be an array of names");
      properties.emplace_back(v.as_string());
    }
  }
  if (properties.empty()) properties = default_properties(type, true);
  std::size_t limit = 10;
  if (const json::value* l = body.if_contains("limit")) {
    if (!l->is_int64() || l->as_int64() < 1 || l->as_int64() > 200) {
      return validation_error("limit must be an integer from 1 to 200");
    }
    limit = static_cast<std::size_t>(l->as_int64());
  }
  std::size_t offset = 0;
  if (const json::value* a = body.if_contains("after")) {
    std::optional<std::int64_t> n;
    if (a->is_string())
      n = parse_int(a->as_string());
    else if (a->is_int64() && a->as_int64() >= 0)
      n = a->as_int64();
    if (!n) return validation_error("after must be a non-negative number, as a string");
    offset = static_cast<std::size_t>(*n);
  }
  if (offset >= kSearchCap) {
    return validation_error(
        "The search API returns at most 10,000 results per query; narrow the "
        "query (for example by date) instead of paging further.");
  }
  std::string sort_property = "hs_object_id";
  bool descending = false;
  if (const json::value* s = body.if_contains("sorts")) {
    if (!s->is_array() || s->as_array().size() > 1)
      return validation_error("sorts: at most one sort");
    if (!s->as_array().empty()) {
      const json::value& first = s->as_array()[0];
      if (first.is_string()) {
        sort_property = first.as_string();
      } else if (const json::object* o = first.if_object();
                 o && o->if_contains("propertyName") && o->at("propertyName").is_string()) {
        sort_property = o->at("propertyName").as_string();
        const json::value* d = o->if_contains("direction");
        descending = d && d->is_string() && d->as_string() == "DESCENDING";
      } else {
        return validation_error("sorts[0] must name a propertyName");
      }
    }
  }
  std::string text_query;
  if (const json::value* q = body.if_contains("query"); q && q->is_string())
    text_query = lower(q->as_string());

  std::vector<CrmObject> found;
  for (auto& o : objects_of(state.dataset, type)) {
    bool keep = groups.empty();
    for (const auto& group : groups) {
      bool all = true;
      for (const auto& f : group) all = all && matches(o, f);
      if (all) {
        keep = true;
        break;
      }
    }
    if (keep && !text_query.empty()) {
      bool hit = false;
      for (const char* p : {"email", "firstname", "lastname", "dealname", "phone"}) {
        auto it = o.properties.find(p);
        hit |= it != o.properties.end() && lower(it->second).find(text_query) != std::string::npos;
      }
      keep = hit;
    }
    if (keep) found.push_back(std::move(o));
  }
  auto key = [&](const CrmObject& o) -> std::pair<std::optional<double>, std::string> {
    auto it = o.properties.find(sort_property);
    if (it == o.properties.end()) return {std::nullopt, ""};
    if (numeric_property(sort_property)) return {numeric_value(sort_property, it->second), ""};
    return {std::nullopt, lower(it->second)};
  };
  std::stable_sort(found.begin(), found.end(), [&](const CrmObject& a, const CrmObject& b) {
    auto ka = key(a), kb = key(b);
    if (descending) std::swap(ka, kb);
    if (ka.first || kb.first) return ka.first.value_or(-1e300) < kb.first.value_or(-1e300);
    return ka.second < kb.second;
  });
  json::array results;
  const std::size_t reachable = std::min(found.size(), kSearchCap);
  std::size_t i = offset;
  for (; i < reachable && results.size() < limit; ++i)
    results.push_back(to_json(found[i], properties));
  json::object out{{"total", found.size()}, {"results", results}};
  if (i < reachable)
    out["paging"] = json::object{{"next", json::object{{"after", std::to_string(i)}}}};
  return json_answer(200, out);
}

web::Response hubspot_token(Simulator::State& state, const web::Request& request) {
  auto form = parse_form(request.body);
  auto fail = [](std::string_view status, std::string_view error, std::string_view message) {
    return json_answer(400, json::object{{"status", status},
                                         {"error", error},
                                         {"message", message},
                                         {"correlationId", random_id(8) + "-" + random_id(4)}});
  };
  if (form_value(form, "grant_type") != "refresh_token") {
    return fail("BAD_GRANT_TYPE", "unsupported_grant_type", "grant_type must be refresh_token");
  }
  if (form_value(form, "client_id") != credentials::kHubspotClientId) {
    return fail("BAD_CLIENT_ID", "invalid_client", "missing or unknown client id");
  }
  if (form_value(form, "client_secret") != credentials::kHubspotClientSecret) {
    return fail("BAD_CLIENT_SECRET", "invalid_client", "missing or invalid client secret");
  }
  if (form_value(form, "refresh_token") != credentials::kHubspotRefreshToken) {
    return fail("BAD_REFRESH_TOKEN", "invalid_grant", "missing or unknown refresh token");
  }
  const auto lifetime = state.options.token_lifetime;
  const std::string token = state.issue_token(Vendor::kHubspot, "CKsim", lifetime);
  return json_answer(200, json::object{{"token_type", "bearer"},
                                       {"refresh_token", credentials::kHubspotRefreshToken},
                                       {"access_token", token},
                                       {"expires_in", lifetime.count()}});
}

}  // namespace

void register_hubspot(Simulator::State& state) {
  add_vendor_route(state, Vendor::kHubspot, web::Method::kGet, "/crm/v3/objects/{type}",
                   list_objects);
  add_vendor_route(state, Vendor::kHubspot, web::Method::kGet, "/crm/v3/objects/{type}/{id}",
                   get_object);
  add_vendor_route(state, Vendor::kHubspot, web::Method::kPost, "/crm/v3/objects/{type}/search",
                   search_objects);
  add_vendor_route(state, Vendor::kHubspot, web::Method::kPost, "/oauth/v1/token", hubspot_token);
}

}  // namespace flowpilot::simulator::detail
