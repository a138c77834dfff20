// Smaller behaviours of each vendor: time increments, single objects, partial failures, text
// search, several GA4 date ranges, Slack form bodies and warnings.
#include "sim_fixture.h"

namespace flowpilot::simulator::testing {
namespace {

namespace json = boost::json;

class ShapesTest : public SimulatorTest {};

TEST_F(ShapesTest, MetaTimeIncrements) {
  auto periods = [&](const std::string& increment) {
    auto r = get(meta_url(
        "/v21.0/act_1001/insights?level=account&limit=100&time_increment=" + increment +
        "&time_range=%7B%22since%22%3A%222026-03-20%22%2C%22until%22%3A%222026-04-10%22%7D"));
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<std::pair<std::string, std::string>> out;
    const auto body = body_json(r);
    for (const auto& row : body.at("data").as_array()) {
      out.emplace_back(row.at("date_start").as_string(), row.at("date_stop").as_string());
    }
    return out;
  };
  using P = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(periods("monthly"), (P{{"2026-03-20", "2026-03-31"}, {"2026-04-01", "2026-04-10"}}));
  EXPECT_EQ(periods("all_days"), (P{{"2026-03-20", "2026-04-10"}}));
  const auto weeks = periods("7");
  ASSERT_EQ(weeks.size(), 4u);
  EXPECT_EQ(weeks[3], (std::pair<std::string, std::string>{"2026-04-10", "2026-04-10"}));
  EXPECT_EQ(get(meta_url("/v21.0/act_1001/insights?time_increment=weekly")).status, 400);
}

TEST_F(ShapesTest, MetaSingleObjects) {
  auto account = get(meta_url("/v21.0/act_1002?fields=name,currency,timezone_name"));
  ASSERT_EQ(account.status, 200) << account.body;
  EXPECT_EQ(body_json(account).at("currency"), "USD");
  auto campaign = get(meta_url("/v21.0/120200002?fields=id,name,daily_budget,objective"));
  ASSERT_EQ(campaign.status, 200) << campaign.body;
  EXPECT_EQ(body_json(campaign).at("daily_budget"), "8000");
  EXPECT_EQ(body_json(campaign).at("objective"), "OUTCOME_SALES");
  // Insights of one campaign default to campaign level and only that campaign.
  auto insights =
      get(meta_url("/v21.0/120200002/insights?fields=campaign_id,spend&date_preset=last_7d"));
  ASSERT_EQ(insights.status, 200);
  const auto body = body_json(insights);
  ASSERT_EQ(body.at("data").as_array().size(), 1u);
  EXPECT_EQ(body.at("data").at(0).at("campaign_id"), "120200002");
}

TEST_F(ShapesTest, GoogleMutatePartialFailure) {
  const std::string token = google_access_token();
  auto op = [](const std::string& id, const std::string& status) {
    return json::object{
        {"update", json::object{{"resourceName", "customers/9876543210/campaigns/" + id},
                                {"status", status}}},
        {"updateMask", "status"}};
  };
  auto r = post_json(url(Vendor::kGoogleAds, "/v21/customers/9876543210/campaigns:mutate"),
                     json::object{{"operations", json::array{op("555100001", "PAUSED"),
                                                             op("555100002", "SLEEPING")}},
                                  {"partialFailure", true}},
                     google_ads_headers(token));
  ASSERT_EQ(r.status, 200) << r.body;
  const auto body = body_json(r);
  EXPECT_EQ(body.at("results").as_array().size(), 2u);
  EXPECT_TRUE(body.at("results").at(1).as_object().empty());
  EXPECT_TRUE(body.as_object().contains("partialFailureError"));
  EXPECT_EQ(sim_->campaign("555100001")->status, "PAUSED");
  EXPECT_EQ(sim_->campaign("555100002")->status, "ENABLED");
}

TEST_F(ShapesTest, HubspotSingleObjectAndTextQuery) {
  auto one = get(url(Vendor::kHubspot, "/crm/v3/objects/contacts/50001?properties=email"),
                 hubspot_headers());
  ASSERT_EQ(one.status, 200) << one.body;
  const std::string email(body_json(one).at("properties").at("email").as_string());
  auto missing = get(url(Vendor::kHubspot, "/crm/v3/objects/contacts/1"), hubspot_headers());
  EXPECT_EQ(missing.status, 404);
  auto found = post_json(url(Vendor::kHubspot, "/crm/v3/objects/contacts/search"),
                         json::object{{"query", email}, {"properties", json::array{"email"}}},
                         hubspot_headers());
  ASSERT_EQ(found.status, 200) << found.body;
  EXPECT_EQ(body_json(found).at("total"), 1);
  EXPECT_EQ(get(url(Vendor::kHubspot, "/crm/v3/objects/tickets"), hubspot_headers()).status, 400);
}

TEST_F(ShapesTest, Ga4SeveralDateRanges) {
  const std::string token = google_access_token();
  json::object request{
      {"dateRanges",
       json::array{json::object{{"startDate", "2026-04-01"}, {"endDate", "2026-04-07"}},
                   json::object{{"startDate", "2026-03-01"}, {"endDate", "2026-03-07"}}}},
      {"dimensions", json::array{json::object{{"name", "sessionDefaultChannelGroup"}}}},
      {"metrics", json::array{json::object{{"name", "sessions"}}}}};
  auto r = post_json(url(Vendor::kGa4, "/v1beta/properties/345678901:runReport"), request,
                     {{"Authorization", "Bearer " + token}});
  ASSERT_EQ(r.status, 200) << r.body;
  const auto body = body_json(r);
  EXPECT_EQ(body.at("dimensionHeaders").at(1).at("name"), "dateRange");
  EXPECT_EQ(body.at("rowCount"), 12);  // 6 channel groups x 2 ranges
}

TEST_F(ShapesTest, SlackFormBodiesAndCharsetWarning) {
  auto form = post(url(Vendor::kSlack, "/api/chat.postMessage"),
                   "token=" + std::string(credentials::kSlackBotToken) +
                       "&channel=%23marketing-alerts&text=from+a+form"
                       "&blocks=%5B%7B%22type%22%3A%22divider%22%7D%5D",
                   {{"Content-Type", "application/x-www-form-urlencoded"}});
  ASSERT_EQ(form.status, 200);
  EXPECT_EQ(body_json(form).at("ok"), true) << form.body;
  auto plain = post(url(Vendor::kSlack, "/api/chat.postMessage"),
                    R"({"channel":"C0SIMALERT","text":"json without charset"})",
                    {{"Content-Type", "application/json"},
                     {"Authorization", "Bearer " + std::string(credentials::kSlackBotToken)}});
  EXPECT_EQ(body_json(plain).at("warning"), "missing_charset");
  auto hook = post(url(Vendor::kSlackHooks, std::string(credentials::kSlackWebhookPath)),
                   "payload=%7B%22text%22%3A%22form+hook%22%7D",
                   {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(hook.body, "ok");
  const auto messages = sim_->slack_messages();
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages[0].text, "from a form");
  EXPECT_EQ(messages[0].blocks_json, R"([{"type":"divider"}])");
  EXPECT_EQ(messages[2].text, "form hook");
}

TEST_F(ShapesTest, FaultsFromOptionsApplyFromTheStart) {
  auto options = test_options();
  options.faults.push_back(make_fault("server_error", "slack", "", 1, 503, 0));
  start(options);
  auto r = post_json(url(Vendor::kSlack, "/api/chat.postMessage"),
                     json::object{{"channel", "C0SIMALERT"}, {"text", "x"}},
                     {{"Authorization", "Bearer " + std::string(credentials::kSlackBotToken)}});
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(body_json(r).at("error"), "internal_error");
  sim_->reset();  // configured faults come back
  EXPECT_EQ(post_json(url(Vendor::kSlack, "/api/chat.postMessage"),
                      json::object{{"channel", "C0SIMALERT"}, {"text", "x"}},
                      {{"Authorization", "Bearer " + std::string(credentials::kSlackBotToken)}})
                .status,
            503);
}

}  // namespace
}  // namespace flowpilot::simulator::testing
