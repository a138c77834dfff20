// What the hubspot steps know about HubSpot's CRM v3 API, as pure functions: the search body
// built from simple filters, the meaning of answers (rate-limit policies, expired tokens), and the
// mapping of deals to rows with exact amounts.
#pragma once

#include "api_exchange.h"

#include <boost/json.hpp>

#include <string>

namespace flowpilot::hubspot {

std::string base_url(const boost::json::object& credentials);

// A date (YYYY-MM-DD, UTC midnight) as the epoch-millisecond string HubSpot's filters take;
// `end_of_day` gives the last millisecond of that day. Throws sdk::StepError for a bad date.
std::string epoch_millis(const std::string& date, bool end_of_day, const std::string& field);

// The body of POST /crm/v3/objects/<type>/search: `filters` ([{property, operator, value |
// values | high_value}], ANDed), an optional date window on `date_property`, the properties to
// return, the page size and the cursor. Throws sdk::StepError naming the filter for a bad one.
boost::json::object search_body(const boost::json::array& filters, const std::string& date_property,
                                const std::string& since, const std::string& until,
                                const boost::json::array& properties, std::int64_t limit,
                                const std::string& after);

marketing::Verdict classify(const sdk::HttpResponse& response);

// A deal object → {id, name, amount (exact, major units), stage, pipeline, close_date,
// create_date, channel (hs_analytics_source), properties}. Throws sdk::StepError naming `where`
// for an amount that is not a decimal.
boost::json::object deal_row(const boost::json::object& deal, const std::string& where);

}  // namespace flowpilot::hubspot
