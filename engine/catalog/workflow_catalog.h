// The workflows a server knows, by id: those defined through the API (kept in the store) and those
// read from watched directories (YAML and Lua files). The API, the webhook routes and the cron
// scheduler all look workflows up here, so a workflow changed by either path is seen by all.
//
// Sources and ownership:
//   - "api" workflows live in the store: every save that changes the definition appends a revision
//     (history), rollback makes an older revision's definition current again as a new revision,
//     delete removes the workflow (its versions stay, since runs refer to them).
//   - "file" workflows are owned by their file. They are recorded in the store too, so that their
//     enabled flag and their revision history survive restarts, but the API cannot update, roll
//     back or delete them (read_only): the file is the source of truth.
//   - One id has one owner. A file whose id is taken by an API workflow or by another file is
//     reported as a problem of that file and ignored; an API save of an id owned by a file is a
//     conflict.
// Directory scans: files ending .yaml, .yml or .lua directly in each directory. A file is reloaded
// when its size or modification time changes. A file that stops validating keeps its last good
// definition active (a typo must not silently stop a production schedule) and its problems are
// reported; a file that disappears takes its workflow with it.
//
// Webhook paths are unique across enabled workflows: a second workflow claiming a path is a
// problem (file) or a conflict (API).
//
// Errors: operations return CatalogResult values; only store failures throw (StoreError).
//
// Thread-safety: every member function may be called from any thread. Lookups return snapshots
// (shared_ptr to immutable definitions) that stay valid after the catalog changes.
#pragma once

#include "engine/loader/loader.h"
#include "engine/model/workflow.h"
#include "engine/store/store.h"

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flowpilot::engine {

struct CatalogEntry {
  WorkflowRecord record;                     // source, enabled, revision, current version
  std::shared_ptr<const Workflow> workflow;  // the current definition
};

enum class CatalogErrc { ok, invalid, not_found, conflict, read_only };

struct CatalogResult {
  CatalogErrc code = CatalogErrc::ok;
  std::string message;                   // why, when not ok
  std::vector<Diagnostic> diagnostics;   // invalid: every problem with its line:column
  std::optional<CatalogEntry> entry;     // ok: the workflow as it is now
  bool created = false;                  // save: a new workflow
  bool changed = false;                  // save: the definition differs from the current one
  bool ok() const { return code == CatalogErrc::ok; }
};

// A watched file that does not load, with everything wrong with it.
struct FileProblem {
  std::string file;
  std::vector<Diagnostic> diagnostics;
};

struct WebhookRoute {
  std::shared_ptr<const Workflow> workflow;
  std::size_t trigger_index = 0;
  const WebhookTrigger* trigger = nullptr;  // points into *workflow
};

struct CronRoute {
  std::string key;  // "<workflow id>#<trigger index>": stable while the trigger stays
  std::shared_ptr<const Workflow> workflow;
  CronTrigger trigger;
};

class WorkflowCatalog {
 public:
  WorkflowCatalog(Store& store, LoadContext context, std::vector<std::filesystem::path> dirs);
  ~WorkflowCatalog();  // stops watching
  WorkflowCatalog(const WorkflowCatalog&) = delete;
  WorkflowCatalog& operator=(const WorkflowCatalog&) = delete;

  // Loads the API workflows from the store and scans the directories once.
  void load();
  // Rescans the directories; returns true when any workflow was added, changed or removed.
  bool rescan();
  // Rescans every `interval` on a thread of its own until stop_watching() or destruction.
  void start_watching(std::chrono::milliseconds interval);
  void stop_watching();
  // Called (on the thread that made the change) after workflows were added, changed, removed,
  // enabled or disabled. Set before load().
  void set_listener(std::function<void()> listener);

  std::vector<FileProblem> problems() const;
  std::vector<CatalogEntry> list() const;  // by id
  std::optional<CatalogEntry> get(std::string_view id) const;

  // Creates or updates an API workflow from its text ("yaml", which includes JSON, or "lua").
  // `expected_id` (from the URL of an update) must match the definition's id when given;
  // `create_only` refuses an id that exists (conflict). A workflow the call creates is enabled
  // when `enable_if_new` is true, else it starts disabled (a draft: no live triggers until
  // enabled); an update keeps the workflow's flag.
  CatalogResult save(std::string_view text, std::string_view format, std::string_view expected_id,
                     bool create_only, bool enable_if_new = true);
  CatalogResult set_enabled(std::string_view id, bool enabled);
  CatalogResult remove(std::string_view id);
  // Makes revision `revision`'s definition current again, as a new revision.
  CatalogResult rollback(std::string_view id, int revision);
  // Newest first; empty when the workflow is unknown.
  std::vector<RevisionRecord> revisions(std::string_view id) const;

  // Only enabled workflows have live triggers.
  std::optional<WebhookRoute> find_webhook(std::string_view path) const;
  std::vector<CronRoute> cron_triggers() const;

  // The definition of a stored version, loaded once and cached; null when it no longer loads.
  // This is the executor's WorkflowResolver.
  std::shared_ptr<const Workflow> resolve(const WorkflowVersionRecord& version);

  struct State;  // defined in workflow_catalog.cpp only

 private:
  std::shared_ptr<State> state_;
};

std::string_view to_string(CatalogErrc code);

}  // namespace flowpilot::engine
