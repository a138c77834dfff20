// The transform plugin's logic: filter, map, aggregate, join, pivot, sort and dedupe over lists of
// JSON objects (rows). Row expressions (filter's `where`, map's `fields`) go through an
// Evaluator, which the plugin binds to the host's sandboxed Lua (`host->eval`) and tests bind to
// the engine's expression evaluator; everything else is plain C++ over Boost.JSON.
//
// Conventions shared by every operation:
//   - A missing field and a null field are the same (null).
//   - Values compare by type first (booleans, numbers, strings, then anything else as JSON text);
//     numbers compare by value, so 5 and 5.0 are equal keys.
//   - Sums are exact: integers add as integers, any other number as integer micros (six
//     decimals), so 0.1 + 0.2 is 0.3. avg of nothing, like any division by zero, is null.
//
// Errors: TransformError, whose message names the field and, for row data, the row index
// (`with.where: row 12: attempt to compare nil with number`).
//
// Thread-safety: every function is reentrant; the Evaluator is called on the caller's thread.
#pragma once

#include <boost/json.hpp>

#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace flowpilot::transform_plugin {

class TransformError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Evaluates `expression` with `row` bound as `row`. Returns true and sets `out`, or returns false
// and sets `error` to a plain message.
using Evaluator = std::function<bool(std::string_view expression, const boost::json::value& row,
                                     boost::json::value& out, std::string& error)>;

// Runs the operation `op` (filter, map, aggregate, join, pivot, sort, dedupe) with its `with`
// object (which holds `rows`). Returns the resulting rows. Throws TransformError.
boost::json::array run(std::string_view op, const boost::json::object& with,
                       const Evaluator& evaluate);

}  // namespace flowpilot::transform_plugin
