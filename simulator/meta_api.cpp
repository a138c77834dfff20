// The Meta Marketing API (Graph API) under /meta: insights, campaigns, campaign updates and the
// fb_exchange_token grant.
#include <algorithm>
#include <cstdio>
#include <set>
#include <variant>

#include "simulator/detail/state.h"

namespace flowpilot::simulator::detail {

namespace {

namespace json = boost::json;
using std::chrono::days;
using std::chrono::sys_days;

constexpr std::int64_t kLongLivedSeconds = 5'183'944;

struct Params {
  std::vector<std::pair<std::string, std::string>> pairs;  // query, then form body
  std::optional<std::string> get(std::string_view name) const { return form_value(pairs, name); }
};

Params params_of(const web::Request& request) {
  Params p;
  p.pairs = parse_form(request.query);
  if (request.method == web::Method::kPost && !request.body.empty()) {
    auto type = request.headers.get("Content-Type").value_or("");
    if (type.find("json") == std::string_view::npos) {
      for (auto& pair : parse_form(request.body)) p.pairs.push_back(std::move(pair));
    } else {
      boost::system::error_code ec;
      auto value = json::parse(request.body, ec);
      if (!ec && value.is_object()) {
        for (const auto& [k, v] : value.as_object()) {
          p.pairs.emplace_back(std::string(k),
                               v.is_string() ? std::string(v.as_string()) : json::serialize(v));
        }
      }
    }
  }
  return p;
}

web::Response param_error(std::string_view message) {
  return meta_error(400, 100, std::nullopt, "OAuthException", "(#100) " + std::string(message));
}

bool version_ok(std::string_view v) {
  if (v.size() < 4 || v[0] != 'v' || v.substr(v.size() - 2) != ".0") return false;
  auto major = parse_int(v.substr(1, v.size() - 3));
  return major && *major >= 19 && *major <= 99;
}

// The account a path object belongs to ("act_1001" for itself or one of its campaigns).
std::string account_of(const Simulator::State& state, std::string_view object) {
  if (object.rfind("act_", 0) == 0) return std::string(object);
  if (const Campaign* c = state.dataset.find_campaign(object)) return c->account_id;
  return std::string(object);
}

// Checks the version segment and the access token; nullopt when both are fine.
std::optional<web::Response> check_request(Simulator::State& state, const web::Request& request,
                                           const Params& params) {
  const std::string& version = request.params.at("version");
  if (!version_ok(version)) {
    return meta_error(400, 2635, std::nullopt, "OAuthException",
                      "(#2635) You are calling a deprecated or unknown version of the Ads API (" +
                          version + "). Please update to the latest version.");
  }
  std::optional<std::string> token = params.get("access_token");
  if (!token) token = bearer_token(request);
  if (!token || token->empty()) {
    return meta_error(400, 104, std::nullopt, "OAuthException",
                      "An access token is required to request this resource.");
  }
  if (*token == credentials::kMetaSystemUserToken) return std::nullopt;
  auto valid = state.token_valid(Vendor::kMeta, *token);
  if (!valid) {
    return meta_error(400, 190, std::nullopt, "OAuthException",
                      "Invalid OAuth access token - Cannot parse access token");
  }
  if (!*valid) {
    return meta_error(400, 190, 463, "OAuthException",
                      "Error validating access token: Session has expired. The current time is "
                      "later than the token's expiry.");
  }
  return std::nullopt;
}

struct Totals {
  std::int64_t spend = 0, impressions = 0, clicks = 0, link_clicks = 0, purchases = 0, value = 0;
};

std::string fixed6(double v) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.6f", v);
  return buffer;
}

const std::set<std::string, std::less<>> kInsightFields = {"account_id",
                                                           "account_name",
                                                           "account_currency",
                                                           "campaign_id",
                                                           "campaign_name",
                                                           "adset_id",
                                                           "adset_name",
                                                           "ad_id",
                                                           "ad_name",
                                                           "objective",
                                                           "spend",
                                                           "impressions",
                                                           "clicks",
                                                           "inline_link_clicks",
                                                           "ctr",
                                                           "cpc",
                                                           "cpm",
                                                           "actions",
                                                           "action_values",
                                                           "date_start",
                                                           "date_stop"};

std::vector<std::string> split_fields(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    std::string field(text.substr(0, comma));
    field.erase(0, field.find_first_not_of(' '));
    field.erase(field.find_last_not_of(' ') + 1);
    if (!field.empty()) out.push_back(field);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
  }
  return out;
}

// Builds `paging` for rows [offset, offset + count) of `total`, with an absolute next link.
json::object paging_of(const web::Request& request, std::size_t offset, std::size_t count,
                       std::size_t total) {
  json::object cursors{{"before", base64_encode(std::to_string(offset))},
                       {"after", base64_encode(std::to_string(offset + count - 1))}};
  json::object paging{{"cursors", std::move(cursors)}};
  auto link = [&](std::string_view key, std::string_view cursor) {
    std::string query;
    for (const auto& [k, v] : parse_form(request.query)) {
      if (k == "after" || k == "before") continue;
      query += (query.empty() ? "" : "&") + url_encode(k) + "=" + url_encode(v);
    }
    query += (query.empty() ? "" : "&") + std::string(key) + "=" + url_encode(cursor);
    const std::string host(request.headers.get("Host").value_or("127.0.0.1"));
    return "http://" + host + request.raw_path + "?" + query;
  };
  if (offset + count < total) {
    paging["next"] = link("after", base64_encode(std::to_string(offset + count - 1)));
  }
  if (offset > 0) paging["previous"] = link("before", base64_encode(std::to_string(offset)));
  return paging;
}

// Reads `limit` and `after` (a cursor naming the last row seen); an error answer when malformed.
std::variant<std::pair<std::size_t, std::size_t>, web::Response> page_of(const Params& params) {
  std::size_t limit = 25;
  if (auto text = params.get("limit")) {
    auto n = parse_int(*text);
    if (!n || *n < 1) return param_error("Param limit must be a positive integer");
    limit = static_cast<std::size_t>(std::min<std::int64_t>(*n, 5000));
  }
  std::size_t offset = 0;
  if (auto after = params.get("after")) {
    auto decoded = base64_decode(*after);
    auto index = decoded ? parse_int(*decoded) : std::nullopt;
    if (!index) return param_error("Invalid cursor in param after");
    offset = static_cast<std::size_t>(*index) + 1;
  }
  return std::pair{offset, limit};
}

web::Response insights(Simulator::State& state, const web::Request& request, const Params& params,
                       const std::string& object) {
  const Dataset& data = state.dataset;
  const Account* account = nullptr;
  const Campaign* only_campaign = nullptr;
  if (object.rfind("act_", 0) == 0) {
    account = data.find_account("meta", object);
  } else if ((only_campaign = data.find_campaign(object)) && only_campaign->platform == "meta") {
    account = data.find_account("meta", only_campaign->account_id);
  }
  if (!account) {
    return meta_error(400, 100, 33, "GraphMethodException",
                      "Unsupported get request. Object with ID '" + object +
                          "' does not exist, cannot be loaded due to missing permissions, or does "
                          "not support this operation.");
  }
  const std::string level = params.get("level").value_or(only_campaign ? "campaign" : "account");
  if (level != "account" && level != "campaign" && level != "adset" && level != "ad") {
    return param_error("Param level must be one of {ad, adset, campaign, account}");
  }
  std::vector<std::string> fields =
      split_fields(params.get("fields").value_or("spend,impressions,clicks"));
  for (const auto& f : fields) {
    if (!kInsightFields.count(f)) return param_error(f + " is not valid for fields param");
  }
  // The range.
  const sys_days today = data.options().today;
  const sys_days first = *parse_date(data.first_date());
  sys_days since, until;
  if (auto range = params.get("time_range")) {
    boost::system::error_code ec;
    auto value = json::parse(*range, ec);
    const json::object* o = !ec && value.is_object() ? &value.as_object() : nullptr;
    const json::value* s = o ? o->if_contains("since") : nullptr;
    const json::value* u = o ? o->if_contains("until") : nullptr;
    auto ps = s && s->is_string() ? parse_date(s->as_string()) : std::nullopt;
    auto pu = u && u->is_string() ? parse_date(u->as_string()) : std::nullopt;
    if (!ps || !pu) {
      return param_error(
          "Param time_range must be a JSON object {\"since\":\"YYYY-MM-DD\","
          "\"until\":\"YYYY-MM-DD\"}");
    }
    if (*pu < *ps) return param_error("time_range: until is before since");
    since = *ps;
    until = *pu;
  } else {
    const std::string preset = params.get("date_preset").value_or("last_30d");
    auto r = preset_range(preset, today, first);
    if (!r) return param_error("Param date_preset has an unknown value `" + preset + "`");
    std::tie(since, until) = *r;
  }
  const std::string increment = params.get("time_increment").value_or("all_days");
  int step = 0;  // 0: all_days, -1: monthly, else days
  if (increment == "monthly") {
    step = -1;
  } else if (increment != "all_days") {
    auto n = parse_int(increment);
    if (!n || *n < 1 || *n > 90) {
      return param_error("Param time_increment must be all_days, monthly or 1-90");
    }
    step = static_cast<int>(*n);
  }
  auto bucket_of = [&](sys_days day) -> std::pair<sys_days, sys_days> {
    if (step == 0) return {since, until};
    if (step == -1) {
      const std::chrono::year_month_day ymd{day};
      const sys_days start = std::max(since, sys_days{ymd.year() / ymd.month() / 1});
      const sys_days end = std::min(until, sys_days{ymd.year() / ymd.month() / std::chrono::last});
      return {start, end};
    }
    const auto index = (day - since).count() / step;
    const sys_days start = since + days(index * step);
    return {start, std::min(until, start + days(step - 1))};
  };

  struct Key {
    std::string start, stop, entity;
    auto operator<=>(const Key&) const = default;
  };
  struct Bucket {
    const MetaAdDay* sample = nullptr;
    Totals totals;
  };
  std::map<Key, Bucket> buckets;
  const std::string since_text = format_date(since), until_text = format_date(until);
  for (const auto& row : data.meta_rows()) {
    if (row.account_id != account->id) continue;
    if (only_campaign && row.campaign_id != only_campaign->id) continue;
    if (row.date < since_text || row.date > until_text) continue;
    auto [start, stop] = bucket_of(*parse_date(row.date));
    const std::string& entity = level == "account"    ? row.account_id
                                : level == "campaign" ? row.campaign_id
                                : level == "adset"    ? row.adset_id
                                                      : row.ad_id;
    auto& b = buckets[Key{format_date(start), format_date(stop), entity}];
    b.sample = &row;
    b.totals.spend += row.spend_cents;
    b.totals.impressions += row.impressions;
    b.totals.clicks += row.clicks;
    b.totals.link_clicks += row.link_clicks;
    b.totals.purchases += row.purchases;
    b.totals.value += row.purchase_value_cents;
  }
  auto page = page_of(params);
  if (auto* error = std::get_if<web::Response>(&page)) return *error;
  const auto [offset, limit] = std::get<std::pair<std::size_t, std::size_t>>(page);

  const int level_rank = level == "account"    ? 0
                         : level == "campaign" ? 1
                         : level == "adset"    ? 2
                                               : 3;
  json::array rows;
  std::size_t index = 0;
  for (const auto& [key, b] : buckets) {
    if (index++ < offset) continue;
    if (rows.size() >= limit) break;
    const MetaAdDay& s = *b.sample;
    const Campaign* c = data.find_campaign(s.campaign_id);
    const Adset* adset = nullptr;
    const Ad* ad = nullptr;
    for (const auto& a : c->adsets) {
      if (a.id != s.adset_id) continue;
      adset = &a;
      for (const auto& x : a.ads) {
        if (x.id == s.ad_id) ad = &x;
      }
    }
    const Totals& t = b.totals;
    json::object row;
    for (const auto& f : fields) {
      if (f == "account_id")
        row[f] = account->id.substr(4);
      else if (f == "account_name")
        row[f] = account->name;
      else if (f == "account_currency")
        row[f] = account->currency;
      else if (f == "campaign_id" && level_rank >= 1)
        row[f] = c->id;
      else if (f == "campaign_name" && level_rank >= 1)
        row[f] = c->name;
      else if (f == "objective" && level_rank >= 1)
        row[f] = c->objective;
      else if (f == "adset_id" && level_rank >= 2)
        row[f] = adset->id;
      else if (f == "adset_name" && level_rank >= 2)
        row[f] = adset->name;
      else if (f == "ad_id" && level_rank >= 3)
        row[f] = ad->id;
      else if (f == "ad_name" && level_rank >= 3)
        row[f] = ad->name;
      else if (f == "spend")
        row[f] = decimal_string(t.spend, 2);
      else if (f == "impressions")
        row[f] = std::to_string(t.impressions);
      else if (f == "clicks")
        row[f] = std::to_string(t.clicks);
      else if (f == "inline_link_clicks")
        row[f] = std::to_string(t.link_clicks);
      else if (f == "ctr" && t.impressions > 0) {
        row[f] = fixed6(100.0 * static_cast<double>(t.clicks) / static_cast<double>(t.impressions));
      } else if (f == "cpc" && t.clicks > 0) {
        row[f] = fixed6(static_cast<double>(t.spend) / 100.0 / static_cast<double>(t.clicks));
      } else if (f == "cpm" && t.impressions > 0) {
        row[f] = fixed6(static_cast<double>(t.spend) * 10.0 / static_cast<double>(t.impressions));
      } else if (f == "actions") {
        json::array actions;
        if (t.link_clicks > 0) {
          actions.push_back(json::object{{"action_type", "link_click"},
                                         {"value", std::to_string(t.link_clicks)}});
        }
        if (t.purchases > 0) {
          for (const char* type : {"omni_purchase", "purchase"}) {
            actions.push_back(
                json::object{{"action_type", type}, {"value", std::to_string(t.purchases)}});
          }
        }
        if (!actions.empty()) row[f] = std::move(actions);
      } else if (f == "action_values") {
        if (t.value > 0) {
          json::array values;
          for (const char* type : {"omni_purchase", "purchase"}) {
            values.push_back(
                json::object{{"action_type", type}, {"value", decimal_string(t.value, 2)}});
          }
          row[f] = std::move(values);
        }
      }
    }
    row["date_start"] = key.start;
    row["date_stop"] = key.stop;
    rows.push_back(std::move(row));
  }
  json::object body{{"data", rows}};
  if (!rows.empty()) body["paging"] = paging_of(request, offset, rows.size(), buckets.size());
  return json_answer(200, body);
}

json::object campaign_object(const CampaignState& c, const std::vector<std::string>& fields) {
  json::object o;
  for (const auto& f : fields) {
    if (f == "id")
      o[f] = c.id;
    else if (f == "name")
      o[f] = c.name;
    else if (f == "status" || f == "effective_status" || f == "configured_status")
      o[f] = c.status;
    else if (f == "daily_budget")
      o[f] = std::to_string(c.daily_budget);
    else if (f == "account_id")
      o[f] = c.account_id.substr(4);
  }
  if (!o.contains("id")) o["id"] = c.id;
  return o;
}

const std::set<std::string, std::less<>> kCampaignFields = {
    "id",        "name",         "status",    "effective_status", "configured_status",
    "objective", "daily_budget", "account_id"};

web::Response campaigns_list(Simulator::State& state, const web::Request& request,
                             const Params& params, const std::string& object) {
  const Account* account = state.dataset.find_account("meta", object);
  if (!account) {
    return meta_error(400, 100, 33, "GraphMethodException",
                      "Unsupported get request. Object with ID '" + object + "' does not exist.");
  }
  auto fields = split_fields(params.get("fields").value_or("id"));
  for (const auto& f : fields) {
    if (!kCampaignFields.count(f)) return param_error(f + " is not valid for fields param");
  }
  std::set<std::string, std::less<>> statuses;
  if (auto filter = params.get("effective_status")) {
    boost::system::error_code ec;
    auto value = json::parse(*filter, ec);
    if (ec || !value.is_array()) {
      return param_error("Param effective_status must be a JSON array of statuses");
    }
    for (const auto& v : value.as_array()) {
      if (!v.is_string()) return param_error("Param effective_status must hold strings");
      statuses.insert(std::string(v.as_string()));
    }
  }
  auto page = page_of(params);
  if (auto* error = std::get_if<web::Response>(&page)) return *error;
  const auto [offset, limit] = std::get<std::pair<std::size_t, std::size_t>>(page);
  std::vector<CampaignState> matching;
  {
    std::lock_guard lock(state.mutex);
    for (const auto& [id, c] : state.campaigns) {
      if (c.account_id == account->id && (statuses.empty() || statuses.count(c.status))) {
        matching.push_back(c);
      }
    }
  }
  json::array rows;
  for (std::size_t i = offset; i < matching.size() && rows.size() < limit; ++i) {
    json::object o = campaign_object(matching[i], fields);
    if (std::find(fields.begin(), fields.end(), "objective") != fields.end()) {
      o["objective"] = state.dataset.find_campaign(matching[i].id)->objective;
    }
    rows.push_back(std::move(o));
  }
  json::object body{{"data", rows}};
  if (!rows.empty()) body["paging"] = paging_of(request, offset, rows.size(), matching.size());
  return json_answer(200, body);
}

web::Response object_get(Simulator::State& state, const Params& params, const std::string& object) {
  if (const Account* account = state.dataset.find_account("meta", object)) {
    json::object o{{"id", account->id}};
    for (const auto& f : split_fields(params.get("fields").value_or("name"))) {
      if (f == "name")
        o[f] = account->name;
      else if (f == "currency")
        o[f] = account->currency;
      else if (f == "account_id")
        o[f] = account->id.substr(4);
      else if (f == "timezone_name")
        o[f] = account->time_zone;
      else if (f == "account_status")
        o[f] = 1;
      else if (f != "id")
        return param_error(f + " is not valid for fields param");
    }
    return json_answer(200, o);
  }
  std::optional<CampaignState> campaign;
  {
    std::lock_guard lock(state.mutex);
    auto it = state.campaigns.find(object);
    if (it != state.campaigns.end() && it->second.platform == "meta") campaign = it->second;
  }
  if (!campaign) {
    return meta_error(400, 100, 33, "GraphMethodException",
                      "Unsupported get request. Object with ID '" + object + "' does not exist.");
  }
  auto fields = split_fields(params.get("fields").value_or("id,name"));
  for (const auto& f : fields) {
    if (!kCampaignFields.count(f)) return param_error(f + " is not valid for fields param");
  }
  json::object o = campaign_object(*campaign, fields);
  if (std::find(fields.begin(), fields.end(), "objective") != fields.end()) {
    o["objective"] = state.dataset.find_campaign(object)->objective;
  }
  return json_answer(200, o);
}

web::Response object_post(Simulator::State& state, const Params& params,
                          const std::string& object) {
  std::lock_guard lock(state.mutex);
  auto it = state.campaigns.find(object);
  if (it == state.campaigns.end() || it->second.platform != "meta") {
    return meta_error(400, 100, 33, "GraphMethodException",
                      "Unsupported post request. Object with ID '" + object +
                          "' does not exist, cannot be loaded due to missing permissions, or does "
                          "not support this operation.");
  }
  auto status = params.get("status");
  auto budget = params.get("daily_budget");
  auto name = params.get("name");
  if (!status && !budget && !name) {
    return param_error("Nothing to update: send status, daily_budget or name");
  }
  if (status && *status != "ACTIVE" && *status != "PAUSED") {
    return param_error("Param status must be one of {ACTIVE, PAUSED}");
  }
  std::optional<std::int64_t> cents;
  if (budget) {
    cents = parse_int(*budget);
    if (!cents || *cents < 100) {
      return param_error("Param daily_budget must be an integer in minor units of at least 100");
    }
  }
  if (name && name->empty()) return param_error("Param name must not be empty");
  if (status) it->second.status = *status;
  if (cents) it->second.daily_budget = *cents;
  if (name) it->second.name = *name;
  return json_answer(200, json::object{{"success", true}});
}

// Wraps a Meta handler: version and token checks, the account's rate budget, usage headers.
VendorHandler with_checks(std::string_view usage_type,
                          std::function<web::Response(Simulator::State&, const web::Request&,
                                                      const Params&, const std::string&)>
                              inner) {
  return [usage_type, inner = std::move(inner)](Simulator::State& state,
                                                const web::Request& request) {
    const Params params = params_of(request);
    const std::string object = request.params.at("object");
    const std::string account = account_of(state, object);
    web::Response response;
    BudgetUse use;
    if (auto refused = check_request(state, request, params)) {
      response = std::move(*refused);
      use = state.peek(Vendor::kMeta, account);
    } else if (!state.dataset.find_account("meta", account)) {
      // Unknown objects are refused by the handler; they get no window of their own, so that
      // made-up ids cannot grow the table.
      use = state.peek(Vendor::kMeta, account);
      response = inner(state, request, params, object);
    } else {
      use = state.take(Vendor::kMeta, account);
      response = use.allowed
                     ? inner(state, request, params, object)
                     : meta_throttled(usage_type == "ads_insights" ? 80000 : 80004, use.reset_in);
    }
    add_meta_usage_headers(response, account, usage_type, use);
    return response;
  };
}

web::Response exchange_token(Simulator::State& state, const web::Request& request) {
  const Params params = params_of(request);
  if (!version_ok(request.params.at("version"))) {
    return meta_error(400, 2635, std::nullopt, "OAuthException", "(#2635) Unknown API version");
  }
  if (params.get("grant_type") != "fb_exchange_token") {
    return param_error("Param grant_type must be fb_exchange_token");
  }
  if (params.get("client_id") != credentials::kMetaAppId) {
    return meta_error(400, 101, std::nullopt, "OAuthException",
                      "Error validating application. Invalid application ID.");
  }
  if (params.get("client_secret") != credentials::kMetaAppSecret) {
    return meta_error(400, 1, std::nullopt, "OAuthException", "Error validating client secret.");
  }
  const std::string old = params.get("fb_exchange_token").value_or("");
  if (old != credentials::kMetaSystemUserToken && state.token_valid(Vendor::kMeta, old) != true) {
    return meta_error(400, 190, std::nullopt, "OAuthException",
                      "Invalid OAuth access token - Cannot parse access token");
  }
  const std::string token =
      state.issue_token(Vendor::kMeta, "EAASim", std::chrono::seconds(kLongLivedSeconds));
  return json_answer(200, json::object{{"access_token", token},
                                       {"token_type", "bearer"},
                                       {"expires_in", kLongLivedSeconds}});
}

}  // namespace

void register_meta(Simulator::State& state) {
  add_vendor_route(state, Vendor::kMeta, web::Method::kGet, "/{version}/oauth/access_token",
                   exchange_token);
  add_vendor_route(state, Vendor::kMeta, web::Method::kGet, "/{version}/{object}/insights",
                   with_checks("ads_insights", insights));
  add_vendor_route(state, Vendor::kMeta, web::Method::kGet, "/{version}/{object}/campaigns",
                   with_checks("ads_management", campaigns_list));
  add_vendor_route(
      state, Vendor::kMeta, web::Method::kGet, "/{version}/{object}",
      with_checks("ads_management", [](Simulator::State& s, const web::Request&, const Params& p,
                                       const std::string& o) { return object_get(s, p, o); }));
  add_vendor_route(
      state, Vendor::kMeta, web::Method::kPost, "/{version}/{object}",
      with_checks("ads_management", [](Simulator::State& s, const web::Request&, const Params& p,
                                       const std::string& o) { return object_post(s, p, o); }));
}

}  // namespace flowpilot::simulator::detail
