// A header map with case-insensitive lookup, standing in for the HTTP server's request in the
// webhook-auth tests.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "web/webhook_auth.h"

namespace flowpilot::web::test {

class FakeRequest {
 public:
  explicit FakeRequest(std::string body) : body_(std::move(body)) {}

  FakeRequest& set(std::string_view name, std::string value) {
    headers_[lower(name)] = std::move(value);
    return *this;
  }
  FakeRequest& erase(std::string_view name) {
    headers_.erase(lower(name));
    return *this;
  }
  std::string& body() { return body_; }

  // The view borrows this object; keep it alive while verifying.
  WebhookRequest view() const {
    return WebhookRequest{body_, [this](std::string_view name) -> std::optional<std::string_view> {
                            auto it = headers_.find(lower(name));
                            if (it == headers_.end()) {
                              return std::nullopt;
                            }
                            return std::string_view(it->second);
                          }};
  }

 private:
  static std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
      if (c >= 'A' && c <= 'Z') {
        c = static_cast<char>(c - 'A' + 'a');
      }
    }
    return out;
  }

  std::string body_;
  std::map<std::string, std::string> headers_;
};

inline std::chrono::system_clock::time_point at(std::int64_t unix_seconds) {
  return std::chrono::system_clock::time_point(std::chrono::seconds(unix_seconds));
}

}  // namespace flowpilot::web::test
