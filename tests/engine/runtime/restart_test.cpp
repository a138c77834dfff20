// Retry from the failed steps, re-run from a chosen step, and the executor's event feed.
#include "runtime_fixture.h"

#include <set>

namespace flowpilot::engine::testing {
namespace {

namespace json = boost::json;

int calls_for(const ProbeStep& probe, const std::string& run_id, const std::string& step) {
  int n = 0;
  for (const auto& c : probe.calls()) n += c.key == run_id + "/" + step ? 1 : 0;
  return n;
}

constexpr const char* kChain = R"(
id: chain
steps:
  - {id: a, uses: test.probe, with: {value: 1}}
  - {id: b, uses: test.probe, needs: [a], with: {fail_while_flag: true, got: "${{ steps.a.output.value }}"}}
  - {id: c, uses: test.probe, needs: [b]}
  - {id: d, uses: test.probe}
)";

TEST_F(RuntimeTest, RetryKeepsSucceededStepsAndRunsTheFailedOnesAgain) {
  probe_->fail_flag = true;
  ASSERT_EQ(run_to_end(kChain), RunStatus::failed);
  const std::string first = last_run_;
  probe_->fail_flag = false;

  const StartedRun retry = executor_->restart(first, "");
  ASSERT_TRUE(retry.created);
  ASSERT_EQ(executor_->wait(retry.run_id, std::chrono::seconds(30)), RunStatus::succeeded);
  auto steps = steps_of(retry.run_id);
  EXPECT_EQ(steps["a"].status, StepStatus::succeeded);
  EXPECT_EQ(steps["b"].status, StepStatus::succeeded);
  EXPECT_EQ(steps["c"].status, StepStatus::succeeded);
  // `a` and `d` kept their recorded outputs: they did not run in the retry.
  EXPECT_EQ(calls_for(*probe_, retry.run_id, "a"), 0);
  EXPECT_EQ(calls_for(*probe_, retry.run_id, "d"), 0);
  EXPECT_EQ(calls_for(*probe_, retry.run_id, "b"), 1);
  EXPECT_EQ(steps["b"].output.at("got"), json::value(1));
  auto run = store_->get_run(retry.run_id);
  EXPECT_EQ(run->rerun_of, first);
  EXPECT_EQ(run->trigger.at("type"), json::value("retry"));
  EXPECT_EQ(run->inputs, store_->get_run(first)->inputs);
}

TEST_F(RuntimeTest, RerunFromAStepRunsItAndItsDependentsOnly) {
  ASSERT_EQ(run_to_end(kChain), RunStatus::succeeded);
  const std::string first = last_run_;
  const StartedRun again = executor_->restart(first, "b");
  ASSERT_EQ(executor_->wait(again.run_id, std::chrono::seconds(30)), RunStatus::succeeded);
  EXPECT_EQ(calls_for(*probe_, again.run_id, "a"), 0);
  EXPECT_EQ(calls_for(*probe_, again.run_id, "d"), 0);
  EXPECT_EQ(calls_for(*probe_, again.run_id, "b"), 1);
  EXPECT_EQ(calls_for(*probe_, again.run_id, "c"), 1);
  EXPECT_EQ(store_->get_run(again.run_id)->trigger.at("step"), json::value("b"));
}

TEST_F(RuntimeTest, RestartRefusesWhatItCannotDo) {
  EXPECT_THROW(executor_->restart("no-such-run", ""), std::invalid_argument);
  ASSERT_EQ(run_to_end(kChain), RunStatus::succeeded);
  EXPECT_THROW(executor_->restart(last_run_, ""), std::invalid_argument);  // nothing failed
  EXPECT_THROW(executor_->restart(last_run_, "nope"), std::invalid_argument);
  auto held = load(R"(
id: held
steps:
  - {id: wait, uses: test.probe, with: {hold: true}}
)");
  const std::string running = start(held);
  EXPECT_THROW(executor_->restart(running, ""), std::invalid_argument);
  executor_->cancel(running, "test over");
}

TEST_F(RuntimeTest, RetryOfAFailedForeachKeepsTheItemsThatSucceeded) {
  probe_->fail_flag = true;
  ASSERT_EQ(run_to_end(R"(
id: fan
steps:
  - {id: list, uses: test.probe, with: {items: [1, 2, 3]}}
  - id: each
    uses: test.probe
    needs: [list]
    foreach: ${{ steps.list.output.items }}
    with: {n: "${{ item }}"}
  - {id: after, uses: test.probe, needs: [each], with: {fail_while_flag: true}}
)"),
            RunStatus::failed);
  probe_->fail_flag = false;
  const StartedRun retry = executor_->restart(last_run_, "");
  ASSERT_EQ(executor_->wait(retry.run_id, std::chrono::seconds(30)), RunStatus::succeeded);
  EXPECT_EQ(calls_for(*probe_, retry.run_id, "list"), 0);
  EXPECT_EQ(calls_for(*probe_, retry.run_id + "/each", "0"), 0);
  EXPECT_EQ(calls_for(*probe_, retry.run_id, "after"), 1);
  EXPECT_EQ(steps_of(retry.run_id)["each"].output.as_array().size(), 3u);
}

TEST_F(RuntimeTest, EventsReportDurableRunAndStepChanges) {
  std::mutex mu;
  std::vector<RunEvent> events;
  ExecutorOptions options;
  options.on_event = [&](const RunEvent& e) {
    std::lock_guard lock(mu);
    events.push_back(e);
  };
  executor_.reset();
  executor_ = make_executor(options);
  ASSERT_EQ(run_to_end(kChain), RunStatus::succeeded);
  std::lock_guard lock(mu);
  std::set<std::string> run_statuses;
  std::set<std::string> finished_steps;
  for (const auto& e : events) {
    EXPECT_EQ(e.run_id, last_run_);
    EXPECT_EQ(e.workflow_id, "chain");
    if (e.kind == RunEvent::Kind::run) run_statuses.insert(e.status);
    if (e.kind == RunEvent::Kind::step && e.status == "succeeded") finished_steps.insert(e.step_id);
  }
  EXPECT_EQ(run_statuses, (std::set<std::string>{"queued", "running", "succeeded"}));
  EXPECT_EQ(finished_steps, (std::set<std::string>{"a", "b", "c", "d"}));
}

TEST_F(RuntimeTest, StartAsyncAnswersOnceTheRunIsDurable) {
  auto wf = load(kChain);
  std::promise<std::pair<std::exception_ptr, StartedRun>> done;
  RunRequest request;
  request.workflow = wf;
  request.idempotency_key = "async-1";
  executor_->start_async(std::move(request), [&](std::exception_ptr e, StartedRun r) {
    done.set_value({e, r});
  });
  auto [error, started] = done.get_future().get();
  ASSERT_FALSE(error);
  ASSERT_TRUE(started.created);
  EXPECT_TRUE(store_->get_run(started.run_id).has_value());
  EXPECT_EQ(executor_->wait(started.run_id, std::chrono::seconds(30)), RunStatus::succeeded);
  // The same key again: the first run's id, not a new run.
  std::promise<StartedRun> again;
  RunRequest repeat;
  repeat.workflow = wf;
  repeat.idempotency_key = "async-1";
  executor_->start_async(std::move(repeat), [&](std::exception_ptr, StartedRun r) {
    again.set_value(r);
  });
  const StartedRun second = again.get_future().get();
  EXPECT_FALSE(second.created);
  EXPECT_EQ(second.run_id, started.run_id);
}

}  // namespace
}  // namespace flowpilot::engine::testing
