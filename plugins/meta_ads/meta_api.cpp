#include "meta_api.h"

#include "money.h"

#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <algorithm>
#include <cmath>
#include <set>

namespace flowpilot::meta_ads {

namespace json = boost::json;
using marketing::Verdict;

namespace {

std::string string_or(const json::object& o, std::string_view key, std::string fallback) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() && !v->get_string().empty() ? std::string(v->get_string())
                                                                   : fallback;
}

std::int64_t int_of(const json::value* v) {
  if (v == nullptr) return 0;
  if (v->is_int64()) return v->get_int64();
  if (v->is_string()) {
    if (auto n = marketing::parse_int64(v->get_string())) return *n;
  }
  return -1;
}

// The largest `estimated_time_to_regain_access` (minutes) in X-Business-Use-Case-Usage.
std::chrono::milliseconds regain_access(const sdk::HttpResponse& response) {
  const auto header = response.header("x-business-use-case-usage");
  if (!header) return std::chrono::milliseconds(0);
  json::error_code ec;
  json::value usage = json::parse(*header, ec);
  if (ec || !usage.is_object()) return std::chrono::milliseconds(0);
  std::int64_t minutes = 0;
  for (const auto& [id, entries] : usage.get_object()) {
    if (!entries.is_array()) continue;
    for (const auto& entry : entries.get_array()) {
      if (const auto* o = entry.if_object()) {
        minutes = std::max(minutes, int_of(o->if_contains("estimated_time_to_regain_access")));
      }
    }
  }
  return std::chrono::minutes(minutes);
}

bool throttling_code(std::int64_t code) {
  return code == 4 || code == 17 || code == 32 || code == 613 || (code >= 80000 && code <= 80014);
}

}  // namespace

Connection connection_from(const json::object& credentials) {
  Connection c;
  c.base_url = string_or(credentials, "base_url", c.base_url);
  while (!c.base_url.empty() && c.base_url.back() == '/') c.base_url.pop_back();
  c.api_version = string_or(credentials, "api_version", c.api_version);
  c.currency = string_or(credentials, "currency", "");
  return c;
}

std::string account_path(const std::string& account_id) {
  std::string digits = account_id.rfind("act_", 0) == 0 ? account_id.substr(4) : account_id;
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), [](char ch) {
        return ch >= '0' && ch <= '9';
      })) {
    throw sdk::StepError("meta_ads: account_id `" + account_id +
                         "` is not an ad account id (act_<digits> or digits)");
  }
  return "act_" + digits;
}

std::string graph_url(const Connection& c, const std::string& path,
                      const std::vector<std::pair<std::string, std::string>>& query) {
  std::string url = c.base_url + "/" + c.api_version + "/" + path;
  char sep = '?';
  for (const auto& [name, value] : query) {
    url += sep;
    url += name;
    url += '=';
    url += boost::urls::encode(value, boost::urls::unreserved_chars);
    sep = '&';
  }
  return url;
}

Verdict classify(const sdk::HttpResponse& response) {
  if (response.status == 0) {
    const bool refused = response.error.find("refused by") != std::string::npos ||
                         response.error.find("cancelled") != std::string::npos;
    if (refused) return Verdict::fail("Meta API: " + response.error);
    return Verdict::retry("Meta API unreachable: " + response.error);
  }
  json::error_code ec;
  json::value body = json::parse(response.body, ec);
  const json::object* error = nullptr;
  if (!ec && body.is_object()) {
    if (const auto* e = body.get_object().if_contains("error")) error = e->if_object();
  }
  if (error == nullptr) {
    if (response.status >= 200 && response.status < 300) {
      if (ec) {
        return Verdict::retry("Meta API answered HTTP " + std::to_string(response.status) +
                              " with a body that is not JSON: " + marketing::excerpt(response.body, 120));
      }
      return Verdict::ok();
    }
    const std::string message = "Meta API: HTTP " + std::to_string(response.status) + ": " +
                                marketing::excerpt(response.body);
    if (response.status == 429 || response.status >= 500) return Verdict::retry(message);
    return Verdict::fail(message);
  }
  const std::int64_t code = int_of(error->if_contains("code"));
  const std::int64_t subcode = int_of(error->if_contains("error_subcode"));
  std::string message = "Meta API error " + std::to_string(code);
  if (subcode > 0) message += "/" + std::to_string(subcode);
  message += ": " + string_or(*error, "message", "(no message)");
  if (throttling_code(code)) {
    // A Retry-After (sent by some proxies and by our simulator) is more precise than Meta's
    // estimate in whole minutes.
    std::chrono::milliseconds wait = regain_access(response);
    if (const auto after = response.header("retry-after")) {
      if (auto seconds = marketing::parse_int64(*after); seconds && *seconds >= 0) {
        wait = std::chrono::seconds(*seconds);
      }
    }
    return Verdict::retry(message + " (throttled)", wait, true);
  }
  if (code == 190) return Verdict::refresh(message);
  const json::value* transient = error->if_contains("is_transient");
  if (code == 1 || code == 2 || (transient != nullptr && transient->is_bool() && transient->get_bool())) {
    return Verdict::retry(message);
  }
  if (response.status >= 500) return Verdict::retry(message);
  return Verdict::fail(message);
}

std::optional<double> usage_percent(const sdk::HttpResponse& response) {
  std::optional<double> top;
  auto consider = [&top](const json::object& o) {
    for (const char* key : {"call_count", "total_cputime", "total_time", "acc_id_util_pct"}) {
      if (const auto* v = o.if_contains(key)) {
        double pct = v->is_number() ? v->to_number<double>() : -1;
        if (pct >= 0) top = std::max(top.value_or(0), pct);
      }
    }
  };
  for (const char* name : {"x-app-usage", "x-ad-account-usage", "x-business-use-case-usage"}) {
    const auto header = response.header(name);
    if (!header) continue;
    json::error_code ec;
    json::value v = json::parse(*header, ec);
    if (ec || !v.is_object()) continue;
    if (std::string_view(name) != "x-business-use-case-usage") {
      consider(v.get_object());
      continue;
    }
    for (const auto& [id, entries] : v.get_object()) {
      if (!entries.is_array()) continue;
      for (const auto& e : entries.get_array()) {
        if (e.is_object()) consider(e.get_object());
      }
    }
  }
  return top;
}

json::object normalize_insight(const json::object& raw, const RowOptions& options,
                               const std::string& where) {
  auto metric_int = [&](std::string_view key) -> std::int64_t {
    const json::value* v = raw.if_contains(key);
    if (v == nullptr || v->is_null()) return 0;
    const std::int64_t n = int_of(v);
    if (n < 0) {
      throw sdk::StepError("meta_ads.insights: " + where + "." + std::string(key) + " is `" +
                           json::serialize(*v) + "`, not a whole number");
    }
    return n;
  };
  auto money = [&](const json::value* v, const std::string& field) -> std::int64_t {
    if (v == nullptr || v->is_null()) return 0;
    std::optional<std::int64_t> micros = marketing::to_micros(*v);
    if (!micros) {
      throw sdk::StepError("meta_ads.insights: " + where + "." + field + " is `" +
                           json::serialize(*v) + "`, not an amount");
    }
    return *micros;
  };
  // actions / action_values: lists of {action_type, value}; absent on rows without actions.
  auto action_sum = [&](std::string_view list) -> std::int64_t {
    std::int64_t total = 0;
    const json::value* v = raw.if_contains(list);
    if (v == nullptr || !v->is_array()) return 0;
    std::size_t i = 0;
    for (const auto& a : v->get_array()) {
      const auto* o = a.if_object();
      if (o != nullptr && string_or(*o, "action_type", "") == options.conversion_action) {
        total += money(o->if_contains("value"),
                       std::string(list) + "[" + std::to_string(i) + "].value");
      }
      ++i;
    }
    return total;
  };
  json::object row;
  row["platform"] = "meta";
  row["account_id"] = options.account_id;
  const bool below_account = options.level != "account";
  row["campaign_id"] = below_account ? json::value(string_or(raw, "campaign_id", "")) : json::value();
  row["campaign_name"] =
      below_account ? json::value(string_or(raw, "campaign_name", "")) : json::value();
  if (options.level == "adset" || options.level == "ad") {
    row["adset_id"] = string_or(raw, "adset_id", "");
    row["adset_name"] = string_or(raw, "adset_name", "");
  }
  if (options.level == "ad") {
    row["ad_id"] = string_or(raw, "ad_id", "");
    row["ad_name"] = string_or(raw, "ad_name", "");
  }
  row["date"] = string_or(raw, "date_start", "");
  if (raw.contains("date_stop") && string_or(raw, "date_stop", "") != string_or(raw, "date_start", "")) {
    row["date_stop"] = string_or(raw, "date_stop", "");
  }
  row["spend"] = marketing::micros_to_number(money(raw.if_contains("spend"), "spend"));
  row["impressions"] = metric_int("impressions");
  row["clicks"] = metric_int("clicks");
  // Conversions can be fractional with some attribution settings: keep them exact like money.
  row["conversions"] = marketing::micros_to_number(action_sum("actions"));
  row["revenue"] = marketing::micros_to_number(action_sum("action_values"));
  const std::string currency = string_or(raw, "account_currency", options.currency);
  row["currency"] = currency.empty() ? json::value() : json::value(currency);
  return row;
}

}  // namespace flowpilot::meta_ads
