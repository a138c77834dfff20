#include "engine/warehouse/warehouse.h"

#include "engine/warehouse/detail/row_checks.h"

#include "engine/store/detail/sqlite_handle.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <mutex>
#include <stdexcept>

namespace flowpilot::engine {

namespace {

using namespace store_detail;  // NOLINT(google-build-using-namespace): a .cpp of the store's family

constexpr int kSchemaVersion = 2;  // 2: campaigns

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS daily_facts (
  platform TEXT NOT NULL,
  account_id TEXT NOT NULL,
  campaign_id TEXT NOT NULL,
  date TEXT NOT NULL,
  campaign_name TEXT NOT NULL DEFAULT '',
  currency TEXT NOT NULL DEFAULT '',
  spend_micros INTEGER NOT NULL,
  impressions INTEGER NOT NULL,
  clicks INTEGER NOT NULL,
  conversions_micros INTEGER NOT NULL,
  revenue_micros INTEGER NOT NULL,
  batch_id TEXT NOT NULL DEFAULT '',
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (platform, account_id, campaign_id, date)
) WITHOUT ROWID;
-- Covering indexes for the KPI queries (a date range, optionally one account): the sums are
-- read from the index alone, without a lookup of each fact in the table.
DROP INDEX IF EXISTS daily_facts_by_date;
CREATE INDEX IF NOT EXISTS daily_facts_kpi_by_date ON daily_facts (date, platform, account_id, currency,
  campaign_id, spend_micros, impressions, clicks, conversions_micros, revenue_micros);
CREATE INDEX IF NOT EXISTS daily_facts_kpi_by_account ON daily_facts (account_id, date, platform, currency,
  campaign_id, spend_micros, impressions, clicks, conversions_micros, revenue_micros);
CREATE TABLE IF NOT EXISTS crm_deals (
  source TEXT NOT NULL,
  deal_id TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  amount_micros INTEGER,
  currency TEXT NOT NULL DEFAULT '',
  stage TEXT NOT NULL DEFAULT '',
  pipeline TEXT NOT NULL DEFAULT '',
  close_date TEXT NOT NULL DEFAULT '',
  create_date TEXT NOT NULL DEFAULT '',
  channel TEXT NOT NULL DEFAULT '',
  batch_id TEXT NOT NULL DEFAULT '',
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (source, deal_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS crm_deals_by_close_date ON crm_deals (close_date);
CREATE TABLE IF NOT EXISTS campaigns (
  platform TEXT NOT NULL,
  account_id TEXT NOT NULL,
  campaign_id TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL,
  batch_id TEXT NOT NULL DEFAULT '',
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (platform, account_id, campaign_id)
) WITHOUT ROWID;
)sql";

// The WHERE clause of a query, built from fixed column names with every value bound.
struct Conditions {
  std::string sql = " WHERE 1=1";
  std::vector<std::string> binds;

  void add(const std::string& value, const char* condition) {
    if (value.empty()) return;
    binds.push_back(value);
    sql += fmt::format(" AND {} ?{}", condition, binds.size());
  }
  void add_list(const std::vector<std::string>& values, const char* column) {
    if (values.empty()) return;
    sql += fmt::format(" AND {} IN (", column);
    for (std::size_t i = 0; i < values.size(); ++i) {
      binds.push_back(values[i]);
      sql += fmt::format("{}?{}", i == 0 ? "" : ",", binds.size());
    }
    sql += ")";
  }
  void bind(sqlite3_stmt* stmt) const {
    for (std::size_t i = 0; i < binds.size(); ++i) bind_text(stmt, static_cast<int>(i + 1), binds[i]);
  }
};

// Runs `body` inside one write transaction, rolled back when it throws.
template <class F>
void in_transaction(sqlite3* db, F&& body) {
  exec(db, "BEGIN IMMEDIATE");
  try {
    body();
    exec(db, "COMMIT");
  } catch (...) {
    exec(db, "ROLLBACK");
    throw;
  }
}

class SqliteWarehouse final : public Warehouse {
 public:
  explicit SqliteWarehouse(const SqliteWarehouseOptions& options) {
    db_ = open_db(options.path.string(), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    exec(db_.get(), "PRAGMA journal_mode=WAL");
    exec(db_.get(), options.relaxed_durability ? "PRAGMA synchronous=NORMAL" : "PRAGMA synchronous=FULL");
    // A load touches the table and both covering indexes at scattered keys; with SQLite's default
    // 2 MB page cache a large batch spills pages to the WAL mid-transaction and reads them back.
    exec(db_.get(), "PRAGMA cache_size=-65536");
    Stmt version = prepare(db_.get(), "PRAGMA user_version");
    step(version.get());
    const auto current = column_int(version.get(), 0);
    version.reset();
    if (current > kSchemaVersion) {
      throw StoreError(fmt::format("{}: the warehouse schema is version {}, newer than this flowpilot "
                                   "knows ({})", options.path.string(), current, kSchemaVersion));
    }
    in_transaction(db_.get(), [&] {
      exec(db_.get(), kSchema);
      exec(db_.get(), fmt::format("PRAGMA user_version={}", kSchemaVersion).c_str());
    });
    find_fact_ = prepare(db_.get(),
                         "SELECT campaign_name, currency, spend_micros, impressions, clicks, "
                         "conversions_micros, revenue_micros FROM daily_facts WHERE platform=?1 AND "
                         "account_id=?2 AND campaign_id=?3 AND date=?4");
    put_fact_ = prepare(db_.get(),
                        "INSERT INTO daily_facts (platform, account_id, campaign_id, date, campaign_name, "
                        "currency, spend_micros, impressions, clicks, conversions_micros, revenue_micros, "
                        "batch_id, updated_at) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13) "
                        "ON CONFLICT (platform, account_id, campaign_id, date) DO UPDATE SET "
                        "campaign_name=excluded.campaign_name, currency=excluded.currency, "
                        "spend_micros=excluded.spend_micros, impressions=excluded.impressions, "
                        "clicks=excluded.clicks, conversions_micros=excluded.conversions_micros, "
                        "revenue_micros=excluded.revenue_micros, batch_id=excluded.batch_id, "
                        "updated_at=excluded.updated_at");
    find_deal_ = prepare(db_.get(),
                         "SELECT name, amount_micros, currency, stage, pipeline, close_date, create_date, "
                         "channel FROM crm_deals WHERE source=?1 AND deal_id=?2");
    put_deal_ = prepare(db_.get(),
                        "INSERT INTO crm_deals (source, deal_id, name, amount_micros, currency, stage, "
                        "pipeline, close_date, create_date, channel, batch_id, updated_at) VALUES "
                        "(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12) ON CONFLICT (source, deal_id) DO UPDATE "
                        "SET name=excluded.name, amount_micros=excluded.amount_micros, "
                        "currency=excluded.currency, stage=excluded.stage, pipeline=excluded.pipeline, "
                        "close_date=excluded.close_date, create_date=excluded.create_date, "
                        "channel=excluded.channel, batch_id=excluded.batch_id, updated_at=excluded.updated_at");
    find_campaign_ = prepare(db_.get(),
                             "SELECT name, status FROM campaigns WHERE platform=?1 AND account_id=?2 AND "
                             "campaign_id=?3");
    put_campaign_ = prepare(db_.get(),
                            "INSERT INTO campaigns (platform, account_id, campaign_id, name, status, batch_id, "
                            "updated_at) VALUES (?1,?2,?3,?4,?5,?6,?7) ON CONFLICT (platform, account_id, "
                            "campaign_id) DO UPDATE SET name=CASE WHEN excluded.name='' THEN campaigns.name "
                            "ELSE excluded.name END, status=excluded.status, batch_id=excluded.batch_id, "
                            "updated_at=excluded.updated_at");
  }

  UpsertCounts upsert_facts(const std::vector<FactRow>& rows, std::string_view batch_id) override {
    warehouse_detail::check_fact_rows(rows);
    const EpochMillis now = now_millis();
    return upsert(
        rows, find_fact_.get(), put_fact_.get(),
        [](sqlite3_stmt* find, const FactRow& r) {
          bind_text(find, 1, r.platform);
          bind_text(find, 2, r.account_id);
          bind_text(find, 3, r.campaign_id);
          bind_text(find, 4, r.date);
        },
        [](sqlite3_stmt* found, const FactRow& r) {
          return column_text(found, 0) == r.campaign_name && column_text(found, 1) == r.currency &&
                 column_int(found, 2) == r.spend_micros && column_int(found, 3) == r.impressions &&
                 column_int(found, 4) == r.clicks && column_int(found, 5) == r.conversions_micros &&
                 column_int(found, 6) == r.revenue_micros;
        },
        [&](sqlite3_stmt* put, const FactRow& r) {
          bind_text(put, 1, r.platform);
          bind_text(put, 2, r.account_id);
          bind_text(put, 3, r.campaign_id);
          bind_text(put, 4, r.date);
          bind_text(put, 5, r.campaign_name);
          bind_text(put, 6, r.currency);
          bind_int(put, 7, r.spend_micros);
          bind_int(put, 8, r.impressions);
          bind_int(put, 9, r.clicks);
          bind_int(put, 10, r.conversions_micros);
          bind_int(put, 11, r.revenue_micros);
          bind_text(put, 12, batch_id);
          bind_int(put, 13, now);
        });
  }

  UpsertCounts upsert_deals(const std::vector<DealRow>& rows, std::string_view batch_id) override {
    warehouse_detail::check_deal_rows(rows);
    const EpochMillis now = now_millis();
    return upsert(
        rows, find_deal_.get(), put_deal_.get(),
        [](sqlite3_stmt* find, const DealRow& r) {
          bind_text(find, 1, r.source);
          bind_text(find, 2, r.deal_id);
        },
        [](sqlite3_stmt* found, const DealRow& r) {
          const bool stored_amount = sqlite3_column_type(found, 1) != SQLITE_NULL;
          const bool same_amount = stored_amount == r.amount_micros.has_value() &&
                                   (!stored_amount || column_int(found, 1) == *r.amount_micros);
          return column_text(found, 0) == r.name && same_amount && column_text(found, 2) == r.currency &&
                 column_text(found, 3) == r.stage && column_text(found, 4) == r.pipeline &&
                 column_text(found, 5) == r.close_date && column_text(found, 6) == r.create_date &&
                 column_text(found, 7) == r.channel;
        },
        [&](sqlite3_stmt* put, const DealRow& r) {
          bind_text(put, 1, r.source);
          bind_text(put, 2, r.deal_id);
          bind_text(put, 3, r.name);
          if (r.amount_micros) bind_int(put, 4, *r.amount_micros);
          else bind_null(put, 4);
          bind_text(put, 5, r.currency);
          bind_text(put, 6, r.stage);
          bind_text(put, 7, r.pipeline);
          bind_text(put, 8, r.close_date);
          bind_text(put, 9, r.create_date);
          bind_text(put, 10, r.channel);
          bind_text(put, 11, batch_id);
          bind_int(put, 12, now);
        });
  }

  UpsertCounts upsert_campaigns(const std::vector<CampaignRow>& rows, std::string_view batch_id) override {
    warehouse_detail::check_campaign_rows(rows);
    const EpochMillis now = now_millis();
    return upsert(
        rows, find_campaign_.get(), put_campaign_.get(),
        [](sqlite3_stmt* find, const CampaignRow& r) {
          bind_text(find, 1, r.platform);
          bind_text(find, 2, r.account_id);
          bind_text(find, 3, r.campaign_id);
        },
        [](sqlite3_stmt* found, const CampaignRow& r) {
          return (r.name.empty() || column_text(found, 0) == r.name) && column_text(found, 1) == r.status;
        },
        [&](sqlite3_stmt* put, const CampaignRow& r) {
          bind_text(put, 1, r.platform);
          bind_text(put, 2, r.account_id);
          bind_text(put, 3, r.campaign_id);
          bind_text(put, 4, r.name);
          bind_text(put, 5, r.status);
          bind_text(put, 6, batch_id);
          bind_int(put, 7, now);
        });
  }

  std::int64_t erase_mentions(const std::vector<std::string>& values, std::string_view replacement,
                              bool count_only) override {
    std::lock_guard lock(mu_);
    // One statement per table: a name that mentions two identifiers is one row, counted once.
    std::string match;
    for (std::size_t i = 0; i < values.size(); ++i) {
      match += fmt::format("{}instr(lower({{0}}), lower(?{})) > 0", i == 0 ? "" : " OR ", i + 2);
    }
    if (match.empty()) return 0;
    std::int64_t changed = 0;
    in_transaction(db_.get(), [&] {
      for (const auto& [table, column] : {std::pair{"crm_deals", "name"}, std::pair{"daily_facts", "campaign_name"},
                                   std::pair{"campaigns", "name"}}) {
        const std::string where = fmt::format("{0} <> ?1 AND (", column) + fmt::format(fmt::runtime(match), column) + ")";
        const std::string sql = count_only ? fmt::format("SELECT COUNT(*) FROM {} WHERE {}", table, where)
                                           : fmt::format("UPDATE {} SET {} = ?1 WHERE {}", table, column, where);
        Stmt statement = prepare(db_.get(), sql.c_str());
        bind_text(statement.get(), 1, replacement);
        for (std::size_t i = 0; i < values.size(); ++i) bind_text(statement.get(), static_cast<int>(i) + 2, values[i]);
        if (step(statement.get()) && count_only) {
          changed += column_int(statement.get(), 0);
        } else if (!count_only) {
          changed += sqlite3_changes(db_.get());
        }
      }
    });
    return changed;
  }

  std::vector<FactRow> facts(const FactQuery& query) override {
    warehouse_detail::check_fact_query(query);
    // Column names come from a fixed list, values are bound: nothing of the caller's text reaches
    // the SQL.
    const auto shape = warehouse_detail::fact_query_sql(query, "");
    Conditions where;
    where.add(query.since, "date >=");
    where.add(query.until, "date <=");
    where.add_list(query.platforms, "platform");
    where.add_list(query.account_ids, "account_id");
    where.add_list(query.campaign_ids, "campaign_id");
    const std::string sql = shape.select + " FROM daily_facts" + where.sql + shape.tail;
    std::lock_guard lock(mu_);
    Stmt stmt = prepare(db_.get(), sql);
    where.bind(stmt.get());
    std::vector<FactRow> out;
    while (step(stmt.get())) {
      FactRow r;
      r.platform = column_text(stmt.get(), 0);
      r.account_id = column_text(stmt.get(), 1);
      r.campaign_id = column_text(stmt.get(), 2);
      r.date = column_text(stmt.get(), 3);
      r.campaign_name = column_text(stmt.get(), 4);
      r.currency = column_text(stmt.get(), 5);
      r.spend_micros = column_int(stmt.get(), 6);
      r.impressions = column_int(stmt.get(), 7);
      r.clicks = column_int(stmt.get(), 8);
      r.conversions_micros = column_int(stmt.get(), 9);
      r.revenue_micros = column_int(stmt.get(), 10);
      r.rows = column_int(stmt.get(), 11);
      out.push_back(std::move(r));
    }
    return out;
  }

  std::vector<DealRow> deals(const DealQuery& query) override {
    std::string sql =
        "SELECT source, deal_id, name, amount_micros, currency, stage, pipeline, close_date, create_date, "
        "channel FROM crm_deals";
    Conditions where;
    where.add(query.closed_since, "close_date >=");
    if (!query.closed_until.empty()) where.sql += " AND close_date <> ''";
    where.add(query.closed_until, "close_date <=");
    where.add_list(query.stages, "stage");
    where.add_list(query.channels, "channel");
    sql += where.sql + " ORDER BY source, deal_id";
    std::lock_guard lock(mu_);
    Stmt stmt = prepare(db_.get(), sql);
    where.bind(stmt.get());
    std::vector<DealRow> out;
    while (step(stmt.get())) {
      DealRow r;
      r.source = column_text(stmt.get(), 0);
      r.deal_id = column_text(stmt.get(), 1);
      r.name = column_text(stmt.get(), 2);
      if (sqlite3_column_type(stmt.get(), 3) != SQLITE_NULL) r.amount_micros = column_int(stmt.get(), 3);
      r.currency = column_text(stmt.get(), 4);
      r.stage = column_text(stmt.get(), 5);
      r.pipeline = column_text(stmt.get(), 6);
      r.close_date = column_text(stmt.get(), 7);
      r.create_date = column_text(stmt.get(), 8);
      r.channel = column_text(stmt.get(), 9);
      out.push_back(std::move(r));
    }
    return out;
  }

  std::vector<CampaignRow> campaigns(const CampaignQuery& query) override {
    Conditions where;
    where.add_list(query.platforms, "platform");
    where.add_list(query.account_ids, "account_id");
    where.add_list(query.campaign_ids, "campaign_id");
    const std::string sql = "SELECT platform, account_id, campaign_id, name, status, updated_at FROM campaigns" +
                            where.sql + " ORDER BY platform, account_id, campaign_id";
    std::lock_guard lock(mu_);
    Stmt stmt = prepare(db_.get(), sql);
    where.bind(stmt.get());
    std::vector<CampaignRow> out;
    while (step(stmt.get())) {
      CampaignRow r;
      r.platform = column_text(stmt.get(), 0);
      r.account_id = column_text(stmt.get(), 1);
      r.campaign_id = column_text(stmt.get(), 2);
      r.name = column_text(stmt.get(), 3);
      r.status = column_text(stmt.get(), 4);
      r.updated_at = column_int(stmt.get(), 5);
      out.push_back(std::move(r));
    }
    return out;
  }

 private:
  // One transaction: each row is looked up by its natural key (bound by `bind_key` into `find`)
  // and written with `put` only when it is new or `same` says a stored column differs, so that a
  // reload reports what it changed and leaves updated_at and batch_id of unchanged rows alone.
  template <class Row, class BindKey, class Same, class BindRow>
  UpsertCounts upsert(const std::vector<Row>& rows, sqlite3_stmt* find, sqlite3_stmt* put, BindKey bind_key,
                      Same same, BindRow bind_row) {
    std::lock_guard lock(mu_);
    UpsertCounts counts;
    in_transaction(db_.get(), [&] {
      for (const Row& r : rows) {
        {
          StmtReset reset(find);
          bind_key(find, r);
          if (!step(find)) {
            ++counts.inserted;
          } else if (same(find, r)) {
            ++counts.unchanged;
            continue;
          } else {
            ++counts.updated;
          }
        }
        StmtReset reset(put);
        bind_row(put, r);
        step(put);
      }
    });
    return counts;
  }

  std::mutex mu_;
  Db db_;  // GUARDED_BY(mu_) with the statements below
  Stmt find_fact_;
  Stmt put_fact_;
  Stmt find_deal_;
  Stmt put_deal_;
  Stmt find_campaign_;
  Stmt put_campaign_;
};

}  // namespace

std::string normalize_campaign_status(std::string_view platform_status) {
  std::string s(platform_status);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (s == "enabled") return "active";
  if (s == "deleted") return "removed";
  return s;
}

bool is_fact_group_field(std::string_view name) {
  return name == "platform" || name == "account_id" || name == "campaign_id" || name == "date" ||
         name == "currency";
}

std::unique_ptr<Warehouse> open_sqlite_warehouse(const SqliteWarehouseOptions& options) {
  return std::make_unique<SqliteWarehouse>(options);
}

}  // namespace flowpilot::engine
