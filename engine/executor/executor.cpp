#include "engine/executor/executor.h"

#include "engine/executor/redactor.h"
#include "engine/schedule/duration.h"
#include "scripting/program.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>

namespace flowpilot::engine {
namespace {

namespace json = boost::json;
namespace asio = boost::asio;
using std::chrono::milliseconds;

// One schedulable unit: a step, or one item of a foreach step.
struct Unit {
  StepStatus status = StepStatus::pending;
  int attempt = 0;
  std::uint64_t token = 0;  // identifies the live attempt; late completions of others are dropped
  EpochMillis started_at = 0;          // first attempt
  EpochMillis attempt_started_at = 0;  // latest attempt
  EpochMillis finished_at = 0;
  EpochMillis wake_at = 0;
};

struct StepState {
  const StepSpec* spec = nullptr;
  bool on_failure = false;
  bool approval = false;
  bool lua = false;  // `uses: lua`: the executor runs the program itself
  StepHandler* handler = nullptr;
  ApprovalRecord approval_record;  // approval steps: as last written, so decisions need no read
  Unit unit;
  std::string error;
  std::vector<std::size_t> dependents;
  std::size_t unmet = 0;  // needs that have not succeeded yet

  bool is_foreach = false;
  bool items_ready = false;
  json::array items;
  std::vector<Unit> item_units;
  std::vector<json::value> item_outputs;
  std::size_t next_item = 0;
  std::size_t in_flight = 0;  // items running or waiting for a retry
  std::size_t items_done = 0;
  std::size_t concurrency = 1;
  std::vector<StepRecord> restored_items;  // from the store, applied once the list is known
};

class CallImpl;

struct RunState {
  std::mutex mu;
  RunRecord record;
  std::shared_ptr<const Workflow> workflow;
  std::vector<StepState> steps;
  std::unordered_map<std::string, std::size_t> index_of;
  json::value steps_ctx = json::object();
  json::value run_ctx = json::object();
  bool finished = false;
  bool on_failure_phase = false;
  bool holds_slot = false;
  bool stalled = false;
  // With leases: the lease this process holds on the run; `dropped` once it gave the run up (the
  // lease was lost, a write failed, or the run was parked), after which nothing of it is written.
  std::optional<RunLease> lease;
  bool dropped = false;
  std::shared_ptr<asio::steady_timer> run_timer;
  int pending_commits = 0;
  int active_units = 0;  // running, or waiting for a retry
  int waiting_approvals = 0;
  std::uint64_t next_token = 0;
  std::map<std::pair<std::size_t, int>, std::shared_ptr<CallImpl>> calls;
  Redactor redactor;
};

using RunPtr = std::shared_ptr<RunState>;

struct Pending {
  WriteBatch batch;
  std::vector<std::function<void()>> actions;
};

std::string unit_key(const std::string& run_id, const std::string& step_id, int index) {
  std::string key = run_id + "/" + step_id;
  if (index >= 0) key += "/" + std::to_string(index);
  return key;
}

bool truthy(const json::value& v) { return !(v.is_null() || (v.is_bool() && !v.get_bool())); }

// Finds the template string at `path` (as render_value reports it) to quote it in an error.
std::string template_at(const json::value& root, std::string_view path) {
  const json::value* v = &root;
  std::size_t i = 0;
  while (i < path.size() && v != nullptr) {
    if (path[i] == '.') {
      ++i;
      continue;
    }
    if (path[i] == '[') {
      const std::size_t end = path.find(']', i);
      if (end == std::string_view::npos || !v->is_array()) return {};
      const std::size_t n = std::stoul(std::string(path.substr(i + 1, end - i - 1)));
      v = n < v->get_array().size() ? &v->get_array()[n] : nullptr;
      i = end + 1;
      continue;
    }
    std::size_t end = path.find_first_of(".[", i);
    if (end == std::string_view::npos) end = path.size();
    if (!v->is_object()) return {};
    v = v->get_object().if_contains(path.substr(i, end - i));
    i = end;
  }
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

}  // namespace

class Executor::Impl : public std::enable_shared_from_this<Executor::Impl> {
 public:
  Impl(Store& store, const StepRegistry& steps, const scripting::ExpressionEngine& expressions,
       SecretLookup secrets, WorkflowResolver resolver, ExecutorOptions options)
      : store_(store),
        registry_(steps),
        expressions_(expressions),
        secrets_(std::move(secrets)),
        resolver_(std::move(resolver)),
        options_(options),
        work_(asio::make_work_guard(io_)) {}

  void start_threads() {
    std::size_t n = options_.worker_threads;
    if (n == 0) n = std::max(2u, std::thread::hardware_concurrency());
    for (std::size_t i = 0; i < n; ++i) threads_.emplace_back([this] { io_.run(); });
    if (leased() && options_.leases->execute) claimer_ = std::thread([this] { claim_loop(); });
  }

  void shutdown() {
    stopping_ = true;
    if (claimer_.joinable()) claimer_.join();
    work_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
    if (leased()) release_all_leases();
    // Abandoned calls hold their run and the run holds them: break the cycle. Their steps stay
    // `running` in the store and run again on the next resume.
    std::lock_guard lock(runs_mu_);
    for (auto& [id, r] : runs_) {
      std::lock_guard run_lock(r->mu);
      r->calls.clear();
      r->run_timer.reset();  // timers must not outlive the io_context
    }
    runs_.clear();
    slots_.clear();
    // Callbacks of batches still in the writer's queue hold only weak references to us.
    store_.flush();
  }

  StartedRun start(RunRequest request);
  void start_async(RunRequest request, Executor::StartCallback done);
  StartedRun restart(const std::string& run_id, const std::string& from_step);
  bool resume(const std::string& run_id);
  std::size_t resume_all();
  void decide(const std::string& run_id, const std::string& step_id, bool approve,
              const std::string& by, const std::string& comment);
  void cancel(const std::string& run_id, const std::string& reason);
  std::optional<RunStatus> wait(const std::string& run_id, std::optional<milliseconds> timeout);
  bool is_parked(const std::string& run_id) const;
  ExecutorStats stats() const {
    std::lock_guard lock(runs_mu_);
    ExecutorStats out;
    for (const auto& [wf, slots] : slots_) out.runs_queued += slots.queue.size();
    out.runs_active = runs_.size() - std::min(runs_.size(), out.runs_queued);
    return out;
  }

  // Called by CallImpl (any thread).
  void on_call_finished(const RunPtr& r, std::size_t step, int index, std::uint64_t token,
                        std::optional<json::value> output, StepError error);
  void append_log(const RunPtr& r, LogRecord record);
  scripting::EvalResult evaluate_for_call(const RunPtr& r, std::size_t step, int index,
                                          std::string_view expression,
                                          const json::value& row);
  asio::io_context& io() { return io_; }

 private:
  bool leased() const { return options_.leases.has_value(); }
  bool executes() const { return !leased() || options_.leases->execute; }
  const std::string& owner() const { return options_.leases->owner; }
  EpochMillis lease_expiry(EpochMillis from) const { return from + options_.leases->ttl.count(); }
  // Leases (several processes): the claimer thread's loop, and what it does.
  void claim_loop();
  bool claim_once();
  void renew_leases();
  void refresh(const std::string& run_id);
  void maybe_park(const RunPtr& r);
  void drop_run(const RunPtr& r, std::optional<EpochMillis> release_at);
  void release_all_leases();
  bool cancel_held(const RunPtr& r, const std::string& reason);
  bool resume_run(const std::string& run_id, std::optional<RunLease> lease);
  void decide_in_store(const std::string& run_id, const std::string& step_id, bool approve,
                       const std::string& by, const std::string& comment);

  RunPtr make_run(std::shared_ptr<const Workflow> workflow, RunRecord record);
  RunRecord prepare_start(RunRequest& request, WriteBatch& batch);
  void add_create_run(const RunRecord& record, WriteBatch& batch) const;
  StartedRun launch_started(std::shared_ptr<const Workflow> workflow, RunRecord record,
                            const CommitResult& result);
  void collect_events(const RunPtr& r, const WriteBatch& batch, std::vector<RunEvent>& out) const;
  void admit(const RunPtr& r);
  void activate_run(const RunPtr& r);
  void release_slot(const RunPtr& r);

  // All of these run with r->mu held and add to `p`.
  void advance(const RunPtr& r, Pending& p);
  void activate_step(const RunPtr& r, std::size_t i, Pending& p);
  bool prepare_items(const RunPtr& r, std::size_t i, Pending& p);
  void launch_items(const RunPtr& r, std::size_t i, Pending& p);
  void start_attempt(const RunPtr& r, std::size_t i, int index, Pending& p);
  void start_approval(const RunPtr& r, std::size_t i, Pending& p);
  void start_lua(const RunPtr& r, std::size_t i, int index, const std::shared_ptr<CallImpl>& call,
                 Pending& p);
  void arm_retry(const RunPtr& r, std::size_t i, int index, Pending& p);
  void arm_approval_expiry(const RunPtr& r, std::size_t i, const ApprovalRecord& approval,
                           Pending& p);
  void apply_decision(const RunPtr& r, std::size_t i, const ApprovalRecord& approval, Pending& p);
  void step_succeeded(const RunPtr& r, std::size_t i, json::value output, Pending& p);
  void step_ended(const RunPtr& r, std::size_t i, StepStatus status, const std::string& error,
                  Pending& p);
  void skip_dependents(const RunPtr& r, std::size_t i, Pending& p);
  void maybe_finish(const RunPtr& r, Pending& p);
  void finish_run(const RunPtr& r, RunStatus status, std::string error, json::value outputs,
                  Pending& p);
  void stop_units(const RunPtr& r, const std::string& reason, Pending& p);
  void put_unit(const RunPtr& r, std::size_t i, int index, const json::value& output,
                const std::string& error, Pending& p);
  void put_attempt(const RunPtr& r, std::size_t i, int index, const json::value& input,
                   const json::value& output, const std::string& error, Pending& p);
  scripting::Scope scope_for(const RunPtr& r, const json::value* item, const json::value* index);
  void commit(const RunPtr& r, Pending&& p);
  void notify_waiters();
  void after(milliseconds delay, std::function<void()> fn);
  RunPtr find_run(const std::string& run_id) const;

  Unit& unit_of(StepState& s, int index) { return index < 0 ? s.unit : s.item_units[index]; }

  // Every status change goes through here so that the counters behind wait() and is_parked()
  // stay exact: running and retry-waiting units are active; a waiting approval parks the run.
  void set_status(const RunPtr& r, StepState& s, int index, StepStatus status) {
    Unit& u = unit_of(s, index);
    auto active = [](StepStatus st) {
      return st == StepStatus::running || st == StepStatus::waiting;
    };
    if (s.approval && index < 0) {
      r->waiting_approvals +=
          int(status == StepStatus::waiting) - int(u.status == StepStatus::waiting);
    } else {
      r->active_units += int(active(status)) - int(active(u.status));
    }
    u.status = status;
  }

  Store& store_;
  const StepRegistry& registry_;
  const scripting::ExpressionEngine& expressions_;
  SecretLookup secrets_;
  WorkflowResolver resolver_;
  ExecutorOptions options_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
  std::thread claimer_;
  std::atomic<bool> stopping_{false};

  struct Slots {
    int active = 0;
    std::deque<RunPtr> queue;
    std::vector<RunPtr> running;
  };
  mutable std::mutex runs_mu_;  // order: runs_mu_ before any RunState::mu
  std::unordered_map<std::string, RunPtr> runs_;
  std::unordered_map<std::string, Slots> slots_;

  std::mutex wait_mu_;  // order: wait_mu_ before RunState::mu; never taken holding RunState::mu
  std::condition_variable wait_cv_;
};

namespace {

class CallImpl final : public StepCall, public std::enable_shared_from_this<CallImpl> {
 public:
  CallImpl(std::weak_ptr<Executor::Impl> exec, RunPtr run, std::size_t step, int index, int attempt,
           std::uint64_t token, std::string step_id, std::string connection, json::value input,
           bool plan, json::value credentials)
      : exec_(std::move(exec)),
        run_(std::move(run)),
        step_(step),
        index_(index),
        attempt_(attempt),
        token_(token),
        run_id_(run_->record.id),
        step_id_(std::move(step_id)),
        key_(unit_key(run_id_, step_id_, index)),
        connection_(std::move(connection)),
        input_(std::move(input)),
        plan_(plan),
        credentials_(std::move(credentials)) {}

  const std::string& run_id() const override { return run_id_; }
  const std::string& step_id() const override { return step_id_; }
  int index() const override { return index_; }
  int attempt() const override { return attempt_; }
  const std::string& idempotency_key() const override { return key_; }
  const std::string& connection() const override { return connection_; }
  const json::value& input() const override { return input_; }
  bool plan_mode() const override { return plan_; }
  const json::value* credentials() const override {
    return credentials_.is_null() ? nullptr : &credentials_;
  }
  bool cancelled() const override { return cancelled_.load(); }

  void progress(double fraction, std::string note) override {
    const double pct = std::clamp(fraction, 0.0, 1.0) * 100.0;
    log(LogLevel::info, note.empty() ? fmt::format("progress {:.0f}%", pct)
                                     : fmt::format("progress {:.0f}%: {}", pct, note));
  }

  scripting::EvalResult evaluate(std::string_view expression, const json::value& row) override {
    auto exec = exec_.lock();
    if (!exec) return scripting::EvalError{scripting::EvalError::Kind::runtime, "engine stopped"};
    return exec->evaluate_for_call(run_, step_, index_, expression, row);
  }

  void log(LogLevel level, std::string message) override {
    auto exec = exec_.lock();
    if (!exec) return;
    LogRecord rec;
    rec.run_id = run_id_;
    rec.step_id = step_id_;
    rec.index = index_;
    rec.attempt = attempt_;
    rec.at = now_millis();
    rec.level = std::string(to_string(level));
    rec.message = std::move(message);
    exec->append_log(run_, std::move(rec));
  }

  void after(milliseconds delay, std::function<void()> fn) override;

  void complete(json::value output) override { finish(std::move(output), {}); }
  void fail(StepError error) override { finish(std::nullopt, std::move(error)); }

  // Takes over the completion: afterwards the step's own complete/fail calls are ignored.
  // Returns false when the step has completed already.
  bool claim() { return !done_.exchange(true); }

  // Asks the step to stop and releases its timers at once.
  void cancel() {
    cancelled_ = true;
    std::vector<std::shared_ptr<asio::steady_timer>> timers;
    {
      std::lock_guard lock(mu_);
      timers.swap(timers_);
    }
    for (auto& t : timers) t->cancel();
  }

 private:
  void finish(std::optional<json::value> output, StepError error) {
    if (!claim()) return;
    if (auto exec = exec_.lock()) {
      exec->on_call_finished(run_, step_, index_, token_, std::move(output), std::move(error));
    }
  }

  std::weak_ptr<Executor::Impl> exec_;
  RunPtr run_;
  std::size_t step_;
  int index_;
  int attempt_;
  std::uint64_t token_;
  std::string run_id_;
  std::string step_id_;
  std::string key_;
  std::string connection_;
  json::value input_;
  bool plan_;
  json::value credentials_;
  std::atomic<bool> done_{false};
  std::atomic<bool> cancelled_{false};
  std::mutex mu_;
  std::vector<std::shared_ptr<asio::steady_timer>> timers_;
};

void CallImpl::after(milliseconds delay, std::function<void()> fn) {
  auto exec = exec_.lock();
  if (!exec) return;
  auto timer = std::make_shared<asio::steady_timer>(exec->io(), delay);
  {
    std::lock_guard lock(mu_);
    if (cancelled_) {
      asio::post(exec->io(), std::move(fn));
      return;
    }
    timers_.push_back(timer);
  }
  // A cancelled wait still runs `fn`, which sees cancelled() and fails the call.
  timer->async_wait([timer, fn = std::move(fn)](const boost::system::error_code&) { fn(); });
}

}  // namespace

// ---------------------------------------------------------------------------------------------

RunPtr Executor::Impl::make_run(std::shared_ptr<const Workflow> workflow, RunRecord record) {
  auto r = std::make_shared<RunState>();
  r->workflow = std::move(workflow);
  r->record = std::move(record);
  const Workflow& wf = *r->workflow;
  auto add = [&](const StepSpec& spec, bool on_failure) {
    StepState s;
    s.spec = &spec;
    s.on_failure = on_failure;
    s.approval = spec.uses == kApprovalStep;
    s.lua = spec.uses == kLuaStep;
    s.handler = s.approval || s.lua ? nullptr : registry_.find(spec.uses);
    s.is_foreach = !spec.foreach.is_null();
    s.concurrency = static_cast<std::size_t>(
        spec.concurrency > 0 ? spec.concurrency : options_.default_foreach_concurrency);
    r->index_of.emplace(spec.id, r->steps.size());
    r->steps.push_back(std::move(s));
  };
  for (const auto& spec : wf.steps) add(spec, false);
  for (const auto& spec : wf.on_failure) add(spec, true);
  for (std::size_t i = 0; i < r->steps.size(); ++i) {
    for (const auto& need : r->steps[i].spec->needs) {
      auto it = r->index_of.find(need);
      if (it == r->index_of.end()) continue;  // validation rejects this; stay defensive
      r->steps[it->second].dependents.push_back(i);
      ++r->steps[i].unmet;
    }
  }
  r->run_ctx = json::object{{"id", r->record.id},
                            {"workflow", wf.id},
                            {"version", wf.version},
                            {"started_at", r->record.started_at},
                            {"dry_run", r->record.dry_run},
                            {"error", nullptr}};
  return r;
}

scripting::Scope Executor::Impl::scope_for(const RunPtr& r, const json::value* item,
                                           const json::value* index) {
  scripting::Scope scope;
  scope.bind("inputs", r->record.inputs);
  scope.bind("steps", r->steps_ctx);
  scope.bind("run", r->run_ctx);
  scope.bind("trigger", r->record.trigger);
  if (item != nullptr) scope.bind("item", *item);
  if (index != nullptr) scope.bind("index", *index);
  RunState* raw = r.get();
  scope.set_secret_resolver([this, raw](std::string_view name) -> std::optional<std::string> {
    if (!secrets_) return std::nullopt;
    auto value = secrets_(name);
    if (value) raw->redactor.add(*value);  // evaluation runs under raw->mu
    return value;
  });
  return scope;
}

void Executor::Impl::commit(const RunPtr& r, Pending&& p) {
  if (p.batch.empty() && p.actions.empty()) return;
  if (r->dropped) return;  // another process continues the run from what is durable
  if (r->lease) p.batch.fence = LeaseFence{r->record.id, owner(), r->lease->epoch};
  ++r->pending_commits;
  if (options_.on_event) {
    std::vector<RunEvent> events;
    collect_events(r, p.batch, events);
    if (!events.empty()) {
      p.actions.push_back([this, events = std::move(events)] {
        for (const RunEvent& e : events) options_.on_event(e);
      });
    }
  }
  auto actions = std::make_shared<std::vector<std::function<void()>>>(std::move(p.actions));
  std::weak_ptr<Impl> weak = weak_from_this();
  store_.submit(std::move(p.batch), [weak, r, actions](CommitResult result) {
    auto self = weak.lock();
    if (!self || self->stopping_) return;
    asio::post(self->io_, [weak, r, actions, error = result.error] {
      auto self = weak.lock();
      if (!self) return;
      if (error) {
        // Without a durable record we may not act; the run resumes from the last durable state
        // when the process restarts, or, with leases, when a worker claims it again.
        bool lost = false;
        try {
          std::rethrow_exception(error);
        } catch (const LeaseLost& e) {
          lost = true;
          spdlog::warn("run {}: {}; giving the run up", r->record.id, e.what());
        } catch (const std::exception& e) {
          spdlog::error("run {}: store commit failed, run stalled: {}", r->record.id, e.what());
        }
        {
          std::lock_guard lock(r->mu);
          r->stalled = true;
          --r->pending_commits;
        }
        // What is in memory is ahead of what is durable: give the run up, at once for another
        // claim (its lease, if still ours, is released), so that it continues from the store.
        if (self->leased()) self->drop_run(r, lost ? std::nullopt : std::optional<EpochMillis>(0));
      } else {
        for (auto& action : *actions) action();
        {
          std::lock_guard lock(r->mu);
          --r->pending_commits;
        }
        if (self->leased()) self->maybe_park(r);
      }
      self->notify_waiters();
    });
  });
}

void Executor::Impl::notify_waiters() {
  std::lock_guard lock(wait_mu_);
  wait_cv_.notify_all();
}

void Executor::Impl::after(milliseconds delay, std::function<void()> fn) {
  auto timer = std::make_shared<asio::steady_timer>(io_, delay);
  timer->async_wait([timer, fn = std::move(fn)](const boost::system::error_code& ec) {
    if (!ec) fn();
  });
}

RunPtr Executor::Impl::find_run(const std::string& run_id) const {
  std::lock_guard lock(runs_mu_);
  auto it = runs_.find(run_id);
  return it == runs_.end() ? nullptr : it->second;
}

// ---------------------------------------------------------------------------------------------

void Executor::Impl::collect_events(const RunPtr& r, const WriteBatch& batch,
                                    std::vector<RunEvent>& out) const {
  for (const WriteOp& op : batch.ops) {
    if (const auto* o = std::get_if<PutRun>(&op)) {
      out.push_back(run_event(o->record));
    } else if (const auto* o = std::get_if<PutStep>(&op)) {
      out.push_back(step_event(o->record, r->record.workflow_id));
    }
  }
}

RunRecord Executor::Impl::prepare_start(RunRequest& request, WriteBatch& batch) {
  if (!request.workflow) throw std::invalid_argument("start: no workflow");
  const Workflow& wf = *request.workflow;
  RunRecord record;
  record.id = new_run_id();
  record.workflow_id = wf.id;
  record.workflow_version = wf.version;
  record.status = RunStatus::queued;
  record.inputs = resolve_inputs(wf, request.inputs);
  record.trigger = std::move(request.trigger);
  record.idempotency_key = std::move(request.idempotency_key);
  record.dry_run = request.dry_run;
  record.created_at = now_millis();
  batch.add(PutWorkflowVersion{{wf.id, wf.version, wf.source_format, wf.source_file,
                                wf.source_text, record.created_at}});
  add_create_run(record, batch);
  for (WriteOp& op : request.also_write) batch.ops.push_back(std::move(op));
  return record;
}

void Executor::Impl::add_create_run(const RunRecord& record, WriteBatch& batch) const {
  if (!leased()) {
    batch.add(CreateRun{record});
  } else if (executes()) {
    // Leased from the start: no other worker claims the run before this one starts it.
    batch.add(CreateRun{record, owner(), lease_expiry(record.created_at)});
  } else {
    batch.add(CreateRun{record});
    batch.add(Notify{"claim"});
  }
}

StartedRun Executor::Impl::launch_started(std::shared_ptr<const Workflow> workflow,
                                          RunRecord record, const CommitResult& result) {
  if (!result.created_runs.empty() && !result.created_runs.front().created) {
    return {result.created_runs.front().run_id, false};
  }
  if (!executes()) {
    // A worker process claims it.
    if (options_.on_event) options_.on_event(run_event(record));
    return {record.id, true};
  }
  RunPtr r = make_run(std::move(workflow), std::move(record));
  if (leased()) r->lease = RunLease{r->record.id, 1, lease_expiry(r->record.created_at)};
  if (options_.on_event) options_.on_event(run_event(r->record));
  {
    std::lock_guard lock(runs_mu_);
    runs_[r->record.id] = r;
  }
  admit(r);
  return {r->record.id, true};
}

StartedRun Executor::Impl::start(RunRequest request) {
  WriteBatch batch;
  RunRecord record = prepare_start(request, batch);
  CommitResult result = store_.commit(std::move(batch));
  if (result.error) std::rethrow_exception(result.error);
  return launch_started(request.workflow, std::move(record), result);
}

void Executor::Impl::start_async(RunRequest request, Executor::StartCallback done) {
  WriteBatch batch;
  auto record = std::make_shared<RunRecord>(prepare_start(request, batch));
  std::weak_ptr<Impl> weak = weak_from_this();
  store_.submit(std::move(batch), [weak, record, workflow = request.workflow,
                                   done = std::move(done)](CommitResult result) {
    auto self = weak.lock();
    if (result.error || !self || self->stopping_) {
      // Without the executor the run is still durable and resumes on the next start.
      StartedRun started{record->id, true};
      if (!result.created_runs.empty()) {
        started = {result.created_runs.front().run_id, result.created_runs.front().created};
      }
      done(result.error, started);
      return;
    }
    // Admitting a run commits its next state; that must not happen on the writer thread, which
    // would then wait for itself.
    StartedRun started{record->id, true};
    if (!result.created_runs.empty() && !result.created_runs.front().created) {
      started = {result.created_runs.front().run_id, false};
    } else {
      // Weak: a handler still queued when the executor stops would otherwise own the io_context
      // it sits in. The run is durable and resumes on the next start.
      asio::post(self->io_, [weak, record, workflow, result] {
        if (auto self = weak.lock()) self->launch_started(workflow, std::move(*record), result);
      });
    }
    done(nullptr, started);
  });
}

StartedRun Executor::Impl::restart(const std::string& run_id, const std::string& from_step) {
  auto original = store_.get_run(run_id);
  if (!original) throw std::invalid_argument(fmt::format("no run `{}`", run_id));
  if (!is_terminal(original->status) || find_run(run_id)) {
    throw std::invalid_argument(fmt::format(
        "run `{}` is {}; only a finished run can be retried or re-run", run_id,
        to_string(original->status)));
  }
  auto version = store_.get_workflow_version(original->workflow_id, original->workflow_version);
  std::shared_ptr<const Workflow> workflow = version ? resolver_(*version) : nullptr;
  if (!workflow) {
    throw std::invalid_argument(fmt::format(
        "the definition run `{}` started with (workflow `{}` version {}) no longer loads", run_id,
        original->workflow_id, original->workflow_version));
  }
  std::set<std::string> rerun;  // steps that run again besides those that did not succeed
  std::set<std::string> on_failure;
  for (const StepSpec& step : workflow->on_failure) on_failure.insert(step.id);
  if (!from_step.empty()) {
    const bool known = std::any_of(workflow->steps.begin(), workflow->steps.end(),
                                   [&](const StepSpec& s) { return s.id == from_step; });
    if (!known) {
      throw std::invalid_argument(fmt::format("workflow `{}` has no step `{}`",
                                              original->workflow_id, from_step));
    }
    // Dependents, transitively: steps are in dependency order, so one pass suffices only if
    // they were declared that way; iterate to a fixed point instead of relying on it.
    rerun.insert(from_step);
    for (bool grew = true; grew;) {
      grew = false;
      for (const StepSpec& s : workflow->steps) {
        if (rerun.count(s.id) != 0) continue;
        for (const std::string& need : s.needs) {
          if (rerun.count(need) != 0) {
            rerun.insert(s.id);
            grew = true;
            break;
          }
        }
      }
    }
  }
  const auto steps = store_.get_steps(run_id);
  std::set<std::string> kept;
  for (const StepRecord& rec : steps) {
    if (rec.index < 0 && rec.status == StepStatus::succeeded && rerun.count(rec.step_id) == 0 &&
        on_failure.count(rec.step_id) == 0) {
      kept.insert(rec.step_id);
    }
  }
  if (from_step.empty() && original->status == RunStatus::succeeded) {
    throw std::invalid_argument(
        fmt::format("run `{}` succeeded: nothing failed to retry (re-run from a step instead)",
                    run_id));
  }
  RunRecord record;
  record.id = new_run_id();
  record.workflow_id = original->workflow_id;
  record.workflow_version = original->workflow_version;
  record.status = RunStatus::queued;
  record.inputs = original->inputs;
  record.trigger = json::object{{"type", from_step.empty() ? "retry" : "rerun"},
                                {"run_id", run_id},
                                {"step", from_step.empty() ? json::value(nullptr)
                                                           : json::value(from_step)},
                                {"body", nullptr},
                                {"headers", json::object()},
                                {"query", json::object()}};
  record.dry_run = original->dry_run;
  record.rerun_of = run_id;
  record.created_at = now_millis();
  WriteBatch batch;
  add_create_run(record, batch);
  for (const StepRecord& rec : steps) {
    if (kept.count(rec.step_id) == 0) continue;
    StepRecord copy = rec;
    copy.run_id = record.id;
    batch.add(PutStep{std::move(copy)});
  }
  CommitResult result = store_.commit(std::move(batch));
  if (result.error) std::rethrow_exception(result.error);
  if (executes()) {
    std::optional<RunLease> lease;
    if (leased()) lease = RunLease{record.id, 1, lease_expiry(record.created_at)};
    resume_run(record.id, lease);
  }
  return {record.id, true};
}

void Executor::Impl::admit(const RunPtr& r) {
  const ConcurrencyPolicy& policy = r->workflow->concurrency;
  RunPtr to_cancel;
  {
    std::lock_guard lock(runs_mu_);
    Slots& slots = slots_[r->record.workflow_id];
    if (policy.limit > 0 && slots.active >= policy.limit) {
      switch (policy.on_limit) {
        case OnLimit::queue:
          slots.queue.push_back(r);
          return;
        case OnLimit::skip: {
          std::unique_lock run_lock(r->mu);
          Pending p;
          finish_run(r,
                     RunStatus::cancelled,
                     fmt::format("skipped: workflow `{}` already has {} run(s) in progress "
                                 "(concurrency limit {}, on_limit: skip)",
                                 r->record.workflow_id, slots.active, policy.limit),
                     nullptr, p);
          commit(r, std::move(p));
          return;
        }
        case OnLimit::cancel_running:
          if (!slots.running.empty()) {
            // The new run takes over the oldest run's slot.
            to_cancel = slots.running.front();
            slots.running.erase(slots.running.begin());
            std::lock_guard other(to_cancel->mu);
            to_cancel->holds_slot = false;
          }
          break;
      }
    } else {
      ++slots.active;
    }
    slots.running.push_back(r);
    std::lock_guard run_lock(r->mu);
    r->holds_slot = true;
  }
  if (to_cancel) {
    cancel(to_cancel->record.id,
           fmt::format("cancelled: run {} of the same workflow started (on_limit: cancel_running)",
                       r->record.id));
  }
  activate_run(r);
}

void Executor::Impl::release_slot(const RunPtr& r) {
  RunPtr next;
  {
    std::lock_guard lock(runs_mu_);
    runs_.erase(r->record.id);
    {
      std::lock_guard run_lock(r->mu);
      if (!r->holds_slot) return;
      r->holds_slot = false;
    }
    Slots& slots = slots_[r->record.workflow_id];
    std::erase(slots.running, r);
    if (!slots.queue.empty()) {
      next = slots.queue.front();
      slots.queue.pop_front();
      slots.running.push_back(next);
      std::lock_guard run_lock(next->mu);
      next->holds_slot = true;
    } else {
      --slots.active;
    }
  }
  if (next) activate_run(next);
}

void Executor::Impl::activate_run(const RunPtr& r) {
  std::unique_lock lock(r->mu);
  if (r->finished) return;
  Pending p;
  if (r->record.status == RunStatus::queued) {
    r->record.status = RunStatus::running;
    r->record.started_at = now_millis();
    r->run_ctx.as_object()["started_at"] = r->record.started_at;
    p.batch.add(PutRun{r->record});
  }
  if (r->workflow->timeout && r->record.status == RunStatus::running && !r->run_timer) {
    r->run_timer = std::make_shared<asio::steady_timer>(io_);
    const EpochMillis deadline = r->record.started_at + r->workflow->timeout->count();
    const auto left = milliseconds(std::max<EpochMillis>(0, deadline - now_millis()));
    std::weak_ptr<Impl> weak = weak_from_this();
    p.actions.push_back([weak, r, left, timer = r->run_timer] {
      // The timer is only touched under the run's lock: finish_run cancels it from any thread.
      std::lock_guard lock(r->mu);
      if (r->finished) return;
      timer->expires_after(left);
      timer->async_wait([weak, r](const boost::system::error_code& ec) {
        auto self = weak.lock();
        if (!self || ec) return;
        std::unique_lock lock(r->mu);
        if (r->finished) return;
        Pending p;
        const std::string reason =
            fmt::format("run timed out after {}", format_duration(*r->workflow->timeout));
        self->stop_units(r, reason, p);
        self->finish_run(r, RunStatus::timed_out, reason, nullptr, p);
        self->commit(r, std::move(p));
      });
    });
  }
  advance(r, p);
  commit(r, std::move(p));
}

// ---------------------------------------------------------------------------------------------

void Executor::Impl::advance(const RunPtr& r, Pending& p) {
  if (r->finished || r->stalled) return;
  for (std::size_t i = 0; i < r->steps.size(); ++i) {
    StepState& s = r->steps[i];
    if (s.on_failure != r->on_failure_phase) continue;
    if (s.unit.status == StepStatus::pending && s.unmet == 0) activate_step(r, i, p);
  }
  maybe_finish(r, p);
}

void Executor::Impl::activate_step(const RunPtr& r, std::size_t i, Pending& p) {
  StepState& s = r->steps[i];
  const StepSpec& spec = *s.spec;
  if (!spec.if_expression.empty()) {
    auto result = expressions_.evaluate(spec.if_expression, scope_for(r, nullptr, nullptr));
    if (!result.ok()) {
      step_ended(r, i, StepStatus::failed,
                 fmt::format("step `{}`, field `if`: expression `{}` failed: {}", spec.id,
                             spec.if_expression, result.error().message),
                 p);
      return;
    }
    if (!truthy(result.value())) {
      step_ended(r, i, StepStatus::skipped, "skipped: `if` was false", p);
      return;
    }
  }
  if (s.approval) {
    start_approval(r, i, p);
    return;
  }
  if (s.handler == nullptr && !s.lua) {
    step_ended(r, i, StepStatus::failed,
               fmt::format("step `{}` uses `{}`, which is not installed", spec.id, spec.uses), p);
    return;
  }
  if (r->record.dry_run && s.handler != nullptr) {
    const StepDescriptor& d = s.handler->descriptor();
    if (d.side_effects && !d.supports_plan) {
      step_ended(r, i, StepStatus::skipped,
                 fmt::format("skipped in a dry run: `{}` changes things and cannot describe a plan",
                             spec.uses),
                 p);
      return;
    }
  }
  if (s.is_foreach) {
    if (!prepare_items(r, i, p)) return;
    set_status(r, s, -1, StepStatus::running);
    s.unit.attempt = 1;  // the items carry their own attempts
    if (s.unit.started_at == 0) s.unit.started_at = now_millis();
    put_unit(r, i, -1, nullptr, {}, p);
    if (s.items.empty()) {
      step_succeeded(r, i, json::array(), p);
      return;
    }
    launch_items(r, i, p);
    return;
  }
  start_attempt(r, i, -1, p);
}

bool Executor::Impl::prepare_items(const RunPtr& r, std::size_t i, Pending& p) {
  StepState& s = r->steps[i];
  const StepSpec& spec = *s.spec;
  json::value list;
  if (spec.foreach.is_array()) {
    list = spec.foreach;
  } else {
    auto result = scripting::render_value(expressions_, spec.foreach, scope_for(r, nullptr, nullptr));
    if (!result.ok()) {
      step_ended(r, i, StepStatus::failed,
                 fmt::format("step `{}`, field `foreach`: expression `{}` failed: {}", spec.id,
                             spec.foreach.is_string() ? std::string(spec.foreach.get_string()) : "",
                             result.error().message),
                 p);
      return false;
    }
    list = std::move(result.value());
  }
  if (!list.is_array()) {
    step_ended(r, i, StepStatus::failed,
               fmt::format("step `{}`: `foreach` must give a list, got {}", spec.id,
                           list.is_object() ? "an object" : json::serialize(list)),
               p);
    return false;
  }
  s.items = std::move(list.get_array());
  s.item_units.assign(s.items.size(), Unit{});
  s.item_outputs.assign(s.items.size(), nullptr);
  s.items_ready = true;
  if (!s.restored_items.empty()) {
    for (const StepRecord& rec : s.restored_items) {
      if (rec.index < 0 || static_cast<std::size_t>(rec.index) >= s.items.size()) continue;
      Unit& u = s.item_units[rec.index];
      u.attempt = rec.attempt;
      u.started_at = rec.started_at;
      u.finished_at = rec.finished_at;
      u.wake_at = rec.wake_at;
      switch (rec.status) {
        case StepStatus::succeeded:
          set_status(r, s, rec.index, StepStatus::succeeded);
          s.item_outputs[rec.index] = rec.output;
          ++s.items_done;
          break;
        case StepStatus::running:
          // Interrupted mid-attempt: run that attempt again, same number, same key.
          u.attempt = std::max(0, rec.attempt - 1);
          break;
        case StepStatus::waiting:
          set_status(r, s, rec.index, StepStatus::waiting);
          u.token = ++r->next_token;
          ++s.in_flight;
          arm_retry(r, i, static_cast<int>(rec.index), p);
          break;
        default:
          break;
      }
    }
    s.restored_items.clear();
    s.restored_items.shrink_to_fit();
  }
  return true;
}

void Executor::Impl::launch_items(const RunPtr& r, std::size_t i, Pending& p) {
  StepState& s = r->steps[i];
  while (s.in_flight < s.concurrency && s.next_item < s.items.size()) {
    const std::size_t idx = s.next_item++;
    if (s.item_units[idx].status != StepStatus::pending) continue;
    ++s.in_flight;
    start_attempt(r, i, static_cast<int>(idx), p);
    if (r->finished || s.unit.status != StepStatus::running) return;
  }
  if (s.items_done == s.items.size() && s.unit.status == StepStatus::running) {
    json::array outputs;
    outputs.reserve(s.item_outputs.size());
    for (auto& out : s.item_outputs) outputs.push_back(std::move(out));
    s.item_outputs.clear();
    step_succeeded(r, i, std::move(outputs), p);
  }
}

void Executor::Impl::start_attempt(const RunPtr& r, std::size_t i, int index, Pending& p) {
  StepState& s = r->steps[i];
  const StepSpec& spec = *s.spec;
  Unit& u = unit_of(s, index);
  const json::value index_value = index;
  const json::value* item = index >= 0 ? &s.items[static_cast<std::size_t>(index)] : nullptr;
  std::string error_path;
  auto rendered = scripting::render_value(expressions_, spec.with,
                                          scope_for(r, item, index >= 0 ? &index_value : nullptr),
                                          "with", &error_path);
  ++u.attempt;
  u.token = ++r->next_token;
  u.attempt_started_at = now_millis();
  if (u.started_at == 0) u.started_at = u.attempt_started_at;
  u.wake_at = 0;
  // The attempt fails before the step sees it: recorded like any failed attempt, never retried
  // (what failed here fails the same way on a retry).
  auto fail_before_start = [&](const json::value& input, const std::string& message) {
    set_status(r, s, index, StepStatus::failed);
    u.finished_at = now_millis();
    put_attempt(r, i, index, input, nullptr, message, p);
    put_unit(r, i, index, nullptr, message, p);
    if (index >= 0) {
      --s.in_flight;
      step_ended(r, i, StepStatus::failed, fmt::format("item {} failed: {}", index, message), p);
    } else {
      step_ended(r, i, StepStatus::failed, message, p);
    }
  };
  if (!rendered.ok()) {
    // An input that cannot be rendered will not render on a retry either.
    const std::string tmpl = template_at(json::object{{"with", spec.with}}, error_path);
    const std::string message =
        fmt::format("step `{}`, field `{}`: expression {}failed: {}", spec.id,
                    error_path.empty() ? "with" : error_path,
                    tmpl.empty() ? std::string() : "`" + tmpl + "` ", rendered.error().message);
    fail_before_start(nullptr, message);
    return;
  }
  if (const JsonSchema* schema = registry_.input_schema(spec.uses)) {
    // The rendered input is checked on every attempt: expressions may yield anything.
    auto problems = schema->validate(rendered.value(), "with");
    if (!problems.empty()) {
      std::string message = fmt::format("step `{}`: input does not match `{}`:", spec.id, spec.uses);
      for (const auto& problem : problems) {
        message += fmt::format(" {}: {};", problem.path, problem.message);
      }
      message.pop_back();
      fail_before_start(rendered.value(), message);
      return;
    }
  }
  // A template may leave the connection to its inputs: `connection: ${{ inputs.meta_connection }}`.
  std::string connection = spec.connection;
  if (connection.find("${{") != std::string::npos) {
    auto named = scripting::render_value(expressions_, json::value(spec.connection),
                                         scope_for(r, item, index >= 0 ? &index_value : nullptr),
                                         "connection", &error_path);
    std::string problem;
    if (!named.ok()) problem = named.error().message;
    else if (!named.value().is_string() || named.value().get_string().empty()) {
      problem = "it must name a connection, not " + json::serialize(named.value());
    }
    if (!problem.empty()) {
      const std::string message = fmt::format("step `{}`, field `connection`: expression `{}` failed: {}",
                                              spec.id, spec.connection, problem);
      fail_before_start(rendered.value(), message);
      return;
    }
    connection = std::string(named.value().get_string());
  }
  json::value credentials;
  if (!connection.empty()) {
    std::optional<json::object> found;
    if (options_.connections) found = options_.connections(connection);
    if (!found) {
      const std::string message =
          fmt::format("step `{}`: connection `{}` is not defined", spec.id, connection);
      fail_before_start(rendered.value(), message);
      return;
    }
    // Credentials are secrets: whatever of them a step echoes is masked like any secret.
    for (const auto& [key, value] : *found) {
      if (value.is_string()) r->redactor.add(std::string(value.get_string()));
    }
    credentials = std::move(*found);
  }
  const StepDescriptor* descriptor = registry_.describe(spec.uses);
  const bool plan = r->record.dry_run && descriptor != nullptr && descriptor->side_effects;

  set_status(r, s, index, StepStatus::running);
  put_unit(r, i, index, nullptr, {}, p);
  put_attempt(r, i, index, rendered.value(), nullptr, {}, p);

  auto call = std::make_shared<CallImpl>(weak_from_this(), r, i, index, u.attempt, u.token,
                                         spec.id, connection, std::move(rendered.value()),
                                         plan, std::move(credentials));
  r->calls[{i, index}] = call;
  if (s.lua) {
    start_lua(r, i, index, call, p);
    return;
  }
  StepHandler* handler = s.handler;
  const std::optional<Millis> timeout = spec.timeout ? spec.timeout : r->workflow->default_timeout;
  const std::uint64_t token = u.token;
  std::weak_ptr<Impl> weak = weak_from_this();
  p.actions.push_back([this, weak, r, i, index, token, call, handler, timeout] {
    if (timeout) {
      after(*timeout, [weak, r, i, index, token, call, timeout] {
        auto self = weak.lock();
        // Whichever comes first, the step's own completion or the timeout, is the outcome.
        if (!self || !call->claim()) return;
        self->on_call_finished(
            r, i, index, token, std::nullopt,
            StepError{fmt::format("step `{}` timed out after {}", r->steps[i].spec->id,
                                  format_duration(*timeout)),
                      true, std::nullopt});
        call->cancel();
      });
    }
    try {
      handler->start(call);
    } catch (const std::exception& e) {
      call->fail({fmt::format("step raised an error: {}", e.what()), false, std::nullopt});
    } catch (...) {
      call->fail({"step raised an unknown error", false, std::nullopt});
    }
  });
}

void Executor::Impl::on_call_finished(const RunPtr& r, std::size_t i, int index,
                                      std::uint64_t token, std::optional<json::value> output,
                                      StepError error) {
  std::unique_lock lock(r->mu);
  if (r->finished || r->stalled) return;
  StepState& s = r->steps[i];
  if (index >= 0 && !s.items_ready) return;
  Unit& u = unit_of(s, index);
  if (u.token != token || u.status != StepStatus::running) return;  // a stale attempt
  std::shared_ptr<CallImpl> call;
  if (auto it = r->calls.find({i, index}); it != r->calls.end()) {
    call = std::move(it->second);
    r->calls.erase(it);
  }
  // The attempt's input was recorded when it started; null keeps it (see PutAttempt).
  const json::value input;
  Pending p;
  u.finished_at = now_millis();
  if (output) {
    set_status(r, s, index, StepStatus::succeeded);
    put_unit(r, i, index, *output, {}, p);
    // The step record holds the output; the attempt shares it (see PutAttempt).
    put_attempt(r, i, index, input, nullptr, {}, p);
    if (index < 0) {
      step_succeeded(r, i, std::move(*output), p);
    } else {
      s.item_outputs[static_cast<std::size_t>(index)] = std::move(*output);
      ++s.items_done;
      --s.in_flight;
      launch_items(r, i, p);
    }
  } else {
    const RetryPolicy& policy = s.spec->retry ? *s.spec->retry : r->workflow->default_retry;
    if (error.retryable && u.attempt < policy.attempts) {
      set_status(r, s, index, StepStatus::waiting);
      put_attempt(r, i, index, input, nullptr, error.message, p);
      u.wake_at = now_millis() + retry_delay(policy, u.attempt, error.retry_after).count();
      put_unit(r, i, index, nullptr, error.message, p);
      arm_retry(r, i, index, p);
    } else {
      set_status(r, s, index, StepStatus::failed);
      put_attempt(r, i, index, input, nullptr, error.message, p);
      std::string message = error.message;
      if (u.attempt > 1) message += fmt::format(" (after {} attempts)", u.attempt);
      put_unit(r, i, index, nullptr, message, p);
      if (index >= 0) {
        --s.in_flight;
        message = fmt::format("item {} failed: {}", index, message);
      }
      step_ended(r, i, StepStatus::failed, message, p);
    }
  }
  advance(r, p);
  commit(r, std::move(p));
}

void Executor::Impl::arm_retry(const RunPtr& r, std::size_t i, int index, Pending& p) {
  Unit& u = unit_of(r->steps[i], index);
  const std::uint64_t token = u.token;
  const auto delay = milliseconds(std::max<EpochMillis>(0, u.wake_at - now_millis()));
  std::weak_ptr<Impl> weak = weak_from_this();
  p.actions.push_back([this, weak, r, i, index, token, delay] {
    after(delay, [weak, r, i, index, token] {
      auto self = weak.lock();
      if (!self) return;
      std::unique_lock lock(r->mu);
      if (r->finished || r->stalled) return;
      Unit& unit = self->unit_of(r->steps[i], index);
      if (unit.token != token || unit.status != StepStatus::waiting) return;
      Pending p;
      self->start_attempt(r, i, index, p);
      self->advance(r, p);
      self->commit(r, std::move(p));
    });
  });
}

// A lua step runs its program on a worker thread over a copy of the run's context, so that a
// program that computes for seconds does not hold the run's lock; the copy is what an expression
// evaluated at the same moment would see.
void Executor::Impl::start_lua(const RunPtr& r, std::size_t i, int index,
                               const std::shared_ptr<CallImpl>& call, Pending& p) {
  StepState& s = r->steps[i];
  const StepSpec& spec = *s.spec;
  struct Snapshot {
    json::value inputs, steps, run, trigger, item, index, with;
    bool has_item = false;
  };
  auto snap = std::make_shared<Snapshot>();
  snap->inputs = r->record.inputs;
  snap->steps = r->steps_ctx;
  snap->run = r->run_ctx;
  snap->trigger = r->record.trigger;
  snap->with = call->input();
  if (index >= 0) {
    snap->has_item = true;
    snap->item = s.items[static_cast<std::size_t>(index)];
    snap->index = index;
  }
  scripting::ProgramOptions options;
  options.chunk_name = spec.code_origin.empty() ? "step `" + spec.id + "`" : spec.code_origin;
  // The operator's caps bound what a workflow may ask for; a workflow may only lower them.
  options.limits = options_.lua_limits;
  if (spec.max_instructions) {
    options.limits.max_instructions = std::min(options.limits.max_instructions, *spec.max_instructions);
  }
  if (spec.max_memory_bytes) {
    options.limits.max_memory_bytes = std::min(options.limits.max_memory_bytes, *spec.max_memory_bytes);
  }
  if (spec.max_time) options.limits.max_wall_time = std::min(options.limits.max_wall_time, *spec.max_time);
  const std::optional<Millis> timeout = spec.timeout ? spec.timeout : r->workflow->default_timeout;
  if (timeout) options.limits.max_wall_time = std::min(options.limits.max_wall_time, *timeout);
  std::weak_ptr<Impl> weak = weak_from_this();
  options.log = [call](std::string_view level, std::string_view message) {
    LogLevel l = LogLevel::info;
    if (level == "debug") l = LogLevel::debug;
    else if (level == "warn") l = LogLevel::warn;
    else if (level == "error") l = LogLevel::error;
    call->log(l, std::string(message));
  };
  p.actions.push_back([this, weak, r, i, call, snap, options = std::move(options)] {
    auto self = weak.lock();
    if (!self) return;
    const StepSpec& spec = *r->steps[i].spec;
    scripting::Scope scope;
    scope.bind("inputs", snap->inputs);
    scope.bind("steps", snap->steps);
    scope.bind("run", snap->run);
    scope.bind("trigger", snap->trigger);
    scope.bind("with", snap->with);
    if (snap->has_item) {
      scope.bind("item", snap->item);
      scope.bind("index", snap->index);
    }
    RunState* raw = r.get();
    scope.set_secret_resolver([this, raw](std::string_view name) -> std::optional<std::string> {
      if (!secrets_) return std::nullopt;
      auto value = secrets_(name);
      if (value) {
        std::lock_guard lock(raw->mu);
        raw->redactor.add(*value);
      }
      return value;
    });
    auto outcome = scripting::run_program(expressions_, spec.code, scope, options);
    if (auto* result = std::get_if<scripting::ProgramResult>(&outcome)) {
      call->complete(std::move(result->value));
      return;
    }
    const auto& error = std::get<scripting::ProgramError>(outcome);
    const bool limit = error.kind == scripting::EvalError::Kind::instruction_limit ||
                       error.kind == scripting::EvalError::Kind::memory_limit ||
                       error.kind == scripting::EvalError::Kind::time_limit;
    std::string where;
    if (error.line > 0) {
      const int line = spec.code_origin.empty() ? error.line : spec.code_line + error.line - 1;
      where = fmt::format(" at {}:{}", options.chunk_name, line);
    }
    call->fail({limit ? fmt::format("lua step `{}` {}{}", spec.id, error.message, where)
                      : fmt::format("lua step `{}` failed{}: {}", spec.id, where, error.message),
                false, std::nullopt});
  });
}

void Executor::Impl::start_approval(const RunPtr& r, std::size_t i, Pending& p) {
  StepState& s = r->steps[i];
  const StepSpec& spec = *s.spec;
  std::string error_path;
  auto rendered = scripting::render_value(expressions_, spec.with, scope_for(r, nullptr, nullptr),
                                          "with", &error_path);
  if (!rendered.ok()) {
    step_ended(r, i, StepStatus::failed,
               fmt::format("step `{}`, field `{}`: {}", spec.id, error_path,
                           rendered.error().message),
               p);
    return;
  }
  ApprovalRecord approval;
  approval.run_id = r->record.id;
  approval.step_id = spec.id;
  approval.created_at = now_millis();
  if (const auto* obj = rendered.value().if_object()) {
    if (const auto* m = obj->if_contains("message")) {
      approval.message = scripting::to_display_text(*m);
    }
    if (const auto* t = obj->if_contains("timeout"); t != nullptr && !t->is_null()) {
      std::string error;
      auto d = parse_duration(scripting::to_display_text(*t), &error);
      if (!d) {
        step_ended(r, i, StepStatus::failed,
                   fmt::format("step `{}`, field `with.timeout`: {}", spec.id, error), p);
        return;
      }
      approval.expires_at = approval.created_at + d->count();
    }
  }
  approval.message = r->redactor.redact(approval.message);
  set_status(r, s, -1, StepStatus::waiting);
  s.unit.attempt = 1;
  s.unit.started_at = approval.created_at;
  s.unit.wake_at = approval.expires_at;
  s.unit.token = ++r->next_token;
  put_unit(r, i, -1, nullptr, {}, p);
  put_attempt(r, i, -1, rendered.value(), nullptr, {}, p);
  s.approval_record = approval;
  p.batch.add(PutApproval{approval});
  arm_approval_expiry(r, i, approval, p);
}

void Executor::Impl::arm_approval_expiry(const RunPtr& r, std::size_t i,
                                         const ApprovalRecord& approval, Pending& p) {
  if (approval.expires_at == 0) return;
  const std::uint64_t token = r->steps[i].unit.token;
  const auto delay = milliseconds(std::max<EpochMillis>(0, approval.expires_at - now_millis()));
  std::weak_ptr<Impl> weak = weak_from_this();
  p.actions.push_back([this, weak, r, i, token, delay, approval] {
    after(delay, [weak, r, i, token, expired = approval]() mutable {
      auto self = weak.lock();
      if (!self) return;
      std::unique_lock lock(r->mu);
      StepState& s = r->steps[i];
      if (r->finished || s.unit.token != token || s.unit.status != StepStatus::waiting) return;
      Pending p;
      expired.status = ApprovalStatus::expired;
      expired.decided_at = now_millis();
      // With leases a decision may have been recorded elsewhere meanwhile: only a pending approval
      // expires (a Conflict gives the run up, and whoever claims it next applies the decision).
      if (r->lease) {
        p.batch.add(DecideApproval{expired});
      } else {
        p.batch.add(PutApproval{expired});
      }
      self->apply_decision(r, i, expired, p);
      self->advance(r, p);
      self->commit(r, std::move(p));
    });
  });
}

void Executor::Impl::apply_decision(const RunPtr& r, std::size_t i,
                                    const ApprovalRecord& approval, Pending& p) {
  StepState& s = r->steps[i];
  s.unit.finished_at = approval.decided_at != 0 ? approval.decided_at : now_millis();
  if (approval.status == ApprovalStatus::approved) {
    json::object output{
        {"approved", true}, {"by", approval.decided_by}, {"comment", approval.comment}};
    set_status(r, s, -1, StepStatus::succeeded);
    put_unit(r, i, -1, output, {}, p);
    put_attempt(r, i, -1, nullptr, output, {}, p);
    step_succeeded(r, i, std::move(output), p);
    return;
  }
  std::string message;
  if (approval.status == ApprovalStatus::expired) {
    message = "approval timed out with no decision";
  } else if (approval.comment.empty()) {
    message = fmt::format("rejected by {}", approval.decided_by);
  } else {
    message = fmt::format("rejected by {}: {}", approval.decided_by, approval.comment);
  }
  put_attempt(r, i, -1, nullptr, nullptr, message, p);
  step_ended(r, i, StepStatus::failed, message, p);
}

void Executor::Impl::step_succeeded(const RunPtr& r, std::size_t i, json::value output,
                                    Pending& p) {
  StepState& s = r->steps[i];
  set_status(r, s, -1, StepStatus::succeeded);
  s.unit.finished_at = now_millis();
  if (s.is_foreach) put_unit(r, i, -1, output, {}, p);
  r->steps_ctx.as_object()[s.spec->id] =
      json::object{{"output", std::move(output)}, {"status", "succeeded"}, {"error", nullptr}};
  if (s.is_foreach) s.items = json::array();  // outputs live in steps_ctx; the list is done
  for (std::size_t d : s.dependents) --r->steps[d].unmet;
}

void Executor::Impl::step_ended(const RunPtr& r, std::size_t i, StepStatus status,
                                const std::string& error, Pending& p) {
  StepState& s = r->steps[i];
  const std::string message = r->redactor.redact(error);
  if (s.is_foreach && s.unit.status == StepStatus::running) {
    // The step as a whole has ended: stop its other items.
    for (std::size_t idx = 0; idx < s.item_units.size(); ++idx) {
      const int index = static_cast<int>(idx);
      Unit& u = s.item_units[idx];
      if (u.status == StepStatus::running || u.status == StepStatus::waiting) {
        if (auto it = r->calls.find({i, index}); it != r->calls.end()) {
          it->second->cancel();
          r->calls.erase(it);
        }
        set_status(r, s, index, StepStatus::cancelled);
        u.finished_at = now_millis();
        put_unit(r, i, index, nullptr, "cancelled: another item failed", p);
      }
    }
    s.in_flight = 0;
  }
  set_status(r, s, -1, status);
  s.unit.finished_at = now_millis();
  s.error = message;
  put_unit(r, i, -1, nullptr, message, p);
  r->steps_ctx.as_object()[s.spec->id] = json::object{
      {"output", nullptr}, {"status", to_string(status)}, {"error", message}};
  if (status == StepStatus::failed && r->run_ctx.as_object()["error"].is_null()) {
    r->run_ctx.as_object()["error"] = fmt::format("step `{}` failed: {}", s.spec->id, message);
  }
  skip_dependents(r, i, p);
}

void Executor::Impl::skip_dependents(const RunPtr& r, std::size_t i, Pending& p) {
  const std::string& id = r->steps[i].spec->id;
  const StepStatus why = r->steps[i].unit.status;
  for (std::size_t d : r->steps[i].dependents) {
    StepState& dep = r->steps[d];
    if (dep.unit.status != StepStatus::pending) continue;
    set_status(r, dep, -1, StepStatus::skipped);
    dep.unit.finished_at = now_millis();
    dep.error = fmt::format("skipped: needs `{}`, which {}", id,
                            why == StepStatus::skipped ? "was skipped" : "did not succeed");
    put_unit(r, d, -1, nullptr, dep.error, p);
    r->steps_ctx.as_object()[dep.spec->id] =
        json::object{{"output", nullptr}, {"status", "skipped"}, {"error", dep.error}};
    skip_dependents(r, d, p);
  }
}

void Executor::Impl::maybe_finish(const RunPtr& r, Pending& p) {
  if (r->finished) return;
  bool any_failed = false;
  for (const StepState& s : r->steps) {
    if (s.on_failure != r->on_failure_phase) continue;
    if (!is_terminal(s.unit.status)) return;
    any_failed = any_failed || s.unit.status == StepStatus::failed;
  }
  if (r->on_failure_phase) {
    finish_run(r, RunStatus::failed, r->run_ctx.as_object()["error"].is_string()
                                         ? std::string(r->run_ctx.as_object()["error"].get_string())
                                         : "run failed",
               nullptr, p);
    return;
  }
  std::string error;
  json::value outputs;
  if (!any_failed) {
    json::object rendered;
    for (const auto& [name, tmpl] : r->workflow->outputs) {
      auto result = scripting::render_value(expressions_, tmpl, scope_for(r, nullptr, nullptr));
      if (!result.ok()) {
        error = fmt::format("output `{}`: expression `{}` failed: {}", std::string_view(name),
                            tmpl.is_string() ? std::string(tmpl.get_string()) : std::string(),
                            result.error().message);
        break;
      }
      rendered[name] = r->redactor.redact(result.value());
    }
    if (error.empty()) {
      finish_run(r, RunStatus::succeeded, {}, std::move(rendered), p);
      return;
    }
    r->run_ctx.as_object()["error"] = error;
  }
  bool has_on_failure = false;
  for (const StepState& s : r->steps) has_on_failure = has_on_failure || s.on_failure;
  if (has_on_failure) {
    r->on_failure_phase = true;
    advance(r, p);
    return;
  }
  const json::value& e = r->run_ctx.as_object()["error"];
  finish_run(r, RunStatus::failed, e.is_string() ? std::string(e.get_string()) : "run failed",
             nullptr, p);
}

void Executor::Impl::finish_run(const RunPtr& r, RunStatus status, std::string error,
                                json::value outputs, Pending& p) {
  r->finished = true;
  r->record.status = status;
  r->record.error = r->redactor.redact(error);
  r->record.outputs = std::move(outputs);
  r->record.finished_at = now_millis();
  if (r->record.started_at == 0) r->record.started_at = r->record.finished_at;
  if (r->run_timer) r->run_timer->cancel();
  p.batch.add(PutRun{r->record});
  if (r->lease) p.batch.add(ReleaseLease{r->record.id, owner(), r->lease->epoch, 0});
  std::weak_ptr<Impl> weak = weak_from_this();
  p.actions.push_back([weak, r] {
    if (auto self = weak.lock()) self->release_slot(r);
  });
}

void Executor::Impl::stop_units(const RunPtr& r, const std::string& reason, Pending& p) {
  for (auto& [key, call] : r->calls) call->cancel();
  r->calls.clear();
  for (std::size_t i = 0; i < r->steps.size(); ++i) {
    StepState& s = r->steps[i];
    for (std::size_t idx = 0; idx < s.item_units.size(); ++idx) {
      const int index = static_cast<int>(idx);
      Unit& u = s.item_units[idx];
      if (u.status == StepStatus::running || u.status == StepStatus::waiting) {
        set_status(r, s, index, StepStatus::cancelled);
        u.finished_at = now_millis();
        put_unit(r, i, index, nullptr, reason, p);
      }
    }
    if (is_terminal(s.unit.status)) continue;
    if (s.approval && s.unit.status == StepStatus::waiting) {
      ApprovalRecord approval = s.approval_record;
      approval.status = ApprovalStatus::expired;
      approval.comment = reason;
      approval.decided_at = now_millis();
      p.batch.add(PutApproval{approval});
    }
    const bool started = s.unit.status != StepStatus::pending;
    set_status(r, s, -1, started ? StepStatus::cancelled : StepStatus::skipped);
    s.unit.finished_at = now_millis();
    s.error = reason;
    put_unit(r, i, -1, nullptr, reason, p);
  }
}

void Executor::Impl::put_unit(const RunPtr& r, std::size_t i, int index, const json::value& output,
                              const std::string& error, Pending& p) {
  StepState& s = r->steps[i];
  const Unit& u = unit_of(s, index);
  StepRecord rec;
  rec.run_id = r->record.id;
  rec.step_id = s.spec->id;
  rec.index = index;
  rec.status = u.status;
  rec.attempt = u.attempt;
  rec.output = r->redactor.redact(output);
  rec.error = r->redactor.redact(error);
  rec.item_count = index < 0 && s.items_ready ? static_cast<int>(s.item_units.size()) : -1;
  rec.started_at = u.started_at;
  rec.finished_at = is_terminal(u.status) ? u.finished_at : 0;
  rec.wake_at = u.wake_at;
  p.batch.add(PutStep{std::move(rec)});
}

void Executor::Impl::put_attempt(const RunPtr& r, std::size_t i, int index,
                                 const json::value& input, const json::value& output,
                                 const std::string& error, Pending& p) {
  StepState& s = r->steps[i];
  const Unit& u = unit_of(s, index);
  AttemptRecord rec;
  rec.run_id = r->record.id;
  rec.step_id = s.spec->id;
  rec.index = index;
  rec.attempt = std::max(1, u.attempt);
  rec.started_at = u.attempt_started_at != 0 ? u.attempt_started_at : u.started_at;
  rec.input = r->redactor.redact(input);
  const bool in_progress = error.empty() && (u.status == StepStatus::running ||
                                             u.status == StepStatus::waiting);
  if (in_progress) {
    rec.status = StepStatus::running;
  } else {
    rec.status = error.empty() ? StepStatus::succeeded : StepStatus::failed;
    rec.finished_at = now_millis();
    rec.output = r->redactor.redact(output);
    rec.error = r->redactor.redact(error);
  }
  p.batch.add(PutAttempt{std::move(rec)});
}

scripting::EvalResult Executor::Impl::evaluate_for_call(const RunPtr& r, std::size_t step,
                                                       int index, std::string_view expression,
                                                       const json::value& row) {
  std::lock_guard lock(r->mu);
  const StepState& s = r->steps[step];
  const json::value index_value = index;
  const bool has_item = index >= 0 && s.items_ready &&
                        static_cast<std::size_t>(index) < s.items.size();
  scripting::Scope scope = scope_for(r, has_item ? &s.items[static_cast<std::size_t>(index)] : nullptr,
                                     has_item ? &index_value : nullptr);
  scope.bind("row", row);
  return expressions_.evaluate(expression, scope);
}

void Executor::Impl::append_log(const RunPtr& r, LogRecord record) {
  {
    std::lock_guard lock(r->mu);
    record.message = r->redactor.redact(record.message);
  }
  WriteBatch batch;
  batch.add(AppendLog{std::move(record)});
  store_.submit(std::move(batch), [](CommitResult) {});
}

// ---------------------------------------------------------------------------------------------

void Executor::Impl::cancel(const std::string& run_id, const std::string& reason) {
  RunPtr r = find_run(run_id);
  if (r && cancel_held(r, reason)) return;
  if (leased()) {
    // Held by another process, or by none: whoever holds or next claims the run cancels it.
    auto record = store_.get_run(run_id);
    if (!record || is_terminal(record->status)) return;
    WriteBatch batch;
    batch.add(RequestCancel{run_id, reason});
    batch.add(Notify{"run:" + run_id});
    CommitResult result = store_.commit(std::move(batch));
    if (result.error) std::rethrow_exception(result.error);
    return;
  }
  if (!r) {
    // Not loaded here: a queued or parked run in the store.
    if (!resume(run_id)) return;
    r = find_run(run_id);
    if (!r) return;
  }
  cancel_held(r, reason);
}

// False when the run was given up meanwhile (see drop_run): the cancellation must go elsewhere.
bool Executor::Impl::cancel_held(const RunPtr& r, const std::string& reason) {
  {
    std::lock_guard lock(runs_mu_);
    for (auto& [wf, slots] : slots_) std::erase(slots.queue, r);
  }
  std::unique_lock lock(r->mu);
  if (r->dropped) return false;
  if (r->finished) return true;
  Pending p;
  stop_units(r, reason, p);
  finish_run(r, RunStatus::cancelled, reason, nullptr, p);
  commit(r, std::move(p));
  return true;
}

void Executor::Impl::decide(const std::string& run_id, const std::string& step_id, bool approve,
                            const std::string& by, const std::string& comment) {
  if (leased()) {
    decide_in_store(run_id, step_id, approve, by, comment);
    return;
  }
  RunPtr r = find_run(run_id);
  if (!r) {
    resume(run_id);
    r = find_run(run_id);
  }
  if (!r) throw std::invalid_argument("run " + run_id + " is not waiting for an approval");
  auto done = std::make_shared<std::promise<void>>();
  auto future = done->get_future();
  {
    std::unique_lock lock(r->mu);
    auto it = r->index_of.find(step_id);
    if (it == r->index_of.end()) {
      throw std::invalid_argument("run " + run_id + " has no step `" + step_id + "`");
    }
    StepState& s = r->steps[it->second];
    if (!s.approval || s.unit.status != StepStatus::waiting || r->finished) {
      throw std::invalid_argument("step `" + step_id + "` of run " + run_id +
                                  " is not waiting for an approval");
    }
    const std::size_t i = it->second;
    ApprovalRecord approval = s.approval_record;
    approval.status = approve ? ApprovalStatus::approved : ApprovalStatus::rejected;
    approval.decided_by = by;
    approval.comment = comment;
    approval.decided_at = now_millis();
    Pending p;
    p.batch.add(PutApproval{approval});
    apply_decision(r, i, approval, p);
    advance(r, p);
    p.actions.insert(p.actions.begin(), [done] { done->set_value(); });
    commit(r, std::move(p));
  }
  future.wait();
}

bool Executor::Impl::resume(const std::string& run_id) {
  if (leased()) return false;
  return resume_run(run_id, std::nullopt);
}

bool Executor::Impl::resume_run(const std::string& run_id, std::optional<RunLease> lease) {
  if (RunPtr held = find_run(run_id)) {
    if (!lease) return true;
    // Claimed again after our lease lapsed: someone may have advanced it meanwhile.
    drop_run(held, std::nullopt);
  }
  auto record = store_.get_run(run_id);
  if (!record || is_terminal(record->status)) {
    if (lease) {
      WriteBatch batch;
      batch.add(ReleaseLease{run_id, owner(), lease->epoch, 0});
      store_.submit(std::move(batch), [](CommitResult) {});
    }
    return false;
  }
  auto version = store_.get_workflow_version(record->workflow_id, record->workflow_version);
  std::shared_ptr<const Workflow> workflow;
  if (version) workflow = resolver_(*version);
  if (!workflow) {
    RunRecord failed = *record;
    failed.status = RunStatus::failed;
    failed.error = fmt::format("cannot resume: the definition of workflow `{}` version {} {}",
                               record->workflow_id, record->workflow_version,
                               version ? "no longer loads" : "is missing from the store");
    failed.finished_at = now_millis();
    WriteBatch batch;
    batch.add(PutRun{failed});
    if (lease) {
      batch.fence = LeaseFence{run_id, owner(), lease->epoch};
      batch.add(ReleaseLease{run_id, owner(), lease->epoch, 0});
    }
    store_.commit(std::move(batch));
    return false;
  }
  RunPtr r = make_run(workflow, *record);
  r->lease = lease;
  const bool cancel_asked = !r->record.cancel_requested.empty();
  const auto steps = store_.get_steps(run_id);
  {
    std::lock_guard lock(r->mu);
    Pending p;
    std::vector<const StepRecord*> in_progress(r->steps.size(), nullptr);
    // First pass: settled steps, so that steps_ctx is complete before anything is evaluated.
    for (const StepRecord& rec : steps) {
      auto it = r->index_of.find(rec.step_id);
      if (it == r->index_of.end()) continue;
      StepState& s = r->steps[it->second];
      if (s.on_failure) r->on_failure_phase = true;
      if (rec.index >= 0) {
        s.restored_items.push_back(rec);
        continue;
      }
      s.unit.attempt = rec.attempt;
      s.unit.started_at = rec.started_at;
      s.unit.finished_at = rec.finished_at;
      s.unit.wake_at = rec.wake_at;
      if (!is_terminal(rec.status)) {
        in_progress[it->second] = &rec;
        continue;
      }
      set_status(r, s, -1, rec.status);
      s.error = rec.error;
      r->steps_ctx.as_object()[rec.step_id] = json::object{
          {"output", rec.output},
          {"status", to_string(rec.status)},
          {"error", rec.error.empty() ? json::value(nullptr) : json::value(rec.error)}};
      if (rec.status == StepStatus::succeeded) {
        for (std::size_t d : s.dependents) --r->steps[d].unmet;
      } else if (rec.status == StepStatus::failed && r->run_ctx.as_object()["error"].is_null()) {
        r->run_ctx.as_object()["error"] = fmt::format("step `{}` failed: {}", rec.step_id, rec.error);
      }
    }
    // Second pass: steps that were in progress; a run asked to cancel starts nothing, its steps
    // only get the state stop_units needs to end them.
    for (std::size_t i = 0; i < r->steps.size() && cancel_asked; ++i) {
      const StepRecord* rec = in_progress[i];
      if (rec == nullptr) continue;
      StepState& s = r->steps[i];
      if (s.approval && rec->status == StepStatus::waiting) {
        if (auto approval = store_.get_approval(run_id, s.spec->id)) s.approval_record = *approval;
      }
      set_status(r, s, -1, rec->status);
    }
    for (std::size_t i = 0; i < r->steps.size() && !cancel_asked; ++i) {
      const StepRecord* rec = in_progress[i];
      if (rec == nullptr) continue;
      StepState& s = r->steps[i];
      if (s.approval && rec->status == StepStatus::waiting) {
        set_status(r, s, -1, StepStatus::waiting);
        s.unit.token = ++r->next_token;
        auto approval = store_.get_approval(run_id, s.spec->id);
        if (!approval) continue;
        s.approval_record = *approval;
        if (approval->status != ApprovalStatus::pending) {
          // Decided while no process held the run: apply the decision now.
          apply_decision(r, i, *approval, p);
        } else {
          arm_approval_expiry(r, i, *approval, p);
        }
        continue;
      }
      if (s.is_foreach && (rec->status == StepStatus::running || rec->status == StepStatus::waiting)) {
        // Re-evaluating the list gives the same items: it depends only on recorded outputs.
        if (!prepare_items(r, i, p)) continue;
        set_status(r, s, -1, StepStatus::running);
        launch_items(r, i, p);
        continue;
      }
      if (rec->status == StepStatus::waiting) {
        set_status(r, s, -1, StepStatus::waiting);
        s.unit.token = ++r->next_token;
        arm_retry(r, i, -1, p);
        continue;
      }
      if (rec->status == StepStatus::running) {
        // Interrupted mid-attempt: the same attempt runs again with the same idempotency key.
        s.unit.attempt = std::max(0, rec->attempt - 1);
      }
    }
    commit(r, std::move(p));
  }
  {
    std::lock_guard lock(runs_mu_);
    runs_[run_id] = r;
  }
  if (cancel_asked) {
    cancel_held(r, r->record.cancel_requested);
    return true;
  }
  if (r->record.status == RunStatus::queued) {
    admit(r);
  } else {
    {
      std::lock_guard lock(runs_mu_);
      Slots& slots = slots_[r->record.workflow_id];
      ++slots.active;
      slots.running.push_back(r);
      std::lock_guard run_lock(r->mu);
      r->holds_slot = true;
    }
    activate_run(r);
  }
  // A run claimed with nothing to do (it waits for a person) goes back at once.
  if (r->lease) maybe_park(r);
  return true;
}

std::size_t Executor::Impl::resume_all() {
  if (leased()) return 0;  // the claimer thread takes runs instead
  std::size_t n = 0;
  for (const std::string& id : store_.unfinished_run_ids()) {
    if (resume(id)) ++n;
  }
  return n;
}

std::optional<RunStatus> Executor::Impl::wait(const std::string& run_id,
                                              std::optional<milliseconds> timeout) {
  const auto deadline = timeout ? std::chrono::steady_clock::now() + *timeout
                                : std::chrono::steady_clock::time_point::max();
  std::unique_lock lock(wait_mu_);
  for (;;) {
    RunPtr r = find_run(run_id);
    if (!r) {
      auto record = store_.get_run(run_id);
      if (!record) return std::nullopt;
      if (is_terminal(record->status)) return record->status;
    } else {
      std::lock_guard run_lock(r->mu);
      if (r->pending_commits == 0) {
        if (r->finished) return r->record.status;
        if (r->stalled) return r->record.status;
        if (r->active_units == 0 && r->waiting_approvals > 0) return r->record.status;
      }
    }
    const auto slice = std::chrono::steady_clock::now() + milliseconds(50);
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    wait_cv_.wait_until(lock, std::min(slice, deadline));
  }
}

bool Executor::Impl::is_parked(const std::string& run_id) const {
  RunPtr r = find_run(run_id);
  if (!r) return false;
  std::lock_guard lock(r->mu);
  return !r->finished && r->pending_commits == 0 && r->active_units == 0 &&
         r->waiting_approvals > 0;
}

// ---- several processes: leases -----------------------------------------------------------

void Executor::Impl::claim_loop() {
  const ExecutorOptions::Leases& o = *options_.leases;
  auto next_renew = std::chrono::steady_clock::now() + o.renew_every;
  while (!stopping_) {
    if (std::chrono::steady_clock::now() >= next_renew) {
      renew_leases();
      next_renew = std::chrono::steady_clock::now() + o.renew_every;
    }
    if (o.claim && claim_once()) continue;  // took all it asked for: there may be more
    const auto until_renew = std::chrono::duration_cast<milliseconds>(
        next_renew - std::chrono::steady_clock::now());
    const auto wait = std::clamp(until_renew, milliseconds(0), o.poll_every);
    for (const std::string& signal : store_.wait_for_signals(wait)) {
      // "run:<id>": a decision or a cancel request for a run; "claim": runs to take.
      if (signal.rfind("run:", 0) == 0) refresh(signal.substr(4));
    }
  }
}

// Claims what there is room for and resumes it; true when it got all it asked for.
bool Executor::Impl::claim_once() {
  const ExecutorOptions::Leases& o = *options_.leases;
  std::size_t held = 0;
  {
    std::lock_guard lock(runs_mu_);
    held = runs_.size();
  }
  if (held >= o.max_runs) return false;
  constexpr std::size_t kClaimBatch = 64;
  const int limit = static_cast<int>(std::min(o.max_runs - held, kClaimBatch));
  WriteBatch batch;
  batch.add(ClaimRuns{owner(), limit, now_millis(), o.ttl.count()});
  CommitResult result = store_.commit(std::move(batch));
  if (result.error) {
    try {
      std::rethrow_exception(result.error);
    } catch (const std::exception& e) {
      spdlog::warn("claiming runs failed, trying again: {}", e.what());
    }
    return false;
  }
  for (const RunLease& lease : result.claimed) {
    if (stopping_) break;
    try {
      resume_run(lease.run_id, lease);
    } catch (const std::exception& e) {
      // Its lease lapses and a worker tries again.
      spdlog::error("run {}: claimed but could not be resumed: {}", lease.run_id, e.what());
    }
  }
  return static_cast<int>(result.claimed.size()) == limit;
}

void Executor::Impl::renew_leases() {
  const ExecutorOptions::Leases& o = *options_.leases;
  std::vector<RunPtr> held;
  RenewLeases renew{owner(), {}, now_millis(), o.ttl.count()};
  {
    std::lock_guard lock(runs_mu_);
    for (const auto& [id, r] : runs_) {
      std::lock_guard run_lock(r->mu);
      if (!r->lease || r->dropped || r->finished) continue;
      held.push_back(r);
      renew.leases.push_back(*r->lease);
    }
  }
  if (held.empty()) return;
  const EpochMillis now = renew.now;
  WriteBatch batch;
  batch.add(std::move(renew));
  CommitResult result = store_.commit(std::move(batch));
  if (result.error) {
    try {
      std::rethrow_exception(result.error);
    } catch (const std::exception& e) {
      spdlog::warn("renewing {} run leases failed: {}", held.size(), e.what());
    }
    // A lease that ran out may be another worker's by now: stop working on its run.
    for (const RunPtr& r : held) {
      bool expired = false;
      {
        std::lock_guard lock(r->mu);
        expired = r->lease && r->lease->expires_at <= now_millis();
      }
      if (expired) drop_run(r, std::nullopt);
    }
    return;
  }
  const std::set<std::string> lost(result.lost_leases.begin(), result.lost_leases.end());
  for (const RunPtr& r : held) {
    if (lost.count(r->record.id) != 0) {
      spdlog::warn("run {}: its lease was taken over; giving the run up", r->record.id);
      drop_run(r, std::nullopt);
      continue;
    }
    std::lock_guard lock(r->mu);
    if (r->lease) r->lease->expires_at = now + o.ttl.count();
  }
  for (const std::string& id : result.woken) refresh(id);
}

// Applies what was recorded about a held run elsewhere: a cancel request, approval decisions.
void Executor::Impl::refresh(const std::string& run_id) {
  RunPtr r = find_run(run_id);
  if (!r) return;
  auto record = store_.get_run(run_id);
  if (!record) return;
  if (!record->cancel_requested.empty()) {
    cancel_held(r, record->cancel_requested);
    return;
  }
  std::vector<std::pair<std::size_t, std::string>> waiting;
  {
    std::lock_guard lock(r->mu);
    for (std::size_t i = 0; i < r->steps.size(); ++i) {
      const StepState& s = r->steps[i];
      if (s.approval && s.unit.status == StepStatus::waiting) waiting.emplace_back(i, s.spec->id);
    }
  }
  std::vector<std::pair<std::size_t, ApprovalRecord>> decided;
  for (const auto& [i, step_id] : waiting) {
    auto approval = store_.get_approval(run_id, step_id);
    if (approval && approval->status != ApprovalStatus::pending) decided.emplace_back(i, *approval);
  }
  if (decided.empty()) return;
  std::lock_guard lock(r->mu);
  if (r->finished || r->stalled) return;
  Pending p;
  for (const auto& [i, approval] : decided) {
    StepState& s = r->steps[i];
    if (s.unit.status != StepStatus::waiting) continue;
    s.approval_record = approval;
    apply_decision(r, i, approval, p);
  }
  advance(r, p);
  commit(r, std::move(p));
}

// A run with nothing left to do but wait for people is given back: the lease is released, to be
// claimed again when an approval expires, the run times out, or a decision marks it.
void Executor::Impl::maybe_park(const RunPtr& r) {
  EpochMillis wake = kNeverClaimable;
  {
    std::lock_guard lock(r->mu);
    if (!r->lease || r->dropped || r->finished || r->stalled || r->pending_commits != 0 ||
        r->active_units != 0 || r->waiting_approvals == 0) {
      return;
    }
    for (const StepState& s : r->steps) {
      if (s.approval && s.unit.status == StepStatus::waiting && s.approval_record.expires_at != 0) {
        wake = std::min(wake, s.approval_record.expires_at);
      }
    }
    if (r->workflow->timeout && r->record.started_at != 0) {
      wake = std::min(wake, r->record.started_at + r->workflow->timeout->count());
    }
  }
  drop_run(r, wake);
}

// Stops working on a run here: its calls are told to stop, its timers end, and it leaves the
// in-memory tables. With `release_at`, the lease is released too (claimable again from then on).
void Executor::Impl::drop_run(const RunPtr& r, std::optional<EpochMillis> release_at) {
  std::optional<RunLease> lease;
  {
    std::lock_guard lock(r->mu);
    if (r->dropped || (r->finished && !r->stalled)) return;
    r->dropped = true;
    r->finished = true;
    for (auto& [key, call] : r->calls) call->cancel();
    r->calls.clear();
    if (r->run_timer) r->run_timer->cancel();
    lease = r->lease;
  }
  {
    std::lock_guard lock(runs_mu_);
    for (auto& [wf, slots] : slots_) std::erase(slots.queue, r);
  }
  release_slot(r);
  if (lease && release_at) {
    WriteBatch batch;
    batch.add(ReleaseLease{r->record.id, owner(), lease->epoch, *release_at});
    if (*release_at == 0) batch.add(Notify{"claim"});
    store_.submit(std::move(batch), [](CommitResult) {});
  }
  notify_waiters();
}

// On shutdown: the runs this process held can be claimed at once by the others. Steps that were
// running start again there, with the same attempt number and idempotency key.
void Executor::Impl::release_all_leases() {
  WriteBatch batch;
  {
    std::lock_guard lock(runs_mu_);
    for (const auto& [id, r] : runs_) {
      std::lock_guard run_lock(r->mu);
      if (r->lease && !r->dropped && !r->finished) {
        batch.add(ReleaseLease{id, owner(), r->lease->epoch, 0});
      }
    }
  }
  if (batch.empty()) return;
  batch.add(Notify{"claim"});
  CommitResult result = store_.commit(std::move(batch));
  if (result.error) spdlog::warn("releasing run leases on shutdown failed; they expire instead");
}

void Executor::Impl::decide_in_store(const std::string& run_id, const std::string& step_id,
                                     bool approve, const std::string& by,
                                     const std::string& comment) {
  auto approval = store_.get_approval(run_id, step_id);
  if (!approval || approval->status != ApprovalStatus::pending) {
    throw std::invalid_argument("step `" + step_id + "` of run " + run_id +
                                " is not waiting for an approval");
  }
  approval->status = approve ? ApprovalStatus::approved : ApprovalStatus::rejected;
  approval->decided_by = by;
  approval->comment = comment;
  approval->decided_at = now_millis();
  WriteBatch batch;
  batch.add(DecideApproval{*approval});
  batch.add(MakeClaimable{run_id});
  batch.add(Notify{"run:" + run_id});
  CommitResult result = store_.commit(std::move(batch));
  if (result.error) {
    try {
      std::rethrow_exception(result.error);
    } catch (const Conflict&) {
      throw std::invalid_argument("step `" + step_id + "` of run " + run_id +
                                  " was decided or expired meanwhile");
    }
  }
  refresh(run_id);  // held here: continue at once
}

// ---------------------------------------------------------------------------------------------

Executor::Executor(Store& store, const StepRegistry& steps,
                   const scripting::ExpressionEngine& expressions, SecretLookup secrets,
                   WorkflowResolver resolver, ExecutorOptions options)
    : impl_(std::make_shared<Impl>(store, steps, expressions, std::move(secrets),
                                   std::move(resolver), options)) {
  impl_->start_threads();
}

Executor::~Executor() { impl_->shutdown(); }

StartedRun Executor::start(RunRequest request) { return impl_->start(std::move(request)); }
void Executor::start_async(RunRequest request, StartCallback done) {
  impl_->start_async(std::move(request), std::move(done));
}
StartedRun Executor::restart(const std::string& run_id, const std::string& from_step) {
  return impl_->restart(run_id, from_step);
}
bool Executor::resume(const std::string& run_id) { return impl_->resume(run_id); }
std::size_t Executor::resume_all() { return impl_->resume_all(); }
void Executor::decide(const std::string& run_id, const std::string& step_id, bool approve,
                      const std::string& decided_by, const std::string& comment) {
  impl_->decide(run_id, step_id, approve, decided_by, comment);
}
void Executor::cancel(const std::string& run_id, const std::string& reason) {
  impl_->cancel(run_id, reason);
}
std::optional<RunStatus> Executor::wait(const std::string& run_id,
                                        std::optional<std::chrono::milliseconds> timeout) {
  return impl_->wait(run_id, timeout);
}
bool Executor::is_parked(const std::string& run_id) const { return impl_->is_parked(run_id); }
ExecutorStats Executor::stats() const { return impl_->stats(); }

RunEvent run_event(const RunRecord& run) {
  RunEvent e;
  e.kind = RunEvent::Kind::run;
  e.run_id = run.id;
  e.workflow_id = run.workflow_id;
  e.status = std::string(to_string(run.status));
  e.error = run.error;
  e.started_at = run.started_at;
  e.finished_at = run.finished_at;
  if (is_terminal(run.status)) e.outputs = run.outputs;
  return e;
}

RunEvent step_event(const StepRecord& step, const std::string& workflow_id) {
  RunEvent e;
  e.kind = RunEvent::Kind::step;
  e.run_id = step.run_id;
  e.workflow_id = workflow_id;
  e.step_id = step.step_id;
  e.index = step.index;
  e.status = std::string(to_string(step.status));
  e.attempt = step.attempt;
  e.error = step.error;
  e.started_at = step.started_at;
  e.finished_at = step.finished_at;
  return e;
}

}  // namespace flowpilot::engine
