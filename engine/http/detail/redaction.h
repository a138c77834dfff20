// Redaction of secrets (tokens, keys) from the text the HTTP client reports.
#pragma once

#include <string>
#include <vector>

namespace flowpilot::engine::http_detail {

// Replaces each non-empty secret, as written and percent-encoded (as it appears inside a URL),
// with "***". Longer secrets go first so that one containing another is not half-redacted.
std::string redact(std::string text, const std::vector<std::string>& secrets);

}  // namespace flowpilot::engine::http_detail
