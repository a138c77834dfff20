// The dashboard's figures (/api/v1/kpis): totals with the previous period, days, anomalies and
// campaigns, computed from the warehouse by the kpi library, and the bad queries refused.
#include "server_fixture.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

namespace flowpilot::web {
namespace {

namespace json = boost::json;

class KpisApiTest : public test::ServerFixture {
 protected:
  // Two Meta campaigns over 56 days up to 2026-05-31: `steady` spends 100 a day with 4
  // conversions and 250 of revenue; `spiky` spends 50 a day with 2 conversions, except 500 on
  // 2026-05-30. One Google Ads campaign in USD spends 20 a day.
  void SetUp() override {
    ServerFixture::SetUp();
    std::vector<engine::FactRow> rows;
    for (int d = 0; d < 56; ++d) {
      const int day_of_may = d - 24;  // 2026-04-06 .. 2026-05-31
      const std::string date =
          day_of_may >= 1 ? fmt::format("2026-05-{:02d}", day_of_may)
                          : fmt::format("2026-04-{:02d}", 30 + day_of_may);
      rows.push_back(fact("meta", "steady", "Steady", date, "EUR", 100, 4, 250));
      rows.push_back(fact("meta", "spiky", "Spiky", date, "EUR", date == "2026-05-30" ? 500 : 50, 2, 60));
      rows.push_back(fact("google_ads", "g1", "Search", date, "USD", 20, 1, 30));
    }
    warehouse_->upsert_facts(rows, "test");
  }

  static engine::FactRow fact(std::string platform, std::string campaign, std::string name,
                              std::string date, std::string currency, int spend, int conversions,
                              int revenue) {
    engine::FactRow f;
    f.platform = std::move(platform);
    f.account_id = "a1";
    f.campaign_id = std::move(campaign);
    f.campaign_name = std::move(name);
    f.date = std::move(date);
    f.currency = std::move(currency);
    f.spend_micros = spend * 1'000'000LL;
    f.conversions_micros = conversions * 1'000'000LL;
    f.revenue_micros = revenue * 1'000'000LL;
    f.impressions = 1000;
    f.clicks = 50;
    return f;
  }

  json::value get(const std::string& target, int status = 200) {
    auto r = call("GET", target);
    EXPECT_EQ(r.status, status) << target << ": " << r.body;
    return json::parse(r.body);
  }

  static const json::object& currency(const json::value& body, std::string_view code) {
    for (const auto& c : body.at("currencies").as_array()) {
      if (c.at("currency").as_string() == code) return c.as_object();
    }
    ADD_FAILURE() << "no " << code;
    static const json::object none;
    return none;
  }
};

TEST_F(KpisApiTest, TotalsComparedWithThePreviousPeriodPerCurrency) {
  const auto body = get("/api/v1/kpis?since=2026-05-25&until=2026-05-31");
  EXPECT_EQ(body.at("period").at("days").as_int64(), 7);
  EXPECT_EQ(body.at("previous").at("since").as_string(), "2026-05-18");
  EXPECT_EQ(body.at("previous").at("until").as_string(), "2026-05-24");
  EXPECT_EQ(body.at("latest_date").as_string(), "2026-05-31");
  ASSERT_EQ(body.at("currencies").as_array().size(), 2u) << "EUR and USD are never added";
  const auto& eur = currency(body, "EUR");
  EXPECT_DOUBLE_EQ(eur.at("totals").at("spend").to_number<double>(), 7 * 150 + 450);
  EXPECT_DOUBLE_EQ(eur.at("previous").at("spend").to_number<double>(), 7 * 150);
  EXPECT_DOUBLE_EQ(eur.at("totals").at("conversions").to_number<double>(), 42);
  EXPECT_NEAR(eur.at("totals").at("cpa").to_number<double>(), 1500.0 / 42, 1e-6);
  EXPECT_NEAR(eur.at("changes").at("spend").at("delta_pct").to_number<double>(), 42.86, 1e-9);
  EXPECT_TRUE(eur.at("totals").at("cac").is_null()) << "no deals: no customers";
  const auto& days = eur.at("days").as_array();
  ASSERT_EQ(days.size(), 7u);
  EXPECT_EQ(days.front().at("date").as_string(), "2026-05-25");
  EXPECT_DOUBLE_EQ(days[5].at("spend").to_number<double>(), 600);
  EXPECT_DOUBLE_EQ(currency(body, "USD").at("totals").at("spend").to_number<double>(), 140);
}

TEST_F(KpisApiTest, TheSpikeIsMarkedAsAnAnomalyAndNothingElse) {
  const auto body = get("/api/v1/kpis?since=2026-05-25&until=2026-05-31");
  const auto& anomalies = currency(body, "EUR").at("anomalies").as_array();
  bool spend_spike = false;
  for (const auto& a : anomalies) {
    EXPECT_EQ(a.at("date").as_string(), "2026-05-30") << a;
    if (a.at("metric").as_string() == "spend") {
      spend_spike = true;
      EXPECT_EQ(a.at("direction").as_string(), "up");
      EXPECT_DOUBLE_EQ(a.at("expected").to_number<double>(), 150);
      EXPECT_NE(a.at("sentence").as_string().find("2026-05-30"), std::string::npos);
    }
  }
  EXPECT_TRUE(spend_spike) << anomalies;
  EXPECT_TRUE(currency(body, "USD").at("anomalies").as_array().empty());
}

TEST_F(KpisApiTest, TheDefaultPeriodIsTheLast28DaysOfData) {
  const auto body = get("/api/v1/kpis");
  EXPECT_EQ(body.at("period").at("since").as_string(), "2026-05-04");
  EXPECT_EQ(body.at("period").at("until").as_string(), "2026-05-31");
  EXPECT_EQ(body.at("platforms"), (json::array{"google_ads", "meta"}));
  const auto meta_only = get("/api/v1/kpis?platform=meta");
  EXPECT_EQ(meta_only.at("currencies").as_array().size(), 1u);
}

TEST_F(KpisApiTest, CampaignsAndTheirDays) {
  // A sync recorded two campaigns' status; the third was never recorded.
  warehouse_->upsert_campaigns({{"meta", "a1", "spiky", "Spiky", "paused"}, {"meta", "a1", "steady", "Steady", "active"}},
                               "sync");
  const auto list = get("/api/v1/kpis/campaigns?since=2026-05-25&until=2026-05-31");
  ASSERT_EQ(list.at("items").as_array().size(), 3u);
  for (const auto& item : list.at("items").as_array()) {
    const auto id = item.at("campaign_id").as_string();
    EXPECT_EQ(item.at("status"), id == "spiky" ? json::value("paused") : id == "steady" ? json::value("active")
                                                                                         : json::value(nullptr))
        << id;
    if (id != "spiky") continue;
    EXPECT_EQ(item.at("campaign_name").as_string(), "Spiky");
    EXPECT_DOUBLE_EQ(item.at("spend").to_number<double>(), 6 * 50 + 500);
    EXPECT_DOUBLE_EQ(item.at("changes").at("spend").at("previous").to_number<double>(), 350);
  }
  const auto one = get("/api/v1/kpis/campaigns/meta/a1/spiky?since=2026-05-25&until=2026-05-31");
  EXPECT_EQ(one.at("campaign").at("campaign_name").as_string(), "Spiky");
  EXPECT_EQ(one.at("campaign").at("currency").as_string(), "EUR");
  EXPECT_EQ(one.at("campaign").at("status"), "paused");
  EXPECT_EQ(one.at("days").as_array().size(), 7u);
  EXPECT_EQ(one.at("funnel").at("impressions").to_number<double>(), 7000);
  EXPECT_EQ(one.at("funnel").at("clicks").to_number<double>(), 350);
  EXPECT_NEAR(one.at("funnel").at("ctr").to_number<double>(), 0.05, 1e-9);
  get("/api/v1/kpis/campaigns/meta/a1/nope", 404);
  get("/api/v1/kpis/campaigns/google_ads/a1/spiky", 404);
}

TEST_F(KpisApiTest, BadQueriesAreRefusedWithTheirField) {
  for (const std::string query : {"since=2026-02-30", "until=yesterday", "since=2026-+5-01", "since=2026-06-01&until=2026-05-01",
                                  "since=2024-01-01&until=2026-05-31"}) {
    const auto body = get("/api/v1/kpis?" + query, 400);
    EXPECT_FALSE(body.at("errors").as_array().empty()) << query;
  }
}

TEST_F(KpisApiTest, AnEmptyWarehouseHasNoFigures) {
  warehouse_ = engine::open_sqlite_warehouse({dir_ / "empty.db"});
  api_->warehouse = warehouse_.get();
  const auto body = get("/api/v1/kpis");
  EXPECT_TRUE(body.at("latest_date").is_null());
  EXPECT_TRUE(body.at("period").is_null());
  EXPECT_TRUE(body.at("currencies").as_array().empty());
  EXPECT_TRUE(get("/api/v1/kpis/campaigns").at("items").as_array().empty());
}

class RecommendationsApiTest : public KpisApiTest {
 protected:
  // `costly` pays 100 per conversion where the others pay 25: kpi.recommend proposes pausing it.
  void SetUp() override {
    KpisApiTest::SetUp();
    std::vector<engine::FactRow> rows;
    for (int day = 4; day <= 31; ++day) {
      rows.push_back(fact("meta", "costly", "Costly", fmt::format("2026-05-{:02d}", day), "EUR", 200, 2, 100));
    }
    warehouse_->upsert_facts(rows, "test");
  }

  std::optional<json::object> pause_of_costly(const std::string& query = "") {
    const auto list = get("/api/v1/recommendations" + query);
    for (const auto& item : list.at("items").as_array()) {
      if (item.at("action").as_string() == "pause" &&
          item.at("campaign").at("campaign_id").as_string() == "costly") {
        return item.as_object();
      }
    }
    return std::nullopt;
  }

  Response decide(const std::string& id, const std::string& verb, std::string body = {}) {
    Headers h;
    if (!body.empty()) h.set("Content-Type", "application/json");
    return call("POST", "/api/v1/recommendations/" + id + "/" + verb, std::move(body), h);
  }
};

TEST_F(RecommendationsApiTest, AcceptingStartsTheActionWorkflowWithWhatItDeclares) {
  define("id: recommendation-pause\ninputs:\n  campaign_id: {type: string, required: true}\n"
         "  accepted_by: {type: string, default: ''}\n"
         "steps:\n  - {id: say, uses: core.log, with: {message: '${{ inputs.campaign_id }} by ${{ inputs.accepted_by }}'}}\n");
  const auto found = pause_of_costly();
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->at("workflow").as_string(), "recommendation-pause");
  EXPECT_TRUE(found->at("decision").is_null());
  EXPECT_NE(found->at("explanation").as_string().find("Costly"), std::string::npos);
  const std::string id(found->at("id").as_string());

  auto accepted = decide(id, "accept", R"({"comment": "too expensive"})");
  ASSERT_EQ(accepted.status, 200) << accepted.body;
  const std::string run(body_of(accepted).at("run_id").as_string());
  ASSERT_EQ(executor_->wait(run, std::chrono::seconds(10)), engine::RunStatus::succeeded);
  const auto logs = store_->get_logs(run);
  ASSERT_FALSE(logs.empty());
  EXPECT_NE(logs.front().message.find("costly by admin@test.local"), std::string::npos) << logs.front().message;

  const auto again = pause_of_costly();
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->at("id").as_string(), id) << "the same rule, campaign and period keep their id";
  EXPECT_EQ(again->at("decision").at("status").as_string(), "accepted");
  EXPECT_EQ(again->at("decision").at("comment").as_string(), "too expensive");
  EXPECT_EQ(again->at("decision").at("run_id").as_string(), run);
  EXPECT_EQ(decide(id, "accept").status, 409) << "decided once";
  EXPECT_EQ(decide(id, "dismiss").status, 409);

  engine::AuditFilter filter;
  filter.action = "recommendation.accept";
  EXPECT_EQ(audit_->list(filter).size(), 1u);
}

TEST_F(RecommendationsApiTest, WithoutAnActionWorkflowAcceptingOnlyRecords) {
  const auto found = pause_of_costly();
  ASSERT_TRUE(found.has_value());
  EXPECT_TRUE(found->at("workflow").is_null());
  auto accepted = decide(std::string(found->at("id").as_string()), "accept");
  ASSERT_EQ(accepted.status, 200) << accepted.body;
  EXPECT_TRUE(body_of(accepted).at("run_id").is_null());
}

TEST_F(RecommendationsApiTest, DismissingIsRecordedAndAnotherPeriodIsAnotherRecommendation) {
  const auto found = pause_of_costly();
  ASSERT_TRUE(found.has_value());
  auto dismissed = decide(std::string(found->at("id").as_string()), "dismiss");
  ASSERT_EQ(dismissed.status, 200) << dismissed.body;
  EXPECT_EQ(body_of(dismissed).at("decision").at("status").as_string(), "dismissed");
  EXPECT_EQ(body_of(dismissed).at("decision").at("by").as_string(), "admin@test.local");
  const auto shorter = pause_of_costly("?since=2026-05-18&until=2026-05-31");
  ASSERT_TRUE(shorter.has_value());
  EXPECT_NE(shorter->at("id"), found->at("id"));
  EXPECT_TRUE(shorter->at("decision").is_null());
}

TEST_F(RecommendationsApiTest, UnknownIdsAndBadBodiesAreRefused) {
  EXPECT_EQ(decide("r_000000000000000000000000", "accept").status, 404);
  const auto found = pause_of_costly();
  ASSERT_TRUE(found.has_value());
  const std::string id(found->at("id").as_string());
  EXPECT_EQ(decide(id, "accept", R"({"comment": 5})").status, 422);
  EXPECT_EQ(decide(id, "accept", "[1]").status, 422);
  EXPECT_EQ(decide(id, "accept", "{").status, 400);
  EXPECT_TRUE(pause_of_costly()->at("decision").is_null()) << "nothing recorded";
  // The id names the period: asked about another period it is not found.
  auto elsewhere = call("POST", "/api/v1/recommendations/" + id + "/accept?since=2026-05-18&until=2026-05-31");
  EXPECT_EQ(elsewhere.status, 404) << elsewhere.body;
}

}  // namespace
}  // namespace flowpilot::web
