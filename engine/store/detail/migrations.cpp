#include "engine/store/detail/migrations.h"

#include <fmt/format.h>

#include <array>

#include "engine/store/detail/sqlite_handle.h"
#include "engine/store/sqlite_store.h"

namespace flowpilot::engine::store_detail {

namespace {

// JSON columns hold compact JSON text; a JSON null is stored as SQL NULL. Enums are stored by
// their to_string() names so the file stays readable with the sqlite3 shell. There are no CHECK
// constraints on those names: adding a status later must not need a table rebuild.
constexpr const char* kV1 = R"sql(
CREATE TABLE workflow_versions(
  workflow_id TEXT NOT NULL,
  version TEXT NOT NULL,
  format TEXT NOT NULL,
  source_file TEXT NOT NULL,
  source_text TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY(workflow_id, version));

CREATE TABLE runs(
  id TEXT PRIMARY KEY NOT NULL,
  workflow_id TEXT NOT NULL,
  workflow_version TEXT NOT NULL,
  status TEXT NOT NULL,
  inputs TEXT,
  "trigger" TEXT,
  outputs TEXT,
  error TEXT NOT NULL,
  idempotency_key TEXT UNIQUE,
  dry_run INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  finished_at INTEGER NOT NULL);
CREATE INDEX runs_by_workflow ON runs(workflow_id, id);
CREATE INDEX runs_by_status ON runs(status, id);

CREATE TABLE steps(
  run_id TEXT NOT NULL,
  step_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  status TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  output TEXT,
  error TEXT NOT NULL,
  item_count INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  finished_at INTEGER NOT NULL,
  wake_at INTEGER NOT NULL,
  PRIMARY KEY(run_id, step_id, idx)) WITHOUT ROWID;

CREATE TABLE attempts(
  run_id TEXT NOT NULL,
  step_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  status TEXT NOT NULL,
  input TEXT,
  output TEXT,
  error TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  finished_at INTEGER NOT NULL,
  PRIMARY KEY(run_id, step_id, idx, attempt)) WITHOUT ROWID;

CREATE TABLE logs(
  id INTEGER PRIMARY KEY,
  run_id TEXT NOT NULL,
  step_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  at INTEGER NOT NULL,
  level TEXT NOT NULL,
  message TEXT NOT NULL);
CREATE INDEX logs_by_run ON logs(run_id, id);

CREATE TABLE approvals(
  run_id TEXT NOT NULL,
  step_id TEXT NOT NULL,
  status TEXT NOT NULL,
  message TEXT NOT NULL,
  comment TEXT NOT NULL,
  decided_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  decided_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY(run_id, step_id));
CREATE INDEX approvals_by_status ON approvals(status, created_at);
)sql";

// The server: workflows known by id with their revision history, the trigger type of runs (for
// filtering), run lineage (retries and re-runs), and the last tick each cron schedule fired.
constexpr const char* kV2 = R"sql(
ALTER TABLE runs ADD COLUMN trigger_type TEXT NOT NULL DEFAULT 'manual';
ALTER TABLE runs ADD COLUMN rerun_of TEXT NOT NULL DEFAULT '';
UPDATE runs SET trigger_type = coalesce(json_extract("trigger", '$.type'), 'manual');
CREATE INDEX runs_by_trigger ON runs(trigger_type, id);

CREATE TABLE workflows(
  id TEXT PRIMARY KEY NOT NULL,
  source TEXT NOT NULL,
  source_file TEXT NOT NULL,
  enabled INTEGER NOT NULL,
  current_version TEXT NOT NULL,
  revision INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL);

CREATE TABLE workflow_revisions(
  workflow_id TEXT NOT NULL,
  revision INTEGER NOT NULL,
  version TEXT NOT NULL,
  note TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY(workflow_id, revision)) WITHOUT ROWID;

CREATE TABLE schedules(
  schedule_key TEXT PRIMARY KEY NOT NULL,
  fired_at INTEGER NOT NULL) WITHOUT ROWID;
)sql";

// Connections: secret fields sealed together (engine/secrets); the key id says which master key.
constexpr const char* kV3 = R"sql(
CREATE TABLE connections(
  name TEXT PRIMARY KEY NOT NULL,
  type TEXT NOT NULL,
  config TEXT NOT NULL,
  key_id TEXT NOT NULL,
  nonce TEXT NOT NULL,
  ciphertext TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL) WITHOUT ROWID;
)sql";

// Users (engine/access): argon2id password hashes, never the passwords.
constexpr const char* kV4 = R"sql(
CREATE TABLE users(
  id TEXT PRIMARY KEY NOT NULL,
  email TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  disabled INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  password_changed_at INTEGER NOT NULL) WITHOUT ROWID;
)sql";

// API tokens and sessions are kept as SHA-256 hashes of their secrets. The audit log is
// append-only: triggers refuse every UPDATE and DELETE, whoever issues them.
constexpr const char* kV5 = R"sql(
CREATE TABLE api_tokens(
  id TEXT PRIMARY KEY NOT NULL,
  user_id TEXT NOT NULL,
  name TEXT NOT NULL,
  secret_hash TEXT NOT NULL UNIQUE,
  prefix TEXT NOT NULL,
  scopes TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX api_tokens_by_user ON api_tokens(user_id);

CREATE TABLE sessions(
  id_hash TEXT PRIMARY KEY NOT NULL,
  user_id TEXT NOT NULL,
  csrf_token TEXT NOT NULL,
  address TEXT NOT NULL,
  user_agent TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX sessions_by_user ON sessions(user_id);

CREATE TABLE audit_log(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  actor_id TEXT NOT NULL,
  actor_email TEXT NOT NULL,
  actor_kind TEXT NOT NULL,
  address TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  details TEXT NOT NULL,
  request_id TEXT NOT NULL);
CREATE INDEX audit_log_by_time ON audit_log(at);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
)sql";

// A token may be limited to some workflows (their ids, space-separated; empty: every workflow).
constexpr const char* kV6 = R"sql(
ALTER TABLE api_tokens ADD COLUMN workflows TEXT NOT NULL DEFAULT '';
)sql";

// What people decided about the dashboard's recommendations.
constexpr const char* kV7 = R"sql(
CREATE TABLE recommendation_decisions (
  id TEXT PRIMARY KEY,
  status TEXT NOT NULL CHECK (status IN ('accepted', 'dismissed')),
  rule TEXT NOT NULL,
  action TEXT NOT NULL,
  platform TEXT NOT NULL,
  account_id TEXT NOT NULL,
  campaign_id TEXT NOT NULL,
  run_id TEXT NOT NULL DEFAULT '',
  decided_by TEXT NOT NULL,
  comment TEXT NOT NULL DEFAULT '',
  decided_at INTEGER NOT NULL
);
)sql";

// Run leases: which process executes a run, since when, and the epoch that fences late writes of
// a previous owner (engine/store/store.h, RunLease). The partial index serves the claim query.
constexpr const char* kV8 = R"sql(
ALTER TABLE runs ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN lease_epoch INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN lease_expires_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN claimable_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX runs_unfinished ON runs(id) WHERE status IN ('queued', 'running');
)sql";

// Why someone asked to cancel a run another process holds (store op RequestCancel).
constexpr const char* kV9 = R"sql(
ALTER TABLE runs ADD COLUMN cancel_requested TEXT NOT NULL DEFAULT '';
)sql";

constexpr std::array<Migration, 9> kMigrations = {{
    {1, kV1},
    {2, kV2},
    {3, kV3},
    {4, kV4},
    {5, kV5},
    {6, kV6},
    {7, kV7},
    {8, kV8},
    {9, kV9},
}};

int current_version(sqlite3* db) {
  Stmt stmt = prepare(db, "SELECT coalesce(max(version), 0) FROM schema_migrations");
  StmtReset reset(stmt.get());
  return step(stmt.get()) ? static_cast<int>(column_int(stmt.get(), 0)) : 0;
}

void rollback_quietly(sqlite3* db) {
  if (sqlite3_get_autocommit(db) == 0) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
}

}  // namespace

std::span<const Migration> migrations() { return kMigrations; }

void migrate(sqlite3* db, const std::string& path) {
  exec(db,
       "CREATE TABLE IF NOT EXISTS schema_migrations("
       "version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)");
  const int latest = kMigrations.back().version;
  const int found = current_version(db);
  if (found > latest) {
    throw StoreError(fmt::format(
        "database {} has schema version {}, newer than this flowpilot ({}); upgrade flowpilot",
        path, found, latest));
  }
  for (const Migration& m : kMigrations) {
    if (m.version <= found) continue;
    exec(db, "BEGIN IMMEDIATE");
    try {
      // Another process may have migrated between our read and our write lock.
      if (current_version(db) >= m.version) {
        exec(db, "COMMIT");
        continue;
      }
      exec(db, m.sql);
      Stmt insert =
          prepare(db, "INSERT INTO schema_migrations(version, applied_at) VALUES(?1, ?2)");
      StmtReset reset(insert.get());
      bind_int(insert.get(), 1, m.version);
      bind_int(insert.get(), 2, now_millis());
      step(insert.get());
      exec(db, "COMMIT");
    } catch (const std::exception& e) {
      rollback_quietly(db);
      throw StoreError(
          fmt::format("database {}: schema migration {} failed: {}", path, m.version, e.what()));
    }
  }
}

}  // namespace flowpilot::engine::store_detail

namespace flowpilot::engine {

int sqlite_schema_version() { return store_detail::migrations().back().version; }

}  // namespace flowpilot::engine
