// Reading a value a person types without it showing: secrets and passwords never come from
// command-line arguments, which other users of the machine can read in the process list.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace flowpilot::cli {

// One line from standard input, without its line ending. On a terminal, `prompt` goes to stderr
// and the typing is not echoed; from a pipe, nothing is shown. nullopt when input has ended.
std::optional<std::string> read_hidden_line(std::string_view prompt);

}  // namespace flowpilot::cli
