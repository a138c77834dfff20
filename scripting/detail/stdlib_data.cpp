// string.split/trim/replace, table.map/filter/group_by/sum/sort_by and json.encode/decode.
//
// The string and table functions use only the Lua C API (no C++ objects), so a Lua error can
// unwind them at any point. They read sequences through lua_geti and luaL_len, which honour
// __index and __len, so read-only context views work as well as tables.

#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/value.hpp>
#include <cstring>
#include <lua5.4/lua.hpp>

#include "scripting/detail/json_bridge.h"
#include "scripting/detail/stdlib.h"
#include "scripting/detail/stdlib_support.h"

namespace flowpilot::scripting::detail {
namespace {

namespace json = boost::json;

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

int string_split(lua_State* L) {
  std::size_t length = 0;
  std::size_t separator_length = 0;
  const char* text = check_text(L, 1, "string.split", &length);
  const char* separator = check_text(L, 2, "string.split", &separator_length);
  if (separator_length == 0) {
    return luaL_error(L, "string.split: the separator must not be empty");
  }
  lua_newtable(L);
  lua_Integer count = 0;
  std::size_t start = 0;
  while (true) {
    const char* found = nullptr;
    if (length - start >= separator_length) {
      for (std::size_t i = start; i + separator_length <= length; ++i) {
        if (std::memcmp(text + i, separator, separator_length) == 0) {
          found = text + i;
          break;
        }
      }
    }
    const std::size_t end = found != nullptr ? static_cast<std::size_t>(found - text) : length;
    lua_pushlstring(L, text + start, end - start);
    lua_rawseti(L, -2, ++count);
    if (found == nullptr) break;
    start = end + separator_length;
  }
  return 1;
}

int string_trim(lua_State* L) {
  std::size_t length = 0;
  const char* text = check_text(L, 1, "string.trim", &length);
  std::size_t begin = 0;
  while (begin < length && is_space(text[begin])) ++begin;
  std::size_t end = length;
  while (end > begin && is_space(text[end - 1])) --end;
  lua_pushlstring(L, text + begin, end - begin);
  return 1;
}

int string_replace(lua_State* L) {
  std::size_t length = 0;
  std::size_t old_length = 0;
  std::size_t new_length = 0;
  const char* text = check_text(L, 1, "string.replace", &length);
  const char* old_text = check_text(L, 2, "string.replace", &old_length);
  const char* new_text = check_text(L, 3, "string.replace", &new_length);
  if (old_length == 0) {
    return luaL_error(L, "string.replace: the text to replace must not be empty");
  }
  luaL_Buffer buffer;
  luaL_buffinit(L, &buffer);
  std::size_t i = 0;
  while (i < length) {
    if (length - i >= old_length && std::memcmp(text + i, old_text, old_length) == 0) {
      luaL_addlstring(&buffer, new_text, new_length);
      i += old_length;
    } else {
      luaL_addchar(&buffer, text[i]);
      ++i;
    }
  }
  luaL_pushresult(&buffer);
  return 1;
}

void check_list(lua_State* L, const char* function) {
  if (!is_table_like(L, 1)) {
    argument_error(L, function, 1, "a table");
  }
}

void check_function(lua_State* L, int index, const char* function) {
  if (lua_type(L, index) != LUA_TFUNCTION) {
    argument_error(L, function, index, "a function");
  }
}

void check_key_or_function(lua_State* L, int index, const char* function) {
  if (lua_type(L, index) != LUA_TSTRING && lua_type(L, index) != LUA_TFUNCTION) {
    argument_error(L, function, index, "a field name or a function");
  }
}

// Pushes the key of the element at `element`: element[name] for a field name, f(element) for a
// function at `key_or_function`. An element that cannot be indexed has no field: nil.
void push_key(lua_State* L, int key_or_function, int element) {
  if (lua_type(L, key_or_function) == LUA_TFUNCTION) {
    lua_pushvalue(L, key_or_function);
    lua_pushvalue(L, element);
    lua_call(L, 1, 1);
    return;
  }
  if (!is_table_like(L, element)) {
    lua_pushnil(L);
    return;
  }
  lua_pushvalue(L, key_or_function);
  lua_gettable(L, element);
}

// table.map(t, f): {f(t[1], 1), f(t[2], 2), ...}. A nil result leaves a hole, as t[i] = nil does.
int table_map(lua_State* L) {
  check_list(L, "table.map");
  check_function(L, 2, "table.map");
  const lua_Integer n = luaL_len(L, 1);
  lua_createtable(L, n > 0 && n < (1 << 20) ? static_cast<int>(n) : 0, 0);
  const int out = lua_gettop(L);
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_pushvalue(L, 2);
    lua_geti(L, 1, i);
    lua_pushinteger(L, i);
    lua_call(L, 2, 1);
    lua_seti(L, out, i);
  }
  return 1;
}

// table.filter(t, f): the elements for which f(element, index) is truthy, in order.
int table_filter(lua_State* L) {
  check_list(L, "table.filter");
  check_function(L, 2, "table.filter");
  const lua_Integer n = luaL_len(L, 1);
  lua_newtable(L);
  const int out = lua_gettop(L);
  lua_Integer kept = 0;
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_geti(L, 1, i);
    const int element = lua_gettop(L);
    lua_pushvalue(L, 2);
    lua_pushvalue(L, element);
    lua_pushinteger(L, i);
    lua_call(L, 2, 1);
    const bool keep = lua_toboolean(L, -1) != 0;
    lua_pop(L, 1);
    if (keep) {
      lua_seti(L, out, ++kept);
    } else {
      lua_pop(L, 1);
    }
  }
  return 1;
}

// table.group_by(t, key_or_f): {key = {elements with that key, in order}}.
int table_group_by(lua_State* L) {
  check_list(L, "table.group_by");
  check_key_or_function(L, 2, "table.group_by");
  const lua_Integer n = luaL_len(L, 1);
  lua_newtable(L);
  const int out = lua_gettop(L);
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_geti(L, 1, i);
    const int element = lua_gettop(L);
    push_key(L, 2, element);
    const int key = lua_gettop(L);
    const int key_type = lua_type(L, key);
    if (key_type == LUA_TNIL) {
      return luaL_error(L, "table.group_by: element %I has no key", static_cast<lua_Integer>(i));
    }
    if (key_type != LUA_TSTRING && key_type != LUA_TNUMBER && key_type != LUA_TBOOLEAN) {
      return luaL_error(L,
                        "table.group_by: the key of element %I is a %s; keys must be strings, "
                        "numbers or booleans",
                        static_cast<lua_Integer>(i), luaL_typename(L, key));
    }
    if (key_type == LUA_TNUMBER && lua_tonumber(L, key) != lua_tonumber(L, key)) {
      return luaL_error(L, "table.group_by: the key of element %I is NaN",
                        static_cast<lua_Integer>(i));
    }
    lua_pushvalue(L, key);
    if (lua_rawget(L, out) == LUA_TNIL) {
      lua_pop(L, 1);
      lua_newtable(L);
      lua_pushvalue(L, key);
      lua_pushvalue(L, -2);
      lua_rawset(L, out);
    }
    lua_pushvalue(L, element);
    lua_rawseti(L, -2, static_cast<lua_Integer>(lua_rawlen(L, -2)) + 1);
    lua_settop(L, out);
  }
  return 1;
}

// table.sum(t [, key_or_f]): the sum of the elements, or of their keys; nil values are skipped.
// Integers stay integers and fail on overflow rather than wrapping around as Lua's + does.
int table_sum(lua_State* L) {
  check_list(L, "table.sum");
  const bool keyed = !lua_isnoneornil(L, 2);
  if (keyed) {
    check_key_or_function(L, 2, "table.sum");
  }
  const lua_Integer n = luaL_len(L, 1);
  bool integral = true;
  lua_Integer integer_total = 0;
  lua_Number float_total = 0;
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_geti(L, 1, i);
    if (keyed) {
      push_key(L, 2, lua_gettop(L));
      lua_remove(L, -2);
    }
    if (lua_isnil(L, -1)) {
      lua_pop(L, 1);
      continue;
    }
    if (lua_type(L, -1) != LUA_TNUMBER) {
      return luaL_error(L, "table.sum: element %I is a %s, not a number",
                        static_cast<lua_Integer>(i), luaL_typename(L, -1));
    }
    if (integral && lua_isinteger(L, -1)) {
      if (__builtin_add_overflow(integer_total, lua_tointeger(L, -1), &integer_total)) {
        return luaL_error(L, "table.sum: the sum is too large for an integer");
      }
    } else {
      if (integral) {
        float_total = static_cast<lua_Number>(integer_total);
        integral = false;
      }
      float_total += lua_tonumber(L, -1);
    }
    lua_pop(L, 1);
  }
  if (integral) {
    lua_pushinteger(L, integer_total);
  } else {
    lua_pushnumber(L, float_total);
  }
  return 1;
}

// Comparator for sort_by over element positions. Upvalues: keys (position → key), descending.
// Missing keys sort last either way; equal keys keep their input order, which makes the sort
// stable even though table.sort is not.
int sort_by_less(lua_State* L) {
  const lua_Integer a = lua_tointeger(L, 1);
  const lua_Integer b = lua_tointeger(L, 2);
  const bool descending = lua_toboolean(L, lua_upvalueindex(2)) != 0;
  lua_rawgeti(L, lua_upvalueindex(1), a);
  lua_rawgeti(L, lua_upvalueindex(1), b);
  const bool a_nil = lua_isnil(L, -2);
  const bool b_nil = lua_isnil(L, -1);
  bool less = false;
  if (a_nil || b_nil) {
    less = a_nil == b_nil ? a < b : b_nil;
  } else if (lua_compare(L, -2, -1, LUA_OPLT)) {
    less = !descending;
  } else if (lua_compare(L, -1, -2, LUA_OPLT)) {
    less = descending;
  } else {
    less = a < b;
  }
  lua_pushboolean(L, less);
  return 1;
}

// table.sort_by(t, key_or_f [, "asc"|"desc"]): a sorted copy. Upvalue 1: the original table.sort.
int table_sort_by(lua_State* L) {
  check_list(L, "table.sort_by");
  check_key_or_function(L, 2, "table.sort_by");
  bool descending = false;
  if (!lua_isnoneornil(L, 3)) {
    const char* order = lua_type(L, 3) == LUA_TSTRING ? lua_tostring(L, 3) : "";
    if (std::strcmp(order, "desc") == 0) {
      descending = true;
    } else if (std::strcmp(order, "asc") != 0) {
      return luaL_error(L, "table.sort_by: argument 3 must be \"asc\" or \"desc\"");
    }
  }
  lua_settop(L, 2);
  const lua_Integer n = luaL_len(L, 1);
  lua_newtable(L);  // 3: position → element
  lua_newtable(L);  // 4: position → key
  lua_newtable(L);  // 5: positions, to be sorted
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_geti(L, 1, i);
    push_key(L, 2, lua_gettop(L));
    const int key = lua_gettop(L);
    const int key_type = lua_type(L, key);
    if (key_type != LUA_TNIL && key_type != LUA_TNUMBER && key_type != LUA_TSTRING) {
      return luaL_error(L,
                        "table.sort_by: the key of element %I is a %s; keys must be numbers "
                        "or strings",
                        static_cast<lua_Integer>(i), luaL_typename(L, key));
    }
    lua_rawseti(L, 4, i);
    lua_rawseti(L, 3, i);
    lua_pushinteger(L, i);
    lua_rawseti(L, 5, i);
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushvalue(L, 5);
  lua_pushvalue(L, 4);
  lua_pushboolean(L, descending);
  lua_pushcclosure(L, sort_by_less, 2);
  lua_call(L, 2, 0);
  lua_createtable(L, n > 0 && n < (1 << 20) ? static_cast<int>(n) : 0, 0);
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_rawgeti(L, 5, i);
    lua_rawget(L, 3);
    lua_rawseti(L, -2, i);
  }
  return 1;
}

int json_encode(lua_State* L) {
  luaL_checkany(L, 1);
  lua_settop(L, 1);
  StateContext* ctx = context_of(L);
  // The text is no bigger than what the script could still allocate, give or take escapes.
  const std::size_t room = ctx->cap_bytes > ctx->used_bytes ? ctx->cap_bytes - ctx->used_bytes : 0;
  run_host(L, [&](std::string& scratch) {
    json::value value;
    std::string error;
    if (!to_json(L, 1, room, value, error)) {
      throw ScriptError("json.encode: " + error);
    }
    scratch = to_compact_json(value);
  });
  push_scratch(L);
  context_of(L)->scratch.clear();
  return 1;
}

// Builds Lua tables (not views: decoded data is the script's own and may be changed) from the
// value held in StateContext::decoded. JSON null becomes nil, as for context values.
void push_decoded(lua_State* L, const json::value& value) {
  luaL_checkstack(L, 4, "json.decode: nested too deeply");
  if (const json::array* array = value.if_array()) {
    lua_createtable(L, static_cast<int>(std::min<std::size_t>(array->size(), 1 << 20)), 0);
    lua_Integer i = 0;
    for (const json::value& element : *array) {
      push_decoded(L, element);
      lua_rawseti(L, -2, ++i);
    }
    return;
  }
  if (const json::object* object = value.if_object()) {
    lua_createtable(L, 0, static_cast<int>(std::min<std::size_t>(object->size(), 1 << 20)));
    for (const json::key_value_pair& member : *object) {
      lua_pushlstring(L, member.key().data(), member.key().size());
      push_decoded(L, member.value());
      lua_rawset(L, -3);
    }
    return;
  }
  push_json(L, value);
}

int json_decode(lua_State* L) {
  std::size_t length = 0;
  const char* text = check_text(L, 1, "json.decode", &length);
  run_host(L, [&](std::string&) {
    json::parse_options options;
    options.max_depth = kMaxResultDepth;
    boost::system::error_code ec;
    json::value parsed = json::parse(json::string_view(text, length), ec, {}, options);
    if (ec) {
      throw ScriptError("json.decode: the text is not valid JSON (" + ec.message() + ")");
    }
    context_of(L)->decoded = std::move(parsed);
  });
  // The value stays owned by the context while Lua tables are built from it, so a memory error
  // in the middle leaks nothing; the next decode replaces it.
  push_decoded(L, context_of(L)->decoded);
  context_of(L)->decoded = nullptr;
  return 1;
}

}  // namespace

void add_string_functions(lua_State* L, int string_table) {
  static constexpr luaL_Reg kFunctions[] = {{"split", string_split},
                                            {"trim", string_trim},
                                            {"replace", string_replace},
                                            {nullptr, nullptr}};
  string_table = lua_absindex(L, string_table);
  lua_pushvalue(L, string_table);
  luaL_setfuncs(L, kFunctions, 0);
  lua_pop(L, 1);
}

void add_table_functions(lua_State* L, int table_table) {
  static constexpr luaL_Reg kFunctions[] = {{"map", table_map},
                                            {"filter", table_filter},
                                            {"group_by", table_group_by},
                                            {"sum", table_sum},
                                            {nullptr, nullptr}};
  table_table = lua_absindex(L, table_table);
  lua_pushvalue(L, table_table);
  luaL_setfuncs(L, kFunctions, 0);
  lua_getfield(L, -1, "sort");
  lua_pushcclosure(L, table_sort_by, 1);
  lua_setfield(L, -2, "sort_by");
  lua_pop(L, 1);
}

void push_json_library(lua_State* L) {
  static constexpr luaL_Reg kFunctions[] = {
      {"encode", json_encode}, {"decode", json_decode}, {nullptr, nullptr}};
  luaL_newlib(L, kFunctions);
}

}  // namespace flowpilot::scripting::detail
