// The quality plugin's logic: data checks over a list of rows (JSON objects): unique, not_null,
// accepted_values, range, relationships and freshness. Each check yields passed/failed, the
// number of failing rows and a few sample rows; a failed check of severity `error` (the default)
// fails the step with a report of one line per failed check, `warn` only reports.
//
// Missing and null fields are the same. unique ignores rows whose key is entirely null, like SQL;
// accepted_values, range and relationships skip nulls (not_null is the check for those).
//
// Errors: QualityError for a malformed check, naming it (`with.checks[2].column: ...`).
//
// Thread-safety: every function is reentrant.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace flowpilot::quality_plugin {

class QualityError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct CheckOutcome {
  boost::json::object output;  // {passed, checks: [...], failed: N, warnings: N}
  std::optional<std::string> failure;  // the multi-line report when an error check failed
};

// Runs `with.checks` over `with.rows`. `now_unix_seconds` is the clock for freshness when a check
// gives no `as_of`. Throws QualityError.
CheckOutcome run_checks(const boost::json::object& with, std::int64_t now_unix_seconds);

// "36h", "2d", "1d12h", "90m", "45s", "1w": seconds, or nullopt.
std::optional<std::int64_t> parse_duration_seconds(std::string_view text);

// "YYYY-MM-DD" (midnight UTC) or "YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)" (a space works for T):
// Unix seconds, or nullopt.
std::optional<std::int64_t> parse_timestamp(std::string_view text);

}  // namespace flowpilot::quality_plugin
