#include "engine/store/sqlite_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/json/serializer.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <iterator>
#include <map>
#include <mutex>
#include <set>
#include <system_error>
#include <thread>
#include <utility>

#include "engine/store/detail/migrations.h"
#include "engine/store/detail/sqlite_handle.h"

namespace flowpilot::engine {

namespace {

using store_detail::bind_int;
using store_detail::bind_null;
using store_detail::bind_text;
using store_detail::bind_text_or_null;
using store_detail::column_int;
using store_detail::column_json;
using store_detail::column_text;
using store_detail::Db;
using store_detail::SqliteError;
using store_detail::step;
using store_detail::Stmt;
using store_detail::StmtReset;

constexpr std::size_t kMaxIdleReaders = 8;
// Transaction-level retries for SQLITE_BUSY / SQLITE_LOCKED / SQLITE_FULL, on top of the
// connection's busy timeout (BAD-INPUTS 33).
constexpr int kMaxTransactionAttempts = 4;
constexpr std::chrono::milliseconds kFirstRetryDelay{25};

// ---- SQL -------------------------------------------------------------------------------------

constexpr std::string_view kRunColumns =
    "id, workflow_id, workflow_version, status, inputs, \"trigger\", outputs, error, "
    "idempotency_key, dry_run, created_at, started_at, finished_at, trigger_type, rerun_of, "
    "cancel_requested";
constexpr std::string_view kStepColumns =
    "run_id, step_id, idx, status, attempt, output, error, item_count, started_at, finished_at, "
    "wake_at";
constexpr std::string_view kApprovalColumns =
    "run_id, step_id, status, message, comment, decided_by, created_at, decided_at, expires_at";

#define FP_RUN_COLUMNS                                                               \
  "id, workflow_id, workflow_version, status, inputs, \"trigger\", outputs, error, " \
  "idempotency_key, dry_run, created_at, started_at, finished_at, trigger_type, rerun_of"
#define FP_RUN_VALUES "?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15"
#define FP_RUN_INSERT "INSERT INTO runs(" FP_RUN_COLUMNS ") VALUES(" FP_RUN_VALUES ")"

enum WriterStmt : std::size_t {
  kBegin,
  kCommit,
  kSavepoint,
  kRelease,
  kRollbackTo,
  kPutWorkflowVersion,
  kCreateRun,
  kRunIdByKey,
  kPutRun,
  kPutStep,
  kPutAttempt,
  kAppendLog,
  kPutApproval,
  kPutWorkflow,
  kAppendRevision,
  kDeleteWorkflow,
  kDeleteRevisions,
  kPutScheduleFired,
  kPruneSelect,
  kPruneSteps,
  kPruneAttempts,
  kPruneLogs,
  kPruneApprovals,
  kPruneRuns,
  kPutConnection,
  kDeleteConnection,
  kPutUser,
  kPutToken,
  kPutSession,
  kRevokeSessions,
  kPruneSessions,
  kAppendAudit,
  kDeleteRunLogs,
  kPutRecommendationDecision,
  kClaimRuns,
  kRenewLease,
  kReleaseLease,
  kMakeClaimable,
  kLeaseOf,
  kTakeWakeUpMark,
  kDecideApproval,
  kRequestCancel,
  kWriterStmtCount,
};

constexpr std::array<std::string_view, kWriterStmtCount> kWriterSql = {
    "BEGIN IMMEDIATE",
    "COMMIT",
    "SAVEPOINT batch",
    "RELEASE batch",
    "ROLLBACK TO batch",
    "INSERT INTO workflow_versions(workflow_id, version, format, source_file, source_text, "
    "created_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(workflow_id, version) DO NOTHING",
    // The lease columns too: a run created leased is never claimable by another worker meanwhile.
    "INSERT INTO runs(" FP_RUN_COLUMNS ", lease_owner, lease_epoch, lease_expires_at) "
    "VALUES(" FP_RUN_VALUES ", ?16, ?17, ?18) ON CONFLICT(idempotency_key) DO NOTHING",
    "SELECT id FROM runs WHERE idempotency_key = ?1",
    // An upsert on the id only: a key held by another run stays a constraint violation instead of
    // silently deleting that run, as INSERT OR REPLACE would.
    FP_RUN_INSERT
    " ON CONFLICT(id) DO UPDATE SET workflow_id = excluded.workflow_id, "
    "workflow_version = excluded.workflow_version, status = excluded.status, "
    "inputs = excluded.inputs, \"trigger\" = excluded.\"trigger\", outputs = excluded.outputs, "
    "error = excluded.error, idempotency_key = excluded.idempotency_key, "
    "dry_run = excluded.dry_run, created_at = excluded.created_at, "
    "started_at = excluded.started_at, finished_at = excluded.finished_at, "
    "trigger_type = excluded.trigger_type, rerun_of = excluded.rerun_of",
    "INSERT INTO steps(run_id, step_id, idx, status, attempt, output, error, item_count, "
    "started_at, finished_at, wake_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
    "ON CONFLICT(run_id, step_id, idx) DO UPDATE SET status = excluded.status, "
    "attempt = excluded.attempt, output = excluded.output, error = excluded.error, "
    "item_count = excluded.item_count, started_at = excluded.started_at, "
    "finished_at = excluded.finished_at, wake_at = excluded.wake_at",
    "INSERT INTO attempts(run_id, step_id, idx, attempt, status, input, output, error, "
    "started_at, finished_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
    "ON CONFLICT(run_id, step_id, idx, attempt) DO UPDATE SET status = excluded.status, "
    "input = COALESCE(excluded.input, input), output = excluded.output, error = excluded.error, "
    "started_at = excluded.started_at, finished_at = excluded.finished_at",
    "INSERT INTO logs(run_id, step_id, idx, attempt, at, level, message) "
    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    "INSERT INTO approvals(run_id, step_id, status, message, comment, decided_by, created_at, "
    "decided_at, expires_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
    "ON CONFLICT(run_id, step_id) DO UPDATE SET status = excluded.status, "
    "message = excluded.message, comment = excluded.comment, decided_by = excluded.decided_by, "
    "created_at = excluded.created_at, decided_at = excluded.decided_at, "
    "expires_at = excluded.expires_at",
    "INSERT INTO workflows(id, source, source_file, enabled, current_version, revision, "
    "created_at, updated_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
    "ON CONFLICT(id) DO UPDATE SET source = excluded.source, source_file = excluded.source_file, "
    "enabled = excluded.enabled, current_version = excluded.current_version, "
    "revision = excluded.revision, created_at = excluded.created_at, "
    "updated_at = excluded.updated_at",
    "INSERT INTO workflow_revisions(workflow_id, revision, version, note, created_at) "
    "VALUES(?1, ?2, ?3, ?4, ?5)",
    "DELETE FROM workflows WHERE id = ?1",
    "DELETE FROM workflow_revisions WHERE workflow_id = ?1",
    "INSERT INTO schedules(schedule_key, fired_at) VALUES(?1, ?2) "
    "ON CONFLICT(schedule_key) DO UPDATE SET fired_at = max(fired_at, excluded.fired_at)",
    // Retention: the victims go to a temporary table first so that every table is pruned of
    // exactly the same runs.
    "INSERT INTO temp.pruned(id) SELECT id FROM runs WHERE finished_at > 0 AND finished_at < ?1 "
    "AND status NOT IN ('queued', 'running') ORDER BY id LIMIT ?2",
    "DELETE FROM steps WHERE run_id IN (SELECT id FROM temp.pruned)",
    "DELETE FROM attempts WHERE run_id IN (SELECT id FROM temp.pruned)",
    "DELETE FROM logs WHERE run_id IN (SELECT id FROM temp.pruned)",
    "DELETE FROM approvals WHERE run_id IN (SELECT id FROM temp.pruned)",
    "DELETE FROM runs WHERE id IN (SELECT id FROM temp.pruned)",
    "INSERT INTO connections(name, type, config, key_id, nonce, ciphertext, created_at, "
    "updated_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(name) DO UPDATE SET "
    "type = excluded.type, config = excluded.config, key_id = excluded.key_id, "
    "nonce = excluded.nonce, ciphertext = excluded.ciphertext, created_at = excluded.created_at, "
    "updated_at = excluded.updated_at",
    "DELETE FROM connections WHERE name = ?1",
    "INSERT INTO users(id, email, name, role, password_hash, disabled, created_at, updated_at, "
    "password_changed_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT(id) DO UPDATE SET "
    "email = excluded.email, name = excluded.name, role = excluded.role, "
    "password_hash = excluded.password_hash, disabled = excluded.disabled, "
    "updated_at = excluded.updated_at, password_changed_at = excluded.password_changed_at",
    "INSERT INTO api_tokens(id, user_id, name, secret_hash, prefix, scopes, created_at, "
    "expires_at, revoked_at, workflows) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
    "ON CONFLICT(id) DO UPDATE SET name = excluded.name, scopes = excluded.scopes, "
    "expires_at = excluded.expires_at, revoked_at = excluded.revoked_at, "
    "workflows = excluded.workflows",
    "INSERT INTO sessions(id_hash, user_id, csrf_token, address, user_agent, created_at, "
    "last_seen_at, expires_at, revoked_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
    "ON CONFLICT(id_hash) DO UPDATE SET last_seen_at = max(last_seen_at, excluded.last_seen_at), "
    "revoked_at = CASE WHEN revoked_at > 0 THEN revoked_at ELSE excluded.revoked_at END",
    "UPDATE sessions SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at = 0",
    "DELETE FROM sessions WHERE expires_at < ?1 OR (revoked_at > 0 AND revoked_at < ?1)",
    "INSERT INTO audit_log(at, actor_id, actor_email, actor_kind, address, action, target, "
    "details, request_id) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    "DELETE FROM logs WHERE run_id = ?1",
    "INSERT INTO recommendation_decisions(id, status, rule, action, platform, account_id, "
    "campaign_id, run_id, decided_by, comment, decided_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    "UPDATE runs SET lease_owner = ?1, lease_epoch = lease_epoch + 1, lease_expires_at = ?2 + ?4, "
    "claimable_at = 0 WHERE id IN (SELECT id FROM runs WHERE status IN ('queued', 'running') "
    "AND lease_expires_at <= ?2 AND claimable_at <= ?2 ORDER BY id LIMIT ?3) "
    "RETURNING id, lease_epoch, lease_expires_at",
    "UPDATE runs SET lease_expires_at = ?3 WHERE id = ?1 AND lease_owner = ?2 AND lease_epoch = ?4",
    // A wake-up mark (claimable_at < 0) set while the run was held wins over the release's time.
    "UPDATE runs SET lease_owner = '', lease_expires_at = 0, "
    "claimable_at = CASE WHEN claimable_at < 0 THEN 0 ELSE ?4 END "
    "WHERE id = ?1 AND lease_owner = ?2 AND lease_epoch = ?3",
    "UPDATE runs SET claimable_at = -1 WHERE id = ?1 AND status IN ('queued', 'running')",
    "SELECT lease_owner, lease_epoch FROM runs WHERE id = ?1",
    // Before a renewal: one writer, so clearing and reading the mark cannot race a MakeClaimable.
    "UPDATE runs SET claimable_at = 0 "
    "WHERE id = ?1 AND lease_owner = ?2 AND lease_epoch = ?3 AND claimable_at < 0",
    "UPDATE approvals SET status = ?3, comment = ?4, decided_by = ?5, decided_at = ?6 "
    "WHERE run_id = ?1 AND step_id = ?2 AND status = 'pending'",
    // Without a reason the request must still show: an empty cancel_requested means none.
    "UPDATE runs SET cancel_requested = coalesce(nullif(?2, ''), 'cancel requested'), "
    "claimable_at = -1 WHERE id = ?1 AND status IN ('queued', 'running')",
};

#undef FP_RUN_INSERT
#undef FP_RUN_VALUES
#undef FP_RUN_COLUMNS

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

// ---- error classification --------------------------------------------------------------------

// Errors after which SQLite may have rolled back the whole transaction, or that say nothing about
// the batch itself: the group is retried or failed as a whole.
bool is_transaction_error(int code) {
  switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_NOMEM:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_CANTOPEN:
    case SQLITE_INTERRUPT:
    case SQLITE_READONLY:
      return true;
    default:
      return false;
  }
}

bool is_transient(int code) {
  switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
      return true;
    default:
      return false;
  }
}

// After a failed fsync the page cache may claim data the disk never got; a later successful
// commit would acknowledge a lie, so the store stops acknowledging (BAD-INPUTS 32).
bool is_fsync_error(int code) {
  return code == SQLITE_IOERR_FSYNC || code == SQLITE_IOERR_DIR_FSYNC;
}

// ---- row readers -----------------------------------------------------------------------------

template <class Enum, class Parse>
Enum column_enum(sqlite3_stmt* stmt, int col, Parse parse, std::string_view what) {
  const std::string text = column_text(stmt, col);
  if (auto e = parse(text)) return *e;
  throw StoreError(fmt::format("database {}: unknown {} '{}'",
                               sqlite3_db_filename(sqlite3_db_handle(stmt), "main"), what, text));
}

RunRecord read_run(sqlite3_stmt* s) {
  RunRecord r;
  r.id = column_text(s, 0);
  r.workflow_id = column_text(s, 1);
  r.workflow_version = column_text(s, 2);
  r.status = column_enum<RunStatus>(s, 3, parse_run_status, "run status");
  r.inputs = column_json(s, 4);
  r.trigger = column_json(s, 5);
  r.outputs = column_json(s, 6);
  r.error = column_text(s, 7);
  r.idempotency_key = column_text(s, 8);
  r.dry_run = column_int(s, 9) != 0;
  r.created_at = column_int(s, 10);
  r.started_at = column_int(s, 11);
  r.finished_at = column_int(s, 12);
  r.rerun_of = column_text(s, 14);
  r.cancel_requested = column_text(s, 15);
  return r;
}

WorkflowRecord read_workflow(sqlite3_stmt* s) {
  WorkflowRecord r;
  r.id = column_text(s, 0);
  r.source = column_text(s, 1);
  r.source_file = column_text(s, 2);
  r.enabled = column_int(s, 3) != 0;
  r.current_version = column_text(s, 4);
  r.revision = static_cast<int>(column_int(s, 5));
  r.created_at = column_int(s, 6);
  r.updated_at = column_int(s, 7);
  return r;
}

StepRecord read_step(sqlite3_stmt* s) {
  StepRecord r;
  r.run_id = column_text(s, 0);
  r.step_id = column_text(s, 1);
  r.index = static_cast<int>(column_int(s, 2));
  r.status = column_enum<StepStatus>(s, 3, parse_step_status, "step status");
  r.attempt = static_cast<int>(column_int(s, 4));
  r.output = column_json(s, 5);
  r.error = column_text(s, 6);
  r.item_count = static_cast<int>(column_int(s, 7));
  r.started_at = column_int(s, 8);
  r.finished_at = column_int(s, 9);
  r.wake_at = column_int(s, 10);
  return r;
}

AttemptRecord read_attempt(sqlite3_stmt* s) {
  AttemptRecord r;
  r.run_id = column_text(s, 0);
  r.step_id = column_text(s, 1);
  r.index = static_cast<int>(column_int(s, 2));
  r.attempt = static_cast<int>(column_int(s, 3));
  r.status = column_enum<StepStatus>(s, 4, parse_step_status, "attempt status");
  r.input = column_json(s, 5);
  r.output = column_json(s, 6);
  r.error = column_text(s, 7);
  r.started_at = column_int(s, 8);
  r.finished_at = column_int(s, 9);
  return r;
}

ApprovalRecord read_approval(sqlite3_stmt* s) {
  ApprovalRecord r;
  r.run_id = column_text(s, 0);
  r.step_id = column_text(s, 1);
  r.status = column_enum<ApprovalStatus>(s, 2, parse_approval_status, "approval status");
  r.message = column_text(s, 3);
  r.comment = column_text(s, 4);
  r.decided_by = column_text(s, 5);
  r.created_at = column_int(s, 6);
  r.decided_at = column_int(s, 7);
  r.expires_at = column_int(s, 8);
  return r;
}

// ---- the store -------------------------------------------------------------------------------

// A read-only connection with its own statement cache, used by one thread at a time.
class Reader {
 public:
  explicit Reader(const std::string& path)
      : db_(store_detail::open_db(path, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX)) {}

  sqlite3_stmt* stmt(std::string_view sql) {
    auto it = stmts_.find(sql);
    if (it == stmts_.end()) {
      it = stmts_.emplace(std::string(sql), store_detail::prepare(db_.get(), sql)).first;
    }
    return it->second.get();
  }

 private:
  Db db_;  // declared first so the statements are finalized before it closes
  std::map<std::string, Stmt, std::less<>> stmts_;
};

// Store::try_lead for SQLite: one process owns the file, so leading is decided within the process,
// one Leadership per (database file, role) at a time.
class LocalLeadership final : public Leadership {
 public:
  // Null when a Leadership for `key` exists.
  static std::unique_ptr<Leadership> try_take(std::string key) {
    std::lock_guard lock(mu());
    if (!held_keys().insert(key).second) return nullptr;
    return std::unique_ptr<Leadership>(new LocalLeadership(std::move(key)));
  }
  ~LocalLeadership() override {
    std::lock_guard lock(mu());
    held_keys().erase(key_);
  }
  LocalLeadership(const LocalLeadership&) = delete;
  LocalLeadership& operator=(const LocalLeadership&) = delete;

  bool held() override { return true; }  // nothing outside this object can end it

 private:
  explicit LocalLeadership(std::string key) : key_(std::move(key)) {}
  static std::mutex& mu() {
    static std::mutex m;
    return m;
  }
  static std::set<std::string>& held_keys() {
    static std::set<std::string> keys;
    return keys;
  }

  std::string key_;
};

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(const SqliteStoreOptions& options);
  ~SqliteStore() override;

  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  void submit(WriteBatch batch, CommitCallback done) override;
  std::optional<WorkflowVersionRecord> get_workflow_version(const std::string& workflow_id,
                                                            const std::string& version) override;
  std::optional<RunRecord> get_run(const std::string& run_id) override;
  std::optional<RunRecord> find_run_by_idempotency_key(const std::string& key) override;
  std::vector<RunRecord> list_runs(const RunFilter& filter) override;
  std::vector<WorkflowRunSummary> summarize_runs(EpochMillis since) override;
  std::vector<std::string> unfinished_run_ids() override;
  std::vector<StepRecord> get_steps(const std::string& run_id) override;
  std::vector<AttemptRecord> get_attempts(const std::string& run_id) override;
  std::vector<LogRecord> get_logs(const std::string& run_id) override;
  std::optional<ApprovalRecord> get_approval(const std::string& run_id,
                                             const std::string& step_id) override;
  std::vector<ApprovalRecord> list_approvals(std::optional<ApprovalStatus> status) override;
  std::vector<WorkflowRecord> list_workflows() override;
  std::optional<WorkflowRecord> get_workflow(const std::string& workflow_id) override;
  std::vector<RevisionRecord> list_revisions(const std::string& workflow_id) override;
  std::optional<EpochMillis> get_schedule_fired(const std::string& schedule_key) override;
  std::vector<ConnectionRecord> list_connections() override;
  std::optional<ConnectionRecord> get_connection(const std::string& name) override;
  std::vector<UserRecord> list_users() override;
  std::optional<UserRecord> get_user_by_email(const std::string& email) override;
  std::optional<UserRecord> get_user(const std::string& user_id) override;
  std::optional<TokenRecord> get_token_by_hash(const std::string& secret_hash) override;
  std::optional<TokenRecord> get_token(const std::string& token_id) override;
  std::vector<TokenRecord> list_tokens(const std::string& user_id) override;
  std::optional<SessionRecord> get_session(const std::string& id_hash) override;
  std::vector<AuditRecord> list_audit(const AuditFilter& filter) override;
  std::vector<RecommendationDecisionRecord> get_recommendation_decisions(
      const std::vector<std::string>& ids) override;
  void flush() override;
  std::vector<std::string> wait_for_signals(std::chrono::milliseconds timeout) override;
  std::unique_ptr<Leadership> try_lead(const std::string& role) override;

 private:
  struct Pending {
    WriteBatch batch;
    CommitCallback done;
  };

  // Hands a pooled reader out and takes it back when the lease ends.
  class ReaderLease {
   public:
    ReaderLease(SqliteStore& store, std::unique_ptr<Reader> reader)
        : store_(store), reader_(std::move(reader)) {}
    ~ReaderLease() { store_.release_reader(std::move(reader_)); }
    ReaderLease(const ReaderLease&) = delete;
    ReaderLease& operator=(const ReaderLease&) = delete;
    Reader* operator->() const { return reader_.get(); }

   private:
    SqliteStore& store_;
    std::unique_ptr<Reader> reader_;
  };

  ReaderLease acquire_reader();
  void release_reader(std::unique_ptr<Reader> reader);

  void writer_loop();
  void checkpointer_loop();
  static int on_wal_commit(void* self, sqlite3* db, const char* name, int pages);
  void process_group(std::vector<Pending>& group, std::vector<CommitResult>& results);
  void run_transaction(std::vector<Pending>& group, std::vector<CommitResult>& results);
  void apply(const WriteOp& op, CommitResult& result);
  void renew_lease(const RenewLeases& renew, const RunLease& lease, CommitResult& result);
  void decide_approval(const ApprovalRecord& decision);
  void deliver_signals(const std::vector<Pending>& group, const std::vector<CommitResult>& results);
  void check_fence(const LeaseFence& fence);
  void run_stmt(WriterStmt which);
  void bind_json(sqlite3_stmt* stmt, int index, const boost::json::value& value, std::size_t buf);
  void bind_run(sqlite3_stmt* stmt, const RunRecord& r);
  void rollback_if_open() noexcept;

  const std::string path_;
  const std::size_t max_ops_per_commit_;
  const std::function<void(std::chrono::duration<double>, std::size_t)> on_commit_;

  // Writer-thread state (the constructor prepares it before the thread starts).
  Db writer_db_;
  std::array<Stmt, kWriterStmtCount> writer_stmts_;
  boost::json::serializer serializer_;
  std::array<std::string, 3> json_bufs_;  // reused so serializing allocates only to grow
  std::exception_ptr broken_;             // set after an fsync failure; every later batch fails

  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  std::deque<Pending> queue_;
  std::uint64_t submitted_ = 0;  // batches submitted
  // Lock-free view of submitted_ for the writer's short spin; completed_hint_ is what the writer
  // had taken when it last looked (writer thread only).
  std::atomic<std::uint64_t> submitted_hint_{0};
  std::uint64_t completed_hint_ = 0;
  std::uint64_t completed_ = 0;  // batches whose callbacks have run
  bool stopping_ = false;

  std::mutex readers_mu_;
  std::vector<std::unique_ptr<Reader>> idle_readers_;

  // Notify payloads of committed batches, for wait_for_signals. Nothing is kept until someone
  // listens, and the oldest go first past kMaxQueuedSignals: listeners poll the store anyway.
  std::mutex signals_mu_;
  std::condition_variable signals_cv_;
  std::deque<std::string> signals_;
  bool listening_ = false;

  // Checkpoints run on their own thread and connection: done inside a commit (SQLite's default)
  // they stall that commit, and every caller waiting on it, for a full database fsync.
  std::mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;
  int wal_pages_ = 0;  // WAL size after the last commit, in pages
  bool checkpoint_stopping_ = false;
  std::thread checkpointer_;

  std::thread writer_;  // last: starts after everything above exists, joins before it goes
};

namespace {
constexpr auto kSpinBeforeSleep = std::chrono::microseconds(50);
constexpr std::size_t kMaxQueuedSignals = 10'000;
constexpr int kCheckpointPages = 1000;         // like SQLite's wal_autocheckpoint default
constexpr int kRestartCheckpointPages = 50000;  // WAL never emptied by passive checkpoints
}  // namespace

SqliteStore::SqliteStore(const SqliteStoreOptions& options)
    : path_(options.path.string()),
      max_ops_per_commit_(options.max_ops_per_commit == 0 ? 1 : options.max_ops_per_commit),
      on_commit_(options.on_commit) {
  if (path_.empty()) throw StoreError("SQLite store: no database path given");
  const auto parent = options.path.parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) {
      throw StoreError(fmt::format("cannot open database {}: cannot create directory {}: {}", path_,
                                   parent.string(), ec.message()));
    }
  }
  try {
    writer_db_ = store_detail::open_db(
        path_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX);
    sqlite3* db = writer_db_.get();
    {
      Stmt mode = store_detail::prepare(db, "PRAGMA journal_mode=WAL");
      StmtReset reset(mode.get());
      const std::string got = step(mode.get()) ? column_text(mode.get(), 0) : std::string();
      if (got != "wal") {
        throw StoreError(
            fmt::format("cannot open database {}: WAL mode unavailable (got '{}')", path_, got));
      }
    }
    store_detail::exec(db, options.durability == Durability::full ? "PRAGMA synchronous=FULL"
                                                                  : "PRAGMA synchronous=NORMAL");
    store_detail::migrate(db, path_);
    store_detail::exec(db, "PRAGMA wal_autocheckpoint=0");
    store_detail::exec(db, "CREATE TEMP TABLE IF NOT EXISTS pruned(id TEXT PRIMARY KEY)");
    sqlite3_wal_hook(db, &SqliteStore::on_wal_commit, this);
    for (std::size_t i = 0; i < kWriterStmtCount; ++i) {
      writer_stmts_[i] = store_detail::prepare(db, kWriterSql[i]);
    }
  } catch (const SqliteError& e) {
    const std::string_view what = e.what();
    // Messages from the helpers already name the file; opening errors say "cannot open".
    if (what.find(path_) != std::string_view::npos) throw;
    throw SqliteError(e.code(), fmt::format("cannot open database {}: {}", path_, what));
  }
  // A reader opened here surfaces permission problems at open rather than at the first read.
  release_reader(std::make_unique<Reader>(path_));
  checkpointer_ = std::thread([this] { checkpointer_loop(); });
  writer_ = std::thread([this] { writer_loop(); });
}

int SqliteStore::on_wal_commit(void* self, sqlite3*, const char*, int pages) {
  auto* store = static_cast<SqliteStore*>(self);
  {
    std::lock_guard lock(store->checkpoint_mu_);
    store->wal_pages_ = pages;
  }
  if (pages >= kCheckpointPages) store->checkpoint_cv_.notify_one();
  return SQLITE_OK;
}

void SqliteStore::checkpointer_loop() {
  Db db;
  try {
    db = store_detail::open_db(path_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX);
    store_detail::exec(db.get(), "PRAGMA busy_timeout=5000");
  } catch (const std::exception&) {
    return;  // without a checkpointer the WAL grows; the writer's close still checkpoints it
  }
  std::unique_lock lock(checkpoint_mu_);
  for (;;) {
    checkpoint_cv_.wait(lock, [&] { return checkpoint_stopping_ || wal_pages_ >= kCheckpointPages; });
    if (checkpoint_stopping_) return;
    const int mode =
        wal_pages_ >= kRestartCheckpointPages ? SQLITE_CHECKPOINT_RESTART : SQLITE_CHECKPOINT_PASSIVE;
    wal_pages_ = 0;
    lock.unlock();
    // Errors (busy, I/O) are retried at the next threshold; the commit path reports real I/O errors.
    sqlite3_wal_checkpoint_v2(db.get(), nullptr, mode, nullptr, nullptr);
    lock.lock();
  }
}

SqliteStore::~SqliteStore() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_one();
  writer_.join();
  {
    std::lock_guard lock(checkpoint_mu_);
    checkpoint_stopping_ = true;
  }
  checkpoint_cv_.notify_one();
  checkpointer_.join();
  // Readers close before the writer so the last connection to close (the writer) checkpoints the
  // WAL and removes it.
  idle_readers_.clear();
}

void SqliteStore::submit(WriteBatch batch, CommitCallback done) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(Pending{std::move(batch), std::move(done)});
    submitted_hint_.fetch_add(1, std::memory_order_release);
    ++submitted_;
  }
  work_cv_.notify_one();
}

void SqliteStore::flush() {
  if (std::this_thread::get_id() == writer_.get_id()) {
    throw StoreError("Store::flush called from a commit callback would wait for itself");
  }
  std::unique_lock lock(mu_);
  const std::uint64_t target = submitted_;
  done_cv_.wait(lock, [&] { return completed_ >= target; });
}

void SqliteStore::writer_loop() {
  std::vector<Pending> group;
  std::vector<CommitResult> results;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      if (queue_.empty() && !stopping_) {
        // A chain of steps submits its next batch a few microseconds after the previous commit's
        // callback; waiting that long awake saves a sleep and a wake-up per step, which on a VM
        // cost more than the commit itself.
        lock.unlock();
        const auto until = std::chrono::steady_clock::now() + kSpinBeforeSleep;
        while (submitted_hint_.load(std::memory_order_acquire) == completed_hint_ &&
               std::chrono::steady_clock::now() < until) {
          std::this_thread::yield();
        }
        lock.lock();
      }
      work_cv_.wait(lock, [&] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) return;  // stopping, and everything submitted has been handled
      completed_hint_ = submitted_;
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
    const auto commit_started = std::chrono::steady_clock::now();
    process_group(group, results);
    if (on_commit_) on_commit_(std::chrono::steady_clock::now() - commit_started, group.size());
    deliver_signals(group, results);
    for (std::size_t i = 0; i < group.size(); ++i) {
      if (!group[i].done) continue;
      try {
        group[i].done(std::move(results[i]));
      } catch (...) {
        // A throwing callback must not take the writer, and with it every other caller, down;
        // the store has no logger, and the batch itself is already committed.
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

void SqliteStore::process_group(std::vector<Pending>& group, std::vector<CommitResult>& results) {
  std::exception_ptr failure = broken_;
  if (!failure) {
    bool any_ops = false;
    for (const Pending& p : group) any_ops = any_ops || !p.batch.empty();
    if (!any_ops) return;
    for (int attempt = 1;; ++attempt) {
      try {
        run_transaction(group, results);
        return;
      } catch (const SqliteError& e) {
        failure = std::current_exception();
        rollback_if_open();
        if (is_fsync_error(e.code())) {
          broken_ = failure;
          break;
        }
        if (!is_transient(e.code()) || attempt >= kMaxTransactionAttempts) break;
      } catch (...) {
        failure = std::current_exception();
        rollback_if_open();
        break;
      }
      for (CommitResult& r : results) r = CommitResult{};
      std::this_thread::sleep_for(kFirstRetryDelay * (1 << (attempt - 1)));
    }
  }
  // Nothing of a failed group happened: no runs created, claimed or woken.
  for (CommitResult& r : results) {
    r = CommitResult{};
    r.error = failure;
  }
}

void SqliteStore::run_transaction(std::vector<Pending>& group, std::vector<CommitResult>& results) {
  sqlite3* db = writer_db_.get();
  run_stmt(kBegin);
  // With one batch in the group its failure is the transaction's failure: no savepoint needed.
  const bool isolate = group.size() > 1;
  for (std::size_t i = 0; i < group.size(); ++i) {
    const WriteBatch& batch = group[i].batch;
    if (batch.empty()) continue;
    // A single statement that fails rolls back only itself, so one-op batches skip the savepoint.
    const bool savepoint = isolate && batch.ops.size() > 1;
    if (savepoint) run_stmt(kSavepoint);
    try {
      if (batch.fence) check_fence(*batch.fence);
      for (const WriteOp& op : batch.ops) apply(op, results[i]);
      if (savepoint) run_stmt(kRelease);
    } catch (const SqliteError& e) {
      if (is_transaction_error(e.code()) || sqlite3_get_autocommit(db) != 0) throw;
      if (!savepoint && batch.ops.size() > 1) throw;
      results[i] = CommitResult{};
      results[i].error = std::current_exception();
      if (savepoint) {
        run_stmt(kRollbackTo);
        run_stmt(kRelease);
      }
    } catch (const StoreError&) {
      if (sqlite3_get_autocommit(db) != 0) throw;
      if (!savepoint && batch.ops.size() > 1) throw;
      results[i] = CommitResult{};
      results[i].error = std::current_exception();
      if (savepoint) {
        run_stmt(kRollbackTo);
        run_stmt(kRelease);
      }
    }
  }
  run_stmt(kCommit);
}

void SqliteStore::check_fence(const LeaseFence& fence) {
  sqlite3_stmt* s = writer_stmts_[kLeaseOf].get();
  StmtReset reset(s);
  bind_text(s, 1, fence.run_id);
  if (!step(s) || column_text(s, 0) != fence.owner || column_int(s, 1) != fence.epoch) {
    throw LeaseLost(fmt::format("run {}: the lease of {} (epoch {}) is no longer held; the write is refused",
                                fence.run_id, fence.owner, fence.epoch));
  }
}

void SqliteStore::renew_lease(const RenewLeases& renew, const RunLease& lease,
                              CommitResult& result) {
  sqlite3_stmt* take = writer_stmts_[kTakeWakeUpMark].get();
  StmtReset reset_take(take);
  bind_text(take, 1, lease.run_id);
  bind_text(take, 2, renew.owner);
  bind_int(take, 3, lease.epoch);
  step(take);
  const bool woken = sqlite3_changes(writer_db_.get()) > 0;
  sqlite3_stmt* s = writer_stmts_[kRenewLease].get();
  StmtReset reset(s);
  bind_text(s, 1, lease.run_id);
  bind_text(s, 2, renew.owner);
  bind_int(s, 3, renew.now + renew.ttl_ms);
  bind_int(s, 4, lease.epoch);
  step(s);
  if (sqlite3_changes(writer_db_.get()) == 0) {
    result.lost_leases.push_back(lease.run_id);
  } else if (woken) {
    result.woken.push_back(lease.run_id);
  }
}

void SqliteStore::decide_approval(const ApprovalRecord& decision) {
  sqlite3_stmt* s = writer_stmts_[kDecideApproval].get();
  StmtReset reset(s);
  bind_text(s, 1, decision.run_id);
  bind_text(s, 2, decision.step_id);
  bind_text(s, 3, to_string(decision.status));
  bind_text(s, 4, decision.comment);
  bind_text(s, 5, decision.decided_by);
  bind_int(s, 6, decision.decided_at);
  step(s);
  if (sqlite3_changes(writer_db_.get()) == 0) {
    throw Conflict(
        fmt::format("run {}: the approval of step {} does not exist or is no longer pending",
                    decision.run_id, decision.step_id));
  }
}

// Runs on the writer thread after the group's commit: only batches that committed signal.
void SqliteStore::deliver_signals(const std::vector<Pending>& group,
                                  const std::vector<CommitResult>& results) {
  std::size_t delivered = 0;
  {
    std::lock_guard lock(signals_mu_);
    if (!listening_) return;
    for (std::size_t i = 0; i < group.size(); ++i) {
      if (results[i].error) continue;
      for (const WriteOp& op : group[i].batch.ops) {
        const auto* notify = std::get_if<Notify>(&op);
        if (notify == nullptr) continue;
        if (signals_.size() >= kMaxQueuedSignals) signals_.pop_front();
        signals_.push_back(notify->payload);
        ++delivered;
      }
    }
  }
  if (delivered > 0) signals_cv_.notify_all();
}

std::vector<std::string> SqliteStore::wait_for_signals(std::chrono::milliseconds timeout) {
  std::unique_lock lock(signals_mu_);
  listening_ = true;
  signals_cv_.wait_for(lock, timeout, [&] { return !signals_.empty(); });
  std::vector<std::string> out(std::make_move_iterator(signals_.begin()),
                               std::make_move_iterator(signals_.end()));
  signals_.clear();
  return out;
}

std::unique_ptr<Leadership> SqliteStore::try_lead(const std::string& role) {
  // The same file under two spellings is one store.
  std::error_code ec;
  std::filesystem::path file = std::filesystem::weakly_canonical(path_, ec);
  if (ec) file = path_;
  return LocalLeadership::try_take(file.string() + '\n' + role);
}

void SqliteStore::rollback_if_open() noexcept {
  sqlite3* db = writer_db_.get();
  if (sqlite3_get_autocommit(db) == 0) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
}

void SqliteStore::run_stmt(WriterStmt which) {
  sqlite3_stmt* s = writer_stmts_[which].get();
  StmtReset reset(s);
  step(s);
}

void SqliteStore::bind_json(sqlite3_stmt* stmt, int index, const boost::json::value& value,
                            std::size_t buf) {
  if (value.is_null()) {
    bind_null(stmt, index);
    return;
  }
  std::string& out = json_bufs_[buf];
  out.clear();
  serializer_.reset(&value);
  char chunk[4096];
  while (!serializer_.done()) out.append(serializer_.read(chunk, sizeof chunk));
  bind_text(stmt, index, out);
}

void SqliteStore::bind_run(sqlite3_stmt* s, const RunRecord& r) {
  if (r.id.empty()) throw StoreError("run record without an id");
  bind_text(s, 1, r.id);
  bind_text(s, 2, r.workflow_id);
  bind_text(s, 3, r.workflow_version);
  bind_text(s, 4, to_string(r.status));
  bind_json(s, 5, r.inputs, 0);
  bind_json(s, 6, r.trigger, 1);
  bind_json(s, 7, r.outputs, 2);
  bind_text(s, 8, r.error);
  bind_text_or_null(s, 9, r.idempotency_key);
  bind_int(s, 10, r.dry_run ? 1 : 0);
  bind_int(s, 11, r.created_at);
  bind_int(s, 12, r.started_at);
  bind_int(s, 13, r.finished_at);
  // Kept in its own column so that runs can be listed by trigger through an index.
  std::string_view type = "manual";
  if (const auto* obj = r.trigger.if_object()) {
    if (const auto* t = obj->if_contains("type"); t != nullptr && t->is_string()) {
      type = t->get_string();
    }
  }
  bind_text(s, 14, type);
  bind_text(s, 15, r.rerun_of);
}

void SqliteStore::apply(const WriteOp& op, CommitResult& result) {
  try {
    if (const auto* o = std::get_if<PutStep>(&op)) {
      const StepRecord& r = o->record;
      sqlite3_stmt* s = writer_stmts_[kPutStep].get();
      StmtReset reset(s);
      bind_text(s, 1, r.run_id);
      bind_text(s, 2, r.step_id);
      bind_int(s, 3, r.index);
      bind_text(s, 4, to_string(r.status));
      bind_int(s, 5, r.attempt);
      bind_json(s, 6, r.output, 0);
      bind_text(s, 7, r.error);
      bind_int(s, 8, r.item_count);
      bind_int(s, 9, r.started_at);
      bind_int(s, 10, r.finished_at);
      bind_int(s, 11, r.wake_at);
      step(s);
    } else if (const auto* o = std::get_if<PutAttempt>(&op)) {
      const AttemptRecord& r = o->record;
      sqlite3_stmt* s = writer_stmts_[kPutAttempt].get();
      StmtReset reset(s);
      bind_text(s, 1, r.run_id);
      bind_text(s, 2, r.step_id);
      bind_int(s, 3, r.index);
      bind_int(s, 4, r.attempt);
      bind_text(s, 5, to_string(r.status));
      bind_json(s, 6, r.input, 0);
      bind_json(s, 7, r.output, 1);
      bind_text(s, 8, r.error);
      bind_int(s, 9, r.started_at);
      bind_int(s, 10, r.finished_at);
      step(s);
    } else if (const auto* o = std::get_if<AppendLog>(&op)) {
      const LogRecord& r = o->record;
      sqlite3_stmt* s = writer_stmts_[kAppendLog].get();
      StmtReset reset(s);
      bind_text(s, 1, r.run_id);
      bind_text(s, 2, r.step_id);
      bind_int(s, 3, r.index);
      bind_int(s, 4, r.attempt);
      bind_int(s, 5, r.at);
      bind_text(s, 6, r.level);
      bind_text(s, 7, r.message);
      step(s);
    } else if (const auto* o = std::get_if<PutRun>(&op)) {
      sqlite3_stmt* s = writer_stmts_[kPutRun].get();
      StmtReset reset(s);
      bind_run(s, o->record);
      step(s);
    } else if (const auto* o = std::get_if<CreateRun>(&op)) {
      const RunRecord& r = o->record;
      {
        sqlite3_stmt* s = writer_stmts_[kCreateRun].get();
        StmtReset reset(s);
        bind_run(s, r);
        const bool leased = !o->lease_owner.empty();
        bind_text(s, 16, o->lease_owner);
        bind_int(s, 17, leased ? 1 : 0);
        bind_int(s, 18, leased ? o->lease_expires_at : 0);
        step(s);
      }
      if (sqlite3_changes(writer_db_.get()) > 0) {
        result.created_runs.push_back({r.id, true});
      } else {
        // The key is taken (maybe by an earlier op of this very transaction): report its owner.
        sqlite3_stmt* s = writer_stmts_[kRunIdByKey].get();
        StmtReset reset(s);
        bind_text(s, 1, r.idempotency_key);
        if (!step(s)) throw StoreError("run insert ignored but its idempotency key has no run");
        result.created_runs.push_back({column_text(s, 0), false});
      }
    } else if (const auto* o = std::get_if<PutApproval>(&op)) {
      const ApprovalRecord& r = o->record;
      sqlite3_stmt* s = writer_stmts_[kPutApproval].get();
      StmtReset reset(s);
      bind_text(s, 1, r.run_id);
      bind_text(s, 2, r.step_id);
      bind_text(s, 3, to_string(r.status));
      bind_text(s, 4, r.message);
      bind_text(s, 5, r.comment);
      bind_text(s, 6, r.decided_by);
      bind_int(s, 7, r.created_at);
      bind_int(s, 8, r.decided_at);
      bind_int(s, 9, r.expires_at);
      step(s);
    } else if (const auto* o = std::get_if<PutWorkflowVersion>(&op)) {
      const WorkflowVersionRecord& r = o->record;
      sqlite3_stmt* s = writer_stmts_[kPutWorkflowVersion].get();
      StmtReset reset(s);
      bind_text(s, 1, r.workflow_id);
      bind_text(s, 2, r.version);
      bind_text(s, 3, r.format);
      bind_text(s, 4, r.source_file);
      bind_text(s, 5, r.source_text);
      bind_int(s, 6, r.created_at);
      step(s);
    } else if (const auto* o = std::get_if<PutWorkflow>(&op)) {
      const WorkflowRecord& r = o->record;
      sqlite3_stmt* s = writer_stmts_[kPutWorkflow].get();
      StmtReset reset(s);
      bind_text(s, 1, r.id);
      bind_text(s, 2, r.source);
      bind_text(s, 3, r.source_file);
      bind_int(s, 4, r.enabled ? 1 : 0);
      bind_text(s, 5, r.current_version);
      bind_int(s, 6, r.revision);
      bind_int(s, 7, r.created_at);
      bind_int(s, 8, r.updated_at);
      step(s);
    } else if (const auto* o = std::get_if<AppendRevision>(&op)) {
      const RevisionRecord& r = o->record;
      sqlite3_stmt* s = writer_stmts_[kAppendRevision].get();
      StmtReset reset(s);
      bind_text(s, 1, r.workflow_id);
      bind_int(s, 2, r.revision);
      bind_text(s, 3, r.version);
      bind_text(s, 4, r.note);
      bind_int(s, 5, r.created_at);
      step(s);
    } else if (const auto* o = std::get_if<DeleteWorkflow>(&op)) {
      for (WriterStmt which : {kDeleteWorkflow, kDeleteRevisions}) {
        sqlite3_stmt* s = writer_stmts_[which].get();
        StmtReset reset(s);
        bind_text(s, 1, o->workflow_id);
        step(s);
      }
    } else if (const auto* o = std::get_if<PruneRuns>(&op)) {
      store_detail::exec(writer_db_.get(), "DELETE FROM temp.pruned");
      {
        sqlite3_stmt* s = writer_stmts_[kPruneSelect].get();
        StmtReset reset(s);
        bind_int(s, 1, o->finished_before);
        bind_int(s, 2, o->limit);
        step(s);
      }
      const auto pruned = static_cast<std::size_t>(sqlite3_changes(writer_db_.get()));
      for (WriterStmt which : {kPruneSteps, kPruneAttempts, kPruneLogs, kPruneApprovals, kPruneRuns}) {
        run_stmt(which);
      }
      result.pruned_runs += pruned;
    } else if (const auto* o = std::get_if<PutScheduleFired>(&op)) {
      sqlite3_stmt* s = writer_stmts_[kPutScheduleFired].get();
      StmtReset reset(s);
      bind_text(s, 1, o->schedule_key);
      bind_int(s, 2, o->fired_at);
      step(s);
    } else if (const auto* o = std::get_if<PutConnection>(&op)) {
      const ConnectionRecord& r = o->record;
      sqlite3_stmt* s = writer_stmts_[kPutConnection].get();
      StmtReset reset(s);
      bind_text(s, 1, r.name);
      bind_text(s, 2, r.type);
      bind_json(s, 3, r.config, 0);
      bind_text(s, 4, r.key_id);
      bind_text(s, 5, r.nonce);
      bind_text(s, 6, r.ciphertext);
      bind_int(s, 7, r.created_at);
      bind_int(s, 8, r.updated_at);
      step(s);
    } else if (const auto* o = std::get_if<DeleteConnection>(&op)) {
      sqlite3_stmt* s = writer_stmts_[kDeleteConnection].get();
      StmtReset reset(s);
      bind_text(s, 1, o->name);
      step(s);
    } else if (const auto* o = std::get_if<PutUser>(&op)) {
      const UserRecord& r = o->record;
      sqlite3_stmt* s = writer_stmts_[kPutUser].get();
      StmtReset reset(s);
      bind_text(s, 1, r.id);
      bind_text(s, 2, r.email);
      bind_text(s, 3, r.name);
      bind_text(s, 4, r.role);
      bind_text(s, 5, r.password_hash);
      bind_int(s, 6, r.disabled ? 1 : 0);
      bind_int(s, 7, r.created_at);
      bind_int(s, 8, r.updated_at);
      bind_int(s, 9, r.password_changed_at);
      step(s);
    } else if (const auto* o = std::get_if<PutToken>(&op)) {
      const TokenRecord& r = o->record;
      const std::string scopes = join_words(r.scopes);  // bound without a copy: must outlive step
      const std::string workflows = join_words(r.workflows);
      sqlite3_stmt* s = writer_stmts_[kPutToken].get();
      StmtReset reset(s);
      bind_text(s, 1, r.id);
      bind_text(s, 2, r.user_id);
      bind_text(s, 3, r.name);
      bind_text(s, 4, r.secret_hash);
      bind_text(s, 5, r.prefix);
      bind_text(s, 6, scopes);
      bind_int(s, 7, r.created_at);
      bind_int(s, 8, r.expires_at);
      bind_int(s, 9, r.revoked_at);
      bind_text(s, 10, workflows);
      step(s);
    } else if (const auto* o = std::get_if<PutSession>(&op)) {
      const SessionRecord& r = o->record;
      sqlite3_stmt* s = writer_stmts_[kPutSession].get();
      StmtReset reset(s);
      bind_text(s, 1, r.id_hash);
      bind_text(s, 2, r.user_id);
      bind_text(s, 3, r.csrf_token);
      bind_text(s, 4, r.address);
      bind_text(s, 5, r.user_agent);
      bind_int(s, 6, r.created_at);
      bind_int(s, 7, r.last_seen_at);
      bind_int(s, 8, r.expires_at);
      bind_int(s, 9, r.revoked_at);
      step(s);
    } else if (const auto* o = std::get_if<RevokeSessions>(&op)) {
      sqlite3_stmt* s = writer_stmts_[kRevokeSessions].get();
      StmtReset reset(s);
      bind_text(s, 1, o->user_id);
      bind_int(s, 2, o->at);
      step(s);
    } else if (const auto* o = std::get_if<PruneSessions>(&op)) {
      sqlite3_stmt* s = writer_stmts_[kPruneSessions].get();
      StmtReset reset(s);
      bind_int(s, 1, o->before);
      step(s);
    } else if (const auto* o = std::get_if<AppendAudit>(&op)) {
      const AuditRecord& r = o->record;
      sqlite3_stmt* s = writer_stmts_[kAppendAudit].get();
      StmtReset reset(s);
      bind_int(s, 1, r.at);
      bind_text(s, 2, r.actor_id);
      bind_text(s, 3, r.actor_email);
      bind_text(s, 4, r.actor_kind);
      bind_text(s, 5, r.address);
      bind_text(s, 6, r.action);
      bind_text(s, 7, r.target);
      bind_json(s, 8, r.details, 0);
      bind_text(s, 9, r.request_id);
      step(s);
    } else if (const auto* o = std::get_if<DeleteRunLogs>(&op)) {
      sqlite3_stmt* s = writer_stmts_[kDeleteRunLogs].get();
      StmtReset reset(s);
      bind_text(s, 1, o->run_id);
      step(s);
    } else if (const auto* o = std::get_if<PutRecommendationDecision>(&op)) {
      const RecommendationDecisionRecord& r = o->record;
      sqlite3_stmt* s = writer_stmts_[kPutRecommendationDecision].get();
      StmtReset reset(s);
      bind_text(s, 1, r.id);
      bind_text(s, 2, r.status);
      bind_text(s, 3, r.rule);
      bind_text(s, 4, r.action);
      bind_text(s, 5, r.platform);
      bind_text(s, 6, r.account_id);
      bind_text(s, 7, r.campaign_id);
      bind_text(s, 8, r.run_id);
      bind_text(s, 9, r.decided_by);
      bind_text(s, 10, r.comment);
      bind_int(s, 11, r.decided_at);
      step(s);
    } else if (const auto* o = std::get_if<ClaimRuns>(&op)) {
      sqlite3_stmt* s = writer_stmts_[kClaimRuns].get();
      StmtReset reset(s);
      bind_text(s, 1, o->owner);
      bind_int(s, 2, o->now);
      bind_int(s, 3, o->limit);
      bind_int(s, 4, o->ttl_ms);
      std::vector<RunLease> claimed;
      while (step(s)) claimed.push_back({column_text(s, 0), column_int(s, 1), column_int(s, 2)});
      std::sort(claimed.begin(), claimed.end(), [](const RunLease& a, const RunLease& b) { return a.run_id < b.run_id; });
      result.claimed.insert(result.claimed.end(), claimed.begin(), claimed.end());
    } else if (const auto* o = std::get_if<RenewLeases>(&op)) {
      for (const RunLease& lease : o->leases) renew_lease(*o, lease, result);
    } else if (const auto* o = std::get_if<ReleaseLease>(&op)) {
      sqlite3_stmt* s = writer_stmts_[kReleaseLease].get();
      StmtReset reset(s);
      bind_text(s, 1, o->run_id);
      bind_text(s, 2, o->owner);
      bind_int(s, 3, o->epoch);
      bind_int(s, 4, o->claimable_at);
      step(s);
    } else if (const auto* o = std::get_if<MakeClaimable>(&op)) {
      sqlite3_stmt* s = writer_stmts_[kMakeClaimable].get();
      StmtReset reset(s);
      bind_text(s, 1, o->run_id);
      step(s);
    } else if (const auto* o = std::get_if<DecideApproval>(&op)) {
      decide_approval(o->record);
    } else if (const auto* o = std::get_if<RequestCancel>(&op)) {
      sqlite3_stmt* s = writer_stmts_[kRequestCancel].get();
      StmtReset reset(s);
      bind_text(s, 1, o->run_id);
      bind_text(s, 2, o->reason);
      step(s);
    }
    // Notify writes nothing: deliver_signals hands its payload out once the batch has committed.
  } catch (const SqliteError& e) {
    // Name the operation: "UNIQUE constraint failed" alone does not say which write was refused.
    static constexpr std::array<std::string_view, std::variant_size_v<WriteOp>> kNames = {
        "PutWorkflowVersion", "CreateRun", "PutRun",     "PutStep",
        "PutAttempt",         "AppendLog", "PutApproval", "PutWorkflow",
        "AppendRevision",     "DeleteWorkflow", "PutScheduleFired", "PruneRuns",
        "PutConnection",      "DeleteConnection", "PutUser",  "PutToken",
        "PutSession",         "RevokeSessions",   "PruneSessions", "AppendAudit",
        "DeleteRunLogs",      "PutRecommendationDecision", "ClaimRuns", "RenewLeases",
        "ReleaseLease",       "MakeClaimable", "DecideApproval", "RequestCancel",
        "Notify"};
    throw SqliteError(e.code(), fmt::format("{}: {}", kNames[op.index()], e.what()));
  }
}

SqliteStore::ReaderLease SqliteStore::acquire_reader() {
  {
    std::lock_guard lock(readers_mu_);
    if (!idle_readers_.empty()) {
      auto reader = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return ReaderLease(*this, std::move(reader));
    }
  }
  return ReaderLease(*this, std::make_unique<Reader>(path_));
}

void SqliteStore::release_reader(std::unique_ptr<Reader> reader) {
  if (!reader) return;
  std::lock_guard lock(readers_mu_);
  if (idle_readers_.size() < kMaxIdleReaders) idle_readers_.push_back(std::move(reader));
}

std::optional<WorkflowVersionRecord> SqliteStore::get_workflow_version(
    const std::string& workflow_id, const std::string& version) {
  auto reader = acquire_reader();
  sqlite3_stmt* s = reader->stmt(
      "SELECT workflow_id, version, format, source_file, source_text, created_at "
      "FROM workflow_versions WHERE workflow_id = ?1 AND version = ?2");
  StmtReset reset(s);
  bind_text(s, 1, workflow_id);
  bind_text(s, 2, version);
  if (!step(s)) return std::nullopt;
  WorkflowVersionRecord r;
  r.workflow_id = column_text(s, 0);
  r.version = column_text(s, 1);
  r.format = column_text(s, 2);
  r.source_file = column_text(s, 3);
  r.source_text = column_text(s, 4);
  r.created_at = column_int(s, 5);
  return r;
}

std::optional<RunRecord> SqliteStore::get_run(const std::string& run_id) {
  static const std::string sql = fmt::format("SELECT {} FROM runs WHERE id = ?1", kRunColumns);
  auto reader = acquire_reader();
  sqlite3_stmt* s = reader->stmt(sql);
  StmtReset reset(s);
  bind_text(s, 1, run_id);
  if (!step(s)) return std::nullopt;
  return read_run(s);
}

std::optional<RunRecord> SqliteStore::find_run_by_idempotency_key(const std::string& key) {
  if (key.empty()) return std::nullopt;  // "" means "no key" and is stored as NULL
  static const std::string sql =
      fmt::format("SELECT {} FROM runs WHERE idempotency_key = ?1", kRunColumns);
  auto reader = acquire_reader();
  sqlite3_stmt* s = reader->stmt(sql);
  StmtReset reset(s);
  bind_text(s, 1, key);
  if (!step(s)) return std::nullopt;
  return read_run(s);
}

std::vector<RunRecord> SqliteStore::list_runs(const RunFilter& filter) {
  // Only the conditions in use appear in the SQL so that the planner can pick the matching index.
  std::string sql = fmt::format("SELECT {} FROM runs WHERE 1", kRunColumns);
  if (!filter.workflow_id.empty()) sql += " AND workflow_id = ?1";
  if (filter.status) sql += " AND status = ?2";
  if (!filter.before_id.empty()) sql += " AND id < ?3";
  if (!filter.trigger_type.empty()) sql += " AND trigger_type = ?5";
  if (filter.created_from > 0) sql += " AND created_at >= ?6";
  if (filter.created_to > 0) sql += " AND created_at < ?7";
  sql += " ORDER BY id DESC LIMIT ?4";
  auto reader = acquire_reader();
  sqlite3_stmt* s = reader->stmt(sql);
  StmtReset reset(s);
  if (!filter.workflow_id.empty()) bind_text(s, 1, filter.workflow_id);
  if (filter.status) bind_text(s, 2, to_string(*filter.status));
  if (!filter.before_id.empty()) bind_text(s, 3, filter.before_id);
  bind_int(s, 4, filter.limit > 0 ? filter.limit : -1);  // LIMIT -1: no limit
  if (!filter.trigger_type.empty()) bind_text(s, 5, filter.trigger_type);
  if (filter.created_from > 0) bind_int(s, 6, filter.created_from);
  if (filter.created_to > 0) bind_int(s, 7, filter.created_to);
  std::vector<RunRecord> runs;
  while (step(s)) runs.push_back(read_run(s));
  return runs;
}

std::vector<WorkflowRunSummary> SqliteStore::summarize_runs(EpochMillis since) {
  auto reader = acquire_reader();
  // Both halves walk runs_by_workflow; the newest run per workflow is its greatest id.
  std::map<std::string, WorkflowRunSummary> by_workflow;
  {
    sqlite3_stmt* s = reader->stmt(fmt::format(
        "SELECT {} FROM runs WHERE id IN (SELECT MAX(id) FROM runs GROUP BY workflow_id)",
        kRunColumns));
    StmtReset reset(s);
    while (step(s)) {
      RunRecord run = read_run(s);
      auto& summary = by_workflow[run.workflow_id];
      summary.workflow_id = run.workflow_id;
      summary.last_run = std::move(run);
    }
  }
  sqlite3_stmt* s = reader->stmt(
      "SELECT workflow_id, SUM(status NOT IN ('queued', 'running')), SUM(status = 'succeeded') "
      "FROM runs WHERE created_at >= ?1 GROUP BY workflow_id");
  StmtReset reset(s);
  bind_int(s, 1, since);
  while (step(s)) {
    auto& summary = by_workflow[column_text(s, 0)];
    summary.workflow_id = column_text(s, 0);
    summary.finished = sqlite3_column_int(s, 1);
    summary.succeeded = sqlite3_column_int(s, 2);
  }
  std::vector<WorkflowRunSummary> summaries;
  summaries.reserve(by_workflow.size());
  for (auto& [id, summary] : by_workflow) summaries.push_back(std::move(summary));
  return summaries;
}

std::vector<std::string> SqliteStore::unfinished_run_ids() {
  auto reader = acquire_reader();
  sqlite3_stmt* s =
      reader->stmt("SELECT id FROM runs WHERE status IN ('queued', 'running') ORDER BY id");
  StmtReset reset(s);
  std::vector<std::string> ids;
  while (step(s)) ids.push_back(column_text(s, 0));
  return ids;
}

std::vector<StepRecord> SqliteStore::get_steps(const std::string& run_id) {
  static const std::string sql =
      fmt::format("SELECT {} FROM steps WHERE run_id = ?1 ORDER BY step_id, idx", kStepColumns);
  auto reader = acquire_reader();
  sqlite3_stmt* s = reader->stmt(sql);
  StmtReset reset(s);
  bind_text(s, 1, run_id);
  std::vector<StepRecord> steps;
  while (step(s)) steps.push_back(read_step(s));
  return steps;
}

std::vector<AttemptRecord> SqliteStore::get_attempts(const std::string& run_id) {
  // A succeeded attempt written without its output shares its step's (see PutAttempt).
  static const std::string sql =
      "SELECT a.run_id, a.step_id, a.idx, a.attempt, a.status, a.input, "
      "COALESCE(a.output, CASE WHEN a.status = 'succeeded' AND s.attempt = a.attempt THEN s.output END), "
      "a.error, a.started_at, a.finished_at FROM attempts a LEFT JOIN steps s ON s.run_id = a.run_id "
      "AND s.step_id = a.step_id AND s.idx = a.idx WHERE a.run_id = ?1 ORDER BY a.step_id, a.idx, a.attempt";
  auto reader = acquire_reader();
  sqlite3_stmt* s = reader->stmt(sql);
  StmtReset reset(s);
  bind_text(s, 1, run_id);
  std::vector<AttemptRecord> attempts;
  while (step(s)) attempts.push_back(read_attempt(s));
  return attempts;
}

std::vector<LogRecord> SqliteStore::get_logs(const std::string& run_id) {
  auto reader = acquire_reader();
  sqlite3_stmt* s = reader->stmt(
      "SELECT run_id, step_id, idx, attempt, at, level, message FROM logs "
      "WHERE run_id = ?1 ORDER BY id");
  StmtReset reset(s);
  bind_text(s, 1, run_id);
  std::vector<LogRecord> logs;
  while (step(s)) {
    LogRecord r;
    r.run_id = column_text(s, 0);
    r.step_id = column_text(s, 1);
    r.index = static_cast<int>(column_int(s, 2));
    r.attempt = static_cast<int>(column_int(s, 3));
    r.at = column_int(s, 4);
    r.level = column_text(s, 5);
    r.message = column_text(s, 6);
    logs.push_back(std::move(r));
  }
  return logs;
}

std::optional<ApprovalRecord> SqliteStore::get_approval(const std::string& run_id,
                                                        const std::string& step_id) {
  static const std::string sql =
      fmt::format("SELECT {} FROM approvals WHERE run_id = ?1 AND step_id = ?2", kApprovalColumns);
  auto reader = acquire_reader();
  sqlite3_stmt* s = reader->stmt(sql);
  StmtReset reset(s);
  bind_text(s, 1, run_id);
  bind_text(s, 2, step_id);
  if (!step(s)) return std::nullopt;
  return read_approval(s);
}

std::vector<ApprovalRecord> SqliteStore::list_approvals(std::optional<ApprovalStatus> status) {
  static const std::string all_sql = fmt::format(
      "SELECT {} FROM approvals ORDER BY created_at, run_id, step_id", kApprovalColumns);
  static const std::string by_status_sql =
      fmt::format("SELECT {} FROM approvals WHERE status = ?1 ORDER BY created_at, run_id, step_id",
                  kApprovalColumns);
  auto reader = acquire_reader();
  sqlite3_stmt* s = reader->stmt(status ? by_status_sql : all_sql);
  StmtReset reset(s);
  if (status) bind_text(s, 1, to_string(*status));
  std::vector<ApprovalRecord> approvals;
  while (step(s)) approvals.push_back(read_approval(s));
  return approvals;
}

constexpr std::string_view kWorkflowColumns =
    "id, source, source_file, enabled, current_version, revision, created_at, updated_at";

std::vector<WorkflowRecord> SqliteStore::list_workflows() {
  static const std::string sql = fmt::format("SELECT {} FROM workflows ORDER BY id", kWorkflowColumns);
  auto reader = acquire_reader();
  sqlite3_stmt* s = reader->stmt(sql);
  StmtReset reset(s);
  std::vector<WorkflowRecord> out;
  while (step(s)) out.push_back(read_workflow(s));
  return out;
}

std::optional<WorkflowRecord> SqliteStore::get_workflow(const std::string& workflow_id) {
  static const std::string sql =
      fmt::format("SELECT {} FROM workflows WHERE id = ?1", kWorkflowColumns);
  auto reader = acquire_reader();
  sqlite3_stmt* s = reader->stmt(sql);
  StmtReset reset(s);
  bind_text(s, 1, workflow_id);
  if (!step(s)) return std::nullopt;
  return read_workflow(s);
}

std::vector<RevisionRecord> SqliteStore::list_revisions(const std::string& workflow_id) {
  auto reader = acquire_reader();
  sqlite3_stmt* s = reader->stmt(
      "SELECT workflow_id, revision, version, note, created_at FROM workflow_revisions "
      "WHERE workflow_id = ?1 ORDER BY revision DESC");
  StmtReset reset(s);
  bind_text(s, 1, workflow_id);
  std::vector<RevisionRecord> out;
  while (step(s)) {
    RevisionRecord r;
    r.workflow_id = column_text(s, 0);
    r.revision = static_cast<int>(column_int(s, 1));
    r.version = column_text(s, 2);
    r.note = column_text(s, 3);
    r.created_at = column_int(s, 4);
    out.push_back(std::move(r));
  }
  return out;
}

std::optional<EpochMillis> SqliteStore::get_schedule_fired(const std::string& schedule_key) {
  auto reader = acquire_reader();
  sqlite3_stmt* s = reader->stmt("SELECT fired_at FROM schedules WHERE schedule_key = ?1");
  StmtReset reset(s);
  bind_text(s, 1, schedule_key);
  if (!step(s)) return std::nullopt;
  return column_int(s, 0);
}

constexpr std::string_view kConnectionColumns =
    "name, type, config, key_id, nonce, ciphertext, created_at, updated_at";

ConnectionRecord read_connection(sqlite3_stmt* s) {
  ConnectionRecord r;
  r.name = column_text(s, 0);
  r.type = column_text(s, 1);
  r.config = column_json(s, 2);
  r.key_id = column_text(s, 3);
  r.nonce = column_text(s, 4);
  r.ciphertext = column_text(s, 5);
  r.created_at = column_int(s, 6);
  r.updated_at = column_int(s, 7);
  return r;
}

std::vector<RecommendationDecisionRecord> SqliteStore::get_recommendation_decisions(
    const std::vector<std::string>& ids) {
  auto reader = acquire_reader();
  sqlite3_stmt* s = reader->stmt(
      "SELECT id, status, rule, action, platform, account_id, campaign_id, run_id, decided_by, "
      "comment, decided_at FROM recommendation_decisions WHERE id = ?1");
  std::vector<RecommendationDecisionRecord> out;
  for (const std::string& id : ids) {
    StmtReset reset(s);
    bind_text(s, 1, id);
    if (!step(s)) continue;
    RecommendationDecisionRecord r;
    r.id = column_text(s, 0);
    r.status = column_text(s, 1);
    r.rule = column_text(s, 2);
    r.action = column_text(s, 3);
    r.platform = column_text(s, 4);
    r.account_id = column_text(s, 5);
    r.campaign_id = column_text(s, 6);
    r.run_id = column_text(s, 7);
    r.decided_by = column_text(s, 8);
    r.comment = column_text(s, 9);
    r.decided_at = column_int(s, 10);
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<ConnectionRecord> SqliteStore::list_connections() {
  static const std::string sql =
      fmt::format("SELECT {} FROM connections ORDER BY name", kConnectionColumns);
  auto reader = acquire_reader();
  sqlite3_stmt* s = reader->stmt(sql);
  StmtReset reset(s);
  std::vector<ConnectionRecord> out;
  while (step(s)) out.push_back(read_connection(s));
  return out;
}

std::optional<ConnectionRecord> SqliteStore::get_connection(const std::string& name) {
  static const std::string sql =
      fmt::format("SELECT {} FROM connections WHERE name = ?1", kConnectionColumns);
  auto reader = acquire_reader();
  sqlite3_stmt* s = reader->stmt(sql);
  StmtReset reset(s);
  bind_text(s, 1, name);
  if (!step(s)) return std::nullopt;
  return read_connection(s);
}

constexpr std::string_view kUserColumns =
    "id, email, name, role, password_hash, disabled, created_at, updated_at, password_changed_at";

UserRecord read_user(sqlite3_stmt* s) {
  UserRecord r;
  r.id = column_text(s, 0);
  r.email = column_text(s, 1);
  r.name = column_text(s, 2);
  r.role = column_text(s, 3);
  r.password_hash = column_text(s, 4);
  r.disabled = column_int(s, 5) != 0;
  r.created_at = column_int(s, 6);
  r.updated_at = column_int(s, 7);
  r.password_changed_at = column_int(s, 8);
  return r;
}

std::vector<UserRecord> SqliteStore::list_users() {
  static const std::string sql = fmt::format("SELECT {} FROM users ORDER BY email", kUserColumns);
  auto reader = acquire_reader();
  sqlite3_stmt* s = reader->stmt(sql);
  StmtReset reset(s);
  std::vector<UserRecord> out;
  while (step(s)) out.push_back(read_user(s));
  return out;
}

std::optional<UserRecord> SqliteStore::get_user_by_email(const std::string& email) {
  static const std::string sql = fmt::format("SELECT {} FROM users WHERE email = ?1", kUserColumns);
  auto reader = acquire_reader();
  sqlite3_stmt* s = reader->stmt(sql);
  StmtReset reset(s);
  bind_text(s, 1, email);
  if (!step(s)) return std::nullopt;
  return read_user(s);
}

std::optional<UserRecord> SqliteStore::get_user(const std::string& user_id) {
  static const std::string sql = fmt::format("SELECT {} FROM users WHERE id = ?1", kUserColumns);
  auto reader = acquire_reader();
  sqlite3_stmt* s = reader->stmt(sql);
  StmtReset reset(s);
  bind_text(s, 1, user_id);
  if (!step(s)) return std::nullopt;
  return read_user(s);
}

constexpr std::string_view kTokenColumns =
    "id, user_id, name, secret_hash, prefix, scopes, created_at, expires_at, revoked_at, workflows";

TokenRecord read_token(sqlite3_stmt* s) {
  TokenRecord r;
  r.id = column_text(s, 0);
  r.user_id = column_text(s, 1);
  r.name = column_text(s, 2);
  r.secret_hash = column_text(s, 3);
  r.prefix = column_text(s, 4);
  r.scopes = split_words(column_text(s, 5));
  r.created_at = column_int(s, 6);
  r.expires_at = column_int(s, 7);
  r.revoked_at = column_int(s, 8);
  r.workflows = split_words(column_text(s, 9));
  return r;
}

std::optional<TokenRecord> SqliteStore::get_token_by_hash(const std::string& secret_hash) {
  static const std::string sql =
      fmt::format("SELECT {} FROM api_tokens WHERE secret_hash = ?1", kTokenColumns);
  auto reader = acquire_reader();
  sqlite3_stmt* s = reader->stmt(sql);
  StmtReset reset(s);
  bind_text(s, 1, secret_hash);
  if (!step(s)) return std::nullopt;
  return read_token(s);
}

std::optional<TokenRecord> SqliteStore::get_token(const std::string& token_id) {
  static const std::string sql = fmt::format("SELECT {} FROM api_tokens WHERE id = ?1", kTokenColumns);
  auto reader = acquire_reader();
  sqlite3_stmt* s = reader->stmt(sql);
  StmtReset reset(s);
  bind_text(s, 1, token_id);
  if (!step(s)) return std::nullopt;
  return read_token(s);
}

std::vector<TokenRecord> SqliteStore::list_tokens(const std::string& user_id) {
  static const std::string sql = fmt::format(
      "SELECT {} FROM api_tokens WHERE ?1 = '' OR user_id = ?1 ORDER BY id DESC", kTokenColumns);
  auto reader = acquire_reader();
  sqlite3_stmt* s = reader->stmt(sql);
  StmtReset reset(s);
  bind_text(s, 1, user_id);
  std::vector<TokenRecord> out;
  while (step(s)) out.push_back(read_token(s));
  return out;
}

std::optional<SessionRecord> SqliteStore::get_session(const std::string& id_hash) {
  static const std::string sql =
      "SELECT id_hash, user_id, csrf_token, address, user_agent, created_at, last_seen_at, "
      "expires_at, revoked_at FROM sessions WHERE id_hash = ?1";
  auto reader = acquire_reader();
  sqlite3_stmt* s = reader->stmt(sql);
  StmtReset reset(s);
  bind_text(s, 1, id_hash);
  if (!step(s)) return std::nullopt;
  SessionRecord r;
  r.id_hash = column_text(s, 0);
  r.user_id = column_text(s, 1);
  r.csrf_token = column_text(s, 2);
  r.address = column_text(s, 3);
  r.user_agent = column_text(s, 4);
  r.created_at = column_int(s, 5);
  r.last_seen_at = column_int(s, 6);
  r.expires_at = column_int(s, 7);
  r.revoked_at = column_int(s, 8);
  return r;
}

std::vector<AuditRecord> SqliteStore::list_audit(const AuditFilter& filter) {
  // One statement per order; every filter is a bound value that is empty or 0 when unused.
  static const std::string where =
      " WHERE (?1 = '' OR actor_email = ?1 OR actor_id = ?1)"
      " AND (?2 = '' OR action = ?2 OR (substr(?2, -1) = '.' AND substr(action, 1, length(?2)) = ?2))"
      " AND (?3 = '' OR target = ?3) AND (?4 = 0 OR at >= ?4) AND (?5 = 0 OR at < ?5)"
      " AND (?6 = 0 OR id < ?6) AND id > ?7";
  static const std::string columns =
      "SELECT id, at, actor_id, actor_email, actor_kind, address, action, target, details, "
      "request_id FROM audit_log";
  static const std::string newest = columns + where + " ORDER BY id DESC LIMIT ?8";
  static const std::string oldest = columns + where + " ORDER BY id ASC LIMIT ?8";
  auto reader = acquire_reader();
  sqlite3_stmt* s = reader->stmt(filter.oldest_first ? oldest : newest);
  StmtReset reset(s);
  bind_text(s, 1, filter.actor);
  bind_text(s, 2, filter.action);
  bind_text(s, 3, filter.target);
  bind_int(s, 4, filter.from);
  bind_int(s, 5, filter.to);
  bind_int(s, 6, filter.before_id);
  bind_int(s, 7, filter.after_id);
  bind_int(s, 8, filter.limit);
  std::vector<AuditRecord> out;
  while (step(s)) {
    AuditRecord r;
    r.id = column_int(s, 0);
    r.at = column_int(s, 1);
    r.actor_id = column_text(s, 2);
    r.actor_email = column_text(s, 3);
    r.actor_kind = column_text(s, 4);
    r.address = column_text(s, 5);
    r.action = column_text(s, 6);
    r.target = column_text(s, 7);
    r.details = column_json(s, 8);
    r.request_id = column_text(s, 9);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

std::unique_ptr<Store> open_sqlite_store(const SqliteStoreOptions& options) {
  return std::make_unique<SqliteStore>(options);
}

}  // namespace flowpilot::engine
