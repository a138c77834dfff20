#include "scripting/detail/json_bridge.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <lua5.4/lua.hpp>
#include <string>

#include "scripting/detail/sandbox_state.h"

namespace flowpilot::scripting::detail {
namespace {

namespace json = boost::json;

int push_view_of_global(lua_State* L) {
  push_json(L, *static_cast<const json::value*>(lua_touserdata(L, 1)));
  return 1;
}

int read_field(lua_State* L) {
  lua_getfield(L, 1, "a");
  return 1;
}

// Nothing an expression can reach outlives its evaluation, so a stale view cannot be produced
// through the public API; build one by hand and check it refuses access.
TEST(JsonBridge, StaleViewRefusesAccess) {
  SandboxState state;
  lua_State* L = state.lua_for_testing();
  const json::value data = json::parse(R"({"a": 1})");

  lua_pushcfunction(L, push_view_of_global);
  lua_pushlightuserdata(L, const_cast<json::value*>(&data));
  ASSERT_EQ(lua_pcall(L, 1, 1, 0), LUA_OK);
  const int view = lua_gettop(L);

  lua_pushcfunction(L, read_field);
  lua_pushvalue(L, view);
  ASSERT_EQ(lua_pcall(L, 1, 1, 0), LUA_OK) << lua_tostring(L, -1);
  EXPECT_EQ(lua_tointeger(L, -1), 1);
  lua_pop(L, 1);

  state.end_generation_for_testing();
  lua_pushcfunction(L, read_field);
  lua_pushvalue(L, view);
  ASSERT_NE(lua_pcall(L, 1, 1, 0), LUA_OK);
  EXPECT_NE(std::string(lua_tostring(L, -1)).find("stale value"), std::string::npos);
  lua_pop(L, 1);

  json::value out;
  std::string error;
  EXPECT_FALSE(to_json(L, view, 1 << 20, out, error));
  EXPECT_EQ(error, "result contains a stale context value");
  EXPECT_EQ(lua_gettop(L), view);  // conversion leaves the stack as it found it
  lua_settop(L, 0);
}

TEST(JsonBridge, RepeatedViewsAreChargedAgainstTheBudget) {
  ExpressionEngine engine(Limits{}, 1);
  json::array rows;
  for (int i = 0; i < 1000; ++i) rows.emplace_back(std::string(1000, 'x'));
  const json::value big(std::move(rows));
  Scope scope;
  scope.bind("big", big);
  // Passing a large value through once is free, whatever its size.
  Limits small;
  small.max_memory_bytes = 64 * 1024;
  EvalResult once = engine.evaluate("big", scope, small);
  ASSERT_TRUE(once.ok()) << once.error().message;
  EXPECT_EQ(once.value(), big);
  // Listing it a thousand times would copy a gigabyte.
  EvalResult many = engine.evaluate(
      "(function() local t = {} for i = 1, 1000 do t[i] = big end return t end)()", scope);
  ASSERT_FALSE(many.ok());
  EXPECT_EQ(many.error().kind, EvalError::Kind::conversion);
  EXPECT_EQ(many.error().message, "result is too large to convert to JSON");
}

TEST(Utf8, AcceptsWellFormedText) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii"));
  EXPECT_TRUE(is_valid_utf8("h\xc3\xa9"));         // é
  EXPECT_TRUE(is_valid_utf8("\xe2\x82\xac"));      // €
  EXPECT_TRUE(is_valid_utf8("\xf0\x9f\x98\x80"));  // U+1F600
  EXPECT_TRUE(is_valid_utf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF
  EXPECT_TRUE(is_valid_utf8(std::string("a\0b", 3)));
}

TEST(Utf8, RejectsMalformedText) {
  EXPECT_FALSE(is_valid_utf8("\xff"));
  EXPECT_FALSE(is_valid_utf8("\x80"));              // lone continuation byte
  EXPECT_FALSE(is_valid_utf8("\xc3"));              // truncated
  EXPECT_FALSE(is_valid_utf8("\xe2\x82"));          // truncated
  EXPECT_FALSE(is_valid_utf8("\xc0\x80"));          // overlong NUL
  EXPECT_FALSE(is_valid_utf8("\xe0\x80\xaf"));      // overlong
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate U+D800
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xc3\x28"));          // bad continuation
}

TEST(Messages, LimitMessages) {
  EXPECT_EQ(instruction_limit_message(1'000'000), "expression exceeded 1,000,000 instructions");
  EXPECT_EQ(instruction_limit_message(999), "expression exceeded 999 instructions");
  EXPECT_EQ(instruction_limit_message(1000), "expression exceeded 1,000 instructions");
  EXPECT_EQ(memory_limit_message(16u << 20), "expression exceeded the memory limit of 16 MiB");
  EXPECT_EQ(memory_limit_message(1536), "expression exceeded the memory limit of 1,536 bytes");
  EXPECT_EQ(memory_limit_message(2048), "expression exceeded the memory limit of 2 KiB");
  EXPECT_EQ(time_limit_message(std::chrono::milliseconds(2000)),
            "expression exceeded the time limit of 2000 ms");
}

TEST(Messages, CleanLuaMessage) {
  EXPECT_EQ(clean_lua_message("expression:1: boom"), "boom");
  EXPECT_EQ(clean_lua_message("expression:1: expression:1: boom"), "boom");
  EXPECT_EQ(clean_lua_message("expression:2: near ')'", 1), "near ')'");
  EXPECT_EQ(clean_lua_message("expression:3: bad", 4), "line 3: bad");
  EXPECT_EQ(clean_lua_message("expression:9: bad", 4), "line 4: bad");
  EXPECT_EQ(clean_lua_message("no prefix"), "no prefix");
  EXPECT_EQ(clean_lua_message("expression:x: odd"), "expression:x: odd");
}

}  // namespace
}  // namespace flowpilot::scripting::detail
