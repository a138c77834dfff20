// Executors sharing one store through run leases, as `serve --role` processes do: each executor
// here stands for a process (its own lease owner), and the store is the real one under test, so
// these run against SQLite and, as pg.*, against PostgreSQL.
#include "runtime_fixture.h"

#include <chrono>
#include <set>
#include <thread>

namespace flowpilot::engine::testing {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

class LeasedExecutorTest : public RuntimeTest {
 protected:
  void TearDown() override {
    processes_.clear();
    RuntimeTest::TearDown();
  }

  Executor& process(const std::string& owner, bool execute = true, milliseconds ttl = 30s,
                    milliseconds renew_every = 10s, bool claim = true) {
    ExecutorOptions options;
    options.worker_threads = 2;
    ExecutorOptions::Leases leases;
    leases.owner = owner;
    leases.ttl = ttl;
    leases.renew_every = renew_every;
    leases.poll_every = 50ms;
    leases.execute = execute;
    leases.claim = claim;
    options.leases = leases;
    processes_.push_back(make_executor(options));
    return *processes_.back();
  }

  std::string start_on(Executor& executor, const std::shared_ptr<const Workflow>& wf) {
    RunRequest request;
    request.workflow = wf;
    return executor.start(std::move(request)).run_id;
  }

  // Polls the store, since the run may be executed by any of the executors.
  std::optional<RunStatus> finished(const std::string& run_id, milliseconds timeout = 20s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto run = store_->get_run(run_id);
      if (run && is_terminal(run->status)) return run->status;
      std::this_thread::sleep_for(20ms);
    }
    return std::nullopt;
  }

  bool eventually(const std::function<bool()>& condition, milliseconds timeout = 20s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (condition()) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  std::size_t calls_of(const std::string& run_id, const std::string& step_id) {
    std::size_t n = 0;
    for (const auto& call : probe_->calls()) {
      if (call.key.rfind(run_id + "/" + step_id, 0) == 0) ++n;
    }
    return n;
  }

  std::vector<std::unique_ptr<Executor>> processes_;
};

TEST_F(LeasedExecutorTest, RunsStartedByAnApiProcessAreExecutedOnceByTheWorkers) {
  auto wf = load(R"(
id: two-steps
steps:
  - {id: a, uses: test.probe, with: {n: 1}}
  - {id: b, uses: test.probe, needs: [a], with: {n: 2}}
)");
  ASSERT_TRUE(wf);
  Executor& api = process("api", false);
  process("worker-1");
  process("worker-2");
  std::vector<std::string> runs;
  for (int i = 0; i < 20; ++i) runs.push_back(start_on(api, wf));
  for (const auto& id : runs) {
    ASSERT_EQ(finished(id), RunStatus::succeeded) << id;
    EXPECT_EQ(calls_of(id, "a"), 1u) << id;
    EXPECT_EQ(calls_of(id, "b"), 1u) << id;
  }
}

TEST_F(LeasedExecutorTest, AStalledWorkersLateWriteIsRefusedAndTheNewOwnerFinishes) {
  auto wf = load(R"(
id: slow-then-fast
steps:
  - {id: slow, uses: test.probe, with: {sleep_ms: 1500}}
  - {id: after, uses: test.probe, needs: [slow], with: {n: 1}}
)");
  ASSERT_TRUE(wf);
  // A worker whose lease runs out while its step is still running, as a process stopped with
  // SIGSTOP would: it neither renews nor claims.
  Executor& stalled = process("stalled", true, 300ms, 1h, false);
  const std::string id = start_on(stalled, wf);
  std::this_thread::sleep_for(400ms);
  process("successor");
  ASSERT_EQ(finished(id), RunStatus::succeeded);
  // The successor ran the interrupted step again with the same idempotency key; the stalled
  // worker's completion came after and was refused, so the next step ran once.
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(calls_of(id, "slow"), 2u);
  EXPECT_EQ(calls_of(id, "after"), 1u);
  std::set<std::string> keys;
  for (const auto& call : probe_->calls()) {
    if (call.key.rfind(id + "/slow", 0) == 0) keys.insert(call.key);
  }
  EXPECT_EQ(keys.size(), 1u);
  const auto steps = steps_of(id);
  EXPECT_EQ(steps.at("slow").status, StepStatus::succeeded);
  EXPECT_EQ(steps.at("after").status, StepStatus::succeeded);
  std::size_t slow_attempts = 0;
  for (const auto& a : store_->get_attempts(id)) slow_attempts += a.step_id == "slow" ? 1 : 0;
  EXPECT_EQ(slow_attempts, 1u);
}

TEST_F(LeasedExecutorTest, AnApprovalDecidedThroughAnotherProcessContinuesTheRun) {
  auto wf = load(R"(
id: needs-a-yes
steps:
  - {id: approve, uses: core.approval, with: {message: "go?"}}
  - {id: act, uses: test.probe, needs: [approve], with: {by: "${{ steps.approve.output.by }}"}}
)");
  ASSERT_TRUE(wf);
  Executor& api = process("api", false);
  process("worker");
  const std::string id = start_on(api, wf);
  ASSERT_TRUE(eventually([&] {
    auto approval = store_->get_approval(id, "approve");
    return approval && approval->status == ApprovalStatus::pending;
  }));
  api.decide(id, "approve", true, "ann@example.com", "yes");
  ASSERT_EQ(finished(id), RunStatus::succeeded);
  EXPECT_EQ(steps_of(id).at("act").output.at("by"), "ann@example.com");
  // Decided once: a second decision is refused.
  EXPECT_THROW(api.decide(id, "approve", false, "bob@example.com", "no"), std::invalid_argument);
  EXPECT_EQ(store_->get_approval(id, "approve")->decided_by, "ann@example.com");
}

TEST_F(LeasedExecutorTest, AnApprovalThatExpiresWakesTheParkedRun) {
  auto wf = load(R"(
id: nobody-answers
steps:
  - {id: approve, uses: core.approval, with: {message: "go?", timeout: 300ms}}
  - {id: act, uses: test.probe, needs: [approve], with: {n: 1}}
)");
  ASSERT_TRUE(wf);
  Executor& api = process("api", false);
  process("worker");
  const std::string id = start_on(api, wf);
  ASSERT_EQ(finished(id), RunStatus::failed);
  EXPECT_EQ(store_->get_approval(id, "approve")->status, ApprovalStatus::expired);
  EXPECT_EQ(calls_of(id, "act"), 0u);
}

TEST_F(LeasedExecutorTest, ACancelReachesTheWorkerHoldingTheRun) {
  auto wf = load(R"(
id: forever
steps:
  - {id: hold, uses: test.probe, with: {hold: true}}
)");
  ASSERT_TRUE(wf);
  Executor& api = process("api", false);
  process("worker");
  const std::string id = start_on(api, wf);
  ASSERT_TRUE(eventually([&] { return calls_of(id, "hold") == 1; }));
  api.cancel(id, "cancelled: enough");
  ASSERT_EQ(finished(id), RunStatus::cancelled);
  EXPECT_EQ(store_->get_run(id)->error, "cancelled: enough");
  EXPECT_EQ(steps_of(id).at("hold").status, StepStatus::cancelled);
}

TEST_F(LeasedExecutorTest, AWorkerThatStopsHandsItsRunsToTheOthers) {
  auto wf = load(R"(
id: outlives-a-worker
steps:
  - {id: hold, uses: test.probe, with: {hold: true}}
)");
  ASSERT_TRUE(wf);
  Executor& api = process("api", false);
  process("first");
  const std::string id = start_on(api, wf);
  ASSERT_TRUE(eventually([&] { return calls_of(id, "hold") == 1; }));
  processes_.pop_back();  // "first" shuts down and releases its leases
  Executor& second = process("second");
  ASSERT_TRUE(eventually([&] { return calls_of(id, "hold") == 2; }))
      << "the released run was not claimed again";
  second.cancel(id, "cancelled: done");
  EXPECT_EQ(finished(id), RunStatus::cancelled);
}

}  // namespace
}  // namespace flowpilot::engine::testing
