// The durable record of workflow versions, runs, steps, attempts, logs and approvals.
//
// Writes are batched: a WriteBatch is applied atomically, and its callback runs only once the batch
// is durable (for SQLite: committed with synchronous=FULL). Implementations amortise the commit
// across concurrent callers (group commit through a single writer), so throughput is not one fsync
// per step. The executor never acts on a state change before its callback has run.
//
// The interface is what the executor needs and nothing of SQLite or PostgreSQL shows through it:
// SqliteStore and PostgresStore implement it alike, including the run leases, wake-up signals and
// leadership that let several processes share one PostgreSQL database.
//
// Errors: storage failures (disk full, corruption, I/O errors) are exceptional: reads throw
// StoreError; a failed batch reports it to its callback as a std::exception_ptr and nothing of the
// batch is applied.
//
// Thread-safety: every member function may be called from any thread.
#pragma once

#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace flowpilot::engine {

class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class RunStatus { queued, running, succeeded, failed, cancelled, timed_out };
enum class StepStatus { pending, ready, running, waiting, succeeded, failed, skipped, cancelled };
enum class ApprovalStatus { pending, approved, rejected, expired };

std::string_view to_string(RunStatus s);
std::string_view to_string(StepStatus s);
std::string_view to_string(ApprovalStatus s);
std::optional<RunStatus> parse_run_status(std::string_view s);
std::optional<StepStatus> parse_step_status(std::string_view s);
std::optional<ApprovalStatus> parse_approval_status(std::string_view s);
bool is_terminal(RunStatus s);
bool is_terminal(StepStatus s);

// Times are milliseconds since the Unix epoch (UTC); 0 means "not yet".
using EpochMillis = std::int64_t;
EpochMillis now_millis();

struct WorkflowVersionRecord {
  std::string workflow_id;
  std::string version;  // content hash
  std::string format;   // "yaml" | "lua"
  std::string source_file;
  std::string source_text;
  EpochMillis created_at = 0;
};

struct RunRecord {
  std::string id;
  std::string workflow_id;
  std::string workflow_version;
  RunStatus status = RunStatus::queued;
  boost::json::value inputs = boost::json::object();
  boost::json::value trigger = boost::json::object();  // {type, body, headers, query}
  boost::json::value outputs;                          // null until succeeded
  std::string error;
  std::string idempotency_key;  // empty: none
  bool dry_run = false;
  std::string rerun_of;  // the run this one retries or re-runs; empty: none
  EpochMillis created_at = 0;
  EpochMillis started_at = 0;
  EpochMillis finished_at = 0;
  // Why someone asked to cancel the run while another process held it (RequestCancel); empty:
  // nobody did. Read-only for writers: PutRun and CreateRun leave it as it is.
  std::string cancel_requested = {};
};

// The state of one step of a run. A foreach step has one record for the step itself
// (index = -1, item_count set once the list is known) and one per item (index = 0..n-1).
struct StepRecord {
  std::string run_id;
  std::string step_id;
  int index = -1;
  StepStatus status = StepStatus::pending;
  int attempt = 0;  // number of the latest attempt started; 0 = none yet
  boost::json::value output;
  std::string error;
  int item_count = -1;
  EpochMillis started_at = 0;
  EpochMillis finished_at = 0;
  EpochMillis wake_at = 0;  // waiting: when the retry is due or the approval expires
};

struct AttemptRecord {
  std::string run_id;
  std::string step_id;
  int index = -1;
  int attempt = 1;
  StepStatus status = StepStatus::running;  // running | succeeded | failed | cancelled
  boost::json::value input;   // rendered `with`, secrets redacted
  boost::json::value output;  // secrets redacted
  std::string error;
  EpochMillis started_at = 0;
  EpochMillis finished_at = 0;
};

struct LogRecord {
  std::string run_id;
  std::string step_id;  // empty: run-level
  int index = -1;
  int attempt = 0;
  EpochMillis at = 0;
  std::string level;  // debug | info | warn | error
  std::string message;
};

struct ApprovalRecord {
  std::string run_id;
  std::string step_id;
  ApprovalStatus status = ApprovalStatus::pending;
  std::string message;
  std::string comment;
  std::string decided_by;
  EpochMillis created_at = 0;
  EpochMillis decided_at = 0;
  EpochMillis expires_at = 0;  // 0: never
};

// A workflow the server knows by id: defined through the API, or found in a watched directory.
// Its definitions live in workflow_versions (by content hash); `revision` counts the changes of
// what is current, and each change is a RevisionRecord, so history and rollback survive restarts.
struct WorkflowRecord {
  std::string id;
  std::string source;  // "api", or "file" for a workflow read from a watched directory
  std::string source_file;  // the file, for source "file"
  bool enabled = true;
  std::string current_version;
  int revision = 0;
  EpochMillis created_at = 0;
  EpochMillis updated_at = 0;
};

struct RevisionRecord {
  std::string workflow_id;
  int revision = 1;
  std::string version;  // the workflow_versions row this revision made current
  std::string note;     // "created", "updated", "rolled back to revision 2", "file changed"
  EpochMillis created_at = 0;
};

// A stored connection (engine/connections/): its non-secret settings in the clear, its secret
// fields sealed together (engine/secrets/) under master key `key_id`.
struct ConnectionRecord {
  std::string name;
  std::string type;
  boost::json::value config = boost::json::object();  // non-secret fields and rate_limit
  std::string key_id;
  std::string nonce;       // base64
  std::string ciphertext;  // base64
  EpochMillis created_at = 0;
  EpochMillis updated_at = 0;
};

// A person's answer to a dashboard recommendation (web/api_kpis.cpp): one per recommendation id.
struct RecommendationDecisionRecord {
  std::string id;      // the recommendation's id (rule, campaign and period)
  std::string status;  // "accepted" or "dismissed"
  std::string rule;
  std::string action;
  std::string platform;
  std::string account_id;
  std::string campaign_id;
  std::string run_id;  // the run an acceptance started; empty when none
  std::string decided_by;
  std::string comment;
  EpochMillis decided_at = 0;
};

// A person who signs in (engine/access/). `email` is stored lower-case and is unique; `id` is
// what sessions, tokens and the audit log refer to, so that an email can change.
struct UserRecord {
  std::string id;
  std::string email;
  std::string name;
  std::string role;           // admin | editor | approver | viewer
  std::string password_hash;  // argon2id, in libsodium's encoded form ($argon2id$v=19$...)
  bool disabled = false;
  EpochMillis created_at = 0;
  EpochMillis updated_at = 0;
  EpochMillis password_changed_at = 0;  // sessions from before it are no longer valid
};

// An API token (engine/access/tokens.h). Only the SHA-256 of the secret is kept; `prefix` (the
// secret's first characters) lets a person recognise a token in a list.
struct TokenRecord {
  std::string id;
  std::string user_id;
  std::string name;
  std::string secret_hash;  // lower-case hex SHA-256 of the whole secret
  std::string prefix;
  std::vector<std::string> scopes;
  EpochMillis created_at = 0;
  EpochMillis expires_at = 0;  // 0: never
  EpochMillis revoked_at = 0;  // 0: not revoked
  std::vector<std::string> workflows = {};  // the only workflows it may reach; empty: every one
};

// A signed-in browser (engine/access/sessions.h), keyed by the SHA-256 of the cookie's value so
// that the table alone cannot be replayed.
struct SessionRecord {
  std::string id_hash;  // lower-case hex SHA-256 of the cookie value
  std::string user_id;
  std::string csrf_token;
  std::string address;
  std::string user_agent;
  EpochMillis created_at = 0;
  EpochMillis last_seen_at = 0;
  EpochMillis expires_at = 0;  // absolute expiry
  EpochMillis revoked_at = 0;  // 0: live
};

// One change in the audit log (engine/access/audit.h). Append-only: the table refuses updates and
// deletes.
struct AuditRecord {
  std::int64_t id = 0;  // assigned by the store, increasing
  EpochMillis at = 0;
  std::string actor_id;     // user id; "" for the system
  std::string actor_email;  // as it was at the time
  std::string actor_kind;   // session | token | cli | system
  std::string address;      // client address; "" for the CLI
  std::string action;       // "workflow.update", "run.start", ...
  std::string target;       // what was changed: a workflow id, a run id, an email...
  boost::json::value details = boost::json::object();  // what changed; never a secret
  std::string request_id;
};

struct AuditFilter {
  std::string actor;         // actor_email or actor_id; empty: any
  std::string action;        // exact, or a prefix ending in '.' ("workflow."); empty: any
  std::string target;        // empty: any
  EpochMillis from = 0;      // at >= from; 0: no bound
  EpochMillis to = 0;        // at < to; 0: no bound
  std::int64_t before_id = 0;  // cursor: entries with id < before_id; 0: from the newest
  std::int64_t after_id = 0;   // entries with id > after_id (exports run oldest first)
  bool oldest_first = false;
  int limit = 100;
};

// Write operations. Put* insert or replace by primary key.
struct PutWorkflowVersion { WorkflowVersionRecord record; };  // insert if absent
// No-op when idempotency_key already has a run. With a lease_owner, the new run starts leased by
// it (epoch 1, until lease_expires_at), so that no other worker claims it in between.
struct CreateRun {
  RunRecord record;
  std::string lease_owner = {};
  EpochMillis lease_expires_at = 0;
};
struct PutRun { RunRecord record; };     // full replace of an existing run
struct PutStep { StepRecord record; };
// Creates or replaces an attempt; a null `input` keeps the input recorded when the attempt started
// (inputs can be large, and a finished attempt's input is the one it started with). A succeeded
// attempt with a null `output` reads back with the output of its step record when it is that
// step's latest attempt, so that a large output is written once.
struct PutAttempt { AttemptRecord record; };
struct AppendLog { LogRecord record; };
struct PutApproval { ApprovalRecord record; };
struct PutWorkflow { WorkflowRecord record; };
struct AppendRevision { RevisionRecord record; };  // fails if (workflow_id, revision) exists
// Removes the workflow and its revisions; its versions stay, since runs refer to them.
struct DeleteWorkflow { std::string workflow_id; };
// The last tick a cron schedule fired (UTC), written with the run the tick created.
struct PutScheduleFired { std::string schedule_key; EpochMillis fired_at = 0; };
// Deletes up to `limit` runs that finished before `finished_before`, with their steps, attempts,
// logs and approvals (retention). CommitResult::pruned_runs says how many went.
struct PruneRuns { EpochMillis finished_before = 0; int limit = 1000; };
struct PutConnection { ConnectionRecord record; };
struct DeleteConnection { std::string name; };  // no-op when absent
struct PutUser { UserRecord record; };  // by id; a second id with the same email is refused
struct PutToken { TokenRecord record; };  // by id
struct PutSession { SessionRecord record; };  // by id_hash
// Ends every live session of a user (revoked_at = at), e.g. when the account is disabled.
struct RevokeSessions { std::string user_id; EpochMillis at = 0; };
// Deletes sessions that expired or were revoked before `before` (they can never be used again).
struct PruneSessions { EpochMillis before = 0; };
struct AppendAudit { AuditRecord record; };  // the id is assigned
// Deletes a run's logs (erasure writes them again, rewritten, with AppendLog in the same batch).
struct DeleteRunLogs { std::string run_id; };
// Records what a person decided about a dashboard recommendation; fails if it was decided before.
struct PutRecommendationDecision { RecommendationDecisionRecord record; };

// ---- run leases (several processes on one database) ------------------------------------------
// A worker process executes a run while it holds the run's lease. Each claim raises the run's
// lease epoch: a batch fenced with an older epoch (a worker that stalled past its lease while
// another claimed the run) is refused, so a late worker cannot overwrite the new owner's work.
struct RunLease {
  std::string run_id;
  std::int64_t epoch = 0;
  EpochMillis expires_at = 0;
};
// Claims up to `limit` unfinished runs (queued or running) whose lease is free or expired and
// that are claimable (claimable_at <= now), oldest first; several processes claiming at once get
// different runs. CommitResult::claimed lists them. A claim clears the run's wake-up mark.
struct ClaimRuns {
  std::string owner;
  int limit = 16;
  EpochMillis now = 0;
  EpochMillis ttl_ms = 30'000;
};
// Extends the leases `owner` still holds (same epoch) to now + ttl; CommitResult::lost_leases
// names the runs whose lease was taken over or ended, CommitResult::woken the held runs that were
// marked for a wake-up (MakeClaimable, RequestCancel) since; renewing clears the mark.
struct RenewLeases {
  std::string owner;
  std::vector<RunLease> leases;
  EpochMillis now = 0;
  EpochMillis ttl_ms = 30'000;
};
// Gives a lease up (the run finished, or waits for a person). The run can be claimed again once
// `claimable_at` has passed: 0 at once, a time for a retry or an approval that expires, or
// kNeverClaimable until something (a decision) makes it claimable again with MakeClaimable. A run
// marked for a wake-up while it was held becomes claimable at once instead: a decision that
// arrives while the holder is parking the run is not slept through.
struct ReleaseLease {
  std::string run_id;
  std::string owner;
  std::int64_t epoch = 0;
  EpochMillis claimable_at = 0;
};
inline constexpr EpochMillis kNeverClaimable = std::numeric_limits<EpochMillis>::max();
// Marks a run for a wake-up: claimable at once when no one holds it, and reported to its holder
// by the next RenewLeases (CommitResult::woken) or kept claimable by its ReleaseLease otherwise.
struct MakeClaimable { std::string run_id; };
// Records the decision on an approval only while it is still pending (a compare-and-set: two
// people deciding at once, or a decision racing the expiry, leave exactly one decision). Fails the
// batch with Conflict when the approval is missing or already decided. Of the record, only status,
// comment, decided_by and decided_at are written.
struct DecideApproval { ApprovalRecord record; };
// Asks whoever holds an unfinished run to cancel it: sets RunRecord::cancel_requested and marks
// the run for a wake-up (an empty reason is stored as "cancel requested"). No-op for a finished run.
struct RequestCancel { std::string run_id; std::string reason; };
// A signal for processes waiting in Store::wait_for_signals, delivered once the batch commits
// (PostgreSQL: NOTIFY on the schema's channel, payloads under 8000 bytes; SQLite: within this
// process). Payloads name runs, never carry data.
struct Notify { std::string payload; };

using WriteOp = std::variant<PutWorkflowVersion, CreateRun, PutRun, PutStep, PutAttempt, AppendLog,
                             PutApproval, PutWorkflow, AppendRevision, DeleteWorkflow,
                             PutScheduleFired, PruneRuns, PutConnection, DeleteConnection,
                             PutUser, PutToken, PutSession, RevokeSessions, PruneSessions,
                             AppendAudit, DeleteRunLogs, PutRecommendationDecision, ClaimRuns,
                             RenewLeases, ReleaseLease, MakeClaimable, DecideApproval,
                             RequestCancel, Notify>;

// The lease a batch's writes depend on (see RunLease).
struct LeaseFence {
  std::string run_id;
  std::string owner;
  std::int64_t epoch = 0;
};

// A batch refused because its fence no longer holds: the run's lease belongs to someone else.
class LeaseLost : public StoreError {
 public:
  using StoreError::StoreError;
};

// A batch refused because a compare-and-set in it (DecideApproval) found another state.
class Conflict : public StoreError {
 public:
  using StoreError::StoreError;
};

struct WriteBatch {
  std::vector<WriteOp> ops;
  // When set, the batch applies only if `fence.owner` still holds the run's lease with that epoch
  // (checked inside the transaction); otherwise it fails with LeaseLost and nothing is applied.
  std::optional<LeaseFence> fence;
  template <class Op>
  void add(Op op) { ops.emplace_back(std::move(op)); }
  bool empty() const { return ops.empty(); }
};

struct CommitResult {
  std::exception_ptr error;  // null on success
  // For each CreateRun in the batch, in order: the id of the run that holds its idempotency key
  // (the new run, or the existing one when the key was already taken) and whether it was new.
  struct Created { std::string run_id; bool created = true; };
  std::vector<Created> created_runs;
  std::size_t pruned_runs = 0;  // PruneRuns ops in the batch
  std::vector<RunLease> claimed;         // ClaimRuns ops in the batch
  std::vector<std::string> lost_leases;  // RenewLeases ops: runs no longer held
  std::vector<std::string> woken;        // RenewLeases ops: held runs marked for a wake-up
};

// While held, this process leads `role` (the cron scheduler): one process at a time on one
// database. PostgreSQL: a session advisory lock on a connection of its own; SQLite: one process
// owns the file anyway.
class Leadership {
 public:
  virtual ~Leadership() = default;
  // False once the lead is lost (the connection holding it broke); the holder must stop acting as
  // leader and try to lead again. Callable from any thread.
  virtual bool held() = 0;
};

using CommitCallback = std::function<void(CommitResult)>;

struct RunFilter {
  std::string workflow_id;            // empty: any
  std::optional<RunStatus> status;    // nullopt: any
  std::string trigger_type;           // "manual", "webhook", "cron", "api", "retry"...; empty: any
  EpochMillis created_from = 0;       // created_at >= this; 0: no bound
  EpochMillis created_to = 0;         // created_at < this; 0: no bound
  std::string before_id;              // cursor: runs with id < before_id (ids sort by time)
  int limit = 50;
};

// What the workflow list shows of a workflow's runs.
struct WorkflowRunSummary {
  std::string workflow_id;
  std::optional<RunRecord> last_run;  // the newest run, whenever it was
  int finished = 0;                   // runs created since the bound that have finished
  int succeeded = 0;                  // of those, the ones that succeeded
};

class Store {
 public:
  virtual ~Store() = default;

  // Queues the batch; `done` runs on the store's writer thread once the batch is durable or has
  // failed. `done` must not block for long: post follow-up work elsewhere.
  virtual void submit(WriteBatch batch, CommitCallback done) = 0;

  // Submits and waits.
  CommitResult commit(WriteBatch batch);

  virtual std::optional<WorkflowVersionRecord> get_workflow_version(
      const std::string& workflow_id, const std::string& version) = 0;
  virtual std::optional<RunRecord> get_run(const std::string& run_id) = 0;
  virtual std::optional<RunRecord> find_run_by_idempotency_key(const std::string& key) = 0;
  virtual std::vector<RunRecord> list_runs(const RunFilter& filter) = 0;
  // One entry per workflow that has runs: its newest run, and its finished and succeeded runs
  // created at or after `since`.
  virtual std::vector<WorkflowRunSummary> summarize_runs(EpochMillis since) = 0;
  virtual std::vector<std::string> unfinished_run_ids() = 0;  // queued or running, oldest first
  // Steps of a run, ordered by step_id then index.
  virtual std::vector<StepRecord> get_steps(const std::string& run_id) = 0;
  virtual std::vector<AttemptRecord> get_attempts(const std::string& run_id) = 0;
  virtual std::vector<LogRecord> get_logs(const std::string& run_id) = 0;
  virtual std::optional<ApprovalRecord> get_approval(const std::string& run_id,
                                                     const std::string& step_id) = 0;
  virtual std::vector<ApprovalRecord> list_approvals(std::optional<ApprovalStatus> status) = 0;

  virtual std::vector<WorkflowRecord> list_workflows() = 0;  // by id
  virtual std::optional<WorkflowRecord> get_workflow(const std::string& workflow_id) = 0;
  // Newest first.
  virtual std::vector<RevisionRecord> list_revisions(const std::string& workflow_id) = 0;
  virtual std::optional<EpochMillis> get_schedule_fired(const std::string& schedule_key) = 0;
  virtual std::vector<ConnectionRecord> list_connections() = 0;  // by name
  virtual std::optional<ConnectionRecord> get_connection(const std::string& name) = 0;
  virtual std::vector<UserRecord> list_users() = 0;  // by email
  virtual std::optional<UserRecord> get_user_by_email(const std::string& email) = 0;
  virtual std::optional<UserRecord> get_user(const std::string& user_id) = 0;
  virtual std::optional<TokenRecord> get_token_by_hash(const std::string& secret_hash) = 0;
  virtual std::optional<TokenRecord> get_token(const std::string& token_id) = 0;
  // Newest first; an empty user_id lists every user's tokens.
  virtual std::vector<TokenRecord> list_tokens(const std::string& user_id) = 0;
  virtual std::optional<SessionRecord> get_session(const std::string& id_hash) = 0;
  virtual std::vector<AuditRecord> list_audit(const AuditFilter& filter) = 0;
  // The decisions about these recommendation ids (those that have one).
  virtual std::vector<RecommendationDecisionRecord> get_recommendation_decisions(
      const std::vector<std::string>& ids) = 0;

  // Blocks until every batch submitted before the call is durable.
  virtual void flush() = 0;

  // Waits up to `timeout` for Notify payloads committed by any process sharing the store (this one
  // included) since the previous call, and returns them (empty on timeout). Meant for one thread
  // per process; the first call starts listening, so signals before it are not seen. A connection
  // lost meanwhile returns early, empty: callers poll the store as well.
  virtual std::vector<std::string> wait_for_signals(std::chrono::milliseconds timeout) = 0;

  // Tries to lead `role`; null when another process leads it now.
  virtual std::unique_ptr<Leadership> try_lead(const std::string& role) = 0;
};

// Time-ordered unique ids ("0193a1f2c3d4-5e6f7a8b9c0d1e2f"): sortable as text by creation time.
std::string new_run_id();

}  // namespace flowpilot::engine
