#include "engine/warehouse/detail/row_checks.h"

#include <fmt/format.h>

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

}  // namespace flowpilot::engine::warehouse_detail
