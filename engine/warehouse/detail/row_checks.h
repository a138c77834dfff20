// The checks every warehouse makes before writing or querying, so that both stores refuse the same
// input with the same message (std::invalid_argument naming the row and field).
#pragma once

#include "engine/warehouse/warehouse.h"

#include <vector>

namespace flowpilot::engine::warehouse_detail {

void check_fact_rows(const std::vector<FactRow>& rows);
void check_deal_rows(const std::vector<DealRow>& rows);
void check_campaign_rows(const std::vector<CampaignRow>& rows);
// group_by names and the since/until dates.
void check_fact_query(const FactQuery& query);

}  // namespace flowpilot::engine::warehouse_detail
