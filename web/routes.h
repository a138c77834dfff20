// The server's routes, each group registered on a Router by one function. Handlers are plain
// functions over Request values (see router.h), so each group is tested without sockets.
#pragma once

#include "web/router.h"

#include <functional>

namespace flowpilot::web {

// Says whether the store answers right now. Called on a server thread for every /readyz, so it
// must be cheap and must not throw (a throw counts as "not ready").
using ReadinessCheck = std::function<bool()>;

// GET /healthz: 200 {"status":"ok"} while the process serves HTTP at all (liveness).
// GET /readyz:  200 {"status":"ready"} when `ready()` is true, else 503 problem+json with
//               Retry-After (readiness: take this instance out of a load balancer).
// Neither requires auth (DESIGN.md §2.5) and neither reveals anything about the installation.
void add_health_routes(Router& router, ReadinessCheck ready);

}  // namespace flowpilot::web
