// What only the PostgreSQL warehouse does: several processes (here, warehouse objects) sharing one
// schema, creating its tables together, loading the same keys at once, and a server that drops
// the connection. The Warehouse contract itself is warehouse_test.cpp, which also runs here
// (ctest's pg. copies).
#include "engine/store/detail/pg_connection.h"
#include "engine/warehouse/warehouse.h"
#include "store_under_test.h"

#include <gtest/gtest.h>

#include <random>
#include <thread>

namespace flowpilot::engine {
namespace {

class PostgresWarehouseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::testing_on_postgres()) GTEST_SKIP() << "runs in the pg. copy of the suite";
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("flowpilot-pgw-" + std::to_string(rd()) + ".db");
  }

  PostgresWarehouseOptions options() const {
    PostgresWarehouseOptions o;
    o.url = testing::test_postgres_url();
    o.schema = testing::test_warehouse_schema_for(path_);
    o.application_name = "flowpilot-test-" + o.schema;
    return o;
  }

  // "" when `sql` succeeded in the warehouse's schema, else the error.
  std::string exec_sql(const std::string& sql) const {
    try {
      store_detail::PgConnection conn(testing::test_postgres_url(), "flowpilot-test", options().schema, false);
      conn.exec(sql);
      return {};
    } catch (const StoreError& e) {
      return e.what();
    }
  }

  static FactRow fact(const std::string& campaign, std::int64_t spend_micros) {
    FactRow r;
    r.platform = "meta";
    r.account_id = "act_1";
    r.campaign_id = campaign;
    r.date = "2026-05-01";
    r.spend_micros = spend_micros;
    return r;
  }

  std::filesystem::path path_;
};

TEST_F(PostgresWarehouseTest, ProcessesStartingTogetherCreateTheTablesOnce) {
  constexpr int kOpeners = 4;
  std::vector<std::unique_ptr<Warehouse>> opened(kOpeners);
  std::vector<std::string> errors(kOpeners);
  std::vector<std::thread> threads;
  for (int i = 0; i < kOpeners; ++i) {
    threads.emplace_back([&, i] {
      try {
        opened[i] = open_postgres_warehouse(options());
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kOpeners; ++i) EXPECT_EQ(errors[i], "") << "opener " << i;
  EXPECT_EQ(exec_sql("DO $$ BEGIN IF (SELECT count(*) FROM warehouse_schema) <> 1 THEN "
                     "RAISE EXCEPTION 'created twice'; END IF; END $$"),
            "");
}

TEST_F(PostgresWarehouseTest, TwoWarehousesOnOneSchemaSeeEachOthersWrites) {
  auto a = open_postgres_warehouse(options());
  auto b = open_postgres_warehouse(options());
  EXPECT_EQ(a->upsert_facts({fact("c1", 100), fact("c2", 200)}, "from-a").inserted, 2);
  const auto seen = b->facts({});
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1].spend_micros, 200);
  const auto again = b->upsert_facts({fact("c1", 100), fact("c2", 250)}, "from-b");
  EXPECT_EQ(again.unchanged, 1);
  EXPECT_EQ(again.updated, 1);
  EXPECT_EQ(a->facts({})[1].spend_micros, 250);
  EXPECT_EQ(b->upsert_campaigns({{"meta", "act_1", "c1", "Brand", "active"}}, "b").inserted, 1);
  EXPECT_EQ(a->upsert_campaigns({{"meta", "act_1", "c1", "", "paused"}}, "a").updated, 1);
  EXPECT_EQ(b->campaigns({})[0].name, "Brand");
  EXPECT_EQ(a->erase_mentions({"brand"}, "[erased]", false), 1);
  EXPECT_EQ(b->campaigns({})[0].name, "[erased]");
}

TEST_F(PostgresWarehouseTest, LoadsOfTheSameKeysAtOnceEachCountTheirOwnChanges) {
  auto a = open_postgres_warehouse(options());
  auto b = open_postgres_warehouse(options());
  // Overlapping keys in opposite orders, so that the two transactions wait for each other's rows
  // (and may deadlock, which is retried). Every row ends up written once as an insert.
  constexpr int kRows = 2000;
  std::vector<FactRow> forward;
  for (int i = 0; i < kRows; ++i) forward.push_back(fact("c" + std::to_string(i), 1));
  const std::vector<FactRow> backward(forward.rbegin(), forward.rend());
  UpsertCounts from_a;
  UpsertCounts from_b;
  std::thread ta([&] { from_a = a->upsert_facts(forward, "a"); });
  std::thread tb([&] { from_b = b->upsert_facts(backward, "b"); });
  ta.join();
  tb.join();
  EXPECT_EQ(from_a.inserted + from_b.inserted, kRows);
  EXPECT_EQ(from_a.updated + from_b.updated, 0);
  EXPECT_EQ(from_a.unchanged + from_b.unchanged, kRows);
  EXPECT_EQ(a->facts({}).size(), static_cast<std::size_t>(kRows));
}

TEST_F(PostgresWarehouseTest, AConnectionTheServerDropsIsOpenedAgain) {
  auto warehouse = open_postgres_warehouse(options());
  ASSERT_EQ(warehouse->upsert_facts({fact("c1", 1)}, "b").inserted, 1);
  // What a server restart does to the warehouse's connection.
  const std::string terminate = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '" +
                                options().application_name + "'";
  ASSERT_EQ(exec_sql(terminate), "");
  EXPECT_EQ(warehouse->facts({}).size(), 1u);  // a read is tried again
  ASSERT_EQ(exec_sql(terminate), "");
  EXPECT_EQ(warehouse->upsert_facts({fact("c2", 1)}, "b").inserted, 1);  // so is a write, before COMMIT
  ASSERT_EQ(exec_sql(terminate), "");
  EXPECT_EQ(warehouse->erase_mentions({"c"}, "x", true), 0);
  EXPECT_EQ(warehouse->facts({}).size(), 2u);
}

TEST_F(PostgresWarehouseTest, ABadServerIsNamedWithoutItsPassword) {
  PostgresWarehouseOptions o = options();
  o.url = "postgres://flowpilot:s3cret-pw@127.0.0.1:1/flowpilot";
  try {
    open_postgres_warehouse(o);
    FAIL() << "connected to port 1";
  } catch (const StoreError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("postgres://flowpilot:***@127.0.0.1:1/flowpilot"), std::string::npos) << what;
    EXPECT_EQ(what.find("s3cret-pw"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace flowpilot::engine
