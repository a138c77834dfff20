// Shared pieces of the /api/v1 handlers: request body and query parsing that answer bad input
// with a problem naming the field, and the JSON shapes of records (one place, so that every route
// shows a run or a workflow the same way, as web/openapi.json describes).
#pragma once

#include "engine/catalog/workflow_catalog.h"
#include "engine/model/workflow.h"
#include "engine/store/store.h"
#include "web/http_types.h"

#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace flowpilot::web::api_detail {

// ASCII lowercase (header names, media types).
std::string ascii_lowercase(std::string_view s);
// The request's media type without parameters, lowercased:
// "application/json; charset=utf-8" -> "application/json"; empty without a Content-Type.
std::string media_type(const Request& request);
// application/json, or any type ending in +json.
bool is_json_type(std::string_view type);
// The 1-based line and column of byte `offset` in `text` (where a parser stopped).
std::pair<int, int> line_column(std::string_view text, std::size_t offset);

// For a token limited to some workflows (Principal::workflows): a 403 problem when `workflow_id`
// is not one of them; nullopt when the caller may reach it.
std::optional<Response> beyond_reach(const Request& request, std::string_view workflow_id);

// A problem with `instance` set to the request's path as sent and, when given, `errors`.
Response problem(const Request& request, int status, std::string_view title,
                 std::string_view detail, boost::json::array errors = {});

// The body as JSON. An empty body is an empty object when `empty_is_object`. Otherwise a 400
// problem saying where the JSON breaks (line and column), or a 415 when the Content-Type is
// neither absent nor JSON.
std::variant<boost::json::value, Response> json_body(const Request& request,
                                                     bool empty_is_object = true);

// A workflow definition sent for saving or validation, by Content-Type.
struct DefinitionText {
  std::string text;
  std::string format;  // "yaml" or "lua"
};
std::variant<DefinitionText, Response> definition_body(const Request& request);

// Query parameters: nullopt when absent; a 400 problem naming the parameter when malformed.
std::variant<std::optional<long long>, Response> query_integer(const Request& request,
                                                               std::string_view name,
                                                               long long min, long long max);

// Diagnostics as [{line, column, message, suggestion?}], for problems and validation answers.
boost::json::array diagnostics_json(const std::vector<engine::Diagnostic>& diagnostics);

boost::json::object workflow_summary_json(const engine::CatalogEntry& entry);
boost::json::object workflow_detail_json(const engine::CatalogEntry& entry);
boost::json::object run_json(const engine::RunRecord& run);
boost::json::object step_json(const engine::StepRecord& step);
boost::json::object attempt_json(const engine::AttemptRecord& attempt);
boost::json::object approval_json(const engine::ApprovalRecord& approval,
                                  const std::string& workflow_id);
boost::json::object log_json(const engine::LogRecord& log);

// The status for a failed catalog operation (invalid 422, not_found 404, conflict 409,
// read_only 409) with the diagnostics as `errors`.
Response catalog_problem(const Request& request, const engine::CatalogResult& result);

}  // namespace flowpilot::web::api_detail

namespace flowpilot::web {
struct ApiServices;
class Router;
// The route groups of add_api_routes, one per file.
void add_workflow_routes(Router& router, const ApiServices& api);
void add_run_routes(Router& router, const ApiServices& api);
void add_connection_routes(Router& router, const ApiServices& api);
void add_file_routes(Router& router, const ApiServices& api);
void add_kpi_routes(Router& router, const ApiServices& api);
}  // namespace flowpilot::web
