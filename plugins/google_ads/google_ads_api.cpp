#include "google_ads_api.h"

#include "money.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace flowpilot::google_ads {

namespace json = boost::json;
using marketing::Verdict;

namespace {

std::string string_or(const json::object& o, std::string_view key, std::string fallback = {}) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() && !v->get_string().empty() ? std::string(v->get_string())
                                                                   : fallback;
}

const json::object* object_at(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr ? v->if_object() : nullptr;
}

bool is_date(const std::string& s) {
  return s.size() == 10 && s[4] == '-' && s[7] == '-' &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || c == '-'; });
}

// "40591s" → 40591 seconds.
std::chrono::milliseconds parse_delay(std::string_view text) {
  if (text.empty() || text.back() != 's') return std::chrono::milliseconds(0);
  text.remove_suffix(1);
  double seconds = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (ec != std::errc() || end != text.data() + text.size() || seconds < 0) {
    return std::chrono::milliseconds(0);
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(seconds * 1000)));
}

}  // namespace

Connection connection_from(const json::object& credentials) {
  Connection c;
  c.base_url = string_or(credentials, "base_url", c.base_url);
  while (!c.base_url.empty() && c.base_url.back() == '/') c.base_url.pop_back();
  c.api_version = string_or(credentials, "api_version", c.api_version);
  c.developer_token = string_or(credentials, "developer_token");
  c.login_customer_id = string_or(credentials, "login_customer_id");
  if (!c.login_customer_id.empty()) c.login_customer_id = customer_digits(c.login_customer_id);
  c.currency = string_or(credentials, "currency");
  if (c.developer_token.empty()) {
    throw sdk::StepError("google_ads: the connection has no developer_token");
  }
  return c;
}

std::string customer_digits(const std::string& customer_id) {
  std::string digits;
  for (char ch : customer_id) {
    if (ch >= '0' && ch <= '9') digits += ch;
    else if (ch != '-') digits.clear(), digits += 'x';
  }
  if (digits.empty() || digits.find('x') != std::string::npos) {
    throw sdk::StepError("google_ads: customer_id `" + customer_id +
                         "` is not a customer id (digits, dashes allowed)");
  }
  return digits;
}

std::string customer_url(const Connection& c, const std::string& customer, const std::string& method) {
  return c.base_url + "/" + c.api_version + "/customers/" + customer + "/" + method;
}

sdk::Headers api_headers(const Connection& c) {
  sdk::Headers h = {{"Content-Type", "application/json"}, {"developer-token", c.developer_token}};
  if (!c.login_customer_id.empty()) h.emplace_back("login-customer-id", c.login_customer_id);
  return h;
}

std::string report_query(const std::string& since, const std::string& until, const std::string& during) {
  std::string where;
  if (!during.empty()) {
    where = "segments.date DURING " + during;
  } else {
    if (!is_date(since) || !is_date(until)) {
      throw sdk::StepError("google_ads.report: with.since and with.until must be dates (YYYY-MM-DD)");
    }
    where = "segments.date BETWEEN '" + since + "' AND '" + until + "'";
  }
  return "SELECT campaign.id, campaign.name, metrics.cost_micros, metrics.impressions, "
         "metrics.clicks, metrics.conversions, metrics.conversions_value, segments.date "
         "FROM campaign WHERE " + where;
}

Verdict classify(const sdk::HttpResponse& r) {
  if (r.status == 0) {
    if (r.error.find("refused by") != std::string::npos) return Verdict::fail("Google Ads API: " + r.error);
    return Verdict::retry("Google Ads API unreachable: " + r.error);
  }
  json::error_code ec;
  json::value body = json::parse(r.body, ec);
  if (r.status >= 200 && r.status < 300) {
    if (ec) return Verdict::retry("Google Ads API answered with a body that is not JSON");
    return Verdict::ok();
  }
  const json::object* error = nullptr;
  if (!ec) {
    // searchStream answers errors as an array holding one object.
    const json::value* top = &body;
    if (body.is_array() && !body.get_array().empty()) top = &body.get_array()[0];
    if (const auto* o = top->if_object()) error = object_at(*o, "error");
  }
  std::string status = error != nullptr ? string_or(*error, "status") : std::string();
  std::string message = "Google Ads API: HTTP " + std::to_string(r.status);
  if (!status.empty()) message += " " + status;
  std::string detail = error != nullptr ? string_or(*error, "message") : marketing::excerpt(r.body, 200);
  std::string quota_error;
  std::string rate_scope;
  std::chrono::milliseconds delay{0};
  if (error != nullptr) {
    if (const auto* details = error->if_contains("details"); details && details->is_array()) {
      for (const auto& d : details->get_array()) {
        const auto* dobj = d.if_object();
        const json::value* errors = dobj != nullptr ? dobj->if_contains("errors") : nullptr;
        if (errors == nullptr || !errors->is_array()) continue;
        for (const auto& e : errors->get_array()) {
          const auto* eo = e.if_object();
          if (eo == nullptr) continue;
          if (const auto* m = eo->if_contains("message"); m && m->is_string()) detail = m->get_string();
          if (const auto* code = object_at(*eo, "errorCode")) {
            for (const auto& [kind, value] : *code) {
              message += " " + std::string(kind) + "=" + (value.is_string() ? std::string(value.get_string()) : json::serialize(value));
              if (kind == "quotaError" && value.is_string()) quota_error = value.get_string();
            }
          }
          if (const auto* ed = object_at(*eo, "details")) {
            if (const auto* q = object_at(*ed, "quotaErrorDetails")) {
              rate_scope = string_or(*q, "rateScope");
              delay = parse_delay(string_or(*q, "retryDelay"));
            }
          }
        }
      }
    }
  }
  if (!detail.empty()) message += ": " + detail;
  if (r.status == 401 || status == "UNAUTHENTICATED") return Verdict::refresh(message);
  if (r.status == 429 || status == "RESOURCE_EXHAUSTED" || !quota_error.empty()) {
    // The developer token's daily quota: retrying before it resets only burns more of it.
    if (rate_scope == "DEVELOPER" && quota_error == "RESOURCE_EXHAUSTED") {
      return Verdict::fail(message + " (the developer token's quota is used up until it resets)");
    }
    return Verdict::retry(message, delay, true);
  }
  if (r.status == 500 || r.status == 503 || r.status == 504) return Verdict::retry(message);
  return Verdict::fail(message);
}

json::object normalize_result(const json::object& result, const std::string& customer,
                              const std::string& currency, const std::string& where) {
  const json::object empty;
  const json::object* campaign = object_at(result, "campaign");
  const json::object* metrics = object_at(result, "metrics");
  const json::object* segments = object_at(result, "segments");
  if (campaign == nullptr) campaign = &empty;
  if (metrics == nullptr) metrics = &empty;
  if (segments == nullptr) segments = &empty;
  auto whole = [&](std::string_view key) -> std::int64_t {
    const json::value* v = metrics->if_contains(key);
    if (v == nullptr) return 0;
    if (v->is_int64()) return v->get_int64();
    if (v->is_string()) {
      if (auto n = marketing::parse_int64(v->get_string())) return *n;
    }
    throw sdk::StepError("google_ads.report: " + where + ".metrics." + std::string(key) + " is `" +
                         json::serialize(*v) + "`, not an int64");
  };
  auto amount = [&](std::string_view key) -> std::int64_t {
    const json::value* v = metrics->if_contains(key);
    if (v == nullptr) return 0;
    auto micros = marketing::to_micros(*v);
    if (!micros) {
      throw sdk::StepError("google_ads.report: " + where + ".metrics." + std::string(key) + " is `" +
                           json::serialize(*v) + "`, not a number");
    }
    return *micros;
  };
  json::object row;
  row["platform"] = "google_ads";
  row["account_id"] = customer;
  row["campaign_id"] = string_or(*campaign, "id");
  row["campaign_name"] = string_or(*campaign, "name");
  row["date"] = string_or(*segments, "date");
  // costMicros is already micros: no floating point on the way.
  row["spend"] = marketing::micros_to_number(whole("costMicros"));
  row["impressions"] = whole("impressions");
  row["clicks"] = whole("clicks");
  row["conversions"] = marketing::micros_to_number(amount("conversions"));
  row["revenue"] = marketing::micros_to_number(amount("conversionsValue"));
  row["currency"] = currency.empty() ? json::value() : json::value(currency);
  return row;
}

}  // namespace flowpilot::google_ads
