// The checks every warehouse makes before writing or querying, so that both stores refuse the same
// input with the same message (std::invalid_argument naming the row and field), and the SQL of a
// facts query, so that both group and order the same way.
#pragma once

#include "engine/warehouse/warehouse.h"

#include <string>
#include <string_view>
#include <vector>

namespace flowpilot::engine::warehouse_detail {

void check_fact_rows(const std::vector<FactRow>& rows);
void check_deal_rows(const std::vector<DealRow>& rows);
void check_campaign_rows(const std::vector<CampaignRow>& rows);
// group_by names and the since/until dates.
void check_fact_query(const FactQuery& query);

// The parts of a facts query both warehouses share, from fixed column names only (values are the
// caller's to bind): `select` is "SELECT <12 columns>" (platform, account_id, campaign_id, date,
// campaign_name, currency, the five measures, the number of facts) and `tail` the GROUP BY and
// ORDER BY. Each SUM is followed by `sum_suffix` (PostgreSQL's SUM(bigint) is numeric: "::bigint").
struct FactQuerySql {
  std::string select;
  std::string tail;
};
FactQuerySql fact_query_sql(const FactQuery& query, std::string_view sum_suffix);

}  // namespace flowpilot::engine::warehouse_detail
