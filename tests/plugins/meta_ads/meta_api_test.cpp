// The pure parts of the meta_ads connector and of the connectors' common money handling: what
// Meta's answers mean, and how insights rows become normalized rows.
#include "meta_api.h"
#include "plugins/http_answer.h"
#include "money.h"

#include <gtest/gtest.h>

namespace flowpilot::meta_ads {
namespace {

namespace json = boost::json;
using marketing::Verdict;

using flowpilot::testing::http_answer;

TEST(MoneyTest, DecimalStringsAndNumbersBecomeExactMicros) {
  EXPECT_EQ(marketing::parse_decimal_micros("12.34"), 12'340'000);
  EXPECT_EQ(marketing::parse_decimal_micros("0.000001"), 1);
  EXPECT_EQ(marketing::parse_decimal_micros("-3"), -3'000'000);
  for (const char* bad : {"", "1.", ".5", "1.2345678", "1e3", "12,5", "abc", "1.2.3", "--1"}) {
    EXPECT_EQ(marketing::parse_decimal_micros(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(marketing::to_micros(json::value(0.1)), 100'000);
  EXPECT_EQ(marketing::to_micros(json::value(0.2)), 200'000);
  EXPECT_EQ(*marketing::to_micros(json::value(0.1)) + *marketing::to_micros(json::value(0.2)),
            300'000);
  EXPECT_EQ(marketing::to_micros(json::value(7)), 7'000'000);
  EXPECT_EQ(marketing::to_micros(json::value("99.90")), 99'900'000);
  EXPECT_EQ(marketing::to_micros(json::value(true)), std::nullopt);
  EXPECT_EQ(marketing::micros_to_number(12'500'000), json::value(12.5));
  EXPECT_EQ(marketing::micros_to_number(3'000'000), json::value(3));
}

TEST(MetaClassifyTest, ThrottlingWaitsForTheAccountToRegainAccess) {
  const auto usage = R"({"1001":[{"type":"ads_insights","call_count":100,"total_cputime":20,)"
                     R"("total_time":30,"estimated_time_to_regain_access":3}]})";
  // Throttling arrives with HTTP 400: the error code decides.
  auto v = classify(http_answer(400,
                           R"({"error":{"message":"(#80000) There have been too many calls","type":"OAuthException","code":80000,"error_subcode":2446079,"fbtrace_id":"A"}})",
                           {{"x-business-use-case-usage", usage}}));
  EXPECT_EQ(v.kind, Verdict::Kind::retry);
  EXPECT_TRUE(v.throttled);
  EXPECT_EQ(v.wait, std::chrono::minutes(3));
  EXPECT_NE(v.message.find("80000/2446079"), std::string::npos) << v.message;

  for (int code : {4, 17, 613, 80004}) {
    auto t = classify(http_answer(400, R"({"error":{"message":"limit","code":)" + std::to_string(code) + "}}"));
    EXPECT_EQ(t.kind, Verdict::Kind::retry) << code;
    EXPECT_TRUE(t.throttled) << code;
    EXPECT_EQ(t.wait.count(), 0) << "no hint: the exchange backs off on its own";
  }
}

TEST(MetaClassifyTest, TokenTransientAndPermanentErrors) {
  EXPECT_EQ(classify(http_answer(400, R"({"error":{"message":"Session has expired","code":190,"error_subcode":463}})")).kind,
            Verdict::Kind::refresh_token);
  EXPECT_EQ(classify(http_answer(500, R"({"error":{"message":"An unknown error occurred","code":1}})")).kind,
            Verdict::Kind::retry);
  EXPECT_EQ(classify(http_answer(400, R"({"error":{"message":"odd","code":999,"is_transient":true}})")).kind,
            Verdict::Kind::retry);
  auto bad = classify(http_answer(400, R"({"error":{"message":"(#100) Invalid parameter","code":100}})"));
  EXPECT_EQ(bad.kind, Verdict::Kind::fail);
  EXPECT_FALSE(bad.retryable);
  EXPECT_NE(bad.message.find("Invalid parameter"), std::string::npos);
  EXPECT_EQ(classify(http_answer(503, "<html>busy</html>")).kind, Verdict::Kind::retry);
  EXPECT_EQ(classify(http_answer(200, R"({"data":[)")).kind, Verdict::Kind::retry)
      << "a truncated body is worth another try";
  EXPECT_EQ(classify(http_answer(404, "not here")).kind, Verdict::Kind::fail);
  sdk::HttpResponse none;
  none.error = "timed out after 30s";
  EXPECT_EQ(classify(none).kind, Verdict::Kind::retry);
  none.error = "refused by the SSRF guard: loopback";
  EXPECT_EQ(classify(none).kind, Verdict::Kind::fail);
  EXPECT_EQ(classify(http_answer(200, R"({"data":[]})")).kind, Verdict::Kind::ok);
}

TEST(MetaClassifyTest, UsageHeadersGiveTheHighestPercentage) {
  EXPECT_EQ(usage_percent(http_answer(200, "{}")), std::nullopt);
  EXPECT_EQ(usage_percent(http_answer(200, "{}", {{"x-app-usage", R"({"call_count":12,"total_cputime":40,"total_time":7})"}})),
            40.0);
  EXPECT_EQ(usage_percent(http_answer(200, "{}", {{"x-ad-account-usage", R"({"acc_id_util_pct":93.5})"},
                                             {"x-business-use-case-usage", R"({"1":[{"call_count":95}]})"}})),
            95.0);
}

TEST(MetaRowsTest, InsightsRowsBecomeNormalizedRows) {
  RowOptions options;
  options.account_id = "act_1001";
  options.currency = "EUR";
  auto raw = json::parse(R"({"campaign_id":"120200001","campaign_name":"Brand","spend":"12.34",
    "impressions":"1000","clicks":"25",
    "actions":[{"action_type":"link_click","value":"20"},{"action_type":"purchase","value":"2"},
               {"action_type":"omni_purchase","value":"3"}],
    "action_values":[{"action_type":"purchase","value":"99.90"}],
    "date_start":"2024-05-01","date_stop":"2024-05-01"})").as_object();
  auto row = normalize_insight(raw, options, "page 1 row 1");
  EXPECT_EQ(row, json::parse(R"({"platform":"meta","account_id":"act_1001","campaign_id":"120200001",
    "campaign_name":"Brand","date":"2024-05-01","spend":12.34,"impressions":1000,"clicks":25,
    "conversions":2,"revenue":99.9,"currency":"EUR"})"));
  options.conversion_action = "omni_purchase";
  EXPECT_EQ(normalize_insight(raw, options, "x").at("conversions"), json::value(3));

  // Rows without actions have no conversions; the row's own currency wins.
  auto quiet = json::parse(R"({"campaign_id":"1","campaign_name":"Q","spend":"0","impressions":"0",
    "clicks":"0","account_currency":"USD","date_start":"2024-05-02","date_stop":"2024-05-02"})").as_object();
  auto q = normalize_insight(quiet, options, "x");
  EXPECT_EQ(q.at("conversions"), json::value(0));
  EXPECT_EQ(q.at("currency"), json::value("USD"));

  raw["spend"] = "12,34";
  try {
    normalize_insight(raw, options, "page 2 row 7");
    FAIL() << "a malformed amount must fail";
  } catch (const sdk::StepError& e) {
    EXPECT_NE(std::string(e.what()).find("page 2 row 7.spend is `\"12,34\"`"), std::string::npos) << e.what();
  }
}

TEST(MetaUrlTest, AccountsAndQueriesAreEncoded) {
  EXPECT_EQ(account_path("1001"), "act_1001");
  EXPECT_EQ(account_path("act_1001"), "act_1001");
  EXPECT_THROW(account_path("act_12/../me"), sdk::StepError);
  Connection c = connection_from(json::object{{"base_url", "http://127.0.0.1:9/meta/"}});
  EXPECT_EQ(graph_url(c, "act_1/insights", {{"time_range", R"({"since":"2024-05-01"})"}}),
            "http://127.0.0.1:9/meta/v21.0/act_1/insights?time_range=%7B%22since%22%3A%222024-05-01%22%7D");
}

}  // namespace
}  // namespace flowpilot::meta_ads
