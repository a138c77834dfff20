// The SQLite warehouse: idempotent upserts on the natural key, restated days, exact grouped sums
// checked against sums computed here, and malformed rows refused whole.
#include "engine/warehouse/warehouse.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <random>

namespace flowpilot::engine {
namespace {

class WarehouseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = std::filesystem::temp_directory_path() / ("flowpilot-wh-" + std::to_string(rd()));
    std::filesystem::create_directories(dir_);
    warehouse_ = open_sqlite_warehouse({dir_ / "warehouse.db"});
  }
  void TearDown() override {
    warehouse_.reset();
    std::filesystem::remove_all(dir_);
  }
  static FactRow fact(std::string campaign, std::string date, std::int64_t spend_micros,
                      std::string currency = "EUR", std::string platform = "meta") {
    FactRow r;
    r.platform = std::move(platform);
    r.account_id = "act_1";
    r.campaign_id = std::move(campaign);
    r.campaign_name = "Campaign " + r.campaign_id;
    r.date = std::move(date);
    r.currency = std::move(currency);
    r.spend_micros = spend_micros;
    r.impressions = 1000;
    r.clicks = 10;
    r.conversions_micros = 1'500'000;
    r.revenue_micros = 3 * spend_micros;
    return r;
  }
  std::filesystem::path dir_;
  std::unique_ptr<Warehouse> warehouse_;
};

TEST_F(WarehouseTest, UpsertsAreIdempotentAndRestatedDaysOverwrite) {
  std::vector<FactRow> rows = {fact("c1", "2026-05-01", 100'000), fact("c1", "2026-05-02", 200'000),
                               fact("c2", "2026-05-01", 300'000)};
  auto first = warehouse_->upsert_facts(rows, "batch-1");
  EXPECT_EQ(first.inserted, 3);
  auto again = warehouse_->upsert_facts(rows, "batch-2");
  EXPECT_EQ(again.inserted, 0);
  EXPECT_EQ(again.unchanged, 3);
  rows[1].spend_micros = 250'000;  // the platform restated May 2
  auto restated = warehouse_->upsert_facts(rows, "batch-3");
  EXPECT_EQ(restated.updated, 1);
  EXPECT_EQ(restated.unchanged, 2);
  auto stored = warehouse_->facts({});
  ASSERT_EQ(stored.size(), 3u);
  EXPECT_EQ(stored[1].campaign_id, "c2");  // ordered by date, then campaign
  EXPECT_EQ(stored[2].spend_micros, 250'000);
  // Reopening finds the same data.
  warehouse_.reset();
  warehouse_ = open_sqlite_warehouse({dir_ / "warehouse.db"});
  EXPECT_EQ(warehouse_->facts({}).size(), 3u);
}

TEST_F(WarehouseTest, GroupedSumsAreExactAndCurrenciesStayApart) {
  std::vector<FactRow> rows;
  std::mt19937 random(7);
  std::map<std::string, std::int64_t> expected_by_currency;
  std::int64_t expected_c1 = 0;
  for (int day = 1; day <= 28; ++day) {
    const std::string date = "2026-02-" + std::string(day < 10 ? "0" : "") + std::to_string(day);
    for (const char* campaign : {"c1", "c2", "c3"}) {
      const std::int64_t spend = random() % 100'000'000;
      const std::string currency = std::string(campaign) == "c3" ? "USD" : "EUR";
      rows.push_back(fact(campaign, date, spend, currency));
      if (day >= 10 && day <= 20) {
        expected_by_currency[currency] += spend;
        if (std::string(campaign) == "c1") expected_c1 += spend;
      }
    }
  }
  warehouse_->upsert_facts(rows, "b");
  FactQuery totals;
  totals.since = "2026-02-10";
  totals.until = "2026-02-20";
  totals.grouped = true;
  auto by_currency = warehouse_->facts(totals);
  ASSERT_EQ(by_currency.size(), 2u);
  for (const auto& t : by_currency) {
    EXPECT_EQ(t.spend_micros, expected_by_currency[t.currency]) << t.currency;
    EXPECT_TRUE(t.campaign_id.empty());
  }
  FactQuery by_campaign = totals;
  by_campaign.group_by = {"campaign_id"};
  by_campaign.campaign_ids = {"c1"};
  auto c1 = warehouse_->facts(by_campaign);
  ASSERT_EQ(c1.size(), 1u);
  EXPECT_EQ(c1[0].spend_micros, expected_c1);
  EXPECT_EQ(c1[0].rows, 11);
  EXPECT_EQ(c1[0].campaign_name, "Campaign c1");
  FactQuery bad;
  bad.group_by = {"spend; DROP TABLE daily_facts"};
  EXPECT_THROW(warehouse_->facts(bad), std::invalid_argument);
  bad.group_by = {};
  bad.since = "last week";
  EXPECT_THROW(warehouse_->facts(bad), std::invalid_argument);
}

TEST_F(WarehouseTest, AMalformedRowRefusesTheWholeBatch) {
  std::vector<FactRow> rows = {fact("c1", "2026-05-01", 1), fact("c2", "01/05/2026", 2)};
  try {
    warehouse_->upsert_facts(rows, "b");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "rows[1].date `01/05/2026` is not a date (YYYY-MM-DD)");
  }
  EXPECT_TRUE(warehouse_->facts({}).empty());
  rows[1] = fact("", "2026-05-01", 2);
  EXPECT_THROW(warehouse_->upsert_facts(rows, "b"), std::invalid_argument);
}

TEST_F(WarehouseTest, DealsKeepUnknownAmountsAndFilterByCloseDate) {
  DealRow won;
  won.deal_id = "512";
  won.amount_micros = 1'500'050'000;
  won.stage = "closedwon";
  won.close_date = "2026-05-03";
  won.channel = "PAID_SEARCH";
  DealRow open = won;
  open.deal_id = "513";
  open.amount_micros.reset();
  open.stage = "contractsent";
  open.close_date = "";
  EXPECT_EQ(warehouse_->upsert_deals({won, open}, "b").inserted, 2);
  EXPECT_EQ(warehouse_->upsert_deals({won, open}, "b").unchanged, 2);
  DealQuery may;
  may.closed_since = "2026-05-01";
  may.closed_until = "2026-05-31";
  auto deals = warehouse_->deals(may);
  ASSERT_EQ(deals.size(), 1u);
  EXPECT_EQ(deals[0].amount_micros, 1'500'050'000);
  auto all = warehouse_->deals({});
  ASSERT_EQ(all.size(), 2u);
  EXPECT_FALSE(all[1].amount_micros.has_value());
}

TEST_F(WarehouseTest, CampaignStatusesUpsertKeepNamesAndFilter) {
  CampaignRow brand{"meta", "act_1", "c1", "Brand", "active"};
  CampaignRow video{"google_ads", "123", "c2", "Video", "active"};
  EXPECT_EQ(warehouse_->upsert_campaigns({brand, video}, "sync-1").inserted, 2);
  EXPECT_EQ(warehouse_->upsert_campaigns({brand, video}, "sync-2").unchanged, 2);
  // A pause reports no name: the stored one stays.
  CampaignRow paused{"meta", "act_1", "c1", "", "paused"};
  const auto counts = warehouse_->upsert_campaigns({paused}, "pause");
  EXPECT_EQ(counts.updated, 1);
  CampaignQuery meta;
  meta.platforms = {"meta"};
  auto found = warehouse_->campaigns(meta);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].name, "Brand");
  EXPECT_EQ(found[0].status, "paused");
  EXPECT_GT(found[0].updated_at, 0);
  // Reporting the same status again is unchanged, with or without the name.
  EXPECT_EQ(warehouse_->upsert_campaigns({paused}, "again").unchanged, 1);
  EXPECT_EQ(warehouse_->campaigns({}).size(), 2u);
  // The names are erasable like the facts' campaign names.
  EXPECT_EQ(warehouse_->erase_mentions({"video"}, "[erased]", false), 1);
  EXPECT_EQ(warehouse_->campaigns({{"google_ads"}, {}, {}})[0].name, "[erased]");
  // A row without its key or status refuses the batch.
  CampaignRow no_status{"meta", "act_1", "c3", "New", ""};
  EXPECT_THROW(warehouse_->upsert_campaigns({no_status}, "b"), std::invalid_argument);
  EXPECT_EQ(warehouse_->campaigns({}).size(), 2u);
}

TEST(CampaignStatus, PlatformStatusesShareOneVocabulary) {
  EXPECT_EQ(normalize_campaign_status("ACTIVE"), "active");
  EXPECT_EQ(normalize_campaign_status("ENABLED"), "active");
  EXPECT_EQ(normalize_campaign_status("PAUSED"), "paused");
  EXPECT_EQ(normalize_campaign_status("DELETED"), "removed");
  EXPECT_EQ(normalize_campaign_status("REMOVED"), "removed");
  EXPECT_EQ(normalize_campaign_status("ARCHIVED"), "archived");
  EXPECT_EQ(normalize_campaign_status("IN_PROCESS"), "in_process");
}

}  // namespace
}  // namespace flowpilot::engine
