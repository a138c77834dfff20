#include <set>
#include <thread>

#include "sim_fixture.h"

namespace flowpilot::simulator::testing {
namespace {

namespace json = boost::json;

class HubspotTest : public SimulatorTest {
 protected:
  engine::HttpResponse search(const std::string& type, const json::object& body) {
    return post_json(url(Vendor::kHubspot, "/crm/v3/objects/" + type + "/search"), body,
                     hubspot_headers());
  }
};

TEST_F(HubspotTest, ListPagesThroughEveryDeal) {
  std::string next = url(
      Vendor::kHubspot,
      "/crm/v3/objects/deals?limit=100&properties=amount,dealstage,closedate,hs_analytics_source");
  std::set<std::string> ids;
  std::int64_t amount_cents = 0;
  int pages = 0;
  while (!next.empty()) {
    auto r = get(next, hubspot_headers());
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_FALSE(header(r, "x-hubspot-ratelimit-remaining").empty());
    EXPECT_FALSE(header(r, "x-hubspot-ratelimit-daily").empty());
    const auto body = body_json(r).as_object();
    for (const auto& o : body.at("results").as_array()) {
      ids.insert(std::string(o.at("id").as_string()));
      const auto& p = o.at("properties").as_object();
      EXPECT_TRUE(p.at("hs_analytics_source").is_string());
      const std::string amount(p.at("amount").as_string());
      amount_cents += std::stoll(amount.substr(0, amount.find('.'))) * 100 +
                      std::stoll(amount.substr(amount.find('.') + 1));
    }
    ++pages;
    next.clear();
    if (const auto* paging = body.if_contains("paging")) {
      next = std::string(paging->at("next").at("link").as_string());
      EXPECT_EQ(next.rfind(sim_->base_url(Vendor::kHubspot), 0), 0u);
    }
  }
  EXPECT_EQ(ids.size(), sim_->dataset().deals().size());
  std::int64_t want = 0;
  for (const auto& d : sim_->dataset().deals()) want += d.amount_cents;
  EXPECT_EQ(amount_cents, want);
  EXPECT_EQ(pages, static_cast<int>((sim_->dataset().deals().size() + 99) / 100));
}

TEST_F(HubspotTest, ContactsCarryPersonalFields) {
  auto r = get(url(Vendor::kHubspot,
                   "/crm/v3/objects/contacts?limit=2&properties=email,firstname,lastname,phone"),
               hubspot_headers());
  ASSERT_EQ(r.status, 200) << r.body;
  const auto body = body_json(r);
  const auto& p = body.at("results").at(0).at("properties").as_object();
  EXPECT_NE(std::string(p.at("email").as_string()).find("@example.com"), std::string::npos);
  EXPECT_TRUE(p.at("phone").is_string());
  EXPECT_EQ(body.at("paging").at("next").at("after"), "50003");
}

TEST_F(HubspotTest, SearchFiltersAndPaging) {
  // Paid search deals closed in April, amount at least 1000: groups OR, filters AND.
  const std::int64_t from = 1'775'001'600'000;  // 2026-04-01T00:00:00Z
  const std::int64_t to = 1'777'593'600'000;    // 2026-05-01T00:00:00Z
  json::object request{
      {"filterGroups",
       json::array{json::object{
           {"filters", json::array{json::object{{"propertyName", "hs_analytics_source"},
                                                {"operator", "EQ"},
                                                {"value", "PAID_SEARCH"}},
                                   json::object{{"propertyName", "closedate"},
                                                {"operator", "BETWEEN"},
                                                {"value", std::to_string(from)},
                                                {"highValue", std::to_string(to - 1)}},
                                   json::object{{"propertyName", "amount"},
                                                {"operator", "GTE"},
                                                {"value", "1000"}}}}}}},
      {"properties", json::array{"amount", "closedate", "hs_analytics_source"}},
      {"sorts", json::array{json::object{{"propertyName", "amount"}, {"direction", "DESCENDING"}}}},
      {"limit", 7}};
  std::size_t want = 0;
  for (const auto& d : sim_->dataset().deals()) {
    if (d.source == "PAID_SEARCH" && d.closedate_ms >= from && d.closedate_ms < to &&
        d.amount_cents >= 100'000)
      ++want;
  }
  ASSERT_GT(want, 7u);
  std::size_t seen = 0;
  double last = 1e18;
  std::string after;
  while (true) {
    json::object page = request;
    if (!after.empty()) page["after"] = after;
    auto r = search("deals", page);
    ASSERT_EQ(r.status, 200) << r.body;
    const auto body = body_json(r).as_object();
    EXPECT_EQ(body.at("total"), static_cast<std::int64_t>(want));
    for (const auto& o : body.at("results").as_array()) {
      const double amount = std::stod(std::string(o.at("properties").at("amount").as_string()));
      EXPECT_LE(amount, last);
      last = amount;
      ++seen;
    }
    if (!body.contains("paging")) break;
    after = std::string(body.at("paging").at("next").at("after").as_string());
  }
  EXPECT_EQ(seen, want);

  // IN, NEQ, HAS_PROPERTY, LT, two groups.
  auto count = [&](json::array groups) {
    auto r = search("deals", json::object{{"filterGroups", std::move(groups)}, {"limit", 1}});
    EXPECT_EQ(r.status, 200) << r.body;
    return body_json(r).at("total").as_int64();
  };
  std::int64_t social = 0, won = 0, not_won = 0, small = 0;
  for (const auto& d : sim_->dataset().deals()) {
    social += d.source == "PAID_SOCIAL" || d.source == "SOCIAL_MEDIA";
    won += d.dealstage == "closedwon";
    not_won += d.dealstage != "closedwon";
    small += d.amount_cents < 50'000;
  }
  auto filter = [](const char* p, const char* op, json::value v) {
    json::object f{{"propertyName", p}, {"operator", op}};
    if (std::string(op) == "IN")
      f["values"] = v;
    else if (!v.is_null())
      f["value"] = v;
    return f;
  };
  EXPECT_EQ(count(json::array{json::object{
                {"filters", json::array{filter("hs_analytics_source", "IN",
                                               json::array{"PAID_SOCIAL", "SOCIAL_MEDIA"})}}}}),
            social);
  EXPECT_EQ(count(json::array{
                json::object{{"filters", json::array{filter("dealstage", "NEQ", "closedwon")}}}}),
            not_won);
  EXPECT_EQ(count(json::array{
                json::object{{"filters", json::array{filter("amount", "HAS_PROPERTY", nullptr)}}}}),
            static_cast<std::int64_t>(sim_->dataset().deals().size()));
  EXPECT_EQ(count(json::array{
                json::object{{"filters", json::array{filter("dealstage", "EQ", "closedwon")}}},
                json::object{{"filters", json::array{filter("amount", "LT", "500")}}}}),
            [&] {
              std::int64_t n = 0;
              for (const auto& d : sim_->dataset().deals())
                n += d.dealstage == "closedwon" || d.amount_cents < 50'000;
              return n;
            }());
  EXPECT_EQ(search("deals",
                   json::object{{"filterGroups",
                                 json::array{json::object{
                                     {"filters", json::array{filter("amount", "ROUGHLY", "1")}}}}}})
                .status,
            400);
  EXPECT_EQ(search("deals", json::object{{"limit", 201}}).status, 400);
}

TEST_F(HubspotTest, SearchStopsAtTenThousandResults) {
  auto r = search("contacts", json::object{{"limit", 200}, {"after", "9800"}});
  ASSERT_EQ(r.status, 200) << r.body;
  const auto body = body_json(r).as_object();
  EXPECT_EQ(body.at("total"), 12000);
  EXPECT_EQ(body.at("results").as_array().size(), 200u);
  EXPECT_FALSE(body.contains("paging"));  // 10,000 is as far as paging goes
  auto beyond = search("contacts", json::object{{"limit", 200}, {"after", "10000"}});
  EXPECT_EQ(beyond.status, 400);
  EXPECT_EQ(body_json(beyond).at("category"), "VALIDATION_ERROR");
}

TEST_F(HubspotTest, AuthRefusalsAndOauth) {
  auto none = get(url(Vendor::kHubspot, "/crm/v3/objects/deals"));
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(body_json(none).at("category"), "INVALID_AUTHENTICATION");
  EXPECT_EQ(get(url(Vendor::kHubspot, "/crm/v3/objects/deals"),
                {{"Authorization", "Bearer pat-na1-wrong"}})
                .status,
            401);
  const engine::HttpHeaders form{{"Content-Type", "application/x-www-form-urlencoded"}};
  const std::string base =
      "grant_type=refresh_token&client_id=" + std::string(credentials::kHubspotClientId) +
      "&client_secret=" + std::string(credentials::kHubspotClientSecret);
  auto bad = post(url(Vendor::kHubspot, "/oauth/v1/token"), base + "&refresh_token=nope", form);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(body_json(bad).at("error"), "invalid_grant");
  auto ok = post(url(Vendor::kHubspot, "/oauth/v1/token"),
                 base + "&refresh_token=" + std::string(credentials::kHubspotRefreshToken), form);
  ASSERT_EQ(ok.status, 200) << ok.body;
  const auto body = body_json(ok);
  EXPECT_EQ(body.at("expires_in"), 3599);
  const std::string token(body.at("access_token").as_string());
  EXPECT_EQ(get(url(Vendor::kHubspot, "/crm/v3/objects/deals?limit=1"),
                {{"Authorization", "Bearer " + token}})
                .status,
            200);
}

TEST_F(HubspotTest, ExpiredOauthTokenIsRefused) {
  auto options = test_options();
  options.token_lifetime = std::chrono::seconds(1);
  start(options);
  auto ok =
      post(url(Vendor::kHubspot, "/oauth/v1/token"),
           "grant_type=refresh_token&client_id=" + std::string(credentials::kHubspotClientId) +
               "&client_secret=" + std::string(credentials::kHubspotClientSecret) +
               "&refresh_token=" + std::string(credentials::kHubspotRefreshToken),
           {{"Content-Type", "application/x-www-form-urlencoded"}});
  const std::string token(body_json(ok).at("access_token").as_string());
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto r =
      get(url(Vendor::kHubspot, "/crm/v3/objects/deals"), {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(body_json(r).at("category"), "EXPIRED_AUTHENTICATION");
}

TEST_F(HubspotTest, TenSecondlyRollingLimit) {
  sim_->set_rate_budget(Vendor::kHubspot, RateBudget{3, std::chrono::milliseconds(10'000)});
  for (int i = 0; i < 3; ++i) {
    auto r = get(url(Vendor::kHubspot, "/crm/v3/objects/deals?limit=1"), hubspot_headers());
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(header(r, "x-hubspot-ratelimit-remaining"), std::to_string(2 - i));
    EXPECT_EQ(header(r, "x-hubspot-ratelimit-max"), "3");
  }
  auto r = get(url(Vendor::kHubspot, "/crm/v3/objects/deals?limit=1"), hubspot_headers());
  ASSERT_EQ(r.status, 429);
  const auto body = body_json(r);
  EXPECT_EQ(body.at("policyName"), "TEN_SECONDLY_ROLLING");
  EXPECT_EQ(body.at("errorType"), "RATE_LIMIT");
  EXPECT_EQ(header(r, "x-hubspot-ratelimit-remaining"), "0");
  EXPECT_EQ(header(r, "x-hubspot-ratelimit-interval-milliseconds"), "10000");
  EXPECT_FALSE(header(r, "retry-after").empty());
}

}  // namespace
}  // namespace flowpilot::simulator::testing
