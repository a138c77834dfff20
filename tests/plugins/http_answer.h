// An HTTP response as the SDK hands it to a connector, for tests of what connectors make of
// their APIs' answers.
#pragma once

#include <flowpilot/plugin.hpp>

#include <string>
#include <utility>

namespace flowpilot::testing {

inline sdk::HttpResponse http_answer(int status, std::string body, sdk::Headers headers = {}) {
  sdk::HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

}  // namespace flowpilot::testing
