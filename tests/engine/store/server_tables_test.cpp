// The tables the server adds: workflows with their revisions, cron schedule state, and the run
// columns behind filtering by trigger and time and run lineage.
#include "engine/store/retention.h"
#include "engine/store/sqlite_store.h"
#include "store_under_test.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

namespace flowpilot::engine {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

class ServerTablesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = fs::temp_directory_path() / ("flowpilot-tables-" + std::to_string(rd()));
    fs::create_directories(dir_);
    store_ = ::flowpilot::engine::testing::open_store_under_test(dir_ / "flowpilot.db");
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  void commit(WriteOp op) {
    WriteBatch batch;
    batch.ops.push_back(std::move(op));
    auto result = store_->commit(std::move(batch));
    ASSERT_FALSE(result.error);
  }
  RunRecord run(std::string id, std::string trigger, EpochMillis created) {
    RunRecord r;
    r.id = std::move(id);
    r.workflow_id = "wf";
    r.workflow_version = "v1";
    r.trigger = json::object{{"type", trigger}};
    r.created_at = created;
    return r;
  }

  fs::path dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(ServerTablesTest, WorkflowsAndRevisionsRoundTrip) {
  WorkflowRecord w{"wf", "api", "", true, "v1", 1, 10, 10};
  commit(PutWorkflow{w});
  commit(AppendRevision{{"wf", 1, "v1", "created", 10}});
  w.current_version = "v2";
  w.revision = 2;
  w.enabled = false;
  commit(PutWorkflow{w});
  commit(AppendRevision{{"wf", 2, "v2", "updated", 20}});
  auto got = store_->get_workflow("wf");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->current_version, "v2");
  EXPECT_FALSE(got->enabled);
  EXPECT_EQ(got->revision, 2);
  auto revisions = store_->list_revisions("wf");
  ASSERT_EQ(revisions.size(), 2u);
  EXPECT_EQ(revisions[0].revision, 2);  // newest first
  EXPECT_EQ(revisions[1].note, "created");
  EXPECT_EQ(store_->list_workflows().size(), 1u);

  // A revision number is used once.
  WriteBatch dup;
  dup.add(AppendRevision{{"wf", 2, "v3", "again", 30}});
  EXPECT_TRUE(store_->commit(std::move(dup)).error);

  commit(DeleteWorkflow{"wf"});
  EXPECT_FALSE(store_->get_workflow("wf"));
  EXPECT_TRUE(store_->list_revisions("wf").empty());
}

TEST_F(ServerTablesTest, ScheduleStateOnlyMovesForward) {
  EXPECT_FALSE(store_->get_schedule_fired("wf#0"));
  commit(PutScheduleFired{"wf#0", 2000});
  commit(PutScheduleFired{"wf#0", 1000});  // a late writer never moves the tick back
  EXPECT_EQ(store_->get_schedule_fired("wf#0"), 2000);
}

TEST_F(ServerTablesTest, RunsFilterByTriggerAndTimeAndKeepLineage) {
  commit(CreateRun{run("0001", "webhook", 100)});
  commit(CreateRun{run("0002", "cron", 200)});
  RunRecord retry = run("0003", "retry", 300);
  retry.rerun_of = "0001";
  commit(CreateRun{retry});
  RunFilter by_trigger;
  by_trigger.trigger_type = "cron";
  auto cron = store_->list_runs(by_trigger);
  ASSERT_EQ(cron.size(), 1u);
  EXPECT_EQ(cron[0].id, "0002");
  RunFilter by_time;
  by_time.created_from = 150;
  by_time.created_to = 300;
  auto window = store_->list_runs(by_time);
  ASSERT_EQ(window.size(), 1u);
  EXPECT_EQ(window[0].id, "0002");
  EXPECT_EQ(store_->get_run("0003")->rerun_of, "0001");
  EXPECT_EQ(store_->get_run("0001")->rerun_of, "");
}

}  // namespace
}  // namespace flowpilot::engine

namespace flowpilot::engine {
namespace {

TEST_F(ServerTablesTest, RetentionPrunesOnlyRunsThatFinishedLongAgo) {
  const EpochMillis now = now_millis();
  RunRecord old_done = run("0001", "manual", now - 100'000);
  old_done.status = RunStatus::succeeded;
  old_done.finished_at = now - 90'000;
  RunRecord recent = run("0002", "manual", now - 1'000);
  recent.status = RunStatus::failed;
  recent.finished_at = now - 500;
  RunRecord old_parked = run("0003", "manual", now - 100'000);
  old_parked.status = RunStatus::running;
  commit(CreateRun{old_done});
  commit(CreateRun{recent});
  commit(CreateRun{old_parked});
  StepRecord step;
  step.run_id = "0001";
  step.step_id = "a";
  commit(PutStep{step});
  commit(AppendLog{{"0001", "a", -1, 1, now, "info", "hello"}});

  RetentionPruner pruner(*store_, std::chrono::seconds(60));
  EXPECT_EQ(pruner.prune_once(), 1u);
  EXPECT_FALSE(store_->get_run("0001"));
  EXPECT_TRUE(store_->get_steps("0001").empty());
  EXPECT_TRUE(store_->get_logs("0001").empty());
  EXPECT_TRUE(store_->get_run("0002"));
  EXPECT_TRUE(store_->get_run("0003"));  // unfinished runs are kept whatever their age
  EXPECT_EQ(pruner.prune_once(), 0u);
}

}  // namespace
}  // namespace flowpilot::engine
