// google_ads, hubspot, ga4 and slack against the simulated APIs.
#include "connectors/connector_fixture.h"
#include "engine/access/pii.h"

namespace flowpilot::engine::testing {
namespace {

namespace json = boost::json;

TEST_F(ConnectorTest, GoogleAdsReportRefreshesTheTokenAndKeepsMicrosExact) {
  auto status = run_to_end(R"(
id: google-report
steps:
  - id: report
    uses: google_ads.report
    connection: google-main
    with: {customer_id: "123-456-7890", since: "2026-05-01", until: "2026-05-31"}
)");
  ASSERT_EQ(status, RunStatus::succeeded) << error_of("report");
  std::int64_t expected_cost = 0;
  std::int64_t expected_clicks = 0;
  std::int64_t expected_conv_hundredths = 0;
  std::size_t expected_rows = 0;
  for (const auto& r : sim_->dataset().google_rows()) {
    if (r.customer_id != "1234567890" || r.date < "2026-05-01" || r.date > "2026-05-31") continue;
    expected_cost += r.cost_micros;
    expected_clicks += r.clicks;
    expected_conv_hundredths += std::llround(r.conversions * 100);
    ++expected_rows;
  }
  auto out = output_of("report");
  std::int64_t cost = 0;
  std::int64_t clicks = 0;
  std::int64_t conv_hundredths = 0;
  for (const auto& row : out.at("rows").as_array()) {
    cost += micros(row.at("spend"));
    clicks += row.at("clicks").as_int64();
    conv_hundredths += micros(row.at("conversions")) / 10'000;
    EXPECT_EQ(row.at("platform"), "google_ads");
    EXPECT_EQ(row.at("account_id"), "1234567890");
  }
  EXPECT_EQ(out.at("rows").as_array().size(), expected_rows);
  EXPECT_EQ(cost, expected_cost);
  EXPECT_EQ(clicks, expected_clicks);
  EXPECT_EQ(conv_hundredths, expected_conv_hundredths);
  EXPECT_GE(sim_->request_counts()["google_oauth"], 1u) << "the access token came from the refresh grant";
}

TEST_F(ConnectorTest, GoogleAdsQuotaAndExpiredTokensAreHandled) {
  sim_->set_rate_budget(simulator::Vendor::kGoogleAds, {1000, std::chrono::milliseconds(1000)});
  sim_->add_fault(simulator::make_fault("rate_limit", "google_ads", "", 1, 500, 0));
  sim_->add_fault(simulator::make_fault("expired_token", "google_ads", "", 1, 500, 0));
  auto status = run_to_end(R"(
id: google-faults
steps:
  - {id: report, uses: google_ads.report, connection: google-main, with: {customer_id: "9876543210", during: LAST_7_DAYS}}
)");
  ASSERT_EQ(status, RunStatus::succeeded) << error_of("report");
  EXPECT_FALSE(output_of("report").at("rows").as_array().empty());
}

TEST_F(ConnectorTest, GoogleAdsPauseThroughMutateAndQueryErrorsAreExplained) {
  std::string campaign_id;
  for (const auto& c : sim_->dataset().campaigns()) {
    if (c.platform == "google_ads" && c.account_id == "1234567890" && c.status == "ENABLED") {
      campaign_id = c.id;
      break;
    }
  }
  ASSERT_FALSE(campaign_id.empty());
  auto status = run_to_end(R"(
id: google-pause
inputs:
  campaign: {type: string}
steps:
  - {id: pause, uses: google_ads.pause_campaign, connection: google-main,
     with: {customer_id: "1234567890", campaign_id: "${{ inputs.campaign }}"}}
)", json::object{{"campaign", campaign_id}});
  ASSERT_EQ(status, RunStatus::succeeded) << error_of("pause");
  EXPECT_EQ(sim_->campaign(campaign_id)->status, "PAUSED");

  status = run_to_end(R"(
id: google-bad-query
steps:
  - {id: report, uses: google_ads.report, connection: google-main,
     with: {customer_id: "1234567890", query: "SELECT campaign.nme FROM campaign"}}
)");
  ASSERT_EQ(status, RunStatus::failed);
  EXPECT_NE(error_of("report").find("queryError"), std::string::npos) << error_of("report");
}

TEST_F(ConnectorTest, HubSpotDealsPageAndSearchMatchTheDataset) {
  auto status = run_to_end(R"(
id: hubspot-deals
steps:
  - {id: all, uses: hubspot.deals, connection: hubspot-main}
  - {id: won, uses: hubspot.deals, connection: hubspot-main,
     with: {filters: [{property: dealstage, value: closedwon}], since: "2026-05-01", until: "2026-05-31"}}
)");
  ASSERT_EQ(status, RunStatus::succeeded) << error_of("all") << error_of("won");
  const auto& deals = sim_->dataset().deals();
  auto all = output_of("all");
  EXPECT_EQ(all.at("deals").as_array().size(), deals.size());
  std::int64_t expected_amount = 0;
  for (const auto& d : deals) expected_amount += d.amount_cents * 10'000;
  std::int64_t amount = 0;
  for (const auto& d : all.at("deals").as_array()) {
    if (!d.at("amount").is_null()) amount += micros(d.at("amount"));
  }
  EXPECT_EQ(amount, expected_amount);

  // Closed won in May 2026 (UTC), counted independently.
  const std::int64_t may_first = 1'777'593'600'000;  // 2026-05-01T00:00:00Z
  const std::int64_t june_first = 1'780'272'000'000;  // 2026-06-01T00:00:00Z
  std::size_t expected_won = 0;
  for (const auto& d : deals) {
    if (d.dealstage == "closedwon" && d.closedate_ms >= may_first && d.closedate_ms < june_first) ++expected_won;
  }
  auto won = output_of("won");
  EXPECT_EQ(won.at("deals").as_array().size(), expected_won);
  for (const auto& d : won.at("deals").as_array()) EXPECT_EQ(d.at("stage"), "closedwon");
}

TEST_F(ConnectorTest, HubSpotRollingLimitIsWaitedOut) {
  sim_->set_rate_budget(simulator::Vendor::kHubspot, {1000, std::chrono::milliseconds(1000)});
  sim_->add_fault(simulator::make_fault("rate_limit", "hubspot", "", 1, 500, 0));
  auto status = run_to_end(R"(
id: hubspot-limited
steps:
  - {id: contacts, uses: hubspot.contacts, connection: hubspot-main, with: {max_results: 150}}
)");
  ASSERT_EQ(status, RunStatus::succeeded) << error_of("contacts");
  auto out = output_of("contacts");
  EXPECT_EQ(out.at("contacts").as_array().size(), std::min<std::size_t>(150, sim_->dataset().contacts().size()));
  // The step kind marks the contact's personal fields; the run's values are what they hold.
  PiiCatalog pii(registry_);
  const auto& paths = pii.paths_of("hubspot.contacts");
  std::vector<std::string> texts;
  for (const auto& p : paths) texts.push_back(pii_path_text(p));
  EXPECT_NE(std::find(texts.begin(), texts.end(), "contacts[*].email"), texts.end());
  EXPECT_NE(std::find(texts.begin(), texts.end(), "raw[*].properties.phone"), texts.end());
  EXPECT_EQ(pii.field_names(), (std::set<std::string>{"email", "firstname", "lastname", "mobilephone", "phone"}));
  PiiValues values;
  values.collect(paths, out);
  const auto& first = out.at("contacts").at(0).as_object();
  EXPECT_EQ(values.mask(first.at("email")), "[pii]");
  EXPECT_EQ(values.mask(first.at("id")), first.at("id"));
}

TEST_F(ConnectorTest, Ga4SessionsByDateMatchTheDataset) {
  auto status = run_to_end(R"(
id: ga4-report
steps:
  - {id: report, uses: ga4.report, connection: ga4-main,
     with: {start_date: "2026-05-25", end_date: "2026-05-31", dimensions: [date], metrics: [sessions]}}
)");
  ASSERT_EQ(status, RunStatus::succeeded) << error_of("report");
  std::map<std::string, std::int64_t> expected;
  for (const auto& r : sim_->dataset().ga4_rows()) {
    if (r.date >= "2026-05-25" && r.date <= "2026-05-31") expected[r.date] += r.sessions;
  }
  std::map<std::string, std::int64_t> got;
  const auto out = output_of("report");
  for (const auto& row : out.at("rows").as_array()) {
    got[std::string(row.at("date").as_string())] += row.at("sessions").as_int64();
  }
  EXPECT_EQ(got, expected);
}

TEST_F(ConnectorTest, HubSpotWithAnOAuthRefreshTokenGetsItsAccessTokenFromTheTokenEndpoint) {
  namespace cred = simulator::credentials;
  connections_["hubspot-oauth"] = {
      {"token_url", sim_->base_url(simulator::Vendor::kHubspot) + "/oauth/v1/token"},
      {"client_id", cred::kHubspotClientId},
      {"client_secret", cred::kHubspotClientSecret},
      {"refresh_token", cred::kHubspotRefreshToken},
      {"base_url", sim_->base_url(simulator::Vendor::kHubspot)}};
  auto status = run_to_end(R"(
id: hubspot-oauth
steps:
  - {id: deals, uses: hubspot.deals, connection: hubspot-oauth, with: {max_results: 120}}
)");
  ASSERT_EQ(status, RunStatus::succeeded) << error_of("deals");
  EXPECT_EQ(output_of("deals").at("deals").as_array().size(), std::min<std::size_t>(120, sim_->dataset().deals().size()));
  // A wrong refresh token is a connection to fix, said plainly and without retrying.
  connections_["hubspot-oauth"]["refresh_token"] = "revoked-refresh-token";
  status = run_to_end(R"(
id: hubspot-oauth-revoked
steps:
  - {id: deals, uses: hubspot.deals, connection: hubspot-oauth}
)");
  ASSERT_EQ(status, RunStatus::failed);
  EXPECT_NE(error_of("deals").find("invalid_grant"), std::string::npos) << error_of("deals");
  EXPECT_EQ(error_of("deals").find("revoked-refresh-token"), std::string::npos);
  EXPECT_EQ(steps_of(last_run_)["deals"].attempt, 1);
}

TEST_F(ConnectorTest, Ga4PagesThroughEveryRow) {
  auto status = run_to_end(R"(
id: ga4-paged
steps:
  - {id: report, uses: ga4.report, connection: ga4-main,
     with: {start_date: "2026-05-01", end_date: "2026-05-31", dimensions: [date, sessionSourceMedium],
            metrics: [sessions], page_size: 25}}
)");
  ASSERT_EQ(status, RunStatus::succeeded) << error_of("report");
  std::int64_t expected = 0;
  std::set<std::pair<std::string, std::string>> expected_keys;
  for (const auto& r : sim_->dataset().ga4_rows()) {
    if (r.date < "2026-05-01" || r.date > "2026-05-31") continue;
    expected += r.sessions;
    expected_keys.emplace(r.date, r.source + " / " + r.medium);
  }
  const auto out = output_of("report");
  std::int64_t sessions = 0;
  std::set<std::pair<std::string, std::string>> keys;
  for (const auto& row : out.at("rows").as_array()) {
    sessions += row.at("sessions").as_int64();
    keys.emplace(std::string(row.at("date").as_string()), std::string(row.at("sessionSourceMedium").as_string()));
  }
  EXPECT_GT(expected_keys.size(), 25u) << "more rows than one page";
  EXPECT_EQ(keys, expected_keys);
  EXPECT_EQ(sessions, expected);
  EXPECT_EQ(out.at("count").as_int64(), static_cast<std::int64_t>(expected_keys.size()));
}

TEST_F(ConnectorTest, SlackMessagesArriveByWebhookAndByChatPostMessage) {
  auto status = run_to_end(R"(
id: slack-notify
steps:
  - {id: hook, uses: slack.notify, connection: slack-main,
     with: {text: "CPA alert", title: "CPA guardrail",
            kpis: {columns: [campaign, cpa], rows: [[Brand, 41.5]]},
            buttons: [{text: Approve, url: "https://flowpilot.example/a"}]}}
  - {id: post, uses: slack.notify, connection: slack-main, needs: [hook],
     with: {text: "Weekly report", channel: "#marketing-reports"}}
  - {id: archived, uses: slack.notify, connection: slack-main, needs: [post],
     with: {text: "Too late", channel: "#old-campaigns"}}
)");
  ASSERT_EQ(status, RunStatus::failed);
  EXPECT_NE(error_of("archived").find("is_archived"), std::string::npos) << error_of("archived");
  auto messages = sim_->slack_messages();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].via, "webhook");
  EXPECT_EQ(messages[0].text, "CPA alert");
  EXPECT_NE(messages[0].blocks_json.find("Approve"), std::string::npos);
  EXPECT_EQ(messages[1].via, "chat.postMessage");
  EXPECT_EQ(messages[1].channel, "C0SIMREPORT");
  EXPECT_EQ(output_of("post").at("channel"), "C0SIMREPORT");
}

}  // namespace
}  // namespace flowpilot::engine::testing
