// The recommendation_decisions table: a decision round-trips, is found only by its own id, and a
// second decision about the same recommendation is refused whole.
#include "engine/store/sqlite_store.h"
#include "store_under_test.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

namespace flowpilot::engine {
namespace {

namespace fs = std::filesystem;

class RecommendationDecisionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = fs::temp_directory_path() / ("flowpilot-reco-table-" + std::to_string(rd()));
    fs::create_directories(dir_);
    store_ = ::flowpilot::engine::testing::open_store_under_test(dir_ / "flowpilot.db");
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  CommitResult put(RecommendationDecisionRecord record) {
    WriteBatch batch;
    batch.add(PutRecommendationDecision{std::move(record)});
    return store_->commit(std::move(batch));
  }
  static RecommendationDecisionRecord decision(std::string id, std::string status) {
    RecommendationDecisionRecord r;
    r.id = std::move(id);
    r.status = std::move(status);
    r.rule = "pause_high_cpa";
    r.action = "pause";
    r.platform = "meta";
    r.account_id = "act_1";
    r.campaign_id = "c1";
    r.run_id = "run-1";
    r.decided_by = "ana@example.com";
    r.comment = "too dear";
    r.decided_at = 42;
    return r;
  }
  fs::path dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(RecommendationDecisionsTest, ADecisionRoundTripsAndIsFoundByItsIdOnly) {
  ASSERT_FALSE(put(decision("r_1", "accepted")).error);
  const auto found = store_->get_recommendation_decisions({"r_0", "r_1", "r_2"});
  ASSERT_EQ(found.size(), 1u);
  const auto& d = found.front();
  EXPECT_EQ(d.id, "r_1");
  EXPECT_EQ(d.status, "accepted");
  EXPECT_EQ(d.rule, "pause_high_cpa");
  EXPECT_EQ(d.action, "pause");
  EXPECT_EQ(d.platform, "meta");
  EXPECT_EQ(d.account_id, "act_1");
  EXPECT_EQ(d.campaign_id, "c1");
  EXPECT_EQ(d.run_id, "run-1");
  EXPECT_EQ(d.decided_by, "ana@example.com");
  EXPECT_EQ(d.comment, "too dear");
  EXPECT_EQ(d.decided_at, 42);
  EXPECT_TRUE(store_->get_recommendation_decisions({}).empty());
}

TEST_F(RecommendationDecisionsTest, ASecondDecisionIsRefusedAndTheFirstStands) {
  ASSERT_FALSE(put(decision("r_1", "accepted")).error);
  EXPECT_TRUE(put(decision("r_1", "dismissed")).error);
  EXPECT_EQ(store_->get_recommendation_decisions({"r_1"}).front().status, "accepted");
  EXPECT_TRUE(put(decision("r_2", "maybe")).error) << "only accepted or dismissed";
}

}  // namespace
}  // namespace flowpilot::engine
