// meta_ads against the simulated Meta Marketing API.
#include "connectors/connector_fixture.h"

namespace flowpilot::engine::testing {
namespace {

namespace json = boost::json;

struct Totals {
  std::int64_t spend_micros = 0;
  std::int64_t purchases = 0;
  std::int64_t revenue_micros = 0;
  std::set<std::pair<std::string, std::string>> campaign_days;
};

Totals dataset_totals(const simulator::Dataset& data, const std::string& account, const std::string& since,
                      const std::string& until) {
  Totals t;
  for (const auto& r : data.meta_rows()) {
    if (r.account_id != account || r.date < since || r.date > until) continue;
    t.spend_micros += r.spend_cents * 10'000;
    t.purchases += r.purchases;
    t.revenue_micros += r.purchase_value_cents * 10'000;
    t.campaign_days.emplace(r.campaign_id, r.date);
  }
  return t;
}

TEST_F(ConnectorTest, MetaInsightsPageThroughEveryCampaignDayWithExactTotals) {
  auto status = run_to_end(R"(
id: meta-insights
steps:
  - id: insights
    uses: meta_ads.insights
    connection: meta-main
    with: {account_id: act_1001, time_range: {since: "2026-05-02", until: "2026-05-31"}, page_size: 25}
)");
  ASSERT_EQ(status, RunStatus::succeeded) << error_of("insights");
  auto out = output_of("insights");
  const Totals expected = dataset_totals(sim_->dataset(), "act_1001", "2026-05-02", "2026-05-31");
  Totals got;
  for (const auto& row : out.at("rows").as_array()) {
    const auto& r = row.as_object();
    EXPECT_EQ(r.at("platform"), "meta");
    EXPECT_EQ(r.at("account_id"), "act_1001");
    EXPECT_EQ(r.at("currency"), "EUR");
    got.spend_micros += micros(r.at("spend"));
    got.purchases += micros(r.at("conversions")) / 1'000'000;
    got.revenue_micros += micros(r.at("revenue"));
    EXPECT_TRUE(got.campaign_days.emplace(std::string(r.at("campaign_id").as_string()),
                                          std::string(r.at("date").as_string())).second)
        << "a campaign-day came twice: " << json::serialize(row);
  }
  EXPECT_EQ(got.spend_micros, expected.spend_micros);
  EXPECT_EQ(got.purchases, expected.purchases);
  EXPECT_EQ(got.revenue_micros, expected.revenue_micros);
  EXPECT_EQ(got.campaign_days, expected.campaign_days);
  EXPECT_GT(out.at("pages").as_int64(), 1) << "page_size 25 must have needed several pages";
}

TEST_F(ConnectorTest, MetaThrottlingAndServerErrorsAreRetriedWithinTheStep) {
  // Windows of a second, so that the waits the answers ask for stay short.
  sim_->set_rate_budget(simulator::Vendor::kMeta, {1000, std::chrono::milliseconds(1000)});
  sim_->add_fault(simulator::make_fault("rate_limit", "meta", "", 2, 500, 0));
  sim_->add_fault(simulator::make_fault("server_error", "meta", "", 1, 503, 0));
  auto status = run_to_end(R"(
id: meta-throttled
steps:
  - id: insights
    uses: meta_ads.insights
    connection: meta-main
    with: {account_id: act_1002, date_preset: last_7d}
)");
  ASSERT_EQ(status, RunStatus::succeeded) << error_of("insights");
  EXPECT_EQ(steps_of(last_run_)["insights"].attempt, 1) << "retried inside the step, not by the engine";
  EXPECT_FALSE(output_of("insights").at("rows").as_array().empty());
  EXPECT_GE(sim_->request_counts()["meta"], 4u);
}

TEST_F(ConnectorTest, MetaPauseIsPlannedInADryRunAndStaysPausedWhenApplied) {
  const std::string campaign = "120200001";
  ASSERT_EQ(sim_->campaign(campaign)->status, "ACTIVE");
  auto wf = load(R"(
id: meta-pause
steps:
  - id: pause
    uses: meta_ads.pause_campaign
    connection: meta-main
    with: {campaign_id: "120200001", account_id: act_1001}
)");
  ASSERT_TRUE(wf);
  RunRequest dry;
  dry.workflow = wf;
  dry.dry_run = true;
  last_run_ = executor_->start(std::move(dry)).run_id;
  ASSERT_EQ(executor_->wait(last_run_, std::chrono::seconds(30)), RunStatus::succeeded) << error_of("pause");
  const auto plan = output_of("pause").at("plan").as_array().at(0).as_object();
  EXPECT_EQ(plan.at("from"), "ACTIVE");
  EXPECT_EQ(plan.at("to"), "PAUSED");
  EXPECT_EQ(sim_->campaign(campaign)->status, "ACTIVE") << "a plan changes nothing";

  last_run_ = start(wf);
  ASSERT_EQ(executor_->wait(last_run_, std::chrono::seconds(30)), RunStatus::succeeded) << error_of("pause");
  EXPECT_EQ(sim_->campaign(campaign)->status, "PAUSED");

  // The campaign list reads the change back.
  ASSERT_EQ(run_to_end(R"(
id: meta-campaigns
steps:
  - {id: list, uses: meta_ads.campaigns, connection: meta-main, with: {account_id: act_1001}}
)"), RunStatus::succeeded) << error_of("list");
  bool seen = false;
  const auto listed = output_of("list");
  for (const auto& c : listed.at("campaigns").as_array()) {
    if (c.at("id") == json::value(campaign)) {
      seen = true;
      EXPECT_EQ(c.at("status"), "PAUSED");
    }
  }
  EXPECT_TRUE(seen);
}

TEST_F(ConnectorTest, MetaRefusedTokenFailsWithWhatToDoAndNeverShowsTheToken) {
  sim_->add_fault(simulator::make_fault("expired_token", "meta", "", 0, 500, 0));
  auto status = run_to_end(R"(
id: meta-expired
steps:
  - {id: insights, uses: meta_ads.insights, connection: meta-main, with: {account_id: act_1001}}
)");
  ASSERT_EQ(status, RunStatus::failed);
  const std::string error = error_of("insights");
  EXPECT_NE(error.find("190"), std::string::npos) << error;
  EXPECT_NE(error.find("replace the token"), std::string::npos) << error;
  EXPECT_EQ(error.find(std::string(simulator::credentials::kMetaSystemUserToken)), std::string::npos);
}

TEST_F(ConnectorTest, MetaBudgetChangesInMinorUnits) {
  auto status = run_to_end(R"(
id: meta-budget
steps:
  - id: budget
    uses: meta_ads.set_budget
    connection: meta-main
    with: {campaign_id: "120200002", daily_budget: 95.5}
)");
  ASSERT_EQ(status, RunStatus::succeeded) << error_of("budget");
  EXPECT_EQ(sim_->campaign("120200002")->daily_budget, 9550);
}

TEST_F(ConnectorTest, TheConnectionCanComeFromAnInput) {
  constexpr const char* kTemplate = R"(
id: meta-chosen
inputs:
  meta: {type: string, description: The Meta connection to read}
steps:
  - {id: list, uses: meta_ads.campaigns, connection: "${{ inputs.meta }}", with: {account_id: act_1002}}
)";
  ASSERT_EQ(run_to_end(kTemplate, json::object{{"meta", "meta-main"}}), RunStatus::succeeded) << error_of("list");
  EXPECT_FALSE(output_of("list").at("campaigns").as_array().empty());
  ASSERT_EQ(run_to_end(kTemplate, json::object{{"meta", "nowhere"}}), RunStatus::failed);
  EXPECT_NE(error_of("list").find("connection `nowhere` is not defined"), std::string::npos) << error_of("list");
  ASSERT_EQ(run_to_end(R"(
id: meta-unnamed
steps:
  - {id: list, uses: meta_ads.campaigns, connection: "${{ 42 }}", with: {account_id: act_1002}}
)"), RunStatus::failed);
  EXPECT_NE(error_of("list").find("field `connection`"), std::string::npos) << error_of("list");
}

}  // namespace
}  // namespace flowpilot::engine::testing
