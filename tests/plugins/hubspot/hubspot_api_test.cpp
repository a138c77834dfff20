// The pure parts of the hubspot connector: search bodies, rate-limit policies, deal rows.
#include "hubspot_api.h"
#include "plugins/http_answer.h"

#include <gtest/gtest.h>

namespace flowpilot::hubspot {
namespace {

namespace json = boost::json;
using marketing::Verdict;

using flowpilot::testing::http_answer;

TEST(HubSpotSearchTest, FiltersAndDateWindowsBecomeOneFilterGroup) {
  auto filters = json::parse(R"([{"property":"dealstage","value":"closedwon"},
                                  {"property":"hs_analytics_source","operator":"IN","values":["PAID_SEARCH","PAID_SOCIAL"]},
                                  {"property":"amount","operator":"BETWEEN","value":100,"high_value":500}])").as_array();
  auto body = search_body(filters, "closedate", "2024-05-01", "2024-05-31", json::array{"amount"}, 200, "400");
  EXPECT_EQ(body, json::parse(R"({"properties":["amount"],"limit":200,
    "sorts":[{"propertyName":"hs_object_id","direction":"ASCENDING"}],
    "filterGroups":[{"filters":[
      {"propertyName":"dealstage","operator":"EQ","value":"closedwon"},
      {"propertyName":"hs_analytics_source","operator":"IN","values":["PAID_SEARCH","PAID_SOCIAL"]},
      {"propertyName":"amount","operator":"BETWEEN","value":"100","highValue":"500"},
      {"propertyName":"closedate","operator":"GTE","value":"1714521600000"},
      {"propertyName":"closedate","operator":"LTE","value":"1717199999999"}]}],
    "after":"400"})"));
  auto bad = json::parse(R"([{"property":"amount","operator":"ABOUT","value":1}])").as_array();
  try {
    search_body(bad, "closedate", "", "", json::array{}, 200, "");
    FAIL();
  } catch (const sdk::StepError& e) {
    EXPECT_NE(std::string(e.what()).find("with.filters[0].operator `ABOUT`"), std::string::npos) << e.what();
  }
  EXPECT_THROW(epoch_millis("2024-02-30", false, "since"), sdk::StepError);
}

TEST(HubSpotClassifyTest, RateLimitPoliciesAndTokens) {
  auto rolling = classify(http_answer(429, R"({"status":"error","message":"You have reached your ten_secondly_rolling limit.","errorType":"RATE_LIMIT","policyName":"TEN_SECONDLY_ROLLING"})",
                                 {{"x-hubspot-ratelimit-interval-milliseconds", "10000"}}));
  EXPECT_EQ(rolling.kind, Verdict::Kind::retry);
  EXPECT_EQ(rolling.wait, std::chrono::seconds(10));
  EXPECT_TRUE(rolling.throttled);
  auto with_retry_after = classify(http_answer(429, R"({"policyName":"SECONDLY"})", {{"retry-after", "2"}}));
  EXPECT_EQ(with_retry_after.wait, std::chrono::seconds(2));
  auto daily = classify(http_answer(429, R"({"status":"error","message":"daily","policyName":"DAILY"})"));
  EXPECT_EQ(daily.kind, Verdict::Kind::fail);
  EXPECT_NE(daily.message.find("midnight"), std::string::npos);
  EXPECT_EQ(classify(http_answer(401, R"({"status":"error","message":"expired","category":"EXPIRED_AUTHENTICATION"})")).kind,
            Verdict::Kind::refresh_token);
  auto invalid = classify(http_answer(400, R"({"status":"error","message":"Property values were not valid","category":"VALIDATION_ERROR"})"));
  EXPECT_EQ(invalid.kind, Verdict::Kind::fail);
  EXPECT_NE(invalid.message.find("VALIDATION_ERROR: Property values were not valid"), std::string::npos);
  EXPECT_EQ(classify(http_answer(502, "bad gateway")).kind, Verdict::Kind::retry);
}

TEST(HubSpotRowsTest, DealsKeepExactAmountsAndDates) {
  auto deal = json::parse(R"({"id":"512","properties":{"amount":"1500.05","dealstage":"closedwon",
    "closedate":"2024-05-03T00:00:00Z","createdate":"2024-04-01T09:12:00.123Z","hs_analytics_source":"PAID_SEARCH",
    "hs_object_id":"512"},"archived":false})").as_object();
  auto row = deal_row(deal, "results[0]");
  EXPECT_EQ(row.at("amount"), json::value(1500.05));
  EXPECT_EQ(row.at("close_date"), json::value("2024-05-03"));
  EXPECT_EQ(row.at("channel"), json::value("PAID_SEARCH"));
  deal["properties"].as_object()["amount"] = "";
  EXPECT_TRUE(deal_row(deal, "x").at("amount").is_null()) << "an empty amount is unknown, not zero";
  deal["properties"].as_object()["amount"] = "1,500";
  EXPECT_THROW(deal_row(deal, "results[3]"), sdk::StepError);
}

}  // namespace
}  // namespace flowpilot::hubspot
