#include "ga4_api.h"

#include "money.h"

#include <charconv>
#include <cmath>

namespace flowpilot::ga4 {

namespace json = boost::json;
using marketing::Verdict;

json::object report_body(const std::string& start_date, const std::string& end_date,
                         const json::array& dimensions, const json::array& metrics, std::int64_t limit,
                         std::int64_t offset) {
  json::array dims;
  for (const auto& d : dimensions) dims.push_back(json::object{{"name", d}});
  json::array mets;
  for (const auto& m : metrics) mets.push_back(json::object{{"name", m}});
  return {{"dateRanges", json::array{json::object{{"startDate", start_date}, {"endDate", end_date}}}},
          {"dimensions", std::move(dims)},
          {"metrics", std::move(mets)},
          {"limit", limit},
          {"offset", offset},
          {"returnPropertyQuota", true}};
}

Verdict classify(const sdk::HttpResponse& r) {
  if (r.status == 0) {
    if (r.error.find("refused by") != std::string::npos) return Verdict::fail("GA4 Data API: " + r.error);
    return Verdict::retry("GA4 Data API unreachable: " + r.error);
  }
  json::error_code ec;
  json::value body = json::parse(r.body, ec);
  if (r.status >= 200 && r.status < 300) {
    if (ec || !body.is_object()) return Verdict::retry("GA4 Data API answered with a body that is not a JSON object");
    return Verdict::ok();
  }
  std::string message = "GA4 Data API: HTTP " + std::to_string(r.status);
  std::string status;
  if (!ec && body.is_object()) {
    if (const auto* e = body.get_object().if_contains("error"); e && e->is_object()) {
      const auto& eo = e->get_object();
      if (const auto* s = eo.if_contains("status"); s && s->is_string()) status = s->get_string();
      if (!status.empty()) message += " " + status;
      if (const auto* m = eo.if_contains("message"); m && m->is_string()) message += ": " + std::string(m->get_string());
    }
  } else {
    message += ": " + marketing::excerpt(r.body, 200);
  }
  if (r.status == 401 || status == "UNAUTHENTICATED") return Verdict::refresh(message);
  if (r.status == 429 || status == "RESOURCE_EXHAUSTED") return Verdict::retry(message, {}, true);
  if (r.status >= 500) return Verdict::retry(message);
  return Verdict::fail(message);
}

json::array typed_rows(const json::object& answer, std::size_t first_index) {
  std::vector<std::string> dim_names;
  std::vector<std::pair<std::string, std::string>> metric_headers;  // name, type
  if (const auto* h = answer.if_contains("dimensionHeaders"); h && h->is_array()) {
    for (const auto& d : h->get_array()) {
      const auto* o = d.if_object();
      dim_names.push_back(o && o->contains("name") && o->at("name").is_string() ? std::string(o->at("name").get_string()) : "");
    }
  }
  if (const auto* h = answer.if_contains("metricHeaders"); h && h->is_array()) {
    for (const auto& m : h->get_array()) {
      const auto* o = m.if_object();
      std::string name = o && o->contains("name") && o->at("name").is_string() ? std::string(o->at("name").get_string()) : "";
      std::string type = o && o->contains("type") && o->at("type").is_string() ? std::string(o->at("type").get_string()) : "TYPE_FLOAT";
      metric_headers.emplace_back(std::move(name), std::move(type));
    }
  }
  json::array rows;
  const json::value* list = answer.if_contains("rows");  // absent when there is no data
  if (list == nullptr || !list->is_array()) return rows;
  std::size_t index = first_index;
  for (const auto& raw : list->get_array()) {
    const auto* r = raw.if_object();
    if (r == nullptr) continue;
    const std::string where = "rows[" + std::to_string(index++) + "]";
    json::object row;
    auto values = [r](const char* key) -> const json::array* {
      const json::value* v = r->if_contains(key);
      return v != nullptr ? v->if_array() : nullptr;
    };
    if (const auto* dv = values("dimensionValues")) {
      for (std::size_t i = 0; i < dv->size() && i < dim_names.size(); ++i) {
        const auto* o = (*dv)[i].if_object();
        std::string text = o && o->contains("value") && o->at("value").is_string() ? std::string(o->at("value").get_string()) : "";
        if (dim_names[i] == "date" && text.size() == 8) {
          text = text.substr(0, 4) + "-" + text.substr(4, 2) + "-" + text.substr(6, 2);
        }
        row[dim_names[i]] = text;
      }
    }
    if (const auto* mv = values("metricValues")) {
      for (std::size_t i = 0; i < mv->size() && i < metric_headers.size(); ++i) {
        const auto& [name, type] = metric_headers[i];
        const auto* o = (*mv)[i].if_object();
        const std::string text = o && o->contains("value") && o->at("value").is_string() ? std::string(o->at("value").get_string()) : "";
        json::value value;
        if (type == "TYPE_INTEGER") {
          auto n = marketing::parse_int64(text);
          if (!n) throw sdk::StepError("ga4.report: " + where + "." + name + " is `" + text + "`, not an integer");
          value = *n;
        } else if (type == "TYPE_CURRENCY") {
          // Currency values can carry more than six decimals: round to micros.
          double d = 0;
          auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
          if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(d)) {
            throw sdk::StepError("ga4.report: " + where + "." + name + " is `" + text + "`, not an amount");
          }
          value = marketing::micros_to_number(std::llround(d * 1e6));
        } else {
          double d = 0;
          auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
          if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(d)) {
            throw sdk::StepError("ga4.report: " + where + "." + name + " is `" + text + "`, not a number");
          }
          value = d;
        }
        row[name] = std::move(value);
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace flowpilot::ga4
