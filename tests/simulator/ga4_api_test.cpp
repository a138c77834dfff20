#include "sim_fixture.h"

namespace flowpilot::simulator::testing {
namespace {

namespace json = boost::json;

class Ga4Test : public SimulatorTest {
 protected:
  engine::HttpResponse report(const json::object& body, const std::string& property = "345678901") {
    return post_json(url(Vendor::kGa4, "/v1beta/properties/" + property + ":runReport"), body,
                     {{"Authorization", "Bearer " + token_}});
  }
  void SetUp() override {
    SimulatorTest::SetUp();
    token_ = google_access_token();
  }
  std::string token_;
};

json::object by_date_and_source(std::int64_t limit, std::int64_t offset) {
  return json::object{
      {"dateRanges",
       json::array{json::object{{"startDate", "2026-04-01"}, {"endDate", "2026-04-30"}}}},
      {"dimensions",
       json::array{json::object{{"name", "date"}}, json::object{{"name", "sessionSourceMedium"}}}},
      {"metrics",
       json::array{json::object{{"name", "sessions"}}, json::object{{"name", "conversions"}},
                   json::object{{"name", "purchaseRevenue"}}}},
      {"limit", limit},
      {"offset", offset},
      {"returnPropertyQuota", true}};
}

TEST_F(Ga4Test, RowsAreStringsAndPagesAddUp) {
  auto r = report(by_date_and_source(10'000, 0));
  ASSERT_EQ(r.status, 200) << r.body;
  const auto body = body_json(r).as_object();
  EXPECT_EQ(body.at("rowCount"), 30 * 7);
  EXPECT_EQ(body.at("metricHeaders").at(2).at("type"), "TYPE_CURRENCY");
  EXPECT_EQ(body.at("metadata").at("currencyCode"), "EUR");
  EXPECT_TRUE(body.at("propertyQuota").as_object().contains("tokensPerDay"));
  const auto& first = body.at("rows").at(0).as_object();
  EXPECT_EQ(first.at("dimensionValues").at(0).at("value"), "20260401");
  EXPECT_TRUE(first.at("metricValues").at(0).at("value").is_string());
  std::int64_t sessions = 0;
  for (const auto& row : body.at("rows").as_array()) {
    sessions += std::stoll(std::string(row.at("metricValues").at(0).at("value").as_string()));
  }
  std::int64_t paged = 0;
  std::size_t rows = 0;
  for (std::int64_t offset = 0; offset < 210; offset += 50) {
    auto page = report(by_date_and_source(50, offset));
    ASSERT_EQ(page.status, 200);
    const auto pb = body_json(page);
    EXPECT_EQ(pb.at("rowCount"), 210);
    for (const auto& row : pb.at("rows").as_array()) {
      paged += std::stoll(std::string(row.at("metricValues").at(0).at("value").as_string()));
      ++rows;
    }
  }
  EXPECT_EQ(rows, 210u);
  EXPECT_EQ(paged, sessions);
  std::int64_t want = 0;
  for (const auto& d : sim_->dataset().ga4_rows()) {
    if (d.date >= "2026-04-01" && d.date <= "2026-04-30") want += d.sessions;
  }
  EXPECT_EQ(sessions, want);
}

TEST_F(Ga4Test, ErrorsAndQuota) {
  json::object bad = by_date_and_source(10, 0);
  bad["metrics"] = json::array{json::object{{"name", "bounceRateX"}}};
  auto r = report(bad);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(body_json(r).at("error").at("status"), "INVALID_ARGUMENT");
  EXPECT_EQ(report(by_date_and_source(10, 0), "1").status, 403);
  auto anonymous = post_json(url(Vendor::kGa4, "/v1beta/properties/345678901:runReport"),
                             by_date_and_source(1, 0));
  EXPECT_EQ(anonymous.status, 401);
  sim_->set_rate_budget(Vendor::kGa4, RateBudget{1, std::chrono::milliseconds(60'000)});
  EXPECT_EQ(report(by_date_and_source(1, 0)).status, 200);
  auto limited = report(by_date_and_source(1, 0));
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(body_json(limited).at("error").at("status"), "RESOURCE_EXHAUSTED");
}

TEST_F(Ga4Test, RelativeDatesAndEmptyReports) {
  json::object body{{"dateRanges", json::array{json::object{{"startDate", "7daysAgo"},
                                                            {"endDate", "yesterday"}}}},
                    {"dimensions", json::array{json::object{{"name", "date"}}}},
                    {"metrics", json::array{json::object{{"name", "sessions"}}}}};
  auto r = report(body);
  ASSERT_EQ(r.status, 200) << r.body;
  const auto b = body_json(r);
  EXPECT_EQ(b.at("rowCount"), 7);
  EXPECT_EQ(b.at("rows").at(0).at("dimensionValues").at(0).at("value"), "20260424");
  body["dateRanges"] =
      json::array{json::object{{"startDate", "2020-01-01"}, {"endDate", "2020-01-31"}}};
  auto empty = report(body);
  ASSERT_EQ(empty.status, 200);
  EXPECT_FALSE(body_json(empty).as_object().contains("rows"));
}

}  // namespace
}  // namespace flowpilot::simulator::testing
