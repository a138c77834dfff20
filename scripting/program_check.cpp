#include <lua5.4/lua.hpp>
#include <memory>

#include "scripting/detail/sandbox_state.h"
#include "scripting/program.h"

namespace flowpilot::scripting {

std::optional<ProgramError> check_program(std::string_view code, std::string_view chunk_name) {
  // The same refusal as run_program, so validation and running agree on the sentence.
  std::string_view trimmed = code;
  while (!trimmed.empty() && (trimmed.front() == ' ' || trimmed.front() == '\t' ||
                              trimmed.front() == '\n' || trimmed.front() == '\r')) {
    trimmed.remove_prefix(1);
  }
  if (!trimmed.empty() && trimmed.front() == '\x1b') {
    return ProgramError{EvalError::Kind::compile,
                        "precompiled Lua bytecode is not accepted; programs must be text", 0};
  }
  // Compiling runs nothing, so a bare state is enough; text mode refuses bytecode here too.
  std::unique_ptr<lua_State, decltype(&lua_close)> L(luaL_newstate(), &lua_close);
  if (!L) return ProgramError{EvalError::Kind::memory_limit, "out of memory", 0};
  const std::string name = "=" + std::string(chunk_name);
  const int status = luaL_loadbufferx(L.get(), code.data(), code.size(), name.c_str(), "t");
  if (status == LUA_OK) {
    return std::nullopt;
  }
  const char* text = lua_tostring(L.get(), -1);
  ProgramError error{
      status == LUA_ERRMEM ? EvalError::Kind::memory_limit : EvalError::Kind::compile, {}, 0};
  // "<chunk>:LINE: message" → line and message, with the chunk name shortened as Lua prints it.
  error.line = detail::split_chunk_position(chunk_name, text != nullptr ? text : "unknown error",
                                            error.message);
  return error;
}

}  // namespace flowpilot::scripting
