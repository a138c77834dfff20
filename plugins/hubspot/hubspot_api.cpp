#include "hubspot_api.h"

#include "money.h"

#include <charconv>
#include <chrono>
#include <set>

namespace flowpilot::hubspot {

namespace json = boost::json;
using marketing::Verdict;

namespace {

std::string string_or(const json::object& o, std::string_view key, std::string fallback = {}) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : fallback;
}

std::chrono::milliseconds header_millis(const sdk::HttpResponse& r, std::string_view name, int scale) {
  const auto h = r.header(name);
  if (!h) return std::chrono::milliseconds(0);
  long long n = 0;
  auto [end, ec] = std::from_chars(h->data(), h->data() + h->size(), n);
  if (ec != std::errc() || n < 0) return std::chrono::milliseconds(0);
  return std::chrono::milliseconds(n * scale);
}

}  // namespace

std::string base_url(const json::object& credentials) {
  std::string base = string_or(credentials, "base_url", "https://api.hubapi.com");
  if (base.empty()) base = "https://api.hubapi.com";
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base;
}

std::string epoch_millis(const std::string& date, bool end_of_day, const std::string& field) {
  int y = 0;
  unsigned m = 0;
  unsigned d = 0;
  const bool shaped = date.size() == 10 && date[4] == '-' && date[7] == '-' &&
                      std::from_chars(date.data(), date.data() + 4, y).ec == std::errc() &&
                      std::from_chars(date.data() + 5, date.data() + 7, m).ec == std::errc() &&
                      std::from_chars(date.data() + 8, date.data() + 10, d).ec == std::errc();
  const std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(m), std::chrono::day(d)};
  if (!shaped || !ymd.ok()) {
    throw sdk::StepError("hubspot: with." + field + " `" + date + "` is not a date (YYYY-MM-DD)");
  }
  const auto day = std::chrono::sys_days(ymd).time_since_epoch();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(day).count();
  if (end_of_day) ms += 86'400'000 - 1;
  return std::to_string(ms);
}

json::object search_body(const json::array& filters, const std::string& date_property,
                         const std::string& since, const std::string& until,
                         const json::array& properties, std::int64_t limit, const std::string& after) {
  static const std::set<std::string, std::less<>> kOperators = {
      "EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "IN", "NOT_IN", "HAS_PROPERTY",
      "NOT_HAS_PROPERTY", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"};
  json::array out;
  for (std::size_t i = 0; i < filters.size(); ++i) {
    const std::string where = "with.filters[" + std::to_string(i) + "]";
    const auto* f = filters[i].if_object();
    if (f == nullptr) throw sdk::StepError("hubspot: " + where + " must be an object");
    const std::string property = string_or(*f, "property");
    const std::string op = string_or(*f, "operator", "EQ");
    if (property.empty()) throw sdk::StepError("hubspot: " + where + " needs a `property`");
    if (kOperators.count(op) == 0) {
      throw sdk::StepError("hubspot: " + where + ".operator `" + op + "` is not one of HubSpot's operators");
    }
    json::object filter{{"propertyName", property}, {"operator", op}};
    auto text = [](const json::value& v) {
      return v.is_string() ? std::string(v.get_string()) : json::serialize(v);
    };
    if (op == "IN" || op == "NOT_IN") {
      const json::value* values = f->if_contains("values");
      if (values == nullptr || !values->is_array()) throw sdk::StepError("hubspot: " + where + " needs `values` (a list)");
      json::array list;
      for (const auto& v : values->get_array()) list.push_back(json::value(text(v)));
      filter["values"] = std::move(list);
    } else if (op != "HAS_PROPERTY" && op != "NOT_HAS_PROPERTY") {
      const json::value* value = f->if_contains("value");
      if (value == nullptr) throw sdk::StepError("hubspot: " + where + " needs a `value`");
      filter["value"] = text(*value);
      if (op == "BETWEEN") {
        const json::value* high = f->if_contains("high_value");
        if (high == nullptr) throw sdk::StepError("hubspot: " + where + " (BETWEEN) needs a `high_value`");
        filter["highValue"] = text(*high);
      }
    }
    out.push_back(std::move(filter));
  }
  if (!since.empty()) {
    out.push_back(json::object{{"propertyName", date_property}, {"operator", "GTE"},
                               {"value", epoch_millis(since, false, "since")}});
  }
  if (!until.empty()) {
    out.push_back(json::object{{"propertyName", date_property}, {"operator", "LTE"},
                               {"value", epoch_millis(until, true, "until")}});
  }
  json::object body{{"properties", properties}, {"limit", limit},
                    {"sorts", json::array{json::object{{"propertyName", "hs_object_id"}, {"direction", "ASCENDING"}}}}};
  if (!out.empty()) body["filterGroups"] = json::array{json::object{{"filters", std::move(out)}}};
  if (!after.empty()) body["after"] = after;
  return body;
}

Verdict classify(const sdk::HttpResponse& r) {
  if (r.status == 0) {
    if (r.error.find("refused by") != std::string::npos) return Verdict::fail("HubSpot API: " + r.error);
    return Verdict::retry("HubSpot API unreachable: " + r.error);
  }
  json::error_code ec;
  json::value body = json::parse(r.body, ec);
  if (r.status >= 200 && r.status < 300) {
    if (ec) return Verdict::retry("HubSpot API answered with a body that is not JSON");
    return Verdict::ok();
  }
  const json::object* o = ec ? nullptr : body.if_object();
  std::string message = "HubSpot API: HTTP " + std::to_string(r.status);
  const std::string category = o != nullptr ? string_or(*o, "category") : "";
  const std::string policy = o != nullptr ? string_or(*o, "policyName") : "";
  if (!category.empty()) message += " " + category;
  if (!policy.empty()) message += " " + policy;
  if (o != nullptr && o->contains("message")) message += ": " + string_or(*o, "message");
  else message += ": " + marketing::excerpt(r.body, 200);
  if (r.status == 429) {
    // The daily allowance comes back at midnight in the account's time zone: no use retrying now.
    if (policy == "DAILY") return Verdict::fail(message + " (the daily limit resets at midnight)");
    auto wait = header_millis(r, "retry-after", 1000);
    if (wait.count() == 0) wait = header_millis(r, "x-hubspot-ratelimit-interval-milliseconds", 1);
    return Verdict::retry(message, wait, true);
  }
  if (r.status == 401) return Verdict::refresh(message);
  if (r.status >= 500) return Verdict::retry(message);
  return Verdict::fail(message);
}

json::object deal_row(const json::object& deal, const std::string& where) {
  json::object props;
  if (const auto* p = deal.if_contains("properties"); p && p->is_object()) props = p->get_object();
  json::value amount;
  if (const auto* a = props.if_contains("amount"); a && a->is_string() && !a->get_string().empty()) {
    auto micros = marketing::parse_decimal_micros(a->get_string());
    if (!micros) {
      throw sdk::StepError("hubspot.deals: " + where + ".properties.amount is `" +
                           std::string(a->get_string()) + "`, not an amount");
    }
    amount = marketing::micros_to_number(*micros);
  }
  auto prop = [&props](std::string_view key) -> json::value {
    const json::value* v = props.if_contains(key);
    return v != nullptr ? *v : json::value();
  };
  auto date = [&prop](std::string_view key) -> json::value {
    json::value v = prop(key);
    if (v.is_string() && v.get_string().size() >= 10) return json::value(v.get_string().subview(0, 10));
    return v;
  };
  json::object row{{"id", deal.contains("id") ? deal.at("id") : json::value()},
                   {"name", prop("dealname")},
                   {"amount", amount},
                   {"stage", prop("dealstage")},
                   {"pipeline", prop("pipeline")},
                   {"close_date", date("closedate")},
                   {"create_date", date("createdate")},
                   {"channel", prop("hs_analytics_source")},
                   {"currency", prop("deal_currency_code")}};
  row["properties"] = std::move(props);
  return row;
}

}  // namespace flowpilot::hubspot
