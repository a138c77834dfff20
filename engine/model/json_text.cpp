#include "engine/model/json_text.h"

#include <boost/json.hpp>

#include <sstream>

namespace flowpilot::engine {

std::string display_json(const boost::json::value& v) {
  if (v.is_double()) {
    std::ostringstream out;
    out << v.get_double();
    return out.str();
  }
  return boost::json::serialize(v);
}

}  // namespace flowpilot::engine
