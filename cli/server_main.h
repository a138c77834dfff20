// The body of `flowpilot serve`, shared with `flowpilot demo`: builds the store, catalog,
// executor, scheduler, webhooks, API and HTTP server of a ServeConfig, serves until SIGINT or
// SIGTERM, and shuts down gracefully.
#pragma once

#include "cli/app_context.h"
#include "cli/serve_config.h"

#include "engine/catalog/workflow_catalog.h"
#include "engine/executor/executor.h"

#include <functional>
#include <string>

namespace flowpilot::cli {

// What a caller of run_server() may use once the server listens. Valid during the callback.
struct ServerHandles {
  AppContext& context;
  engine::WorkflowCatalog& catalog;
  engine::Executor& executor;
  std::string url;  // "http://127.0.0.1:8080"
};
using ServerReady = std::function<void(ServerHandles&)>;

// Serves until SIGINT or SIGTERM and returns the exit code. `on_ready` (optional) runs on the
// calling thread once the server listens; a signal arriving meanwhile waits until it returns.
// Throws UsageError for settings the user must fix.
int run_server(const ServeConfig& config, const ServerReady& on_ready = {});

}  // namespace flowpilot::cli
