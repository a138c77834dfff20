// Durations as written in definitions: "500ms", "30s", "2m", "4h", "1d", combinations such as
// "1h30m", or a bare number of seconds.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace flowpilot::engine {

// Returns nullopt and sets `error` (when given) to a plain sentence for anything else, including
// zero, negative and overflowing values.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text,
                                                        std::string* error = nullptr);

// "1h30m", "250ms", "0s": the shortest exact form.
std::string format_duration(std::chrono::milliseconds d);

}  // namespace flowpilot::engine
