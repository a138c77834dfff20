#include "web/api.h"

#include "engine/schedule/cron.h"
#include "web/detail/api_support.h"

#include <boost/json.hpp>

#include <map>

namespace flowpilot::web {

namespace json = boost::json;
using namespace api_detail;  // NOLINT(google-build-using-namespace): a .cpp's own helpers

namespace {

constexpr long long kMaxCronCount = 100;

Response plugins(const ApiServices& api) {
  json::array plugins;
  std::map<std::string, std::string> plugin_of_step;
  if (api.plugins != nullptr) {
    for (const auto& p : api.plugins->plugins()) {
      json::array steps;
      for (const auto& s : p.steps) {
        steps.push_back(json::value(s));
        plugin_of_step[s] = p.name;
      }
      plugins.push_back(json::object{{"name", p.name},
                                     {"version", p.version},
                                     {"file", p.file},
                                     {"steps", std::move(steps)}});
    }
  }
  json::array steps;
  for (const auto& name : api.steps.step_names()) {
    const engine::StepDescriptor* d = api.steps.describe(name);
    if (d == nullptr) continue;
    auto it = plugin_of_step.find(name);
    steps.push_back(json::object{{"name", d->name},
                                 {"plugin", it == plugin_of_step.end() ? "builtin" : it->second},
                                 {"summary", d->summary},
                                 {"input_schema", d->input_schema},
                                 {"output_schema", d->output_schema},
                                 {"side_effects", d->side_effects},
                                 {"idempotent", d->idempotent},
                                 {"supports_plan", d->supports_plan}});
  }
  return json_response(200, json::object{{"plugins", std::move(plugins)},
                                         {"steps", std::move(steps)}});
}

// The wizard's schedule preview; the same answer as `flowpilot cron next`.
Response cron_next(const Request& request) {
  const std::string expression = request.query_value("expr").value_or("");
  const std::string zone = request.query_value("tz").value_or("UTC");
  json::array errors;
  if (expression.empty()) {
    errors.push_back(json::object{{"path", "expr"}, {"message", "missing"}});
  }
  std::string why;
  auto cron = expression.empty() ? std::nullopt : engine::CronExpression::parse(expression, &why);
  if (!expression.empty() && !cron) errors.push_back(json::object{{"path", "expr"}, {"message", why}});
  if (!engine::is_valid_time_zone(zone)) {
    errors.push_back(json::object{{"path", "tz"},
                                  {"message", "`" + zone + "` is not an IANA time zone"}});
  }
  auto count = query_integer(request, "count", 1, kMaxCronCount);
  if (std::holds_alternative<Response>(count)) {
    errors.push_back(json::object{
        {"path", "count"},
        {"message", "must be a whole number from 1 to " + std::to_string(kMaxCronCount)}});
  }
  std::chrono::sys_seconds from = std::chrono::floor<std::chrono::seconds>(
      std::chrono::system_clock::now());
  if (auto text = request.query_value("from"); text && !text->empty() && errors.empty()) {
    auto parsed = engine::parse_iso8601(*text, zone);
    if (!parsed) {
      errors.push_back(json::object{
          {"path", "from"},
          {"message", "`" + *text + "` is not an ISO-8601 time (or does not exist in " + zone +
                          ")"}});
    } else {
      from = *parsed;
    }
  }
  if (!errors.empty()) {
    return problem(request, 400, "Invalid schedule", "the schedule preview's parameters are wrong",
                   std::move(errors));
  }
  json::array times;
  const long long n = std::get<std::optional<long long>>(count).value_or(5);  // checked above
  std::chrono::sys_seconds at = from;
  for (long long i = 0; i < n; ++i) {
    auto next = cron->next_after(at, zone);
    if (!next) break;
    times.push_back(json::value(engine::format_iso8601(*next, zone)));
    at = *next;
  }
  return json_response(200, json::object{{"expression", expression},
                                         {"timezone", zone},
                                         {"times", std::move(times)}});
}

}  // namespace

void add_api_routes(Router& router, const ApiServices& api) {
  add_workflow_routes(router, api);
  add_run_routes(router, api);
  add_connection_routes(router, api);
  add_file_routes(router, api);
  add_kpi_routes(router, api);
  router.add(Method::kGet, "/api/v1/plugins", Access::needs(engine::Permission::workflows_read).reaching(Access::Reach::anywhere), [&api](const Request&) { return plugins(api); });
  router.add(Method::kGet, "/api/v1/cron/next", Access::needs(engine::Permission::workflows_read).reaching(Access::Reach::anywhere), [](const Request& r) { return cron_next(r); });
  router.add(Method::kGet, "/api/v1/openapi.json", Access::open(), [](const Request&) {
    Response r;
    r.headers.set("Content-Type", "application/json");
    r.body = std::string(openapi_document());
    return r;
  });
}

}  // namespace flowpilot::web
