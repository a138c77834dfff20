// The pure parts of the google_ads connector: quota and token errors, GAQL, and rows.
#include "google_ads_api.h"
#include "plugins/http_answer.h"

#include <gtest/gtest.h>

namespace flowpilot::google_ads {
namespace {

namespace json = boost::json;
using marketing::Verdict;

using flowpilot::testing::http_answer;

std::string quota_error(const char* quota, const char* scope, const char* delay) {
  return std::string(R"({"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED",
   "details":[{"@type":"type.googleapis.com/google.ads.googleads.v21.errors.GoogleAdsFailure",
    "errors":[{"errorCode":{"quotaError":")") + quota + R"("},"message":"Too many requests.",
     "details":{"quotaErrorDetails":{"rateScope":")" + scope + R"(","rateName":"ops","retryDelay":")" + delay + R"("}}}],
    "requestId":"xN"}]}})";
}

TEST(GoogleAdsClassifyTest, QuotaErrorsHonourTheirDelayButNotTheDailyDeveloperQuota) {
  auto temporary = classify(http_answer(429, quota_error("RESOURCE_TEMPORARILY_EXHAUSTED", "ACCOUNT", "12s")));
  EXPECT_EQ(temporary.kind, Verdict::Kind::retry);
  EXPECT_TRUE(temporary.throttled);
  EXPECT_EQ(temporary.wait, std::chrono::seconds(12));
  EXPECT_NE(temporary.message.find("quotaError=RESOURCE_TEMPORARILY_EXHAUSTED"), std::string::npos);

  auto daily = classify(http_answer(429, quota_error("RESOURCE_EXHAUSTED", "DEVELOPER", "40591s")));
  EXPECT_EQ(daily.kind, Verdict::Kind::fail);
  EXPECT_FALSE(daily.retryable);
  EXPECT_NE(daily.message.find("quota is used up"), std::string::npos);
}

TEST(GoogleAdsClassifyTest, TokenQueryAndServerErrors) {
  EXPECT_EQ(classify(http_answer(401, R"({"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}})")).kind,
            Verdict::Kind::refresh_token);
  // searchStream wraps errors in a list.
  auto query = classify(http_answer(400, R"([{"error":{"code":400,"message":"Request contains an invalid argument.","status":"INVALID_ARGUMENT",
    "details":[{"errors":[{"errorCode":{"queryError":"UNRECOGNIZED_FIELD"},"message":"Unrecognized field in the query: 'campaign.nme'."}]}]}}])"));
  EXPECT_EQ(query.kind, Verdict::Kind::fail);
  EXPECT_NE(query.message.find("queryError=UNRECOGNIZED_FIELD"), std::string::npos) << query.message;
  EXPECT_NE(query.message.find("campaign.nme"), std::string::npos);
  EXPECT_EQ(classify(http_answer(503, "unavailable")).kind, Verdict::Kind::retry);
  EXPECT_EQ(classify(http_answer(403, R"({"error":{"code":403,"status":"PERMISSION_DENIED","message":"no"}})")).kind,
            Verdict::Kind::fail);
  EXPECT_EQ(classify(http_answer(200, "[]")).kind, Verdict::Kind::ok);
}

TEST(GoogleAdsRowsTest, MicrosStayExactAndMissingMetricsAreZero) {
  auto result = json::parse(R"({"campaign":{"resourceName":"customers/1234567890/campaigns/555","id":"555","name":"Brand"},
     "metrics":{"costMicros":"12500001","impressions":"1000","clicks":"40","conversions":3.5,"conversionsValue":150.5},
     "segments":{"date":"2024-05-01"}})").as_object();
  auto row = normalize_result(result, "1234567890", "EUR", "results[0]");
  EXPECT_EQ(row, json::parse(R"({"platform":"google_ads","account_id":"1234567890","campaign_id":"555",
    "campaign_name":"Brand","date":"2024-05-01","spend":12.500001,"impressions":1000,"clicks":40,
    "conversions":3.5,"revenue":150.5,"currency":"EUR"})"));
  auto sparse = json::parse(R"({"campaign":{"id":"556","name":"Quiet"},"segments":{"date":"2024-05-02"}})").as_object();
  auto zero = normalize_result(sparse, "1234567890", "", "results[1]");
  EXPECT_EQ(zero.at("spend"), json::value(0));
  EXPECT_EQ(zero.at("clicks"), json::value(0));
  EXPECT_TRUE(zero.at("currency").is_null());
  result["metrics"].as_object()["costMicros"] = "12.5";
  EXPECT_THROW(normalize_result(result, "1", "", "results[0]"), sdk::StepError);
}

TEST(GoogleAdsQueryTest, CustomerIdsAndDates) {
  EXPECT_EQ(customer_digits("123-456-7890"), "1234567890");
  EXPECT_THROW(customer_digits("12a"), sdk::StepError);
  EXPECT_THROW(customer_digits(""), sdk::StepError);
  EXPECT_EQ(report_query("2024-05-01", "2024-05-07", ""),
            "SELECT campaign.id, campaign.name, metrics.cost_micros, metrics.impressions, metrics.clicks, "
            "metrics.conversions, metrics.conversions_value, segments.date FROM campaign WHERE "
            "segments.date BETWEEN '2024-05-01' AND '2024-05-07'");
  EXPECT_NE(report_query("", "", "LAST_7_DAYS").find("DURING LAST_7_DAYS"), std::string::npos);
  EXPECT_THROW(report_query("2024-05-01' OR '1'='1", "2024-05-07", ""), sdk::StepError);
  EXPECT_THROW(connection_from(json::object{}), sdk::StepError);
  auto c = connection_from(json::object{{"developer_token", "dev"}, {"login_customer_id", "111-222-3333"}});
  auto headers = api_headers(c);
  EXPECT_EQ(headers.back(), (std::pair<std::string, std::string>("login-customer-id", "1112223333")));
}

}  // namespace
}  // namespace flowpilot::google_ads
