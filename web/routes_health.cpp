#include "web/routes.h"

#include <boost/json/value.hpp>

namespace flowpilot::web {

void add_health_routes(Router& router, ReadinessCheck ready) {
  router.add(Method::kGet, "/healthz", Access::open(), [](const Request&) {
    return json_response(200, boost::json::object{{"status", "ok"}});
  });
  router.add(Method::kGet, "/readyz", Access::open(), [ready = std::move(ready)](const Request& request) {
    bool ok = false;
    try {
      ok = ready && ready();
    } catch (...) {
      ok = false;  // a check that throws means the store is not answering properly
    }
    if (ok) return json_response(200, boost::json::object{{"status", "ready"}});
    Response response = problem_json(503, "Not ready", "the store is not reachable",
                                     boost::json::object{{"instance", request.path}});
    response.headers.set("Retry-After", "5");
    return response;
  });
}

}  // namespace flowpilot::web
