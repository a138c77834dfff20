#include "simulator/dataset.h"

#include <gtest/gtest.h>

#include <map>

namespace flowpilot::simulator {
namespace {

DatasetOptions opts(std::uint64_t seed = 42) {
  return DatasetOptions{seed, *parse_date("2026-05-01"), 90};
}

TEST(Dataset, DatesCoverNinetyDaysEndingToday) {
  Dataset d(opts());
  EXPECT_EQ(d.last_date(), "2026-05-01");
  EXPECT_EQ(d.first_date(), "2026-02-01");
  EXPECT_EQ(d.dates().size(), 90u);
  EXPECT_EQ(format_date(*parse_date("2024-02-29")), "2024-02-29");
  EXPECT_FALSE(parse_date("2023-02-29"));
  EXPECT_FALSE(parse_date("2023-2-01"));
}

TEST(Dataset, SameSeedSameRowsOtherSeedDiffers) {
  Dataset a(opts()), b(opts()), c(opts(7));
  ASSERT_EQ(a.meta_rows().size(), b.meta_rows().size());
  std::int64_t sa = 0, sb = 0, sc = 0;
  for (std::size_t i = 0; i < a.meta_rows().size(); ++i) {
    sa += a.meta_rows()[i].spend_cents;
    sb += b.meta_rows()[i].spend_cents;
    sc += c.meta_rows()[i].spend_cents;
    ASSERT_EQ(a.meta_rows()[i].purchases, b.meta_rows()[i].purchases);
  }
  EXPECT_EQ(sa, sb);
  EXPECT_NE(sa, sc);
  EXPECT_EQ(a.deals().size(), b.deals().size());
  EXPECT_EQ(a.deals()[5].amount_cents, b.deals()[5].amount_cents);
}

TEST(Dataset, ADayDoesNotDependOnTheWindow) {
  // The same calendar day seen from two anchor dates has the same numbers.
  Dataset a(opts());
  Dataset b(DatasetOptions{42, *parse_date("2026-05-11"), 90});
  std::map<std::string, std::int64_t> spend_a, spend_b;
  for (const auto& r : a.meta_rows()) {
    if (r.date == "2026-04-01") spend_a[r.ad_id] = r.spend_cents;
  }
  for (const auto& r : b.meta_rows()) {
    if (r.date == "2026-04-01") spend_b[r.ad_id] = r.spend_cents;
  }
  ASSERT_FALSE(spend_a.empty());
  EXPECT_EQ(spend_a, spend_b);
}

TEST(Dataset, AccountsAndCampaigns) {
  Dataset d(opts());
  int meta = 0, google = 0;
  for (const auto& c : d.campaigns()) {
    if (c.platform == "meta") {
      ++meta;
      EXPECT_EQ(c.adsets.size(), 2u);
    } else {
      ++google;
    }
  }
  EXPECT_EQ(meta, 9);
  EXPECT_EQ(google, 8);
  ASSERT_NE(d.find_account("meta", "act_1002"), nullptr);
  EXPECT_EQ(d.find_account("meta", "act_1002")->currency, "USD");
  EXPECT_EQ(d.contacts().size(), 12'000u);
  EXPECT_GT(d.deals().size(), 500u);
}

struct CampaignTotals {
  std::int64_t spend = 0, impressions = 0, clicks = 0, link_clicks = 0, purchases = 0, value = 0;
};

std::map<std::string, CampaignTotals> meta_totals(const Dataset& d, const std::string& from,
                                                  const std::string& to) {
  std::map<std::string, CampaignTotals> out;
  for (const auto& r : d.meta_rows()) {
    if (r.date < from || r.date > to) continue;
    auto& t = out[r.campaign_id];
    t.spend += r.spend_cents;
    t.impressions += r.impressions;
    t.clicks += r.clicks;
    t.link_clicks += r.link_clicks;
    t.purchases += r.purchases;
    t.value += r.purchase_value_cents;
  }
  return out;
}

const Scenario* scenario(const Dataset& d, const std::string& name,
                         const std::string& campaign = "") {
  for (const auto& s : d.scenarios()) {
    if (s.name == name && (campaign.empty() || s.campaign_id == campaign)) return &s;
  }
  return nullptr;
}

TEST(Dataset, ZeroConversionCampaignSpendsAndNeverConverts) {
  Dataset d(opts());
  const Scenario* s = scenario(d, "zero_conversions");
  ASSERT_NE(s, nullptr);
  auto t = meta_totals(d, d.first_date(), d.last_date())[s->campaign_id];
  EXPECT_GT(t.spend, 0);
  EXPECT_EQ(t.purchases, 0);
}

TEST(Dataset, CpaDriftsUpInTheLastWeeks) {
  Dataset d(opts());
  int drifting = 0;
  for (const auto& s : d.scenarios()) {
    if (s.name != "cpa_drift") continue;
    ++drifting;
    double early_cpa, late_cpa;
    if (s.platform == "meta") {
      auto early = meta_totals(d, "2026-02-01", "2026-03-15")[s.campaign_id];
      auto late = meta_totals(d, "2026-04-18", "2026-05-01")[s.campaign_id];
      early_cpa = static_cast<double>(early.spend) / static_cast<double>(early.purchases);
      late_cpa = static_cast<double>(late.spend) / static_cast<double>(late.purchases);
    } else {
      double es = 0, ec = 0, ls = 0, lc = 0;
      for (const auto& r : d.google_rows()) {
        if (r.campaign_id != s.campaign_id) continue;
        if (r.date <= "2026-03-15") {
          es += static_cast<double>(r.cost_micros);
          ec += r.conversions;
        } else if (r.date >= "2026-04-18") {
          ls += static_cast<double>(r.cost_micros);
          lc += r.conversions;
        }
      }
      early_cpa = es / ec;
      late_cpa = ls / lc;
    }
    EXPECT_GT(late_cpa, 1.6 * early_cpa) << s.campaign_id;
  }
  EXPECT_GE(drifting, 3);
}

TEST(Dataset, OneDaySpendSpike) {
  Dataset d(opts());
  const Scenario* s = scenario(d, "spend_spike");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->first_date, "2026-04-19");
  std::map<std::string, std::int64_t> by_day;
  for (const auto& r : d.meta_rows()) {
    if (r.campaign_id == s->campaign_id) by_day[r.date] += r.spend_cents;
  }
  std::int64_t others = 0;
  for (const auto& [day, spend] : by_day) {
    if (day != s->first_date) others = std::max(others, spend);
  }
  EXPECT_GT(by_day[s->first_date], 2.5 * static_cast<double>(others));
}

TEST(Dataset, BudgetLimitedHighRoas) {
  Dataset d(opts());
  const Scenario* s = scenario(d, "budget_limited_high_roas");
  ASSERT_NE(s, nullptr);
  const Campaign* c = d.find_campaign(s->campaign_id);
  std::map<std::string, std::int64_t> by_day;
  for (const auto& r : d.meta_rows()) {
    if (r.campaign_id == c->id) by_day[r.date] += r.spend_cents;
  }
  for (const auto& [day, spend] : by_day) {
    EXPECT_LE(spend, c->daily_budget) << day;
    EXPECT_GE(spend, c->daily_budget * 95 / 100) << day;
  }
  auto t = meta_totals(d, d.first_date(), d.last_date())[c->id];
  EXPECT_GT(static_cast<double>(t.value) / static_cast<double>(t.spend), 5.0);
}

TEST(Dataset, CtrScenarios) {
  Dataset d(opts());
  auto all = meta_totals(d, d.first_date(), d.last_date());
  auto ctr = [](const CampaignTotals& t) {
    return static_cast<double>(t.clicks) / static_cast<double>(t.impressions);
  };
  const auto low = all[scenario(d, "low_ctr")->campaign_id];
  EXPECT_LT(ctr(low), 0.005);
  const auto lp = all[scenario(d, "good_ctr_poor_cvr")->campaign_id];
  EXPECT_GT(ctr(lp), 0.03);
  EXPECT_LT(static_cast<double>(lp.purchases) / static_cast<double>(lp.link_clicks), 0.006);
  const std::string fatigue = scenario(d, "creative_fatigue")->campaign_id;
  std::map<std::string, CampaignTotals> first, last;
  const auto early = meta_totals(d, "2026-02-01", "2026-02-14")[fatigue];
  const auto late = meta_totals(d, "2026-04-18", "2026-05-01")[fatigue];
  EXPECT_LT(ctr(late), 0.6 * ctr(early));
}

TEST(Dataset, GoogleMoneyIsWholeCentsInMicros) {
  Dataset d(opts());
  for (const auto& r : d.google_rows()) {
    ASSERT_EQ(r.cost_micros % 10'000, 0);
    ASSERT_GE(r.cost_micros, 0);
  }
}

}  // namespace
}  // namespace flowpilot::simulator
