// The pure parts of the ga4 connector: typed rows from GA4's all-string answers, and errors.
#include "ga4_api.h"

#include <gtest/gtest.h>

namespace flowpilot::ga4 {
namespace {

namespace json = boost::json;
using marketing::Verdict;

TEST(Ga4RowsTest, StringsBecomeTypedValues) {
  auto answer = json::parse(R"({
    "dimensionHeaders":[{"name":"date"},{"name":"sessionSourceMedium"}],
    "metricHeaders":[{"name":"sessions","type":"TYPE_INTEGER"},{"name":"purchaseRevenue","type":"TYPE_CURRENCY"},
                     {"name":"engagementRate","type":"TYPE_FLOAT"}],
    "rows":[{"dimensionValues":[{"value":"20240501"},{"value":"google / cpc"}],
             "metricValues":[{"value":"120"},{"value":"1534.5000001"},{"value":"0.61"}]}],
    "rowCount":1,"metadata":{"currencyCode":"EUR","timeZone":"Europe/Berlin"}})").as_object();
  auto rows = typed_rows(answer, 0);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], json::parse(R"({"date":"2024-05-01","sessionSourceMedium":"google / cpc",
    "sessions":120,"purchaseRevenue":1534.5,"engagementRate":0.61})"));
  answer.erase("rows");
  EXPECT_TRUE(typed_rows(answer, 0).empty()) << "no rows is an empty report";
  auto bad = json::parse(R"({"metricHeaders":[{"name":"sessions","type":"TYPE_INTEGER"}],
    "rows":[{"metricValues":[{"value":"12.5"}]}]})").as_object();
  try {
    typed_rows(bad, 40);
    FAIL();
  } catch (const sdk::StepError& e) {
    EXPECT_NE(std::string(e.what()).find("rows[40].sessions is `12.5`"), std::string::npos) << e.what();
  }
}

TEST(Ga4ClassifyTest, QuotaTokenAndArgumentErrors) {
  sdk::HttpResponse r;
  r.status = 429;
  r.body = R"({"error":{"code":429,"message":"Exhausted property tokens per hour.","status":"RESOURCE_EXHAUSTED"}})";
  auto quota = classify(r);
  EXPECT_EQ(quota.kind, Verdict::Kind::retry);
  EXPECT_TRUE(quota.throttled);
  r.status = 401;
  r.body = R"({"error":{"code":401,"status":"UNAUTHENTICATED","message":"expired"}})";
  EXPECT_EQ(classify(r).kind, Verdict::Kind::refresh_token);
  r.status = 400;
  r.body = R"({"error":{"code":400,"status":"INVALID_ARGUMENT","message":"Field sesions is not a valid metric."}})";
  auto invalid = classify(r);
  EXPECT_EQ(invalid.kind, Verdict::Kind::fail);
  EXPECT_NE(invalid.message.find("sesions"), std::string::npos);
  EXPECT_EQ(report_body("2024-05-01", "2024-05-07", json::array{"date"}, json::array{"sessions"}, 100, 200),
            json::parse(R"({"dateRanges":[{"startDate":"2024-05-01","endDate":"2024-05-07"}],
              "dimensions":[{"name":"date"}],"metrics":[{"name":"sessions"}],"limit":100,"offset":200,
              "returnPropertyQuota":true})"));
}

}  // namespace
}  // namespace flowpilot::ga4
