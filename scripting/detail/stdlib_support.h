// Helpers for library functions written in C++ (stdlib_*.cpp).
//
// Lua raises errors with longjmp, which skips C++ destructors. Host code that allocates or throws
// (std::string, Boost.JSON, date/tz) therefore runs inside run_host(): it leaves its result in
// StateContext::scratch, and any exception becomes a Lua error only after the try block, when no
// C++ object is alive any more.
#pragma once

#include <exception>
#include <lua5.4/lua.hpp>
#include <new>
#include <stdexcept>
#include <string>

#include "scripting/detail/json_bridge.h"
#include "scripting/detail/sandbox_state.h"

namespace flowpilot::scripting::detail {

// Thrown by host code for bad input; the message is the whole sentence the script sees.
class ScriptError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Runs `body(std::string& scratch)`. On an exception, raises a Lua error with its message.
template <class Body>
void run_host(lua_State* L, Body&& body) {
  StateContext* ctx = context_of(L);
  bool failed = false;
  try {
    body(ctx->scratch);
  } catch (const std::bad_alloc&) {
    failed = true;
    ctx->scratch.clear();
  } catch (const std::exception& e) {
    failed = true;
    try {
      ctx->scratch = e.what();
    } catch (...) {
      ctx->scratch.clear();
    }
  }
  if (failed) {
    if (ctx->scratch.empty()) {
      luaL_error(L, "not enough memory");
    }
    luaL_error(L, "%s", ctx->scratch.c_str());
  }
}

// Pushes StateContext::scratch as a Lua string.
inline void push_scratch(lua_State* L) {
  const std::string& text = context_of(L)->scratch;
  lua_pushlstring(L, text.data(), text.size());
}

// Type checks with messages that name the function: "date.add: argument 2 must be a table".
inline bool is_table_like(lua_State* L, int index) {
  return lua_type(L, index) == LUA_TTABLE || is_table_like_userdata(L, index);
}

[[noreturn]] inline void argument_error(lua_State* L, const char* function, int argument,
                                        const char* expected) {
  luaL_error(L, "%s: argument %d must be %s", function, argument, expected);
  std::terminate();  // luaL_error does not return
}

inline const char* check_text(lua_State* L, int index, const char* function, std::size_t* length) {
  if (lua_type(L, index) != LUA_TSTRING) {
    argument_error(L, function, index, "a string");
  }
  return lua_tolstring(L, index, length);
}

}  // namespace flowpilot::scripting::detail
