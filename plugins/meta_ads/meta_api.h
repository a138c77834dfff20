// What the meta_ads steps know about the Meta Marketing API (Graph API), as pure functions so
// that they can be tested without a server: URLs, the meaning of answers (throttling codes, token
// errors, transient errors, usage headers) and the mapping of insights rows to normalized rows.
#pragma once

#include "api_exchange.h"

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace flowpilot::meta_ads {

struct Connection {
  std::string base_url = "https://graph.facebook.com";
  std::string api_version = "v21.0";
  std::string currency;  // used when rows do not carry account_currency
};
Connection connection_from(const boost::json::object& credentials);

// "act_1001" for "1001" or "act_1001"; throws sdk::StepError for anything else.
std::string account_path(const std::string& account_id);

// base_url/api_version/path?query, the query built from name/value pairs (values encoded).
std::string graph_url(const Connection& c, const std::string& path,
                      const std::vector<std::pair<std::string, std::string>>& query);

// What an answer means (see API-SHAPES.md section 1 and the retry cheat-sheet).
marketing::Verdict classify(const sdk::HttpResponse& response);

// The highest usage percentage in the usage headers (X-Business-Use-Case-Usage, X-App-Usage,
// X-Ad-Account-Usage), or nullopt without any.
std::optional<double> usage_percent(const sdk::HttpResponse& response);

struct RowOptions {
  std::string account_id;         // "act_1001"
  std::string level = "campaign";
  std::string conversion_action = "purchase";
  std::string currency;           // fallback currency
};
// One insights row → a normalized row. Throws sdk::StepError naming `where` for a metric that is
// not a number.
boost::json::object normalize_insight(const boost::json::object& raw, const RowOptions& options,
                                      const std::string& where);

}  // namespace flowpilot::meta_ads
