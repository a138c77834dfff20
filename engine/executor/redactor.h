// Keeps secret values out of everything the engine records: step inputs and outputs, errors,
// logs and workflow outputs. Values a run has resolved through `secrets.NAME` are replaced by
// "***" wherever they appear inside a string.
//
// Thread-safety: none; each run owns one and uses it under the run's lock.
#pragma once

#include <boost/json/value.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace flowpilot::engine {

class Redactor {
 public:
  static constexpr std::string_view kMask = "***";

  void add(std::string secret);
  bool empty() const { return secrets_.empty(); }

  std::string redact(std::string_view text) const;
  boost::json::value redact(const boost::json::value& value) const;

 private:
  std::vector<std::string> secrets_;  // longest first, so that overlapping secrets mask fully
};

}  // namespace flowpilot::engine
