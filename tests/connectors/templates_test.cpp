// The templates in workflows/ run end to end against the simulator: real connectors, the
// warehouse, the analytics steps, approvals and Slack. Expected figures come from the simulator's
// dataset.
#include "connectors/connector_fixture.h"

#include <fstream>
#include <sstream>

namespace flowpilot::engine::testing {
namespace {

namespace json = boost::json;

class TemplateTest : public ConnectorTest {
 protected:
  std::optional<std::chrono::sys_days> simulator_today() const override { return std::nullopt; }

  std::shared_ptr<const Workflow> load_template(const std::string& name) {
    auto result = load_workflow_file(std::string(FLOWPILOT_SOURCE_DIR) + "/workflows/" + name, context());
    for (const auto& d : result.diagnostics) ADD_FAILURE() << d.to_string();
    return result.workflow;
  }

  RunStatus run_template(const std::string& name, json::object inputs = {}) {
    auto wf = load_template(name);
    if (!wf) return RunStatus::failed;
    last_run_ = start(wf, std::move(inputs));
    auto status = executor_->wait(last_run_, std::chrono::seconds(90));
    EXPECT_TRUE(status.has_value()) << "run did not settle in time";
    return status.value_or(RunStatus::running);
  }

  std::string failure() {
    std::string out = store_->get_run(last_run_)->error;
    for (const auto& [id, s] : steps_of(last_run_)) {
      if (!s.error.empty()) out += "\n  " + id + ": " + s.error;
    }
    return out;
  }
};

TEST_F(TemplateTest, UnifiedDailySyncLoadsBothPlatformsOnceEvenWhenRunTwice) {
  ASSERT_EQ(run_template("unified-daily-sync.yaml"), RunStatus::succeeded) << failure();
  const auto first = steps_of(last_run_);
  const auto meta_loaded = first.at("load_meta").output.at("inserted").as_int64();
  const auto google_loaded = first.at("load_google").output.at("inserted").as_int64();
  EXPECT_GT(meta_loaded, 0);
  EXPECT_GT(google_loaded, 0);
  FactQuery all;
  EXPECT_EQ(static_cast<std::int64_t>(warehouse_->facts(all).size()), meta_loaded + google_loaded);
  // Spend in the warehouse equals the dataset's for the same days.
  std::set<std::string> days;
  for (const auto& f : warehouse_->facts(all)) days.insert(f.date);
  std::int64_t expected = 0;
  for (const auto& r : sim_->dataset().meta_rows()) {
    if (r.account_id == "act_1001" && days.count(r.date) > 0) expected += r.spend_cents * 10'000;
  }
  for (const auto& r : sim_->dataset().google_rows()) {
    if (r.customer_id == "1234567890" && days.count(r.date) > 0) expected += r.cost_micros;
  }
  all.grouped = true;
  const auto totals = warehouse_->facts(all);
  ASSERT_EQ(totals.size(), 1u) << "both accounts are in EUR";
  EXPECT_EQ(totals[0].spend_micros, expected);

  // Every campaign of both accounts has its status recorded, in the warehouse's words.
  const auto campaigns = warehouse_->campaigns({});
  std::size_t expected_campaigns = 0;
  for (const auto& c : sim_->campaigns()) {
    if (c.account_id == "act_1001" || c.account_id == "1234567890") ++expected_campaigns;
  }
  EXPECT_EQ(campaigns.size(), expected_campaigns);
  for (const auto& c : campaigns) {
    EXPECT_TRUE(c.status == "active" || c.status == "paused") << c.campaign_id << " " << c.status;
    EXPECT_FALSE(c.name.empty()) << c.campaign_id;
  }

  ASSERT_EQ(run_template("unified-daily-sync.yaml"), RunStatus::succeeded) << failure();
  const auto again = steps_of(last_run_);
  EXPECT_EQ(again.at("load_meta").output.at("unchanged").as_int64(), meta_loaded);
  EXPECT_EQ(again.at("load_google").output.at("inserted").as_int64(), 0);
}

TEST_F(TemplateTest, WeeklyKpiReportPostsATableToSlack) {
  ASSERT_EQ(run_template("weekly-kpi-report.yaml"), RunStatus::succeeded) << failure();
  const auto kpis = steps_of(last_run_).at("kpis").output.at("rows").as_array();
  ASSERT_EQ(kpis.size(), 2u);  // meta and google_ads, both in EUR
  for (const auto& row : kpis) EXPECT_TRUE(row.as_object().contains("changes")) << json::serialize(row);
  const auto messages = sim_->slack_messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].channel, "C0SIMREPORT");
  EXPECT_NE(messages[0].blocks_json.find("Weekly marketing KPIs"), std::string::npos);
  EXPECT_NE(messages[0].blocks_json.find("google_ads"), std::string::npos);
}

TEST_F(TemplateTest, CpaGuardrailAsksThenPausesOnlyTheCampaignsOverTheTarget) {
  // A target every converting campaign misses on some days, so that the guardrail has work.
  ASSERT_EQ(run_template("cpa-guardrail.yaml", json::object{{"target_cpa", 5}, {"days", 1}}),
            RunStatus::running)
      << failure();
  auto steps = steps_of(last_run_);
  ASSERT_EQ(steps.at("approve").status, StepStatus::waiting) << failure();
  const auto breaches = steps.at("guard").output.at("breaches").as_array();
  ASSERT_FALSE(breaches.empty());
  ASSERT_EQ(sim_->slack_messages().size(), 1u) << "the proposal went to Slack before the approval";
  for (const auto& c : sim_->campaigns()) {
    if (c.platform == "meta") {
      EXPECT_NE(c.status, "PAUSED") << "nothing is paused before approval: " << c.id;
    }
  }
  executor_->decide(last_run_, "approve", true, "ana@example.com", "go");
  ASSERT_EQ(executor_->wait(last_run_, std::chrono::seconds(60)), RunStatus::succeeded) << failure();
  std::set<std::string> breached;
  for (const auto& b : breaches) breached.insert(std::string(b.at("campaign_id").as_string()));
  for (const auto& c : sim_->campaigns()) {
    if (c.platform != "meta" || c.account_id != "act_1001") continue;
    if (breached.count(c.id) > 0) {
      EXPECT_EQ(c.status, "PAUSED") << c.id;
    } else {
      EXPECT_NE(c.status, "PAUSED") << c.id << " was not over the target";
    }
  }
  EXPECT_EQ(sim_->slack_messages().size(), 2u);
  // The pauses are recorded in the warehouse, where the dashboard shows them.
  const auto recorded = warehouse_->campaigns({{"meta"}, {"act_1001"}, {}});
  ASSERT_EQ(recorded.size(), breached.size());
  for (const auto& c : recorded) {
    EXPECT_EQ(breached.count(c.campaign_id), 1u) << c.campaign_id;
    EXPECT_EQ(c.status, "paused") << c.campaign_id;
  }
}

TEST_F(TemplateTest, RecommendationPausePausesTheCampaignOnItsPlatformAndTellsSlack) {
  std::string meta_campaign, google_campaign, google_customer;
  for (const auto& c : sim_->campaigns()) {
    if (c.platform == "meta" && c.account_id == "act_1001" && meta_campaign.empty()) meta_campaign = c.id;
    if (c.platform == "google_ads" && google_campaign.empty()) {
      google_campaign = c.id;
      google_customer = c.account_id;
    }
  }
  ASSERT_FALSE(meta_campaign.empty());
  ASSERT_FALSE(google_campaign.empty());
  ASSERT_EQ(run_template("recommendation-pause.yaml",
                         json::object{{"platform", "meta"}, {"account_id", "act_1001"},
                                      {"campaign_id", meta_campaign}, {"campaign_name", "Prospecting"},
                                      {"explanation", "CPA 25% above target."},
                                      {"accepted_by", "ana@example.com"}}),
            RunStatus::succeeded)
      << failure();
  ASSERT_EQ(run_template("recommendation-pause.yaml",
                         json::object{{"platform", "google_ads"}, {"account_id", google_customer},
                                      {"campaign_id", google_campaign}}),
            RunStatus::succeeded)
      << failure();
  for (const auto& c : sim_->campaigns()) {
    const bool chosen = c.id == meta_campaign || c.id == google_campaign;
    EXPECT_EQ(c.status == "PAUSED", chosen) << c.platform << " " << c.id << " " << c.status;
  }
  const auto recorded = warehouse_->campaigns({});
  ASSERT_EQ(recorded.size(), 2u);
  EXPECT_EQ(recorded[0].campaign_id, google_campaign);
  EXPECT_EQ(recorded[0].account_id, google_customer);
  EXPECT_EQ(recorded[1].campaign_id, meta_campaign);
  EXPECT_EQ(recorded[1].account_id, "act_1001");
  for (const auto& c : recorded) EXPECT_EQ(c.status, "paused") << c.campaign_id;
  const auto messages = sim_->slack_messages();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_NE(messages[0].text.find("accepted by ana@example.com: CPA 25% above target."), std::string::npos)
      << messages[0].text;
  EXPECT_NE(messages[1].text.find("Google Ads campaign"), std::string::npos) << messages[1].text;
}

TEST_F(TemplateTest, DailyAnomalyDigestFindsTheSeededSpendSpike) {
  ASSERT_EQ(run_template("daily-anomaly-digest.yaml", json::object{{"days", 14}}), RunStatus::succeeded)
      << failure();
  const simulator::Scenario* spike = nullptr;
  for (const auto& s : sim_->dataset().scenarios()) {
    if (s.name == "spend_spike") spike = &s;
  }
  ASSERT_NE(spike, nullptr);
  bool found = false;
  const auto steps = steps_of(last_run_);
  for (const auto& a : steps.at("anomalies").output.at("anomalies").as_array()) {
    const auto& group = a.at("group").as_object();
    const auto* campaign = group.if_contains("campaign_id");
    found = found || (campaign != nullptr && *campaign == json::value(spike->campaign_id) &&
                      a.at("date") == json::value(spike->first_date));
  }
  if (spike->account_id == "act_1001" || spike->account_id == "1234567890") {
    EXPECT_TRUE(found) << "the spike of " << spike->campaign_id << " on " << spike->first_date;
  }
  ASSERT_EQ(sim_->slack_messages().size(), 1u);
}

TEST_F(TemplateTest, HubSpotRevenueAndCacByChannel) {
  ASSERT_EQ(run_template("hubspot-revenue-cac.yaml"), RunStatus::succeeded) << failure();
  const auto steps = steps_of(last_run_);
  const auto revenue = steps.at("revenue").output.at("rows").as_array();
  std::int64_t won = 0;
  for (const auto& r : revenue) won += r.at("customers").as_int64();
  EXPECT_EQ(won, static_cast<std::int64_t>(steps.at("deals").output.at("deals").as_array().size()));
  EXPECT_TRUE(steps.at("cac").output.at("rows").is_array());
}

TEST_F(TemplateTest, CsvSpendUploadLoadsCheckedRowsAndRefusesDuplicates) {
  ASSERT_EQ(run_template("csv-spend-upload.yaml"), RunStatus::succeeded) << failure();
  EXPECT_EQ(steps_of(last_run_).at("load").output.at("inserted"), json::value(3));
  const std::string duplicated =
      "date,platform,account_id,campaign_id,campaign_name,spend,impressions,clicks,conversions,revenue,currency\n"
      "2026-05-01,tiktok,adv-7001,tt-1,A,1.00,1,1,0,0,EUR\n"
      "2026-05-01,tiktok,adv-7001,tt-1,A,2.00,1,1,0,0,EUR\n";
  ASSERT_EQ(run_template("csv-spend-upload.yaml", json::object{{"csv", duplicated}}), RunStatus::failed);
  EXPECT_NE(steps_of(last_run_).at("check").error.find("unique"), std::string::npos) << failure();
  EXPECT_EQ(steps_of(last_run_).at("load").status, StepStatus::skipped);
}

}  // namespace
}  // namespace flowpilot::engine::testing
