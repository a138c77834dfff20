// Indented JSON for people reading a terminal.
#pragma once

#include <boost/json/value.hpp>

#include <string>

namespace flowpilot::cli {

std::string pretty_json(const boost::json::value& value, int indent = 2);

}  // namespace flowpilot::cli
