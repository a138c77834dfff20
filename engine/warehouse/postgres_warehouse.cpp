#include "engine/warehouse/warehouse.h"

#include "engine/warehouse/detail/row_checks.h"

#include "engine/store/detail/pg_connection.h"
#include "engine/store/store_url.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <utility>

namespace flowpilot::engine {

namespace {

using store_detail::pg_bool;
using store_detail::pg_int;
using store_detail::pg_is_null;
using store_detail::pg_text;
using store_detail::PgConnection;
using store_detail::PgError;
using store_detail::PgParams;
using store_detail::PgResult;
using store_detail::valid_utf8;

// The SQLite warehouse's numbering (its PRAGMA user_version): PostgreSQL support starts at 2, so a
// new database is created at 2 directly. Later versions keep both numberings equal.
constexpr int kSchemaVersion = 2;

// Every TEXT column is COLLATE "C": ORDER BY and MAX() then compare bytes, as SQLite's BINARY
// collation does, whatever locale the database was created with, and lower() folds ASCII letters
// only, as SQLite's lower() does, so that erase_mentions matches exactly the same names.
//
// The KPI queries select a date range (optionally one account) and sum the measures: only date,
// or account_id and date, are searched on, so only they are index keys; the other columns ride in
// the leaf pages (INCLUDE), which keeps the inner pages small and still lets the sums come from
// an index-only scan, the equivalent of SQLite's covering indexes. A lookup by platform, account
// and campaign uses the primary key.
constexpr const char* kV2 = R"sql(
CREATE TABLE daily_facts (
  platform TEXT COLLATE "C" NOT NULL,
  account_id TEXT COLLATE "C" NOT NULL,
  campaign_id TEXT COLLATE "C" NOT NULL,
  date TEXT COLLATE "C" NOT NULL,
  campaign_name TEXT COLLATE "C" NOT NULL DEFAULT '',
  currency TEXT COLLATE "C" NOT NULL DEFAULT '',
  spend_micros BIGINT NOT NULL,
  impressions BIGINT NOT NULL,
  clicks BIGINT NOT NULL,
  conversions_micros BIGINT NOT NULL,
  revenue_micros BIGINT NOT NULL,
  batch_id TEXT COLLATE "C" NOT NULL DEFAULT '',
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (platform, account_id, campaign_id, date));
CREATE INDEX daily_facts_kpi_by_date ON daily_facts (date) INCLUDE (platform, account_id, currency,
  campaign_id, spend_micros, impressions, clicks, conversions_micros, revenue_micros);
CREATE INDEX daily_facts_kpi_by_account ON daily_facts (account_id, date) INCLUDE (platform, currency,
  campaign_id, spend_micros, impressions, clicks, conversions_micros, revenue_micros);
CREATE TABLE crm_deals (
  source TEXT COLLATE "C" NOT NULL,
  deal_id TEXT COLLATE "C" NOT NULL,
  name TEXT COLLATE "C" NOT NULL DEFAULT '',
  amount_micros BIGINT,
  currency TEXT COLLATE "C" NOT NULL DEFAULT '',
  stage TEXT COLLATE "C" NOT NULL DEFAULT '',
  pipeline TEXT COLLATE "C" NOT NULL DEFAULT '',
  close_date TEXT COLLATE "C" NOT NULL DEFAULT '',
  create_date TEXT COLLATE "C" NOT NULL DEFAULT '',
  channel TEXT COLLATE "C" NOT NULL DEFAULT '',
  batch_id TEXT COLLATE "C" NOT NULL DEFAULT '',
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (source, deal_id));
CREATE INDEX crm_deals_by_close_date ON crm_deals (close_date);
CREATE TABLE campaigns (
  platform TEXT COLLATE "C" NOT NULL,
  account_id TEXT COLLATE "C" NOT NULL,
  campaign_id TEXT COLLATE "C" NOT NULL,
  name TEXT COLLATE "C" NOT NULL DEFAULT '',
  status TEXT COLLATE "C" NOT NULL,
  batch_id TEXT COLLATE "C" NOT NULL DEFAULT '',
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (platform, account_id, campaign_id));
)sql";

struct Migration {
  int version;
  const char* sql;
};
constexpr std::array<Migration, 1> kMigrations = {{{2, kV2}}};
static_assert(kMigrations.back().version == kSchemaVersion);

// Any constant shared by every flowpilot process (and apart from the store's): the lock
// serializes their table creation.
constexpr std::int64_t kSchemaLock = 0x666c6f77'77687365;  // "flowwhse"

constexpr int kMaxTransactionAttempts = 5;
constexpr std::chrono::milliseconds kFirstRetryDelay{50};

// Rows sent in one upsert statement (under a megabyte of parameters): a sync of thousands of rows
// takes a handful of round trips instead of one per row.
constexpr std::size_t kRowsPerStatement = 5000;

// ON CONFLICT ... DO UPDATE ... WHERE writes a stored row only when a compared column differs, so
// unchanged rows keep their updated_at and batch_id, and are not returned. Of the rows returned,
// xmax = 0 marks a fresh insert: ON CONFLICT locks the stored row before updating it, and that lock
// stays in the new version's xmax (warehouse_test.cpp checks the counts against SQLite's).
constexpr std::string_view kUpsertFacts =
    "INSERT INTO daily_facts AS f (platform, account_id, campaign_id, date, campaign_name, currency, "
    "spend_micros, impressions, clicks, conversions_micros, revenue_micros, batch_id, updated_at) "
    "SELECT t.*, $12::text, $13::bigint FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], "
    "$5::text[], $6::text[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[]) AS t "
    "ON CONFLICT (platform, account_id, campaign_id, date) DO UPDATE SET "
    "campaign_name = excluded.campaign_name, currency = excluded.currency, "
    "spend_micros = excluded.spend_micros, impressions = excluded.impressions, clicks = excluded.clicks, "
    "conversions_micros = excluded.conversions_micros, revenue_micros = excluded.revenue_micros, "
    "batch_id = excluded.batch_id, updated_at = excluded.updated_at "
    "WHERE (f.campaign_name, f.currency, f.spend_micros, f.impressions, f.clicks, f.conversions_micros, "
    "f.revenue_micros) IS DISTINCT FROM (excluded.campaign_name, excluded.currency, excluded.spend_micros, "
    "excluded.impressions, excluded.clicks, excluded.conversions_micros, excluded.revenue_micros) "
    "RETURNING xmax = 0";
constexpr int kFactColumns = 11;

constexpr std::string_view kUpsertDeals =
    "INSERT INTO crm_deals AS d (source, deal_id, name, amount_micros, currency, stage, pipeline, "
    "close_date, create_date, channel, batch_id, updated_at) "
    "SELECT t.*, $11::text, $12::bigint FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], "
    "$5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[]) AS t "
    "ON CONFLICT (source, deal_id) DO UPDATE SET name = excluded.name, "
    "amount_micros = excluded.amount_micros, currency = excluded.currency, stage = excluded.stage, "
    "pipeline = excluded.pipeline, close_date = excluded.close_date, create_date = excluded.create_date, "
    "channel = excluded.channel, batch_id = excluded.batch_id, updated_at = excluded.updated_at "
    "WHERE (d.name, d.amount_micros, d.currency, d.stage, d.pipeline, d.close_date, d.create_date, "
    "d.channel) IS DISTINCT FROM (excluded.name, excluded.amount_micros, excluded.currency, "
    "excluded.stage, excluded.pipeline, excluded.close_date, excluded.create_date, excluded.channel) "
    "RETURNING xmax = 0";
constexpr int kDealColumns = 10;

// A pause reports no name: "" keeps the stored one, and does not count as a change.
constexpr std::string_view kUpsertCampaigns =
    "INSERT INTO campaigns AS c (platform, account_id, campaign_id, name, status, batch_id, updated_at) "
    "SELECT t.*, $6::text, $7::bigint FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], "
    "$5::text[]) AS t "
    "ON CONFLICT (platform, account_id, campaign_id) DO UPDATE SET "
    "name = CASE WHEN excluded.name = '' THEN c.name ELSE excluded.name END, status = excluded.status, "
    "batch_id = excluded.batch_id, updated_at = excluded.updated_at "
    "WHERE (excluded.name <> '' AND c.name <> excluded.name) OR c.status <> excluded.status "
    "RETURNING xmax = 0";
constexpr int kCampaignColumns = 5;

// `column` mentions one of the values of the array $2 (ignoring ASCII case) and is not already
// the replacement $1. The values get the column's collation, so lower() folds both alike.
std::string mentions(std::string_view column) {
  return fmt::format("{0} <> $1::text AND EXISTS (SELECT 1 FROM unnest($2::text[]) AS v(value) "
                     "WHERE strpos(lower({0}), lower(v.value COLLATE \"C\")) > 0)",
                     column);
}

// One statement over the three tables: its counts and changes come from one snapshot.
const std::string& erase_mentions_sql() {
  static const std::string sql = fmt::format(
      "WITH d AS (UPDATE crm_deals SET name = $1::text WHERE {} RETURNING 1), "
      "f AS (UPDATE daily_facts SET campaign_name = $1::text WHERE {} RETURNING 1), "
      "c AS (UPDATE campaigns SET name = $1::text WHERE {} RETURNING 1) "
      "SELECT (SELECT count(*) FROM d) + (SELECT count(*) FROM f) + (SELECT count(*) FROM c)",
      mentions("name"), mentions("campaign_name"), mentions("name"));
  return sql;
}

const std::string& count_mentions_sql() {
  static const std::string sql = fmt::format(
      "SELECT (SELECT count(*) FROM crm_deals WHERE {}) + (SELECT count(*) FROM daily_facts WHERE {}) "
      "+ (SELECT count(*) FROM campaigns WHERE {})",
      mentions("name"), mentions("campaign_name"), mentions("name"));
  return sql;
}

// A PostgreSQL array literal of text or integers, for a `$n::text[]` or `$n::bigint[]` parameter.
class ArrayLiteral {
 public:
  ArrayLiteral& text(std::string_view value) {
    separate();
    text_ += '"';
    for (const char c : valid_utf8(value)) {
      if (c == '"' || c == '\\') text_ += '\\';
      text_ += c;
    }
    text_ += '"';
    return *this;
  }
  ArrayLiteral& integer(std::int64_t value) {
    separate();
    text_ += std::to_string(value);
    return *this;
  }
  ArrayLiteral& null() {
    separate();
    text_ += "NULL";
    return *this;
  }
  std::string str() const { return text_ + '}'; }

 private:
  void separate() {
    if (text_.size() > 1) text_ += ',';
  }
  std::string text_ = "{";
};

// The natural key of a row as PostgreSQL will see it (text made valid UTF-8), to find the rows of
// a batch that share one.
std::string natural_key(std::initializer_list<std::string_view> fields) {
  std::string key;
  for (const std::string_view f : fields) {
    key += valid_utf8(f);
    key += '\0';  // never inside valid_utf8's output
  }
  return key;
}

// The WHERE clause of a query, built from fixed column names with every value bound.
struct Conditions {
  std::string sql = " WHERE true";
  PgParams params;
  int count = 0;

  void add(const std::string& value, const char* condition) {
    if (value.empty()) return;
    params.text(value);
    sql += fmt::format(" AND {} ${}", condition, ++count);
  }
  void add_list(const std::vector<std::string>& values, const char* column) {
    if (values.empty()) return;
    ArrayLiteral list;
    for (const auto& v : values) list.text(v);
    params.text(list.str());
    sql += fmt::format(" AND {} = ANY(${}::text[])", column, ++count);
  }
};

std::unique_ptr<PgConnection> connect(const PostgresWarehouseOptions& options, bool create_schema) {
  return std::make_unique<PgConnection>(options.url, options.application_name, options.schema, create_schema);
}

void migrate(PgConnection& conn, const PostgresWarehouseOptions& options) {
  conn.exec("BEGIN");
  try {
    // Transaction-scoped: released by the COMMIT below even when this process dies.
    conn.query_once("SELECT pg_advisory_xact_lock($1)", PgParams().integer(kSchemaLock));
    conn.exec("CREATE TABLE IF NOT EXISTS warehouse_schema(version INTEGER NOT NULL)");
    PgResult r = conn.query_once("SELECT coalesce(max(version), 0) FROM warehouse_schema", PgParams());
    const std::int64_t found = pg_int(r.get(), 0, 0);
    if (found > kSchemaVersion) {
      throw StoreError(fmt::format("PostgreSQL warehouse {}{}: the warehouse schema is version {}, newer "
                                   "than this flowpilot knows ({})",
                                   mask_store_url(options.url),
                                   options.schema.empty() ? "" : " (schema `" + options.schema + "`)", found,
                                   kSchemaVersion));
    }
    for (const Migration& m : kMigrations) {
      if (m.version <= found) continue;
      try {
        conn.exec(m.sql);
      } catch (const StoreError& e) {
        throw StoreError(fmt::format("PostgreSQL warehouse: schema version {} failed: {}", m.version, e.what()));
      }
    }
    if (found < kSchemaVersion) {
      conn.exec("DELETE FROM warehouse_schema");
      conn.query_once("INSERT INTO warehouse_schema(version) VALUES ($1)", PgParams().integer(kSchemaVersion));
    }
    conn.exec("COMMIT");
  } catch (...) {
    if (conn.usable()) {
      try {
        conn.exec("ROLLBACK");
      } catch (const StoreError&) {
        // The original error says more.
      }
    }
    throw;
  }
}

// One upsert statement's parameters: a column array per field, then the batch id and the time.
struct Chunk {
  PgParams params;
  std::size_t rows = 0;
};

// Splits `rows` into statements whose keys are distinct, because ON CONFLICT cannot touch one row
// twice in a statement. The n-th occurrence of a key goes into the n-th round, and rounds run in
// order: each key's rows are applied in the batch's order, and each is compared with what the one
// before it left, so the counts are those of SQLite's row-by-row loop. Rows of different keys do
// not affect each other, so their order across statements does not matter.
template <class Row, class KeyOf, class AddRow>
std::vector<Chunk> plan_upsert(const std::vector<Row>& rows, int columns, KeyOf key_of, AddRow add_row,
                               std::string_view batch_id, EpochMillis now) {
  std::vector<std::vector<const Row*>> rounds;
  std::unordered_map<std::string, std::size_t> seen;
  seen.reserve(rows.size());
  for (const Row& r : rows) {
    std::size_t& occurrences = seen[key_of(r)];
    if (rounds.size() <= occurrences) rounds.emplace_back();
    rounds[occurrences++].push_back(&r);
  }
  std::vector<Chunk> chunks;
  for (const auto& round : rounds) {
    for (std::size_t begin = 0; begin < round.size(); begin += kRowsPerStatement) {
      const std::size_t end = std::min(round.size(), begin + kRowsPerStatement);
      std::vector<ArrayLiteral> arrays(static_cast<std::size_t>(columns));
      for (std::size_t i = begin; i < end; ++i) add_row(arrays, *round[i]);
      Chunk chunk;
      for (const auto& a : arrays) chunk.params.text(a.str());
      chunk.params.text(batch_id).integer(now);
      chunk.rows = end - begin;
      chunks.push_back(std::move(chunk));
    }
  }
  return chunks;
}

class PostgresWarehouse final : public Warehouse {
 public:
  explicit PostgresWarehouse(PostgresWarehouseOptions options) : options_(std::move(options)) {
    if (options_.url.empty()) throw StoreError("PostgreSQL warehouse: no URL given");
    conn_ = connect(options_, true);
    migrate(*conn_, options_);
  }

  UpsertCounts upsert_facts(const std::vector<FactRow>& rows, std::string_view batch_id) override {
    warehouse_detail::check_fact_rows(rows);
    return upsert(kUpsertFacts, rows.size(),
                  plan_upsert(
                      rows, kFactColumns,
                      [](const FactRow& r) { return natural_key({r.platform, r.account_id, r.campaign_id, r.date}); },
                      [](std::vector<ArrayLiteral>& a, const FactRow& r) {
                        a[0].text(r.platform);
                        a[1].text(r.account_id);
                        a[2].text(r.campaign_id);
                        a[3].text(r.date);
                        a[4].text(r.campaign_name);
                        a[5].text(r.currency);
                        a[6].integer(r.spend_micros);
                        a[7].integer(r.impressions);
                        a[8].integer(r.clicks);
                        a[9].integer(r.conversions_micros);
                        a[10].integer(r.revenue_micros);
                      },
                      batch_id, now_millis()));
  }

  UpsertCounts upsert_deals(const std::vector<DealRow>& rows, std::string_view batch_id) override {
    warehouse_detail::check_deal_rows(rows);
    return upsert(kUpsertDeals, rows.size(),
                  plan_upsert(
                      rows, kDealColumns, [](const DealRow& r) { return natural_key({r.source, r.deal_id}); },
                      [](std::vector<ArrayLiteral>& a, const DealRow& r) {
                        a[0].text(r.source);
                        a[1].text(r.deal_id);
                        a[2].text(r.name);
                        if (r.amount_micros) a[3].integer(*r.amount_micros);
                        else a[3].null();
                        a[4].text(r.currency);
                        a[5].text(r.stage);
                        a[6].text(r.pipeline);
                        a[7].text(r.close_date);
                        a[8].text(r.create_date);
                        a[9].text(r.channel);
                      },
                      batch_id, now_millis()));
  }

  UpsertCounts upsert_campaigns(const std::vector<CampaignRow>& rows, std::string_view batch_id) override {
    warehouse_detail::check_campaign_rows(rows);
    return upsert(kUpsertCampaigns, rows.size(),
                  plan_upsert(
                      rows, kCampaignColumns,
                      [](const CampaignRow& r) { return natural_key({r.platform, r.account_id, r.campaign_id}); },
                      [](std::vector<ArrayLiteral>& a, const CampaignRow& r) {
                        a[0].text(r.platform);
                        a[1].text(r.account_id);
                        a[2].text(r.campaign_id);
                        a[3].text(r.name);
                        a[4].text(r.status);
                      },
                      batch_id, now_millis()));
  }

  std::int64_t erase_mentions(const std::vector<std::string>& values, std::string_view replacement,
                              bool count_only) override {
    if (values.empty()) return 0;
    ArrayLiteral list;
    for (const auto& v : values) list.text(v);
    PgParams params;
    params.text(replacement).text(list.str());
    if (count_only) {
      return read([&](PgConnection& c) { return pg_int(c.query(count_mentions_sql(), params).get(), 0, 0); });
    }
    std::int64_t changed = 0;
    write([&](PgConnection& c) { changed = pg_int(c.query(erase_mentions_sql(), params).get(), 0, 0); });
    return changed;
  }

  std::vector<FactRow> facts(const FactQuery& query) override {
    warehouse_detail::check_fact_query(query);
    // Column names come from a fixed list, values are bound: nothing of the caller's text reaches
    // the SQL.
    // SUM(bigint) is numeric in PostgreSQL: cast back to read integers, exact; a total beyond the
    // 64-bit range is an error, as SQLite's integer overflow is.
    const auto shape = warehouse_detail::fact_query_sql(query, "::bigint");
    Conditions where;
    where.add(query.since, "date >=");
    where.add(query.until, "date <=");
    where.add_list(query.platforms, "platform");
    where.add_list(query.account_ids, "account_id");
    where.add_list(query.campaign_ids, "campaign_id");
    const std::string sql = shape.select + " FROM daily_facts" + where.sql + shape.tail;
    // Unprepared: each range gets a plan for its own bounds (an index scan for a week, a
    // sequential scan for everything), which a generic prepared plan would not.
    return read([&](PgConnection& c) {
      PgResult result = c.query_once(sql, where.params);
      const PGresult* s = result.get();
      std::vector<FactRow> out;
      const int n = PQntuples(s);
      out.reserve(static_cast<std::size_t>(n));
      for (int i = 0; i < n; ++i) {
        FactRow r;
        r.platform = pg_text(s, i, 0);
        r.account_id = pg_text(s, i, 1);
        r.campaign_id = pg_text(s, i, 2);
        r.date = pg_text(s, i, 3);
        r.campaign_name = pg_text(s, i, 4);
        r.currency = pg_text(s, i, 5);
        r.spend_micros = pg_int(s, i, 6);
        r.impressions = pg_int(s, i, 7);
        r.clicks = pg_int(s, i, 8);
        r.conversions_micros = pg_int(s, i, 9);
        r.revenue_micros = pg_int(s, i, 10);
        r.rows = pg_int(s, i, 11);
        out.push_back(std::move(r));
      }
      return out;
    });
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
    return read([&](PgConnection& c) {
      PgResult result = c.query_once(sql, where.params);
      const PGresult* s = result.get();
      std::vector<DealRow> out;
      const int n = PQntuples(s);
      out.reserve(static_cast<std::size_t>(n));
      for (int i = 0; i < n; ++i) {
        DealRow r;
        r.source = pg_text(s, i, 0);
        r.deal_id = pg_text(s, i, 1);
        r.name = pg_text(s, i, 2);
        if (!pg_is_null(s, i, 3)) r.amount_micros = pg_int(s, i, 3);
        r.currency = pg_text(s, i, 4);
        r.stage = pg_text(s, i, 5);
        r.pipeline = pg_text(s, i, 6);
        r.close_date = pg_text(s, i, 7);
        r.create_date = pg_text(s, i, 8);
        r.channel = pg_text(s, i, 9);
        out.push_back(std::move(r));
      }
      return out;
    });
  }

  std::vector<CampaignRow> campaigns(const CampaignQuery& query) override {
    Conditions where;
    where.add_list(query.platforms, "platform");
    where.add_list(query.account_ids, "account_id");
    where.add_list(query.campaign_ids, "campaign_id");
    const std::string sql = "SELECT platform, account_id, campaign_id, name, status, updated_at FROM campaigns" +
                            where.sql + " ORDER BY platform, account_id, campaign_id";
    return read([&](PgConnection& c) {
      PgResult result = c.query_once(sql, where.params);
      const PGresult* s = result.get();
      std::vector<CampaignRow> out;
      const int n = PQntuples(s);
      out.reserve(static_cast<std::size_t>(n));
      for (int i = 0; i < n; ++i) {
        CampaignRow r;
        r.platform = pg_text(s, i, 0);
        r.account_id = pg_text(s, i, 1);
        r.campaign_id = pg_text(s, i, 2);
        r.name = pg_text(s, i, 3);
        r.status = pg_text(s, i, 4);
        r.updated_at = pg_int(s, i, 5);
        out.push_back(std::move(r));
      }
      return out;
    });
  }

 private:
  // One transaction over the planned statements. Rows a statement returns were written: inserted
  // or updated; the others of the batch were unchanged.
  UpsertCounts upsert(std::string_view sql, std::size_t rows, const std::vector<Chunk>& chunks) {
    UpsertCounts counts;
    if (rows == 0) return counts;
    write([&](PgConnection& c) {
      counts = UpsertCounts{};
      for (const Chunk& chunk : chunks) {
        PgResult result = c.query(sql, chunk.params);
        const int n = PQntuples(result.get());
        for (int i = 0; i < n; ++i) {
          if (pg_bool(result.get(), i, 0)) ++counts.inserted;
          else ++counts.updated;
        }
      }
    });
    counts.unchanged = static_cast<std::int64_t>(rows) - counts.inserted - counts.updated;
    return counts;
  }

  // mu_ held. The connection, opened again when the server dropped it.
  PgConnection& connection() {
    if (!conn_ || !conn_->usable()) conn_ = connect(options_, false);
    return *conn_;
  }

  // Runs `body` (one statement, or several that need no transaction of their own); tried once
  // more on a new connection when the server dropped the old one or is shutting it down.
  template <class Body>
  auto read(Body&& body) -> std::invoke_result_t<Body&, PgConnection&> {
    std::lock_guard lock(mu_);
    for (int attempt = 1;; ++attempt) {
      try {
        return body(connection());
      } catch (const PgError& e) {
        if (!e.transient() || attempt >= 2) throw;
        conn_.reset();
      }
    }
  }

  // Runs `body` in a transaction, again from the start (so `body` must reset what it collects)
  // after a transient failure: a lost connection, a deadlock with another process's load, a
  // serialization failure. Never once COMMIT was sent and got no answer: it may have been applied.
  template <class Body>
  void write(Body&& body) {
    std::lock_guard lock(mu_);
    for (int attempt = 1;; ++attempt) {
      bool commit_sent = false;
      try {
        PgConnection& c = connection();
        c.exec("BEGIN");
        body(c);
        commit_sent = true;
        c.exec("COMMIT");
        return;
      } catch (const PgError& e) {
        rollback_if_open();
        if (commit_sent && e.connection_lost()) {
          throw StoreError(std::string("PostgreSQL warehouse: the connection was lost during COMMIT, whose "
                                       "outcome is unknown: ") +
                           e.what());
        }
        if (!e.transient() || attempt >= kMaxTransactionAttempts) throw;
      } catch (...) {
        rollback_if_open();
        throw;
      }
      std::this_thread::sleep_for(kFirstRetryDelay * (1 << (attempt - 1)));
    }
  }

  // mu_ held.
  void rollback_if_open() noexcept {
    if (!conn_ || !conn_->usable() || !conn_->in_transaction()) return;
    try {
      conn_->exec("ROLLBACK");
    } catch (const StoreError&) {
      conn_.reset();  // opened again by the next call
    }
  }

  const PostgresWarehouseOptions options_;
  std::mutex mu_;
  std::unique_ptr<PgConnection> conn_;  // GUARDED_BY(mu_)
};

}  // namespace

std::unique_ptr<Warehouse> open_postgres_warehouse(const PostgresWarehouseOptions& options) {
  return std::make_unique<PostgresWarehouse>(options);
}

}  // namespace flowpilot::engine
