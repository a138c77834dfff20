// A cost bound for Lua pattern matching.
//
// string.find/match/gmatch/gsub run in C, where the count hook cannot fire, and Lua's backtracking
// matcher is polynomial in the subject length with the degree set by the pattern
// (`string.find(string.rep('a', 3000), '.-.-.-b')` runs for minutes). Before a call, the sandbox
// estimates an upper bound on the matcher's steps and refuses calls above a budget, so the
// wall-time limit stays meaningful.
//
// The bound: (number of start positions) × Π over quantified items (longest run of subject bytes
// the item's class matches + 1), × (subject length + 1) per `%b`. It is an upper bound, often far
// above the real cost, so a few legitimate but expensive calls on long subjects are refused with
// a clear message. Pure function; any thread.
#pragma once

#include <cstddef>
#include <string_view>

namespace flowpilot::scripting::detail {

inline constexpr double kMaxPatternSteps = 2.5e8;

// Returns the estimated worst-case number of matcher steps, saturating at a large value.
// `anchorable` is false for gmatch, where a leading '^' does not limit the start positions.
double estimate_pattern_steps(std::string_view subject, std::string_view pattern, bool anchorable);

}  // namespace flowpilot::scripting::detail
