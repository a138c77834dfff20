// Webhook triggers: POST /hooks/<path> starts the workflow whose webhook trigger has that path
// (DESIGN.md §5, §9; BAD-INPUTS.md 13-19).
//
// A delivery goes through, in order:
//   1. the route: an unknown or disabled path is 404;
//   2. the rate limit of that path (token bucket, `rate` per second with `burst`): 429 with
//      Retry-After when exceeded, never a silent drop;
//   3. the trigger's auth scheme (web/webhook_auth.h), against the body bytes as received: 401;
//   4. the body by Content-Type: JSON (400 when malformed), form (application/x-www-form-urlencoded,
//      repeated names become arrays), text/*, or empty; anything else, and any Content-Encoding,
//      is 415 (no decompression, so no gzip bomb). The body is data: it is never evaluated, and
//      the request's shape (method, headers, query) comes from the transport, never from the body;
//   5. the run's idempotency key: the trigger's `idempotency_key` expression over `trigger`, else
//      the `Idempotency-Key` header, else the delivery id the auth scheme vouches for (replays of
//      a signed request are thereby deduplicated). One key, one run: a repeat answers with the
//      first run's id (200, `"created": false`);
//   6. the run, created durably before anything is answered: `respond: accepted` answers 202 with
//      the run id; `respond: result` waits up to `result_timeout` for the run to finish and
//      answers its outputs (200), a problem when it failed (500 with the run id), or 202 with the
//      run id when it is still running at the timeout.
// Every outcome is counted in flowpilot_webhook_deliveries_total{path, outcome}.
//
// Thread-safety: handlers run on server threads; run completions arrive on executor threads.
#pragma once

#include "engine/catalog/workflow_catalog.h"
#include "engine/executor/executor.h"
#include "engine/store/store.h"
#include "scripting/expression.h"
#include "web/metrics.h"
#include "web/router.h"

#include <chrono>
#include <memory>

namespace flowpilot::web {

struct WebhookOptions {
  double rate = 100;   // deliveries per second per path; 0: unlimited
  double burst = 200;  // bucket size
  std::chrono::milliseconds result_timeout{30'000};
  std::chrono::seconds tolerance{300};  // signed timestamps this far from now are refused
  // `respond: result` learns of a run's end from the executor's events. When other processes
  // execute the runs (serve --role api), it asks the store this often instead; 0: never.
  std::chrono::milliseconds poll_results{0};
};

struct WebhookServices {
  engine::WorkflowCatalog& catalog;
  engine::Executor& executor;
  engine::Store& store;
  const scripting::ExpressionEngine& expressions;
  scripting::SecretResolver secrets;
  metrics::Registry* metrics = nullptr;  // null: not counted
};

class WebhookReceiver {
 public:
  WebhookReceiver(WebhookServices services, WebhookOptions options);
  // Answers waiting `respond: result` requests with 503 and stops the timer thread.
  ~WebhookReceiver();
  WebhookReceiver(const WebhookReceiver&) = delete;
  WebhookReceiver& operator=(const WebhookReceiver&) = delete;

  // POST /hooks/{path}. The receiver must outlive the router's use.
  void add_routes(Router& router);

  // Feed of the executor's events; completes `respond: result` waits.
  void on_event(const engine::RunEvent& event);

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace flowpilot::web
