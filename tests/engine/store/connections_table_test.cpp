// The connections table: rows round-trip, replace by name, delete, and list by name; a batch of
// puts (a key rotation) is applied whole or not at all.
#include "engine/store/sqlite_store.h"
#include "store_under_test.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

namespace flowpilot::engine {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

class ConnectionsTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = fs::temp_directory_path() / ("flowpilot-conn-table-" + std::to_string(rd()));
    fs::create_directories(dir_);
    store_ = ::flowpilot::engine::testing::open_store_under_test(dir_ / "flowpilot.db");
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  CommitResult commit(std::vector<WriteOp> ops) {
    WriteBatch batch;
    batch.ops = std::move(ops);
    return store_->commit(std::move(batch));
  }
  static ConnectionRecord record(std::string name, std::string key_id) {
    ConnectionRecord r;
    r.name = std::move(name);
    r.type = "meta_ads";
    r.config = json::object{{"fields", json::object{{"account_id", "act_1"}}}};
    r.key_id = std::move(key_id);
    r.nonce = "bm9uY2U=";
    r.ciphertext = "Y2lwaGVy";
    r.created_at = 5;
    r.updated_at = 6;
    return r;
  }

  fs::path dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(ConnectionsTableTest, PutGetListDelete) {
  ASSERT_FALSE(commit({PutConnection{record("b", "k1")}, PutConnection{record("a", "k1")}}).error);
  auto got = store_->get_connection("a");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->type, "meta_ads");
  EXPECT_EQ(got->config.at("fields").at("account_id"), "act_1");
  EXPECT_EQ(got->key_id, "k1");
  EXPECT_EQ(got->nonce, "bm9uY2U=");
  EXPECT_EQ(got->ciphertext, "Y2lwaGVy");
  EXPECT_EQ(got->created_at, 5);
  EXPECT_EQ(got->updated_at, 6);

  auto replaced = record("a", "k2");
  replaced.ciphertext = "bmV3";
  ASSERT_FALSE(commit({PutConnection{replaced}}).error);
  EXPECT_EQ(store_->get_connection("a")->key_id, "k2");
  EXPECT_EQ(store_->get_connection("a")->ciphertext, "bmV3");

  auto all = store_->list_connections();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].name, "a");
  EXPECT_EQ(all[1].name, "b");

  ASSERT_FALSE(commit({DeleteConnection{"a"}, DeleteConnection{"missing"}}).error);
  EXPECT_FALSE(store_->get_connection("a"));
  EXPECT_EQ(store_->list_connections().size(), 1u);
}

TEST_F(ConnectionsTableTest, FailedBatchLeavesEveryRowAsItWas) {
  ASSERT_FALSE(commit({PutConnection{record("a", "k1")}}).error);
  // The second op fails (an AppendRevision that already exists), so the first must not apply.
  ASSERT_FALSE(commit({AppendRevision{{"wf", 1, "v1", "created", 1}}}).error);
  auto result = commit({PutConnection{record("a", "k2")}, AppendRevision{{"wf", 1, "v1", "again", 2}}});
  ASSERT_TRUE(result.error);
  EXPECT_EQ(store_->get_connection("a")->key_id, "k1");
}

}  // namespace
}  // namespace flowpilot::engine
