// What `flowpilot serve` tells Prometheus (DESIGN.md §9): the metric families of the server, fed
// by the router's request observer, the executor's event feed, the store's commit hook, and
// values read at scrape time (executor queue, plugin HTTP counters); and GET /metrics.
//
// Families (all names carry the flowpilot_ prefix and base units):
//   http_requests_total{method,route,status}        route is the matched pattern, never the raw
//   http_request_duration_seconds{method,route}     path, so label values stay bounded
//   runs_total{workflow,status}                     runs that reached a final state
//   steps_total{workflow,status}                    steps and foreach items that finished
//   step_duration_seconds{workflow}                 first start to finish of a step
//   runs_active, runs_queued                        held by the executor now
//   store_commit_duration_seconds, store_commit_batches   group commits and what they carried
//   plugin_http_requests_total{host,status}         outbound calls made for plugins ("error" when
//                                                   no response, "refused" by the SSRF guard)
//   webhook_deliveries_total{path,outcome}          (registered by web/webhooks.h)
//
// Thread-safety: every member function may be called from any thread.
#pragma once

#include "engine/executor/executor.h"
#include "engine/http/http_client.h"
#include "web/metrics.h"
#include "web/router.h"

#include <chrono>
#include <map>
#include <mutex>
#include <string>

namespace flowpilot::web {

class ServerMetrics {
 public:
  explicit ServerMetrics(metrics::Registry& registry);

  void observe_request(const RequestSummary& request);
  void observe_event(const engine::RunEvent& event);
  void observe_commit(std::chrono::duration<double> seconds, std::size_t batches);

  // Scrape-time sources; either may be null.
  void set_sources(const engine::Executor* executor, const engine::HttpClient* http);

  // GET /metrics. With a non-empty `token`, the request must carry `Authorization: Bearer
  // <token>` (401 otherwise): metrics reveal workflow names and traffic.
  void add_route(Router& router, std::string token);

  metrics::Registry& registry() { return registry_; }

 private:
  void sync_http();

  metrics::Registry& registry_;
  metrics::CounterFamily& requests_;
  metrics::HistogramFamily& request_seconds_;
  metrics::CounterFamily& runs_;
  metrics::CounterFamily& steps_;
  metrics::HistogramFamily& step_seconds_;
  metrics::HistogramFamily& commit_seconds_;
  metrics::HistogramFamily& commit_batches_;
  metrics::CounterFamily& plugin_http_;
  std::mutex http_mu_;
  std::map<std::pair<std::string, std::string>, double> http_seen_;
  const engine::HttpClient* http_ = nullptr;
};

}  // namespace flowpilot::web
