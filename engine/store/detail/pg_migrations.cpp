#include "engine/store/detail/pg_migrations.h"

#include <fmt/format.h>

#include <array>

namespace flowpilot::engine::store_detail {

namespace {

struct PgMigration {
  int version;
  const char* sql;
};

// The same tables and columns as the SQLite store's schema 7, in PostgreSQL's words: PostgreSQL
// support starts at that version, so a new database jumps straight to it. Later migrations keep
// the two numberings equal. JSON is kept as text, as written, so that both stores read back the
// same bytes; times are BIGINT epoch milliseconds.
constexpr const char* kV7 = R"sql(
CREATE TABLE workflow_versions(
  workflow_id TEXT NOT NULL,
  version TEXT NOT NULL,
  format TEXT NOT NULL,
  source_file TEXT NOT NULL,
  source_text TEXT NOT NULL,
  created_at BIGINT NOT NULL,
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
  dry_run BOOLEAN NOT NULL,
  created_at BIGINT NOT NULL,
  started_at BIGINT NOT NULL,
  finished_at BIGINT NOT NULL,
  trigger_type TEXT NOT NULL DEFAULT 'manual',
  rerun_of TEXT NOT NULL DEFAULT '');
CREATE INDEX runs_by_workflow ON runs(workflow_id, id);
CREATE INDEX runs_by_status ON runs(status, id);
CREATE INDEX runs_by_trigger ON runs(trigger_type, id);

CREATE TABLE steps(
  run_id TEXT NOT NULL,
  step_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  status TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  output TEXT,
  error TEXT NOT NULL,
  item_count INTEGER NOT NULL,
  started_at BIGINT NOT NULL,
  finished_at BIGINT NOT NULL,
  wake_at BIGINT NOT NULL,
  PRIMARY KEY(run_id, step_id, idx));

CREATE TABLE attempts(
  run_id TEXT NOT NULL,
  step_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  status TEXT NOT NULL,
  input TEXT,
  output TEXT,
  error TEXT NOT NULL,
  started_at BIGINT NOT NULL,
  finished_at BIGINT NOT NULL,
  PRIMARY KEY(run_id, step_id, idx, attempt));

CREATE TABLE logs(
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id TEXT NOT NULL,
  step_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  at BIGINT NOT NULL,
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
  created_at BIGINT NOT NULL,
  decided_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  PRIMARY KEY(run_id, step_id));
CREATE INDEX approvals_by_status ON approvals(status, created_at);

CREATE TABLE workflows(
  id TEXT PRIMARY KEY NOT NULL,
  source TEXT NOT NULL,
  source_file TEXT NOT NULL,
  enabled BOOLEAN NOT NULL,
  current_version TEXT NOT NULL,
  revision INTEGER NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL);

CREATE TABLE workflow_revisions(
  workflow_id TEXT NOT NULL,
  revision INTEGER NOT NULL,
  version TEXT NOT NULL,
  note TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY(workflow_id, revision));

CREATE TABLE schedules(
  schedule_key TEXT PRIMARY KEY NOT NULL,
  fired_at BIGINT NOT NULL);

CREATE TABLE connections(
  name TEXT PRIMARY KEY NOT NULL,
  type TEXT NOT NULL,
  config TEXT NOT NULL,
  key_id TEXT NOT NULL,
  nonce TEXT NOT NULL,
  ciphertext TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL);

CREATE TABLE users(
  id TEXT PRIMARY KEY NOT NULL,
  email TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  disabled BOOLEAN NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  password_changed_at BIGINT NOT NULL);

CREATE TABLE api_tokens(
  id TEXT PRIMARY KEY NOT NULL,
  user_id TEXT NOT NULL,
  name TEXT NOT NULL,
  secret_hash TEXT NOT NULL UNIQUE,
  prefix TEXT NOT NULL,
  scopes TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  revoked_at BIGINT NOT NULL,
  workflows TEXT NOT NULL DEFAULT '');
CREATE INDEX api_tokens_by_user ON api_tokens(user_id);

CREATE TABLE sessions(
  id_hash TEXT PRIMARY KEY NOT NULL,
  user_id TEXT NOT NULL,
  csrf_token TEXT NOT NULL,
  address TEXT NOT NULL,
  user_agent TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  last_seen_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  revoked_at BIGINT NOT NULL);
CREATE INDEX sessions_by_user ON sessions(user_id);

CREATE TABLE audit_log(
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at BIGINT NOT NULL,
  actor_id TEXT NOT NULL,
  actor_email TEXT NOT NULL,
  actor_kind TEXT NOT NULL,
  address TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  details TEXT NOT NULL,
  request_id TEXT NOT NULL);
CREATE INDEX audit_log_by_time ON audit_log(at);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit log is append-only';
END $$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

CREATE TABLE recommendation_decisions(
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
  decided_at BIGINT NOT NULL);
)sql";

// As the SQLite store's migration 8: run leases.
constexpr const char* kV8 = R"sql(
ALTER TABLE runs ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN lease_epoch BIGINT NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN lease_expires_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN claimable_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX runs_unfinished ON runs(id) WHERE status IN ('queued', 'running');
)sql";

// As the SQLite store's migration 9: cancel requests.
constexpr const char* kV9 = R"sql(
ALTER TABLE runs ADD COLUMN cancel_requested TEXT NOT NULL DEFAULT '';
)sql";

constexpr std::array<PgMigration, 3> kMigrations = {{{7, kV7}, {8, kV8}, {9, kV9}}};

// Any constant shared by every flowpilot process: the lock serializes their migrations.
constexpr std::int64_t kMigrationLock = 0x666c6f77'6d696772;  // "flowmigr"

int current_version(PgConnection& conn) {
  PgResult r = conn.query_once("SELECT coalesce(max(version), 0) FROM schema_migrations", PgParams());
  return static_cast<int>(pg_int(r.get(), 0, 0));
}

}  // namespace

int postgres_schema_version() { return kMigrations.back().version; }

void migrate_postgres(PgConnection& conn) {
  conn.exec("BEGIN");
  try {
    // Transaction-scoped: released by the COMMIT below even when this process dies.
    conn.query_once("SELECT pg_advisory_xact_lock($1)", PgParams().integer(kMigrationLock));
    conn.exec("CREATE TABLE IF NOT EXISTS schema_migrations(version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)");
    const int found = current_version(conn);
    const int latest = kMigrations.back().version;
    if (found > latest) {
      throw StoreError(fmt::format("the PostgreSQL store has schema version {}, newer than this flowpilot ({}); "
                                   "upgrade flowpilot", found, latest));
    }
    for (const PgMigration& m : kMigrations) {
      if (m.version <= found) continue;
      try {
        conn.exec(m.sql);
      } catch (const StoreError& e) {
        throw StoreError(fmt::format("PostgreSQL store: schema migration {} failed: {}", m.version, e.what()));
      }
      conn.query_once("INSERT INTO schema_migrations(version, applied_at) VALUES ($1, $2)",
                      PgParams().integer(m.version).integer(now_millis()));
    }
    conn.exec("COMMIT");
  } catch (...) {
    if (conn.usable()) {
      try {
        conn.exec("ROLLBACK");
      } catch (const StoreError&) {
        // The original error says more.
      }
    }
    throw;
  }
}

}  // namespace flowpilot::engine::store_detail
