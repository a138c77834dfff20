#include "engine/http/detail/redaction.h"

#include <algorithm>
#include <cctype>

namespace flowpilot::engine::http_detail {

namespace {

std::string percent_encoded(const std::string& text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0x0f];
    }
  }
  return out;
}

void replace_all(std::string& text, const std::string& needle) {
  if (needle.empty()) return;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 3)) {
    text.replace(at, needle.size(), "***");
  }
}

}  // namespace

std::string redact(std::string text, const std::vector<std::string>& secrets) {
  std::vector<std::string> needles;
  for (const auto& secret : secrets) {
    if (secret.empty()) continue;
    needles.push_back(secret);
    if (auto encoded = percent_encoded(secret); encoded != secret)
      needles.push_back(std::move(encoded));
  }
  std::sort(needles.begin(), needles.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const auto& needle : needles) replace_all(text, needle);
  return text;
}

}  // namespace flowpilot::engine::http_detail
