// The warehouse steps through the real engine and host service: loads are idempotent, restated
// days overwrite, malformed rows are refused with their path, and reads sum exactly.
#include "engine/runtime/runtime_fixture.h"

namespace flowpilot::engine::testing {
namespace {

namespace json = boost::json;

constexpr const char* kLoad = R"(
id: load-facts
inputs:
  rows: {type: array}
steps:
  - {id: load, uses: warehouse.upsert_facts, with: {rows: "${{ inputs.rows }}"}}
  - {id: totals, uses: warehouse.facts, needs: [load], with: {group_by: [campaign_id]}}
)";

json::array rows(double may2_spend) {
  return json::parse(R"([
    {"platform":"meta","account_id":"act_1","campaign_id":"c1","campaign_name":"Brand","date":"2026-05-01",
     "spend":0.1,"impressions":100,"clicks":5,"conversions":1,"revenue":2.5,"currency":"EUR"},
    {"platform":"meta","account_id":"act_1","campaign_id":"c1","campaign_name":"Brand","date":"2026-05-02",
     "spend":)" + json::serialize(json::value(may2_spend)) + R"(,"impressions":100,"clicks":5,"conversions":0.5,"revenue":"3.10","currency":"EUR"},
    {"platform":"meta","account_id":"act_1","campaign_id":"c2","campaign_name":"Video","date":"2026-05-01",
     "spend":7,"impressions":1000,"clicks":2,"conversions":0,"revenue":0,"currency":"EUR"}])").as_array();
}

class WarehouseStepsTest : public RuntimeTest {
 protected:
  std::string step_output(const std::string& step) { return json::serialize(steps_of(last_run_)[step].output); }
};

TEST_F(WarehouseStepsTest, LoadsAreIdempotentAndRestatedDaysOverwrite) {
  ASSERT_EQ(run_to_end(kLoad, json::object{{"rows", rows(0.2)}}), RunStatus::succeeded)
      << store_->get_run(last_run_)->error;
  auto steps = steps_of(last_run_);
  EXPECT_EQ(steps["load"].output.at("inserted"), json::value(3));
  // 0.1 + 0.2 is exactly 0.3 here: amounts are added as micros.
  const auto& totals = steps["totals"].output.at("rows").as_array();
  ASSERT_EQ(totals.size(), 2u);
  EXPECT_EQ(totals[0].at("campaign_id"), "c1");
  EXPECT_EQ(totals[0].at("spend"), json::value(0.3));
  EXPECT_EQ(totals[0].at("revenue"), json::value(5.6));
  EXPECT_EQ(totals[0].at("conversions"), json::value(1.5));
  EXPECT_EQ(totals[0].at("facts"), json::value(2));

  ASSERT_EQ(run_to_end(kLoad, json::object{{"rows", rows(0.2)}}), RunStatus::succeeded);
  EXPECT_EQ(steps_of(last_run_)["load"].output.at("unchanged"), json::value(3)) << step_output("load");

  ASSERT_EQ(run_to_end(kLoad, json::object{{"rows", rows(0.25)}}), RunStatus::succeeded);
  steps = steps_of(last_run_);
  EXPECT_EQ(steps["load"].output.at("updated"), json::value(1));
  EXPECT_EQ(steps["totals"].output.at("rows").as_array()[0].at("spend"), json::value(0.35));
}

TEST_F(WarehouseStepsTest, MalformedRowsAreRefusedWithTheirPath) {
  auto bad = rows(0.2);
  bad[1].as_object()["spend"] = "12,5";
  ASSERT_EQ(run_to_end(kLoad, json::object{{"rows", bad}}), RunStatus::failed);
  EXPECT_NE(steps_of(last_run_)["load"].error.find(R"(rows[1].spend is "12,5", not an amount)"), std::string::npos)
      << steps_of(last_run_)["load"].error;
  bad = rows(0.2);
  bad[2].as_object()["date"] = "2026-13-01x";
  ASSERT_EQ(run_to_end(kLoad, json::object{{"rows", bad}}), RunStatus::failed);
  EXPECT_NE(steps_of(last_run_)["load"].error.find("rows[2].date"), std::string::npos);
  // Nothing of a refused batch was stored.
  EXPECT_TRUE(warehouse_->facts({}).empty());
}

TEST_F(WarehouseStepsTest, DealsLoadAndFilterByCloseDate) {
  auto status = run_to_end(R"(
id: deals
steps:
  - id: load
    uses: warehouse.upsert_deals
    with:
      deals:
        - {id: "1", amount: 1500.05, stage: closedwon, close_date: "2026-05-03T00:00:00Z", channel: PAID_SEARCH}
        - {id: "2", amount: null, stage: contractsent}
  - {id: won, uses: warehouse.deals, needs: [load], with: {closed_since: "2026-05-01", stages: [closedwon]}}
)");
  ASSERT_EQ(status, RunStatus::succeeded) << store_->get_run(last_run_)->error;
  auto won = steps_of(last_run_)["won"].output.at("deals").as_array();
  ASSERT_EQ(won.size(), 1u);
  EXPECT_EQ(won[0].at("amount"), json::value(1500.05));
  EXPECT_EQ(won[0].at("close_date"), "2026-05-03");
  EXPECT_EQ(won[0].at("source"), "hubspot");
}

TEST_F(WarehouseStepsTest, CampaignStatusesLoadFromListsAndPauses) {
  // The shapes meta_ads.campaigns, google_ads.campaigns and a pause answer with.
  auto status = run_to_end(R"(
id: campaigns
steps:
  - id: meta
    uses: warehouse.upsert_campaigns
    with:
      platform: meta
      campaigns:
        - {id: "11", name: Brand, status: ACTIVE, effective_status: ACTIVE, account_id: act_1}
        - {id: "12", name: Video, status: PAUSED, account_id: act_1}
  - id: google
    uses: warehouse.upsert_campaigns
    with:
      platform: google_ads
      campaigns: [{id: "21", name: Search, status: ENABLED, customer_id: "123"}]
  - id: paused
    uses: warehouse.upsert_campaigns
    needs: [meta]
    with: {platform: meta, account_id: act_1, campaigns: [{campaign_id: "11", status: PAUSED}]}
  - {id: read, uses: warehouse.campaigns, needs: [paused, google]}
)");
  ASSERT_EQ(status, RunStatus::succeeded) << store_->get_run(last_run_)->error;
  auto steps = steps_of(last_run_);
  EXPECT_EQ(steps["meta"].output.at("inserted"), json::value(2));
  EXPECT_EQ(steps["paused"].output.at("updated"), json::value(1));
  const auto& campaigns = steps["read"].output.at("campaigns").as_array();
  ASSERT_EQ(campaigns.size(), 3u) << json::serialize(campaigns);
  EXPECT_EQ(campaigns[0].at("platform"), "google_ads");
  EXPECT_EQ(campaigns[0].at("account_id"), "123");
  EXPECT_EQ(campaigns[0].at("status"), "active");
  EXPECT_EQ(campaigns[1].at("campaign_id"), "11");
  EXPECT_EQ(campaigns[1].at("name"), "Brand");
  EXPECT_EQ(campaigns[1].at("status"), "paused");
  EXPECT_EQ(campaigns[2].at("status"), "paused");
}

TEST_F(WarehouseStepsTest, CampaignsWithoutAccountOrStatusAreRefusedWithTheirPath) {
  auto status = run_to_end(R"(
id: campaigns
steps:
  - id: load
    uses: warehouse.upsert_campaigns
    with:
      platform: meta
      campaigns: [{id: "11", status: ACTIVE, account_id: act_1}, {id: "12", status: ACTIVE}]
)");
  ASSERT_EQ(status, RunStatus::failed);
  EXPECT_NE(steps_of(last_run_)["load"].error.find("campaigns[1].account_id is missing"), std::string::npos)
      << steps_of(last_run_)["load"].error;
  EXPECT_TRUE(warehouse_->campaigns({}).empty());
}

}  // namespace
}  // namespace flowpilot::engine::testing
