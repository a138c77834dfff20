// "Did you mean ...?": the valid name a typo most likely meant, shared by validation and the CLI.
#pragma once

#include <algorithm>
#include <cstddef>
#include <limits>
#include <string>
#include <string_view>

namespace flowpilot::engine {

// Levenshtein distance.
std::size_t edit_distance(std::string_view a, std::string_view b);
std::size_t common_prefix(std::string_view a, std::string_view b);

// The candidate a typo most likely meant: a small edit distance (scaled for long names), or a
// prefix of at least three characters. Empty when nothing is close.
template <typename Range>
std::string nearest_name(std::string_view given, const Range& candidates) {
  if (given.empty()) return {};
  std::string best;
  std::size_t best_score = std::numeric_limits<std::size_t>::max();
  for (const auto& c : candidates) {
    const std::string_view candidate(c);
    if (candidate.empty() || candidate == given) continue;
    const std::size_t distance = edit_distance(given, candidate);
    const std::size_t allowed = std::max<std::size_t>(2, std::min(given.size(), candidate.size()) / 4);
    std::size_t score = std::numeric_limits<std::size_t>::max();
    if (distance <= allowed && distance < given.size()) {
      score = distance;
    } else if (given.size() >= 3 &&
               (candidate.starts_with(given) || given.starts_with(candidate))) {
      score = allowed + 1;
    } else if (given.size() >= 4 && common_prefix(given, candidate) * 5 >= given.size() * 4) {
      score = allowed + 2;  // "hmac-sha1" → "hmac-sha256"
    }
    if (score < best_score) {
      best_score = score;
      best = std::string(candidate);
    }
  }
  return best;
}

}  // namespace flowpilot::engine
