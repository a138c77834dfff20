#include "engine/store/postgres_store.h"

#include <fmt/format.h>
#include <poll.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>

#include "engine/store/detail/pg_connection.h"
#include "engine/store/detail/pg_migrations.h"
#include "engine/store/store_url.h"

namespace flowpilot::engine {

namespace {

using store_detail::pg_bool;
using store_detail::pg_int;
using store_detail::pg_json;
using store_detail::pg_text;
using store_detail::PgConnection;
using store_detail::PgError;
using store_detail::PgParams;
using store_detail::PgResult;

constexpr int kMaxTransactionAttempts = 5;
constexpr std::int64_t kExclusiveLockClass = 0x666c6f77;  // "flow"; the other key is the schema
constexpr std::chrono::seconds kLockCheckInterval{1};
constexpr std::chrono::milliseconds kFirstRetryDelay{50};

// ---- SQL -------------------------------------------------------------------------------------

constexpr std::string_view kRunColumns =
    "id, workflow_id, workflow_version, status, inputs, \"trigger\", outputs, error, "
    "idempotency_key, dry_run, created_at, started_at, finished_at, trigger_type, rerun_of, cancel_requested";
constexpr std::string_view kStepColumns =
    "run_id, step_id, idx, status, attempt, output, error, item_count, started_at, finished_at, wake_at";
constexpr std::string_view kApprovalColumns =
    "run_id, step_id, status, message, comment, decided_by, created_at, decided_at, expires_at";
constexpr std::string_view kWorkflowColumns =
    "id, source, source_file, enabled, current_version, revision, created_at, updated_at";
constexpr std::string_view kConnectionColumns =
    "name, type, config, key_id, nonce, ciphertext, created_at, updated_at";
constexpr std::string_view kUserColumns =
    "id, email, name, role, password_hash, disabled, created_at, updated_at, password_changed_at";
constexpr std::string_view kTokenColumns =
    "id, user_id, name, secret_hash, prefix, scopes, created_at, expires_at, revoked_at, workflows";

#define FP_RUN_COLUMNS                                                                     \
  "id, workflow_id, workflow_version, status, inputs, \"trigger\", outputs, error, idempotency_key, " \
  "dry_run, created_at, started_at, finished_at, trigger_type, rerun_of"
#define FP_RUN_VALUES "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15"
#define FP_RUN_INSERT "INSERT INTO runs(" FP_RUN_COLUMNS ") VALUES(" FP_RUN_VALUES ")"

// One statement that answers which run holds the key: the new one, or (when the key is taken,
// maybe by an earlier statement of this very transaction) the one that had it. The lease columns
// too: a run created leased is never claimable by another worker meanwhile.
constexpr std::string_view kCreateRun =
    "WITH ins AS (INSERT INTO runs(" FP_RUN_COLUMNS ", lease_owner, lease_epoch, lease_expires_at) "
    "VALUES(" FP_RUN_VALUES ", $16, $17, $18) ON CONFLICT(idempotency_key) DO NOTHING RETURNING id) "
    "SELECT id, true FROM ins UNION ALL SELECT id, false FROM runs WHERE idempotency_key = $9 "
    "AND NOT EXISTS (SELECT 1 FROM ins)";
// An upsert on the id only: a key held by another run stays a constraint violation.
constexpr std::string_view kPutRun =
    FP_RUN_INSERT
    " ON CONFLICT(id) DO UPDATE SET workflow_id = excluded.workflow_id, "
    "workflow_version = excluded.workflow_version, status = excluded.status, "
    "inputs = excluded.inputs, \"trigger\" = excluded.\"trigger\", outputs = excluded.outputs, "
    "error = excluded.error, idempotency_key = excluded.idempotency_key, dry_run = excluded.dry_run, "
    "created_at = excluded.created_at, started_at = excluded.started_at, "
    "finished_at = excluded.finished_at, trigger_type = excluded.trigger_type, rerun_of = excluded.rerun_of";
#undef FP_RUN_INSERT
#undef FP_RUN_VALUES
#undef FP_RUN_COLUMNS

constexpr std::string_view kPutWorkflowVersion =
    "INSERT INTO workflow_versions(workflow_id, version, format, source_file, source_text, created_at) "
    "VALUES($1, $2, $3, $4, $5, $6) ON CONFLICT(workflow_id, version) DO NOTHING";
constexpr std::string_view kPutStep =
    "INSERT INTO steps(run_id, step_id, idx, status, attempt, output, error, item_count, started_at, "
    "finished_at, wake_at) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
    "ON CONFLICT(run_id, step_id, idx) DO UPDATE SET status = excluded.status, attempt = excluded.attempt, "
    "output = excluded.output, error = excluded.error, item_count = excluded.item_count, "
    "started_at = excluded.started_at, finished_at = excluded.finished_at, wake_at = excluded.wake_at";
constexpr std::string_view kPutAttempt =
    "INSERT INTO attempts(run_id, step_id, idx, attempt, status, input, output, error, started_at, "
    "finished_at) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
    "ON CONFLICT(run_id, step_id, idx, attempt) DO UPDATE SET status = excluded.status, "
    "input = COALESCE(excluded.input, attempts.input), output = excluded.output, error = excluded.error, "
    "started_at = excluded.started_at, finished_at = excluded.finished_at";
constexpr std::string_view kAppendLog =
    "INSERT INTO logs(run_id, step_id, idx, attempt, at, level, message) VALUES($1, $2, $3, $4, $5, $6, $7)";
constexpr std::string_view kPutApproval =
    "INSERT INTO approvals(run_id, step_id, status, message, comment, decided_by, created_at, decided_at, "
    "expires_at) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT(run_id, step_id) DO UPDATE SET "
    "status = excluded.status, message = excluded.message, comment = excluded.comment, "
    "decided_by = excluded.decided_by, created_at = excluded.created_at, decided_at = excluded.decided_at, "
    "expires_at = excluded.expires_at";
constexpr std::string_view kPutWorkflow =
    "INSERT INTO workflows(id, source, source_file, enabled, current_version, revision, created_at, "
    "updated_at) VALUES($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT(id) DO UPDATE SET "
    "source = excluded.source, source_file = excluded.source_file, enabled = excluded.enabled, "
    "current_version = excluded.current_version, revision = excluded.revision, "
    "created_at = excluded.created_at, updated_at = excluded.updated_at";
constexpr std::string_view kAppendRevision =
    "INSERT INTO workflow_revisions(workflow_id, revision, version, note, created_at) VALUES($1, $2, $3, $4, $5)";
constexpr std::string_view kDeleteWorkflow = "DELETE FROM workflows WHERE id = $1";
constexpr std::string_view kDeleteRevisions = "DELETE FROM workflow_revisions WHERE workflow_id = $1";
constexpr std::string_view kPutScheduleFired =
    "INSERT INTO schedules(schedule_key, fired_at) VALUES($1, $2) ON CONFLICT(schedule_key) DO UPDATE "
    "SET fired_at = GREATEST(schedules.fired_at, excluded.fired_at)";
// Retention: one statement, so that every table is pruned of exactly the same runs.
constexpr std::string_view kPruneRuns =
    "WITH victims AS (SELECT id FROM runs WHERE finished_at > 0 AND finished_at < $1 "
    "AND status NOT IN ('queued', 'running') ORDER BY id LIMIT $2), "
    "s AS (DELETE FROM steps WHERE run_id IN (SELECT id FROM victims)), "
    "a AS (DELETE FROM attempts WHERE run_id IN (SELECT id FROM victims)), "
    "l AS (DELETE FROM logs WHERE run_id IN (SELECT id FROM victims)), "
    "p AS (DELETE FROM approvals WHERE run_id IN (SELECT id FROM victims)) "
    "DELETE FROM runs WHERE id IN (SELECT id FROM victims) RETURNING id";
constexpr std::string_view kPutConnection =
    "INSERT INTO connections(name, type, config, key_id, nonce, ciphertext, created_at, updated_at) "
    "VALUES($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT(name) DO UPDATE SET type = excluded.type, "
    "config = excluded.config, key_id = excluded.key_id, nonce = excluded.nonce, "
    "ciphertext = excluded.ciphertext, created_at = excluded.created_at, updated_at = excluded.updated_at";
constexpr std::string_view kDeleteConnection = "DELETE FROM connections WHERE name = $1";
constexpr std::string_view kPutUser =
    "INSERT INTO users(id, email, name, role, password_hash, disabled, created_at, updated_at, "
    "password_changed_at) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT(id) DO UPDATE SET "
    "email = excluded.email, name = excluded.name, role = excluded.role, "
    "password_hash = excluded.password_hash, disabled = excluded.disabled, "
    "updated_at = excluded.updated_at, password_changed_at = excluded.password_changed_at";
constexpr std::string_view kPutToken =
    "INSERT INTO api_tokens(id, user_id, name, secret_hash, prefix, scopes, created_at, expires_at, "
    "revoked_at, workflows) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT(id) DO UPDATE SET "
    "name = excluded.name, scopes = excluded.scopes, expires_at = excluded.expires_at, "
    "revoked_at = excluded.revoked_at, workflows = excluded.workflows";
constexpr std::string_view kPutSession =
    "INSERT INTO sessions(id_hash, user_id, csrf_token, address, user_agent, created_at, last_seen_at, "
    "expires_at, revoked_at) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT(id_hash) DO UPDATE SET "
    "last_seen_at = GREATEST(sessions.last_seen_at, excluded.last_seen_at), "
    "revoked_at = CASE WHEN sessions.revoked_at > 0 THEN sessions.revoked_at ELSE excluded.revoked_at END";
constexpr std::string_view kRevokeSessions =
    "UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at = 0";
constexpr std::string_view kPruneSessions =
    "DELETE FROM sessions WHERE expires_at < $1 OR (revoked_at > 0 AND revoked_at < $1)";
constexpr std::string_view kAppendAudit =
    "INSERT INTO audit_log(at, actor_id, actor_email, actor_kind, address, action, target, details, "
    "request_id) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9)";
constexpr std::string_view kDeleteRunLogs = "DELETE FROM logs WHERE run_id = $1";
constexpr std::string_view kPutRecommendationDecision =
    "INSERT INTO recommendation_decisions(id, status, rule, action, platform, account_id, campaign_id, "
    "run_id, decided_by, comment, decided_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";

// SKIP LOCKED: processes claiming at the same moment pass over each other's rows instead of
// waiting, and get different runs.
constexpr std::string_view kClaimRuns =
    "WITH c AS (SELECT id FROM runs WHERE status IN ('queued', 'running') AND lease_expires_at <= $2 "
    "AND claimable_at <= $2 ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED) "
    "UPDATE runs r SET lease_owner = $1, lease_epoch = r.lease_epoch + 1, lease_expires_at = $2 + $4, "
    "claimable_at = 0 FROM c WHERE r.id = c.id RETURNING r.id, r.lease_epoch, r.lease_expires_at";
// Also takes the wake-up mark (claimable_at < 0). RETURNING sees only the new row, so the old mark
// comes from the locked sub-select: a MakeClaimable committed before the lock is seen here (READ
// COMMITTED re-reads the row), one after it waits and leaves its mark for the next renewal.
constexpr std::string_view kRenewLease =
    "UPDATE runs r SET lease_expires_at = $3, claimable_at = GREATEST(r.claimable_at, 0) "
    "FROM (SELECT id, claimable_at AS old FROM runs WHERE id = $1 AND lease_owner = $2 AND lease_epoch = $4 "
    "FOR UPDATE) o WHERE r.id = o.id RETURNING o.old < 0";
// One UPDATE: when it waits for a concurrent MakeClaimable's row lock, READ COMMITTED evaluates the
// CASE again on the row as that left it, so its mark wins over the release's time.
constexpr std::string_view kReleaseLease =
    "UPDATE runs SET lease_owner = '', lease_expires_at = 0, "
    "claimable_at = CASE WHEN claimable_at < 0 THEN 0 ELSE $4::bigint END "
    "WHERE id = $1 AND lease_owner = $2 AND lease_epoch = $3";
constexpr std::string_view kMakeClaimable =
    "UPDATE runs SET claimable_at = -1 WHERE id = $1 AND status IN ('queued', 'running')";
constexpr std::string_view kDecideApproval =
    "UPDATE approvals SET status = $3, comment = $4, decided_by = $5, decided_at = $6 "
    "WHERE run_id = $1 AND step_id = $2 AND status = 'pending' RETURNING run_id";
// Without a reason the request must still show: an empty cancel_requested means none.
constexpr std::string_view kRequestCancel =
    "UPDATE runs SET cancel_requested = COALESCE(NULLIF($2, ''), 'cancel requested'), claimable_at = -1 "
    "WHERE id = $1 AND status IN ('queued', 'running')";
// Delivered by the server at COMMIT, and not at all when the transaction (or the batch's savepoint)
// rolls back.
constexpr std::string_view kNotify = "SELECT pg_notify($1, $2)";
// One channel per store: stores in other schemas of the database are other stores. Channel names
// are identifiers, at most 63 bytes: a long schema name goes in as a hash.
constexpr std::string_view kChannelOfSchema =
    "SELECT 'flowpilot.' || CASE WHEN octet_length(s) <= 53 THEN s ELSE to_hex(hashtextextended(s, 0)) END "
    "FROM COALESCE(current_schema()::text, '') AS s";
// FOR UPDATE: a claim of the same run waits for this transaction, so the check holds until COMMIT.
constexpr std::string_view kLeaseOf = "SELECT lease_owner, lease_epoch FROM runs WHERE id = $1 FOR UPDATE";

// `lease_of` is kLeaseOf's answer for the fence's run.
void require_lease(const PGresult* lease_of, const LeaseFence& fence) {
  if (PQntuples(lease_of) == 0 || pg_text(lease_of, 0, 0) != fence.owner || pg_int(lease_of, 0, 1) != fence.epoch) {
    throw LeaseLost(fmt::format("run {}: the lease of {} (epoch {}) is no longer held; the write is refused",
                                fence.run_id, fence.owner, fence.epoch));
  }
}

// Token scopes are single words: one space-separated column keeps them readable in SQL.
std::string join_words(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) out += ' ';
    out += w;
  }
  return out;
}

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const auto space = text.find(' ');
    if (space != 0) out.emplace_back(text.substr(0, space));
    if (space == std::string_view::npos) break;
    text.remove_prefix(space + 1);
  }
  return out;
}

// ---- row readers -----------------------------------------------------------------------------

template <class Enum, class Parse>
Enum column_enum(const PGresult* r, int row, int col, Parse parse, std::string_view what) {
  const std::string text = pg_text(r, row, col);
  if (auto e = parse(text)) return *e;
  throw StoreError(fmt::format("PostgreSQL store: unknown {} '{}'", what, text));
}

RunRecord read_run(const PGresult* s, int i) {
  RunRecord r;
  r.id = pg_text(s, i, 0);
  r.workflow_id = pg_text(s, i, 1);
  r.workflow_version = pg_text(s, i, 2);
  r.status = column_enum<RunStatus>(s, i, 3, parse_run_status, "run status");
  r.inputs = pg_json(s, i, 4);
  r.trigger = pg_json(s, i, 5);
  r.outputs = pg_json(s, i, 6);
  r.error = pg_text(s, i, 7);
  r.idempotency_key = pg_text(s, i, 8);
  r.dry_run = pg_bool(s, i, 9);
  r.created_at = pg_int(s, i, 10);
  r.started_at = pg_int(s, i, 11);
  r.finished_at = pg_int(s, i, 12);
  r.rerun_of = pg_text(s, i, 14);
  r.cancel_requested = pg_text(s, i, 15);
  return r;
}

StepRecord read_step(const PGresult* s, int i) {
  StepRecord r;
  r.run_id = pg_text(s, i, 0);
  r.step_id = pg_text(s, i, 1);
  r.index = static_cast<int>(pg_int(s, i, 2));
  r.status = column_enum<StepStatus>(s, i, 3, parse_step_status, "step status");
  r.attempt = static_cast<int>(pg_int(s, i, 4));
  r.output = pg_json(s, i, 5);
  r.error = pg_text(s, i, 6);
  r.item_count = static_cast<int>(pg_int(s, i, 7));
  r.started_at = pg_int(s, i, 8);
  r.finished_at = pg_int(s, i, 9);
  r.wake_at = pg_int(s, i, 10);
  return r;
}

AttemptRecord read_attempt(const PGresult* s, int i) {
  AttemptRecord r;
  r.run_id = pg_text(s, i, 0);
  r.step_id = pg_text(s, i, 1);
  r.index = static_cast<int>(pg_int(s, i, 2));
  r.attempt = static_cast<int>(pg_int(s, i, 3));
  r.status = column_enum<StepStatus>(s, i, 4, parse_step_status, "attempt status");
  r.input = pg_json(s, i, 5);
  r.output = pg_json(s, i, 6);
  r.error = pg_text(s, i, 7);
  r.started_at = pg_int(s, i, 8);
  r.finished_at = pg_int(s, i, 9);
  return r;
}

ApprovalRecord read_approval(const PGresult* s, int i) {
  ApprovalRecord r;
  r.run_id = pg_text(s, i, 0);
  r.step_id = pg_text(s, i, 1);
  r.status = column_enum<ApprovalStatus>(s, i, 2, parse_approval_status, "approval status");
  r.message = pg_text(s, i, 3);
  r.comment = pg_text(s, i, 4);
  r.decided_by = pg_text(s, i, 5);
  r.created_at = pg_int(s, i, 6);
  r.decided_at = pg_int(s, i, 7);
  r.expires_at = pg_int(s, i, 8);
  return r;
}

WorkflowRecord read_workflow(const PGresult* s, int i) {
  WorkflowRecord r;
  r.id = pg_text(s, i, 0);
  r.source = pg_text(s, i, 1);
  r.source_file = pg_text(s, i, 2);
  r.enabled = pg_bool(s, i, 3);
  r.current_version = pg_text(s, i, 4);
  r.revision = static_cast<int>(pg_int(s, i, 5));
  r.created_at = pg_int(s, i, 6);
  r.updated_at = pg_int(s, i, 7);
  return r;
}

ConnectionRecord read_connection(const PGresult* s, int i) {
  ConnectionRecord r;
  r.name = pg_text(s, i, 0);
  r.type = pg_text(s, i, 1);
  r.config = pg_json(s, i, 2);
  r.key_id = pg_text(s, i, 3);
  r.nonce = pg_text(s, i, 4);
  r.ciphertext = pg_text(s, i, 5);
  r.created_at = pg_int(s, i, 6);
  r.updated_at = pg_int(s, i, 7);
  return r;
}

UserRecord read_user(const PGresult* s, int i) {
  UserRecord r;
  r.id = pg_text(s, i, 0);
  r.email = pg_text(s, i, 1);
  r.name = pg_text(s, i, 2);
  r.role = pg_text(s, i, 3);
  r.password_hash = pg_text(s, i, 4);
  r.disabled = pg_bool(s, i, 5);
  r.created_at = pg_int(s, i, 6);
  r.updated_at = pg_int(s, i, 7);
  r.password_changed_at = pg_int(s, i, 8);
  return r;
}

TokenRecord read_token(const PGresult* s, int i) {
  TokenRecord r;
  r.id = pg_text(s, i, 0);
  r.user_id = pg_text(s, i, 1);
  r.name = pg_text(s, i, 2);
  r.secret_hash = pg_text(s, i, 3);
  r.prefix = pg_text(s, i, 4);
  r.scopes = split_words(pg_text(s, i, 5));
  r.created_at = pg_int(s, i, 6);
  r.expires_at = pg_int(s, i, 7);
  r.revoked_at = pg_int(s, i, 8);
  r.workflows = split_words(pg_text(s, i, 9));
  return r;
}

template <class Record>
std::vector<Record> read_all(const PgResult& result, Record (*read)(const PGresult*, int)) {
  std::vector<Record> out;
  const int rows = PQntuples(result.get());
  out.reserve(static_cast<std::size_t>(rows));
  for (int i = 0; i < rows; ++i) out.push_back(read(result.get(), i));
  return out;
}

template <class Record>
std::optional<Record> read_one(const PgResult& result, Record (*read)(const PGresult*, int)) {
  if (PQntuples(result.get()) == 0) return std::nullopt;
  return read(result.get(), 0);
}

PgParams& add_run(PgParams& p, const RunRecord& r) {
  if (r.id.empty()) throw StoreError("run record without an id");
  // Kept in its own column so that runs can be listed by trigger through an index.
  std::string_view type = "manual";
  if (const auto* obj = r.trigger.if_object()) {
    if (const auto* t = obj->if_contains("type"); t != nullptr && t->is_string()) type = t->get_string();
  }
  return p.text(r.id)
      .text(r.workflow_id)
      .text(r.workflow_version)
      .text(to_string(r.status))
      .json(r.inputs)
      .json(r.trigger)
      .json(r.outputs)
      .text(r.error)
      .text_or_null(r.idempotency_key)
      .boolean(r.dry_run)
      .integer(r.created_at)
      .integer(r.started_at)
      .integer(r.finished_at)
      .text(type)
      .text(r.rerun_of);
}

// ---- session locks ---------------------------------------------------------------------------

// A session advisory lock on a connection of its own, for the exclusive store and for leadership.
// The lock lives as long as its connection: a server restart or a terminated backend ends it.
class SessionLock {
 public:
  using Connect = std::function<std::unique_ptr<PgConnection>()>;
  // `key` is the argument list of pg_try_advisory_lock, in SQL with `params`.
  SessionLock(Connect connect, std::string key, PgParams params)
      : connect_(std::move(connect)), key_(std::move(key)), params_(std::move(params)) {}
  // Released before the connection closes: the server drops a closed session's locks only once its
  // backend has gone, a moment later, and a process starting right after would find the lock taken.
  ~SessionLock() {
    if (!held_ || !conn_ || !conn_->usable()) return;
    try {
      conn_->query_once(fmt::format("SELECT pg_advisory_unlock({})", key_), params_);
    } catch (const StoreError&) {
      // Closing the connection releases it as well.
    }
  }
  SessionLock(const SessionLock&) = delete;
  SessionLock& operator=(const SessionLock&) = delete;

  // Tries to take the lock on a new connection; false when another session holds it. Throws
  // PgError when the server cannot be reached.
  bool take() {
    held_ = false;
    conn_ = connect_();
    PgResult got = conn_->query_once(fmt::format("SELECT pg_try_advisory_lock({})", key_), params_);
    held_ = pg_bool(got.get(), 0, 0);
    return held_;
  }

  // False once the connection, and the lock with it, is gone. A backend the server ended shows only
  // when the connection is used: this sends a query.
  bool alive() {
    if (!held_ || !conn_ || !conn_->usable()) return false;
    try {
      conn_->query_once("SELECT 1", PgParams());
    } catch (const PgError& e) {
      if (e.connection_lost()) return false;
    } catch (const StoreError&) {
    }
    return conn_->usable();
  }

  // Without a query: false when the connection is known to be broken.
  bool connected() const { return held_ && conn_ && conn_->usable(); }

 private:
  Connect connect_;
  std::string key_;
  PgParams params_;
  std::unique_ptr<PgConnection> conn_;
  bool held_ = false;
};

// Store::try_lead: the lock is held until this object goes or its connection breaks.
class PgLeadership final : public Leadership {
 public:
  explicit PgLeadership(std::unique_ptr<SessionLock> lock) : lock_(std::move(lock)) {}

  // Once lost, lost for good: another process may lead by now, even if the server came back.
  bool held() override {
    std::lock_guard lock(mu_);
    if (lost_ || !lock_->connected()) {
      lost_ = true;
      return false;
    }
    // A round trip at most every kLockCheckInterval: callers may ask in a loop.
    const auto now = std::chrono::steady_clock::now();
    if (now - checked_ >= kLockCheckInterval) {
      checked_ = now;
      lost_ = !lock_->alive();
    }
    return !lost_;
  }

 private:
  std::mutex mu_;  // held() from any thread, as the rest of the store
  std::unique_ptr<SessionLock> lock_;
  std::chrono::steady_clock::time_point checked_ = std::chrono::steady_clock::now();
  bool lost_ = false;
};

// ---- the store -------------------------------------------------------------------------------

class PostgresStore final : public Store {
 public:
  explicit PostgresStore(const PostgresStoreOptions& options);
  ~PostgresStore() override;

  PostgresStore(const PostgresStore&) = delete;
  PostgresStore& operator=(const PostgresStore&) = delete;

  void submit(WriteBatch batch, CommitCallback done) override;
  void flush() override;
  std::vector<std::string> wait_for_signals(std::chrono::milliseconds timeout) override;
  std::unique_ptr<Leadership> try_lead(const std::string& role) override;

  std::optional<WorkflowVersionRecord> get_workflow_version(const std::string& workflow_id,
                                                            const std::string& version) override {
    return read([&](PgConnection& c) -> std::optional<WorkflowVersionRecord> {
      PgResult r = c.query(
          "SELECT workflow_id, version, format, source_file, source_text, created_at FROM workflow_versions "
          "WHERE workflow_id = $1 AND version = $2",
          PgParams().text(workflow_id).text(version));
      if (PQntuples(r.get()) == 0) return std::nullopt;
      WorkflowVersionRecord v;
      v.workflow_id = pg_text(r.get(), 0, 0);
      v.version = pg_text(r.get(), 0, 1);
      v.format = pg_text(r.get(), 0, 2);
      v.source_file = pg_text(r.get(), 0, 3);
      v.source_text = pg_text(r.get(), 0, 4);
      v.created_at = pg_int(r.get(), 0, 5);
      return v;
    });
  }

  std::optional<RunRecord> get_run(const std::string& run_id) override {
    static const std::string sql = fmt::format("SELECT {} FROM runs WHERE id = $1", kRunColumns);
    return read([&](PgConnection& c) { return read_one(c.query(sql, PgParams().text(run_id)), read_run); });
  }

  std::optional<RunRecord> find_run_by_idempotency_key(const std::string& key) override {
    if (key.empty()) return std::nullopt;  // "" means "no key" and is stored as NULL
    static const std::string sql = fmt::format("SELECT {} FROM runs WHERE idempotency_key = $1", kRunColumns);
    return read([&](PgConnection& c) { return read_one(c.query(sql, PgParams().text(key)), read_run); });
  }

  std::vector<RunRecord> list_runs(const RunFilter& filter) override {
    // Only the conditions in use appear in the SQL so that the planner can pick the matching index.
    std::string sql = fmt::format("SELECT {} FROM runs WHERE true", kRunColumns);
    PgParams params;
    int n = 0;
    auto add = [&](const char* condition) { sql += fmt::format(" AND {} ${}", condition, ++n); };
    if (!filter.workflow_id.empty()) {
      add("workflow_id =");
      params.text(filter.workflow_id);
    }
    if (filter.status) {
      add("status =");
      params.text(to_string(*filter.status));
    }
    if (!filter.before_id.empty()) {
      add("id <");
      params.text(filter.before_id);
    }
    if (!filter.trigger_type.empty()) {
      add("trigger_type =");
      params.text(filter.trigger_type);
    }
    if (filter.created_from > 0) {
      add("created_at >=");
      params.integer(filter.created_from);
    }
    if (filter.created_to > 0) {
      add("created_at <");
      params.integer(filter.created_to);
    }
    sql += fmt::format(" ORDER BY id DESC LIMIT ${}", ++n);
    if (filter.limit > 0) params.integer(filter.limit);
    else params.null();  // LIMIT NULL: no limit
    return read([&](PgConnection& c) { return read_all(c.query(sql, params), read_run); });
  }

  std::vector<WorkflowRunSummary> summarize_runs(EpochMillis since) override {
    static const std::string newest = fmt::format(
        "SELECT DISTINCT ON (workflow_id) {} FROM runs ORDER BY workflow_id, id DESC", kRunColumns);
    return read([&](PgConnection& c) {
      std::map<std::string, WorkflowRunSummary> by_workflow;
      for (RunRecord& run : read_all(c.query(newest, PgParams()), read_run)) {
        auto& summary = by_workflow[run.workflow_id];
        summary.workflow_id = run.workflow_id;
        summary.last_run = std::move(run);
      }
      PgResult r = c.query(
          "SELECT workflow_id, count(*) FILTER (WHERE status NOT IN ('queued', 'running')), "
          "count(*) FILTER (WHERE status = 'succeeded') FROM runs WHERE created_at >= $1 GROUP BY workflow_id",
          PgParams().integer(since));
      for (int i = 0; i < PQntuples(r.get()); ++i) {
        auto& summary = by_workflow[pg_text(r.get(), i, 0)];
        summary.workflow_id = pg_text(r.get(), i, 0);
        summary.finished = static_cast<int>(pg_int(r.get(), i, 1));
        summary.succeeded = static_cast<int>(pg_int(r.get(), i, 2));
      }
      std::vector<WorkflowRunSummary> out;
      out.reserve(by_workflow.size());
      for (auto& [id, summary] : by_workflow) out.push_back(std::move(summary));
      return out;
    });
  }

  std::vector<std::string> unfinished_run_ids() override {
    return read([&](PgConnection& c) {
      PgResult r = c.query("SELECT id FROM runs WHERE status IN ('queued', 'running') ORDER BY id", PgParams());
      std::vector<std::string> ids;
      for (int i = 0; i < PQntuples(r.get()); ++i) ids.push_back(pg_text(r.get(), i, 0));
      return ids;
    });
  }

  std::vector<StepRecord> get_steps(const std::string& run_id) override {
    static const std::string sql =
        fmt::format("SELECT {} FROM steps WHERE run_id = $1 ORDER BY step_id, idx", kStepColumns);
    return read([&](PgConnection& c) { return read_all(c.query(sql, PgParams().text(run_id)), read_step); });
  }

  std::vector<AttemptRecord> get_attempts(const std::string& run_id) override {
    // A succeeded attempt written without its output shares its step's (see PutAttempt).
    static const std::string sql =
        "SELECT a.run_id, a.step_id, a.idx, a.attempt, a.status, a.input, "
        "COALESCE(a.output, CASE WHEN a.status = 'succeeded' AND s.attempt = a.attempt THEN s.output END), "
        "a.error, a.started_at, a.finished_at FROM attempts a LEFT JOIN steps s ON s.run_id = a.run_id "
        "AND s.step_id = a.step_id AND s.idx = a.idx WHERE a.run_id = $1 ORDER BY a.step_id, a.idx, a.attempt";
    return read([&](PgConnection& c) { return read_all(c.query(sql, PgParams().text(run_id)), read_attempt); });
  }

  std::vector<LogRecord> get_logs(const std::string& run_id) override {
    return read([&](PgConnection& c) {
      PgResult r = c.query(
          "SELECT run_id, step_id, idx, attempt, at, level, message FROM logs WHERE run_id = $1 ORDER BY id",
          PgParams().text(run_id));
      std::vector<LogRecord> logs;
      for (int i = 0; i < PQntuples(r.get()); ++i) {
        LogRecord l;
        l.run_id = pg_text(r.get(), i, 0);
        l.step_id = pg_text(r.get(), i, 1);
        l.index = static_cast<int>(pg_int(r.get(), i, 2));
        l.attempt = static_cast<int>(pg_int(r.get(), i, 3));
        l.at = pg_int(r.get(), i, 4);
        l.level = pg_text(r.get(), i, 5);
        l.message = pg_text(r.get(), i, 6);
        logs.push_back(std::move(l));
      }
      return logs;
    });
  }

  std::optional<ApprovalRecord> get_approval(const std::string& run_id, const std::string& step_id) override {
    static const std::string sql =
        fmt::format("SELECT {} FROM approvals WHERE run_id = $1 AND step_id = $2", kApprovalColumns);
    return read([&](PgConnection& c) {
      return read_one(c.query(sql, PgParams().text(run_id).text(step_id)), read_approval);
    });
  }

  std::vector<ApprovalRecord> list_approvals(std::optional<ApprovalStatus> status) override {
    static const std::string all_sql =
        fmt::format("SELECT {} FROM approvals ORDER BY created_at, run_id, step_id", kApprovalColumns);
    static const std::string by_status_sql = fmt::format(
        "SELECT {} FROM approvals WHERE status = $1 ORDER BY created_at, run_id, step_id", kApprovalColumns);
    return read([&](PgConnection& c) {
      if (!status) return read_all(c.query(all_sql, PgParams()), read_approval);
      return read_all(c.query(by_status_sql, PgParams().text(to_string(*status))), read_approval);
    });
  }

  std::vector<WorkflowRecord> list_workflows() override {
    static const std::string sql = fmt::format("SELECT {} FROM workflows ORDER BY id", kWorkflowColumns);
    return read([&](PgConnection& c) { return read_all(c.query(sql, PgParams()), read_workflow); });
  }

  std::optional<WorkflowRecord> get_workflow(const std::string& workflow_id) override {
    static const std::string sql = fmt::format("SELECT {} FROM workflows WHERE id = $1", kWorkflowColumns);
    return read([&](PgConnection& c) { return read_one(c.query(sql, PgParams().text(workflow_id)), read_workflow); });
  }

  std::vector<RevisionRecord> list_revisions(const std::string& workflow_id) override {
    return read([&](PgConnection& c) {
      PgResult r = c.query(
          "SELECT workflow_id, revision, version, note, created_at FROM workflow_revisions "
          "WHERE workflow_id = $1 ORDER BY revision DESC",
          PgParams().text(workflow_id));
      std::vector<RevisionRecord> out;
      for (int i = 0; i < PQntuples(r.get()); ++i) {
        RevisionRecord v;
        v.workflow_id = pg_text(r.get(), i, 0);
        v.revision = static_cast<int>(pg_int(r.get(), i, 1));
        v.version = pg_text(r.get(), i, 2);
        v.note = pg_text(r.get(), i, 3);
        v.created_at = pg_int(r.get(), i, 4);
        out.push_back(std::move(v));
      }
      return out;
    });
  }

  std::optional<EpochMillis> get_schedule_fired(const std::string& schedule_key) override {
    return read([&](PgConnection& c) -> std::optional<EpochMillis> {
      PgResult r = c.query("SELECT fired_at FROM schedules WHERE schedule_key = $1", PgParams().text(schedule_key));
      if (PQntuples(r.get()) == 0) return std::nullopt;
      return pg_int(r.get(), 0, 0);
    });
  }

  std::vector<ConnectionRecord> list_connections() override {
    static const std::string sql = fmt::format("SELECT {} FROM connections ORDER BY name", kConnectionColumns);
    return read([&](PgConnection& c) { return read_all(c.query(sql, PgParams()), read_connection); });
  }

  std::optional<ConnectionRecord> get_connection(const std::string& name) override {
    static const std::string sql = fmt::format("SELECT {} FROM connections WHERE name = $1", kConnectionColumns);
    return read([&](PgConnection& c) { return read_one(c.query(sql, PgParams().text(name)), read_connection); });
  }

  std::vector<UserRecord> list_users() override {
    static const std::string sql = fmt::format("SELECT {} FROM users ORDER BY email", kUserColumns);
    return read([&](PgConnection& c) { return read_all(c.query(sql, PgParams()), read_user); });
  }

  std::optional<UserRecord> get_user_by_email(const std::string& email) override {
    static const std::string sql = fmt::format("SELECT {} FROM users WHERE email = $1", kUserColumns);
    return read([&](PgConnection& c) { return read_one(c.query(sql, PgParams().text(email)), read_user); });
  }

  std::optional<UserRecord> get_user(const std::string& user_id) override {
    static const std::string sql = fmt::format("SELECT {} FROM users WHERE id = $1", kUserColumns);
    return read([&](PgConnection& c) { return read_one(c.query(sql, PgParams().text(user_id)), read_user); });
  }

  std::optional<TokenRecord> get_token_by_hash(const std::string& secret_hash) override {
    static const std::string sql = fmt::format("SELECT {} FROM api_tokens WHERE secret_hash = $1", kTokenColumns);
    return read([&](PgConnection& c) { return read_one(c.query(sql, PgParams().text(secret_hash)), read_token); });
  }

  std::optional<TokenRecord> get_token(const std::string& token_id) override {
    static const std::string sql = fmt::format("SELECT {} FROM api_tokens WHERE id = $1", kTokenColumns);
    return read([&](PgConnection& c) { return read_one(c.query(sql, PgParams().text(token_id)), read_token); });
  }

  std::vector<TokenRecord> list_tokens(const std::string& user_id) override {
    static const std::string sql = fmt::format(
        "SELECT {} FROM api_tokens WHERE $1::text = '' OR user_id = $1 ORDER BY id DESC", kTokenColumns);
    return read([&](PgConnection& c) { return read_all(c.query(sql, PgParams().text(user_id)), read_token); });
  }

  std::optional<SessionRecord> get_session(const std::string& id_hash) override {
    return read([&](PgConnection& c) -> std::optional<SessionRecord> {
      PgResult r = c.query(
          "SELECT id_hash, user_id, csrf_token, address, user_agent, created_at, last_seen_at, expires_at, "
          "revoked_at FROM sessions WHERE id_hash = $1",
          PgParams().text(id_hash));
      if (PQntuples(r.get()) == 0) return std::nullopt;
      SessionRecord s;
      s.id_hash = pg_text(r.get(), 0, 0);
      s.user_id = pg_text(r.get(), 0, 1);
      s.csrf_token = pg_text(r.get(), 0, 2);
      s.address = pg_text(r.get(), 0, 3);
      s.user_agent = pg_text(r.get(), 0, 4);
      s.created_at = pg_int(r.get(), 0, 5);
      s.last_seen_at = pg_int(r.get(), 0, 6);
      s.expires_at = pg_int(r.get(), 0, 7);
      s.revoked_at = pg_int(r.get(), 0, 8);
      return s;
    });
  }

  std::vector<AuditRecord> list_audit(const AuditFilter& filter) override {
    // One statement per order; every filter is a bound value that is empty or 0 when unused.
    static const std::string where =
        " WHERE ($1::text = '' OR actor_email = $1 OR actor_id = $1)"
        " AND ($2::text = '' OR action = $2 OR (right($2, 1) = '.' AND left(action, length($2)) = $2))"
        " AND ($3::text = '' OR target = $3) AND ($4::bigint = 0 OR at >= $4) AND ($5::bigint = 0 OR at < $5)"
        " AND ($6::bigint = 0 OR id < $6) AND id > $7";
    static const std::string columns =
        "SELECT id, at, actor_id, actor_email, actor_kind, address, action, target, details, request_id FROM audit_log";
    static const std::string newest = columns + where + " ORDER BY id DESC LIMIT $8";
    static const std::string oldest = columns + where + " ORDER BY id ASC LIMIT $8";
    PgParams params;
    params.text(filter.actor)
        .text(filter.action)
        .text(filter.target)
        .integer(filter.from)
        .integer(filter.to)
        .integer(filter.before_id)
        .integer(filter.after_id)
        .integer(filter.limit);
    return read([&](PgConnection& c) {
      PgResult r = c.query(filter.oldest_first ? oldest : newest, params);
      std::vector<AuditRecord> out;
      for (int i = 0; i < PQntuples(r.get()); ++i) {
        AuditRecord a;
        a.id = pg_int(r.get(), i, 0);
        a.at = pg_int(r.get(), i, 1);
        a.actor_id = pg_text(r.get(), i, 2);
        a.actor_email = pg_text(r.get(), i, 3);
        a.actor_kind = pg_text(r.get(), i, 4);
        a.address = pg_text(r.get(), i, 5);
        a.action = pg_text(r.get(), i, 6);
        a.target = pg_text(r.get(), i, 7);
        a.details = pg_json(r.get(), i, 8);
        a.request_id = pg_text(r.get(), i, 9);
        out.push_back(std::move(a));
      }
      return out;
    });
  }

  std::vector<RecommendationDecisionRecord> get_recommendation_decisions(
      const std::vector<std::string>& ids) override {
    return read([&](PgConnection& c) {
      std::vector<RecommendationDecisionRecord> out;
      for (const std::string& id : ids) {
        PgResult r = c.query(
            "SELECT id, status, rule, action, platform, account_id, campaign_id, run_id, decided_by, comment, "
            "decided_at FROM recommendation_decisions WHERE id = $1",
            PgParams().text(id));
        if (PQntuples(r.get()) == 0) continue;
        RecommendationDecisionRecord d;
        d.id = pg_text(r.get(), 0, 0);
        d.status = pg_text(r.get(), 0, 1);
        d.rule = pg_text(r.get(), 0, 2);
        d.action = pg_text(r.get(), 0, 3);
        d.platform = pg_text(r.get(), 0, 4);
        d.account_id = pg_text(r.get(), 0, 5);
        d.campaign_id = pg_text(r.get(), 0, 6);
        d.run_id = pg_text(r.get(), 0, 7);
        d.decided_by = pg_text(r.get(), 0, 8);
        d.comment = pg_text(r.get(), 0, 9);
        d.decided_at = pg_int(r.get(), 0, 10);
        out.push_back(std::move(d));
      }
      return out;
    });
  }

 private:
  struct Pending {
    WriteBatch batch;
    CommitCallback done;
  };

  std::unique_ptr<PgConnection> connect() const {
    return std::make_unique<PgConnection>(url_, application_name_, schema_, false);
  }

  // Runs `body` on a pooled connection; a connection the server dropped is replaced and the read
  // tried once more.
  template <class Body>
  auto read(Body&& body) -> std::invoke_result_t<Body&, PgConnection&> {
    for (int attempt = 1;; ++attempt) {
      std::unique_ptr<PgConnection> conn;
      {
        std::lock_guard lock(readers_mu_);
        if (!idle_readers_.empty()) {
          conn = std::move(idle_readers_.back());
          idle_readers_.pop_back();
        }
      }
      try {
        if (!conn || !conn->usable()) conn = connect();
        auto result = body(*conn);
        release_reader(std::move(conn));
        return result;
      } catch (const PgError& e) {
        if (!e.connection_lost() || attempt >= 2) throw;
      }
    }
  }

  void release_reader(std::unique_ptr<PgConnection> conn) {
    if (!conn || !conn->usable() || conn->in_transaction()) return;
    std::lock_guard lock(readers_mu_);
    if (idle_readers_.size() < max_idle_readers_) idle_readers_.push_back(std::move(conn));
  }

  void writer_loop();
  void process_group(std::vector<Pending>& group, std::vector<CommitResult>& results);
  void run_transaction(std::vector<Pending>& group, std::vector<CommitResult>& results);
  // One SQL statement of a write op, with what to take from its answer.
  struct Statement {
    using Handler = std::function<void(const PGresult*, CommitResult&)>;
    std::string_view sql;
    PgParams params;
    Handler handler;
  };
  void plan(const WriteOp& op, std::vector<Statement>& out) const;
  static std::string_view op_name(const WriteOp& op);
  bool run_pipelined(std::vector<Pending>& group, std::vector<CommitResult>& results);
  void apply(const WriteOp& op, CommitResult& result);
  void check_fence(const LeaseFence& fence);
  void rollback_if_open() noexcept;

  const std::string url_;
  const std::string schema_;
  const std::string application_name_;
  const std::size_t max_idle_readers_;
  const std::size_t max_ops_per_commit_;
  const std::function<void(std::chrono::duration<double>, std::size_t)> on_commit_;

  SessionLock::Connect connector() const;
  void watch_lock();
  bool open_listener();
  bool receive_signals(std::vector<std::string>& out);
  void report_listen_outage(const std::string& why);

  std::string channel_;  // this store's NOTIFY channel (set before the threads start)
  std::unique_ptr<SessionLock> exclusive_lock_;  // watchdog thread only (after the constructor)
  std::function<void(const std::string&)> on_lock_lost_;
  std::mutex watch_mu_;
  std::condition_variable watch_cv_;
  bool watch_stop_ = false;
  std::thread watchdog_;
  std::unique_ptr<PgConnection> writer_conn_;  // writer thread only (after the constructor)
  bool commit_sent_ = false;                    // writer thread only

  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  std::deque<Pending> queue_;
  std::uint64_t submitted_ = 0;
  std::uint64_t completed_ = 0;
  bool stopping_ = false;

  std::mutex readers_mu_;
  std::vector<std::unique_ptr<PgConnection>> idle_readers_;

  std::mutex listen_mu_;  // wait_for_signals, one call at a time
  std::unique_ptr<PgConnection> listen_conn_;
  bool listen_outage_reported_ = false;

  std::thread writer_;  // last: starts after everything above exists, joins before it goes
};

PostgresStore::PostgresStore(const PostgresStoreOptions& options)
    : url_(options.url),
      schema_(options.schema),
      application_name_(options.application_name),
      max_idle_readers_(options.max_idle_readers),
      max_ops_per_commit_(options.max_ops_per_commit == 0 ? 1 : options.max_ops_per_commit),
      on_commit_(options.on_commit) {
  if (url_.empty()) throw StoreError("PostgreSQL store: no URL given");
  writer_conn_ = std::make_unique<PgConnection>(url_, application_name_, schema_, true);
  if (options.exclusive) {
    // Keyed by the schema, so that stores in different schemas of one database stay independent.
    exclusive_lock_ = std::make_unique<SessionLock>(connector(), "$1::int, hashtext(current_schema())",
                                                    std::move(PgParams().integer(kExclusiveLockClass)));
    if (!exclusive_lock_->take()) {
      throw StoreError(fmt::format(
          "another flowpilot process already serves this PostgreSQL store (schema `{}` of {}); "
          "stop it first: two processes would both execute the same runs",
          schema_.empty() ? std::string("public") : schema_, mask_store_url(url_)));
    }
    on_lock_lost_ = options.on_exclusive_lost;
  }
  store_detail::migrate_postgres(*writer_conn_);
  channel_ = pg_text(writer_conn_->query_once(kChannelOfSchema, PgParams()).get(), 0, 0);
  // Threads start last: nothing after them can throw and leave them running.
  if (exclusive_lock_) watchdog_ = std::thread([this] { watch_lock(); });
  writer_ = std::thread([this] { writer_loop(); });
}

PostgresStore::~PostgresStore() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_one();
  writer_.join();
  {
    std::lock_guard lock(watch_mu_);
    watch_stop_ = true;
  }
  watch_cv_.notify_one();
  if (watchdog_.joinable()) watchdog_.join();
  exclusive_lock_.reset();
  // A wait_for_signals of another thread ends (within its timeout) before its connection closes.
  std::lock_guard lock(listen_mu_);
  listen_conn_.reset();
}

// Copies, not the store's members: a Leadership may outlive the store.
SessionLock::Connect PostgresStore::connector() const {
  return [url = url_, name = application_name_, schema = schema_] {
    return std::make_unique<PgConnection>(url, name, schema, false);
  };
}

// The lock lives as long as its connection: when the server restarts, the lock is gone, and
// another process could take it. Taking it back at once keeps the store exclusive; when someone
// else has it, this process must stop executing runs, which the callback arranges.
void PostgresStore::watch_lock() {
  std::unique_lock lock(watch_mu_);
  while (!watch_stop_) {
    watch_cv_.wait_for(lock, kLockCheckInterval, [&] { return watch_stop_; });
    if (watch_stop_) return;
    lock.unlock();
    std::string lost;
    if (!exclusive_lock_->alive()) {
      try {
        if (!exclusive_lock_->take()) lost = "another process took the store's lock while the connection was down";
      } catch (const StoreError&) {
        // The server is still away: nobody else can take the lock meanwhile; try again later.
      }
    }
    if (!lost.empty()) {
      if (on_lock_lost_) on_lock_lost_(lost);
      return;
    }
    lock.lock();
  }
}

std::vector<std::string> PostgresStore::wait_for_signals(std::chrono::milliseconds timeout) {
  std::lock_guard lock(listen_mu_);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  if (!listen_conn_ && !open_listener()) {
    // As if nothing came: returning at once would have the caller retry the server in a tight loop.
    std::this_thread::sleep_until(deadline);
    return {};
  }
  std::vector<std::string> signals;
  for (;;) {
    if (!receive_signals(signals)) {
      report_listen_outage(PQerrorMessage(listen_conn_->get()));
      listen_conn_.reset();  // opened again by the next call
      return {};
    }
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (!signals.empty() || left.count() <= 0) return signals;
    pollfd socket{PQsocket(listen_conn_->get()), POLLIN, 0};
    if (::poll(&socket, 1, static_cast<int>(std::min<std::int64_t>(left.count(), 60'000))) < 0 && errno != EINTR) {
      report_listen_outage(std::string("poll: ") + std::strerror(errno));
      listen_conn_.reset();
      return {};
    }
  }
}

bool PostgresStore::open_listener() {
  try {
    auto conn = connect();
    const std::unique_ptr<char, decltype(&PQfreemem)> channel(
        PQescapeIdentifier(conn->get(), channel_.data(), channel_.size()), &PQfreemem);
    if (!channel) throw StoreError(PQerrorMessage(conn->get()));
    conn->exec(fmt::format("LISTEN {}", channel.get()));
    listen_conn_ = std::move(conn);
  } catch (const StoreError& e) {
    report_listen_outage(e.what());
    return false;
  }
  if (listen_outage_reported_) spdlog::info("PostgreSQL store: receiving wake-up signals again");
  listen_outage_reported_ = false;
  return true;
}

// Adds the notifications that arrived to `out`; false when the connection broke.
bool PostgresStore::receive_signals(std::vector<std::string>& out) {
  PGconn* c = listen_conn_->get();
  if (PQconsumeInput(c) == 0 || PQstatus(c) != CONNECTION_OK) return false;
  while (PGnotify* n = PQnotifies(c)) {
    out.emplace_back(n->extra);
    PQfreemem(n);
  }
  return true;
}

// Once per outage: a caller polls every fraction of a second while the server is away.
void PostgresStore::report_listen_outage(const std::string& why) {
  if (listen_outage_reported_) return;
  listen_outage_reported_ = true;
  std::string reason = why;
  while (!reason.empty() && (reason.back() == '\n' || reason.back() == ' ')) reason.pop_back();
  spdlog::warn("PostgreSQL store: no wake-up signals until the connection is back (runs are still polled): {}",
               reason);
}

std::unique_ptr<Leadership> PostgresStore::try_lead(const std::string& role) {
  // A bigint key, apart from the exclusive store's (int, int) keys; one per role and schema.
  auto lock = std::make_unique<SessionLock>(connector(), "hashtextextended($1::text || current_schema()::text, 0)",
                                            std::move(PgParams().text("flowpilot.lead." + role + "@")));
  if (!lock->take()) return nullptr;
  return std::make_unique<PgLeadership>(std::move(lock));
}

void PostgresStore::submit(WriteBatch batch, CommitCallback done) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(Pending{std::move(batch), std::move(done)});
    ++submitted_;
  }
  work_cv_.notify_one();
}

void PostgresStore::flush() {
  if (std::this_thread::get_id() == writer_.get_id()) {
    throw StoreError("Store::flush called from a commit callback would wait for itself");
  }
  std::unique_lock lock(mu_);
  const std::uint64_t target = submitted_;
  done_cv_.wait(lock, [&] { return completed_ >= target; });
}

void PostgresStore::writer_loop() {
  std::vector<Pending> group;
  std::vector<CommitResult> results;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      work_cv_.wait(lock, [&] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) return;  // stopping, and everything submitted has been handled
      std::size_t ops = 0;
      // A batch is never split; one larger than the limit goes alone.
      while (!queue_.empty()) {
        const std::size_t n = queue_.front().batch.ops.size();
        if (!group.empty() && ops + n > max_ops_per_commit_) break;
        ops += n;
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    results.clear();
    results.resize(group.size());
    const auto started = std::chrono::steady_clock::now();
    process_group(group, results);
    if (on_commit_) on_commit_(std::chrono::steady_clock::now() - started, group.size());
    for (std::size_t i = 0; i < group.size(); ++i) {
      if (!group[i].done) continue;
      try {
        group[i].done(std::move(results[i]));
      } catch (...) {
        // A throwing callback must not take the writer, and with it every other caller, down.
      }
    }
    const std::size_t n = group.size();
    group.clear();
    {
      std::lock_guard lock(mu_);
      completed_ += n;
    }
    done_cv_.notify_all();
  }
}

void PostgresStore::process_group(std::vector<Pending>& group, std::vector<CommitResult>& results) {
  bool any_ops = false;
  for (const Pending& p : group) any_ops = any_ops || !p.batch.empty();
  if (!any_ops) return;
  std::exception_ptr failure;
  for (int attempt = 1;; ++attempt) {
    commit_sent_ = false;
    try {
      if (!writer_conn_ || !writer_conn_->usable()) writer_conn_ = connect();
      run_transaction(group, results);
      return;
    } catch (const PgError& e) {
      failure = std::current_exception();
      rollback_if_open();
      // A COMMIT without an answer may have been applied: trying again could apply it twice.
      if (commit_sent_ && e.connection_lost()) {
        failure = std::make_exception_ptr(StoreError(
            std::string("PostgreSQL store: the connection was lost during COMMIT, whose outcome is unknown: ") +
            e.what()));
        break;
      }
      if (!e.transient() || attempt >= kMaxTransactionAttempts) break;
    } catch (...) {
      failure = std::current_exception();
      rollback_if_open();
      break;
    }
    for (CommitResult& r : results) r = CommitResult{};
    std::this_thread::sleep_for(kFirstRetryDelay * (1 << (attempt - 1)));
  }
  // Nothing of a failed group happened: no runs created, pruned, claimed or woken.
  for (CommitResult& r : results) {
    r = CommitResult{};
    r.error = failure;
  }
}

// The fast path: every statement of the group sent in one pipeline inside one transaction, so a
// group costs three round trips (BEGIN, the pipeline, COMMIT) instead of several per write.
// Returns false, with the transaction rolled back, when a statement failed or a fence no longer
// holds: the careful path below then finds out which batch it was.
bool PostgresStore::run_pipelined(std::vector<Pending>& group, std::vector<CommitResult>& results) {
  PgConnection& c = *writer_conn_;
  std::vector<Statement> statements;
  std::vector<std::size_t> batch_of;  // the group member each statement belongs to
  for (std::size_t i = 0; i < group.size(); ++i) {
    const WriteBatch& batch = group[i].batch;
    if (const auto& fence = batch.fence) {
      statements.push_back(Statement{kLeaseOf, std::move(PgParams().text(fence->run_id)),
                                     [fence = *fence](const PGresult* r, CommitResult&) { require_lease(r, fence); }});
    }
    for (const WriteOp& op : batch.ops) plan(op, statements);
    batch_of.resize(statements.size(), i);
  }
  if (statements.empty()) return true;
  std::vector<std::pair<std::string_view, const PgParams*>> sent;
  sent.reserve(statements.size());
  for (const Statement& st : statements) sent.emplace_back(st.sql, &st.params);
  c.exec("BEGIN");
  try {
    std::vector<PgResult> answers = c.pipeline(sent);
    for (std::size_t k = 0; k < statements.size(); ++k) {
      if (statements[k].handler) statements[k].handler(answers[k].get(), results[batch_of[k]]);
    }
  } catch (const PgError& e) {
    if (e.transient() || !c.usable()) throw;
    rollback_if_open();
    for (CommitResult& r : results) r = CommitResult{};
    return false;
  } catch (const StoreError&) {
    rollback_if_open();
    for (CommitResult& r : results) r = CommitResult{};
    return false;
  }
  commit_sent_ = true;
  c.exec("COMMIT");
  return true;
}

void PostgresStore::run_transaction(std::vector<Pending>& group, std::vector<CommitResult>& results) {
  if (run_pipelined(group, results)) return;
  PgConnection& c = *writer_conn_;
  c.exec("BEGIN");
  // In PostgreSQL a failed statement aborts the whole transaction: with more than one batch in the
  // group, each batch runs inside a savepoint so that its failure is its own.
  const bool isolate = group.size() > 1;
  for (std::size_t i = 0; i < group.size(); ++i) {
    const WriteBatch& batch = group[i].batch;
    if (batch.empty()) continue;
    if (isolate) c.exec("SAVEPOINT batch");
    try {
      if (batch.fence) check_fence(*batch.fence);
      for (const WriteOp& op : batch.ops) apply(op, results[i]);
      if (isolate) c.exec("RELEASE SAVEPOINT batch");
    } catch (const PgError& e) {
      if (!isolate || e.transient() || !c.usable()) throw;
      results[i] = CommitResult{};
      results[i].error = std::current_exception();
      c.exec("ROLLBACK TO SAVEPOINT batch");
      c.exec("RELEASE SAVEPOINT batch");
    } catch (const StoreError&) {
      if (!isolate) throw;
      results[i] = CommitResult{};
      results[i].error = std::current_exception();
      c.exec("ROLLBACK TO SAVEPOINT batch");
      c.exec("RELEASE SAVEPOINT batch");
    }
  }
  commit_sent_ = true;
  c.exec("COMMIT");
}

void PostgresStore::check_fence(const LeaseFence& fence) {
  require_lease(writer_conn_->query(kLeaseOf, PgParams().text(fence.run_id)).get(), fence);
}

void PostgresStore::rollback_if_open() noexcept {
  if (!writer_conn_ || !writer_conn_->usable() || !writer_conn_->in_transaction()) return;
  try {
    writer_conn_->exec("ROLLBACK");
  } catch (const StoreError&) {
    writer_conn_.reset();  // opened again for the next group
  }
}

void PostgresStore::plan(const WriteOp& op, std::vector<Statement>& out) const {
  // Params arrive as the builder chain's reference to a temporary: moved, not copied (they hold
  // whole step outputs).
  auto add = [&out](std::string_view sql, PgParams& params, Statement::Handler handler = nullptr) {
    out.push_back(Statement{sql, std::move(params), std::move(handler)});
  };
  {
    if (const auto* o = std::get_if<PutStep>(&op)) {
      const StepRecord& r = o->record;
      add(kPutStep, PgParams()
                            .text(r.run_id)
                            .text(r.step_id)
                            .integer(r.index)
                            .text(to_string(r.status))
                            .integer(r.attempt)
                            .json(r.output)
                            .text(r.error)
                            .integer(r.item_count)
                            .integer(r.started_at)
                            .integer(r.finished_at)
                            .integer(r.wake_at));
    } else if (const auto* o = std::get_if<PutAttempt>(&op)) {
      const AttemptRecord& r = o->record;
      add(kPutAttempt, PgParams()
                               .text(r.run_id)
                               .text(r.step_id)
                               .integer(r.index)
                               .integer(r.attempt)
                               .text(to_string(r.status))
                               .json(r.input)
                               .json(r.output)
                               .text(r.error)
                               .integer(r.started_at)
                               .integer(r.finished_at));
    } else if (const auto* o = std::get_if<AppendLog>(&op)) {
      const LogRecord& r = o->record;
      add(kAppendLog, PgParams()
                              .text(r.run_id)
                              .text(r.step_id)
                              .integer(r.index)
                              .integer(r.attempt)
                              .integer(r.at)
                              .text(r.level)
                              .text(r.message));
    } else if (const auto* o = std::get_if<PutRun>(&op)) {
      PgParams p;
      add(kPutRun, add_run(p, o->record));
    } else if (const auto* o = std::get_if<CreateRun>(&op)) {
      PgParams p;
      const bool leased = !o->lease_owner.empty();
      add_run(p, o->record).text(o->lease_owner).integer(leased ? 1 : 0).integer(leased ? o->lease_expires_at : 0);
      add(kCreateRun, p, [](const PGresult* r, CommitResult& result) {
        if (PQntuples(r) == 0) throw StoreError("run insert ignored but its idempotency key has no run");
        result.created_runs.push_back({pg_text(r, 0, 0), pg_bool(r, 0, 1)});
      });
    } else if (const auto* o = std::get_if<PutApproval>(&op)) {
      const ApprovalRecord& r = o->record;
      add(kPutApproval, PgParams()
                                .text(r.run_id)
                                .text(r.step_id)
                                .text(to_string(r.status))
                                .text(r.message)
                                .text(r.comment)
                                .text(r.decided_by)
                                .integer(r.created_at)
                                .integer(r.decided_at)
                                .integer(r.expires_at));
    } else if (const auto* o = std::get_if<PutWorkflowVersion>(&op)) {
      const WorkflowVersionRecord& r = o->record;
      add(kPutWorkflowVersion, PgParams()
                                       .text(r.workflow_id)
                                       .text(r.version)
                                       .text(r.format)
                                       .text(r.source_file)
                                       .text(r.source_text)
                                       .integer(r.created_at));
    } else if (const auto* o = std::get_if<PutWorkflow>(&op)) {
      const WorkflowRecord& r = o->record;
      add(kPutWorkflow, PgParams()
                                .text(r.id)
                                .text(r.source)
                                .text(r.source_file)
                                .boolean(r.enabled)
                                .text(r.current_version)
                                .integer(r.revision)
                                .integer(r.created_at)
                                .integer(r.updated_at));
    } else if (const auto* o = std::get_if<AppendRevision>(&op)) {
      const RevisionRecord& r = o->record;
      add(kAppendRevision,
              PgParams().text(r.workflow_id).integer(r.revision).text(r.version).text(r.note).integer(r.created_at));
    } else if (const auto* o = std::get_if<DeleteWorkflow>(&op)) {
      add(kDeleteWorkflow, PgParams().text(o->workflow_id));
      add(kDeleteRevisions, PgParams().text(o->workflow_id));
    } else if (const auto* o = std::get_if<PruneRuns>(&op)) {
      add(kPruneRuns, PgParams().integer(o->finished_before).integer(o->limit),
          [](const PGresult* r, CommitResult& result) { result.pruned_runs += static_cast<std::size_t>(PQntuples(r)); });
    } else if (const auto* o = std::get_if<PutScheduleFired>(&op)) {
      add(kPutScheduleFired, PgParams().text(o->schedule_key).integer(o->fired_at));
    } else if (const auto* o = std::get_if<PutConnection>(&op)) {
      const ConnectionRecord& r = o->record;
      add(kPutConnection, PgParams()
                                  .text(r.name)
                                  .text(r.type)
                                  .json(r.config)
                                  .text(r.key_id)
                                  .text(r.nonce)
                                  .text(r.ciphertext)
                                  .integer(r.created_at)
                                  .integer(r.updated_at));
    } else if (const auto* o = std::get_if<DeleteConnection>(&op)) {
      add(kDeleteConnection, PgParams().text(o->name));
    } else if (const auto* o = std::get_if<PutUser>(&op)) {
      const UserRecord& r = o->record;
      add(kPutUser, PgParams()
                            .text(r.id)
                            .text(r.email)
                            .text(r.name)
                            .text(r.role)
                            .text(r.password_hash)
                            .boolean(r.disabled)
                            .integer(r.created_at)
                            .integer(r.updated_at)
                            .integer(r.password_changed_at));
    } else if (const auto* o = std::get_if<PutToken>(&op)) {
      const TokenRecord& r = o->record;
      add(kPutToken, PgParams()
                             .text(r.id)
                             .text(r.user_id)
                             .text(r.name)
                             .text(r.secret_hash)
                             .text(r.prefix)
                             .text(join_words(r.scopes))
                             .integer(r.created_at)
                             .integer(r.expires_at)
                             .integer(r.revoked_at)
                             .text(join_words(r.workflows)));
    } else if (const auto* o = std::get_if<PutSession>(&op)) {
      const SessionRecord& r = o->record;
      add(kPutSession, PgParams()
                               .text(r.id_hash)
                               .text(r.user_id)
                               .text(r.csrf_token)
                               .text(r.address)
                               .text(r.user_agent)
                               .integer(r.created_at)
                               .integer(r.last_seen_at)
                               .integer(r.expires_at)
                               .integer(r.revoked_at));
    } else if (const auto* o = std::get_if<RevokeSessions>(&op)) {
      add(kRevokeSessions, PgParams().text(o->user_id).integer(o->at));
    } else if (const auto* o = std::get_if<PruneSessions>(&op)) {
      add(kPruneSessions, PgParams().integer(o->before));
    } else if (const auto* o = std::get_if<AppendAudit>(&op)) {
      const AuditRecord& r = o->record;
      add(kAppendAudit, PgParams()
                                .integer(r.at)
                                .text(r.actor_id)
                                .text(r.actor_email)
                                .text(r.actor_kind)
                                .text(r.address)
                                .text(r.action)
                                .text(r.target)
                                .json(r.details)
                                .text(r.request_id));
    } else if (const auto* o = std::get_if<DeleteRunLogs>(&op)) {
      add(kDeleteRunLogs, PgParams().text(o->run_id));
    } else if (const auto* o = std::get_if<PutRecommendationDecision>(&op)) {
      const RecommendationDecisionRecord& r = o->record;
      add(kPutRecommendationDecision, PgParams()
                                              .text(r.id)
                                              .text(r.status)
                                              .text(r.rule)
                                              .text(r.action)
                                              .text(r.platform)
                                              .text(r.account_id)
                                              .text(r.campaign_id)
                                              .text(r.run_id)
                                              .text(r.decided_by)
                                              .text(r.comment)
                                              .integer(r.decided_at));
    } else if (const auto* o = std::get_if<ClaimRuns>(&op)) {
      add(kClaimRuns, PgParams().text(o->owner).integer(o->now).integer(o->limit).integer(o->ttl_ms),
          [](const PGresult* r, CommitResult& result) {
            std::vector<RunLease> claimed;
            for (int i = 0; i < PQntuples(r); ++i) claimed.push_back({pg_text(r, i, 0), pg_int(r, i, 1), pg_int(r, i, 2)});
            std::sort(claimed.begin(), claimed.end(),
                      [](const RunLease& a, const RunLease& b) { return a.run_id < b.run_id; });
            result.claimed.insert(result.claimed.end(), claimed.begin(), claimed.end());
          });
    } else if (const auto* o = std::get_if<RenewLeases>(&op)) {
      for (const RunLease& lease : o->leases) {
        add(kRenewLease, PgParams().text(lease.run_id).text(o->owner).integer(o->now + o->ttl_ms).integer(lease.epoch),
            [id = lease.run_id](const PGresult* r, CommitResult& result) {
              if (PQntuples(r) == 0) {
                result.lost_leases.push_back(id);
              } else if (pg_bool(r, 0, 0)) {
                result.woken.push_back(id);
              }
            });
      }
    } else if (const auto* o = std::get_if<ReleaseLease>(&op)) {
      add(kReleaseLease, PgParams().text(o->run_id).text(o->owner).integer(o->epoch).integer(o->claimable_at));
    } else if (const auto* o = std::get_if<MakeClaimable>(&op)) {
      add(kMakeClaimable, PgParams().text(o->run_id));
    } else if (const auto* o = std::get_if<DecideApproval>(&op)) {
      const ApprovalRecord& r = o->record;
      add(kDecideApproval,
          PgParams()
              .text(r.run_id)
              .text(r.step_id)
              .text(to_string(r.status))
              .text(r.comment)
              .text(r.decided_by)
              .integer(r.decided_at),
          [run = r.run_id, step = r.step_id](const PGresult* r, CommitResult&) {
            if (PQntuples(r) == 0) {
              throw Conflict(fmt::format("run {}: the approval of step {} does not exist or is no longer pending",
                                         run, step));
            }
          });
    } else if (const auto* o = std::get_if<RequestCancel>(&op)) {
      add(kRequestCancel, PgParams().text(o->run_id).text(o->reason));
    } else if (const auto* o = std::get_if<Notify>(&op)) {
      add(kNotify, PgParams().text(channel_).text(o->payload));
    }
  }
}

std::string_view PostgresStore::op_name(const WriteOp& op) {
  // Named in errors: "duplicate key value" alone does not say which write was refused.
  static constexpr std::array<std::string_view, std::variant_size_v<WriteOp>> kNames = {
        "PutWorkflowVersion", "CreateRun",      "PutRun",           "PutStep",        "PutAttempt",
        "AppendLog",          "PutApproval",    "PutWorkflow",      "AppendRevision", "DeleteWorkflow",
        "PutScheduleFired",   "PruneRuns",      "PutConnection",    "DeleteConnection", "PutUser",
        "PutToken",           "PutSession",     "RevokeSessions",   "PruneSessions",  "AppendAudit",
        "DeleteRunLogs",      "PutRecommendationDecision", "ClaimRuns", "RenewLeases", "ReleaseLease",
        "MakeClaimable",      "DecideApproval", "RequestCancel",    "Notify"};
  return kNames[op.index()];
}

void PostgresStore::apply(const WriteOp& op, CommitResult& result) {
  std::vector<Statement> statements;
  plan(op, statements);
  for (Statement& st : statements) {
    try {
      PgResult r = writer_conn_->query(st.sql, st.params);
      if (st.handler) st.handler(r.get(), result);
    } catch (const PgError& e) {
      throw PgError(e.sqlstate(), e.connection_lost(), fmt::format("{}: {}", op_name(op), e.what()));
    }
  }
}

}  // namespace

std::unique_ptr<Store> open_postgres_store(const PostgresStoreOptions& options) {
  return std::make_unique<PostgresStore>(options);
}

int postgres_schema_version() { return store_detail::postgres_schema_version(); }

}  // namespace flowpilot::engine
