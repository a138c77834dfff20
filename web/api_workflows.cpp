// /api/v1/workflows and /api/v1/validate: the catalog over HTTP, and starting runs.
#include "web/api.h"
#include "web/detail/api_support.h"

#include <boost/json.hpp>

#include <limits>
#include <map>

namespace flowpilot::web {

namespace json = boost::json;
using namespace api_detail;  // NOLINT(google-build-using-namespace): a .cpp's own helpers

namespace {

Response entry_response(int status, const engine::CatalogEntry& entry) {
  Response r = json_response(status, workflow_detail_json(entry));
  if (status == 201) r.headers.set("Location", "/api/v1/workflows/" + entry.record.id);
  return r;
}

Response save(const ApiServices& api, const Request& request, std::string_view expected_id,
              bool create_only) {
  // ?enabled=false creates a draft: saved and runnable by hand, but with no live triggers yet.
  bool enable_if_new = true;
  if (const auto enabled = request.query_value("enabled")) {
    if (*enabled != "true" && *enabled != "false") {
      return problem(request, 400, "Bad query", "`enabled` is `" + *enabled + "`, not true or false",
                     json::array{json::object{{"path", "enabled"}, {"message", "must be true or false"}}});
    }
    enable_if_new = *enabled == "true";
  }
  auto body = definition_body(request);
  if (auto* error = std::get_if<Response>(&body)) return std::move(*error);
  const auto& definition = std::get<DefinitionText>(body);
  auto result = api.catalog.save(definition.text, definition.format, expected_id, create_only,
                                 enable_if_new);
  if (!result.ok()) return catalog_problem(request, result);
  Response r = entry_response(result.created ? 201 : 200, *result.entry);
  r.audit = json::object{{"target", result.entry->record.id},
                         {"revision", result.entry->record.revision},
                         {"version", result.entry->record.current_version},
                         {"changed", result.changed}};
  return r;
}

Response start_run(const ApiServices& api, const Request& request) {
  auto entry = api.catalog.get(request.params.at("id"));
  if (!entry) return problem(request, 404, "Not found", "no workflow `" + request.params.at("id") + "`");
  auto parsed = json_body(request);
  if (auto* error = std::get_if<Response>(&parsed)) return std::move(*error);
  const json::value& body = std::get<json::value>(parsed);
  if (!body.is_object()) {
    return problem(request, 422, "Invalid request", "the body must be a JSON object");
  }
  engine::RunRequest run;
  run.workflow = entry->workflow;
  json::array errors;
  for (const auto& [key, value] : body.get_object()) {
    if (key == "inputs") {
      if (value.is_object()) run.inputs = value.get_object();
      else errors.push_back(json::object{{"path", "inputs"}, {"message", "must be an object"}});
    } else if (key == "dry_run") {
      if (value.is_bool()) run.dry_run = value.get_bool();
      else errors.push_back(json::object{{"path", "dry_run"}, {"message", "must be a boolean"}});
    } else if (key == "idempotency_key") {
      if (value.is_string() && !value.get_string().empty() && value.get_string().size() <= 200) {
        run.idempotency_key = std::string(value.get_string());
      } else {
        errors.push_back(json::object{{"path", "idempotency_key"},
                                      {"message", "must be a string of 1 to 200 characters"}});
      }
    } else {
      errors.push_back(json::object{
          {"path", key}, {"message", "unknown member; expected inputs, dry_run, idempotency_key"}});
    }
  }
  if (auto header = request.headers.get("Idempotency-Key"); header && run.idempotency_key.empty()) {
    if (header->empty() || header->size() > 200) {
      errors.push_back(json::object{{"path", "Idempotency-Key"},
                                    {"message", "must have 1 to 200 characters"}});
    } else {
      run.idempotency_key = std::string(*header);
    }
  }
  if (!errors.empty()) {
    return problem(request, 422, "Invalid request", "the run request has invalid members",
                   std::move(errors));
  }
  if (!run.idempotency_key.empty()) run.idempotency_key = "api:" + run.idempotency_key;
  run.trigger = json::object{{"type", "api"},
                             {"user", request.principal ? request.principal->email : ""},
                             {"body", nullptr},
                             {"headers", json::object()},
                             {"query", json::object()}};
  const bool dry_run = run.dry_run;
  try {
    const engine::StartedRun started = api.executor.start(std::move(run));
    Response r = json_response(started.created ? 201 : 200,
                               json::object{{"run_id", started.run_id},
                                            {"created", started.created},
                                            {"url", "/api/v1/runs/" + started.run_id}});
    r.headers.set("Location", "/api/v1/runs/" + started.run_id);
    r.audit = json::object{{"target", started.run_id},
                           {"workflow_id", request.params.at("id")},
                           {"created", started.created},
                           {"dry_run", dry_run}};
    return r;
  } catch (const engine::InputError& e) {
    json::array problems;
    for (const auto& p : e.problems()) {
      problems.push_back(json::object{{"path", "inputs"}, {"message", p}});
    }
    return problem(request, 422, "Invalid inputs", "the run's inputs do not match the workflow",
                   std::move(problems));
  }
}

}  // namespace

void add_workflow_routes(Router& router, const ApiServices& api) {
  router.add(Method::kGet, "/api/v1/workflows", Access::needs(engine::Permission::workflows_read).reaching(Access::Reach::by_handler), [&api](const Request& request) {
    // The UI's list shows each workflow's last run and its success rate over 30 days.
    constexpr engine::EpochMillis kSuccessWindow = 30LL * 24 * 3600 * 1000;
    std::map<std::string, engine::WorkflowRunSummary> run_summaries;
    for (auto& summary : api.store.summarize_runs(engine::now_millis() - kSuccessWindow)) {
      run_summaries.emplace(summary.workflow_id, std::move(summary));
    }
    json::array items;
    for (const auto& entry : api.catalog.list()) {
      if (request.principal && !request.principal->reaches(entry.record.id)) continue;
      json::object item = workflow_summary_json(entry);
      item["last_run"] = nullptr;
      item["success_rate"] = nullptr;
      if (const auto found = run_summaries.find(entry.record.id); found != run_summaries.end()) {
        const auto& summary = found->second;
        if (summary.last_run) {
          item["last_run"] = json::object{{"id", summary.last_run->id},
                                          {"status", engine::to_string(summary.last_run->status)},
                                          {"created_at", summary.last_run->created_at}};
        }
        if (summary.finished > 0) {
          item["success_rate"] = static_cast<double>(summary.succeeded) / summary.finished;
        }
      }
      items.push_back(std::move(item));
    }
    json::array problems;
    // Files that failed to load name no workflow a limited token could be checked against.
    const bool limited = request.principal && request.principal->limited_to_workflows();
    for (const auto& p : limited ? std::vector<engine::FileProblem>{} : api.catalog.problems()) {
      problems.push_back(json::object{{"file", p.file}, {"errors", diagnostics_json(p.diagnostics)}});
    }
    return json_response(200, json::object{{"items", std::move(items)},
                                           {"problems", std::move(problems)}});
  });
  router.add(Method::kPost, "/api/v1/workflows", Access::needs(engine::Permission::workflows_write, "workflow.create"), [&api](const Request& request) {
    return save(api, request, "", true);
  });
  router.add(Method::kGet, "/api/v1/workflows/{id}", Access::needs(engine::Permission::workflows_read).reaching(Access::Reach::workflow), [&api](const Request& request) {
    auto entry = api.catalog.get(request.params.at("id"));
    if (!entry) return problem(request, 404, "Not found", "no workflow `" + request.params.at("id") + "`");
    return entry_response(200, *entry);
  });
  router.add(Method::kPut, "/api/v1/workflows/{id}", Access::needs(engine::Permission::workflows_write, "workflow.update").reaching(Access::Reach::workflow), [&api](const Request& request) {
    return save(api, request, request.params.at("id"), false);
  });
  router.add(Method::kDelete, "/api/v1/workflows/{id}", Access::needs(engine::Permission::workflows_write, "workflow.delete").reaching(Access::Reach::workflow), [&api](const Request& request) {
    auto result = api.catalog.remove(request.params.at("id"));
    if (!result.ok()) return catalog_problem(request, result);
    Response r;
    r.status = 204;
    return r;
  });
  router.add(Method::kGet, "/api/v1/workflows/{id}/versions", Access::needs(engine::Permission::workflows_read).reaching(Access::Reach::workflow), [&api](const Request& request) {
    auto entry = api.catalog.get(request.params.at("id"));
    if (!entry) return problem(request, 404, "Not found", "no workflow `" + request.params.at("id") + "`");
    json::array items;
    for (const auto& rev : api.catalog.revisions(entry->record.id)) {
      items.push_back(json::object{{"revision", rev.revision},
                                   {"version", rev.version},
                                   {"note", rev.note},
                                   {"created_at", rev.created_at},
                                   {"current", rev.revision == entry->record.revision}});
    }
    return json_response(200, json::object{{"items", std::move(items)}});
  });
  router.add(Method::kGet, "/api/v1/workflows/{id}/versions/{revision}", Access::needs(engine::Permission::workflows_read).reaching(Access::Reach::workflow),
             [&api](const Request& request) {
               const std::string& id = request.params.at("id");
               const std::string& wanted = request.params.at("revision");
               for (const auto& rev : api.catalog.revisions(id)) {
                 if (std::to_string(rev.revision) != wanted) continue;
                 auto version = api.store.get_workflow_version(id, rev.version);
                 if (!version) break;
                 return json_response(200, json::object{{"revision", rev.revision},
                                                        {"version", rev.version},
                                                        {"note", rev.note},
                                                        {"created_at", rev.created_at},
                                                        {"format", version->format},
                                                        {"source_text", version->source_text}});
               }
               return problem(request, 404, "Not found",
                              "workflow `" + id + "` has no revision `" + wanted + "`");
             });
  router.add(Method::kPost, "/api/v1/workflows/{id}/rollback", Access::needs(engine::Permission::workflows_write, "workflow.rollback").reaching(Access::Reach::workflow), [&api](const Request& request) {
    auto parsed = json_body(request, false);
    if (auto* error = std::get_if<Response>(&parsed)) return std::move(*error);
    const json::value& body = std::get<json::value>(parsed);
    const json::value* revision =
        body.is_object() ? body.get_object().if_contains("revision") : nullptr;
    if (revision == nullptr || !revision->is_int64() || revision->get_int64() < 1 ||
        revision->get_int64() > std::numeric_limits<int>::max()) {
      return problem(request, 422, "Invalid request", "`revision` must be a revision number",
                     json::array{json::object{{"path", "revision"},
                                              {"message", "must be an integer >= 1"}}});
    }
    auto result = api.catalog.rollback(request.params.at("id"),
                                       static_cast<int>(revision->get_int64()));
    if (!result.ok()) return catalog_problem(request, result);
    Response r = entry_response(200, *result.entry);
    r.audit = json::object{{"to_revision", revision->get_int64()},
                           {"revision", result.entry->record.revision}};
    return r;
  });
  for (const bool enable : {true, false}) {
    router.add(Method::kPost, enable ? "/api/v1/workflows/{id}/enable" : "/api/v1/workflows/{id}/disable",
               Access::needs(engine::Permission::workflows_write,
                             enable ? "workflow.enable" : "workflow.disable").reaching(Access::Reach::workflow),
               [&api, enable](const Request& request) {
                 auto result = api.catalog.set_enabled(request.params.at("id"), enable);
                 if (!result.ok()) return catalog_problem(request, result);
                 return json_response(200, workflow_summary_json(*result.entry));
               });
  }
  router.add(Method::kPost, "/api/v1/workflows/{id}/runs", Access::needs(engine::Permission::runs_write, "run.start").reaching(Access::Reach::workflow), [&api](const Request& request) {
    return start_run(api, request);
  });
  router.add(Method::kPost, "/api/v1/validate", Access::needs(engine::Permission::workflows_read).reaching(Access::Reach::anywhere), [&api](const Request& request) {
    auto body = definition_body(request);
    if (auto* error = std::get_if<Response>(&body)) return std::move(*error);
    const auto& definition = std::get<DefinitionText>(body);
    engine::LoadContext ctx = api.load_context;
    ctx.allow_program_files = false;
    auto result = engine::load_workflow_source(definition.text, "api", definition.format, ctx);
    json::object answer{{"valid", result.ok()}, {"errors", diagnostics_json(result.diagnostics)}};
    if (result.ok()) {
      answer["workflow"] =
          workflow_detail_json(engine::CatalogEntry{engine::WorkflowRecord{}, result.workflow});
    }
    return json_response(200, answer);
  });
}

}  // namespace flowpilot::web
