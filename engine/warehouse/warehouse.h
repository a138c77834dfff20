// The marketing warehouse: normalized daily facts per platform, account, campaign and day, and
// CRM deals, kept for KPIs and dashboards. Writes are upserts on the natural key, so loading the
// same data twice changes nothing and a restated day (platforms revise recent days) overwrites
// what was stored. Money and conversions are integer micros, so totals are exact.
//
// Aggregation happens in the database (SUM over an index on date), so a KPI query over a date
// range reads only the facts of that range.
//
// Errors: a malformed row (an empty key field, a date that is not YYYY-MM-DD) throws
// std::invalid_argument naming the row index and the field, and nothing of the batch is written;
// storage failures throw StoreError.
//
// Thread-safety: every member may be called from any thread; calls are serialized inside.
#pragma once

#include "engine/store/store.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flowpilot::engine {

struct FactRow {
  std::string platform;
  std::string account_id;
  std::string campaign_id;
  std::string date;  // YYYY-MM-DD
  std::string campaign_name;
  std::string currency;
  std::int64_t spend_micros = 0;
  std::int64_t impressions = 0;
  std::int64_t clicks = 0;
  std::int64_t conversions_micros = 0;
  std::int64_t revenue_micros = 0;
  std::int64_t rows = 1;  // facts summed into this row by a grouped query
};

struct DealRow {
  std::string source = "hubspot";
  std::string deal_id;
  std::string name;
  std::optional<std::int64_t> amount_micros;  // unknown amounts stay unknown, not zero
  std::string currency;
  std::string stage;
  std::string pipeline;
  std::string close_date;   // YYYY-MM-DD or ""
  std::string create_date;  // YYYY-MM-DD or ""
  std::string channel;      // e.g. hs_analytics_source
};

// A campaign's current state, as the platform's campaign list (or a pause) last reported it.
// `status` is normalized across platforms: active (Meta ACTIVE, Google ENABLED), paused, removed
// (Meta DELETED, Google REMOVED), archived; anything else is kept in lower case.
struct CampaignRow {
  std::string platform;
  std::string account_id;
  std::string campaign_id;
  std::string name;  // "" keeps the stored name (a pause reports no name)
  std::string status;
  std::int64_t updated_at = 0;  // epoch milliseconds of the last change; set by the warehouse
};

struct CampaignQuery {
  std::vector<std::string> platforms;  // empty: all
  std::vector<std::string> account_ids;
  std::vector<std::string> campaign_ids;
};

struct UpsertCounts {
  std::int64_t inserted = 0;
  std::int64_t updated = 0;    // a stored row whose values changed (a restated day)
  std::int64_t unchanged = 0;  // the same values again
};

struct FactQuery {
  std::string since;  // YYYY-MM-DD, inclusive; "" = no bound
  std::string until;
  std::vector<std::string> platforms;     // empty: all
  std::vector<std::string> account_ids;
  std::vector<std::string> campaign_ids;
  // Fields to group by, among platform, account_id, campaign_id, date, currency. Empty: one row
  // per stored fact. Currency is always kept apart: amounts in two currencies are never added.
  std::vector<std::string> group_by;
  bool grouped = false;  // true: aggregate (with group_by empty: one total per currency)
};

struct DealQuery {
  std::string closed_since;  // on close_date; "" = no bound
  std::string closed_until;
  std::vector<std::string> stages;
  std::vector<std::string> channels;
};

class Warehouse {
 public:
  virtual ~Warehouse() = default;

  virtual UpsertCounts upsert_facts(const std::vector<FactRow>& rows, std::string_view batch_id) = 0;
  virtual UpsertCounts upsert_deals(const std::vector<DealRow>& rows, std::string_view batch_id) = 0;
  virtual UpsertCounts upsert_campaigns(const std::vector<CampaignRow>& rows, std::string_view batch_id) = 0;

  // Facts ordered by date, platform, account, campaign (or by the grouped fields).
  virtual std::vector<FactRow> facts(const FactQuery& query) = 0;
  virtual std::vector<DealRow> deals(const DealQuery& query) = 0;
  // Campaigns ordered by platform, account, campaign.
  virtual std::vector<CampaignRow> campaigns(const CampaignQuery& query) = 0;

  // Erasure (GDPR): the warehouse keeps no rows about people, but a deal or a campaign can be
  // named after one. Every deal name and campaign name that contains one of `values` (ignoring
  // case) becomes `replacement`; the figures stay. Returns the rows changed (with `count_only`,
  // the rows that would change; nothing is written).
  virtual std::int64_t erase_mentions(const std::vector<std::string>& values,
                                      std::string_view replacement, bool count_only) = 0;
};

struct SqliteWarehouseOptions {
  std::filesystem::path path;   // the database file; created with its tables when missing
  bool relaxed_durability = false;  // synchronous=NORMAL instead of FULL
};

// Throws StoreError when the file cannot be opened or migrated.
std::unique_ptr<Warehouse> open_sqlite_warehouse(const SqliteWarehouseOptions& options);

// The warehouse on PostgreSQL, for several flowpilot processes sharing one database: the same
// tables, counts, ordering and errors as the SQLite warehouse. Tables are created at open under
// an advisory lock, so processes starting together create them once. Calls are serialized on one
// connection; a connection the server dropped is opened again (a read is tried once more, a write
// transaction that failed before its COMMIT was sent is tried again; one whose COMMIT got no
// answer throws StoreError, since it may or may not have been applied).
struct PostgresWarehouseOptions {
  std::string url;     // a libpq URI (postgres://user@host:port/db?...) or key=value conninfo
  std::string schema;  // "" = the server's default search path; otherwise created when missing
  std::string application_name = "flowpilot-warehouse";  // as pg_stat_activity shows it
};

// Connects and creates the tables when missing. Throws StoreError naming the server (never the
// password) when it cannot connect, or when the warehouse there is newer than this binary.
std::unique_ptr<Warehouse> open_postgres_warehouse(const PostgresWarehouseOptions& options);

// A platform's campaign status in the warehouse's words (see CampaignRow::status).
std::string normalize_campaign_status(std::string_view platform_status);

// The field names FactQuery::group_by accepts.
bool is_fact_group_field(std::string_view name);

}  // namespace flowpilot::engine
