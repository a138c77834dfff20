// The warehouse contract: idempotent upserts on the natural key, restated days, exact grouped sums
// checked against sums computed here, and malformed rows refused whole. Runs on SQLite, and on
// PostgreSQL in ctest's pg. copies (postgres_warehouse_test.cpp has what only PostgreSQL does).
#include "engine/warehouse/warehouse.h"
#include "store_raw_sql.h"
#include "store_under_test.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <random>
#include <thread>
#include <tuple>

namespace flowpilot::engine {
namespace {

class WarehouseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = std::filesystem::temp_directory_path() / ("flowpilot-wh-" + std::to_string(rd()));
    std::filesystem::create_directories(dir_);
    warehouse_ = testing::open_warehouse_under_test(path());
  }
  std::filesystem::path path() const { return dir_ / "warehouse.db"; }
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
  warehouse_ = testing::open_warehouse_under_test(path());
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

TEST_F(WarehouseTest, RepeatedKeysInOneBatchCountAsIfLoadedOneByOne) {
  const FactRow a1 = fact("c1", "2026-05-01", 100);
  FactRow a2 = a1;
  a2.spend_micros = 200;
  const FactRow b = fact("c2", "2026-05-01", 300);
  // a1 and b are new, a2 restates a1, then a2 and b come again unchanged.
  auto counts = warehouse_->upsert_facts({a1, b, a2, a2, b}, "b1");
  EXPECT_EQ(counts.inserted, 2);
  EXPECT_EQ(counts.updated, 1);
  EXPECT_EQ(counts.unchanged, 2);
  auto stored = warehouse_->facts({});
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored[0].spend_micros, 200);
  // Back and forth: every change counts, and the last row of the batch stays.
  counts = warehouse_->upsert_facts({a1, a2, a1}, "b2");
  EXPECT_EQ(counts.inserted, 0);
  EXPECT_EQ(counts.updated, 3);
  EXPECT_EQ(counts.unchanged, 0);
  EXPECT_EQ(warehouse_->facts({})[0].spend_micros, 100);

  DealRow known;
  known.deal_id = "7";
  known.amount_micros = 5'000'000;
  DealRow unknown = known;
  unknown.amount_micros.reset();
  counts = warehouse_->upsert_deals({known, unknown, unknown}, "b");
  EXPECT_EQ(counts.inserted, 1);
  EXPECT_EQ(counts.updated, 1);
  EXPECT_EQ(counts.unchanged, 1);
  ASSERT_EQ(warehouse_->deals({}).size(), 1u);
  EXPECT_FALSE(warehouse_->deals({})[0].amount_micros.has_value());

  // A nameless row keeps the name the row before it gave.
  const CampaignRow named{"meta", "act_1", "c1", "Brand", "active"};
  const CampaignRow paused{"meta", "act_1", "c1", "", "paused"};
  const CampaignRow renamed{"meta", "act_1", "c1", "Brand 2", "paused"};
  counts = warehouse_->upsert_campaigns({named, paused, paused, renamed, paused}, "b");
  EXPECT_EQ(counts.inserted, 1);
  EXPECT_EQ(counts.updated, 2);
  EXPECT_EQ(counts.unchanged, 2);
  const auto campaigns = warehouse_->campaigns({});
  ASSERT_EQ(campaigns.size(), 1u);
  EXPECT_EQ(campaigns[0].name, "Brand 2");
  EXPECT_EQ(campaigns[0].status, "paused");
}

// SQLite's row-by-row upsert, written out: what the warehouse must report for any batch.
struct FactModel {
  // In the order facts({}) returns: date, platform, account, campaign.
  using Key = std::tuple<std::string, std::string, std::string, std::string>;
  std::map<Key, FactRow> stored;

  UpsertCounts apply(const std::vector<FactRow>& rows) {
    UpsertCounts counts;
    for (const FactRow& r : rows) {
      auto [it, inserted] = stored.try_emplace(Key{r.date, r.platform, r.account_id, r.campaign_id}, r);
      if (inserted) {
        ++counts.inserted;
      } else if (same(it->second, r)) {
        ++counts.unchanged;
      } else {
        it->second = r;
        ++counts.updated;
      }
    }
    return counts;
  }

  static bool same(const FactRow& a, const FactRow& b) {
    return a.campaign_name == b.campaign_name && a.currency == b.currency && a.spend_micros == b.spend_micros &&
           a.impressions == b.impressions && a.clicks == b.clicks &&
           a.conversions_micros == b.conversions_micros && a.revenue_micros == b.revenue_micros;
  }
};

TEST_F(WarehouseTest, LargeBatchesWithRepeatedKeysCountLikeARowByRowLoad) {
  // 12,000 rows over 8,000 keys: most keys repeat, some many times, and a batch is larger than
  // one statement of the PostgreSQL warehouse.
  std::mt19937 random(11);
  auto batch = [&] {
    std::vector<FactRow> rows;
    for (int i = 0; i < 12'000; ++i) {
      const auto day = 1 + random() % 20;
      FactRow r = fact("c" + std::to_string(random() % 400), "2026-03-" + std::string(day < 10 ? "0" : "") +
                                                                 std::to_string(day),
                       1000 * static_cast<std::int64_t>(1 + random() % 3));
      r.campaign_name = random() % 2 == 0 ? "A" : "B";
      rows.push_back(std::move(r));
    }
    return rows;
  };
  FactModel model;
  for (int load = 1; load <= 2; ++load) {
    const auto rows = batch();
    const UpsertCounts expected = model.apply(rows);
    const UpsertCounts got = warehouse_->upsert_facts(rows, "load-" + std::to_string(load));
    EXPECT_EQ(got.inserted, expected.inserted) << "load " << load;
    EXPECT_EQ(got.updated, expected.updated) << "load " << load;
    EXPECT_EQ(got.unchanged, expected.unchanged) << "load " << load;
  }
  const auto stored = warehouse_->facts({});
  ASSERT_EQ(stored.size(), model.stored.size());
  auto expected = model.stored.begin();
  for (const FactRow& r : stored) {
    ASSERT_EQ(r.campaign_id, expected->second.campaign_id);
    ASSERT_EQ(r.date, expected->second.date);
    ASSERT_TRUE(FactModel::same(r, expected->second)) << r.campaign_id << " " << r.date;
    ++expected;
  }
}

TEST_F(WarehouseTest, TextOrdersByBytesAndSumsStayExactBeyondDoublePrecision) {
  // Byte order, whatever the database's locale: upper case, then '_', then lower case.
  FactRow early = fact("a", "2026-05-01", 5'000'000'000'000'001);
  early.campaign_name = "apple";
  FactRow late = fact("a", "2026-05-02", 5'000'000'000'000'002);
  late.campaign_name = "Zebra";
  warehouse_->upsert_facts({early, late, fact("B", "2026-05-01", 1), fact("_", "2026-05-01", 1)}, "b");
  const auto stored = warehouse_->facts({});
  ASSERT_EQ(stored.size(), 4u);
  EXPECT_EQ(stored[0].campaign_id, "B");
  EXPECT_EQ(stored[1].campaign_id, "_");
  EXPECT_EQ(stored[2].campaign_id, "a");
  FactQuery by_campaign;
  by_campaign.group_by = {"campaign_id"};
  const auto totals = warehouse_->facts(by_campaign);
  ASSERT_EQ(totals.size(), 3u);
  EXPECT_EQ(totals[2].campaign_id, "a");
  EXPECT_EQ(totals[2].spend_micros, 10'000'000'000'000'003);
  EXPECT_EQ(totals[2].campaign_name, "apple");  // the greatest in byte order
  warehouse_->upsert_campaigns({{"meta", "act_1", "a", "", "active"},
                                {"meta", "act_1", "B", "", "active"},
                                {"meta", "act_1", "_", "", "active"}},
                               "b");
  const auto campaigns = warehouse_->campaigns({});
  ASSERT_EQ(campaigns.size(), 3u);
  EXPECT_EQ(campaigns[0].campaign_id, "B");
  EXPECT_EQ(campaigns[1].campaign_id, "_");
  EXPECT_EQ(campaigns[2].campaign_id, "a");
}

TEST_F(WarehouseTest, ErasureIgnoresCaseCountsRowsOnceAndCountOnlyWritesNothing) {
  FactRow fact_named = fact("c1", "2026-05-01", 1);
  fact_named.campaign_name = "Retargeting Jane DOE";
  warehouse_->upsert_facts({fact_named, fact("c2", "2026-05-01", 1)}, "b");
  DealRow deal_named;
  deal_named.deal_id = "1";
  deal_named.name = "jane doe - renewal";
  DealRow other_deal;
  other_deal.deal_id = "2";
  other_deal.name = "Acme";
  warehouse_->upsert_deals({deal_named, other_deal}, "b");
  warehouse_->upsert_campaigns({{"meta", "act_1", "c1", "Retargeting JANE doe", "active"},
                                {"meta", "act_1", "c3", "M\xC3\xBCller Spring", "active"}},
                               "b");
  EXPECT_EQ(warehouse_->erase_mentions({"Jane Doe"}, "[erased]", true), 3);
  EXPECT_EQ(warehouse_->erase_mentions({"Jane Doe"}, "[erased]", true), 3);
  // A name that mentions both values is one row.
  EXPECT_EQ(warehouse_->erase_mentions({"jane", "DOE"}, "[erased]", false), 3);
  EXPECT_EQ(warehouse_->erase_mentions({"Jane Doe"}, "[erased]", false), 0);
  EXPECT_EQ(warehouse_->facts({})[0].campaign_name, "[erased]");
  EXPECT_EQ(warehouse_->deals({})[0].name, "[erased]");
  EXPECT_EQ(warehouse_->deals({})[1].name, "Acme");
  // Case is folded for ASCII letters only, as SQLite's lower() does.
  EXPECT_EQ(warehouse_->erase_mentions({"M\xC3\x9CLLER"}, "[erased]", true), 0);
  EXPECT_EQ(warehouse_->erase_mentions({"M\xC3\xBCLLER"}, "[erased]", true), 1);
  EXPECT_EQ(warehouse_->erase_mentions({}, "[erased]", false), 0);
}

TEST_F(WarehouseTest, CallsFromSeveralThreadsAreSerialized) {
  constexpr int kThreads = 4;
  constexpr int kBatches = 10;
  std::vector<std::thread> threads;
  std::vector<std::int64_t> inserted(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int b = 0; b < kBatches; ++b) {
        const std::string campaign = "t" + std::to_string(t) + "-" + std::to_string(b);
        inserted[t] += warehouse_->upsert_facts({fact(campaign, "2026-05-01", 1), fact(campaign, "2026-05-02", 2)},
                                                "b").inserted;
        warehouse_->facts({});
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(inserted[t], 2 * kBatches);
  EXPECT_EQ(warehouse_->facts({}).size(), static_cast<std::size_t>(2 * kThreads * kBatches));
}

// "" when `sql` succeeded on the warehouse's own database (file or schema), else the error.
std::string exec_warehouse_sql(const std::filesystem::path& path, const std::string& sql) {
  if (!testing::testing_on_postgres()) return testing::exec_raw_sql(path, sql);
  try {
    store_detail::PgConnection conn(testing::test_postgres_url(), "flowpilot-test",
                                    testing::test_warehouse_schema_for(path), false);
    conn.exec(sql);
    return {};
  } catch (const StoreError& e) {
    return e.what();
  }
}

TEST_F(WarehouseTest, AWarehouseNewerThanThisBinaryIsRefused) {
  warehouse_->upsert_facts({fact("c1", "2026-05-01", 1)}, "b");
  warehouse_.reset();
  ASSERT_EQ(exec_warehouse_sql(path(), testing::testing_on_postgres() ? "UPDATE warehouse_schema SET version = 3"
                                                                      : "PRAGMA user_version=3"),
            "");
  try {
    testing::open_warehouse_under_test(path());
    FAIL() << "a warehouse newer than this binary was opened";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("the warehouse schema is version 3, newer than this flowpilot knows (2)"),
              std::string::npos)
        << e.what();
  }
  ASSERT_EQ(exec_warehouse_sql(path(), testing::testing_on_postgres() ? "UPDATE warehouse_schema SET version = 2"
                                                                      : "PRAGMA user_version=2"),
            "");
  warehouse_ = testing::open_warehouse_under_test(path());
  EXPECT_EQ(warehouse_->facts({}).size(), 1u);
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
