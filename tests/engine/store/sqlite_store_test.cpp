#include "engine/store/sqlite_store.h"
#include "store_under_test.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace flowpilot::engine {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using testing::open_store_under_test;
using testing::testing_on_postgres;

// ---- helpers ---------------------------------------------------------------------------------

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() /
            ("flowpilot-store-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Counts write transactions committed by every SQLite connection opened while it exists, and
// remembers those connections: the first one a store opens is its writer. SQLite calls a commit
// hook only for write transactions.
std::atomic<long> g_commits{0};
std::mutex g_connections_mu;
std::vector<sqlite3*> g_connections;

int count_commit(void*) {
  g_commits.fetch_add(1, std::memory_order_relaxed);
  return 0;
}

int install_commit_hook(sqlite3* db, const char**, const sqlite3_api_routines*) {
  sqlite3_commit_hook(db, count_commit, nullptr);
  std::lock_guard lock(g_connections_mu);
  g_connections.push_back(db);
  return SQLITE_OK;
}

class CommitCounter {
 public:
  CommitCounter() {
    {
      std::lock_guard lock(g_connections_mu);
      g_connections.clear();
    }
    sqlite3_auto_extension(entry());
  }
  ~CommitCounter() { sqlite3_cancel_auto_extension(entry()); }
  CommitCounter(const CommitCounter&) = delete;
  CommitCounter& operator=(const CommitCounter&) = delete;
  long now() const { return g_commits.load(); }
  // Only safe to use while the writer thread is parked (see WriterGate).
  sqlite3* first_connection() const {
    std::lock_guard lock(g_connections_mu);
    return g_connections.empty() ? nullptr : g_connections.front();
  }

 private:
  // SQLite's API types every extension entry point as void(*)(void).
  static void (*entry())(void) { return reinterpret_cast<void (*)(void)>(install_commit_hook); }
};

// Parks the writer thread in a callback so that everything submitted meanwhile forms one group.
class WriterGate {
 public:
  explicit WriterGate(Store& store) {
    auto release = release_.get_future().share();
    store.submit(WriteBatch{}, [this, release](CommitResult) {
      entered_.set_value();
      release.wait();
    });
    entered_.get_future().wait();
  }
  ~WriterGate() { open(); }
  WriterGate(const WriterGate&) = delete;
  WriterGate& operator=(const WriterGate&) = delete;
  void open() {
    if (!opened_) release_.set_value();
    opened_ = true;
  }

 private:
  std::promise<void> entered_;
  std::promise<void> release_;
  bool opened_ = false;
};

RunRecord make_run(const std::string& id, const std::string& workflow = "wf",
                   RunStatus status = RunStatus::queued, const std::string& key = "") {
  RunRecord r;
  r.id = id;
  r.workflow_id = workflow;
  r.workflow_version = "v1";
  r.status = status;
  r.inputs = json::object{{"n", 1}};
  r.idempotency_key = key;
  r.created_at = 1000;
  return r;
}

StepRecord make_step(const std::string& run_id, const std::string& step_id, int index = -1) {
  StepRecord s;
  s.run_id = run_id;
  s.step_id = step_id;
  s.index = index;
  s.status = StepStatus::succeeded;
  s.attempt = 1;
  s.output = json::object{{"ok", true}};
  s.started_at = 10;
  s.finished_at = 11;
  return s;
}

AttemptRecord make_attempt(const std::string& run_id, const std::string& step_id, int index = -1,
                           int attempt = 1) {
  AttemptRecord a;
  a.run_id = run_id;
  a.step_id = step_id;
  a.index = index;
  a.attempt = attempt;
  a.status = StepStatus::succeeded;
  a.input = json::object{{"x", 1}};
  a.output = json::object{{"ok", true}};
  a.started_at = 10;
  a.finished_at = 11;
  return a;
}

template <class... Ops>
WriteBatch batch_of(Ops... ops) {
  WriteBatch b;
  (b.add(std::move(ops)), ...);
  return b;
}

std::string error_text(const CommitResult& r) {
  if (!r.error) return {};
  try {
    std::rethrow_exception(r.error);
  } catch (const std::exception& e) {
    return e.what();
  }
}

void expect_ok(const CommitResult& r) { EXPECT_FALSE(r.error) << error_text(r); }

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

void exec_raw(const fs::path& path, const char* sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  const std::string msg = err != nullptr ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << msg;
}

long long query_int(const fs::path& path, const char* sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  long long v = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    v = sqlite3_column_int64(stmt, 0);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return v;
}

// The suite is the Store contract: it also runs against PostgreSQL (ctest's pg. copy), except for
// the tests of SQLite's own file handling.
#define SQLITE_ONLY() \
  if (testing_on_postgres()) GTEST_SKIP() << "SQLite's file handling"

class SqliteStoreTest : public ::testing::Test {
 protected:
  fs::path db_path() const { return dir_.path() / "flowpilot.db"; }
  std::unique_ptr<Store> open(Durability durability = Durability::full,
                              std::size_t max_ops = 20'000) {
    SqliteStoreOptions options;
    options.path = db_path();
    options.durability = durability;
    options.max_ops_per_commit = max_ops;
    // PostgreSQL has no commit hook to count with: the store's own per-group report counts there.
    if (testing_on_postgres()) {
      options.on_commit = [](std::chrono::duration<double>, std::size_t) {
        g_commits.fetch_add(1, std::memory_order_relaxed);
      };
    }
    return open_store_under_test(options);
  }

  TempDir dir_;
};

// ---- round trips -----------------------------------------------------------------------------

TEST_F(SqliteStoreTest, WorkflowVersionRoundTripAndInsertIfAbsent) {
  auto store = open();
  WorkflowVersionRecord w{"wf", "abc123", "yaml", "workflows/wf.yaml", "name: wf\nsteps: []\n", 42};
  expect_ok(store->commit(batch_of(PutWorkflowVersion{w})));

  auto got = store->get_workflow_version("wf", "abc123");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->workflow_id, "wf");
  EXPECT_EQ(got->version, "abc123");
  EXPECT_EQ(got->format, "yaml");
  EXPECT_EQ(got->source_file, "workflows/wf.yaml");
  EXPECT_EQ(got->source_text, "name: wf\nsteps: []\n");
  EXPECT_EQ(got->created_at, 42);

  WorkflowVersionRecord other = w;
  other.source_text = "changed";
  expect_ok(store->commit(batch_of(PutWorkflowVersion{other})));
  EXPECT_EQ(store->get_workflow_version("wf", "abc123")->source_text, "name: wf\nsteps: []\n");
  EXPECT_FALSE(store->get_workflow_version("wf", "nope"));
  EXPECT_FALSE(store->get_workflow_version("other", "abc123"));
}

TEST_F(SqliteStoreTest, RunRoundTripKeepsEveryField) {
  auto store = open();
  RunRecord r;
  r.id = new_run_id();
  r.workflow_id = "ads-report";
  r.workflow_version = "deadbeef";
  r.status = RunStatus::timed_out;
  r.inputs = json::parse(R"({"accounts":["a","b"],"target":1.5,"deep":{"x":null,"u":"é✓"}})");
  r.trigger = json::parse(R"({"type":"webhook","body":{"k":[1,2,3]},"headers":{},"query":{}})");
  r.outputs = json::parse(R"([1,"two",false])");
  r.error = "step 'fetch' timed out after 30s";
  r.idempotency_key = "delivery-17";
  r.dry_run = true;
  r.created_at = 1'700'000'000'000;
  r.started_at = 1'700'000'000'001;
  r.finished_at = 1'700'000'030'001;
  expect_ok(store->commit(batch_of(CreateRun{r})));

  auto got = store->get_run(r.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->id, r.id);
  EXPECT_EQ(got->workflow_id, r.workflow_id);
  EXPECT_EQ(got->workflow_version, r.workflow_version);
  EXPECT_EQ(got->status, r.status);
  EXPECT_EQ(got->inputs, r.inputs);
  EXPECT_EQ(got->trigger, r.trigger);
  EXPECT_EQ(got->outputs, r.outputs);
  EXPECT_EQ(got->error, r.error);
  EXPECT_EQ(got->idempotency_key, r.idempotency_key);
  EXPECT_EQ(got->dry_run, true);
  EXPECT_EQ(got->created_at, r.created_at);
  EXPECT_EQ(got->started_at, r.started_at);
  EXPECT_EQ(got->finished_at, r.finished_at);

  auto by_key = store->find_run_by_idempotency_key("delivery-17");
  ASSERT_TRUE(by_key);
  EXPECT_EQ(by_key->id, r.id);
  EXPECT_FALSE(store->find_run_by_idempotency_key("delivery-18"));
  EXPECT_FALSE(store->find_run_by_idempotency_key(""));
  EXPECT_FALSE(store->get_run("missing"));
}

TEST_F(SqliteStoreTest, JsonNullAndJsonTextStayDistinct) {
  auto store = open();
  RunRecord r = make_run("r1");
  r.inputs = nullptr;                // JSON null
  r.trigger = json::string("null");  // a string that happens to read "null"
  r.outputs = json::object();        // empty object, not null
  expect_ok(store->commit(batch_of(CreateRun{r})));
  auto got = store->get_run("r1");
  ASSERT_TRUE(got);
  EXPECT_TRUE(got->inputs.is_null());
  ASSERT_TRUE(got->trigger.is_string());
  EXPECT_EQ(got->trigger.as_string(), "null");
  ASSERT_TRUE(got->outputs.is_object());
  EXPECT_TRUE(got->outputs.as_object().empty());

  StepRecord s = make_step("r1", "a");
  s.output = nullptr;
  expect_ok(store->commit(batch_of(PutStep{s})));
  EXPECT_TRUE(store->get_steps("r1").at(0).output.is_null());
}

TEST_F(SqliteStoreTest, PutRunReplacesTheWholeRun) {
  auto store = open();
  expect_ok(store->commit(batch_of(CreateRun{make_run("r1", "wf", RunStatus::queued, "k1")})));
  RunRecord updated = make_run("r1", "wf", RunStatus::succeeded, "k1");
  updated.outputs = json::object{{"rows", 3}};
  updated.started_at = 5;
  updated.finished_at = 9;
  updated.error = "";
  expect_ok(store->commit(batch_of(PutRun{updated})));
  auto got = store->get_run("r1");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, RunStatus::succeeded);
  EXPECT_EQ(got->outputs, updated.outputs);
  EXPECT_EQ(got->started_at, 5);
  EXPECT_EQ(got->finished_at, 9);
  EXPECT_EQ(store->find_run_by_idempotency_key("k1")->id, "r1");
}

TEST_F(SqliteStoreTest, StepsRoundTripOrderedByStepThenIndex) {
  auto store = open();
  StepRecord fan = make_step("r1", "b");
  fan.status = StepStatus::running;
  fan.item_count = 12;
  fan.output = nullptr;
  fan.wake_at = 77;
  fan.error = "partial";
  WriteBatch b;
  for (int idx : {10, 2, 0, 1}) b.add(PutStep{make_step("r1", "b", idx)});
  b.add(PutStep{fan});
  b.add(PutStep{make_step("r1", "a")});
  b.add(PutStep{make_step("r2", "a")});
  expect_ok(store->commit(std::move(b)));

  const auto steps = store->get_steps("r1");
  ASSERT_EQ(steps.size(), 6u);
  std::vector<std::pair<std::string, int>> order;
  for (const auto& s : steps) order.emplace_back(s.step_id, s.index);
  const std::vector<std::pair<std::string, int>> expected = {{"a", -1}, {"b", -1}, {"b", 0},
                                                             {"b", 1},  {"b", 2},  {"b", 10}};
  EXPECT_EQ(order, expected);
  const StepRecord& got = steps[1];
  EXPECT_EQ(got.run_id, "r1");
  EXPECT_EQ(got.status, StepStatus::running);
  EXPECT_EQ(got.attempt, 1);
  EXPECT_TRUE(got.output.is_null());
  EXPECT_EQ(got.error, "partial");
  EXPECT_EQ(got.item_count, 12);
  EXPECT_EQ(got.started_at, 10);
  EXPECT_EQ(got.finished_at, 11);
  EXPECT_EQ(got.wake_at, 77);

  // Put replaces by key.
  StepRecord again = make_step("r1", "a");
  again.status = StepStatus::failed;
  again.attempt = 3;
  expect_ok(store->commit(batch_of(PutStep{again})));
  const auto after = store->get_steps("r1");
  ASSERT_EQ(after.size(), 6u);
  EXPECT_EQ(after[0].status, StepStatus::failed);
  EXPECT_EQ(after[0].attempt, 3);
  EXPECT_TRUE(store->get_steps("nope").empty());
}

TEST_F(SqliteStoreTest, AttemptsRoundTrip) {
  auto store = open();
  AttemptRecord failed = make_attempt("r1", "fetch", -1, 1);
  failed.status = StepStatus::failed;
  failed.output = nullptr;
  failed.error = "HTTP 503";
  AttemptRecord ok = make_attempt("r1", "fetch", -1, 2);
  ok.input = json::parse(R"({"url":"https://example.invalid","token":"***"})");
  expect_ok(store->commit(
      batch_of(PutAttempt{ok}, PutAttempt{failed}, PutAttempt{make_attempt("r1", "each", 3, 1)})));
  const auto attempts = store->get_attempts("r1");
  ASSERT_EQ(attempts.size(), 3u);
  EXPECT_EQ(attempts[0].step_id, "each");
  EXPECT_EQ(attempts[0].index, 3);
  EXPECT_EQ(attempts[1].attempt, 1);
  EXPECT_EQ(attempts[1].status, StepStatus::failed);
  EXPECT_TRUE(attempts[1].output.is_null());
  EXPECT_EQ(attempts[1].error, "HTTP 503");
  EXPECT_EQ(attempts[2].attempt, 2);
  EXPECT_EQ(attempts[2].input, ok.input);
  EXPECT_EQ(attempts[2].output, ok.output);
  EXPECT_EQ(attempts[2].started_at, 10);
  EXPECT_EQ(attempts[2].finished_at, 11);
}

TEST_F(SqliteStoreTest, AFinishedAttemptWithoutAnInputKeepsTheOneItStartedWith) {
  auto store = open();
  AttemptRecord started = make_attempt("r1", "load");
  started.status = StepStatus::running;
  started.output = nullptr;
  started.finished_at = 0;
  expect_ok(store->commit(batch_of(PutAttempt{started})));
  AttemptRecord finished = make_attempt("r1", "load");
  finished.input = nullptr;
  expect_ok(store->commit(batch_of(PutAttempt{finished})));
  const auto attempts = store->get_attempts("r1");
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].status, StepStatus::succeeded);
  EXPECT_EQ(attempts[0].input, started.input);
  EXPECT_EQ(attempts[0].output, finished.output);
}

TEST_F(SqliteStoreTest, ASucceededAttemptWithoutAnOutputSharesItsStepsOutput) {
  auto store = open();
  StepRecord step = make_step("r1", "read");
  step.attempt = 2;
  step.output = json::object{{"rows", json::array{1, 2, 3}}};
  AttemptRecord failed = make_attempt("r1", "read", -1, 1);
  failed.status = StepStatus::failed;
  failed.output = nullptr;
  failed.error = "HTTP 503";
  AttemptRecord ok = make_attempt("r1", "read", -1, 2);
  ok.output = nullptr;
  AttemptRecord own = make_attempt("r1", "other");  // written with its output: kept as it is
  expect_ok(store->commit(batch_of(PutStep{step}, PutAttempt{failed}, PutAttempt{ok}, PutAttempt{own})));
  const auto attempts = store->get_attempts("r1");
  ASSERT_EQ(attempts.size(), 3u);
  EXPECT_EQ(attempts[0].step_id, "other");
  EXPECT_EQ(attempts[0].output, own.output);
  EXPECT_TRUE(attempts[1].output.is_null());
  EXPECT_EQ(attempts[1].error, "HTTP 503");
  EXPECT_EQ(attempts[2].output, step.output);
}

TEST_F(SqliteStoreTest, LogsKeepInsertionOrderPerRun) {
  auto store = open();
  WriteBatch b;
  for (int i = 0; i < 5; ++i) {
    LogRecord l;
    l.run_id = i == 2 ? "other" : "r1";
    l.step_id = i == 0 ? "" : "s";
    l.index = i - 1;
    l.attempt = i;
    l.at = 100 - i;  // time goes backwards: order must still be by insertion
    l.level = i == 4 ? "error" : "info";
    l.message = "message " + std::to_string(i);
    b.add(AppendLog{l});
  }
  expect_ok(store->commit(std::move(b)));
  LogRecord last;
  last.run_id = "r1";
  last.level = "warn";
  last.message = "later";
  expect_ok(store->commit(batch_of(AppendLog{last})));

  const auto logs = store->get_logs("r1");
  ASSERT_EQ(logs.size(), 5u);
  EXPECT_EQ(logs[0].message, "message 0");
  EXPECT_EQ(logs[0].step_id, "");
  EXPECT_EQ(logs[1].message, "message 1");
  EXPECT_EQ(logs[2].message, "message 3");
  EXPECT_EQ(logs[3].message, "message 4");
  EXPECT_EQ(logs[3].level, "error");
  EXPECT_EQ(logs[3].index, 3);
  EXPECT_EQ(logs[3].attempt, 4);
  EXPECT_EQ(logs[3].at, 96);
  EXPECT_EQ(logs[4].message, "later");
  ASSERT_EQ(store->get_logs("other").size(), 1u);
}

TEST_F(SqliteStoreTest, ApprovalsRoundTripAndFilter) {
  auto store = open();
  ApprovalRecord a{"r1", "approve", ApprovalStatus::pending, "Pause campaign X?", "", "", 5,
                   0,    900};
  ApprovalRecord b{
      "r2", "approve", ApprovalStatus::approved, "Apply plan?", "looks fine", "ana@example.com", 3,
      7,    0};
  ApprovalRecord c{"r3", "gate", ApprovalStatus::pending, "m", "", "", 1, 0, 0};
  expect_ok(store->commit(batch_of(PutApproval{a}, PutApproval{b}, PutApproval{c})));

  auto got = store->get_approval("r2", "approve");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, ApprovalStatus::approved);
  EXPECT_EQ(got->message, "Apply plan?");
  EXPECT_EQ(got->comment, "looks fine");
  EXPECT_EQ(got->decided_by, "ana@example.com");
  EXPECT_EQ(got->created_at, 3);
  EXPECT_EQ(got->decided_at, 7);
  EXPECT_EQ(got->expires_at, 0);
  EXPECT_EQ(store->get_approval("r1", "approve")->expires_at, 900);
  EXPECT_FALSE(store->get_approval("r1", "gate"));

  const auto pending = store->list_approvals(ApprovalStatus::pending);
  ASSERT_EQ(pending.size(), 2u);
  EXPECT_EQ(pending[0].run_id, "r3");  // oldest first
  EXPECT_EQ(pending[1].run_id, "r1");
  EXPECT_EQ(store->list_approvals(std::nullopt).size(), 3u);
  EXPECT_TRUE(store->list_approvals(ApprovalStatus::expired).empty());

  a.status = ApprovalStatus::rejected;
  a.decided_by = "bo";
  expect_ok(store->commit(batch_of(PutApproval{a})));
  EXPECT_EQ(store->get_approval("r1", "approve")->status, ApprovalStatus::rejected);
  EXPECT_EQ(store->list_approvals(ApprovalStatus::pending).size(), 1u);
}

// ---- listing ---------------------------------------------------------------------------------

TEST_F(SqliteStoreTest, ListRunsPaginatesNewestFirstWithFilters) {
  auto store = open();
  const RunStatus statuses[] = {RunStatus::queued, RunStatus::running, RunStatus::succeeded,
                                RunStatus::failed};
  std::vector<RunRecord> runs;
  WriteBatch b;
  for (int i = 0; i < 30; ++i) {
    RunRecord r = make_run(new_run_id(), i % 3 == 0 ? "alpha" : "beta", statuses[i % 4]);
    runs.push_back(r);
    b.add(CreateRun{r});
  }
  expect_ok(store->commit(std::move(b)));
  std::vector<std::string> all_desc;
  for (const auto& r : runs) all_desc.push_back(r.id);
  std::sort(all_desc.rbegin(), all_desc.rend());

  auto ids_of = [](const std::vector<RunRecord>& rs) {
    std::vector<std::string> ids;
    for (const auto& r : rs) ids.push_back(r.id);
    return ids;
  };

  RunFilter f;
  EXPECT_EQ(ids_of(store->list_runs(f)), all_desc);

  // Page through with the cursor.
  std::vector<std::string> paged;
  f.limit = 7;
  for (int page = 0; page < 10; ++page) {
    auto got = store->list_runs(f);
    EXPECT_LE(got.size(), 7u);
    if (got.empty()) break;
    for (const auto& r : got) paged.push_back(r.id);
    f.before_id = got.back().id;
  }
  EXPECT_EQ(paged, all_desc);

  auto expected_for = [&](const std::string& wf, std::optional<RunStatus> st) {
    std::vector<std::string> ids;
    for (const auto& r : runs) {
      if ((wf.empty() || r.workflow_id == wf) && (!st || r.status == *st)) ids.push_back(r.id);
    }
    std::sort(ids.rbegin(), ids.rend());
    return ids;
  };
  RunFilter by_wf;
  by_wf.workflow_id = "alpha";
  EXPECT_EQ(ids_of(store->list_runs(by_wf)), expected_for("alpha", std::nullopt));
  RunFilter by_status;
  by_status.status = RunStatus::failed;
  EXPECT_EQ(ids_of(store->list_runs(by_status)), expected_for("", RunStatus::failed));
  RunFilter both;
  both.workflow_id = "beta";
  both.status = RunStatus::running;
  const auto beta_running = expected_for("beta", RunStatus::running);
  ASSERT_FALSE(beta_running.empty());
  EXPECT_EQ(ids_of(store->list_runs(both)), beta_running);
  both.before_id = beta_running.front();
  EXPECT_EQ(ids_of(store->list_runs(both)),
            std::vector<std::string>(beta_running.begin() + 1, beta_running.end()));
  RunFilter none;
  none.workflow_id = "gamma";
  EXPECT_TRUE(store->list_runs(none).empty());
  RunFilter two;
  two.limit = 2;
  EXPECT_EQ(ids_of(store->list_runs(two)),
            std::vector<std::string>(all_desc.begin(), all_desc.begin() + 2));
}

TEST_F(SqliteStoreTest, UnfinishedRunIdsAreQueuedOrRunningOldestFirst) {
  auto store = open();
  std::vector<std::string> expected;
  WriteBatch b;
  const RunStatus statuses[] = {RunStatus::running,   RunStatus::succeeded, RunStatus::queued,
                                RunStatus::cancelled, RunStatus::timed_out, RunStatus::failed};
  for (int i = 0; i < 12; ++i) {
    const RunStatus st = statuses[i % 6];
    RunRecord r = make_run(new_run_id(), "wf", st);
    if (st == RunStatus::queued || st == RunStatus::running) expected.push_back(r.id);
    b.add(CreateRun{r});
  }
  expect_ok(store->commit(std::move(b)));
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(store->unfinished_run_ids(), expected);
}

// ---- run leases ------------------------------------------------------------------------------

std::vector<RunLease> claim(Store& store, const std::string& owner, int limit, EpochMillis now,
                            EpochMillis ttl = 100) {
  CommitResult r = store.commit(batch_of(ClaimRuns{owner, limit, now, ttl}));
  EXPECT_FALSE(r.error) << error_text(r);
  return r.claimed;
}

std::vector<std::string> ids_of(const std::vector<RunLease>& leases) {
  std::vector<std::string> ids;
  for (const auto& l : leases) ids.push_back(l.run_id);
  return ids;
}

TEST_F(SqliteStoreTest, ClaimsHandOutEachUnfinishedRunOnceOldestFirst) {
  auto store = open();
  expect_ok(store->commit(batch_of(CreateRun{make_run("r1", "wf", RunStatus::running)},
                                   CreateRun{make_run("r2", "wf", RunStatus::succeeded)},
                                   CreateRun{make_run("r3", "wf", RunStatus::queued)},
                                   CreateRun{make_run("r4", "wf", RunStatus::queued)})));
  const auto a = claim(*store, "worker-a", 2, 1000);
  EXPECT_EQ(ids_of(a), (std::vector<std::string>{"r1", "r3"}));
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].epoch, 1);
  EXPECT_EQ(a[0].expires_at, 1100);
  EXPECT_EQ(ids_of(claim(*store, "worker-b", 5, 1000)), (std::vector<std::string>{"r4"}));
  EXPECT_TRUE(claim(*store, "worker-c", 5, 1000).empty()) << "finished runs and held leases are not claimed";
}

TEST_F(SqliteStoreTest, AnExpiredLeaseGoesToTheNextClaimAndFencesTheOldOwner) {
  auto store = open();
  expect_ok(store->commit(batch_of(CreateRun{make_run("r1", "wf", RunStatus::running)})));
  const RunLease a = claim(*store, "worker-a", 1, 1000).at(0);
  // While held, the owner's fenced writes apply and its renewals extend the lease.
  WriteBatch held = batch_of(PutStep{make_step("r1", "first")});
  held.fence = LeaseFence{"r1", "worker-a", a.epoch};
  expect_ok(store->commit(std::move(held)));
  CommitResult renewed = store->commit(batch_of(RenewLeases{"worker-a", {a}, 1080, 100}));
  expect_ok(renewed);
  EXPECT_TRUE(renewed.lost_leases.empty());
  EXPECT_TRUE(claim(*store, "worker-b", 1, 1150).empty()) << "renewed until 1180";
  // worker-a stalls past its lease; worker-b takes the run over.
  const auto b = claim(*store, "worker-b", 1, 1200);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].epoch, a.epoch + 1);
  // worker-a wakes up: its late write is refused whole, and its renewal says the lease is gone.
  WriteBatch late = batch_of(PutStep{make_step("r1", "late")}, AppendLog{LogRecord{"r1", "late", -1, 1, 5, "info", "x"}});
  late.fence = LeaseFence{"r1", "worker-a", a.epoch};
  CommitResult refused = store->commit(std::move(late));
  ASSERT_TRUE(refused.error);
  EXPECT_NE(error_text(refused).find("no longer held"), std::string::npos) << error_text(refused);
  try {
    std::rethrow_exception(refused.error);
  } catch (const LeaseLost&) {
  } catch (...) {
    ADD_FAILURE() << "not LeaseLost: " << error_text(refused);
  }
  EXPECT_EQ(store->get_steps("r1").size(), 1u);
  EXPECT_TRUE(store->get_logs("r1").empty());
  CommitResult lost = store->commit(batch_of(RenewLeases{"worker-a", {a}, 1210, 100}));
  EXPECT_EQ(lost.lost_leases, (std::vector<std::string>{"r1"}));
  // The new owner's fenced writes apply.
  WriteBatch now_b = batch_of(PutStep{make_step("r1", "second")});
  now_b.fence = LeaseFence{"r1", "worker-b", b[0].epoch};
  expect_ok(store->commit(std::move(now_b)));
}

TEST_F(SqliteStoreTest, AReleasedRunIsClaimableAgainWhenItSays) {
  auto store = open();
  expect_ok(store->commit(batch_of(CreateRun{make_run("waits", "wf", RunStatus::running)},
                                   CreateRun{make_run("retries", "wf", RunStatus::running)})));
  const auto held = claim(*store, "worker-a", 2, 1000);
  ASSERT_EQ(held.size(), 2u);
  // One waits for a person; the other for a retry due at 5000.
  expect_ok(store->commit(batch_of(ReleaseLease{"waits", "worker-a", held[1].epoch, kNeverClaimable},
                                   ReleaseLease{"retries", "worker-a", held[0].epoch, 5000})));
  EXPECT_TRUE(claim(*store, "worker-b", 5, 4999).empty());
  EXPECT_EQ(ids_of(claim(*store, "worker-b", 5, 5000, 10'000'000)), (std::vector<std::string>{"retries"}));
  EXPECT_TRUE(claim(*store, "worker-b", 5, 1'000'000).empty()) << "waits for a decision";
  // A decision makes it claimable at once, however often it is made.
  expect_ok(store->commit(batch_of(MakeClaimable{"waits"}, MakeClaimable{"waits"})));
  EXPECT_EQ(ids_of(claim(*store, "worker-c", 5, 1'000'000)), (std::vector<std::string>{"waits"}));
}

// The exception type of a failed batch, as the caller's catch would see it.
template <class Error>
bool failed_with(const CommitResult& r) {
  if (!r.error) return false;
  try {
    std::rethrow_exception(r.error);
  } catch (const Error&) {
    return true;
  } catch (...) {
    return false;
  }
}

TEST_F(SqliteStoreTest, ARunCreatedLeasedIsItsCreatorsUntilTheLeaseExpires) {
  auto store = open();
  const CommitResult created =
      store->commit(batch_of(CreateRun{make_run("r1", "wf", RunStatus::queued), "worker-a", 2000}));
  expect_ok(created);
  ASSERT_EQ(created.created_runs.size(), 1u);
  EXPECT_TRUE(created.created_runs[0].created);
  EXPECT_TRUE(claim(*store, "worker-b", 5, 1999).empty()) << "held by its creator";
  // The creator holds it with epoch 1: its fenced writes apply and it renews like any claim.
  WriteBatch write = batch_of(PutStep{make_step("r1", "first")});
  write.fence = LeaseFence{"r1", "worker-a", 1};
  expect_ok(store->commit(std::move(write)));
  const CommitResult renewed =
      store->commit(batch_of(RenewLeases{"worker-a", {{"r1", 1, 2000}}, 1990, 100}));
  expect_ok(renewed);
  EXPECT_TRUE(renewed.lost_leases.empty());
  EXPECT_TRUE(claim(*store, "worker-b", 5, 2050).empty()) << "renewed until 2090";
  const auto taken = claim(*store, "worker-b", 5, 2090);
  ASSERT_EQ(ids_of(taken), (std::vector<std::string>{"r1"}));
  EXPECT_EQ(taken[0].epoch, 2);
  WriteBatch late = batch_of(PutStep{make_step("r1", "late")});
  late.fence = LeaseFence{"r1", "worker-a", 1};
  EXPECT_TRUE(failed_with<LeaseLost>(store->commit(std::move(late))));
  EXPECT_EQ(store->get_steps("r1").size(), 1u);
}

TEST_F(SqliteStoreTest, ARunCreatedLeasedUnderATakenKeyLeavesTheOwnerOfTheKeyAlone) {
  auto store = open();
  expect_ok(store->commit(batch_of(CreateRun{make_run("first", "wf", RunStatus::queued, "k")})));
  const CommitResult again = store->commit(
      batch_of(CreateRun{make_run("second", "wf", RunStatus::queued, "k"), "worker-a", 9'000'000}));
  expect_ok(again);
  ASSERT_EQ(again.created_runs.size(), 1u);
  EXPECT_EQ(again.created_runs[0].run_id, "first");
  EXPECT_FALSE(again.created_runs[0].created);
  EXPECT_FALSE(store->get_run("second"));
  const auto got = claim(*store, "worker-b", 5, 1000);
  ASSERT_EQ(ids_of(got), (std::vector<std::string>{"first"}))
      << "not leased by the second CreateRun";
  EXPECT_EQ(got[0].epoch, 1);
}

TEST_F(SqliteStoreTest, AClaimClearsTheWakeUpMark) {
  auto store = open();
  expect_ok(store->commit(batch_of(CreateRun{make_run("r1", "wf", RunStatus::running)})));
  ASSERT_EQ(claim(*store, "worker-a", 1, 1000).size(), 1u);
  expect_ok(store->commit(batch_of(MakeClaimable{"r1"})));  // marked while worker-a holds it
  // worker-a stalls; worker-b claims the run, which takes the mark with it.
  const auto b = claim(*store, "worker-b", 1, 1100);
  ASSERT_EQ(b.size(), 1u);
  const CommitResult renewed = store->commit(batch_of(RenewLeases{"worker-b", b, 1150, 100}));
  expect_ok(renewed);
  EXPECT_TRUE(renewed.woken.empty());
  expect_ok(store->commit(batch_of(ReleaseLease{"r1", "worker-b", b[0].epoch, kNeverClaimable})));
  EXPECT_TRUE(claim(*store, "worker-c", 1, 1'000'000).empty())
      << "no mark left to keep it claimable";
}

TEST_F(SqliteStoreTest, AWakeUpMarkedWhileHeldMakesAReleaseClaimableAtOnce) {
  auto store = open();
  expect_ok(store->commit(batch_of(CreateRun{make_run("r1", "wf", RunStatus::running)},
                                   CreateRun{make_run("r2", "wf", RunStatus::running)})));
  const auto held = claim(*store, "worker-a", 2, 1000, 60'000);
  ASSERT_EQ(held.size(), 2u);
  // A decision arrives while worker-a parks r1 for a person; r2 is parked undisturbed.
  expect_ok(store->commit(batch_of(MakeClaimable{"r1"})));
  expect_ok(
      store->commit(batch_of(ReleaseLease{"r1", "worker-a", held[0].epoch, kNeverClaimable},
                             ReleaseLease{"r2", "worker-a", held[1].epoch, kNeverClaimable})));
  EXPECT_EQ(ids_of(claim(*store, "worker-b", 5, 1001, 60'000)), (std::vector<std::string>{"r1"}));
  EXPECT_TRUE(claim(*store, "worker-c", 5, 2000).empty()) << "r2 waits for a decision";
}

TEST_F(SqliteStoreTest, ARenewalReportsAWakeUpOnceAndClearsIt) {
  auto store = open();
  expect_ok(store->commit(batch_of(CreateRun{make_run("r1", "wf", RunStatus::running)},
                                   CreateRun{make_run("r2", "wf", RunStatus::running)},
                                   CreateRun{make_run("done", "wf", RunStatus::succeeded)})));
  const auto held = claim(*store, "worker-a", 2, 1000, 60'000);
  ASSERT_EQ(held.size(), 2u);
  auto renew = [&] {
    CommitResult r = store->commit(batch_of(RenewLeases{"worker-a", held, 1010, 60'000}));
    EXPECT_FALSE(r.error) << error_text(r);
    EXPECT_TRUE(r.lost_leases.empty());
    return r.woken;
  };
  EXPECT_TRUE(renew().empty());
  expect_ok(store->commit(batch_of(MakeClaimable{"r2"}, MakeClaimable{"done"})));
  EXPECT_EQ(renew(), (std::vector<std::string>{"r2"}));
  EXPECT_TRUE(renew().empty()) << "reported once";
  expect_ok(
      store->commit(batch_of(ReleaseLease{"r2", "worker-a", held[1].epoch, kNeverClaimable})));
  EXPECT_TRUE(claim(*store, "worker-b", 5, 2000).empty())
      << "the renewal took the mark; r1 is held";
  // A lease that is gone is lost, never woken.
  expect_ok(store->commit(batch_of(MakeClaimable{"r2"})));
  const CommitResult lost =
      store->commit(batch_of(RenewLeases{"worker-a", {held[1]}, 1020, 60'000}));
  EXPECT_EQ(lost.lost_leases, (std::vector<std::string>{"r2"}));
  EXPECT_TRUE(lost.woken.empty());
}

// ---- approvals decided by compare-and-set ------------------------------------------------------

// Everything wait_for_signals returns until `want` payloads came or `within` passed.
std::vector<std::string> collect_signals(Store& store, std::size_t want,
                                         std::chrono::milliseconds within) {
  std::vector<std::string> got;
  const auto until = std::chrono::steady_clock::now() + within;
  while (got.size() < want && std::chrono::steady_clock::now() < until) {
    for (auto& s : store.wait_for_signals(std::chrono::milliseconds(200)))
      got.push_back(std::move(s));
  }
  return got;
}

ApprovalRecord decision(const std::string& run, const std::string& step, ApprovalStatus status,
                        const std::string& by) {
  ApprovalRecord a;
  a.run_id = run;
  a.step_id = step;
  a.status = status;
  a.comment = "decided by " + by;
  a.decided_by = by;
  a.decided_at = 77;
  return a;
}

TEST_F(SqliteStoreTest, AnApprovalIsDecidedOnceAndASecondDecisionConflicts) {
  auto store = open();
  expect_ok(store->commit(batch_of(PutApproval{
      ApprovalRecord{"r1", "gate", ApprovalStatus::pending, "Go?", "", "", 5, 0, 900}})));
  expect_ok(store->commit(
      batch_of(DecideApproval{decision("r1", "gate", ApprovalStatus::approved, "ana")})));
  const auto got = store->get_approval("r1", "gate");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, ApprovalStatus::approved);
  EXPECT_EQ(got->decided_by, "ana");
  EXPECT_EQ(got->comment, "decided by ana");
  EXPECT_EQ(got->decided_at, 77);
  EXPECT_EQ(got->message, "Go?") << "what was asked stays";
  EXPECT_EQ(got->created_at, 5);
  EXPECT_EQ(got->expires_at, 900);

  // The second decision fails its whole batch.
  const CommitResult second =
      store->commit(batch_of(PutStep{make_step("r1", "other")},
                             DecideApproval{decision("r1", "gate", ApprovalStatus::rejected, "bo")},
                             AppendLog{LogRecord{"r1", "gate", -1, 1, 5, "info", "rejected"}}));
  EXPECT_TRUE(failed_with<Conflict>(second)) << error_text(second);
  EXPECT_NE(error_text(second).find("r1"), std::string::npos) << error_text(second);
  EXPECT_NE(error_text(second).find("gate"), std::string::npos) << error_text(second);
  EXPECT_NE(error_text(second).find("no longer pending"), std::string::npos) << error_text(second);
  EXPECT_TRUE(store->get_steps("r1").empty());
  EXPECT_TRUE(store->get_logs("r1").empty());
  EXPECT_EQ(store->get_approval("r1", "gate")->decided_by, "ana");

  const CommitResult missing = store->commit(
      batch_of(DecideApproval{decision("r1", "nowhere", ApprovalStatus::approved, "ana")}));
  EXPECT_TRUE(failed_with<Conflict>(missing)) << error_text(missing);
  EXPECT_NE(error_text(missing).find("does not exist"), std::string::npos) << error_text(missing);
  EXPECT_FALSE(store->get_approval("r1", "nowhere"));
}

TEST_F(SqliteStoreTest, AConflictingDecisionFailsOnlyItsOwnBatchInAGroup) {
  auto store = open();
  expect_ok(store->commit(batch_of(
      PutApproval{ApprovalRecord{"r1", "decided", ApprovalStatus::expired, "m", "", "", 1, 2, 2}},
      PutApproval{ApprovalRecord{"r1", "open", ApprovalStatus::pending, "m", "", "", 1, 0, 0}})));
  EXPECT_TRUE(
      store->wait_for_signals(std::chrono::milliseconds(1)).empty());  // listening from here
  std::vector<std::promise<CommitResult>> results(4);
  {
    WriterGate gate(*store);
    auto deliver = [&](std::size_t i) {
      return [&results, i](CommitResult r) { results[i].set_value(std::move(r)); };
    };
    store->submit(batch_of(PutStep{make_step("r1", "before")}), deliver(0));
    store->submit(
        batch_of(PutStep{make_step("r1", "doomed")}, Notify{"doomed"},
                 DecideApproval{decision("r1", "decided", ApprovalStatus::approved, "ana")}),
        deliver(1));
    store->submit(
        batch_of(DecideApproval{decision("r1", "missing", ApprovalStatus::approved, "ana")}),
        deliver(2));
    store->submit(batch_of(DecideApproval{decision("r1", "open", ApprovalStatus::rejected, "bo")},
                           PutStep{make_step("r1", "after")}, Notify{"after"}),
                  deliver(3));
  }
  std::vector<CommitResult> got;
  for (auto& p : results) got.push_back(p.get_future().get());
  expect_ok(got[0]);
  EXPECT_TRUE(failed_with<Conflict>(got[1])) << error_text(got[1]);
  EXPECT_TRUE(failed_with<Conflict>(got[2])) << error_text(got[2]);
  expect_ok(got[3]);
  std::vector<std::string> step_ids;
  for (const auto& s : store->get_steps("r1")) step_ids.push_back(s.step_id);
  EXPECT_EQ(step_ids, (std::vector<std::string>{"after", "before"}));
  EXPECT_EQ(store->get_approval("r1", "decided")->status, ApprovalStatus::expired);
  EXPECT_EQ(store->get_approval("r1", "open")->status, ApprovalStatus::rejected);
  EXPECT_EQ(collect_signals(*store, 1, std::chrono::seconds(10)),
            (std::vector<std::string>{"after"}));
  EXPECT_TRUE(store->wait_for_signals(std::chrono::milliseconds(100)).empty())
      << "the failed batch's signal";
}

// ---- cancel requests -------------------------------------------------------------------------

TEST_F(SqliteStoreTest, ACancelRequestIsRecordedForUnfinishedRunsAndWakesTheHolder) {
  auto store = open();
  RunRecord held = make_run("held", "wf", RunStatus::running);
  held.cancel_requested = "written by CreateRun";  // read-only for writers
  expect_ok(store->commit(
      batch_of(CreateRun{held}, CreateRun{make_run("done", "wf", RunStatus::failed)})));
  EXPECT_EQ(store->get_run("held")->cancel_requested, "");
  const auto lease = claim(*store, "worker-a", 5, 1000, 60'000);
  ASSERT_EQ(ids_of(lease), (std::vector<std::string>{"held"}));

  expect_ok(store->commit(batch_of(RequestCancel{"held", "stopped by ana"},
                                   RequestCancel{"done", "too late"},
                                   RequestCancel{"missing", "nobody"})));
  EXPECT_EQ(store->get_run("held")->cancel_requested, "stopped by ana");
  EXPECT_EQ(store->get_run("done")->cancel_requested, "");
  EXPECT_FALSE(store->get_run("missing"));
  // The holder's own writes keep the request; its next renewal is woken by it.
  RunRecord progress = make_run("held", "wf", RunStatus::running);
  progress.started_at = 1001;
  expect_ok(store->commit(batch_of(PutRun{progress})));
  EXPECT_EQ(store->get_run("held")->cancel_requested, "stopped by ana");
  EXPECT_EQ(store->get_run("held")->started_at, 1001);
  for (const RunRecord& listed : store->list_runs({})) {
    EXPECT_EQ(listed.cancel_requested, listed.id == "held" ? "stopped by ana" : "") << listed.id;
  }
  const CommitResult renewed =
      store->commit(batch_of(RenewLeases{"worker-a", lease, 1010, 60'000}));
  EXPECT_EQ(renewed.woken, (std::vector<std::string>{"held"}));
  // A request without a reason still shows.
  expect_ok(store->commit(batch_of(RequestCancel{"held", ""})));
  EXPECT_FALSE(store->get_run("held")->cancel_requested.empty());
}

// ---- signals and leadership ------------------------------------------------------------------

TEST_F(SqliteStoreTest, SignalsOfCommittedBatchesReachTheWaiter) {
  auto store = open();
  expect_ok(store->commit(batch_of(Notify{"before anyone listened"})));
  const auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(store->wait_for_signals(std::chrono::milliseconds(100)).empty());
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(90))
      << "waits out its timeout";

  // A waiter is woken by a commit, not by its timeout.
  auto waiter = std::async(std::launch::async,
                           [&] { return store->wait_for_signals(std::chrono::seconds(20)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto sent = std::chrono::steady_clock::now();
  expect_ok(store->commit(batch_of(Notify{"wake"})));
  EXPECT_EQ(waiter.get(), (std::vector<std::string>{"wake"}));
  EXPECT_LT(std::chrono::steady_clock::now() - sent, std::chrono::seconds(10));

  // Only committed batches signal; signals wait for the next call.
  expect_ok(store->commit(batch_of(Notify{"a"})));
  expect_ok(
      store->commit(batch_of(AppendLog{LogRecord{"r1", "", -1, 0, 1, "info", "x"}}, Notify{"b"})));
  EXPECT_TRUE(failed_with<Conflict>(store->commit(
      batch_of(Notify{"refused"},
               DecideApproval{decision("r1", "missing", ApprovalStatus::approved, "ana")}))));
  auto got = collect_signals(*store, 2, std::chrono::seconds(10));
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(store->wait_for_signals(std::chrono::milliseconds(100)).empty())
      << "nothing twice, nothing refused";
}

TEST_F(SqliteStoreTest, OneLeadershipPerRoleAtATime) {
  auto store = open();
  auto first = store->try_lead("scheduler");
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->held());
  EXPECT_FALSE(store->try_lead("scheduler"));
  auto other_role = store->try_lead("janitor");
  EXPECT_TRUE(other_role);
  {
    auto same_store_again = open();  // another store object on the same database
    EXPECT_FALSE(same_store_again->try_lead("scheduler"));
  }
  first.reset();
  auto next = store->try_lead("scheduler");
  ASSERT_TRUE(next);
  EXPECT_TRUE(next->held());
}

// ---- idempotency -----------------------------------------------------------------------------

TEST_F(SqliteStoreTest, IdempotencyKeyInOneBatchCreatesOneRun) {
  auto store = open();
  const CommitResult r =
      store->commit(batch_of(CreateRun{make_run("r1", "wf", RunStatus::queued, "key")},
                             CreateRun{make_run("r2", "wf", RunStatus::queued, "key")},
                             CreateRun{make_run("r3", "wf", RunStatus::queued, "")},
                             CreateRun{make_run("r4", "wf", RunStatus::queued, "")}));
  expect_ok(r);
  ASSERT_EQ(r.created_runs.size(), 4u);
  EXPECT_EQ(r.created_runs[0].run_id, "r1");
  EXPECT_TRUE(r.created_runs[0].created);
  EXPECT_EQ(r.created_runs[1].run_id, "r1");
  EXPECT_FALSE(r.created_runs[1].created);
  // Runs without a key never collide.
  EXPECT_EQ(r.created_runs[2].run_id, "r3");
  EXPECT_TRUE(r.created_runs[2].created);
  EXPECT_EQ(r.created_runs[3].run_id, "r4");
  EXPECT_TRUE(r.created_runs[3].created);
  EXPECT_TRUE(store->get_run("r1"));
  EXPECT_FALSE(store->get_run("r2"));
  EXPECT_EQ(store->list_runs({}).size(), 3u);
}

TEST_F(SqliteStoreTest, IdempotencyKeyAcrossBatchesCreatesOneRun) {
  auto store = open();
  const CommitResult first =
      store->commit(batch_of(CreateRun{make_run("r1", "wf", RunStatus::queued, "key")}));
  expect_ok(first);
  ASSERT_EQ(first.created_runs.size(), 1u);
  EXPECT_TRUE(first.created_runs[0].created);

  // The same key in the same group (writer parked) and in a later group.
  std::promise<CommitResult> same_group;
  {
    WriterGate gate(*store);
    store->submit(batch_of(CreateRun{make_run("r2", "wf", RunStatus::queued, "key2")}),
                  [](CommitResult r) { EXPECT_FALSE(r.error) << error_text(r); });
    store->submit(batch_of(CreateRun{make_run("r3", "wf", RunStatus::queued, "key2")}),
                  [&](CommitResult r) { same_group.set_value(std::move(r)); });
  }
  const CommitResult r3 = same_group.get_future().get();
  expect_ok(r3);
  ASSERT_EQ(r3.created_runs.size(), 1u);
  EXPECT_EQ(r3.created_runs[0].run_id, "r2");
  EXPECT_FALSE(r3.created_runs[0].created);

  const CommitResult again =
      store->commit(batch_of(CreateRun{make_run("r9", "wf", RunStatus::running, "key")}));
  expect_ok(again);
  ASSERT_EQ(again.created_runs.size(), 1u);
  EXPECT_EQ(again.created_runs[0].run_id, "r1");
  EXPECT_FALSE(again.created_runs[0].created);
  EXPECT_FALSE(store->get_run("r9"));
  EXPECT_EQ(store->get_run("r1")->status, RunStatus::queued);  // untouched
  EXPECT_EQ(store->list_runs({}).size(), 2u);
}

// ---- failures --------------------------------------------------------------------------------

TEST_F(SqliteStoreTest, FailingBatchRollsBackAloneWithinAGroup) {
  CommitCounter commits;
  auto store = open();
  expect_ok(store->commit(batch_of(CreateRun{make_run("taken", "wf", RunStatus::queued, "k")},
                                   CreateRun{make_run("r1")})));
  std::vector<std::promise<CommitResult>> results(4);
  long before = 0;
  {
    WriterGate gate(*store);
    before = commits.now();
    auto deliver = [&](std::size_t i) {
      return [&results, i](CommitResult r) { results[i].set_value(std::move(r)); };
    };
    store->submit(batch_of(PutStep{make_step("r1", "before")}), deliver(0));
    // Multi-op batch: its first op succeeds, the second steals another run's idempotency key.
    store->submit(batch_of(PutStep{make_step("r1", "doomed")},
                           AppendLog{LogRecord{"r1", "doomed", -1, 1, 5, "info", "x"}},
                           PutRun{make_run("r1", "wf", RunStatus::running, "k")}),
                  deliver(1));
    // Single-op batch: a primary key clash with an existing run.
    store->submit(batch_of(CreateRun{make_run("taken")}), deliver(2));
    store->submit(
        batch_of(PutStep{make_step("r1", "after")}, PutAttempt{make_attempt("r1", "after")}),
        deliver(3));
  }
  std::vector<CommitResult> got;
  for (auto& p : results) got.push_back(p.get_future().get());
  expect_ok(got[0]);
  expect_ok(got[3]);
  ASSERT_TRUE(got[1].error);
  EXPECT_NE(error_text(got[1]).find("PutRun"), std::string::npos) << error_text(got[1]);
  EXPECT_NE(lower(error_text(got[1])).find("unique"), std::string::npos) << error_text(got[1]);
  ASSERT_TRUE(got[2].error);
  EXPECT_NE(error_text(got[2]).find("CreateRun"), std::string::npos) << error_text(got[2]);
  EXPECT_TRUE(got[2].created_runs.empty());

  store->flush();
  EXPECT_EQ(commits.now() - before, 1) << "the four batches should have shared one commit";
  std::vector<std::string> step_ids;
  for (const auto& s : store->get_steps("r1")) step_ids.push_back(s.step_id);
  EXPECT_EQ(step_ids, (std::vector<std::string>{"after", "before"}));
  EXPECT_EQ(store->get_attempts("r1").size(), 1u);
  EXPECT_TRUE(store->get_logs("r1").empty());
  EXPECT_EQ(store->get_run("r1")->status, RunStatus::queued);
  EXPECT_EQ(store->find_run_by_idempotency_key("k")->id, "taken");
}

TEST_F(SqliteStoreTest, FailingBatchAloneAppliesNothing) {
  auto store = open();
  expect_ok(store->commit(batch_of(CreateRun{make_run("taken", "wf", RunStatus::queued, "k")})));
  const CommitResult r =
      store->commit(batch_of(CreateRun{make_run("fresh")}, PutStep{make_step("fresh", "s")},
                             CreateRun{make_run("taken")}));
  ASSERT_TRUE(r.error);
  EXPECT_TRUE(r.created_runs.empty());
  EXPECT_FALSE(store->get_run("fresh"));
  EXPECT_TRUE(store->get_steps("fresh").empty());
  // The writer carries on.
  expect_ok(store->commit(batch_of(CreateRun{make_run("next")})));
  EXPECT_TRUE(store->get_run("next"));
}

TEST_F(SqliteStoreTest, ThrowingCallbackDoesNotStopTheWriter) {
  auto store = open();
  store->submit(batch_of(CreateRun{make_run("r1")}),
                [](CommitResult) { throw std::runtime_error("callback bug"); });
  expect_ok(store->commit(batch_of(CreateRun{make_run("r2")})));
  EXPECT_TRUE(store->get_run("r1"));
  EXPECT_TRUE(store->get_run("r2"));
}

TEST_F(SqliteStoreTest, WaitsOutAnotherWriterHoldingTheLock) {
  SQLITE_ONLY();
  auto store = open();
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(db_path().c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  std::promise<CommitResult> done;
  store->submit(batch_of(CreateRun{make_run("r1")}),
                [&](CommitResult r) { done.set_value(std::move(r)); });
  auto future = done.get_future();
  EXPECT_EQ(future.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);
  ASSERT_EQ(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  expect_ok(future.get());
  EXPECT_TRUE(store->get_run("r1"));
}

// ---- visibility and concurrency --------------------------------------------------------------

TEST_F(SqliteStoreTest, CallbacksRunAfterDataIsVisibleToReaders) {
  auto store = open();
  constexpr int kThreads = 4;
  constexpr int kPerThread = 100;
  std::atomic<int> seen{0};
  std::atomic<int> missing{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string id = "r" + std::to_string(t) + "-" + std::to_string(i);
        Store* s = store.get();
        s->submit(batch_of(CreateRun{make_run(id)}, PutStep{make_step(id, "a")}),
                  [&, s, id](CommitResult r) {
                    if (r.error || !s->get_run(id) || s->get_steps(id).size() != 1) {
                      missing.fetch_add(1);
                    }
                    seen.fetch_add(1);
                  });
      }
    });
  }
  for (auto& th : threads) th.join();
  store->flush();
  EXPECT_EQ(seen.load(), kThreads * kPerThread);
  EXPECT_EQ(missing.load(), 0);
}

TEST_F(SqliteStoreTest, ConcurrentSubmittersAreGroupCommitted) {
  CommitCounter commits;
  auto store = open();
  const long before = commits.now();
  constexpr int kThreads = 8;
  constexpr int kPerThread = 2000;
  std::atomic<int> callbacks{0};
  std::atomic<int> errors{0};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string run = "run-" + std::to_string(t);
      for (int i = 0; i < kPerThread; ++i) {
        const std::string step = "s" + std::to_string(i);
        store->submit(batch_of(PutStep{make_step(run, step)}, PutAttempt{make_attempt(run, step)}),
                      [&](CommitResult r) {
                        if (r.error) errors.fetch_add(1);
                        callbacks.fetch_add(1);
                      });
      }
    });
  }
  for (auto& th : threads) th.join();
  store->flush();
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const long n_commits = commits.now() - before;
  const int batches = kThreads * kPerThread;
  EXPECT_EQ(callbacks.load(), batches);
  EXPECT_EQ(errors.load(), 0);
  for (int t = 0; t < kThreads; ++t) {
    const std::string run = "run-" + std::to_string(t);
    EXPECT_EQ(store->get_steps(run).size(), static_cast<std::size_t>(kPerThread));
    EXPECT_EQ(store->get_attempts(run).size(), static_cast<std::size_t>(kPerThread));
  }
  EXPECT_GT(n_commits, 0);
  EXPECT_LT(n_commits * 10, batches) << "group commit should amortise commits";
  std::printf("[ info ] async: %d batches in %ld commits (%.1f batches/commit), %.0f batches/s\n",
              batches, n_commits, static_cast<double>(batches) / static_cast<double>(n_commits),
              batches / secs);
}

TEST_F(SqliteStoreTest, SynchronousCallersShareCommits) {
  CommitCounter commits;
  auto store = open();
  const long before = commits.now();
  constexpr int kThreads = 8;
  constexpr int kPerThread = 200;
  std::atomic<int> errors{0};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string run = "run-" + std::to_string(t);
      for (int i = 0; i < kPerThread; ++i) {
        const std::string step = "s" + std::to_string(i);
        const CommitResult r = store->commit(
            batch_of(PutStep{make_step(run, step)}, PutAttempt{make_attempt(run, step)}));
        if (r.error) errors.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const long n_commits = commits.now() - before;
  EXPECT_EQ(errors.load(), 0);
  EXPECT_LE(n_commits, kThreads * kPerThread);
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(store->get_steps("run-" + std::to_string(t)).size(),
              static_cast<std::size_t>(kPerThread));
  }
  std::printf(
      "[ info ] sync x%d: %d batches in %ld commits (%.1f batches/commit), %.0f batches/s\n",
      kThreads, kThreads * kPerThread, n_commits,
      kThreads * kPerThread / static_cast<double>(n_commits), kThreads * kPerThread / secs);
}

TEST_F(SqliteStoreTest, MaxOpsPerCommitSplitsTheQueueButNeverABatch) {
  CommitCounter commits;
  auto store = open(Durability::full, 10);
  long before = 0;
  std::atomic<int> errors{0};
  {
    WriterGate gate(*store);
    before = commits.now();
    for (int i = 0; i < 100; ++i) {
      store->submit(batch_of(PutStep{make_step("r1", "s" + std::to_string(i))}),
                    [&](CommitResult r) { errors += r.error ? 1 : 0; });
    }
    WriteBatch big;
    for (int i = 0; i < 25; ++i) big.add(PutStep{make_step("r2", "s" + std::to_string(i))});
    store->submit(std::move(big), [&](CommitResult r) { errors += r.error ? 1 : 0; });
  }
  store->flush();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(commits.now() - before, 11);  // ten groups of ten, then the big batch alone
  EXPECT_EQ(store->get_steps("r1").size(), 100u);
  EXPECT_EQ(store->get_steps("r2").size(), 25u);
}

TEST_F(SqliteStoreTest, FlushWaitsForEverythingSubmittedBefore) {
  auto store = open();
  store->flush();  // nothing pending: returns at once
  std::atomic<int> callbacks{0};
  for (int i = 0; i < 500; ++i) {
    store->submit(batch_of(AppendLog{LogRecord{"r1", "", -1, 0, i, "info", std::to_string(i)}}),
                  [&](CommitResult) { callbacks.fetch_add(1); });
  }
  store->flush();
  EXPECT_EQ(callbacks.load(), 500);
  EXPECT_EQ(store->get_logs("r1").size(), 500u);
}

TEST_F(SqliteStoreTest, DestructionDrainsTheQueue) {
  std::atomic<int> callbacks{0};
  std::atomic<int> errors{0};
  {
    auto store = open();
    for (int i = 0; i < 3000; ++i) {
      store->submit(batch_of(PutStep{make_step("r1", "s" + std::to_string(i))}),
                    [&](CommitResult r) {
                      if (r.error) errors.fetch_add(1);
                      callbacks.fetch_add(1);
                    });
    }
  }
  EXPECT_EQ(callbacks.load(), 3000);
  EXPECT_EQ(errors.load(), 0);
  auto store = open();
  EXPECT_EQ(store->get_steps("r1").size(), 3000u);
}

// ---- opening, migrations, durability ---------------------------------------------------------

TEST_F(SqliteStoreTest, MigrationsAreIdempotent) {
  SQLITE_ONLY();
  EXPECT_GE(sqlite_schema_version(), 1);
  {
    auto store = open();
    expect_ok(store->commit(batch_of(CreateRun{make_run("r1")})));
  }
  {
    auto store = open();
    EXPECT_TRUE(store->get_run("r1"));
    expect_ok(store->commit(batch_of(CreateRun{make_run("r2")})));
  }
  EXPECT_EQ(query_int(db_path(), "SELECT count(*) FROM schema_migrations"),
            sqlite_schema_version());
  EXPECT_EQ(query_int(db_path(), "SELECT max(version) FROM schema_migrations"),
            sqlite_schema_version());
  EXPECT_EQ(query_int(db_path(), "SELECT count(*) FROM runs"), 2);
}

TEST_F(SqliteStoreTest, RefusesASchemaNewerThanThisBinary) {
  SQLITE_ONLY();
  open().reset();
  const std::string sql = "INSERT INTO schema_migrations(version, applied_at) VALUES(" +
                          std::to_string(sqlite_schema_version() + 5) + ", 0)";
  exec_raw(db_path(), sql.c_str());
  try {
    open();
    FAIL() << "expected StoreError";
  } catch (const StoreError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(db_path().string()), std::string::npos) << what;
    EXPECT_NE(what.find("schema version " + std::to_string(sqlite_schema_version() + 5)),
              std::string::npos)
        << what;
    EXPECT_NE(what.find("newer than this flowpilot (" + std::to_string(sqlite_schema_version()) +
                        "); upgrade flowpilot"),
              std::string::npos)
        << what;
  }
}

TEST_F(SqliteStoreTest, RefusesAFileThatIsNotADatabase) {
  SQLITE_ONLY();
  {
    std::ofstream out(db_path());
    out << std::string(4096, 'x');
  }
  try {
    open();
    FAIL() << "expected StoreError";
  } catch (const StoreError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(db_path().string()), std::string::npos) << what;
    EXPECT_NE(what.find("not a database"), std::string::npos) << what;
  }
}

TEST_F(SqliteStoreTest, OpeningAnUnwritablePathNamesTheFile) {
  SQLITE_ONLY();
  // A regular file where the parent directory should be.
  { std::ofstream out(dir_.path() / "blocker"); }
  SqliteStoreOptions options;
  options.path = dir_.path() / "blocker" / "x.db";
  try {
    open_sqlite_store(options);
    FAIL() << "expected StoreError";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find(options.path.string()), std::string::npos) << e.what();
  }
}

TEST_F(SqliteStoreTest, CreatesMissingParentDirectories) {
  SQLITE_ONLY();
  SqliteStoreOptions options;
  options.path = dir_.path() / "a" / "b" / "c" / "flowpilot.db";
  auto store = open_sqlite_store(options);
  expect_ok(store->commit(batch_of(CreateRun{make_run("r1")})));
  EXPECT_TRUE(fs::exists(options.path));
  EXPECT_TRUE(store->get_run("r1"));
}

TEST_F(SqliteStoreTest, UsesWalMode) {
  SQLITE_ONLY();
  auto store = open();
  expect_ok(store->commit(batch_of(CreateRun{make_run("r1")})));
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(db_path().c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST_F(SqliteStoreTest, RelaxedDurabilityOpensAndWorks) {
  SQLITE_ONLY();
  {
    auto store = open(Durability::relaxed);
    expect_ok(store->commit(batch_of(CreateRun{make_run("r1")}, PutStep{make_step("r1", "a")})));
    EXPECT_TRUE(store->get_run("r1"));
  }
  auto store = open(Durability::relaxed);
  EXPECT_EQ(store->get_steps("r1").size(), 1u);
}

long long pragma_int(sqlite3* db, const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  long long v = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    v = sqlite3_column_int64(stmt, 0);
  }
  sqlite3_finalize(stmt);
  return v;
}

TEST_F(SqliteStoreTest, DurabilityChoosesTheSynchronousLevel) {
  SQLITE_ONLY();
  for (const auto& [durability, expected] :
       {std::pair{Durability::full, 2LL}, std::pair{Durability::relaxed, 1LL}}) {
    CommitCounter spy;
    auto store = open(durability);
    WriterGate gate(*store);
    sqlite3* writer = spy.first_connection();
    ASSERT_NE(writer, nullptr);
    EXPECT_EQ(pragma_int(writer, "PRAGMA synchronous"), expected);
    EXPECT_EQ(pragma_int(writer, "PRAGMA busy_timeout"), 5000);
  }
}

TEST_F(SqliteStoreTest, DiskFullFailsTheGroupWithoutPartialRowsAndRecovers) {
  SQLITE_ONLY();
  CommitCounter spy;
  auto store = open();
  expect_ok(store->commit(batch_of(CreateRun{make_run("r1")})));
  std::promise<CommitResult> small_done;
  std::promise<CommitResult> big_done;
  {
    WriterGate gate(*store);
    sqlite3* writer = spy.first_connection();
    ASSERT_NE(writer, nullptr);
    const long long pages = pragma_int(writer, "PRAGMA page_count");
    // Simulates a full disk: the file may not grow beyond its current size.
    const std::string limit = "PRAGMA max_page_count=" + std::to_string(pages);
    ASSERT_EQ(pragma_int(writer, limit.c_str()), pages);
    store->submit(batch_of(PutStep{make_step("r1", "small")}),
                  [&](CommitResult r) { small_done.set_value(std::move(r)); });
    WriteBatch big;
    for (int i = 0; i < 200; ++i) {
      LogRecord l;
      l.run_id = "r1";
      l.level = "info";
      l.message = std::string(1000, 'x');
      big.add(AppendLog{l});
    }
    store->submit(std::move(big), [&](CommitResult r) { big_done.set_value(std::move(r)); });
  }
  const CommitResult small = small_done.get_future().get();
  const CommitResult big = big_done.get_future().get();
  // A full disk fails the whole group: it says nothing about which batch was at fault.
  ASSERT_TRUE(big.error);
  EXPECT_NE(error_text(big).find("full"), std::string::npos) << error_text(big);
  ASSERT_TRUE(small.error);
  EXPECT_TRUE(store->get_logs("r1").empty());
  EXPECT_TRUE(store->get_steps("r1").empty());

  {
    WriterGate gate(*store);
    pragma_int(spy.first_connection(), "PRAGMA max_page_count=1073741823");
  }
  expect_ok(store->commit(batch_of(PutStep{make_step("r1", "small")})));
  EXPECT_EQ(store->get_steps("r1").size(), 1u);
}

TEST_F(SqliteStoreTest, SurvivesAbandonmentWithoutShutdown) {
  SQLITE_ONLY();
  // The child writes, flushes and is SIGKILLed: no destructor, no checkpoint, the WAL stays.
  const pid_t pid = ::fork();
  ASSERT_NE(pid, -1);
  if (pid == 0) {
    try {
      auto store = open();
      for (int i = 0; i < 200; ++i) {
        const std::string id = "run-" + std::to_string(i);
        store->submit(batch_of(CreateRun{make_run(id, "wf", RunStatus::running, id)},
                               PutStep{make_step(id, "a")}),
                      [](CommitResult r) {
                        if (r.error) ::_exit(3);
                      });
      }
      store->flush();
      ::kill(::getpid(), SIGKILL);
    } catch (...) {
      ::_exit(2);
    }
    ::_exit(4);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
  ASSERT_EQ(WTERMSIG(status), SIGKILL);
  EXPECT_TRUE(fs::exists(db_path().string() + "-wal"));

  auto store = open();
  EXPECT_EQ(store->unfinished_run_ids().size(), 200u);
  for (int i = 0; i < 200; i += 37) {
    const std::string id = "run-" + std::to_string(i);
    EXPECT_TRUE(store->get_run(id)) << id;
    EXPECT_EQ(store->get_steps(id).size(), 1u) << id;
  }
  RunFilter all;
  all.limit = 0;
  EXPECT_EQ(store->list_runs(all).size(), 200u);
}

}  // namespace
}  // namespace flowpilot::engine
