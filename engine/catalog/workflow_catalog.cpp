#include "engine/catalog/workflow_catalog.h"

#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace flowpilot::engine {

namespace fs = std::filesystem;

namespace {

struct FileState {
  fs::file_time_type mtime;
  std::uintmax_t size = 0;
  std::string workflow_id;  // the id it defines while it loads (or last loaded) fine
};

const WebhookTrigger* webhook_with_path(const Workflow& wf, std::string_view path) {
  for (const Trigger& t : wf.triggers) {
    if (const auto* w = std::get_if<WebhookTrigger>(&t); w != nullptr && w->path == path) return w;
  }
  return nullptr;
}

CatalogResult failure(CatalogErrc code, std::string message) {
  CatalogResult r;
  r.code = code;
  r.message = std::move(message);
  return r;
}

bool is_workflow_file(const fs::path& p) {
  const auto ext = p.extension();
  return ext == ".yaml" || ext == ".yml" || ext == ".lua";
}

}  // namespace

std::string_view to_string(CatalogErrc code) {
  switch (code) {
    case CatalogErrc::ok: return "ok";
    case CatalogErrc::invalid: return "invalid";
    case CatalogErrc::not_found: return "not_found";
    case CatalogErrc::conflict: return "conflict";
    case CatalogErrc::read_only: return "read_only";
  }
  return "unknown";
}

struct WorkflowCatalog::State {
  State(Store& s, LoadContext c, std::vector<fs::path> d)
      : store(s), context(c), dirs(std::move(d)) {}

  Store& store;
  LoadContext context;
  std::vector<fs::path> dirs;
  std::function<void()> listener;

  // Serialises changes (API writes and scans) so revision numbers and ownership checks hold.
  std::mutex write_mu;
  // Guards the maps below; never held across store commits or loading.
  mutable std::mutex mu;
  std::map<std::string, CatalogEntry, std::less<>> entries;
  std::map<std::string, FileState> files;       // by path
  std::map<std::string, FileProblem> problems;  // by path
  std::map<std::string, std::shared_ptr<const Workflow>> resolved;  // "<id>@<version>"

  std::mutex watch_mu;
  std::condition_variable watch_cv;
  bool watch_stop = false;
  std::thread watcher;

  void notify() {
    if (listener) listener();
  }

  // Another enabled workflow (not `id`) that already serves one of `wf`'s webhook paths.
  std::optional<std::string> webhook_clash(const Workflow& wf) const {
    std::lock_guard lock(mu);
    for (const Trigger& t : wf.triggers) {
      const auto* w = std::get_if<WebhookTrigger>(&t);
      if (w == nullptr) continue;
      for (const auto& [other_id, entry] : entries) {
        if (other_id == wf.id || !entry.record.enabled) continue;
        if (webhook_with_path(*entry.workflow, w->path) != nullptr) {
          return fmt::format("webhook path `{}` is already served by workflow `{}`", w->path,
                             other_id);
        }
      }
    }
    return std::nullopt;
  }

  // Records `wf` as the current definition of its workflow (a new revision when it changed) and
  // publishes it. Called with write_mu held.
  // `enabled`, when given, sets the flag of a workflow never seen before.
  CatalogEntry install(std::shared_ptr<const Workflow> wf, const std::string& source,
                       const std::string& source_file, const std::string& note, bool* changed,
                       std::optional<bool> enabled = std::nullopt) {
    std::optional<CatalogEntry> existing;
    {
      std::lock_guard lock(mu);
      if (auto it = entries.find(wf->id); it != entries.end()) existing = it->second;
    }
    const EpochMillis now = now_millis();
    WorkflowRecord record;
    if (existing) {
      record = existing->record;
    } else if (auto stored = store.get_workflow(wf->id)) {
      record = *stored;  // a file workflow seen before this process started
    } else {
      record.id = wf->id;
      record.created_at = now;
      if (enabled) record.enabled = *enabled;
    }
    record.source = source;
    record.source_file = source_file;
    const bool is_change = record.current_version != wf->version || record.revision == 0;
    WriteBatch batch;
    if (is_change) {
      record.current_version = wf->version;
      record.revision += 1;
      record.updated_at = now;
      batch.add(PutWorkflowVersion{
          {wf->id, wf->version, wf->source_format, wf->source_file, wf->source_text, now}});
      batch.add(AppendRevision{{wf->id, record.revision, wf->version, note, now}});
    }
    batch.add(PutWorkflow{record});
    CommitResult result = store.commit(std::move(batch));
    if (result.error) std::rethrow_exception(result.error);
    CatalogEntry entry{record, wf};
    {
      std::lock_guard lock(mu);
      entries[wf->id] = entry;
      resolved[wf->id + "@" + wf->version] = wf;
    }
    if (changed != nullptr) *changed = is_change;
    return entry;
  }

  std::shared_ptr<const Workflow> load_version(const WorkflowVersionRecord& v) {
    const std::string key = v.workflow_id + "@" + v.version;
    {
      std::lock_guard lock(mu);
      if (auto it = resolved.find(key); it != resolved.end()) return it->second;
    }
    LoadContext ctx = context;
    ctx.allow_program_files = !v.source_file.empty() && v.source_file != "api";
    auto result = load_workflow_source(v.source_text, v.source_file, v.format, ctx);
    if (!result.ok()) return nullptr;
    std::lock_guard lock(mu);
    resolved[key] = result.workflow;
    return result.workflow;
  }

  bool scan();
};

bool WorkflowCatalog::State::scan() {
  std::lock_guard write(write_mu);
  bool changed = false;
  std::set<std::string> seen;
  for (const fs::path& dir : dirs) {
    std::error_code ec;
    std::vector<fs::path> paths;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->is_regular_file(ec) && is_workflow_file(it->path())) paths.push_back(it->path());
    }
    if (ec) {
      std::lock_guard lock(mu);
      problems[dir.string()] =
          FileProblem{dir.string(), {Diagnostic{{dir.string(), 0, 0},
                                                "cannot read the directory: " + ec.message(), {}}}};
      continue;
    }
    {
      std::lock_guard lock(mu);
      problems.erase(dir.string());
    }
    std::sort(paths.begin(), paths.end());
    for (const fs::path& path : paths) {
      const std::string key = path.string();
      seen.insert(key);
      std::error_code stat_ec;
      const auto mtime = fs::last_write_time(path, stat_ec);
      const auto size = fs::file_size(path, stat_ec);
      if (stat_ec) continue;  // vanished between listing and stat: the next scan sees it gone
      std::string previous_id;
      {
        std::lock_guard lock(mu);
        auto it = files.find(key);
        if (it != files.end() && it->second.mtime == mtime && it->second.size == size) continue;
        if (it != files.end()) previous_id = it->second.workflow_id;
        files[key] = FileState{mtime, size, previous_id};
      }
      auto result = load_workflow_file(path, context);
      auto report = [&](std::vector<Diagnostic> diagnostics) {
        std::lock_guard lock(mu);
        problems[key] = FileProblem{key, std::move(diagnostics)};
      };
      if (!result.ok()) {
        report(std::move(result.diagnostics));  // the last good definition, if any, stays
        continue;
      }
      const auto& wf = result.workflow;
      std::optional<CatalogEntry> owner;
      {
        std::lock_guard lock(mu);
        if (auto it = entries.find(wf->id); it != entries.end()) owner = it->second;
      }
      if (owner && owner->record.source == "api") {
        report({Diagnostic{{key, 1, 1},
                           fmt::format("workflow id `{}` is already defined through the API; "
                                       "delete it there or choose another id",
                                       wf->id),
                           {}}});
        continue;
      }
      if (owner && owner->record.source_file != key) {
        report({Diagnostic{{key, 1, 1},
                           fmt::format("workflow id `{}` is already defined in {}", wf->id,
                                       owner->record.source_file),
                           {}}});
        continue;
      }
      if (auto clash = webhook_clash(*wf)) {
        report({Diagnostic{{key, 1, 1}, *clash, {}}});
        continue;
      }
      if (!previous_id.empty() && previous_id != wf->id) {
        // The file now defines another id: the old one goes.
        WriteBatch batch;
        batch.add(DeleteWorkflow{previous_id});
        CommitResult r = store.commit(std::move(batch));
        if (r.error) std::rethrow_exception(r.error);
        std::lock_guard lock(mu);
        entries.erase(previous_id);
        changed = true;
      }
      bool version_changed = false;
      install(wf, "file", key, owner ? "file changed" : "loaded from file", &version_changed);
      changed = changed || version_changed || !owner;
      std::lock_guard lock(mu);
      problems.erase(key);
      files[key].workflow_id = wf->id;
    }
  }
  // Files that disappeared take their workflows with them.
  std::vector<std::pair<std::string, std::string>> gone;  // path, workflow id
  {
    std::lock_guard lock(mu);
    for (auto it = files.begin(); it != files.end();) {
      if (seen.count(it->first) != 0) {
        ++it;
        continue;
      }
      gone.emplace_back(it->first, it->second.workflow_id);
      problems.erase(it->first);
      it = files.erase(it);
    }
  }
  for (const auto& [path, id] : gone) {
    if (id.empty()) continue;
    {
      std::lock_guard lock(mu);
      auto it = entries.find(id);
      if (it == entries.end() || it->second.record.source_file != path) continue;
      entries.erase(it);
    }
    WriteBatch batch;
    batch.add(DeleteWorkflow{id});
    CommitResult r = store.commit(std::move(batch));
    if (r.error) std::rethrow_exception(r.error);
    changed = true;
  }
  return changed;
}

WorkflowCatalog::WorkflowCatalog(Store& store, LoadContext context, std::vector<fs::path> dirs)
    : state_(std::make_shared<State>(store, context, std::move(dirs))) {}

WorkflowCatalog::~WorkflowCatalog() { stop_watching(); }

void WorkflowCatalog::set_listener(std::function<void()> listener) {
  state_->listener = std::move(listener);
}

void WorkflowCatalog::load() {
  State& s = *state_;
  {
    std::lock_guard write(s.write_mu);
    for (const WorkflowRecord& record : s.store.list_workflows()) {
      if (record.source != "api") continue;  // file workflows come back from their files
      auto version = s.store.get_workflow_version(record.id, record.current_version);
      if (!version) continue;
      auto wf = s.load_version(*version);
      if (!wf) continue;  // a definition that no longer loads (e.g. a plugin was removed)
      std::lock_guard lock(s.mu);
      s.entries[record.id] = CatalogEntry{record, wf};
    }
  }
  s.scan();
  s.notify();
}

bool WorkflowCatalog::rescan() {
  const bool changed = state_->scan();
  if (changed) state_->notify();
  return changed;
}

void WorkflowCatalog::start_watching(std::chrono::milliseconds interval) {
  State& s = *state_;
  if (s.watcher.joinable() || interval.count() <= 0) return;
  s.watch_stop = false;
  s.watcher = std::thread([this, interval] {
    State& st = *state_;
    std::unique_lock lock(st.watch_mu);
    while (!st.watch_cv.wait_for(lock, interval, [&] { return st.watch_stop; })) {
      lock.unlock();
      try {
        rescan();
      } catch (const std::exception&) {
        // A store failure during a scan: the next scan retries; files are read again since
        // their state was recorded before the failed commit only for unchanged files.
      }
      lock.lock();
    }
  });
}

void WorkflowCatalog::stop_watching() {
  State& s = *state_;
  {
    std::lock_guard lock(s.watch_mu);
    s.watch_stop = true;
  }
  s.watch_cv.notify_all();
  if (s.watcher.joinable()) s.watcher.join();
}

std::vector<FileProblem> WorkflowCatalog::problems() const {
  std::lock_guard lock(state_->mu);
  std::vector<FileProblem> out;
  for (const auto& [path, p] : state_->problems) out.push_back(p);
  return out;
}

std::vector<CatalogEntry> WorkflowCatalog::list() const {
  std::lock_guard lock(state_->mu);
  std::vector<CatalogEntry> out;
  out.reserve(state_->entries.size());
  for (const auto& [id, e] : state_->entries) out.push_back(e);
  return out;
}

std::optional<CatalogEntry> WorkflowCatalog::get(std::string_view id) const {
  std::lock_guard lock(state_->mu);
  auto it = state_->entries.find(id);
  if (it == state_->entries.end()) return std::nullopt;
  return it->second;
}

CatalogResult WorkflowCatalog::save(std::string_view text, std::string_view format,
                                    std::string_view expected_id, bool create_only,
                                    bool enable_if_new) {
  State& s = *state_;
  if (format != "yaml" && format != "lua") {
    return failure(CatalogErrc::invalid,
                   fmt::format("format `{}` is not one of yaml, lua", format));
  }
  LoadContext ctx = s.context;
  ctx.allow_program_files = false;
  auto loaded = load_workflow_source(text, "api", format, ctx);
  if (!loaded.ok()) {
    CatalogResult r = failure(CatalogErrc::invalid, "the workflow definition is not valid");
    r.diagnostics = std::move(loaded.diagnostics);
    return r;
  }
  const auto& wf = loaded.workflow;
  if (!expected_id.empty() && wf->id != expected_id) {
    return failure(CatalogErrc::invalid,
                   fmt::format("the definition's id `{}` differs from `{}` in the URL", wf->id,
                               expected_id));
  }
  std::lock_guard write(s.write_mu);
  auto existing = get(wf->id);
  if (existing && create_only) {
    return failure(CatalogErrc::conflict, fmt::format("workflow `{}` already exists", wf->id));
  }
  if (existing && existing->record.source != "api") {
    return failure(CatalogErrc::read_only,
                   fmt::format("workflow `{}` is defined in {}; change that file instead", wf->id,
                               existing->record.source_file));
  }
  const bool enabled = existing ? existing->record.enabled : enable_if_new;
  if (enabled) {
    if (auto clash = s.webhook_clash(*wf)) return failure(CatalogErrc::conflict, *clash);
  }
  CatalogResult r;
  r.created = !existing;
  r.entry = s.install(wf, "api", "", existing ? "updated" : "created", &r.changed,
                      existing ? std::nullopt : std::optional<bool>(enable_if_new));
  s.notify();
  return r;
}

CatalogResult WorkflowCatalog::set_enabled(std::string_view id, bool enabled) {
  State& s = *state_;
  std::lock_guard write(s.write_mu);
  auto existing = get(id);
  if (!existing) return failure(CatalogErrc::not_found, fmt::format("no workflow `{}`", id));
  if (enabled && !existing->record.enabled) {
    if (auto clash = s.webhook_clash(*existing->workflow)) {
      return failure(CatalogErrc::conflict, *clash);
    }
  }
  existing->record.enabled = enabled;
  existing->record.updated_at = now_millis();
  WriteBatch batch;
  batch.add(PutWorkflow{existing->record});
  CommitResult result = s.store.commit(std::move(batch));
  if (result.error) std::rethrow_exception(result.error);
  {
    std::lock_guard lock(s.mu);
    s.entries[existing->record.id] = *existing;
  }
  s.notify();
  CatalogResult r;
  r.entry = existing;
  return r;
}

CatalogResult WorkflowCatalog::remove(std::string_view id) {
  State& s = *state_;
  std::lock_guard write(s.write_mu);
  auto existing = get(id);
  if (!existing) return failure(CatalogErrc::not_found, fmt::format("no workflow `{}`", id));
  if (existing->record.source != "api") {
    return failure(CatalogErrc::read_only,
                   fmt::format("workflow `{}` is defined in {}; remove that file instead", id,
                               existing->record.source_file));
  }
  WriteBatch batch;
  batch.add(DeleteWorkflow{existing->record.id});
  CommitResult result = s.store.commit(std::move(batch));
  if (result.error) std::rethrow_exception(result.error);
  {
    std::lock_guard lock(s.mu);
    s.entries.erase(existing->record.id);
  }
  s.notify();
  CatalogResult r;
  r.entry = existing;
  return r;
}

CatalogResult WorkflowCatalog::rollback(std::string_view id, int revision) {
  State& s = *state_;
  std::lock_guard write(s.write_mu);
  auto existing = get(id);
  if (!existing) return failure(CatalogErrc::not_found, fmt::format("no workflow `{}`", id));
  if (existing->record.source != "api") {
    return failure(CatalogErrc::read_only,
                   fmt::format("workflow `{}` is defined in {}; its history follows that file",
                               id, existing->record.source_file));
  }
  std::optional<RevisionRecord> target;
  for (const RevisionRecord& r : s.store.list_revisions(existing->record.id)) {
    if (r.revision == revision) target = r;
  }
  if (!target) {
    return failure(CatalogErrc::not_found,
                   fmt::format("workflow `{}` has no revision {}", id, revision));
  }
  auto version = s.store.get_workflow_version(existing->record.id, target->version);
  auto wf = version ? s.load_version(*version) : nullptr;
  if (!wf) {
    return failure(CatalogErrc::conflict,
                   fmt::format("revision {} of workflow `{}` no longer loads (a step it uses may "
                               "have been removed)",
                               revision, id));
  }
  if (auto clash = s.webhook_clash(*wf)) return failure(CatalogErrc::conflict, *clash);
  CatalogResult r;
  r.entry = s.install(wf, "api", "", fmt::format("rolled back to revision {}", revision),
                      &r.changed);
  s.notify();
  return r;
}

std::vector<RevisionRecord> WorkflowCatalog::revisions(std::string_view id) const {
  return state_->store.list_revisions(std::string(id));
}

std::optional<WebhookRoute> WorkflowCatalog::find_webhook(std::string_view path) const {
  std::lock_guard lock(state_->mu);
  for (const auto& [id, entry] : state_->entries) {
    if (!entry.record.enabled) continue;
    const auto& triggers = entry.workflow->triggers;
    for (std::size_t i = 0; i < triggers.size(); ++i) {
      const auto* w = std::get_if<WebhookTrigger>(&triggers[i]);
      if (w != nullptr && w->path == path) return WebhookRoute{entry.workflow, i, w};
    }
  }
  return std::nullopt;
}

std::vector<CronRoute> WorkflowCatalog::cron_triggers() const {
  std::lock_guard lock(state_->mu);
  std::vector<CronRoute> out;
  for (const auto& [id, entry] : state_->entries) {
    if (!entry.record.enabled) continue;
    const auto& triggers = entry.workflow->triggers;
    for (std::size_t i = 0; i < triggers.size(); ++i) {
      if (const auto* c = std::get_if<CronTrigger>(&triggers[i])) {
        out.push_back(CronRoute{fmt::format("{}#{}", id, i), entry.workflow, *c});
      }
    }
  }
  return out;
}

std::shared_ptr<const Workflow> WorkflowCatalog::resolve(const WorkflowVersionRecord& version) {
  return state_->load_version(version);
}

}  // namespace flowpilot::engine
