// JSON as text for messages people read.
#pragma once

#include <boost/json/value.hpp>

#include <string>

namespace flowpilot::engine {

// Compact JSON, except that doubles print as written ("1.5", not Boost.JSON's "1.5e0").
std::string display_json(const boost::json::value& v);

}  // namespace flowpilot::engine
