// One sandboxed Lua state: the allocator with its hard cap, the count hook with the instruction and
// wall-time budget, the locked-down library environment and the cache of compiled expressions.
//
// A SandboxState is used by one thread at a time (the engine's pool hands it out under a mutex).
// After an evaluation that hit a limit, reusable() turns false and the pool destroys the state:
// a fresh one costs less than reasoning about what a killed script left behind.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "scripting/expression.h"
#include "scripting/program.h"

struct lua_State;

namespace flowpilot::scripting::detail {

enum class LimitHit { none, instructions, memory, time };

// Per-state bookkeeping reachable from C callbacks through the allocator's user data
// (lua_getallocf), so no global or registry lookup is needed on hot paths.
class StateContext {
 public:
  std::size_t used_bytes = 0;
  std::size_t cap_bytes = std::numeric_limits<std::size_t>::max();

  // Bumped after every evaluation; views made in an older generation refuse access because the
  // JSON they point to may be gone.
  std::uint64_t generation = 1;

  // The evaluation in progress (null between evaluations).
  const Scope* scope = nullptr;

  std::uint64_t instructions = 0;
  std::uint64_t max_instructions = 0;
  int hook_interval = 1000;
  std::chrono::steady_clock::time_point deadline{};
  LimitHit limit_hit = LimitHit::none;

  // A resolved secret between the resolver call and the push into Lua (see secrets_index).
  std::optional<std::string> secret_value;

  // The program in progress (null for expressions): print, log and locate read its options.
  const ProgramOptions* program = nullptr;
  // Line of the program's main chunk that was running when the error was raised; 0 when unknown.
  int error_line = 0;
  // Secret values the program has read, masked in what print and log hand to the log sink:
  // secret values never appear in logs.
  std::vector<std::string> revealed_secrets;

  // Host-side results and messages of library functions (see stdlib_support.h). They live here,
  // not in locals of the C functions, because a Lua error (longjmp) would skip a local's
  // destructor.
  std::string scratch;
  boost::json::value decoded;
};

StateContext* context_of(lua_State* L);

struct EvalCall;

class SandboxState {
 public:
  SandboxState();  // throws std::bad_alloc or std::runtime_error when Lua cannot start
  ~SandboxState();
  SandboxState(const SandboxState&) = delete;
  SandboxState& operator=(const SandboxState&) = delete;

  EvalResult evaluate(std::string_view expression, const Scope& scope, const Limits& limits);
  std::optional<std::string> check(std::string_view expression, const Limits& limits);
  ProgramOutcome run_program(std::string_view code, const Scope& scope,
                             const ProgramOptions& options);

  // False after a limit was hit; the owner must destroy the state instead of reusing it.
  bool reusable() const { return reusable_; }

  // For tests of the bridge: the raw state and a way to end a generation by hand.
  lua_State* lua_for_testing() const { return lua_.get(); }
  void end_generation_for_testing() { ++context_->generation; }

  static constexpr std::size_t kMaxCachedChunks = 4096;

 private:
  struct LuaCloser {
    void operator()(lua_State* L) const;
  };
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  void arm_limits(const Limits& limits);
  void disarm_limits();
  EvalError limit_error(const Limits& limits) const;
  EvalResult run(EvalCall& call, const Limits& limits);

  // Declared before lua_ so that the state is closed while its allocator context still exists.
  std::unique_ptr<StateContext> context_;
  std::unique_ptr<lua_State, LuaCloser> lua_;
  std::unordered_map<std::string, int, StringHash, std::equal_to<>> chunk_slots_;
  int next_slot_ = 1;
  std::size_t baseline_bytes_ = 0;  // usage of the fresh state, for deciding when to collect
  bool reusable_ = true;
};

// Messages for limit errors, shared with tests so wording changes in one place.
std::string instruction_limit_message(std::uint64_t max_instructions);
std::string memory_limit_message(std::size_t max_bytes);
std::string time_limit_message(std::chrono::milliseconds max_wall_time);

// The message of a limit error in a program: the same sentence without the leading "expression ",
// since callers prefix it with the step ("lua step `x` exceeded ...").
std::string program_limit_message(std::string_view expression_message);

// Splits "<chunk_name>:LINE: message" (and the repeated prefixes rethrows add) into the line where
// the error was first raised and the bare message. Lua shortens chunk names to LUA_IDSIZE - 1
// bytes; so does this. Returns 0 as the line when the message has no such prefix.
int split_chunk_position(std::string_view chunk_name, std::string_view message, std::string& bare);

// Removes Lua's "chunk:line:" position prefixes from an error message. For a one-line expression
// the position says nothing; for longer ones the innermost becomes "line N: " (clamped to the
// expression's last line, since the compiled chunk adds a closing line of its own).
std::string clean_lua_message(std::string_view message, std::size_t expression_lines = 1);

}  // namespace flowpilot::scripting::detail
