#include "web/observability.h"

#include <sodium.h>

namespace flowpilot::web {

namespace {

bool terminal_run(const std::string& status) {
  auto s = engine::parse_run_status(status);
  return s && engine::is_terminal(*s);
}

bool terminal_step(const std::string& status) {
  auto s = engine::parse_step_status(status);
  return s && engine::is_terminal(*s);
}

}  // namespace

ServerMetrics::ServerMetrics(metrics::Registry& registry)
    : registry_(registry),
      requests_(registry.counter("flowpilot_http_requests_total",
                                 "HTTP requests answered, by method, route pattern and status",
                                 {"method", "route", "status"})),
      request_seconds_(registry.histogram("flowpilot_http_request_duration_seconds",
                                          "Time from a request's arrival at the router to its answer",
                                          {"method", "route"})),
      runs_(registry.counter("flowpilot_runs_total", "Runs that reached a final state",
                             {"workflow", "status"})),
      steps_(registry.counter("flowpilot_steps_total",
                              "Steps and foreach items that reached a final state",
                              {"workflow", "status"})),
      step_seconds_(registry.histogram("flowpilot_step_duration_seconds",
                                       "Time from a step's first start to its end", {"workflow"})),
      commit_seconds_(registry.histogram("flowpilot_store_commit_duration_seconds",
                                         "Duration of the store's group commits, fsync included")),
      commit_batches_(registry.histogram("flowpilot_store_commit_batches",
                                         "Write batches carried by one group commit",
                                         {}, {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024})),
      plugin_http_(registry.counter("flowpilot_plugin_http_requests_total",
                                    "Outbound HTTP requests made for plugins, by host and status",
                                    {"host", "status"})) {}

void ServerMetrics::observe_request(const RequestSummary& r) {
  const std::string route = r.route.empty() ? "unmatched" : r.route;
  const std::string method(method_name(r.method));
  requests_.with({method, route, std::to_string(r.status)}).inc();
  request_seconds_.with({method, route}).observe(r.seconds);
}

void ServerMetrics::observe_event(const engine::RunEvent& e) {
  if (e.kind == engine::RunEvent::Kind::run) {
    if (terminal_run(e.status)) runs_.with({e.workflow_id, e.status}).inc();
    return;
  }
  if (!terminal_step(e.status)) return;
  steps_.with({e.workflow_id, e.status}).inc();
  if (e.index < 0 && e.started_at > 0 && e.finished_at >= e.started_at) {
    step_seconds_.with({e.workflow_id}).observe(double(e.finished_at - e.started_at) / 1000.0);
  }
}

void ServerMetrics::observe_commit(std::chrono::duration<double> seconds, std::size_t batches) {
  commit_seconds_.with({}).observe(seconds.count());
  commit_batches_.with({}).observe(static_cast<double>(batches));
}

void ServerMetrics::set_sources(const engine::Executor* executor, const engine::HttpClient* http) {
  http_ = http;
  if (executor != nullptr) {
    auto& active = registry_.gauge("flowpilot_runs_active", "Runs the executor holds now");
    active.set_callback({}, [executor] { return double(executor->stats().runs_active); });
    auto& queued = registry_.gauge("flowpilot_runs_queued",
                                   "Runs waiting for a concurrency slot of their workflow");
    queued.set_callback({}, [executor] { return double(executor->stats().runs_queued); });
  }
}

// The HTTP client keeps its own totals; the registry's counters are moved up to them.
void ServerMetrics::sync_http() {
  if (http_ == nullptr) return;
  std::lock_guard lock(http_mu_);
  auto advance = [&](const std::string& host, const std::string& status, double total) {
    double& seen = http_seen_[{host, status}];
    if (total > seen) {
      plugin_http_.with({host, status}).add(total - seen);
      seen = total;
    }
  };
  for (const auto& h : http_->metrics()) {
    for (const auto& [status, count] : h.by_status) {
      advance(h.host, std::to_string(status), double(count));
    }
    if (h.errors > 0) advance(h.host, "error", double(h.errors));
    if (h.refused > 0) advance(h.host, "refused", double(h.refused));
  }
}

void ServerMetrics::add_route(Router& router, std::string token) {
  router.add(Method::kGet, "/metrics", Access::open(), [this, token = std::move(token)](const Request& request) {
    if (!token.empty()) {
      const std::string expected = "Bearer " + token;
      auto given = request.headers.get("Authorization");
      const bool ok = given && given->size() == expected.size() &&
                      sodium_memcmp(given->data(), expected.data(), expected.size()) == 0;
      if (!ok) {
        Response r = problem_json(401, "Unauthorized", "/metrics needs its bearer token",
                                  boost::json::object{{"instance", "/metrics"}});
        r.headers.set("WWW-Authenticate", "Bearer");
        return r;
      }
    }
    sync_http();
    Response r;
    r.headers.set("Content-Type", std::string(metrics::kContentType));
    r.body = registry_.render();
    return r;
  });
}

}  // namespace flowpilot::web
