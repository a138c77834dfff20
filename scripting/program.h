// Lua programs in the sandbox: the code of a `lua` step, and workflow files written in Lua.
//
// A program is a chunk of statements (not one expression) that ends with `return value`. It runs
// in a state from the same pool, with the same sandbox as expressions (see expression.h), the
// names of a Scope visible as globals (inputs, steps, run, trigger, item, index, secrets), and a
// standard library for data work that expressions have too:
//   json.encode(v) / json.decode(s)
//   date.parse(iso) / date.format(t, fmt, zone) / date.add(t, {days=, hours=, minutes=, seconds=},
//     zone) / date.diff(a, b, unit) / date.today(zone) / date.now()
//     (times are ISO-8601 strings or seconds since the epoch; zones are IANA names; day arithmetic
//     in a zone is DST-correct; date.now and date.today exist only in programs, not in
//     expressions, so that re-evaluating an expression after a restart gives the same value)
//   string.split(s, sep) / string.trim(s) / string.replace(s, old, new) (plain text, no patterns),
//     also as methods: ("a,b"):split(",")
//   table.map(t, f) / table.filter(t, f) / table.group_by(t, key_or_f) / table.sum(t, key_or_f) /
//     table.sort_by(t, key_or_f [, "desc"]) (new tables; the input is not changed)
//   money.parse("12.34") -> integer micros / money.format(micros [, currency]) /
//     money.add(a, b) / money.sub(a, b) / money.mul(a, factor) / money.div(a, b) (nil when b is 0)
//     / money.ratio(a, b) (a / b as a number, nil when b is 0): exact decimal arithmetic on
//     integer micros, never floats for amounts
//   print(...) and log.debug/info/warn/error(...) go to ProgramOptions::log.
//
// Errors are values, as for expressions. Limit errors name the limit and its value, e.g.
// "exceeded 50,000,000 instructions"; callers prefix them ("lua step `x` ...").
//
// Thread-safety: as ExpressionEngine.
#pragma once

#include "scripting/expression.h"

#include <boost/json/value.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace flowpilot::scripting {

// Defaults for a `lua` step; a workflow may lower them per step, the operator caps them.
inline constexpr Limits kProgramLimits{50'000'000, 64u << 20, std::chrono::milliseconds(10'000)};

struct ProgramOptions {
  // Names the chunk in error messages and line numbers: "workflows/sync.lua", "step `score`".
  std::string chunk_name;
  Limits limits = kProgramLimits;
  // Receives print() (level "info") and log.<level>(...) output. Null: discarded.
  std::function<void(std::string_view level, std::string_view message)> log;
  // When set, the global function `locate(t)` is available: it records the line of its caller
  // for table `t` and returns `t`; ProgramResult::lines then maps the JSON path of each located
  // table in the result (e.g. `steps[2]`) to that line. Lua workflow builders use it so that
  // validation errors point at the right line of the file.
  bool enable_locate = false;
  // Lua source run in the same environment before the chunk (helpers such as workflow builders).
  std::string prelude;
};

struct ProgramResult {
  boost::json::value value;       // the chunk's return value as JSON
  std::map<std::string, int> lines;  // located table paths → 1-based line in the chunk
};

struct ProgramError {
  EvalError::Kind kind = EvalError::Kind::runtime;
  std::string message;  // plain sentence, without Lua's chunk prefix
  int line = 0;         // 1-based line in the chunk where it happened, 0 when unknown
};

using ProgramOutcome = std::variant<ProgramResult, ProgramError>;

// Runs `code` with `scope`'s names visible. Text chunks only.
ProgramOutcome run_program(const ExpressionEngine& engine, std::string_view code,
                           const Scope& scope, const ProgramOptions& options);

// Compiles `code` as a program without running it; the error (with its line) or nullopt.
std::optional<ProgramError> check_program(std::string_view code, std::string_view chunk_name);

}  // namespace flowpilot::scripting
