#include "web/detail/api_support.h"
#include "web/router.h"

#include <boost/json/parse.hpp>
#include <boost/json/stream_parser.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace flowpilot::web::api_detail {

namespace json = boost::json;

namespace {

json::value or_null(const std::string& s) { return s.empty() ? json::value(nullptr) : json::value(s); }
json::value time_or_null(engine::EpochMillis t) { return t == 0 ? json::value(nullptr) : json::value(t); }

json::array triggers_json(const engine::Workflow& wf) {
  json::array out;
  for (const engine::Trigger& t : wf.triggers) {
    if (const auto* c = std::get_if<engine::CronTrigger>(&t)) {
      const char* catch_up = c->catch_up == engine::CatchUp::none     ? "none"
                             : c->catch_up == engine::CatchUp::latest ? "latest"
                                                                      : "all";
      out.push_back(json::object{{"type", "cron"},
                                 {"cron", c->expression},
                                 {"timezone", c->timezone},
                                 {"catch_up", catch_up}});
    } else if (const auto* w = std::get_if<engine::WebhookTrigger>(&t)) {
      static constexpr const char* kSchemes[] = {"none",   "token", "hmac-sha256",
                                                 "github", "slack", "stripe"};
      out.push_back(json::object{
          {"type", "webhook"},
          {"path", w->path},
          {"url", "/hooks/" + w->path},
          {"auth", kSchemes[static_cast<int>(w->scheme)]},
          {"respond", w->respond == engine::WebhookRespond::accepted ? "accepted" : "result"}});
    }
  }
  return out;
}

}  // namespace

std::string ascii_lowercase(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string media_type(const Request& request) {
  auto type = request.headers.get("Content-Type");
  if (!type) return {};
  std::string_view t = *type;
  t = t.substr(0, t.find(';'));
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.remove_suffix(1);
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) t.remove_prefix(1);
  return ascii_lowercase(t);
}

bool is_json_type(std::string_view type) {
  return type == "application/json" ||
         (type.size() > 5 && type.substr(type.size() - 5) == "+json");
}

std::pair<int, int> line_column(std::string_view text, std::size_t offset) {
  int line = 1;
  int column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

Response problem(const Request& request, int status, std::string_view title,
                 std::string_view detail, json::array errors) {
  // The path as sent, still percent-encoded: `instance` is a URI reference, and the decoded path
  // may hold any byte.
  json::object extra{{"instance", request.raw_path.empty() ? request.path : request.raw_path}};
  if (!errors.empty()) extra["errors"] = std::move(errors);
  return problem_json(status, title, detail, extra);
}

std::variant<json::value, Response> json_body(const Request& request, bool empty_is_object) {
  const std::string type = media_type(request);
  if (request.body.empty() && empty_is_object) return json::value(json::object());
  if (!type.empty() && !is_json_type(type)) {
    return problem(request, 415, "Unsupported media type",
                   "the body must be JSON (Content-Type: application/json), not `" + type + "`");
  }
  json::stream_parser parser;
  boost::system::error_code ec;
  const std::size_t used = parser.write(request.body.data(), request.body.size(), ec);
  if (!ec) parser.finish(ec);
  if (ec) {
    const auto [line, column] = line_column(request.body, ec ? used : request.body.size());
    return problem(request, 400, "Malformed JSON",
                   "the body is not valid JSON at line " + std::to_string(line) + ", column " +
                       std::to_string(column) + ": " + ec.message(),
                   json::array{json::object{{"path", ""},
                                            {"line", line},
                                            {"column", column},
                                            {"message", ec.message()}}});
  }
  return parser.release();
}

std::variant<DefinitionText, Response> definition_body(const Request& request) {
  const std::string type = media_type(request);
  if (request.body.empty()) {
    return problem(request, 400, "Missing definition",
                   "send the workflow definition as the body (YAML, JSON or Lua)");
  }
  if (type == "application/yaml" || type == "application/x-yaml" || type == "text/yaml" ||
      type == "text/x-yaml" || type == "text/plain" || type.empty()) {
    return DefinitionText{request.body, "yaml"};
  }
  if (type == "application/x-lua" || type == "text/x-lua" || type == "application/lua") {
    return DefinitionText{request.body, "lua"};
  }
  if (!is_json_type(type)) {
    return problem(request, 415, "Unsupported media type",
                   "send the definition as application/yaml, application/x-lua or "
                   "application/json, not `" + type + "`");
  }
  auto parsed = json_body(request, false);
  if (auto* error = std::get_if<Response>(&parsed)) return std::move(*error);
  const json::value& v = std::get<json::value>(parsed);
  // {"source": "...", "format": "yaml|lua"} wraps a definition's text; any other JSON object is
  // the definition itself (JSON is YAML, so line:column still point into the body).
  if (const auto* o = v.if_object(); o != nullptr && o->contains("source")) {
    const json::value& source = o->at("source");
    if (!source.is_string()) {
      return problem(request, 422, "Invalid request", "`source` must be the definition's text",
                     json::array{json::object{{"path", "source"},
                                              {"message", "must be a string"}}});
    }
    std::string format = "yaml";
    if (const auto* f = o->if_contains("format")) {
      if (!f->is_string() || (f->get_string() != "yaml" && f->get_string() != "lua")) {
        return problem(request, 422, "Invalid request", "`format` must be `yaml` or `lua`",
                       json::array{json::object{{"path", "format"},
                                                {"message", "must be yaml or lua"}}});
      }
      format = std::string(f->get_string());
    }
    for (const auto& [key, value] : *o) {
      if (key != "source" && key != "format") {
        return problem(request, 422, "Invalid request",
                       "unknown member `" + std::string(key) + "` next to `source`",
                       json::array{json::object{{"path", key}, {"message", "unknown member"}}});
      }
    }
    return DefinitionText{std::string(source.get_string()), format};
  }
  if (!v.is_object()) {
    return problem(request, 422, "Invalid request",
                   "a JSON definition must be an object with `id` and `steps`");
  }
  return DefinitionText{request.body, "yaml"};
}

std::variant<std::optional<long long>, Response> query_integer(const Request& request,
                                                               std::string_view name,
                                                               long long min, long long max) {
  auto text = request.query_value(name);
  if (!text) return std::optional<long long>();
  long long value = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size() || value < min || value > max) {
    return problem(request, 400, "Invalid query parameter",
                   "`" + std::string(name) + "` must be an integer from " + std::to_string(min) +
                       " to " + std::to_string(max) + ", not `" + *text + "`",
                   json::array{json::object{
                       {"path", name},
                       {"message", ec != std::errc() || end != text->data() + text->size()
                                       ? "not a whole number"
                                       : "out of range"}}});
  }
  return std::optional<long long>(value);
}

json::array diagnostics_json(const std::vector<engine::Diagnostic>& diagnostics) {
  json::array out;
  for (const auto& d : diagnostics) {
    json::object o{{"line", d.where.line}, {"column", d.where.column}, {"message", d.message}};
    if (!d.suggestion.empty()) o["suggestion"] = d.suggestion;
    out.push_back(std::move(o));
  }
  return out;
}

json::object workflow_summary_json(const engine::CatalogEntry& entry) {
  const engine::Workflow& wf = *entry.workflow;
  return json::object{{"id", wf.id},
                      {"name", wf.name.empty() ? wf.id : wf.name},
                      {"description", wf.description},
                      {"source", entry.record.source},
                      {"source_file", or_null(entry.record.source_file)},
                      {"enabled", entry.record.enabled},
                      {"revision", entry.record.revision},
                      {"version", entry.record.current_version},
                      {"triggers", triggers_json(wf)},
                      {"created_at", entry.record.created_at},
                      {"updated_at", entry.record.updated_at}};
}

json::object workflow_detail_json(const engine::CatalogEntry& entry) {
  const engine::Workflow& wf = *entry.workflow;
  json::object o = workflow_summary_json(entry);
  json::array inputs;
  static constexpr const char* kTypes[] = {"string", "number", "integer",
                                           "boolean", "object", "array"};
  for (const auto& in : wf.inputs) {
    json::object i{{"name", in.name},
                   {"type", kTypes[static_cast<int>(in.type)]},
                   {"required", in.required},
                   {"description", in.description}};
    if (in.default_value) i["default"] = *in.default_value;
    if (!in.unit.empty()) i["unit"] = in.unit;
    if (!in.connection_type.empty()) i["connection"] = in.connection_type;
    inputs.push_back(std::move(i));
  }
  auto steps_of = [](const std::vector<engine::StepSpec>& specs) {
    json::array steps;
    for (const auto& s : specs) {
      json::array needs;
      for (const auto& n : s.needs) needs.push_back(json::value(n));
      steps.push_back(json::object{{"id", s.id},
                                   {"name", s.name.empty() ? s.id : s.name},
                                   {"uses", s.uses},
                                   {"needs", std::move(needs)},
                                   {"foreach", !s.foreach.is_null()},
                                   {"if", or_null(s.if_expression)}});
    }
    return steps;
  };
  o["inputs"] = std::move(inputs);
  o["steps"] = steps_of(wf.steps);
  o["on_failure"] = steps_of(wf.on_failure);
  o["format"] = wf.source_format;
  o["source_text"] = wf.source_text;
  return o;
}

json::object run_json(const engine::RunRecord& run) {
  std::string trigger_type = "manual";
  if (const auto* t = run.trigger.is_object() ? run.trigger.get_object().if_contains("type")
                                              : nullptr;
      t != nullptr && t->is_string()) {
    trigger_type = std::string(t->get_string());
  }
  return json::object{{"id", run.id},
                      {"workflow_id", run.workflow_id},
                      {"workflow_version", run.workflow_version},
                      {"status", engine::to_string(run.status)},
                      {"trigger_type", trigger_type},
                      {"inputs", run.inputs},
                      {"outputs", run.outputs},
                      {"error", or_null(run.error)},
                      {"idempotency_key", or_null(run.idempotency_key)},
                      {"dry_run", run.dry_run},
                      {"rerun_of", or_null(run.rerun_of)},
                      {"created_at", run.created_at},
                      {"started_at", time_or_null(run.started_at)},
                      {"finished_at", time_or_null(run.finished_at)}};
}

std::optional<Response> beyond_reach(const Request& request, std::string_view workflow_id) {
  if (!request.principal || request.principal->reaches(workflow_id)) return std::nullopt;
  return problem(request, 403, "Forbidden",
                 "workflow `" + std::string(workflow_id) + "` is outside what this token may reach: " +
                     limited_to_text(*request.principal));
}

json::object step_json(const engine::StepRecord& step) {
  json::object o{{"step_id", step.step_id},
                 {"status", engine::to_string(step.status)},
                 {"attempt", step.attempt},
                 {"output", step.output},
                 {"error", or_null(step.error)},
                 {"started_at", time_or_null(step.started_at)},
                 {"finished_at", time_or_null(step.finished_at)}};
  if (step.index >= 0) o["index"] = step.index;
  if (step.item_count >= 0) o["item_count"] = step.item_count;
  return o;
}

json::object attempt_json(const engine::AttemptRecord& a) {
  json::object o{{"step_id", a.step_id},
                 {"attempt", a.attempt},
                 {"status", engine::to_string(a.status)},
                 {"input", a.input},
                 {"output", a.output},
                 {"error", or_null(a.error)},
                 {"started_at", time_or_null(a.started_at)},
                 {"finished_at", time_or_null(a.finished_at)}};
  if (a.index >= 0) o["index"] = a.index;
  return o;
}

json::object approval_json(const engine::ApprovalRecord& a, const std::string& workflow_id) {
  return json::object{{"run_id", a.run_id},
                      {"step_id", a.step_id},
                      {"workflow_id", workflow_id},
                      {"status", engine::to_string(a.status)},
                      {"message", a.message},
                      {"comment", or_null(a.comment)},
                      {"decided_by", or_null(a.decided_by)},
                      {"created_at", a.created_at},
                      {"decided_at", time_or_null(a.decided_at)},
                      {"expires_at", time_or_null(a.expires_at)}};
}

json::object log_json(const engine::LogRecord& log) {
  json::object o{{"at", log.at},
                 {"level", log.level},
                 {"message", log.message},
                 {"step_id", or_null(log.step_id)},
                 {"attempt", log.attempt}};
  if (log.index >= 0) o["index"] = log.index;
  return o;
}

Response catalog_problem(const Request& request, const engine::CatalogResult& result) {
  switch (result.code) {
    case engine::CatalogErrc::invalid:
      return problem(request, 422, "Invalid workflow", result.message,
                     diagnostics_json(result.diagnostics));
    case engine::CatalogErrc::not_found:
      return problem(request, 404, "Not found", result.message);
    case engine::CatalogErrc::conflict:
      return problem(request, 409, "Conflict", result.message);
    case engine::CatalogErrc::read_only:
      return problem(request, 409, "Defined in a file", result.message);
    case engine::CatalogErrc::ok:
      break;
  }
  return problem(request, 500, "Internal error", "unexpected catalog answer");
}

}  // namespace flowpilot::web::api_detail
