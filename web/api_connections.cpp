// /api/v1/connections and /api/v1/connection-types: stored connections, whose secret values are
// write-only. No answer, log line or problem carries a secret value: summaries list only which
// secret fields are set, and the service's messages never include values.
#include "engine/connections/connections.h"
#include "web/api.h"
#include "web/detail/api_support.h"

#include <boost/json.hpp>

namespace flowpilot::web {

namespace json = boost::json;
using namespace api_detail;  // NOLINT(google-build-using-namespace): a .cpp's own helpers

namespace {

constexpr std::string_view kPathPrefix = "/api/v1/connections/";

Response unavailable(const Request& request) {
  return problem(request, 503, "Connections unavailable",
                 "this server has no store of connections configured");
}

Response error_response(const Request& request, const engine::ConnectionError& e) {
  json::array errors;
  for (const auto& p : e.problems()) {
    errors.push_back(json::object{{"path", p.path}, {"message", p.message}});
  }
  switch (e.kind()) {
    case engine::ConnectionError::Kind::invalid:
      return problem(request, 422, "Invalid connection", e.what(), std::move(errors));
    case engine::ConnectionError::Kind::not_found:
      return problem(request, 404, "Not found", e.what());
    case engine::ConnectionError::Kind::exists:
      return problem(request, 409, "Conflict", e.what());
    case engine::ConnectionError::Kind::key:
      break;
  }
  return problem(request, 503, "Master key unavailable", e.what());
}

// The request body as a ConnectionInput, or a 400/415/422 answer naming the field.
std::variant<engine::ConnectionInput, Response> input_of(const Request& request, bool create) {
  auto body = json_body(request, false);
  if (auto* r = std::get_if<Response>(&body)) return std::move(*r);
  const json::value& value = std::get<json::value>(body);
  json::array errors;
  auto error = [&errors](std::string path, std::string message) {
    errors.push_back(json::object{{"path", std::move(path)}, {"message", std::move(message)}});
  };
  engine::ConnectionInput in;
  if (!value.is_object()) {
    error("", "must be an object such as {\"name\": ..., \"type\": ..., \"fields\": {...}}");
  } else {
    for (const auto& [key, v] : value.as_object()) {
      const std::string k(key);
      if (k == "name" || k == "type") {
        if (!v.is_string()) {
          error(k, "must be a string");
        } else {
          (k == "name" ? in.name : in.type) = std::string(v.as_string());
        }
      } else if (k == "fields") {
        if (!v.is_object()) {
          error("fields", "must be an object of field names to string values");
          continue;
        }
        for (const auto& [field, fv] : v.as_object()) {
          const std::string path = "fields." + std::string(field);
          if (fv.is_null()) {
            in.fields[std::string(field)] = std::nullopt;
          } else if (fv.is_string()) {
            in.fields[std::string(field)] = std::string(fv.as_string());
          } else {
            error(path, "must be a string, or null to clear the field");
          }
        }
      } else if (k == "rate_limit") {
        const auto* obj = v.if_object();
        engine::RateLimit limit;
        bool ok = obj != nullptr;
        for (const char* part : {"per_second", "burst"}) {
          const auto* n = obj != nullptr ? obj->if_contains(part) : nullptr;
          if (n != nullptr && !n->is_number()) {
            error(std::string("rate_limit.") + part, "must be a number");
            ok = false;
          } else if (n != nullptr) {
            (std::string_view(part) == "burst" ? limit.burst : limit.per_second) =
                n->to_number<double>();
          }
        }
        if (obj == nullptr) error("rate_limit", "must be an object {\"per_second\": 5, \"burst\": 10}");
        if (ok) in.rate_limit = limit;
      } else {
        error(k, "unknown property; expected name, type, fields, rate_limit");
      }
    }
  }
  if (create && errors.empty()) {
    if (in.name.empty()) error("name", "is required");
    if (in.type.empty()) error("type", "is required");
  }
  if (!errors.empty()) {
    return problem(request, 422, "Invalid connection", "the connection has errors", std::move(errors));
  }
  return in;
}

}  // namespace

void add_connection_routes(Router& router, const ApiServices& api) {
  router.add(Method::kGet, "/api/v1/connection-types", Access::needs(engine::Permission::workflows_read).reaching(Access::Reach::anywhere), [](const Request&) {
    return json_response(200, json::object{{"items", engine::connection_types_json()}});
  });
  router.add(Method::kGet, "/api/v1/connections", Access::needs(engine::Permission::connections_read), [&api](const Request& request) {
    if (api.connections == nullptr) return unavailable(request);
    json::array items;
    for (const auto& s : api.connections->list()) items.push_back(engine::to_json(s));
    return json_response(200, json::object{{"items", std::move(items)}});
  });
  router.add(Method::kPost, "/api/v1/connections", Access::needs(engine::Permission::connections_write, "connection.create"), [&api](const Request& request) {
    if (api.connections == nullptr) return unavailable(request);
    auto input = input_of(request, true);
    if (auto* r = std::get_if<Response>(&input)) return std::move(*r);
    try {
      const auto s = api.connections->add(std::get<engine::ConnectionInput>(input));
      Response r = json_response(201, engine::to_json(s));
      r.headers.set("Location", std::string(kPathPrefix) + s.name);
      r.audit = json::object{{"target", s.name}, {"type", s.type}};
      return r;
    } catch (const engine::ConnectionError& e) {
      return error_response(request, e);
    }
  });
  router.add(Method::kGet, "/api/v1/connections/{name}", Access::needs(engine::Permission::connections_read), [&api](const Request& request) {
    if (api.connections == nullptr) return unavailable(request);
    const std::string& name = request.params.at("name");
    auto s = api.connections->get(name);
    if (!s) return problem(request, 404, "Not found", "no connection `" + name + "`");
    return json_response(200, engine::to_json(*s));
  });
  router.add(Method::kPut, "/api/v1/connections/{name}", Access::needs(engine::Permission::connections_write, "connection.update"), [&api](const Request& request) {
    if (api.connections == nullptr) return unavailable(request);
    auto input = input_of(request, false);
    if (auto* r = std::get_if<Response>(&input)) return std::move(*r);
    auto& in = std::get<engine::ConnectionInput>(input);
    const std::string& name = request.params.at("name");
    if (!in.name.empty() && in.name != name) {
      return problem(request, 422, "Invalid connection", "the name cannot change",
                     json::array{json::object{{"path", "name"},
                                              {"message", "must be `" + name + "` or left out"}}});
    }
    in.name = name;
    try {
      return json_response(200, engine::to_json(api.connections->update(in)));
    } catch (const engine::ConnectionError& e) {
      return error_response(request, e);
    }
  });
  router.add(Method::kDelete, "/api/v1/connections/{name}", Access::needs(engine::Permission::connections_write, "connection.delete"), [&api](const Request& request) {
    if (api.connections == nullptr) return unavailable(request);
    const std::string& name = request.params.at("name");
    if (!api.connections->remove(name)) {
      return problem(request, 404, "Not found", "no connection `" + name + "`");
    }
    Response r;
    r.status = 204;
    return r;
  });
  // Asynchronous: an OAuth2 refresh may wait up to 15 s on the vendor, which must not hold one of
  // the server's few threads. The report comes on the HTTP client's thread.
  router.add_async(Method::kPost, "/api/v1/connections/{name}/test", Access::needs(engine::Permission::connections_read),
                   [&api](Request request, Reply reply) {
    if (api.connections == nullptr) return reply(unavailable(request));
    try {
      api.connections->test_async(
          request.params.at("name"), api.http,
          [reply](engine::ConnectionTestReport report) {
            json::array checks;
            for (auto& c : report.checks) checks.emplace_back(std::move(c));
            json::object body{{"ok", report.ok}, {"checks", std::move(checks)}};
            if (!report.ok) body["error"] = report.error;
            reply(json_response(200, body));
          });
    } catch (const engine::ConnectionError& e) {
      reply(error_response(request, e));
    }
  });
}

}  // namespace flowpilot::web
