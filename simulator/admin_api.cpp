// The loopback admin routes under /_sim/: state, reset, faults and rate budgets.
#include "simulator/detail/state.h"

namespace flowpilot::simulator::detail {

namespace {

namespace json = boost::json;

json::object fault_json(const Fault& f) {
  json::object o{{"kind", fault_kind_name(f.kind)},
                 {"vendor", f.vendor ? vendor_name(*f.vendor) : "*"},
                 {"path", f.path},
                 {"count", f.count}};
  if (f.kind == FaultKind::kServerError) o["status"] = f.status;
  if (f.kind == FaultKind::kSlow) o["delay_ms"] = f.delay.count();
  return o;
}

json::object state_json(Simulator::State& state, const web::Request& request) {
  const std::string host(request.headers.get("Host").value_or("127.0.0.1"));
  json::object base_urls;
  for (Vendor v : kAllVendors)
    base_urls[vendor_name(v)] = "http://" + host + std::string(vendor_prefix(v));
  std::lock_guard lock(state.mutex);
  json::array campaigns, messages, faults;
  for (const auto& [id, c] : state.campaigns) {
    campaigns.push_back(json::object{{"platform", c.platform},
                                     {"account_id", c.account_id},
                                     {"id", c.id},
                                     {"name", c.name},
                                     {"status", c.status},
                                     {"daily_budget", c.daily_budget}});
  }
  for (const auto& m : state.messages) {
    json::object o{{"via", m.via}, {"channel", m.channel}, {"text", m.text}, {"ts", m.ts}};
    if (!m.blocks_json.empty()) o["blocks"] = json::parse(m.blocks_json);
    if (!m.thread_ts.empty()) o["thread_ts"] = m.thread_ts;
    messages.push_back(std::move(o));
  }
  for (const auto& f : state.faults) faults.push_back(fault_json(f));
  json::object counts, budgets;
  for (const auto& [k, v] : state.counts) counts[k] = v;
  for (const auto& [k, b] : state.budgets) {
    budgets[k] = json::object{{"calls", b.calls}, {"window_ms", b.window.count()}};
  }
  return json::object{{"seed", state.options.seed},
                      {"today", state.dataset.last_date()},
                      {"first_date", state.dataset.first_date()},
                      {"base_urls", base_urls},
                      {"campaigns", campaigns},
                      {"slack_messages", messages},
                      {"request_counts", counts},
                      {"faults", faults},
                      {"rate_limits", budgets}};
}

std::optional<json::object> body_object(const web::Request& request, web::Response& error) {
  boost::system::error_code ec;
  auto value = json::parse(request.body, ec);
  if (ec || !value.is_object()) {
    error = web::problem_json(400, "Bad request", "the body must be a JSON object");
    return std::nullopt;
  }
  return value.as_object();
}

}  // namespace

void register_admin(Simulator::State& state) {
  auto& router = state.router;
  router.add(web::Method::kGet, "/_sim/state", web::Access::open(), [&state](const web::Request& request) {
    return json_answer(200, state_json(state, request));
  });
  router.add(web::Method::kPost, "/_sim/reset", web::Access::open(), [&state](const web::Request&) {
    std::lock_guard lock(state.mutex);
    state.reset_locked();
    return json_answer(200, json::object{{"ok", true}});
  });
  router.add(web::Method::kGet, "/_sim/faults", web::Access::open(), [&state](const web::Request&) {
    std::lock_guard lock(state.mutex);
    json::array faults;
    for (const auto& f : state.faults) faults.push_back(fault_json(f));
    return json_answer(200, json::object{{"faults", faults}});
  });
  router.add(web::Method::kPost, "/_sim/faults", web::Access::open(), [&state](const web::Request& request) {
    web::Response error;
    auto body = body_object(request, error);
    if (!body) return error;
    auto text = [&](std::string_view key) -> std::string {
      const json::value* v = body->if_contains(key);
      return v && v->is_string() ? std::string(v->as_string()) : std::string();
    };
    auto number = [&](std::string_view key, std::int64_t fallback) -> std::optional<std::int64_t> {
      const json::value* v = body->if_contains(key);
      if (!v) return fallback;
      if (v->is_int64()) return v->as_int64();
      return std::nullopt;
    };
    for (const char* key : {"count", "status", "delay_ms"}) {
      if (!number(key, 0)) {
        return web::problem_json(400, "Bad request", std::string(key) + ": must be an integer");
      }
    }
    try {
      Fault fault = make_fault(text("kind"), text("vendor"), text("path"), *number("count", 1),
                               *number("status", 500), *number("delay_ms", 0));
      std::lock_guard lock(state.mutex);
      state.faults.push_back(fault);
      return json_answer(201, fault_json(fault));
    } catch (const std::invalid_argument& e) {
      return web::problem_json(400, "Bad request", e.what());
    }
  });
  router.add(web::Method::kDelete, "/_sim/faults", web::Access::open(), [&state](const web::Request&) {
    std::lock_guard lock(state.mutex);
    state.faults.clear();
    return json_answer(200, json::object{{"faults", json::array{}}});
  });
  router.add(web::Method::kPut, "/_sim/rate-limits/{vendor}", web::Access::open(),
             [&state](const web::Request& request) {
               auto vendor = parse_vendor(request.params.at("vendor"));
               if (!vendor) {
                 return web::problem_json(404, "Not found",
                                          "unknown vendor `" + request.params.at("vendor") + "`");
               }
               web::Response error;
               auto body = body_object(request, error);
               if (!body) return error;
               const json::value* calls = body->if_contains("calls");
               const json::value* window = body->if_contains("window_ms");
               if (!calls || !calls->is_int64() || calls->as_int64() < 0) {
                 return web::problem_json(400, "Bad request",
                                          "calls: must be an integer >= 0 (0: unlimited)");
               }
               if (!window || !window->is_int64() || window->as_int64() < 1) {
                 return web::problem_json(400, "Bad request", "window_ms: must be an integer >= 1");
               }
               const std::string name(vendor_name(*vendor));
               RateBudget budget{static_cast<int>(calls->as_int64()),
                                 std::chrono::milliseconds(window->as_int64())};
               std::lock_guard lock(state.mutex);
               state.set_budget_locked(*vendor, budget);
               return json_answer(200, json::object{{"vendor", name},
                                                    {"calls", budget.calls},
                                                    {"window_ms", budget.window.count()}});
             });
}

}  // namespace flowpilot::simulator::detail
