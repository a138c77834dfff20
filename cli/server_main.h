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
// Runs on the calling thread once the server listens, and returns what to run when a signal
// arrives, before anything stops (may be empty). A signal arriving while it runs waits until it
// returns, so work that takes long belongs on a thread of its own that the returned action stops.
using ServerReady = std::function<std::function<void()>(ServerHandles&)>;

// Serves until SIGINT or SIGTERM and returns the exit code. Throws UsageError for settings the
// user must fix.
int run_server(const ServeConfig& config, const ServerReady& on_ready = {});

}  // namespace flowpilot::cli
