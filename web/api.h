// The REST API under /api/v1 (DESIGN.md §9): workflows and their versions, validation, runs and
// their steps, attempts and logs, retry and re-run, approvals, plugins, the cron preview,
// connections, the files the csv steps read (uploads), and server-sent events of run and step
// state changes. web/openapi.json describes every route; it is served at /api/v1/openapi.json
// and a test checks the answers against it.
//
// Conventions (docs/api.md):
//   - JSON in and out; errors are application/problem+json with `errors` naming the field
//     (`path`) or the definition's line and column;
//   - workflow definitions are sent as YAML (application/yaml), Lua (application/x-lua), or JSON
//     (application/json: the definition itself, or {"source": "...", "format": "yaml|lua"});
//   - the run list is newest first with cursor pagination: `limit` and `cursor` in,
//     `next_cursor` out whenever a page is full (a following page may be empty); logs and foreach
//     items page by `offset` and `limit`; the other lists (workflows, versions, approvals) are
//     short and come whole;
//   - times are milliseconds since the Unix epoch (UTC) in fields ending `_at`.
//
// Authentication and roles come with the access layer; until then the API is meant for loopback.
//
// Thread-safety: handlers run on server threads concurrently; everything they use is thread-safe.
#pragma once

#include "engine/catalog/workflow_catalog.h"
#include "engine/connections/connections.h"
#include "engine/executor/executor.h"
#include "engine/loader/loader.h"
#include "engine/plugins/plugin_host.h"
#include "engine/steps/step.h"
#include "engine/store/store.h"
#include "engine/warehouse/warehouse.h"
#include "web/live_events.h"
#include "web/router.h"

#include <cstddef>
#include <filesystem>

namespace flowpilot::web {

struct ApiServices {
  engine::Store& store;
  engine::Executor& executor;
  engine::WorkflowCatalog& catalog;
  const engine::StepRegistry& steps;
  const engine::PluginHost* plugins = nullptr;  // null: no plugins listed
  engine::LoadContext load_context;             // for validation without saving
  LiveEvents* events = nullptr;                 // null: no event streams
  engine::ConnectionService* connections = nullptr;  // null: connection routes answer 503
  engine::HttpClient* http = nullptr;  // for connection tests (OAuth2 refresh); null: skipped
  // The folder /api/v1/files manages: the csv steps' first root (files/ beside the database).
  // Empty: the file routes answer 503.
  std::filesystem::path files_root{};
  // Largest file GET /api/v1/files/{path} sends (a larger one is refused with 409); uploads have
  // the server's limit, ServerOptions::max_upload_bytes.
  std::size_t max_file_download_bytes = 64u * 1024 * 1024;
  // The marketing warehouse the dashboard's /api/v1/kpis routes read; null: they answer 503.
  engine::Warehouse* warehouse = nullptr;
};

// Registers every /api/v1 route. `services` must outlive the router.
void add_api_routes(Router& router, const ApiServices& services);

// A run's error as the server's own log may show it: personal data masked (docs/access.md).
LiveEvents::ErrorMask personal_data_masker(const ApiServices& services);

// The OpenAPI 3.1 document served at /api/v1/openapi.json (web/openapi.json, built in).
std::string_view openapi_document();

}  // namespace flowpilot::web
