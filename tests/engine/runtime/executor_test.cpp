#include "engine/runtime/runtime_fixture.h"

#include <thread>

namespace flowpilot::engine::testing {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;

TEST_F(RuntimeTest, ChainRendersInputsAndKeepsTypes) {
  auto status = run_to_end(R"(
id: chain
inputs:
  target: {type: number, default: 40}
steps:
  - id: a
    uses: core.noop
    with: {rows: [{cpa: 10}, {cpa: 55}], label: "target=${{ inputs.target }}"}
  - id: b
    uses: core.noop
    needs: [a]
    with:
      count: "${{ #steps.a.output.rows }}"
      first: ${{ steps.a.output.rows[2].cpa > inputs.target }}
      label: ${{ steps.a.output.label }}
outputs:
  count: ${{ steps.b.output.count }}
  over: ${{ steps.b.output.first }}
  label: "${{ steps.b.output.label }}!"
)");
  ASSERT_EQ(status, RunStatus::succeeded);
  auto run = store_->get_run(last_run_);
  ASSERT_TRUE(run);
  EXPECT_EQ(run->outputs.at("count"), json::value(2));
  EXPECT_EQ(run->outputs.at("over"), json::value(true));
  EXPECT_EQ(run->outputs.at("label"), json::value("target=40!"));
  auto steps = steps_of(last_run_);
  EXPECT_EQ(steps["a"].status, StepStatus::succeeded);
  EXPECT_EQ(steps["b"].attempt, 1);
}

TEST_F(RuntimeTest, IndependentStepsRunInParallel) {
  auto status = run_to_end(R"(
id: parallel
steps:
  - {id: a, uses: test.probe, with: {sleep_ms: 300}}
  - {id: b, uses: test.probe, with: {sleep_ms: 300}}
  - {id: c, uses: test.probe, with: {sleep_ms: 300}}
  - {id: d, uses: core.noop, needs: [a, b, c]}
)");
  ASSERT_EQ(status, RunStatus::succeeded);
  EXPECT_EQ(probe_->max_running(), 3);
}

TEST_F(RuntimeTest, FalseIfSkipsTheStepAndItsDependents) {
  auto status = run_to_end(R"(
id: skipping
inputs:
  enabled: {type: boolean, default: false}
steps:
  - {id: gate, uses: core.noop, if: "${{ inputs.enabled }}"}
  - {id: after_gate, uses: core.noop, needs: [gate]}
  - {id: other, uses: core.noop, if: "not inputs.enabled"}
)");
  ASSERT_EQ(status, RunStatus::succeeded);
  auto steps = steps_of(last_run_);
  EXPECT_EQ(steps["gate"].status, StepStatus::skipped);
  EXPECT_EQ(steps["after_gate"].status, StepStatus::skipped);
  EXPECT_NE(steps["after_gate"].error.find("needs `gate`"), std::string::npos);
  EXPECT_EQ(steps["other"].status, StepStatus::succeeded);
}

TEST_F(RuntimeTest, FailureSkipsDependentsAndRunsOnFailureWithTheError) {
  auto status = run_to_end(R"(
id: failing
steps:
  - {id: boom, uses: core.fail, with: {message: "quota exceeded"}}
  - {id: next, uses: core.noop, needs: [boom]}
  - {id: unrelated, uses: core.noop}
on_failure:
  - id: alert
    uses: core.noop
    with: {text: "failed: ${{ run.error }}"}
)");
  ASSERT_EQ(status, RunStatus::failed);
  auto steps = steps_of(last_run_);
  EXPECT_EQ(steps["boom"].status, StepStatus::failed);
  EXPECT_EQ(steps["next"].status, StepStatus::skipped);
  EXPECT_EQ(steps["unrelated"].status, StepStatus::succeeded);
  ASSERT_EQ(steps["alert"].status, StepStatus::succeeded);
  EXPECT_EQ(steps["alert"].output.at("text"),
            json::value("failed: step `boom` failed: quota exceeded"));
  auto run = store_->get_run(last_run_);
  EXPECT_NE(run->error.find("quota exceeded"), std::string::npos);
}

TEST_F(RuntimeTest, RetriesUntilSuccessAndRecordsEveryAttempt) {
  auto status = run_to_end(R"(
id: retrying
steps:
  - id: flaky
    uses: core.fail
    retry: {attempts: 3, delay: 10ms, max_delay: 50ms}
    with: {failures: 2}
)");
  ASSERT_EQ(status, RunStatus::succeeded);
  auto steps = steps_of(last_run_);
  EXPECT_EQ(steps["flaky"].attempt, 3);
  EXPECT_EQ(steps["flaky"].output.at("attempts"), json::value(3));
  int failed = 0;
  int succeeded = 0;
  for (const auto& a : store_->get_attempts(last_run_)) {
    if (a.status == StepStatus::failed) ++failed;
    if (a.status == StepStatus::succeeded) ++succeeded;
  }
  EXPECT_EQ(failed, 2);
  EXPECT_EQ(succeeded, 1);
}

TEST_F(RuntimeTest, RetriesStopAtTheBudgetAndAtNonRetryableErrors) {
  auto status = run_to_end(R"(
id: exhausted
defaults:
  retry: {attempts: 3, delay: 5ms}
steps:
  - {id: always, uses: core.fail}
  - {id: fatal, uses: core.fail, with: {retryable: false}}
)");
  ASSERT_EQ(status, RunStatus::failed);
  auto steps = steps_of(last_run_);
  EXPECT_EQ(steps["always"].attempt, 3);
  EXPECT_NE(steps["always"].error.find("after 3 attempts"), std::string::npos);
  EXPECT_EQ(steps["fatal"].attempt, 1);
}

TEST_F(RuntimeTest, ForeachHonoursConcurrencyAndKeepsOrder) {
  auto status = run_to_end(R"(
id: fanout
steps:
  - id: each
    uses: test.probe
    foreach: ${{ {5, 4, 3, 2, 1, 0, 9, 8} }}
    concurrency: 3
    with: {n: "${{ item }}", i: "${{ index }}", sleep_ms: 30}
)");
  ASSERT_EQ(status, RunStatus::succeeded);
  EXPECT_LE(probe_->max_running(), 3);
  EXPECT_GE(probe_->max_running(), 2);
  auto steps = steps_of(last_run_);
  const auto& out = steps["each"].output.as_array();
  ASSERT_EQ(out.size(), 8u);
  EXPECT_EQ(out[0].at("n"), json::value(5));
  EXPECT_EQ(out[6].at("n"), json::value(9));
  EXPECT_EQ(out[6].at("i"), json::value(6));
  EXPECT_EQ(steps["each"].item_count, 8);
  std::set<std::string> keys;
  for (const auto& c : probe_->calls()) keys.insert(c.key);
  EXPECT_TRUE(keys.count(last_run_ + "/each/7"));
}

TEST_F(RuntimeTest, ForeachOfAHundredThousandItemsCompletes) {
  auto status = run_to_end(R"(
id: big-fanout
steps:
  - id: make
    uses: core.noop
  - id: each
    uses: core.noop
    needs: [make]
    foreach: "${{ (function() local t = {} for i = 1, 100000 do t[i] = i end return t end)() }}"
    concurrency: 64
    with: {n: "${{ item }}"}
outputs:
  count: "${{ #steps.each.output }}"
  last: ${{ steps.each.output[100000].n }}
)");
  ASSERT_EQ(status, RunStatus::succeeded);
  auto run = store_->get_run(last_run_);
  EXPECT_EQ(run->outputs.at("count"), json::value(100000));
  EXPECT_EQ(run->outputs.at("last"), json::value(100000));
}

TEST_F(RuntimeTest, AFailedItemFailsTheForeachStep) {
  auto status = run_to_end(R"(
id: item-fails
steps:
  - id: each
    uses: test.probe
    foreach: [0, 0, 5, 0]
    with: {fail_until: "${{ item }}", retryable: false}
)");
  ASSERT_EQ(status, RunStatus::failed);
  auto steps = steps_of(last_run_);
  EXPECT_NE(steps["each"].error.find("item 2 failed"), std::string::npos);
}

TEST_F(RuntimeTest, StepTimeoutCancelsTheAttempt) {
  auto status = run_to_end(R"(
id: step-timeout
steps:
  - {id: slow, uses: core.sleep, timeout: 100ms, with: {duration: 30s}}
)");
  ASSERT_EQ(status, RunStatus::failed);
  EXPECT_NE(steps_of(last_run_)["slow"].error.find("timed out after 100ms"), std::string::npos);
}

TEST_F(RuntimeTest, RunTimeoutEndsTheRun) {
  auto status = run_to_end(R"(
id: run-timeout
timeout: 200ms
steps:
  - {id: slow, uses: core.sleep, with: {duration: 30s}}
  - {id: after, uses: core.noop, needs: [slow]}
)");
  ASSERT_EQ(status, RunStatus::timed_out);
  auto steps = steps_of(last_run_);
  EXPECT_EQ(steps["slow"].status, StepStatus::cancelled);
  EXPECT_EQ(steps["after"].status, StepStatus::skipped);
}

TEST_F(RuntimeTest, CancelStopsARunningRun) {
  auto wf = load(R"(
id: cancellable
steps:
  - {id: slow, uses: core.sleep, with: {duration: 30s}}
)");
  const auto id = start(wf);
  std::this_thread::sleep_for(milliseconds(100));
  const auto t0 = std::chrono::steady_clock::now();
  executor_->cancel(id, "stopped by test");
  auto status = executor_->wait(id, std::chrono::seconds(10));
  ASSERT_EQ(status, RunStatus::cancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  EXPECT_EQ(store_->get_run(id)->error, "stopped by test");
}

constexpr const char* kApprovalYaml = R"(
id: approval
steps:
  - {id: propose, uses: core.noop, with: {campaigns: 3}}
  - id: approve
    uses: core.approval
    needs: [propose]
    with: {message: "Pause ${{ steps.propose.output.campaigns }} campaigns?", timeout: 1h}
  - {id: apply, uses: core.noop, needs: [approve], with: {by: "${{ steps.approve.output.by }}"}}
)";

TEST_F(RuntimeTest, ApprovalParksDurablyAndResumesInAnotherExecutor) {
  auto wf = load(kApprovalYaml);
  const auto id = start(wf);
  ASSERT_EQ(executor_->wait(id, std::chrono::seconds(10)), RunStatus::running);
  EXPECT_TRUE(executor_->is_parked(id));
  auto approval = store_->get_approval(id, "approve");
  ASSERT_TRUE(approval);
  EXPECT_EQ(approval->status, ApprovalStatus::pending);
  EXPECT_EQ(approval->message, "Pause 3 campaigns?");

  reopen();  // a new process: the run is only in the store
  executor_->decide(id, "approve", true, "maria", "ok");
  ASSERT_EQ(executor_->wait(id, std::chrono::seconds(10)), RunStatus::succeeded);
  auto steps = steps_of(id);
  EXPECT_EQ(steps["apply"].output.at("by"), json::value("maria"));
  EXPECT_EQ(steps["propose"].attempt, 1);  // not re-run by the resume
  EXPECT_EQ(store_->get_approval(id, "approve")->status, ApprovalStatus::approved);
}

TEST_F(RuntimeTest, RejectionFailsTheRun) {
  auto wf = load(kApprovalYaml);
  const auto id = start(wf);
  executor_->wait(id, std::chrono::seconds(10));
  executor_->decide(id, "approve", false, "maria", "too risky");
  ASSERT_EQ(executor_->wait(id, std::chrono::seconds(10)), RunStatus::failed);
  EXPECT_EQ(steps_of(id)["approve"].error, "rejected by maria: too risky");
  EXPECT_EQ(steps_of(id)["apply"].status, StepStatus::skipped);
  EXPECT_THROW(executor_->decide(id, "approve", true, "x", ""), std::invalid_argument);
}

TEST_F(RuntimeTest, CancellingAParkedRunClosesItsApproval) {
  auto wf = load(kApprovalYaml);
  const auto id = start(wf);
  ASSERT_EQ(executor_->wait(id, std::chrono::seconds(10)), RunStatus::running);
  reopen();  // the approval is known only from the store now
  executor_->cancel(id, "campaign ended");
  ASSERT_EQ(executor_->wait(id, std::chrono::seconds(10)), RunStatus::cancelled);
  auto approval = store_->get_approval(id, "approve");
  ASSERT_TRUE(approval);
  EXPECT_EQ(approval->status, ApprovalStatus::expired);
  EXPECT_EQ(approval->comment, "campaign ended");
  EXPECT_EQ(approval->message, "Pause 3 campaigns?");
}

TEST_F(RuntimeTest, ApprovalTimeoutFailsTheStep) {
  auto status = run_to_end(R"(
id: approval-timeout
steps:
  - {id: approve, uses: core.approval, with: {message: "?", timeout: 150ms}}
)");
  ASSERT_EQ(status, RunStatus::running);  // parked first
  ASSERT_EQ(executor_->wait(last_run_, std::chrono::seconds(10)), RunStatus::running);
  std::this_thread::sleep_for(milliseconds(400));
  ASSERT_EQ(executor_->wait(last_run_, std::chrono::seconds(10)), RunStatus::failed);
  EXPECT_EQ(store_->get_approval(last_run_, "approve")->status, ApprovalStatus::expired);
}

TEST_F(RuntimeTest, ConcurrencyLimitQueuesRuns) {
  auto wf = load(R"(
id: queued
concurrency: {limit: 1, on_limit: queue}
steps:
  - {id: work, uses: test.probe, with: {sleep_ms: 150}}
)");
  const auto a = start(wf);
  const auto b = start(wf);
  EXPECT_EQ(store_->get_run(b)->status, RunStatus::queued);
  ASSERT_EQ(executor_->wait(b, std::chrono::seconds(10)), RunStatus::succeeded);
  ASSERT_EQ(executor_->wait(a, std::chrono::seconds(10)), RunStatus::succeeded);
  EXPECT_EQ(probe_->max_running(), 1);
  EXPECT_GE(store_->get_run(b)->started_at, store_->get_run(a)->finished_at);
}

TEST_F(RuntimeTest, ConcurrencyLimitSkipsRuns) {
  auto wf = load(R"(
id: skipped
concurrency: {limit: 1, on_limit: skip}
steps:
  - {id: work, uses: test.probe, with: {sleep_ms: 200}}
)");
  const auto a = start(wf);
  const auto b = start(wf);
  ASSERT_EQ(executor_->wait(b, std::chrono::seconds(10)), RunStatus::cancelled);
  EXPECT_NE(store_->get_run(b)->error.find("skipped"), std::string::npos);
  ASSERT_EQ(executor_->wait(a, std::chrono::seconds(10)), RunStatus::succeeded);
}

TEST_F(RuntimeTest, ConcurrencyLimitCancelsTheRunningRun) {
  auto wf = load(R"(
id: replaced
concurrency: {limit: 1, on_limit: cancel_running}
steps:
  - {id: work, uses: core.sleep, with: {duration: 300ms}}
)");
  const auto a = start(wf);
  std::this_thread::sleep_for(milliseconds(50));
  const auto b = start(wf);
  ASSERT_EQ(executor_->wait(a, std::chrono::seconds(10)), RunStatus::cancelled);
  ASSERT_EQ(executor_->wait(b, std::chrono::seconds(10)), RunStatus::succeeded);
}

TEST_F(RuntimeTest, IdempotencyKeyCreatesOneRun) {
  auto wf = load("id: idem\nsteps:\n  - {id: a, uses: core.noop}\n");
  RunRequest request;
  request.workflow = wf;
  request.idempotency_key = "event-42";
  auto first = executor_->start(request);
  auto second = executor_->start(request);
  EXPECT_TRUE(first.created);
  EXPECT_FALSE(second.created);
  EXPECT_EQ(first.run_id, second.run_id);
}

TEST_F(RuntimeTest, BadInputsAreAllReported) {
  auto wf = load(R"(
id: typed
inputs:
  target: {type: number, required: true}
  mode: {type: string, default: a, enum: [a, b]}
steps:
  - {id: a, uses: core.noop}
)");
  RunRequest request;
  request.workflow = wf;
  request.inputs = {{"mode", "c"}, {"extra", 1}};
  try {
    executor_->start(request);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    ASSERT_EQ(e.problems().size(), 3u) << e.what();
    EXPECT_NE(std::string(e.what()).find("unknown input `extra`"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("input `target` is required"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("must be one of"), std::string::npos);
  }
  request.inputs = {{"target", "forty"}};
  EXPECT_THROW(executor_->start(request), InputError);
  request.inputs = {{"target", "40.5"}};  // command lines give text; the type reads it
  auto id = executor_->start(request).run_id;
  EXPECT_EQ(store_->get_run(id)->inputs.at("target"), json::value(40.5));
}

TEST_F(RuntimeTest, SecretsResolveButAreNeverRecorded) {
  auto status = run_to_end(R"(
id: secretive
steps:
  - id: call
    uses: core.noop
    with: {auth: "Bearer ${{ secrets.API_TOKEN }}"}
  - id: log
    uses: core.log
    needs: [call]
    with: {message: "sent ${{ steps.call.output.auth }}"}
outputs:
  echoed: ${{ steps.call.output.auth }}
)");
  ASSERT_EQ(status, RunStatus::succeeded);
  const std::string secret = "tok-very-secret-123";
  for (const auto& a : store_->get_attempts(last_run_)) {
    EXPECT_EQ(json::serialize(a.input).find(secret), std::string::npos);
    EXPECT_EQ(json::serialize(a.output).find(secret), std::string::npos);
    // A finished attempt keeps the input it started with, masked.
    if (a.step_id == "call") {
      EXPECT_EQ(a.input, json::parse(R"({"auth": "Bearer ***"})"));
    }
  }
  for (const auto& s : store_->get_steps(last_run_)) {
    EXPECT_EQ(json::serialize(s.output).find(secret), std::string::npos);
  }
  store_->flush();
  auto logs = store_->get_logs(last_run_);
  ASSERT_FALSE(logs.empty());
  EXPECT_EQ(logs.front().message, "sent Bearer ***");
  EXPECT_EQ(store_->get_run(last_run_)->outputs.at("echoed"), json::value("Bearer ***"));
}

TEST_F(RuntimeTest, ExpressionErrorsNameStepFieldAndExpression) {
  auto status = run_to_end(R"(
id: bad-expression
steps:
  - id: a
    uses: core.noop
    with: {campaign: "${{ steps.missing.output.id }}"}
)");
  ASSERT_EQ(status, RunStatus::failed);
  const auto error = steps_of(last_run_)["a"].error;
  EXPECT_NE(error.find("step `a`"), std::string::npos) << error;
  EXPECT_NE(error.find("with.campaign"), std::string::npos) << error;
  EXPECT_NE(error.find("steps.missing.output.id"), std::string::npos) << error;
}

TEST_F(RuntimeTest, RenderedInputsAreCheckedAgainstTheStepSchema) {
  auto status = run_to_end(R"(
id: schema-at-run-time
inputs:
  failures: {type: string, default: "two"}
steps:
  - {id: a, uses: core.fail, with: {failures: "${{ inputs.failures }}"}}
)");
  ASSERT_EQ(status, RunStatus::failed);
  const auto step = steps_of(last_run_)["a"];
  EXPECT_NE(step.error.find("with.failures"), std::string::npos) << step.error;
  EXPECT_EQ(step.attempt, 1);  // a schema mismatch is not retried
}

TEST_F(RuntimeTest, InterruptedStepRerunsWithTheSameKeyAndFinishedStepsDoNot) {
  auto wf = load(R"(
id: interrupted
steps:
  - {id: first, uses: test.probe, with: {n: 1}}
  - {id: held, uses: test.probe, needs: [first], with: {hold: true}}
)");
  const auto id = start(wf);
  for (int i = 0; i < 200 && probe_->calls().size() < 2; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_EQ(probe_->calls().size(), 2u);
  // Make the definition resumable with a step that now completes: same id, same version.
  reopen();
  ASSERT_TRUE(executor_->resume(id));
  for (int i = 0; i < 200 && probe_->calls().size() < 3; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  auto calls = probe_->calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[2].key, id + "/held");
  EXPECT_EQ(calls[2].attempt, calls[1].attempt);  // the same attempt, run again
  executor_->cancel(id, "done");
  executor_->wait(id, std::chrono::seconds(10));
}

TEST(RetryDelay, FullJitterStaysWithinTheExponentialCeiling) {
  RetryPolicy policy;
  policy.delay = milliseconds(100);
  policy.max_delay = milliseconds(1000);
  for (int attempt = 1; attempt <= 8; ++attempt) {
    const std::int64_t ceiling = std::min<std::int64_t>(1000, 100LL << (attempt - 1));
    std::int64_t max_seen = 0;
    for (int i = 0; i < 500; ++i) {
      const auto d = retry_delay(policy, attempt, std::nullopt).count();
      ASSERT_GE(d, 0);
      ASSERT_LE(d, ceiling);
      max_seen = std::max(max_seen, d);
    }
    EXPECT_GT(max_seen, ceiling / 2) << "jitter should cover the window";
  }
  EXPECT_GE(retry_delay(policy, 1, milliseconds(5000)).count(), 5000);
  policy.backoff = Backoff::fixed;
  EXPECT_EQ(retry_delay(policy, 5, std::nullopt).count(), 100);
}

}  // namespace
}  // namespace flowpilot::engine::testing
