#include "scripting/detail/sandbox_state.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <lua5.4/lua.hpp>
#include <new>
#include <stdexcept>
#include <utility>

#include "scripting/detail/json_bridge.h"
#include "scripting/detail/pattern_guard.h"
#include "scripting/detail/stdlib.h"

// What the sandbox keeps and why:
// - Libraries: base, string, table, math, utf8. No io, os, package, debug, coroutine. Coroutines
//   stay out because lua_sethook is per thread: code in a coroutine would run without the count
//   hook, so neither the instruction budget nor the deadline would stop it.
// - Added for data work (stdlib.h): json, date, money, and helpers in string and table. Programs
//   also get print, log, a date library with now/today, and (on request) locate.
// - Base functions removed: dofile, loadfile, load (all reach the compiler or the file system),
//   require, collectgarbage (lets a script stop the collector or drive it to burn time outside
//   the hook), print and warn (expressions have no output stream), and rawset: it is the one way to
//   write to a read-only library proxy without its __newindex, and proxies are shared by every
//   evaluation in a state. rawget, rawequal and rawlen only read and stay.
// - string.dump is removed from the string library itself, because ("").dump reaches it through
//   the string metatable.
// - string.find/match/gmatch/gsub are wrapped with a cost bound and a clock check, because the
//   matcher runs in C where the count hook cannot interrupt it (see pattern_guard.h); string.rep
//   answers "" at once for an empty string and separator (see guarded_rep).
// - setmetatable refuses metatables with __gc: a finalizer would run during a later collection,
//   outside the evaluation that created it (possibly while no hook limit is armed).
// - type() is replaced so that context views report "table".
// - xpcall() wraps the message handler so that it is skipped once a limit is hit (see
//   guarded_message_handler).
// Library tables are exposed through per-state read-only proxies, and the environment of each
// evaluation is a fresh table, so whatever one expression assigns is gone for the next one.

namespace flowpilot::scripting::detail {

struct EvalCall {
  std::string_view expression;
  const Scope* scope = nullptr;
  int slot = 0;
  bool compile = false;      // compile into `slot` first
  bool reset_cache = false;  // the cache is full: start a new one
  bool run = false;          // evaluate after compiling (false for check())
  // Filled in by the trampoline.
  bool compile_failed = false;
  bool compile_out_of_memory = false;
  bool stored = false;
};

namespace {

char kLibraryKey;       // registry: the table of names every environment falls back to
char kEnvMetatableKey;  // registry: the shared, locked metatable of every environment
char kChunkCacheKey;    // registry: slot → compiled expression
char kLimitSentinel;    // error object raised by the hook; the host reads the real cause
char kProgramDateKey;   // registry: read-only proxy of the date library with now/today
char kLocatedKey;       // registry: weak-keyed table → line, for locate() in the current program

// Refuse absurd single requests before they reach malloc (sanitizers abort on them).
constexpr std::size_t kMaxSingleAllocation = std::size_t{1} << 40;
// Hook granularity: how often the budget and the clock are checked.
constexpr int kHookInterval = 1000;
// Collect between evaluations once this much has accumulated beyond the fresh state's usage, so
// that garbage from earlier evaluations does not count as baseline for later ones for long.
constexpr std::size_t kCollectThreshold = std::size_t{4} << 20;

void* allocate(void* ud, void* ptr, std::size_t old_size, std::size_t new_size) {
  auto* ctx = static_cast<StateContext*>(ud);
  // With ptr == nullptr, Lua passes the object type in old_size, not a size.
  const std::size_t held = ptr != nullptr ? old_size : 0;
  if (new_size == 0) {
    std::free(ptr);
    ctx->used_bytes -= held;
    return nullptr;
  }
  if (new_size > held) {
    const std::size_t growth = new_size - held;
    if (growth > kMaxSingleAllocation || ctx->used_bytes > ctx->cap_bytes ||
        growth > ctx->cap_bytes - ctx->used_bytes) {
      return nullptr;  // Lua collects garbage, retries once, then raises LUA_ERRMEM
    }
  }
  void* block = std::realloc(ptr, new_size);
  if (block == nullptr) {
    // Lua requires shrinking to succeed; the old block is still large enough.
    return new_size <= held ? ptr : nullptr;
  }
  ctx->used_bytes = ctx->used_bytes - held + new_size;
  return block;
}

int panic(lua_State* L) {
  const char* message = lua_tostring(L, -1);
  std::fprintf(stderr, "flowpilot: unprotected Lua error: %s\n",
               message != nullptr ? message : "(not a string)");
  std::abort();
}

// Once a limit is hit, the hook fires on every instruction and raises again, so a pcall inside
// the expression cannot catch the error and carry on (the Redis "kill" technique).
void count_hook(lua_State* L, lua_Debug*) {
  StateContext* ctx = context_of(L);
  if (ctx->limit_hit == LimitHit::none) {
    ctx->instructions += static_cast<std::uint64_t>(ctx->hook_interval);
    if (ctx->instructions > ctx->max_instructions) {
      ctx->limit_hit = LimitHit::instructions;
    } else if (std::chrono::steady_clock::now() >= ctx->deadline) {
      ctx->limit_hit = LimitHit::time;
    }
  }
  if (ctx->limit_hit != LimitHit::none) {
    lua_sethook(L, count_hook, LUA_MASKCOUNT, 1);
    lua_pushlightuserdata(L, &kLimitSentinel);
    lua_error(L);
  }
}

// Turns any error object into a message string; limit sentinels pass through untouched.
int message_handler(lua_State* L) {
  if (lua_type(L, 1) == LUA_TSTRING || lua_islightuserdata(L, 1)) {
    return 1;
  }
  if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) {
    return 1;
  }
  const char* type = is_table_like_userdata(L, 1) ? "table" : luaL_typename(L, 1);
  lua_pushfstring(L, "error object is a %s value", type);
  return 1;
}

int sandbox_type(lua_State* L) {
  luaL_checkany(L, 1);
  lua_pushstring(L, is_table_like_userdata(L, 1) ? "table" : luaL_typename(L, 1));
  return 1;
}

int sandbox_setmetatable(lua_State* L) {
  if (lua_type(L, 2) == LUA_TTABLE) {
    // Raw, like Lua's own check when it decides whether an object needs finalizing.
    lua_pushliteral(L, "__gc");
    const bool has_gc = lua_rawget(L, 2) != LUA_TNIL;
    lua_pop(L, 1);
    if (has_gc) {
      return luaL_error(L, "__gc metamethods are not allowed in the sandbox");
    }
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

// A message handler runs inside luaG_errormsg. When the error was raised by the count hook, Lua
// is still inside the hook and has hooks switched off, so a user handler that loops would never
// be stopped. Once a limit is hit, the user's handler is skipped and the error passes through.
int guarded_message_handler(lua_State* L) {
  if (context_of(L)->limit_hit != LimitHit::none) {
    return 1;
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

// xpcall(f, handler, ...) with the handler wrapped by guarded_message_handler.
int sandbox_xpcall(lua_State* L) {
  luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_pushvalue(L, 2);
  lua_pushcclosure(L, guarded_message_handler, 1);
  lua_replace(L, 2);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

enum class PatternFunction { find, match_or_gsub, gmatch };

// Wraps string.find/match/gmatch/gsub: checks the clock (a C function can run long between two
// hook calls) and refuses calls whose estimated matcher cost is above kMaxPatternSteps.
// string.rep(s, n, sep) with s and sep both empty: Lua's C loop still runs n times (copying
// nothing), out of reach of the count hook, so `string.rep("", 3^31)` would run for hours. The
// answer is "" whatever n is; any other repetition is bounded by the memory limit, because the
// whole result is allocated before the loop.
int guarded_rep(lua_State* L) {
  std::size_t length = 0;
  std::size_t separator = 0;
  luaL_checklstring(L, 1, &length);
  luaL_checkinteger(L, 2);
  luaL_optlstring(L, 3, "", &separator);
  if (length + separator == 0) {
    lua_pushliteral(L, "");
    return 1;
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

int guarded_pattern_call(lua_State* L) {
  StateContext* ctx = context_of(L);
  if (ctx->scope != nullptr && std::chrono::steady_clock::now() >= ctx->deadline) {
    ctx->limit_hit = LimitHit::time;
    lua_pushlightuserdata(L, &kLimitSentinel);
    return lua_error(L);
  }
  const auto function = static_cast<PatternFunction>(lua_tointeger(L, lua_upvalueindex(2)));
  const bool plain = function == PatternFunction::find && lua_toboolean(L, 4);
  if (!plain && lua_type(L, 1) == LUA_TSTRING && lua_type(L, 2) == LUA_TSTRING) {
    std::size_t subject_length = 0;
    std::size_t pattern_length = 0;
    const char* subject = lua_tolstring(L, 1, &subject_length);
    const char* pattern = lua_tolstring(L, 2, &pattern_length);
    double steps = 0;
    bool failed = false;
    try {
      steps = estimate_pattern_steps(std::string_view(subject, subject_length),
                                     std::string_view(pattern, pattern_length),
                                     function != PatternFunction::gmatch);
    } catch (...) {
      failed = true;
    }
    if (failed) {
      return luaL_error(L, "not enough memory to check the pattern");
    }
    if (steps > kMaxPatternSteps) {
      return luaL_error(L,
                        "pattern is too expensive to match against a subject of %I bytes; "
                        "simplify the pattern or shorten the subject",
                        static_cast<lua_Integer>(subject_length));
    }
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

int read_only_library(lua_State* L) { return luaL_error(L, "library tables are read-only"); }

// pairs() over a library proxy iterates the real table without handing it out.
int proxy_next(lua_State* L) {
  lua_settop(L, 2);
  if (!lua_getmetatable(L, 1)) {
    return luaL_error(L, "library table expected");
  }
  lua_pushliteral(L, "__index");
  lua_rawget(L, -2);
  lua_pushvalue(L, 2);
  if (lua_next(L, -2) == 0) {
    lua_pushnil(L);
    return 1;
  }
  return 2;
}

int proxy_pairs(lua_State* L) {
  lua_pushcfunction(L, proxy_next);
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

// Leaves a read-only proxy of the table at `real` on the stack.
void push_library_proxy(lua_State* L, int real) {
  real = lua_absindex(L, real);
  lua_newtable(L);
  lua_createtable(L, 0, 4);
  lua_pushvalue(L, real);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, read_only_library);
  lua_setfield(L, -2, "__newindex");
  lua_pushcfunction(L, proxy_pairs);
  lua_setfield(L, -2, "__pairs");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
}

int setup_sandbox(lua_State* L) {
  static constexpr luaL_Reg kLibraries[] = {{LUA_GNAME, luaopen_base},
                                            {LUA_STRLIBNAME, luaopen_string},
                                            {LUA_TABLIBNAME, luaopen_table},
                                            {LUA_MATHLIBNAME, luaopen_math},
                                            {LUA_UTF8LIBNAME, luaopen_utf8}};
  for (const luaL_Reg& library : kLibraries) {
    luaL_requiref(L, library.name, library.func, 1);
    lua_pop(L, 1);
  }
  lua_pushglobaltable(L);
  const int globals = lua_gettop(L);

  lua_getfield(L, globals, LUA_STRLIBNAME);
  lua_pushnil(L);
  lua_setfield(L, -2, "dump");
  const std::pair<const char*, PatternFunction> kPatternFunctions[] = {
      {"find", PatternFunction::find},
      {"match", PatternFunction::match_or_gsub},
      {"gsub", PatternFunction::match_or_gsub},
      {"gmatch", PatternFunction::gmatch}};
  for (const auto& [name, function] : kPatternFunctions) {
    lua_getfield(L, -1, name);
    lua_pushinteger(L, static_cast<lua_Integer>(function));
    lua_pushcclosure(L, guarded_pattern_call, 2);
    lua_setfield(L, -2, name);
  }
  lua_getfield(L, -1, "rep");
  lua_pushcclosure(L, guarded_rep, 1);
  lua_setfield(L, -2, "rep");
  add_string_functions(L, -1);
  lua_pop(L, 1);

  lua_getfield(L, globals, LUA_TABLIBNAME);
  add_table_functions(L, -1);
  lua_pop(L, 1);
  push_json_library(L);
  lua_setfield(L, globals, "json");
  push_money_library(L);
  lua_setfield(L, globals, "money");
  push_date_library(L, false);
  lua_setfield(L, globals, "date");
  push_date_library(L, true);
  push_library_proxy(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kProgramDateKey);
  lua_pop(L, 1);

  // Strings share one metatable whose __index is the real string library; lock it so that
  // getmetatable("").__index cannot be read or replaced.
  lua_pushliteral(L, "");
  lua_getmetatable(L, -1);
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 2);

  lua_newtable(L);
  const int library = lua_gettop(L);
  static constexpr const char* kKeptBase[] = {
      "assert",   "error",    "ipairs",   "next",   "pairs",  "pcall",        "select",
      "tonumber", "tostring", "rawequal", "rawget", "rawlen", "getmetatable", "_VERSION"};
  for (const char* name : kKeptBase) {
    lua_getfield(L, globals, name);
    lua_setfield(L, library, name);
  }
  lua_pushcfunction(L, sandbox_type);
  lua_setfield(L, library, "type");
  lua_getfield(L, globals, "setmetatable");
  lua_pushcclosure(L, sandbox_setmetatable, 1);
  lua_setfield(L, library, "setmetatable");
  lua_getfield(L, globals, "xpcall");
  lua_pushcclosure(L, sandbox_xpcall, 1);
  lua_setfield(L, library, "xpcall");
  for (const char* name : {LUA_STRLIBNAME, LUA_TABLIBNAME, LUA_MATHLIBNAME, LUA_UTF8LIBNAME, "json",
                           "money", "date"}) {
    lua_getfield(L, globals, name);
    push_library_proxy(L, -1);
    lua_setfield(L, library, name);
    lua_pop(L, 1);
  }
  lua_pushvalue(L, library);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kLibraryKey);

  lua_createtable(L, 0, 2);
  lua_pushvalue(L, library);
  lua_setfield(L, -2, "__index");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kEnvMetatableKey);

  // Nothing runs with the real globals as its environment; empty them anyway so a future
  // mistake that exposes them exposes nothing.
  lua_pushnil(L);
  while (lua_next(L, globals) != 0) {
    lua_pop(L, 1);
    lua_pushvalue(L, -1);
    lua_pushnil(L);
    lua_rawset(L, globals);
  }

  lua_newtable(L);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kChunkCacheKey);

  register_json_bridge(L);
  return 0;
}

// Pushes a fresh environment for one evaluation or program: the scope's names as read-only views,
// `secrets`, `_G`, and the library behind a locked metatable. Returns its stack index.
int push_environment(lua_State* L, const Scope& scope) {
  const auto& bindings = scope.bindings();
  lua_createtable(L, 0, static_cast<int>(bindings.size()) + 8);
  const int env = lua_gettop(L);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kEnvMetatableKey);
  lua_setmetatable(L, env);
  for (const auto& binding : bindings) {
    lua_pushlstring(L, binding.first.data(), binding.first.size());
    push_json(L, *binding.second);
    lua_rawset(L, env);
  }
  // `secrets` always resolves through the scope's resolver, even if a binding shares the name:
  // secret values must never come from ordinary data.
  lua_pushliteral(L, "secrets");
  push_secrets(L);
  lua_rawset(L, env);
  lua_pushliteral(L, "_G");
  lua_pushvalue(L, env);
  lua_rawset(L, env);
  return env;
}

// Everything that touches Lua during an evaluation runs here, under lua_pcall, so that any error
// (including running out of memory while building the environment) is caught. Only pointers
// live in this frame.
int evaluation_trampoline(lua_State* L) {
  auto* call = static_cast<EvalCall*>(lua_touserdata(L, 1));
  if (call->reset_cache) {
    lua_newtable(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &kChunkCacheKey);
  }
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kChunkCacheKey);
  const int cache = lua_gettop(L);
  if (call->compile) {
    // The newline ends a trailing `--` comment before our closing parenthesis.
    luaL_Buffer source;
    luaL_buffinit(L, &source);
    luaL_addstring(&source, "return (");
    luaL_addlstring(&source, call->expression.data(), call->expression.size());
    luaL_addstring(&source, "\n)");
    luaL_pushresult(&source);
    std::size_t length = 0;
    const char* text = lua_tolstring(L, -1, &length);
    // Text mode only: a binary chunk is refused even though ours can never start with ESC.
    const int status = luaL_loadbufferx(L, text, length, "=expression", "t");
    if (status != LUA_OK) {
      call->compile_failed = true;
      call->compile_out_of_memory = status == LUA_ERRMEM;
      return lua_error(L);
    }
    lua_rawseti(L, cache, call->slot);
    lua_pop(L, 1);
    call->stored = true;
  }
  if (!call->run) {
    return 0;
  }
  lua_rawgeti(L, cache, call->slot);
  const int function = lua_gettop(L);
  const int env = push_environment(L, *call->scope);

  // Upvalue 1 of a main chunk is _ENV.
  lua_pushvalue(L, env);
  lua_setupvalue(L, function, 1);
  lua_pushvalue(L, function);
  lua_call(L, 0, 1);
  return 1;
}

// Empties the library functions' host-side buffers; a large one (json.encode of a big table) is
// freed rather than kept for the life of the pooled state.
void release_scratch(StateContext& ctx) {
  constexpr std::size_t kKeptCapacity = 4096;
  if (ctx.scratch.capacity() > kKeptCapacity) {
    std::string().swap(ctx.scratch);
  } else {
    ctx.scratch.clear();
  }
  ctx.decoded = nullptr;
}

// Restores the state between evaluations even when the host throws (std::bad_alloc).
class EvaluationGuard {
 public:
  EvaluationGuard(lua_State* L, StateContext* ctx, int slot) : L_(L), ctx_(ctx), slot_(slot) {}
  EvaluationGuard(const EvaluationGuard&) = delete;
  EvaluationGuard& operator=(const EvaluationGuard&) = delete;
  ~EvaluationGuard() {
    lua_settop(L_, 0);
    if (slot_ > 0) {
      // Drop the environment so its views and bindings can be collected.
      lua_rawgetp(L_, LUA_REGISTRYINDEX, &kChunkCacheKey);
      if (lua_rawgeti(L_, -1, slot_) == LUA_TFUNCTION) {
        lua_pushnil(L_);
        lua_setupvalue(L_, -2, 1);
      }
      lua_settop(L_, 0);
    }
    ctx_->scope = nullptr;
    ctx_->secret_value.reset();
    release_scratch(*ctx_);
    ++ctx_->generation;
  }

 private:
  lua_State* L_;
  StateContext* ctx_;
  int slot_;
};

// Lua prints chunk names of "=name" sources shortened to LUA_IDSIZE - 1 bytes.
std::string_view printed_chunk_name(std::string_view chunk_name) {
  return chunk_name.substr(0, LUA_IDSIZE - 1);
}

// True when the activation record belongs to the program's main chunk or a function defined in
// it (not the prelude, not a C function).
bool in_program_chunk(const lua_Debug& ar, const ProgramOptions& options) {
  return ar.source != nullptr && ar.source[0] == '=' &&
         std::string_view(ar.source + 1) == options.chunk_name && ar.currentline > 0;
}

// The line of the innermost frame running the program's own code, so that an error or a locate()
// inside a prelude helper reports the line of the program that called the helper. 0: none.
int program_line(lua_State* L, int first_level) {
  const ProgramOptions* options = context_of(L)->program;
  lua_Debug ar;
  for (int level = first_level; options != nullptr && lua_getstack(L, level, &ar) != 0; ++level) {
    if (lua_getinfo(L, "Sl", &ar) != 0 && in_program_chunk(ar, *options)) {
      return ar.currentline;
    }
  }
  return 0;
}

int program_message_handler(lua_State* L) {
  context_of(L)->error_line = program_line(L, 1);
  return message_handler(L);
}

// Replaces every occurrence of a secret value with "***", longest secrets first so that a secret
// containing another is masked whole.
std::string mask_secrets(std::string_view text, std::vector<std::string> secrets) {
  std::sort(secrets.begin(), secrets.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  std::string masked(text);
  for (const std::string& secret : secrets) {
    std::string next;
    std::size_t position = 0;
    for (std::size_t found = masked.find(secret); found != std::string::npos;
         found = masked.find(secret, position)) {
      next.append(masked, position, found - position);
      next += "***";
      position = found + secret.size();
    }
    next.append(masked, position, std::string::npos);
    masked = std::move(next);
  }
  return masked;
}

// Joins the arguments like print() does (tostring of each, tab-separated) and hands the text to
// ProgramOptions::log. Upvalue 1: the level name.
int log_function(lua_State* L) {
  const int count = lua_gettop(L);
  luaL_Buffer buffer;
  luaL_buffinit(L, &buffer);
  for (int i = 1; i <= count; ++i) {
    if (i > 1) luaL_addchar(&buffer, '\t');
    luaL_tolstring(L, i, nullptr);
    luaL_addvalue(&buffer);
  }
  luaL_pushresult(&buffer);
  std::size_t length = 0;
  const char* text = lua_tolstring(L, -1, &length);
  const char* level = lua_tostring(L, lua_upvalueindex(1));
  const ProgramOptions* options = context_of(L)->program;
  bool failed = false;
  if (options != nullptr && options->log) {
    try {
      const std::vector<std::string>& secrets = context_of(L)->revealed_secrets;
      if (secrets.empty()) {
        options->log(level, std::string_view(text, length));
      } else {
        options->log(level, mask_secrets(std::string_view(text, length), secrets));
      }
    } catch (...) {
      failed = true;
    }
  }
  if (failed) {
    return luaL_error(L, "the log could not take the message");
  }
  return 0;
}

// locate(t): remembers the caller's line for t and returns t (see ProgramOptions::enable_locate).
int locate_function(lua_State* L) {
  if (lua_type(L, 1) != LUA_TTABLE) {
    return luaL_error(L, "locate: argument 1 must be a table");
  }
  lua_settop(L, 1);
  int line = program_line(L, 1);
  if (line == 0) {
    lua_Debug ar;
    if (lua_getstack(L, 1, &ar) != 0 && lua_getinfo(L, "l", &ar) != 0) {
      line = ar.currentline;
    }
  }
  if (line > 0) {
    lua_rawgetp(L, LUA_REGISTRYINDEX, &kLocatedKey);
    lua_pushvalue(L, 1);
    lua_pushinteger(L, line);
    lua_rawset(L, -3);
    lua_pop(L, 1);
  }
  return 1;
}

struct ProgramCall {
  std::string_view code;
  const Scope* scope = nullptr;
  const ProgramOptions* options = nullptr;
  bool compile_failed = false;
  bool compile_out_of_memory = false;
};

int load_text(lua_State* L, ProgramCall* call, std::string_view code, const char* chunk_name) {
  const int status = luaL_loadbufferx(L, code.data(), code.size(), chunk_name, "t");
  if (status != LUA_OK) {
    call->compile_failed = true;
    call->compile_out_of_memory = status == LUA_ERRMEM;
    return lua_error(L);
  }
  return 0;
}

// Runs under lua_pcall like evaluation_trampoline: builds the environment, runs the prelude and
// then the program, and leaves the program's first return value (or nil).
int program_trampoline(lua_State* L) {
  auto* call = static_cast<ProgramCall*>(lua_touserdata(L, 1));
  const ProgramOptions& options = *call->options;
  const int env = push_environment(L, *call->scope);

  lua_pushliteral(L, "info");
  lua_pushcclosure(L, log_function, 1);
  lua_setfield(L, env, "print");
  lua_createtable(L, 0, 4);
  for (const char* level : {"debug", "info", "warn", "error"}) {
    lua_pushstring(L, level);
    lua_pushcclosure(L, log_function, 1);
    lua_setfield(L, -2, level);
  }
  lua_setfield(L, env, "log");
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kProgramDateKey);
  lua_setfield(L, env, "date");
  if (options.enable_locate) {
    lua_newtable(L);
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &kLocatedKey);
    lua_pushcfunction(L, locate_function);
    lua_setfield(L, env, "locate");
  }

  if (!options.prelude.empty()) {
    load_text(L, call, options.prelude, "=prelude");
    lua_pushvalue(L, env);
    lua_setupvalue(L, -2, 1);
    lua_call(L, 0, 0);
  }
  // The chunk name is built on the Lua stack, not in a std::string a Lua error could leak.
  lua_pushliteral(L, "=");
  lua_pushlstring(L, options.chunk_name.data(), options.chunk_name.size());
  lua_concat(L, 2);
  load_text(L, call, call->code, lua_tostring(L, -1));
  lua_pushvalue(L, env);
  lua_setupvalue(L, -2, 1);
  lua_call(L, 0, 1);
  return 1;
}

// Clears the per-program state even when the host throws.
class ProgramGuard {
 public:
  ProgramGuard(lua_State* L, StateContext* ctx) : L_(L), ctx_(ctx) {}
  ProgramGuard(const ProgramGuard&) = delete;
  ProgramGuard& operator=(const ProgramGuard&) = delete;
  ~ProgramGuard() {
    lua_settop(L_, 0);
    lua_pushnil(L_);
    lua_rawsetp(L_, LUA_REGISTRYINDEX, &kLocatedKey);
    ctx_->scope = nullptr;
    ctx_->program = nullptr;
    ctx_->revealed_secrets.clear();
    ctx_->secret_value.reset();
    release_scratch(*ctx_);
    ++ctx_->generation;
  }

 private:
  lua_State* L_;
  StateContext* ctx_;
};

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

// Refusals that need no Lua: an empty expression would otherwise report "unexpected symbol near
// ')'" about a parenthesis the author never wrote.
std::optional<std::string> precheck(std::string_view expression) {
  const std::string_view trimmed = trim(expression);
  if (trimmed.empty()) {
    return std::string("the expression is empty");
  }
  if (trimmed.front() == '\x1b') {
    return std::string("precompiled Lua bytecode is not accepted; expressions must be text");
  }
  return std::nullopt;
}

std::string with_thousands(std::uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::size_t line_count(std::string_view text) {
  return 1 + static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

std::size_t saturating_add(std::size_t a, std::size_t b) {
  return b > std::numeric_limits<std::size_t>::max() - a ? std::numeric_limits<std::size_t>::max()
                                                         : a + b;
}

}  // namespace

StateContext* context_of(lua_State* L) {
  void* ud = nullptr;
  lua_getallocf(L, &ud);
  return static_cast<StateContext*>(ud);
}

void SandboxState::LuaCloser::operator()(lua_State* L) const {
  // Closing frees memory and must never be refused by the cap.
  context_of(L)->cap_bytes = std::numeric_limits<std::size_t>::max();
  lua_close(L);
}

SandboxState::SandboxState() : context_(std::make_unique<StateContext>()) {
  lua_State* L = lua_newstate(allocate, context_.get());
  if (L == nullptr) {
    throw std::bad_alloc();
  }
  lua_.reset(L);
  lua_atpanic(L, panic);
  lua_pushcfunction(L, setup_sandbox);
  if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
    const char* message = lua_tostring(L, -1);
    throw std::runtime_error(std::string("cannot set up the Lua sandbox: ") +
                             (message != nullptr ? message : "unknown error"));
  }
  lua_sethook(L, count_hook, LUA_MASKCOUNT, kHookInterval);
  lua_gc(L, LUA_GCCOLLECT);
  baseline_bytes_ = context_->used_bytes;
}

SandboxState::~SandboxState() = default;

void SandboxState::arm_limits(const Limits& limits) {
  StateContext& ctx = *context_;
  ctx.cap_bytes = saturating_add(ctx.used_bytes, limits.max_memory_bytes);
  ctx.instructions = 0;
  ctx.max_instructions = limits.max_instructions;
  ctx.limit_hit = LimitHit::none;
  const auto now = std::chrono::steady_clock::now();
  const auto room = std::chrono::steady_clock::time_point::max() - now;
  ctx.deadline = limits.max_wall_time >= room ? std::chrono::steady_clock::time_point::max()
                                              : now + limits.max_wall_time;
  const std::uint64_t interval =
      std::clamp<std::uint64_t>(limits.max_instructions, 1, kHookInterval);
  ctx.hook_interval = static_cast<int>(interval);
  lua_sethook(lua_.get(), count_hook, LUA_MASKCOUNT, ctx.hook_interval);
}

void SandboxState::disarm_limits() {
  context_->cap_bytes = std::numeric_limits<std::size_t>::max();
  if (context_->used_bytes > baseline_bytes_ + kCollectThreshold) {
    lua_gc(lua_.get(), LUA_GCCOLLECT);
  }
}

EvalError SandboxState::limit_error(const Limits& limits) const {
  switch (context_->limit_hit) {
    case LimitHit::instructions:
      return {EvalError::Kind::instruction_limit,
              instruction_limit_message(limits.max_instructions)};
    case LimitHit::time:
      return {EvalError::Kind::time_limit, time_limit_message(limits.max_wall_time)};
    case LimitHit::memory:
    case LimitHit::none:
      break;
  }
  return {EvalError::Kind::memory_limit, memory_limit_message(limits.max_memory_bytes)};
}

EvalResult SandboxState::evaluate(std::string_view expression, const Scope& scope,
                                  const Limits& limits) {
  if (auto refusal = precheck(expression)) {
    return EvalError{EvalError::Kind::compile, std::move(*refusal)};
  }
  lua_State* L = lua_.get();
  EvalCall call;
  call.expression = expression;
  call.scope = &scope;
  call.run = true;
  if (const auto found = chunk_slots_.find(expression); found != chunk_slots_.end()) {
    call.slot = found->second;
  } else {
    if (chunk_slots_.size() >= kMaxCachedChunks) {
      chunk_slots_.clear();
      next_slot_ = 1;
      call.reset_cache = true;
    }
    call.slot = next_slot_++;
    call.compile = true;
  }

  arm_limits(limits);
  context_->scope = &scope;
  std::optional<EvalResult> result;
  {
    EvaluationGuard guard(L, context_.get(), call.slot);
    result.emplace(run(call, limits));
  }
  if (context_->limit_hit != LimitHit::none) {
    reusable_ = false;
  }
  disarm_limits();
  if (call.stored) {
    chunk_slots_.emplace(std::string(expression), call.slot);
  }
  return std::move(*result);
}

EvalResult SandboxState::run(EvalCall& call, const Limits& limits) {
  lua_State* L = lua_.get();
  lua_settop(L, 0);
  lua_pushcfunction(L, message_handler);
  lua_pushcfunction(L, evaluation_trampoline);
  lua_pushlightuserdata(L, &call);
  const int status = lua_pcall(L, 1, 1, 1);

  if (context_->limit_hit != LimitHit::none) {
    // Checked first and even after success: a pcall inside the expression may have swallowed
    // the error raised on the last instruction.
    return limit_error(limits);
  }
  if (status == LUA_ERRMEM || call.compile_out_of_memory) {
    context_->limit_hit = LimitHit::memory;
    return limit_error(limits);
  }
  if (status != LUA_OK) {
    const char* message = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : nullptr;
    return EvalError{call.compile_failed ? EvalError::Kind::compile : EvalError::Kind::runtime,
                     message != nullptr ? clean_lua_message(message, line_count(call.expression))
                                        : std::string("unknown Lua error")};
  }
  boost::json::value value;
  std::string error;
  // A Lua result within the memory cap expands somewhat in JSON; twice the cap leaves room for
  // that while still stopping tables shared many times over.
  const std::size_t budget = saturating_add(limits.max_memory_bytes, limits.max_memory_bytes);
  if (!to_json(L, -1, budget, value, error)) {
    return EvalError{EvalError::Kind::conversion, std::move(error)};
  }
  return value;
}

std::optional<std::string> SandboxState::check(std::string_view expression, const Limits& limits) {
  if (auto refusal = precheck(expression)) {
    return refusal;
  }
  if (chunk_slots_.find(expression) != chunk_slots_.end()) {
    return std::nullopt;
  }
  lua_State* L = lua_.get();
  EvalCall call;
  call.expression = expression;
  call.compile = true;
  if (chunk_slots_.size() >= kMaxCachedChunks) {
    chunk_slots_.clear();
    next_slot_ = 1;
    call.reset_cache = true;
  }
  call.slot = next_slot_++;

  arm_limits(limits);
  lua_settop(L, 0);
  lua_pushcfunction(L, evaluation_trampoline);
  lua_pushlightuserdata(L, &call);
  const int status = lua_pcall(L, 1, 0, 0);
  std::optional<std::string> message;
  if (status == LUA_ERRMEM || call.compile_out_of_memory) {
    message = "the expression is too large to compile within the memory limit";
  } else if (status != LUA_OK) {
    const char* text = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : nullptr;
    message = text != nullptr ? clean_lua_message(text, line_count(expression))
                              : std::string("unknown Lua error");
  }
  lua_settop(L, 0);
  disarm_limits();
  if (call.stored) {
    chunk_slots_.emplace(std::string(expression), call.slot);
  }
  return message;
}

ProgramOutcome SandboxState::run_program(std::string_view code, const Scope& scope,
                                         const ProgramOptions& options) {
  const std::string_view trimmed = trim(code);
  if (!trimmed.empty() && trimmed.front() == '\x1b') {
    return ProgramError{EvalError::Kind::compile,
                        "precompiled Lua bytecode is not accepted; programs must be text", 0};
  }
  lua_State* L = lua_.get();
  ProgramCall call;
  call.code = code;
  call.scope = &scope;
  call.options = &options;

  arm_limits(options.limits);
  context_->scope = &scope;
  context_->program = &options;
  context_->error_line = 0;
  std::optional<ProgramOutcome> outcome;
  {
    ProgramGuard guard(L, context_.get());
    lua_settop(L, 0);
    lua_pushcfunction(L, program_message_handler);
    lua_pushcfunction(L, program_trampoline);
    lua_pushlightuserdata(L, &call);
    const int status = lua_pcall(L, 1, 1, 1);

    if (context_->limit_hit != LimitHit::none ||
        (status == LUA_ERRMEM || call.compile_out_of_memory)) {
      if (context_->limit_hit == LimitHit::none) context_->limit_hit = LimitHit::memory;
      const EvalError error = limit_error(options.limits);
      outcome.emplace(
          ProgramError{error.kind, program_limit_message(error.message), context_->error_line});
    } else if (status != LUA_OK) {
      const char* message = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : nullptr;
      ProgramError error;
      error.kind = call.compile_failed ? EvalError::Kind::compile : EvalError::Kind::runtime;
      if (message == nullptr) {
        error.message = "unknown Lua error";
        error.line = context_->error_line;
      } else {
        const int line = split_chunk_position(options.chunk_name, message, error.message);
        error.line = line > 0 ? line : context_->error_line;
      }
      if (!context_->revealed_secrets.empty()) {
        // Errors end up in run records and logs, where secret values must not appear either.
        error.message = mask_secrets(error.message, context_->revealed_secrets);
      }
      outcome.emplace(std::move(error));
    } else {
      ProgramResult result;
      std::string error;
      const std::size_t budget =
          saturating_add(options.limits.max_memory_bytes, options.limits.max_memory_bytes);
      const int returned = lua_gettop(L);
      int locations = 0;
      if (options.enable_locate) {
        lua_rawgetp(L, LUA_REGISTRYINDEX, &kLocatedKey);
        locations = lua_gettop(L);
      }
      if (to_json(L, returned, budget, result.value, error, locations,
                  options.enable_locate ? &result.lines : nullptr)) {
        outcome.emplace(std::move(result));
      } else {
        outcome.emplace(ProgramError{EvalError::Kind::conversion, std::move(error), 0});
      }
    }
  }
  if (context_->limit_hit != LimitHit::none) {
    reusable_ = false;
  }
  disarm_limits();
  return std::move(*outcome);
}

std::string program_limit_message(std::string_view expression_message) {
  static constexpr std::string_view kPrefix = "expression ";
  if (expression_message.substr(0, kPrefix.size()) == kPrefix) {
    expression_message.remove_prefix(kPrefix.size());
  }
  return std::string(expression_message);
}

int split_chunk_position(std::string_view chunk_name, std::string_view message, std::string& bare) {
  const std::string_view name = printed_chunk_name(chunk_name);
  int line = 0;
  while (message.size() > name.size() && message.substr(0, name.size()) == name &&
         message[name.size()] == ':') {
    std::size_t i = name.size() + 1;
    int value = 0;
    while (i < message.size() && std::isdigit(static_cast<unsigned char>(message[i]))) {
      value = std::min(value * 10 + (message[i] - '0'), 1 << 30);
      ++i;
    }
    if (i == name.size() + 1 || message.substr(i, 2) != ": ") break;
    // Rethrowing adds a prefix in front; the last one is where the error was first raised.
    line = value;
    message.remove_prefix(i + 2);
  }
  bare.assign(message);
  return line;
}

std::string instruction_limit_message(std::uint64_t max_instructions) {
  return "expression exceeded " + with_thousands(max_instructions) + " instructions";
}

std::string memory_limit_message(std::size_t max_bytes) {
  std::string amount;
  if (max_bytes >= (std::size_t{1} << 20) && max_bytes % (std::size_t{1} << 20) == 0) {
    amount = with_thousands(max_bytes >> 20) + " MiB";
  } else if (max_bytes >= 1024 && max_bytes % 1024 == 0) {
    amount = with_thousands(max_bytes >> 10) + " KiB";
  } else {
    amount = with_thousands(max_bytes) + " bytes";
  }
  return "expression exceeded the memory limit of " + amount;
}

std::string time_limit_message(std::chrono::milliseconds max_wall_time) {
  return "expression exceeded the time limit of " + std::to_string(max_wall_time.count()) + " ms";
}

std::string clean_lua_message(std::string_view message, std::size_t expression_lines) {
  static constexpr std::string_view kChunk = "expression:";
  std::string prefix;
  while (message.substr(0, kChunk.size()) == kChunk) {
    std::size_t i = kChunk.size();
    while (i < message.size() && std::isdigit(static_cast<unsigned char>(message[i]))) ++i;
    if (i == kChunk.size() || message.substr(i, 2) != ": ") break;
    // The innermost position is the one worth keeping; repeated prefixes come from rethrows.
    if (prefix.empty() && expression_lines > 1) {
      std::size_t line = 0;
      for (char digit : message.substr(kChunk.size(), i - kChunk.size())) {
        line = std::min<std::size_t>(line * 10 + static_cast<std::size_t>(digit - '0'), 1u << 30);
      }
      prefix = "line " + std::to_string(std::min(line, expression_lines)) + ": ";
    }
    message.remove_prefix(i + 2);
  }
  return prefix + std::string(message);
}

}  // namespace flowpilot::scripting::detail
