#include "engine/warehouse/detail/row_checks.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <string_view>

namespace flowpilot::engine::warehouse_detail {

namespace {

bool is_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i == 4 || i == 7) continue;
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

void require(bool ok, std::size_t index, const char* field, const std::string& what) {
  if (!ok) throw std::invalid_argument(fmt::format("rows[{}].{} {}", index, field, what));
}

std::string not_a_date(const std::string& value) { return "`" + value + "` is not a date (YYYY-MM-DD)"; }

}  // namespace

void check_fact_rows(const std::vector<FactRow>& rows) {
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const FactRow& r = rows[i];
    require(!r.platform.empty(), i, "platform", "is empty");
    require(!r.account_id.empty(), i, "account_id", "is empty");
    require(!r.campaign_id.empty(), i, "campaign_id", "is empty");
    require(is_date(r.date), i, "date", not_a_date(r.date));
    require(r.impressions >= 0 && r.clicks >= 0, i, "impressions", "and clicks must not be negative");
  }
}

void check_deal_rows(const std::vector<DealRow>& rows) {
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const DealRow& r = rows[i];
    require(!r.source.empty(), i, "source", "is empty");
    require(!r.deal_id.empty(), i, "deal_id", "is empty");
    require(r.close_date.empty() || is_date(r.close_date), i, "close_date", not_a_date(r.close_date));
    require(r.create_date.empty() || is_date(r.create_date), i, "create_date", not_a_date(r.create_date));
  }
}

void check_campaign_rows(const std::vector<CampaignRow>& rows) {
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const CampaignRow& r = rows[i];
    require(!r.platform.empty(), i, "platform", "is empty");
    require(!r.account_id.empty(), i, "account_id", "is empty");
    require(!r.campaign_id.empty(), i, "campaign_id", "is empty");
    require(!r.status.empty(), i, "status", "is empty");
  }
}

void check_fact_query(const FactQuery& query) {
  for (const auto& g : query.group_by) {
    if (!is_fact_group_field(g)) {
      throw std::invalid_argument("group_by: `" + g +
                                  "` is not one of platform, account_id, campaign_id, date, currency");
    }
  }
  for (const auto* bound : {&query.since, &query.until}) {
    if (!bound->empty() && !is_date(*bound)) {
      throw std::invalid_argument(
          fmt::format("{}: {}", bound == &query.since ? "since" : "until", not_a_date(*bound)));
    }
  }
}

FactQuerySql fact_query_sql(const FactQuery& query, std::string_view sum_suffix) {
  std::vector<std::string> keys;
  const bool grouped = query.grouped || !query.group_by.empty();
  if (grouped) {
    keys = query.group_by;
    if (std::find(keys.begin(), keys.end(), "currency") == keys.end()) keys.emplace_back("currency");
  }
  auto keyed = [&](std::string_view k) { return std::find(keys.begin(), keys.end(), k) != keys.end(); };
  FactQuerySql out;
  out.select = "SELECT ";
  for (const std::string_view k : {"platform", "account_id", "campaign_id", "date", "campaign_name", "currency"}) {
    // A campaign's name goes with its id (the newest-sorting one when it was renamed).
    const bool kept = !grouped || keyed(k) || (k == "campaign_name" && keyed("campaign_id"));
    if (!kept) out.select += "''";
    else if (grouped && k == "campaign_name") out.select += "MAX(campaign_name)";
    else out.select += k;
    out.select += ", ";
  }
  if (grouped) {
    for (const char* measure : {"spend_micros", "impressions", "clicks", "conversions_micros", "revenue_micros"}) {
      out.select += fmt::format("SUM({}){}, ", measure, sum_suffix);
    }
    out.select += "COUNT(*)";
    std::string group;
    for (const auto& k : keys) group += (group.empty() ? "" : ", ") + k;
    out.tail = " GROUP BY " + group + " ORDER BY " + group;
  } else {
    out.select += "spend_micros, impressions, clicks, conversions_micros, revenue_micros, 1";
    out.tail = " ORDER BY date, platform, account_id, campaign_id";
  }
  return out;
}

}  // namespace flowpilot::engine::warehouse_detail
