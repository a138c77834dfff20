#include <cmath>
#include <thread>

#include "sim_fixture.h"

namespace flowpilot::simulator::testing {
namespace {

namespace json = boost::json;

class GoogleAdsTest : public SimulatorTest {
 protected:
  std::string stream_url(const std::string& customer = "1234567890") {
    return url(Vendor::kGoogleAds, "/v21/customers/" + customer + "/googleAds:searchStream");
  }
  engine::HttpResponse stream(const std::string& query, const std::string& token) {
    return post_json(stream_url(), json::object{{"query", query}}, google_ads_headers(token));
  }
};

constexpr const char* kReport =
    "SELECT campaign.id, campaign.name, metrics.cost_micros, metrics.impressions, metrics.clicks, "
    "metrics.conversions, metrics.conversions_value, segments.date FROM campaign "
    "WHERE segments.date BETWEEN '2026-04-01' AND '2026-04-07'";

TEST_F(GoogleAdsTest, SearchStreamIsAnArrayOfBatchesWithMicrosAsStrings) {
  const std::string token = google_access_token();
  auto r = stream(kReport, token);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(header(r, "request-id").empty());
  const auto body = body_json(r);
  ASSERT_TRUE(body.is_array());
  const auto& batch = body.as_array().at(0).as_object();
  EXPECT_EQ(batch.at("fieldMask"),
            "campaign.id,campaign.name,metrics.costMicros,metrics.impressions,metrics.clicks,"
            "metrics.conversions,metrics.conversionsValue,segments.date");
  const auto& results = batch.at("results").as_array();
  EXPECT_EQ(results.size(), 7u * 4u);
  std::int64_t cost = 0;
  double conversions = 0;
  for (const auto& row : results) {
    const auto& campaign = row.at("campaign").as_object();
    EXPECT_EQ(campaign.at("resourceName").as_string(),
              "customers/1234567890/campaigns/" + std::string(campaign.at("id").as_string()));
    const auto& m = row.at("metrics").as_object();
    cost += std::stoll(std::string(m.at("costMicros").as_string()));
    if (const auto* c = m.if_contains("conversions")) conversions += c->as_double();
  }
  std::int64_t want_cost = 0;
  double want_conv = 0;
  for (const auto& row : sim_->dataset().google_rows()) {
    if (row.customer_id == "1234567890" && row.date >= "2026-04-01" && row.date <= "2026-04-07") {
      want_cost += row.cost_micros;
      want_conv += row.conversions;
    }
  }
  EXPECT_EQ(cost, want_cost);
  EXPECT_NEAR(conversions, want_conv, 1e-6);
}

TEST_F(GoogleAdsTest, DuringAndStatusFilterAndAggregation) {
  const std::string token = google_access_token();
  auto r = stream(
      "SELECT campaign.id, metrics.cost_micros FROM campaign WHERE segments.date DURING "
      "LAST_7_DAYS "
      "AND campaign.status = 'ENABLED' ORDER BY metrics.cost_micros DESC LIMIT 2",
      token);
  ASSERT_EQ(r.status, 200) << r.body;
  const auto body = body_json(r);
  const auto& results = body.at(0).at("results").as_array();
  ASSERT_EQ(results.size(), 2u);
  const auto c0 = std::stoll(std::string(results[0].at("metrics").at("costMicros").as_string()));
  const auto c1 = std::stoll(std::string(results[1].at("metrics").at("costMicros").as_string()));
  EXPECT_GE(c0, c1);
  // One row per campaign, summed over 2026-04-24..2026-04-30.
  std::int64_t want = 0;
  for (const auto& row : sim_->dataset().google_rows()) {
    if (row.campaign_id == std::string(results[0].at("campaign").at("id").as_string()) &&
        row.date >= "2026-04-24" && row.date <= "2026-04-30") {
      want += row.cost_micros;
    }
  }
  EXPECT_EQ(c0, want);
}

TEST_F(GoogleAdsTest, GaqlErrorsInGoogleShape) {
  const std::string token = google_access_token();
  auto unknown = stream("SELECT campaign.id, metrics.bogus FROM campaign", token);
  EXPECT_EQ(unknown.status, 400);
  const auto body = body_json(unknown);
  EXPECT_EQ(body.at("error").at("status"), "INVALID_ARGUMENT");
  EXPECT_EQ(
      body.at("error").at("details").at(0).at("errors").at(0).at("errorCode").at("queryError"),
      "UNRECOGNIZED_FIELD");
  EXPECT_EQ(stream("SELECT campaign.id FROM ad_group", token).status, 400);
  EXPECT_EQ(stream("SELECT campaign.id FROM campaign WHERE segments.date DURING LAST_9_DAYS", token)
                .status,
            400);
  EXPECT_EQ(
      stream("SELECT campaign.id FROM campaign WHERE segments.date BETWEEN '2026-04-01'", token)
          .status,
      400);
  EXPECT_EQ(stream("campaign.id FROM campaign", token).status, 400);
  auto no_query = post_json(stream_url(), json::object{}, google_ads_headers(token));
  EXPECT_EQ(no_query.status, 400);
}

TEST_F(GoogleAdsTest, SearchPagesWithTokens) {
  const std::string token = google_access_token();
  const std::string query =
      "SELECT campaign.id, metrics.clicks, segments.date FROM campaign "
      "WHERE segments.date BETWEEN '2026-03-01' AND '2026-03-31'";
  std::string page_token;
  std::size_t rows = 0;
  int pages = 0;
  std::int64_t clicks = 0;
  do {
    json::object request{{"query", query}, {"pageSize", 50}, {"returnTotalResultsCount", true}};
    if (!page_token.empty()) request["pageToken"] = page_token;
    auto r = post_json(url(Vendor::kGoogleAds, "/v19/customers/9876543210/googleAds:search"),
                       request, google_ads_headers(token));
    ASSERT_EQ(r.status, 200) << r.body;
    const auto body = body_json(r).as_object();
    EXPECT_EQ(body.at("totalResultsCount"), "124");
    for (const auto& row : body.at("results").as_array()) {
      clicks += std::stoll(std::string(row.at("metrics").at("clicks").as_string()));
      ++rows;
    }
    ++pages;
    page_token =
        body.contains("nextPageToken") ? std::string(body.at("nextPageToken").as_string()) : "";
  } while (!page_token.empty());
  EXPECT_EQ(rows, 31u * 4u);
  EXPECT_EQ(pages, 3);
  std::int64_t want = 0;
  for (const auto& row : sim_->dataset().google_rows()) {
    if (row.customer_id == "9876543210" && row.date >= "2026-03-01" && row.date <= "2026-03-31")
      want += row.clicks;
  }
  EXPECT_EQ(clicks, want);
}

TEST_F(GoogleAdsTest, MutatePausesAndValidateOnlyDoesNothing) {
  const std::string token = google_access_token();
  const std::string mutate = url(Vendor::kGoogleAds, "/v21/customers/1234567890/campaigns:mutate");
  json::object op{
      {"update", json::object{{"resourceName", "customers/1234567890/campaigns/555000002"},
                              {"status", "PAUSED"}}},
      {"updateMask", "status"}};
  auto dry =
      post_json(mutate, json::object{{"operations", json::array{op}}, {"validateOnly", true}},
                google_ads_headers(token));
  ASSERT_EQ(dry.status, 200) << dry.body;
  EXPECT_EQ(sim_->campaign("555000002")->status, "ENABLED");
  auto r =
      post_json(mutate, json::object{{"operations", json::array{op}}}, google_ads_headers(token));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_json(r).at("results").at(0).at("resourceName"),
            "customers/1234567890/campaigns/555000002");
  EXPECT_EQ(sim_->campaign("555000002")->status, "PAUSED");
  auto listed = stream(
      "SELECT campaign.id, campaign.status FROM campaign WHERE campaign.status = 'PAUSED'", token);
  const auto body = body_json(listed);
  ASSERT_EQ(body.at(0).at("results").as_array().size(), 1u);
  EXPECT_EQ(body.at(0).at("results").at(0).at("campaign").at("id"), "555000002");
  // A missing campaign, a bad mask: 400, nothing applied.
  json::object missing{{"update", json::object{{"resourceName", "customers/1234567890/campaigns/1"},
                                               {"status", "ENABLED"}}},
                       {"updateMask", "status"}};
  json::object resume = op;
  resume["update"].as_object()["status"] = "ENABLED";
  auto bad = post_json(mutate, json::object{{"operations", json::array{resume, missing}}},
                       google_ads_headers(token));
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(sim_->campaign("555000002")->status, "PAUSED");
  json::object no_mask{{"update", op.at("update")}};
  EXPECT_EQ(post_json(mutate, json::object{{"operations", json::array{no_mask}}},
                      google_ads_headers(token))
                .status,
            400);
}

TEST_F(GoogleAdsTest, AuthAndDeveloperToken) {
  auto none = post_json(stream_url(), json::object{{"query", kReport}},
                        {{"developer-token", std::string(credentials::kGoogleDeveloperToken)}});
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(body_json(none).at("error").at("status"), "UNAUTHENTICATED");
  auto wrong = stream(kReport, "ya29.wrong");
  EXPECT_EQ(wrong.status, 401);
  const std::string token = google_access_token();
  auto no_dev = post_json(stream_url(), json::object{{"query", kReport}},
                          {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(no_dev.status, 401);
  auto other = post_json(stream_url("1111111111"), json::object{{"query", kReport}},
                         google_ads_headers(token));
  EXPECT_EQ(other.status, 403);
}

TEST_F(GoogleAdsTest, OauthRefusesBadCredentials) {
  const std::string base =
      "grant_type=refresh_token&client_id=" + std::string(credentials::kGoogleClientId) +
      "&client_secret=" + std::string(credentials::kGoogleClientSecret);
  const engine::HttpHeaders form{{"Content-Type", "application/x-www-form-urlencoded"}};
  auto bad_refresh =
      post(url(Vendor::kGoogleOauth, "/token"), base + "&refresh_token=revoked", form);
  EXPECT_EQ(bad_refresh.status, 400);
  EXPECT_EQ(body_json(bad_refresh).at("error"), "invalid_grant");
  auto bad_client =
      post(url(Vendor::kGoogleOauth, "/token"),
           "grant_type=refresh_token&client_id=x&client_secret=y&refresh_token=z", form);
  EXPECT_EQ(bad_client.status, 401);
  EXPECT_EQ(body_json(bad_client).at("error"), "invalid_client");
  auto ok = post(url(Vendor::kGoogleOauth, "/token"),
                 base + "&refresh_token=" + std::string(credentials::kGoogleRefreshToken), form);
  ASSERT_EQ(ok.status, 200);
  EXPECT_EQ(body_json(ok).at("expires_in"), 3599);
  EXPECT_EQ(body_json(ok).at("token_type"), "Bearer");
}

TEST_F(GoogleAdsTest, AccessTokensExpire) {
  auto options = test_options();
  options.token_lifetime = std::chrono::seconds(1);
  start(options);
  const std::string token = google_access_token();
  EXPECT_EQ(stream(kReport, token).status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto r = stream(kReport, token);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(body_json(r)
                .at("error")
                .at("details")
                .at(0)
                .at("errors")
                .at(0)
                .at("errorCode")
                .at("authenticationError"),
            "OAUTH_TOKEN_EXPIRED");
}

TEST_F(GoogleAdsTest, ResourceExhaustedAfterTheBudget) {
  sim_->set_rate_budget(Vendor::kGoogleAds, RateBudget{2, std::chrono::milliseconds(30'000)});
  const std::string token = google_access_token();
  EXPECT_EQ(stream(kReport, token).status, 200);
  EXPECT_EQ(stream(kReport, token).status, 200);
  auto r = stream(kReport, token);
  ASSERT_EQ(r.status, 429);
  const auto body = body_json(r);
  EXPECT_EQ(body.at("error").at("status"), "RESOURCE_EXHAUSTED");
  const auto& err = body.at("error").at("details").at(0).at("errors").at(0);
  EXPECT_EQ(err.at("errorCode").at("quotaError"), "RESOURCE_TEMPORARILY_EXHAUSTED");
  const std::string delay(err.at("details").at("quotaErrorDetails").at("retryDelay").as_string());
  EXPECT_EQ(delay.back(), 's');
  EXPECT_LE(std::stoi(delay), 30);
}

}  // namespace
}  // namespace flowpilot::simulator::testing
