// What the google_ads steps know about the Google Ads API (REST), as pure functions: URLs and
// headers, the GAQL of the daily campaign report, the meaning of answers (quota errors with their
// retry delay, token errors), and the mapping of searchStream rows to normalized rows.
#pragma once

#include "api_exchange.h"

#include <boost/json.hpp>

#include <string>

namespace flowpilot::google_ads {

struct Connection {
  std::string base_url = "https://googleads.googleapis.com";
  std::string api_version = "v21";
  std::string developer_token;
  std::string login_customer_id;  // digits; empty when not going through a manager account
  std::string currency;
};
// Throws sdk::StepError when the developer token is missing.
Connection connection_from(const boost::json::object& credentials);

// Digits only ("123-456-7890" → "1234567890"); throws sdk::StepError for anything else.
std::string customer_digits(const std::string& customer_id);

// base_url/api_version/customers/<id>/<method>, e.g. method "googleAds:searchStream".
std::string customer_url(const Connection& c, const std::string& customer, const std::string& method);

// The headers every call carries besides Authorization.
sdk::Headers api_headers(const Connection& c);

// The daily campaign report between two dates (YYYY-MM-DD) or over a DURING literal.
std::string report_query(const std::string& since, const std::string& until, const std::string& during);

marketing::Verdict classify(const sdk::HttpResponse& response);

// One searchStream result → a normalized row. Missing metrics count as zero (proto3 JSON omits
// zeros). Throws sdk::StepError naming `where` for a value of the wrong kind.
boost::json::object normalize_result(const boost::json::object& result, const std::string& customer,
                                     const std::string& currency, const std::string& where);

}  // namespace flowpilot::google_ads
