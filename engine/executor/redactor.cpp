#include "engine/executor/redactor.h"

#include <boost/json.hpp>

#include <algorithm>

namespace flowpilot::engine {

void Redactor::add(std::string secret) {
  // An empty secret would match everywhere and mask nothing useful.
  if (secret.empty()) return;
  if (std::find(secrets_.begin(), secrets_.end(), secret) != secrets_.end()) return;
  secrets_.push_back(std::move(secret));
  std::sort(secrets_.begin(), secrets_.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

std::string Redactor::redact(std::string_view text) const {
  std::string out(text);
  for (const std::string& secret : secrets_) {
    std::size_t pos = 0;
    while ((pos = out.find(secret, pos)) != std::string::npos) {
      out.replace(pos, secret.size(), kMask);
      pos += kMask.size();
    }
  }
  return out;
}

boost::json::value Redactor::redact(const boost::json::value& value) const {
  if (secrets_.empty()) return value;
  switch (value.kind()) {
    case boost::json::kind::string:
      return boost::json::value(redact(std::string_view(value.get_string())));
    case boost::json::kind::array: {
      boost::json::array out;
      out.reserve(value.get_array().size());
      for (const auto& v : value.get_array()) out.push_back(redact(v));
      return out;
    }
    case boost::json::kind::object: {
      boost::json::object out;
      for (const auto& [k, v] : value.get_object()) out[k] = redact(v);
      return out;
    }
    default:
      return value;
  }
}

}  // namespace flowpilot::engine
