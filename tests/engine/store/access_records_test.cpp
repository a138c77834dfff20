// The access tables of the SQLite store: tokens and sessions round-trip and are found by the hash
// of their secret, revoking a user's sessions touches only theirs, and the audit log is
// append-only even to SQL issued behind the store's back.
#include "engine/store/sqlite_store.h"
#include "store_raw_sql.h"
#include "store_under_test.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <random>

namespace flowpilot::engine {
namespace {

namespace fs = std::filesystem;

class AccessRecordsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = fs::temp_directory_path() / ("flowpilot-access-" + std::to_string(rd()));
    fs::create_directories(dir_);
    store_ = ::flowpilot::engine::testing::open_store_under_test(dir_ / "flowpilot.db");
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  void apply(WriteOp op) {
    WriteBatch batch;
    batch.ops.push_back(std::move(op));
    auto result = store_->commit(std::move(batch));
    ASSERT_FALSE(result.error);
  }

  fs::path dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(AccessRecordsTest, TokensRoundTripAndAreFoundByHash) {
  TokenRecord t{"t_1", "u_1", "ci", std::string(64, 'a'), "fpt_aaaaaaaa", {"runs:read", "admin"},
                10, 20, 0};
  apply(PutToken{t});
  auto found = store_->get_token_by_hash(std::string(64, 'a'));
  ASSERT_TRUE(found);
  EXPECT_EQ(found->scopes, (std::vector<std::string>{"runs:read", "admin"}));
  EXPECT_EQ(found->expires_at, 20);
  EXPECT_FALSE(store_->get_token_by_hash(std::string(64, 'b')));
  t.revoked_at = 30;
  apply(PutToken{t});
  EXPECT_EQ(store_->get_token("t_1")->revoked_at, 30);
  apply(PutToken{TokenRecord{"t_2", "u_2", "other", std::string(64, 'c'), "p", {}, 11, 0, 0}});
  EXPECT_EQ(store_->list_tokens("u_1").size(), 1u);
  EXPECT_EQ(store_->list_tokens("").size(), 2u);
}

TEST_F(AccessRecordsTest, RevokingAUsersSessionsLeavesOthersAndPruningDropsDeadOnes) {
  const EpochMillis now = now_millis();
  apply(PutSession{SessionRecord{"h1", "u_1", "c1", "127.0.0.1", "ua", now, now, now + 1000, 0}});
  apply(PutSession{SessionRecord{"h2", "u_2", "c2", "127.0.0.1", "ua", now, now, now + 1000, 0}});
  apply(PutSession{SessionRecord{"old", "u_2", "c3", "", "", 1, 1, 2, 0}});
  apply(RevokeSessions{"u_1", now + 5});
  EXPECT_EQ(store_->get_session("h1")->revoked_at, now + 5);
  EXPECT_EQ(store_->get_session("h2")->revoked_at, 0);
  // A late last-seen write cannot bring a revoked session back.
  apply(PutSession{SessionRecord{"h1", "u_1", "c1", "127.0.0.1", "ua", now, now + 9, now + 1000, 0}});
  EXPECT_EQ(store_->get_session("h1")->revoked_at, now + 5);
  EXPECT_EQ(store_->get_session("h1")->last_seen_at, now + 9);
  apply(PruneSessions{now});
  EXPECT_FALSE(store_->get_session("old"));
  EXPECT_TRUE(store_->get_session("h2"));
}

TEST_F(AccessRecordsTest, TheAuditLogIsAppendOnlyAndFilters) {
  for (int i = 0; i < 3; ++i) {
    AuditRecord r;
    r.at = 100 + i;
    r.actor_id = "u_1";
    r.actor_email = "ana@example.com";
    r.actor_kind = "token";
    r.action = i == 2 ? "run.start" : "workflow.update";
    r.target = "hello";
    r.details = boost::json::object{{"n", i}};
    apply(AppendAudit{r});
  }
  AuditFilter filter;
  filter.action = "workflow.";
  auto page = store_->list_audit(filter);
  ASSERT_EQ(page.size(), 2u);
  EXPECT_GT(page[0].id, page[1].id) << "newest first";
  filter.action = "workflow";  // no trailing dot: an exact action only
  EXPECT_TRUE(store_->list_audit(filter).empty());
  filter = {};
  filter.oldest_first = true;
  filter.actor = "ana@example.com";
  filter.limit = 2;
  page = store_->list_audit(filter);
  ASSERT_EQ(page.size(), 2u);
  filter.after_id = page.back().id;
  EXPECT_EQ(store_->list_audit(filter).size(), 1u);

  store_.reset();
  const auto path = dir_ / "flowpilot.db";
  const std::string update = testing::exec_raw_sql(path, "UPDATE audit_log SET actor_email = 'someone-else'");
  EXPECT_NE(update.find("append-only"), std::string::npos) << update;
  const std::string remove = testing::exec_raw_sql(path, "DELETE FROM audit_log");
  EXPECT_NE(remove.find("append-only"), std::string::npos) << remove;
}

}  // namespace
}  // namespace flowpilot::engine
