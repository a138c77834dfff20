// kpi.recommend: each of the seven rules firing and not firing, with its score factors worked out
// by hand (base_score × sample_adequacy × trend_stability, see docs/analytics.md).
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <functional>

#include "kpi.h"

namespace flowpilot::kpi {
namespace {

namespace json = boost::json;

struct Day {
  Day(double spend_, std::int64_t impressions_, std::int64_t clicks_, double conversions_,
      double revenue_, std::optional<double> budget_ = std::nullopt)
      : spend(spend_),
        impressions(impressions_),
        clicks(clicks_),
        conversions(conversions_),
        revenue(revenue_),
        budget(budget_) {}
  double spend;
  std::int64_t impressions;
  std::int64_t clicks;
  double conversions;
  double revenue;
  std::optional<double> budget;
};

// `n` daily rows of campaign `id` from 2026-05-01, the i-th given by `day(i)`.
void add_campaign(json::array& rows, const std::string& id, int n,
                  const std::function<Day(int)>& day) {
  const std::int32_t d0 = *parse_day("2026-05-01");
  for (int i = 0; i < n; ++i) {
    const Day d = day(i);
    json::object r{{"platform", "meta"},
                   {"account_id", "act_1"},
                   {"campaign_id", id},
                   {"campaign_name", "Camp " + id},
                   {"date", format_day(d0 + i)},
                   {"spend", d.spend},
                   {"impressions", d.impressions},
                   {"clicks", d.clicks},
                   {"conversions", d.conversions},
                   {"revenue", d.revenue},
                   {"currency", "EUR"}};
    if (d.budget) r["daily_budget"] = *d.budget;
    rows.push_back(std::move(r));
  }
}

json::array campaign(const std::string& id, int n, Day d) {
  json::array rows;
  add_campaign(rows, id, n, [&](int) { return d; });
  return rows;
}

json::object run(json::array rows, std::string_view targets = "{}") {
  return recommend(json::object{{"rows", std::move(rows)}, {"targets", json::parse(targets)}});
}

// The recommendation of `rule` for campaign `id`, or null.
const json::object* find(const json::object& out, std::string_view rule, std::string_view id) {
  for (const auto& r : out.at("recommendations").as_array()) {
    if (r.at("rule").as_string() == rule && r.at("campaign").at("campaign_id").as_string() == id) {
      return &r.as_object();
    }
  }
  return nullptr;
}

void expect_factors(const json::object* r, double base, double adequacy, double stability,
                    double score) {
  ASSERT_NE(r, nullptr);
  EXPECT_DOUBLE_EQ(r->at("factors").at("base_score").as_double(), base);
  EXPECT_DOUBLE_EQ(r->at("factors").at("sample_adequacy").as_double(), adequacy);
  EXPECT_DOUBLE_EQ(r->at("factors").at("trend_stability").as_double(), stability);
  EXPECT_DOUBLE_EQ(r->at("score").as_double(), score);
}

std::string text(const json::object* r) {
  return r == nullptr ? "" : std::string(r->at("explanation").as_string());
}

TEST(KpiRecommend, PauseHighCpa) {
  // CPA 100 / 2 = 50 against 40: 25% above, past the 20% margin → base 0.5 × 0.25 / 0.2 = 0.625;
  // 20 conversions → adequacy 20 / 30; above target on every day → stability 1.
  const json::object out = run(campaign("c1", 10, {100, 1000, 20, 2, 0}), R"({"target_cpa": 40})");
  const json::object* r = find(out, "pause_high_cpa", "c1");
  expect_factors(r, 0.625, 0.6667, 1, 0.4167);
  EXPECT_EQ(r->at("action"), json::value("pause"));
  EXPECT_EQ(r->at("campaign").at("campaign_name"), json::value("Camp c1"));
  EXPECT_DOUBLE_EQ(r->at("evidence").at("cpa").as_double(), 50);
  EXPECT_NE(text(r).find("is 50.00, 25% above the target of 40.00 (spend 1000.00 for 20 "
                         "conversions); it was above target on 10 of 10 days with spend"),
            std::string::npos)
      << text(r);
  // 45 is only 12.5% above 40.
  EXPECT_EQ(find(run(campaign("c1", 10, {90, 1000, 20, 2, 0}), R"({"target_cpa": 40})"),
                 "pause_high_cpa", "c1"),
            nullptr);
}

TEST(KpiRecommend, TrendStabilityIsTheShareOfDaysWithTheSignal) {
  // Days alternate CPA 30 and 70 (one conversion a day): CPA 500 / 10 = 50 over the window, but
  // above 40 on 5 of 10 days → stability 0.5; 10 conversions → adequacy 1/3.
  json::array rows;
  add_campaign(rows, "c1", 10, [](int i) { return Day{i % 2 ? 70.0 : 30.0, 1000, 20, 1, 0}; });
  expect_factors(find(run(rows, R"({"target_cpa": 40})"), "pause_high_cpa", "c1"), 0.625, 0.3333,
                 0.5, 0.1042);
}

TEST(KpiRecommend, ScaleHighRoasWhenBudgetLimited) {
  // ROAS 285 / 95 = 3 against 2: 50% above → base 1; spend 95 of a 100 budget (95% ≥ 90%);
  // 30 conversions → adequacy 1.
  const json::object out =
      run(campaign("c1", 10, {95, 10000, 300, 3, 285, 100}), R"({"target_roas": 2})");
  const json::object* r = find(out, "scale_high_roas", "c1");
  expect_factors(r, 1, 1, 1, 1);
  EXPECT_EQ(r->at("action"), json::value("increase_budget"));
  EXPECT_DOUBLE_EQ(r->at("evidence").at("budget_utilization").as_double(), 0.95);
  EXPECT_NE(text(r).find("spends 95% of its daily budget of 100.00"), std::string::npos) << text(r);
  // Half the budget unused: not budget-limited. No budget known: cannot tell.
  EXPECT_EQ(find(run(campaign("c1", 10, {50, 10000, 300, 3, 150, 100}), R"({"target_roas": 2})"),
                 "scale_high_roas", "c1"),
            nullptr);
  EXPECT_EQ(find(run(campaign("c1", 10, {95, 10000, 300, 3, 285}), R"({"target_roas": 2})"),
                 "scale_high_roas", "c1"),
            nullptr);
}

TEST(KpiRecommend, CutLowRoas) {
  // ROAS 1 against 2: 50% below → base 1; 30 conversions → adequacy 1; below every day.
  const json::object out =
      run(campaign("c1", 10, {100, 10000, 300, 3, 100}), R"({"target_roas": 2})");
  const json::object* r = find(out, "cut_low_roas", "c1");
  expect_factors(r, 1, 1, 1, 1);
  EXPECT_EQ(r->at("action"), json::value("decrease_budget"));
  EXPECT_NE(text(r).find("is 1, 50% below the target of 2"), std::string::npos) << text(r);
  // 1.8 is only 10% below.
  EXPECT_EQ(find(run(campaign("c1", 10, {100, 10000, 300, 3, 180}), R"({"target_roas": 2})"),
                 "cut_low_roas", "c1"),
            nullptr);
}

TEST(KpiRecommend, CreativeFatigue) {
  // 14 days of 10,000 impressions with clicks 200, 193, ..., 109: CTR falls on a straight line
  // from 2% to 1.09% (45.5% lower, past 20% → base 1), R² = 1, 2,163 clicks → adequacy 1.
  json::array rows;
  add_campaign(rows, "c1", 14, [](int i) { return Day{50, 10000, 200 - 7 * i, 1, 0}; });
  const json::object out = run(rows);
  const json::object* r = find(out, "creative_fatigue", "c1");
  expect_factors(r, 1, 1, 1, 1);
  EXPECT_EQ(r->at("action"), json::value("refresh_creative"));
  EXPECT_DOUBLE_EQ(r->at("evidence").at("ctr_start").as_double(), 0.02);
  EXPECT_DOUBLE_EQ(r->at("evidence").at("ctr_end").as_double(), 0.0109);
  EXPECT_NE(text(r).find("fell from about 2.00% to 1.09% over 14 days"), std::string::npos)
      << text(r);
  // A flat CTR is no fatigue; nor is a falling CTR while impressions swing (5,000 / 15,000).
  EXPECT_EQ(find(run(campaign("c1", 14, {50, 10000, 200, 1, 0})), "creative_fatigue", "c1"),
            nullptr);
  json::array swinging;
  add_campaign(swinging, "c1", 14, [](int i) {
    const std::int64_t impressions = i % 2 ? 15000 : 5000;
    return Day{50, impressions, impressions * (200 - 7 * i) / 10000, 1, 0};
  });
  EXPECT_EQ(find(run(swinging), "creative_fatigue", "c1"), nullptr);
  // ... unless the rows report a frequency that keeps rising: the same people see the ads more.
  for (std::size_t i = 0; i < swinging.size(); ++i) {
    swinging[i].as_object()["frequency"] = 1.0 + 0.1 * static_cast<double>(i);
  }
  const json::object with_frequency = run(swinging);
  const json::object* f = find(with_frequency, "creative_fatigue", "c1");
  ASSERT_NE(f, nullptr);
  EXPECT_NE(text(f).find("frequency held or rose"), std::string::npos) << text(f);
  EXPECT_GT(f->at("evidence").at("frequency_change").as_double(), 0);
  // Fewer days than fatigue_min_days: not judged.
  json::array short_rows;
  add_campaign(short_rows, "c1", 6, [](int i) { return Day{50, 10000, 200 - 20 * i, 1, 0}; });
  EXPECT_EQ(find(run(short_rows), "creative_fatigue", "c1"), nullptr);
}

TEST(KpiRecommend, LowCtr) {
  // CTR 1% against a 2% benchmark: 50% below, past 30% → base 0.5 × 0.5 / 0.3 = 0.8333;
  // 100,000 impressions → adequacy 1.
  const json::object out =
      run(campaign("c1", 10, {50, 10000, 100, 1, 0}), R"({"ctr_benchmark": 0.02})");
  const json::object* r = find(out, "low_ctr", "c1");
  expect_factors(r, 0.8333, 1, 1, 0.8333);
  EXPECT_NE(text(r).find("is 1.00%, 50% below the benchmark of 2.00%"), std::string::npos)
      << text(r);
  EXPECT_EQ(find(run(campaign("c1", 10, {50, 10000, 150, 1, 0}), R"({"ctr_benchmark": 0.02})"),
                 "low_ctr", "c1"),
            nullptr);
}

TEST(KpiRecommend, LandingPageProblem) {
  // CTR 3% ≥ 2%, CVR 1% against 5%: 80% below, past 50% → base 0.8; 3,000 clicks × 5% = 150
  // expected conversions → adequacy 1.
  const char* targets = R"({"ctr_benchmark": 0.02, "cvr_benchmark": 0.05})";
  const json::object out = run(campaign("c1", 10, {50, 10000, 300, 3, 0}), targets);
  const json::object* r = find(out, "landing_page", "c1");
  expect_factors(r, 0.8, 1, 1, 0.8);
  EXPECT_EQ(r->at("action"), json::value("review_landing_page"));
  // Poor CTR too: the ad is the problem, not the page.
  EXPECT_EQ(find(run(campaign("c1", 10, {50, 10000, 100, 1, 0}), targets), "landing_page", "c1"),
            nullptr);
  // CVR 4% is only 20% below.
  EXPECT_EQ(find(run(campaign("c1", 10, {50, 10000, 300, 12, 0}), targets), "landing_page", "c1"),
            nullptr);
}

TEST(KpiRecommend, ZeroConversionsWithSpend) {
  // 100 spent without a conversion against a 40 threshold (the CPA target) → base
  // min(1, 0.5 × 100 / 40) = 1; 50 clicks × 5% = 2.5 expected conversions → adequacy 2.5 / 3.
  const char* targets = R"({"target_cpa": 40, "cvr_benchmark": 0.05})";
  const json::object out = run(campaign("c1", 5, {20, 1000, 10, 0, 0}), targets);
  const json::object* r = find(out, "zero_conversions", "c1");
  expect_factors(r, 1, 0.8333, 1, 0.8333);
  EXPECT_EQ(r->at("action"), json::value("pause"));
  EXPECT_NE(text(r).find("spent 100.00 with no conversion (50 clicks, about 2.5 conversions "
                         "expected"),
            std::string::npos)
      << text(r);
  EXPECT_EQ(find(run(campaign("c1", 1, {30, 1000, 10, 0, 0}), targets), "zero_conversions", "c1"),
            nullptr);
  EXPECT_EQ(find(run(campaign("c1", 5, {20, 1000, 10, 1, 0}), targets), "zero_conversions", "c1"),
            nullptr);
}

TEST(KpiRecommend, TargetsDefaultToTheAccountMedian) {
  json::array rows;
  add_campaign(rows, "a", 10, [](int) { return Day{20, 1000, 20, 1, 0}; });   // CPA 20
  add_campaign(rows, "b", 10, [](int) { return Day{30, 1000, 20, 1, 0}; });   // CPA 30
  add_campaign(rows, "c", 10, [](int) { return Day{100, 1000, 20, 1, 0}; });  // CPA 100
  const json::object out = run(rows);
  EXPECT_DOUBLE_EQ(out.at("targets").at("EUR").at("target_cpa").at("value").as_double(), 30);
  EXPECT_EQ(out.at("targets").at("EUR").at("target_cpa").at("source"),
            json::value("account_median"));
  EXPECT_NE(find(out, "pause_high_cpa", "c"), nullptr);
  EXPECT_EQ(find(out, "pause_high_cpa", "a"), nullptr);
  EXPECT_EQ(find(out, "pause_high_cpa", "b"), nullptr);
}

TEST(KpiRecommend, ScoresStayWithinZeroAndOneAndAreSorted) {
  json::array rows;
  for (int c = 0; c < 12; ++c) {
    add_campaign(rows, "c" + std::to_string(c), 14, [c](int i) {
      const double spend = 10.0 + 13.0 * c + (i % 3);
      const std::int64_t impressions = 1000 + 700 * c;
      const std::int64_t clicks = std::max<std::int64_t>(0, 5 + 3 * c - (c % 4) * i / 2);
      const double conversions = c % 5 == 0 ? 0 : (c + i) % 4;
      return Day{spend,
                 impressions,
                 clicks,
                 conversions,
                 conversions * (c % 3) * 25.0,
                 c % 2 ? std::optional<double>(spend * 1.02) : std::nullopt};
    });
  }
  const json::object out = run(rows, R"({"target_cpa": 15, "target_roas": 2})");
  const json::array& recs = out.at("recommendations").as_array();
  ASSERT_GT(recs.size(), 5u);
  double last = 1;
  for (const auto& r : recs) {
    const double score = r.at("score").as_double();
    EXPECT_GE(score, 0);
    EXPECT_LE(score, last);
    last = score;
    for (const char* f : {"base_score", "sample_adequacy", "trend_stability"}) {
      const double v = r.at("factors").at(f).as_double();
      EXPECT_GE(v, 0) << f;
      EXPECT_LE(v, 1) << f;
    }
    EXPECT_FALSE(r.at("explanation").as_string().empty());
  }
  const json::object filtered = recommend(json::object{
      {"rows", rows}, {"targets", json::parse(R"({"target_cpa": 15})")}, {"min_score", 0.5}});
  for (const auto& r : filtered.at("recommendations").as_array()) {
    EXPECT_GE(r.at("score").as_double(), 0.5);
  }
}

TEST(KpiRecommend, UnknownTargetsAreRefused) {
  try {
    run(json::array(), R"({"target_cpq": 4})");
    FAIL() << "accepted an unknown target";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("with.targets.target_cpq"), std::string::npos);
  }
  EXPECT_THROW(run(json::array(), R"({"target_cpa": -4})"), InputError);
  EXPECT_EQ(run(json::array()).at("count").as_int64(), 0);
}

}  // namespace
}  // namespace flowpilot::kpi
