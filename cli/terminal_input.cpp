#include "cli/terminal_input.h"

#include <termios.h>
#include <unistd.h>

#include <iostream>

namespace flowpilot::cli {

std::optional<std::string> read_hidden_line(std::string_view prompt) {
  std::string value;
  if (::isatty(STDIN_FILENO) != 0) {
    std::cerr << prompt << std::flush;
    termios old{};
    const bool have_tty = ::tcgetattr(STDIN_FILENO, &old) == 0;
    if (have_tty) {
      termios quiet = old;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    const bool got = static_cast<bool>(std::getline(std::cin, value));
    if (have_tty) ::tcsetattr(STDIN_FILENO, TCSANOW, &old);
    std::cerr << "\n";
    if (!got) return std::nullopt;
  } else if (!std::getline(std::cin, value)) {
    return std::nullopt;
  }
  if (!value.empty() && value.back() == '\r') value.pop_back();
  return value;
}

}  // namespace flowpilot::cli
