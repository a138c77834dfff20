// Token renewal, rate-limit answers, error bodies and raw output of the connectors that the other
// connector tests leave out, against the simulated APIs through the real engine and plugins.
#include "connectors/connector_fixture.h"
#include "engine/connections/connections.h"

#include <algorithm>

namespace flowpilot::engine::testing {
namespace {

namespace json = boost::json;
namespace cred = simulator::credentials;

constexpr const char* kExchangeRoute = "meta GET /{version}/oauth/access_token";

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Steps read their connection from an encrypted ConnectionService over the test's store, and the
// plugin host stores renewed tokens there, as `flowpilot server` does.
class StoredConnectionTest : public ConnectorTest {
 protected:
  void SetUp() override {
    ConnectorTest::SetUp();
    service_ = std::make_unique<ConnectionService>(*store_, keyring_);
    plugins_->on_token_renewed([this](const std::string& name, const RenewedToken& renewed) {
      ConnectionInput input;
      input.name = name;
      input.fields["access_token"] = renewed.access_token;
      input.fields["token_expires_at"] = std::to_string(
          std::chrono::duration_cast<std::chrono::seconds>(renewed.expires_at.time_since_epoch())
              .count());
      service_->update(input);
    });
    executor_.reset();
    ExecutorOptions options;
    options.connections = [this](std::string_view name) {
      return service_->credentials(std::string(name));
    };
    executor_ = make_executor(options);
  }
  void TearDown() override {
    executor_.reset();
    plugins_->on_token_renewed(nullptr);
    service_.reset();
    ConnectorTest::TearDown();
  }

  // A Meta connection that may renew its token; it expires `days_left` days from now.
  void add_meta(const std::string& name, std::int64_t days_left) {
    ConnectionInput input;
    input.name = name;
    input.type = "meta_ads";
    input.fields["access_token"] = std::string(cred::kMetaSystemUserToken);
    input.fields["app_id"] = std::string(cred::kMetaAppId);
    input.fields["app_secret"] = std::string(cred::kMetaAppSecret);
    input.fields["base_url"] = sim_->base_url(simulator::Vendor::kMeta);
    input.fields["token_expires_at"] = std::to_string(unix_now() + days_left * 86'400);
    service_->add(input);
  }
  std::string stored(const std::string& name, const std::string& field) {
    auto credentials = service_->credentials(name);
    if (!credentials) return {};
    const auto* v = credentials->if_contains(field);
    return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
  }

  Keyring keyring_{std::vector<MasterKey>{Keyring::generate_key()}};
  std::unique_ptr<ConnectionService> service_;
};

TEST_F(StoredConnectionTest, MetaExpiredTokenIsExchangedAndTheStoredConnectionKeepsTheNewOne) {
  add_meta("meta-renewing", 30);
  // The API refuses the token once, as when it expired earlier than the connection said.
  sim_->add_fault(simulator::make_fault("expired_token", "meta", "/v25.0/act_1001/insights", 1, 500, 0));
  auto status = run_to_end(R"(
id: meta-renewed
steps:
  - {id: insights, uses: meta_ads.insights, connection: meta-renewing,
     with: {account_id: act_1001, date_preset: last_7d}}
)");
  ASSERT_EQ(status, RunStatus::succeeded) << error_of("insights");
  EXPECT_FALSE(output_of("insights").at("rows").as_array().empty());
  EXPECT_EQ(steps_of(last_run_)["insights"].attempt, 1) << "renewed inside the step";
  EXPECT_EQ(sim_->request_counts()[kExchangeRoute], 1u);

  // The stored connection holds the exchanged token, sealed, and its new expiry (60 days).
  const std::string token = stored("meta-renewing", "access_token");
  EXPECT_NE(token, cred::kMetaSystemUserToken);
  EXPECT_EQ(token.rfind("EAASim", 0), 0u) << "a token the simulator issued";
  const std::int64_t expires = std::stoll(stored("meta-renewing", "token_expires_at"));
  EXPECT_NEAR(static_cast<double>(expires), static_cast<double>(unix_now() + 60 * 86'400), 120.0);
  const auto summary = service_->get("meta-renewing");
  ASSERT_TRUE(summary.has_value());
  EXPECT_FALSE(summary->config.contains("access_token")) << "the token stays a sealed secret";

  // The next run uses the stored token as it is: the simulator accepts it, nothing is exchanged.
  status = run_to_end(R"(
id: meta-renewed-again
steps:
  - {id: insights, uses: meta_ads.insights, connection: meta-renewing,
     with: {account_id: act_1002, date_preset: last_7d}}
)");
  ASSERT_EQ(status, RunStatus::succeeded) << error_of("insights");
  EXPECT_EQ(sim_->request_counts()[kExchangeRoute], 1u);
}

TEST_F(StoredConnectionTest, MetaTokenWithLessThanAWeekLeftIsRenewedBeforeItIsUsed) {
  add_meta("meta-expiring", 3);
  add_meta("meta-fresh", 20);
  auto status = run_to_end(R"(
id: meta-expiring
steps:
  - {id: expiring, uses: meta_ads.campaigns, connection: meta-expiring, with: {account_id: act_1001}}
  - {id: fresh, uses: meta_ads.campaigns, connection: meta-fresh, with: {account_id: act_1001}}
)");
  ASSERT_EQ(status, RunStatus::succeeded) << error_of("expiring") << error_of("fresh");
  EXPECT_EQ(sim_->request_counts()[kExchangeRoute], 1u);
  EXPECT_NE(stored("meta-expiring", "access_token"), cred::kMetaSystemUserToken);
  EXPECT_EQ(stored("meta-fresh", "access_token"), cred::kMetaSystemUserToken);
}

TEST_F(StoredConnectionTest, MetaTokenThatCannotBeExchangedFailsWithWhatToDo) {
  ConnectionInput input;
  input.name = "meta-wrong-app";
  input.type = "meta_ads";
  input.fields["access_token"] = std::string(cred::kMetaSystemUserToken);
  input.fields["app_id"] = std::string(cred::kMetaAppId);
  input.fields["app_secret"] = "not-the-app-secret";
  input.fields["base_url"] = sim_->base_url(simulator::Vendor::kMeta);
  input.fields["token_expires_at"] = std::to_string(unix_now() + 30 * 86'400);
  service_->add(input);
  sim_->add_fault(simulator::make_fault("expired_token", "meta", "/v25.0/act_1001/insights", 0, 500, 0));
  auto status = run_to_end(R"(
id: meta-wrong-app
steps:
  - {id: insights, uses: meta_ads.insights, connection: meta-wrong-app, with: {account_id: act_1001}}
)");
  ASSERT_EQ(status, RunStatus::failed);
  const std::string error = error_of("insights");
  EXPECT_NE(error.find("app_id and app_secret"), std::string::npos) << error;
  EXPECT_EQ(error.find("not-the-app-secret"), std::string::npos) << error;
  EXPECT_EQ(error.find(std::string(cred::kMetaSystemUserToken)), std::string::npos) << error;
  EXPECT_EQ(stored("meta-wrong-app", "access_token"), cred::kMetaSystemUserToken);
}

TEST_F(ConnectorTest, SlackRateLimitedPostIsRetriedAndArrivesOnce) {
  sim_->add_fault(simulator::make_fault("rate_limit", "slack", "/api/chat.postMessage", 1, 500, 0));
  const auto started = std::chrono::steady_clock::now();
  auto status = run_to_end(R"(
id: slack-limited
steps:
  - {id: post, uses: slack.notify, connection: slack-main,
     with: {text: "Weekly report", channel: "#marketing-reports"}}
)");
  ASSERT_EQ(status, RunStatus::succeeded) << error_of("post");
  EXPECT_EQ(steps_of(last_run_)["post"].attempt, 1) << "retried inside the step";
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(900))
      << "the Retry-After of 1 s was waited out";
  EXPECT_EQ(sim_->request_counts()["slack POST /api/chat.postMessage"], 2u);
  const auto messages = sim_->slack_messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].text, "Weekly report");
  EXPECT_EQ(messages[0].channel, "C0SIMREPORT");
}

TEST_F(ConnectorTest, SlackErrorBodiesFailTheStepWithSlacksReason) {
  connections_["slack-bad-token"] = connections_["slack-main"];
  connections_["slack-bad-token"]["bot_token"] = "xoxb-not-a-valid-token";
  // One run each: the injected fault hits whichever post comes first.
  auto post = [&](const std::string& connection, const std::string& channel) {
    const auto status = run_to_end(R"(
id: slack-error
steps:
  - {id: post, uses: slack.notify, connection: )" + connection + R"(,
     with: {text: "a", channel: ")" + channel + R"("}}
)");
    EXPECT_EQ(status, RunStatus::failed) << connection << " " << channel;
    EXPECT_EQ(steps_of(last_run_)["post"].attempt, 1) << connection << " " << channel << ": not retried";
    return error_of("post");
  };
  sim_->add_fault(simulator::make_fault("expired_token", "slack", "/api/chat.postMessage", 1, 500, 0));
  // HTTP 200 with ok:false is still a failure, with Slack's reason and what to do.
  const std::string expired = post("slack-main", "#marketing-reports");
  EXPECT_NE(expired.find("token_expired"), std::string::npos) << expired;
  EXPECT_NE(expired.find("must be replaced"), std::string::npos) << expired;
  const std::string unknown_channel = post("slack-main", "#no-such-channel");
  EXPECT_NE(unknown_channel.find("channel_not_found"), std::string::npos) << unknown_channel;
  const std::string bad_token = post("slack-bad-token", "#marketing-reports");
  EXPECT_NE(bad_token.find("invalid_auth"), std::string::npos) << bad_token;
  EXPECT_EQ(bad_token.find("xoxb-not-a-valid-token"), std::string::npos);
  EXPECT_TRUE(sim_->slack_messages().empty());
}

// Without the window in which a refused token counts as one already replaced, so that a refusal
// right after the first run must cause a refresh.
class Ga4RefreshTest : public ConnectorTest {
 protected:
  Ga4RefreshTest() { token_options_.reuse_window = std::chrono::seconds(0); }
};

TEST_F(Ga4RefreshTest, Ga4RefusedTokenIsRefreshedAtTheGoogleTokenEndpoint) {
  const char* kReport = R"(
id: ga4-report
steps:
  - {id: report, uses: ga4.report, connection: ga4-main,
     with: {start_date: "2026-05-30", end_date: "2026-05-31", metrics: [sessions]}}
)";
  ASSERT_EQ(run_to_end(kReport), RunStatus::succeeded) << error_of("report");
  ASSERT_EQ(sim_->request_counts()["google_oauth"], 1u);
  sim_->add_fault(simulator::make_fault("expired_token", "ga4", "", 1, 500, 0));
  ASSERT_EQ(run_to_end(kReport), RunStatus::succeeded) << error_of("report");
  EXPECT_EQ(steps_of(last_run_)["report"].attempt, 1);
  EXPECT_EQ(sim_->request_counts()["google_oauth"], 2u) << "a new token from the refresh grant";
  EXPECT_EQ(sim_->request_counts()["ga4"], 3u);  // two reports, one refused once
}

TEST_F(ConnectorTest, Ga4QuotaExhaustedIsRetriedWithinTheStep) {
  sim_->add_fault(simulator::make_fault("rate_limit", "ga4", "", 2, 500, 0));
  auto status = run_to_end(R"(
id: ga4-quota
steps:
  - {id: report, uses: ga4.report, connection: ga4-main,
     with: {start_date: "2026-05-25", end_date: "2026-05-31", metrics: [sessions]}}
)");
  ASSERT_EQ(status, RunStatus::succeeded) << error_of("report");
  EXPECT_EQ(steps_of(last_run_)["report"].attempt, 1);
  EXPECT_EQ(sim_->request_counts()["ga4"], 3u);
  std::int64_t expected = 0;
  for (const auto& r : sim_->dataset().ga4_rows()) {
    if (r.date >= "2026-05-25" && r.date <= "2026-05-31") expected += r.sessions;
  }
  std::int64_t sessions = 0;
  const auto out = output_of("report");
  for (const auto& row : out.at("rows").as_array()) sessions += row.at("sessions").as_int64();
  EXPECT_EQ(sessions, expected);
}

TEST_F(ConnectorTest, Ga4ErrorBodiesFailTheStepWithGooglesStatusAndMessage) {
  auto status = run_to_end(R"(
id: ga4-errors
steps:
  - {id: other_property, uses: ga4.report, connection: ga4-main,
     with: {property_id: "999999", start_date: "2026-05-25", end_date: "2026-05-31", metrics: [sessions]}}
  - {id: bad_metric, uses: ga4.report, connection: ga4-main,
     with: {start_date: "2026-05-25", end_date: "2026-05-31", metrics: [sesions]}}
)");
  ASSERT_EQ(status, RunStatus::failed);
  const std::string denied = error_of("other_property");
  EXPECT_NE(denied.find("PERMISSION_DENIED"), std::string::npos) << denied;
  EXPECT_NE(denied.find("permissions"), std::string::npos) << denied;
  const std::string invalid = error_of("bad_metric");
  EXPECT_NE(invalid.find("INVALID_ARGUMENT"), std::string::npos) << invalid;
  EXPECT_NE(invalid.find("sesions"), std::string::npos) << invalid;
  EXPECT_EQ(steps_of(last_run_)["bad_metric"].attempt, 1);
}

TEST_F(ConnectorTest, Ga4AndHubSpotGiveTheRawAnswerWhenAsked) {
  auto status = run_to_end(R"(
id: raw
steps:
  - {id: ga4, uses: ga4.report, connection: ga4-main,
     with: {start_date: "2026-05-25", end_date: "2026-05-31", dimensions: [date, sessionSourceMedium],
            metrics: [sessions], page_size: 10, include_raw: true}}
  - {id: ga4_plain, uses: ga4.report, connection: ga4-main,
     with: {start_date: "2026-05-25", end_date: "2026-05-31", metrics: [sessions]}}
  - {id: deals, uses: hubspot.deals, connection: hubspot-main, with: {max_results: 150, include_raw: true}}
  - {id: deals_plain, uses: hubspot.deals, connection: hubspot-main, with: {max_results: 5}}
)");
  ASSERT_EQ(status, RunStatus::succeeded)
      << error_of("ga4") << error_of("ga4_plain") << error_of("deals") << error_of("deals_plain");
  // GA4: one raw row per normalized row, across pages, in the API's own shape.
  auto ga4 = output_of("ga4");
  const auto& rows = ga4.at("rows").as_array();
  const auto& raw = ga4.at("raw").as_array();
  ASSERT_EQ(raw.size(), rows.size());
  ASSERT_GT(rows.size(), 10u) << "more than one page";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& r = raw[i].as_object();
    // GA4 writes dates as YYYYMMDD; the rows carry them as YYYY-MM-DD.
    std::string date(rows[i].at("date").as_string());
    date.erase(std::remove(date.begin(), date.end(), '-'), date.end());
    EXPECT_EQ(r.at("dimensionValues").as_array()[0].at("value").as_string(), date) << i;
    EXPECT_EQ(r.at("dimensionValues").as_array()[1].at("value"), rows[i].at("sessionSourceMedium")) << i;
    EXPECT_EQ(r.at("metricValues").as_array()[0].at("value").as_string(),
              std::to_string(rows[i].at("sessions").as_int64()))
        << i;
  }
  EXPECT_FALSE(output_of("ga4_plain").contains("raw"));
  // HubSpot: the records as received, besides the deal rows made from them.
  auto deals = output_of("deals");
  const auto& deal_rows = deals.at("deals").as_array();
  const auto& records = deals.at("raw").as_array();
  ASSERT_EQ(records.size(), deal_rows.size());
  ASSERT_EQ(records.size(), std::min<std::size_t>(150, sim_->dataset().deals().size()));
  for (std::size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].at("id"), deal_rows[i].at("id")) << i;
    EXPECT_TRUE(records[i].at("properties").as_object().contains("dealstage")) << i;
  }
  EXPECT_FALSE(output_of("deals_plain").contains("raw"));
}

TEST_F(ConnectorTest, HubSpotValidationErrorFailsWithHubSpotsCategoryAndMessage) {
  // HubSpot takes at most six filters in a group; the API, not the plugin, refuses the seventh.
  auto status = run_to_end(R"(
id: hubspot-too-many-filters
steps:
  - {id: deals, uses: hubspot.deals, connection: hubspot-main,
     with: {filters: [{property: dealstage, operator: NEQ, value: a}, {property: dealstage, operator: NEQ, value: b},
                      {property: dealstage, operator: NEQ, value: c}, {property: dealstage, operator: NEQ, value: d},
                      {property: dealstage, operator: NEQ, value: e}, {property: dealstage, operator: NEQ, value: f},
                      {property: dealstage, operator: NEQ, value: g}]}}
)");
  ASSERT_EQ(status, RunStatus::failed);
  const std::string error = error_of("deals");
  EXPECT_NE(error.find("VALIDATION_ERROR"), std::string::npos) << error;
  EXPECT_NE(error.find("at most 6 filters"), std::string::npos) << error;
  EXPECT_EQ(steps_of(last_run_)["deals"].attempt, 1);
}

}  // namespace
}  // namespace flowpilot::engine::testing
