// The executor runs workflow runs as DAGs of steps on a thread pool, durably.
//
// Every state change of a run is written to the Store and acted on only once the store says it is
// durable: a step's handler is called after its "running" record commits, dependents start after
// the output of the step they need commits. The completion of one step and the start of the steps
// it releases share one write batch, and the store group-commits batches from all runs, so the
// cost of durability is shared.
//
// Semantics (docs/execution.md): `needs`, `if`, skip propagation, foreach with a concurrency limit,
// retries with exponential back-off and full jitter, per-step and per-run timeouts, cancellation,
// on_failure steps, workflow outputs, per-workflow concurrency (queue / skip / cancel_running),
// and core.approval, which parks a run durably until a decision or its timeout.
//
// Recovery: resume() reloads a run from the store; finished steps keep their recorded output,
// steps that were running start again with the same attempt number and idempotency key.
//
// Errors: start() throws InputError for bad inputs and StoreError when the store fails; decide()
// throws std::invalid_argument when there is nothing to decide. Failures of steps are run state,
// not exceptions.
//
// Several processes (ExecutorOptions::leases): each run is executed by the process that holds its
// lease in the store. Workers claim runs, renew their leases, fence every write with the lease's
// epoch and give a run up when a write is refused; a run that only waits for a person is released
// until a decision or its expiry wakes it. Decisions and cancellations of a run held elsewhere are
// written to the store (a compare-and-set, a cancel request) and reach the holder through a
// wake-up signal or its next lease renewal (docs/architecture.md, "Several processes").
//
// Thread-safety: all member functions may be called from any thread.
#pragma once

#include "engine/model/workflow.h"
#include "engine/steps/step.h"
#include "engine/store/store.h"
#include "scripting/expression.h"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace flowpilot::engine {

class InputError : public std::runtime_error {
 public:
  explicit InputError(std::vector<std::string> problems);
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  std::vector<std::string> problems_;
};

using SecretLookup = std::function<std::optional<std::string>(std::string_view name)>;
// Resolves a step's `connection` to its credentials (a JSON object); nullopt: unknown connection.
using ConnectionLookup =
    std::function<std::optional<boost::json::object>(std::string_view name)>;

// A state change of a run or of one of its steps, reported once it is durable (for live updates
// and metrics). Step events carry the step id and, for foreach items, the item index.
struct RunEvent {
  enum class Kind { run, step };
  Kind kind = Kind::run;
  std::string run_id;
  std::string workflow_id;
  std::string step_id;  // step events only
  int index = -1;       // foreach item, or -1
  std::string status;   // RunStatus or StepStatus name
  int attempt = 0;
  std::string error;
  EpochMillis started_at = 0;
  EpochMillis finished_at = 0;  // 0 while not finished
  boost::json::value outputs;   // run events of a finished run: the workflow's outputs
};
using RunEventListener = std::function<void(const RunEvent&)>;

// The event that reports a run's or a step's recorded state (outputs only for finished runs).
RunEvent run_event(const RunRecord& run);
RunEvent step_event(const StepRecord& step, const std::string& workflow_id);

struct ExecutorOptions {
  std::size_t worker_threads = 0;        // 0: one per hardware thread
  int default_foreach_concurrency = 16;  // when a foreach step sets no `concurrency`
  ConnectionLookup connections;          // null: steps naming a connection fail
  // Caps for `lua` steps: the defaults, and the most a workflow's `limits:` may keep.
  scripting::Limits lua_limits{50'000'000, 64u << 20, std::chrono::milliseconds(10'000)};
  // Called on an executor thread after each durable state change; must be quick and must not
  // call back into the executor. Null: no events.
  RunEventListener on_event;

  // Set when several processes share the store: see the header comment.
  struct Leases {
    std::string owner;  // unique per process
    std::chrono::milliseconds ttl{30'000};
    std::chrono::milliseconds renew_every{10'000};
    std::chrono::milliseconds poll_every{500};  // claims between wake-up signals
    std::size_t max_runs = 256;                 // held at once
    bool execute = true;  // false: create runs for other processes to execute, execute none
    bool claim = true;    // false: execute only the runs this process starts (a CLI command)
  };
  std::optional<Leases> leases;
};


// Rebuilds the definition a run started with, from its stored version. Returns null when the
// stored definition no longer loads (the run then fails with that reason).
using WorkflowResolver =
    std::function<std::shared_ptr<const Workflow>(const WorkflowVersionRecord& version)>;

struct RunRequest {
  std::shared_ptr<const Workflow> workflow;
  boost::json::object inputs;  // as given; validated, coerced and defaulted by start()
  boost::json::value trigger = boost::json::object{{"type", "manual"}};
  std::string idempotency_key;  // empty: none
  bool dry_run = false;
  // Written in the same batch as the run record, so both are durable or neither (the cron
  // scheduler records the tick it fired with the run it created).
  std::vector<WriteOp> also_write;
};

// What the executor holds right now, for metrics.
struct ExecutorStats {
  std::size_t runs_active = 0;  // loaded and running or parked
  std::size_t runs_queued = 0;  // waiting for a concurrency slot of their workflow
};

struct StartedRun {
  std::string run_id;
  bool created = true;  // false: the idempotency key already had this run
};

class Executor {
 public:
  Executor(Store& store, const StepRegistry& steps, const scripting::ExpressionEngine& expressions,
           SecretLookup secrets, WorkflowResolver resolver, ExecutorOptions options = {});
  // Stops the workers. Runs still in progress stay unfinished in the store and resume on the next
  // start; nothing durable is lost.
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Validates inputs, creates the run durably (at most once per idempotency key), then starts,
  // queues or skips it according to the workflow's concurrency policy. Returns once the run
  // record is durable.
  StartedRun start(RunRequest request);

  // Like start(), without blocking: inputs are checked at once (InputError is thrown here), then
  // `done` is called once the run record is durable (or with the store's error). `done` runs on
  // the store's writer thread and must be quick.
  using StartCallback = std::function<void(std::exception_ptr error, StartedRun run)>;
  void start_async(RunRequest request, StartCallback done);

  // Starts a new run of a finished run's workflow version with the same inputs, reusing the
  // recorded outputs of some of its steps (DESIGN.md §6, "Restart"):
  //   from_step empty: retry from the failed steps: every step that succeeded is kept, the others
  //                    (failed, skipped, cancelled, never started) run again;
  //   from_step set:   re-run from that step: it and every step that depends on it, directly or
  //                    not, run again; the other steps that succeeded are kept.
  // The new run's trigger is {type: "retry"|"rerun", run_id, step} and its rerun_of is run_id.
  // Throws std::invalid_argument when the run does not exist, has not finished, names no such
  // step, or (retry) has nothing that failed; StoreError when the store fails.
  StartedRun restart(const std::string& run_id, const std::string& from_step);

  // Loads an unfinished run from the store and continues it. Returns false when the run does not
  // exist or has already finished. With leases, runs are claimed instead: resume() and
  // resume_all() do nothing and return false / 0.
  bool resume(const std::string& run_id);
  // Resumes every unfinished run in the store, oldest first; returns how many.
  std::size_t resume_all();

  // Records a person's decision on a waiting core.approval step durably, then continues the run
  // (with leases: whoever holds or next claims the run continues it).
  void decide(const std::string& run_id, const std::string& step_id, bool approve,
              const std::string& decided_by, const std::string& comment);

  // Cancels a run: running steps are told to stop, nothing new starts, the run ends cancelled.
  void cancel(const std::string& run_id, const std::string& reason);

  // Waits until the run has finished, or is parked (nothing left to do but wait for approvals),
  // with everything about it durable. Returns its status then, or nullopt on timeout / unknown run.
  std::optional<RunStatus> wait(const std::string& run_id,
                                std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  bool is_parked(const std::string& run_id) const;
  ExecutorStats stats() const;

  class Impl;  // defined in executor.cpp only

 private:
  std::shared_ptr<Impl> impl_;
};

// Checks and completes run inputs against a workflow's `inputs`: unknown names, missing required
// values, wrong types (strings given on a command line are coerced to the declared type), `enum`
// membership; defaults filled in. Throws InputError listing every problem.
boost::json::object resolve_inputs(const Workflow& workflow, const boost::json::object& given);

// The delay before retry number `failed_attempts` (1 = after the first failure): full jitter over
// an exponential (or fixed) back-off, capped by max_delay, and never shorter than retry_after.
std::chrono::milliseconds retry_delay(const RetryPolicy& policy, int failed_attempts,
                                      std::optional<std::chrono::milliseconds> retry_after);

}  // namespace flowpilot::engine
