#include "scripting/detail/pattern_guard.h"

#include <bitset>
#include <cctype>
#include <string>
#include <unordered_map>

namespace flowpilot::scripting::detail {
namespace {

using ByteSet = std::bitset<256>;

// Lua's %-classes (lstrlib.c semantics: C locale ctype); an upper-case letter is the complement,
// anything else stands for itself.
bool class_matches(unsigned char c, unsigned char cls) {
  bool result = false;
  switch (std::tolower(cls)) {
    case 'a':
      result = std::isalpha(c) != 0;
      break;
    case 'c':
      result = std::iscntrl(c) != 0;
      break;
    case 'd':
      result = std::isdigit(c) != 0;
      break;
    case 'g':
      result = std::isgraph(c) != 0;
      break;
    case 'l':
      result = std::islower(c) != 0;
      break;
    case 'p':
      result = std::ispunct(c) != 0;
      break;
    case 's':
      result = std::isspace(c) != 0;
      break;
    case 'u':
      result = std::isupper(c) != 0;
      break;
    case 'w':
      result = std::isalnum(c) != 0;
      break;
    case 'x':
      result = std::isxdigit(c) != 0;
      break;
    default:
      return c == cls;
  }
  return std::isupper(cls) ? !result : result;
}

ByteSet class_set(unsigned char cls) {
  ByteSet set;
  for (int c = 0; c < 256; ++c)
    set[static_cast<std::size_t>(c)] = class_matches(static_cast<unsigned char>(c), cls);
  return set;
}

// Parses the set starting at pattern[i] == '['; returns the index just past its closing ']'.
std::size_t parse_set(std::string_view pattern, std::size_t i, ByteSet& set) {
  ++i;
  bool negate = false;
  if (i < pattern.size() && pattern[i] == '^') {
    negate = true;
    ++i;
  }
  bool first = true;
  while (i < pattern.size() && (first || pattern[i] != ']')) {
    first = false;
    const auto c = static_cast<unsigned char>(pattern[i]);
    if (c == '%' && i + 1 < pattern.size()) {
      set |= class_set(static_cast<unsigned char>(pattern[i + 1]));
      i += 2;
    } else if (i + 2 < pattern.size() && pattern[i + 1] == '-' && pattern[i + 2] != ']') {
      const auto last = static_cast<unsigned char>(pattern[i + 2]);
      for (unsigned int b = c; b <= last; ++b) set[b] = true;
      i += 3;
    } else {
      set[c] = true;
      ++i;
    }
  }
  if (negate) set.flip();
  return i + 1;
}

std::size_t longest_run(std::string_view subject, const ByteSet& set) {
  std::size_t best = 0;
  std::size_t run = 0;
  for (char ch : subject) {
    run = set[static_cast<unsigned char>(ch)] ? run + 1 : 0;
    if (run > best) best = run;
  }
  return best;
}

}  // namespace

double estimate_pattern_steps(std::string_view subject, std::string_view pattern, bool anchorable) {
  constexpr double kSaturated = 1e300;
  const double n = static_cast<double>(subject.size());
  std::size_t i = 0;
  double steps = n + 1;
  if (!pattern.empty() && pattern[0] == '^') {
    if (anchorable) steps = 1;
    i = 1;
  }
  // Runs are cached per item text, so a long pattern repeating one class scans the subject once.
  std::unordered_map<std::string_view, std::size_t> runs;
  while (i < pattern.size() && steps < kSaturated) {
    const char c = pattern[i];
    const std::size_t item_start = i;
    ByteSet set;
    if (c == '(' || c == ')' || (c == '$' && i + 1 == pattern.size())) {
      ++i;
      continue;
    }
    if (c == '%') {
      if (i + 1 >= pattern.size()) break;  // malformed; Lua reports it
      const char next = pattern[i + 1];
      if (next == 'b') {
        steps *= n + 1;  // each %b scans forward for its closing delimiter
        i += 4;
        continue;
      }
      if (next == 'f') {
        ByteSet ignored;
        i = i + 2 < pattern.size() && pattern[i + 2] == '[' ? parse_set(pattern, i + 2, ignored)
                                                            : i + 2;
        continue;
      }
      if (std::isdigit(static_cast<unsigned char>(next))) {
        i += 2;  // back-reference: a memcmp, cheap
        continue;
      }
      set = class_set(static_cast<unsigned char>(next));
      i += 2;
    } else if (c == '[') {
      i = parse_set(pattern, i, set);
    } else if (c == '.') {
      set.set();
      ++i;
    } else {
      set[static_cast<unsigned char>(c)] = true;
      ++i;
    }
    if (i >= pattern.size()) break;
    const char quantifier = pattern[i];
    if (quantifier == '?') {
      steps *= 2;
      ++i;
    } else if (quantifier == '*' || quantifier == '+' || quantifier == '-') {
      const std::string_view key = pattern.substr(item_start, i - item_start);
      auto found = runs.find(key);
      if (found == runs.end()) {
        found = runs.emplace(key, longest_run(subject, set)).first;
      }
      steps *= static_cast<double>(found->second) + 1;
      ++i;
    }
  }
  return steps < kSaturated ? steps : kSaturated;
}

}  // namespace flowpilot::scripting::detail
