// What the ga4 step knows about the Google Analytics 4 Data API: the runReport body, the meaning
// of answers, and typed rows from its all-string answer (dates as YYYY-MM-DD, integers and
// currency values as numbers, currency exact).
#pragma once

#include "api_exchange.h"

#include <boost/json.hpp>

#include <string>

namespace flowpilot::ga4 {

boost::json::object report_body(const std::string& start_date, const std::string& end_date,
                                const boost::json::array& dimensions, const boost::json::array& metrics,
                                std::int64_t limit, std::int64_t offset);

marketing::Verdict classify(const sdk::HttpResponse& response);

// Rows of one answer as objects keyed by dimension and metric names. Throws sdk::StepError naming
// the row and metric for a value that does not match its declared type.
boost::json::array typed_rows(const boost::json::object& answer, std::size_t first_index);

}  // namespace flowpilot::ga4
