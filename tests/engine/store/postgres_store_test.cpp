// What only the PostgreSQL store does: migrations under an advisory lock, a server that drops its
// connections, text PostgreSQL would refuse, and two stores (two processes) on one database. The
// Store contract itself is sqlite_store_test.cpp, which also runs here (ctest's pg. copies).
#include "engine/store/postgres_store.h"
#include "store_raw_sql.h"
#include "store_under_test.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <random>
#include <set>
#include <thread>

namespace flowpilot::engine {
namespace {

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::testing_on_postgres()) GTEST_SKIP() << "runs in the pg. copy of the suite";
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("flowpilot-pg-" + std::to_string(rd()) + ".db");
  }

  PostgresStoreOptions options() const {
    PostgresStoreOptions o;
    o.url = testing::test_postgres_url();
    o.schema = testing::test_schema_for(path_);
    o.application_name = "flowpilot-test-" + o.schema;
    return o;
  }

  static RunRecord run(const std::string& id, const std::string& key = "") {
    RunRecord r;
    r.id = id;
    r.workflow_id = "wf";
    r.workflow_version = "v1";
    r.idempotency_key = key;
    r.created_at = now_millis();
    return r;
  }

  static WriteBatch batch(WriteOp op) {
    WriteBatch b;
    b.ops.push_back(std::move(op));
    return b;
  }

  // A running run "r1", claimed by worker-a.
  static RunLease claim_running_run(Store& store) {
    RunRecord r = run("r1");
    r.status = RunStatus::running;
    EXPECT_FALSE(store.commit(batch(CreateRun{r})).error);
    const CommitResult claimed = store.commit(batch(ClaimRuns{"worker-a", 1, 1000, 60'000}));
    EXPECT_EQ(claimed.claimed.size(), 1u);
    return claimed.claimed.empty() ? RunLease{} : claimed.claimed[0];
  }

  // Runs SQL in a transaction of its own on the test's schema, as another process would.
  std::unique_ptr<store_detail::PgConnection> raw_connection() const {
    return std::make_unique<store_detail::PgConnection>(testing::test_postgres_url(), "flowpilot-test-raw",
                                                        testing::test_schema_for(path_), false);
  }

  std::string kill_sql(const std::string& application_name) const {
    return "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '" +
           application_name + "'";
  }

  std::filesystem::path path_;
};

// Everything wait_for_signals returns until `want` payloads came or `within` passed.
std::vector<std::string> collect_signals(Store& store, std::size_t want, std::chrono::milliseconds within) {
  std::vector<std::string> got;
  const auto until = std::chrono::steady_clock::now() + within;
  while (got.size() < want && std::chrono::steady_clock::now() < until) {
    for (auto& s : store.wait_for_signals(std::chrono::milliseconds(200))) got.push_back(std::move(s));
  }
  return got;
}

TEST_F(PostgresStoreTest, MigratesOnceAndRefusesANewerSchema) {
  open_postgres_store(options()).reset();
  // A second open finds every migration applied and applies none again (applied_at unchanged).
  ASSERT_EQ(testing::exec_raw_sql(path_, "CREATE TABLE first_pass AS SELECT * FROM schema_migrations"), "");
  open_postgres_store(options()).reset();
  EXPECT_EQ(testing::exec_raw_sql(
                path_, "DO $$ BEGIN IF EXISTS (SELECT * FROM schema_migrations EXCEPT SELECT * FROM first_pass) "
                       "OR (SELECT max(version) FROM schema_migrations) <> " +
                           std::to_string(postgres_schema_version()) +
                           " THEN RAISE EXCEPTION 'migrated again'; END IF; END $$"),
            "");
  ASSERT_EQ(testing::exec_raw_sql(path_, "INSERT INTO schema_migrations VALUES (" +
                                             std::to_string(postgres_schema_version() + 5) + ", 0)"),
            "");
  try {
    open_postgres_store(options());
    FAIL() << "a schema newer than this binary was opened";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("newer than this flowpilot"), std::string::npos) << e.what();
  }
}

TEST_F(PostgresStoreTest, ABadServerIsNamedWithoutItsPassword) {
  PostgresStoreOptions o = options();
  o.url = "postgres://flowpilot:s3cret-pw@127.0.0.1:1/flowpilot";
  try {
    open_postgres_store(o);
    FAIL() << "connected to port 1";
  } catch (const StoreError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("postgres://flowpilot:***@127.0.0.1:1/flowpilot"), std::string::npos) << what;
    EXPECT_EQ(what.find("s3cret-pw"), std::string::npos) << what;
  }
}

TEST_F(PostgresStoreTest, TextPostgresWouldRefuseIsStoredReadably) {
  auto store = open_postgres_store(options());
  RunRecord r = run("r1");
  using namespace std::string_literals;  // NOLINT(google-build-using-namespace): a test's own scope
  r.error = "bad \xff byte and a NUL \0 here"s;
  r.inputs = boost::json::object{{"note", std::string("caf\xc3\xa9")}};
  ASSERT_FALSE(store->commit(batch(CreateRun{r})).error);
  const auto got = store->get_run("r1");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->error, "bad \xEF\xBF\xBD byte and a NUL \xEF\xBF\xBD here");
  EXPECT_EQ(got->inputs.at("note").as_string(), "caf\xc3\xa9");
}

TEST_F(PostgresStoreTest, ConnectionsTheServerDropsAreOpenedAgain) {
  auto store = open_postgres_store(options());
  ASSERT_FALSE(store->commit(batch(CreateRun{run("r1")})).error);
  ASSERT_TRUE(store->get_run("r1"));
  // What a server restart does to every connection of this store (and only this store's).
  ASSERT_EQ(testing::exec_raw_sql(path_, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                                         "application_name = '" + options().application_name + "'"),
            "");
  EXPECT_TRUE(store->get_run("r1"));  // a reader reconnects
  const CommitResult written = store->commit(batch(CreateRun{run("r2")}));
  EXPECT_FALSE(written.error);  // so does the writer, before its transaction began
  EXPECT_TRUE(store->get_run("r2"));
}

TEST_F(PostgresStoreTest, TwoStoresOnOneDatabaseCreateOneRunPerIdempotencyKey) {
  auto a = open_postgres_store(options());
  auto b = open_postgres_store(options());
  constexpr int kKeys = 50;
  std::vector<CommitResult> from_a(kKeys);
  std::vector<CommitResult> from_b(kKeys);
  std::thread ta([&] {
    for (int i = 0; i < kKeys; ++i) from_a[i] = a->commit(batch(CreateRun{run("a" + std::to_string(i), "k" + std::to_string(i))}));
  });
  std::thread tb([&] {
    for (int i = 0; i < kKeys; ++i) from_b[i] = b->commit(batch(CreateRun{run("b" + std::to_string(i), "k" + std::to_string(i))}));
  });
  ta.join();
  tb.join();
  for (int i = 0; i < kKeys; ++i) {
    ASSERT_FALSE(from_a[i].error);
    ASSERT_FALSE(from_b[i].error);
    ASSERT_EQ(from_a[i].created_runs.size(), 1u);
    ASSERT_EQ(from_b[i].created_runs.size(), 1u);
    EXPECT_NE(from_a[i].created_runs[0].created, from_b[i].created_runs[0].created) << "key " << i;
    EXPECT_EQ(from_a[i].created_runs[0].run_id, from_b[i].created_runs[0].run_id) << "key " << i;
  }
  RunFilter all;
  all.limit = 0;
  EXPECT_EQ(a->list_runs(all).size(), static_cast<std::size_t>(kKeys));
}

TEST_F(PostgresStoreTest, ProcessesClaimingAtOnceGetDifferentRuns) {
  auto a = open_postgres_store(options());
  auto b = open_postgres_store(options());
  constexpr int kRuns = 200;
  WriteBatch runs;
  for (int i = 0; i < kRuns; ++i) {
    RunRecord r = run(new_run_id());
    r.status = RunStatus::queued;
    runs.ops.push_back(CreateRun{r});
  }
  ASSERT_FALSE(a->commit(std::move(runs)).error);
  const EpochMillis now = now_millis();
  auto drain = [now](Store& store, const std::string& owner, std::vector<std::string>& got) {
    for (;;) {
      CommitResult r = store.commit(batch(ClaimRuns{owner, 7, now, 60'000}));
      ASSERT_FALSE(r.error);
      if (r.claimed.empty()) return;
      for (const auto& l : r.claimed) got.push_back(l.run_id);
    }
  };
  std::vector<std::string> got_a;
  std::vector<std::string> got_b;
  std::thread ta([&] { drain(*a, "a", got_a); });
  std::thread tb([&] { drain(*b, "b", got_b); });
  ta.join();
  tb.join();
  std::set<std::string> all(got_a.begin(), got_a.end());
  for (const auto& id : got_b) EXPECT_TRUE(all.insert(id).second) << id << " was claimed twice";
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kRuns));
  EXPECT_EQ(got_a.size() + got_b.size(), static_cast<std::size_t>(kRuns));
}

TEST_F(PostgresStoreTest, AnExclusiveStoreRefusesASecondOneUntilItCloses) {
  PostgresStoreOptions exclusive = options();
  exclusive.exclusive = true;
  auto first = open_postgres_store(exclusive);
  try {
    open_postgres_store(exclusive);
    FAIL() << "two exclusive stores on one schema";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("another flowpilot process already serves"), std::string::npos) << e.what();
  }
  // Tools that only read or add records (the CLI) still open it; another schema is another store.
  EXPECT_NO_THROW(open_postgres_store(options()));
  PostgresStoreOptions elsewhere = exclusive;
  elsewhere.schema += "b";
  EXPECT_NO_THROW(open_postgres_store(elsewhere));
  first.reset();
  EXPECT_NO_THROW(open_postgres_store(exclusive));
}

TEST_F(PostgresStoreTest, AnExclusiveStoreTakesItsLockBackOrSaysItLostIt) {
  std::promise<std::string> lost;
  std::atomic<int> calls{0};
  PostgresStoreOptions exclusive = options();
  exclusive.exclusive = true;
  exclusive.on_exclusive_lost = [&](const std::string& why) {
    if (calls++ == 0) lost.set_value(why);
  };
  auto first = open_postgres_store(exclusive);
  const std::string kill_first = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '" +
                                 exclusive.application_name + "'";
  // The server drops the lock's connection: nobody else wants the lock, so the store takes it back.
  ASSERT_EQ(testing::exec_raw_sql(path_, kill_first), "");
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_EQ(calls.load(), 0);
  PostgresStoreOptions second = exclusive;
  second.application_name += "-second";
  second.on_exclusive_lost = nullptr;
  EXPECT_THROW(open_postgres_store(second), StoreError) << "the lock was taken back";
  // This time another process is faster: the first store reports the loss.
  ASSERT_EQ(testing::exec_raw_sql(path_, kill_first), "");
  std::unique_ptr<Store> other;
  for (int i = 0; i < 50 && !other; ++i) {
    try {
      other = open_postgres_store(second);
    } catch (const StoreError&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  ASSERT_TRUE(other) << "the lock was not freed with its connection";
  auto reported = lost.get_future();
  ASSERT_EQ(reported.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_NE(reported.get().find("another process took"), std::string::npos);
}

TEST_F(PostgresStoreTest, AMarkSetWhileAReleaseWaitsForTheRowWins) {
  auto store = open_postgres_store(options());
  const RunLease lease = claim_running_run(*store);
  // Another process marks the run and has not committed yet when the release arrives.
  auto other = raw_connection();
  other->exec("BEGIN");
  other->exec("UPDATE runs SET claimable_at = -1 WHERE id = 'r1'");
  std::promise<CommitResult> released;
  store->submit(batch(ReleaseLease{"r1", "worker-a", lease.epoch, kNeverClaimable}),
                [&](CommitResult result) { released.set_value(std::move(result)); });
  auto done = released.get_future();
  EXPECT_EQ(done.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout) << "waits for the row";
  other->exec("COMMIT");
  EXPECT_FALSE(done.get().error);
  const CommitResult next = store->commit(batch(ClaimRuns{"worker-b", 1, 1001, 60'000}));
  ASSERT_EQ(next.claimed.size(), 1u) << "the release kept the mark that committed while it waited";
}

TEST_F(PostgresStoreTest, AMarkSetWhileARenewalWaitsForTheRowIsReported) {
  auto store = open_postgres_store(options());
  const RunLease lease = claim_running_run(*store);
  auto other = raw_connection();
  other->exec("BEGIN");
  other->exec("UPDATE runs SET claimable_at = -1 WHERE id = 'r1'");
  std::promise<CommitResult> renewed;
  store->submit(batch(RenewLeases{"worker-a", {lease}, 1010, 60'000}),
                [&](CommitResult result) { renewed.set_value(std::move(result)); });
  auto done = renewed.get_future();
  EXPECT_EQ(done.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout) << "waits for the row";
  other->exec("COMMIT");
  const CommitResult result = done.get();
  EXPECT_FALSE(result.error);
  EXPECT_TRUE(result.lost_leases.empty());
  EXPECT_EQ(result.woken, (std::vector<std::string>{"r1"}));
  EXPECT_TRUE(store->commit(batch(RenewLeases{"worker-a", {lease}, 1020, 60'000})).woken.empty());
}

TEST_F(PostgresStoreTest, TwoStoresOnOneDatabaseSeeEachOthersSignalsAndNoOtherSchemas) {
  auto a = open_postgres_store(options());
  auto b = open_postgres_store(options());
  PostgresStoreOptions elsewhere = options();
  elsewhere.schema += "b";
  auto c = open_postgres_store(elsewhere);
  for (Store* s : {a.get(), b.get(), c.get()}) EXPECT_TRUE(s->wait_for_signals(std::chrono::milliseconds(1)).empty());
  ASSERT_FALSE(a->commit(batch(Notify{"from a"})).error);
  ASSERT_FALSE(b->commit(batch(Notify{"from b"})).error);
  for (Store* s : {a.get(), b.get()}) {
    auto got = collect_signals(*s, 2, std::chrono::seconds(10));
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, (std::vector<std::string>{"from a", "from b"}));
  }
  EXPECT_TRUE(c->wait_for_signals(std::chrono::milliseconds(300)).empty()) << "another schema, another store";
}

TEST_F(PostgresStoreTest, ListeningResumesAfterTheConnectionWasDropped) {
  PostgresStoreOptions listening = options();
  listening.application_name += "-listens";
  auto a = open_postgres_store(listening);
  auto b = open_postgres_store(options());
  EXPECT_TRUE(a->wait_for_signals(std::chrono::milliseconds(1)).empty());
  ASSERT_EQ(testing::exec_raw_sql(path_, kill_sql(listening.application_name)), "");
  const auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(a->wait_for_signals(std::chrono::seconds(20)).empty());
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10)) << "returns early, empty";
  EXPECT_TRUE(a->wait_for_signals(std::chrono::milliseconds(1)).empty());  // listens again
  ASSERT_FALSE(b->commit(batch(Notify{"again"})).error);
  EXPECT_EQ(collect_signals(*a, 1, std::chrono::seconds(10)), (std::vector<std::string>{"again"}));
}

TEST_F(PostgresStoreTest, ALeaderWhoseConnectionDiesLosesTheLead) {
  PostgresStoreOptions leading = options();
  leading.application_name += "-leads";
  auto a = open_postgres_store(leading);
  auto b = open_postgres_store(options());
  auto lead = a->try_lead("scheduler");
  ASSERT_TRUE(lead);
  EXPECT_FALSE(b->try_lead("scheduler"));
  PostgresStoreOptions elsewhere = options();
  elsewhere.schema += "b";
  EXPECT_TRUE(open_postgres_store(elsewhere)->try_lead("scheduler")) << "another schema, another store";

  ASSERT_EQ(testing::exec_raw_sql(path_, kill_sql(leading.application_name)), "");
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (lead->held() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_FALSE(lead->held());
  std::unique_ptr<Leadership> successor;
  while (!successor && std::chrono::steady_clock::now() < until) {
    successor = b->try_lead("scheduler");
    if (!successor) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(successor) << "the lock went with its connection";
  EXPECT_TRUE(successor->held());
  EXPECT_FALSE(lead->held()) << "lost for good";
  a.reset();  // a Leadership may outlive its store
  lead.reset();
}

}  // namespace
}  // namespace flowpilot::engine
