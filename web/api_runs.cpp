// /api/v1/runs, /api/v1/approvals, /api/v1/events: runs and what can be done with them.
#include "web/api.h"
#include "web/detail/api_support.h"
#include "web/detail/personal_data.h"

#include "engine/schedule/cron.h"

#include <boost/json.hpp>

#include <charconv>
#include <map>

namespace flowpilot::web {

namespace json = boost::json;
using namespace api_detail;  // NOLINT(google-build-using-namespace): a .cpp's own helpers

namespace {

constexpr long long kMaxPage = 500;

Response no_run(const Request& request) {
  return problem(request, 404, "Not found", "no run `" + request.params.at("id") + "`");
}

// `from` / `to`: ISO-8601 with an offset, or milliseconds since the epoch.
std::variant<engine::EpochMillis, Response> time_param(const Request& request,
                                                       std::string_view name) {
  auto text = request.query_value(name);
  if (!text || text->empty()) return engine::EpochMillis{0};
  long long ms = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), ms);
  if (ec == std::errc() && end == text->data() + text->size() && ms >= 0) return ms;
  if (auto t = engine::parse_iso8601(*text, "UTC")) {
    return static_cast<engine::EpochMillis>(t->time_since_epoch().count()) * 1000;
  }
  return problem(request, 400, "Invalid query parameter",
                 "`" + std::string(name) + "` must be an ISO-8601 time (2026-03-01T00:00:00Z) or "
                 "milliseconds since the epoch, not `" + *text + "`",
                 json::array{json::object{{"path", name}, {"message", "not a time"}}});
}

Response list_runs(const ApiServices& api, const PersonalData& personal, const Request& request) {
  engine::RunFilter filter;
  filter.workflow_id = request.query_value("workflow").value_or("");
  const bool limited = request.principal && request.principal->limited_to_workflows();
  if (limited && !filter.workflow_id.empty()) {
    if (auto refused = beyond_reach(request, filter.workflow_id)) return std::move(*refused);
  } else if (limited && request.principal->workflows.size() == 1) {
    filter.workflow_id = request.principal->workflows.front();
  }
  if (auto status = request.query_value("status"); status && !status->empty()) {
    filter.status = engine::parse_run_status(*status);
    if (!filter.status) {
      return problem(request, 400, "Invalid query parameter",
                     "`status` must be one of queued, running, succeeded, failed, cancelled, "
                     "timed_out, not `" + *status + "`",
                     json::array{json::object{{"path", "status"}, {"message", "unknown status"}}});
    }
  }
  filter.trigger_type = request.query_value("trigger").value_or("");
  auto limit = query_integer(request, "limit", 1, kMaxPage);
  if (auto* error = std::get_if<Response>(&limit)) return std::move(*error);
  filter.limit = static_cast<int>(std::get<std::optional<long long>>(limit).value_or(50));
  auto from = time_param(request, "from");
  if (auto* error = std::get_if<Response>(&from)) return std::move(*error);
  auto to = time_param(request, "to");
  if (auto* error = std::get_if<Response>(&to)) return std::move(*error);
  filter.created_from = std::get<engine::EpochMillis>(from);
  filter.created_to = std::get<engine::EpochMillis>(to);
  filter.before_id = request.query_value("cursor").value_or("");
  const auto runs = api.store.list_runs(filter);
  json::array items;
  PersonalData::ListReads reads;
  for (const auto& run : runs) {
    // A token limited to several workflows sees only theirs; a page may then hold fewer runs.
    if (limited && !request.principal->reaches(run.workflow_id)) continue;
    items.push_back(personal.list_item(request, personal.of_run(run), run_json(run), run.id, reads));
  }
  json::object body{{"items", std::move(items)}};
  if (static_cast<long long>(runs.size()) == filter.limit) body["next_cursor"] = runs.back().id;
  Response response = json_response(200, body);
  PersonalData::record_list_reads(request, reads, "runs", response);
  return response;
}

Response run_detail(const ApiServices& api, const PersonalData& personal, const Request& request) {
  auto run = api.store.get_run(request.params.at("id"));
  if (!run) return no_run(request);
  if (auto refused = beyond_reach(request, run->workflow_id)) return std::move(*refused);
  const auto steps = api.store.get_steps(run->id);
  const auto attempts = api.store.get_attempts(run->id);
  // Foreach items are summarised per step here and listed by /steps/{step_id}/items, so that a
  // 100,000-item fan-out does not make this answer huge.
  std::map<std::string, json::object> item_counts;
  std::map<std::string, json::array> attempts_of;
  for (const auto& a : attempts) {
    if (a.index < 0) attempts_of[a.step_id].push_back(attempt_json(a));
  }
  for (const auto& s : steps) {
    if (s.index < 0) continue;
    json::object& counts = item_counts[s.step_id];
    const std::string key(engine::to_string(s.status));
    counts[key] = (counts.contains(key) ? counts[key].as_int64() : 0) + 1;
  }
  json::array step_items;
  for (const auto& s : steps) {
    if (s.index >= 0) continue;
    json::object o = step_json(s);
    o["attempts"] = attempts_of.count(s.step_id) ? attempts_of[s.step_id] : json::array();
    if (item_counts.count(s.step_id)) o["items"] = item_counts[s.step_id];
    step_items.push_back(std::move(o));
  }
  json::array approvals;
  for (const auto& s : steps) {
    if (s.index >= 0) continue;
    if (auto a = api.store.get_approval(run->id, s.step_id)) {
      approvals.push_back(approval_json(*a, run->workflow_id));
    }
  }
  json::object body = run_json(*run);
  body["trigger"] = run->trigger;
  body["steps"] = std::move(step_items);
  body["approvals"] = std::move(approvals);
  return personal.answer(request, personal.of_run(*run, steps), body, run->id);
}

Response step_items(const ApiServices& api, const PersonalData& personal, const Request& request) {
  auto run = api.store.get_run(request.params.at("id"));
  if (!run) return no_run(request);
  if (auto refused = beyond_reach(request, run->workflow_id)) return std::move(*refused);
  auto offset = query_integer(request, "offset", 0, 1LL << 40);
  if (auto* error = std::get_if<Response>(&offset)) return std::move(*error);
  auto limit = query_integer(request, "limit", 1, kMaxPage);
  if (auto* error = std::get_if<Response>(&limit)) return std::move(*error);
  const long long first = std::get<std::optional<long long>>(offset).value_or(0);
  const long long count = std::get<std::optional<long long>>(limit).value_or(100);
  const std::string& step_id = request.params.at("step_id");
  json::array items;
  long long total = 0;
  bool known = false;
  const auto steps = api.store.get_steps(run->id);
  for (const auto& s : steps) {
    if (s.step_id != step_id) continue;
    known = true;
    if (s.index < 0) continue;
    if (total >= first && total < first + count) items.push_back(step_json(s));
    ++total;
  }
  if (!known) {
    return problem(request, 404, "Not found",
                   "run `" + run->id + "` has no recorded step `" + step_id + "`");
  }
  json::object body{{"items", std::move(items)}, {"total", total}, {"offset", first}};
  return personal.answer(request, personal.of_run(*run, steps), body, run->id);
}

Response run_logs(const ApiServices& api, const PersonalData& personal, const Request& request) {
  auto run = api.store.get_run(request.params.at("id"));
  if (!run) return no_run(request);
  if (auto refused = beyond_reach(request, run->workflow_id)) return std::move(*refused);
  auto offset = query_integer(request, "offset", 0, 1LL << 40);
  if (auto* error = std::get_if<Response>(&offset)) return std::move(*error);
  auto limit = query_integer(request, "limit", 1, 5000);
  if (auto* error = std::get_if<Response>(&limit)) return std::move(*error);
  const long long first = std::get<std::optional<long long>>(offset).value_or(0);
  const long long count = std::get<std::optional<long long>>(limit).value_or(1000);
  const std::string step = request.query_value("step").value_or("");
  json::array items;
  long long total = 0;
  for (const auto& log : api.store.get_logs(run->id)) {
    if (!step.empty() && log.step_id != step) continue;
    if (total >= first && total < first + count) items.push_back(log_json(log));
    ++total;
  }
  return personal.answer(request, personal.of_run(*run),
                         json::object{{"items", std::move(items)}, {"total", total}, {"offset", first}},
                         run->id);
}

Response cancel_run(const ApiServices& api, const PersonalData& personal, const Request& request) {
  auto run = api.store.get_run(request.params.at("id"));
  if (!run) return no_run(request);
  if (auto refused = beyond_reach(request, run->workflow_id)) return std::move(*refused);
  auto parsed = json_body(request);
  if (auto* error = std::get_if<Response>(&parsed)) return std::move(*error);
  const json::value& body = std::get<json::value>(parsed);
  std::string reason = "cancelled through the API";
  const auto* members = body.if_object();
  if (members == nullptr) {
    return problem(request, 422, "Invalid request", "the body must be a JSON object");
  }
  for (const auto& [key, value] : *members) {
    if (key != "reason" || !value.is_string()) {
      return problem(request, 422, "Invalid request",
                     "the body may only carry `reason` (a string)",
                     json::array{json::object{{"path", key},
                                              {"message", key == "reason" ? "must be a string"
                                                                          : "unknown member"}}});
    }
    reason = "cancelled: " + std::string(value.get_string());
  }
  if (engine::is_terminal(run->status)) {
    return problem(request, 409, "Already finished",
                   "run `" + run->id + "` has already finished (" +
                       std::string(engine::to_string(run->status)) + ")");
  }
  api.executor.cancel(run->id, reason);
  auto after = api.store.get_run(run->id);
  json::value answer = run_json(after ? *after : *run);
  // The cancellation is audited as such; a caller without pii:read gets the run masked.
  if (!(request.principal && request.principal->can(engine::Permission::pii_read))) {
    answer = personal.of_run(*run).mask(answer);
  }
  return json_response(202, answer);
}

Response restarted(const engine::StartedRun& started) {
  Response r = json_response(201, json::object{{"run_id", started.run_id},
                                               {"created", true},
                                               {"url", "/api/v1/runs/" + started.run_id}});
  r.headers.set("Location", "/api/v1/runs/" + started.run_id);
  return r;
}

Response retry_run(const ApiServices& api, const Request& request) {
  auto run = api.store.get_run(request.params.at("id"));
  if (!run) return no_run(request);
  if (auto refused = beyond_reach(request, run->workflow_id)) return std::move(*refused);
  try {
    return restarted(api.executor.restart(request.params.at("id"), ""));
  } catch (const std::invalid_argument& e) {
    return problem(request, 409, "Cannot retry", e.what());
  }
}

// Re-run: from a chosen step (reusing the outputs of the steps before it), or the whole workflow
// again with the same inputs, on its current definition.
Response rerun(const ApiServices& api, const Request& request) {
  auto run = api.store.get_run(request.params.at("id"));
  if (!run) return no_run(request);
  if (auto refused = beyond_reach(request, run->workflow_id)) return std::move(*refused);
  auto parsed = json_body(request);
  if (auto* error = std::get_if<Response>(&parsed)) return std::move(*error);
  const json::value& body = std::get<json::value>(parsed);
  std::string from_step;
  if (const auto* o = body.if_object()) {
    for (const auto& [key, value] : *o) {
      if (key == "from_step" && value.is_string() && !value.get_string().empty()) {
        from_step = std::string(value.get_string());
      } else if (key != "from_step" || !value.is_null()) {
        return problem(request, 422, "Invalid request",
                       "the body may only carry `from_step` (a step id)",
                       json::array{json::object{{"path", key}, {"message", "unexpected"}}});
      }
    }
  } else {
    return problem(request, 422, "Invalid request", "the body must be a JSON object");
  }
  try {
    if (!from_step.empty()) return restarted(api.executor.restart(run->id, from_step));
    std::shared_ptr<const engine::Workflow> workflow;
    if (auto entry = api.catalog.get(run->workflow_id)) workflow = entry->workflow;
    if (!workflow) {
      if (auto version = api.store.get_workflow_version(run->workflow_id, run->workflow_version)) {
        workflow = api.catalog.resolve(*version);
      }
    }
    if (!workflow) {
      return problem(request, 409, "Cannot re-run",
                     "workflow `" + run->workflow_id + "` is no longer known");
    }
    engine::RunRequest again;
    again.workflow = workflow;
    again.inputs = run->inputs.is_object() ? run->inputs.get_object() : json::object();
    again.dry_run = run->dry_run;
    again.trigger = json::object{{"type", "rerun"}, {"run_id", run->id}, {"step", nullptr},
                                 {"body", nullptr}, {"headers", json::object()},
                                 {"query", json::object()}};
    return restarted(api.executor.start(std::move(again)));
  } catch (const engine::InputError& e) {
    return problem(request, 409, "Cannot re-run",
                   "the run's inputs no longer fit the workflow: " +
                       (e.problems().empty() ? std::string() : e.problems().front()));
  } catch (const std::invalid_argument& e) {
    return problem(request, 409, "Cannot re-run", e.what());
  }
}

Response decide(const ApiServices& api, const PersonalData& personal, const Request& request,
                bool approve) {
  const std::string& run_id = request.params.at("run_id");
  const std::string& step_id = request.params.at("step_id");
  const auto run = api.store.get_run(run_id);
  if (run) {
    if (auto refused = beyond_reach(request, run->workflow_id)) return std::move(*refused);
  }
  auto approval = api.store.get_approval(run_id, step_id);
  if (!approval) {
    return problem(request, 404, "Not found",
                   "run `" + run_id + "` has no approval step `" + step_id + "`");
  }
  auto parsed = json_body(request);
  if (auto* error = std::get_if<Response>(&parsed)) return std::move(*error);
  const json::value& body = std::get<json::value>(parsed);
  std::string comment;
  const auto* o = body.if_object();
  if (o == nullptr) {
    return problem(request, 422, "Invalid request", "the body must be a JSON object");
  }
  {
    for (const auto& [key, value] : *o) {
      if (key == "comment" && value.is_string() && value.get_string().size() <= 2000) {
        comment = std::string(value.get_string());
      } else {
        return problem(request, 422, "Invalid request",
                       "the body may only carry `comment` (a string of at most 2000 characters)",
                       json::array{json::object{{"path", key}, {"message", "unexpected"}}});
      }
    }
  }
  if (approval->status != engine::ApprovalStatus::pending) {
    return problem(request, 409, "Already decided",
                   "the approval was already " + std::string(engine::to_string(approval->status)));
  }
  try {
    // The decision is the caller's: who decided comes from the credentials, never the body.
    api.executor.decide(run_id, step_id, approve,
                        request.principal ? request.principal->email : std::string("api"),
                        comment);
  } catch (const std::invalid_argument& e) {
    return problem(request, 409, "Not waiting", e.what());
  }
  auto after = api.store.get_approval(run_id, step_id);
  json::value answer = approval_json(after ? *after : *approval, run ? run->workflow_id : std::string());
  // The decision is audited as such; a caller without pii:read gets the message masked.
  if (run && !(request.principal && request.principal->can(engine::Permission::pii_read))) {
    answer = personal.of_run(*run).mask(answer);
  }
  return json_response(200, answer);
}

}  // namespace

LiveEvents::ErrorMask personal_data_masker(const ApiServices& api) {
  auto personal = std::make_shared<const PersonalData>(api.store, api.catalog, api.steps);
  return [personal](const std::string& run_id, const std::string& error) {
    return personal->mask_error(run_id, error);
  };
}

void add_run_routes(Router& router, const ApiServices& api) {
  auto personal = std::make_shared<const PersonalData>(api.store, api.catalog, api.steps);
  const auto reads_runs =
      Access::needs(engine::Permission::runs_read).reading_personal_data().reaching(Access::Reach::by_handler);
  // Runs and approvals belong to workflows: the handlers check a limited token's reach.
  const auto runs = [](engine::Permission p, std::string_view audit = {}) {
    return Access::needs(p, audit).reaching(Access::Reach::by_handler);
  };
  router.add(Method::kGet, "/api/v1/runs", reads_runs, [&api, personal](const Request& r) { return list_runs(api, *personal, r); });
  router.add(Method::kGet, "/api/v1/runs/{id}", reads_runs, [&api, personal](const Request& r) { return run_detail(api, *personal, r); });
  router.add(Method::kGet, "/api/v1/runs/{id}/steps/{step_id}/items", reads_runs,
             [&api, personal](const Request& r) { return step_items(api, *personal, r); });
  router.add(Method::kGet, "/api/v1/runs/{id}/logs", reads_runs, [&api, personal](const Request& r) { return run_logs(api, *personal, r); });
  router.add(Method::kPost, "/api/v1/runs/{id}/cancel", runs(engine::Permission::runs_write, "run.cancel"), [&api, personal](const Request& r) { return cancel_run(api, *personal, r); });
  router.add(Method::kPost, "/api/v1/runs/{id}/retry", runs(engine::Permission::runs_write, "run.retry"), [&api](const Request& r) { return retry_run(api, r); });
  router.add(Method::kPost, "/api/v1/runs/{id}/rerun", runs(engine::Permission::runs_write, "run.rerun"), [&api](const Request& r) { return rerun(api, r); });
  router.add(Method::kGet, "/api/v1/approvals", reads_runs, [&api, personal](const Request& request) {
    std::optional<engine::ApprovalStatus> status = engine::ApprovalStatus::pending;
    if (auto s = request.query_value("status"); s && !s->empty()) {
      if (*s == "all") {
        status.reset();
      } else {
        status = engine::parse_approval_status(*s);
        if (!status) {
          return problem(request, 400, "Invalid query parameter",
                         "`status` must be pending, approved, rejected, expired or all",
                         json::array{json::object{{"path", "status"}, {"message", "unknown status"}}});
        }
      }
    }
    json::array items;
    struct RunOf {
      std::string workflow_id;
      engine::PiiValues personal;
    };
    std::map<std::string, RunOf> runs;
    PersonalData::ListReads reads;
    for (const auto& a : api.store.list_approvals(status)) {
      auto it = runs.find(a.run_id);
      if (it == runs.end()) {
        RunOf of;
        if (auto run = api.store.get_run(a.run_id)) {
          of.workflow_id = run->workflow_id;
          of.personal = personal->of_run(*run);
        }
        it = runs.emplace(a.run_id, std::move(of)).first;
      }
      if (request.principal && !request.principal->reaches(it->second.workflow_id)) continue;
      items.push_back(personal->list_item(request, it->second.personal,
                                          approval_json(a, it->second.workflow_id), a.run_id, reads));
    }
    Response response = json_response(200, json::object{{"items", std::move(items)}});
    PersonalData::record_list_reads(request, reads, "approvals", response);
    return response;
  });
  router.add(Method::kPost, "/api/v1/approvals/{run_id}/{step_id}/approve", runs(engine::Permission::approvals, "approval.approve"),
             [&api, personal](const Request& r) { return decide(api, *personal, r, true); });
  router.add(Method::kPost, "/api/v1/approvals/{run_id}/{step_id}/reject", runs(engine::Permission::approvals, "approval.reject"),
             [&api, personal](const Request& r) { return decide(api, *personal, r, false); });
  if (api.events != nullptr) {
    // Events carry no outputs, only errors; those are masked for a caller without pii:read.
    auto masking = [personal](const Request& request) -> LiveEvents::ErrorMask {
      if (request.principal && request.principal->can(engine::Permission::pii_read)) return {};
      return [personal](const std::string& run_id, const std::string& error) {
        return personal->mask_error(run_id, error);
      };
    };
    router.add(Method::kGet, "/api/v1/runs/{id}/events", runs(engine::Permission::runs_read), [&api, masking](const Request& request) {
      if (auto run = api.store.get_run(request.params.at("id"))) {
        if (auto refused = beyond_reach(request, run->workflow_id)) return std::move(*refused);
      }
      return api.events->open(api.store, request.params.at("id"), "", request.path, masking(request));
    });
    router.add(Method::kGet, "/api/v1/events", runs(engine::Permission::runs_read), [&api, masking](const Request& request) {
      const std::string workflow = request.query_value("workflow").value_or("");
      if (request.principal && request.principal->limited_to_workflows()) {
        if (workflow.empty()) {
          return problem(request, 403, "Forbidden",
                         "this token sees only some workflows (" + limited_to_text(*request.principal) +
                             "); name one with `?workflow=`");
        }
        if (auto refused = beyond_reach(request, workflow)) return std::move(*refused);
      }
      return api.events->open(api.store, "", workflow, request.path, masking(request));
    });
  }
}

}  // namespace flowpilot::web
